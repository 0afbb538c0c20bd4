"""`/services`: find services across council boundaries by text, need, age, type of provision,
council, cost, opening day and time (or open now), language, how they are attended and
accessibility; with result counts per facet and paging. HTML for people, JSON for programs."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, Response, jsonify, render_template, request

from localoffer.errors import QueryError
from localoffer.textindex import open_index

from .search import PAGE_SIZE, Filters, facets, parse_filters, results, select
from .site import TEMPLATE_FOLDER, href_for, settings, store

bp = Blueprint("ld_browse", __name__, template_folder=TEMPLATE_FOLDER)


@bp.route("/services")
def services() -> Response:
    """The search page (or its results as JSON)."""
    wants_json = request.args.get("_format") == "json" or (
        request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json")
    try:
        filters = parse_filters(request.args)
    except QueryError as exc:
        if wants_json:
            return Response(jsonify({"status": 400, "error": "Bad request", "message": str(exc)}).get_data(),
                            status=400, mimetype="application/json")
        body = render_template("ld/services.html", filters=Filters(), error=str(exc), total=0, hits=[],
                               facets=[], pages=0, href_for=href_for)
        return Response(body, status=400, mimetype="text/html")
    base = settings().base
    # one store version throughout, with its own text index
    with open_index(store()) as index:
        selection = select(index, filters, base)
        total, hits = results(index, filters, base, selection)
        facet_list = facets(index, filters, base, selection)
    sampled = 0  # counts are exact (the key stays in the JSON for programs that read it)
    pages = max(1, -(-total // PAGE_SIZE))
    if wants_json:
        response = jsonify({"total": total, "page": filters.page, "pages": pages,
                            "filters": dict(filters.active), "counted_among_best_matches": sampled or None,
                            "results": [{**asdict(h), "page": href_for(h.iri)} for h in hits],
                            "facets": {f.name: [asdict(v) for v in f.values] for f in facet_list}})
    else:
        response = Response(render_template("ld/services.html", filters=filters, error=None, total=total,
                                            hits=hits, facets=facet_list, pages=pages, href_for=href_for,
                                            sampled=sampled),
                            mimetype="text/html")
    response.vary.add("Accept")
    return response
