"""The annotated copy (perf_eval.outputs.annotate) and atomic output files (perf_eval.atomic).

Workbooks are built here with openpyxl and findings by hand, so these tests do
not depend on the checker. Golden read-backs live in tests/golden/annotate/;
regenerate them with ``PERF_EVAL_UPDATE_GOLDEN=1 pytest tests/test_annotate.py``
and review the diff.

tests/fixtures/annotate_source.xls was made once by LibreOffice 7.4
(``soffice --headless --convert-to xls``) from an .xlsx with: sheet 基础数据表
(A1 "部门整体支出绩效评价基础数据表" bold 16 pt merged A1:D1, row 1 30 pt;
header in row 3; 项目支出 324.12 / 300 / 280.5 in row 4; 项目A and 项目B in
rows 5-6; 填报日期 2024-03-15 in B7 merged B7:D7; thin borders on A3:D7;
column A 24 wide, B 16 wide) and a hidden sheet 备注 (A1 "内部").
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import subprocess
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from perf_eval.atomic import TEMP_PREFIX, OutputError, atomic_write, atomic_write_bytes, atomic_write_text
from perf_eval.model import (
    RESULT_SHEET,
    RESULT_TITLE,
    FileResult,
    FileStatus,
    Finding,
    FormInfo,
    FormKind,
    Score,
    Severity,
    is_result_sheet,
)
from perf_eval.outputs.annotate import COMMENT_MARK, AnnotatedCopy, annotate, copy_name, link_location

GOLDEN = Path(__file__).parent / "golden" / "annotate"
FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE_ROOT = Path(__file__).parent.parent / "sample_workbooks"
SAMPLES = sorted(SAMPLE_ROOT.rglob("*.xlsx"))
BASIC, SELF_EVAL = "基础数据表", "自评表"
USER_BLUE = "FFDDEBF7"
RED, AMBER = "FFFFC7CE", "FFFFEB9C"
FORMULA_LIKE_UNIT = "=SUM(A1)"


# --- building inputs -----------------------------------------------------------------------


def build_forms(path: Path) -> Path:
    """A small two-form workbook with everything the copy must preserve."""
    wb = Workbook()
    basic = wb.active
    basic.title = BASIC
    _fill_basic(basic)
    self_eval = wb.create_sheet(SELF_EVAL)
    _fill_self_eval(self_eval)
    wb.create_sheet("隐藏").sheet_state = "hidden"
    wb["隐藏"]["A1"] = "内部数据"
    wb.create_sheet("配置").sheet_state = "veryHidden"
    wb.defined_names["项目支出合计"] = DefinedName("项目支出合计", attr_text=f"'{BASIC}'!$B$4")
    self_eval.defined_names["本表单位"] = DefinedName("本表单位", attr_text=f"'{SELF_EVAL}'!$B$2")
    wb.save(path)
    return path


def _fill_basic(ws: Worksheet) -> None:
    ws["A1"] = "部门整体支出绩效评价基础数据表"
    ws["A1"].font = Font(bold=True, size=16)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells("A1:D1")
    ws.row_dimensions[1].height = 30
    rows = [
        ("项目", "2022年决算数", "2023年预算数", "2023年决算数"),
        ("项目支出", 324.12, "=SUM(C5:C6)", 280.5),
        ("1、项目A", 100, 150, 140.25),
        ("2、项目B", 100.16, 150, 140.25),
        ("填报日期", datetime(2024, 3, 15)),
    ]
    thin = Side(style="thin")
    for r, row in enumerate(rows, start=3):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(r, c, value)
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
            if r in (4, 5, 6) and c > 1:
                cell.number_format = "0.00"
    ws.merge_cells("B7:D7")
    ws["B7"].number_format = "yyyy-mm-dd"
    ws["B4"].fill = PatternFill(fill_type="solid", fgColor=USER_BLUE)
    ws["D6"].comment = Comment("请核对项目B", "张三")
    ws.column_dimensions["A"].width = 24
    for letter in "BCD":
        ws.column_dimensions[letter].width = 16
    ws.row_dimensions[6].height = 22
    validation = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")
    validation.add("B4:D6")
    ws.add_data_validation(validation)
    ws.conditional_formatting.add(
        "D4:D6", CellIsRule(operator="greaterThan", formula=["1000"], font=Font(color="FF9C0006"))
    )
    ws.freeze_panes = "A4"


def _fill_self_eval(ws: Worksheet) -> None:
    ws["A1"] = "部门整体支出绩效自评表"
    ws["A2"] = "部门（单位）名称"
    ws["B2"] = FORMULA_LIKE_UNIT
    ws["B2"].data_type = "s"
    ws["A5"], ws["B5"], ws["C5"] = "项目支出", 300, 280.5
    ws["A8"], ws["B8"], ws["C8"], ws["D8"] = "产出指标", "≥10个", "30个", 10
    ws["A9"] = "总分"
    ws["D9"] = "=SUM(D8:D8)"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = 0.5
    ws.page_margins.top = 0.9
    ws.print_area = "A1:H20"
    ws.print_title_rows = "1:2"
    ws.oddHeader.center.text = "绩效自评表"


def findings() -> list[Finding]:
    return [
        Finding("B05", Severity.ERROR, BASIC, "B4", "项目支出 / 2022年决算数",
                "项目支出不等于所列项目之和", 200.16, 324.12),
        Finding("B11", Severity.WARNING, BASIC, "B4", "项目支出 / 2022年决算数", "示例：同一单元格的第二个问题"),
        Finding("B08", Severity.WARNING, BASIC, "D6", "2、项目B / 2023年决算数",
                "决算偏离预算超过 20%", 150, 140.25),
        Finding("F02", Severity.WARNING, BASIC, "C7", "填报日期", "合并单元格中的问题", None, None),
        Finding("X01", Severity.ERROR, SELF_EVAL, "C5", "项目支出",
                "自评表的项目支出与基础数据表本年决算数不一致", 280.5, 280.5,
                related=(f"{BASIC}!D4",)),
        Finding("F05", Severity.ERROR, SELF_EVAL, "B2", "单位名称",
                "单位名称与基础数据表不一致：=SUM(A1)", "芦淞区财政局", FORMULA_LIKE_UNIT),
        Finding("S13", Severity.INFO, SELF_EVAL, "C8", "产出指标", "实际完成值远超目标：目标设置可能偏低", 10, 30),
        Finding("F01", Severity.ERROR, None, None, "", "未找到项目支出绩效自评表（查找标题含“项目支出绩效自评表”）"),
    ]  # fmt: skip


def result_for(path: Path, deviations: list[Finding] | None = None) -> FileResult:
    deviations = findings() if deviations is None else deviations
    return FileResult(
        path=str(path),
        sha256=None,
        status=FileStatus.of(deviations),
        forms=[
            FormInfo(FormKind.BASIC_DATA, BASIC, FORMULA_LIKE_UNIT, 2023),
            FormInfo(FormKind.DEPT_SELF_EVAL, SELF_EVAL, FORMULA_LIKE_UNIT, 2023),
        ],
        deviations=deviations,
        score=Score(reported=96, recomputed=92.5, grade="优", reported_grade="优"),
    )


@pytest.fixture
def forms(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    return build_forms(folder / "自评表.xlsx")


@pytest.fixture
def copy(forms: Path) -> AnnotatedCopy:
    return annotate(forms, result_for(forms))


# --- reading a copy back -------------------------------------------------------------------


def load(path: Path) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return load_workbook(path)


def read_back(path: Path, *, table: bool = True) -> dict[str, Any]:
    """The copy as JSON: sheets, marked cells (comment, fill) and the 校验结果 sheet's rows."""
    wb = load(path)
    cells: dict[str, dict[str, Any]] = {}
    for ws in wb.worksheets[1:]:
        for row in ws.iter_rows():
            for cell in row:
                fill = cell.fill.fgColor.rgb if cell.fill.fill_type == "solid" else None
                if cell.comment is not None or fill in (RED, AMBER):
                    cells[f"{ws.title}!{cell.coordinate}"] = {
                        "comment": cell.comment.text if cell.comment else None,
                        "fill": fill,
                    }
    back: dict[str, Any] = {
        "sheets": [[ws.title, ws.sheet_state] for ws in wb.worksheets],
        "active": wb.active.title,
        "cells": cells,
    }
    if table:
        back["result"] = [list(row) for row in wb.worksheets[0].iter_rows(values_only=True)]
    return back


