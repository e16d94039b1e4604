"""Forms of four families built by a new user from the layout descriptions, never from the sample builders.

Each consistent form reads with its family, year and profile, raises no error or warning and re-scores
exactly to the unit's total; each broken copy (one planted defect) is reported at the planted cell.
Found by trying them: J's "label amount" funds cells without a colon were not read (a false F02, no
re-scoring) and its 合计 row's score was taken from 权重占比 (100) instead of 折算得分 (99); G's title year
"2021年…评分表" (no 年度) was not read.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from perf_eval import check


# The forms as tables, one row a line (not reflowed by the formatter).
# fmt: off
def put(ws, r0, c0, rows):
    """write a list of rows starting at (r0, c0); None = skip cell"""
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if v is not None:
                ws.cell(r0 + i, c0 + j, v)


def merge(ws, r1, c1, r2, c2):
    ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)


# ---------------------------------------------------------------- B (Sichuan)
def build_B(broken=False):
    wb = Workbook()
    ws = wb.active
    ws.title = "项目自评表"
    R, C = 2, 2  # starts at B2
    put(ws, R, C, [
        ["部门预算项目支出绩效自评表"],
        ["（2022年度）", None, None, None, None, None, None, None, None, "报表编号：510000_0013zp"],
        ["项目名称", "51072222R000004417812-2022年农村义务教育学校教室改造项目"],
        ["主管部门", "三台县教育和体育局", None, None, None, None, "实施单位", "三台县教育和体育局"],
        ["项目资金（万元）", None, "年初预算", "调整后预算数", "预算执行数", "预算执行率", "权重", "得分", "原因"],
        [None, "总额", 40.00, 50.00, 48.00, "96.00%", 10, 9.6, "部分设备尾款待质保期满后支付。"],
        [None, "其中：财政资金", 40.00, 50.00, 48.00, "96.00%", "/", "/", None],
        [None, "财政专户管理资金", 0.00, 0.00, 0.00, "0.00%", "/", "/", None],
        [None, "单位资金", 0.00, 0.00, 0.00, "0.00%", "/", "/", None],
        [None, "其他资金", None, None, None, None, "/", "/", None],
        ["年度目标", "项目年度目标", None, None, None, "年度目标完成情况"],
        [None, "完成全县12所农村学校12间教室改造，改善600名学生学习条件。", None, None, None,
         "完成12间教室改造，受益学生570人。"],
        ["项目实施内容及过程概述", "3月完成招标，8月完工并验收。"],
        ["绩效指标（90分）", "一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位", "完成值", "权重", "得分", "未完成原因分析"],
    ])
    grid = [
        ["产出指标", "数量指标", "改造教室数量", "≥", 12, "间", 12, 20, 20, None],
        [None, "质量指标", "工程验收合格率", "=", 100, "%", 100, 15, 15, None],
        [None, "时效指标", "完工时间", "≤", "8月底前", None, "8月", 10, 10, None],
        [None, "成本指标", "单间教室改造成本", "≤", 4, "万元", 3.9, 10, 10, None],
        ["效益指标", "社会效益指标", "受益学生人数", "≥", 600, "人", 570, 20, 19,
         "部分学校生源减少，实际在校生低于预期；下年按实际生源测算。"],
        [None, "可持续影响指标", "改造设施使用年限", "≥", 10, "年", 10, 5, 5, None],
        ["满意度指标", "服务对象满意度指标", "学生家长满意度", "≥", 90, "%", 95, 10, 10, None],
    ]
    if broken:  # planted: deduction (19 of 20) with no reason
        grid[4][9] = None
    g0 = R + 14
    put(ws, g0, C + 1, grid)
    put(ws, g0 + len(grid), C, [
        ["合计", None, None, None, None, None, None, None, 100, 98.6, None],
        ["评价结论", "项目总体完成，自评得分98.6分，等级为优。"],
        ["存在问题", "受益人数未达预期。"],
        ["改进措施", "按实际生源测算目标。"],
        ["项目负责人：王建明", None, None, None, None, None, "财务负责人：刘芳"],
    ])
    # merges
    merge(ws, R, C, R, C + 10)
    merge(ws, R + 2, C + 1, R + 2, C + 10)
    merge(ws, R + 4, C, R + 9, C)          # 项目资金（万元）
    merge(ws, g0 - 1 , C, g0 + len(grid) - 1, C)  # 绩效指标（90分）
    merge(ws, g0, C + 1, g0 + 3, C + 1)    # 产出指标
    merge(ws, g0 + 4, C + 1, g0 + 5, C + 1)  # 效益指标
    return wb


# ---------------------------------------------------------------- C (衔接资金)
def build_C(broken=False):
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    put(ws, 1, 1, [
        ["绩效目标自评表"],
        ["（2022年度）"],
        ["项目名称", "罗甸县边阳镇2022年衔接资金产业路建设项目"],
        ["主管部门", "罗甸县乡村振兴局", None, None, "实施单位", "边阳镇人民政府"],
        ["项目负责人及电话", "杨光荣 0854-7612345"],
        ["资金情况（万元）", None, None, "全年预算数（A）", "全年执行数（B）", "分值", "执行率（B/A）", "得分"],
        ["年度资金总额：", None, None, 120.00, 114.00, 10, "95%", 9.5],
        ["其中：本年财政拨款", None, None, 120.00, 114.00, None, "95%", None],
        ["其他资金", None, None, "-", "-", None, None, None],
        ["年度总体目标", "年初设定目标", None, None, "年度总体目标完成情况综述"],
        [None, "新建产业路3.2公里，带动260名脱贫人口增收。", None, None, "建成产业路3.2公里，受益脱贫人口260人。"],
        ["绩效指标", "一级指标", "二级指标", "三级指标", "分值", "年度指标值", "全年实际值", "得分", "未完成原因及拟采取的改进措施"],
    ])
    grid = [
        ["产出指标（50分）", "数量指标", "★新建产业路长度", 20, "3.2公里", "3.2公里", 20, None],
        [None, "质量指标", "工程验收合格率", 10, "100%", "100%", 10, None],
        [None, "时效指标", "项目完工时间", 10, "2022年11月底前", "2022年10月", 10, None],
        [None, "成本指标", "每公里建设成本", 10, "≤37.5万元", "35.6万元", 10, None],
        ["效益指标（30分）", "经济效益指标", "★带动脱贫户户均增收", 15, "≥500元", "520元", 15, None],
        [None, "社会效益指标", "受益脱贫人口数", 15, "≥260人", "260人", 15, None],
        ["满意度指标（10分）", "服务对象满意度指标", "受益群众满意度", 10, "≥90%", "93%", 10, None],
    ]
    put(ws, 13, 2, grid)
    total = 98.5 if broken else 99.5   # planted: 总分 does not add up
    put(ws, 20, 1, [
        ["总分", None, None, None, 100, None, None, total, None],
        ["注：一级指标分值统一设置为：执行率10分，产出指标50分，效益指标30分，满意度指标10分。"],
    ])
    merge(ws, 1, 1, 1, 9)
    merge(ws, 2, 1, 2, 9)
    for r in (6, 7, 8, 9):
        merge(ws, r, 1, r, 3)
    merge(ws, 10, 1, 11, 1)
    merge(ws, 12, 1, 19, 1)
    merge(ws, 13, 2, 16, 2)
    merge(ws, 17, 2, 18, 2)
    return wb


# ---------------------------------------------------------------- G (section-scored)
def build_G(broken=False):
    wb = Workbook()
    ws = wb.active
    ws.title = "评分表"
    R, C = 3, 3  # starts at C3
    put(ws, R, C, [
        ["2021年部门整体绩效评价指标体系评分表"],
        ["部门名称：德阳市旌阳区城市管理综合行政执法局", None, None, None, None, None, "单位：万元"],
        ["一、当年预算执行情况（20分）"],
        ["一级指标", "二级指标", "预算数（万元）", "执行数（万元）", "预算执行率", "分值", "得分", "指标解释", "评分标准"],
        ["当年预算执行情况（20分）", "资金总体", 860.00, 834.20, "97.00%", 20, 19.4,
         "部门全年执行数与全年预算数的比率", "预算执行率×分值"],
        [None, "基本支出", 600.00, 600.00, None, None, None, None, None],
        [None, "项目支出", 260.00, 244.20 if broken else 234.20, None, None, None, None, None],
        [None, "其他", None, None, None, None, None, None, None],
        ["二、整体绩效目标实现情况（60分）"],
        ["一级指标", "二级指标", "三级指标", "指标值", "完成值", "分值", "得分", "指标解释", "评分标准"],
        ["整体绩效目标实现情况（60分）", "产出（30分）", "开展执法检查次数", "≥40次", "42次", 15, 15, "全年执法检查次数", "完成得满分，未完成按比例得分"],
        [None, None, "案件办结率", "≥95%", "96%", 10, 10, "办结案件数/受理案件数", "同上"],
        [None, None, "年度工作任务完成时限", "12月底前", "12月", 5, 5, "按时完成年度任务", "同上"],
        [None, "效益（20分）", "群众投诉办结率", "≥98%", "98%", 15, 15, "办结投诉数/受理投诉数", "同上"],
        [None, None, "执法信息公示覆盖率", "100%", "100%", 5, 5, "公示事项/应公示事项", "同上"],
        [None, "满意度（10分）", "服务对象满意度", "≥90%", "92%", 10, 10, "问卷调查", "同上"],
        ["三、部门管理情况（20分）"],
        ["一级指标", "二级指标", "三级指标", "指标值", "完成值", "分值", "得分", "指标解释", "评分标准"],
        ["部门管理情况（20分）", "预算管理", "预算管理制度健全性", "健全", "健全", 10, 10, "制度是否健全", "健全得满分"],
        [None, "资产管理", "资产管理规范性", "规范", "规范", 10, 10, "资产管理是否规范", "规范得满分"],
        ["总分", None, None, None, None, 100, 99.4, None, None],
    ])
    merge(ws, R, C, R, C + 8)
    merge(ws, R + 4, C, R + 7, C)
    merge(ws, R + 10, C, R + 15, C)
    merge(ws, R + 10, C + 1, R + 12, C + 1)
    merge(ws, R + 13, C + 1, R + 14, C + 1)
    merge(ws, R + 18, C, R + 19, C)
    return wb


# ---------------------------------------------------------------- J (budget-system export)
def build_J(broken=False):
    wb = Workbook()
    ws = wb.active
    ws.title = "预算项目绩效自评表"
    put(ws, 1, 1, [
        ["预算项目绩效自评表"],
        ["（2023年度）"],
        ["一、基本情况"],
        ["项目名称", "2023年高素质农民培育项目"],
        ["主管部门", "邢台市南和区农业农村局", None, None, None, "实施单位", "邢台市南和区农业技术推广站"],
        ["项目负责人", "赵志强", None, None, None, "联系电话", "0319-4561234"],
        ["二、预算执行情况"],
        ["预算安排情况（调整后） 85.00", None, None, "资金到位情况 85.00", None, "资金执行情况 80.75", None, "预算执行进度（%） 95.00"],
        ["三、目标完成情况"],
        ["年度目标", "培训高素质农民1200人次，参训农民就业率达到80%以上。"],
        ["完成情况", "培训1260人次，参训农民就业率76%。"],
        ["四、年度绩效指标完成情况"],
        ["一级指标", "二级指标", "三级指标", "指标分值", "预期指标值", None, None, "单项指标实际完成值", "单项指标完成情况", "自评得分", None, None],
        [None, None, None, None, "符号", "值", "单位（文字描述）", None, None, "单项指标得分", "权重占比（%）", "单项指标折算得分"],
    ])
    grid = [
        ["产出指标", "数量指标", "培训农民人次", 20, "≥", 1200, "人次", 1260, "完成", 100, 20, 20],
        [None, "质量指标", "培训考核合格率", 20, "≥", 90, "%", 94, "完成", 100, 20, 20],
        [None, "时效指标", "培训完成时间", 10, "≤", "2023年11月", "文字描述", "2023年10月", "完成", 100, 10, 10],
        [None, "成本指标", "人均培训成本", 10, "≤", 600, "元", 580, "完成", 100, 10, 10],
        ["效益指标", "社会效益指标", "参训农民就业率", 20, "≥", 80, "%", 76, "未完成", 95, 20, 19],
        ["满意度指标", "服务对象满意度指标", "参训农民满意度", 20, "≥", 90, "%", 95, "完成", 100, 20, 20],
    ]
    total = 99
    if broken:  # planted: 折算得分 18 ≠ 100 × 20%; total adjusted so it still adds up
        grid[1][11] = 18
        total = 97
    put(ws, 15, 1, grid)
    put(ws, 21, 1, [["合计", None, None, 100, None, None, None, None, None, None, 100, total]])
    merge(ws, 1, 1, 1, 12)
    merge(ws, 2, 1, 2, 12)
    for c in (1, 2, 3, 4, 8, 9):
        merge(ws, 13, c, 14, c)
    merge(ws, 13, 5, 13, 7)
    merge(ws, 13, 10, 13, 12)
    merge(ws, 15, 1, 18, 1)
    return wb
# fmt: on


# family, builder, unit's year, profile, planted (rule, cell) in the broken copy, unit's total, recomputed of broken
CASES: list[tuple[str, Callable[..., Any], int, str, tuple[str, str]]] = [
    ("B", build_B, 2022, "sichuan-2023", ("S07", "L20")),
    ("C", build_C, 2022, "xianjie-2023", ("S08", "H20")),
    ("G", build_G, 2021, "section-scored", ("S03", "F7")),
    ("J", build_J, 2023, "hebei-export", ("S17", "L16")),
]


@pytest.mark.parametrize(("family", "build", "year", "profile", "planted"), CASES, ids=[c[0] for c in CASES])
def test_an_unseen_form_reads_right_and_its_planted_defect_is_found(
    family: str, build: Callable[..., Any], year: int, profile: str, planted: tuple[str, str], tmp_path: Path
) -> None:
    path = tmp_path / f"{family}.xlsx"
    build().save(path)
    (result,) = check(path).files
    (form,) = result.forms
    assert (form.family, form.year, form.profile) == (family, year, profile)
    assert [d.rule for d in result.deviations if d.severity.value != "info"] == []
    assert result.score is not None and result.score.recomputed == result.score.reported
    broken = tmp_path / f"{family}-broken.xlsx"
    build(broken=True).save(broken)
    (flawed,) = check(broken).files
    assert planted in [(d.rule, d.cell) for d in flawed.deviations if d.severity.value == "error"]


def test_a_missing_reason_names_the_forms_own_reason_column(tmp_path: Path) -> None:
    """S07 on a Sichuan form quotes its 未完成原因分析, not the national template's column name."""
    path = tmp_path / "B-broken.xlsx"
    build_B(broken=True).save(path)
    (result,) = check(path).files
    (s07,) = [d for d in result.deviations if d.rule == "S07"]
    assert s07.message.endswith("但未填写未完成原因分析") and s07.params["column"] == "未完成原因分析"
