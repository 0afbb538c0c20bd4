"""Starting real server processes on 127.0.0.1 for tests, and waiting until they answer."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(cmd: Sequence[str], url: str, *, env: dict[str, str] | None = None,
            log: Path | None = None, timeout: float = 30.0) -> Iterator[subprocess.Popen[bytes]]:
    """Run *cmd* until the block ends; wait until *url* answers (any HTTP status)."""
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(list(cmd), env={**os.environ, **(env or {})}, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                text = log.read_text(errors="replace") if log else ""
                raise RuntimeError(f"{cmd[0]} exited with {proc.returncode} before answering:\n{text}")
            try:
                requests.get(url, timeout=1)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} did not answer within {timeout}s") from None
                time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log:
            out.close()  # type: ignore[union-attr]


@contextmanager
def serving_north_lincolnshire(folder: Path, *serve_args: str,
                               ready_path: str = "/") -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`localoffer serve *serve_args*` on a free port over a store holding the North
    Lincolnshire sample feed (738 services): the process and its base URL."""
    from localoffer.ingest.pipeline import ingest

    from localoffer.config import load_settings
    from localoffer.store import open_store

    from .conftest import BASE, SAMPLES

    store_dir = folder / "store"
    settings = load_settings({"store": str(store_dir), "base_uri": BASE}, environ={})
    ingest(open_store(settings), settings, str(SAMPLES / "north-lincolnshire-services-2024-12.json"),
           authority="E06000013")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"LOCALOFFER_STORE": str(store_dir), "LOCALOFFER_BASE_URI": BASE}
    with running(localoffer_cmd("serve", "--port", str(port), *serve_args), url + ready_path,
                 env=env, log=folder / "serve.log") as proc:
        yield proc, url


def localoffer_cmd(*args: str) -> list[str]:
    """The localoffer CLI of this interpreter."""
    return [sys.executable, "-m", "localoffer", *args]


VIRTUOSO_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")


@contextmanager
def virtuoso_process(folder: Path, *, buffers: int | None = None, max_rows: int = 0, max_time: int = 0,
                     cost_limit: int = 0, after_image: int | None = None) -> Iterator[str]:
    """Run Virtuoso with its database in *folder* on free loopback ports; yields its /sparql
    URL. SPARQL updates and the Graph Store Protocol are opened to the anonymous SPARQL user
    (loopback only). *buffers* sets NumberOfBuffers (8 KB pages; the packaged default suits
    a few million triples; the national benchmark gives it more). *max_rows*, *max_time* and
    *cost_limit* (ResultSetMaxRows, MaxQueryExecutionTime, MaxQueryCostEstimationTime) are off
    unless a test wants to see what a store left with them does. *after_image* sets
    TransactionAfterImageLimit (bytes; Virtuoso's default is 50 MB)."""
    binary = shutil.which("virtuoso-t") or "virtuoso-t"
    sql_port, http_port = free_port(), free_port()
    ini = VIRTUOSO_INI.read_text()
    ini = ini.replace("/var/lib/virtuoso-opensource-7/db", str(folder))
    ini = re.sub(r"(?m)^ServerPort(\s*)=\s*1111$", f"ServerPort\\1= 127.0.0.1:{sql_port}", ini)
    ini = re.sub(r"(?m)^ServerPort(\s*)=\s*8890$", f"ServerPort\\1= 127.0.0.1:{http_port}", ini)
    # kind: Virtuoso silently cuts every answer at ResultSetMaxRows (10,000 in Debian's
    # ini), CONSTRUCTs of a whole graph included; a store behind localoffer needs it unlimited.
    ini = re.sub(r"(?m)^ResultSetMaxRows\s*=.*$", f"ResultSetMaxRows = {max_rows}", ini)
    # kind: Virtuoso also refuses a query whose *estimated* time exceeds
    # MaxQueryCostEstimationTime (400 s in Debian's ini); its estimates for small graphs it has
    # just been given run to hours, so the estimate must not be a reason to refuse.
    ini = re.sub(r"(?m)^MaxQueryCostEstimationTime\s*=.*$", f"MaxQueryCostEstimationTime = {cost_limit}", ini)
    # kind: Virtuoso stops any SPARQL request, updates included, after MaxQueryExecutionTime
    # (60 s in Debian's ini) with "SR171: Transaction timed out"; replacing a large graph (a
    # validation report of tens of thousands of services) takes longer. localoffer bounds
    # its reads itself (LOCALOFFER_QUERY_TIMEOUT, LOCALOFFER_HTTP_TIMEOUT).
    ini = re.sub(r"(?m)^MaxQueryExecutionTime\s*=.*$", f"MaxQueryExecutionTime = {max_time}", ini)
    if after_image is not None:
        # kind: one update (a graph replaced: DROP, then ADD of the staging graph) must fit
        # Virtuoso's transaction log limit, 50 MB unless set; a validation report of 30,000
        # services does not.
        ini = ini.replace("[Parameters]\n", f"[Parameters]\nTransactionAfterImageLimit = {after_image}\n", 1)
    if buffers:
        ini = re.sub(r"(?m)^NumberOfBuffers\s*=.*$", f"NumberOfBuffers = {buffers}", ini)
        ini = re.sub(r"(?m)^MaxDirtyBuffers\s*=.*$", f"MaxDirtyBuffers = {buffers * 3 // 4}", ini)
    (folder / "virtuoso.ini").write_text(ini)
    cmd = [binary, "+foreground", "+configfile", str(folder / "virtuoso.ini")]
    url = f"http://127.0.0.1:{http_port}/sparql"
    with running(cmd, url, log=folder / "virtuoso.log", timeout=120):
        _wait_for_sparql(url)
        grants = ('GRANT SPARQL_UPDATE TO "SPARQL"; '
                  "DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 7);")
        isql = shutil.which("isql-vt") or "isql-vt"
        subprocess.run([isql, f"127.0.0.1:{sql_port}", "dba", "dba", f"exec={grants}"],
                       check=True, capture_output=True, timeout=60)
        yield url


def _wait_for_sparql(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, params={"query": "ASK {}"}, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"Virtuoso at {url} did not answer SPARQL within {timeout}s")
