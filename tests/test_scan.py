"""`perf-eval scan`: discovery, isolation, pairing across files, incremental cache, outputs, lock.

A folder tree is generated from the sample workbooks under nested Chinese
folder names, with everything a shared folder holds: clean and broken
workbooks, unreadable files, Excel lock files, hidden files, a FIFO, links
pointing out of the folder, and a unit's 基础数据表 and 自评表 in two files
with unrelated names.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from perf_eval.cli import app
from perf_eval.reading.safety import DEFAULT_LIMITS
from perf_eval.scan import ScanOptions, ScanOutcome, run_scan
from perf_eval.scan.cache import CACHE_DIR
from perf_eval.scan.summary import file_status
from perf_eval.scan.tasks import TEST_ABORT_ENV, TEST_SLEEP_ENV

SAMPLES = Path(__file__).resolve().parents[1] / "sample_workbooks"
PERF_EVAL = Path(sys.executable).with_name("perf-eval")
CMD_UNIT = "=cmd|'/Ccalc'!A0"  # the reader strips whitespace from names
JOBS = 2

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="the tree holds a FIFO (POSIX)")


# --- building trees ----------------------------------------------------------------------


def _copy(sample: str, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SAMPLES / sample, target)
    return target


def _variant(sample: str, target: Path, number: int) -> Path:
    """A copy with its own content hash (a different zip comment), still the same workbook."""
    _copy(sample, target)
    with zipfile.ZipFile(target, "a") as archive:
        archive.comment = f"variant {number}".encode()
    return target


def _set_text(path: Path, old: str, new: str) -> None:
    """Replace a cell's text, keeping it a string (openpyxl would make "=..." a formula)."""
    workbook = load_workbook(path)
    hits = 0
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value == old:
                    cell.value = new
                    cell.data_type = "s"
                    hits += 1
    assert hits == 1, f"{old!r} found {hits} times in {path.name}"
    workbook.save(path)


# Paths relative to DIR → the status `summary.file_status` gives.
EXPECTED = {
    "财政局/2023年/芦淞区整体支出自评（定稿）.xlsx": "warnings",
    "财政局/2023年/芦淞区整体支出自评（初稿）.xlsx": "errors",
    "财政局/2023年/退回修改/跨表不符.xlsx": "errors",
    "项目/农村公路/养护项目自评.xlsx": "clean",
    "项目/环境卫生/省格式自评.xlsx": "clean",
    "项目/公式单位/单位名称测试.xlsx": "clean",
    "审计局/上报材料/材料一.xlsx": "clean",  # the 基础数据表 alone
    "审计局/2024年3月/终稿（签字版）.xlsm": "clean",  # the 自评表 alone
    "问题文件/不是表格.xlsx": "errors",
    "问题文件/空文件.xlsx": "unreadable",
    "问题文件/其实是文本.xlsx": "unreadable",
    "问题文件/网页导出.xls": "unreadable",
}
SKIPPED = {
    "审计局/2024年3月/~$终稿（签字版）.xlsm": "lock",
    "项目/.隐藏的表.xlsx": "hidden",
    "项目/管道.xlsx": "not_regular",
    "链接到外部.xlsx": "symlink",
    "外部文件夹": "symlink",
    "财政局/2023年/芦淞区整体支出自评（定稿）.校验.xlsx": "own_copy",
}


