"""`/stats`: the counts the store keeps for each version (services, organisations and locations
per authority; services per authority, need area and age band; triples per graph), as JSON or
CSV. They are recounted by the writer before it publishes a version, so answering costs a read
of a small table, however big the data; researchers get the national table in one request.

    /stats                         everything
    /stats?authority=E06000023     one authority
    /stats?format=csv              services per authority, need area and age band as CSV
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from flask import Blueprint, Response, request

from localoffer import namespaces as ns
from localoffer.errors import QueryError
from localoffer.statistics import collect

from . import get_settings, get_store
from .responses import etag_for, not_modified, set_validators

bp = Blueprint("stats", __name__)
CSV_COLUMNS = ("authority", "authority_name", "need_area", "need_area_label", "age_band",
               "age_band_label", "services")


@bp.route("/stats")
def stats() -> Response:
    authority = (request.args.get("authority") or "").strip().upper() or None
    if authority and not ns.GSS_CODE.match(authority):
        raise QueryError(f"authority={authority!r} is not an ONS GSS code such as E06000023")
    fmt = (request.args.get("format") or "").lower()
    if not fmt:
        fmt = "csv" if request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv" \
            else "json"
    if fmt not in ("json", "csv"):
        raise QueryError(f"format={fmt!r}: choose json or csv")
    store = get_store()
    etag = etag_for(store.version(), "stats", authority, fmt)
    cached = not_modified(etag, store.modified())
    if cached is not None:
        return cached
    data = collect(store, get_settings())
    if authority:
        data = only(data, authority)
    if fmt == "csv":
        response = Response(as_csv(data), mimetype="text/csv")
    else:
        body = {k: v for k, v in data.items() if k != "store"}  # the server's path is not public
        response = Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")
    response.vary.add("Accept")
    set_validators(response, etag_for(data["version"], "stats", authority, fmt), store.modified())
    return response


def only(data: dict[str, Any], code: str) -> dict[str, Any]:
    """The counts of one authority (404 when the store holds none of its data)."""
    authorities = [a for a in data["authorities"] if a["code"] == code]
    if not authorities:
        from werkzeug.exceptions import NotFound

        raise NotFound(f"no data for authority {code}: see /stats for the authorities held")
    return {**data, "authorities": authorities,
            "needs": [n for n in data["needs"] if n["authority"] == code]}


def as_csv(data: dict[str, Any]) -> str:
    names = {a["code"]: a["name"] or "" for a in data["authorities"]}
    labels = {c["iri"]: c["label"] for c in data["need_areas"] + data["age_bands"]}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for n in data["needs"]:
        writer.writerow([n["authority"], names.get(n["authority"], ""), n["area"] or "",
                         labels.get(n["area"] or "", ""), n["band"] or "", labels.get(n["band"] or "", ""),
                         n["services"]])
    return out.getvalue()
