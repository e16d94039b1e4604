"""Runs the catalogue: candidates → one pandera schema → findings at cells.

All candidates of a workbook go into one DataFrame (one row per assertion,
with its cell kept beside it), validated by one lazily-evaluated pandera
schema whose checks are the comparison operators. The adapter below turns
pandera's failure cases back into exactly one finding per failing row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import cache
from typing import Any

import pandas as pd
import pandera.pandas as pa

from perf_eval.forms import BasicData, SelfEval
from perf_eval.model import Finding
from perf_eval.profiles import Profile
from perf_eval.rules.catalogue import Candidate, Context, Op, Quantity, Rule, Scope, all_rules, fmt

_COLUMNS = ("rule", "op", "actual", "expected", "tol", "ok")


def _op_check(op: Op) -> pa.Check:
    def holds(frame: pd.DataFrame) -> pd.Series:
        other = frame["op"] != op.value
        actual, expected, tol = frame["actual"], frame["expected"], frame["tol"]
        if op is Op.EQ:
            passed = (actual - expected).abs() <= tol + 1e-9
        elif op is Op.LE:
            passed = actual <= expected + tol + 1e-9
        elif op is Op.GE:
            passed = actual >= expected - tol - 1e-9
        elif op is Op.WITHIN:
            passed = (actual >= -tol - 1e-9) & (actual <= expected + tol + 1e-9)
        else:
            passed = frame["ok"].astype(bool)
        return other | passed

    return pa.Check(holds, name=op.value)


@cache
def assertion_schema(rule_ids: tuple[str, ...]) -> pa.DataFrameSchema:
    """The schema every workbook's assertion frame must satisfy."""
    return pa.DataFrameSchema(
        {
            "rule": pa.Column(str, pa.Check.isin(rule_ids)),
            "op": pa.Column(str, pa.Check.isin([op.value for op in Op])),
            "actual": pa.Column(float, nullable=True),
            "expected": pa.Column(float, nullable=True),
            "tol": pa.Column(float, pa.Check.ge(0)),
            "ok": pa.Column(bool),
        },
        checks=[_op_check(op) for op in Op],
        strict=True,
        ordered=False,
    )


def _frame(candidates: Sequence[Candidate]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rule": [c.rule for c in candidates],
            "op": [c.op.value for c in candidates],
            "actual": pd.array([c.actual for c in candidates], dtype="float64"),
            "expected": pd.array([c.expected for c in candidates], dtype="float64"),
            "tol": [float(c.tol) for c in candidates],
            "ok": [bool(c.ok) if c.ok is not None else True for c in candidates],
        },
        columns=list(_COLUMNS),
    )


def failing(candidates: Sequence[Candidate], rule_ids: tuple[str, ...]) -> list[int]:
    """Positions of the candidates the schema rejects (the pandera adapter)."""
    if not candidates:
        return []
    frame = _frame(candidates)
    try:
        assertion_schema(rule_ids).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        op_checks = {op.value for op in Op}
        # A wide check is reported once per column; keep one row per failing index.
        rows = cases[cases["check"].isin(op_checks)]["index"].dropna().astype(int).unique()
        structural = cases[~cases["check"].isin(op_checks)]
        if not structural.empty:
            raise RuntimeError(f"assertion frame does not match its schema: {structural.to_dict('records')}") from None
        return sorted(int(i) for i in rows)
    return []


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
    )


def form_candidates(form: BasicData | SelfEval, profile: Profile) -> list[Candidate]:
    """Assertions about one form on its own."""
    ctx = Context(profile, basic=form) if isinstance(form, BasicData) else Context(profile, self_eval=form)
    own = Scope.BASIC if isinstance(form, BasicData) else Scope.SELF_EVAL
    return [c for r in all_rules() if r.build and (own in r.scopes or Scope.FORM in r.scopes) for c in r.build(ctx)]


def pair_candidates(basic: BasicData, self_eval: SelfEval, profile: Profile) -> list[Candidate]:
    """Assertions across a unit's 基础数据表 and 自评表; their cells are on the 自评表."""
    ctx = Context(profile, basic, self_eval)
    return [c for r in all_rules() if r.build and Scope.PAIR in r.scopes for c in r.build(ctx)]


def evaluate(batches: Sequence[tuple[Sequence[Candidate], Profile]]) -> list[list[Finding]]:
    """Validate every batch with one pandera call; the findings of each batch, in the same order."""
    by_id = {rule.id: rule for rule in all_rules()}
    flat = [(c, profile, index) for index, (batch, profile) in enumerate(batches) for c in batch]
    positions = failing([c for c, _, _ in flat], tuple(by_id))
    out: list[list[Finding]] = [[] for _ in batches]
    for position in positions:
        candidate, profile, index = flat[position]
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
