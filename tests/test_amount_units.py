"""Amounts in 元: a form whose title or funds header says "（元）" / "单位：元" is read in 万元 (its cells keep
their text), compared within itself to the 元, and against a 基础数据表 in 万元 at the same scale."""

from __future__ import annotations

import sys
from pathlib import Path

from inline import at, check_rows, corrected_basic, corrected_self_eval, grid, read_grids

from perf_eval.checker import check_workbooks
from perf_eval.forms import SelfEval
from perf_eval.model import FileResult

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "sample_workbooks"))
import family_samples as fs


def _in_yuan(*, header: str = "年度预\n\n算申请\n\n（元）", title_note: str | None = None) -> list[list[object]]:
    """The corrected Hunan 自评表 with every funds amount written in 元."""
    rows = corrected_self_eval()
    rows[3][0] = header
    rows[4][2:5] = [7390300, 9599300, 9599300]
    rows[6][1] = "  其中：  一般公共预算：9599300"
    rows[6][4] = "其中：基本支出：7215000"
    rows[7][4] = "项目支出：2384300"
    if title_note is not None:
        rows[1] = [rows[1][0], None, None, None, None, None, title_note]
    return rows


def _findings(result: FileResult) -> list[tuple[str, str]]:
    return sorted((f.rule, f"{f.sheet}!{f.cell}") for f in result.deviations)


def test_a_form_in_yuan_paired_with_basic_data_in_wan_reads_as_the_same_form() -> None:
    wan = check_rows(corrected_basic(), corrected_self_eval())
    for rows in (_in_yuan(), _in_yuan(header="年度预\n\n算申请", title_note="单位：元")):
        yuan = check_rows(corrected_basic(), rows)
        assert _findings(yuan) == _findings(wan)
        assert yuan.score == wan.score
        (form,) = [f for f in read_grids(grid("附件3", rows)).forms if isinstance(f, SelfEval)]
        assert form.funds.unit == "元"
        assert form.funds.total["executed"].value == 959.93
        assert form.funds.total["executed"].text == "9599300"  # the cell as written


def test_a_wrong_amount_in_yuan_is_reported_in_wan_against_the_basic_data_and_in_yuan_within_the_form() -> None:
    rows = _in_yuan()
    rows[7][4] = "项目支出：2394300"  # 239.43 万元 against the basic data's 238.43
    result = check_rows(corrected_basic(), rows)
    x01 = [f for f in result.deviations if f.rule == "X01"]
    assert [f"{f.sheet}!{f.cell}" for f in x01] == ["附件3!E8"]
    assert "239.43 万元" in x01[0].message and "238.43 万元" in x01[0].message
    s03 = [f for f in result.deviations if f.rule == "S03"]
    assert [f"{f.sheet}!{f.cell}" for f in s03] == ["附件3!E6"]
    assert "相差 10000.00 元" in s03[0].message and "9609300.00 元" in s03[0].message


def test_parts_in_yuan_are_compared_to_the_yuan() -> None:
    """50 元 is 0.005 万元, inside a 万元 form's tolerance: in a form written in 元 it is a wrong part."""
    rows = _in_yuan()
    rows[6][4] = "其中：基本支出：7215050"
    result = check_rows(corrected_basic(), rows)
    assert at(result.deviations, "S03") == ["附件3!E6"]
    assert "相差 50.00 元" in next(f.message for f in result.deviations if f.rule == "S03")
    assert at(result.deviations, "X01") == []


def test_a_cost_target_in_yuan_is_compared_to_the_basic_data_in_wan() -> None:
    rows = corrected_self_eval()
    rows[-3][4:6] = ["1250000元", "1250000元"]
    assert at(check_rows(corrected_basic(), rows).deviations, "X02") == []
    rows[-3][4:6] = ["1260000元", "1260000元"]
    result = check_rows(corrected_basic(), rows)
    assert at(result.deviations, "X02") == ["附件3!E31"]
    assert "126.00 万元" in next(f.message for f in result.deviations if f.rule == "X02")


def test_wan_stays_wan_and_a_cell_with_its_own_unit_keeps_it() -> None:
    rows = corrected_self_eval()
    rows[1] = [rows[1][0], None, None, None, None, None, "单位：万元"]
    rows[4][4] = "9599300元"  # one cell written in 元 in a form in 万元
    (form,) = [f for f in read_grids(grid("附件3", rows)).forms if isinstance(f, SelfEval)]
    assert form.funds.unit == "万元"
    assert form.funds.total["annual_budget"].value == 959.93
    assert form.funds.total["executed"].value == 959.93


