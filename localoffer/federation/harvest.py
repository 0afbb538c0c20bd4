"""`localoffer harvest`: copy each neighbour's offer into its own named graph,
`{base}/graph/harvest/{GSS}`, replaced atomically with its PROV-O provenance, the validation
report of the harvested data (`{base}/graph/validation/harvest-{GSS}`) and the change set
(the change feed). A neighbour that fails (down, slow, HTML, 500, garbage, nothing for the
authority) leaves its previous harvest in place and is reported as failed.

What is remembered per neighbour, in the metadata graph, on the harvest graph's IRI: the
HTTP validators of the deciding request (ETag, Last-Modified: an unchanged neighbour costs
one 304), the position in the neighbour's change feed (a neighbour with a feed is synced by
fetching only the records that changed), the record digests and the content checksum."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from localoffer import __version__
from localoffer import namespaces as ns
from localoffer.config import Settings
from localoffer.errors import HarvestError, LocalOfferError
from localoffer.neighbours import Neighbour
from localoffer.rdfterms import iri, lit, typed
from localoffer.prepared import Neutral
from localoffer.store import Store, WriteSession

from . import remote, sources
from .changes import change_set, record_changes
from .records import apply_changes, closure_query, feed_position, feed_url, pending_changes, record_digests
from .remote import Policy
from .sources import Progress, Snapshot, Validators

METHODS = ("sparql", "dump", "oruk")
CLOSURE_BATCH = 50


@dataclass
class HarvestReport:
    """What harvesting one neighbour did."""

    gss: str
    name: str
    graph: str
    method: str = ""
    source: str = ""
    status: str = "failed"  # harvested | unchanged | failed
    message: str = ""
    triples: int = 0
    changes: Counter[str] = field(default_factory=Counter)
    violations: int | None = None
    warnings: int | None = None
    via_feed: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def as_dict(self) -> dict[str, Any]:
        return {"authority": self.gss, "name": self.name, "graph": self.graph, "method": self.method,
                "source": self.source, "status": self.status, "message": self.message,
                "triples": self.triples, "changes": dict(self.changes), "violations": self.violations,
                "warnings": self.warnings, "via_change_feed": self.via_feed,
                "seconds": round(self.seconds, 3)}


@dataclass
class State:
    """What the last harvest of a neighbour left in the metadata graph."""

    method: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    position: str | None = None
    checksum: str | None = None
    digests: dict[str, str] | None = None


def harvest(store: Store, settings: Settings, neighbours: list[Neighbour], *, policy: Policy,
            method: str | None = None, progress: Progress | None = None) -> list[HarvestReport]:
    """Harvest each neighbour in turn; one failing does not stop the others."""
    return [harvest_neighbour(store, settings, n, policy=policy, method=method, progress=progress)
            for n in neighbours]


def harvest_neighbour(store: Store, settings: Settings, neighbour: Neighbour, *, policy: Policy,
                      method: str | None = None, progress: Progress | None = None) -> HarvestReport:
    """Harvest one neighbour (see the module docstring); never raises for the neighbour's faults."""
    started = time.monotonic()
    graph = ns.graph_iri(settings.base, "harvest", neighbour.gss)
    report = HarvestReport(neighbour.gss, neighbour.name, graph)
    try:
        report.method = method or ("sparql" if neighbour.sparql else "dump" if neighbour.dump else "oruk")
        url = getattr(neighbour, report.method, None)
        if not url:
            raise HarvestError(f"{neighbour.gss} ({neighbour.name}) has no {report.method} URL "
                               "in the registry")
        report.source = url
        state = read_state(store, settings, graph)
        _run(store, settings, neighbour, url, state, policy, report, progress)
    except LocalOfferError as exc:
        report.status, report.message = "failed", f"{exc}; the previous harvest (if any) is kept"
    report.seconds = time.monotonic() - started
    return report


