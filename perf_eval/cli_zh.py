"""The command line in Chinese: help pages and usage errors.

typer renders help and usage errors in English (and with type metavars such as
``<list[Path]>``). These replacements only use what click's parameters and
exceptions expose publicly (``opts``, ``help``, ``required``, ``param``,
``option_name``, ``possibilities``, the exception class names), so they do not
depend on how a typer version lays out its own help.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import sys
from collections.abc import Sequence
from difflib import get_close_matches
from enum import Enum
from types import MethodType
from typing import Any

from typer.core import TyperGroup

HELP_TEXT = "显示本帮助并退出"
_WIDTH_LIMIT = 100


def _width() -> int:
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = shutil.get_terminal_size((80, 24)).columns
    return max(40, min(columns, _WIDTH_LIMIT))


def _metavar(param: Any) -> str:
    """What follows an option: its declared metavar, its choices, or a Chinese type name; "" for a flag."""
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return ""
    metavar = getattr(param, "metavar", None)
    if metavar:
        return str(metavar)
    kind = getattr(param, "type", None)  # click's parameter type (typer < 0.20)
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)  # typer's own (newer)
    choices = getattr(kind, "choices", None)
    if not choices and isinstance(annotation, type) and issubclass(annotation, Enum):
        choices = list(annotation)
    if choices:
        return "|".join(str(getattr(c, "value", c)) for c in choices)
    name = getattr(kind, "name", "") or getattr(annotation, "__name__", "")
    return {"integer": "整数", "int": "整数", "float": "数值", "path": "路径", "Path": "路径"}.get(name, "值")


def _argument_name(param: Any) -> str:
    name = getattr(param, "metavar", None) or (param.name or "").upper()
    return f"{name}..." if param.nargs == -1 else str(name)


def _usage(ctx: Any, command: Any) -> str:
    pieces = [ctx.command_path]
    if any(p.param_type_name == "option" and not getattr(p, "hidden", False) for p in command.get_params(ctx)):
        pieces.append("[选项]")
    for param in command.get_params(ctx):
        if param.param_type_name == "argument":
            name = _argument_name(param)
            pieces.append(name if param.required else f"[{name}]")
    if hasattr(command, "commands"):
        pieces.append("命令 [参数]...")
    return "用法：" + " ".join(pieces)


def _help_of(param: Any, help_option: Any) -> str:
    # click 8.1 builds a new help option on every call: compare by name.
    if help_option is not None and param.name == help_option.name:
        return HELP_TEXT
    text = str(getattr(param, "help", None) or "")
    default = param.default
    shows_default = getattr(param, "show_default", True) is not False
    if shows_default and param.param_type_name == "option" and not getattr(param, "is_flag", False):
        if default not in (None, "", (), []) and not callable(default):
            text += f"（默认：{getattr(default, 'value', default)}）"
    if param.required:
        text += "（必填）"
    return text


def render_help(ctx: Any, command: Any) -> str:
    """The help page of `command` as plain text, wrapped by display width (CJK counts double)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    width = _width()
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, no_color=True, highlight=False, soft_wrap=False)
    console.print(Text(_usage(ctx, command)))
    console.print()
    for paragraph in (command.help or "").strip().split("\n\n"):
        if paragraph.strip():
            console.print(Text(" ".join(line.strip() for line in paragraph.splitlines())))
            console.print()
    help_option = command.get_help_option(ctx)
    params = [p for p in command.get_params(ctx) if not getattr(p, "hidden", False)]
    arguments = [p for p in params if p.param_type_name == "argument"]
    options = [p for p in params if p.param_type_name == "option"]
    sections: list[tuple[str, list[tuple[str, str]]]] = [
        ("参数", [(_argument_name(p), _help_of(p, help_option)) for p in arguments]),
        ("选项", [(_option_names(p), _help_of(p, help_option)) for p in options]),
    ]
    if hasattr(command, "commands"):
        listed = [(name, command.commands[name]) for name in command.list_commands(ctx)]
        sections.append(("命令", [(name, _summary(cmd.help or "")) for name, cmd in listed if not cmd.hidden]))
    for title, rows in sections:
        if not rows:
            continue
        console.print(Text(f"{title}："))
        table = Table(box=None, show_header=False, pad_edge=True, padding=(0, 1, 0, 2))
        table.add_column(no_wrap=True)
        table.add_column(overflow="fold")
        for name, text in rows:
            table.add_row(Text(name), Text(text))
        console.print(table)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()).rstrip("\n")


