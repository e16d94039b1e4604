"""Layout families of other provinces' forms as sheets of cells (rows and merges).

Two kinds of sheet:

- `transcribed(name)`: a published form, from its transcription in tests/fixtures/forms/ (values as
  printed, defects kept), laid out the way its family lays the form out.
- `own(family)`: a consistent form of each family, built here (values of our own), and the
  broken variants that change what the family changes.

`build_samples.py` writes them to sample_workbooks/families/; tests read the same rows without files.
Pure Python: no openpyxl here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "forms"

Rows = list[list[Any]]
Merge = tuple[int, int, int, int]  # r1, c1, r2, c2, 1-based like Excel


@dataclass
class SheetSpec:
    """One sheet: rows of cells (None = empty) and merged ranges."""

    name: str
    rows: Rows = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)

    def add(self, *cells: Any) -> int:
        """Append a row; returns its 1-based number."""
        self.rows.append(list(cells))
        return len(self.rows)

    def merge(self, r1: int, c1: int, r2: int, c2: int) -> None:
        if (r1, c1) != (r2, c2):
            self.merges.append((r1, c1, r2, c2))

    def shifted(self, rows: int, cols: int) -> SheetSpec:
        """The same sheet moved down `rows` and right `cols` (a form that does not start at A1)."""
        out = SheetSpec(self.name)
        out.rows = [[] for _ in range(rows)] + [[None] * cols + list(r) for r in self.rows]
        out.merges = [(r1 + rows, c1 + cols, r2 + rows, c2 + cols) for r1, c1, r2, c2 in self.merges]
        return out

    def find(self, text: str) -> tuple[int, int]:
        """(row, col) of the first cell equal to `text` (1-based)."""
        for r, row in enumerate(self.rows, start=1):
            for c, value in enumerate(row, start=1):
                if value == text:
                    return r, c
        raise KeyError(text)


_NUMBER = re.compile(r"^-?[0-9]+(?:\.[0-9]+)?$")


def value(text: str | None) -> Any:
    """A printed value as a spreadsheet keeps it: plain numbers as numbers, everything else as text."""
    if text is None or text == "":
        return None
    if _NUMBER.match(text):
        number = float(text)
        return int(number) if number.is_integer() and "." not in text else number
    return text


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def _runs(items: Sequence[str], first_row: int) -> list[tuple[int, int, str]]:
    """Consecutive equal labels as (first row, last row, label): the vertically merged 一级/二级 cells."""
    runs: list[tuple[int, int, str]] = []
    for offset, label in enumerate(items):
        row = first_row + offset
        if runs and runs[-1][2] == label:
            runs[-1] = (runs[-1][0], row, label)
        else:
            runs.append((row, row, label))
    return runs


def _merge_runs(sheet: SheetSpec, labels: Sequence[str], first_row: int, col: int) -> None:
    """Write each run of equal labels once, merged down over its rows."""
    for r1, r2, label in _runs(labels, first_row):
        for r in range(r1, r2 + 1):
            row = sheet.rows[r - 1]
            while len(row) < col:
                row.append(None)
            row[col - 1] = label if r == r1 else None
        sheet.merge(r1, col, r2, col)


# ---------------------------------------------------------------------------
# A: national project form (财预〔2020〕10号), county copy


def national_project(data: dict[str, Any], name: str) -> SheetSpec:
    sheet = SheetSpec(name)
    width = 9
    r = sheet.add(data["form_title_as_printed"])
    sheet.merge(r, 1, r, width)
    r = sheet.add("项目名称", data["project"])
    sheet.merge(r, 2, r, width)
    r = sheet.add("主管部门", data["department"], None, None, "实施单位", data["department"])
    sheet.merge(r, 2, r, 4)
    sheet.merge(r, 6, r, width)
    funds_cols = ("年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分")
    top = sheet.add("项目资金\n（万元）", None, *funds_cols)
    for part in data["funds"]:
        sheet.add(None, part["row"], *(value(part.get(c)) for c in funds_cols))
    sheet.merge(top, 1, len(sheet.rows), 1)
    goals = data["年度总体目标"]
    r = sheet.add("年度总体目标", "预期目标", None, None, None, "实际完成情况")
    sheet.add(None, goals["预期目标"], None, None, None, goals["实际完成情况"])
    sheet.merge(r, 1, r + 1, 1)
    sheet.merge(r, 2, r, 5)
    sheet.merge(r + 1, 2, r + 1, 5)
    sheet.merge(r, 6, r, width)
    sheet.merge(r + 1, 6, r + 1, width)
    header = sheet.add(
        "绩效指标",
        "一级指标",
        "二级指标",
        "三级指标",
        "年度\n指标值",
        "实际\n完成值",
        "分值",
        "得分",
        "偏差原因分析及改进措施",
    )
    rows = [i for i in data["indicators"] if i.get("三级指标")]  # the row cut off by the page is not printed
    first = header + 1
    for ind in rows:
        sheet.add(
            None,
            ind["一级指标"],
            ind["二级指标"],
            ind["三级指标"],
            value(ind["年度指标值"]),
            value(ind["实际完成值"]),
            value(ind["分值"]),
            value(ind["得分"]),
            ind.get("偏差原因分析及改进措施") or None,
        )
    _merge_runs(sheet, [i["一级指标"] for i in rows], first, 2)
    _merge_runs(sheet, [i["二级指标"] for i in rows], first, 3)
    sheet.merge(header, 1, len(sheet.rows), 1)
    return sheet


# ---------------------------------------------------------------------------
# B: Sichuan 部门预算项目支出绩效自评表

_B_GRID = (
    "一级指标",
    "二级指标",
    "三级指标",
    "指标性质",
    "指标值",
    "度量单位",
    "完成值",
    "权重",
    "得分",
    "未完成原因分析",
)


def _sichuan_grid_header(sheet: SheetSpec) -> int:
    return sheet.add("绩效指标（90分）", *_B_GRID)


def _sichuan_closing(sheet: SheetSpec, total: dict[str, Any] | None, closing: dict[str, str]) -> None:
    if total is not None:
        r = sheet.add(
            "合计", None, None, None, None, None, None, None, value(total.get("权重")), value(total.get("得分"))
        )
        sheet.merge(r, 1, r, 8)
    for label in ("评价结论", "存在问题", "改进措施"):
        if label in closing:
            r = sheet.add(label, closing[label])
            sheet.merge(r, 2, r, 11)


def sichuan_head(table: dict[str, Any], year: int, name: str) -> SheetSpec:
    sheet = SheetSpec(name)
    r = sheet.add(
        f"部门预算项目支出绩效自评表（{year}年度）",
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        "报表编号：510000_0013zp",
    )
    sheet.merge(r, 1, r, 10)
    r = sheet.add("项目名称", table["project"])
    sheet.merge(r, 2, r, 11)
    sheet.add("主管部门", table["主管部门"], None, None, None, "实施单位", table["实施单位"])
    r = sheet.add("项目基本情况", "1.项目年度目标完成情况", "项目年度目标", None, None, None, "年度目标完成情况")
    sheet.add(None, None, table["项目年度目标"], None, None, None, table["年度目标完成情况"])
    sheet.add(None, "2.项目实施内容及过程概述", table["项目实施内容及过程概述"])
    sheet.merge(r, 1, r + 2, 1)
    cols = ("年初预算", "调整后预算数", "预算执行数", "预算执行率", "权重", "得分")
    top = sheet.add("预算执行情况（10分）", "年度预算数（万元）", *cols, "原因")
    reason = (
        "1.预算执行率=预算执行数/调整后预算数，预算执行率未达到90%的需说明原因（100字以内）；"
        "2.年中发生预算调整的（追加或调减），应单独说明理由；3.其他资金包括：社会投入资金、银行贷款。"
    )
    for index, part in enumerate(table["funds"]):
        sheet.add(None, part["row"], *(value(part.get(c)) for c in cols), reason if index == 0 else None)
    sheet.merge(top, 1, len(sheet.rows), 1)
    sheet.merge(top + 1, 9, len(sheet.rows), 9)
    header = _sichuan_grid_header(sheet)
    for ind in table["indicators_partial"]:
        sheet.add(None, *(value(ind.get(c)) for c in _B_GRID))
    sheet.merge(header, 1, len(sheet.rows), 1)
    return sheet


def sichuan_tail(table: dict[str, Any], name: str) -> SheetSpec:
    """The last rows of a form whose first page is not available: grid, 合计, closing rows."""
    sheet = SheetSpec(name)
    header = _sichuan_grid_header(sheet)
    for ind in table["indicators"]:
        sheet.add(None, *(value(ind.get(c)) for c in _B_GRID))
    sheet.merge(header, 1, len(sheet.rows), 1)
    _sichuan_closing(sheet, table["合计"], table)
    r = sheet.add("项目负责人：查小兵", None, None, None, None, "财务负责人：唐勇")
    sheet.merge(r, 1, r, 5)
    return sheet


_TARGET = re.compile(r"^(?P<name>.*?)(?P<op>≤|≥|=)(?P<value>.+)$")


def sichuan_fragment(data: dict[str, Any], name: str) -> SheetSpec:
    """The tail fragment: one number per row, read (as its transcription argues) as the 权重."""
    sheet = SheetSpec(name)
    header = _sichuan_grid_header(sheet)
    for ind in data["indicators"]:
        match = _TARGET.match(ind["三级指标+指标值"])
        assert match is not None
        sheet.add(
            None, ind["一级指标"], ind["二级指标"], match["name"], match["op"], match["value"], None, None,
            value(ind["权重_or_得分"]), None,
        )  # fmt: skip
    sheet.merge(header, 1, len(sheet.rows), 1)
    _sichuan_closing(sheet, {"权重": data["合计"]}, data)
    return sheet


# ---------------------------------------------------------------------------
# C: 衔接资金 绩效目标自评表 (分值 before the values, no 年初预算数)


def xianjie(data: dict[str, Any], name: str) -> SheetSpec:
    sheet = SheetSpec(name)
    width = 9
    r = sheet.add("绩效目标自评表")
    sheet.merge(r, 1, r, width)
    r = sheet.add(f"（{data['year']}年度）")
    sheet.merge(r, 1, r, width)
    r = sheet.add("项目名称", data["project"])
    sheet.merge(r, 2, r, width)
    sheet.add("主管部门", "县农业农村局", None, None, "实施单位", "张庄寨镇人民政府")
    sheet.add("项目负责人及电话", data["header"]["项目负责人及电话"])
    cols = ("全年预算数(A)", "全年执行数(B)", "分值", "执行率(B/A)", "得分")
    top = sheet.add("资金情况\n（万元）", None, *(c.replace("(", "（").replace(")", "）") for c in cols))
    for part in data["funds"]:
        sheet.add(None, part["row"], *(value(part.get(c)) for c in cols))
    sheet.merge(top, 1, len(sheet.rows), 1)
    goals = data["年度总体目标"]
    r = sheet.add("年度总体目标", "年初设定目标", None, None, None, "年度总体目标完成情况综述")
    sheet.add(None, goals["年初设定目标"], None, None, None, goals["年度总体目标完成情况综述"])
    sheet.merge(r, 1, r + 1, 1)
    cols = ("分值", "年度指标值", "全年实际值", "得分", "未完成原因及拟采取的改进措施")
    header = sheet.add("绩效指标", "一级\n指标", "二级指标", "三级指标", *cols)
    rows = [i for i in data["indicators"] if i.get("三级指标") is not None]
    for ind in rows:
        sheet.add(None, ind["一级指标"], ind["二级指标"], ind["三级指标"], *(value(ind.get(c)) for c in cols))
    _merge_runs(sheet, [i["一级指标"] for i in rows], header + 1, 2)
    sheet.merge(header, 1, len(sheet.rows), 1)
    return sheet


# ---------------------------------------------------------------------------
# D: 20-point execution form (Hubei): no 分值 column, scores merged over a 二级 group


def twenty_point(data: dict[str, Any], name: str, *, title: str, merged_scores: bool) -> SheetSpec:
    sheet = SheetSpec(name)
    width = 7
    r = sheet.add(title)
    sheet.merge(r, 1, r, width)
    header = data.get("header", {})
    sheet.add(
        f"项目单位（盖章）：{header.get('项目单位(盖章)', '')}",
        None,
        None,
        "主要领导签字：",
        None,
        f"填报日期：{header.get('填报日期', '')}",
    )
    r = sheet.add("项目名称", data["project"])
    sheet.merge(r, 2, r, width)
    sheet.add("主管部门", data["department_head"], None, "项目实施单位", data["unit"])
    for label in ("项目类别", "项目属性", "项目类型"):
        if label in header:
            r = sheet.add(label, header[label])
            sheet.merge(r, 2, r, width)
    exec_cols = ("预算数(A)", "执行数(B)", "执行率(B/A)", "得分(20分*执行率)")
    sheet.add("预算执行情况（万元）\n（20分）", *(c.replace("(", "（").replace(")", "）") for c in exec_cols))
    for part in data.get("funds") or data["budget_execution"]:
        sheet.add(
            part["row"],
            *(value(part.get(c) or part.get(c.replace("(20分*执行率)", " (20分*执行率)"))) for c in exec_cols),
        )
    header_row = sheet.add(
        data["grid_heading"], "一级指标", "二级指标", "三级指标", "年初目标值（A）", "实际完成值（B）", "得分"
    )
    rows = [i for i in data["indicators"] if i.get("年初目标值(A)") is not None or i.get("得分")]
    first = header_row + 1
    for ind in rows:
        sheet.add(
            None,
            ind["一级指标"],
            ind["二级指标"],
            ind["三级指标"],
            value(ind["年初目标值(A)"]),
            value(ind["实际完成值(B)"]),
            value(ind["得分"]),
        )
    _merge_runs(sheet, [i["一级指标"] for i in rows], first, 2)
    _merge_runs(sheet, [i["二级指标"] for i in rows], first, 3)
    if merged_scores:
        # A score shown once for a 二级 group is merged down over the group's rows without a score of their own.
        for offset, ind in enumerate(rows):
            if ind["得分"]:
                end = offset
                while (
                    end + 1 < len(rows) and not rows[end + 1]["得分"] and rows[end + 1]["二级指标"] == ind["二级指标"]
                ):
                    end += 1
                sheet.merge(first + offset, 7, first + end, 7)
    sheet.merge(header_row, 1, len(sheet.rows), 1)
    if data.get("总分"):
        r = sheet.add("总分", None, None, None, None, None, value(data["总分"]))
        sheet.merge(r, 1, r, 6)
    for label in ("偏差大或目标未完成原因分析", "改进措施及结果应用方案"):
        if label in data:
            r = sheet.add(label, data[label])
            sheet.merge(r, 2, r, width)
    return sheet


# ---------------------------------------------------------------------------
# G: section-scored 部门整体 评分表


def section_scored(data: dict[str, Any], name: str) -> SheetSpec:
    sheet = SheetSpec(name)
    width = 9
    r = sheet.add(data["form_title_as_printed"])
    sheet.merge(r, 1, r, width)
    one = data["section_1_当年预算执行情况"]
    r = sheet.add(one["label_as_printed"].replace("(", "（").replace(")", "）"))
    sheet.merge(r, 1, r, width)
    header = sheet.add(
        "一级指标",
        "二级指标",
        "预算数\n（万元）",
        "执行数\n（万元）",
        "预算执行率",
        "分值",
        "得分",
        "指标解释",
        "评分标准",
    )
    for row in one["rows"]:
        sheet.add(
            one["一级指标"], row["二级指标"], value(row["预算数"]), value(row["执行数"]), value(row["预算执行率"]),
            value(row["分值"]), value(row["得分"]), row.get("指标解释"), row.get("评分标准"),
        )  # fmt: skip
    _merge_runs(sheet, [one["一级指标"]] * len(one["rows"]), header + 1, 1)
    two = data["section_2_整体绩效目标实现情况"]
    r = sheet.add(two["label_as_printed"].replace("(", "（").replace(")", "）"))
    sheet.merge(r, 1, r, width)
    header = sheet.add("一级指标", "二级指标", "三级指标", "指标值", "完成值", "分值", "得分", "指标解释", "评分标准")
    for row in two["rows"]:
        sheet.add(
            two["一级指标"], row["二级指标"], row["三级指标"], value(row["指标值"]), value(row["完成值"]),
            value(row["分值"]), value(row["得分"]), row.get("指标解释"), None,
        )  # fmt: skip
    return sheet


def transcribed(name: str) -> list[SheetSpec]:
    """The sheets of one transcribed published form (tests/fixtures/forms/<name>.json)."""
    data = load(name)
    if name.startswith("A-"):
        return [national_project(data, "项目自评表")]
    if name == "B-sichuan-daying-2023-projects":
        return [
            sichuan_tail(data["table_A_tail"], "上一项目（续）"),
            sichuan_head(data["table_B"], data["year"], "安可替代补助资金"),
        ]
    if name == "B-sichuan-daying-tail-fragment":
        return [sichuan_fragment(data, "自评表（续）")]
    if name.startswith("C-"):
        return [xianjie(data, "绩效目标自评表")]
    if name == "D-hubei-huangshi-library-2022-project":
        data = {
            **data,
            "department_head": "黄石市文化和旅游局",
            "unit": "黄石市图书馆",
            "grid_heading": "年度绩效目标1\n（80分）",
        }
        return [twenty_point(data, "附表2", title=data["form_title_as_printed"], merged_scores=True)]
    if name == "D-hubei-style-2020-project":
        data = {
            **data,
            "department_head": "区市场监督管理局",
            "unit": "农业科",
            "header": {"项目单位(盖章)": "农业工作科"},
            "grid_heading": "年度绩效目标\n（80分）",
        }
        return [twenty_point(data, "Sheet1", title="2020年度长江禁捕项目自评表", merged_scores=False)]
    if name.startswith("G-"):
        return [section_scored(data, "评分表")]
    raise KeyError(name)


TRANSCRIBED = (
    "A-anhui-yuan-2022-project",
    "B-sichuan-daying-2023-projects",
    "B-sichuan-daying-tail-fragment",
    "C-anhui-xiaoxian-2023-xianjie",
    "D-hubei-huangshi-library-2022-project",
    "D-hubei-style-2020-project",
    "G-dept-scoresheet-2022",
)


# ---------------------------------------------------------------------------
# Consistent forms of our own, one per family (values invented, every total adds up)


def _grid(
    sheet: SheetSpec, header: Sequence[str], rows: Sequence[Sequence[Any]], *, lead: str | None = "绩效指标"
) -> int:
    """A grid: header row then rows, 一级/二级 (the first two columns after `lead`) merged down over their runs."""
    offset = 1 if lead is not None else 0
    top = sheet.add(*([lead] if lead is not None else []), *header)
    first = top + 1
    for row in rows:
        sheet.add(*([None] if lead is not None else []), *row)
    for index in (0, 1):
        _merge_runs(sheet, [str(r[index]) for r in rows], first, offset + index + 1)
    if lead is not None:
        sheet.merge(top, 1, len(sheet.rows), 1)
    return top


def own_b() -> SheetSpec:
    """Sichuan 部门预算项目支出绩效自评表: 权重 for 分值, split targets, 合计 as 总分."""
    sheet = sichuan_head(
        {
            "project": "51092324T000010263357-2023年全县安可替代补助资金项目",
            "主管部门": "大英县司法局部门",
            "实施单位": "大英县司法局",
            "项目年度目标": "根据要求购买安可设备，并完成项目资金支付。",
            "年度目标完成情况": "已完成",
            "项目实施内容及过程概述": "2023年购买13台安可电脑，并于12月前完成资金支付。",
            "funds": [
                {"row": "总额", "年初预算": "0.00", "调整后预算数": "3.36", "预算执行数": "3.36", "预算执行率": "100.00%", "权重": "10", "得分": "10"},
                {"row": "其中：财政资金", "年初预算": "0.00", "调整后预算数": "3.36", "预算执行数": "3.36", "预算执行率": "100.00%", "权重": "/", "得分": "/"},
                {"row": "财政专户管理资金", "年初预算": "0.00", "调整后预算数": "0.00", "预算执行数": "0.00", "预算执行率": "0.00%", "权重": "/", "得分": "/"},
                {"row": "单位资金", "年初预算": "0.00", "调整后预算数": "0.00", "预算执行数": "0.00", "预算执行率": "0.00%", "权重": "/", "得分": "/"},
                {"row": "其他资金", "权重": "/", "得分": "/"},
            ],
            "indicators_partial": [
                {"一级指标": "产出指标", "二级指标": "数量指标", "三级指标": "购置安可电脑台数", "指标性质": "≥", "指标值": "13", "度量单位": "台", "完成值": "13", "权重": "30", "得分": "30"},
                {"一级指标": "产出指标", "二级指标": "质量指标", "三级指标": "设备验收合格率", "指标性质": "=", "指标值": "100", "度量单位": "%", "完成值": "100", "权重": "20", "得分": "20"},
                {"一级指标": "产出指标", "二级指标": "时效指标", "三级指标": "资金支付完成率", "指标性质": "=", "指标值": "100", "度量单位": "%", "完成值": "100", "权重": "10", "得分": "10"},
                {"一级指标": "效益指标", "二级指标": "社会效益指标", "三级指标": "办公信息安全水平", "指标性质": "定性", "指标值": "提高", "度量单位": None, "完成值": "提高", "权重": "20", "得分": "20"},
                {"一级指标": "满意度指标", "二级指标": "服务对象满意度指标", "三级指标": "使用人员满意度", "指标性质": "≥", "指标值": "90", "度量单位": "%", "完成值": "95", "权重": "10", "得分": "10"},
            ],
        },
        2023,
        "安可替代",
    )  # fmt: skip
    _sichuan_closing(
        sheet, {"权重": "100", "得分": "100"}, {"评价结论": "项目按计划完成。", "存在问题": "无", "改进措施": "无"}
    )
    return sheet


def own_c() -> SheetSpec:
    """衔接资金 绩效目标自评表: 分值 before the values, no 年初预算数, ★ and 其中 rows."""
    data = load("C-anhui-xiaoxian-2023-xianjie")
    rows = [i for i in data["indicators"] if i.get("三级指标") is not None and i["三级指标"] != "……"]
    rows.append({"一级指标": "满意度指标（10分）", "二级指标": "服务对象满意度指标", "三级指标": "受益农户满意度", "分值": "10", "年度指标值": "≥90%", "全年实际值": "96%", "得分": "10"})  # fmt: skip
    sheet = xianjie({**data, "indicators": rows}, "绩效目标自评表")
    r = sheet.add("总分", None, None, None, 100, None, None, 100)
    sheet.merge(r, 1, r, 4)
    return sheet


def own_d() -> SheetSpec:
    """Hubei 20-point form: execution 20 × rate, no 分值 column, a score merged over two rows, 总分."""
    data = {
        "project": "全民阅读推广",
        "department_head": "黄石市文化和旅游局",
        "unit": "黄石市图书馆",
        "header": {"项目单位(盖章)": "黄石市图书馆", "填报日期": "2023.6.28", "项目类别": "1、部门预算项目 ☑ 2、市直专项 □"},
        "grid_heading": "年度绩效目标1\n（80分）",
        "budget_execution": [{"row": "年度财政资金总额", "预算数(A)": "12", "执行数(B)": "12", "执行率(B/A)": "100%", "得分(20分*执行率)": "20"}],
        "indicators": [
            {"一级指标": "产出指标（40分）", "二级指标": "数量指标", "三级指标": "阅读推广活动场次", "年初目标值(A)": "≥20场", "实际完成值(B)": "24场", "得分": "10"},
            {"一级指标": "产出指标（40分）", "二级指标": "数量指标", "三级指标": "新增借阅证", "年初目标值(A)": "≥500张", "实际完成值(B)": "620张", "得分": ""},
            {"一级指标": "产出指标（40分）", "二级指标": "质量指标", "三级指标": "活动验收合格率", "年初目标值(A)": "100%", "实际完成值(B)": "100%", "得分": "10"},
            {"一级指标": "产出指标（40分）", "二级指标": "时效指标", "三级指标": "活动完成时间", "年初目标值(A)": "12月底前", "实际完成值(B)": "12月", "得分": "10"},
            {"一级指标": "产出指标（40分）", "二级指标": "成本指标", "三级指标": "项目成本", "年初目标值(A)": "≤12万元", "实际完成值(B)": "12万元", "得分": "10"},
            {"一级指标": "效益指标（30分）", "二级指标": "社会效益", "三级指标": "市民阅读参与度", "年初目标值(A)": "提高", "实际完成值(B)": "提高", "得分": "30"},
            {"一级指标": "满意度指标（10分）", "二级指标": "读者", "三级指标": "读者满意度", "年初目标值(A)": "≥90%", "实际完成值(B)": "95%", "得分": "10"},
        ],
        "总分": "100",
        "偏差大或目标未完成原因分析": "无",
        "改进措施及结果应用方案": "继续推广全民阅读。",
    }  # fmt: skip
    return twenty_point(data, "附表2", title="2022年度全民阅读推广项目自评表", merged_scores=True)


def own_g() -> SheetSpec:
    """Section-scored 评分表: 一、当年预算执行情况（20分） then 二、整体绩效目标实现情况（80分）, 总分."""
    sheet = SheetSpec("评分表")
    width = 9
    r = sheet.add("2022年部门整体绩效评价指标体系评分表")
    sheet.merge(r, 1, r, width)
    r = sheet.add("单位名称：某县统计局")
    sheet.merge(r, 1, r, width)
    r = sheet.add("一、当年预算执行情况（20分）")
    sheet.merge(r, 1, r, width)
    top = sheet.add(
        "一级指标",
        "二级指标",
        "预算数\n（万元）",
        "执行数\n（万元）",
        "预算执行率",
        "分值",
        "得分",
        "指标解释",
        "评分标准",
    )
    for row in (
        ("资金总体", 535.5, 508.73, "95.00%", 20, 19),
        ("基本支出", 435.5, 418.73, None, None, None),
        ("项目支出", 100, 90, None, None, None),
        ("其他", None, None, None, None, None),
    ):
        sheet.add(
            "当年预算执行情况（20）", *row, "部门全年执行数与全年预算数的比率" if row[0] == "资金总体" else None, None
        )
    _merge_runs(sheet, ["当年预算执行情况（20）"] * 4, top + 1, 1)
    r = sheet.add("二、整体绩效目标实现情况（80分）")
    sheet.merge(r, 1, r, width)
    header = ("一级指标", "二级指标", "三级指标", "指标值", "完成值", "分值", "得分", "指标解释", "评分标准")
    rows = (
        ("产出（40分）", "数量", "统计调查任务完成数", "≥12项", "12项", 20, 20, "实际完成工作数/计划工作数", None),
        ("产出（40分）", "质量", "数据质量抽查合格率", "≥98%", "99%", 20, 20, "质量达标工作数/实际完成工作数", None),
        ("效益（30分）", "社会效益", "统计数据发布及时率", "100%", "100%", 30, 30, None, None),
        ("满意度（10分）", "服务对象满意度", "数据使用单位满意度", "≥90%", "93%", 10, 10, None, None),
    )
    _grid(sheet, header, rows, lead=None)
    r = sheet.add("总分", None, None, None, None, 100, 99)
    sheet.merge(r, 1, r, 5)
    return sheet


OWN = {"B": own_b, "C": own_c, "D": own_d, "G": own_g}


def _set(sheet: SheetSpec, row_text: str, header: str, new: Any) -> SheetSpec:
    """A copy with the cell of the row containing `row_text`, in the column headed `header`, set to `new`."""
    out = SheetSpec(sheet.name, [list(r) for r in sheet.rows], list(sheet.merges))
    row = next(i for i, r in enumerate(out.rows) if row_text in r)
    col = next(
        c
        for r in reversed(out.rows[:row])
        for c, v in enumerate(r)
        if isinstance(v, str) and v.replace("\n", "") == header
    )
    while len(out.rows[row]) <= col:
        out.rows[row].append(None)
    out.rows[row][col] = new
    return out


@dataclass(frozen=True)
class Broken:
    """A consistent form with one change the family makes matter; the rule must fire at (row text, header)."""

    name: str
    family: str
    rule: str
    row_text: str
    header: str
    change: str
    severity: str = "error"
    # Where the finding is reported when that is not the changed cell (row text, column header).
    at: tuple[str, str] | None = None

    def sheet(self) -> SheetSpec:
        value_ = BROKEN_VALUES[self.name]
        return _set(OWN[self.family](), self.row_text, self.header, value_)


BROKEN_VALUES: dict[str, Any] = {
    "B-weight": 35,
    "C-weight-before-values": 15,
    "D-20-point": 19,
    "D-20-point-rounded": 18,
    "G-section": 20,
    "F-coefficient": 20,
    "H-weight-headed-score": 12,
    "I-reference-weight": 6,
    "J-converted-twice": 9,
}
BROKEN = (
    # 权重 is the weight: a score above it is S06 (the 合计 still adds up to 100).
    Broken("B-weight", "B", "S06", "购置安可电脑台数", "得分", "得分 35 for 权重 30"),
    # 分值 stands before the values: read as the weight, a row of 15 under 产出（50分） breaks S05.
    Broken(
        "C-weight-before-values",
        "C",
        "S05",
        "★补助鱼塘面积",
        "分值",
        "分值 15 instead of 10",
        at=("★补助各类瓜果蔬菜种植面积", "一级指标"),
    ),
    # 20-point execution: 20 × 11/12 = 18.33; 19 matches no rounding (error), 18 is the exact value rounded (warning).
    Broken("D-20-point", "D", "S02", "年度财政资金总额", "得分（20分*执行率）", "执行数 11, 得分 19"),
    Broken(
        "D-20-point-rounded", "D", "S02", "年度财政资金总额", "得分（20分*执行率）", "执行数 11, 得分 18", "warning"
    ),
    # Section one's weight is in its heading: 得分 20 at 95% is S02.
    Broken("G-section", "G", "S02", "资金总体", "得分", "得分 20 at 95.00%"),
    # 指标得分 = 指标权重 × 得分系数: 20 × 95% = 19, written 20.
    Broken("F-coefficient", "F", "S17", "统计数据发布及时率", "指标得分（分）", "指标得分 20 at 得分系数 95%"),
    # The weight column is headed 得分 and the score 自评得分: 12 of a weight of 10 is S06.
    Broken("H-weight-headed-score", "H", "S06", "绩效目标合理性", "自评得分", "自评得分 12 for 得分 (weight) 10"),
    # 参考分值 is the weight: 6 of 5 is S06.
    Broken("I-reference-weight", "I", "S06", "立项依据充分性", "得分", "得分 6 for 参考分值 5"),
    # 单项指标得分 30 is already out of the 指标分值 30; a 折算得分 of 30 × 30% = 9 counts the weight twice.
    Broken("J-converted-twice", "J", "S17", "养护道路长度", "单项指标折算得分", "单项指标得分 30, 折算得分 9"),
)


def locate(sheet: SheetSpec, row_text: str, header: str) -> tuple[int, int]:
    """(row, col) of the cell in the row holding `row_text`, in the column headed `header` above it."""
    row = next(i for i, r in enumerate(sheet.rows, start=1) if row_text in r)
    col = next(
        c
        for r in reversed(sheet.rows[: row - 1])
        for c, v in enumerate(r, start=1)
        if isinstance(v, str) and v.replace("\n", "") == header
    )
    return row, col


def broken_sheet(case: Broken) -> SheetSpec:
    sheet = case.sheet()
    if case.name == "J-converted-twice":
        sheet = _set(sheet, "养护道路长度", "单项指标得分", 30)
    if case.family == "D":
        sheet = _set(sheet, "年度财政资金总额", "执行数（B）", 11)
        sheet = _set(sheet, "年度财政资金总额", "执行率（B/A）", "91.67%")
    return sheet


def own_i() -> SheetSpec:
    """City 项目决策/管理/产出/效益 form: 参考分值 is the weight, 预算执行率 a grid row under 项目管理."""
    sheet = SheetSpec("项目自评")
    width = 8
    r = sheet.add("2023年度银川市老旧小区道路改造项目绩效自评表")
    sheet.merge(r, 1, r, width)
    r = sheet.add("项目名称", "老旧小区道路改造项目")
    sheet.merge(r, 2, r, width)
    sheet.add("主管部门", "银川市住房和城乡建设局", None, None, "实施单位", "银川市市政管理处")
    top = sheet.add("资金情况\n（万元）", None, "全年预算数", "全年执行数", "执行率")
    sheet.add(None, "年度资金总额", 200, 190, "95.00%")
    sheet.merge(top, 1, top + 1, 1)
    header = ("一级指标", "二级指标", "三级指标", "参考分值", "指标值（A）", "全年实际值（B）", "得分", "偏差原因分析")
    rows = (
        ("项目决策（10分）", "决策依据", "立项依据充分性", 5, "充分", "充分", 5, None),
        ("项目决策（10分）", "绩效目标", "绩效目标明确性", 5, "明确", "明确", 5, None),
        ("项目管理（25分）", "资金管理", "预算执行率", 10, "100%", "95%", 9.5, "部分工程款待决算审计后支付。"),
        ("项目管理（25分）", "资金使用", "资金使用合规性", 10, "合规", "合规", 10, None),
        ("项目管理（25分）", "组织实施", "管理制度健全性", 5, "健全", "健全", 5, None),
        ("项目产出（30分）", "数量指标", "改造道路长度", 15, "≥10公里", "10.5公里", 15, None),
        ("项目产出（30分）", "质量指标", "工程验收合格率", 15, "100%", "100%", 15, None),
        ("项目效益（35分）", "社会效益", "居民出行条件", 25, "改善", "改善", 25, None),
        ("项目效益（35分）", "满意度", "居民满意度", 10, "≥90%", "94%", 10, None),
    )
    _grid(sheet, header, rows, lead=None)
    r = sheet.add("总分", None, None, 100, None, None, 99.5)
    sheet.merge(r, 1, r, 3)
    return sheet


_CHONGQING_WIDTH = 10


def _chongqing_head(unit: str, score: float, contact: str, funds: tuple[float, ...]) -> SheetSpec:
    """A Chongqing 部门整体绩效自评表 down to its indicator grid's header: title, unit, funds."""
    sheet = SheetSpec("自评表")
    r = sheet.add(f"{unit}2023年度部门整体绩效自评表")
    sheet.merge(r, 1, r, _CHONGQING_WIDTH)
    sheet.add("部门名称", unit, None, None, None, None, "自评总分（分）", score)
    sheet.add("主管部门", "重庆市某区人民政府", None, None, None, None, "部门联系人", contact)
    sheet.add("年初预算数", "全年（调整）预算数", "全年执行数", "执行率（%）", "执行率权重", "执行率得分（分）")
    sheet.add(*funds)
    header = (
        "指标名称", "计量单位", "指标性质（定量/定性）", "年初指标值", "调整指标值", "全年完成值",
        "得分系数（%）", "指标权重（分）", "指标得分（分）", "是否核心指标",
    )  # fmt: skip
    sheet.add(*header)
    return sheet


