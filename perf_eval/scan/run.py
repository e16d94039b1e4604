"""One scan: find → hash → read (workers) → pair and check → annotate (workers) → summaries.

Incremental by content. Each file's content hash keys its read (a pickled
`ReadWorkbook`); its result is keyed by the hash, the profile and the
cross-form pairs it takes part in, so a changed 自评表 is re-paired with its
unchanged 基础数据表 from the cache, without reading that file again.

Pairing is global (a unit's forms may sit in any two files), so every run
pairs the forms of all workbooks that hold a 基础数据表 or a 部门整体自评表
(`checker.pair_forms`, the same function `check` uses). Only the connected
groups of pairs that contain a file to re-check go through
`checker.check_workbooks`; if pairing that subset alone would pair
differently from pairing everything (an ambiguity hidden by the subset), all
pairable workbooks are checked together instead. The result is always what
one `check_workbooks` call over every file would give.

Reads run in `pool` workers as they are needed; rules run in this process
(they need pandas) in batches while the workers go on reading; annotated
copies are written by the workers again.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, cast

from perf_eval import __version__
from perf_eval.atomic import OutputError, atomic_write_text
from perf_eval.model import FileResult, FileStatus, FormKind, Report
from perf_eval.reading import safety
from perf_eval.scan import summary
from perf_eval.scan.cache import (
    Cache,
    PathRecord,
    ScanLock,
    profile_signature,
    remove_stale_temps,
    tool_signature,
)
from perf_eval.scan.discover import Found, Skipped, contains, discover
from perf_eval.scan.pool import Outcome, WorkerPool
from perf_eval.scan.tasks import AnnotateOutcome, ReadEntry, annotate_task, read_task

if TYPE_CHECKING:
    from perf_eval.reading.workbook import ReadWorkbook

SUMMARY_JSON = "summary.json"
SUMMARY_XLSX = "summary.xlsx"
_SOLO_BATCH = 48  # files checked per rules call while workers keep reading

# (phase, done, total); phase is "hash", "read" or "annotate". Totals may grow.
Progress = Callable[[str, int, int], None]


class ScanError(Exception):
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


@dataclass
class ScanOutcome:
    data: dict[str, Any]  # summary.json
    report: Report
    summary_json: Path
    summary_xlsx: Path
    problems: list[str]  # outputs that could not be written

    @property
    def failed_files(self) -> bool:
        """Any file with errors, or unreadable (exit code 1)."""
        return any(f.errors or f.status is FileStatus.UNREADABLE for f in self.report.files)


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
    entry: ReadEntry | None = None
    pairs: list[tuple[str, int, str | None, int]] = field(default_factory=list)
    result_key: str | None = None
    result: FileResult | None = None
    checked: bool = False  # the result was computed in this run
    annotated: str | None = None
    copy_stamp: tuple[int, int] | None = None
    copy_notes: tuple[str, ...] = ()
    partner_unit: str | None = None


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
        self.fresh_reads: dict[str, ReadEntry] = {}
        self.fresh_results: dict[str, FileResult] = {}
        self.solo: list[_Item] = []
        self.pairable: list[_Item] = []
        self.paired = False
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
            while self.outstanding:
                self._handle(self.pool.get())
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

    def _read_all(self) -> None:
        assert self.pool is not None
        ready: list[_Item] = []
        for item in self.items:
            if item.entry is not None or item.sha is None:
                ready.append(item)
                continue
            entry = self.fresh_reads.get(item.sha) or (None if self.full else self.cache.get_read(item.sha))
            if entry is not None:
                item.entry = entry
                self.counters["reused"] += 1
                ready.append(item)
            elif item.sha in self.waiting:
                self.waiting[item.sha].append(item)
            else:
                self.waiting[item.sha] = [item]
                self.pool.submit(("read", item.sha), read_task, str(item.found.path), item.found.fingerprint)
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
                self.fresh_reads[key] = entry
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
        if len(self.solo) >= _SOLO_BATCH or (self.solo and self.reads_done == self.reads_total):
            batch, self.solo = self.solo, []
            self._check(batch)
        if self.reads_done == self.reads_total and not self.paired:
            self.paired = True
            self._check_pairable(sorted(self.pairable, key=lambda i: i.found.rel))
            self.pairable = []

    # --- results ---------------------------------------------------------------------------

    def _route(self, item: _Item) -> None:
        entry = item.entry
        assert entry is not None
        if entry.workbook is None:
            assert entry.reason is not None
            item.result = FileResult(item.found.rel, item.sha, FileStatus.UNREADABLE, error=entry.reason)
            self._record(item)
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

    def _check(self, batch: Sequence[_Item]) -> None:
        """Rules for `batch` in one call; a crash in the rules costs only the files it happens on."""
        from perf_eval.checker import check_workbooks

        workbooks = [_workbook(item) for item in batch]
        paths = [item.found.path for item in batch]
        try:
            results = [c.result for c in check_workbooks(paths, workbooks, profile=self.options.profile)]
        except Exception:
            if len(batch) == 1:
                self._accept(batch[0], None)
                return
            for item in batch:
                self._check([item])
            return
        for item, result in zip(batch, results, strict=True):
            self._accept(item, result)

    def _accept(self, item: _Item, result: FileResult | None) -> None:
        if result is None:
            item.result = FileResult(
                item.found.rel, item.sha, FileStatus.UNREADABLE, error="校验时发生内部错误，请将此文件反馈给维护人员"
            )
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

    def _check_pairable(self, items: list[_Item]) -> None:
        """Pair the forms of every pairable workbook, then check the groups that hold a changed file."""
        from perf_eval.checker import pair_forms

        if not items:
            return
        workbooks = [_workbook(item) for item in items]
        pairs = pair_forms(workbooks)
        owner = {id(form): (index, at) for index, wb in enumerate(workbooks) for at, form in enumerate(wb.forms)}
        group = list(range(len(items)))

        def find(index: int) -> int:
            while group[index] != index:
                group[index] = group[group[index]]
                index = group[index]
            return index

        paired: set[int] = set()
        for basic, self_eval in pairs:
            (b, b_at), (e, e_at) = owner[id(basic)], owner[id(self_eval)]
            items[b].pairs.append(("basic", b_at, items[e].sha, e_at))
            items[e].pairs.append(("eval", e_at, items[b].sha, b_at))
            items[b].partner_unit = items[b].partner_unit or self_eval.info.unit
            group[find(b)] = find(e)
            paired.update((id(basic), id(self_eval)))
        for index, workbook in enumerate(workbooks):
            for form in workbook.forms:
                if form.info.kind in (FormKind.BASIC_DATA, FormKind.DEPT_SELF_EVAL) and id(form) not in paired:
                    self.unpaired.append({"path": items[index].found.rel, **form.info.to_dict()})
        needed: set[int] = set()
        for index, item in enumerate(items):
            item.result_key = self.cache.result_key(item.sha or "", item.pairs)
            if not self._cached_result(item):
                needed.add(find(index))
        if not needed:
            return
        subset = [i for i in range(len(items)) if find(i) in needed]
        expected = {(id(b), id(e)) for b, e in pairs if owner[id(b)][0] in subset}
        alone = {(id(b), id(e)) for b, e in pair_forms([workbooks[i] for i in subset])}
        if alone != expected:
            subset = list(range(len(items)))  # the subset would pair differently: check them all together
        self._check_group([items[i] for i in subset], [workbooks[i] for i in subset])

    def _check_group(self, items: list[_Item], workbooks: list[ReadWorkbook]) -> None:
        from perf_eval.checker import check_workbooks

        try:
            checked = check_workbooks([i.found.path for i in items], workbooks, profile=self.options.profile)
        except Exception:
            for item in items:
                if item.result is None:
                    self._accept(item, None)
            return
        for item, result in zip(items, checked, strict=True):
            if item.result is None:  # the others kept their cached result
                self._accept(item, result.result)

    # --- annotated copies ----------------------------------------------------------------

    def _annotate(self, item: _Item) -> None:
        assert self.pool is not None and item.result is not None and item.entry is not None
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
        record = PathRecord(
            rel=item.found.rel,
            fingerprint=item.found.fingerprint,
            sha256=item.sha,
            result_key=item.result_key,
            annotated=item.annotated,
            copy_stamp=item.copy_stamp,
            notes=item.copy_notes,
        )
        if record != item.record:
            previous = item.record
            if previous is not None and previous.annotated and previous.annotated != item.annotated:
                self._drop_copy(previous)  # the file became unreadable, or its copy moved
            self.cache.put_path(record)

    # --- outputs ---------------------------------------------------------------------------

    def _finish(
        self, previous: dict[str, str | None], skipped: list[Skipped], started: datetime, clock: float
    ) -> ScanOutcome:
        from perf_eval.report.json_report import dumps
        from perf_eval.report.summary_xlsx import write_summary_xlsx

        files: list[FileResult] = []
        for item in self.items:
            assert item.result is not None
            result = replace(item.result, annotated=item.annotated, notes=[*item.result.notes, *item.copy_notes])
            files.append(result)
        report = Report(files, __version__)
        current = {item.found.rel: item.sha for item in self.items}
        removed = sorted(set(previous) - set(current))
        self._forget(removed)
        data = report.to_dict()
        data["scan"] = summary.scan_section(
            root=self.root,
            out=self.out,
            profile=self.options.profile,
            full=self.full,
            report=report,
            partner_units={item.found.rel: item.partner_unit for item in self.items if item.partner_unit},
            previous=previous,
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
        problems: list[str] = []
        json_path, xlsx_path = self.out / SUMMARY_JSON, self.out / SUMMARY_XLSX
        for write in (
            lambda: atomic_write_text(json_path, dumps(data) + "\n"),
            lambda: write_summary_xlsx(xlsx_path, data),
        ):
            try:
                write()
            except OutputError as exc:
                problems.append(exc.reason)
        if not problems:
            # Only a scan whose summaries are written counts as completed: the next one compares with it.
            try:
                self.cache.save_index(current)
                self.cache.prune()
            except OutputError as exc:
                problems.append(exc.reason)
        return ScanOutcome(data, report, json_path, xlsx_path, problems)

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


def _workbook(item: _Item) -> ReadWorkbook:
    """A fresh object per file: pairing tells forms apart by identity, and duplicates share a cache entry."""
    assert item.entry is not None and item.entry.workbook is not None
    return pickle.loads(item.entry.workbook)  # type: ignore[no-any-return]


def _localized(result: FileResult, rel: str) -> FileResult:
    return replace(result, path=rel, annotated=None, notes=list(result.notes))
