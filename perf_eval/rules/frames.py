"""The forms as tidy frames, validated by one pandera schema per frame whose checks are the rules.

An arithmetic rule declares what it compares (`catalogue.Comparison`): two columns of one frame
and how they must relate. Its builder finds the values on the form and yields one `Candidate`
per comparison; the candidates of a form become the rows of its frames (`staff`, `line_sums`,
`budget_lines` … below): the candidate's stated value in the comparison's left column, the value
it must agree with in its right column, the tolerance in 容差. The candidates themselves are the
frame's cell map: row i of a frame is candidate i of its cell map, with its cell and the cells it
was computed from.

Each frame is validated by one `pandera.DataFrameSchema` built from the profile: a column per
quantity and one registered check per rule comparison (`agrees_with`, `not_above`, `not_below`,
`from_zero_to`), named by the rule ID and carrying the columns it compares and the profile's
tolerance as its statistics. `failing_rows` runs the schema's checks (pandera `Check` objects)
on the frame and maps the rows they reject back to cells; with `full=True` (the tests) it
validates the whole schema, column types included, and maps pandera's `SchemaErrors` instead.
Judgement rules (structure, blank reasons, targets met or missed,
placeholders) are not arithmetic: their candidates carry their own verdict and never reach pandera.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.api.extensions import register_check_method
from pandera.config import ValidationDepth, config_context

from perf_eval.profiles import Profile
from perf_eval.rules.catalogue import Candidate, Comparison, Op, Rule, all_rules, runs

# The columns every frame has besides its quantities.
RULE = "规则"
CHECK = "核对"
ITEM = "项目"
TOLERANCE = "容差"
_EPSILON = 1e-9


@dataclass(frozen=True)
class Frame:
    name: str
    title: str
    form: str  # the form the frame describes: 基础数据表, 自评表, 表间 (both), 报告
    doc: str


FRAMES: dict[str, Frame] = {
    f.name: f
    for f in (
        Frame("staff", "人员编制", "基础数据表", "编制数、实际在职人数和控制率"),
        Frame("line_sums", "合计与其组成", "基础数据表", "每个合计行的每一栏：填写的合计与其下各行之和"),
        Frame("budget_lines", "预算与决算", "基础数据表", "每一行的本年预算数与本年决算数"),
        Frame("buildings", "楼堂馆所", "基础数据表", "规模和投资概算的控制率与实际、批复数"),
        Frame("amounts", "金额与人数", "基础数据表", "表中每个金额、人数和面积"),
        Frame("funds", "资金与执行率", "自评表", "年度资金总额、构成、执行率和执行率得分"),
        Frame("weights", "分值", "自评表", "一级指标和全部指标的分值，与配置规定的权重"),
        Frame("scores", "得分", "自评表", "每个指标的得分、折算和总分"),
        Frame("pair", "表间", "基础数据表与自评表", "自评表与同一单位、年度的基础数据表所填的同一个数"),
        Frame("report", "报告与表单", "绩效自评报告", "报告所述的每个数字与表单所填、与报告自身的其他数字"),
    )
}

_SYMBOL = {Op.EQ: "=", Op.LE: "≤", Op.GE: "≥", Op.WITHIN: "∈ [0,"}


# --- the registered checks: one per way two quantities relate ------------------------------------


def _pair(frame: pd.DataFrame, check: str, left: str, right: str, tolerance: float) -> tuple[Any, ...]:
    mine = frame[CHECK].to_numpy() == check
    tol = np.maximum(frame[TOLERANCE].to_numpy(dtype="float64"), tolerance) + _EPSILON
    return mine, frame[left].to_numpy(dtype="float64"), frame[right].to_numpy(dtype="float64"), tol


def _result(frame: pd.DataFrame, mine: Any, holds: Any) -> pd.Series | bool:
    """True when every row holds (pandera's cheapest answer), else the rows, for its failure cases."""
    passed = ~mine | holds
    return True if passed.all() else pd.Series(passed, index=frame.index)


def _agrees_with(frame: pd.DataFrame, *, check: str, left: str, right: str, tolerance: float) -> pd.Series | bool:
    mine, a, b, tol = _pair(frame, check, left, right, tolerance)
    with np.errstate(invalid="ignore"):
        return _result(frame, mine, np.abs(a - b) <= tol)


def _not_above(frame: pd.DataFrame, *, check: str, left: str, right: str, tolerance: float) -> pd.Series | bool:
    mine, a, b, tol = _pair(frame, check, left, right, tolerance)
    with np.errstate(invalid="ignore"):
        return _result(frame, mine, a <= b + tol)


def _not_below(frame: pd.DataFrame, *, check: str, left: str, right: str, tolerance: float) -> pd.Series | bool:
    mine, a, b, tol = _pair(frame, check, left, right, tolerance)
    with np.errstate(invalid="ignore"):
        return _result(frame, mine, a >= b - tol)


def _from_zero_to(frame: pd.DataFrame, *, check: str, left: str, right: str, tolerance: float) -> pd.Series | bool:
    mine, a, b, tol = _pair(frame, check, left, right, tolerance)
    with np.errstate(invalid="ignore"):
        return _result(frame, mine, (a >= -tol) & (a <= b + tol))


_STATISTICS = ["check", "left", "right", "tolerance"]
# pandera names a registered check after its function: these are the names schemas and errors show.
_CHECKS = {
    Op.EQ: ("agrees_with", _agrees_with),
    Op.LE: ("not_above", _not_above),
    Op.GE: ("not_below", _not_below),
    Op.WITHIN: ("from_zero_to", _from_zero_to),
}
for _name, _function in _CHECKS.values():
    if not hasattr(pa.Check, _name):
        _function.__name__ = _name
        register_check_method(_function, statistics=_STATISTICS, supported_types=pd.DataFrame)


def tolerance_floor(comparison: Comparison, profile: Profile) -> float:
    """The profile's tolerance for a comparison: the one tolerance it reads, 0 when it reads none or several.

    Each row's 容差 is at least this (it may be wider: a rate or score compared at the precision shown).
    """
    tolerances = {
        "tolerance.amount": profile.amount_tolerance,
        "tolerance.score": profile.score_tolerance,
        "tolerance.rate": profile.rate_tolerance,
    }
    read = [tolerances[key] for key in comparison.reads if key in tolerances]
    return read[0] if len(read) == 1 else 0.0


def _check(rule: Rule, comparison: Comparison, tolerance: float) -> pa.Check:
    """The rule's check on its frame, named by the rule ID and carrying what it compares."""
    name, _ = _CHECKS[comparison.op]
    method = getattr(pa.Check, name)
    check: pa.Check = method(
        check=comparison.key(rule.id),
        left=comparison.left,
        right=comparison.right,
        tolerance=tolerance,
        title=rule.id,
        description=rule.title,
        # A missing value fails the comparison (the builders yield none; a NaN would be a bug to see).
        ignore_na=False,
    )
    return check


# --- frames and their schemas ----------------------------------------------------------------------


def comparisons(frame: str) -> list[tuple[Rule, Comparison]]:
    return [(r, c) for r in all_rules() for c in r.checks if c.frame == frame]


def quantities(frame: str) -> list[str]:
    """A frame's quantity columns, in the order its rules declare them."""
    names: dict[str, None] = {}
    for _, comparison in comparisons(frame):
        names.setdefault(comparison.left)
        names.setdefault(comparison.right)
    return list(names)


def frame_schema(
    frame: str, profile: Profile, keys: Iterable[str] | None = None, *, columns: bool = True
) -> pa.DataFrameSchema:
    """The schema of one frame under a profile: its columns and the checks of the rules the profile runs.

    `keys` narrows the checks to those named (the engine passes the checks that have rows). The
    engine builds the frames itself (`build`), with the declared columns and types: it validates
    with the checks alone (`columns=False`, a third cheaper); the tests validate the columns too.
    """
    chosen = [
        (c.key(r.id), tolerance_floor(c, profile))
        for r, c in comparisons(frame)
        if runs(r, profile) and (keys is None or c.key(r.id) in keys)
    ]
    return _schema(frame, tuple(chosen), columns)


@cache
def _schema(frame: str, chosen: tuple[tuple[str, float], ...], with_columns: bool) -> pa.DataFrameSchema:
    floors = dict(chosen)
    checks = [_check(r, c, floors[c.key(r.id)]) for r, c in comparisons(frame) if c.key(r.id) in floors]
    spec = FRAMES[frame]
    if not with_columns:
        # The engine calls these checks directly, not through `validate`, which is what registers
        # pandera's pandas backends (pandera 0.24 does not on a check's own call): register them here.
        schema = pa.DataFrameSchema(checks=checks, name=frame, title=spec.title)
        schema.register_default_backends(pd.DataFrame)
        return schema
    columns: dict[str, pa.Column] = {
        RULE: pa.Column(str, title="规则编号"),
        CHECK: pa.Column(str, title="核对（规则编号.情形）"),
        ITEM: pa.Column(str, title="表中的行或栏"),
    }
    for name in quantities(frame):
        columns[name] = pa.Column(float, nullable=True, title=name)
    columns[TOLERANCE] = pa.Column(float, title="本行允许的差")
    return pa.DataFrameSchema(
        columns, checks=checks, strict=True, ordered=False, name=frame, title=spec.title, description=spec.doc
    )


@dataclass
class Rows:
    """One frame's rows and, beside them, its cell map: the candidate (cell, related cells) of each row."""

    frame: str
    data: pd.DataFrame
    cells: list[int]  # positions in the candidate list, one per row


def build(candidates: Sequence[Candidate], rules: dict[str, Rule]) -> list[Rows]:
    """The frames of a batch of arithmetic candidates (FLAG candidates have no place in them)."""
    grouped: dict[str, list[tuple[int, Candidate, Comparison]]] = {}
    for position, candidate in enumerate(candidates):
        rule = rules[candidate.rule]
        comparison = rule.comparison(candidate.variant)
        if comparison is None or comparison.op is not candidate.op:
            raise ValueError(
                f"{candidate.rule}: a {candidate.op.value} candidate (variant {candidate.variant!r}) "
                "that none of the rule's declared checks compares"
            )
        grouped.setdefault(comparison.frame, []).append((position, candidate, comparison))
    out = []
    for frame, rows in grouped.items():
        names = quantities(frame)
        values = {name: np.full(len(rows), np.nan) for name in names}
        for i, (_, candidate, comparison) in enumerate(rows):
            values[comparison.left][i] = np.nan if candidate.actual is None else candidate.actual
            values[comparison.right][i] = np.nan if candidate.expected is None else candidate.expected
        data = pd.DataFrame(
            {
                RULE: [c.rule for _, c, _ in rows],
                CHECK: [k.key(c.rule) for _, c, k in rows],
                ITEM: [c.label for _, c, _ in rows],
                **values,
                TOLERANCE: np.array([float(c.tol) for _, c, _ in rows], dtype="float64"),
            }
        )
        out.append(Rows(frame, data, [p for p, _, _ in rows]))
    return out


def failing_rows(rows: Rows, profile: Profile, *, full: bool = False) -> list[int]:
    """The candidate positions of the rows the frame's schema rejects.

    The engine builds the frames with their declared columns and dtypes, so by default only the
    schema's checks run: each is pandera's `Check` object, called on the frame, which runs the
    registered function through pandera's check backend and says which rows hold. `full=True`
    validates the whole schema, columns and types included, and maps pandera's `SchemaErrors` back
    to the rows (the tests do both and compare). The default skips what `validate` adds when rows
    fail (reshaping every failure case and collecting them into a report), which cost the seed
    about four fifths of its validation.
    """
    keys = set(rows.data[CHECK])
    schema = frame_schema(rows.frame, profile, keys, columns=full)
    if not full:
        rejected = np.zeros(len(rows.data), dtype=bool)
        for check in schema.checks:
            result = check(rows.data)
            if not result.check_passed:
                rejected |= ~np.asarray(result.check_output, dtype=bool)
        return sorted(rows.cells[i] for i in np.flatnonzero(rejected))
    try:
        with config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA):
            schema.validate(rows.data, lazy=True, inplace=True)
    except pa.errors.SchemaErrors as errors:
        failed: set[int] = set()
        for error in errors.schema_errors:
            statistics = getattr(error.check, "statistics", None) or {}
            if "check" not in statistics or error.failure_cases is None:
                raise RuntimeError(f"frame {rows.frame} does not match its schema: {error}") from None
            failed.update(int(i) for i in error.failure_cases["index"].dropna())
        return sorted(rows.cells[i] for i in failed)
    return []


