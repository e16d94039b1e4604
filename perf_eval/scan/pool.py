"""Long-lived worker processes, each reading one file at a time under limits.

Why not `safety.run_isolated` per file: a process per file costs a start-up
(up to a second when the parent has pandas loaded), more than reading a form.
Why not `concurrent.futures.ProcessPoolExecutor`: when one worker dies the
whole pool breaks and does not say which file killed it. Here every worker
has its own pipe and at most one task, so:

- a worker that dies (python-calamine aborts, the OOM killer, SIGXCPU) costs
  exactly its task, which fails as "crashed"/"cpu"; a new worker takes over;
- a task past its wall-clock limit gets its worker killed and fails as "timeout";
- memory (RLIMIT_AS) is limited per worker, CPU (RLIMIT_CPU) per task, by
  raising the soft limit to "used so far + allowance" before each task.

Workers use the "spawn" start method: no inherited threads or locks (the
parent runs a progress bar and this dispatcher thread), and the same on
Windows, where the resource limits are unavailable and only the wall clock
applies. Workers ignore SIGINT: the parent decides, and stops them.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from perf_eval.reading.safety import REASONS, Limits, UnreadableWorkbook

_START_SECONDS = 120.0  # a worker's imports; generous for a loaded machine
_MAX_START_FAILURES = 3  # in a row: something is wrong with the installation, not with a file
_TASKS_PER_WORKER = 500  # then a fresh process, so that fragmentation cannot pile up
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@dataclass(frozen=True)
class Outcome:
    """A task's return value, or the reason it failed (`value` is then None)."""

    task_id: Hashable
    value: Any = None
    failure: UnreadableWorkbook | None = None


@dataclass
class _Worker:
    process: Any  # multiprocessing.context.SpawnProcess
    conn: Connection
    ready: bool = False
    task: tuple[Hashable, Callable[..., Any], tuple[Any, ...]] | None = None
    deadline: float = 0.0
    done: int = 0
    started: float = field(default_factory=time.monotonic)


class WorkerPool:
    """Submit tasks from any thread, collect `Outcome`s with `get`; `close` when done."""

    def __init__(self, jobs: int, limits: Limits) -> None:
        self._jobs = max(1, jobs)
        self._limits = limits
        self._context = multiprocessing.get_context("spawn")
        self._todo: deque[tuple[Hashable, Callable[..., Any], tuple[Any, ...]]] = deque()
        self._lock = threading.Lock()
        self._outcomes: queue.Queue[Outcome] = queue.Queue()
        self._wake_r, self._wake_w = self._context.Pipe(duplex=False)
        self._workers: list[_Worker] = []
        self._closing = False
        self._aborting = False
        self._start_failures = 0
        self._thread = threading.Thread(target=self._run, name="perf-eval-scan-pool", daemon=True)
        self._thread.start()

    # --- the caller's side -----------------------------------------------------------

    def submit(self, task_id: Hashable, func: Callable[..., Any], *args: Any) -> None:
        """Run ``func(*args)`` in a worker; `func` must be a module-level function."""
        with self._lock:
            self._todo.append((task_id, func, args))
        self._wake()

    def get(self) -> Outcome:
        while True:
            try:
                return self._outcomes.get(timeout=0.5)
            except queue.Empty:
                if not self._thread.is_alive():
                    raise RuntimeError("the worker pool's dispatcher stopped") from None

    def poll(self) -> Outcome | None:
        """An outcome if one is ready, else None at once."""
        try:
            return self._outcomes.get_nowait()
        except queue.Empty:
            return None

    def close(self) -> None:
        """Finish the submitted tasks, then stop the workers."""
        with self._lock:
            self._closing = True
        self._wake()
        self._thread.join()

    def terminate(self) -> None:
        """Stop now: kill every worker, drop the tasks not yet done."""
        with self._lock:
            self._todo.clear()
            self._closing = self._aborting = True
        self._wake()
        self._thread.join(30)

    def _wake(self) -> None:
        try:
            self._wake_w.send_bytes(b"!")
        except OSError:
            pass  # the dispatcher has stopped

    # --- the dispatcher thread ---------------------------------------------------------

    def _run(self) -> None:
        try:
            while self._step():
                pass
        finally:
            for worker in self._workers:
                if self._aborting:
                    _kill(worker)
                else:
                    _stop(worker)
            self._wake_r.close()
            self._wake_w.close()

    def _step(self) -> bool:
        with self._lock:
            if self._aborting:
                return False
            self._assign()
            busy = [w for w in self._workers if w.task is not None or not w.ready]
            if self._closing and not self._todo and all(w.task is None for w in self._workers):
                return False
        waits: list[Any] = [self._wake_r]
        for worker in busy:
            waits.extend((worker.conn, worker.process.sentinel))
        now = time.monotonic()
        deadlines = [w.deadline for w in busy]
        timeout = max(0.0, min(deadlines) - now) if deadlines else None
        ready = wait(waits, timeout)
        if self._wake_r in ready:
            while self._wake_r.poll():
                self._wake_r.recv_bytes()
        with self._lock:
            for worker in busy:
                self._check(worker, ready)
        return True

    def _assign(self) -> None:
        if self._start_failures >= _MAX_START_FAILURES:
            while self._todo:
                task_id, _, _ = self._todo.popleft()
                reason = "无法启动读取进程（perf-eval 安装可能不完整）"
                # Says nothing about the file: "worker_start" is transient, retried by the next scan.
                self._outcomes.put(Outcome(task_id, failure=UnreadableWorkbook(reason, "worker_start")))
            return
        for worker in self._workers:
            if self._todo and worker.ready and worker.task is None:
                self._send(worker, self._todo.popleft())
        starting = sum(1 for w in self._workers if not w.ready)
        while len(self._workers) < self._jobs and len(self._todo) > starting:
            self._workers.append(self._spawn())
            starting += 1

    def _spawn(self) -> _Worker:
        receiver, sender = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_worker_main,
            args=(sender, os.getpid(), self._limits.child_memory_bytes, self._limits.child_cpu_seconds),
            name="perf-eval-scan-worker",
            daemon=True,
        )
        process.start()
        sender.close()
        return _Worker(process, receiver, deadline=time.monotonic() + _START_SECONDS)

    def _send(self, worker: _Worker, task: tuple[Hashable, Callable[..., Any], tuple[Any, ...]]) -> None:
        worker.task = task
        worker.deadline = time.monotonic() + self._limits.child_wall_seconds
        try:
            worker.conn.send((task[1], task[2]))
        except (OSError, ValueError):
            pass  # the worker is gone: its sentinel says so on the next wait

    def _check(self, worker: _Worker, ready: list[Any]) -> None:
        message: Any = None
        if worker.conn in ready or worker.conn.poll():
            try:
                message = worker.conn.recv()
            except (EOFError, OSError):
                message = None
        if message is not None:
            if message == ("ready",):
                worker.ready = True
                self._start_failures = 0
                return
            self._finish(worker, _outcome_of(worker.task, message))
            worker.done += 1
            if worker.done >= _TASKS_PER_WORKER:
                self._retire(worker)
            return
        if worker.process.sentinel in ready or not worker.process.is_alive():
            worker.process.join(5)
            if not worker.ready:
                self._start_failures += 1
            else:
                self._finish(worker, self._death(worker))
            self._retire(worker, kill=True)
            return
        if time.monotonic() >= worker.deadline:
            if worker.ready:
                seconds = self._limits.child_wall_seconds
                self._finish(worker, UnreadableWorkbook.of("timeout", seconds=seconds))
            else:
                self._start_failures += 1
            self._retire(worker, kill=True)

    def _death(self, worker: _Worker) -> UnreadableWorkbook:
        if worker.process.exitcode == -getattr(signal, "SIGXCPU", -1000):
            return UnreadableWorkbook.of("cpu", seconds=self._limits.child_cpu_seconds)
        return UnreadableWorkbook.of("crashed")

    def _finish(self, worker: _Worker, result: Outcome | UnreadableWorkbook) -> None:
        task = worker.task
        worker.task = None
        if task is None:
            return
        outcome = result if isinstance(result, Outcome) else Outcome(task[0], failure=result)
        self._outcomes.put(outcome)

    def _retire(self, worker: _Worker, *, kill: bool = False) -> None:
        self._workers.remove(worker)
        if kill:
            _kill(worker)
        else:
            _stop(worker)


