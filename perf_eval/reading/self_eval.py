"""Reading the 部门整体 / 项目支出绩效自评表 (docs/domain.md §2.2, §2.3): one reader for both."""

from __future__ import annotations

import re
from dataclasses import replace

from perf_eval.forms import (
    FUNDS_COLUMNS,
    MISSING,
    SINGLE,
    YUAN_PER_WAN,
    Category,
    Entry,
    Funds,
    FundsPart,
    Indicator,
    PartGroup,
    SelfEval,
)
from perf_eval.model import CellRef, FormInfo, FormKind
from perf_eval.reading.bands import read_bands
from perf_eval.reading.family import recognise
from perf_eval.reading.locate import Region, inline_or_right, read_footer
from perf_eval.values import (
    NOT_APPLICABLE,
    as_written,
    find_year,
    label_key,
    normalize,
    parse_number,
    parse_rate,
    parse_target,
    parse_weight,
)

_PLACEHOLDER = re.compile(r"^(指标[0-9一二三四五六七八九十]+|…+|\.{3,}|……)$")
_GROUP_HEADERS = ("按收入性质分", "按支出性质分")
# The row that holds the funds total, by family: 年度资金总额 (A, C, E), 总额 (B), 年度财政资金总额 and
# 部门整体支出总额 (D), 资金总体 (G).
_TOTAL_LABELS = ("年度资金总额", "资金总额", "年度财政资金总额", "部门整体支出总额", "资金总体", "总额")
# Rows that end the indicator grid when the form has no 总分/合计 row (closing rows, notes).
_GRID_END = ("评价结论", "存在问题", "改进措施", "偏差大或目标未完成原因分析", "项目负责人", "备注", "填表人", "说明")
_SECTION = re.compile(r"^[一二三四五六七八九十]+、")
# The funds lines of the templates themselves: a row with one of these labels ends a nested "其中" breakdown.
_FUNDS_LINES = (
    "当年财政拨款",
    "本年财政拨款",
    "财政拨款",
    "财政资金",
    "上年结转",
    "其他资金",
    "单位资金",
    "财政专户管理资金",
    "基本支出",
    "项目支出",
)
_HEADER_WEIGHT = re.compile(r"[(（]([0-9]+(?:\.[0-9]+)?)分[)）]|([0-9]+(?:\.[0-9]+)?)分\*执行率")
_AMOUNTS = ("initial_budget", "annual_budget", "executed")


def funds_column(key: str) -> str | None:
    """What a funds header cell holds, whatever the family calls it.

    年初预算数/年初预算; 全年预算数/调整后预算数/全年（调整）预算数/预算数（A）; 全年执行数/预算执行数/执行数（B）;
    执行率/预算执行率/执行率（B/A）/执行率（%）; 分值/权重/执行率权重; 得分/执行率得分/得分（20分*执行率）; 原因.
    """
    if key.startswith(("得分", "执行率得分", "自评得分")):
        return "score"
    if key.startswith(("分值", "权重")) or ("执行率" in key and "权重" in key):
        return "max_score"
    if "执行率" in key or key.startswith("预算执行进度"):
        return "rate"
    if key.startswith("年初预算"):
        return "initial_budget"
    if key.startswith(("全年预算数", "调整后预算数", "全年(调整)预算数", "全年调整预算数", "预算数")):
        return "annual_budget"
    if key.startswith(("全年执行数", "预算执行数", "执行数")):
        return "executed"
    if key.startswith("原因"):
        return "reason"
    return None


def _funds_header(region: Region, stop_row: int) -> tuple[int, dict[str, int]] | None:
    """The funds block's header row: the first with at least two amount columns (budget, executed)."""
    for row in sorted({r for r, _, _ in region.cells() if r < stop_row}):
        columns: dict[str, int] = {}
        for col, key in region.row_cells(row):
            name = funds_column(key)
            if name is not None and name not in columns:
                columns[name] = col
        if sum(1 for name in _AMOUNTS if name in columns) >= 2:
            return row, columns
    return None


def _header_weight(region: Region, row: int, columns: dict[str, int]) -> Entry:
    """The execution weight a header declares: "预算执行情况（万元）（20分）" or "得分（20分*执行率）"."""
    score_col = columns.get("score")
    candidates = [(c, region.grid.text(row, c)) for c, _ in region.row_cells(row)]
    candidates.sort(key=lambda cell: (cell[0] != score_col, cell[0]))
    for col, text in candidates:
        match = _HEADER_WEIGHT.search(text)
        if match is not None and (col == score_col or col < min(columns.values())):
            weight = match.group(1) or match.group(2)
            return Entry(region.grid.ref(row, col), text, parse_number(weight))
    return MISSING


