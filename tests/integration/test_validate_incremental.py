"""An incremental validation and its publish by difference leave exactly what a full run from
scratch leaves.

One store is validated and published in full, then changed step by step (one service edited,
one service deleted, the authority profile edited), and after each step validated
incrementally and published. Each time, a second store is built from scratch from the same
input files and validated in full: the stored validation graphs (results, verdict and DQV
measurements; the creation times aside) and the results must be equal."""

from __future__ import annotations

import json

import yaml
from localoffer.ingest.pipeline import ingest

from localoffer import namespaces as ns
from localoffer.config import load_settings
from localoffer.store import open_store
from localoffer.validation import publish_report, publish_reports, validate_store

from ..conftest import BASE, SAMPLES

CODE = "E06000023"  # Bristol: the example profile is written for it
FEED = SAMPLES / "bristol-services-2024-12.json"
PROFILE = SAMPLES / "profiles" / "example-complete.yaml"
SERVICES = 250  # the first services of the feed: enough records sharing organisations and places


def _build(folder, feed, profile):
    settings = load_settings({"store": str(folder / "store"), "base_uri": BASE}, environ={})
    store = open_store(settings)
    ingest(store, settings, str(feed), authority=CODE)
    ingest(store, settings, str(profile), authority=CODE)
    return store, settings


def _graph(store, settings) -> set[tuple[str, str, str]]:
    graph = ns.graph_iri(settings.base, "validation", CODE)
    rows = store.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    out = {
        (str(r["s"]), str(r["p"]), str(r["o"]))
        for r in rows
        if not str(r["p"]).endswith(("/created>", "/date>"))
    }
    assert out, "nothing stored"
    return out


def _rows(result) -> list[tuple]:
    return sorted(f.key + (f.record, f.record_name or "", f.severity) for f in result.findings)


def _from_scratch(folder, feed, profile):
    store, settings = _build(folder, feed, profile)
    try:
        result = validate_store(store, settings, authority=CODE, workers=1, incremental=False)
        assert result.stats["mode"] == "full"
        publish_report(store, settings, result)
        return result, _graph(store, settings)
    finally:
        store.close()


def test_incremental_publish_equals_a_full_run_from_scratch(tmp_path):
    records = json.loads(FEED.read_text(encoding="utf-8"))[:SERVICES]
    feed, profile = tmp_path / "feed.json", tmp_path / "profile.yaml"
    feed.write_text(json.dumps(records), encoding="utf-8")
    profile.write_text(PROFILE.read_text(encoding="utf-8"), encoding="utf-8")
    store, settings = _build(tmp_path / "live", feed, profile)
    try:
        first = validate_store(store, settings, authority=CODE, workers=1)
        publish_report(store, settings, first)
        before = _graph(store, settings)

        def one_service_changed():
            records[10]["url"] = "not a web address"
            feed.write_text(json.dumps(records), encoding="utf-8")
            ingest(store, settings, str(feed), authority=CODE)

        def one_service_deleted():
            del records[20]
            feed.write_text(json.dumps(records), encoding="utf-8")
            ingest(store, settings, str(feed), authority=CODE)

        def profile_changed():
            data = yaml.safe_load(PROFILE.read_text(encoding="utf-8"))
            data["information"] = [i for i in data["information"] if "complaints" not in i["items"]]
            profile.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
            ingest(store, settings, str(profile), authority=CODE)

        for step, change in enumerate((one_service_changed, one_service_deleted, profile_changed)):
            change()
            incremental = validate_store(store, settings, authority=CODE, workers=2)
            assert incremental.stats["mode"] == "incremental", change.__name__
            assert incremental.stats["revalidated"] < SERVICES // 4, change.__name__
            publish_report(store, settings, incremental)
            stored = _graph(store, settings)
            full, scratch = _from_scratch(tmp_path / f"scratch{step}", feed, profile)
            assert _rows(incremental) == _rows(full), change.__name__
            assert incremental.counts == full.counts and incremental.records == full.records
            assert incremental.completeness == full.completeness, change.__name__
            assert stored == scratch, change.__name__
            assert stored != before, change.__name__  # each step changed the report
            before = stored
        assert any(f.value == "not a web address" for f in incremental.findings)
        assert any("complaint" in f.shape.lower() for f in incremental.findings)
    finally:
        store.close()


