"""A sheet as a sparse grid of raw cell values, with its merges.

Only this module and `safety` open input files. Values come from
python-calamine (about 15x faster than openpyxl on these forms); what
calamine cannot tell -- formulas without a cached value, sheet visibility,
images -- comes from the pre-flight pass over the zip (`safety.preflight`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from perf_eval.model import CellRef, is_result_sheet
from perf_eval.reading import safety
from perf_eval.values import label_key, normalize

Raw = str | float | int | bool | dt.date | dt.datetime | dt.time | dt.timedelta


@dataclass(frozen=True)
class Grid:
    """One sheet: non-empty cells by 1-based (row, col), merged ranges, uncached formulas."""

    name: str
    cells: dict[tuple[int, int], Raw]
    merged: tuple[tuple[int, int, int, int], ...] = ()
    uncached: frozenset[tuple[int, int]] = frozenset()
    _anchor: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict, compare=False, repr=False)
    # Normalized text of every non-empty cell, row by row: labels are matched many times per form.
    _texts: list[tuple[int, int, str]] = field(default_factory=list, compare=False, repr=False)
    _text_at: dict[tuple[int, int], str] = field(default_factory=dict, compare=False, repr=False)
    # Label keys (normalized, numbering stripped) computed once per cell: forms are searched by label many times.
    _key_at: dict[tuple[int, int], str] = field(default_factory=dict, compare=False, repr=False)
    _by_row: dict[int, list[tuple[int, str]]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for key in sorted(self.cells):
            text = normalize(self.cells[key])
            self._text_at[key] = text
            if text:
                self._texts.append((key[0], key[1], text))
        for r1, c1, r2, c2 in self.merged:
            # Bounded by the pre-flight's merged-area limit.
            for row in range(r1, r2 + 1):
                for col in range(c1, c2 + 1):
                    self._anchor[(row, col)] = (r1, c1)

    @property
    def max_row(self) -> int:
        return max((r for r, _ in self.cells), default=0)

    @property
    def max_col(self) -> int:
        return max((c for _, c in self.cells), default=0)

    def anchor(self, row: int, col: int) -> tuple[int, int]:
        """The top-left cell of the merged range holding (row, col), or the cell itself."""
        return self._anchor.get((row, col), (row, col))

    def merge_end(self, row: int, col: int) -> tuple[int, int]:
        """The bottom-right cell of the merged range holding (row, col)."""
        top = self.anchor(row, col)
        for r1, c1, r2, c2 in self.merged:
            if (r1, c1) == top:
                return r2, c2
        return row, col

    def raw(self, row: int, col: int) -> Raw | None:
        """The value shown at (row, col): a merged range shows its top-left value everywhere."""
        return self.cells.get(self.anchor(row, col))

    def text(self, row: int, col: int) -> str:
        return self._text_at.get(self.anchor(row, col), "")

    def ref(self, row: int, col: int) -> CellRef:
        """The cell that holds the value shown at (row, col)."""
        top_row, top_col = self.anchor(row, col)
        return CellRef(self.name, top_row, top_col)

    def is_uncached(self, row: int, col: int) -> bool:
        return self.anchor(row, col) in self.uncached

    def key(self, row: int, col: int) -> str:
        """The label key of the cell's own text (not of a merged range's anchor)."""
        found = self._key_at.get((row, col))
        if found is None:
            found = self._key_at[(row, col)] = label_key(self._text_at.get((row, col), ""))
        return found

    def row_texts(self, row: int) -> list[tuple[int, str]]:
        """(col, text) of the non-empty cells of one row."""
        if not self._by_row and self._texts:
            for r, c, text in self._texts:
                self._by_row.setdefault(r, []).append((c, text))
        return self._by_row.get(row, [])

    def iter_text(self) -> Iterator[tuple[int, int, str]]:
        """Every non-empty cell as (row, col, normalized text), row by row."""
        yield from self._texts


@dataclass(frozen=True)
class WorkbookGrids:
    path: Path
    sheets: tuple[Grid, ...]
    notes: tuple[str, ...]
    drawings: tuple[str, ...]
    hidden: tuple[str, ...] = ()


def _grid_from_rows(name: str, rows: list[list[Raw]], start: tuple[int, int]) -> dict[tuple[int, int], Raw]:
    cells: dict[tuple[int, int], Raw] = {}
    first_row, first_col = start
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            cells[(first_row + r + 1, first_col + c + 1)] = value
    return cells


def load_grids(path: Path, *, limits: safety.Limits = safety.DEFAULT_LIMITS) -> WorkbookGrids:
    """Read every sheet of a workbook, hidden ones too (their names in `hidden`), (.xlsx, .xlsm, .xls) into grids.

    Raises `safety.UnreadableWorkbook` with a Chinese reason for anything that
    is not a readable workbook.
    """
    import python_calamine

    fmt = safety.sniff(path)
    facts = safety.preflight(path, fmt, limits)
    states = {sheet.name: sheet for sheet in facts.sheets}
    before = safety.fingerprint(path)
    notes: list[str] = []
    sheets: list[Grid] = []
    hidden: list[str] = []
    try:
        with safety.open_regular(path) as handle:
            book = python_calamine.CalamineWorkbook.from_filelike(handle)
            for name in book.sheet_names:
                sheet_facts = states.get(name)
                state = sheet_facts.state if sheet_facts else "visible"
                if state != "visible":
                    # A form on a hidden sheet is still read and checked (read_workbook says so).
                    hidden.append(name)
                sheet = book.get_sheet_by_name(name)
                rows = sheet.to_python()
                start = sheet.start or (0, 0)
                cells = _grid_from_rows(name, rows, start)
                if is_result_sheet(name, cells.get((1, 1))):
                    notes.append(f"已忽略本工具生成的“{name}”工作表")
                    continue
                merged = tuple(
                    (r1 + 1, c1 + 1, r2 + 1, c2 + 1) for (r1, c1), (r2, c2) in (sheet.merged_cell_ranges or [])
                )
                uncached: set[tuple[int, int]] = set()
                if sheet_facts is not None:
                    for a1 in sheet_facts.formula_cells_without_value:
                        ref = CellRef.parse(name, a1)
                        uncached.add((ref.row, ref.col))
                    for a1, shown in sheet_facts.error_values:
                        # What Excel shows (#DIV/0!), so a number field holding it is "not a number" (F03).
                        ref = CellRef.parse(name, a1)
                        cells.setdefault((ref.row, ref.col), shown)
                sheets.append(Grid(name, cells, merged, frozenset(uncached)))
    except safety.UnreadableWorkbook:
        raise
    except MemoryError as exc:
        raise safety.UnreadableWorkbook("读取时内存不足，文件过大") from exc
    except Exception as exc:  # calamine's own error types are not importable by name
        raise safety.UnreadableWorkbook(f"工作簿内容已损坏，无法读取（{type(exc).__name__}）") from exc
    if safety.fingerprint(path) != before:
        raise safety.UnreadableWorkbook("文件在读取过程中被修改，可能仍在写入，请稍后重试")
    if sheets:
        notes.insert(0, "已读取工作表：" + "、".join(f"“{g.name}”" for g in sheets))
    return WorkbookGrids(path, tuple(sheets), tuple(notes), tuple(facts.drawings), tuple(hidden))
