"""`localoffer serve`: gunicorn in front of the Flask app (Flask's server only with --debug).

Every gunicorn worker opens the embedded store read-only (on its query threads, or in its
query processes with LOCALOFFER_QUERY_ISOLATION=process) and reopens it when a writer
(`localoffer ingest`, /update, /store) publishes a new version; so any number of workers read
safely while one process writes."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from localoffer.config import Settings
from localoffer.gworker import gunicorn_hooks

log = logging.getLogger("localoffer.server")


def query_isolation(settings: Settings) -> str:
    """LOCALOFFER_QUERY_ISOLATION: `worker` (the default: queries on the web worker's threads,
    and a worker that a runaway query overran retires; see localoffer.querythreads) or
    `process` (each query in a killable query process: about 1.5 ms more per query, and a
    runaway costs only its process)."""
    value = str(settings.extra.get("query_isolation") or "worker").strip().lower()
    if value not in ("process", "worker"):
        from localoffer.errors import ConfigError

        raise ConfigError(f"LOCALOFFER_QUERY_ISOLATION={value!r}: use 'process' or 'worker'")
    return value


def _warm(worker: Any) -> None:
    """Start the worker's query processes (or threads) in the background, so the first query
    is quick."""
    app = worker.wsgi
    pool = app.extensions.get("localoffer.querypool")
    settings = app.config.get("LOCALOFFER")
    if pool is not None and settings is not None and query_isolation(settings) == "worker":
        from localoffer.querythreads import RequestCounter, ThreadRunner

        counter = RequestCounter(app.wsgi_app)
        app.wsgi_app = counter
        pool = ThreadRunner(settings, settings.query_processes or settings.threads,
                            stop_accepting=lambda: setattr(worker, "alive", False),
                            requests_in_flight=lambda: counter.count)
        app.extensions["localoffer.querypool"] = pool
    if pool is not None:
        threading.Thread(target=pool.warm, name="localoffer-warm", daemon=True).start()
    store = app.extensions.get("localoffer.store")
    if store is not None and hasattr(store, "pinned"):  # the embedded store: a version is a stat
        threading.Thread(target=keep_search_warm, args=(store,), name="localoffer-search-warm",
                         daemon=True).start()
    settle()


def settle() -> None:
    """Leave what the worker holds for good (the app, its modules, a version's search sets) out
    of the cyclic garbage collector's full passes: with ~70,000 objects such a pass takes
    ~90 ms and stops every thread of the worker, a latency spike for the requests it meets.
    (Objects frozen here are still freed by reference counting when dropped.)"""
    gc.collect()
    gc.freeze()


def keep_search_warm(store: Any, every: float = 2.0, rounds: int | None = None) -> None:
    """Read each newly published version's search sets ahead of the first /services request
    (at national scale they take seconds to read; a request would otherwise wait for them),
    then, once no newer version has come for a minute, answer again in it the words asked last
    in the version before (`SearchWarmer`)."""
    warmer = SearchWarmer(store)
    while rounds is None or rounds > 0:
        warmer.step()
        if rounds is not None:
            rounds -= 1
        time.sleep(every)


WARM_AFTER = 60.0
"""Seconds a version must have been the newest before a worker answers again in it the words
asked in the one before: while a harvest publishes a version every half-minute, ranking each
version's words again (~25 s of CPU at national scale) would only slow the harvest down."""


class SearchWarmer:
    """What `keep_search_warm` does each round: when the store has published a version this
    worker has not read, read its search sets; once that version has been the newest for
    *after* seconds, answer again in it the words kept for the last version it warmed or
    read before a burst of writes (`searchsets.warm_words`: one worker at a time, stopping
    when a newer version is published)."""

    def __init__(self, store: Any, *, after: float = WARM_AFTER,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.after, self.clock = after, clock
        self.seen: str | None = None
        self.since = 0.0  # when this worker first saw the version `seen`
        self.previous: Any = None  # the words file whose words are to be answered again
        self.current: Any = None  # the words file of the version `seen`
        self.warmed = True  # whether `seen` has had its turn

    def step(self) -> int:
        """One round; returns how many words were answered again."""
        from localoffer.searchsets import sets_of, warm_words
        from localoffer.textindex import open_index

        try:
            version = self.store.version()
            if version == "empty":
                return 0
            if version != self.seen:
                with open_index(self.store) as index:
                    sets = sets_of(index.conn, index.path)
                    settle()
                if self.warmed or self.previous is None:  # else the words kept before a
                    self.previous = self.current  # burst of writes still wait for their turn
                self.seen, self.since, self.current, self.warmed = version, self.clock(), sets.answers, False
            if self.warmed or self.clock() - self.since < self.after:
                return 0
            with open_index(self.store) as index:
                if index.version != version or index.path is None:
                    return 0
                warmed = warm_words(index.conn, index.path, self.previous,
                                    still_current=lambda: self.store.version() == version)
            self.warmed = True
            return warmed
        except Exception as exc:  # noqa: BLE001 - a request will meet (and report) the same
            log.debug("search of the new version not read ahead: %s", exc)
            return 0


def _stop(worker: Any) -> None:
    pool = getattr(worker, "wsgi", None) and worker.wsgi.extensions.get("localoffer.querypool")
    if pool is not None:
        pool.close()


def access_log(settings: Settings) -> str | None:
    """Where gunicorn writes its access log: LOCALOFFER_ACCESS_LOG ("-" is stdout); None = off."""
    value = str(settings.extra.get("access_log") or "").strip()
    return None if value.lower() in ("", "off", "none", "false", "0") else value


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """gunicorn's settings for *settings*."""
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        "threads": settings.threads,
        # gthread, but a worker leaves new connections to a sibling holding fewer (gworker)
        "worker_class": "localoffer.gworker.BalancingThreadWorker",
        # The query processes enforce the query timeout; gunicorn's own only catches a hung worker.
        "timeout": int(settings.query_timeout) + 30,
        "graceful_timeout": 10,
        "limit_request_line": 8190,  # gunicorn's maximum: longer queries must be POSTed
        # One line per request costs a locked write in every request; off unless asked for
        # (LOCALOFFER_ACCESS_LOG: "-" for stdout, or a file).
        "accesslog": access_log(settings),
        "errorlog": "-",
        "post_worker_init": _warm,
        "worker_exit": lambda _server, worker: _stop(worker),
        **gunicorn_hooks(),
    }


def run_server(settings: Settings, *, debug: bool = False) -> None:
    """Serve the publisher app until interrupted."""
    from localoffer.publisher import create_app

    query_isolation(settings)  # a wrong value stops here, not in every worker
    if debug:
        create_app(settings=settings).run(host=settings.host, port=settings.port, debug=True)
        return
    from gunicorn.app.base import BaseApplication

    class App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in gunicorn_options(settings).items():
                self.cfg.set(key, value)
            if "control_socket_disable" in self.cfg.settings:
                # gunicorn >= 25 opens one control socket per user ($HOME/.gunicorn): several
                # instances would share it, and nothing here uses it.
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Any:
            return create_app(settings=settings)

    App().run()
