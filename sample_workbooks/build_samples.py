#!/usr/bin/env python3
"""Build perf-eval's sample workbooks from literal data.

Run ``python sample_workbooks/build_samples.py [OUTPUT_DIR]``. Without an
argument the files are written next to this script:

- ``lusong-2023-seed.xlsx``: the seed report's 附件2 基础数据表 and 附件3
  自评表 as a filer's workbook, real deviation included (2022年决算数 项目支出
  324.12 against projects summing to 200.16; 填报日期 blank).
- ``lusong-2023-corrected.xlsx``: the seed with those two things fixed.
- ``project-2023-clean.xlsx`` and ``project-2023-province-split.xlsx``:
  项目支出绩效自评表, national template and a provincial variant that splits
  年度指标值 into 指标性质 | 指标值 | 度量单位.
- ``split-2023-basic.xlsx`` and ``split-2023-self-eval.xlsx``: one unit's two
  forms in two files.
- ``broken/<RULE>.xlsx``: one workbook per rule of docs/domain.md §4, each a
  clean sample plus one minimal edit, and ``broken/manifest.json`` saying
  where each finding must be reported.

Every sample is a frozen description (``Book``); variants are the base plus
small edits; one layout function per form turns a description into cells,
merges and named anchors, and the anchors give the manifest its addresses.
Output is byte-identical from run to run: fixed document properties and
fixed zip entry timestamps.
"""

from __future__ import annotations

import io
import json
import math
import re
import sys
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import TypeVar

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.merge import MergedCellRange

sys.path.insert(0, str(Path(__file__).resolve().parent))
import family_samples

# ---------------------------------------------------------------------------
# Cell values


@dataclass(frozen=True)
class Num:
    """A number with an explicit display format, e.g. a rate stored as 0.9 and shown as 90.00%."""

    value: float
    number_format: str


@dataclass(frozen=True)
class Formula:
    """A formula; openpyxl stores it without a cached value, like a file no spreadsheet app has saved."""

    text: str


# str is written as text even when it looks like a number (" 0 ") or a formula ("=100%").
CellValue = str | int | float | Num | Formula | None

AMOUNT_FORMAT = "0.00"


# ---------------------------------------------------------------------------
# Form descriptions


class HeadingRole(Enum):
    ANNEX = "annex"  # "附件2"
    TITLE = "title"
    SUBTITLE = "subtitle"  # "（2023年度）"


@dataclass(frozen=True)
class Heading:
    text: str
    role: HeadingRole


@dataclass(frozen=True)
class AmountLine:
    """A row of the 经费控制情况 block: label and its 上年决算 / 本年预算 / 本年决算 cells."""

    label: str
    amounts: tuple[CellValue, ...]


@dataclass(frozen=True)
class BasicDataForm:
    """部门整体支出绩效评价基础数据表."""

    sheet_name: str
    headings: tuple[Heading, ...]
    staff_header: str
    staff_columns: tuple[str, str, str]
    staff_values: tuple[CellValue, ...]
    funds_header: str
    year_columns: tuple[str, str, str]
    lines: tuple[AmountLine, ...]
    building_header: str
    building_columns: tuple[str, ...]
    building_values: tuple[CellValue, ...]
    thrift: tuple[str, str]
    note: str | None
    footer: str
    # Columns each amount spans: the seed's template merges two per amount.
    column_span: int
    widths: tuple[float, ...]


@dataclass(frozen=True)
class FundsRow:
    """A funds row: one value per FundsBlock column (年初预算数 … 得分)."""

    label: str
    values: tuple[CellValue, ...]


@dataclass(frozen=True)
class FundsBlock:
    label: str
    columns: tuple[str, ...]
    rows: tuple[FundsRow, ...]
    # 按收入性质分 / 按支出性质分 as (left, right) text cells, "label：amount" in one cell.
    by_nature: tuple[tuple[CellValue, CellValue], ...] = ()


@dataclass(frozen=True)
class Goals:
    label: str
    headers: tuple[str, str]
    texts: tuple[str, str]


@dataclass(frozen=True)
class Indicator:
    """A 三级指标 row; `target` holds one cell, or three in the split 指标性质 | 指标值 | 度量单位 layout."""

    name: str
    target: tuple[CellValue, ...]
    actual: CellValue
    weight: CellValue
    score: CellValue
    reason: CellValue = None


@dataclass(frozen=True)
class SubDomain:
    """A 二级指标 and its rows."""

    name: str
    indicators: tuple[Indicator, ...]


@dataclass(frozen=True)
class Domain:
    """An 一级指标 (its declared weight is part of the name: "产出指标\\n(40分)")."""

    name: str
    subdomains: tuple[SubDomain, ...]


@dataclass(frozen=True)
class IndicatorGrid:
    label: str
    # 一级指标, 二级指标, 三级指标, target column(s), 实际完成值, 分值, 得分, 偏差原因分析及改进措施.
    headers: tuple[str, ...]
    domains: tuple[Domain, ...]

    @property
    def target_count(self) -> int:
        return len(self.headers) - 7


@dataclass(frozen=True)
class TotalRow:
    label: str
    weight: CellValue
    score: CellValue
    reason: CellValue = None


@dataclass(frozen=True)
class GradeRow:
    """A stated grade; without `value` the label cell holds the whole text ("自评等级：良")."""

    label: str
    value: CellValue = None


@dataclass(frozen=True)
class EvalForm:
    """部门整体支出绩效自评表 or 项目支出绩效自评表: they share funds block, goals and grid."""

    sheet_name: str
    headings: tuple[Heading, ...]
    # Rows of (label, value) pairs above the funds block: 单位名称; 项目名称; 主管部门 + 实施单位.
    fields: tuple[tuple[tuple[str, CellValue], ...], ...]
    funds: FundsBlock
    goals: Goals
    grid: IndicatorGrid
    total: TotalRow
    grade: GradeRow | None
    footer: str | None
    widths: tuple[float, ...]


@dataclass(frozen=True)
class PlainSheet:
    """A sheet that is no form at all."""

    sheet_name: str
    rows: tuple[tuple[CellValue, ...], ...]
    widths: tuple[float, ...]


Sheet = BasicDataForm | EvalForm | PlainSheet


@dataclass(frozen=True)
class Book:
    sheets: tuple[Sheet, ...]


# ---------------------------------------------------------------------------
# Layout: description -> cells, merges and anchors

AnchorKey = tuple[str | int, ...]


class Style(Enum):
    ANNEX = "annex"
    TITLE = "title"
    SUBTITLE = "subtitle"
    HEADER = "header"  # headings inside the table
    LABEL = "label"  # row labels, left-aligned so that leading spaces show as indentation
    TEXT = "text"  # free text
    VALUE = "value"  # amounts and short values
    NOTE = "note"  # lines under the table, unframed


FONT_NAME = "宋体"
_THIN = Side(style="thin")
_FRAME = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


@dataclass(frozen=True)
class Look:
    font: Font
    alignment: Alignment
    framed: bool


LOOKS: dict[Style, Look] = {
    Style.ANNEX: Look(Font(name=FONT_NAME, size=12, bold=True), Alignment(vertical="center"), False),
    Style.TITLE: Look(
        Font(name=FONT_NAME, size=16, bold=True),
        Alignment(horizontal="center", vertical="center", wrap_text=True),
        False,
    ),
    Style.SUBTITLE: Look(Font(name=FONT_NAME, size=11), Alignment(horizontal="center", vertical="center"), False),
    Style.HEADER: Look(
        Font(name=FONT_NAME, size=10, bold=True),
        Alignment(horizontal="center", vertical="center", wrap_text=True),
        True,
    ),
    Style.LABEL: Look(Font(name=FONT_NAME, size=10), Alignment(vertical="center", wrap_text=True), True),
    Style.TEXT: Look(
        Font(name=FONT_NAME, size=10), Alignment(horizontal="left", vertical="center", wrap_text=True), True
    ),
    Style.VALUE: Look(
        Font(name=FONT_NAME, size=10),
        Alignment(horizontal="center", vertical="center", wrap_text=True),
        True,
    ),
    Style.NOTE: Look(Font(name=FONT_NAME, size=10), Alignment(vertical="center", wrap_text=True), False),
}

LINE_HEIGHT = 13.5  # points per wrapped line of 10 pt 宋体
ROW_HEIGHT = 15.0  # the default row height
HEADING_HEIGHTS = {HeadingRole.ANNEX: 20.0, HeadingRole.TITLE: 36.0, HeadingRole.SUBTITLE: 20.0}


