"""The ``scan`` section of summary.json: changes, units, versions, acceptances, rules, skipped and unpaired files.

It extends the §7 JSON contract (docs/domain.md) without changing it: ``tool``,
``files`` and ``summary`` stay exactly what `Report.to_dict()` gives; the scan
adds one top-level key. Paths in it (and in ``files``) are relative to the
scanned folder; ``annotated`` paths are relative to OUTDIR. Everything except
``scan.run`` (timings and how much work this run did), the comparisons with
the last completed scan (``since_last``, ``units[].since_last``) and the
times of ``latest_change.on`` and ``findings[].first_seen`` depends only on
the files and the acceptances, so an interrupted scan completed later gives
the same summary as one uninterrupted scan. Units, versions and finding
states come from `review`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from perf_eval.model import FileResult, Report, Severity
from perf_eval.outputs.summary_view import STATUS_ZH
from perf_eval.scan.discover import Skipped
from perf_eval.scan.review import Outcome

READ_SHEETS_NOTE = "已读取工作表："  # the reader's list of the sheets it read: in the copy's 校验结果, not a problem

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
    outcome: Outcome,
    previous: dict[str, str | None],
    removed: Sequence[str],
    skipped: Sequence[Skipped],
    unpaired: Sequence[dict[str, Any]],
    run: dict[str, Any],
) -> dict[str, Any]:
    files = report.files
    statuses = Counter(file_status(f) for f in files)
    notes = {f.path: [n for n in dict.fromkeys(f.notes) if worth_noting(n)] for f in files}
    return {
        "root": str(root),
        "out": str(out),
        "profile": profile,
        "full": full,
        "since_last": outcome.since_last,
        "latest_change": outcome.latest_change,
        "statuses": {key: statuses.get(key, 0) for key in STATUS_ZH},
        "changes": _changes(files, previous, removed),
        "removed": list(removed),
        "skipped": [s.to_dict() for s in skipped],
        "unpaired": sorted(unpaired, key=lambda u: (u["path"], u["sheet"])),
        "units": outcome.units,
        "rules": rule_counts(files, outcome.states),
        "findings": outcome.states,
        "acceptances": [a.to_dict() for a in outcome.acceptances],
        "notes": {path: kept for path, kept in notes.items() if kept},
        "run": run,
    }


def worth_noting(note: str) -> bool:
    """A note a reviewer needs (a hidden sheet skipped, what the copy lost), not the list of sheets read."""
    return not note.startswith(READ_SHEETS_NOTE)


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


def rule_counts(
    files: Sequence[FileResult], states: dict[str, list[dict[str, Any]]] | None = None
) -> list[dict[str, Any]]:
    """How often each rule fired, in how many files; most frequent first. Old versions do not count."""
    from perf_eval.rules.catalogue import get

    findings: Counter[str] = Counter()
    in_files: dict[str, set[str]] = defaultdict(set)
    severity: dict[str, Severity] = {}
    for result in files:
        per_finding = (states or {}).get(result.path, [])
        for at, finding in enumerate(result.deviations):
            if at < len(per_finding) and per_finding[at].get("state") == "old_version":
                continue
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
