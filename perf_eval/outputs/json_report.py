"""The JSON contract (docs/json.md), as text, and its JSON Schema (`schema/check.schema.json`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

_PIECES = 8192  # encoder pieces (keys, values, separators) per chunk
SCHEMA_FILE = "check.schema.json"


def chunks(data: dict[str, Any]) -> Iterator[str]:
    """The text of `dumps(data)` in chunks of a few kilobytes.

    The indenting encoder yields one piece per key, value and separator; for a
    scan of thousands of files, joining them all at once costs several times
    the size of the text. Joined a chunk at a time (or written chunk by chunk)
    it costs about the text itself (or nothing).
    """
    pieces: list[str] = []
    for piece in json.JSONEncoder(ensure_ascii=False, indent=2).iterencode(data):
        pieces.append(piece)
        if len(pieces) >= _PIECES:
            yield "".join(pieces)
            pieces.clear()
    if pieces:
        yield "".join(pieces)


def summary_chunks(data: dict[str, Any]) -> Iterator[str]:
    """A scan's summary.json: indented down to each file's entry, which is one line.

    One file per line is as easy to read and to grep, and the bulk is encoded by the json module's
    C encoder (indenting makes it fall back to Python): five times faster for thousands of files.
    """
    yield from _lines(data, 0)


_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))
_INLINE_DEPTH = 2  # the top level, its values (the `files` list), then each entry on one line


def _lines(value: Any, depth: int) -> Iterator[str]:
    if depth >= _INLINE_DEPTH or not isinstance(value, dict | list) or not value:
        yield _COMPACT.encode(value)
        return
    inner, outer = "\n" + "  " * (depth + 1), "\n" + "  " * depth
    opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
    yield opening
    items = list(value.items()) if isinstance(value, dict) else [(None, item) for item in value]
    for index, (key, item) in enumerate(items):
        yield inner + (_COMPACT.encode(key) + ": " if key is not None else "")
        yield from _lines(item, depth + 1)
        if index < len(items) - 1:
            yield ","
    yield outer + closing


def dumps(data: dict[str, Any]) -> str:
    """``json.dumps(data, ensure_ascii=False, indent=2)``, with less memory on the way."""
    return "".join(chunks(data))


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of `check --format json`; ``#/$defs/summary_json`` is a scan's summary.json."""
    text = resources.files("perf_eval.outputs").joinpath("schema", SCHEMA_FILE).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
