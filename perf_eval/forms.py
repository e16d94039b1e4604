"""The forms as read: frozen values, each with the cell it came from.

Glossary (docs/domain.md §2): `prior_final` 上年决算数, `budget` 本年预算数,
`final` 本年决算数; `initial_budget` 年初预算数, `annual_budget` 全年预算数,
`executed` 全年执行数; `max_score` 分值, `score` 得分.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from perf_eval.model import CellRef, FormInfo
from perf_eval.values import BLANK, Kind, Number, Target


@dataclass(frozen=True)
class Entry:
    """One read cell: its normalized text and its parsed number."""

    ref: CellRef | None
    text: str = ""
    number: Number = BLANK
    # The cell's text as written (whitespace collapsed, not normalized): what messages quote.
    shown: str = ""

    @property
    def ok(self) -> bool:
        return self.number.ok

    @property
    def value(self) -> float | None:
        return self.number.value

    @property
    def blank(self) -> bool:
        return self.number.kind is Kind.BLANK

    @property
    def cell(self) -> str:
        return str(self.ref) if self.ref else ""


MISSING = Entry(None)

BASIC_COLUMNS = ("prior_final", "budget", "final")
FUNDS_COLUMNS = ("initial_budget", "annual_budget", "executed")
# 元 in one 万元: amounts are kept in 万元, a form written in 元 is converted on reading.
YUAN_PER_WAN = 10_000.0
# Key of a part written as "label：amount" in one cell, not one amount per column.
SINGLE = ""
COLUMN_LABELS = {
    "prior_final": "上年决算数",
    "budget": "本年预算数",
    "final": "本年决算数",
    "initial_budget": "年初预算数",
    "annual_budget": "全年预算数",
    "executed": "全年执行数",
}


BUILDING_LABELS = {
    "approved_scale": "批复规模",
    "actual_scale": "实际规模",
    "scale_rate": "规模控制率",
    "budget_investment": "预算投资",
    "actual_investment": "实际投资",
    "investment_rate": "投资概算控制率",
}


class LineRole(StrEnum):
    THREE_PUBLIC = "three_public"  # 三公经费
    CAR = "car"  # 1、公务用车购置和维护经费
    CAR_PART = "car_part"  # 其中：公车购置 / 公车运行维护
    ABROAD = "abroad"  # 2、出国经费
    RECEPTION = "reception"  # 3、公务接待
    PROJECTS = "projects"  # 项目支出
    PROJECT = "project"  # one listed project
    PUBLIC = "public"  # 公用经费
    PUBLIC_PART = "public_part"  # 其中：办公经费 …
    PROCUREMENT = "procurement"  # 政府采购金额
    ADJUSTMENT = "adjustment"  # 部门基本支出预算调整
    OTHER = "other"


@dataclass(frozen=True)
class Line:
    """A row of the 经费控制情况 block; `amounts` keyed by BASIC_COLUMNS."""

    role: LineRole
    label: str
    label_ref: CellRef
    amounts: dict[str, Entry]
    # The label as written in the form (whitespace collapsed), for messages.
    shown: str = ""

    @property
    def quoted(self) -> str:
        """The label as written, without the trailing colon some forms put after it."""
        return self.shown.rstrip(":： ") or self.label

    def amount(self, column: str) -> Entry:
        return self.amounts.get(column, MISSING)


@dataclass(frozen=True)
class BasicData:
    info: FormInfo
    column_headers: dict[str, Entry]
    staff_authorized: Entry = MISSING
    staff_actual: Entry = MISSING
    control_rate: Entry = MISSING
    lines: tuple[Line, ...] = ()
    buildings: dict[str, Entry] = field(default_factory=dict)
    footer: dict[str, Entry] = field(default_factory=dict)
    unit_ref: CellRef | None = None
    year_refs: tuple[tuple[int, CellRef], ...] = ()
    # The unit the 经费控制情况 amounts were written in ("元" when the title or its header says so): the
    # values were converted to 万元 on reading, the cells' text is kept as written.
    unit: str = "万元"

    def column_label(self, column: str) -> str:
        """The column's own header ("2022年决算数"), or its generic name."""
        header = self.column_headers.get(column)
        return header.text if header is not None and header.text else COLUMN_LABELS[column]

    def number_fields(self) -> Iterator[tuple[Entry, str]]:
        """Every number field of the form with its label."""
        yield self.staff_authorized, "编制数"
        yield self.staff_actual, "实际在职人数"
        yield self.control_rate, "控制率"
        for line in self.lines:
            for column in BASIC_COLUMNS:
                yield line.amount(column), f"{line.label} / {self.column_label(column)}"
        for name, entry in self.buildings.items():
            yield entry, BUILDING_LABELS[name]

    def lines_of(self, *roles: LineRole) -> list[Line]:
        return [line for line in self.lines if line.role in roles]

    def line(self, role: LineRole) -> Line | None:
        return next((line for line in self.lines if line.role is role), None)