@dataclass
class SheetLayout:
    """Cells of one sheet by (row, column), with merges and anchors naming the cells of interest."""

    name: str
    widths: tuple[float, ...]
    landscape: bool = False
    cells: dict[tuple[int, int], tuple[CellValue, Style, str]] = field(default_factory=dict)
    merges: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    heights: dict[int, float] = field(default_factory=dict)
    anchors: dict[AnchorKey, tuple[int, int]] = field(default_factory=dict)
    _taken: set[tuple[int, int]] = field(default_factory=set)

    def put(
        self,
        row: int,
        col: int,
        value: CellValue,
        style: Style,
        *,
        to_row: int | None = None,
        to_col: int | None = None,
        number_format: str = "General",
        anchor: AnchorKey | None = None,
    ) -> None:
        last_row, last_col = to_row or row, to_col or col
        span = {(r, c) for r in range(row, last_row + 1) for c in range(col, last_col + 1)}
        if span & self._taken:
            raise ValueError(f"{self.name}: cells overlap at {cell_name(row, col)}")
        self._taken |= span
        if isinstance(value, Num):
            number_format = value.number_format
        elif not isinstance(value, int | float):
            number_format = "General"
        self.cells[row, col] = (value, style, number_format)
        if (last_row, last_col) != (row, col):
            self.merges[row, col] = (last_row, last_col)
        if anchor is not None:
            if anchor in self.anchors:
                raise ValueError(f"{self.name}: anchor {anchor} used twice")
            self.anchors[anchor] = (row, col)

    def cell_of(self, query: AnchorKey) -> str:
        """The address of the one anchor matching `query`; text parts match as prefixes of the key text."""

        def matches(key: AnchorKey) -> bool:
            return len(key) == len(query) and all(
                k == q or (isinstance(k, str) and isinstance(q, str) and k.startswith(key_text(q)))
                for k, q in zip(key, query, strict=True)
            )

        hits = [position for key, position in self.anchors.items() if matches(key)]
        if len(hits) != 1:
            raise LookupError(f"{self.name}: {len(hits)} anchors match {query}")
        return cell_name(*hits[0])


def cell_name(row: int, col: int) -> str:
    return f"{get_column_letter(col)}{row}"


def key_text(text: str) -> str:
    """Label text as anchors and edits compare it: without any whitespace (U+3000 included)."""
    return re.sub(r"\s+", "", text)


def put_headings(sheet: SheetLayout, headings: Sequence[Heading], last_col: int, row: int) -> int:
    styles = {HeadingRole.ANNEX: Style.ANNEX, HeadingRole.TITLE: Style.TITLE, HeadingRole.SUBTITLE: Style.SUBTITLE}
    for index, heading in enumerate(headings):
        to_col = 2 if heading.role is HeadingRole.ANNEX else last_col
        sheet.put(row, 1, heading.text, styles[heading.role], to_col=to_col, anchor=("heading", index))
        sheet.heights[row] = HEADING_HEIGHTS[heading.role]
        row += 1
    return row


def layout_basic(form: BasicDataForm) -> SheetLayout:
    sheet = SheetLayout(form.sheet_name, form.widths)
    span = form.column_span
    last = 1 + 3 * span
    if len(form.widths) != last:
        raise ValueError(f"{form.sheet_name}: {len(form.widths)} widths for {last} columns")
    starts = [2 + index * span for index in range(3)]
    row = put_headings(sheet, form.headings, last, 1)

    sheet.put(row, 1, form.staff_header, Style.HEADER, to_row=row + 1)
    for index, (header, value) in enumerate(zip(form.staff_columns, form.staff_values, strict=True)):
        col = starts[index]
        sheet.put(row, col, header, Style.HEADER, to_col=col + span - 1)
        sheet.put(row + 1, col, value, Style.VALUE, to_col=col + span - 1, anchor=("staff", index))
    row += 2

    sheet.put(row, 1, form.funds_header, Style.HEADER)
    for index, header in enumerate(form.year_columns):
        sheet.put(row, starts[index], header, Style.HEADER, to_col=starts[index] + span - 1)
    for line in form.lines:
        row += 1
        sheet.put(row, 1, line.label, Style.LABEL)
        for index, (col, amount) in enumerate(zip(starts, line.amounts, strict=True)):
            sheet.put(
                row,
                col,
                amount,
                Style.VALUE,
                to_col=col + span - 1,
                number_format=AMOUNT_FORMAT,
                anchor=("line", key_text(line.label), index),
            )
    row += 1

    # The six 楼堂馆所 columns fill the table's width: one row of six, or two of three.
    per_row = last - 1
    groups = range(0, len(form.building_columns), per_row)
    sheet.put(row, 1, form.building_header, Style.HEADER, to_row=row + 2 * len(groups) - 1)
    for start in groups:
        for index in range(start, min(start + per_row, len(form.building_columns))):
            col = 2 + index - start
            sheet.put(row, col, form.building_columns[index], Style.HEADER)
            sheet.put(row + 1, col, form.building_values[index], Style.VALUE, anchor=("building", index))
        row += 2

    sheet.put(row, 1, form.thrift[0], Style.HEADER)
    sheet.put(row, 2, form.thrift[1], Style.TEXT, to_col=last, anchor=("thrift",))
    row += 1
    if form.note is not None:
        sheet.put(row, 1, form.note, Style.NOTE, to_col=last)
        row += 1
    sheet.put(row, 1, form.footer, Style.NOTE, to_col=last, anchor=("footer",))
    fit_heights(sheet)
    return sheet


def layout_eval(form: EvalForm) -> SheetLayout:
    grid = form.grid
    last = len(grid.headers) + 1
    if len(form.widths) != last:
        raise ValueError(f"{form.sheet_name}: {len(form.widths)} widths for {last} columns")
    weight_col = last - 2
    first_value = last - len(form.funds.columns) + 1
    middle = last - 4  # where the two halves of the goals and 按…性质分 rows meet
    sheet = SheetLayout(form.sheet_name, form.widths, landscape=True)
    row = put_headings(sheet, form.headings, last, 1)

    for pairs in form.fields:
        if len(pairs) == 1:
            spans = [(1, 3, 4, last)]
        else:
            spans = [(1, 3, 4, 5), (6, last - 3, last - 2, last)]
        for (label, value), (label_col, label_end, value_col, value_end) in zip(pairs, spans, strict=True):
            sheet.put(row, label_col, label, Style.HEADER, to_col=label_end)
            sheet.put(row, value_col, value, Style.TEXT, to_col=value_end, anchor=("field", key_text(label)))
        row += 1

    funds = form.funds
    block_end = row + len(funds.rows) + len(funds.by_nature)
    sheet.put(row, 1, funds.label, Style.HEADER, to_row=block_end)
    sheet.put(row, 2, None, Style.HEADER, to_col=first_value - 1)
    for index, header in enumerate(funds.columns):
        sheet.put(row, first_value + index, header, Style.HEADER)
    for funds_row in funds.rows:
        row += 1
        sheet.put(row, 2, funds_row.label, Style.LABEL, to_col=first_value - 1)
        for index, value in enumerate(funds_row.values):
            sheet.put(
                row,
                first_value + index,
                value,
                Style.VALUE,
                number_format=AMOUNT_FORMAT if index < 3 else "General",
                anchor=("funds", key_text(funds_row.label), index),
            )
    for left, right in funds.by_nature:
        row += 1
        for value, (col, to_col) in ((left, (2, middle)), (right, (middle + 1, last))):
            anchor = ("nature", key_text(value)) if isinstance(value, str) else None
            sheet.put(row, col, value, Style.LABEL, to_col=to_col, anchor=anchor)
    row += 1

    goals = form.goals
    sheet.put(row, 1, goals.label, Style.HEADER, to_row=row + 1)
    for header, text, (col, to_col) in zip(goals.headers, goals.texts, ((2, middle), (middle + 1, last)), strict=True):
        sheet.put(row, col, header, Style.HEADER, to_col=to_col)
        sheet.put(row + 1, col, text, Style.TEXT, to_col=to_col, anchor=("goal", key_text(header)))
    row += 2

    row = put_grid(sheet, grid, row)

    total = form.total
    sheet.put(row, 1, total.label, Style.HEADER, to_col=weight_col - 1)
    sheet.put(row, weight_col, total.weight, Style.VALUE, anchor=("total", "weight"))
    sheet.put(row, weight_col + 1, total.score, Style.VALUE, anchor=("total", "score"))
    sheet.put(row, last, total.reason, Style.TEXT, anchor=("total", "reason"))
    row += 1
    if form.grade is not None:
        if form.grade.value is None:
            sheet.put(row, 1, form.grade.label, Style.LABEL, to_col=last, anchor=("grade",))
        else:
            sheet.put(row, 1, form.grade.label, Style.HEADER, to_col=weight_col - 1)
            sheet.put(row, weight_col, form.grade.value, Style.VALUE, to_col=last, anchor=("grade",))
        row += 1
    if form.footer is not None:
        sheet.put(row, 1, form.footer, Style.NOTE, to_col=last, anchor=("footer",))
    fit_heights(sheet)
    return sheet


# Anchor names of the cells right of 三级指标: the target cell(s), then the results.
TARGET_FIELDS = {1: ("target",), 3: ("nature", "target", "unit")}
RESULT_FIELDS = ("actual", "weight", "score", "reason")


def put_grid(sheet: SheetLayout, grid: IndicatorGrid, row: int) -> int:
    """Write the indicator grid from `row`; return the row after it."""
    target_fields = TARGET_FIELDS[grid.target_count]
    rows = sum(len(sub.indicators) for domain in grid.domains for sub in domain.subdomains)
    sheet.put(row, 1, grid.label, Style.HEADER, to_row=row + rows)
    for index, header in enumerate(grid.headers):
        sheet.put(row, 2 + index, header, Style.HEADER)
    row += 1
    for domain in grid.domains:
        domain_rows = sum(len(sub.indicators) for sub in domain.subdomains)
        sheet.put(
            row, 2, domain.name, Style.HEADER, to_row=row + domain_rows - 1, anchor=("domain", key_text(domain.name))
        )
        for sub in domain.subdomains:
            sheet.put(row, 3, sub.name, Style.HEADER, to_row=row + len(sub.indicators) - 1)
            for indicator in sub.indicators:
                if len(indicator.target) != grid.target_count:
                    raise ValueError(f"{indicator.name}: {len(indicator.target)} target cells")
                name = key_text(indicator.name)
                sheet.put(row, 4, indicator.name, Style.LABEL, anchor=("indicator", name, "name"))
                values = (*indicator.target, indicator.actual, indicator.weight, indicator.score, indicator.reason)
                for offset, (value, field_name) in enumerate(
                    zip(values, (*target_fields, *RESULT_FIELDS), strict=True)
                ):
                    style = Style.TEXT if field_name == "reason" else Style.VALUE
                    sheet.put(row, 5 + offset, value, style, anchor=("indicator", name, field_name))
                row += 1
    return row