def comments(path: Path) -> dict[str, str]:
    wb = load(path)
    return {
        f"{ws.title}!{cell.coordinate}": cell.comment.text
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.comment is not None
    }


def assert_golden(name: str, actual: dict[str, Any]) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(actual, ensure_ascii=False, indent=1, default=str) + "\n"
    if os.environ.get("PERF_EVAL_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}; run with PERF_EVAL_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def table_rows(ws: Worksheet) -> Iterator[tuple[Any, ...]]:
    header = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "级别")
    yield from ws.iter_rows(min_row=header + 1)


# --- comments, fills, the 校验结果 sheet ------------------------------------------------------


def test_copy_read_back_matches_golden(copy: AnnotatedCopy) -> None:
    assert copy.path.name == "自评表.校验.xlsx"
    assert_golden("forms", read_back(copy.path))


def test_each_finding_cell_has_comment_starting_with_rule_and_a_fill(copy: AnnotatedCopy) -> None:
    wb = load(copy.path)
    b4 = wb[BASIC]["B4"]
    assert b4.comment.text.startswith(
        "B05 项目支出 / 2022年决算数：项目支出不等于所列项目之和\n应为 200.16，实际 324.12"
    )
    assert "B11 " in b4.comment.text  # both findings at one cell, the error first
    assert b4.fill.fgColor.rgb == RED
    assert b4.comment.author == "perf-eval"
    assert wb[SELF_EVAL]["C8"].comment.text.startswith("S13 ")
    assert wb[SELF_EVAL]["C8"].fill.fill_type is None  # info: comment, no fill
    assert wb[BASIC]["D6"].fill.fgColor.rgb == AMBER
    assert comments(copy.path)[f"{SELF_EVAL}!C5"].startswith("X01 ")
    assert f"对照：{BASIC}!D4" in comments(copy.path)[f"{SELF_EVAL}!C5"]


def test_comment_says_how_to_fix_and_the_parts_of_a_sum_are_marked_too(forms: Path) -> None:
    total = Finding(
        "B05", Severity.ERROR, BASIC, "B4", "项目支出 / 2022年决算数",
        "项目支出 / 2022年决算数：合计 324.12 万元 与所列 2 个项目之和 200.16 万元 相差 123.96 万元",
        None, 324.12, related=(f"{BASIC}!B5", f"{BASIC}!B6"), fix="对照账表逐项核对", quantity="amount",
    )  # fmt: skip
    annotated = annotate(forms, result_for(forms, [total]))
    notes = comments(annotated.path)
    assert "如何处理：对照账表逐项核对" in notes[f"{BASIC}!B4"]
    assert "应为" not in notes[f"{BASIC}!B4"]  # no one right value: the total or a part may be wrong
    for part in ("B5", "B6"):
        assert notes[f"{BASIC}!{part}"].startswith(f"B05（错误，见 {BASIC}!B4）与本单元格有关：")
    wb = load(annotated.path)
    assert wb[BASIC]["B5"].fill.fill_type is None  # only the finding's own cell is filled
    # A fixed workbook loses the part comments with the finding.
    again = annotate(annotated.path, result_for(annotated.path, []))
    assert set(comments(again.path)) == {f"{BASIC}!D6"}


def test_result_rows_show_rates_as_percentages_and_read_top_aligned(forms: Path) -> None:
    rate = Finding("B01", Severity.ERROR, BASIC, "B4", "控制率", "控制率应为 100.00%，填写的是 97.22%",
                   1.0, 0.9722, quantity="rate", fix="重新计算控制率")  # fmt: skip
    annotated = annotate(forms, result_for(forms, [rate]))
    sheet = load(annotated.path)[RESULT_SHEET]
    (row,) = list(table_rows(sheet))
    values = [c.value for c in row[:7]]
    assert values == ["错误", "B01", f"{BASIC}!B4", rate.message, "100.00%", "97.22%", "重新计算控制率"]
    assert "应为 100.00%，实际 97.22%" in comments(annotated.path)[f"{BASIC}!B4"]
    cells = [c for r in sheet.iter_rows(min_row=2) for c in r[:7] if c.value is not None]
    assert {c.alignment.vertical for c in cells} == {"top"}
    assert {c.font.name for c in cells} == {"宋体"}
    setup = sheet.page_setup
    assert (setup.orientation, setup.fitToWidth, setup.fitToHeight) == ("landscape", 1, 0)


