"""Statements: one case per phrasing, and the figures that must be left alone."""

from __future__ import annotations

import pytest

from perf_eval.narrative.blocks import Block
from perf_eval.narrative.document import identity
from perf_eval.narrative.fields import Field
from perf_eval.narrative.statements import find_statements

PROJECTS = ("财政管理专项", "国有资产管理", "信息化建设", "党建经费项目", "综合治税信息建设项目")


def found(*texts: str, year: int | None = 2023) -> list[tuple[Field, float | str | None, str | None]]:
    blocks = [Block(i, text, paragraph=i) for i, text in enumerate(texts, start=1)]
    statements = find_statements(blocks, year=year, projects=PROJECTS).items
    return [(s.field, s.grade if s.field is Field.GRADE else round(s.value or 0.0, 4), s.project) for s in statements]


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("共有编制人数37人，", Field.STAFF_AUTHORIZED, 37),
        ("核定编制37名。", Field.STAFF_AUTHORIZED, 37),
        ("编制37人。", Field.STAFF_AUTHORIZED, 37),
        ("实有人数36人。", Field.STAFF_ACTUAL, 36),
        ("在编在岗36人。", Field.STAFF_ACTUAL, 36),
        ("现有在职人员36人。", Field.STAFF_ACTUAL, 36),
        ("实际在职人数为36人。", Field.STAFF_ACTUAL, 36),
        ("年初预算739.03万元。", Field.INITIAL_BUDGET, 739.03),
        ("年初预算资金7,390,300元。", Field.INITIAL_BUDGET, 739.03),
        ("全年预算数959.93万元。", Field.ANNUAL_BUDGET, 959.93),
        ("调整后预算0.095993亿元。", Field.ANNUAL_BUDGET, 959.93),
        ("2023年度单位一般公共预算财政拨款收入959.93万元。", Field.ANNUAL_BUDGET, 959.93),
        ("本年收入合计959.93万元。", Field.ANNUAL_BUDGET, 959.93),
        ("2023年度单位一般公共预算财政拨款支出959.93万元。", Field.EXECUTED, 959.93),
        ("支出959.93万元。", Field.EXECUTED, 959.93),
        ("全年支出合计9,599,300.00元。", Field.EXECUTED, 959.93),
        ("全年执行数为959.93万元。", Field.EXECUTED, 959.93),
        ("预算执行率为100%。", Field.EXECUTION_RATE, 1.0),
        ("执行率99.5%。", Field.EXECUTION_RATE, 0.995),
        ("基本支出721.5万元。", Field.BASIC, 721.5),
        ("人员经费620.03万元。", Field.PERSONNEL, 620.03),
        ("公用经费101.47万元。", Field.PUBLIC, 101.47),
        ("其中：项目支出238.43万元。", Field.PROJECTS, 238.43),
        ("年初预算项目支出金额125万元。", Field.PROJECTS_BUDGET, 125),
        ("“三公”经费支出1.2万元。", Field.THREE_PUBLIC, 1.2),
        ("公务用车购置及运行维护费0.8万元。", Field.CAR, 0.8),
        ("公务用车运行维护费0.8万元。", Field.CAR_RUNNING, 0.8),
        ("因公出国（境）费0万元。", Field.ABROAD, 0),
        ("公务接待费0.4万元。", Field.RECEPTION, 0.4),
        ("自评得分96分。", Field.SCORE, 96),
        ("综合得分为96分。", Field.SCORE, 96),
        ("评分96分。", Field.SCORE, 96),
        ("１２３．４５万元的基本支出：基本支出１２３．４５万元。", Field.BASIC, 123.45),
    ],
)
def test_each_phrasing_is_one_statement_of_its_field(text: str, field: Field, value: float) -> None:
    assert found(text) == [(field, value, None)]


@pytest.mark.parametrize(
    ("text", "grade"),
    [
        ("自评等级为“优”。", "优"),
        ("评价等级：优。", "优"),
        ("自评结果为良好。", "良"),
        ("绩效评价结果为“中”。", "中"),
        ("被评定为优秀等次。", "优"),
    ],
)
def test_grades(text: str, grade: str) -> None:
    assert found(text) == [(Field.GRADE, grade, None)]


@pytest.mark.parametrize(
    "text",
    [
        "2023年预算资金739.03万元。",  # 年初 or 全年? not tied to one field
        "离退休人员18人。",
        "退休、在岗工作人员54人。",
        "行政编制20名，事业编制17名。",  # parts of 编制, not the total
        "支出约960万元。",
        "较上年增长5%。",
        "上年支出900万元。",
        "2022年度支出900.00万元。",
        "非税收入30万元。",
        "产出指标得分38分。",
        "内设4个股室，开展培训5次。",
        "编制37。",  # a count without 人/名 in running text is still a count: see next test
    ][:-1],
)
def test_figures_left_alone(text: str) -> None:
    assert found(text) == []


