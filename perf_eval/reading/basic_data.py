"""Reading the 部门整体支出绩效评价基础数据表 (docs/domain.md §2.1)."""

from __future__ import annotations

from perf_eval.forms import BUILDING_LABELS, MISSING, BasicData, Entry, Line, LineRole
from perf_eval.model import CellRef, FormInfo, FormKind
from perf_eval.reading.locate import Region, inline_or_right, read_footer
from perf_eval.reading.self_eval import amount_unit, in_wan
from perf_eval.values import as_written, find_year, label_key, parse_rate

_UNIT_LABELS = ("填报单位", "单位名称", "部门(单位)名称", "部门名称", "预算单位")
_RATE_FIELDS = ("scale_rate", "investment_rate")


def _amount_columns(region: Region) -> tuple[int, dict[str, int], dict[str, Entry]] | None:
    """The 经费控制情况 header row and which column is 上年决算/本年预算/本年决算."""
    rows: dict[int, list[tuple[int, str]]] = {}
    for row, col, text in region.cells():
        key = label_key(text)
        if ("决算" in key or "预算" in key) and "调整" not in key and "投资" not in key and len(key) < 20:
            rows.setdefault(row, []).append((col, key))
    for row in sorted(rows):
        cols = rows[row]
        finals = [(col, key) for col, key in cols if "决算" in key]
        budgets = [(col, key) for col, key in cols if "决算" not in key]
        if len(finals) < 2 or not budgets:
            continue
        prior = next(((c, k) for c, k in finals if "上年" in k or "上期" in k), None)
        if prior is None:
            # Years in the headers ("2022年决算数", "2023年决算数"); else left to right.
            finals.sort(key=lambda ck: (find_year(ck[1]) or 0, ck[0]))
            prior = finals[0]
        final = next(ck for ck in reversed(finals) if ck != prior)
        budget = budgets[0]
        columns = {"prior_final": prior[0], "budget": budget[0], "final": final[0]}
        headers = {name: region.entry(row, col) for name, col in columns.items()}
        return row, columns, headers
    return None


def _role(key: str, raw_text: str, section: str | None) -> tuple[LineRole, str | None]:
    """What a 经费控制情况 row is, given the section the rows above opened."""
    if key.startswith("三公经费"):
        return LineRole.THREE_PUBLIC, "three"
    if key.startswith("项目支出"):
        return LineRole.PROJECTS, "projects"
    if key.startswith("公用经费"):
        return LineRole.PUBLIC, "public"
    if key.startswith("政府采购"):
        return LineRole.PROCUREMENT, None
    if key.endswith("预算调整"):
        return LineRole.ADJUSTMENT, None
    if section in ("three", "car"):
        if section == "car" and "和" not in key and any(w in key for w in ("购置", "运行", "维护")):
            return LineRole.CAR_PART, "car"
        if "用车" in key or "公车" in key:
            return LineRole.CAR, "car"
        if "出国" in key or "出境" in key:
            return LineRole.ABROAD, "three"
        if "接待" in key:
            return LineRole.RECEPTION, "three"
    if section == "projects":
        return LineRole.PROJECT, section
    if section == "public":
        return LineRole.PUBLIC_PART, section
    return LineRole.OTHER, section


def _stop(key: str) -> bool:
    return key.startswith(("楼堂馆所", "厉行节约", "说明", "填表人", "批复规模"))


def _lines(region: Region, header_row: int, columns: dict[str, int], unit: str) -> tuple[Line, ...]:
    first_amount_col = min(columns.values())
    lines: list[Line] = []
    section: str | None = None
    seen: set[tuple[int, int]] = set()
    start = region.below(header_row, first_amount_col)
    for row in range(start, region.last + 1):
        label_cell = next(
            (
                (row, col)
                for col in range(1, first_amount_col)
                if region.grid.text(row, col) and region.grid.anchor(row, col)[0] == row
            ),
            None,
        )
        if label_cell is None:
            continue
        text = region.grid.text(*label_cell)
        key = label_key(text)
        if _stop(key):
            break
        anchor = region.grid.anchor(*label_cell)
        if anchor in seen:
            continue
        seen.add(anchor)
        role, section = _role(key, text, section)
        amounts = {name: in_wan(region.entry(row, col), unit) for name, col in columns.items()}
        lines.append(Line(role, key, region.grid.ref(*label_cell), amounts, as_written(text)))
    return tuple(lines)