def own_f() -> SheetSpec:
    """Chongqing 部门整体绩效自评表: 指标名称 grid, 得分系数 × 指标权重, 调整指标值, 自评总分 in the header."""
    sheet = _chongqing_head("重庆市某区统计局", 98.5, "张三", (500, 520, 494, 95, 10, 9.5))
    for row in (
        ("统计调查项目完成数", "项", "定量", "≥12", None, 12, 100, 30, 30, "是"),
        ("数据质量抽查合格率", "%", "定量", "≥98", "≥99", 99, 100, 20, 20, "是"),
        ("统计数据发布及时率", "%", "定量", "100", None, 95, 95, 20, 19, "否"),
        ("统计服务对象满意度", "%", "定量", "≥90", None, 93, 100, 10, 10, "否"),
        ("统计法治宣传", "/", "定性", "有效开展", None, "有效开展", 100, 10, 10, "否"),
    ):
        sheet.add(*row)
    return sheet


def own_j() -> SheetSpec:
    """Budget-system export: numbered sections, "label：amount" cells, 指标分值 | 符号/值/单位 | 折算得分."""
    sheet = SheetSpec("预算项目绩效自评表")
    width = 12
    r = sheet.add("2023年度预算项目绩效自评表")
    sheet.merge(r, 1, r, width)
    r = sheet.add("一、基本情况")
    sheet.merge(r, 1, r, width)
    sheet.add(
        "项目名称",
        "农村道路养护补助",
        None,
        None,
        "主管部门",
        "某县交通运输局",
        None,
        None,
        "实施单位",
        "某县公路管理站",
    )
    r = sheet.add("二、预算执行情况（万元）")
    sheet.merge(r, 1, r, width)
    sheet.add(
        "预算安排情况（调整后）：120.00",
        None,
        None,
        "资金到位情况：120.00",
        None,
        None,
        "资金执行情况：114.00",
        None,
        None,
        "预算执行进度（%）：95.00",
    )
    r = sheet.add("三、目标完成情况")
    sheet.merge(r, 1, r, width)
    sheet.add("年度目标", "完成农村道路养护30公里", None, None, None, None, "完成情况", "完成养护31公里")
    r = sheet.add("四、年度绩效指标完成情况")
    sheet.merge(r, 1, r, width)
    top = sheet.add(
        "一级指标", "二级指标", "三级指标", "指标分值", "预期指标值", None, None, "单项指标实际完成值",
        "单项指标完成情况", "自评得分",
    )  # fmt: skip
    sheet.add(
        None,
        None,
        None,
        None,
        "符号",
        "值",
        "单位（文字描述）",
        None,
        None,
        "单项指标得分",
        "权重占比（%）",
        "单项指标折算得分",
    )
    for c in (1, 2, 3, 4, 8, 9):
        sheet.merge(top, c, top + 1, c)
    sheet.merge(top, 5, top, 7)
    sheet.merge(top, 10, top, 12)
    for row in (
        ("产出指标", "数量指标", "养护道路长度", 30, "≥", 30, "公里", 31, "完成", 100, 30, 30),
        ("产出指标", "质量指标", "养护路段优良率", 20, "≥", 85, "%", 88, "完成", 100, 20, 20),
        ("产出指标", "时效指标", "资金执行进度", 10, "≥", 90, "%", 95, "完成", 100, 10, 10),
        ("效益指标", "社会效益指标", "群众出行条件", 30, "定性", "改善", None, "改善", "完成", 100, 30, 30),
        ("满意度指标", "服务对象满意度指标", "沿线群众满意度", 10, "≥", 90, "%", 92, "完成", 100, 10, 10),
    ):
        sheet.add(*row)
    r = sheet.add("总分", None, None, 100, None, None, None, None, None, None, None, 100)
    sheet.merge(r, 1, r, 3)
    return sheet


