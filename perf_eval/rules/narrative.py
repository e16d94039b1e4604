"""N rules: what the written report (附件1) states against its unit's forms, and against itself.

Every finding is shown at the report's sentence (its place) and names the form cell it was
compared with. A statement is compared only with the one form field it restates
(`statements` leaves every other figure alone); a field the forms leave blank or invalid is
the F rules' finding, not one here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from perf_eval.forms import BasicData, Entry, Line, LineRole, SelfEval
from perf_eval.model import Severity
from perf_eval.narrative.statements import Field, Measure, Statement, Statements, measure_of
from perf_eval.rules.catalogue import Candidate, Comparison, Context, Op, Quantity, Scope, numbers, rule
from perf_eval.values import label_key

_TEMPLATE = "报告{where}称“{quote}”，{form} {cell} {field}为 {expected}"
_QUANTITY = {
    Measure.AMOUNT: Quantity.AMOUNT,
    Measure.COUNT: Quantity.COUNT,
    Measure.RATE: Quantity.RATE,
    Measure.SCORE: Quantity.SCORE,
}
BASIC_FORM = "basic"
EVAL_FORM = "eval"


@dataclass(frozen=True)
class ReportInput:
    """What REPORT rules receive as `Context.report`."""

    statements: Statements


# What the N rules compare: a figure the report states against the form field it restates, or against
# what the report's own other figures give; the tolerance is that of the measure (amount, rate, score).
_WITHIN = "按报告所写数字的位数（“约 960 万元”为 1 万元），至少为该量的容差"


def _against_forms(*reads: str) -> Comparison:
    return Comparison("report", "报告所述", Op.EQ, "表单所填", reads=reads, within=_WITHIN)


# Amounts compared within tolerance.amount; the paragraph's 执行率 against 支出 ÷ 预算 within tolerance.rate.
_OWN_FIGURES = Comparison(
    "report", "报告所述", Op.EQ, "按报告其他数字计算", reads=("tolerance.amount", "tolerance.rate"), within=_WITHIN
)


def _statements(ctx: Context) -> Statements | None:
    report = ctx.report
    return report.statements if isinstance(report, ReportInput) else None


def _compare(
    rule_id: str,
    ctx: Context,
    statement: Statement,
    entry: Entry | None,
    *,
    form: str,
    field: str,
) -> Candidate | None:
    """The statement against one form field; None when the field holds no number to compare."""
    if entry is None or entry.ref is None or numbers(entry) is None or statement.value is None:
        return None
    measure = measure_of(statement.field)
    profile = ctx.profile
    # Only the tolerance of this measure is read (the rule reference lists what each rule reads).
    floor = 0.0
    if measure is Measure.AMOUNT:
        floor = profile.amount_tolerance
    elif measure is Measure.RATE:
        floor = profile.rate_tolerance
    elif measure is Measure.SCORE:
        floor = profile.score_tolerance
    form_label = "基础数据表" if form == BASIC_FORM else "自评表"
    return Candidate(
        rule_id,
        None,
        field,
        Op.EQ,
        actual=statement.value,
        expected=entry.value,
        tol=max(floor, statement.tolerance),
        quantity=_QUANTITY[measure],
        params={
            "where": statement.place.text,
            "quote": statement.clause,
            "form": form_label,
            "cell": entry.cell,
            "field": field,
            "form_kind": form,
        },
        related=(entry.cell,),
        place=statement.place,
    )


# --- N01 staff ----------------------------------------------------------------------------------


@rule(
    "N01",
    "report.staff",
    Severity.ERROR,
    Scope.REPORT,
    title="报告所述人员编制、在职人数与基础数据表不符",
    template=_TEMPLATE,
    fix="核对报告中的人员编制和在职人数：应与基础数据表一致，改正填错的一处。",
    checks=_against_forms(),
)
def staff(ctx: Context) -> Iterator[Candidate]:
    """The report's 编制数 or 实有（在职）人数 differs from the 基础数据表."""
    found = _statements(ctx)
    basic = ctx.basic
    if found is None or basic is None:
        return
    for statement in found.of(Field.STAFF_AUTHORIZED, Field.STAFF_ACTUAL):
        entry = basic.staff_authorized if statement.field is Field.STAFF_AUTHORIZED else basic.staff_actual
        label = "编制数" if statement.field is Field.STAFF_AUTHORIZED else "实际在职人数"
        candidate = _compare("N01", ctx, statement, entry, form=BASIC_FORM, field=label)
        if candidate is not None:
            yield candidate


# --- N02 funds ------------------------------------------------------------------------------------

