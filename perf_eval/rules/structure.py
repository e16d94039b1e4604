"""Form-structure rules (F): what must be readable before any arithmetic is checked."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from perf_eval.forms import BASIC_COLUMNS, COLUMN_LABELS, BasicData, Entry, LineRole, SelfEval
from perf_eval.model import CellRef, Severity
from perf_eval.rules.catalogue import Candidate, Context, Op, Quantity, Scope, rule
from perf_eval.values import Kind, find_year, normalize

_TOTAL_ROLES = (LineRole.THREE_PUBLIC, LineRole.CAR, LineRole.PROJECTS, LineRole.PUBLIC)
_FOOTER = ("填表人", "填报日期", "联系电话", "单位负责人")


def _flag(rule_id: str, entry: Entry, label: str, *, variant: str = "", **params: object) -> Candidate:
    return Candidate(
        rule_id,
        entry.ref,
        label,
        Op.FLAG,
        ok=False,
        quantity=Quantity.TEXT,
        variant=variant,
        params={"label": label, **params},
        actual_text=entry.text or None,
    )


@rule(
    "F01",
    "form.not_found",
    Severity.ERROR,
    Scope.WORKBOOK,
    title="工作簿中未找到可识别的表单",
    template="未找到可识别的表单（查找了：{looked_for}）",
    fix="确认文件是绩效自评表或基础数据表，表头标题没有被删改；表单所在工作表不要放在别的文件里。",
)
def no_form(ctx: Context) -> Iterator[Candidate]:
    """No known form found in the workbook; the message says what was looked for.

    The checker gives this finding for the whole workbook; this builder yields nothing.
    """
    return iter(())


def _numbers(ctx: Context) -> Iterator[tuple[Entry, str]]:
    for form in (ctx.basic, ctx.self_eval):
        if form is not None:
            yield from form.number_fields()


def _missing_sections(ctx: Context) -> Iterator[tuple[str, Entry]]:
    """Blocks a form must have; a missing one is reported once at the form's first cell."""
    basic, evaluation = ctx.basic, ctx.self_eval
    if basic is not None:
        anchor = Entry(basic.column_headers["final"].ref if basic.column_headers else None)
        if not basic.column_headers:
            yield "经费控制情况表头（上年决算数、本年预算数、本年决算数）", anchor
        if basic.staff_authorized.ref is None:
            yield "财政供养人员情况（编制数、实际在职人数、控制率）", anchor
    if evaluation is not None:
        anchor = Entry(evaluation.funds.total_label_ref)
        if not evaluation.funds.total and ctx.profile.execution_rate_weight:
            # Families that score execution as a grid row (H, I) need no funds block.
            yield "年度资金总额（年初预算数、全年预算数、全年执行数）", anchor
        if not evaluation.indicators:
            yield "绩效指标表（一级指标、二级指标、三级指标、分值、得分）", anchor
        if evaluation.total_score.ref is None:
            # Named as the family's profile names its total row (Sichuan: 合计).
            labels = ctx.profile.total_labels
            yield "总分行" if labels == ("总分",) else f"总分行（{'、'.join(labels)}）", anchor


@rule(
    "F02",
    "field.blank",
    Severity.ERROR,
    Scope.FORM,
    title="必填项为空",
    template="{label} 为空，必须填写",
    variants={
        "footer": (Severity.WARNING, "{label} 未填写"),
        "section": (None, "未找到{label}"),
        "all_scores": (None, "所有指标的得分均为空，无法复核"),
        "group": (None, "{label} 各项均未填写，无法核对资金来源/构成"),
    },
    fix="填写该项；确实没有的金额填 0，不适用的填“——”。",
)
def blank_field(ctx: Context) -> Iterator[Candidate]:
    """A required field is blank: totals, staffing, scores (error); 填表人/填报日期/联系电话/单位负责人 (warning)."""
    for section, entry in _missing_sections(ctx):
        yield _flag("F02", entry, section, variant="section")
    if ctx.basic is not None:
        yield from _blank_basic(ctx.basic)
    if ctx.self_eval is not None:
        yield from _blank_self_eval(ctx.self_eval)
    for form in (ctx.basic, ctx.self_eval):
        if form is None:
            continue
        for label in _FOOTER:
            footer = form.footer.get(label)
            if footer is not None and not normalize(footer.text):
                yield _flag("F02", footer, label, variant="footer")


