"""Search and statistics benchmark: the text index and the kept counts against the SPARQL
scans they replace, on synthetic national-style data.

    .venv/bin/python bench/search.py                                   # 10 x 3000 (~5 min on 2 cores)
    .venv/bin/python bench/search.py --authorities 3 --services 500    # smoke
    .venv/bin/python bench/search.py --workdir /tmp/lo-search --keep   # keep data and store
    .venv/bin/python bench/search.py --workdir /tmp/lo-search --reuse-store --no-build --load 20

Steps:
 1. generate N authorities x M services with bench/generate.py (or reuse `--workdir`'s data);
 2. ingest them one by one into a fresh embedded store (as bench/ingest.py does), timing the
    part of each publish spent on the text index and statistics (incremental: the changed
    graph only), then time a from-scratch build of the whole file;
 3. time text searches as the /services page runs them (count + first page, best first) and
    the naive SPARQL scan (CONTAINS over names and descriptions) for the same words;
 4. time the /services page (results + facets) through the Flask test client: with words,
    without words or filters, with filters (the commonest value of each facet, two at a time,
    an age, a day and time), and with words and filters together;
 5. time the kept statistics (`localoffer stats`) against the SPARQL counts per authority and
    per authority x need area x age band;
 6. with --load: the same /services pages (HTML) from a `localoffer serve` (2 workers x 4
    threads) under 16 connections from wrk in another process: without words (pages 1-3),
    with words (the 200 picks of step 3, so repeats find their matches kept), with two words
    from ~4,000 pairs (mostly first requests), with filters, with words and filters;
 7. print a table with p50/p99 and the targets (search p50 < 100 ms, counts < 200 ms).

The in-process page timings forget the answers the search keeps between requests (the sets of
the last words, ages and times: `localoffer.searchsets`) before each page, so each is a first
request for its words; the sets of facet values are read once (the first page pays it, shown
as "first /services page").
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics as pystats
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402  (bench/generate.py)

BASE = "https://localoffer.bench/"
SCAN = """PREFIX schema: <https://schema.org/>
SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a schema:Service ; schema:name ?name .
  OPTIONAL {{ ?s schema:description ?d }}
  {filters} }}"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def words_to_search(rng: random.Random, n: int) -> list[str]:
    """A mix: common and rare words, two words, prefixes, a word in no service, hostile text."""
    vocab = sorted(set(generate._WORDS))
    picks = []
    for i in range(n):
        kind = i % 5
        if kind == 0:
            picks.append(rng.choice(vocab))
        elif kind == 1:
            picks.append(" ".join(rng.sample(vocab, 2)))
        elif kind == 2:
            w = rng.choice([v for v in vocab if len(v) > 4])
            picks.append(w[: rng.randint(3, len(w) - 1)])
        elif kind == 3:
            picks.append(rng.choice(["autism", "sensory play", "speech", "cooking skills", "zzyzx"]))
        else:
            picks.append(rng.choice(['"autism', "NEAR(play", "music*", "(sport", "<script>"]))
    return picks


def scan_filter(words: str) -> str:
    import re

    import pyoxigraph as ox

    parts = []
    for w in re.findall(r"\w+", words.lower())[:8]:
        lit = str(ox.Literal(w))
        parts.append(f"FILTER(CONTAINS(LCASE(STR(?name)), {lit}) || CONTAINS(LCASE(COALESCE(STR(?d), \"\")), {lit}))")
    return "\n  ".join(parts)


def filter_choices(client) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    """Filters a person might set, one or two at a time, from the facet values the unfiltered
    page offers (the commonest of each facet), plus an age and open at a time."""
    facets = client.get("/services", query_string={"_format": "json"}).get_json()["facets"]
    single = [{name: values[0]["value"]} for name, values in sorted(facets.items()) if values]
    pairs = [{**a, **b} for a, b in zip(single, single[1:], strict=False)]
    return single + pairs + [{"age": "7"}, {"day": "Monday", "time": "10:00"}, {"age": "15", "cost": "free"}]


