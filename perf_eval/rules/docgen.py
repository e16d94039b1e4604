"""Generate `docs/rules.md`, the rule reference, from the catalogue and the rule cases.

    python -m perf_eval.rules.docgen            # rewrite docs/rules.md
    python -m perf_eval.rules.docgen --check    # exit 1 when docs/rules.md is not what this would write

Everything in the reference comes from the code: ID, name, severity, title and
message templates from the `@rule` registrations, what the rule checks from
its docstring, the profile keys it reads and its examples from its case file,
and the keys' values from the profiles in `schemas/`.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

from perf_eval import profiles
from perf_eval.atomic import atomic_write_text
from perf_eval.rules.catalogue import Rule, Scope, all_rules
from perf_eval.rules.examples import case_lines, load, readable
from perf_eval.rules.frames import FRAMES, comparisons, quantities, relation

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"

_SCOPES = {
    Scope.BASIC: "基础数据表",
    Scope.SELF_EVAL: "自评表（部门整体、项目）",
    Scope.FORM: "任一表单",
    Scope.PAIR: "同一单位同一年度的基础数据表与自评表",
    Scope.WORKBOOK: "整个工作簿",
    Scope.REPORT: "绩效自评报告（附件1）与同一单位、同一年度的表单",
}
_SEVERITIES = {"error": "错误", "warning": "警告", "info": "提示"}


def _profile_data() -> dict[str, dict[str, Any]]:
    return {
        name: tomllib.loads((profiles.schemas_dir() / f"{name}.toml").read_text(encoding="utf-8"))
        for name in profiles.available()
    }


def _value(data: dict[str, Any], key: str) -> str:
    node: Any = data
    for part in key.split("."):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    if isinstance(node, dict):
        return "、".join(f"{k} {v:g}" if isinstance(v, int | float) else f"{k} {v}" for k, v in node.items()) or "—"
    return f"{node:g}" if isinstance(node, int | float) else str(node)


def _severity(rule: Rule) -> str:
    return f"{_SEVERITIES[rule.severity.value]}（{rule.severity.value}）"


def _optional(rule: Rule) -> str:
    if rule.default_on:
        return ""
    on = "、".join(f"`{name}`" for name in profiles.naming(rule.id)) or "无"
    return f"；默认不运行，配置的 `[severity]` 给出级别时才运行（开启它的配置：{on}）"


def _how(rule: Rule) -> list[str]:
    """How the rule decides: its pandera checks on the frames, or a judgement in Python."""
    if not rule.checks:
        return ["- 方式：逐项判断（不经 pandera 数据框）"]
    out = ["- 方式：pandera 检查"]
    for comparison in rule.checks:
        frame = FRAMES[comparison.frame]
        where = f"数据框 [`{frame.name}`](#frame-{frame.name})（{frame.title}）"
        within = f"；每行的容差：{comparison.within}" if comparison.within else ""
        out.append(f"  - `{comparison.key(rule.id)}`：{where}，{relation(comparison)}{within}")
    return out


def _frames() -> list[str]:
    lines = [
        "## 数据框",
        "",
        "每张表单读成几个整齐的数据框（pandas DataFrame），每行一个待核对的数、它的单元格和容差；",
        "每个数据框由一个 pandera 模式校验，模式的检查就是规则（以规则编号命名，带着它比较的两列）。",
        "`perf-eval schemas [--profile 配置]` 显示某个配置下各数据框的列和检查。",
        "",
    ]
    for name, frame in FRAMES.items():
        checks = "、".join(f"[{c.key(r.id)}](#{r.id.lower()})" for r, c in comparisons(name))
        lines += [
            f'<a id="frame-{name}"></a>',
            "",
            f"### `{name}` {frame.title}（{frame.form}）",
            "",
            f"{frame.doc}。列：{'、'.join(quantities(name))}，以及规则、核对、项目、容差。检查：{checks}。",
            "",
        ]
    return lines


def _section(rule: Rule, data: dict[str, dict[str, Any]]) -> list[str]:
    cases = load(rule.id)
    summary, _, rest = rule.doc.partition("\n")
    lines = [
        f'<a id="{rule.id.lower()}"></a>',
        "",
        f"## {rule.id} {rule.title}",
        "",
        f"- 名称：`{rule.name}`",
        f"- 级别：{_severity(rule)}{_optional(rule)}",
        f"- 适用：{'；'.join(_SCOPES[s] for s in rule.scopes)}",
        f"- 检查：{summary}",
        *_how(rule),
    ]
    if rest.strip():
        lines += ["", *(f"  {line}" if line else "" for line in rest.strip().splitlines())]
    lines += ["", "提示信息：", "", f"- {readable(rule.template)}"]
    for key, (severity, template) in rule.variants.items():
        level = _SEVERITIES[(severity or rule.severity).value]
        lines.append(f"- 另一情形（{level}；情形代码 `{rule.id}.{key}`）：{readable(template)}")
    fix = getattr(rule, "fix", "")
    if fix:
        lines += ["", f"如何处理：{fix}"]
    if cases is None or not cases.parameters:
        lines += ["", "配置参数：不读取。"]
    else:
        lines += ["", "配置参数：", "", "| 参数 | " + " | ".join(data) + " |", "|---|" + "---|" * len(data)]
        for key in cases.parameters:
            lines.append(f"| `{key}` | " + " | ".join(_value(d, key) for d in data.values()) + " |")
    lines += ["", f"用例（`perf_eval/rules/cases/{rule.id}.toml`，测试逐一运行）：", ""]
    for case in cases.cases if cases else ():
        first, *more = case_lines(case)
        lines.append(f"- {first}")
        lines += [f"  - {line.strip()}" for line in more]
    return [*lines, ""]


def render() -> str:
    data = _profile_data()
    rules = all_rules()
    lines = [
        "# 规则参考",
        "",
        "<!-- Generated by `python -m perf_eval.rules.docgen` from perf_eval/rules/ and schemas/; do not edit. -->",
        "",
        "perf-eval 的每条规则：编号、名称、级别、检查什么、读取哪些配置参数，以及它的用例。",
        "用例写在 `perf_eval/rules/cases/<编号>.toml`：以 `sample_workbooks/` 中的样表（N 规则另加一份",
        "绩效自评报告）为底稿，按读表程序给出的栏目名称（如“项目支出 / 2022年决算数”）改动单元格，",
        "并写明应当报告的问题（单元格或报告段落，以及级别）。测试逐一运行这些用例；",
        "`perf-eval rules 编号` 显示其中一个不通过和一个通过的用例。",
        "",
        "级别：错误（error）须修改后再报送；警告（warning）请核实；提示（info）仅供参考。",
        '配置（`schemas/*.toml`）的 `[severity]` 可以改变任一规则的级别，或写 `"off"` 不运行它。',
        "",
        "| 编号 | 级别 | 名称 | 检查 |",
        "|---|---|---|---|",
        *(f"| [{r.id}](#{r.id.lower()}) | {_SEVERITIES[r.severity.value]} | `{r.name}` | {r.title} |" for r in rules),
        "",
        *_frames(),
    ]
    for rule in rules:
        lines += _section(rule, data)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if args == ["--check"]:
        current = DOC.read_text(encoding="utf-8") if DOC.is_file() else ""
        if current != text:
            print(f"{DOC} is stale: run python -m perf_eval.rules.docgen", file=sys.stderr)
            return 1
        return 0
    if args:
        print("usage: python -m perf_eval.rules.docgen [--check]", file=sys.stderr)
        return 2
    atomic_write_text(DOC, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
