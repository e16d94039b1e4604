"""Layout families: published forms (transcribed in tests/fixtures/forms/) and consistent forms of each family.

The transcriptions keep values as printed and the defects the published forms carry. Each is laid out the
way its family lays out the form (sample_workbooks/family_samples.py); the test reads it, checks the family
it is recognised as, that every defect a catalogue rule covers is reported at its cell, and that nothing
else is an error -- except what the cut-off end of a web page took away (the 总分 row, the last weights).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from inline import corrected_self_eval, grid, read_grids

from perf_eval.checker import check_files, check_workbooks
from perf_eval.forms import SelfEval
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
            # The page is cut off before the 总分 row: the rows that are there are not the whole form, so it
            # is not re-scored (no S15 against a partial total, no grade).
            ("S16", "项目自评表!H12", INFO),
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
        (
            ("F06", "绩效目标自评表!D26", W),  # "……" placeholder rows
            ("F06", "绩效目标自评表!D32", W),
            ("S16", "绩效目标自评表!H13", INFO),  # cut off before the 总分 row: not re-scored
        ),
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
        (
            ("F06", "评分表!C10", W),  # placeholder "指标1" with 30 of 30 and no values
            ("S16", "评分表!G10", INFO),  # cut off inside section 二: not re-scored
        ),
        # Section 二 declares 60 points; the page shows 30 of them.
        (("F02", "评分表!B4"), ("S04", "评分表!F10"), ("S05", "评分表!A8")),
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
    # 其中 rows have no 分值: not indicators; the 其中 funds row repeats 分值 10 / 得分 10: counted once
    # (execution 10 and the visible rows' 80; counted twice the weights would make the 100 S04 asks for).
    assert not [f for f in result.deviations if f.rule == "F02" and "其中" in f.message]
    assert [f.message for f in result.deviations if f.rule == "S04"] == ["各项分值（含执行率）之和为 90，应为 100"]


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
# Property: a form laid out otherwise -- value columns of the grid in another order, blank rows inserted,
# the whole form moved away from A1 -- reads as the same form: the same findings (none for a consistent
# form) and the same score.
#
# Every family takes part, each with the columns its layout lets a unit order as it likes:
# - H only keeps its weight column (headed 得分) before 自评得分: both are headed as scores, and the one
#   standing first is the weight (the only clue the form gives), so those two are never swapped.
# - J shuffles within its two-row header's second row (符号 | 值 | 单位, 单项指标得分 | 权重占比 | 折算得分);
#   the first row's cells span two rows and stand over the second, so they move only with it.
# - E is the Hunan form, which carries findings of its own (S10, S11, S13): it must keep exactly those.
# - D is never re-scored (no weight column): it keeps its one S16.

_LAYOUTS: dict[str, tuple[Callable[[], fs.SheetSpec], tuple[str, ...]]] = {
    "A": (fs.own_a_nested_funds, ("年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施")),
    "B": (fs.own_b, ("完成值", "权重", "得分")),
    "C": (fs.own_c, ("分值", "年度指标值", "全年实际值", "得分")),
    "D": (fs.own_d, ("年初目标值（A）", "实际完成值（B）", "得分")),
    "E": (
        lambda: fs.SheetSpec("附件3", corrected_self_eval()),
        ("年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"),
    ),
    "F": (fs.own_f, ("全年完成值", "得分系数（%）", "指标权重（分）", "指标得分（分）")),
    "F2": (fs.own_f_bands, ("全年完成值", "得分系数（%）", "指标权重（分）", "指标得分（分）")),
    "G": (fs.own_g, ("指标值", "完成值", "分值", "得分")),
    "G3": (fs.own_g_three_sections, ("指标值", "完成值", "分值", "得分", "指标解释")),
    "H": (fs.own_h, ("得分", "指标说明", "评分标准", "自评得分")),
    "I": (fs.own_i, ("参考分值", "指标值（A）", "全年实际值（B）", "得分")),
    "J": (fs.own_j, ("符号", "值", "单位（文字描述）", "单项指标得分", "权重占比（%）", "单项指标折算得分")),
}
# Layouts whose shuffled labels stand in the second row of a two-row header.
_TWO_ROW_HEADER = {"J"}
# Which column must stay before which (H: the weight headed 得分 before 自评得分).
_KEEP_BEFORE = {"H": ("得分", "自评得分")}


def _permute_grid(sheet: fs.SheetSpec, labels: tuple[str, ...], order: list[int]) -> fs.SheetSpec:
    """Reorder the columns headed `labels` in every row from the grid header down."""
    out = fs.SheetSpec(sheet.name, [list(r) for r in sheet.rows], [])
    header = next(
        i for i, r in enumerate(out.rows) if all(any(str(v).replace("\n", "") == x for v in r) for x in labels)
    )
    cols = [next(c for c, v in enumerate(out.rows[header]) if str(v).replace("\n", "") == x) for x in labels]
    first = min(cols) + 1  # 1-based
    moved = {cols[index] + 1: c + 1 for c, index in zip(cols, order, strict=True)}  # old column -> new
    for r1, c1, r2, c2 in sheet.merges:
        if r1 > header and c1 == c2 and c1 in moved:
            out.merges.append((r1, moved[c1], r2, moved[c1]))  # a score merged down (D) moves with its column
        else:
            # A label merged across into the value columns (合计) now ends before them.
            out.merges.append((r1, c1, r2, first - 1 if r1 > header and c1 < first <= c2 else c2))
    for row in out.rows[header:]:
        while len(row) <= max(cols):
            row.append(None)
        values = [row[c] for c in cols]
        for c, index in zip(cols, order, strict=True):
            row[c] = values[index]
    return out


def _labels_row(sheet: fs.SheetSpec, labels: tuple[str, ...]) -> int:
    """The 1-based row holding every one of `labels`."""
    return next(
        i
        for i, r in enumerate(sheet.rows, start=1)
        if all(any(str(v).replace("\n", "") == x for v in r) for x in labels)
    )


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


def _read_as(result: FileResult) -> tuple[object, ...]:
    """What a layout must not change: families, findings by rule, severity and message, the score."""
    findings = sorted((f.rule, f.severity.value, f.message) for f in result.deviations)
    return tuple(f.family for f in result.forms), tuple(findings), result.score


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    layout=st.sampled_from(sorted(_LAYOUTS)),
    data=st.data(),
    down=st.integers(0, 6),
    right=st.integers(0, 4),
)
def test_form_shuffled_moved_and_spread_reads_the_same(layout: str, data: st.DataObject, down: int, right: int) -> None:
    make, labels = _LAYOUTS[layout]
    order = list(data.draw(st.permutations(range(len(labels)))))
    if layout in _KEEP_BEFORE:
        before, after = (labels.index(x) for x in _KEEP_BEFORE[layout])
        i, j = order.index(before), order.index(after)
        if i > j:
            order[i], order[j] = order[j], order[i]
    sheet = _permute_grid(make(), labels, order)
    blank_at = data.draw(st.integers(3, len(sheet.rows)))
    # Not between the two rows of a two-row header (J): no form puts a blank row inside its header.
    assume(layout not in _TWO_ROW_HEADER or blank_at != _labels_row(sheet, labels))
    sheet = _insert_blank_row(sheet, blank_at).shifted(down, right)
    result, original = _check([sheet]), _check([make()])
    assert _read_as(result) == _read_as(original)
    family = layout[0]
    assert [f.family for f in result.forms] == [family]
    assert result.score is not None
    if family == "D":
        assert [f.rule for f in result.deviations if f.rule != "X00"] == ["S16"] and result.score.recomputed is None
    elif family != "E":
        # Alone, a 自评表 gets X00 (info: cross-form checks did not run), and nothing else.
        assert [f.rule for f in result.deviations if f.rule != "X00"] == []
        assert result.score.recomputed == result.score.reported


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
    # A child's score that does not add up to its parent's is S08 at the parent; the total counts one
    # level (the parent: 40 fits 产出指标（40分）), so a total of 100.56 is S08 too.
    rows[1][6] = 31
    rows[-1][6] = 100.56
    broken = _check([_twenty_point_dept(rows)])
    found = {(f.rule, f"{f.sheet}!{f.cell}") for f in broken.deviations}
    assert {("S08", "部门整体!G8"), ("S08", "部门整体!G13")} <= found
    assert "与其下各子项得分之和 41 不符" in next(f.message for f in broken.deviations if f.cell == "G8")
    rows[-1][6] = 99.56
    assert [(f.rule, f.cell) for f in _check([_twenty_point_dept(rows)]).deviations if f.rule == "S08"] == [
        ("S08", "G8")
    ]


def test_twenty_point_children_are_counted_when_the_parent_would_overflow_its_first_level() -> None:
    """A parent scored 40 beside another row of 10 under 产出指标（40分）: counting the parent takes the 一级 to 50;
    its children (25 + 5) keep it at 40, so they are what is scored (and the parent's 40 is S08 at its cell)."""
    rows: list[list[object]] = [
        [None, "产出指标（40分）", "数量指标", "一、高标准农田建设", None, None, 40],
        [None, None, None, "1、新建面积", "≥2万亩", "2.1万亩", 25],
        [None, None, None, "2、培训人次", "≥1500人次", "1620人次", 5],
        [None, None, "质量指标", "工程验收合格率", "100%", "100%", 10],
        [None, "效益指标（30分）", "社会效益", "带动农户增收", "增加", "增加", 30],
        [None, "满意度指标（10分）", "服务对象满意度", "农户满意度", "≥90%", "92%", 10],
        ["总分", None, None, None, None, None, 99.56],
    ]
    result = _check([_twenty_point_dept(rows)])
    assert [(f.rule, f.cell) for f in result.deviations if f.rule not in ("X00", "S16")] == [("S08", "G8")]
    rows[-1][6] = 109.56  # the total counting the parent
    found = [(f.rule, f.cell) for f in _check([_twenty_point_dept(rows)]).deviations if f.rule == "S08"]
    assert found == [("S08", "G8"), ("S08", "G14")]


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


def test_section_scored_form_with_a_third_section_under_its_own_header() -> None:
    """G: 一、20 / 二、60 / 三、20, the third section with its own header row, 一级 labels repeated on every row
    (not merged): the header is no indicator, each 一级 is one, each section's heading weight is judged."""
    sheet = fs.own_g_three_sections()
    (form,) = read_grids(grid(sheet.name, sheet.rows, sheet.merges)).forms
    assert isinstance(form, SelfEval)
    assert [i.label for i in form.indicators][-2:] == ["资金使用合规性", "资产管理规范性"]
    assert [c.name for c in form.categories] == ["产出", "效益", "满意度", "部门管理"]
    assert [(s.name, s.declared) for s in form.sections] == [
        ("一、当年预算执行情况", 20),
        ("二、整体绩效目标实现情况", 60),
        ("三、部门管理", 20),
    ]
    result = _check([sheet])
    assert [f.rule for f in result.deviations] == ["X00"]
    assert result.score is not None and result.score.recomputed == result.score.reported == 99.8
    # 15 + 15 under 三、部门管理（20分）: the heading and the 一级 (also "20分") both disagree with the rows.
    broken = fs._set(fs._set(sheet, "资产管理规范性", "分值", 15), "资产管理规范性", "得分", 15)
    broken = fs._set(fs._set(broken, "总分", "分值", 105), "总分", "得分", 104.8)
    found = {(f.rule, f.cell) for f in _check([broken]).deviations}
    heading = fs.SheetSpec.find(sheet, "三、部门管理（20分）")
    assert ("S05", f"A{heading[0]}") in found
    # Section one's weight counts the funds block's 分值: 20 under a heading of 25 is S05 there.
    other = [list(r) for r in sheet.rows]
    other[2][0] = "一、当年预算执行情况（25分）"
    s05 = [f.cell for f in _check([fs.SheetSpec(sheet.name, other, sheet.merges)]).deviations if f.rule == "S05"]
    assert s05 == ["A3"]


def test_city_form_declaring_its_own_first_level_weights_is_judged_by_them() -> None:
    """I: 石嘴山 2022 weighs 项目决策 15 / 项目管理 20 / 项目产出 35 / 项目效益 30 (银川: 10/25/30/35). Tried as a
    new user would, each 一级 drew a warning for differing from 银川's weights; the declared weights are the
    form's own and are checked against its rows."""
    sheet = fs.SheetSpec("自评表")
    for row in (
        ["石嘴山市2022年度城市供热管网改造项目绩效自评表"],
        ["项目名称", "城市供热管网改造项目"],
        ["主管部门", "石嘴山市住房和城乡建设局", None, None, "实施单位", "石嘴山市热力公司"],
        ["资金情况（万元）", None, "全年预算数", "全年执行数", "执行率"],
        [None, "年度资金总额", 500, 480, "96.00%"],
        ["一级指标", "二级指标", "三级指标", "参考分值", "指标值（A）", "全年实际值（B）", "得分", "偏差原因分析"],
        ["项目决策（15分）", "项目立项", "立项依据充分性", 5, "充分", "充分", 5],
        ["项目决策（15分）", "绩效目标", "绩效目标合理性", 5, "合理", "合理", 5],
        ["项目决策（15分）", "资金投入", "预算编制科学性", 5, "科学", "科学", 5],
        ["项目管理（20分）", "资金管理", "预算执行率", 10, "100%", "96%", 9.6, "部分尾款待审计后支付。"],
        ["项目管理（20分）", "组织实施", "管理制度健全性", 10, "健全", "健全", 10],
        ["项目产出（35分）", "数量指标", "改造管网长度", 20, "≥15公里", "15.5公里", 20],
        ["项目产出（35分）", "质量指标", "工程验收合格率", 15, "100%", "100%", 15],
        ["项目效益（30分）", "社会效益", "供热保障户数", 20, "≥2万户", "2.1万户", 20],
        ["项目效益（30分）", "满意度", "居民满意度", 10, "≥90%", "95%", 10],
        ["总分", None, None, 100, None, None, 99.6],
    ):
        sheet.add(*row)
    result = _check([sheet])
    assert [(f.family, f.profile) for f in result.forms] == [("I", "yinchuan-project")]
    assert result.deviations == []
    assert result.score is not None and result.score.recomputed == result.score.reported == 99.6
    rows = [list(r) for r in sheet.rows]
    rows[11][3] = rows[11][6] = 25  # 项目产出 rows now 40 under a declared 35
    rows[-1][3], rows[-1][6] = 105, 104.6
    found = {(f.rule, f.cell) for f in _check([fs.SheetSpec("自评表", rows)]).deviations}
    assert {("S05", "A12"), ("S04", "D16")} <= found


def _without_note(sheet: fs.SheetSpec) -> fs.SheetSpec:
    """The sheet without its 得分系数 note (the last row) and the note's merge."""
    rows = [list(r) for r in sheet.rows[:-1]]
    return fs.SheetSpec(sheet.name, rows, [m for m in sheet.merges if m[0] != len(sheet.rows)])


def test_chongqing_form_with_its_own_coefficient_table_is_rescored_by_it() -> None:
    """F: the unit states its 得分系数 by completion band (95% takes the 90% line, 84% the 80% line), not in
    proportion: re-scored by the form's own table the total is exactly the unit's; without the table the
    same scores are a second opinion away (proportional 28.5 and 16.8: S15)."""
    sheet = fs.own_f_bands()
    (form,) = read_grids(grid(sheet.name, sheet.rows, sheet.merges)).forms
    assert isinstance(form, SelfEval)
    assert [(b.lower, b.coefficient) for b in form.bands] == [(1.0, 1.0), (0.9, 0.9), (0.8, 0.8), (0.6, 0.6), (None, 0)]
    assert len(form.indicators) == 5  # the note is not an indicator
    result = _check([sheet])
    assert [f.rule for f in result.deviations] == ["X00"]
    assert result.score is not None and result.score.recomputed == result.score.reported == 92.5
    proportional = _check([_without_note(sheet)])
    assert [f.rule for f in proportional.deviations if f.rule != "X00"] == ["S15"]
    assert proportional.score is not None and proportional.score.recomputed == 94.8


def test_coefficient_off_the_forms_table_is_found_at_its_cell() -> None:
    """84% written as the 得分系数 of 42 of ≥50 (the table's line is 80%), 16.8 scored: S17 at the coefficient,
    S15 at the total (recomputed by the table 92.5)."""
    sheet = fs._set(fs.own_f_bands(), "图书馆年接待人次", "得分系数（%）", 84)
    sheet = fs._set(sheet, "图书馆年接待人次", "指标得分（分）", 16.8)
    sheet.rows[1][7] = 93.3
    result = _check([sheet])
    row, col = fs.locate(sheet, "图书馆年接待人次", "得分系数（%）")
    found = {(f.rule, f.cell, f.severity) for f in result.deviations}
    assert ("S17", f"G{row}", E) in found and col == 7
    assert ("S15", "H2", W) in found
    assert result.score is not None and result.score.recomputed == 92.5


def test_coefficient_table_in_cells_and_full_marks_it_allows() -> None:
    """The table may stand in cells (完成率 | 得分系数); a line giving a missed target full marks (95% and above:
    100%) makes full marks for 96% the form's rule, not S09."""
    sheet = _without_note(fs.own_f_bands())
    for row in (
        ("完成率", "得分系数"),
        ("95%及以上", "100%"),
        ("80%（含）-95%", "80%"),
        ("80%以下", "0"),
    ):
        sheet.add(*row)
    sheet = fs._set(sheet, "公共文化活动场次", "全年完成值", 192)  # 96%
    sheet = fs._set(sheet, "公共文化活动场次", "得分系数（%）", 100)
    sheet = fs._set(sheet, "公共文化活动场次", "指标得分（分）", 30)
    sheet.rows[1][7] = 95.5
    (form,) = read_grids(grid(sheet.name, sheet.rows, sheet.merges)).forms
    assert isinstance(form, SelfEval) and len(form.bands) == 3 and len(form.indicators) == 5
    result = _check([sheet])
    assert [f.rule for f in result.deviations] == ["X00"]
    assert result.score is not None and result.score.recomputed == result.score.reported == 95.5


def test_breakdown_rows_repeating_their_parents_score_are_read_as_its_breakdown_and_checked() -> None:
    """ "其中" rows under an indicator are its breakdown: a row repeating its parent's 分值/得分 is not an
    indicator (no S04/S05/S08 from counting it twice), and the rows' values add up to at most the parent's
    (S20 at the parent's cell when they exceed it; "12头" under "192只" is not compared)."""
    sheet = fs.own_c()
    for name, weight in (("其中桃树种植面积", 20), ("其中鱼塘养殖面积", 10)):
        sheet = fs._set(fs._set(sheet, name, "分值", weight), name, "得分", weight)
    (form,) = read_grids(grid(sheet.name, sheet.rows, sheet.merges)).forms
    assert isinstance(form, SelfEval)
    assert not [i for i in form.indicators if i.label.startswith("其中")]
    assert [len(rows) for _, rows in form.breakdowns] == [4, 1, 2]
    result = _check([sheet])
    assert result.deviations == []  # a project form alone: no X00
    assert result.score is not None and result.score.recomputed == result.score.reported == 100
    broken = fs._set(fs.own_c(), "其中露天蔬菜", "全年实际值", "25亩")
    parent = fs.locate(broken, "★补助各类瓜果蔬菜种植面积", "全年实际值")
    s20 = [f for f in _check([broken]).deviations if f.rule == "S20"]
    assert [(f.cell, f.severity) for f in s20] == [(f"G{parent[0]}", W)] and parent[1] == 7
    assert "34.5亩" in s20[0].message and "29.5亩" in s20[0].message


def _city_form_with_merged_score(first: tuple[object, ...], second: tuple[object, ...], total: float) -> fs.SheetSpec:
    """An I form (吴忠 2023) whose 项目决策 rows share one 得分 merged over both, not at A1."""
    sheet = fs.SheetSpec("自评表")
    for row in (
        ["吴忠市2023年度城区绿化养护项目绩效自评表"],
        ["项目名称", "城区绿化养护项目"],
        ["主管部门", "吴忠市住房和城乡建设局", None, None, "实施单位", "吴忠市园林管理所"],
        ["资金情况（万元）", None, "全年预算数", "全年执行数", "执行率"],
        [None, "年度资金总额", 150, 147, "98.00%"],
        ["一级指标", "二级指标", "三级指标", "参考分值", "指标值（A）", "全年实际值（B）", "得分", "偏差原因分析"],
        ["项目决策（10分）", "决策依据", *first],
        ["项目决策（10分）", "绩效目标", *second],
        ["项目管理（25分）", "资金管理", "预算执行率", 10, "100%", "98%", 9.8, "部分养护款待验收后支付。"],
        ["项目管理（25分）", "资金使用", "资金使用合规性", 10, "合规", "合规", 10],
        ["项目管理（25分）", "组织实施", "管理制度健全性", 5, "健全", "健全", 5],
        ["项目产出（30分）", "数量指标", "养护绿地面积", 15, "≥120万平方米", "125万平方米", 15],
        ["项目产出（30分）", "质量指标", "苗木成活率", 15, "≥95%", "97%", 15],
        ["项目效益（35分）", "生态效益", "城区绿化覆盖率", 25, "≥40%", "41%", 25],
        ["项目效益（35分）", "满意度", "市民满意度", 10, "≥90%", "93%", 10],
        ["总分", None, None, 100, None, None, total],
    ):
        sheet.add(*row)
    for merge in ((7, 7, 8, 7), (7, 1, 8, 1), (9, 1, 11, 1), (12, 1, 13, 1), (14, 1, 15, 1)):
        sheet.merge(*merge)
    return sheet.shifted(3, 1)


def test_a_score_merged_over_weighted_rows_scores_them_together() -> None:
    """Tried as a new user would (吴忠, family I): a 得分 of 10 merged over two rows of 参考分值 5 each drew S06
    (10 above 5) and S16 (the second row 'has no score'). The rows are scored together: their weights add up."""
    sheet = _city_form_with_merged_score(
        ("立项依据充分性", 5, "充分", "充分", 10), ("绩效目标明确性", 5, "明确", "明确", None), 99.8
    )
    result = _check([sheet])
    assert [(f.family, f.profile) for f in result.forms] == [("I", "yinchuan-project")]
    assert result.deviations == []
    assert result.score is not None and result.score.recomputed == result.score.reported == 99.8
    # Quantitative rows scored together are re-scored row by row: 90% of ≥100% on a weight of 5 is 4.5.
    missed = _city_form_with_merged_score(
        ("立项论证次数", 5, "≥2次", "2次", 10), ("专家评审覆盖率", 5, "100%", "90%", None), 99.8
    )
    result = _check([missed])
    assert result.score is not None and result.score.recomputed == 99.3
    assert [f.rule for f in result.deviations] == ["S15"]
    # A merged score above the rows' weights together is S06 at it.
    over = _check(
        [
            _city_form_with_merged_score(
                ("立项依据充分性", 5, "充分", "充分", 11), ("绩效目标明确性", 5, "明确", "明确", None), 100.8
            )
        ]
    )
    assert ("S06", "H10") in {(f.rule, f.cell) for f in over.deviations}


def test_old_hunan_scoring_sheet_titled_evaluation_score_sheet_gives_its_year() -> None:
    """Tried as a new user would (H, 2017, not at A1): titled 部门整体支出绩效评价评分表, the form was found by
    its headers only, so its title and year were not read (年度：（未识别）)."""
    sheet = fs.SheetSpec("附件2")
    sheet.add("2017年度部门整体支出绩效评价评分表")
    sheet.add("单位名称：某市档案局")
    sheet.add("一级指标", "二级指标", "三级指标", "分值", "指标解释", "评分标准", "自评得分")
    for row in (
        ("投入（20分）", "目标设定", "绩效目标合理性", 10, "是否符合职能", "符合得满分", 10),
        ("投入（20分）", "预算配置", "在职人员控制率", 10, "≤100%", "≤100%得满分", 10),
        ("过程（20分）", "预算执行", "预算完成率", 20, "执行数/预算数", "按比例得分", 19),
        ("产出（40分）", "职责履行", "档案接收进馆数量", 40, "≥2万卷", "按比例得分", 40),
        ("效果（20分）", "满意度", "服务对象满意度", 20, "≥90%", "按比例得分", 20),
    ):
        sheet.add(*row)
    sheet.add("总分", None, None, 100, None, None, 99)
    result = _check([sheet.shifted(2, 1)])
    assert [(f.family, f.year, f.title) for f in result.forms] == [("H", 2017, "2017年度部门整体支出绩效评价评分表")]
    assert [f.rule for f in result.deviations] == ["X00"]
