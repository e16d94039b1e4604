"""The `perf-eval` command. Only this module exits; heavy imports wait until a workbook is checked."""

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from perf_eval._version import __version__
from perf_eval.cli_zh import ChineseGroup

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import TaskID

    from perf_eval.scan.run import ScanOutcome

# Help pages and usage errors in Chinese (perf_eval/cli_zh.py).
app = typer.Typer(
    cls=ChineseGroup,
    name="perf-eval",
    help="预算绩效自评表（基础数据表、部门整体/项目支出绩效自评表）校验、复核评分与批注工具。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


PROFILE_HELP = "评分配置：名称（perf-eval profiles 列出可用的）或 .toml 文件的路径；默认按表单类型自动选择"
PROFILES_DIR_HELP = "存放自定义配置（*.toml）的文件夹，可多次给出；也可用环境变量 PERF_EVAL_PROFILES 指定"
# `--profile` and `--profiles-dir`, the same on `check` and `scan`.
ProfileOption = Annotated[
    str | None, typer.Option("--profile", "-p", help=PROFILE_HELP, metavar="配置名或文件", show_default=False)
]
ProfilesDirOption = Annotated[
    list[Path] | None, typer.Option("--profiles-dir", help=PROFILES_DIR_HELP, metavar="文件夹", show_default=False)
]


class OutputFormat(StrEnum):
    rich = "rich"
    json = "json"


class CopiesChoice(StrEnum):
    findings = "findings"
    all = "all"


def _console(*, stderr: bool = False) -> "Console":
    # Rich drops colour and cursor codes itself when the stream is not a terminal, and honours NO_COLOR.
    # Imported here: `--format json` prints no table.
    from rich.console import Console

    # No :emoji: codes either: our own strings have none, and looking for them loads rich's emoji table.
    console = Console(stderr=stderr, highlight=False, soft_wrap=False, emoji=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        # A log file or a pipe has no width: don't fold every message into an 80-column table.
        console.width = 160
    return console


def _error(message: str) -> None:
    """One plain line per problem on stderr: never wrapped, so a log keeps the file name and reason together."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _fail(message: str) -> typer.Exit:
    _error(message)
    return typer.Exit(EXIT_USAGE)


def _version(value: bool) -> None:
    if value:
        print(f"perf-eval {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="显示版本号")] = False,
) -> None:
    """预算绩效自评表校验工具。"""


def _input_problem(path: Path) -> str | None:
    if not path.exists() and not path.is_symlink():
        return f"{path}：文件不存在"
    if path.is_dir():
        return f"{path}：这是文件夹，请使用 perf-eval scan 检查整个文件夹"
    return None


def _profiles_dir_problem(folders: list[Path] | None) -> str | None:
    missing = [str(f) for f in folders or () if not f.is_dir()]
    return f"--profiles-dir 指定的配置文件夹不存在：{'、'.join(missing)}" if missing else None


@app.command()
def check(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="要检查的工作簿（.xlsx / .xlsm / .xls）及绩效自评报告（.docx / .doc / .wps），可多个",
            show_default=False,
            metavar="文件",
        ),
    ],
    profile: ProfileOption = None,
    profiles_dir: ProfilesDirOption = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="输出格式：rich（终端表格）或 json")
    ] = OutputFormat.rich,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="批注副本的输出文件夹（默认与原文件同目录）", metavar="文件夹"),
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="有警告也以退出码 1 结束")] = False,
    no_annotate: Annotated[bool, typer.Option("--no-annotate", help="不生成批注副本")] = False,
) -> None:
    """检查工作簿：逐项核对勾稽关系、复核评分，并生成批注副本。

    退出码：0 无错误；1 发现错误（--strict 时警告也算）；2 用法错误或文件无法读取。
    """
    problems = [p for p in (_input_problem(path) for path in paths) if p]
    if problems:
        raise _fail("\n".join(problems))
    from perf_eval.checker import check_files
    from perf_eval.model import Report
    from perf_eval.profiles import ProfileError, configure

    if problem := _profiles_dir_problem(profiles_dir):
        raise _fail(problem)
    configure(profiles_dir)
    try:
        checked = check_files(paths, profile=profile)
    except ProfileError as exc:
        raise _fail(exc.reason) from None
    output_failed = False
    if not no_annotate:
        output_failed = _annotate_all(checked, out)
    report = Report([c.result for c in checked], __version__)
    if output is OutputFormat.json:
        from perf_eval.outputs.json_report import dumps

        sys.stdout.write(dumps(report.to_dict()) + "\n")
    else:
        from perf_eval.outputs.terminal import render_report

        render_report(_console(), report)
    summary = report.summary()
    if summary["unreadable"] or output_failed:
        for result in report.files:
            if result.error:
                _error(f"{result.path}：{result.error}")
        raise typer.Exit(EXIT_USAGE)
    if summary["errors"] or (strict and summary["warnings"]):
        raise typer.Exit(EXIT_FINDINGS)
    raise typer.Exit(EXIT_OK)


def _annotate_all(checked: list, out: Path | None) -> bool:  # type: ignore[type-arg]
    """Write the annotated copies; True when one could not be written."""
    from perf_eval.atomic import OutputError
    from perf_eval.outputs.annotate import annotate

    failed = False
    for item in checked:
        if item.workbook is None:
            continue
        try:
            copy = annotate(
                Path(item.result.path), item.result, out_dir=out, drawings=item.workbook.drawings, reports=item.reports
            )
        except OutputError as exc:
            item.result.notes.append(f"批注副本未能写出：{exc.reason}")
            _error(f"{item.result.path}：批注副本未能写出：{exc.reason}")
            failed = True
            continue
        item.result.annotated = str(copy.path)
        item.result.notes.extend(copy.notes)
    if all(item.report is None for item in checked):
        return failed  # no written report: python-docx is not needed
    from perf_eval.narrative.annotate import annotate_all as annotate_reports

    for report, problem in annotate_reports(checked, out):
        report.result.notes.append(f"批注副本未能写出：{problem.reason}")
        _error(f"{report.result.path}：批注副本未能写出：{problem.reason}")
        failed = True
    return failed


@app.command()
def scan(
    folder: Annotated[
        Path, typer.Argument(help="要扫描的文件夹（含全部子文件夹）", show_default=False, metavar="文件夹")
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="输出文件夹：批注副本、summary.json、summary.xlsx 和缓存；不能位于被扫描的文件夹之内",
            show_default=False,
            metavar="文件夹",
        ),
    ],
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", "-j", min=1, help="并行读取的进程数（默认为 CPU 核数）", show_default=False, metavar="进程数"
        ),
    ] = None,
    profile: ProfileOption = None,
    profiles_dir: ProfilesDirOption = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="输出格式：rich（终端表格）或 json（只输出汇总 JSON）")
    ] = OutputFormat.rich,
    full: Annotated[bool, typer.Option("--full", help="不使用缓存，重新读取和检查全部文件")] = False,
    copies: Annotated[
        CopiesChoice,
        typer.Option("--copies", help="批注副本：findings（默认，只为有问题的文件生成）或 all（为全部文件生成）"),
    ] = CopiesChoice.findings,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            min=1,
            help="单个文件的读取时限（秒，默认 60）；超时的文件记为无法读取",
            show_default=False,
            metavar="秒",
        ),
    ] = None,
) -> None:
    """扫描整个文件夹：只重新检查新增和修改过的文件，生成批注副本和汇总（summary.json、summary.xlsx），从不改动原文件。

    退出码：0 没有文件有错误；1 有文件有错误或无法读取；2 用法错误（文件夹不存在、输出文件夹位于被扫描的文件夹之内、另一个扫描正在使用同一输出文件夹）或汇总无法写出。
    """
    import dataclasses
    import math

    from perf_eval.profiles import configure
    from perf_eval.reading.safety import DEFAULT_LIMITS
    from perf_eval.scan import LockHeld, ScanError, ScanOptions, run_scan

    if problem := _profiles_dir_problem(profiles_dir):
        raise _fail(problem)
    configure(profiles_dir)

    limits = DEFAULT_LIMITS
    if timeout is not None:
        limits = dataclasses.replace(limits, child_wall_seconds=timeout, child_cpu_seconds=math.ceil(timeout))
    options = ScanOptions(
        root=folder,
        out=out,
        jobs=jobs or os.cpu_count() or 1,
        profile=profile,
        full=full,
        limits=limits,
        copies=copies.value,
    )
    errors = _console(stderr=True)
    try:
        if errors.is_terminal:
            with _scan_progress(errors) as update:
                outcome = run_scan(options, progress=update)
        else:
            outcome = run_scan(options)
    except (ScanError, LockHeld) as exc:
        raise _fail(exc.reason) from None
    except KeyboardInterrupt:
        errors.print("扫描已中断；已完成的文件保存在缓存中，下次运行会接着完成。", markup=False)
        raise typer.Exit(130) from None
    except OSError as exc:
        where = f"（{exc.filename}）" if exc.filename else ""
        raise _fail(f"扫描失败：{exc.strerror or exc}{where}") from None
    except Exception as exc:  # a bug: one line for the job's log, not a traceback
        raise _fail(
            f"perf-eval 内部错误，扫描未完成：{type(exc).__name__}: {exc}。请将此信息反馈给维护人员。"
        ) from None
    if output is OutputFormat.json:
        _print_summary_json(outcome)
    else:
        from perf_eval.scan.terminal import render_scan

        _console().print(
            render_scan(outcome.data, summary_json=str(outcome.summary_json), summary_xlsx=str(outcome.summary_xlsx))
        )
    if outcome.problems:
        raise _fail("\n".join(outcome.problems))
    raise typer.Exit(EXIT_FINDINGS if outcome.failed_files else EXIT_OK)


def _print_summary_json(outcome: "ScanOutcome") -> None:
    """The scan's summary.json on stdout: its bytes as written (UTF-8, as stdout is), not encoded a second time."""
    if outcome.json_written:
        try:
            written = open(outcome.summary_json, "rb")  # closed by the with below
        except OSError:  # removed meanwhile: encode it again
            pass
        else:
            import shutil

            with written:
                sys.stdout.flush()
                shutil.copyfileobj(written, sys.stdout.buffer)
                sys.stdout.buffer.flush()
            return
    from perf_eval.outputs.json_report import summary_chunks

    # Piece by piece: the summary of thousands of files need not exist twice in memory as text.
    sys.stdout.writelines(summary_chunks(outcome.data))
    sys.stdout.write("\n")


@contextmanager
def _scan_progress(console: "Console") -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar per phase (指纹, 读取, 批注副本) on `console`, cleared when done."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    labels = {"hash": "检查文件是否改动", "read": "读取工作簿", "annotate": "生成批注副本"}
    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    ) as progress:  # fmt: skip

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(labels.get(phase, phase), total=total)
            progress.update(tasks[phase], completed=done, total=total)

        yield update


@app.command()
def rules(
    rule_id: Annotated[
        str | None, typer.Argument(help="规则编号，如 B05；省略则列出全部规则", metavar="规则编号")
    ] = None,
) -> None:
    """列出校验规则，或说明某一条规则。"""
    raise typer.Exit(show_rules(rule_id))


def show_rules(rule_id: str | None) -> int:
    """Print the catalogue, or one rule with its examples; the exit code."""
    from rich.text import Text

    from perf_eval.outputs.terminal import rules_table
    from perf_eval.rules.catalogue import all_rules, get

    console = _console()
    if rule_id is None:
        console.print(
            rules_table(
                (r.id, r.severity.label_zh + ("（默认不运行）" if not r.default_on else ""), r.title)
                for r in all_rules()
            )
        )
        console.print(Text("级别：错误＝必须改正；警告＝请核实或说明（仍可提交）；提示＝供参考"))
        console.print(_families_text())
        console.print(Text("查看某条规则的示例和处理办法：perf-eval rules 规则编号（如 perf-eval rules B05）"))
        return EXIT_OK
    found = get(rule_id)
    if found is None:
        _error(f"没有编号为 {rule_id} 的规则；运行 perf-eval rules 查看全部规则")
        return EXIT_USAGE
    console.print(Text(f"{found.id}  {found.title}", style="bold"))
    console.print(Text(f"级别：{found.severity.label_zh}"))
    if not found.default_on:
        from perf_eval.profiles import naming

        on = "、".join(naming(found.id)) or "无"
        console.print(Text(f"默认不运行：评分配置的 [severity] 给出它的级别时才运行（开启它的配置：{on}）"))
    console.print(Text(f"提示信息：{_readable(found.template)}"))
    for severity, template in found.variants.values():
        level = (severity or found.severity).label_zh
        console.print(Text(f"  另一情形（{level}）：{_readable(template)}"))
    if found.fix:
        console.print(Text("如何处理：", style="bold") + Text(found.fix))
    from perf_eval.rules.examples import example_lines

    examples = example_lines(found.id)
    if examples:
        console.print(Text("示例（取自本规则的测试用例）：", style="bold"))
        from rich.padding import Padding

        for line in examples:
            # A hanging indent: a long example folded at 80 columns stays under its own heading.
            depth = 2 + len(line) - len(line.lstrip(" "))
            console.print(Padding(Text(line.lstrip(" ")), (0, 0, 0, depth), expand=False))
    return EXIT_OK


def _families_text() -> str:
    """The layout families read, each with the profile that judges it (docs/forms.md describes them)."""
    from perf_eval.model import FormKind
    from perf_eval.profiles import for_family
    from perf_eval.reading.family import FAMILIES, FAMILY_ZH

    lines = ["", "表样版式（按表头文字自动识别，并按其配置复核；--profile 可强制指定配置）："]
    for family in FAMILIES:
        profile = for_family(family, FormKind.PROJECT_SELF_EVAL)
        lines.append(f"  {family:<2} {FAMILY_ZH[family]}：配置 {profile.name}")
    lines.append(
        "  没有分值（权重）栏或没有得分的表，复核得分显示为“—”（规则 S16 说明原因），需要分值的规则不对其运行。"
    )
    lines.append("  分值、得分、执行率或总分无法读取（F03、F04），或找不到总分行时，同样不给复核得分和等级。")
    lines.append("  表头注明“单位：元”或“（元）”的表按元核对，与基础数据表（万元）比较时换算为万元。")
    return "\n".join(lines)


def _readable(template: str) -> str:
    """A message template as a clerk can read it: "{label} 应为 {expected}" -> "〈项目〉 应为 〈对照值〉"."""
    from perf_eval.rules.examples import readable

    return readable(template)


@app.command()
def profiles(
    name: Annotated[
        str | None,
        typer.Argument(help="配置名称或文件路径：输出该配置文件的内容（可重定向为新文件后修改）", metavar="配置名"),
    ] = None,
    profiles_dir: Annotated[
        list[Path] | None, typer.Option("--profiles-dir", help=PROFILES_DIR_HELP, metavar="文件夹")
    ] = None,
) -> None:
    """列出可用的评分配置：名称、标题、来源（内置 / 文件夹）和文件位置；给出名称则输出该配置文件的内容。

    例：perf-eval profiles hunan-2023 > hunan-2024.toml，修改后用 --profile ./hunan-2024.toml。
    退出码：0 全部配置可用；2 有配置文件格式有误（逐个说明文件、键和行号）或配置不存在。
    """
    from rich.table import Table
    from rich.text import Text

    import perf_eval.rules  # noqa: F401  (the rule IDs a profile's [severity] may name)
    from perf_eval.profiles import ProfileError, check_file, configure, describe, located, missing_folders, sources

    if problem := _profiles_dir_problem(profiles_dir):
        raise _fail(problem)
    configure(profiles_dir)
    if name is not None:
        from perf_eval.profiles import locate

        try:
            text = locate(name).path.read_text(encoding="utf-8")
        except ProfileError as exc:
            raise _fail(exc.reason) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise _fail(f"配置文件 {name} 无法读取：{exc}") from None
        sys.stdout.write(_as_copy(text))
        raise typer.Exit(EXIT_OK)
    console = _console()
    table = Table(title="评分配置", title_justify="left", show_lines=True)
    for header in ("名称", "标题", "来源", "默认用于", "类别", "说明", "文件"):
        table.add_column(header, overflow="fold")
    broken = 0
    for each in located():
        try:
            loaded = check_file(each)
        except ProfileError as exc:
            broken += 1
            table.add_row(
                Text(each.name),
                Text("格式有误", style="bold red"),
                Text(each.source_zh),
                "",
                "",
                Text(exc.reason, style="red"),
                Text(str(each.path)),
            )
            continue
        extra = dict(describe(loaded))
        files = str(each.path) + "".join(f"\n（覆盖了 {p}）" for p in each.shadows)
        table.add_row(
            Text(each.name),
            Text(loaded.title),
            Text(each.source_zh),
            Text("、".join(k.label_zh for k in loaded.default_for)),
            Text(extra.get("family", "")),
            Text(extra.get("description", "")),
            Text(files),
        )
    console.print(table)
    console.print(Text("查找顺序：" + " → ".join(f"{s.label_zh} {s.folder}" for s in sources())))
    for source in missing_folders():
        console.print(Text(f"注意：{source.label_zh} {source.folder} 不存在或不是文件夹", style="yellow"))
    console.print(
        Text('使用：--profile 名称，或 --profile 路径/文件.toml；自定义配置可写 extends = "hunan-2023" 只改不同之处。')
    )
    raise typer.Exit(EXIT_USAGE if broken else EXIT_OK)


def _decimal(value: float) -> str:
    """0.00005, not 5e-05: a tolerance as a clerk writes it."""
    return f"{value:.10f}".rstrip("0").rstrip(".") or "0"


# At least this many columns: `perf-eval schemas` shows the checks as a table, else one block per check.
_WIDE = 110


@app.command()
def schemas(
    frame: Annotated[
        str | None,
        typer.Argument(
            help="只显示这个数据框（名称见不带参数时的输出）或这张表（基础数据表、自评表）", metavar="数据框"
        ),
    ] = None,
    profile: ProfileOption = None,
    profiles_dir: ProfilesDirOption = None,
) -> None:
    """显示各表单的校验模式：每个数据框的列，和作为规则的检查及其参数（按配置）。

    默认用部门整体自评的默认配置；--profile 指定某个配置时，显示该配置运行的检查、容差和级别。

    退出码：0 正常；2 配置或数据框不存在。
    """
    from rich.table import Table
    from rich.text import Text

    from perf_eval.model import FormKind
    from perf_eval.profiles import ProfileError, configure, default_for, load
    from perf_eval.rules.frames import FRAMES, describe, judgement_rules

    if problem := _profiles_dir_problem(profiles_dir):
        raise _fail(problem)
    configure(profiles_dir)
    try:
        chosen = load(profile) if profile else default_for(FormKind.DEPT_SELF_EVAL)
    except ProfileError as exc:
        raise _fail(exc.reason) from None
    views = [v for v in describe(chosen) if frame is None or frame in (v.frame.name, v.frame.form)]
    if not views:
        names = "、".join(f"{f.name}（{f.title}）" for f in FRAMES.values())
        raise _fail(f"没有名为“{frame}”的数据框或表单；可用：{names}")
    console = _console()
    console.print(Text(f"配置：{chosen.title}（{chosen.name}）", style="bold"))
    for view in views:
        spec = view.frame
        console.print(Text(f"\n{spec.name}  {spec.title}（{spec.form}）：{spec.doc}", style="bold"))
        columns = Table(show_header=True, box=None, padding=(0, 2))
        for header in ("列", "类型", "含义或读取它的检查"):
            columns.add_column(header)
        for name, dtype, title in view.columns:
            columns.add_row(Text(name), Text(dtype), Text(title))
        console.print(columns)
        if not view.checks:
            console.print(Text("  （本配置不运行这个数据框的检查）"))
        elif console.width >= _WIDE:
            checks = Table(show_header=True, box=None, padding=(0, 2))
            for header in ("pandera 检查", "规则", "比较（容差内）", "容差下限", "每行的容差", "读取的配置项", "级别"):
                checks.add_column(header, overflow="fold")
            for check in view.checks:
                checks.add_row(
                    Text(check.name),
                    Text(check.key),
                    Text(check.relation),
                    Text(_decimal(check.tolerance)),
                    Text(check.within or "容差下限"),
                    Text("、".join(check.reads) or "—"),
                    Text(check.severity),
                )
            console.print(checks)
        else:
            # A narrow terminal: one block per check, a line per parameter, nothing folded mid-word.
            console.print(Text("  检查（pandera）："))
            for check in view.checks:
                console.print(Text(f"  {check.key}（{check.name}，{check.severity}）", style="bold"))
                console.print(Text(f"      比较：{check.relation}（容差内）"))
                console.print(
                    Text(f"      容差下限：{_decimal(check.tolerance)}；每行的容差：{check.within or '容差下限'}")
                )
                console.print(Text(f"      读取的配置项：{'、'.join(check.reads) or '—'}"))
    if frame is None:
        judged = "、".join(r.id for r in judgement_rules(chosen))
        console.print(Text(f"\n其余规则逐项判断，不经数据框：{judged}"))
        if chosen.disabled:
            console.print(Text(f"本配置关闭的规则：{'、'.join(sorted(chosen.disabled))}"))
    raise typer.Exit(EXIT_OK)


def _as_copy(text: str) -> str:
    """A profile's text to copy: its name is the new file's name, and a copy is no default unless it says so."""
    import re

    notes = {
        "name": "# 配置的名称就是文件名（不含 .toml），此行可删除",
        "default_for": "# 取消下一行的注释，本配置才会成为这些表单的默认配置（放在 --profiles-dir 文件夹中时）",
        "family": "# 取消下一行的注释，本配置才会自动用于这一版式的表单（放在 --profiles-dir 文件夹中时）",
    }
    lines = []
    for line in text.splitlines():
        key = re.match(r"^\s*(name|default_for|family)\s*=", line)
        if key:
            lines += [notes[key.group(1)], "# " + line]
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="监听地址；本机以外的地址必须同时设置 --token")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="端口")] = 8750,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, help="同时检查的进程数（默认为 CPU 核数，最多 4）", show_default=False),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token", envvar="PERF_EVAL_TOKEN", help="访问令牌（也可用环境变量 PERF_EVAL_TOKEN）", show_default=False
        ),
    ] = None,
    keep_minutes: Annotated[
        float, typer.Option("--keep-minutes", min=1, help="检查结果保留的分钟数，到期自动删除")
    ] = 60,
    max_mb: Annotated[float, typer.Option("--max-mb", min=0.1, help="一次上传的大小上限（MB）")] = 20,
    upload_timeout: Annotated[
        float, typer.Option("--upload-timeout", min=1, help="上传停顿超过这么多秒即中止（回应 408），释放检查名额")
    ] = 30,
    allow_host: Annotated[
        list[str] | None,
        typer.Option("--allow-host", help="另外允许的主机名（通过域名访问时需要，可多次使用）", show_default=False),
    ] = None,
    profile: Annotated[str | None, typer.Option("--profile", "-p", help=PROFILE_HELP, metavar="配置名或文件")] = None,
) -> None:
    """启动网页服务：经办人在浏览器中上传工作簿、查看问题并下载批注副本；业务系统可调用 HTTP 接口 /api/v1。

    默认只在本机 127.0.0.1 上提供服务；按 Ctrl+C 停止，停止时删除全部上传文件和检查结果。
    """
    from perf_eval.serve.app import ConfigError, ServeConfig, is_loopback, limits_note, port_problem, run, validate

    config = ServeConfig(
        host=host,
        port=port,
        jobs=jobs or min(4, os.cpu_count() or 1),
        token=token or None,
        keep_minutes=keep_minutes,
        max_mb=max_mb,
        upload_timeout=upload_timeout,
        allowed_hosts=tuple(allow_host or ()),
        profile=profile,
    )
    try:
        validate(config)
        if profile:
            from perf_eval.profiles import ProfileError, load

            try:
                load(profile)
            except ProfileError as exc:
                raise ConfigError(exc.reason) from None
    except ConfigError as exc:
        raise _fail(exc.reason) from None
    problem = port_problem(host, port)
    if problem:
        raise _fail(problem)
    shown = f"[{host}]" if ":" in host else host
    where = "仅本机可访问" if is_loopback(host) else "其他电脑可访问，需要访问令牌"
    _error(f"perf-eval 网页服务：http://{shown}:{port}/ （{where}；按 Ctrl+C 停止）")
    note = limits_note(config.limits)
    if note:
        _error(note)
    try:
        run(config)
    except KeyboardInterrupt:
        pass
    raise typer.Exit(EXIT_OK)


