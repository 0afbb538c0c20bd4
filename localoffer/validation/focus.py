"""Validation of a store in focus sets, in parallel, and incrementally.

With the shapes compiled (localoffer.validation.compiled, the default when every shape
compiles) an authority's whole scope is checked in one pass (`check_scope`) and the focus sets
below are not needed; they remain the pySHACL path for shapes that cannot be compiled.

An authority's data is split into *focus sets*: batches of records (services, organisations,
locations), each with everything its records link to, and one set for the authority-wide
records (the authority, its lo:LocalOffer and linked pages) with, for the s.30 coverage rules,
each service's lo:localAuthority and lo:provisionCategory. pySHACL runs on each set in a worker
process; a result is kept only from the set that *owns* its focus node (the record itself, or
a node reached from it without passing another record), so every focus node is judged once,
on all the data its shapes can reach. Results found twice (a node shared by two records) are
merged. The shapes only follow links forwards, except those on the Local Offer, which get
the authority's whole slice, so the results are pySHACL's on the whole graph (a test checks
this on the real feeds).

Incremental runs: ingest records a digest per record in the metadata graph
(lo:recordDigests). Each run keeps, next to the report, the digests it saw and its results per
record (lo:validationCache). The next run on the same day with the same shapes re-validates
only the records whose digest changed, the records that link to them, and the authority-wide
set; every other record keeps its previous results.

Without an authority (`localoffer validate` on the whole store), the authorities are validated
one after the other through one pool, so memory stays that of one authority, and reported as
one result; when some data graph belongs to no authority (a harvest, an RDF file without
authority links) the store is validated whole instead."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import gc
import io
import multiprocessing
import os
import threading
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from localoffer import namespaces as ns
from localoffer.collector import paused_gc
from localoffer.config import Settings
from localoffer.errors import ValidationError
from localoffer.store import Store
from localoffer.validation import cache as vcache
from localoffer.validation import compiled
from localoffer.validation.core import (
    RECORD_TYPES,
    Finding,
    ValidationResult,
    _construct,
    _QueryGraph,
    assemble,
    data_graphs,
    load_shapes,
    rules,
    validate,
)
from localoffer.validation.quality import completeness

BATCH_SIZE = 400
DEPTH = 12  # links followed from a record: far more than any shape's path needs
_RDF_TYPE = ox.NamedNode(ns.RDF + "type")
_RECORDS = {str(t) for t in RECORD_TYPES}
_TOP = {ns.LO + "LocalOffer", ns.LO + "LocalAuthority"}
_SERVICE = ns.SCHEMA + "Service"
_LINKED = (ox.NamedNode(ns.LO + "localAuthority"), ox.NamedNode(ns.DCTERMS + "publisher"))
_SLIM = {ox.NamedNode(ns.LO + "localAuthority"), ox.NamedNode(ns.LO + "provisionCategory")}
_KINDS = {
    ns.SCHEMA + "Service": "services",
    ns.SCHEMA + "Organization": "organizations",
    ns.SCHEMA + "Place": "locations",
    ns.LO + "LocalOffer": "local_offers",
}


@dataclass
class FocusSet:
    """One batch: its triples (N-Triples) and the nodes whose results it owns, by record."""

    authority: str | None
    payload: bytes
    owners: dict[tuple[str, ...], str]  # focus term -> the record that owns it
    seeds: list[str]


@dataclass
class Scope:
    """One authority's data in memory: its triples indexed by subject and by object (the
    compiled shapes' Index, made in the one pass over the triples), the types of its nodes and
    its records."""

    authority: str | None
    index: compiled.Index
    types: dict[Any, set[str]]
    records: dict[str, str] = field(default_factory=dict)  # record IRI -> kind

    def __post_init__(self) -> None:
        self._records = {n for n, k in self.types.items() if k & _RECORDS}
        self._tops = {n for n, k in self.types.items() if k & _TOP}
        self._out: dict[Any, list[ox.Triple]] | None = None

    @classmethod
    def of(cls, authority: str | None, triples: Iterable[Any]) -> Scope:
        return cls.indexed(authority, compiled.Index(triples))

    @classmethod
    def indexed(cls, authority: str | None, index: compiled.Index) -> Scope:
        types: dict[Any, set[str]] = defaultdict(set)
        for t in index.by_predicate.get(_RDF_TYPE, ()):
            if isinstance(t.object, ox.NamedNode):
                types[t.subject].add(t.object.value)
        scope = cls(authority, index, types)
        for node in scope._records:
            if isinstance(node, ox.NamedNode):
                scope.records[node.value] = _kind(types[node])
        return scope

    @property
    def out(self) -> dict[Any, list[ox.Triple]]:
        """The triples by subject (made on first use: the compiled shapes read the index)."""
        if self._out is None:
            out: dict[Any, list[ox.Triple]] = {}
            for ts in self.index.by_predicate.values():
                for t in ts:
                    if type(t) is ox.Quad:  # as the parser gave it (see compiled.Index)
                        t = ox.Triple(t.subject, t.predicate, t.object)
                    out.setdefault(t.subject, []).append(t)
            self._out = out
        return self._out

    def is_record(self, node: Any) -> bool:
        return node in self._records

    def is_top(self, node: Any) -> bool:
        return node in self._tops


def _kind(kinds: set[str]) -> str:
    for iri, name in _KINDS.items():
        if iri in kinds:
            return name
    return "other"


def _term(node: Any) -> tuple[str, ...]:
    if isinstance(node, ox.NamedNode):
        return ("iri", node.value)
    if isinstance(node, ox.BlankNode):
        return ("bnode", node.value)
    return ("literal", node.value, node.language or "", node.datatype.value if node.datatype else "")


def focus_sets(
    scope: Scope, *, seeds: Iterable[str] | None = None, top: bool = True, batch_size: int = BATCH_SIZE
) -> list[FocusSet]:
    """The focus sets for *seeds* (default: every record but the authority-wide ones), plus,
    with *top*, the authority-wide set."""
    if seeds is None:
        seeds = [r for r in scope.records if not scope.is_top(ox.NamedNode(r))]
    ordered = sorted(set(seeds))
    # Services first and together, so the organisations and places they share fall in few sets.
    ordered.sort(key=lambda r: (scope.records.get(r) != "services",))
    out = [_batch(scope, chunk) for chunk in _chunks(ordered, batch_size)]
    if top:
        tops = sorted(r for r in scope.records if scope.is_top(ox.NamedNode(r)))
        if tops:
            out.append(_batch(scope, tops, slim=True))
    return out


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), max(1, size)):
        yield items[i : i + size]


def _batch(scope: Scope, seeds: list[str], *, slim: bool = False) -> FocusSet:
    nodes = [ox.NamedNode(s) for s in seeds]
    owners = ownership(scope, seeds)
    triples = _closure(scope, nodes, stop=(scope.is_record if slim else scope.is_top))
    if slim:  # the coverage rules follow dcterms:publisher/^lo:localAuthority/lo:provisionCategory
        triples += [
            t for ts in scope.out.values() for t in ts if t.predicate in _SLIM and not scope.is_top(t.subject)
        ]
    payload = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    return FocusSet(scope.authority, payload, owners, seeds)


def ownership(scope: Scope, seeds: list[str]) -> dict[tuple[str, ...], str]:
    """The nodes each seed record owns (itself, and what it reaches without passing another
    record), as focus terms; the first seed to reach a node owns it."""
    owners: dict[tuple[str, ...], str] = {}
    out, records = scope.index.out, scope._records
    for seed in seeds:  # what each seed owns: stop at other records
        node = ox.NamedNode(seed)
        frontier, seen = [node], {node}
        while frontier:
            nxt = []
            for n in frontier:
                owners.setdefault(_term(n), seed)
                for p, objects in out.get(n, {}).items():
                    if p == _RDF_TYPE:
                        continue
                    for o in objects:
                        if not isinstance(o, ox.Literal) and o not in seen and o not in records:
                            seen.add(o)
                            nxt.append(o)
            frontier = nxt
    return owners


def _closure(scope: Scope, roots: list[Any], *, stop: Callable[[Any], bool]) -> list[ox.Triple]:
    """The triples of *roots* and of every node they reach within DEPTH links, not going past
    a node for which *stop* is true (its own triples are left out)."""
    seen = set(roots)
    frontier = list(roots)
    triples: list[ox.Triple] = []
    for _ in range(DEPTH):
        nxt = []
        for n in frontier:
            for t in scope.out.get(n, ()):
                triples.append(t)
                o = t.object
                if t.predicate != _RDF_TYPE and not isinstance(o, ox.Literal) and o not in seen:
                    seen.add(o)
                    if not stop(o):
                        nxt.append(o)
        frontier = nxt
        if not frontier:
            break
    return triples


def check_scope(
    scope: Scope, *, seeds: Iterable[str] | None = None, workers: int = 1, batch_size: int = BATCH_SIZE
) -> list[tuple[str, Finding]]:
    """The findings of *seeds* (default: every record) and of the authority-wide records, with
    the record owning each. The compiled shapes check the whole scope in one pass (that is the
    whole-graph semantics the focus sets reproduce); when some shape cannot be compiled, the
    scope goes through pySHACL in focus sets on *workers* processes instead."""
    if compiled.package_shapes().fallback is not None:
        return run_sets(focus_sets(scope, seeds=seeds, batch_size=batch_size), workers)
    if seeds is None:
        seeds = [r for r in scope.records if not scope.is_top(ox.NamedNode(r))]
    ordered = sorted(set(seeds))
    ordered.sort(key=lambda r: (scope.records.get(r) != "services",))
    with paused_gc():
        owners = ownership(scope, ordered + sorted(r for r in scope.records if scope.is_top(ox.NamedNode(r))))
        found = compiled.findings(scope.index)
        return [(owners[f.focus_term], f) for f in found if f.focus_term in owners]


def run_focus_set(fs: FocusSet) -> tuple[list[tuple[str, Finding]], float]:
    """Validate one focus set (in a worker process): the findings it owns, with their record."""
    started = time.perf_counter()
    graph = _QueryGraph.from_oxigraph(ox.parse(fs.payload, format=ox.RdfFormat.N_TRIPLES))
    result = validate(graph, authority=fs.authority)
    kept = [(fs.owners[f.focus_term], f) for f in result.findings if f.focus_term in fs.owners]
    return kept, time.perf_counter() - started


def _warm() -> None:
    """Worker start-up: parse the shapes once per process (before forking, for all of them)."""
    from localoffer.validation.quality import shape_files

    load_shapes()
    shape_files()
    if compiled.package_shapes().fallback is None:  # whole authorities: their SPARQL copies
        compiled.package_shapes().sparql_predicates  # noqa: B018 - worked out once, before forking


def default_workers() -> int:
    """Worker processes: the CPUs this process may use, at most 2 unless LOCALOFFER_WORKERS says."""
    wanted = os.environ.get("LOCALOFFER_WORKERS")
    if wanted and wanted.isdigit():
        return max(1, int(wanted))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(2, cpus))


def _pool(workers: int) -> cf.ProcessPoolExecutor:
    # fork where there is one: workers start in milliseconds with the shapes already parsed,
    # and a caller's script needs no `if __name__ == "__main__"` guard. They only use their
    # own in-memory data, never the parent's store handle.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    if method == "fork":
        _warm()
    return cf.ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context(method), initializer=_warm
    )


def run_sets(
    sets: list[FocusSet], workers: int, pool: cf.ProcessPoolExecutor | None = None
) -> list[tuple[str, Finding]]:
    """Run focus sets, in worker processes when there are several sets and workers."""
    if workers <= 1 or len(sets) <= 1:
        return [x for fs in sets for x in run_focus_set(fs)[0]]
    own = pool is None
    pool = pool or _pool(workers)
    try:
        return [x for kept, _ in pool.map(run_focus_set, sets) for x in kept]
    finally:
        if own:
            pool.shutdown()


def merge(owned: Iterable[tuple[str, Finding]]) -> dict[str, list[Finding]]:
    """Findings by owning record, each result once."""
    by_record: dict[str, list[Finding]] = defaultdict(list)
    seen: set[tuple[Any, ...]] = set()
    for record, f in owned:
        if f.key not in seen:
            seen.add(f.key)
            by_record[record].append(f)
    return by_record


# -- the store ------------------------------------------------------------------------------


def _code(authority: str | None) -> str | None:
    if authority is None:
        return None
    code = authority.strip().upper()
    if not ns.GSS_CODE.match(code):
        raise ValidationError(f"--authority {authority!r} is not an ONS GSS code such as E06000023")
    return code


def extract(
    store: Store, settings: Settings, code: str | None, graphs: list[str], state: vcache.State | None = None
) -> Scope:
    """One authority's slice of the store (or all of it), as a Scope: its records, its Local
    Offer and the authority, and everything they link to. When every data graph is accounted
    for (*state*: the authority's own source graphs, no graph without a publisher), those graphs
    are read whole and the slice is cut from them here, which is much faster than the
    equivalent property-path CONSTRUCT over the whole store."""
    if (
        code is not None
        and state is not None
        and state.complete
        and state.graphs
        and not state.fingerprint
        and state.digests
    ):
        data = read_graphs(store, state.graphs)
        with paused_gc():
            triples: Iterable[Any] = ox.parse(data, format=ox.RdfFormat.N_TRIPLES)
            if len(state.graphs) > 1:  # a triple in two graphs is one triple
                triples = dict.fromkeys(triples)
            whole = Scope.of(code, triples)
            scope = _reachable(whole, ns.authority_iri(settings.base, code))
        if scope is whole:  # nothing cut: the N-Triples are the slice (for the SPARQL copy)
            scope.index.ntriples = data
    elif code is not None and getattr(getattr(store, "endpoints", None), "kind", None) == "virtuoso":
        # kind: Virtuoso answers the property-path CONSTRUCT (`(!rdf:type)*`) with nothing.
        scope = Scope.of(code, _walk(store, settings, code, graphs))
    else:
        scope = Scope.of(code, store.query(_construct(settings, code), default_graph=graphs))
    linked = ox.NamedNode(ns.LO + "localAuthority")
    if (
        code is not None
        and "local_offers" not in scope.records.values()
        and not scope.index.by_predicate.get(linked)
    ):
        raise ValidationError(f"the store holds no records for authority {code}; ingest its feed first")
    return scope


def read_graphs(store: Store, graphs: list[str]) -> bytes:
    """The graphs as N-Triples. The store writes them itself (Oxigraph: on the Rust side), which
    is faster than a CONSTRUCT whose every term pyoxigraph turns into a Python object: for a
    3,000-service authority (~165,000 triples) the objects cost ~3 s of the ~15 s read."""
    buf = io.BytesIO()
    for g in graphs:
        store.dump(buf, "nt", graph=g)
    return buf.getvalue()


def _walk(store: Store, settings: Settings, code: str, graphs: list[str],
          chunk: int = 200) -> list[ox.Triple]:
    """The triples core._construct selects, gathered in rounds of plain lookups: the roots
    (the authority, its records, its Local Offers), then every IRI reachable from them along
    any predicate but rdf:type. Blank-node objects cannot be named in a later request, so
    their own triples are not followed (the ingest mints IRIs for every part of a record)."""
    a = ns.authority_iri(settings.base, code)
    roots = (f"SELECT DISTINCT ?r WHERE {{ {{ ?r <{ns.LO}localAuthority> <{a}> }} UNION "
             f"{{ <{a}> <{ns.LO}localOffer> ?r }} UNION "
             f"{{ ?r a <{ns.LO}LocalOffer> ; <{ns.DCTERMS}publisher> <{a}> }} }}")
    frontier = {a} | {row["r"].value for row in store.select(roots) if isinstance(row["r"], ox.NamedNode)}
    seen = set(frontier)
    triples: list[ox.Triple] = []
    while frontier:
        nxt: set[str] = set()
        ordered = sorted(frontier)
        for i in range(0, len(ordered), chunk):
            values = " ".join(str(ox.NamedNode(n)) for n in ordered[i:i + chunk])
            found = store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {values} }} ?s ?p ?o }}",
                                default_graph=graphs)
            for t in found:
                t = t if isinstance(t, ox.Triple) else ox.Triple(t.subject, t.predicate, t.object)
                triples.append(t)
                o = t.object
                if t.predicate != _RDF_TYPE and isinstance(o, ox.NamedNode) and o.value not in seen:
                    seen.add(o.value)
                    nxt.add(o.value)
        frontier = nxt
    return triples


def _reachable(scope: Scope, authority: str) -> Scope:
    """The part of *scope* that the authority's CONSTRUCT (core._construct) would give: nodes
    reachable, along any predicate but rdf:type, from the authority, the records that name it
    with lo:localAuthority and the Local Offers it publishes (*scope* itself when that is all
    of it)."""
    a = ox.NamedNode(authority)
    out = scope.index.out
    roots = {a} | {s for p in _LINKED for s in scope.index.subjects(p, a)}
    seen, frontier = set(roots), list(roots)
    while frontier:
        nxt = []
        for n in frontier:
            for p, objects in out.get(n, {}).items():
                if p == _RDF_TYPE:
                    continue
                for o in objects:
                    if not isinstance(o, ox.Literal) and o not in seen:
                        seen.add(o)
                        nxt.append(o)
        frontier = nxt
    if all(n in seen for n in out):
        return scope
    kept = compiled.Index(ox.Triple(s, p, o) for s, d in out.items() if s in seen
                          for p, objects in d.items() for o in objects)
    return Scope.indexed(scope.authority, kept)


def validate_store(
    store: Store,
    settings: Settings,
    *,
    authority: str | None = None,
    workers: int | None = None,
    incremental: bool = True,
    batch_size: int = BATCH_SIZE,
    publish: Callable[[list[ValidationResult]], Any] | None = None,
) -> ValidationResult:
    """Validate one authority's records (those with lo:localAuthority, its lo:LocalOffer, and
    everything they link to) or, without *authority*, all the data in the store; in focus
    sets on *workers* processes, re-validating only what changed since the last stored run.

    *publish*: without *authority*, when every data graph belongs to an authority, each
    authority's result is handed to it as soon as it is ready, in a list of those ready
    together and from a thread of its own (to keep each council's report in its own validation
    graph, see _Batches); the combined result returned then has `stats["published"]` set.
    Otherwise it is not called and the caller publishes the result returned."""
    started = time.perf_counter()
    code = _code(authority)
    graphs = data_graphs(store, settings)
    if not graphs:
        raise ValidationError("the store holds no data to validate; ingest a source first")
    workers = default_workers() if workers is None else workers
    codes = _publishers(store, settings, graphs) if code is None else None
    if codes:  # everything, authority by authority: memory stays that of one authority
        everything = _all(store, settings, codes, workers, batch_size, publish, incremental, graphs)
        if everything is not None:
            everything.seconds = time.perf_counter() - started
            return everything
    state = vcache.current_state(store, settings, code, graphs)
    previous = vcache.read(store, settings, code) if incremental else None
    plan = vcache.plan(previous, state)
    if plan is not None:
        result = _partial(store, settings, code, graphs, state, previous, plan, workers, batch_size)
    else:
        result = _full(store, settings, code, graphs, state, workers, batch_size)
    result.seconds = time.perf_counter() - started
    return result


def _full(store: Store, settings: Settings, code: str | None, graphs: list[str], state: vcache.State,
          workers: int, batch_size: int) -> ValidationResult:
    """Every record of the authority (or of the store) validated. No cyclic collection (but
    around pySHACL, which makes cycles) until the authority's millions of objects are gone: a
    full pass over them costs ~0.6 s, and re-enabling the collector while they are alive
    triggers one or two (~2 s of a ~10 s authority). The triples hold no cycles."""
    compiled_only = compiled.package_shapes().fallback is None
    with paused_gc() if compiled_only else contextlib.nullcontext():
        scope = extract(store, settings, code, graphs, state)
        by_record = merge(check_scope(scope, workers=workers, batch_size=batch_size))
        records = scope.records
        del scope
    result = finish(code, records, by_record, state, settings)
    result.stats.update(mode="full", revalidated=len(records))
    return result


def _publishers(store: Store, settings: Settings, graphs: list[str]) -> list[str] | None:
    """The authorities whose source graphs hold all the data, or None when some data graph has
    no publishing authority (a harvest, an RDF file) and the store must be taken whole."""
    meta = ns.graph_iri(settings.base, "meta")
    rows = store.select(f"""SELECT ?g ?p WHERE {{ GRAPH <{meta}> {{ ?g <{ns.LO}contentChecksum> ?c .
        OPTIONAL {{ ?g <{ns.DCTERMS}publisher> ?p }} }} }}""")
    publisher = {r["g"].value: r["p"].value if "p" in r else None for r in rows}
    prefix = ns.authority_iri(settings.base, "")
    codes = set()
    for g in graphs:
        p = publisher.get(g)
        if p is None or not p.startswith(prefix):
            return None
        codes.add(p[len(prefix) :])
    return sorted(codes)


def _all(
    store: Store, settings: Settings, codes: list[str], workers: int, batch_size: int,
    publish: Callable[[list[ValidationResult]], Any] | None = None, incremental: bool = False,
    data: list[str] | None = None,
) -> ValidationResult | None:
    """All authorities validated one by one and reported as one result (None when a source
    holds data not tied to its authority: then the store is validated whole); each one's result
    goes to *publish* first, from a thread of its own (see _Batches)."""
    records: dict[str, str] = {}
    owned: list[tuple[str, Finding]] = []
    graphs: list[str] = []
    revalidated, modes = 0, set()
    batches = _Batches(publish) if publish is not None else None
    try:
        for result in iter_validate_authorities(
            store, settings, codes, workers=workers, batch_size=batch_size, reports=publish is not None,
            incremental=incremental and publish is not None,  # the reused runs are the stored ones
            graphs=data,
        ):
            records.update(result.stats["records"])
            owned += [(r, f) for r, fs in result.stats["by_record"].items() for f in fs]
            graphs += result.graphs
            revalidated += result.stats.get("revalidated", 0)
            modes.add(result.stats.get("mode"))
            if batches is not None:
                batches.put(result)  # its statistics are cleared once it is published
            else:
                result.stats.clear()
    except ValidationError as exc:
        if batches is not None:
            batches.close()  # the councils validated before it are published
        if publish is not None and graphs:  # a whole-store report would count theirs twice
            raise ValidationError(f"{exc}; the reports of the councils validated before it are kept") from None
        return None
    except BaseException:
        if batches is not None:
            batches.close(quiet=True)
        raise
    if batches is not None:
        batches.close()
    state = vcache.State(vcache.today(), vcache.shapes_digest(), sorted(set(graphs)), complete=False)
    result = finish(None, records, merge(owned), state, settings)
    result.stats.update(mode="incremental" if "incremental" in modes else "full", revalidated=revalidated,
                        authorities=len(codes), published=publish is not None)
    return result


class _Batches:
    """Results handed to *publish* by a thread of its own, several at a time. The workers go on
    checking meanwhile. A council's report is ~114,000 triples, ~2 CPU-seconds to load against
    ~4-5 to check it, and each write of the store costs more besides (a new version, its
    counts, pruning the oldest; RocksDB merging the tables each load adds). Twenty councils of
    the synthetic set took 178 CPU-seconds in all written four to a write, 154 eight to a write
    (bench/README.md). So the thread waits until *together* results are ready, or the first
    has waited *wait* seconds, or the run is over, and writes at most *largest* at once. At
    most *waiting* results wait; put() blocks beyond that. A failed publish is raised by the
    next put() or by close(); the batch it was writing is not published (a write is all or
    nothing), and nothing after it is tried."""

    def __init__(self, publish: Callable[[list[ValidationResult]], Any], *, together: int = 8,
                 wait: float = 60.0, waiting: int = 12, largest: int = 10) -> None:
        self._publish = publish
        self._together, self._wait, self._waiting = together, wait, max(waiting, together)
        self._largest = max(largest, together)  # a load of eight reports holds ~750 MB
        self._queue: list[ValidationResult] = []
        self._first = 0.0  # when the oldest waiting result came
        self._closed = False
        self._error: BaseException | None = None
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="localoffer-publish-reports", daemon=True)
        self._thread.start()

    def put(self, result: ValidationResult) -> None:
        with self._cond:
            while len(self._queue) >= self._waiting and self._error is None:
                self._cond.wait()
            if self._error is not None:
                raise self._error
            if not self._queue:
                self._first = time.monotonic()
            self._queue.append(result)
            self._cond.notify_all()

    def close(self, *, quiet: bool = False) -> None:
        """Publish what waits and stop; raise a publishing error unless *quiet*."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join()
        if self._error is not None and not quiet:
            raise self._error

    def _ready(self) -> bool:
        if not self._queue:
            return self._closed
        return (self._closed or len(self._queue) >= self._together
                or time.monotonic() - self._first >= self._wait)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._ready():
                    self._cond.wait(None if not self._queue else
                                    max(0.0, self._wait - (time.monotonic() - self._first)))
                if not self._queue:
                    return
                batch, self._queue = self._queue[:self._largest], self._queue[self._largest:]
                if self._queue:
                    self._first = time.monotonic()
                self._cond.notify_all()
            try:
                # pyoxigraph's query results must be freed by the thread that made them: with
                # the collector paused for the whole write, whatever it leaves in reference
                # cycles is still in the youngest generation, collected here, not by whichever
                # thread next triggers a collection (that crashed a run, one time in three).
                with paused_gc():
                    try:
                        self._publish(batch)
                    finally:
                        gc.collect(0)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                traceback.clear_frames(exc.__traceback__)  # its frames' locals go here, too
                with self._cond:
                    self._error = exc
                    self._queue.clear()
                    self._cond.notify_all()
                return
            finally:
                for result in batch:  # the report text and findings by record: not kept
                    result.stats.clear()


