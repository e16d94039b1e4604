"""summary.xlsx: the scan's summary for people, from the summary.json data.

Sheets, in the order a reviewer reads them:

- 本次变化: what changed since the last completed scan, per unit and per finding.
- 单位汇总: one row per unit and year: the conclusion from the files that judge
  it (the latest version of each form), its errors first and marked, its old versions.
- 问题清单: every finding, errors first, with a link to its cell in the
  annotated copy, its state (新问题 / 仍未修改 / 已说明 / 说明已失效 / 旧版本)
  and the column where a reviewer writes a reason to accept it.
- 文件清单: one row per file, with the profile that judged it and its version role.
- 已说明: every acceptance and whether it still holds.
- 跳过与未配对: files not checked, forms without a partner, removed files.

It is made of `summary_view.xlsx_view(data)` and nothing else: the scan
hashes that view and skips writing the file when it has not changed.

Every sheet prints landscape, fit to the page width, with its header row
repeated on each page; cells wrap, columns are as wide as their Chinese text
needs (within a bound). Text from the workbooks (unit names, labels,
messages) is written as a string cell (data type "s", quote prefix for
``=+-@``): a unit named "=cmd|..." stays text, never a formula.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from copy import copy
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.properties import PageSetupProperties

from perf_eval.atomic import atomic_write
from perf_eval.model import CellRef, FormKind, Place, Severity, form_label
from perf_eval.outputs.summary_view import (
    FINDINGS_SHEET,
    ID_HEADER,
    REASON_HEADER,
    STATUS_ZH,
    UNIT_STATUS_ZH,
    xlsx_view,
)

_MAX_TEXT = 32_767  # Excel's limit for one cell
_FORMULA_LIKE = ("=", "+", "-", "@")
# Every font names its face: LibreOffice draws a font without a name in a serif face.
_FACE = "Calibri"
_HEADER_FONT = Font(name=_FACE, bold=True)
_HEADER_FILL = PatternFill(fill_type="solid", fgColor="FFDDEBF7")
_INPUT_FILL = PatternFill(fill_type="solid", fgColor="FFFFF2CC")  # where the reviewer writes
_LINK_FONT = Font(name=_FACE, color="FF0563C1", underline="single")
_ERROR_FONT = Font(name=_FACE, color="FF9C0006", bold=True)
_GREY_FONT = Font(name=_FACE, color="FF808080")
_WRAP = Alignment(wrap_text=True, vertical="top")
_HEADER_ALIGN = Alignment(wrap_text=True, vertical="center", horizontal="center")
_STATUS_FILL = {
    "errors": PatternFill(fill_type="solid", fgColor="FFFFC7CE"),
    "warnings": PatternFill(fill_type="solid", fgColor="FFFFEB9C"),
    "unreadable": PatternFill(fill_type="solid", fgColor="FFE4DFEC"),
    "clean": PatternFill(fill_type="solid", fgColor="FFC6EFCE"),
}
_STATE_ZH = {
    "new": "新问题",
    "open": "仍未修改",
    "accepted": "已说明",
    "lapsed": "说明已失效",
    "old_version": "旧版本",
}
_STATE_FILL = {
    "new": _STATUS_FILL["errors"],
    "lapsed": _STATUS_FILL["errors"],
    "accepted": _STATUS_FILL["clean"],
    "old_version": PatternFill(fill_type="solid", fgColor="FFEDEDED"),
}
_STATE_ORDER = {"new": 0, "lapsed": 0, "open": 0, "accepted": 1, "old_version": 2}
_DECIDED_ZH = {"form_date": "按填报日期", "mtime": "按文件修改时间"}
_ACCEPT_ZH = {"active": "有效", "lapsed": "已失效", "unused": "问题已不再出现"}

# (header, minimum width, maximum width): a column is as wide as its text needs, within these.
CHANGE_HEADERS = (
    ("变化", 8, 10), ("单位", 12, 20), ("年度", 5, 5), ("内容", 30, 60), ("规则", 5, 5), ("级别", 5, 5),
    ("文件", 16, 30), ("单元格", 8, 10),
)  # fmt: skip
UNIT_HEADERS = (
    ("单位", 12, 20), ("年度", 5, 5), ("结论", 10, 14), ("错误数", 5, 5), ("警告数", 5, 5), ("已说明", 5, 5),
    ("问题（错误在前，规则×次数）", 24, 40), ("判定所依据的文件", 20, 34), ("旧版本（不计入）", 16, 36),
)  # fmt: skip
FINDING_HEADERS = (
    ("处理", 8, 10), ("单位", 10, 14), ("年度", 5, 5), ("级别", 5, 5), ("规则", 5, 5), ("工作表", 7, 10),
    ("单元格", 6, 7), ("项目", 10, 16), ("说明", 24, 38), ("应为", 7, 9), ("实际", 7, 9), ("路径", 14, 22),
    (REASON_HEADER, 18, 20), (ID_HEADER, 13, 13),
)  # fmt: skip
FILE_HEADERS = (
    ("路径", 16, 30), ("单位", 10, 18), ("年度", 5, 5), ("表单（配置）", 16, 30), ("状态", 8, 12),
    ("版本", 6, 20), ("错误数", 5, 5), ("警告数", 5, 5), ("单位自评得分", 6, 6), ("复核得分", 6, 6),
    ("等级", 5, 5), ("批注副本", 14, 34), ("说明", 14, 30),
)  # fmt: skip
ACCEPT_HEADERS = (
    ("状态", 8, 12), ("单位", 10, 18), ("年度", 5, 5), ("规则", 5, 5), ("路径", 14, 26), ("单元格", 8, 12),
    ("说明时应为", 6, 9), ("说明时实际", 6, 9), ("说明理由", 18, 30), ("说明日期", 11, 11), ("失效情况", 16, 34),
)  # fmt: skip
OTHER_HEADERS = (("类别", 10, 14), ("路径", 24, 50), ("说明", 30, 70))

Headers = Sequence[tuple[str, int, int]]
_SCAN_ONLY = ("处理", REASON_HEADER, ID_HEADER)  # columns about scans: states, acceptances


@dataclass(frozen=True)
class _Styled:
    """A value with a link (relative to summary.xlsx), a fill or a font."""

    value: Any
    link: str | None = None  # a file, relative to summary.xlsx
    location: str | None = None  # a cell in that file: 'Sheet'!A1
    fill: PatternFill | None = None
    font: Font | None = None


def write_summary_xlsx(target: Path, data: dict[str, Any]) -> None:
    """Write summary.xlsx atomically; raises `atomic.OutputError`."""
    data = xlsx_view(data)  # nothing else: the scan skips the write when this view is unchanged
    workbook = Workbook(write_only=True)
    scan = data["scan"]
    files = data["files"]
    units = scan.get("units", [])
    unit_by_path = {path: unit["unit"] for unit in units for path in unit["files"]}
    unit_by_path.update({old["path"]: unit["unit"] for unit in units for old in unit.get("old_versions", [])})
    old_by_path = {old["path"]: old for unit in units for old in unit.get("old_versions", [])}
    annotated = {f["path"]: f.get("annotated") for f in files}
    states = scan.get("findings", {})
    finding_rows = _finding_rows(files, states, unit_by_path)
    file_rows = [_file_row(f, unit_by_path, old_by_path, scan) for f in files]
    if "latest_change" not in scan:
        # Not a scan (the service's findings of a few uploads): no changes, units or acceptances to show.
        kept = [at for at, (name, _, _) in enumerate(FINDING_HEADERS) if name not in _SCAN_ONLY]
        _sheet(
            workbook,
            FINDINGS_SHEET,
            [FINDING_HEADERS[at] for at in kept],
            [[r[at] for at in kept] for r in finding_rows],
        )
        _sheet(workbook, "文件清单", FILE_HEADERS, file_rows)
        atomic_write(target, workbook.save)
        return
    _sheet(workbook, "本次变化", CHANGE_HEADERS, list(_change_rows(scan, annotated)))
    _sheet(workbook, "单位汇总", UNIT_HEADERS, [_unit_row(u) for u in units])
    _sheet(workbook, FINDINGS_SHEET, FINDING_HEADERS, finding_rows)
    _sheet(workbook, "文件清单", FILE_HEADERS, file_rows)
    _sheet(workbook, "已说明", ACCEPT_HEADERS, [_accept_row(a) for a in scan.get("acceptances", [])])
    _sheet(workbook, "跳过与未配对", OTHER_HEADERS, list(_other_rows(scan)))
    atomic_write(target, workbook.save)


# --- layout ---------------------------------------------------------------------------------


@lru_cache(maxsize=1 << 16)
def text_width(text: str) -> float:
    """Display width in Excel's character units: a Chinese character takes nearly two."""
    return sum(1.8 if unicodedata.east_asian_width(ch) in ("W", "F") else 1.1 for ch in text)


