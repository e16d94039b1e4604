"""Shared by the rule tests: each case's edited workbooks, written once per session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from workbook_edit import edit

from perf_eval.rules.examples import Case


@pytest.fixture(scope="session")
def edited(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Case], list[Path]]:
    """The case's sample workbooks with its cells set (copies; the samples are never written)."""
    made: dict[str, list[Path]] = {}

    def paths(case: Case) -> list[Path]:
        if case.id not in made:
            made[case.id] = edit(case, tmp_path_factory.mktemp(case.id))
        return made[case.id]

    return paths
