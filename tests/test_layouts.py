"""Layouts and cells seen in other provinces' files (each once a false or missed finding)."""

from __future__ import annotations

from pathlib import Path

from inline import Rows, at, check_rows, corrected_basic, corrected_self_eval, grid, read_grids, set_cell

from perf_eval.checker import check_workbooks


def _row(rows: Rows, text: str) -> list[object]:
    return next(r for r in rows if any(isinstance(c, str) and text in c for c in r))


def test_percentages_stored_as_fractions_compare_on_the_targets_scale() -> None:
    """Excel keeps "96.2%" as 0.962: against "≥95%" it is met, not 1% of the target."""
    rows = corrected_self_eval()
    row = _row(rows, "公众满意度80%")
    row[5] = 0.962  # 实际完成值 typed as 96.2% in Excel
    result = check_rows(corrected_basic(), rows)
    assert "附件3!F29" not in at(result.deviations, "S11")
    assert at(result.deviations, "S09") == [] and "附件3!F29" not in at(result.deviations, "S13")
    assert result.score is not None and result.score.recomputed == 96


def test_fraction_target_against_percent_actual() -> None:
    rows = corrected_self_eval()
    row = _row(rows, "公众满意度80%")
    row[4], row[5] = 0.8, "93%"  # 指标值 stored 0.8 with a % format; 实际 typed as text
    result = check_rows(corrected_basic(), rows)
    assert "附件3!F29" not in at(result.deviations, "S13") and at(result.deviations, "S09") == []


def test_qualified_answer_is_not_taken_as_met() -> None:
    rows = corrected_self_eval()
    row = _row(rows, "财政资金监管")
    row[4], row[5], row[7], row[8] = "是否持续提升", "基本持续提升", 2, "监管手段仍需完善。"
    rows[-2][7] = 95
    result = check_rows(corrected_basic(), rows)
    assert "附件3!H23" not in at(result.deviations, "S10")


def test_part_amount_in_the_next_cell() -> None:
    rows = corrected_self_eval()
    rows[6][1:5] = ["其中：一般公共预算：", 959.93, None, "其中：基本支出："]
    rows[6].append(721.5)
    rows[7][4] = "项目支出："
    rows[7].append(238.43)
    result = check_rows(corrected_basic(), rows)
    assert at(result.deviations, "F02") == [] and at(result.deviations, "S03") == []
    assert at(result.deviations, "X01") == []


def test_a_note_naming_a_form_is_not_a_form() -> None:
    rows = corrected_self_eval()
    rows.append(["注：按支出性质分的项目支出应与基础数据表一致。"])
    result = check_rows(corrected_basic(), rows)
    assert [f.kind.value for f in result.forms] == ["basic_data", "dept_self_eval"]
    assert result.errors == 0


def test_a_note_about_grades_is_not_a_stated_grade() -> None:
    rows = corrected_self_eval()
    rows.append(["注：评价等级分为优、良、中、差。"])
    rows[-3][7] = 70  # a total of 70 would contradict a stated 优
    result = check_rows(corrected_basic(), rows)
    assert at(result.deviations, "S14") == []


def test_budget_headers_without_shu() -> None:
    rows = corrected_basic()
    rows[4][1:4] = ["2022年决算", "2023年预算", "2023年决算"]
    rows = set_cell(rows, "项目支出", 1, 324.12)
    result = check_rows(rows, corrected_self_eval())
    assert at(result.deviations, "B05") == ["附件2!B12"]


def test_uncached_formula_in_a_target_cell_is_f04() -> None:
    self_eval = grid("附件3", corrected_self_eval(), uncached=[(17, 5)])
    read = read_grids(grid("附件2", corrected_basic()), self_eval)
    result = check_workbooks([Path("x.xlsx")], [read])[0].result
    assert "附件3!E17" in at(result.deviations, "F04")


def test_two_self_evaluations_of_one_unit_are_both_checked_against_its_basic_data() -> None:
    basic = read_grids(grid("基础数据", corrected_basic()))
    old = corrected_self_eval()
    old[7][4] = "项目支出：200.00"
    new = corrected_self_eval()
    named = read_grids(grid("附件2", [["填报单位：株洲市芦淞区财政局"], *corrected_basic()[1:]]))
    for base in (basic, named):
        checked = check_workbooks(
            [Path("b.xlsx"), Path("old.xlsx"), Path("new.xlsx")],
            [base, read_grids(grid("附件3", old)), read_grids(grid("附件3", new))],
        )
        assert at(checked[1].result.deviations, "X01") == ["附件3!E8"]
        assert at(checked[2].result.deviations, "X01") == []


