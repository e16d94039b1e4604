"""Finding the workbooks (and written reports, .docx/.doc/.wps) under a folder, and what is skipped before anything is opened.

Nothing here opens a file: every decision is made from the name and an
``lstat`` (a FIFO blocks forever once opened, docs/reliability.md defence 4).
Symbolic links (and Windows junctions) are never followed, inside the folder
or out of it: a link is listed as skipped, so the people who put it there can
see why their file was not checked.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath

from perf_eval.atomic import TEMP_PREFIX, TEMP_SUFFIX
from perf_eval.model import COPY_INFIX

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
# Written self-evaluation reports (附件1), checked against their unit's forms (docs/report.md).
REPORT_SUFFIXES = (".docx", ".doc", ".wps")

_FILE_ATTRIBUTE_HIDDEN = 0x2
_FILE_ATTRIBUTE_SYSTEM = 0x4
_FILE_ATTRIBUTE_REPARSE_POINT = 0x400
# `自评表.校验.xlsx`, `自评表.校验(2).xlsx`: annotated copies written by `perf-eval check`.
_OWN_COPY = re.compile(re.escape(COPY_INFIX) + r"(\(\d+\))?$")


class SkipReason(StrEnum):
    """Why a name that looks like a workbook (or a report) was not checked."""

    LOCK = "lock"
    TEMPORARY = "temporary"
    HIDDEN = "hidden"
    OWN_COPY = "own_copy"
    SYMLINK = "symlink"
    NOT_REGULAR = "not_regular"
    FOLDER_UNREADABLE = "folder_unreadable"

    @property
    def label_zh(self) -> str:
        return {
            "lock": "Office/WPS 锁定文件（文件正被打开），已跳过",
            "temporary": "临时文件，已跳过",
            "hidden": "隐藏文件，已跳过",
            "own_copy": "perf-eval 生成的批注副本，已跳过",
            "symlink": "符号链接（快捷方式），不跟随，已跳过；请放入文件本身",
            "not_regular": "不是普通文件（如管道或设备文件），已跳过",
            "folder_unreadable": "文件夹无法读取，已跳过",
        }[self.value]


@dataclass(frozen=True)
class Found:
    """A workbook to check: its path, its path relative to the scanned folder, and its lstat."""

    path: Path
    rel: str  # POSIX separators, the key used everywhere in the scan's outputs
    device: int
    inode: int
    size: int
    mtime_ns: int

    @property
    def fingerprint(self) -> tuple[int, int, int, int]:
        """The same tuple as `safety.fingerprint`, to notice a file that changes while it is read."""
        return (self.device, self.inode, self.size, self.mtime_ns)


@dataclass(frozen=True)
class Skipped:
    rel: str
    reason: SkipReason
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        text = self.reason.label_zh + (f"（{self.detail}）" if self.detail else "")
        return {"path": self.rel, "code": self.reason.value, "reason": text}


def is_workbook_name(name: str) -> bool:
    return name.lower().endswith(WORKBOOK_SUFFIXES)


def is_report_name(name: str) -> bool:
    return name.lower().endswith(REPORT_SUFFIXES)


def _name_skip(name: str) -> SkipReason | None:
    """Skips decided by the name alone (the name ends like a workbook)."""
    if name.startswith("~$"):
        return SkipReason.LOCK  # Office and WPS: ~$自评表.xlsx, ~$报告.docx while it is open
    if name.startswith(".~lock.") or name.startswith(TEMP_PREFIX):
        return SkipReason.TEMPORARY  # LibreOffice lock; our own unfinished atomic write
    if name.startswith("."):
        return SkipReason.HIDDEN
    if name.startswith("~") or name.lower().endswith(TEMP_SUFFIX):
        return SkipReason.TEMPORARY  # Office's ~WRL0001.tmp and friends
    stem = name.rsplit(".", 1)[0]
    if _OWN_COPY.search(stem):
        return SkipReason.OWN_COPY
    return None


def _hidden_by_attribute(st: os.stat_result) -> bool:
    attributes = getattr(st, "st_file_attributes", 0)  # Windows only
    return bool(attributes & (_FILE_ATTRIBUTE_HIDDEN | _FILE_ATTRIBUTE_SYSTEM))


def _is_link(st: os.stat_result) -> bool:
    attributes = getattr(st, "st_file_attributes", 0)
    return stat.S_ISLNK(st.st_mode) or bool(attributes & _FILE_ATTRIBUTE_REPARSE_POINT)


def discover(root: Path) -> tuple[list[Found], list[Skipped]]:
    """Every workbook under `root` (sorted by relative path), and what was skipped.

    Hidden folders are not entered and not listed; skipped files are listed
    only when their name ends like a workbook (or they are links).
    """
    found: list[Found] = []
    skipped: list[Skipped] = []
    stack: list[tuple[Path, PurePosixPath]] = [(root, PurePosixPath())]
    try:
        root_st = os.stat(root)
        seen_folders = {(root_st.st_dev, root_st.st_ino)}
    except OSError:
        seen_folders = set()
    while stack:
        folder, rel_folder = stack.pop()
        try:
            with os.scandir(folder) as entries:
                listing = sorted(entries, key=lambda e: e.name)
        except OSError as exc:
            skipped.append(Skipped(str(rel_folder) or ".", SkipReason.FOLDER_UNREADABLE, exc.strerror or ""))
            continue
        subfolders: list[tuple[Path, PurePosixPath]] = []
        for entry in listing:
            rel = rel_folder / entry.name
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue  # removed while we looked
            workbook_name = is_workbook_name(entry.name) or is_report_name(entry.name)
            if _is_link(st):
                skipped.append(Skipped(str(rel), SkipReason.SYMLINK))
                continue
            if stat.S_ISDIR(st.st_mode):
                if entry.name.startswith(".") or _hidden_by_attribute(st):
                    continue
                try:
                    identity = os.stat(entry.path, follow_symlinks=False)  # Windows: entry.stat() has no inode
                except OSError:
                    continue
                if (identity.st_dev, identity.st_ino) not in seen_folders:  # a bind mount looping back
                    seen_folders.add((identity.st_dev, identity.st_ino))
                    subfolders.append((Path(entry.path), rel))
                continue
            if not workbook_name:
                continue
            reason = _name_skip(entry.name)
            if reason is None and _hidden_by_attribute(st):
                reason = SkipReason.HIDDEN
            if reason is None and not stat.S_ISREG(st.st_mode):
                reason = SkipReason.NOT_REGULAR
            if reason is not None:
                skipped.append(Skipped(str(rel), reason))
                continue
            try:
                # Not entry.stat(): on Windows it leaves st_dev and st_ino zero, unlike the
                # os.stat that `safety.fingerprint` compares with.
                st = os.stat(entry.path, follow_symlinks=False)
            except OSError:
                continue
            found.append(Found(Path(entry.path), str(rel), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))
        stack.extend(reversed(subfolders))
    found.sort(key=lambda f: f.rel)
    skipped.sort(key=lambda s: s.rel)
    return found, skipped


def contains(outer: Path, inner: Path) -> bool:
    """True if `inner` is `outer` or lies inside it (both resolved; case-insensitive where the OS is)."""
    outer_parts = Path(os.path.normcase(outer)).parts
    inner_parts = Path(os.path.normcase(inner)).parts
    if inner_parts[: len(outer_parts)] == outer_parts:
        return True
    # Two spellings of one folder (a bind mount, a case-insensitive volume): compare identities.
    try:
        outer_id = os.stat(outer)
    except OSError:
        return False
    probe = inner
    while True:
        try:
            if os.path.samestat(os.stat(probe), outer_id):
                return True
        except OSError:
            pass  # not created yet
        if probe.parent == probe:
            return False
        probe = probe.parent
