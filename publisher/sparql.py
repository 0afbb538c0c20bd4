"""`/sparql`: the SPARQL 1.1 Protocol, read-only. Queries arrive by GET, URL-encoded POST or
direct POST, with an optional protocol dataset; they run in a killable query process under a
hard timeout and a row cap; answers are negotiated, gzipped, and validated by ETag and
Last-Modified. Without a query it answers with the Service Description (or, for a browser,
the query form)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, request, url_for
from werkzeug.datastructures import MIMEAccept, MultiDict
from werkzeug.exceptions import UnsupportedMediaType

from localoffer.config import Settings
from localoffer.errors import QueryError, StoreError
from localoffer.federation.service import ServiceError, check_services, service_policy
from localoffer.queryexec import GRAPH_FORMATS, TABLE, Answer, Failure, QueryJob
from localoffer.sparqlguard import check_read_query, query_form, service_targets

from . import get_pool, get_settings, get_store
from .conneg import (
    BOOLEAN,
    GRAPHS,
    RDF_DOCUMENTS,
    RESULTS,
    Offer,
    media_type_for,
    negotiate,
    prefers_html,
    with_charset,
)
from .description import PREFIXES, describe_service
from .responses import etag_for, not_modified, set_validators

bp = Blueprint("sparql", __name__)
OUTCOME = "localoffer.query_outcome"  # environ key: a failure the fast path met, for answer()
READ_ONLY = ("this endpoint is read-only: SPARQL Update is refused here (updates go to /update, "
             "with the update token)")


@dataclass
class QueryRequest:
    """A protocol query request: the query text and the protocol dataset."""

    text: str | None
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)


def utf8_body(kind: str) -> str:
    """The request body as text; the protocol allows UTF-8 only."""
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"a {kind} sent in the body must be UTF-8 (got charset={charset})")
    try:
        return request.get_data().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise QueryError(f"the {kind} in the request body is not valid UTF-8 (byte {exc.start})") from None


def one(values: list[str], name: str) -> str | None:
    """The single value of a protocol parameter that may appear at most once."""
    if len(values) > 1:
        raise QueryError(f"give exactly one '{name}' parameter (got {len(values)})")
    return values[0] if values else None


def read_query_request() -> QueryRequest:
    """Parse the three request forms of the SPARQL 1.1 Protocol's query operation."""
    args = request.args
    if request.method == "GET":
        if "update" in args:
            raise QueryError(READ_ONLY)
        return QueryRequest(one(args.getlist("query"), "query"), args.getlist("default-graph-uri"),
                            args.getlist("named-graph-uri"))
    mimetype = request.mimetype
    if mimetype == "application/x-www-form-urlencoded":
        form: MultiDict[str, str] = request.form
        if "update" in form:
            raise QueryError(READ_ONLY)
        return QueryRequest(one(form.getlist("query") + args.getlist("query"), "query"),
                            args.getlist("default-graph-uri") + form.getlist("default-graph-uri"),
                            args.getlist("named-graph-uri") + form.getlist("named-graph-uri"))
    if mimetype == "application/sparql-query":
        return QueryRequest(utf8_body("query"), args.getlist("default-graph-uri"),
                            args.getlist("named-graph-uri"))
    if mimetype == "application/sparql-update":
        raise QueryError(READ_ONLY)
    raise UnsupportedMediaType(
        f"a POST to /sparql must be application/x-www-form-urlencoded (query=...) or "
        f"application/sparql-query (the query as the body), not {mimetype or 'without a Content-Type'}")


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint() -> Response:
    """Answer a SPARQL query; without one, the Service Description or the HTML query form."""
    req = read_query_request()
    if req.text is None:
        if request.method == "POST":
            raise QueryError("no query given: send 'query' in the form body or POST the query as "
                             "application/sparql-query")
        return landing()
    return answer(req)


@lru_cache(maxsize=1024)
def checked_form(text: str) -> str | None:
    """The form of a query without SERVICE, after the read-only guard (which raises for an
    update or a SERVICE clause). Remembered per query text: clients repeat their queries, and
    the answer depends on the text alone (refusals are not remembered: they raise)."""
    check_read_query(text)
    return query_form(text)


def choose_formats(form: str | None, accept: MIMEAccept, fmt: str | None) -> tuple[Offer, Offer]:
    """The negotiated (results offer, graph offer) for what the query form will return, from
    the request's Accept and its `format` parameter."""
    if form == "SELECT":
        return negotiate(RESULTS, accept, fmt), GRAPHS[0]
    if form == "ASK":
        return negotiate(BOOLEAN, accept, fmt), GRAPHS[0]
    if form in ("CONSTRUCT", "DESCRIBE"):
        return RESULTS[0], negotiate(GRAPHS, accept, fmt, graph=True)
    try:  # not recognisable: the engine will say why; any format will do
        return negotiate(RESULTS, accept, fmt), negotiate(GRAPHS, accept, fmt, graph=True)
    except Exception:  # noqa: BLE001
        return RESULTS[0], GRAPHS[0]


