"""The annotated copy: every finding shown at its cell, the original untouched.

`annotate()` reads the source workbook into memory (so the file is never held
open or locked), marks each finding's cell with a comment (批注) and a fill,
puts a 校验结果 sheet first, and writes the copy atomically under a name that
cannot collide with the source. openpyxl drops the cached results of
formulas on save; they are put back, so machine readers (and a later check of
the copy) still see the values. Everything that could not be carried over is
returned as Chinese notes, and listed in the 校验结果 sheet too.

A copy marks itself so that a later run recognises it:
- the workbook has the custom document properties ``perf-eval`` (version)
  and ``perf-eval-source`` (a hash of the source path): only a file carrying
  the same source hash is ever overwritten;
- the 校验结果 sheet has `RESULT_TITLE` in A1;
- our comment ends with the `COMMENT_MARK` line, or follows it when appended
  to a user's comment (the mark, not the author ``perf-eval``, is what counts:
  LibreOffice drops comment authors when it re-saves a file);
- the 校验结果 sheet's hidden column G records each marked cell's original
  fill, so annotating a copy again restores it before marking anew.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import unicodedata
import warnings
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as StdElementTree
from xml.sax.saxutils import escape as xml_escape

import openpyxl
from defusedxml import ElementTree
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell, MergedCell
from openpyxl.comments import Comment
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.styles.fills import Fill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.merge import MergedCellRange
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.functions import fromstring, tostring

from perf_eval._version import __version__
from perf_eval.atomic import OutputError, atomic_write, same_file
from perf_eval.model import (
    COPY_INFIX,
    RESULT_SHEET,
    RESULT_TITLE,
    CellRef,
    FileResult,
    FileStatus,
    Finding,
    Severity,
    is_result_sheet,
)

COMMENT_AUTHOR = "perf-eval"
COMMENT_MARK = "——perf-eval——"
MARK_PROPERTY = "perf-eval"
SOURCE_PROPERTY = "perf-eval-source"

ERROR_FILL = PatternFill(fill_type="solid", fgColor="FFFFC7CE")
WARNING_FILL = PatternFill(fill_type="solid", fgColor="FFFFEB9C")
_SEVERITY_FILL = {Severity.ERROR: ERROR_FILL, Severity.WARNING: WARNING_FILL}
_SEVERITY_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}

_ZIP_MAGIC = b"PK\x03\x04"
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAX_TEXT = 32_767  # Excel's limit for a cell's (and a comment's) text
_FORMULA_LIKE = ("=", "+", "-", "@")
_COPY_NAME = re.compile(re.escape(COPY_INFIX) + r"(\(\d+\))?$")
_MAX_NAME_TRIES = 100

_TABLE_HEADER = ("级别", "规则", "位置", "说明", "应为", "实际", "如何处理", "原填充（perf-eval 内部使用）")
_TABLE_WIDTHS = (10, 7, 18, 56, 14, 14, 40, 20)
_WRAPPED = (3, 4, 5, 6, 7)  # columns whose text wraps (position, message, values, what to do)
_RECORD_COLUMN = 8
_LEGACY_RECORD_COLUMN = 7  # copies written before the 如何处理 column
_HEADER_VALUE_END = 7  # header values span B..G so that they wrap instead of running on
# One CJK font for the sheet: Excel, WPS and LibreOffice all have or substitute it.
_FONT = "宋体"
_LINE_POINTS = 16.0  # one line of 11 pt CJK text, with the leading LibreOffice uses
_LEGEND = "错误：必须改正后再提交；警告：请核实，确有原因的可在自评报告中说明，不影响提交；提示：供参考（如某项核对未能进行），不影响结论。"
CONTENT_PROPERTY = "perf-eval-content"
_UNSET_CONTENT = "0" * 64


@dataclass(frozen=True)
class AnnotatedCopy:
    """Where the copy was written and what it could not preserve (Chinese, for the user)."""

    path: Path
    notes: tuple[str, ...]


@dataclass(frozen=True)
class _Loaded:
    workbook: Workbook
    suffix: str
    notes: tuple[str, ...]


def annotate(
    source: Path,
    result: FileResult,
    *,
    out_dir: Path | None = None,
    drawings: Sequence[str] = (),
    source_name: str | None = None,
    reports: Sequence[FileResult] = (),
) -> AnnotatedCopy:
    """Write the annotated copy of `source` for `result`; raise `OutputError` if it cannot be written.

    `drawings` names the sheets that hold images, charts or shapes, as found
    by the reader's pre-flight (`ReadWorkbook.drawings`). `reports` are the results of the written
    reports checked against this workbook's forms: the 校验结果 sheet lists their findings too.
    `source_name` is the file name the 校验结果 sheet shows (default: the source's own; the web
    service stores uploads under neutral names and shows the uploaded one).
    """
    if result.status is FileStatus.UNREADABLE:
        raise ValueError("an unreadable file has no annotated copy")
    folder = out_dir if out_dir is not None else source.parent
    data = _read_source(source, result.sha256)
    try:
        loaded = _load(data, source)
        workbook = loaded.workbook
        formulas = _formula_cells(workbook)
        cached = _cached_values(data, formulas)
        source_key = _source_key(source)
        _make_folder(folder)
        target, edited = _choose_target(source, folder, loaded.suffix, source_key)
        edited_note = (
            [f"已有的批注副本“{edited.name}”在生成后被改动过，未覆盖；本次的批注副本另存为“{target.name}”"]
            if edited
            else []
        )
        notes = _annotate_workbook(
            workbook,
            result,
            source_name=source_name or source.name,
            notes=[*edited_note, *loaded.notes, *_drawing_notes(drawings), *_uncached_note(formulas, cached)],
            reports=reports,
        )
        _set_marks(workbook, source_key)
        atomic_write(
            target,
            lambda temp: temp.write_bytes(_sealed(_saved(workbook, cached))),
            may_replace=lambda path: _copy_state(path, source_key) == "ours",
        )
    except OutputError:
        raise
    except Exception as exc:  # a batch must go on: any failure is this file's result
        raise OutputError(f"无法生成批注副本：{type(exc).__name__}: {exc}", folder) from exc
    return AnnotatedCopy(target, tuple(notes))


# --- reading the source -----------------------------------------------------------------


def _read_source(source: Path, sha256: str | None) -> bytes:
    """All bytes at once: nothing keeps the file open, so it is never locked."""
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise OutputError(f"无法读取 {source}：{exc.strerror or exc}", source) from exc
    if sha256 and hashlib.sha256(data).hexdigest() != sha256:
        raise OutputError(f"文件在校验之后被修改过，未生成批注副本，请重新校验：{source}", source)
    return data


def _load(data: bytes, source: Path) -> _Loaded:
    """Route on content, not on the extension."""
    if data.startswith(_ZIP_MAGIC):
        return _load_ooxml(data)
    if data.startswith(_CFB_MAGIC):
        return _load_xls(data)
    raise OutputError(f"无法识别的文件格式，未生成批注副本：{source}", source)


@contextmanager
def memoised_merge_borders() -> Iterator[None]:
    """Load merged ranges without openpyxl 3.1 recomputing the same border for every edge cell.

    While loading, ``MergedCellRange.format`` adds the start cell's border to each edge cell of every
    merged range, hashing and comparing style objects each time: on these forms, full of merged
    labels, that is most of the load (measured: seed 59 -> 24 ms). The border an edge cell ends up
    with depends only on its own border id, the start cell's and the side, so it is remembered per
    load. The saved workbook is identical (tests/test_annotate.py compares every part). Other openpyxl
    versions keep their own method.
    """
    if not openpyxl.__version__.startswith("3.1."):
        yield
        return
    stock = MergedCellRange.format
    memo: dict[tuple[int, int, str], int] = {}

    def style_of(cell: Any) -> StyleArray:
        if not cell._style:
            cell._style = StyleArray()
        return cell._style

    def cell_at(merged: MergedCellRange, coord: tuple[int, int]) -> Any:
        cell = merged.ws._cells.get(coord)
        if cell is None:
            cell = MergedCell(merged.ws, row=coord[0], column=coord[1])
            merged.ws._cells[coord] = cell
        return cell

    def format(merged: MergedCellRange) -> None:
        start = merged.start_cell
        start_border = style_of(start).borderId
        for name in ("top", "left", "right", "bottom"):
            side = getattr(start.border, name)
            if side and side.style is None:
                continue
            border = Border(**{name: side})
            for coord in getattr(merged, name):
                cell = cell_at(merged, coord)
                key = (style_of(cell).borderId, start_border, name)
                if key in memo:
                    style_of(cell).borderId = memo[key]
                else:
                    cell.border += border
                    memo[key] = style_of(cell).borderId
        protection = style_of(start).protectionId
        for coord in merged.cells:
            style_of(cell_at(merged, coord)).protectionId = protection

    MergedCellRange.format = format
    try:
        yield
    finally:
        MergedCellRange.format = stock


def _load_ooxml(data: bytes) -> _Loaded:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        macros = "xl/vbaProject.bin" in archive.namelist()
    # catch_warnings is process-wide: annotate files in processes, not threads, to keep notes apart.
    with warnings.catch_warnings(record=True) as caught, memoised_merge_borders():
        warnings.simplefilter("always")
        workbook = load_workbook(io.BytesIO(data), keep_vba=macros, rich_text=True, keep_links=True)
    # A template (.xltx/.xltm) is saved as an ordinary workbook, matching the copy's extension.
    workbook.template = False
    notes = tuple(_warning_note(str(w.message)) for w in caught)
    return _Loaded(workbook, ".xlsm" if macros else ".xlsx", tuple(dict.fromkeys(notes)))


_WARNING_NOTES = (
    ("Data Validation extension", "部分数据验证（扩展格式）未能保留在批注副本中"),
    ("Conditional Formatting extension", "部分条件格式（扩展格式，如数据条、图标集）未能保留在批注副本中"),
    ("DrawingML support is incomplete", "图形（形状、文本框）未能保留在批注副本中"),
    ("Slicer List extension", "切片器未能保留在批注副本中"),
)
_MERGED_COMMENT = re.compile(r"Cell '(.+)':(\w+) is part of a merged range but has a comment")
_EXTENSION = re.compile(r"(.+) extension is not supported")


def _warning_note(message: str) -> str:
    """openpyxl warns (in English) about what it drops while loading: say it in Chinese."""
    merged = _MERGED_COMMENT.search(message)
    if merged:
        return f"工作表 {merged.group(1)} 单元格 {merged.group(2)} 位于合并区域内，其原有批注未能保留"
    for key, note in _WARNING_NOTES:
        if key in message:
            return note
    extension = _EXTENSION.search(message)
    if extension:
        return f"扩展内容（{extension.group(1)}）未能保留在批注副本中"
    return f"读取时有内容可能未能保留：{message}"


def _drawing_notes(drawings: Sequence[str]) -> list[str]:
    # openpyxl drops images (without Pillow) and shapes, and rebuilds charts in its own way.
    return [
        f"工作表 {name} 中的图片/图表/形状未能完整保留在批注副本中，请以原文件为准" for name in dict.fromkeys(drawings)
    ]


# --- .xls: rebuild as .xlsx --------------------------------------------------------------

_XLS_NOTE = (
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


def _load_xls(data: bytes) -> _Loaded:
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
    return _Loaded(workbook, ".xlsx", (_XLS_NOTE,))


def _copy_xls_cells(book: Any, sheet: Any, worksheet: Worksheet, styles: dict[int, _XlsStyle]) -> None:
    for row in range(sheet.nrows):
        for col in range(sheet.ncols):
            xf_index = sheet.cell_xf_index(row, col)
            value = _xls_value(book, sheet.cell(row, col))
            if value is None and xf_index == 15:  # 15: the default cell format of BIFF8
                continue
            cell = worksheet.cell(row + 1, col + 1)
            if isinstance(value, str):
                _put_text(cell, value)
            else:
                cell.value = value
            style = styles.get(xf_index) or styles.setdefault(xf_index, _xls_style(book, xf_index))
            cell.font, cell.border, cell.alignment = style.font, style.border, style.alignment
            cell.fill, cell.number_format = style.fill, style.number_format
    for (row, col), note in sheet.cell_note_map.items():
        worksheet.cell(row + 1, col + 1).comment = _sized_comment(note.text, note.author or "")


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


# --- marking the findings ----------------------------------------------------------------


def _annotate_workbook(
    workbook: Workbook, result: FileResult, *, source_name: str, notes: list[str], reports: Sequence[FileResult] = ()
) -> list[str]:
    """Mark every finding and add the 校验结果 sheet; return all notes (the given ones first)."""
    _strip_previous_run(workbook)
    notes = list(notes)
    sheets = {worksheet.title: worksheet for worksheet in workbook.worksheets}
    fill_records: dict[CellRef, str | None] = {}
    placed: dict[Finding, CellRef] = {}
    groups = _group_by_anchor(sheets, result.deviations, notes)
    mentions = _mentions_by_anchor(sheets, result.deviations, groups)
    for anchor, findings in groups.items():
        _mark_cell(sheets[anchor.sheet], anchor, findings, fill_records, mentions.pop(anchor, []))
        placed.update((finding, anchor) for finding in findings)
    for anchor, related in mentions.items():
        _mark_cell(sheets[anchor.sheet], anchor, [], fill_records, related)
    notes = list(dict.fromkeys(notes))
    sheet = _add_result_sheet(workbook, result, source_name, notes)
    _write_table(sheet, list(sheets), result.deviations, placed, fill_records)
    for report in reports:
        _write_report_rows(sheet, report)
    return notes


def _group_by_anchor(
    sheets: dict[str, Worksheet], findings: Iterable[Finding], notes: list[str]
) -> dict[CellRef, list[Finding]]:
    """Findings by the cell that shows them: the cell itself, or the top-left of its merged range."""
    groups: dict[CellRef, list[Finding]] = defaultdict(list)
    for finding in findings:
        ref = _finding_ref(finding)
        if ref is None:
            continue
        if ref.sheet not in sheets:
            notes.append(f"问题位于工作表 {ref.sheet}，但副本中没有这个工作表：{finding.rule} {ref.a1}")
            continue
        groups[_merge_anchor(sheets[ref.sheet], ref)].append(finding)
    for ref in groups:
        if sheets[ref.sheet].sheet_state != "visible":
            notes.append(f"工作表 {ref.sheet} 是隐藏的：取消隐藏后才能查看其中的批注，链接才能跳转")
    return groups


_MAX_MENTIONS = 40  # a finding compared with more cells than this names them in its own comment only


def _mentions_by_anchor(
    sheets: dict[str, Worksheet], findings: Iterable[Finding], groups: dict[CellRef, list[Finding]]
) -> dict[CellRef, list[Finding]]:
    """The cells each finding compares with (a total's parts, the budget beside a 决算), by anchor."""
    mentions: dict[CellRef, list[Finding]] = defaultdict(list)
    for finding in findings:
        if len(finding.related) > _MAX_MENTIONS:
            continue
        own = _finding_ref(finding)
        for text in finding.related:
            sheet, _, a1 = text.rpartition("!")
            try:
                ref = CellRef.parse(sheet, a1)
            except ValueError:
                continue
            if ref.sheet not in sheets:
                continue  # a cell of the other file of a split pair
            anchor = _merge_anchor(sheets[ref.sheet], ref)
            if anchor != own and finding not in mentions[anchor]:
                mentions[anchor].append(finding)
    return dict(mentions)


def _finding_ref(finding: Finding) -> CellRef | None:
    try:
        return finding.ref
    except ValueError:
        return None


def _merge_anchor(worksheet: Worksheet, ref: CellRef) -> CellRef:
    """openpyxl keeps comments only on a merged range's top-left cell."""
    for merged in worksheet.merged_cells.ranges:
        if merged.min_row <= ref.row <= merged.max_row and merged.min_col <= ref.col <= merged.max_col:
            return CellRef(ref.sheet, merged.min_row, merged.min_col)
    return ref


def _mark_cell(
    worksheet: Worksheet,
    anchor: CellRef,
    findings: list[Finding],
    fill_records: dict[CellRef, str | None],
    mentions: Sequence[Finding] = (),
) -> None:
    """The cell's comment: its own findings (errors first), then the findings it is compared in; a fill for its own."""
    cell = worksheet.cell(anchor.row, anchor.col)
    blocks = [_comment_block(finding, anchor) for finding in sorted(findings, key=_finding_order)]
    blocks += [_mention_block(finding) for finding in sorted(mentions, key=Finding.sort_key)]
    ours = "\n\n".join(blocks)
    existing = cell.comment
    if existing is not None and existing.text.strip():
        text = f"{existing.text.rstrip()}\n\n{COMMENT_MARK}\n{ours}"
        cell.comment = _sized_comment(text, existing.author or "")
    else:
        cell.comment = _sized_comment(f"{ours}\n{COMMENT_MARK}", COMMENT_AUTHOR)
    if not findings:
        return
    worst = min((finding.severity for finding in findings), key=_SEVERITY_RANK.__getitem__)
    if worst in _SEVERITY_FILL:
        fill_records[anchor] = _fill_xml(cell.fill)
        cell.fill = _SEVERITY_FILL[worst]


def _finding_order(finding: Finding) -> tuple[int, str]:
    return (_SEVERITY_RANK[finding.severity], finding.rule)


def _comment_block(finding: Finding, anchor: CellRef) -> str:
    lines = [f"{finding.rule} {_described(finding)}"]
    if finding.expected is not None:
        lines.append(f"应为 {finding.expected_shown}，实际 {finding.actual_shown or '（空）'}")
    related = _related_text(finding)
    if related:
        lines.append(f"对照：{related}")
    if finding.fix:
        lines.append(f"如何处理：{finding.fix}")
    ref = _finding_ref(finding)
    if ref is not None and ref != anchor:
        lines.append(f"（问题单元格 {ref.a1} 位于合并区域内，批注标在左上角 {anchor.a1}）")
    return "\n".join(lines)


def _mention_block(finding: Finding) -> str:
    """On a cell a finding compares with: where the finding is, so the clerk checks both."""
    where = finding.cell if finding.ref is None else str(finding.ref)
    return f"{finding.rule}（{finding.severity.label_zh}，见 {where}）与本单元格有关：{_described(finding)}"


def _described(finding: Finding) -> str:
    """``label：message``, unless the message already starts with its label."""
    if finding.label and not finding.message.startswith(finding.label):
        return f"{finding.label}：{finding.message}"
    return finding.message


def _related_text(finding: Finding) -> str:
    """The other form's cells, unless the message already names them all."""
    missing = [ref for ref in finding.related if ref not in finding.message]
    return "、".join(finding.related) if missing else ""


def _format_value(value: float | str | None) -> str:
    if value is None:
        return "（空）"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _sized_comment(text: str, author: str) -> Comment:
    """A comment box large enough to show its text (VML size in px; CJK glyphs are two units wide)."""
    text = _clean_text(text)
    units_per_line = 46
    line_units = [sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line) for line in text.split("\n")]
    widest = min(max(line_units, default=0), units_per_line)
    lines = sum(max(1, math.ceil(units / units_per_line)) for units in line_units)
    width = max(widest, 24) * 7 + 20
    height = min(lines * 16 + 16, 480)
    return Comment(text, author, height=height, width=width)


