"""Atomic output files: a reader sees the old file or the new one, never half of one.

The new content is written to a temporary file in the target's own folder
(same filesystem, so the final ``os.replace`` is atomic), flushed to disk, and
renamed over the target. On any failure the temporary file is removed.

Temporary names start with ``.~perf-eval-`` and end with ``.tmp``: hidden, and
on the folder scan's skip list, so a crash mid-write never leaves a file that
a later scan would try to check.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from perf_eval.errors import PerfEvalError

TEMP_PREFIX = ".~perf-eval-"
TEMP_SUFFIX = ".tmp"

_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_NO_PERMISSION = {errno.EACCES, errno.EPERM, errno.EROFS}


class OutputError(PerfEvalError):
    """An output file could not be written; `reason` says why, in Chinese, for the user."""

    def __init__(self, reason: str, path: Path) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path

    @classmethod
    def from_os_error(cls, exc: OSError, target: Path) -> OutputError:
        folder = target.parent
        if exc.errno in _DISK_FULL:
            reason = f"磁盘空间不足，无法写入 {target}"
        elif exc.errno in _NO_PERMISSION:
            reason = f"没有写入权限（或文件正被其他程序占用）：{target}"
        elif exc.errno == errno.ENOENT:
            reason = f"目标文件夹不存在：{folder}"
        elif exc.errno == errno.EISDIR:
            reason = f"目标位置是一个文件夹，无法写入：{target}"
        elif exc.errno == errno.ENAMETOOLONG:
            reason = f"文件名或路径过长，无法写入：{target}"
        else:
            reason = f"无法写入 {target}：{exc.strerror or exc}"
        return cls(reason, target)

    @classmethod
    def not_ours(cls, target: Path) -> OutputError:
        return cls(f"目标文件已存在且不是 perf-eval 生成的，不会覆盖：{target}", target)


def atomic_write(
    target: Path,
    write: Callable[[Path], object],
    *,
    may_replace: Callable[[Path], bool] | None = None,
) -> None:
    """Call ``write(temp_path)``, then move the temp file onto `target` atomically.

    `may_replace` is asked before an existing target is replaced; when it
    returns False nothing is written and `OutputError` is raised. Without it an
    existing target is replaced. OS errors become `OutputError` (with the
    original as ``__cause__``); any other exception from `write` propagates
    unchanged. Either way no temporary file is left behind.
    """
    if may_replace is not None and target.exists() and not may_replace(target):
        raise OutputError.not_ours(target)
    temp = _create_temp(target)
    try:
        write(temp)
        _fsync_file(temp)
        os.replace(temp, target)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError.from_os_error(exc, target) from exc
        raise
    _fsync_folder(target.parent)


def atomic_write_bytes(target: Path, data: bytes, *, may_replace: Callable[[Path], bool] | None = None) -> None:
    atomic_write(target, lambda temp: temp.write_bytes(data), may_replace=may_replace)


def atomic_write_text(
    target: Path, text: str, *, encoding: str = "utf-8", may_replace: Callable[[Path], bool] | None = None
) -> None:
    atomic_write(target, lambda temp: temp.write_text(text, encoding=encoding), may_replace=may_replace)


def _create_temp(target: Path) -> Path:
    """An empty, new temp file beside `target`; created with mode 0o666 so the umask applies."""
    for _ in range(100):
        temp = target.parent / f"{TEMP_PREFIX}{secrets.token_hex(8)}{TEMP_SUFFIX}"
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError.from_os_error(exc, target) from exc
        os.close(fd)
        return temp
    raise OutputError(f"无法在 {target.parent} 中创建临时文件", target)


def _fsync_file(path: Path) -> None:
    # Windows needs a writable handle for fsync (_commit).
    with open(path, "r+b") as handle:
        os.fsync(handle.fileno())


def _fsync_folder(folder: Path) -> None:
    """Persist the rename itself; POSIX only (Windows cannot open a folder)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # the file is in place; only durability across a power cut is weaker
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems (e.g. CIFS mounts) refuse fsync on folders
    finally:
        os.close(fd)


def same_file(candidate: Path, source: Path) -> bool:
    """True when `candidate` is `source` itself (same path, or the same file through another name)."""
    if candidate.absolute() == source.absolute():
        return True
    try:
        return os.path.samefile(candidate, source)
    except OSError:
        return False
