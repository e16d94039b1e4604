"""One package marked: every finding at its cell, the 校验结果 sheet first, our properties, the content sealed."""

from __future__ import annotations

from collections.abc import Sequence

from perf_eval.model import CellRef, FileResult, Finding
from perf_eval.outputs.annotate.comments import SheetComments
from perf_eval.outputs.annotate.marks import group_by_anchor, mark_cell, mentions_by_anchor
from perf_eval.outputs.annotate.package import Package, Sheets, deselect, uncached_formulas
from perf_eval.outputs.annotate.protect import set_marks
from perf_eval.outputs.annotate.result_sheet import free_title, insert, result_sheet, write_report_rows, write_table
from perf_eval.outputs.annotate.styles import Styles


def marked(
    data: bytes,
    result: FileResult,
    *,
    source_name: str,
    notes: list[str],
    reports: Sequence[FileResult],
    source_key: str,
    count_uncached: bool,
) -> tuple[bytes, list[str]]:
    """The marked copy of package `data`, and all notes (the given ones first).

    Raises `Unsupported` for a package `Package` does not edit."""
    package = Package(data)
    package.not_a_template()
    sheets = Sheets(package)
    notes = list(notes)
    if count_uncached:
        notes += _uncached_note(uncached_formulas(package))
    styles = Styles(package)
    comments: dict[str, SheetComments] = {}

    def comments_of(name: str) -> SheetComments:
        if name not in comments:
            comments[name] = SheetComments(package, sheets[name])
        return comments[name]

    fill_records: dict[CellRef, str | None] = {}
    placed: dict[Finding, CellRef] = {}
    groups = group_by_anchor(sheets, result.deviations, notes)
    mentions = mentions_by_anchor(sheets, result.deviations, groups)
    for anchor, findings in groups.items():
        sheet = sheets[anchor.sheet]
        mark_cell(sheet, comments_of(anchor.sheet), styles, anchor, findings, fill_records, mentions.pop(anchor, []))
        placed.update((finding, anchor) for finding in findings)
    for anchor, related in mentions.items():
        mark_cell(sheets[anchor.sheet], comments_of(anchor.sheet), styles, anchor, [], fill_records, related)
    for sheet_comments in comments.values():
        sheet_comments.write()
    deselect(package)
    notes = list(dict.fromkeys(notes))
    table = result_sheet(result, source_name, notes)
    write_table(table, list(sheets), result.deviations, placed, fill_records)
    for report in reports:
        write_report_rows(table, report)
    insert(package, styles, table, free_title(package))
    placeholder = set_marks(package, source_key)
    return package.to_bytes(seal=placeholder), notes


def _uncached_note(missing: int) -> list[str]:
    if not missing:
        return []
    return [f"原文件中有 {missing} 个公式单元格没有计算结果，副本中同样没有；在 Excel/WPS 中打开时会重新计算"]
