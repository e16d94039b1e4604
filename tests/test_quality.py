"""Packaging and self-containment: profiles ship with the package, nothing points outside the repository.

Lint, format, types and import layers are not tests: `.ci/lint` runs them over the tracked files.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from perf_eval import profiles

ROOT = Path(__file__).parent.parent


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
    assert {
        "perf_eval/schemas/hunan-2023.toml",
        "perf_eval/schemas/mof-2020.toml",
        "perf_eval/cli.py",
        "perf_eval/py.typed",
        # The web service's page and API description are package data too.
        "perf_eval/serve/static/index.html",
        "perf_eval/serve/static/openapi.json",
        # The JSON Schema of the JSON contract.
        "perf_eval/outputs/schema/check.schema.json",
    } <= names
    version = next(n for n in names if n.endswith(".dist-info/METADATA"))
    from perf_eval import __version__

    assert f"Version: {__version__}" in zipfile.ZipFile(wheel).read(version).decode("utf-8")
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


# What a clone has and a briefing folder beside it does not: the project says things in its own words.
_OUTSIDE = re.compile(r"\.\./shared|(?<![\w/.])shared[/]|(?:/work)[/]")
_MARKDOWN_NAME = re.compile(r"(?<![\w/.-])([\w-]+\.md)\b")


def _tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in listed.decode("utf-8").split("\0") if name and (ROOT / name).is_file()]


def test_no_tracked_file_points_outside_the_repository() -> None:
    """No path into a folder beside the clone, and every Markdown page named is one the repository has."""
    files = _tracked_files()
    pages = {path.name for path in files if path.suffix == ".md"}
    offenders = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # workbooks, documents, images
        for number, line in enumerate(text.splitlines(), start=1):
            missing = [name for name in _MARKDOWN_NAME.findall(line) if name not in pages]
            if _OUTSIDE.search(line) or missing:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_every_error_a_user_can_cause_is_one_family() -> None:
    """Each exception class of the package derives from PerfEvalError, but internal signals and dev tools."""
    import importlib
    import inspect
    import pkgutil

    import perf_eval
    from perf_eval.errors import PerfEvalError

    internal = {
        "StoreFull",  # serve: turned into 429 by the app
        "Unavailable",  # serve: turned into 503 by the app
        "CaseFileError",  # the rule cases (a contributor's file, read by the tests and docgen)
        "Unsupported",  # annotate: a package the copy's writer does not edit is rewritten with openpyxl first
    }
    found: dict[str, type] = {}
    for module in pkgutil.walk_packages(perf_eval.__path__, "perf_eval."):
        if module.name.endswith("__main__"):
            continue
        loaded = importlib.import_module(module.name)
        for name, value in vars(loaded).items():
            if inspect.isclass(value) and issubclass(value, BaseException) and value.__module__ == module.name:
                found[name] = value
    assert {"UnreadableWorkbook", "UnreadableReport", "ProfileError", "OutputError", "ScanError"} <= set(found)
    strays = {n for n, c in found.items() if not issubclass(c, PerfEvalError) and n not in internal}
    assert not strays, strays
