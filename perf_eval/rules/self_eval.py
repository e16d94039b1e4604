"""Rules of the 自评表, overall and project alike (S): funds, weights, scores, targets."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from perf_eval.forms import COLUMN_LABELS, FUNDS_COLUMNS, SINGLE, Entry, Indicator, PartGroup, SelfEval
from perf_eval.model import Severity
from perf_eval.rules.catalogue import (
    SHOWN_PRECISION,
    AmountUnit,
    Candidate,
    Comparison,
    Context,
    Op,
    Quantity,
    Scope,
    amount_unit,
    cells,
    fmt,
    gap,
    numbers,
    part_sum,
    ratio,
    rule,
)
from perf_eval.scoring import ROUNDING_ZH, rounding_of
from perf_eval.targets import Assessment, assess, banded, completion, recomputed_score
from perf_eval.values import Comparator, Kind, normalize, parse_number, shown_tolerance

_EMPTY_REASONS = frozenset({"", "0", "无", "/", "-", "—", "——", "无偏差"})


def _score_sum(entries: Sequence[Entry]) -> float | None:
    """A sum of 分值 or 得分, only when every one is a number: a blank one is F02's finding, not a wrong total."""
    values = numbers(*entries)
    return None if values is None else round(sum(values), 6)


def _of_rows(entries: Iterator[Entry] | Sequence[Entry]) -> list[Entry]:
    """Rows' 分值 or 得分 for a sum: a row with no cell of its own (scored together with the row above under a
    merged 得分, a child whose parent is counted) adds nothing; a column the form does not have stays blank."""
    entries = list(entries)
    own = [e for e in entries if e.ref is not None]
    return own if own else entries


def _rounded(
    rule_id: str,
    entry: Entry,
    label: str,
    actual: float,
    exact: float,
    how: str,
    quantity: Quantity,
    params: dict[str, str] | None = None,
) -> Candidate:
    """A written value that is the exact one rounded by the profile's convention: the `rounded` warning."""
    shown = f"{exact:.4%}" if quantity is Quantity.RATE else f"{round(exact, 4):g}"
    return Candidate(
        rule_id,
        entry.ref,
        label,
        Op.FLAG,
        ok=False,
        actual=actual,
        expected=round(exact, 6),
        quantity=quantity,
        variant="rounded",
        params={**(params or {}), "exact": shown, "how": ROUNDING_ZH[how]},
    )


def _shown_target(indicator: Indicator) -> str:
    """The target as the form states it: a split target's 指标性质, 指标值 and 度量单位 together ("≥45处")."""
    return indicator.parsed_target.text or indicator.target.text


def _execution(entry: Entry, ctx: Context) -> list[Entry] | None:
    """The execution 分值/得分 in a sum, when the form has one (I and H score execution as a grid row).

    None when the profile has an execution weight but the form shows no execution score (a page cut off
    before the funds block): the sum cannot be checked, and F02 already says the block is missing.
    """
    if entry.ref is not None:
        return [entry]
    form = ctx.self_eval
    if ctx.profile.execution_rate_weight and form is not None and not form.funds.total:
        return None
    return []


def _inline(entry: Entry) -> str:
    """A cell's text as written, to quote inside a sentence: without its own closing full stop."""
    return (entry.shown or entry.text).rstrip("。.；;，, ")


def _has_reason(reason: Entry) -> bool:
    """A 偏差原因 cell that says something ("0", "无", "/" and the number 0 are the template's blanks)."""
    return normalize(reason.text) not in _EMPTY_REASONS and not (reason.ok and reason.value == 0)


def _form(ctx: Context) -> SelfEval | None:
    return ctx.self_eval


def _unit(form: SelfEval) -> AmountUnit:
    return amount_unit(form.funds.unit)


def _score_tol(ctx: Context, *entries: Entry) -> float:
    """Scores compare at the precision shown: "10" against 9.51 passes, "9.5" against 9.51 passes."""
    tol = ctx.profile.score_tolerance
    for entry in entries:
        if entry.ok:
            tol = max(tol, min(0.5, shown_tolerance(entry.number, floor=0.0)))
    return tol


@rule(
    "S01",
    "funds.execution_rate",
    Severity.ERROR,
    Scope.SELF_EVAL,
    title="执行率不等于全年执行数/全年预算数",
    template="执行率应为 全年执行数 / 全年预算数 = {expected}，填写的是 {actual}",
    variants={
        "rounded": (
            Severity.WARNING,
            "执行率填写 {actual}，是精确值 {exact}（全年执行数 / 全年预算数）{how}到所填位数的结果",
        )
    },
    fix="按 全年执行数 ÷ 全年预算数 重新计算执行率；若金额填错，先改正金额。",
    checks=Comparison("funds", "执行率", Op.EQ, "执行数÷预算数", reads=("tolerance.rate",), within=SHOWN_PRECISION),
)
def execution_rate(ctx: Context) -> Iterator[Candidate]:
    """执行率 ≠ 全年执行数 / 全年预算数 at the precision shown (cut off at it: a warning where the profile allows)."""
    form = _form(ctx)
    if form is None:
        return
    funds = form.funds
    if "executed" not in funds.total or "annual_budget" not in funds.total:
        return
    expected = ratio(funds.total["executed"], funds.total["annual_budget"])
    rate = numbers(funds.rate)
    if expected is None or rate is None:
        return
    tol = shown_tolerance(funds.rate.number, floor=ctx.profile.rate_tolerance)
    how = rounding_of(funds.rate.number, expected, ctx.profile.rounding)
    if abs(rate[0] - expected) > tol + 1e-9 and how not in (None, "round"):
        yield _rounded("S01", funds.rate, "执行率", rate[0], expected, how, Quantity.RATE)
        return
    yield Candidate(
        "S01",
        funds.rate.ref,
        "执行率",
        Op.EQ,
        actual=rate[0],
        expected=expected,
        tol=tol,
        quantity=Quantity.RATE,
        related=tuple(cells((funds.total["executed"], funds.total["annual_budget"]))),
    )


