"""The forms as tidy frames validated by pandera schemas whose checks are the rules (perf_eval.rules.frames)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa
import pytest
from typer.testing import CliRunner

from perf_eval.checker import check_files
from perf_eval.cli import app
from perf_eval.profiles import available, load
from perf_eval.rules import engine, frames
from perf_eval.rules.catalogue import Candidate, Op, all_rules, get

ROOT = Path(__file__).parent.parent
SAMPLES = ROOT / "sample_workbooks"
REPORTS = SAMPLES / "reports"
WORKBOOKS = sorted(p for p in SAMPLES.rglob("*.xlsx") if ".校验" not in p.name)  # not a copy `check` wrote
REPORT_CASES = json.loads((REPORTS / "manifest.json").read_text(encoding="utf-8"))
SEED = SAMPLES / "lusong-2023-seed.xlsx"


def test_every_comparison_names_a_frame_and_two_of_its_columns() -> None:
    keys: list[str] = []
    for rule in all_rules():
        for comparison in rule.checks:
            assert comparison.frame in frames.FRAMES, (rule.id, comparison.frame)
            assert comparison.left and comparison.right and comparison.left != comparison.right
            reserved = {frames.RULE, frames.CHECK, frames.ITEM, frames.TOLERANCE}
            assert not {comparison.left, comparison.right} & reserved
            assert comparison.op is not Op.FLAG, f"{rule.id}: a judgement has no pandera check"
            assert set(comparison.variants) <= {"", *rule.variants}, rule.id
            keys.append(comparison.key(rule.id))
    assert len(keys) == len(set(keys)), "two checks of one name"
    for name in frames.FRAMES:
        assert frames.comparisons(name), f"frame {name} has no check"


def test_arithmetic_and_judgement_rules_are_told_apart() -> None:
    """The arithmetic rules the issue names are pandera checks; structure and judgement rules are not."""
    checked = {r.id for r in all_rules() if r.checks}
    assert {"B01", "B03", "B04", "B05", "B06", "S01", "S02", "S04", "S05", "S08", "X01", "X02"} <= checked
    assert not checked & {"F01", "F02", "F03", "F04", "F05", "F06", "S07", "S09", "S10", "S11", "S12", "S14"}


def _full_and_data_only_agree(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Wrap the adapter so that each frame is also validated with its columns and types."""
    original = frames.failing_rows
    seen: list[str] = []

    def both(rows: frames.Rows, profile: Any, *, full: bool = False) -> list[int]:
        fast = original(rows, profile)
        strict = original(rows, profile, full=True)
        assert fast == strict, rows.frame
        seen.append(rows.frame)
        return fast

    monkeypatch.setattr(frames, "failing_rows", both)
    return seen


@pytest.mark.parametrize("workbook", WORKBOOKS, ids=lambda p: p.relative_to(SAMPLES).as_posix())
def test_every_sample_builds_frames_that_match_their_schemas(workbook: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Columns, types and strictness hold for every frame the samples produce (the engine skips them)."""
    seen = _full_and_data_only_agree(monkeypatch)
    check_files([workbook])
    if "broken" not in workbook.parts and "not-a" not in workbook.name:
        assert seen


def test_report_frames_match_their_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _full_and_data_only_agree(monkeypatch)
    for case in REPORT_CASES:
        check_files([REPORTS / case["file"], SAMPLES / case["workbook"]])
    assert "report" in seen


def _seed_candidates() -> tuple[list[Candidate], Any]:
    """The seed's arithmetic candidates (a judgement's FLAG never enters a frame)."""
    from perf_eval.checker import read_one
    from perf_eval.reading.workbook import ReadWorkbook

    read = read_one(SEED)
    assert isinstance(read, ReadWorkbook)
    profile = load("hunan-2023")
    candidates = [c for form in read.forms for c in engine.form_candidates(form, profile)]
    return [c for c in candidates if c.op is not Op.FLAG], profile


def test_schema_errors_carry_the_rule_and_the_columns_it_compares() -> None:
    """pandera's own errors name the rule; the adapter maps their rows back to the cells."""
    candidates, profile = _seed_candidates()
    rows = next(r for r in frames.build(candidates, {r.id: r for r in all_rules()}) if r.frame == "line_sums")
    schema = frames.frame_schema("line_sums", profile)
    with pytest.raises(pa.errors.SchemaErrors) as caught:
        schema.validate(rows.data, lazy=True)
    failed = [e for e in caught.value.schema_errors if e.check is not None]
    assert {e.check.name for e in failed} == {"agrees_with"}
    statistics = [e.check.statistics for e in failed]
    assert {"check": "B05", "left": "合计", "right": "各项之和", "tolerance": 0.01} in statistics
    positions = frames.failing_rows(rows, profile)
    assert [candidates[p].ref.a1 for p in positions if candidates[p].ref] == ["B12"]  # type: ignore[union-attr]


