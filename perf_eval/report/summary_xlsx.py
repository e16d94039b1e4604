"""summary.xlsx: the scan's summary for people, from the summary.json data.

Sheets: 文件清单 (one row per file, with a link to its annotated copy),
问题清单 (every finding, with a link to its cell in the annotated copy),
单位汇总 (one row per unit and year: clean or what to fix), and
跳过与未配对 (files not checked, forms that found no partner, removed files).

It is made of `summary_view.xlsx_view(data)` and nothing else: the scan
hashes that view and skips writing the file when it has not changed.

Every sheet has a frozen, filterable header. Text from the workbooks (unit
names, labels, messages) is written as a string cell (data type "s", quote
prefix for ``=+-@``): a unit named "=cmd|..." stays text, never a formula.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.hyperlink import Hyperlink

from perf_eval.atomic import atomic_write
from perf_eval.model import FormKind, Severity, form_label
from perf_eval.report.summary_view import STATUS_ZH, UNIT_STATUS_ZH, xlsx_view

_MAX_TEXT = 32_767  # Excel's limit for one cell
_FORMULA_LIKE = ("=", "+", "-", "@")
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill(fill_type="solid", fgColor="FFDDEBF7")
_LINK_FONT = Font(color="FF0563C1", underline="single")
_STATUS_FILL = {
    "errors": PatternFill(fill_type="solid", fgColor="FFFFC7CE"),
    "warnings": PatternFill(fill_type="solid", fgColor="FFFFEB9C"),
    "unreadable": PatternFill(fill_type="solid", fgColor="FFE4DFEC"),
    "clean": PatternFill(fill_type="solid", fgColor="FFC6EFCE"),
}

FILE_HEADERS = (
    ("路径", 48), ("单位", 28), ("年度", 8), ("表单", 36), ("状态", 10), ("错误数", 8), ("警告数", 8),
    ("单位自评得分", 12), ("复核得分", 10), ("等级", 6), ("批注副本", 48), ("说明", 60),
)  # fmt: skip
FINDING_HEADERS = (
    ("路径", 48), ("单位", 28), ("年度", 8), ("规则", 8), ("级别", 8), ("工作表", 16), ("单元格", 10),
    ("项目", 30), ("说明", 70), ("应为", 12), ("实际", 12),
)  # fmt: skip
UNIT_HEADERS = (
    ("单位", 30), ("年度", 8), ("结论", 14), ("错误数", 8), ("警告数", 8), ("文件数", 8),
    ("主要问题（规则×次数）", 40), ("文件", 80),
)  # fmt: skip
OTHER_HEADERS = (("类别", 14), ("路径", 60), ("说明", 70))


@dataclass(frozen=True)
class _Styled:
    """A value with a link (relative to summary.xlsx) or a fill."""

    value: Any
    link: str | None = None  # a file, relative to summary.xlsx
    location: str | None = None  # a cell in that file: 'Sheet'!A1
    fill: PatternFill | None = None


def write_summary_xlsx(target: Path, data: dict[str, Any]) -> None:
    """Write summary.xlsx atomically; raises `atomic.OutputError`."""
    data = xlsx_view(data)  # nothing else: the scan skips the write when this view is unchanged
    workbook = Workbook(write_only=True)
    scan = data["scan"]
    unit_by_path = {path: unit["unit"] for unit in scan.get("units", []) for path in unit["files"]}
    notes = scan.get("notes", {})
    files = data["files"]
    _sheet(workbook, "文件清单", FILE_HEADERS, (_file_row(f, unit_by_path, notes.get(f["path"], [])) for f in files))
    _sheet(
        workbook,
        "问题清单",
        FINDING_HEADERS,
        (_finding_row(f, d, unit_by_path) for f in files for d in f["deviations"]),
    )
    _sheet(workbook, "单位汇总", UNIT_HEADERS, (_unit_row(u) for u in scan.get("units", [])))
    _sheet(workbook, "跳过与未配对", OTHER_HEADERS, _other_rows(scan))
    atomic_write(target, workbook.save)


def _sheet(workbook: Workbook, title: str, headers: Sequence[tuple[str, int]], rows: Iterable[list[Any]]) -> None:
    sheet: WriteOnlyWorksheet = workbook.create_sheet(title)
    for col, (_, width) in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    sheet.freeze_panes = "A2"
    header_cells = []
    for name, _ in headers:
        cell = _cell(sheet, name)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        header_cells.append(cell)
    sheet.append(header_cells)
    count = 0
    for row in rows:
        sheet.append([_styled_cell(sheet, value) for value in row])
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count + 1}"


def _styled_cell(sheet: WriteOnlyWorksheet, value: Any) -> Cell:
    if not isinstance(value, _Styled):
        return _cell(sheet, value)
    cell = _cell(sheet, value.value)
    if value.link:
        # Target and location apart, as Excel itself stores a link to a cell in another workbook.
        cell.hyperlink = Hyperlink(ref="", target=value.link, location=value.location)
        cell.font = _LINK_FONT
    if value.fill is not None:
        cell.fill = value.fill
    return cell


def _cell(sheet: WriteOnlyWorksheet, value: Any) -> Cell:
    """A cell whose text can never become a formula."""
    cell = Cell(sheet, row=1, column=1)  # placed by append()
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.value = text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"
        cell.data_type = "s"
        if text.startswith(_FORMULA_LIKE):
            cell.quotePrefix = True
    elif isinstance(value, float) and not math.isfinite(value):
        return _cell(sheet, str(value))
    elif value is None or isinstance(value, bool | int | float):
        cell.value = value
    else:
        return _cell(sheet, str(value))
    return cell


def _file_row(entry: dict[str, Any], unit_by_path: dict[str, str | None], notes: list[str]) -> list[Any]:
    deviations = entry["deviations"]
    errors = sum(1 for d in deviations if d["severity"] == Severity.ERROR.value)
    warnings = sum(1 for d in deviations if d["severity"] == Severity.WARNING.value)
    status = entry["status"]
    score = entry.get("score") or {}
    forms = "、".join(
        form_label(FormKind(f["kind"]), f["sheet"], f.get("family"), f.get("profile")) for f in entry["forms"]
    )
    annotated = entry.get("annotated")
    remarks = [entry["error"]] if entry.get("error") else []
    return [
        entry["path"],
        unit_by_path.get(entry["path"]) or _first_unit(entry),
        _first_year(entry),
        forms,
        _Styled(STATUS_ZH[status], fill=_STATUS_FILL[status]),
        errors,
        warnings,
        score.get("reported"),
        score.get("recomputed"),
        score.get("grade"),
        _Styled(annotated, link=annotated) if annotated else None,
        "\n".join([*remarks, *notes]),
    ]


def _finding_row(entry: dict[str, Any], finding: dict[str, Any], unit_by_path: dict[str, str | None]) -> list[Any]:
    annotated = entry.get("annotated")
    where = finding.get("cell")
    location = None
    if annotated and finding.get("sheet") and where:
        quoted = str(finding["sheet"]).replace("'", "''")
        location = f"'{quoted}'!{where}"
    return [
        entry["path"],
        unit_by_path.get(entry["path"]) or _first_unit(entry),
        _first_year(entry),
        finding["rule"],
        Severity(finding["severity"]).label_zh,
        finding.get("sheet"),
        _Styled(where, link=annotated if location else None, location=location) if where else "（工作簿）",
        finding.get("label"),
        finding.get("message"),
        finding.get("expected"),
        finding.get("actual"),
    ]


def _unit_row(unit: dict[str, Any]) -> list[Any]:
    rules = "、".join(f"{rule}×{count}" for rule, count in sorted(unit["rules"].items(), key=lambda kv: -kv[1]))
    return [
        unit["unit"] or "（未识别单位）",
        unit["year"],
        _Styled(UNIT_STATUS_ZH[unit["status"]], fill=_STATUS_FILL[unit["status"]]),
        unit["errors"],
        unit["warnings"],
        len(unit["files"]),
        rules,
        "\n".join(unit["files"]),
    ]


def _other_rows(scan: dict[str, Any]) -> Iterable[list[Any]]:
    for skipped in scan.get("skipped", []):
        yield ["跳过的文件", skipped["path"], skipped["reason"]]
    for form in scan.get("unpaired", []):
        kind = FormKind(form["kind"]).label_zh
        partner = "部门整体支出绩效自评表" if form["kind"] == FormKind.BASIC_DATA.value else "基础数据表"
        unit = form.get("unit") or "未识别单位"
        year = form.get("year") or "未识别年度"
        text = f"{kind}（工作表 {form['sheet']}，{unit}，{year}）未找到对应的{partner}，跨表核对（X01、X02）未进行"
        yield ["未配对的表单", form["path"], text]
    for path in scan.get("removed", []):
        yield ["已删除", path, "上次扫描后该文件已不在文件夹中，其批注副本已删除"]


def _first_unit(entry: dict[str, Any]) -> str | None:
    return next((f["unit"] for f in entry["forms"] if f.get("unit")), None)


def _first_year(entry: dict[str, Any]) -> int | None:
    return next((f["year"] for f in entry["forms"] if f.get("year")), None)


__all__ = ["STATUS_ZH", "UNIT_STATUS_ZH", "write_summary_xlsx"]
