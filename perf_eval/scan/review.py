"""What a reviewer reads after the scan: versions, units, accepted findings, what changed since the last scan.

Versions. The 基础数据表, the 部门整体支出绩效自评表 and the written report
(附件1, its unit taken from the forms it is paired with) exist once per unit
and year: forms of one kind with the same unit and year, in several files, are
versions of one report. The latest judges the unit: by 填报日期 when every
version has one and one date is the latest (a written report has none), else
by the file's modification time (`decided_by` says which). The other files are
old versions (旧版本), listed with their status but not counted. A
项目支出绩效自评表 exists once per project, and the forms do not carry the
project's name: each is its own report, never a version of another.

Findings are known across scans by a key: the report they belong to (unit,
year and form kind for the versioned forms, else the file and the form's
place in it), the rule, the sheet and the cell (for a written report's
findings, which have no cell: the quantity, e.g. 编制数). A new version that still
carries a finding carries the same key: the finding is still open, not new.

Light to import (no openpyxl, no pandas): the scan calls it for every run.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from perf_eval.model import FileResult, FileStatus, Finding, FormKind, Severity
from perf_eval.values import normalize

VERSIONED = (FormKind.BASIC_DATA, FormKind.DEPT_SELF_EVAL, FormKind.REPORT)
_DATE = re.compile(r"(\d{4})\s*[年\-/.．]\s*(\d{1,2})\s*[月\-/.．]\s*(\d{1,2})")


def parse_date(text: str | None) -> str | None:
    """The ISO date written in a 填报日期 cell ("2024年3月15日", "2024-03-15", "2024.3.15"), or None."""
    match = _DATE.search(text or "")
    if not match:
        return None
    try:
        return datetime(int(match.group(1)), int(match.group(2)), int(match.group(3))).date().isoformat()
    except ValueError:
        return None


@dataclass
class Member:
    """One scanned file as the review sees it."""

    path: str
    result: FileResult
    dates: tuple[str | None, ...]  # per form (aligned with `result.forms`): the 填报日期
    mtime_ns: int
    partner_unit: str | None = None

    @property
    def unit(self) -> str | None:
        if self.is_report and self.partner_unit:
            return self.partner_unit  # the forms' spelling: the report joins its unit's row
        return self.result.unit or self.partner_unit

    @property
    def is_report(self) -> bool:
        return bool(self.result.forms) and self.result.forms[0].kind is FormKind.REPORT

    @property
    def year(self) -> int | None:
        return self.result.year


@dataclass
class _Form:
    member: Member
    at: int
    slot: tuple[Any, ...]
    current: bool = True
    replaced_by: str | None = None
    decided_by: str | None = None


@dataclass
class Review:
    """Versions and finding keys of one scan."""

    members: list[Member]
    forms: dict[tuple[str, int], _Form] = field(default_factory=dict)  # (path, form index) → form
    old_versions: dict[str, dict[str, Any]] = field(default_factory=dict)  # path → entry
    decided: dict[tuple[str, int | None], set[str]] = field(default_factory=dict)  # unit key → rules used

    def unit_key(self, member: Member) -> tuple[str, int | None]:
        return (normalize(member.unit) if member.unit else "", member.year)

    def is_old(self, path: str) -> bool:
        return path in self.old_versions

    def form_of(self, member: Member, finding: Finding) -> _Form | None:
        """The form a finding is on (by its sheet), or None for a workbook-level finding."""
        for at, info in enumerate(member.result.forms):
            if finding.sheet is not None and info.sheet == finding.sheet:
                return self.forms.get((member.path, at))
        if member.is_report:
            return self.forms.get((member.path, 0))  # a report is one form: every finding is on it
        return None

    def counts(self, member: Member, finding: Finding) -> bool:
        """Whether the finding is on a form that judges its unit (not on an old version)."""
        if self.is_old(member.path):
            return False
        form = self.form_of(member, finding)
        return form is None or form.current

    def keys(self, member: Member) -> list[str]:
        """A key per finding of the member, aligned with `result.deviations`."""
        seen: Counter[tuple[Any, ...]] = Counter()
        out: list[str] = []
        for finding in member.result.deviations:
            form = self.form_of(member, finding)
            slot = form.slot if form is not None else ("file", member.path)
            base: tuple[Any, ...] = (*slot, finding.rule, finding.sheet, finding.cell)
            if member.is_report:
                base = (*base, finding.label)  # a report's findings have no cell: the quantity tells them apart
            out.append(json.dumps([*base, seen[base]], ensure_ascii=False, default=str))
            seen[base] += 1
        return out


def review(members: Sequence[Member]) -> Review:
    """Decide which forms are the latest version of their report."""
    result = Review(list(members))
    slots: dict[tuple[Any, ...], list[_Form]] = defaultdict(list)
    for member in result.members:
        if member.result.status is FileStatus.UNREADABLE:
            continue
        for at, info in enumerate(member.result.forms):
            slot: tuple[Any, ...] = report_slot(info.kind, member.unit, info.year or member.year) or (
                "file",
                member.path,
                at,
            )
            form = _Form(member, at, slot)
            result.forms[(member.path, at)] = form
            slots[slot].append(form)
    for forms in slots.values():
        files = {f.member.path for f in forms}
        if len(files) < 2:
            continue
        latest, decided_by = _latest(forms)
        for form in forms:
            if form.member.path != latest.member.path:
                form.current = False
                form.replaced_by = latest.member.path
            form.decided_by = decided_by
        result.decided.setdefault(result.unit_key(latest.member), set()).add(decided_by)
    for member in result.members:
        mine = [result.forms[(member.path, at)] for at in range(len(member.result.forms))]
        mine = [f for f in mine if f is not None]
        if mine and not any(f.current for f in mine):
            first = mine[0]
            result.old_versions[member.path] = {
                "path": member.path,
                "status": member.result.status.value,
                "errors": member.result.errors,
                "warnings": member.result.warnings,
                "replaced_by": first.replaced_by,
                "decided_by": first.decided_by,
                "date": _first(member.dates),
                "modified": _iso(member.mtime_ns),
            }
    return result


def _latest(forms: list[_Form]) -> tuple[_Form, str]:
    dates = [f.member.dates[f.at] if f.at < len(f.member.dates) else None for f in forms]
    at, decided_by = latest_of([(d, f.member.mtime_ns, f.member.path) for d, f in zip(dates, forms, strict=True)])
    return forms[at], decided_by


def report_slot(kind: FormKind, unit: str | None, year: int | None) -> tuple[str, str, int, str] | None:
    """The report a form is a version of (None: a form that is its own report, such as a project form)."""
    if kind in VERSIONED and unit and year:
        return ("report", normalize(unit), year, kind.value)
    return None


def latest_of(versions: Sequence[tuple[str | None, int, str]]) -> tuple[int, str]:
    """Which of the versions (填报日期, modification time, path) of one report is the latest, and by which rule.

    By 填报日期 when every version has one and one date is the latest; otherwise by modification time.
    """
    dated = [(date, mtime, path, at) for at, (date, mtime, path) in enumerate(versions) if date]
    if len(dated) == len(versions):
        dated.sort()
        if len(dated) < 2 or dated[-1][0] != dated[-2][0]:
            return dated[-1][3], "form_date"
    return max(range(len(versions)), key=lambda at: (versions[at][1], versions[at][2])), "mtime"


def _first(values: Sequence[str | None]) -> str | None:
    return next((v for v in values if v), None)


def _iso(mtime_ns: int) -> str:
    return datetime.fromtimestamp(mtime_ns / 1e9, tz=UTC).astimezone().isoformat(timespec="seconds")


# --- acceptances -------------------------------------------------------------------------------


def finding_id(key: str) -> str:
    """The short, stable id of a finding key (the 编号 column of summary.xlsx)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


