"""Real SPARQL stores for the backend-parametrized tests: `oxigraph serve` (PyPI) and Virtuoso
(Debian's virtuoso-opensource), each started on 127.0.0.1 by the fixtures."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from .conftest import BASE, require_system
from .servers import VIRTUOSO_INI, free_port, running, virtuoso_process


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
