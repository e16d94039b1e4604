"""Properties of the sum rules: a consistent table gives no finding; one perturbed total gives exactly one, there."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inline import Rows, check_rows, corrected_self_eval

SUM_RULES = {"B03", "B04", "B05", "B06", "F02", "F03"}
amount = st.decimals(min_value=0, max_value=5000, places=2).map(float)
row3 = st.tuples(amount, amount, amount)


def basic_rows(
    car: list[tuple[float, float, float]],
    abroad: tuple[float, float, float],
    reception: tuple[float, float, float],
    projects: list[tuple[float, float, float]],
    public_parts: list[tuple[float, float, float]],
    public_extra: tuple[float, float, float],
) -> Rows:
    def total(*rows: tuple[float, float, float]) -> list[float]:
        return [float(sum(Decimal(str(r[i])) for r in rows)) for i in range(3)]

    car_total = total(*car)
    three = total(tuple(car_total), abroad, reception)  # type: ignore[arg-type]
    public = total(*public_parts, public_extra)
    rows: Rows = [
        ["2023年度部门（单位）整体支出绩效评价基础数据表"],
        ["财政供养人员情况（人）", "编制数", "2023年实际在职人数", "控制率"],
        [None, 10, 9, "90%"],
        ["经费控制情况（万元）", "2022年决算数", "2023年预算数", "2023年决算数"],
        ["三公经费", *three],
        ["1、公务用车购置和维护经费", *car_total],
        ["其中：公车购置", *car[0]],
        ["公车运行维护", *car[1]],
        ["2、出国经费", *abroad],
        ["3、公务接待", *reception],
        ["项目支出", *total(*projects)],
        *[[f"{i + 1}、项目{i + 1}", *p] for i, p in enumerate(projects)],
        ["公用经费", *public],
        *[
            [label, *p]
            for label, p in zip(["其中：办公经费", "水费、电费、差旅费", "会议费、培训费"], public_parts, strict=False)
        ],
        ["政府采购金额", "——", 1, 1],
        ["填表人：甲  填报日期：2024年1月1日  联系电话：1  单位负责人：乙"],
    ]
    return rows


tables = st.builds(
    basic_rows,
    st.lists(row3, min_size=2, max_size=2),
    row3,
    row3,
    st.lists(row3, min_size=0, max_size=12),
    st.lists(row3, min_size=1, max_size=3),
    row3,
)


def sum_findings(rows: Rows) -> list[tuple[str, str]]:
    result = check_rows(rows, None)
    return [(f.rule, f"{f.sheet}!{f.cell}") for f in result.deviations if f.rule in SUM_RULES]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables)
def test_a_consistent_table_gives_no_sum_finding(rows: Rows) -> None:
    assert sum_findings(rows) == []


TOTALS = {"三公经费": "B03", "1、公务用车购置和维护经费": "B04", "项目支出": "B05", "公用经费": "B06"}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tables,
    st.sampled_from(sorted(TOTALS)),
    st.integers(0, 2),
    st.decimals(min_value=Decimal("0.02"), max_value=1000, places=2).map(float),
)
def test_one_perturbed_total_gives_exactly_one_finding_at_that_cell(
    rows: Rows, label: str, column: int, delta: float
) -> None:
    index = next(i for i, r in enumerate(rows) if r[0] == label)
    # 公用经费 may exceed its 其中 rows (they need not exhaust it): only a lower total is a finding.
    if label == "公用经费":
        parts = sum(
            Decimal(str(r[1 + column])) for r in rows[index + 1 :] if str(r[0]).startswith(("其中", "水费", "会议"))
        )
        rows[index][1 + column] = float(parts - Decimal(str(delta)))
    else:
        rows[index][1 + column] = round(rows[index][1 + column] + delta, 2)
    cell = f"附件2!{'BCD'[column]}{index + 1}"
    found = sum_findings(rows)
    if label == "1、公务用车购置和维护经费":
        # The car line is itself a part of 三公经费: B03 on the 三公 total is the one other finding.
        three = next(i for i, r in enumerate(rows) if r[0] == "三公经费")
        assert sorted(found) == sorted([("B04", cell), ("B03", f"附件2!{'BCD'[column]}{three + 1}")])
    else:
        assert found == [(TOTALS[label], cell)]


def test_self_eval_fixture_still_reads() -> None:
    assert check_rows(None, corrected_self_eval()).score is not None