@rule(
    "S02",
    "funds.execution_score",
    Severity.ERROR,
    Scope.SELF_EVAL,
    title="执行率得分不等于分值×执行率",
    template="执行率得分应为 分值 {max_score} × 执行率 {rate} = {expected}，填写的是 {actual}",
    variants={
        "rounded": (
            Severity.WARNING,
            "执行率得分填写 {actual}，是精确值 {exact}（分值 {max_score} × 执行率 {rate}）{how}到所填位数的结果",
        )
    },
    fix="执行率得分 = 分值 × 执行率（执行率超过 100% 按 100% 计）；改正后总分随之调整。",
    checks=Comparison("funds", "执行率得分", Op.EQ, "分值×执行率", reads=("tolerance.score",)),
)
def execution_score(ctx: Context) -> Iterator[Candidate]:
    """执行率得分 ≠ 分值 × min(执行率, 1), 执行率 = 全年执行数 / 全年预算数 (rounded to the decimals shown: a warning)."""
    form = _form(ctx)
    if form is None:
        return
    funds = form.funds
    values = numbers(funds.max_score, funds.score)
    # The true rate when the amounts give it (a wrong stated rate is S01's finding), else the stated one.
    computed = None
    if "executed" in funds.total and "annual_budget" in funds.total:
        computed = ratio(funds.total["executed"], funds.total["annual_budget"])
    rate = [computed] if computed is not None else numbers(funds.rate)
    if values is None or rate is None:
        return
    expected = values[0] * min(rate[0], 1.0)
    params = {"max_score": f"{values[0]:g}", "rate": f"{rate[0]:.2%}"}
    how = rounding_of(funds.score.number, expected, ctx.profile.rounding)
    if abs(values[1] - expected) > ctx.profile.score_tolerance + 1e-9 and how is not None:
        yield _rounded("S02", funds.score, "执行率得分", values[1], expected, how, Quantity.SCORE, params)
        return
    yield Candidate(
        "S02",
        funds.score.ref,
        "执行率得分",
        Op.EQ,
        actual=values[1],
        expected=expected,
        tol=ctx.profile.score_tolerance,
        quantity=Quantity.SCORE,
        params=params,
        related=tuple(cells((funds.max_score, funds.rate))),
    )


@rule(
    "S03",
    "funds.parts",
    Severity.ERROR,
    Scope.SELF_EVAL,
    title="资金构成之和不等于年度资金总额",
    template="{label}：{total} {expected} 与各项之和 {actual} 相差 {diff}",
    fix="对照账表核对：年度资金总额与各项中哪一个填错就改哪一个；按支出性质分的项目支出还应与基础数据表一致。",
    checks=Comparison("funds", "各项之和", Op.EQ, "资金总额", reads=("tolerance.amount",)),
)
def funds_parts(ctx: Context) -> Iterator[Candidate]:
    """Funds parts (按收入性质分 / 按支出性质分 / 其中 rows) ≠ 年度资金总额.

    A form in 元 is compared to the 元 (the profile's amount tolerance in its own unit) and its message
    speaks 元, as the form does.
    """
    form = _form(ctx)
    if form is None:
        return
    funds = form.funds
    unit, tol = _unit(form), ctx.profile.amount_tolerance
    for group in funds.groups:
        if group.of is not None:
            continue  # a breakdown of one line, not of the total: S18
        if group.per_column:
            for column in FUNDS_COLUMNS:
                total = funds.total.get(column)
                if total is None:
                    continue
                summed = _column_sum(total, group, column, unit)
                if summed is None:
                    continue
                parts, got, want = summed
                yield Candidate(
                    "S03",
                    total.ref,
                    f"{group.name} / {funds.column_label(column)}",
                    Op.EQ,
                    actual=got,
                    expected=want,
                    tol=tol,
                    quantity=unit.quantity,
                    related=tuple(cells(parts)),
                    params={"diff": unit.shown(abs(got - want)), "total": funds.total_shown},
                    answer=False,
                    actual_text=unit.shown(got),
                    expected_text=unit.shown(want),
                )
            continue
        entries = [p.amounts[SINGLE] for p in group.parts if SINGLE in p.amounts]
        actual = part_sum(entries)
        if actual is None or not any(e.ok for e in entries):
            continue  # F02 reports an all-blank group once
        totals = [v for c in ("executed", "annual_budget") if c in funds.total for v in (numbers(funds.total[c]) or [])]
        if not totals:
            continue
        expected = min(totals, key=lambda v: abs(v - actual))
        got, want = round(actual * unit.scale, 6), expected * unit.scale
        yield Candidate(
            "S03",
            group.ref,
            group.name,
            Op.EQ,
            actual=got,
            expected=want,
            tol=tol,
            quantity=unit.quantity,
            related=tuple(cells(entries)),
            params={"diff": unit.shown(abs(got - want)), "total": funds.total_shown},
            answer=False,
            actual_text=unit.shown(got),
            expected_text=unit.shown(want),
        )


@rule(
    "S04",
    "weights.total",
    Severity.ERROR,
    Scope.SELF_EVAL,
    title="各项分值之和不等于100",
    template="各项分值（含执行率）之和为 {actual}，应为 {expected}",
    fix="核对各指标的分值，使全部分值（含执行率）合计为 100。",
    checks=Comparison("weights", "分值合计", Op.EQ, "总分值", reads=("tolerance.score", "thresholds.total")),
)
def weights_total(ctx: Context) -> Iterator[Candidate]:
    """All 分值 (执行率 included) do not sum to the profile's total (thresholds.total)."""
    form = _form(ctx)
    if form is None or not form.indicators:
        return
    execution = _execution(form.funds.max_score, ctx)
    if execution is None:
        return
    total = _score_sum([*execution, *_of_rows(i.max_score for i in form.indicators)])
    if total is None:
        return
    ref = form.total_max.ref or form.indicators[-1].max_score.ref
    yield Candidate(
        "S04",
        ref,
        "分值合计",
        Op.EQ,
        actual=round(total, 6),
        expected=ctx.profile.total,
        tol=ctx.profile.score_tolerance,
        quantity=Quantity.SCORE,
    )