def test_basic_data_without_unit_pairs_with_the_self_evaluation_in_its_folder() -> None:
    from dataclasses import replace

    def unit(rows: Rows, name: str, projects: str) -> Rows:
        rows[2][1] = name
        rows[7][4] = projects
        return rows

    a_basic = replace(read_grids(grid("基础数据", corrected_basic())), path=Path("甲单位/基础.xlsx"))
    a_eval = replace(
        read_grids(grid("自评", unit(corrected_self_eval(), "甲单位", "项目支出：200.00"))),
        path=Path("甲单位/自评.xlsx"),
    )
    b_eval = replace(
        read_grids(grid("自评", unit(corrected_self_eval(), "乙单位", "项目支出：100.00"))),
        path=Path("乙单位/自评.xlsx"),
    )
    checked = check_workbooks([a_basic.path, a_eval.path, b_eval.path], [a_basic, a_eval, b_eval])
    # 甲's 自评表 is paired with the 基础数据表 beside it (X01 proves it); 乙's, in another folder, is not.
    assert at(checked[1].result.deviations, "X01") == ["自评!E8"]
    assert at(checked[2].result.deviations, "X01") == []


def test_basic_data_without_unit_pairs_with_the_self_evaluation_under_its_units_folder() -> None:
    """A unit's folder with 基础数据/ and 自评表/ subfolders: the nearest folder holding one unit's 自评表 decides."""
    from dataclasses import replace

    def unit(rows: Rows, name: str, projects: str) -> Rows:
        rows[2][1] = name
        rows[7][4] = projects
        return rows

    a_basic = replace(read_grids(grid("基础数据", corrected_basic())), path=Path("共享/甲单位/基础数据/基础.xlsx"))
    a_eval = replace(
        read_grids(grid("自评", unit(corrected_self_eval(), "甲单位", "项目支出：200.00"))),
        path=Path("共享/甲单位/自评表/自评.xlsx"),
    )
    b_eval = replace(
        read_grids(grid("自评", unit(corrected_self_eval(), "乙单位", "项目支出：100.00"))),
        path=Path("共享/乙单位/自评.xlsx"),
    )
    checked = check_workbooks([a_basic.path, a_eval.path, b_eval.path], [a_basic, a_eval, b_eval])
    assert at(checked[1].result.deviations, "X01") == ["自评!E8"]  # paired: 甲单位/ holds only 甲's 自评表
    assert at(checked[2].result.deviations, "X01") == []
    assert at(checked[0].result.deviations, "X00") == []


def test_of_two_basic_data_files_of_one_unit_each_self_evaluation_takes_the_nearer() -> None:
    from dataclasses import replace

    named = [["填报单位：株洲市芦淞区财政局"], *corrected_basic()[1:]]
    resubmitted = [row[:] for row in named]
    resubmitted[11][3] = 240.43  # the new 基础数据表 changes 项目支出 and its projects
    resubmitted[12][3] = 67.86
    new_eval = corrected_self_eval()
    new_eval[7][4] = "项目支出：240.43"
    new_eval[6][4] = "其中：基本支出：719.50"
    forms = [
        replace(read_grids(grid("基础", named)), path=Path("报送/财政局-基础数据表.xlsx")),
        replace(read_grids(grid("自评", corrected_self_eval())), path=Path("报送/财政局-自评表.xlsx")),
        replace(read_grids(grid("基础", resubmitted)), path=Path("报送/财政局-修改后-基础数据表.xlsx")),
        replace(read_grids(grid("自评", new_eval)), path=Path("报送/财政局-修改后-自评表.xlsx")),
    ]
    checked = check_workbooks([f.path for f in forms], forms)
    assert at(checked[1].result.deviations, "X01") == [] and at(checked[3].result.deviations, "X01") == []


def test_a_blank_score_is_reported_once_not_as_wrong_totals() -> None:
    rows = corrected_self_eval()
    _row(rows, "财会监督专项行动")[7] = None  # 得分 left blank
    _row(rows, "保障局属事业单位")[6] = None  # 分值 left blank
    result = check_rows(corrected_basic(), rows)
    assert sorted(at(result.deviations, "F02")) == ["附件3!G16", "附件3!H17"]
    for rule in ("S04", "S05", "S08", "S15"):
        assert at(result.deviations, rule) == [], rule


