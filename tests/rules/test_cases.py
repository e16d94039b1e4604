"""Every rule's cases (perf_eval/rules/cases/<ID>.toml), run on edited copies of the sample workbooks.

`pytest tests/rules -k B05` runs one rule's cases. A case pins down exactly the
findings of its rule (and of any rule it names): the cells and the severities,
never the wording.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

import pytest
from workbook_edit import SAMPLES

from perf_eval.checker import check_paths
from perf_eval.model import Finding
from perf_eval.rules import examples
from perf_eval.rules.examples import Case

ALL_CASES = [case for path in examples.all_case_files() for case in examples.parse(path).cases]

Found = list[tuple[str, str | None, str]]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        metafunc.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])


def _cell(finding: Finding) -> str | None:
    return f"{finding.sheet}!{finding.cell}" if finding.cell else None


def findings(paths: Sequence[Path], profile: str | None) -> list[Finding]:
    report = check_paths(list(paths), profile=profile)
    assert all(f.error is None for f in report.files), [f.error for f in report.files]
    return [finding for file in report.files for finding in file.deviations]


def projection(found: Sequence[Finding], rules: frozenset[str]) -> Found:
    return sorted((f.rule, _cell(f), f.severity.value) for f in found if f.rule in rules)


@cache
def unedited(base: tuple[str, ...], profile: str | None, rules: frozenset[str]) -> Found:
    return projection(findings([SAMPLES / b for b in base], profile), rules)


def test_case(case: Case, edited: Callable[[Case], list[Path]]) -> None:
    found = findings(edited(case), case.profile)
    expected = sorted((e.rule, e.cell, e.severity) for e in case.expect)
    assert projection(found, case.rules_checked) == expected, case.desc
    # Every message of the checked rules is fully rendered (no "{placeholder}" left), whatever its words.
    assert not [f.message for f in found if f.rule in case.rules_checked and "{" in f.message]


@pytest.mark.parametrize("failing", [c for c in ALL_CASES if not c.passing and c.set], ids=lambda c: c.id)
def test_a_failing_case_fails_because_of_its_edit(failing: Case) -> None:
    """The unedited sample does not already give the expected findings: the edit is what the rule catches."""
    expected = sorted((e.rule, e.cell, e.severity) for e in failing.expect)
    assert unedited(failing.base, failing.profile, failing.rules_checked) != expected
