"""What a report's figures are: the quantities (`Field`), how each is measured, one statement and a report's statements.

Kept apart from `statements` (the vocabulary and its patterns) so that the rules can name
the quantities without compiling the patterns: a check without a written report never does.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from perf_eval.model import Place


class Field(StrEnum):
    """The quantities a report restates; the rule that checks each is in `rules`."""

    STAFF_AUTHORIZED = "staff_authorized"  # 编制数
    STAFF_ACTUAL = "staff_actual"  # 实有/在职人数
    INITIAL_BUDGET = "initial_budget"  # 年初预算
    ANNUAL_BUDGET = "annual_budget"  # 全年预算 / 全年收入
    EXECUTED = "executed"  # 全年支出 / 执行数
    EXECUTION_RATE = "execution_rate"  # 执行率
    BASIC = "basic"  # 基本支出
    PERSONNEL = "personnel"  # 人员经费 (no form field: only the report's own arithmetic)
    PUBLIC = "public"  # 公用经费
    PROJECTS = "projects"  # 项目支出 (all projects)
    PROJECTS_BUDGET = "projects_budget"  # 项目支出 预算
    THREE_PUBLIC = "three_public"  # 三公经费
    CAR = "car"  # 公务用车购置及运行维护费
    CAR_PURCHASE = "car_purchase"  # 公车购置
    CAR_RUNNING = "car_running"  # 公车运行维护
    ABROAD = "abroad"  # 因公出国（境）费
    RECEPTION = "reception"  # 公务接待费
    PROJECT_BUDGET = "project_budget"  # one project's 预算
    PROJECT_FINAL = "project_final"  # one project's 实际支出
    PROJECT_CARRYOVER = "project_carryover"  # one project's 上年结转 (the report's own arithmetic)
    PROJECT_ADDED = "project_added"  # 追加/调增
    PROJECT_CUT = "project_cut"  # 调减
    CARRYOVER = "carryover"  # the unit's 上年结转
    SCORE = "score"  # 自评得分
    GRADE = "grade"  # 等级

    @property
    def label_zh(self) -> str:
        return _LABELS[self]


_LABELS = {
    Field.STAFF_AUTHORIZED: "编制数",
    Field.STAFF_ACTUAL: "实际在职人数",
    Field.INITIAL_BUDGET: "年初预算数",
    Field.ANNUAL_BUDGET: "全年预算数",
    Field.EXECUTED: "全年执行数",
    Field.EXECUTION_RATE: "执行率",
    Field.BASIC: "基本支出",
    Field.PERSONNEL: "人员经费",
    Field.PUBLIC: "公用经费",
    Field.PROJECTS: "项目支出",
    Field.PROJECTS_BUDGET: "项目支出预算",
    Field.THREE_PUBLIC: "三公经费",
    Field.CAR: "公务用车购置和维护经费",
    Field.CAR_PURCHASE: "公车购置",
    Field.CAR_RUNNING: "公车运行维护",
    Field.ABROAD: "出国经费",
    Field.RECEPTION: "公务接待",
    Field.PROJECT_BUDGET: "项目预算",
    Field.PROJECT_FINAL: "项目实际支出",
    Field.PROJECT_CARRYOVER: "项目上年结转",
    Field.PROJECT_ADDED: "项目追加预算",
    Field.PROJECT_CUT: "项目调减预算",
    Field.CARRYOVER: "上年结转",
    Field.SCORE: "自评得分",
    Field.GRADE: "自评等级",
}


class Measure(StrEnum):
    AMOUNT = "amount"  # 万元
    COUNT = "count"  # 人
    RATE = "rate"  # a fraction
    SCORE = "score"
    GRADE = "grade"


@dataclass(frozen=True)
class Statement:
    """One figure the report states."""

    field: Field
    value: float | None  # 万元 for amounts, a fraction for rates; None for a grade
    text: str  # the figure as written ("37人", "959.93万元", "优")
    tolerance: float  # half a unit of the last digit written, in the value's own unit
    clause: str  # the clause quoted as written ("共有编制人数37人")
    place: Place
    project: str | None = None  # the 基础数据表's project label, for PROJECT_* fields
    grade: str | None = None

    @property
    def block(self) -> int:
        return self.place.order


@dataclass(frozen=True)
class Statements:
    """All statements of one report, and the text that decides the report's own arithmetic."""

    items: tuple[Statement, ...]
    # Per block (by order): whether it says nothing was carried over ("无结转结余").
    settled_blocks: frozenset[int] = frozenset()

    def of(self, *fields: Field) -> list[Statement]:
        return [s for s in self.items if s.field in fields]


_MEASURES = {
    Field.STAFF_AUTHORIZED: Measure.COUNT,
    Field.STAFF_ACTUAL: Measure.COUNT,
    Field.EXECUTION_RATE: Measure.RATE,
    Field.SCORE: Measure.SCORE,
    Field.GRADE: Measure.GRADE,
}


def measure_of(field: Field) -> Measure:
    return _MEASURES.get(field, Measure.AMOUNT)
