"""The copy written by editing the source's own parts: everything the unit filed stays as it was.

An .xlsx/.xlsm is a zip of XML parts. The copy changes only what the marks need: a few cells'
style index (the fill), the marked sheets' comments and their VML boxes, the styles part (the
new fills, fonts and formats), the workbook part (the 校验结果 sheet first, selected) and the
custom document properties. Every other part is copied byte for byte, so images, charts,
shapes, slicers, data validations, conditional formats and formula results all survive, and no
spreadsheet library is loaded: the copy costs a parse of the parts it edits.

Parts are parsed with lxml, which keeps namespace prefixes as written (Excel refuses a part whose
``mc:Ignorable`` names a prefix that is gone), with entities, DTDs and the network off; the
reader's pre-flight has already refused any DOCTYPE in these bytes. Anything this module does not
handle raises `Unsupported`, and the caller first rewrites the workbook with openpyxl (`copy`).
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import re
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from lxml import etree

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"

REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
COMMENTS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
VML_TYPE = "application/vnd.openxmlformats-officedocument.vmlDrawing"
CUSTOM_TYPE = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
CUSTOM_PART = "docProps/custom.xml"
_TEMPLATE_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    ),
    "application/vnd.ms-excel.template.macroEnabled.main+xml": "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
}

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_A1 = re.compile(r"^\$?([A-Z]{1,3})\$?([0-9]+)$")


class Unsupported(Exception):
    """A package this module does not edit (the caller rewrites it with openpyxl first)."""


def q(tag: str, namespace: str = MAIN) -> str:
    return f"{{{namespace}}}{tag}"


def parse(data: bytes, part: str) -> etree._Element:
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise Unsupported(f"{part}: {exc}") from exc


_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'


def serialize(root: etree._Element, *, declaration: bool = True) -> bytes:
    body = bytes(etree.tostring(root, xml_declaration=False, encoding="UTF-8"))
    return _DECLARATION + body if declaration else body


def column_number(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def a1(row: int, col: int) -> str:
    return f"{column_letters(col)}{row}"


def parse_a1(text: str) -> tuple[int, int]:
    match = _A1.match(text)
    if match is None:
        raise Unsupported(f"cell reference {text!r}")
    return int(match.group(2)), column_number(match.group(1))


# --- the package ---------------------------------------------------------------------------


@dataclass
class SheetEntry:
    """A ``<sheet>`` of the workbook part: its name, visibility and part."""

    name: str
    state: str
    part: str | None  # None for a chartsheet, a dialog sheet or a missing part
    element: etree._Element


class Package:
    """The parts of one .xlsx/.xlsm, read into memory; edited parts are parsed once and written back."""

    def __init__(self, data: bytes) -> None:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                self._infos = [info for info in archive.infolist() if not info.is_dir()]
                self._bodies = {info.filename: archive.read(info) for info in self._infos}
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
            raise Unsupported(str(exc)) from exc
        self._trees: dict[str, etree._Element] = {}
        self._dirty: set[str] = set()
        self._bare: set[str] = set()  # parts written without an XML declaration (VML, as Excel writes it)
        self._rels: dict[str, etree._Element] = {}
        self.types = self.xml("[Content_Types].xml")
        self.workbook_part = self._target("", "officeDocument")
        self.workbook = self.xml(self.workbook_part)
        if self.workbook.tag != q("workbook"):
            raise Unsupported(f"workbook part {self.workbook.tag}")  # e.g. Strict OOXML
        self.sheets = self._sheet_entries()

    # parts

    def has(self, part: str) -> bool:
        return part in self._bodies

    def body(self, part: str) -> bytes:
        return self._bodies[part]

    def xml(self, part: str) -> etree._Element:
        if part not in self._trees:
            if part not in self._bodies:
                raise Unsupported(f"missing part {part}")
            self._trees[part] = parse(self._bodies[part], part)
        return self._trees[part]

    def put(self, part: str, root: etree._Element, *, declaration: bool = True) -> None:
        """A new or replaced part, serialized when the package is written."""
        if not declaration:
            self._bare.add(part)
        self._trees[part] = root
        self._bodies.setdefault(part, b"")
        self._dirty.add(part)

    def touch(self, part: str) -> None:
        """`part`'s parsed tree was edited: write it back."""
        self._dirty.add(part)

    def free_name(self, pattern: str) -> str:
        """``pattern`` with the first number that names no part, e.g. ``xl/comments{}.xml``."""
        number = 1
        while pattern.format(number) in self._bodies or pattern.format(number) in self._trees:
            number += 1
        return pattern.format(number)

    def override(self, part: str, content_type: str) -> None:
        for element in self.types.findall(q("Override", CT)):
            if element.get("PartName") == "/" + part:
                element.set("ContentType", content_type)
                self.touch("[Content_Types].xml")
                return
        etree.SubElement(self.types, q("Override", CT), PartName="/" + part, ContentType=content_type)
        self.touch("[Content_Types].xml")

    def default(self, extension: str, content_type: str) -> None:
        for element in self.types.findall(q("Default", CT)):
            if (element.get("Extension") or "").lower() == extension:
                return
        element = etree.Element(q("Default", CT), Extension=extension, ContentType=content_type)
        self.types.insert(0, element)
        self.touch("[Content_Types].xml")

    def content_type(self, part: str) -> str | None:
        for element in self.types.findall(q("Override", CT)):
            if element.get("PartName") == "/" + part:
                return str(element.get("ContentType") or "")
        return None

    def not_a_template(self) -> None:
        """A template (.xltx/.xltm) is written as an ordinary workbook, matching the copy's extension."""
        kind = self.content_type(self.workbook_part)
        if kind in _TEMPLATE_TYPES:
            self.override(self.workbook_part, _TEMPLATE_TYPES[kind])

    # relationships

    @staticmethod
    def rels_name(part: str) -> str:
        folder, name = posixpath.split(part)
        return posixpath.join(folder, "_rels", f"{name}.rels")

    def rels(self, part: str) -> etree._Element:
        if part not in self._rels:
            name = self.rels_name(part)
            if name in self._bodies:
                self._rels[part] = self.xml(name)
            else:  # written only once a relationship is added
                self._rels[part] = etree.Element(q("Relationships", PKG_REL), nsmap={None: PKG_REL})
        return self._rels[part]

    def relations(self, part: str) -> Iterator[tuple[str, str, str]]:
        """(id, type's last word, target part) of `part`'s internal relationships."""
        folder = posixpath.dirname(part)
        for element in self.rels(part).findall(q("Relationship", PKG_REL)):
            if element.get("TargetMode") == "External":
                continue
            target = element.get("Target") or ""
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            yield element.get("Id") or "", (element.get("Type") or "").rsplit("/", 1)[-1], path

    def relate(self, part: str, kind: str, target: str) -> str:
        """A new relationship from `part` to `target` (a part name); its id."""
        rels = self.rels(part)
        taken = {element.get("Id") for element in rels}
        number = 1
        while f"rIdPE{number}" in taken:
            number += 1
        rid = f"rIdPE{number}"
        relative = posixpath.relpath(target, posixpath.dirname(part) or ".")
        etree.SubElement(rels, q("Relationship", PKG_REL), Id=rid, Type=REL_TYPE + kind, Target=relative)
        self.put(self.rels_name(part), rels)
        return rid

    def _target(self, part: str, kind: str) -> str:
        for _, found, target in self.relations(part):
            if found == kind:
                return target
        raise Unsupported(f"no {kind} relationship from {part or 'the package'}")

    def _sheet_entries(self) -> list[SheetEntry]:
        targets = {rid: (kind, target) for rid, kind, target in self.relations(self.workbook_part)}
        sheets = self.workbook.find(q("sheets"))
        if sheets is None:
            raise Unsupported("no sheets")
        entries = []
        for element in sheets.findall(q("sheet")):
            kind, target = targets.get(element.get(q("id", REL)) or "", ("", ""))
            part = target if kind == "worksheet" and target in self._bodies else None
            entries.append(SheetEntry(element.get("name") or "", element.get("state") or "visible", part, element))
        return entries

    def parsed(self, part: str) -> bool:
        return part in self._trees

    def sheet_parts(self, *, worksheets_only: bool = False) -> list[str]:
        """The parts of the workbook's sheets, in sheet order (chartsheets too, unless `worksheets_only`)."""
        kinds = ("worksheet",) if worksheets_only else ("worksheet", "chartsheet")
        targets = {rid: target for rid, kind, target in self.relations(self.workbook_part) if kind in kinds}
        parts = (targets.get(entry.element.get(q("id", REL)) or "") for entry in self.sheets)
        return [part for part in parts if part in self._bodies]

    def styles_part(self) -> str:
        return self._target(self.workbook_part, "styles")

    # writing

    def to_bytes(self, seal: bytes | None = None) -> bytes:
        """The package as a zip; the placeholder `seal` in the custom properties becomes the content hash."""
        bodies = dict(self._bodies)
        for part in self._dirty:
            bodies[part] = serialize(self._trees[part], declaration=part not in self._bare)
        if seal is not None and CUSTOM_PART in bodies:
            digest = content_hash(bodies)
            bodies[CUSTOM_PART] = bodies[CUSTOM_PART].replace(seal, digest.encode("ascii"), 1)
        out = io.BytesIO()
        written: set[str] = set()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in self._infos:
                if info.filename in written:
                    continue
                written.add(info.filename)
                entry = zipfile.ZipInfo(info.filename, info.date_time)
                # A part stored uncompressed (an image, mostly) is not worth compressing again.
                stored = info.compress_type == zipfile.ZIP_STORED and info.filename not in self._dirty
                entry.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                entry.external_attr = info.external_attr
                target.writestr(entry, bodies[info.filename])
            for part, body in bodies.items():
                if part not in written:
                    target.writestr(zipfile.ZipInfo(part, (1980, 1, 1, 0, 0, 0)), body, zipfile.ZIP_DEFLATED)
        return out.getvalue()


