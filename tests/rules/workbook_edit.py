"""Edit a copy of a sample workbook by field labels, the way the readers name the fields.

A label is what the readers call a field in their own output ("项目支出 / 2022年决算数",
"执行率", "财会监督专项行动 / 实际完成值", "总分 / 得分"): the labels are taken
from the forms `perf_eval.reading` reads out of the sample, so a case finds its
cell by the same logic the product uses, and a layout the readers misread makes
the case fail to resolve rather than edit the wrong cell.

Besides every number and text field the forms list, a few fields are named here:
"标题", "单位名称", "自评等级", "填表人"/"填报日期"/"联系电话"/"单位负责人",
"表头 / 上年决算数|本年预算数|本年决算数", "<一级指标名> / 一级指标" and
"<三级指标> / 三级指标".

When the reader found the value inside its label's own cell ("项目支出：238.43",
"填报日期：2024年3月15日"), only that value is replaced, not the label.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import openpyxl

from perf_eval.forms import BASIC_COLUMNS, COLUMN_LABELS, BasicData, Entry, Form, SelfEval
from perf_eval.model import CellRef
from perf_eval.reading.grid import load_grids
from perf_eval.reading.workbook import read_workbook
from perf_eval.rules.examples import Case, Value
from perf_eval.values import normalize

SAMPLES = Path(__file__).resolve().parents[2] / "sample_workbooks"


@dataclass(frozen=True)
class Field:
    ref: CellRef
    # The value as the reader saw it (normalized), to replace it alone when it shares a cell with its label;
    # None: the field is the whole cell (a title, an 一级指标 heading).
    text: str | None
    # What the reader made of the cell.
    entry: Entry = dataclasses.field(compare=False)


class LabelError(KeyError):
    pass


class _WholeCell(Entry):
    """A field that is its whole cell, label and all."""


def _fields(form: Form) -> Iterator[tuple[str, Entry]]:
    """(label, entry) of every field a case may set."""
    yield from ((label, entry) for entry, label in form.number_fields())
    yield from form.footer.items()
    if form.unit_ref is not None:
        yield "单位名称", Entry(form.unit_ref, form.info.unit or "")
    if isinstance(form, BasicData):
        for column in BASIC_COLUMNS:
            header = form.column_headers.get(column)
            if header is not None:
                yield f"表头 / {COLUMN_LABELS[column]}", header
    if isinstance(form, SelfEval):
        yield from ((label, entry) for entry, label in form.text_fields())
        for indicator in form.indicators:
            yield f"{indicator.label} / 三级指标", indicator.level3
        for category in form.categories:
            yield f"{category.name} / 一级指标", _WholeCell(category.ref)
        if form.grade.ref is not None:
            yield "自评等级", form.grade


def read_fields(path: Path) -> dict[str, dict[str, Field | None]]:
    """sheet -> label -> field, for every form the readers find in the workbook; None marks an ambiguous label."""
    workbook = read_workbook(path)
    grids = {grid.name: grid for grid in load_grids(path).sheets}
    out: dict[str, dict[str, Field | None]] = {}
    for form in workbook.forms:
        sheet = out.setdefault(form.info.sheet, {})
        for label, entry in _fields(form):
            if entry.ref is None:
                continue
            field = Field(entry.ref, None if isinstance(entry, _WholeCell) else entry.text, entry)
            sheet[label] = None if label in sheet and sheet[label] != field else field
        grid = grids[form.info.sheet]
        title = next((ref for _, ref in form.year_refs if grid.text(ref.row, ref.col) == form.info.title), None)
        if form.info.title and title is not None:
            sheet["标题"] = Field(title, None, Entry(title, form.info.title))
    return out


def is_workbook(base: str) -> bool:
    """A sample workbook, as opposed to a written report (.docx), which a case uses as it is."""
    return Path(base).suffix.lower() in (".xlsx", ".xlsm", ".xls")


@cache
def labels(base: str) -> dict[str, dict[str, Field | None]]:
    """The fields of a sample workbook (read once); a report has none."""
    return read_fields(SAMPLES / base) if is_workbook(base) else {}


@cache
def _book(path: Path) -> openpyxl.Workbook:
    """The sample, loaded once: loading is most of an edit's cost; `edit` restores every cell it sets."""
    return openpyxl.load_workbook(path)


def resolve(base: str, sheet: str, label: str) -> Field:
    sheets = labels(base)
    if sheet not in sheets:
        raise LabelError(f"{base}: no form on sheet {sheet!r} (forms on {sorted(sheets)})")
    field = sheets[sheet].get(label)
    if field is None:
        hint = "is ambiguous" if label in sheets[sheet] else "is not a field the readers found"
        raise LabelError(f"{base}: {sheet} / {label!r} {hint}")
    return field


def _new_value(old: object, field: Field, value: Value) -> object:
    """The cell's new content: the value, or the old text with only the reader's value replaced."""
    written: object = None if value == "" else value
    if field.text is None or old is None or normalize(old) == field.text or not isinstance(old, str):
        return written
    # The label and its value share the cell ("项目支出：238.43").
    if field.text and field.text in old:
        return old.replace(field.text, "" if written is None else str(written), 1)
    raise LabelError(f"cannot find the value {field.text!r} inside {old!r} at {field.ref}")


def edit(case: Case, out_dir: Path) -> list[Path]:
    """Copies of the case's sample workbooks with its cells set; the paths, in the case's order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    targets: dict[str, list[tuple[Field, Value]]] = {base: [] for base in case.base}
    for sheet, fields in case.set.items():
        owners = [base for base in case.base if sheet in labels(base)]
        if len(owners) != 1:
            raise LabelError(f"{case.id}: sheet {sheet!r} is on {len(owners)} of the case's workbooks")
        for label, value in fields.items():
            targets[owners[0]].append((resolve(owners[0], sheet, label), value))
    paths = []
    for base, edits in targets.items():
        if not is_workbook(base):
            paths.append(Path(shutil.copy(SAMPLES / base, out_dir / Path(base).name)))
            continue
        book = _book(SAMPLES / base)
        cells = [book[field.ref.sheet].cell(field.ref.row, field.ref.col) for field, _ in edits]
        before = [cell.value for cell in cells]
        try:
            for cell, (field, value) in zip(cells, edits, strict=True):
                cell.value = _new_value(cell.value, field, value)
            path = out_dir / Path(base).name
            book.save(path)
        finally:
            for cell, value in zip(cells, before, strict=True):
                cell.value = value
        paths.append(path)
    return paths
