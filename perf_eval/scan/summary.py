"""The ``scan`` section of summary.json: changes, units, rules, skipped and unpaired files.

It extends the §7 JSON contract (docs/domain.md) without changing it: ``tool``,
``files`` and ``summary`` stay exactly what `Report.to_dict()` gives; the scan
adds one top-level key. Paths in it (and in ``files``) are relative to the
scanned folder; ``annotated`` paths are relative to OUTDIR. Everything except
``scan.run`` (timings and how much work this run did) depends only on the
files, so an interrupted scan completed later gives the same summary as one
uninterrupted scan.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from perf_eval.model import FileResult, FileStatus, Report, Severity
from perf_eval.report.summary_view import STATUS_ZH
from perf_eval.scan.discover import Skipped

_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def file_status(result: FileResult) -> str:
    """clean | warnings | errors | unreadable: the status a reviewer sorts by."""
    return result.status.value


def scan_section(
    *,
    root: Path,
    out: Path,
    profile: str | None,
    full: bool,
    report: Report,
    partner_units: dict[str, str],
    previous: dict[str, str | None],
    removed: Sequence[str],
    skipped: Sequence[Skipped],
    unpaired: Sequence[dict[str, Any]],
    run: dict[str, Any],
) -> dict[str, Any]:
    files = report.files
    statuses = Counter(file_status(f) for f in files)
    return {
        "root": str(root),
        "out": str(out),
        "profile": profile,
        "full": full,
        "statuses": {key: statuses.get(key, 0) for key in STATUS_ZH},
        "changes": _changes(files, previous, removed),
        "removed": list(removed),
        "skipped": [s.to_dict() for s in skipped],
        "unpaired": sorted(unpaired, key=lambda u: (u["path"], u["sheet"])),
        "units": units(files, partner_units),
        "rules": rule_counts(files),
        "notes": {f.path: list(dict.fromkeys(f.notes)) for f in files if f.notes},
        "run": run,
    }


def _changes(files: Sequence[FileResult], previous: dict[str, str | None], removed: Sequence[str]) -> dict[str, int]:
    counts = {"new": 0, "changed": 0, "unchanged": 0, "removed": len(removed)}
    for result in files:
        if result.path not in previous:
            counts["new"] += 1
        elif previous[result.path] == result.sha256 and result.sha256 is not None:
            counts["unchanged"] += 1
        else:
            counts["changed"] += 1
    return counts


def unit_of(result: FileResult, partner_units: dict[str, str]) -> str | None:
    """The unit named on the file's forms, or on the 自评表 its 基础数据表 was paired with."""
    return result.unit or partner_units.get(result.path)


def units(files: Sequence[FileResult], partner_units: dict[str, str]) -> list[dict[str, Any]]:
    """One entry per (unit, year): clean, or what must be fixed. Most errors first."""
    groups: dict[tuple[str, int | None], list[FileResult]] = defaultdict(list)
    for result in files:
        if result.status is FileStatus.UNREADABLE:
            continue
        groups[(unit_of(result, partner_units) or "", result.year)].append(result)
    out: list[dict[str, Any]] = []
    for (unit, year), members in groups.items():
        errors = sum(f.errors for f in members)
        warnings = sum(f.warnings for f in members)
        rules = Counter(d.rule for f in members for d in f.deviations if d.severity is not Severity.INFO)
        out.append(
            {
                "unit": unit or None,
                "year": year,
                "status": "errors" if errors else ("warnings" if warnings else "clean"),
                "errors": errors,
                "warnings": warnings,
                "files": sorted(f.path for f in members),
                "rules": dict(sorted(rules.items())),
            }
        )
    return sorted(out, key=lambda u: (-u["errors"], -u["warnings"], u["unit"] is None, u["unit"] or "", u["year"] or 0))


def rule_counts(files: Sequence[FileResult]) -> list[dict[str, Any]]:
    """How often each rule fired, in how many files; most frequent first."""
    from perf_eval.rules.catalogue import get

    findings: Counter[str] = Counter()
    in_files: dict[str, set[str]] = defaultdict(set)
    severity: dict[str, Severity] = {}
    for result in files:
        for finding in result.deviations:
            findings[finding.rule] += 1
            in_files[finding.rule].add(result.path)
            known = severity.get(finding.rule)
            if known is None or _SEVERITY_ORDER[finding.severity] < _SEVERITY_ORDER[known]:
                severity[finding.rule] = finding.severity
    out = []
    for rule, count in findings.items():
        entry = get(rule)
        out.append(
            {
                "rule": rule,
                "severity": severity[rule].value,
                "title": entry.title if entry else "",
                "findings": count,
                "files": len(in_files[rule]),
            }
        )
    return sorted(out, key=lambda r: (-r["findings"], r["rule"]))
