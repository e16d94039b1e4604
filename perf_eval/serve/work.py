"""What a worker process does for the web service: check an upload, write a findings workbook.

These functions run in `perf_eval.scan.pool` workers, under memory, CPU and
wall-clock limits, so a hostile upload costs only its own worker. Uploaded
files are stored under neutral names (``0.xlsx``); the names the user gave are
for display only: they replace the paths in the report and name the 校验结果
sheet and the downloads, and never become part of a path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

COPIES = "copies"  # the folder, inside a result's folder, that holds its annotated copies


@dataclass(frozen=True)
class Upload:
    """One uploaded file: where it is stored in the result's folder, and the name it was uploaded under."""

    stored: str
    display: str


@dataclass(frozen=True)
class Copy:
    """An annotated copy: its file in the result's `COPIES` folder and the name it is downloaded under."""

    stored: str
    download: str


@dataclass(frozen=True)
class Checked:
    """The JSON report (paths replaced by the uploaded names), and per file its copy or why there is none."""

    report: dict[str, Any]
    copies: tuple[Copy | None, ...]
    notes: tuple[tuple[str, ...], ...]


def warm() -> None:
    """Import everything a check needs, so that the first upload is as fast as the next."""
    import importlib

    from perf_eval.rules.catalogue import all_rules

    for module in ("perf_eval.checker", "perf_eval.outputs.annotate", "perf_eval.outputs.summary_xlsx"):
        importlib.import_module(module)

    all_rules()


def check_task(folder: str, uploads: tuple[Upload, ...], profile: str | None = None) -> Checked:
    """Check the uploads together and write their annotated copies.

    A split 基础数据表 and 自评表 are paired; a written report (附件1, .docx) is
    checked against the forms uploaded with it, and each workbook's 校验结果
    sheet lists that report's findings too.
    """
    from perf_eval._version import __version__
    from perf_eval.atomic import OutputError
    from perf_eval.checker import check_files
    from perf_eval.model import Report
    from perf_eval.narrative.annotate import annotate_all as annotate_reports
    from perf_eval.outputs.annotate import annotate, copy_name

    root = Path(folder)
    checked = check_files([root / upload.stored for upload in uploads], profile=profile)
    # Reports first: their copies are made from the stored files, before the paths become display names.
    failed = {id(item) for item, _ in annotate_reports(checked, root / COPIES)}
    made_copies: list[Path | None] = [
        Path(item.result.annotated) if item.result.annotated else None for item in checked
    ]
    file_notes: list[list[str]] = [
        [*item.result.notes, *(["批注副本未能生成，请稍后重新上传"] if id(item) in failed else [])] for item in checked
    ]
    for item, upload in zip(checked, uploads, strict=True):
        item.result.path = upload.display  # also how a workbook's 校验结果 names the reports checked with it
        item.result.annotated = None
    for at, (item, upload) in enumerate(zip(checked, uploads, strict=True)):
        if item.workbook is None:
            continue
        try:
            made = annotate(
                root / upload.stored,
                item.result,
                out_dir=root / COPIES,
                drawings=item.workbook.drawings,
                source_name=upload.display,
                reports=item.reports,
            )
        except OutputError:
            # Its reason names a server folder: say only what the user needs to know.
            file_notes[at].append("批注副本未能生成，请稍后重新上传")
        else:
            made_copies[at] = made.path
            file_notes[at].extend(made.notes)
    copies = tuple(
        Copy(made.name, copy_name(Path(upload.display), made.suffix)) if made else None
        for made, upload in zip(made_copies, uploads, strict=True)
    )
    report = Report([item.result for item in checked], __version__).to_dict()
    # A report's finding and notes name the workbook it was compared with: by its uploaded name.
    shown = {str(root / upload.stored): upload.display for upload in uploads}
    notes = tuple(tuple(dict.fromkeys(_displayed(n, shown))) for n in file_notes)
    return Checked(_displayed(report, shown), copies, notes)


def _displayed(value: Any, shown: dict[str, str]) -> Any:
    """`value` with every stored file's path replaced by the name it was uploaded under."""
    if isinstance(value, str):
        for path in sorted(shown, key=len, reverse=True):
            value = value.replace(path, shown[path])
        return value
    if isinstance(value, dict):
        return {key: _displayed(item, shown) for key, item in value.items()}
    if isinstance(value, list):
        return [_displayed(item, shown) for item in value]
    return value


def findings_task(report: dict[str, Any], target: str) -> None:
    """The findings as a workbook: the scan's summary.xlsx sheets (文件清单, 问题清单, …) for these files."""
    from perf_eval.outputs.summary_xlsx import write_summary_xlsx

    files = [{**entry, "annotated": None} for entry in report["files"]]  # a link would be a URL, not a file
    write_summary_xlsx(Path(target), {"files": files, "scan": {}})
