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
    """Every form found on every visible sheet; raises `safety.UnreadableWorkbook`."""
    grids = load_grids(path, limits=limits)
    forms: list[Form] = []
    for grid in grids.sheets:
        for region in locate_forms(grid):
            if region.kind is FormKind.BASIC_DATA:
                forms.append(read_basic_data(region))
            else:
                forms.append(read_self_eval(region))
    return ReadWorkbook(path, tuple(forms), tuple(g.name for g in grids.sheets), grids.notes, grids.drawings)
