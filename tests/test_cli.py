"""The command line, through typer's CliRunner and through a real subprocess: exit codes and JSON exactly."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

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
        {"kind": "basic_data", "sheet": "附件2", "unit": None, "year": 2023, "family": None, "profile": "hunan-2023"},
        {
            "kind": "dept_self_eval",
            "sheet": "附件3",
            "unit": "株洲市芦淞区财政局",
            "year": 2023,
            "family": "E",
            "profile": "hunan-2023",
        },
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
            "case": "",
            "params": {"actual": "324.12 万元", "count": 7, "expected": "200.16 万元", "diff": "123.96 万元"},
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
        "case",
        "params",
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
    assert f"输出位置应为文件夹，但 {blocker} 是一个文件（--out 请指定文件夹）" in proc.stderr
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


# --- what a clerk reads: verdicts, order, messages, Chinese everywhere (issue 11) ---------------

# Words of the product that may appear in user-facing lines: command and option names, formats, file types.
_ALLOWED_ASCII = {
    "perf", "eval", "check", "scan", "rules", "help", "version", "profile", "format", "out", "strict", "no",
    "annotate", "jobs", "full", "timeout", "rich", "json", "xlsx", "xlsm", "xls", "summary", "Excel", "WPS",
    "hunan", "mof", "xml", "chek", "bogus", "CPU", "JSON", "docx", "doc", "wps", "serve",
    "profiles", "dir", "toml", "PERF", "EVAL", "PROFILES", "copies", "all", "findings", "schemas",
    # serve's options, its environment variable, its API path and the key to stop it
    "host", "port", "token", "TOKEN", "keep", "minutes", "max", "allow", "HTTP", "api", "Ctrl", "upload",
}  # fmt: skip


def _product_names() -> set[str]:
    """The built-in profiles' names (e.g. chongqing-dept): identifiers a user types, not English prose."""
    import re

    from perf_eval import profiles

    return {word for name in profiles.available() for word in re.findall(r"[A-Za-z]{3,}", name)}


def _english_words(text: str) -> set[str]:
    import re

    allowed = _ALLOWED_ASCII | _product_names()
    return {w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in allowed} - {"tmp", "pytest"}


def _display_width(line: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def run_at(width: int, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": str(width)}
    return subprocess.run(
        [sys.executable, "-m", "perf_eval", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
        cwd=cwd,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["chek"], "错误：没有“chek”这个命令（是不是要用 check？）"),
        (["scan", "文件夹"], "错误：缺少选项：--out / -o"),
        (["check"], "错误：缺少参数：要检查的工作簿"),
        (["check", "a.xlsx", "--format", "xml"], "错误：--format / -f 的值无效：“xml”不是可选的值，可选：rich、json"),
        (["check", "--bogus", "a.xlsx"], "错误：没有 --bogus 这个选项（是不是要用 --out？）"),
        (["scan", "x", "--out", "y", "--jobs", "0"], "错误：--jobs / -j 的值无效：应不小于 1"),
        (["check", "a.xlsx", "--out"], "错误：选项 --out 后面需要一个值"),
    ],
)
def test_usage_errors_are_chinese_with_where_to_find_help(args: list[str], message: str) -> None:
    proc = run(*args)
    assert proc.returncode == 2
    assert message in proc.stderr.splitlines()
    assert "--help”查看用法。" in proc.stderr
    assert not _english_words(proc.stderr), proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["check", "--help"],
        ["scan", "--help"],
        ["rules", "--help"],
        ["schemas", "--help"],
        ["profiles", "--help"],
        ["serve", "--help"],
        [],
    ],
)
def test_help_is_chinese_and_fits_80_columns(args: list[str]) -> None:
    import re

    proc = run_at(80, *args)
    out = proc.stdout + proc.stderr  # a bare `perf-eval` shows the help as its usage error
    assert "用法：perf-eval" in out
    assert "<" not in out and "…" not in out  # no type metavars, nothing cut off
    assert not _english_words(out.replace("summary.json", "").replace("summary.xlsx", "")), out
    assert max(_display_width(line) for line in out.splitlines()) <= 80
    if args[:1] == ["check"]:
        assert re.search(r"^  --strict {2,}有警告", out, re.MULTILINE)  # a flag shows no value to type after it
        assert "-f, --format rich|json" in out and "-o, --out 文件夹" in out and "显示本帮助并退出" in out


def test_rules_listing_has_no_english_column_and_fits_80_columns() -> None:
    proc = run_at(80, "rules")
    assert proc.returncode == 0
    header = next(line.split() for line in proc.stdout.splitlines() if line.strip())
    assert header == ["规则", "级别", "说明"] and "form.not_found" not in proc.stdout
    assert "提示＝供参考" in proc.stdout  # the third level is explained
    assert max(_display_width(line) for line in proc.stdout.splitlines()) <= 80
    assert not _english_words(proc.stdout)


