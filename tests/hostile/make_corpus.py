"""Generate the hostile-workbook corpus: every file is built here, none is downloaded.

    python tests/hostile/make_corpus.py OUT_DIR [--probe]

writes the files and prints each with its expected outcome: a substring of
the Chinese reason of `UnreadableWorkbook`, or "ok"; with --probe, each
file's outcome, time and peak memory growth under sniff + preflight, each
in an isolated child. `build(folder)` returns
the same mapping for the tests. The zip, OLE compound file (CFB) and BIFF8
writers are minimal and hand-made so that each case can be exactly as broken
as it needs to be (lying sizes, duplicate names, overlapping entries), which
zipfile and xlwt refuse to produce.
"""

from __future__ import annotations

import functools
import os
import random
import resource
import struct
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

OK = "ok"
MAIN_NS = (
    'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
)
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10))
    + "]>"
)
XXE = '<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


# --- Zip ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """One zip entry. `raw` is an already-deflated payload; `crc`/`size` may lie."""

    name: str
    data: bytes = b""
    method: int = 8
    raw: bytes | None = None
    crc: int | None = None
    size: int | None = None
    flags: int = 0
    same_data_as: str | None = None  # point at another member's local header


def write_zip(path: Path, members: Iterable[Member]) -> None:
    central: list[bytes] = []
    written: dict[str, tuple[int, int, int, int, int]] = {}
    with path.open("wb") as out:
        for m in members:
            name = m.name.encode()
            if m.same_data_as is not None:
                offset, method, crc, csize, size = written[m.same_data_as]
            else:
                if m.raw is not None:
                    payload = m.raw
                elif m.method == 8:
                    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
                    payload = packer.compress(m.data) + packer.flush()
                else:
                    payload = m.data
                crc = zlib.crc32(m.data) if m.crc is None else m.crc
                size = len(m.data) if m.size is None else m.size
                offset, method, csize = out.tell(), m.method, len(payload)
                out.write(
                    struct.pack(
                        "<4sHHHHHLLLHH", b"PK\x03\x04", 20, m.flags, method, 0, 0x21, crc, csize, size, len(name), 0
                    )
                )
                out.write(name)
                out.write(payload)
                written[m.name] = (offset, method, crc, csize, size)
            central.append(
                struct.pack(
                    "<4sHHHHHHLLLHHHHHLL",
                    b"PK\x01\x02",
                    20,
                    20,
                    m.flags,
                    method,
                    0,
                    0x21,
                    crc,
                    csize,
                    size,
                    len(name),
                    0,
                    0,
                    0,
                    0,
                    0,
                    offset,
                )
                + name
            )
        start = out.tell()
        out.write(b"".join(central))
        end = out.tell()
        count = len(central)
        if count > 0xFFFF:
            out.write(struct.pack("<4sQHHLLQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, end - start, start))
            out.write(struct.pack("<4sLQL", b"PK\x06\x07", 0, end, 1))
        short = min(count, 0xFFFF)
        out.write(struct.pack("<4sHHHHLLH", b"PK\x05\x06", 0, 0, short, short, end - start, start, 0))


def repeated_deflate(head: bytes, block: bytes, times: int, tail: bytes) -> tuple[bytes, int, int]:
    """Deflate head + block * times + tail cheaply: (payload, crc, size).

    After a full flush the compressor starts afresh, so every copy of `block`
    compresses to the same bytes: compress it once, repeat the bytes.
    """
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    piece = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    again = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    assert piece == again, "deflate is not block-periodic after a full flush"
    end = packer.compress(tail) + packer.flush()
    crc = zlib.crc32(head)
    for _ in range(times):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    return start + piece * times + end, crc, len(head) + len(block) * times + len(tail)


# --- Workbook parts -------------------------------------------------------------------

STYLES = (
    XML_DECL + f"<styleSheet {MAIN_NS}>"
    '<fonts count="1"><font><sz val="11"/><name val="宋体"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def sheet_xml(rows: str, *, before: str = "", after: str = "", doctype: str = "") -> str:
    return f"{XML_DECL}{doctype}<worksheet {MAIN_NS}>{before}<sheetData>{rows}</sheetData>{after}</worksheet>"


def shared_strings_xml(strings: Sequence[str], *, doctype: str = "") -> str:
    items = "".join(f"<si><t>{s}</t></si>" for s in strings)
    return f'{XML_DECL}{doctype}<sst {MAIN_NS} count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>'


@dataclass(frozen=True)
class SheetSpec:
    name: str
    xml: str
    state: str = "visible"
    rels: str = ""  # the sheet's own relationships part, if any


def workbook_parts(
    sheets: Sequence[SheetSpec],
    *,
    shared_strings: str | None = None,
    macros: bool = False,
    defined_names: Sequence[tuple[str, str]] = (),
    extra_rels: Sequence[tuple[str, str]] = (),
    extra_parts: Mapping[str, bytes] | None = None,
    workbook_doctype: str = "",
) -> dict[str, bytes]:
    """The parts of a small, valid .xlsx/.xlsm (name -> bytes)."""
    main = "application/vnd.ms-excel.sheet.macroEnabled.main+xml" if macros else f"{CT}.sheet.main+xml"
    overrides = [("/xl/workbook.xml", main), ("/xl/styles.xml", f"{CT}.styles+xml")]
    rels = [("styles", "styles.xml")]
    entries: list[str] = []
    parts: dict[str, bytes] = {}
    for index, sheet in enumerate(sheets, start=1):
        overrides.append((f"/xl/worksheets/sheet{index}.xml", f"{CT}.worksheet+xml"))
        rels.append(("worksheet", f"worksheets/sheet{index}.xml"))
        state = "" if sheet.state == "visible" else f' state="{sheet.state}"'
        entries.append(f'<sheet name="{sheet.name}" sheetId="{index}"{state} r:id="rId{len(rels)}"/>')
        parts[f"xl/worksheets/sheet{index}.xml"] = sheet.xml.encode()
        if sheet.rels:
            parts[f"xl/worksheets/_rels/sheet{index}.xml.rels"] = sheet.rels.encode()
    if shared_strings is not None:
        overrides.append(("/xl/sharedStrings.xml", f"{CT}.sharedStrings+xml"))
        rels.append(("sharedStrings", "sharedStrings.xml"))
        parts["xl/sharedStrings.xml"] = shared_strings.encode()
    if macros:
        rels.append(("http://schemas.microsoft.com/office/2006/relationships/vbaProject", "vbaProject.bin"))
        parts["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    rels.extend(extra_rels)
    names = "".join(f'<definedName name="{n}">{ref}</definedName>' for n, ref in defined_names)
    types = "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides)
    parts["[Content_Types].xml"] = (
        XML_DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
        '<Default Extension="vml" ContentType="application/vnd.openxmlformats-officedocument.vmlDrawing"/>'
        f"{types}</Types>"
    ).encode()
    parts["_rels/.rels"] = relationships([(f"{REL}/officeDocument", "xl/workbook.xml")]).encode()
    parts["xl/workbook.xml"] = (
        f"{XML_DECL}{workbook_doctype}<workbook {MAIN_NS}><sheets>{''.join(entries)}</sheets>"
        + (f"<definedNames>{names}</definedNames>" if names else "")
        + "</workbook>"
    ).encode()
    full = [(kind if "/" in kind else f"{REL}/{kind}", target) for kind, target in rels]
    parts["xl/_rels/workbook.xml.rels"] = relationships(full).encode()
    parts["xl/styles.xml"] = STYLES.encode()
    parts.update(extra_parts or {})
    return parts


def relationships(rels: Sequence[tuple[str, str]], *, external: bool = False) -> str:
    mode = ' TargetMode="External"' if external else ""
    items = "".join(
        f'<Relationship Id="rId{i}" Type="{kind}" Target="{target}"{mode}/>'
        for i, (kind, target) in enumerate(rels, start=1)
    )
    return f'{XML_DECL}<Relationships xmlns="{PKG_REL}">{items}</Relationships>'


def members(parts: Mapping[str, bytes]) -> list[Member]:
    return [Member(name, data) for name, data in parts.items()]


def valid_parts() -> dict[str, bytes]:
    """A small valid workbook like the forms: Chinese text, numbers, a formula, a merge."""
    rows = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
        '<row r="2"><c r="A2" t="s"><v>1</v></c><c r="B2"><v>200.16</v></c><c r="C2"><v>180.5</v></c>'
        '<c r="D2"><f>C2/B2</f><v>0.9017785771382894</v></c></row>'
        '<row r="3"><c r="A3" t="inlineStr"><is><t>合计</t></is></c><c r="B3"><v>96</v></c></row>'
    )
    return workbook_parts(
        [SheetSpec("基础数据表", sheet_xml(rows, after='<mergeCells count="1"><mergeCell ref="A1:D1"/></mergeCells>'))],
        shared_strings=shared_strings_xml(["2023年度部门整体支出绩效自评表", "项目支出"]),
        defined_names=[("_xlnm.Print_Area", "基础数据表!$A$1:$D$3")],
    )


def write_workbook(path: Path, parts: Mapping[str, bytes]) -> None:
    write_zip(path, members(parts))


# --- OLE compound file and BIFF8 ----------------------------------------------------------

_FREE, _END, _FAT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD


def cfb(streams: Mapping[str, bytes]) -> bytes:
    """A version-3 compound file holding `streams` (each padded past the mini-stream cutoff)."""
    sector = 512
    datas = {name: data.ljust(4096, b"\x00") for name, data in streams.items()}
    order = sorted(datas, key=lambda n: (len(n), n.upper()))
    counts = [-(-len(datas[n]) // sector) for n in order]
    dir_sectors = -(-(1 + len(order)) // 4)
    fat_sectors = 1
    while fat_sectors * 128 < fat_sectors + dir_sectors + sum(counts):
        fat_sectors += 1
    fat = [_FAT] * fat_sectors
    first_dir = len(fat)
    fat += [*range(first_dir + 1, first_dir + dir_sectors), _END]
    starts = []
    for count in counts:
        first = len(fat)
        starts.append(first)
        fat += [*range(first + 1, first + count), _END]
    fat += [_FREE] * (fat_sectors * 128 - len(fat))

    def entry(name: str, kind: int, right: int, child: int, start: int, size: int) -> bytes:
        encoded = (name.encode("utf-16-le") + b"\x00\x00") if name else b""
        return struct.pack(
            "<64sHBBLLL16sLQQLQ", encoded, len(encoded), kind, 1, _FREE, right, child, bytes(16), 0, 0, 0, start, size
        )

    directory = entry("Root Entry", 5, _FREE, 1 if order else _FREE, _END, 0)
    for i, name in enumerate(order, start=1):
        directory += entry(name, 2, i + 1 if i < len(order) else _FREE, _FREE, starts[i - 1], len(datas[name]))
    directory = directory.ljust(dir_sectors * sector, b"\x00")
    empty = entry("", 0, _FREE, _FREE, 0, 0)
    for at in range((1 + len(order)) * 128, len(directory), 128):
        directory = directory[:at] + empty + directory[at + 128 :]
    difat = list(range(fat_sectors)) + [_FREE] * (109 - fat_sectors)
    header = struct.pack(
        "<8s16sHHHHH6sLLLLLLLLL109L",
        bytes.fromhex("D0CF11E0A1B11AE1"),
        bytes(16),
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        bytes(6),
        0,
        fat_sectors,
        first_dir,
        0,
        4096,
        _END,
        0,
        _END,
        0,
        *difat,
    )
    body = struct.pack(f"<{len(fat)}L", *fat) + directory
    body += b"".join(datas[n].ljust(c * sector, b"\x00") for n, c in zip(order, counts, strict=True))
    return header + body


def _record(kind: int, data: bytes = b"") -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def biff8(
    sheets: Sequence[tuple[str, int, Sequence[tuple[int, int, float | str]]]], *, encrypted: bool = False
) -> bytes:
    """A BIFF8 Workbook stream: (name, visibility 0/1/2, cells (row, col, value)) per sheet."""
    bof = struct.pack("<HHHHLL", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0x000100C1, 0x00000406)
    head = _record(0x0809, bof)
    if encrypted:
        head += _record(0x002F, struct.pack("<HHH", 1, 1, 1) + bytes(48))  # FILEPASS, RC4
    head += _record(0x0042, struct.pack("<H", 1200))

    def boundsheet(offset: int, name: str, state: int) -> bytes:
        return _record(0x0085, struct.pack("<LBBBB", offset, state, 0, len(name), 1) + name.encode("utf-16-le"))

    globals_size = len(head) + sum(len(boundsheet(0, n, s)) for n, s, _ in sheets) + len(_record(0x000A))
    substreams: list[bytes] = []
    for _, _, cells in sheets:
        body = _record(0x0809, struct.pack("<HHHHLL", 0x0600, 0x0010, 0x0DBB, 0x07CC, 0, 0x0406))
        rows = max((r for r, _, _ in cells), default=-1) + 1
        cols = max((c for _, c, _ in cells), default=-1) + 1
        body += _record(0x0200, struct.pack("<LLHHH", 0, rows, 0, cols, 0))
        for row, col, value in cells:
            if isinstance(value, str):
                body += _record(0x0204, struct.pack("<HHHHB", row, col, 0, len(value), 1) + value.encode("utf-16-le"))
            else:
                body += _record(0x0203, struct.pack("<HHHd", row, col, 0, value))
        substreams.append(body + _record(0x000A))
    offsets, at = [], globals_size
    for stream in substreams:
        offsets.append(at)
        at += len(stream)
    stream = head + b"".join(boundsheet(o, n, s) for o, (n, s, _) in zip(offsets, sheets, strict=True))
    return stream + _record(0x000A) + b"".join(substreams)


LEGACY_SHEETS: list[tuple[str, int, Sequence[tuple[int, int, float | str]]]] = [
    ("基础数据表", 0, [(0, 0, "项目支出"), (0, 1, 200.16), (2, 3, "合计")]),
    ("隐藏表", 1, [(0, 0, 1.0)]),
]


# --- The cases ------------------------------------------------------------------------------


def _text(content: str, encoding: str = "utf-8") -> Callable[[Path], object]:
    return lambda path: path.write_bytes(content.encode(encoding))


def _xlsx(parts: Callable[[], Mapping[str, bytes]]) -> Callable[[Path], object]:
    return lambda path: write_workbook(path, parts())


def _zip(make: Callable[[], Iterable[Member]]) -> Callable[[Path], object]:
    return lambda path: write_zip(path, make())


def _one_sheet(rows: str, **kwargs: str) -> dict[str, bytes]:
    return workbook_parts([SheetSpec("Sheet1", sheet_xml(rows, **kwargs))])


def _truncated(path: Path) -> None:
    write_workbook(path, valid_parts())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _bomb_shared_strings() -> list[Member]:
    head = f'{XML_DECL}<sst {MAIN_NS} count="1" uniqueCount="1"><si><t>'.encode()
    payload, crc, size = repeated_deflate(head, b"A" * (1 << 20), 1100, b"</t></si></sst>")
    parts = valid_parts()
    del parts["xl/sharedStrings.xml"]
    return [*members(parts), Member("xl/sharedStrings.xml", raw=payload, crc=crc, size=size)]


def _bomb_lying_sizes() -> list[Member]:
    head = f'{XML_DECL}<sst {MAIN_NS} count="1" uniqueCount="1"><si><t>'.encode()
    payload, crc, _ = repeated_deflate(head, b"A" * (1 << 20), 600, b"</t></si></sst>")
    parts = valid_parts()
    del parts["xl/sharedStrings.xml"]
    return [*members(parts), Member("xl/sharedStrings.xml", raw=payload, crc=crc, size=1000)]


def _overlapping() -> list[Member]:
    parts = valid_parts()
    sheet = SheetSpec("第二张", "")
    parts.update({k: v for k, v in workbook_parts([SheetSpec("基础数据表", ""), sheet]).items() if "workbook" in k})
    return [*members(parts), Member("xl/worksheets/sheet2.xml", same_data_as="xl/worksheets/sheet1.xml")]


def _with_part(name: str, data: str) -> dict[str, bytes]:
    parts = valid_parts()
    parts[name] = data.encode()
    return parts


def _many_entries() -> Iterable[Member]:
    yield from members(valid_parts())
    for i in range(200_000):
        yield Member(f"d/{i}", method=0)


def _deep() -> dict[str, bytes]:
    nested = "<x>" * 10_000 + "</x>" * 10_000
    return _one_sheet('<row r="1"><c r="A1"><v>1</v></c></row>', after=nested)


def _duplicates() -> list[Member]:
    parts = valid_parts()
    evil = sheet_xml('<row r="1"><c r="A1" t="inlineStr"><is><t>second copy</t></is></c></row>')
    return [*members(parts), Member("xl/worksheets/sheet1.xml", evil.encode())]


def _formulas_uncached() -> dict[str, bytes]:
    rows = (
        '<row r="1"><c r="A1"><v>1</v></c><c r="B1"><f>A1*2</f></c><c r="C1"><f>A1+1</f><v>2</v></c></row>'
        '<row r="2"><c r="A2"><f t="shared" ref="A2:B2" si="0">A1</f></c><c r="B2"><f t="shared" si="0"/><v></v></c>'
        '<c r="C2" t="str"><f>IF(A1=1,"",A1)</f><v></v></c><c r="AA2"><f>SUM(A1:C1)</f><v>3</v></c></row>'
    )
    return _one_sheet(rows)


def _external_link() -> dict[str, bytes]:
    link = f'{XML_DECL}<externalLink {MAIN_NS}><externalBook r:id="rId1"/></externalLink>'
    link_rels = relationships([(f"{REL}/externalLinkPath", "file:///C:/其他单位/2023.xlsx")], external=True)
    return workbook_parts(
        [SheetSpec("Sheet1", sheet_xml('<row r="1"><c r="A1"><f>[1]Sheet1!A1</f><v>5</v></c></row>'))],
        extra_rels=[("externalLink", "externalLinks/externalLink1.xml")],
        extra_parts={
            "xl/externalLinks/externalLink1.xml": link.encode(),
            "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels.encode(),
        },
    )


def _drawing() -> dict[str, bytes]:
    rels = relationships([(f"{REL}/drawing", "../drawings/drawing1.xml")])
    drawing = (
        f'{XML_DECL}<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"'
        ' xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"/>'
    )
    row = '<row r="1"><c r="A1"><v>1</v></c></row>'
    return workbook_parts(
        [
            SheetSpec("数据", sheet_xml(row)),
            SheetSpec("图表", sheet_xml(row, after='<drawing r:id="rId1"/>'), rels=rels),
        ],
        extra_parts={"xl/drawings/drawing1.xml": drawing.encode()},
    )


def _hidden_sheets() -> dict[str, bytes]:
    row = '<row r="1"><c r="A1"><v>1</v></c></row>'
    return workbook_parts(
        [
            SheetSpec("可见", sheet_xml(row)),
            SheetSpec("隐藏", sheet_xml(row), "hidden"),
            SheetSpec("深度隐藏", sheet_xml(row), "veryHidden"),
        ]
    )


def _missing_sheet_part() -> dict[str, bytes]:
    parts = _hidden_sheets()
    del parts["xl/worksheets/sheet2.xml"]
    return parts


def _zip_member_flags(flags: int = 0, method: int = 8) -> Callable[[], list[Member]]:
    def make() -> list[Member]:
        parts = valid_parts()
        sheet = parts.pop("xl/worksheets/sheet1.xml")
        return [*members(parts), Member("xl/worksheets/sheet1.xml", sheet, method=method, flags=flags, raw=sheet)]

    return make


def _crc_mismatch() -> list[Member]:
    parts = valid_parts()
    sheet = parts.pop("xl/worksheets/sheet1.xml")
    return [*members(parts), Member("xl/worksheets/sheet1.xml", sheet, crc=zlib.crc32(sheet) ^ 1)]


def _xlsb() -> list[Member]:
    rels = relationships([(f"{REL}/officeDocument", "xl/workbook.bin")])
    return [Member("_rels/.rels", rels.encode()), Member("xl/workbook.bin", b"\x83\x01\x00")]


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _symlink(path: Path) -> None:
    target = path.with_name("symlink_target.xlsx.data")
    write_workbook(target, valid_parts())
    path.symlink_to(target.name)


def _cfb_file(streams: Callable[[], Mapping[str, bytes]]) -> Callable[[Path], object]:
    return lambda path: path.write_bytes(cfb(streams()))


_ROW = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'


@functools.cache
def _long_text() -> str:
    """100,000 varied CJK characters: the length limit trips, not the inflate ratio."""
    rng = random.Random(7)
    return "".join(chr(0x4E00 + rng.randrange(0x5000)) for _ in range(100_000))


_VML = '<xml xmlns:v="urn:schemas-microsoft-com:vml"><v:shape id="a"><br></v:shape></xml>'

# name -> (expected, writer). Expected is "ok" or a substring of the reason.
CASES: dict[str, tuple[str, Callable[[Path], object]]] = {
    "valid.xlsx": (OK, _xlsx(valid_parts)),
    "empty.xlsx": ("文件为空", lambda p: p.write_bytes(b"")),
    "empty.xls": ("文件为空", lambda p: p.write_bytes(b"")),
    "notes_txt.xlsx": ("CSV/文本", _text("请查收本单位的绩效自评表。\n谢谢！\n")),
    "table_csv.xlsx": ("CSV/文本", _text("项目,预算数,执行数\n项目支出,200.16,180.5\n")),
    "table_csv.xls": ("CSV/文本", _text("项目,预算数,执行数\n项目支出,200.16,180.5\n", "gbk")),
    "page_html.xlsx": ("HTML 网页", _text("<!DOCTYPE html><html><body><table><tr><td>1</td></tr></table>")),
    "export_html.xls": ("HTML 网页", _text('<html xmlns:x="urn:schemas-microsoft-com:office:excel"><table>')),
    "spreadsheet2003.xls": (
        "Excel 2003 XML",
        _text('<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"/>'),
    ),
    "report_pdf.xlsx": ("PDF", lambda p: p.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")),
    "screenshot_png.xlsx": ("图片", lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))),
    "truncated.xlsx": ("压缩包已损坏", _truncated),
    "not_workbook.xlsx": ("缺少 xl/workbook.xml", _zip(lambda: [Member("readme.txt", b"hello")])),
    "word_docx.xlsx": ("Word 文档", _zip(lambda: [Member("word/document.xml", b"<w:document/>")])),
    "xlsb_named.xlsx": (".xlsb", _zip(_xlsb)),
    "encrypted.xlsx": (
        "密码保护",
        _cfb_file(lambda: {"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00", "EncryptedPackage": bytes(64)}),
    ),
    "encrypted_biff.xls": ("密码保护", _cfb_file(lambda: {"Workbook": biff8(LEGACY_SHEETS, encrypted=True)})),
    "word97_doc.xls": ("Word 文档", _cfb_file(lambda: {"WordDocument": bytes(64)})),
    "legacy_xls.xlsx": (OK, _cfb_file(lambda: {"Workbook": biff8(LEGACY_SHEETS)})),
    "bomb_shared_strings.xlsx": ("疑似压缩炸弹", _zip(_bomb_shared_strings)),
    "bomb_lying_sizes.xlsx": ("疑似压缩炸弹", _zip(_bomb_lying_sizes)),
    "bomb_overlapping.xlsx": ("重叠", _zip(_overlapping)),
    "laughs_workbook.xlsx": (
        "DOCTYPE/ENTITY",
        _xlsx(lambda: workbook_parts([SheetSpec("S", sheet_xml(_ROW))], workbook_doctype=BILLION_LAUGHS)),
    ),
    "laughs_sheet.xlsx": (
        "DOCTYPE/ENTITY",
        _xlsx(
            lambda: _one_sheet(
                '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>', doctype=BILLION_LAUGHS
            )
        ),
    ),
    "laughs_shared_strings.xlsx": (
        "DOCTYPE/ENTITY",
        _xlsx(lambda: _with_part("xl/sharedStrings.xml", shared_strings_xml(["&lol9;", "x"], doctype=BILLION_LAUGHS))),
    ),
    "xxe_workbook.xlsx": (
        "DOCTYPE/ENTITY",
        _xlsx(lambda: workbook_parts([SheetSpec("&xxe;", sheet_xml(_ROW))], workbook_doctype=XXE)),
    ),
    "xxe_sheet.xlsx": (
        "DOCTYPE/ENTITY",
        _xlsx(lambda: _one_sheet('<row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row>', doctype=XXE)),
    ),
    "xxe_shared_strings.xlsx": (
        "DOCTYPE/ENTITY",
        _xlsx(lambda: _with_part("xl/sharedStrings.xml", shared_strings_xml(["&xxe;", "x"], doctype=XXE))),
    ),
    "xxe_external_dtd.xlsx": (
        "DOCTYPE/ENTITY",
        _xlsx(
            lambda: _with_part(
                "xl/styles.xml",
                XML_DECL + '<!DOCTYPE x SYSTEM "http://127.0.0.1:9/evil.dtd">' + STYLES[len(XML_DECL) :],
            )
        ),
    ),
    "xxe_in_vml.xlsx": ("DOCTYPE/ENTITY", _xlsx(lambda: _with_part("xl/drawings/vmlDrawing1.vml", XXE + _VML))),
    "vml_not_xml.xlsx": (OK, _xlsx(lambda: _with_part("xl/drawings/vmlDrawing1.vml", _VML))),
    "unknown_encoding.xlsx": (
        "字符编码",
        _xlsx(lambda: _with_part("xl/styles.xml", STYLES.replace('encoding="UTF-8"', 'encoding="no-such-codec"'))),
    ),
    "gbk_declared.xlsx": (
        "字符编码",
        _xlsx(lambda: _with_part("xl/workbook.xml", valid_parts()["xl/workbook.xml"].decode().replace("UTF-8", "GBK"))),
    ),
    "dimension_lies.xlsx": (
        OK,
        _xlsx(
            lambda: _one_sheet(
                '<row r="1"><c r="A1"><v>1</v></c><c r="B2"><v>2</v></c></row>',
                before='<dimension ref="A1:XFD1048576"/>',
            )
        ),
    ),
    "far_cell.xlsx": (
        "使用范围过大",
        _xlsx(
            lambda: _one_sheet(
                '<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="XFD1048576"><v>2</v></c></row>'
            )
        ),
    ),
    "merge_whole_sheet.xlsx": (
        "合并单元格面积过大",
        _xlsx(
            lambda: _one_sheet(
                _ROW.replace(' t="s"', ""), after='<mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>'
            )
        ),
    ),
    "many_entries.xlsx": ("条目过多", _zip(_many_entries)),
    "deep_xml.xlsx": ("嵌套过深", _xlsx(_deep)),
    "duplicate_entries.xlsx": ("重复的条目名", _zip(_duplicates)),
    "long_shared_string.xlsx": (
        "文本过长",
        _xlsx(lambda: _with_part("xl/sharedStrings.xml", shared_strings_xml([_long_text(), "x"]))),
    ),
    "long_inline_string.xlsx": (
        "文本过长",
        _xlsx(lambda: _one_sheet(f'<row r="1"><c r="A1" t="inlineStr"><is><t>{_long_text()}</t></is></c></row>')),
    ),
    "formulas_uncached.xlsx": (OK, _xlsx(_formulas_uncached)),
    "external_link.xlsx": (OK, _xlsx(_external_link)),
    "drawing.xlsx": (OK, _xlsx(_drawing)),
    "macros.xlsm": (
        OK,
        _xlsx(lambda: workbook_parts([SheetSpec("Sheet1", sheet_xml(_ROW.replace(' t="s"', "")))], macros=True)),
    ),
    "hidden_sheets.xlsx": (OK, _xlsx(_hidden_sheets)),
    "missing_sheet_part.xlsx": ("缺少工作表", _xlsx(_missing_sheet_part)),
    "duplicate_sheet_names.xlsx": (
        "重复的工作表名",
        _xlsx(lambda: workbook_parts([SheetSpec("表", sheet_xml(_ROW)), SheetSpec("表", sheet_xml(_ROW))])),
    ),
    "malformed_xml.xlsx": ("不是有效的 XML", _xlsx(lambda: _one_sheet('<row r="1"><c r="A1"><v>1</v></row>'))),
    "bad_cell_ref.xlsx": ("无效的单元格地址", _xlsx(lambda: _one_sheet('<row r="1"><c r="1A"><v>1</v></c></row>'))),
    "zip_encrypted_entry.xlsx": ("已加密", _zip(_zip_member_flags(flags=0x1, method=0))),
    "bzip2_entry.xlsx": ("不支持的压缩方式", _zip(_zip_member_flags(method=12))),
    "crc_mismatch.xlsx": ("校验不符", _zip(_crc_mismatch)),
    "fifo.xlsx": ("不是普通文件", _fifo),
    "symlink.xlsx": ("符号链接", _symlink),
}


def build(folder: Path, names: Iterable[str] | None = None) -> dict[str, str]:
    """Write the corpus (or the named cases) into `folder`; return name -> expected."""
    folder.mkdir(parents=True, exist_ok=True)
    expected: dict[str, str] = {}
    for name in names if names is not None else CASES:
        outcome, write = CASES[name]
        path = folder / name
        if path.exists() or path.is_symlink():
            path.unlink()
        write(path)
        expected[name] = outcome
    return expected


def probe(path: str) -> tuple[str, str, object, float, int]:
    """sniff + preflight one file: (outcome, code, facts, seconds, peak RSS growth in KiB).

    Meant to run in a child of its own (`safety.run_isolated`), where the
    peak RSS belongs to this one file.
    """
    from perf_eval.reading import safety

    with open("/proc/self/statm") as statm:
        rss_before = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    start = time.perf_counter()
    facts: object = None
    try:
        facts = safety.preflight(path, safety.sniff(path))
        outcome, code = OK, OK
    except safety.UnreadableWorkbook as exc:
        outcome, code = exc.reason, exc.code
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return outcome, code, facts, seconds, max(0, peak - rss_before)


def main(argv: Sequence[str]) -> int:
    if not argv or argv[1:] not in ([], ["--probe"]):
        print(__doc__, file=sys.stderr)
        return 2
    folder = Path(argv[0])
    for name, expected in build(folder).items():
        if argv[1:] != ["--probe"]:
            print(f"{name}\t{expected}")
            continue
        from perf_eval.reading import safety

        outcome, _, _, seconds, growth = safety.run_isolated(probe, str(folder / name))
        verdict = "pass" if (outcome == expected == OK) or (expected != OK and expected in outcome) else "FAIL"
        print(f"{verdict}\t{name}\t{seconds * 1000:.1f} ms\t{growth / 1024:.1f} MiB\t{outcome}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
