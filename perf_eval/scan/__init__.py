"""`perf-eval scan`: check a whole folder of workbooks, incrementally, without touching it.

Modules, in the order data flows:

- `discover`: find workbooks, skip lock/temporary/hidden files, links and FIFOs;
- `cache`: the lock and the per-file cache in OUTDIR;
- `pool` and `tasks`: worker processes that read (and annotate) one file each,
  under memory, CPU and wall-clock limits;
- `run`: the orchestration (hash → read → pair → check → annotate → summaries);
- `summary` and `terminal`: the ``scan`` section of summary.json and the tables.

This package must stay light to import: worker processes import it.
"""

from __future__ import annotations

from perf_eval.scan.cache import LockHeld
from perf_eval.scan.run import ScanError, ScanOptions, ScanOutcome, check_folders, run_scan

__all__ = ["LockHeld", "ScanError", "ScanOptions", "ScanOutcome", "check_folders", "run_scan"]