def test_rule_explanation_says_how_to_fix_and_shows_no_code_comment() -> None:
    b08 = run_at(80, "rules", "B08").stdout
    assert "如何处理：" in b08 and "不通过：" in b08 and "〈对照值〉" in b08
    s15 = run_at(80, "rules", "S15").stdout
    assert "proportionally" not in s15 and "如何处理：" in s15
    # The case examples name their sample files (样表 lusong-2023-….xlsx): the rest is Chinese.
    text = "\n".join(line for line in (b08 + s15).splitlines() if "样表" not in line and ".xlsx" not in line)
    assert not _english_words(text)


def _sample_copy(tmp_path: Path, name: str, edit: Any = None, target: str | None = None) -> Path:
    import openpyxl

    path = tmp_path / (target or name)
    if edit is None:
        shutil.copy(SAMPLES / name, path)
        return path
    book = openpyxl.load_workbook(SAMPLES / name)
    edit(book)
    book.save(path)
    return path


@pytest.mark.parametrize(
    ("sample", "code", "verdict", "status"),
    [
        ("project-2023-clean.xlsx", 0, "通过", "clean"),
        ("lusong-2023-corrected.xlsx", 0, "通过（有警告）", "warnings"),
        ("lusong-2023-seed.xlsx", 1, "需修改", "errors"),
    ],
)
def test_each_verdict_its_words_and_exit_code(
    tmp_path: Path, sample: str, code: int, verdict: str, status: str
) -> None:
    """One verdict, said the same way in the terminal, the JSON and the copy's 校验结果."""
    import openpyxl

    proc = run("check", str(_sample_copy(tmp_path, sample)), "--out", str(tmp_path / "副本"))
    assert proc.returncode == code
    assert proc.stdout.splitlines()[0].endswith(f"[{verdict}]")
    data = json.loads(run("check", str(tmp_path / sample), "--no-annotate", "--format", "json").stdout)
    assert data["files"][0]["status"] == status
    (copy,) = (tmp_path / "副本").glob("*.校验.xlsx")
    header = {
        row[0]: row[1] for row in openpyxl.load_workbook(copy)["校验结果"].iter_rows(max_row=12, values_only=True)
    }
    assert header["结论"] == verdict


def test_unreadable_verdict_and_a_footer_that_adds_up(tmp_path: Path) -> None:
    bad = tmp_path / "坏.xlsx"
    bad.write_bytes(b"a,b\n1,2\n")
    files = [_sample_copy(tmp_path, s) for s in ("project-2023-clean.xlsx", "lusong-2023-corrected.xlsx")]
    files.append(_sample_copy(tmp_path, "lusong-2023-seed.xlsx"))
    proc = run("check", *map(str, files), str(bad), "--no-annotate")
    assert proc.returncode == 2
    assert "[无法读取]" in proc.stdout
    footer = proc.stdout.strip().splitlines()[-1]
    assert footer == (
        "共 4 个文件：通过 1，通过（有警告） 1，需修改 1，无法读取 1；错误 1 项，警告 14 项，提示 8 项"
    ), footer


def test_the_corrected_report_gives_a_handful_of_warnings_and_the_seed_b05_first(tmp_path: Path) -> None:
    corrected = json.loads(
        run("check", str(SAMPLES / "lusong-2023-corrected.xlsx"), "--no-annotate", "--format", "json").stdout
    )
    assert corrected["summary"]["warnings"] <= 6 and corrected["summary"]["errors"] == 0
    seed = run("check", str(_sample_copy(tmp_path, "lusong-2023-seed.xlsx")), "--no-annotate").stdout
    rows = [line.split() for line in seed.splitlines() if line.strip().startswith(("错误", "警告", "提示"))]
    assert rows[1][:3] == ["错误", "B05", "附件2!B12"]  # rows[0] is the count line


@pytest.mark.parametrize("width", [80, 120])
def test_terminal_lines_fit_the_width_and_errors_come_first(tmp_path: Path, width: int) -> None:
    _sample_copy(tmp_path, "lusong-2023-seed.xlsx", target="自评表.xlsx")
    proc = run_at(width, "check", "自评表.xlsx", "--no-annotate", cwd=tmp_path)
    assert max(_display_width(line) for line in proc.stdout.splitlines()) <= width
    levels = [
        line.split()[0] for line in proc.stdout.splitlines() if line.split()[:1] in (["错误"], ["警告"], ["提示"])
    ]
    levels = levels[1:]  # the first is the count line "错误 1 项，…"
    assert levels == sorted(levels, key=["错误", "警告", "提示"].index)
    assert not _english_words(proc.stdout)


