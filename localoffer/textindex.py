"""Full-text search over services, and the per-version file it lives in.

Each published store version gets one SQLite file (FTS5) holding the text index of its
services (names, descriptions, their providers' names) and the search's filters and facets
(`localoffer.facets`), and beside it a small one (`-counts`) with the precomputed statistics
(`localoffer.statistics`). The files belong to one version and never change after they are
written, so a request that reads version N searches index N:

- embedded store: `{store}/derived/{version}.sqlite`, written by the writer before it
  replaces CURRENT (a copy of the previous version's files with the changed graphs redone;
  when only neutral graphs changed, a hard link to the previous search file, which can be
  gigabytes nationally, and a copy of the counts), so the index is published together with
  the data;
- remote store: a local cache keyed by the store's `lo:storeVersion` marker, built on first
  use (a remote store cannot be pinned to a version, so the build checks that the marker did
  not move while it read).

Search: words (Unicode letters and digits) lower-cased without diacritics, Porter stems,
every word must match (as a prefix), ranked by BM25 with a service's name weighing most.
User text never reaches the FTS5 query syntax: each word is quoted as a string."""

from __future__ import annotations

import fcntl
import functools
import hashlib
import logging
import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin
from typing import Any, Protocol

from localoffer import namespaces as ns
from localoffer.errors import StoreError

log = logging.getLogger(__name__)
FORMAT = "6"  # bump when the tables change: older files are rebuilt
MAX_WORDS = 16
MAX_MATCHES = 20000
"""At most this many best-ranked services take part in a search combined with other filters."""
WEIGHTS = (10.0, 1.0, 3.0)  # bm25 weights of name, description, provider
_WORD = re.compile(r"\w+", re.UNICODE)
_IRI_IN_UPDATE = re.compile(r"<([^<>\s]*)>")
_PREFIX_DECL = re.compile(r"\bPREFIX\s*([A-Za-z_][\w.-]*|)\s*:\s*<([^<>\s]*)>", re.IGNORECASE)
_BASE_DECL = re.compile(r"\bBASE\s*<([^<>\s]*)>", re.IGNORECASE)
_ANY_GRAPH = re.compile(r"\bGRAPH\s*[?$]|\b(ALL|NAMED)\b|\bLOAD\b", re.IGNORECASE)

_TABLES = """
CREATE TABLE IF NOT EXISTS info(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS doc(id INTEGER PRIMARY KEY, graph TEXT NOT NULL, iri TEXT NOT NULL,
                               authority TEXT);
CREATE INDEX IF NOT EXISTS doc_graph ON doc(graph);
CREATE INDEX IF NOT EXISTS doc_iri ON doc(iri);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(name, description, provider,
    tokenize = 'porter unicode61 remove_diacritics 2');
"""


class Reader(Protocol):
    """What the builder reads from: a store or a write session (both answer SPARQL)."""

    def query(self, sparql: str) -> Any: ...


@functools.cache
def _has_fts5() -> bool:
    try:
        with closing(sqlite3.connect(":memory:")) as conn:
            conn.execute("CREATE VIRTUAL TABLE t USING fts5(x)")
    except sqlite3.OperationalError:
        return False
    return True


def require_fts5() -> None:
    """Fail clearly when this Python's SQLite was built without FTS5."""
    if not _has_fts5():
        raise StoreError(f"the text index needs SQLite with FTS5, but this Python's SQLite "
                         f"{sqlite3.sqlite_version} has no FTS5 module; install a Python whose "
                         "sqlite3 includes FTS5 (python.org and Debian builds do)") from None


def rows(source: Reader, sparql: str) -> Iterator[dict[str, str]]:
    """SELECT rows as dicts of variable name to the term's value (unbound ones left out)."""
    result = source.query(sparql)
    names = [v.value for v in result.variables]
    for row in result:
        yield {n: row[n].value for n in names if row[n] is not None}


# -- where the files are ---------------------------------------------------------------------
def index_folder(store: Any) -> Path:
    """The folder of a store's per-version files."""
    root = getattr(store, "root", None)
    if root is not None:
        return Path(root) / "derived"
    key = hashlib.sha256(f"{store.endpoints.query} {store.base}".encode()).hexdigest()[:16]
    configured = getattr(store, "index_cache", None)
    return Path(configured) if configured else Path(tempfile.gettempdir()) / f"localoffer-index-{key}"


