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
    # B08 also needs the deviation to exceed this many 万元 (0: the relative threshold alone).
    budget_deviation_floor: float = 0.0

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
            budget_deviation_floor=float(thresholds.get("budget_deviation_floor", 0.0)),
        )
    except (KeyError, ValueError, TypeError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"配置文件 {path.name} 格式有误：{exc}") from exc


def default_for(kind: FormKind) -> Profile:
    for name in available():
        profile = load(name)
        if kind in profile.default_for:
            return profile
    raise ProfileError(f"没有适用于{kind.label_zh}的默认配置")