def content_hash(bodies: dict[str, bytes]) -> str:
    """sha256 over every part but the custom properties (which carry this hash), in name order."""
    digest = hashlib.sha256()
    for name in sorted(bodies):
        if name == CUSTOM_PART:
            continue
        digest.update(name.encode("utf-8") + b"\0")
        digest.update(bodies[name])
    return digest.hexdigest()


# --- a worksheet ---------------------------------------------------------------------------

# CT_Worksheet's children in schema order: a new child goes before the first later one present.
_WORKSHEET_ORDER = (
    "sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr", "sheetProtection",
    "protectedRanges", "scenarios", "autoFilter", "sortState", "dataConsolidate", "customSheetViews", "mergeCells",
    "phoneticPr", "conditionalFormatting", "dataValidations", "hyperlinks", "printOptions", "pageMargins",
    "pageSetup", "headerFooter", "rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors",
    "smartTags", "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
    "webPublishItems", "tableParts", "extLst",
)  # fmt: skip


def insert_in_order(parent: etree._Element, child: etree._Element, order: tuple[str, ...]) -> None:
    rank = order.index(etree.QName(child).localname)
    for index, existing in enumerate(parent):
        local = etree.QName(existing).localname if isinstance(existing.tag, str) else ""
        if local in order and order.index(local) > rank:
            parent.insert(index, child)
            return
    parent.append(child)


