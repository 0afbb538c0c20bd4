"""Ingest benchmark: synthetic national data through `ingest.pipeline.ingest`, against
`oxigraph load` of the same quads.

    .venv/bin/python bench/ingest.py                                  # quick: 8 x 3000
    .venv/bin/python bench/ingest.py --authorities 5 --services 500   # smoke
    .venv/bin/python bench/ingest.py --authorities 150 --services 3000 --workdir /tmp/lo-nat
    .venv/bin/python bench/ingest.py --authorities 2 --profile        # cProfile of the ingest

Steps (see bench/README.md):
 1. generate (bench/generate.py) or reuse `--data DIR` / an earlier `--workdir`'s data;
 2. ingest every authority file into a fresh on-disk store with the library API, in a child
    process, sampling its RSS (VmRSS/VmHWM from /proc) at 10%, 25%, 50%, 75%, 100% of the
    authorities;
 3. dump the store as one N-Quads file (`localoffer dump --format nq`);
 4. time `oxigraph load --location NEW --file dump.nq` (the peer) on the same quads;
 5. print a table and the targets (within 2x oxigraph load, >= 1,500 services/s, peak RSS
    < 1.5 GB, not growing with input size).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402  (bench/generate.py)

BASE = "https://localoffer.bench/"
VENV_BIN = Path(sys.executable).parent
MILESTONES = (0.10, 0.25, 0.50, 0.75, 1.00)
TARGET_RATIO = 2.0
TARGET_RATE = 1500.0
TARGET_RSS_MB = 1536.0


# -- helpers ---------------------------------------------------------------------------------
def proc_status(pid: int | str = "self") -> dict[str, int]:
    """VmRSS / VmHWM / VmSize of a process in kB, from /proc."""
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(("VmRSS:", "VmHWM:", "VmSize:")):
                    key, value = line.split(":", 1)
                    out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def io_written() -> int:
    """Bytes this process caused to be written to storage (/proc/self/io write_bytes): the bulk
    loader's SST files plus RocksDB compactions plus the temporary N-Triples files."""
    try:
        with open("/proc/self/io", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("write_bytes:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def du(path: Path) -> int:
    """Bytes used under *path* (hard links counted once), 0 when missing."""
    seen: set[tuple[int, int]] = set()
    total = 0
    if not path.exists():
        return 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512
    return total


def mb(kb_or_bytes: float, unit: str = "kB") -> float:
    return kb_or_bytes / 1024 if unit == "kB" else kb_or_bytes / 2**20


def run_timed(cmd: list[str], log_path: Path | None = None) -> dict[str, float]:
    """Run *cmd*, return wall seconds, CPU seconds and the child's peak RSS (wait4 rusage)."""
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    try:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if log_path:
            out.close()
    if proc.returncode != 0:
        tail = log_path.read_text(errors="replace")[-2000:] if log_path else ""
        raise SystemExit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{tail}")
    return {"seconds": wall, "cpu": ru.ru_utime + ru.ru_stime, "maxrss_mb": ru.ru_maxrss / 1024}


class Sampler(threading.Thread):
    """Samples this process's VmRSS every *interval* seconds; `window()` returns and resets the
    highest value seen since the previous call."""

    def __init__(self, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self._max = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            self._max = max(self._max, proc_status().get("VmRSS", 0))

    def window(self) -> int:
        value, self._max = max(self._max, proc_status().get("VmRSS", 0)), 0
        return value

    def stop(self) -> None:
        self._halt.set()


# -- the measured ingest (child process) -------------------------------------------------------
def child_ingest(store_dir: str, files_json: str, result_path: str, profile: str | None,
                 delete_inputs: bool = False) -> int:
    """Ingest every (authority, file) into a fresh store; write figures as JSON."""
    from localoffer.ingest.pipeline import ingest

    from localoffer.config import load_settings
    from localoffer.store import open_store

    files = json.loads(Path(files_json).read_text())
    settings = load_settings({"store": store_dir, "base_uri": BASE}, environ={})
    store = open_store(settings)
    marks = sorted({max(1, round(f * len(files))) for f in MILESTONES})
    sampler = Sampler()
    sampler.start()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    result: dict = {"start_rss_mb": mb(proc_status().get("VmRSS", 0)), "authorities": [],
                    "milestones": []}
    services = triples = rejected = 0
    started = time.perf_counter()
    window_start, window_services = started, 0
    cpu_started = time.process_time()
    window_cpu, window_n, loads = cpu_started, 0, []
    io_started = window_io = io_written()
    excluded = 0.0       # seconds spent on bench bookkeeping (du, unlink), taken off the total
    for k, (code, path) in enumerate(files, 1):
        t0, c0, w0 = time.perf_counter(), time.process_time(), io_written()
        if profiler:
            profiler.enable()
        report = ingest(store, settings, path, authority=code)
        if profiler:
            profiler.disable()
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        n = report.counts.get("service", 0)
        services += n
        window_services += n
        window_n += 1
        triples += report.triples
        rejected += len(report.rejected)
        loads.append(os.getloadavg()[0])
        result["authorities"].append({"code": code, "seconds": dt, "cpu": dc, "services": n,
                                      "written_mb": (io_written() - w0) / 2**20,
                                      "triples": report.triples, "rejected": len(report.rejected),
                                      "load1": loads[-1]})
        b0 = time.perf_counter()
        if delete_inputs:
            os.unlink(path)
        if k in marks:
            now = time.perf_counter()
            st = proc_status()
            cpu_now = time.process_time()
            row = {"done": k, "of": len(files), "services": services,
                   "seconds": now - started - excluded,
                   "rss_mb": mb(st.get("VmRSS", 0)), "hwm_mb": mb(st.get("VmHWM", 0)),
                   "window_peak_mb": mb(sampler.window()),
                   "window_rate": window_services / max(now - window_start, 1e-9),
                   "window_cpu_per_authority": (cpu_now - window_cpu) / max(window_n, 1),
                   "window_load1": sum(loads[-window_n:]) / max(window_n, 1),
                   "window_written_mb_per_authority": (io_written() - window_io) / 2**20 / max(window_n, 1),
                   "last_authority_s": dt,
                   "store_mb": du(Path(store_dir)) / 2**20}
            result["milestones"].append(row)
            print(f"  ingested {k}/{len(files)} authorities, {services} services, "
                  f"{row['seconds']:.1f} s, RSS {row['rss_mb']:.0f} MB, peak {row['hwm_mb']:.0f} MB, "
                  f"{row['window_rate']:.0f} services/s and {row['window_cpu_per_authority']:.1f} "
                  f"CPU s/authority since last mark, {row['window_written_mb_per_authority']:.0f} MiB "
                  f"written/authority, load {row['window_load1']:.1f}, "
                  f"store {row['store_mb']:.0f} MiB", file=sys.stderr, flush=True)
            window_cpu, window_n, window_io = cpu_now, 0, io_written()
            window_services = 0
        excluded += time.perf_counter() - b0
        if k in marks:
            window_start = time.perf_counter()
    result["seconds"] = time.perf_counter() - started - excluded
    result["mean_load1"] = sum(loads) / max(len(loads), 1)
    sampler.stop()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    result.update(services=services, triples=triples, rejected=rejected,
                  ru_maxrss_mb=ru.ru_maxrss / 1024, hwm_mb=mb(proc_status().get("VmHWM", 0)),
                  cpu=time.process_time() - cpu_started, version=store.version(),
                  written_mb=(io_written() - io_started) / 2**20)
    if profiler:
        import io
        import pstats

        profiler.dump_stats(profile)
        for key in ("cumulative", "tottime"):
            buf = io.StringIO()
            pstats.Stats(profiler, stream=buf).strip_dirs().sort_stats(key).print_stats(15)
            result[f"profile_{key}"] = buf.getvalue()
    Path(result_path).write_text(json.dumps(result))
    store.close()
    return 0


def store_quads(path: Path) -> int:
    """Quads in an Oxigraph database folder (a full scan)."""
    import pyoxigraph as ox

    return len(ox.Store.read_only(str(path)))


class LoadWatch(threading.Thread):
    """The 1-minute load average, sampled every few seconds while something runs: the machine
    may be shared, and wall times are only comparable when the load is similar."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(5):
            self.samples.append(os.getloadavg()[0])

    def stop(self) -> float:
        self._halt.set()
        self.samples.append(os.getloadavg()[0])
        return sum(self.samples) / len(self.samples)


def code_fingerprint() -> dict[str, str]:
    """SHA-256 (12 hex) of the ingest and store sources measured, so figures name their code."""
    import hashlib

    import localoffer.ingest

    import localoffer

    out = {}
    for pkg, pattern in ((Path(localoffer.ingest.__file__).parent, "*.py"),
                         (Path(localoffer.__file__).parent / "store", "*.py")):
        h = hashlib.sha256()
        for f in sorted(pkg.glob(pattern)):
            h.update(f.name.encode() + b"\0" + f.read_bytes())
        out[str(pkg)] = h.hexdigest()[:12]
    return out


def count_lines(path: Path, decompress: list[str] | None = None) -> int:
    if decompress:
        proc = subprocess.Popen(decompress + [str(path)], stdout=subprocess.PIPE)
        fh = proc.stdout
    else:
        fh = open(path, "rb")  # noqa: SIM115
    with fh:
        n = sum(buf.count(b"\n") for buf in iter(lambda: fh.read(1 << 24), b""))
    if decompress:
        proc.wait()
    return n


# -- the driver ------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Ingest benchmark against oxigraph load.")
    ap.add_argument("--authorities", type=int, default=8,
                    help="authorities (default 8: about 3 minutes on 2 idle cores)")
    ap.add_argument("--services", type=int, default=3000, help="services per authority (3000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", type=Path, help="work folder (default: a new folder in /tmp)")
    ap.add_argument("--data", type=Path, help="reuse this folder of {GSS}.json files instead of "
                    "generating (authority = file name)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (data, stores, dump)")
    ap.add_argument("--no-oxigraph", action="store_true", help="skip the dump and the peer")
    ap.add_argument("--low-disk", action="store_true",
                    help="for national runs: delete each generated JSON file once ingested, "
                         "write the dump zstd-compressed, and delete our store before the peer "
                         "loads (peak disk ~ store size instead of store + dump + peer)")
    ap.add_argument("--profile", action="store_true",
                    help="run the ingest under cProfile; print the top 15 functions")
    ap.add_argument("--json", type=Path, help="also write all figures to this JSON file")
    ap.add_argument("--child-ingest", nargs=5, metavar=("STORE", "FILES", "RESULT", "PROFILE", "DELETE"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_ingest:
        store_dir, files, result, prof, delete = args.child_ingest
        return child_ingest(store_dir, files, result, prof or None, delete == "1")

    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    created = args.workdir is None
    work = args.workdir or Path(tempfile.mkdtemp(prefix="localoffer-bench-", dir="/tmp"))
    work.mkdir(parents=True, exist_ok=True)
    oxigraph = shutil.which("oxigraph", path=str(VENV_BIN)) or shutil.which("oxigraph")
    localoffer = shutil.which("localoffer", path=str(VENV_BIN)) or shutil.which("localoffer")
    zstd = shutil.which("zstd")
    if args.low_disk and not args.no_oxigraph and not zstd:
        raise SystemExit("--low-disk needs the zstd command for the compressed dump")
    fig: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "cores": os.cpu_count(),
                 "python": sys.version.split()[0], "code": code_fingerprint(),
                 "args": {k: str(v) for k, v in vars(args).items() if k != "child_ingest"}}
    try:
        # 1. data
        t0 = time.perf_counter()
        if args.data:
            files = [(p.stem.upper(), p) for p in sorted(args.data.glob("*.json"))
                     if p.name != generate.MANIFEST]
            if args.authorities and args.authorities < len(files):
                files = files[: args.authorities]
        else:
            files = generate.generate(work / "data", args.authorities, args.services, args.seed, log=log)
        fig["generate_s"] = time.perf_counter() - t0
        fig["input_mb"] = sum(p.stat().st_size for _, p in files) / 2**20
        log(f"data: {len(files)} files, {fig['input_mb']:.0f} MiB ({fig['generate_s']:.1f} s)")

        # 2. our ingest, in a child process (its RSS is the library's, not the generator's)
        store_dir = work / "store"
        shutil.rmtree(store_dir, ignore_errors=True)
        files_json = work / "files.json"
        files_json.write_text(json.dumps([(c, str(p)) for c, p in files]))
        result_path = work / "ingest-result.json"
        prof_path = work / "ingest.prof" if args.profile else ""
        delete_inputs = args.low_disk and not args.data and not args.keep
        log(f"ingesting {len(files)} authorities into {store_dir} ...")
        watch = LoadWatch()
        watch.start()
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--child-ingest",
                                 str(store_dir), str(files_json), str(result_path), str(prof_path),
                                 "1" if delete_inputs else "0"])
        _, status, ru = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit("the ingest child failed")
        ours = json.loads(result_path.read_text())
        ours["process_seconds"] = time.perf_counter() - started
        ours["load1"] = watch.stop()
        ours["wait4_maxrss_mb"] = ru.ru_maxrss / 1024
        ours["wait4_cpu"] = ru.ru_utime + ru.ru_stime
        version_dir = store_dir / "versions" / ours["version"]
        ours["store_mb"] = du(version_dir) / 2**20
        ours["store_all_versions_mb"] = du(store_dir) / 2**20
        fig["ours"] = ours

        # 3. + 4. the peer
        if not args.no_oxigraph:
            if not oxigraph:
                raise SystemExit("the oxigraph CLI is not installed (pip install oxigraph)")
            dump_cmd = [localoffer, "--store", str(store_dir), "--base-uri", BASE, "dump", "--format", "nq"]
            if args.low_disk:
                dump = work / "dump.nq.zst"
                log(f"dumping the store: localoffer dump --format nq | zstd -1 > {dump} ...")
                fig["dump"] = run_timed(["sh", "-c", " ".join(f"'{a}'" for a in dump_cmd)
                                         + f" | '{zstd}' -1 -q -T1 -o '{dump}'"])
                fig["dump"]["lines"] = count_lines(dump, [zstd, "-dcq"])
            else:
                dump = work / "dump.nq"
                log("dumping the store as N-Quads (localoffer dump --format nq) ...")
                fig["dump"] = run_timed(dump_cmd + ["-o", str(dump)])
                fig["dump"]["lines"] = count_lines(dump)
            fig["dump"]["mb"] = dump.stat().st_size / 2**20
            ours["quads"] = fig["dump"]["lines"]
            if not args.keep and not args.data:
                shutil.rmtree(work / "data", ignore_errors=True)     # disk: JSON no longer needed
            if args.low_disk and not args.keep:
                shutil.rmtree(store_dir, ignore_errors=True)         # measured; free the disk
            peer_dir = work / "oxigraph"
            shutil.rmtree(peer_dir, ignore_errors=True)
            watch = LoadWatch()
            watch.start()
            if args.low_disk:
                # zstd decompresses in its own process (~1 GB/s); wait4 measures oxigraph alone
                log(f"zstd -dc {dump} | oxigraph load --location {peer_dir} --format nq ...")
                unzip = subprocess.Popen([zstd, "-dcq", str(dump)], stdout=subprocess.PIPE)
                t0 = time.perf_counter()
                with open(work / "oxigraph-load.log", "wb") as lf:
                    peer = subprocess.Popen([oxigraph, "load", "--location", str(peer_dir),
                                             "--format", "nq"], stdin=unzip.stdout, stdout=lf,
                                            stderr=subprocess.STDOUT)
                    unzip.stdout.close()
                    _, status, pru = os.wait4(peer.pid, 0)
                unzip.wait()
                if os.waitstatus_to_exitcode(status) != 0:
                    raise SystemExit("oxigraph load failed: "
                                     + (work / "oxigraph-load.log").read_text(errors="replace")[-2000:])
                fig["peer"] = {"seconds": time.perf_counter() - t0, "cpu": pru.ru_utime + pru.ru_stime,
                               "maxrss_mb": pru.ru_maxrss / 1024, "input": "stdin (zstd -dc)"}
            else:
                log(f"oxigraph load --location {peer_dir} --file {dump} ...")
                fig["peer"] = run_timed([oxigraph, "load", "--location", str(peer_dir), "--file", str(dump)],
                                        log_path=work / "oxigraph-load.log")
                fig["peer"]["input"] = "--file"
            fig["peer"]["load1"] = watch.stop()
            fig["peer"]["store_mb"] = du(peer_dir) / 2**20
            log("counting quads in the peer store ...")
            fig["peer"]["quads"] = store_quads(peer_dir)
        report(fig, len(files))
        if args.json:
            args.json.write_text(json.dumps(fig, indent=1, default=str))
        if args.profile:
            print("\n-- cProfile, top 15 by cumulative time --\n" + ours["profile_cumulative"])
            print("-- cProfile, top 15 by own time --\n" + ours["profile_tottime"])
    finally:
        if not args.keep:
            if created:
                shutil.rmtree(work, ignore_errors=True)
            else:
                for name in ("store", "oxigraph", "dump.nq", "dump.nq.zst", "files.json",
                             "ingest-result.json", "ingest.prof", "oxigraph-load.log", "data"):
                    p = work / name
                    if name == "data" and args.data:
                        continue
                    shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
        else:
            log(f"kept {work}")
    return 0


def report(fig: dict, n_files: int) -> None:
    ours = fig["ours"]
    s, n, t, cpu = ours["seconds"], ours["services"], ours["triples"], ours["cpu"]
    auths = ours["authorities"]
    first = auths[: max(1, len(auths) // 10)]
    last = auths[-max(1, len(auths) // 10):]
    mean = lambda rows, k: sum(r[k] for r in rows) / len(rows)  # noqa: E731
    rows = [
        ("authorities x services", f"{n_files} x {n // max(n_files, 1)}"),
        ("services ingested", f"{n:,} ({ours['rejected']} rejected)"),
        ("triples (source graphs)", f"{t:,} ({t / max(n, 1):.1f} per service)"),
        ("input JSON", f"{fig['input_mb']:,.0f} MiB"),
        ("ingest wall time", f"{s:,.1f} s (mean 1-min load {ours['load1']:.1f} on {fig['cores']} cores)"),
        ("  services/s (wall)", f"{n / s:,.0f}"),
        ("  triples/s (wall)", f"{t / s:,.0f}"),
        ("  CPU time (user+sys, all threads)", f"{cpu:,.1f} s ({cpu / s:.2f} cores busy)"),
        ("  services per CPU-second", f"{n / cpu:,.0f}"),
        ("  per authority: first / last 10%", f"{mean(first, 'seconds'):.2f} / "
                                              f"{mean(last, 'seconds'):.2f} s wall, "
                                              f"{mean(first, 'cpu'):.2f} / {mean(last, 'cpu'):.2f} s CPU"),
        ("peak RSS (VmHWM)", f"{ours['hwm_mb']:,.0f} MB"),
        ("peak RSS (ru_maxrss)", f"{ours['ru_maxrss_mb']:,.0f} MB"),
        ("written to disk during ingest", f"{ours.get('written_mb', 0):,.0f} MiB "
                                          f"({ours.get('written_mb', 0) / max(ours['store_mb'], 1):.1f}x "
                                          "the store)"),
        ("store on disk (current version)", f"{ours['store_mb']:,.0f} MiB"),
        ("store folder (all kept versions)", f"{ours['store_all_versions_mb']:,.0f} MiB"),
    ]
    if "peer" in fig:
        p, d = fig["peer"], fig["dump"]
        rows += [
            ("quads: our store / peer store", f"{ours['quads']:,} / {p['quads']:,}"
                                              + ("" if ours["quads"] == p["quads"] else "  MISMATCH")),
            ("dump N-Quads (not in ingest time)", f"{d['seconds']:.1f} s, {d['mb']:,.0f} MiB"),
            ("oxigraph load wall time", f"{p['seconds']:,.1f} s (input {p['input']}, "
                                        f"mean load {p['load1']:.1f})"),
            ("  quads/s (wall)", f"{d['lines'] / p['seconds']:,.0f}"),
            ("  CPU time (user+sys)", f"{p['cpu']:,.1f} s ({p['cpu'] / p['seconds']:.2f} cores busy)"),
            ("  quads per CPU-second", f"{d['lines'] / p['cpu']:,.0f}"),
            ("  peak RSS", f"{p['maxrss_mb']:,.0f} MB"),
            ("  store on disk", f"{p['store_mb']:,.0f} MiB"),
            ("RATIO ours / oxigraph load (wall)", f"{s / p['seconds']:.2f}x"),
            ("RATIO ours / oxigraph load (CPU)", f"{cpu / p['cpu']:.2f}x"),
        ]
    width = max(len(k) for k, _ in rows)
    print(f"\nlocaloffer ingest benchmark — {fig['date']}, {fig['cores']} cores, Python {fig['python']}")
    print(f"code: {', '.join(f'{Path(k).name}={v}' for k, v in fig['code'].items())}")
    print("-" * (width + 40))
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    print("-" * (width + 40))
    print("\nmemory and speed as the store grows (child process, after N authorities):")
    print(f"{'done':>9} {'services':>9} {'elapsed s':>10} {'RSS MB':>7} {'VmHWM MB':>9} "
          f"{'window peak MB':>15} {'svc/s window':>13} {'CPU s/auth window':>18} "
          f"{'MiB written/auth':>17} {'load':>5} {'store MiB':>10}")
    for m in ours["milestones"]:
        print(f"{m['done']:>4}/{m['of']:<4} {m['services']:>9,} {m['seconds']:>10.1f} {m['rss_mb']:>7.0f} "
              f"{m['hwm_mb']:>9.0f} {m['window_peak_mb']:>15.0f} {m['window_rate']:>13,.0f} "
              f"{m['window_cpu_per_authority']:>18.2f} {m.get('window_written_mb_per_authority', 0):>17,.0f} "
              f"{m['window_load1']:>5.1f} {m['store_mb']:>10,.0f}")
    print("\ntargets:")
    rate = n / s
    print(f"  services/s >= {TARGET_RATE:,.0f}: {rate:,.0f} wall, {n / cpu:,.0f} per CPU-second -> "
          f"{'met' if rate >= TARGET_RATE else f'MISSED ({TARGET_RATE / rate:.2f}x too slow on wall time)'}")
    if "peer" in fig:
        ratio, cratio = s / fig["peer"]["seconds"], cpu / fig["peer"]["cpu"]
        print(f"  within {TARGET_RATIO:.0f}x oxigraph load: {ratio:.2f}x wall, {cratio:.2f}x CPU -> "
              f"{'met' if ratio <= TARGET_RATIO else f'MISSED (by {ratio / TARGET_RATIO:.2f}x)'} (wall)")
    hwm = ours["hwm_mb"]
    print(f"  peak RSS < {TARGET_RSS_MB:,.0f} MB: {hwm:,.0f} MB -> "
          f"{'met' if hwm < TARGET_RSS_MB else 'MISSED'} at {n:,} services"
          + ("" if n >= 450_000 else " (the target is for 450,000 services)"))
    ms = ours["milestones"]
    if len(ms) >= 2:
        half = ms[-1]["of"] / 2
        early = max(m["window_peak_mb"] for m in ms if m["done"] <= half) if ms[0]["done"] <= half \
            else ms[0]["window_peak_mb"]
        late = max(m["window_peak_mb"] for m in ms if m["done"] > half)
        print(f"  RSS growth with input size: highest RSS while ingesting the first half "
              f"{early:,.0f} MB, the second half {late:,.0f} MB ({late - early:+,.0f} MB)")


if __name__ == "__main__":
    sys.exit(main())
