"""An input file's bytes, read once for an output that rebuilds it (the annotated copy).

Reading the whole file at once means nothing keeps it open, so it is never locked
while the copy is made; the digest taken when the file was checked tells whether
it changed since.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from perf_eval.errors import PerfEvalError


class SourceChanged(PerfEvalError):
    """The file's content is no longer the one that was checked."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"文件在校验之后被修改过，请重新校验：{path}")
        self.path = path


def read_checked(path: Path, sha256: str | None) -> bytes:
    """All of `path`'s bytes; `SourceChanged` if they no longer hash to `sha256` (when given).

    An `OSError` (missing, no permission, ...) is the caller's to word.
    """
    data = path.read_bytes()
    if sha256 and hashlib.sha256(data).hexdigest() != sha256:
        raise SourceChanged(path)
    return data
