"""A sheet's comments (批注) in the copy: the comments part, and the VML boxes Excel draws them in.

A cell's existing comment keeps its author and text; ours is appended after `COMMENT_MARK`. The
sheet's other comments and any other VML shapes (form controls) are kept as they were.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from perf_eval.outputs.annotate.package import (
    COMMENTS_TYPE,
    MAIN,
    VML_TYPE,
    Package,
    Sheet,
    Unsupported,
    a1,
    parse,
    parse_a1,
    q,
)
from perf_eval.outputs.annotate.text import clean_text, comment_size

VML_V = "urn:schemas-microsoft-com:vml"
VML_O = "urn:schemas-microsoft-com:office:office"
VML_X = "urn:schemas-microsoft-com:office:excel"
_NOTE_SHAPE = "#_x0000_t202"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


@dataclass(frozen=True)
class Existing:
    text: str
    author: str


class SheetComments:
    """The comments of one sheet: read once, changed cell by cell, written back with their boxes."""

    def __init__(self, package: Package, sheet: Sheet) -> None:
        self._package = package
        self._sheet = sheet
        self._part: str | None = None
        self._vml: str | None = None
        kinds: dict[str, list[tuple[str, str]]] = {}
        for rid, kind, target in package.relations(sheet.part):
            kinds.setdefault(kind, []).append((rid, target))
        if "threadedComment" in kinds:
            raise Unsupported(f"{sheet.part}: threaded comments")
        if "comments" in kinds:
            self._part = kinds["comments"][0][1]
        legacy = sheet.legacy_drawing()
        if legacy is not None:
            vml = [target for rid, target in kinds.get("vmlDrawing", []) if rid == legacy]
            if not vml or not package.has(vml[0]):
                raise Unsupported(f"{sheet.part}: legacy drawing {legacy} not found")
            self._vml = vml[0]
        self._root = package.xml(self._part) if self._part else _new_comments()
        self._authors = self._root.find(q("authors"))
        self._list = self._root.find(q("commentList"))
        if self._authors is None or self._list is None:
            raise Unsupported(f"{self._part}: no authors or comment list")
        self._by_cell = {parse_a1(c.get("ref") or ""): c for c in self._list.findall(q("comment"))}
        self._changed: dict[tuple[int, int], tuple[int, int]] = {}  # cell -> box size (px)

    def existing(self, row: int, col: int) -> Existing | None:
        comment = self._by_cell.get((row, col))
        if comment is None:
            return None
        text = "".join(t.text or "" for t in comment.iter(q("t")))
        authors = [a.text or "" for a in self._authors.findall(q("author"))]
        index = int(comment.get("authorId") or 0)
        return Existing(text, authors[index] if 0 <= index < len(authors) else "")

    def put(self, row: int, col: int, text: str, author: str) -> None:
        """Set the cell's comment to `text` (plain) by `author`."""
        text = clean_text(text)
        comment = self._by_cell.get((row, col))
        if comment is None:
            comment = etree.SubElement(self._list, q("comment"), ref=a1(row, col))
            self._by_cell[(row, col)] = comment
        for child in list(comment):
            comment.remove(child)
        comment.set("authorId", str(self._author(author)))
        body = etree.SubElement(comment, q("text"))
        run = etree.SubElement(body, q("t"))
        run.text = text
        run.set(XML_SPACE, "preserve")
        self._changed[(row, col)] = comment_size(text)

    def _author(self, name: str) -> int:
        names = [a.text or "" for a in self._authors.findall(q("author"))]
        if name in names:
            return names.index(name)
        etree.SubElement(self._authors, q("author")).text = name
        return len(names)

    def write(self) -> None:
        if not self._changed:
            return
        package, sheet = self._package, self._sheet
        if self._part is None:
            self._part = package.free_name("xl/comments/comment{}.xml")
            package.relate(sheet.part, "comments", self._part)
        package.put(self._part, self._root)
        package.override(self._part, COMMENTS_TYPE)
        if self._vml is None:
            self._vml = package.free_name("xl/drawings/commentsDrawing{}.vml")
            sheet.add_legacy_drawing(package.relate(sheet.part, "vmlDrawing", self._vml))
            vml = _new_vml()
        else:
            vml = parse(package.body(self._vml), self._vml)  # Excel's VML is not always XML: Unsupported
        package.default("vml", VML_TYPE)
        _place_boxes(vml, self._changed, set(self._by_cell))
        package.put(self._vml, vml, declaration=False)