def own_h() -> SheetSpec:
    """Old Hunan scoring sheet: 投入/过程/产出/效果, the weight column headed 得分, the score 自评得分."""
    sheet = SheetSpec("评分表")
    width = 7
    r = sheet.add("2018年度部门整体支出绩效自评表")
    sheet.merge(r, 1, r, width)
    sheet.add("单位名称：某县农业局")
    header = ("一级指标", "二级指标", "三级指标", "得分", "指标说明", "评分标准", "自评得分")
    rows = (
        ("投入（20分）", "目标设定", "绩效目标合理性", 10, "目标是否符合部门职能", "符合得满分", 10),
        ("投入（20分）", "预算配置", "在职人员控制率", 10, "≤100%", "≤100%得满分", 10),
        ("过程（20分）", "预算执行", "预算执行率", 10, "执行数/预算数", "按比例得分", 9),
        ("过程（20分）", "预算管理", "管理制度健全性", 10, "制度是否健全", "健全得满分", 10),
        ("产出（40分）", "职责履行", "实际完成率", 20, "完成数/计划数", "按比例得分", 20),
        ("产出（40分）", "职责履行", "质量达标率", 20, "达标数/完成数", "按比例得分", 20),
        ("效果（20分）", "履职效益", "社会效益", 10, "是否达到预期", "达到得满分", 10),
        ("效果（20分）", "满意度", "服务对象满意度", 10, "≥90%", "按比例得分", 10),
    )
    _grid(sheet, header, rows, lead=None)
    r = sheet.add("总分", None, None, 100, None, None, 99)
    sheet.merge(r, 1, r, 3)
    return sheet


