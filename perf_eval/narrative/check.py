"""Reports against the forms of their unit and year: pairing, rules, per-report results.

Pairing (documented in docs/report.md): a report goes with the 基础数据表 / 部门整体支出绩效自评表
pairs (as `pairing.pair_keys` pairs them, lone forms included) whose unit is the report's (names
compared normalized; else one name containing the other) and whose year is the report's. A
report that names no unit goes with the only unit of its year among the workbooks. Where
several workbooks of the unit match (an old and a resubmitted file), the nearest is kept: the
same folder, then the most similar file name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Protocol, TypeVar

from perf_eval.forms import BasicData, LineRole, SelfEval
from perf_eval.model import FileResult, FileStatus, Finding, FormInfo, FormKind
from perf_eval.narrative.document import ReportDocument, UnreadableReport, is_report_path, read_report
from perf_eval.narrative.statements import Statements, find_statements
from perf_eval.pairing import FormRef, Role, WorkbookKey, form_keys, pair_keys
from perf_eval.profiles import Profile, default_for, load
from perf_eval.reading.workbook import ReadWorkbook
from perf_eval.rules import engine
from perf_eval.rules.catalogue import Context, all_rules, get
from perf_eval.rules.narrative import BASIC_FORM, ReportInput
from perf_eval.values import normalize

if TYPE_CHECKING:
    from perf_eval.checker import Checked


@dataclass(frozen=True)
class FormSet:
    """One unit's forms to check a report against (either may be missing), and their files."""

    basic: BasicData | None
    basic_path: Path | None
    evaluation: SelfEval | None
    evaluation_path: Path | None

    @property
    def unit(self) -> str | None:
        for form in (self.evaluation, self.basic):
            if form is not None and form.info.unit:
                return form.info.unit
        return None

    @property
    def year(self) -> int | None:
        for form in (self.evaluation, self.basic):
            if form is not None and form.info.year:
                return form.info.year
        return None

    @property
    def path(self) -> Path:
        found = self.evaluation_path or self.basic_path
        assert found is not None
        return found


@dataclass
class CheckedReport:
    result: FileResult
    document: ReportDocument | None
    partners: list[FormSet] = field(default_factory=list)


def read_one(path: Path) -> ReportDocument | str:
    """The report, or the Chinese reason it could not be read."""
    try:
        return read_report(path.resolve() if path.is_symlink() else path)
    except UnreadableReport as exc:
        return exc.reason
    except Exception as exc:  # a batch must go on: an unforeseen failure is this file's result
        return f"无法读取报告：{type(exc).__name__}: {exc}"[:300]


@dataclass(frozen=True)
class SetKey:
    """A unit's forms as pairing sees them: references into the workbook keys, and the unit, year and file."""

    basic: FormRef | None
    evaluation: FormRef | None
    unit: str | None
    year: int | None
    path: PurePath


class _Located(Protocol):
    @property
    def path(self) -> PurePath: ...
    @property
    def unit(self) -> str | None: ...
    @property
    def year(self) -> int | None: ...


_S = TypeVar("_S", bound=_Located)


@dataclass(frozen=True)
class ReportKey:
    """A report as pairing sees it (the scan pairs from its cache, without the document)."""

    path: PurePath
    unit: str | None
    year: int | None


def set_keys(keys: Sequence[WorkbookKey]) -> list[SetKey]:
    """Every unit's forms: the pairs `pairing` makes, then each form left without a partner."""
    sets: list[SetKey] = []
    used: set[FormRef] = set()

    def info(ref: FormRef) -> FormInfo:
        return keys[ref[0]].forms[ref[1]].info

    for basic_ref, evaluation_ref in pair_keys(keys):
        basic, evaluation = info(basic_ref), info(evaluation_ref)
        sets.append(
            SetKey(
                basic_ref,
                evaluation_ref,
                evaluation.unit or basic.unit,
                evaluation.year or basic.year,
                keys[evaluation_ref[0]].path,
            )
        )
        used.update({basic_ref, evaluation_ref})
    for index, key in enumerate(keys):
        for at, form in enumerate(key.forms):
            if (index, at) in used or form.role is None:
                continue
            ref = (index, at)
            lone: tuple[FormRef | None, FormRef | None] = (ref, None) if form.role is Role.BASIC else (None, ref)
            sets.append(SetKey(lone[0], lone[1], form.info.unit, form.info.year, key.path))
    return sets


def form_sets(workbooks: Sequence[ReadWorkbook]) -> list[FormSet]:
    """Every unit's forms: the pairs `pairing` makes, then each form left without a partner."""
    keys = [WorkbookKey(w.path, form_keys(w.forms)) for w in workbooks]
    return [form_set(key, workbooks) for key in set_keys(keys)]


def form_set(key: SetKey, workbooks: Sequence[ReadWorkbook]) -> FormSet:
    """The forms `key` refers to (`workbooks` in the order of the keys it was made from)."""
    basic = workbooks[key.basic[0]].forms[key.basic[1]] if key.basic else None
    evaluation = workbooks[key.evaluation[0]].forms[key.evaluation[1]] if key.evaluation else None
    assert basic is None or isinstance(basic, BasicData)
    assert evaluation is None or isinstance(evaluation, SelfEval)
    return FormSet(
        basic,
        workbooks[key.basic[0]].path if key.basic else None,
        evaluation,
        workbooks[key.evaluation[0]].path if key.evaluation else None,
    )


