"""The scan's summary as rich tables, in Chinese, from the summary.json data.

Text from the workbooks (unit names, paths, reasons) is passed as `Text`,
never as markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from perf_eval.model import FormKind, Place, Severity
from perf_eval.outputs.summary_view import STATUS_ZH, UNIT_STATUS_ZH

TOP = 10
_STATUS_STYLE = {"clean": "green", "warnings": "yellow", "errors": "bold red", "unreadable": "magenta"}
_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _table(title: str, headers: Iterable[str], *, justify_right: Iterable[str] = ()) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAVY)
    right = set(justify_right)
    for header in headers:
        table.add_column(header, overflow="fold", justify="right" if header in right else "left")
    return table


def render_scan(data: dict[str, Any], *, summary_json: str, summary_xlsx: str) -> RenderableType:
    scan = data["scan"]
    parts: list[RenderableType] = [Text.assemble(("扫描完成：", "bold"), scan["root"])]
    parts += _since_last(scan)

    statuses = _table("文件（含旧版本）", ("状态", "文件数"), justify_right=("文件数",))
    for key, label in STATUS_ZH.items():
        statuses.add_row(Text(label, style=_STATUS_STYLE[key]), str(scan["statuses"][key]))
    statuses.add_row(Text("已跳过", style="dim"), str(len(scan["skipped"])))
    changes = scan["changes"]
    run = scan["run"]
    changed = _table(
        "文件与上次扫描相比", ("新增", "修改", "未变", "删除"), justify_right=("新增", "修改", "未变", "删除")
    )
    changed.add_row(*(str(changes[k]) for k in ("new", "changed", "unchanged", "removed")))
    parts += [statuses, changed]
    work = f"本次读取 {run['read']} 个文件，复用缓存 {run['reused']} 个；复核 {run['checked']} 个，生成批注副本 {run['annotated']} 个"
    if run["read"] or run["checked"] or run["annotated"]:
        work += f"；用时 {run['seconds']:.1f} 秒（{run['jobs']} 个进程）"
    else:
        work += f"；用时 {run['seconds']:.1f} 秒（没有需要重新检查的文件）"
    parts.append(Text(work, style="dim"))

    units = [u for u in scan["units"] if u["status"] != "clean"][:TOP]
    if units:
        parts.append(_Units(units))
    clean_units = sum(1 for u in scan["units"] if u["status"] == "clean")
    parts.append(Text(f"单位（按年度）共 {len(scan['units'])} 个，其中通过 {clean_units} 个", style="bold"))

    old = [(u, o) for u in scan["units"] for o in u.get("old_versions", [])]
    if old:
        parts.append(_OldVersions(old))

    parts += _reports(data)

    if scan["rules"]:
        table = _table("触发最多的规则", ("规则", "级别", "说明", "次数", "文件数"), justify_right=("次数", "文件数"))
        rules = sorted(scan["rules"], key=lambda r: (Severity(r["severity"]).rank, -r["findings"], r["rule"]))
        for rule in rules[:TOP]:
            severity = Severity(rule["severity"])
            table.add_row(
                Text(rule["rule"]),
                Text(severity.label_zh, style=_SEVERITY_STYLE[severity.value]),
                Text(rule["title"]),
                str(rule["findings"]),
                str(rule["files"]),
            )
        parts.append(table)

    unreadable = [f for f in data["files"] if f["status"] == "unreadable"]
    if unreadable:
        table = _table("无法读取的文件", ("文件", "原因"))
        for entry in unreadable[: TOP * 2]:
            table.add_row(Text(entry["path"]), Text(entry["error"] or ""))
        if len(unreadable) > TOP * 2:
            table.add_row(Text(f"……另有 {len(unreadable) - TOP * 2} 个，见 summary.xlsx"), Text(""))
        parts.append(table)

    unpaired_forms = [u for u in scan["unpaired"] if u.get("kind") != FormKind.REPORT.value]
    if unpaired_forms:
        parts.append(
            Text(
                f"未配对的表单 {len(unpaired_forms)} 个（找不到同一单位、同一年度的基础数据表或整体自评表，"
                "跨表核对 X01/X02 未进行），见 summary.xlsx 的“跳过与未配对”",
                style="yellow",
            )
        )
    profiles = sorted({f.get("profile") for entry in data["files"] for f in entry["forms"] if f.get("profile")})
    if profiles:
        parts.append(
            Text("评分配置：" + "、".join(profiles) + "（每个表单所用的配置见 summary.xlsx 的“文件清单”）", style="dim")
        )
    parts.append(Text.assemble(("汇总：", "bold"), summary_json, "  ", summary_xlsx))
    return Group(*parts)


_DECIDED = {"form_date": "填报日期较早", "mtime": "文件修改时间较早"}
_NARROW = 100  # below this many columns, the units table drops its count columns to leave room for the problems


class _Units:
    """The units to deal with: a table whose layout fits the terminal's width.

    Wide: 单位 | 年度 | 结论 | 错误 | 警告 | 已说明 | 问题. Narrow (an 80-column window): 单位（年度）| 结论 |
    问题, errors and warnings each on a line of their own, so that no rule ID is cut in two.
    """

    def __init__(self, units: list[dict[str, Any]]) -> None:
        self.units = units

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        title = "需要处理的单位（错误在前）"
        if options.max_width >= _NARROW:
            table = _table(
                title,
                ("单位", "年度", "结论", "错误", "警告", "已说明", "问题（错误在前，规则×次数）"),
                justify_right=("错误", "警告", "已说明"),
            )
            for unit in self.units:
                table.add_row(
                    Text(unit["unit"] or "（未识别单位）"),
                    Text(str(unit["year"] or "")),
                    Text(UNIT_STATUS_ZH[unit["status"]], style=_STATUS_STYLE[unit["status"]]),
                    str(unit["errors"]),
                    str(unit["warnings"]),
                    str(unit.get("accepted", 0)),
                    _problems(unit),
                )
        else:
            table = _table(title, ("单位（年度）", "结论", "问题（错误在前，规则×次数）"))
            table.columns[0].max_width = 18
            table.columns[1].no_wrap = True
            for unit in self.units:
                name = Text(unit["unit"] or "（未识别单位）")
                if unit["year"]:
                    name.append(f"\n{unit['year']}年", style="dim")
                problems = _problems(unit, separator="\n")
                if unit.get("accepted"):
                    problems.append(f"\n已说明：{unit['accepted']}", style="dim")
                table.add_row(name, Text(UNIT_STATUS_ZH[unit["status"]], style=_STATUS_STYLE[unit["status"]]), problems)
        yield table


def _reports(data: dict[str, Any]) -> list[RenderableType]:
    """The written reports (附件1): each with its findings at their paragraphs, old versions left out."""
    scan = data["scan"]
    old = {o["path"] for u in scan["units"] for o in u.get("old_versions", [])}
    reports = [
        f
        for f in data["files"]
        if f["forms"] and f["forms"][0]["kind"] == FormKind.REPORT.value and f["path"] not in old
    ]
    if not reports:
        return []
    unpaired = {u["path"] for u in scan["unpaired"]}
    with_findings = [f for f in reports if f["status"] in ("errors", "warnings")]
    line = Text(
        f"自评报告 {len(reports)} 份（旧版本不计），其中需修改或有警告 {len(with_findings)} 份，"
        f"未找到对照表单 {len(unpaired & {f['path'] for f in reports})} 份",
        style="bold",
    )
    if not with_findings:
        return [line]
    table = _table("自评报告与表单不一致之处", ("报告", "位置", "规则", "说明"))
    shown = 0
    for entry in with_findings:
        for finding in entry["deviations"]:
            if finding["severity"] == Severity.INFO.value:
                continue
            if shown >= TOP * 2:
                break
            shown += 1
            place = Place(
                0, "", finding.get("paragraph"), finding.get("table"), finding.get("row"), finding.get("column")
            )
            where = place.text if (place.paragraph or place.table) else "（报告）"
            severity = Severity(finding["severity"])
            table.add_row(
                Text(entry["path"]),
                Text(where),
                Text(finding["rule"], style=_SEVERITY_STYLE[severity.value]),
                Text(finding["message"]),
            )
    return [line, table]


class _OldVersions:
    """Old versions with their status and newer version; narrow, without the unit (the paths tell it)."""

    def __init__(self, old: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
        self.old = old

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        wide = options.max_width >= _NARROW
        headers = ("单位", "旧版本", "状态", "新版本", "依据") if wide else ("旧版本", "状态", "新版本（依据）")
        table = _table("旧版本（不计入单位结论）", headers)
        for unit, version in self.old[: TOP * 2]:
            status = Text(STATUS_ZH[version["status"]], style=_STATUS_STYLE[version["status"]])
            decided = _DECIDED.get(version.get("decided_by") or "", "")
            if wide:
                table.add_row(
                    Text(unit["unit"] or "（未识别单位）"),
                    Text(version["path"]),
                    status,
                    Text(version["replaced_by"] or ""),
                    Text(decided),
                )
            else:
                newer = Text(version["replaced_by"] or "")
                newer.append(f"\n（{decided}）" if decided else "", style="dim")
                table.add_row(Text(version["path"]), status, newer)
        if len(self.old) > TOP * 2:
            more = Text(f"……另有 {len(self.old) - TOP * 2} 个，见 summary.xlsx 的“单位汇总”")
            table.add_row(more, *[Text("")] * (len(headers) - 1))
        yield table


def _problems(unit: dict[str, Any], separator: str = "；") -> Text:
    """错误：B05×1（a.xlsx）、S07×1；警告：B08×30、S10×12… — errors first, in red."""
    several = len(unit["files"]) > 1
    text = Text()
    for severity, style in ((Severity.ERROR, "bold red"), (Severity.WARNING, "yellow")):
        items = [p for p in unit.get("problems", []) if p["severity"] == severity.value]
        if not items:
            continue
        if text:
            text.append(separator)
        shown = items[:5] if severity is Severity.WARNING else items
        pieces = []
        for p in shown:
            piece = f"{p['rule']}×{p['count']}"
            if several and severity is Severity.ERROR:
                piece += "（" + "、".join(PurePosixPath(f).name for f in p["files"]) + "）"
            pieces.append(piece)
        text.append(f"{severity.label_zh}：", style=style)
        text.append("、".join(pieces) + ("…" if len(shown) < len(items) else ""))
    return text


def _since_last(scan: dict[str, Any]) -> list[RenderableType]:
    """What changed since the last completed scan: first, because it is the news."""
    since = scan.get("since_last")
    if not since:
        return []
    if since["first_scan"]:
        return [Text("首次扫描：没有上次的结果可比较，以下为全部情况。", style="bold")]
    counts = since["counts"]
    head = Text.assemble(
        ("与上次扫描相比：", "bold"),
        (f"新问题 {counts['new']}", "bold red" if counts["new"] else ""),
        "，",
        (f"说明已失效 {counts['lapsed']}", "bold red" if counts["lapsed"] else ""),
        "，",
        (f"已修改 {counts['fixed']}", "green" if counts["fixed"] else ""),
        f"，仍未修改 {counts['open']}，已说明 {counts['accepted']}",
    )
    if since.get("previous_finished"):
        head.append(f"（上次扫描完成于 {_when(since['previous_finished'])}）", style="dim")
    parts: list[RenderableType] = [head]
    if since["units"]:
        table = _table(
            "有变化的单位",
            ("单位", "年度", "上次", "本次", "新问题", "已修改", "说明已失效", "仍未修改", "已说明"),
            justify_right=("新问题", "已修改", "说明已失效", "仍未修改", "已说明"),
        )
        status = {(u["unit"], u["year"]): u["status"] for u in scan["units"]}
        for unit in since["units"][: TOP * 2]:
            now = status.get((unit["unit"], unit["year"]), "clean")
            table.add_row(
                Text(unit["unit"] or "（未识别单位）"),
                Text(str(unit["year"] or "")),
                Text(STATUS_ZH.get(unit["before"] or "", "—")),
                Text(STATUS_ZH[now], style=_STATUS_STYLE[now]),
                str(unit["new"]),
                str(unit["fixed"]),
                str(unit["lapsed"]),
                str(unit["open"]),
                str(unit["accepted"]),
            )
        parts.append(table)
    if since["new"]:
        table = _table("新问题（错误在前）", ("级别", "规则", "单位", "文件", "单元格", "说明"))
        for finding in since["new"][: TOP * 2]:
            severity = Severity(finding["severity"])
            where = _where(finding)
            label = "说明已失效" if finding["state"] == "lapsed" else severity.label_zh
            table.add_row(
                Text(label, style=_SEVERITY_STYLE[severity.value]),
                Text(finding["rule"]),
                Text(finding.get("unit") or ""),
                Text(finding["path"]),
                Text(where),
                Text(finding.get("message") or ""),
            )
        if len(since["new"]) > TOP * 2:
            table.add_row(
                Text(f"……另有 {len(since['new']) - TOP * 2} 个，见 summary.xlsx 的“本次变化”"), *[Text("")] * 5
            )
        parts.append(table)
    if since["fixed"]:
        table = _table("已修改的问题（上次有、本次没有）", ("级别", "规则", "单位", "文件", "单元格", "说明"))
        for finding in since["fixed"][: TOP * 2]:
            severity = Severity(finding["severity"])
            table.add_row(
                Text(severity.label_zh, style="green"),
                Text(finding["rule"]),
                Text(finding.get("unit") or ""),
                Text(finding.get("path") or ""),
                Text(_where(finding)),
                Text(finding.get("message") or ""),
            )
        if len(since["fixed"]) > TOP * 2:
            table.add_row(
                Text(f"……另有 {len(since['fixed']) - TOP * 2} 个，见 summary.xlsx 的“本次变化”"), *[Text("")] * 5
            )
        parts.append(table)
    return parts


def _when(stamp: str) -> str:
    """A time of summary.json ("2026-12-02T01:30:05+08:00") as a clerk reads it: "2026-12-02 01:30"."""
    return stamp[:16].replace("T", " ")


def _where(finding: dict[str, Any]) -> str:
    if finding.get("cell"):
        return f"{finding['sheet']}!{finding['cell']}" if finding.get("sheet") else str(finding["cell"])
    place = Place(0, "", finding.get("paragraph"), finding.get("table"), finding.get("row"), finding.get("column"))
    return place.text if (place.paragraph or place.table) else "（工作簿）"