def build_tree(base: Path) -> tuple[Path, Path]:
    """The scanned folder and a folder outside it (the target of the links)."""
    root = base / "共享文件夹"
    outside = base / "外部"
    _copy("lusong-2023-corrected.xlsx", root / "财政局/2023年/芦淞区整体支出自评（定稿）.xlsx")
    _copy("lusong-2023-seed.xlsx", root / "财政局/2023年/芦淞区整体支出自评（初稿）.xlsx")
    _copy("broken/X01.xlsx", root / "财政局/2023年/退回修改/跨表不符.xlsx")
    _copy("project-2023-clean.xlsx", root / "项目/农村公路/养护项目自评.xlsx")
    _copy("project-2023-province-split.xlsx", root / "项目/环境卫生/省格式自评.xlsx")
    cmd = _copy("project-2023-clean.xlsx", root / "项目/公式单位/单位名称测试.xlsx")
    _set_text(cmd, "某某区农村公路养护中心", CMD_UNIT)
    # One unit's forms in two files, two folders, names that say nothing; the .xlsm is a plain xlsx inside.
    _copy("split-2023-basic.xlsx", root / "审计局/上报材料/材料一.xlsx")
    _copy("split-2023-self-eval.xlsx", root / "审计局/2024年3月/终稿（签字版）.xlsm")
    _copy("broken/F01.xlsx", root / "问题文件/不是表格.xlsx")
    (root / "问题文件/空文件.xlsx").write_bytes(b"")
    (root / "问题文件/其实是文本.xlsx").write_text("单位,金额\n审计局,100\n", encoding="utf-8")
    (root / "问题文件/网页导出.xls").write_text("<html><table><tr><td>1</td></tr></table></html>", encoding="utf-8")
    # Not to be checked.
    (root / "审计局/2024年3月/~$终稿（签字版）.xlsm").write_bytes(b"\x05owner" + b"\x00" * 100)
    _copy("project-2023-clean.xlsx", root / "项目/.隐藏的表.xlsx")
    _copy("project-2023-clean.xlsx", root / ".git/不在这里.xlsx")
    _copy("lusong-2023-corrected.xlsx", root / "财政局/2023年/芦淞区整体支出自评（定稿）.校验.xlsx")
    os.mkfifo(root / "项目/管道.xlsx")
    _copy("project-2023-clean.xlsx", outside / "外部的表.xlsx")
    (root / "链接到外部.xlsx").symlink_to(outside / "外部的表.xlsx")
    (root / "外部文件夹").symlink_to(outside, target_is_directory=True)
    (root / "说明.txt").write_text("不是工作簿", encoding="utf-8")
    return root, outside