def finish(
    code: str | None,
    records: dict[str, str],
    by_record: dict[str, list[Finding]],
    state: vcache.State,
    settings: Settings,
) -> ValidationResult:
    """The result for an authority from its findings by record."""
    known = rules(load_shapes())
    findings = [f for fs in by_record.values() for f in fs]
    counts = defaultdict(int)
    for kind in records.values():
        counts[kind] += 1
    result = assemble(
        findings,
        known,
        authority=code,
        records={k: counts.get(k, 0) for k in ("services", "organizations", "locations", "local_offers")},
    )
    services = {r for r, k in records.items() if k == "services"}
    result.completeness = completeness(
        result.findings, known, services, has_offer=counts.get("local_offers", 0) > 0
    )
    result.graphs = state.graphs
    result.stats.update(base=settings.base, by_record=by_record, records=records, state=state)
    return result


def _partial(
    store: Store,
    settings: Settings,
    code: str | None,
    graphs: list[str],
    state: vcache.State,
    previous: vcache.Cache,
    plan: vcache.Plan,
    workers: int,
    batch_size: int,
) -> ValidationResult:
    """Re-validate the changed records, those linking to them and the authority-wide set;
    keep every other record's previous results."""
    records = {r: k for r, k in previous.records.items() if r not in plan.removed}
    by_record = {r: list(fs) for r, fs in previous.findings.items() if r in records}
    if plan.changed:
        if state.complete and state.graphs and not state.fingerprint:
            graphs = state.graphs  # the authority's own sources hold all its data
        affected = vcache.affected_records(store, graphs, plan.changed)
        roots = sorted(affected | plan.changed - plan.removed)
        scope = Scope.of(
            code,
            [
                t
                for q in vcache.partial_construct(settings, code, roots)
                for t in store.query(q, default_graph=graphs)
            ],
        )
        seeds = [
            r for r in scope.records if r in affected | plan.changed and not scope.is_top(ox.NamedNode(r))
        ]
        tops = [r for r in scope.records if scope.is_top(ox.NamedNode(r))]
        for r in seeds + tops:
            records[r] = scope.records[r]
            by_record.pop(r, None)
        fresh = merge(check_scope(scope, seeds=seeds, workers=workers, batch_size=batch_size))
        seen = {f.key for fs in by_record.values() for f in fs}
        for r, fs in fresh.items():
            by_record[r] = [f for f in fs if f.key not in seen]
        revalidated = len(seeds) + len(tops)
    else:
        revalidated = 0
    result = finish(code, records, by_record, state, settings)
    result.stats.update(
        mode="incremental",
        revalidated=revalidated,
        changed=len(plan.changed),
        previous_findings=[f for fs in previous.findings.values() for f in fs],
    )
    return result


