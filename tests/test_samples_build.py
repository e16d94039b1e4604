"""sample_workbooks/build_samples.py: deterministic output that covers the rule catalogue."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils.cell import coordinate_from_string
from openpyxl.workbook.workbook import Workbook
from python_calamine import CalamineWorkbook

from perf_eval.rules.catalogue import all_rules

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_workbooks"
BUILDER = SAMPLES / "build_samples.py"

# The rule catalogue of docs/domain.md §4, in its order.
RULE_IDS = (
    *(f"F{n:02d}" for n in range(1, 7)),
    *(f"B{n:02d}" for n in range(1, 12)),
    *(f"S{n:02d}" for n in range(1, 15)),
    "X01",
    "X02",
)
SAMPLE_FILES = 6


def build(output: Path) -> None:
    subprocess.run([sys.executable, str(BUILDER), str(output)], check=True, capture_output=True)


def contents(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def cell_values(workbook: Workbook) -> dict[str, object]:
    return {
        f"{sheet.title}!{cell.coordinate}": cell.value
        for sheet in workbook
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("samples")
    build(output)
    return output


@pytest.fixture(scope="module")
def workbooks(built: Path) -> dict[str, Workbook]:
    return {path.relative_to(built).as_posix(): openpyxl.load_workbook(path) for path in sorted(built.rglob("*.xlsx"))}


@pytest.fixture(scope="module")
def manifest(built: Path) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = json.loads((built / "broken" / "manifest.json").read_text(encoding="utf-8"))
    return entries


def test_two_builds_are_byte_identical(built: Path, tmp_path: Path) -> None:
    build(tmp_path)
    first, second = contents(built), contents(tmp_path)
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []


def test_manifest_lists_every_rule_once(manifest: list[dict[str, object]]) -> None:
    assert [entry["rule"] for entry in manifest] == list(RULE_IDS)


def test_manifest_entries_point_into_existing_files(
    workbooks: dict[str, Workbook], manifest: list[dict[str, object]]
) -> None:
    for entry in manifest:
        rule, file = str(entry["rule"]), str(entry["file"])
        assert file == f"broken/{rule}.xlsx"
        assert file in workbooks and str(entry["base"]) in workbooks, entry
        catalogue = {r.id for r in all_rules()}
        assert isinstance(entry["also"], list) and set(entry["also"]) <= catalogue - {rule}, entry
        if rule == "F01":
            assert entry["sheet"] is None and entry["cell"] is None
            continue
        assert entry["sheet"] in workbooks[file].sheetnames, entry
        coordinate_from_string(str(entry["cell"]))


def test_every_workbook_opens_with_openpyxl_and_calamine(built: Path, workbooks: dict[str, Workbook]) -> None:
    assert len(workbooks) == SAMPLE_FILES + len(RULE_IDS)
    for name, workbook in workbooks.items():
        calamine = CalamineWorkbook.from_path(str(built / name))
        assert calamine.sheet_names == workbook.sheetnames
        for sheet in calamine.sheet_names:
            calamine.get_sheet_by_name(sheet).to_python()


def test_corrected_seed_differs_only_in_the_fixed_cells(workbooks: dict[str, Workbook]) -> None:
    seed = cell_values(workbooks["lusong-2023-seed.xlsx"])
    corrected = cell_values(workbooks["lusong-2023-corrected.xlsx"])
    changed = {key: (seed.get(key), corrected.get(key)) for key in seed.keys() | corrected.keys()}
    changed = {key: values for key, values in changed.items() if values[0] != values[1]}
    assert changed.pop("附件2!B12") == (324.12, 200.16)
    assert {key: after for key, (_, after) in changed.items()} == {
        "附件2!A30": "填表人：宁邵庆  填报日期：2024年3月15日  联系电话：28580807  单位负责人：易凌云",
        "附件3!A33": "填表人：宁邵庆 填报日期：2024年3月15日  联系电话：28580807 单位负责人：易凌云",
    }


def test_committed_samples_are_up_to_date(built: Path, workbooks: dict[str, Workbook]) -> None:
    """Every file the builder writes is committed with the same content.

    Workbooks whose bytes differ (another openpyxl or zlib) are compared cell by cell.
    """
    for name, data in contents(built).items():
        committed = SAMPLES / name
        assert committed.is_file(), f"{name} missing: run python sample_workbooks/build_samples.py"
        if committed.read_bytes() == data:
            continue
        assert name.endswith(".xlsx"), f"{name} is stale: run python sample_workbooks/build_samples.py"
        assert cell_values(openpyxl.load_workbook(committed)) == cell_values(workbooks[name]), name
