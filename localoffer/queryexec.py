"""What a query process does: run one SPARQL query or update against the store and hand back
the answer already serialised to bytes, cut at the result-row cap.

This runs inside the killable processes of `localoffer.querypool`, so nothing here may hold
state the web worker needs; every job is a plain, picklable dataclass in and out."""

from __future__ import annotations

import io
import json
import signal
from dataclasses import dataclass, field
from itertools import islice
from multiprocessing.connection import Connection
from typing import Any

import pyoxigraph as ox

from localoffer.config import Settings
from localoffer.errors import LocalOfferError, QueryError
from localoffer.federation.service import ServiceError
from localoffer.sparqlguard import explain_syntax_error, with_base
from localoffer.store import Store, StoreBusyError, is_graph_result, open_store

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RESULT_FORMATS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
                  "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}
GRAPH_FORMATS = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD,
                 "rdfxml": ox.RdfFormat.RDF_XML, "nq": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG,
                 "n3": ox.RdfFormat.N3}
TABLE = "table"  # SPARQL JSON for every query form, rendered as an HTML table by the publisher


@dataclass(frozen=True)
class QueryJob:
    """One read-only query with the protocol's dataset and the formats chosen for each form."""

    sparql: str
    result_format: str = "json"
    graph_format: str = "ttl"
    limit: int = 10000
    default_graph: list[str] | None = None
    named_graphs: list[str] | None = None
    base_iri: str | None = None
    federation: Any = None  # a localoffer.federation.remote.Policy when the query has SERVICE


@dataclass(frozen=True)
class UpdateJob:
    """One SPARQL Update, run in its own atomic write session."""

    sparql: str
    base_iri: str | None = None


@dataclass(frozen=True)
class Answer:
    """A serialised result: *form* is solutions, boolean or graph."""

    form: str
    body: bytes
    format: str
    truncated: bool = False
    count: int = 0
    version: str = ""


@dataclass(frozen=True)
class Failure:
    """Why a job failed: *kind* is syntax, refused, busy or failed."""

    kind: str
    message: str
    extra: dict[str, Any] = field(default_factory=dict)


def run_query(store: Store, job: QueryJob) -> Answer:
    """Run *job* and serialise its result, keeping at most `job.limit` rows or triples."""
    version = store.version()
    sparql = job.sparql
    if job.federation is not None:  # SERVICE is answered by us, never by the engine
        from localoffer.federation.service import resolve_services

        sparql = resolve_services(sparql, job.federation)
    text, shift = with_base(sparql, job.base_iri)
    try:
        result = store.query(text, default_graph=job.default_graph, named_graphs=job.named_graphs)
    except SyntaxError as exc:
        raise QueryError(explain_syntax_error(job.sparql, str(exc), shift=shift)) from None
    except RuntimeError as exc:
        raise QueryError(f"the query failed: {exc}") from None
    if isinstance(result, ox.QueryBoolean):
        return _boolean(result, job, version)
    if is_graph_result(result):
        return _graph(result, job, version)
    return _solutions(result, job, version)


def run_update(store: Store, job: UpdateJob) -> Answer:
    """Run *job* in one write session: all of it is published, or none of it."""
    text, shift = with_base(job.sparql, job.base_iri)
    try:
        with store.write() as session:
            session.update(text)
    except SyntaxError as exc:
        raise QueryError(explain_syntax_error(job.sparql, str(exc), "update", shift)) from None
    except (OSError, RuntimeError) as exc:  # e.g. CLEAR GRAPH of a graph that does not exist
        raise QueryError(f"the update failed: {exc}") from None
    return Answer("update", b"", "", version=store.version())


def _boolean(result: ox.QueryBoolean, job: QueryJob, version: str) -> Answer:
    if job.result_format == TABLE:
        body = json.dumps({"head": {}, "boolean": bool(result)}).encode()
    else:
        buf = io.BytesIO()
        result.serialize(buf, RESULT_FORMATS[job.result_format])
        body = buf.getvalue()
    return Answer("boolean", body, job.result_format, count=1, version=version)


def _solutions(result: ox.QuerySolutions, job: QueryJob, version: str) -> Answer:
    names = [v.value for v in result.variables]
    rows = list(islice(result, job.limit + 1))
    truncated = len(rows) > job.limit
    rows = rows[: job.limit]
    bindings = [{n: _term(row[n]) for n in names if row[n] is not None} for row in rows]
    body = _json_results(names, bindings)
    if job.result_format not in (TABLE, "json"):
        parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        buf = io.BytesIO()
        parsed.serialize(buf, RESULT_FORMATS[job.result_format])
        body = buf.getvalue()
    return Answer("solutions", body, job.result_format, truncated, len(rows), version)


def _graph(result: Any, job: QueryJob, version: str) -> Answer:
    triples = list(islice(result, job.limit + 1))
    truncated = len(triples) > job.limit
    triples = triples[: job.limit]
    if job.graph_format == TABLE:
        bindings = [{"subject": _term(t.subject), "predicate": _term(t.predicate), "object": _term(t.object)}
                    for t in triples]
        body = _json_results(["subject", "predicate", "object"], bindings)
    else:
        fmt = GRAPH_FORMATS[job.graph_format]
        prefixes = _prefixes(job.sparql) if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else None
        body = ox.serialize(triples, format=fmt, prefixes=prefixes or None)
    return Answer("graph", body, job.graph_format, truncated, len(triples), version)


def _json_results(names: list[str], bindings: list[dict[str, Any]]) -> bytes:
    doc = {"head": {"vars": names}, "results": {"bindings": bindings}}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _term(term: Any) -> dict[str, Any]:
    """A term in the SPARQL 1.1 JSON results shape."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {"subject": _term(term.subject),
                                            "predicate": _term(term.predicate),
                                            "object": _term(term.object)}}
    return {"type": "literal", "value": str(term)}


def _prefixes(sparql: str) -> dict[str, str]:
    """The query's own PREFIX declarations, reused to make Turtle output readable."""
    from localoffer.sparqlguard import tokens

    toks = [(k, t) for k, t in tokens(sparql) if k != "comment"]
    found: dict[str, str] = {}
    for i, (kind, tok) in enumerate(toks[:-2]):
        declares = kind == "word" and tok.upper() == "PREFIX" and toks[i + 1][1].endswith(":")
        if declares and toks[i + 2][0] == "iri":
            found[toks[i + 1][1][:-1]] = toks[i + 2][1][1:-1]
    return found


def execute(store: Store, job: QueryJob | UpdateJob) -> Answer | Failure:
    """Run a job, turning the errors a client can cause into a Failure."""
    try:
        if isinstance(job, UpdateJob):
            return run_update(store, job)
        return run_query(store, job)
    except ServiceError as exc:
        return Failure("service", str(exc))
    except QueryError as exc:
        return Failure("syntax" if str(exc).startswith("SPARQL syntax error") else "refused", str(exc))
    except StoreBusyError as exc:
        return Failure("busy", str(exc))
    except LocalOfferError as exc:
        return Failure("failed", str(exc))
    except OSError as exc:
        return Failure("failed", f"the query failed: {exc}")


def serve_jobs(conn: Connection, settings: Settings) -> None:
    """A query process's loop: receive jobs until the web worker goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the web worker decides when we stop
    store = open_store(settings)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: Answer | Failure = execute(store, job)
        except Exception as exc:  # noqa: BLE001 - reported to the web worker, which logs it
            reply = Failure("bug", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            return