def partners_of(document: _Located, sets: Sequence[_S]) -> list[_S]:
    """The form sets the report is checked against (see the module docstring)."""
    same_year = [s for s in sets if document.year is None or s.year is None or s.year == document.year]
    matches: list[_S] = []
    if document.unit:
        unit = normalize(document.unit)
        matches = [s for s in same_year if s.unit and normalize(s.unit) == unit]
        if not matches:
            matches = [s for s in same_year if s.unit and (normalize(s.unit) in unit or unit in normalize(s.unit))]
    else:
        units = {normalize(s.unit) if s.unit else None for s in same_year}
        if len(units) == 1:
            matches = list(same_year)
    if len(matches) <= 1:
        return matches
    nearness = [_nearness(document.path, s.path) for s in matches]
    best = max(nearness)
    return [s for s, near in zip(matches, nearness, strict=True) if near == best]


def _nearness(report: PurePath, workbook: PurePath) -> tuple[bool, float]:
    return (report.parent == workbook.parent, SequenceMatcher(None, report.stem, workbook.stem).ratio())


def statements_for(document: ReportDocument, partners: Sequence[FormSet]) -> Statements:
    projects = [line.label for s in partners if s.basic is not None for line in s.basic.lines_of(LineRole.PROJECT)]
    return find_statements(document.blocks, year=document.year, projects=dict.fromkeys(projects))


def _profile(name: str | None) -> Profile:
    return load(name) if name else default_for(FormKind.DEPT_SELF_EVAL)


def check_report(document: ReportDocument, partners: Sequence[FormSet], *, profile: str | None = None) -> list[Finding]:
    """The N findings of one report against its partners, ordered by place."""
    chosen = _profile(profile)
    if not partners:
        return [_unpaired(document, chosen)]
    statements = statements_for(document, partners)
    by_id = {r.id: r for r in all_rules()}
    findings: list[Finding] = []
    for partner in partners:
        ctx = Context(chosen, partner.basic, partner.evaluation, report=ReportInput(statements))
        candidates = engine.report_candidates(ctx)
        for position in engine.failing(candidates, chosen):
            candidate = candidates[position]
            finding = engine.render(candidate, by_id[candidate.rule], chosen)
            kind = candidate.params.get("form_kind")
            if kind is not None:
                path = partner.basic_path if kind == BASIC_FORM else partner.evaluation_path
                finding = replace(finding, related_file=str(path) if path else None)
            findings.append(finding)
    return sorted(dict.fromkeys(findings), key=Finding.sort_key)


def _unpaired(document: ReportDocument, profile: Profile) -> Finding:
    rule = get("N00")
    assert rule is not None
    params = {"unit": document.unit or "单位未识别", "year": document.year or "？"}
    severity = profile.severity.get("N00", rule.severity)
    return Finding("N00", severity, None, None, "绩效自评报告", rule.template.format(**params), params=params)


def report_result(
    path: Path, document: ReportDocument, findings: list[Finding], sha256: str | None, partners: Sequence[FormSet] = ()
) -> FileResult:
    info = FormInfo(FormKind.REPORT, "", document.unit, document.year, document.title)
    notes = ["该报告由 LibreOffice 从 .doc/.wps 转换为 .docx 后读取"] if document.converted else []
    for partner in partners:
        files = dict.fromkeys(str(p) for p in (partner.basic_path, partner.evaluation_path) if p is not None)
        notes.append(f"对照的表单：{'、'.join(files)}")
    return FileResult(
        path=str(path),
        sha256=sha256,
        status=FileStatus.of(findings),
        forms=[info],
        deviations=findings,
        notes=notes,
    )


def check_reports(
    paths: Sequence[Path],
    read: Sequence[ReportDocument | str],
    workbooks: Sequence[ReadWorkbook],
    *,
    profile: str | None = None,
    sha256: dict[Path, str | None] | None = None,
) -> list[CheckedReport]:
    """One result per report, in the order given; unreadable ones have status "unreadable"."""
    sets = form_sets(workbooks)
    out: list[CheckedReport] = []
    for path, document in zip(paths, read, strict=True):
        digest = (sha256 or {}).get(path)
        if not isinstance(document, ReportDocument):
            out.append(CheckedReport(FileResult(str(path), digest, FileStatus.UNREADABLE, error=document), None))
            continue
        partners = partners_of(document, sets)
        findings = check_report(document, partners, profile=profile)
        result = report_result(path, document, findings, digest, partners)
        result.forms = [replace(info, profile=_profile(profile).name) for info in result.forms]  # who judged it
        out.append(CheckedReport(result, document, partners))
    return out


def attach_reports(paths: Sequence[Path], checked: list[Checked], *, profile: str | None = None) -> list[Checked]:
    """`checked` (the workbooks among `paths`) with the reports among `paths` checked against them.

    The result keeps the order of `paths`; each workbook a report was checked against lists
    that report's result (its 校验结果 sheet shows them).
    """
    from perf_eval.checker import Checked, sha256_of

    reports = [p for p in paths if is_report_path(p)]
    workbooks = [c.workbook for c in checked if c.workbook is not None]
    results = check_reports(
        reports,
        [read_one(p) for p in reports],
        workbooks,
        profile=profile,
        sha256={p: sha256_of(p) for p in reports},
    )
    by_path = {Path(c.result.path): c for c in checked}
    for report in results:
        for partner in report.partners:
            for path in {partner.basic_path, partner.evaluation_path} - {None}:
                owner = by_path.get(path) if path is not None else None
                if owner is not None and report.result not in owner.reports:
                    owner.reports.append(report.result)
    report_items = iter(Checked(r.result, None, report=r) for r in results)
    book_items = iter(checked)
    return [next(report_items) if is_report_path(p) else next(book_items) for p in paths]
