"""The description behind every resource document (publisher/linkeddata/describe.py): the label
cache gives what uncached lookups give, follows the data version and stays bounded; inverse
links are counted right whether they come in the one query or need the COUNT query; the
remote stores give the same description as the embedded one; one query per round."""

from __future__ import annotations

import io
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from localoffer.publisher.linkeddata import describe as describing
from localoffer.publisher.linkeddata.describe import Description, LabelCache, describe
from rdflib.compare import isomorphic

from localoffer.config import load_settings
from localoffer.store import Store, open_store

from ..ldfixtures import (
    BASE,
    BRISTOL,
    ORG_SHARED,
    RESOURCES,
    build_store,
)

B = BASE.rstrip("/")
SUBJECTS = RESOURCES
SDO_NAME = "https://schema.org/name"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    db = open_store(build_store(tmp_path / "data"))
    yield db
    db.close()


def shape(desc: Description) -> tuple:
    return (sorted(map(str, desc.triples)), desc.labels, [str(t) for t in desc.inverse], desc.inverse_counts)


def test_every_subject_is_found(store: Store) -> None:
    for subject in SUBJECTS:
        assert describe(store, subject).found, subject


def test_cached_labels_are_the_uncached_ones(store: Store) -> None:
    cache = LabelCache()
    for subject in SUBJECTS:
        plain = shape(describe(store, subject))
        assert shape(describe(store, subject, labels=cache)) == plain  # cold
        assert shape(describe(store, subject, labels=cache)) == plain  # warm
    assert cache.entries, "the cache was never filled"


def test_linked_organisation_is_labelled(store: Store) -> None:
    org = f"{B}/id/organization/{ORG_SHARED}"
    desc = describe(store, SUBJECTS[0], labels=LabelCache())
    assert org in desc.linked()
    names = [row["n"].value for row in store.select(f"SELECT ?n WHERE {{ <{org}> <{SDO_NAME}> ?n }}")]
    assert desc.labels[org] in names


def test_cache_follows_the_data_version(store: Store) -> None:
    org = f"{B}/id/organization/{ORG_SHARED}"
    cache = LabelCache()
    before = describe(store, SUBJECTS[0], labels=cache).labels[org]
    with store.write() as session:
        session.update(f'DELETE {{ GRAPH ?g {{ <{org}> <{SDO_NAME}> ?n }} }} '
                       f'INSERT {{ GRAPH ?g {{ <{org}> <{SDO_NAME}> "Renamed Trust" }} }} '
                       f'WHERE {{ GRAPH ?g {{ <{org}> <{SDO_NAME}> ?n }} }}')
    after = describe(store, SUBJECTS[0], labels=cache).labels[org]
    assert before != "Renamed Trust" and after == "Renamed Trust"
    assert cache.version == store.version()


def test_cache_stays_bounded(store: Store) -> None:
    cache = LabelCache(size=8)
    for subject in SUBJECTS * 2:
        assert shape(describe(store, subject, labels=cache)) == shape(describe(store, subject))
        assert len(cache.entries) <= 8


