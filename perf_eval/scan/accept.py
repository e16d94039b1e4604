"""Accepted findings (已说明): what reviewers write in summary.xlsx, kept in ``OUTDIR/已说明.json``.

A reviewer accepts a finding by writing a reason in the 说明理由 column of
summary.xlsx's 问题清单 and saving the file. The next scan reads that column
back (only when summary.xlsx is no longer exactly as the scan wrote it), and
records each reason with the finding's values as the reviewer saw them
(应为 and 实际, and the numbers its message quotes, from the scan that
wrote the sheet). Clearing a reason
withdraws it. The record is ``已说明.json`` beside the summaries: the scan
writes it, people may read and back it up.

An acceptance holds while the finding is there with the same values. When
the values change (the cell was edited, or what it is compared with), the
acceptance lapses: the finding counts again, and the summaries say when and
why. A lapsed acceptance is kept in the record but never applies again; a
new reason accepts the finding anew.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from perf_eval.atomic import atomic_write_text
from perf_eval.errors import PerfEvalError
from perf_eval.outputs.summary_view import FINDINGS_SHEET, ID_HEADER, REASON_HEADER
from perf_eval.scan.review import Acceptance, figures_of, finding_id

STORE_NAME = "已说明.json"


class StoreError(PerfEvalError):
    """The record exists but cannot be read; `reason` is Chinese."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def load_store(out: Path) -> list[Acceptance]:
    path = out / STORE_NAME
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [Acceptance.from_dict(entry) for entry in data["acceptances"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StoreError(
            f"{path} 无法读取（{exc}）：已说明的问题本次按未说明处理，该文件未被改动；请修复或删除它"
        ) from None


def save_store(out: Path, acceptances: list[Acceptance]) -> None:
    data = {
        "about": "perf-eval scan：审核人在 summary.xlsx 问题清单中填写的说明（接受的问题）。由扫描写入。",
        "acceptances": [a.to_dict() for a in acceptances],
    }
    atomic_write_text(out / STORE_NAME, json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def read_reasons(xlsx: Path) -> dict[str, str]:
    """编号 → 说明理由 of every 问题清单 row that has an 编号 (an empty reason: ""); raises on a broken file."""
    from openpyxl import load_workbook

    workbook = load_workbook(xlsx, read_only=True, data_only=True)
    try:
        if FINDINGS_SHEET not in workbook.sheetnames:
            return {}
        rows = workbook[FINDINGS_SHEET].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            return {}
        names = [str(v).strip() if v is not None else "" for v in header]
        if ID_HEADER not in names or REASON_HEADER not in names:
            return {}
        at_id, at_reason = names.index(ID_HEADER), names.index(REASON_HEADER)
        reasons: dict[str, str] = {}
        for row in rows:
            if row is None or len(row) <= max(at_id, at_reason):
                continue
            ident = row[at_id]
            if ident is None or not str(ident).strip():
                continue
            reason = row[at_reason]
            text = str(reason).strip() if reason is not None else ""
            known = reasons.get(str(ident).strip())
            if not known:  # an old version's row and the current one may share a finding: the written reason wins
                reasons[str(ident).strip()] = text
        return reasons
    finally:
        workbook.close()


def merge(
    acceptances: list[Acceptance],
    reasons: dict[str, str],
    previous_findings: dict[str, dict[str, Any]],
    today: str,
) -> list[Acceptance]:
    """The record after the reviewer's edits: new or changed reasons added, cleared ones withdrawn."""
    by_id: dict[str, dict[str, Any]] = {}
    keys: dict[str, str] = {}
    for key, finding in previous_findings.items():
        ident = finding_id(key)
        by_id[ident], keys[ident] = finding, key
    out = list(acceptances)
    for ident, reason in reasons.items():
        if ident not in keys:
            continue  # a row of an older sheet whose finding the last scan no longer had
        key = keys[ident]
        live = [a for a in out if a.key == key and a.state != "lapsed"]
        if not reason:
            if live:
                out = [a for a in out if a not in live]
            continue
        if live and live[0].reason == reason:
            continue
        finding = by_id[ident]
        out = [a for a in out if a.key != key or a.state == "lapsed"]
        out.append(
            Acceptance(
                id=ident,
                key=key,
                reason=reason,
                accepted_on=today,
                expected=finding.get("expected"),
                actual=finding.get("actual"),
                rule=str(finding.get("rule") or ""),
                path=str(finding.get("path") or ""),
                sheet=finding.get("sheet"),
                cell=finding.get("cell"),
                unit=finding.get("unit"),
                year=finding.get("year"),
                message=str(finding.get("message") or ""),
                figures=figures_of(finding.get("message")),
            )
        )
    # A new acceptance replaces a lapsed one of the same finding.
    accepted = {a.key for a in out if a.state != "lapsed"}
    return [a for a in out if a.state != "lapsed" or a.key not in accepted]


__all__ = ["STORE_NAME", "StoreError", "load_store", "merge", "read_reasons", "save_store"]