# --- what `perf-eval schemas` shows ------------------------------------------------------------------

_RELATION_ZH = {Op.EQ: "等于", Op.LE: "不大于", Op.GE: "不小于", Op.WITHIN: "在 0 与其间"}


@dataclass(frozen=True)
class CheckView:
    rule: str
    name: str  # the pandera check's name (agrees_with …)
    key: str  # the rule ID, with its case
    relation: str  # "控制率 = 在职人数÷编制数"
    within: str  # how each row's tolerance is set, in words, when not simply the floor
    tolerance: float
    reads: tuple[str, ...]
    severity: str
    title: str


@dataclass(frozen=True)
class FrameView:
    frame: Frame
    columns: tuple[tuple[str, str, str], ...]  # name, type in words, what it holds or which checks read it
    checks: tuple[CheckView, ...]


def relation(comparison: Comparison) -> str:
    if comparison.op is Op.WITHIN:
        return f"0 ≤ {comparison.left} ≤ {comparison.right}"
    return f"{comparison.left} {_SYMBOL[comparison.op]} {comparison.right}"


def describe(profile: Profile) -> list[FrameView]:
    """Each frame's pandera schema under a profile, read back from the schema itself."""
    views = []
    declared = {c.key(r.id): (r, c) for name in FRAMES for r, c in comparisons(name)}
    for name, spec in FRAMES.items():
        schema = frame_schema(name, profile)
        readers: dict[str, list[str]] = {}
        for rule, comparison in comparisons(name):
            if not runs(rule, profile):
                continue
            for column in (comparison.left, comparison.right):
                readers.setdefault(column, []).append(comparison.key(rule.id))
        columns = tuple(
            (
                column,
                "数值（可空）" if field.nullable else ("数值" if "float" in str(field.dtype) else "文本"),
                "、".join(dict.fromkeys(readers[column])) if column in readers else _idle(column, field.title),
            )
            for column, field in schema.columns.items()
        )
        checks = []
        for check in schema.checks:
            statistics = check.statistics
            rule, comparison = declared[statistics["check"]]
            key = comparison.key(rule.id)
            severity = profile.severity.get(key, profile.severity.get(rule.id))
            if severity is None:
                severity = rule.message_for(comparison.variants[0])[0]
            checks.append(
                CheckView(
                    rule.id,
                    str(check.name),
                    key,
                    relation(comparison),
                    comparison.within.format(**vars(profile)),
                    float(statistics["tolerance"]),
                    comparison.reads,
                    severity.label_zh,
                    rule.title,
                )
            )
        views.append(FrameView(spec, columns, tuple(checks)))
    return views


def _idle(column: str, title: str | None) -> str:
    """A column no check of this profile reads (its rules are off) is described, not attributed."""
    return "本配置没有检查读取此列" if column not in (RULE, CHECK, ITEM, TOLERANCE) else (title or "")


def judgement_rules(profile: Profile) -> list[Rule]:
    """The rules the profile runs that judge in Python: structure, reasons, targets, placeholders."""
    return [r for r in all_rules() if not r.checks and runs(r, profile)]
