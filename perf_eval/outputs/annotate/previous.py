"""A previous run's marks, removed before marking anew: its 校验结果 sheet, our comments, the fills we changed."""

from __future__ import annotations

import json

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.cell.rich_text import CellRichText
from openpyxl.styles import PatternFill
from openpyxl.styles.fills import Fill
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.functions import fromstring

from perf_eval.model import CellRef, is_result_sheet
from perf_eval.outputs.annotate.cells import all_cells, sized_comment
from perf_eval.outputs.annotate.marks import COMMENT_AUTHOR, COMMENT_MARK, ERROR_COLOR, WARNING_COLOR
from perf_eval.outputs.annotate.result_sheet import LEGACY_RECORD_COLUMN, RECORD_COLUMN


def strip_previous_run(workbook: Workbook) -> None:
    """Remove an earlier run's 校验结果 sheet, our comment parts, and restore the fills we changed."""
    records: dict[CellRef, str | None] = {}
    for sheet in [ws for ws in workbook.worksheets if is_result_sheet(ws.title, _first_value(ws))]:
        records.update(_read_fill_records(sheet))
        workbook.remove(sheet)
    sheets = {worksheet.title: worksheet for worksheet in workbook.worksheets}
    marked = [cell for cell in all_cells(workbook) if _strip_comment(cell)]
    for ref, xml in records.items():
        if ref.sheet in sheets:
            sheets[ref.sheet].cell(ref.row, ref.col).fill = fill_from_xml(xml)
    for cell in marked:
        # Without a record (the 校验结果 sheet was deleted) only a fill exactly like ours is cleared.
        ref = CellRef(cell.parent.title, cell.row, cell.column)
        if ref not in records and _ours(cell.fill):
            cell.fill = PatternFill()


def _first_value(worksheet: Worksheet) -> object:
    # Indexing ws["A1"] would add an empty cell to a sheet that has none.
    cell = worksheet._cells.get((1, 1))
    value = cell.value if cell is not None else None
    # LibreOffice re-saves our title as rich text (a fallback font for its Latin part): its plain text counts.
    return str(value) if isinstance(value, CellRichText) else value


def _read_fill_records(sheet: Worksheet) -> dict[CellRef, str | None]:
    records: dict[CellRef, str | None] = {}
    cells = (
        str(value) if isinstance(value, CellRichText) else value
        for column in (LEGACY_RECORD_COLUMN, RECORD_COLUMN)
        for (value,) in sheet.iter_rows(min_col=column, max_col=column, values_only=True)
    )
    values = [value for value in cells if isinstance(value, str) and value.startswith("{")]
    for value in values:
        try:
            record = json.loads(value) if isinstance(value, str) else None
            if isinstance(record, dict):
                ref = CellRef(str(record["sheet"]), int(record["row"]), int(record["col"]))
                records[ref] = record["fill"]
        except (ValueError, KeyError, TypeError):
            continue
    return records


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
        cell.comment = sized_comment(user, comment.author or "") if user else None
        return True
    if comment.author == COMMENT_AUTHOR:
        cell.comment = None
        return True
    return False


def fill_from_xml(xml: str | None) -> Fill:
    if not xml:
        return PatternFill()
    try:
        return Fill.from_tree(fromstring(xml)) or PatternFill()
    except Exception:  # a record edited by hand must not stop the copy
        return PatternFill()


def _ours(fill: Fill) -> bool:
    """A solid fill in one of our colours (whatever its background colour)."""
    return getattr(fill, "fill_type", None) == "solid" and getattr(fill.fgColor, "rgb", None) in (
        ERROR_COLOR,
        WARNING_COLOR,
    )
