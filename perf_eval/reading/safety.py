"""Opening untrusted workbooks safely: routing, pre-flight limits, isolation.

Only the reading layer opens input files, and it opens them through here
first. What the readers do on hostile files, and why each defence exists, is
described in ``docs/reliability.md``; this module follows its defences:

- `sniff` routes on content, never on the extension, and refuses anything
  that is not a regular file before opening it (a FIFO blocks forever).
- `preflight` checks a workbook against `Limits` with the stdlib only and
  returns the facts that calamine and openpyxl lose (sheet visibility,
  formulas without a cached value, drawings), so no part is parsed twice.
  The OOXML scan itself lives in `perf_eval.reading.preflight`.
- `run_isolated` runs a reader in a child process with memory, CPU and
  wall-clock limits: the only defence against a native reader aborting.
- `fingerprint` lets callers notice a file that changed while being read.

Every failure is an `UnreadableWorkbook` whose `reason` is one Chinese line
(the caller prefixes the file name); its `code` is stable for tests and
for rendering in other languages.
"""

from __future__ import annotations

import codecs
import io
import os
import pickle
import signal
import stat
import struct
import traceback
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple, TypeVar

from perf_eval.model import column_letter

# The shared types live in `limits`; they are re-exported here for the readers.
from perf_eval.reading.limits import (
    DEFAULT_LIMITS,
    REASONS,
    KiB,
    Limits,
    SheetFacts,
    SheetState,
    UnreadableWorkbook,
    WorkbookFacts,
    WorkbookFormat,
    shown,
)

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.context import ForkServerContext

# --- Opening -----------------------------------------------------------------


def _stat(path: str | os.PathLike[str]) -> os.stat_result:
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        raise UnreadableWorkbook.of("missing") from None
    except PermissionError:
        raise UnreadableWorkbook.of("permission") from None
    except OSError as exc:
        raise UnreadableWorkbook.of("io", detail=exc.strerror or type(exc).__name__) from None
    if stat.S_ISLNK(st.st_mode):
        raise UnreadableWorkbook.of("symlink")
    if stat.S_ISDIR(st.st_mode):
        raise UnreadableWorkbook.of("directory")
    if not stat.S_ISREG(st.st_mode):
        raise UnreadableWorkbook.of("not_regular")
    return st


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a regular file for reading; refuse symlinks, FIFOs and devices.

    O_NONBLOCK and O_NOFOLLOW make a FIFO or symlink swapped in after the
    stat fail or return at once instead of blocking; fstat then confirms.
    """
    before = _stat(path)
    flags = (
        os.O_RDONLY
        | getattr(os, "O_NONBLOCK", 0)
        | getattr(os, "O_BINARY", 0)
        | getattr(os, "O_NOFOLLOW", 0)
        | getattr(os, "O_CLOEXEC", 0)
    )
    try:
        fd = os.open(path, flags)
    except PermissionError:
        raise UnreadableWorkbook.of("permission") from None
    except OSError:
        raise UnreadableWorkbook.of("changed") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != (before.st_dev, before.st_ino):
        os.close(fd)
        raise UnreadableWorkbook.of("changed")
    return os.fdopen(fd, "rb")


class Fingerprint(NamedTuple):
    device: int
    inode: int
    size: int
    mtime_ns: int


def fingerprint(path: str | os.PathLike[str]) -> Fingerprint:
    """(device, inode, size, mtime_ns): compare before and after reading."""
    st = _stat(path)
    return Fingerprint(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def ensure_unchanged(path: str | os.PathLike[str], before: Fingerprint) -> None:
    """Raise "changed" if the file was modified, replaced or removed since `before`."""
    try:
        now = fingerprint(path)
    except UnreadableWorkbook:
        raise UnreadableWorkbook.of("changed") from None
    if now != before:
        raise UnreadableWorkbook.of("changed")


# --- Routing on content --------------------------------------------------------

_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a local header, or an empty zip
CFB_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_BINARY_KINDS: tuple[tuple[bytes, str, dict[str, str]], ...] = (
    (b"%PDF", "pdf", {}),
    (b"\x89PNG", "image", {}),
    (b"\xff\xd8\xff", "image", {}),
    (b"GIF8", "image", {}),
    (b"Rar!", "archive", {"kind": "RAR"}),
    (b"7z\xbc\xaf\x27\x1c", "archive", {"kind": "7z"}),
    (b"\x1f\x8b", "archive", {"kind": "gzip"}),
)
_SNIFF_BYTES = 8 * KiB


def sniff(path: str | os.PathLike[str]) -> WorkbookFormat:
    """Which workbook format the content is; otherwise say what it looks like."""
    with open_regular(path) as handle:
        head = handle.read(_SNIFF_BYTES)
        if head.startswith(_ZIP_MAGICS):
            return WorkbookFormat.OOXML
        if head.startswith(CFB_MAGIC):
            names = {name.lower() for name in cfb_entry_names(handle)}
            return _route_cfb(names)
    if not head:
        raise UnreadableWorkbook.of("empty")
    for magic, code, params in _BINARY_KINDS:
        if head.startswith(magic):
            raise UnreadableWorkbook.of(code, **params)
    text = _as_text(head)
    if text is None:
        raise UnreadableWorkbook.of("unknown_format")
    raise UnreadableWorkbook.of(_text_kind(text))


def _route_cfb(names: set[str]) -> WorkbookFormat:
    if "encryptedpackage" in names:
        raise UnreadableWorkbook.of("encrypted")
    if "workbook" in names or "book" in names:
        return WorkbookFormat.XLS
    if "worddocument" in names:
        raise UnreadableWorkbook.of("other_office", kind=" Word 文档（.doc）")
    if "powerpoint document" in names:
        raise UnreadableWorkbook.of("other_office", kind=" PowerPoint 演示文稿（.ppt）")
    raise UnreadableWorkbook.of("other_office", kind="其他 OLE 文件（没有工作簿数据）")


def _as_text(head: bytes) -> str | None:
    """The head decoded as text if it is text (UTF-8/16 or GB18030), else None."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if head.startswith(bom):
            return codecs.getincrementaldecoder(encoding)("replace").decode(head[len(bom) :])
    if b"\x00" in head:
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            # Not final: the head may end inside a multi-byte character.
            text = codecs.getincrementaldecoder(encoding)().decode(head)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n\f")
        return text if controls <= len(text) // 100 else None
    return None