# The place of a written report's finding (its paragraph, or table cell) is not one of its values.
_PLACE = re.compile(r"第\s*\d+\s*段|表\s*\d+\s*第\s*\d+\s*行(?:\s*第\s*\d+\s*列)?")
_FIGURE = re.compile(r"\d+(?:\.\d+)?")


def figures_of(message: str | None) -> list[str]:
    """The numbers a finding's message quotes, in order: what it compared (a target, a budget), not only 应为/实际.

    Many findings show no 应为 (S13's target, B09's budget are in the message only): an acceptance holds
    while these stay as they were too.
    """
    return _FIGURE.findall(_PLACE.sub("", message or ""))


def value_of(value: Any) -> Any:
    """A finding's 应为/实际 as compared across scans: numbers at 6 decimals."""
    if isinstance(value, float) and math.isfinite(value):
        rounded = round(value, 6)
        return int(rounded) if rounded.is_integer() else rounded
    return value


@dataclass
class Acceptance:
    """A reviewer's 说明 of one finding: it holds while the finding's values stay as they were."""

    id: str
    key: str
    reason: str
    accepted_on: str
    expected: Any
    actual: Any
    rule: str = ""
    path: str = ""
    sheet: str | None = None
    cell: str | None = None
    unit: str | None = None
    year: int | None = None
    state: str = "active"  # active | lapsed | unused
    lapsed_on: str | None = None
    now_expected: Any = None
    now_actual: Any = None
    # The finding's message when accepted and the numbers it quotes (None: recorded by an older perf-eval,
    # filled in at the first scan that finds it unchanged).
    message: str = ""
    figures: list[str] | None = None
    now_message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Acceptance:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)

    def matches(self, finding: Finding) -> bool:
        same_expected: bool = value_of(finding.expected) == value_of(self.expected)
        same_actual: bool = value_of(finding.actual) == value_of(self.actual)
        same_figures = self.figures is None or figures_of(finding.message) == list(self.figures)
        return same_expected and same_actual and same_figures


