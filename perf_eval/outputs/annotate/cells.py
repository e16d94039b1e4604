"""Text and comments put into cells: never a formula, nothing XML cannot carry, sized to be read."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterator
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.comments import Comment

_MAX_TEXT = 32_767  # Excel's limit for a cell's (and a comment's) text
_FORMULA_LIKE = ("=", "+", "-", "@")

FONT = "宋体"
_LINE_POINTS = 16.0  # one line of 11 pt CJK text, with the leading LibreOffice uses


def format_value(value: float | str | None) -> str:
    if value is None:
        return "（空）"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4f}".rstrip("0").rstrip(".")


def sized_comment(text: str, author: str) -> Comment:
    """A comment box large enough to show its text (VML size in px; CJK glyphs are two units wide)."""
    text = clean_text(text)
    units_per_line = 46
    line_units = [sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line) for line in text.split("\n")]
    widest = min(max(line_units, default=0), units_per_line)
    lines = sum(max(1, math.ceil(units / units_per_line)) for units in line_units)
    width = max(widest, 24) * 7 + 20
    height = min(lines * 16 + 16, 480)
    return Comment(text, author, height=height, width=width)


def all_cells(workbook: Workbook) -> Iterator[Cell]:
    for worksheet in workbook.worksheets:
        # _cells holds only the cells present in the file; iter_rows() would create every empty one.
        yield from (cell for cell in worksheet._cells.values() if isinstance(cell, Cell))


def wrapped_height(text: str, width: float) -> float:
    """Points for `text` wrapped in a column `width` characters wide (a CJK character takes two).

    Counted a little wide (width - 2 per line, 16 pt a line) so that no spreadsheet program cuts the last line.
    """
    per_line = max(width - 2, 1)
    lines = 0
    for paragraph in text.split("\n"):
        units = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in paragraph)
        lines += max(1, math.ceil(units / per_line))
    return _LINE_POINTS * lines + 4


def put_value(cell: Cell, value: object) -> None:
    if isinstance(value, str):
        put_text(cell, value)
    elif isinstance(value, float) and not math.isfinite(value):
        put_text(cell, str(value))
    elif value is None or isinstance(value, int | float | datetime):
        cell.value = value
    else:
        put_text(cell, str(value))


def put_text(cell: Cell, text: str) -> None:
    """Text from user data stays text: never a formula, even when it starts with = + - @."""
    cell.value = clean_text(text)
    cell.data_type = "s"
    if cell.value.startswith(_FORMULA_LIKE):
        cell.quotePrefix = True  # Excel keeps it text when the cell is edited, too


def clean_text(text: str) -> str:
    """Drop characters XML cannot carry; cut at Excel's length limit."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"
