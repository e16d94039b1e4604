"""The scan's summary as rich tables, in Chinese, from the summary.json data.

Text from the workbooks (unit names, paths, reasons) is passed as `Text`,
never as markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from perf_eval.model import Severity
from perf_eval.report.summary_view import STATUS_ZH, UNIT_STATUS_ZH

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

    statuses = _table("文件", ("状态", "文件数"), justify_right=("文件数",))
    for key, label in STATUS_ZH.items():
        statuses.add_row(Text(label, style=_STATUS_STYLE[key]), str(scan["statuses"][key]))
    statuses.add_row(Text("已跳过", style="dim"), str(len(scan["skipped"])))
    changes = scan["changes"]
    run = scan["run"]
    changed = _table("与上次扫描相比", ("新增", "修改", "未变", "删除"), justify_right=("新增", "修改", "未变", "删除"))
    changed.add_row(*(str(changes[k]) for k in ("new", "changed", "unchanged", "removed")))
    parts += [statuses, changed]
    parts.append(
        Text(
            f"本次读取 {run['read']} 个文件，复用缓存 {run['reused']} 个；复核 {run['checked']} 个，"
            f"生成批注副本 {run['annotated']} 个；用时 {run['seconds']:.1f} 秒（{run['jobs']} 个进程）",
            style="dim",
        )
    )

    units = [u for u in scan["units"] if u["errors"] or u["warnings"]][:TOP]
    if units:
        table = _table(
            "问题最多的单位", ("单位", "年度", "结论", "错误", "警告", "主要问题"), justify_right=("错误", "警告")
        )
        for unit in units:
            rules = "、".join(f"{r}×{n}" for r, n in sorted(unit["rules"].items(), key=lambda kv: -kv[1])[:5])
            table.add_row(
                Text(unit["unit"] or "（未识别单位）"),
                Text(str(unit["year"] or "")),
                Text(UNIT_STATUS_ZH[unit["status"]], style=_STATUS_STYLE[unit["status"]]),
                str(unit["errors"]),
                str(unit["warnings"]),
                Text(rules),
            )
        parts.append(table)
    clean_units = sum(1 for u in scan["units"] if u["status"] == "clean")
    parts.append(Text(f"单位（按年度）共 {len(scan['units'])} 个，其中通过 {clean_units} 个", style="bold"))

    if scan["rules"]:
        table = _table("触发最多的规则", ("规则", "级别", "说明", "次数", "文件数"), justify_right=("次数", "文件数"))
        for rule in scan["rules"][:TOP]:
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

    if scan["unpaired"]:
        parts.append(
            Text(
                f"未配对的表单 {len(scan['unpaired'])} 个（找不到同一单位、同一年度的基础数据表或整体自评表，"
                "跨表核对 X01/X02 未进行），见 summary.xlsx 的“跳过与未配对”",
                style="yellow",
            )
        )
    parts.append(Text.assemble(("汇总：", "bold"), summary_json, "  ", summary_xlsx))
    return Group(*parts)