def _text_kind(text: str) -> str:
    start = text.lstrip().lower()[:4096]
    if start.startswith(("<!doctype html", "<html")) or "<html" in start or "<table" in start:
        return "html"
    if start.startswith("mime-version:") and "text/html" in start:
        return "html"  # a "single file web page" (.mht) saved as .xls
    if start.startswith("<?xml"):
        # Excel 2003's XML Spreadsheet, often named .xls.
        return "xml_2003" if "urn:schemas-microsoft-com:office:spreadsheet" in start else "xml_other"
    return "text"


# --- OLE compound files (CFB) -----------------------------------------------------

_MAX_REGULAR_SECTOR = 0xFFFFFFFA
_END_OF_CHAIN = 0xFFFFFFFE


def cfb_entry_names(handle: BinaryIO) -> list[str]:
    """Names of the storages and streams in an OLE compound file.

    A bounded reading of the header, DIFAT, FAT and directory chain (MS-CFB);
    anything inconsistent raises "cfb_corrupt". Enough to tell an .xls
    ("Workbook") from an encrypted OOXML ("EncryptedPackage") or a .doc.
    """
    size = os.fstat(handle.fileno()).st_size
    handle.seek(0)
    header = handle.read(512)
    if len(header) < 512 or not header.startswith(CFB_MAGIC):
        raise UnreadableWorkbook.of("cfb_corrupt")
    (shift,) = struct.unpack_from("<H", header, 30)
    if shift not in (9, 12):
        raise UnreadableWorkbook.of("cfb_corrupt")
    sector_size = 1 << shift
    per_sector = sector_size // 4
    sector_count = max(0, (size + sector_size - 1) // sector_size - 1)

    def read_sector(number: int) -> bytes:
        if number >= sector_count:
            raise UnreadableWorkbook.of("cfb_corrupt")
        handle.seek((number + 1) * sector_size)
        data = handle.read(sector_size)
        return data.ljust(sector_size, b"\x00")  # a short last sector is common

    def chain(start: int) -> list[int]:
        """Follow a sector chain through the FAT, refusing loops."""
        sectors: list[int] = []
        seen: set[int] = set()
        number = start
        while number != _END_OF_CHAIN:
            if number >= _MAX_REGULAR_SECTOR or number in seen:
                raise UnreadableWorkbook.of("cfb_corrupt")
            seen.add(number)
            sectors.append(number)
            index, offset = divmod(number, per_sector)
            if index >= len(fat_sectors):
                raise UnreadableWorkbook.of("cfb_corrupt")
            if index not in fat_cache:
                fat_cache[index] = struct.unpack(f"<{per_sector}I", read_sector(fat_sectors[index]))
            number = fat_cache[index][offset]
        return sectors

    difat = list(struct.unpack_from("<109I", header, 76))
    difat_sector = struct.unpack_from("<I", header, 68)[0]
    seen_difat: set[int] = set()
    while difat_sector < _MAX_REGULAR_SECTOR:
        if difat_sector in seen_difat:
            raise UnreadableWorkbook.of("cfb_corrupt")
        seen_difat.add(difat_sector)
        entries = struct.unpack(f"<{per_sector}I", read_sector(difat_sector))
        difat.extend(entries[:-1])
        difat_sector = entries[-1]
    fat_sectors = [s for s in difat if s < _MAX_REGULAR_SECTOR]
    fat_cache: dict[int, tuple[int, ...]] = {}

    names: list[str] = []
    for number in chain(struct.unpack_from("<I", header, 48)[0]):
        sector = read_sector(number)
        for at in range(0, sector_size, 128):
            (name_len,) = struct.unpack_from("<H", sector, at + 64)
            kind = sector[at + 66]
            if kind in (1, 2, 5) and 2 <= name_len <= 64:
                names.append(sector[at : at + name_len - 2].decode("utf-16-le", "replace"))
    return names


# --- Pre-flight ----------------------------------------------------------------------


def preflight(path: str | os.PathLike[str], fmt: WorkbookFormat, limits: Limits = DEFAULT_LIMITS) -> WorkbookFacts:
    """Check the workbook against `limits` before any reader sees it; return its facts.

    Raises `UnreadableWorkbook` and nothing else for a malformed or hostile file.
    """
    if fmt is WorkbookFormat.OOXML:
        # Imported here: that module builds on this one's types.
        from perf_eval.reading.preflight import scan_ooxml

        with open_regular(path) as handle:
            return scan_ooxml(handle, limits)
    return _xls_facts(path, limits)


_XLS_STATES: dict[int, SheetState] = {0: "visible", 1: "hidden", 2: "veryHidden"}


def _xls_facts(path: str | os.PathLike[str], limits: Limits) -> WorkbookFacts:
    """Sheet names, states and extents of a legacy .xls through xlrd.

    BIFF8 caps a sheet at 65,536 x 256 cells, under the used-range limit;
    ragged rows keep a lone far cell from allocating a full grid.
    """
    import xlrd

    with open_regular(path) as handle:
        has_macros = "_vba_project_cur" in {name.lower() for name in cfb_entry_names(handle)}
        handle.seek(0)
        data = handle.read()
    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True, ragged_rows=True, logfile=io.StringIO())
    except xlrd.XLRDError as exc:
        if "encrypted" in str(exc).lower():
            raise UnreadableWorkbook.of("encrypted") from None
        raise UnreadableWorkbook.of("xls_corrupt", detail=shown(str(exc), 40)) from None
    except Exception as exc:  # xlrd raises many builtin types on corrupt BIFF
        raise UnreadableWorkbook.of("xls_corrupt", detail=type(exc).__name__) from None
    sheets: list[SheetFacts] = []
    total = 0
    try:
        seen: set[str] = set()
        for name in book.sheet_names():
            if name.lower() in seen:
                raise UnreadableWorkbook.of("duplicate_sheet", sheet=shown(name))
            seen.add(name.lower())
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            facts = _xls_sheet_facts(sheet, _XLS_STATES.get(sheet.visibility, "visible"))
            total += facts.cells
            if total > limits.max_cells:
                raise UnreadableWorkbook.of("too_many_cells", limit=limits.max_cells)
            sheets.append(facts)
            book.unload_sheet(index)
        defined_names = len(book.name_obj_list)
        # SUPBOOK records of type "external" are links to other workbooks.
        external_links = sum(1 for kind in getattr(book, "_supbook_types", ()) if kind == 2)
    except UnreadableWorkbook:
        raise
    except Exception as exc:  # as above
        raise UnreadableWorkbook.of("xls_corrupt", detail=type(exc).__name__) from None
    finally:
        book.release_resources()
    if not sheets:
        raise UnreadableWorkbook.of("no_sheets")
    return WorkbookFacts(tuple(sheets), has_macros, external_links, (), defined_names)


