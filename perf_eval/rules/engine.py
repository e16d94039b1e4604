"""Runs the catalogue: candidates → the form's frames → one pandera schema per frame → findings at cells.

An arithmetic rule's candidates become rows of the form's tidy frames (`rules.frames`), each
validated by its pandera schema, whose checks are the rules; the adapter there maps pandera's
failure cases back to the rows, hence to the candidates and their cells. A judgement rule's
candidate (`Op.FLAG`) carries its own verdict and becomes a finding when it is false.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import cache
from string import Formatter
from typing import Any

from perf_eval.forms import BasicData, SelfEval
from perf_eval.model import Finding
from perf_eval.profiles import Profile
from perf_eval.rules import frames
from perf_eval.rules.catalogue import Candidate, Context, Op, Quantity, Rule, Scope, all_rules, fmt, runs


def failing(candidates: Sequence[Candidate], profile: Profile, *, full: bool = False) -> list[int]:
    """Positions of the candidates that fail: judgement verdicts, then what the frames' schemas reject."""
    rules = {rule.id: rule for rule in all_rules()}
    out = [i for i, c in enumerate(candidates) if c.op is Op.FLAG and not c.ok]
    arithmetic = [i for i, c in enumerate(candidates) if c.op is not Op.FLAG]
    for rows in frames.build([candidates[i] for i in arithmetic], rules):
        out.extend(arithmetic[i] for i in frames.failing_rows(rows, profile, full=full))
    return sorted(out)


def _display(value: float | None, quantity: Quantity) -> float | None:
    if value is None:
        return None
    if quantity is Quantity.RATE:
        return round(value, 6)
    return round(value, 2)


def render(candidate: Candidate, rule: Rule, profile: Profile) -> Finding:
    severity, template = rule.message_for(candidate.variant)
    # A profile may change a rule's severity ("B08") or one case's ("S10.explained").
    key = f"{rule.id}.{candidate.variant}" if candidate.variant else rule.id
    severity = profile.severity.get(key, severity)
    expected = (
        candidate.expected_text if candidate.expected_text is not None else fmt(candidate.expected, candidate.quantity)
    )
    actual = candidate.actual_text if candidate.actual_text is not None else fmt(candidate.actual, candidate.quantity)
    values: dict[str, Any] = {"label": candidate.label, "expected": expected, "actual": actual, "text": ""}
    values.update(candidate.params)
    message = template.format(**values)
    ref = candidate.ref
    expected_out: float | str | None
    actual_out: float | str | None
    if candidate.quantity is Quantity.TEXT:
        expected_out, actual_out = candidate.expected_text, candidate.actual_text
    else:
        expected_out = _display(candidate.expected, candidate.quantity)
        actual_out = _display(candidate.actual, candidate.quantity)
    if not candidate.answer:
        expected_out = None
    return Finding(
        rule=rule.id,
        severity=severity,
        sheet=ref.sheet if ref else None,
        cell=ref.a1 if ref else None,
        label=candidate.label,
        message=message,
        expected=expected_out,
        actual=actual_out,
        related=candidate.related,
        place=candidate.place,
        fix=rule.fix,
        quantity=candidate.quantity.value if expected_out is not None or actual_out is not None else "",
        case=candidate.variant,
        params={
            name: _plain(values[name])
            for name in _fields(template)
            if not (name == "label" and values[name] == candidate.label)
        },
    )


@cache
def _fields(template: str) -> tuple[str, ...]:
    """The names a message template takes, in order."""
    return tuple(dict.fromkeys(name for _, name, _, _ in Formatter().parse(template) if name))


def _plain(value: Any) -> str | float | int:
    """A message parameter as JSON carries it: numbers stay numbers, anything else is its text."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return value


def _built(rule: Rule, ctx: Context) -> list[Candidate]:
    """A rule's candidates, unless the profile turns the rule (or one of its cases) off."""
    if rule.build is None or not runs(rule, ctx.profile):
        return []
    off = ctx.profile.disabled
    return [c for c in rule.build(ctx) if not (c.variant and f"{rule.id}.{c.variant}" in off)]


def form_candidates(form: BasicData | SelfEval, profile: Profile) -> list[Candidate]:
    """Assertions about one form on its own."""
    ctx = Context(profile, basic=form) if isinstance(form, BasicData) else Context(profile, self_eval=form)
    own = Scope.BASIC if isinstance(form, BasicData) else Scope.SELF_EVAL
    return [c for r in all_rules() if own in r.scopes or Scope.FORM in r.scopes for c in _built(r, ctx)]


def pair_candidates(basic: BasicData, self_eval: SelfEval, profile: Profile) -> list[Candidate]:
    """Assertions across a unit's 基础数据表 and 自评表; their cells are on the 自评表."""
    ctx = Context(profile, basic, self_eval)
    return [c for r in all_rules() if Scope.PAIR in r.scopes for c in _built(r, ctx)]


def report_candidates(ctx: Context) -> list[Candidate]:
    """Assertions of a written report against its unit's forms (`ctx.report` holds its statements)."""
    return [c for r in all_rules() if Scope.REPORT in r.scopes for c in _built(r, ctx)]


def evaluate(batches: Sequence[tuple[Sequence[Candidate], Profile]]) -> list[list[Finding]]:
    """The findings of each batch (one form, or a pair of forms, under its profile), in the same order.

    Batches under one profile are validated together: one pandera call per frame, however many forms.
    """
    by_id = {rule.id: rule for rule in all_rules()}
    groups: dict[int, list[int]] = {}
    for index, (_, profile) in enumerate(batches):
        groups.setdefault(id(profile), []).append(index)
    out: list[list[Finding]] = [[] for _ in batches]
    for members in groups.values():
        profile = batches[members[0]][1]
        flat = [(index, c) for index in members for c in batches[index][0]]
        for position in failing([c for _, c in flat], profile):
            index, candidate = flat[position]
            out[index].append(render(candidate, by_id[candidate.rule], profile))
    return out


def dedupe(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per (rule, cell, message): the same cell can be reached from two groups."""
    seen: set[tuple[str, str | None, str | None, str]] = set()
    out: list[Finding] = []
    for finding in findings:
        key = (finding.rule, finding.sheet, finding.cell, finding.message)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    return _one_expectation(sorted(out, key=Finding.sort_key))


def _one_expectation(findings: list[Finding]) -> list[Finding]:
    """One cell never carries two different 应为: the first finding's (errors first) stands, later ones lose theirs."""
    stated: dict[tuple[str | None, str | None], float | str] = {}
    out: list[Finding] = []
    for finding in findings:
        key = (finding.sheet, finding.cell)
        if finding.expected is None or finding.cell is None:
            out.append(finding)
            continue
        first = stated.setdefault(key, finding.expected)
        out.append(finding if first == finding.expected else replace(finding, expected=None))
    return out
