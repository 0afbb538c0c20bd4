"""Shared parts of the serving benchmarks (serve.py, site.py, national.py): a synthetic store,
the servers under test started as real processes on 127.0.0.1, load from `wrk` in a separate
process, and the servers' memory.

Load generator: `wrk` (Debian package `wrk`), 16 connections, with a Lua script that picks a
random request from a list for every request and prints its figures as JSON when it ends.
Latency percentiles are wrk's (measured per request, from send to last byte).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from tests.servers import free_port, running  # noqa: E402

BASE = "https://localoffer.bench/"
SCHEMA = "https://schema.org/"
LO = "https://w3id.org/localoffer/def#"
VENV_BIN = Path(sys.executable).parent


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_args(ap, *, authorities: int, workdir: str) -> None:
    """The options every serving benchmark shares: the data set, the server, the load."""
    ap.add_argument("--authorities", type=int, default=authorities)
    ap.add_argument("--services", type=int, default=3000, help="services per authority")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", type=Path, default=Path(workdir),
                    help="where the data and the store are built (and reused)")
    ap.add_argument("--duration", type=int, default=20, help="seconds of load per workload")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers of localoffer serve")
    ap.add_argument("--threads", type=int, default=4, help="threads per worker")
    ap.add_argument("--isolation", choices=("process", "worker"), default="worker",
                    help="LOCALOFFER_QUERY_ISOLATION of localoffer serve")
    ap.add_argument("--json", type=Path, help="also write the figures here")


# -- data ------------------------------------------------------------------------------------
def build_store(work: Path, authorities: int, services: int, seed: int = 1) -> Path:
    """The embedded store of the synthetic data set in *work*, generated and ingested unless a
    store of the same size and seed is already there. Returns the store folder."""
    import generate  # bench/generate.py
    from localoffer.ingest.pipeline import ingest

    from localoffer.config import load_settings
    from localoffer.store import open_store

    store_dir, marker = work / "store", work / "store.json"
    wanted = {"authorities": authorities, "services": services, "seed": seed, "base": BASE}
    if marker.exists() and (store_dir / "CURRENT").exists():
        done = json.loads(marker.read_text())
        if {k: done.get(k) for k in wanted} == wanted:
            log(f"reusing the store in {store_dir} ({authorities} x {services} services)")
            compact_if_due(store_dir)
            return store_dir
    shutil.rmtree(store_dir, ignore_errors=True)
    files = generate.generate(work / "data", authorities, services, seed, log=log)
    settings = load_settings({"store": str(store_dir), "base_uri": BASE}, environ={})
    store = open_store(settings)
    started = time.perf_counter()
    for n, (code, path) in enumerate(files, 1):
        ingest(store, settings, str(path), authority=code)
        if n % 10 == 0 or n == len(files):
            log(f"  ingested {n}/{len(files)} authorities ({time.perf_counter() - started:.0f} s)")
    store.close()
    marker.write_text(json.dumps({**wanted, "ingest_s": time.perf_counter() - started}))
    compact_if_due(store_dir)
    return store_dir


def compact_if_due(store_dir: Path) -> None:
    """What `localoffer ingest` does after a load: compact the store when due (a bulk load
    through the library, as here, leaves that to its caller)."""
    from localoffer.store.embedded import EmbeddedStore

    done = EmbeddedStore(store_dir).compact(if_due=True)
    if done is not None:
        log(done.describe())


def version_dir(store_dir: Path) -> Path:
    """The Oxigraph database folder of the published version (what `oxigraph serve` opens)."""
    return store_dir / "versions" / (store_dir / "CURRENT").read_text().strip()


def open_reader(store_dir: Path):  # noqa: ANN201
    from localoffer.config import load_settings
    from localoffer.store import open_store

    return open_store(load_settings({"store": str(store_dir), "base_uri": BASE}, environ={}))


@dataclass
class Sample:
    """Things to ask for, drawn from the store: services, and listing filters that match."""

    services: list[str] = field(default_factory=list)
    authority_of: dict[str, str] = field(default_factory=dict)  # service -> GSS code
    listings: list[tuple[str, str, int]] = field(default_factory=list)  # authority, term, age
    words: list[str] = field(default_factory=list)

    def ids(self) -> list[str]:
        return [s.rsplit("/", 1)[1] for s in self.services]


def sample(store_dir: Path, n: int = 2000, seed: int = 5) -> Sample:
    store = open_reader(store_dir)
    rng = random.Random(seed)
    rows = list(store.query(
        f"SELECT ?s ?a WHERE {{ ?s a <{SCHEMA}Service> ; <{LO}localAuthority> ?a }} LIMIT 200000"))
    picked = rng.sample(rows, min(n, len(rows)))
    services = [r["s"].value for r in picked]
    authority_of = {r["s"].value: r["a"].value.rsplit("/", 1)[1] for r in picked}
    combos = list(store.query(
        f"SELECT DISTINCT ?a ?need WHERE {{ ?s a <{SCHEMA}Service> ; <{LO}localAuthority> ?a ; "
        f"<{SCHEMA}category> ?need }} LIMIT 5000"))
    listings = [(r["a"].value, r["need"].value, rng.choice([3, 8, 12, 16, 19]))
                for r in rng.sample(combos, min(300, len(combos)))]
    names = list(store.query(
        f"SELECT ?name WHERE {{ ?s a <{SCHEMA}Service> ; <{SCHEMA}name> ?name }} LIMIT 20000"))
    words = sorted({w.lower() for r in names for w in r["name"].value.split()
                    if w.isalpha() and len(w) > 4})
    store.close()
    return Sample(services, authority_of, listings, rng.sample(words, min(200, len(words))))


def lookup_query(service: str) -> str:
    """(a) one service's triples."""
    return f"CONSTRUCT {{ <{service}> ?p ?o }} WHERE {{ <{service}> ?p ?o }}"


