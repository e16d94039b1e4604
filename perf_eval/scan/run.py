"""One scan: find → hash → read (workers) → pair and check → annotate (workers) → summaries.

Incremental by content. Each file's content hash keys its read (a pickled
`ReadWorkbook`); its result is keyed by the hash, the profile and the
cross-form pairs it takes part in, so a changed 自评表 is re-paired with its
unchanged 基础数据表 from the cache, without reading that file again.

Pairing is global (a unit's forms may sit in any two files), so every run
pairs the forms of all workbooks that hold a 基础数据表 or a 部门整体自评表,
with `pairing.pair_keys` (the rules `check` uses too) over small identity
records: each read's forms (kind, unit, year, sheet) are kept, apart from the
pickled workbook, in memory and in each path's cache record. No workbook is
unpickled to pair; only those that must be checked again are, just before
their rules run. Pairs fall into connected groups; a group with a file to
re-check is checked whole, with the pairs decided over all files
(`check_workbooks(..., pairs=...)`), so the result is always what one
`check_workbooks` call over every file would give.

Rules run in this process (they need pandas, imported only when something is
checked) in chunks of about `_CHUNK` workbooks, whole groups at a time,
whenever no worker outcome is waiting: files without cross-form forms while
the workers go on reading, the groups once every file is read (pairing needs
them all). Each chunk's annotated copies are handed to the workers as soon as
it is checked, and its workbooks are released: the memory this process needs
does not grow with the number of files, beyond their results.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, cast

from perf_eval._version import __version__
from perf_eval.atomic import OutputError, atomic_write
from perf_eval.errors import PerfEvalError
from perf_eval.model import FileResult, FileStatus, FormKind, Report
from perf_eval.outputs.summary_view import xlsx_view
from perf_eval.pairing import FormRef, Pair, WorkbookKey, pair_keys
from perf_eval.reading import safety
from perf_eval.scan import summary
from perf_eval.scan.accept import STORE_NAME, StoreError, load_store, merge, read_reasons, save_store
from perf_eval.scan.cache import (
    Cache,
    Completed,
    PathRecord,
    ScanLock,
    profile_signature,
    remove_stale_temps,
    tool_signature,
)
from perf_eval.scan.discover import Found, Skipped, contains, discover, is_report_name
from perf_eval.scan.pool import Outcome, WorkerPool
from perf_eval.scan.review import Acceptance, Member, evaluate, latest_of, report_slot, review
from perf_eval.scan.tasks import (
    AnnotateOutcome,
    ReadEntry,
    annotate_report_task,
    annotate_task,
    read_report_task,
    read_task,
)

if TYPE_CHECKING:
    from perf_eval.forms import BasicData, SelfEval
    from perf_eval.narrative.check import SetKey
    from perf_eval.narrative.document import ReportDocument
    from perf_eval.reading.workbook import ReadWorkbook

SUMMARY_JSON = "summary.json"
SUMMARY_XLSX = "summary.xlsx"
_CHUNK = 48  # workbooks per rules call (whole groups: a chunk may hold a few more)
_RELOAD_FAILED = "缓存中的读取结果无法载入，未能校验；下次扫描时将重新读取此文件"

# (phase, done, total); phase is "hash", "read" or "annotate". Totals may grow.
Progress = Callable[[str, int, int], None]


class ScanError(PerfEvalError):
    """A usage or environment problem that stops the scan (exit code 2); `reason` is Chinese."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ScanOptions:
    root: Path
    out: Path
    jobs: int
    profile: str | None = None
    full: bool = False
    limits: safety.Limits = safety.DEFAULT_LIMITS
    copies: str = "findings"  # "findings": annotated copies of files with findings only; "all": of every file


@dataclass
class ScanOutcome:
    data: dict[str, Any]  # summary.json
    report: Report
    summary_json: Path
    summary_xlsx: Path
    problems: list[str]  # outputs that could not be written
    json_written: bool = False  # summary.json holds `data` exactly (`--format json` prints its bytes)

    @property
    def failed_files(self) -> bool:
        """Any unit with errors that are not accepted (old versions do not count), or an unreadable file (exit code 1)."""
        units = self.data.get("scan", {}).get("units", [])
        return any(u["status"] == FileStatus.ERRORS.value for u in units) or any(
            f.status is FileStatus.UNREADABLE for f in self.report.files
        )


