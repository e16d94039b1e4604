"""Profiles: the rule parameters of a province and year, read from TOML files.

Where profiles come from, first match wins:

1. a path given to ``--profile`` (anything ending in ``.toml`` or naming a file);
2. the profiles folders: ``--profiles-dir`` (`configure`), then the folders of
   the environment variable ``PERF_EVAL_PROFILES`` (several joined by the
   system's path separator);
3. the built-in ones: a wheel carries them inside the package
   (`perf_eval/schemas`, hatch force-include); a source checkout reads the
   top-level `schemas/`.

A folder profile named like a built-in one replaces it. A profile may say
``extends = "other"`` and give only what differs: tables are merged key by
key (``default_for`` is never inherited). Its name is its file name without
``.toml``. Which keys a file may hold is derived from the `Profile` fields in
one place (`_TOML_PATH` and `_schema`): a field added to `Profile` is a valid
top-level key at once. Unknown keys, unknown rule IDs and malformed values
are errors that name the file, the key and the line.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import tomllib
import types
import typing
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from perf_eval.errors import PerfEvalError
from perf_eval.model import FormKind, Severity

_PACKAGED = Path(__file__).parent / "schemas"
_SOURCE = Path(__file__).parent.parent / "schemas"
ENV_VAR = "PERF_EVAL_PROFILES"
SUFFIX = ".toml"


class ProfileError(PerfEvalError):
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
    # Rules the profile turns off ("B08" = "off" in its [severity] table).
    disabled: frozenset[str] = frozenset()
    # B08 also needs the deviation to exceed this many 万元 (0: the relative threshold alone).
    budget_deviation_floor: float = 0.0
    # The layout family this profile judges (A, A′, B … J), recognised from the form's labels.
    family: str | None = None
    description: str = ""
    # How the family's forms round a computed score (执行率得分, 指标得分 = 权重 × 系数): a written score equal
    # to the exact one rounded by one of these conventions is a warning, not an error.
    rounding: tuple[str, ...] = ("round",)
    # The labels of the row that holds the total score (总分, 合计, 自评总分, 项目总得分).
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


# --- the TOML layout of `Profile`: the one place that says which keys a file may hold ------------

# Fields stored in a table under another name; every other field is a top-level key of its own name.
_TOML_PATH: dict[str, tuple[str, str]] = {
    "amount_tolerance": ("tolerance", "amount"),
    "score_tolerance": ("tolerance", "score"),
    "rate_tolerance": ("tolerance", "rate"),
    "budget_deviation": ("thresholds", "budget_deviation"),
    "budget_deviation_floor": ("thresholds", "budget_deviation_floor"),
    "target_exceeded": ("thresholds", "target_exceeded"),
    "total": ("thresholds", "total"),
}
# Fields written as a table of free keys (their keys are data: indicator names, grades, rule IDs).
_OPEN_TABLES = ("weights", "grades", "severity")
# Keys of the file that are not fields: how the file is composed.
_META_KEYS = ("extends",)
# Fields a file never gives itself (the name is the file's) or never inherits.
_NOT_INHERITED = ("default_for",)
# Fields computed from other keys, never written under their own name ("off" in [severity] → disabled).
_DERIVED = ("disabled",)
# A level of the [severity] table that turns a rule off (`perf-eval schemas` no longer lists its checks).
OFF = "off"


@dataclass(frozen=True)
class _Schema:
    top: frozenset[str]  # top-level keys that hold a value
    tables: dict[str, frozenset[str] | None]  # table → its keys (None: any key)


@cache
def _schema() -> _Schema:
    tables: dict[str, set[str] | None] = {}
    top: set[str] = set(_META_KEYS)
    for each in dataclasses.fields(Profile):
        if each.name in _DERIVED:
            continue
        if each.name in _TOML_PATH:
            table, key = _TOML_PATH[each.name]
            keys = tables.setdefault(table, set())
            assert keys is not None
            keys.add(key)
        elif each.name in _OPEN_TABLES:
            tables[each.name] = None
        else:
            top.add(each.name)
    return _Schema(frozenset(top), {k: (frozenset(v) if v is not None else None) for k, v in tables.items()})


# --- where profiles are ------------------------------------------------------------------------

_configured: tuple[Path, ...] = ()


def configure(folders: list[Path] | tuple[Path, ...] | None) -> None:
    """The profiles folders of ``--profiles-dir`` (searched before ``PERF_EVAL_PROFILES``)."""
    global _configured
    _configured = tuple(folders or ())
    _clear()


def _clear() -> None:
    load.cache_clear()
    _read.cache_clear()


def schemas_dir() -> Path:
    """The built-in profiles."""
    return _PACKAGED if _PACKAGED.is_dir() else _SOURCE


@dataclass(frozen=True)
class Source:
    """A folder searched for profiles, and how it was configured."""

    folder: Path
    kind: str  # "option" | "env" | "builtin"

    @property
    def label_zh(self) -> str:
        return {"option": "文件夹（--profiles-dir）", "env": f"文件夹（{ENV_VAR}）", "builtin": "内置"}[self.kind]


def sources() -> list[Source]:
    """The folders searched for a profile name, first match first."""
    found = [Source(folder, "option") for folder in _configured]
    env = os.environ.get(ENV_VAR, "")
    found += [Source(Path(part), "env") for part in env.split(os.pathsep) if part.strip()]
    found.append(Source(schemas_dir(), "builtin"))
    return found


@dataclass(frozen=True)
class Located:
    """A profile file and where it was found."""

    name: str
    path: Path
    source: str  # "option" | "env" | "builtin" | "file"
    shadows: tuple[Path, ...] = ()  # files of the same name further down the search order

    @property
    def source_zh(self) -> str:
        if self.source == "file":
            return "文件"
        return Source(self.path.parent, self.source).label_zh


def _folder_files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.glob(f"*{SUFFIX}") if p.is_file())
    except OSError:
        return []


def located() -> list[Located]:
    """Every profile that a name can reach, by name, with the files it hides."""
    by_name: dict[str, Located] = {}
    for source in sources():
        for path in _folder_files(source.folder):
            known = by_name.get(path.stem)
            if known is None:
                by_name[path.stem] = Located(path.stem, path, source.kind)
            else:
                by_name[path.stem] = dataclasses.replace(known, shadows=(*known.shadows, path))
    return [by_name[name] for name in sorted(by_name)]


def missing_folders() -> list[Source]:
    return [s for s in sources() if s.kind != "builtin" and not s.folder.is_dir()]


def available() -> list[str]:
    return [each.name for each in located()]


def is_path(spec: str) -> bool:
    """A ``--profile`` value that names a file rather than a profile."""
    return spec.endswith(SUFFIX) or "/" in spec or os.sep in spec or (os.altsep or "/") in spec


def locate(spec: str) -> Located:
    """The file a ``--profile`` value means; `ProfileError` if there is none."""
    if is_path(spec):
        path = Path(spec).expanduser()
        if not path.is_file():
            where = f"（即 {path.resolve()}）" if not path.is_absolute() else ""
            raise ProfileError(f"配置文件不存在：{spec}{where}")
        return Located(path.stem, path.resolve(), "file")
    for each in located():
        if each.name == spec:
            return each
    hint = ""
    if Path(spec + SUFFIX).is_file():
        hint = f"。当前文件夹中有 {spec}{SUFFIX}：请写出路径，如 --profile ./{spec}{SUFFIX}"
    raise ProfileError(
        f"未知的配置“{spec}”，可用：{'、'.join(available())}{hint}（perf-eval profiles 列出全部配置及其位置）"
    )


# --- reading a file ----------------------------------------------------------------------------


@cache
def _read(path: Path) -> tuple[dict[str, Any], str]:
    """The parsed TOML of `path` and its text; `ProfileError` with the line of a syntax error."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ProfileError(f"配置文件 {path} 无法读取：{exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ProfileError(f"配置文件 {path} 不是 UTF-8 编码的文本，请另存为 UTF-8") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        where = f" 第 {match.group(1)} 行第 {match.group(2)} 列" if match else ""
        detail = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise ProfileError(f"配置文件 {path}{where}：不是有效的 TOML（{detail}）") from None


def _line_of(text: str, table: str | None, key: str) -> int | None:
    """The line (1-based) where `key` is set in `[table]` (or at the top when `table` is None)."""
    current: str | None = None
    header = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*(#.*)?$")
    for number, line in enumerate(text.splitlines(), start=1):
        found = header.match(line)
        if found:
            current = found.group(1).strip().strip("\"'")
            if table is None and current == key:
                return number
            continue
        if current != table:
            continue
        stripped = line.lstrip()
        for quoted in (key, f'"{key}"', f"'{key}'"):
            if stripped.startswith(quoted) and stripped[len(quoted) :].lstrip().startswith("="):
                return number
    return None


class _FileErrors:
    def __init__(self, path: Path, text: str) -> None:
        self.path, self.text = path, text

    def error(self, table: str | None, key: str, problem: str) -> ProfileError:
        line = _line_of(self.text, table, key)
        where = f" 第 {line} 行" if line else ""
        shown = f"{table}.{key}" if table else key
        return ProfileError(f"配置文件 {self.path}{where}：{shown} {problem}")


def _check_keys(data: dict[str, Any], errors: _FileErrors) -> None:
    schema = _schema()
    for key, value in data.items():
        if key in schema.tables:
            if not isinstance(value, dict):
                raise errors.error(None, key, "应为一个表（[" + key + "] 开头的一节）")
            allowed = schema.tables[key]
            if allowed is None:
                continue
            for sub in value:
                if sub not in allowed:
                    raise errors.error(key, sub, f"不是可用的键；[{key}] 中可用：{'、'.join(sorted(allowed))}")
        elif key not in schema.top:
            known = sorted(schema.top | set(schema.tables))
            raise errors.error(None, key, f"不是可用的键；可用：{'、'.join(known)}")


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _raw(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The file's table, merged over the one it extends, checked key by key."""
    data, text = _read(path)
    errors = _FileErrors(path, text)
    _check_keys(data, errors)
    parent_spec = data.get("extends")
    if parent_spec is None:
        return dict(data)
    if not isinstance(parent_spec, str) or not parent_spec:
        raise errors.error(None, "extends", "应为另一个配置的名称或文件路径（带引号的文字）")
    if is_path(parent_spec) and not Path(parent_spec).is_absolute():
        parent_spec = str(path.parent / parent_spec)
    try:
        parent = _parent(parent_spec, path)
    except ProfileError as exc:
        raise errors.error(None, "extends", f"无法使用：{exc.reason}") from None
    if parent in chain or parent == path:
        raise errors.error(None, "extends", "循环引用：" + " → ".join(p.name for p in (*chain, path, parent)))
    base = _raw(parent, (*chain, path))
    for key in _NOT_INHERITED:
        base.pop(key, None)
    if "family" not in data and "default_for" not in data:
        # A profile judges a family's forms by itself only when it says so (its own `family`, or a
        # `default_for` that makes it the bureau's default); else it is used where it is passed.
        base.pop("family", None)
    base.pop("extends", None)
    return _merge(base, {k: v for k, v in data.items() if k != "extends"})


def _parent(spec: str, child: Path) -> Path:
    """What ``extends`` names: a file, or a profile by name (not the child itself: a same-named built-in)."""
    if is_path(spec):
        return locate(spec).path
    for source in sources():
        candidate = source.folder / f"{spec}{SUFFIX}"
        if candidate.is_file() and candidate.resolve() != child.resolve():
            return candidate.resolve() if source.kind != "builtin" else candidate
    raise ProfileError(f"未知的配置“{spec}”，可用：{'、'.join(available())}")


@cache  # evaluating the annotations costs more than reading a profile's TOML
def _field_types() -> dict[str, Any]:
    return typing.get_type_hints(Profile)


def _convert(value: Any, hint: Any, problem: Any) -> Any:
    """A TOML value as the field's type; `problem(text)` raises for a wrong one."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        others = [a for a in args if a is not type(None)]
        return _convert(value, others[0], problem) if len(others) == 1 else value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise problem(f"应为数字，写的是 {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise problem(f"应为整数，写的是 {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise problem(f"应为 true 或 false，写的是 {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise problem(f"应为文字（带引号），写的是 {value!r}")
        return value
    if origin in (tuple, list) and args:
        if not isinstance(value, list):
            raise problem(f"应为列表（[...]），写的是 {value!r}")
        return tuple(_convert(v, args[0], problem) for v in value)
    if isinstance(hint, type) and issubclass(hint, FormKind):
        try:
            return FormKind(value)
        except ValueError:
            raise problem(f"不是表单类型：{value!r}，可用：{'、'.join(k.value for k in FormKind)}") from None
    return value


def _build(name: str, data: dict[str, Any], path: Path) -> Profile:
    errors = _FileErrors(path, _read(path)[1])
    hints = _field_types()
    values: dict[str, Any] = {}
    for each in dataclasses.fields(Profile):
        table, key = _TOML_PATH.get(each.name, (None, each.name))
        container = data.get(table, {}) if table else data
        has_default = each.default is not dataclasses.MISSING or each.default_factory is not dataclasses.MISSING
        if each.name == "name":
            values["name"] = name
            continue
        if key not in container:
            if each.name == "default_for":
                values["default_for"] = ()
                continue
            if has_default:
                continue
            where = f"[{table}] 中的 {key}" if table else key
            raise ProfileError(f"配置文件 {path}：缺少 {where}（也可用 extends 继承另一个配置）")

        def problem(text: str, table: str | None = table, key: str = key) -> ProfileError:
            return errors.error(table, key, text)

        raw = container[key]
        if each.name == "weights":
            values["weights"] = {
                k: _convert(v, float, lambda t, k=k: errors.error("weights", k, t)) for k, v in raw.items()
            }
        elif each.name == "grades":
            bounds = [(k, _convert(v, float, lambda t, k=k: errors.error("grades", k, t))) for k, v in raw.items()]
            if not bounds:
                raise problem("不能为空")
            values["grades"] = tuple(sorted(bounds, key=lambda kv: -kv[1]))
        elif each.name == "severity":
            values["severity"] = _severities({k: v for k, v in raw.items() if v != OFF}, errors)
            values["disabled"] = frozenset(_severities({k: "error" for k, v in raw.items() if v == OFF}, errors))
        else:
            values[each.name] = _convert(raw, hints[each.name], problem)
    return Profile(**values)


_rule_ids: Callable[[], Collection[str]] | None = None


def use_rule_ids(known: Callable[[], Collection[str]]) -> None:
    """Where the rule IDs come from (the rule catalogue registers itself: rules sit above profiles).

    The IDs, and each case a profile may set apart as "RULE.case" (S10.explained).
    """
    global _rule_ids
    _rule_ids = known


def _severities(raw: dict[str, Any], errors: _FileErrors) -> dict[str, Severity]:
    known = set(_rule_ids()) if _rule_ids is not None else None
    out: dict[str, Severity] = {}
    for rule_id, level in raw.items():
        # "S10.explained": a case of a rule (docs/severity.md); the rule and its case must exist.
        rule = rule_id.split(".", 1)[0]
        if known is not None and rule not in known:
            raise errors.error("severity", rule_id, "不是已知的规则编号（perf-eval rules 列出全部规则）")
        if known is not None and rule_id != rule and rule_id not in known:
            cases = sorted(k for k in known if k.startswith(f"{rule}."))
            if cases:
                raise errors.error("severity", rule_id, f"不是 {rule} 的已知情形，可用：{'、'.join(cases)}")
            raise errors.error("severity", rule_id, f"无效：{rule} 没有可单独设置的情形，请写 {rule}")
        try:
            out[rule_id] = Severity(level)
        except ValueError:
            choices = "、".join([*(f"{s.value}（{s.label_zh}）" for s in Severity), f"{OFF}（不运行）"])
            raise errors.error("severity", rule_id, f"的级别 {level!r} 无效，可用：{choices}") from None
    return out


@cache
def load(spec: str) -> Profile:
    """The profile a ``--profile`` value names (a name or a path); `ProfileError` otherwise."""
    where = locate(spec)
    return _load_file(where.name, where.path)


def _load_file(name: str, path: Path) -> Profile:
    return _build(name, _raw(path), path)


def check_file(each: Located) -> Profile:
    """Load one located profile (for the listing); `ProfileError` if it is malformed."""
    return _load_file(each.name, each.path)


_SOURCE_RANK = {"option": 0, "env": 1, "builtin": 2}


def default_for(kind: FormKind) -> Profile:
    """The profile for a form kind when none is given: a folder's profile that says so comes before the built-in ones."""
    for each in sorted(located(), key=lambda e: (_SOURCE_RANK.get(e.source, 3), e.name)):
        profile = load(each.name)
        if kind in profile.default_for:
            return profile
    raise ProfileError(f"没有适用于{kind.label_zh}的默认配置")


def signature(spec: str | None) -> str:
    """What the results depend on: the chosen profile and the content of every profile file that a name can reach."""
    hasher = hashlib.sha256((spec or "").encode())
    files: list[tuple[Path, str]] = [(each.path, each.source) for each in located()]
    if spec and is_path(spec):
        files.append((Path(spec).expanduser().resolve(), "file"))
    for path, source in files:
        # A built-in profile is named, not placed: where the package is installed (another venv, a
        # copy beside an editable checkout) changes no result, so it must not empty the scan's cache.
        hasher.update((f"builtin:{path.name}" if source == "builtin" else str(path)).encode())
        try:
            hasher.update(path.read_bytes())
        except OSError:
            hasher.update(b"-")
    return hasher.hexdigest()


def for_family(family: str | None, kind: FormKind, *, scores_execution: bool = True) -> Profile:
    """The profile of a layout family, else the kind's default.

    Among a family's profiles, the one whose forms score execution as this form does (C has a variant
    without an execution score), then the one also default for this kind.
    """
    if family is not None:
        # A profile of the bureau's own folders (which may extend a built-in one of the family) comes first.
        own = {each.name: each.source != "builtin" for each in located()}
        matching = [p for p in (load(name) for name in available()) if p.family == family]
        if matching:
            matching.sort(
                key=lambda p: (p.scores_execution != scores_execution, kind not in p.default_for, not own.get(p.name))
            )
            return matching[0]
    return default_for(kind)


def describe(profile: Profile) -> Iterator[tuple[str, str]]:
    """Optional descriptive keys a profile may carry (``family``, ``description``), for the listing."""
    for key in ("family", "description"):
        value = getattr(profile, key, None)
        if value:
            yield key, str(value)


def naming(rule_id: str) -> list[str]:
    """The available profiles whose [severity] table names a rule (those that turn an optional rule on)."""
    out = []
    for name in available():
        try:
            if rule_id in load(name).severity:
                out.append(name)
        except ProfileError:
            continue
    return out