def listing_query(authority: str, need: str, age: int) -> str:
    """(b) services of one authority for one need and age, sorted by name, 50 rows. The need
    is one of the authority's taxonomy terms (schema:category): the synthetic feeds, like
    the real ones, tag services with their own terms rather than with our need concepts.
    The most selective pattern comes first, as a client would write it (Oxigraph keeps the
    written order of patterns that are equally bound)."""
    return (f"SELECT ?service ?name ?min ?max WHERE {{ ?service <{SCHEMA}category> <{need}> . "
            f"?service <{LO}localAuthority> <{authority}> . ?service a <{SCHEMA}Service> ; "
            f"<{SCHEMA}name> ?name ; <{SCHEMA}audience> ?aud . "
            f"OPTIONAL {{ ?aud <{SCHEMA}suggestedMinAge> ?min }} "
            f"OPTIONAL {{ ?aud <{SCHEMA}suggestedMaxAge> ?max }} "
            f"FILTER (COALESCE(?min, 0) <= {age} && COALESCE(?max, 25) >= {age}) }} "
            f"ORDER BY ?name ?service LIMIT 50")


def sparql_get(path: str, query: str, accept: str) -> tuple[str, str, dict[str, str]]:
    return ("GET", f"{path}?{urlencode({'query': query})}", {"Accept": accept})


# -- servers ---------------------------------------------------------------------------------
@dataclass
class Server:
    name: str
    url: str      # scheme://host:port
    sparql: str   # path of its SPARQL endpoint
    pid: int

    def memory_mb(self) -> tuple[float, float]:
        """(RSS summed over the process group, PSS summed: shared pages counted once)."""
        rss = pss = 0
        for pid in _group(self.pid):
            try:
                text = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                continue
            for line in text.splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        return rss / 1024, pss / 1024


