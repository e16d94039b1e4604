"""The Starlette application: the upload page, the versioned API, the guard in front of both.

Every error is JSON ``{"error": {"code", "message"}}`` with a Chinese message;
findings are not errors (a 200 whose files carry their status). No response
ever contains a server path: files are named as they were uploaded, and
annotated copies are links.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from perf_eval import __version__
from perf_eval.errors import PerfEvalError
from perf_eval.model import FileResult, FileStatus, Report
from perf_eval.reading.safety import DEFAULT_LIMITS, Limits, UnreadableWorkbook
from perf_eval.serve import work
from perf_eval.serve.checks import Checks, Unavailable
from perf_eval.serve.store import Result, Store, StoreFull
from perf_eval.serve.upload import UploadError, receive, too_large_message

API = "/api/v1"
TOKEN_COOKIE = "perf_eval_token"
TOKEN_ENV = "PERF_EVAL_TOKEN"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSM = "application/vnd.ms-excel.sheet.macroEnabled.12"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_MEDIA = {".xlsx": XLSX, ".xlsm": XLSM, ".docx": DOCX}
_SWEEP_SECONDS = 30.0
# After refusing a request whose body is still coming, read and drop it for at most this long (a pause of
# _LINGER_IDLE_SECONDS ends it sooner), then close: see `Refusal`.
_LINGER_SECONDS = 10.0
_LINGER_IDLE_SECONDS = 2.0
_LINGER_MIN_BYTES = 64 << 20
# Connections uvicorn accepts beyond the requests the guard admits (idle keep-alive ones count there);
# past that uvicorn itself answers a plain 503 and closes.
_SPARE_CONNECTIONS = 256
_TOKEN = re.compile(r"[A-Za-z0-9._~+-]+")


@dataclass(frozen=True)
class ServeConfig:
    """How the service runs; `perf-eval serve`'s options."""

    host: str = "127.0.0.1"
    port: int = 8750
    jobs: int = 2
    token: str | None = None
    keep_minutes: float = 60.0
    max_mb: float = 20.0
    max_files: int = 20
    capacity: int | None = None  # checks running and waiting together; default 4 per worker, at least 8
    allowed_hosts: tuple[str, ...] = ()
    max_results: int = 2_000  # results kept at once; beyond, uploads get 503 until some expire
    profile: str | None = None
    limits: Limits = DEFAULT_LIMITS
    # An upload that sends nothing for this long is answered 408 and its check slot freed (a stalled or
    # slow sender must not hold the slots others need).
    upload_timeout: float = 30.0

    @property
    def max_bytes(self) -> int:
        return int(self.max_mb * (1 << 20))

    @property
    def admitted(self) -> int:
        return self.capacity if self.capacity is not None else max(8, 4 * self.jobs)

    @property
    def linger_bytes(self) -> int:
        """What a refused request may still send (read and dropped): enough for a body somewhat over the limit."""
        return max(4 * self.max_bytes, _LINGER_MIN_BYTES)

    @property
    def max_requests(self) -> int:
        """Requests handled at once (checks, downloads, pages); beyond, 503 at once."""
        return self.admitted * 4 + 16


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class ConfigError(PerfEvalError):
    """A setting that would make the service unsafe or unusable; `reason` is Chinese."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def validate(config: ServeConfig) -> None:
    if not is_loopback(config.host) and not config.token:
        raise ConfigError(
            f"监听 {config.host} 会让其他电脑访问本服务，必须设置访问令牌：--token 令牌 或环境变量 {TOKEN_ENV}"
        )
    if config.token is not None and len(config.token) < 8:
        raise ConfigError("访问令牌太短：至少 8 个字符")
    if config.token is not None and not _TOKEN.fullmatch(config.token):
        # Kept in a cookie as it is: no character that a cookie would have to quote.
        raise ConfigError("访问令牌只能包含英文字母、数字和 . _ ~ + - 这几个符号")
    if config.jobs < 1 or config.max_mb <= 0 or config.keep_minutes <= 0 or config.max_files < 1:
        raise ConfigError("--jobs、--max-mb、--keep-minutes 必须大于 0")


def worker_limits(limits: Limits) -> dict[str, float | None]:
    """The limits each check runs under here; memory and CPU are None where the system cannot set them (Windows)."""
    try:
        import resource  # noqa: F401  (POSIX only)
    except ImportError:
        return {"memory_mb": None, "cpu_seconds": None, "wall_seconds": limits.child_wall_seconds}
    return {
        "memory_mb": limits.child_memory_bytes / (1 << 20),
        "cpu_seconds": limits.child_cpu_seconds,
        "wall_seconds": limits.child_wall_seconds,
    }


def limits_note(limits: Limits) -> str | None:
    """A line for the console when a check's memory and CPU cannot be limited on this system, else None."""
    if worker_limits(limits)["memory_mb"] is not None:
        return None
    return (
        f"注意：本系统（Windows）不能限制检查进程的内存和 CPU 时间，只限制每次检查最长 {limits.child_wall_seconds:g} 秒；"
        "请只向可信的同事开放本服务"
    )


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


