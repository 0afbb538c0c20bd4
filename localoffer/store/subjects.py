"""The subject index of the embedded store: for each IRI, the graphs of a version that say
something about it, and for most graphs what they say, kept beside the store so that reading a
resource's triples does not look every term up in RocksDB.

Why: Oxigraph stores each IRI and long literal once, under a hash, and decodes every term of
every quad it returns with a RocksDB lookup. Reading a service's ~19 quads costs ~15 µs a
quad on a 21 MB store and ~25 µs on the national one (6.4 GB), against ~1.4 µs for the same
quads in an in-memory store. A service's document reads ~60 quads in ~15 scans, which made
it cost about twice a SPARQL lookup of the service's own triples. The same quads read from
here (one SQLite row, decompressed and parsed) cost ~4 µs each.

What is kept, in `{store}/derived/subjects/index.sqlite` (WAL; written only by the store's
writer, under its lock, before a version is published; read by any number of processes):

    part(id, graph, first, last)      one graph's subjects as some write left them, in the
                                      rows numbered first to last
    row(id, part, iri, nt)            the IRI has triples in the part's graph; nt, when not
                                      NULL, is all of them (N-Quads, zlib); indexed by iri
    version(name, part, exact)        the parts that make up a published version
    done(name)                        versions whose parts cover every graph

A part is *exact* in a version when its rows hold the graph's triples as they are in that
version: it was made from the graph's snapshot (`localoffer.store.snapshots`: the N-Triples a
writer loaded, checked to be exactly the graph's triples in the store's canonical form). Any
other part is a *hint*: a superset of the IRIs that have triples in the graph, whose triples are
then read from the store (a false hint costs one empty scan). Hints come from what a write
added (the subjects of N-Triples it loaded, as further parts over the earlier ones), from an
exact part of an earlier version when a later write changed the graph in place (deleting keeps
it a superset), or from the store (the graph's distinct IRI subjects) when a write's additions
are not known: a SPARQL Update that inserts, a load in another syntax, a graph past
MAX_LAYERS hint parts. Blank nodes are never indexed: they are read from the store, where
their labels are the store's own.

So for a version in `done`, the quads of an IRI are those of its exact rows plus a scan of
each hinted graph, and an IRI with no row has none: `EmbeddedStore.quads_for_pattern` answers
from here, and asks the store alone when the version is not covered (an index that could not
be written: the write still publishes, with a warning) or the file cannot be read. Parts no
version uses are deleted at the next publish (versions go with the store's own pruning)."""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import sqlite3
import threading
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from localoffer.store import DEFAULT_GRAPH, snapshots

log = logging.getLogger(__name__)
FORMAT = "2"  # bump when the tables change: an older file is deleted and written afresh
FOLDER = ("derived", "subjects")
FILE = "index.sqlite"
MAX_LAYERS = 16
"""Hint parts a graph may have before the next write replaces them with one from the store."""
KEEP_VERSIONS_READ = 8
"""Versions whose parts a reader remembers."""
_ADDS = re.compile(rb"\b(INSERT|LOAD|COPY|MOVE|ADD)\b", re.IGNORECASE)
_SUBJECT_IRI = re.compile(rb"(?:^|\r)[ \t]*<([^>]*)>", re.MULTILINE)
"""An N-Triples line's subject IRI: a line may start with spaces or tabs, and end with a lone CR."""
_COMMENT_AFTER_TRIPLE = re.compile(rb"\.[ \t]*#")

_TABLES = """
CREATE TABLE IF NOT EXISTS info(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS part(id INTEGER PRIMARY KEY, graph TEXT NOT NULL, first INTEGER, last INTEGER);
CREATE TABLE IF NOT EXISTS row(id INTEGER PRIMARY KEY, part INTEGER NOT NULL, iri TEXT NOT NULL, nt BLOB);
CREATE INDEX IF NOT EXISTS row_iri ON row(iri);
CREATE TABLE IF NOT EXISTS version(name TEXT NOT NULL, part INTEGER NOT NULL, exact INTEGER NOT NULL,
                                   PRIMARY KEY (name, part)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS done(name TEXT PRIMARY KEY);
"""


def path(root: Path) -> Path:
    return Path(root).joinpath(*FOLDER, FILE)


