"""Rule cases: every rule's passing and failing cases, written by label, one TOML file per rule.

`perf_eval/rules/cases/<ID>.toml` holds a rule's cases. Each case names
sample files of `sample_workbooks/` (workbooks, and for the N rules a written
report), the cells it changes in a workbook (by sheet and by the label the
readers give the field, e.g. "项目支出 / 2022年决算数"), and the findings that
must result: the cell (or the report's paragraph) and severity of each. A
case that expects no finding of its rule is a passing case.

The same files drive the tests (`tests/rules/test_rule_cases.py` edits a copy of
the workbook and checks it), the examples of `perf-eval rules ID` and the
generated reference `docs/rules.md`. They ship inside the package, so this
module reads only the TOML (stdlib `tomllib`): no workbook, no pandas.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

CASES_DIR = Path(__file__).parent / "cases"

Value = str | int | float

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_CELL = re.compile(r"^[^!]+(![A-Z]{1,3}[0-9]+)?$")
# Where a statement of the written report is: "第8段" or "表1第3行第2列".
_PLACE = re.compile(r"^(第[0-9]+段|表[0-9]+第[0-9]+行第[0-9]+列)$")
_SEVERITIES = ("error", "warning", "info")
_SEVERITY_ZH = {"error": "错误", "warning": "警告", "info": "提示"}
# Profile keys a rule may read (docs/rules.md lists them beside the rule).
PROFILE_KEYS = (
    "tolerance.amount",
    "tolerance.score",
    "tolerance.rate",
    "thresholds.budget_deviation",
    "thresholds.budget_deviation_floor",
    "thresholds.target_exceeded",
    "thresholds.total",
    "weights",
    "grades",
    "rounding",
    "total_labels",
)


class CaseFileError(ValueError):
    """A case file that does not follow the format (raised when it is loaded)."""


@dataclass(frozen=True)
class Expected:
    """A finding a case must produce, and where.

    `cell` is "Sheet!A1", or "Sheet" for a finding about a whole sheet; a finding about the written
    report has its `place` in it ("第8段") instead; neither is set for a finding about a whole file (F01).
    """

    rule: str
    cell: str | None
    severity: str
    place: str | None = None


@dataclass(frozen=True)
class Case:
    rule: str
    name: str
    desc: str
    base: tuple[str, ...]
    # sheet -> field label -> value; "" empties the field, "=..." writes a formula (with no cached value).
    set: dict[str, dict[str, Value]]
    expect: tuple[Expected, ...]
    # Other rules that must stay silent (e.g. no B05 when F03 already reports the total).
    quiet: tuple[str, ...] = ()
    profile: str | None = None

    @property
    def passing(self) -> bool:
        return not any(e.rule == self.rule for e in self.expect)

    @property
    def rules_checked(self) -> frozenset[str]:
        """The rules whose findings the case pins down exactly."""
        return frozenset({self.rule, *(e.rule for e in self.expect), *self.quiet})

    @property
    def id(self) -> str:
        return f"{self.rule}-{'pass' if self.passing else 'fail'}-{self.name}"


@dataclass(frozen=True)
class RuleCases:
    rule: str
    parameters: tuple[str, ...]
    cases: tuple[Case, ...]

    @property
    def failing(self) -> list[Case]:
        return [c for c in self.cases if not c.passing]

    @property
    def passing(self) -> list[Case]:
        return [c for c in self.cases if c.passing]


def _fail(path: Path, message: str) -> CaseFileError:
    return CaseFileError(f"{path.name}: {message}")


def _keys(path: Path, where: str, data: dict[str, Any], allowed: set[str], required: set[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise _fail(path, f"{where}: unknown keys {sorted(unknown)}")
    missing = required - set(data)
    if missing:
        raise _fail(path, f"{where}: missing keys {sorted(missing)}")


def _case(path: Path, rule: str, raw: dict[str, Any]) -> Case:
    _keys(path, "case", raw, {"name", "desc", "base", "set", "expect", "quiet", "profile"}, {"name", "desc", "base"})
    name = str(raw["name"])
    if not _NAME.match(name):
        raise _fail(path, f"case name {name!r} is not snake_case")
    base = raw["base"]
    bases = tuple(base) if isinstance(base, list) else (str(base),)
    edits = raw.get("set", {})
    if not isinstance(edits, dict) or not all(isinstance(v, dict) for v in edits.values()):
        raise _fail(path, f"{name}: set must map a sheet name to {{label = value}}")
    for sheet, fields in edits.items():
        for label, value in fields.items():
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise _fail(path, f"{name}: {sheet} / {label}: a value is a number or a text")
    expected: list[Expected] = []
    for item in raw.get("expect", []):
        _keys(path, f"{name}: expect", item, {"rule", "cell", "place", "severity"}, {"severity"})
        cell, place = item.get("cell"), item.get("place")
        if cell is not None and not _CELL.match(cell):
            raise _fail(path, f"{name}: cell {cell!r} is not Sheet!A1 or Sheet")
        if place is not None and (cell is not None or not _PLACE.match(place)):
            raise _fail(path, f"{name}: place {place!r} is not 第N段 or 表N第N行第N列 (and no cell beside it)")
        if item["severity"] not in _SEVERITIES:
            raise _fail(path, f"{name}: severity {item['severity']!r} is not one of {_SEVERITIES}")
        expected.append(Expected(item.get("rule", rule), cell, item["severity"], place))
    return Case(
        rule=rule,
        name=name,
        desc=str(raw["desc"]),
        base=bases,
        set={sheet: dict(fields) for sheet, fields in edits.items()},
        expect=tuple(expected),
        quiet=tuple(raw.get("quiet", [])),
        profile=str(raw["profile"]) if "profile" in raw else None,
    )


def parse(path: Path) -> RuleCases:
    """Read and validate one case file; raises `CaseFileError` on anything malformed."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise _fail(path, str(exc)) from exc
    _keys(path, "file", data, {"rule", "parameters", "cases"}, {"rule", "parameters", "cases"})
    rule = str(data["rule"])
    if rule != path.stem:
        raise _fail(path, f"rule {rule!r} does not match the file name")
    parameters = tuple(data["parameters"])
    unknown = set(parameters) - set(PROFILE_KEYS)
    if unknown:
        raise _fail(path, f"unknown profile keys {sorted(unknown)}")
    cases = tuple(_case(path, rule, raw) for raw in data["cases"])
    names = [c.name for c in cases]
    if len(names) != len(set(names)):
        raise _fail(path, "case names are not unique")
    return RuleCases(rule, parameters, cases)