def _outcome_of(task: tuple[Hashable, Callable[..., Any], tuple[Any, ...]] | None, message: Any) -> Outcome:
    task_id = task[0] if task is not None else None
    kind = message[0]
    if kind == "ok":
        return Outcome(task_id, value=message[1])
    if kind == "unreadable":
        return Outcome(task_id, failure=UnreadableWorkbook(message[1], message[2]))
    # A bug in a reader is still only this file's problem.
    return Outcome(task_id, failure=UnreadableWorkbook(f"读取时发生内部错误（{message[1]}）", "internal"))


def _stop(worker: _Worker) -> None:
    try:
        worker.conn.send(None)
    except (OSError, ValueError):
        pass
    worker.process.join(5)
    _kill(worker)


def _kill(worker: _Worker) -> None:
    if worker.process.is_alive():
        worker.process.kill()
        worker.process.join(5)
    worker.conn.close()


# --- inside the worker process -----------------------------------------------------------


def _worker_main(conn: Connection, parent: int, memory_bytes: int, cpu_seconds: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent)
    _limit_memory(memory_bytes)
    conn.send(("ready",))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if task is None:
            return
        func, args = task
        _limit_cpu(cpu_seconds)
        try:
            message: tuple[Any, ...] = ("ok", func(*args))
        except UnreadableWorkbook as exc:
            message = ("unreadable", exc.reason, exc.code)
        except MemoryError:
            message = ("unreadable", REASONS["crashed"], "crashed")
        except Exception as exc:
            message = ("error", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(message)
        except (OSError, ValueError):
            return
        except Exception as exc:  # the value would not pickle
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


def _die_with_parent(parent: int) -> None:
    """On Linux, have the kernel kill this worker when the scan dies (kill -9, OOM killer).

    Otherwise an orphan would finish its task, and an annotated copy could be
    written while the next scan runs. Elsewhere a worker ends after its task,
    when it finds its pipe closed.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the prctl call
        os._exit(1)


def _limit_memory(memory_bytes: int) -> None:
    try:
        import resource
    except ImportError:  # Windows
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        memory_bytes = min(memory_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, hard))


def _limit_cpu(cpu_seconds: int) -> None:
    """SIGXCPU once this task has used `cpu_seconds` more than the worker had used before it."""
    try:
        import resource
    except ImportError:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime) + cpu_seconds
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


__all__ = ["Outcome", "WorkerPool"]
