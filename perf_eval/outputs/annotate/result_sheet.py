"""The 校验结果 sheet: a header (file, unit, year, forms, conclusion, counts, score, notes) and the findings table,
with a link to each cell, one CJK font, stored row heights and an A4 landscape print setup.

The sheet is built as a grid of texts and looks (`ResultSheet`), then written as a new worksheet part
put first in the workbook, selected and active (`insert`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from perf_eval.model import RESULT_SHEET, RESULT_TITLE, CellRef, FileResult, FileStatus, Finding, Severity
from perf_eval.outputs.annotate.marks import SEVERITY_FILL, SEVERITY_RANK, described, finding_ref, related_text
from perf_eval.outputs.annotate.package import (
    MAIN,
    REL,
    WORKSHEET_TYPE,
    Package,
    a1,
    column_letters,
    q,
)
from perf_eval.outputs.annotate.styles import Look, Styles
from perf_eval.outputs.annotate.text import FORMULA_LIKE, clean_text, format_value, wrapped_height

_TABLE_HEADER = ("级别", "规则", "位置", "说明", "应为", "实际", "如何处理", "原填充（perf-eval 内部使用）")
_TABLE_WIDTHS = (10, 7, 18, 56, 14, 14, 40, 20)
_WRAPPED = (3, 4, 5, 6, 7)  # columns whose text wraps (position, message, values, what to do)
RECORD_COLUMN = 8
LEGACY_RECORD_COLUMN = 7  # copies written before the 如何处理 column
_HEADER_VALUE_END = 7  # header values span B..G so that they wrap instead of running on
_LINK_COLOR = "FF0563C1"

_LEGEND = "错误：必须改正后再提交；警告：请核实，确有原因的可在自评报告中说明，不影响提交；提示：供参考（如某项核对未能进行），不影响结论。"


@dataclass
class ResultSheet:
    """The 校验结果 sheet before it is written: texts with their looks, merges, links, heights."""

    cells: dict[tuple[int, int], tuple[str, Look]] = field(default_factory=dict)
    heights: dict[int, float] = field(default_factory=dict)
    merges: list[str] = field(default_factory=list)
    links: dict[tuple[int, int], str] = field(default_factory=dict)
    table_top: int = 0
    table_end: int = 0

    @property
    def max_row(self) -> int:
        return max((row for row, _ in self.cells), default=0)

    def put(self, row: int, col: int, text: str, look: Look) -> None:
        """Text from user data stays text: never a formula, even when it starts with = + - @."""
        text = clean_text(text)
        if not text:
            return
        if text.startswith(FORMULA_LIKE):
            look = Look(**{**look.__dict__, "quote_prefix": True})
        self.cells[(row, col)] = (text, look)

    def text(self, row: int, col: int) -> str:
        return self.cells.get((row, col), ("", Look()))[0]


def result_sheet(result: FileResult, source_name: str, notes: list[str]) -> ResultSheet:
    """The header: one label and one value per row (a value never sits beside the next label)."""
    sheet = ResultSheet()
    sheet.put(1, 1, RESULT_TITLE, Look(bold=True, size=14))
    header: list[tuple[str, str]] = [
        ("文件", source_name),
        ("单位", result.unit or "（未识别）"),
        ("年度", str(result.year) if result.year else "（未识别）"),
        # Which layout family and profile judged each form.
        ("表单", "、".join(f.label_zh for f in result.forms) or "（未识别）"),
        ("结论", result.status.label_zh),
        ("问题", f"错误 {result.errors} 项，警告 {result.warnings} 项，提示 {_count(result, Severity.INFO)} 项"),
    ]
    if result.score is not None:
        header.append(("得分", _score_text(result)))
    header.append(("级别说明", _LEGEND))
    if notes:
        header.append(("说明", "\n".join(dict.fromkeys(notes))))
    value_width = sum(_TABLE_WIDTHS[1:_HEADER_VALUE_END])
    for row, (label, value) in enumerate(header, start=2):
        sheet.put(row, 1, label, Look(bold=True))
        color = _STATUS_COLOR.get(result.status) if label == "结论" else None
        sheet.put(row, 2, value, Look(bold=label == "结论", color=color, horizontal="left", wrap=True))
        sheet.merges.append(f"B{row}:{column_letters(_HEADER_VALUE_END)}{row}")
        sheet.heights[row] = wrapped_height(value, value_width)
    return sheet


_STATUS_COLOR = {FileStatus.ERRORS: "FF9C0006", FileStatus.WARNINGS: "FF9C5700", FileStatus.CLEAN: "FF006100"}


def _score_text(result: FileResult) -> str:
    score = result.score
    assert score is not None
    reported = format_value(score.reported) if score.reported is not None else "—"
    recomputed = format_value(score.recomputed) if score.recomputed is not None else "—"
    grade = _grade_text(result)
    return f"单位自评 {reported}，复核 {recomputed}" + (f"，等级 {grade}" if grade else "")


def _grade_text(result: FileResult) -> str | None:
    score = result.score
    if score is None:
        return None
    if score.reported_grade and score.reported_grade != score.grade:
        return f"{score.grade or '—'}（单位填报：{score.reported_grade}）"
    return score.grade


def _count(result: FileResult, severity: Severity) -> int:
    return sum(1 for finding in result.deviations if finding.severity is severity)


def write_table(
    sheet: ResultSheet,
    sheet_names: list[str],
    findings: Sequence[Finding],
    placed: dict[Finding, CellRef],
    fill_records: dict[CellRef, str | None],
) -> None:
    top = sheet.max_row + 2
    for col, name in enumerate(_TABLE_HEADER, start=1):
        sheet.put(top, col, name, Look(bold=True))
    order = {name: index for index, name in enumerate(sheet_names)}
    recorded: set[CellRef] = set()
    row = top
    for row, finding in enumerate(sorted(findings, key=lambda f: _table_order(f, order)), start=top + 1):
        _write_finding(sheet, row, finding, linkable=finding.sheet in order)
        anchor = placed.get(finding)
        if anchor is not None and anchor in fill_records and anchor not in recorded:
            recorded.add(anchor)
            record = {
                "sheet": anchor.sheet,
                "row": anchor.row,
                "col": anchor.col,
                "fill": fill_records[anchor],
            }
            sheet.put(row, RECORD_COLUMN, json.dumps(record, ensure_ascii=False), Look())
    if not findings:
        row = top + 1
        sheet.put(row, 1, "未发现问题", Look(bold=True, color="FF006100"))
        sheet.merges.append(f"A{row}:{column_letters(len(_TABLE_HEADER) - 1)}{row}")
    sheet.table_top, sheet.table_end = top, row


def write_report_rows(sheet: ResultSheet, report: FileResult) -> None:
    """The findings of a written report checked against these forms, below the table (not counted above)."""
    top = sheet.max_row + 2
    title = f"绩效自评报告 {Path(report.path).name}：错误 {report.errors} 项，警告 {report.warnings} 项"
    sheet.put(top, 1, title, Look(bold=True))
    for row, finding in enumerate(report.deviations, start=top + 1):
        _write_finding(sheet, row, finding, linkable=False)
        if finding.place is not None:
            _, look = sheet.cells[(row, 3)]
            sheet.put(row, 3, f"报告{finding.place.text}", look)


def _table_order(finding: Finding, sheet_order: dict[str, int]) -> tuple[int, int, int, int, str]:
    """Errors, warnings, info; then the workbook's sheet order, row, column."""
    ref = finding_ref(finding)
    rank = SEVERITY_RANK[finding.severity]
    if ref is None:
        return (rank, -1, 0, 0, finding.rule)
    return (rank, sheet_order.get(ref.sheet, len(sheet_order)), ref.row, ref.col, finding.rule)


