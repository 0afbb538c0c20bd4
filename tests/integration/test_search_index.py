"""The text index and the kept statistics on the embedded store: search results and ranking,
hostile words on /services and the ORUK API, the index always of the version a reader reads
(a changed feed shows at once; readers of the old version are unaffected), incremental builds
equal to builds from scratch, statistics equal to SPARQL counts, VoID linkset counts and
streamed dumps."""

from __future__ import annotations

import gc
import gzip
import json
import sqlite3
import tracemalloc
from contextlib import closing
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from localoffer.ingest.link import discover_links, publish_links
from localoffer.ingest.pipeline import ingest
from localoffer.publisher import create_app
from rdflib import Namespace, URIRef

from localoffer import namespaces as ns
from localoffer import searchsets, statistics, textindex
from localoffer.canned import execute_canned
from localoffer.config import load_settings
from localoffer.store import open_store

from ..ldfixtures import (
    BASE,
    BRISTOL,
    HOSTILE_NAME,
    NLINCS,
    SVC_COLLEGE,
    SVC_HOSTILE,
    SVC_NL,
    SVC_PLAY,
    bristol_services,
    build_store,
    categories_turtle,
    nlincs_services,
)

B = BASE.rstrip("/")
VOID = Namespace(ns.VOID)
HOSTILE_WORDS = ['"', '"unbalanced', "*", "NEAR(", "NEAR(play explorers, 1)", "play OR", "AND", "(play",
                 "play)", "-play", "name:play", "^play", "<script>alert(1)</script>", "'; DROP TABLE doc; --"]


def svc(ident: str) -> str:
    return f"{B}/id/service/{ident}"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("search")
    settings = build_store(tmp / "data")
    app = create_app({"store": settings.store, "base_uri": BASE, "dump_cache": str(tmp / "dumps")})
    app.config["TESTING"] = True
    return settings, app


@pytest.fixture
def client(site):
    return site[1].test_client()


@pytest.fixture
def store(site):
    s = open_store(site[0])
    yield s
    s.close()


# -- search ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("words", "first", "found"), [
    ("autism", SVC_PLAY, {SVC_PLAY}),
    ("Explorers", SVC_PLAY, {SVC_PLAY}),
    ("explor", SVC_PLAY, {SVC_PLAY}),                         # prefix
    ("internships", SVC_COLLEGE, {SVC_COLLEGE}),               # stem
    ("CAFE", SVC_HOSTILE, {SVC_HOSTILE}),                      # case and diacritics
    ("café quotes", SVC_HOSTILE, {SVC_HOSTILE}),              # every word must match
    ("speech language", SVC_NL, {SVC_NL}),
    ("sunrise", None, {SVC_PLAY, SVC_HOSTILE, SVC_COLLEGE, SVC_NL}),  # the provider's name
    ("play", SVC_PLAY, {SVC_PLAY, SVC_HOSTILE, SVC_COLLEGE, SVC_NL}),  # name before provider
    ("nothing-like-this", None, set()),
])
def test_index_finds_and_ranks(store, words, first, found):
    with textindex.open_index(store) as index:
        hits = index.search(words)
        assert {h.rsplit("/", 1)[1] for h in hits} == found
        assert index.count(words) == len(found)
        if first:
            assert hits[0] == svc(first)


@pytest.mark.parametrize("words", HOSTILE_WORDS)
def test_hostile_words_do_not_error_and_are_escaped(client, words):
    r = client.get("/services", query_string={"q": words})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    if words.startswith("<script>"):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert client.get("/services", query_string={"q": words, "_format": "json"}).status_code == 200
    api = client.get("/api/services", query_string={"search": words})
    assert api.status_code == 200, api.get_data(as_text=True)


