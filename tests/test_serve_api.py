"""`perf-eval serve`'s HTTP API: every endpoint and every error code, through Starlette's TestClient.

The checks run in real worker processes (`perf_eval.scan.pool`), as in production.
What needs a real socket (a body refused while it streams, 429 while uploads
are in flight) is tested against uvicorn on 127.0.0.1 in test_serve_live.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from starlette.testclient import TestClient

from perf_eval import check as check_in_process
from perf_eval.checker import check_paths
from perf_eval.model import RESULT_SHEET, FileStatus
from perf_eval.reading.safety import DEFAULT_LIMITS
from perf_eval.serve.app import (
    ConfigError,
    ServeConfig,
    attachment,
    create_app,
    limits_note,
    validate,
    worker_limits,
)

sys.path.insert(0, str(Path(__file__).parent / "hostile"))
import make_corpus as corpus

SAMPLES = Path(__file__).parent.parent / "sample_workbooks"
SEED = SAMPLES / "lusong-2023-seed.xlsx"
SEED_NAME = "芦淞区财政局 2023 自评表.xlsx"
HOST = "testserver"  # TestClient's Host header; allowed explicitly, as `--allow-host` would


def _client(monkeypatch: pytest.MonkeyPatch, tmp: Path, **options: Any) -> Iterator[TestClient]:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))  # the service's private folder goes here
    config = ServeConfig(jobs=1, allowed_hosts=(HOST,), **options)
    with TestClient(create_app(config)) as client:
        yield client
    assert list(tmp.iterdir()) == [], "the service left files behind when it stopped"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield from _client(monkeypatch, tmp_path_factory.mktemp("serve"), max_mb=1, max_files=3)


def _root(client: TestClient) -> Path:
    return Path(client.app.app.state.store.root)  # type: ignore[attr-defined]


def _upload(client: TestClient, *files: tuple[str, bytes], **kwargs: Any) -> Any:
    return client.post(
        "/api/v1/check", files=[("files", (name, data, "application/octet-stream")) for name, data in files], **kwargs
    )


def _comparable(entry: dict[str, Any]) -> dict[str, Any]:
    # notes name files by where they were read (the service names them by their uploaded names).
    return {key: value for key, value in entry.items() if key not in ("path", "annotated", "notes")}


def _error(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code
    message: str = body["error"]["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message  # Chinese for the clerk
    return message


def test_health_says_the_limits(client: TestClient) -> None:
    body = client.get("/api/v1/health").json()
    assert body["status"] == "ok"
    assert (body["max_upload_mb"], body["max_files"], body["keep_minutes"], body["token_required"]) == (1, 3, 60, False)


def test_check_the_seed_gives_the_json_of_check_plus_id_links_expiry(client: TestClient) -> None:
    response = _upload(client, (SEED_NAME, SEED.read_bytes()))
    assert response.status_code == 200
    body = response.json()
    expected = check_in_process(SEED).to_dict()
    (entry,) = body["files"]
    assert _comparable(entry) == _comparable(expected["files"][0])
    assert body["summary"] == expected["summary"] and body["tool"] == expected["tool"]
    assert entry["path"] == SEED_NAME
    assert entry["deviations"][0]["rule"] == "B05" and entry["status"] == "errors"
    assert body["labels"] == {status.value: status.label_zh for status in FileStatus}
    result_id = body["id"]
    assert len(result_id) == 24
    base = f"/api/v1/results/{result_id}"
    assert entry["annotated"] == f"{base}/files/0/annotated"
    assert body["links"]["self"] == base and body["links"]["findings_xlsx"] == f"{base}/findings.xlsx"
    assert body["links"]["files"][0]["download_name"] == "芦淞区财政局 2023 自评表.校验.xlsx"
    assert body["keep_minutes"] == 60
    assert 59 * 60 < datetime.fromisoformat(body["expires"]).timestamp() - time.time() <= 60 * 60
    assert str(_root(client)) not in response.text and tempfile.gettempdir() not in response.text
    # The uploaded file itself is not kept once checked; only its copy is.
    assert sorted(p.name for p in (_root(client) / result_id).rglob("*")) == ["0.校验.xlsx", "copies"]
    assert client.get(base).json() == body


def test_the_annotated_copy_downloads_under_its_chinese_name(client: TestClient) -> None:
    body = _upload(client, (SEED_NAME, SEED.read_bytes())).json()
    response = client.get(body["files"][0]["annotated"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["content-disposition"] == (
        'attachment; filename="_ 2023 _.checked.xlsx"; '
        "filename*=UTF-8''%E8%8A%A6%E6%B7%9E%E5%8C%BA%E8%B4%A2%E6%94%BF%E5%B1%80%202023%20"
        "%E8%87%AA%E8%AF%84%E8%A1%A8.%E6%A0%A1%E9%AA%8C.xlsx"
    )
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.worksheets[0]
    assert sheet.title == RESULT_SHEET
    assert sheet["B2"].value == SEED_NAME  # the uploaded name, not the server's 0.xlsx
    assert workbook["附件2"]["B12"].comment is not None


def test_attachment_header_has_an_ascii_fallback_and_the_utf8_name() -> None:
    assert attachment('a"b;c%.xlsx') == "attachment; filename=\"a_b_c_.xlsx\"; filename*=UTF-8''a%22b%3Bc%25.xlsx"


def test_the_copy_and_the_findings_have_distinct_ascii_fallbacks() -> None:
    # curl -OJ uses only the fallback (it ignores filename*), and refuses to overwrite a file it saved before.
    assert 'filename="lusong-2023-seed.checked.xlsx"' in attachment("lusong-2023-seed.校验.xlsx")
    assert 'filename="lusong-2023-seed.findings.xlsx"' in attachment("lusong-2023-seed.问题清单.xlsx")
    assert 'filename="findings.xlsx"' in attachment("问题清单.xlsx")


def test_findings_workbook(client: TestClient) -> None:
    body = _upload(client, (SEED_NAME, SEED.read_bytes())).json()
    response = client.get(body["links"]["findings_xlsx"])
    assert response.status_code == 200
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    assert "%E9%97%AE%E9%A2%98%E6%B8%85%E5%8D%95.xlsx" in response.headers["content-disposition"]  # 问题清单.xlsx
    workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    rows = list(workbook["问题清单"].iter_rows(values_only=True))
    assert len(rows) == 1 + len(body["files"][0]["deviations"])
    first = dict(zip(rows[0], rows[1], strict=True))  # errors first
    assert first["路径"] == SEED_NAME and first["规则"] == "B05" and first["单元格"] == "B12"
    assert client.get(body["links"]["findings_xlsx"]).content == response.content  # made once, then served


def test_delete_removes_the_result_and_its_files(client: TestClient) -> None:
    body = _upload(client, (SEED_NAME, SEED.read_bytes())).json()
    folder = _root(client) / body["id"]
    assert folder.is_dir()
    response = client.delete(body["links"]["self"])
    assert response.status_code == 200 and response.json() == {"deleted": body["id"]}
    assert not folder.exists()
    _error(client.get(body["links"]["self"]), 404, "no_such_result")
    _error(client.get(body["files"][0]["annotated"]), 404, "no_such_result")
    _error(client.delete(body["links"]["self"]), 404, "no_such_result")


def test_a_split_pair_is_checked_together(client: TestClient, tmp_path: Path) -> None:
    basic, evaluation = SAMPLES / "split-2023-basic.xlsx", tmp_path / "split-2023-self-eval.xlsx"
    # The 自评表's 项目支出 no longer matches the 基础数据表: only a check of the pair can see it (X01).
    workbook = openpyxl.load_workbook(SAMPLES / "split-2023-self-eval.xlsx")
    workbook["自评表"]["F6"] = "其中：基本支出：321.00"
    workbook["自评表"]["F7"] = "项目支出：111.50"  # the 按支出性质分 group still adds up (no S03)
    workbook.save(evaluation)
    body = _upload(client, ("基础数据表.xlsx", basic.read_bytes()), ("自评表.xlsx", evaluation.read_bytes())).json()
    expected = check_paths([basic, evaluation]).to_dict()
    assert [_comparable(f) for f in body["files"]] == [_comparable(f) for f in expected["files"]]
    assert [f["path"] for f in body["files"]] == ["基础数据表.xlsx", "自评表.xlsx"]
    assert [(d["rule"], d["cell"]) for d in body["files"][1]["deviations"]] == [("X01", "F7")]
    # Alone, nothing to compare with, and the check says so (X00, info).
    assert [d["rule"] for d in check_paths([evaluation]).to_dict()["files"][0]["deviations"]] == ["X00"]
    assert [f["download_name"] for f in body["links"]["files"]] == ["基础数据表.校验.xlsx", "自评表.校验.xlsx"]


def test_a_written_report_is_checked_against_the_workbook_uploaded_with_it(client: TestClient) -> None:
    report = SAMPLES / "reports" / "lusong-2023-report.docx"
    uploaded = [("自评报告.docx", report.read_bytes()), (SEED_NAME, SEED.read_bytes())]
    body = _upload(client, *uploaded).json()
    expected = check_paths([report, SEED]).to_dict()
    for finding in expected["files"][0]["deviations"]:
        assert finding["related_file"] == str(SEED)
        finding["related_file"] = SEED_NAME  # the workbook compared with, by its uploaded name
    assert [_comparable(f) for f in body["files"]] == [_comparable(f) for f in expected["files"]]
    assert body["files"][0]["deviations"], "the sample report disagrees with its forms"
    names = [f["download_name"] for f in body["links"]["files"]]
    assert names == ["自评报告.校验.docx", "芦淞区财政局 2023 自评表.校验.xlsx"]
    copy = client.get(body["files"][0]["annotated"])
    assert copy.headers["content-type"] == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert copy.content[:2] == b"PK"
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(body["files"][1]["annotated"]).content)).worksheets[0]
    texts = [str(c.value) for row in sheet.iter_rows() for c in row if c.value]
    assert any(t.startswith("绩效自评报告 自评报告.docx") for t in texts), "the 校验结果 names the uploaded report"
    assert str(_root(client)) not in json.dumps(body, ensure_ascii=False)
    notes = body["links"]["files"][0]["notes"]
    assert any(SEED_NAME in note for note in notes), notes  # 对照的表单: the workbook by its uploaded name
    shown = {key: value for key, value in body.items() if key not in ("id", "links", "files")}
    shown["files"] = [{k: v for k, v in f.items() if k != "annotated"} for f in body["files"]]  # links apart
    shown["notes"] = [f["notes"] for f in body["links"]["files"]]
    assert body["id"] not in json.dumps(shown, ensure_ascii=False), "a stored file's name leaked"


@pytest.mark.parametrize(
    ("name", "expected"),
    [("table_csv.xlsx", "CSV/文本"), ("encrypted.xlsx", "密码保护"), ("bomb_lying_sizes.xlsx", "疑似压缩炸弹")],
)
def test_hostile_uploads_are_unreadable_with_their_chinese_reason(
    client: TestClient, tmp_path: Path, name: str, expected: str
) -> None:
    corpus.build(tmp_path, [name])
    body = _upload(client, ("自评表.xlsx", (tmp_path / name).read_bytes())).json()
    (entry,) = body["files"]
    assert entry["status"] == "unreadable" and expected in entry["error"] and entry["annotated"] is None
    assert entry["path"] == "自评表.xlsx"
    _error(client.get(f"/api/v1/results/{body['id']}/files/0/annotated"), 404, "no_copy")


def test_a_good_and_a_bad_file_in_one_upload(client: TestClient) -> None:
    body = _upload(client, ("a.xlsx", SEED.read_bytes()), ("b.xlsx", b"not a workbook")).json()
    assert [f["status"] for f in body["files"]] == ["errors", "unreadable"]
    assert body["summary"]["unreadable"] == 1


def test_uploaded_names_are_for_display_only(client: TestClient) -> None:
    body = _upload(client, ("..\\..\\C:\\Windows\\自评表.xlsx", SEED.read_bytes()), ("../../etc/passwd", b"x")).json()
    assert [f["path"] for f in body["files"]] == ["自评表.xlsx", "passwd"]
    assert sorted(p.name for p in (_root(client) / body["id"]).rglob("*")) == ["0.校验.xlsx", "copies"]


def test_415_for_a_body_that_is_not_multipart(client: TestClient) -> None:
    _error(client.post("/api/v1/check", content=SEED.read_bytes()), 415, "unsupported_media_type")
    _error(client.post("/api/v1/check", json={"files": []}), 415, "unsupported_media_type")


def test_400_for_no_file_a_broken_body_or_too_many_files(client: TestClient) -> None:
    before = set(_root(client).iterdir())
    _error(client.post("/api/v1/check", files={"note": (None, "hello")}), 400, "no_file")
    broken = b'--XyZ\r\nContent-Disposition: form-data; name="files"; filename="a.xlsx"\r\n\r\nPK\x03\x04'
    _error(
        client.post("/api/v1/check", content=broken, headers={"content-type": "multipart/form-data; boundary=XyZ"}),
        400,
        "bad_multipart",
    )
    _error(_upload(client, *[(f"{n}.xlsx", b"x") for n in range(4)]), 400, "too_many_files")
    assert set(_root(client).iterdir()) == before  # refused uploads leave nothing behind


def test_413_for_a_body_over_the_limit(client: TestClient) -> None:
    message = _error(_upload(client, ("big.xlsx", b"\0" * (1 << 20))), 413, "too_large")
    assert "1 MB" in message


def test_404s(client: TestClient) -> None:
    _error(client.get("/api/v1/results/AAAAAAAAAAAAAAAAAAAAAAAA"), 404, "no_such_result")
    _error(client.get("/api/v1/results/../../etc/passwd"), 404, "not_found")
    _error(client.get("/api/v1/results/short/findings.xlsx"), 404, "no_such_result")
    _error(client.get("/api/v1/rules/Z99"), 404, "no_such_rule")
    _error(client.get("/api/v1/nothing"), 404, "not_found")
    body = _upload(client, ("a.xlsx", SEED.read_bytes())).json()
    _error(client.get(f"/api/v1/results/{body['id']}/files/1/annotated"), 404, "no_copy")
    _error(client.put("/api/v1/check"), 405, "method_not_allowed")


def test_rule_explanation(client: TestClient) -> None:
    body = client.get("/api/v1/rules/b05").json()
    assert body["id"] == "B05" and body["severity_zh"] == "错误"
    assert "〈对照值〉" in body["message"] and any("324.12" in line for line in body["examples"])


def test_openapi_lists_every_route(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {
        "/api/v1/check",
        "/api/v1/results/{id}",
        "/api/v1/results/{id}/files/{n}/annotated",
        "/api/v1/results/{id}/findings.xlsx",
        "/api/v1/rules/{rule}",
        "/api/v1/health",
        "/api/v1/openapi.json",
    }


def test_the_page_is_offline_and_never_renders_cell_text_as_html(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200 and 'lang="zh-CN"' in response.text
    page = response.text
    assert "http://" not in page and "https://" not in page and "//" + "cdn" not in page
    assert "<script src" not in page and "<link" not in page
    assert "innerHTML" not in page.replace("never innerHTML", "") and "insertAdjacentHTML" not in page
    assert client.get("/results/AAAAAAAAAAAAAAAAAAAAAAAA").text == page
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'sha256-" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy  # only the page's own script runs, never injected markup


def test_where_memory_and_cpu_cannot_be_limited_the_service_says_so(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits = client.get("/api/v1/health").json()["worker_limits"]
    assert limits == {"memory_mb": 1024, "cpu_seconds": 30, "wall_seconds": 60}
    assert limits_note(DEFAULT_LIMITS) is None
    monkeypatch.setitem(sys.modules, "resource", None)  # as on Windows: `import resource` fails
    assert worker_limits(DEFAULT_LIMITS) == {"memory_mb": None, "cpu_seconds": None, "wall_seconds": 60}
    assert "只限制每次检查最长 60 秒" in (limits_note(DEFAULT_LIMITS) or "")


def test_the_browser_asking_for_an_icon_gets_no_error(client: TestClient) -> None:
    assert client.get("/favicon.ico").status_code == 204


def test_host_allow_list_refuses_other_names(client: TestClient) -> None:
    # DNS rebinding: a page from attacker.example whose name now points at 127.0.0.1.
    _error(client.get("/api/v1/health", headers={"host": "attacker.example:8750"}), 400, "bad_host")
    assert client.get("/api/v1/health", headers={"host": "127.0.0.1:8750"}).status_code == 200
    assert client.get("/api/v1/health", headers={"host": "localhost"}).status_code == 200


def test_cross_site_posts_are_refused(client: TestClient) -> None:
    _error(_upload(client, ("a.xlsx", b"x"), headers={"origin": "https://evil.example"}), 403, "cross_site")
    _error(_upload(client, ("a.xlsx", b"x"), headers={"sec-fetch-site": "cross-site"}), 403, "cross_site")
    _error(client.delete("/api/v1/results/AAAAAAAAAAAAAAAAAAAAAAAA", headers={"origin": "null"}), 403, "cross_site")
    same = _upload(client, ("a.xlsx", b"x"), headers={"origin": f"http://{HOST}", "sec-fetch-site": "same-origin"})
    assert same.status_code == 200


def test_a_token_is_required_when_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for client in _client(monkeypatch, tmp_path, token="s3cret-token", host="0.0.0.0"):
        _error(_upload(client, ("a.xlsx", b"x")), 401, "unauthorized")
        _error(client.get("/api/v1/results/AAAAAAAAAAAAAAAAAAAAAAAA"), 401, "unauthorized")
        bad = _upload(client, ("a.xlsx", b"x"), headers={"authorization": "Bearer wrong-token"})
        _error(bad, 401, "unauthorized")
        good = _upload(client, ("a.xlsx", b"x"), headers={"authorization": "Bearer s3cret-token"})
        assert good.status_code == 200
        assert client.get("/api/v1/health").status_code == 200  # public: a load balancer's probe
        page = client.get("/")
        assert page.status_code == 401 and 'name="token"' in page.text and "s3cret" not in page.text
        assert client.post("/login", data={"token": "wrong"}).status_code == 401
        login = client.post("/login", data={"token": "s3cret-token"}, follow_redirects=False)
        assert login.status_code == 303
        cookie = login.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert client.get("/").status_code == 200  # the cookie now opens the page and the API
        client.cookies.clear()
        asked = "/results/AAAAAAAAAAAAAAAAAAAAAAAA"
        assert 'name="next" value="/results/AAAAAAAAAAAAAAAAAAAAAAAA"' in client.get(asked).text
        back = client.post("/login", data={"token": "s3cret-token", "next": asked}, follow_redirects=False)
        assert back.headers["location"] == asked  # back to the result the link was for
        elsewhere = client.post(
            "/login", data={"token": "s3cret-token", "next": "//evil.example/"}, follow_redirects=False
        )
        assert elsewhere.headers["location"] == "/"
        assert _upload(client, ("a.xlsx", b"x")).status_code == 200


def test_serving_beyond_this_machine_requires_a_token() -> None:
    with pytest.raises(ConfigError, match="访问令牌"):
        validate(ServeConfig(host="0.0.0.0"))
    with pytest.raises(ConfigError, match="太短"):
        validate(ServeConfig(host="192.0.2.1", token="short"))
    with pytest.raises(ConfigError, match="只能包含"):
        validate(ServeConfig(host="192.0.2.1", token="has space;and=semicolon"))
    validate(ServeConfig(host="::1"))
    validate(ServeConfig(host="192.0.2.1", token="long-enough_token.v2"))


def test_results_expire_and_a_full_store_answers_503(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for client in _client(monkeypatch, tmp_path, keep_minutes=2 / 60, max_results=1):
        first = _upload(client, ("a.xlsx", SEED.read_bytes())).json()
        assert first["keep_minutes"] == pytest.approx(2 / 60)
        _error(_upload(client, ("b.xlsx", SEED.read_bytes())), 503, "store_full")
        time.sleep(2.2)
        _error(client.get(first["links"]["self"]), 404, "no_such_result")
        assert not (_root(client) / first["id"]).exists()
        assert _upload(client, ("b.xlsx", SEED.read_bytes())).status_code == 200


def test_a_check_past_its_time_limit_costs_only_itself(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The worker's wall-clock limit (here 0.05 s, so that every check overruns it) gives a per-file answer."""
    limits = dataclasses.replace(DEFAULT_LIMITS, child_wall_seconds=0.05)
    for client in _client(monkeypatch, tmp_path, limits=limits):
        response = _upload(client, ("a.xlsx", SEED.read_bytes()), ("b.xlsx", SEED.read_bytes()))
        assert response.status_code == 200
        body = response.json()
        assert [f["status"] for f in body["files"]] == ["unreadable", "unreadable"]
        assert body["files"][0]["error"] == "读取超时（超过 0.05 秒）"
        assert body["files"][0]["sha256"] == hashlib.sha256(SEED.read_bytes()).hexdigest()
        assert body["links"]["files"][0]["annotated"] is None
        assert client.get("/api/v1/health").json()["busy"] == 0


def test_json_is_plain_utf8(client: TestClient) -> None:
    response = _upload(client, ("自评表.xlsx", b"x"))
    assert "自评表.xlsx" in response.content.decode("utf-8")
    assert json.loads(response.content)["files"][0]["path"] == "自评表.xlsx"
