"""Validation in focus sets (parallel worker processes) keeps pySHACL's semantics, and
incremental runs give what a full run gives.

* Both real council feeds (with Bristol's complete authority profile, so the authority-wide
  rules run too): the focus-set result equals one whole-graph pySHACL run, result for result.
* A sample of both feeds: the same against plain pySHACL on an rdflib graph (rdflib's SPARQL
  engine, no Oxigraph), which is too slow for the whole feeds in a test.
* Incremental: after a service changes, is added or removed, only those records (and what
  links to them) are re-validated, the result equals a full run's, and the stored report
  equals the one a full run stores."""

from __future__ import annotations

import json

import pyshacl
import pytest
import rdflib
from localoffer.ingest.pipeline import ingest
from rdflib.namespace import RDF, SH

from localoffer import namespaces as ns
from localoffer.config import load_settings
from localoffer.store import open_store
from localoffer.validation import load_shapes, publish_report, render_path, validate, validate_store
from localoffer.validation.focus import extract

from ..conftest import BASE, SAMPLES

FEEDS = {
    "E06000023": SAMPLES / "bristol-services-2024-12.json",
    "E06000013": SAMPLES / "north-lincolnshire-services-2024-12.json",
}
PROFILE = SAMPLES / "profiles" / "example-complete.yaml"


def _store(tmp_path, feeds: dict[str, object], *, profile: bool = True):
    """A store with *feeds* ingested, and Bristol's complete profile unless *profile* is False."""
    settings = load_settings({"store": str(tmp_path / "store"), "base_uri": BASE}, environ={})
    store = open_store(settings)
    for code, feed in feeds.items():
        ingest(store, settings, str(feed), authority=code)
    if profile:
        ingest(store, settings, str(PROFILE), authority="E06000023")
    return store, settings


def _rows(result) -> set[tuple[str, str, str, str]]:
    return {(f.focus, f.shape, f.path or "", f.severity) for f in result.findings}


def _plain_rows(report: rdflib.Graph) -> set[tuple[str, str, str, str]]:
    out = set()
    for r in report.subjects(RDF.type, SH.ValidationResult):
        path = report.value(r, SH.resultPath)
        out.add(
            (
                str(report.value(r, SH.focusNode)),
                str(report.value(r, SH.sourceShape)),
                render_path(report, path) if path is not None else "",
                str(report.value(r, SH.resultSeverity)).rsplit("#", 1)[-1],
            )
        )
    return out


@pytest.fixture(scope="module")
def both_feeds(tmp_path_factory):
    store, settings = _store(tmp_path_factory.mktemp("focus"), FEEDS)
    yield store, settings
    store.close()


@pytest.mark.parametrize("code", FEEDS)
def test_focus_sets_in_parallel_equal_one_whole_graph_run(both_feeds, code):
    store, settings = both_feeds
    ours = validate_store(store, settings, authority=code, workers=2, batch_size=150, incremental=False)
    assert ours.stats["mode"] == "full"
    scope = extract(store, settings, code, [g for g in store.named_graphs() if "/graph/source/" in g])
    triples = [t for ts in scope.out.values() for t in ts]
    from localoffer.validation.core import _QueryGraph

    whole = validate(_QueryGraph.from_oxigraph(triples), authority=code)
    assert _rows(ours) == _rows(whole)
    assert ours.counts == whole.counts and len(ours.findings) == len(whole.findings)
    assert ours.records == whole.records
    if code == "E06000023":  # the authority-wide rules ran on the profile's Local Offer
        assert ours.records["local_offers"] == 1
        assert any(f.shape.endswith("#LocalOffer-provision-records") for f in ours.findings) is False