def test_project_amounts_follow_the_named_project() -> None:
    text = (
        "财政管理专项项目上年指标结转10.86万元，年初预算55万元，实际支出65.86万元，本年无结转结余。",
        "1.财政管理专项65.86万元；2.财政信息化建设19.99万元；3.党建经费4.37万元。",
    )
    assert found(*text) == [
        (Field.PROJECT_CARRYOVER, 10.86, "财政管理专项"),
        (Field.PROJECT_BUDGET, 55, "财政管理专项"),
        (Field.PROJECT_FINAL, 65.86, "财政管理专项"),
    ]  # a bare amount is spending only under a heading that says 支出
    assert found("（二）项目支出情况", text[1]) == [
        (Field.PROJECT_FINAL, 65.86, "财政管理专项"),
        (Field.PROJECT_FINAL, 19.99, "信息化建设"),
        (Field.PROJECT_FINAL, 4.37, "党建经费项目"),
    ]


def test_a_heading_names_the_project_of_the_paragraphs_below_it() -> None:
    assert found(
        "4.国有资产管理项目", "该项目预算资金40万元，实际支出85.74万元。", "五、存在的问题", "支出1万元。"
    ) == [
        (Field.PROJECT_BUDGET, 40, "国有资产管理"),
        (Field.PROJECT_FINAL, 85.74, "国有资产管理"),
        (Field.EXECUTED, 1, None),
    ]


def test_two_projects_in_one_clause_are_left_alone() -> None:
    assert found("财政管理专项和国有资产管理共支出151.6万元。") == []


def test_a_table_row_names_its_project() -> None:
    blocks = [
        Block(1, "国有资产管理", table=1, row=2, column=1),
        Block(2, "预算40万元，实际支出85.74万元", table=1, row=2, column=2),
        Block(3, "基本支出：721.5", table=2, row=1, column=1),
    ]
    items = find_statements(blocks, year=2023, projects=PROJECTS).items
    assert [(s.field, s.value, s.project, s.place.text) for s in items] == [
        (Field.PROJECT_BUDGET, 40, "国有资产管理", "表1第2行第2列"),
        (Field.PROJECT_FINAL, 85.74, "国有资产管理", "表1第2行第2列"),
        (Field.BASIC, 721.5, None, "表2第1行第1列"),  # a table restates the forms: 万元 without a unit
    ]


def test_statement_keeps_the_sentence_and_clause_as_written() -> None:
    blocks = [Block(1, "株洲市芦淞区财政局为正科级单位，共有编制人数37人，实有人数36人。局内设4个股室。", paragraph=3)]
    first = find_statements(blocks, year=2023).items[0]
    assert first.clause == "共有编制人数37人"
    assert first.place.sentence == "株洲市芦淞区财政局为正科级单位，共有编制人数37人，实有人数36人。"
    assert first.place.text == "第3段"


def test_amounts_in_yuan_compare_at_the_precision_written() -> None:
    blocks = [Block(1, "年初预算资金7,390,300元，全年预算960万元。", paragraph=1)]
    budget, annual = find_statements(blocks, year=2023).items
    assert budget.value == pytest.approx(739.03) and budget.tolerance == pytest.approx(0.00005)
    assert annual.value == 960 and annual.tolerance == 0.5


@pytest.mark.parametrize(
    ("texts", "unit", "year"),
    [
        (
            ["附件1", "2023年度部门（单位）整体支出", "绩效自评报告", "部门（单位）名称：株洲市芦淞区财政局"],
            "株洲市芦淞区财政局",
            2023,
        ),
        (["株洲市芦淞区财政局2023年度整体支出绩效自评报告"], "株洲市芦淞区财政局", 2023),
        (["2022年度长沙县教育局部门整体支出绩效自评报告"], "长沙县教育局", 2022),
        (["2024年度某某项目支出绩效自评报告", "填报单位：某某中心"], "某某中心", 2024),
        (["关于开展绩效自评的说明"], None, None),
    ],
)
def test_unit_and_year_from_cover_and_title(texts: list[str], unit: str | None, year: int | None) -> None:
    blocks = tuple(Block(i, t, paragraph=i) for i, t in enumerate(texts, start=1))
    assert identity(blocks)[:2] == (unit, year)


# --- tables laid out as label | figure --------------------------------------------------------


def table(*rows: tuple[str, ...], number: int = 1) -> list[Block]:
    """The blocks of one Word table, as the reader gives them (one per non-empty cell)."""
    blocks: list[Block] = []
    for r, cells in enumerate(rows, start=1):
        for c, text in enumerate(cells, start=1):
            if text:
                blocks.append(Block(len(blocks) + 1, text, table=number, row=r, column=c))
    return blocks


def in_table(*rows: tuple[str, ...]) -> list[tuple[Field, float | str | None, str | None, str, str]]:
    items = find_statements(table(*rows), year=2023, projects=PROJECTS).items
    return [
        (
            s.field,
            s.grade if s.field is Field.GRADE else round(s.value or 0.0, 4),
            s.project,
            s.place.text,
            s.clause,
        )
        for s in items
    ]