def layout_plain(plain: PlainSheet) -> SheetLayout:
    sheet = SheetLayout(plain.sheet_name, plain.widths)
    for row, values in enumerate(plain.rows, start=1):
        for col, value in enumerate(values, start=1):
            sheet.put(row, col, value, Style.HEADER if row == 1 else Style.VALUE)
    return sheet


def layout(sheet: Sheet) -> SheetLayout:
    if isinstance(sheet, BasicDataForm):
        return layout_basic(sheet)
    if isinstance(sheet, EvalForm):
        return layout_eval(sheet)
    return layout_plain(sheet)


def text_width(text: str) -> float:
    """Width in column units: a CJK character is about two digits wide."""
    return sum(2.0 if unicodedata.east_asian_width(ch) in "WF" else 1.05 for ch in text)


def line_count(text: str, width: float) -> int:
    usable = max(width - 1.0, 1.0)
    return sum(max(1, math.ceil(text_width(part) / usable)) for part in text.split("\n"))


def fit_heights(sheet: SheetLayout) -> None:
    """Give wrapped text the row height it needs: Excel does not grow rows of a written file by itself."""
    merged_down: list[tuple[int, int, float]] = []
    for (row, col), (value, style, _) in sorted(sheet.cells.items()):
        if not isinstance(value, str) or style in (Style.TITLE, Style.ANNEX, Style.SUBTITLE):
            continue
        to_row, to_col = sheet.merges.get((row, col), (row, col))
        width = sum(sheet.widths[c - 1] for c in range(col, to_col + 1))
        needed = line_count(value, width) * LINE_HEIGHT + 3
        if to_row == row:
            if needed > ROW_HEIGHT:
                sheet.heights[row] = max(sheet.heights.get(row, ROW_HEIGHT), needed)
        else:
            merged_down.append((row, to_row, needed))
    # A cell merged down grows the last row it spans when the rows together are too short.
    for row, to_row, needed in merged_down:
        have = sum(sheet.heights.get(r, ROW_HEIGHT) for r in range(row, to_row + 1))
        if needed > have:
            sheet.heights[to_row] = sheet.heights.get(to_row, ROW_HEIGHT) + needed - have


# ---------------------------------------------------------------------------
# Rendering and deterministic saving

FIXED_TIME = datetime(2024, 1, 1)
ZIP_TIME = (2024, 1, 1, 0, 0, 0)


def render(book: Book) -> tuple[Workbook, list[SheetLayout]]:
    workbook = Workbook()
    workbook.remove(workbook.active)
    styles = add_named_styles(workbook)
    layouts = [layout(sheet) for sheet in book.sheets]
    for sheet in layouts:
        ws = workbook.create_sheet(sheet.name)
        for index, width in enumerate(sheet.widths, start=1):
            ws.column_dimensions[get_column_letter(index)].width = width
        for (row, col), (value, style, number_format) in sorted(sheet.cells.items()):
            to_row, to_col = sheet.merges.get((row, col), (row, col))
            # Every cell of a merged range carries the look, so that its borders show on all edges.
            for r in range(row, to_row + 1):
                for c in range(col, to_col + 1):
                    ws.cell(row=r, column=c).style = styles[style]
            cell = ws.cell(row=row, column=col)
            write_value(cell, value)
            if number_format != "General":
                cell.number_format = number_format
            if (to_row, to_col) != (row, col):
                # Registered directly: merge_cells() would restyle every edge cell, which is slow.
                ws.merged_cells.add(MergedCellRange(ws, f"{cell_name(row, col)}:{cell_name(to_row, to_col)}"))
        for row, height in sorted(sheet.heights.items()):
            ws.row_dimensions[row].height = round(height, 1)
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.orientation = "landscape" if sheet.landscape else "portrait"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.horizontalCentered = True
    return workbook, layouts


def add_named_styles(workbook: Workbook) -> dict[Style, str]:
    """One named cell style per Style: assigning a name is cheap, assigning fonts and borders is not."""
    names: dict[Style, str] = {}
    for style, look in LOOKS.items():
        named = NamedStyle(
            name=f"perf-eval {style.value}",
            font=look.font,
            alignment=look.alignment,
            border=_FRAME if look.framed else Border(),
        )
        workbook.add_named_style(named)
        names[style] = named.name
    return names


def write_value(cell: Cell, value: CellValue) -> None:
    if isinstance(value, Formula):
        cell.value = value.text
    elif isinstance(value, Num):
        cell.value = value.value
    else:
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"  # keep "=100%" as the text the filer typed, not a formula


def save(workbook: Workbook, path: Path) -> None:
    """Save with fixed properties and zip timestamps so that the same data gives the same bytes."""
    props = workbook.properties
    props.creator = props.lastModifiedBy = "perf-eval sample builder"
    props.created = props.modified = FIXED_TIME
    buffer = io.BytesIO()
    workbook.save(buffer)
    output = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                # openpyxl stamps `modified` with the time of saving.
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>2024-01-01T00:00:00Z\g<2>",
                    data,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(output.getvalue())


# ---------------------------------------------------------------------------
# Edits: small functions from a sheet description to a changed copy

Edit = Callable[[Sheet], Sheet]
Patch = Callable[[Book], Book]
T = TypeVar("T")
FormT = TypeVar("FormT", BasicDataForm, EvalForm)


def on(sheet_name: str, *edits: Edit) -> Patch:
    """Apply `edits` to the sheet named `sheet_name`."""

    def patch(book: Book) -> Book:
        names = [sheet.sheet_name for sheet in book.sheets]
        if names.count(sheet_name) != 1:
            raise LookupError(f"no single sheet {sheet_name!r} in {names}")
        sheets = []
        for sheet in book.sheets:
            if sheet.sheet_name == sheet_name:
                for edit in edits:
                    sheet = edit(sheet)
            sheets.append(sheet)
        return Book(tuple(sheets))

    return patch


def chain(*patches: Patch) -> Patch:
    def patch(book: Book) -> Book:
        for step in patches:
            book = step(book)
        return book

    return patch


def replace_sheets(*sheets: Sheet) -> Patch:
    return lambda _book: Book(sheets)


def expect(sheet: Sheet, kind: type[FormT]) -> FormT:
    if not isinstance(sheet, kind):
        raise TypeError(f"{sheet.sheet_name} is not a {kind.__name__}")
    return sheet


def expect_form(sheet: Sheet) -> BasicDataForm | EvalForm:
    if isinstance(sheet, PlainSheet):
        raise TypeError(f"{sheet.sheet_name} is not a form")
    return sheet


def find(items: Sequence[T], prefix: str, name: Callable[[T], str]) -> int:
    """Index of the one item whose name (whitespace removed) starts with `prefix`."""
    wanted = key_text(prefix)
    hits = [index for index, item in enumerate(items) if key_text(name(item)).startswith(wanted)]
    if len(hits) != 1:
        raise LookupError(f"{len(hits)} items named {prefix!r}")
    return hits[0]


def replaced(items: tuple[T, ...], index: int, item: T) -> tuple[T, ...]:
    return (*items[:index], item, *items[index + 1 :])


def set_line(label: str, column: int, value: CellValue) -> Edit:
    """Set one amount of a 经费控制情况 row (column 0 上年决算, 1 本年预算, 2 本年决算)."""

    def edit(sheet: Sheet) -> Sheet:
        form = expect(sheet, BasicDataForm)
        index = find(form.lines, label, lambda line: line.label)
        line = form.lines[index]
        amounts = replaced(line.amounts, column, value)
        return replace(form, lines=replaced(form.lines, index, replace(line, amounts=amounts)))

    return edit


def set_staff(index: int, value: CellValue) -> Edit:
    def edit(sheet: Sheet) -> Sheet:
        form = expect(sheet, BasicDataForm)
        return replace(form, staff_values=replaced(form.staff_values, index, value))

    return edit


def set_building(index: int, value: CellValue) -> Edit:
    def edit(sheet: Sheet) -> Sheet:
        form = expect(sheet, BasicDataForm)
        return replace(form, building_values=replaced(form.building_values, index, value))

    return edit


def set_heading(index: int, text: str) -> Edit:
    def edit(sheet: Sheet) -> Sheet:
        form = expect_form(sheet)
        heading = replace(form.headings[index], text=text)
        return replace(form, headings=replaced(form.headings, index, heading))

    return edit


def fill_footer_date(date: str) -> Edit:
    """Write 填报日期 into a one-cell footer, replacing the blanks the filer left."""

    def edit(sheet: Sheet) -> Sheet:
        form = expect_form(sheet)
        if form.footer is None or "填报日期：" not in form.footer:
            raise LookupError(f"{form.sheet_name}: no 填报日期 in the footer")
        return replace(form, footer=re.sub(r"填报日期：\s*", f"填报日期：{date}  ", form.footer))

    return edit


