"""Lint, types and packaging are part of the suite: ruff, mypy, and profiles shipped with the package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from perf_eval import profiles

ROOT = Path(__file__).parent.parent


def _tool(name: str) -> list[str]:
    exe = shutil.which(name) or str(Path(sys.executable).parent / name)
    return [exe]


def test_ruff_lint_and_format() -> None:
    # The whole checkout, as configured in pyproject.toml (git-ignored files are skipped).
    lint = subprocess.run([*_tool("ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    layout = subprocess.run([*_tool("ruff"), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True)
    assert layout.returncode == 0, layout.stdout + layout.stderr


def test_mypy() -> None:
    result = subprocess.run(
        [*_tool("mypy"), "--no-incremental", str(ROOT / "perf_eval")], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("name", "weights"), [("hunan-2023", 100.0), ("mof-2020", 100.0)])
def test_profiles_ship_with_the_package_and_weights_sum_to_100(name: str, weights: float) -> None:
    profile = profiles.load(name)
    assert sum(profile.weights.values()) == weights
    assert (profiles.schemas_dir() / f"{name}.toml").is_file()


def test_wheel_carries_the_profiles(tmp_path: Path) -> None:
    """A wheel install has no checkout beside it: the profiles must be inside the package."""
    import zipfile

    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("perf_eval-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"perf_eval/schemas/hunan-2023.toml", "perf_eval/schemas/mof-2020.toml", "perf_eval/cli.py"} <= names
    # The rule cases: `perf-eval rules ID` shows them as examples.
    cases = {f"perf_eval/rules/cases/{p.name}" for p in (ROOT / "perf_eval" / "rules" / "cases").glob("*.toml")}
    assert len(cases) >= 34 and cases <= names
    # ... and an installed wheel, with no checkout beside it, shows them.
    unpacked = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(unpacked)
    code = "import perf_eval; from perf_eval.cli import show_rules; show_rules('B05'); print(perf_eval.__file__)"
    shown = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(unpacked)},
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
    ).stdout
    assert str(unpacked) in shown and "324.12" in shown and "附件2!B12" in shown
