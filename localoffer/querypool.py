"""A small pool of query processes per web worker, so that a runaway query can really be
stopped. pyoxigraph cannot cancel a running query, and one evaluation (a COUNT over a cross
product, say) never returns to Python, so no thread-level timeout can end it. Each query
therefore runs in a child process that opens the store itself (read-only, like any reader);
when the deadline passes the child is killed and a fresh one takes its place, while the
other children go on answering.

Children come from a forkserver: a clean single-threaded process that forks them quickly,
so a web worker with threads and open store handles never forks itself."""

from __future__ import annotations

import logging
import multiprocessing
import queue
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from localoffer.config import Settings
from localoffer.errors import LocalOfferError
from localoffer.queryexec import Answer, Failure, QueryJob, UpdateJob, serve_jobs

log = logging.getLogger("localoffer.querypool")


class QueryTimeout(LocalOfferError):
    """A query ran past the deadline and was stopped."""


class PoolBusy(LocalOfferError):
    """Every query process stayed busy until the deadline."""


class _Child:
    """One query process and the parent's end of its pipe."""

    def __init__(self, ctx: multiprocessing.context.BaseContext, settings: Settings) -> None:
        parent_end, child_end = ctx.Pipe()
        self.conn: Connection = parent_end
        self.proc: BaseProcess = ctx.Process(target=serve_jobs, args=(child_end, settings),  # type: ignore[attr-defined]
                                             daemon=True, name="localoffer-query")
        self.proc.start()
        child_end.close()
        self.jobs = 0

    def alive(self) -> bool:
        return self.proc.is_alive()

    def kill(self) -> None:
        """Stop the process at once (SIGKILL: a query inside the engine ignores anything gentler)."""
        try:
            self.proc.kill()
            self.proc.join(5)
        finally:
            self.conn.close()


class QueryPool:
    """Runs jobs in up to *size* child processes, each job with a hard deadline."""

    def __init__(self, settings: Settings, size: int) -> None:
        self.settings = settings
        self.size = max(1, size)
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(["localoffer.queryexec"])
        self._slots: queue.LifoQueue[_Child | None] = queue.LifoQueue()
        for _ in range(self.size):
            self._slots.put(None)
        self._closed = False
        self._children: set[_Child] = set()
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Start every child now rather than on first use."""
        taken = []
        for _ in range(self.size):
            child = self._slots.get()
            if child is None or not child.alive():
                child = self._spawn()
            taken.append(child)
        for child in taken:
            self._slots.put(child)

    def run(self, job: QueryJob | UpdateJob, timeout: float) -> Answer | Failure:
        """Run *job* in a child; raise QueryTimeout when it is not done within *timeout* s."""
        deadline = time.monotonic() + timeout
        try:
            child = self._slots.get(timeout=timeout)
        except queue.Empty:
            raise PoolBusy(f"all {self.size} query processes of this worker stayed busy for "
                           f"{timeout:g} s; try again shortly") from None
        try:
            if child is None or not child.alive():
                if child is not None:
                    self._forget(child)
                child = self._spawn()
            child.conn.send(job)
            child.jobs += 1
            if not child.conn.poll(max(0.0, deadline - time.monotonic())):
                log.warning("query stopped after %.3g s: %.200s", timeout, getattr(job, "sparql", ""))
                self._forget(child)
                child.kill()
                child = None
                raise QueryTimeout(f"the query ran longer than the {timeout:g} s limit and was stopped; "
                                   "narrow it down (a more selective pattern, a LIMIT) and try again")
            reply: Answer | Failure = child.conn.recv()
            return reply
        except (EOFError, BrokenPipeError, ConnectionError, OSError) as exc:
            if child is not None:
                self._forget(child)
                child.kill()
                child = None
            log.error("a query process died: %s", exc)
            return Failure("failed", "the query process ended unexpectedly (out of memory?); the query "
                           "was not answered")
        finally:
            self._slots.put(child)

    def close(self) -> None:
        """Stop every child."""
        with self._lock:
            self._closed = True
            children = list(self._children)
            self._children.clear()
        for child in children:
            child.kill()

    def _spawn(self) -> _Child:
        child = _Child(self._ctx, self.settings)
        with self._lock:
            self._children.add(child)
        return child

    def _forget(self, child: _Child) -> None:
        with self._lock:
            self._children.discard(child)
