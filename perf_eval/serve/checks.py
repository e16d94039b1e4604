"""Run the service's tasks in the project's worker processes, a bounded number at a time.

`perf_eval.scan.pool.WorkerPool` gives each task a worker with the memory,
CPU and wall-clock limits of `safety.Limits`; a worker that dies or overruns
costs only its task. This module lets asyncio handlers await those tasks, and
admits at most `capacity` of them (running and waiting together): beyond
that the caller answers 429 at once instead of queueing without bound.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable
from typing import Any

from perf_eval.reading.safety import Limits, UnreadableWorkbook
from perf_eval.scan.pool import Outcome, WorkerPool


class Unavailable(Exception):
    """The workers cannot be started or are stopping: the service cannot check anything now."""


class Checks:
    """Admission (`admit`/`release`, called from the event loop only) and `run` for the worker pool."""

    def __init__(self, jobs: int, limits: Limits, *, capacity: int) -> None:
        self.jobs = jobs
        self.capacity = capacity
        self.active = 0
        self._pool = WorkerPool(jobs, limits)
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._waiting: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Future[Outcome]]] = {}
        self._closed = False
        self._collector = threading.Thread(target=self._collect, name="perf-eval-serve-outcomes", daemon=True)
        self._collector.start()

    def admit(self) -> bool:
        if self._closed or self.active >= self.capacity:
            return False
        self.active += 1
        return True

    def release(self) -> None:
        self.active -= 1

    def warm(self, func: Callable[[], Any]) -> None:
        """Start every worker now, each importing what a check needs, and forget the outcomes."""
        for _ in range(self.jobs):
            self._pool.submit(("warm", next(self._ids)), func)

    async def run(self, func: Callable[..., Any], *args: Any, orphaned: Callable[[], object] | None = None) -> Any:
        """``func(*args)`` in a worker; raises `UnreadableWorkbook` when the task failed there.

        If the awaiting handler is cancelled, the task still runs to its end
        (a worker may be writing into the result's folder); `orphaned` is
        called then, from another thread, to clean up after it.
        """
        if self._closed:
            raise Unavailable
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        task_id = next(self._ids)
        with self._lock:
            if self._closed:  # the pool stopped after the first look: nothing would answer
                raise Unavailable
            self._waiting[task_id] = (loop, future)
        self._pool.submit(task_id, func, *args)
        try:
            outcome = await asyncio.shield(future)
        except asyncio.CancelledError:
            if orphaned is not None:
                future.add_done_callback(lambda _: orphaned())
            raise
        if outcome.failure is not None:
            if outcome.failure.code == "worker_start":
                raise Unavailable
            raise outcome.failure
        return outcome.value

    def close(self) -> None:
        """Stop the workers now; tasks still waiting fail as `Unavailable`."""
        self._closed = True
        self._pool.terminate()
        self._collector.join(5)
        self._fail_waiting()

    def _fail_waiting(self) -> None:
        with self._lock:
            waiting, self._waiting = self._waiting, {}
        for loop, future in waiting.values():
            try:
                loop.call_soon_threadsafe(_fail, future)
            except RuntimeError:  # the loop is closed
                pass

    def _collect(self) -> None:
        while True:
            try:
                outcome = self._pool.get()
            except RuntimeError:  # the pool's dispatcher has stopped: nothing will ever answer
                with self._lock:
                    self._closed = True
                self._fail_waiting()
                return
            with self._lock:
                waiter = self._waiting.pop(outcome.task_id, None)  # type: ignore[call-overload]
            if waiter is not None:
                loop, future = waiter
                try:
                    loop.call_soon_threadsafe(_resolve, future, outcome)
                except RuntimeError:  # the loop is closed: the service is stopping
                    pass


def _resolve(future: asyncio.Future[Outcome], outcome: Outcome) -> None:
    if not future.done():
        future.set_result(outcome)


def _fail(future: asyncio.Future[Outcome]) -> None:
    if not future.done():
        future.set_result(Outcome(None, failure=UnreadableWorkbook("服务正在停止", "worker_start")))


__all__ = ["Checks", "Unavailable"]