def iter_validate_authorities(
    store: Store,
    settings: Settings,
    codes: Iterable[str],
    *,
    workers: int | None = None,
    batch_size: int = BATCH_SIZE,
    reports: bool = False,
    incremental: bool = False,
    graphs: list[str] | None = None,
) -> Iterator[ValidationResult]:
    """Full validation of several authorities through one pool of workers; results come in
    order. With the compiled shapes each worker reads and checks whole authorities (as many at
    once as there are workers); otherwise the extraction of the next authority overlaps the
    pySHACL focus sets of the previous one. *reports*: each result will be published
    (publish_report), so the workers write the reports' N-Triples too. *incremental* (compiled
    shapes only): an authority whose stored run can be reused re-validates only what changed.
    *graphs*: the data graphs when the caller has listed them (see _one)."""
    workers = default_workers() if workers is None else workers
    graphs = data_graphs(store, settings) if graphs is None else graphs
    whole = compiled.package_shapes().fallback is None
    pool = _pool(workers) if workers > 1 else None
    pending: list[tuple[float, str, Scope | None, vcache.State | None, list[Any]]] = []
    try:
        for authority in codes:
            started = time.perf_counter()
            code = _code(authority)
            if whole:  # one authority per worker, each reading the store itself
                job = (pool.submit(_one, settings, code, reports, incremental, graphs) if pool
                       else _one(settings, code, reports, incremental, graphs))
                pending.append((started, code or "", None, None, [job]))
                while len(pending) > (workers if pool else 0):
                    yield _collect(pending.pop(0), settings)
                continue
            state = vcache.current_state(store, settings, code, graphs)
            scope = extract(store, settings, code, graphs, state)
            if compiled.package_shapes().fallback is None:
                futures: list[Any] = [(check_scope(scope), 0.0)]
            else:
                sets = focus_sets(scope, batch_size=batch_size)
                futures = (
                    [pool.submit(run_focus_set, fs) for fs in sets]
                    if pool
                    else [run_focus_set(fs) for fs in sets]
                )
            pending.append((started, code or "", scope, state, futures))
            while len(pending) > 1 or (pending and len(pending[0][4]) == 0):
                yield _collect(pending.pop(0), settings)
        while pending:
            yield _collect(pending.pop(0), settings)
    finally:
        if pool:
            pool.shutdown()


