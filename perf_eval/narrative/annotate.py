"""The annotated copy of a report: a Word comment (批注) at each statement found wrong.

The copy is `<stem>.校验.docx` beside the report or in `--out`, written atomically, never over the
report itself nor over a file perf-eval did not make (as for workbooks). A .doc/.wps report gets
a .docx copy (LibreOffice's conversion, annotated). Each comment spans exactly the sentence it
is about: the runs are split at the sentence's ends (formatting kept). A finding about the whole
report (N00) is commented on its first paragraph.

The copy marks itself in its core properties: `identifier` is ``perf-eval:<hash of the source
path>`` and `content_status` says it is a perf-eval copy; only such a file is ever replaced.
"""

from __future__ import annotations

import copy
import hashlib
import io
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from defusedxml import ElementTree

from perf_eval.atomic import OutputError, atomic_write, same_file
from perf_eval.model import COPY_INFIX, FileResult, Finding
from perf_eval.narrative.document import ReportDocument, open_docx, walk

if TYPE_CHECKING:
    from docx.text.paragraph import Paragraph
    from docx.text.run import Run

COMMENT_AUTHOR = "perf-eval"
COMMENT_INITIALS = "PE"
COMMENT_MARK = "——perf-eval——"
_IDENTIFIER_PREFIX = "perf-eval:"
_STATUS = "perf-eval 校验副本"
_MAX_NAME_TRIES = 100
# Children a run may have and still be split in two by text (anything else, e.g. a picture, stays whole).
_SPLITTABLE = {"rPr", "t", "tab", "br", "cr", "noBreakHyphen", "softHyphen"}


def annotate_report(source: Path, document: ReportDocument, result: FileResult, *, out_dir: Path | None = None) -> Path:
    """Write the annotated copy; raise `OutputError` when it cannot be written."""
    folder = out_dir if out_dir is not None else source.parent
    try:
        word = open_docx(document.docx)
        paragraphs = {block.order: paragraph for block, paragraph in walk(word)}
        first = paragraphs[min(paragraphs)] if paragraphs else word.add_paragraph()
        for finding in result.deviations:
            place = finding.place
            paragraph = paragraphs.get(place.order, first) if place is not None else first
            runs = sentence_runs(paragraph, place.sentence if place is not None else "")
            word.add_comment(runs, text=comment_text(finding), author=COMMENT_AUTHOR, initials=COMMENT_INITIALS)
        key = source_key(source)
        properties = word.core_properties
        properties.identifier = _IDENTIFIER_PREFIX + key
        properties.content_status = _STATUS
        buffer = io.BytesIO()
        word.save(buffer)
        data = buffer.getvalue()
        _make_folder(folder)
        target = _choose_target(source, folder, key)
        atomic_write(target, lambda temp: temp.write_bytes(data), may_replace=lambda path: is_copy_of(path, key))
    except OutputError:
        raise
    except Exception as exc:  # a batch must go on: any failure is this file's result
        raise OutputError(f"无法生成报告的批注副本：{type(exc).__name__}: {exc}", folder) from exc
    return target


def comment_text(finding: Finding) -> str:
    lines = [f"{finding.rule}（{finding.severity.label_zh}）{finding.message}"]
    if finding.expected is not None or finding.actual is not None:
        lines.append(f"应为 {_shown(finding.expected)}，报告为 {_shown(finding.actual)}")
    if finding.related_file:
        lines.append(f"对照文件：{Path(finding.related_file).name}")
    lines.append(COMMENT_MARK)
    return "\n".join(lines)


def _shown(value: float | str | None) -> str:
    if value is None:
        return "（无）"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# --- the runs of one sentence -------------------------------------------------------------------


def sentence_runs(paragraph: Paragraph, sentence: str) -> list[Run]:
    """The runs covering `sentence` in `paragraph`, split at its ends where a run spans them.

    Falls back to the whole paragraph when the sentence is not found as one piece of the text
    (a field or revision mark in between), and to a new empty run in an empty paragraph.
    """
    from docx.text.hyperlink import Hyperlink

    items = list(paragraph.iter_inner_content())
    text = "".join(item.text for item in items)
    start = text.find(sentence) if sentence else -1
    if start < 0:
        runs = [run for item in items for run in (item.runs if isinstance(item, Hyperlink) else [item])]
        return runs or [paragraph.add_run("")]
    end = start + len(sentence)
    covered: list[Run] = []
    position = 0
    for item in items:
        item_start, item_end = position, position + len(item.text)
        position = item_end
        if item_end <= start or item_start >= end:
            continue
        if isinstance(item, Hyperlink):
            covered.extend(item.runs)
            continue
        run = item
        if item_start < start and _splittable(run):
            run = _split(run, start - item_start)
            item_start = start
        if item_end > end and _splittable(run):
            _split(run, end - item_start)
        covered.append(run)
    return covered or [paragraph.add_run("")]


def _splittable(run: Run) -> bool:
    return all(child.tag.rpartition("}")[2] in _SPLITTABLE for child in run._r)


def _split(run: Run, at: int) -> Run:
    """Cut `run` after `at` characters; the second part is a new run right after it, returned."""
    from docx.text.run import Run as RunType

    text = run.text
    twin = copy.deepcopy(run._r)
    run._r.addnext(twin)
    second = RunType(twin, run._parent)
    run.text = text[:at]
    second.text = text[at:]
    return second


# --- where the copy goes ---------------------------------------------------------------------------


def source_key(source: Path) -> str:
    return hashlib.sha256(os.path.normcase(str(source.resolve())).encode("utf-8")).hexdigest()[:16]


def copy_name(source: Path, attempt: int = 1) -> str:
    """``自评报告.docx`` → ``自评报告.校验.docx`` (a .doc/.wps report too: the copy is a .docx)."""
    stem = source.stem.removesuffix(COPY_INFIX) or source.stem
    number = "" if attempt == 1 else f"({attempt})"
    return f"{stem}{COPY_INFIX}{number}.docx"


def _choose_target(source: Path, folder: Path, key: str) -> Path:
    for attempt in range(1, _MAX_NAME_TRIES + 1):
        candidate = folder / copy_name(source, attempt)
        if same_file(candidate, source):
            continue
        if not candidate.exists() and not candidate.is_symlink():
            return candidate
        if is_copy_of(candidate, key):
            return candidate
    raise OutputError.not_ours(folder / copy_name(source))


def is_copy_of(path: Path, key: str) -> bool:
    """True for an annotated copy perf-eval made of the same source (it may be replaced)."""
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("docProps/core.xml")
            if info.file_size > 1 << 20:
                return False
            tree: Any = ElementTree.fromstring(archive.read(info))
    except (OSError, zipfile.BadZipFile, KeyError, ElementTree.ParseError, ValueError):
        return False
    identifiers = ["".join(e.itertext()) for e in tree if e.tag.endswith("}identifier")]
    return identifiers == [_IDENTIFIER_PREFIX + key]


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError.from_os_error(exc, folder / "_") from exc


def annotate_all(items: Sequence[Any], out_dir: Path | None) -> list[tuple[Any, OutputError]]:
    """Annotated copies of every checked report among `items` (`checker.Checked`); the failures."""
    failures: list[tuple[Any, OutputError]] = []
    for item in items:
        report = getattr(item, "report", None)
        if report is None or report.document is None:
            continue
        try:
            target = annotate_report(Path(item.result.path), report.document, item.result, out_dir=out_dir)
        except OutputError as exc:
            failures.append((item, exc))
            continue
        item.result.annotated = str(target)
    return failures