@dataclass(frozen=True)
class FundsPart:
    """A part of 年度资金总额: one amount per FUNDS_COLUMNS key, or a single one under `SINGLE`."""

    label: str
    amounts: dict[str, Entry]


@dataclass(frozen=True)
class PartGroup:
    """按收入性质分 / 按支出性质分 / 其中 rows: parts that must add up to the total.

    A group with `of` set is a nested breakdown ("当年财政拨款" then "其中：中央资金 / 省级资金"): parts of
    that line, not of the total; they must not exceed it (S18) and are not counted in the total's parts.
    """

    name: str
    ref: CellRef
    parts: tuple[FundsPart, ...]
    per_column: bool
    of: FundsPart | None = None


@dataclass(frozen=True)
class Funds:
    """The funds block; amounts in 万元 whatever the form wrote them in (`unit` says which it was)."""

    total_label_ref: CellRef | None
    total: dict[str, Entry]
    max_score: Entry = MISSING
    rate: Entry = MISSING
    score: Entry = MISSING
    groups: tuple[PartGroup, ...] = ()
    # The unit the form wrote its amounts in ("元" when its title or header says so): the values were
    # converted to 万元 on reading, the cells' text is kept as written.
    unit: str = "万元"
    # The total's label and the amount columns' headers as written (Sichuan: 总额 / 预算执行数), for
    # messages a clerk can find with Ctrl+F.
    total_label: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def total_shown(self) -> str:
        return self.total_label or "年度资金总额"

    def column_label(self, column: str) -> str:
        """The column's own header ("预算执行数"), or its generic name."""
        return self.headers.get(column) or COLUMN_LABELS[column]


@dataclass(frozen=True)
class Indicator:
    level1: str
    level1_ref: CellRef | None
    level2: str
    level3: Entry
    target: Entry
    parsed_target: Target
    actual: Entry
    max_score: Entry
    score: Entry
    reason: Entry
    # Chongqing (F): 得分系数, 指标得分 = 指标权重 × 得分系数. Budget-system export (J): 单项指标得分 and
    # 权重占比, `score` being the 折算得分 on the 指标分值 scale.
    coefficient: Entry = MISSING
    item_score: Entry = MISSING
    share: Entry = MISSING
    # The numbered section heading with a weight ("二、整体绩效目标实现情况（60分）") the row stands under (G).
    section_ref: CellRef | None = None
    # J: 单项指标完成情况 ("完成", "未完成", "部分完成"), the unit's own word on the row.
    status: Entry = MISSING
    # A 得分 merged over this row and the next ones, each with its own 分值: the rows scored together, as
    # read (each with its own weight). `max_score` is then their weights' sum; the other rows carry none.
    group: tuple[Indicator, ...] = ()

    @property
    def key(self) -> str:
        """The indicator's field name (normalized, shortened): how number_fields and case files address it."""
        text = self.level3.text or self.level2 or self.level1
        return text if len(text) <= 24 else text[:22] + "…"

    @property
    def label(self) -> str:
        """The 三级指标 name as written, shortened when a cell holds several numbered sub-indicators."""
        text = self.level3.shown or self.level3.text or self.level2 or self.level1
        return text if len(text) <= 24 else text[:22] + "…"


@dataclass(frozen=True)
class Category:
    """An 一级指标 with its declared weight ("产出指标(40分)")."""

    name: str
    ref: CellRef | None
    declared: float | None


@dataclass(frozen=True)
class Band:
    """One line of a form's own 得分系数 table (Chongqing): a completion rate of at least `lower` (above it
    when not `inclusive`; None: any rate below the other lines) scores `coefficient` of the weight."""

    lower: float | None
    inclusive: bool
    coefficient: float