def _rows(check: str, left: str, right: str, values: list[tuple[float, float, float]]) -> frames.Rows:
    names = frames.quantities("line_sums")
    data: dict[str, Any] = {
        frames.RULE: [check.split(".")[0]] * len(values),
        frames.CHECK: [check] * len(values),
        frames.ITEM: [f"行{i}" for i in range(len(values))],
    }
    for name in names:
        data[name] = [float("nan")] * len(values)
    data[left] = [v[0] for v in values]
    data[right] = [v[1] for v in values]
    data[frames.TOLERANCE] = [v[2] for v in values]
    return frames.Rows("line_sums", pd.DataFrame(data), list(range(len(values))))


def test_a_check_reads_only_its_rows_and_the_profile_tolerance_is_its_floor(tmp_path: Path) -> None:
    rows = _rows("B03", "合计", "各项之和", [(10.0, 10.0, 0.0), (10.0, 10.3, 0.0), (10.0, 12.0, 0.0)])
    strict = load("hunan-2023")
    assert frames.failing_rows(rows, strict) == [1, 2]
    lenient = tmp_path / "lenient.toml"
    lenient.write_text('extends = "hunan-2023"\n[tolerance]\namount = 0.5\n', encoding="utf-8")
    assert frames.failing_rows(rows, load(str(lenient))) == [2]
    # B06's rows (合计 ≥ 各项之和) are not B03's: B03's check leaves them alone.
    other = _rows("B06", "合计", "各项之和", [(12.0, 10.0, 0.0)])
    assert frames.failing_rows(other, strict) == []


def test_a_profile_turns_a_rule_or_one_of_its_cases_off(tmp_path: Path) -> None:
    path = tmp_path / "quiet.toml"
    path.write_text('extends = "hunan-2023"\n[severity]\n"B08" = "off"\n"S10.explained" = "off"\n', encoding="utf-8")
    quiet = load(str(path))
    assert quiet.disabled == {"B08", "S10.explained"}
    assert "B08" not in {c.statistics["check"] for c in frames.frame_schema("budget_lines", quiet).checks}
    before = {f.rule for f in check_files([SEED], profile="hunan-2023")[0].result.deviations}
    after = {f.rule for f in check_files([SEED], profile=str(path))[0].result.deviations}
    assert {"B08", "S10"} <= before
    assert after == before - {"B08", "S10"}
    result = CliRunner().invoke(app, ["schemas", "--profile", str(path)])
    assert result.exit_code == 0
    assert "本配置关闭的规则：B08、S10.explained" in result.output


def test_a_rule_off_by_default_runs_where_a_profile_names_it(tmp_path: Path) -> None:
    rule = get("B09")
    assert rule is not None
    optional = replace(rule, default_on=False)
    assert not frames.runs(optional, load("hunan-2023"))
    path = tmp_path / "on.toml"
    path.write_text('extends = "hunan-2023"\n[severity]\n"B09" = "warning"\n', encoding="utf-8")
    assert frames.runs(optional, load(str(path)))


