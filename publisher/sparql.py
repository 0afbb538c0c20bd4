"""`/sparql`: the SPARQL 1.1 Protocol, read-only (query by GET, form POST or direct POST)."""

from __future__ import annotations

import io

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, request

from localoffer.errors import QueryError
from localoffer.sparqlguard import check_read_query

from . import get_store

bp = Blueprint("sparql", __name__)

RESULTS = [("application/sparql-results+json", ox.QueryResultsFormat.JSON),
           ("application/sparql-results+xml", ox.QueryResultsFormat.XML),
           ("text/csv", ox.QueryResultsFormat.CSV),
           ("text/tab-separated-values", ox.QueryResultsFormat.TSV),
           ("application/json", ox.QueryResultsFormat.JSON)]
GRAPHS = [("text/turtle", ox.RdfFormat.TURTLE), ("application/n-triples", ox.RdfFormat.N_TRIPLES),
          ("application/ld+json", ox.RdfFormat.JSON_LD), ("application/rdf+xml", ox.RdfFormat.RDF_XML),
          ("application/n-quads", ox.RdfFormat.N_QUADS), ("application/trig", ox.RdfFormat.TRIG)]
SHORT = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
         "csv": "text/csv", "tsv": "text/tab-separated-values", "ttl": "text/turtle",
         "turtle": "text/turtle", "nt": "application/n-triples", "jsonld": "application/ld+json",
         "rdfxml": "application/rdf+xml"}


def _query_text() -> tuple[str | None, list[str], list[str]]:
    if request.method == "GET":
        args = request.args
    elif request.mimetype == "application/x-www-form-urlencoded":
        if "update" in request.form:
            raise QueryError("this endpoint is read-only: SPARQL Update is refused here")
        args = request.form
    elif request.mimetype == "application/sparql-query":
        return request.get_data(as_text=True), request.args.getlist("default-graph-uri"), \
            request.args.getlist("named-graph-uri")
    elif request.mimetype == "application/sparql-update":
        raise QueryError("this endpoint is read-only: SPARQL Update is refused here")
    else:
        raise QueryError(f"unsupported Content-Type {request.mimetype!r} for POST; use "
                         "application/x-www-form-urlencoded or application/sparql-query")
    queries = args.getlist("query")
    if len(queries) > 1:
        raise QueryError("give exactly one 'query' parameter")
    return (queries[0] if queries else None), args.getlist("default-graph-uri"), \
        args.getlist("named-graph-uri")


def _choose(options: list[tuple[str, object]]) -> tuple[str, object]:
    wanted = request.values.get("format")
    if wanted:
        mime = SHORT.get(wanted, wanted)
        for m, f in options:
            if m == mime:
                return m, f
        raise QueryError(f"format {wanted!r} is not available for this result; choose one of "
                         + ", ".join(m for m, _ in options))
    best = request.accept_mimetypes.best_match([m for m, _ in options])
    if best is None:
        if request.accept_mimetypes and "*/*" not in request.headers.get("Accept", "*/*"):
            from werkzeug.exceptions import NotAcceptable

            raise NotAcceptable("no result format matches Accept; available: "
                                + ", ".join(m for m, _ in options))
        return options[0]
    return next((m, f) for m, f in options if m == best)


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint() -> Response:
    """Answer a SPARQL query; without a query, the HTML query form (or, for machines, 400)."""
    text, default_graphs, named_graphs = _query_text()
    if text is None:
        if request.accept_mimetypes.best == "text/html" or "text/html" in request.headers.get("Accept", ""):
            return Response(render_template("sparql.html"), mimetype="text/html")
        raise QueryError("no query given: pass 'query' (GET or form POST) or POST application/sparql-query")
    check_read_query(text)
    store = get_store()
    try:
        result = store.query(text, default_graph=default_graphs or None,
                             named_graphs=named_graphs or None)
    except SyntaxError as exc:
        raise QueryError(f"SPARQL syntax error: {exc}") from None
    buf = io.BytesIO()
    if isinstance(result, ox.QueryTriples):
        mime, fmt = _choose(GRAPHS)
    else:
        mime, fmt = _choose(RESULTS)
    result.serialize(buf, fmt)
    charset = "; charset=utf-8" if mime.startswith(("text/", "application/sparql-results", "application/json",
                                                     "application/ld+json", "application/n-triples")) else ""
    resp = Response(buf.getvalue(), content_type=mime + charset)
    resp.headers["Vary"] = "Accept"
    return resp