# --- the outcome per finding and per unit ------------------------------------------------------


@dataclass
class Outcome:
    """Per file: a state per finding (aligned with `deviations`); per unit and overall: the counts."""

    states: dict[str, list[dict[str, Any]]]
    units: list[dict[str, Any]]
    since_last: dict[str, Any]
    latest_change: dict[str, Any]  # `since_last` of the latest scan that found a change (what summary.xlsx shows)
    acceptances: list[Acceptance]
    last: dict[str, Any]  # what the next scan compares with


def evaluate(
    rv: Review,
    *,
    acceptances: Sequence[Acceptance],
    previous: dict[str, Any] | None,
    today: str,
    now: str,
) -> Outcome:
    """Findings' states (new, open, accepted, lapsed, old version), units, and the changes since `previous`."""
    by_key: dict[str, Acceptance] = {}
    for each in acceptances:
        known = by_key.get(each.key)
        if known is None or (known.state == "lapsed" and each.state != "lapsed"):
            by_key[each.key] = each
    previous_findings: dict[str, dict[str, Any]] = (previous or {}).get("findings", {})
    previous_units: dict[str, str] = (previous or {}).get("units", {})
    states: dict[str, list[dict[str, Any]]] = {}
    current: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    per_unit: dict[tuple[str, int | None], list[tuple[Member, Finding, str, str]]] = defaultdict(list)
    for member in rv.members:
        if member.result.status is FileStatus.UNREADABLE:
            continue
        keys = rv.keys(member)
        row: list[dict[str, Any]] = []
        for finding, key in zip(member.result.deviations, keys, strict=True):
            entry: dict[str, Any] = {"id": finding_id(key)}
            if not rv.counts(member, finding):
                entry["state"] = "old_version"
                row.append(entry)
                continue
            acceptance = by_key.get(key)
            if acceptance is not None and acceptance.state != "lapsed" and acceptance.matches(finding):
                state = "accepted"
                acceptance.state = "active"
                if acceptance.figures is None:
                    acceptance.message, acceptance.figures = finding.message, figures_of(finding.message)
                entry["reason"] = acceptance.reason
                used.add(key)
            elif acceptance is not None and acceptance.state != "lapsed":
                state = "lapsed"
                acceptance.state, acceptance.lapsed_on = "lapsed", today
                acceptance.now_expected, acceptance.now_actual = finding.expected, finding.actual
                acceptance.now_message = finding.message
                entry["lapsed"] = _lapse_text(acceptance, finding)
                used.add(key)
            else:
                state = "open" if key in previous_findings else "new"
                if (
                    acceptance is not None and acceptance.state == "lapsed"
                ):  # lapsed in an earlier scan: say so, it counts again
                    entry["lapsed"] = _lapse_text(acceptance, finding)
                    used.add(key)
            entry["state"] = state
            first_seen = previous_findings.get(key, {}).get("first_seen") or now
            entry["first_seen"] = first_seen
            row.append(entry)
            current[key] = {
                "rule": finding.rule,
                "severity": finding.severity.value,
                "path": member.path,
                "sheet": finding.sheet,
                "cell": finding.cell,
                "label": finding.label,
                "message": finding.message,
                "expected": finding.expected,
                "actual": finding.actual,
                "unit": member.unit,
                "year": member.year,
                "state": state,
                "first_seen": first_seen,
            }
            per_unit[rv.unit_key(member)].append((member, finding, key, state))
        states[member.path] = row
    for key, each in by_key.items():
        if key not in used and each.state != "lapsed":
            each.state = "unused"
    units = _units(rv, per_unit, previous_units, previous_findings, current)
    fixed = [
        {"id": finding_id(key), **{k: v for k, v in old.items() if k != "state"}}
        for key, old in sorted(previous_findings.items(), key=lambda kv: _finding_order(kv[1]))
        if key not in current and old.get("state") != "accepted" and old.get("severity") != Severity.INFO.value
    ]
    counted = [f for f in current.values() if f["severity"] != Severity.INFO.value]
    counts = Counter(f["state"] for f in counted)
    new = [
        {"id": finding_id(k), **{x: y for x, y in f.items() if x != "state"}, "state": f["state"]}
        for k, f in sorted(current.items(), key=lambda kv: _finding_order(kv[1]))
        if f["state"] in ("new", "lapsed") and f["severity"] != Severity.INFO.value
    ]
    since_last: dict[str, Any] = {
        "first_scan": previous is None,
        "previous_finished": (previous or {}).get("finished"),
        "counts": {
            "new": counts.get("new", 0),
            "lapsed": counts.get("lapsed", 0),
            "open": counts.get("open", 0),
            "accepted": counts.get("accepted", 0),
            "fixed": len(fixed),
        },
        "units": [u["since_last"] | {"unit": u["unit"], "year": u["year"]} for u in units if _changed(u)],
        "new": new,
        "fixed": fixed,
    }
    accepted_now = sorted(k for k, f in current.items() if f["state"] == "accepted")
    accepted_before = sorted(k for k, f in previous_findings.items() if f.get("state") == "accepted")
    changed = (
        previous is None
        or any(since_last["counts"][k] for k in ("new", "lapsed", "fixed"))
        or bool(since_last["units"])
        or accepted_now != accepted_before
    )
    earlier = (previous or {}).get("latest_change")
    latest_change = {**since_last, "on": now} if changed or not earlier else earlier
    last = {
        "findings": current,
        "units": {_unit_id(u["unit"], u["year"]): u["status"] for u in units},
        "latest_change": latest_change,
    }
    ordered = sorted(by_key.values(), key=lambda a: ({"lapsed": 0, "active": 1, "unused": 2}[a.state], a.path, a.rule))
    return Outcome(states, units, since_last, latest_change, ordered, last)