_FUNDS = {
    Field.INITIAL_BUDGET: ("initial_budget", "年初预算数"),
    Field.ANNUAL_BUDGET: ("annual_budget", "全年预算数"),
    Field.EXECUTED: ("executed", "全年执行数"),
}


@rule(
    "N02",
    "report.funds",
    Severity.ERROR,
    Scope.REPORT,
    title="报告所述预算、收入、支出或执行率与自评表不符",
    template=_TEMPLATE,
    fix="核对报告中的预算、收入、支出和执行率：应与自评表一致，改正填错的一处。",
    checks=_against_forms("tolerance.amount", "tolerance.rate"),
)
def funds(ctx: Context) -> Iterator[Candidate]:
    """The report's 年初预算, 全年预算（收入）, 全年支出（执行） or 执行率 differs from the 自评表."""
    found = _statements(ctx)
    evaluation = ctx.self_eval
    if found is None or evaluation is None:
        return
    for statement in found.of(*_FUNDS, Field.EXECUTION_RATE):
        entry: Entry | None
        if statement.field is Field.EXECUTION_RATE:
            entry, label = evaluation.funds.rate, "执行率"
        else:
            column, label = _FUNDS[statement.field]
            entry = evaluation.funds.total.get(column)
        candidate = _compare("N02", ctx, statement, entry, form=EVAL_FORM, field=label)
        if candidate is not None:
            yield candidate


# --- N03 spending lines ----------------------------------------------------------------------------

_LINES: dict[Field, tuple[LineRole, str | None]] = {
    Field.PUBLIC: (LineRole.PUBLIC, None),
    Field.THREE_PUBLIC: (LineRole.THREE_PUBLIC, None),
    Field.CAR: (LineRole.CAR, None),
    Field.CAR_PURCHASE: (LineRole.CAR_PART, "购置"),
    Field.CAR_RUNNING: (LineRole.CAR_PART, "运行"),
    Field.ABROAD: (LineRole.ABROAD, None),
    Field.RECEPTION: (LineRole.RECEPTION, None),
    Field.PROJECTS: (LineRole.PROJECTS, None),
    Field.PROJECTS_BUDGET: (LineRole.PROJECTS, None),
}


def _line(basic: BasicData, role: LineRole, word: str | None) -> Line | None:
    lines = [line for line in basic.lines_of(role) if word is None or word in line.label]
    return lines[0] if len(lines) == 1 else None


@rule(
    "N03",
    "report.spending_lines",
    Severity.ERROR,
    Scope.REPORT,
    title="报告所述基本支出、公用经费、项目支出或三公经费与表单不符",
    template=_TEMPLATE,
    fix="核对报告中的基本支出、公用经费、项目支出和三公经费：应与表单一致，改正填错的一处。",
    checks=_against_forms("tolerance.amount"),
)
def spending_lines(ctx: Context) -> Iterator[Candidate]:
    """The report's 基本支出, 公用经费, 项目支出 or 三公经费 (and its parts) differs from the forms."""
    found = _statements(ctx)
    if found is None:
        return
    basic, evaluation = ctx.basic, ctx.self_eval
    for statement in found.of(Field.BASIC, *_LINES):
        candidate: Candidate | None = None
        if statement.field is Field.BASIC:
            if evaluation is not None:
                candidate = _compare(
                    "N03", ctx, statement, evaluation.part("基本支出"), form=EVAL_FORM, field="按支出性质分 基本支出"
                )
        elif basic is not None:
            role, word = _LINES[statement.field]
            line = _line(basic, role, word)
            column = "budget" if statement.field is Field.PROJECTS_BUDGET else "final"
            if line is not None:
                field = f"{line.label} / {basic.column_label(column)}"
                candidate = _compare("N03", ctx, statement, line.amount(column), form=BASIC_FORM, field=field)
        elif statement.field is Field.PROJECTS and evaluation is not None:
            candidate = _compare(
                "N03", ctx, statement, evaluation.part("项目支出"), form=EVAL_FORM, field="按支出性质分 项目支出"
            )
        if candidate is not None:
            yield candidate


# --- N04 each project -------------------------------------------------------------------------------


