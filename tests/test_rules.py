"""The seed report on inline forms (no files): its real deviation, and the corrected seed's known warnings.

Each rule's own passing and failing cases are data, in perf_eval/rules/cases/<ID>.toml
(run by tests/rules/test_rule_cases.py). The forms here are the seed's (tests/inline.py).
"""

from __future__ import annotations

from inline import at, check_rows, corrected_basic, corrected_self_eval

from perf_eval.model import Severity

# Rules the corrected seed still trips (warnings); each rule's cases show it passing.
SEED_WARNINGS = {
    # A total that deviates carries its deviating rows (D14-D19 under 项目支出, D21-D22 under 公用经费).
    "B08": ["附件2!D12", "附件2!D20"],
    "B09": ["附件2!D24"],
    "S10": ["附件3!H25", "附件3!H26", "附件3!H27", "附件3!H28"],
    "S11": ["附件3!F29", "附件3!F30"],
    "S13": ["附件3!F18"],
}


def test_corrected_seed_has_no_error_and_only_its_known_warnings() -> None:
    result = check_rows(corrected_basic(), corrected_self_eval())
    assert result.errors == 0
    found: dict[str, list[str]] = {}
    for finding in result.deviations:
        found.setdefault(finding.rule, []).append(f"{finding.sheet}!{finding.cell}")
    assert {k: sorted(v) for k, v in found.items()} == {k: sorted(v) for k, v in SEED_WARNINGS.items()}
    # The unit wrote its reasons for the S10 deductions: shown, not counted as warnings.
    assert {f.severity for f in result.deviations if f.rule == "S10"} == {Severity.INFO}
    assert result.score is not None
    assert (result.score.reported, result.score.recomputed, result.score.grade) == (96, 96, "优")


def test_seed_reports_its_real_deviation() -> None:
    from inline import seed_basic, seed_self_eval

    result = check_rows(seed_basic(), seed_self_eval())
    b05 = [f for f in result.deviations if f.rule == "B05"]
    # Either the total or a project may be wrong: no 应为, both numbers and their gap in the message.
    assert [(f.cell, f.expected, f.actual, f.label) for f in b05] == [("B12", None, 324.12, "项目支出 / 2022年决算数")]
    assert "合计 324.12 万元 与所列 7 个项目之和 200.16 万元 相差 123.96 万元" in b05[0].message
    assert sorted(at(result.deviations, "F02")) == ["附件2!A30", "附件3!A33"]
    assert result.errors == 1