def test_budget_system_export_in_yuan() -> None:
    sheet = fs.own_j()
    rows = [list(r) for r in sheet.rows]
    r, c = sheet.find("二、预算执行情况（万元）")
    rows[r - 1][c - 1] = "二、预算执行情况（元）"
    r, _ = sheet.find("预算安排情况（调整后）：120.00")
    rows[r - 1] = [
        "预算安排情况（调整后）：1200000.00", None, None, "资金到位情况：1200000.00", None, None,
        "资金执行情况：1140000.00", None, None, "预算执行进度（%）：95.00",
    ]  # fmt: skip
    (form,) = read_grids(grid(sheet.name, rows, sheet.merges)).forms
    assert isinstance(form, SelfEval)
    assert (form.funds.unit, form.funds.total["annual_budget"].value, form.funds.total["executed"].value) == (
        "元",
        120.0,
        114.0,
    )


def _shanxi_2021_in_yuan() -> fs.SheetSpec:
    """A county copy of the national project form (稷山县, 2021) tried as a new user would: "单位：元" in the
    title area, nested 其中 funds rows, the form starting at C3."""
    sheet = fs.SheetSpec("附件")
    for row in (
        ["稷山县项目支出绩效自评表"],
        ["（2021年度）"],
        [None, None, None, None, None, None, None, "单位：元"],
        ["项目名称", "农村人居环境整治"],
        ["主管部门", "稷山县农业农村局", None, None, "实施单位", "稷山县农业农村局"],
        ["项目资金", None, "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
        [None, "年度资金总额", 1500000, 1800000, 1746000, 10, "97%", 9.7],
        [None, "其中：当年财政拨款", 1500000, 1600000, 1546000],
        [None, "其中：中央资金", 1000000, 1000000, 980000],
        [None, "省级资金", 300000, 400000, 380000],
        [None, "上年结转资金", 0, 200000, 200000],
        [None, "其他资金", 0, 0, 0],
        ["年度总体目标", "预期目标", None, None, None, "实际完成情况"],
        [None, "完成12个村的人居环境整治", None, None, None, "完成12个村的人居环境整治"],
        [
            "绩效指标",
            "一级指标",
            "二级指标",
            "三级指标",
            "年度指标值",
            "实际完成值",
            "分值",
            "得分",
            "偏差原因分析及改进措施",
        ],
        [None, "产出指标", "数量指标", "指标1：整治村庄数量", "≥12个", "12个", 15, 15],
        [None, None, None, "指标2：新建公厕", "≥24座", "24座", 10, 10],
        [None, None, "质量指标", "指标1：验收合格率", "100%", "100%", 10, 10],
        [None, None, "时效指标", "指标1：完成时间", "2021年11月底前", "2021年11月", 10, 10],
        [None, None, "成本指标", "指标1：项目总成本", "≤180万元", "174.6万元", 5, 5],
        [None, "效益指标", "社会效益指标", "指标1：村容村貌", "明显改善", "明显改善", 10, 10],
        [None, None, "生态效益指标", "指标1：生活垃圾无害化处理率", "≥90%", "92%", 10, 10],
        [None, None, "可持续影响指标", "指标1：长效管护机制", "建立", "已建立", 10, 10],
        [None, "满意度指标", "服务对象满意度指标", "指标1：村民满意度", "≥90%", "93%", 10, 10],
        ["总分", None, None, None, None, None, 100, 99.7],
    ):
        sheet.add(*row)
    for merge in ((1, 1, 1, 9), (2, 1, 2, 9), (4, 2, 4, 9), (6, 1, 12, 1), (13, 1, 14, 1), (15, 1, 24, 1)):
        sheet.merge(*merge)
    sheet.merge(16, 2, 20, 2)
    sheet.merge(25, 1, 25, 6)
    return sheet.shifted(2, 2)


def test_a_county_form_in_yuan_with_nested_funds_rows_not_at_a1() -> None:
    sheet = _shanxi_2021_in_yuan()
    result = check_workbooks([Path("inline.xlsx")], [read_grids(grid(sheet.name, sheet.rows, sheet.merges))])[0]
    assert [(f.family, f.profile) for f in result.result.forms] == [("A", "mof-2020")]
    assert result.result.deviations == []
    assert result.result.score is not None and result.result.score.recomputed == result.result.score.reported == 99.7
    # The line a nested breakdown belongs to is in 元 like its parts (it was compared unconverted: no S18).
    rows = [list(r) for r in sheet.rows]
    rows[9][5] = 700000  # 当年财政拨款 / 全年预算数 (F10): 中央 1000000 + 省级 400000 exceed it
    broken = check_workbooks([Path("inline.xlsx")], [read_grids(grid(sheet.name, rows, sheet.merges))])[0].result
    s18 = [f for f in broken.deviations if f.rule == "S18"]
    assert [(f.cell, f.severity.value) for f in s18] == [("F10", "error")]
    assert "1400000.00 元" in s18[0].message and "700000.00 元" in s18[0].message
    assert at(broken.deviations, "S03") == ["附件!F9"]


def test_a_sentence_that_mentions_yuan_does_not_make_the_form_yuan() -> None:
    """Only a label or title says the unit: a note above the funds block about a standard in 元 does not."""
    sheet = fs.own_a_nested_funds()
    rows = [list(r) for r in sheet.rows]
    r, c = sheet.find("项目资金\n（万元）")
    rows[r - 1][c - 1] = "项目资金"
    rows[1] = [
        *rows[1],
        None,
        None,
        None,
        None,
        None,
        None,
        "说明：亩均补助标准（元）按省定标准执行，本表各项资金均按批复数填列",
    ]
    (form,) = read_grids(grid(sheet.name, rows, sheet.merges)).forms
    assert isinstance(form, SelfEval)
    assert form.funds.unit == "万元" and form.funds.total["executed"].value == 507
    rows[1][-1] = "单位：元"
    (form,) = read_grids(grid(sheet.name, rows, sheet.merges)).forms
    assert isinstance(form, SelfEval) and form.funds.unit == "元"


def _basic_in_yuan(header: str = "经费控制情况（元）") -> list[list[object]]:
    """The corrected 基础数据表 with every 经费控制情况 amount written in 元 (the unit in its header)."""
    rows = [list(r) for r in corrected_basic()]
    start = next(i for i, r in enumerate(rows) if str(r[0]).startswith("经费控制情况"))
    rows[start][0] = header
    for row in rows[start + 1 :]:
        if str(row[0]).startswith("楼堂馆所"):
            break
        for c in range(1, min(4, len(row))):
            value = row[c]
            if isinstance(value, str) and value.strip().replace(".", "").isdigit():
                value = float(value)
            if isinstance(value, int | float):
                row[c] = round(value * 10000)
    return rows


def test_basic_data_in_yuan_reads_as_the_same_form_in_wan() -> None:
    """A 基础数据表 whose header (or a 单位：元 line under its title) says 元: its amounts are read in 万元, so
    its own sums and the cross-form checks (X01, X02) find what they find on the form in 万元."""
    wan = check_rows(corrected_basic(), corrected_self_eval())
    titled = _basic_in_yuan("经费控制情况")
    titled.insert(2, ["单位：元"])
    for rows in (_basic_in_yuan(), titled):
        yuan = check_rows(rows, corrected_self_eval())
        # (The 单位：元 line moves the basic data's cells one row down.)
        assert sorted(f.rule for f in yuan.deviations) == sorted(f.rule for f in wan.deviations)
        # B08 judges against thresholds in 万元 and says 万元; B09 compares in 元 and says 元.
        assert [f.message for f in yuan.deviations if f.rule != "B09"] == [
            f.message for f in wan.deviations if f.rule != "B09"
        ]
        b09 = next(f.message for f in yuan.deviations if f.rule == "B09")
        assert "2133300.00 元" in b09 and "1901700.00 元" in b09
    assert _findings(check_rows(_basic_in_yuan(), corrected_self_eval())) == _findings(wan)
    (basic,) = [f for f in read_grids(grid("附件2", _basic_in_yuan())).forms if not isinstance(f, SelfEval)]
    assert basic.unit == "元"
    projects = next(line for line in basic.lines if line.label.startswith("项目支出"))
    assert projects.amount("final").value == 238.43 and projects.amount("final").text == "2384300"


def test_a_wrong_amount_in_basic_data_in_yuan_is_found_in_yuan_at_its_cell() -> None:
    """50 元 off in one project (0.005 万元, inside a 万元 form's tolerance) is a wrong part of a form in 元."""
    rows = _basic_in_yuan()
    row = next(i for i, r in enumerate(rows) if str(r[0]).strip().endswith("财政管理专项"))
    rows[row][3] += 50
    result = check_rows(rows, corrected_self_eval())
    b05 = [f for f in result.deviations if f.rule == "B05"]
    assert [f"{f.sheet}!{f.cell}" for f in b05] == ["附件2!D12"]
    assert "相差 50.00 元" in b05[0].message and f"附件2!D{row + 1}" in b05[0].related
    assert at(result.deviations, "X01") == []
    # The total 10000 元 off the 自评表's 项目支出 (238.43 万元): X01 in 万元.
    rows = _basic_in_yuan()
    projects = next(i for i, r in enumerate(rows) if str(r[0]).startswith("项目支出"))
    rows[projects][3] += 10000
    rows[row][3] += 10000
    result = check_rows(rows, corrected_self_eval())
    assert at(result.deviations, "X01") == ["附件3!E8"]
    assert "239.43 万元" in next(f.message for f in result.deviations if f.rule == "X01")
