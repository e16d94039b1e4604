"""An .xlsx/.xlsm rewritten with openpyxl before it is marked: an earlier run's marks removed, or parts
`package` does not edit normalised; an .xls rebuilt as an .xlsx (`xls`). What openpyxl drops
while loading becomes a Chinese note."""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import openpyxl
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.styles import Border
from openpyxl.styles.cell_style import StyleArray
from openpyxl.worksheet.merge import MergedCellRange

from perf_eval.outputs.annotate.cached import cached_values, formula_cells, saved, uncached_note
from perf_eval.outputs.annotate.previous import strip_previous_run
from perf_eval.outputs.annotate.xls import XLS_NOTE, xls_workbook


def rebuilt_xls(data: bytes) -> tuple[bytes, tuple[str, ...]]:
    return saved(xls_workbook(data), {}), (XLS_NOTE,)


def rewritten(data: bytes, macros: bool, drawings: Sequence[str]) -> tuple[bytes, tuple[str, ...]]:
    """The package as openpyxl loads and saves it, without an earlier run's marks; and what it lost."""
    workbook, notes = _load_ooxml(data, macros)
    strip_previous_run(workbook)
    formulas = formula_cells(workbook)
    cached = cached_values(data, formulas)
    kept = [name for name in drawings if name in workbook.sheetnames]  # not an earlier 校验结果 sheet's
    notes = (*notes, *_threaded_note(data), *drawing_notes(kept), *uncached_note(formulas, cached))
    return saved(workbook, cached), notes


def _threaded_note(data: bytes) -> tuple[str, ...]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        threaded = any(name.lower().startswith("xl/threadedcomments/") for name in archive.namelist())
    return ("新版批注（可回复的批注）未能保留在批注副本中，请以原文件为准",) if threaded else ()


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


def _load_ooxml(data: bytes, macros: bool) -> tuple[Workbook, tuple[str, ...]]:
    # catch_warnings is process-wide: annotate files in processes, not threads, to keep notes apart.
    with warnings.catch_warnings(record=True) as caught, memoised_merge_borders():
        warnings.simplefilter("always")
        workbook = load_workbook(io.BytesIO(data), keep_vba=macros, rich_text=True, keep_links=True)
    # A template (.xltx/.xltm) is saved as an ordinary workbook, matching the copy's extension.
    workbook.template = False
    notes = tuple(_warning_note(str(w.message)) for w in caught)
    return workbook, tuple(dict.fromkeys(notes))


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


def drawing_notes(drawings: Sequence[str]) -> list[str]:
    # openpyxl drops images (without Pillow) and shapes, and rebuilds charts in its own way.
    return [
        f"工作表 {name} 中的图片/图表/形状未能完整保留在批注副本中，请以原文件为准" for name in dict.fromkeys(drawings)
    ]
