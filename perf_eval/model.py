"""Values that flow from the reader to the outputs.

Every value keeps the cell it came from (`CellRef`) so that a finding can be
shown at that cell; positions are never re-derived from offsets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePath
from typing import Any


class Severity(StrEnum):
    """Chinese audit convention: error = 强制性, warning = 提示性."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def label_zh(self) -> str:
        return {"error": "错误", "warning": "警告", "info": "提示"}[self.value]

    @property
    def rank(self) -> int:
        """Errors first, then warnings, then info: the order of every output."""
        return {"error": 0, "warning": 1, "info": 2}[self.value]


class FormKind(StrEnum):
    BASIC_DATA = "basic_data"
    DEPT_SELF_EVAL = "dept_self_eval"
    PROJECT_SELF_EVAL = "project_self_eval"
    # The written self-evaluation report (附件1, a Word document); never paired like the forms.
    REPORT = "report"

    @property
    def label_zh(self) -> str:
        return {
            "basic_data": "基础数据表",
            "dept_self_eval": "部门整体支出绩效自评表",
            "project_self_eval": "项目支出绩效自评表",
            "report": "绩效自评报告",
        }[self.value]


class FileStatus(StrEnum):
    """A file's verdict: one vocabulary for the terminal, the JSON, 校验结果, the scan and the service."""

    CLEAN = "clean"
    WARNINGS = "warnings"
    ERRORS = "errors"
    UNREADABLE = "unreadable"

    @property
    def label_zh(self) -> str:
        return _STATUS_ZH[self.value]

    @classmethod
    def of(cls, findings: Iterable[Finding]) -> FileStatus:
        """The verdict on a readable file with these findings (info findings do not count)."""
        severities = {f.severity for f in findings}
        if Severity.ERROR in severities:
            return cls.ERRORS
        if Severity.WARNING in severities:
            return cls.WARNINGS
        return cls.CLEAN


_STATUS_ZH = {"clean": "通过", "warnings": "通过（有警告）", "errors": "需修改", "unreadable": "无法读取"}
# The order a reviewer reads statuses in: what needs work first.
STATUS_ORDER = (FileStatus.ERRORS, FileStatus.UNREADABLE, FileStatus.WARNINGS, FileStatus.CLEAN)


# The first sheet of an annotated copy: recognised by its name and its A1 title, never validated.
RESULT_SHEET = "校验结果"
RESULT_TITLE = "perf-eval 校验结果"
# An annotated copy is named `<stem>.校验.xlsx` (`annotate` writes it; the scan skips such files
# without importing `annotate`, which loads openpyxl).
COPY_INFIX = ".校验"
# A written report (附件1) is checked beside the workbooks; `perf_eval.narrative.document` reads it
# (python-docx, LibreOffice) and is imported only when one is given.
REPORT_SUFFIXES = (".docx", ".doc", ".wps")


def is_report_path(path: PurePath) -> bool:
    return path.suffix.lower() in REPORT_SUFFIXES


def is_result_sheet(title: str, first_cell: object) -> bool:
    """True for the 校验结果 sheet of an annotated copy (pass the sheet's A1 value)."""
    return title.startswith(RESULT_SHEET) and first_cell == RESULT_TITLE


_A1 = re.compile(r"^([A-Z]{1,3})([0-9]+)$")


def column_letter(col: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """A -> 1, AA -> 27."""
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index


@dataclass(frozen=True, order=True)
class CellRef:
    """A cell on a named sheet; row and col are 1-based like Excel's."""

    sheet: str
    row: int
    col: int

    @property
    def a1(self) -> str:
        return f"{column_letter(self.col)}{self.row}"

    def __str__(self) -> str:
        return f"{self.sheet}!{self.a1}"

    @classmethod
    def parse(cls, sheet: str, a1: str) -> CellRef:
        match = _A1.match(a1)
        if match is None:
            raise ValueError(f"not an A1 reference: {a1!r}")
        return cls(sheet, int(match.group(2)), column_index(match.group(1)))


@dataclass(frozen=True)
class Place:
    """Where a statement of the written report is: a body paragraph, or a paragraph in a table cell.

    `paragraph` counts the non-empty body paragraphs from 1; a table cell has `table` (1-based, in
    document order), `row` and `column` (1-based) instead. `order` is the block's position in the
    document (for sorting); `sentence` is the sentence quoted as written.
    """

    order: int
    sentence: str
    paragraph: int | None = None
    table: int | None = None
    row: int | None = None
    column: int | None = None

    @property
    def text(self) -> str:
        """ "第12段" or "表1第3行第2列"."""
        if self.table is not None:
            return f"表{self.table}第{self.row}行第{self.column}列"
        return f"第{self.paragraph}段"

    def to_dict(self) -> dict[str, Any]:
        return {
            "paragraph": self.paragraph,
            "table": self.table,
            "row": self.row,
            "column": self.column,
            "sentence": self.sentence,
        }


@dataclass(frozen=True)
class Finding:
    """One deviation at one cell.

    `sheet`/`cell` are None only for workbook-level findings (F01).
    `related` lists other cells (``Sheet!A1``) a cross-form finding compares with.
    A finding about the written report has a `place` in it instead of a cell (sheet and cell are
    None); its `related` cells are on the forms of `related_file`.
    """

    rule: str
    severity: Severity
    sheet: str | None
    cell: str | None
    label: str
    message: str
    expected: float | str | None = None
    actual: float | str | None = None
    related: tuple[str, ...] = ()
    place: Place | None = None
    related_file: str | None = None
    # What the clerk can do about it (the rule's "如何处理" line).
    fix: str = ""
    # How `expected`/`actual` read: "amount" (万元), "rate" (a fraction shown as a percentage),
    # "score", "count", "text"; "" when neither is given.
    quantity: str = ""
    # Which case of its rule this is ("" for the rule's own case; "explained", "declared", …) and the
    # values its message was worded from: another wording (a reporting system's, another language)
    # can be rendered from `rule`, `case` and `params` without parsing `message`.
    case: str = ""
    params: Mapping[str, str | float | int] = field(default_factory=dict, hash=False)

    @property
    def ref(self) -> CellRef | None:
        if self.sheet is None or self.cell is None:
            return None
        return CellRef.parse(self.sheet, self.cell)

    def sort_key(self) -> tuple[int, str, int, int, str]:
        """Errors, warnings, info; then sheet, row, column: the one order of every output."""
        ref = self.ref
        if ref is None:
            return (self.severity.rank, "", self.place.order if self.place else 0, 0, self.rule)
        return (self.severity.rank, ref.sheet, ref.row, ref.col, self.rule)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "severity": self.severity.value,
            "sheet": self.sheet,
            "cell": self.cell,
            "label": self.label,
            "message": self.message,
            "expected": self.expected,
            "actual": self.actual,
            "quantity": self.quantity,
            "related": list(self.related),
            "fix": self.fix,
            "case": self.case,
            "params": dict(self.params),
        }
        if self.place is not None:
            data.update(self.place.to_dict())
            data["related_file"] = self.related_file
        return data

    @property
    def expected_shown(self) -> str:
        return shown_value(self.expected, self.quantity)

    @property
    def actual_shown(self) -> str:
        return shown_value(self.actual, self.quantity)