def test_rows_are_tall_enough_for_their_wrapped_text(forms: Path) -> None:
    long = Finding("S10", Severity.WARNING, SELF_EVAL, "C8", "产出指标", "很长的说明。" * 40, fix="处理办法。" * 20)
    annotated = annotate(forms, result_for(forms, [long]))
    sheet = load(annotated.path)[RESULT_SHEET]
    (row,) = list(table_rows(sheet))
    # 240 CJK characters in a 56-wide column: at least 9 lines of 16 pt.
    assert sheet.row_dimensions[row[0].row].height >= 9 * 16


def test_comment_is_sized_to_its_text(copy: AnnotatedCopy) -> None:
    with zipfile.ZipFile(copy.path) as archive:
        vml = "".join(archive.read(n).decode() for n in archive.namelist() if n.endswith(".vml"))
    sizes = [(int(w), int(h)) for w, h in re.findall(r"width:(\d+)px;\s*height:(\d+)px", vml)]
    assert sizes and all(w >= 188 and h >= 32 for w, h in sizes)
    assert any(w > 300 for w, _ in sizes)  # a long Chinese line gets a wide box


def test_existing_user_comment_is_kept_and_ours_appended(copy: AnnotatedCopy) -> None:
    text = comments(copy.path)[f"{BASIC}!D6"]
    assert text.startswith("请核对项目B\n\n" + COMMENT_MARK + "\nB08 ")
    assert load(copy.path)[BASIC]["D6"].comment.author == "张三"


def test_finding_inside_merged_range_is_shown_at_its_top_left(copy: AnnotatedCopy) -> None:
    wb = load(copy.path)
    text = wb[BASIC]["B7"].comment.text
    assert text.startswith("F02 填报日期：合并单元格中的问题")
    assert "C7" in text and "B7" in text
    assert wb[BASIC]["B7"].fill.fgColor.rgb == AMBER
    assert "B7:D7" in [str(r) for r in wb[BASIC].merged_cells.ranges]


def test_result_sheet_is_first_active_and_the_only_selected(copy: AnnotatedCopy) -> None:
    wb = load(copy.path)
    assert wb.sheetnames[0] == RESULT_SHEET
    assert wb.active.title == RESULT_SHEET
    assert [ws.title for ws in wb.worksheets if ws.sheet_view.tabSelected] == [RESULT_SHEET]
    result = wb[RESULT_SHEET]
    assert is_result_sheet(result.title, result["A1"].value)
    # One label and one value per row: a number never sits beside the next label.
    header = [row[:2] for row in result.iter_rows(min_row=2, max_row=9, values_only=True)]
    assert header.pop(3) == ("表单", "基础数据表（基础数据表）、部门整体支出绩效自评表（自评表）")
    assert header == [
        ("文件", "自评表.xlsx"),
        ("单位", FORMULA_LIKE_UNIT),
        ("年度", "2023"),
        ("结论", "需修改"),
        ("问题", "错误 4 项，警告 3 项，提示 1 项"),
        ("得分", "单位自评 96，复核 92.5，等级 优"),
        ("级别说明", header[6][1]),
    ]
    assert "提示：供参考" in header[6][1] and "警告：请核实" in header[6][1]
    assert all(row[2:] == (None,) * len(row[2:]) for row in result.iter_rows(min_row=2, max_row=9, values_only=True))
    assert result.freeze_panes is not None and result.auto_filter.ref


def test_result_rows_errors_first_then_sheet_row_column(copy: AnnotatedCopy) -> None:
    result = load(copy.path)[RESULT_SHEET]
    rows = [(row[0].value, row[2].value) for row in table_rows(result)]
    assert rows == [
        ("错误", "—"),
        ("错误", f"{BASIC}!B4"),
        ("错误", f"{SELF_EVAL}!B2"),
        ("错误", f"{SELF_EVAL}!C5"),
        ("警告", f"{BASIC}!B4"),
        ("警告", f"{BASIC}!D6"),
        ("警告", f"{BASIC}!C7"),
        ("提示", f"{SELF_EVAL}!C8"),
    ]


def assert_links_resolve(path: Path) -> int:
    """Every position in the 校验结果 table links to that very cell; returns the number of links."""
    wb = load(path)
    linked = 0
    for row in table_rows(wb[RESULT_SHEET]):
        link = row[2].hyperlink
        if row[2].value is None or "!" not in str(row[2].value):
            assert link is None  # a workbook-level finding ("—"), or one placed on a whole sheet
            continue
        location = link.location.removeprefix("#")
        match = re.fullmatch(r"'((?:[^']|'')+)'!([A-Z]{1,3}[0-9]+)", location)
        assert match, location
        sheet, cell = match.group(1).replace("''", "'"), match.group(2)
        assert sheet in wb.sheetnames
        assert wb[sheet][cell].coordinate == cell
        assert row[2].value == f"{sheet}!{cell}"
        assert link.target is None  # in-workbook link: no external relationship
        linked += 1
    return linked


def test_hyperlinks_resolve_to_the_finding_cell(copy: AnnotatedCopy) -> None:
    assert assert_links_resolve(copy.path) == 7


def test_link_location_quotes_sheet_names() -> None:
    from perf_eval.model import CellRef

    assert link_location(CellRef("O'Neil 表", 14, 2)) == "'O''Neil 表'!B14"


