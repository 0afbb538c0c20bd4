"""`/changes`: the change feed as an Activity Streams 2.0 OrderedCollection (JSON-LD), newest
first, paged. Withdrawn records appear as Delete activities whose object is a Tombstone with
the date. Filters: `authority=GSS` and `since=DATETIME` (only later changes), so a harvester
that remembers where it stopped asks one small question when nothing changed."""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, request

from localoffer import namespaces as ns
from localoffer.errors import QueryError
from localoffer.federation.changes import Change, count_changes, read_changes

from . import get_settings, get_store
from .responses import etag_for, not_modified, set_validators

bp = Blueprint("changes", __name__)
PAGE_SIZE = 100
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
CONTEXT: list[Any] = [AS_CONTEXT, {"schema": ns.SCHEMA, "lo": ns.LO, "skos": ns.SKOS,
                                   "dcterms": ns.DCTERMS, "kind": "dcterms:type"}]
ACTIVITY_JSON = "application/activity+json"
LD_JSON = f'application/ld+json; profile="{AS_CONTEXT}"'


@bp.route("/changes")
def feed() -> Response:
    """The collection (without `page`) or one of its pages (`page=1` is the newest)."""
    settings, store = get_settings(), get_store()
    authority = (request.args.get("authority") or "").strip().upper() or None
    if authority and not ns.GSS_CODE.match(authority):
        raise QueryError(f"authority={authority!r} is not an ONS GSS code such as E06000023")
    since = request.args.get("since") or None
    page_arg = request.args.get("page")
    try:
        page = int(page_arg) if page_arg is not None else None
        size = min(max(int(request.args.get("per_page", PAGE_SIZE)), 1), 1000)
    except ValueError:
        raise QueryError("page and per_page must be whole numbers") from None
    if page is not None and page < 1:
        raise QueryError("page numbers start at 1")
    mime = LD_JSON if "application/ld+json" in request.headers.get("Accept", "") else ACTIVITY_JSON
    etag = etag_for(store.version(), authority, since, page, size, mime)
    cached = not_modified(etag, store.modified())
    if cached is not None:
        return cached
    total = count_changes(store, settings, authority=authority, since=since)
    pages = max(1, math.ceil(total / size))
    filters = {k: v for k, v in (("authority", authority), ("since", since)) if v}
    if size != PAGE_SIZE:
        filters["per_page"] = str(size)
    here = request.base_url

    def link(**extra: object) -> str:
        query = urlencode({**filters, **extra})
        return f"{here}?{query}" if query else here

    doc: dict[str, Any] = {"@context": CONTEXT}
    if page is None:
        doc.update({"id": link(), "type": "OrderedCollection", "totalItems": total,
                    "summary": "Services, organisations and locations added, changed and withdrawn, "
                               "newest first", "first": link(page=1), "last": link(page=pages)})
    else:
        items = read_changes(store, settings, authority=authority, since=since,
                             offset=(page - 1) * size, limit=size)
        doc.update({"id": link(page=page), "type": "OrderedCollectionPage", "partOf": link(),
                    "startIndex": (page - 1) * size, "totalItems": total,
                    "orderedItems": [activity(c) for c in items]})
        if page < pages:
            doc["next"] = link(page=page + 1)
        if page > 1:
            doc["prev"] = link(page=page - 1)
    response = Response(json.dumps(doc, ensure_ascii=False, indent=1), content_type=mime)
    response.vary.add("Accept")
    set_validators(response, etag, store.modified())
    return response


def activity(change: Change) -> dict[str, Any]:
    """One change as an AS2 activity; a withdrawal's object is a Tombstone with its date."""
    kind_class = _curie(change.kind)
    obj: dict[str, Any] = {"id": change.object}
    if change.type == "Delete":
        obj.update({"type": "Tombstone", "deleted": change.published})
        if kind_class:
            obj["formerType"] = kind_class
    elif kind_class:
        obj["type"] = kind_class
    out: dict[str, Any] = {"id": change.id, "type": change.type, "published": change.published,
                           "kind": change.kind, "object": obj}
    if change.authority:
        out["context"] = change.authority
    if change.graph:
        out["target"] = change.graph
    return out


def _curie(kind: str) -> str | None:
    from localoffer.federation.changes import KIND_CLASSES

    full = KIND_CLASSES.get(kind)
    if not full:
        return None
    for prefix, base in (("schema", ns.SCHEMA), ("lo", ns.LO), ("skos", ns.SKOS)):
        if full.startswith(base):
            return f"{prefix}:{full[len(base):]}"
    return full