def snapshot(folder: Path) -> dict[str, tuple[Any, ...]]:
    """Every entry under `folder` (links not followed, FIFOs not opened): type, size, mtime, content hash."""
    state: dict[str, tuple[Any, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode) else None
            state[str(path.relative_to(folder))] = (stat.S_IFMT(st.st_mode), st.st_size, st.st_mtime_ns, digest)
    return state


def scan(root: Path, out: Path, **options: Any) -> ScanOutcome:
    return run_scan(ScanOptions(root=root, out=out, jobs=JOBS, **options))


def by_path(outcome: ScanOutcome) -> dict[str, dict[str, Any]]:
    return {f["path"]: f for f in outcome.data["files"]}


def rules_of(entry: dict[str, Any]) -> set[str]:
    return {d["rule"] for d in entry["deviations"]}


def stable(data: dict[str, Any]) -> dict[str, Any]:
    """summary.json without what depends on the run rather than the files (timings, work done, OUTDIR)."""
    data = json.loads(json.dumps(data))
    del data["scan"]["run"]
    del data["scan"]["out"]
    # When the scans ran: the comparison with the previous one, and the time of the latest change.
    data["scan"]["since_last"].pop("previous_finished")
    data["scan"]["latest_change"].pop("on")
    for unit in data["scan"]["units"]:
        unit.pop("since_last")
    for entries in data["scan"]["findings"].values():
        for entry in entries:
            entry.pop("first_seen", None)
    return data


# --- the full tree -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, ScanOutcome, dict[str, Any], dict[str, Any]]:
    base = tmp_path_factory.mktemp("scan")
    root, outside = build_tree(base)
    before, outside_before = snapshot(root), snapshot(outside)
    out = base / "输出"
    outcome = scan(root, out)
    assert snapshot(root) == before, "the scan changed the scanned folder"
    assert snapshot(outside) == outside_before
    return root, out, outcome, before, outside_before


def test_every_workbook_has_its_status(tree: Any) -> None:
    _, _, outcome, _, _ = tree
    statuses = {f.path: file_status(f) for f in outcome.report.files}
    assert statuses == EXPECTED
    assert outcome.data["scan"]["statuses"] == {"clean": 5, "warnings": 1, "errors": 3, "unreadable": 3}
    files = by_path(outcome)
    assert files["问题文件/空文件.xlsx"]["error"] == "文件为空（0 字节）"
    assert "CSV/文本" in files["问题文件/其实是文本.xlsx"]["error"]
    assert "HTML" in files["问题文件/网页导出.xls"]["error"]
    assert rules_of(files["问题文件/不是表格.xlsx"]) == {"F01"}
    assert "X01" in rules_of(files["财政局/2023年/退回修改/跨表不符.xlsx"])
    # Copies only where they help: a file with findings has one, a clean file none.
    assert all(bool(f.annotated) == bool(f.deviations) for f in outcome.report.files)
    assert outcome.failed_files


def test_skipped_before_opening(tree: Any) -> None:
    _, _, outcome, _, _ = tree
    skipped = {s["path"]: s["code"] for s in outcome.data["scan"]["skipped"]}
    assert skipped == SKIPPED
    paths = set(by_path(outcome))
    assert not any(".git" in p or "外部" in p for p in paths)


def test_nothing_written_into_the_scanned_folder(tree: Any) -> None:
    root, out, outcome, before, _ = tree
    assert snapshot(root) == before
    assert (out / "summary.json").is_file() and (out / "summary.xlsx").is_file()
    copies = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.校验.xls*"))
    assert "审计局/2024年3月/终稿（签字版）.校验.xlsx" not in copies  # clean: its copy would carry nothing
    assert "财政局/2023年/退回修改/跨表不符.校验.xlsx" in copies
    # Every readable workbook with findings, mirrored under OUTDIR; none for the clean ones.
    with_findings = [f for f in outcome.report.files if f.deviations]
    assert len(copies) == len(with_findings) == 4


def test_split_forms_are_paired_across_files(tree: Any) -> None:
    _, _, outcome, _, _ = tree
    scan_data = outcome.data["scan"]
    assert scan_data["unpaired"] == []
    units = {(u["unit"], u["year"]): u for u in scan_data["units"]}
    audit = units[("株洲市某某区审计局", 2023)]
    # The 基础数据表 names no unit: it belongs to the unit of the 自评表 it was paired with.
    assert audit["files"] == ["审计局/2024年3月/终稿（签字版）.xlsm", "审计局/上报材料/材料一.xlsx"]
    assert audit["status"] == "clean"
    assert units[("株洲市芦淞区财政局", 2023)]["status"] == "errors"


def test_summary_json_extends_the_contract(tree: Any) -> None:
    _, out, outcome, _, _ = tree
    data = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert data == outcome.data
    assert set(data) == {"tool", "files", "summary", "scan"}
    summary = data["summary"]
    assert (summary["files"], summary["clean"], summary["with_errors"], summary["unreadable"]) == (12, 5, 3, 3)
    entry = by_path(outcome)["审计局/上报材料/材料一.xlsx"]
    assert set(entry) == {"path", "sha256", "status", "error", "forms", "deviations", "score", "annotated", "notes"}
    assert entry["annotated"] is None  # clean: no copy
    assert (
        by_path(outcome)["财政局/2023年/退回修改/跨表不符.xlsx"]["annotated"]
        == "财政局/2023年/退回修改/跨表不符.校验.xlsx"
    )
    assert data["scan"]["changes"] == {"new": 12, "changed": 0, "unchanged": 0, "removed": 0}


def test_summary_xlsx(tree: Any) -> None:
    _, out, outcome, _, _ = tree
    workbook = load_workbook(out / "summary.xlsx")
    assert workbook.sheetnames == ["本次变化", "单位汇总", "问题清单", "文件清单", "已说明", "跳过与未配对"]
    files = workbook["文件清单"]
    assert [c.value for c in files[1]][:5] == ["路径", "单位", "年度", "表单（配置）", "状态"]
    assert files.freeze_panes == "A2"
    assert files.auto_filter.ref == f"A1:M{len(EXPECTED) + 1}"
    rows = {row[0].value: row for row in files.iter_rows(min_row=2)}
    assert set(rows) == set(EXPECTED)
    cmd = rows["项目/公式单位/单位名称测试.xlsx"][1]
    assert cmd.value == CMD_UNIT and cmd.data_type == "s"
    assert rows["审计局/上报材料/材料一.xlsx"][1].value == "株洲市某某区审计局"
    link = rows["财政局/2023年/退回修改/跨表不符.xlsx"][11]
    assert link.hyperlink is not None and link.hyperlink.target == "财政局/2023年/退回修改/跨表不符.校验.xlsx"
    findings = workbook["问题清单"]
    total = sum(len(f["deviations"]) for f in outcome.data["files"])
    assert findings.max_row == total + 1
    assert findings.freeze_panes == "A2" and findings.auto_filter.ref
    assert {row[4].value for row in findings.iter_rows(min_row=2)} >= {"F01", "X01", "B05"}
    # Errors first (old versions and accepted findings would come after them).
    levels = [row[3].value for row in findings.iter_rows(min_row=2) if row[0].value != "旧版本"]
    assert levels == sorted(levels, key=["错误", "警告", "提示"].index)
    states = [row[0].value for row in findings.iter_rows(min_row=2)]
    assert "旧版本" in states and states.index("旧版本") == len(levels)  # old versions last
    x01 = next(row for row in findings.iter_rows(min_row=2) if row[4].value == "X01")
    assert x01[6].hyperlink.target == "财政局/2023年/退回修改/跨表不符.校验.xlsx"
    assert x01[6].hyperlink.location == f"'{x01[5].value}'!{x01[6].value}"
    assert all(c.data_type != "f" for sheet in workbook for row in sheet.iter_rows() for c in row)
    # Printable: landscape, one page wide, the header row on every page, text wrapped.
    for sheet in workbook:
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1
        assert sheet.page_setup.fitToHeight == 0
        assert sheet.print_title_rows == "$1:$1"
    assert all(c.alignment.wrap_text for row in findings.iter_rows(min_row=2) for c in row)
    # 说明 holds what the reader skipped or the copy lost, not the list of sheets read.
    assert not any("已读取工作表" in str(row[12].value or "") for row in files.iter_rows(min_row=2))


def test_summary_xlsx_prints_in_libreoffice_as_in_excel(tree: Any) -> None:
    """What LibreOffice (and WPS) print differently from Excel, found by rendering summary.xlsx to PDF.

    LibreOffice clips a footer whose band (bottom margin minus footer margin) is lower than its text,
    never wraps the text of a link, and draws a font without a name in a serif face.
    """
    from perf_eval.outputs.summary_xlsx import text_width

    _, out, _, _, _ = tree
    workbook = load_workbook(out / "summary.xlsx")
    for sheet in workbook:
        margins = sheet.page_margins
        assert margins.bottom - margins.footer >= 0.3 and margins.top - margins.header >= 0.3, sheet.title
        links = [c for row in sheet.iter_rows(min_row=2) for c in row if c.hyperlink is not None]
        for cell in links:
            width = sheet.column_dimensions[cell.column_letter].width
            assert text_width(str(cell.value)) + 1 <= width, (sheet.title, cell.coordinate, cell.value, width)
        assert all(c.font.name for row in sheet.iter_rows() for c in row), sheet.title
    assert any(c.hyperlink for row in workbook["文件清单"].iter_rows(min_row=2) for c in row)


# --- incremental ----------------------------------------------------------------------------


def test_incremental_rescan_reads_only_what_changed(tmp_path: Path) -> None:
    root = tmp_path / "共享"
    basic = _copy("split-2023-basic.xlsx", root / "甲/基础.xlsx")
    self_eval = _copy("split-2023-self-eval.xlsx", root / "乙/丙/自评.xlsx")
    _copy("project-2023-clean.xlsx", root / "项目.xlsx")
    gone = _variant("project-2023-clean.xlsx", root / "将删除.xlsx", 1)
    out = tmp_path / "out"  # copies of every file, clean ones too: their lifecycle is tested here
    first = scan(root, out, copies="all")
    assert first.data["scan"]["run"]["read"] == 4
    assert rules_of(by_path(first)["乙/丙/自评.xlsx"]) == set()

    second = scan(root, out, copies="all")
    run = second.data["scan"]["run"]
    assert (run["read"], run["reused"], run["checked"], run["annotated"]) == (0, 4, 0, 0)
    assert second.data["scan"]["changes"] == {"new": 0, "changed": 0, "unchanged": 4, "removed": 0}
    same, again = stable(first.data), stable(second.data)
    assert again["scan"].pop("changes") != same["scan"].pop("changes")
    # Compared with the first scan nothing changed; the latest change is still the first scan's.
    assert same["scan"].pop("since_last")["first_scan"] and not again["scan"]["since_last"]["first_scan"]
    assert again["scan"].pop("since_last")["counts"] == {"new": 0, "lapsed": 0, "open": 0, "accepted": 0, "fixed": 0}
    assert again["scan"]["latest_change"] == same["scan"]["latest_change"]
    ids = {path: [e["id"] for e in entries] for path, entries in same["scan"].pop("findings").items()}
    assert {path: [e["id"] for e in entries] for path, entries in again["scan"].pop("findings").items()} == ids
    assert again == same

    # The 自评表 now disagrees with the unchanged 基础数据表 in another folder (X01).
    _set_text(self_eval, "项目支出：110.50", "项目支出：100.50")
    copy = out / "将删除.校验.xlsx"
    assert copy.is_file()
    gone.unlink()
    _copy("project-2023-clean.xlsx", root / "新来的.xlsx")  # same content as 项目.xlsx: nothing to read
    third = scan(root, out, copies="all")
    run = third.data["scan"]["run"]
    # Only the changed file is read; its partner is re-checked (its pair changed) from the cached read.
    assert (run["read"], run["checked"]) == (1, 2)
    assert third.data["scan"]["changes"] == {"new": 1, "changed": 1, "unchanged": 2, "removed": 1}
    assert third.data["scan"]["removed"] == ["将删除.xlsx"]
    assert not copy.exists()
    files = by_path(third)
    assert "X01" in rules_of(files["乙/丙/自评.xlsx"])
    assert files["甲/基础.xlsx"] == by_path(first)["甲/基础.xlsx"]
    assert basic.is_file()

    # A file that can no longer be read loses its (now stale) annotated copy.
    (root / "项目.xlsx").write_bytes(b"")
    fourth = scan(root, out, copies="all")
    assert by_path(fourth)["项目.xlsx"]["status"] == "unreadable"
    assert not (out / "项目.校验.xlsx").exists()
    assert (out / "新来的.校验.xlsx").is_file()
    _copy("project-2023-clean.xlsx", root / "项目.xlsx")

    full = scan(root, out, full=True, copies="all")
    run = full.data["scan"]["run"]
    assert (run["read"], run["annotated"]) == (3, 4)  # 3 distinct contents, 4 files
    assert stable(full.data)["files"] == stable(third.data)["files"]


def test_a_crashing_or_hanging_reader_costs_only_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "in"
    for number in range(3):
        _variant("project-2023-clean.xlsx", root / f"表{number}.xlsx", number)
    monkeypatch.setenv(TEST_ABORT_ENV, "表0.xlsx")
    monkeypatch.setenv(TEST_SLEEP_ENV, "30:表1.xlsx")
    limits = dataclasses.replace(DEFAULT_LIMITS, child_wall_seconds=2.0)
    started = time.monotonic()
    outcome = scan(root, tmp_path / "out", limits=limits)
    assert time.monotonic() - started < 20
    files = by_path(outcome)
    assert files["表0.xlsx"]["status"] == "unreadable"
    assert files["表0.xlsx"]["error"] == "读取时内存超限或读取程序崩溃"
    assert files["表1.xlsx"]["error"] == "读取超时（超过 2 秒）"
    assert files["表2.xlsx"]["status"] == "clean"


# --- the command, in real processes -----------------------------------------------------------


def _run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PERF_EVAL), *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def _cache_entries(out: Path, kind: str) -> int:
    folder = out / CACHE_DIR / kind
    return sum(1 for p in folder.rglob("*.pickle")) if folder.is_dir() else 0


