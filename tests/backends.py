"""Real SPARQL stores for the backend-parametrized tests: `oxigraph serve` (PyPI) and Virtuoso
(Debian's virtuoso-opensource), each started on 127.0.0.1 by the fixtures."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from .conftest import BASE, require_system
from .servers import free_port, running

VIRTUOSO_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")


def oxigraph_binary() -> str | None:
    candidate = Path(sys.executable).parent / "oxigraph"
    return str(candidate) if candidate.exists() else shutil.which("oxigraph")


@pytest.fixture(scope="session")
def oxigraph_url(tmp_path_factory) -> Iterator[str]:
    """An `oxigraph serve` process on a free port; yields the store URL for LOCALOFFER_STORE."""
    binary = oxigraph_binary()
    require_system("oxigraph (PyPI package 'oxigraph')", binary is not None, "pip install oxigraph")
    port = free_port()
    tmp = tmp_path_factory.mktemp("oxigraph")
    cmd = [str(binary), "serve", "--location", str(tmp / "db"), "--bind", f"127.0.0.1:{port}"]
    with running(cmd, f"http://127.0.0.1:{port}/", log=tmp / "oxigraph.log"):
        yield f"sparql+http://127.0.0.1:{port}/query"


@pytest.fixture(scope="session")
def virtuoso_url(tmp_path_factory) -> Iterator[str]:
    """A Virtuoso server with its own database folder on free ports; yields the store URL."""
    binary = shutil.which("virtuoso-t")
    require_system("Virtuoso (Debian package virtuoso-opensource)",
                   binary is not None and VIRTUOSO_INI.exists(), "apt-get install virtuoso-opensource")
    with virtuoso_process(tmp_path_factory.mktemp("virtuoso")) as url:
        yield f"sparql+{url}"


@contextmanager
def virtuoso_process(folder: Path, *, buffers: int | None = None) -> Iterator[str]:
    """Run Virtuoso with its database in *folder* on free loopback ports; yields its /sparql
    URL. SPARQL updates and the Graph Store Protocol are opened to the anonymous SPARQL user
    (loopback only). *buffers* sets NumberOfBuffers (8 KB pages; the packaged default suits
    a few million triples; the national benchmark gives it more)."""
    binary = shutil.which("virtuoso-t") or "virtuoso-t"
    sql_port, http_port = free_port(), free_port()
    ini = VIRTUOSO_INI.read_text()
    ini = ini.replace("/var/lib/virtuoso-opensource-7/db", str(folder))
    ini = re.sub(r"(?m)^ServerPort(\s*)=\s*1111$", f"ServerPort\\1= 127.0.0.1:{sql_port}", ini)
    ini = re.sub(r"(?m)^ServerPort(\s*)=\s*8890$", f"ServerPort\\1= 127.0.0.1:{http_port}", ini)
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


def clear_test_graphs(store_url: str, kind: str) -> None:
    """Remove every graph under the tests' base IRI, so each test starts empty."""
    query_url = store_url.removeprefix("sparql+")
    update_url = query_url.rsplit("/", 1)[0] + "/update" if kind == "oxigraph" else query_url
    rows = requests.post(query_url, data={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"},
                         headers={"Accept": "application/sparql-results+json"}, timeout=30).json()
    graphs = [b["g"]["value"] for b in rows["results"]["bindings"] if b["g"]["value"].startswith(BASE)]
    if graphs:
        body = " ; ".join(f"DROP SILENT GRAPH <{g}>" for g in graphs)
        requests.post(update_url, data={"update": body}, timeout=60).raise_for_status()
