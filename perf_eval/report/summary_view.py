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
XLSX_SCAN_KEYS = ("units", "notes", "skipped", "unpaired", "removed", "since_last", "findings", "acceptances")

# 问题清单: the sheet a reviewer writes reasons into, and the two columns the next scan reads back.
FINDINGS_SHEET = "问题清单"
ID_HEADER = "编号"
REASON_HEADER = "说明理由（填写即视为接受）"


def xlsx_view(data: dict[str, Any]) -> dict[str, Any]:
    """The part of the summary.json data that summary.xlsx is made of (never when the scan ran)."""
    scan = data.get("scan", {})
    view = {key: scan[key] for key in XLSX_SCAN_KEYS if key in scan}
    if "since_last" in view:
        view["since_last"] = {k: v for k, v in view["since_last"].items() if k != "previous_finished"}
    return {"files": data["files"], "scan": view}


__all__ = ["FINDINGS_SHEET", "ID_HEADER", "REASON_HEADER", "STATUS_ZH", "UNIT_STATUS_ZH", "XLSX_SCAN_KEYS", "xlsx_view"]
