"""Graph snapshots of the embedded store (localoffer.store.snapshots): a graph replaced from
N-Triples is read back from the lines it was loaded from, and those read back exactly what the
store itself would dump; any other change to the graph makes it be dumped from the store."""

from __future__ import annotations

import io
import os

import pyoxigraph as ox
import pytest

from localoffer.ingest.pipeline import ingest
from localoffer.store import snapshots
from localoffer.store.embedded import KEEP_VERSIONS
from localoffer.validation import validate_store

from ..conftest import SAMPLES

BRISTOL = SAMPLES / "bristol-services-2024-12.json"
XSD = "http://www.w3.org/2001/XMLSchema#"


def _from_store(store, graph: str) -> set[bytes]:
    """The graph as the store itself writes it (no snapshot)."""
    db, _ = store._opened()
    out = io.BytesIO()
    db.dump(out, ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph))
    return {line for line in out.getvalue().split(b"\n") if line}


def _dumped(store, graph: str) -> bytes:
    out = io.BytesIO()
    store.dump(out, "nt", graph=graph)
    return out.getvalue()


def _index(store) -> dict:
    return snapshots.read_index(store.root, store.version())


def test_an_ingested_feed_reads_back_from_its_snapshot_as_the_store_writes_it(store, settings):
    report = ingest(store, settings, str(BRISTOL), authority="E06000023")
    entry = _index(store)[report.graph]
    assert entry["triples"] == store.count(report.graph)
    kept = _dumped(store, report.graph)
    lines = kept.split(b"\n")[:-1]
    assert len(lines) == len(set(lines)) == entry["triples"]
    assert set(lines) == _from_store(store, report.graph)  # literals in the store's own forms


def test_literals_are_written_as_the_store_gives_them_back_and_duplicates_go(store, tmp_path):
    nt = tmp_path / "g.nt"
    nt.write_text(
        f'<http://x/s> <http://x/age> "14.0"^^<{XSD}decimal> .\n'
        f'<http://x/s> <http://x/age> "14.0"^^<{XSD}decimal> .\n'
        f'<http://x/s> <http://x/n> "007"^^<{XSD}integer> .\n'
        f'<http://x/s> <http://x/ok> "1"^^<{XSD}boolean> .\n'
        f'<http://x/s> <http://x/name> "a \\" b"^^<{XSD}string> .\n'
        f'<http://x/s> <http://x/name> "a \\" b" .\n'
        f'<http://x/s> <http://x/note> "mentions ^^<{XSD}decimal> in text"@en .\n'
        f'<http://x/s> <http://x/when> "2024-01-02T03:04:05.000Z"^^<{XSD}dateTime> .\n',
        encoding="utf-8",
    )
    with store.write() as w:
        w.replace_graph("http://x/g", nt)
    assert "http://x/g" in _index(store)
    kept = _dumped(store, "http://x/g")
    assert set(kept.split(b"\n")[:-1]) == _from_store(store, "http://x/g")
    assert b'"14"^^' in kept and b'"7"^^' in kept and b'"true"^^' in kept
    assert kept.count(b"\n") == store.count("http://x/g") == 6


def test_graphs_left_alone_keep_their_snapshot_and_changed_ones_lose_it(store, tmp_path):
    a, b = tmp_path / "a.nt", tmp_path / "b.nt"
    a.write_text('<http://x/a> <http://x/p> "a" .\n')
    b.write_text('<http://x/b> <http://x/p> "b" .\n')
    with store.write() as w:
        w.replace_graph("http://x/a", a)
        w.replace_graph("http://x/b", b)
    first = store.version()
    with store.write() as w:
        w.update('INSERT DATA { GRAPH <http://x/a> { <http://x/a> <http://x/p> "more" } }')
    index = _index(store)
    assert "http://x/a" not in index  # changed by an update: dumped from the store
    assert _dumped(store, "http://x/a").count(b"\n") == 2
    assert "http://x/b" in index  # untouched: the same file, linked
    old = snapshots.folder(store.root, first) / index["http://x/b"]["file"]
    new = snapshots.folder(store.root, store.version()) / index["http://x/b"]["file"]
    assert os.stat(old).st_ino == os.stat(new).st_ino
    with store.write() as w:
        w.replace_graph("http://x/a", a)
        w.load("http://x/a", b'<http://x/a> <http://x/p> "added" .\n', "nt")  # after the replace
    assert "http://x/a" not in _index(store)
    assert _dumped(store, "http://x/a").count(b"\n") == 2
    with store.write() as w:
        w.update("DROP ALL")  # touches every graph
    assert _index(store) == {}