def index_file(folder: Path, version: str) -> Path:
    """The file of one version (versions are folder names or UUIDs: safe as file names)."""
    if not re.fullmatch(r"[A-Za-z0-9._-]+", version):
        version = hashlib.sha256(version.encode()).hexdigest()
    return folder / f"{version}.sqlite"


def counts_file(path: Path) -> Path:
    """The file of the kept counts (`localoffer.statistics`) beside the version file *path*,
    which holds the search tables. A write that changes only counts (a validation report, an
    ingest's or harvest's records in the metadata graph: graphs declared neutral, see
    `localoffer.prepared`) copies this small file and links the large one unchanged."""
    return path.with_name(path.name + "-counts")


WORDS_FOLDER = "words"


def words_file(path: Path, contents: tuple[int, int, int] | None = None) -> Path:
    """Where readers keep the answers to the words searched in the version file *path*
    (`localoffer.searchsets`): `words/{inode}-{mtime}-{size}.sqlite` beside it, named by the
    file's contents, so versions sharing one file (a hard link: a validation report changes
    no search table) share its answers, and a file changed in place gets fresh ones. Not
    part of any version: deleting it only costs the next searches. *contents*: the file's
    (inode, mtime in ns, size) when known, else it is read (OSError when *path* is gone)."""
    if contents is None:
        st = path.stat()
        contents = st.st_ino, st.st_mtime_ns, st.st_size
    return path.parent / WORDS_FOLDER / "{}-{}-{}.sqlite".format(*contents)


def _with_journal(words: Path) -> tuple[Path, ...]:
    return words, words.with_name(words.name + "-wal"), words.with_name(words.name + "-shm")


def remove_words(words: Path) -> None:
    """Delete a words file (*words*, from `words_file`) and its journal."""
    for f in _with_journal(words):
        f.unlink(missing_ok=True)


def prune_words(folder: Path) -> None:
    """Delete the kept answers of search files no longer in *folder*."""
    kept_in = folder / WORDS_FOLDER
    if not kept_in.is_dir():
        return
    kept = set()
    for f in folder.glob("*.sqlite"):
        try:
            kept.add(words_file(f).name)
        except OSError:  # deleted meanwhile
            continue
    for f in kept_in.iterdir():
        if f.name[: f.name.find(".sqlite") + len(".sqlite")] not in kept:
            f.unlink(missing_ok=True)


def remove(path: Path) -> None:
    """Delete a version file, its counts file and the answers kept for it unless another
    version shares the file (a reader that has them open keeps reading)."""
    for f in (path, counts_file(path)):
        f.unlink(missing_ok=True)
    prune_words(path.parent)


def open_file(path: Path, *, writable: bool = False) -> sqlite3.Connection:
    """A version's file with its kept counts attached as `counts` (the tables of both answer
    to their names alone). Read-only files are opened immutable: a version's files never
    change once published."""
    if writable:
        conn = _connect(path)
        conn.execute("ATTACH DATABASE ? AS counts", (str(counts_file(path)),))
        conn.execute("PRAGMA counts.journal_mode = OFF")
        conn.execute("PRAGMA counts.synchronous = OFF")
        return conn
    conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    conn.execute("ATTACH DATABASE ? AS counts", (f"file:{counts_file(path)}?mode=ro&immutable=1",))
    return conn


# -- which graphs a write changed --------------------------------------------------------------
def touched_by_update(sparql: str, touched: set[str] | None) -> set[str] | None:
    """Add the graphs a SPARQL Update may change to *touched*; None means any graph.

    An update changes the store's default graph or graphs it names by IRI, unless it names
    them by a variable (`GRAPH ?g`) or as ALL/NAMED; every IRI it mentions is taken as a
    graph that may have changed (IRIs that are not graphs are harmless extras), and so is
    every prefixed name of a declared prefix (`GRAPH src:a`) and every IRI resolved against
    each declared base (`BASE <http://x/> ... GRAPH <a>`). A prefixed name with an escape in
    it may change any graph, and so may an IRI with one (`<http://x/\\u0067>` is <http://x/g>)."""
    if touched is None or _ANY_GRAPH.search(sparql) or _escaped_iri(sparql):
        return None
    iris = set(_IRI_IN_UPDATE.findall(sparql))
    prefixes = dict(_PREFIX_DECL.findall(sparql))
    if prefixes:
        names = re.compile(r"(?<![\w<:?$])(" + "|".join(re.escape(p) for p in prefixes) + r"):([\w.%-]*)(\\?)")
        for prefix, local, escaped in names.findall(sparql):
            if escaped:
                return None
            iris.add(prefixes[prefix] + local)
            iris.add(prefixes[prefix] + local.rstrip("."))
    return touched | _under_bases(sparql, iris)