# --- answering before the body is read ----------------------------------------------------


def has_body(headers: Headers) -> bool:
    length = headers.get("content-length", "")
    return "chunked" in headers.get("transfer-encoding", "").lower() or (length.isdigit() and int(length) > 0)


class Refusal(Response):
    """An answer sent while the client may still be sending its body (429, 413, 401 …), then a short linger.

    Closing a connection whose client is still sending makes the kernel reset it, and the client often
    loses the answer it has not read yet: "connection reset" instead of 429 or 413. Reading on without
    bound would receive a huge upload in full. So, as web servers' "lingering close": the answer goes out
    at once with ``Connection: close``, then up to `budget` more bytes are read and dropped for at most
    `_LINGER_SECONDS`, then the connection closes. A client that waits for ``100 Continue`` sends
    nothing once answered: nothing is read then (reading would make the server invite the body).
    `budget` is `ServeConfig.linger_bytes`: a body somewhat over the limit is read to its end, so that
    clients that send everything before reading (most HTTP libraries) still get the 413.
    """

    def __init__(self, response: Response, budget: int, *, body_pending: bool = True) -> None:
        self.status_code, self.body, self.background = response.status_code, response.body, None
        self.raw_headers = response.raw_headers
        self.budget = budget
        self.body_pending = body_pending

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        if not (self.body_pending and has_body(headers)):
            await super().__call__(scope, receive, send)
            return
        raw_headers = [*self.raw_headers, (b"connection", b"close")]
        await send({"type": "http.response.start", "status": self.status_code, "headers": raw_headers})
        if "100-continue" in headers.get("expect", "").lower():
            await send({"type": "http.response.body", "body": self.body})
            return
        await send({"type": "http.response.body", "body": self.body, "more_body": True})
        await _drop_body(receive, self.budget)
        await send({"type": "http.response.body", "body": b""})


class Body:
    """A request's body as chunks, remembering whether it was read to its end."""

    def __init__(self, receive: Receive, idle: float) -> None:
        self.receive = receive
        self.idle = idle
        self.ended = False

    async def chunks(self) -> AsyncIterator[bytes]:
        while not self.ended:
            try:
                message = await asyncio.wait_for(self.receive(), self.idle)
            except TimeoutError:
                raise UploadError(
                    408, "upload_stalled", f"上传停顿超过 {self.idle:g} 秒，已中止：请检查网络后重新上传"
                ) from None
            if message["type"] == "http.disconnect":
                raise ClientDisconnect
            self.ended = not message.get("more_body", False)
            chunk: bytes = message.get("body", b"")
            if chunk:
                yield chunk


async def _drop_body(receive: Receive, budget: int) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _LINGER_SECONDS
    dropped = 0
    while dropped <= budget:
        left = deadline - loop.time()
        if left <= 0:
            return
        try:
            message = await asyncio.wait_for(receive(), min(left, _LINGER_IDLE_SECONDS))
        except TimeoutError:
            return
        if message["type"] != "http.request":
            return
        dropped += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


# --- the guard: Host allow-list, Origin check, access token ------------------------------