def _collect_garbage_less_often() -> None:
    """A short-lived `check` process: let the cycle collector run about 140 times less often.

    Importing pandas, pandera and openpyxl creates some hundred thousand objects, none of them
    garbage; with the default thresholds the collector walks them over and over (about a tenth
    of a cold `check`). Collections still happen (every 100,000 new objects, the older
    generations after 20 and 10 of those): checking two dozen workbooks in one command peaks
    within a few MB of the default. `scan` and `serve` run long and keep the defaults; so does
    a program that calls `app` itself (the tests).
    """
    import gc

    gc.set_threshold(100_000, 20, 10)


def _skip_the_last_collections() -> None:
    """A `check` process about to exit: no full collection over everything it imported.

    Finalizing the interpreter collects every generation (pandas, pandera and openpyxl's
    hundreds of thousands of objects, none of them garbage) before tearing the modules down:
    about a quarter of a second of a cold `check`. Freezing moves them out of the collector's
    sight; exit handlers, stream flushing and module teardown still run as usual.
    """
    import gc

    gc.freeze()


def main() -> None:
    # Windows consoles default to a legacy code page; Chinese must still print.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure") and (stream.encoding or "").lower() not in ("utf-8", "utf8"):
            try:
                stream.reconfigure(encoding="utf-8")
            except (OSError, ValueError):
                pass
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    arguments = sys.argv[1:]
    if arguments[:1] == ["rules"] and len(arguments) <= 2 and not any(a.startswith("-") for a in arguments):
        # typer builds a pydantic adapter for every parameter of the command it runs (~0.1 s of
        # imports); the catalogue must list instantly, so a plain `rules [ID]` skips the parser.
        sys.exit(show_rules(arguments[1] if len(arguments) == 2 else None))
    one_check = arguments[:1] == ["check"]
    if one_check:
        _collect_garbage_less_often()
    from perf_eval.errors import PerfEvalError

    try:
        # One name in usage lines, whether started as perf-eval, perf-eval.exe or python -m perf_eval.
        app(prog_name="perf-eval")
    except PerfEvalError as exc:  # what a command did not catch itself: its Chinese line, no traceback
        _error(exc.reason)
        sys.exit(EXIT_USAGE)
    finally:
        if one_check:
            _skip_the_last_collections()