_TARGET = re.compile(r"\b(?:GRAPH|WITH|INTO|TO|MOVE)\b(?:\s+SILENT\b)?(?:\s+GRAPH\b)?\s*([^\s{}]+)", re.IGNORECASE)


def written_graphs(sparql: str) -> set[str] | None:
    """The named graphs a SPARQL Update may write (None: any), narrower than
    touched_by_update: only those named after GRAPH, WITH, INTO, TO and MOVE, as IRIs, prefixed
    names of declared prefixes, or relative IRIs under a declared base; the other IRIs an
    update mentions (subjects, values, graphs it only reads with USING) are not graphs it
    writes. A word after those keywords that cannot name a graph is inside a literal and is
    skipped; an IRI with an escape in it may be any graph. (For the embedded store's graph
    snapshots, localoffer.store.snapshots.)"""
    if _ANY_GRAPH.search(sparql) or _escaped_iri(sparql):
        return None
    prefixes = dict(_PREFIX_DECL.findall(sparql))
    out: set[str] = set()
    for m in _TARGET.finditer(sparql):
        token = m.group(1)
        if token[0] in "?$":
            return None
        if token[0] == "<":
            end = token.find(">")
            if end < 0:
                continue
            out.add(token[1:end])
            continue
        prefix, sep, local = token.partition(":")
        if not sep or prefix not in prefixes:
            continue  # not a name: text of a literal
        if "\\" in local:
            return None  # an escaped local name: not worth resolving
        out.add(prefixes[prefix] + local.rstrip(".;,"))
    return _under_bases(sparql, out)


def _escaped_iri(sparql: str) -> bool:
    """Whether an IRI of the update is written with an escape: the engine reads `\\u0067` as
    "g", so its text is not the IRI (a word in a literal that looks like one counts too)."""
    return "\\" in sparql and any("\\" in iri for iri in _IRI_IN_UPDATE.findall(sparql))


def _under_bases(sparql: str, iris: set[str]) -> set[str]:
    """*iris*, and each resolved against every base the update declares (a relative `<a>`)."""
    for base in _BASE_DECL.findall(sparql):
        iris = iris | {urljoin(base, i) for i in iris}
    return iris


# -- building ----------------------------------------------------------------------------------
DOC_QUERY = """SELECT ?s ?name ?description ?provider ?authority WHERE {{
  GRAPH <{g}> {{ ?s a <{S}Service> ; <{S}name> ?name .
    OPTIONAL {{ ?s <{S}description> ?description }} OPTIONAL {{ ?s <{L}localAuthority> ?authority }} }}
  OPTIONAL {{ GRAPH <{g}> {{ ?s <{S}provider> ?o }} ?o <{S}name> ?provider }} }}"""
"""A graph's services with their words (one query: a service with several values of a field
comes back in several rows, and they are merged)."""
FIELDS = ("name", "description", "provider", "authority")


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    return conn


def index_graph(conn: sqlite3.Connection, source: Reader, graph: str) -> int:
    """(Re)index the services of one graph; returns how many."""
    return index_rows(conn, graph, rows(source, DOC_QUERY.format(g=graph, S=ns.SCHEMA, L=ns.LO)))


def index_rows(conn: sqlite3.Connection, graph: str, found: Iterable[dict[str, str]]) -> int:
    """(Re)index the services of one graph from rows shaped as DOC_QUERY answers them."""
    conn.execute("DELETE FROM fts WHERE rowid IN (SELECT id FROM doc WHERE graph = ?)", (graph,))
    conn.execute("DELETE FROM doc WHERE graph = ?", (graph,))
    docs: dict[str, dict[str, list[str]]] = {}
    for r in found:
        doc = docs.setdefault(r["s"], {})
        for field in FIELDS:
            if field in r:
                values = doc.setdefault(field, [])
                if r[field] not in values:
                    values.append(r[field])
    for iri, fields in sorted(docs.items()):
        if "name" not in fields:
            continue
        cur = conn.execute("INSERT INTO doc(graph, iri, authority) VALUES (?, ?, ?)",
                           (graph, iri, (fields.get("authority") or [None])[0]))
        conn.execute("INSERT INTO fts(rowid, name, description, provider) VALUES (?, ?, ?, ?)",
                     (cur.lastrowid, *("\n".join(fields.get(f, [])) for f in ("name", "description",
                                                                                 "provider"))))
    return len(docs)


