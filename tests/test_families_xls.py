"""Forms of several families saved as .xls by LibreOffice read as their .xlsx: the same family, profile,
findings (rule, cell, severity, message) and score.

Built in the test from the sample builders (sample_workbooks/family_samples.py, written by
build_samples.write_spec), converted in one LibreOffice call (`soffice --headless --convert-to xls`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from perf_eval.checker import check_files
from perf_eval.model import FileResult

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "sample_workbooks"))
import build_samples  # noqa: E402
import family_samples as fs  # noqa: E402


def _cases() -> dict[str, list[fs.SheetSpec]]:
    broken_d = next(c for c in fs.BROKEN if c.name == "D-20-point")
    return {
        "B-sichuan": [fs.own_b()],
        "C-breakdown-exceeded": [fs._set(fs.own_c(), "其中露天蔬菜", "全年实际值", "25亩")],
        "D-20-point": [fs.broken_sheet(broken_d)],
        "F-bands": [fs.own_f_bands()],
        "J-export": [fs.own_j()],
        "A-transcribed": fs.transcribed("A-anhui-yuan-2022-project"),
    }


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    soffice = shutil.which("soffice")
    if soffice is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice (soffice) is required in CI")
        pytest.skip("LibreOffice (soffice) is not installed")
    folder = tmp_path_factory.mktemp("xls")
    sources = {}
    for name, sheets in _cases().items():
        path = folder / "xlsx" / f"{name}.xlsx"
        build_samples.write_spec(sheets, path)
        sources[name] = path
    profile = folder / "profile"
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
         "--convert-to", "xls", "--outdir", str(folder / "xls"), *map(str, sources.values())],
        check=True, timeout=300, capture_output=True,
    )  # fmt: skip
    return {name: (path, folder / "xls" / f"{name}.xls") for name, path in sources.items()}


def _read_as(result: FileResult) -> tuple[object, ...]:
    findings = sorted((f.rule, f.sheet, f.cell, f.severity.value, f.message) for f in result.deviations)
    return [(f.family, f.profile) for f in result.forms], findings, result.score


@pytest.mark.parametrize("name", sorted(_cases()))
def test_xls_saved_by_libreoffice_reads_as_the_xlsx(converted: dict[str, tuple[Path, Path]], name: str) -> None:
    xlsx, xls = converted[name]
    assert xls.exists(), f"LibreOffice wrote no {xls.name}"
    from_xlsx = check_files([xlsx])[0].result
    from_xls = check_files([xls])[0].result
    assert _read_as(from_xls) == _read_as(from_xlsx)
    assert from_xls.forms and all(f.family == name[0] for f in from_xls.forms)


def test_the_xls_trials_carry_their_findings(converted: dict[str, tuple[Path, Path]]) -> None:
    """The trials are not empty: the planted defects are found in the .xls too."""
    rules = {name: {f.rule for f in check_files([xls])[0].result.deviations} for name, (_, xls) in converted.items()}
    assert "S20" in rules["C-breakdown-exceeded"]
    assert "S02" in rules["D-20-point"]
    assert rules["F-bands"] == {"X00"}