def _write_finding(sheet: ResultSheet, row: int, finding: Finding, *, linkable: bool) -> None:
    related = related_text(finding)
    message = described(finding)
    texts = {
        1: finding.severity.label_zh,
        2: finding.rule,
        3: _position(finding),
        4: f"{message}（对照：{related}）" if related else message,
        5: finding.expected_shown if finding.expected is not None else "",
        6: finding.actual_shown if finding.expected is not None else "",
        7: finding.fix,
    }
    ref = finding_ref(finding)
    for col, text in texts.items():
        # One vertical alignment for the whole row, so each 说明 stays level with its own 级别.
        look = Look(bold=col == 1, wrap=col in _WRAPPED)
        if col == 1 and finding.severity in SEVERITY_FILL:
            look = Look(bold=True, fill=SEVERITY_FILL[finding.severity])
        if col == 3 and linkable and ref is not None:
            look = Look(color=_LINK_COLOR, underline=True, wrap=True)
            sheet.links[(row, col)] = link_location(ref)
        sheet.put(row, col, text, look)
    # Spreadsheet programs keep a stored row height; without one LibreOffice's PDF overlaps wrapped rows.
    sheet.heights[row] = max(wrapped_height(texts[col], _TABLE_WIDTHS[col - 1]) for col in _WRAPPED)


