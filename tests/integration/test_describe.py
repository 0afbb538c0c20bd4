"""The description behind every resource document (publisher/linkeddata/describe.py): the label
cache gives what uncached lookups give, follows the data version and stays bounded; inverse
links are counted right whether they come in the one query or need the COUNT query."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from localoffer.publisher.linkeddata import describe as describing
from localoffer.publisher.linkeddata.describe import Description, LabelCache, describe

from localoffer.store import Store, open_store

from ..ldfixtures import (
    BASE,
    BRISTOL,
    LOC_CENTRE,
    ORG_SHARED,
    SVC_COLLEGE,
    SVC_HOSTILE,
    SVC_PLAY,
    build_store,
)

B = BASE.rstrip("/")
SUBJECTS = [f"{B}/id/service/{SVC_PLAY}", f"{B}/id/service/{SVC_HOSTILE}", f"{B}/id/service/{SVC_COLLEGE}",
            f"{B}/id/organization/{ORG_SHARED}", f"{B}/id/location/{LOC_CENTRE}",
            f"{B}/id/authority/{BRISTOL}"]
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