def test_rows_of_label_and_figure_are_statements_with_their_row() -> None:
    assert in_table(
        ("编制数", "36"), ("实有人数", "35人"), ("年初预算数（万元）", "959.93"), ("执行率（%）", "98.5")
    ) == [
        (Field.STAFF_AUTHORIZED, 36, None, "表1第1行第2列", "编制数：36"),
        (Field.STAFF_ACTUAL, 35, None, "表1第2行第2列", "实有人数：35人"),
        (Field.INITIAL_BUDGET, 959.93, None, "表1第3行第2列", "年初预算数（万元）：959.93"),
        (Field.EXECUTION_RATE, 0.985, None, "表1第4行第2列", "执行率（%）：98.5"),
    ]


def test_a_header_row_of_labels_over_a_row_of_figures() -> None:
    got = in_table(
        ("编制数", "实有人数", "全年支出（元）", "自评得分", "自评等级"), ("36", "36", "9,599,300", "95.5", "优")
    )
    assert got == [
        (Field.STAFF_AUTHORIZED, 36, None, "表1第2行第1列", "编制数：36"),
        (Field.STAFF_ACTUAL, 36, None, "表1第2行第2列", "实有人数：36"),
        (Field.EXECUTED, 959.93, None, "表1第2行第3列", "全年支出（元）：9,599,300"),  # 元 from the header
        (Field.SCORE, 95.5, None, "表1第2行第4列", "自评得分：95.5"),
        (Field.GRADE, "优", None, "表1第2行第5列", "自评等级：优"),
    ]


def test_unit_from_a_generic_header_and_the_row_label_names_the_quantity() -> None:
    assert in_table(("指标", "金额（万元）"), ("年初预算数", "959.93"), ("基本支出", "721.5")) == [
        (Field.INITIAL_BUDGET, 959.93, None, "表1第2行第2列", "年初预算数：959.93"),
        (Field.BASIC, 721.5, None, "表1第3行第2列", "基本支出：721.5"),
    ]


def test_project_rows_under_amount_headers() -> None:
    got = in_table(("项目名称", "预算数（万元）", "实际支出（万元）"), ("党建经费", "10", "9.5"))
    assert got == [
        (Field.PROJECT_BUDGET, 10, "党建经费项目", "表1第2行第2列", "党建经费 / 预算数（万元）：10"),
        (Field.PROJECT_FINAL, 9.5, "党建经费项目", "表1第2行第3列", "党建经费 / 实际支出（万元）：9.5"),
    ]


def test_table_figures_left_alone() -> None:
    # Another year's column; a 序号 column; an indicator's 分值; a label fitting two quantities
    # (基本支出 under 预算数: its budget is no form field); a cell of text and figures is read as text.
    assert in_table(("项目", "2022年", "2023年"), ("基本支出", "700", "721.5")) == [
        (Field.BASIC, 721.5, None, "表1第2行第3列", "基本支出：721.5")
    ]
    assert in_table(("序号", "指标", "分值"), ("1", "产出数量", "20")) == []
    assert in_table(("科目", "预算数", "支出数"), ("基本支出", "730", "721.5")) == []
    assert in_table(("说明", "编制数"), ("人员情况", "")) == []
    assert in_table(("上年结余", "12")) == []
    assert in_table(("编制数", "约36人")) == []


# --- found trying reports of other units (tests/test_narrative_newcomer.py) -----------------


def test_a_run_in_project_heading_makes_the_paragraph_that_projects() -> None:
    got = found("三、项目支出情况", "（一）国有资产管理。年初预算40万元，实际支出39.5万元，执行率98.75%。")
    # The project's 执行率 is no form field: left alone (it is not the unit's).
    assert got == [(Field.PROJECT_BUDGET, 40, "国有资产管理"), (Field.PROJECT_FINAL, 39.5, "国有资产管理")]


def test_a_project_the_forms_do_not_name_keeps_its_money_to_itself() -> None:
    got = found(
        "三、项目支出情况",
        "（一）审计业务经费",
        "年初预算40万元，实际支出39.5万元。编制20人。",
        "四、自评结论",
        "全年支出432.5万元。",
    )
    assert got == [(Field.STAFF_AUTHORIZED, 20, None), (Field.EXECUTED, 432.5, None)]


def test_a_bare_allocation_beside_stated_spending_is_not_the_spending() -> None:
    assert found("三、项目支出情况", "1.信息化建设15万元，已支出13.2万元。") == [
        (Field.PROJECT_FINAL, 13.2, "信息化建设")
    ]
    assert found("三、项目支出情况", "1.信息化建设13.2万元。") == [(Field.PROJECT_FINAL, 13.2, "信息化建设")]


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("全年调整预算数520万元。", Field.ANNUAL_BUDGET, 520),
        ("全年（调整）预算数为520万元。", Field.ANNUAL_BUDGET, 520),
        ("我局部门整体绩效自评总分98.5分。", Field.SCORE, 98.5),
    ],
)
def test_more_phrasings(text: str, field: Field, value: float) -> None:
    assert found(text) == [(field, value, None)]


def test_a_bare_total_is_not_the_score() -> None:
    assert found("自评表总分100分，得分98分。") == [(Field.SCORE, 98, None)]