def _position(finding: Finding) -> str:
    ref = finding_ref(finding)
    return (finding.sheet or "—") if ref is None else str(ref)


# --- the worksheet part --------------------------------------------------------------------


def free_title(package: Package) -> str:
    """校验结果, or 校验结果(2) ... when the workbook has a sheet of that name (a user's own is kept)."""
    names = {entry.name for entry in package.sheets}
    title, number = RESULT_SHEET, 1
    while title in names:
        number += 1
        title = f"{RESULT_SHEET}({number})"
    return title


def insert(package: Package, styles: Styles, sheet: ResultSheet, title: str) -> None:
    """Write `sheet` as the workbook's first sheet, the selected and active one."""
    part = package.free_name("xl/worksheets/sheet{}.xml")
    package.put(part, _worksheet(sheet, styles))
    package.override(part, WORKSHEET_TYPE)
    rid = package.relate(package.workbook_part, "worksheet", part)
    workbook = package.workbook
    sheets = workbook.find(q("sheets"))
    assert sheets is not None
    ids = [int(e.get("sheetId") or 0) for e in sheets.findall(q("sheet"))]
    element = etree.Element(q("sheet"), name=title, sheetId=str(max(ids, default=0) + 1))
    element.set(q("id", REL), rid)
    sheets.insert(0, element)
    _shift_local_names(workbook)
    _views_first(workbook, sheets)
    quoted = "'" + title.replace("'", "''") + "'"
    names = _defined_names(workbook)
    last = column_letters(len(_TABLE_HEADER) - 1)
    top, end = sheet.table_top, sheet.table_end
    for name, text, hidden in (
        ("_xlnm._FilterDatabase", f"{quoted}!$A${top}:${last}${end}", True),
        ("_xlnm.Print_Titles", f"{quoted}!${top}:${top}", False),
    ):
        defined = etree.SubElement(names, q("definedName"), name=name, localSheetId="0")
        if hidden:
            defined.set("hidden", "1")
        defined.text = text
    package.touch(package.workbook_part)