def set_funds(label: str, column: int, value: CellValue) -> Edit:
    """Set one value of a funds row (0 年初预算数, 1 全年预算数, 2 全年执行数, 3 分值, 4 执行率, 5 得分)."""

    def edit(sheet: Sheet) -> Sheet:
        form = expect(sheet, EvalForm)
        rows = form.funds.rows
        index = find(rows, label, lambda funds_row: funds_row.label)
        funds_row = replace(rows[index], values=replaced(rows[index].values, column, value))
        return replace(form, funds=replace(form.funds, rows=replaced(rows, index, funds_row)))

    return edit


def set_nature(prefix: str, text: str) -> Edit:
    """Replace the 按收入/支出性质分 cell whose text starts with `prefix`."""

    def edit(sheet: Sheet) -> Sheet:
        form = expect(sheet, EvalForm)
        cells = [value for pair in form.funds.by_nature for value in pair]
        index = find(cells, prefix, lambda value: value if isinstance(value, str) else "")
        cells[index] = text
        pairs = tuple((cells[i], cells[i + 1]) for i in range(0, len(cells), 2))
        return replace(form, funds=replace(form.funds, by_nature=pairs))

    return edit


def map_indicators(form: EvalForm, change: Callable[[tuple[Indicator, ...]], tuple[Indicator, ...]]) -> EvalForm:
    """Apply `change` to every 二级指标's rows."""
    domains = tuple(
        replace(domain, subdomains=tuple(replace(sub, indicators=change(sub.indicators)) for sub in domain.subdomains))
        for domain in form.grid.domains
    )
    return replace(form, grid=replace(form.grid, domains=domains))


def indicators_of(form: EvalForm) -> list[Indicator]:
    return [ind for domain in form.grid.domains for sub in domain.subdomains for ind in sub.indicators]


def set_indicator(name: str, **changes: CellValue) -> Edit:
    """Change fields of the 三级指标 row named `name` (a prefix); `target` sets its single target cell."""
    fields: dict[str, object] = {key: (value,) if key == "target" else value for key, value in changes.items()}

    def edit(sheet: Sheet) -> Sheet:
        form = expect(sheet, EvalForm)
        rows = indicators_of(form)
        target = rows[find(rows, name, lambda row: row.name)]
        changed = replace(target, **fields)  # type: ignore[arg-type]
        return map_indicators(form, lambda group: tuple(changed if row is target else row for row in group))

    return edit


def insert_indicator(after: str, new: Indicator) -> Edit:
    """Insert `new` below the 三级指标 row named `after`, in the same 二级指标."""

    def edit(sheet: Sheet) -> Sheet:
        form = expect(sheet, EvalForm)
        anchor = indicators_of(form)[find(indicators_of(form), after, lambda ind: ind.name)]

        def change(rows: tuple[Indicator, ...]) -> tuple[Indicator, ...]:
            return tuple(item for row in rows for item in ((row, new) if row is anchor else (row,)))

        return map_indicators(form, change)

    return edit


def rename_domain(prefix: str, name: str) -> Edit:
    def edit(sheet: Sheet) -> Sheet:
        form = expect(sheet, EvalForm)
        domains = form.grid.domains
        index = find(domains, prefix, lambda domain: domain.name)
        grid = replace(form.grid, domains=replaced(domains, index, replace(domains[index], name=name)))
        return replace(form, grid=grid)

    return edit


def set_total(*, weight: CellValue | None = None, score: CellValue | None = None) -> Edit:
    """Change the 总分 row's 分值 and/or 得分 (None leaves a cell as it is)."""

    def edit(sheet: Sheet) -> Sheet:
        form = expect(sheet, EvalForm)
        total = form.total
        if weight is not None:
            total = replace(total, weight=weight)
        if score is not None:
            total = replace(total, score=score)
        return replace(form, total=total)

    return edit


def set_grade(grade: GradeRow) -> Edit:
    return lambda sheet: replace(expect(sheet, EvalForm), grade=grade)


# ---------------------------------------------------------------------------
# Data: the seed (株洲市芦淞区财政局, 2023), as the filer typed it

ANNEX_2 = "附件2"
ANNEX_3 = "附件3"

FUNDS_COLUMNS = ("年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分")
GRID_HEADERS = (
    "一级指标",
    "二级指标",
    "三级指标",
    "年度指标值",
    "实际完成值",
    "分值",
    "得分",
    "偏差原因分析及改进措施",
)
BUILDING_COLUMNS = (
    "批复规模\n（㎡）",
    "实际规模（㎡）",
    "规模控制率",
    "预算投资（万元）",
    "实际投资（万元）",
    "投资概算控制率",
)
BASIC_NOTE = "说明：“项目支出”需要填报基本支出以外的所有项目支出情况，“公用经费”填报基本支出中的一般商品和服务支出。"


def ind(
    name: str,
    target: CellValue | tuple[CellValue, ...],
    actual: CellValue,
    weight: CellValue,
    score: CellValue,
    reason: CellValue = None,
) -> Indicator:
    return Indicator(name, target if isinstance(target, tuple) else (target,), actual, weight, score, reason)


def amounts(label: str, prior_final: CellValue, budget: CellValue, final: CellValue) -> AmountLine:
    return AmountLine(label, (prior_final, budget, final))


LUSONG_BASIC = BasicDataForm(
    sheet_name=ANNEX_2,
    headings=(
        Heading("附件2", HeadingRole.ANNEX),
        Heading("2023年度部门（单位）整体支出绩效评价基础数据表", HeadingRole.TITLE),
    ),
    staff_header="财政供养人员情况（人）",
    staff_columns=("编制数", "2023年实际在职人数", "控制率"),
    staff_values=(36, 36, "100%"),
    funds_header="经费控制情况（万元）",
    year_columns=("2022年决算数", "2023年预算数", "2023年决算数"),
    lines=(
        amounts("三公经费", 0, 0, 0),
        amounts("   1、公务用车购置和维护经费", 0, 0, 0),
        amounts("       其中：公车购置", 0, 0, 0),
        amounts("             公车运行维护", 0, 0, 0),
        amounts("   2、出国经费", 0, 0, 0),
        amounts("   3、公务接待", 0, 0, 0),
        # The seed's real deviation: the seven projects below sum to 200.16.
        amounts("项目支出：", 324.12, 125, 238.43),
        amounts("    1、财政管理专项", 46.05, 55, 65.86),
        amounts("    2、国有资产管理", 146.34, 40, 85.74),
        amounts("    3、信息化建设", 7.77, 30, 19.99),
        amounts("4、党建经费项目", "  0", " 0 ", 4.37),
        amounts("    5、经济表彰项目", " 0 ", "0  ", 0.56),
        amounts("    6、评审中心经费项目", " 0 ", "0  ", 58.67),
        amounts("    7、综合治税信息建设项目", " 0 ", "0  ", 3.24),
        amounts("公用经费", 77.45, 72.17, 101.47),
        amounts("    其中：办公经费", 1.67, 4.5, 6.52),
        amounts("          水费、电费、差旅费", 0, 0.5, 1.55),
        amounts("          会议费、培训费", 0.35, 1, 1.17),
        amounts("政府采购金额", "——", 190.17, 213.33),
        amounts("部门基本支出预算调整 ", "——", 0, 0),
    ),
    building_header="楼堂馆所控制情况\n（2023年完工项目）",
    building_columns=BUILDING_COLUMNS,
    building_values=(0, 0, 0, 0, 0, 0),
    thrift=("厉行节约保障措施", "严控预算支出\u3000"),
    note=BASIC_NOTE,
    footer="填表人：宁邵庆  填报日期：         联系电话：28580807  单位负责人：易凌云",
    column_span=2,
    widths=(32, 10.5, 10.5, 10.5, 10.5, 10.5, 10.5),
)

LUSONG_EXPECTED_GOALS = (
    "1.退休、在岗工作人员≥54人；内设机构（含业务综合股）8个；局属事业单位4个；财会监督"
    "专项行动≥6个；组织培训≥3次。2.保障财政资金及时、准确拨付，保“三保”支出，保障民生"
    "资金支出及时、准确、到位；优化财政资金配置，提高财政资金使用效率，强化财政资金监管。3."
    "2023.1-2023.12；资金拨付基本及时到位。4.通过预算政府采购、债务管理、资产"
    "监管、绩效管理、内控管理、财政监督、会计监督等工作的开展和各财政业务股室的良好运转，提高"
    "财政资金使用效率，优化财政资金配置，优化营商环境，促进辖区产业进步、经济发展，助推“三高"
    "四新”建设。"
)
LUSONG_ACTUAL_GOALS = (
    "1.退休、在岗工作人员54人；内设机构（含业务综合股）8个；局属事业单位4个；财会监督专"
    "项行动7个；组织财会监督绩效、预算绩效管理、支农惠农培训5次。2.财政资金及时、准确拨付"
    "，保“三保”支出，保障民生资金支出及时、准确、到位；优化财政资金配置，财政资金使用效率提"
    "高，财政资金监管强化。3.2023.1-2023.12；资金拨付基本及时到位。4.通过预"
    "算政府采购、债务管理、资产监管、绩效管理、内控管理、财政监督、会计监督等工作的开展和各财"
    "政业务股室的良好运转，提高财政资金使用效率，优化财政资金配置，优化营商环境，促进辖区产业"
    "进步、经济发展，助推“三高四新”建设。"
)

