"""The annotated copy: every finding shown at its cell, the original untouched.

`annotate()` reads the source workbook into memory (so the file is never held
open or locked), marks each finding's cell with a comment (批注) and a fill,
puts a 校验结果 sheet first, and writes the copy atomically under a name that
cannot collide with the source. openpyxl drops the cached results of
formulas on save; they are put back, so machine readers (and a later check of
the copy) still see the values. Everything that could not be carried over is
returned as Chinese notes, and listed in the 校验结果 sheet too.

A copy marks itself so that a later run recognises it:
- the workbook has the custom document properties ``perf-eval`` (version)
  and ``perf-eval-source`` (a hash of the source path): only a file carrying
  the same source hash is ever overwritten;
- the 校验结果 sheet has `RESULT_TITLE` in A1;
- our comment ends with the `COMMENT_MARK` line, or follows it when appended
  to a user's comment (the mark, not the author ``perf-eval``, is what counts:
  LibreOffice drops comment authors when it re-saves a file);
- the 校验结果 sheet's hidden column G records each marked cell's original
  fill, so annotating a copy again restores it before marking anew.

The modules follow the copy's way through: `copy` opens the source's bytes
(read by `perf_eval.reading.source`) as a workbook, rebuilding an .xls with
`xls`; `previous` removes an earlier run's marks; `marks` puts comments and
fills on the cells; `result_sheet` writes the 校验结果 sheet; `cached` puts the
formulas' results back into the saved parts; `protect` names the copy and
decides what it may replace. `cells` holds the text helpers they share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook

from perf_eval.atomic import OutputError, atomic_write
from perf_eval.model import CellRef, FileResult, FileStatus, Finding
from perf_eval.outputs.annotate.cached import cached_values, formula_cells, saved, uncached_note
from perf_eval.outputs.annotate.copy import drawing_notes, load, memoised_merge_borders, read_source
from perf_eval.outputs.annotate.marks import COMMENT_MARK, group_by_anchor, mark_cell, mentions_by_anchor
from perf_eval.outputs.annotate.previous import strip_previous_run
from perf_eval.outputs.annotate.protect import (
    choose_target,
    copy_name,
    copy_state,
    make_folder,
    sealed,
    set_marks,
    source_key_of,
)
from perf_eval.outputs.annotate.result_sheet import add_result_sheet, link_location, write_report_rows, write_table

__all__ = ["COMMENT_MARK", "AnnotatedCopy", "annotate", "copy_name", "link_location", "memoised_merge_borders"]


@dataclass(frozen=True)
class AnnotatedCopy:
    """Where the copy was written and what it could not preserve (Chinese, for the user)."""

    path: Path
    notes: tuple[str, ...]


def annotate(
    source: Path,
    result: FileResult,
    *,
    out_dir: Path | None = None,
    drawings: Sequence[str] = (),
    source_name: str | None = None,
    reports: Sequence[FileResult] = (),
) -> AnnotatedCopy:
    """Write the annotated copy of `source` for `result`; raise `OutputError` if it cannot be written.

    `drawings` names the sheets that hold images, charts or shapes, as found
    by the reader's pre-flight (`ReadWorkbook.drawings`). `reports` are the results of the written
    reports checked against this workbook's forms: the 校验结果 sheet lists their findings too.
    `source_name` is the file name the 校验结果 sheet shows (default: the source's own; the web
    service stores uploads under neutral names and shows the uploaded one).
    """
    if result.status is FileStatus.UNREADABLE:
        raise ValueError("an unreadable file has no annotated copy")
    folder = out_dir if out_dir is not None else source.parent
    data = read_source(source, result.sha256)
    try:
        loaded = load(data, source)
        workbook = loaded.workbook
        formulas = formula_cells(workbook)
        cached = cached_values(data, formulas)
        source_key = source_key_of(source)
        make_folder(folder)
        target, edited = choose_target(source, folder, loaded.suffix, source_key)
        edited_note = (
            [f"已有的批注副本“{edited.name}”在生成后被改动过，未覆盖；本次的批注副本另存为“{target.name}”"]
            if edited
            else []
        )
        notes = _annotate_workbook(
            workbook,
            result,
            source_name=source_name or source.name,
            notes=[*edited_note, *loaded.notes, *drawing_notes(drawings), *uncached_note(formulas, cached)],
            reports=reports,
        )
        set_marks(workbook, source_key)
        atomic_write(
            target,
            lambda temp: temp.write_bytes(sealed(saved(workbook, cached))),
            may_replace=lambda path: copy_state(path, source_key) == "ours",
        )
    except OutputError:
        raise
    except Exception as exc:  # a batch must go on: any failure is this file's result
        raise OutputError(f"无法生成批注副本：{type(exc).__name__}: {exc}", folder) from exc
    return AnnotatedCopy(target, tuple(notes))


# --- one workbook, marked ------------------------------------------------------------------


def _annotate_workbook(
    workbook: Workbook, result: FileResult, *, source_name: str, notes: list[str], reports: Sequence[FileResult] = ()
) -> list[str]:
    """Mark every finding and add the 校验结果 sheet; return all notes (the given ones first)."""
    strip_previous_run(workbook)
    notes = list(notes)
    sheets = {worksheet.title: worksheet for worksheet in workbook.worksheets}
    fill_records: dict[CellRef, str | None] = {}
    placed: dict[Finding, CellRef] = {}
    groups = group_by_anchor(sheets, result.deviations, notes)
    mentions = mentions_by_anchor(sheets, result.deviations, groups)
    for anchor, findings in groups.items():
        mark_cell(sheets[anchor.sheet], anchor, findings, fill_records, mentions.pop(anchor, []))
        placed.update((finding, anchor) for finding in findings)
    for anchor, related in mentions.items():
        mark_cell(sheets[anchor.sheet], anchor, [], fill_records, related)
    notes = list(dict.fromkeys(notes))
    sheet = add_result_sheet(workbook, result, source_name, notes)
    write_table(sheet, list(sheets), result.deviations, placed, fill_records)
    for report in reports:
        write_report_rows(sheet, report)
    return notes