def _worksheet(sheet: ResultSheet, styles: Styles) -> etree._Element:
    top, end = sheet.table_top, sheet.table_end
    root = etree.Element(q("worksheet"), nsmap={None: MAIN, "r": REL})
    properties = etree.SubElement(root, q("sheetPr"))
    etree.SubElement(properties, q("pageSetUpPr"), fitToPage="1")
    etree.SubElement(root, q("dimension"), ref=f"A1:{column_letters(len(_TABLE_HEADER))}{max(sheet.max_row, 1)}")
    views = etree.SubElement(root, q("sheetViews"))
    view = etree.SubElement(views, q("sheetView"), tabSelected="1", workbookViewId="0")
    first = f"A{top + 1}"
    etree.SubElement(view, q("pane"), ySplit=str(top), topLeftCell=first, activePane="bottomLeft", state="frozen")
    etree.SubElement(view, q("selection"), pane="bottomLeft", activeCell=first, sqref=first)
    etree.SubElement(root, q("sheetFormatPr"), defaultRowHeight="15")
    cols = etree.SubElement(root, q("cols"))
    for col, width in enumerate(_TABLE_WIDTHS, start=1):
        column = etree.SubElement(cols, q("col"), min=str(col), max=str(col), width=str(width), customWidth="1")
        if col == RECORD_COLUMN:
            column.set("hidden", "1")
    data = etree.SubElement(root, q("sheetData"))
    by_row: dict[int, list[int]] = {}
    for row, col in sheet.cells:
        by_row.setdefault(row, []).append(col)
    for row in sorted(by_row):
        row_element = etree.SubElement(data, q("row"), r=str(row))
        if row in sheet.heights:
            row_element.set("ht", f"{sheet.heights[row]:g}")
            row_element.set("customHeight", "1")
        for col in sorted(by_row[row]):
            text, look = sheet.cells[(row, col)]
            cell = etree.SubElement(row_element, q("c"), r=a1(row, col), s=str(styles.look(look)), t="inlineStr")
            run = etree.SubElement(etree.SubElement(cell, q("is")), q("t"))
            run.text = text
            run.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    etree.SubElement(root, q("autoFilter"), ref=f"A{top}:{column_letters(len(_TABLE_HEADER) - 1)}{end}")
    if sheet.merges:
        merges = etree.SubElement(root, q("mergeCells"), count=str(len(sheet.merges)))
        for ref in sheet.merges:
            etree.SubElement(merges, q("mergeCell"), ref=ref)
    if sheet.links:
        links = etree.SubElement(root, q("hyperlinks"))
        for (row, col), location in sorted(sheet.links.items()):
            etree.SubElement(links, q("hyperlink"), ref=a1(row, col), location=location, display=sheet.text(row, col))
    etree.SubElement(root, q("pageMargins"), left="0.75", right="0.75", top="1", bottom="1", header="0.5", footer="0.5")
    etree.SubElement(root, q("pageSetup"), paperSize="9", orientation="landscape", fitToWidth="1", fitToHeight="0")
    return root


def _shift_local_names(workbook: etree._Element) -> None:
    """Names local to a sheet point at it by position: every sheet moved one place on."""
    names = workbook.find(q("definedNames"))
    for name in names.findall(q("definedName")) if names is not None else ():
        local = name.get("localSheetId")
        if local is not None and local.isdigit():
            name.set("localSheetId", str(int(local) + 1))


def _views_first(workbook: etree._Element, sheets: etree._Element) -> None:
    views = workbook.find(q("bookViews"))
    if views is None:
        views = etree.Element(q("bookViews"))
        sheets.addprevious(views)
    if not len(views):
        etree.SubElement(views, q("workbookView"))
    for view in views.findall(q("workbookView")):
        view.set("activeTab", "0")
        if view.get("firstSheet") is not None:
            view.set("firstSheet", "0")


_WORKBOOK_AFTER_NAMES = ("calcPr", "oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
                         "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst")  # fmt: skip


def _defined_names(workbook: etree._Element) -> etree._Element:
    names = workbook.find(q("definedNames"))
    if names is None:
        names = etree.Element(q("definedNames"))
        later = [e for e in workbook if isinstance(e.tag, str) and etree.QName(e).localname in _WORKBOOK_AFTER_NAMES]
        if later:
            later[0].addprevious(names)
        else:
            workbook.append(names)
    return names


def link_location(ref: CellRef) -> str:
    """An in-workbook link target: ``'Sheet name'!B14`` (quotes doubled inside the name)."""
    quoted = ref.sheet.replace("'", "''")
    return f"'{quoted}'!{ref.a1}"