def _single_part(region: Region, row: int, col: int, group_cols: set[int]) -> FundsPart | None:
    """ "其中：一般公共预算：959.93" -> part 一般公共预算 with its amount in the same cell.

    "一般公共预算：" with the amount in the next cell (not another group's column) reads that cell.
    """
    text = region.grid.text(row, col).replace("：", ":")
    if ":" not in text:
        return None
    body = label_key(text)
    label, _, amount = body.rpartition(":") if body.count(":") else (body, "", "")
    label = label_key(label)
    if not label or label.startswith(_GROUP_HEADERS):
        return None
    if not amount:
        neighbour = region.right_of(row, col)
        if neighbour is not None and neighbour[0] == row and neighbour[1] not in group_cols:
            entry = region.entry(*neighbour)
            if entry.ok:
                return FundsPart(label, {SINGLE: entry})
    number = parse_number(amount)
    return FundsPart(label, {SINGLE: Entry(region.grid.ref(row, col), amount, number)})


def _groups(region: Region, total_row: int, columns: dict[str, int], stop_row: int) -> tuple[PartGroup, ...]:
    headers = [
        (row, col) for row, col in region.find_all(lambda k: k.startswith(_GROUP_HEADERS)) if total_row < row < stop_row
    ]
    groups: list[PartGroup] = []
    if headers:
        group_cols = {col for _, col in headers}
        for row, col in headers:
            parts: list[FundsPart] = []
            seen: set[tuple[int, int]] = set()
            for r in range(region.below(row, col), stop_row):
                anchor = region.grid.anchor(r, col)
                if anchor in seen or not region.grid.text(*anchor):
                    continue
                seen.add(anchor)
                part = _single_part(region, *anchor, group_cols)
                if part is not None:
                    parts.append(part)
            name = label_key(region.grid.text(row, col))
            groups.append(PartGroup(name, region.grid.ref(row, col), tuple(parts), per_column=False))
        return tuple(groups)
    # National template: "其中：当年财政拨款 / 上年结转资金 / 其他资金" rows, one amount per column
    # (Sichuan: 其中：财政资金 / 财政专户管理资金 / 单位资金 / 其他资金; Hubei 部门整体: 基本支出总额 /
    # 项目支出总额 above 部门整体支出总额). Every funds row but the total is a part.
    # A later "其中" row opens a breakdown of the line above it (当年财政拨款 / 其中：中央资金 / 省级资金),
    # which lasts until a line of the template's own (上年结转资金, 其他资金, ...): those rows are parts of
    # that line, not of the total.
    parts = []
    nested: list[tuple[FundsPart, CellRef, list[FundsPart]]] = []
    first_ref: CellRef | None = None
    for r, label_cell, key in _funds_rows(region, columns, stop_row):
        if r == total_row:
            continue
        amounts = {name: region.entry(r, columns[name]) for name in FUNDS_COLUMNS if name in columns}
        part = FundsPart(key, amounts)
        ref = region.grid.ref(*label_cell)
        opens = (
            normalize(region.grid.text(*label_cell)).startswith("其中")
            and bool(parts)
            and not key.startswith(_FUNDS_LINES)
        )
        if opens and (not nested or nested[-1][0] is not parts[-1]):
            nested.append((parts[-1], ref, [part]))
        elif nested and nested[-1][0] is parts[-1] and not key.startswith(_FUNDS_LINES):
            nested[-1][2].append(part)
        else:
            parts.append(part)
        first_ref = first_ref or ref
    if not parts or first_ref is None:
        return ()
    groups = [PartGroup("其中", first_ref, tuple(parts), per_column=True)]
    for parent, ref, children in nested:
        groups.append(PartGroup(f"{parent.label} / 其中", ref, tuple(children), per_column=True, of=parent))
    return tuple(groups)


def _funds_rows(region: Region, columns: dict[str, int], stop_row: int) -> list[tuple[int, tuple[int, int], str]]:
    """(row, label cell, label key) of the rows under the funds header, up to the goals or the grid."""
    header_row = columns["_row"]
    amount_cols = [columns[name] for name in FUNDS_COLUMNS if name in columns]
    first_amount = min(amount_cols)
    rows: list[tuple[int, tuple[int, int], str]] = []
    for r in range(region.grid.merge_end(header_row, first_amount)[0] + 1, stop_row):
        label_cell = next(
            (
                (r, c)
                for c in range(first_amount - 1, 0, -1)
                if region.grid.text(r, c) and region.grid.anchor(r, c)[0] == r
            ),
            None,
        )
        if label_cell is None:
            if not any(region.grid.text(r, c) for c in amount_cols):
                continue
            label_cell = (r, first_amount)  # no label column (Chongqing): the amounts' own row
            if rows:
                break
            rows.append((r, label_cell, ""))
            continue
        text = region.grid.text(*label_cell)
        key = label_key(text)
        if _SECTION.match(text) or key.startswith(("年度总体目标", "年度目标", "总体目标", "绩效指标", "一级指标")):
            break
        if funds_column(key) is not None and len(region.row_cells(r)) > 2:
            break  # the next block's header
        rows.append((r, label_cell, key))
    return rows