# --- a previous run's marks --------------------------------------------------------------


def _strip_previous_run(workbook: Workbook) -> None:
    """Remove an earlier run's 校验结果 sheet, our comment parts, and restore the fills we changed."""
    records: dict[CellRef, str | None] = {}
    for sheet in [ws for ws in workbook.worksheets if is_result_sheet(ws.title, _first_value(ws))]:
        records.update(_read_fill_records(sheet))
        workbook.remove(sheet)
    sheets = {worksheet.title: worksheet for worksheet in workbook.worksheets}
    marked = [cell for cell in _all_cells(workbook) if _strip_comment(cell)]
    for ref, xml in records.items():
        if ref.sheet in sheets:
            sheets[ref.sheet].cell(ref.row, ref.col).fill = _fill_from_xml(xml)
    for cell in marked:
        # Without a record (the 校验结果 sheet was deleted) only a fill exactly like ours is cleared.
        ref = CellRef(cell.parent.title, cell.row, cell.column)
        if ref not in records and cell.fill in (ERROR_FILL, WARNING_FILL):
            cell.fill = PatternFill()


def _first_value(worksheet: Worksheet) -> object:
    # Indexing ws["A1"] would add an empty cell to a sheet that has none.
    cell = worksheet._cells.get((1, 1))
    return cell.value if cell is not None else None


