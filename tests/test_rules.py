"""The seed report on inline forms (no files): its real deviation, and the corrected seed's known warnings.

Each rule's own passing and failing cases are data, in perf_eval/rules/cases/<ID>.toml
(run by tests/rules/test_rule_cases.py). The forms here are the seed's (tests/inline.py).
"""

from __future__ import annotations

from inline import at, check_rows, corrected_basic, corrected_self_eval

# Rules the corrected seed still trips (warnings); each rule's cases show it passing.
SEED_WARNINGS = {
    "B08": [
        "附件2!D12",
        "附件2!D14",
        "附件2!D15",
        "附件2!D16",
        "附件2!D17",
        "附件2!D18",
        "附件2!D19",
        "附件2!D20",
        "附件2!D21",
        "附件2!D22",
    ],
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
    assert result.score is not None
    assert (result.score.reported, result.score.recomputed, result.score.grade) == (96, 96, "优")


def test_seed_reports_its_real_deviation() -> None:
    from inline import seed_basic, seed_self_eval

    result = check_rows(seed_basic(), seed_self_eval())
    b05 = [f for f in result.deviations if f.rule == "B05"]
    assert [(f.cell, f.expected, f.actual, f.label) for f in b05] == [
        ("B12", 200.16, 324.12, "项目支出 / 2022年决算数")
    ]
    assert sorted(at(result.deviations, "F02")) == ["附件2!A30", "附件3!A33"]
    assert result.errors == 1
