"""Where a resource document's time goes, in one process (no server, no wrk): the app's test
client asks for /doc/service/{id} as Turtle and as HTML, and the figures are CPU per request,
the description's share of it, and what the description reads: SPARQL queries and their rows,
or, on the embedded store, index scans and their quads.

    .venv/bin/python bench/docprofile.py --store /tmp/lo-b10/store            # 200 documents each
    .venv/bin/python bench/docprofile.py --store DIR --profile tottime         # and cProfile's top

The label cache is warmed on other services first (as a long-running worker has it: shared
terms cached, each service's own links not). Opens the store read-only.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

from harness import BASE, sample


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", type=Path, required=True, help="an embedded store folder")
    ap.add_argument("--count", type=int, default=200, help="documents per format")
    ap.add_argument("--profile", choices=("tottime", "cumtime"), help="also print cProfile's top 30")
    args = ap.parse_args(argv)
    os.environ["LOCALOFFER_STORE"], os.environ["LOCALOFFER_BASE_URI"] = str(args.store), BASE
    from localoffer.publisher import create_app
    from localoffer.publisher.linkeddata import describe as describing
    from localoffer.publisher.linkeddata import resources

    from localoffer.store.embedded import EmbeddedStore

    app = create_app()
    client = app.test_client()
    ids = sample(args.store, 3 * args.count + 100).ids()
    spent = {"describe": 0.0, "queries": 0, "rows": 0, "scans": 0, "quads": 0}
    rows, describe = describing._rows, resources.describe
    scan = EmbeddedStore.quads_for_pattern

    def counted_rows(store, sparql, names):  # type: ignore[no-untyped-def]
        spent["queries"] += 1
        for row in rows(store, sparql, names):
            spent["rows"] += 1
            yield row

    def counted_scan(store, *pattern):  # type: ignore[no-untyped-def]
        spent["scans"] += 1
        for quad in scan(store, *pattern):
            spent["quads"] += 1
            yield quad

    def timed_describe(*a, **k):  # type: ignore[no-untyped-def]
        started = time.process_time()
        try:
            return describe(*a, **k)
        finally:
            spent["describe"] += time.process_time() - started

    describing._rows, resources.describe = counted_rows, timed_describe
    EmbeddedStore.quads_for_pattern = counted_scan  # type: ignore[method-assign]
    get = [lambda i, accept=accept: client.get(f"/doc/service/{i}", headers={"Accept": accept})
           for accept in ("text/turtle", "text/html")]
    for i in ids[:100]:
        get[0](i)
    profiler = cProfile.Profile()
    for n, (name, ask) in enumerate((("Turtle", get[0]), ("HTML", get[1]))):
        picks = ids[100 + n * args.count: 100 + (n + 1) * args.count]
        spent.update(describe=0.0, queries=0, rows=0, scans=0, quads=0)
        started = time.process_time()
        if args.profile:
            profiler.enable()
        for i in picks:
            response = ask(i)
            if response.status_code != 200:
                raise SystemExit(f"/doc/service/{i}: HTTP {response.status_code}")
        profiler.disable()
        each = {k: v / len(picks) for k, v in spent.items()}
        total = (time.process_time() - started) / len(picks) * 1000
        print(f"{name:<7} CPU {total:5.2f} ms/request, of which the description "
              f"{each['describe'] * 1000:5.2f} ms ({each['queries']:.1f} queries, {each['rows']:.1f} rows; "
              f"{each['scans']:.1f} index scans, {each['quads']:.1f} quads)")
    if args.profile:
        pstats.Stats(profiler).sort_stats(args.profile).print_stats(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