# -- what a write did --------------------------------------------------------------------------
@dataclass
class Changes:
    """What a write session did to each graph, as far as the index needs to know: the IRI
    subjects it may have added (None: not known, the graph is read from the store again) and
    the graphs it emptied first. *everything*: any graph may have changed."""

    added: dict[str, set[str] | None] = field(default_factory=dict)
    cleared: set[str] = field(default_factory=set)
    everything: bool = False

    def drop(self, graph: str) -> None:
        self.added[graph] = set()
        self.cleared.add(graph)

    def add(self, graph: str | None, subjects: Iterable[str] | None) -> None:
        """*subjects* (None: unknown) were written to *graph* (None: to any graph)."""
        if graph is None:
            self.everything = True
            return
        if subjects is None:
            self.added[graph] = None
            return
        known = self.added.setdefault(graph, set())
        if known is not None:
            known.update(subjects)

    def update(self, sparql: str, touched: set[str] | None) -> None:
        """A SPARQL Update that may write *touched* (None: any graph) and the default graph,
        which it writes without naming it (INSERT DATA with no GRAPH, ADD <g> TO DEFAULT). One
        that can only delete leaves every hint a superset; anything else is re-read."""
        if touched is not None:
            touched = touched | {DEFAULT_GRAPH}
        if not _ADDS.search(sparql.encode("utf-8", "replace")):
            if touched is None:
                self.everything = True
            else:
                for graph in touched:
                    self.added.setdefault(graph, set())
            return
        if touched is None:
            self.everything = True
        else:
            for graph in touched:
                self.added[graph] = None


def subjects_of(data: bytes) -> set[str] | None:
    """The IRI subjects of N-Triples *data* (blank nodes are never indexed); None when an IRI
    is written with escapes (its value is then not its text)."""
    found = set(_SUBJECT_IRI.findall(data))
    if any(b"\\" in iri for iri in found):
        return None
    try:
        return {iri.decode("utf-8") for iri in found}
    except UnicodeDecodeError:
        return None


# -- writing -----------------------------------------------------------------------------------
def publish(root: Path, previous: str | None, name: str, touched: set[str] | None,
            changes: Changes) -> None:
    """Index the version *name* that the store's writer has written and is about to publish,
    after its snapshots (see the module docstring): the graphs *touched* (None: any) are
    indexed again, from the version's snapshot of the graph where it has one, and the others
    keep *previous*'s parts (all are indexed again when *previous* has none). Never raises for
    a failure of its own: the version is then published without an index (read from the store
    alone) and a warning says why."""
    target = path(root)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = _connect(target)
        except sqlite3.DatabaseError as exc:  # damaged: readers notice the new file
            log.warning("the subject index %s cannot be read (%s); it is written afresh", target, exc)
            _delete(target)
            conn = _connect(target)
    except (OSError, sqlite3.Error) as exc:
        log.warning("no subject index for store version %s: cannot open %s (%s); its resources "
                    "are read from the store", name, target, exc)
        return
    try:
        _Writer(conn, Path(root), name).run(previous, touched, changes)
    except (sqlite3.Error, OSError, ValueError, SyntaxError, RuntimeError, zlib.error) as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        log.warning("no subject index for store version %s (%s: %s); its resources are read from "
                    "the store", name, type(exc).__name__, exc)
    finally:
        conn.close()


