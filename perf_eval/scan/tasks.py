"""What a worker process does with one file: read it, or write its annotated copy.

These functions run inside `pool` workers (under memory and CPU limits) and
must stay importable without pandas: a worker never checks rules. Their
return values cross a pipe, so they are small picklable dataclasses; the read
workbook travels as pickle bytes, exactly as it is stored in the cache.
"""

from __future__ import annotations

import os
import pickle
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from perf_eval.model import FileResult, FormInfo, FormKind
from perf_eval.pairing import FormKey, form_keys
from perf_eval.reading import safety
from perf_eval.scan.review import parse_date

# Test hooks (used by tests/test_scan.py only): slow reads down (all, or one
# file's: a hang), or make the worker reading the named file die as a native
# reader would. Unset in production; they change nothing else.
TEST_SLEEP_ENV = "PERF_EVAL_SCAN_TEST_SLEEP"
TEST_ABORT_ENV = "PERF_EVAL_SCAN_TEST_ABORT"

# Reasons that say nothing about the file's content: never cached, retried next run.
TRANSIENT_CODES = frozenset({"changed", "missing", "permission", "io", "worker_start"})


@dataclass(frozen=True)
class ReadEntry:
    """One content hash, read: the pickled `ReadWorkbook` and its forms, or why it could not be read.

    The scan keeps only the `light` form in memory (and in each path's cache
    record): pairing needs the forms' identities, not the workbook; the pickle
    is loaded from the cache just before the rules run.
    """

    workbook: bytes | None  # None when unreadable, or in a `light` entry
    forms: tuple[FormKey, ...] = ()
    drawings: tuple[str, ...] = ()
    reason: str | None = None
    code: str | None = None
    dates: tuple[str | None, ...] = ()  # per form: its 填报日期 (ISO), which orders versions of one report
    # A written report (附件1): `workbook` is then the pickled `ReportDocument`, `forms` its one
    # FormKey (kind "report", the unit and year of its cover), never paired as a form.
    report: bool = False

    @property
    def readable(self) -> bool:
        return self.reason is None

    @property
    def pairable(self) -> bool:
        """Holds a 基础数据表 or 部门整体自评表: cross-form rules may apply."""
        return any(key.role is not None for key in self.forms)

    @property
    def transient(self) -> bool:
        return not self.readable and self.code in TRANSIENT_CODES

    @classmethod
    def unreadable(cls, reason: str, code: str) -> ReadEntry:
        return cls(None, reason=reason, code=code)

    def light(self) -> ReadEntry:
        """The entry without the pickled workbook."""
        return self if self.workbook is None else replace(self, workbook=None)

    def to_json(self) -> dict[str, Any]:
        """The `light` entry."""
        return {
            "forms": [key.to_json() for key in self.forms],
            "drawings": list(self.drawings),
            "reason": self.reason,
            "code": self.code,
            "dates": list(self.dates),
            "report": self.report,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReadEntry:
        return cls(
            None,
            forms=tuple(FormKey.from_json(key) for key in data["forms"]),
            drawings=tuple(str(d) for d in data["drawings"]),
            reason=None if data["reason"] is None else str(data["reason"]),
            code=None if data["code"] is None else str(data["code"]),
            dates=tuple(None if d is None else str(d) for d in data.get("dates", ())),
            report=bool(data.get("report", False)),
        )


def read_task(path: str, fingerprint: tuple[int, int, int, int]) -> ReadEntry:
    """Read the workbook at `path`, which must still be the file that was hashed (same `fingerprint`)."""
    from perf_eval.reading.workbook import read_workbook

    _test_hooks(path)
    _same_file(path, fingerprint)
    try:
        workbook = read_workbook(Path(path))
    except safety.UnreadableWorkbook as exc:
        _same_file(path, fingerprint)  # a half-written file fails to parse: say "changed", retry later
        return ReadEntry.unreadable(exc.reason, exc.code)
    _same_file(path, fingerprint)
    return ReadEntry(
        workbook=pickle.dumps(workbook, protocol=pickle.HIGHEST_PROTOCOL),
        forms=form_keys(workbook.forms),
        drawings=tuple(workbook.drawings),
        dates=tuple(parse_date(_filed(form)) for form in workbook.forms),
    )


def read_report_task(path: str, fingerprint: tuple[int, int, int, int]) -> ReadEntry:
    """Read the written report at `path` (a .doc/.wps through LibreOffice), as `read_task` reads a workbook."""
    from perf_eval.narrative.document import UnreadableReport, read_report

    _test_hooks(path)
    _same_file(path, fingerprint)
    try:
        document = read_report(Path(path))
    except UnreadableReport as exc:
        _same_file(path, fingerprint)
        return replace(ReadEntry.unreadable(exc.reason, "report"), report=True)
    _same_file(path, fingerprint)
    info = FormInfo(FormKind.REPORT, "", document.unit, document.year, document.title)
    return ReadEntry(
        workbook=pickle.dumps(document, protocol=pickle.HIGHEST_PROTOCOL),
        forms=(FormKey(info, None),),
        report=True,
    )


def _filed(form: Any) -> str | None:
    entry = getattr(form, "footer", {}).get("填报日期")
    return entry.text if entry is not None else None


def _same_file(path: str, fingerprint: tuple[int, int, int, int]) -> None:
    if tuple(safety.fingerprint(path)) != tuple(fingerprint):
        raise safety.UnreadableWorkbook.of("changed")


def _test_hooks(path: str) -> None:
    delay = os.environ.get(TEST_SLEEP_ENV)  # "seconds" for every file, or "seconds:file name"
    if delay:
        seconds, _, name = delay.partition(":")
        if not name or name == Path(path).name:
            time.sleep(float(seconds))
    if os.environ.get(TEST_ABORT_ENV) == Path(path).name:
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file in the caller's folder
        except (ImportError, ValueError, OSError):
            pass
        os.abort()


@dataclass(frozen=True)
class AnnotateOutcome:
    """Where the copy went and what it could not carry over, or why it could not be written."""

    copy: str | None
    notes: tuple[str, ...] = ()
    failure: str | None = None


def annotate_report_task(source: str, result: FileResult, out_dir: str, document: bytes) -> AnnotateOutcome:
    """The annotated copy of a report: `document` is its pickled `ReportDocument` (from the cache)."""
    from perf_eval.atomic import OutputError
    from perf_eval.narrative.annotate import annotate_report

    try:
        copy = annotate_report(Path(source), pickle.loads(document), result, out_dir=Path(out_dir))
    except OutputError as exc:
        return AnnotateOutcome(None, failure=exc.reason)
    return AnnotateOutcome(str(copy))


def annotate_task(source: str, result: FileResult, out_dir: str, drawings: tuple[str, ...]) -> AnnotateOutcome:
    from perf_eval.atomic import OutputError
    from perf_eval.outputs.annotate import annotate

    try:
        copy = annotate(Path(source), result, out_dir=Path(out_dir), drawings=drawings)
    except OutputError as exc:  # an exception with extra fields does not cross the pipe: return it
        return AnnotateOutcome(None, failure=exc.reason)
    return AnnotateOutcome(str(copy.path), tuple(copy.notes))