@rule(
    "S05",
    "weights.category",
    Severity.ERROR,
    Scope.SELF_EVAL,
    title="一级指标标注的分值与其下各行分值之和不符",
    template="{label} 标注 {expected} 分，其下各行分值之和为 {actual}，相差 {diff} 分",
    variants={
        "profile": (Severity.WARNING, "{label} 的权重 {actual} 分与配置“{profile}”规定的 {expected} 分不同"),
        "declared": (
            None,
            "{label} 标注 {actual} 分，而其下各行分值之和与配置“{profile}”规定的都是 {expected} 分：标注应改为 {expected} 分",
        ),
        "rows": (
            None,
            "{label} 标注 {expected} 分（与配置“{profile}”相同），其下各行分值之和却为 {actual}，相差 {diff} 分："
            "请核对各行分值",
        ),
    },
    fix="一级指标标注的分值应等于其下各行分值之和，并与评分配置的权重一致：核对标注和各行分值。",
    checks=(
        Comparison("weights", "各行分值之和", Op.EQ, "标注分值", variants=("", "rows"), reads=("tolerance.score",)),
        Comparison(
            "weights", "标注分值", Op.EQ, "配置权重", variants=("declared",), reads=("tolerance.score", "weights")
        ),
        Comparison(
            "weights", "一级指标分值", Op.EQ, "配置权重", variants=("profile",), reads=("tolerance.score", "weights")
        ),
    ),
)
def category_weights(ctx: Context) -> Iterator[Candidate]:
    """An 一级指标's or a section's "(N分)" ≠ its rows' 分值 (error); weights other than the profile's (warning)."""
    form = _form(ctx)
    if form is None:
        return
    profile_weights = {normalize(name): w for name, w in ctx.profile.weights.items() if name != "执行率"}
    # Weights are compared with the profile only for a form of the profile's template: a 2021+ project
    # form with 成本指标 as its own 一级指标 splits the same 100 points differently.
    same_template = {c.name for c in form.categories} == set(profile_weights)
    tol = ctx.profile.score_tolerance
    profile_name = f"{ctx.profile.title}（{ctx.profile.name}）"
    for category in form.categories:
        rows = _of_rows(i.max_score for i in form.indicators if i.level1_ref == category.ref)
        total = _score_sum(rows)
        if total is None:
            continue
        weight = profile_weights.get(category.name) if same_template else None
        declared = category.declared
        params = {"profile": profile_name}
        if declared is not None:
            off = abs(total - declared) > tol + 1e-9
            if off and weight is not None and abs(total - weight) <= tol + 1e-9:
                # The rows and the profile agree: the declared "(N分)" is the one to change.
                yield Candidate(
                    "S05", category.ref, category.name, Op.EQ, actual=declared, expected=weight, tol=tol,
                    quantity=Quantity.SCORE, variant="declared", params=params, related=tuple(cells(rows)),
                )  # fmt: skip
                continue
            rows_off = off and weight is not None and abs(declared - weight) <= tol + 1e-9
            yield Candidate(
                "S05",
                category.ref,
                category.name,
                Op.EQ,
                actual=round(total, 6),
                expected=declared,
                tol=tol,
                quantity=Quantity.SCORE,
                variant="rows" if rows_off else "",
                params={**params, "diff": gap(total, declared, Quantity.SCORE)},
                related=tuple(cells(rows)),
                answer=False,
            )
        if weight is not None:
            stated = declared if declared is not None else total
            yield Candidate(
                "S05",
                category.ref,
                category.name,
                Op.EQ,
                actual=stated,
                expected=weight,
                tol=tol,
                quantity=Quantity.SCORE,
                variant="profile",
                params=params,
            )
    yield from _section_weights(form, tol)


def _section_weights(form: SelfEval, tol: float) -> Iterator[Candidate]:
    """A numbered section heading's "(N分)" (G: "二、整体绩效目标实现情况（60分）") ≠ the 分值 of its rows,
    the funds block's 分值 included when it stands under the heading ("一、当年预算执行情况（20分）")."""
    for section in form.sections:
        if section.declared is None:
            continue
        rows = [i.max_score for i in form.indicators if i.section_ref == section.ref and i.max_score.ref]
        if form.funds_section_ref == section.ref and form.funds.max_score.ref is not None:
            rows.append(form.funds.max_score)
        total = _score_sum(rows)
        if not rows or total is None:
            continue
        yield Candidate(
            "S05", section.ref, section.name, Op.EQ, actual=round(total, 6), expected=section.declared, tol=tol,
            quantity=Quantity.SCORE, params={"diff": gap(total, section.declared, Quantity.SCORE)},
            related=tuple(cells(rows)), answer=False,
        )  # fmt: skip


@rule(
    "S06",
    "score.range",
    Severity.ERROR,
    Scope.SELF_EVAL,
    title="得分超过分值或为负数",
    template="{label} 得分 {actual} 不在 0 到分值 {expected} 之间",
    fix="得分应在 0 到该项分值之间：按评分标准重新打分，并相应调整总分。",
    checks=Comparison("scores", "得分", Op.WITHIN, "分值", reads=("tolerance.score",)),
)
def score_range(ctx: Context) -> Iterator[Candidate]:
    """得分 > 分值 or 得分 < 0 (执行率得分 included)."""
    form = _form(ctx)
    if form is None:
        return
    pairs = [("执行率", form.funds.max_score, form.funds.score)]
    pairs += [(i.label, i.max_score, i.score) for i in form.indicators]
    for label, max_entry, score_entry in pairs:
        values = numbers(max_entry, score_entry)
        if values is None:
            continue
        yield Candidate(
            "S06",
            score_entry.ref,
            label,
            Op.WITHIN,
            actual=values[1],
            expected=values[0],
            tol=ctx.profile.score_tolerance,
            quantity=Quantity.SCORE,
            answer=False,
        )


