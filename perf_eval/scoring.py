"""Re-scoring a 自评表 (docs/domain.md §5). Pure: forms in, a `Score` out.

A form is re-scored only from what it gives: where it has no weights (分值/权重) or no scores,
the recomputed score is not available (None) and `not_rescored` says why -- never 0, never a
grade computed from nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from perf_eval.arithmetic import numbers, ratio
from perf_eval.forms import COLUMN_LABELS, MISSING, Entry, Indicator, SelfEval
from perf_eval.model import Score
from perf_eval.profiles import Profile
from perf_eval.targets import assess, recomputed_score
from perf_eval.values import Kind, Number

_EXECUTION = ("annual_budget", "executed")
ROUNDING_ZH = {"round": "四舍五入", "floor": "截去尾数", "ceil": "进位"}


def rounded(exact: float, decimals: int) -> dict[str, float]:
    """`exact` rounded to `decimals` places by each convention (half-up, truncated, up)."""
    scale = 10.0**decimals
    return {
        "round": math.floor(exact * scale + 0.5 + 1e-9) / scale,
        "floor": math.floor(exact * scale + 1e-9) / scale,
        "ceil": math.ceil(exact * scale - 1e-9) / scale,
    }


def rounding_of(written: Number, exact: float, conventions: tuple[str, ...]) -> str | None:
    """The convention under which `written` is `exact` rounded to the decimals the filer showed, else None."""
    if not written.ok or written.value is None:
        return None
    candidates = rounded(exact, written.decimals)
    return next((c for c in conventions if c in candidates and abs(candidates[c] - written.value) <= 1e-9), None)


def execution_rate(form: SelfEval) -> float | None:
    """全年执行数 / 全年预算数 when the amounts give it, else the stated 执行率."""
    funds = form.funds
    if "executed" in funds.total and "annual_budget" in funds.total:
        rate = ratio(funds.total["executed"], funds.total["annual_budget"])
        if rate is not None:
            return rate
    stated = numbers(funds.rate)
    return stated[0] if stated else None


def execution_weight(form: SelfEval, profile: Profile) -> float | None:
    """The printed 分值/权重 of the execution rate, else the profile's."""
    max_score = numbers(form.funds.max_score)
    return max_score[0] if max_score else profile.execution_rate_weight


def execution_score(form: SelfEval, profile: Profile) -> float | None:
    """分值 × min(执行率, 1); the stated score when no rate is given; None when the form has no execution score."""
    funds = form.funds
    if funds.score.ref is None and funds.max_score.ref is None:
        return None  # the form has no execution score (C's variant, I: 执行率 is a grid row)
    weight = execution_weight(form, profile)
    if weight is None or weight == 0:
        return None
    rate = execution_rate(form)
    if rate is None:
        reported = numbers(funds.score)
        return reported[0] if reported else None
    return weight * min(max(rate, 0.0), 1.0)


@dataclass(frozen=True)
class NotRescored:
    """Why a form's total cannot be recomputed (Chinese), and the cell to say it at."""

    reason: str
    at: Entry


def _inputs(form: SelfEval) -> list[tuple[Entry, str]]:
    """The cells the re-scoring rests on, with their labels: the execution score's amounts, rate, 分值 and
    得分 (when the form scores execution), every indicator's 分值, 得分, target and actual, and the 总分 row.

    The 总分 row counts too: a recomputed score beside a total nobody can read would look like a verdict on
    it. The funds' parts (其中 rows) do not: the execution score is computed from the total line.
    """
    funds = form.funds
    entries: list[tuple[Entry, str]] = []
    if funds.score.ref is not None or funds.max_score.ref is not None:
        entries += [(funds.total.get(name, MISSING), f"年度资金总额 / {COLUMN_LABELS[name]}") for name in _EXECUTION]
        entries += [(funds.rate, "执行率"), (funds.max_score, "执行率分值"), (funds.score, "执行率得分")]
    for indicator in form.indicators:
        entries += [(indicator.max_score, f"{indicator.label} / 分值"), (indicator.score, f"{indicator.label} / 得分")]
        # Targets and actuals are text: only a formula without a cached value makes them unreadable.
        for entry, column in ((indicator.target, "指标值"), (indicator.actual, "实际完成值")):
            if entry.number.kind is Kind.UNCACHED:
                entries.append((entry, f"{indicator.label} / {column}"))
    entries += [(form.total_max, "总分 / 分值"), (form.total_score, "总分 / 得分")]
    return entries


