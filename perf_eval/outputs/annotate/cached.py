"""Formula results carried over: openpyxl saves formulas without them."""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from openpyxl import Workbook, load_workbook
from openpyxl.utils.datetime import to_excel

from perf_eval.outputs.annotate.cells import all_cells

# openpyxl writes every formula without its cached result, so machine readers (calamine,
# pandas, a later check) would see no values until Excel/WPS recalculates. The source's
# cached results are read once more (read-only, data-only) and put back into the saved parts.

Cached = dict[str, dict[str, tuple[str | None, str]]]  # sheet → coordinate → (cell type, <v> text)

# A formula cell exactly as openpyxl writes it: no type, an empty value.
_WRITTEN_FORMULA = re.compile(rb'<c r="([A-Z]{1,3}[0-9]+)"( s="[0-9]+")?>(<f(?: [^>]*)?>[^<]*</f>)<v ?/>')


def formula_cells(workbook: Workbook) -> dict[str, set[str]]:
    cells: dict[str, set[str]] = defaultdict(set)
    for cell in all_cells(workbook):
        if cell.data_type == "f":
            cells[cell.parent.title].add(cell.coordinate)
    return dict(cells)


def cached_values(data: bytes, formulas: dict[str, set[str]]) -> Cached:
    if not formulas:
        return {}
    # Read-only sheets parse (and warn) while iterated; the first load already made its warnings notes.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        try:
            return {
                title: _sheet_cached(book[title], coordinates, book.epoch) for title, coordinates in formulas.items()
            }
        finally:
            book.close()


def _sheet_cached(sheet: Any, coordinates: set[str], epoch: datetime) -> dict[str, tuple[str | None, str]]:
    values = {}
    for row in sheet.iter_rows():
        for cell in row:
            coordinate = getattr(cell, "coordinate", None)  # EmptyCell has none
            if coordinate in coordinates and (value := _cached_text(cell, epoch)) is not None:
                values[coordinate] = value
    return values


def _cached_text(cell: Any, epoch: datetime) -> tuple[str | None, str] | None:
    value = cell.value
    if value is None:
        return None
    if isinstance(value, bool):
        return ("b", "1" if value else "0")
    if isinstance(value, int | float):
        return (None, repr(value))
    if isinstance(value, datetime | date | time | timedelta):
        return (None, repr(to_excel(value, epoch)))
    if isinstance(value, str):
        return ("e" if cell.data_type == "e" else "str", value)
    return None


def uncached_note(formulas: dict[str, set[str]], cached: Cached) -> list[str]:
    missing = sum(len(cells) for cells in formulas.values()) - sum(len(v) for v in cached.values())
    if not missing:
        return []
    return [f"原文件中有 {missing} 个公式单元格没有计算结果，副本中同样没有；在 Excel/WPS 中打开时会重新计算"]


def saved(workbook: Workbook, cached: Cached) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    # ws.path is known once saved: /xl/worksheets/sheetN.xml in workbook order.
    parts = {ws.path.lstrip("/"): cached[ws.title] for ws in workbook.worksheets if cached.get(ws.title)}
    return _with_cached_values(buffer.getvalue(), parts) if parts else buffer.getvalue()


def _with_cached_values(xlsx: bytes, parts: Cached) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename in parts:
                body = _put_cached(body, parts[info.filename])
            target.writestr(info, body)
    return out.getvalue()


def _put_cached(xml: bytes, values: dict[str, tuple[str | None, str]]) -> bytes:
    def replace(match: re.Match[bytes]) -> bytes:
        cached = values.get(match.group(1).decode("ascii"))
        if cached is None:
            return match.group(0)
        kind, text = cached
        kind_attribute = f' t="{kind}"'.encode() if kind else b""
        value = xml_escape(text).encode("utf-8")
        return b'<c r="%s"%s%s>%s<v>%s</v>' % (match[1], match[2] or b"", kind_attribute, match[3], value)

    return _WRITTEN_FORMULA.sub(replace, xml)