@rule(
    "S07",
    "score.deduction_reason",
    Severity.ERROR,
    Scope.SELF_EVAL,
    title="扣分但未说明偏差原因",
    template="{label} 扣分（得分 {actual}，分值 {expected}）但未填写{column}",
    fix="在该行的原因栏（“偏差原因分析及改进措施”“未完成原因分析”等）写明扣分原因和改进措施。",
)
def deduction_reason(ctx: Context) -> Iterator[Candidate]:
    """得分 < 分值 and the reason (偏差原因分析及改进措施, 未完成原因分析 …) is blank (or only "0", "无", "/")."""
    form = _form(ctx)
    if form is None:
        return
    for indicator in form.indicators:
        values = numbers(indicator.max_score, indicator.score)
        if values is None or indicator.reason.ref is None:
            continue  # no weight, or a form without a reason column (F, H)
        deducted = values[1] < values[0] - ctx.profile.score_tolerance
        has_reason = _has_reason(indicator.reason)
        ref = indicator.reason.ref or indicator.score.ref
        yield Candidate(
            "S07",
            ref,
            indicator.label,
            Op.FLAG,
            ok=not deducted or has_reason,
            actual=values[1],
            expected=values[0],
            # The numbers are scores, not what belongs in the reason cell: no 应为/实际.
            quantity=Quantity.TEXT,
            related=tuple(cells((indicator.score,))),
            answer=False,
            params={"column": form.reason_label},
        )


def _assessed(ctx: Context) -> Iterator[tuple[Indicator, Assessment, list[float]]]:
    form = _form(ctx)
    if form is None:
        return
    for indicator in form.indicators:
        values = numbers(indicator.max_score, indicator.score)
        if values is None:
            continue
        yield indicator, assess(indicator), values


@rule(
    "S09",
    "target.missed_full_marks",
    Severity.WARNING,
    Scope.SELF_EVAL,
    title="未达到指标值却得满分",
    template="{label} 未达到指标值（{target}，实际 {actual_value}）却得满分 {actual}，按完成比例应得 {expected}",
    fix="未达到指标值的，按完成比例扣分并写明偏差原因；若实际完成值填错，改正实际完成值。",
    variants={
        "bands": (
            None,
            "{label} 未达到指标值（{target}，实际 {actual_value}）却得满分 {actual}，按表中得分系数标准应得 {expected}",
        ),
    },
)
def missed_full_marks(ctx: Context) -> Iterator[Candidate]:
    """Target missed but full marks.

    A form that states its own 得分系数 table (Chongqing) is judged by it: where the table gives a missed
    target's completion rate the full coefficient, full marks are its rule, not a finding.
    """
    form = _form(ctx)
    bands = form.bands if form is not None else ()
    for indicator, assessment, (max_score, score) in _assessed(ctx):
        expected = recomputed_score(indicator, assessment, max_score, score, bands)
        missed = assessment.met is False and (not bands or expected < max_score - ctx.profile.score_tolerance)
        full = score >= max_score - ctx.profile.score_tolerance
        yield Candidate(
            "S09",
            indicator.score.ref,
            indicator.label,
            Op.FLAG,
            ok=not (missed and full),
            actual=score,
            expected=round(expected, 2),
            variant="bands" if bands else "",
            quantity=Quantity.SCORE,
            params={
                "target": _shown_target(indicator),
                "actual_value": _inline(indicator.actual) or assessment.shown,
            },
        )


@rule(
    "S10",
    "target.met_deducted",
    Severity.WARNING,
    Scope.SELF_EVAL,
    title="已达到指标值却扣分",
    template="{label} 已达到指标值（{target}，实际 {actual_value}）却扣分（得分 {actual}，分值 {expected}）",
    variants={
        "explained": (
            None,
            "{label} 已达到指标值（{target}，实际 {actual_value}）仍扣分（得分 {actual}，分值 {expected}），"
            "单位已说明原因",
        )
    },
    fix="已达到指标值的一般应得满分：扣分有其他原因的，在“偏差原因分析及改进措施”栏写明；否则改为满分。",
)
def met_but_deducted(ctx: Context) -> Iterator[Candidate]:
    """Target met but marks deducted."""
    for indicator, assessment, (max_score, score) in _assessed(ctx):
        met = assessment.met is True
        deducted = score < max_score - ctx.profile.score_tolerance
        yield Candidate(
            "S10",
            indicator.score.ref,
            indicator.label,
            Op.FLAG,
            ok=not (met and deducted),
            actual=score,
            expected=max_score,
            quantity=Quantity.SCORE,
            # A deduction the unit explained: the profile decides how much it weighs ("S10.explained").
            variant="explained" if _has_reason(indicator.reason) else "",
            params={
                "target": _shown_target(indicator),
                "actual_value": _inline(indicator.actual) or assessment.shown,
            },
            related=tuple(cells((indicator.reason,))) if _has_reason(indicator.reason) else (),
            # Full marks is the one right score unless the unit explained the deduction.
            answer=not _has_reason(indicator.reason),
        )