def test_an_unknown_level_names_off_among_the_choices(tmp_path: Path) -> None:
    from perf_eval.profiles import ProfileError

    path = tmp_path / "bad.toml"
    path.write_text('extends = "hunan-2023"\n[severity]\n"B08" = "never"\n', encoding="utf-8")
    with pytest.raises(ProfileError, match="off（不运行）"):
        load(str(path))


def test_schemas_command_shows_each_frame_its_columns_and_its_checks() -> None:
    result = CliRunner().invoke(app, ["schemas"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for spec in frames.FRAMES.values():
        assert f"{spec.name}  {spec.title}" in result.output
    default = load("hunan-2023")
    for rule in all_rules():
        output = result.output
        if not frames.runs(rule, default):
            # A rule off by default shows its check under a profile that turns it on.
            named = next(p for p in available() if frames.runs(rule, load(p)))
            output = CliRunner().invoke(app, ["schemas", "--profile", named], env={"COLUMNS": "200"}).output
        for comparison in rule.checks:
            assert comparison.key(rule.id) in output
            assert frames.relation(comparison) in output
    assert "预算数的 20%，至少 1 万元" in result.output  # B08's tolerance, from the profile
    assert "其余规则逐项判断" in result.output and "S07" in result.output


def test_schemas_command_fits_an_80_column_terminal() -> None:
    """Narrow: one block per check, each parameter on its own line, no line wider than the terminal."""
    result = CliRunner().invoke(app, ["schemas", "staff"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(_display_width(line) for line in lines) <= 80
    assert "  B01（agrees_with，错误）" in lines
    assert "      比较：控制率 = 在职人数÷编制数（容差内）" in lines
    assert any(line.startswith("      容差下限：0.00005；") for line in lines)
    wide = CliRunner().invoke(app, ["schemas", "staff"], env={"COLUMNS": "200"}).output
    assert "pandera 检查" in wide and "0.00005" in wide and "5e-05" not in wide


def _display_width(line: str) -> int:
    from rich.cells import cell_len

    return cell_len(line)


def test_schemas_command_follows_the_profile_and_filters_by_form() -> None:
    result = CliRunner().invoke(app, ["schemas", "自评表", "--profile", "hubei-20pt"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "hubei-20pt" in result.output
    assert "staff" not in result.output and "funds  资金与执行率" in result.output
    unknown = CliRunner().invoke(app, ["schemas", "nope"])
    assert unknown.exit_code == 2
    assert "没有名为“nope”的数据框或表单" in unknown.output


def test_what_a_check_says_it_reads_is_what_its_rule_reads() -> None:
    """`perf-eval schemas` shows each check's profile keys: they are among those its rule's cases declare."""
    from perf_eval.rules import examples

    for rule in all_rules():
        cases = examples.load(rule.id)
        assert cases is not None
        for comparison in rule.checks:
            assert set(comparison.reads) <= set(cases.parameters), (rule.id, comparison.reads)


def test_a_candidate_no_check_compares_is_a_bug_not_a_pass() -> None:
    rule = get("B03")
    assert rule is not None
    stray = Candidate("B03", None, "合计", Op.LE, actual=1.0, expected=2.0)
    with pytest.raises(ValueError, match="none of the rule's declared checks"):
        frames.build([stray], {"B03": rule})


def test_an_optional_rule_says_so_and_names_the_profiles_that_run_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from perf_eval.cli import show_rules
    from perf_eval.rules import catalogue

    rule = get("S10")
    assert rule is not None
    monkeypatch.setitem(catalogue.REGISTRY, "S10", replace(rule, default_on=False))
    listing = CliRunner().invoke(app, ["rules"], env={"COLUMNS": "120"})
    assert "警告（默认不运行）" in listing.output
    assert show_rules("S10") == 0
    one = CliRunner().invoke(app, ["rules", "S10"], env={"COLUMNS": "200"})
    # The built-in profiles name only a case of S10 ("S10.explained"), not the rule: none turns it on.
    assert "默认不运行" in one.output and "开启它的配置：无" in one.output