_LINK_MAX = 44  # LibreOffice never wraps a link's text: its column widens to hold it on one line, up to this


def _widths(headers: Headers, rows: Sequence[list[Any]]) -> list[float]:
    widths: list[float] = []
    for col, (name, low, high) in enumerate(headers):
        longest = text_width(name) / 2 + 2  # a header may wrap onto two lines
        links = [row[col].value for row in rows if isinstance(row[col], _Styled) and row[col].link]
        if links:
            low = max(low, min(_LINK_MAX, math.ceil(max(text_width(str(v)) for v in links) + 1.5)))
            high = max(high, low)
        for row in rows:
            value = row[col].value if isinstance(row[col], _Styled) else row[col]
            if value is None:
                continue
            for line in str(value).splitlines() or [""]:
                longest = max(longest, text_width(line) + 1.5)
                if longest >= high:
                    break
        widths.append(max(low, min(high, math.ceil(longest))))
    return widths


_LINE_HEIGHT = 15.0  # points per line of 11-point text (Chinese glyphs included)
_ROW_PADDING = 3.0
_MAX_LINES = 12  # a longer cell scrolls: the row stays readable on one page


def _height(row: Sequence[Any], widths: Sequence[float]) -> float:
    """The height a row needs for its wrapped text, in points."""
    lines = 1
    for value, width in zip(row, widths, strict=True):
        value = value.value if isinstance(value, _Styled) else value
        if value is None:
            continue
        usable = max(width - 1.0, 1.0)
        needed = sum(max(1, math.ceil(text_width(line) / usable)) for line in str(value).split("\n"))
        lines = max(lines, needed)
    return min(lines, _MAX_LINES) * _LINE_HEIGHT + _ROW_PADDING


