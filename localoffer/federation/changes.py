"""The change feed: what each ingest and harvest run added, changed and withdrew.

Every run that publishes a graph compares the digests of its records with the previous run's
(see `ingest.pipeline._diff`) and records one Activity Streams 2.0 activity per record that
changed, in the metadata graph:

    <{base}/id/change/{run}-{n}> a as:Create | as:Update | as:Delete ;
        as:object <record IRI> ; dcterms:type "service" ; as:published "...Z"^^xsd:dateTime ;
        as:context <authority IRI> ; as:target <the graph> .

A withdrawn record is never a silent disappearance: its Delete carries the date
(`as:deleted`) and the former type, and is published as a Tombstone by `/changes`."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from localoffer import namespaces as ns
from localoffer.config import Settings
from localoffer.rdfterms import iri, lit, typed

AS = "https://www.w3.org/ns/activitystreams#"
KIND_CLASSES = {"service": ns.SCHEMA + "Service", "organization": ns.SCHEMA + "Organization",
                "location": ns.SCHEMA + "Place", "service_at_location": ns.SCHEMA + "ServiceChannel",
                "taxonomy": ns.SKOS + "ConceptScheme", "taxonomy_term": ns.SKOS + "Concept",
                "local_offer": ns.LO + "LocalOffer", "information": ns.LO + "InformationResource"}
_last_stamp: list[str] = [""]


@dataclass(frozen=True)
class Change:
    """One change: Create, Update or Delete of a record."""

    id: str
    type: str
    object: str
    kind: str
    published: str
    authority: str | None
    graph: str | None


def now_stamp() -> str:
    """The current UTC time with microseconds, strictly later than the previous stamp this
    process handed out (so two runs within a second still order)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if stamp <= _last_stamp[0]:
        last = dt.datetime.strptime(_last_stamp[0], "%Y-%m-%dT%H:%M:%S.%fZ")
        stamp = (last + dt.timedelta(microseconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    _last_stamp[0] = stamp
    return stamp


def change_set(previous: Mapping[str, str] | None, current: Mapping[str, str]
               ) -> list[tuple[str, str, str]]:
    """(activity type, kind, record IRI) for every record added, changed or removed, from
    the `"{kind} {iri}"` digests of two runs (bookkeeping keys starting with _ and whole
    files of RDF sources are not records)."""
    def records(d: Mapping[str, str] | None) -> dict[str, str]:
        return {k: v for k, v in (d or {}).items() if not k.startswith(("_", "file "))}

    old, new = records(previous), records(current)
    out: list[tuple[str, str, str]] = []
    for key in sorted(new):
        if key not in old or old[key] != new[key]:
            kind, _, subject = key.partition(" ")
            out.append(("Create" if key not in old else "Update", kind, subject))
    for key in sorted(old.keys() - new.keys()):
        kind, _, subject = key.partition(" ")
        out.append(("Delete", kind, subject))
    return out


def change_triples(settings: Settings, changes: list[tuple[str, str, str]], *, graph: str,
                   authority: str | None, published: str | None = None) -> str:
    """N-Triples for the activities of one run (for the metadata graph)."""
    stamp = published or now_stamp()
    run = hashlib.sha1(f"{graph} {stamp}".encode()).hexdigest()[:12]
    lines: list[str] = []
    a = iri(ns.RDF + "type")
    for n, (kind_of_change, kind, subject) in enumerate(changes):
        c = iri(ns.mint(settings.base, "change", f"{run}-{n:05d}"))
        when = typed(stamp, "dateTime")
        lines += [f"{c} {a} {iri(AS + kind_of_change)} .\n", f"{c} {iri(AS + 'object')} {iri(subject)} .\n",
                  f"{c} {iri(AS + 'published')} {when} .\n",
                  f"{c} {iri(ns.DCTERMS + 'type')} {lit(kind)} .\n",
                  f"{c} {iri(AS + 'target')} {iri(graph)} .\n"]
        if authority:
            lines.append(f"{c} {iri(AS + 'context')} {iri(ns.authority_iri(settings.base, authority))} .\n")
        if kind_of_change == "Delete":
            lines.append(f"{c} {iri(AS + 'deleted')} {when} .\n")
            if kind in KIND_CLASSES:
                lines.append(f"{c} {iri(AS + 'formerType')} {iri(KIND_CLASSES[kind])} .\n")
    return "".join(lines)


def record_changes(session: Any, settings: Settings, *, graph: str, authority: str | None,
                   previous: Mapping[str, str] | None, current: Mapping[str, str]) -> int:
    """Write the change set of one run into the metadata graph, inside the run's write
    session (so the feed and the data are published together); returns how many changes."""
    changes = change_set(previous, current)
    if changes:
        body = change_triples(settings, changes, graph=graph, authority=authority)
        session.load(ns.graph_iri(settings.base, "meta"), body.encode("utf-8"), "nt")
    return len(changes)


def _filters(settings: Settings, authority: str | None, since: str | None) -> str:
    out = ""
    if authority:
        out += f"?c <{AS}context> <{ns.authority_iri(settings.base, authority)}> .\n"
    if since:
        out += f'FILTER (?t > "{_clean_stamp(since)}"^^<{ns.XSD}dateTime>)\n'
    return out


def _clean_stamp(text: str) -> str:
    """A `since` value checked as an xsd:dateTime (never pasted into a query otherwise)."""
    try:
        parsed = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        from localoffer.errors import QueryError

        raise QueryError(f"since={text!r} is not a date and time such as 2025-01-31T12:00:00Z") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def count_changes(store: Any, settings: Settings, *, authority: str | None = None,
                  since: str | None = None) -> int:
    """How many changes the feed holds (for one authority, after *since*)."""
    meta = ns.graph_iri(settings.base, "meta")
    rows = list(store.select(
        f"SELECT (COUNT(?c) AS ?n) WHERE {{ GRAPH <{meta}> {{ ?c <{AS}published> ?t ; <{AS}object> ?o .\n"
        f"{_filters(settings, authority, since)} }} }}"))
    return int(rows[0]["n"].value) if rows else 0


def read_changes(store: Any, settings: Settings, *, authority: str | None = None,
                 since: str | None = None, offset: int = 0, limit: int = 100) -> list[Change]:
    """The changes, newest first (then by IRI), one page of them."""
    meta = ns.graph_iri(settings.base, "meta")
    sparql = f"""SELECT ?c ?type ?o ?kind ?t ?a ?g WHERE {{ GRAPH <{meta}> {{
  ?c <{AS}published> ?t ; <{AS}object> ?o ; a ?type .
  FILTER (STRSTARTS(STR(?type), "{AS}"))
  OPTIONAL {{ ?c <{ns.DCTERMS}type> ?kind }} OPTIONAL {{ ?c <{AS}context> ?a }}
  OPTIONAL {{ ?c <{AS}target> ?g }}
  {_filters(settings, authority, since)} }} }}
ORDER BY DESC(?t) ?c LIMIT {int(limit)} OFFSET {int(offset)}"""
    out = []
    for row in store.select(sparql):
        out.append(Change(row["c"].value, row["type"].value[len(AS):], row["o"].value,
                          row["kind"].value if "kind" in row else "", row["t"].value,
                          row["a"].value if "a" in row else None, row["g"].value if "g" in row else None))
    return out
