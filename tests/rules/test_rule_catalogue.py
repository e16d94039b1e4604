"""The catalogue: stable, documented, exemplified by cases, listed by the CLI (as strict as sqlfluff's rule tests)."""

from __future__ import annotations

import re
import string
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from perf_eval import profiles
from perf_eval.cli import app
from perf_eval.forms import BasicData, SelfEval
from perf_eval.model import FormKind
from perf_eval.narrative.check import form_sets, partners_of, statements_for
from perf_eval.narrative.document import is_report_path, read_report
from perf_eval.profiles import Profile
from perf_eval.reading.workbook import read_workbook
from perf_eval.rules import examples
from perf_eval.rules.catalogue import Context, Rule, Scope, all_rules
from perf_eval.rules.examples import Case
from perf_eval.rules.narrative import ReportInput

ROOT = Path(__file__).resolve().parents[2]
RULES = all_rules()
_CJK = re.compile(r"[\u4e00-\u9fff]")

DOMAIN_IDS = {
    *(f"F0{i}" for i in range(1, 7)),
    *(f"B{i:02d}" for i in range(1, 12)),
    *(f"S{i:02d}" for i in range(1, 16)),
    "X01",
    "X02",
}


def by_rule(test: Callable[[Rule], None]) -> Callable[[Rule], None]:
    return pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])(test)


def test_ids_unique_well_formed_and_cover_the_domain_catalogue() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[FBSXN][0-9]{2}", i) for i in ids)
    assert DOMAIN_IDS <= set(ids)


def test_rule_names_are_unique_and_dotted() -> None:
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z_]+\.[a-z_]+", n) for n in names), names


@by_rule
def test_docstring_first_line_says_what_it_checks(rule: Rule) -> None:
    summary, *rest = rule.doc.split("\n")
    assert summary.strip() and summary.endswith("."), rule.id
    # One line, then a blank line before any further paragraph (a wrapped first line is shown cut).
    assert not rest or rest[0] == "", rule.id
    assert len(summary) <= 120, rule.id


@by_rule
def test_docstring_leaves_examples_to_the_cases_and_points_nowhere_outside(rule: Rule) -> None:
    assert not re.search(r"^\s*(不通过|通过)[：:]", rule.doc, re.MULTILINE), rule.id
    assert not re.search(r"domain\.md|§|\.\./", rule.doc), rule.id


@by_rule
def test_title_and_templates_are_chinese_and_well_formed(rule: Rule) -> None:
    assert _CJK.search(rule.title) and not rule.title.endswith(("。", ".", "：")), rule.id
    for template in (rule.template, *(t for _, t in rule.variants.values())):
        assert _CJK.search(template), rule.id
        fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
        assert all(re.fullmatch(r"[a-z_]+", f) for f in fields), (rule.id, fields)


@by_rule
def test_every_rule_has_a_passing_and_a_failing_case(rule: Rule) -> None:
    cases = examples.load(rule.id)
    assert cases is not None, f"no perf_eval/rules/cases/{rule.id}.toml"
    assert cases.failing and cases.passing, rule.id


@by_rule
def test_every_severity_a_rule_can_give_has_a_failing_case(rule: Rule) -> None:
    cases = examples.load(rule.id)
    assert cases is not None
    severities = {rule.severity.value, *((s or rule.severity).value for s, _ in rule.variants.values())}
    shown = {e.severity for c in cases.failing for e in c.expect if e.rule == rule.id}
    # A profile may lower one case of a rule further ([severity] "S10.explained" = "info"): at least these.
    assert severities <= shown, rule.id


def test_every_case_file_belongs_to_a_rule() -> None:
    ids = {r.id for r in RULES}
    for path in examples.all_case_files():
        assert path.stem in ids, path.name
        assert examples.parse(path).rule == path.stem


def test_every_rule_is_listed_by_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "perf_eval", "rules"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
        cwd=ROOT,
    ).stdout
    for rule in RULES:
        assert rule.id in out


