"""What incremental validation remembers between runs, and what it compares.

The ingest keeps a digest per record on each source graph (lo:recordDigests, in the metadata
graph). A validation run reads the digests of the authority's sources (`current_state`) and,
when its report is stored, keeps them with its results per record as lo:validationCache on the
validation graph (also in the metadata graph: internal bookkeeping, not published data; beside
an embedded store the statement names a file in its validation-cache folder instead). The
next run compares (`plan`): the same shapes, the same day (some rules compare dates with
today), every source graph accounted for, and then the records whose digest changed."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import marshal
import operator
import os
import re
import secrets
import sys
import zlib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from localoffer import namespaces as ns
from localoffer.config import Settings
from localoffer.resources import data_files
from localoffer.store import Store
from localoffer.validation.core import Finding
from localoffer.validation.reportgraph import report_graph_iri

VERSION = 3
_PACKED = "zlib+base64:"  # the stored form: the JSON compressed (a few MB of text is slow to store)
_LEVELS = 4  # links followed backwards from a changed node to the records that depend on it


@dataclass
class State:
    """What the store holds now for one authority: its source graphs' record digests."""

    day: str
    shapes: str
    graphs: list[str]
    digests: dict[str, str] = field(default_factory=dict)  # record IRI -> digest
    fingerprint: dict[str, str] = field(default_factory=dict)  # graph -> checksum
    complete: bool = True  # False when some source has no per-record digests


@dataclass
class Cache:
    """The previous run: its state and its findings per record."""

    day: str
    shapes: str
    digests: dict[str, str]
    fingerprint: dict[str, str]
    records: dict[str, str]
    findings: dict[str, list[Finding]]


@dataclass
class Plan:
    """What an incremental run must redo: the IRIs whose digest changed (or that went)."""

    changed: set[str]
    removed: set[str]


@functools.lru_cache(maxsize=1)
def shapes_digest() -> str:
    """A digest of the shapes shipped in the package."""
    h = hashlib.sha256()
    for entry in data_files("shapes", ".ttl"):
        h.update(entry.name.encode() + b"\0" + entry.read_bytes())
    return h.hexdigest()


def today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def current_state(store: Store, settings: Settings, code: str | None, graphs: list[str]) -> State:
    """The digests of the records in the authority's source graphs (those it publishes), and a
    checksum per other data graph without a publisher (harvested or RDF sources)."""
    meta = ns.graph_iri(settings.base, "meta")
    state = State(today(), shapes_digest(), [])
    authority = ns.authority_iri(settings.base, code) if code else None
    rows = store.select(f"""SELECT ?g ?c ?p ?d WHERE {{ GRAPH <{meta}> {{ ?g <{ns.LO}contentChecksum> ?c .
        OPTIONAL {{ ?g <{ns.DCTERMS}publisher> ?p }} }} }}""")
    info = {r["g"].value: (r["c"].value, r["p"].value if "p" in r else None) for r in rows}
    own = []
    for g in graphs:
        checksum, publisher = info.get(g, (None, None))
        if checksum is None:
            state.complete = False  # nothing says whether it changed
        elif authority is None or publisher == authority:
            own.append(g)
        elif publisher is None:
            state.fingerprint[g] = checksum
    state.graphs = own
    if code is None or not own:
        state.complete = False
        return state
    values = " ".join(f"<{g}>" for g in own)
    for r in store.select(f"""SELECT ?d WHERE {{ VALUES ?g {{ {values} }}
            GRAPH <{meta}> {{ ?g <{ns.LO}recordDigests> ?d }} }}"""):
        for key, digest in json.loads(r["d"].value).items():
            iri = key.split(" ", 1)[-1]
            if not iri.startswith(("http://", "https://", "urn:")):
                state.complete = False  # e.g. an RDF file: no per-record digests
            state.digests[iri] = digest
    return state