def _blank_basic(form: BasicData) -> Iterator[Candidate]:
    for entry, label in (
        (form.staff_authorized, "编制数"),
        (form.staff_actual, "实际在职人数"),
        (form.control_rate, "控制率"),
    ):
        if entry.ref and entry.blank:
            yield _flag("F02", entry, label)
    for line in form.lines_of(*_TOTAL_ROLES):
        for column in BASIC_COLUMNS:
            entry = line.amount(column)
            if entry.ref and entry.blank:
                yield _flag("F02", entry, f"{line.quoted} / {form.column_label(column)}")


def _blank_self_eval(form: SelfEval) -> Iterator[Candidate]:
    funds = form.funds
    for column, entry in funds.total.items():
        if entry.ref and entry.blank:
            yield _flag("F02", entry, f"年度资金总额 / {COLUMN_LABELS[column]}")
    for entry, label in (
        (funds.max_score, "执行率分值"),
        (funds.rate, "执行率"),
        (funds.score, "执行率得分"),
        (form.total_max, "总分 / 分值"),
        (form.total_score, "总分 / 得分"),
    ):
        if entry.ref and entry.blank:
            yield _flag("F02", entry, label)
    for group in funds.groups:
        entries = [e for part in group.parts for e in part.amounts.values()]
        if entries and all(e.number.kind in (Kind.BLANK, Kind.NOT_APPLICABLE) for e in entries):
            yield _flag("F02", Entry(group.ref), group.name, variant="group")
    scores = [i.score for i in form.indicators]
    if scores and all(s.blank for s in scores):
        yield _flag("F02", scores[0], "得分", variant="all_scores")
    else:
        for indicator in form.indicators:
            for entry, column in ((indicator.max_score, "分值"), (indicator.score, "得分")):
                if entry.ref and entry.blank:
                    yield _flag("F02", entry, f"{indicator.label} / {column}")
    if form.unit_ref is not None and not form.info.unit:
        yield _flag("F02", Entry(form.unit_ref), "单位名称")


@rule(
    "F03",
    "field.not_a_number",
    Severity.ERROR,
    Scope.FORM,
    title="数值栏填写了非数值内容",
    template="{label} 应为数值，填写的是“{text}”",
    fix="只填数字（如 72.00），单位写在表头，不要写“约”“左右”等文字。",
)
def not_a_number(ctx: Context) -> Iterator[Candidate]:
    """A number field holds text that is not a number ("约50", "7.50.")."""
    for entry, label in _numbers(ctx):
        if entry.number.kind is Kind.INVALID:
            yield _flag("F03", entry, label, text=entry.text)


@rule(
    "F04",
    "field.uncached_formula",
    Severity.ERROR,
    Scope.FORM,
    title="公式没有计算结果，无法核验",
    template="{label} 是公式但没有保存计算结果，无法核验；请在 Excel/WPS 中打开并保存后再提交",
    fix="在 Excel 或 WPS 中打开文件，保存后再提交。",
)
def uncached_formula(ctx: Context) -> Iterator[Candidate]:
    """A formula cell without a cached value: it cannot be verified, and is not read as blank."""
    texts = ctx.self_eval.text_fields() if ctx.self_eval is not None else iter(())
    for entry, label in (*_numbers(ctx), *texts):
        if entry.number.kind is Kind.UNCACHED:
            yield _flag("F04", entry, label)