def _read_fill_records(sheet: Worksheet) -> dict[CellRef, str | None]:
    records: dict[CellRef, str | None] = {}
    values = [
        value
        for column in (_LEGACY_RECORD_COLUMN, _RECORD_COLUMN)
        for (value,) in sheet.iter_rows(min_col=column, max_col=column, values_only=True)
        if isinstance(value, str) and value.startswith("{")
    ]
    for value in values:
        try:
            record = json.loads(value) if isinstance(value, str) else None
            if isinstance(record, dict):
                ref = CellRef(str(record["sheet"]), int(record["row"]), int(record["col"]))
                records[ref] = record["fill"]
        except (ValueError, KeyError, TypeError):
            continue
    return records


def _all_cells(workbook: Workbook) -> Iterator[Cell]:
    for worksheet in workbook.worksheets:
        # _cells holds only the cells present in the file; iter_rows() would create every empty one.
        yield from (cell for cell in worksheet._cells.values() if isinstance(cell, Cell))


def _strip_comment(cell: Cell) -> bool:
    """Remove our part of the cell's comment; True if there was one."""
    comment = cell.comment
    if comment is None:
        return False
    text = comment.text or ""
    if COMMENT_MARK in text:
        before, _, after = text.partition(COMMENT_MARK)
        # Ours alone ends with the mark; appended to a user's comment it follows the mark.
        user = before.rstrip() if after.strip() else ""
        cell.comment = _sized_comment(user, comment.author or "") if user else None
        return True
    if comment.author == COMMENT_AUTHOR:
        cell.comment = None
        return True
    return False


