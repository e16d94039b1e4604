"""Inline forms for table-driven rule tests: rows of cells, no files.

`seed_basic()` and `seed_self_eval()` are the seed report's two forms
(transcribed in tests/fixtures/lusong-2023-report.txt), as lists of rows; a test changes a cell by its label
and runs the real readers and rules on the grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from perf_eval.checker import check_workbooks
from perf_eval.model import FileResult, Finding, FormKind
from perf_eval.reading.basic_data import read_basic_data
from perf_eval.reading.grid import Grid
from perf_eval.reading.locate import locate_forms
from perf_eval.reading.self_eval import read_self_eval
from perf_eval.reading.workbook import ReadWorkbook

Rows = list[list[Any]]


def seed_basic() -> Rows:
    return [
        ["附件2"],
        ["2023年度部门（单位）整体支出绩效评价基础数据表"],
        ["财政供养人员情况（人）", "编制数", "2023年实际在职人数", "控制率"],
        [None, 36, 36, "100%"],
        ["经费控制情况（万元）", "2022年决算数", "2023年预算数", "2023年决算数"],
        ["三公经费", 0, 0, 0],
        ["   1、公务用车购置和维护经费", 0, 0, 0],
        ["       其中：公车购置", 0, 0, 0],
        ["             公车运行维护", 0, 0, 0],
        ["   2、出国经费", 0, 0, 0],
        ["   3、公务接待", 0, 0, 0],
        ["项目支出：", 324.12, 125, 238.43],
        ["    1、财政管理专项", 46.05, 55, 65.86],
        ["    2、国有资产管理", 146.34, 40, 85.74],
        ["    3、信息化建设", 7.77, 30, 19.99],
        ["4、党建经费项目", "  0", " 0 ", 4.37],
        ["    5、经济表彰项目", " 0 ", "0  ", 0.56],
        ["    6、评审中心经费项目", " 0 ", "0  ", 58.67],
        ["    7、综合治税信息建设项目", " 0 ", "0  ", 3.24],
        ["公用经费", 77.45, 72.17, 101.47],
        ["    其中：办公经费", 1.67, 4.5, 6.52],
        ["          水费、电费、差旅费", 0, 0.5, 1.55],
        ["          会议费、培训费", 0.35, 1, 1.17],
        ["政府采购金额", "——", 190.17, 213.33],
        ["部门基本支出预算调整 ", "——", 0, 0],
        [
            "楼堂馆所控制情况\n\n（2023年完工项目）",
            "批复规模\n\n（㎡）",
            "实际规模（㎡）",
            "规模控制率",
            "预算投资（万元）",
            "实际投资（万元）",
            "投资概算控制率",
        ],
        [None, 0, 0, 0, 0, 0, 0],
        ["厉行节约保障措施", "严控预算支出\u3000"],
        ["说明：“项目支出”需要填报基本支出以外的所有项目支出情况，“公用经费”填报基本支出中的一般商品和服务支出。"],
        ["填表人：宁邵庆  填报日期：         联系电话：28580807  单位负责人：易凌云"],
    ]


def seed_self_eval() -> Rows:
    indicator_rows = [
        ["产出指标\n(40分)", "数量指标", "保障退休、在岗工作人员人数", "≥54人", "54人", 3, 3, None],
        [None, None, "保障内设机构（含业务综合股）正常运转数量", "8个", "8个", 3, 3, None],
        [None, None, "保障局属事业单位正常运转数量个数", "4个", "4个", 3, 3, None],
        [None, None, "财会监督专项行动", "≥6个", "7个", 3, 3, None],
        [None, None, "组织财会监督绩效、预算绩效管理、支农惠农培训次数", "≥3次", "5次", 3, 3, None],
        [None, "质量指标", "保障财政资金拨付", "是否及时、准确", "及时、准确", 3, 3, None],
        [None, None, "保“三保”支出，保障民生资金支出", "是否及时、准确、到位", "及时、准确、到位", 3, 3, None],
        [None, None, "财政资金配置", "是否优化", "优化", 3, 3, None],
        [None, None, "财政资金使用效率", "是否提高", "提高", 3, 3, None],
        [None, None, "财政资金监管", "是否强化", "强化", 3, 3, None],
        [None, "时效指标", "资金拨付及时到位程度", "基本及时到位", "基本及时到位", 10, 10, None],
        [
            "效益指标\n\n（30分）",
            "经济效\n\n益指标",
            "1.财政资金使用效率；\n\n2.财政资金配置\n3.营商环境",
            "1.是否提高；\n\n2.是否优化；\n3.是否优化；",
            "1.提高；\n\n2.优化；\n3.优化；",
            8,
            7,
            "需进一步优化财政资金配置，严控各项支出。",
        ],
        [
            None,
            "社会效\n\n益指标",
            "1.中央八项规定精神落实力度；\n\n2.资金使用的合理、合规性；",
            "1.是否提高；\n2.是否规范；",
            "1.提高；\n2.规范；",
            8,
            7,
            "需进一步规范预算单位资金使用合理合规。",
        ],
        [
            None,
            "生态效\n\n益指标",
            "1.辖区生态建设\n2.山青水绿、空气清新的生态环境建设。",
            "1.是否起到促进作用；\n\n2.是否起到促进作用.",
            "1.促进；\n\n2.促进。",
            7,
            6,
            "进一步提升涉农资金及时拨付效率。",
        ],
        [
            None,
            "可持续影响指标",
            "1.财政资金的可持续效益；\n\n2.财源建设助推财政收入高质量增长。",
            "1.是否提高；\n\n2.是否强化。",
            "1.提高；\n\n2.强化。",
            7,
            6,
            "需进一步加强大财源建设。",
        ],
        ["满意度\n\n指标\n\n（10分）", "服务对象满意度指标", "公众满意度80%", "≥80%", "≥80%", 5, 5, None],
        [None, None, "农民对财政支农政策满意度", "≥90%", "≥90%", 5, 5, None],
        ["成本指标（10分）", "经济成本指标", "年初预算项目支出金额", "125万元", "125万元", 10, 10, None],
    ]
    return [
        ["附件3"],
        ["2023年度部门（单位）整体支出绩效自评表"],
        ["区级预算部门（单位）名称", "株洲市芦淞区财政局"],
        ["年度预\n\n算申请\n\n（万元）", None, "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
        [None, "年度资金总额", 739.03, 959.93, 959.93, 10, "100%", 10],
        [None, "按收入性质分：", None, None, "按支出性质分："],
        [None, "  其中：  一般公共预算：959.93", None, None, "其中：基本支出：721.5"],
        [None, "政府性基金拨款：", None, None, "项目支出：238.43"],
        [None, "纳入专户管理的非税收入拨款："],
        [None, "其他资金："],
        ["年度总体目标", "预期目标", None, None, "实际完成情况"],
        [None, "1.退休、在岗工作人员≥54人……", None, None, "1.退休、在岗工作人员54人……"],
        [
            "绩\n\n效\n\n指\n\n标",
            "一级指标",
            "二级指标",
            "三级指标",
            "年度指标值",
            "实际完成值",
            "分值",
            "得分",
            "偏差原因分析及改进措施",
        ],
        *[[None, *row] for row in indicator_rows],
        ["总分", None, None, None, None, None, 100, 96, "\u3000"],
        ["填表人：宁邵庆 填报日期：          联系电话：28580807 单位负责人：易凌云"],
    ]


def set_cell(rows: Rows, label: str, column: int, value: Any) -> Rows:
    """Set rows[r][column] on the first row whose first non-empty cell contains `label`."""
    for row in rows:
        first = next((c for c in row if c not in (None, "")), None)
        if isinstance(first, str) and label in first:
            while len(row) <= column:
                row.append(None)
            row[column] = value
            return rows
    raise KeyError(label)


def grid(
    name: str,
    rows: Sequence[Sequence[Any]],
    merged: Sequence[tuple[int, int, int, int]] = (),
    uncached: Sequence[tuple[int, int]] = (),
) -> Grid:
    cells = {(r + 1, c + 1): v for r, row in enumerate(rows) for c, v in enumerate(row) if v not in (None, "")}
    return Grid(name, cells, tuple(merged), frozenset(uncached))


def read_grids(*grids: Grid) -> ReadWorkbook:
    forms = []
    for g in grids:
        for region in locate_forms(g):
            forms.append(read_basic_data(region) if region.kind is FormKind.BASIC_DATA else read_self_eval(region))
    return ReadWorkbook(Path("inline.xlsx"), tuple(forms), tuple(g.name for g in grids), (), ())


def corrected_basic() -> Rows:
    """The seed's basic-data form with its two real mistakes fixed (B05 total, blank 填报日期)."""
    rows = set_cell(seed_basic(), "项目支出", 1, 200.16)
    rows[-1][0] = "填表人：宁邵庆  填报日期：2024年3月15日  联系电话：28580807  单位负责人：易凌云"
    return rows


def corrected_self_eval() -> Rows:
    rows = seed_self_eval()
    rows[-1][0] = "填表人：宁邵庆 填报日期：2024年3月15日 联系电话：28580807 单位负责人：易凌云"
    return rows


def check_rows(
    basic: Rows | None = None,
    self_eval: Rows | None = None,
    *,
    profile: str | None = None,
    uncached: Sequence[tuple[int, int]] = (),
) -> FileResult:
    grids = []
    if basic is not None:
        grids.append(grid("附件2", basic, uncached=uncached))
    if self_eval is not None:
        grids.append(grid("附件3", self_eval))

    checked = check_workbooks([Path("inline.xlsx")], [read_grids(*grids)], profile=profile)
    return checked[0].result


def at(findings: Sequence[Finding], rule: str) -> list[str]:
    """The cells (Sheet!A1) where `rule` fired."""
    return [f"{f.sheet}!{f.cell}" for f in findings if f.rule == rule]
