"""Check workbooks: read → pair forms → rules → score → per-file results.

Read problems become per-file results (status "unreadable"), never an
exception that stops a batch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

from perf_eval import __version__
from perf_eval.forms import BasicData, Form, SelfEval
from perf_eval.model import FileResult, FileStatus, Finding, FormKind, Report, Score, Severity
from perf_eval.profiles import Profile, default_for, load
from perf_eval.reading import safety
from perf_eval.reading.locate import LOOKED_FOR
from perf_eval.reading.workbook import ReadWorkbook, read_workbook
from perf_eval.rules import engine
from perf_eval.rules.catalogue import get
from perf_eval.scoring import score
from perf_eval.values import normalize


@dataclass
class Checked:
    """One file's result, and what was read (for the annotated copy)."""

    result: FileResult
    workbook: ReadWorkbook | None


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
    return load(name) if name else default_for(form.info.kind)


def _key(form: Form) -> tuple[str, int | None] | None:
    unit = form.info.unit
    return (normalize(unit), form.info.year) if unit else None


def pair_forms(workbooks: Sequence[ReadWorkbook]) -> list[tuple[BasicData, SelfEval]]:
    """A unit's 基础数据表 with its 部门整体自评表: first within a workbook, then across files by unit and year."""
    pairs: list[tuple[BasicData, SelfEval]] = []
    loose_basic: list[BasicData] = []
    loose_eval: list[SelfEval] = []
    paths = {id(form): workbook.path for workbook in workbooks for form in workbook.forms}
    folders = {key: path.parent for key, path in paths.items()}
    for workbook in workbooks:
        basics = [f for f in workbook.forms if isinstance(f, BasicData)]
        evals = [f for f in workbook.forms if isinstance(f, SelfEval) and f.info.kind is FormKind.DEPT_SELF_EVAL]
        if len(basics) == 1 and len(evals) == 1:
            pairs.append((basics[0], evals[0]))
            continue
        loose_basic.extend(basics)
        loose_eval.extend(evals)
    for basic in loose_basic:
        # Every 自评表 of the unit and year is checked against its 基础数据表: a resubmitted file
        # beside the old one must not hide X01/X02 in either.
        matches = [e for e in loose_eval if _key(e) == _key(basic)] if _key(basic) else []
        if not matches and basic.info.unit is None:
            matches = _by_year(basic, loose_eval, folders)
        pairs.extend((basic, match) for match in matches)
    return _one_basic_per_eval(pairs, paths)


def _one_basic_per_eval(
    pairs: list[tuple[BasicData, SelfEval]], paths: dict[int, Path]
) -> list[tuple[BasicData, SelfEval]]:
    """Where two 基础数据表 of one unit and year (an old and a resubmitted one) both match a 自评表,
    keep the nearer: the same folder, then the file name most like the 自评表's (only a tie-break: the
    pairing itself is by the unit and year written in the forms)."""

    def nearness(basic: BasicData, evaluation: SelfEval) -> tuple[bool, float]:
        here, there = paths.get(id(basic)), paths.get(id(evaluation))
        if here is None or there is None:
            return (False, 0.0)
        return (here.parent == there.parent, SequenceMatcher(None, here.stem, there.stem).ratio())

    by_eval: dict[int, list[tuple[BasicData, SelfEval]]] = {}
    for pair in pairs:
        by_eval.setdefault(id(pair[1]), []).append(pair)
    kept: list[tuple[BasicData, SelfEval]] = []
    for candidates in by_eval.values():
        best = max(nearness(*pair) for pair in candidates)
        kept.extend(pair for pair in candidates if nearness(*pair) == best)
    return kept


def _by_year(basic: BasicData, evals: Sequence[SelfEval], folders: dict[int, Path]) -> list[SelfEval]:
    """A 基础数据表 without a unit name of its own: the 自评表 of its year, if they name one unit.

    In a shared folder of many units, those in the same folder as the 基础数据表 decide first.
    """
    same_year = [e for e in evals if e.info.year == basic.info.year]
    nearby = [e for e in same_year if folders.get(id(e)) == folders.get(id(basic))]
    for candidates in (nearby, same_year):
        if candidates and len({_key(e) for e in candidates}) == 1:
            return candidates
    return []


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
    paths: Sequence[Path], read: Sequence[ReadWorkbook | str], *, profile: str | None = None
) -> list[Checked]:
    """Rules and scores for already-read workbooks (the scan reads them in worker processes)."""
    workbooks = [w for w in read if isinstance(w, ReadWorkbook)]
    pairs = pair_forms(workbooks)
    paired_evals = {id(e): b for b, e in pairs}
    batches: list[tuple[list[engine.Candidate], Profile]] = []
    owners: list[int] = []
    for index, workbook in enumerate(read):
        if not isinstance(workbook, ReadWorkbook):
            continue
        for form in workbook.forms:
            form_profile = _profile_for(form, profile)
            batches.append((engine.form_candidates(form, form_profile), form_profile))
            owners.append(index)
            if isinstance(form, SelfEval) and id(form) in paired_evals:
                batches.append((engine.pair_candidates(paired_evals[id(form)], form, form_profile), form_profile))
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
                Finding("F01", rule.severity, None, None, "工作簿", rule.template.format(looked_for=LOOKED_FOR))
            ]
        evals = [f for f in workbook.forms if isinstance(f, SelfEval)]
        file_score: Score | None = score(evals[0], _profile_for(evals[0], profile)) if evals else None
        serious = any(f.severity in (Severity.ERROR, Severity.WARNING) for f in findings)
        result = FileResult(
            path=str(path),
            sha256=sha256_of(path),
            status=FileStatus.DEVIATIONS if serious else FileStatus.CLEAN,
            forms=[f.info for f in workbook.forms],
            deviations=findings,
            score=file_score,
            notes=list(workbook.notes),
        )
        out.append(Checked(result, workbook))
    return out


def check_files(paths: Sequence[Path], *, profile: str | None = None) -> list[Checked]:
    if profile:
        load(profile)  # an unknown profile is a usage error, before any file is read
    return check_workbooks(paths, [read_one(p) for p in paths], profile=profile)


def check_paths(paths: Sequence[Path], *, profile: str | None = None) -> Report:
    """The public entry point: a `Report` whose `to_dict()` is the JSON contract."""
    return Report([c.result for c in check_files(paths, profile=profile)], __version__)
