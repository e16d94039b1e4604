"""The JSON contract (docs/domain.md §7), as text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

_PIECES = 8192  # encoder pieces (keys, values, separators) per chunk


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


def dumps(data: dict[str, Any]) -> str:
    """``json.dumps(data, ensure_ascii=False, indent=2)``, with less memory on the way."""
    return "".join(chunks(data))
