"""Ingest one source: read, map to N-Triples, compare with what is published, and replace
the source's named graph atomically with its provenance."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from localoffer import __version__
from localoffer import namespaces as ns
from localoffer.authorities import authority_name
from localoffer.config import Settings
from localoffer.errors import IngestError, RecordError
from localoffer.federation.changes import change_set, change_triples
from localoffer.prepared import Neutral, PreparedGraph
from localoffer.rdfterms import iri, lit, typed
from localoffer.store import Store, WriteSession

from .mapping import Mapper, MappedRecord
from .readers import Progress, Source, open_source
from .records import Item
from localoffer.definitions import ensure_definitions

MAX_LISTED_ERRORS = 50


@dataclass
class IngestReport:
    """What an ingest did: counts, rejected records, and the changes against the last run."""

    source: str
    source_id: str
    graph: str
    authority: str
    read: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    rejected: list[RecordError] = field(default_factory=list)
    added: Counter[str] = field(default_factory=Counter)
    removed: Counter[str] = field(default_factory=Counter)
    changed: Counter[str] = field(default_factory=Counter)
    unchanged: bool = False
    triples: int = 0
    checksum: str = ""
    version: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source, "source_id": self.source_id, "graph": self.graph,
            "authority": self.authority, "records_read": self.read, "counts": dict(self.counts),
            "rejected": [{"record": e.record, "field": e.field, "message": e.detail}
                         for e in self.rejected],
            "added": dict(self.added), "removed": dict(self.removed), "changed": dict(self.changed),
            "unchanged": self.unchanged, "triples": self.triples, "checksum": self.checksum,
            "store_version": self.version,
        }


def default_source_id(authority: str, kind: str) -> str:
    """`e06000023-json`: one graph per authority and reader unless --source-id says otherwise."""
    return f"{authority.lower()}-{kind}"


def ingest(store: Store, settings: Settings, location: str, *, authority: str,
           fmt: str | None = None, source_id: str | None = None, strict: bool = False,
           mapping: Path | None = None, details: bool = True,
           progress: Progress | None = None) -> IngestReport:
    """Read *location*, map it, and publish it as the source's named graph (atomically)."""
    authority = authority.strip().upper()
    if not ns.GSS_CODE.match(authority):
        raise IngestError(f"--authority {authority!r} is not an ONS GSS code such as E06000023 (Bristol)")
    source = open_source(location, settings, fmt=fmt, mapping=mapping, details=details, progress=progress)
    sid = source_id or default_source_id(authority, source.kind)
    graph = ns.graph_iri(settings.base, "source", sid)
    report = IngestReport(location, sid, graph, authority)
    started = _now()
    prep = None if source.kind == "rdf" else PreparedGraph(
        graph, authority=iri(ns.authority_iri(settings.base, authority)))
    try:
        if source.kind == "rdf" or location.startswith(("http://", "https://")):
            # Read everything first: a live API is slow to page through, and the store's
            # write lock should not be held while waiting for it.
            with tempfile.TemporaryDirectory(prefix="localoffer-ingest-") as tmp:
                nt_path = Path(tmp) / "graph.nt"
                with open(nt_path, "w", encoding="utf-8") as out:
                    digests = (_copy_rdf(source, out, report) if source.kind == "rdf" else
                               _map_records(source, settings, authority, out, report, strict, progress, prep))
                previous = _previous_digests(store, settings, graph)
                _check_changed(previous, digests, report)
                with store.write() as session:
                    session.replace_graph(graph, nt_path)
                    _publish_run(session, settings, report, source, started, digests, previous, prep)
        else:
            # A local file: map and load at once (the store loads while the mapper writes);
            # if the result is what is already published, the new version is discarded.
            with store.write() as session:
                previous = _previous_digests(store, settings, graph)
                with session.stream_graph(graph) as out:
                    digests = _map_records(source, settings, authority, out, report, strict, progress, prep)
                _check_changed(previous, digests, report)
                _publish_run(session, settings, report, source, started, digests, previous, prep)
    except _Unchanged:
        report.unchanged = True
    report.version = store.version()
    return report


class _Unchanged(Exception):
    """The mapped graph equals the published one: publish nothing."""


def _check_changed(previous: dict[str, str] | None, digests: dict[str, str],
                   report: IngestReport) -> None:
    report.checksum = _graph_checksum(digests)
    _diff(previous, digests, report)
    if previous is not None and previous.get("_checksum") == report.checksum:
        raise _Unchanged


