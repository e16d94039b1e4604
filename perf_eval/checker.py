"""Check workbooks: read → pair forms → rules → score → per-file results.

Read problems become per-file results (status "unreadable"), never an
exception that stops a batch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

from perf_eval._version import __version__
from perf_eval.forms import BasicData, Form, SelfEval
from perf_eval.model import FileResult, FileStatus, Finding, FormKind, Report, Score, is_report_path
from perf_eval.pairing import FormRef, Pair, WorkbookKey, form_keys, pair_keys
from perf_eval.profiles import Profile, for_family, load
from perf_eval.reading import safety
from perf_eval.reading.locate import LOOKED_FOR
from perf_eval.reading.workbook import ReadWorkbook, read_workbook
from perf_eval.rules import engine
from perf_eval.rules.basic import decided_by_partner
from perf_eval.rules.catalogue import Candidate, get
from perf_eval.scoring import score

if TYPE_CHECKING:
    from perf_eval.narrative.check import CheckedReport


@dataclass
class Checked:
    """One file's result, and what was read (for the annotated copy)."""

    result: FileResult
    workbook: ReadWorkbook | None
    # A written report (附件1): what was read and the forms it was checked against.
    report: CheckedReport | None = None
    # For a workbook: the results of the reports checked against its forms (listed in its 校验结果).
    reports: list[FileResult] = field(default_factory=list)


def sha256_of(path: Path) -> str | None:
    """The file's sha256, or None for anything that is not a regular file (a FIFO would block forever)."""
    try:
        digest = hashlib.sha256()
        with safety.open_regular(path.resolve() if path.is_symlink() else path) as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()
    except (OSError, safety.UnreadableWorkbook):
        return None


def _profile_for(form: Form, name: str | None) -> Profile:
    """`--profile` when given, else the profile of the form's layout family (recognised from its labels)."""
    if name:
        return load(name)
    scores_execution = not isinstance(form, SelfEval) or (
        form.funds.score.ref is not None or form.funds.max_score.ref is not None
    )
    return for_family(form.info.family, form.info.kind, scores_execution=scores_execution)


def pair_forms(workbooks: Sequence[ReadWorkbook]) -> list[tuple[BasicData, SelfEval]]:
    """A unit's 基础数据表 with its 部门整体自评表: first within a workbook, then across files by unit and year.

    The rules are `pairing.pair_keys`'s; this gives the forms themselves.
    """
    pairs = pair_keys([_workbook_key(w) for w in workbooks])
    return [
        (cast(BasicData, workbooks[b].forms[at_b]), cast(SelfEval, workbooks[e].forms[at_e]))
        for (b, at_b), (e, at_e) in pairs
    ]


def _workbook_key(workbook: ReadWorkbook) -> WorkbookKey:
    return WorkbookKey(workbook.path, form_keys(workbook.forms))


def _unreadable(path: Path, reason: str) -> Checked:
    return Checked(FileResult(str(path), sha256_of(path), FileStatus.UNREADABLE, error=reason), None)


def read_one(path: Path) -> ReadWorkbook | str:
    """The workbook, or the Chinese reason it could not be read."""
    try:
        # A path the user names explicitly may be a shortcut; the folder scan never follows links.
        return read_workbook(path.resolve() if path.is_symlink() else path)
    except safety.UnreadableWorkbook as exc:
        return exc.reason
    except OSError as exc:
        return f"无法打开文件：{exc.strerror or exc}"