def _connect(target: Path) -> sqlite3.Connection:
    """The writer's connection to the index file. A file of another layout is deleted and
    made anew, never rewritten in place: a reader still on a version of the old file goes on
    reading that file, whose part numbers are not the new file's."""
    conn = sqlite3.connect(target, timeout=60, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA cache_size=-131072")  # 128 MB: inserts spill far fewer pages
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS info(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        row = conn.execute("SELECT value FROM info WHERE key = 'format'").fetchone()
        if row is None or row[0] != FORMAT:
            if row is not None or conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE name = 'part'").fetchone():
                conn.execute("ROLLBACK")
                conn.close()
                log.info("the subject index %s is of another layout; it is written afresh", target)
                _delete(target)
                return _connect(target)
            for statement in _TABLES.split(";"):  # a new file
                if statement.strip():
                    conn.execute(statement)
            conn.execute("INSERT INTO info VALUES ('format', ?)", (FORMAT,))
        # the file's token: what a reader remembers of a file, it remembers with its token
        conn.execute("INSERT OR IGNORE INTO info VALUES ('file', ?)", (secrets.token_hex(8),))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return conn


def _delete(target: Path) -> None:
    for f in (target, target.with_name(FILE + "-wal"), target.with_name(FILE + "-shm")):
        f.unlink(missing_ok=True)


def _listed(conn: sqlite3.Connection, name: str) -> list[tuple[int, bool, str]] | None:
    """(part, exact, graph) of the version *name*; None when the file does not cover it."""
    if conn.execute("SELECT 1 FROM done WHERE name = ?", (name,)).fetchone() is None:
        return None
    return [(part, bool(exact), graph) for part, exact, graph in conn.execute(
        "SELECT v.part, v.exact, p.graph FROM version v JOIN part p ON p.id = v.part WHERE v.name = ?", (name,))]


def _token(conn: sqlite3.Connection) -> str:
    """The token the file was made with ("" for a file from before tokens)."""
    row = conn.execute("SELECT value FROM info WHERE key = 'file'").fetchone()
    return row[0] if row else ""


class _Writer:
    """One publish. Each new part is written in a transaction of its own (a part no version
    names is invisible to readers, and deleted by a later publish if this one dies); the
    version's list of parts and the clean-up come last, in one transaction."""

    def __init__(self, conn: sqlite3.Connection, root: Path, name: str) -> None:
        self.conn, self.root, self.name = conn, root, name
        self.view: ox.Store | None = None

    def run(self, previous: str | None, touched: set[str] | None, changes: Changes) -> None:
        conn, name = self.conn, self.name
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DELETE FROM version WHERE name = ?", (name,))  # left by a killed writer
        conn.execute("DELETE FROM done WHERE name = ?", (name,))
        conn.execute("COMMIT")
        kept = {}  # graph -> its snapshot in this version (exactly its triples)
        for graph, entry in snapshots.read_index(self.root, name).items():
            file = snapshots.folder(self.root, name) / str(entry.get("file"))
            try:
                if file.stat().st_size == entry.get("bytes"):
                    kept[graph] = file
            except OSError:
                pass
        self.view = ox.Store.read_only(str(self.root / "versions" / name))
        graphs = {g.value for g in self.view.named_graphs() if isinstance(g, ox.NamedNode)}
        graphs.add(DEFAULT_GRAPH)
        before = self._parts(previous) if touched is not None and not changes.everything else None
        chosen: list[tuple[int, bool]] = []
        for graph in sorted(graphs):
            chosen += self._graph(graph, before, touched, changes, kept)
        self.view = None
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany("INSERT INTO version VALUES (?, ?, ?)",
                             [(name, part, int(exact)) for part, exact in chosen])
            conn.execute("INSERT INTO done VALUES (?)", (name,))
            self._collect()
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _parts(self, version: str | None) -> dict[str, list[tuple[int, bool]]] | None:
        """graph -> (part, exact) of *version*; None when it is not indexed."""
        listed = None if version is None else _listed(self.conn, version)
        if listed is None:
            return None
        out: dict[str, list[tuple[int, bool]]] = {}
        for part, exact, graph in listed:
            out.setdefault(graph, []).append((part, exact))
        return out

    def _graph(self, graph: str, before: dict[str, list[tuple[int, bool]]] | None, touched: set[str] | None,
               changes: Changes, kept: dict[str, Path]) -> list[tuple[int, bool]]:
        if (before is not None and touched is not None and graph not in touched and graph not in changes.added
                and graph in before):  # (an update writes the default graph without naming it)
            return before[graph]
        if graph in kept:
            part = self._exact(graph, kept[graph])
            if part is not None:
                return [(part, True)]
        added = changes.added.get(graph, None)
        if before is not None and added is not None:
            layers = [] if graph in changes.cleared else [(part, False) for part, _ in before.get(graph, [])]
            if added:
                layers.append((self._hint(graph, sorted(added)), False))
            if len(layers) <= MAX_LAYERS:
                return layers
        return [(self._hint(graph, self._stored_subjects(graph)), False)]

    def _new_part(self, graph: str, rows: list[tuple[str, bytes | None]]) -> int:
        """A part of *graph* with *rows* (IRI, N-Quads or None), in a transaction of its own."""
        rows.sort()
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:  # one writer: the part's rows are numbered one after the other
            part = int(conn.execute("INSERT INTO part(graph) VALUES (?)", (graph,)).lastrowid)  # type: ignore[arg-type]
            (last,) = conn.execute("SELECT coalesce(max(id), 0) FROM row").fetchone()
            conn.executemany("INSERT INTO row(part, iri, nt) VALUES (?, ?, ?)", ((part, iri, nt) for iri, nt in rows))
            conn.execute("UPDATE part SET first = ?, last = (SELECT coalesce(max(id), 0) FROM row) WHERE id = ?",
                         (last + 1, part))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return part

    def _hint(self, graph: str, iris: Iterable[str]) -> int:
        return self._new_part(graph, [(iri, None) for iri in set(iris)])

    def _stored_subjects(self, graph: str) -> list[str]:
        """The distinct IRI subjects of *graph* in the version (only those are decoded)."""
        assert self.view is not None
        where = "?s ?p ?o" if graph == DEFAULT_GRAPH else f"GRAPH {ox.NamedNode(graph)} {{ ?s ?p ?o }}"
        return [row[0].value for row in self.view.query(f"SELECT DISTINCT ?s WHERE {{ {where} FILTER(isIRI(?s)) }}")]

    def _exact(self, graph: str, snapshot: Path) -> int | None:
        """A part holding the triples of *graph* from its snapshot, grouped by subject; None when
        the file has blank nodes (their labels mean nothing outside it) or does not parse. A
        snapshot is the writer's file as loaded: a line in the plain "<s> <p> <o> ." form is
        kept as it is; any other (leading spaces, a lone CR, an escaped subject IRI, a comment,
        or a literal that looks like one) is parsed and written again."""
        data = snapshot.read_bytes()
        if b"_:" in data:
            return None
        node = ox.NamedNode(graph)
        tail = f" {node} .\n".encode()
        groups: dict[bytes, list[bytes]] = {}
        careful = b"\r" in data or _COMMENT_AFTER_TRIPLE.search(data) is not None  # (seldom: per line then)
        for line in data.split(b"\n"):
            if not line:
                continue
            end = line.find(b">")
            if (line[0] == 0x3C and line.endswith(b" .") and line.find(b"\\", 0, end) < 0  # "<"
                    and not (careful and (b"\r" in line or _COMMENT_AFTER_TRIPLE.search(line)))):
                groups.setdefault(line[1:end], []).append(line[:-2] + tail)
                continue
            try:
                triples = list(ox.parse(line, format=ox.RdfFormat.N_TRIPLES))
            except (SyntaxError, ValueError):
                return None
            for t in triples:
                if not isinstance(t.subject, ox.NamedNode):
                    return None
                groups.setdefault(t.subject.value.encode("utf-8"), []).append(
                    f"{t.subject} {t.predicate} {t.object} {node} .\n".encode("utf-8"))
        try:
            rows = [(key.decode("utf-8"), zlib.compress(b"".join(lines), 1)) for key, lines in groups.items()]
        except UnicodeDecodeError:
            return None
        return self._new_part(graph, rows)

    def _collect(self) -> None:
        """Forget versions that are gone from the store and the parts no version uses."""
        versions = self.root / "versions"
        live = {p.name for p in versions.iterdir()} if versions.is_dir() else set()
        names = {n for (n,) in self.conn.execute("SELECT DISTINCT name FROM version")}
        names |= {n for (n,) in self.conn.execute("SELECT name FROM done")}
        for gone in sorted(names - live - {self.name}):
            self.conn.execute("DELETE FROM version WHERE name = ?", (gone,))
            self.conn.execute("DELETE FROM done WHERE name = ?", (gone,))
        unused = [p for (p,) in self.conn.execute(
            "SELECT id FROM part WHERE id NOT IN (SELECT DISTINCT part FROM version)")]
        for part in unused:
            self.conn.execute("DELETE FROM row WHERE id BETWEEN (SELECT first FROM part WHERE id = ?) "
                              "AND (SELECT last FROM part WHERE id = ?)", (part, part))
            self.conn.execute("DELETE FROM part WHERE id = ?", (part,))


# -- reading -----------------------------------------------------------------------------------
class Reader:
    """The index of one store folder, for the reading processes (one connection per thread).

    A version's parts are remembered per opening of it (*opening*: a number the caller gives
    each handle it opens) together with the token of the file they were read from (written
    when the file is made): a version's name is written again after CURRENT is put back by
    hand, and a file deleted (it is optional) or found damaged is written afresh with other
    part numbers, perhaps on the same inode, so neither a name nor a connection alone says
    which parts are meant. A version not seen before is always looked up on a connection
    opened then, to the file there is now."""

    def __init__(self, root: Path) -> None:
        self.file = path(root)
        self._local = threading.local()
        self._lock = threading.Lock()
        # (version, opening) -> (file token, part -> (graph, exact)); None: not indexed
        self._versions: dict[tuple[str, int], tuple[str, dict[int, tuple[Any, bool]]] | None] = {}
        self._warned = False

    def _connect(self) -> tuple[sqlite3.Connection, str] | None:
        """A new connection to the file there is now, made this thread's, and the file's token
        (None when there is no file)."""
        if not self.file.exists():
            return None
        conn = sqlite3.connect(self.file, timeout=10, isolation_level=None, check_same_thread=False)
        try:
            token = _token(conn)
        except BaseException:
            conn.close()
            raise
        held = getattr(self._local, "held", None)
        if held is not None:
            held[0].close()
        self._local.held = held = (conn, token)
        return held

    def _parts(self, key: tuple[str, int]) -> tuple[sqlite3.Connection, dict[int, tuple[Any, bool]] | None]:
        """The parts of the version *key* as the file there is now lists them (None: it does
        not cover the version), remembered; and the connection they were read on."""
        now = self._connect()
        if now is None:
            return None, None  # type: ignore[return-value]
        conn, token = now
        conn.execute("BEGIN")  # the list and the token from the same state of the file
        try:
            listed, now_token = _listed(conn, key[0]), _token(conn)
        finally:
            conn.execute("COMMIT")
        if now_token != token:  # replaced between the two reads: look again next time
            return conn, None
        parts = None if listed is None else {
            part: (ox.DefaultGraph() if graph == DEFAULT_GRAPH else ox.NamedNode(graph), exact)
            for part, exact, graph in listed}
        with self._lock:
            if len(self._versions) >= KEEP_VERSIONS_READ:
                self._versions.pop(next(iter(self._versions)))
            self._versions[key] = None if parts is None else (token, parts)
        return conn, parts

    def quads(self, version: str, db: ox.Store, subject: ox.NamedNode,
              predicate: ox.NamedNode | None, opening: int = 0) -> Iterator[ox.Quad] | None:
        """The quads of *subject* (with *predicate*, or any) in every graph of *version*
        (*db*: that version, for the hinted graphs, as opened the *opening*-th time); None
        when the index does not cover the version or cannot be read (the caller then asks the
        store)."""
        key = (version, opening)
        known = self._versions.get(key, ())
        if known is None:
            return None  # known not to be indexed
        try:
            held = getattr(self._local, "held", None)
            if known and held is not None and held[1] == known[0]:
                conn, parts = held[0], known[1]
            elif known and (now := self._connect()) is not None and now[1] == known[0]:
                conn, parts = now[0], known[1]  # this thread's first read of it, or a new file
            else:
                conn, parts = self._parts(key)
                if parts is None:
                    return None
            rows = conn.execute("SELECT part, nt FROM row WHERE iri = ?", (subject.value,)).fetchall()
            found: list[Iterable[ox.Quad]] = []
            scanned: set[Any] = set()
            for part, nt in rows:
                entry = parts.get(part)
                if entry is None:
                    continue  # a part of another version
                node, exact = entry
                if exact:
                    quads = ox.parse(zlib.decompress(nt), format=ox.RdfFormat.N_QUADS)
                    found.append([q for q in quads if q.predicate == predicate] if predicate is not None
                                 else list(quads))
                elif node not in scanned:
                    scanned.add(node)
                    found.append(db.quads_for_pattern(subject, predicate, None, node))
        except (sqlite3.Error, zlib.error, SyntaxError, ValueError) as exc:
            self._failed(exc)
            with self._lock:
                self._versions[key] = None  # read from the store until the next version
            return None
        return itertools.chain.from_iterable(found)

    def _failed(self, exc: Exception) -> None:
        if not self._warned:
            self._warned = True
            log.warning("the subject index %s cannot be read (%s: %s); resources are read from the "
                        "store", self.file, type(exc).__name__, exc)


_READERS: dict[Path, Reader] = {}
_READERS_LOCK = threading.Lock()


def reader(root: Path) -> Reader:
    """This process's reader of the index of the store at *root*."""
    key = Path(root).resolve()
    with _READERS_LOCK:
        found = _READERS.get(key)
        if found is None:
            found = _READERS[key] = Reader(key)
        return found
