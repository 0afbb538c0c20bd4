"""Validation benchmark on the synthetic national-scale data of the ingest benchmark.

    python bench/validate.py --authorities 10 --services 3000 [--workers 2] [--ab-services 1000]

Steps (the data are made by bench/generate.py and ingested first; that is set-up, not measured):

(a) plain pySHACL on one authority: its slice of the store as an rdflib graph, validated in one
    whole-graph `pyshacl.validate` (rdflib's own SPARQL engine), parsing included;
(b) ours on the same authority, same run: `validate_store` in focus sets on --workers processes;
(c) ours on every authority in the store (the --authorities ones and the small one of (a)
    and (b)), as `localoffer validate` without --authority runs it: one pool of workers, each
    report published into its authority's validation graph as soon as it is ready; the
    figures extrapolated (labelled so) to the national 150 x 3,000 services;
(c') with --again: (c) once more, its reports already stored, every record re-validated (as on
    a new day or with new shapes);
(d) one service changed and re-ingested, then an incremental `validate_store` and its
    `publish_report`;
(e) every authority again, the same day, incremental (what `localoffer validate` does then:
    only what changed since each authority's stored run is re-validated).

Each measured step runs in its own process, so its peak RSS is its own: the process tree's
resident memory (parent plus worker processes) is sampled every 0.1 s. (a) and (b) use an
authority of --ab-services services, because
plain pySHACL takes minutes on a full 3,000-service authority (generated with another seed, loaded
as E09000001); the figures are per service.
Targets (issue 3): (b) at least 2x faster than (a); (c) 450,000 services in <= 10 minutes on 2
cores with peak RSS < 4 GB; (d) <= 2 s.

    python bench/validate.py --every-council-of STORE [--workers 2] [--json FILE]

runs (c) alone on an existing store (the national one of national.py, 150 x 3,000 services):
measured, not extrapolated."""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NATIONAL = 150 * 3000
TARGET_RATIO, TARGET_NATIONAL_S, TARGET_RSS_MB, TARGET_INCREMENTAL_S = 2.0, 600.0, 4096.0, 2.0
BASE = "https://localoffer.bench/"  # as bench/harness.py: one national store serves every benchmark
AB_CODE = "E09000001"  # the authority of (a) and (b): the City of London's code, free in the data


# -- memory of a process tree ------------------------------------------------------------------
def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as fh:
                out += [int(c) for c in fh.read().split()]
    except OSError:
        pass
    return out