def test_a_failed_write_leaves_no_snapshot_and_old_ones_are_pruned(store, tmp_path):
    nt = tmp_path / "a.nt"
    nt.write_text('<http://x/a> <http://x/p> "a" .\n')
    with store.write() as w:
        w.replace_graph("http://x/a", nt)
    with pytest.raises(RuntimeError), store.write() as w:
        w.replace_graph("http://x/c", nt)
        raise RuntimeError("boom")
    folders = {p.name for p in (store.root / snapshots.FOLDER).iterdir()}
    assert folders == {store.version()}
    for i in range(KEEP_VERSIONS + 2):
        nt.write_text(f'<http://x/a> <http://x/p> "{i}" .\n')
        with store.write() as w:
            w.replace_graph("http://x/a", nt)
    folders = {p.name for p in (store.root / snapshots.FOLDER).iterdir()}
    versions = {p.name for p in (store.root / "versions").iterdir()}
    assert folders <= versions and store.version() in folders


def test_a_file_that_does_not_match_its_graph_is_not_kept(tmp_path):
    path = tmp_path / "g.nt"
    path.write_bytes(b'<http://x/s> <http://x/p> "a" .\n<http://x/s> <http://x/p> "b" .\n')
    assert not snapshots.verified(path, 3)
    assert not path.exists()
    path.write_bytes(b'<http://x/s> <http://x/p> "a" .\n<http://x/s> <http://x/p> "a" .\n')
    assert snapshots.verified(path, 1)
    assert path.read_bytes() == b'<http://x/s> <http://x/p> "a" .\n'
    path.write_bytes(b'<http://x/s> <http://x/p> "a" .\n\n<http://x/s> <http://x/p> "b" .')  # no final newline
    assert snapshots.verified(path, 2)
    assert path.read_bytes() == b'<http://x/s> <http://x/p> "a" .\n<http://x/s> <http://x/p> "b" .\n'


def test_validation_finds_the_same_from_the_snapshot_as_from_the_store(store, settings):
    ingest(store, settings, str(BRISTOL), authority="E06000023")
    assert _index(store)
    from_snapshot = validate_store(store, settings, authority="E06000023", workers=1, incremental=False)
    import shutil

    shutil.rmtree(store.root / snapshots.FOLDER)
    from_store = validate_store(store, settings, authority="E06000023", workers=1, incremental=False)
    assert from_snapshot.findings and sorted(f.key for f in from_snapshot.findings) == sorted(
        f.key for f in from_store.findings)


def test_dump_reads_the_snapshot_and_refuses_one_cut_short(store, tmp_path):
    nt = tmp_path / "a.nt"
    nt.write_text('<http://x/a> <http://x/p> "a" .\n<http://x/a> <http://x/p> "b" .\n')
    with store.write() as w:
        w.replace_graph("http://x/a", nt)
    kept = snapshots.folder(store.root, store.version()) / _index(store)["http://x/a"]["file"]
    kept.write_bytes(kept.read_bytes().replace(b'"a"', b'"A"'))  # same size: read as it is
    assert b'"A"' in _dumped(store, "http://x/a")
    kept.write_bytes(b'<http://x/a> <http://x/p> "a" .\n')  # shorter than indexed: from the store
    assert set(_dumped(store, "http://x/a").split(b"\n")[:-1]) == _from_store(store, "http://x/a")


def test_an_update_in_the_same_write_drops_the_snapshot_made_in_it(store, tmp_path):
    nt = tmp_path / "a.nt"
    nt.write_text('<http://x/a> <http://x/p> "old" .\n')
    with store.write() as w:
        w.replace_graph("http://x/a", nt)
        w.update('DELETE DATA { GRAPH <http://x/a> { <http://x/a> <http://x/p> "old" } } ;'
                 'INSERT DATA { GRAPH <http://x/a> { <http://x/a> <http://x/p> "new" } }')
    assert "http://x/a" not in _index(store)
    assert b'"new"' in _dumped(store, "http://x/a") and b'"old"' not in _dumped(store, "http://x/a")