def test_half_of_a_split_pair_says_the_cross_checks_did_not_run(tmp_path: Path) -> None:
    alone = _sample_copy(tmp_path, "split-2023-self-eval.xlsx")
    out = tmp_path / "副本"
    proc = run("check", str(alone), "--out", str(out))
    assert proc.returncode == 0 and "[通过]" in proc.stdout
    assert "未找到对应的基础数据表，表间核对（X01、X02）未进行" in proc.stdout
    data = json.loads(run("check", str(alone), "--no-annotate", "--format", "json").stdout)
    x00 = [d for d in data["files"][0]["deviations"] if d["rule"] == "X00"]
    assert [(d["severity"], d["message"]) for d in x00] == [
        ("info", "未找到对应的基础数据表，表间核对（X01、X02）未进行")
    ]
    import openpyxl

    sheet = openpyxl.load_workbook(out / "split-2023-self-eval.校验.xlsx")["校验结果"]
    assert any("未找到对应的基础数据表" in str(c.value) for row in sheet.iter_rows() for c in row)
    both = json.loads(
        run("check", str(SAMPLES / "split-2023-basic.xlsx"), str(alone), "--no-annotate", "--format", "json").stdout
    )
    assert not [d for f in both["files"] for d in f["deviations"] if d["rule"] == "X00"]


def test_a_form_on_a_hidden_sheet_is_checked_and_the_note_says_it_is_hidden(tmp_path: Path) -> None:
    def hide(book: Any) -> None:
        book["附件2"].sheet_state = "hidden"

    hidden = _sample_copy(tmp_path, "lusong-2023-seed.xlsx", hide, "隐藏.xlsx")
    data = json.loads(run("check", str(hidden), "--no-annotate", "--format", "json").stdout)
    entry = data["files"][0]
    assert entry["status"] == "errors"
    assert entry["deviations"][0]["rule"] == "B05"
    assert "工作表“附件2”是隐藏的，其中的表单已读取并检查" in entry["notes"]


def test_a_sum_decided_by_the_other_form_points_at_the_parts(tmp_path: Path) -> None:
    def typo(book: Any) -> None:
        book["附件2"]["F15"] = 29.99  # 信息化建设 19.99 mistyped

    path = _sample_copy(tmp_path, "lusong-2023-corrected.xlsx", typo, "m1.xlsx")
    entry = json.loads(run("check", str(path), "--no-annotate", "--format", "json").stdout)["files"][0]
    (b05,) = [d for d in entry["deviations"] if d["rule"] == "B05"]
    assert b05["cell"] == "F12" and b05["expected"] is None
    assert "合计 238.43 万元 与自评表的项目支出一致" in b05["message"] and "请核对各项目金额" in b05["message"]
    assert "附件2!F15" in b05["related"] and "附件3!F8" in b05["related"]  # the typo and the 自评表 amount
    assert not [d for d in entry["deviations"] if d["rule"] == "X01"]


def test_no_cell_carries_two_different_expectations(tmp_path: Path) -> None:
    def over_max(book: Any) -> None:
        book["附件3"]["H17"] = 5  # a score of 5 in a 3-point item, total unchanged

    def declared(book: Any) -> None:
        book["附件3"]["B14"] = "产出指标\n(45分)"

    paths = [
        _sample_copy(tmp_path, "lusong-2023-corrected.xlsx", over_max, "m3.xlsx"),
        _sample_copy(tmp_path, "lusong-2023-corrected.xlsx", declared, "s05.xlsx"),
        *sorted(SAMPLES.rglob("*.xlsx")),
    ]
    data = json.loads(run("check", *map(str, paths), "--no-annotate", "--format", "json").stdout)
    for entry in data["files"]:
        expected: dict[tuple[str, str], set[object]] = {}
        for d in entry["deviations"]:
            if d["expected"] is not None:
                expected.setdefault((d["sheet"], d["cell"]), set()).add(d["expected"])
        assert all(len(v) == 1 for v in expected.values()), (entry["path"], expected)
    m3 = {(d["rule"], d["cell"]): d for d in data["files"][0]["deviations"]}
    assert m3[("S08", "H32")]["message"] == "总分得分 96 与各项得分之和 98 相差 2 分"
    assert m3[("S08", "H32")]["expected"] is None and m3[("S15", "H32")]["expected"] is None
    (s05,) = [d for d in data["files"][1]["deviations"] if d["rule"] == "S05"]
    assert (s05["expected"], s05["actual"]) == (40, 45)
    assert "标注应改为 40 分" in s05["message"]