@rule(
    "N04",
    "report.project",
    Severity.ERROR,
    Scope.REPORT,
    title="报告所述某个项目的预算或支出与基础数据表不符",
    template=_TEMPLATE,
    fix="核对报告中该项目的预算和支出：应与基础数据表一致，改正填错的一处。",
    checks=_against_forms("tolerance.amount"),
)
def project(ctx: Context) -> Iterator[Candidate]:
    """A named project's 预算 or 实际支出 in the report differs from its row of the 基础数据表."""
    found = _statements(ctx)
    basic = ctx.basic
    if found is None or basic is None:
        return
    by_label = {line.label: line for line in basic.lines_of(LineRole.PROJECT)}
    for statement in found.of(Field.PROJECT_BUDGET, Field.PROJECT_FINAL):
        line = by_label.get(statement.project or "")
        if line is None:
            continue
        column = "budget" if statement.field is Field.PROJECT_BUDGET else "final"
        field = f"{line.label} / {basic.column_label(column)}"
        candidate = _compare("N04", ctx, statement, line.amount(column), form=BASIC_FORM, field=field)
        if candidate is not None:
            yield candidate


# --- N05 score and grade ----------------------------------------------------------------------------


@rule(
    "N05",
    "report.score",
    Severity.ERROR,
    Scope.REPORT,
    title="报告所述自评得分或等级与自评表不符",
    template=_TEMPLATE,
    fix="核对报告中的自评得分和等级：应与自评表一致。",
    checks=_against_forms("tolerance.score"),
)
def score(ctx: Context) -> Iterator[Candidate]:
    """The report's 自评得分 or 等级 differs from the 自评表's 总分 (or the grade that total earns)."""
    found = _statements(ctx)
    evaluation = ctx.self_eval
    if found is None or evaluation is None:
        return
    total = evaluation.total_score
    for statement in found.of(Field.SCORE):
        candidate = _compare("N05", ctx, statement, total, form=EVAL_FORM, field="总分 得分")
        if candidate is not None:
            yield candidate
    for statement in found.of(Field.GRADE):
        expected, cell, field = _form_grade(ctx, evaluation)
        if expected is None or cell is None:
            continue
        yield Candidate(
            "N05",
            None,
            field,
            Op.FLAG,
            ok=statement.grade == expected,
            quantity=Quantity.TEXT,
            actual_text=statement.grade,
            expected_text=expected,
            params={
                "where": statement.place.text,
                "quote": statement.clause,
                "form": "自评表",
                "cell": cell,
                "field": field,
                "form_kind": EVAL_FORM,
            },
            related=(cell,),
            place=statement.place,
        )


def _form_grade(ctx: Context, evaluation: SelfEval) -> tuple[str | None, str | None, str]:
    """The grade the 自评表 states, else the grade its 总分 earns under the profile."""
    stated = evaluation.grade
    if stated.ref is not None and label_key(stated.text) in ("优", "良", "中", "差"):
        return label_key(stated.text), stated.cell, "等级"
    total = numbers(evaluation.total_score)
    if total is None or evaluation.total_score.ref is None:
        return None, None, ""
    return ctx.profile.grade(total[0]), evaluation.total_score.cell, f"总分 {total[0]:g} 对应的等级"


# --- N06 the report's own arithmetic ------------------------------------------------------------------

_ARITHMETIC_TEMPLATE = "报告{where}称“{quote}”，{detail}"
# A total and the parts the report lists after it (in the same paragraph) that make it up.
_DECOMPOSITIONS: tuple[tuple[Field, tuple[Field, ...]], ...] = (
    (Field.EXECUTED, (Field.BASIC, Field.PROJECTS)),
    (Field.BASIC, (Field.PERSONNEL, Field.PUBLIC)),
    (Field.THREE_PUBLIC, (Field.CAR, Field.ABROAD, Field.RECEPTION)),
    (Field.CAR, (Field.CAR_PURCHASE, Field.CAR_RUNNING)),
)


@rule(
    "N06",
    "report.arithmetic",
    Severity.ERROR,
    Scope.REPORT,
    title="报告自身的数字不能互相印证（总数与其组成部分、结转加预算与支出、执行率）",
    template=_ARITHMETIC_TEMPLATE,
    fix="核对报告中相关的几个数字：总数应等于各组成部分之和，执行率应与支出和预算相符。",
    checks=_OWN_FIGURES,
)
def arithmetic(ctx: Context) -> Iterator[Candidate]:
    """Figures of one paragraph of the report that cannot all be true together.

    Checked where the paragraph states them: a total and all its parts (支出 = 基本支出 + 项目支出,
    基本支出 = 人员经费 + 公用经费, 三公经费 = its three parts); 上年结转 + 年初预算 (+ 追加 − 调减) =
    实际支出 where it says nothing was left over (无结转结余); 执行率 = 支出 / 全年预算.
    """
    found = _statements(ctx)
    if found is None:
        return
    blocks: dict[int, list[Statement]] = {}
    for statement in found.items:
        blocks.setdefault(statement.block, []).append(statement)
    for order, items in blocks.items():
        yield from _totals(ctx, items)
        if order in found.settled_blocks:
            yield from _carryover(ctx, items)
        yield from _rate(ctx, items)


