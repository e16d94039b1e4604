"""Re-scoring a 自评表 (docs/domain.md §5). Pure: forms in, a `Score` out."""

from __future__ import annotations

from perf_eval.arithmetic import numbers, ratio
from perf_eval.forms import SelfEval
from perf_eval.model import Score
from perf_eval.profiles import Profile
from perf_eval.targets import assess, recomputed_score


def execution_score(form: SelfEval, profile: Profile) -> float | None:
    """分值 × min(执行率, 1), with 执行率 = 全年执行数 / 全年预算数 (the stated rate if those are missing)."""
    funds = form.funds
    max_score = numbers(funds.max_score)
    weight = max_score[0] if max_score else profile.execution_rate_weight
    if weight is None:
        return None
    rate = None
    if "executed" in funds.total and "annual_budget" in funds.total:
        rate = ratio(funds.total["executed"], funds.total["annual_budget"])
    if rate is None:
        stated = numbers(funds.rate)
        rate = stated[0] if stated else None
    if rate is None:
        reported = numbers(funds.score)
        return reported[0] if reported else None
    return weight * min(max(rate, 0.0), 1.0)


def recomputed_total(form: SelfEval, profile: Profile) -> float | None:
    """Our total: 执行率得分 plus every indicator's score recomputed from its target and actual."""
    total = execution_score(form, profile)
    for indicator in form.indicators:
        max_score = numbers(indicator.max_score)
        if max_score is None:
            continue
        reported = numbers(indicator.score)
        value = recomputed_score(indicator, assess(indicator), max_score[0], reported[0] if reported else 0.0)
        total = (total or 0.0) + value
    return round(total, 2) if total is not None and form.indicators else None


def score(form: SelfEval, profile: Profile) -> Score:
    """The unit's own total, ours, the grade of ours, and the grade the unit stated."""
    reported_total = numbers(form.total_score)
    recomputed = recomputed_total(form, profile)
    stated = next((name for name, _ in profile.grades if name in form.grade.text), None) if form.grade.text else None
    return Score(
        reported=round(reported_total[0], 2) if reported_total else None,
        recomputed=recomputed,
        grade=profile.grade(recomputed) if recomputed is not None else None,
        reported_grade=stated,
    )
