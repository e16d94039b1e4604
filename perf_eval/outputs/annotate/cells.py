"""Text and comments put into openpyxl cells (an .xls rebuilt, an earlier copy cleaned): never a formula."""

from __future__ import annotations

from collections.abc import Iterator

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment

from perf_eval.outputs.annotate.text import FORMULA_LIKE, clean_text, comment_size


def sized_comment(text: str, author: str) -> Comment:
    """A comment box large enough to show its text."""
    text = clean_text(text)
    width, height = comment_size(text)
    return Comment(text, author, height=height, width=width)


def all_cells(workbook: Workbook) -> Iterator[Cell]:
    for worksheet in workbook.worksheets:
        # _cells holds only the cells present in the file; iter_rows() would create every empty one.
        yield from (cell for cell in worksheet._cells.values() if isinstance(cell, Cell))


def put_text(cell: Cell, text: str) -> None:
    """Text from user data stays text: never a formula, even when it starts with = + - @."""
    cell.value = clean_text(text)
    cell.data_type = "s"
    if cell.value.startswith(FORMULA_LIKE):
        cell.quotePrefix = True  # Excel keeps it text when the cell is edited, too