def _finding_order(finding: dict[str, Any]) -> tuple[Any, ...]:
    rank = Severity(finding["severity"]).rank
    return (
        rank,
        finding.get("unit") or "",
        finding.get("path") or "",
        finding.get("sheet") or "",
        finding.get("cell") or "",
    )


def _lapse_text(acceptance: Acceptance, finding: Finding) -> str:
    same = value_of(finding.expected) == value_of(acceptance.expected) and value_of(finding.actual) == value_of(
        acceptance.actual
    )
    if same and acceptance.message:  # what changed is in the message only (a target, a budget)
        return (
            f"说明已失效：{acceptance.accepted_on} 说明时为“{acceptance.message}”，现在为“{finding.message}”"
            f"（原说明：{acceptance.reason}）"
        )
    return (
        f"说明已失效：{acceptance.accepted_on} 说明时实际为 {_shown(acceptance.actual)}、应为 {_shown(acceptance.expected)}，"
        f"现在实际为 {_shown(finding.actual)}、应为 {_shown(finding.expected)}（原说明：{acceptance.reason}）"
    )


def _shown(value: Any) -> str:
    value = value_of(value)
    return "空" if value is None or value == "" else str(value)


def _unit_id(unit: str | None, year: int | None) -> str:
    return f"{normalize(unit) if unit else ''}|{year or ''}"


