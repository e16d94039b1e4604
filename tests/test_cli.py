"""The command line, through typer's CliRunner and through a real subprocess: exit codes and JSON exactly."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from perf_eval import __version__
from perf_eval import check as api_check
from perf_eval.cli import app

SAMPLES = Path(__file__).parent.parent / "sample_workbooks"
runner = CliRunner()


@pytest.fixture
def seed(tmp_path: Path) -> Path:
    target = tmp_path / "自评表 芦淞区财政局.xlsx"
    shutil.copy(SAMPLES / "lusong-2023-seed.xlsx", target)
    return target


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "perf_eval", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
    )


def test_seed_json_follows_the_contract(seed: Path) -> None:
    result = runner.invoke(app, ["check", str(seed), "--format", "json", "--no-annotate"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert set(data) == {"tool", "files", "summary"}
    assert data["tool"] == {"name": "perf-eval", "version": __version__}
    (entry,) = data["files"]
    assert set(entry) == {"path", "sha256", "status", "error", "forms", "deviations", "score", "annotated", "notes"}
    assert entry["status"] == "errors" and entry["error"] is None and entry["annotated"] is None
    assert entry["notes"] == ["已读取工作表：“附件2”、“附件3”"]
    assert entry["forms"] == [
        {"kind": "basic_data", "sheet": "附件2", "unit": None, "year": 2023},
        {"kind": "dept_self_eval", "sheet": "附件3", "unit": "株洲市芦淞区财政局", "year": 2023},
    ]
    b05 = [d for d in entry["deviations"] if d["rule"] == "B05"]
    assert b05 == [
        {
            "rule": "B05",
            "severity": "error",
            "sheet": "附件2",
            "cell": "B12",
            "label": "项目支出 / 2022年决算数",
            "message": "项目支出 / 2022年决算数：合计 324.12 万元 与所列 7 个项目之和 200.16 万元 相差 123.96 万元",
            "expected": None,
            "actual": 324.12,
            "quantity": "amount",
            "related": [f"附件2!B{row}" for row in range(13, 20)],
            "fix": "对照账表逐项核对：合计与各项目中哪一个填错就改哪一个，不要只把合计改成各项之和；"
            "本年决算数的合计还应与自评表的项目支出一致。",
        }
    ]
    fields = {
        "rule",
        "severity",
        "sheet",
        "cell",
        "label",
        "message",
        "expected",
        "actual",
        "quantity",
        "related",
        "fix",
    }
    for deviation in entry["deviations"]:
        assert set(deviation) == fields
        assert deviation["fix"]
    # One order everywhere: errors, warnings, info, then sheet, row, column.
    ranks = [{"error": 0, "warning": 1, "info": 2}[d["severity"]] for d in entry["deviations"]]
    assert ranks == sorted(ranks)
    assert entry["score"] == {"reported": 96, "recomputed": 96, "grade": "优"}
    assert data["summary"] == {
        "files": 1,
        "clean": 0,
        "warnings_only": 0,
        "with_errors": 1,
        "unreadable": 0,
        "errors": 1,
        "warnings": 8,
        "infos": 4,
    }


def test_public_api_gives_the_same_json(seed: Path) -> None:
    cli = json.loads(runner.invoke(app, ["check", str(seed), "--format", "json", "--no-annotate"]).stdout)
    assert api_check(seed).to_dict() == cli


def test_corrected_sample_exits_0_and_strict_makes_warnings_fail(tmp_path: Path) -> None:
    path = SAMPLES / "lusong-2023-corrected.xlsx"
    assert runner.invoke(app, ["check", str(path), "--no-annotate"]).exit_code == 0
    assert runner.invoke(app, ["check", str(path), "--no-annotate", "--strict"]).exit_code == 1
    clean = SAMPLES / "project-2023-clean.xlsx"
    assert runner.invoke(app, ["check", str(clean), "--no-annotate", "--strict"]).exit_code == 0


def test_rich_output_in_a_real_subprocess(seed: Path) -> None:
    proc = run("check", str(seed), "--no-annotate")
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout
    assert "株洲市芦淞区财政局" in out and "附件2!B12" in out and "B05" in out
    assert "单位自评 96，复核 96，等级 优" in out
    assert "\x1b[" not in out  # plain when not a terminal
    assert proc.stderr == ""


def test_json_in_a_real_subprocess_is_only_json(seed: Path) -> None:
    proc = run("check", str(seed), "--format", "json", "--no-annotate")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["summary"]["errors"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "没有这个文件.xlsx"], "文件不存在"),
        (["check", "--profile", "nope", str(SAMPLES / "lusong-2023-seed.xlsx")], "未知的配置"),
        (["rules", "Z99"], "没有编号为 Z99 的规则"),
    ],
)
def test_usage_errors_exit_2_with_a_chinese_message(args: list[str], message: str) -> None:
    proc = run(*args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_directory_given_to_check_points_to_scan(tmp_path: Path) -> None:
    proc = run("check", str(tmp_path))
    assert proc.returncode == 2 and "perf-eval scan" in proc.stderr


@pytest.mark.parametrize("content", [b"", b"a,b,c\n1,2,3\n", b"<html><body>x</body></html>"])
def test_unreadable_input_exits_2_naming_the_file(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "坏文件.xlsx"
    bad.write_bytes(content)
    proc = run("check", str(bad), "--format", "json")
    assert proc.returncode == 2
    entry = json.loads(proc.stdout)["files"][0]
    assert entry["status"] == "unreadable" and entry["error"]
    assert "坏文件.xlsx" in proc.stderr and "Traceback" not in proc.stderr


def test_f01_for_a_workbook_without_forms() -> None:
    result = runner.invoke(app, ["check", str(SAMPLES / "broken" / "F01.xlsx"), "--format", "json", "--no-annotate"])
    assert result.exit_code == 1
    (finding,) = json.loads(result.stdout)["files"][0]["deviations"]
    assert finding["rule"] == "F01" and "基础数据表" in finding["message"]


def test_rules_listing_and_explanation() -> None:
    listing = run("rules")
    assert listing.returncode == 0 and "B05" in listing.stdout and "项目支出不等于所列项目之和" in listing.stdout
    one = run("rules", "b05")
    assert one.returncode == 0 and "324.12" in one.stdout and "错误" in one.stdout


def test_version_and_help() -> None:
    assert run("--version").stdout.strip() == f"perf-eval {__version__}"
    assert "check" in run("--help").stdout


def test_help_and_rules_do_not_import_pandas_or_pandera() -> None:
    code = (
        "import sys; from perf_eval.cli import app; from perf_eval.rules.catalogue import all_rules; all_rules(); "
        "print('pandas' in sys.modules, 'pandera' in sys.modules, 'openpyxl' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False", "False"]


def test_unwritable_output_folder_exits_2_and_leaves_no_partial_file(tmp_path: Path, seed: Path) -> None:
    blocker = tmp_path / "不是文件夹"
    blocker.write_text("x")
    before = seed.read_bytes()
    proc = run("check", str(seed), "--out", str(blocker / "副本"))
    assert proc.returncode == 2
    assert "批注副本未能写出" in proc.stderr and seed.name in proc.stderr and "Traceback" not in proc.stderr
    assert seed.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([seed.name, blocker.name])


def test_annotated_copy_by_default_beside_the_input_and_named_in_json(seed: Path) -> None:
    before = (seed.read_bytes(), seed.stat().st_mtime_ns)
    proc = run("check", str(seed), "--format", "json")
    assert proc.returncode == 1
    annotated = Path(json.loads(proc.stdout)["files"][0]["annotated"])
    assert annotated.parent == seed.parent and annotated.name == "自评表 芦淞区财政局.校验.xlsx"
    assert annotated.is_file()
    assert (seed.read_bytes(), seed.stat().st_mtime_ns) == before
