"""Which 基础数据表 goes with which 部门整体自评表: decided from small identity records.

`checker.pair_forms` (the `check` command) and the folder scan both pair
through `pair_keys`, the only implementation of the pairing rules. It needs
no more of a form than a `FormKey` (its kind, unit, year and sheet) and of a
workbook than its path (folder and file name are tie-breaks), so the scan can
keep these records in its cache and pair a thousand workbooks without
loading any of them. This module must stay light to import (no pandas).

The rules:

1. A workbook holding exactly one 基础数据表 and one 部门整体自评表: those two.
2. Every other 基础数据表 with every other 部门整体自评表 of the same unit
   (normalized name) and year, across files and folders: a resubmitted file
   beside the old one must not hide X01/X02 in either.
3. A 基础数据表 that names no unit: the 自评表 of its year in its own folder if
   they name one unit, else those under the folder above it, and so on up (a
   unit's folder with 基础数据/ and 自评表/ inside), else those of the whole
   set if they name one unit.
4. Where two 基础数据表 both match one 自评表 (an old and a resubmitted one),
   the nearer is kept: the same folder, then the file name most like the
   自评表's. Only a tie-break: the pairing itself is by unit and year.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from perf_eval.forms import BasicData, SelfEval
from perf_eval.model import FormInfo, FormKind
from perf_eval.values import normalize

if TYPE_CHECKING:
    from perf_eval.forms import Form

FormRef = tuple[int, int]  # (workbook index, form index within the workbook)
Pair = tuple[FormRef, FormRef]  # (the 基础数据表, the 部门整体自评表)


class Role(StrEnum):
    BASIC = "basic"  # a 基础数据表
    EVAL = "eval"  # a 部门整体支出绩效自评表


@dataclass(frozen=True)
class FormKey:
    """What pairing needs of one form (and what the scan reports of an unpaired one)."""

    info: FormInfo
    role: Role | None  # None: a form that is never paired (a 项目支出绩效自评表)

    def to_json(self) -> list[object]:
        info = self.info
        role = self.role.value if self.role else None
        # The family and profile too: a cached read must report an unpaired form as a fresh read does.
        return [info.kind.value, info.sheet, info.unit, info.year, info.title, role, info.family, info.profile]

    @classmethod
    def from_json(cls, data: Sequence[Any]) -> FormKey:
        kind, sheet, unit, year, title, role, *rest = data
        family, profile = (*rest, None, None)[:2]
        info = FormInfo(
            FormKind(kind),
            str(sheet),
            None if unit is None else str(unit),
            None if year is None else int(year),
            str(title),
            None if family is None else str(family),
            None if profile is None else str(profile),
        )
        return cls(info, None if role is None else Role(role))


@dataclass(frozen=True)
class WorkbookKey:
    """A workbook as pairing sees it: where it is, and its forms in order."""

    path: PurePath
    forms: tuple[FormKey, ...]


def form_key(form: Form) -> FormKey:
    if isinstance(form, BasicData):
        return FormKey(form.info, Role.BASIC)
    if isinstance(form, SelfEval) and form.info.kind is FormKind.DEPT_SELF_EVAL:
        return FormKey(form.info, Role.EVAL)
    return FormKey(form.info, None)


def form_keys(forms: Sequence[Form]) -> tuple[FormKey, ...]:
    return tuple(form_key(form) for form in forms)


def pair_keys(workbooks: Sequence[WorkbookKey]) -> list[Pair]:
    """The pairs, as references into `workbooks`, in a stable order (see the module's rules)."""
    pairs: list[Pair] = []
    loose_basic: list[FormRef] = []
    loose_eval: list[FormRef] = []
    for index, workbook in enumerate(workbooks):
        basics = [(index, at) for at, key in enumerate(workbook.forms) if key.role is Role.BASIC]
        evals = [(index, at) for at, key in enumerate(workbook.forms) if key.role is Role.EVAL]
        if len(basics) == 1 and len(evals) == 1:
            pairs.append((basics[0], evals[0]))
            continue
        loose_basic.extend(basics)
        loose_eval.extend(evals)
    if loose_basic and loose_eval:
        pairs.extend(_loose_pairs(workbooks, loose_basic, loose_eval))
    return _one_basic_per_eval(pairs, workbooks)


def _info(workbooks: Sequence[WorkbookKey], ref: FormRef) -> FormInfo:
    return workbooks[ref[0]].forms[ref[1]].info


def _unit_year(info: FormInfo) -> tuple[str, int | None] | None:
    return (normalize(info.unit), info.year) if info.unit else None


def _loose_pairs(workbooks: Sequence[WorkbookKey], loose_basic: list[FormRef], loose_eval: list[FormRef]) -> list[Pair]:
    """Rules 2 and 3. Every list keeps the order of `loose_eval`."""
    eval_key = {ref: _unit_year(_info(workbooks, ref)) for ref in loose_eval}
    by_key: dict[tuple[str, int | None], list[FormRef]] = {}
    by_year: dict[int | None, list[FormRef]] = {}
    for ref in loose_eval:
        key = eval_key[ref]
        if key is not None:
            by_key.setdefault(key, []).append(ref)
        by_year.setdefault(_info(workbooks, ref).year, []).append(ref)
    pairs: list[Pair] = []
    for basic in loose_basic:
        info = _info(workbooks, basic)
        key = _unit_year(info)
        matches = by_key.get(key, []) if key is not None else []
        if not matches and info.unit is None:
            # Rule 3: in a shared folder of many units, those in the 基础数据表's own folder decide first,
            # then those under each folder above it (a unit's folder with 基础数据/ and 自评表/ inside).
            same_year = by_year.get(info.year, [])
            folder = workbooks[basic[0]].path.parent
            nearby = [ref for ref in same_year if workbooks[ref[0]].path.parent == folder]
            above = [
                [ref for ref in same_year if ancestor in workbooks[ref[0]].path.parents] for ancestor in folder.parents
            ]
            for candidates in (nearby, *above, same_year):
                if candidates and len({eval_key[ref] for ref in candidates}) == 1:
                    matches = candidates
                    break
        pairs.extend((basic, match) for match in matches)
    return pairs


def _one_basic_per_eval(pairs: list[Pair], workbooks: Sequence[WorkbookKey]) -> list[Pair]:
    """Rule 4: of several 基础数据表 matching one 自评表, keep the nearest (ties: all of them)."""
    by_eval: dict[FormRef, list[Pair]] = {}
    for pair in pairs:
        by_eval.setdefault(pair[1], []).append(pair)
    kept: list[Pair] = []
    for candidates in by_eval.values():
        if len(candidates) == 1:
            kept.extend(candidates)
            continue
        nearness = [_nearness(workbooks[b[0]].path, workbooks[e[0]].path) for b, e in candidates]
        best = max(nearness)
        kept.extend(pair for pair, near in zip(candidates, nearness, strict=True) if near == best)
    return kept


def _nearness(basic: PurePath, evaluation: PurePath) -> tuple[bool, float]:
    return (basic.parent == evaluation.parent, SequenceMatcher(None, basic.stem, evaluation.stem).ratio())


__all__ = ["FormKey", "FormRef", "Pair", "Role", "WorkbookKey", "form_key", "form_keys", "pair_keys"]
