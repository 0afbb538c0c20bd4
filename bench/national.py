"""National-scale run: the synthetic national data set ingested, validated and served on the
embedded store and on Virtuoso, with the four workload queries under load.

    .venv/bin/python bench/national.py                                   # 150 x 3000 services
    .venv/bin/python bench/national.py --authorities 20 --workdir /tmp/lo-nat20
    .venv/bin/python bench/national.py --backends embedded               # no Virtuoso

For each backend it prints: ingest time (all authorities, one `localoffer ingest` pipeline
call each), validation time (`localoffer validate`, all authorities), size on disk, server
memory, and req/s + p50/p99 under 16 concurrent connections (wrk) for
  1. lookup        /sparql CONSTRUCT of one service,
  2. listing       /sparql services of one authority with one taxonomy term and age, 50 sorted,
  3. aggregate     /stats?authority=CODE: services per need area and age band of an authority
                   (kept statistics, recounted by each ingest), and the national table /stats,
  4. text search   /services?q=WORD (the text index), first page with counts.
Targets (issue 7, embedded store, 2 cores): lookups p50 < 5 ms; listing p50 < 50 ms;
aggregate < 200 ms; search p50 < 100 ms; no errors; server RSS < 1.5 GB.

Virtuoso (Debian `virtuoso-opensource`) is started by the script with its own database folder
and NumberOfBuffers sized for the data (--virtuoso-buffers); localoffer reaches it as a
remote store (LOCALOFFER_STORE=sparql+http://...), so its figures include our web layer.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from harness import (
    BASE,
    ROOT,
    build_store,
    check_answers,
    listing_query,
    load_args,
    localoffer_server,
    log,
    lookup_query,
    row,
    sample,
    sparql_get,
    verdict,
    wrk,
)

TARGETS = {"lookup": 5.0, "listing": 50.0, "aggregate": 200.0, "national table": 200.0, "search": 100.0}


def du_mb(path: Path) -> float:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    return total / 2**20


def validate(env: dict[str, str], work: Path) -> tuple[float, int]:
    """`localoffer validate` over everything; (seconds, exit status)."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "localoffer", "validate", "--format", "json",
                           "-o", str(work / "validation.json")],
                          env={**os.environ, **env}, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"validation failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return time.perf_counter() - started, proc.returncode


def workloads(picks, codes: list[str]) -> dict[str, list]:
    return {
        "lookup": [sparql_get("/sparql", lookup_query(s), "application/n-triples") for s in picks.services],
        "listing": [sparql_get("/sparql", listing_query(*c), "application/sparql-results+json")
                    for c in picks.listings],
        "aggregate": [("GET", f"/stats?authority={c}", {"Accept": "application/json"}) for c in codes],
        "national table": [("GET", "/stats", {"Accept": "application/json"})],
        "search": [("GET", "/services?" + urlencode({"q": w}), {"Accept": "text/html"}) for w in picks.words],
    }


def serve_and_load(name: str, store: str, work: Path, picks, codes: list[str], args, fig: dict,
                   env: dict[str, str] | None = None) -> None:
    env = {"LOCALOFFER_BASE_URI": BASE, **(env or {})}
    with localoffer_server(store, work, args.workers, args.threads, env=env,
                           isolation=args.isolation) as server:
        for label, reqs in workloads(picks, codes).items():
            check_answers(server, reqs)
            log(f"{name}: loading {label} ...")
            fig[label] = wrk(server, reqs, connections=args.connections, duration=args.duration)
            log(row(f"{name} {label}", fig[label]))


def embedded(args, fig: dict, serve: bool = True) -> None:
    work = args.workdir
    started = time.perf_counter()
    store_dir = build_store(work, args.authorities, args.services, args.seed)
    marker = json.loads((work / "store.json").read_text())
    fig["ingest_s"] = marker.get("ingest_s", time.perf_counter() - started)
    env = {"LOCALOFFER_STORE": str(store_dir), "LOCALOFFER_BASE_URI": BASE}
    if not args.skip_validation and serve:
        log("embedded: validating ...")
        fig["validation_s"], fig["validation_exit"] = validate(env, work)
    fig["disk_mb"] = du_mb(store_dir)
    if serve:
        picks = sample(store_dir)
        codes = [f.stem for f in sorted((work / "data").glob("E*.json"))][:50]
        serve_and_load("embedded", str(store_dir), work, picks, codes, args, fig)


