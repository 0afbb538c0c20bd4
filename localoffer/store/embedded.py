"""The embedded store: Oxigraph (pyoxigraph) on disk, published as immutable versions.

Layout of the store folder:

    CURRENT          name of the published version (replaced atomically with os.replace)
    write.lock       held (flock) by the one writer
    versions/vNNNNNN one Oxigraph database per version

Why versions: pyoxigraph has no multi-statement transactions across a graph drop and a bulk
load, and its `bulk_load` is not atomic. A writer therefore checkpoints the published version
into a new folder (RocksDB checkpoint: hard links, milliseconds), changes the copy freely,
and publishes it by replacing CURRENT. A killed or failed writer leaves CURRENT untouched, so
the previous data stays fully queryable. Readers open versions read-only (any number of
processes can) and reopen when CURRENT changes, because a read-only handle is a snapshot.

Compaction: a writer closes its copy as soon as it has loaded, so RocksDB's background
merging of the new table files never finishes, and readers of a version that many writes
went into look every key up in many overlapping files (a one-service lookup read 2-3x slower
on a 10-council store than on the same data compacted). `compact()` publishes a compacted copy
of the current version (same data, new version); `localoffer ingest` and `harvest` ask for one
when it is due (see Layout.due), and `localoffer compact` at any time. `compacted.json` names
the last compacted version and its size.
"""

from __future__ import annotations

import fcntl
import gc
import io
import itertools
import json
import os
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from localoffer.errors import StoreError
from localoffer.store import DEFAULT_GRAPH, Store, StoreBusyError, WriteSession, snapshots, subjects
from localoffer.textindex import publish as publish_index
from localoffer.textindex import touched_by_update, written_graphs

FORMATS = {
    "nt": ox.RdfFormat.N_TRIPLES, "nq": ox.RdfFormat.N_QUADS, "ttl": ox.RdfFormat.TURTLE,
    "trig": ox.RdfFormat.TRIG, "jsonld": ox.RdfFormat.JSON_LD, "rdf": ox.RdfFormat.RDF_XML,
    "n3": ox.RdfFormat.N3,
}
KEEP_VERSIONS = 3
TRASH = "trash"
"""Versions pruned but not yet deleted: a write moves them here and a thread deletes them.
Deleting a version's files costs ~1.3 s at national size (the files RocksDB has merged away
are freed then), which a write used to wait for; one left by a killed process goes with the
next write's."""
_TRASH_LOCK = threading.Lock()
SPOOL = "load.nq"
"""A load's N-Quads, in the snapshot folder of the version being written (see load_graphs)."""
# `localoffer ingest` compacts when the store has doubled since the last compaction (a load of
# many councils then compacts a few times, at sizes that double: about twice the work of
# compacting the final store once), or after this many versions (replacing councils' data
# without growing). The 30 is a judgement, not a measurement: 10 ingests into an empty store
# made a lookup's read 2.7x slower; how fast a compacted store degrades is not measured.
COMPACT_GROWTH = 2.0
COMPACT_WRITES = 30
COMPACTED = "compacted.json"
_OPENINGS = itertools.count(1)
"""Numbers the versions a process opens for reading, each opening its own (see subjects.Reader)."""


def _subjects_of(data: Path | bytes) -> set[str] | None:
    """The IRI subjects of N-Triples *data* (a file or bytes), for the subject index."""
    try:
        return subjects.subjects_of(data.read_bytes() if isinstance(data, Path) else data)
    except OSError:
        return None  # the load says what is wrong with the file; the index reads the store


def _graph_node(graph: str) -> ox.NamedNode | ox.DefaultGraph:
    return ox.DefaultGraph() if graph == DEFAULT_GRAPH else ox.NamedNode(graph)