def serve_pages(store_dir: Path, work: Path, queries: list[str], choices: list[dict[str, str]],
                seconds: int, connections: int, env: dict[str, str] | None = None) -> dict[str, dict]:
    """Load /services (HTML) from a `localoffer serve` with wrk: four kinds of page."""
    from urllib.parse import urlencode

    from harness import check_answers, localoffer_server, row
    from serve import cpu_note, loaded  # bench/serve.py: wrk with the server's CPU per request

    html = {"Accept": "text/html"}
    words = [q for q in queries if q.strip()]
    vocab = sorted(set(generate._WORDS))
    fresh = sorted({f"{a} {b}" for a, b in zip(random.Random(7).choices(vocab, k=4000),
                                                random.Random(8).choices(vocab, k=4000), strict=True)})
    loads = {
        "/services (no words, pages 1-3)": [("GET", f"/services?page={p}", html) for p in (1, 2, 3)],
        "/services?q=": [("GET", "/services?" + urlencode({"q": q}), html) for q in words],
        "/services?q= (mostly new words, 2 each)": [("GET", "/services?" + urlencode({"q": q}), html)
                                                    for q in fresh],
        "/services with filters": [("GET", "/services?" + urlencode(c), html) for c in choices],
        "/services with words and filters": [("GET", "/services?" + urlencode({**c, "q": q}), html)
                                             for c in choices for q in words[:20]],
    }
    out = {}
    with localoffer_server(store_dir, work, 2, 4, env=env) as server:
        for name, reqs in loads.items():
            check_answers(server, reqs)
            out[name] = loaded(server, reqs, connections=connections, duration=seconds)
    print(f"\n/services under load: {connections} connections, {seconds} s each, localoffer serve "
          "2 workers x 4 threads, wrk on the same 2 cores")
    for name, fig in out.items():
        print(row(name, fig) + cpu_note(fig))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Search and statistics benchmark.")
    ap.add_argument("--authorities", type=int, default=10)
    ap.add_argument("--services", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--queries", type=int, default=200, help="text searches to time (200)")
    ap.add_argument("--scans", type=int, default=5, help="SPARQL scans to time (5; each takes seconds)")
    ap.add_argument("--pages", type=int, default=40, help="/services pages to time (40)")
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--reuse-store", action="store_true",
                    help="use the store already in --workdir (skip the ingest)")
    ap.add_argument("--no-build", action="store_true", help="skip timing a from-scratch build of the file")
    ap.add_argument("--load", type=int, default=0, metavar="SECONDS",
                    help="also load /services from a localoffer serve with wrk, SECONDS per workload")
    ap.add_argument("--connections", type=int, default=16)
    args = ap.parse_args(argv)

    from localoffer.ingest.pipeline import ingest

    import localoffer.store.embedded as embedded
    from localoffer import statistics, textindex
    from localoffer.config import load_settings
    from localoffer.store import open_store

    work = args.workdir or Path(tempfile.mkdtemp(prefix="lo-search-"))
    work.mkdir(parents=True, exist_ok=True)
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    files = generate.generate(work / "data", args.authorities, args.services, args.seed, log=log)
    store_dir = work / "store"
    reuse = args.reuse_store and (store_dir / "CURRENT").exists()
    if not reuse:
        shutil.rmtree(store_dir, ignore_errors=True)
    settings = load_settings({"store": str(store_dir), "base_uri": BASE}, environ={})
    store = open_store(settings)

    publish_times: list[float] = []
    real_publish = embedded.publish_index

    def publish(*a, **k):  # type: ignore[no-untyped-def]
        dt, _ = timed(real_publish, *a, **k)
        publish_times.append(dt)

    embedded.publish_index = publish  # type: ignore[assignment]
    t0 = time.perf_counter()
    services = 0
    for k, (code, path) in enumerate([] if reuse else files, 1):
        report = ingest(store, settings, str(path), authority=code)
        services += report.counts.get("service", 0)
        log(f"ingested {k}/{len(files)} ({time.perf_counter() - t0:.0f} s; index+stats "
            f"{publish_times[-1]:.2f} s)")
    ingest_s = time.perf_counter() - t0
    embedded.publish_index = real_publish  # type: ignore[assignment]
    services = services or int(next(store.select(
        "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://schema.org/Service> }"))["n"].value)
    publish_times = publish_times or [0.0]

    view = textindex.pin(store)
    full_path = work / "full.sqlite"
    build_s = 0.0
    if not args.no_build:
        build_s, _ = timed(textindex.build, view, full_path, view.named_graphs(), version=view.version())
        log(f"full build {build_s:.1f} s")
    index_mb = textindex.index_file(store_dir / "derived", view.version()).stat().st_size / 2**20

    rng = random.Random(args.seed)
    queries = words_to_search(rng, args.queries)
    search_ms, hits = [], []
    with textindex.open_index(store) as index:
        for q in queries[:10]:  # warm the page cache
            index.count(q), index.search(q, 20)
        for q in queries:
            dt, found = timed(lambda q=q: (index.count(q), index.search(q, 20)))
            search_ms.append(dt * 1000)
            hits.append(found[0])
    log(f"searches p50 {pystats.median(search_ms):.1f} ms")
    scan_ms = []
    scan_words = [q for q in queries if q.strip() and not any(c in q for c in '"(<*')][: args.scans]
    for q in scan_words:
        dt, _ = timed(lambda q=q: list(store.select(SCAN.format(filters=scan_filter(q)))))
        scan_ms.append(dt * 1000)
        log(f"scan {q!r}: {dt * 1000:.0f} ms")

    from localoffer.publisher import create_app

    from localoffer import searchsets

    app = create_app({"store": str(store_dir), "base_uri": BASE})
    client = app.test_client()
    first_s, _ = timed(client.get, "/services", query_string={"_format": "json"})
    page_ms = []

    def get(params):  # type: ignore[no-untyped-def]
        searchsets.forget()  # a first request for these words, ages and times
        return timed(client.get, "/services", query_string=params)

    for q in queries[: args.pages]:
        dt, r = get({"q": q, "_format": "json"})
        assert r.status_code == 200, (q, r.status_code)
        page_ms.append(dt * 1000)
    log(f"pages with words p50 {pystats.median(page_ms):.0f} ms")
    browse_ms, filtered_ms, mixed_ms = [], [], []
    choices = filter_choices(client)
    for k in range(args.pages):
        dt, r = get({"_format": "json", "page": str(1 + k % 3)})
        assert r.status_code == 200, r.status_code
        browse_ms.append(dt * 1000)
        params = choices[k % len(choices)]
        dt, r = get({**params, "_format": "json"})
        assert r.status_code == 200, (params, r.status_code)
        filtered_ms.append(dt * 1000)
        dt, r = get({**params, "q": queries[k], "_format": "json"})
        assert r.status_code == 200, (params, r.status_code)
        mixed_ms.append(dt * 1000)
    log(f"pages without words p50 {pystats.median(browse_ms):.0f} ms")

    stats_ms = [timed(statistics.collect, store, settings)[0] * 1000 for _ in range(20)]
    sparql_stats_ms = []
    for _ in range(2):
        t = time.perf_counter()
        list(store.select(statistics.PER_AUTHORITY.replace("{values}", "")))
        for query in statistics.NEED_BAND.values():
            list(store.select(query.replace("{values}", "")))
        sparql_stats_ms.append((time.perf_counter() - t) * 1000)

    def row(name: str, values: list[float], target: str = "") -> str:
        return (f"{name:<44} {pystats.median(values):>10.1f} {percentile(values, 0.99):>10.1f} "
                f"{len(values):>6}  {target}")

    print(f"\n{args.authorities} authorities x {args.services} services = {services} services; "
          f"{store.count():,} quads; ingest {ingest_s:.0f} s")
    print(f"text index + statistics at publish (incremental, per ingest): median "
          f"{pystats.median(publish_times):.2f} s, max {max(publish_times):.2f} s")
    print(f"full build from scratch: {build_s:.1f} s; index file {index_mb:.0f} MB" if build_s else
          f"index file {index_mb:.0f} MB")
    print(f"first /services page of the process (reads the facet sets): {first_s * 1000:.0f} ms")
    print(f"\n{'operation (ms)':<44} {'p50':>10} {'p99':>10} {'n':>6}")
    print(row("text search (count + first 20, FTS5)", search_ms, "target p50 < 100"))
    print(row("naive SPARQL CONTAINS scan, same words", scan_ms))
    print(row("/services?q= page (results + facets)", page_ms, "target p50 < 100"))
    print(row("/services page without words or filters", browse_ms, "target p50 < 100"))
    print(row("/services page with filters, no words", filtered_ms, "target p50 < 100"))
    print(row("/services page with words and filters", mixed_ms, "target p50 < 100"))
    print(row("kept statistics (localoffer stats)", stats_ms, "target < 200"))
    print(row("SPARQL counts per authority, need x band", sparql_stats_ms))
    print(f"\nmedian hits per search: {pystats.median(hits):.0f}; speed-up of search over the scan: "
          f"{pystats.median(scan_ms) / pystats.median(search_ms):.0f}x")
    store.close()
    if args.load:
        serve_pages(store_dir, work, queries, choices, args.load, args.connections)
    if not args.keep and not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