def plan(previous: Cache | None, state: State) -> Plan | None:
    """What to re-validate, or None when everything must be (no usable previous run)."""
    if (
        previous is None
        or not state.complete
        or previous.day != state.day
        or previous.shapes != state.shapes
        or previous.fingerprint != state.fingerprint
    ):
        return None
    old, new = previous.digests, state.digests
    removed = set(old) - set(new)
    changed = {iri for iri, d in new.items() if old.get(iri) != d} | removed
    return Plan(changed, removed)


def affected_records(store: Store, graphs: list[str], changed: set[str]) -> set[str]:
    """The records that link to a changed node (within a few links, not through the authority
    or its Local Offer, to which every record links)."""
    record_types = " ".join(
        f"<{t}>" for t in (ns.SCHEMA + "Service", ns.SCHEMA + "Organization", ns.SCHEMA + "Place")
    )
    top_types = f"<{ns.LO}LocalOffer> <{ns.LO}LocalAuthority>"
    found: set[str] = set()
    frontier, seen = set(changed), set(changed)
    for _ in range(_LEVELS):
        if not frontier:
            break
        values = " ".join(f"<{i}>" for i in sorted(frontier) if ">" not in i)
        rows = store.query(
            f"""SELECT DISTINCT ?s ?record WHERE {{ VALUES ?o {{ {values} }} ?s ?p ?o .
            FILTER (?p != <{ns.RDF}type> && isIRI(?s))
            FILTER NOT EXISTS {{ ?s a ?top . VALUES ?top {{ {top_types} }} }}
            BIND (EXISTS {{ ?s a ?t . VALUES ?t {{ {record_types} }} }} AS ?record) }}""",
            default_graph=graphs,
        )
        frontier = set()
        for r in rows:
            s = r["s"].value
            if s in seen:
                continue
            seen.add(s)
            if r["record"].value == "true":
                found.add(s)
            else:
                frontier.add(s)
    return found


def partial_construct(settings: Settings, code: str | None, roots: list[str]) -> list[str]:
    """Queries for the slice an incremental run needs: the closure of *roots* and of the
    authority, and every service's authority and provision category (for the coverage rules)."""
    a = f"<{ns.authority_iri(settings.base, code or '')}>"
    values = " ".join(f"<{r}>" for r in roots if ">" not in r)
    closure = f"""CONSTRUCT {{ ?s ?p ?o }} WHERE {{
  {{ SELECT DISTINCT ?s WHERE {{ {{ VALUES ?root {{ {values} }} }} UNION {{ BIND({a} AS ?root) }}
     ?root (!<{ns.RDF}type>)* ?s }} }}
  ?s ?p ?o }}"""
    slim = f"""CONSTRUCT {{ ?s <{ns.LO}localAuthority> {a} . ?s <{ns.LO}provisionCategory> ?c }} WHERE {{
  ?s <{ns.LO}localAuthority> {a} . OPTIONAL {{ ?s <{ns.LO}provisionCategory> ?c }} }}"""
    return [closure, slim]


# -- stored form ------------------------------------------------------------------------------


def encode(state: State, records: dict[str, str], by_record: dict[str, list[Finding]]) -> str:
    """The cache as compressed JSON, as stored. What findings share (rule, severity, path,
    message, constraint component) is kept once in a table; each finding keeps its focus node,
    value and record, with the usual cases (the focus is an IRI, the value is the focus, the
    record is the one owning the finding) written as 0."""
    kinds: dict[tuple[Any, ...], int] = {}
    findings: dict[str, list[list[Any]]] = {}
    for record, fs in by_record.items():
        rows = []
        for f in fs:
            kind = (f.shape, f.severity, f.path, f.message, f.path_term, f.component)
            k = kinds.setdefault(kind, len(kinds))
            focus_term: Any = 0 if f.focus_term == ("iri", f.focus) else f.focus_term
            value_term: Any = (
                0 if f.value_term is None else 1 if f.value_term == f.focus_term else f.value_term
            )
            rows.append(
                [
                    k,
                    f.focus,
                    0 if f.record == record else f.record,
                    f.record_name,
                    f.value,
                    focus_term,
                    value_term,
                ]
            )
        if rows:
            findings[record] = rows
    text = json.dumps(
        {
            "version": VERSION,
            "day": state.day,
            "shapes": state.shapes,
            "digests": state.digests,
            "fingerprint": state.fingerprint,
            "records": records,
            "kinds": list(kinds),
            "findings": findings,
        },
        separators=(",", ":"),
        sort_keys=True,
    )
    return _PACKED + base64.b64encode(zlib.compress(text.encode("utf-8"), 1)).decode("ascii")


