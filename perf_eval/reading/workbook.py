"""Workbook → forms: the reading layer's entry point."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from perf_eval.forms import Form
from perf_eval.model import FormKind
from perf_eval.reading import safety
from perf_eval.reading.basic_data import read_basic_data
from perf_eval.reading.grid import load_grids
from perf_eval.reading.locate import locate_forms
from perf_eval.reading.self_eval import read_self_eval


@dataclass(frozen=True)
class ReadWorkbook:
    path: Path
    forms: tuple[Form, ...]
    sheets: tuple[str, ...]
    notes: tuple[str, ...]
    drawings: tuple[str, ...]


def read_workbook(path: Path, *, limits: safety.Limits = safety.DEFAULT_LIMITS) -> ReadWorkbook:
    """Every form found on every sheet, hidden ones too; raises `safety.UnreadableWorkbook`."""
    grids = load_grids(path, limits=limits)
    forms: list[Form] = []
    notes = list(grids.notes)
    for grid in grids.sheets:
        found = 0
        for region in locate_forms(grid):
            found += 1
            if region.kind is FormKind.BASIC_DATA:
                forms.append(read_basic_data(region))
            else:
                forms.append(read_self_eval(region))
        if grid.name in grids.hidden:
            notes.append(
                f"工作表“{grid.name}”是隐藏的，其中的表单已读取并检查"
                if found
                else f"隐藏工作表“{grid.name}”中没有可识别的表单"
            )
    return ReadWorkbook(path, tuple(forms), tuple(g.name for g in grids.sheets), tuple(notes), grids.drawings)