@pytest.mark.parametrize("update", [
    'PREFIX g: <http://x/> INSERT DATA { GRAPH g:a { <http://x/a> <http://x/p> "new" } }',
    'BASE <http://x/> INSERT DATA { GRAPH <a> { <http://x/a> <http://x/p> "new" } }',
])
def test_an_update_naming_the_graph_by_prefix_or_base_drops_its_snapshot(store, tmp_path, update):
    nt = tmp_path / "a.nt"
    nt.write_text('<http://x/a> <http://x/p> "old" .\n')
    with store.write() as w:
        w.replace_graph("http://x/a", nt)
    with store.write() as w:
        w.update(update)
    assert "http://x/a" not in _index(store)
    assert b'"new"' in _dumped(store, "http://x/a")


def test_the_callers_file_is_copied_and_blank_nodes_are_not_kept(store, tmp_path):
    nt = tmp_path / "a.nt"
    nt.write_text('<http://x/a> <http://x/p> "a" .\n')
    with store.write() as w:
        w.replace_graph("http://x/a", nt)
    nt.write_text('<http://x/a> <http://x/p> "changed later" .\n')
    assert _dumped(store, "http://x/a") == b'<http://x/a> <http://x/p> "a" .\n'
    blank = tmp_path / "b.nt"
    blank.write_text('_:b0 <http://x/p> "x" .\n<http://x/b> <http://x/q> _:b0 .\n')
    with store.write() as w:
        w.replace_graph("http://x/b", blank)
    assert "http://x/b" not in _index(store) and "http://x/a" in _index(store)
    assert _dumped(store, "http://x/b").count(b"\n") == 2


@pytest.mark.parametrize(("update", "written"), [
    ("PREFIX src: <http://x/graph/> INSERT DATA { GRAPH src:a { <http://s> <http://p> 1 } }", {"http://x/graph/a"}),
    ("BASE <http://x/> INSERT DATA { GRAPH <a> { <http://s> <http://p> 1 } }", {"a", "http://x/a"}),
    ("DELETE { GRAPH <http://m> { ?s ?p ?o } } WHERE { VALUES ?s { <http://src> } GRAPH <http://m> { ?s ?p ?o } }",
     {"http://m"}),
    ("MOVE <http://a> TO <http://b>", {"http://a", "http://b"}),
    ("WITH <http://w> DELETE { ?s ?p ?o } INSERT { ?s ?p 2 } WHERE { ?s ?p ?o }", {"http://w"}),
    ('INSERT DATA { GRAPH<http://a>{ <http://s> <http://p> "go to town, with graph theory" } }', {"http://a"}),
    ("DROP SILENT GRAPH <http://d>", {"http://d"}),
    ("INSERT { GRAPH ?g { ?s ?p 1 } } WHERE { ?s ?p ?g }", None),
    ("CLEAR ALL", None),
    ("PREFIX g: <http://x/> INSERT DATA { GRAPH g:a\\-b { <http://s> <http://p> 1 } }", None),
    ("INSERT DATA { GRAPH <http://x/\\u0067> { <http://s> <http://p> 1 } }", None),  # <http://x/g>
])
def test_the_graphs_an_update_writes(update, written):
    from localoffer.textindex import written_graphs

    assert written_graphs(update) == written


def test_the_text_index_sees_graphs_named_by_prefix_or_base():
    from localoffer.textindex import touched_by_update

    assert "http://x/graph/a" in touched_by_update(
        "PREFIX src: <http://x/graph/> INSERT DATA { GRAPH src:a { <http://s> <http://p> 1 } }", set())
    assert "http://x/a" in touched_by_update(
        "BASE <http://x/> INSERT DATA { GRAPH <a> { <http://s> <http://p> 1 } }", set())
    assert touched_by_update("INSERT DATA { GRAPH <http://x/\\u0067> { <http://s> <http://p> 1 } }", set()) is None