def test_search_page_orders_by_relevance_and_filters_exactly(client):
    data = client.get("/services?q=play&_format=json").get_json()
    assert data["total"] == 4 and data["results"][0]["name"] == "Little Explorers Play Scheme"
    both = client.get(f"/services?q=sunrise&authority={NLINCS}&_format=json").get_json()
    assert [r["iri"] for r in both["results"]] == [svc(SVC_NL)] and both["total"] == 1
    facets = client.get("/services?q=sunrise&_format=json").get_json()["facets"]
    assert {v["value"]: v["count"] for v in facets["authority"]} == {BRISTOL: 3, NLINCS: 1}
    assert {v["value"]: v["count"] for v in facets["cost"]} == {"free": 1, "paid": 2}
    paid = client.get("/services?q=sunrise&cost=paid&_format=json").get_json()
    assert {r["iri"] for r in paid["results"]} == {svc(SVC_HOSTILE), svc(SVC_COLLEGE)}
    html = client.get("/services?q=cafe").get_data(as_text=True)
    assert "1 service found" in html and "&lt;script&gt;alert(&#34;name&#34;)" in html
    assert HOSTILE_NAME not in html


def test_oruk_search_uses_the_index(client):
    found = client.get("/api/services?search=CAFE").get_json()
    assert [s["id"] for s in found["contents"]] == [SVC_HOSTILE]
    assert client.get("/api/services?search=explor").get_json()["total_items"] == 1
    assert client.get("/api/services?search=zzzz").get_json()["total_items"] == 0
    # ORUK searches names and descriptions; the site also finds services by their provider
    assert client.get("/api/services?search=sunrise").get_json()["total_items"] == 0
    assert client.get("/services?q=sunrise&_format=json").get_json()["total"] == 4


# -- consistency with the data ------------------------------------------------------------------
def test_a_changed_feed_is_searchable_in_the_same_version_and_old_readers_keep_theirs(tmp_path):
    settings = build_store(tmp_path / "data")
    reader, writer = open_store(settings), open_store(settings)
    old = textindex.open_index(reader)
    assert old.search("explorers") == [svc(SVC_PLAY)]
    records = bristol_services()
    records[0]["name"] = "Little Voyagers Play Scheme"
    lonely = "99999999-9999-4999-8999-999999999999"
    records.append({"id": lonely, "name": "Lonely Helpline", "status": "active", "description": "No provider."})
    feed = tmp_path / "bristol-changed.json"
    feed.write_text(json.dumps(records), encoding="utf-8")
    report = ingest(writer, settings, str(feed), authority=BRISTOL, fmt="json")
    with textindex.open_index(reader) as new:
        assert new.version == report.version != old.version
        assert new.search("voyagers") == [svc(SVC_PLAY)] and new.search("explorers") == []
        # a service without a provider gets no other organisation's name
        assert new.search("lonely") == [svc(lonely)] and svc(lonely) not in new.search("sunrise")
        # the page a request renders reads the data of the index's version
        assert next(new.store.select(f"SELECT ?n {{ <{svc(SVC_PLAY)}> <{ns.SCHEMA}name> ?n }}"))["n"].value \
            == "Little Voyagers Play Scheme"
    # a reader still on the old version keeps its index and its data
    assert old.search("explorers") == [svc(SVC_PLAY)] and old.search("voyagers") == []
    assert next(old.store.select(f"SELECT ?n {{ <{svc(SVC_PLAY)}> <{ns.SCHEMA}name> ?n }}"))["n"].value \
        == "Little Explorers Play Scheme"
    old.close()
    # the incremental file equals one built from scratch for the same version
    fresh = tmp_path / "fresh.sqlite"
    view = textindex.pin(reader)
    textindex.build(view, fresh, view.named_graphs(), version=view.version())
    built = textindex.index_file(Path(settings.store) / "derived", view.version())
    assert tables(built) == tables(fresh)
    reader.close()
    writer.close()


def tables(path: Path) -> dict[str, list[tuple]]:
    with closing(textindex.open_file(path)) as conn:
        out = {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall())  # noqa: S608
               for t in ("graph_stat", "graph_authority", "authority_stat", "need_band", "concept", "svc", "facet",
                         "service_age", "service_hours", "band", "facet_label")}
        out["docs"] = sorted(conn.execute("SELECT doc.graph, doc.iri, doc.authority, fts.name, fts.description, "
                                          "fts.provider FROM doc JOIN fts ON fts.rowid = doc.id").fetchall())
    return out


