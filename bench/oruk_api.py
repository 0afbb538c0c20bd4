"""ORUK API benchmark: `/api/services?per_page=50` and `/api/services/{id}` against the
equivalent queries sent to `/sparql`, through the Flask test client, on synthetic national data.

    .venv/bin/python bench/oruk_api.py                                 # 20 x 3000 services
    .venv/bin/python bench/oruk_api.py --authorities 150 --services 3000 --workdir /tmp/lo-nat
    .venv/bin/python bench/oruk_api.py --store /tmp/lo-nat/store       # an already loaded store

Steps:
 1. generate the data (bench/generate.py) and ingest it into a fresh store, unless --store
    names one already loaded (the base IRI must be the one used here);
 2. time each request --repeat times (the first /services request of a store version also
    reads and sorts the list once: it is reported apart, as "cold");
 3. time the equivalent SPARQL on /sparql: for a page, the same services in the same order
    (ORDER BY id, LIMIT/OFFSET) with the fields a list item carries; for a service, a
    CONSTRUCT of its record tree (the same links the API follows);
 4. print medians and the ratio API / SPARQL (the target is at most 2).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

BASE = "https://localoffer.bench/"
TARGET_RATIO = 2.0
LIST_FIELDS = ("name", "description", "url", "email", "alternateName")


def load(store_dir: Path, data: Path, authorities: int, services: int, seed: int) -> None:
    """Generate and ingest the synthetic national data set."""
    import generate  # bench/generate.py
    from localoffer.ingest.pipeline import ingest

    from localoffer.config import load_settings
    from localoffer.store import open_store

    files = generate.generate(data, authorities, services, seed)
    settings = load_settings({"store": str(store_dir), "base_uri": BASE}, environ={})
    store = open_store(settings)
    started = time.perf_counter()
    for n, (code, path) in enumerate(files, 1):
        ingest(store, settings, str(path), authority=code)
        print(f"  ingested {n}/{len(files)} authorities ({time.perf_counter() - started:.0f} s)",
              file=sys.stderr, flush=True)
    store.close()


def timed(client: Any, url: str, **kwargs: Any) -> tuple[float, Any]:
    """One request: (milliseconds, response); any status but 200 stops the run."""
    t0 = time.perf_counter()
    response = client.get(url, **kwargs) if not kwargs.get("data") else client.post(url, **kwargs)
    elapsed = (time.perf_counter() - t0) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}: {response.get_data(as_text=True)[:300]}")
    return elapsed, response


def sparql(client: Any, query: str, accept: str) -> float:
    """Milliseconds for one query sent to /sparql."""
    return timed(client, "/sparql", data={"query": query}, headers={"Accept": accept})[0]


def page_query(per_page: int, page: int) -> str:
    """The services of one page, in the API's order, with the fields of a list item."""
    from localoffer import namespaces as ns

    optional = " ".join(f"OPTIONAL {{ ?s schema:{f} ?{f} }}" for f in LIST_FIELDS)
    return (f"{ns.sparql_prefixes()}SELECT ?s ?id {' '.join('?' + f for f in LIST_FIELDS)} ?min ?max ?org "
            f"?orgname WHERE {{ {{ SELECT ?s WHERE {{ ?s a schema:Service }} ORDER BY ?s "
            f"LIMIT {per_page} OFFSET {(page - 1) * per_page} }} ?s schema:identifier ?id . {optional} "
            "OPTIONAL { ?s schema:audience ?a OPTIONAL { ?a schema:suggestedMinAge ?min } "
            "OPTIONAL { ?a schema:suggestedMaxAge ?max } } "
            "OPTIONAL { ?s schema:provider ?org OPTIONAL { ?org schema:name ?orgname } } }")


def unordered_page_query(per_page: int, page: int) -> str:
    """The same, without the order that stable paging needs (for reference only)."""
    return page_query(per_page, page).replace(" ORDER BY ?s", "")


def detail_query(ident: str) -> str:
    """The triples of one service's record tree."""
    from localoffer.publisher.oruk.fetch import SERVICE_FULL

    from localoffer import namespaces as ns

    return (f"{ns.sparql_prefixes()}CONSTRUCT {{ ?x ?p ?o }} WHERE {{ ?s schema:identifier \"{ident}\" ; "
            f"a schema:Service . ?s ({'|'.join(SERVICE_FULL)})* ?x . ?x ?p ?o }}")