OWN.update({"F": own_f, "H": own_h, "I": own_i, "J": own_j})


def own_c_without_execution() -> SheetSpec:
    """The 衔接资金 variant without an execution score: 产出 40 / 效益 40 / 满意度 20, 项目总得分 in the title line."""
    sheet = SheetSpec("绩效目标自评表")
    width = 9
    r = sheet.add("绩效目标自评表（2023年度）", None, None, None, None, None, "项目总得分：98")
    sheet.merge(r, 1, r, 6)
    r = sheet.add("项目名称", "某村光伏发电帮扶项目")
    sheet.merge(r, 2, r, width)
    sheet.add("主管部门", "某县乡村振兴局", None, None, "实施单位", "某镇人民政府")
    top = sheet.add("资金情况\n（万元）", None, "全年预算数（A）", "全年执行数（B）", "执行率（B/A）")
    sheet.add(None, "年度资金总额：", 50, 50, "100%")
    sheet.add(None, "其中：本年财政拨款", 50, 50, "100%")
    sheet.merge(top, 1, top + 2, 1)
    r = sheet.add("年度总体目标", "年初设定目标", None, None, None, "年度总体目标完成情况综述")
    sheet.add(None, "建成村级光伏电站1座", None, None, None, "已建成并网发电")
    sheet.merge(r, 1, r + 1, 1)
    header = (
        "一级\n指标",
        "二级指标",
        "三级指标",
        "分值",
        "年度指标值",
        "全年实际值",
        "得分",
        "未完成原因及拟采取的改进措施",
    )
    rows = (
        ("产出指标（40分）", "数量指标", "★建成光伏电站装机容量", 20, "≥100千瓦", "100千瓦", 20, None),
        ("产出指标（40分）", "质量指标", "验收合格率", 20, "100%", "100%", 20, None),
        ("效益指标（40分）", "经济效益指标", "村集体年增收", 40, "≥8万元", "7.6万元", 38, "光照少于往年。"),
        ("满意度指标（20分）", "服务对象满意度指标", "脱贫户满意度", 20, "≥90%", "95%", 20, None),
    )
    _grid(sheet, header, rows)
    return sheet