_INLINE_FUNDS = (
    ("预算安排情况", "annual_budget"),
    ("全年预算数", "annual_budget"),
    ("资金执行情况", "executed"),
    ("全年执行数", "executed"),
    ("预算执行进度", "rate"),
    ("预算执行率", "rate"),
)


# "预算安排情况（调整后） 85.00" (read without its space): a known label, then the amount, no colon.
_SPACED_AMOUNT = re.compile(r"^(?P<label>.*[^\s0-9.,])\s*(?P<amount>[0-9][0-9,]*(?:\.[0-9]+)?%?)$")


def _inline_funds(region: Region, stop_row: int) -> Funds | None:
    """A budget-system export's "预算安排情况（调整后）：120.00" cells: label and amount in one cell (J)."""
    found: dict[str, Entry] = {}
    for row, col, text in region.cells():
        if row >= stop_row:
            break
        body = text.replace("：", ":")
        label, colon, amount = body.rpartition(":")
        if not colon or not amount.strip():
            spaced = _SPACED_AMOUNT.match(body.strip())
            if spaced is None:
                continue
            label, amount = spaced["label"], spaced["amount"]
        key = label_key(label)
        for prefix, name in _INLINE_FUNDS:
            if key.startswith(prefix) and name not in found:
                number = parse_rate(amount) if name == "rate" else parse_number(amount)
                found[name] = Entry(region.grid.ref(row, col), amount, number)
    if "annual_budget" not in found or "executed" not in found:
        return None
    return Funds(
        total_label_ref=found["annual_budget"].ref,
        total={name: found[name] for name in ("annual_budget", "executed")},
        rate=found.get("rate", MISSING),
    )


# "（元）", "单位：元", "（单位：元）" ending a label or title (a weight "（10分）" may follow).
_YUAN = re.compile(r"(\(元\)|单位:元\)?)(\([0-9.]+分\))?$")
_WAN = re.compile(r"\(万元\)|单位:万元")
# A cell saying the unit is a label or a title, not a sentence.
_UNIT_LABEL_MAX = 40


def amount_unit(region: Region, stop_row: int, header_row: int | None) -> str:
    """The unit of the funds amounts: "元" when the funds header or, failing that, the title area says
    "（元）" / "单位：元"; otherwise 万元 (the templates' unit)."""
    rows = [header_row] if header_row is not None else []
    rows.append(-1)  # then every row above the grid
    for wanted in rows:
        for row, _, text in region.cells():
            if row >= stop_row or (wanted != -1 and row != wanted):
                continue
            key = normalize(text)
            if len(key) > _UNIT_LABEL_MAX:
                continue  # prose (goals, notes) may mention "（元）" about something else
            if _WAN.search(key):
                return "万元"
            if _YUAN.search(key):
                return "元"
    return "万元"


def in_wan(entry: Entry, unit: str) -> Entry:
    """An amount in 万元: converted when its cell ("35000元") or, without a unit of its own, its form is in 元.

    The value and the decimals shown move four places; the text stays as the clerk wrote it.
    """
    number = entry.number
    if not number.ok or number.value is None or (number.unit or unit) != "元":
        return entry
    converted = replace(number, value=number.value / YUAN_PER_WAN, decimals=number.decimals + 4)
    return replace(entry, number=converted)


def _converted(funds: Funds, unit: str) -> Funds:
    """The funds block with every amount in 万元 (a nested breakdown's line too)."""

    def part_in_wan(part: FundsPart) -> FundsPart:
        return replace(part, amounts={k: in_wan(e, unit) for k, e in part.amounts.items()})

    groups = tuple(
        replace(
            group,
            parts=tuple(part_in_wan(part) for part in group.parts),
            of=part_in_wan(group.of) if group.of is not None else None,
        )
        for group in funds.groups
    )
    total = {k: in_wan(e, unit) for k, e in funds.total.items()}
    return replace(funds, total=total, groups=groups, unit=unit)


def _funds(region: Region, stop_row: int) -> Funds:
    header = _funds_header(region, stop_row)
    return _converted(_funds_as_written(region, stop_row, header), amount_unit(region, stop_row, header and header[0]))


