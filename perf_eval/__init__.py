"""perf-eval: check budget performance self-evaluation workbooks (绩效自评).

The public API is kept light to import: heavy modules (pandas, pandera,
openpyxl) load only when a workbook is actually checked.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

# python-docx (the written reports) brings lxml, and openpyxl switches to lxml when it is installed:
# other XML parsing and other serialization, which the annotated copy's restoring of cached formula
# results depends on. Keep openpyxl on the standard library parser (with defusedxml), as measured
# and tested; this must run before openpyxl is imported (tests/conftest.py does the same).
os.environ.setdefault("OPENPYXL_LXML", "False")

from perf_eval._version import __version__

if TYPE_CHECKING:
    from perf_eval.model import Report


def check(path: str | Path, *, profile: str | None = None) -> Report:
    """Check one workbook; ``check(p).to_dict()`` is the JSON of ``perf-eval check --format json``."""
    from perf_eval.checker import check_paths

    return check_paths([Path(path)], profile=profile)


__all__ = ["__version__", "check"]