def _sheet(workbook: Workbook, title: str, headers: Headers, rows: Sequence[list[Any]]) -> None:
    sheet: WriteOnlyWorksheet = workbook.create_sheet(title)
    widths = _widths(headers, rows)
    for col, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
        if headers[col - 1][0] == ID_HEADER:
            sheet.column_dimensions[get_column_letter(col)].hidden = True  # read back by the next scan, not printed
    sheet.freeze_panes = "A2"
    # Printed or opened in WPS/LibreOffice: landscape, as wide as the page, the header on every page.
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = 9  # A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = "1:1"
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    # The footer's band (bottom minus footer margin) holds its line: LibreOffice clips a lower one.
    sheet.page_margins.top = sheet.page_margins.bottom = 0.75
    sheet.page_margins.header = sheet.page_margins.footer = 0.3
    sheet.oddFooter.center.text = f"{title}  第 &P 页，共 &N 页"
    header_cells = []
    styles: dict[tuple[int, int, bool], StyleArray] = {}
    for name, _, _ in headers:
        cell = _cell(sheet, name)
        cell.font, cell.fill, cell.alignment = _HEADER_FONT, _HEADER_FILL, _HEADER_ALIGN
        header_cells.append(cell)
    sheet.row_dimensions[1].height = _height([name for name, _, _ in headers], widths)
    sheet.append(header_cells)
    for number, row in enumerate(rows, start=2):
        # Explicit heights: LibreOffice and WPS do not grow a row for wrapped text on their own.
        height = _height(row, widths)
        if height > _LINE_HEIGHT + _ROW_PADDING:
            sheet.row_dimensions[number].height = height
        sheet.append([_styled_cell(sheet, value, styles) for value in row])
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"


def _styled_cell(sheet: WriteOnlyWorksheet, value: Any, styles: dict[tuple[int, int, bool], StyleArray]) -> Cell:
    """A wrapped cell with its link, font and fill; each distinct style is built once per sheet (hashing is slow)."""
    styled = value if isinstance(value, _Styled) else None
    cell = _cell(sheet, styled.value if styled else value)
    font = styled.font or (_LINK_FONT if styled.link else None) if styled else None
    fill = styled.fill if styled else None
    quoted = isinstance(cell.value, str) and cell.value.startswith(_FORMULA_LIKE)
    key = (id(font), id(fill), quoted)
    known = styles.get(key)
    if known is None:
        cell.alignment = _WRAP
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        if quoted:
            cell.quotePrefix = True
        styles[key] = copy(cell._style)
    else:
        cell._style = copy(known)
    if styled and styled.link:
        # Target and location apart, as Excel itself stores a link to a cell in another workbook.
        cell.hyperlink = Hyperlink(ref="", target=styled.link, location=styled.location)
    return cell


