"""Queries on threads of the web worker itself, for `localoffer serve` when
LOCALOFFER_QUERY_ISOLATION=worker: no process hop per query (about half the CPU of a short
lookup), at the price of how a runaway query is stopped.

pyoxigraph releases the GIL while it evaluates, so threads answer side by side; what a thread
cannot do is abandon an evaluation that never returns to Python. When a query passes its
deadline its client gets the same 503 as with the query processes, and the web worker
retires: it takes no new connection (gunicorn's other workers, and the fresh worker gunicorn
starts in its place, answer them), lets the other queries it is running finish (for at most
the query timeout), and then ends its process, which ends the runaway evaluation with it.

Updates still run in a killable query process (`localoffer.querypool`): a write is never
abandoned half-way inside the worker."""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wsgi import ClosingIterator

from localoffer.config import Settings
from localoffer.querypool import PoolBusy, QueryPool, QueryTimeout
from localoffer.queryexec import Answer, Failure, QueryJob, UpdateJob, execute
from localoffer.store import Store, open_store

log = logging.getLogger("localoffer.querythreads")


@dataclass(eq=False)
class _Task:
    job: QueryJob
    done: threading.Event = field(default_factory=threading.Event)
    # Whether a thread took the task, or the request gave up on it first (under `lock`: one
    # or the other, never both): the request waits once, for `done`, and asks afterwards.
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: bool = False
    abandoned: bool = False
    reply: Answer | Failure | None = None


class ThreadRunner:
    """Runs query jobs on *size* threads of this process. When a job overruns its deadline,
    `stop_accepting` is called (once), and `end_process` as soon as no HTTP request is in
    flight any more (its 503 included), at most the query timeout later."""

    def __init__(self, settings: Settings, size: int, stop_accepting: Callable[[], None],
                 requests_in_flight: Callable[[], int],
                 end_process: Callable[[], None] = lambda: os._exit(0)) -> None:
        self.settings = settings
        self.size = max(1, size)
        self.stop_accepting = stop_accepting
        self.requests_in_flight = requests_in_flight
        self.end_process = end_process
        self._tasks: queue.Queue[_Task | None] = queue.Queue()
        self._store: Store | None = None
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._retiring = False
        self._updates: QueryPool | None = None

    def warm(self) -> None:
        """Open the store and start the threads now rather than on first use."""
        with self._lock:
            if self._store is None:
                self._store = open_store(self.settings)
            while len(self._threads) < self.size:
                thread = threading.Thread(target=self._serve, name="localoffer-query", daemon=True)
                thread.start()
                self._threads.append(thread)

    def run(self, job: QueryJob | UpdateJob, timeout: float) -> Answer | Failure:
        """Run *job*; raise QueryTimeout when it is not done within *timeout* s."""
        if isinstance(job, UpdateJob):
            return self._update_pool().run(job, timeout)
        deadline = time.monotonic() + timeout
        if not self._threads:
            self.warm()
        task = _Task(job)
        self._tasks.put(task)
        if not task.done.wait(max(0.0, deadline - time.monotonic())):
            with task.lock:
                if not task.started:
                    task.abandoned = True  # never started: a thread that picks it up skips it
                    raise PoolBusy(f"all {self.size} query threads of this worker stayed busy for "
                                   f"{timeout:g} s; try again shortly")
            if not task.done.is_set():  # (it may have ended just now)
                log.warning("query stopped after %.3g s (the worker retires to end it): %.200s",
                            timeout, job.sparql)
                self._retire()
                raise QueryTimeout(f"the query ran longer than the {timeout:g} s limit and was stopped; "
                                   "narrow it down (a more selective pattern, a LIMIT) and try again")
        assert task.reply is not None
        return task.reply

    def close(self) -> None:
        """Stop the threads (a running evaluation ends with the process) and any update process."""
        for _ in self._threads:
            self._tasks.put(None)
        if self._updates is not None:
            self._updates.close()

    def _serve(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            with task.lock:
                if task.abandoned:
                    continue
                task.started = True
            try:
                assert self._store is not None
                task.reply = execute(self._store, task.job)
            except Exception as exc:  # noqa: BLE001 - reported to the request, which logs it
                task.reply = Failure("bug", f"{type(exc).__name__}: {exc}")
            task.done.set()

    def _update_pool(self) -> QueryPool:
        with self._lock:
            if self._updates is None:
                self._updates = QueryPool(self.settings, 1)
            return self._updates

    def _retire(self) -> None:
        with self._lock:
            if self._retiring:
                return
            self._retiring = True
        self.stop_accepting()
        threading.Thread(target=self._end_when_quiet, name="localoffer-retire", daemon=True).start()

    def _end_when_quiet(self) -> None:
        """End the process once every request has been answered (or the timeout has passed)."""
        until = time.monotonic() + self.settings.query_timeout
        time.sleep(0.05)  # the overrunning request's own 503 is on its way out
        while time.monotonic() < until and self.requests_in_flight() > 0:
            time.sleep(0.02)
        log.warning("web worker %s ends to stop a runaway query; a fresh one takes its place",
                    os.getpid())
        self.end_process()


class RequestCounter:
    """WSGI middleware counting the requests being answered (until their body is written)."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self._lock = threading.Lock()
        self.count = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with self._lock:
            self.count += 1
        try:
            body = self.app(environ, start_response)
        except BaseException:
            self._done()
            raise
        return ClosingIterator(body, [self._done])

    def _done(self) -> None:
        with self._lock:
            self.count -= 1
