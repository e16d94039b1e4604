"""A paragraph of the report with its place: what the reader gives the statements (no I/O here)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    """One paragraph of text, as written, with its place (see the module docstring)."""

    order: int
    text: str
    paragraph: int | None = None
    table: int | None = None
    row: int | None = None
    column: int | None = None
