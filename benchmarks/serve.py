#!/usr/bin/env python3
"""`perf-eval serve` against the in-process check, measured in one run.

    python benchmarks/serve.py [--rounds 20] [--uploads 100] [--jobs 2]

(a) warm latency of one upload of the seed workbook (POST /api/v1/check, which
    writes the annotated copy; and the same plus downloading the copy), as a
    ratio to the in-process check with copy (`checker.check_files` +
    `annotate`), the two measured alternately so that a busy machine slows
    both alike. Target: <= 1.5x.
(b) throughput with 10 concurrent clients (uploads/s; a 429 is retried after
    its Retry-After), and peak memory (VmHWM) of the service process and of
    each worker process.

The service runs as `python -m perf_eval serve` on a random loopback port and
is stopped at the end.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "sample_workbooks" / "lusong-2023-seed.xlsx"


def _request(port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def _multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = io.BytesIO()
    body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n\r\n'.encode())
    body.write(data + f"\r\n--{boundary}--\r\n".encode())
    return body.getvalue(), f"multipart/form-data; boundary={boundary}"


def upload(port: int, data: bytes, *, download: bool = False) -> tuple[float, int]:
    """Seconds for one upload (and the copy's download); the number of 429s retried."""
    body, content_type = _multipart("自评表.xlsx", data)
    retries = 0
    started = time.perf_counter()
    while True:
        status, headers, answer = _request(port, "POST", "/api/v1/check", body, {"Content-Type": content_type})
        if status != 429:
            break
        retries += 1
        time.sleep(float(headers.get("retry-after", "1")) / 4)
    if status != 200:
        raise SystemExit(f"upload failed: HTTP {status}: {answer[:300]!r}")
    report = json.loads(answer)
    if download:
        status, _, copy = _request(port, "GET", report["files"][0]["annotated"])
        assert status == 200 and copy[:2] == b"PK"
    elapsed = time.perf_counter() - started
    _request(port, "DELETE", report["links"]["self"])
    return elapsed, retries


def in_process(out: Path) -> float:
    from perf_eval.checker import check_files
    from perf_eval.outputs.annotate import annotate

    started = time.perf_counter()
    (checked,) = check_files([SEED])
    assert checked.workbook is not None
    annotate(SEED, checked.result, out_dir=out, drawings=checked.workbook.drawings)
    return time.perf_counter() - started


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def workers(pid: int) -> list[int]:
    """The service's worker processes (not multiprocessing's resource tracker)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.extend(int(c) for c in (task / "children").read_text().split())
    return [c for c in found if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--uploads", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    service = subprocess.Popen(
        [sys.executable, "-m", "perf_eval", "serve", "--port", str(port), "--jobs", str(args.jobs)],
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if _request(port, "GET", "/api/v1/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
            if time.monotonic() > deadline:
                raise SystemExit("the service did not start")
        data = SEED.read_bytes()
        with tempfile.TemporaryDirectory() as out:
            for _ in range(2 * args.jobs + 2):  # every worker warm; the in-process check warm too
                upload(port, data)
                in_process(Path(out))
            served, served_copy, local = [], [], []
            for _ in range(args.rounds):
                served.append(upload(port, data)[0])
                local.append(in_process(Path(out)))
                served_copy.append(upload(port, data, download=True)[0])
        base = statistics.median(local)
        one, with_copy = statistics.median(served), statistics.median(served_copy)
        print(f"(a) warm latency, seed workbook, median of {args.rounds} (service with --jobs {args.jobs}):")
        print(f"    in-process check + annotated copy      {base * 1000:7.1f} ms   (baseline)")
        print(f"    POST /api/v1/check (copy written)      {one * 1000:7.1f} ms   {one / base:.2f}x   target <= 1.5x")
        print(f"    ... and GET the annotated copy         {with_copy * 1000:7.1f} ms   {with_copy / base:.2f}x")

        started = time.perf_counter()
        with ThreadPoolExecutor(10) as clients:
            outcomes = list(clients.map(lambda _: upload(port, data), range(args.uploads)))
        elapsed = time.perf_counter() - started
        retries = sum(r for _, r in outcomes)
        latencies = sorted(t for t, _ in outcomes)
        print(
            f"(b) {args.uploads} uploads, 10 concurrent clients: {args.uploads / elapsed:.1f} uploads/s "
            f"({elapsed:.1f} s; {elapsed / args.uploads / base:.2f}x the in-process time per upload), "
            f"latency median {statistics.median(latencies) * 1000:.0f} ms, "
            f"p95 {latencies[int(0.95 * len(latencies)) - 1] * 1000:.0f} ms, {retries} retries after 429"
        )
        peaks = [peak_rss_mib(pid) for pid in workers(service.pid)]
        print(
            f"    peak RSS: service process {peak_rss_mib(service.pid):.0f} MiB; "
            f"workers {', '.join(f'{w:.0f}' for w in peaks)} MiB (each limited by RLIMIT_AS)"
        )
        print(f"    machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    finally:
        service.send_signal(signal.SIGINT)
        service.wait(60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
