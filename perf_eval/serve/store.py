"""The service's results: a private folder, random ids, expiry.

Everything lives under one folder created with mode 0700 (`tempfile.mkdtemp`);
a result is ``<root>/<id>/``: the uploads as ``0.xlsx``, ``1.xls`` … (removed
once checked), ``copies/`` with the annotated copies and, once asked for,
``findings.xlsx``. An id is 24 random URL-safe characters: nothing the user
sent is ever part of a path. Results are deleted when they expire, on DELETE,
and all of them when the service stops.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perf_eval.serve.work import Copy

_ID = re.compile(r"^[A-Za-z0-9_-]{24}$")


@dataclass
class Result:
    id: str
    folder: Path
    expires: float  # time.time()
    report: dict[str, Any] | None = None  # None while the check runs
    copies: tuple[Copy | None, ...] = ()
    notes: tuple[tuple[str, ...], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


class StoreFull(Exception):
    """More results are kept than `max_results`: refuse new uploads until some expire."""


class Store:
    def __init__(self, *, keep_seconds: float, max_results: int = 2_000) -> None:
        self.keep_seconds = keep_seconds
        self.max_results = max_results
        self.root = Path(tempfile.mkdtemp(prefix="perf-eval-serve-"))
        self._results: dict[str, Result] = {}

    def new(self) -> Result:
        self.sweep()
        if len(self._results) >= self.max_results:
            raise StoreFull
        result_id = secrets.token_urlsafe(18)
        folder = self.root / result_id
        folder.mkdir(mode=0o700)
        result = Result(result_id, folder, time.time() + self.keep_seconds)
        self._results[result_id] = result
        return result

    def ready(self, result: Result) -> None:
        """The check is done: the result is kept from now on for `keep_seconds`."""
        result.expires = time.time() + self.keep_seconds

    def get(self, result_id: str) -> Result | None:
        """A finished result that has not expired."""
        if not _ID.match(result_id):
            return None
        result = self._results.get(result_id)
        if result is None or result.report is None:
            return None
        if result.expires <= time.time():
            self.delete(result_id)
            return None
        return result

    def delete(self, result_id: str) -> bool:
        result = self._results.get(result_id) if _ID.match(result_id) else None
        if result is None:
            return False
        self.discard(result)
        return True

    def discard(self, result: Result) -> None:
        """Forget the result and remove its folder (again, if a worker wrote into it after a first removal)."""
        self._results.pop(result.id, None)
        shutil.rmtree(result.folder, ignore_errors=True)

    def sweep(self) -> None:
        now = time.time()
        for result_id in [r.id for r in self._results.values() if r.report is not None and r.expires <= now]:
            self.delete(result_id)

    def close(self) -> None:
        self._results.clear()
        shutil.rmtree(self.root, ignore_errors=True)


__all__ = ["Result", "Store", "StoreFull"]
