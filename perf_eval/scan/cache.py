"""The scan's state in OUTDIR: a lock, per-file cache entries, and the last completed scan.

Layout (all under ``OUTDIR/.perf-eval-scan/``; hidden, so never mistaken for output)::

    lock                        held (flock / msvcrt.locking) while a scan runs
    reads/ab/<key>.pickle       a content hash read: `ReadEntry` (the pickled ReadWorkbook)
    results/ab/<key>.pickle     a checked result (`FileResult`, path-free)
    paths/ab/<key>.json         per path: lstat → content hash, the `light` read (the forms
                                that pairing needs), and its annotated copy
    index.json                  the last *completed* scan: path → content hash, and a hash
                                of what its summary.xlsx shows

Every entry is one file written atomically (`perf_eval.atomic`), so a scan
killed at any moment leaves only whole entries; the next scan uses them and
does the rest. Keys are hashes of everything the value depends on:

- a read: the content hash and the tool signature (version, source, readers);
  a path's record names the read key its light read belongs to;
- a result: that, the profile (name and the content of every profile file),
  and the cross-form pairs the file takes part in (see `run`).

The cache belongs to the scan: unpickling runs code, so OUTDIR must be a
folder only the scan's own account can write to (see docs/scan.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, BinaryIO

from perf_eval._version import __version__
from perf_eval.atomic import TEMP_PREFIX, TEMP_SUFFIX, OutputError, atomic_write_bytes, atomic_write_text
from perf_eval.errors import PerfEvalError
from perf_eval.model import FileResult
from perf_eval.scan.tasks import ReadEntry

CACHE_DIR = ".perf-eval-scan"
_INDEX_FORMAT = 2  # 1: the files only
_READER_PACKAGES = ("python-calamine", "openpyxl", "xlrd", "pandas", "pandera")


class LockHeld(PerfEvalError):
    """Another scan holds OUTDIR's lock; `reason` is Chinese."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ScanLock:
    """An OS lock on ``OUTDIR/.perf-eval-scan/lock``: released by the OS when the process dies, so never stale."""

    def __init__(self, out: Path) -> None:
        self.path = out / CACHE_DIR / "lock"
        self._handle: BinaryIO | None = None

    def __enter__(self) -> ScanLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+b")
        try:
            _lock(handle)
        except OSError:
            handle.close()
            raise LockHeld(
                f"另一个 perf-eval scan 正在使用输出文件夹 {self.path.parent.parent}，"
                f"请等它结束后再运行（锁文件：{self.path}）"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n".encode())
        handle.flush()
        self._handle = handle
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.close()  # closing releases the lock
            self._handle = None


def _lock(handle: BinaryIO) -> None:
    if os.name == "nt":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, default=str).encode("utf-8")).hexdigest()


def tool_signature() -> str:
    """The version, every source file of the package, and the reader libraries' versions.

    Source files count too: a changed rule or reader without a version bump
    (a development install) must not serve stale results.
    """
    package = Path(__file__).resolve().parent.parent
    hasher = hashlib.sha256(__version__.encode())
    for source in sorted(package.rglob("*.py")):
        hasher.update(source.relative_to(package).as_posix().encode())
        hasher.update(source.read_bytes())
    for name in _READER_PACKAGES:
        try:
            hasher.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            hasher.update(f"{name}=-".encode())
    return hasher.hexdigest()


def profile_signature(profile: str | None) -> str:
    """The chosen profile and the content of every profile file a name can reach (defaults are chosen per form)."""
    from perf_eval.profiles import signature

    return signature(profile)


@dataclass(frozen=True)
class PathRecord:
    """What the last scan knew about one path."""

    rel: str
    fingerprint: tuple[int, int, int, int]
    sha256: str | None
    result_key: str | None = None
    annotated: str | None = None  # relative to OUTDIR
    copy_stamp: tuple[int, int] | None = None  # (size, mtime_ns) of the copy as we wrote it
    notes: tuple[str, ...] = ()
    read_key: str | None = None  # the cache entry `read` is the light form of
    read: ReadEntry | None = None

    def to_json(self) -> str:
        data = {
            "rel": self.rel,
            "fingerprint": list(self.fingerprint),
            "sha256": self.sha256,
            "result_key": self.result_key,
            "annotated": self.annotated,
            "copy_stamp": list(self.copy_stamp) if self.copy_stamp else None,
            "notes": list(self.notes),
            "read_key": self.read_key,
            "read": self.read.to_json() if self.read is not None else None,
        }
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> PathRecord:
        data = json.loads(text)
        fingerprint = tuple(int(n) for n in data["fingerprint"])
        stamp = data.get("copy_stamp")
        read = data.get("read")
        return cls(
            rel=str(data["rel"]),
            fingerprint=(fingerprint[0], fingerprint[1], fingerprint[2], fingerprint[3]),
            sha256=data.get("sha256"),
            result_key=data.get("result_key"),
            annotated=data.get("annotated"),
            copy_stamp=(int(stamp[0]), int(stamp[1])) if stamp else None,
            notes=tuple(str(n) for n in data.get("notes", ())),
            read_key=data.get("read_key"),
            read=ReadEntry.from_json(read) if read is not None else None,
        )


@dataclass(frozen=True)
class Completed:
    """The last completed scan: path → content hash, and what its summary.xlsx was made of."""

    files: dict[str, str | None] = field(default_factory=dict)
    xlsx_digest: str | None = None  # a hash of `summary_view.xlsx_view` (and the tool)
    xlsx_stamp: tuple[int, int] | None = None  # (size, mtime_ns) of summary.xlsx as written


