"""The copy's new cell formats, added to the source's styles part: the marks' fills and the 校验结果 sheet's looks."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from xml.etree import ElementTree as StdElementTree

from lxml import etree

from perf_eval.outputs.annotate.package import Package, Unsupported, q
from perf_eval.outputs.annotate.text import FONT

# CT_Stylesheet's children in schema order, for a collection the part does not have yet.
_STYLESHEET_ORDER = (
    "numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs", "tableStyles",
    "colors", "extLst",
)  # fmt: skip


@dataclass(frozen=True)
class Look:
    """A cell format of the 校验结果 sheet."""

    bold: bool = False
    size: int = 11
    color: str | None = None
    underline: bool = False
    fill: str | None = None  # an ARGB colour
    horizontal: str | None = None
    wrap: bool = False
    quote_prefix: bool = False


class Styles:
    """The styles part of a package, with formats added as they are asked for (each once)."""

    def __init__(self, package: Package) -> None:
        self._package = package
        self._part = package.styles_part()
        self._root = package.xml(self._part)
        if self._root.tag != q("styleSheet"):
            raise Unsupported(f"{self._part}: {self._root.tag}")
        self._xfs = _items(self._collection("cellXfs"), "xf")
        if not self._xfs:
            raise Unsupported(f"{self._part}: no cell formats")
        self._fills: dict[str, int] = {}
        self._fonts: dict[tuple[bool, int, str | None, bool], int] = {}
        self._filled: dict[tuple[int, str], int] = {}
        self._looks: dict[Look, int] = {}

    def _collection(self, name: str) -> etree._Element:
        found = self._root.find(q(name))
        if found is None:
            found = etree.Element(q(name))
            rank = _STYLESHEET_ORDER.index(name)
            later = [
                e
                for e in self._root
                if isinstance(e.tag, str) and etree.QName(e).localname in _STYLESHEET_ORDER[rank + 1 :]
            ]
            if later:
                later[0].addprevious(found)
            else:
                self._root.append(found)
        return found

    def _append(self, name: str, element: etree._Element) -> int:
        collection = self._collection(name)
        collection.append(element)
        items = _items(collection, etree.QName(element).localname)
        collection.set("count", str(len(items)))
        self._package.touch(self._part)
        if name == "cellXfs":
            self._xfs = items
        return len(items) - 1

    def _reserved_fills(self) -> None:
        """Fills 0 (none) and 1 (gray125) are what spreadsheet programs assume: a new fill never takes their place."""
        fills = self._collection("fills")
        for pattern in ("none", "gray125")[len(_items(fills, "fill")) :]:
            fill = etree.SubElement(fills, q("fill"))
            etree.SubElement(fill, q("patternFill"), patternType=pattern)
        fills.set("count", str(len(_items(fills, "fill"))))

    def _fill(self, argb: str) -> int:
        if not self._fills:
            self._reserved_fills()
        if argb not in self._fills:
            fill = etree.Element(q("fill"))
            pattern = etree.SubElement(fill, q("patternFill"), patternType="solid")
            etree.SubElement(pattern, q("fgColor"), rgb=argb)
            etree.SubElement(pattern, q("bgColor"), indexed="64")
            self._fills[argb] = self._append("fills", fill)
        return self._fills[argb]

    def _font(self, bold: bool, size: int, color: str | None, underline: bool) -> int:
        key = (bold, size, color, underline)
        if key not in self._fonts:
            font = etree.Element(q("font"))
            if bold:
                etree.SubElement(font, q("b"))
            if underline:
                etree.SubElement(font, q("u"), val="single")
            etree.SubElement(font, q("sz"), val=str(size))
            if color:
                etree.SubElement(font, q("color"), rgb=color)
            etree.SubElement(font, q("name"), val=FONT)
            etree.SubElement(font, q("charset"), val="134")
            self._fonts[key] = self._append("fonts", font)
        return self._fonts[key]

    def with_fill(self, style: int, argb: str) -> int:
        """Cell format `style` with a solid `argb` fill instead of its own."""
        key = (style, argb)
        if key not in self._filled:
            base = self._xfs[style] if 0 <= style < len(self._xfs) else self._xfs[0]
            xf = copy.deepcopy(base)
            xf.set("fillId", str(self._fill(argb)))
            xf.set("applyFill", "1")
            self._filled[key] = self._append("cellXfs", xf)
        return self._filled[key]

    def fill_record(self, style: int) -> str | None:
        """The fill of cell format `style`, as the 校验结果 sheet records it (None: no fill)."""
        base = self._xfs[style] if 0 <= style < len(self._xfs) else self._xfs[0]
        fills = _items(self._collection("fills"), "fill")
        index = int(base.get("fillId") or 0)
        if not 0 <= index < len(fills):
            return None
        fill = fills[index]
        pattern = fill.find(q("patternFill"))
        if pattern is not None and pattern.get("patternType") in (None, "none") and not len(pattern):
            return None
        return _plain(fill)

    def look(self, look: Look) -> int:
        if look not in self._looks:
            xf = etree.Element(
                q("xf"),
                numFmtId="0",
                fontId=str(self._font(look.bold, look.size, look.color, look.underline)),
                fillId=str(self._fill(look.fill)) if look.fill else "0",
                borderId="0",
                xfId="0",
                applyFont="1",
                applyAlignment="1",
            )
            if look.fill:
                xf.set("applyFill", "1")
            if look.quote_prefix:
                xf.set("quotePrefix", "1")
            alignment = etree.SubElement(xf, q("alignment"), vertical="top")
            if look.horizontal:
                alignment.set("horizontal", look.horizontal)
            if look.wrap:
                alignment.set("wrapText", "1")
            self._looks[look] = self._append("cellXfs", xf)
        return self._looks[look]


def _items(collection: etree._Element, tag: str) -> list[etree._Element]:
    """The `tag` children of `collection`, by index as the cells' style ids count them (XML comments aside)."""
    return [child for child in collection if child.tag == q(tag)]


def _plain(element: etree._Element) -> str:
    """`element` without namespaces, serialized by the standard library (as earlier copies recorded fills)."""
    return StdElementTree.tostring(_plain_tree(element), encoding="unicode")


def _plain_tree(element: etree._Element) -> StdElementTree.Element:
    plain = StdElementTree.Element(etree.QName(element).localname, dict(element.attrib))
    plain.extend(_plain_tree(child) for child in element if isinstance(child.tag, str))
    return plain