def _cell(sheet: WriteOnlyWorksheet, value: Any) -> Cell:
    """A cell whose text can never become a formula (a leading ``=+-@`` gets a quote prefix from the caller)."""
    cell = Cell(sheet, row=1, column=1)  # placed by append()
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.value = text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"
        cell.data_type = "s"
    elif isinstance(value, float) and not math.isfinite(value):
        return _cell(sheet, str(value))
    elif value is None or isinstance(value, bool | int | float):
        cell.value = value
    else:
        return _cell(sheet, str(value))
    return cell


# --- rows -------------------------------------------------------------------------------------


def _unit_name(unit: str | None) -> str:
    return unit or "（未识别单位）"


def _status(status: str) -> _Styled:
    return _Styled(STATUS_ZH[status], fill=_STATUS_FILL[status])


def _cell_link(annotated: str | None, sheet: str | None, cell: str | None) -> Any:
    if not cell:
        return "（工作簿）"
    if annotated and sheet:
        quoted = str(sheet).replace("'", "''")
        return _Styled(f"{sheet}!{cell}", link=annotated, location=f"'{quoted}'!{cell}")
    return f"{sheet}!{cell}" if sheet else cell


def _change_rows(scan: dict[str, Any], annotated: dict[str, str | None]) -> Iterable[list[Any]]:
    since = scan.get("latest_change")
    if not since:
        return
    when = str(since.get("on") or "")[:16].replace("T", " ")
    if since["first_scan"]:
        text = f"{when} 首次扫描，没有更早的结果可比较：全部问题见“问题清单”，各单位结论见“单位汇总”"
        yield [_Styled("首次扫描", font=_HEADER_FONT), "", None, text, None, None, "", None]
        return
    counts = since["counts"]
    summary = (
        f"{when} 的扫描与它的上一次扫描相比（此后的扫描没有发现新的变化）：新问题 {counts['new']}，"
        f"说明已失效 {counts['lapsed']}，已修改 {counts['fixed']}，仍未修改 {counts['open']}，已说明 {counts['accepted']}"
    )
    yield [_Styled("最近变化", font=_HEADER_FONT), "", None, summary, None, None, "", None]
    if not since["units"] and not since["new"] and not since["fixed"]:
        yield [
            "没有新问题",
            "",
            None,
            "没有新问题，也没有修改或失效的问题（说明的增减见“已说明”）",
            None,
            None,
            "",
            None,
        ]
    for unit in since["units"]:
        before = STATUS_ZH.get(unit["before"] or "", "（上次没有）")
        now = next(
            (u["status"] for u in scan.get("units", []) if (u["unit"], u["year"]) == (unit["unit"], unit["year"])), None
        )
        now_zh = STATUS_ZH.get(now or "", "")
        text = f"{before} → {now_zh}；新问题 {unit['new']}，说明已失效 {unit['lapsed']}，已修改 {unit['fixed']}，仍未修改 {unit['open']}，已说明 {unit['accepted']}"
        yield [
            _Styled("单位", fill=_STATUS_FILL.get(now or "", None)),
            _unit_name(unit["unit"]),
            unit["year"],
            text,
            None,
            None,
            "",
            None,
        ]
    for finding in since["new"]:
        label = "说明已失效" if finding["state"] == "lapsed" else "新问题"
        severity = Severity(finding["severity"])
        yield [
            _Styled(label, fill=_STATUS_FILL["errors"] if severity is Severity.ERROR else _STATUS_FILL["warnings"]),
            _unit_name(finding.get("unit")),
            finding.get("year"),
            _finding_text(finding),
            finding["rule"],
            _severity(severity),
            finding["path"],
            _cell_link(annotated.get(finding["path"]), finding.get("sheet"), finding.get("cell")),
        ]
    for finding in since["fixed"]:
        yield [
            _Styled("已修改", fill=_STATUS_FILL["clean"]),
            _unit_name(finding.get("unit")),
            finding.get("year"),
            _finding_text(finding),
            finding["rule"],
            _severity(Severity(finding["severity"])),
            finding["path"],
            f"{finding.get('sheet')}!{finding.get('cell')}" if finding.get("cell") else "（工作簿）",
        ]


def _finding_text(finding: dict[str, Any]) -> str:
    label = finding.get("label") or ""
    message = finding.get("message") or ""
    return message if not label or label in message else f"{label}：{message}"