def _first_after(items: Sequence[Statement], start: int, field: Field) -> Statement | None:
    return next((s for s in items[start + 1 :] if s.field is field), None)


def _totals(ctx: Context, items: list[Statement]) -> Iterator[Candidate]:
    for total_field, part_fields in _DECOMPOSITIONS:
        for index, total in enumerate(items):
            if total.field is not total_field or total.value is None:
                continue
            parts = [_first_after(items, index, field) for field in part_fields]
            if any(p is None or p.value is None for p in parts):
                continue
            present = [p for p in parts if p is not None and p.value is not None]
            expected = sum(p.value for p in present if p.value is not None)
            listed = " + ".join(f"{p.field.label_zh} {p.text}" for p in present)
            yield _own("N06", ctx, total, [*present], expected, f"而其后所列 {listed} 合计为 {{expected}} 万元")


def _carryover(ctx: Context, items: list[Statement]) -> Iterator[Candidate]:
    subjects = {s.project for s in items}
    for subject in subjects:
        mine = [s for s in items if s.project == subject]
        project = subject is not None
        carry = _one(mine, Field.PROJECT_CARRYOVER if project else Field.CARRYOVER)
        budget = _one(mine, Field.PROJECT_BUDGET if project else Field.INITIAL_BUDGET)
        final = _one(mine, Field.PROJECT_FINAL if project else Field.EXECUTED)
        if carry is None or budget is None or final is None:
            continue
        added = _one(mine, Field.PROJECT_ADDED)
        cut = _one(mine, Field.PROJECT_CUT)
        used = [s for s in (carry, budget, added, cut) if s is not None]
        expected = sum((s.value or 0.0) * (-1 if s is cut else 1) for s in used)
        listed = " ".join(
            f"{'−' if s is cut else '+'} {s.field.label_zh.removeprefix('项目')} {s.text}" for s in used
        ).lstrip("+ ")
        detail = f"又称无结转结余，则实际支出应为 {listed} = {{expected}} 万元"
        yield _own("N06", ctx, final, used, expected, detail)


def _rate(ctx: Context, items: list[Statement]) -> Iterator[Candidate]:
    rate = _one(items, Field.EXECUTION_RATE)
    spent = _one(items, Field.EXECUTED)
    budget = _one(items, Field.ANNUAL_BUDGET)
    if rate is None or spent is None or budget is None or not budget.value or spent.value is None:
        return
    detail = f"而同段所述支出 {spent.text} ÷ 全年预算 {budget.text} = {{expected}}"
    yield _own("N06", ctx, rate, [spent, budget], spent.value / budget.value, detail, quantity=Quantity.RATE)


def _one(items: Sequence[Statement], field: Field) -> Statement | None:
    """The paragraph's statement of `field` when it makes exactly one (two would be ambiguous)."""
    matching = [s for s in items if s.field is field]
    return matching[0] if len(matching) == 1 else None


def _own(
    rule_id: str,
    ctx: Context,
    stated: Statement,
    parts: Sequence[Statement],
    expected: float,
    detail: str,
    *,
    quantity: Quantity = Quantity.AMOUNT,
) -> Candidate:
    floor = ctx.profile.rate_tolerance if quantity is Quantity.RATE else ctx.profile.amount_tolerance
    tolerance = max(floor, stated.tolerance, *(p.tolerance for p in parts))
    if quantity is Quantity.RATE:
        shown = f"{expected:.2%}"
    else:
        shown = f"{expected:.2f}"
    return Candidate(
        rule_id,
        None,
        stated.field.label_zh,
        Op.EQ,
        actual=stated.value,
        expected=expected,
        tol=tolerance,
        quantity=quantity,
        params={"where": stated.place.text, "quote": stated.clause, "detail": detail.format(expected=shown)},
        place=stated.place,
    )


# --- N00 pairing ----------------------------------------------------------------------------------------


@rule(
    "N00",
    "report.unpaired",
    Severity.WARNING,
    Scope.REPORT,
    title="报告没有可对照的表单",
    template="报告（{unit}，{year}年度）没有找到同一单位、同一年度的基础数据表或部门整体支出绩效自评表，其中的数字未能核对",
    fix="把报告与同一单位、同一年度的基础数据表和自评表一起检查（在命令中同时列出这些文件）。",
)
def unpaired(ctx: Context) -> Iterator[Candidate]:
    """No 基础数据表 or 自评表 of the report's unit and year was checked with it.

    The checker gives this finding for the whole report; this builder yields nothing.
    """
    return iter(())