def _funds_as_written(region: Region, stop_row: int, header: tuple[int, dict[str, int]] | None) -> Funds:
    inline = _inline_funds(region, stop_row) if header is None else None
    if inline is not None:
        return inline
    if header is None:
        total_cell = region.find(lambda k: k.startswith("年度资金总额") or k == "资金总额")
        return Funds(region.grid.ref(*total_cell) if total_cell else None, {})
    header_row, columns = header
    columns = {**columns, "_row": header_row}
    rows = _funds_rows(region, columns, stop_row)
    total = next(
        (row for label in _TOTAL_LABELS for row in rows if row[2].startswith(label) and not row[2].startswith("其中")),
        rows[0] if rows else None,
    )
    if total is None:
        return Funds(region.grid.ref(header_row, min(c for n, c in columns.items() if n != "_row")), {})
    row, label_cell, _ = total
    amounts = {name: region.entry(row, columns[name]) for name in FUNDS_COLUMNS if name in columns}
    max_score = region.entry(row, columns["max_score"]) if "max_score" in columns else MISSING
    if "max_score" not in columns:
        max_score = _header_weight(region, header_row, columns)
    return Funds(
        total_label_ref=region.grid.ref(*label_cell),
        total_label=as_written(region.grid.raw(*label_cell)).rstrip(":： "),
        headers={
            name: as_written(region.grid.raw(header_row, columns[name])) for name in FUNDS_COLUMNS if name in columns
        },
        total=amounts,
        max_score=max_score,
        rate=region.entry(row, columns["rate"], parse_rate) if "rate" in columns else MISSING,
        score=region.entry(row, columns["score"]) if "score" in columns else MISSING,
        groups=_groups(region, row, columns, stop_row),
    )


def grid_column(key: str) -> str | None:
    """What an indicator-grid header cell holds, whatever the family calls it (None: not a grid column).

    The weight is 分值, 权重, 指标权重, 参考分值 or 指标分值 (never 权重占比, J's share); the target 年度指标值,
    指标值, 年初目标值（A）, 年初指标值, 调整指标值 or 预期指标值; the actual 实际完成值, 完成值, 全年实际值,
    全年完成值 or 单项指标实际完成值.
    """
    table = (
        ("level1", ("一级指标",)),
        ("level2", ("二级指标",)),
        ("level3", ("三级指标", "指标名称")),
        ("nature", ("指标性质", "符号")),
        ("unit", ("度量单位", "计量单位", "单位(文字描述)", "单位")),
        ("adjusted_target", ("调整指标值",)),
        ("target", ("年度指标值", "指标值", "年初目标值", "年初指标值", "预期指标值", "值")),
        ("actual", ("实际完成", "完成值", "全年实际值", "全年完成值", "单项指标实际完成值", "实际值")),
        ("coefficient", ("得分系数",)),
        ("share", ("权重占比",)),
        ("converted", ("单项指标折算得分", "折算得分")),
        ("status", ("单项指标完成情况", "完成情况")),
        ("max_score", ("分值", "权重", "指标权重", "参考分值", "指标分值")),
        ("score", ("得分", "自评得分", "指标得分", "单项指标得分")),
        ("core", ("是否核心指标",)),
    )
    for name, labels in table:
        if key.startswith(labels):
            return name
    if "原因" in key or "偏差" in key or "改进措施" in key:
        return "reason"
    return None


def _header_rows(region: Region, row: int) -> tuple[int, ...]:
    """The grid's header row, plus a second header row under it (指标性质 | 指标值 | 度量单位, 符号 | 值 | 单位,
    单项指标得分 | 权重占比 | 折算得分): a row of labels, not of values."""
    below = [key for _, key in region.row_cells(row + 1)]
    labels = [key for key in below if grid_column(key) is not None and not parse_number(key).ok]
    if below and len(labels) >= 2 and len(labels) >= len(below) - 1:
        return row, row + 1
    return (row,)


def _grid_columns(region: Region, rows: tuple[int, ...]) -> dict[str, int]:
    """Columns of the indicator grid from its header row(s); a sub-header wins over the header spanning it."""
    columns: dict[str, int] = {}
    score_cols: list[int] = []
    for r in rows:
        for col, key in region.row_cells(r):
            name = grid_column(key)
            if name is None:
                continue
            if name == "score":
                if col not in score_cols:
                    score_cols.append(col)
                continue
            if name == "target" and r != rows[0]:
                columns["target"] = col  # "指标值" under a spanning "年度指标值"
            elif name not in columns:
                columns[name] = col
    if "adjusted_target" in columns and "target" not in columns:
        columns["target"] = columns.pop("adjusted_target")
    if score_cols:
        if "max_score" not in columns and len(score_cols) >= 2:
            # Weights headed 得分 instead of 分值 (old Hunan, docs/domain.md §8): the first is the weight.
            columns["max_score"] = score_cols[0]
            columns["score"] = score_cols[1]
        else:
            # Under a two-row header the sub-header's 得分 (单项指标得分) is the row's score.
            under = [c for c in score_cols if c != columns.get("max_score")]
            columns["score"] = under[-1] if len(rows) > 1 and under else (under or score_cols)[0]
    return columns


