"""The subject index of the embedded store (localoffer.store.subjects): after every kind of
write, an IRI's quads read through the index are exactly the quads the engine gives, and the
index is really used (the version is covered, its data graphs from their snapshots); a version
it does not cover, or a file that cannot be read, is read from the store alone; parts of
versions that are gone are deleted."""

from __future__ import annotations

import logging
import shutil
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyoxigraph as ox
import pytest

from localoffer.config import load_settings
from localoffer.ingest.pipeline import ingest
from localoffer.store import open_store, subjects
from localoffer.store.embedded import EmbeddedStore
from localoffer.validation import publish_reports, validate_store

from ..conftest import BASE, SAMPLES

FEEDS = (("bristol-services-2024-12.json", "E06000023"), ("north-lincolnshire-services-2024-12.json", "E06000013"))
META = f"{BASE.rstrip('/')}/graph/meta"
SDO = "https://schema.org/"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both real feeds ingested and validated (reports: blank nodes, loaded together)."""
    folder = tmp_path_factory.mktemp("subjects") / "store"
    settings = load_settings({"store": str(folder), "base_uri": BASE}, environ={})
    store = open_store(settings)
    for name, code in FEEDS:
        ingest(store, settings, str(SAMPLES / name), authority=code)
    publish_reports(store, settings, [validate_store(store, settings, authority=code, workers=1) for _, code in FEEDS])
    store.close()
    return folder


@pytest.fixture
def store(built: Path, tmp_path: Path) -> EmbeddedStore:
    folder = tmp_path / "store"
    shutil.copytree(built, folder)
    db = EmbeddedStore(folder)
    yield db
    db.close()


def _engine(store: EmbeddedStore) -> ox.Store:
    return store._opened()[0]


def _strings(quads) -> list[str]:  # noqa: ANN001
    return sorted(map(str, quads))


def covered(store: EmbeddedStore) -> dict[str, list[bool]]:
    """graph -> exact flags of its parts in the published version (the test fails when the
    version is not covered: every other check would then pass by reading the store)."""
    name = store.version()
    with sqlite3.connect(subjects.path(store.root)) as conn:
        assert conn.execute("SELECT 1 FROM done WHERE name = ?", (name,)).fetchone(), f"{name} is not indexed"
        out: dict[str, list[bool]] = {}
        for graph, exact in conn.execute("SELECT p.graph, v.exact FROM version v JOIN part p ON p.id = v.part "
                                         "WHERE v.name = ?", (name,)):
            out.setdefault(graph, []).append(bool(exact))
    return out


def assert_same(store: EmbeddedStore, extra: tuple[str, ...] = ()) -> int:
    """Every IRI subject and object of the store, and *extra*, read through the index: the
    engine's own quads; every 20th also with each of a few predicates. Returns how many IRIs."""
    db, name = store._opened()
    index = subjects.reader(store.root)
    iris = {ox.NamedNode(i) for i in extra}
    predicates = [ox.NamedNode(SDO + "name"), ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")]
    for q in db.quads_for_pattern(None, None, None, None):
        for term in (q.subject, q.object):
            if isinstance(term, ox.NamedNode):
                iris.add(term)
        if len(predicates) < 6 and q.predicate not in predicates:
            predicates.append(q.predicate)
    for n, iri in enumerate(sorted(iris, key=str)):
        for p in [None, *predicates] if n % 20 == 0 or iri.value in extra else [None]:
            found = index.quads(name, db, iri, p)
            assert found is not None, f"the index of {name} does not answer for {iri}"
            assert _strings(found) == _strings(db.quads_for_pattern(iri, p, None, None)), (iri, p)
    assert _strings(store.quads_for_pattern(next(iter(iris)), None, None)) == _strings(
        db.quads_for_pattern(next(iter(iris)), None, None, None))
    return len(iris)


def test_feeds_and_reports_read_through_the_index_as_from_the_engine(store: EmbeddedStore) -> None:
    parts = covered(store)
    data = [g for g in parts if "/graph/source/" in g]
    assert len(data) == 2 and all(parts[g] == [True] for g in data), parts  # from their snapshots
    assert any("/graph/validation/" in g for g in parts), parts
    assert assert_same(store) > 3000


def test_an_update_that_inserts_is_read_again_and_one_that_deletes_stays_a_superset(store: EmbeddedStore) -> None:
    graph = next(g for g in covered(store) if "/graph/source/" in g)
    service = next(iter(_engine(store).quads_for_pattern(None, ox.NamedNode(SDO + "name"), None, ox.NamedNode(graph)))).subject
    with store.write() as w:
        w.update(f'INSERT DATA {{ GRAPH <{graph}> {{ {service} <{SDO}alternateName> "Added <b>here</b>" . '
                 f'<http://example.org/new> <{SDO}name> "New" . }} }}')
    assert covered(store)[graph] == [False]
    assert assert_same(store, ("http://example.org/new",)) > 3000
    with store.write() as w:
        w.update(f"DELETE WHERE {{ GRAPH <{graph}> {{ {service} ?p ?o }} }}")
    assert covered(store)[graph] == [False]
    assert _strings(store.quads_for_pattern(service, None, None)) == _strings(
        _engine(store).quads_for_pattern(service, None, None, None))
    assert not [q for q in store.quads_for_pattern(service, None, None) if q.graph_name.value == graph]
    assert_same(store, ("http://example.org/new",))


def test_appends_to_the_metadata_graph_add_layers_then_one_read_again(store: EmbeddedStore) -> None:
    for n in range(subjects.MAX_LAYERS + 2):
        with store.write() as w:
            w.load(META, f'<http://example.org/change/{n}> <{SDO}name> "change {n}" .\n'.encode(), "nt")
        assert len(covered(store)[META]) <= subjects.MAX_LAYERS
    assert_same(store, tuple(f"http://example.org/change/{n}" for n in range(subjects.MAX_LAYERS + 2)))


def test_drops_other_syntaxes_reports_and_any_graph_updates(store: EmbeddedStore, tmp_path: Path) -> None:
    graph = next(g for g in covered(store) if "/graph/source/" in g)
    with store.write() as w:
        w.drop_graph(graph)
        w.load("http://example.org/g", b'@prefix s: <https://schema.org/> . <http://example.org/t> s:name "T" .', "ttl")
        w.load_graphs({"http://example.org/r": b'<http://example.org/r1> <http://example.org/p> "r" .\n',
                       "http://example.org/b": b'_:x <http://example.org/p> <http://example.org/r1> .\n'})
    parts = covered(store)
    assert graph not in parts and "http://example.org/g" in parts
    assert assert_same(store, ("http://example.org/t", "http://example.org/r1")) > 1000
    with store.write() as w:  # may write any graph: everything is indexed again
        w.update(f'INSERT {{ GRAPH ?g {{ ?s <{SDO}disambiguatingDescription> "x" }} }} '
                 f'WHERE {{ GRAPH ?g {{ ?s a <{SDO}Organization> }} }}')
    covered(store)
    assert_same(store)
    nt = tmp_path / "again.nt"
    nt.write_text('<http://example.org/t> <https://schema.org/name> "T again" .\n', encoding="utf-8")
    with store.write() as w:
        w.replace_graph("http://example.org/g", nt)
    assert covered(store)["http://example.org/g"] == [True]
    assert assert_same(store, ("http://example.org/t",))


def test_a_version_the_index_does_not_cover_is_read_from_the_store(store: EmbeddedStore) -> None:
    iri = next(iter(_engine(store).quads_for_pattern(None, ox.NamedNode(SDO + "name"), None, None))).subject
    expected = _strings(_engine(store).quads_for_pattern(iri, None, None, None))
    with sqlite3.connect(subjects.path(store.root)) as conn:
        conn.execute("DELETE FROM done")
    fresh = EmbeddedStore(store.root)
    assert subjects.Reader(store.root).quads(fresh.version(), _engine(fresh), iri, None) is None
    assert _strings(fresh.quads_for_pattern(iri, None, None)) == expected
    with fresh.write():  # the next write indexes every graph again
        pass
    covered(fresh)
    assert_same(fresh)
    fresh.close()


def test_a_damaged_index_is_read_around_then_written_afresh(store: EmbeddedStore,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    iri = next(iter(_engine(store).quads_for_pattern(None, ox.NamedNode(SDO + "name"), None, None))).subject
    expected = _strings(_engine(store).quads_for_pattern(iri, None, None, None))
    folder = subjects.path(store.root).parent
    shutil.rmtree(folder)
    folder.mkdir()
    subjects.path(store.root).write_bytes(b"not a database" * 100)
    caplog.set_level(logging.WARNING)
    reader = subjects.Reader(store.root)
    assert reader.quads(store.version(), _engine(store), iri, None) is None
    assert reader.quads(store.version(), _engine(store), iri, None) is None
    assert len([r for r in caplog.records if "cannot be read" in r.getMessage()]) == 1  # once a reader
    assert _strings(EmbeddedStore(store.root).quads_for_pattern(iri, None, None)) == expected
    with store.write() as w:
        w.load("http://example.org/g", b'<http://example.org/t> <https://schema.org/name> "T" .\n', "nt")
    assert any("written afresh" in r.getMessage() for r in caplog.records)
    assert covered(store)["http://example.org/g"] == [False]  # every graph indexed again
    assert reader.quads(store.version(), _engine(store), iri, None) is not None  # the new file
    assert_same(store, ("http://example.org/t",))


def test_a_write_publishes_when_the_index_cannot_be_written(store: EmbeddedStore,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    folder = subjects.path(store.root).parent
    shutil.rmtree(folder)
    folder.write_text("a file where the folder should be")
    caplog.set_level(logging.WARNING)
    before = store.version()
    with store.write() as w:
        w.load("http://example.org/g", b'<http://example.org/t> <https://schema.org/name> "T" .\n', "nt")
    assert store.version() != before
    assert any("no subject index" in r.getMessage() for r in caplog.records)
    fresh = EmbeddedStore(store.root)
    assert [str(q.object) for q in fresh.quads_for_pattern(ox.NamedNode("http://example.org/t"), None, None)] == ['"T"']
    fresh.close()


def test_parts_of_versions_that_are_gone_are_deleted(store: EmbeddedStore) -> None:
    for n in range(5):
        with store.write() as w:
            w.update(f'INSERT DATA {{ GRAPH <http://example.org/g{n % 2}> {{ <http://example.org/s{n}> <{SDO}name> "{n}" }} }}')
    versions = {p.name for p in (store.root / "versions").iterdir()}
    with sqlite3.connect(subjects.path(store.root)) as conn:
        named = {n for (n,) in conn.execute("SELECT DISTINCT name FROM version")}
        unused = conn.execute("SELECT count(*) FROM part WHERE id NOT IN (SELECT part FROM version)").fetchone()[0]
        orphans = conn.execute("SELECT count(*) FROM row WHERE part NOT IN (SELECT id FROM part)").fetchone()[0]
        outside = conn.execute("SELECT count(*) FROM row r JOIN part p ON p.id = r.part "
                               "WHERE r.id NOT BETWEEN p.first AND p.last").fetchone()[0]
    assert named <= versions and store.version() in named
    assert unused == 0 and orphans == 0 and outside == 0
    assert_same(store, tuple(f"http://example.org/s{n}" for n in range(5)))


def test_updates_of_the_default_graph_are_read_again(store: EmbeddedStore) -> None:
    """An update writes the default graph without naming it (INSERT DATA without GRAPH, ADD ..
    TO DEFAULT): its parts are not carried over."""
    graph = next(g for g in covered(store) if "/graph/source/" in g)
    with store.write() as w:
        w.update(f'INSERT DATA {{ <http://example.org/d> <{SDO}name> "in the default graph" }}')
    assert "" in covered(store)
    assert_same(store, ("http://example.org/d",))
    with store.write() as w:
        w.update(f"ADD <{graph}> TO DEFAULT")
    covered(store)
    assert_same(store, ("http://example.org/d",))


def test_an_update_naming_a_graph_with_escapes_is_read_again(store: EmbeddedStore, tmp_path: Path) -> None:
    r"""`<http://example.org/\u0067>` in an update is the graph <http://example.org/g>: its
    parts (here exact, from its snapshot) are not carried over."""
    nt = tmp_path / "g.nt"
    nt.write_text(f'<http://example.org/t> <{SDO}name> "T" .\n', encoding="utf-8")
    with store.write() as w:
        w.replace_graph("http://example.org/g", nt)
    assert covered(store)["http://example.org/g"] == [True]
    g = "<http://example.org/\\u0067>"
    with store.write() as w:
        w.update(f'DELETE DATA {{ GRAPH {g} {{ <http://example.org/t> <{SDO}name> "T" }} }} ; '
                 f'INSERT DATA {{ GRAPH {g} {{ <http://example.org/e> <{SDO}name> "E" }} }}')
    covered(store)
    assert assert_same(store, ("http://example.org/t", "http://example.org/e")) > 3000


def test_n_triples_lines_that_start_with_spaces_or_follow_a_carriage_return(store: EmbeddedStore) -> None:
    """N-Triples lines may start with spaces or tabs and end with a lone CR: their subjects are
    among the hints all the same."""
    with store.write() as w:
        w.load("http://example.org/g", f' <http://example.org/w1> <{SDO}name> "1" .\n'
                                       f'\t<http://example.org/w2> <{SDO}name> "2" .\r'
                                       f'<http://example.org/w3> <{SDO}name> "3" .\r\n'.encode(), "nt")
        w.load_graphs({"http://example.org/h": f'  <http://example.org/w4> <{SDO}name> "4" .\n'.encode(),
                       "http://example.org/i": f'<http://example.org/w5> <{SDO}name> "5" .\n'.encode()})
    covered(store)
    assert_same(store, tuple(f"http://example.org/w{n}" for n in range(1, 6)))


def test_a_graph_replaced_from_n_triples_in_other_spacings(store: EmbeddedStore, tmp_path: Path) -> None:
    """A snapshot is the caller's file as it was loaded: terms apart by tabs or by nothing, and
    a comment after a triple, still give each IRI its own triples in the graph."""
    nt = tmp_path / "g.nt"
    nt.write_text(f'<http://example.org/t>\t<{SDO}name> "T" .\n<http://example.org/u><{SDO}name> "U" .\n',
                  encoding="utf-8")
    with store.write() as w:
        w.replace_graph("http://example.org/g", nt)
    assert covered(store)["http://example.org/g"] == [True]
    assert_same(store, ("http://example.org/t", "http://example.org/u"))
    nt.write_text(f'<http://example.org/v> <{SDO}name> "V" . # said so .\n', encoding="utf-8")
    with store.write() as w:
        w.replace_graph("http://example.org/g", nt)
    covered(store)
    assert_same(store, ("http://example.org/v",))


def test_a_version_name_written_again_after_a_rollback(store: EmbeddedStore) -> None:
    """CURRENT put back by hand: the next write makes a version of the same name again. A
    reader that read the first one reads the second one's quads, not the first one's parts."""
    reader = EmbeddedStore(store.root)
    first = next(iter(_engine(store).quads_for_pattern(None, ox.NamedNode(SDO + "name"), None, None))).subject
    assert list(reader.quads_for_pattern(first, None, None))
    name = store.version()
    older = max(p.name for p in (store.root / "versions").iterdir() if p.name < name)
    (store.root / "CURRENT").write_text(older + "\n")
    with store.write() as w:
        w.load("http://example.org/g", f'<http://example.org/t> <{SDO}name> "T" .\n'.encode(), "nt")
    assert store.version() == name
    covered(store)
    fresh = EmbeddedStore(store.root)
    for iri in (ox.NamedNode("http://example.org/t"), first):
        assert _strings(reader.quads_for_pattern(iri, None, None)) == _strings(
            _engine(fresh).quads_for_pattern(iri, None, None, None)), iri
    reader.close()
    fresh.close()


def test_a_thread_still_connected_to_a_deleted_index_file(store: EmbeddedStore) -> None:
    """derived/subjects deleted while a process reads (it is optional): the next write makes a
    new file, and a thread whose connection is to the old one reads the new version from the
    new file, not the old file's rows."""
    reader = subjects.Reader(store.root)
    first = next(iter(_engine(store).quads_for_pattern(None, ox.NamedNode(SDO + "name"), None, None))).subject
    with ThreadPoolExecutor(max_workers=1) as other:
        db, name = store._opened()
        assert other.submit(lambda: list(reader.quads(name, db, first, None))).result()
        shutil.rmtree(subjects.path(store.root).parent)
        with store.write() as w:
            w.load("http://example.org/g", f'<http://example.org/t> <{SDO}name> "T" .\n'.encode(), "nt")
        db, name = store._opened()
        t = ox.NamedNode("http://example.org/t")
        assert _strings(reader.quads(name, db, t, None)) == _strings(db.quads_for_pattern(t, None, None, None))
        found = other.submit(lambda: _strings(reader.quads(name, db, t, None) or ())).result()
        assert found == _strings(db.quads_for_pattern(t, None, None, None))


def test_an_index_of_another_layout_is_replaced_not_rewritten_under_a_reader(store: EmbeddedStore,
                                                                              tmp_path: Path) -> None:
    """The file of an older layout is written afresh as a new file: a page still reading the
    version before (pinned, its parts remembered) reads that version's quads, not rows of the
    new file's parts; the new version is read from the new file."""
    reader = EmbeddedStore(store.root)
    graph = next(g for g in covered(store) if "/graph/source/" in g)
    db = _engine(store)
    subject = next(iter(db.quads_for_pattern(None, ox.NamedNode(SDO + "name"), None, ox.NamedNode(graph)))).subject
    before = _strings(db.quads_for_pattern(subject, None, None, None))
    assert _strings(reader.quads_for_pattern(subject, None, None)) == before  # its parts remembered
    page = reader.pinned()
    with sqlite3.connect(subjects.path(store.root)) as conn:
        conn.execute("UPDATE info SET value = '1' WHERE key = 'format'")
    nt = tmp_path / "g.nt"
    nt.write_text(f'{subject} <{SDO}name> "Changed" .\n', encoding="utf-8")

    def write() -> None:  # in another thread (this one keeps its connection to the index)
        with store.write() as w:
            w.replace_graph(graph, nt)

    with ThreadPoolExecutor(max_workers=1) as other:
        other.submit(write).result()
    assert covered(store)[graph] == [True]
    assert _strings(page.quads_for_pattern(subject, None, None)) == before
    fresh = EmbeddedStore(store.root)
    after = _strings(_engine(fresh).quads_for_pattern(subject, None, None, None))
    assert after != before and _strings(reader.quads_for_pattern(subject, None, None)) == after
    for handle in (reader, fresh):
        handle.close()