def _run(store: Store, settings: Settings, n: Neighbour, url: str, state: State, policy: Policy,
         report: HarvestReport, progress: Progress | None) -> None:
    same = state.method == report.method
    known = Validators(state.etag, state.last_modified) if same else Validators()
    snapshot: Snapshot | None
    position = state.position if same else None
    if report.method == "sparql":
        feed = feed_url(n.sparql, n.changes)
        snapshot = None
        if feed and position and state.digests is not None:
            items = pending_changes(feed, n.gss, position, policy)
            if items == []:
                report.status, report.via_feed = "unchanged", True
                report.message = "the change feed lists nothing new"
                return
            if items:
                snapshot = _sync(store, settings, url, n.gss, items, policy)
                position = max(str(i.get("published", "")) for i in items)
                report.via_feed = True
        if snapshot is None:
            new_position = feed_position(feed, n.gss, policy) if feed else None  # before the data
            snapshot = sources.from_sparql(url, n.gss, policy, known, progress)
            position = new_position or None
    elif report.method == "dump":
        snapshot = sources.from_dump(url, n.gss, policy, known)
    else:
        snapshot = sources.from_oruk(url, n.gss, settings, policy, progress)
    if snapshot is None:
        report.status, report.message = "unchanged", "the neighbour answered 304 Not Modified"
        return
    publish(store, settings, n, snapshot, state, position, report)