def test_a_failed_write_leaves_the_published_index(tmp_path):
    settings = build_store(tmp_path / "data")
    store = open_store(settings)
    before = store.version()
    with pytest.raises(RuntimeError), store.write() as session:
        session.update(f"INSERT DATA {{ GRAPH <{B}/graph/x> {{ <{svc(SVC_PLAY)}> <{ns.SCHEMA}name> \"zebra\" }} }}")
        raise RuntimeError("killed")
    with textindex.open_index(store) as index:
        assert index.version == before and index.search("zebra") == []
    derived = sorted(p.name for p in (Path(settings.store) / "derived").iterdir() if p.suffix == ".sqlite")
    assert derived == sorted(f"{v}.sqlite" for v in {p.name for p in (Path(settings.store) / "versions").iterdir()})
    store.close()


# -- statistics -------------------------------------------------------------------------------
COUNTS = f"""PREFIX schema: <{ns.SCHEMA}> PREFIX lo: <{ns.LO}>
SELECT ?code (COUNT(DISTINCT ?s) AS ?services) (COUNT(DISTINCT ?o) AS ?orgs) (COUNT(DISTINCT ?p) AS ?places)
WHERE {{ ?a a lo:LocalAuthority ; <{ns.SKOS}notation> ?code .
  OPTIONAL {{ ?s lo:localAuthority ?a ; a schema:Service .
    OPTIONAL {{ ?s schema:provider ?o }} OPTIONAL {{ ?s schema:availableChannel/schema:serviceLocation ?p }} }}
}} GROUP BY ?code"""


