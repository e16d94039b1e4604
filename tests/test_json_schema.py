"""The JSON contract against its JSON Schema (perf_eval/outputs/schema/check.schema.json, docs/json.md).

Every golden JSON of the contract, a fresh `check --format json` of every sample workbook and
written report, the summary.json of a small scan and a result of the web service are validated;
broken instances are rejected.
tests/golden/annotate/ holds read-backs of annotated copies (cells and comments), not the contract.
"""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from perf_eval.cli import app
from perf_eval.outputs.json_report import schema
from perf_eval.scan import ScanOptions, run_scan

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_workbooks"
GOLDEN = Path(__file__).parent / "golden"
CONTRACT_GOLDENS = sorted([*GOLDEN.glob("findings/*.json"), *GOLDEN.glob("reports/*.json")])
SCHEMA = schema()


def _validator(definition: str | None = None) -> Draft202012Validator:
    """The whole schema, or one of its `$defs` (the same document with another root reference)."""
    if definition is None:
        return Draft202012Validator(SCHEMA)
    return Draft202012Validator({**SCHEMA, "$ref": f"#/$defs/{definition}"})


def _errors(instance: Any, definition: str | None = None) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in _validator(definition).iter_errors(instance)
    ]


def _check_json(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["check", *args, "--format", "json"])
    assert result.exit_code in (0, 1, 2), result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _assert_counts_add_up(data: dict[str, Any]) -> None:
    """What the schema cannot say: the summary counts the files and findings listed."""
    summary, files = data["summary"], data["files"]
    assert summary["files"] == len(files)
    per_status = {"clean": "clean", "warnings": "warnings_only", "errors": "with_errors", "unreadable": "unreadable"}
    for status, key in per_status.items():
        assert summary[key] == sum(1 for f in files if f["status"] == status)
    for severity, key in (("error", "errors"), ("warning", "warnings"), ("info", "infos")):
        assert summary[key] == sum(1 for f in files for d in f["deviations"] if d["severity"] == severity)


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_docs_point_to_the_schema() -> None:
    text = (ROOT / "docs" / "json.md").read_text(encoding="utf-8")
    assert "perf_eval/outputs/schema/check.schema.json" in text


def test_there_are_contract_goldens_of_workbooks_and_reports() -> None:
    assert len(list(GOLDEN.glob("findings/*.json"))) >= 60
    assert len(list(GOLDEN.glob("reports/*.json"))) >= 3


