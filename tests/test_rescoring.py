"""Honest re-scoring: no weights or no scores -> no recomputed score, no grade, one info saying why."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from inline import at, check_rows, corrected_basic, corrected_self_eval, grid, read_grids

from perf_eval.checker import check_workbooks
from perf_eval.forms import SelfEval
from perf_eval.model import CellRef, FileResult, Report, Severity
from perf_eval.scoring import rounded, rounding_of
from perf_eval.values import parse_number, parse_rate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "sample_workbooks"))
import family_samples as fs

INDICATORS = slice(13, 31)  # rows of the 自评表's indicators (0-based), 总分 is row 32


def _blank_scores(rows: list[list[object]]) -> None:
    for row in rows[INDICATORS]:
        row[7] = None


def test_all_scores_blank_gives_no_recomputed_score_and_no_grade() -> None:
    rows = corrected_self_eval()
    _blank_scores(rows)
    result = check_rows(corrected_basic(), rows)
    assert result.score is not None
    assert (result.score.reported, result.score.recomputed, result.score.grade) == (96, None, None)
    infos = [f for f in result.deviations if f.rule == "S16"]
    assert len(infos) == 1 and infos[0].severity is Severity.INFO
    assert "得分均为空" in infos[0].message
    data = json.loads(json.dumps(Report([result], "t").to_dict()))
    assert data["files"][0]["score"] == {"reported": 96.0, "recomputed": None, "grade": None}


def test_one_blank_qualitative_score_is_not_counted_as_zero() -> None:
    rows = corrected_self_eval()
    rows[24][7] = None  # 经济效益 (qualitative): its score cannot be recomputed without the unit's own
    result = check_rows(corrected_basic(), rows)
    assert result.score is not None and result.score.recomputed is None and result.score.grade is None
    assert at(result.deviations, "S16") == ["附件3!H32"]
    assert "1.财政资金使用效率" in next(f.message for f in result.deviations if f.rule == "S16")


def test_no_weight_column_gives_no_recomputed_score_and_weight_rules_do_not_run() -> None:
    rows = corrected_self_eval()
    for row in rows[12:]:
        if len(row) > 6:
            row[6] = None  # the 分值 column, header included
    rows[12][6] = None
    result = check_rows(corrected_basic(), rows)
    assert result.score is not None and result.score.recomputed is None and result.score.grade is None
    assert len(at(result.deviations, "S16")) == 1
    for rule in ("S06", "S07", "S09", "S10", "S15"):
        assert at(result.deviations, rule) == [], rule


def test_a_scorable_form_has_no_s16() -> None:
    result = check_rows(corrected_basic(), corrected_self_eval())
    assert at(result.deviations, "S16") == []
    assert result.score is not None and result.score.recomputed == 96


def test_rounding_conventions() -> None:
    assert rounded(8.628, 0) == {"round": 9.0, "floor": 8.0, "ceil": 9.0}
    assert rounded(8.62, 1) == {"round": 8.6, "floor": 8.6, "ceil": 8.7}
    assert rounding_of(parse_number("9"), 8.628, ("round",)) == "round"
    assert rounding_of(parse_number("8"), 8.628, ("round",)) is None
    assert rounding_of(parse_number("8"), 8.628, ("round", "floor")) == "floor"
    assert rounding_of(parse_number("7"), 8.628, ("round", "floor", "ceil")) is None
    assert rounding_of(parse_rate("0.958"), 27.8 / 29, ("round", "floor")) == "floor"


def test_execution_score_rounded_is_a_warning_with_the_exact_value_and_any_other_is_an_error() -> None:
    rows = corrected_self_eval()
    rows[4][4], rows[4][6] = 827.5, "86.2%"  # 827.5 / 959.93 = 86.204%; 10 × that = 8.62
    rows[4][7] = 9
    result = check_rows(corrected_basic(), rows)
    s02 = [f for f in result.deviations if f.rule == "S02"]
    assert [(f.cell, f.severity) for f in s02] == [("H5", Severity.WARNING)]
    assert "8.6204" in s02[0].message and "四舍五入" in s02[0].message
    rows[4][7] = 8  # truncated: not a convention of the Hunan profile
    result = check_rows(corrected_basic(), rows)
    assert [(f.cell, f.severity) for f in result.deviations if f.rule == "S02"] == [("H5", Severity.ERROR)]
    rows[4][7] = 7  # matches no rounding
    result = check_rows(corrected_basic(), rows)
    assert [(f.cell, f.severity) for f in result.deviations if f.rule == "S02"] == [("H5", Severity.ERROR)]


# ---------------------------------------------------------------------------
# A value the re-scoring needs that cannot be read (F03) or was never calculated (F04) withholds the
# recomputed score: never 复核 100 beside a total nobody can read.

_FAMILY_SAMPLES = {**fs.OWN, **fs.VARIANTS}


def _form_of(sheet: fs.SheetSpec) -> SelfEval:
    (form,) = read_grids(grid(sheet.name, sheet.rows, sheet.merges)).forms
    assert isinstance(form, SelfEval)
    return form


def _checked(sheet: fs.SheetSpec, uncached: list[tuple[int, int]] | None = None) -> FileResult:
    workbook = read_grids(grid(sheet.name, sheet.rows, sheet.merges, uncached=uncached or []))
    return check_workbooks([Path("inline.xlsx")], [workbook])[0].result


def _with(sheet: fs.SheetSpec, ref: CellRef, new: object) -> fs.SheetSpec:
    rows = [list(r) for r in sheet.rows]
    while len(rows[ref.row - 1]) < ref.col:
        rows[ref.row - 1].append(None)
    rows[ref.row - 1][ref.col - 1] = new
    return fs.SheetSpec(sheet.name, rows, list(sheet.merges))


def _withheld(result: FileResult, cell: str, says: str) -> None:
    assert result.score is not None
    assert (result.score.recomputed, result.score.grade) == (None, None)
    s16 = [f for f in result.deviations if f.rule == "S16"]
    assert [(f"{f.sheet}!{f.cell}", f.severity) for f in s16] == [(cell, Severity.INFO)]
    assert says in s16[0].message


@pytest.mark.parametrize("family", sorted(_FAMILY_SAMPLES))
def test_a_total_that_is_not_a_number_withholds_the_recomputed_score(family: str) -> None:
    sheet = _FAMILY_SAMPLES[family]()
    assert _checked(sheet).score.recomputed is not None or family == "D"  # type: ignore[union-attr]
    ref = _form_of(sheet).total_score.ref
    assert ref is not None
    written = str(sheet.rows[ref.row - 1][ref.col - 1])
    label = written.rpartition("：")[0] + "：" if "：" in written else ""  # "项目总得分：98" in one cell
    result = _checked(_with(sheet, ref, f"{label}约100"))
    assert str(ref) in at(result.deviations, "F03")
    _withheld(result, str(ref), "约100")


@pytest.mark.parametrize("family", sorted(_FAMILY_SAMPLES))
def test_an_uncached_weight_or_score_withholds_the_recomputed_score(family: str) -> None:
    sheet = _FAMILY_SAMPLES[family]()
    first = _form_of(sheet).indicators[0]
    for entry in (first.max_score, first.score):
        if entry.ref is None:
            continue  # D has no weight column
        result = _checked(sheet, uncached=[(entry.ref.row, entry.ref.col)])
        assert str(entry.ref) in at(result.deviations, "F04")
        _withheld(result, str(entry.ref), "没有保存计算结果的公式")


def test_a_part_of_the_funds_that_is_not_a_number_does_not_withhold_the_score() -> None:
    """The execution score is computed from the total line: a 其中 row's "约3" is F03 and nothing more."""
    sheet = fs.own_b()
    part = next(g for g in _form_of(sheet).funds.groups if g.name == "其中").parts[0]
    ref = part.amounts["executed"].ref
    assert ref is not None
    result = _checked(_with(sheet, ref, "约3.36"))
    assert str(ref) in at(result.deviations, "F03")
    assert result.score is not None and result.score.recomputed == 100


def test_an_execution_amount_or_an_indicator_score_of_the_hunan_form_that_is_not_a_number() -> None:
    for row, col, cell in ((4, 4, "附件3!E5"), (20, 7, "附件3!H21")):
        rows = corrected_self_eval()
        rows[row][col] = "约" + str(rows[row][col])
        result = check_rows(corrected_basic(), rows)
        assert cell in at(result.deviations, "F03")
        assert result.score is not None and (result.score.recomputed, result.score.grade) == (None, None)
        assert at(result.deviations, "S16") == [cell]
