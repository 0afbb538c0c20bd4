"""`/queries`: the canned queries of `queries/*.rq`, listed and run with their parameters bound
safely (see localoffer.canned), as an HTML table, SPARQL JSON or CSV."""

from __future__ import annotations

import io

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, request

from localoffer.canned import CannedQuery, bind, get_query, load_queries
from localoffer.errors import NotFoundError, QueryError
from localoffer.querying import execute

from .site import TEMPLATE_FOLDER, href_for, not_found_page, settings, store

bp = Blueprint("ld_canned", __name__, template_folder=TEMPLATE_FOLDER)
DOWNLOADS = {"json": ("application/sparql-results+json", ox.QueryResultsFormat.JSON),
             "csv": ("text/csv", ox.QueryResultsFormat.CSV),
             "tsv": ("text/tab-separated-values", ox.QueryResultsFormat.TSV)}


@bp.route("/queries")
def index() -> Response:
    """The list of canned queries."""
    return Response(render_template("ld/queries.html", queries=sorted(load_queries().values(),
                                                                       key=lambda q: q.title)),
                    mimetype="text/html")


def chosen_format(name: str) -> str:
    """html, json or csv: by extension of the name, ?_format=, or Accept."""
    fmt = request.args.get("_format", "").lower()
    if fmt:
        if fmt not in ("html", *DOWNLOADS):
            raise QueryError(f"_format must be html, json, csv or tsv; got {fmt!r}")
        return fmt
    best = request.accept_mimetypes.best_match(
        ["text/html", "application/sparql-results+json", "application/json", "text/csv",
         "text/tab-separated-values"])
    return {"application/sparql-results+json": "json", "application/json": "json", "text/csv": "csv",
            "text/tab-separated-values": "tsv"}.get(best or "", "html")


@bp.route("/queries/<name>")
def run(name: str) -> Response:
    """Run one canned query with the parameters in the URL."""
    stem, dot, ext = name.rpartition(".")
    if dot and ext in DOWNLOADS:
        name = stem
    try:
        query = get_query(name)
    except NotFoundError as exc:
        return not_found_page(str(exc), suggestions=[("See the list of queries", "/queries")])
    fmt = ext if dot and ext in DOWNLOADS else chosen_format(name)
    values = {p.name: request.args[p.name] for p in query.params if p.name in request.args}
    try:
        text = bind(query, values, settings().base)
    except QueryError as exc:
        if fmt != "html":
            raise
        return Response(render_template("ld/query.html", query=query, values=values, error=str(exc),
                                        columns=[], rows=None, text=None),
                        status=400, mimetype="text/html")
    result = execute(store(), text)
    if fmt in DOWNLOADS:
        media, oxfmt = DOWNLOADS[fmt]
        buf = io.BytesIO()
        result.serialize(buf, oxfmt)
        response = Response(buf.getvalue(), content_type=f"{media}; charset=utf-8")
        if fmt != "json":
            response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    else:
        columns = [v.value for v in result.variables]
        limit = settings().result_limit
        rows = []
        for i, row in enumerate(result):
            if i >= limit:
                break
            rows.append([cell(row[c]) for c in columns])
        response = Response(render_template("ld/query.html", query=query, values=values, error=None,
                                            columns=columns, rows=rows, text=text,
                                            truncated=len(rows) >= limit),
                            mimetype="text/html")
    response.vary.add("Accept")
    return response


def cell(term: object) -> tuple[str, str | None]:
    """A result cell as (text, link)."""
    if term is None:
        return "", None
    if isinstance(term, ox.NamedNode):
        return term.value, href_for(term.value)
    return str(getattr(term, "value", term)), None


__all__ = ["bp", "CannedQuery"]