def _changed(unit: dict[str, Any]) -> bool:
    since = unit["since_last"]
    return bool(since["new"] or since["fixed"] or since["lapsed"] or since["before"] != unit["status"])


def _units(
    rv: Review,
    per_unit: dict[tuple[str, int | None], list[tuple[Member, Finding, str, str]]],
    previous_units: dict[str, str],
    previous_findings: dict[str, dict[str, Any]],
    current: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    groups: dict[tuple[str, int | None], list[Member]] = defaultdict(list)
    for member in rv.members:
        if member.result.status is FileStatus.UNREADABLE:
            continue
        groups[rv.unit_key(member)].append(member)
    # Findings of the last scan that are gone now (fixed), counted per unit once rather than per unit over all.
    fixed_by_unit = Counter(
        _unit_id(old_f.get("unit"), old_f.get("year"))
        for k, old_f in previous_findings.items()
        if k not in current and old_f.get("state") != "accepted" and old_f.get("severity") != Severity.INFO.value
    )
    out: list[dict[str, Any]] = []
    for key, members in groups.items():
        judging = [m for m in members if not rv.is_old(m.path)]
        old = [rv.old_versions[m.path] for m in members if rv.is_old(m.path)]
        findings = per_unit.get(key, [])
        open_findings = [(m, f) for m, f, _, state in findings if state not in ("accepted",)]
        errors = sum(1 for _, f in open_findings if f.severity is Severity.ERROR)
        warnings = sum(1 for _, f in open_findings if f.severity is Severity.WARNING)
        accepted = sum(1 for *_, state in findings if state == "accepted")
        status = FileStatus.of([f for _, f in open_findings])
        name = next((m.unit for m in judging if m.unit), None) or next((m.unit for m in members if m.unit), None)
        year = key[1]
        unit_id = _unit_id(name, year)
        fixed = fixed_by_unit[unit_id]
        states = Counter(state for _, f, _, state in findings if f.severity is not Severity.INFO)
        decided = sorted(rv.decided.get(key, set()))
        out.append(
            {
                "unit": name,
                "year": year,
                "status": status.value,
                "errors": errors,
                "warnings": warnings,
                "accepted": accepted,
                "files": sorted(m.path for m in judging),
                "old_versions": sorted(old, key=lambda o: o["path"]),
                "decided_by": decided[0] if len(decided) == 1 else (decided or None),
                "rules": dict(
                    sorted(Counter(f.rule for _, f in open_findings if f.severity is not Severity.INFO).items())
                ),
                "problems": _problems(open_findings, len(judging) > 1),
                "since_last": {
                    "before": previous_units.get(unit_id),
                    "new": states.get("new", 0),
                    "lapsed": states.get("lapsed", 0),
                    "open": states.get("open", 0),
                    "accepted": states.get("accepted", 0),
                    "fixed": fixed,
                },
            }
        )
    order = {
        status.value: rank for rank, status in enumerate((FileStatus.ERRORS, FileStatus.WARNINGS, FileStatus.CLEAN))
    }
    return sorted(
        out,
        key=lambda u: (
            order[u["status"]],
            -u["errors"],
            -u["warnings"],
            u["unit"] is None,
            u["unit"] or "",
            u["year"] or 0,
        ),
    )


def _problems(findings: list[tuple[Member, Finding]], name_files: bool) -> list[dict[str, Any]]:
    """Rules with their counts and files: errors first, then warnings; most frequent first within each."""
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for member, finding in findings:
        if finding.severity is Severity.INFO:
            continue
        grouped[(finding.severity.value, finding.rule)].append(member.path)
    out = [
        {"rule": rule, "severity": severity, "count": len(paths), "files": sorted(set(paths))}
        for (severity, rule), paths in grouped.items()
    ]
    return sorted(out, key=lambda p: (Severity(p["severity"]).rank, -p["count"], p["rule"]))


__all__ = [
    "Acceptance",
    "Member",
    "Outcome",
    "Review",
    "evaluate",
    "figures_of",
    "finding_id",
    "latest_of",
    "parse_date",
    "report_slot",
    "review",
]