def check_workbooks(
    paths: Sequence[Path],
    read: Sequence[ReadWorkbook | str],
    *,
    profile: str | None = None,
    pairs: Sequence[Pair] | None = None,
) -> list[Checked]:
    """Rules and scores for already-read workbooks (the scan reads them in worker processes).

    `pairs` (references into `read`) are the cross-form pairs to check when they were decided
    beforehand, over more workbooks than these (the scan pairs a whole folder, then checks it a
    few groups at a time); by default the forms of `read` are paired among themselves.
    """
    if pairs is None:
        readable = [index for index, w in enumerate(read) if isinstance(w, ReadWorkbook)]
        keys = [_workbook_key(cast(ReadWorkbook, read[index])) for index in readable]
        pairs = [((readable[b], at_b), (readable[e], at_e)) for (b, at_b), (e, at_e) in pair_keys(keys)]
    partners: dict[FormRef, list[FormRef]] = {}
    for basic_ref, evaluation_ref in pairs:
        # Two equally near 基础数据表 of one unit (pairing rule 4's tie): the 自评表 is checked against both.
        partners.setdefault(evaluation_ref, []).append(basic_ref)
    evaluations: dict[FormRef, list[FormRef]] = {}
    for basic_ref, evaluation_ref in pairs:
        evaluations.setdefault(basic_ref, []).append(evaluation_ref)
    batches: list[tuple[list[Candidate], Profile]] = []
    owners: list[int] = []
    # Each form's profile, looked up once: finding a family's profile lists the profile folders.
    profiles: dict[int, Profile] = {}

    def profile_of(form: Form) -> Profile:
        found = profiles.get(id(form))
        if found is None:
            found = profiles[id(form)] = _profile_for(form, profile)
        return found

    for index, workbook in enumerate(read):
        if not isinstance(workbook, ReadWorkbook):
            continue
        for at, form in enumerate(workbook.forms):
            form_profile = profile_of(form)
            candidates = engine.form_candidates(form, form_profile)
            if isinstance(form, BasicData):
                # The paired 自评表 may decide which side of a sum is wrong (B05).
                for evaluation_index, evaluation_at in evaluations.get((index, at), []):
                    evaluation = cast(ReadWorkbook, read[evaluation_index]).forms[evaluation_at]
                    assert isinstance(evaluation, SelfEval)
                    candidates = decided_by_partner(candidates, form, evaluation, form_profile.amount_tolerance)
            batches.append((candidates, form_profile))
            owners.append(index)
            if not isinstance(form, SelfEval):
                continue
            for basic_ref in partners.get((index, at), []):
                basic = cast(ReadWorkbook, read[basic_ref[0]]).forms[basic_ref[1]]
                assert isinstance(basic, BasicData)
                batches.append((engine.pair_candidates(basic, form, form_profile), form_profile))
                owners.append(index)
    findings_by_batch = engine.evaluate(batches)
    per_file: dict[int, list[Finding]] = {}
    for owner, findings in zip(owners, findings_by_batch, strict=True):
        per_file.setdefault(owner, []).extend(findings)
    out: list[Checked] = []
    for index, (path, workbook) in enumerate(zip(paths, read, strict=True)):
        if not isinstance(workbook, ReadWorkbook):
            out.append(_unreadable(path, workbook))
            continue
        findings = engine.dedupe(per_file.get(index, []))
        if not workbook.forms:
            rule = get("F01")
            assert rule is not None
            findings = [
                Finding(
                    "F01",
                    rule.severity,
                    None,
                    None,
                    "工作簿",
                    rule.template.format(looked_for=LOOKED_FOR),
                    fix=rule.fix,
                    params={"looked_for": LOOKED_FOR},
                )
            ]
        findings = engine.dedupe([*findings, *_not_paired(index, workbook, pairs)])
        evals = [f for f in workbook.forms if isinstance(f, SelfEval)]
        file_score: Score | None = score(evals[0], profile_of(evals[0])) if evals else None
        result = FileResult(
            path=str(path),
            sha256=sha256_of(path),
            status=FileStatus.of(findings),
            forms=[replace(f.info, profile=profile_of(f).name) for f in workbook.forms],
            deviations=findings,
            score=file_score,
            notes=list(workbook.notes),
        )
        out.append(Checked(result, workbook))
    return out


def _not_paired(index: int, workbook: ReadWorkbook, pairs: Sequence[Pair]) -> list[Finding]:
    """An info finding for each 基础数据表 or 部门整体自评表 that had no partner: say that X01/X02 did not run."""
    paired = {ref for pair in pairs for ref in pair}
    rule = get("X00")
    assert rule is not None
    out: list[Finding] = []
    for at, form in enumerate(workbook.forms):
        if form.info.kind not in (FormKind.BASIC_DATA, FormKind.DEPT_SELF_EVAL) or (index, at) in paired:
            continue
        other = FormKind.DEPT_SELF_EVAL if isinstance(form, BasicData) else FormKind.BASIC_DATA
        anchor = form.unit_ref
        out.append(
            Finding(
                "X00",
                rule.severity,
                form.info.sheet,
                anchor.a1 if anchor else None,
                form.info.kind.label_zh,
                rule.template.format(other=other.label_zh),
                fix=rule.fix,
                params={"other": other.label_zh},
            )
        )
    return out


def check_files(paths: Sequence[Path], *, profile: str | None = None) -> list[Checked]:
    """Workbooks and written reports (.docx/.doc/.wps), each report against its unit's forms."""
    if profile:
        load(profile)  # an unknown profile is a usage error, before any file is read
    books = [p for p in paths if not is_report_path(p)]
    checked = check_workbooks(books, [read_one(p) for p in books], profile=profile)
    if len(books) == len(paths):
        return checked
    from perf_eval.narrative.check import attach_reports

    return attach_reports(paths, checked, profile=profile)


def check_paths(paths: Sequence[Path], *, profile: str | None = None) -> Report:
    """The public entry point: a `Report` whose `to_dict()` is the JSON contract."""
    return Report([c.result for c in check_files(paths, profile=profile)], __version__)
