"""The search tables of one version's file (`localoffer.facets`) held in memory as bitsets, so
that a `/services` page costs about the same whatever the number of services.

Each service gets a number in page order (by its lower-cased name, then IRI; services without
a name last, by IRI). A set of services is a Python int with bit i set for service i: every
facet value has one (loaded once per process and file: the file of a version never changes),
a filter is a bitwise AND, a facet count is `(value & selected).bit_count()` — a few
microseconds per value at 450,000 services instead of a join over every matching row — and a
page by name is the first set bits after the offset. Ages and opening hours have one set per
distinct (minimum, maximum) and (day, opens, closes), ORed for the age or time asked about.

Words are answered once per version: one FTS5 query ranks every match by BM25 (ties by
document), giving the services best first and, from them, the set; a page under any filters
is then the first ranked services in the filtered set, with no further query. The first
process asked keeps the answer in the words file of the version's contents
(`textindex.words_file`, shared by versions sharing a search file; at most ANSWERS_BYTES, the
first kept dropped first) for the others and later requests; each process also keeps the
last KEEP_WORDS in memory. Ranking every match is what costs: about 3 µs a match
(0.9 s for a word in 270,000 of 450,000 services), paid once per word and version.

Memory per process and file: a set is services/8 bytes (56 KB at 450,000), one per facet value
and distinct ages and hours, plus the services' IRIs; a word's answer adds 4 bytes a match;
KEEP_VERSIONS files are held."""

from __future__ import annotations

import fcntl
import logging
import math
import sqlite3
import sys
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from localoffer.textindex import WEIGHTS, remove_words, words_file

log = logging.getLogger(__name__)
T = TypeVar("T")
KEYED = ("language", "attendance", "accessibility")
"""Facets filtered on ignoring case (by their `key`)."""
KEEP_FILTERS = 1024
"""Answers kept per file: sets of ages and opening hours, pages of hits, facet counts."""
KEEP_WORDS = 64
"""Answers to words kept in memory per process and file (a word in 270,000 services: 1.1 MB)."""
ANSWERS_BYTES = 256 << 20
"""At most this much of answers to words in a words file (the first kept dropped first)."""
FAILURES_ALLOWED = 3
"""Failures to read or write a words file before a version's answers are kept in memory only."""
KEEP_VERSIONS = 2
WARM_WORDS = 128
"""Words a server answers again in a newly published version: the last asked in the one before."""