SLOW = "2.000417"  # seconds per file; the odd digits mark this test's processes


def _processes_with(marker: str) -> list[int]:
    """Processes whose environment holds `marker` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker.encode() in environ:
            found.append(int(entry.name))
    return found


def test_killed_scan_resumes_to_the_same_summary_and_holds_the_lock(tmp_path: Path) -> None:
    root = tmp_path / "共享"
    for number in range(8):
        _variant("project-2023-clean.xlsx", root / f"单位{number % 3}/项目{number}.xlsx", number)
    _copy("split-2023-basic.xlsx", root / "审计局/a.xlsx")
    _copy("split-2023-self-eval.xlsx", root / "审计局/b/c.xlsx")
    out = tmp_path / "out"
    slow = subprocess.Popen(
        [str(PERF_EVAL), "scan", str(root), "--out", str(out), "--jobs", str(JOBS), "--format", "json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, TEST_SLEEP_ENV: SLOW},  # two seconds per file: 10 s of reading in all
    )
    try:
        deadline = time.monotonic() + 60
        while not (out / CACHE_DIR / "lock").exists():
            assert slow.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        # A second scan of the same OUTDIR while the first runs: refused, in Chinese.
        second = _run("scan", root, "--out", out, "--jobs", JOBS)
        assert second.returncode == 2
        assert "另一个 perf-eval scan 正在使用输出文件夹" in second.stderr
        assert "Traceback" not in second.stderr
        # Kill it as soon as some files are done (the next ones are two seconds away).
        while _cache_entries(out, "reads") < 2:
            assert slow.poll() is None, "the scan ended before it could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        slow.send_signal(signal.SIGKILL)
    finally:
        slow.kill()
        slow.wait()
    if sys.platform.startswith("linux"):
        time.sleep(0.5)
        assert _processes_with(f"{TEST_SLEEP_ENV}={SLOW}") == [], "a worker outlived the killed scan"
    assert not (out / "summary.json").exists()
    done_before = _cache_entries(out, "reads")
    assert 2 <= done_before < 10

    resumed = _run("scan", root, "--out", out, "--jobs", JOBS, "--format", "json")
    assert resumed.returncode == 0, resumed.stderr
    data = json.loads(resumed.stdout)
    assert data == json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert data["scan"]["run"]["read"] == 10 - done_before
    assert not list(out.rglob(".~perf-eval-*"))

    reference = scan(root, tmp_path / "一次完成")
    assert stable(data) == stable(reference.data)
    assert data["summary"] == {
        "files": 10,
        "clean": 10,
        "warnings_only": 0,
        "with_errors": 0,
        "unreadable": 0,
        "errors": 0,
        "warnings": 0,
        "infos": 0,
    }


def test_cli_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    root = tmp_path / "in"
    _copy("project-2023-clean.xlsx", root / "a.xlsx")
    clean = runner.invoke(app, ["scan", str(root), "--out", str(tmp_path / "o"), "--jobs", "1", "--format", "json"])
    assert clean.exit_code == 0, clean.output
    assert json.loads(clean.stdout)["summary"]["clean"] == 1
    _copy("broken/F01.xlsx", root / "b/不是表格.xlsx")
    errors = runner.invoke(app, ["scan", str(root), "--out", str(tmp_path / "o"), "--jobs", "1"])
    assert errors.exit_code == 1
    assert "需修改" in errors.stdout and "F01" in errors.stdout
    missing = runner.invoke(app, ["scan", str(tmp_path / "没有"), "--out", str(tmp_path / "o")])
    assert missing.exit_code == 2 and "要扫描的文件夹不存在" in missing.output
    inside = runner.invoke(app, ["scan", str(root), "--out", str(root / "结果")])
    assert inside.exit_code == 2 and "位于被扫描的文件夹" in inside.output
    assert not (root / "结果").exists()
    unknown = runner.invoke(app, ["scan", str(root), "--out", str(tmp_path / "o"), "--profile", "不存在"])
    assert unknown.exit_code == 2 and "未知的配置" in unknown.output


def test_json_on_stdout_is_the_summary_even_when_summary_json_cannot_be_written(tmp_path: Path) -> None:
    runner = CliRunner()
    root, out = tmp_path / "in", tmp_path / "o"
    _copy("project-2023-clean.xlsx", root / "a.xlsx")
    done = runner.invoke(app, ["scan", str(root), "--out", str(out), "--jobs", "1", "--format", "json"])
    assert done.exit_code == 0 and done.stdout_bytes == (out / "summary.json").read_bytes()  # printed as written
    (out / "summary.json").unlink()
    (out / "summary.json").mkdir()  # in the way: the summary cannot be written, it is still printed
    blocked = runner.invoke(app, ["scan", str(root), "--out", str(out), "--jobs", "1", "--format", "json", "--full"])
    assert blocked.exit_code == 2 and json.loads(blocked.stdout)["summary"]["clean"] == 1


# --- pairing from the cache, chunks, summaries that stay -------------------------------------


def _set_number(path: Path, coordinate: str, value: float) -> None:
    workbook = load_workbook(path)
    workbook.worksheets[0][coordinate] = value
    workbook.save(path)


def _with_unit(path: Path, unit: str) -> Path:
    """The split 基础数据表 with a 填报单位 line, so that it pairs by unit (as the benchmark's do)."""
    workbook = load_workbook(path)
    sheet = workbook.worksheets[0]
    sheet.cell(sheet.max_row + 1, 1, f"填报单位：{unit}")
    workbook.save(path)
    return path


AUDIT = "株洲市某某区审计局"


def build_pairing_tree(root: Path) -> None:
    """Every pairing rule at once: by folder, by unit across folders, nearer of two, a tie, shared content."""
    _copy("split-2023-basic.xlsx", root / "甲/基础.xlsx")  # names no unit: the 自评表 beside it
    _copy("split-2023-self-eval.xlsx", root / "甲/自评.xlsx")
    _with_unit(_copy("split-2023-basic.xlsx", root / "乙/基础-新.xlsx"), AUDIT)
    old = _with_unit(_copy("split-2023-basic.xlsx", root / "乙/基础-旧.xlsx"), AUDIT)
    _set_number(old, "D11", 100.5)  # 项目支出 and one project: X01 against a 自评表 saying 110.50
    _set_number(old, "D12", 29.5)
    _copy("split-2023-self-eval.xlsx", root / "乙/自评.xlsx")  # the same content as 甲/自评.xlsx
    _variant("split-2023-self-eval.xlsx", root / "丙/自评表.xlsx", 1)  # far from both: a tie, checked against both
    _copy("lusong-2023-seed.xlsx", root / "丁/整体.xlsx")
    _copy("broken/X01.xlsx", root / "丁/跨表.xlsx")
    _copy("project-2023-clean.xlsx", root / "丁/项目.xlsx")
    (root / "丁/空.xlsx").write_bytes(b"")


def assert_as_one_check(root: Path, outcome: ScanOutcome) -> None:
    """The scan's results are exactly those of one `check_workbooks` call over every file."""
    from perf_eval.checker import check_paths, pair_forms, read_one
    from perf_eval.reading.workbook import ReadWorkbook

    rels = [f.path for f in outcome.report.files]
    checked = check_paths([root / rel for rel in rels])
    for rel, scanned, one in zip(rels, outcome.data["files"], checked.files, strict=True):
        expected = {k: v for k, v in one.to_dict().items() if k not in ("path", "annotated")}
        assert {k: v for k, v in scanned.items() if k not in ("path", "annotated")} == expected, rel
    read = {rel: read_one(root / rel) for rel in rels}
    workbooks = [w for w in read.values() if isinstance(w, ReadWorkbook)]
    paired = {id(form) for pair in pair_forms(workbooks) for form in pair}
    unpaired = sorted(
        (rel, form.info.sheet)
        for rel, w in read.items()
        if isinstance(w, ReadWorkbook)
        for form in w.forms
        if form.info.kind.value in ("basic_data", "dept_self_eval") and id(form) not in paired
    )
    assert sorted((u["path"], u["sheet"]) for u in outcome.data["scan"]["unpaired"]) == unpaired


def test_pairing_from_the_cache_gives_what_one_check_of_every_file_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from perf_eval.scan import run as scan_run

    loaded: list[str] = []
    load = scan_run._Scan._workbook

    def counting(self: Any, item: Any) -> Any:
        loaded.append(item.found.rel)
        return load(self, item)

    monkeypatch.setattr(scan_run._Scan, "_workbook", counting)
    root, out = tmp_path / "共享", tmp_path / "out"
    build_pairing_tree(root)
    first = scan(root, out)
    assert_as_one_check(root, first)
    files = by_path(first)
    assert "X01" in rules_of(files["丙/自评表.xlsx"])  # tied: checked against both, 基础-旧 disagrees
    assert "X01" not in rules_of(files["甲/自评.xlsx"])

    loaded.clear()
    again = scan(root, out)
    assert loaded == [] and again.data["scan"]["run"]["checked"] == 0
    assert stable(again.data)["files"] == stable(first.data)["files"]

    # Renamed, the old 基础数据表 now sorts first: a tie does not depend on the order, and no file is read.
    (root / "乙/基础-旧.xlsx").rename(root / "乙/基础-0.xlsx")
    monkeypatch.setattr(scan_run, "_CHUNK", 1)  # every group its own rules call
    loaded.clear()
    renamed = scan(root, out)
    assert renamed.data["scan"]["run"]["read"] == 0
    assert_as_one_check(root, renamed)
    assert rules_of(by_path(renamed)["丙/自评表.xlsx"]) == rules_of(files["丙/自评表.xlsx"])
    assert "丁/项目.xlsx" not in loaded  # only the groups with a file to check again are loaded

    _set_text(root / "甲/自评.xlsx", "项目支出：110.50", "项目支出：100.50")
    changed = scan(root, out)
    assert changed.data["scan"]["run"]["read"] == 1
    assert_as_one_check(root, changed)
    assert "X01" in rules_of(by_path(changed)["甲/自评.xlsx"])


def test_a_damaged_cached_read_costs_one_run_of_its_group(tmp_path: Path) -> None:
    root, out = tmp_path / "共享", tmp_path / "out"
    _copy("split-2023-basic.xlsx", root / "甲/基础.xlsx")
    _copy("split-2023-self-eval.xlsx", root / "甲/自评.xlsx")
    scan(root, out)
    for entry in (out / CACHE_DIR / "reads").rglob("*.pickle"):
        entry.write_bytes(b"damaged")
    _set_text(root / "甲/自评.xlsx", "项目支出：110.50", "项目支出：100.50")  # the pair must be checked again
    damaged = scan(root, out)
    assert by_path(damaged)["甲/基础.xlsx"]["status"] == "unreadable"
    assert "下次扫描时将重新读取" in by_path(damaged)["甲/基础.xlsx"]["error"]
    healed = scan(root, out)
    assert healed.data["scan"]["run"]["read"] == 1  # the damaged one; the changed one was read last time
    assert_as_one_check(root, healed)


def _scan_in_a_new_process(root: Path, out: Path) -> dict[str, Any]:
    """Run `perf-eval scan --format json` in a fresh interpreter; its summary and the heavy modules it imported."""
    import perf_eval

    # The copy of perf-eval this test imported, not one that the working folder happens to hold.
    package_parent = str(Path(perf_eval.__file__).resolve().parent.parent)
    code = (
        "import json, sys\n"
        f"sys.path.insert(0, {package_parent!r})\n"
        "from perf_eval.cli import app\n"
        f"sys.argv = ['perf-eval', 'scan', {str(root)!r}, '--out', {str(out)!r}, '--jobs', '2', '--format', 'json']\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'pandas', 'pandera', 'numpy', 'openpyxl'})\n"
        "sys.stderr.write('HEAVY=' + json.dumps(heavy) + '\\n')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, encoding="utf-8", timeout=120, cwd=out.parent
    )
    heavy = next(line for line in done.stderr.splitlines() if line.startswith("HEAVY="))
    return {"data": json.loads(done.stdout), "heavy": json.loads(heavy.removeprefix("HEAVY="))}


def test_an_unpaired_form_reads_the_same_from_the_cache_and_summary_xlsx_stays(tmp_path: Path) -> None:
    """The cached read of a form carries its layout family: a rescan does not see a change that is not there."""
    root, out = tmp_path / "共享", tmp_path / "out"
    _copy("split-2023-self-eval.xlsx", root / "乙/自评.xlsx")
    first = scan(root, out, full=True)
    [unpaired] = first.data["scan"]["unpaired"]
    assert unpaired["family"] == "E"
    before = (out / "summary.xlsx").stat().st_mtime_ns
    second = scan(root, out)
    assert second.data["scan"]["unpaired"] == [unpaired]
    assert (out / "summary.xlsx").stat().st_mtime_ns == before


def test_an_unchanged_rescan_imports_no_rules_and_keeps_summary_xlsx(tmp_path: Path) -> None:
    root, out = tmp_path / "共享", tmp_path / "out"
    _copy("split-2023-basic.xlsx", root / "甲/基础.xlsx")
    _copy("split-2023-self-eval.xlsx", root / "甲/自评.xlsx")
    _copy("project-2023-clean.xlsx", root / "项目.xlsx")
    _copy("broken/F01.xlsx", root / "不是表格.xlsx")
    first = scan(root, out, full=True)
    xlsx, json_path = out / "summary.xlsx", out / "summary.json"
    before = xlsx.stat()

    second = _scan_in_a_new_process(root, out)
    assert second["heavy"] == []  # no pandas, pandera or openpyxl: nothing to check, no summary.xlsx to write
    assert second["data"]["scan"]["changes"]["unchanged"] == 4
    assert xlsx.stat().st_mtime_ns == before.st_mtime_ns and xlsx.stat().st_ino == before.st_ino
    # summary.json is written every time: its `scan.run` is this run's.
    assert json.loads(json_path.read_text(encoding="utf-8")) == second["data"]
    assert stable(second["data"])["files"] == stable(first.data)["files"]

    # What summary.xlsx shows changes: it is written again.
    _set_text(root / "甲/自评.xlsx", "项目支出：110.50", "项目支出：100.50")
    scan(root, out)
    assert xlsx.stat().st_mtime_ns != before.st_mtime_ns
    rows = {row[4].value for row in load_workbook(xlsx)["问题清单"].iter_rows(min_row=2)}
    assert "X01" in rows

    # Someone edited or removed summary.xlsx: the next scan writes it again, even with nothing changed.
    xlsx.write_bytes(b"edited")
    scan(root, out)
    assert load_workbook(xlsx).sheetnames[0] == "本次变化"
    xlsx.unlink()
    scan(root, out)
    assert xlsx.is_file()


def test_summary_json_has_one_line_per_file() -> None:
    from perf_eval.outputs import json_report

    data = {
        "tool": {"name": "perf-eval"},
        "files": [
            {"path": f"单位{n}/表.xlsx", "deviations": [{"rule": "B05", "expected": 1.5}], "n": n} for n in range(3)
        ],
        "summary": {"files": 3, "empty": []},
    }
    text = "".join(json_report.summary_chunks(data))
    assert json.loads(text) == data
    lines = text.splitlines()
    assert [line.strip().rstrip(",") for line in lines if "单位" in line] == [
        json.dumps(entry, ensure_ascii=False) for entry in data["files"]
    ]
    assert '  "tool": {' in lines and '    "files": 3,' in lines


def test_summary_json_text_is_written_in_chunks_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from perf_eval.outputs import json_report

    monkeypatch.setattr(json_report, "_PIECES", 7)  # many chunks even for a small summary
    data = {"tool": "perf-eval", "files": [{"path": f"单位{n}/表.xlsx", "deviations": [], "n": n} for n in range(50)]}
    assert json_report.dumps(data) == json.dumps(data, ensure_ascii=False, indent=2)
    assert len(list(json_report.chunks(data))) > 10