@dataclass
class Sheet:
    """One worksheet part, parsed: its rows by number (cells are looked up in their row), merged ranges."""

    name: str
    state: str
    part: str
    root: etree._Element
    package: Package
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # min_row, min_col, max_row, max_col
    _rows: dict[int, etree._Element] = field(default_factory=dict)

    @classmethod
    def of(cls, package: Package, entry: SheetEntry) -> Sheet:
        assert entry.part is not None
        root = package.xml(entry.part)
        if root.tag != q("worksheet"):
            raise Unsupported(f"{entry.part}: {root.tag}")
        sheet = cls(entry.name, entry.state, entry.part, root, package)
        data = root.find(q("sheetData"))
        for row in data.iterchildren(q("row")) if data is not None else ():
            number = row.get("r")
            if number is None or not number.isdigit():
                raise Unsupported(f"{entry.part}: a row without its number")
            sheet._rows[int(number)] = row
        merges = root.find(q("mergeCells"))
        for merge in merges.findall(q("mergeCell")) if merges is not None else ():
            first, _, last = (merge.get("ref") or "").partition(":")
            (top, left), (bottom, right) = parse_a1(first), parse_a1(last or first)
            sheet.merged.append((top, left, bottom, right))
        return sheet

    def anchor(self, row: int, col: int) -> tuple[int, int]:
        """The top-left cell of the merged range holding (row, col), or the cell itself."""
        for top, left, bottom, right in self.merged:
            if top <= row <= bottom and left <= col <= right:
                return top, left
        return row, col

    def _find(self, row: int, col: int) -> tuple[etree._Element | None, etree._Element | None]:
        """(the cell, the first cell after it in its row); a cell without its reference is Unsupported."""
        row_element = self._rows.get(row)
        if row_element is None:
            return None, None
        for cell in row_element.iterchildren(q("c")):
            ref = cell.get("r")
            if ref is None:
                raise Unsupported(f"{self.part}: a cell without its reference")
            found = parse_a1(ref)[1]
            if found == col:
                return cell, None
            if found > col:
                return None, cell
        return None, None

    def style(self, row: int, col: int) -> int:
        """The cell's style index; for a cell not in the file, its row's or column's (as Excel shows it)."""
        cell, _ = self._find(row, col)
        if cell is not None:
            return int(cell.get("s") or 0)
        row_element = self._rows.get(row)
        if row_element is not None and row_element.get("customFormat") in ("1", "true"):
            return int(row_element.get("s") or 0)
        cols = self.root.find(q("cols"))
        for column in cols.findall(q("col")) if cols is not None else ():
            if int(column.get("min") or 0) <= col <= int(column.get("max") or 0):
                return int(column.get("style") or 0)
        return 0

    def set_style(self, row: int, col: int, style: int) -> None:
        self._cell(row, col).set("s", str(style))
        self.package.touch(self.part)

    def _cell(self, row: int, col: int) -> etree._Element:
        cell, following = self._find(row, col)
        if cell is not None:
            return cell
        row_element = self._row(row)
        cell = etree.Element(q("c"), r=a1(row, col))
        if following is not None:
            following.addprevious(cell)
        else:
            row_element.append(cell)
        return cell

    def _row(self, row: int) -> etree._Element:
        if row in self._rows:
            return self._rows[row]
        data = self.root.find(q("sheetData"))
        if data is None:
            data = etree.Element(q("sheetData"))
            insert_in_order(self.root, data, _WORKSHEET_ORDER)
        element = etree.Element(q("row"), r=str(row))
        later = [number for number in self._rows if number > row]
        if later:
            self._rows[min(later)].addprevious(element)
        else:
            data.append(element)
        self._rows[row] = element
        return element

    def add_legacy_drawing(self, rid: str) -> None:
        element = etree.Element(q("legacyDrawing"))
        element.set(q("id", REL), rid)
        insert_in_order(self.root, element, _WORKSHEET_ORDER)
        self.package.touch(self.part)

    def legacy_drawing(self) -> str | None:
        element = self.root.find(q("legacyDrawing"))
        return None if element is None else element.get(q("id", REL))