def unreadable(form: SelfEval) -> NotRescored | None:
    """The first cell the re-scoring needs that is not a readable number (F03) or a formula without a
    cached value (F04): the recomputed score would rest on a value nobody can see, so it is withheld."""
    for entry, label in _inputs(form):
        if entry.number.kind is Kind.INVALID:
            return NotRescored(f"{label} 填写的“{entry.shown or entry.text}”不是数值，无法复核", entry)
        if entry.number.kind is Kind.UNCACHED:
            return NotRescored(f"{label} 是没有保存计算结果的公式，无法复核", entry)
    return None


def _where(form: SelfEval) -> Entry:
    """Where to say the form cannot be re-scored: its total, else its first score, else its first indicator."""
    at = form.total_score if form.total_score.ref else next((i.score for i in form.indicators if i.score.ref), None)
    if at is None or at.ref is None:
        at = next((i.level3 for i in form.indicators if i.level3.ref), Entry(form.funds.total_label_ref))
    return at


def not_rescored(form: SelfEval, profile: Profile) -> NotRescored | None:
    """What prevents re-scoring, or None when the form can be re-scored."""
    if not form.indicators:
        return None  # F02 reports the missing grid
    bad = unreadable(form)
    if bad is not None:
        return bad
    at = _where(form)
    weighted = [i for i in form.indicators if numbers(i.max_score)]
    if not weighted:
        return NotRescored("表中各项指标没有分值（权重），无法按评分规则复核指标得分", at)
    scored = [i for i in form.indicators if i.score.ok]
    if not scored:
        return NotRescored("所有指标的得分均为空，无法复核", at)
    unweighted = [i for i in scored if not numbers(i.max_score)]
    if unweighted:
        names = "、".join(i.label for i in unweighted[:3]) + ("等" if len(unweighted) > 3 else "")
        return NotRescored(f"{len(unweighted)} 项指标有得分但没有分值（{names}），无法复核", at)
    for indicator in weighted:
        assessment = assess(indicator)
        needs_reported = not (assessment.quantitative and assessment.met is not None)
        if needs_reported and not indicator.score.ok:
            return NotRescored(f"{indicator.label} 的得分为空，无法复核总分", at)
    funds = form.funds
    if not funds.total and profile.execution_rate_weight:
        return NotRescored("未找到年度资金总额，执行率得分无法复核", at)
    if (funds.score.ref is not None or funds.max_score.ref is not None) and execution_score(form, profile) is None:
        return NotRescored("执行率得分缺少分值或执行率，无法复核", at)
    if form.total_score.ref is None:
        # F02 reports the missing row; without it nothing shows the grid is complete (a page cut off): a
        # total of the rows that are there would be a score, and a grade, of part of the form.
        return NotRescored("未找到总分行，表可能不完整，无法复核", at)
    return None


def recomputed_total(form: SelfEval, profile: Profile) -> float | None:
    """Our total: 执行率得分 plus every indicator's score recomputed from its target and actual.

    None when the form cannot be re-scored (`not_rescored` says why): never 0.
    """
    if not form.indicators or not_rescored(form, profile) is not None:
        return None
    total = execution_score(form, profile) or 0.0
    for indicator in form.indicators:
        max_score = numbers(indicator.max_score)
        if max_score is None:
            continue
        reported = numbers(indicator.score)
        reported_score = reported[0] if reported else 0.0
        total += _row_score(indicator, max_score[0], reported_score, form)
    return round(total, 2)


def _row_score(indicator: Indicator, max_score: float, reported: float, form: SelfEval) -> float:
    """A row's recomputed score; rows scored together (a 得分 merged over them) are re-scored row by row when
    every one is a quantitative target met or missed, else the group keeps its reported score (capped)."""
    if indicator.group:
        assessments = [assess(row) for row in indicator.group]
        weights = [numbers(row.max_score) for row in indicator.group]
        if all(a.quantitative and a.met is not None for a in assessments) and all(weights):
            return sum(
                recomputed_score(row, a, weight[0], 0.0, form.bands)
                for row, a, weight in zip(indicator.group, assessments, weights, strict=True)
                if weight
            )
        return min(max(reported, 0.0), max_score)
    return recomputed_score(indicator, assess(indicator), max_score, reported, form.bands)


def score(form: SelfEval, profile: Profile) -> Score:
    """The unit's own total, ours (None when the form cannot be re-scored), the grade of ours, the stated grade."""
    reported_total = numbers(form.total_score)
    recomputed = recomputed_total(form, profile)
    stated = next((name for name, _ in profile.grades if name in form.grade.text), None) if form.grade.text else None
    return Score(
        reported=round(reported_total[0], 2) if reported_total else None,
        recomputed=recomputed,
        grade=profile.grade(recomputed) if recomputed is not None else None,
        reported_grade=stated,
    )