@pytest.mark.parametrize(
    ("rule", "shape"),
    [
        ("B01", r"控制率应为 实际在职人数 / 编制数 = \d+\.\d\d%，填写的是 \d+\.\d\d%"),
        ("B05", r"合计 [\d.]+ 万元 与所列 \d+ 个项目之和 [\d.]+ 万元 相差 [\d.]+ 万元"),
        ("B03", r"合计 [\d.]+ 万元 与[^，]+之和 [\d.]+ 万元 相差 [\d.]+ 万元"),
        ("B04", r"合计 [\d.]+ 万元 与[^，]+之和 [\d.]+ 万元 相差 [\d.]+ 万元"),
        ("S03", r"年度资金总额 [\d.]+ 万元 与各项之和 [\d.]+ 万元 相差 [\d.]+ 万元"),
        ("S01", r"执行率应为 全年执行数 / 全年预算数 = \d+\.\d\d%，填写的是 \d+\.\d\d%"),
        ("S07", r"扣分（得分 [\d.]+，分值 [\d.]+）但未填写偏差原因分析及改进措施"),
        ("X01", r"自评表的项目支出 [\d.]+ 万元 与基础数据表本年决算数的项目支出 [\d.]+ 万元 相差 [\d.]+ 万元"),
    ],
)
def test_message_shapes_rates_as_percentages_amounts_with_wan_yuan(rule: str, shape: str) -> None:
    import re

    entry = json.loads(
        run("check", str(SAMPLES / "broken" / f"{rule}.xlsx"), "--no-annotate", "--format", "json").stdout
    )["files"][0]
    found = [d for d in entry["deviations"] if d["rule"] == rule]
    assert found and all(re.search(shape, d["message"]) for d in found), [d["message"] for d in found]
    for d in found:
        assert d["fix"]
        if d["quantity"] == "rate":
            assert 0 < d["actual"] < 2  # JSON keeps the fraction; people read the percentage


def test_rerunning_check_keeps_a_copy_the_clerk_edited(tmp_path: Path) -> None:
    import openpyxl

    source = _sample_copy(tmp_path, "lusong-2023-seed.xlsx", target="自评表.xlsx")
    first = run("check", str(source))
    copy = tmp_path / "自评表.校验.xlsx"
    assert first.returncode == 1 and copy.is_file()
    book = openpyxl.load_workbook(copy)
    book["校验结果"]["A1"].value = "perf-eval 校验结果"
    book["附件2"]["H2"] = "我看过了"
    book.save(copy)
    edited = copy.read_bytes()
    second = run("check", str(source))
    assert copy.read_bytes() == edited
    assert (
        "已有的批注副本“自评表.校验.xlsx”在生成后被改动过，未覆盖；本次的批注副本另存为“自评表.校验(2).xlsx”"
        in second.stdout
    )
    assert (tmp_path / "自评表.校验(2).xlsx").is_file()


def test_targets_are_quoted_as_written_not_as_floats() -> None:
    """A split target (指标性质 ≤ | 指标值 30 | 度量单位 万元) reads "≤30万元", not the float "≤30.0万元"."""
    import re

    entry = json.loads(
        run(
            "check",
            str(SAMPLES / "families" / "B-sichuan-daying-2023-projects.xlsx"),
            "--no-annotate",
            "--format",
            "json",
        ).stdout
    )["files"][0]
    messages = [d["message"] for d in entry["deviations"] if d["rule"] in ("S10", "S11")]
    assert any("指标值为 ≤30万元" in m for m in messages), messages
    assert not [m for m in messages if re.search(r"\d\.0(?!\d)", m)], messages


def test_rule_examples_folded_at_80_columns_keep_their_indent() -> None:
    lines = run_at(80, "rules", "S15").stdout.splitlines()
    examples = lines[next(i for i, line in enumerate(lines) if line.startswith("示例")) + 1 :]
    assert len(examples) > 6  # the long 样表 lines fold
    assert all(line.startswith("  ") for line in examples if line.strip()), examples
    assert max(_display_width(line) for line in lines) <= 80


def test_rescored_total_names_the_rows_that_differ() -> None:
    """S15 says where its difference comes from: each row whose recomputed score is not the one written."""
    entry = json.loads(run("check", str(SAMPLES / "broken" / "S09.xlsx"), "--no-annotate", "--format", "json").stdout)[
        "files"
    ][0]
    (s15,) = [d for d in entry["deviations"] if d["rule"] == "S15"]
    assert s15["message"] == (
        "各项自评得分合计 96 与按评分规则复核的总分 95.5 相差 0.5 分，复核不同的有：财会监督专项行动（填 3，复核 2.5）"
    )
    assert s15["related"] == ["附件3!H17"] and s15["expected"] is None