class Sheets(Mapping[str, Sheet]):
    """The workbook's worksheets by name, each parsed when first asked for (a sheet without marks never is)."""

    def __init__(self, package: Package) -> None:
        self._package = package
        self._entries = {entry.name: entry for entry in package.sheets if entry.part is not None}
        self._parsed: dict[str, Sheet] = {}

    def __getitem__(self, name: str) -> Sheet:
        if name not in self._parsed:
            self._parsed[name] = Sheet.of(self._package, self._entries[name])
        return self._parsed[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def state(self, name: str) -> str:
        return self._entries[name].state


def deselect(package: Package) -> None:
    """No sheet's tab stays selected (the 校验结果 sheet is added selected): worksheets and chartsheets alike."""
    for part in package.sheet_parts():
        if not package.parsed(part) and b"tabSelected" not in package.body(part):
            continue
        root = package.xml(part)
        changed = False
        for view in root.iter(q("sheetView")):  # a chartsheet's view has the same name
            if view.get("tabSelected") in ("1", "true"):
                del view.attrib["tabSelected"]
                changed = True
        if changed:
            package.touch(part)


# A formula (<f>...</f> or a shared formula's <f .../>) and the value saved after it in its cell, if any:
# a streaming count over the part's bytes, so a sheet of 50,000 rows costs milliseconds, not a parse.
_FORMULA_AND_VALUE = re.compile(
    rb"<(?:\w+:)?f\b[^>]*?(?:/>|>[^<]*</(?:\w+:)?f>)\s*(?:<(?:\w+:)?v\b[^>]*?(?:/>|>([^<]*)</(?:\w+:)?v>))?"
)


def uncached_formulas(package: Package) -> int:
    """How many formula cells of the worksheets have no result saved with them."""
    missing = 0
    for part in package.sheet_parts(worksheets_only=True):
        body = package.body(part)
        if b"f>" not in body and b"f " not in body:
            continue
        missing += sum(1 for match in _FORMULA_AND_VALUE.finditer(body) if not match.group(1))
    return missing
