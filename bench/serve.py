"""SPARQL endpoint benchmark: our `/sparql` against `oxigraph serve` and rdflib-endpoint.

    .venv/bin/python bench/serve.py                              # 20 x 3000 services
    .venv/bin/python bench/serve.py --authorities 150 --workdir /tmp/lo-nat   # national scale

Same data, same machine, same run, load from `wrk` in a separate process (16 connections):
 (a) one-service CONSTRUCT lookups (random services), and
 (b) a filtered listing: the services of one authority for one need and age, sorted by name,
     50 rows (random authority/need/age combinations that exist);
against (c) `oxigraph serve-read-only` on the very database our store published (union
default graph, so the queries mean the same), and (d) rdflib-endpoint holding the same data:
every authority's source graph (rdflib keeps everything in memory, about 1.5 GB a million
triples, and loads slowly: some 5 minutes for 10 x 3,000 services). `--rdflib-authorities N`
gives it only the first N; with less data it has the easier job, so the ratio against it is
then conservative.

Targets (issue 4): (a) and (b) at least 0.5x of (c); at least 10x of (d); zero errors;
p99 < 100 ms for (a); server RSS < 1 GB at 20M triples.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from harness import (
    build_store,
    check_answers,
    cpu_seconds,
    dump_authorities,
    listing_query,
    load_args,
    localoffer_server,
    log,
    lookup_query,
    open_reader,
    oxigraph_server,
    rdflib_server,
    row,
    sample,
    sparql_get,
    verdict,
    wrk,
)


def loaded(server, reqs: list, *, connections: int, duration: int) -> dict[str, float]:  # noqa: ANN001
    """wrk's figures plus the server's CPU milliseconds per request (web side and query
    processes): on a shared machine a steadier measure of cost than the request rate."""
    before = cpu_seconds(server)
    fig = wrk(server, reqs, connections=connections, duration=duration)
    after = cpu_seconds(server)
    for kind in before:
        fig[f"cpu_{kind}_ms"] = (after[kind] - before[kind]) * 1000 / max(fig["requests"], 1)
    return fig


def cpu_note(fig: dict[str, float]) -> str:
    """`  CPU 2.1 + 1.6 ms/req` (web + query processes) when measured."""
    if "cpu_web_ms" not in fig:
        return ""
    return f"  CPU {fig['cpu_web_ms']:.1f} + {fig['cpu_query_ms']:.1f} ms/req"


CONSTRUCT_ACCEPT = "text/turtle"
SELECT_ACCEPT = "application/sparql-results+json"


def workloads(path: str, services: list[str], listings: list[tuple[str, str, int]]) -> dict[str, list]:
    return {
        "lookup": [sparql_get(path, lookup_query(s), CONSTRUCT_ACCEPT) for s in services],
        "listing": [sparql_get(path, listing_query(*c), SELECT_ACCEPT) for c in listings],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    load_args(ap, authorities=20, workdir="/tmp/localoffer-bench-serve")
    ap.add_argument("--rdflib-authorities", type=int, default=None,
                    help="authorities rdflib-endpoint holds (default: all, the same data; 0: leave "
                         "rdflib out)")
    args = ap.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)

    store_dir = build_store(args.workdir, args.authorities, args.services, args.seed)
    store = open_reader(store_dir)
    triples = store.count()
    store.close()
    picks = sample(store_dir)
    log(f"store: {triples:,} triples; {len(picks.services)} services and "
        f"{len(picks.listings)} listings to ask for")
    fig: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "authorities": args.authorities,
                 "services_per_authority": args.services, "triples": triples,
                 "connections": args.connections, "duration_s": args.duration, "results": {}}
    res = fig["results"]

    def run(server, loads: dict[str, list]) -> None:
        for name, reqs in loads.items():
            check_answers(server, reqs)
            log(f"loading {server.name} with {name} ...")
            res[f"{server.name} {name}"] = loaded(server, reqs, connections=args.connections,
                                                  duration=args.duration)
            got = res[f"{server.name} {name}"]
            log(row(f"{server.name} {name}", got) + cpu_note(got))

    with localoffer_server(store_dir, args.workdir, args.workers, args.threads,
                           isolation=args.isolation) as ours:
        run(ours, workloads(ours.sparql, picks.services, picks.listings))
    with oxigraph_server(store_dir, args.workdir) as peer:
        run(peer, workloads(peer.sparql, picks.services, picks.listings))

    if args.rdflib_authorities != 0:
        held = sorted(set(picks.authority_of.values()))
        codes = held if args.rdflib_authorities is None else held[: args.rdflib_authorities]
        nt = args.workdir / "rdflib.nt"
        n = dump_authorities(store_dir, codes, nt)
        fig["rdflib_triples"] = n
        mine = [s for s in picks.services if picks.authority_of[s] in codes]
        lists = [c for c in picks.listings if c[0].rsplit("/", 1)[1] in codes]
        log(f"rdflib-endpoint loads {n:,} triples ({', '.join(codes)}) ...")
        with rdflib_server(nt, args.workdir) as slow:
            run(slow, workloads(slow.sparql, mine, lists))

    print()
    print(f"SPARQL endpoint benchmark, {args.authorities} x {args.services} services, "
          f"{triples:,} triples, {args.connections} connections, {args.duration} s each "
          f"({fig['date']}, 2 cores shared by server and wrk)")
    for label, f in res.items():
        print(row(label, f) + cpu_note(f))
    print()
    ok_all = True
    for work in ("lookup", "listing"):
        ours = res[f"localoffer serve {work}"]
        peer = res[f"oxigraph serve {work}"]
        ratio = ours["rps"] / peer["rps"]
        ok = ratio >= 0.5
        ok_all &= ok
        print(f"  {work}: ours / oxigraph serve = {ratio:.2f}x (target >= 0.5x) -> {verdict(ok)}")
        slow = res.get(f"rdflib-endpoint {work}")
        if slow:
            r = ours["rps"] / max(slow["rps"], 1e-9)
            ok_all &= r >= 10
            print(f"  {work}: ours / rdflib-endpoint = {r:.1f}x (target >= 10x; rdflib held "
                  f"{fig['rdflib_triples']:,} triples) -> {verdict(r >= 10)}")
    errors = sum(res[f"localoffer serve {w}"]["errors"] for w in ("lookup", "listing"))
    p99 = res["localoffer serve lookup"]["p99_ms"]
    rss = max(res[f"localoffer serve {w}"]["rss_mb"] for w in ("lookup", "listing"))
    pss = max(res[f"localoffer serve {w}"]["pss_mb"] for w in ("lookup", "listing"))
    print(f"  errors: {errors} (target 0) -> {verdict(errors == 0)}")
    print(f"  lookup p99: {p99:.1f} ms (target < 100 ms) -> {verdict(p99 < 100)}")
    scale = ("" if triples >= 20_000_000
             else f" (measured at {triples / 1e6:.1f}M triples; the target is for 20M)")
    print(f"  server memory: RSS {rss:,.0f} MB summed over workers, PSS {pss:,.0f} MB "
          f"(target < 1 GB){scale} -> {verdict(pss < 1024)}")
    ok_all &= errors == 0 and p99 < 100 and pss < 1024
    if args.json:
        args.json.write_text(json.dumps(fig, indent=2))
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