def _summary(text: str) -> str:
    """A command's first sentence, up to its first "：" (the rest is on the command's own help page)."""
    first = text.strip().split("\n")[0]
    head, colon, _ = first.partition("：")
    return head + ("。" if colon else "")


def _option_names(param: Any) -> str:
    names = sorted(param.opts, key=lambda o: (o.startswith("--"), o))
    text = ", ".join(names)
    if param.secondary_opts:
        text += " / " + ", ".join(param.secondary_opts)
    metavar = _metavar(param)
    return f"{text} {metavar}" if metavar else text


def _format_help(self: Any, ctx: Any, formatter: Any) -> None:
    formatter.write(render_help(ctx, self) + "\n")


class ChineseGroup(TyperGroup):
    """The `perf-eval` group: Chinese help for itself and for every command it runs, and Chinese usage errors."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _format_help(self, ctx, formatter)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Parse and run; a usage error prints in Chinese (`print_usage_error`) and exits with its code.

        In standalone mode typer prints usage errors through `typer.rich_utils`, whose imports (rich's
        Markdown, Syntax and Traceback: markdown-it and pygments) cost a tenth of a second on every
        start. So the parser runs non-standalone (click's documented mode: errors are raised, an exit
        code is returned) and this method does what standalone mode would, in Chinese.
        """
        run = dict(standalone_mode=False, windows_expand_args=windows_expand_args, **extra)
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, **run)
        try:
            outcome = super().main(args, prog_name, complete_var, **run)
        except Exception as exc:
            names = {cls.__name__ for cls in type(exc).__mro__}
            if "ClickException" in names:  # click's, or the copy of click that newer typer versions carry
                print_usage_error(exc)
                sys.exit(exc.exit_code)  # type: ignore[attr-defined]
            if "Abort" in names:
                sys.stderr.write("已中止。\n")
                sys.exit(1)
            raise
        sys.exit(outcome if isinstance(outcome, int) else 0)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            command.format_help = MethodType(_format_help, command)  # type: ignore[method-assign]
        return command


# --- usage errors ------------------------------------------------------------------------

_PARAM_NAMES = {"paths": "要检查的工作簿", "folder": "要扫描的文件夹", "rule_id": "规则编号"}


def _param_label(param: Any) -> str:
    if param is None:
        return "参数"
    if param.param_type_name == "option":
        return " / ".join(sorted(param.opts, key=lambda o: (not o.startswith("--"), o)))
    return _PARAM_NAMES.get(param.name or "", param.name or "参数")


