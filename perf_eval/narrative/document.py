"""Reading the report: a .docx into blocks of text in document order, each with its place.

Places (documented in docs/report.md):
- a body paragraph has `paragraph`, counting the non-empty body paragraphs from 1 (empty
  paragraphs are spacing nobody would count);
- a paragraph inside a table has `table` (1-based over the tables of the body, in document order),
  `row` and `column` (1-based, as Word shows the grid; a merged cell is read once, at its first
  position); a table nested in a cell takes the place of its outer cell.

A .docx is pre-flighted like a workbook (zip and XML limits, no DOCTYPE) before python-docx sees
it. A .doc or .wps (an OLE compound file) is converted to .docx by LibreOffice in a private
temporary folder, with a time limit; without LibreOffice the message says how to convert it.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perf_eval.errors import PerfEvalError
from perf_eval.narrative.blocks import Block
from perf_eval.reading import safety
from perf_eval.values import normalize

if TYPE_CHECKING:
    from docx.document import Document
    from docx.text.paragraph import Paragraph

REPORT_SUFFIXES = (".docx", ".doc", ".wps")
CONVERT_SECONDS = 120.0

_REASONS = {
    "not_word": "不是 Word 文档（.docx / .doc / .wps）",
    "no_document": "压缩包不是 Word 文档（缺少 word/document.xml）",
    "no_soffice": "这是旧版 Word/WPS 文档（.doc/.wps），本机未安装 LibreOffice，无法转换；"
    "请用 Word 或 WPS 另存为 .docx 后再检查",
    "convert_failed": "旧版 Word/WPS 文档（.doc/.wps）转换为 .docx 失败（{detail}）；请用 Word 或 WPS 另存为 .docx",
    "convert_timeout": "旧版 Word/WPS 文档（.doc/.wps）转换超时（超过 {seconds:g} 秒）；请用 Word 或 WPS 另存为 .docx",
    "docx_invalid": "Word 文档已损坏，无法读取（{detail}）",
}


class UnreadableReport(PerfEvalError):
    """A report that cannot be read; `reason` is one Chinese line (the caller adds the file name)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @classmethod
    def of(cls, code: str, **params: Any) -> UnreadableReport:
        return cls(_REASONS[code].format(**params))


@dataclass(frozen=True)
class ReportDocument:
    path: Path
    blocks: tuple[Block, ...]
    unit: str | None
    year: int | None
    title: str
    # The .docx that was read: the file itself, or LibreOffice's conversion of a .doc/.wps.
    docx: bytes
    converted: bool = False


def is_report_path(path: Path) -> bool:
    return path.suffix.lower() in REPORT_SUFFIXES


# --- walking a document ------------------------------------------------------------------------


def walk(document: Document) -> Iterator[tuple[Block, Paragraph]]:
    """Every paragraph of the body and of its tables, in document order, with its `Block`.

    The reader and the annotator both number paragraphs through here, so a place found by
    one is the paragraph the other marks.
    """
    from docx.table import Table

    order = 0
    paragraph_number = 0
    table_number = 0
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            table_number += 1
            for row_index, column_index, paragraph in _table_paragraphs(item):
                text = paragraph.text
                if not text.strip():
                    continue
                order += 1
                yield Block(order, text, table=table_number, row=row_index, column=column_index), paragraph
            continue
        text = item.text
        if not text.strip():
            continue
        order += 1
        paragraph_number += 1
        yield Block(order, text, paragraph=paragraph_number), item


def _table_paragraphs(table: Any) -> Iterator[tuple[int, int, Paragraph]]:
    # A merged cell repeats in every position it spans. The elements are kept referenced, so their
    # ids cannot be reused by other proxies while we compare.
    seen: dict[int, object] = {}
    for row_index, row in enumerate(table.rows, start=1):
        for column_index, cell in enumerate(row.cells, start=1):
            if id(cell._tc) in seen:
                continue
            seen[id(cell._tc)] = cell._tc
            for paragraph in _cell_paragraphs(cell):
                yield row_index, column_index, paragraph


def _cell_paragraphs(cell: Any) -> Iterator[Paragraph]:
    from docx.table import Table

    for item in cell.iter_inner_content():
        if isinstance(item, Table):
            seen: dict[int, object] = {}
            for row in item.rows:
                for inner in row.cells:
                    if id(inner._tc) not in seen:
                        seen[id(inner._tc)] = inner._tc
                        yield from _cell_paragraphs(inner)
        else:
            yield item


# --- reading a file --------------------------------------------------------------------------


def read_report(path: Path, *, limits: safety.Limits = safety.DEFAULT_LIMITS) -> ReportDocument:
    """The report's blocks, unit and year; raises `UnreadableReport`."""
    names: set[str] = set()
    try:
        with safety.open_regular(path) as handle:
            data = handle.read()
            if data.startswith(safety.CFB_MAGIC):
                names = {name.lower() for name in safety.cfb_entry_names(handle)}
    except safety.UnreadableWorkbook as exc:
        if exc.code == "cfb_corrupt":
            raise UnreadableReport("旧版 Office 文件（OLE 复合文档）已损坏或不完整") from None
        raise UnreadableReport(exc.reason) from None
    except OSError as exc:
        raise UnreadableReport(f"无法打开文件：{exc.strerror or exc}") from None
    converted = False
    if data.startswith(safety.CFB_MAGIC):
        if "encryptedpackage" in names:
            raise UnreadableReport("文档设有密码保护（已加密），请去除密码后再提交")
        if "worddocument" not in names:
            raise UnreadableReport.of("not_word")
        data = convert_legacy(data, suffix=path.suffix.lower() or ".doc")
        converted = True
    elif not data.startswith(b"PK\x03\x04"):
        raise UnreadableReport("文件为空（0 字节）" if not data else _REASONS["not_word"])
    return parse_docx(path, data, limits=limits, converted=converted)


