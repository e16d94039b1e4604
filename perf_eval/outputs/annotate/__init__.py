"""The annotated copy: every finding shown at its cell, the original untouched.

`annotate()` reads the source's bytes into memory (so the file is never held open or locked),
marks each finding's cell with a comment (批注) and a fill, puts a 校验结果 sheet first, and writes
the copy atomically under a name that cannot collide with the source. The copy is the source's
own package with only the marks added (`package`): images, charts, shapes, validations and
formula results stay as the unit filed them. An .xls, or a workbook carrying an earlier run's
marks, is first rewritten with openpyxl (`copy`, `rewrite`); what that could not carry over is
returned as Chinese notes, and listed in the 校验结果 sheet too.

A copy marks itself so that a later run recognises it:
- the workbook has the custom document properties ``perf-eval`` (version),
  ``perf-eval-source`` (a hash of the source path) and ``perf-eval-content`` (a hash of the
  copy's own parts): only an unedited copy of the same source is ever overwritten;
- the 校验结果 sheet has `RESULT_TITLE` in A1;
- our comment ends with the `COMMENT_MARK` line, or follows it when appended
  to a user's comment (the mark, not the author ``perf-eval``, is what counts:
  LibreOffice drops comment authors when it re-saves a file);
- the 校验结果 sheet's hidden column H records each marked cell's original
  fill, so annotating a copy again restores it before marking anew.

The modules follow the copy's way through: `copy` routes the source's bytes; `package` reads and
writes the parts; `marks` puts comments (`comments`) and fills (`styles`) on the cells;
`result_sheet` writes the 校验结果 sheet; `protect` names the copy and decides what it may
replace; `text` holds the words and sizes they share. openpyxl is loaded only by `rewrite`
(with `previous`, `cached`, `xls` and `cells`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from perf_eval.atomic import OutputError, atomic_write
from perf_eval.model import FileResult, FileStatus
from perf_eval.outputs.annotate.copy import Prepared, prepare, read_source
from perf_eval.outputs.annotate.marks import COMMENT_MARK
from perf_eval.outputs.annotate.package import Unsupported
from perf_eval.outputs.annotate.protect import choose_target, copy_name, copy_state, make_folder, source_key_of
from perf_eval.outputs.annotate.result_sheet import link_location
from perf_eval.outputs.annotate.workbook import marked

__all__ = ["COMMENT_MARK", "AnnotatedCopy", "annotate", "copy_name", "link_location"]


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

    `drawings` names the sheets that hold images, charts or shapes, as found by the reader's
    pre-flight (`ReadWorkbook.drawings`): a copy rewritten with openpyxl says they were not kept.
    `reports` are the results of the written reports checked against this workbook's forms: the
    校验结果 sheet lists their findings too. `source_name` is the file name the 校验结果 sheet shows
    (default: the source's own; the web service stores uploads under neutral names and shows the
    uploaded one).
    """
    if result.status is FileStatus.UNREADABLE:
        raise ValueError("an unreadable file has no annotated copy")
    folder = out_dir if out_dir is not None else source.parent
    data = read_source(source, result.sha256)
    try:
        prepared = prepare(data, source, drawings)
        source_key = source_key_of(source)
        make_folder(folder)
        target, edited = choose_target(source, folder, prepared.suffix, source_key)
        edited_note = (
            [f"已有的批注副本“{edited.name}”在生成后被改动过，未覆盖；本次的批注副本另存为“{target.name}”"]
            if edited
            else []
        )

        def mark(prepared: Prepared) -> tuple[bytes, list[str]]:
            return marked(
                prepared.data,
                result,
                source_name=source_name or source.name,
                notes=[*edited_note, *prepared.notes],
                reports=reports,
                source_key=source_key,
                count_uncached=not prepared.rewritten,
            )

        try:
            body, notes = mark(prepared)
        except Unsupported:
            if prepared.rewritten:
                raise
            body, notes = mark(prepare(data, source, drawings, rewrite=True))
        atomic_write(
            target,
            lambda temp: temp.write_bytes(body),
            may_replace=lambda path: copy_state(path, source_key) == "ours",
        )
    except OutputError:
        raise
    except Exception as exc:  # a batch must go on: any failure is this file's result
        raise OutputError(f"无法生成批注副本：{type(exc).__name__}: {exc}", folder) from exc
    return AnnotatedCopy(target, tuple(notes))