def decode(text: str) -> Cache | None:
    """The cache from its stored form (None if it is from another version)."""
    if not text.startswith(_PACKED):
        return None
    data = json.loads(zlib.decompress(base64.b64decode(text[len(_PACKED) :])).decode("utf-8"))
    if data.get("version") != VERSION:
        return None
    kinds = [
        (shape, severity, path, message, None if path_term is None else tuple(path_term), component)
        for shape, severity, path, message, path_term, component in data["kinds"]
    ]
    findings = {}
    for record, rows in data["findings"].items():
        out = []
        for k, focus, owner, name, value, focus_term, value_term in rows:
            shape, severity, path, message, path_term, component = kinds[k]
            focus_t = ("iri", focus) if focus_term == 0 else tuple(focus_term)
            out.append(
                Finding(
                    shape,
                    severity,
                    focus,
                    owner or record,
                    name,
                    path,
                    value,
                    message,
                    focus_t,
                    None if value_term == 0 else focus_t if value_term == 1 else tuple(value_term),
                    path_term,
                    component,
                )
            )
        findings[record] = out
    return Cache(data["day"], data["shapes"], data["digests"], data["fingerprint"], data["records"], findings)


def cache_subject(settings: Settings, code: str | None) -> str:
    """The validation graph the cache is kept on."""
    return report_graph_iri(settings.base, code)


def read(store: Store, settings: Settings, code: str | None) -> Cache | None:
    """The previous run's cache for the authority, if any."""
    if code is None:
        return None
    meta = ns.graph_iri(settings.base, "meta")
    rows = list(
        store.select(f"""SELECT ?c WHERE {{ GRAPH <{meta}> {{
        <{cache_subject(settings, code)}> <{ns.LO}validationCache> ?c }} }}""")
    )
    if not rows:
        return None
    text = _joined([r["c"].value for r in rows])
    if text is None:
        return None
    try:
        if text.startswith(_FILE):
            return _read_file(store, code, text[len(_FILE) :])
        return decode(text)
    except (ValueError, KeyError, TypeError, EOFError, zlib.error):
        return None  # an unreadable cache only costs a full run


# -- beside an embedded store ------------------------------------------------------------------
# The cache of a 3,000-service authority is some 3 MB of JSON: encoding, compressing and
# storing it took an incremental run ~0.5 s, and reading it back ~0.4 s. Beside an embedded
# store it is a file instead (marshal, compressed: ~10x faster than the JSON, no code run on
# loading), named by a random token; the store keeps "file:<token>" as the lo:validationCache,
# so the store says which file goes with its report: a file whose store write failed is never
# read, and a version published before a file was replaced names a file that is gone (a full
# run follows).

_FILE = "file:"


def cache_dir(store: Store) -> Path | None:
    """The folder of cache files (None for a store that is not a local folder)."""
    root = getattr(store, "root", None)
    return Path(root) / "validation-cache" if root is not None else None


def _file(folder: Path, code: str, token: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}", token) or not ns.GSS_CODE.match(code):
        raise ValueError("not a cache token")
    return folder / f"{code}.{token}.cache"


def _read_file(store: Store, code: str, token: str) -> Cache | None:
    folder = cache_dir(store)
    if folder is None:
        return None
    try:
        data = marshal.loads(zlib.decompress(_file(folder, code, token).read_bytes()))
    except FileNotFoundError:
        return None
    if not isinstance(data, tuple) or data[:2] != (VERSION, sys.version_info[:2]):
        return None
    day, shapes, digests, fingerprint, records, rows = data[2:]
    findings = {r: [Finding(*row) for row in fs] for r, fs in rows.items()}
    return Cache(day, shapes, digests, fingerprint, records, findings)


