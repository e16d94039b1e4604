"""Whether an indicator met its target, and what it scores (docs/domain.md §3 targets, §5 scoring)."""

from __future__ import annotations

from dataclasses import dataclass

from perf_eval.forms import Band, Indicator, band_coefficient
from perf_eval.values import Comparator, parse_number, qualitative_met


@dataclass(frozen=True)
class Assessment:
    """`met` is None when the words do not tell; `achieved` is actual/target for a quantitative target."""

    quantitative: bool
    met: bool | None
    actual: float | None = None
    achieved: float | None = None
    comparator: Comparator | None = None
    # The actual as the filer sees it ("96.2%" for a stored 0.962).
    shown: str = ""


def percent_scale(actual: float, actual_unit: str, goal: float, goal_unit: str) -> tuple[float, float]:
    """Put a percentage typed in Excel (stored 0.962, shown "96.2%") on the scale of "≥95%".

    The reader sees stored values, not number formats: a bare number of at most 2
    beside a "%" on the other side is a fraction of one.
    """
    if goal_unit == "%" and not actual_unit and abs(actual) <= 2:
        return actual * 100, goal
    if actual_unit == "%" and not goal_unit and abs(goal) <= 2:
        return actual, goal * 100
    return actual, goal


def _is_cost(indicator: Indicator) -> bool:
    return "成本" in indicator.level1 or "成本" in indicator.level2


def effective_comparator(indicator: Indicator) -> Comparator:
    """A bare number ("8个") means "at least" for outputs and "at most" for costs."""
    target = indicator.parsed_target
    if target.comparator is not None:
        return target.comparator
    return Comparator.LE if _is_cost(indicator) else Comparator.GE


def assess(indicator: Indicator) -> Assessment:
    target = indicator.parsed_target
    if target.quantitative and target.value is not None:
        actual = parse_number(indicator.actual.text)
        if not actual.ok or actual.value is None:
            return Assessment(True, None)
        comparator = effective_comparator(indicator)
        value, goal = percent_scale(actual.value, actual.unit, target.value, target.unit)
        shown = indicator.actual.text if value == actual.value else f"{value:g}{target.unit}"
        met = {
            Comparator.GE: value >= goal,
            Comparator.GT: value > goal,
            Comparator.LE: value <= goal,
            Comparator.LT: value < goal,
            Comparator.EQ: abs(value - goal) <= 1e-9 * max(1.0, abs(goal)),
        }[comparator]
        achieved: float | None = None
        if comparator in (Comparator.GE, Comparator.GT, Comparator.EQ) and goal > 0:
            achieved = value / goal
        elif comparator in (Comparator.LE, Comparator.LT) and value > 0:
            achieved = goal / value
        return Assessment(True, met, value, achieved, comparator, shown)
    if not target.text or not indicator.actual.text:
        return Assessment(False, None)
    return Assessment(False, qualitative_met(target.text, indicator.actual.text), shown=indicator.actual.text)


def completion(assessment: Assessment) -> float | None:
    """A quantitative row's completion rate as a 得分系数 table reads it: a met target's is at least 100%."""
    if not assessment.quantitative or assessment.met is None:
        return None
    if assessment.met:
        return max(assessment.achieved if assessment.achieved is not None else 1.0, 1.0)
    return assessment.achieved


def banded(assessment: Assessment, bands: tuple[Band, ...]) -> float | None:
    """The 得分系数 the form's own table gives the row's completion rate (None: no table, or not quantitative)."""
    achieved = completion(assessment)
    return band_coefficient(bands, achieved) if bands and achieved is not None else None


def recomputed_score(
    indicator: Indicator, assessment: Assessment, max_score: float, reported: float, bands: tuple[Band, ...] = ()
) -> float:
    """§5: met -> full; a missed quantitative target -> proportional, capped at 分值.

    A form that states its own 得分系数 table (`bands`, Chongqing) scores a quantitative row 分值 × the
    coefficient of its completion rate's line instead (a met target's rate is at least 100%).

    A qualitative indicator keeps the reported score (within [0, 分值]): whether
    "基本及时到位" deserves full marks is the evaluator's judgement, which S07
    (a reason must be given) and S10 (met but deducted) bring to the reviewer.
    """
    if bands:
        coefficient = banded(assessment, bands)
        if coefficient is not None:
            return max_score * min(max(coefficient, 0.0), 1.0)
    if assessment.quantitative and assessment.met is True:
        return max_score
    if assessment.quantitative and assessment.met is False and assessment.achieved is not None:
        return min(max_score, max_score * max(assessment.achieved, 0.0))
    return min(max(reported, 0.0), max_score)
