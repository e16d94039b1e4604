"""The OOXML pre-flight: every zip entry and XML part checked against `Limits`.

Stdlib only: zipfile reads the central directory, but every entry is
inflated here, in chunks, from its local header, so that sizes are counted
on bytes actually produced (declared sizes can lie), entries that overlap
(CVE-2024-0450 style bombs) are refused, and CRCs are checked. Every XML
part goes through expat once, which refuses a DOCTYPE before any entity is
declared and never fetches anything. While parsing, the scan collects what
the rest of the tool needs (`WorkbookFacts`), so no part is parsed twice.

Use it through `safety.preflight`, which opens the file safely.
"""

from __future__ import annotations

import os
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol
from urllib.parse import unquote
from xml.parsers import expat

from perf_eval.model import column_index, column_letter
from perf_eval.reading.limits import (
    KiB,
    Limits,
    SheetFacts,
    SheetState,
    UnreadableWorkbook,
    WorkbookFacts,
    shown,
    size_text,
)

_READ_CHUNK = 64 * KiB
_INFLATE_CHUNK = 256 * KiB
_MAX_ROW = 1_048_576
_MAX_COL = 16_384
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_DIGITS = re.compile(r"[0-9]{1,7}\Z")
_SHEET_TYPES = frozenset({"worksheet", "macrosheet", "dialogsheet"})
_DRAWING_TYPES = frozenset({"drawing", "image"})  # DrawingML (images, charts, shapes); backgrounds
_STATES: dict[str, SheetState] = {"visible": "visible", "hidden": "hidden", "veryHidden": "veryHidden"}


def scan_ooxml(handle: BinaryIO, limits: Limits) -> WorkbookFacts:
    """Pre-flight an opened .xlsx/.xlsm; raises `UnreadableWorkbook` only."""
    try:
        return _Workbook(_Archive(handle, limits), limits).scan()
    except OSError as exc:
        raise UnreadableWorkbook.of("io", detail=exc.strerror or type(exc).__name__) from None


# --- The zip container ---------------------------------------------------------------


