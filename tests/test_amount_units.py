"""Amounts in 元: a form whose title or funds header says "（元）" / "单位：元" is read in 万元 (its cells keep
their text), compared within itself to the 元, and against a 基础数据表 in 万元 at the same scale."""

from __future__ import annotations

import sys
from pathlib import Path

from inline import at, check_rows, corrected_basic, corrected_self_eval, grid, read_grids

from perf_eval.forms import SelfEval
from perf_eval.model import FileResult

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "sample_workbooks"))
import family_samples as fs


def _in_yuan(*, header: str = "年度预\n\n算申请\n\n（元）", title_note: str | None = None) -> list[list[object]]:
    """The corrected Hunan 自评表 with every funds amount written in 元."""
    rows = corrected_self_eval()
    rows[3][0] = header
    rows[4][2:5] = [7390300, 9599300, 9599300]
    rows[6][1] = "  其中：  一般公共预算：9599300"
    rows[6][4] = "其中：基本支出：7215000"
    rows[7][4] = "项目支出：2384300"
    if title_note is not None:
        rows[1] = [rows[1][0], None, None, None, None, None, title_note]
    return rows


def _findings(result: FileResult) -> list[tuple[str, str]]:
    return sorted((f.rule, f"{f.sheet}!{f.cell}") for f in result.deviations)


def test_a_form_in_yuan_paired_with_basic_data_in_wan_reads_as_the_same_form() -> None:
    wan = check_rows(corrected_basic(), corrected_self_eval())
    for rows in (_in_yuan(), _in_yuan(header="年度预\n\n算申请", title_note="单位：元")):
        yuan = check_rows(corrected_basic(), rows)
        assert _findings(yuan) == _findings(wan)
        assert yuan.score == wan.score
        (form,) = [f for f in read_grids(grid("附件3", rows)).forms if isinstance(f, SelfEval)]
        assert form.funds.unit == "元"
        assert form.funds.total["executed"].value == 959.93
        assert form.funds.total["executed"].text == "9599300"  # the cell as written


def test_a_wrong_amount_in_yuan_is_reported_in_wan_against_the_basic_data_and_in_yuan_within_the_form() -> None:
    rows = _in_yuan()
    rows[7][4] = "项目支出：2394300"  # 239.43 万元 against the basic data's 238.43
    result = check_rows(corrected_basic(), rows)
    x01 = [f for f in result.deviations if f.rule == "X01"]
    assert [f"{f.sheet}!{f.cell}" for f in x01] == ["附件3!E8"]
    assert "239.43 万元" in x01[0].message and "238.43 万元" in x01[0].message
    s03 = [f for f in result.deviations if f.rule == "S03"]
    assert [f"{f.sheet}!{f.cell}" for f in s03] == ["附件3!E6"]
    assert "相差 10000.00 元" in s03[0].message and "9609300.00 元" in s03[0].message


def test_parts_in_yuan_are_compared_to_the_yuan() -> None:
    """50 元 is 0.005 万元, inside a 万元 form's tolerance: in a form written in 元 it is a wrong part."""
    rows = _in_yuan()
    rows[6][4] = "其中：基本支出：7215050"
    result = check_rows(corrected_basic(), rows)
    assert at(result.deviations, "S03") == ["附件3!E6"]
    assert "相差 50.00 元" in next(f.message for f in result.deviations if f.rule == "S03")
    assert at(result.deviations, "X01") == []


def test_a_cost_target_in_yuan_is_compared_to_the_basic_data_in_wan() -> None:
    rows = corrected_self_eval()
    rows[-3][4:6] = ["1250000元", "1250000元"]
    assert at(check_rows(corrected_basic(), rows).deviations, "X02") == []
    rows[-3][4:6] = ["1260000元", "1260000元"]
    result = check_rows(corrected_basic(), rows)
    assert at(result.deviations, "X02") == ["附件3!E31"]
    assert "126.00 万元" in next(f.message for f in result.deviations if f.rule == "X02")


def test_wan_stays_wan_and_a_cell_with_its_own_unit_keeps_it() -> None:
    rows = corrected_self_eval()
    rows[1] = [rows[1][0], None, None, None, None, None, "单位：万元"]
    rows[4][4] = "9599300元"  # one cell written in 元 in a form in 万元
    (form,) = [f for f in read_grids(grid("附件3", rows)).forms if isinstance(f, SelfEval)]
    assert form.funds.unit == "万元"
    assert form.funds.total["annual_budget"].value == 959.93
    assert form.funds.total["executed"].value == 959.93


def test_budget_system_export_in_yuan() -> None:
    sheet = fs.own_j()
    rows = [list(r) for r in sheet.rows]
    r, c = sheet.find("二、预算执行情况（万元）")
    rows[r - 1][c - 1] = "二、预算执行情况（元）"
    r, _ = sheet.find("预算安排情况（调整后）：120.00")
    rows[r - 1] = [
        "预算安排情况（调整后）：1200000.00", None, None, "资金到位情况：1200000.00", None, None,
        "资金执行情况：1140000.00", None, None, "预算执行进度（%）：95.00",
    ]  # fmt: skip
    (form,) = read_grids(grid(sheet.name, rows, sheet.merges)).forms
    assert isinstance(form, SelfEval)
    assert (form.funds.unit, form.funds.total["annual_budget"].value, form.funds.total["executed"].value) == (
        "元",
        120.0,
        114.0,
    )