def _one(settings: Settings, code: str | None, report: bool = False,
         incremental: bool = False, graphs: list[str] | None = None) -> ValidationResult:
    """One authority read, checked and assembled whole in a worker process (its own store
    handle). With *incremental*, only what changed since its stored run is re-validated when
    that run can be reused (the same day, the same shapes; see vcache.plan). With *report*,
    when the report will be stored whole (no report of the same shapes is stored yet), the
    worker also writes it as N-Triples (`stats["report_ntriples"]`, see publish_report) and
    the authority's cache for the next run (`stats["kept_cache"]`): the process publishing
    the reports then only loads them. (A cache file of a result never published stays until
    the authority's next publish removes it.) *graphs*: the data
    graphs, when the caller has listed them (on a remote store at national scale listing them
    is a scan of every quad: once per run, not once per authority)."""
    from localoffer.store import open_store
    from localoffer.validation.reportgraph import report_ntriples

    store = open_store(settings)
    try:
        with paused_gc():  # see _full
            graphs = data_graphs(store, settings) if graphs is None else graphs
            state = vcache.current_state(store, settings, code, graphs)
            stored = vcache.read(store, settings, code) if (report or incremental) and code else None
            plan = vcache.plan(stored, state) if incremental else None
            if plan is not None and stored is not None:
                return _partial(store, settings, code, graphs, state, stored, plan, 1, BATCH_SIZE)
            result = _full(store, settings, code, graphs, state, 1, BATCH_SIZE)
            if report and code and (stored is None or stored.shapes != state.shapes):
                result.stats["report_ntriples"] = report_ntriples(result, base=settings.base)
                if state.complete:  # and its cache for the next run (see publish._plan)
                    result.stats["kept_cache"] = vcache.write(store, code, *vcache.state_of(result))
        return result
    finally:
        store.close()


def _collect(
    item: tuple[float, str, Scope | None, vcache.State | None, list[Any]], settings: Settings
) -> ValidationResult:
    started, code, scope, state, futures = item
    outputs = [f.result() if isinstance(f, cf.Future) else f for f in futures]
    if scope is None:  # a whole authority from _one
        result: ValidationResult = outputs[0]
    else:
        records = scope.records
        by_record = merge(x for kept, _ in outputs for x in kept)
        assert state is not None
        result = finish(code or None, records, by_record, state, settings)
        result.stats.update(mode="full", revalidated=len(records))
    result.seconds = time.perf_counter() - started
    return result
