"""What the Linked Data views share: the store and settings of the app, local links for
IRIs, the Link/Vary headers of negotiated documents and the 406 answer."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, render_template, request

from localoffer import namespaces as ns
from localoffer.config import Settings
from localoffer.store import Store

from .. import get_settings, get_store
from .formats import Format, NoAcceptableFormat

DEF_BASE = "https://w3id.org/localoffer/def"
TEMPLATE_FOLDER = "templates"


def store() -> Store:
    """The app's store."""
    return get_store()


def settings() -> Settings:
    """The app's settings."""
    return get_settings()


def href_for(iri: str) -> str:
    """Where a page links to for *iri*: our own things and definitions are served here
    (so the pages work on any host name); anything else is linked as it is."""
    return local_href(iri, settings().base, request.script_root)


def href_maker() -> Callable[[str], str]:
    """`href_for` with this request's base and script root looked up once, for a page that
    links to many things (each lookup goes through Flask's context-local proxies)."""
    base, root = settings().base, request.script_root
    return lambda iri: local_href(iri, base, root)


def local_href(iri: str, base: str, root: str) -> str:
    """The link for *iri* on a site whose IRIs start with *base*, served under *root*."""
    if iri.startswith(base + "/id/"):
        return root + "/doc/" + iri[len(base) + 4:]
    if iri.startswith(base + "/"):
        return root + iri[len(base):]
    if iri == DEF_BASE or iri.startswith((DEF_BASE + "#", DEF_BASE + "/")):
        return root + "/def" + iri[len(DEF_BASE):]
    return iri


def alternates_link(path: str, offers: tuple[Format, ...]) -> str:
    """A Link header naming each representation of the document at *path*."""
    return ", ".join(f'<{path}.{f.extension}>; rel="alternate"; type="{f.media_type}"'
                     for f in offers)


def not_acceptable(exc: NoAcceptableFormat, path: str) -> Response:
    """406, listing the representations there are (as text, or HTML for a browser)."""
    lines = [f"Not acceptable: nothing here fits {exc.asked!r}. Available representations:"]
    lines += [f"  {f.media_type:<24} {path}.{f.extension}  ({f.label}; or ?_format={f.key})"
              for f in exc.offers]
    response = Response("\n".join(lines) + "\n", status=406, content_type="text/plain; charset=utf-8")
    response.headers["Link"] = alternates_link(path, exc.offers)
    response.vary.add("Accept")
    return response


def not_found_page(message: str, *, suggestions: list[tuple[str, str]] | None = None) -> Response:
    """A helpful 404: a page for people, a line of text for programs."""
    wants_html = request.accept_mimetypes.best_match(["text/html", "text/plain"]) == "text/html" \
        and "html" in request.headers.get("Accept", "")
    if wants_html:
        body = render_template("ld/not_found.html", message=message, suggestions=suggestions or [],
                               path=request.path)
        return Response(body, status=404, mimetype="text/html")
    return Response(f"Not found: {message}\n", status=404, content_type="text/plain; charset=utf-8")


def thing_iri(kind: str, ident: str) -> str:
    """The IRI of the thing at /id/{kind}/{ident} under the configured base."""
    return f"{settings().base}/id/{kind}/{ident}"


KINDS = ns.KINDS