def test_formula_looking_text_stays_text(copy: AnnotatedCopy) -> None:
    with zipfile.ZipFile(copy.path) as archive:
        wb_xml = archive.read("xl/workbook.xml").decode()
        first = re.search(r'<sheet [^>]*name="校验结果"[^>]*r:id="(\w+)"', wb_xml)
        assert first
        rels = archive.read("xl/_rels/workbook.xml.rels").decode()
        target = re.search(
            rf'Id="{first.group(1)}"[^>]*Target="([^"]+)"|Target="([^"]+)"[^>]*Id="{first.group(1)}"', rels
        )
        assert target
        sheet_xml = archive.read("xl/" + (target.group(1) or target.group(2))).decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    result = load(copy.path)[RESULT_SHEET]
    unit = result["B3"]
    assert (unit.value, unit.data_type, unit.quotePrefix) == (FORMULA_LIKE_UNIT, "s", True)
    texts = [cell for row in result.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert all(cell.data_type == "s" for cell in texts)


def test_charts_are_kept_and_uncached_formulas_named(forms: Path) -> None:
    wb = load_workbook(forms)
    chart = BarChart()
    chart.add_data(Reference(wb[BASIC], min_col=2, min_row=4, max_row=6))
    wb[BASIC].add_chart(chart, "F3")
    wb.save(forms)
    annotated = annotate(forms, result_for(forms), drawings=(BASIC,))
    # The copy is the source's own package: the chart and its drawing are carried over byte for byte.
    before, after = _zip_parts(forms), _zip_parts(annotated.path)
    drawn = [name for name in before if name.startswith(("xl/charts/", "xl/drawings/drawing"))]
    assert drawn and all(after[name] == before[name] for name in drawn)
    assert not any("图片/图表/形状" in note for note in annotated.notes)
    assert "原文件中有 2 个公式单元格没有计算结果，副本中同样没有；在 Excel/WPS 中打开时会重新计算" in annotated.notes
    notes_cell = next(row[1] for row in load(annotated.path)[RESULT_SHEET].iter_rows() if row[0].value == "说明")
    assert all(note in notes_cell.value for note in annotated.notes)


def test_a_copy_rewritten_with_openpyxl_names_what_it_could_not_keep(forms: Path, copy: AnnotatedCopy) -> None:
    """Annotating an earlier copy goes through openpyxl (to remove its marks): what that drops is said."""
    annotated = annotate(copy.path, result_for(copy.path), drawings=(BASIC,))
    assert f"工作表 {BASIC} 中的图片/图表/形状未能完整保留在批注副本中，请以原文件为准" in annotated.notes
    assert "原文件中有 2 个公式单元格没有计算结果，副本中同样没有；在 Excel/WPS 中打开时会重新计算" in annotated.notes


def test_cached_formula_results_are_kept(forms: Path) -> None:
    from python_calamine import CalamineWorkbook

    wb = load_workbook(forms)
    wb[SELF_EVAL]["E9"] = '="合计"&"<万元>"'
    wb[SELF_EVAL]["F9"] = "=D9>5"
    wb.save(forms)
    parts = _zip_parts(forms)
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(
        b"<f>SUM(C5:C6)</f><v />", b"<f>SUM(C5:C6)</f><v>300</v>"
    )
    sheet = parts["xl/worksheets/sheet2.xml"]
    sheet = sheet.replace(b"<f>SUM(D8:D8)</f><v />", b"<f>SUM(D8:D8)</f><v>10</v>")
    sheet = sheet.replace(b'<c r="E9"><f>', b'<c r="E9" t="str"><f>').replace(
        b"</f><v />", "</f><v>合计&lt;万元&gt;</v>".encode(), 1
    )
    sheet = sheet.replace(b'<c r="F9"><f>', b'<c r="F9" t="b"><f>').replace(b"</f><v />", b"</f><v>1</v>", 1)
    parts["xl/worksheets/sheet2.xml"] = sheet
    _write_zip(forms, parts)
    annotated = annotate(forms, result_for(forms))
    assert not any("公式" in note for note in annotated.notes)
    book = CalamineWorkbook.from_path(str(annotated.path))
    assert book.get_sheet_by_name(BASIC).to_python()[3][2] == 300
    self_eval = book.get_sheet_by_name(SELF_EVAL).to_python()
    assert self_eval[8][3:6] == [10, "合计<万元>", True]
    formulas = load(annotated.path)[SELF_EVAL]
    assert [formulas["D9"].value, formulas["E9"].value] == ["=SUM(D8:D8)", '="合计"&"<万元>"']


_X14_VALIDATIONS = (
    b'<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}"'
    b' xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
    b'<x14:dataValidations count="0"/></ext></extLst></worksheet>'
)


def test_extensions_are_kept(forms: Path) -> None:
    parts = _zip_parts(forms)
    sheet = "xl/worksheets/sheet2.xml"
    parts[sheet] = parts[sheet].replace(b"</worksheet>", _X14_VALIDATIONS)
    _write_zip(forms, parts)
    annotated = annotate(forms, result_for(forms))
    assert not annotated.notes[1:]
    assert b"x14:dataValidations" in _zip_parts(annotated.path)[sheet]


def test_a_styles_part_without_fills_colours_only_the_marked_cells(forms: Path) -> None:
    parts = _zip_parts(forms)
    styles = re.sub(rb"<fills[^>]*>.*?</fills>", b"", parts["xl/styles.xml"], flags=re.S)
    parts["xl/styles.xml"] = re.sub(rb'fillId="\d+"', b'fillId="0"', styles)
    _write_zip(forms, parts)
    wb = load(annotate(forms, result_for(forms)).path)
    assert wb[BASIC]["B4"].fill.fgColor.rgb == RED and wb[BASIC]["D6"].fill.fgColor.rgb == AMBER
    assert wb[BASIC]["A3"].fill.fill_type is None and wb[BASIC]["C4"].fill.fill_type is None
    assert wb[RESULT_SHEET]["A1"].fill.fill_type is None


def test_a_sheet_named_like_ours_in_passing_keeps_the_package(forms: Path) -> None:
    """Only a sheet named 校验结果 (or 校验结果(n)) may be an earlier copy's: 数据校验结果汇总 is the unit's own."""
    wb = load_workbook(forms)
    wb[SELF_EVAL].title = "数据校验结果汇总"
    chart = BarChart()
    chart.add_data(Reference(wb[BASIC], min_col=2, min_row=4, max_row=6))
    wb["数据校验结果汇总"].add_chart(chart, "F3")
    wb.save(forms)
    result = result_for(forms, [findings()[0]])
    annotated = annotate(forms, result, drawings=("数据校验结果汇总",))
    before, after = _zip_parts(forms), _zip_parts(annotated.path)
    assert after["xl/charts/chart1.xml"] == before["xl/charts/chart1.xml"]
    assert not any("图片/图表/形状" in note for note in annotated.notes)


def test_a_selected_chartsheet_is_unselected(forms: Path) -> None:
    wb = load_workbook(forms)
    chart = BarChart()
    chart.add_data(Reference(wb[BASIC], min_col=2, min_row=4, max_row=6))
    wb.create_chartsheet("图表页").add_chart(chart)
    wb.save(forms)
    parts = _zip_parts(forms)
    [part] = [name for name in parts if name.startswith("xl/chartsheets/sheet")]
    parts[part] = re.sub(rb"<sheetView\b", b'<sheetView tabSelected="1"', parts[part], count=1)
    assert b'tabSelected="1"' in parts[part]
    _write_zip(forms, parts)
    copied = _zip_parts(annotate(forms, result_for(forms)).path)
    assert b"tabSelected" not in copied[part]
    assert [ws.title for ws in load_workbook(BytesIO(_zip_bytes(copied))).worksheets if ws.sheet_view.tabSelected] == [
        RESULT_SHEET
    ]


def test_threaded_comments_the_copy_cannot_keep_are_named(forms: Path) -> None:
    parts = _zip_parts(forms)
    rels = "xl/worksheets/_rels/sheet1.xml.rels"
    parts[rels] = parts[rels].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdT1" Type="http://schemas.microsoft.com/office/2017/10/relationships/threadedComment"'
        b' Target="../threadedComments/threadedComment1.xml"/></Relationships>',
    )
    parts["xl/threadedComments/threadedComment1.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8"?><ThreadedComments'
        b' xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"/>'
    )
    _write_zip(forms, parts)
    annotated = annotate(forms, result_for(forms))
    assert "新版批注（可回复的批注）未能保留在批注副本中，请以原文件为准" in annotated.notes
    assert comments(annotated.path)[f"{BASIC}!B4"].startswith("B05 ")