def _mismatch(
    ref: CellRef | None, label: str, expected: object, actual: object, *, variant: str = "", **params: object
) -> Candidate:
    """An F05 finding: `actual` at `ref` disagrees with `expected` from the title or the other form."""
    return Candidate(
        "F05", ref, label, Op.FLAG, ok=False, quantity=Quantity.TEXT, variant=variant,
        params={"label": label, **params}, expected_text=str(expected), actual_text=str(actual),
    )  # fmt: skip


def _year_candidates(ctx: Context) -> Iterator[Candidate]:
    for form in (ctx.basic, ctx.self_eval):
        if form is None or form.info.year is None:
            continue
        for year, ref in form.year_refs:
            if year != form.info.year:
                yield _mismatch(ref, "年度", form.info.year, year, variant="year", other=form.info.year)
    if ctx.basic is not None and ctx.basic.column_headers:
        prior = ctx.basic.column_headers["prior_final"]
        prior_year, final_year = find_year(prior.text), find_year(ctx.basic.column_headers["final"].text)
        if prior_year and final_year and prior_year != final_year - 1:
            yield _mismatch(
                prior.ref, "上年决算数表头", final_year - 1, prior_year, variant="year", other=final_year - 1
            )


@rule(
    "F05",
    "form.identity_mismatch",
    Severity.ERROR,
    (Scope.FORM, Scope.PAIR),
    title="表间或表头的单位名称、年度不一致",
    template="单位名称“{actual}”与{other_form}的“{expected}”不一致",
    variants={
        "year": (None, "{label}为 {actual} 年，与本表年度 {other} 年不一致"),
        "cross_year": (None, "年度 {actual} 与{other_form}的 {expected} 年不一致"),
    },
    fix="核对单位名称和年度：同一单位同一年度的各表应一致，表头年度应与标题一致。",
)
def identity_mismatch(ctx: Context) -> Iterator[Candidate]:
    """Unit name or year disagrees between the forms of one unit, or between a form's title and its headers."""
    basic, self_eval = ctx.basic, ctx.self_eval
    if basic is None or self_eval is None:
        yield from _year_candidates(ctx)
        return
    if basic.info.unit and self_eval.info.unit and normalize(basic.info.unit) != normalize(self_eval.info.unit):
        finding = _mismatch(
            self_eval.unit_ref, "单位名称", basic.info.unit, self_eval.info.unit, other_form="基础数据表"
        )
        # Either form may hold the wrong name: no 应为.
        yield replace(finding, related=(str(basic.unit_ref),) if basic.unit_ref else (), answer=False)
    if basic.info.year and self_eval.info.year and basic.info.year != self_eval.info.year:
        ref = self_eval.year_refs[0][1] if self_eval.year_refs else self_eval.unit_ref
        mismatch = _mismatch(
            ref, "年度", basic.info.year, self_eval.info.year, variant="cross_year", other_form="基础数据表"
        )
        yield replace(mismatch, answer=False)


@rule(
    "F06",
    "form.placeholder_rows",
    Severity.WARNING,
    Scope.SELF_EVAL,
    title="模板占位行未删除",
    template="模板占位行“{text}”未删除（没有指标值和分值）",
    variants={"scored": (None, "三级指标仍是模板占位“{text}”，没有指标值和完成值，却有得分：得分无从核对")},
    fix="删除没有内容的模板行，或填写实际的指标。",
)
def placeholder_rows(ctx: Context) -> Iterator[Candidate]:
    """Template placeholder rows left in ("指标1", "指标2", "……" with no values), or a placeholder name scored.

    A row whose 三级指标 is still "指标1" with no 指标值 or 完成值 but a score is reported too: the score
    rests on nothing.
    """
    if ctx.self_eval is None:
        return
    for entry in ctx.self_eval.placeholders:
        yield _flag("F06", entry, entry.text or "……", text=entry.text or "……")
    for entry in ctx.self_eval.scored_placeholders:
        yield _flag("F06", entry, entry.text, variant="scored", text=entry.text)
