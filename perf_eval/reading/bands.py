"""A form's own 得分系数 table (Chongqing, F): the share of an indicator's weight it scores by completion rate.

Units state it in one of two ways, both read by their labels:

- a note in one cell: "得分系数说明：完成率100%及以上的，得分系数为100%；完成率90%（含）至100%的，得分系数为
  90%；……；完成率60%以下的，得分系数为0。" -- one line per clause, split at 得分系数;
- a small table: a header row with a 完成率 (完成比例, 完成程度) cell and a 得分系数 cell, then one row per line
  ("90%（含）-100%" | "90%").

A line's lower bound is its smallest percentage ("90%（含）至100%" -> 90%, "100%及以上" -> 100%); a line that
only says 以下/低于/不足/未达到 ("60%以下") is everything below the others.
"""

from __future__ import annotations

import re

from perf_eval.forms import Band
from perf_eval.model import CellRef
from perf_eval.reading.locate import Region
from perf_eval.values import normalize

_PERCENT = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(%|％)?")
_BELOW = ("以下", "低于", "不足", "未达到", "<", "≤", "小于")
_EXCLUSIVE = (">", "高于", "超过", "大于")
_RATE_LABELS = ("完成率", "完成比例", "完成程度", "指标完成率")


def _fraction(number: str, percent: bool) -> float:
    value = float(number)
    return value / 100 if percent or value > 1.5 else value


def _band(condition: str, coefficient: str) -> Band | None:
    """One line: the condition on the completion rate and the coefficient it gives."""
    found = _PERCENT.findall(coefficient)
    if not found:
        return None
    coefficient_value = _fraction(found[0][0], bool(found[0][1]))
    bounds = [_fraction(n, bool(p)) for n, p in _PERCENT.findall(condition)]
    if not bounds:
        return None
    if len(bounds) == 1 and any(word in condition for word in _BELOW):
        return Band(None, True, coefficient_value)
    exclusive = len(bounds) == 1 and any(word in condition for word in _EXCLUSIVE)
    return Band(min(bounds), not exclusive, coefficient_value)


def _from_note(text: str) -> tuple[Band, ...]:
    """The clauses of a note that states the table in words."""
    key = normalize(text)
    head, _, body = key.partition("得分系数")
    bands: list[Band] = []
    for clause in re.split(r"[;；。\n]", body if not _PERCENT.search(head) else key):
        condition, marker, coefficient = clause.partition("得分系数")
        if not marker:
            # "完成率90%至100%的，按90%计" -- the coefficient is the clause's last percentage.
            numbers = list(_PERCENT.finditer(clause))
            if len(numbers) < 2:
                continue
            condition, coefficient = clause[: numbers[-1].start()], clause[numbers[-1].start() :]
        band = _band(condition, coefficient)
        if band is not None:
            bands.append(band)
    return tuple(bands)


def read_bands(region: Region, start: int) -> tuple[tuple[Band, ...], CellRef | None, int | None]:
    """The form's 得分系数 table below `start` (the grid header): its lines, where it stands and its first row.

    Nothing when the form states none, or fewer than two lines (one line is no table).
    """
    for row, col, text in region.cells():
        if row <= start:
            continue
        key = normalize(text)
        if "得分系数" in key and len(_PERCENT.findall(key)) >= 4:
            bands = _from_note(text)
            if len(bands) >= 2:
                return bands, region.grid.ref(row, col), row
        if key.startswith(_RATE_LABELS) and len(key) <= 12:
            coefficient_col = next((c for c, k in region.row_cells(row) if k.startswith("得分系数") and c > col), None)
            if coefficient_col is None:
                continue
            lines: list[Band] = []
            for r in range(row + 1, region.last + 1):
                condition, coefficient = region.grid.text(r, col), region.grid.text(r, coefficient_col)
                band = _band(normalize(condition), normalize(coefficient)) if condition and coefficient else None
                if band is None:
                    break
                lines.append(band)
            if len(lines) >= 2:
                return tuple(lines), region.grid.ref(row, col), row
    return (), None, None
