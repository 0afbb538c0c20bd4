"""The same ingest, query and publishing behaviour on every store backend: embedded Oxigraph,
`oxigraph serve` and Virtuoso (the remote ones reached over the SPARQL protocols)."""

from __future__ import annotations

import io
import json

import pytest
import rdflib
import requests

from localoffer.errors import IngestError
from localoffer.ingest.pipeline import ingest
from localoffer.querying import run_query

from ..conftest import BASE, SAMPLES
from ..servers import free_port, localoffer_cmd, running

NL = SAMPLES / "north-lincolnshire-services-2024-12.json"
SERVICES = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a <https://schema.org/Service> }"


def _count(store, query=SERVICES) -> int:
    return int(next(iter(store.query(query)))["n"].value)


def test_ingest_query_reingest(backend_store, backend_settings):
    report = ingest(backend_store, backend_settings, str(NL), authority="E06000013")
    assert report.counts["service"] == 738
    assert _count(backend_store) == 738
    version = backend_store.version()
    again = ingest(backend_store, backend_settings, str(NL), authority="E06000013")
    assert again.unchanged and backend_store.version() == version
    graphs = backend_store.named_graphs()
    assert f"{BASE.rstrip('/')}/graph/source/e06000013-json" in graphs
    assert not [g for g in graphs if "/staging/" in g]


def test_replacement_is_whole_and_failure_changes_nothing(backend_store, backend_settings, tmp_path):
    ingest(backend_store, backend_settings, str(NL), authority="E06000013")
    subset = tmp_path / "subset.json"
    subset.write_text(json.dumps(json.loads(NL.read_text())[:100]))
    report = ingest(backend_store, backend_settings, str(subset), authority="E06000013")
    assert report.removed["service"] == 638
    assert _count(backend_store) == 100
    version = backend_store.version()
    broken = tmp_path / "broken.json"
    broken.write_text(subset.read_text()[:5000])
    with pytest.raises(IngestError, match="truncated"):
        ingest(backend_store, backend_settings, str(broken), authority="E06000013")
    assert backend_store.version() == version and _count(backend_store) == 100


def test_query_results_and_dump(backend_store, backend_settings):
    ingest(backend_store, backend_settings, str(NL), authority="E06000013")
    out = io.BytesIO()
    run_query(backend_store, "CONSTRUCT { ?s <https://schema.org/name> ?n } WHERE { "
              "?s a <https://schema.org/Service> ; <https://schema.org/name> ?n }", "ttl", out)
    assert len(rdflib.Graph().parse(data=out.getvalue(), format="turtle")) == 738
    dump = io.BytesIO()
    backend_store.dump(dump, "nq")
    ds = rdflib.Dataset()
    ds.parse(data=dump.getvalue(), format="nquads")
    graphs = {str(q[3]) for q in ds.quads((None, None, None, None))}
    assert f"{BASE.rstrip('/')}/graph/source/e06000013-json" in graphs


@pytest.mark.server
def test_publisher_serves_any_backend(backend_store, backend_settings, tmp_path):
    ingest(backend_store, backend_settings, str(NL), authority="E06000013")
    port = free_port()
    env = {"LOCALOFFER_STORE": backend_settings.store, "LOCALOFFER_BASE_URI": BASE,
           "LOCALOFFER_STORE_KIND": str(backend_settings.extra.get("store_kind", "")),
           "LOCALOFFER_INDEX_CACHE": str(tmp_path / "index-cache")}
    if not env["LOCALOFFER_STORE_KIND"]:
        del env["LOCALOFFER_STORE_KIND"]
    with running(localoffer_cmd("serve", "--port", str(port)), f"http://127.0.0.1:{port}/",
                 env=env, log=tmp_path / "serve.log"):
        r = requests.get(f"http://127.0.0.1:{port}/sparql", params={"query": SERVICES},
                         headers={"Accept": "application/sparql-results+json"}, timeout=30)
        assert r.status_code == 200, r.text
        assert r.json()["results"]["bindings"][0]["n"]["value"] == "738"
        page = requests.get(f"http://127.0.0.1:{port}/", headers={"Accept": "application/json"}, timeout=30)
        assert page.json()["authorities"][0]["services"] == 738



def test_an_authoritys_slice_for_validation_is_the_same_on_every_backend(backend_store, backend_settings,
                                                                        tmp_path):
    """The general way of cutting an authority's slice (no per-graph bookkeeping to rely on,
    as after a harvest) differs per backend: Virtuoso answers the property-path CONSTRUCT with
    nothing, so it is walked in rounds there. The slice must equal the embedded store's."""
    from localoffer.config import load_settings
    from localoffer.store import open_store
    from localoffer.validation.core import data_graphs
    from localoffer.validation.focus import extract

    def slice_of(store, settings) -> tuple[set[str], set[tuple[str, str, str]]]:
        scope = extract(store, settings, "E06000013", data_graphs(store, settings), None)
        triples = {(str(t.subject), str(t.predicate), str(t.object)) for ts in scope.out.values() for t in ts}
        return set(scope.records), triples

    ingest(backend_store, backend_settings, str(NL), authority="E06000013")
    embedded = load_settings({"store": str(tmp_path / "embedded"), "base_uri": BASE}, environ={})
    reference = open_store(embedded)
    ingest(reference, embedded, str(NL), authority="E06000013")
    records, triples = slice_of(reference, embedded)
    reference.close()
    assert len(records) > 738 and len(triples) > 10_000
    assert slice_of(backend_store, backend_settings) == (records, triples)


def test_loading_nothing_is_a_no_op(backend_store, tmp_path):
    """A write with nothing to add (an incremental validation report with no new result) works
    on every backend, and replacing a graph with nothing empties it."""
    g = f"{BASE.rstrip('/')}/graph/test/empty"
    nt = tmp_path / "a.nt"
    nt.write_text('<http://x/a> <http://x/p> "a" .\n', encoding="utf-8")
    with backend_store.write() as w:
        w.replace_graph(g, nt)
    with backend_store.write() as w:
        w.load(g, b"", "nt")
        w.load(g, b"\n", "nt")
    assert backend_store.count(g) == 1
    empty = tmp_path / "empty.nt"
    empty.write_bytes(b"")
    with backend_store.write() as w:
        w.replace_graph(g, empty)
    assert backend_store.count(g) == 0


def test_a_large_validation_cache_is_kept_in_parts_on_every_backend(backend_store, backend_settings):
    """A remote store keeps the incremental-validation cache in its metadata graph: a 3,000-
    service authority's is MB long, and Virtuoso refuses literals of 100,000 characters."""
    from localoffer import namespaces as ns
    from localoffer.validation import cache as vcache

    text = "".join(f"{i:08x}" for i in range(40_000))  # 320,000 characters
    meta = ns.graph_iri(backend_settings.base, "meta")
    statements = vcache.as_ntriples(backend_settings, "E06000013", text)
    assert statements.count(b"\n") == -(-len(text) // vcache.PART) > 1
    with backend_store.write() as w:
        w.load(meta, statements, "nt")
    rows = list(backend_store.select(
        f"SELECT ?c WHERE {{ GRAPH <{meta}> {{ <{vcache.cache_subject(backend_settings, 'E06000013')}> "
        f"<{ns.LO}validationCache> ?c }} }}"))
    assert vcache._joined([r["c"].value for r in rows]) == text
    assert vcache._joined([r["c"].value for r in rows][1:]) is None  # a part missing: no cache