def _staff(region: Region) -> tuple[Entry, Entry, Entry, CellRef | None, int | None]:
    head = region.find(lambda k: k == "编制数" or k.startswith("编制数("))
    if head is None:
        return MISSING, MISSING, MISSING, None, None
    row, col = head
    cols = dict((key, c) for c, key in region.row_cells(row))
    actual_col = next((c for key, c in cols.items() if "实际在职" in key or "实有人数" in key), None)
    rate_col = next((c for key, c in cols.items() if key.startswith("控制率") or key == "编制控制率"), None)
    value_row = region.below(row, col)
    authorized = region.entry(value_row, col)
    actual = region.entry(value_row, actual_col) if actual_col else MISSING
    rate = region.entry(value_row, rate_col, parse_rate) if rate_col else MISSING
    actual_header = region.grid.ref(row, actual_col) if actual_col else None
    actual_year = find_year(region.grid.text(row, actual_col)) if actual_col else None
    return authorized, actual, rate, actual_header, actual_year


def _buildings(region: Region) -> dict[str, Entry]:
    head = region.find(lambda k: k.startswith("批复规模"))
    if head is None:
        return {}
    row, col = head
    value_row = region.below(row, col)
    fields: dict[str, Entry] = {}
    for c, key in region.row_cells(row):
        for name, label in BUILDING_LABELS.items():
            if key.startswith(label) and name not in fields:
                parse = parse_rate if name in _RATE_FIELDS else None
                fields[name] = region.entry(value_row, c, parse) if parse else region.entry(value_row, c)
    return fields


def read_basic_data(region: Region) -> BasicData:
    year_refs: list[tuple[int, CellRef]] = []
    title_year = find_year(region.title) if region.title else None
    if title_year and region.title_row:
        title_col = next(c for r, c, t in region.cells() if r == region.title_row and t == region.title)
        year_refs.append((title_year, region.grid.ref(region.title_row, title_col)))
    authorized, actual, rate, actual_header, actual_year = _staff(region)
    if actual_year and actual_header:
        year_refs.append((actual_year, actual_header))
    header = _amount_columns(region)
    lines: tuple[Line, ...] = ()
    column_headers: dict[str, Entry] = {}
    unit = "万元"
    if header is not None:
        header_row, columns, column_headers = header
        # "经费控制情况（元）" or "单位：元" under the title: amounts read in 万元 (the cells keep their text).
        unit = amount_unit(region, header_row + 1, header_row)
        lines = _lines(region, header_row, columns, unit)
        for name in ("budget", "final"):
            year, ref = find_year(column_headers[name].text), column_headers[name].ref
            if year and ref is not None:
                year_refs.append((year, ref))
    unit_cell = region.find(lambda k: k.startswith(_UNIT_LABELS))
    unit_entry = inline_or_right(region, *unit_cell) if unit_cell else None
    year = title_year or next((y for y, _ in year_refs), None)
    info = FormInfo(
        FormKind.BASIC_DATA,
        region.grid.name,
        unit_entry.text if unit_entry and unit_entry.text else None,
        year,
        region.title,
    )
    return BasicData(
        info=info,
        column_headers=column_headers,
        staff_authorized=authorized,
        staff_actual=actual,
        control_rate=rate,
        lines=lines,
        buildings=_buildings(region),
        footer=read_footer(region),
        unit_ref=unit_entry.ref if unit_entry else None,
        year_refs=tuple(year_refs),
        unit=unit,
    )
