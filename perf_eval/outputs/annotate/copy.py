"""The copy's starting point: the source's bytes (read by `perf_eval.reading.source`) as a package to mark.

An .xlsx/.xlsm is marked as it is (`package`), without loading a spreadsheet library. It is first
rewritten with openpyxl (`rewrite`) only when it carries an earlier run's marks (removed there)
or has parts `package` does not edit. An .xls is rebuilt as an .xlsx.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from perf_eval.atomic import OutputError
from perf_eval.model import RESULT_SHEET
from perf_eval.outputs.annotate.marks import COMMENT_MARK
from perf_eval.outputs.annotate.package import CUSTOM_PART
from perf_eval.reading.source import SourceChanged, read_checked

_ZIP_MAGIC = b"PK\x03\x04"
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAX_SEARCHED = 64 << 20  # a comments part larger than this is not searched for our mark
# A sheet named 校验结果 or 校验结果(2) ...: perhaps ours, its properties lost (openpyxl reads its A1 to tell).
_RESULT_SHEET_NAME = re.compile(rb'name="' + re.escape(RESULT_SHEET.encode("utf-8")) + rb'(\(\d+\))?"')


@dataclass(frozen=True)
class Prepared:
    """The package to mark, the copy's extension, and what preparing it could not keep (Chinese notes)."""

    data: bytes
    suffix: str
    notes: tuple[str, ...]
    rewritten: bool


def read_source(source: Path, sha256: str | None) -> bytes:
    """All bytes at once (`read_checked`): nothing keeps the file open, so it is never locked."""
    try:
        return read_checked(source, sha256)
    except OSError as exc:
        raise OutputError(f"无法读取 {source}：{exc.strerror or exc}", source) from exc
    except SourceChanged as exc:
        raise OutputError(f"文件在校验之后被修改过，未生成批注副本，请重新校验：{source}", source) from exc


def prepare(data: bytes, source: Path, drawings: Sequence[str], *, rewrite: bool = False) -> Prepared:
    """Route on content, not on the extension; `rewrite` sends an .xlsx/.xlsm through openpyxl."""
    if data.startswith(_CFB_MAGIC):
        from perf_eval.outputs.annotate.rewrite import rebuilt_xls

        body, notes = rebuilt_xls(data)
        return Prepared(body, ".xlsx", notes, rewritten=True)
    if not data.startswith(_ZIP_MAGIC):
        raise OutputError(f"无法识别的文件格式，未生成批注副本：{source}", source)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        macros = "xl/vbaProject.bin" in names
        rewrite = rewrite or _earlier_run(archive, names)
    suffix = ".xlsm" if macros else ".xlsx"
    if not rewrite:
        return Prepared(data, suffix, (), rewritten=False)
    from perf_eval.outputs.annotate.rewrite import rewritten

    body, notes = rewritten(data, macros, drawings)
    return Prepared(body, suffix, notes, rewritten=True)


def _earlier_run(archive: zipfile.ZipFile, names: list[str]) -> bool:
    """Marks of an earlier run (our properties, comments or 校验结果 sheet): openpyxl removes them first."""
    mark = COMMENT_MARK.encode("utf-8")
    for name in names:
        lowered = name.lower()
        size = archive.getinfo(name).file_size
        if size > _MAX_SEARCHED:
            continue
        if lowered == CUSTOM_PART.lower():
            if b'name="perf-eval"' in archive.read(name):
                return True
        elif lowered == "xl/workbook.xml":
            if _RESULT_SHEET_NAME.search(archive.read(name)):
                return True
        elif "comment" in lowered and lowered.endswith(".xml") and mark in archive.read(name):
            return True
    return False