def _target(region: Region, row: int, columns: dict[str, int]) -> tuple[Entry, str]:
    entry = region.entry(row, columns["target"]) if "target" in columns else MISSING
    adjusted = region.entry(row, columns["adjusted_target"]) if "adjusted_target" in columns else MISSING
    if adjusted.text:
        entry = adjusted  # Chongqing: the adjusted target replaces the initial one when given
    unit = region.grid.text(row, columns["unit"]) if "unit" in columns else ""
    if unit in NOT_APPLICABLE or region.grid.text(row, columns.get("nature", 0)).startswith("定性"):
        unit = ""  # "/" in the unit column of a qualitative indicator is no unit
    if "nature" not in columns:
        return entry, f"{entry.text}{unit}" if entry.text and unit and unit not in entry.text else entry.text
    nature = region.grid.text(row, columns["nature"])
    if nature.startswith(("定性", "定量")) or not entry.text:
        nature = ""
    if not entry.text:
        return entry, entry.text
    return entry, f"{nature}{entry.text}{unit if unit not in entry.text else ''}"


def _own(region: Region, row: int, columns: dict[str, int], name: str, **kwargs: object) -> Entry:
    """The cell of this row in a column; a cell merged down from a row above belongs to that row (MISSING here)."""
    if name not in columns:
        return MISSING
    col = columns[name]
    if region.grid.anchor(row, col)[0] != row:
        return MISSING
    return region.entry(row, col, **kwargs)  # type: ignore[arg-type]


def _indicators(
    region: Region, header_rows: tuple[int, ...], columns: dict[str, int], total_row: int
) -> tuple[
    tuple[Indicator, ...],
    tuple[Category, ...],
    tuple[tuple[Entry, ...], tuple[Entry, ...]],
    tuple[tuple[tuple[CellRef, tuple[Indicator, ...]], ...], tuple[tuple[Entry, tuple[Entry, ...]], ...]],
]:
    indicators: list[Indicator] = []
    categories: dict[CellRef, Category] = {}
    placeholders: list[Entry] = []
    scored: list[Entry] = []
    breakdowns: dict[int, list[Indicator]] = {}
    header_end = max(region.grid.merge_end(r, c)[0] for r in header_rows for c in columns.values())
    level1, level1_ref, level2 = "", None, ""
    raw_level1 = ""
    for row in range(header_end + 1, total_row):
        first = region.first_text(row)
        if label_key(first).startswith(_GRID_END):
            break
        if row <= header_end:
            continue  # the rest of a repeated header
        if _SECTION.match(first) and len(region.row_cells(row)) == 1:
            continue  # a section heading ("二、整体绩效目标实现情况（60分）")
        if _is_grid_header(region, row):
            # A section with its own header row (G's "三、…" section): read its rows by its own columns.
            again = _header_rows(region, row)
            columns = _grid_columns(region, again)
            header_end = max(region.grid.merge_end(r, c)[0] for r in again for c in columns.values())
            level1, level1_ref, level2, raw_level1 = "", None, "", ""
            continue
        if "level1" in columns and region.grid.text(row, columns["level1"]):
            raw1 = region.grid.text(row, columns["level1"])
            if normalize(raw1) != raw_level1 or level1_ref is None:
                # A 一级 label repeated on every row (not merged) is still one 一级指标.
                level1, weight = parse_weight(raw1)
                level1_ref = region.grid.ref(row, columns["level1"])
                raw_level1 = normalize(raw1)
                if level1_ref not in categories:
                    categories[level1_ref] = Category(level1, level1_ref, weight)
        if "level2" in columns and region.grid.text(row, columns["level2"]):
            level2 = parse_weight(region.grid.text(row, columns["level2"]))[0]
        level3 = region.entry(row, columns["level3"]) if "level3" in columns else MISSING
        if level3.text.startswith(("★", "☆")):
            level3 = Entry(level3.ref, level3.text.lstrip("★☆"), level3.number)  # a core-indicator marker
        target, target_text = _target(region, row, columns)
        actual = region.entry(row, columns["actual"]) if "actual" in columns else MISSING
        max_score = _own(region, row, columns, "max_score")
        score = _own(region, row, columns, "score")
        item_score = MISSING
        if "converted" in columns:
            # J: the 折算得分 is the row's score on its 指标分值; the 单项指标得分 is kept beside it.
            item_score, score = score, _own(region, row, columns, "converted")
        reason = region.entry(row, columns["reason"]) if "reason" in columns else MISSING
        if level3.ref and region.grid.anchor(row, columns["level3"])[0] != row:
            continue  # a merged 三级 cell spanning rows: read once, at its first row
        values = (target.text, actual.text, max_score.text, score.text)
        if not level3.text and not any(values):
            continue
        if level3.text.startswith("其中") and _repeats(indicators[-1] if indicators else None, max_score, score):
            # A breakdown of the indicator above ("其中桃树种植面积"), not an indicator: no weight of its own,
            # or its parent's 分值/得分 repeated (never counted twice).
            row_of = Indicator(
                level1, level1_ref, level2, level3, target, parse_target(target_text), actual, MISSING, MISSING,
                MISSING,
            )  # fmt: skip
            if indicators:
                breakdowns.setdefault(len(indicators) - 1, []).append(row_of)
            continue
        if _PLACEHOLDER.match(level3.text or "") or (not level3.text and set("".join(values)) <= set("…. ")):
            if not any((actual.text, max_score.text, score.text)):
                placeholders.append(level3 if level3.text else target)
                continue
            if level3.text and not target.text and not actual.text:
                scored.append(level3)  # "指标1" scored 30/30 with no value: nothing the score can rest on
        indicators.append(
            Indicator(
                level1,
                level1_ref,
                level2,
                level3,
                target,
                parse_target(target_text),
                actual,
                max_score,
                score,
                reason,
                coefficient=_own(region, row, columns, "coefficient", parse=parse_rate),
                item_score=item_score,
                share=_own(region, row, columns, "share", parse=parse_rate),
                status=_own(region, row, columns, "status"),
            )
        )
    if "max_score" in columns and "score" in columns:
        indicators = _scored_together(region, columns, indicators)
    disagree: list[tuple[Entry, tuple[Entry, ...]]] = []
    if "max_score" not in columns:
        indicators, disagree = _parents_or_children(region, columns, indicators, categories)
    parts = tuple(
        (ref, tuple(rows)) for index, rows in breakdowns.items() if (ref := indicators[index].level3.ref) is not None
    )
    return tuple(indicators), tuple(categories.values()), (tuple(placeholders), tuple(scored)), (parts, tuple(disagree))