def own_a_nested_funds() -> SheetSpec:
    """National project form whose funds lines have their own "其中" rows: 当年财政拨款 / 其中：中央资金 /
    省级资金 / 市县资金, 其他资金 / 其中：社会投入资金. The total's parts add up; each breakdown stays
    within its line."""
    funds = (
        ("年度资金总额", "500", "520", "507", "10", "97.50%", "9.75"),
        ("其中：当年财政拨款", "480", "500", "490"),
        ("其中：中央资金", "300", "300", "295"),
        ("省级资金", "120", "120", "118"),
        ("市县资金", "60", "80", "77"),
        ("上年结转资金", "0", "0", "0"),
        ("其他资金", "20", "20", "17"),
        ("其中：社会投入资金", "15", "15", "12"),
    )
    columns = ("年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分")
    indicators = (
        ("产出指标", "数量指标", "新建高标准农田面积", "≥2万亩", "2.1万亩", "20", "20"),
        ("产出指标", "质量指标", "工程验收合格率", "100%", "100%", "15", "15"),
        ("产出指标", "时效指标", "项目完工时间", "12月底前", "12月", "10", "10"),
        ("产出指标", "成本指标", "亩均投资", "≤2600元", "2500元", "5", "5"),
        ("效益指标", "经济效益指标", "亩均增产粮食", "≥50公斤", "55公斤", "15", "15"),
        ("效益指标", "社会效益指标", "带动农户增收", "增加", "增加", "15", "15"),
        ("满意度指标", "服务对象满意度指标", "受益农户满意度", "≥90%", "95%", "10", "10"),
    )
    grid = ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分")
    data = {
        "form_title_as_printed": "项目支出绩效自评表（2023年度）",
        "project": "2023年高标准农田建设项目",
        "department": "某县农业农村局",
        "funds": [{"row": row[0], **dict(zip(columns, row[1:], strict=False))} for row in funds],
        "年度总体目标": {"预期目标": "新建高标准农田2万亩。", "实际完成情况": "新建高标准农田2.1万亩。"},
        "indicators": [dict(zip(grid, row, strict=True)) for row in indicators],
    }
    sheet = national_project(data, "项目自评表")
    r = sheet.add("总分", None, None, None, None, None, 100, 99.75)
    sheet.merge(r, 1, r, 6)
    return sheet


