"""Reading the 部门整体 / 项目支出绩效自评表 (docs/domain.md §2.2, §2.3): one reader for both."""

from __future__ import annotations

import re

from perf_eval.forms import (
    FUNDS_COLUMNS,
    MISSING,
    SINGLE,
    Category,
    Entry,
    Funds,
    FundsPart,
    Indicator,
    PartGroup,
    SelfEval,
)
from perf_eval.model import CellRef, FormInfo, FormKind
from perf_eval.reading.locate import Region, inline_or_right, read_footer
from perf_eval.values import find_year, label_key, parse_number, parse_rate, parse_target, parse_weight

_FUNDS_HEADERS = {
    "initial_budget": ("年初预算数",),
    "annual_budget": ("全年预算数",),
    "executed": ("全年执行数",),
}
_PLACEHOLDER = re.compile(r"^(指标[0-9一二三四五六七八九十]+|…+|\.{3,}|……)$")
_GROUP_HEADERS = ("按收入性质分", "按支出性质分")


def _funds_header(region: Region) -> tuple[int, dict[str, int]] | None:
    head = region.find(lambda k: k.startswith("年初预算数"))
    if head is None:
        return None
    row, _ = head
    columns: dict[str, int] = {}
    for col, key in region.row_cells(row):
        for name, labels in _FUNDS_HEADERS.items():
            if key.startswith(labels) and name not in columns:
                columns[name] = col
        for name, label in (("max_score", "分值"), ("rate", "执行率"), ("score", "得分")):
            if key.startswith(label) and name not in columns:
                columns[name] = col
    return row, columns


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
    # National template: "其中：当年财政拨款 / 上年结转资金 / 其他资金" rows, one amount per column.
    amount_cols = {name: columns[name] for name in FUNDS_COLUMNS if name in columns}
    if not amount_cols:
        return ()
    first_amount = min(amount_cols.values())
    parts = []
    first_ref: CellRef | None = None
    for r in range(total_row + 1, stop_row):
        label_cell = next(
            (
                (r, c)
                for c in range(first_amount - 1, 0, -1)
                if region.grid.text(r, c) and region.grid.anchor(r, c)[0] == r
            ),
            None,
        )
        if label_cell is None:
            continue
        key = label_key(region.grid.text(*label_cell))
        if key.startswith(("年度总体目标", "年度目标", "总体目标", "绩效指标", "一级指标")):
            break
        amounts = {name: region.entry(r, c) for name, c in amount_cols.items()}
        parts.append(FundsPart(key, amounts))
        first_ref = first_ref or region.grid.ref(*label_cell)
    if not parts or first_ref is None:
        return ()
    return (PartGroup("其中", first_ref, tuple(parts), per_column=True),)


def _funds(region: Region, stop_row: int) -> Funds:
    header = _funds_header(region)
    total_cell = region.find(lambda k: k.startswith("年度资金总额") or k == "资金总额")
    if header is None or total_cell is None:
        return Funds(region.grid.ref(*total_cell) if total_cell else None, {})
    _, columns = header
    row = total_cell[0]
    total = {name: region.entry(row, columns[name]) for name in FUNDS_COLUMNS if name in columns}
    return Funds(
        total_label_ref=region.grid.ref(*total_cell),
        total=total,
        max_score=region.entry(row, columns["max_score"]) if "max_score" in columns else MISSING,
        rate=region.entry(row, columns["rate"], parse_rate) if "rate" in columns else MISSING,
        score=region.entry(row, columns["score"]) if "score" in columns else MISSING,
        groups=_groups(region, row, columns, stop_row),
    )


def _header_rows(region: Region, row: int) -> tuple[int, ...]:
    """The grid's header row, plus the sub-header row of a split 年度指标值 (指标性质 | 指标值 | 度量单位)."""
    below = [key for _, key in region.row_cells(row + 1)]
    if any(key.startswith("指标性质") for key in below):
        return row, row + 1
    return (row,)


def _grid_columns(region: Region, rows: tuple[int, ...]) -> dict[str, int]:
    """Columns of the indicator grid from its header row(s)."""
    columns: dict[str, int] = {}
    score_cols: list[int] = []
    for r in rows:
        for col, key in region.row_cells(r):
            names = {
                "level1": key.startswith("一级指标"),
                "level2": key.startswith("二级指标"),
                "level3": key.startswith("三级指标"),
                "nature": key.startswith("指标性质"),
                "unit": key.startswith(("度量单位", "计量单位")),
                "actual": key.startswith("实际完成"),
                "max_score": key.startswith(("分值", "权重")),
                "reason": "原因" in key or "偏差" in key,
            }
            for name, hit in names.items():
                if hit and name not in columns:
                    columns[name] = col
            if key.startswith("指标值") or (key.startswith("年度指标值") and "target" not in columns):
                # In a split layout the sub-header "指标值" wins over the spanning "年度指标值".
                columns["target"] = col
            if key.startswith(("得分", "自评得分")) and col not in score_cols:
                score_cols.append(col)
    if score_cols:
        if "max_score" not in columns and len(score_cols) >= 2:
            # Weights headed 得分 instead of 分值 (docs/domain.md §8): the first is the weight.
            columns["max_score"] = score_cols[0]
            columns["score"] = score_cols[1]
        else:
            columns["score"] = next((c for c in score_cols if c != columns.get("max_score")), score_cols[0])
    return columns


