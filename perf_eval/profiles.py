"""Profiles: the rule parameters of a province and year, read from `schemas/*.toml`.

A wheel carries the files inside the package (`perf_eval/schemas`, hatch
force-include); a source checkout reads the top-level `schemas/`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from perf_eval.model import FormKind, Severity

_PACKAGED = Path(__file__).parent / "schemas"
_SOURCE = Path(__file__).parent.parent / "schemas"


class ProfileError(Exception):
    """A profile that does not exist or cannot be read; `reason` is Chinese."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    default_for: tuple[FormKind, ...]
    amount_tolerance: float
    score_tolerance: float
    rate_tolerance: float
    budget_deviation: float
    target_exceeded: float
    total: float
    weights: dict[str, float]
    grades: tuple[tuple[str, float], ...]
    severity: dict[str, Severity] = field(default_factory=dict)
    # The layout family this profile judges (A, A′, B … J), recognised from the form's labels.
    family: str | None = None
    description: str = ""
    # How the family's forms round a computed score (执行率得分, 指标得分 = 权重 × 系数): a written score equal
    # to the exact value rounded this way to the decimals shown is a warning, not an error. "round" is
    # half-up, "floor" truncates, "ceil" rounds up.
    rounding: tuple[str, ...] = ("round",)
    # Labels of the row that holds the form's total (总分; Sichuan's 合计 is the 总分).
    total_labels: tuple[str, ...] = ("总分",)
    # False for a family variant whose funds block carries no execution score (its weights differ).
    scores_execution: bool = True

    @property
    def execution_rate_weight(self) -> float | None:
        return self.weights.get("执行率")

    def grade(self, total: float) -> str:
        for name, bound in self.grades:
            if total >= bound - 1e-9:
                return name
        return self.grades[-1][0]


def schemas_dir() -> Path:
    return _PACKAGED if _PACKAGED.is_dir() else _SOURCE


def available() -> list[str]:
    return sorted(p.stem for p in schemas_dir().glob("*.toml"))


@cache
def load(name: str) -> Profile:
    path = schemas_dir() / f"{name}.toml"
    if not path.is_file():
        raise ProfileError(f"未知的配置“{name}”，可用：{'、'.join(available())}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        tolerance, thresholds = data["tolerance"], data["thresholds"]
        grades = sorted(((k, float(v)) for k, v in data["grades"].items()), key=lambda kv: -kv[1])
        return Profile(
            name=data["name"],
            title=data["title"],
            default_for=tuple(FormKind(k) for k in data.get("default_for", [])),
            amount_tolerance=float(tolerance["amount"]),
            score_tolerance=float(tolerance["score"]),
            rate_tolerance=float(tolerance["rate"]),
            budget_deviation=float(thresholds["budget_deviation"]),
            target_exceeded=float(thresholds["target_exceeded"]),
            total=float(thresholds["total"]),
            weights={k: float(v) for k, v in data["weights"].items()},
            grades=tuple(grades),
            severity={k: Severity(v) for k, v in data.get("severity", {}).items()},
            family=data.get("family"),
            description=str(data.get("description", "")),
            rounding=tuple(data.get("rounding", ("round",))),
            total_labels=tuple(data.get("total_labels", ("总分",))),
            scores_execution=bool(data.get("scores_execution", True)),
        )
    except (KeyError, ValueError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"配置文件 {path.name} 格式有误：{exc}") from exc


def default_for(kind: FormKind) -> Profile:
    for name in available():
        profile = load(name)
        if kind in profile.default_for:
            return profile
    raise ProfileError(f"没有适用于{kind.label_zh}的默认配置")


def for_family(family: str | None, kind: FormKind, *, scores_execution: bool = True) -> Profile:
    """The profile of a layout family, else the kind's default.

    Among a family's profiles, the one whose forms score execution as this form does (C has a variant
    without an execution score), then the one also default for this kind.
    """
    if family is not None:
        matching = [p for p in (load(name) for name in available()) if p.family == family]
        if matching:
            matching.sort(key=lambda p: (p.scores_execution != scores_execution, kind not in p.default_for))
            return matching[0]
    return default_for(kind)