def _fill_xml(fill: Fill) -> str | None:
    if fill == PatternFill():
        return None
    # Re-serialized by the standard library: openpyxl writes through lxml when it is installed
    # (python-docx brings it), and the record must read the same either way.
    text = tostring(fill.to_tree()).decode("utf-8")
    return StdElementTree.tostring(ElementTree.fromstring(text), encoding="unicode")


def _fill_from_xml(xml: str | None) -> Fill:
    if not xml:
        return PatternFill()
    try:
        return Fill.from_tree(fromstring(xml)) or PatternFill()
    except Exception:  # a record edited by hand must not stop the copy
        return PatternFill()


# --- cached formula values ---------------------------------------------------------------
#
# openpyxl writes every formula without its cached result, so machine readers (calamine,
# pandas, a later check) would see no values until Excel/WPS recalculates. The source's
# cached results are read once more (read-only, data-only) and put back into the saved parts.

Cached = dict[str, dict[str, tuple[str | None, str]]]  # sheet → coordinate → (cell type, <v> text)

# A formula cell exactly as openpyxl writes it: no type, an empty value.
_WRITTEN_FORMULA = re.compile(rb'<c r="([A-Z]{1,3}[0-9]+)"( s="[0-9]+")?>(<f(?: [^>]*)?>[^<]*</f>)<v ?/>')