LUSONG_GRID = IndicatorGrid(
    label="绩\n效\n指\n标",
    headers=GRID_HEADERS,
    domains=(
        Domain(
            "产出指标\n(40分)",
            (
                SubDomain(
                    "数量指标",
                    (
                        ind("保障退休、在岗工作人员人数", "≥54人", "54人", 3, 3),
                        ind("保障内设机构（含业务综合股）正常运转数量", "8个", "8个", 3, 3),
                        ind("保障局属事业单位正常运转数量个数", "4个", "4个", 3, 3),
                        ind("财会监督专项行动", "≥6个", "7个", 3, 3),
                        ind("组织财会监督绩效、预算绩效管理、支农惠农培训次数", "≥3次", "5次", 3, 3),
                    ),
                ),
                SubDomain(
                    "质量指标",
                    (
                        ind("保障财政资金拨付", "是否及时、准确", "及时、准确", 3, 3),
                        ind("保“三保”支出，保障民生资金支出", "是否及时、准确、到位", "及时、准确、到位", 3, 3),
                        ind("财政资金配置", "是否优化", "优化", 3, 3),
                        ind("财政资金使用效率", "是否提高", "提高", 3, 3),
                        ind("财政资金监管", "是否强化", "强化", 3, 3),
                    ),
                ),
                SubDomain("时效指标", (ind("资金拨付及时到位程度", "基本及时到位", "基本及时到位", 10, 10),)),
            ),
        ),
        Domain(
            "效益指标\n（30分）",
            (
                SubDomain(
                    "经济效\n益指标",
                    (
                        ind(
                            "1.财政资金使用效率；\n2.财政资金配置\n3.营商环境\n4.辖区产业进步、经济发展\n5.“三高四新”建设",
                            "1.是否提高；\n2.是否优化；\n3.是否优化；\n4.是否促进；\n5.是否起到助推作用。",
                            "1.提高；\n2.优化；\n3.优化；\n4.促进；\n5.助推。",
                            8,
                            7,
                            "需进一步优化财政资金配置，严控各项支出。",
                        ),
                    ),
                ),
                SubDomain(
                    "社会效\n益指标",
                    (
                        ind(
                            "1.中央八项规定精神落实力度；\n2.资金使用的合理、合规性；\n3.社会稳定；\n4.百姓长治久安。",
                            "1.是否提高；\n2.是否规范；\n3.是否维持；\n4.是否保障。",
                            "1.提高；\n2.规范；\n3.维持；\n4.保障。",
                            8,
                            7,
                            "需进一步规范预算单位资金使用合理合规。",
                        ),
                    ),
                ),
                SubDomain(
                    "生态效\n益指标",
                    (
                        ind(
                            "1.辖区生态建设\n2.山青水绿、空气清新的生态环境建设。",
                            "1.是否起到促进作用；\n2.是否起到促进作用.",
                            "1.促进；\n2.促进。",
                            7,
                            6,
                            "进一步提升涉农资金及时拨付效率。",
                        ),
                    ),
                ),
                SubDomain(
                    "可持续影响指标",
                    (
                        ind(
                            "1.财政资金的可持续效益；\n2.财源建设助推财政收入高质量增长。",
                            "1.是否提高；\n2.是否强化。",
                            "1.提高；\n2.强化。",
                            7,
                            6,
                            "需进一步加强大财源建设。",
                        ),
                    ),
                ),
            ),
        ),
        Domain(
            "满意度\n指标\n（10分）",
            (
                SubDomain(
                    "服务对象满意度指标",
                    (
                        ind("公众满意度80%", "≥80%", "≥80%", 5, 5),
                        ind("农民对财政支农政策满意度", "≥90%", "≥90%", 5, 5),
                    ),
                ),
            ),
        ),
        Domain(
            "成本指标（10分）",
            (SubDomain("经济成本指标", (ind("年初预算项目支出金额", "125万元", "125万元", 10, 10),)),),
        ),
    ),
)

LUSONG_EVAL = EvalForm(
    sheet_name=ANNEX_3,
    headings=(
        Heading("附件3", HeadingRole.ANNEX),
        Heading("2023年度部门（单位）整体支出绩效自评表", HeadingRole.TITLE),
    ),
    fields=((("区级预算部门（单位）名称", "株洲市芦淞区财政局"),),),
    funds=FundsBlock(
        label="年度预\n算申请\n（万元）",
        columns=FUNDS_COLUMNS,
        rows=(FundsRow("年度资金总额", (739.03, 959.93, 959.93, 10, "100%", 10)),),
        by_nature=(
            ("按收入性质分：", "按支出性质分："),
            ("  其中：  一般公共预算：959.93", "其中：基本支出：721.5"),
            ("政府性基金拨款：", "项目支出：238.43"),
            ("纳入专户管理的非税收入拨款：", None),
            ("其他资金：", None),
        ),
    ),
    goals=Goals("年度总体目标", ("预期目标", "实际完成情况"), (LUSONG_EXPECTED_GOALS, LUSONG_ACTUAL_GOALS)),
    grid=LUSONG_GRID,
    total=TotalRow("总分", 100, 96, "\u3000"),
    grade=None,
    footer="填表人：宁邵庆 填报日期：          联系电话：28580807 单位负责人：易凌云",
    widths=(7, 11, 11, 30, 16, 16, 8, 8, 26),
)

LUSONG_SEED = Book((LUSONG_BASIC, LUSONG_EVAL))

LUSONG_CORRECTED = chain(
    on(ANNEX_2, set_line("项目支出", 0, 200.16), fill_footer_date("2024年3月15日")),
    on(ANNEX_3, fill_footer_date("2024年3月15日")),
)(LUSONG_SEED)


# ---------------------------------------------------------------------------
# Data: project self-evaluations (项目支出绩效自评表, 财预〔2020〕10号)

SPLIT_TARGET_GRID_HEADERS = (
    "一级指标",
    "二级指标",
    "三级指标",
    "指标性质",
    "指标值",
    "度量单位",
    "实际完成值",
    "分值",
    "得分",
    "偏差原因分析及改进措施",
)

# 执行率 532/560 = 95%: 10 × 95% = 9.5. 危桥 3 of ≥4: 10 × 3/4 = 7.5. 运输成本降低 4% of ≥5%: 10 × 4/5 = 8.
PROJECT_CLEAN = Book(
    (
        EvalForm(
            sheet_name="项目支出绩效自评表",
            headings=(
                Heading("项目支出绩效自评表", HeadingRole.TITLE),
                Heading("（2023年度）", HeadingRole.SUBTITLE),
            ),
            fields=(
                (("项目名称", "2023年农村公路养护项目"),),
                (("主管部门", "某某区交通运输局"), ("实施单位", "某某区农村公路养护中心")),
            ),
            funds=FundsBlock(
                label="项目资金\n（万元）",
                columns=FUNDS_COLUMNS,
                rows=(
                    FundsRow("年度资金总额", (500, 560, 532, 10, "95.00%", 9.5)),
                    FundsRow("其中：当年财政拨款", (450, 480, 460, "—", "95.83%", "—")),
                    FundsRow("      上年结转资金", (50, 50, 50, "—", "100.00%", "—")),
                    FundsRow("      其他资金", (0, 30, 22, "—", "73.33%", "—")),
                ),
            ),
            goals=Goals(
                "年度总体目标",
                ("预期目标", "实际完成情况"),
                (
                    "1.完成全区农村公路日常养护320公里；2.完成危桥改造4座；3.养护路段优良路率不低于80%，"
                    "养护任务按时完成；4.改善农村群众出行条件，降低沿线农产品运输成本。",
                    "1.完成农村公路日常养护320公里；2.完成危桥改造3座，1座因汛期推迟至2024年实施；"
                    "3.养护路段优良路率82%，养护任务按时完成；4.农村群众出行条件改善，沿线农产品运输成本降低4%。",
                ),
            ),
            grid=IndicatorGrid(
                label="绩\n效\n指\n标",
                headers=GRID_HEADERS,
                domains=(
                    Domain(
                        "产出指标\n（50分）",
                        (
                            SubDomain(
                                "数量指标",
                                (
                                    ind("农村公路日常养护里程", "≥320公里", "320公里", 10, 10),
                                    ind(
                                        "危桥改造数量",
                                        "≥4座",
                                        "3座",
                                        10,
                                        7.5,
                                        "1座危桥受汛期影响推迟施工，已纳入2024年计划；下一步将施工安排与汛期错开。",
                                    ),
                                ),
                            ),
                            SubDomain("质量指标", (ind("养护路段优良路率", "≥80%", "82%", 10, 10),)),
                            SubDomain("时效指标", (ind("养护任务完成及时率", "=100%", "100%", 10, 10),)),
                            SubDomain("成本指标", (ind("每公里日常养护成本", "≤1.2万元", "1.1万元", 10, 10),)),
                        ),
                    ),
                    Domain(
                        "效益指标\n（30分）",
                        (
                            SubDomain(
                                "经济效益指标",
                                (
                                    ind(
                                        "沿线农产品运输成本降低率",
                                        "≥5%",
                                        "4%",
                                        10,
                                        8,
                                        "危桥改造未全部完成，部分路段降本效果未显现；下一步加快剩余危桥改造。",
                                    ),
                                ),
                            ),
                            SubDomain("社会效益指标", (ind("农村公路列养率", "=100%", "100%", 10, 10),)),
                            SubDomain("可持续影响指标", (ind("农村公路养护长效机制", "是否建立", "建立", 10, 10),)),
                        ),
                    ),
                    Domain(
                        "满意度指标\n（10分）",
                        (SubDomain("服务对象满意度指标", (ind("沿线群众满意度", "≥90%", "92%", 10, 10),)),),
                    ),
                ),
            ),
            total=TotalRow("总分", 100, 95),
            grade=None,
            footer="填表人：陈晓  填报日期：2024年3月8日  联系电话：0731-28861234  单位负责人：赵刚",
            widths=(8, 11, 12, 26, 14, 14, 8, 8, 30),
        ),
    )
)