class Guard:
    """Pure ASGI middleware in front of every route (a request body is never buffered here)."""

    def __init__(self, app: ASGIApp, config: ServeConfig) -> None:
        self.app = app
        self.config = config
        self.in_flight = 0
        self.any_host = (
            not is_loopback(config.host) and config.host in ("0.0.0.0", "::", "") and not config.allowed_hosts
        )
        self.hosts = {name.lower().strip("[]") for name in (*LOOPBACK_NAMES, config.host, *config.allowed_hosts)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self.refusal(scope, headers)
        if refusal is None and self.in_flight >= self.config.max_requests:
            refusal = error(503, "overloaded", "同时访问的请求太多，请稍后再试", {"Retry-After": "2"})
        if refusal is not None:
            await Refusal(refusal, self.config.linger_bytes)(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1

    def refusal(self, scope: Scope, headers: Headers) -> Response | None:
        host = headers.get("host", "")
        name = urlsplit(f"//{host}").hostname or ""
        if not self.any_host and name.lower() not in self.hosts:
            # A page from elsewhere reaching 127.0.0.1 through its own DNS name (DNS rebinding).
            return error(
                400,
                "bad_host",
                f"不接受主机名 {name or '（空）'} 的请求；请用 http://127.0.0.1 访问，或以 --allow-host 允许该主机名",
            )
        method = scope["method"]
        if method not in ("GET", "HEAD", "OPTIONS"):
            origin = headers.get("origin")
            if headers.get("sec-fetch-site") == "cross-site" or (
                origin is not None and urlsplit(origin).netloc.lower() != host.lower()
            ):
                return error(403, "cross_site", "拒绝来自其他网站的请求（跨站提交）")
        if self.config.token is None or self.public(scope["path"], method):
            return None
        if self.authorized(headers):
            return None
        if method == "GET" and not scope["path"].startswith(API):
            return HTMLResponse(login_page(back_to=scope["path"]), status_code=401)
        return error(
            401, "unauthorized", "需要访问令牌：请求头 Authorization: Bearer 令牌", {"WWW-Authenticate": "Bearer"}
        )

    @staticmethod
    def public(path: str, method: str) -> bool:
        return (path, method) in (
            (f"{API}/health", "GET"),
            ("/login", "POST"),
            (f"{API}/openapi.json", "GET"),
            ("/favicon.ico", "GET"),
        )

    def authorized(self, headers: Headers) -> bool:
        offered = ""
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            offered = value.strip()
        else:
            for part in headers.get("cookie", "").split(";"):
                key, _, value = part.strip().partition("=")
                if key == TOKEN_COOKIE:
                    offered = value
        return token_matches(self.config.token or "", offered)


def token_matches(expected: str, offered: str) -> bool:
    return bool(expected) and hmac.compare_digest(expected.encode(), offered.encode())


_PAGE_PATH = re.compile(r"/(results/[A-Za-z0-9_-]{24})?")


def login_page(message: str = "", back_to: str = "/") -> str:
    """The token form; after it, the page asked for (`back_to`: only "/" or a result's page, never a URL)."""
    note = f'<p class="bad">{message}</p>' if message else ""
    back_to = back_to if _PAGE_PATH.fullmatch(back_to) else "/"
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>perf-eval 绩效自评表校验</title>'
        "<style>body{font-family:system-ui,'Microsoft YaHei',sans-serif;max-width:28em;margin:4em auto}"
        "input{font-size:1em;padding:.4em;width:100%;box-sizing:border-box;margin:.5em 0}.bad{color:#b00020}</style>"
        "</head><body><h1>绩效自评表校验</h1><p>本服务需要访问令牌，请向管理员索取。</p>"
        f'{note}<form method="post" action="/login"><label>访问令牌<input type="password" name="token" '
        f'autocomplete="current-password" required></label><input type="hidden" name="next" value="{back_to}">'
        '<button type="submit">进入</button></form></body></html>'
    )


# --- routes ------------------------------------------------------------------------------------


def _config(request: Request) -> ServeConfig:
    config: ServeConfig = request.app.state.config
    return config


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _checks(request: Request) -> Checks:
    checks: Checks = request.app.state.checks
    return checks


async def page(request: Request) -> Response:
    headers = {"Cache-Control": "no-store", **request.app.state.page_headers}
    return HTMLResponse(request.app.state.page, headers=headers)


def page_headers(html: str) -> dict[str, str]:
    """A Content-Security-Policy that lets only the page's own inline script and style run, nothing from elsewhere."""
    import base64
    import hashlib

    def digests(tag: str) -> str:
        bodies = re.findall(rf"<{tag}>(.*?)</{tag}>", html, flags=re.S)
        return " ".join(
            f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'" for body in bodies
        )

    policy = (
        f"default-src 'none'; script-src {digests('script')}; style-src {digests('style')}; connect-src 'self'; "
        "img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
    return {"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


async def login(request: Request) -> Response:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > 4096:
            return Refusal(error(413, "too_large", "请求太大"), 4096)
    form = parse_qs(body.decode("utf-8", "replace"))
    offered, back_to = form.get("token", [""])[0], form.get("next", ["/"])[0]
    if not _PAGE_PATH.fullmatch(back_to):
        back_to = "/"  # never a redirect to elsewhere
    if not token_matches(_config(request).token or "", offered):
        return HTMLResponse(login_page("访问令牌不正确", back_to), status_code=401)
    response = RedirectResponse(back_to, status_code=303)
    response.set_cookie(TOKEN_COOKIE, offered, httponly=True, samesite="strict", path="/")
    return response


async def favicon(request: Request) -> Response:
    """No icon, said plainly: a browser asks for one with every page, and a 404 shows as an error in its console."""
    return Response(status_code=204, headers={"Cache-Control": "max-age=86400"})


async def health(request: Request) -> Response:
    config, checks = _config(request), _checks(request)
    return JSONResponse(
        {
            "status": "ok",
            "version": __version__,
            "workers": config.jobs,
            "busy": checks.active,
            "capacity": checks.capacity,
            "max_upload_mb": config.max_mb,
            "max_files": config.max_files,
            "keep_minutes": config.keep_minutes,
            "token_required": config.token is not None,
            "worker_limits": worker_limits(config.limits),
        }
    )


async def openapi(request: Request) -> Response:
    return Response(request.app.state.openapi, media_type="application/json")


async def rule(request: Request) -> Response:
    from perf_eval.rules.catalogue import get
    from perf_eval.rules.examples import example_lines, readable

    found = get(request.path_params["rule_id"])
    if found is None:
        return error(404, "no_such_rule", f"没有编号为 {request.path_params['rule_id']} 的规则")
    examples = example_lines(found.id)  # as `perf-eval rules ID` shows them: from the rule's test cases
    return JSONResponse(
        {
            "id": found.id,
            "title": found.title,
            "name": found.name,
            "severity": found.severity.value,
            "severity_zh": found.severity.label_zh,
            "message": readable(found.template),
            "variants": [
                {"severity_zh": (severity or found.severity).label_zh, "message": readable(template)}
                for severity, template in found.variants.values()
            ],
            "examples": examples,
        }
    )


async def check(request: Request) -> Response:
    config, store, checks = _config(request), _store(request), _checks(request)

    def refuse(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
        return Refusal(error(status, code, message, headers), config.linger_bytes)

    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        return refuse(415, "unsupported_media_type", "请以 multipart/form-data 方式上传文件（字段名 files）")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > config.max_bytes:
        return refuse(413, "too_large", too_large_message(config.max_bytes))
    if not checks.admit():
        return refuse(429, "busy", "正在检查的文件太多，请稍后再试", {"Retry-After": "2"})
    try:
        try:
            result = store.new()
        except StoreFull:
            return refuse(503, "store_full", "保存的检查结果太多，请稍后再试", {"Retry-After": "60"})
        except OSError:
            return refuse(503, "storage", "服务器无法保存上传的文件（磁盘已满或无权限），请联系管理员")
        try:
            return await _check_into(request, config, store, checks, result)
        finally:
            if result.report is None:
                store.discard(result)
    finally:
        checks.release()


async def _check_into(request: Request, config: ServeConfig, store: Store, checks: Checks, result: Result) -> Response:
    body = Body(request.receive, config.upload_timeout)
    try:
        uploads = await receive(
            request.headers["content-type"],
            body.chunks(),
            result.folder,
            max_bytes=config.max_bytes,
            max_files=config.max_files,
        )
    except UploadError as exc:
        # Refused mid-body (too big, too many files): the rest is not received.
        return Refusal(error(exc.status, exc.code, exc.message), config.linger_bytes, body_pending=not body.ended)
    except ClientDisconnect:
        return error(400, "disconnected", "上传中断，请重新上传")
    except OSError:
        return error(503, "storage", "服务器无法保存上传的文件（磁盘已满或无权限），请联系管理员")
    try:
        checked: work.Checked = await checks.run(
            work.check_task,
            str(result.folder),
            tuple(uploads),
            config.profile,
            orphaned=lambda: store.discard(result),
        )
    except Unavailable:
        return error(503, "unavailable", "检查进程无法启动或服务正在停止，请稍后再试", {"Retry-After": "10"})
    except UnreadableWorkbook as failure:  # the worker died or overran its limits on these files
        checked = _failed(result, uploads, failure.reason)
    for upload in uploads:
        (result.folder / upload.stored).unlink(missing_ok=True)
    result.copies, result.notes = checked.copies, checked.notes
    store.ready(result)
    result.report = _payload(request, store, result, checked)
    return JSONResponse(result.report)


def _failed(result: Result, uploads: list[work.Upload], reason: str) -> work.Checked:
    import hashlib

    files = []
    for upload in uploads:
        data = (result.folder / upload.stored).read_bytes()
        files.append(FileResult(upload.display, hashlib.sha256(data).hexdigest(), FileStatus.UNREADABLE, error=reason))
    return work.Checked(Report(files, __version__).to_dict(), tuple(None for _ in uploads), tuple(() for _ in uploads))


def _payload(request: Request, store: Store, result: Result, checked: work.Checked) -> dict[str, Any]:
    base = f"{API}/results/{result.id}"
    report = checked.report
    files = []
    for number, (entry, copy, notes) in enumerate(zip(report["files"], checked.copies, checked.notes, strict=True)):
        link = f"{base}/files/{number}/annotated" if copy else None
        entry["annotated"] = link
        files.append({"annotated": link, "download_name": copy.download if copy else None, "notes": list(notes)})
    config = _config(request)
    report.update(
        {
            "id": result.id,
            "expires": datetime.fromtimestamp(result.expires, UTC).isoformat(timespec="seconds"),
            "keep_minutes": config.keep_minutes,
            "labels": {status.value: status.label_zh for status in FileStatus},
            "links": {
                "self": base,
                "page": f"/results/{result.id}",
                "findings_xlsx": f"{base}/findings.xlsx",
                "files": files,
            },
        }
    )
    # A last guard: no server folder in any text (a message that quoted one would be a bug elsewhere).
    text = json.dumps(report, ensure_ascii=False)
    if str(store.root) in text:
        report = json.loads(text.replace(json.dumps(str(store.root))[1:-1], ""))
    return report


def _found(request: Request) -> Result | Response:
    found = _store(request).get(request.path_params["result_id"])
    if found is None:
        return error(404, "no_such_result", "检查结果不存在或已过期删除，请重新上传")
    return found


async def result_report(request: Request) -> Response:
    found = _found(request)
    return found if isinstance(found, Response) else JSONResponse(found.report)


async def result_delete(request: Request) -> Response:
    found = _found(request)
    if isinstance(found, Response):
        return found
    _store(request).delete(found.id)
    return JSONResponse({"deleted": found.id})


async def annotated(request: Request) -> Response:
    found = _found(request)
    if isinstance(found, Response):
        return found
    number = request.path_params["number"]
    copy = found.copies[number] if 0 <= number < len(found.copies) else None
    if copy is None:
        return error(404, "no_copy", "该文件没有批注副本（文件无法读取，或副本未能生成）")
    try:
        data = (found.folder / work.COPIES / copy.stored).read_bytes()
    except OSError:
        return error(404, "no_such_result", "检查结果不存在或已过期删除，请重新上传")
    media = _MEDIA.get(os.path.splitext(copy.download)[1].lower(), XLSX)
    return Response(data, media_type=media, headers={"Content-Disposition": attachment(copy.download)})


async def findings(request: Request) -> Response:
    found = _found(request)
    if isinstance(found, Response):
        return found
    assert found.report is not None
    target = found.folder / "findings.xlsx"
    if not target.exists():
        checks = _checks(request)
        if not checks.admit():
            return error(429, "busy", "正在检查的文件太多，请稍后再试", {"Retry-After": "2"})
        try:
            await checks.run(work.findings_task, {"files": found.report["files"]}, str(target))
        except Unavailable:
            return error(503, "unavailable", "检查进程无法启动或服务正在停止，请稍后再试", {"Retry-After": "10"})
        except UnreadableWorkbook:
            return error(503, "unavailable", "问题清单未能生成，请稍后再试", {"Retry-After": "10"})
        finally:
            checks.release()
    try:
        data = target.read_bytes()
    except OSError:
        return error(404, "no_such_result", "检查结果不存在或已过期删除，请重新上传")
    name = (
        "问题清单.xlsx"
        if len(found.report["files"]) != 1
        else _stem(found.report["files"][0]["path"]) + ".问题清单.xlsx"
    )
    return Response(data, media_type=XLSX, headers={"Content-Disposition": attachment(name)})


def _stem(name: str) -> str:
    return os.path.splitext(name)[0] or "问题清单"


# The fallback name of a download (what curl -OJ saves under): the words the service adds, in English.
_FALLBACK_WORDS = (("问题清单", "findings"), ("校验", "checked"))


def attachment(name: str) -> str:
    """Content-Disposition for a download named `name`: an ASCII fallback, then the real name (RFC 6266)."""
    fallback = name
    for chinese, english in _FALLBACK_WORDS:
        fallback = fallback.replace(chinese, english)
    fallback = re.sub(r'[^ -~]+|["\\%;]', "_", fallback)  # a run of Chinese becomes one "_"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


# --- the application ---------------------------------------------------------------------------


async def _not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 405:
        return error(405, "method_not_allowed", "不支持该请求方法")
    return error(404, "not_found", "没有这个地址")


async def _sweep(store: Store) -> None:
    while True:
        await asyncio.sleep(_SWEEP_SECONDS)
        store.sweep()


def create_app(config: ServeConfig) -> ASGIApp:
    """The service; its workers start with the application (lifespan) and stop with it."""
    validate(config)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = Store(keep_seconds=config.keep_minutes * 60, max_results=config.max_results)
        checks = Checks(config.jobs, config.limits, capacity=config.admitted)
        checks.warm(work.warm)
        app.state.store, app.state.checks = store, checks
        sweeper = asyncio.create_task(_sweep(store))
        try:
            yield
        finally:
            sweeper.cancel()
            checks.close()
            store.close()

    static = resources.files("perf_eval.serve") / "static"
    routes = [
        Route("/", page),
        Route("/results/{result_id}", page),
        Route("/login", login, methods=["POST"]),
        Route("/favicon.ico", favicon),
        Route(f"{API}/health", health),
        Route(f"{API}/openapi.json", openapi),
        Route(f"{API}/rules/{{rule_id}}", rule),
        Route(f"{API}/check", check, methods=["POST"]),
        Route(f"{API}/results/{{result_id}}", result_report),
        Route(f"{API}/results/{{result_id}}", result_delete, methods=["DELETE"]),
        Route(f"{API}/results/{{result_id}}/files/{{number:int}}/annotated", annotated),
        Route(f"{API}/results/{{result_id}}/findings.xlsx", findings),
    ]
    handlers: dict[Any, Callable[[Request, Exception], Awaitable[Response]]] = {404: _not_found, 405: _not_found}
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers=handlers)
    app.state.config = config
    app.state.page = (static / "index.html").read_text(encoding="utf-8")
    app.state.page_headers = page_headers(app.state.page)
    app.state.openapi = (static / "openapi.json").read_bytes()
    return Guard(app, config)


def port_problem(host: str, port: int) -> str | None:
    """Why the service could not listen on host:port (in Chinese), or None; checked before the workers start."""
    import socket

    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            if os.name != "nt":  # on Windows SO_REUSEADDR would let a second server share the port
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        return f"无法在 {host}:{port} 上提供服务（{exc.strerror or exc}）：端口可能已被占用，请用 --port 换一个端口"
    return None


def run(config: ServeConfig) -> None:
    """Serve until interrupted (Ctrl+C); uvicorn stops the workers and deletes the results on the way out."""
    import uvicorn

    uvicorn.run(
        create_app(config),
        host=config.host,
        port=config.port,
        log_level="warning",
        # Requests beyond `max_requests` get the guard's 503 (JSON, Chinese); this bounds open connections,
        # idle keep-alive ones included, well above that.
        limit_concurrency=config.max_requests + _SPARE_CONNECTIONS,
        server_header=False,
    )


__all__ = ["ConfigError", "ServeConfig", "create_app", "run"]