def _severity(severity: Severity) -> _Styled:
    return _Styled(severity.label_zh, font=_ERROR_FONT if severity is Severity.ERROR else None)


def _problems_text(unit: dict[str, Any]) -> str:
    """错误：B05×1（a.xlsx）、S07×1；警告：B08×30… one line per severity, errors first."""
    several = len(unit["files"]) > 1
    lines = []
    for severity in (Severity.ERROR, Severity.WARNING):
        items = [p for p in unit.get("problems", []) if p["severity"] == severity.value]
        if not items:
            continue
        texts = []
        for p in items:
            text = f"{p['rule']}×{p['count']}"
            if several:
                text += "（" + "、".join(PurePosixPath(f).name for f in p["files"]) + "）"
            texts.append(text)
        lines.append(f"{severity.label_zh}：" + "、".join(texts))
    return "\n".join(lines)


def _unit_row(unit: dict[str, Any]) -> list[Any]:
    old = []
    for version in unit.get("old_versions", []):
        when = f"填报日期 {version['date']}" if version.get("date") else f"修改于 {str(version['modified'])[:10]}"
        decided = _DECIDED_ZH.get(version.get("decided_by") or "", "")
        old.append(f"{version['path']}（{STATUS_ZH[version['status']]}，{when}；{decided}判定为旧版本）")
    problems = _problems_text(unit)
    return [
        _unit_name(unit["unit"]),
        unit["year"],
        _Styled(UNIT_STATUS_ZH[unit["status"]], fill=_STATUS_FILL[unit["status"]]),
        unit["errors"],
        unit["warnings"],
        unit.get("accepted", 0),
        _Styled(problems, font=_ERROR_FONT) if unit["errors"] else problems,
        "\n".join(unit["files"]),
        "\n".join(old),
    ]


def _finding_rows(
    files: list[dict[str, Any]], states: dict[str, list[dict[str, Any]]], unit_by_path: dict[str, str | None]
) -> list[list[Any]]:
    keyed: list[tuple[tuple[Any, ...], list[Any]]] = []
    for entry in files:
        per_finding = states.get(entry["path"], [])
        unit = unit_by_path.get(entry["path"]) or _first_unit(entry)
        for at, finding in enumerate(entry["deviations"]):
            state = per_finding[at] if at < len(per_finding) else {}
            name = state.get("state", "")
            severity = Severity(finding["severity"])
            ref = _ref(finding)
            order = (
                _STATE_ORDER.get(name, 0),
                severity.rank,
                unit or "",
                entry["path"],
                ref.sheet if ref else "",
                ref.row if ref else 0,
                ref.col if ref else 0,
                finding["rule"],
            )
            message = finding.get("message")
            if state.get("lapsed"):
                message = f"{message}\n{state['lapsed']}"
            row = [
                _Styled(_STATE_ZH.get(name, ""), fill=_STATE_FILL.get(name)),
                _unit_name(unit),
                _first_year(entry),
                _severity(severity),
                finding["rule"],
                finding.get("sheet"),
                _finding_cell(entry.get("annotated"), finding),
                finding.get("label"),
                message,
                finding.get("expected"),
                finding.get("actual"),
                entry["path"],
                _Styled(state.get("reason") or None, fill=_INPUT_FILL),
                _Styled(state.get("id"), font=_GREY_FONT),
            ]
            keyed.append((order, row))
    keyed.sort(key=lambda kr: kr[0])
    return [row for _, row in keyed]


def _ref(finding: dict[str, Any]) -> CellRef | None:
    try:
        return CellRef.parse(str(finding["sheet"]), str(finding["cell"])) if finding.get("cell") else None
    except ValueError:
        return None


def _finding_cell(annotated: str | None, finding: dict[str, Any]) -> Any:
    """The cell, linked to the same cell in the annotated copy."""
    cell, sheet = finding.get("cell"), finding.get("sheet")
    if not cell and (finding.get("paragraph") or finding.get("table")):
        # A statement of the written report: where it is (第12段 / 表1第3行第2列); the 说明 quotes it.
        return Place(
            0, "", finding.get("paragraph"), finding.get("table"), finding.get("row"), finding.get("column")
        ).text
    if not cell:
        return "（报告）" if finding.get("label") == "绩效自评报告" else "（工作簿）"
    if not (annotated and sheet):
        return cell
    quoted = str(sheet).replace("'", "''")
    return _Styled(cell, link=annotated, location=f"'{quoted}'!{cell}")


