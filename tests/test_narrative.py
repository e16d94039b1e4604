"""The written report against its forms: the samples of build_reports.py, the CLI, the annotated copy."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from perf_eval.checker import check_files
from perf_eval.cli import app
from perf_eval.narrative import document as document_module
from perf_eval.narrative.document import read_report

ROOT = Path(__file__).parent.parent
SAMPLES = ROOT / "sample_workbooks"
REPORTS = SAMPLES / "reports"
REPORT_MANIFEST = json.loads((REPORTS / "manifest.json").read_text(encoding="utf-8"))
GOLDEN = Path(__file__).parent / "golden" / "reports"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def report_result(report: str, workbook: str | None) -> dict:  # type: ignore[type-arg]
    paths = [REPORTS / report, *([SAMPLES / workbook] if workbook else [])]
    return check_files(paths)[0].result.to_dict()


def _case_id(case: dict) -> str:  # type: ignore[type-arg]
    return str(case["file"])


@pytest.mark.parametrize("case", REPORT_MANIFEST, ids=_case_id)
def test_each_sample_report_gives_exactly_its_expected_findings(case: dict) -> None:  # type: ignore[type-arg]
    for workbook in [case["workbook"], *case["also_with"]]:
        result = report_result(case["file"], workbook)
        got = [
            {
                "rule": f["rule"],
                "where": (f"第{f['paragraph']}段" if f.get("paragraph") else "") if "sentence" in f else "",
                "quote": re.search(r"称“(.*?)”，", f["message"]).group(1) if "sentence" in f else "",  # type: ignore[union-attr]
                "cell": f["related"][0] if f.get("related") else None,
            }
            for f in result["deviations"]
        ]
        assert got == case["expect"], workbook


def _golden_text(case: dict) -> str:  # type: ignore[type-arg]
    data = report_result(case["file"], case["workbook"])
    data["path"] = case["file"]
    for finding in data["deviations"]:
        if finding.get("related_file"):
            finding["related_file"] = Path(finding["related_file"]).name
    # The notes name the forms read; the checkout's location is not part of the result.
    data["notes"] = [note.replace(str(SAMPLES) + "/", "") for note in data.get("notes", [])]
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


@pytest.mark.parametrize("case", REPORT_MANIFEST, ids=_case_id)
def test_sample_report_findings_match_golden(case: dict) -> None:  # type: ignore[type-arg]
    path = GOLDEN / (case["file"].removesuffix(".docx").replace("/", "__") + ".json")
    text = _golden_text(case)
    if os.environ.get("PERF_EVAL_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}; run with PERF_EVAL_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def test_seed_report_names_the_sentence_and_the_basic_data_cell() -> None:
    finding = report_result("lusong-2023-report.docx", "lusong-2023-seed.xlsx")["deviations"][0]
    assert finding["message"] == "报告第8段称“共有编制人数37人”，基础数据表 附件2!B4 编制数为 36"
    assert (finding["sheet"], finding["cell"], finding["paragraph"]) == (None, None, 8)
    assert finding["sentence"].startswith("株洲市芦淞区财政局是区人民政府的工作部门")
    assert (finding["expected"], finding["actual"]) == (36, 37)
    assert Path(finding["related_file"]).name == "lusong-2023-seed.xlsx"


def test_build_reports_is_deterministic_and_matches_the_committed_files(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(SAMPLES / "build_reports.py"), str(tmp_path)], check=True)
    for made in tmp_path.rglob("*"):
        if made.is_file():
            assert made.read_bytes() == (REPORTS / made.relative_to(tmp_path)).read_bytes(), made.name


# --- the command line -----------------------------------------------------------------------


def test_check_takes_report_and_workbook_in_one_command(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["check", str(REPORTS / "lusong-2023-report.docx"), str(SAMPLES / "lusong-2023-seed.xlsx"),
         "--out", str(tmp_path), "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    report, workbook = data["files"]
    assert report["status"] == "errors" and report["forms"][0]["kind"] == "report"
    assert report["annotated"] == str(tmp_path / "lusong-2023-report.校验.docx")
    assert workbook["annotated"] == str(tmp_path / "lusong-2023-seed.校验.xlsx")
    assert data["summary"]["files"] == 2
    # The workbook's own findings are unchanged by the report beside it.
    alone = check_files([SAMPLES / "lusong-2023-seed.xlsx"])[0].result.to_dict()["deviations"]
    assert workbook["deviations"] == alone


def test_corrected_pair_raises_nothing() -> None:
    result = CliRunner().invoke(
        app,
        ["check", str(REPORTS / "lusong-2023-consistent.docx"), str(SAMPLES / "lusong-2023-corrected.xlsx"),
         "--no-annotate", "--format", "json"],
    )  # fmt: skip
    report = json.loads(result.stdout)["files"][0]
    assert report["status"] == "clean" and report["deviations"] == []


def test_terminal_lists_report_findings_at_their_paragraph() -> None:
    result = CliRunner().invoke(
        app,
        ["check", str(REPORTS / "lusong-2023-report.docx"), str(SAMPLES / "lusong-2023-seed.xlsx"), "--no-annotate"],
        env={"COLUMNS": "200"},
    )
    assert "第8段" in result.output and "N01" in result.output
    assert "报告第8段称“共有编制人数37人”，基础数据表 附件2!B4 编制数为 36" in result.output


def test_workbook_copy_lists_the_paired_report_findings(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    CliRunner().invoke(
        app,
        [
            "check",
            str(REPORTS / "lusong-2023-report.docx"),
            str(SAMPLES / "lusong-2023-seed.xlsx"),
            "-o",
            str(tmp_path),
        ],
    )
    sheet = load_workbook(tmp_path / "lusong-2023-seed.校验.xlsx")["校验结果"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    titles = [r[0] for r in rows if isinstance(r[0], str) and r[0].startswith("绩效自评报告")]
    assert titles == ["绩效自评报告 lusong-2023-report.docx：错误 1 项，警告 0 项"]
    assert ["错误", "N01", "报告第8段"] in [r[:3] for r in rows]


def test_rules_command_shows_the_n_rules() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "perf_eval", "rules", "N01"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
    ).stdout
    assert "N01" in out and "共有编制人数37人" in out


def test_profile_overrides_an_n_rule_severity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from perf_eval import profiles

    source = (profiles.schemas_dir() / "hunan-2023.toml").read_text(encoding="utf-8")
    (tmp_path / "lenient.toml").write_text(
        source.replace('name = "hunan-2023"', 'name = "lenient"').replace("[severity]", '[severity]\nN01 = "warning"'),
        encoding="utf-8",
    )
    monkeypatch.setattr(profiles, "schemas_dir", lambda: tmp_path)
    profiles.load.cache_clear()
    try:
        paths = [REPORTS / "lusong-2023-report.docx", SAMPLES / "lusong-2023-seed.xlsx"]
        finding = check_files(paths, profile="lenient")[0].result.deviations[0]
    finally:
        profiles.load.cache_clear()
    assert (finding.rule, finding.severity.value) == ("N01", "warning")


# --- the annotated copy -----------------------------------------------------------------------


def commented_text(docx: Path) -> dict[str, str]:
    """{comment text: the document text its range covers}."""
    from defusedxml import ElementTree

    with zipfile.ZipFile(docx) as archive:
        body = ElementTree.fromstring(archive.read("word/document.xml"))
        notes = ElementTree.fromstring(archive.read("word/comments.xml"))
    texts = {c.get(f"{W}id"): "\n".join("".join(t.text or "" for t in p.iter(f"{W}t")) for p in c.iter(f"{W}p"))
             for c in notes.iter(f"{W}comment")}  # fmt: skip
    open_ranges: dict[str, list[str]] = {}
    covered: dict[str, str] = {}
    for element in body.iter():
        if element.tag == f"{W}commentRangeStart":
            open_ranges[element.get(f"{W}id")] = []
        elif element.tag == f"{W}commentRangeEnd":
            key = element.get(f"{W}id")
            covered[texts[key]] = "".join(open_ranges.pop(key))
        elif element.tag == f"{W}t":
            for parts in open_ranges.values():
                parts.append(element.text or "")
    return covered


def test_annotated_report_comments_exactly_the_sentence(tmp_path: Path) -> None:
    source = tmp_path / "自评报告.docx"
    shutil.copyfile(REPORTS / "broken" / "N04-project.docx", source)
    before = source.read_bytes()
    CliRunner().invoke(
        app, ["check", str(source), str(SAMPLES / "lusong-2023-corrected.xlsx"), "-o", str(tmp_path / "out")]
    )
    copy = tmp_path / "out" / "自评报告.校验.docx"
    covered = commented_text(copy)
    [(comment, text)] = covered.items()
    assert comment.startswith("N04（错误）报告第31段称“实际支出58.74万元”")
    assert text.startswith("国有资产管理项目预算资金40万元，实际支出58.74万元") and text.endswith("清查。")
    assert source.read_bytes() == before
    # The copy reads as the same report: same paragraphs, same places.
    assert [b.text for b in read_report(copy).blocks] == [b.text for b in read_report(source).blocks]


def test_annotated_copy_is_never_written_over_a_file_it_did_not_make(tmp_path: Path) -> None:
    source = tmp_path / "报告.docx"
    shutil.copyfile(REPORTS / "lusong-2023-report.docx", source)
    workbook = tmp_path / "表.xlsx"
    shutil.copyfile(SAMPLES / "lusong-2023-seed.xlsx", workbook)
    stranger = tmp_path / "报告.校验.docx"
    stranger.write_bytes(b"someone else's file")
    result = CliRunner().invoke(app, ["check", str(source), str(workbook), "--format", "json"])
    assert stranger.read_bytes() == b"someone else's file"
    assert json.loads(result.stdout)["files"][0]["annotated"] == str(tmp_path / "报告.校验(2).docx")
    # A second run replaces its own copy instead of adding a third.
    CliRunner().invoke(app, ["check", str(source), str(workbook)])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "报告.docx",
        "报告.校验(2).docx",
        "报告.校验.docx",
        "表.xlsx",
        "表.校验.xlsx",
    ]


# --- unreadable and legacy reports ------------------------------------------------------------


def _docx_with(part: str, data: bytes) -> bytes:
    source = zipfile.ZipFile(REPORTS / "lusong-2023-report.docx")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, data if info.filename == part else source.read(info))
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "文件为空"),
        (b"plain text, not a document", "不是 Word 文档"),
        (b"PK\x03\x04" + b"\x00" * 40, "压缩包已损坏"),
        (
            _docx_with("word/document.xml", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'),
            "DOCTYPE",
        ),
        (_docx_with("word/document.xml", b"<w:document" + b"<a>" * 10 + b"\x00"), "不是有效的 XML"),
        (_docx_with("word/document.xml", b"<a>" + b" " * (20 << 20) + b"</a>"), "压缩炸弹"),
    ],
    ids=["empty", "text", "broken-zip", "doctype", "bad-xml", "bomb"],
)
def test_hostile_or_broken_report_is_one_chinese_line_and_exit_2(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "报告.docx"
    path.write_bytes(content)
    result = CliRunner().invoke(app, ["check", str(path), "--format", "json"])
    assert result.exit_code == 2
    entry = json.loads(result.stdout)["files"][0]
    assert entry["status"] == "unreadable" and words in entry["error"]


def test_doc_without_libreoffice_says_how_to_convert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "报告.doc"
    path.write_bytes((Path(__file__).parent / "fixtures" / "annotate_source.xls").read_bytes())
    monkeypatch.setattr(document_module, "soffice", lambda: None)
    result = CliRunner().invoke(app, ["check", str(path), "--format", "json"])
    assert "不是 Word 文档" in json.loads(result.stdout)["files"][0]["error"]  # an .xls named .doc
    word = tmp_path / "word.doc"
    word.write_bytes(_legacy_header())
    result = CliRunner().invoke(app, ["check", str(word), "--format", "json"])
    assert "未安装 LibreOffice" in json.loads(result.stdout)["files"][0]["error"]


def _legacy_header() -> bytes:
    """The smallest OLE compound file holding a "WordDocument" stream name (enough to be routed)."""
    import struct

    header = bytearray(512)
    header[:8] = bytes.fromhex("D0CF11E0A1B11AE1")
    struct.pack_into("<HHH", header, 24, 0x3E, 3, 0xFFFE)
    struct.pack_into("<H", header, 30, 9)
    struct.pack_into("<H", header, 32, 6)
    struct.pack_into("<I", header, 44, 1)  # one FAT sector
    struct.pack_into("<I", header, 48, 1)  # directory at sector 1
    struct.pack_into("<I", header, 68, 0xFFFFFFFE)
    difat = [0] + [0xFFFFFFFF] * 108
    struct.pack_into("<109I", header, 76, *difat)
    fat = [0xFFFFFFFD, 0xFFFFFFFE] + [0xFFFFFFFF] * 126
    directory = bytearray(512)
    for index, name in enumerate(["Root Entry", "WordDocument"]):
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        directory[index * 128 : index * 128 + len(encoded)] = encoded
        struct.pack_into("<H", directory, index * 128 + 64, len(encoded))
        directory[index * 128 + 66] = 5 if index == 0 else 2
    return bytes(header) + struct.pack("<128I", *fat) + bytes(directory)


@pytest.fixture(scope="module")
def soffice() -> str:
    path = shutil.which("soffice")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice (soffice) is required in CI")
        pytest.skip("LibreOffice (soffice) is not installed")
    return path


def _convert(soffice: str, profile: Path, fmt: str, source: Path, out: Path) -> Path:
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
         "--convert-to", fmt, "--outdir", str(out), str(source)],
        check=True, timeout=180, capture_output=True,
    )  # fmt: skip
    return out / f"{source.stem}.{fmt.split(':')[0]}"


def test_libreoffice_opens_the_annotated_report_with_comments_at_the_sentences(soffice: str, tmp_path: Path) -> None:
    CliRunner().invoke(
        app, ["check", str(REPORTS / "broken" / "N03-spending.docx"), str(SAMPLES / "lusong-2023-corrected.xlsx"),
              "-o", str(tmp_path)],
    )  # fmt: skip
    copy = tmp_path / "N03-spending.校验.docx"
    pdf = _convert(soffice, tmp_path / "profile", "pdf", copy, tmp_path / "pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    resaved = _convert(soffice, tmp_path / "profile", "docx", copy, tmp_path / "resaved")
    assert commented_text(resaved) == commented_text(copy)
    [(comment, text)] = commented_text(copy).items()
    assert "公用经费98.47万元" in comment and text.startswith("其中：项目支出238.43万元")


def test_doc_report_is_converted_by_libreoffice_and_checked(soffice: str, tmp_path: Path) -> None:
    doc = _convert(soffice, tmp_path / "profile", "doc", REPORTS / "lusong-2023-report.docx", tmp_path)
    result = CliRunner().invoke(
        app,
        ["check", str(doc), str(SAMPLES / "lusong-2023-seed.xlsx"), "-o", str(tmp_path / "out"), "--format", "json"],
    )
    report = json.loads(result.stdout)["files"][0]
    assert [f["rule"] for f in report["deviations"]] == ["N01"]
    assert report["annotated"].endswith("lusong-2023-report.校验.docx")