@rule(
    "S11",
    "actual.not_a_value",
    Severity.WARNING,
    Scope.SELF_EVAL,
    title="实际完成值为空或不是实际值",
    template="{label} 的实际完成值“{text}”不是实际达到的值（指标值为 {target}）",
    variants={"blank": (None, "{label} 的实际完成值为空")},
    fix="填写实际达到的值（如“92%”“5次”），不要照抄指标值。",
)
def actual_not_a_value(ctx: Context) -> Iterator[Candidate]:
    """实际完成值 blank, or not a value ("≥80%" as an actual; text where the target is a number)."""
    form = _form(ctx)
    if form is None:
        return
    for indicator in form.indicators:
        if indicator.actual.ref is None:
            continue  # a scoring sheet without an 实际完成值 column (H)
        if indicator.actual.number.kind is Kind.UNCACHED:
            continue  # a formula without a saved result is not blank: F04 says so
        text = indicator.actual.text
        ok = bool(text)
        if ok and indicator.parsed_target.quantitative:
            ok = parse_number(text).ok
        yield Candidate(
            "S11",
            indicator.actual.ref or indicator.level3.ref,
            indicator.label,
            Op.FLAG,
            ok=ok,
            quantity=Quantity.TEXT,
            variant="" if text else "blank",
            params={
                "text": indicator.actual.shown or text,
                "target": _shown_target(indicator) or "（空）",
            },
            actual_text=indicator.actual.shown or text or None,
        )


@rule(
    "S12",
    "target.not_measurable",
    Severity.WARNING,
    Scope.SELF_EVAL,
    title="数量/成本指标没有可量化的指标值",
    template="{label} 属于{kind}，但指标值“{text}”没有可量化的数值",
    fix="数量、成本指标的指标值应写成可量化的数值（如“≥3次”“≤125万元”）；下一年度设定指标时改正。",
)
def not_measurable(ctx: Context) -> Iterator[Candidate]:
    """A 数量 or 成本 indicator with no measurable target (the seed's own "缺乏具体可量化数值")."""
    form = _form(ctx)
    if form is None:
        return
    for indicator in form.indicators:
        kind = next(
            (k for k in ("数量指标", "成本指标") if k[:2] in indicator.level2 or k[:2] in indicator.level1), None
        )
        if kind is None or indicator.target.ref is None:
            continue  # no target column, or a parent row whose values are its children's
        yield Candidate(
            "S12",
            indicator.target.ref or indicator.level3.ref,
            indicator.label,
            Op.FLAG,
            ok=indicator.parsed_target.quantitative,
            quantity=Quantity.TEXT,
            params={"kind": kind, "text": indicator.target.shown or indicator.target.text},
            actual_text=indicator.target.shown or indicator.target.text or None,
        )


@rule(
    "S13",
    "target.too_low",
    Severity.WARNING,
    Scope.SELF_EVAL,
    title="实际完成值远超指标值（指标值设置过于保守）",
    template="{label} 实际完成 {actual_value}，达到指标值 {target} 的 {achieved}，指标值可能设置过于保守",
    fix="核对实际完成值；确实大幅超额的，在自评报告中说明，下一年度据实提高指标值。",
)
def target_too_low(ctx: Context) -> Iterator[Candidate]:
    """Target far exceeded (actual ≥ thresholds.target_exceeded × a "≥" target): it was set too low."""
    form = _form(ctx)
    if form is None:
        return
    factor = ctx.profile.target_exceeded
    for indicator in form.indicators:
        assessment = assess(indicator)
        if assessment.comparator not in (Comparator.GE, Comparator.GT) or assessment.achieved is None:
            continue
        yield Candidate(
            "S13",
            indicator.actual.ref,
            indicator.label,
            Op.FLAG,
            ok=assessment.achieved < factor - 1e-9,
            quantity=Quantity.TEXT,
            params={
                "target": _shown_target(indicator),
                "actual_value": _inline(indicator.actual) or assessment.shown,
                "achieved": f"{assessment.achieved:.0%}",
            },
            actual_text=indicator.actual.shown or indicator.actual.text,
        )


@rule(
    "S08",
    "score.total",
    Severity.ERROR,
    Scope.SELF_EVAL,
    title="总分与各项得分之和不符，或总分分值不是100",
    template="总分得分 {actual} 与各项得分之和 {expected} 相差 {diff} 分",
    variants={
        "max": (None, "总分的分值应为 {expected}，填写的是 {actual}"),
        "children": (None, "{label} 得分 {actual} 与其下各子项得分之和 {expected} 不符，相差 {diff} 分"),
    },
    fix="总分应等于各项得分（含执行率得分）之和：先核对各项得分，再改总分或改错的那一项。",
    checks=(
        Comparison("scores", "总分", Op.EQ, "各项得分之和", reads=("tolerance.score",), within=SHOWN_PRECISION),
        Comparison(
            "weights", "总分分值", Op.EQ, "总分值", variants=("max",), reads=("tolerance.score", "thresholds.total")
        ),
    ),
)
def score_total(ctx: Context) -> Iterator[Candidate]:
    """总分's 得分 ≠ the sum of 得分 (执行率得分 included); 总分's 分值 ≠ the profile's total (thresholds.total).

    A 20-point form's parent row ("一、…") scored beside its child rows ("1、…"): one level counts in the sum,
    and a parent's 得分 that is not its children's sum is reported at the parent (case "children").
    """
    form = _form(ctx)
    if form is None or not form.indicators:
        return
    for parent, children in form.parent_scores:
        summed = _score_sum(list(children))
        if parent.value is None or summed is None:
            continue
        yield Candidate(
            "S08", parent.ref, _parent_label(form, parent), Op.FLAG, ok=False, actual=parent.value,
            expected=round(summed, 6), quantity=Quantity.SCORE, variant="children",
            params={"diff": gap(parent.value, summed, Quantity.SCORE)}, related=tuple(cells(children)), answer=False,
        )  # fmt: skip
    maximum = numbers(form.total_max)
    if maximum is not None:
        yield Candidate(
            "S08",
            form.total_max.ref,
            "总分 / 分值",
            Op.EQ,
            actual=maximum[0],
            expected=ctx.profile.total,
            tol=ctx.profile.score_tolerance,
            quantity=Quantity.SCORE,
            variant="max",
        )
    reported = numbers(form.total_score)
    execution = _execution(form.funds.score, ctx)
    if execution is None:
        return
    # A row whose score is counted elsewhere (a 得分 merged over rows, a child row whose parent is counted)
    # has no score cell of its own: it adds nothing, and the total is still checked.
    scores = _score_sum([*execution, *_of_rows(i.score for i in form.indicators)])
    if reported is None or scores is None:
        return
    yield Candidate(
        "S08",
        form.total_score.ref,
        "总分 / 得分",
        Op.EQ,
        actual=reported[0],
        expected=round(scores, 6),
        tol=_score_tol(ctx, form.total_score),
        quantity=Quantity.SCORE,
        params={"diff": gap(reported[0], scores, Quantity.SCORE)},
        answer=False,
    )