def test_the_cache_reads_back_what_was_written(tmp_path):
    """Both stored forms (the text kept in a remote store's metadata graph, the file beside an
    embedded store) give back the findings, records and digests; a file gone means no cache."""
    from localoffer.validation import cache as vcache
    from localoffer.validation.core import Finding

    shape = "https://w3id.org/localoffer/def/shapes#Service-url"
    a, b = "https://example.org/id/service/a", "https://example.org/id/org/b"
    findings = {
        a: [
            Finding(shape, "Violation", a, a, "A", "schema:url", "x y", "Bad URL", ("iri", a),
                    ("literal", "x y", "", ""), ("iri", "https://schema.org/url"), "sh:Pattern"),
            Finding(shape + "2", "Warning", "n1", a, None, None, None, "No name", ("bnode", "n1"),
                    ("bnode", "n1"), None, "sh:MinCountConstraintComponent"),
            Finding(shape, "Info", a, b, "B", None, "hello", "Note", ("iri", a),
                    ("literal", "hello", "en", ""), ("shape",), ""),
        ],
        b: [],
    }
    state = vcache.State("2026-11-30", "s1", ["g"], {a: "1", b: "2"}, {"h": "c"})
    records = {a: "services", b: "organizations"}
    text = vcache.encode(state, records, findings)
    back = vcache.decode(text)
    assert back is not None and back.findings == {a: findings[a]} and back.records == records
    assert (back.day, back.shapes, back.fingerprint) == ("2026-11-30", "s1", {"h": "c"})
    assert back.digests == state.digests

    class Folder:  # what cache_dir asks of a store
        root = tmp_path

    written = vcache.write(Folder(), "E06000023", state, records, findings)
    assert written.text.startswith("file:") and written.path is not None and written.path.exists()
    token = written.text.removeprefix("file:")
    read = vcache._read_file(Folder(), "E06000023", token)
    assert read is not None and read.findings == {a: findings[a]} and read.digests == state.digests
    again = vcache.write(Folder(), "E06000023", state, records, findings)
    again.keep()  # the authority's older files go
    assert not written.path.exists() and again.path is not None and again.path.exists()
    again.discard()
    assert vcache._read_file(Folder(), "E06000023", again.text.removeprefix("file:")) is None


def test_validating_every_council_again_reuses_each_stored_run(tmp_path):
    """`validate_store` without an authority, publishing each council's report: the second run
    the same day re-validates only the changed service's neighbourhood, and each council's
    stored report equals that of a full run of every council from scratch."""
    north = SAMPLES / "north-lincolnshire-services-2024-12.json"
    records = json.loads(FEED.read_text(encoding="utf-8"))[:SERVICES]
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps(records), encoding="utf-8")

    def build(folder):
        settings = load_settings({"store": str(folder / "store"), "base_uri": BASE}, environ={})
        store = open_store(settings)
        ingest(store, settings, str(feed), authority=CODE)
        ingest(store, settings, str(north), authority="E06000013")
        return store, settings

    def every_council(store, settings, incremental):
        result = validate_store(store, settings, workers=2, incremental=incremental,
                                publish=lambda ready: publish_reports(store, settings, ready))
        assert result.stats["published"] and result.stats["authorities"] == 2
        graphs = {}
        for code in (CODE, "E06000013"):
            g = ns.graph_iri(settings.base, "validation", code)
            graphs[code] = {(str(r["s"]), str(r["p"]), str(r["o"])) for r in store.query(
                f"SELECT ?s ?p ?o WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}")
                if not str(r["p"]).endswith(("/created>", "/date>"))}
            assert graphs[code]
        return result, graphs

    store, settings = build(tmp_path / "live")
    try:
        first, before = every_council(store, settings, incremental=True)
        assert first.stats["mode"] == "full"
        records[10]["url"] = "not a web address"
        feed.write_text(json.dumps(records), encoding="utf-8")
        ingest(store, settings, str(feed), authority=CODE)
        again, stored = every_council(store, settings, incremental=True)
        assert again.stats["mode"] == "incremental"
        assert 0 < again.stats["revalidated"] < SERVICES // 4
        assert stored["E06000013"] == before["E06000013"] and stored[CODE] != before[CODE]
    finally:
        store.close()
    scratch, settings = build(tmp_path / "scratch")
    try:
        full, expected = every_council(scratch, settings, incremental=False)
    finally:
        scratch.close()
    assert full.stats["mode"] == "full"
    assert stored == expected
    assert sorted(f.key for f in again.findings) == sorted(f.key for f in full.findings)