def _formula_cells(workbook: Workbook) -> dict[str, set[str]]:
    cells: dict[str, set[str]] = defaultdict(set)
    for cell in _all_cells(workbook):
        if cell.data_type == "f":
            cells[cell.parent.title].add(cell.coordinate)
    return dict(cells)


def _cached_values(data: bytes, formulas: dict[str, set[str]]) -> Cached:
    if not formulas:
        return {}
    # Read-only sheets parse (and warn) while iterated; the first load already made its warnings notes.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        try:
            return {
                title: _sheet_cached(book[title], coordinates, book.epoch) for title, coordinates in formulas.items()
            }
        finally:
            book.close()


def _sheet_cached(sheet: Any, coordinates: set[str], epoch: datetime) -> dict[str, tuple[str | None, str]]:
    values = {}
    for row in sheet.iter_rows():
        for cell in row:
            coordinate = getattr(cell, "coordinate", None)  # EmptyCell has none
            if coordinate in coordinates and (value := _cached_text(cell, epoch)) is not None:
                values[coordinate] = value
    return values


def _cached_text(cell: Any, epoch: datetime) -> tuple[str | None, str] | None:
    value = cell.value
    if value is None:
        return None
    if isinstance(value, bool):
        return ("b", "1" if value else "0")
    if isinstance(value, int | float):
        return (None, repr(value))
    if isinstance(value, datetime | date | time | timedelta):
        return (None, repr(to_excel(value, epoch)))
    if isinstance(value, str):
        return ("e" if cell.data_type == "e" else "str", value)
    return None


def _uncached_note(formulas: dict[str, set[str]], cached: Cached) -> list[str]:
    missing = sum(len(cells) for cells in formulas.values()) - sum(len(v) for v in cached.values())
    if not missing:
        return []
    return [f"原文件中有 {missing} 个公式单元格没有计算结果，副本中同样没有；在 Excel/WPS 中打开时会重新计算"]


