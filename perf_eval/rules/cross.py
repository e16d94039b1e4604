"""Cross-form rules (X): the 自评表 against the 基础数据表 of the same unit and year."""

from __future__ import annotations

from collections.abc import Iterator

from perf_eval.forms import LineRole
from perf_eval.model import Severity
from perf_eval.rules.catalogue import Candidate, Comparison, Context, Op, Scope, cells, gap, numbers, rule
from perf_eval.values import parse_number


@rule(
    "X00",
    "cross.not_run",
    Severity.INFO,
    Scope.WORKBOOK,
    title="未找到对应的表单，表间核对未进行",
    template="未找到对应的{other}，表间核对（X01、X02）未进行",
    fix="把同一单位同一年度的基础数据表和部门整体支出绩效自评表一起检查（同一工作簿，或在命令中同时列出两个文件）。",
)
def not_paired(ctx: Context) -> Iterator[Candidate]:
    """A 基础数据表 or 部门整体支出绩效自评表 checked without the other form of its unit and year (given by the checker)."""
    return iter(())


@rule(
    "X01",
    "cross.project_spending",
    Severity.ERROR,
    Scope.PAIR,
    title="自评表项目支出与基础数据表本年决算项目支出不符",
    template="自评表的项目支出 {actual} 与基础数据表本年决算数的项目支出 {expected} 相差 {diff}（{related}）",
    fix="两表的项目支出应为同一个数：对照决算核对两处，改正填错的一处。",
    checks=Comparison("pair", "自评表项目支出", Op.EQ, "基础数据表项目支出决算数", reads=("tolerance.amount",)),
)
def project_spending(ctx: Context) -> Iterator[Candidate]:
    """自评表 项目支出 (按支出性质分) ≠ 基础数据表 本年决算数 项目支出."""
    basic, self_eval = ctx.basic, ctx.self_eval
    if basic is None or self_eval is None:
        return
    part = self_eval.part("项目支出")
    line = basic.line(LineRole.PROJECTS)
    if part is None or line is None:
        return
    values = numbers(part, line.amount("final"))
    if values is None:
        return
    related = tuple(cells((line.amount("final"),)))
    yield Candidate(
        "X01",
        part.ref,
        "项目支出",
        Op.EQ,
        actual=values[0],
        expected=values[1],
        tol=ctx.profile.amount_tolerance,
        related=related,
        params={"related": "、".join(related), "diff": gap(values[0], values[1])},
        answer=False,
    )


@rule(
    "X02",
    "cross.project_budget",
    Severity.ERROR,
    Scope.PAIR,
    title="成本指标年初预算项目支出金额与基础数据表本年预算项目支出不符",
    template="成本指标“{label}”的指标值 {actual} 与基础数据表本年预算数的项目支出 {expected} 相差 {diff}（{related}）",
    fix="年初预算项目支出金额应与基础数据表的本年预算数一致：对照预算批复核对两处，改正填错的一处。",
    checks=Comparison("pair", "成本指标年初预算", Op.EQ, "基础数据表项目支出预算数", reads=("tolerance.amount",)),
)
def project_budget(ctx: Context) -> Iterator[Candidate]:
    """成本指标 "年初预算项目支出金额" ≠ 基础数据表 本年预算数 项目支出."""
    basic, self_eval = ctx.basic, ctx.self_eval
    if basic is None or self_eval is None:
        return
    line = basic.line(LineRole.PROJECTS)
    if line is None:
        return
    budget = numbers(line.amount("budget"))
    if budget is None:
        return
    related = tuple(cells((line.amount("budget"),)))
    for indicator in self_eval.indicators:
        if "预算项目支出" not in (indicator.level3.text or indicator.level2 or indicator.level1):
            continue
        # The 年度指标值 is the year-start budget; a filer who left it as text may still give the actual.
        actual = parse_number(indicator.actual.text)
        target = indicator.parsed_target.value
        entry, value = (indicator.target, target) if target is not None else (indicator.actual, actual.value)
        if value is None:
            continue
        yield Candidate(
            "X02",
            entry.ref,
            indicator.label,
            Op.EQ,
            actual=value,
            expected=budget[0],
            tol=ctx.profile.amount_tolerance,
            related=related,
            params={"related": "、".join(related), "diff": gap(value, budget[0])},
            answer=False,
        )