def _new_comments() -> etree._Element:
    root = etree.Element(q("comments"), nsmap={None: MAIN})
    etree.SubElement(root, q("authors"))
    etree.SubElement(root, q("commentList"))
    return root


def _new_vml() -> etree._Element:
    root = etree.Element("xml", nsmap={"v": VML_V, "o": VML_O, "x": VML_X})
    layout = etree.SubElement(root, f"{{{VML_O}}}shapelayout", {f"{{{VML_V}}}ext": "edit"})
    etree.SubElement(layout, f"{{{VML_O}}}idmap", {f"{{{VML_V}}}ext": "edit", "data": "1"})
    return root


def _shape_cell(shape: etree._Element) -> tuple[int, int] | None:
    data = shape.find(f"{{{VML_X}}}ClientData")
    if data is None or data.get("ObjectType") != "Note":
        return None
    row, col = data.find(f"{{{VML_X}}}Row"), data.find(f"{{{VML_X}}}Column")
    if row is None or col is None:
        return None
    try:
        return int(row.text or "") + 1, int(col.text or "") + 1
    except ValueError:
        return None


def _place_boxes(
    vml: etree._Element, changed: dict[tuple[int, int], tuple[int, int]], cells: set[tuple[int, int]]
) -> None:
    """A box for every changed comment (replacing its old one) and for any comment that had none."""
    shapes = vml.findall(f"{{{VML_V}}}shape")
    boxed = set()
    for shape in shapes:
        cell = _shape_cell(shape)
        if cell in changed:
            vml.remove(shape)
        elif cell is not None:
            boxed.add(cell)
    if vml.find(f"{{{VML_V}}}shapetype[@id='_x0000_t202']") is None:
        _shape_type(vml)
    numbers = [
        int(s.get("id", "")[len("_x0000_s") :])
        for s in vml.iter(f"{{{VML_V}}}shape")
        if s.get("id", "").startswith("_x0000_s") and s.get("id", "")[len("_x0000_s") :].isdigit()
    ]
    number = max([1025, *numbers])
    default = (144, 79)
    for cell in sorted(set(changed) | (cells - boxed)):
        number += 1
        width, height = changed.get(cell, default)
        vml.append(_shape(cell, number, width, height))


def _shape_type(vml: etree._Element) -> None:
    shape_type = etree.SubElement(
        vml,
        f"{{{VML_V}}}shapetype",
        {
            "id": "_x0000_t202",
            "coordsize": "21600,21600",
            f"{{{VML_O}}}spt": "202",
            "path": "m,l,21600r21600,l21600,xe",
        },
    )
    etree.SubElement(shape_type, f"{{{VML_V}}}stroke", joinstyle="miter")
    etree.SubElement(shape_type, f"{{{VML_V}}}path", {"gradientshapeok": "t", f"{{{VML_O}}}connecttype": "rect"})


def _shape(cell: tuple[int, int], number: int, width: int, height: int) -> etree._Element:
    row, col = cell
    style = (
        f"position:absolute; margin-left:59.25pt;margin-top:1.5pt;width:{width}px;height:{height}px;"
        "z-index:1;visibility:hidden"
    )
    shape = etree.Element(
        f"{{{VML_V}}}shape",
        {
            "id": f"_x0000_s{number:04d}",
            "type": _NOTE_SHAPE,
            "style": style,
            "fillcolor": "#ffffe1",
            f"{{{VML_O}}}insetmode": "auto",
        },
    )
    etree.SubElement(shape, f"{{{VML_V}}}fill", color2="#ffffe1")
    etree.SubElement(shape, f"{{{VML_V}}}shadow", color="black", obscured="t")
    etree.SubElement(shape, f"{{{VML_V}}}path", {f"{{{VML_O}}}connecttype": "none"})
    textbox = etree.SubElement(shape, f"{{{VML_V}}}textbox", style="mso-direction-alt:auto")
    etree.SubElement(textbox, "div", style="text-align:left")
    data = etree.SubElement(shape, f"{{{VML_X}}}ClientData", ObjectType="Note")
    etree.SubElement(data, f"{{{VML_X}}}MoveWithCells")
    etree.SubElement(data, f"{{{VML_X}}}SizeWithCells")
    etree.SubElement(data, f"{{{VML_X}}}AutoFill").text = "False"
    etree.SubElement(data, f"{{{VML_X}}}Row").text = str(row - 1)
    etree.SubElement(data, f"{{{VML_X}}}Column").text = str(col - 1)
    return shape