def _saved(workbook: Workbook, cached: Cached) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    # ws.path is known once saved: /xl/worksheets/sheetN.xml in workbook order.
    parts = {ws.path.lstrip("/"): cached[ws.title] for ws in workbook.worksheets if cached.get(ws.title)}
    return _with_cached_values(buffer.getvalue(), parts) if parts else buffer.getvalue()


def _with_cached_values(xlsx: bytes, parts: Cached) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename in parts:
                body = _put_cached(body, parts[info.filename])
            target.writestr(info, body)
    return out.getvalue()


def _put_cached(xml: bytes, values: dict[str, tuple[str | None, str]]) -> bytes:
    def replace(match: re.Match[bytes]) -> bytes:
        cached = values.get(match.group(1).decode("ascii"))
        if cached is None:
            return match.group(0)
        kind, text = cached
        kind_attribute = f' t="{kind}"'.encode() if kind else b""
        value = xml_escape(text).encode("utf-8")
        return b'<c r="%s"%s%s>%s<v>%s</v>' % (match[1], match[2] or b"", kind_attribute, match[3], value)

    return _WRITTEN_FORMULA.sub(replace, xml)


# --- the 校验结果 sheet --------------------------------------------------------------------


def _add_result_sheet(workbook: Workbook, result: FileResult, source_name: str, notes: list[str]) -> Worksheet:
    """The header: one label and one value per row (a value never sits beside the next label)."""
    title, number = RESULT_SHEET, 1
    while title in workbook.sheetnames:  # a user's own sheet of that name is kept
        number += 1
        title = f"{RESULT_SHEET}({number})"
    sheet = workbook.create_sheet(title, 0)
    _select_only(workbook, sheet)
    sheet["A1"] = RESULT_TITLE
    sheet["A1"].font = Font(name=_FONT, bold=True, size=14)
    header: list[tuple[str, object]] = [
        ("文件", source_name),
        ("单位", result.unit or "（未识别）"),
        ("年度", str(result.year) if result.year else "（未识别）"),
        # Which layout family and profile judged each form.
        ("表单", "、".join(f.label_zh for f in result.forms) or "（未识别）"),
        ("结论", result.status.label_zh),
        ("问题", f"错误 {result.errors} 项，警告 {result.warnings} 项，提示 {_count(result, Severity.INFO)} 项"),
    ]
    if result.score is not None:
        header.append(("得分", _score_text(result)))
    header.append(("级别说明", _LEGEND))
    if notes:
        header.append(("说明", "\n".join(dict.fromkeys(notes))))
    value_width = sum(_TABLE_WIDTHS[1:_HEADER_VALUE_END])
    for row, (label, value) in enumerate(header, start=2):
        label_cell = sheet.cell(row, 1)
        _put_text(label_cell, label)
        label_cell.font = Font(name=_FONT, bold=True)
        label_cell.alignment = Alignment(vertical="top")
        value_cell = sheet.cell(row, 2)
        _put_value(value_cell, value)
        if label == "结论":
            value_cell.font = Font(name=_FONT, bold=True, color=_STATUS_COLOR.get(result.status))
        else:
            value_cell.font = Font(name=_FONT)
        value_cell.alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
        sheet.merge_cells(start_row=row, start_column=2, end_row=row, end_column=_HEADER_VALUE_END)
        sheet.row_dimensions[row].height = _wrapped_height(str(value), value_width)
    return sheet


_STATUS_COLOR = {FileStatus.ERRORS: "FF9C0006", FileStatus.WARNINGS: "FF9C5700", FileStatus.CLEAN: "FF006100"}


def _score_text(result: FileResult) -> str:
    score = result.score
    assert score is not None
    reported = _format_value(score.reported) if score.reported is not None else "—"
    recomputed = _format_value(score.recomputed) if score.recomputed is not None else "—"
    grade = _grade_text(result)
    return f"单位自评 {reported}，复核 {recomputed}" + (f"，等级 {grade}" if grade else "")


def _grade_text(result: FileResult) -> str | None:
    score = result.score
    if score is None:
        return None
    if score.reported_grade and score.reported_grade != score.grade:
        return f"{score.grade or '—'}（单位填报：{score.reported_grade}）"
    return score.grade


def _count(result: FileResult, severity: Severity) -> int:
    return sum(1 for finding in result.deviations if finding.severity is severity)


def _select_only(workbook: Workbook, sheet: Worksheet) -> None:
    for worksheet in workbook.worksheets:
        worksheet.sheet_view.tabSelected = worksheet is sheet
    workbook.active = sheet
    for view in workbook.views:
        view.firstSheet = 0


