"""Reports written for other units in other phrasings, tried as a new user would: `check` and `scan`.

The reports are built here with python-docx (paragraphs and Word tables, as a clerk types them),
each consistent with its unit's sample forms, then changed in a few figures: every changed figure
is found at its paragraph or table cell, and nothing else is.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import docx
import pytest
from test_narrative import commented_text
from typer.testing import CliRunner

from perf_eval.checker import check_files
from perf_eval.cli import app
from perf_eval.narrative.check import form_sets, partners_of, read_one, statements_for
from perf_eval.narrative.document import ReportDocument
from perf_eval.scan import ScanOptions, run_scan

SAMPLES = Path(__file__).parent.parent / "sample_workbooks"
AUDIT_FORMS = (SAMPLES / "split-2023-basic.xlsx", SAMPLES / "split-2023-self-eval.xlsx")
STATS_FORMS = (SAMPLES / "families" / "F-consistent.xlsx",)

Item = str | list[tuple[str, ...]]

# 株洲市某某区审计局 (its 基础数据表 and 自评表 in two files): the unit's name first in the title,
# a run-in heading per project, amounts without "万元" in a table under "金额（万元）", a header row.
AUDIT: list[Item] = [
    "附件1",
    "株洲市某某区审计局2023年度部门整体支出绩效自评报告",
    "一、部门基本情况",
    "我局是区政府主管审计工作的职能部门，内设综合股、财政审计股、投资审计股3个股室。单位编制数20人，年末实有在职人员18人。",
    "二、部门整体支出情况",
    "2023年年初预算420万元，年中追加16.8万元，全年预算436.8万元；全年实际支出432.5万元，预算执行率99.02%。"
    "其中基本支出322万元，项目支出110.5万元。",
    "“三公”经费决算3.18万元，其中公务用车运行维护费2.32万元，公务接待费0.86万元，因公出国（境）费0元。公用经费29.15万元。",
    "三、项目支出情况",
    "（一）审计业务经费。年初预算40万元，实际支出39.5万元，执行率98.75%。",
    "（二）政府投资审计项目经费。预算60万元，支出57.8万元。",
    "（三）审计信息化建设经费15万元，已支出13.2万元，主要用于审计数据平台升级。",
    "四、主要指标",
    [("指标", "金额（万元）"), ("年初预算数", "420"), ("全年预算数", "436.8"), ("全年执行数", "432.5")],
    [("编制数（人）", "实有人数（人）"), ("20", "18")],
    "五、自评结论",
    "综合评定，我局2023年度部门整体支出绩效自评得分99.4分，评价等级为“优”。",
]
# 重庆市某区统计局 (a 自评表 alone, the Chongqing layout): 全年调整预算数, 自评总分, a header-row table.
STATS: list[Item] = [
    "重庆市某区统计局2023年度部门整体绩效自评报告",
    "部门名称：重庆市某区统计局",
    "一、预算执行",
    "本年度年初预算数500万元，全年调整预算数520万元，实际执行494万元，执行率为95%。",
    [("年初预算数", "全年（调整）预算数", "全年执行数", "执行率（%）"), ("500", "520", "494", "95")],
    "二、绩效目标完成情况",
    "全年完成统计调查项目12项，数据质量抽查合格率99%，统计数据发布及时率95%，服务对象满意度93%。",
    "三、自评结果",
    "经自评，我局部门整体绩效自评总分98.5分，自评等级：优。",
]


def write_report(path: Path, items: list[Item]) -> Path:
    document = docx.Document()
    for item in items:
        if isinstance(item, str):
            document.add_paragraph(item)
            continue
        table = document.add_table(rows=len(item), cols=len(item[0]))
        for r, row in enumerate(item):
            for c, text in enumerate(row):
                table.cell(r, c).text = text
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def changed(items: list[Item], *edits: tuple[str, str], cells: bool = False) -> list[Item]:
    """The report with figures changed in its text (or, with `cells`, in its table cells): each once."""
    out: list[Item] = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        else:
            out.append([tuple(cell for cell in row) for row in item])
    for old, new in edits:
        hits = 0
        for at, item in enumerate(out):
            if isinstance(item, str):
                if not cells:
                    hits += item.count(old)
                    out[at] = item.replace(old, new)
            elif cells:
                rows = []
                for row in item:
                    hits += sum(1 for cell in row if cell == old)
                    rows.append(tuple(new if cell == old else cell for cell in row))
                out[at] = rows
        assert hits == 1, (old, hits)
    return out


def report_findings(report: Path, forms: tuple[Path, ...]) -> list[tuple[str, str, Any, Any]]:
    result = check_files([report, *forms])[0].result
    return [(f.rule, f.place.text if f.place else "", f.expected, f.actual) for f in result.deviations]


def statement_count(report: Path, forms: tuple[Path, ...]) -> int:
    from perf_eval.checker import read_one as read_workbook

    document = read_one(report)
    assert isinstance(document, ReportDocument)
    sets = form_sets([w for w in (read_workbook(p) for p in forms) if not isinstance(w, str)])
    return len(statements_for(document, partners_of(document, sets)).items)


@pytest.mark.parametrize(("items", "forms", "least"), [(AUDIT, AUDIT_FORMS, 25), (STATS, STATS_FORMS, 9)])
def test_consistent_reports_of_other_units_raise_nothing(
    tmp_path: Path, items: list[Item], forms: tuple[Path, ...], least: int
) -> None:
    report = write_report(tmp_path / "报告.docx", items)
    assert report_findings(report, forms) == []
    assert statement_count(report, forms) >= least  # the figures were read, and every one agrees


def test_audit_report_disagreements_are_found_at_paragraph_and_cell(tmp_path: Path) -> None:
    items = changed(AUDIT, ("年末实有在职人员18人", "年末实有在职人员19人"), ("支出57.8万元", "支出58.7万元"))
    items = changed(items, ("432.5", "423.5"), cells=True)
    report = write_report(tmp_path / "审计局自评报告.docx", items)
    assert report_findings(report, AUDIT_FORMS) == [
        ("N01", "第4段", 18, 19),
        ("N04", "第10段", 57.8, 58.7),
        ("N02", "表1第4行第2列", 432.5, 423.5),
    ]


def test_stats_report_disagreements_are_found(tmp_path: Path) -> None:
    items = changed(changed(STATS, ("自评总分98.5分", "自评总分97.5分")), ("500", "550"), cells=True)
    report = write_report(tmp_path / "统计局自评报告.docx", items)
    assert report_findings(report, STATS_FORMS) == [
        ("N02", "表1第2行第1列", 500, 550),  # the table stands before paragraph 8
        ("N05", "第8段", 98.5, 97.5),
    ]


def test_run_in_project_heading_and_a_bare_allocation_are_not_the_units_figures(tmp_path: Path) -> None:
    # Before: "（一）审计业务经费。年初预算40万元…" compared 40 with the unit's 年初预算 420, its
    # 执行率 with the unit's, and "经费15万元，已支出13.2万元" took 15 as the project's spending.
    report = write_report(tmp_path / "r.docx", AUDIT)
    document = read_one(report)
    assert isinstance(document, ReportDocument)
    from perf_eval.checker import read_one as read_workbook

    sets = form_sets([w for w in (read_workbook(p) for p in AUDIT_FORMS) if not isinstance(w, str)])
    items = statements_for(document, partners_of(document, sets)).items
    by_paragraph = {
        s.place.paragraph: [
            (x.field.value, x.value, x.project) for x in items if x.place.paragraph == s.place.paragraph
        ]
        for s in items
    }
    assert by_paragraph[9] == [("project_budget", 40, "审计业务经费"), ("project_final", 39.5, "审计业务经费")]
    assert by_paragraph[11] == [("project_final", 13.2, "审计信息化建设经费")]


def test_check_cli_writes_the_annotated_copy_with_comments_at_the_cells(tmp_path: Path) -> None:
    items = changed(AUDIT, ("432.5", "423.5"), cells=True)
    report = write_report(tmp_path / "in" / "审计局自评报告.docx", items)
    before = report.read_bytes()
    result = CliRunner().invoke(
        app, ["check", str(report), *map(str, AUDIT_FORMS), "-o", str(tmp_path / "out"), "--format", "json"]
    )
    entry = json.loads(result.stdout)["files"][0]
    assert [(f["rule"], f["table"], f["row"], f["column"]) for f in entry["deviations"]] == [("N02", 1, 4, 2)]
    [(comment, text)] = commented_text(Path(entry["annotated"])).items()
    assert text == "423.5" and "全年执行数" in comment
    assert report.read_bytes() == before


def test_scan_of_both_units_gives_what_check_gives(tmp_path: Path) -> None:
    root = tmp_path / "共享"
    audit = changed(AUDIT, ("年末实有在职人员18人", "年末实有在职人员19人"))
    write_report(root / "审计局/报告/自评报告.docx", audit)
    # The 基础数据表 names no unit: it pairs with the 自评表 of its own folder (pairing rule 3).
    (root / "审计局/表").mkdir()
    shutil.copyfile(AUDIT_FORMS[0], root / "审计局/表/基础数据.xlsx")
    shutil.copyfile(AUDIT_FORMS[1], root / "审计局/表/自评表.xlsx")
    write_report(root / "统计局/自评报告.docx", STATS)
    shutil.copyfile(STATS_FORMS[0], root / "统计局/自评表.xlsx")
    outcome = run_scan(ScanOptions(root=root, out=tmp_path / "out", jobs=2))
    files = {f["path"]: f for f in outcome.data["files"]}
    audit_entry = files["审计局/报告/自评报告.docx"]
    assert [(f["rule"], f["paragraph"], f["related_file"]) for f in audit_entry["deviations"]] == [
        ("N01", 4, "审计局/表/基础数据.xlsx")
    ]
    assert files["统计局/自评报告.docx"]["deviations"] == []
    assert files["统计局/自评报告.docx"]["notes"] == ["对照的表单：统计局/自评表.xlsx"]
    units = {u["unit"]: u for u in outcome.data["scan"]["units"]}
    assert "审计局/报告/自评报告.docx" in units["株洲市某某区审计局"]["files"]
    assert "统计局/自评报告.docx" in units["重庆市某区统计局"]["files"]


def test_projects_the_forms_do_not_name_are_never_the_units_figures(tmp_path: Path) -> None:
    # Only the 自评表 (no 基础数据表 to name the projects): the project paragraphs under
    # "三、项目支出情况" are left alone instead of being compared with the unit's 年初预算 and 支出.
    report = write_report(tmp_path / "报告.docx", AUDIT)
    assert report_findings(report, AUDIT_FORMS[1:]) == []
    changed_unit = write_report(
        tmp_path / "改.docx", changed(AUDIT, ("全年实际支出432.5万元", "全年实际支出423.5万元"))
    )
    assert [(rule, where) for rule, where, *_ in report_findings(changed_unit, AUDIT_FORMS[1:])] == [
        ("N02", "第6段"),
        ("N06", "第6段"),  # 423.5 ≠ 基本支出 322 + 项目支出 110.5
    ]
