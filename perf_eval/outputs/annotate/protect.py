"""Where the copy goes and what it may replace.

The copy is named ``<stem>.校验.xlsx`` (``.校验(2).xlsx`` ... when that name is taken), carries custom
properties naming its version, its source (a hash of the path) and the hash of its own content
(``perf-eval-content``), so that only a copy of the same source that nobody edited since is ever overwritten.
"""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
from pathlib import Path

from defusedxml import ElementTree
from lxml import etree

from perf_eval._version import __version__
from perf_eval.atomic import OutputError, same_file
from perf_eval.model import COPY_INFIX
from perf_eval.outputs.annotate.package import CUSTOM, CUSTOM_PART, CUSTOM_TYPE, VT, Package, content_hash, q

MARK_PROPERTY = "perf-eval"
SOURCE_PROPERTY = "perf-eval-source"

CONTENT_PROPERTY = "perf-eval-content"
_UNSET_CONTENT = "0" * 64

_COPY_NAME = re.compile(re.escape(COPY_INFIX) + r"(\(\d+\))?$")
_MAX_NAME_TRIES = 100


def source_key_of(source: Path) -> str:
    """Identifies the source without revealing its path inside the copy."""
    return hashlib.sha256(os.path.normcase(str(source.resolve())).encode("utf-8")).hexdigest()[:16]


def set_marks(package: Package, source_key: str) -> bytes:
    """Our custom properties on the copy; returns the placeholder `Package.to_bytes` replaces with the content hash."""
    if package.has(CUSTOM_PART):
        root = package.xml(CUSTOM_PART)
    else:
        root = etree.Element(q("Properties", CUSTOM), nsmap={None: CUSTOM, "vt": VT})
        package.relate("", "custom-properties", CUSTOM_PART)
    package.put(CUSTOM_PART, root)
    package.override(CUSTOM_PART, CUSTOM_TYPE)
    for element in list(root):
        if element.get("name") in (MARK_PROPERTY, SOURCE_PROPERTY, CONTENT_PROPERTY):
            root.remove(element)
    pids = [int(e.get("pid") or 0) for e in root if (e.get("pid") or "").isdigit()]
    for number, (name, value) in enumerate(
        ((MARK_PROPERTY, __version__), (SOURCE_PROPERTY, source_key), (CONTENT_PROPERTY, _UNSET_CONTENT)),
        start=max([1, *pids]) + 1,
    ):
        element = etree.SubElement(root, q("property", CUSTOM), fmtid=_FMTID, pid=str(number), name=name)
        etree.SubElement(element, q("lpwstr", VT)).text = value
    return _UNSET_CONTENT.encode("ascii")


_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"


def _content_hash(archive: zipfile.ZipFile) -> str:
    return content_hash({info.filename: archive.read(info) for info in archive.infolist()})


def make_folder(folder: Path) -> None:
    """The output folder, made if missing; a file in the way is named as such (it is never replaced)."""
    blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise OutputError(f"输出位置应为文件夹，但 {blocker} 是一个文件（--out 请指定文件夹）", folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError.from_os_error(exc, folder / "_") from exc


def copy_name(source: Path, suffix: str, attempt: int = 1) -> str:
    """``自评表.xlsx`` → ``自评表.校验.xlsx``; a copy's own name maps back to its source's."""
    stem = _COPY_NAME.sub("", source.stem) or source.stem
    number = "" if attempt == 1 else f"({attempt})"
    return f"{stem}{COPY_INFIX}{number}{suffix}"


def choose_target(source: Path, folder: Path, suffix: str, source_key: str) -> tuple[Path, Path | None]:
    """The name to write, and the first copy of ours that someone edited (kept, so the next name is used)."""
    edited: Path | None = None
    for attempt in range(1, _MAX_NAME_TRIES + 1):
        candidate = folder / copy_name(source, suffix, attempt)
        if same_file(candidate, source):
            continue
        if not candidate.exists() and not candidate.is_symlink():
            return candidate, edited
        state = copy_state(candidate, source_key)
        if state == "ours":
            return candidate, edited
        if state == "edited" and edited is None:
            edited = candidate
    raise OutputError.not_ours(folder / copy_name(source, suffix))


_MAX_COPY_BYTES = 512 << 20  # an existing copy larger than this is not hashed: it is left alone


def copy_state(path: Path, source_key: str) -> str:
    """ "ours" (our copy of this source, unchanged), "edited" (ours, changed since) or "foreign"."""
    if path.is_symlink() or not path.is_file():
        return "foreign"
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(CUSTOM_PART)
            if info.file_size > 1 << 20:
                return "foreign"
            tree = ElementTree.fromstring(archive.read(info))
            values = {prop.get("name"): "".join(prop.itertext()) for prop in tree if prop.tag.endswith("}property")}
            if MARK_PROPERTY not in values or values.get(SOURCE_PROPERTY) != source_key:
                return "foreign"
            total = sum(i.file_size for i in archive.infolist())
            if total > _MAX_COPY_BYTES:
                return "edited"
            # A copy from before the content hash, or one saved again by Excel/WPS, counts as edited.
            return "ours" if values.get(CONTENT_PROPERTY) == _content_hash(archive) else "edited"
    except (OSError, zipfile.BadZipFile, KeyError, ElementTree.ParseError, ValueError, RuntimeError):
        return "foreign"