@pytest.mark.parametrize("golden", CONTRACT_GOLDENS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_golden_file_entry_matches_the_schema(golden: Path) -> None:
    """Each golden is one `files[]` entry."""
    assert _errors(json.loads(golden.read_text(encoding="utf-8")), "file") == []


def test_fresh_check_of_every_sample_matches_the_schema(tmp_path: Path) -> None:
    workbooks = sorted(str(p) for p in SAMPLES.rglob("*.xlsx"))
    reports = sorted(str(p) for p in (SAMPLES / "reports").glob("*.docx"))
    broken = tmp_path / "不是工作簿.xlsx"
    broken.write_text("这不是工作簿", encoding="utf-8")
    data = _check_json(*workbooks, *reports, str(broken), "--no-annotate")
    assert _errors(data) == []
    _assert_counts_add_up(data)
    statuses = {f["status"] for f in data["files"]}
    assert statuses == {"clean", "warnings", "errors", "unreadable"}
    findings = [d for f in data["files"] for d in f["deviations"]]
    # The report findings (a place in the written report instead of a cell) were validated too.
    assert any("sentence" in d for d in findings)
    assert any(f["kind"] == "report" for file in data["files"] for f in file["forms"])


def test_fresh_check_with_an_annotated_copy_matches_the_schema(tmp_path: Path) -> None:
    data = _check_json(str(SAMPLES / "lusong-2023-seed.xlsx"), "--out", str(tmp_path))
    assert _errors(data) == []
    (entry,) = data["files"]
    assert entry["annotated"] and Path(entry["annotated"]).is_file()
    assert entry["score"] is not None


def test_scan_summary_json_matches_the_schema(tmp_path: Path) -> None:
    root = tmp_path / "in"
    (root / "审计局").mkdir(parents=True)
    for name in ("lusong-2023-seed.xlsx", "split-2023-basic.xlsx", "split-2023-self-eval.xlsx"):
        shutil.copyfile(SAMPLES / name, root / "审计局" / name)
    shutil.copyfile(SAMPLES / "project-2023-clean.xlsx", root / "project-2023-clean.xlsx")
    (root / "坏文件.xlsx").write_text("这不是工作簿", encoding="utf-8")
    (root / "~$锁文件.xlsx").write_bytes(b"lock")
    out = tmp_path / "out"
    run_scan(ScanOptions(root=root, out=out, jobs=1))
    data = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert _errors(data, "summary_json") == []
    assert _errors(data) == []  # summary.json is the check's object with `scan` added
    _assert_counts_add_up(data)
    assert data["scan"]["skipped"] and data["scan"]["units"]
    # Without its `scan` object it is a check's output, not a summary.json.
    del data["scan"]
    assert _errors(data, "summary_json") != []


def test_service_result_matches_the_schema(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from perf_eval.serve.app import ServeConfig, create_app

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the service's private folder
    seed = (SAMPLES / "lusong-2023-seed.xlsx").read_bytes()
    with TestClient(create_app(ServeConfig(jobs=1, allowed_hosts=("testserver",)))) as client:
        files = [("files", (name, data, "application/octet-stream")) for name, data in [("自评表.xlsx", seed)]]
        response = client.post("/api/v1/check", files=files)
        assert response.status_code == 200, response.text
        data = response.json()
        assert client.get(f"/api/v1/results/{data['id']}").json() == data
    assert _errors(data, "service_result") == []
    _assert_counts_add_up(data)
    # The service's own fields are not part of the check's output.
    assert _errors(data) != []


def _valid_instance() -> dict[str, Any]:
    data = json.loads((GOLDEN / "findings" / "lusong-2023-seed.json").read_text(encoding="utf-8"))
    instance = {"tool": {"name": "perf-eval", "version": "0.1.0"}, "files": [data], "summary": {}}
    instance["summary"] = {
        "files": 1,
        "clean": 0,
        "warnings_only": 0,
        "with_errors": 1,
        "unreadable": 0,
        "errors": sum(d["severity"] == "error" for d in data["deviations"]),
        "warnings": sum(d["severity"] == "warning" for d in data["deviations"]),
        "infos": sum(d["severity"] == "info" for d in data["deviations"]),
    }
    return instance


def _broken(edit: Any) -> dict[str, Any]:
    instance = copy.deepcopy(_valid_instance())
    edit(instance)
    return instance


@pytest.mark.parametrize(
    ("case", "edit", "complaint"),
    [
        ("no summary", lambda d: d.pop("summary"), "'summary' is a required property"),
        ("finding without fix", lambda d: d["files"][0]["deviations"][0].pop("fix"), "'fix' is a required property"),
        ("file without status", lambda d: d["files"][0].pop("status"), "'status' is a required property"),
        ("form without profile", lambda d: d["files"][0]["forms"][0].pop("profile"), "'profile' is a required"),
        ("severity fatal", lambda d: d["files"][0]["deviations"][0].update(severity="fatal"), "'fatal' is not one of"),
        ("status passed", lambda d: d["files"][0].update(status="passed"), "'passed' is not one of"),
        ("quantity money", lambda d: d["files"][0]["deviations"][0].update(quantity="money"), "'money' is not one of"),
        ("an undocumented field", lambda d: d["files"][0]["deviations"][0].update(level=1), "'level' was unexpected"),
        ("a negative count", lambda d: d["summary"].update(errors=-1), "-1 is less than the minimum of 0"),
        ("a related cell without sheet", lambda d: d["files"][0]["deviations"][0].update(related=["B4"]), "'B4'"),
        (
            "a report finding without its place",
            lambda d: d["files"][0]["deviations"][0].update(sentence="报告称……"),
            "'paragraph' is a dependency of 'sentence'",
        ),
        (
            "an unreadable file without its reason",
            lambda d: d["files"][0].update(status="unreadable", forms=[], deviations=[]),
            "None is not of type 'string'",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_the_schema_rejects_a_broken_instance(case: str, edit: Any, complaint: str) -> None:
    assert _errors(_valid_instance()) == []
    errors = _errors(_broken(edit))
    assert errors, case
    assert any(complaint in error for error in errors), errors


def _findings(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        own = [data] if "rule" in data and "params" in data else []
        return own + [f for value in data.values() for f in _findings(value)]
    if isinstance(data, list):
        return [f for value in data for f in _findings(value)]
    return []


def test_every_golden_message_can_be_worded_again_from_rule_case_and_params() -> None:
    """`case` and `params` are the whole of what a message says: another system can word it its own way."""
    from perf_eval.rules.catalogue import get

    findings = [f for path in CONTRACT_GOLDENS for f in _findings(json.loads(path.read_text(encoding="utf-8")))]
    rendered = [f for f in findings if get(f["rule"]) is not None]
    assert len(rendered) > 300
    assert {"F01", "X00", "N00"} <= {f["rule"] for f in rendered}
    cases = set()
    for finding in rendered:
        rule = get(finding["rule"])
        assert rule is not None
        _, template = rule.message_for(finding["case"])
        values = {"label": finding["label"], **finding["params"]}
        assert template.format(**values) == finding["message"], finding
        cases.add(finding["case"])
    assert "explained" in cases and len(cases) >= 5