@cache
def load(rule_id: str) -> RuleCases | None:
    """The cases of one rule, or None when it has no case file."""
    path = CASES_DIR / f"{rule_id}.toml"
    return parse(path) if path.is_file() else None


def all_case_files() -> list[Path]:
    return sorted(CASES_DIR.glob("*.toml"))


# Rendering, in the users' words -------------------------------------------------------------

# `expected` is not always a right value (a budget, a sum of parts): the neutral 〈对照值〉.
_PLACEHOLDERS = {
    "label": "〈项目〉",
    "expected": "〈对照值〉",
    "actual": "〈填写值〉",
    "diff": "〈差额〉",
    "deviation": "〈偏差率〉",
    "threshold": "〈阈值〉",
    "parts": "〈各项〉",
    "count": "〈个数〉",
    "text": "〈所填内容〉",
    "target": "〈指标值〉",
    "actual_value": "〈实际完成值〉",
    "profile": "〈配置〉",
    "related": "〈对照单元格〉",
    "other": "〈另一表单〉",
    "other_form": "〈另一表单〉",
    "rows": "〈复核得分不同的各行〉",
    "total": "〈资金总额〉",
}


def readable(template: str) -> str:
    """A message template as a clerk can read it: "{label} 应为 {expected}" -> "〈项目〉 应为 〈对照值〉"."""
    return re.sub(r"\{(\w+)\}", lambda m: _PLACEHOLDERS.get(m.group(1), "…"), template)


def shown(value: Value) -> str:
    if isinstance(value, str):
        if value == "":
            return "空"
        if value.startswith("="):
            return f"公式 {value}（未保存计算结果）"
        return f"“{value}”"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _changes(case: Case) -> str:
    base = "、".join(case.base)
    profile = f"，配置 {case.profile}" if case.profile else ""
    edits = [
        f"{sheet}「{label}」改为{'' if isinstance(value, str) and value else ' '}{shown(value)}"
        for sheet, fields in case.set.items()
        for label, value in fields.items()
    ]
    if not edits:
        return f"样表 {base}{profile}，不作改动"
    return f"样表 {base}{profile}：" + "；".join(edits)


def _finding(expected: Expected) -> str:
    if expected.place:
        where = f"于 报告{expected.place}"
    else:
        where = f"于 {expected.cell}" if expected.cell else "，针对整个文件"
    return f"{expected.rule}（{_SEVERITY_ZH[expected.severity]}）{where}"


def _outcome(case: Case) -> str:
    own = [_finding(e) for e in case.expect if e.rule == case.rule]
    others = [_finding(e) for e in case.expect if e.rule != case.rule]
    quiet = [r for r in case.quiet if r != case.rule]
    parts = own or [f"不报 {case.rule}"]
    parts += others
    if quiet:
        parts.append(f"不报 {'、'.join(quiet)}")
    return "；".join(parts)


def case_lines(case: Case) -> list[str]:
    """One case in Chinese: what it is, what was changed, what results."""
    head = "通过" if case.passing else "不通过"
    return [f"{head}：{case.desc}", f"  {_changes(case)}", f"  结果：{_outcome(case)}"]


def example_lines(rule_id: str) -> list[str]:
    """The examples `perf-eval rules ID` shows: the rule's first failing and first passing case."""
    cases = load(rule_id)
    if cases is None:
        return []
    chosen = [c for c in (next(iter(cases.failing), None), next(iter(cases.passing), None)) if c is not None]
    return [line for case in chosen for line in case_lines(case)]
