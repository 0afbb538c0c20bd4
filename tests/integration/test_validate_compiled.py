"""The compiled shapes (localoffer.validation.compiled) give pySHACL's results, result for
result: focus node, path, value, source shape, severity, message and constraint component.

* every per-shape fixture of tests/unit/test_shapes.py (broken and conforming variants) and a
  generated synthetic authority (bench/generate.py, 60 services): against plain pySHACL on an
  rdflib graph (rdflib's own SPARQL engine);
* both real council feeds whole (Bristol with its complete authority profile, so the
  authority-wide rules run): against `validate()` (pySHACL with its SPARQL answered by
  Oxigraph, itself checked against plain pySHACL in test_validate_focus.py, which is too slow
  on the whole feeds for a test); and a 40-service sample of each against plain pySHACL;
* a shape the compiler does not know falls back to pySHACL for that shape only."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import pytest
import rdflib
from localoffer.ingest.pipeline import ingest
from rdflib.namespace import RDF, SH

from localoffer.validation import compiled, load_shapes, render_path, validate
from localoffer.validation.core import _QueryGraph, oxigraph_term, term_tuple
from localoffer.validation.focus import extract

from ..conftest import ROOT
from ..unit.test_shapes import CASES, variant
from .test_validate_focus import FEEDS
from .test_validate_focus import _store as focus_store

Row = tuple[object, ...]


def _key(f) -> Row:
    return (f.focus_term, f.path or "", f.value_term, f.shape, f.severity, f.message, f.component)


def _compiled(triples) -> set[Row]:
    return {_key(f) for f in compiled.findings(triples)}


def _plain(graph: rdflib.Graph) -> set[Row]:
    """pySHACL on a plain rdflib graph, read straight from its report."""
    _, report, _ = pyshacl.validate(
        graph, shacl_graph=load_shapes(), advanced=True, inference="none", allow_warnings=True
    )
    out = set()
    for r in report.subjects(RDF.type, SH.ValidationResult):
        path, value = report.value(r, SH.resultPath), report.value(r, SH.value)
        out.add(
            (
                term_tuple(report.value(r, SH.focusNode)),
                render_path(report, path) if path is not None else "",
                None if value is None else term_tuple(value),
                str(report.value(r, SH.sourceShape)),
                str(report.value(r, SH.resultSeverity)).rsplit("#", 1)[-1],
                str(report.value(r, SH.resultMessage)),
                str(report.value(r, SH.sourceConstraintComponent)),
            )
        )
    return out


def _ox_triples(graph: rdflib.Graph) -> list[ox.Triple]:
    bnodes: dict = {}
    return [
        ox.Triple(oxigraph_term(s, bnodes), oxigraph_term(p, bnodes), oxigraph_term(o, bnodes))
        for s, p, o in graph
    ]


def _as_plain(triples: list[ox.Triple]) -> rdflib.Graph:
    return rdflib.Graph().parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")


def test_every_shape_is_compiled():
    assert compiled.package_shapes().not_compiled == []
    assert len(compiled.package_shapes().targets) == len(set(load_shapes().subjects(SH.severity, None)))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_shape_fixtures_equal_plain_pyshacl(case):
    for graph in (variant(case.remove, case.add), variant(case.ok_remove, case.ok_add)):
        # the round trip through N-Triples gives both engines the same blank node ids
        triples = _ox_triples(graph)
        expected = _plain(_as_plain(triples))
        assert _compiled(triples) == expected
    assert any(
        row[3].endswith("#" + case.shape) for row in _compiled(_ox_triples(variant(case.remove, case.add)))
    )


def _store(tmp_path, feeds):
    return focus_store(tmp_path, feeds, profile="E06000023" in feeds)


def _slice(store, settings, code) -> list[ox.Triple]:
    scope = extract(store, settings, code, [g for g in store.named_graphs() if "/graph/source/" in g])
    return [t for ts in scope.out.values() for t in ts]


@pytest.fixture(scope="module")
def feeds(tmp_path_factory):
    store, settings = _store(tmp_path_factory.mktemp("compiled"), FEEDS)
    yield store, settings
    store.close()


@pytest.mark.parametrize("whole_copy", [True, False],
                         ids=["sparql-on-every-triple", "sparql-on-what-it-reads"])
@pytest.mark.parametrize("code", FEEDS)
def test_real_feeds_equal_pyshacl(feeds, code, whole_copy, monkeypatch):
    store, settings = feeds
    triples = _slice(store, settings, code)
    monkeypatch.setattr(compiled, "WHOLE_COPY", 10**9 if whole_copy else 0)
    ours = compiled.findings(triples)
    theirs = validate(_QueryGraph.from_oxigraph(triples), authority=code).findings
    assert {_key(f) for f in ours} == {_key(f) for f in theirs}
    assert len(theirs) > 1000
    # the record each finding is attributed to is core's too
    assert {(f.focus, f.record, f.record_name) for f in ours} == {
        (f.focus, f.record, f.record_name) for f in theirs
    }


@pytest.mark.parametrize("code", FEEDS)
def test_the_index_by_object_answers_as_a_scan_of_the_triples(feeds, code):
    """compiled.Index keeps the parser's quads as they are and indexes literal objects only
    when one is asked for: every lookup by object, literals and IRIs alike, is the scan's."""
    store, settings = feeds
    body = ox.serialize(_slice(store, settings, code), format=ox.RdfFormat.N_TRIPLES)
    quads = list(ox.parse(body, format=ox.RdfFormat.N_TRIPLES))
    assert quads and all(isinstance(q, ox.Quad) for q in quads)
    index = compiled.Index(quads)
    expected: dict = {}
    for q in quads:
        expected.setdefault(q.object, {}).setdefault(q.predicate, []).append(q.subject)
    literals = [o for o in expected if isinstance(o, ox.Literal)]
    assert len(literals) > 1000 and not any(isinstance(o, ox.Literal) for o in index.inv)
    for o, by_predicate in expected.items():
        assert index.referrers(o) == by_predicate
        for p, subjects in by_predicate.items():
            assert index.subjects(p, o) == subjects
    assert index.referrers(ox.Literal("not in the data")) is None
    assert sorted(map(str, index.triples)) == sorted(map(str, quads))