def own_g_three_sections() -> SheetSpec:
    """Section-scored 评分表 with a third section under its own header row (一、20 / 二、60 / 三、20), 一级
    labels written on every row instead of merged."""
    sheet = SheetSpec("评分表")
    width = 9
    r = sheet.add("2023年部门整体绩效评价指标体系评分表")
    sheet.merge(r, 1, r, width)
    r = sheet.add("单位名称：某县文化馆")
    sheet.merge(r, 1, r, width)
    r = sheet.add("一、当年预算执行情况（20分）")
    sheet.merge(r, 1, r, width)
    sheet.add(
        "一级指标", "二级指标", "预算数\n（万元）", "执行数\n（万元）", "预算执行率", "分值", "得分", "指标解释",
        "评分标准",
    )  # fmt: skip
    for row in (
        ("资金总体", 300, 297, "99.00%", 20, 19.8),
        ("基本支出", 200, 199, None, None, None),
        ("项目支出", 100, 98, None, None, None),
        ("其他", None, None, None, None, None),
    ):
        sheet.add("当年预算执行情况（20）", *row)
    header = ("一级指标", "二级指标", "三级指标", "指标值", "完成值", "分值", "得分", "指标解释", "评分标准")
    r = sheet.add("二、整体绩效目标实现情况（60分）")
    sheet.merge(r, 1, r, width)
    sheet.add(*header)
    for row in (
        ("产出（30分）", "数量", "群众文化活动场次", "≥50场", "56场", 15, 15),
        ("产出（30分）", "质量", "活动验收合格率", "100%", "100%", 15, 15),
        ("效益（20分）", "社会效益", "群众参与人次", "≥2万人次", "2.3万人次", 20, 20),
        ("满意度（10分）", "服务对象满意度", "群众满意度", "≥90%", "94%", 10, 10),
    ):
        sheet.add(*row)
    r = sheet.add("三、部门管理（20分）")
    sheet.merge(r, 1, r, width)
    sheet.add(*header)
    for row in (
        ("部门管理（20分）", "资金管理", "资金使用合规性", "合规", "合规", 10, 10),
        ("部门管理（20分）", "资产管理", "资产管理规范性", "规范", "规范", 10, 10),
    ):
        sheet.add(*row)
    r = sheet.add("总分", None, None, None, None, 100, 99.8)
    sheet.merge(r, 1, r, 5)
    return sheet