def _file_row(
    entry: dict[str, Any],
    unit_by_path: dict[str, str | None],
    old_by_path: dict[str, dict[str, Any]],
    scan: dict[str, Any],
) -> list[Any]:
    deviations = entry["deviations"]
    errors = sum(1 for d in deviations if d["severity"] == Severity.ERROR.value)
    warnings = sum(1 for d in deviations if d["severity"] == Severity.WARNING.value)
    status = entry["status"]
    score = entry.get("score") or {}
    forms = "\n".join(
        form_label(FormKind(f["kind"]), f["sheet"], f.get("family"), f.get("profile")) for f in entry["forms"]
    )
    annotated = entry.get("annotated")
    remarks = [entry["error"]] if entry.get("error") else []
    old = old_by_path.get(entry["path"])
    partly = [s for s in scan.get("findings", {}).get(entry["path"], []) if s.get("state") == "old_version"]
    version = f"旧版本（新版本：{old['replaced_by']}）" if old else ("" if status == "unreadable" else "最新")
    if partly and not old:
        version = "最新（部分表单已有新版本，其问题不计入）"
    if not annotated and status != "unreadable":
        copy: Any = "（无问题，未生成）" if not deviations else None
    else:
        copy = _Styled(_copy_text(annotated), link=annotated) if annotated else None
    return [
        entry["path"],
        _unit_name(unit_by_path.get(entry["path"]) or _first_unit(entry)) if entry["forms"] else None,
        _first_year(entry),
        forms,
        _status(status),
        _Styled(version, fill=_STATE_FILL["old_version"]) if old else version,
        errors,
        warnings,
        score.get("reported"),
        score.get("recomputed"),
        score.get("grade"),
        copy,
        "\n".join([*remarks, *scan.get("notes", {}).get(entry["path"], [])]),
    ]


def _accept_row(acceptance: dict[str, Any]) -> list[Any]:
    state = acceptance.get("state", "active")
    lapsed = ""
    if state == "lapsed":
        same = (acceptance.get("now_actual"), acceptance.get("now_expected")) == (
            acceptance.get("actual"),
            acceptance.get("expected"),
        )
        if same and acceptance.get("now_message") and acceptance.get("message"):  # the target or the budget changed
            lapsed = (
                f"{acceptance.get('lapsed_on')} 起失效：说明时为“{acceptance['message']}”，"
                f"现在为“{acceptance['now_message']}”"
            )
        else:
            lapsed = (
                f"{acceptance.get('lapsed_on')} 起失效：现在实际为 {_plain(acceptance.get('now_actual'))}、"
                f"应为 {_plain(acceptance.get('now_expected'))}"
            )
    fill = {"active": _STATUS_FILL["clean"], "lapsed": _STATUS_FILL["errors"]}.get(state)
    where = f"{acceptance.get('sheet')}!{acceptance.get('cell')}" if acceptance.get("cell") else "（工作簿）"
    return [
        _Styled(_ACCEPT_ZH.get(state, state), fill=fill),
        _unit_name(acceptance.get("unit")),
        acceptance.get("year"),
        acceptance.get("rule"),
        acceptance.get("path"),
        where,
        acceptance.get("expected"),
        acceptance.get("actual"),
        acceptance.get("reason"),
        acceptance.get("accepted_on"),
        lapsed,
    ]


def _copy_text(annotated: str) -> str:
    """The text of a link to an annotated copy: its file name (its folder is the file's, in 路径), on one line."""
    name = PurePosixPath(annotated).name
    return name if text_width(name) + 1.5 <= _LINK_MAX else "打开批注副本"


def _plain(value: Any) -> str:
    return "空" if value is None or value == "" else str(value)


def _other_rows(scan: dict[str, Any]) -> Iterable[list[Any]]:
    for skipped in scan.get("skipped", []):
        yield ["跳过的文件", skipped["path"], skipped["reason"]]
    for form in scan.get("unpaired", []):
        if form.get("kind") == FormKind.REPORT.value:
            unit, year = form.get("unit") or "未识别单位", form.get("year") or "未识别年度"
            text = f"自评报告（{unit}，{year}）未找到同一单位、同一年度的表单，报告中的数字未核对（N00）"
            yield ["未配对的报告", form["path"], text]
            continue
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


__all__ = ["STATUS_ZH", "UNIT_STATUS_ZH", "text_width", "write_summary_xlsx"]