def parse_docx(path: Path, data: bytes, *, limits: safety.Limits, converted: bool = False) -> ReportDocument:
    """Pre-flight the bytes of a .docx, then read them with python-docx."""
    names = _preflight(data, limits)
    if "word/document.xml" not in names:
        raise UnreadableReport.of("no_document")
    document = open_docx(data)
    blocks = tuple(block for block, _ in walk(document))
    unit, year, title = identity(blocks)
    return ReportDocument(path, blocks, unit, year, title, data, converted)


def _preflight(data: bytes, limits: safety.Limits) -> frozenset[str]:
    from perf_eval.reading.preflight import scan_package

    # The pre-flight reads a real file descriptor (fstat); a private temporary file holds the bytes.
    with tempfile.TemporaryFile() as handle:
        handle.write(data)
        handle.flush()
        handle.seek(0)
        try:
            return scan_package(handle, limits)
        except safety.UnreadableWorkbook as exc:
            raise UnreadableReport(exc.reason) from None


def open_docx(data: bytes) -> Document:
    """python-docx on pre-flighted bytes; any failure of the library is this file's result."""
    import docx

    try:
        return docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors … on broken parts
        raise UnreadableReport.of("docx_invalid", detail=f"{type(exc).__name__}: {exc}"[:200]) from None


# --- .doc / .wps through LibreOffice --------------------------------------------------------


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_legacy(data: bytes, *, suffix: str, seconds: float = CONVERT_SECONDS) -> bytes:
    """A .doc/.wps converted to .docx by LibreOffice, in a private temporary folder."""
    program = soffice()
    if program is None:
        raise UnreadableReport.of("no_soffice")
    with tempfile.TemporaryDirectory(prefix="perf-eval-doc-") as folder:
        work = Path(folder)
        source = work / f"report{suffix if suffix in ('.doc', '.wps') else '.doc'}"
        source.write_bytes(data)
        command = [
            program,
            f"-env:UserInstallation={(work / 'profile').as_uri()}",  # never the user's own profile
            "--headless",
            "--norestore",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(work / "out"),
            str(source),
        ]
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True, cwd=folder
        )
        try:
            _, err = process.communicate(timeout=seconds)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            raise UnreadableReport.of("convert_timeout", seconds=seconds) from None
        result = work / "out" / "report.docx"
        if process.returncode != 0 or not result.is_file():
            detail = (err or b"").decode("utf-8", "replace").strip().splitlines()
            raise UnreadableReport.of("convert_failed", detail=(detail[-1] if detail else "无输出")[:120])
        return result.read_bytes()


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


# --- unit and year from the cover and title ---------------------------------------------------

_NAME_LINE = re.compile(r"(?:部门\(单位\)|部门|单位|填报单位|预算单位)(?:名称)?[:：](?P<unit>[^:：]{2,40})$")
_TITLE = re.compile(
    r"(?P<year>20[0-9]{2})年度?(?P<unit>[^,，。;；:：]{2,40}?)(?:部门|单位)?(?:整体支出|整体|项目支出)?绩效(?:自评|自我评价|评价)报告"
)
# "株洲市芦淞区财政局2023年度整体支出绩效自评报告": the unit before the year.
_TITLE_UNIT_FIRST = re.compile(
    r"^(?P<unit>[^0-9,，。;；:：]{2,40}?)(?P<year>20[0-9]{2})年度?(?:部门|单位)?(?:整体支出|整体|项目支出)?绩效(?:自评|自我评价|评价)报告"
)
_YEAR = re.compile(r"(20[0-9]{2})年度?")
_GENERIC_UNITS = {"部门(单位)", "部门", "单位", "本部门", "本单位", ""}
_COVER_BLOCKS = 12


def identity(blocks: tuple[Block, ...]) -> tuple[str | None, int | None, str]:
    """(unit, year, title) from the first blocks: a "名称：…" line, else the title's words."""
    unit: str | None = None
    year: int | None = None
    title = ""
    cover = [normalize(block.text) for block in blocks[:_COVER_BLOCKS]]
    # Titles are often broken over two paragraphs ("2023年度部门（单位）整体支出" / "绩效自评报告").
    joined = [a + b for a, b in zip(cover, [*cover[1:], ""], strict=True)]
    for text in cover:
        match = _NAME_LINE.search(text)
        # "单位：万元" under a table title is a unit of measure, not the unit's name.
        if match and unit is None and not re.fullmatch(r"(?:万元|元|亿元|人|个|%)", match.group("unit")):
            unit = match.group("unit").strip("。")
    for single, text in zip(cover, joined, strict=True):
        match = (
            _TITLE_UNIT_FIRST.search(single)
            or _TITLE.search(single)
            or _TITLE_UNIT_FIRST.search(text)
            or _TITLE.search(text)
        )
        if match is None:
            continue
        if not title:
            title = single if match.string == single else text
        if year is None:
            year = int(match.group("year"))
        candidate = re.sub(r"^(?:度)", "", match.group("unit"))
        candidate = re.sub(r"(?:部门|单位)?(?:整体支出|整体|项目支出)?$", "", candidate)
        if unit is None and candidate not in _GENERIC_UNITS and "部门(单位)" not in candidate:
            unit = candidate
    if year is None:
        for text in cover:
            found = _YEAR.search(text)
            if found:
                year = int(found.group(1))
                break
    return unit, year, title