def test_inverse_counts_past_the_one_query(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    authority = f"{B}/id/authority/{BRISTOL}"
    truth = {row["p"].value: int(row["n"].value) for row in store.select(
        f"SELECT ?p (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s ?p <{authority}> FILTER(isIRI(?s)) }} "
        "GROUP BY ?p")}
    assert max(truth.values()) >= 2
    pairs = {(row["s"].value, row["p"].value) for row in store.select(
        f"SELECT DISTINCT ?s ?p WHERE {{ ?s ?p <{authority}> FILTER(isIRI(?s)) }}")}
    few = describe(store, authority)
    assert few.inverse_counts == truth
    assert {(t.subject.value, t.predicate.value) for t in few.inverse} == \
        {(s, p) for s, p in pairs if s not in few.owned_iris()}
    monkeypatch.setattr(describing, "MAX_INVERSE", 1)
    many = describe(store, authority)
    assert many.inverse_counts == truth
    assert len(many.inverse) == 1
    assert isinstance(many.inverse[0].subject, ox.NamedNode)


# -- the same description from every backend ----------------------------------------------------
# A service whose parts are blank nodes (as RDF sources may have them): the description follows
# them two levels down in the query that finds them.
BLANK_SERVICE = f"{B}/id/service/blank-nodes"
BLANK_TTL = f"""@prefix schema: <https://schema.org/> .
<{BLANK_SERVICE}> a schema:Service ; schema:name "Blank node service" ;
    schema:offers [ a schema:Offer ; schema:name "Session" ;
                    schema:priceSpecification [ schema:price 3.5 ; schema:priceCurrency "GBP" ] ] ;
    schema:provider <{B}/id/organization/{ORG_SHARED}> .
""".encode()
BLANK_GRAPH = f"{B}/graph/source/blank-nodes"


def copy_store(source: Store, target: Store) -> None:
    """Every named graph of *source* into *target*, as it is (same IRIs, same change records)."""
    with target.write() as session:
        for graph in source.named_graphs():
            out = io.BytesIO()
            source.dump(out, "nt", graph)
            session.load(graph, out.getvalue(), "nt")


def same(here: Description, there: Description) -> bool:
    """The same document: isomorphic triples and inverse links (blank nodes aside; rdflib reads
    literals by their value, so Virtuoso's "1" is "true"), the same counts, and the same labels
    -- plus, from Virtuoso, labels its own system graphs give W3C terms (owl:sameAs)."""
    def graph(desc: Description) -> rdflib.Graph:
        data = ox.serialize(desc.triples + desc.inverse, format=ox.RdfFormat.N_TRIPLES)
        return rdflib.Graph().parse(data=data, format="nt")
    extra = there.labels.keys() - here.labels.keys()
    return isomorphic(graph(here), graph(there)) and here.inverse_counts == there.inverse_counts \
        and all(there.labels[i] == text for i, text in here.labels.items()) \
        and not any(i.startswith(BASE) for i in extra)


def reference_copy(store: Store, backend_store: Store, folder: Path) -> Store:
    """*store* (with the blank-node service added) copied into *backend_store*, and an embedded
    store holding what the backend then holds (Virtuoso rewrites some literals: booleans as 1,
    WKT as its own geometry type)."""
    with store.write() as session:
        session.load(BLANK_GRAPH, BLANK_TTL, "ttl")
    copy_store(store, backend_store)
    reference = open_store(load_settings({"store": str(folder), "base_uri": BASE}, environ={}))
    copy_store(backend_store, reference)
    return reference


@pytest.mark.server
def test_every_backend_gives_the_same_description(store: Store, backend_store: Store, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The queries of describe() run on the remote stores as on the embedded one: same triples,
    labels, inverse links and counts (with the counts' own query too)."""
    reference = reference_copy(store, backend_store, tmp_path / "back")
    for subject in SUBJECTS:
        here, there = describe(reference, subject, labels=LabelCache()), describe(backend_store, subject)
        assert here.triples and same(here, there), subject
    monkeypatch.setattr(describing, "MAX_INVERSE", 1)
    authority = f"{B}/id/authority/{BRISTOL}"
    assert same(describe(reference, authority), describe(backend_store, authority))
    reference.close()


@pytest.mark.server
def test_blank_nodes_are_followed_on_every_backend(store: Store, backend_store: Store,
                                                   tmp_path: Path) -> None:
    """Blank-node parts come with their subject, two levels down, from every backend."""
    reference = reference_copy(store, backend_store, tmp_path / "back")
    here = describe(reference, BLANK_SERVICE)
    price = [t for t in here.triples if t.predicate.value == "https://schema.org/price"]
    assert len(price) == 1 and isinstance(price[0].subject, ox.BlankNode)
    assert here.labels[f"{B}/id/organization/{ORG_SHARED}"] == "Sunrise Play Trust"
    there = describe(backend_store, BLANK_SERVICE)  # Virtuoso names them nodeID://...
    assert same(here, there)
    reference.close()


def sparql_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """describe() as it runs on a remote store: in SPARQL queries, without index reads."""
    monkeypatch.setattr(describing, "direct_reader", lambda db: None)


def queries_from_now(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SPARQL queries describe() sends from now on, appended as they are asked."""
    asked: list[str] = []
    rows = describing._rows

    def counting(db, sparql, names):  # type: ignore[no-untyped-def]
        asked.append(sparql)
        return rows(db, sparql, names)

    monkeypatch.setattr(describing, "_rows", counting)
    return asked


def test_one_query_per_round(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """In SPARQL (the remote stores), a service's document takes one query per round of owned
    nodes (the inverse links and the labels ride along), plus one for labels only while
    shared terms are not cached."""
    sparql_only(monkeypatch)
    cache = LabelCache()
    describe(store, SUBJECTS[0], labels=cache)
    asked = queries_from_now(monkeypatch)
    desc = describe(store, SUBJECTS[0], labels=cache)
    rounds = 1 + max(_depth(desc, t.subject.value) for t in desc.triples)
    assert len(asked) == rounds
    assert shape(desc) == shape(describe(store, SUBJECTS[0]))


def _depth(desc: Description, node: str) -> int:
    """How many owned links lead from the subject to *node*."""
    if node == desc.subject:
        return 0
    parents = [t.subject.value for t in desc.triples if t.object == ox.NamedNode(node)
               and isinstance(t.subject, ox.NamedNode) and t.subject.value != node]
    return 1 + min(_depth(desc, p) for p in parents)


def test_the_embedded_store_reads_its_indexes_not_queries(store: Store,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """On the embedded store a service's document is read from the engine's indexes: no SPARQL
    query at all, once the shared terms' labels are cached."""
    cache = LabelCache()
    describe(store, SUBJECTS[0], labels=cache)
    asked = queries_from_now(monkeypatch)
    assert describe(store, SUBJECTS[0], labels=cache).triples
    assert asked == []


@pytest.mark.parametrize("limits", [None, (1, 1), (1, 300), (300, 1)], ids=["as-set", "both-1", "inverse-1",
                                                                           "fetch-1"])
def test_index_reads_give_what_the_queries_give(store: Store, monkeypatch: pytest.MonkeyPatch,
                                                 limits: tuple[int, int] | None) -> None:
    """The same description, labels, inverse links and counts from the embedded store's index
    reads as from the SPARQL queries the remote stores get: for each kind of resource, for a
    service whose parts are blank nodes, and with the inverse links cut at the first scan
    (INVERSE_FETCH: the scan gives up, the query takes over) or past MAX_INVERSE."""
    with store.write() as session:
        session.load(BLANK_GRAPH, BLANK_TTL, "ttl")
    if limits is not None:
        monkeypatch.setattr(describing, "MAX_INVERSE", limits[0])
        monkeypatch.setattr(describing, "INVERSE_FETCH", limits[1])
    direct = {subject: shape(describe(store, subject, labels=LabelCache()))
              for subject in [*SUBJECTS, BLANK_SERVICE]}
    sparql_only(monkeypatch)
    for subject, expected in direct.items():
        assert shape(describe(store, subject)) == expected, subject
    price = [t for t in expected[0] if "schema.org/price>" in t]
    assert len(price) == 1 and price[0].startswith("_:"), "the blank nodes were not followed"


def test_labels_chosen_on_an_older_version_stay_with_it(store: Store) -> None:
    """A page still reading the version before a write (pinned) that finishes after a page of
    the new version started: the labels it chose are not kept as the new version's."""
    org = f"{B}/id/organization/{ORG_SHARED}"
    old = store.pinned()
    with store.write() as session:
        session.update(f'DELETE {{ GRAPH ?g {{ <{org}> <{SDO_NAME}> ?n }} }} '
                       f'INSERT {{ GRAPH ?g {{ <{org}> <{SDO_NAME}> "Renamed Trust" }} }} '
                       f'WHERE {{ GRAPH ?g {{ <{org}> <{SDO_NAME}> ?n }} }}')

    class Meanwhile(LabelCache):
        def add(self, entries, found):  # noqa: ANN001, ANN202
            self.view(store.version())  # a page of the new version, in another thread
            super().add(entries, found)

    cache = Meanwhile()
    assert describe(old, SUBJECTS[0], labels=cache).labels[org] != "Renamed Trust"
    cache.__class__ = LabelCache
    assert describe(store, SUBJECTS[0], labels=cache).labels[org] == "Renamed Trust"
    assert shape(describe(store, SUBJECTS[0], labels=cache)) == shape(describe(store, SUBJECTS[0]))
