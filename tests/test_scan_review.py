"""What a reviewer reads after the scan: versions of one report, accepted findings, what changed since last night.

Each scenario is a shared folder built from the sample workbooks, edited
with openpyxl as a clerk would in Excel, and scanned several times; the
reviewer's side is summary.xlsx, edited the same way.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from rich.console import Console

from perf_eval.outputs.summary_view import ID_HEADER, REASON_HEADER
from perf_eval.scan import ScanOptions, ScanOutcome, run_scan
from perf_eval.scan.accept import STORE_NAME
from perf_eval.scan.review import parse_date
from perf_eval.scan.terminal import render_scan

SAMPLES = Path(__file__).resolve().parents[1] / "sample_workbooks"
UNIT = "株洲市芦淞区财政局"


def _copy(sample: str, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SAMPLES / sample, target)
    return target


def _edit(path: Path, changes: dict[tuple[str, str], Any], *, filed: str | None = None) -> None:
    """Set cells, and the 填报日期 written in the footers, as a clerk would in Excel."""
    workbook = load_workbook(path)
    for (sheet, cell), value in changes.items():
        workbook[sheet][cell].value = value
    if filed is not None:
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str) and "填报日期" in cell.value:
                        before, _, rest = cell.value.partition("填报日期")
                        tail = rest.split("联系电话", 1)
                        after = "    联系电话" + tail[1] if len(tail) == 2 else ""
                        cell.value = f"{before}填报日期：{filed}{after}"
    workbook.save(path)


def _mtime(path: Path, day: str) -> None:
    stamp = datetime.fromisoformat(day).timestamp()
    os.utime(path, (stamp, stamp))


def scan(root: Path, out: Path) -> ScanOutcome:
    return run_scan(ScanOptions(root=root, out=out, jobs=2))


def unit_of(outcome: ScanOutcome, name: str = UNIT) -> dict[str, Any]:
    return next(u for u in outcome.data["scan"]["units"] if u["unit"] == name)


def rendered(outcome: ScanOutcome, width: int = 240) -> str:
    with open(os.devnull, "w", encoding="utf-8") as sink:
        console = Console(width=width, record=True, file=sink)
        console.print(render_scan(outcome.data, summary_json="summary.json", summary_xlsx="summary.xlsx"))
        return console.export_text()


def test_parse_date() -> None:
    assert parse_date("2024年3月15日") == "2024-03-15"
    assert parse_date(" 2024-3-5 ") == "2024-03-05"
    assert parse_date("2024.03.20") == "2024-03-20"
    assert parse_date("2024/2/30") is None  # no such day
    assert parse_date("") is None and parse_date(None) is None


# --- versions ----------------------------------------------------------------------------------


def test_the_unit_is_judged_by_its_latest_version(tmp_path: Path) -> None:
    root, out = tmp_path / "共享", tmp_path / "结果"
    # The corrected report, dated 15 March; a copy dated 10 March with a deleted reason (S07), saved later.
    current = _copy("lusong-2023-corrected.xlsx", root / "芦淞区/自评表-定稿.xlsx")
    older = _copy("lusong-2023-corrected.xlsx", root / "芦淞区/旧/自评表.xlsx")
    _edit(older, {("附件3", "I26"): None}, filed="2024年3月10日")
    _mtime(current, "2024-03-15T09:00")
    _mtime(older, "2024-04-01T09:00")  # touched last, yet the older report by its 填报日期

    first = scan(root, out)
    unit = unit_of(first)
    assert unit["files"] == ["芦淞区/自评表-定稿.xlsx"]
    assert unit["status"] == "warnings" and unit["errors"] == 0
    [old] = unit["old_versions"]
    assert old["path"] == "芦淞区/旧/自评表.xlsx" and old["status"] == "errors"
    assert (old["decided_by"], old["date"], old["replaced_by"]) == ("form_date", "2024-03-10", unit["files"][0])
    files = {f["path"]: f for f in first.data["files"]}
    judged = files["芦淞区/自评表-定稿.xlsx"]["deviations"]
    assert unit["warnings"] == sum(1 for d in judged if d["severity"] == "warning")
    assert not first.failed_files  # the errors of an old version do not fail the job
    text = rendered(first)
    assert "旧版本" in text and "芦淞区/旧/自评表.xlsx" in text and "填报日期较早" in text
    states = first.data["scan"]["findings"]["芦淞区/旧/自评表.xlsx"]
    assert {s["state"] for s in states} == {"old_version"}

    # A third version without a 填报日期: dates cannot order them all, the modification time does.
    seed = _copy("lusong-2023-seed.xlsx", root / "芦淞区/初稿.xlsx")
    _mtime(seed, "2024-03-01T09:00")
    second = scan(root, out)
    unit = unit_of(second)
    assert unit["files"] == ["芦淞区/旧/自评表.xlsx"]  # the newest file now judges: it has S07
    assert unit["status"] == "errors" and unit["decided_by"] == "mtime"
    assert {o["path"] for o in unit["old_versions"]} == {"芦淞区/自评表-定稿.xlsx", "芦淞区/初稿.xlsx"}
    assert unit["problems"][0] == {"rule": "S07", "severity": "error", "count": 1, "files": unit["files"]}
    assert second.failed_files
    # The rules that fired count the judging version only: B05 is the seed's (an old version).
    assert "B05" not in {r["rule"] for r in second.data["scan"]["rules"]}
    assert "S07" in {r["rule"] for r in second.data["scan"]["rules"]}
    # summary.xlsx: the unit row marks errors first and lists the old versions with their status.
    sheet = load_workbook(out / "summary.xlsx")["单位汇总"]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == UNIT)
    assert str(row[6]).startswith("错误：S07×1\n警告：")
    assert "芦淞区/初稿.xlsx（需修改" in str(row[8]) and "按文件修改时间判定为旧版本" in str(row[8])


def test_split_forms_of_one_unit_both_judge_it(tmp_path: Path) -> None:
    root, out = tmp_path / "共享", tmp_path / "结果"
    _copy("split-2023-basic.xlsx", root / "审计局/基础数据.xlsx")
    _copy("split-2023-self-eval.xlsx", root / "审计局/自评表.xlsx")
    outcome = scan(root, out)
    unit = unit_of(outcome, "株洲市某某区审计局")
    assert unit["files"] == ["审计局/基础数据.xlsx", "审计局/自评表.xlsx"] and unit["old_versions"] == []
    # Clean files get no annotated copy by default.
    assert not list(out.rglob("*.校验.xlsx"))


# --- accepted findings and what changed --------------------------------------------------------


def _write_reasons(xlsx: Path, reasons: dict[tuple[str, str], str | None]) -> None:
    """The reviewer types (or clears) reasons in 问题清单, keyed by (rule, cell), and saves."""
    workbook = load_workbook(xlsx)
    sheet = workbook["问题清单"]
    header = [c.value for c in sheet[1]]
    rule, cell, reason = header.index("规则"), header.index("单元格"), header.index(REASON_HEADER)
    hits = 0
    for row in sheet.iter_rows(min_row=2):
        key = (row[rule].value, row[cell].value)
        if key in reasons:
            row[reason].value = reasons[key]
            hits += 1
    assert hits == len(reasons)
    workbook.save(xlsx)


def _rows(xlsx: Path) -> dict[tuple[str, str], dict[str, Any]]:
    sheet = load_workbook(xlsx)["问题清单"]
    header = [c.value for c in sheet[1]]
    rows = {}
    for values in sheet.iter_rows(min_row=2, values_only=True):
        row = dict(zip(header, values, strict=True))
        rows[(row["规则"], row["单元格"])] = row
    return rows


def test_accepted_findings_lapse_when_the_cell_changes_and_changes_are_reported(tmp_path: Path) -> None:
    root, out = tmp_path / "共享", tmp_path / "结果"
    report = _copy("lusong-2023-corrected.xlsx", root / "芦淞区/自评表.xlsx")
    xlsx = out / "summary.xlsx"

    first = scan(root, out)
    since = first.data["scan"]["since_last"]
    assert since["first_scan"] and since["counts"]["new"] == 6
    assert "首次扫描" in rendered(first)
    assert unit_of(first)["status"] == "warnings" and unit_of(first)["warnings"] == 6
    assert all(r[ID_HEADER] for r in _rows(xlsx).values())

    # The reviewer accepts two warnings in summary.xlsx.
    _write_reasons(
        xlsx, {("S13", "F18"): "按上级下达任务设定的指标值，超额完成属实", ("B08", "F12"): "年中追加的项目，已报批"}
    )
    second = scan(root, out)
    unit = unit_of(second)
    assert (unit["warnings"], unit["accepted"]) == (4, 2)
    assert second.data["scan"]["since_last"]["counts"] == {"new": 0, "lapsed": 0, "open": 4, "accepted": 2, "fixed": 0}
    store = json.loads((out / STORE_NAME).read_text(encoding="utf-8"))["acceptances"]
    assert {(a["rule"], a["cell"], a["state"], a["actual"]) for a in store} == {
        ("S13", "F18", "active", "5次"),
        ("B08", "F12", "active", 238.43),
    }
    rows = _rows(xlsx)
    assert rows[("S13", "F18")]["处理"] == "已说明"
    assert rows[("S13", "F18")][REASON_HEADER] == "按上级下达任务设定的指标值，超额完成属实"

    # The unit edits its report: S13's actual value changes, a reason is deleted (S07), a total no
    # longer adds up (B05), 公用经费 and its lines are brought back to their budgets (B08 F20 fixed); the
    # reviewer withdraws one acceptance.
    _edit(
        report,
        {
            ("附件3", "F18"): "6次",
            ("附件3", "I26"): None,
            ("附件2", "F15"): 29.99,
            ("附件2", "F20"): 72.17,
            ("附件2", "F21"): 4.5,
            ("附件2", "F22"): 0.5,
        },
    )
    _write_reasons(xlsx, {("B08", "F12"): None})
    third = scan(root, out)
    scan_data = third.data["scan"]
    since = scan_data["since_last"]
    assert since["counts"]["lapsed"] == 1 and since["counts"]["accepted"] == 0
    assert {(f["rule"], f["cell"], f["state"]) for f in since["new"]} == {
        ("B05", "F12", "new"),
        ("S07", "I26", "new"),
        ("S13", "F18", "lapsed"),
    }
    assert [(f["rule"], f["cell"]) for f in since["fixed"]] == [("B08", "F20")]
    [changed] = since["units"]
    assert (changed["unit"], changed["before"], changed["new"], changed["fixed"]) == (UNIT, "warnings", 2, 1)
    unit = unit_of(third)
    assert unit["status"] == "errors" and unit["accepted"] == 0
    assert [p["rule"] for p in unit["problems"][:2]] == ["B05", "S07"]  # errors first
    store = {a["rule"]: a for a in json.loads((out / STORE_NAME).read_text(encoding="utf-8"))["acceptances"]}
    assert set(store) == {"S13"}  # B08 F12 was withdrawn
    assert store["S13"]["state"] == "lapsed" and store["S13"]["now_actual"] == "6次"
    text = rendered(third)
    assert text.index("与上次扫描相比") < text.index("文件（含旧版本）")  # what changed comes first
    assert "说明已失效" in text and "需修改" in text
    # The fixed finding is listed too, after the new ones, with its cell.
    assert text.index("新问题（错误在前）") < text.index("已修改的问题") < text.index("文件（含旧版本）")
    fixed_line = next(line for line in text.splitlines() if "附件2!F20" in line)
    assert "B08" in fixed_line and "芦淞区/自评表.xlsx" in fixed_line
    # In an 80-column window the unit's problems keep every rule ID whole, errors on their own line.
    narrow = rendered(third, width=80)
    assert max(len(line) for line in narrow.splitlines()) <= 80
    problem_lines = [line for line in narrow.splitlines() if "错误：" in line and "B05" in line]
    assert problem_lines and "S07×1" in problem_lines[0] and "警告：" not in problem_lines[0]
    assert "上次扫描完成于 " + third.data["scan"]["since_last"]["previous_finished"][:10] in text
    assert "T" not in text.split("上次扫描完成于 ")[1][:16]
    rows = _rows(xlsx)
    assert rows[("S13", "F18")]["处理"] == "说明已失效"
    assert "说明已失效：" in rows[("S13", "F18")]["说明"] and "5次" in rows[("S13", "F18")]["说明"]
    assert rows[("B08", "F12")]["处理"] == "仍未修改" and rows[("B08", "F12")][REASON_HEADER] is None
    workbook = load_workbook(xlsx)
    changes = [r for r in workbook["本次变化"].iter_rows(min_row=2, values_only=True)]
    assert [r[0] for r in changes[:2]] == ["最近变化", "单位"]
    kinds = [r[0] for r in changes]
    assert kinds.index("新问题") < kinds.index("已修改")
    accepted_sheet = [r for r in workbook["已说明"].iter_rows(min_row=2, values_only=True)]
    assert [(r[0], r[3]) for r in accepted_sheet] == [("已失效", "S13")]

    # Nothing changes overnight: nothing new, the lapsed finding is simply open; summary.xlsx is left as it is.
    stamp = xlsx.stat().st_mtime_ns
    fourth = scan(root, out)
    assert fourth.data["scan"]["since_last"]["counts"] == {"new": 0, "lapsed": 0, "open": 8, "accepted": 0, "fixed": 0}
    assert fourth.data["scan"]["since_last"]["units"] == []
    assert fourth.data["scan"]["latest_change"] == {**since, "on": third.data["scan"]["latest_change"]["on"]}
    assert xlsx.stat().st_mtime_ns == stamp

    # A new reason accepts the finding anew, at its new value.
    _write_reasons(xlsx, {("S13", "F18"): "已核实：实际完成 6 次"})
    fifth = scan(root, out)
    assert unit_of(fifth)["accepted"] == 1
    store = json.loads((out / STORE_NAME).read_text(encoding="utf-8"))["acceptances"]
    assert [(a["rule"], a["state"], a["actual"]) for a in store] == [("S13", "active", "6次")]


def test_scans_started_in_one_second_keep_new_and_open_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A finding is 新问题 in summary.xlsx only if the change shown found it, however close the scans."""
    import perf_eval.scan.run as scan_run

    ticks = iter(range(1, 100))
    base = datetime(2026, 12, 2, 9, 30, 0)

    class SameSecond(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> SameSecond:  # every scan of this test starts in one second
            return cls.fromtimestamp(base.timestamp() + next(ticks) / 1000, tz)

    monkeypatch.setattr(scan_run, "datetime", SameSecond)
    root, out = tmp_path / "共享", tmp_path / "结果"
    report = _copy("lusong-2023-corrected.xlsx", root / "芦淞区/自评表.xlsx")
    first = scan(root, out)
    _edit(report, {("附件2", "F15"): 29.99})  # a total no longer adds up: B05 is new, the rest stays open
    second = scan(root, out)
    assert first.data["scan"]["run"]["started"] == second.data["scan"]["run"]["started"]  # one second
    states = {key: row["处理"] for key, row in _rows(out / "summary.xlsx").items()}
    assert states.pop(("B05", "F12")) == "新问题"
    assert states and set(states.values()) == {"仍未修改"}


def test_an_acceptance_lapses_when_what_the_cell_is_compared_with_changes(tmp_path: Path) -> None:
    """S13 and B09 show no 应为: their acceptance still lapses when the target or the budget changes."""
    root, out = tmp_path / "共享", tmp_path / "结果"
    report = _copy("lusong-2023-corrected.xlsx", root / "芦淞区/自评表.xlsx")
    xlsx = out / "summary.xlsx"
    scan(root, out)
    _write_reasons(xlsx, {("S13", "F18"): "上级下达的培训任务", ("B09", "F24"): "年中追加的采购预算已批复"})
    second = scan(root, out)
    assert unit_of(second)["accepted"] == 2
    # The target of S13 (≥3次 → ≥2次) and the budget B09 compares with (190.17 → 180) change; the cells
    # the findings point at (5次, 213.33) do not.
    _edit(report, {("附件3", "E18"): "≥2次", ("附件2", "D24"): 180})
    third = scan(root, out)
    since = third.data["scan"]["since_last"]
    assert {(f["rule"], f["state"]) for f in since["new"]} == {("S13", "lapsed"), ("B09", "lapsed")}
    assert unit_of(third)["accepted"] == 0
    store = {a["rule"]: a for a in json.loads((out / STORE_NAME).read_text(encoding="utf-8"))["acceptances"]}
    assert store["S13"]["state"] == "lapsed" and store["B09"]["state"] == "lapsed"
    rows = _rows(xlsx)
    assert rows[("S13", "F18")]["处理"] == "说明已失效"
    assert "≥3次" in rows[("S13", "F18")]["说明"] and "≥2次" in rows[("S13", "F18")]["说明"]
    assert "190.17" in rows[("B09", "F24")]["说明"] and "180.00" in rows[("B09", "F24")]["说明"]
    accepted = {r[3]: r for r in load_workbook(xlsx)["已说明"].iter_rows(min_row=2, values_only=True)}
    assert accepted["S13"][0] == "已失效" and "≥3次" in accepted["S13"][10] and "≥2次" in accepted["S13"][10]
    assert "现在实际为" not in accepted["S13"][10]  # 5次 did not change: what changed is said, nothing else


def test_an_unreadable_acceptance_record_is_reported_and_left_alone(tmp_path: Path) -> None:
    root, out = tmp_path / "共享", tmp_path / "结果"
    _copy("lusong-2023-corrected.xlsx", root / "自评表.xlsx")
    out.mkdir()
    (out / STORE_NAME).write_text("{不是 JSON", encoding="utf-8")
    outcome = scan(root, out)
    assert any(STORE_NAME in problem and "未被改动" in problem for problem in outcome.problems)
    assert (out / STORE_NAME).read_text(encoding="utf-8") == "{不是 JSON"


@pytest.mark.parametrize("copies", ["findings", "all"])
def test_copies_only_where_they_help_unless_all_are_asked_for(tmp_path: Path, copies: str) -> None:
    root, out = tmp_path / "共享", tmp_path / "结果"
    _copy("project-2023-clean.xlsx", root / "干净.xlsx")
    _copy("lusong-2023-corrected.xlsx", root / "有警告.xlsx")
    outcome = run_scan(ScanOptions(root=root, out=out, jobs=2, copies=copies))
    annotated = {f["path"]: f["annotated"] for f in outcome.data["files"]}
    assert annotated["有警告.xlsx"] == "有警告.校验.xlsx"
    assert annotated["干净.xlsx"] == (None if copies == "findings" else "干净.校验.xlsx")
    assert (out / "干净.校验.xlsx").exists() == (copies == "all")


def test_scan_command_with_a_profile_file_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`scan --profile ./本局.toml --copies all`: every form names the profile that judged it, everywhere."""
    from typer.testing import CliRunner

    from perf_eval.cli import app
    from perf_eval.profiles import configure

    root, out = tmp_path / "共享", tmp_path / "结果"
    _copy("lusong-2023-corrected.xlsx", root / "芦淞区/自评表.xlsx")
    _copy("project-2023-clean.xlsx", root / "项目/养护.xlsx")
    (tmp_path / "配置").mkdir()
    (tmp_path / "配置/本局.toml").write_text('extends = "hunan-2023"\n[severity]\nS13 = "info"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    args = ["scan", "共享", "--out", "结果", "--jobs", "2", "--profile", "./配置/本局.toml", "--copies", "all"]
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    configure(None)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {f["profile"] for entry in data["files"] for f in entry["forms"]} == {"本局"}
    unit = next(u for u in data["scan"]["units"] if u["unit"] == UNIT)
    assert "S13" not in unit["rules"]  # an info finding under this profile
    assert (out / "项目/养护.校验.xlsx").is_file()  # --copies all: the clean file too
    rows = list(load_workbook(out / "summary.xlsx")["文件清单"].iter_rows(min_row=2, values_only=True))
    assert all("配置 本局" in str(row[3]) for row in rows)
    text = CliRunner().invoke(app, args)
    configure(None)
    assert "评分配置：本局" in text.stdout
    bad = CliRunner().invoke(app, ["scan", "共享", "--out", "结果", "--profile", "./配置/没有.toml"])
    assert bad.exit_code == 2 and "配置文件不存在" in bad.stderr