def assert_stats_match_sparql(store, settings, *, needs=True):
    data = statistics.collect(store, settings)
    assert data["version"] == store.version()
    expected = {r["code"].value: (int(r["services"].value), int(r["orgs"].value), int(r["places"].value))
                for r in store.select(COUNTS)}
    assert {a["code"]: (a["services"], a["organizations"], a["locations"]) for a in data["authorities"]} == expected
    per_graph = {g: int(next(store.select(f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{g}> {{ ?s ?p ?o }} }}"))["n"].value)
                 for g in store.named_graphs()}
    assert {g["graph"]: g["triples"] for g in data["graphs"]} == per_graph
    # services per authority, need area and age band: the canned query's answer
    labels = {a["iri"]: a["label"] for a in data["need_areas"] + data["age_bands"]}
    names = {a["code"]: a["name"] for a in data["authorities"]}
    result = execute_canned(store, "services-per-need-area", {}, settings.base)
    canned = {(r["authorityName"].value, r["areaLabel"].value, r["bandLabel"].value): int(r["services"].value)
              for r in result}
    kept = {(names[n["authority"]], labels[n["area"]], labels[n["band"]]): n["services"]
            for n in data["needs"] if n["area"] and n["band"]}
    assert kept == canned and bool(kept) == needs
    return data


def test_statistics_equal_sparql_counts_after_each_write(tmp_path):
    settings = build_store(tmp_path / "data")
    store = open_store(settings)
    data = assert_stats_match_sparql(store, settings)
    areas = {n["area"].rsplit("/", 1)[1]: n["services"] for n in data["needs"]
             if n["authority"] == BRISTOL and n["area"] and not n["band"]}
    assert areas == {"communication-and-interaction": 1, "cognition-and-learning": 1,
                     "social-emotional-and-mental-health": 1}
    # a change in a graph that names no authority (the RDF categories) is counted again
    extra = tmp_path / "more.ttl"
    extra.write_text(f"<{svc(SVC_COLLEGE)}> <{ns.LO}needCategory> <{ns.SCHEME}need/asd> .\n", encoding="utf-8")
    ingest(store, settings, str(extra), authority=BRISTOL, fmt="rdf", source_id="more")
    data = assert_stats_match_sparql(store, settings)
    assert any(n["area"].endswith("communication-and-interaction") and n["services"] == 2
               for n in data["needs"] if n["authority"] == BRISTOL and n["area"] and not n["band"])
    # a term of one council's taxonomy placed under an area of need by another graph
    term = f"{B}/id/taxonomy-term/speech-therapy"
    (tmp_path / "nl.ttl").write_text(f"<{svc(SVC_NL)}> <{ns.LO}needCategory> <{term}> .\n", encoding="utf-8")
    ingest(store, settings, str(tmp_path / "nl.ttl"), authority=NLINCS, fmt="rdf")
    assert_stats_match_sparql(store, settings)
    (tmp_path / "tax.ttl").write_text(f"<{term}> <{ns.SKOS}broader> <{ns.SCHEME}need/slcn> .\n", encoding="utf-8")
    ingest(store, settings, str(tmp_path / "tax.ttl"), authority=BRISTOL, fmt="rdf", source_id="taxonomy")
    data = assert_stats_match_sparql(store, settings)
    assert [n["services"] for n in data["needs"] if n["authority"] == NLINCS and n["area"] and not n["band"]] == [1]
    # another graph changes the ages of a service's audience (it names no authority or service)
    (tmp_path / "ages.ttl").write_text(f"<{svc(SVC_NL)}-audience> <{ns.SCHEMA}suggestedMaxAge> 30 .\n",
                                       encoding="utf-8")
    ingest(store, settings, str(tmp_path / "ages.ttl"), authority=BRISTOL, fmt="rdf", source_id="ages")
    data = assert_stats_match_sparql(store, settings)
    assert any(n["band"].endswith("/19-25") for n in data["needs"] if n["authority"] == NLINCS and n["band"])
    # a feed that drops a service
    feed = tmp_path / "fewer.json"
    feed.write_text(json.dumps(bristol_services()[:1]), encoding="utf-8")
    ingest(store, settings, str(feed), authority=BRISTOL, fmt="json")
    assert [a["services"] for a in assert_stats_match_sparql(store, settings)["authorities"]] == [1, 1]
    store.close()


def test_home_page_and_stats_command_read_the_kept_counts(client, site):
    from click.testing import CliRunner

    from localoffer.cli import main

    html = client.get("/").get_data(as_text=True)
    assert '<abbr title="Communication and interaction">C&amp;I</abbr>' in html
    result = CliRunner().invoke(main, ["--store", site[0].store, "--base-uri", BASE, "stats", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {a["code"]: a["services"] for a in data["authorities"]} == {BRISTOL: 3, NLINCS: 1}
    text = CliRunner().invoke(main, ["--store", site[0].store, "--base-uri", BASE, "stats"]).output
    assert "services per broad area of need" in text and "SEMH" in text


def test_index_and_counts_on_each_backend(backend_store, backend_settings, tmp_path):
    for name, code, records in (("bristol.json", BRISTOL, bristol_services()),
                                ("nlincs.json", NLINCS, nlincs_services())):
        (tmp_path / name).write_text(json.dumps(records), encoding="utf-8")
        ingest(backend_store, backend_settings, str(tmp_path / name), authority=code, fmt="json")
    (tmp_path / "categories.ttl").write_text(categories_turtle(BASE), encoding="utf-8")
    ingest(backend_store, backend_settings, str(tmp_path / "categories.ttl"), authority=BRISTOL, fmt="rdf")
    with textindex.open_index(backend_store) as index:
        assert index.version == backend_store.version()
        assert index.search("autism") == [svc(SVC_PLAY)] and index.search("CAFE") == [svc(SVC_HOSTILE)]
    assert_stats_match_sparql(backend_store, backend_settings)
    records = bristol_services()
    records[0]["name"] = "Little Voyagers Play Scheme"
    (tmp_path / "bristol.json").write_text(json.dumps(records), encoding="utf-8")
    ingest(backend_store, backend_settings, str(tmp_path / "bristol.json"), authority=BRISTOL, fmt="json")
    with textindex.open_index(backend_store) as index:
        assert index.search("voyagers") == [svc(SVC_PLAY)] and index.search("explorers") == []


# -- VoID linksets ----------------------------------------------------------------------------
def test_void_linksets_count_only_their_links(tmp_path):
    data = Path(__file__).resolve().parents[1] / "data" / "link"
    settings = load_settings({"store": str(tmp_path / "store"), "base_uri": BASE}, environ={})
    store = open_store(settings)
    for feed, code in (("alpha", "E06000023"), ("beta", "E06000025")):
        ingest(store, settings, str(data / f"{feed}.json"), authority=code)
    publish_links(store, settings, discover_links(store, settings))
    links = ns.graph_iri(BASE, "links")
    expected = {}
    for r in store.select(f"""SELECT ?ls ?p (COUNT(*) AS ?n) WHERE {{ GRAPH <{links}> {{
            ?ls <{ns.VOID}linkPredicate> ?p . ?l <{ns.VOID}inDataset> ?ls ; <{ns.LO}source> ?s ; <{ns.LO}target> ?o .
            ?s ?p ?o }} }} GROUP BY ?ls ?p"""):
        expected[r["ls"].value] = (r["p"].value, int(r["n"].value))
    all_triples = int(next(store.select(f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{links}> {{ ?s ?p ?o }} }}"))["n"].value)
    store.close()
    assert expected and sum(n for _, n in expected.values()) < all_triples
    app = create_app({"store": settings.store, "base_uri": BASE})
    g = rdflib.Graph().parse(data=app.test_client().get("/void.ttl").get_data(), format="turtle")
    ds = URIRef(f"{B}/void#dataset")
    found = {}
    for ls in g.objects(ds, VOID.subset):
        predicate = g.value(ls, VOID.linkPredicate)
        if str(ls).startswith(links):
            found[str(ls)] = (str(predicate), int(g.value(ls, VOID.triples)))
            assert str(g.value(ls, VOID.subjectsTarget)).startswith(f"{B}/graph/source/")
        else:
            assert str(ls) == f"{B}/void#dataset-statgeo"
    assert found == expected
    assert {p for p, _ in found.values()} <= {ns.OWL + "sameAs", ns.SKOS + "closeMatch"}


# -- dumps ------------------------------------------------------------------------------------
def test_authority_dump_streams_the_version_it_names(tmp_path):
    settings = load_settings({"store": str(tmp_path / "store"), "base_uri": BASE}, environ={})
    store = open_store(settings)
    big = tmp_path / "big.nt"
    with open(big, "w", encoding="utf-8") as out:
        out.write(f"<{B}/id/authority/{BRISTOL}> <{ns.RDF}type> <{ns.LO}LocalAuthority> .\n")
        for i in range(60000):
            out.write(f"<{B}/id/service/s{i}> <{ns.SCHEMA}description> \"{'x' * 200} {i}\" .\n")
    ingest(store, settings, str(big), authority=BRISTOL, fmt="rdf")
    graph = ns.graph_iri(BASE, "source", f"{BRISTOL.lower()}-rdf")
    app = create_app({"store": settings.store, "base_uri": BASE, "dump_cache": str(tmp_path / "dumps")})
    from localoffer.publisher.linkeddata import dumps

    with app.test_request_context():
        view = textindex.pin(store)
        target = tmp_path / "dump.nq.gz"
        tracemalloc.start()
        dumps.write_dump(view, target, "nq", [graph])
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    size = len(gzip.decompress(target.read_bytes()))
    assert size > 15_000_000 and peak < size / 10, (size, peak)  # streamed, not held in memory
    client = app.test_client()
    r = client.get(f"/dumps/authority/{BRISTOL}.nq.gz")
    assert r.status_code == 200 and r.headers["ETag"].strip('"').startswith(store.version())
    quads = list(ox.parse(gzip.decompress(r.get_data()), format=ox.RdfFormat.N_QUADS))
    assert len(quads) == int(next(store.select(f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"))["n"].value)
    assert {q.graph_name.value for q in quads} == {graph}
    ttl = client.get(f"/dumps/authority/{BRISTOL}.ttl.gz")
    assert len(rdflib.Graph().parse(data=gzip.decompress(ttl.get_data()), format="turtle")) == len(quads)
    etag = r.headers["ETag"]
    assert client.get(f"/dumps/authority/{BRISTOL}.nq.gz", headers={"If-None-Match": etag}).status_code == 304
    small = tmp_path / "small.nt"
    small.write_text(big.read_text(encoding="utf-8").split("\n", 1)[0] + "\n", encoding="utf-8")
    ingest(store, settings, str(small), authority=BRISTOL, fmt="rdf")
    again = client.get(f"/dumps/authority/{BRISTOL}.nq.gz", headers={"If-None-Match": etag})
    assert again.status_code == 200 and again.headers["ETag"] != etag
    store.close()


# Remote stores only: the embedded store builds its index while it writes (tested above).
@pytest.mark.parametrize("backend_settings", ["oxigraph-server", "virtuoso"], indirect=True)
def test_a_remote_write_updates_the_cached_index_incrementally(backend_store, backend_settings, tmp_path):
    assert hasattr(backend_store, "endpoints")
    (tmp_path / "bristol.json").write_text(json.dumps(bristol_services()), encoding="utf-8")
    ingest(backend_store, backend_settings, str(tmp_path / "bristol.json"), authority=BRISTOL, fmt="json")
    textindex.open_index(backend_store).close()  # the first reader builds the cache
    (tmp_path / "nlincs.json").write_text(json.dumps(nlincs_services()), encoding="utf-8")
    ingest(backend_store, backend_settings, str(tmp_path / "nlincs.json"), authority=NLINCS, fmt="json")
    # the write itself left the file of its version (no reader built it)
    folder = textindex.index_folder(backend_store)
    if backend_settings.extra.get("index_cache"):  # a remote store: the node's configured cache
        assert folder == Path(backend_settings.extra["index_cache"])
    path = textindex.index_file(folder, backend_store.version())
    assert path.exists()
    with textindex.open_index(backend_store) as index:
        assert index.search("speech") == [svc(SVC_NL)] and index.search("explorers") == [svc(SVC_PLAY)]
    assert_stats_match_sparql(backend_store, backend_settings, needs=False)
    fresh = tmp_path / "fresh.sqlite"
    textindex.build(backend_store, fresh, backend_store.named_graphs(), version=backend_store.version())
    assert tables(path) == tables(fresh)


# -- the search's SQLite answers equal the SPARQL ones ---------------------------------------
FILTER_SETS = [
    {}, {"q": "play"}, {"q": "sunrise"}, {"q": "sunrise", "authority": NLINCS}, {"q": "sunrise", "cost": "paid"},
    {"q": "zzzz"}, {"q": "***"}, {"authority": BRISTOL}, {"need": "communication-and-interaction"},
    {"need": "asd"}, {"need": "slcn"}, {"category": "preparation-for-adulthood"}, {"age": "17"}, {"age": "3.5"},
    {"band": "16-19"}, {"band": "0-4", "age": "2"}, {"cost": "free"}, {"cost": "paid"},
    {"day": "Tuesday"}, {"day": "Tuesday", "time": "14:00"}, {"day": "Tuesday", "time": "16:00"},
    {"time": "10:00"}, {"language": "SOMALI"}, {"attendance": "online"}, {"attendance": "Venue", "authority": BRISTOL},
    {"accessibility": "wheelchair accessible"}, {"q": "play", "attendance": "venue", "age": "6"},
    {"page": "2"}, {"q": "sunrise", "page": "2"},
]


def assert_sqlite_equals_sparql(store, filters):
    import datetime as dt

    from localoffer.publisher.linkeddata import search

    from .sparql_search import sparql_facets, sparql_services

    f = search.parse_filters(filters, now=dt.datetime(2026, 11, 24, 14, 0))
    with textindex.open_index(store) as index:
        matches = index.search(f.q, 100000) if f.q else None
        expected = sparql_services(index.store, f, BASE, matches)
        total, hits = search.results(index, f, BASE)
        start = (f.page - 1) * search.PAGE_SIZE
        assert (total, [h.iri for h in hits]) == (len(expected), expected[start:start + search.PAGE_SIZE]), filters
        counted = {c.name: [(v.value, v.label, v.count) for v in c.values] for c in search.facets(index, f, BASE)}
        assert counted == sparql_facets(index.store, f, BASE, matches), filters


@pytest.mark.parametrize("filters", FILTER_SETS, ids=lambda f: "&".join(f"{k}={v}" for k, v in f.items()) or "all")
def test_search_tables_answer_as_sparql_did(store, filters):
    assert_sqlite_equals_sparql(store, filters)


def test_open_now_answers_as_sparql_did(store):
    assert_sqlite_equals_sparql(store, {"open_now": "1"})


def test_search_tables_follow_writes_to_other_graphs(tmp_path):
    """Statements about a service in a graph that does not declare it, a taxonomy term placed
    under an area of need, and changed ages: the incremental tables equal a fresh build and
    answer as SPARQL does."""
    settings = build_store(tmp_path / "data")
    store = open_store(settings)
    term = f"{B}/id/taxonomy-term/speech-therapy"
    writes = [
        ("more", BRISTOL, f"<{svc(SVC_COLLEGE)}> <{ns.LO}needCategory> <{ns.SCHEME}need/asd> .\n"),
        ("nl", NLINCS, f"<{svc(SVC_NL)}> <{ns.LO}needCategory> <{term}> .\n"),
        ("taxonomy", BRISTOL, f"<{term}> <{ns.SKOS}broader> <{ns.SCHEME}need/slcn> .\n"),
        ("ages", BRISTOL, f"<{svc(SVC_NL)}-audience> <{ns.SCHEMA}suggestedMaxAge> 30 .\n"),
    ]
    for name, code, turtle in writes:
        (tmp_path / f"{name}.ttl").write_text(turtle, encoding="utf-8")
        ingest(store, settings, str(tmp_path / f"{name}.ttl"), authority=code, fmt="rdf", source_id=name)
        for filters in ({}, {"need": "asd"}, {"need": "slcn"}, {"band": "19-25"}, {"age": "28"}):
            assert_sqlite_equals_sparql(store, filters)
    from localoffer.publisher.linkeddata import search

    with textindex.open_index(store) as index:
        need = {f.name: {v.value: v.count for v in f.values} for f in search.facets(index, search.Filters(), BASE)}
    assert need["need"].get("speech-therapy") == 1 and need["need"].get("asd") == 2
    view = textindex.pin(store)
    fresh = tmp_path / "fresh.sqlite"
    textindex.build(view, fresh, view.named_graphs(), version=view.version())
    built = textindex.index_file(Path(settings.store) / "derived", view.version())
    assert search_tables(built) == search_tables(fresh)
    store.close()


def search_tables(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as conn:
        return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall())  # noqa: S608
                for t in ("svc", "facet", "service_age", "service_hours", "band", "facet_label")}


def test_a_service_declared_in_two_graphs_is_counted_and_listed_once(tmp_path):
    """Another council's graph declaring a service again (same name): one service in the
    counts, the pages by name and the pages by relevance, as SPARQL answers."""
    settings = build_store(tmp_path / "data")
    store = open_store(settings)
    turtle = (f"<{svc(SVC_PLAY)}> a <{ns.SCHEMA}Service> ; "
              f"<{ns.SCHEMA}name> \"Little Explorers Play Scheme\" ; "
              f"<{ns.LO}localAuthority> <{ns.authority_iri(BASE, NLINCS)}> .\n")
    (tmp_path / "again.ttl").write_text(turtle, encoding="utf-8")
    ingest(store, settings, str(tmp_path / "again.ttl"), authority=NLINCS, fmt="rdf", source_id="again")
    with textindex.open_index(store) as index:
        assert index.shared
    for filters in ({}, {"q": "play"}, {"q": "explorers"}, {"authority": NLINCS},
                    {"q": "play", "authority": NLINCS}, {"q": "play", "authority": BRISTOL}):
        assert_sqlite_equals_sparql(store, filters)
    store.close()


@pytest.mark.parametrize("filters", [{}, {"authority": NLINCS}, {"q": "play"}, {"q": "cafe"}])
def test_hits_show_what_the_store_holds(store, filters):
    """A page's names, descriptions, councils, providers and ages come from the version's file,
    and equal what SPARQL reads from the store."""
    from localoffer.publisher.linkeddata import search

    f = search.parse_filters(filters)
    with textindex.open_index(store) as index:
        selection = search.select(index, f, BASE)
        _, iris = search.page_of(index, f, BASE, selection)
        assert iris
        kept = search._details(index, selection.sets, iris)
        read = search._details_from_store(index, iris)

    def shown(d):
        return {s: {k: search._n(v) if k in ("min", "max") else v for k, v in r.items() if v} for s, r in d.items()}
    assert shown(kept) == shown(read) and len(read) == len(iris)


def test_a_server_worker_reads_a_new_versions_search_sets_ahead_of_requests(tmp_path):
    from localoffer.server import keep_search_warm

    settings = build_store(tmp_path / "data")
    store = open_store(settings)
    path = textindex.index_file(Path(settings.store) / "derived", store.version())
    assert searchsets.file_key(path) not in searchsets._recent
    gc.unfreeze()
    try:
        keep_search_warm(store, every=0, rounds=1)
        assert searchsets.file_key(path) in searchsets._recent
        assert gc.get_freeze_count() > 0  # what the worker holds now is out of full GC passes
    finally:
        gc.unfreeze()
    store.close()


def test_a_write_of_neutral_graphs_only_links_the_search_file_and_copies_the_counts(tmp_path):
    """A validation report changes no search table: the new version's search file is the
    previous one (a hard link, however large), its counts are a new file that knows the
    report's graph, both equal a from-scratch build, and a worker's sets are not read again."""
    from localoffer.validation import publish_report, validate_store

    settings = build_store(tmp_path / "data")
    store = open_store(settings)
    derived = Path(settings.store) / "derived"
    before = textindex.index_file(derived, store.version())
    with textindex.open_index(store) as index:
        sets = searchsets.sets_of(index.conn, index.path)
    code = statistics.collect(store, settings)["authorities"][0]["code"]
    publish_report(store, settings, validate_store(store, settings, authority=code))
    after = textindex.index_file(derived, store.version())
    assert after != before and after.stat().st_ino == before.stat().st_ino
    assert textindex.counts_file(after).stat().st_ino != textindex.counts_file(before).stat().st_ino
    with closing(textindex.open_file(after)) as conn:
        graphs = {g for (g,) in conn.execute("SELECT graph FROM graph_stat")}
    assert any("/graph/validation/" in g for g in graphs)
    with textindex.open_index(store) as index:
        assert searchsets.sets_of(index.conn, index.path) is sets
    view = textindex.pin(store)
    fresh = tmp_path / "fresh.sqlite"
    textindex.build(view, fresh, view.named_graphs(), version=view.version())
    assert tables(after) == tables(fresh)
    store.close()


def test_a_file_of_the_previous_format_is_upgraded_not_rebuilt(tmp_path, monkeypatch):
    """A store written before the counts had their own file: the first reader moves them out
    (a copy of rows; a rebuild reads every graph again) and the tables stay the same."""
    settings = build_store(tmp_path / "data")
    store = open_store(settings)
    path = textindex.index_file(Path(settings.store) / "derived", store.version())
    expected = tables(path)
    with closing(textindex.open_file(path, writable=True)) as conn:  # as format 5 wrote it
        for table in statistics.table_names():
            conn.execute(f"CREATE TABLE main.{table} AS SELECT * FROM counts.{table}")  # noqa: S608
        conn.execute("UPDATE info SET value = '5' WHERE key = 'format'")
    textindex.counts_file(path).unlink()
    textindex._CHECKED.clear()

    def no_rebuild(*args, **kwargs):
        raise AssertionError("rebuilt from the store")

    monkeypatch.setattr(textindex, "build", no_rebuild)
    with textindex.open_index(store) as index:
        assert statistics.read(index.conn)["authorities"]
    assert textindex.counts_file(path).exists() and tables(path) == expected
    with closing(sqlite3.connect(path)) as conn:
        assert not conn.execute("SELECT name FROM sqlite_master WHERE name = 'graph_stat'").fetchall()
    store.close()