def _publish_run(session: WriteSession, settings: Settings, report: IngestReport, source: Source,
                 started: str, digests: dict[str, str], previous: dict[str, str] | None,
                 prep: PreparedGraph | None) -> None:
    """The run's provenance and change records (the change feed) in the metadata graph, the
    definitions, and the derived rows the run prepared: the source graph's (built while
    mapping), and the metadata graph as neutral (provenance and change records are read by
    no derived table; only its triple count moves)."""
    meta = ns.graph_iri(settings.base, "meta")
    removed = list(session.query(f"SELECT (COUNT(*) AS ?n) {_provenance_where(settings, report.graph)}"))
    session.update(_forget_provenance(settings, graph=report.graph))
    body = _provenance(settings, report, source, started, digests)
    changes = change_set(previous, digests)
    if changes:
        body += change_triples(settings, changes, graph=report.graph, authority=report.authority)
    session.load(meta, body.encode(), "nt")
    ensure_definitions(session, settings)
    if prep is not None:
        session.prepare(report.graph, prep)
    session.prepare(meta, Neutral(body.count("\n") - int(removed[0]["n"].value)))


def _map_records(source: Source, settings: Settings, authority: str, out: IO[str],
                 report: IngestReport, strict: bool, progress: Progress | None,
                 prep: PreparedGraph | None = None) -> dict[str, str]:
    mapper = Mapper(settings.base, authority, publish_names=settings.publish_contact_names)
    digests: dict[str, str] = {}
    first_seen: dict[tuple[str, str], str] = {}
    head = _authority_lines(settings, authority)
    out.writelines(head)
    if prep is not None:
        prep.add(head)
    for item in source.items():
        report.read += 1
        mark = mapper.mark()
        try:
            records = _map_item(mapper, item, first_seen)
        except RecordError as exc:
            mapper.rollback(mark)
            if strict:
                raise IngestError(f"{exc} (--strict: nothing was published)") from None
            report.rejected.append(exc)
            continue
        finally:
            if progress:
                progress(report.read, None)
        for rec in records:
            lines = sorted(set(rec.lines))
            out.writelines(lines)
            if prep is not None:
                prep.add(lines)
            report.triples += len(lines)
            report.counts[rec.kind] += 1
            key = f"{rec.kind} {rec.iri}"
            digests[key] = hashlib.sha1("".join(lines).encode()).hexdigest()
    if report.read == 0:
        raise IngestError(f"{source.location}: no records found; expected at least one service")
    if report.rejected and not report.counts:
        shown = "; ".join(str(e) for e in report.rejected[:3])
        more = f" (and {len(report.rejected) - 3} more)" if len(report.rejected) > 3 else ""
        raise IngestError(f"{source.location}: all {report.read} records were rejected, so nothing "
                          f"was published and what was published before stays: {shown}{more}")
    return digests


def _map_item(mapper: Mapper, item: Item, first_seen: dict[tuple[str, str], str]) -> list[MappedRecord]:
    if item.kind == "invalid":
        raise RecordError("must be a JSON object with an id and a name; got "
                          f"{json.dumps(item.data['_value'])[:40]}", record=item.locator)
    ident = item.data.get("id")
    if isinstance(ident, str) and ident.strip():
        key = (item.kind, ident.strip().lower())
        if key in first_seen:
            raise RecordError(f"duplicate id {ident}: already used by {first_seen[key]}; ids must be "
                              "unique, so this record was not loaded", record=item.locator, field="id")
    if item.kind in ("local_offer", "information"):
        from .profile import map_profile_item

        return map_profile_item(mapper, item)
    handler = {"service": mapper.map_service, "organization": mapper.map_organization,
               "location": mapper.map_location, "taxonomy": mapper.map_taxonomy,
               "taxonomy_term": mapper.map_taxonomy_term,
               "service_at_location": mapper.map_service_at_location}[item.kind]
    records = handler(item.data, item.locator)
    if isinstance(ident, str) and ident.strip():
        first_seen[(item.kind, ident.strip().lower())] = item.locator
    return records


def _copy_rdf(source: Source, out: IO[str], report: IngestReport) -> dict[str, str]:
    """RDF passes through: parse (which checks it) and re-serialise as sorted N-Triples."""
    import pyoxigraph as ox

    from localoffer.store.embedded import FORMATS

    digests: dict[str, str] = {}
    lines: set[str] = set()
    for path, fmt in source.rdf_files():
        report.read += 1
        try:
            for quad in ox.parse(path=str(path), format=FORMATS[fmt]):
                lines.add(f"{quad.subject} {quad.predicate} {quad.object} .\n")
        except SyntaxError as exc:
            raise IngestError(f"{path}: not valid {fmt}: {exc}") from None
        digests[f"file {path.name}"] = hashlib.sha1(path.read_bytes()).hexdigest()
    out.writelines(sorted(lines))
    report.triples = len(lines)
    report.counts["triples"] = len(lines)
    return digests