def _parent_label(form: SelfEval, score: Entry) -> str:
    """The name of the row whose 得分 `score` is."""
    return next(
        (i.label for i in form.indicators if i.level3.ref and score.ref and i.level3.ref.row == score.ref.row), ""
    )


@rule(
    "S14",
    "grade.mismatch",
    Severity.ERROR,
    Scope.SELF_EVAL,
    title="自评等级与总分不符",
    template="自评等级“{actual}”与总分 {total} 对应的等级“{expected}”不符",
    fix="按总分确定等级（优 ≥ 90，良 80–90，中 60–80，差 < 60）；若总分有误，先改总分。",
)
def grade_mismatch(ctx: Context) -> Iterator[Candidate]:
    """The stated grade (优/良/中/差) disagrees with the grade the profile's [grades] bounds give the total."""
    form = _form(ctx)
    if form is None or not form.grade.text:
        return
    total = numbers(form.total_score)
    stated = next((name for name, _ in ctx.profile.grades if name in form.grade.text), None)
    if total is None or stated is None:
        return
    expected = ctx.profile.grade(total[0])
    yield Candidate(
        "S14",
        form.grade.ref,
        "自评等级",
        Op.FLAG,
        ok=stated == expected,
        quantity=Quantity.TEXT,
        params={"total": f"{total[0]:g}"},
        actual_text=stated,
        expected_text=expected,
    )


@rule(
    "S15",
    "score.recomputed_differs",
    Severity.WARNING,
    Scope.SELF_EVAL,
    title="自评总分与复核总分不一致",
    template="各项自评得分合计 {actual} 与按评分规则复核的总分 {expected} 相差 {diff} 分，复核不同的有：{rows}",
    fix="对照各行的指标值和实际完成值核实得分：未达到指标值的按完成比例计分，执行率得分 = 分值 × 执行率。",
    checks=Comparison("scores", "各项得分之和", Op.EQ, "复核总分", reads=("tolerance.score", "weights")),
)
def recomputed_differs(ctx: Context) -> Iterator[Candidate]:
    """The unit's scores add up to another total than the one recomputed by the scoring rules.

    Met quantitative targets score full marks, missed ones proportionally, and 执行率得分 is
    分值 × min(执行率, 1). The difference is reported, never silently replaced.
    """
    from perf_eval.scoring import recomputed_total

    form = _form(ctx)
    if form is None:
        return
    recomputed = recomputed_total(form, ctx.profile)
    execution = _execution(form.funds.score, ctx)
    if execution is None:
        return
    reported = _score_sum([*execution, *_of_rows(i.score for i in form.indicators)])
    if reported is None or recomputed is None:
        return
    # Against the sum of the reported row scores: a 总分 that is not that sum is S08's finding.
    # Met quantitative targets score full, missed ones proportionally, 执行率得分 = 分值 × min(执行率, 1).
    # The recomputed total is a second opinion, not the one right value: no 应为.
    differing = _rescored_rows(form, ctx)
    yield Candidate(
        "S15",
        form.total_score.ref or form.funds.score.ref,
        "总分 / 得分",
        Op.EQ,
        actual=round(reported, 6),
        expected=recomputed,
        tol=ctx.profile.score_tolerance,
        quantity=Quantity.SCORE,
        params={
            "diff": gap(reported, recomputed, Quantity.SCORE),
            "rows": "、".join(text for _, text in differing) or "（各行差额均在容差内）",
        },
        related=tuple(cells(entry for entry, _ in differing)),
        answer=False,
    )


def _rescored_rows(form: SelfEval, ctx: Context) -> list[tuple[Entry, str]]:
    """The score cells whose recomputed score differs from the one written, each as "名称（填 9，复核 10）":
    the rows that make up S15's difference, so the clerk knows where to look."""
    from perf_eval.scoring import execution_score as recomputed_execution

    tol = ctx.profile.score_tolerance
    rows: list[tuple[Entry, str, float, float]] = []
    written = numbers(form.funds.score)
    ours = recomputed_execution(form, ctx.profile)
    if written is not None and ours is not None:
        rows.append((form.funds.score, "执行率得分", written[0], ours))
    for indicator in form.indicators:
        values = numbers(indicator.max_score, indicator.score)
        if values is not None:
            again = recomputed_score(indicator, assess(indicator), values[0], values[1])
            rows.append((indicator.score, indicator.label, values[1], again))
    return [
        (entry, f"{label}（填 {fmt(got, Quantity.SCORE)}，复核 {fmt(round(want, 2), Quantity.SCORE)}）")
        for entry, label, got, want in rows
        if abs(got - want) > tol + 1e-9
    ]


