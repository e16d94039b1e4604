"""Sums and ratios over form entries, shared by the rules and the re-scoring.

Pure functions of `Entry` values: blank and not-applicable parts count as 0 in
sums, and a value that is invalid or a formula without a cached value makes the
result unknown, so that the structure rules (F02/F03/F04) report the cause once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator

from perf_eval.forms import Entry


def numbers(*entries: Entry) -> list[float] | None:
    """The values when every entry holds a number, else None (F02/F03/F04 report why, once)."""
    values = [e.value for e in entries if e.ok and e.value is not None]
    return values if len(values) == len(entries) else None


def part_sum(entries: Iterable[Entry]) -> float | None:
    """Sum of parts: blank and "——" count as 0; invalid or uncached parts make the sum unknown."""
    total = 0.0
    for entry in entries:
        if entry.ok:
            total += entry.value or 0.0
        elif entry.number.kind.value in ("invalid", "uncached"):
            return None
    return total


def ratio(numerator: Entry, denominator: Entry) -> float | None:
    """numerator / denominator; None when the denominator is zero, blank or "——" (not applicable)."""
    values = numbers(numerator, denominator)
    if values is None or math.isclose(values[1], 0.0, abs_tol=1e-12):
        return None
    return values[0] / values[1]


def cells(entries: Iterable[Entry]) -> Iterator[str]:
    return (e.cell for e in entries if e.ref)
