"""Each finding at its cell: a comment (批注) and a fill, errors first; the cells it compares with get a mention."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from perf_eval.model import CellRef, Finding, Severity
from perf_eval.outputs.annotate.comments import SheetComments
from perf_eval.outputs.annotate.package import Sheet, Sheets
from perf_eval.outputs.annotate.styles import Styles

COMMENT_AUTHOR = "perf-eval"
COMMENT_MARK = "——perf-eval——"

ERROR_COLOR = "FFFFC7CE"
WARNING_COLOR = "FFFFEB9C"
SEVERITY_FILL = {Severity.ERROR: ERROR_COLOR, Severity.WARNING: WARNING_COLOR}
SEVERITY_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def group_by_anchor(sheets: Sheets, findings: Iterable[Finding], notes: list[str]) -> dict[CellRef, list[Finding]]:
    """Findings by the cell that shows them: the cell itself, or the top-left of its merged range."""
    groups: dict[CellRef, list[Finding]] = defaultdict(list)
    for finding in findings:
        ref = finding_ref(finding)
        if ref is None:
            continue
        if ref.sheet not in sheets:
            notes.append(f"问题位于工作表 {ref.sheet}，但副本中没有这个工作表：{finding.rule} {ref.a1}")
            continue
        groups[_merge_anchor(sheets[ref.sheet], ref)].append(finding)
    for ref in groups:
        if sheets.state(ref.sheet) != "visible":
            notes.append(f"工作表 {ref.sheet} 是隐藏的：取消隐藏后才能查看其中的批注，链接才能跳转")
    return groups


_MAX_MENTIONS = 40  # a finding compared with more cells than this names them in its own comment only


def mentions_by_anchor(
    sheets: Sheets, findings: Iterable[Finding], groups: dict[CellRef, list[Finding]]
) -> dict[CellRef, list[Finding]]:
    """The cells each finding compares with (a total's parts, the budget beside a 决算), by anchor."""
    mentions: dict[CellRef, list[Finding]] = defaultdict(list)
    for finding in findings:
        if len(finding.related) > _MAX_MENTIONS:
            continue
        own = finding_ref(finding)
        for text in finding.related:
            sheet, _, a1 = text.rpartition("!")
            try:
                ref = CellRef.parse(sheet, a1)
            except ValueError:
                continue
            if ref.sheet not in sheets:
                continue  # a cell of the other file of a split pair
            anchor = _merge_anchor(sheets[ref.sheet], ref)
            if anchor != own and finding not in mentions[anchor]:
                mentions[anchor].append(finding)
    return dict(mentions)


def finding_ref(finding: Finding) -> CellRef | None:
    try:
        return finding.ref
    except ValueError:
        return None


def _merge_anchor(sheet: Sheet, ref: CellRef) -> CellRef:
    """Spreadsheet programs show a merged range's comment and fill at its top-left cell."""
    row, col = sheet.anchor(ref.row, ref.col)
    return CellRef(ref.sheet, row, col)


def mark_cell(
    sheet: Sheet,
    comments: SheetComments,
    styles: Styles,
    anchor: CellRef,
    findings: list[Finding],
    fill_records: dict[CellRef, str | None],
    mentions: Sequence[Finding] = (),
) -> None:
    """The cell's comment: its own findings (errors first), then the findings it is compared in; a fill for its own."""
    blocks = [_comment_block(finding, anchor) for finding in sorted(findings, key=_finding_order)]
    blocks += [_mention_block(finding) for finding in sorted(mentions, key=Finding.sort_key)]
    ours = "\n\n".join(blocks)
    existing = comments.existing(anchor.row, anchor.col)
    if existing is not None and existing.text.strip():
        comments.put(anchor.row, anchor.col, f"{existing.text.rstrip()}\n\n{COMMENT_MARK}\n{ours}", existing.author)
    else:
        comments.put(anchor.row, anchor.col, f"{ours}\n{COMMENT_MARK}", COMMENT_AUTHOR)
    if not findings:
        return
    worst = min((finding.severity for finding in findings), key=SEVERITY_RANK.__getitem__)
    if worst in SEVERITY_FILL:
        style = sheet.style(anchor.row, anchor.col)
        fill_records[anchor] = styles.fill_record(style)
        sheet.set_style(anchor.row, anchor.col, styles.with_fill(style, SEVERITY_FILL[worst]))


def _finding_order(finding: Finding) -> tuple[int, str]:
    return (SEVERITY_RANK[finding.severity], finding.rule)


def _comment_block(finding: Finding, anchor: CellRef) -> str:
    lines = [f"{finding.rule} {described(finding)}"]
    if finding.expected is not None:
        lines.append(f"应为 {finding.expected_shown}，实际 {finding.actual_shown or '（空）'}")
    related = related_text(finding)
    if related:
        lines.append(f"对照：{related}")
    if finding.fix:
        lines.append(f"如何处理：{finding.fix}")
    ref = finding_ref(finding)
    if ref is not None and ref != anchor:
        lines.append(f"（问题单元格 {ref.a1} 位于合并区域内，批注标在左上角 {anchor.a1}）")
    return "\n".join(lines)


def _mention_block(finding: Finding) -> str:
    """On a cell a finding compares with: where the finding is, so the clerk checks both."""
    where = finding.cell if finding.ref is None else str(finding.ref)
    return f"{finding.rule}（{finding.severity.label_zh}，见 {where}）与本单元格有关：{described(finding)}"


def described(finding: Finding) -> str:
    """``label：message``, unless the message already starts with its label."""
    if finding.label and not finding.message.startswith(finding.label):
        return f"{finding.label}：{finding.message}"
    return finding.message


def related_text(finding: Finding) -> str:
    """The other form's cells, unless the message already names them all."""
    missing = [ref for ref in finding.related if ref not in finding.message]
    return "、".join(finding.related) if missing else ""