def _target(region: Region, row: int, columns: dict[str, int]) -> tuple[Entry, str]:
    entry = region.entry(row, columns["target"]) if "target" in columns else MISSING
    if "nature" not in columns:
        return entry, entry.text
    nature = region.grid.text(row, columns["nature"])
    unit = region.grid.text(row, columns["unit"]) if "unit" in columns else ""
    if nature.startswith("定性") or not entry.text:
        return entry, entry.text
    return entry, f"{nature}{entry.text}{unit}"


def _indicators(
    region: Region, header_rows: tuple[int, ...], columns: dict[str, int], total_row: int
) -> tuple[tuple[Indicator, ...], tuple[Category, ...], tuple[Entry, ...]]:
    indicators: list[Indicator] = []
    categories: dict[CellRef, Category] = {}
    placeholders: list[Entry] = []
    header_end = max(region.grid.merge_end(r, c)[0] for r in header_rows for c in columns.values())
    level1, level1_ref, level2 = "", None, ""
    for row in range(header_end + 1, total_row):
        if "level1" in columns and region.grid.text(row, columns["level1"]):
            raw1 = region.grid.text(row, columns["level1"])
            level1, weight = parse_weight(raw1)
            level1_ref = region.grid.ref(row, columns["level1"])
            if level1_ref not in categories:
                categories[level1_ref] = Category(level1, level1_ref, weight)
        if "level2" in columns and region.grid.text(row, columns["level2"]):
            level2 = parse_weight(region.grid.text(row, columns["level2"]))[0]
        level3 = region.entry(row, columns["level3"]) if "level3" in columns else MISSING
        target, target_text = _target(region, row, columns)
        actual = region.entry(row, columns["actual"]) if "actual" in columns else MISSING
        max_score = region.entry(row, columns["max_score"]) if "max_score" in columns else MISSING
        score = region.entry(row, columns["score"]) if "score" in columns else MISSING
        reason = region.entry(row, columns["reason"]) if "reason" in columns else MISSING
        if level3.ref and region.grid.anchor(row, columns["level3"])[0] != row:
            continue  # a merged 三级 cell spanning rows: read once, at its first row
        values = (target.text, actual.text, max_score.text, score.text)
        if not level3.text and not any(values):
            continue
        if _PLACEHOLDER.match(level3.text or "") or (not level3.text and set("".join(values)) <= set("…. ")):
            if not any((actual.text, max_score.text, score.text)):
                placeholders.append(level3 if level3.text else target)
                continue
        indicators.append(
            Indicator(
                level1, level1_ref, level2, level3, target, parse_target(target_text), actual, max_score, score, reason
            )
        )
    return tuple(indicators), tuple(categories.values()), tuple(placeholders)


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
    labels = ("实施单位", "主管部门") if kind is FormKind.PROJECT_SELF_EVAL else ()
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
        if (
            "年度" in text
            and len(text) <= 60
            and (row == region.title_row or "自评表" in text or text.startswith(("(", "（")))
        ):
            year = find_year(text)
            if year:
                year_refs.append((year, region.grid.ref(row, col)))
        if row > (region.title_row or 0) + 3:
            break
    header = region.find(lambda k: k.startswith("三级指标"))
    total = region.find(lambda k: k == "总分" or k.startswith("总分(") or k == "合计分值")
    total_row = total[0] if total else region.last + 1
    header_rows = _header_rows(region, header[0]) if header else ()
    columns = _grid_columns(region, header_rows) if header else {}
    stop_row = header[0] if header else total_row
    goal = region.find(lambda k: k.startswith(("年度总体目标", "总体目标", "年度目标")))
    if goal is not None:
        stop_row = min(stop_row, goal[0])
    funds = _funds(region, stop_row)
    indicators, categories, placeholders = (
        _indicators(region, header_rows, columns, total_row) if header else ((), (), ())
    )
    total_max = total_score = MISSING
    if total is not None:
        row = total[0]
        if "max_score" in columns and "score" in columns:
            total_max = region.entry(row, columns["max_score"])
            total_score = region.entry(row, columns["score"])
        if not (total_max.ok and total_score.ok):
            # The 总分 row is often merged differently: take the numbers to the right of the label.
            numbers: list[Entry] = []
            cell: tuple[int, int] | None = total
            while cell is not None and len(numbers) < 2:
                cell = region.right_of(*cell)
                if cell is not None:
                    numbers.append(region.entry(*cell))
            if len(numbers) == 2:
                total_max, total_score = numbers
    grade = _grade(region)
    unit = _unit(region, region.kind)
    info = FormInfo(
        region.kind,
        region.grid.name,
        unit.text if unit and unit.text else None,
        year_refs[0][0] if year_refs else None,
        region.title,
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
    )
