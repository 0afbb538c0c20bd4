"""Dereferenceable URIs: `/id/{kind}/{id}` answers 303 See Other to `/doc/{kind}/{id}`, which
serves the resource's document as HTML, Turtle, JSON-LD, N-Triples or RDF/XML (by extension,
`?_format=` or Accept). `/context.jsonld` is the JSON-LD context the documents use."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote

from flask import Blueprint, Flask, Response, current_app, jsonify, redirect, request
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from localoffer.config import Settings

from .describe import LabelCache, describe, pin
from .documents import etag_of, html_document, rdf_document, respond_document, unchanged
from .formats import NoAcceptableFormat, choose, split_extension
from .render import context
from .site import KINDS, TEMPLATE_FOLDER, not_found_page, settings, store, thing_iri

bp = Blueprint("ld_resources", __name__, template_folder=TEMPLATE_FOLDER, static_folder="static",
               static_url_path="/ld-static")
KIND_TEMPLATES = {"authority": "ld/authority.html"}


def minted_id(ident: str) -> str:
    """The id as it appears in the IRI: Flask hands us the decoded path, the IRIs keep the
    percent-encoding that `namespaces.local_id` applied (it leaves only A-Za-z0-9._~- bare)."""
    return quote(ident, safe="")


def label_cache() -> LabelCache:
    """This worker's cache of labels for the current data version (see describe.LabelCache)."""
    cache: LabelCache = current_app.extensions.setdefault("localoffer.labels", LabelCache())
    return cache


@bp.route("/id/<kind>/<path:ident>")
def thing(kind: str, ident: str) -> Response:
    """303 See Other from the thing to the document about it."""
    target = f"{request.script_root}/doc/{kind}/{quote(ident, safe='/')}"
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    response = redirect(target, code=303)
    response.vary.add("Accept")
    return response


@bp.route("/doc/<kind>/<path:ident>")
def document(kind: str, ident: str) -> Response:
    """The document about /id/{kind}/{id}; a helpful 404 when the store knows nothing of it."""
    stem, extension = split_extension(ident)
    path = f"{request.script_root}/doc/{kind}/{quote(stem, safe='')}"
    if kind not in KINDS:
        return not_found_page(f"there is no kind of thing called {kind!r} here. Things are published "
                              f"under /id/KIND/ID with KIND one of: {', '.join(sorted(KINDS))}.")
    iri = thing_iri(kind, minted_id(stem))
    db = pin(store())  # one version for the ETag and every query of the document
    version = db.version()
    cached = unchanged(iri, path, extension, version)
    if cached is not None:
        return cached
    try:
        desc = describe(db, iri, labels=label_cache(), version=version)
    except ValueError:
        desc = None
    if desc is None or not desc.found:
        return not_found_page(
            f"nothing is known about {iri}. It may have been removed from its council's directory, "
            "or the address may be mistyped.",
            suggestions=[("Search for services", f"{request.script_root}/services"),
                         (f"Browse all {kind} records with SPARQL", f"{request.script_root}/sparql")])
    return respond_document(desc, path, extension, version, template=KIND_TEMPLATES.get(kind, "ld/resource.html"),
                            extra=page_extra(kind, stem))


def page_extra(kind: str, stem: str) -> dict[str, str]:
    """What a kind's page template needs beside the description."""
    return {"kind": kind, "ident": stem, **({"code": stem} if kind == "authority" else {})}


# /doc/{kind}/{id} with an id as IRIs mint it bare (namespaces.local_id): anything else
# (percent-encoded ids, slashes, trailing dots) is left to the Flask view.
QUICK_DOC = re.compile(r"/doc/([a-z]+)/([A-Za-z0-9_~-][A-Za-z0-9._~-]*)")


def quick_document(app: Flask, environ: dict[str, Any]) -> tuple[bytes, list[tuple[str, str]]] | None:
    """The `document` view's answer to a plain GET of a document (no conditional headers, no
    query parameter but `_format`, a resource that exists), without Flask's dispatch and
    response objects: the body and headers `respond_document` would give (before CORS and
    gzip); an HTML page is rendered in a request context, as the view renders it. None for
    every other request, which the view then answers as usual."""
    match = QUICK_DOC.fullmatch(environ.get("PATH_INFO", ""))
    if match is None or match[1] not in KINDS:
        return None
    query, root = environ.get("QUERY_STRING", ""), environ.get("SCRIPT_NAME", "")
    format_param = None
    if not (query.isascii() and root.isascii()):
        return None
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if len(pairs) != 1 or pairs[0][0] != "_format":
            return None
        format_param = pairs[0][1]
    kind, (stem, extension) = match[1], split_extension(match[2])
    try:
        fmt = choose(accepted(environ.get("HTTP_ACCEPT")), format_param, extension)
    except NoAcceptableFormat:
        return None
    settings: Settings = app.config["LOCALOFFER"]
    iri = f"{settings.base}/id/{kind}/{stem}"
    db = pin(app.extensions["localoffer.store"])
    version = db.version()
    cache: LabelCache = app.extensions.setdefault("localoffer.labels", LabelCache())
    try:
        desc = describe(db, iri, labels=cache, version=version)
    except ValueError:
        return None
    if not desc.found:
        return None
    path = f"{root.rstrip('/')}/doc/{kind}/{stem}"
    etag = etag_of(version, desc.subject, fmt.key, query.encode("latin-1"))
    if fmt.key == "html":  # rendered as the view renders it, in a request context of its own
        with app.request_context(environ):
            return html_document(desc, path, fmt, etag, template=KIND_TEMPLATES.get(kind, "ld/resource.html"),
                                 extra=page_extra(kind, stem))
    return rdf_document(desc, path, fmt, etag)


@lru_cache(maxsize=64)
def accepted(header: str | None) -> MIMEAccept:
    """An Accept header parsed as Flask would (clients send the same few)."""
    return parse_accept_header(header, MIMEAccept)


@bp.route("/context.jsonld")
def jsonld_context() -> Response:
    """The JSON-LD context of the documents (prefixes of the namespaces used)."""
    response = jsonify(context())
    response.mimetype = "application/ld+json"
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


__all__ = ["bp", "settings"]
