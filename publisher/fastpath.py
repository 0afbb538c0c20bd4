"""The two commonest reads without Flask's dispatch: a GET of /sparql with a `query` (and maybe a
`format`) parameter, no conditional headers, no SERVICE, answered in a negotiated RDF or results
format; and a GET of a resource's document (/doc/{kind}/{id}) in an RDF format or as its HTML
page (rendered in a request context of its own, as the view renders it).

Flask's request and response objects, its dispatch and its after-request hooks cost about as
much CPU as the engine's whole answer to a one-service lookup. This WSGI middleware answers
such requests itself, with the same pieces the Flask views use (localoffer.publisher.sparql:
the read-only guard, negotiation, the job, the validators; linkeddata.resources and
.documents: the description and its headers; localoffer.publisher.responses: CORS, gzip), and
gives every other request, and every request it has any doubt about, to the Flask app
unchanged. When running the query fails (a syntax error, a refusal, a timeout, a busy
pool), the failure rides in the environ to the Flask view, which answers it the usual way
without running the query again. tests/integration/test_fastpath.py checks that both paths give
the same status, headers and body."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header
from werkzeug.wsgi import get_current_url

from localoffer.queryexec import TABLE, Answer
from localoffer.sparqlguard import service_targets

from .conneg import Offer
from .linkeddata.resources import quick_document
from .responses import CORS_HEADERS, add_cors, compress, compressible, etag_for, gzipped, validator_headers
from .sparql import (
    OUTCOME,
    answer_type,
    checked_form,
    choose_formats,
    query_job,
    validated_parts,
)

StartResponse = Callable[..., Any]
PARAMETERS = frozenset(("query", "format"))
CORS = list(CORS_HEADERS.items())


class FastPath:
    """WSGI middleware in front of the Flask app's own WSGI callable (`app.wsgi_app`)."""

    def __init__(self, app: Flask, inner: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]) -> None:
        self.app = app
        self.inner = inner

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if (environ.get("REQUEST_METHOD") == "GET" and "HTTP_IF_NONE_MATCH" not in environ
                and "HTTP_IF_MODIFIED_SINCE" not in environ):
            path = environ.get("PATH_INFO", "")
            answered = None
            if path == "/sparql" and self.hooks_known():
                answered = self._answer(environ, start_response)
            elif path.startswith("/doc/") and self.hooks_known():
                answered = self._document(environ, start_response)
            if answered is not None:
                return answered
        return self.inner(environ, start_response)

    def hooks_known(self) -> bool:
        """Whether the app's request hooks are the ones this path stands in for (CORS and
        gzip after each request, nothing before): a hook added to the app later turns the
        fast path off rather than being skipped by it."""
        app = self.app
        after = {key: funcs for key, funcs in app.after_request_funcs.items() if funcs}
        before = [funcs for funcs in (*app.before_request_funcs.values(),
                                      *app.url_value_preprocessors.values()) if funcs]
        return not before and after == {None: [compress, add_cors]}

    def _answer(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes] | None:
        """The response, or None to leave the request to Flask."""
        params = query_parameters(environ.get("QUERY_STRING", ""))
        if params is None:
            return None
        text, fmt = params
        if service_targets(text):
            return None
        try:
            form = checked_form(text)
            formats = negotiated(form, environ.get("HTTP_ACCEPT"), fmt)
        except Exception:  # noqa: BLE001 - Flask will say what is wrong, the usual way
            return None
        if formats is None:
            return None
        settings = self.app.config["LOCALOFFER"]
        store = self.app.extensions["localoffer.store"]
        job = query_job(text, formats, settings, base_url(environ), [], [])
        modified = store.modified()
        try:
            reply = self.app.extensions["localoffer.querypool"].run(job, settings.query_timeout)
        except Exception as exc:  # noqa: BLE001 - a timeout or a busy pool: Flask answers it
            environ[OUTCOME] = exc
            return None
        if not isinstance(reply, Answer) or reply.format == TABLE:
            environ[OUTCOME] = reply
            return None
        content_type, headers = answer_type(reply, formats)
        headers.insert(0, ("Content-Type", content_type))
        headers += validator_headers(etag_for(reply.version, *validated_parts(job, formats)), modified)
        return send(environ, start_response, reply.body, content_type, headers)

    def _document(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes] | None:
        """The document of a resource, or None to leave the request to Flask (a resource the
        store does not hold, anything unusual, and any failure: the view then answers it,
        errors included, the usual way)."""
        try:
            found = quick_document(self.app, environ)
        except Exception:  # noqa: BLE001 - Flask will say what is wrong, the usual way
            return None
        if found is None:
            return None
        body, headers = found
        return send(environ, start_response, body, headers[0][1], headers)


def send(environ: dict[str, Any], start_response: StartResponse, body: bytes, content_type: str,
         headers: list[tuple[str, str]]) -> list[bytes]:
    """A 200 with *headers* and what the app's after-request hooks add: `Vary: Accept` (and
    Accept-Encoding, gzip when the client takes it, for textual types), the length, CORS."""
    if compressible(content_type):
        headers.append(("Vary", "Accept, Accept-Encoding"))
        packed = gzipped(body, gzip_quality(environ.get("HTTP_ACCEPT_ENCODING")))
        if packed is not None:
            body = packed
            headers.append(("Content-Encoding", "gzip"))
    else:
        headers.append(("Vary", "Accept"))
    headers.append(("Content-Length", str(len(body))))
    start_response("200 OK", headers + CORS)
    return [body]


def query_parameters(query_string: str) -> tuple[str, str | None] | None:
    """(query, format) when the query string holds one `query` and at most one `format`, and
    nothing else; None for anything else (left to Flask)."""
    if not query_string:
        return None
    try:
        pairs = parse_qsl(query_string.encode("latin-1").decode("utf-8"), keep_blank_values=True,
                          errors="strict")
    except (UnicodeError, ValueError):
        return None
    names = [name for name, _ in pairs]
    if not set(names) <= PARAMETERS or names.count("query") != 1 or names.count("format") > 1:
        return None
    values = dict(pairs)
    return values["query"], values.get("format")


@lru_cache(maxsize=256)
def negotiated(form: str | None, accept: str | None, fmt: str | None) -> tuple[Offer, Offer] | None:
    """The view's negotiation for this Accept header and `format`, remembered (clients send
    the same few headers); None when the answer would be an HTML page (Flask renders those)."""
    formats = choose_formats(form, parse_accept_header(accept, MIMEAccept), fmt)
    if form is None or TABLE in (formats[0][1], formats[1][1]):
        return None
    return formats


@lru_cache(maxsize=64)
def gzip_quality(accept_encoding: str | None) -> float:
    """The quality the client gives gzip in Accept-Encoding (0 without the header)."""
    return float(parse_accept_header(accept_encoding).quality("gzip"))


def base_url(environ: dict[str, Any]) -> str:
    """request.base_url of the Flask view (the query's base IRI), remembered per host."""
    return _base_url(environ.get("wsgi.url_scheme", "http"), environ.get("HTTP_HOST"),
                     environ.get("SERVER_NAME", ""), environ.get("SERVER_PORT", ""),
                     environ.get("SCRIPT_NAME", ""))


@lru_cache(maxsize=64)
def _base_url(scheme: str, host: str | None, server: str, port: str, script: str) -> str:
    environ = {"wsgi.url_scheme": scheme, "SERVER_NAME": server, "SERVER_PORT": port,
               "SCRIPT_NAME": script, "PATH_INFO": "/sparql"}
    if host is not None:
        environ["HTTP_HOST"] = host
    return get_current_url(environ, strip_querystring=True)