def median(values: list[float]) -> float:
    """The median (NaN for no values)."""
    return statistics.median(values) if values else float("nan")


def run(store_dir: Path, repeat: int, timeout: float) -> dict[str, Any]:
    """Time every request and its SPARQL equivalent; return the figures."""
    from localoffer.publisher import create_app
    from localoffer.publisher.oruk import register

    app = create_app({"store": str(store_dir), "base_uri": BASE, "query_timeout": timeout,
                      "query_processes": 1})
    if "oruk" not in app.blueprints:
        register(app)
    client = app.test_client()
    fig: dict[str, Any] = {}
    sparql(client, "ASK {}", "application/sparql-results+json")  # start the query process
    cold, first = timed(client, "/api/services?per_page=50")
    total = first.get_json()["total_items"]
    middle = max(1, (total // 50) // 2)
    fig["services"] = total
    fig["list_cold_ms"] = cold
    ids = [s["id"] for s in first.get_json()["contents"]]
    later = timed(client, f"/api/services?per_page=50&page={middle}")[1].get_json()
    ids += [s["id"] for s in later["contents"]]
    sample = ids[:: max(1, len(ids) // repeat)][:repeat]
    rows = []
    for label, url, query, accept in (
            ("/services?per_page=50 (page 1)", "/api/services?per_page=50", page_query(50, 1),
             "application/sparql-results+json"),
            (f"/services?per_page=50 (page {middle})", f"/api/services?per_page=50&page={middle}",
             page_query(50, middle), "application/sparql-results+json")):
        api = [timed(client, url, headers={"Cache-Control": "no-cache"})[0] for _ in range(repeat)]
        spq = [sparql(client, query + f"\n# {i}", accept) for i in range(repeat)]
        rows.append((label, median(api), median(spq)))
    api = [timed(client, "/api/services?per_page=50")[0] for _ in range(repeat)]
    spq = [sparql(client, unordered_page_query(50, 1) + f"\n# {i}", "application/sparql-results+json")
           for i in range(repeat)]
    rows.append(("(reference: /sparql page, unordered)", median(api), median(spq)))
    api = [timed(client, f"/api/services/{i}")[0] for i in sample]
    spq = [sparql(client, detail_query(i), "application/n-triples") for i in sample]
    rows.append(("/services/{id}", median(api), median(spq)))
    fig["rows"] = [{"endpoint": r[0], "api_ms": r[1], "sparql_ms": r[2], "ratio": r[1] / r[2]} for r in rows]
    fig["list_cold_ratio"] = cold / rows[0][2]
    return fig


def report(fig: dict[str, Any]) -> None:
    """Print the figures as a table."""
    print(f"\nORUK API vs /sparql, {fig['services']} services, medians of the repeats (ms)")
    print(f"  first /services request of this store version (reads and sorts the list once): "
          f"{fig['list_cold_ms']:.0f} ms, {fig['list_cold_ratio']:.2f}x the /sparql page query")
    print(f"  {'endpoint':36} {'API':>10} {'/sparql':>10} {'ratio':>7}")
    for row in fig["rows"]:
        ok = "" if row["endpoint"].startswith("(") else \
            "ok" if row["ratio"] <= TARGET_RATIO else f"OVER {TARGET_RATIO}x"
        print(f"  {row['endpoint']:36} {row['api_ms']:10.1f} {row['sparql_ms']:10.1f} "
              f"{row['ratio']:7.3f}  {ok}")


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--authorities", type=int, default=20)
    ap.add_argument("--services", type=int, default=3000, help="services per authority")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", type=Path, help="where to put data and store (default: a temp folder)")
    ap.add_argument("--store", type=Path, help="an already loaded store (skips generate and ingest)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=900.0, help="/sparql query timeout in seconds")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lo-oruk-bench-") as tmp:
        work = args.workdir or Path(tmp)
        store_dir = args.store or work / "store"
        if args.store is None and not (store_dir / "CURRENT").exists():
            load(store_dir, work / "data", args.authorities, args.services, args.seed)
        fig = run(store_dir, args.repeat, args.timeout)
    report(fig)
    if args.json:
        args.json.write_text(json.dumps(fig, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