class TreeSampler(threading.Thread):
    """The highest resident memory of this process and its descendants together."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kb = 0
        self._halt = threading.Event()

    def sample(self) -> None:
        total, stack = 0, [os.getpid()]
        while stack:
            pid = stack.pop()
            total += _rss_kb(pid)
            stack += _children(pid)
        self.peak_kb = max(self.peak_kb, total)

    def run(self) -> None:
        while not self._halt.wait(0.1):
            self.sample()

    def stop(self) -> float:
        self._halt.set()
        self.sample()
        return self.peak_kb / 1024


# -- the measured steps (each in a child process) -------------------------------------------------
def _open(store_dir: str):  # noqa: ANN202
    from localoffer.config import load_settings
    from localoffer.store import open_store

    settings = load_settings({"store": store_dir, "base_uri": BASE}, environ={})
    return open_store(settings), settings


def child(step: str, store_dir: str, out_path: str, codes: list[str], workers: int) -> None:
    sampler = TreeSampler()
    sampler.start()
    started = time.perf_counter()
    store, settings = _open(store_dir)
    figures: dict[str, object] = {}
    if step == "plain":
        import pyoxigraph as ox
        import pyshacl
        import rdflib

        from localoffer.validation import data_graphs, load_shapes
        from localoffer.validation.core import _construct

        triples = store.query(_construct(settings, codes[0]), default_graph=data_graphs(store, settings))
        body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
        graph = rdflib.Graph().parse(data=body, format="nt")
        conforms, report, _ = pyshacl.validate(
            graph, shacl_graph=load_shapes(), advanced=True, inference="none", allow_warnings=True
        )
        figures["results"] = sum(1 for _ in report.subjects(rdflib.RDF.type, rdflib.SH.ValidationResult))
        figures["services"] = sum(
            1 for _ in graph.subjects(rdflib.RDF.type, rdflib.URIRef("https://schema.org/Service"))
        )
    elif step == "ours":
        from localoffer.validation import validate_store

        result = validate_store(store, settings, authority=codes[0], workers=workers, incremental=False)
        figures["results"] = len(result.findings)
        figures["services"] = result.records["services"]
    elif step in ("national", "national-full", "national-incremental"):
        # What `localoffer validate` without --authority does: every authority, each report
        # published in its own validation graph as soon as it is ready (those ready together
        # in one write, from the run's publishing thread).
        from localoffer.validation import publish_reports, validate_store

        services = results = 0
        publish_s = 0.0
        publisher_rss: list[float] = []  # this process after each publish: it keeps every finding
        published: list[tuple[float, int]] = []  # (seconds since the start, services) of each council
        batches: list[int] = []  # councils per write
        write_s: list[float] = []  # seconds each write took

        def publish(ready) -> None:
            nonlocal services, results, publish_s
            t = time.perf_counter()
            publish_reports(store, settings, ready)
            publish_s += time.perf_counter() - t
            write_s.append(time.perf_counter() - t)
            batches.append(len(ready))
            for result in ready:
                services += result.records["services"]
                results += len(result.findings)
                publisher_rss.append(_rss_kb(os.getpid()) / 1024)
                published.append((time.perf_counter() - started, result.records["services"]))
                print(
                    f"  {result.authority}: {result.records['services']} services, "
                    f"{len(result.findings)} results, "
                    f"statutory items {result.completeness['statutory_items']['share']}"
                    + (f" (published with {len(ready) - 1} more)" if len(ready) > 1 else ""),
                    flush=True,
                )

        combined = validate_store(store, settings, workers=workers, publish=publish,
                                  incremental=step == "national-incremental")
        # after the last publish: merging every council's findings into the combined result
        figures["end_seconds"] = time.perf_counter() - started - (published[-1][0] if published else 0.0)
        figures.update(mode=combined.stats.get("mode"), revalidated=combined.stats.get("revalidated"))
        assert combined.stats.get("published"), combined.stats  # not one whole-store report
        figures.update(services=services, results=results, publish_seconds=publish_s,
                       publisher_rss_mb=publisher_rss, published=published, batches=batches,
                       write_seconds=write_s)
    elif step == "incremental":
        from localoffer.validation import publish_report, validate_store

        t = time.perf_counter()
        result = validate_store(store, settings, authority=codes[0], workers=workers)
        figures["validate_seconds"] = time.perf_counter() - t
        t = time.perf_counter()
        publish_report(store, settings, result)
        figures["publish_seconds"] = time.perf_counter() - t
        figures.update(
            mode=result.stats.get("mode"),
            revalidated=result.stats.get("revalidated"),
            services=result.records["services"],
            results=len(result.findings),
        )
    store.close()
    figures["seconds"] = time.perf_counter() - started
    figures["peak_rss_mb"] = sampler.stop()
    # CPU: this process (in (c), the one publishing the reports) and its worker processes
    own, workers_ = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    figures["cpu_self_s"] = own.ru_utime + own.ru_stime
    figures["cpu_workers_s"] = workers_.ru_utime + workers_.ru_stime
    Path(out_path).write_text(json.dumps(figures), encoding="utf-8")


def writes(c: dict) -> list[tuple[float, int]]:
    """(seconds since the start, services) of each write of reports: the councils published
    together (`batches`) counted at the last of them."""
    done = c.get("published") or []
    sizes = c.get("batches") or [1] * len(done)
    out, at = [], 0
    for size in sizes:
        chunk = done[at:at + size]
        at += size
        out.append((chunk[-1][0], sum(n for _, n in chunk)))
    return out


def steady_rate(c: dict) -> float | None:
    """Services per second from the first write of reports to the last: the councils written
    after the first write, over the time they took (None with fewer than three writes)."""
    done = writes(c)
    if len(done) < 3 or done[-1][0] <= done[0][0]:
        return None
    return sum(n for _, n in done[1:]) / (done[-1][0] - done[0][0])


def national_rss(c: dict) -> tuple[float, float]:
    """(peak RSS extrapolated to 150 authorities, growth per authority): the measured peak plus
    the publishing process's growth per authority (from the second on: the first loads the
    modules and shapes) for each authority not measured."""
    after = c.get("publisher_rss_mb") or []
    per = max(0.0, (after[-1] - after[1]) / (len(after) - 2)) if len(after) > 2 else 0.0
    return c["peak_rss_mb"] + per * max(0, NATIONAL // 3000 - len(after)), per


def run_child(step: str, store: Path, codes: list[str], workers: int, work: Path) -> dict:
    out = work / f"figures-{step}.json"
    cmd = [sys.executable, __file__, "--child", step, str(store), str(out), ",".join(codes), str(workers)]
    subprocess.run(cmd, check=True)
    return json.loads(out.read_text(encoding="utf-8"))


# -- set-up ------------------------------------------------------------------------------------
def ingest_all(store_dir: Path, files: dict[str, Path]) -> float:
    from localoffer.ingest.pipeline import ingest

    store, settings = _open(str(store_dir))
    started = time.perf_counter()
    try:
        for code, path in files.items():
            ingest(store, settings, str(path), authority=code)
    finally:
        store.close()
    return time.perf_counter() - started


def change_one_service(path: Path) -> None:
    records = json.loads(path.read_text(encoding="utf-8"))
    records[len(records) // 2]["url"] = "not a web address"
    path.write_text(json.dumps(records), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--authorities", type=int, default=10, help="authorities in the multi-authority run (10)")
    ap.add_argument("--services", type=int, default=3000, help="services per authority (3000)")
    ap.add_argument(
        "--ab-services",
        type=int,
        default=1000,
        help="services of the authority in (a) and (b) (1000; plain pySHACL is slow)",
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", type=Path, help="work folder (default: a new folder in /tmp)")
    ap.add_argument("--data", type=Path, help="reuse this folder of {GSS}.json files (bench/generate.py)")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    ap.add_argument(
        "--again",
        action="store_true",
        help="(c') run (c) a second time, its reports already stored (as a daily or new-shapes run)",
    )
    ap.add_argument(
        "--every-council-of",
        type=Path,
        metavar="STORE",
        help="only (c), measured on this store as it is (every council in it, e.g. a national store "
        "built with national.py; its reports are written into it): no extrapolation",
    )
    ap.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        step, store, out, codes, workers = args.child
        child(step, store, out, codes.split(","), int(workers))
        return 0
    if args.every_council_of:
        return every_council(args.every_council_of, args.workers, args.workdir, args.json)

    work = args.workdir or Path(tempfile.mkdtemp(prefix="lo-validate-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    data = args.data or work / "data"
    if not args.data:
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "generate.py"),
                "--out",
                str(data),
                "--authorities",
                str(args.authorities),
                "--services",
                str(args.services),
                "--seed",
                str(args.seed),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    files = dict(sorted((p.stem, p) for p in data.glob("E*.json")))
    codes = list(files)[: args.authorities]
    ab_dir = work / "ab"  # its own seed, so its ids (and IRIs) differ from the others'
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "generate.py"),
            "--out",
            str(ab_dir),
            "--authorities",
            "1",
            "--services",
            str(args.ab_services),
            "--seed",
            str(args.seed + 1000),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    ab_file = next(ab_dir.glob("E*.json"))
    inc_file = work / "incremental.json"
    inc_file.write_text(files[codes[0]].read_text(encoding="utf-8"), encoding="utf-8")
    store = work / "store"
    print(
        f"set-up: ingesting {len(codes)} authorities x {args.services} services and a "
        f"{args.ab_services}-service authority into {store} ...",
        flush=True,
    )
    setup_s = ingest_all(store, {AB_CODE: ab_file, **{c: files[c] for c in codes[1:]}, codes[0]: inc_file})
    print(f"set-up: ingest took {setup_s:.0f} s (not part of the figures)\n", flush=True)

    fig: dict[str, dict] = {}
    fig["a"] = run_child("plain", store, [AB_CODE], args.workers, work)
    fig["b"] = run_child("ours", store, [AB_CODE], args.workers, work)
    print("(c) multi-authority run:", flush=True)
    fig["c"] = run_child("national", store, codes, args.workers, work)
    if args.again:
        print("(c') the same run again, reports already stored:", flush=True)
        fig["c2"] = run_child("national-full", store, codes, args.workers, work)
    change_one_service(inc_file)
    ingest_all(store, {codes[0]: inc_file})
    fig["d"] = run_child("incremental", store, [codes[0]], args.workers, work)
    print("(e) every authority again the same day, incremental:", flush=True)
    fig["e"] = run_child("national-incremental", store, codes, args.workers, work)
    report(fig, args, len(codes))
    if args.json:
        args.json.write_text(json.dumps(fig, indent=2), encoding="utf-8")
    return 0


def every_council(store: Path, workers: int, workdir: Path | None, json_path: Path | None) -> int:
    """(c) on an existing store: what `localoffer validate` without --authority does, measured."""
    work = workdir or Path(tempfile.mkdtemp(prefix="lo-validate-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"(c) every council of {store}, {workers} workers:", flush=True)
    c = run_child("national", store, [], workers, work)
    minutes = c["seconds"] / 60
    rate = c["services"] / c["seconds"]
    print(f"\n(c) MEASURED: {c['services']:,} services, {c['results']:,} results in {c['seconds']:.0f} s "
          f"({minutes:.1f} min, {rate:.0f} services/s); peak RSS {c['peak_rss_mb']:.0f} MB; "
          f"CPU {c['cpu_self_s']:.0f} s publishing, {c['cpu_workers_s']:.0f} s in the workers; councils per "
          f"write {c['batches']}, the writes {', '.join(f'{x:.0f}' for x in c['write_seconds'])} s")
    national = c["services"] >= NATIONAL
    print(f"(c) target (450,000 services <= {TARGET_NATIONAL_S / 60:.0f} min, RSS < {TARGET_RSS_MB:.0f} MB): "
          + (f"{_met(c['seconds'] <= TARGET_NATIONAL_S)} / {_met(c['peak_rss_mb'] < TARGET_RSS_MB)}"
             if national else f"not national-sized ({c['services']:,} services)"))
    if json_path:
        json_path.write_text(json.dumps(c, indent=2), encoding="utf-8")
    return 0 if national and c["seconds"] <= TARGET_NATIONAL_S and c["peak_rss_mb"] < TARGET_RSS_MB else 1


def _rate(f: dict) -> float:
    return f["services"] / f["seconds"] if f["seconds"] else 0.0


def _met(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def report(fig: dict, args: argparse.Namespace, n: int) -> None:
    a, b, c, d = fig["a"], fig["b"], fig["c"], fig["d"]
    print(f"\nvalidation benchmark: {args.workers} workers, {os.cpu_count()} CPUs, shapes of this checkout")
    print(f"{'step':<46}{'services':>9}{'results':>9}{'wall s':>9}{'svc/s':>9}{'peak RSS MB':>13}")
    for label, f in (
        ("(a) plain pySHACL, whole graph, one authority", a),
        ("(b) ours, same authority", b),
        (f"(c) ours, {n} authorities (published)", c),
    ):
        print(
            f"{label:<46}{f['services']:>9}{f['results']:>9}{f['seconds']:>9.1f}{_rate(f):>9.1f}"
            f"{f['peak_rss_mb']:>13.0f}"
        )
    ratio = a["seconds"] / b["seconds"] if b["seconds"] else 0.0
    same = a["results"] == b["results"]
    print(
        f"\n(b) vs (a): {ratio:.1f}x faster ({'same' if same else 'DIFFERENT'} number of results: "
        f"{b['results']} / {a['results']}); target >= {TARGET_RATIO:.0f}x: {_met(ratio >= TARGET_RATIO)}"
    )
    national_s = NATIONAL / _rate(c) if _rate(c) else float("inf")
    print(
        f"(c) measured: {c['services']} services in {c['seconds']:.0f} s ({_rate(c):.0f} services/s, "
        f"{c['publish_seconds']:.0f} s of it publishing reports), peak RSS {c['peak_rss_mb']:.0f} MB"
    )
    print(
        f"(c) EXTRAPOLATION (not measured): 150 x 3,000 = {NATIONAL:,} services at the measured rate would "
        f"take {national_s / 60:.0f} min; target <= {TARGET_NATIONAL_S / 60:.0f} min: "
        f"{_met(national_s <= TARGET_NATIONAL_S)}"
    )
    steady = steady_rate(c)
    if steady:
        first_s, first_n = writes(c)[0]
        end_s = c.get("end_seconds", 0.0) * NATIONAL / c["services"]  # grows with the findings
        estimate = first_s + (NATIONAL - first_n) / steady + end_s
        print(
            f"(c) between the first write of reports and the last (the pipeline full; councils per "
            f"write: {c.get('batches')}): {steady:.0f} services/s. EXTRAPOLATION: the first write "
            f"({first_n:,} services, {first_s:.0f} s), the rest at that rate, and "
            f"the combined result of every council's findings ({c.get('end_seconds', 0.0):.1f} s here, "
            f"{end_s:.0f} s scaled up): {estimate / 60:.1f} min for {NATIONAL:,} services; target <= "
            f"{TARGET_NATIONAL_S / 60:.0f} min: {_met(estimate <= TARGET_NATIONAL_S)}"
        )
    peak, per_council = national_rss(c)
    print(
        f"(c) memory: the workers hold one authority each; the publishing process keeps every finding "
        f"for the combined report, {per_council:.1f} MB more per authority here (its RSS after each "
        f"publish: {', '.join(f'{m:.0f}' for m in c.get('publisher_rss_mb', []))} MB). EXTRAPOLATION: peak "
        f"RSS about {peak:.0f} MB for 150 authorities; target < {TARGET_RSS_MB:.0f} MB: "
        f"{_met(peak < TARGET_RSS_MB)}"
    )
    if "c2" in fig:
        c2 = fig["c2"]
        again_s = NATIONAL / _rate(c2) if _rate(c2) else float("inf")
        print(
            f"(c') again, reports stored: {c2['services']} services in {c2['seconds']:.0f} s "
            f"({_rate(c2):.0f} services/s, {c2['publish_seconds']:.0f} s of it publishing), peak RSS "
            f"{c2['peak_rss_mb']:.0f} MB; EXTRAPOLATION: {again_s / 60:.0f} min for {NATIONAL:,} services"
        )
    total = d["validate_seconds"] + d["publish_seconds"]
    print(
        f"(d) incremental after one changed service ({d['mode']}, {d['revalidated']} records re-validated "
        f"of {d['services']} services): validation {d['validate_seconds']:.2f} s, publishing the report "
        f"{d['publish_seconds']:.2f} s, together {total:.2f} s (process {d['seconds']:.1f} s with start-up); "
        f"target <= {TARGET_INCREMENTAL_S:.0f} s: "
        f"validation {_met(d['validate_seconds'] <= TARGET_INCREMENTAL_S)}, "
        f"with publishing {_met(total <= TARGET_INCREMENTAL_S)}"
    )
    if "e" in fig:
        e = fig["e"]
        print(
            f"(e) every authority again the same day, as `localoffer validate` runs by default "
            f"({e['mode']}, {e['revalidated']} records re-validated): {e['services']} services in "
            f"{e['seconds']:.1f} s ({e['publish_seconds']:.1f} s of it publishing)"
        )


if __name__ == "__main__":
    sys.exit(main())