def _zip_bytes(parts: dict[str, bytes]) -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_what_openpyxl_drops_on_load_becomes_a_note(forms: Path, copy: AnnotatedCopy) -> None:
    parts = _zip_parts(copy.path)
    sheet = next(name for name in parts if name.startswith("xl/worksheets/") and b"SUM(D8:D8)" in parts[name])
    parts[sheet] = parts[sheet].replace(b"</worksheet>", _X14_VALIDATIONS)
    _write_zip(copy.path, parts)
    annotated = annotate(copy.path, result_for(copy.path))
    assert "部分数据验证（扩展格式）未能保留在批注副本中" in annotated.notes


def test_findings_on_hidden_or_missing_sheets_are_explained(forms: Path) -> None:
    hidden = Finding("F03", Severity.ERROR, "隐藏", "A1", "", "不是数字")
    missing = Finding("F03", Severity.ERROR, "不存在", "A1", "", "不是数字")
    annotated = annotate(forms, result_for(forms, [hidden, missing]))
    assert any("工作表 隐藏 是隐藏的" in note for note in annotated.notes)
    assert any("工作表 不存在" in note for note in annotated.notes)
    rows = list(table_rows(load(annotated.path)[RESULT_SHEET]))
    assert [(row[2].value, row[2].hyperlink is not None) for row in rows] == [("隐藏!A1", True), ("不存在!A1", False)]
    assert comments(annotated.path)["隐藏!A1"].startswith("F03 ")


def _zip_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write_zip(path: Path, parts: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_clean_file_says_no_problem_found(forms: Path) -> None:
    annotated = annotate(forms, result_for(forms, []))
    wb = load(annotated.path)
    assert [tuple(c.value for c in row if c.value) for row in table_rows(wb[RESULT_SHEET])] == [("未发现问题",)]
    header = {row[0]: row[1] for row in wb[RESULT_SHEET].iter_rows(min_row=2, max_row=8, values_only=True)}
    assert header["结论"] == "通过"
    assert comments(annotated.path) == {f"{BASIC}!D6": "请核对项目B"}


# --- the original stays untouched, and so does everything else -----------------------------


def test_source_bytes_and_mtime_unchanged(forms: Path) -> None:
    before = (forms.read_bytes(), forms.stat().st_mtime_ns)
    annotate(forms, result_for(forms))
    annotate(forms, result_for(forms))
    assert (forms.read_bytes(), forms.stat().st_mtime_ns) == before
    assert sorted(p.name for p in forms.parent.iterdir()) == ["自评表.xlsx", "自评表.校验.xlsx"]


def _snapshot(wb: Any, skip_fill: set[str]) -> dict[str, Any]:
    sheets = {}
    for ws in wb.worksheets:
        if ws.title == RESULT_SHEET:
            continue
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                key = f"{ws.title}!{c.coordinate}"
                fill = None if key in skip_fill else repr(c.fill)
                cells[c.coordinate] = (c.value, c.data_type, c.number_format, repr(c.font), repr(c.border),
                                       repr(c.alignment), repr(c.protection), fill)  # fmt: skip
        setup, margins = ws.page_setup, ws.page_margins
        sheets[ws.title] = {
            "cells": cells,
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
            "widths": {k: (d.width, d.hidden) for k, d in ws.column_dimensions.items()},
            "heights": {k: (d.height, d.hidden) for k, d in ws.row_dimensions.items() if d.height or d.hidden},
            "validations": [(str(v.sqref), v.type, v.operator, v.formula1) for v in ws.data_validations.dataValidation],
            "conditional": [(str(r.sqref), [repr(x.formula) for x in r.rules]) for r in ws.conditional_formatting],
            "state": ws.sheet_state,
            "freeze": ws.freeze_panes,
            "print": (setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight,
                      ws.sheet_properties.pageSetUpPr.fitToPage if ws.sheet_properties.pageSetUpPr else None,
                      margins.left, margins.top, ws.print_area, ws.print_title_rows, ws.oddHeader.center.text),
            "names": {k: v.attr_text for k, v in ws.defined_names.items()},
        }  # fmt: skip
    return {"sheets": sheets, "names": {k: v.attr_text for k, v in wb.defined_names.items()}}


def test_everything_else_is_preserved(forms: Path, copy: AnnotatedCopy) -> None:
    marked = {f"{BASIC}!B4", f"{BASIC}!D6", f"{BASIC}!B7", f"{SELF_EVAL}!C5", f"{SELF_EVAL}!B2"}
    before = _snapshot(load(forms), marked)
    after = _snapshot(load(copy.path), marked)
    assert after == before
    wb = load(copy.path)
    assert [ws.title for ws in wb.worksheets][1:] == [BASIC, SELF_EVAL, "隐藏", "配置"]
    assert wb[BASIC]["C4"].value == "=SUM(C5:C6)"
    assert wb["配置"].sheet_state == "veryHidden"


def test_macro_workbook_keeps_its_macros_and_extension(forms: Path) -> None:
    source = forms.with_name("宏.xlsm")
    vba = b"\xd0\xcf\x11\xe0fake vba project" * 40
    _make_xlsm(forms, source, vba)
    annotated = annotate(source, result_for(source))
    assert annotated.path.name == "宏.校验.xlsm"
    with zipfile.ZipFile(annotated.path) as archive:
        assert archive.read("xl/vbaProject.bin") == vba
        assert "macroEnabled.main+xml" in archive.read("[Content_Types].xml").decode()
        assert "vbaProject" in archive.read("xl/_rels/workbook.xml.rels").decode()
    assert comments(annotated.path)[f"{BASIC}!B4"].startswith("B05 ")


def _make_xlsm(xlsx: Path, target: Path, vba: bytes) -> None:
    """An .xlsm by hand: the .xlsx parts plus a vbaProject part, its type and relationship."""
    with zipfile.ZipFile(xlsx) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                ).replace(
                    b"</Types>",
                    b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>',
                )
            if item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject"'
                    b' Target="vbaProject.bin"/></Relationships>',
                )
            dst.writestr(item, data)
        dst.writestr("xl/vbaProject.bin", vba)