def _group(leader: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == leader:
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


class PeakMemory(threading.Thread):
    """Samples a server's memory every 0.2 s while a load runs; keeps the peaks."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server, self.rss, self.pss, self._halt = server, 0.0, 0.0, threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            rss, pss = self.server.memory_mb()
            self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)
            self._halt.wait(0.2)

    def stop(self) -> tuple[float, float]:
        self._halt.set()
        self.join()
        return self.rss, self.pss


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(server: Server) -> dict[str, float]:
    """CPU seconds used so far by the server's processes, by kind: `query` (the killable query
    processes and their forkserver), `web` (everything else in the process group)."""
    out = {"web": 0.0, "query": 0.0}
    for pid in _group(server.pid):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        kind = "query" if b"multiprocessing" in cmd or b"forkserver" in cmd else "web"
        out[kind] += (int(stat[11]) + int(stat[12])) / TICKS
    return out


def quiet(server: Server, *, idle: float = 0.05, window: float = 1.0, limit: float = 300.0) -> float:
    """Wait until the server's start-up work is done (its workers read a version's search sets
    in the background, seconds of CPU at scale): less than *idle* CPU seconds over *window*.
    Returns the seconds waited; the load that follows then measures requests only."""
    started = time.monotonic()
    last = sum(cpu_seconds(server).values())
    while time.monotonic() - started < limit:
        time.sleep(window)
        now = sum(cpu_seconds(server).values())
        if now - last < idle:
            break
        last = now
    return time.monotonic() - started


@contextmanager
def localoffer_server(store_dir: Path | str, work: Path, workers: int = 2, threads: int = 4,
                      env: dict[str, str] | None = None, isolation: str = "worker") -> Iterator[Server]:
    port = free_port()
    cmd = [sys.executable, "-m", "localoffer", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers), "--threads", str(threads)]
    environ = {"LOCALOFFER_STORE": str(store_dir), "LOCALOFFER_BASE_URI": BASE,
               "LOCALOFFER_QUERY_ISOLATION": isolation, **(env or {})}
    url = f"http://127.0.0.1:{port}"
    with running(cmd, url + "/", env=environ, log=work / "localoffer-serve.log", timeout=120) as proc:
        server = Server("localoffer serve", url, "/sparql", proc.pid)
        log(f"localoffer serve settled after {quiet(server):.1f} s")
        yield server


@contextmanager
def oxigraph_server(store_dir: Path, work: Path) -> Iterator[Server]:
    """`oxigraph serve-read-only` on the very database our store published (same bytes)."""
    binary = shutil.which("oxigraph", path=str(VENV_BIN)) or shutil.which("oxigraph")
    if binary is None:
        raise SystemExit("oxigraph is missing: pip install oxigraph (or `make bench`)")
    port = free_port()
    cmd = [binary, "serve-read-only", "--location", str(version_dir(store_dir)),
           "--bind", f"127.0.0.1:{port}", "--union-default-graph"]
    url = f"http://127.0.0.1:{port}"
    with running(cmd, url + "/", log=work / "oxigraph-serve.log", timeout=120) as proc:
        yield Server("oxigraph serve", url, "/query", proc.pid)


@contextmanager
def rdflib_server(ntriples: Path, work: Path) -> Iterator[Server]:
    """rdflib-endpoint serving an N-Triples file from memory (rdflib's own engine)."""
    binary = shutil.which("rdflib-endpoint", path=str(VENV_BIN)) or shutil.which("rdflib-endpoint")
    if binary is None:
        raise SystemExit("rdflib-endpoint is missing: pip install rdflib-endpoint (or `make bench`)")
    port = free_port()
    cmd = [binary, "serve", str(ntriples), "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with running(cmd, url + "/", log=work / "rdflib-endpoint.log", timeout=900) as proc:
        yield Server("rdflib-endpoint", url, "/", proc.pid)


def dump_authorities(store_dir: Path, authorities: Sequence[str], out: Path) -> int:
    """N-Triples of the source graphs of the given authority codes; returns the triple count."""
    store = open_reader(store_dir)
    graphs = [g for g in store.named_graphs()
              if any(g.endswith(f"/graph/source/{a.lower()}-json") for a in authorities)]
    graphs.append(BASE + "graph/def")
    with open(out, "wb") as fh:
        for g in graphs:
            store.dump(fh, "nt", graph=g)
    store.close()
    with open(out, "rb") as fh:
        return sum(1 for _ in fh)


# -- load ------------------------------------------------------------------------------------
_LUA = """
local reqs = {
%s
}
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) %% 100000)
request = function()
  local r = reqs[math.random(#reqs)]
  return wrk.format(r[1], r[2], r[3], nil)
end
done = function(summary, latency, requests)
  io.write(string.format(
    'WRKJSON {"requests": %%d, "duration_us": %%d, "connect": %%d, "read": %%d, "write": %%d, ' ..
    '"status": %%d, "timeout": %%d, "p50": %%d, "p90": %%d, "p99": %%d, "max": %%d, "mean": %%f}\\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
"""


def _lua_string(text: str) -> str:
    level = "=" * 4
    assert f"]{level}]" not in text
    return f"[{level}[{text}]{level}]"


def wrk(server: Server, requests: Sequence[tuple[str, str, dict[str, str]]], *,
        connections: int = 16, duration: int = 20, threads: int = 2,
        timeout: int = 10) -> dict[str, float]:
    """Load *server* with random picks from *requests* for *duration* seconds."""
    binary = shutil.which("wrk")
    if binary is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    rows = []
    for method, path, headers in requests:
        hdrs = ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in headers.items())
        rows.append(f"  {{{_lua_string(method)}, {_lua_string(path)}, {{{hdrs}}}}},")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(_LUA % "\n".join(rows))
        script = fh.name
    watch = PeakMemory(server)
    watch.start()
    try:
        proc = subprocess.run([binary, "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
                               "--timeout", f"{timeout}s", "-s", script, server.url],
                              capture_output=True, text=True, timeout=duration + 120)
    finally:
        rss, pss = watch.stop()
        os.unlink(script)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}")
    r = json.loads(line.removeprefix("WRKJSON "))
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    return {"rps": r["requests"] / (r["duration_us"] / 1e6), "requests": r["requests"],
            "p50_ms": r["p50"] / 1000, "p90_ms": r["p90"] / 1000, "p99_ms": r["p99"] / 1000,
            "max_ms": r["max"] / 1000, "errors": errors, "non2xx": r["status"],
            "rss_mb": rss, "pss_mb": pss}


def check_answers(server: Server, requests: Sequence[tuple[str, str, dict[str, str]]],
                  n: int = 5) -> None:
    """Before loading a server, make sure its answers are real (200 with a body)."""
    import requests as http

    for method, path, headers in list(requests)[:n]:
        r = http.request(method, server.url + path, headers=headers, timeout=60)
        if r.status_code != 200 or not r.content:
            raise RuntimeError(f"{server.name} answered {r.status_code} to {path[:120]}: {r.text[:300]}")


def row(label: str, fig: dict[str, float]) -> str:
    return (f"  {label:<42} {fig['rps']:>9,.0f} req/s  p50 {fig['p50_ms']:>7.1f} ms  "
            f"p99 {fig['p99_ms']:>7.1f} ms  errors {fig['errors']:>4}  "
            f"RSS {fig['rss_mb']:>6,.0f} MB (PSS {fig['pss_mb']:,.0f})")


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"