def check_folders(root: Path, out: Path) -> tuple[Path, Path]:
    """Both folders resolved; `ScanError` if DIR is missing or one lies inside the other."""
    if not root.exists():
        raise ScanError(f"要扫描的文件夹不存在：{root}")
    if not root.is_dir():
        raise ScanError(f"{root} 不是文件夹；检查单个文件请用 perf-eval check")
    root = root.resolve()
    out = out.resolve()
    if out.exists() and not out.is_dir():
        raise ScanError(f"输出位置 {out} 已存在且不是文件夹")
    if contains(root, out):
        raise ScanError(
            f"输出文件夹 {out} 位于被扫描的文件夹 {root} 之内（或就是它）。"
            "scan 从不向被扫描的文件夹写入任何内容，请用 --out 指定它之外的文件夹。"
        )
    if contains(out, root):
        raise ScanError(f"被扫描的文件夹 {root} 位于输出文件夹 {out} 之内，请用 --out 指定另一个文件夹。")
    return root, out


def run_scan(options: ScanOptions, *, progress: Progress | None = None) -> ScanOutcome:
    """Scan `options.root` into `options.out`; raises `ScanError` or `cache.LockHeld` (exit code 2)."""
    from perf_eval.profiles import ProfileError, load

    root, out = check_folders(options.root, options.out)
    if options.profile:
        import perf_eval.rules  # noqa: F401  (the rule IDs a profile's [severity] may name)

        try:
            load(options.profile)
        except ProfileError as exc:
            raise ScanError(exc.reason) from None
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScanError(OutputError.from_os_error(exc, out / SUMMARY_JSON).reason) from None
    with ScanLock(out):
        try:
            return _Scan(options, root, out, progress or (lambda phase, done, total: None)).run()
        except OutputError as exc:  # the cache could not be written (disk full, permissions)
            raise ScanError(exc.reason) from None


@dataclass
class _Item:
    """One discovered file on its way through the scan."""

    index: int
    found: Found
    record: PathRecord | None
    sha: str | None = None
    entry: ReadEntry | None = None  # always `light`: the workbook itself stays in the cache
    pairs: list[tuple[Any, ...]] = field(default_factory=list)
    result_key: str | None = None
    result: FileResult | None = None
    checked: bool = False  # the result was computed in this run
    annotated: str | None = None
    copy_stamp: tuple[int, int] | None = None
    copy_notes: tuple[str, ...] = ()
    partner_unit: str | None = None


def _old_forms(workbooks: list[_Item]) -> set[tuple[int, int]]:
    """The forms (workbook index, form index) that a later version of the same report replaces (`review`)."""
    slots: dict[tuple[Any, ...], list[tuple[int, int]]] = {}
    for index, item in enumerate(workbooks):
        forms = item.entry.forms if item.entry else ()
        unit = next((f.info.unit for f in forms if f.info.unit), None) or item.partner_unit
        year = next((f.info.year for f in forms if f.info.year), None)
        for at, form in enumerate(forms):
            slot = report_slot(form.info.kind, unit, form.info.year or year)
            if slot is not None:
                slots.setdefault(slot, []).append((index, at))
    old: set[tuple[int, int]] = set()
    for refs in slots.values():
        if len({index for index, _ in refs}) < 2:
            continue
        versions = []
        for index, at in refs:
            item = workbooks[index]
            dates = item.entry.dates if item.entry else ()
            versions.append((dates[at] if at < len(dates) else None, item.found.fingerprint[3], item.found.rel))
        latest, _ = latest_of(versions)
        old.update(ref for ref in refs if ref[0] != refs[latest][0])
    return old


@dataclass
class _ReportJob:
    """A report to check, and its partners (`narrative.check.SetKey`) with the workbooks they refer to."""

    item: _Item
    partners: list[tuple[SetKey, list[_Item]]]


@dataclass
class _Group:
    """Files checked together: a connected group of pairs (or one file), and its pairs (into `items`)."""

    items: list[_Item]
    pairs: list[Pair] = field(default_factory=list)