def test_xls_input_gives_an_xlsx_copy_with_values_merges_and_layout(tmp_path: Path) -> None:
    source = tmp_path / "旧格式.xls"
    shutil.copyfile(FIXTURES / "annotate_source.xls", source)
    result = result_for(source, [findings()[0], findings()[3]])
    annotated = annotate(source, result)
    assert annotated.path.name == "旧格式.校验.xlsx"
    assert any(".xls" in note for note in annotated.notes)
    wb = load(annotated.path)
    ws = wb[BASIC]
    assert ws["A1"].value == "部门整体支出绩效评价基础数据表"
    assert [ws["A4"].value, ws["B4"].value, ws["C4"].value, ws["D4"].value] == ["项目支出", 324.12, 300, 280.5]
    assert ws["B7"].value == datetime(2024, 3, 15)
    assert sorted(str(r) for r in ws.merged_cells.ranges) == ["A1:D1", "B7:D7"]
    assert ws.column_dimensions["A"].width == pytest.approx(24, abs=0.5)
    assert ws.column_dimensions["B"].width == pytest.approx(16, abs=0.5)
    assert ws.row_dimensions[1].height == 30
    assert ws["A1"].font.b and ws["A1"].font.sz == 16
    assert ws["A3"].border.left.style == "thin"
    assert wb["备注"].sheet_state == "hidden"
    assert ws["B4"].comment.text.startswith("B05 ") and ws["B4"].fill.fgColor.rgb == RED
    assert ws["B7"].comment.text.startswith("F02 ")


# --- names, overwriting, atomic writes -----------------------------------------------------


def test_copy_name_never_equals_the_source() -> None:
    assert copy_name(Path("自评表.xlsx"), ".xlsx") == "自评表.校验.xlsx"
    assert copy_name(Path("自评表.xls"), ".xlsx") == "自评表.校验.xlsx"
    assert copy_name(Path("自评表.校验.xlsx"), ".xlsx") == "自评表.校验.xlsx"  # skipped: it is the source
    assert copy_name(Path("自评表.校验(2).xlsx"), ".xlsx", 3) == "自评表.校验(3).xlsx"


def test_annotating_a_copy_writes_a_new_file(copy: AnnotatedCopy) -> None:
    again = annotate(copy.path, result_for(copy.path))
    assert again.path.name == "自评表.校验(2).xlsx"
    assert again.path != copy.path


def test_rerun_replaces_our_own_copy(forms: Path, copy: AnnotatedCopy) -> None:
    again = annotate(forms, result_for(forms, findings()[:1]))
    assert again.path == copy.path
    assert set(comments(again.path)) == {f"{BASIC}!B4", f"{BASIC}!D6"}


def test_rerun_never_overwrites_a_copy_someone_edited(forms: Path, copy: AnnotatedCopy) -> None:
    edited = load_workbook(copy.path)
    edited[BASIC]["A9"] = "我看过了"
    edited.save(copy.path)
    kept = copy.path.read_bytes()
    again = annotate(forms, result_for(forms, findings()[:1]))
    assert again.path.name == "自评表.校验(2).xlsx"
    assert copy.path.read_bytes() == kept
    note = "已有的批注副本“自评表.校验.xlsx”在生成后被改动过，未覆盖；本次的批注副本另存为“自评表.校验(2).xlsx”"
    assert note in again.notes
    header = {row[0]: row[1] for row in load(again.path)[RESULT_SHEET].iter_rows(max_row=10, values_only=True)}
    assert note in header["说明"]
    # The new copy is ours and unedited: the next run replaces it, and still leaves the edited one alone.
    third = annotate(forms, result_for(forms, findings()[:2]))
    assert third.path == again.path and copy.path.read_bytes() == kept


def test_a_copy_merely_resaved_by_another_program_counts_as_edited(forms: Path, copy: AnnotatedCopy) -> None:
    parts = _zip_parts(copy.path)
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(b"</worksheet>", b" </worksheet>")
    _write_zip(copy.path, parts)
    assert annotate(forms, result_for(forms)).path.name == "自评表.校验(2).xlsx"


