#!/usr/bin/env python3
"""Measure perf-eval's speed and memory against baselines taken in the same run.

Run ``python benchmarks/run.py`` from a checkout with the project installed.
It generates its workbooks from ``sample_workbooks/`` into a temporary folder
and prints one table: each figure, its baseline, the ratio, the target and
whether the target is met. Progress goes to stderr; stdout is the report
only. The exit code is always 0: this script measures, it does not assert.

Figures (the numbering follows the performance issue):

(a) in-process ``perf_eval.check`` of the seed workbook, against
    ``openpyxl.load_workbook(data_only=True)`` of the same file;
(b) the same plus the annotated copy, against the same load (and, for
    information, against an openpyxl load + save);
(c) a cold ``perf-eval check`` subprocess, against
    ``python -c "import pandera.pandas"``;
(d) ``perf-eval --help`` and ``perf-eval rules`` wall time, and whether they
    import pandas or pandera;
(e) ``perf-eval scan --jobs 2`` of 1,000 workbooks: files per second and
    peak memory per worker process, first run and an unchanged second run;
(f) scans of 100, 1,000 and 5,000 workbooks: time per file as N grows.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import io
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_workbooks"
SEED = SAMPLES / "lusong-2023-seed.xlsx"

FULL_SIZES = (100, 1_000, 5_000)
QUICK_SIZES = (50, 100, 200)
FILES_PER_FOLDER = 40  # a county's folder
ZIP_TIME = (2024, 1, 1, 0, 0, 0)

# Targets of the performance issue.
TARGET_IN_PROCESS = 0.4  # (a) × openpyxl load (issue #9)
TARGET_COLD = 1.5  # (c) × import pandera.pandas
TARGET_STARTUP_S = 0.3  # (d)
TARGET_FILES_PER_S = 40.0  # (e) first run, 2 jobs
TARGET_WORKER_MB = 300.0  # (e) peak memory per worker
TARGET_SECOND_RUN = 0.05  # (e) second run / first run
TARGET_LINEAR = 1.5  # (f) per-file time at the largest N / at the smallest N

HEAVY_MODULES = ("pandas", "pandera", "numpy", "openpyxl", "python_calamine")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the report ----------------------------------------------------------------------


@dataclass
class Row:
    figure: str
    measured: str
    baseline: str = "—"
    ratio: str = "—"
    target: str = "—"
    met: str = "—"


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)

    def failed(self, figure: str, exc: BaseException) -> None:
        self.rows.append(Row(figure, "failed", target="", met="no"))
        self.notes.append(f"{figure.strip()}: {type(exc).__name__}: {exc}")


def verdict(ok: bool) -> str:
    return "yes" if ok else "no"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def secs(seconds: float) -> str:
    return f"{seconds:.2f} s"


def times(ratio: float) -> str:
    return f"{ratio:.2f}×"


def render(rows: Sequence[Row]) -> str:
    header = Row("figure", "measured", "baseline", "ratio", "target", "met")
    table = [header, *rows]
    columns = ("figure", "measured", "baseline", "ratio", "target", "met")
    widths = {c: max(len(getattr(r, c)) for r in table) for c in columns}
    lines = []
    for index, row in enumerate(table):
        cells = [getattr(row, c).ljust(widths[c]) for c in columns]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * widths[c] for c in columns))
    return "\n".join(lines)


# --- timing ------------------------------------------------------------------------------


def interleaved_medians(funcs: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median seconds of each function, run in turns so that a slow moment of the machine hits all alike."""
    for func in funcs.values():  # warm-up: imports, caches, .pyc files
        func()
    samples: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(repeat):
        for name, func in funcs.items():
            start = time.perf_counter()
            func()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def command_runner(command: Sequence[str], *, ok_codes: Sequence[int] = (0,)) -> Callable[[], None]:
    def run() -> None:
        completed = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if completed.returncode not in ok_codes:
            stderr = completed.stderr.decode("utf-8", "replace").strip().splitlines()
            raise RuntimeError(f"{' '.join(command)} exited {completed.returncode}: {stderr[-1] if stderr else ''}")

    return run


def perf_eval_command() -> list[str]:
    """The installed console script beside this interpreter, else ``python -m perf_eval``."""
    script = Path(sys.executable).with_name("perf-eval")
    if script.exists():
        return [str(script)]
    found = shutil.which("perf-eval")
    return [found] if found else [sys.executable, "-m", "perf_eval"]