# Searched with `re.search` (compiled on first use and cached by `re`): only a usage error needs them.
_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"No such command '(?P<a>[^']*)'\.?(?: Did you mean (?P<b>.+)\?)?", "没有“{a}”这个命令"),
    (r"Got unexpected extra arguments? \((?P<a>.*)\)", "多余的参数：{a}"),
    (r"Option '?(?P<a>[^' ]+)'? requires an argument\.?", "选项 {a} 后面需要一个值"),
    (r"Option '?(?P<a>[^' ]+)'? requires (?P<b>\d+) arguments\.?", "选项 {a} 后面需要 {b} 个值"),
    (r"Option '?(?P<a>[^' ]+)'? does not take a value\.?", "选项 {a} 不接受值"),
    (r"Missing command\.?", "缺少命令"),
)
_VALUE_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"'(?P<a>.*)' is not one of (?P<b>.+?)\.?$", "“{a}”不是可选的值，可选：{b}"),
    (r"'?(?P<a>.*?)'? is not a valid (?:integer|int)", "“{a}”不是整数"),
    (r"'?(?P<a>.*?)'? is not a valid float", "“{a}”不是数值"),
    (r"'?(?P<a>.*?)'? is not a valid boolean", "“{a}”不是是/否的值"),
    (r"\S+ is not in the range x>=(?P<a>-?[0-9]+(?:\.[0-9]+)?)", "应不小于 {a}"),
    (r"\S+ is not in the range x<=(?P<a>-?[0-9]+(?:\.[0-9]+)?)", "应不大于 {a}"),
    (r"(?P<a>\S+) is not in the range (?P<b>.+?)\.?$", "{a} 不在允许的范围（{b}）内"),
    # typer's own parameter types (pydantic wording)
    (r"greater than or equal to (?P<a>-?[0-9]+(?:\.[0-9]+)?)", "应不小于 {a}"),
    (r"greater than (?P<a>-?[0-9]+(?:\.[0-9]+)?)", "应大于 {a}"),
    (r"less than or equal to (?P<a>-?[0-9]+(?:\.[0-9]+)?)", "应不大于 {a}"),
    (r"valid integer", "应为整数"),
    (r"valid number", "应为数值"),
    (r"valid boolean", "应为是或否"),
)


def _choices(text: str) -> str:
    return "、".join(part.strip().strip("'\"") for part in re.split(r",| or ", text) if part.strip())


def usage_message(exc: Any) -> str:
    """A click/typer usage error in Chinese."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    param = getattr(exc, "param", None)
    if "MissingParameter" in names:
        kind = "选项" if param is not None and param.param_type_name == "option" else "参数"
        return f"缺少{kind}：{_param_label(param)}"
    if "NoSuchOption" in names:
        option = getattr(exc, "option_name", "")
        possible = [p for p in (getattr(exc, "possibilities", None) or []) if p]
        hint = f"（是不是要用 {'、'.join(possible)}？）" if possible else ""
        return f"没有 {option} 这个选项{hint}"
    message = str(getattr(exc, "message", "") or "")
    if "BadParameter" in names:
        detail = message.removeprefix("Value error, ")
        for pattern, template in _VALUE_PATTERNS:
            match = re.search(pattern, detail)
            if match:
                values = match.groupdict()
                if "b" in values and "is not one of" in pattern:
                    values["b"] = _choices(values["b"])
                return f"{_param_label(param)} 的值无效：{template.format(**values)}"
        return f"{_param_label(param)} 的值无效"
    for pattern, template in _PATTERNS:
        match = re.search(pattern, message)
        if match:
            text = template.format(**{k: v or "" for k, v in match.groupdict().items()})
            suggestion = match.groupdict().get("b")
            if "命令" in template and match.groupdict().get("a"):
                if not suggestion:  # older typer versions do not suggest
                    ctx = getattr(exc, "ctx", None)
                    known = list(getattr(getattr(ctx, "command", None), "commands", {}) or {})
                    suggestion = ", ".join(get_close_matches(match.group("a"), known))
                if suggestion:
                    text += f"（是不是要用 {_choices(suggestion)}？）"
            return text
    return "命令行用法有误" + (f"：{message}" if re.search(r"[\u4e00-\u9fff]", message) else "")


def print_usage_error(exc: Any) -> None:
    """In place of typer's English error panel: the usage line, the problem and where to find help, in Chinese."""
    if type(exc).__name__ == "NoArgsIsHelpError":
        # The help page is the message (older typer versions printed it already and leave it empty).
        help_page = exc.format_message()
        if help_page:
            sys.stderr.write(help_page.rstrip("\n") + "\n")
        return
    ctx = getattr(exc, "ctx", None)
    lines = []
    if "UsageError" in {cls.__name__ for cls in type(exc).__mro__}:
        if ctx is not None:
            lines.append(_usage(ctx, ctx.command))
        lines.append(f"错误：{usage_message(exc)}")
        path = ctx.command_path if ctx is not None else "perf-eval"
        lines.append(f"运行“{path} --help”查看用法。")
    else:
        lines.append(f"错误：{exc.format_message()}")
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.flush()