def band_coefficient(bands: tuple[Band, ...], achieved: float) -> float | None:
    """The coefficient of the highest line whose lower bound the completion rate reaches."""
    for band in sorted(bands, key=lambda b: -1e9 if b.lower is None else b.lower, reverse=True):
        if band.lower is None:
            return band.coefficient
        if achieved >= band.lower - 1e-9 if band.inclusive else achieved > band.lower + 1e-9:
            return band.coefficient
    return None


@dataclass(frozen=True)
class SelfEval:
    info: FormInfo
    funds: Funds
    categories: tuple[Category, ...] = ()
    indicators: tuple[Indicator, ...] = ()
    total_max: Entry = MISSING
    total_score: Entry = MISSING
    grade: Entry = MISSING
    footer: dict[str, Entry] = field(default_factory=dict)
    unit_ref: CellRef | None = None
    year_refs: tuple[tuple[int, CellRef], ...] = ()
    # 三级指标 cells of template rows left in ("指标1", "……") with no values (F06).
    placeholders: tuple[Entry, ...] = ()
    # 三级指标 cells still holding a template placeholder ("指标1") on a row that carries a weight or a score.
    scored_placeholders: tuple[Entry, ...] = ()
    # Numbered section headings that declare a weight ("一、当年预算执行情况（20分）"), and the one the funds
    # block stands under (its 分值 counts towards that section).
    sections: tuple[Category, ...] = ()
    funds_section_ref: CellRef | None = None
    # "其中" rows under an indicator (其中桃树种植面积 under 补助各类瓜果蔬菜种植面积): a breakdown of that indicator,
    # not indicators (no weight of their own, or their parent's repeated). (parent's 三级指标 cell, its rows).
    breakdowns: tuple[tuple[CellRef, tuple[Indicator, ...]], ...] = ()
    # D: a parent row's 得分 ("一、…") whose child rows' ("1、…") 得分 do not add up to it, with theirs.
    parent_scores: tuple[tuple[Entry, tuple[Entry, ...]], ...] = ()
    # The form's own 得分系数 table by completion rate (Chongqing), and where it stands; () when it states none.
    bands: tuple[Band, ...] = ()
    bands_ref: CellRef | None = None
    # The reason column's header as the form writes it (偏差原因分析及改进措施, 未完成原因分析 …), for messages.
    reason_label: str = "偏差原因分析及改进措施"

    def number_fields(self) -> Iterator[tuple[Entry, str]]:
        """Every number field of the form with its label."""
        funds = self.funds
        for column, entry in funds.total.items():
            yield entry, f"年度资金总额 / {COLUMN_LABELS[column]}"
        yield funds.max_score, "执行率分值"
        yield funds.rate, "执行率"
        yield funds.score, "执行率得分"
        for group in funds.groups:
            for part in group.parts:
                for column, entry in part.amounts.items():
                    suffix = f" / {COLUMN_LABELS[column]}" if column != SINGLE else ""
                    yield entry, f"{group.name} / {part.label}{suffix}"
        for indicator in self.indicators:
            yield indicator.max_score, f"{indicator.key} / 分值"
            yield indicator.score, f"{indicator.key} / 得分"
            if indicator.coefficient.ref is not None:
                yield indicator.coefficient, f"{indicator.key} / 得分系数"
        yield self.total_max, "总分 / 分值"
        yield self.total_score, "总分 / 得分"

    def text_fields(self) -> Iterator[tuple[Entry, str]]:
        """The indicator cells read as text (targets, actuals, reasons)."""
        for indicator in self.indicators:
            yield indicator.target, f"{indicator.key} / 年度指标值"
            yield indicator.actual, f"{indicator.key} / 实际完成值"
            yield indicator.reason, f"{indicator.key} / 偏差原因"
            if indicator.status.ref is not None:
                yield indicator.status, f"{indicator.key} / 完成情况"
        parents = {i.level3.ref: i for i in self.indicators}
        for ref, rows in self.breakdowns:
            parent = parents.get(ref)
            for row in rows:
                where = f"{parent.key} / 其中 / {row.key}" if parent is not None else row.key
                yield row.target, f"{where} / 年度指标值"
                yield row.actual, f"{where} / 实际完成值"

    def part(self, label: str) -> Entry | None:
        """A single-amount funds part by label, e.g. "项目支出" of 按支出性质分."""
        for group in self.funds.groups:
            for part in group.parts:
                if part.label == label and SINGLE in part.amounts:
                    return part.amounts[SINGLE]
        return None


Form = BasicData | SelfEval
