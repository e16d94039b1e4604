"""The safe-opening layer: routing, pre-flight limits, isolation, fingerprints.

Every case of the generated hostile corpus (tests/hostile/make_corpus.py)
must end in its expected outcome, quickly and in bounded memory; the limits
are each tripped on small files with lowered `Limits`; a fuzz run mutates a
valid workbook and accepts only facts or `UnreadableWorkbook`.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perf_eval.reading import safety
from perf_eval.reading.safety import Limits, UnreadableWorkbook, WorkbookFacts, WorkbookFormat

ROOT = Path(__file__).resolve().parents[1]


# The corpus module is also imported by name in the isolated children.
sys.path.insert(0, str(Path(__file__).parent / "hostile"))
import make_corpus as corpus  # noqa: E402


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    corpus.build(folder)
    return folder


def check(path: Path, limits: Limits = safety.DEFAULT_LIMITS) -> WorkbookFacts:
    return safety.preflight(path, safety.sniff(path), limits)


# Each hostile case is read in a child: a hang or a blow-up fails the case, not the run.
CHILD_LIMITS = Limits(child_wall_seconds=30)


@pytest.mark.parametrize("name", sorted(corpus.CASES))
def test_corpus_case_has_expected_outcome_quickly_and_in_bounded_memory(corpus_dir: Path, name: str) -> None:
    expected = corpus.CASES[name][0]
    outcome, code, facts, seconds, growth_kib = safety.run_isolated(
        corpus.probe, str(corpus_dir / name), limits=CHILD_LIMITS
    )
    if expected == corpus.OK:
        assert outcome == "ok", outcome
        assert isinstance(facts, WorkbookFacts)
    else:
        assert expected in outcome, (code, outcome)
        assert "\n" not in outcome
    assert seconds < 10
    assert growth_kib < 200 * 1024


def test_corpus_ok_cases_report_their_facts(corpus_dir: Path) -> None:
    facts = {name: check(corpus_dir / name) for name, (expected, _) in corpus.CASES.items() if expected == corpus.OK}

    valid = facts["valid.xlsx"]
    assert [(s.name, s.state, s.cells, s.used_range) for s in valid.sheets] == [("基础数据表", "visible", 7, "A1:D3")]
    assert valid.defined_names == 1
    assert (valid.has_macros, valid.external_links, valid.drawings) == (False, 0, ())

    uncached = facts["formulas_uncached.xlsx"].sheets[0]
    assert uncached.formula_cells_without_value == ("B1", "A2", "B2")
    assert uncached.used_range == "A1:AA2"

    assert facts["external_link.xlsx"].external_links == 1
    assert facts["macros.xlsm"].has_macros is True
    assert facts["drawing.xlsx"].drawings == ("图表",)
    assert [(s.name, s.state) for s in facts["hidden_sheets.xlsx"].sheets] == [
        ("可见", "visible"),
        ("隐藏", "hidden"),
        ("深度隐藏", "veryHidden"),
    ]
    assert facts["dimension_lies.xlsx"].sheets[0].used_range == "A1:B2"

    legacy = facts["legacy_xls.xlsx"]
    assert safety.sniff(corpus_dir / "legacy_xls.xlsx") is WorkbookFormat.XLS
    assert [(s.name, s.state, s.cells, s.used_range) for s in legacy.sheets] == [
        ("基础数据表", "visible", 3, "A1:D3"),
        ("隐藏表", "hidden", 1, "A1:A1"),
    ]


def test_corpus_ok_cases_are_real_workbooks(corpus_dir: Path) -> None:
    """The generated "ok" files are read by the real readers too, so the corpus tests something."""
    import python_calamine

    for name, (expected, _) in corpus.CASES.items():
        if expected != corpus.OK:
            continue
        with open(corpus_dir / name, "rb") as handle:
            book = python_calamine.CalamineWorkbook.from_filelike(handle)
        assert book.sheet_names == [s.name for s in check(corpus_dir / name).sheets], name


# --- Normal workbooks -------------------------------------------------------------------


def _openpyxl_workbook(path: Path) -> None:
    """A form-like workbook as openpyxl writes it (formulas without cached values)."""
    import openpyxl
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "项目支出绩效自评表"
    sheet["A1"] = "项目支出绩效自评表（2023年度）"
    sheet.merge_cells("A1:J1")
    sheet["A1"].font = Font(bold=True, size=16)
    sheet["A1"].alignment = Alignment(horizontal="center")
    thin = Side(style="thin")
    for row in range(2, 300):
        for col in range(1, 9):
            cell = sheet.cell(row, col, f"指标{row}-{col}" if col < 3 else row * col * 1.25)
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        sheet.cell(row, 9, f"=C{row}+D{row}")
        sheet.cell(row, 10, f"=IF(C{row}>0,D{row}/C{row},0)").fill = PatternFill("solid", fgColor="FFF2CC")
    sheet.merge_cells("A300:C300")
    hidden = book.create_sheet("参数")
    hidden["A1"] = 1
    hidden.sheet_state = "hidden"
    book.create_sheet("基础数据表")["B11"] = 200.16
    book.save(path)


def _normal_workbooks(tmp: Path) -> list[Path]:
    built = tmp / "openpyxl_form.xlsx"
    _openpyxl_workbook(built)
    samples = sorted(p for p in (ROOT / "sample_workbooks").glob("*.xls*") if not p.name.startswith("~$"))
    return [built, *samples]


def test_normal_workbooks_pass_quickly(tmp_path: Path) -> None:
    for path in _normal_workbooks(tmp_path):
        check(path)  # warm: imports and caches
        start = time.perf_counter()
        facts = check(path)
        seconds = time.perf_counter() - start
        assert facts.sheets, path.name
        assert seconds < 1.0, (path.name, seconds)


def test_openpyxl_formulas_are_reported_without_cached_values(tmp_path: Path) -> None:
    path = tmp_path / "form.xlsx"
    _openpyxl_workbook(path)
    assert 25_000 < path.stat().st_size < 60_000  # the size the speed target is about
    facts = check(path)
    form, params, basic = facts.sheets
    assert (form.name, form.state, params.state, basic.used_range) == (
        "项目支出绩效自评表",
        "visible",
        "hidden",
        "B11:B11",
    )
    assert form.formula_cells_without_value[:3] == ("I2", "J2", "I3")
    assert len(form.formula_cells_without_value) == 2 * 298
    assert form.used_range == "A1:J299"


# --- Each limit, tripped on a small file ------------------------------------------------

LIMIT_CASES = [
    ({"max_entries": 3}, "too_many_entries"),
    ({"max_entry_bytes": 100}, "bomb_size"),
    ({"ratio_exempt_bytes": 10, "min_inflate_ratio": 0.9}, "bomb_ratio"),
    ({"max_total_bytes": 1000}, "bomb_total"),
    ({"max_xml_depth": 3}, "xml_too_deep"),
    ({"max_cells": 5}, "too_many_cells"),
    ({"max_shared_strings": 1}, "too_many_strings"),
    ({"max_used_range_cells": 11}, "used_range"),
    ({"max_merged_cells": 3}, "merged"),
    ({"max_cell_chars": 5}, "cell_text"),
]


@pytest.mark.parametrize(("changes", "code"), LIMIT_CASES)
def test_each_limit_rejects_a_small_workbook(tmp_path: Path, changes: dict[str, Any], code: str) -> None:
    path = tmp_path / "small.xlsx"
    corpus.write_workbook(path, corpus.valid_parts())
    check(path)  # within the default limits
    limits = dataclasses.replace(safety.DEFAULT_LIMITS, **changes)
    with pytest.raises(UnreadableWorkbook) as raised:
        check(path, limits)
    assert raised.value.code == code


@pytest.mark.parametrize(
    ("changes", "code"),
    [({"max_entry_bytes": 1 << 20}, "bomb_size"), ({"max_total_bytes": 2 << 20}, "bomb_total")],
)
def test_sizes_are_counted_on_inflated_bytes_not_declared_ones(
    corpus_dir: Path, changes: dict[str, int], code: str
) -> None:
    """bomb_lying_sizes.xlsx declares 1,000 bytes; with the ratio check off, the byte count stops it."""
    # The one huge string would also trip the cell-text limit first: lift it too.
    limits = dataclasses.replace(safety.DEFAULT_LIMITS, min_inflate_ratio=0.0, max_cell_chars=1 << 40, **changes)
    with pytest.raises(UnreadableWorkbook) as raised:
        check(corpus_dir / "bomb_lying_sizes.xlsx", limits)
    assert raised.value.code == code


def test_an_endless_xml_token_is_refused(tmp_path: Path) -> None:
    parts = corpus.valid_parts()
    attribute = os.urandom(768 * 1024).hex()  # 1.5 MiB that does not compress away
    parts["xl/worksheets/sheet1.xml"] = corpus.sheet_xml(f'<row r="1" x="{attribute}"/>').encode()
    path = tmp_path / "token.xlsx"
    corpus.write_workbook(path, parts)
    with pytest.raises(UnreadableWorkbook) as raised:
        check(path)
    assert raised.value.code == "xml_token"


def test_default_limits_are_the_documented_ones() -> None:
    limits = safety.DEFAULT_LIMITS
    assert (limits.max_entries, limits.max_entry_bytes, limits.max_total_bytes) == (1_000, 512 << 20, 1 << 30)
    assert (limits.min_inflate_ratio, limits.ratio_exempt_bytes) == (0.01, 100 << 10)
    assert (limits.max_xml_depth, limits.max_cells, limits.max_used_range_cells) == (64, 5_000_000, 20_000_000)
    assert (limits.max_merged_cells, limits.max_cell_chars) == (1_000_000, 32_767)
    assert (limits.child_memory_bytes, limits.child_cpu_seconds, limits.child_wall_seconds) == (1 << 30, 30, 60)


# --- Isolation --------------------------------------------------------------------------

SHORT = Limits(child_wall_seconds=1.5, child_cpu_seconds=1)


def test_isolated_result_comes_back() -> None:
    assert safety.run_isolated(sum, [1, 2, 3], limits=SHORT) == 6


def test_isolated_abort_becomes_unreadable() -> None:
    with pytest.raises(UnreadableWorkbook) as raised:
        safety.run_isolated(os.abort, limits=SHORT)
    assert raised.value.code == "crashed"
    assert raised.value.reason == "读取时内存超限或读取程序崩溃"


def test_isolated_sleep_past_the_wall_clock_becomes_timeout() -> None:
    start = time.monotonic()
    with pytest.raises(UnreadableWorkbook) as raised:
        safety.run_isolated(time.sleep, 60, limits=SHORT)
    assert raised.value.code == "timeout"
    assert "读取超时" in raised.value.reason
    assert time.monotonic() - start < 10


def test_isolated_cpu_limit_becomes_timeout() -> None:
    with pytest.raises(UnreadableWorkbook) as raised:
        safety.run_isolated(eval, "sum(range(10**12))", limits=Limits(child_wall_seconds=20, child_cpu_seconds=1))
    assert raised.value.code == "cpu"


def test_isolated_memory_limit_becomes_unreadable() -> None:
    with pytest.raises(UnreadableWorkbook) as raised:
        safety.run_isolated(bytearray, 4 << 30, limits=SHORT)
    assert raised.value.code == "crashed"


def test_isolated_unreadable_and_other_errors_pass_through(corpus_dir: Path) -> None:
    with pytest.raises(UnreadableWorkbook) as raised:
        safety.run_isolated(safety.sniff, str(corpus_dir / "empty.xlsx"), limits=SHORT)
    assert raised.value.code == "empty"
    with pytest.raises(ValueError, match="invalid literal"):
        safety.run_isolated(int, "x", limits=SHORT)


# --- Fingerprints and file kinds ----------------------------------------------------------


def test_fingerprint_notices_a_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    corpus.write_workbook(path, corpus.valid_parts())
    before = safety.fingerprint(path)
    assert isinstance(before, tuple) and len(before) == 4
    safety.ensure_unchanged(path, before)
    with open(path, "ab") as handle:
        handle.write(b"\0")
    assert safety.fingerprint(path) != before
    with pytest.raises(UnreadableWorkbook, match="修改或删除"):
        safety.ensure_unchanged(path, before)
    path.unlink()
    with pytest.raises(UnreadableWorkbook, match="修改或删除"):
        safety.ensure_unchanged(path, before)


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda p: p.mkdir(), "directory"),
        (lambda p: None, "missing"),
    ],
)
def test_what_is_not_a_file(tmp_path: Path, make: Callable[[Path], object], code: str) -> None:
    path = tmp_path / "x.xlsx"
    make(path)
    with pytest.raises(UnreadableWorkbook) as raised:
        safety.sniff(path)
    assert raised.value.code == code


def test_unreadable_pickles_with_its_code() -> None:
    import pickle

    error = pickle.loads(pickle.dumps(UnreadableWorkbook.of("empty")))
    assert (error.code, error.reason, str(error)) == ("empty", "文件为空（0 字节）", "文件为空（0 字节）")


# --- Fuzzing ----------------------------------------------------------------------------


def _valid_xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in corpus.valid_parts().items():
            archive.writestr(name, data)
    return buffer.getvalue()


VALID_XLSX = _valid_xlsx()
VALID_XLS = corpus.cfb({"Workbook": corpus.biff8(corpus.LEGACY_SHEETS)})
XML_PARTS = sorted(corpus.valid_parts())
XML_PIECES = [
    "<", ">", "/>", "</c>", "<c>", '"', "&", "&amp;", "&lol;", "<!DOCTYPE x>", "<!ENTITY e 'x'>",
    'r="XFD1048576"', 'r="A0"', 'ref="A1:XFD1048576"', "<f>1</f>", "<v/>", "<row>", "\x00", "é", "中",
    "<?xml version='1.0' encoding='UTF-16'?>", "]]>", "<![CDATA[", 'state="veryHidden"', 'r:id="rId99"',
]  # fmt: skip


# Past the magic and the first local header, so that most mutations reach the parsers.
DEEP = 64


@st.composite
def mutated_bytes(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from([VALID_XLSX, VALID_XLS])))
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "truncate", "splice", "insert", "head"]))
        at = draw(st.integers(min(DEEP, len(data)), len(data)))
        if kind == "truncate":
            del data[at:]
        elif kind == "splice":
            source = draw(st.integers(0, len(data)))
            data[at:at] = data[source : source + draw(st.integers(1, 64))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif data:
            at = draw(st.integers(0, DEEP - 1)) if kind == "head" else at
            data[min(at, len(data) - 1)] ^= 1 << draw(st.integers(0, 7))
    return bytes(data)


# Values that stress the scan's meaning rather than the XML syntax.
INTERESTING = [
    "", "0", "-1", "A0", "1A", "XFD1048576", "XFE1", "A1048577", "A1:XFD1048576", "B2:A1",
    "hidden", "veryHidden", "rId99", "../../../etc/passwd", "/xl/missing.xml", "1e309", "x" * 40_000,
    "中文", "&amp;", "&#0;", "&#x10FFFF;", "GBK", "UTF-16", "no-such-codec",
]  # fmt: skip
_VALUE = re.compile(r'="([^"]*)"|>([^<]+)<')


@st.composite
def mutated_xml(draw: st.DrawFn) -> bytes:
    parts = corpus.valid_parts()
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(XML_PARTS))
        text = parts[name].decode()
        values = list(_VALUE.finditer(text))
        replace_a_value: bool = draw(st.booleans())
        if values and replace_a_value:
            match = draw(st.sampled_from(values))
            group = 1 if match.group(1) is not None else 2
            start, end = match.span(group)
            piece = draw(st.one_of(st.sampled_from(INTERESTING), st.text(max_size=8)))
        else:
            start = draw(st.integers(0, len(text)))
            end = start + draw(st.integers(0, 12))
            piece = draw(st.one_of(st.sampled_from(XML_PIECES), st.text(max_size=8)))
        parts[name] = (text[:start] + piece + text[end:]).encode("utf-8", "surrogatepass")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _facts_or_unreadable(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    start = time.perf_counter()
    try:
        assert isinstance(check(path), WorkbookFacts)
    except UnreadableWorkbook as exc:
        assert exc.reason and "\n" not in exc.reason
    assert time.perf_counter() - start < 5


@pytest.fixture(scope="module")
def fuzz_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "fuzzed.xlsx"


@FUZZ
@given(data=mutated_bytes())
def test_fuzzed_bytes_give_facts_or_unreadable(fuzz_path: Path, data: bytes) -> None:
    _facts_or_unreadable(fuzz_path, data)


@FUZZ
@given(data=mutated_xml())
def test_fuzzed_xml_gives_facts_or_unreadable(fuzz_path: Path, data: bytes) -> None:
    _facts_or_unreadable(fuzz_path, data)