class _Scan:
    def __init__(self, options: ScanOptions, root: Path, out: Path, progress: Progress) -> None:
        self.options = options
        self.root = root
        self.out = out
        self.progress = progress
        self.full = options.full
        self.cache = Cache(out, tool=tool_signature(), profile=profile_signature(options.profile))
        self.items: list[_Item] = []
        self.waiting: dict[str, list[_Item]] = {}  # content hash → items whose read is under way
        self.reads: dict[str, ReadEntry] = {}  # content hash → its light read, once known in this run
        self.fresh_results: dict[str, FileResult] = {}
        self.solo: list[_Item] = []
        self.pairable: list[_Item] = []
        self.paired = False
        self.chunks: deque[list[_Group]] = deque()  # to check, whenever no worker outcome is waiting
        self.reports: list[_Item] = []  # written reports, paired once every workbook is read
        self.report_jobs: deque[_ReportJob] = deque()  # reports to check, after the chunks
        self.unpaired: list[dict[str, Any]] = []
        self.outstanding = 0
        self.reads_total = self.reads_done = 0
        self.annotate_total = self.annotate_done = 0
        self.counters = {"read": 0, "reused": 0, "checked": 0, "annotated": 0, "annotate_failed": 0}
        self.pool: WorkerPool | None = None

    # --- the run -------------------------------------------------------------------------

    def run(self) -> ScanOutcome:
        started, clock = datetime.now().astimezone(), time.monotonic()
        remove_stale_temps(self.out)
        found, skipped = discover(self.root)
        previous = self.cache.load_index()
        self.items = [_Item(index, f, self.cache.get_path(f.rel)) for index, f in enumerate(found)]
        for done, item in enumerate(self.items, start=1):
            self._hash(item)
            self.progress("hash", done, len(self.items))
        self.pool = WorkerPool(self.options.jobs, self.options.limits)
        try:
            self._read_all()
            while self.outstanding or self.chunks or self.report_jobs:
                # Outcomes first: they keep the workers fed; rules run while nothing else is waiting.
                outcome = self.pool.poll() if self.chunks or self.report_jobs else self.pool.get()
                if outcome is None and self.chunks:
                    self._check_chunk(self.chunks.popleft())
                elif outcome is None:
                    self._check_report(self.report_jobs.popleft())
                else:
                    self._handle(outcome)
        except BaseException:
            self.pool.terminate()
            raise
        self.pool.close()
        return self._finish(previous, skipped, started, clock)

    def _hash(self, item: _Item) -> None:
        record = item.record
        if not self.full and record and record.sha256 and record.fingerprint == item.found.fingerprint:
            item.sha = record.sha256
            return
        try:
            item.sha = _content_hash(item.found)
        except safety.UnreadableWorkbook as exc:
            item.entry = ReadEntry.unreadable(exc.reason, exc.code)

    def _known_read(self, item: _Item) -> ReadEntry | None:
        """The light read of the item's content: from this run, its path's record, or the cache."""
        assert item.sha is not None
        entry = self.reads.get(item.sha)
        if entry is not None or self.full:
            return entry
        record = item.record
        if (
            record is not None
            and record.read is not None
            and record.sha256 == item.sha
            and record.read_key == self.cache.read_key(item.sha)
            and self.cache.keep_read(item.sha)  # the workbook is still there, should it be checked again
        ):
            entry = record.read
        else:
            stored = self.cache.get_read(item.sha)
            entry = stored.light() if stored is not None else None
        if entry is not None:
            self.reads[item.sha] = entry
        return entry

    def _read_all(self) -> None:
        assert self.pool is not None
        ready: list[_Item] = []
        for item in self.items:
            if item.entry is not None or item.sha is None:
                ready.append(item)
                continue
            entry = self._known_read(item)
            if entry is not None:
                item.entry = entry
                self.counters["reused"] += 1
                ready.append(item)
            elif item.sha in self.waiting:
                self.waiting[item.sha].append(item)
            else:
                self.waiting[item.sha] = [item]
                task = read_report_task if is_report_name(item.found.path.name) else read_task
                self.pool.submit(("read", item.sha), task, str(item.found.path), item.found.fingerprint)
                self.outstanding += 1
                self.reads_total += 1
        self.progress("read", 0, self.reads_total)
        for item in ready:
            self._route(item)
        self._after_read()

    def _handle(self, outcome: Outcome) -> None:
        self.outstanding -= 1
        kind, key = cast(tuple[str, Any], outcome.task_id)
        if kind == "read":
            entry = outcome.value if outcome.failure is None else None
            if not isinstance(entry, ReadEntry):
                failure = outcome.failure or safety.UnreadableWorkbook.of("crashed")
                entry = ReadEntry.unreadable(failure.reason, failure.code)
            if not entry.transient:
                self.cache.put_read(key, entry)
                self.reads[key] = entry.light()
            entry = entry.light()  # the workbook is loaded from the cache again when it is checked
            self.counters["read"] += 1
            self.reads_done += 1
            self.progress("read", self.reads_done, self.reads_total)
            for item in self.waiting.pop(key):
                item.entry = entry
                self._route(item)
            self._after_read()
        else:
            value = outcome.value
            if not isinstance(value, AnnotateOutcome):
                reason = outcome.failure.reason if outcome.failure else "未知原因"
                value = AnnotateOutcome(None, failure=reason)
            self._annotated(self.items[key], value)

    def _after_read(self) -> None:
        if len(self.solo) >= _CHUNK or (self.solo and self.reads_done == self.reads_total):
            batch, self.solo = self.solo, []
            self.chunks.append([_Group([item]) for item in batch])
        if self.reads_done == self.reads_total and not self.paired:
            self.paired = True
            pairable = sorted(self.pairable, key=lambda i: i.found.rel)
            self._pair(pairable)
            self._pair_reports(pairable)
            self.pairable = []

    # --- results ---------------------------------------------------------------------------

    def _route(self, item: _Item) -> None:
        entry = item.entry
        assert entry is not None
        if not entry.readable:
            assert entry.reason is not None
            item.result = FileResult(item.found.rel, item.sha, FileStatus.UNREADABLE, error=entry.reason)
            self._record(item)
        elif entry.report:
            self.reports.append(item)
        elif entry.pairable:
            self.pairable.append(item)
        else:
            item.result_key = self.cache.result_key(item.sha or "", [])
            if not self._cached_result(item):
                self.solo.append(item)

    def _cached_result(self, item: _Item) -> bool:
        assert item.result_key is not None
        result = self.fresh_results.get(item.result_key)
        if result is None and not self.full:
            result = self.cache.get_result(item.result_key)
        if result is None:
            return False
        item.result = _localized(result, item.found.rel)
        self._annotate(item)
        return True

    def _pair(self, items: list[_Item]) -> None:
        """Pair the forms of every pairable workbook from their keys; queue the groups that hold a file to check."""
        if not items:
            return
        keys = [WorkbookKey(item.found.path, item.entry.forms if item.entry else ()) for item in items]
        pairs = pair_keys(keys)
        group = list(range(len(items)))

        def find(index: int) -> int:
            while group[index] != index:
                group[index] = group[group[index]]
                index = group[index]
            return index

        paired: set[FormRef] = set()
        for (b, b_at), (e, e_at) in pairs:
            items[b].pairs.append(("basic", b_at, items[e].sha, e_at))
            items[e].pairs.append(("eval", e_at, items[b].sha, b_at))
            items[b].partner_unit = items[b].partner_unit or keys[e].forms[e_at].info.unit
            group[find(b)] = find(e)
            paired.update(((b, b_at), (e, e_at)))
        for index, key in enumerate(keys):
            for at, form in enumerate(key.forms):
                if form.role is not None and (index, at) not in paired:
                    self.unpaired.append({"path": items[index].found.rel, **form.info.to_dict()})
        needed: set[int] = set()
        for index, item in enumerate(items):
            item.result_key = self.cache.result_key(item.sha or "", item.pairs)
            if not self._cached_result(item):
                needed.add(find(index))
        if not needed:
            return
        groups: dict[int, _Group] = {}
        position: dict[int, int] = {}
        for index, item in enumerate(items):
            root = find(index)
            if root in needed:
                members = groups.setdefault(root, _Group([])).items
                position[index] = len(members)
                members.append(item)
        for (b, b_at), (e, e_at) in pairs:
            if b in position:
                groups[find(b)].pairs.append(((position[b], b_at), (position[e], e_at)))
        chunk: list[_Group] = []
        size = 0
        for each in groups.values():
            chunk.append(each)
            size += len(each.items)
            if size >= _CHUNK:
                self.chunks.append(chunk)
                chunk, size = [], 0
        if chunk:
            self.chunks.append(chunk)

    def _pair_reports(self, workbooks: list[_Item]) -> None:
        """Each report with its unit's forms (`narrative.check.partners_of`, as `check` pairs them).

        A report's result is keyed by its content and by the content, place and form of every
        partner: a changed report or a changed partner workbook is checked again, nothing else.
        """
        if not self.reports:
            return
        from perf_eval.narrative.check import ReportKey, partners_of, set_keys

        keys = [WorkbookKey(PurePosixPath(i.found.rel), i.entry.forms if i.entry else ()) for i in workbooks]
        # A report is checked against the forms that judge its unit, never an old version of them.
        old = _old_forms(workbooks)
        sets = [s for s in set_keys(keys) if (s.evaluation or s.basic) not in old]
        for item in sorted(self.reports, key=lambda i: i.found.rel):
            assert item.entry is not None
            info = item.entry.forms[0].info if item.entry.forms else None
            key = ReportKey(PurePosixPath(item.found.rel), info.unit if info else None, info.year if info else None)
            partners = partners_of(key, sets)
            spec: list[tuple[Any, ...]] = []
            for partner in partners:
                ends = [(workbooks[ref[0]], ref[1]) if ref else None for ref in (partner.basic, partner.evaluation)]
                spec.append(
                    tuple(x for end in ends for x in ((end[0].sha, end[1], end[0].found.rel) if end else (None,)))
                )
            if partners:
                units = [
                    keys[ref[0]].forms[ref[1]].info.unit for p in partners for ref in (p.evaluation, p.basic) if ref
                ]
                item.partner_unit = next((u for u in units if u), None)
            else:
                self.unpaired.append({"path": item.found.rel, **(info.to_dict() if info else {})})
            item.result_key = self.cache.result_key(item.sha or "", [("report", *one) for one in spec])
            if not self._cached_result(item):
                self.report_jobs.append(_ReportJob(item, [(partner, workbooks) for partner in partners]))

    def _check_report(self, job: _ReportJob) -> None:
        """The N rules for one report against its partners' forms, loaded from the cache."""
        from perf_eval.narrative.check import FormSet, check_report, report_result
        from perf_eval.profiles import default_for, load

        item = job.item
        document = self._document(item)
        sets: list[FormSet] = []
        for partner, workbooks in job.partners:
            loaded: dict[int, ReadWorkbook | None] = {}
            for ref in (partner.basic, partner.evaluation):
                if ref is not None and ref[0] not in loaded:
                    loaded[ref[0]] = self._workbook(workbooks[ref[0]])
            if any(w is None for w in loaded.values()):
                document = None
                break
            basic = loaded[partner.basic[0]] if partner.basic else None
            evaluation = loaded[partner.evaluation[0]] if partner.evaluation else None
            sets.append(
                FormSet(
                    cast("BasicData", basic.forms[partner.basic[1]]) if basic and partner.basic else None,
                    Path(workbooks[partner.basic[0]].found.rel) if partner.basic else None,
                    cast("SelfEval", evaluation.forms[partner.evaluation[1]])
                    if evaluation and partner.evaluation
                    else None,
                    Path(workbooks[partner.evaluation[0]].found.rel) if partner.evaluation else None,
                )
            )
        if document is None:
            self._accept(item, None, reason=_RELOAD_FAILED)
            return
        try:
            findings = check_report(document, sets, profile=self.options.profile)
            result = report_result(Path(item.found.rel), document, findings, item.sha, sets)
            name = (load(self.options.profile) if self.options.profile else default_for(FormKind.DEPT_SELF_EVAL)).name
            result.forms = [replace(info, profile=name) for info in result.forms]
        except Exception:
            self._accept(item, None)
            return
        self._accept(item, result)

    def _document(self, item: _Item) -> ReportDocument | None:
        """The report as read, from the cache (None when the entry is gone or damaged)."""
        assert item.sha is not None
        stored = self.cache.get_read(item.sha)
        try:
            document = pickle.loads(stored.workbook) if stored is not None and stored.workbook else None
        except Exception:
            document = None
        if document is None:
            self.cache.drop_read(item.sha)
            return None
        return replace(cast("ReportDocument", document), path=item.found.path)

    def _check_chunk(self, groups: list[_Group]) -> None:
        """Rules for a few groups in one call, then their annotated copies; a crash costs only its group."""
        from perf_eval.checker import check_workbooks

        items: list[_Item] = []
        workbooks: list[ReadWorkbook] = []
        pairs: list[Pair] = []
        for each in groups:
            loaded = [self._workbook(item) for item in each.items]
            if any(workbook is None for workbook in loaded):
                for item in each.items:
                    if item.result is None:
                        self._accept(item, None, reason=_RELOAD_FAILED)
                continue
            offset = len(items)
            items.extend(each.items)
            workbooks.extend(cast("list[ReadWorkbook]", loaded))
            pairs.extend(((b + offset, b_at), (e + offset, e_at)) for (b, b_at), (e, e_at) in each.pairs)
        if not items:
            return
        results: list[FileResult] | None
        try:
            checked = check_workbooks(
                [i.found.path for i in items], workbooks, profile=self.options.profile, pairs=pairs
            )
            results = [one.result for one in checked]
            del checked
        except Exception:
            results = None
        del workbooks, loaded  # released before the copies are written (or the groups are tried one by one)
        if results is None:
            if len(groups) > 1:
                for each in groups:
                    self._check_chunk([each])
                return
            for item in items:
                if item.result is None:
                    self._accept(item, None)
            return
        for item, result in zip(items, results, strict=True):
            if item.result is None:  # the others of its group kept their cached result
                self._accept(item, result)

    def _workbook(self, item: _Item) -> ReadWorkbook | None:
        """The item's workbook, from the cache, as read at the item's own path (a copy shares the read)."""
        assert item.sha is not None
        stored = self.cache.get_read(item.sha)
        try:
            workbook = pickle.loads(stored.workbook) if stored is not None and stored.workbook else None
        except Exception:
            workbook = None
        if workbook is None:
            self.cache.drop_read(item.sha)  # damaged or gone: the next scan reads the file again
            return None
        return replace(cast("ReadWorkbook", workbook), path=item.found.path)

    def _accept(self, item: _Item, result: FileResult | None, *, reason: str | None = None) -> None:
        if result is None:
            reason = reason or "校验时发生内部错误，请将此文件反馈给维护人员"
            item.result = FileResult(item.found.rel, item.sha, FileStatus.UNREADABLE, error=reason)
        elif result.sha256 != item.sha:  # changed between our hash and the rules' hash: retry next run
            item.result = FileResult(item.found.rel, item.sha, FileStatus.UNREADABLE, error=safety.REASONS["changed"])
        else:
            assert item.result_key is not None
            stored = replace(result, path="", annotated=None, notes=list(result.notes))
            self.cache.put_result(item.result_key, stored)
            self.fresh_results[item.result_key] = stored
            item.result = _localized(stored, item.found.rel)
            item.checked = True
            self.counters["checked"] += 1
            self._annotate(item)
            return
        self._record(item)

    # --- annotated copies ----------------------------------------------------------------

    def _annotate(self, item: _Item) -> None:
        assert self.pool is not None and item.result is not None and item.entry is not None
        if self.options.copies != "all" and not item.result.deviations:
            item.annotated, item.copy_stamp, item.copy_notes = None, None, ()  # a clean file's copy carries nothing
            self._record(item)
            return
        record = item.record
        if (
            not self.full
            and record is not None
            and record.result_key == item.result_key
            and record.sha256 == item.sha
            and record.annotated
            and record.copy_stamp == _stamp(self.out / record.annotated)
        ):
            item.annotated, item.copy_stamp, item.copy_notes = record.annotated, record.copy_stamp, record.notes
            self._record(item)
            return
        source = replace(item.result, path=str(item.found.path))
        folder = self.out / PurePosixPath(item.found.rel).parent
        if item.entry.report:
            stored = self.cache.get_read(item.sha or "")
            if stored is None or stored.workbook is None:
                item.annotated, item.copy_stamp = None, None
                item.copy_notes = (f"批注副本未能写出：{_RELOAD_FAILED}",)
                self.counters["annotate_failed"] += 1
                self._record(item)
                return
            self.pool.submit(
                ("annotate", item.index),
                annotate_report_task,
                str(item.found.path),
                source,
                str(folder),
                stored.workbook,
            )
        else:
            self.pool.submit(
                ("annotate", item.index), annotate_task, str(item.found.path), source, str(folder), item.entry.drawings
            )
        self.outstanding += 1
        self.annotate_total += 1
        self.progress("annotate", self.annotate_done, self.annotate_total)

    def _annotated(self, item: _Item, outcome: AnnotateOutcome) -> None:
        self.annotate_done += 1
        self.progress("annotate", self.annotate_done, self.annotate_total)
        if outcome.copy is not None:
            copy = Path(outcome.copy)
            item.annotated = copy.relative_to(self.out).as_posix()
            item.copy_stamp = _stamp(copy)
            item.copy_notes = outcome.notes
            self.counters["annotated"] += 1
        else:
            item.copy_notes = (f"批注副本未能写出：{outcome.failure}",)
            self.counters["annotate_failed"] += 1
        self._record(item)

    def _record(self, item: _Item) -> None:
        if item.sha is None:
            return
        cached_read = item.entry is not None and not item.entry.transient
        record = PathRecord(
            rel=item.found.rel,
            fingerprint=item.found.fingerprint,
            sha256=item.sha,
            result_key=item.result_key,
            annotated=item.annotated,
            copy_stamp=item.copy_stamp,
            notes=item.copy_notes,
            read_key=self.cache.read_key(item.sha) if cached_read else None,
            read=item.entry if cached_read else None,
        )
        if record != item.record:
            previous = item.record
            if previous is not None and previous.annotated and previous.annotated != item.annotated:
                self._drop_copy(previous)  # the file became unreadable, or its copy moved
            self.cache.put_path(record)

    # --- outputs ---------------------------------------------------------------------------

    def _finish(self, previous: Completed, skipped: list[Skipped], started: datetime, clock: float) -> ScanOutcome:
        files: list[FileResult] = []
        members: list[Member] = []
        for item in self.items:
            assert item.result is not None
            result = replace(item.result, annotated=item.annotated, notes=[*item.result.notes, *item.copy_notes])
            files.append(result)
            dates = item.entry.dates if item.entry is not None else ()
            if len(dates) != len(result.forms):
                dates = (None,) * len(result.forms)
            members.append(Member(item.found.rel, result, dates, item.found.fingerprint[3], item.partner_unit))
        report = Report(files, __version__)
        current = {item.found.rel: item.sha for item in self.items}
        removed = sorted(set(previous.files) - set(current))
        self._forget(removed)
        problems: list[str] = []
        json_path, xlsx_path = self.out / SUMMARY_JSON, self.out / SUMMARY_XLSX
        last = self.cache.load_last()
        acceptances, store_ok, notes = self._acceptances(previous, last, xlsx_path)
        problems.extend(notes)
        outcome = evaluate(
            review(members),
            acceptances=acceptances,
            previous=last,
            today=started.date().isoformat(),
            # To the microsecond: it tells this scan's change from an earlier one (a finding is "new" in
            # summary.xlsx when first seen by the change shown), even for scans that start in one second.
            now=started.isoformat(timespec="microseconds"),
        )
        data = report.to_dict()
        data["scan"] = summary.scan_section(
            root=self.root,
            out=self.out,
            profile=self.options.profile,
            full=self.full,
            report=report,
            outcome=outcome,
            previous=previous.files,
            removed=removed,
            skipped=skipped,
            unpaired=self.unpaired,
            run={
                "started": started.isoformat(timespec="seconds"),
                "finished": datetime.now().astimezone().isoformat(timespec="seconds"),
                "seconds": round(time.monotonic() - clock, 3),
                "jobs": self.options.jobs,
                **self.counters,
            },
        )
        data["scan"]["since_last"]["previous_finished"] = (last or {}).get("finished")
        # summary.json is always written: it is cheap, and its `scan.run` says when this scan ran.
        # summary.xlsx (seconds for thousands of rows) only when what it shows differs from what the
        # last completed scan wrote, or the file is not exactly as that scan left it.
        view = _digest(self.cache.tool, xlsx_view(data))
        same_xlsx = (
            not self.full
            and previous.xlsx_digest == view
            and previous.xlsx_stamp is not None
            and _stamp(xlsx_path) == previous.xlsx_stamp
        )
        if store_ok:
            try:
                if acceptances or (self.out / STORE_NAME).exists():
                    save_store(self.out, outcome.acceptances)
            except OutputError as exc:
                problems.append(exc.reason)
        json_written = False
        try:
            atomic_write(json_path, lambda temp: _write_json(temp, data))
            json_written = True
        except OutputError as exc:
            problems.append(exc.reason)
        if not same_xlsx:
            from perf_eval.outputs.summary_xlsx import write_summary_xlsx

            try:
                write_summary_xlsx(xlsx_path, data)
            except OutputError as exc:
                problems.append(exc.reason)
        if not problems:
            # Only a scan whose summaries are written counts as completed: the next one compares with it.
            try:
                self.cache.save_last({**outcome.last, "finished": data["scan"]["run"]["finished"]})
                self.cache.save_index(Completed(current, view, _stamp(xlsx_path)))
                self.cache.prune()
            except OutputError as exc:
                problems.append(exc.reason)
        return ScanOutcome(data, report, json_path, xlsx_path, problems, json_written)

    def _acceptances(
        self, previous: Completed, last: dict[str, Any] | None, xlsx_path: Path
    ) -> tuple[list[Acceptance], bool, list[str]]:
        """The record of accepted findings, with what reviewers wrote into summary.xlsx since the last scan."""
        try:
            acceptances = load_store(self.out)
        except StoreError as exc:
            return [], False, [exc.reason]
        stamp = _stamp(xlsx_path)
        if stamp is None or stamp == previous.xlsx_stamp or last is None:
            return acceptances, True, []
        try:
            reasons = read_reasons(xlsx_path)
        except PermissionError as exc:
            return acceptances, False, [f"{xlsx_path} 无法读取（{exc.strerror or exc}），其中填写的说明未能读入"]
        except Exception:  # not a workbook any more (replaced, damaged): nothing typed in it can be read
            return acceptances, True, []
        today = datetime.now().astimezone().date().isoformat()
        return merge(acceptances, reasons, last.get("findings", {}), today), True, []

    def _forget(self, removed: list[str]) -> None:
        """Delete the annotated copies of removed files, if they are still exactly as we wrote them."""
        for rel in removed:
            record = self.cache.forget_path(rel)
            if record is not None:
                self._drop_copy(record)

    def _drop_copy(self, record: PathRecord) -> None:
        """Delete a copy that no longer belongs to a file, if it is still exactly as we wrote it."""
        if not record.annotated or record.copy_stamp is None:
            return
        copy = self.out / record.annotated
        if _stamp(copy) == record.copy_stamp:
            try:
                copy.unlink()
            except OSError:
                pass


