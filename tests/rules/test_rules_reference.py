"""docs/rules.md is generated from the catalogue and the cases, and kept up to date."""

from __future__ import annotations

from pathlib import Path

import pytest

from perf_eval.rules import docgen, examples
from perf_eval.rules.catalogue import all_rules


def test_rules_reference_is_up_to_date() -> None:
    assert docgen.DOC.read_text(encoding="utf-8") == docgen.render(), (
        "docs/rules.md is stale: run python -m perf_eval.rules.docgen"
    )


def test_rules_reference_shows_every_rule_with_its_parameters_and_cases() -> None:
    text = docgen.render()
    for rule in all_rules():
        section = text.split(f"## {rule.id} {rule.title}\n", 1)[1].split("\n## ", 1)[0]
        assert rule.doc.splitlines()[0] in section
        cases = examples.load(rule.id)
        assert cases is not None
        for key in cases.parameters:
            assert f"| `{key}` |" in section
        for case in cases.cases:
            assert case.desc in section


def test_check_fails_on_a_stale_reference_and_passes_once_regenerated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = tmp_path / "rules.md"
    doc.write_text("# 规则参考\n", encoding="utf-8")
    monkeypatch.setattr(docgen, "DOC", doc)
    assert docgen.main(["--check"]) == 1
    assert docgen.main([]) == 0
    assert docgen.main(["--check"]) == 0
    assert doc.read_text(encoding="utf-8") == docgen.render()