def test_a_sample_equals_plain_pyshacl(tmp_path):
    """First 40 services of each feed, with the profile: our focus sets against pySHACL on a
    plain rdflib graph (its own SPARQL engine)."""
    feeds = {}
    for code, feed in FEEDS.items():
        part = tmp_path / f"{code}.json"
        part.write_text(json.dumps(json.loads(feed.read_text(encoding="utf-8"))[:40]), encoding="utf-8")
        feeds[code] = part
    store, settings = _store(tmp_path, feeds)
    try:
        for code in FEEDS:
            ours = validate_store(
                store, settings, authority=code, workers=2, batch_size=15, incremental=False
            )
            scope = extract(store, settings, code, [g for g in store.named_graphs() if "/graph/source/" in g])
            plain = rdflib.Graph()
            plain.parse(
                data=b"".join(
                    __import__("pyoxigraph").serialize(
                        ts, format=__import__("pyoxigraph").RdfFormat.N_TRIPLES
                    )
                    for ts in scope.out.values()
                ),
                format="nt",
            )
            _, report, _ = pyshacl.validate(
                plain, shacl_graph=load_shapes(), advanced=True, inference="none", allow_warnings=True
            )
            assert _rows(ours) == _plain_rows(report), code
            assert len(ours.findings) > 40
    finally:
        store.close()


def _edit(feed, tmp_path, name: str, change) -> object:
    records = json.loads(feed.read_text(encoding="utf-8"))
    records = change(records)
    path = tmp_path / name
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def test_incremental_runs_equal_full_runs(tmp_path):
    code = "E06000013"
    feed = FEEDS[code]
    store, settings = _store(tmp_path, {code: feed})
    graph = ns.graph_iri(settings.base, "validation", code)
    try:
        first = validate_store(store, settings, authority=code, workers=1)
        assert first.stats["mode"] == "full"
        publish_report(store, settings, first)
        again = validate_store(store, settings, authority=code, workers=1)
        assert again.stats["mode"] == "incremental" and again.stats["revalidated"] == 0
        assert _rows(again) == _rows(first)

        def change(records):
            records[3]["url"] = "not a web address"
            records[5]["organization"]["url"] = "also wrong"  # an organisation: its services follow
            del records[7]
            records.append(
                {**records[0], "id": "9d3f0000-0000-4000-8000-000000000001", "name": "New service"}
            )
            return records

        ingest(
            store,
            settings,
            str(_edit(feed, tmp_path, "changed.json", change)),
            authority=code,
            source_id=f"{code.lower()}-json",
        )
        incremental = validate_store(store, settings, authority=code, workers=2, batch_size=5)
        full = validate_store(store, settings, authority=code, workers=1, incremental=False)
        assert incremental.stats["mode"] == "incremental"
        assert 3 <= incremental.stats["revalidated"] < full.records["services"] // 2
        assert _rows(incremental) == _rows(full) != _rows(first)
        assert incremental.completeness == full.completeness
        assert incremental.records == full.records
        assert any(f.value == "not a web address" for f in incremental.findings)

        publish_report(store, settings, incremental)
        stored = _graph(store, graph)
        publish_report(store, settings, full)
        assert _graph(store, graph) == stored  # the same results, verdict and measurements
    finally:
        store.close()


def _graph(store, graph: str) -> set[tuple[str, str, str]]:
    rows = store.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return {
        (str(r["s"]), str(r["p"]), str(r["o"]))
        for r in rows
        if not str(r["p"]).endswith(("/created>", "/date>"))
    }


def test_the_cache_is_trusted_only_on_the_same_day_shapes_and_sources():
    from localoffer.validation.cache import Cache, State, plan

    state = State(day="2026-11-30", shapes="s1", graphs=["g"], digests={"a": "1", "b": "2"})
    cache = Cache("2026-11-30", "s1", {"a": "1", "b": "3", "c": "4"}, {}, {}, {})
    found = plan(cache, state)
    assert found is not None and found.changed == {"b", "c"} and found.removed == {"c"}
    assert plan(None, state) is None
    assert plan(Cache("2026-11-29", "s1", cache.digests, {}, {}, {}), state) is None  # rules compare with today
    assert plan(Cache("2026-11-30", "s0", cache.digests, {}, {}, {}), state) is None  # other shapes
    assert plan(Cache("2026-11-30", "s1", cache.digests, {"h": "x"}, {}, {}), state) is None  # a harvest changed
    state.complete = False  # a source without per-record digests
    assert plan(cache, state) is None
