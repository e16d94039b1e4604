"""The words and sizes put into the copy: no formula, nothing XML cannot carry, boxes and rows sized to be read.

Nothing here imports openpyxl: the copy of an .xlsx is written without it (`package`).
"""

from __future__ import annotations

import math
import re
import unicodedata

MAX_TEXT = 32_767  # Excel's limit for a cell's (and a comment's) text
FORMULA_LIKE = ("=", "+", "-", "@")

FONT = "宋体"
_LINE_POINTS = 16.0  # one line of 11 pt CJK text, with the leading LibreOffice uses
# The characters XML 1.0 cannot carry (the same set openpyxl refuses).
ILLEGAL_CHARACTERS = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


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


def clean_text(text: str) -> str:
    """Drop characters XML cannot carry; cut at Excel's length limit."""
    text = ILLEGAL_CHARACTERS.sub("", text)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _units(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in line)


def comment_size(text: str) -> tuple[int, int]:
    """A comment box (width, height in px) large enough to show `text`; CJK glyphs are two units wide."""
    units_per_line = 46
    line_units = [_units(line) for line in text.split("\n")]
    widest = min(max(line_units, default=0), units_per_line)
    lines = sum(max(1, math.ceil(units / units_per_line)) for units in line_units)
    return max(widest, 24) * 7 + 20, min(lines * 16 + 16, 480)


def wrapped_height(text: str, width: float) -> float:
    """Points for `text` wrapped in a column `width` characters wide (a CJK character takes two).

    Counted a little wide (width - 2 per line, 16 pt a line) so that no spreadsheet program cuts the last line.
    """
    per_line = max(width - 2, 1)
    lines = sum(max(1, math.ceil(_units(paragraph) / per_line)) for paragraph in text.split("\n"))
    return _LINE_POINTS * lines + 4
