"""An .xls rebuilt as an .xlsx workbook: values, merged cells, sizes, fonts, borders and number formats."""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from perf_eval.outputs.annotate.cells import put_text, sized_comment

XLS_NOTE = (
    "原文件为 .xls 格式，副本另存为 .xlsx：保留了数值、合并单元格、列宽、行高、字体、边框和数字格式；"
    "公式只保留了计算结果，图片、图表、数据验证和打印设置未能保留"
)
_XLS_LINE_STYLES = (
    None, "thin", "medium", "dashed", "dotted", "thick", "double", "hair", "mediumDashed",
    "dashDot", "mediumDashDot", "dashDotDot", "mediumDashDotDot", "slantDashDot",
)  # fmt: skip
_XLS_HORIZONTAL = {
    1: "left",
    2: "center",
    3: "right",
    4: "fill",
    5: "justify",
    6: "centerContinuous",
    7: "distributed",
}
_XLS_VERTICAL = {0: "top", 1: "center", 2: "bottom", 3: "justify", 4: "distributed"}
_XLS_VISIBILITY = {0: "visible", 1: "hidden", 2: "veryHidden"}


@dataclass(frozen=True)
class _XlsStyle:
    font: Font
    border: Border
    alignment: Alignment
    fill: PatternFill
    number_format: str


def xls_workbook(data: bytes) -> Workbook:
    """The .xls in `data` as an openpyxl workbook (xlrd is imported only when an .xls comes)."""
    import xlrd

    book = xlrd.open_workbook(file_contents=data, formatting_info=True, logfile=io.StringIO(), verbosity=0)
    workbook = Workbook()
    workbook.remove(workbook.active)
    styles: dict[int, _XlsStyle] = {}
    for sheet in book.sheets():
        worksheet = workbook.create_sheet(sheet.name)
        _copy_xls_cells(book, sheet, worksheet, styles)
        _copy_xls_layout(sheet, worksheet)
    if workbook.worksheets and all(ws.sheet_state != "visible" for ws in workbook.worksheets):
        workbook.worksheets[0].sheet_state = "visible"
    return workbook


def _copy_xls_cells(book: Any, sheet: Any, worksheet: Worksheet, styles: dict[int, _XlsStyle]) -> None:
    for row in range(sheet.nrows):
        for col in range(sheet.ncols):
            xf_index = sheet.cell_xf_index(row, col)
            value = _xls_value(book, sheet.cell(row, col))
            if value is None and xf_index == 15:  # 15: the default cell format of BIFF8
                continue
            cell = worksheet.cell(row + 1, col + 1)
            if isinstance(value, str):
                put_text(cell, value)
            else:
                cell.value = value
            style = styles.get(xf_index) or styles.setdefault(xf_index, _xls_style(book, xf_index))
            cell.font, cell.border, cell.alignment = style.font, style.border, style.alignment
            cell.fill, cell.number_format = style.fill, style.number_format
    for (row, col), note in sheet.cell_note_map.items():
        worksheet.cell(row + 1, col + 1).comment = sized_comment(note.text, note.author or "")


def _xls_value(book: Any, cell: Any) -> Any:
    import xlrd

    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return cell.value
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#N/A")
    if cell.ctype == xlrd.XL_CELL_NUMBER:
        return int(cell.value) if float(cell.value).is_integer() else cell.value
    if cell.ctype == xlrd.XL_CELL_TEXT:
        return cell.value
    return None


def _xls_style(book: Any, xf_index: int) -> _XlsStyle:
    xf = book.xf_list[xf_index]
    font = book.font_list[xf.font_index]
    line, align, fill = xf.border, xf.alignment, xf.background
    fill_color = _xls_color(book, fill.pattern_colour_index) if fill.fill_pattern == 1 else None
    return _XlsStyle(
        font=Font(
            name=font.name,
            size=font.height / 20,
            bold=bool(font.bold) or font.weight >= 700,  # some writers set only the weight
            italic=bool(font.italic),
            underline="single" if font.underline_type else None,
            strike=bool(font.struck_out),
            color=_xls_color(book, font.colour_index),
        ),
        border=Border(
            left=_xls_side(book, line.left_line_style, line.left_colour_index),
            right=_xls_side(book, line.right_line_style, line.right_colour_index),
            top=_xls_side(book, line.top_line_style, line.top_colour_index),
            bottom=_xls_side(book, line.bottom_line_style, line.bottom_colour_index),
        ),
        alignment=Alignment(
            horizontal=_XLS_HORIZONTAL.get(align.hor_align),
            vertical=_XLS_VERTICAL.get(align.vert_align),
            wrap_text=bool(align.text_wrapped) or None,
            indent=align.indent_level,
            text_rotation=align.rotation if 0 <= align.rotation <= 180 else 0,
        ),
        fill=PatternFill(fill_type="solid", fgColor=fill_color) if fill_color else PatternFill(),
        number_format=book.format_map[xf.format_key].format_str if xf.format_key in book.format_map else "General",
    )


def _xls_color(book: Any, index: int) -> str | None:
    rgb = book.colour_map.get(index)
    if not rgb:
        return None  # system colours (window text, automatic) keep the default
    return "FF{:02X}{:02X}{:02X}".format(*rgb)


def _xls_side(book: Any, style: int, color_index: int) -> Side:
    if not 0 < style < len(_XLS_LINE_STYLES):
        return Side()
    return Side(style=_XLS_LINE_STYLES[style], color=_xls_color(book, color_index))


def _copy_xls_layout(sheet: Any, worksheet: Worksheet) -> None:
    for rlo, rhi, clo, chi in sheet.merged_cells:
        if rhi - rlo > 1 or chi - clo > 1:
            worksheet.merge_cells(start_row=rlo + 1, end_row=rhi, start_column=clo + 1, end_column=chi)
    # Writers give every one of the 256 columns a width; keep the common one as the default.
    widths = Counter(info.width for info in sheet.colinfo_map.values())
    usual = widths.most_common(1)[0][0] if widths else None
    if usual is not None:
        worksheet.sheet_format.defaultColWidth = round(usual / 256, 2)
    for col, info in sheet.colinfo_map.items():
        if info.width != usual or info.hidden:
            dimension = worksheet.column_dimensions[get_column_letter(col + 1)]
            dimension.width = round(info.width / 256, 2)
            dimension.hidden = bool(info.hidden)
    for row, info in sheet.rowinfo_map.items():
        dimension = worksheet.row_dimensions[row + 1]
        if info.height_mismatch:
            dimension.height = info.height / 20
        dimension.hidden = bool(info.hidden)
    worksheet.sheet_state = _XLS_VISIBILITY.get(sheet.visibility, "visible")
    if sheet.has_pane_record and (sheet.horz_split_pos or sheet.vert_split_pos):
        worksheet.freeze_panes = worksheet.cell(sheet.horz_split_pos + 1, sheet.vert_split_pos + 1)