def _xls_sheet_facts(sheet: Any, state: SheetState) -> SheetFacts:
    cells = 0
    first_row = last_row = first_col = last_col = -1
    for row in range(sheet.nrows):
        types = sheet.row_types(row)
        filled = len(types) - list(types).count(0)  # 0 is xlrd's XL_CELL_EMPTY
        if not filled:
            continue
        cells += filled
        first_row = row if first_row < 0 else first_row
        last_row = row
        lead = next(i for i, kind in enumerate(types) if kind)
        first_col = lead if first_col < 0 else min(first_col, lead)
        last_col = max(last_col, max(i for i, kind in enumerate(types) if kind))
    used = ""
    if cells:
        used = f"{column_letter(first_col + 1)}{first_row + 1}:{column_letter(last_col + 1)}{last_row + 1}"
    return SheetFacts(sheet.name, state, (), cells, used)


# --- Isolation --------------------------------------------------------------------------

T = TypeVar("T")

_PRELOAD: list[str] = []


@cache
def _context() -> ForkServerContext:
    """The forkserver context, made on first use: a check in process starts no child.

    Each child is forked from a small clean server process, so it starts fast and never
    inherits the parent's threads or open files.
    """
    import multiprocessing

    return multiprocessing.get_context("forkserver")


def _preload(module: str) -> None:
    """Have the fork server import `module` (the reader) once, so each child starts warm.

    Only the first call has an effect: the server starts with the first child.
    """
    if not _PRELOAD:
        _PRELOAD.extend(["__main__", __name__, "perf_eval.reading.preflight", module])
        _context().set_forkserver_preload(_PRELOAD)


