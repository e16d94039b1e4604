"""The 校验结果 sheet: a header (file, unit, year, forms, conclusion, counts, score, notes) and the findings table,
with a link to each cell, one CJK font, stored row heights and an A4 landscape print setup."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from perf_eval.model import RESULT_SHEET, RESULT_TITLE, CellRef, FileResult, FileStatus, Finding, Severity
from perf_eval.outputs.annotate.cells import FONT, format_value, put_text, put_value, wrapped_height
from perf_eval.outputs.annotate.marks import SEVERITY_FILL, SEVERITY_RANK, described, finding_ref, related_text

_TABLE_HEADER = ("级别", "规则", "位置", "说明", "应为", "实际", "如何处理", "原填充（perf-eval 内部使用）")
_TABLE_WIDTHS = (10, 7, 18, 56, 14, 14, 40, 20)
_WRAPPED = (3, 4, 5, 6, 7)  # columns whose text wraps (position, message, values, what to do)
RECORD_COLUMN = 8
LEGACY_RECORD_COLUMN = 7  # copies written before the 如何处理 column
_HEADER_VALUE_END = 7  # header values span B..G so that they wrap instead of running on
# One CJK font for the sheet: Excel, WPS and LibreOffice all have or substitute it.

_LEGEND = "错误：必须改正后再提交；警告：请核实，确有原因的可在自评报告中说明，不影响提交；提示：供参考（如某项核对未能进行），不影响结论。"


def add_result_sheet(workbook: Workbook, result: FileResult, source_name: str, notes: list[str]) -> Worksheet:
    """The header: one label and one value per row (a value never sits beside the next label)."""
    title, number = RESULT_SHEET, 1
    while title in workbook.sheetnames:  # a user's own sheet of that name is kept
        number += 1
        title = f"{RESULT_SHEET}({number})"
    sheet = workbook.create_sheet(title, 0)
    _select_only(workbook, sheet)
    sheet["A1"] = RESULT_TITLE
    sheet["A1"].font = Font(name=FONT, bold=True, size=14)
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
        put_text(label_cell, label)
        label_cell.font = Font(name=FONT, bold=True)
        label_cell.alignment = Alignment(vertical="top")
        value_cell = sheet.cell(row, 2)
        put_value(value_cell, value)
        if label == "结论":
            value_cell.font = Font(name=FONT, bold=True, color=_STATUS_COLOR.get(result.status))
        else:
            value_cell.font = Font(name=FONT)
        value_cell.alignment = Alignment(horizontal="left", vertical="top", wrap_text=True)
        sheet.merge_cells(start_row=row, start_column=2, end_row=row, end_column=_HEADER_VALUE_END)
        sheet.row_dimensions[row].height = wrapped_height(str(value), value_width)
    return sheet


_STATUS_COLOR = {FileStatus.ERRORS: "FF9C0006", FileStatus.WARNINGS: "FF9C5700", FileStatus.CLEAN: "FF006100"}


def _score_text(result: FileResult) -> str:
    score = result.score
    assert score is not None
    reported = format_value(score.reported) if score.reported is not None else "—"
    recomputed = format_value(score.recomputed) if score.recomputed is not None else "—"
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


def write_table(
    sheet: Worksheet,
    sheet_names: list[str],
    findings: Sequence[Finding],
    placed: dict[Finding, CellRef],
    fill_records: dict[CellRef, str | None],
) -> None:
    top = sheet.max_row + 2
    for col, (name, width) in enumerate(zip(_TABLE_HEADER, _TABLE_WIDTHS, strict=True), start=1):
        cell = sheet.cell(top, col, name)
        cell.font = Font(name=FONT, bold=True)
        cell.alignment = Alignment(vertical="top")
        sheet.column_dimensions[get_column_letter(col)].width = width
    sheet.column_dimensions[get_column_letter(RECORD_COLUMN)].hidden = True
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
            put_text(sheet.cell(row, RECORD_COLUMN), json.dumps(record, ensure_ascii=False))
    if not findings:
        row = top + 1
        clean = sheet.cell(row, 1)
        put_text(clean, "未发现问题")
        clean.font = Font(name=FONT, bold=True, color="FF006100")
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(_TABLE_HEADER) - 1)
    sheet.freeze_panes = sheet.cell(top + 1, 1)
    sheet.auto_filter.ref = f"A{top}:{get_column_letter(len(_TABLE_HEADER) - 1)}{row}"
    sheet.print_title_rows = f"{top}:{top}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def write_report_rows(sheet: Worksheet, report: FileResult) -> None:
    """The findings of a written report checked against these forms, below the table (not counted above)."""
    top = sheet.max_row + 2
    title = f"绩效自评报告 {Path(report.path).name}：错误 {report.errors} 项，警告 {report.warnings} 项"
    put_text(sheet.cell(top, 1), title)
    sheet.cell(top, 1).font = Font(bold=True)
    for row, finding in enumerate(report.deviations, start=top + 1):
        _write_finding(sheet, row, finding, linkable=False)
        if finding.place is not None:
            put_text(sheet.cell(row, 3), f"报告{finding.place.text}")


def _table_order(finding: Finding, sheet_order: dict[str, int]) -> tuple[int, int, int, int, str]:
    """Errors, warnings, info; then the workbook's sheet order, row, column."""
    ref = finding_ref(finding)
    rank = SEVERITY_RANK[finding.severity]
    if ref is None:
        return (rank, -1, 0, 0, finding.rule)
    return (rank, sheet_order.get(ref.sheet, len(sheet_order)), ref.row, ref.col, finding.rule)


def _write_finding(sheet: Worksheet, row: int, finding: Finding, *, linkable: bool) -> None:
    related = related_text(finding)
    message = described(finding)
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
            put_text(sheet.cell(row, col), text)
    _write_position(sheet.cell(row, 3), finding, linkable=linkable)
    for col in range(1, len(_TABLE_HEADER)):
        cell = sheet.cell(row, col)
        # One vertical alignment for the whole row, so each 说明 stays level with its own 级别.
        cell.alignment = Alignment(vertical="top", wrap_text=col in _WRAPPED)
        if not cell.hyperlink:
            cell.font = Font(name=FONT, bold=col == 1)
    if finding.severity in SEVERITY_FILL:
        sheet.cell(row, 1).fill = SEVERITY_FILL[finding.severity]
    # Spreadsheet programs keep a stored row height; without one LibreOffice's PDF overlaps wrapped rows.
    position = str(sheet.cell(row, 3).value or "")
    sheet.row_dimensions[row].height = max(
        wrapped_height(text, _TABLE_WIDTHS[col - 1])
        for col, text in ((3, position), *((c, t) for c, t in texts.items() if c in _WRAPPED))
    )


def _write_position(cell: Cell, finding: Finding, *, linkable: bool) -> None:
    ref = finding_ref(finding)
    if ref is None:
        put_text(cell, finding.sheet or "—")
        return
    put_text(cell, str(ref))
    if linkable:
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=link_location(ref), display=str(ref))
        cell.font = Font(name=FONT, color="FF0563C1", underline="single")


def link_location(ref: CellRef) -> str:
    """An in-workbook link target: ``'Sheet name'!B14`` (quotes doubled inside the name)."""
    quoted = ref.sheet.replace("'", "''")
    return f"'{quoted}'!{ref.a1}"