def test_feed_samples_equal_plain_pyshacl(tmp_path):
    sample = {}
    for code, feed in FEEDS.items():
        part = tmp_path / f"{code}.json"
        part.write_text(json.dumps(json.loads(feed.read_text(encoding="utf-8"))[:40]), encoding="utf-8")
        sample[code] = part
    store, settings = _store(tmp_path, sample)
    try:
        for code in FEEDS:
            triples = _slice(store, settings, code)
            assert _compiled(triples) == _plain(_as_plain(triples)), code
    finally:
        store.close()


def test_a_synthetic_authority_equals_plain_pyshacl(tmp_path, monkeypatch):
    monkeypatch.setattr(compiled, "WHOLE_COPY", 0)  # its SPARQL copy: only what the queries read
    spec = importlib.util.spec_from_file_location("generate", Path(ROOT) / "bench" / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    generate.generate(tmp_path / "data", 1, 60, seed=7)
    feed = next((tmp_path / "data").glob("E*.json"))
    store, settings = _store(tmp_path, {feed.stem: feed})
    try:
        triples = _slice(store, settings, feed.stem)
        expected = _plain(_as_plain(triples))
        assert _compiled(triples) == expected
        assert len(expected) > 60
    finally:
        store.close()


def test_a_shape_it_cannot_compile_falls_back_to_pyshacl():
    shapes = rdflib.Graph().parse(
        format="turtle",
        data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
        <urn:datatype> a sh:PropertyShape ; sh:targetClass <https://schema.org/Service> ;
            sh:path <https://schema.org/name> ; sh:datatype xsd:integer ; sh:severity sh:Info ;
            sh:message "not a number" .
        <urn:name> a sh:PropertyShape ; sh:targetClass <https://schema.org/Service> ;
            sh:path <https://schema.org/name> ; sh:maxCount 1 ; sh:severity sh:Warning ;
            sh:message "one name" .
        """,
    )
    graph = rdflib.Graph().parse(
        format="turtle",
        data="""
        <urn:a> a <https://schema.org/Service> ; <https://schema.org/name> "A" .
        <urn:b> a <https://schema.org/Service> ; <https://schema.org/name> "B" , "B2" .""",
    )
    plan = compiled.compile_shapes(shapes)
    assert plan.not_compiled == ["urn:datatype"]
    found = compiled.findings(_ox_triples(graph), compiled=plan)
    assert sorted((f.shape, f.focus) for f in found) == [
        ("urn:datatype", "urn:a"),
        ("urn:datatype", "urn:b"),
        ("urn:datatype", "urn:b"),
        ("urn:name", "urn:b"),
    ]


def _tables(path) -> dict[str, list[tuple]]:
    from localoffer import textindex

    conn = textindex.open_file(path)  # the search tables, and the kept counts beside them
    try:
        names = [n for schema in ("main", "counts") for (n,) in conn.execute(
            f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'")]  # noqa: S608
        return {n: sorted(map(repr, conn.execute(f"SELECT * FROM {n}"))) for n in names if n != "info"}
    finally:
        conn.close()


def test_publishing_a_report_keeps_the_derived_tables_those_of_a_full_build(tmp_path):
    """publish_report declares its writes neutral for the text index, facets and counts (only
    triple counts move): the tables it leaves equal tables built from scratch."""
    from localoffer import textindex
    from localoffer.validation import publish_report, validate_store

    code = "E06000013"
    part = tmp_path / "feed.json"
    part.write_text(json.dumps(json.loads(FEEDS[code].read_text(encoding="utf-8"))[:30]), encoding="utf-8")
    store, settings = _store(tmp_path, {code: part})
    try:
        for incremental in (False, True, True):
            publish_report(
                store, settings, validate_store(store, settings, authority=code, incremental=incremental)
            )
            root = tmp_path / "store"
            name = (root / "CURRENT").read_text(encoding="ascii").strip()
            kept = textindex.index_file(root / "derived", name)
            version = textindex._Version(root / "versions" / name)
            fresh = tmp_path / f"fresh-{name}.sqlite"
            textindex.build(version, fresh, version.named_graphs(), version=name)
            del version
            assert _tables(kept) == _tables(fresh)
            assert any("/graph/validation/" in row for row in _tables(kept)["graph_stat"])
    finally:
        store.close()


def test_authorities_checked_in_worker_processes_equal_one_by_one(feeds):
    from localoffer.validation import iter_validate_authorities, validate_store

    store, settings = feeds
    together = list(iter_validate_authorities(store, settings, list(FEEDS), workers=2))
    assert [r.authority for r in together] == list(FEEDS)
    for result in together:
        alone = validate_store(store, settings, authority=result.authority, workers=1, incremental=False)
        assert {_key(f) for f in result.findings} == {_key(f) for f in alone.findings}
        assert result.records == alone.records and result.completeness == alone.completeness
        assert result.stats["by_record"].keys() == alone.stats["by_record"].keys()


def test_a_full_run_over_a_stored_report_stores_what_a_fresh_publish_stores(tmp_path):
    """The second full run replaces only the results that changed; the graph it leaves equals
    the report written from scratch (the date of the report aside)."""
    from localoffer import namespaces as ns
    from localoffer.validation import publish_report, validate_store
    from localoffer.validation.reportgraph import report_triples

    code = "E06000013"
    records = json.loads(FEEDS[code].read_text(encoding="utf-8"))[:30]
    part = tmp_path / "feed.json"
    part.write_text(json.dumps(records), encoding="utf-8")
    store, settings = _store(tmp_path, {code: part})
    try:
        publish_report(store, settings, validate_store(store, settings, authority=code, incremental=False))
        records[3]["url"] = "not a web address"
        del records[5]
        part.write_text(json.dumps(records), encoding="utf-8")
        ingest(store, settings, str(part), authority=code)
        result = validate_store(store, settings, authority=code, incremental=False)
        graph = publish_report(store, settings, result)
        stored = {
            str(t)
            for t in store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        }
        scratch = ox.Store()  # Oxigraph writes literals in canonical form ("1.0000" as "1")
        scratch.extend(
            ox.Quad(t.subject, t.predicate, t.object) for t in report_triples(result, base=settings.base)
        )
        fresh = {str(ox.Triple(q.subject, q.predicate, q.object)) for q in scratch}
        created = f"<{ns.DCTERMS}created>"
        assert {t for t in stored if created not in t} == {t for t in fresh if created not in t}
        assert any("not a web address" in t for t in stored)
    finally:
        store.close()


def _graph_of(ntriples: bytes) -> rdflib.Graph:
    return rdflib.Graph().parse(data=ntriples.decode("utf-8"), format="nt")


@pytest.mark.parametrize("code", FEEDS)
def test_the_report_written_as_text_is_the_report_of_the_triples(feeds, code):
    """report_ntriples (the text the workers write) is the graph report_triples makes, for a
    whole report and for a few of its results, and reads back as a sh:ValidationReport."""
    from rdflib.compare import isomorphic

    from localoffer.validation import validate_store
    from localoffer.validation.reportgraph import report_ntriples, report_triples

    store, settings = feeds
    result = validate_store(store, settings, authority=code, workers=1, incremental=False)
    assert len(result.findings) > 1000 and any(f.value_term for f in result.findings)
    assert any(f.path_term == ("shape",) for f in result.findings)  # a complex path is shared
    some = result.findings[::97]
    for only in (None, some, []):
        text = report_ntriples(result, base=settings.base, only=only)
        objects = ox.serialize(report_triples(result, base=settings.base, only=only),
                               format=ox.RdfFormat.N_TRIPLES)
        assert isomorphic(_graph_of(text), _graph_of(objects))
        assert len(text.splitlines()) == len(set(text.splitlines()))  # no line twice
    graph = _graph_of(report_ntriples(result, base=settings.base))
    assert len(set(graph.subjects(RDF.type, SH.ValidationReport))) == 1
    assert len(set(graph.subjects(RDF.type, SH.ValidationResult))) == len(result.findings)


def test_the_report_text_escapes_what_the_data_holds():
    """Values and focus nodes from the data (quotes, backslashes, line breaks, markup, other
    scripts, blank nodes) come out of report_ntriples as pyoxigraph writes them."""
    from rdflib.compare import isomorphic

    from localoffer.validation.core import Finding, ValidationResult
    from localoffer.validation.reportgraph import report_ntriples, report_triples

    nasty = 'a "quoted" \\ back\nslash\r\t<script>alert(1)</script> café ☃ \U0001F600'
    shape = "https://w3id.org/localoffer/def/shapes#Service-name"
    findings = [
        Finding(shape=shape, severity="Violation", focus="x", record="x", record_name=None, path="schema:name",
                value=nasty, message='Give the "name".', focus_term=("bnode", "n1"),
                value_term=("literal", nasty, "", ""), path_term=("iri", "https://schema.org/name"),
                component="http://www.w3.org/ns/shacl#MinLengthConstraintComponent"),
        Finding(shape=shape, severity="Violation", focus="y", record="y", record_name=None, path="schema:name",
                value=nasty, message='Give the "name".', focus_term=("bnode", "n1"),
                value_term=("literal", nasty, "en", ""), path_term=("iri", "https://schema.org/name"),
                component="http://www.w3.org/ns/shacl#MinLengthConstraintComponent"),
        Finding(shape=shape, severity="Warning", focus="https://ex.test/s/ü", record="z", record_name=None,
                path=None, value=None, message="Über", focus_term=("iri", "https://ex.test/s/ü"),
                value_term=("literal", "12", "", "http://www.w3.org/2001/XMLSchema#integer")),
    ]
    result = ValidationResult(conforms=False, counts={}, rules=[], findings=findings, authority="E06000023")
    base = "https://data.example.test/"
    text = report_ntriples(result, base=base)
    assert isomorphic(_graph_of(text),
                      _graph_of(ox.serialize(report_triples(result, base=base), format=ox.RdfFormat.N_TRIPLES)))
    values = set(_graph_of(text).objects(None, SH.value))
    assert rdflib.Literal(nasty) in values and rdflib.Literal(nasty, lang="en") in values
    assert len(set(_graph_of(text).objects(None, SH.focusNode))) == 2  # one blank node, one IRI


def test_reports_published_together_equal_reports_published_one_by_one(tmp_path):
    """publish_reports writes several councils' reports in one version (one load): the graphs,
    the caches and the derived tables are those of publishing them one after another, for a
    first run and for a run over stored reports (then only changed results are written)."""
    from localoffer import textindex
    from localoffer.validation import publish_report, publish_reports, validate_store

    graphs, tables = [], []
    for mode in ("together", "one by one"):
        folder = tmp_path / mode
        folder.mkdir()
        parts = {}
        for code, feed in FEEDS.items():
            parts[code] = folder / f"{code}.json"
            parts[code].write_text(json.dumps(json.loads(feed.read_text(encoding="utf-8"))[:40]),
                                   encoding="utf-8")
        store, settings = _store(folder, parts)
        try:
            for round_ in range(2):
                if round_:  # a changed record: the second publish writes differences
                    records = json.loads(parts["E06000013"].read_text(encoding="utf-8"))
                    records[2]["url"] = "not a web address"
                    parts["E06000013"].write_text(json.dumps(records), encoding="utf-8")
                    ingest(store, settings, str(parts["E06000013"]), authority="E06000013")
                results = [validate_store(store, settings, authority=c, incremental=False) for c in parts]
                if mode == "together":
                    before = store.version()
                    publish_reports(store, settings, results)
                    assert int(store.version()[1:]) == int(before[1:]) + 1  # one version for both
                else:
                    for r in results:
                        publish_report(store, settings, r)
            rows = store.query("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } "
                               "FILTER(CONTAINS(STR(?g), '/graph/validation/')) }")
            graphs.append({tuple(r[v].value for v in "gspo") for r in rows
                           if not r["p"].value.endswith(("/created", "/date"))})
            root = folder / "store"
            name = (root / "CURRENT").read_text(encoding="ascii").strip()
            tables.append(_tables(textindex.index_file(root / "derived", name)))
        finally:
            store.close()
    assert graphs[0] == graphs[1] and len(graphs[0]) > 1000
    assert any("not a web address" in t[3] for t in graphs[0])
    assert tables[0] == tables[1]