def virtuoso(args, fig: dict, embedded_store: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from localoffer.ingest.pipeline import ingest

    from localoffer.config import load_settings
    from localoffer.store import open_store
    from tests.servers import virtuoso_process

    folder = args.workdir / "virtuoso"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with virtuoso_process(folder, buffers=args.virtuoso_buffers, after_image=2_000_000_000) as url:
        store_url = f"sparql+{url}"
        settings = load_settings({"store": store_url, "base_uri": BASE, "store_kind": "virtuoso"},
                                 environ={})
        store = open_store(settings)
        files = sorted((args.workdir / "data").glob("E*.json"))[: args.authorities]
        started = time.perf_counter()
        for n, path in enumerate(files, 1):
            ingest(store, settings, str(path), authority=path.stem)
            if n % 10 == 0 or n == len(files):
                log(f"  virtuoso: ingested {n}/{len(files)} ({time.perf_counter() - started:.0f} s)")
        fig["ingest_s"] = time.perf_counter() - started
        env = {"LOCALOFFER_STORE": store_url, "LOCALOFFER_BASE_URI": BASE,
               "LOCALOFFER_STORE_KIND": "virtuoso"}
        if not args.skip_validation:
            log("virtuoso: validating ...")
            fig["validation_s"], fig["validation_exit"] = validate(env, args.workdir)
        fig["disk_mb"] = du_mb(folder)
        picks = sample(embedded_store)  # the same services, listings and words as the embedded run
        codes = [p.stem for p in files][:50]
        serve_and_load("virtuoso", store_url, args.workdir, picks, codes, args, fig,
                       {"LOCALOFFER_STORE_KIND": "virtuoso"})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    load_args(ap, authorities=150, workdir="/tmp/localoffer-national")
    ap.add_argument("--backends", default="embedded,virtuoso")
    ap.add_argument("--virtuoso-buffers", type=int, default=680000,
                    help="Virtuoso NumberOfBuffers (8 KB each; 680000 ~ 5 GB, its guide's size for 8 GB)")
    ap.add_argument("--skip-validation", action="store_true")
    args = ap.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    fig: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "authorities": args.authorities,
                 "services_per_authority": args.services, "backends": {}}
    embedded_fig: dict = {}
    # the embedded store also provides the data and the samples for the other backends
    embedded(args, embedded_fig, serve="embedded" in backends)
    if "embedded" in backends:
        fig["backends"]["embedded"] = embedded_fig
    if "virtuoso" in backends:
        if not shutil.which("virtuoso-t"):
            raise SystemExit("Virtuoso is missing: apt-get install virtuoso-opensource "
                             "(or --backends embedded)")
        fig["backends"]["virtuoso"] = {}
        virtuoso(args, fig["backends"]["virtuoso"], args.workdir / "store")

    services = args.authorities * args.services
    print()
    print(f"National-scale run: {args.authorities} x {args.services} = {services:,} services "
          f"({fig['date']}; 2 cores shared by the server and wrk; {args.connections} connections, "
          f"{args.duration} s per workload)")
    ok = True
    for name, b in fig["backends"].items():
        print(f"\n{name}:")
        print(f"  ingest {b['ingest_s']:,.0f} s ({services / b['ingest_s']:,.0f} services/s); "
              + (f"validation {b['validation_s']:,.0f} s (exit {b['validation_exit']}); "
                 if "validation_s" in b else "")
              + f"on disk {b['disk_mb']:,.0f} MiB")
        for label in TARGETS:
            print(row(label, b[label]))
        if name == "virtuoso":
            print("  (memory above is localoffer's web layer; Virtuoso's own is its buffer pool, "
                  "--virtuoso-buffers x 8 KB)")
        if name == "embedded":
            print()
            for label, limit in TARGETS.items():
                p50 = b[label]["p50_ms"]
                met = p50 < limit and b[label]["errors"] == 0
                ok &= met
                print(f"  {label}: p50 {p50:.1f} ms (target < {limit:g} ms, no errors) -> {verdict(met)}")
            rss = max(b[label]["pss_mb"] for label in TARGETS)
            ok &= rss < 1536
            print(f"  server memory (PSS, all workers): {rss:,.0f} MB (target < 1.5 GB) -> "
                  f"{verdict(rss < 1536)}")
    if services < 450_000:
        print(f"\n(measured at {services:,} services; the targets are for 450,000)")
    if args.json:
        args.json.write_text(json.dumps(fig, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