def shown_value(value: float | str | None, quantity: str) -> str:
    """A finding's value as a clerk reads it: "97.22%", "238.43 万元", "7", text as written; "" for none."""
    if value is None:
        return ""
    if isinstance(value, str) or isinstance(value, bool):
        return str(value)
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    if quantity == "rate":
        return f"{value:.2%}"
    if quantity == "amount":
        return f"{value:.2f} 万元"
    return f"{round(value, 4):g}"


def form_label(kind: FormKind, sheet: str, family: str | None = None, profile: str | None = None) -> str:
    """ "部门整体支出绩效自评表（附件3，版式 E，配置 hunan-2023）": the form, and which family and profile judged it."""
    parts = [part for part in (sheet, f"版式 {family}" if family else "", f"配置 {profile}" if profile else "") if part]
    return f"{kind.label_zh}（{'，'.join(parts)}）" if parts else kind.label_zh


@dataclass(frozen=True)
class FormInfo:
    kind: FormKind
    sheet: str
    unit: str | None
    year: int | None
    title: str = ""
    # The layout family recognised from the form's labels (A, A′, B … J; None for a 基础数据表) and the
    # profile that judged it.
    family: str | None = None
    profile: str | None = None

    @property
    def label_zh(self) -> str:
        return form_label(self.kind, self.sheet, self.family, self.profile)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "sheet": self.sheet,
            "unit": self.unit,
            "year": self.year,
            "family": self.family,
            "profile": self.profile,
        }


@dataclass(frozen=True)
class Score:
    """The unit's own total, ours, and the grade of ours (优/良/中/差)."""

    reported: float | None
    recomputed: float | None
    grade: str | None
    reported_grade: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"reported": self.reported, "recomputed": self.recomputed, "grade": self.grade}


@dataclass
class FileResult:
    """The verdict on one input file (the `files[]` entry of the JSON contract)."""

    path: str
    sha256: str | None
    status: FileStatus
    error: str | None = None
    forms: list[FormInfo] = field(default_factory=list)
    deviations: list[Finding] = field(default_factory=list)
    score: Score | None = None
    annotated: str | None = None
    # Sheets read and sheets skipped (hidden, our own 校验结果), for the reader's notes.
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.deviations if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.deviations if f.severity is Severity.WARNING)

    @property
    def infos(self) -> int:
        return sum(1 for f in self.deviations if f.severity is Severity.INFO)

    @property
    def unit(self) -> str | None:
        return next((f.unit for f in self.forms if f.unit), None)

    @property
    def year(self) -> int | None:
        return next((f.year for f in self.forms if f.year), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "status": self.status.value,
            "error": self.error,
            "forms": [f.to_dict() for f in self.forms],
            "deviations": [f.to_dict() for f in self.deviations],
            "score": self.score.to_dict() if self.score else None,
            "annotated": self.annotated,
            "notes": list(self.notes),
        }


@dataclass
class Report:
    """All files of one run; `to_dict()` is the JSON contract of docs/domain.md §7."""

    files: list[FileResult]
    version: str

    def summary(self) -> dict[str, int]:
        """Counts per status (clean + warnings_only + with_errors + unreadable == files), then findings."""
        return {
            "files": len(self.files),
            "clean": sum(1 for f in self.files if f.status is FileStatus.CLEAN),
            "warnings_only": sum(1 for f in self.files if f.status is FileStatus.WARNINGS),
            "with_errors": sum(1 for f in self.files if f.status is FileStatus.ERRORS),
            "unreadable": sum(1 for f in self.files if f.status is FileStatus.UNREADABLE),
            "errors": sum(f.errors for f in self.files),
            "warnings": sum(f.warnings for f in self.files),
            "infos": sum(f.infos for f in self.files),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": {"name": "perf-eval", "version": self.version},
            "files": [f.to_dict() for f in self.files],
            "summary": self.summary(),
        }