# Another province: no title rows (the year is in the project name), sheet "Sheet1",
# 年度指标值 split in three columns, "≧" and "﹦" for ≥ and =, full-width digits,
# weights 12.5 and 7.5, a rate stored as a number. 执行率 316.8/320 = 99%: 9.9;
# 清运及时率 81 of ≥90: 10 × 81/90 = 9.
PROJECT_SPLIT = Book(
    (
        EvalForm(
            sheet_name="Sheet1",
            headings=(),
            fields=(
                (("项目名称", "2023年城乡环卫一体化运营项目"),),
                (("主管部门", "某某县城市管理和综合执法局"), ("实施单位", "某某县环境卫生服务中心")),
            ),
            funds=FundsBlock(
                label="项目资金\n（万元）",
                columns=FUNDS_COLUMNS,
                rows=(
                    FundsRow("年度资金总额", (300, 320, 316.8, 10, Num(0.99, "0.00%"), 9.9)),
                    FundsRow("其中：当年财政拨款", (280, 300, 296.8, "—", Num(0.9893, "0.00%"), "—")),
                    FundsRow("上年结转资金", (20, 20, 20, "—", Num(1, "0.00%"), "—")),
                    FundsRow("其他资金", (0, 0, 0, "—", "—", "—")),
                ),
            ),
            goals=Goals(
                "年度总体目标",
                ("预期目标", "实际完成情况"),
                (
                    "实现120个行政村垃圾收集点全覆盖，新增转运车辆6辆，生活垃圾无害化处理率不低于95%，"
                    "农村人居环境明显改善。",
                    "126个行政村垃圾收集点全覆盖，新增转运车辆6辆，生活垃圾无害化处理率96%，"
                    "清运及时率81%，农村人居环境明显改善。",
                ),
            ),
            grid=IndicatorGrid(
                label="绩效指标",
                headers=SPLIT_TARGET_GRID_HEADERS,
                domains=(
                    Domain(
                        "产出指标",
                        (
                            SubDomain(
                                "数量指标",
                                (
                                    ind("垃圾收集点覆盖行政村数", ("≧", "１２０", "个"), "１２６", 12.5, 12.5),
                                    ind("新增垃圾转运车辆", ("﹦", 6, "辆"), 6, 7.5, 7.5),
                                ),
                            ),
                            SubDomain("质量指标", (ind("生活垃圾无害化处理率", ("≥", 95, "%"), 96, 10, 10),)),
                            SubDomain(
                                "时效指标",
                                (
                                    ind(
                                        "垃圾清运及时率",
                                        ("≥", 90, "%"),
                                        81,
                                        10,
                                        9,
                                        "转运车辆采购延至四季度到位，偏远村组清运间隔延长；已优化清运线路。",
                                    ),
                                ),
                            ),
                            SubDomain("成本指标", (ind("每吨垃圾收运处理成本", ("≤", 180, "元/吨"), 175, 10, 10),)),
                        ),
                    ),
                    Domain(
                        "效益指标",
                        (
                            SubDomain(
                                "社会效益指标", (ind("农村人居环境", ("定性", "明显改善", None), "明显改善", 15, 15),)
                            ),
                            SubDomain("生态效益指标", (ind("垃圾乱堆乱放点位整治数", ("≥", 30, "处"), 35, 15, 15),)),
                        ),
                    ),
                    Domain(
                        "满意度指标",
                        (SubDomain("服务对象满意度指标", (ind("村民满意度", ("≥", 90, "%"), 93, 10, 10),)),),
                    ),
                ),
            ),
            total=TotalRow("总分", 100, 98.9),
            grade=GradeRow("自评等级", "优"),
            footer="填表人：张敏  填报日期：2024年2月28日  联系电话：0797-8123456  单位负责人：刘伟",
            widths=(8, 10, 11, 24, 8, 9, 8, 10, 8, 8, 28),
        ),
    )
)


# ---------------------------------------------------------------------------
# Data: a unit whose two forms are two files (株洲市某某区审计局)

SPLIT_BASIC = Book(
    (
        BasicDataForm(
            sheet_name="基础数据",
            headings=(Heading("2023年度部门整体支出绩效评价基础数据表", HeadingRole.TITLE),),
            staff_header="财政供养人员情况（人）",
            staff_columns=("编制数", "2023年末实际在职人数", "控制率"),
            staff_values=(20, 18, Num(0.9, "0.00%")),
            funds_header="经费控制情况（万元）",
            year_columns=("2022年度决算数", "2023年度预算数", "2023年度决算数"),
            lines=(
                amounts("三公经费", 2.95, 3.5, 3.18),
                amounts("1、公务用车购置和维护经费", 2.1, 2.5, 2.32),
                amounts("其中：公车购置", 0, 0, 0),
                amounts("      公车运行维护", 2.1, 2.5, 2.32),
                amounts("2、出国经费", 0, 0, 0),
                amounts("3、公务接待", 0.85, 1, 0.86),
                amounts("项目支出", 102.6, 115, 110.5),
                amounts("1、审计业务经费", 38.2, 40, 39.5),
                amounts("2、政府投资审计项目经费", 52.4, 60, 57.8),
                amounts("3、审计信息化建设经费", 12, 15, 13.2),
                amounts("公用经费", 28.6, 30, 29.15),
                amounts("其中：办公经费", 6.2, 6.5, 6.35),
                amounts("      水费、电费、差旅费", 4.1, 4.5, 4.22),
                amounts("      会议费、培训费", 1.5, 2, 1.86),
                amounts("政府采购金额", "——", 25, 23.6),
                amounts("部门基本支出预算调整", "——", 0, 0),
            ),
            building_header="楼堂馆所控制情况\n（2023年度完工项目）",
            building_columns=BUILDING_COLUMNS,
            building_values=(0, 0, 0, 0, 0, 0),
            thrift=("厉行节约保障措施", "严格落实中央八项规定精神，压减一般性支出，公务接待实行清单管理。"),
            note=None,
            footer="填表人：刘芳  填报日期：2024年3月20日  联系电话：0731-22810000  单位负责人：周建国",
            column_span=1,
            widths=(30, 16, 18, 16),
        ),
    )
)

# 执行率 432.5/436.8 = 99.02%: 10 × 99.02% = 9.90. 政府投资审计 18 of ≥20: 5 × 18/20 = 4.5.
SPLIT_EVAL = Book(
    (
        EvalForm(
            sheet_name="自评表",
            headings=(Heading("2023年度部门整体支出绩效自评表", HeadingRole.TITLE),),
            fields=((("部门（单位）名称", "株洲市某某区审计局"),),),
            funds=FundsBlock(
                label="年度预算申请\n（万元）",
                columns=FUNDS_COLUMNS,
                rows=(FundsRow("年度资金总额", (420, 436.8, 432.5, 10, "99.02%", 9.9)),),
                by_nature=(
                    ("按收入性质分：", "按支出性质分："),
                    ("其中：一般公共预算：432.50", "其中：基本支出：322.00"),
                    ("政府性基金拨款：0", "项目支出：110.50"),
                    ("纳入专户管理的非税收入拨款：0", None),
                    ("其他资金：0", None),
                ),
            ),
            goals=Goals(
                "年度总体目标",
                ("预期目标", "实际完成情况"),
                (
                    "完成审计项目12个以上、政府投资审计项目20个；审计发现问题整改率不低于90%；"
                    "核减政府投资金额3000万元以上，促进财政资金规范使用。",
                    "完成审计项目13个、政府投资审计项目18个；审计发现问题整改率92%；"
                    "核减政府投资金额3260万元，财政资金使用更加规范。",
                ),
            ),
            grid=IndicatorGrid(
                label="绩\n效\n指\n标",
                headers=GRID_HEADERS,
                domains=(
                    Domain(
                        "产出指标\n（40分）",
                        (
                            SubDomain(
                                "数量指标",
                                (
                                    ind("完成审计项目数量", "≥12个", "13个", 5, 5),
                                    ind(
                                        "政府投资审计项目数",
                                        "≥20个",
                                        "18个",
                                        5,
                                        4.5,
                                        "2个项目送审资料不全，顺延至2024年；下一步加强与建设单位的沟通。",
                                    ),
                                    ind("审计整改跟踪覆盖率", "=100%", "100%", 5, 5),
                                ),
                            ),
                            SubDomain(
                                "质量指标",
                                (
                                    ind("审计报告质量", "是否符合审计准则", "符合审计准则", 8, 8),
                                    ind("审计发现问题整改率", "≥90%", "92%", 7, 7),
                                ),
                            ),
                            SubDomain("时效指标", (ind("审计项目按计划完成率", "≥95%", "96%", 10, 10),)),
                        ),
                    ),
                    Domain(
                        "效益指标\n（30分）",
                        (
                            SubDomain("经济效益指标", (ind("核减政府投资金额", "≥3000万元", "3260万元", 10, 10),)),
                            SubDomain("社会效益指标", (ind("财政资金使用规范性", "是否促进", "促进", 10, 10),)),
                            SubDomain("可持续影响指标", (ind("审计监督长效机制", "是否健全", "健全", 10, 10),)),
                        ),
                    ),
                    Domain(
                        "满意度指标\n（10分）",
                        (SubDomain("服务对象满意度指标", (ind("被审计单位满意度", "≥90%", "95%", 10, 10),)),),
                    ),
                    Domain(
                        "成本指标\n（10分）",
                        (SubDomain("经济成本指标", (ind("年初预算项目支出金额", "≤115万元", "110.5万元", 10, 10),)),),
                    ),
                ),
            ),
            total=TotalRow("总分", 100, 99.4),
            grade=None,
            footer="填表人：刘芳  填报日期：2024年3月20日  联系电话：0731-22810000  单位负责人：周建国",
            widths=(7, 11, 11, 26, 14, 14, 8, 8, 28),
        ),
    )
)

