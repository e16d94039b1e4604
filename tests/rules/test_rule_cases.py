"""Every rule's cases (perf_eval/rules/cases/<ID>.toml), run on edited copies of the sample workbooks.

`pytest tests/rules -k B05` runs one rule's cases. A case pins down exactly the
findings of its rule (and of any rule it names): the cells and the severities,
never the wording.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest
from workbook_edit import SAMPLES, Field, LabelError, edit, labels, read_fields, resolve

from perf_eval.checker import check_paths
from perf_eval.model import Finding
from perf_eval.reading.grid import load_grids
from perf_eval.rules import examples
from perf_eval.rules.examples import Case, Value
from perf_eval.values import Kind, normalize

ALL_CASES = [case for path in examples.all_case_files() for case in examples.parse(path).cases]

Found = list[tuple[str, str | None, str | None, str]]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        metafunc.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])


def _cell(finding: Finding) -> str | None:
    """Where a finding is: "Sheet!A1", a whole sheet ("Sheet"), or the whole workbook (None)."""
    if finding.cell:
        return f"{finding.sheet}!{finding.cell}"
    return finding.sheet


def findings(paths: Sequence[Path], profile: str | None) -> list[Finding]:
    report = check_paths(list(paths), profile=profile)
    assert all(f.error is None for f in report.files), [f.error for f in report.files]
    return [finding for file in report.files for finding in file.deviations]


def projection(found: Sequence[Finding], rules: frozenset[str]) -> Found:
    """(rule, cell, place in the report, severity) of the findings of these rules, sorted."""
    return sorted(
        (f.rule, _cell(f), f.place.text if f.place else None, f.severity.value) for f in found if f.rule in rules
    )


def expected(case: Case) -> Found:
    return sorted((e.rule, e.cell, e.place, e.severity) for e in case.expect)


@cache
def unedited(base: tuple[str, ...], profile: str | None, rules: frozenset[str]) -> Found:
    return projection(findings([SAMPLES / b for b in base], profile), rules)


def test_case(case: Case, edited: Callable[[Case], list[Path]]) -> None:
    found = findings(edited(case), case.profile)
    assert projection(found, case.rules_checked) == expected(case), case.desc
    # Every message of the checked rules is fully rendered (no "{placeholder}" left), whatever its words.
    assert not [f.message for f in found if f.rule in case.rules_checked and "{" in f.message]


@pytest.mark.parametrize("failing", [c for c in ALL_CASES if not c.passing and c.set], ids=lambda c: c.id)
def test_a_failing_case_fails_because_of_its_edit(failing: Case) -> None:
    """The unedited sample does not already give the expected findings: the edit is what the rule catches."""
    assert unedited(failing.base, failing.profile, failing.rules_checked) != expected(failing)


def _reads_back(field: Field | None, value: Value) -> bool:
    """The reader sees the value the case set (a renamed field is compared as its whole cell)."""
    if field is None:
        return False
    entry = field.entry
    if value == "":
        return entry.text == ""
    if isinstance(value, str) and value.startswith("="):
        return entry.number.kind is Kind.UNCACHED
    if isinstance(value, int | float):
        return entry.value is not None and abs(entry.value - value) < 1e-9
    return entry.text == normalize(value)


def test_every_edit_lands_where_the_reader_then_finds_it(case: Case, edited: Callable[[Case], list[Path]]) -> None:
    paths = edited(case)
    for sheet, values in case.set.items():
        (base, path) = next((b, p) for b, p in zip(case.base, paths, strict=True) if sheet in labels(b))
        after = read_fields(path)[sheet]
        for label, value in values.items():
            before = resolve(base, sheet, label)
            field = after.get(label)
            if field is None or field.text is None:
                # A title, an 一级指标 or a 三级指标 renames its own label: find it by its cell.
                grid = next(g for g in load_grids(path).sheets if g.name == sheet)
                assert grid.text(before.ref.row, before.ref.col) == normalize(value), (label, value)
            else:
                assert field.ref == before.ref and _reads_back(field, value), (label, value, field.entry)


def test_an_unknown_label_is_refused_not_guessed(tmp_path: Path) -> None:
    case = replace(examples.load("B05").cases[0], set={"附件2": {"项目支出 / 2022年": 1}})  # type: ignore[union-attr]
    with pytest.raises(LabelError, match="not a field the readers found"):
        edit(case, tmp_path)
    assert not list(tmp_path.iterdir())


def test_a_value_sharing_its_cell_with_its_label_replaces_only_the_value(tmp_path: Path) -> None:
    case = replace(examples.load("X01").cases[0], set={"附件3": {"按支出性质分 / 项目支出": 200}})  # type: ignore[union-attr]
    (path,) = edit(case, tmp_path)
    grid = next(g for g in load_grids(path).sheets if g.name == "附件3")
    ref = resolve(case.base[0], "附件3", "按支出性质分 / 项目支出").ref
    assert grid.raw(ref.row, ref.col) == "项目支出：200"
