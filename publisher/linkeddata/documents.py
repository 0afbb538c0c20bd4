"""Serving one negotiated document about a resource: RDF in the chosen format or the HTML page,
with `Vary: Accept`, `Link` headers to the alternates, and a weak ETag tied to the data version."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from flask import Response, render_template, request
from werkzeug.http import quote_etag

from localoffer import namespaces as ns

from . import glance
from .describe import Description
from .formats import FORMATS, Format, NoAcceptableFormat, choose
from .render import build_tree, schema_org, script_json, serialise, summary_of, title_of, tree_html
from .site import alternates_link, href_maker, not_acceptable
from .vocab import label_for

INVERSE_LABELS = {
    ns.SCHEMA + "provider": "Services it provides",
    ns.SCHEMA + "serviceOperator": "Services it runs",
    ns.LO + "localAuthority": "Services in this authority's Local Offer",
    ns.LO + "needCategory": "Services for this need",
    ns.LO + "provisionCategory": "Services in this category",
    ns.SCHEMA + "serviceLocation": "Services at this place",
    ns.SCHEMA + "parentOrganization": "Organisations under it",
    ns.SKOS + "broader": "Narrower concepts",
    ns.SKOS + "inScheme": "Concepts in this scheme",
    ns.SKOS + "topConceptOf": "Top concepts",
    ns.DCTERMS + "publisher": "What it publishes",
    ns.RDFS + "isDefinedBy": "Terms defined here",
}


def etag_of(version: str, *parts: object) -> str:
    """A validator that changes with the data version and what was asked."""
    return hashlib.sha256(repr((version, parts)).encode()).hexdigest()[:32]


def conditional(etag: str) -> Response | None:
    """304 when the client's copy is current."""
    if request.if_none_match and request.if_none_match.contains_weak(etag):
        response = Response(status=304)
        response.set_etag(etag, weak=True)
        response.vary.add("Accept")
        return response
    return None


def unchanged(subject: str, path: str, extension: Format | None, version: str, *,
              offers: tuple[Format, ...] = FORMATS) -> Response | None:
    """304 before any work when the client's copy of this document is current (the ETag holds
    the data version, so an ETag the client has means the document existed in that version)."""
    if not request.if_none_match:
        return None
    try:
        fmt = choose(request.accept_mimetypes, request.args.get("_format"), extension, offers)
    except NoAcceptableFormat:
        return None
    response = conditional(etag_of(version, subject, fmt.key, request.query_string))
    if response is not None:
        response.headers["Cache-Control"] = "public, no-cache"
    return response


def respond_document(desc: Description, path: str, extension: Format | None, version: str, *,
                     template: str = "ld/resource.html", offers: tuple[Format, ...] = FORMATS,
                     extra: dict[str, Any] | None = None) -> Response:
    """The document about *desc* at *path* (without extension) in the negotiated format."""
    try:
        fmt = choose(request.accept_mimetypes, request.args.get("_format"), extension, offers)
    except NoAcceptableFormat as exc:
        return not_acceptable(exc, path)
    etag = etag_of(version, desc.subject, fmt.key, request.query_string)
    cached = conditional(etag)
    if cached is not None:
        return cached
    if fmt.key != "html":
        body, headers = rdf_document(desc, path, fmt, etag, offers)
        response = Response(body, headers=headers)
        response.vary.add("Accept")
        return response
    body, headers = html_document(desc, path, fmt, etag, template=template, offers=offers, extra=extra)
    response = Response(body, headers=headers)
    response.vary.add("Accept")
    return response


def html_document(desc: Description, path: str, fmt: Format, etag: str, *, template: str = "ld/resource.html",
                  offers: tuple[Format, ...] = FORMATS,
                  extra: dict[str, Any] | None = None) -> tuple[bytes, list[tuple[str, str]]]:
    """The body and headers of the HTML page about *desc* (in a request context: the page
    links under the request's script root). The Flask view and the WSGI fast path both answer
    with these."""
    body = render_template(template, **page_context(desc, path, offers), **(extra or {}))
    return body.encode("utf-8"), [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Link", alternates_link(path, offers)),
        ("Content-Location", f"{path}.{fmt.extension}"),
        ("ETag", quote_etag(etag, weak=True)),
        ("Cache-Control", "public, no-cache"),
    ]


def rdf_document(desc: Description, path: str, fmt: Format, etag: str,
                 offers: tuple[Format, ...] = FORMATS) -> tuple[bytes, list[tuple[str, str]]]:
    """The body and headers of the document about *desc* in RDF format *fmt* (the Flask view
    and the WSGI fast path both answer with these; `Vary: Accept`, CORS and gzip come after)."""
    return serialise(desc.all_triples(), fmt), [
        ("Content-Type", f"{fmt.media_type}; charset=utf-8"),
        ("Link", alternates_link(path, offers)),
        ("Content-Location", f"{path}.{fmt.extension}"),
        ("ETag", quote_etag(etag, weak=True)),
        ("Cache-Control", "public, no-cache"),
    ]


def page_context(desc: Description, path: str, offers: tuple[Format, ...]) -> dict[str, Any]:
    """What the resource template needs."""
    href_for = remembered(href_maker())
    inverse: dict[str, list[tuple[str, str]]] = {}
    for t in desc.inverse:
        s = t.subject.value
        inverse.setdefault(t.predicate.value, []).append((desc.labels.get(s) or s, href_for(s)))
    groups = [{"iri": p, "label": INVERSE_LABELS.get(p) or f"Linked from: {label_for(p, desc.labels)}",
               "items": sorted(items, key=lambda i: i[0].lower()), "count": desc.inverse_counts.get(p, len(items))}
              for p, items in sorted(inverse.items(), key=lambda kv: INVERSE_LABELS.get(kv[0], "~" + kv[0]))]
    tree = build_tree(desc, href_for)
    return {
        "title": title_of(desc), "summary": summary_of(desc), "iri": desc.subject,
        "tree": tree, "details": tree_html(tree), "facts": glance.facts(desc, href_for),
        "inverse": groups,
        "alternates": [f for f in offers if f.key != "html"], "path": path,
        "jsonld": script_json(schema_org(desc)),
    }


def remembered(href_for: Callable[[str], str]) -> Callable[[str], str]:
    """*href_for* answering each IRI once (a page links to the same types and terms often)."""
    known: dict[str, str] = {}

    def href(iri: str) -> str:
        found = known.get(iri)
        if found is None:
            found = known[iri] = href_for(iri)
        return found
    return href