def test_twenty_point_goals_heading_on_its_own_row_ends_the_funds_block() -> None:
    """A Hubei 20-point form with "年度绩效目标（80分）" on a row above the grid header: that row is no
    funds part (no S03 "各项之和 0.00", no F02 "其中 各项均未填写"), and the 项目单位 is the unit."""
    rows: Rows = [
        ["2023年度社区养老服务补助项目自评表"],
        ["项目名称", "社区养老服务补助", None, "项目单位（盖章）", "某区民政局"],
        ["主要领导签字", None, None, "填报日期", "2024年3月5日"],
        ["预算执行情况（万元）（20分）", "预算数（A）", "执行数（B）", "执行率（B/A）", "得分（20分*执行率）"],
        ["年度财政资金总额", "200万", 180, "90%", 18],
        ["年度绩效目标（80分）"],
        ["一级指标", "二级指标", "三级指标", "年初目标值（A）", "实际完成值（B）", "得分"],
        ["产出指标（40分）", "数量指标", "服务老人人次", "≥5000人次", "5200人次", 20],
        ["产出指标（40分）", "质量指标", "服务合格率", "≥95%", "97%", 20],
        ["效益指标（30分）", "社会效益", "独居老人探访覆盖率", "100%", "100%", 30],
        ["满意度指标（10分）", "服务对象满意度", "老人满意度", "≥90%", "93%", 10],
        ["总分", None, None, None, None, 98],
    ]
    result = check_rows(None, rows)
    assert [f.rule for f in result.deviations if f.severity.value == "error"] == []
    assert result.unit == "某区民政局"


def test_funds_sum_quotes_the_forms_own_total_and_column_labels() -> None:
    """Sichuan calls the total 总额 and the column 预算执行数: the S03 message says so, so Ctrl+F finds them."""
    rows: Rows = [
        ["部门预算项目支出绩效自评表"],
        ["（2023年度）"],
        ["项目名称", "5101xx-乡村道路养护", None, None, "实施单位", "某县公路养护中心"],
        ["项目资金（万元）", None, "年初预算", "调整后预算数", "预算执行数", "预算执行率", "权重", "得分"],
        ["总额", None, 100, 120, 114, "95%", 10, 9.5],
        ["其中：财政资金", None, 80, 100, 94, "94%", "/", "/"],
        ["单位资金", None, 20, 20, 30, "150%", "/", "/"],  # 20 mistyped as 30
        ["绩效指标（90分）"],
        ["一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位", "完成值", "权重", "得分"],
        ["产出指标", "数量指标", "道路养护里程", "≥", 120, "公里", 120, 90, 90],
        ["合计", None, None, None, None, None, None, 100, 99.5],
    ]
    result = check_rows(None, rows)
    (s03,) = [f for f in result.deviations if f.rule == "S03"]
    assert s03.message == "其中 / 预算执行数：总额 114.00 万元 与各项之和 124.00 万元 相差 10.00 万元"


def test_uncached_formula_in_an_actual_cell_is_f04_not_a_blank_actual() -> None:
    """The cell holds a formula without a saved result: F04 says so; S11 must not call it empty as well."""
    self_eval = grid("附件3", corrected_self_eval(), uncached=[(17, 6)])
    read = read_grids(grid("附件2", corrected_basic()), self_eval)
    result = check_workbooks([Path("x.xlsx")], [read])[0].result
    assert at(result.deviations, "F04") == ["附件3!F17"]
    assert "附件3!F17" not in at(result.deviations, "S11")


def test_an_excel_error_value_in_an_amount_is_not_read_as_blank(tmp_path: Path) -> None:
    """A saved #DIV/0! (t="e"): calamine reads it as blank, so the broken amount went unnoticed; it is F03 now."""
    import openpyxl

    from perf_eval import check

    workbook = openpyxl.load_workbook(
        Path(__file__).resolve().parents[1] / "sample_workbooks/lusong-2023-corrected.xlsx"
    )
    workbook["附件2"]["F14"] = "#DIV/0!"  # openpyxl stores an error code as an error value
    assert workbook["附件2"]["F14"].data_type == "e"
    path = tmp_path / "error.xlsx"
    workbook.save(path)
    (result,) = check(path).files
    f03 = [(d.rule, d.sheet, d.cell, d.actual) for d in result.deviations if d.rule == "F03"]
    assert f03 == [("F03", "附件2", "F14", "#DIV/0!")]
    assert result.status.value == "errors"