def _write_table(
    sheet: Worksheet,
    sheet_names: list[str],
    findings: Sequence[Finding],
    placed: dict[Finding, CellRef],
    fill_records: dict[CellRef, str | None],
) -> None:
    top = sheet.max_row + 2
    for col, (name, width) in enumerate(zip(_TABLE_HEADER, _TABLE_WIDTHS, strict=True), start=1):
        cell = sheet.cell(top, col, name)
        cell.font = Font(name=_FONT, bold=True)
        cell.alignment = Alignment(vertical="top")
        sheet.column_dimensions[get_column_letter(col)].width = width
    sheet.column_dimensions[get_column_letter(_RECORD_COLUMN)].hidden = True
    order = {name: index for index, name in enumerate(sheet_names)}
    recorded: set[CellRef] = set()
    row = top
    for row, finding in enumerate(sorted(findings, key=lambda f: _table_order(f, order)), start=top + 1):
        _write_finding(sheet, row, finding, linkable=finding.sheet in order)
        anchor = placed.get(finding)
        if anchor is not None and anchor in fill_records and anchor not in recorded:
            recorded.add(anchor)
            record = {
                "sheet": anchor.sheet,
                "row": anchor.row,
                "col": anchor.col,
                "fill": fill_records[anchor],
            }
            _put_text(sheet.cell(row, _RECORD_COLUMN), json.dumps(record, ensure_ascii=False))
    if not findings:
        row = top + 1
        clean = sheet.cell(row, 1)
        _put_text(clean, "未发现问题")
        clean.font = Font(name=_FONT, bold=True, color="FF006100")
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(_TABLE_HEADER) - 1)
    sheet.freeze_panes = sheet.cell(top + 1, 1)
    sheet.auto_filter.ref = f"A{top}:{get_column_letter(len(_TABLE_HEADER) - 1)}{row}"
    sheet.print_title_rows = f"{top}:{top}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def _write_report_rows(sheet: Worksheet, report: FileResult) -> None:
    """The findings of a written report checked against these forms, below the table (not counted above)."""
    top = sheet.max_row + 2
    title = f"绩效自评报告 {Path(report.path).name}：错误 {report.errors} 项，警告 {report.warnings} 项"
    _put_text(sheet.cell(top, 1), title)
    sheet.cell(top, 1).font = Font(bold=True)
    for row, finding in enumerate(report.deviations, start=top + 1):
        _write_finding(sheet, row, finding, linkable=False)
        if finding.place is not None:
            _put_text(sheet.cell(row, 3), f"报告{finding.place.text}")


def _table_order(finding: Finding, sheet_order: dict[str, int]) -> tuple[int, int, int, int, str]:
    """Errors, warnings, info; then the workbook's sheet order, row, column."""
    ref = _finding_ref(finding)
    rank = _SEVERITY_RANK[finding.severity]
    if ref is None:
        return (rank, -1, 0, 0, finding.rule)
    return (rank, sheet_order.get(ref.sheet, len(sheet_order)), ref.row, ref.col, finding.rule)


def _write_finding(sheet: Worksheet, row: int, finding: Finding, *, linkable: bool) -> None:
    related = _related_text(finding)
    message = _described(finding)
    texts = {
        1: finding.severity.label_zh,
        2: finding.rule,
        4: f"{message}（对照：{related}）" if related else message,
        5: finding.expected_shown if finding.expected is not None else "",
        6: finding.actual_shown if finding.expected is not None else "",
        7: finding.fix,
    }
    for col, text in texts.items():
        if text:
            _put_text(sheet.cell(row, col), text)
    _write_position(sheet.cell(row, 3), finding, linkable=linkable)
    for col in range(1, len(_TABLE_HEADER)):
        cell = sheet.cell(row, col)
        # One vertical alignment for the whole row, so each 说明 stays level with its own 级别.
        cell.alignment = Alignment(vertical="top", wrap_text=col in _WRAPPED)
        if not cell.hyperlink:
            cell.font = Font(name=_FONT, bold=col == 1)
    if finding.severity in _SEVERITY_FILL:
        sheet.cell(row, 1).fill = _SEVERITY_FILL[finding.severity]
    # Spreadsheet programs keep a stored row height; without one LibreOffice's PDF overlaps wrapped rows.
    position = str(sheet.cell(row, 3).value or "")
    sheet.row_dimensions[row].height = max(
        _wrapped_height(text, _TABLE_WIDTHS[col - 1])
        for col, text in ((3, position), *((c, t) for c, t in texts.items() if c in _WRAPPED))
    )


def _wrapped_height(text: str, width: float) -> float:
    """Points for `text` wrapped in a column `width` characters wide (a CJK character takes two).

    Counted a little wide (width - 2 per line, 16 pt a line) so that no spreadsheet program cuts the last line.
    """
    per_line = max(width - 2, 1)
    lines = 0
    for paragraph in text.split("\n"):
        units = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in paragraph)
        lines += max(1, math.ceil(units / per_line))
    return _LINE_POINTS * lines + 4


def _write_position(cell: Cell, finding: Finding, *, linkable: bool) -> None:
    ref = _finding_ref(finding)
    if ref is None:
        _put_text(cell, finding.sheet or "—")
        return
    _put_text(cell, str(ref))
    if linkable:
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=link_location(ref), display=str(ref))
        cell.font = Font(name=_FONT, color="FF0563C1", underline="single")


def link_location(ref: CellRef) -> str:
    """An in-workbook link target: ``'Sheet name'!B14`` (quotes doubled inside the name)."""
    quoted = ref.sheet.replace("'", "''")
    return f"'{quoted}'!{ref.a1}"


