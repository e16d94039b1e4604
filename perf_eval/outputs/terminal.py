"""Rich terminal summaries in Chinese. User text is passed as `Text`, never as markup."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from perf_eval.model import FileResult, FileStatus, Finding, FormKind, Report, Severity

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
_STATUS_STYLE = {
    FileStatus.CLEAN: "green",
    FileStatus.WARNINGS: "yellow",
    FileStatus.ERRORS: "bold red",
    FileStatus.UNREADABLE: "magenta",
}


def _value(value: float | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}" if abs(value) >= 1e-4 or value == 0 else f"{value:.6f}"
    return str(value)


def _described(finding: Finding) -> Text:
    """The message, then "应为 X，实际 Y" on a line of its own where there is one right value."""
    text = Text(finding.message)
    if finding.expected is not None:
        text.append(f"\n应为 {finding.expected_shown}，实际 {finding.actual_shown or '（空）'}", style="bold")
    return text


def findings_table(findings: Sequence[Finding], *, whole: str = "（工作簿）") -> Table:
    """级别, 规则, 位置, 说明: the 说明 column takes what is left of the width (80 columns still read)."""
    table = Table(box=box.SIMPLE_HEAVY, show_lines=False, expand=False, pad_edge=False)
    table.add_column("级别", no_wrap=True)
    table.add_column("规则", no_wrap=True)
    table.add_column("位置", overflow="fold", max_width=16)
    table.add_column("说明", overflow="fold", ratio=1)
    for finding in findings:
        if finding.place is not None:
            where = finding.place.text  # a statement of the written report: 第12段 / 表1第3行第2列
        else:
            where = f"{finding.sheet}!{finding.cell}" if finding.cell else (finding.sheet or whole)
        table.add_row(
            Text(finding.severity.label_zh, style=_STYLE[finding.severity]),
            Text(finding.rule),
            Text(where),
            _described(finding),
        )
    return table


def _file_header(result: FileResult) -> Text:
    label, style = result.status.label_zh, _STATUS_STYLE[result.status]
    text = Text()
    text.append("文件：", style="bold")
    text.append(result.path)
    text.append("  ")
    text.append(f"[{label}]", style=style)
    if result.forms:
        text.append("\n单位：", style="bold")
        text.append(result.unit or "（未识别）")
        text.append("  年度：", style="bold")
        text.append(str(result.year) if result.year else "（未识别）")
        text.append("\n表单：", style="bold")
        text.append("、".join(f.label_zh for f in result.forms))
    return text


def _form_name(kind: str, sheet: str) -> str:
    return kind if not sheet or sheet == kind else f"{kind}（工作表“{sheet}”）"


def _score_line(result: FileResult) -> Text | None:
    if result.score is None:
        return None
    score = result.score
    text = Text("得分：", style="bold")
    text.append(f"单位自评 {_value(score.reported) or '—'}，复核 {_value(score.recomputed) or '—'}")
    if score.grade:
        text.append(f"，等级 {score.grade}")
    return text


def render_file(console: Console, result: FileResult) -> None:
    console.print(_file_header(result))
    if result.status is FileStatus.UNREADABLE:
        console.print(Text(f"无法读取：{result.error}", style="magenta"))
        console.print()
        return
    console.print(Text(f"错误 {result.errors} 项，警告 {result.warnings} 项，提示 {result.infos} 项", style="bold"))
    for note in result.notes:
        console.print(Text(note, style="dim"))
    if result.deviations:
        is_report = any(f.kind is FormKind.REPORT for f in result.forms)
        ordered = sorted(result.deviations, key=Finding.sort_key)
        console.print(findings_table(ordered, whole="（报告）" if is_report else "（工作簿）"))
        console.print(Text("每条规则的处理办法：perf-eval rules 规则编号（如 perf-eval rules B05）", style="dim"))
    else:
        console.print(Text("未发现问题", style="green"))
    line = _score_line(result)
    if line is not None:
        console.print(line)
    if result.annotated:
        console.print(Text("批注副本：", style="bold") + Text(result.annotated))
    console.print()


def render_report(console: Console, report: Report) -> None:
    for result in report.files:
        render_file(console, result)
    if len(report.files) > 1:
        summary = report.summary()
        console.print(
            Text(
                f"共 {summary['files']} 个文件：{FileStatus.CLEAN.label_zh} {summary['clean']}，"
                f"{FileStatus.WARNINGS.label_zh} {summary['warnings_only']}，"
                f"{FileStatus.ERRORS.label_zh} {summary['with_errors']}，"
                f"{FileStatus.UNREADABLE.label_zh} {summary['unreadable']}；"
                f"错误 {summary['errors']} 项，警告 {summary['warnings']} 项，提示 {summary['infos']} 项",
                style="bold",
            )
        )


def rules_table(rows: Iterable[tuple[str, str, str]]) -> Table:
    """规则, 级别, 说明: the catalogue at 80 columns without an English column."""
    table = Table(box=box.SIMPLE_HEAVY, pad_edge=False)
    table.add_column("规则", no_wrap=True)
    table.add_column("级别", no_wrap=True)
    table.add_column("说明", overflow="fold")
    for rule_id, severity, title in rows:
        table.add_row(Text(rule_id), Text(severity), Text(title))
    return table