@dataclass(frozen=True)
class Layout:
    """The published version's table files (their bytes), and the last compaction: the version
    it published, that version's bytes, and how many versions were written since."""

    version: str | None
    bytes: int
    compacted: str | None = None
    compacted_bytes: int = 0
    writes: int = 0

    def due(self) -> bool:
        """Whether `localoffer ingest` should compact now: never compacted, grown to
        COMPACT_GROWTH times the size it had then, or COMPACT_WRITES versions written since."""
        if not self.bytes:
            return False
        if self.compacted is None:
            return True
        return self.bytes >= COMPACT_GROWTH * self.compacted_bytes or self.writes >= COMPACT_WRITES

    def since(self) -> str:
        """The state since the last compaction, in words."""
        if self.compacted is None:
            return "never compacted before"
        return (f"{self.bytes / max(1, self.compacted_bytes):.1f}x its size at the last compaction "
                f"({self.compacted}), {self.writes} write{'s' if self.writes != 1 else ''} since")


@dataclass(frozen=True)
class Compaction:
    """A compaction done: the layout before, the version published, its bytes, the time taken."""

    before: Layout
    version: str
    bytes: int
    seconds: float

    def describe(self) -> str:
        mb = 1 << 20
        return (f"compacted store version {self.before.version} into {self.version} in {self.seconds:.1f} s "
                f"({self.before.bytes / mb:,.0f} MB -> {self.bytes / mb:,.0f} MB; {self.before.since()})")


class _NothingToDo(Exception):
    """Compaction found under the write lock that it is not due after all."""


def _number(version: str) -> int:
    """The sequence number of a version name (v000012 -> 12)."""
    if not (isinstance(version, str) and version.startswith("v") and version[1:].isdigit()):
        raise ValueError(f"not a version name: {version!r}")
    return int(version[1:])


def _table_bytes(folder: Path) -> int:
    """The size of RocksDB's table files in a version folder."""
    try:
        return sum(e.stat().st_size for e in os.scandir(folder) if e.name.endswith(".sst"))
    except OSError:
        return 0


def _read_record(root: Path) -> tuple[str, int] | None:
    """compacted.json of the store at *root*: (version, bytes), or None when there is none or it
    cannot be read as one."""
    try:
        record = json.loads((root / COMPACTED).read_text(encoding="utf-8"))
        version, size = record["version"], int(record["bytes"])
        _number(version)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return version, size


class _Chunks(io.RawIOBase):
    """A readable stream of the byte strings an iterator gives, each made when it is reached."""

    def __init__(self, parts: Iterator[bytes]) -> None:
        super().__init__()
        self._parts = parts
        self._part = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._part:
            part = next(self._parts, None)
            if part is None:
                return 0
            self._part = memoryview(part)
        n = min(len(buffer), len(self._part))
        buffer[:n] = self._part[:n]
        self._part = self._part[n:]
        return n


