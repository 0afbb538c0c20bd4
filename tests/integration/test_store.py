"""The embedded store: versions published atomically, killed writers leave no trace,
readers see new versions."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from localoffer.config import load_settings
from localoffer.errors import StoreError
from localoffer.ingest.pipeline import ingest
from localoffer.store import open_store
from localoffer.store.embedded import KEEP_VERSIONS, SPOOL

from ..conftest import BASE, SAMPLES

BRISTOL = SAMPLES / "bristol-services-2024-12.json"
COUNT_SERVICES = "SELECT (COUNT(?s) AS ?n) WHERE { ?s a <https://schema.org/Service> }"


def _count(store) -> int:
    return int(next(iter(store.query(COUNT_SERVICES)))["n"].value)


def test_write_session_is_atomic_on_error(store, tmp_path):
    nt = tmp_path / "a.nt"
    nt.write_text('<http://x/s> <http://x/p> "1" .\n')
    with store.write() as w:
        w.replace_graph("http://x/g", nt)
    before = store.version()
    with pytest.raises(RuntimeError), store.write() as w:
        w.drop_graph("http://x/g")
        raise RuntimeError("boom")
    assert store.version() == before
    assert store.count("http://x/g") == 1


def test_a_write_releases_its_handle_with_or_without_a_collection(store, tmp_path):
    """The read-write handle is gone when a write ends (RocksDB may compact and delete files
    while one is open, and its lock keeps another writer out): freed at once when nothing else
    holds it, with no full collection (which costs seconds in a process holding millions of
    objects); collected when something in a reference cycle still does."""
    import gc

    import pyoxigraph as ox

    nt = tmp_path / "a.nt"
    nt.write_text('<http://x/s> <http://x/p> "1" .\n')
    collections = []
    gc.callbacks.append(lambda phase, info: collections.append(phase))
    enabled = gc.isenabled()
    gc.disable()  # only the store's own collections are counted
    try:
        with store.write() as w:
            w.replace_graph("http://x/g", nt)
        assert collections == []
        ox.Store(str(store.root / "versions" / store.version())).flush()  # the lock is free
        with store.write() as w:
            w.replace_graph("http://x/h", nt)
            cycle: list = [w.db]
            cycle.append(cycle)
            del cycle
        assert "start" in collections
        ox.Store(str(store.root / "versions" / store.version())).flush()
    finally:
        gc.callbacks.pop()
        if enabled:
            gc.enable()
    assert store.count("http://x/h") == 1


def test_second_writer_is_refused_while_one_writes(store, tmp_path):
    with store.write():
        other = open_store(load_settings({"store": str(store.root), "base_uri": BASE}, environ={}))
        with pytest.raises(StoreError, match="another process is writing"), other.write():
            pass


def test_reader_sees_new_version_without_reopening(store, settings, tmp_path):
    reader = open_store(settings)
    assert _count(reader) == 0
    ingest(store, settings, str(BRISTOL), authority="E06000023")
    assert _count(reader) == 817


def test_old_versions_are_pruned(store, tmp_path):
    nt = tmp_path / "a.nt"
    for i in range(6):
        nt.write_text(f'<http://x/s> <http://x/p> "{i}" .\n')
        with store.write() as w:
            w.replace_graph("http://x/g", nt)
    versions = sorted(p.name for p in (store.root / "versions").iterdir())
    # the published version, the ones kept for readers still on them, and no leftovers
    assert len(versions) <= KEEP_VERSIONS + 1
    assert versions[-1] == store.version()
    _deleted(store.root / "trash")  # the pruned ones are deleted by a thread


def _deleted(trash: Path) -> None:
    import threading

    for t in threading.enumerate():
        if t.name == "localoffer-prune":
            t.join(30)
    assert not trash.exists() or not any(trash.iterdir())


def test_a_version_left_in_the_trash_goes_with_the_next_write(store, tmp_path):
    """A process killed while deleting pruned versions leaves them in trash/: the next write
    deletes them, and a write does not wait for the deleting."""
    left = store.root / "trash" / "v000001-killed"
    (left / "sub").mkdir(parents=True)
    (left / "sub" / "000001.sst").write_bytes(b"x" * 1000)
    nt = tmp_path / "a.nt"
    nt.write_text('<http://x/s> <http://x/p> "1" .\n')
    with store.write() as w:
        w.replace_graph("http://x/g", nt)
    _deleted(store.root / "trash")
    assert store.count("http://x/g") == 1


def _big_feed(path: Path, copies: int) -> None:
    records = json.loads(BRISTOL.read_text())
    out = []
    for i in range(copies):
        for r in records:
            r = dict(r, id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{r['id']}-{i}")))
            out.append(r)
    path.write_text(json.dumps(out))


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["while-mapping", "while-loading"])
def test_killed_ingest_leaves_previous_version_queryable(tmp_path, moment):
    store_dir = tmp_path / "store"
    env = {**os.environ, "LOCALOFFER_STORE": str(store_dir), "LOCALOFFER_BASE_URI": BASE}
    cli = [sys.executable, "-m", "localoffer"]
    subprocess.run([*cli, "ingest", str(BRISTOL), "--authority", "E06000023", "--source-id", "bristol"],
                   env=env, check=True, capture_output=True)
    store = open_store(load_settings({"store": str(store_dir), "base_uri": BASE}, environ={}))
    version, services = store.version(), _count(store)
    assert services == 817
    big = tmp_path / "big.json"
    _big_feed(big, 30)
    proc = subprocess.Popen([*cli, "ingest", str(big), "--authority", "E06000023", "--source-id", "bristol"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    if moment == "while-mapping":
        time.sleep(1.0)
    else:
        # the writer checkpoints a new version folder before loading into it
        while not (store_dir / "versions" / "v000002").exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline
            time.sleep(0.005)
    assert proc.poll() is None, "the ingest finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert store.version() == version
    assert _count(store) == 817
    fresh = open_store(load_settings({"store": str(store_dir), "base_uri": BASE}, environ={}))
    assert _count(fresh) == 817
    # the next ingest cleans up after the killed one and succeeds
    done = subprocess.run([*cli, "ingest", str(BRISTOL), "--authority", "E06000013", "--source-id", "other"],
                          env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert _count(fresh) == 817 * 2


def _quads(store) -> set[str]:
    import io

    out = io.BytesIO()
    store.dump(out, "nq")
    return set(out.getvalue().decode("utf-8").splitlines())


def test_compaction_publishes_the_same_data_as_a_new_version(store, settings):
    """A compacted copy replaces the published version: the same quads, graphs, graph
    snapshots and search; later writes count towards the next compaction."""
    from localoffer.textindex import open_index

    ingest(store, settings, str(BRISTOL), authority="E06000023")
    before_version, before_quads = store.version(), _quads(store)
    graphs = store.named_graphs()
    with open_index(store) as index:
        searched = index.count("autism")
    assert searched > 0
    search_inode = (store.root / "derived" / f"{before_version}.sqlite").stat().st_ino
    layout = store.layout()
    assert layout.version == before_version and layout.bytes > 0
    assert layout.compacted is None and layout.due()  # never compacted

    done = store.compact(if_due=True)
    assert done is not None and done.before == layout
    assert store.version() == done.version != before_version
    assert _quads(store) == before_quads and store.named_graphs() == graphs
    assert _count(store) == 817
    recorded = json.loads((store.root / "compacted.json").read_text())
    assert recorded == {"version": done.version, "bytes": done.bytes}
    assert done.describe().startswith(f"compacted store version {before_version} into {done.version}")
    with open_index(store) as index:  # the new version's search file: the old one, linked
        assert index.count("autism") == searched
        assert (store.root / "derived" / f"{done.version}.sqlite").stat().st_ino == search_inode
    import io

    source = next(g for g in graphs if "/graph/source/" in g)
    out = io.BytesIO()
    store.dump(out, "nt", graph=source)  # from the snapshot carried over
    assert len(out.getvalue().splitlines()) == store.count(source)

    after = store.layout()
    assert (after.compacted, after.compacted_bytes, after.writes) == (done.version, done.bytes, 0)
    assert not after.due()
    assert store.compact(if_due=True) is None  # nothing written since
    nt = store.root.parent / "extra.nt"
    nt.write_text('<http://x/s> <http://x/p> "1" .\n')
    with store.write() as w:
        w.replace_graph("http://x/g", nt)
    grown = store.layout()
    assert grown.writes == 1 and grown.bytes < 2 * grown.compacted_bytes and not grown.due()
    forced = store.compact()  # `localoffer compact` without --if-due
    assert forced is not None and store.count("http://x/g") == 1


def test_a_failed_compaction_publishes_nothing(store, settings, monkeypatch):
    """A compaction that fails (here: the disk is full) leaves the published version as it
    was, removes its half-written copy and records nothing."""
    import pyoxigraph as ox

    from localoffer.store import embedded

    ingest(store, settings, str(BRISTOL), authority="E06000023")
    before = store.version()
    real = ox.Store

    class Full:
        def __init__(self, db):
            self.db = db

        def optimize(self):
            raise OSError(28, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.db, name)

    class FailingStore:
        read_only = staticmethod(real.read_only)

        def __new__(cls, *args, **kwargs):
            return Full(real(*args, **kwargs))

    monkeypatch.setattr(embedded.ox, "Store", FailingStore)
    with pytest.raises(StoreError, match="cannot compact the store at .*No space left on device"):
        store.compact()
    monkeypatch.undo()
    assert store.version() == before
    assert sorted(p.name for p in (store.root / "versions").iterdir())[-1] == before
    assert sorted(p.name for p in (store.root / "snapshots").iterdir())[-1] == before
    assert not list((store.root / "derived").glob("v000002*"))
    assert not (store.root / "compacted.json").exists()
    assert _count(store) == 817


@pytest.mark.parametrize("record", ["", "{not json", '["v000001"]', '{"version": "v000001"}',
                                    '{"version": null, "bytes": 5}', '{"version": 5, "bytes": 5}',
                                    '{"version": "elsewhere", "bytes": 5}', '{"version": "v000009", "bytes": 5}',
                                    '{"version": "v000001", "bytes": 0}'])
def test_an_unreadable_compaction_record_counts_as_none(store, tmp_path, record):
    """A record that cannot be read, or is not of this store (a later version than the one
    published, no size), is as if the store was never compacted: compaction is due."""
    nt = tmp_path / "a.nt"
    nt.write_text('<http://x/s> <http://x/p> "1" .\n')
    with store.write() as w:
        w.replace_graph("http://x/g", nt)
    (store.root / "compacted.json").write_text(record)
    layout = store.layout()
    assert layout.bytes > 0 and layout.compacted is None and layout.due()


@pytest.mark.parametrize(("size", "compacted", "writes", "due"), [
    (0, None, 0, False),           # empty
    (10, None, 0, True),           # never compacted
    (19, 10, 29, False),
    (20, 10, 0, True),             # doubled
    (12, 10, 30, True),            # many writes
])
def test_when_compaction_is_due(size, compacted, writes, due):
    from localoffer.store.embedded import COMPACT_GROWTH, COMPACT_WRITES, Layout

    assert (COMPACT_GROWTH, COMPACT_WRITES) == (2.0, 30)
    layout = Layout("v000040", size, None if compacted is None else "v000010", compacted or 0, writes)
    assert layout.due() is due


def test_a_record_of_a_rolled_back_version_is_forgotten(store, tmp_path):
    """CURRENT put back to an older version (by hand, from a backup): the compacted version
    after it is deleted with the next write, its name is reused, and so the record goes too."""
    nt = tmp_path / "a.nt"
    for i in range(2):
        nt.write_text(f'<http://x/s> <http://x/p> "{i}" .\n')
        with store.write() as w:
            w.replace_graph("http://x/g", nt)
    done = store.compact()
    assert done is not None and done.version == "v000003"
    (store.root / "CURRENT").write_text("v000002\n")
    with store.write() as w:  # writes v000003 again
        w.replace_graph("http://x/g", nt)
    assert store.version() == "v000003"
    assert not (store.root / "compacted.json").exists()
    assert store.layout().compacted is None and store.layout().due()


def _graph_rows(store, graph) -> set[str]:
    rows = store.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return {" ".join(r[v].value for v in "spo") for r in rows}


def test_several_graphs_loaded_together_are_each_their_own(store):
    """load_graphs: each body lands in its own graph, as load() one by one would put it;
    blank nodes of two bodies stay two nodes; a body not ending in a newline loses no triple."""
    a = b'<http://x/s> <http://x/p> "a . b" .\n<http://x/s> <http://x/q> <http://x/o> .\n'
    b = b'<http://x/s> <http://x/p> "line\\nbreak .\\n" .\n'
    blank1 = b'_:n <http://x/p> "1" .\n<http://x/s> <http://x/r> _:n .\n'
    blank2 = b'_:n <http://x/p> "2" .\n'
    unended = b'<http://x/t> <http://x/p> "last" .'
    bodies = {"http://x/a": a, "http://x/b": b, "http://x/blank1": blank1, "http://x/blank2": blank2,
              "http://x/unended": unended, "http://x/empty": b""}
    with store.write() as w:
        w.load_graphs(bodies)
    assert _graph_rows(store, "http://x/a") == {'http://x/s http://x/p a . b', "http://x/s http://x/q http://x/o"}
    assert _graph_rows(store, "http://x/b") == {'http://x/s http://x/p line\nbreak .\n'}
    assert len(_graph_rows(store, "http://x/unended")) == 1
    assert store.count("http://x/blank1") == 2 and store.count("http://x/blank2") == 1
    blank = "SELECT ?n WHERE { GRAPH ?g { ?n <http://x/p> ?v } FILTER isBlank(?n) }"
    assert len({str(r["n"]) for r in store.query(blank)}) == 2  # not one node shared by both graphs
    assert "http://x/empty" in store.named_graphs()
    assert store.count() == 7
    assert not list(store.root.rglob(SPOOL))  # the file the loader read is gone


def test_a_bad_body_among_several_publishes_none_of_them(store):
    with store.write() as w:
        w.load_graphs({"http://x/a": b'<http://x/s> <http://x/p> "kept" .\n'})
    before = store.version()
    with pytest.raises(StoreError, match="http://x/b"), store.write() as w:
        w.load_graphs({"http://x/a": b'<http://x/s> <http://x/p> "new" .\n',
                       "http://x/b": b'<http://x/s> <http://x/p> "unclosed .\n'})
    assert store.version() == before
    assert _graph_rows(store, "http://x/a") == {'http://x/s http://x/p kept'}
    assert not list(store.root.rglob(SPOOL))
