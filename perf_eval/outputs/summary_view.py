"""What summary.xlsx shows of summary.json, and the labels it shares with the terminal tables.

Light to import (no openpyxl): the scan hashes `xlsx_view` to tell whether
summary.xlsx would come out the same as last time, and then does not write it
(or load openpyxl) at all. `write_summary_xlsx` reads nothing but this view,
so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from perf_eval.model import STATUS_ORDER

# A file's status as a reviewer sorts by it, and a unit's conclusion.
STATUS_ZH = {status.value: status.label_zh for status in STATUS_ORDER}
UNIT_STATUS_ZH = {key: STATUS_ZH[key] for key in ("clean", "warnings", "errors")}

# The keys of summary.json's ``scan`` object that summary.xlsx shows. Not ``run`` (timings),
# ``changes``, ``statuses``, ``rules``, ``root``, ``out``, ``profile`` or ``full``.
XLSX_SCAN_KEYS = ("units", "notes", "skipped", "unpaired", "removed", "latest_change", "findings", "acceptances")

# 问题清单: the sheet a reviewer writes reasons into, and the two columns the next scan reads back.
FINDINGS_SHEET = "问题清单"
ID_HEADER = "编号"
REASON_HEADER = "说明理由（填写即视为接受）"


def xlsx_view(data: dict[str, Any]) -> dict[str, Any]:
    """The part of the summary.json data that summary.xlsx is made of.

    It shows the latest change (``scan.latest_change``, kept while later scans find
    nothing new), and a finding as new when it first appeared in that change: a
    rescan that finds nothing changed shows the same, and summary.xlsx is not written.
    """
    scan = data.get("scan", {})
    view = {key: scan[key] for key in XLSX_SCAN_KEYS if key in scan}
    since = view.get("latest_change") or {}
    if "units" in view:  # a unit's comparison with the previous scan is in `latest_change`, when it changed
        view["units"] = [{k: v for k, v in unit.items() if k != "since_last"} for unit in view["units"]]
    if "findings" in view:
        view["findings"] = {
            path: [_shown_state(entry, since.get("on")) for entry in entries]
            for path, entries in view["findings"].items()
        }
    return {"files": data["files"], "scan": view}


def _shown_state(entry: dict[str, Any], changed_on: str | None) -> dict[str, Any]:
    shown = {k: v for k, v in entry.items() if k != "first_seen"}
    if entry.get("lapsed"):  # until it is accepted anew or fixed
        shown["state"] = "lapsed"
    elif entry.get("state") in ("new", "open"):
        shown["state"] = "new" if entry.get("first_seen") == changed_on else "open"
    return shown


__all__ = ["FINDINGS_SHEET", "ID_HEADER", "REASON_HEADER", "STATUS_ZH", "UNIT_STATUS_ZH", "XLSX_SCAN_KEYS", "xlsx_view"]