# --- machine facts ---------------------------------------------------------------------


def version_of(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def memory_total() -> str:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB RAM"
    return "RAM unknown"


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"


def machine_facts(load_at_start: str) -> list[str]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    packages = ("perf-eval", "openpyxl", "lxml", "pandas", "pandera", "numpy", "python-calamine", "typer", "rich")
    return [
        f"machine:  {os.cpu_count()} CPUs ({usable} usable), {memory_total()}, {platform.platform()}",
        f"python:   {platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        "versions: " + ", ".join(f"{name} {version_of(name)}" for name in packages),
        f"load:     1/5/15-minute load average {load_at_start} at the start, {load_average()} at the end "
        "(this run's own work included; each scan's note says how busy other processes kept the CPUs)",
    ]


# --- workbooks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A sample workbook as zip parts, and the unit names written in it (replaced per copy)."""

    name: str
    parts: tuple[tuple[str, bytes], ...]
    units: tuple[str, ...]


def zip_parts(data: bytes) -> tuple[tuple[str, bytes], ...]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return tuple((info.filename, archive.read(info)) for info in archive.infolist())


def load_template(name: str, data: bytes, path: Path) -> Template:
    from perf_eval.reading.safety import UnreadableWorkbook
    from perf_eval.reading.workbook import read_workbook

    try:
        units = {form.info.unit for form in read_workbook(path).forms if form.info.unit}
    except UnreadableWorkbook:
        units = set()
    return Template(name, zip_parts(data), tuple(sorted(units, key=len, reverse=True)))


def split_basic_with_unit(folder: Path) -> tuple[bytes, Path]:
    """The split 基础数据表 with a 填报单位 line naming its 自评表's unit, so that the two pair across files."""
    import openpyxl

    from perf_eval.reading.workbook import read_workbook

    evals = read_workbook(SAMPLES / "split-2023-self-eval.xlsx").forms
    unit = next(form.info.unit for form in evals if form.info.unit)
    workbook = openpyxl.load_workbook(SAMPLES / "split-2023-basic.xlsx")
    sheet = workbook.worksheets[0]
    sheet.cell(sheet.max_row + 1, 1, f"填报单位：{unit}")
    path = folder / "split-2023-basic-with-unit.xlsx"
    workbook.save(path)
    return path.read_bytes(), path


def load_templates(folder: Path) -> dict[str, Template]:
    templates: dict[str, Template] = {}
    for stem in (
        "lusong-2023-seed",
        "lusong-2023-corrected",
        "project-2023-clean",
        "project-2023-province-split",
        "split-2023-self-eval",
    ):
        path = SAMPLES / f"{stem}.xlsx"
        templates[stem] = load_template(stem, path.read_bytes(), path)
    data, path = split_basic_with_unit(folder)
    templates["split-2023-basic"] = load_template("split-2023-basic", data, path)
    for path in sorted((SAMPLES / "broken").glob("*.xlsx")):
        templates[f"broken-{path.stem}"] = load_template(f"broken-{path.stem}", path.read_bytes(), path)
    return templates


_CORE_END = b"</cp:coreProperties>"
_CORE_TITLE = re.compile(rb"<dc:title>.*?</dc:title>", re.DOTALL)


def varied_copy(template: Template, unit_index: int, file_index: int) -> bytes:
    """The template with its units renamed for `unit_index` and a per-file title: every copy hashes apart."""
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in template.parts:
            if name.endswith(".xml") and name.startswith("xl/"):
                for unit in template.units:
                    data = data.replace(unit.encode(), f"样本{unit_index:05d}{unit}".encode())
            elif name == "docProps/core.xml":
                title = f"<dc:title>benchmark copy {file_index}</dc:title>".encode()
                data = (
                    _CORE_TITLE.sub(title, data)
                    if _CORE_TITLE.search(data)
                    else data.replace(_CORE_END, title + _CORE_END)
                )
            archive.writestr(zipfile.ZipInfo(name, ZIP_TIME), data, compress_type=zipfile.ZIP_DEFLATED)
    return output.getvalue()


# One cycle of 50 files, as a province's folder might hold them: whole-unit workbooks (basic data and
# self-evaluation together, as filed, some already corrected), units that file the two forms apart,
# project forms (national and provincial layouts), workbooks with one known error each, and two that
# cannot be read at all. Any prefix of the sequence keeps about this mix.
CYCLE: tuple[tuple[str, int], ...] = (
    ("lusong-2023-seed", 5),
    ("lusong-2023-corrected", 7),
    ("split", 7),  # two files per slot
    ("project-2023-clean", 10),
    ("project-2023-province-split", 8),
    ("broken", 4),
    ("not-a-workbook", 1),
    ("truncated", 1),
)


def corpus_plan(count: int, broken: Sequence[str]) -> Iterator[tuple[str, int]]:
    """(template, unit index) for `count` files, in a fixed pseudo-random order."""
    slots = [kind for kind, weight in CYCLE for _ in range(weight)]
    rng = random.Random(20240101)
    produced = unit = 0
    broken_at = 0
    while True:
        rng.shuffle(slots)
        for kind in slots:
            unit += 1
            if kind == "split":
                names = ["split-2023-basic", "split-2023-self-eval"]
            elif kind == "broken":
                names = [broken[broken_at % len(broken)]]
                broken_at += 1
            else:
                names = [kind]
            for name in names:
                if produced == count:
                    return
                yield name, unit
                produced += 1


def build_corpus(folder: Path, count: int, templates: dict[str, Template]) -> list[str]:
    """Write `count` workbooks under `folder` (40 per county folder); their relative paths, in order."""
    broken = [name for name in templates if name.startswith("broken-")]
    rels: list[str] = []
    for index, (name, unit) in enumerate(corpus_plan(count, broken)):
        rel = f"县{index // FILES_PER_FOLDER:03d}/{index:05d}-{name}.xlsx"
        if name == "not-a-workbook":  # an export saved under the wrong extension
            data = f"单位,金额\n样本{unit:05d},{index}\n".encode()
        elif name == "truncated":  # an upload cut off half-way
            whole = varied_copy(templates["lusong-2023-seed"], unit, index)
            data = whole[: len(whole) // 2]
        else:
            data = varied_copy(templates[name], unit, index)
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        rels.append(rel)
    return rels


def corpus_subset(master: Path, rels: Sequence[str], folder: Path) -> None:
    for rel in rels:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(master / rel, folder / rel)


# --- (a), (b): in process ------------------------------------------------------------


def measure_in_process(report: Report, work: Path, repeat: int) -> None:
    import openpyxl

    import perf_eval
    from perf_eval.checker import check_files
    from perf_eval.outputs.annotate import annotate

    copies = work / "in-process-copies"
    copies.mkdir()

    def load() -> None:
        openpyxl.load_workbook(SEED, data_only=True)

    def round_trip() -> None:
        workbook = openpyxl.load_workbook(SEED, rich_text=True, keep_links=True)
        workbook.save(copies / "round-trip.xlsx")

    def check() -> None:
        perf_eval.check(SEED)

    def check_and_copy() -> None:
        for item in check_files([SEED]):
            assert item.workbook is not None
            annotate(SEED, item.result, out_dir=copies, drawings=item.workbook.drawings)

    medians = interleaved_medians(
        {"load": load, "round_trip": round_trip, "check": check, "check_and_copy": check_and_copy}, repeat
    )
    base = medians["load"]
    ratio = medians["check"] / base
    report.add(
        Row(
            "(a) check one workbook, in process, no copy",
            ms(medians["check"]),
            f"openpyxl load_workbook(data_only=True) {ms(base)}",
            times(ratio),
            f"≤ {TARGET_IN_PROCESS:g}×",
            verdict(ratio <= TARGET_IN_PROCESS),
        )
    )
    report.add(
        Row(
            "(b) check + annotated copy, in process",
            ms(medians["check_and_copy"]),
            f"openpyxl load_workbook(data_only=True) {ms(base)}",
            times(medians["check_and_copy"] / base),
        )
    )
    report.add(
        Row(
            "    (b) against an openpyxl round trip",
            ms(medians["check_and_copy"]),
            f"openpyxl load + save {ms(medians['round_trip'])}",
            times(medians["check_and_copy"] / medians["round_trip"]),
        )
    )
    report.notes.append(f"(a), (b): {SEED.name}, median of {repeat} interleaved runs after a warm-up.")


# --- (c), (d): subprocesses ----------------------------------------------------------


def imported_modules(command: Sequence[str]) -> dict[str, int]:
    """Top-level packages the command imports, with the time spent importing their modules in µs (``-X importtime``)."""
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", *command],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    packages: dict[str, int] = {}
    for line in completed.stderr.splitlines():
        parts = line.split("|")
        if not line.startswith("import time:") or len(parts) != 3:
            continue
        self_us = parts[0].removeprefix("import time:").strip()
        if not self_us.isdigit():
            continue
        top = parts[2].strip().split(".")[0]
        packages[top] = packages.get(top, 0) + int(self_us)
    return packages


def measure_cold(report: Report, work: Path, repeat: int) -> None:
    cli = perf_eval_command()
    out = work / "cold-copies"
    floor = "import pandera.pandas, python_calamine, lxml, typer, rich"  # what a check with its copy imports
    medians = interleaved_medians(
        {
            "pandera": command_runner([sys.executable, "-c", "import pandera.pandas"]),
            "floor": command_runner([sys.executable, "-c", floor]),
            "check": command_runner([*cli, "check", str(SEED), "--out", str(out)], ok_codes=(0, 1)),
            "no_annotate": command_runner([*cli, "check", str(SEED), "--no-annotate"], ok_codes=(0, 1)),
        },
        repeat,
    )
    base = medians["pandera"]
    ratio = medians["check"] / base
    report.add(
        Row(
            "(c) perf-eval check, cold, with the copy",
            secs(medians["check"]),
            f'python -c "import pandera.pandas" {secs(base)}',
            times(ratio),
            f"≤ {TARGET_COLD:g}×",
            verdict(ratio <= TARGET_COLD),
        )
    )
    report.add(
        Row(
            "    (c) the same with --no-annotate",
            secs(medians["no_annotate"]),
            f'python -c "import pandera.pandas" {secs(base)}',
            times(medians["no_annotate"] / base),
        )
    )
    report.add(
        Row(
            "    (c) against every library it needs",
            secs(medians["check"]),
            f"python -c {floor!r} {secs(medians['floor'])}",
            times(medians["check"] / medians["floor"]),
        )
    )
    imports = imported_modules(["-m", "perf_eval", "check", str(SEED), "--out", str(out)])
    top = sorted(imports.items(), key=lambda item: item[1], reverse=True)[:8]
    report.notes.append(
        "(c) import time of `perf-eval check` by package (-X importtime self times, one run): "
        + ", ".join(f"{name} {us / 1e6:.2f} s" for name, us in top)
    )


def measure_startup(report: Report, repeat: int) -> None:
    cli = perf_eval_command()
    commands = {"--help": [*cli, "--help"], "rules": [*cli, "rules"]}
    funcs: dict[str, Callable[[], object]] = {"python": command_runner([sys.executable, "-c", "pass"])}
    funcs.update({name: command_runner(command) for name, command in commands.items()})
    medians = interleaved_medians(funcs, repeat)
    for name in commands:
        heavy = sorted(set(imported_modules(["-m", "perf_eval", name])) & set(HEAVY_MODULES))
        report.add(
            Row(
                f"(d) perf-eval {name}",
                secs(medians[name]),
                f'python -c "pass" {secs(medians["python"])}',
                times(medians[name] / medians["python"]),
                f"≤ {TARGET_STARTUP_S:g} s",
                verdict(medians[name] <= TARGET_STARTUP_S),
            )
        )
        report.notes.append(
            f"(d) `perf-eval {name}` imports: {', '.join(heavy) if heavy else 'none of ' + ', '.join(HEAVY_MODULES)}."
        )
    report.notes.append(f"(c), (d): wall time of a new process, median of {repeat} interleaved runs after a warm-up.")


# --- (e), (f): scans -----------------------------------------------------------------


class TreeMonitor:
    """Polls /proc for the peak resident memory (VmHWM) and CPU time of a process and each of its descendants."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.peaks: dict[int, int] = {}  # pid → kB
        self.cpu: dict[int, float] = {}  # pid → seconds (user + system), as last seen
        self.roles: dict[int, str] = {}
        self._tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.available = Path("/proc/self/status").exists()

    def __enter__(self) -> TreeMonitor:
        if self.available:
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self.available:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll()
            self._stop.wait(self.interval)

    def poll(self) -> None:
        stats = _proc_stats()
        for pid in [self.pid, *_descendants(self.pid, stats)]:
            peak = _vm_hwm(pid)
            if peak is None:
                continue
            self.peaks[pid] = max(peak, self.peaks.get(pid, 0))
            self.cpu[pid] = (stats[pid][1] + stats[pid][2]) / self._tick if pid in stats else self.cpu.get(pid, 0.0)
            if pid not in self.roles:
                self.roles[pid] = "main" if pid == self.pid else _role(pid)

    def peak_mb(self, role: str) -> float | None:
        values = [kb for pid, kb in self.peaks.items() if self.roles.get(pid) == role]
        return max(values) / 1024 if values else None

    def cpu_seconds(self, role: str) -> float:
        return sum(seconds for pid, seconds in self.cpu.items() if self.roles.get(pid) == role)

    def count(self, role: str) -> int:
        return sum(1 for r in self.roles.values() if r == role)


def _proc_stats() -> dict[int, tuple[int, int, int]]:
    """pid → (parent pid, user ticks, system ticks) of every process."""
    stats: dict[int, tuple[int, int, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), int(fields[11]), int(fields[12]))
    return stats


def _descendants(root: int, stats: dict[int, tuple[int, int, int]]) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    found: list[int] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _vm_hwm(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _role(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "other"
    if b"spawn_main" in command:
        return "worker"
    return "other"  # multiprocessing's resource tracker, if any


@dataclass(frozen=True)
class ScanRun:
    files: int
    seconds: float
    exit_code: int
    worker_mb: float | None
    workers: int
    main_mb: float | None
    tree_max_mb: float  # the largest single process of the tree (wait4), a cross-check of the polling
    cpu_seconds: float  # user + system of the whole tree (wait4)
    main_cpu: float  # as last polled
    worker_cpu: float
    other_cores: float | None  # CPUs busy with other processes meanwhile, on average
    run: dict[str, Any]
    statuses: dict[str, Any]


def busy_seconds() -> float | None:
    """CPU seconds the whole machine has spent busy since boot (/proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    except (OSError, ValueError, IndexError):
        return None
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def run_scan(folder: Path, out: Path, *, files: int, jobs: int, full: bool) -> ScanRun:
    command = [*perf_eval_command(), "scan", str(folder), "--out", str(out), "--jobs", str(jobs), "--format", "json"]
    if full:
        command.append("--full")
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        busy_before = busy_seconds()
        start = time.perf_counter()
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
        with TreeMonitor(process.pid) as monitor:
            _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        busy_after = busy_seconds()
        process.returncode = code = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        text = stdout.read().decode("utf-8", "replace")
        if code not in (0, 1):
            lines = stderr.read().decode("utf-8", "replace").strip().splitlines()
            raise RuntimeError(f"perf-eval scan exited {code}: {lines[-1] if lines else '(no message)'}")
    data = json.loads(text)
    maxrss_kb = usage.ru_maxrss / 1024 if sys.platform == "darwin" else usage.ru_maxrss
    cpu = usage.ru_utime + usage.ru_stime
    other = None
    if busy_before is not None and busy_after is not None:
        other = max(0.0, busy_after - busy_before - cpu) / seconds
    return ScanRun(
        files=files,
        seconds=seconds,
        exit_code=code,
        worker_mb=monitor.peak_mb("worker"),
        workers=monitor.count("worker"),
        main_mb=monitor.peak_mb("main"),
        tree_max_mb=maxrss_kb / 1024,
        cpu_seconds=cpu,
        main_cpu=monitor.cpu_seconds("main"),
        worker_cpu=monitor.cpu_seconds("worker"),
        other_cores=other,
        run=data.get("scan", {}).get("run", {}),
        statuses=data.get("scan", {}).get("statuses", {}),
    )


def describe_run(label: str, scan: ScanRun) -> str:
    counters = ", ".join(f"{key} {scan.run.get(key)}" for key in ("read", "reused", "checked", "annotated"))
    statuses = ", ".join(f"{key} {value}" for key, value in scan.statuses.items())
    memory = f"main process peak {scan.main_mb:.0f} MB" if scan.main_mb is not None else "memory not polled"
    if scan.worker_mb is not None:
        memory += f", worker peak {scan.worker_mb:.0f} MB"
    other = f"; other processes kept {scan.other_cores:.2f} CPUs busy meanwhile" if scan.other_cores is not None else ""
    return (
        f"{label}: {scan.files} files in {scan.seconds:.2f} s (scan's own clock {scan.run.get('seconds')} s), "
        f"CPU {scan.cpu_seconds:.1f} s = {scan.cpu_seconds / scan.files * 1000:.0f} ms/file "
        f"(main process {scan.main_cpu:.1f} s, workers {scan.worker_cpu:.1f} s){other}; {memory}; "
        f"{counters}; statuses: {statuses}; exit code {scan.exit_code}"
    )


def source_signature() -> str:
    """perf-eval's source and profile files: the scan's cache is keyed by them, so an edit empties it."""
    import hashlib

    import perf_eval

    digest = hashlib.sha256()
    package = Path(perf_eval.__file__).resolve().parent
    for path in sorted([*package.rglob("*.py"), *package.rglob("*.toml"), *(ROOT / "schemas").glob("*.toml")]):
        with contextlib.suppress(OSError):
            digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()


def measure_scans(report: Report, work: Path, sizes: Sequence[int], jobs: int) -> None:
    log("loading templates …")
    templates = load_templates(work)
    master = work / "corpus" / f"{max(sizes)}"
    log(f"generating {max(sizes)} workbooks …")
    start = time.perf_counter()
    rels = build_corpus(master, max(sizes), templates)
    folders = {max(sizes): master}
    for size in sizes:
        if size not in folders:
            folders[size] = work / "corpus" / f"{size}"
            corpus_subset(master, rels[:size], folders[size])
    report.notes.append(
        f"corpus: {max(sizes)} workbooks generated in {time.perf_counter() - start:.1f} s from "
        f"{len(templates)} templates, {FILES_PER_FOLDER} per folder; per 50 files: "
        + ", ".join(f"{kind} {weight * (2 if kind == 'split' else 1)}" for kind, weight in CYCLE)
        + "; smaller sets are the first N of the largest."
    )
    middle = sorted(sizes)[len(sizes) // 2]
    first: dict[int, ScanRun] = {}
    try:
        first[middle] = measure_incremental(report, folders[middle], work, files=middle, jobs=jobs)
    except (RuntimeError, ValueError, OSError) as exc:
        report.failed(f"(e) scan {middle} files", exc)
    for size in sorted(sizes):
        if size in first:
            continue
        log(f"scan of {size} files, first run (--full, --jobs {jobs}) …")
        try:
            first[size] = run_scan(folders[size], work / f"out-{size}", files=size, jobs=jobs, full=True)
        except (RuntimeError, ValueError, OSError) as exc:
            report.failed(f"(f) scan {size} files, first run", exc)
            continue
        report.notes.append(describe_run(f"(f) first run of {size}", first[size]))
    linearity_rows(report, first)


def measure_incremental(report: Report, folder: Path, work: Path, *, files: int, jobs: int) -> ScanRun:
    """(e): a first run and, right after it, an unchanged second run; the first run's `ScanRun`.

    If perf-eval's sources change in between (someone edits the checkout), the
    cache is rightly emptied and the second run is a full one: then both are
    measured once more.
    """
    for attempt in range(2):
        signature = source_signature()
        out = work / f"out-{files}-{attempt}"
        log(f"scan of {files} files, first run (--full, --jobs {jobs}) …")
        first = run_scan(folder, out, files=files, jobs=jobs, full=True)
        log(f"scan of {files} files, second run (unchanged) …")
        second = run_scan(folder, out, files=files, jobs=jobs, full=False)
        if source_signature() == signature:
            break
        report.notes.append(
            f"(e) perf-eval's source files changed during attempt {attempt + 1}, which empties the scan cache"
            + ("; measured again." if attempt == 0 else "; the second run below is not an unchanged run.")
        )
    report.notes.append(describe_run(f"(e/f) first run of {files}", first))
    report.notes.append(describe_run(f"(e) second run of {files}", second))
    scan_rows(report, first, second, jobs)
    return first


def scan_rows(report: Report, first: ScanRun, second: ScanRun, jobs: int) -> None:
    rate = first.files / first.seconds
    report.add(
        Row(
            f"(e) scan {first.files} files, first run, {jobs} jobs",
            f"{rate:.1f} files/s ({secs(first.seconds)})",
            target=f"≥ {TARGET_FILES_PER_S:g} files/s",
            met=verdict(rate >= TARGET_FILES_PER_S),
        )
    )
    for label, scan in (("first", first), ("second", second)):
        if scan.worker_mb is None:
            continue
        report.add(
            Row(
                f"(e) peak memory per worker, {label} run",
                f"{scan.worker_mb:.0f} MB (max of {scan.workers} workers)",
                f"scan's main process {scan.main_mb or 0:.0f} MB",
                target=f"≤ {TARGET_WORKER_MB:g} MB",
                met=verdict(scan.worker_mb <= TARGET_WORKER_MB),
            )
        )
        if label == "first":
            share = second.seconds / first.seconds
            report.add(
                Row(
                    f"(e) scan {first.files} files, second run (unchanged)",
                    secs(second.seconds),
                    f"first run {secs(first.seconds)}",
                    f"{share * 100:.1f} %",
                    f"≤ {TARGET_SECOND_RUN * 100:g} %",
                    verdict(share <= TARGET_SECOND_RUN),
                )
            )
    if first.worker_mb is None:
        report.notes.append("(e) /proc is not available: per-worker memory not measured.")
    if second.workers == 0:
        report.notes.append("(e) the second run started no worker process.")
    report.notes.append(
        f"(e) largest single process of the first run's tree (wait4 ru_maxrss): {first.tree_max_mb:.0f} MB "
        "(a cross-check of the /proc polling, every 50 ms)."
    )


def linearity_rows(report: Report, runs: dict[int, ScanRun]) -> None:
    if not runs:
        return
    sizes = sorted(runs)
    smallest = runs[sizes[0]]
    base = smallest.seconds / smallest.files
    previous: ScanRun | None = None
    for size in sizes:
        scan = runs[size]
        per_file = scan.seconds / scan.files
        ratio = per_file / base
        last = size == sizes[-1] and len(sizes) > 1
        measured = f"{secs(scan.seconds)}, {per_file * 1000:.1f} ms/file"
        if previous is not None:
            marginal = (scan.seconds - previous.seconds) / (scan.files - previous.files)
            measured += f", next {scan.files - previous.files}: {marginal * 1000:.1f} ms/file"
        report.add(
            Row(
                f"(f) scan {size} files, first run",
                measured,
                f"{smallest.files} files: {base * 1000:.1f} ms/file",
                times(ratio),
                f"≤ {TARGET_LINEAR:g}× (linear)" if last else "—",
                verdict(ratio <= TARGET_LINEAR) if last else "—",
            )
        )
        previous = scan
    report.notes.append(
        "(f) ratio: time per file against the smallest scan; 'next N' is the time per added file "
        "between two sizes, free of the fixed start-up cost."
    )


# --- main ------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer files and repetitions")
    parser.add_argument("--files", help="scan sizes for (e) and (f), e.g. 100,1000,5000; (e) uses the middle one")
    parser.add_argument("--jobs", type=int, default=2, help="scan worker processes (default 2, as in the targets)")
    parser.add_argument("--keep", action="store_true", help="keep the generated workbooks and outputs (path on stderr)")
    args = parser.parse_args(argv)
    if args.files:
        try:
            args.sizes = tuple(sorted({int(n.replace("_", "")) for n in args.files.split(",") if n.strip()}))
        except ValueError:
            parser.error("--files takes comma-separated whole numbers, e.g. 100,1000,5000")
        if not args.sizes or min(args.sizes) < 1:
            parser.error("--files takes positive numbers")
    else:
        args.sizes = QUICK_SIZES if args.quick else FULL_SIZES
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    in_process_repeat, subprocess_repeat = (7, 3) if args.quick else (21, 7)
    started = time.perf_counter()
    load_at_start = load_average()
    report = Report()
    work = Path(tempfile.mkdtemp(prefix="perf-eval-bench-"))
    try:
        steps: list[tuple[str, Callable[[], None]]] = [
            ("(a)/(b) in process", lambda: measure_in_process(report, work, in_process_repeat)),
            ("(c) cold check", lambda: measure_cold(report, work, subprocess_repeat)),
            ("(d) start-up", lambda: measure_startup(report, subprocess_repeat)),
            ("(e)/(f) scans", lambda: measure_scans(report, work, args.sizes, args.jobs)),
        ]
        for name, step in steps:
            log(f"measuring {name} …")
            try:
                step()
            except Exception as exc:  # one broken figure must not hide the others
                report.failed(name, exc)
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    mode = "quick run" if args.quick else "full run"
    if args.files:
        mode += ", --files " + ",".join(str(n) for n in args.sizes)
    print(
        f"perf-eval benchmarks, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, {mode}, scans with --jobs {args.jobs}"
    )
    for line in machine_facts(load_at_start):
        print(line)
    print()
    print(render(report.rows))
    print()
    for note in report.notes:
        print(f"- {note}")
    print(f"- whole run: {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