def _content_hash(found: Found) -> str:
    """SHA-256 of the file, which must be the one discovered (same device, inode, size and mtime)."""
    digest = hashlib.sha256()
    with safety.open_regular(found.path) as handle:
        if _fingerprint_of(os.fstat(handle.fileno())) != found.fingerprint:
            raise safety.UnreadableWorkbook.of("changed")
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
        if _fingerprint_of(os.fstat(handle.fileno())) != found.fingerprint:
            raise safety.UnreadableWorkbook.of("changed")
    return digest.hexdigest()


def _fingerprint_of(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """summary.json, chunk by chunk: the text of thousands of files is never held in memory at once."""
    from perf_eval.outputs.json_report import summary_chunks

    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(summary_chunks(data))
        handle.write("\n")


def _digest(tool: str, view: dict[str, Any]) -> str:
    """A hash of what summary.xlsx shows (file by file, never one text of the whole)."""
    hasher = hashlib.sha256(tool.encode())
    for entry in view["files"]:
        hasher.update(json.dumps(entry, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8"))
        hasher.update(b"\n")
    hasher.update(json.dumps(view["scan"], ensure_ascii=False, sort_keys=True, default=str).encode("utf-8"))
    return hasher.hexdigest()


def _localized(result: FileResult, rel: str) -> FileResult:
    return replace(result, path=rel, annotated=None, notes=list(result.notes))
