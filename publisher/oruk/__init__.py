"""The Open Referral UK API (HSDS-UK-3.0 profile) generated from the RDF: `/api` by default
(setting `oruk_prefix`). Every response is built with SPARQL over the store: a page of ids,
then the records' triples, assembled into profile objects (see assemble.py)."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request, url_for
from werkzeug.exceptions import HTTPException, NotFound

from localoffer import namespaces as ns
from localoffer.errors import NotFoundError, StoreError

from .. import get_settings, get_store
from ..responses import etag_for, not_modified, set_validators
from . import assemble
from .cache import DEFAULT_MAX_IDS, OrderCache
from .fetch import SAL_FULL, SAL_LIST, SERVICE_FULL, SERVICE_LIST, TERM, Index, page_of, rows_of, tree
from .filters import find_nodes, resolve, scheme_classes, service_conditions, term_classes
from .openapi import PROFILE_URL, VERSION, document
from .params import BadParameter, Paging, read_filters, read_paging

bp = Blueprint("oruk", __name__)
log = logging.getLogger("localoffer.publisher.oruk")
DEFAULT_PREFIX = "/api"
SERVICE = ns.SCHEMA + "Service"
CHANNEL = ns.SCHEMA + "ServiceChannel"
CACHE = "localoffer.oruk.cache"


def register(app: Flask) -> None:
    """Mount the API under the `oruk_prefix` setting (default /api)."""
    settings = app.config["LOCALOFFER"]
    prefix = "/" + str(settings.extra.get("oruk_prefix", DEFAULT_PREFIX)).strip("/")
    app.extensions[CACHE] = OrderCache(int(settings.extra.get("oruk_cache_ids", DEFAULT_MAX_IDS)))
    app.register_blueprint(bp, url_prefix=prefix if prefix != "/" else None)
    if prefix != "/":  # the root without its slash too, rather than a redirect
        app.add_url_rule(prefix, "oruk_root", root)


# -- responses -----------------------------------------------------------------------------
def reply(body: Any, status: int = 200) -> Response:
    """JSON with the fields in profile order (Flask's jsonify would sort them)."""
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


def cached(build: Any) -> Response:
    """Answer 304 when the client's copy is current, else build the response and tag it."""
    store = get_store()
    etag = etag_for(store.version(), "oruk", request.full_path)
    hit = not_modified(etag, store.modified())
    if hit is not None:
        return hit
    response = reply(build())
    set_validators(response, etag, store.modified())
    return response


def cache() -> OrderCache:
    """The sorted-list cache of the current app."""
    return current_app.extensions[CACHE]  # type: ignore[no-any-return]


def page(contents: list[dict[str, Any]], total: int, paging: Paging) -> dict[str, Any]:
    """An HSDS Page."""
    pages = -(-total // paging.per_page)
    return {"total_items": total, "total_pages": pages, "page_number": paging.page,
            "size": len(contents), "first_page": paging.page == 1,
            "last_page": paging.page >= pages, "empty": not contents, "contents": contents}


def error(status: int, title: str, message: str, **extra: Any) -> Response:
    """A JSON error body (the app's error fields, plus `parameter` for a 400)."""
    return reply({"status": status, "error": title, "message": message, **extra}, status)


@bp.errorhandler(BadParameter)
def bad_parameter(exc: BadParameter) -> Response:
    """400, naming the parameter."""
    return error(400, "Bad request", str(exc), parameter=exc.parameter)


@bp.errorhandler(NotFoundError)
def not_found(exc: NotFoundError) -> Response:
    """404 for an unknown id."""
    return error(404, "Not found", str(exc))


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Response:
    """Other HTTP errors, as JSON too."""
    return error(exc.code or 500, exc.name, exc.description or "")


@bp.errorhandler(StoreError)
def store_error(exc: StoreError) -> Response:
    """503 while the store cannot be read."""
    log.error("ORUK API: store error on %s: %s", request.full_path, exc)
    return error(503, "Store unavailable", str(exc))


@bp.errorhandler(Exception)
def bug(exc: Exception) -> Response:
    """500 for our own bugs, logged with the traceback."""
    log.exception("ORUK API: unhandled error on %s", request.full_path)
    return error(500, "Internal error", "something went wrong on our side; it has been logged")


# -- endpoints -----------------------------------------------------------------------------
@bp.route("/")
def root() -> Response:
    """The API's version, profile and OpenAPI document."""
    return reply({"version": VERSION, "profile": PROFILE_URL,
                  "openapi_url": url_for("oruk.openapi", _external=True)})


@bp.route("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 description of exactly these endpoints."""
    return reply(document(request.url_root.rstrip("/") + (bp_prefix() or ""),
                          publish_names=get_settings().publish_contact_names))


def bp_prefix() -> str:
    """Where the API is mounted, e.g. `/api`."""
    return url_for("oruk.root").rstrip("/")


@bp.route("/services")
def services() -> Response:
    """A page of services (list form), filtered."""
    paging, filters = read_paging(request.args), read_filters(request.args)

    def build() -> dict[str, Any]:
        store = get_store()
        resolved = resolve(store, get_settings().base, filters)
        pattern = f"?s a <{SERVICE}> . {service_conditions(resolved, '?s')}"
        found, total = page_of(store, pattern, "?s", paging, cache())
        index = tree(store, found, SERVICE_LIST, concepts=False)
        return page([assemble.service(index, s, full=False) for s in found], total, paging)

    return cached(build)


@bp.route("/services/<path:ident>")
def service(ident: str) -> Response:
    """One service, fully nested."""
    def build() -> dict[str, Any]:
        node = one(ident, "service", (SERVICE,), "service")
        return assemble.service(tree(get_store(), [node], SERVICE_FULL, index=personal()), node, full=True)

    return cached(build)


@bp.route("/service_at_locations")
def service_at_locations() -> Response:
    """A page of service_at_locations (list form), filtered by their service and place."""
    paging, filters = read_paging(request.args), read_filters(request.args)

    def build() -> dict[str, Any]:
        store = get_store()
        resolved = resolve(store, get_settings().base, filters)
        pattern = (f"?c a <{CHANNEL}> ; <{ns.SCHEMA}providesService> ?s . "
                   f"{service_conditions(resolved, '?s', channel='?c')}")
        found, total = page_of(store, pattern, "?c", paging, cache())
        index = tree(store, found, SAL_LIST, concepts=False)
        return page([assemble.service_at_location(index, c, full=False) for c in found], total, paging)

    return cached(build)


@bp.route("/service_at_locations/<path:ident>")
def service_at_location(ident: str) -> Response:
    """One service_at_location with its location and service, fully nested."""
    def build() -> dict[str, Any]:
        node = one(ident, "service-at-location", (CHANNEL,), "service_at_location",
                   f"<{ns.SCHEMA}providesService> ?_s")
        return assemble.service_at_location(tree(get_store(), [node], SAL_FULL, index=personal()), node,
                                            full=True)

    return cached(build)


@bp.route("/taxonomies")
def taxonomies() -> Response:
    """A page of taxonomies: the SEND concept schemes and the taxonomies of the feeds."""
    paging = read_paging(request.args)

    def build() -> dict[str, Any]:
        store = get_store()
        found, total = page_of(store, f"?t a <{scheme_classes()[0]}> .", "?t", paging, cache())
        index = tree(store, found, (), concepts=False)
        return page([assemble.taxonomy(assemble.Node(index, t)) for t in found], total, paging)

    return cached(build)


@bp.route("/taxonomies/<path:ident>")
def taxonomy(ident: str) -> Response:
    """One taxonomy with its terms."""
    def build() -> dict[str, Any]:
        store = get_store()
        node = one(ident, "taxonomy", scheme_classes(), "taxonomy")
        terms = sorted({r["t"].value for r in rows_of(
            store, f"SELECT ?t WHERE {{ ?t skos:inScheme <{node}> ; a skos:Concept }}")})
        index = tree(store, [node, *terms], TERM, concepts=False)
        return assemble.taxonomy(assemble.Node(index, node), [assemble.Node(index, t) for t in terms])

    return cached(build)


@bp.route("/taxonomy_terms")
def taxonomy_terms() -> Response:
    """A page of taxonomy terms: the SEND concepts and the terms of the feeds."""
    paging = read_paging(request.args)

    def build() -> dict[str, Any]:
        store = get_store()
        found, total = page_of(store, f"?t a <{term_classes()[0]}> .", "?t", paging, cache())
        index = tree(store, found, TERM, concepts=False)
        return page([assemble.taxonomy_term(assemble.Node(index, t)) for t in found], total, paging)

    return cached(build)


@bp.route("/taxonomy_terms/<path:ident>")
def taxonomy_term(ident: str) -> Response:
    """One taxonomy term."""
    def build() -> dict[str, Any]:
        node = one(ident, "taxonomy-term", term_classes(), "taxonomy term")
        return assemble.taxonomy_term(assemble.Node(tree(get_store(), [node], TERM, concepts=False), node))

    return cached(build)


@bp.route("/<path:rest>")
def unknown(rest: str) -> Response:
    """404 (JSON) for paths under the prefix that are no endpoint."""
    raise NotFound(f"no ORUK endpoint /{rest}; see {url_for('oruk.openapi')}")


def personal() -> Index:
    """An empty index that lets names of people through only if the site publishes them."""
    return Index(publish_names=get_settings().publish_contact_names)


def one(ident: str, kind: str, classes: tuple[str, ...], what: str, extra: str = "") -> str:
    """The IRI of the record served under *ident*, or a 404 naming it."""
    nodes = find_nodes(get_store(), get_settings().base, ident, kind, classes)
    if extra and nodes:
        values = " ".join(f"<{n}>" for n in nodes)
        nodes = sorted({r["x"].value for r in rows_of(
            get_store(), f"SELECT ?x WHERE {{ VALUES ?x {{ {values} }} ?x {extra} }}")})
    if not nodes:
        raise NotFoundError(f"there is no {what} with id {ident!r}")
    return nodes[0]


__all__ = ["bp", "register", "BadParameter"]