def query_job(text: str, formats: tuple[Offer, Offer], settings: Settings, base_iri: str,
              default_graphs: list[str], named_graphs: list[str], policy: Any = None) -> QueryJob:
    """The job that answers *text* in the negotiated *formats*."""
    results, graphs = formats
    dataset = bool(default_graphs or named_graphs)
    return QueryJob(text, result_format=results[1], graph_format=graphs[1], limit=settings.result_limit,
                    default_graph=default_graphs if dataset else None,
                    named_graphs=named_graphs if dataset else None, base_iri=base_iri,
                    federation=policy)


def validated_parts(job: QueryJob, formats: tuple[Offer, Offer]) -> tuple[Any, ...]:
    """What, beside the data version, an answer's ETag depends on."""
    return (job.sparql, job.default_graph, job.named_graphs, formats[0][0], formats[1][0], job.limit)


def answer_type(reply: Answer, formats: tuple[Offer, Offer]) -> tuple[str, list[tuple[str, str]]]:
    """A (non-HTML) answer's Content-Type and the headers saying how many rows it has."""
    results, graphs = formats
    offer = graphs if reply.form == "graph" else results
    mime = offer[0] if offer[1] == reply.format else media_type_for(reply.format, GRAPHS + RESULTS)
    return with_charset(mime), [("X-LocalOffer-Truncated", "true" if reply.truncated else "false"),
                                ("X-LocalOffer-Rows", str(reply.count))]


def answer(req: QueryRequest) -> Response:
    """Run the query (unless the client's copy is current) and build the response."""
    text = req.text or ""
    settings, store = get_settings(), get_store()
    if service_targets(text):  # SERVICE: answered by us, under the allow-list of the settings
        policy = service_policy(settings)
        check_read_query(text, check_services(text, policy))
        form = query_form(text)
    else:
        policy = None
        form = checked_form(text)
    fmt = request.args.get("format") if request.method == "GET" else request.values.get("format")
    formats = choose_formats(form, request.accept_mimetypes, fmt)
    job = query_job(text, formats, settings, request.base_url, req.default_graphs, req.named_graphs,
                    policy)
    parts = validated_parts(job, formats)
    conditional = request.if_none_match or request.if_modified_since is not None
    modified = store.modified() if policy is None else None
    if conditional and policy is None:  # only then is the version needed before the query
        cached = not_modified(etag_for(store.version(), *parts), modified)
        if cached is not None:
            cached.vary.add("Accept")
            return cached
    started = time.monotonic()
    # The WSGI fast path (localoffer.publisher.fastpath) hands over what it met running the query.
    outcome = request.environ.pop(OUTCOME, None)
    reply = get_pool().run(job, settings.query_timeout) if outcome is None else outcome
    if isinstance(reply, Exception):
        raise reply
    if isinstance(reply, Failure):
        raise_failure(reply)
    assert isinstance(reply, Answer)
    if reply.format == TABLE:
        response = Response(results_page(text, reply, time.monotonic() - started), mimetype="text/html")
        response.headers["X-LocalOffer-Truncated"] = "true" if reply.truncated else "false"
        response.headers["X-LocalOffer-Rows"] = str(reply.count)
    else:
        content_type, counts = answer_type(reply, formats)
        response = Response(reply.body, content_type=content_type)
        response.headers.extend(counts)
    response.vary.add("Accept")
    if policy is None:
        set_validators(response, etag_for(reply.version, *parts), modified)
    else:  # the answer depends on other endpoints too: not validated by our version
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(ServiceError)
def service_failed(exc: ServiceError) -> Response:
    """A SERVICE endpoint failed: the gateway's fault, not the client's query."""
    from .errors import respond

    return respond(502, "SERVICE failed", str(exc))


def raise_failure(reply: Failure) -> None:
    """Turn a query process's Failure into the matching error."""
    if reply.kind in ("syntax", "refused"):
        raise QueryError(reply.message)
    if reply.kind == "service":
        raise ServiceError(reply.message)
    if reply.kind == "bug":
        raise RuntimeError(reply.message)
    raise StoreError(reply.message)


def landing() -> Response:
    """GET /sparql without a query: the form for people, the Service Description for programs."""
    if not request.args.get("format") and prefers_html(request.accept_mimetypes, RDF_DOCUMENTS):
        return Response(render_template("sparql.html", query=None, settings=get_settings()),
                        mimetype="text/html")
    mime, key = negotiate(RDF_DOCUMENTS, request.accept_mimetypes, request.args.get("format"), graph=True)
    settings = get_settings()
    update = url_for("update.endpoint", _external=True) if settings.update_token else None
    triples = describe_service(request.base_url, update, get_store().named_graphs(), settings)
    fmt = GRAPH_FORMATS[key]
    prefixes = PREFIXES if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.N3) else None
    response = Response(ox.serialize(triples, format=fmt, prefixes=prefixes), content_type=with_charset(mime))
    response.vary.add("Accept")
    return response


def results_page(text: str, reply: Answer, elapsed: float) -> str:
    """The query form with the answer as an HTML table (and a note when it was cut)."""
    data = json.loads(reply.body)
    columns: list[str] = data.get("head", {}).get("vars", [])
    rows: list[list[dict[str, Any] | None]] = [[b.get(c) for c in columns]
                                                for b in data.get("results", {}).get("bindings", [])]
    return render_template("sparql.html", query=text, columns=columns, rows=rows,
                           boolean=data.get("boolean"), truncated=reply.truncated, count=reply.count,
                           elapsed=elapsed, settings=get_settings(), form=reply.form)