def build(source: Reader, target: Path, graphs: Iterable[str], *, previous: Path | None = None,
          touched: set[str] | None = None, version: str = "",
          prepared: dict[str, Any] | None = None) -> None:
    """Write the file for a version to *target*: from *previous* with the *touched* graphs
    redone, or (no previous, or touched is None) from scratch over *graphs*. *prepared*: rows
    the writer built for some graphs (`localoffer.prepared`), used instead of reading back."""
    from localoffer import facets, statistics
    from localoffer import prepared as ready

    require_fts5()
    graphs = set(graphs)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    remove(part)
    incremental = previous is not None and touched is not None and _usable_or_upgraded(previous)
    if incremental:
        assert previous is not None and touched is not None
        shutil.copyfile(counts_file(previous), counts_file(part))
        neutral = _counts_only(previous, graphs, touched, prepared)
        if neutral is not None:  # the search tables stay as they are: the same file
            _refresh_counts(source, counts_file(part), graphs, neutral)
            os.replace(counts_file(part), counts_file(target))
            target.unlink(missing_ok=True)
            os.link(previous, target)
            return
        shutil.copyfile(previous, part)
    conn = open_file(part, writable=True)
    try:
        conn.executescript(_TABLES + statistics.tables("counts") + facets.TABLES)
        if incremental:
            indexed = {g for (g,) in conn.execute("SELECT DISTINCT graph FROM doc")}
            changed: set[str] | None = (touched or set()) & (graphs | indexed | statistics.graphs(conn))
        else:
            changed = None
        conn.execute("BEGIN")
        neutral, built = ready.split(prepared, source, graphs, changed)
        for g in sorted(graphs if changed is None else changed - set(neutral)):
            if g in built:
                index_rows(conn, g, built[g]["docs"])
            else:
                index_graph(conn, source, g)
        statistics.refresh(conn, source, graphs, changed, neutral=neutral, built=built)
        facets.refresh(conn, source, graphs, changed, built=built, neutral=set(neutral))
        # a service described in two graphs has two documents: counts must then be DISTINCT
        shared = conn.execute("SELECT COUNT(*) FROM (SELECT iri FROM doc GROUP BY iri HAVING COUNT(*) > 1)").fetchone()
        conn.executemany("INSERT OR REPLACE INTO info VALUES (?, ?)",
                         [("format", FORMAT), ("version", version), ("shared", str(shared[0]))])
        conn.execute("COMMIT")
        conn.execute("PRAGMA optimize")
    finally:
        conn.close()
    os.replace(counts_file(part), counts_file(target))  # the search file last: it makes the pair usable
    os.replace(part, target)


def _counts_only(previous: Path, graphs: set[str], touched: set[str],
                 prepared: dict[str, Any] | None) -> dict[str, Any] | None:
    """When every graph a write changed (of those the previous version's tables know or the
    store holds) is declared neutral, their marks by graph; else None."""
    from localoffer import statistics
    from localoffer.prepared import Neutral

    with closing(open_file(previous)) as conn:
        indexed = {g for (g,) in conn.execute("SELECT DISTINCT graph FROM doc")}
        known = statistics.graphs(conn)
    changed = touched & (graphs | indexed | known)
    neutral = {g: item for g, item in (prepared or {}).items()
               if g in changed and isinstance(item, Neutral)}
    return neutral if changed <= set(neutral) else None


def _refresh_counts(source: Reader, path: Path, graphs: set[str], neutral: dict[str, Any]) -> None:
    """Bring the kept counts in *path* up to date after a write of neutral graphs only."""
    from localoffer import statistics

    conn = _connect(path)
    try:
        conn.execute("BEGIN")
        statistics.refresh(conn, source, graphs, set(neutral), neutral=neutral)
        conn.execute("COMMIT")
    finally:
        conn.close()


_CHECKED: dict[tuple[str, int, int], bool] = {}