def own_f_bands() -> SheetSpec:
    """Chongqing form whose unit states its own 得分系数 table (by completion band, not proportional): 190 of
    ≥200 (95%) takes the 90% line, 42 of ≥50 (84%) the 80% line; the note below the grid says so."""
    sheet = _chongqing_head("重庆市某区文化和旅游发展委员会", 92.5, "李四", (800, 800, 760, 95, 10, 9.5))
    width = _CHONGQING_WIDTH
    for row in (
        ("公共文化活动场次", "场", "定量", "≥200", None, 190, 90, 30, 27, "是"),
        ("文物保护单位巡查率", "%", "定量", "100", None, 100, 100, 20, 20, "是"),
        ("图书馆年接待人次", "万人次", "定量", "≥50", None, 42, 80, 20, 16, "否"),
        ("群众满意度", "%", "定量", "≥90", None, 95, 100, 10, 10, "否"),
        ("文旅融合发展", "/", "定性", "有效推进", None, "有效推进", 100, 10, 10, "否"),
    ):
        sheet.add(*row)
    r = sheet.add(
        "得分系数说明：完成率100%及以上的，得分系数为100%；完成率90%（含）至100%的，得分系数为90%；"
        "完成率80%（含）至90%的，得分系数为80%；完成率60%（含）至80%的，得分系数为60%；完成率60%以下的，得分系数为0。"
    )
    sheet.merge(r, 1, r, width)
    return sheet


# Consistent forms of a family's variant, written as families/<name>-consistent.xlsx beside OWN's.
VARIANTS = {
    "F-bands": own_f_bands,
    "C-without-execution": own_c_without_execution,
    "A-nested-funds": own_a_nested_funds,
    "G-three-sections": own_g_three_sections,
}
