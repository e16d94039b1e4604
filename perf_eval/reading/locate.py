"""Finding fields by their label text, never by a fixed address (docs/domain.md §2)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from perf_eval.forms import Entry
from perf_eval.model import FormKind
from perf_eval.reading.grid import Grid
from perf_eval.values import Kind, Number, as_written, normalize, parse_number

TITLE_MARKERS: dict[FormKind, tuple[str, ...]] = {
    FormKind.BASIC_DATA: ("基础数据表",),
    # Old Hunan (H): 部门整体支出绩效评价评分表.
    FormKind.DEPT_SELF_EVAL: (
        "整体支出绩效自评表",
        "整体绩效自评表",
        "绩效评价指标体系评分表",
        "整体支出绩效评价评分表",
    ),
    # 部门预算项目支出绩效自评表 (B), 绩效目标自评表 (C), 项目自评表 (D), 预算项目绩效自评表 (J).
    FormKind.PROJECT_SELF_EVAL: ("项目支出绩效自评表", "绩效目标自评表", "项目自评表", "项目绩效自评表"),
}
# What F01 says was looked for.
LOOKED_FOR = (
    "标题含“基础数据表”“整体支出绩效自评表”或“项目支出绩效自评表”，或表头含“编制数/三公经费”或“一级指标/三级指标”"
)
# A title is short; a sentence that mentions a form ("附件：1.…基础数据表；2.…") is not one.
_TITLE_MAX = 60


@dataclass(frozen=True)
class Region:
    """Rows [first, last] of one sheet holding one form."""

    kind: FormKind
    grid: Grid
    first: int
    last: int
    title: str
    title_row: int | None

    def cells(self) -> Iterator[tuple[int, int, str]]:
        for row, col, text in self.grid.iter_text():
            if self.first <= row <= self.last:
                yield row, col, text

    def find(self, match: Callable[[str], bool], *, start: int | None = None) -> tuple[int, int] | None:
        """First cell (row by row) whose label key matches."""
        for row, col, _ in self.cells():
            if (start is None or row >= start) and match(self.grid.key(row, col)):
                return row, col
        return None

    def find_all(self, match: Callable[[str], bool]) -> list[tuple[int, int]]:
        return [(row, col) for row, col, _ in self.cells() if match(self.grid.key(row, col))]

    def row_cells(self, row: int) -> list[tuple[int, str]]:
        """(col, label key) of the cells anchored on this row."""
        if not self.first <= row <= self.last:
            return []
        return [(col, self.grid.key(row, col)) for col, _ in self.grid.row_texts(row)]

    def first_text(self, row: int) -> str:
        """The text of the row's first non-empty cell."""
        cells = self.grid.row_texts(row) if self.first <= row <= self.last else []
        return cells[0][1] if cells else ""

    def entry(self, row: int, col: int, parse: Callable[[object], Number] = parse_number) -> Entry:
        """The value shown at (row, col), parsed; an uncached formula is marked, not read as blank."""
        ref = self.grid.ref(row, col)
        raw = self.grid.raw(row, col)
        if self.grid.is_uncached(row, col):
            return Entry(ref, "", Number(Kind.UNCACHED))
        written = as_written(raw)
        return Entry(ref, normalize(written), parse(raw), written)

    def right_of(self, row: int, col: int) -> tuple[int, int] | None:
        """The first non-empty cell to the right of the (merged) cell at (row, col), same row."""
        _, end_col = self.grid.merge_end(row, col)
        for c in range(end_col + 1, self.grid.max_col + 1):
            if self.grid.text(row, c):
                return self.grid.anchor(row, c)
        return None

    def below(self, row: int, col: int) -> int:
        """The first row under the (merged) header cell at (row, col)."""
        end_row, _ = self.grid.merge_end(row, col)
        return end_row + 1


def _title_kind(text: str) -> FormKind | None:
    # A note ("注：按支出性质分的项目支出应与基础数据表一致。") mentions a form without being its title.
    if len(text) > _TITLE_MAX or text.startswith(("注", "说明", "备注", "填表说明", "附件:", "附件：")):
        return None
    for kind, markers in TITLE_MARKERS.items():
        if any(marker in text for marker in markers):
            return kind
    return None