class _Sink(Protocol):
    def feed(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class _Null:
    def feed(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class _Budget:
    """What all entries and sheets have used so far, against the workbook-wide limits."""

    inflated: int = 0
    cells: int = 0
    merged: int = 0


class _Archive:
    """The entries of a zip, vetted before any byte is inflated."""

    def __init__(self, handle: BinaryIO, limits: Limits) -> None:
        self.handle = handle
        self.limits = limits
        self.budget = _Budget()
        self.size = os.fstat(handle.fileno()).st_size
        declared = _declared_entry_count(handle, self.size)
        if declared is not None and declared > limits.max_entries:
            raise UnreadableWorkbook.of("too_many_entries", count=declared, limit=limits.max_entries)
        try:
            archive = zipfile.ZipFile(handle)
            infos = archive.infolist()
            directory_start = getattr(archive, "start_dir", self.size)
        except Exception:  # zipfile raises many types on a hostile central directory
            raise UnreadableWorkbook.of("zip_corrupt") from None
        if len(infos) > limits.max_entries:
            raise UnreadableWorkbook.of("too_many_entries", count=len(infos), limit=limits.max_entries)
        self.entries: dict[str, zipfile.ZipInfo] = {}
        declared_total = 0
        for info in infos:
            key = info.filename.lower()
            if key in self.entries:
                raise UnreadableWorkbook.of("duplicate_entry", part=shown(info.filename))
            self.entries[key] = info
            self._vet_declared(info)
            declared_total += info.file_size
        if declared_total > limits.max_total_bytes:
            raise UnreadableWorkbook.of("bomb_total", limit=size_text(limits.max_total_bytes))
        self.data_start = self._locate_data(infos, directory_start)

    def _vet_declared(self, info: zipfile.ZipInfo) -> None:
        limits, part = self.limits, shown(info.filename)
        if info.flag_bits & 0x1:
            raise UnreadableWorkbook.of("entry_encrypted", part=part)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UnreadableWorkbook.of("unsupported_compression", part=part)
        if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
            raise UnreadableWorkbook.of("zip_entry_corrupt", part=part)
        if info.file_size > limits.max_entry_bytes:
            raise UnreadableWorkbook.of("bomb_size", part=part, limit=size_text(limits.max_entry_bytes))
        if info.file_size > limits.ratio_exempt_bytes and (
            info.compress_size < info.file_size * limits.min_inflate_ratio
        ):
            raise _ratio_error(part, limits)

    def _locate_data(self, infos: list[zipfile.ZipInfo], directory_start: int) -> dict[str, int]:
        """Where each entry's data starts; entries must not overlap nor run past the end."""
        ordered = sorted(infos, key=lambda info: info.header_offset)
        starts: dict[str, int] = {}
        for index, info in enumerate(ordered):
            if not 0 <= info.header_offset < self.size:
                raise UnreadableWorkbook.of("zip_corrupt")
            self.handle.seek(info.header_offset)
            local = self.handle.read(30)
            if len(local) < 30 or not local.startswith(b"PK\x03\x04"):
                raise UnreadableWorkbook.of("zip_corrupt")
            name_length, extra_length = struct.unpack_from("<HH", local, 26)
            start = info.header_offset + 30 + name_length + extra_length
            end = start + info.compress_size
            following = ordered[index + 1].header_offset if index + 1 < len(ordered) else directory_start
            if end > self.size:
                raise UnreadableWorkbook.of("zip_corrupt")
            if end > following:
                raise UnreadableWorkbook.of("overlap")
            starts[info.filename.lower()] = start
        return starts

    def in_file_order(self) -> list[zipfile.ZipInfo]:
        return sorted(self.entries.values(), key=lambda info: info.header_offset)

    def inflate(self, info: zipfile.ZipInfo, sink: _Sink) -> None:
        """Feed the entry's bytes to `sink`, enforcing the size, ratio and total limits."""
        limits, budget, part = self.limits, self.budget, shown(info.filename)
        produced = 0
        crc = 0
        for chunk, consumed in self._chunks(info):
            produced += len(chunk)
            budget.inflated += len(chunk)
            if produced > limits.max_entry_bytes:
                raise UnreadableWorkbook.of("bomb_size", part=part, limit=size_text(limits.max_entry_bytes))
            if budget.inflated > limits.max_total_bytes:
                raise UnreadableWorkbook.of("bomb_total", limit=size_text(limits.max_total_bytes))
            if produced > limits.ratio_exempt_bytes and consumed < produced * limits.min_inflate_ratio:
                raise _ratio_error(part, limits)
            crc = zlib.crc32(chunk, crc)
            sink.feed(chunk)
        if produced != info.file_size or crc != info.CRC:
            raise UnreadableWorkbook.of("zip_entry_corrupt", part=part)
        sink.close()

    def _chunks(self, info: zipfile.ZipInfo) -> Iterator[tuple[bytes, int]]:
        """(inflated chunk, compressed bytes consumed so far), never trusting declared sizes."""
        corrupt = UnreadableWorkbook.of("zip_entry_corrupt", part=shown(info.filename))
        self.handle.seek(self.data_start[info.filename.lower()])
        remaining = info.compress_size
        read = 0
        inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
        while remaining:
            raw = self.handle.read(min(_READ_CHUNK, remaining))
            if not raw:
                raise corrupt
            remaining -= len(raw)
            read += len(raw)
            if inflater is None:
                yield raw, read
                continue
            data = raw
            while True:
                before = len(data)
                try:
                    out = inflater.decompress(data, _INFLATE_CHUNK)
                except zlib.error:
                    raise corrupt from None
                data = inflater.unconsumed_tail
                if out:
                    yield out, read - len(data)
                if inflater.eof or (not data and not out):
                    break
                if not out and len(data) == before:
                    raise corrupt
            if inflater.eof:
                break
        if inflater is not None and not inflater.eof:
            raise corrupt


def _ratio_error(part: str, limits: Limits) -> UnreadableWorkbook:
    return UnreadableWorkbook.of("bomb_ratio", part=part, ratio=round(1 / limits.min_inflate_ratio))


def _declared_entry_count(handle: BinaryIO, size: int) -> int | None:
    """The entry count of the end-of-central-directory record (zip64 too), if found.

    Lets a zip with 200,000 entries be refused before zipfile builds them all.
    """
    tail_length = min(size, 22 + 0xFFFF)
    handle.seek(size - tail_length)
    tail = handle.read(tail_length)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    (count,) = struct.unpack_from("<H", tail, at + 10)
    if count == 0xFFFF and at >= 20 and tail[at - 20 : at - 16] == b"PK\x06\x07":
        (offset,) = struct.unpack_from("<Q", tail, at - 12)
        handle.seek(min(offset, size))
        record = handle.read(56)
        if len(record) == 56 and record.startswith(b"PK\x06\x06"):
            (count,) = struct.unpack_from("<Q", record, 32)
    return int(count)


# --- XML parts ------------------------------------------------------------------------


class _Scan:
    """Handlers for one XML part: the depth limit, plus whatever a subclass collects."""

    wants_text = False

    def __init__(self, part: str, limits: Limits) -> None:
        self.part = part
        self.limits = limits
        self.depth = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.depth > self.limits.max_xml_depth:
            limit = self.limits.max_xml_depth
            raise UnreadableWorkbook.of("xml_too_deep", part=shown(self.part), limit=limit)
        self.element(name[name.rfind(":") + 1 :], attrs)

    def end(self, name: str) -> None:
        self.closed(self.depth)
        self.depth -= 1

    def text(self, data: str) -> None:
        pass

    def element(self, local: str, attrs: dict[str, str]) -> None:
        pass

    def closed(self, depth: int) -> None:
        pass


class _XmlSink:
    """Streams one part through expat: no DOCTYPE or ENTITY, bounded token size."""

    def __init__(self, scan: _Scan) -> None:
        self.scan = scan
        self.fed = 0
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.buffer_size = 64 * KiB
        # Entities can only be declared in a DTD: refusing the DOCTYPE refuses them all.
        parser.StartDoctypeDeclHandler = self._refuse
        parser.EntityDeclHandler = self._refuse
        parser.UnparsedEntityDeclHandler = self._refuse
        parser.StartElementHandler = scan.start
        parser.EndElementHandler = scan.end
        if scan.wants_text:
            parser.CharacterDataHandler = scan.text
        self.parser = parser

    def _refuse(self, *_: object) -> None:
        raise UnreadableWorkbook.of("doctype", part=shown(self.scan.part))

    def feed(self, data: bytes) -> None:
        self._parse(data, final=False)
        self.fed += len(data)
        # Outside a handler, CurrentByteIndex is just past the last complete
        # token: what lies beyond is one token still being accumulated.
        if self.fed - max(self.parser.CurrentByteIndex, 0) > self.scan.limits.max_xml_token_bytes:
            limit = size_text(self.scan.limits.max_xml_token_bytes)
            raise UnreadableWorkbook.of("xml_token", part=shown(self.scan.part), limit=limit)

    def close(self) -> None:
        self._parse(b"", final=True)

    def _parse(self, data: bytes, *, final: bool) -> None:
        try:
            self.parser.Parse(data, final)
        except expat.ExpatError as exc:
            raise UnreadableWorkbook.of(
                "xml_invalid", part=shown(self.scan.part), line=exc.lineno, column=exc.offset + 1
            ) from None
        except (LookupError, ValueError):
            # An encoding declared in the XML that Python's codecs lack or
            # that expat cannot use (multi-byte), or bytes that do not decode.
            raise UnreadableWorkbook.of("xml_encoding", part=shown(self.scan.part)) from None


class _Grep:
    """For VML, which Excel writes as HTML-ish non-XML: refuse a DOCTYPE/ENTITY by bytes."""

    def __init__(self, part: str) -> None:
        self.part = part
        self.tail = b""

    def feed(self, data: bytes) -> None:
        window = (self.tail + data).lower()
        if b"<!doctype" in window or b"<!entity" in window:
            raise UnreadableWorkbook.of("doctype", part=shown(self.part))
        self.tail = window[-16:]

    def close(self) -> None:
        pass


class _ContentTypes(_Scan):
    def __init__(self, part: str, limits: Limits) -> None:
        super().__init__(part, limits)
        self.defaults: dict[str, str] = {}
        self.overrides: dict[str, str] = {}

    def element(self, local: str, attrs: dict[str, str]) -> None:
        if local == "Default":
            self.defaults[attrs.get("Extension", "").lower()] = attrs.get("ContentType", "")
        elif local == "Override":
            self.overrides[attrs.get("PartName", "").lstrip("/").lower()] = attrs.get("ContentType", "")

    def is_xml(self, key: str) -> bool:
        extension = key.rpartition(".")[2]
        if extension in ("xml", "rels"):
            return True
        content_type = self.overrides.get(key) or self.defaults.get(extension, "")
        return content_type.endswith("xml")


@dataclass(frozen=True)
class _Relationship:
    kind: str  # the last segment of the Type URI: "worksheet", "drawing", ...
    part: str | None  # lower-case zip entry name; None for an external target


class _Relationships(_Scan):
    def __init__(self, part: str, limits: Limits, source: str) -> None:
        super().__init__(part, limits)
        self.source = source
        self.by_id: dict[str, _Relationship] = {}

    def element(self, local: str, attrs: dict[str, str]) -> None:
        if local != "Relationship":
            return
        external = attrs.get("TargetMode") == "External"
        part = None if external else _resolve(self.source, attrs.get("Target", ""))
        kind = attrs.get("Type", "").rpartition("/")[2]
        self.by_id[attrs.get("Id", "")] = _Relationship(kind, part)

    def kinds(self) -> set[str]:
        return {rel.kind for rel in self.by_id.values()}


class _WorkbookPart(_Scan):
    def __init__(self, part: str, limits: Limits) -> None:
        super().__init__(part, limits)
        self.sheets: list[tuple[str, SheetState, str]] = []  # name, state, relationship id
        self.defined_names = 0

    def element(self, local: str, attrs: dict[str, str]) -> None:
        if local == "sheet":
            rid = next((v for k, v in attrs.items() if k == "id" or k.endswith(":id")), "")
            state = _STATES.get(attrs.get("state", "visible"), "visible")
            self.sheets.append((attrs.get("name", ""), state, rid))
        elif local == "definedName":
            self.defined_names += 1


class _SharedStrings(_Scan):
    """Counts strings and the length of each (phonetic runs excluded)."""

    wants_text = True

    def __init__(self, part: str, limits: Limits) -> None:
        super().__init__(part, limits)
        self.count = 0
        self.chars = 0
        self.item_depth = self.text_depth = self.phonetic_depth = 0

    def element(self, local: str, attrs: dict[str, str]) -> None:
        if local == "si":
            self.count += 1
            if self.count > self.limits.max_shared_strings:
                raise UnreadableWorkbook.of("too_many_strings", limit=self.limits.max_shared_strings)
            self.item_depth, self.chars = self.depth, 0
        elif local == "t" and self.item_depth and not self.phonetic_depth:
            self.text_depth = self.depth
        elif local == "rPh":
            self.phonetic_depth = self.depth

    def closed(self, depth: int) -> None:
        if depth == self.text_depth:
            self.text_depth = 0
        elif depth == self.phonetic_depth:
            self.phonetic_depth = 0
        elif depth == self.item_depth:
            self.item_depth = 0

    def text(self, data: str) -> None:
        if self.text_depth:
            self.chars += len(data)
            if self.chars > self.limits.max_cell_chars:
                where = f"共享字符串第 {self.count} 项"
                raise UnreadableWorkbook.of("cell_text", where=where, limit=self.limits.max_cell_chars)


class _Sheet(_Scan):
    """Cells of one worksheet: count, real extent, merges, formulas without a cached value.

    The hot path of the pre-flight, so `start`/`end` are written out whole.
    A cell without `r` follows the previous one, and a row without `r` the
    previous row, as Excel and the readers place them.
    """

    wants_text = True

    def __init__(self, part: str, limits: Limits, sheet: str, budget: _Budget) -> None:
        super().__init__(part, limits)
        self.sheet = sheet
        self.budget = budget
        self.max_depth = limits.max_xml_depth
        self.cell_room = limits.max_cells - budget.cells
        self.columns: dict[str, int] = {}
        self.row = self.col = 0
        self.min_row = self.min_col = 1 << 30
        self.max_row = self.max_col = 0
        self.cells = 0
        self.cell_depth = self.text_depth = 0
        self.in_value = self.has_formula = self.has_value_element = self.string_result = False
        self.error_result = False
        self.value_chars = self.cell_chars = 0
        self.uncached: list[str] = []
        self.error_text: list[str] = []
        self.errors: list[tuple[str, str]] = []

    def start(self, name: str, attrs: dict[str, str]) -> None:
        depth = self.depth = self.depth + 1
        if depth > self.max_depth:
            raise UnreadableWorkbook.of("xml_too_deep", part=shown(self.part), limit=self.max_depth)
        local = name if ":" not in name else name[name.rfind(":") + 1 :]
        if local == "c":
            self._cell(attrs.get("r"))
            self.cell_depth = depth
            self.has_formula = self.has_value_element = False
            kind = attrs.get("t")
            self.string_result = kind == "str"
            self.error_result = kind == "e"
            self.value_chars = self.cell_chars = 0
        elif local == "v" or local == "t":
            if self.cell_depth:
                self.text_depth = depth
                self.in_value = local == "v"
                self.has_value_element = self.has_value_element or self.in_value
        elif local == "f":
            if self.cell_depth:
                self.has_formula = True
        elif local == "row":
            number = attrs.get("r")
            if number is None:
                self.row += 1
            elif _DIGITS.match(number):
                self.row = int(number)
            else:
                raise UnreadableWorkbook.of("cell_ref", sheet=shown(self.sheet), ref=shown(number, 20))
            if not 1 <= self.row <= _MAX_ROW:
                raise UnreadableWorkbook.of("cell_ref", sheet=shown(self.sheet), ref=self.row)
            self.col = 0
        elif local == "mergeCell":
            self._merge(attrs.get("ref", ""))

    def end(self, name: str) -> None:
        depth = self.depth
        self.depth = depth - 1
        if depth == self.text_depth:
            self.text_depth = 0
        elif depth == self.cell_depth:
            self.cell_depth = 0
            # openpyxl writes <v/> for a formula it never computed; Excel and
            # LibreOffice write t="str" with an empty <v> for a formula whose
            # result is the empty string, which is a cached value.
            cached = self.value_chars or (self.string_result and self.has_value_element)
            if self.has_formula and not cached:
                self.uncached.append(f"{column_letter(self.col)}{self.row}")
            elif self.error_result and self.error_text:
                # A saved error value (#DIV/0!, #REF!): calamine reads it as blank; keep what Excel shows.
                self.errors.append((f"{column_letter(self.col)}{self.row}", "".join(self.error_text)[:16]))
            if self.error_text:
                self.error_text = []

    def text(self, data: str) -> None:
        if self.text_depth:
            self.cell_chars += len(data)
            if self.in_value:
                self.value_chars += len(data)
                if self.error_result:
                    self.error_text.append(data)
            if self.cell_chars > self.limits.max_cell_chars:
                where = f"工作表 {shown(self.sheet)} 的 {column_letter(self.col)}{self.row} 单元格"
                raise UnreadableWorkbook.of("cell_text", where=where, limit=self.limits.max_cell_chars)

    def _position(self, ref: str) -> tuple[int, int]:
        digits = ref.lstrip(_LETTERS)
        col = self.columns.get(ref[: len(ref) - len(digits)])
        if col is None:
            col = self._column(ref, len(ref) - len(digits))
        if not (digits.isascii() and digits.isdigit() and len(digits) <= 7):
            raise UnreadableWorkbook.of("cell_ref", sheet=shown(self.sheet), ref=shown(ref, 20))
        row = int(digits)
        if not 1 <= row <= _MAX_ROW:
            raise UnreadableWorkbook.of("cell_ref", sheet=shown(self.sheet), ref=shown(ref, 20))
        return row, col

    def _column(self, ref: str, length: int) -> int:
        letters = ref[:length]
        col = column_index(letters.upper()) if 1 <= length <= 3 else 0
        if not 1 <= col <= _MAX_COL:
            raise UnreadableWorkbook.of("cell_ref", sheet=shown(self.sheet), ref=shown(ref, 20))
        self.columns[letters] = col
        return col

    def _cell(self, ref: str | None) -> None:
        if ref is None:
            row, col = max(self.row, 1), self.col + 1
            if col > _MAX_COL:
                raise UnreadableWorkbook.of("cell_ref", sheet=shown(self.sheet), ref=f"R{row}C{col}")
        else:
            row, col = self._position(ref)
        self.row, self.col = row, col
        self.cells += 1
        if self.cells > self.cell_room:
            raise UnreadableWorkbook.of("too_many_cells", limit=self.limits.max_cells)
        grew = False
        if row > self.max_row:
            self.max_row, grew = row, True
        if col > self.max_col:
            self.max_col, grew = col, True
        if grew and self.max_row * self.max_col > self.limits.max_used_range_cells:
            raise UnreadableWorkbook.of(
                "used_range",
                sheet=shown(self.sheet),
                range=f"A1:{column_letter(self.max_col)}{self.max_row}",
                cells=self.max_row * self.max_col,
            )
        if row < self.min_row:
            self.min_row = row
        if col < self.min_col:
            self.min_col = col

    def _merge(self, ref: str) -> None:
        first, _, last = ref.partition(":")
        top, left = self._position(first)
        bottom, right = self._position(last or first)
        self.budget.merged += (abs(bottom - top) + 1) * (abs(right - left) + 1)
        if self.budget.merged > self.limits.max_merged_cells:
            raise UnreadableWorkbook.of("merged", sheet=shown(self.sheet), limit=self.limits.max_merged_cells)

    def facts(self, state: SheetState) -> SheetFacts:
        used = ""
        if self.cells:
            used = f"{column_letter(self.min_col)}{self.min_row}:{column_letter(self.max_col)}{self.max_row}"
        return SheetFacts(self.sheet, state, tuple(self.uncached), self.cells, used, tuple(self.errors))


# --- The workbook ------------------------------------------------------------------


def _resolve(source: str, target: str) -> str | None:
    """A relationship target as the lower-case zip entry name it points to."""
    target = unquote(target).replace("\\", "/")
    if target.startswith("/"):
        path = target.lstrip("/")
    else:
        path = posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
    if not path or path == "." or path.startswith(".."):
        return None
    return path.lower()


def _rels_of(part: str) -> str:
    folder, _, name = part.rpartition("/")
    return f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"


_OTHER_PACKAGES = (
    ("word/document.xml", " Word 文档（.docx）"),
    ("ppt/presentation.xml", " PowerPoint 演示文稿（.pptx）"),
    ("content.xml", " OpenDocument 文件（如 .ods，请另存为 .xlsx）"),
)


class _Workbook:
    """Runs the parts in dependency order, then every other entry in file order."""

    def __init__(self, archive: _Archive, limits: Limits) -> None:
        self.archive = archive
        self.limits = limits
        self.done: set[str] = set()

    def _run(self, key: str, sink: _Sink) -> None:
        self.done.add(key)
        self.archive.inflate(self.archive.entries[key], sink)

    def _parse(self, key: str, scan: _Scan) -> None:
        self._run(key, _XmlSink(scan))

    def scan(self) -> WorkbookFacts:
        archive, limits = self.archive, self.limits
        content_types = _ContentTypes("[Content_Types].xml", limits)
        if "[content_types].xml" in archive.entries:
            self._parse("[content_types].xml", content_types)
        root = _Relationships("_rels/.rels", limits, "")
        if "_rels/.rels" in archive.entries:
            self._parse("_rels/.rels", root)
        workbook_key = next(
            (rel.part for rel in root.by_id.values() if rel.kind == "officeDocument" and rel.part),
            "xl/workbook.xml",
        )
        if workbook_key not in archive.entries:
            self._not_a_workbook()
        if workbook_key.endswith(".bin"):
            raise UnreadableWorkbook.of("xlsb")
        workbook = _WorkbookPart(archive.entries[workbook_key].filename, limits)
        self._parse(workbook_key, workbook)
        relations = _Relationships(_rels_of(workbook.part), limits, workbook_key)
        if _rels_of(workbook_key) in archive.entries:
            self._parse(_rels_of(workbook_key), relations)

        # name, state, part key, relationship kind -- in workbook order.
        sheets: list[tuple[str, SheetState, str, str]] = []
        seen_names: set[str] = set()
        for name, state, rid in workbook.sheets:
            if name.lower() in seen_names:
                raise UnreadableWorkbook.of("duplicate_sheet", sheet=shown(name))
            seen_names.add(name.lower())
            rel = relations.by_id.get(rid)
            if rel is None or rel.part is None or rel.part not in archive.entries:
                part = rel.part if rel is not None and rel.part else f"r:id={rid}"
                raise UnreadableWorkbook.of("missing_part", sheet=shown(name), part=shown(part))
            sheets.append((name, state, rel.part, rel.kind))
        if not sheets:
            raise UnreadableWorkbook.of("no_sheets")

        cell_scans = {key: (name, kind) for name, _, key, kind in sheets if kind in _SHEET_TYPES}
        sheet_rels = {_rels_of(key): (name, key) for name, _, key, _ in sheets}
        shared_key = next(
            (rel.part for rel in relations.by_id.values() if rel.kind == "sharedStrings" and rel.part),
            None,
        )
        results: dict[str, _Sheet] = {}
        drawings: set[str] = set()
        for info in archive.in_file_order():
            key = info.filename.lower()
            if key in self.done:
                continue
            if key in cell_scans:
                scan = _Sheet(info.filename, limits, cell_scans[key][0], archive.budget)
                self._parse(key, scan)
                results[key] = scan
                archive.budget.cells += scan.cells
            elif key == shared_key:
                self._parse(key, _SharedStrings(info.filename, limits))
            elif key in sheet_rels:
                name, source = sheet_rels[key]
                rels = _Relationships(info.filename, limits, source)
                self._parse(key, rels)
                if rels.kinds() & _DRAWING_TYPES:
                    drawings.add(name)
            elif key.endswith(".vml") or "vmldrawing" in content_types.overrides.get(key, ""):
                self._run(key, _Grep(info.filename))
            elif content_types.is_xml(key) and not key.endswith("/"):
                self._parse(key, _Scan(info.filename, limits))
            else:
                self._run(key, _Null())

        facts = tuple(
            results[key].facts(state) if key in results else SheetFacts(name, state, (), 0, "")
            for name, state, key, _ in sheets
        )
        has_macros = any(key.endswith("vbaproject.bin") for key in archive.entries) or any(
            kind == "macrosheet" for *_, kind in sheets
        )
        external_links = sum(1 for rel in relations.by_id.values() if rel.kind == "externalLink")
        return WorkbookFacts(
            sheets=facts,
            has_macros=has_macros,
            external_links=external_links,
            drawings=tuple(name for name, *_ in sheets if name in drawings),
            defined_names=workbook.defined_names,
        )

    def _not_a_workbook(self) -> None:
        for key, kind in _OTHER_PACKAGES:
            if key in self.archive.entries:
                raise UnreadableWorkbook.of("other_office", kind=kind)
        raise UnreadableWorkbook.of("not_workbook")


def scan_package(handle: BinaryIO, limits: Limits) -> frozenset[str]:
    """Pre-flight any other OOXML package (a Word .docx): the zip and XML limits, no workbook facts.

    Returns the lower-case entry names, so the caller can tell which package it is.
    Raises `UnreadableWorkbook` only.
    """
    try:
        archive = _Archive(handle, limits)
        content_types = _ContentTypes("[Content_Types].xml", limits)
        if "[content_types].xml" in archive.entries:
            archive.inflate(archive.entries["[content_types].xml"], _XmlSink(content_types))
        for info in archive.in_file_order():
            key = info.filename.lower()
            if key == "[content_types].xml":
                continue
            if key.endswith(".vml"):
                sink: _Sink = _Grep(info.filename)
            elif content_types.is_xml(key) and not key.endswith("/"):
                sink = _XmlSink(_Scan(info.filename, limits))
            else:
                sink = _Null()
            archive.inflate(info, sink)
        return frozenset(archive.entries)
    except OSError as exc:
        raise UnreadableWorkbook.of("io", detail=exc.strerror or type(exc).__name__) from None