def test_never_overwrites_a_file_we_did_not_create(forms: Path) -> None:
    foreign = forms.with_name("自评表.校验.xlsx")
    foreign.write_bytes(b"somebody's file")
    annotated = annotate(forms, result_for(forms))
    assert annotated.path.name == "自评表.校验(2).xlsx"
    assert foreign.read_bytes() == b"somebody's file"


def test_same_name_from_another_folder_does_not_overwrite(tmp_path: Path, forms: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    twin = build_forms(other / forms.name)
    out = tmp_path / "out" / "new"
    first = annotate(forms, result_for(forms), out_dir=out)
    second = annotate(twin, result_for(twin), out_dir=out)
    assert (first.path.name, second.path.name) == ("自评表.校验.xlsx", "自评表.校验(2).xlsx")
    assert annotate(twin, result_for(twin), out_dir=out).path == second.path


def test_changed_source_is_not_annotated(forms: Path) -> None:
    result = result_for(forms)
    result.sha256 = "0" * 64
    with pytest.raises(OutputError, match="被修改"):
        annotate(forms, result)


def test_failed_save_leaves_no_partial_file(forms: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_bytes = Path.write_bytes

    def disk_full(self: Path, data: bytes) -> int:
        write_bytes(self, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    with pytest.raises(OutputError, match="磁盘空间不足"):
        annotate(forms, result_for(forms))
    assert sorted(p.name for p in forms.parent.iterdir()) == ["自评表.xlsx"]


@pytest.mark.parametrize("where", ["package", "openpyxl"])
def test_failed_save_of_any_kind_is_an_output_error(forms: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    from perf_eval.outputs.annotate.package import Package

    def broken_save(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    if where == "package":
        monkeypatch.setattr(Package, "to_bytes", broken_save)
        source = forms
    else:  # an .xls is rebuilt and saved by openpyxl first
        source = forms.with_name("旧格式.xls")
        shutil.copyfile(FIXTURES / "annotate_source.xls", source)
        monkeypatch.setattr(Workbook, "save", broken_save)
    with pytest.raises(OutputError, match="无法生成批注副本") as raised:
        annotate(source, result_for(source, findings()[:1]))
    assert isinstance(raised.value.__cause__, RuntimeError)
    assert not [p.name for p in forms.parent.iterdir() if ".校验" in p.name]


def test_atomic_write_replaces_and_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    atomic_write_text(target, '{"a": 1}')
    atomic_write_bytes(target, b"{}")
    assert target.read_bytes() == b"{}"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_atomic_write_refuses_a_target_that_is_not_ours(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    target.write_text("theirs")
    with pytest.raises(OutputError, match="不会覆盖"):
        atomic_write_text(target, "ours", may_replace=lambda path: False)
    assert target.read_text() == "theirs"


def test_atomic_write_reports_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="目标文件夹不存在"):
        atomic_write_text(tmp_path / "missing" / "a.json", "{}")


def test_atomic_write_propagates_other_errors_and_removes_the_temp(tmp_path: Path) -> None:
    def write(temp: Path) -> None:
        assert temp.parent == tmp_path and temp.name.startswith(TEMP_PREFIX)
        temp.write_text("partial")
        raise ValueError("bad data")

    with pytest.raises(ValueError, match="bad data"):
        atomic_write(tmp_path / "a.json", write)
    assert list(tmp_path.iterdir()) == []


# --- annotating an annotated copy ----------------------------------------------------------


def test_annotating_a_copy_again_does_not_double_anything(copy: AnnotatedCopy) -> None:
    again = annotate(copy.path, result_for(copy.path))
    first, second = read_back(copy.path), read_back(again.path)
    assert second["cells"] == first["cells"]
    assert second["sheets"] == first["sheets"]
    assert second["result"][3:] == first["result"][3:]  # all but the file name


def test_annotating_a_fixed_copy_restores_fills_and_comments(forms: Path, copy: AnnotatedCopy) -> None:
    again = annotate(copy.path, result_for(copy.path, []))
    wb = load(again.path)
    assert wb[BASIC]["B4"].fill.fgColor.rgb == USER_BLUE
    assert wb[BASIC]["D6"].fill.fill_type is None
    assert comments(again.path) == {f"{BASIC}!D6": "请核对项目B"}
    assert wb.sheetnames.count(RESULT_SHEET) == 1
    assert _snapshot(wb, set()) == _snapshot(load(forms), set())


def test_a_users_own_sheet_named_like_ours_is_kept(forms: Path) -> None:
    wb = load_workbook(forms)
    wb.create_sheet(RESULT_SHEET)["A1"] = "我的校验记录"
    wb.save(forms)
    annotated = annotate(forms, result_for(forms))
    names = load(annotated.path).sheetnames
    assert names[0] == f"{RESULT_SHEET}(2)" and RESULT_SHEET in names
    assert load(annotated.path)[RESULT_SHEET]["A1"].value == "我的校验记录"
    assert load(annotated.path)[names[0]]["A1"].value == RESULT_TITLE


# --- the sample workbooks, checked by the real checker -------------------------------------


@dataclass(frozen=True)
class SampleCopy:
    source: Path
    copy: AnnotatedCopy
    result: FileResult
    before: tuple[bytes, int]


@pytest.fixture(scope="session")
def sample_copies(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, SampleCopy]:
    from perf_eval.checker import check_files

    out = tmp_path_factory.mktemp("sample_copies")
    before = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in SAMPLES}
    copies = {}
    for path, checked in zip(SAMPLES, check_files(SAMPLES), strict=True):
        drawings = checked.workbook.drawings if checked.workbook else ()
        annotated = annotate(path, checked.result, out_dir=out / path.parent.name, drawings=drawings)
        copies[path] = SampleCopy(path, annotated, checked.result, before[path])
    return copies


def _sample_id(path: Path) -> str:
    return path.relative_to(SAMPLE_ROOT).as_posix()


@pytest.mark.parametrize("sample", SAMPLES, ids=_sample_id)
def test_sample_copy(sample: Path, sample_copies: dict[Path, SampleCopy]) -> None:
    made = sample_copies[sample]
    back = read_back(made.copy.path, table=False)
    assert_golden("samples/" + _sample_id(sample).removesuffix(".xlsx").replace("/", "__"), back)
    assert (sample.read_bytes(), sample.stat().st_mtime_ns) == made.before
    marked = {ref for ref, cell in back["cells"].items() if cell["fill"]}
    assert _snapshot(load(made.copy.path), marked) == _snapshot(load(sample), marked)
    located = [f for f in made.result.deviations if f.cell is not None]
    assert assert_links_resolve(made.copy.path) == len(located)
    assert back["active"] == RESULT_SHEET


# --- a real spreadsheet program ------------------------------------------------------------


@pytest.fixture(scope="session")
def soffice() -> str:
    path = shutil.which("soffice")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice (soffice) is required in CI")
        pytest.skip("LibreOffice (soffice) is not installed")
    return path


def _convert(soffice: str, profile: Path, fmt: str, files: list[Path], out: Path) -> None:
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
         "--convert-to", fmt, "--outdir", str(out), *map(str, files)],
        check=True, timeout=120, capture_output=True,
    )  # fmt: skip


def test_libreoffice_opens_prints_and_resaves_every_copy(
    soffice: str, tmp_path: Path, forms: Path, sample_copies: dict[Path, SampleCopy]
) -> None:
    xlsm = forms.with_name("宏.xlsm")
    _make_xlsm(forms, xlsm, b"fake vba" * 10)
    xls = forms.with_name("旧格式.xls")
    shutil.copyfile(FIXTURES / "annotate_source.xls", xls)
    ours = [annotate(p, result_for(p, findings()[:4])).path for p in (forms, xlsm, xls)]
    # The top-level samples only: broken/ holds one-cell variants of the seed, whose copies have
    # the same structure, and LibreOffice needs about 3 s per copy for the PDF (all 42: 160 s).
    copies = ours + [made.copy.path for path, made in sample_copies.items() if path.parent == SAMPLE_ROOT]
    assert len({c.stem for c in copies}) == len(copies)  # one output folder for all conversions
    profile, pdfs, resaved = tmp_path / "profile", tmp_path / "pdf", tmp_path / "resaved"
    _convert(soffice, profile, "pdf", copies, pdfs)
    _convert(soffice, profile, "xlsx", copies, resaved)
    for annotated in copies:
        pdf = pdfs / f"{annotated.stem}.pdf"
        assert pdf.read_bytes()[:5] == b"%PDF-", annotated.name
        again = resaved / f"{annotated.stem}.xlsx"
        assert comments(again) == comments(annotated), annotated.name
        assert load(again).sheetnames[0] == RESULT_SHEET
    for annotated in ours:
        # LibreOffice drops comment authors: our comments are still recognised by their mark.
        again = resaved / f"{annotated.stem}.xlsx"
        rechecked = annotate(again, result_for(again, findings()[:4]))
        assert comments(rechecked.path) == comments(annotated), annotated.name
        # The earlier 校验结果 sheet (its title now rich text) is replaced, not kept beside ours.
        results = [name for name in load(rechecked.path).sheetnames if name.startswith(RESULT_SHEET)]
        assert results == [RESULT_SHEET], annotated.name


def _pdf_text(soffice: str, tmp: Path, copy: Path) -> str:
    pdfs = tmp / "pdf"
    _convert(soffice, tmp / "profile", "pdf", [copy], pdfs)
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    out = subprocess.run(
        [pdftotext, "-layout", str(pdfs / f"{copy.stem}.pdf"), "-"], check=True, capture_output=True, timeout=60
    )
    return out.stdout.decode("utf-8")


def test_result_sheet_as_libreoffice_prints_it(soffice: str, tmp_path: Path) -> None:
    """The seed's copy through LibreOffice: the verdict, errors before warnings before info, nothing cut off."""
    from perf_eval.checker import check_files

    source = tmp_path / "seed.xlsx"
    shutil.copyfile(SAMPLE_ROOT / "lusong-2023-seed.xlsx", source)
    (checked,) = check_files([source])
    copy = annotate(source, checked.result, out_dir=tmp_path / "out")
    text = _pdf_text(soffice, tmp_path, copy.path)
    first_page = text.split("\f")[0]
    assert re.search(r"结论\s+需修改", first_page)
    assert re.search(r"问题\s+错误 1 项，警告 8 项，提示 4 项", first_page)
    levels = [m.group(1) for m in re.finditer(r"^\s*(错误|警告|提示)\s+[FBSX]\d\d\s", text, re.MULTILINE)]
    assert levels == ["错误"] + ["警告"] * 8 + ["提示"] * 4
    # The last words of the longest 说明 are printed, not clipped by the row height.
    assert "综合治税信息建设项目 无预算 3.24 万元" in re.sub(r"\s+", " ", text).replace("万 元", "万元")


def test_clean_copy_prints_no_problem_found(soffice: str, tmp_path: Path) -> None:
    from perf_eval.checker import check_files

    source = tmp_path / "clean.xlsx"
    shutil.copyfile(SAMPLE_ROOT / "project-2023-clean.xlsx", source)
    (checked,) = check_files([source])
    assert checked.result.status is FileStatus.CLEAN
    text = _pdf_text(soffice, tmp_path, annotate(source, checked.result, out_dir=tmp_path / "out").path)
    assert "未发现问题" in text and re.search(r"结论\s+通过", text)


@pytest.mark.parametrize(
    "sample", ["lusong-2023-seed.xlsx", "project-2023-province-split.xlsx", "split-2023-self-eval.xlsx"]
)
def test_memoised_merge_borders_save_the_same_workbook(sample: str, tmp_path: Path) -> None:
    """The faster merged-range load must not change a byte of what openpyxl saves (core.xml holds the time)."""
    import io
    import zipfile

    from openpyxl import load_workbook

    from perf_eval.outputs.annotate.rewrite import memoised_merge_borders

    source = SAMPLE_ROOT / sample

    def saved(*, memo: bool) -> dict[str, bytes]:
        if memo:
            with memoised_merge_borders():
                book = load_workbook(source)
        else:
            book = load_workbook(source)
        buffer = io.BytesIO()
        book.save(buffer)
        with zipfile.ZipFile(buffer) as archive:
            return {n: archive.read(n) for n in archive.namelist() if n != "docProps/core.xml"}

    assert saved(memo=True) == saved(memo=False)
