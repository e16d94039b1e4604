"""Rules of the 基础数据表 (B): staffing, 三公经费, 项目支出, 公用经费, 楼堂馆所."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from perf_eval.forms import BASIC_COLUMNS, BasicData, Line, LineRole, SelfEval
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
    gap,
    numbers,
    part_sum,
    ratio,
    rule,
)
from perf_eval.values import shown_tolerance


def _basic(ctx: Context) -> BasicData | None:
    return ctx.basic


def _unit(form: BasicData) -> AmountUnit:
    """A 基础数据表 written in 元 is compared in 元 (the amount tolerance is 0.01 元 there) and speaks 元."""
    return amount_unit(form.unit)


def _sum_rule(
    rule_id: str, ctx: Context, total_role: LineRole, part_roles: tuple[LineRole, ...], *, op: Op = Op.EQ
) -> Iterator[Candidate]:
    """Each column: the total row against the sum of its part rows."""
    form = _basic(ctx)
    if form is None:
        return
    total = form.line(total_role)
    if total is None:
        return
    parts = _parts_after(form, total, part_roles)
    if not parts and total_role is not LineRole.PROJECTS:
        return
    unit = _unit(form)
    for column in BASIC_COLUMNS:
        entry = total.amount(column)
        values = numbers(entry)
        expected = part_sum(p.amount(column) for p in parts)
        if values is None or expected is None:
            continue
        got, want = round(values[0] * unit.scale, 6), round(expected * unit.scale, 6)
        # Either the total or a part may be the wrong one: no 应为, the total and its parts are marked together.
        yield Candidate(
            rule_id,
            entry.ref,
            f"{total.quoted} / {form.column_label(column)}",
            op,
            actual=got,
            expected=want,
            tol=ctx.profile.amount_tolerance,
            quantity=unit.quantity,
            params={
                "parts": "、".join(p.label for p in parts) or "（未列出）",
                "count": len(parts),
                "diff": unit.shown(abs(got - want)),
            },
            related=tuple(cells(p.amount(column) for p in parts)),
            answer=False,
            actual_text=unit.shown(got),
            expected_text=unit.shown(want),
        )


def decided_by_partner(
    candidates: list[Candidate], basic: BasicData, self_eval: SelfEval, tol: float
) -> list[Candidate]:
    """B05 on the 本年决算数 total says which side is wrong when the 自评表 decides it.

    When the total agrees with the 自评表's 项目支出 (按支出性质分) and only the listed projects
    disagree, the projects are the ones to check: the finding says so and names the 自评表 cell.
    """
    line = basic.line(LineRole.PROJECTS)
    part = self_eval.part("项目支出")
    if line is None or part is None or not part.ok or part.value is None:
        return candidates
    total = line.amount("final")
    out = []
    for candidate in candidates:
        if (
            candidate.rule == "B05"
            and candidate.ref == total.ref
            and candidate.actual is not None
            and abs(candidate.actual / amount_unit(basic.unit).scale - part.value) <= tol + 1e-9
        ):
            candidate = replace(candidate, variant="parts", related=(*candidate.related, part.cell))
        out.append(candidate)
    return out


def _parts_after(form: BasicData, total: Line, roles: tuple[LineRole, ...]) -> list[Line]:
    """The part rows that follow a total, up to the next row of another kind."""
    index = form.lines.index(total)
    parts: list[Line] = []
    for line in form.lines[index + 1 :]:
        if line.role in roles:
            parts.append(line)
        elif line.role in (LineRole.CAR_PART,) and LineRole.CAR in roles:
            continue  # 公车购置 rows sit between 公务用车 and 出国经费
        else:
            break
    return parts


@rule(
    "B01",
    "staff.control_rate",
    Severity.ERROR,
    Scope.BASIC,
    title="控制率与实际在职人数/编制数不符",
    template="控制率应为 实际在职人数 / 编制数 = {expected}，填写的是 {actual}",
    fix="按 实际在职人数 ÷ 编制数 重新计算控制率；若人数填错，先改正人数。",
    checks=Comparison("staff", "控制率", Op.EQ, "在职人数÷编制数", reads=("tolerance.rate",), within=SHOWN_PRECISION),
)
def control_rate(ctx: Context) -> Iterator[Candidate]:
    """控制率 ≠ 实际在职人数 / 编制数, compared at the precision shown."""
    form = _basic(ctx)
    if form is None:
        return
    expected = ratio(form.staff_actual, form.staff_authorized)
    rate = numbers(form.control_rate)
    if expected is None or rate is None:
        return
    yield Candidate(
        "B01",
        form.control_rate.ref,
        "控制率",
        Op.EQ,
        actual=rate[0],
        expected=expected,
        tol=shown_tolerance(form.control_rate.number, floor=ctx.profile.rate_tolerance),
        quantity=Quantity.RATE,
        related=tuple(cells((form.staff_actual, form.staff_authorized))),
    )


@rule(
    "B02",
    "staff.over_quota",
    Severity.WARNING,
    Scope.BASIC,
    title="实际在职人数超过编制数（超编）",
    template="实际在职人数 {actual} 超过编制数 {expected}（超编）",
    fix="核对编制数和实际在职人数；确属超编的，在自评报告中说明原因。",
    checks=Comparison("staff", "实际在职人数", Op.LE, "编制数"),
)
def over_quota(ctx: Context) -> Iterator[Candidate]:
    """实际在职人数 > 编制数 (超编)."""
    form = _basic(ctx)
    if form is None:
        return
    values = numbers(form.staff_actual, form.staff_authorized)
    if values is None:
        return
    yield Candidate(
        "B02",
        form.staff_actual.ref,
        "实际在职人数",
        Op.LE,
        actual=values[0],
        expected=values[1],
        quantity=Quantity.COUNT,
        related=tuple(cells((form.staff_authorized,))),
        answer=False,
    )


@rule(
    "B03",
    "three_public.sum",
    Severity.ERROR,
    Scope.BASIC,
    title="三公经费不等于三项之和",
    template="{label}：合计 {actual} 与{parts}之和 {expected} 相差 {diff}",
    fix="对照账表逐项核对：合计与各项中哪一个填错就改哪一个，不要只把合计改成各项之和。",
    checks=Comparison("line_sums", "合计", Op.EQ, "各项之和", reads=("tolerance.amount",)),
)
def three_public_sum(ctx: Context) -> Iterator[Candidate]:
    """三公经费 ≠ 公务用车购置和维护经费 + 出国经费 + 公务接待, in each column."""
    yield from _sum_rule("B03", ctx, LineRole.THREE_PUBLIC, (LineRole.CAR, LineRole.ABROAD, LineRole.RECEPTION))


@rule(
    "B04",
    "car.sum",
    Severity.ERROR,
    Scope.BASIC,
    title="公务用车购置和维护经费不等于公车购置与运行维护之和",
    template="{label}：合计 {actual} 与{parts}之和 {expected} 相差 {diff}",
    fix="对照账表逐项核对：合计与各项中哪一个填错就改哪一个，不要只把合计改成各项之和。",
    checks=Comparison("line_sums", "合计", Op.EQ, "各项之和", reads=("tolerance.amount",)),
)
def car_sum(ctx: Context) -> Iterator[Candidate]:
    """公务用车购置和维护经费 ≠ 公车购置 + 公车运行维护, in each column."""
    yield from _sum_rule("B04", ctx, LineRole.CAR, (LineRole.CAR_PART,))


@rule(
    "B05",
    "projects.sum",
    Severity.ERROR,
    Scope.BASIC,
    title="项目支出不等于所列项目之和",
    template="{label}：合计 {actual} 与所列 {count} 个项目之和 {expected} 相差 {diff}",
    variants={
        "parts": (
            None,
            "{label}：合计 {actual} 与自评表的项目支出一致，所列 {count} 个项目之和 {expected} 与之相差 {diff}，"
            "请核对各项目金额",
        )
    },
    fix="对照账表逐项核对：合计与各项目中哪一个填错就改哪一个，不要只把合计改成各项之和；"
    "本年决算数的合计还应与自评表的项目支出一致。",
    checks=Comparison("line_sums", "合计", Op.EQ, "各项之和", variants=("", "parts"), reads=("tolerance.amount",)),
)
def projects_sum(ctx: Context) -> Iterator[Candidate]:
    """项目支出 ≠ the sum of the listed projects, in each column (all projects must be listed)."""
    yield from _sum_rule("B05", ctx, LineRole.PROJECTS, (LineRole.PROJECT,))


@rule(
    "B06",
    "public.parts",
    Severity.ERROR,
    Scope.BASIC,
    title="公用经费小于其中各项之和",
    template="{label} {actual} 小于其中各项（{parts}）之和 {expected}",
    fix="“其中”各项是公用经费的一部分，之和不能超过公用经费：核对公用经费和各项金额。",
    checks=Comparison("line_sums", "合计", Op.GE, "各项之和", reads=("tolerance.amount",)),
)
def public_parts(ctx: Context) -> Iterator[Candidate]:
    """公用经费 < the sum of its 其中 rows ("其中" means "of which": the parts need not exhaust it)."""
    yield from _sum_rule("B06", ctx, LineRole.PUBLIC, (LineRole.PUBLIC_PART,), op=Op.GE)


@rule(
    "B07",
    "three_public.over_budget",
    Severity.WARNING,
    Scope.BASIC,
    title="三公经费决算超预算",
    template="{label} 本年决算数 {actual} 超过本年预算数 {expected}",
    fix="核对决算数和预算数；确属超支的，在自评报告中说明原因（如年中追加预算）。",
    checks=Comparison("budget_lines", "决算数", Op.LE, "预算数", reads=("tolerance.amount",)),
)
def three_public_over_budget(ctx: Context) -> Iterator[Candidate]:
    """三公经费 本年决算 > 本年预算."""
    yield from _over_budget("B07", ctx, LineRole.THREE_PUBLIC)


def _over_budget(rule_id: str, ctx: Context, role: LineRole) -> Iterator[Candidate]:
    form = _basic(ctx)
    line = form.line(role) if form else None
    if line is None:
        return
    values = numbers(line.amount("final"), line.amount("budget"))
    if values is None:
        return
    unit = _unit(form) if form else amount_unit("万元")
    got, want = round(values[0] * unit.scale, 6), round(values[1] * unit.scale, 6)
    yield Candidate(
        rule_id,
        line.amount("final").ref,
        line.quoted,
        Op.LE,
        actual=got,
        expected=want,
        tol=ctx.profile.amount_tolerance,
        quantity=unit.quantity,
        actual_text=unit.shown(got),
        expected_text=unit.shown(want),
        related=tuple(cells((line.amount("budget"),))),
        answer=False,
    )


@rule(
    "B08",
    "budget.deviation",
    Severity.WARNING,
    Scope.BASIC,
    title="决算与预算偏差过大或无预算支出",
    template="{label} 本年决算数 {actual} 与预算数 {expected} 相差 {diff}（{deviation}），超过 {threshold}{parts}",
    variants={"no_budget": (None, "{label} 无预算（预算数 {expected}）但决算支出 {actual}{parts}")},
    fix="核对预算数和决算数是否填对；确有追加预算或调整的，在自评报告中说明偏差原因。",
    checks=Comparison(
        "budget_lines",
        "决算数",
        Op.EQ,
        "预算数",
        variants=("", "no_budget"),
        reads=("tolerance.amount", "thresholds.budget_deviation", "thresholds.budget_deviation_floor"),
        within="预算数的 {budget_deviation:.0%}，至少 {budget_deviation_floor:g} 万元",
    ),
)
def budget_deviation(ctx: Context) -> Iterator[Candidate]:
    """A line's 本年决算 deviates from its 本年预算 by more than the profile's threshold, or is spent with no budget."""
    form = _basic(ctx)
    if form is None:
        return
    threshold = ctx.profile.budget_deviation
    floor = max(ctx.profile.amount_tolerance, ctx.profile.budget_deviation_floor)
    found: dict[int, tuple[Line, Candidate, bool, str]] = {}
    for index, line in enumerate(form.lines):
        if line.role in (LineRole.PROCUREMENT, LineRole.ADJUSTMENT, LineRole.OTHER):
            continue  # B09 covers procurement; an adjustment has no budget of its own
        budget, final = line.amount("budget"), line.amount("final")
        values = numbers(final, budget)
        if values is None or (values[0] == 0 and values[1] == 0):
            continue
        spent, planned = values
        no_budget = abs(planned) < ctx.profile.amount_tolerance
        deviation = (spent - planned) / planned if not no_budget else 0.0
        tol = max(floor, threshold * abs(planned))
        failing = abs(spent - planned) > tol + 1e-9
        brief = f"无预算 {spent:.2f} 万元" if no_budget else f"{deviation:+.1%}"
        found[index] = (
            line,
            Candidate(
                "B08",
                final.ref,
                line.quoted,
                Op.EQ,
                actual=spent,
                expected=planned,
                tol=tol,
                variant="no_budget" if no_budget else "",
                params={
                    "deviation": f"{deviation:+.1%}",
                    "threshold": f"{threshold:.0%}",
                    "diff": gap(spent, planned),
                    "parts": "",
                },
                related=tuple(cells((budget,))),
                answer=False,
            ),
            failing,
            f"{line.label} {brief}",
        )
    # A total that deviates carries its deviating parts in one finding instead of one more per row.
    folded: set[int] = set()
    for index, (line, candidate, failing, _) in list(found.items()):
        roles = _PARTS_OF.get(line.role)
        if roles is None or not failing:
            continue
        parts = [form.lines.index(p) for p in _parts_after(form, line, roles)]
        deviating = [i for i in parts if i in found and found[i][2]]
        if not deviating:
            continue
        folded.update(deviating)
        listed = "、".join(found[i][3] for i in deviating)
        related = candidate.related + tuple(found[i][1].ref.__str__() for i in deviating if found[i][1].ref)
        params = {**candidate.params, "parts": f"；其中偏差较大的：{listed}"}
        found[index] = (line, replace(candidate, params=params, related=related), failing, found[index][3])
    for index, (_, candidate, _, _) in found.items():
        if index not in folded:
            yield candidate


_PARTS_OF = {
    LineRole.THREE_PUBLIC: (LineRole.CAR, LineRole.ABROAD, LineRole.RECEPTION),
    LineRole.CAR: (LineRole.CAR_PART,),
    LineRole.PROJECTS: (LineRole.PROJECT,),
    LineRole.PUBLIC: (LineRole.PUBLIC_PART,),
}


@rule(
    "B09",
    "procurement.over_budget",
    Severity.WARNING,
    Scope.BASIC,
    title="政府采购金额决算超预算",
    template="{label} 本年决算数 {actual} 超过本年预算数 {expected}",
    fix="核对政府采购金额的决算数和预算数；确属超出的，在自评报告中说明原因。",
    checks=Comparison("budget_lines", "决算数", Op.LE, "预算数", reads=("tolerance.amount",)),
)
def procurement_over_budget(ctx: Context) -> Iterator[Candidate]:
    """政府采购金额 决算 > 预算."""
    yield from _over_budget("B09", ctx, LineRole.PROCUREMENT)


@rule(
    "B10",
    "buildings.control_rate",
    Severity.ERROR,
    Scope.BASIC,
    title="楼堂馆所规模/投资概算控制率与比值不符，或超过100%",
    template="{label} 应为 {expected}，填写的是 {actual}",
    variants={"over": (Severity.WARNING, "{label} {actual} 超过 100%")},
    fix="按 实际 ÷ 批复（预算）重新计算控制率；超过 100% 的，在自评报告中说明原因。",
    checks=(
        Comparison("buildings", "控制率", Op.EQ, "实际÷批复", reads=("tolerance.rate",), within=SHOWN_PRECISION),
        Comparison("buildings", "实际÷批复", Op.LE, "上限", variants=("over",), reads=("tolerance.rate",)),
    ),
)
def buildings_control_rate(ctx: Context) -> Iterator[Candidate]:
    """规模控制率 ≠ 实际规模/批复规模, 投资概算控制率 ≠ 实际投资/预算投资 (error); either above 100% (warning)."""
    form = _basic(ctx)
    if form is None:
        return
    for rate_name, actual_name, approved_name, label in (
        ("scale_rate", "actual_scale", "approved_scale", "规模控制率"),
        ("investment_rate", "actual_investment", "budget_investment", "投资概算控制率"),
    ):
        fields = form.buildings
        if rate_name not in fields or actual_name not in fields or approved_name not in fields:
            continue
        rate_entry = fields[rate_name]
        expected = ratio(fields[actual_name], fields[approved_name])
        rate = numbers(rate_entry)
        if expected is None:
            continue
        tol = shown_tolerance(rate_entry.number, floor=ctx.profile.rate_tolerance)
        related = tuple(cells((fields[actual_name], fields[approved_name])))
        if rate is not None:
            yield Candidate(
                "B10",
                rate_entry.ref,
                label,
                Op.EQ,
                actual=rate[0],
                expected=expected,
                tol=tol,
                quantity=Quantity.RATE,
                related=related,
            )
        yield Candidate(
            "B10",
            rate_entry.ref,
            label,
            Op.LE,
            actual=expected,
            expected=1.0,
            tol=tol,
            quantity=Quantity.RATE,
            variant="over",
            related=related,
            answer=False,
        )


@rule(
    "B11",
    "amount.negative",
    Severity.ERROR,
    Scope.BASIC,
    title="金额或人数为负数",
    template="{label} 为负数 {actual}",
    fix="金额和人数不能为负数：改正为实际数（没有则填 0）。",
    checks=Comparison("amounts", "数值", Op.GE, "下限"),
)
def negative_amount(ctx: Context) -> Iterator[Candidate]:
    """A negative amount, count or area."""
    form = _basic(ctx)
    if form is None:
        return
    amounts = {id(line.amount(column)) for line in form.lines for column in BASIC_COLUMNS}
    unit = _unit(form)
    for entry, label in form.number_fields():
        if entry is form.control_rate:
            continue
        values = numbers(entry)
        if values is None:
            continue
        if id(entry) in amounts:
            value = round(values[0] * unit.scale, 6)
            yield Candidate(
                "B11", entry.ref, label, Op.GE, actual=value, expected=0.0, quantity=unit.quantity, answer=False,
                actual_text=unit.shown(value),
            )  # fmt: skip
        else:
            yield Candidate(
                "B11", entry.ref, label, Op.GE, actual=values[0], expected=0.0, quantity=Quantity.COUNT, answer=False
            )