def _sync(store: Store, settings: Settings, endpoint: str, gss: str, items: list[dict[str, Any]],
          policy: Policy) -> Snapshot:
    """The harvest graph updated from the change feed's items (only changed records fetched)."""
    found = sources.authority_graphs(endpoint, gss, policy, Validators())
    if found is None:  # not asked conditionally, so a 304 is the neighbour's mistake
        raise HarvestError(f"{endpoint}: answered 304 to a request that was not conditional")
    graphs = [g for g, _ in found[0]]
    graph = ns.graph_iri(settings.base, "harvest", gss)
    previous = list(store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"))

    def fetch(roots: list[str]) -> list[Any]:
        out: list[Any] = []
        for start in range(0, len(roots), CLOSURE_BATCH):
            response = remote.request(endpoint, closure_query(graphs, roots[start:start + CLOSURE_BATCH]),
                                      policy, accept=remote.GRAPH_ACCEPT)
            out += remote.parse_graph(endpoint, response)
        return out

    return Snapshot(list(apply_changes(previous, items, fetch)), location=endpoint, graphs=graphs)


def read_state(store: Store, settings: Settings, graph: str) -> State:
    """The validators, feed position and digests the last harvest of *graph* kept."""
    meta, lo = ns.graph_iri(settings.base, "meta"), ns.LO
    rows = list(store.select(
        f"SELECT ?m ?e ?l ?p ?c ?d WHERE {{ GRAPH <{meta}> {{ <{graph}> <{ns.PROV}wasGeneratedBy> ?act .\n"
        f"OPTIONAL {{ <{graph}#input> <{ns.DCTERMS}format> ?m }} OPTIONAL {{ <{graph}> <{lo}httpETag> ?e }}\n"
        f"OPTIONAL {{ <{graph}> <{lo}httpLastModified> ?l }}\n"
        f"OPTIONAL {{ <{graph}> <{lo}changeFeedPosition> ?p }}\n"
        f"OPTIONAL {{ <{graph}> <{lo}contentChecksum> ?c }}\n"
        f"OPTIONAL {{ <{graph}> <{lo}recordDigests> ?d }} }} }}"))
    if not rows:
        return State()
    row = rows[0]
    value = {k: row[k].value for k in row}
    return State(value.get("m"), value.get("e"), value.get("l"), value.get("p"), value.get("c"),
                 json.loads(value["d"]) if "d" in value else None)


def _skolemised(settings: Settings, gss: str, triples: list[Any]) -> list[str]:
    """Sorted, distinct N-Triples lines; blank nodes become IRIs under our base."""
    def term(t: Any) -> Any:
        if isinstance(t, ox.BlankNode):
            return ox.NamedNode(f"{settings.base}/.well-known/genid/harvest/{gss}/{t.value}")
        return t

    lines = {f"{term(t.subject)} {t.predicate} {term(t.object)} .\n" for t in triples}
    return sorted(lines)


def publish(store: Store, settings: Settings, n: Neighbour, snapshot: Snapshot, state: State,
            position: str | None, report: HarvestReport) -> None:
    """Validate the snapshot and replace the neighbour's graph with it, atomically."""
    started = _now()
    lines = _skolemised(settings, n.gss, snapshot.triples)
    checksum = hashlib.sha256("".join(lines).encode()).hexdigest()
    report.triples = len(lines)
    triples = list(ox.parse("".join(lines).encode(), format=ox.RdfFormat.N_TRIPLES))
    digests = record_digests(triples)
    words = {"Create": "added", "Update": "changed", "Delete": "withdrawn"}
    report.changes = Counter(f"{words[t]} {kind}" for t, kind, _ in change_set(state.digests, digests))
    graph = report.graph
    meta = ns.graph_iri(settings.base, "meta")
    if checksum == state.checksum:
        report.status, report.message = "unchanged", "the neighbour's data is what we hold"
        report.changes = Counter()
        if (snapshot.etag, snapshot.last_modified, position) == (state.etag, state.last_modified,
                                                                 state.position):
            return  # nothing to remember either: no new store version
    else:
        report.status = "harvested"
    validation = None if report.status == "unchanged" else _validate(lines, n.gss, report)
    prov = _provenance(settings, n, snapshot, report, checksum, digests, position, started)
    with tempfile.TemporaryDirectory(prefix="localoffer-harvest-") as tmp:
        nt = Path(tmp) / "harvest.nt"
        nt.write_text("".join(lines), encoding="utf-8")
        vgraph = ns.graph_iri(settings.base, "validation", f"harvest-{n.gss}")
        with store.write() as session:
            # The report and the provenance and change records are read by no derived table
            # (text index, facets, counts) but for their triple counts: declared so, the
            # write redoes those tables for the harvest graph only, not for every graph.
            before = {g: _count(session, g) for g in (meta, vgraph)}
            if report.status == "harvested":
                session.replace_graph(graph, nt)
                record_changes(session, settings, graph=graph, authority=n.gss, previous=state.digests,
                               current=digests)
            if validation is not None:
                session.drop_graph(vgraph)
                session.load(vgraph, validation, "ttl")
            subjects = " ".join(f"<{graph}{s}>" for s in ("", "#harvest", "#input", "#software"))
            session.update(f"DELETE {{ GRAPH <{meta}> {{ ?s ?p ?o }} }} WHERE {{ VALUES ?s {{ {subjects} }} "
                           f"GRAPH <{meta}> {{ ?s ?p ?o }} }}")
            session.load(meta, prov.encode("utf-8"), "nt")
            for g, count in before.items():
                session.prepare(g, Neutral(_count(session, g) - count))


def _count(session: WriteSession, graph: str) -> int:
    rows = list(session.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"))
    return int(rows[0]["n"].value)


def _validate(lines: list[str], gss: str, report: HarvestReport) -> bytes | None:
    """Check the harvested data with our shapes; the report as Turtle (None if it cannot run)."""
    import rdflib

    from localoffer.errors import ValidationError
    from localoffer.reports import render
    from localoffer.validation import validate

    data = rdflib.Graph()
    data.parse(data="".join(lines), format="nt")
    try:
        result = validate(data, authority=gss)
    except ValidationError as exc:
        report.message = f"harvested, but validation could not run: {exc}"
        return None
    report.violations, report.warnings = result.counts["Violation"], result.counts["Warning"]
    return render(result, "ttl").encode("utf-8")


def _provenance(settings: Settings, n: Neighbour, snapshot: Snapshot, report: HarvestReport,
                checksum: str, digests: dict[str, str], position: str | None, started: str) -> str:
    """PROV-O for the harvest graph, with what the next harvest needs to remember."""
    g, act, inp, sw = (iri(report.graph + s) for s in ("", "#harvest", "#input", "#software"))
    P, L, D, V, S = (lambda x, b=b: iri(b + x) for b in (ns.PROV, ns.LO, ns.DCTERMS, ns.VOID, ns.SCHEMA))
    a = iri(ns.RDF + "type")
    rows = [
        (g, a, P("Entity")), (g, a, V("Dataset")), (g, P("wasGeneratedBy"), act),
        (g, P("wasDerivedFrom"), inp), (g, D("title"), lit(f"Harvest of {n.name} ({n.gss})", lang="en")),
        (g, D("spatial"), iri(ns.STATGEO + n.gss)), (g, D("identifier"), lit(f"harvest/{n.gss}")),
        (g, V("triples"), typed(report.triples, "integer")), (g, L("contentChecksum"), lit(checksum)),
        (g, L("recordDigests"), lit(json.dumps(digests, sort_keys=True))),
        (g, D("modified"), typed(_now(), "dateTime")),
        (act, a, P("Activity")), (act, P("startedAtTime"), typed(started, "dateTime")),
        (act, P("endedAtTime"), typed(_now(), "dateTime")), (act, P("used"), inp),
        (act, P("wasAssociatedWith"), sw),
        (inp, a, P("Entity")), (inp, D("source"), lit(snapshot.location or report.source)),
        (inp, D("format"), lit(report.method)), (inp, P("atLocation"), iri(report.source)),
        (sw, a, P("SoftwareAgent")), (sw, S("name"), lit("localoffer")),
        (sw, S("softwareVersion"), lit(__version__)),
    ]
    if snapshot.etag:
        rows.append((g, L("httpETag"), lit(snapshot.etag)))
    if snapshot.last_modified:
        rows.append((g, L("httpLastModified"), lit(snapshot.last_modified)))
    if position:
        rows.append((g, L("changeFeedPosition"), lit(position)))
    return "".join(f"{s} {p} {o} .\n" for s, p, o in rows)


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def plan(settings: Settings, names: tuple[str, ...], *, endpoint: str | None = None,
         dump: str | None = None, oruk: str | None = None, authority: str | None = None,
         name: str | None = None) -> list[Neighbour]:
    """The neighbours a `harvest` command names: from the registry, or one given ad hoc by
    its URL and authority (whose host must still be allow-listed)."""
    from localoffer.authorities import authority_name
    from localoffer.neighbours import load_registry, select

    if endpoint or dump or oruk:
        if names:
            raise HarvestError("name neighbours from the registry or give --endpoint/--dump/--oruk, not both")
        code = (authority or "").strip().upper()
        if not ns.GSS_CODE.match(code):
            raise HarvestError("--authority must be the ONS GSS code of the neighbour, such as E06000023")
        return [Neighbour(code, name or authority_name(code), sparql=endpoint, dump=dump, oruk=oruk)]
    if authority:
        raise HarvestError("--authority goes with --endpoint, --dump or --oruk")
    return select(load_registry(settings), names)


def render_text(reports: list[HarvestReport]) -> str:
    """One line per neighbour."""
    out = []
    for r in reports:
        head = f"{r.gss} {r.name}: {r.status}"
        if r.method:
            head += f" via {r.method}{' (change feed)' if r.via_feed else ''}"
        parts = []
        if r.status == "harvested":
            parts.append(f"{r.triples} triples")
            if r.changes:
                parts.append("changes " + ", ".join(f"{n} {k}" for k, n in sorted(r.changes.items())))
            if r.violations is not None:
                parts.append(f"validation {r.violations} violations, {r.warnings} warnings")
        if r.message and r.status != "failed":
            parts.append(r.message)
        parts.append(f"{r.seconds:.1f} s")
        out.append(head + "; " + "; ".join(parts))
    return "\n".join(out) + "\n" if out else ""
