"""A multipart upload streamed into a result's folder, refused as soon as it is too big.

The body is parsed as it arrives (python-multipart's push parser); each file
part goes straight to ``<n>.<ext>`` in the result's folder, and the moment
the body passes `max_bytes` reading stops and the caller answers 413: a huge
upload is never received in full, nor held in memory. The name the browser
sent is kept for display only (`display_name`).
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from perf_eval.errors import PerfEvalError
from perf_eval.narrative.document import REPORT_SUFFIXES
from perf_eval.serve.work import Upload

# Workbooks, and written reports (附件1), which the checker recognises by their extension.
EXTENSIONS = (".xlsx", ".xlsm", ".xls", *REPORT_SUFFIXES)
_MAX_NAME = 120


class UploadError(PerfEvalError):
    """Why the upload as a whole was refused: an HTTP status, a stable code and a Chinese message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def display_name(raw: bytes, number: int) -> str:
    """The uploaded file's name as shown to the user: its last path part, printable, not too long."""
    for encoding in ("utf-8", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = raw.decode("utf-8", "replace")
    text = text.replace("\\", "/").rsplit("/", 1)[-1]  # a browser on Windows may send the whole path
    text = "".join(ch for ch in unicodedata.normalize("NFC", text) if ch.isprintable()).strip().strip(".")
    if not text:
        return f"文件{number + 1}.xlsx"
    if len(text) > _MAX_NAME:
        stem, ext = os.path.splitext(text)
        text = stem[: _MAX_NAME - len(ext) - 1] + "…" + ext
    return text


@dataclass
class _State:
    folder: Path
    max_files: int
    uploads: list[Upload] = field(default_factory=list)
    header_name: bytes = b""
    header_value: bytes = b""
    disposition: bytes = b""
    handle: BinaryIO | None = None
    ended: bool = False

    def on_end(self) -> None:
        self.ended = True

    def on_part_begin(self) -> None:
        self.disposition = b""

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        if self.header_name.lower() == b"content-disposition":
            self.disposition = self.header_value
        self.header_name = self.header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.disposition)
        if b"filename" not in options:
            return  # a plain form field (the page's token travels as a cookie): ignored
        number = len(self.uploads)
        if number >= self.max_files:
            raise UploadError(400, "too_many_files", f"一次最多上传 {self.max_files} 个文件")
        shown = display_name(options[b"filename"], number)
        extension = os.path.splitext(shown)[1].lower()
        stored = f"{number}{extension if extension in EXTENSIONS else '.bin'}"
        # O_EXCL: the folder is new and ours; nothing may already be there.
        fd = os.open(self.folder / stored, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        self.handle = os.fdopen(fd, "wb")
        self.uploads.append(Upload(stored, shown))

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.handle is not None:
            self.handle.write(data[start:end])

    def on_part_end(self) -> None:
        self.close()

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None


async def receive(
    content_type: str, body: AsyncIterator[bytes], folder: Path, *, max_bytes: int, max_files: int
) -> list[Upload]:
    """Stream a multipart/form-data body into `folder`; the uploaded files in order. Raises `UploadError`."""
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UploadError(415, "unsupported_media_type", "请以 multipart/form-data 方式上传文件（字段名 files）")
    state = _State(folder, max_files)
    parser = MultipartParser(
        boundary,
        callbacks={
            "on_part_begin": state.on_part_begin,
            "on_header_field": state.on_header_field,
            "on_header_value": state.on_header_value,
            "on_header_end": state.on_header_end,
            "on_headers_finished": state.on_headers_finished,
            "on_part_data": state.on_part_data,
            "on_part_end": state.on_part_end,
            "on_end": state.on_end,
        },
    )
    received = 0
    try:
        async for chunk in body:
            received += len(chunk)
            if received > max_bytes:
                raise UploadError(413, "too_large", too_large_message(max_bytes))
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError:
        raise UploadError(400, "bad_multipart", "上传的数据不完整或格式有误，请重新上传") from None
    finally:
        state.close()
    if not state.ended:
        raise UploadError(400, "bad_multipart", "上传的数据不完整或格式有误，请重新上传")
    if not state.uploads:
        raise UploadError(400, "no_file", "没有收到文件：请选择要检查的工作簿（.xlsx / .xlsm / .xls）")
    return state.uploads


def too_large_message(max_bytes: int) -> str:
    return f"文件太大：一次上传合计不能超过 {max_bytes / (1 << 20):g} MB，请分开上传或压缩图片后再试"


__all__ = ["EXTENSIONS", "UploadError", "display_name", "receive", "too_large_message"]
