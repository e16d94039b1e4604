"""`perf-eval scan` on a folder holding written reports (附件1) beside the forms.

The reports are paired with their unit's forms as `check` pairs them; their findings reach
summary.json (with the paragraph), summary.xlsx (问题清单, 单位汇总, 跳过与未配对), the terminal,
and an annotated copy under OUTDIR. A changed report, or a changed partner workbook, is checked
again; nothing else is.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from perf_eval.checker import check_files
from perf_eval.cli import app
from perf_eval.scan import ScanOptions, ScanOutcome, run_scan

ROOT = Path(__file__).parent.parent
SAMPLES = ROOT / "sample_workbooks"
REPORTS = SAMPLES / "reports"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
UNIT_DIR = "财政局/2023"
REPORT = f"{UNIT_DIR}/芦淞区自评报告.docx"
WORKBOOK = f"{UNIT_DIR}/芦淞区自评表.xlsx"
LONE = "其他单位/某局自评报告.docx"


def _copy(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def build(root: Path) -> Path:
    _copy(SAMPLES / "lusong-2023-seed.xlsx", root / WORKBOOK)
    _copy(REPORTS / "lusong-2023-report.docx", root / REPORT)
    lone = _copy(REPORTS / "lusong-2023-consistent.docx", root / LONE)
    _rename_unit(lone, "芦淞区财政局", "芦淞区审计局")
    return root


def _rename_unit(docx: Path, old: str, new: str) -> None:
    """The same report for another unit (no forms of that unit in the folder)."""
    data = {}
    with zipfile.ZipFile(docx) as archive:
        for info in archive.infolist():
            data[info.filename] = archive.read(info)
    document = data["word/document.xml"].decode("utf-8")
    assert old in document
    data["word/document.xml"] = document.replace(old, new).encode("utf-8")
    with zipfile.ZipFile(docx, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in data.items():
            archive.writestr(name, content)


def scan(root: Path, out: Path, **options: Any) -> ScanOutcome:
    return run_scan(ScanOptions(root=root, out=out, jobs=2, **options))


def files_of(outcome: ScanOutcome) -> dict[str, dict[str, Any]]:
    return {f["path"]: f for f in outcome.data["files"]}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def comments(docx: Path) -> list[str]:
    from defusedxml import ElementTree

    with zipfile.ZipFile(docx) as archive:
        if "word/comments.xml" not in archive.namelist():
            return []
        tree = ElementTree.fromstring(archive.read("word/comments.xml"))
    return ["".join(t.text or "" for t in c.iter(f"{W}t")) for c in tree.iter(f"{W}comment")]


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, ScanOutcome, dict[str, str]]:
    base = tmp_path_factory.mktemp("reports")
    root = build(base / "in")
    before = {rel: digest(root / rel) for rel in (REPORT, WORKBOOK, LONE)}
    outcome = scan(root, base / "out")
    return root, base / "out", outcome, before


def test_report_is_paired_and_its_finding_has_the_paragraph(scanned: Any) -> None:
    _, _, outcome, _ = scanned
    report = files_of(outcome)[REPORT]
    assert report["forms"][0]["kind"] == "report"
    [finding] = report["deviations"]
    assert finding["rule"] == "N01" and finding["paragraph"] == 8
    assert finding["sentence"].startswith("共有编制人数37人") or "共有编制人数37人" in finding["sentence"]
    assert finding["related"] == ["附件2!B4"]
    assert finding["related_file"] == WORKBOOK  # relative to the scanned folder, as every path of the scan
    # The same finding `check` gives for the same two files.
    checked = check_files([REPORTS / "lusong-2023-report.docx", SAMPLES / "lusong-2023-seed.xlsx"])[0].result
    assert [(f.rule, f.place.paragraph if f.place else None, f.expected, f.actual) for f in checked.deviations] == [
        ("N01", 8, finding["expected"], finding["actual"])
    ]


def test_a_report_without_forms_gets_n00_and_is_listed_unpaired(scanned: Any) -> None:
    _, _, outcome, _ = scanned
    lone = files_of(outcome)[LONE]
    assert [f["rule"] for f in lone["deviations"]] == ["N00"]
    assert lone["forms"][0]["unit"] == "株洲市芦淞区审计局"
    assert any(u["path"] == LONE and u["kind"] == "report" for u in outcome.data["scan"]["unpaired"])


def test_report_findings_count_in_their_units_row(scanned: Any) -> None:
    _, _, outcome, _ = scanned
    [unit] = [u for u in outcome.data["scan"]["units"] if REPORT in u["files"]]
    assert WORKBOOK in unit["files"]  # one row for the unit: the report joined its forms
    assert unit["rules"].get("N01") == 1
    assert any(p["rule"] == "N01" and p["files"] == [REPORT] for p in unit["problems"])


def test_summary_xlsx_lists_report_findings_at_their_paragraph(scanned: Any) -> None:
    _, out, _, _ = scanned
    workbook = load_workbook(out / "summary.xlsx")
    sheet = workbook["问题清单"]
    headers = [c.value for c in sheet[1]]
    rows = [dict(zip(headers, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)]
    [n01] = [r for r in rows if r["规则"] == "N01"]
    assert n01["单元格"] == "第8段" and n01["路径"] == REPORT
    assert "共有编制人数37人" in n01["说明"] and (n01["应为"], n01["实际"]) == (36, 37)
    [n00] = [r for r in rows if r["规则"] == "N00"]
    assert n00["单元格"] == "（报告）"
    units = workbook["单位汇总"]
    unit_headers = [c.value for c in units[1]]
    unit_rows = [dict(zip(unit_headers, r, strict=True)) for r in units.iter_rows(min_row=2, values_only=True)]
    [lusong] = [r for r in unit_rows if REPORT in (r["判定所依据的文件"] or "")]
    assert "N01×1" in lusong["问题（错误在前，规则×次数）"] and lusong["错误数"] >= 1
    other = workbook["跳过与未配对"]
    assert any(r[0] == "未配对的报告" and r[1] == LONE for r in other.iter_rows(min_row=2, values_only=True))


def test_annotated_report_copy_under_out_and_originals_untouched(scanned: Any) -> None:
    root, out, outcome, before = scanned
    report = files_of(outcome)[REPORT]
    assert report["annotated"] == f"{UNIT_DIR}/芦淞区自评报告.校验.docx"
    [comment] = comments(out / report["annotated"])
    assert comment.startswith("N01") and "共有编制人数37人" in comment
    assert {rel: digest(root / rel) for rel in before} == before
    assert not any(p.name.endswith(".校验.docx") for p in root.rglob("*"))


def test_terminal_lists_the_report_findings(tmp_path: Path) -> None:
    root = build(tmp_path / "in")
    result = CliRunner().invoke(app, ["scan", str(root), "--out", str(tmp_path / "out"), "-j", "1"])
    assert result.exit_code == 1, result.output
    assert "自评报告 2 份" in result.output and "未找到对照表单 1 份" in result.output
    assert "第8段" in result.output and "共有编制人数37人" in result.output


def _set_staff(workbook: Path, value: int) -> None:
    book = load_workbook(workbook)
    book["附件2"]["B4"] = value
    book.save(workbook)


def test_changed_report_or_partner_is_checked_again_and_nothing_else(tmp_path: Path) -> None:
    root, out = build(tmp_path / "in"), tmp_path / "out"
    first = scan(root, out)
    assert first.data["scan"]["run"]["checked"] == 3
    again = scan(root, out)
    assert (again.data["scan"]["run"]["read"], again.data["scan"]["run"]["checked"]) == (0, 0)
    assert files_of(again)[REPORT]["deviations"] == files_of(first)[REPORT]["deviations"]
    assert (out / files_of(again)[REPORT]["annotated"]).is_file()

    # The report is corrected: read and checked again, alone; its copy (now without findings) is gone.
    shutil.copyfile(REPORTS / "lusong-2023-consistent.docx", root / REPORT)
    fixed = scan(root, out)
    run = fixed.data["scan"]["run"]
    assert (run["read"], run["checked"]) == (1, 1)
    assert files_of(fixed)[REPORT]["deviations"] == []
    assert files_of(fixed)[REPORT]["annotated"] is None
    assert not (out / f"{UNIT_DIR}/芦淞区自评报告.校验.docx").exists()
    assert fixed.data["scan"]["since_last"]["counts"]["fixed"] >= 1

    # The workbook changes (编制数 37 now): the unchanged report is checked again against it.
    _set_staff(root / WORKBOOK, 37)
    changed = scan(root, out)
    run = changed.data["scan"]["run"]
    assert run["read"] == 1 and run["checked"] == 2  # the workbook and its report
    [finding] = files_of(changed)[REPORT]["deviations"]
    assert (finding["rule"], finding["expected"], finding["actual"]) == ("N01", 37, 36)


def test_two_versions_of_a_units_report_the_latest_judges(tmp_path: Path) -> None:
    root, out = build(tmp_path / "in"), tmp_path / "out"
    newer = _copy(REPORTS / "lusong-2023-consistent.docx", root / f"{UNIT_DIR}/芦淞区自评报告（修改后）.docx")
    old_time = (root / REPORT).stat().st_mtime - 3600
    os.utime(root / REPORT, (old_time, old_time))
    outcome = scan(root, out)
    [unit] = [u for u in outcome.data["scan"]["units"] if WORKBOOK in u["files"]]
    assert [o["path"] for o in unit["old_versions"]] == [REPORT]
    assert unit["old_versions"][0]["replaced_by"] == newer.relative_to(root).as_posix()
    assert "N01" not in unit["rules"]  # the old version's finding does not count
    assert [s["state"] for s in outcome.data["scan"]["findings"][REPORT]] == ["old_version"]


def test_a_report_is_checked_against_the_latest_version_of_its_forms(tmp_path: Path) -> None:
    """Of two versions of the unit's workbook, the report is checked against the one that judges the unit.

    The old version's name is the more like the report's, and it sits in the same folder: nearness
    must not pick it.
    """
    from openpyxl import load_workbook

    root, out = tmp_path / "in", tmp_path / "out"
    _copy(REPORTS / "lusong-2023-consistent.docx", root / REPORT)  # 编制人数 36, as the corrected forms
    latest = _copy(SAMPLES / "lusong-2023-corrected.xlsx", root / f"{UNIT_DIR}/自评表（修改后）.xlsx")
    old = _copy(SAMPLES / "lusong-2023-corrected.xlsx", root / WORKBOOK)
    book = load_workbook(old)
    book["附件2"]["B4"] = 37  # the draft said 37
    for sheet, cell in (("附件2", "A30"), ("附件3", "A33")):
        book[sheet][cell] = str(book[sheet][cell].value).replace("2024年3月15日", "2024年3月1日")
    book.save(old)
    stamp = latest.stat().st_mtime - 3600
    os.utime(latest, (stamp, stamp))  # saved earlier, yet the later 填报日期

    outcome = scan(root, out)
    [unit] = [u for u in outcome.data["scan"]["units"] if u["unit"] == "株洲市芦淞区财政局"]
    assert [o["path"] for o in unit["old_versions"]] == [WORKBOOK]
    report = files_of(outcome)[REPORT]
    assert report["deviations"] == []  # against the draft it would be N01 (37 against 36)
    assert outcome.data["scan"]["notes"][REPORT] == [f"对照的表单：{latest.relative_to(root).as_posix()}"]


def test_legacy_report_without_libreoffice_is_one_chinese_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_narrative import _legacy_header

    root = tmp_path / "in"
    _copy(SAMPLES / "lusong-2023-seed.xlsx", root / WORKBOOK)
    (root / f"{UNIT_DIR}/旧版报告.doc").write_bytes(_legacy_header())
    (root / f"{UNIT_DIR}/~$旧版报告.doc").write_bytes(b"\x05owner" + b"\x00" * 100)
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # the workers start with this PATH: no soffice
    outcome = scan(root, tmp_path / "out")
    entry = files_of(outcome)[f"{UNIT_DIR}/旧版报告.doc"]
    assert entry["status"] == "unreadable" and "未安装 LibreOffice" in entry["error"]
    skipped = {s["path"]: s["code"] for s in outcome.data["scan"]["skipped"]}
    assert skipped[f"{UNIT_DIR}/~$旧版报告.doc"] == "lock"
    assert json.dumps(outcome.data, ensure_ascii=False).count("Traceback") == 0


def test_doc_report_is_converted_in_the_scan_worker_and_checked(tmp_path: Path) -> None:
    import subprocess

    soffice = shutil.which("soffice")
    if soffice is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice (soffice) is required in CI")
        pytest.skip("LibreOffice (soffice) is not installed")
    root = tmp_path / "in"
    _copy(SAMPLES / "lusong-2023-seed.xlsx", root / WORKBOOK)
    subprocess.run(
        [soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless", "--norestore",
         "--convert-to", "doc", "--outdir", str(root / UNIT_DIR), str(REPORTS / "lusong-2023-report.docx")],
        check=True, timeout=180, capture_output=True,
    )  # fmt: skip
    # Under the worker's memory limit (LibreOffice is started without it, under its own time limit).
    outcome = scan(root, tmp_path / "out")
    entry = files_of(outcome)[f"{UNIT_DIR}/lusong-2023-report.doc"]
    assert [f["rule"] for f in entry["deviations"]] == ["N01"], entry.get("error")
    assert entry["annotated"] == f"{UNIT_DIR}/lusong-2023-report.校验.docx"
    assert comments(tmp_path / "out" / entry["annotated"])[0].startswith("N01")
