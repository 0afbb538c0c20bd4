"""The floor of the web stack: how fast can gunicorn + Flask answer at all, next to `oxigraph
serve` answering real lookups and `localoffer serve` answering the same lookups, in one run.

    .venv/bin/python bench/floor.py --workdir /tmp/lo-b10 --authorities 10

Issue 4 asks `/sparql` lookups to reach 0.5x of Oxigraph's own server. Our server is gunicorn
(gthread) and Flask, as the architecture chose. This script measures, with the same wrk load
(16 connections, same 2 cores), four servers:

 1. `oxigraph serve-read-only` on the store, one-service CONSTRUCT lookups (the peer);
 2. gunicorn with `localoffer serve`'s settings and a bare WSGI callable returning a fixed
    Turtle body of a lookup's size (no Flask, no store): the floor of gunicorn itself;
 3. the same with a one-route Flask app returning that body: the floor of gunicorn + Flask;
 4. `localoffer serve` answering the lookups of (1).

If (2) or (3) answer fewer than half the requests per second (1) answers with real queries,
the 0.5x target cannot be reached by any `/sparql` built on that stack on this machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness import (
    Server,
    check_answers,
    free_port,
    load_args,
    localoffer_server,
    log,
    lookup_query,
    oxigraph_server,
    row,
    running,
    sample,
    sparql_get,
)
from serve import loaded

APP = textwrap.dedent('''
    """A floor app for bench/floor.py: gunicorn with localoffer serve's settings, no store."""
    import sys

    from gunicorn.app.base import BaseApplication

    BODY = open(sys.argv[3], "rb").read()
    HEADERS = [("Content-Type", "text/turtle; charset=utf-8"), ("Content-Length", str(len(BODY)))]


    def bare(environ, start_response):
        start_response("200 OK", HEADERS)
        return [BODY]


    def flask_app():
        from flask import Flask, Response

        app = Flask("floor")

        @app.get("/sparql")
        def sparql():
            return Response(BODY, mimetype="text/turtle")

        return app


    class App(BaseApplication):
        def load_config(self):
            options = {"bind": sys.argv[2], "workers": int(sys.argv[4]), "threads": int(sys.argv[5]),
                       "worker_class": "gthread", "accesslog": None, "errorlog": "-"}
            for key, value in options.items():
                self.cfg.set(key, value)
            if "control_socket_disable" in self.cfg.settings:
                self.cfg.set("control_socket_disable", True)

        def load(self):
            return bare if sys.argv[1] == "bare" else flask_app()


    App().run()
''')


@contextmanager
def floor_server(kind: str, body: Path, work: Path, workers: int, threads: int) -> Iterator[Server]:
    script = work / "floor_app.py"
    script.write_text(APP)
    port = free_port()
    cmd = [sys.executable, str(script), kind, f"127.0.0.1:{port}", str(body), str(workers), str(threads)]
    url = f"http://127.0.0.1:{port}"
    with running(cmd, url + "/sparql", log=work / f"floor-{kind}.log", timeout=60) as proc:
        yield Server(f"gunicorn + {kind}", url, "/sparql", proc.pid)


def measure(server: Server, requests: list, duration: int, connections: int) -> dict[str, float]:
    check_answers(server, requests)
    fig = loaded(server, requests, connections=connections, duration=duration)
    fig["cpu_ms"] = fig["cpu_web_ms"] + fig["cpu_query_ms"]
    print(row(server.name, fig) + f"  CPU {fig['cpu_ms']:.2f} ms/req", flush=True)
    return fig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    load_args(ap, authorities=10, workdir="/tmp/lo-bench")
    args = ap.parse_args()
    work = Path(args.workdir)
    store_dir = work / "store"
    if not (store_dir / "CURRENT").exists():
        raise SystemExit(f"no store in {store_dir}: run bench/serve.py with this --workdir first")
    picks = sample(store_dir, 2000)
    lookups = [sparql_get("/sparql", lookup_query(s), "text/turtle") for s in picks.services]
    figs: dict[str, dict[str, float]] = {}
    with oxigraph_server(store_dir, work) as ox:
        ox_lookups = [sparql_get("/query", lookup_query(s), "text/turtle") for s in picks.services]
        import requests as http

        body = http.get(ox.url + ox_lookups[0][1], headers=ox_lookups[0][2], timeout=30).content
        figs["oxigraph"] = measure(ox, ox_lookups, args.duration, args.connections)
    (work / "floor-body.ttl").write_bytes(body)
    log(f"fixed body: {len(body)} bytes (a lookup's Turtle)")
    for kind in ("bare", "flask"):
        with floor_server(kind, work / "floor-body.ttl", work, args.workers, args.threads) as server:
            figs[kind] = measure(server, [("GET", "/sparql", {"Accept": "text/turtle"})],
                                 args.duration, args.connections)
    with localoffer_server(store_dir, work, args.workers, args.threads, isolation=args.isolation) as ours:
        figs["ours"] = measure(ours, lookups, args.duration, args.connections)
    ox_rps = figs["oxigraph"]["rps"]
    print("\nAgainst oxigraph serve's lookups (same run):")
    for key, label in (("bare", "gunicorn, bare WSGI, fixed body"), ("flask", "gunicorn + Flask, fixed body"),
                       ("ours", "localoffer serve, real lookups")):
        print(f"  {label:<36} {figs[key]['rps'] / ox_rps:5.2f}x  ({figs[key]['rps']:,.0f} req/s, "
              f"{figs[key]['cpu_ms']:.2f} ms CPU/req)")
    if args.json:
        args.json.write_text(json.dumps(figs, indent=2))


if __name__ == "__main__":
    main()