@rule(
    "S16",
    "score.not_rescored",
    Severity.INFO,
    Scope.SELF_EVAL,
    title="无法复核总分",
    template="复核得分不可用：{reason}",
)
def not_rescored(ctx: Context) -> Iterator[Candidate]:
    """The form gives no weights (分值/权重) or no scores, so its total cannot be re-scored.

    Nor can it when a value the re-scoring rests on is not a number (F03) or a formula without a cached
    value (F04): a weight, a score, the execution score's amounts, rate, 分值 or 得分, a target or actual,
    or the 总分 row. Said once; the recomputed score is then not available (JSON null, "—" on screen, no grade), never 0
    and never a grade computed from nothing. Rules that need a row's weight do not run on a row without one.
    """
    from perf_eval.scoring import not_rescored as why

    form = _form(ctx)
    if form is None:
        return
    reason = why(form, ctx.profile)
    if reason is None:
        return
    yield Candidate(
        "S16",
        reason.at.ref,
        "复核得分",
        Op.FLAG,
        ok=False,
        quantity=Quantity.TEXT,
        params={"reason": reason.reason},
    )


@rule(
    "S17",
    "score.converted",
    Severity.ERROR,
    Scope.SELF_EVAL,
    title="指标得分与得分系数或折算不符",
    template="{label} 的得分应为 {how} = {expected}，填写的是 {actual}",
    variants={
        "rounded": (
            Severity.WARNING,
            "{label} 的得分填写 {actual}，是精确值 {exact}（{how}）{rounding}到所填位数的结果",
        ),
        "twice": (
            None,
            "{label} 的单项指标得分 {item} 已是按指标分值 {max_score} 计的得分，折算得分又乘以权重占比 {share}，"
            "按权重计了两次（应为 {expected}）",
        ),
        "band": (
            None,
            "{label} 完成 {achieved}，按表中得分系数标准得分系数应为 {expected}，填写的是 {actual}",
        ),
    },
    checks=Comparison("scores", "得分", Op.EQ, "折算得分", reads=("tolerance.score",)),
)
def converted_score(ctx: Context) -> Iterator[Candidate]:
    """A score computed on the form does not follow its formula (得分系数, 权重占比).

    Chongqing: 指标得分 = 指标权重 × 得分系数. Budget-system export: 折算得分 = 单项指标得分 × 权重占比 when
    单项指标得分 is on a 100 scale; a 单项指标得分 not above its 指标分值 is already out of that 分值, and
    weighting it again counts the weight twice. A score equal to the exact value rounded half-up to the
    decimals shown is a warning.
    """
    form = _form(ctx)
    if form is None:
        return
    for indicator in form.indicators:
        values = numbers(indicator.max_score, indicator.score)
        if values is None:
            continue
        weight, written = values
        coefficient, item, share = (
            numbers(indicator.coefficient),
            numbers(indicator.item_score),
            numbers(indicator.share),
        )
        if coefficient is not None:
            yield from _band_coefficient(form, indicator, coefficient[0])
            exact, how = weight * coefficient[0], f"指标权重 {weight:g} × 得分系数 {coefficient[0]:.2%}"
        elif item is not None and share is not None:
            if item[0] <= weight + ctx.profile.score_tolerance and item[0] < 100 - 1e-9:
                doubled = item[0] * share[0]
                if abs(written - doubled) <= ctx.profile.score_tolerance and abs(written - item[0]) > 1e-9:
                    yield Candidate(
                        "S17", indicator.score.ref, indicator.label, Op.FLAG, ok=False, actual=written,
                        expected=item[0], quantity=Quantity.SCORE, variant="twice",
                        params={"item": f"{item[0]:g}", "max_score": f"{weight:g}", "share": f"{share[0]:.0%}"},
                    )  # fmt: skip
                continue
            exact, how = item[0] * share[0], f"单项指标得分 {item[0]:g} × 权重占比 {share[0]:.0%}"
        else:
            continue
        how_rounded = rounding_of(indicator.score.number, exact, ctx.profile.rounding)
        if abs(written - exact) > ctx.profile.score_tolerance + 1e-9 and how_rounded is not None:
            candidate = _rounded("S17", indicator.score, indicator.label, written, exact, how_rounded, Quantity.SCORE)
            yield replace(candidate, params={**candidate.params, "how": how, "rounding": ROUNDING_ZH[how_rounded]})
            continue
        yield Candidate(
            "S17", indicator.score.ref, indicator.label, Op.EQ, actual=written, expected=exact,
            tol=ctx.profile.score_tolerance, quantity=Quantity.SCORE, params={"how": how},
        )  # fmt: skip


def _band_coefficient(form: SelfEval, indicator: Indicator, written: float) -> Iterator[Candidate]:
    """The written 得分系数 of a quantitative row against the form's own 得分系数 table (its completion rate's line)."""
    if not form.bands:
        return
    assessment = assess(indicator)
    expected, achieved = banded(assessment, form.bands), completion(assessment)
    if expected is None or achieved is None:
        return
    yield Candidate(
        "S17", indicator.coefficient.ref, indicator.label, Op.FLAG, ok=abs(written - expected) <= 1e-6,
        actual=written, expected=expected, quantity=Quantity.RATE, variant="band",
        params={"achieved": f"{achieved:.2%}"}, related=tuple(cells((indicator.actual,))),
    )  # fmt: skip


@rule(
    "S18",
    "funds.breakdown",
    Severity.ERROR,
    Scope.SELF_EVAL,
    title="“其中”各项之和超过其所属的资金行",
    template="{label}：其中各项之和 {actual} 超过{parent} {expected}，多出 {diff}",
    fix="“其中”所列是该行资金的一部分，合计不能超过该行：核对该行及其下各项，改正填错的一处。",
    checks=Comparison("funds", "其中各项之和", Op.LE, "所属资金行", reads=("tolerance.amount",)),
)
def funds_breakdown(ctx: Context) -> Iterator[Candidate]:
    """A funds line's "其中" rows (当年财政拨款 / 其中：中央资金 / 省级资金) add up to more than the line.

    "其中" (of which) lists part of a line, not necessarily all of it: the parts must not exceed the line,
    column by column, and need not equal it. The parts of the total itself (the template's rows
    当年财政拨款 / 上年结转资金 / 其他资金) exhaust it and must equal it: that is S03.
    """
    form = _form(ctx)
    if form is None:
        return
    unit, tol = _unit(form), ctx.profile.amount_tolerance
    for group in form.funds.groups:
        if group.of is None:
            continue
        for column in FUNDS_COLUMNS:
            line = group.of.amounts.get(column)
            if line is None:
                continue
            summed = _column_sum(line, group, column, unit)
            if summed is None or not any(e.ok for e in summed[0]):
                continue
            parts, got, want = summed
            yield Candidate(
                "S18",
                line.ref,
                f"{group.of.label} / {COLUMN_LABELS[column]}",
                Op.LE,
                actual=got,
                expected=want,
                tol=tol,
                quantity=unit.quantity,
                related=tuple(cells(parts)),
                params={"parent": f"该行的{COLUMN_LABELS[column]}", "diff": unit.shown(got - want)},
                answer=False,
                actual_text=unit.shown(got),
                expected_text=unit.shown(want),
            )


