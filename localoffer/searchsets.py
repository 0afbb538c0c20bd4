"""The search tables of one version's file (`localoffer.facets`) held in memory as bitsets, so
that a `/services` page costs about the same whatever the number of services.

Each service gets a number in page order (by its lower-cased name, then IRI; services without
a name last, by IRI). A set of services is a Python int with bit i set for service i: every
facet value has one (loaded once per process and file: the file of a version never changes),
a filter is a bitwise AND, a facet count is `(value & selected).bit_count()` — a few
microseconds per value at 450,000 services instead of a join over every matching row — and a
page by name is the first set bits after the offset. Ages and opening hours have one set per
distinct (minimum, maximum) and (day, opens, closes), ORed for the age or time asked about.
Words are one unranked FTS5 match on the request's connection (a set, kept for the last
KEEP_WORDS texts); only a page is ranked, by BM25 among the matches the filters keep.

Memory per process and file: a set is services/8 bytes (56 KB at 450,000), one per facet value
and distinct ages and hours, plus the services' IRIs; KEEP_VERSIONS files are held."""

from __future__ import annotations

import math
import sqlite3
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
KEYED = ("language", "attendance", "accessibility")
"""Facets filtered on ignoring case (by their `key`)."""
KEEP_FILTERS = 1024
"""Answers kept per file: sets of ages and opening hours, and the numbers on pages of words."""
KEEP_WORDS = 256
KEEP_VERSIONS = 2


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
    """The services matching some words, as a set; where a service may have several
    documents, also all of them best first (else `Sets.best` ranks the page)."""

    bits: int
    ranked: Sequence[int] | None = None


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
    docs: array | None = None  # service number -> its document (-1: none)
    every_doc: bool = False  # every document is of a numbered service
    _kept: _Kept = field(default_factory=lambda: _Kept(KEEP_FILTERS))
    _words: _Kept = field(default_factory=lambda: _Kept(KEEP_WORDS))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def value(self, name: str, value: str) -> int:
        """The services with *value* for the facet *name* (empty if none)."""
        return self.values.get(name, {}).get(value, 0)

    def key(self, name: str, text: str) -> int:
        """The services with a value of the facet *name* equal to *text* ignoring case."""
        return self.keys.get(name, {}).get(text.lower(), 0)

    def _memo(self, key: tuple, compute: Callable[[], T]) -> T:
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
        return self._memo(("age", age, band), compute)

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
        return self._memo(("hours", day, time), compute)

    def words(self, conn: sqlite3.Connection, query: str, weights: tuple[float, ...]) -> Words:
        """The services whose documents match the FTS5 *query* (kept for the next requests)."""
        with self._lock:
            if query in self._words:
                self._words.move_to_end(query)
                return self._words[query]
        if self.doc is not None:  # one document per service: ranked per page by `best`
            doc = self.doc
            rows = conn.execute("SELECT rowid FROM fts WHERE fts MATCH ?", (query,))
            found = Words(bitset((doc[d] for d, in rows if doc[d] >= 0), len(self.iris)))
        else:  # a service's best rank is that of its best document (ties: its first)
            number = self.number
            ranked = array("i", (number[s] for s, in conn.execute(
                f"SELECT doc.iri FROM (SELECT rowid AS id, {_bm25(weights)} AS rank FROM fts "
                "WHERE fts MATCH ? LIMIT -1 OFFSET 0) m JOIN doc ON doc.id = m.id GROUP BY doc.iri "
                "ORDER BY MIN(m.rank), MIN(m.id)", (query,)) if s in number))
            found = Words(bitset(ranked, len(self.iris)), ranked)
        with self._lock:
            return self._words.keep(query, found)

    def best(self, conn: sqlite3.Connection, query: str, weights: tuple[float, ...], words: Words,
             within: int | None, offset: int, count: int, *, key: Any = None) -> list[int]:
        """The matches of *query* (*words*) among the services *within* (None: all), best
        first (BM25, ties by document), from the *offset*-th, at most *count*. Only the
        matches within are ranked: FTS5 scores every row it returns. With *key* (naming the
        filters that gave *within*), the answer is kept."""
        if key is not None:
            return self._memo(("best", query, key, offset, count),
                              lambda: self.best(conn, query, weights, words, within, offset, count))
        if words.ranked is not None:
            return _page(words.ranked, within, len(self.iris), offset, count)
        assert self.doc is not None and self.docs is not None
        rank, doc = _bm25(weights), self.doc
        if within is None and self.every_doc:
            rows = conn.execute(f"SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY {rank}, rowid "
                                "LIMIT ? OFFSET ?", (query, count, offset))
        else:
            chosen = words.bits if within is None else words.bits & within
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS chosen(id INTEGER PRIMARY KEY)")
            conn.execute("DELETE FROM temp.chosen")
            conn.executemany("INSERT INTO temp.chosen VALUES (?)",
                             ((self.docs[i],) for i in members(chosen, 0, chosen.bit_count())))
            # `+rowid`: test each match against the set (by rowid, FTS5 would query once per row)
            rows = conn.execute("SELECT rowid FROM fts WHERE fts MATCH ? AND +rowid IN (SELECT id FROM "
                                f"temp.chosen) ORDER BY {rank}, rowid LIMIT ? OFFSET ?",
                                (query, count, offset))
        return [doc[d] for d, in rows]


def _bm25(weights: tuple[float, ...]) -> str:
    return "bm25(fts, " + ", ".join(map(str, weights)) + ")"


def _page(ranked: Sequence[int], within: int | None, size: int, offset: int, count: int) -> list[int]:
    """The *ranked* numbers in *within* (None: all) from the *offset*-th, at most *count*."""
    if within is None:
        return list(ranked[offset:offset + count])
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
    doc = docs = None
    every_doc = True
    row = conn.execute("SELECT value FROM info WHERE key = 'shared'").fetchone()
    if row is not None and row[0] == "0":
        top = conn.execute("SELECT MAX(id) FROM doc").fetchone()[0] or 0
        doc, docs = array("l", [-1]) * (top + 1), array("l", [-1]) * size
        for d, s in conn.execute("SELECT id, iri FROM doc"):
            i = number.get(s, -1)
            doc[d] = i
            if i >= 0:
                docs[i] = d
            else:
                every_doc = False
    return Sets(
        iris, number, values, keys, ages=ages, hours=hours, doc=doc, docs=docs, every_doc=every_doc,
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
    connection. Without a path they are read afresh."""
    if path is None:
        return load(conn)
    key = file_key(path)
    with _loading:  # one thread reads a version; the others wait for it
        if key in _recent:
            _recent.move_to_end(key)
            return _recent[key]
        return _recent.keep(key, load(conn))


def forget() -> None:
    """Drop the answers kept between requests (words, ages, times) but not the facet sets:
    for benchmarks that time first requests."""
    with _loading:
        for sets in _recent.values():
            with sets._lock:
                sets._kept.clear()
                sets._words.clear()


__all__ = ["Sets", "Words", "bitset", "members", "load", "sets_of", "file_key"]