@by_rule
def test_rules_id_shows_a_failing_and_a_passing_case(rule: Rule) -> None:
    cases = examples.load(rule.id)
    assert cases is not None
    result = CliRunner().invoke(app, ["rules", rule.id], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert f"不通过：{cases.failing[0].desc}" in result.output
    assert f"通过：{cases.passing[0].desc}" in result.output


# The profile keys a rule declares are the ones it reads --------------------------------------

# Profile attribute -> the key in schemas/*.toml; identification fields are no rule parameter.
_KEYS = {
    "amount_tolerance": "tolerance.amount",
    "score_tolerance": "tolerance.score",
    "rate_tolerance": "tolerance.rate",
    "budget_deviation": "thresholds.budget_deviation",
    "budget_deviation_floor": "thresholds.budget_deviation_floor",
    "target_exceeded": "thresholds.target_exceeded",
    "total": "thresholds.total",
    "weights": "weights",
    "execution_rate_weight": "weights",
    "grades": "grades",
}
_NOT_PARAMETERS = {"name", "title"}


class RecordingProfile:
    """A profile that notes which of its fields a rule reads."""

    def __init__(self, profile: Profile) -> None:
        self._profile = profile
        self.read: set[str] = set()

    def __getattr__(self, name: str) -> object:
        assert name in _KEYS or name in _NOT_PARAMETERS, f"profile field {name} has no key in _KEYS"
        if name in _KEYS:
            self.read.add(_KEYS[name])
        return getattr(self._profile, name)

    def grade(self, total: float) -> str:
        self.read.add("grades")
        return self._profile.grade(total)


def _report_contexts(case: Case, paths: list[Path]) -> list[Context]:
    """As the checker builds them: the report's statements with each set of its unit's forms."""
    workbooks = [read_workbook(p) for p in paths if not is_report_path(p)]
    profile = profiles.load(case.profile) if case.profile else profiles.default_for(FormKind.DEPT_SELF_EVAL)
    out: list[Context] = []
    for path in filter(is_report_path, paths):
        document = read_report(path)
        partners = partners_of(document, form_sets(workbooks))
        statements = statements_for(document, partners)
        for partner in partners:
            recording: Profile = RecordingProfile(profile)  # type: ignore[assignment]
            out.append(Context(recording, partner.basic, partner.evaluation, report=ReportInput(statements)))
    return out


def _contexts(rule: Rule, case: Case, paths: list[Path]) -> list[Context]:
    if Scope.REPORT in rule.scopes:
        return _report_contexts(case, paths)
    forms = [form for path in paths if not is_report_path(path) for form in read_workbook(path).forms]
    out: list[Context] = []
    for form in forms:
        profile = profiles.load(case.profile) if case.profile else profiles.default_for(form.info.kind)
        recording: Profile = RecordingProfile(profile)  # type: ignore[assignment]
        if isinstance(form, BasicData) and {Scope.BASIC, Scope.FORM} & set(rule.scopes):
            out.append(Context(recording, basic=form))
        if isinstance(form, SelfEval) and {Scope.SELF_EVAL, Scope.FORM} & set(rule.scopes):
            out.append(Context(recording, self_eval=form))
        if isinstance(form, SelfEval) and Scope.PAIR in rule.scopes:
            basic = next((f for f in forms if isinstance(f, BasicData)), None)
            if basic is not None:
                out.append(Context(recording, basic, form))
    return out


@by_rule
def test_declared_parameters_are_the_profile_keys_the_rule_reads(
    rule: Rule, edited: Callable[[Case], list[Path]]
) -> None:
    cases = examples.load(rule.id)
    assert cases is not None and rule.build is not None
    read: set[str] = set()
    for case in cases.cases:
        for ctx in _contexts(rule, case, edited(case)):
            list(rule.build(ctx))
            read |= ctx.profile.read  # type: ignore[attr-defined]
    assert read == set(cases.parameters), rule.id


def test_rules_id_reads_its_examples_without_loading_a_workbook_library() -> None:
    code = (
        "import sys; from perf_eval.cli import show_rules; show_rules('B05'); "
        "print('pandas' in sys.modules, 'pandera' in sys.modules, 'openpyxl' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, encoding="utf-8", check=True)
    assert out.stdout.split()[-3:] == ["False", "False", "False"]
    assert "324.12" in out.stdout