def _put_value(cell: Cell, value: object) -> None:
    if isinstance(value, str):
        _put_text(cell, value)
    elif isinstance(value, float) and not math.isfinite(value):
        _put_text(cell, str(value))
    elif value is None or isinstance(value, int | float | datetime):
        cell.value = value
    else:
        _put_text(cell, str(value))


def _put_text(cell: Cell, text: str) -> None:
    """Text from user data stays text: never a formula, even when it starts with = + - @."""
    cell.value = _clean_text(text)
    cell.data_type = "s"
    if cell.value.startswith(_FORMULA_LIKE):
        cell.quotePrefix = True  # Excel keeps it text when the cell is edited, too


def _clean_text(text: str) -> str:
    """Drop characters XML cannot carry; cut at Excel's length limit."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


# --- where the copy goes -----------------------------------------------------------------


def _source_key(source: Path) -> str:
    """Identifies the source without revealing its path inside the copy."""
    return hashlib.sha256(os.path.normcase(str(source.resolve())).encode("utf-8")).hexdigest()[:16]


def _set_marks(workbook: Workbook, source_key: str) -> None:
    props = workbook.custom_doc_props
    for name in (MARK_PROPERTY, SOURCE_PROPERTY, CONTENT_PROPERTY):
        if name in props.names:
            del props[name]
    props.append(StringProperty(name=MARK_PROPERTY, value=__version__))
    props.append(StringProperty(name=SOURCE_PROPERTY, value=source_key))
    # Filled in by _sealed once the rest of the file is written.
    props.append(StringProperty(name=CONTENT_PROPERTY, value=_UNSET_CONTENT))


_CUSTOM_PART = "docProps/custom.xml"


def _content_hash(archive: zipfile.ZipFile) -> str:
    """sha256 over every part but the custom properties (which carry this hash): any edit and save changes it."""
    digest = hashlib.sha256()
    for info in sorted(archive.infolist(), key=lambda i: i.filename):
        if info.filename == _CUSTOM_PART:
            continue
        digest.update(info.filename.encode("utf-8") + b"\0")
        digest.update(archive.read(info))
    return digest.hexdigest()


def _sealed(xlsx: bytes) -> bytes:
    """The copy with the hash of its own content recorded, so a later run can tell whether someone edited it."""
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        content = _content_hash(archive)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == _CUSTOM_PART:
                body = body.replace(_UNSET_CONTENT.encode("ascii"), content.encode("ascii"), 1)
            target.writestr(info, body)
    return out.getvalue()


def _make_folder(folder: Path) -> None:
    """The output folder, made if missing; a file in the way is named as such (it is never replaced)."""
    blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise OutputError(f"输出位置应为文件夹，但 {blocker} 是一个文件（--out 请指定文件夹）", folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError.from_os_error(exc, folder / "_") from exc


def copy_name(source: Path, suffix: str, attempt: int = 1) -> str:
    """``自评表.xlsx`` → ``自评表.校验.xlsx``; a copy's own name maps back to its source's."""
    stem = _COPY_NAME.sub("", source.stem) or source.stem
    number = "" if attempt == 1 else f"({attempt})"
    return f"{stem}{COPY_INFIX}{number}{suffix}"


def _choose_target(source: Path, folder: Path, suffix: str, source_key: str) -> tuple[Path, Path | None]:
    """The name to write, and the first copy of ours that someone edited (kept, so the next name is used)."""
    edited: Path | None = None
    for attempt in range(1, _MAX_NAME_TRIES + 1):
        candidate = folder / copy_name(source, suffix, attempt)
        if same_file(candidate, source):
            continue
        if not candidate.exists() and not candidate.is_symlink():
            return candidate, edited
        state = _copy_state(candidate, source_key)
        if state == "ours":
            return candidate, edited
        if state == "edited" and edited is None:
            edited = candidate
    raise OutputError.not_ours(folder / copy_name(source, suffix))


def _is_copy_of(path: Path, source_key: str) -> bool:
    """True if `path` is an annotated copy we made of the same source and nobody changed since (it may be replaced)."""
    return _copy_state(path, source_key) == "ours"


_MAX_COPY_BYTES = 512 << 20  # an existing copy larger than this is not hashed: it is left alone


def _copy_state(path: Path, source_key: str) -> str:
    """ "ours" (our copy of this source, unchanged), "edited" (ours, changed since) or "foreign"."""
    if path.is_symlink() or not path.is_file():
        return "foreign"
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(_CUSTOM_PART)
            if info.file_size > 1 << 20:
                return "foreign"
            tree = ElementTree.fromstring(archive.read(info))
            values = {prop.get("name"): "".join(prop.itertext()) for prop in tree if prop.tag.endswith("}property")}
            if MARK_PROPERTY not in values or values.get(SOURCE_PROPERTY) != source_key:
                return "foreign"
            total = sum(i.file_size for i in archive.infolist())
            if total > _MAX_COPY_BYTES:
                return "edited"
            # A copy from before the content hash, or one saved again by Excel/WPS, counts as edited.
            return "ours" if values.get(CONTENT_PROPERTY) == _content_hash(archive) else "edited"
    except (OSError, zipfile.BadZipFile, KeyError, ElementTree.ParseError, ValueError, RuntimeError):
        return "foreign"
