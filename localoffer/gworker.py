"""The gunicorn worker `localoffer serve` runs: gunicorn's threaded worker (`gthread`), except
that a worker holding more connections than a sibling leaves a new connection to it.

Why: every worker listens on the same socket, and the first to wake takes the connection. A
client opening many keep-alive connections at once (a harvester, a load test: wrk's 16) found
them split 12/4 between two workers, and kept them so; the worker holding 12 then queued
three requests for each one it ran while the other had a core to spare, and its clients saw
three times the latency (bench/README.md, "Where HTML's tail comes from").

How: the workers share one small table (made by the arbiter before the first fork, see
`gunicorn_hooks`) where each writes how many connections it holds, or -1 while it does not
accept. A worker about to accept waits, a fraction of a millisecond at a time, while a sibling
that accepts holds fewer; after ACCEPT_WAIT_MAX it accepts anyway. Nothing is
ever refused: a sibling that is slow to wake costs a new connection at most that wait."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Sequence
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

ACCEPT_WAIT_MAX = 0.01  # seconds a worker leaves a connection to a lighter sibling, at most
ACCEPT_POLL = 0.0005
SLOTS = 256  # workers at once (gunicorn starts a new one before an old one has gone)
NOT_ACCEPTING = -1

_held: Any = None  # the shared table: connections per worker slot (multiprocessing.RawArray)


class BalancingThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gthread, leaving new connections to lighter siblings (see the module docstring)."""

    slot: int | None = None  # set by the arbiter before the fork (gunicorn_hooks)

    def accept(self, *args: Any) -> None:  # (listener), or (server, listener) before gunicorn 24
        table, slot = _held, self.slot
        if table is not None and slot is not None:
            deadline = time.monotonic() + ACCEPT_WAIT_MAX
            while lighter_sibling(table, slot, self.nr_conns) and time.monotonic() < deadline:
                time.sleep(ACCEPT_POLL)
        super().accept(*args)
        self.publish()

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        self.publish()
        super().wait_for_and_dispatch_events(timeout)

    def publish(self) -> None:
        """Write this worker's connection count (or NOT_ACCEPTING) into the shared table."""
        if _held is not None and self.slot is not None:
            accepting = self.alive and self.nr_conns < self.cfg.worker_connections
            _held[self.slot] = self.nr_conns if accepting else NOT_ACCEPTING


def lighter_sibling(table: Sequence[int], slot: int, held: int) -> bool:
    """Whether a worker other than *slot* accepts and holds fewer connections than *held*."""
    return any(0 <= n < held for i, n in enumerate(table) if i != slot)


def gunicorn_hooks() -> dict[str, Callable[..., None]]:
    """gunicorn settings that make and keep the shared table: made when the arbiter starts, a
    free slot given to each worker before its fork, the slot freed when the worker has gone."""
    def on_starting(_server: Any) -> None:
        global _held
        _held = multiprocessing.RawArray("i", [NOT_ACCEPTING] * SLOTS)

    def pre_fork(server: Any, worker: Any) -> None:
        used = {getattr(w, "slot", None) for w in server.WORKERS.values()}
        worker.slot = next((i for i in range(SLOTS) if i not in used), None)
        if _held is not None and worker.slot is not None:
            _held[worker.slot] = NOT_ACCEPTING  # until it publishes

    def child_exit(_server: Any, worker: Any) -> None:
        if _held is not None and getattr(worker, "slot", None) is not None:
            _held[worker.slot] = NOT_ACCEPTING

    return {"on_starting": on_starting, "pre_fork": pre_fork, "child_exit": child_exit}