SAMPLES: dict[str, Book] = {
    "lusong-2023-seed.xlsx": LUSONG_SEED,
    "lusong-2023-corrected.xlsx": LUSONG_CORRECTED,
    "project-2023-clean.xlsx": PROJECT_CLEAN,
    "project-2023-province-split.xlsx": PROJECT_SPLIT,
    "split-2023-basic.xlsx": SPLIT_BASIC,
    "split-2023-self-eval.xlsx": SPLIT_EVAL,
}


# ---------------------------------------------------------------------------
# Broken workbooks: one per rule of docs/domain.md §4

UNRELATED = PlainSheet(
    sheet_name="Sheet1",
    rows=(
        ("日期", "物品", "数量", "领用人"),
        ("2023-03-02", "A4打印纸", 10, "王红"),
        ("2023-03-09", "签字笔", 24, "李强"),
        ("2023-04-11", "文件盒", 12, "王红"),
    ),
    widths=(14, 14, 8, 10),
)

PLACEHOLDER = Indicator("指标1", (None,), None, None, None)


CORRECTED = "lusong-2023-corrected.xlsx"
PROJECT_FORM = "项目支出绩效自评表"
SPLIT_SHEET = "基础数据"


@dataclass(frozen=True)
class BrokenCase:
    """A clean sample plus one minimal edit that must give one finding of `rule`, at the cell named by `at`.

    `at` is (sheet, anchor) of the cell the finding is reported on, None for a workbook-level finding.
    `also` lists rules that unavoidably fire too.
    """

    rule: str
    change: str
    patch: Patch
    at: tuple[str, AnchorKey] | None
    base: str = CORRECTED
    also: tuple[str, ...] = ()


# Where an edit alone would trip a second rule, the case also edits the dependent cell
# (the total, the rate) so that only its own rule fires. Rules the corrected seed already
# fires (B08, B09, S10, S11, S13 warnings) break a sample that is clean of them.
# The reported cell is the one checked: the total of a sum rule (S03: 年度资金总额 全年执行数),
# the 得分 of a score rule (S06, S07, S09, S10), the 自评表 cell of a cross-form rule.
BROKEN_CASES: tuple[BrokenCase, ...] = (
    BrokenCase(
        rule="F01",
        change="workbook replaced by an unrelated office-supplies sheet: no form title or header",
        patch=replace_sheets(UNRELATED),
        at=None,
    ),
    BrokenCase(
        rule="F02",
        change="公用经费 2023年决算数 total left blank while its 其中 rows hold amounts",
        patch=on(ANNEX_2, set_line("公用经费", 2, None)),
        at=(ANNEX_2, ("line", "公用经费", 2)),
    ),
    BrokenCase(
        rule="F03",
        change='办公经费 2023年预算数 4.5 written as the text "约4.5"',
        patch=on(ANNEX_2, set_line("其中：办公经费", 1, "约4.5")),
        at=(ANNEX_2, ("line", "其中：办公经费", 1)),
    ),
    BrokenCase(
        rule="F04",
        change="三公经费 2023年决算数 replaced by the formula =SUM(F7,F10,F11) with no cached value",
        patch=on(ANNEX_2, set_line("三公经费", 2, Formula("=SUM(F7,F10,F11)"))),
        at=(ANNEX_2, ("line", "三公经费", 2)),
    ),
    BrokenCase(
        rule="F05",
        change="自评表 title year 2023 -> 2022, disagreeing with the 基础数据表's 2023",
        patch=on(ANNEX_3, set_heading(1, "2022年度部门（单位）整体支出绩效自评表")),
        at=(ANNEX_3, ("heading", 1)),
    ),
    BrokenCase(
        rule="F06",
        change="template placeholder row 指标1 with no values inserted under 时效指标 (rows below shift down by one)",
        patch=on(ANNEX_3, insert_indicator("资金拨付及时到位程度", PLACEHOLDER)),
        at=(ANNEX_3, ("indicator", "指标1", "name")),
    ),
    BrokenCase(
        rule="B01",
        change="控制率 100% -> 97.22% while 36/36 = 100%",
        patch=on(ANNEX_2, set_staff(2, "97.22%")),
        at=(ANNEX_2, ("staff", 2)),
    ),
    BrokenCase(
        rule="B02",
        change="2023年实际在职人数 36 -> 37 over 编制数 36; 控制率 -> 102.78% so that B01 holds",
        patch=on(ANNEX_2, set_staff(1, 37), set_staff(2, "102.78%")),
        at=(ANNEX_2, ("staff", 1)),
    ),
    BrokenCase(
        rule="B03",
        change="三公经费 2022年决算数 0 -> 1.50 while its three parts stay 0",
        patch=on(ANNEX_2, set_line("三公经费", 0, 1.5)),
        at=(ANNEX_2, ("line", "三公经费", 0)),
    ),
    BrokenCase(
        rule="B04",
        change="公务用车购置和维护经费 2022年决算数 0 -> 1.50 while 公车购置 and 公车运行维护 stay 0; "
        "三公经费 2022年决算数 -> 1.50 so that B03 holds",
        patch=on(ANNEX_2, set_line("1、公务用车购置和维护经费", 0, 1.5), set_line("三公经费", 0, 1.5)),
        at=(ANNEX_2, ("line", "1、公务用车购置和维护经费", 0)),
    ),
    BrokenCase(
        rule="B05",
        change="project 国有资产管理 2022年决算数 146.34 -> 164.34: the projects sum to 218.16, the total says 200.16",
        patch=on(ANNEX_2, set_line("2、国有资产管理", 0, 164.34)),
        at=(ANNEX_2, ("line", "项目支出", 0)),
    ),
    BrokenCase(
        rule="B06",
        change="公用经费 2022年决算数 77.45 -> 0 while its 其中 rows sum to 2.02",
        patch=on(ANNEX_2, set_line("公用经费", 0, 0)),
        at=(ANNEX_2, ("line", "公用经费", 0)),
    ),
    BrokenCase(
        rule="B07",
        change="公务接待 and 三公经费: 2023年预算数 0 -> 2.00, 2023年决算数 0 -> 2.20 (10% over, within B08's 20%)",
        patch=on(
            ANNEX_2,
            set_line("3、公务接待", 1, 2),
            set_line("三公经费", 1, 2),
            set_line("3、公务接待", 2, 2.2),
            set_line("三公经费", 2, 2.2),
        ),
        at=(ANNEX_2, ("line", "三公经费", 2)),
    ),
    BrokenCase(
        rule="B08",
        change="会议费、培训费 2023年度决算数 1.86 -> 3.86, 93% and 1.86 万元 over its 2.00 budget (公用经费 still covers its parts)",
        patch=on(SPLIT_SHEET, set_line("会议费、培训费", 2, 3.86)),
        at=(SPLIT_SHEET, ("line", "会议费、培训费", 2)),
        base="split-2023-basic.xlsx",
    ),
    BrokenCase(
        rule="B09",
        change="政府采购金额 2023年度决算数 23.60 -> 26.80 over its 25.00 budget (7%, within B08's 20%)",
        patch=on(SPLIT_SHEET, set_line("政府采购金额", 2, 26.8)),
        at=(SPLIT_SHEET, ("line", "政府采购金额", 2)),
        base="split-2023-basic.xlsx",
    ),
    BrokenCase(
        rule="B10",
        change="楼堂馆所 批复规模 0 -> 1200, 实际规模 0 -> 1150, 规模控制率 0 -> 95.00% while 1150/1200 = 95.83%",
        patch=on(ANNEX_2, set_building(0, 1200), set_building(1, 1150), set_building(2, "95.00%")),
        at=(ANNEX_2, ("building", 2)),
    ),
    BrokenCase(
        rule="B11",
        change="水费、电费、差旅费 2022年决算数 0 -> -0.50 (公用经费 still covers its parts)",
        patch=on(ANNEX_2, set_line("水费、电费、差旅费", 0, -0.5)),
        at=(ANNEX_2, ("line", "水费、电费、差旅费", 0)),
    ),
    BrokenCase(
        rule="S01",
        change="执行率 100% -> 100.50% while 959.93/959.93 = 100% (capped at 1, the 得分 10 still holds)",
        patch=on(ANNEX_3, set_funds("年度资金总额", 4, "100.50%")),
        at=(ANNEX_3, ("funds", "年度资金总额", 4)),
    ),
    BrokenCase(
        rule="S02",
        also=("S15",),  # the recomputed total differs from the reported one
        change="执行率得分 10 -> 9.5 while 10 × 100% = 10; 总分 得分 96 -> 95.5 so that S08 holds",
        patch=on(ANNEX_3, set_funds("年度资金总额", 5, 9.5), set_total(score=95.5)),
        at=(ANNEX_3, ("funds", "年度资金总额", 5)),
    ),
    BrokenCase(
        rule="S03",
        change="按支出性质分 基本支出 721.5 -> 712.5: 712.5 + 238.43 = 950.93 against 全年执行数 959.93",
        patch=on(ANNEX_3, set_nature("其中：基本支出", "其中：基本支出：712.5")),
        # A group of "label：amount" cells is checked at its heading cell.
        at=(ANNEX_3, ("nature", key_text("按支出性质分："))),
    ),
    BrokenCase(
        rule="S04",
        change="执行率 分值 and 得分 10 -> 12: the 分值 sum to 102; 总分 得分 96 -> 98 so that S08 holds",
        patch=on(ANNEX_3, set_funds("年度资金总额", 3, 12), set_funds("年度资金总额", 5, 12), set_total(score=98)),
        at=(ANNEX_3, ("total", "weight")),
    ),
    BrokenCase(
        rule="S05",
        change="产出指标 declared (40分) -> (45分) while its rows' 分值 sum to 40",
        patch=on(ANNEX_3, rename_domain("产出指标", "产出指标\n(45分)")),
        at=(ANNEX_3, ("domain", "产出指标")),
    ),
    BrokenCase(
        rule="S06",
        also=("S15",),  # the recomputed total differs from the reported one
        change="财会监督专项行动 得分 3 -> 4, above its 分值 3; 总分 得分 96 -> 97 so that S08 holds",
        patch=on(ANNEX_3, set_indicator("财会监督专项行动", score=4), set_total(score=97)),
        at=(ANNEX_3, ("indicator", "财会监督专项行动", "score")),
    ),
    BrokenCase(
        rule="S07",
        change="经济效益指标 row (得分 7 of 分值 8): its reason replaced by a typed 0",
        patch=on(ANNEX_3, set_indicator("1.财政资金使用效率", reason=0)),
        # Reported at the reason cell: the cell the filer must fill in.
        at=(ANNEX_3, ("indicator", "1.财政资金使用效率", "reason")),
    ),
    BrokenCase(
        rule="S08",
        change="总分 得分 96 -> 98 while the scores sum to 96",
        patch=on(ANNEX_3, set_total(score=98)),
        at=(ANNEX_3, ("total", "score")),
    ),
    BrokenCase(
        rule="S09",
        also=("S15",),  # the recomputed total differs from the reported one
        change="财会监督专项行动 实际完成值 7个 -> 5个 against ≥6个, full marks 3 kept",
        patch=on(ANNEX_3, set_indicator("财会监督专项行动", actual="5个")),
        at=(ANNEX_3, ("indicator", "财会监督专项行动", "score")),
    ),
    BrokenCase(
        rule="S10",
        also=("S15",),  # the recomputed total differs from the reported one
        change="养护路段优良路率 met (82% of ≥80%) but 得分 10 -> 9 with a reason; 总分 得分 95 -> 94 so that S08 holds",
        patch=on(
            PROJECT_FORM,
            set_indicator("养护路段优良路率", score=9, reason="个别路段病害处置不够及时，下一步加强日常巡查。"),
            set_total(score=94),
        ),
        at=(PROJECT_FORM, ("indicator", "养护路段优良路率", "score")),
        base="project-2023-clean.xlsx",
    ),
    BrokenCase(
        rule="S11",
        change='沿线群众满意度 实际完成值 92% -> "≥90%", the target repeated instead of a value',
        patch=on(PROJECT_FORM, set_indicator("沿线群众满意度", actual="≥90%")),
        at=(PROJECT_FORM, ("indicator", "沿线群众满意度", "actual")),
        base="project-2023-clean.xlsx",
    ),
    BrokenCase(
        rule="S12",
        change="数量指标 财会监督专项行动 年度指标值 ≥6个 -> 按计划开展 (实际完成值 likewise): nothing measurable",
        patch=on(ANNEX_3, set_indicator("财会监督专项行动", target="按计划开展", actual="按计划开展")),
        at=(ANNEX_3, ("indicator", "财会监督专项行动", "target")),
    ),
    BrokenCase(
        rule="S13",
        change="农村公路日常养护里程 实际完成值 320公里 -> 500公里, 156% of the ≥320公里 target",
        patch=on(PROJECT_FORM, set_indicator("农村公路日常养护里程", actual="500公里")),
        at=(PROJECT_FORM, ("indicator", "农村公路日常养护里程", "actual")),
        base="project-2023-clean.xlsx",
    ),
    BrokenCase(
        rule="S14",
        change='row "自评等级：良" added under 总分 while the total 96 grades 优',
        patch=on(ANNEX_3, set_grade(GradeRow("自评等级：良"))),
        at=(ANNEX_3, ("grade",)),
    ),
    BrokenCase(
        rule="X01",
        change="自评表 项目支出 238.43 -> 228.43 against 基础数据表 2023年决算数 238.43; 基本支出 721.5 -> 731.5 "
        "so that S03 holds",
        patch=on(
            ANNEX_3,
            set_nature("项目支出", "项目支出：228.43"),
            set_nature("其中：基本支出", "其中：基本支出：731.5"),
        ),
        at=(ANNEX_3, ("nature", "项目支出")),
    ),
    BrokenCase(
        rule="X02",
        change="成本指标 年初预算项目支出金额 125万元 -> 120万元 (target and actual) against 基础数据表 2023年预算数 "
        "项目支出 125",
        patch=on(ANNEX_3, set_indicator("年初预算项目支出金额", target="120万元", actual="120万元")),
        at=(ANNEX_3, ("indicator", "年初预算项目支出金额", "target")),
    ),
)