@dataclass
class Written:
    """A cache prepared for a publish: the statement to store and, beside an embedded store,
    the file it names (kept when the store write succeeds, removed when it fails)."""

    text: str
    path: Path | None = None

    def keep(self) -> None:
        """After the store write: remove the authority's other cache files."""
        if self.path is None:
            return
        code = self.path.name.split(".", 1)[0]
        for other in self.path.parent.glob(f"{code}.*.cache"):
            if other != self.path:
                other.unlink(missing_ok=True)

    def discard(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def write(
    store: Store, code: str, state: State, records: dict[str, str], by_record: dict[str, list[Finding]]
) -> Written:
    """The cache for the next run: a file beside an embedded store, else the stored text."""
    folder = cache_dir(store)
    if folder is None:
        return Written(encode(state, records, by_record))
    row = operator.attrgetter(*_FIELDS)
    rows = {r: [row(f) for f in fs] for r, fs in by_record.items() if fs}
    data = (
        VERSION,
        sys.version_info[:2],
        state.day,
        state.shapes,
        state.digests,
        state.fingerprint,
        records,
        rows,
    )
    token = secrets.token_hex(16)
    path = _file(folder, code, token)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(zlib.compress(marshal.dumps(data), 1))  # ~4 MB -> ~0.8 MB in ~30 ms
    os.replace(tmp, path)
    return Written(_FILE + token, path)


_FIELDS = tuple(f.name for f in fields(Finding))


def forget_statement(settings: Settings, code: str | None) -> str:
    """SPARQL Update removing the stored cache."""
    meta = ns.graph_iri(settings.base, "meta")
    s = cache_subject(settings, code)
    return (
        f"DELETE {{ GRAPH <{meta}> {{ <{s}> <{ns.LO}validationCache> ?c }} }} "
        f"WHERE {{ GRAPH <{meta}> {{ <{s}> <{ns.LO}validationCache> ?c }} }}"
    )


PART = 8_000
"""Characters of the cache text per literal. kind: Virtuoso's Graph Store refuses some N-Triples
bodies with long literals (HTTP 500, "unsupported type text/plain": one of 100,000 characters,
three of 30,000; two of 30,000 pass), while any number of 8,000-character ones pass; the cache
of a 3,000-service authority kept in a remote store's metadata graph is about 1 MB, so it is
kept as numbered parts."""
_PART = "part:"


def as_ntriples(settings: Settings, code: str | None, text: str) -> bytes:
    """The cache statement(s) as N-Triples, for loading into the metadata graph: the text
    itself, or `part:NNNNN:` and a slice of it in each of several statements."""
    import pyoxigraph as ox

    values = [text] if len(text) <= PART else [
        f"{_PART}{i:05d}:{text[at:at + PART]}" for i, at in enumerate(range(0, len(text), PART))]
    s, p = ox.NamedNode(cache_subject(settings, code)), ox.NamedNode(ns.LO + "validationCache")
    return ox.serialize([ox.Triple(s, p, ox.Literal(v)) for v in values], format=ox.RdfFormat.N_TRIPLES)


def _joined(values: list[str]) -> str | None:
    """The cache text from its statement(s); None when the parts are not all there."""
    if len(values) == 1 and not values[0].startswith(_PART):
        return values[0]
    parts: dict[int, str] = {}
    for v in values:
        head, sep, rest = v[len(_PART):].partition(":")
        if not v.startswith(_PART) or not sep or not head.isdigit():
            return None
        parts[int(head)] = rest
    if sorted(parts) != list(range(len(parts))):
        return None
    return "".join(parts[i] for i in range(len(parts)))


def state_of(result: Any) -> tuple[State | None, dict[str, str], dict[str, list[Finding]]]:
    """What a focus-set result carries for the cache (None for a plain graph validation)."""
    stats = getattr(result, "stats", {}) or {}
    return stats.get("state"), stats.get("records", {}), stats.get("by_record", {})