def _scored_together(region: Region, columns: dict[str, int], indicators: list[Indicator]) -> list[Indicator]:
    """A 得分 merged down over rows that each have their own 分值 scores them together: the first row carries
    the group (its weight the rows' sum), the others neither weight nor score (they are not unscored rows)."""
    out = list(indicators)
    col = columns["score"]
    for index, indicator in enumerate(out):
        ref = indicator.score.ref
        if ref is None or not indicator.score.ok:
            continue
        last = region.grid.merge_end(ref.row, col)[0]
        members = [i for i in range(index + 1, len(out)) if (r := out[i].level3.ref) is not None and r.row <= last]
        weights = [out[i].max_score for i in (index, *members)]
        if not members or not all(w.ok for w in weights) or any(out[i].score.ok for i in members):
            continue
        total = sum(w.value or 0.0 for w in weights)
        group = tuple(out[i] for i in (index, *members))
        number = replace(indicator.max_score.number, value=total)
        out[index] = replace(indicator, max_score=replace(indicator.max_score, number=number), group=group)
        for i in members:
            out[i] = replace(out[i], max_score=MISSING, score=MISSING)
    return out


def _repeats(parent: Indicator | None, max_score: Entry, score: Entry) -> bool:
    """A "其中" row's 分值/得分: blank, or its parent's repeated."""
    if not max_score.text and not score.text:
        return True
    if parent is None:
        return False
    return (max_score.text, score.text) == (parent.max_score.text, parent.score.text) or (
        max_score.ok and score.ok and (max_score.value, score.value) == (parent.max_score.value, parent.score.value)
    )


def _is_grid_header(region: Region, row: int) -> bool:
    """A row of grid labels (三级指标 with two more), not of values: a section's own header row."""
    names = [grid_column(key) for _, key in region.row_cells(row) if not parse_number(key).ok]
    return "level3" in names and sum(1 for n in names if n is not None) >= 3


_WEIGHTED_SECTION = re.compile(r"^[一二三四五六七八九十]+、.*[(（][0-9]+(?:\.[0-9]+)?分[)）]$")


def _sections(region: Region) -> list[tuple[int, Category]]:
    """Numbered headings alone on their row that declare a weight ("二、整体绩效目标实现情况（60分）")."""
    found: list[tuple[int, Category]] = []
    for row, col, text in region.cells():
        key = normalize(text)
        if _WEIGHTED_SECTION.match(key) and len(region.row_cells(row)) == 1:
            name, weight = parse_weight(key)
            found.append((row, Category(name, region.grid.ref(row, col), weight)))
    return found


def _under(sections: list[tuple[int, Category]], ref: CellRef | None) -> CellRef | None:
    """The section heading the cell stands under: the last one above it."""
    if ref is None:
        return None
    above = [section.ref for row, section in sections if row < ref.row]
    return above[-1] if above else None


_PARENT = re.compile(r"^[一二三四五六七八九十]+[、.．]")
_CHILD = re.compile(r"^[(（]?[0-9]+[)）、.．](?![0-9])")


