"""Layout families: published forms (transcribed in tests/fixtures/forms/) and consistent forms of each family.

The transcriptions keep values as printed and the defects the published forms carry. Each is laid out the
way its family lays out the form (sample_workbooks/family_samples.py); the test reads it, checks the family
it is recognised as, that every defect a catalogue rule covers is reported at its cell, and that nothing
else is an error -- except what the cut-off end of a web page took away (the 总分 row, the last weights).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inline import grid, read_grids

from perf_eval.checker import check_files, check_workbooks
from perf_eval.model import FileResult, Severity

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "sample_workbooks"))
import family_samples as fs  # noqa: E402

FAMILY_SAMPLES = ROOT / "sample_workbooks" / "families"
BROKEN = json.loads((FAMILY_SAMPLES / "broken" / "manifest.json").read_text(encoding="utf-8"))


def _check(sheets: list[fs.SheetSpec]) -> FileResult:
    workbook = read_grids(*(grid(s.name, s.rows, s.merges) for s in sheets))
    return check_workbooks([Path("inline.xlsx")], [workbook])[0].result


@dataclass(frozen=True)
class Published:
    name: str
    families: tuple[str, ...]
    # (rule, Sheet!A1, severity) of the defects its transcription lists that a catalogue rule covers.
    defects: tuple[tuple[str, str, Severity], ...]
    # Errors caused only by the page being cut off (no 总分 row, weights of the missing rows).
    cut_off: tuple[tuple[str, str], ...] = field(default=())


E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
PUBLISHED = (
    Published(
        "A-anhui-yuan-2022-project",
        ("A",),
        (
            ("S01", "项目自评表!G5", W),  # 执行率 0.958: 27.8 / 29 = 0.95862 cut off
            ("S02", "项目自评表!H5", W),  # 执行率得分 8: 9 × 0.9586 = 8.63 floored
            ("S07", "项目自评表!I18", E),  # 时效 met exactly, 5 of 6, no reason
            ("S10", "项目自评表!H18", W),
            ("S07", "项目自评表!I15", E),  # 验收通过率 95% vs 100% scored 5 of 6 (proportional 5.7), no reason
            ("S15", "项目自评表!H5", W),
            ("S12", "项目自评表!E12", W),  # a 数量 indicator whose target is a sentence
            ("S12", "项目自评表!E19", W),  # 成本 target is prose
        ),
        (("F02", "项目自评表!B5"), ("S04", "项目自评表!G20")),
    ),
    Published(
        "B-sichuan-daying-2023-projects",
        ("B", "B"),
        (
            ("S11", "上一项目（续）!H2", W),  # 完成值 "完成" for "≤30万元": the 90/90 cannot be checked
            ("F02", "上一项目（续）!J3", E),  # 合计 得分 left blank
        ),
        (("F02", "None!None"), ("F02", "安可替代补助资金!B8"), ("F02", "安可替代补助资金!J14")),
    ),
    Published(
        "B-sichuan-daying-tail-fragment",
        ("B",),
        (("F02", "自评表（续）!J2", E), ("F02", "自评表（续）!J6", E), ("S16", "自评表（续）!J6", INFO)),
        (("F02", "None!None"),),
    ),
    Published(
        "C-anhui-xiaoxian-2023-xianjie",
        ("C",),
        (("F06", "绩效目标自评表!D26", W), ("F06", "绩效目标自评表!D32", W)),  # "……" placeholder rows
        (("F02", "绩效目标自评表!B7"), ("S04", "绩效目标自评表!E29")),
    ),
    Published(
        "D-hubei-huangshi-library-2022-project",
        ("D",),
        (
            ("F02", "附表2!G18", E),  # 社会效益 rows carry no score
            ("F02", "附表2!G19", E),
            ("S11", "附表2!F15", W),  # "≥360天" as an actual
            ("S16", "附表2!G11", INFO),  # no 分值 column: not re-scored
        ),
        (("F02", "附表2!A9"),),
    ),
    Published("D-hubei-style-2020-project", ("D",), (("S16", "Sheet1!G12", INFO),)),
    Published(
        "G-dept-scoresheet-2022",
        ("G",),
        (("F06", "评分表!C10", W),),  # placeholder "指标1" with 30 of 30 and no values
        (("F02", "评分表!B4"), ("S04", "评分表!F10")),
    ),
)


@pytest.mark.parametrize("case", PUBLISHED, ids=lambda c: c.name)
def test_published_form_recognised_and_its_defects_reported_at_their_cells(case: Published) -> None:
    result = _check(fs.transcribed(case.name))
    assert tuple(f.family for f in result.forms) == case.families
    found = {(f.rule, f"{f.sheet}!{f.cell}", f.severity) for f in result.deviations}
    assert set(case.defects) <= found
    errors = {(f.rule, f"{f.sheet}!{f.cell}") for f in result.deviations if f.severity is Severity.ERROR}
    expected_errors = {(rule, cell) for rule, cell, severity in case.defects if severity is E}
    assert errors - expected_errors <= set(case.cut_off)


def test_breakdown_rows_and_repeated_sub_row_scores_are_not_counted() -> None:
    result = _check(fs.transcribed("C-anhui-xiaoxian-2023-xianjie"))
    # 其中 rows have no 分值: not indicators; the 其中 funds row repeats 分值 10 / 得分 10: counted once.
    assert not [f for f in result.deviations if f.rule == "F02" and "其中" in f.message]
    assert result.score is not None and result.score.recomputed == 90


def test_twenty_point_execution_weight_comes_from_the_header() -> None:
    result = _check([fs.own_d()])
    rows = fs.own_d().rows
    assert any("20分" in str(cell) for cell in rows[5])
    assert not [f for f in result.deviations if f.rule in ("S02", "F02")]


@pytest.mark.parametrize("family", sorted(fs.OWN))
def test_consistent_form_of_each_family_has_no_finding_and_is_rescored_or_says_why(family: str) -> None:
    result = _check([fs.OWN[family]()])
    assert [f.family for f in result.forms] == [family]
    assert [(f.rule, f.severity) for f in result.deviations if f.severity is not Severity.INFO] == []
    assert result.score is not None
    if result.score.recomputed is None:
        assert [f.rule for f in result.deviations] == ["S16"] and result.score.grade is None
    else:
        assert result.score.recomputed == result.score.reported


@pytest.mark.parametrize("case", BROKEN, ids=[c["file"] for c in BROKEN])
def test_broken_family_variant_fires_its_rule_at_its_cell(case: dict) -> None:  # type: ignore[type-arg]
    result = check_files([FAMILY_SAMPLES.parent / case["file"]])[0].result
    assert [f.family for f in result.forms] == [case["family"]]
    hits = [f for f in result.deviations if (f.rule, f.sheet, f.cell) == (case["rule"], case["sheet"], case["cell"])]
    assert [f.severity.value for f in hits] == [case["severity"]]


def test_profile_is_chosen_by_the_family_and_forced_by_profile_option() -> None:
    path = FAMILY_SAMPLES / "B-consistent.xlsx"
    chosen = check_files([path])[0].result
    assert [(f.family, f.profile) for f in chosen.forms] == [("B", "sichuan-2023")]
    forced = check_files([path], profile="mof-2020")[0].result
    assert [(f.family, f.profile) for f in forced.forms] == [("B", "mof-2020")]


# ---------------------------------------------------------------------------
# Property: a consistent form laid out otherwise -- value columns of the grid in another order, blank
# rows inserted, the whole form moved away from A1 -- still has no finding.

_VALUE_COLUMNS = {
    "B": ("完成值", "权重", "得分"),
    "C": ("分值", "年度指标值", "全年实际值", "得分"),
    "G": ("指标值", "完成值", "分值", "得分"),
    "F": ("全年完成值", "得分系数（%）", "指标权重（分）", "指标得分（分）"),
    "I": ("参考分值", "指标值（A）", "全年实际值（B）", "得分"),
}


def _permute_grid(sheet: fs.SheetSpec, labels: tuple[str, ...], order: list[int]) -> fs.SheetSpec:
    """Reorder the columns headed `labels` in every row from the grid header down."""
    out = fs.SheetSpec(sheet.name, [list(r) for r in sheet.rows], [])
    header = next(
        i for i, r in enumerate(out.rows) if all(any(str(v).replace("\n", "") == x for v in r) for x in labels)
    )
    cols = [next(c for c, v in enumerate(out.rows[header]) if str(v).replace("\n", "") == x) for x in labels]
    first = min(cols) + 1  # 1-based
    for r1, c1, r2, c2 in sheet.merges:
        # A label merged across into the value columns (合计) now ends before them.
        out.merges.append((r1, c1, r2, first - 1 if r1 > header and c1 < first <= c2 else c2))
    for row in out.rows[header:]:
        while len(row) <= max(cols):
            row.append(None)
        values = [row[c] for c in cols]
        for c, index in zip(cols, order, strict=True):
            row[c] = values[index]
    return out


def _insert_blank_row(sheet: fs.SheetSpec, at: int) -> fs.SheetSpec:
    """A blank row before row `at` (1-based); merges below move down, merges across it grow."""
    out = fs.SheetSpec(sheet.name, [list(r) for r in sheet.rows], [])
    out.rows.insert(at - 1, [])
    for r1, c1, r2, c2 in sheet.merges:
        if r1 >= at:
            out.merges.append((r1 + 1, c1, r2 + 1, c2))
        elif r2 >= at:
            out.merges.append((r1, c1, r2 + 1, c2))
        else:
            out.merges.append((r1, c1, r2, c2))
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    family=st.sampled_from(sorted(_VALUE_COLUMNS)),
    data=st.data(),
    down=st.integers(0, 6),
    right=st.integers(0, 4),
)
def test_consistent_form_shuffled_moved_and_spread_has_no_finding(
    family: str, data: st.DataObject, down: int, right: int
) -> None:
    labels = _VALUE_COLUMNS[family]
    order = data.draw(st.permutations(range(len(labels))))
    sheet = _permute_grid(fs.OWN[family](), labels, list(order))
    blank_at = data.draw(st.integers(3, len(sheet.rows)))
    sheet = _insert_blank_row(sheet, blank_at).shifted(down, right)
    result = _check([sheet])
    assert [f.family for f in result.forms] == [family]
    # Alone, a 自评表 gets X00 (info: cross-form checks did not run), and nothing else.
    assert [(f.rule, f.cell, f.message) for f in result.deviations if f.rule != "X00"] == []
    assert result.score is not None and result.score.recomputed == result.score.reported


def test_outputs_say_which_family_and_profile_judged_the_form(tmp_path: Path) -> None:
    import openpyxl
    from rich.console import Console

    from perf_eval.model import RESULT_SHEET, Report
    from perf_eval.outputs.annotate import annotate
    from perf_eval.outputs.terminal import render_file

    path = FAMILY_SAMPLES / "D-consistent.xlsx"
    result = check_files([path])[0].result
    label = "项目支出绩效自评表（附表2，版式 D，配置 hubei-20pt）"
    assert [f.label_zh for f in result.forms] == [label]
    assert Report([result], "t").to_dict()["files"][0]["forms"][0]["family"] == "D"
    copy = annotate(path, result, out_dir=tmp_path)
    sheet = openpyxl.load_workbook(copy.path)[RESULT_SHEET]
    assert label in [c for row in sheet.iter_rows(max_row=8, values_only=True) for c in row]

    console = Console(record=True, width=200)
    render_file(console, result)
    text = console.export_text()
    assert label in text and "复核 —" in text


def _twenty_point_dept(rows: list[list[object]]) -> fs.SheetSpec:
    sheet = fs.SheetSpec("部门整体")
    for row in (
        ["2022年度部门整体支出绩效自评表"],
        ["单位名称：某区农业农村局", None, None, "主要领导签字：", None, "填报日期：2023年5月20日"],
        ["预算执行情况（万元）（20分）", "预算数（A）", "执行数（B）", "执行率（B/A）", "得分（20分*执行率）"],
        ["基本支出总额", "320万", "318万", None, None],
        ["项目支出总额", "180万", "171万", None, None],
        ["部门整体支出总额", "500万", "489万", "97.80%", "19.56"],
        ["年度绩效目标（80分）", "一级指标", "二级指标", "三级指标", "年初目标值（A）", "实际完成值（B）", "得分"],
        *rows,
    ):
        sheet.add(*row)
    return sheet


def test_twenty_point_overall_form_totals_amounts_with_wan_and_parent_child_scores() -> None:
    """基本支出总额 + 项目支出总额 = 部门整体支出总额 ("万" after the amounts); parent "一、" and child "1、"
    rows both scored: the children add up to their parent, so the 总分 counts the parent only."""
    rows: list[list[object]] = [
        [None, "产出指标（40分）", "数量指标", "一、高标准农田建设", None, None, 40],
        [None, None, None, "1、新建面积", "≥2万亩", "2.1万亩", 30],
        [None, None, None, "2、培训人次", "≥1500人次", "1620人次", 10],
        [None, "效益指标（30分）", "社会效益", "带动农户增收", "增加", "增加", 30],
        [None, "满意度指标（10分）", "服务对象满意度", "农户满意度", "≥90%", "92%", 10],
        ["总分", None, None, None, None, None, 99.56],
    ]
    result = _check([_twenty_point_dept(rows)])
    assert [(f.kind.value, f.family) for f in result.forms] == [("dept_self_eval", "D")]
    assert [f.rule for f in result.deviations] == ["X00", "S16"]
    # A wrong part is found column by column; a total that counts parent and children is S08.
    rows[1][6] = 31
    rows[-1][6] = 100.56
    broken = _check([_twenty_point_dept(rows)])
    assert ("S08", "部门整体!G13") in {(f.rule, f"{f.sheet}!{f.cell}") for f in broken.deviations}


def test_xianjie_variant_without_execution_score_takes_its_own_profile() -> None:
    """No 分值/得分 in the funds block: the 40/40/20 profile, no execution score, 项目总得分 as the total."""
    result = _check([fs.own_c_without_execution()])
    assert [(f.family, f.profile) for f in result.forms] == [("C", "xianjie-2023-no-execution")]
    assert [f.rule for f in result.deviations] == []
    assert result.score is not None and (result.score.reported, result.score.recomputed) == (98, 98)
    with_execution = _check([fs.own_c()])
    assert [f.profile for f in with_execution.forms] == ["xianjie-2023"]


def test_chongqing_reads_adjusted_target_coefficient_and_no_unit_for_a_qualitative_row() -> None:
    sheet = fs.own_f()
    (form,) = read_grids(grid(sheet.name, sheet.rows, sheet.merges)).forms
    by_name = {i.level3.text: i for i in form.indicators}  # type: ignore[union-attr]
    assert by_name["数据质量抽查合格率"].parsed_target.text == "≥99%"  # 调整指标值 wins over 年初指标值
    assert by_name["统计法治宣传"].parsed_target.text == "有效开展"  # "/" in 计量单位 is no unit
    assert by_name["统计数据发布及时率"].coefficient.value == 0.95
