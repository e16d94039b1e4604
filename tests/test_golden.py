"""Golden findings for every sample workbook, and the broken-variant manifest.

The expected findings of each `sample_workbooks/**/*.xlsx` are kept as JSON
in tests/golden/findings/ and compared as text; after an intended change,
regenerate with PERF_EVAL_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from perf_eval.checker import check_files

ROOT = Path(__file__).parent.parent
SAMPLES = ROOT / "sample_workbooks"
GOLDEN = Path(__file__).parent / "golden" / "findings"
MANIFEST = json.loads((SAMPLES / "broken" / "manifest.json").read_text(encoding="utf-8"))
ALL = sorted(p.relative_to(SAMPLES).as_posix() for p in SAMPLES.rglob("*.xlsx"))


def _golden_text(sample: str) -> str:
    result = check_files([SAMPLES / sample])[0].result
    data = result.to_dict()
    data["path"] = sample  # the checkout's location is not part of the result
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


@pytest.mark.parametrize("sample", ALL)
def test_sample_findings_match_golden(sample: str) -> None:
    path = GOLDEN / (sample.removesuffix(".xlsx").replace("/", "__") + ".json")
    text = _golden_text(sample)
    if os.environ.get("PERF_EVAL_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}; run with PERF_EVAL_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def test_every_sample_has_a_golden_file_and_no_golden_file_is_stale() -> None:
    expected = {s.removesuffix(".xlsx").replace("/", "__") + ".json" for s in ALL}
    assert {p.name for p in GOLDEN.glob("*.json")} == expected


@pytest.mark.parametrize("case", MANIFEST, ids=[c["rule"] for c in MANIFEST])
def test_broken_variant_fires_its_rule_at_its_cell_and_nothing_else_new(case: dict) -> None:  # type: ignore[type-arg]
    broken = check_files([SAMPLES / case["file"]])[0].result
    base = check_files([SAMPLES / case["base"]])[0].result
    found = {(f.rule, f.sheet, f.cell) for f in broken.deviations}
    assert (case["rule"], case["sheet"], case["cell"]) in found
    allowed = {case["rule"], *case["also"]}
    base_rules = {f.rule for f in base.deviations}
    # Rules new to the variant (by rule, so that a row inserted above does not count as new findings).
    new_rules = {f.rule for f in broken.deviations} - base_rules
    assert new_rules <= allowed


def test_seed_sample_done_when() -> None:
    """The issue's own acceptance: B05 at the 2022 project total, F02 for 填报日期, 96/96/优."""
    result = check_files([SAMPLES / "lusong-2023-seed.xlsx"])[0].result
    b05 = [f for f in result.deviations if f.rule == "B05"]
    assert [(f.sheet, f.cell, f.expected, f.actual) for f in b05] == [("附件2", "B12", None, 324.12)]
    assert "与所列 7 个项目之和 200.16 万元" in b05[0].message
    assert any(f.rule == "F02" and "填报日期" in f.message for f in result.deviations)
    assert result.score is not None
    assert (result.score.reported, result.score.recomputed, result.score.grade) == (96, 96, "优")
    assert result.errors == 1


def test_corrected_sample_has_no_error() -> None:
    result = check_files([SAMPLES / "lusong-2023-corrected.xlsx"])[0].result
    assert result.errors == 0


def test_split_forms_are_paired_across_files(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.load_workbook(SAMPLES / "split-2023-self-eval.xlsx")
    sheet = book["自评表"]
    cell = next(c for row in sheet.iter_rows() for c in row if str(c.value or "").startswith("项目支出："))
    cell.value = "项目支出：100.00"
    changed = tmp_path / "自评表-改.xlsx"
    book.save(changed)
    alone = check_files([changed])[0].result
    assert not [f for f in alone.deviations if f.rule == "X01"]
    # ... but it says that the cross-form checks did not run.
    assert ("X00", "info") in [(f.rule, f.severity.value) for f in alone.deviations]
    paired = check_files([SAMPLES / "split-2023-basic.xlsx", changed])
    x01 = [f for f in paired[1].result.deviations if f.rule == "X01"]
    # Either form may be wrong: no 应为, both amounts in the message.
    assert [(f.sheet, f.cell, f.expected, f.actual) for f in x01] == [("自评表", cell.coordinate, None, 100.0)]
    assert "基础数据表本年决算数的项目支出 110.50 万元" in x01[0].message
    assert "基础数据!D11" in x01[0].message