def _parents_or_children(
    region: Region, columns: dict[str, int], indicators: list[Indicator], categories: dict[CellRef, Category]
) -> tuple[list[Indicator], list[tuple[Entry, tuple[Entry, ...]]]]:
    """Without a weight column (D), parent rows "一、…" and their child rows "1、…" may both carry 得分.

    One level is counted, never both: the parent's (the group's score), unless counting it takes its 一级
    above the weight the 一级 declares ("产出指标（40分）") and counting the children does not. The rows stay,
    so that the children's targets are still checked. Where the children's scores do not add up to the
    parent's, the pair is returned to be reported (S08 at the parent's score).
    """
    if "level3" not in columns:
        return indicators, []
    out = list(indicators)
    disagree: list[tuple[Entry, tuple[Entry, ...]]] = []
    groups: list[tuple[int, list[int]]] = []
    parent: int | None = None
    children: list[int] = []

    def settle() -> None:
        scored = [i for i in children if out[i].score.ok]
        if parent is not None and scored and out[parent].score.ok:
            groups.append((parent, scored))

    for index, indicator in enumerate(out):
        ref = indicator.level3.ref
        raw = region.grid.text(ref.row, ref.col) if ref is not None else ""
        if _PARENT.match(raw):
            settle()
            parent, children = index, []
        elif _CHILD.match(raw) and parent is not None:
            children.append(index)
        else:
            settle()
            parent, children = None, []
    settle()

    def level1_sum(skip: set[int], level1_ref: CellRef | None) -> float:
        return sum(
            i.score.value or 0.0
            for n, i in enumerate(out)
            if n not in skip and i.level1_ref == level1_ref and i.score.ok
        )

    dropped = {i for _, scored in groups for i in scored}
    for parent, scored in groups:
        children_total = sum(out[i].score.value or 0.0 for i in scored)
        parent_score = out[parent].score
        if abs(children_total - (parent_score.value or 0.0)) > 0.01:
            disagree.append((parent_score, tuple(out[i].score for i in scored)))
        level1_ref = out[parent].level1_ref
        category = categories.get(level1_ref) if level1_ref is not None else None
        declared = category.declared if category is not None else None
        if declared is not None and level1_sum(dropped, out[parent].level1_ref) > declared + 0.01:
            # Counting the parent overflows its 一级 weight: the children are what is scored.
            without_parent = (dropped - set(scored)) | {parent}
            if level1_sum(without_parent, out[parent].level1_ref) <= declared + 0.01:
                dropped = without_parent
                out[parent] = replace(out[parent], score=MISSING)
        for i in scored:
            if i in dropped:
                out[i] = replace(out[i], score=MISSING)
        # The parent stands for its group; its values are its children's.
        out[parent] = replace(out[parent], target=MISSING, parsed_target=parse_target(""), actual=MISSING)
    return out, disagree


_GRADE_LABELS = ("自评等级", "评价等级", "绩效等级", "自评结果", "等级", "评价结果")
_GRADE_WORDS = frozenset({"优", "良", "中", "差", "优秀", "良好", "中等", "较差"})


def _grade(region: Region) -> Entry:
    """The stated grade: a short 自评等级/评价等级 label with 优/良/中/差 after it; notes never count."""
    for row, col in region.find_all(lambda k: k.startswith(_GRADE_LABELS) and len(k) <= 12):
        entry = inline_or_right(region, row, col)
        if label_key(entry.text).rstrip("。.") in _GRADE_WORDS:
            return entry
    return MISSING


def _unit(region: Region, kind: FormKind) -> Entry | None:
    # 项目单位（盖章） heads the 20-point project form (Hubei), after the national form's two labels.
    labels = ("实施单位", "主管部门", "项目单位") if kind is FormKind.PROJECT_SELF_EVAL else ()
    for label in labels:
        cell = region.find(label.__eq__) or region.find(lambda k, lab=label: k.startswith(lab))  # type: ignore[misc]
        if cell is not None:
            entry = inline_or_right(region, *cell)
            if entry.text:
                return entry
    cell = region.find(lambda k: k.endswith("名称") and ("单位" in k or "部门" in k))
    if cell is None:
        cell = region.find(lambda k: k.startswith(("填报单位", "单位名称", "部门名称")))
    return inline_or_right(region, *cell) if cell else None