class EmbeddedSession(WriteSession):
    """Writes into a private copy of the published version."""

    def __init__(self, db: ox.Store, snapshot_folder: Path | None = None, name: str | None = None) -> None:
        self.db = db
        self.name = name  # the version this session writes
        self.on_publish: list[Callable[[], None]] = []  # run once published, the lock still held
        self.touched: set[str] | None = set()  # graphs changed (None: any), for the text index
        self.prepared: dict[str, Any] = {}  # derived rows the writer built (localoffer.prepared)
        self.snapshot_folder = snapshot_folder
        self.snapshots: dict[str, Path] = {}  # graph -> the N-Triples it was replaced with
        self.changes = subjects.Changes()  # what the subject index must read again

    def _touch(self, graph: str | None) -> None:
        if graph is None:
            self.changes.add(None, None)
            self.prepared.clear()
            self.snapshots.clear()
        else:
            self.prepared.pop(graph, None)
            self.snapshots.pop(graph, None)
        if self.touched is not None:
            self.touched = None if graph is None else self.touched | {graph}

    def prepare(self, graph: str, prepared: Any) -> None:
        self.prepared[graph] = prepared

    def close(self) -> None:
        """Drop the read-write handle: pyoxigraph closes a store when it is freed, at once when
        nothing else holds it, else (something in a reference cycle) at a collection. The
        collection is made only then: in a process holding millions of objects (every council's
        findings, in a validation of all of them) a full one costs over a second."""
        held_elsewhere = sys.getrefcount(self.db) > 2  # this attribute and the call's argument
        self.db = None  # type: ignore[assignment]
        if held_elsewhere:
            gc.collect()

    def replace_graph(self, graph: str, ntriples: Path) -> None:
        self.drop_graph(graph)
        self.load(graph, ntriples, "nt")
        target = self._snapshot_path(graph)
        if target is not None:
            try:  # a copy: the caller may write to its file again
                shutil.copyfile(ntriples, target)
                self.snapshots[graph] = target
            except OSError:
                target.unlink(missing_ok=True)  # no snapshot; the graph is dumped instead

    def _snapshot_path(self, graph: str) -> Path | None:
        if self.snapshot_folder is None or graph == DEFAULT_GRAPH:
            return None
        self.snapshot_folder.mkdir(parents=True, exist_ok=True)
        target = self.snapshot_folder / snapshots.file_name(graph)
        target.unlink(missing_ok=True)
        return target

    def verified_snapshots(self) -> dict[str, tuple[Path, int]]:
        """The snapshots of this write that match their graphs (see localoffer.store.snapshots)."""
        kept = {}
        for graph, path in self.snapshots.items():
            rows = list(self.db.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"))
            triples = int(rows[0]["n"].value)
            if snapshots.verified(path, triples):
                kept[graph] = (path, triples)
        return kept

    @contextmanager
    def stream_graph(self, graph: str) -> Iterator[IO[str]]:
        """Load while the caller writes: Oxigraph's bulk loader reads the N-Triples from a
        pipe in a second thread (it releases the GIL while parsing and loading), so mapping
        and loading run on two cores at once instead of one after the other."""
        node = _graph_node(graph)
        self.drop_graph(graph)
        snapshot = self._snapshot_path(graph)
        try:
            copy = None if snapshot is None else open(snapshot, "w", encoding="utf-8", buffering=1 << 20)  # noqa: SIM115
        except OSError:
            snapshot = copy = None
        read_fd, write_fd = os.pipe()
        reader = os.fdopen(read_fd, "rb", buffering=1 << 20)
        failed: list[BaseException] = []

        def load() -> None:
            try:
                self.db.bulk_load(reader, format=FORMATS["nt"], to_graph=node)
            except BaseException as exc:  # re-raised in the writing thread
                failed.append(exc)
            finally:
                reader.close()  # a writer still writing gets BrokenPipeError, not a hang

        self.changes.add(graph, None)  # (its snapshot, when kept, is what the index reads)
        loader = threading.Thread(target=load, name="localoffer-bulk-load", daemon=True)
        loader.start()
        out = open(write_fd, "w", encoding="utf-8", buffering=1 << 20)  # noqa: SIM115
        tee = None if copy is None else snapshots.Tee(out, copy)
        try:
            try:
                yield out if tee is None else tee  # type: ignore[misc]
            finally:
                if tee is not None:
                    tee.close_copy()
                try:
                    out.close()
                except BrokenPipeError:
                    pass
                loader.join()
        except BrokenPipeError:
            if not failed:
                raise
        if failed:
            exc = failed[0]
            if isinstance(exc, SyntaxError):
                raise StoreError(f"cannot load data into <{graph}>: {exc}") from None
            raise exc
        if isinstance(node, ox.NamedNode) and not self.db.contains_named_graph(node):
            self.db.add_graph(node)
        if snapshot is not None:
            if tee is not None and tee.complete:
                self.snapshots[graph] = snapshot
            else:
                snapshot.unlink(missing_ok=True)

    def load(self, graph: str, data: Path | bytes, fmt: str = "nt") -> None:
        self._touch(None if fmt in ("nq", "trig") else graph)
        node = _graph_node(graph)
        kwargs: dict[str, Any] = {"format": FORMATS[fmt]}
        if fmt not in ("nq", "trig"):
            kwargs["to_graph"] = node
            self.changes.add(graph, _subjects_of(data) if fmt == "nt" else None)
        try:
            if isinstance(data, Path):
                self.db.bulk_load(path=str(data), **kwargs)
            else:
                self.db.bulk_load(data, **kwargs)
        except SyntaxError as exc:
            raise StoreError(f"cannot load data into <{graph}>: {exc}") from None
        if (isinstance(node, ox.NamedNode) and not self.db.contains_named_graph(node)
                and fmt not in ("nq", "trig")):
            self.db.add_graph(node)

    def load_graphs(self, bodies: Mapping[str, bytes]) -> None:
        """One bulk load for all the graphs: each load ingests a set of table files into
        RocksDB, whose merging then costs CPU in proportion to how often that happens (four
        ~114,000-triple reports: 7.7-8.5 CPU-s together against 9.3-10.7 one by one). The
        bodies are N-Triples, one triple a line ending " .": each becomes N-Quads by naming its
        graph before the dot, one body at a time as the loader reads. A body not in that form,
        or with blank nodes (in one document the same label in two bodies would be one node),
        is loaded on its own."""
        together: list[tuple[bytes, bytes]] = []
        for graph, body in bodies.items():
            node = _graph_node(graph)
            if (not isinstance(node, ox.NamedNode) or b"_:" in body or not body.endswith(b"\n")
                    or body.count(b"\n") != body.count(b" .\n")):
                self.load(graph, body, "nt")
                continue
            self._touch(graph)
            self.changes.add(graph, subjects.subjects_of(body))
            together.append((body, f" {node} .\n".encode()))
        if together:
            quads = (body.replace(b" .\n", end) for body, end in together)
            try:
                self._bulk_load_quads(quads)
            except SyntaxError as exc:
                names = ", ".join(f"<{g}>" for g in bodies)
                raise StoreError(f"cannot load data into {names}: {exc}") from None
        for graph in bodies:  # a graph with nothing in it is still named
            node = _graph_node(graph)
            if isinstance(node, ox.NamedNode) and not self.db.contains_named_graph(node):
                self.db.add_graph(node)

    def _bulk_load_quads(self, parts: Iterator[bytes]) -> None:
        """Bulk load N-Quads given in parts: written to a file beside the version (in its
        snapshot folder, which goes with the version if the write fails) that the loader reads
        itself. Read through Python instead, the loader asked for ~1.6 KB at a time: ~0.3 s of
        the writing thread per council's report."""
        if self.snapshot_folder is None:
            self.db.bulk_load(_Chunks(parts), format=ox.RdfFormat.N_QUADS)
            return
        self.snapshot_folder.mkdir(parents=True, exist_ok=True)
        spool = self.snapshot_folder / SPOOL
        try:
            try:
                with open(spool, "wb") as out:
                    for part in parts:
                        out.write(part)
            except OSError as exc:
                raise StoreError(f"cannot write {spool} to load it: {exc.strerror}") from None
            self.db.bulk_load(path=str(spool), format=ox.RdfFormat.N_QUADS)
        finally:
            spool.unlink(missing_ok=True)

    def drop_graph(self, graph: str) -> None:
        self._touch(graph)
        self.changes.drop(graph)
        node = _graph_node(graph)
        if isinstance(node, ox.DefaultGraph):
            self.db.clear_graph(node)
        elif self.db.contains_named_graph(node):
            self.db.remove_graph(node)

    def update(self, sparql: str) -> None:
        self.touched = touched_by_update(sparql, self.touched)
        touched = touched_by_update(sparql, set())
        for g in list(self.prepared) if touched is None else touched & set(self.prepared):
            del self.prepared[g]
        written = written_graphs(sparql)
        for g in list(self.snapshots) if written is None else written & set(self.snapshots):
            del self.snapshots[g]
        self.changes.update(sparql, touched)
        self.db.update(sparql)

    def query(self, sparql: str) -> Any:
        return self.db.query(sparql, use_default_graph_as_union=True)


class EmbeddedStore(Store):
    """Oxigraph on disk, versioned; see the module docstring."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self._name: str | None = None
        self._db: ox.Store | None = None
        self._pinned = False
        self._current_cache: tuple[tuple[int, int, int], str | None] | None = None
        self._opened_from: tuple[int, int, int] | None = None  # CURRENT when the version was opened
        self._opening = 0
        self._subjects: subjects.Reader | None = None

    # -- reading -----------------------------------------------------------------------
    def _current_name(self) -> str | None:
        return self._current()[1]

    def _current(self) -> tuple[tuple[int, int, int] | None, str | None]:
        """CURRENT's identity (None when there is none) and the version it names."""
        # CURRENT is only ever replaced (os.replace), never rewritten in place: while its
        # inode and mtime are unchanged, so is its content, and a stat is all it costs.
        path = self.root / "CURRENT"
        try:
            st = os.stat(path)
            key = (st.st_ino, st.st_mtime_ns, st.st_size)
            cached = self._current_cache
            if cached is not None and cached[0] == key:
                return cached
            name = path.read_text(encoding="ascii").strip() or None
        except FileNotFoundError:
            return None, None
        except OSError as exc:
            raise StoreError(f"cannot read the store at {self.root}: {exc.strerror}") from None
        self._current_cache = (key, name)
        return key, name

    def _snapshot(self) -> ox.Store:
        return self._opened()[0]

    def _opened(self) -> tuple[ox.Store, str | None]:
        """The version read now and its name."""
        return self._reading()[:2]  # type: ignore[return-value]

    def _reading(self) -> tuple[ox.Store, str | None, int]:
        """The version read now, its name and which opening of a version this is. A new
        CURRENT is opened afresh even when it names the version read: put back by hand, then
        written again, a version's name comes back with other data."""
        if self._pinned:
            return self._db, self._name, self._opening  # type: ignore[return-value]
        current, name = self._current()
        with self._lock:
            if self._db is None or name != self._name or current != self._opened_from:
                if name is None:
                    self._db = ox.Store()
                else:
                    try:
                        self._db = ox.Store.read_only(str(self.root / "versions" / name))
                    except OSError as exc:
                        raise StoreError(f"cannot open store version {name} in {self.root}: "
                                         f"{exc}") from None
                self._name, self._opened_from, self._opening = name, current, next(_OPENINGS)
            return self._db, self._name, self._opening

    def query(self, sparql: str, *, default_graph: Sequence[str] | None = None,
              named_graphs: Sequence[str] | None = None) -> Any:
        db = self._snapshot()
        kwargs: dict[str, Any] = {}
        if default_graph is not None:
            kwargs["default_graph"] = [_graph_node(g) for g in default_graph]
        else:
            kwargs["use_default_graph_as_union"] = True
        if named_graphs is not None:
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
        return db.query(sparql, **kwargs)

    def quads_for_pattern(self, subject: ox.NamedNode | ox.BlankNode | None,
                          predicate: ox.NamedNode | None, object_: Any) -> Iterator[ox.Quad]:
        """The quads matching (subject, predicate, object), None matching anything, in every
        graph of the version read (what queries see as their default graph), straight from
        the engine's indexes: no query to parse and plan, which costs more than reading a
        resource's few dozen triples. A triple in several graphs comes once per graph. An IRI's
        quads come from the subject index when it covers the version (see
        localoffer.store.subjects): the same quads, without decoding each term from RocksDB."""
        db, name, opening = self._reading()
        if object_ is None and name is not None and isinstance(subject, ox.NamedNode):
            index = self._subjects
            if index is None:
                index = self._subjects = subjects.reader(self.root)
            found = index.quads(name, db, subject, predicate, opening)
            if found is not None:
                return found
        return db.quads_for_pattern(subject, predicate, object_, None)

    def named_graphs(self) -> list[str]:
        db = self._snapshot()
        return sorted(g.value for g in db.named_graphs() if isinstance(g, ox.NamedNode))

    def version(self) -> str:
        if self._pinned:
            return self._name or "empty"
        return self._current_name() or "empty"

    def pinned(self) -> EmbeddedStore:
        """A read-only view that keeps reading the version published now (for a request that
        must see one version throughout, with its text index)."""
        self._snapshot()
        view = EmbeddedStore(self.root)
        with self._lock:
            view._db, view._name, view._opening, view._pinned = self._db, self._name, self._opening, True
        view._subjects = self._subjects
        return view

    def modified(self) -> float | None:
        try:
            return (self.root / "CURRENT").stat().st_mtime
        except OSError:
            return None

    def dump(self, out: IO[bytes], fmt: str = "nq", graph: str | None = None) -> None:
        db, name = self._opened()
        if fmt == "nt" and graph is not None and name is not None:
            kept = snapshots.open_graph(self.root, name, graph)
            if kept is not None:  # the N-Triples it was loaded from: no term lookups
                with kept:
                    shutil.copyfileobj(kept, out, 1 << 20)
                return
        if fmt in ("nq", "trig") and graph is None:
            db.dump(out, FORMATS[fmt])
        elif graph is not None:
            db.dump(out, FORMATS[fmt], from_graph=_graph_node(graph))
        else:
            result = db.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
                              use_default_graph_as_union=True)
            result.serialize(out, FORMATS[fmt])

    def close(self) -> None:
        with self._lock:
            self._db = None
            self._name = None

    # -- writing -----------------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[WriteSession]:
        versions = self.root / "versions"
        try:
            versions.mkdir(parents=True, exist_ok=True)
            lock_file = open(self.root / "write.lock", "a+b")  # noqa: SIM115
        except OSError as exc:
            raise StoreError(f"cannot write to the store at {self.root}: {exc.strerror}") from None
        with lock_file:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StoreBusyError(f"another process is writing to the store at {self.root}; "
                                 "wait for it to finish") from None
            current = self._current_name()
            self._prune(versions, current)
            new_name = self._next_name(versions)
            new_path = versions / new_name
            if current is not None:
                ox.Store.read_only(str(versions / current)).backup(str(new_path))
            snapshots.remove(self.root, new_name)  # left by a killed writer
            session = EmbeddedSession(ox.Store(str(new_path)), snapshots.folder(self.root, new_name), new_name)
            try:
                yield session
                kept = session.verified_snapshots()
                session.db.flush()
            except BaseException:
                session.close()
                shutil.rmtree(new_path, ignore_errors=True)
                snapshots.remove(self.root, new_name)
                raise
            # The read-write handle must be gone before readers open the version: RocksDB
            # may still compact and delete files while a writer has it open.
            session.close()
            try:  # the text index and counts of the new version, read from it read-only, and
                # meanwhile its subject index (SQLite and zlib let go of the GIL: ~2 cores)
                snapshots.publish(self.root, current, new_name, session.touched, kept)
                indexer = threading.Thread(target=subjects.publish, name="localoffer-subject-index",
                                           args=(self.root, current, new_name, session.touched, session.changes))
                indexer.start()
                try:
                    publish_index(self.root, current, new_name, session.touched, session.prepared)
                finally:
                    indexer.join()
            except BaseException:
                shutil.rmtree(new_path, ignore_errors=True)
                snapshots.remove(self.root, new_name)
                raise
            self._publish(new_name)
            for callback in session.on_publish:
                callback()

    # -- compaction (see the module docstring) -------------------------------------------
    def layout(self) -> Layout:
        """The published version's table files, and what `compacted.json` says of the last
        compaction (an unreadable record counts as none)."""
        name = self._current_name()
        if name is None:
            return Layout(None, 0)
        size = _table_bytes(self.root / "versions" / name)
        record = _read_record(self.root)
        if record is None:
            return Layout(name, size)
        compacted, compacted_bytes = record
        writes = _number(name) - _number(compacted)
        if writes < 0 or compacted_bytes <= 0:  # a record from another store
            return Layout(name, size)
        return Layout(name, size, compacted, compacted_bytes, writes)

    def compact(self, *, if_due: bool = False) -> Compaction | None:
        """Publish a compacted copy of the current version (the same data as a new version);
        with *if_due*, only when the layout says so (asked again under the write lock, so two
        processes never both compact). None when nothing was done. The version read until now
        stays as it was: a failure or a kill publishes nothing. Raises StoreError."""
        if if_due and not self.layout().due():
            return None
        started = time.monotonic()
        try:
            with self.write() as session:
                before = self.layout()  # under the lock: the version this session copied
                if before.version is None or (if_due and not before.due()):
                    raise _NothingToDo
                session.db.optimize()  # type: ignore[attr-defined]
                name = session.name  # type: ignore[attr-defined]
                done: list[Compaction] = []
                session.on_publish.append(  # type: ignore[attr-defined]
                    lambda: done.append(self._record(before, name, started)))
        except _NothingToDo:
            return None
        except (OSError, RuntimeError) as exc:  # RocksDB's own errors come as RuntimeError
            raise StoreError(f"cannot compact the store at {self.root}: {exc}") from None
        return done[0]

    def _record(self, before: Layout, name: str, started: float) -> Compaction:
        """Write compacted.json for the version *name* just published (the lock still held)."""
        size = _table_bytes(self.root / "versions" / name)
        tmp = self.root / (COMPACTED + ".tmp")
        try:
            tmp.write_text(json.dumps({"version": name, "bytes": size}), encoding="utf-8")
            os.replace(tmp, self.root / COMPACTED)
        except OSError as exc:
            raise StoreError(f"compacted store version {before.version} into {name}, but could not "
                             f"record it in {self.root / COMPACTED} ({exc.strerror}); the next "
                             "ingest will compact again") from None
        return Compaction(before, name, size, time.monotonic() - started)

    def _publish(self, name: str) -> None:
        tmp = self.root / "CURRENT.tmp"
        with open(tmp, "w", encoding="ascii") as fh:
            fh.write(name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / "CURRENT")

    @staticmethod
    def _next_name(versions: Path) -> str:
        numbers = [int(p.name[1:]) for p in versions.iterdir()
                   if p.name.startswith("v") and p.name[1:].isdigit()]
        return f"v{max(numbers, default=0) + 1:06d}"

    @staticmethod
    def _prune(versions: Path, current: str | None) -> None:
        """Delete versions older than the last few and any left behind by a killed writer
        (newer than CURRENT: only the lock holder writes, so nobody is using them)."""
        names = sorted(p.name for p in versions.iterdir() if p.name.startswith("v"))
        if current is None:
            doomed = names
        else:
            older = [n for n in names if n < current]
            doomed = [n for n in names if n > current] + older[: max(0, len(older) - KEEP_VERSIONS + 1)]
        trash = versions.parent / TRASH
        for name in doomed:  # moved aside at once, deleted by a thread (below)
            try:
                trash.mkdir(exist_ok=True)
                os.rename(versions / name, trash / f"{name}-{uuid.uuid4().hex}")
            except OSError:
                shutil.rmtree(versions / name, ignore_errors=True)
        if trash.is_dir():
            _empty_trash(trash)
        snapshots.prune(versions.parent, {p.name for p in versions.iterdir()})
        # A record of a version newer than CURRENT (rolled back past): its name will be reused.
        record = _read_record(versions.parent)
        if record is not None and (current is None or _number(record[0]) > _number(current)):
            try:
                (versions.parent / COMPACTED).unlink(missing_ok=True)
            except OSError:
                pass  # left as it is: the next compaction is then only later than it would be


def _empty_trash(trash: Path) -> None:
    """Delete what is in *trash* from a thread of its own (not a daemon: a command that
    ends meanwhile waits for it, so nothing is left behind on a clean exit)."""
    def empty() -> None:
        with _TRASH_LOCK:
            for item in list(trash.iterdir()) if trash.is_dir() else []:
                shutil.rmtree(item, ignore_errors=True)

    threading.Thread(target=empty, name="localoffer-prune", daemon=False).start()