class Cache:
    """Entries under ``OUTDIR/.perf-eval-scan``; an unreadable entry is a miss, never an error."""

    def __init__(self, out: Path, *, tool: str, profile: str) -> None:
        self.root = out / CACHE_DIR
        self.tool = tool
        self.profile = profile
        self.used: set[str] = set()  # entries this scan used (as text: thousands of them)

    # --- keys ---------------------------------------------------------------------------

    def read_key(self, sha256: str) -> str:
        return digest("read", self.tool, sha256)

    def result_key(self, sha256: str, pairs: Iterable[tuple[Any, ...]]) -> str:
        return digest("result", self.tool, self.profile, sha256, sorted(pairs))

    def _entry(self, kind: str, key: str, suffix: str) -> Path:
        return self.root / kind / key[:2] / f"{key}{suffix}"

    # --- reads and results --------------------------------------------------------------

    def get_read(self, sha256: str) -> ReadEntry | None:
        value = self._load(self._entry("reads", self.read_key(sha256), ".pickle"))
        return value if isinstance(value, ReadEntry) else None

    def put_read(self, sha256: str, entry: ReadEntry) -> None:
        self._store(self._entry("reads", self.read_key(sha256), ".pickle"), entry)

    def keep_read(self, sha256: str) -> bool:
        """Whether the read is stored, without loading it; it is kept (not pruned) if so."""
        path = self._entry("reads", self.read_key(sha256), ".pickle")
        self.used.add(str(path))
        return path.is_file()

    def drop_read(self, sha256: str) -> None:
        """Delete a read that could not be loaded: the next scan reads the file again."""
        path = self._entry("reads", self.read_key(sha256), ".pickle")
        self.used.discard(str(path))
        try:
            path.unlink()
        except OSError:
            pass

    def get_result(self, key: str) -> FileResult | None:
        value = self._load(self._entry("results", key, ".pickle"))
        return value if isinstance(value, FileResult) else None

    def put_result(self, key: str, result: FileResult) -> None:
        self._store(self._entry("results", key, ".pickle"), result)

    def _load(self, path: Path) -> object:
        self.used.add(str(path))
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:
            return pickle.loads(data)
        except Exception:  # written by another version, or damaged: a miss
            return None

    def _store(self, path: Path, value: object) -> None:
        self.used.add(str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

    # --- per path -------------------------------------------------------------------------

    def _path_entry(self, rel: str) -> Path:
        return self._entry("paths", digest("path", rel), ".json")

    def get_path(self, rel: str) -> PathRecord | None:
        path = self._path_entry(rel)
        self.used.add(str(path))
        try:
            record = PathRecord.from_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return None
        return record if record.rel == rel else None

    def put_path(self, record: PathRecord) -> None:
        path = self._path_entry(record.rel)
        self.used.add(str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, record.to_json())

    def forget_path(self, rel: str) -> PathRecord | None:
        """The record of a path that is gone; its entry is pruned with the unused ones."""
        record = self.get_path(rel)
        self.used.discard(str(self._path_entry(rel)))
        return record

    # --- the last completed scan --------------------------------------------------------

    @property
    def index_path(self) -> Path:
        return self.root / "index.json"

    def load_index(self) -> Completed:
        try:
            data = json.loads(self.index_path.read_text(encoding="utf-8"))
            if data.get("format") not in (1, _INDEX_FORMAT):
                return Completed()
            files = {str(k): (str(v) if v else None) for k, v in data["files"].items()}
            xlsx = data.get("xlsx") or {}
            stamp = xlsx.get("stamp")
            return Completed(files, xlsx.get("digest"), (int(stamp[0]), int(stamp[1])) if stamp else None)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
            return Completed()

    def save_index(self, completed: Completed) -> None:
        xlsx = {"digest": completed.xlsx_digest, "stamp": list(completed.xlsx_stamp) if completed.xlsx_stamp else None}
        data = {"format": _INDEX_FORMAT, "files": completed.files, "xlsx": xlsx}
        atomic_write_text(self.index_path, json.dumps(data, ensure_ascii=False))

    # --- what the last completed scan found (for "what changed since last night") -------------

    @property
    def last_path(self) -> Path:
        return self.root / "last.json"

    def load_last(self) -> dict[str, Any] | None:
        """The findings and unit statuses of the last completed scan; None before the first one."""
        try:
            data = json.loads(self.last_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("findings"), dict):
            return None
        return data

    def save_last(self, data: dict[str, Any]) -> None:
        atomic_write_text(self.last_path, json.dumps(data, ensure_ascii=False, default=str))

    # --- housekeeping -------------------------------------------------------------------

    def prune(self) -> int:
        """Remove every entry this scan did not use (old versions, removed files); how many."""
        removed = 0
        for kind in ("reads", "results", "paths"):
            folder = self.root / kind
            if not folder.is_dir():
                continue
            for entry in folder.rglob("*"):
                if str(entry) not in self.used and entry.is_file():
                    try:
                        entry.unlink()
                        removed += 1
                    except OSError:
                        pass
        return removed


def remove_stale_temps(out: Path) -> int:
    """Delete unfinished atomic writes in OUTDIR left by a killed scan (we hold the lock: none is live)."""
    removed = 0
    for folder, subfolders, files in os.walk(out):
        for name in files:
            if name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX):
                try:
                    os.unlink(os.path.join(folder, name))
                    removed += 1
                except OSError:
                    pass
        subfolders[:] = [d for d in subfolders if not os.path.islink(os.path.join(folder, d))]
    return removed


__all__ = [
    "CACHE_DIR",
    "Cache",
    "Completed",
    "LockHeld",
    "OutputError",
    "PathRecord",
    "ScanLock",
    "profile_signature",
    "remove_stale_temps",
    "tool_signature",
]