def read_self_eval(region: Region) -> SelfEval:
    year_refs: list[tuple[int, CellRef]] = []
    for row, col, text in region.cells():
        # The title names its year without 年度 too ("2021年部门整体绩效评价指标体系评分表").
        if (
            ("年度" in text or row == region.title_row)
            and len(text) <= 60
            and (row == region.title_row or "自评表" in text or text.startswith(("(", "（")))
        ):
            year = find_year(text)
            if year:
                year_refs.append((year, region.grid.ref(row, col)))
        if row > (region.title_row or 0) + 3:
            break
    header = region.find(lambda k: k.startswith("三级指标")) or region.find(lambda k: k == "指标名称")
    total = region.find(lambda k: k == "总分" or k.startswith("总分(") or k == "合计分值")
    if total is None and header is not None:
        # Sichuan's 合计 row (权重 100 and the total 得分) is the 总分.
        total = region.find(lambda k: k == "合计" or k.startswith("合计("), start=header[0])
    # Chongqing's 自评总分（分） in the header; a 衔接资金 variant's 项目总得分 in its title line.
    own_total = region.find(lambda k: k.startswith(("自评总分", "项目总得分")))
    if total is None and own_total is not None:
        total = own_total  # Chongqing: 自评总分（分） in the header, the score beside it
    total_row = total[0] if total and total != own_total else region.last + 1
    header_rows = _header_rows(region, header[0]) if header else ()
    columns = _grid_columns(region, header_rows) if header else {}
    stop_row = header[0] if header else total_row
    # The goals block ends the funds block when it follows it (Sichuan puts its goals above the funds).
    funds_header = _funds_header(region, stop_row)
    goal = region.find(
        # Hubei's 20-point form may head its grid "年度绩效目标（80分）" on a row of its own.
        lambda k: k.startswith(("年度总体目标", "总体目标", "年度目标", "年度绩效目标")),
        start=funds_header[0] + 1 if funds_header else None,
    )
    if goal is not None:
        stop_row = min(stop_row, goal[0])
    funds = _funds(region, stop_row)
    # The form's own 得分系数 table (Chongqing) stands below the grid: the grid ends where it starts.
    bands, bands_ref, bands_row = (
        read_bands(region, header[0]) if header and "coefficient" in columns else ((), None, None)
    )
    grid_end = min(total_row, bands_row) if bands_row is not None else total_row
    indicators, categories, (placeholders, scored_placeholders), (breakdowns, parent_scores) = (
        _indicators(region, header_rows, columns, grid_end) if header else ((), (), ((), ()), ((), ()))
    )
    total_max = total_score = MISSING
    if total is not None and total == own_total:
        total_score = inline_or_right(region, *total)
        total_score = Entry(total_score.ref, total_score.text, parse_number(total_score.text))
    elif total is not None:
        row = total[0]
        # J: the total row's score stands under 单项指标折算得分, not under 单项指标得分 or 权重占比.
        score_col = columns.get("converted", columns.get("score"))
        if "max_score" in columns and score_col is not None:
            total_max = region.entry(row, columns["max_score"])
            total_score = region.entry(row, score_col)
        elif "score" in columns:
            # No weight column (the 20-point form): the 总分 row holds the total score only.
            total_score = region.entry(row, columns["score"])
            if total_score.blank:
                beside = region.right_of(*total)
                total_score = region.entry(*beside) if beside is not None else total_score
        if "max_score" in columns and not (total_max.ok and total_score.ok):
            # The 总分 row is often merged differently: take the numbers to the right of the label.
            numbers: list[Entry] = []
            cell: tuple[int, int] | None = total
            while cell is not None and len(numbers) < 2:
                cell = region.right_of(*cell)
                if cell is not None:
                    numbers.append(region.entry(*cell))
            if len(numbers) == 2:
                total_max, total_score = numbers
    sections = _sections(region)
    if sections:
        indicators = tuple(replace(i, section_ref=_under(sections, i.level3.ref or i.score.ref)) for i in indicators)
    grade = _grade(region)
    unit = _unit(region, region.kind)
    info = FormInfo(
        region.kind,
        region.grid.name,
        unit.text if unit and unit.text else None,
        year_refs[0][0] if year_refs else None,
        region.title,
        family=recognise((text for _, _, text in region.cells()), region.title, region.kind),
    )
    return SelfEval(
        info=info,
        funds=funds,
        categories=categories,
        indicators=indicators,
        total_max=total_max,
        total_score=total_score,
        grade=grade,
        footer=read_footer(region),
        unit_ref=unit.ref if unit else None,
        year_refs=tuple(year_refs),
        placeholders=placeholders,
        scored_placeholders=scored_placeholders,
        sections=tuple(section for _, section in sections),
        funds_section_ref=_under(sections, funds.total_label_ref) if sections else None,
        bands=bands,
        bands_ref=bands_ref,
        breakdowns=breakdowns,
        parent_scores=parent_scores,
        **_reason_label(region, header_rows, columns),
    )


def _reason_label(region: Region, header_rows: tuple[int, ...], columns: dict[str, int]) -> dict[str, str]:
    """The reason column's header, whitespace collapsed, as the form writes it (the nearest header row's)."""
    col = columns.get("reason")
    for row in reversed(header_rows):
        if col is None:
            break
        written = as_written(region.grid.raw(row, col))
        if written:
            return {"reason_label": written}
    return {}