def _usable_now(path: Path) -> bool:
    """_usable, remembered per file (a version's file is replaced, never changed in place, so
    its inode and modification time name its contents): no connection per request."""
    try:
        stat = path.stat()
    except OSError:
        return False
    key = (str(path), stat.st_ino, stat.st_mtime_ns)
    if key not in _CHECKED:
        if len(_CHECKED) > 64:
            _CHECKED.clear()
        _CHECKED[key] = _usable(path)
    return _CHECKED[key]


def _usable(path: Path) -> bool:
    return counts_file(path).exists() and _format(path) == FORMAT


def _usable_or_upgraded(path: Path) -> bool:
    """_usable, after upgrading an older file (under the folder's lock, as readers do)."""
    if _usable(path):
        return True
    with open(path.parent / ".lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _usable(path) or _upgraded(path)


def _format(path: Path) -> str | None:
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            row = conn.execute("SELECT value FROM info WHERE key = 'format'").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None




def _upgraded(path: Path) -> bool:
    """Make a file of format 5 (the kept counts inside it) into the pair of format 6: the same
    rows, the counts moved to their own file. A copy, not a rebuild (which reads every graph
    again: minutes at 30,000 services); the files are replaced whole, so a reader that has
    the old one open keeps reading it. False when *path* is not such a file."""
    from localoffer import statistics

    if counts_file(path).exists() or _format(path) != "5":
        return False
    part = path.with_name(path.name + ".part")
    shutil.copyfile(path, part)
    counts_file(part).unlink(missing_ok=True)
    conn = open_file(part, writable=True)
    try:
        conn.executescript(statistics.tables("counts"))
        conn.execute("BEGIN")
        for table in statistics.table_names():
            conn.execute(f"INSERT INTO counts.{table} SELECT * FROM main.{table}")  # noqa: S608
            conn.execute(f"DROP TABLE main.{table}")
        conn.execute("UPDATE info SET value = ? WHERE key = 'format'", (FORMAT,))
        conn.execute("COMMIT")
    finally:
        conn.close()
    os.replace(counts_file(part), counts_file(path))
    os.replace(part, path)
    log.info("search file %s moved to format %s", path.name, FORMAT)
    return True


class _Version:
    """One store version opened read-only, queried with the union default graph."""

    def __init__(self, path: Path) -> None:
        import pyoxigraph as ox

        self.db = ox.Store.read_only(str(path))

    def query(self, sparql: str) -> Any:
        return self.db.query(sparql, use_default_graph_as_union=True)

    def named_graphs(self) -> list[str]:
        return [g.value for g in self.db.named_graphs() if hasattr(g, "value")]


def publish(root: Path, previous: str | None, name: str, touched: set[str] | None,
            prepared: dict[str, Any] | None = None) -> None:
    """Build the file of the version *name* that an embedded store's writer has written and is
    about to publish (before CURRENT is replaced), from the previous version's file and the
    graphs the write *touched* (None: any); delete files of versions now gone. Reads the new
    version read-only: a closed, flushed copy answers several times faster than the writer's
    handle."""
    folder = root / "derived"
    version = _Version(root / "versions" / name)
    prev = index_file(folder, previous) if previous else None
    build(version, index_file(folder, name), version.named_graphs(),
          previous=prev if prev and prev.exists() else None, touched=touched, version=name,
          prepared=prepared)
    del version
    versions = root / "versions"
    for f in folder.glob("*.sqlite*"):
        stem = f.name.split(".", 1)[0]
        if stem not in (name, previous) and not (versions / stem).exists():
            f.unlink(missing_ok=True)
    prune_words(folder)


def publish_cached(store: Any, session: Any, previous: str) -> None:
    """After a write to a remote store: build the cached file of the version it published from
    the previous version's file (only the changed graphs redone), so that the first request does
    not pay a full build. Left to the first reader when there is no previous file or another
    writer published meanwhile; a failure here never undoes the write."""
    folder = index_folder(store)
    prev, target = index_file(folder, previous), index_file(folder, session.marker)
    if not _usable(prev):
        return
    try:
        require_fts5()
        with open(folder / ".lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if store.version() != session.marker:
                return
            build(store, target, store.named_graphs(), previous=prev, touched=session.touched,
                  version=session.marker)
            if store.version() != session.marker:  # read while another write landed: not this version
                remove(target)
            else:
                _keep_newest(folder, KEEP_CACHED)
    except (StoreError, sqlite3.Error, OSError) as exc:
        remove(target)
        log.warning("text index of store version %s not built after the write (%s); the first "
                    "reader builds it", session.marker, exc)


KEEP_CACHED = 3
"""Files a reader keeps in a remote store's cache folder (the newest; older versions are gone)."""


def _keep_newest(folder: Path, keep: int) -> None:
    files = sorted(folder.glob("*.sqlite"), key=lambda f: f.stat().st_mtime, reverse=True)
    for f in files[keep:]:
        remove(f)


# -- reading -----------------------------------------------------------------------------------
def pin(store: Any) -> Any:
    """A view of *store* that keeps reading the version published now (the store itself when
    the backend cannot be pinned)."""
    pinned = getattr(store, "pinned", None)
    return pinned() if pinned else store


@dataclass
class TextIndex:
    """The index (and statistics) of one store version, with the store pinned to it."""

    version: str
    store: Any
    conn: sqlite3.Connection
    path: Path | None = None

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> TextIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def shared(self) -> bool:
        """Whether some service has documents in several graphs."""
        row = self.conn.execute("SELECT value FROM info WHERE key = 'shared'").fetchone()
        return row is None or row[0] != "0"

    def count(self, text: str, columns: tuple[str, ...] | None = None) -> int:
        """How many services match *text* (in *columns* only, if given)."""
        query = fts_query(text, columns)
        if query is None:
            return 0
        sql = ("SELECT COUNT(DISTINCT doc.iri) FROM fts JOIN doc ON doc.id = fts.rowid WHERE fts MATCH ?"
               if self.shared else "SELECT COUNT(*) FROM fts WHERE fts MATCH ?")
        return int(self.conn.execute(sql, (query,)).fetchone()[0])

    def search(self, text: str, limit: int = MAX_MATCHES, offset: int = 0,
               columns: tuple[str, ...] | None = None) -> list[str]:
        """The IRIs of the services matching *text* (in *columns* only, if given: name,
        description, provider), best first (ties in index order)."""
        query = fts_query(text, columns)
        if query is None:
            return []
        spare = 50 if self.shared else 0  # a service found twice is listed once
        ids = [rowid for (rowid,) in self.conn.execute(
            f"SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY bm25(fts, {', '.join(map(str, WEIGHTS))}), rowid "
            "LIMIT ? OFFSET ?", (query, limit + spare, offset))]
        iris = dict(self.conn.execute(f"SELECT id, iri FROM doc WHERE id IN ({','.join('?' * len(ids))})", ids))
        return list(dict.fromkeys(iris[i] for i in ids if i in iris))[:limit]


COLUMNS = ("name", "description", "provider")


def fts_query(text: str, columns: tuple[str, ...] | None = None) -> str | None:
    """An FTS5 query for the words of *text*: each quoted (so that quotes, `*`, `NEAR`, `OR`,
    `-`, `:` and brackets are only text) and matched as a prefix, in *columns* only if given;
    None when it has no words."""
    words = [w for w in _WORD.findall(text.lower()) if w.strip("_")][:MAX_WORDS]
    if not words:
        return None
    query = " ".join(f'"{w}"*' for w in words)
    if columns:
        if not set(columns) <= set(COLUMNS):
            raise ValueError(f"text index columns are {', '.join(COLUMNS)}; got {columns!r}")
        query = f"{{{' '.join(columns)}}} : ({query})"
    return query


def open_index(store: Any, attempts: int = 3) -> TextIndex:
    """The index of the version *store* publishes now, built first if it is missing."""
    require_fts5()
    view = pin(store)
    for _ in range(attempts):
        version = view.version()
        path = index_file(index_folder(store), version)
        if _usable_now(path) or _build_for_reader(view, path, version):
            return TextIndex(version, view, open_file(path), path)
    raise StoreError(f"the store changed {attempts} times while its text index was built; "
                     "try again when ingests have finished")


def _build_for_reader(view: Any, path: Path, version: str) -> bool:
    """Build a missing file from scratch (one process at a time; the others wait and reuse
    it). False when the store published another version meanwhile (a remote store cannot be
    pinned, so the file would mix two versions: it is dropped)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / ".lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _usable(path) or _upgraded(path):
            return True
        build(view, path, view.named_graphs(), version=version)
        if view.version() == version:
            _keep_newest(path.parent, KEEP_CACHED)
            return True
        remove(path)
        return False


__all__ = ["TextIndex", "open_index", "fts_query", "build", "publish", "touched_by_update", "pin"]