def bitset(ids: Iterable[int], size: int) -> int:
    """The set of the numbers *ids* (each < *size*) as an int."""
    bits = bytearray((size >> 3) + 1)
    for i in ids:
        bits[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(bits, "little")


_IN_BYTE = [tuple(j for j in range(8) if b >> j & 1) for b in range(256)]


def members(bits: int, offset: int, count: int) -> list[int]:
    """The numbers in the set *bits*, ascending, from the *offset*-th, at most *count*."""
    data = bits.to_bytes((bits.bit_length() >> 3) + 1, "little")
    out: list[int] = []
    seen = 0
    for start in range(0, len(data), 64):  # whole chunks before the offset are only counted
        chunk = data[start:start + 64]
        n = int.from_bytes(chunk, "little").bit_count()
        if seen + n <= offset:
            seen += n
            continue
        for k, byte in enumerate(chunk, start):
            for j in _IN_BYTE[byte]:
                if seen >= offset:
                    out.append(k * 8 + j)
                    if len(out) == count:
                        return out
                seen += 1
    return out


class _Kept(OrderedDict):
    """A small least-recently-used map (callers hold the lock)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def keep(self, key: Any, value: Any) -> Any:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)
        return value


@dataclass
class Words:
    """The services matching some words: as a set, and all of them best first (a service with
    several documents ranks as its best one)."""

    bits: int
    ranked: Sequence[int]


@dataclass
class Sets:
    """One file's search tables as bitsets (see the module docstring)."""

    iris: list[str]
    number: dict[str, int]
    values: dict[str, dict[str, int]]  # facet name -> value -> set
    keys: dict[str, dict[str, int]]  # KEYED facet name -> lower-cased value -> set
    labels: dict[str, str]
    bands: dict[str, tuple[float, float]]  # IRI -> min, max
    ages: list[tuple[float | None, float | None, int]]  # each audience's ages -> services
    hours: list[tuple[str | None, str | None, str | None, int]]  # day, opens, closes -> services
    doc: array | None = None  # text-index document -> service number (-1: none); None: some
    # service has several documents (declared in several graphs)
    file: Path | None = None  # a version file with these contents (None: answers kept in memory only)
    answers: Path | None = None  # where answers to words are kept (`textindex.words_file`)
    source: str = ""  # what names the file's contents (answers kept for another are not used)
    _failures: int = 0
    _kept: _Kept = field(default_factory=lambda: _Kept(KEEP_FILTERS))
    _words: _Kept = field(default_factory=lambda: _Kept(KEEP_WORDS))
    _asked: dict[str, threading.Event] = field(default_factory=dict)  # words being answered
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def value(self, name: str, value: str) -> int:
        """The services with *value* for the facet *name* (empty if none)."""
        return self.values.get(name, {}).get(value, 0)

    def key(self, name: str, text: str) -> int:
        """The services with a value of the facet *name* equal to *text* ignoring case."""
        return self.keys.get(name, {}).get(text.lower(), 0)

    def memo(self, key: tuple, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        found = compute()
        with self._lock:
            return self._kept.keep(key, found)

    def of_age(self, age: float | None, band: str | None) -> int:
        """Services with an audience whose ages hold *age* and overlap the age band *band*
        (a missing minimum is 0, a missing maximum 200; an unknown band matches nothing)."""
        def compute() -> int:
            lo, hi = -math.inf, math.inf
            if band is not None:
                if band not in self.bands:
                    return 0
                lo, hi = self.bands[band]
            top, bottom = (hi, lo) if age is None else (min(hi, age), max(lo, age))
            out = 0
            for amin, amax, bits in self.ages:
                if (0 if amin is None else amin) <= top and (200 if amax is None else amax) >= bottom:
                    out |= bits
            return out
        return self.memo(("age", age, band), compute)

    def open_at(self, day: str | None, time: str | None) -> int:
        """Services with an opening-hours node on *day* (an IRI) open at *time* (HH:MM:SS) and
        closing after it (a node without the day or times asked about does not match)."""
        def compute() -> int:
            out = 0
            for d, opens, closes, bits in self.hours:
                if (day is None or d == day) and (time is None or (
                        opens is not None and closes is not None and opens <= time < closes)):
                    out |= bits
            return out
        return self.memo(("hours", day, time), compute)

    def words(self, conn: sqlite3.Connection, query: str, weights: tuple[float, ...]) -> Words:
        """The services whose documents match the FTS5 *query*, ranked by BM25 with *weights*
        (kept in memory and in the version's words file for the next requests; threads asking
        for words being answered wait for that answer)."""
        while True:
            with self._lock:
                if query in self._words:
                    self._words.move_to_end(query)
                    return self._words[query]
                asked = self._asked.get(query)
                if asked is None:  # this thread answers; others asking meanwhile wait for it
                    asked = self._asked[query] = threading.Event()
                    break
            asked.wait()
        try:
            found = self._stored(query)
            if found is None:
                found = self._rank(conn, query, weights)
                self._store(query, found)
            with self._lock:
                return self._words.keep(query, found)
        finally:
            with self._lock:
                del self._asked[query]
            asked.set()

    def _rank(self, conn: sqlite3.Connection, query: str, weights: tuple[float, ...]) -> Words:
        if self.doc is not None:  # one document per service
            doc = self.doc
            rows = conn.execute(f"SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY {_bm25(weights)}, rowid",
                                (query,))
            ranked = array("i", (i for i in map(doc.__getitem__, (d for d, in rows)) if i >= 0))
        else:  # a service's best rank is that of its best document (ties: its first)
            number = self.number
            ranked = array("i", (number[s] for s, in conn.execute(
                f"SELECT doc.iri FROM (SELECT rowid AS id, {_bm25(weights)} AS rank FROM fts "
                "WHERE fts MATCH ? LIMIT -1 OFFSET 0) m JOIN doc ON doc.id = m.id GROUP BY doc.iri "
                "ORDER BY MIN(m.rank), MIN(m.id)", (query,)) if s in number))
        return Words(bitset(ranked, len(self.iris)), ranked)

    def _stored(self, query: str) -> Words | None:
        """The answer to *query* another process (or an earlier request) kept, if any."""
        answers = self.answers
        if answers is None or not answers.exists():
            return None
        try:
            with closing(_answers_db(answers)) as db:
                row = db.execute("SELECT a.bits, a.ranked FROM answer a JOIN info i ON i.key = 'source' "
                                 "WHERE a.query = ? AND i.value = ?", (query, self.source)).fetchone()
        except sqlite3.Error as exc:
            self._failed(answers, "read", exc)
            return None
        if row is None:
            return None
        bits, ranked_bytes = row
        ranked = array("i")
        found = None
        if len(bits) == (len(self.iris) >> 3) + 1 and not len(ranked_bytes) % ranked.itemsize:
            ranked.frombytes(ranked_bytes)
            found = Words(int.from_bytes(bits, "little"), ranked)
        if found is None or found.bits.bit_count() != len(ranked):
            self._failed(answers, "read", ValueError(f"the answer to {query!r} is not whole"))
            return None
        return found

    def _store(self, query: str, words: Words) -> None:
        """Keep the answer to *query* in the words file (dropping the first kept past
        ANSWERS_BYTES). A file that cannot be written (a read-only folder, a full disk, a
        lock held too long) only means the next process searches again; nothing is written
        once no version file has these sets' contents."""
        answers = self.answers
        if answers is None or self.file is None or not self.file.exists():
            return
        bits = words.bits.to_bytes((len(self.iris) >> 3) + 1, "little")
        ranked = array("i", words.ranked).tobytes()
        try:
            answers.parent.mkdir(exist_ok=True)
            with closing(_answers_db(answers)) as db:
                db.execute("BEGIN IMMEDIATE")  # the check and the writes in one transaction
                key = db.execute("SELECT value FROM info WHERE key = 'source'").fetchone()
                if key is None or key[0] != self.source:  # answers of other contents
                    db.execute("DELETE FROM answer")
                    db.execute("INSERT OR REPLACE INTO info VALUES ('source', ?)", (self.source,))
                db.execute("INSERT OR IGNORE INTO answer(query, bits, ranked, size) VALUES (?, ?, ?, ?)",
                           (query, bits, ranked, len(bits) + len(ranked)))
                total = db.execute("SELECT SUM(size) FROM answer").fetchone()[0] or 0
                for rowid, size in db.execute("SELECT rowid, size FROM answer ORDER BY rowid").fetchall():
                    if total <= ANSWERS_BYTES:
                        break
                    db.execute("DELETE FROM answer WHERE rowid = ?", (rowid,))
                    total -= size
                db.execute("COMMIT")
        except (sqlite3.Error, OSError) as exc:
            self._failed(answers, "kept", exc)

    def _failed(self, answers: Path, what: str, exc: Exception) -> None:
        """A words file that could not be read or written: a damaged one is deleted (the next
        answer starts it afresh); after FAILURES_ALLOWED failures these sets keep answers in
        memory only. Logged as a warning once per version."""
        with self._lock:
            self._failures += 1
            first, last = self._failures == 1, self._failures >= FAILURES_ALLOWED
            if last:
                self.answers = None
        (log.warning if first else log.debug)(
            "search answers not %s in %s (%s)%s", what, answers, exc,
            "; keeping them in memory only" if last else "; searching afresh")
        if type(exc) is sqlite3.DatabaseError or isinstance(exc, ValueError):  # damaged, not busy
            remove_words(answers)

    def best(self, words: Words, within: int | None, offset: int, count: int) -> list[int]:
        """The matches of some words (*words*) among the services *within* (None: all), best
        first, from the *offset*-th, at most *count* (a page's hits are kept by the search,
        `search.results`)."""
        return _page(words.ranked, within if within is None else within & words.bits, len(self.iris),
                     offset, count)


def _bm25(weights: tuple[float, ...]) -> str:
    return "bm25(fts, " + ", ".join(map(str, weights)) + ")"


def _answers_db(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=5, isolation_level=None)  # transactions are explicit
    db.execute("PRAGMA journal_mode = WAL")
    db.executescript("""
        CREATE TABLE IF NOT EXISTS info(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS answer(query TEXT PRIMARY KEY, bits BLOB NOT NULL,
                                          ranked BLOB NOT NULL, size INTEGER NOT NULL);""")
    return db


def _page(ranked: Sequence[int], within: int | None, size: int, offset: int, count: int) -> list[int]:
    """The *ranked* numbers in *within* (None: all) from the *offset*-th, at most *count*
    (*within* holds only ranked numbers: the walk stops when it has met them all)."""
    if within is None:
        return list(ranked[offset:offset + count])
    left = within.bit_count() - offset
    if left <= 0:
        return []
    count = min(count, left)
    allowed = within.to_bytes((size >> 3) + 1, "little")
    out: list[int] = []
    for i in ranked:
        if allowed[i >> 3] >> (i & 7) & 1:
            if offset:
                offset -= 1
            else:
                out.append(i)
                if len(out) == count:
                    break
    return out


def load(conn: sqlite3.Connection) -> Sets:
    """Read the search tables of an opened file into bitsets (the grouping done by SQLite:
    one row per facet value)."""
    iris = [s for s, in conn.execute("SELECT service FROM svc GROUP BY service "
                                      "ORDER BY MIN(sortname) IS NULL, MIN(sortname), service")]
    number = {s: i for i, s in enumerate(iris)}
    size = len(iris)
    values: dict[str, dict[str, int]] = {}
    keys: dict[str, dict[str, int]] = {}

    def grouped(sql: str) -> Iterator[tuple[Any, ...]]:
        """Rows of *sql* with their last column, the services, as a set."""
        for *key, services in conn.execute(sql):
            yield (*key, bitset([number[s] for s in services.split("\n") if s in number], size))

    for name, value, bits in grouped(
            "SELECT name, value, group_concat(service, char(10)) FROM facet GROUP BY name, value"):
        values.setdefault(name, {})[value] = bits
        if name in KEYED:
            lower = keys.setdefault(name, {})
            lower[value.lower()] = lower.get(value.lower(), 0) | bits
    ages = list(grouped("SELECT amin, amax, group_concat(service, char(10)) FROM service_age "
                        "GROUP BY amin, amax"))
    hours = list(grouped("SELECT day, opens, closes, group_concat(service, char(10)) FROM service_hours "
                         "GROUP BY day, opens, closes"))
    doc = None
    row = conn.execute("SELECT value FROM info WHERE key = 'shared'").fetchone()
    if row is not None and row[0] == "0":
        top = conn.execute("SELECT MAX(id) FROM doc").fetchone()[0] or 0
        doc = array("l", [-1]) * (top + 1)
        for d, s in conn.execute("SELECT id, iri FROM doc"):
            doc[d] = number.get(s, -1)
    return Sets(
        iris, number, values, keys, ages=ages, hours=hours, doc=doc,
        labels={v: label for v, label in conn.execute("SELECT value, label FROM facet_label") if label},
        bands={b: (lo, hi) for b, lo, hi in conn.execute("SELECT iri, bmin, bmax FROM band")})


_recent: _Kept = _Kept(KEEP_VERSIONS)


def file_key(path: Path) -> tuple[int, int, int, int]:
    """What names a version file's contents: its inode (shared by the hard links of versions
    that left the search tables as they were), modification time and size."""
    stat = path.stat()
    return stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size
_loading = threading.Lock()


def sets_of(conn: sqlite3.Connection, path: Path | None) -> Sets:
    """The bitsets of the file at *path* (read once per process: a version's file never
    changes; a rebuilt file is a new inode, and a version whose write left the search tables
    as they were shares its predecessor's inode, so its sets too), from *conn*, its open
    connection. Without a path they are read afresh. Answers to words are kept in the words
    file of the contents (`textindex.words_file`)."""
    if path is None:
        return load(conn)
    key = file_key(path)
    with _loading:  # one thread reads a version; the others wait for it
        if key in _recent:
            _recent.move_to_end(key)
            sets = _recent[key]
        else:
            sets = _recent.keep(key, load(conn))
            sets.source = f"{key[1:]} {sys.byteorder}"
        if sets.file != path and (sets.file is None or not sets.file.exists()):  # versions
            sets.file = path  # sharing a file share its answers
            if sets.answers is None and sets._failures < FAILURES_ALLOWED:
                sets.answers = words_file(path, key[1:])
        return sets


def asked_words(answers: Path | None, limit: int) -> list[str]:
    """The words whose answers the words file *answers* keeps, the last kept first (none when
    there is no such file or it cannot be read)."""
    if answers is None or not answers.exists():
        return []
    try:
        with closing(_answers_db(answers)) as db:
            return [q for q, in db.execute("SELECT query FROM answer ORDER BY rowid DESC LIMIT ?", (limit,))]
    except sqlite3.Error as exc:
        log.warning("search answers in %s not read (%s)", answers, exc)
        return []


def warm_words(conn: sqlite3.Connection, path: Path, previous: Path | None, *,
               still_current: Callable[[], bool], limit: int | None = None) -> int:
    """Answer, for the version file *path* (open as *conn*), the words last kept in the words
    file *previous* (at most *limit*, WARM_WORDS by default; in the order they were kept, so
    the last asked are the last dropped), so that searches after a new version is published
    find their answers kept (at national scale a common word costs about a second to rank).
    Nothing to do when both versions have the same contents. Stops when *still_current* says
    a newer version is published. One process warms a folder at a time (the others skip:
    their requests read what it keeps). Returns how many words were answered."""
    sets = sets_of(conn, path)
    if previous is None or previous == sets.answers:
        return 0
    try:
        lock = open(path.parent / ".words-lock", "a+b")
    except OSError:  # a folder this process cannot write: warm its own memory only
        lock = None
    try:
        if lock is not None:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return 0
        done = 0
        for query in reversed(asked_words(previous, WARM_WORDS if limit is None else limit)):
            if not still_current():
                break
            sets.words(conn, query, WEIGHTS)
            done += 1
        return done
    finally:
        if lock is not None:
            lock.close()


def forget() -> None:
    """Drop the answers kept between requests (words, ages, times, in memory and in the words
    files) but not the facet sets: for benchmarks that time first requests."""
    with _loading:
        for sets in _recent.values():
            with sets._lock:
                sets._kept.clear()
                sets._words.clear()
                if sets.answers is not None:
                    remove_words(sets.answers)


__all__ = ["Sets", "Words", "bitset", "members", "load", "sets_of", "file_key", "warm_words", "asked_words"]
