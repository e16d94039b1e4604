"""Profiles of their own: by name from a folder, by relative or absolute path, `extends`, and clear errors."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import perf_eval.rules  # noqa: F401  (as every caller does: the rule IDs a [severity] table may name)
from perf_eval import profiles
from perf_eval.cli import app
from perf_eval.profiles import ProfileError, configure, load, schemas_dir

SAMPLES = Path(__file__).resolve().parents[1] / "sample_workbooks"
SEED = SAMPLES / "lusong-2023-seed.xlsx"


@pytest.fixture(autouse=True)
def _no_configured_folders(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(profiles.ENV_VAR, raising=False)
    configure(None)
    yield
    configure(None)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


LENIENT = """\
extends = "hunan-2023"
title = "宽松的预算偏差"

[thresholds]
budget_deviation = 0.99

[weights]
"产出指标" = 45
"""


def test_a_name_is_found_in_the_profiles_folder_of_the_option_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path / "甲/lenient.toml", LENIENT)
    with pytest.raises(ProfileError, match="未知的配置“lenient”"):
        load("lenient")
    configure([tmp_path / "甲"])
    assert load("lenient").budget_deviation == 0.99
    configure(None)
    monkeypatch.setenv(profiles.ENV_VAR, str(tmp_path / "甲"))
    profile = load("lenient")
    assert profile.name == "lenient" and profile.title == "宽松的预算偏差"
    assert ("hunan-2023", "builtin") in [(p.name, p.source) for p in profiles.located()]
    assert ("lenient", "env") in [(p.name, p.source) for p in profiles.located()]


def test_extends_changes_only_what_differs(tmp_path: Path) -> None:
    base = load("hunan-2023")
    profile = load(str(_write(tmp_path / "lenient.toml", LENIENT)))
    assert profile.budget_deviation == 0.99
    # Tables merge key by key: one weight changed, the others and every other table inherited.
    assert profile.weights == {**base.weights, "产出指标": 45.0}
    assert (profile.target_exceeded, profile.total, profile.grades) == (
        base.target_exceeded,
        base.total,
        base.grades,
    )
    assert (profile.amount_tolerance, profile.score_tolerance) == (base.amount_tolerance, base.score_tolerance)
    # A copy never becomes the default for a form kind just by extending the default.
    assert base.default_for and profile.default_for == ()


def test_relative_and_absolute_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path / "配置/lenient.toml", LENIENT)
    monkeypatch.chdir(tmp_path)
    assert load("./配置/lenient.toml").budget_deviation == 0.99
    assert load("配置/lenient.toml").name == "lenient"
    assert load(str(tmp_path / "配置/lenient.toml")).budget_deviation == 0.99
    with pytest.raises(ProfileError, match=r"配置文件不存在：\./配置/没有\.toml"):
        load("./配置/没有.toml")
    # A bare name that is a file in the current folder: the message says to write it as a path.
    _write(tmp_path / "hunan-2024.toml", LENIENT)
    with pytest.raises(ProfileError, match=r"--profile \./hunan-2024\.toml"):
        load("hunan-2024")


def test_extends_a_file_next_to_it_and_refuses_a_cycle(tmp_path: Path) -> None:
    _write(tmp_path / "base.toml", LENIENT)
    child = _write(tmp_path / "child.toml", 'extends = "./base.toml"\n[thresholds]\ntarget_exceeded = 3\n')
    profile = load(str(child))
    assert (profile.budget_deviation, profile.target_exceeded) == (0.99, 3.0)
    _write(tmp_path / "a.toml", 'extends = "./b.toml"\n')
    _write(tmp_path / "b.toml", 'extends = "./a.toml"\n')
    with pytest.raises(ProfileError, match="循环引用"):
        load(str(tmp_path / "a.toml"))


@pytest.mark.parametrize(
    ("text", "line", "key", "problem"),
    [
        ('extends = "hunan-2023"\n\n[tolerance]\namout = 0.1\n', 4, "tolerance.amout", "不是可用的键"),
        ('extends = "hunan-2023"\ncolour = "red"\n', 2, "colour", "不是可用的键"),
        ('extends = "hunan-2023"\n[severity]\nB08 = "info"\nZ99 = "info"\n', 4, "severity.Z99", "不是已知的规则编号"),
        ('extends = "hunan-2023"\n[severity]\nB08 = "loud"\n', 3, "severity.B08", "级别 'loud' 无效"),
        # A misspelt case of a known rule would silently change nothing.
        ('extends = "hunan-2023"\n[severity]\n"S10.explaned" = "info"\n', 3, "severity.S10.explaned", "S10.explained"),
        (
            'extends = "hunan-2023"\n[severity]\n"B09.anything" = "off"\n',
            3,
            "severity.B09.anything",
            "没有可单独设置的情形",
        ),
        ('extends = "hunan-2023"\n[thresholds]\ntotal = "一百"\n', 3, "thresholds.total", "应为数字"),
        ('extends = "hunan-2023"\n[grades]\n"优" = true\n', 3, "grades.优", "应为数字"),
        ('extends = "没有这个"\n', 1, "extends", "未知的配置“没有这个”"),
    ],
)
def test_a_wrong_key_or_value_names_the_file_the_key_and_the_line(
    tmp_path: Path, text: str, line: int, key: str, problem: str
) -> None:
    path = _write(tmp_path / "坏的.toml", text)
    with pytest.raises(ProfileError) as caught:
        load(str(path))
    reason = caught.value.reason
    assert str(path) in reason and f"第 {line} 行" in reason and key in reason and problem in reason, reason


def test_malformed_toml_names_the_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "坏的.toml", 'extends = "hunan-2023"\n[thresholds\n')
    with pytest.raises(ProfileError, match=r"坏的.toml 第 2 行第 \d+ 列：不是有效的 TOML"):
        load(str(path))
    missing = _write(tmp_path / "缺项.toml", 'title = "没有继承"\n')
    with pytest.raises(ProfileError, match=r"缺少 \[tolerance\] 中的 amount"):
        load(str(missing))


def test_every_built_in_profile_loads_with_its_own_keys() -> None:
    for path in sorted(schemas_dir().glob("*.toml")):
        profile = load(path.stem)
        # A family's profile is chosen by the form's labels; the others are the defaults of form kinds.
        assert profile.name == path.stem and profile.title and (profile.default_for or profile.family)


# --- the command line --------------------------------------------------------------------------


def _check_json(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(app, ["check", str(SEED), "--no-annotate", "--format", "json", *args])
    assert result.exit_code in (0, 1), result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_the_readme_workflow_copy_change_pass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """README: `perf-eval profiles NAME > copy.toml`, change it, pass `--profile ./copy.toml` (or its name in a folder)."""
    listing = CliRunner().invoke(app, ["profiles"])
    assert listing.exit_code == 0, listing.output
    assert "hunan-2023" in listing.stdout and "内置" in listing.stdout
    monkeypatch.chdir(tmp_path)
    copied = CliRunner().invoke(app, ["profiles", "hunan-2023"])  # perf-eval profiles hunan-2023 > hunan-2024.toml
    assert copied.exit_code == 0 and "budget_deviation = 0.20" in copied.stdout
    assert "\n# default_for = " in copied.stdout  # a copy is no default unless it says so
    (tmp_path / "hunan-2024.toml").write_text(copied.stdout, encoding="utf-8")
    text = (tmp_path / "hunan-2024.toml").read_text(encoding="utf-8")
    (tmp_path / "hunan-2024.toml").write_text(
        text.replace("budget_deviation = 0.20", "budget_deviation = 0.99"), encoding="utf-8"
    )
    default = _check_json()
    own = _check_json("--profile", "./hunan-2024.toml")
    files = own["files"]
    assert isinstance(files, list)
    assert {f["profile"] for f in files[0]["forms"]} == {"hunan-2024"}

    def rules(data: dict[str, object]) -> list[str]:
        entries = data["files"]
        assert isinstance(entries, list)
        return sorted(d["rule"] for d in entries[0]["deviations"])

    def deviations(data: dict[str, object]) -> list[float]:
        """The relative deviations of the totals B08 reports ("（+40.6%），超过"), in percent."""
        import re

        entries = data["files"]
        assert isinstance(entries, list)
        messages = [d["message"] for d in entries[0]["deviations"] if d["rule"] == "B08"]
        return [abs(float(m)) for text in messages for m in re.findall(r"（([+-]?[0-9.]+)%），超过", text)]

    # Deviations up to 99% are no longer flagged; spending without a budget still is.
    assert any(d < 99 for d in deviations(default))
    assert all(d > 99 for d in deviations(own)) and "B08" in rules(own)
    # The same file in a profiles folder is found by its name.
    (tmp_path / "配置").mkdir()
    shutil.move(tmp_path / "hunan-2024.toml", tmp_path / "配置/hunan-2024.toml")
    by_name = _check_json("--profile", "hunan-2024", "--profiles-dir", str(tmp_path / "配置"))
    assert rules(by_name) == rules(own)


def test_profiles_lists_what_is_found_where_and_reports_a_broken_one(tmp_path: Path) -> None:
    _write(tmp_path / "lenient.toml", LENIENT)
    _write(tmp_path / "hunan-2023.toml", 'extends = "hunan-2023"\ntitle = "本局的湖南配置"\n')
    _write(tmp_path / "broken.toml", 'extends = "hunan-2023"\n[tolerance]\namout = 1\n')
    result = CliRunner().invoke(app, ["profiles", "--profiles-dir", str(tmp_path)], env={"COLUMNS": "400"})
    assert result.exit_code == 2
    out = result.stdout
    assert "lenient" in out and "宽松的预算偏差" in out and "文件夹（--profiles-dir）" in out
    # The folder's hunan-2023 replaces the built-in one (extending it), and says so.
    assert "本局的湖南配置" in out and "覆盖了" in out
    assert "broken" in out and "第 3 行" in out and "tolerance.amout" in out
    assert load("hunan-2023").title == "本局的湖南配置"


def test_a_missing_profiles_folder_or_bad_profile_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check", str(SEED), "--no-annotate", "--profiles-dir", str(tmp_path / "没有")])
    assert result.exit_code == 2 and "配置文件夹不存在" in result.stderr
    bad = _write(tmp_path / "bad.toml", 'extends = "hunan-2023"\n[severity]\nQ01 = "info"\n')
    result = CliRunner().invoke(app, ["check", str(SEED), "--no-annotate", "--profile", str(bad)])
    assert result.exit_code == 2 and "第 3 行" in result.stderr and "Q01" in result.stderr
    assert "Traceback" not in result.output


def test_a_folder_profile_that_says_default_for_is_the_default_for_those_forms(tmp_path: Path) -> None:
    _write(tmp_path / "本局.toml", 'extends = "hunan-2023"\ndefault_for = ["dept_self_eval"]\n')
    data = _check_json("--profiles-dir", str(tmp_path))
    files = data["files"]
    assert isinstance(files, list)
    assert [(f["kind"], f["profile"]) for f in files[0]["forms"]] == [
        ("basic_data", "hunan-2023"),
        ("dept_self_eval", "本局"),
    ]


def _profile_of_b_form(*args: str) -> str:
    result = CliRunner().invoke(
        app, ["check", str(SAMPLES / "families/B-consistent.xlsx"), "--no-annotate", "--format", "json", *args]
    )
    assert result.exit_code in (0, 1), result.output
    forms = json.loads(result.stdout)["files"][0]["forms"]
    return str(forms[0]["profile"])


def test_a_folder_profile_judges_a_familys_forms_only_when_it_says_so(tmp_path: Path) -> None:
    """A copy or an `extends` of a family's profile judges the forms it is passed to; `family` makes it the family's."""
    assert _profile_of_b_form() == "sichuan-2023"
    copied = CliRunner().invoke(app, ["profiles", "sichuan-2023"])
    assert copied.exit_code == 0 and '\n# family = "B"' in copied.stdout
    folder = tmp_path / "配置"
    _write(folder / "sichuan-2024.toml", copied.stdout)
    _write(folder / "sichuan-tweak.toml", 'extends = "sichuan-2023"\n[tolerance]\namount = 0.02\n')
    assert _profile_of_b_form("--profiles-dir", str(folder)) == "sichuan-2023"
    assert _profile_of_b_form("--profiles-dir", str(folder), "--profile", "sichuan-tweak") == "sichuan-tweak"
    # Saying `family` (uncommenting the copy's line) makes the bureau's profile judge the family's forms.
    _write(folder / "sichuan-2024.toml", copied.stdout.replace('\n# family = "B"', '\nfamily = "B"'))
    assert _profile_of_b_form("--profiles-dir", str(folder)) == "sichuan-2024"


def test_the_signature_follows_what_profiles_say_not_where_the_package_is_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan's cache key: the same built-in profiles from another install keep it; an edited one changes it."""
    here = profiles.signature(None)
    elsewhere = tmp_path / "another-venv" / "perf_eval" / "schemas"
    shutil.copytree(schemas_dir(), elsewhere)
    monkeypatch.setattr(profiles, "schemas_dir", lambda: elsewhere)
    assert profiles.signature(None) == here
    edited = elsewhere / "hunan-2023.toml"
    edited.write_text(edited.read_text(encoding="utf-8") + "\n# 本地修改\n", encoding="utf-8")
    assert profiles.signature(None) != here
    # A profile of the bureau's own folder is known by its place as well as by its content.
    own = _write(tmp_path / "甲" / "本局.toml", 'extends = "hunan-2023"\n')
    configure([own.parent])
    with_own = profiles.signature(None)
    configure([shutil.copytree(own.parent, tmp_path / "乙")])
    assert profiles.signature(None) != with_own