def run_isolated(func: Callable[..., T], *args: Any, limits: Limits = DEFAULT_LIMITS) -> T:
    """``func(*args)`` in a child process under memory, CPU and wall-clock limits.

    `func` and `args` must be picklable (a module-level function). An
    `UnreadableWorkbook` raised in the child is raised here; a child that
    is killed, aborts (python-calamine aborts on a far cell), runs out of
    memory or time becomes an `UnreadableWorkbook`; any other exception is
    re-raised here with the child's traceback as a note.
    """
    _preload(getattr(func, "__module__", None) or __name__)
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_child_main,
        args=(sender, func, args, limits.child_memory_bytes, limits.child_cpu_seconds),
        daemon=True,
    )
    try:
        child.start()
        sender.close()
        if not receiver.poll(limits.child_wall_seconds):
            raise UnreadableWorkbook.of("timeout", seconds=limits.child_wall_seconds)
        try:
            outcome, payload = receiver.recv()
        except (EOFError, OSError):
            child.join(5)
            if child.exitcode == -signal.SIGXCPU:
                raise UnreadableWorkbook.of("cpu", seconds=limits.child_cpu_seconds) from None
            raise UnreadableWorkbook.of("crashed") from None
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join()
        child.close()
    if outcome == "ok":
        return payload  # type: ignore[no-any-return]
    if outcome == "unreadable":
        raise UnreadableWorkbook(*payload)
    error, child_traceback = payload
    error.add_note("in the isolated child process:\n" + child_traceback)
    raise error


def _child_main(sender: Connection, func: Callable[..., Any], args: tuple[Any, ...], memory: int, cpu: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # SIGXCPU at the soft limit; the kernel's SIGKILL one second later.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    try:
        sender.send(("ok", func(*args)))
    except UnreadableWorkbook as exc:
        sender.send(("unreadable", (exc.reason, exc.code)))
    except MemoryError:
        sender.send(("unreadable", (REASONS["crashed"], "crashed")))
    except Exception as exc:
        error: Exception = exc
        try:
            pickle.loads(pickle.dumps(exc))
        except Exception:  # the parent could not rebuild it: send its text instead
            error = RuntimeError(f"{type(exc).__name__}: {exc}")
        sender.send(("error", (error, traceback.format_exc())))
    finally:
        sender.close()


__all__ = [
    "DEFAULT_LIMITS",
    "REASONS",
    "Fingerprint",
    "Limits",
    "SheetFacts",
    "SheetState",
    "UnreadableWorkbook",
    "WorkbookFacts",
    "WorkbookFormat",
    "ensure_unchanged",
    "fingerprint",
    "open_regular",
    "preflight",
    "run_isolated",
    "sniff",
]