def _column_sum(
    line: Entry, group: PartGroup, column: str, unit: AmountUnit
) -> tuple[list[Entry], float, float] | None:
    """One column of a funds group: its parts, their sum and the line's amount, in the form's unit."""
    parts = [p.amounts[column] for p in group.parts if column in p.amounts]
    values, actual = numbers(line), part_sum(parts)
    if values is None or actual is None:
        return None
    return parts, round(actual * unit.scale, 6), values[0] * unit.scale


_NOT_DONE = ("未完成", "没有完成", "部分完成", "基本完成", "未达到", "未达标")
_DONE = ("完成", "已完成", "全部完成", "超额完成", "达到", "已达到", "达标")


@rule(
    "S19",
    "target.status_contradicts",
    Severity.WARNING,
    Scope.SELF_EVAL,
    title="单项指标完成情况与指标值、实际完成值不符",
    template="{label} 的完成情况填“{status}”，而实际完成值 {actual_value} {verdict}指标值（{target}）",
    fix="按实际完成值与指标值的比较填写完成情况；若实际完成值填错，改正实际完成值。",
)
def status_contradicts(ctx: Context) -> Iterator[Candidate]:
    """A row's own word on it (J: 单项指标完成情况 "完成"/"未完成") says the opposite of its target and actual.

    Only where the values decide (a quantitative target and a number for the actual): "完成" for a missed
    target, or "未完成"/"部分完成" for a met one. Qualitative rows and words that are neither are not judged.
    """
    form = _form(ctx)
    if form is None:
        return
    for indicator in form.indicators:
        word = normalize(indicator.status.text)
        if not word or indicator.status.ref is None:
            continue
        if word.startswith(_NOT_DONE):
            says_done = False
        elif word in _DONE:
            says_done = True
        else:
            continue  # "见说明", "/": not a word on completion
        assessment = assess(indicator)
        if not assessment.quantitative or assessment.met is None:
            continue
        yield Candidate(
            "S19",
            indicator.status.ref,
            indicator.label,
            Op.FLAG,
            ok=says_done == assessment.met,
            quantity=Quantity.TEXT,
            params={
                "status": _inline(indicator.status),
                "actual_value": _inline(indicator.actual) or assessment.shown,
                "verdict": "已达到" if assessment.met else "未达到",
                "target": _shown_target(indicator),
            },
        )


@rule(
    "S20",
    "indicator.breakdown",
    Severity.WARNING,
    Scope.SELF_EVAL,
    title="“其中”各项之和超过其所属指标",
    template="{label} 的{column} {expected}，其下“其中”各项（{parts}）之和却为 {actual}，超过该指标",
    fix="“其中”所列是该指标的一部分，之和不能超过该指标：核对该指标及其下各项的数值，改正填错的一处。",
)
def indicator_breakdown(ctx: Context) -> Iterator[Candidate]:
    """An indicator's "其中" rows add up to more than the indicator, in its target or its actual.

    其中桃树种植面积 / 其中苹果树种植面积 / … under 补助各类瓜果蔬菜种植面积: "其中" rows are a breakdown of the indicator above them, not indicators: they carry no 分值 of their own
    (or repeat their parent's, never counted twice) and are not scored. Their values are compared with the
    parent's only where every one is a number in the parent's unit ("1.5亩" under "29.5亩"; "12头" under
    "192只" is not compared).
    """
    form = _form(ctx)
    if form is None:
        return
    parents = {i.level3.ref: i for i in form.indicators}
    for ref, rows in form.breakdowns:
        parent = parents.get(ref)
        if parent is None:
            continue
        for column in ("指标值", "实际完成值"):
            entry_of = _breakdown_cell(column)
            whole, unit = _breakdown_value(parent, column)
            values = [_breakdown_value(row, column) for row in rows]
            if whole is None or not values or any(v is None or u != unit for v, u in values):
                continue
            total = sum(v for v, _ in values if v is not None)
            yield Candidate(
                "S20", entry_of(parent).ref, parent.label, Op.FLAG, ok=total <= whole + 1e-9 * max(1.0, abs(whole)),
                actual=total, expected=whole, quantity=Quantity.TEXT,
                params={"column": column, "parts": "、".join(row.label.removeprefix("其中").lstrip(":：") for row in rows)},
                actual_text=f"{total:g}{unit}", expected_text=f"{whole:g}{unit}",
                related=tuple(cells(entry_of(row) for row in rows)),
            )  # fmt: skip


def _breakdown_cell(column: str) -> Callable[[Indicator], Entry]:
    """The cell of a row a breakdown compares: its target (指标值) or its actual (实际完成值)."""
    return (lambda i: i.target) if column == "指标值" else (lambda i: i.actual)


def _breakdown_value(indicator: Indicator, column: str) -> tuple[float | None, str]:
    """(value, unit) of a row's target or actual; value None when it is not a number."""
    if column == "指标值":
        return indicator.parsed_target.value, indicator.parsed_target.unit
    number = parse_number(indicator.actual.text)
    return (number.value if number.ok else None), number.unit
