"""The rule catalogue: stable IDs, severities, Chinese message templates.

Each rule is a function that yields `Candidate`s -- one assertion about one
cell -- and is registered with `@rule`. Its docstring's first line says what
it checks. Its passing and failing examples are its cases
(`perf_eval/rules/cases/<ID>.toml`, read by `rules.examples`): the tests run
them and `perf-eval rules ID` and `docs/rules.md` show them.
An arithmetic rule declares its pandera checks (`Comparison`): the engine
(`rules.engine`) puts its candidates into the form's frames (`rules.frames`),
validates each frame with its schema and renders the failures through the
templates here; a judgement rule's candidates carry their own verdict.
Nothing in this package opens files or prints.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from perf_eval.arithmetic import cells, numbers, part_sum, ratio
from perf_eval.forms import YUAN_PER_WAN, BasicData, SelfEval
from perf_eval.model import CellRef, Place, Severity
from perf_eval.profiles import Profile, use_rule_ids


class Op(StrEnum):
    """How `actual` must relate to `expected` (a pandera check of a frame), or FLAG for a judgement."""

    EQ = "eq"  # |actual - expected| <= tol
    LE = "le"  # actual <= expected + tol
    GE = "ge"  # actual >= expected - tol
    WITHIN = "within"  # -tol <= actual <= expected + tol
    FLAG = "flag"  # the precomputed `ok` must be true


class Quantity(StrEnum):
    """How to show a number in a message."""

    AMOUNT = "amount"  # 万元, two decimals
    RATE = "rate"  # fraction shown as a percentage
    SCORE = "score"
    COUNT = "count"
    TEXT = "text"


class Scope(StrEnum):
    BASIC = "basic"  # one 基础数据表
    SELF_EVAL = "self_eval"  # one 自评表 (overall or project)
    FORM = "form"  # any one form
    PAIR = "pair"  # a 基础数据表 with the 自评表 of the same unit and year
    WORKBOOK = "workbook"  # produced by the checker itself (F01)
    REPORT = "report"  # the written report (附件1) against its unit's forms


@dataclass(frozen=True)
class Context:
    profile: Profile
    basic: BasicData | None = None
    self_eval: SelfEval | None = None
    # The statements of a written report (`perf_eval.narrative.statements.Statements`), for REPORT rules.
    report: Any = None


@dataclass(frozen=True)
class Candidate:
    """One assertion about one cell; it becomes a finding when the schema rejects it."""

    rule: str
    ref: CellRef | None
    label: str
    op: Op
    actual: float | None = None
    expected: float | None = None
    tol: float = 0.0
    ok: bool | None = None
    quantity: Quantity = Quantity.AMOUNT
    variant: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    related: tuple[str, ...] = ()
    actual_text: str | None = None
    expected_text: str | None = None
    # False when `expected` is not the one right value (a sum of parts that may be wrong themselves, a
    # budget, a range's bound): the finding then carries no 应为, only the message.
    answer: bool = True
    # A statement of the written report: the finding is shown there, not at a cell.
    place: Place | None = None


Builder = Callable[[Context], Iterable[Candidate]]


@dataclass(frozen=True)
class Comparison:
    """What one pandera check of a rule compares: `left op right`, two columns of one frame.

    A rule's candidates become rows of the frame (`perf_eval.rules.frames`): the candidate's
    `actual` goes into `left`, its `expected` into `right`, its tolerance into the frame's 容差.
    `variants` are the candidate variants this comparison checks ("" is the rule's own case).
    `reads` names the profile keys the tolerance comes from (shown by `perf-eval schemas`).
    """

    frame: str
    left: str
    op: Op
    right: str
    variants: tuple[str, ...] = ("",)
    reads: tuple[str, ...] = ()
    # How each row's tolerance is set when it is not simply the profile's, in words with the profile's
    # fields as placeholders ("预算数 × {budget_deviation:.0%}"), for `perf-eval schemas`.
    within: str = ""

    def key(self, rule_id: str) -> str:
        """The check's name: the rule ID, with the first variant when it is not the rule's own case."""
        return f"{rule_id}.{self.variants[0]}" if self.variants[0] else rule_id


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    scopes: tuple[Scope, ...]
    title: str
    template: str
    doc: str
    build: Builder | None
    # variant -> (severity or None for the rule's own, template)
    variants: dict[str, tuple[Severity | None, str]] = field(default_factory=dict)
    # "如何处理": what the clerk can do about a finding of this rule.
    fix: str = ""
    # The pandera checks of an arithmetic rule; a judgement rule has none (its candidates are FLAGs).
    checks: tuple[Comparison, ...] = ()
    # False for a rule that runs only where a profile names it in its [severity] table.
    default_on: bool = True

    def comparison(self, variant: str) -> Comparison | None:
        """The check that judges candidates of this variant (the rule's own case when none names it)."""
        for each in self.checks:
            if variant in each.variants:
                return each
        for each in self.checks:
            if "" in each.variants:
                return each
        return None

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else self.title

    def message_for(self, variant: str) -> tuple[Severity, str]:
        if variant and variant in self.variants:
            severity, template = self.variants[variant]
            return severity or self.severity, template
        return self.severity, self.template


# The `within` of a comparison made at the precision the form shows (0.9722 against 0.97222…).
SHOWN_PRECISION = "按所填的小数位数，至少为容差下限"

REGISTRY: dict[str, Rule] = {}
# F structure, B basic data, S self-evaluation, X across forms, N the written report against the forms.
RULE_LETTER_ORDER = {"F": 0, "B": 1, "S": 2, "X": 3, "N": 4}


def rule(
    rule_id: str,
    name: str,
    severity: Severity,
    scope: Scope | tuple[Scope, ...],
    *,
    title: str,
    template: str,
    variants: dict[str, tuple[Severity | None, str]] | None = None,
    fix: str = "",
    checks: Comparison | tuple[Comparison, ...] = (),
    default_on: bool = True,
) -> Callable[[Builder], Builder]:
    """Register a candidate builder under a stable rule ID.

    `checks` declares the pandera checks of an arithmetic rule (see `Comparison`); a rule without
    them is a judgement rule, whose candidates carry their own verdict (`Op.FLAG`).
    """

    def register(build: Builder) -> Builder:
        if rule_id in REGISTRY:
            raise ValueError(f"duplicate rule id {rule_id}")
        REGISTRY[rule_id] = Rule(
            rule_id,
            name,
            severity,
            scope if isinstance(scope, tuple) else (scope,),
            title,
            template,
            inspect.getdoc(build) or "",
            build,
            variants or {},
            fix,
            checks if isinstance(checks, tuple) else (checks,),
            default_on,
        )
        return build

    return register


def all_rules() -> list[Rule]:
    """Every rule, F first, then B, S, X, N (the order rules run and are listed in).

    The rule modules register themselves when `perf_eval.rules` is imported, which
    importing this module always does first.
    """
    order = RULE_LETTER_ORDER
    return sorted(REGISTRY.values(), key=lambda r: (order.get(r.id[0], 9), r.id))


def runs(rule: Rule, profile: Profile) -> bool:
    """Whether a profile runs a rule: "off" turns a rule off; a rule off by default runs when named."""
    if rule.id in profile.disabled:
        return False
    return rule.default_on or rule.id in profile.severity


def get(rule_id: str) -> Rule | None:
    return {r.id: r for r in all_rules()}.get(rule_id.upper())


# Profiles sit below the rules: they learn the rule IDs a [severity] table may name from here.
use_rule_ids(lambda: set(REGISTRY) | {f"{rule_id}.{case}" for rule_id, r in REGISTRY.items() for case in r.variants})
# Helpers the rule modules share -------------------------------------------


def fmt(value: float | None, quantity: Quantity) -> str:
    """A number in a message: amounts with 万元, rates as percentages."""
    if value is None:
        return "—"
    if quantity is Quantity.RATE:
        return f"{value:.2%}"
    if quantity is Quantity.AMOUNT:
        return f"{value:.2f} 万元"
    if quantity is Quantity.COUNT:
        return f"{value:g}"
    return f"{round(value, 2):g}"


@dataclass(frozen=True)
class AmountUnit:
    """How a form's amounts (read in 万元) are compared and shown: in the unit the form wrote them in.

    A form in 元 is compared in 元, so the profile's amount tolerance (0.01) means 0.01 元 there; its
    findings carry the amounts as text ("9609300.00 元"), since a finding's amount quantity is 万元.
    """

    scale: float
    quantity: Quantity

    def shown(self, value: float) -> str:
        """An amount (in the form's unit) as the form writes it: "12.50 万元" or "125000.00 元"."""
        return f"{value:.2f} 元" if self.scale != 1.0 else fmt(value, Quantity.AMOUNT)


def amount_unit(unit: str) -> AmountUnit:
    """The comparison unit of a form whose amounts were written in `unit` ("元" or "万元")."""
    return AmountUnit(YUAN_PER_WAN, Quantity.TEXT) if unit == "元" else AmountUnit(1.0, Quantity.AMOUNT)


def gap(a: float, b: float, quantity: Quantity = Quantity.AMOUNT) -> str:
    """How far apart two values are, as a message shows it ("10.00 万元")."""
    return fmt(abs(a - b), quantity)


__all__ = [
    "REGISTRY",
    "SHOWN_PRECISION",
    "Builder",
    "Candidate",
    "Comparison",
    "Context",
    "Op",
    "Quantity",
    "Rule",
    "Scope",
    "all_rules",
    "cells",
    "fmt",
    "gap",
    "get",
    "numbers",
    "part_sum",
    "ratio",
    "rule",
    "runs",
]