def _has(grid: Grid, first: int, last: int, *keys: str) -> bool:
    found = {grid.key(row, col) for row, col, _ in grid.iter_text() if first <= row <= last}
    return all(any(key == k or k.startswith(key) for k in found) for key in keys)


def _header_kind(grid: Grid, first: int, last: int) -> FormKind | None:
    if _has(grid, first, last, "一级指标", "三级指标") or _has(grid, first, last, "指标名称", "指标权重"):
        return FormKind.PROJECT_SELF_EVAL if _has(grid, first, last, "项目名称") else FormKind.DEPT_SELF_EVAL
    if _has(grid, first, last, "编制数") and (
        _has(grid, first, last, "三公经费") or _has(grid, first, last, "经费控制情况")
    ):
        return FormKind.BASIC_DATA
    return None


def locate_forms(grid: Grid) -> list[Region]:
    """The forms on one sheet: by title, else by header text; several titles split the sheet."""
    titles: list[tuple[int, FormKind, str]] = []
    for row, _, text in grid.iter_text():
        kind = _title_kind(text)
        if kind is not None and not any(t[0] == row for t in titles):
            titles.append((row, kind, text))
    last_row = grid.max_row
    # A title whose rows hold none of its form's headers is a mention, not a form: drop it.
    kept: list[tuple[int, FormKind, str]] = []
    for index, title in enumerate(titles):
        end = titles[index + 1][0] - 1 if index + 1 < len(titles) else last_row
        if _header_kind(grid, title[0], end) is not None or (index == 0 and _header_kind(grid, 1, end)):
            kept.append(title)
    titles = kept
    if not titles:
        kind = _header_kind(grid, 1, last_row)
        return [Region(kind, grid, 1, last_row, "", None)] if kind else []
    regions: list[Region] = []
    for index, (row, kind, text) in enumerate(titles):
        # A form starts a little above its title ("附件2" rows) and ends before the next title.
        first = 1 if index == 0 else row
        last = titles[index + 1][0] - 1 if index + 1 < len(titles) else last_row
        # The title names the form; the header text corrects a project/overall mix-up.
        header_kind = _header_kind(grid, first, last)
        if kind is not FormKind.BASIC_DATA and header_kind in (FormKind.DEPT_SELF_EVAL, FormKind.PROJECT_SELF_EVAL):
            kind = header_kind
        regions.append(Region(kind, grid, first, last, text, row))
    return regions


_FOOTER_LABELS = ("填表人", "填报日期", "联系电话", "单位负责人")
_FOOTER_SPLIT = re.compile("(" + "|".join(_FOOTER_LABELS) + ")[:：]?")


def read_footer(region: Region) -> dict[str, Entry]:
    """填表人 / 填报日期 / 联系电话 / 单位负责人, written in one cell or label-then-value cells."""
    footer: dict[str, Entry] = {}
    for row, col, text in region.cells():
        if not any(label in text for label in _FOOTER_LABELS):
            continue
        pieces = _FOOTER_SPLIT.split(text)
        # pieces: [before, label1, value1, label2, value2, ...]
        for label, value in zip(pieces[1::2], pieces[2::2], strict=True):
            if label in footer:
                continue
            ref = region.grid.ref(row, col)
            if not value and len(pieces) == 3:
                neighbour = region.right_of(row, col)
                if neighbour is not None and not any(lab in region.grid.text(*neighbour) for lab in _FOOTER_LABELS):
                    footer[label] = Entry(region.grid.ref(*neighbour), region.grid.text(*neighbour))
                    continue
            footer[label] = Entry(ref, value)
    return footer


def inline_or_right(region: Region, row: int, col: int) -> Entry:
    """A value written after the label's colon in the same cell, or in the next cell to the right."""
    text = region.grid.text(row, col)
    for colon in (":", "："):
        if colon in text:
            value = text.split(colon, 1)[1]
            if value:
                return Entry(region.grid.ref(row, col), value)
    neighbour = region.right_of(row, col)
    if neighbour is None:
        return Entry(region.grid.ref(row, col), "")
    return Entry(region.grid.ref(*neighbour), region.grid.text(*neighbour))