def _authority_lines(settings: Settings, authority: str) -> list[str]:
    a = iri(ns.authority_iri(settings.base, authority))
    t = iri(ns.RDF + "type")
    return [
        f"{a} {t} {iri(ns.LO + 'LocalAuthority')} .\n",
        f"{a} {t} {iri(ns.SCHEMA + 'GovernmentOrganization')} .\n",
        f"{a} {iri(ns.SCHEMA + 'name')} {lit(authority_name(authority))} .\n",
        f"{a} {iri(ns.SKOS + 'notation')} {lit(authority)} .\n",
        f"{a} {iri(ns.OWL + 'sameAs')} {iri(ns.STATGEO + authority)} .\n",
    ]


def _graph_checksum(digests: dict[str, str]) -> str:
    h = hashlib.sha256()
    for key in sorted(digests):
        h.update(f"{key} {digests[key]}\n".encode())
    return h.hexdigest()


def _previous_digests(store: Store, settings: Settings, graph: str) -> dict[str, str] | None:
    meta = ns.graph_iri(settings.base, "meta")
    rows = list(store.select(
        f"SELECT ?d ?c WHERE {{ GRAPH <{meta}> {{ <{graph}> <{ns.LO}recordDigests> ?d ; "
        f"<{ns.LO}contentChecksum> ?c }} }}"))
    if not rows:
        return None
    digests = json.loads(rows[0]["d"].value)
    digests["_checksum"] = rows[0]["c"].value
    return digests


def _diff(previous: dict[str, str] | None, current: dict[str, str], report: IngestReport) -> None:
    old = {k: v for k, v in (previous or {}).items() if not k.startswith("_")}
    for key, digest in current.items():
        kind = key.split(" ", 1)[0]
        if key not in old:
            report.added[kind] += 1
        elif old[key] != digest:
            report.changed[kind] += 1
    for key in old.keys() - current.keys():
        report.removed[key.split(" ", 1)[0]] += 1


def _forget_provenance(settings: Settings, graph: str) -> str:
    meta = ns.graph_iri(settings.base, "meta")
    return f"DELETE {{ GRAPH <{meta}> {{ ?s ?p ?o }} }} {_provenance_where(settings, graph)}"


def _provenance_where(settings: Settings, graph: str) -> str:
    """The WHERE clause matching a source graph's provenance triples."""
    meta = ns.graph_iri(settings.base, "meta")
    subjects = " ".join(f"<{graph}{suffix}>" for suffix in ("", "#ingest", "#input", "#software"))
    return f"WHERE {{ VALUES ?s {{ {subjects} }} GRAPH <{meta}> {{ ?s ?p ?o }} }}"


def _provenance(settings: Settings, report: IngestReport, source: Source, started: str,
                digests: dict[str, str]) -> str:
    """PROV-O for the source graph: where it came from, when, by what, with which counts."""
    g, act, inp, sw = (iri(report.graph + s) for s in ("", "#ingest", "#input", "#software"))
    P, L, D, V, S = (lambda n, b=b: iri(b + n) for b in (ns.PROV, ns.LO, ns.DCTERMS, ns.VOID, ns.SCHEMA))
    a = iri(ns.RDF + "type")
    where = source.location
    lines = [
        (g, a, P("Entity")), (g, a, V("Dataset")), (g, P("wasGeneratedBy"), act),
        (g, P("wasDerivedFrom"), inp), (g, D("publisher"), iri(ns.authority_iri(settings.base, report.authority))),
        (g, D("identifier"), lit(report.source_id)), (g, V("triples"), typed(report.triples, "integer")),
        (g, L("contentChecksum"), lit(report.checksum)), (g, L("recordDigests"), lit(json.dumps(digests, sort_keys=True))),
        (g, L("rejectedRecords"), typed(len(report.rejected), "integer")),
        (g, D("modified"), typed(_now(), "dateTime")),
        (act, a, P("Activity")), (act, P("startedAtTime"), typed(started, "dateTime")),
        (act, P("endedAtTime"), typed(_now(), "dateTime")), (act, P("used"), inp),
        (act, P("wasAssociatedWith"), sw), (act, L("recordsRead"), typed(report.read, "integer")),
        (inp, a, P("Entity")), (inp, D("source"), lit(where)), (inp, D("format"), lit(source.kind)),
        (inp, L("sha256"), lit(source.checksum)),
        (sw, a, P("SoftwareAgent")), (sw, S("name"), lit("localoffer")),
        (sw, S("softwareVersion"), lit(__version__)),
    ]
    if where.startswith(("http://", "https://")):
        lines.append((inp, P("atLocation"), iri(where)))
    for kind, n in sorted(report.counts.items()):
        lines.append((g, L(f"{kind.replace('_', '')}Count"), typed(n, "integer")))
    return "".join(f"{s} {p} {o} .\n" for s, p, o in lines)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