# ---------------------------------------------------------------------------
# Building


def build_book(book: Book, path: Path) -> list[SheetLayout]:
    workbook, layouts = render(book)
    save(workbook, path)
    return layouts


def build(output: Path) -> list[Path]:
    """Write every sample and broken workbook under `output`; return the paths written."""
    written: list[Path] = []
    for name, book in SAMPLES.items():
        build_book(book, output / name)
        written.append(output / name)
    manifest: list[dict[str, object]] = []
    for case in BROKEN_CASES:
        relative = f"broken/{case.rule}.xlsx"
        layouts = {sheet.name: sheet for sheet in build_book(case.patch(SAMPLES[case.base]), output / relative)}
        sheet, cell = (None, None) if case.at is None else (case.at[0], layouts[case.at[0]].cell_of(case.at[1]))
        manifest.append(
            {
                "rule": case.rule,
                "file": relative,
                "base": case.base,
                "sheet": sheet,
                "cell": cell,
                "change": case.change,
                "also": list(case.also),
            }
        )
        written.append(output / relative)
    manifest_path = output / "broken" / "manifest.json"
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    written.append(manifest_path)
    written.extend(build_families(output))
    return written


def write_spec(sheets: Sequence[family_samples.SheetSpec], path: Path) -> None:
    """A workbook of plain sheets (a family sample): values and merges, wrapped text, fixed bytes."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    wrap = Alignment(wrap_text=True, vertical="center")
    for spec in sheets:
        ws = workbook.create_sheet(spec.name)
        for r, row in enumerate(spec.rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is None:
                    continue
                cell = ws.cell(row=r, column=c)
                cell.value = value
                if isinstance(value, str):
                    cell.data_type = "s"
                    cell.alignment = wrap
        for r1, c1, r2, c2 in spec.merges:
            ws.merged_cells.add(MergedCellRange(ws, f"{cell_name(r1, c1)}:{cell_name(r2, c2)}"))
    save(workbook, path)


def build_families(output: Path) -> list[Path]:
    """sample_workbooks/families/: each published form transcribed, a consistent form per family, broken variants."""
    written: list[Path] = []
    folder = output / "families"
    for name in family_samples.TRANSCRIBED:
        write_spec(family_samples.transcribed(name), folder / f"{name}.xlsx")
        written.append(folder / f"{name}.xlsx")
    for family, make in {**family_samples.OWN, **family_samples.VARIANTS}.items():
        path = folder / f"{family}-consistent.xlsx"
        write_spec([make()], path)
        written.append(path)
    manifest: list[dict[str, object]] = []
    for case in family_samples.BROKEN:
        path = folder / "broken" / f"{case.name}.xlsx"
        sheet = family_samples.broken_sheet(case)
        write_spec([sheet], path)
        written.append(path)
        row, col = family_samples.locate(sheet, *(case.at or (case.row_text, case.header)))
        manifest.append(
            {
                "rule": case.rule,
                "file": f"families/broken/{case.name}.xlsx",
                "base": f"families/{case.family}-consistent.xlsx",
                "family": case.family,
                "sheet": sheet.name,
                "cell": cell_name(row, col),
                "severity": case.severity,
                "change": case.change,
            }
        )
    manifest_path = folder / "broken" / "manifest.json"
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    written.append(manifest_path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if len(args) > 1:
        print("usage: build_samples.py [OUTPUT_DIR]", file=sys.stderr)
        return 2
    output = Path(args[0]) if args else Path(__file__).resolve().parent
    for path in build(output):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
