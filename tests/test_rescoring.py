"""Honest re-scoring: no weights or no scores -> no recomputed score, no grade, one info saying why."""

from __future__ import annotations

import json

from inline import at, check_rows, corrected_basic, corrected_self_eval

from perf_eval.model import Report, Severity
from perf_eval.scoring import rounded, rounding_of
from perf_eval.values import parse_number, parse_rate

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
