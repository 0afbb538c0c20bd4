"""The WSGI fast path (localoffer.publisher.fastpath) against the Flask views it stands in front
of, on a real store: for the SPARQL GETs and the documents (RDF and HTML) it answers, the same
status, headers and body as the view; everything else reaches the view unchanged; and a query that fails is run
once, not again by the view."""

from __future__ import annotations

import gzip
from typing import Any

import pytest
from localoffer.publisher import create_app
from localoffer.publisher.fastpath import FastPath, query_parameters
from werkzeug.test import EnvironBuilder

from localoffer.querypool import PoolBusy, QueryTimeout

from ..ldfixtures import BASE, HOSTILE_NAME, RESOURCES, build_store

PLAY = RESOURCES[0]
DOCS = [iri.replace("/id/", "/doc/", 1)[len(BASE) - 1:] for iri in RESOURCES]  # /doc/{kind}/{id}
LOOKUP = f"CONSTRUCT {{ <{PLAY}> ?p ?o }} WHERE {{ <{PLAY}> ?p ?o }}"
NAMES = "PREFIX schema: <http://schema.org/> SELECT ?s ?name WHERE { ?s schema:name ?name } ORDER BY ?s ?name"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings = build_store(tmp_path_factory.mktemp("fastpath") / "data")
    app = create_app({"store": settings.store, "base_uri": BASE})
    app.config["TESTING"] = True
    return app


class Counting:
    """Counts the calls that reach the wrapped WSGI callable or query pool."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.calls = inner, 0

    def __call__(self, *args: Any) -> Any:
        self.calls += 1
        return self.inner(*args)

    def run(self, *args: Any) -> Any:
        self.calls += 1
        return self.inner.run(*args)


def call(wsgi: Any, **request: Any) -> tuple[str, dict[str, str], bytes]:
    """(status, headers, body as sent) of one request to a WSGI callable."""
    environ = EnvironBuilder(**request).get_environ()
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started.update(status=status, headers=headers)

    chunks = wsgi(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    names = [k.lower() for k, _ in started["headers"]]
    assert len(names) == len(set(names)), f"a header sent twice: {started['headers']}"
    return started["status"], {k.lower(): v for k, v in started["headers"]}, body


def plain(headers: dict[str, str], body: bytes) -> bytes:
    return gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body


def both(app, monkeypatch, **request: Any) -> tuple[tuple[str, dict[str, str], bytes], ...]:
    """The request through the fast path (which must answer it itself) and through Flask alone."""
    fast = app.wsgi_app
    assert isinstance(fast, FastPath)
    inner = Counting(fast.inner)
    monkeypatch.setattr(fast, "inner", inner)
    quick = call(fast, **request)
    assert inner.calls == 0, "the fast path left this request to Flask"
    slow = call(inner.inner, **request)
    return quick, slow


ANSWERED = [
    pytest.param({"query": LOOKUP}, {"Accept": "text/turtle"}, id="construct-turtle"),
    pytest.param({"query": LOOKUP}, {"Accept": "application/ld+json"}, id="construct-jsonld"),
    pytest.param({"query": LOOKUP, "format": "nt"}, {}, id="construct-format-nt"),
    pytest.param({"query": LOOKUP}, {}, id="construct-no-accept"),
    pytest.param({"query": LOOKUP}, {"Accept": "text/turtle", "Accept-Encoding": "gzip, deflate"},
                 id="construct-gzip"),
    pytest.param({"query": LOOKUP}, {"Accept": "text/turtle", "Accept-Encoding": "gzip;q=0"},
                 id="construct-gzip-refused"),
    pytest.param({"query": NAMES}, {"Accept": "application/sparql-results+json"}, id="select-json"),
    pytest.param({"query": NAMES}, {"Accept": "text/csv;q=0.9, application/sparql-results+xml;q=0.2"},
                 id="select-qvalues"),
    pytest.param({"query": NAMES, "format": "tsv"}, {"Accept-Encoding": "gzip"}, id="select-format-tsv"),
    pytest.param({"query": "ASK { ?s ?p ?o }"}, {"Accept": "application/sparql-results+xml"}, id="ask-xml"),
    pytest.param({"query": "SELECT ?n WHERE { ?s <http://schema.org/name> ?n "
                           f"FILTER(?n = {HOSTILE_NAME!r}) }}"},
                 {"Accept": "application/json"}, id="select-hostile-literal"),
    pytest.param({"query": "BASE <https://other.test/> SELECT ?x WHERE { BIND(<rel> AS ?x) }"}, {},
                 id="select-base"),
    pytest.param({"query": "SELECT ?x WHERE { BIND(<rel> AS ?x) }"}, {"Host": "localoffer.example:8080"},
                 id="select-relative-iri-host"),
]


@pytest.mark.parametrize(("params", "headers"), ANSWERED)
def test_the_fast_path_answers_as_the_view_would(app, monkeypatch, params, headers):
    (status, fast_headers, fast_body), (slow_status, slow_headers, slow_body) = both(
        app, monkeypatch, path="/sparql", query_string=params, headers=headers)
    assert status == slow_status == "200 OK"
    assert fast_headers.pop("content-length") == str(len(fast_body))
    assert slow_headers.pop("content-length") == str(len(slow_body))
    assert fast_headers == slow_headers
    assert plain(fast_headers, fast_body) == plain(slow_headers, slow_body)
    assert plain(fast_headers, fast_body)


def test_the_fast_path_answers_lookups_with_the_data(app, monkeypatch):
    (status, headers, body), _ = both(app, monkeypatch, path="/sparql", query_string={"query": LOOKUP},
                                      headers={"Accept": "text/turtle"})
    assert headers["content-type"] == "text/turtle; charset=utf-8"
    assert headers["x-localoffer-rows"] != "0" and headers["x-localoffer-truncated"] == "false"
    assert headers["etag"].startswith('W/"') and headers["access-control-allow-origin"] == "*"
    assert b"Little Explorers Play Scheme" in body


LEFT_TO_FLASK = [
    pytest.param("GET", {"query": LOOKUP}, {"Accept": "text/html"}, id="html-table"),
    pytest.param("GET", {}, {"Accept": "text/turtle"}, id="service-description"),
    pytest.param("GET", {"query": LOOKUP}, {"If-None-Match": 'W/"x"'}, id="conditional"),
    pytest.param("GET", {"query": NAMES, "default-graph-uri": BASE + "graph/x"}, {}, id="dataset"),
    pytest.param("GET", {"query": "SELECT * WHERE { SERVICE <https://evil.test/sparql> { ?s ?p ?o } }"}, {},
                 id="service"),
    pytest.param("GET", {"query": "INSERT DATA { <a:b> <a:c> <a:d> }"}, {}, id="update-in-query"),
    pytest.param("GET", {"update": "CLEAR ALL"}, {}, id="update-parameter"),
    pytest.param("GET", {"query": LOOKUP}, {"Accept": "image/png"}, id="not-acceptable"),
    pytest.param("GET", {"query": LOOKUP, "format": "xlsx"}, {}, id="unknown-format"),
    pytest.param("POST", {"query": LOOKUP}, {}, id="post"),
]


@pytest.mark.parametrize(("method", "params", "headers"), LEFT_TO_FLASK)
def test_other_requests_reach_the_view(app, monkeypatch, method, params, headers):
    fast = app.wsgi_app
    inner = Counting(fast.inner)
    monkeypatch.setattr(fast, "inner", inner)
    status, _, _ = call(fast, method=method, path="/sparql", query_string=params, headers=headers)
    assert inner.calls == 1
    assert status == call(inner.inner, method=method, path="/sparql", query_string=params,
                          headers=headers)[0]


def test_a_request_hook_added_to_the_app_turns_the_fast_path_off(app, monkeypatch):
    def marked(response):
        response.headers["X-Marked"] = "yes"
        return response

    monkeypatch.setitem(app.after_request_funcs, None, [*app.after_request_funcs[None], marked])
    status, headers, _ = call(app.wsgi_app, path="/sparql", query_string={"query": LOOKUP},
                              headers={"Accept": "text/turtle"})
    assert status == "200 OK" and headers["x-marked"] == "yes"
    monkeypatch.setitem(app.before_request_funcs, "sparql", [lambda: None])
    assert not app.wsgi_app.hooks_known()


def test_a_failing_query_runs_once_and_the_view_reports_it(app, monkeypatch):
    pool = Counting(app.extensions["localoffer.querypool"])
    monkeypatch.setitem(app.extensions, "localoffer.querypool", pool)
    status, _, body = call(app.wsgi_app, path="/sparql", query_string={"query": "SELECT ?s WHERE { ?s ?p }"},
                           headers={"Accept": "application/sparql-results+json"})
    assert status.startswith("400") and b"syntax error" in body.lower()
    assert pool.calls == 1


@pytest.mark.parametrize(("error", "status"), [(QueryTimeout("the query ran longer than the 2 s limit "
                                                             "and was stopped"), "503"),
                                               (PoolBusy("all 4 query threads stayed busy"), "503")])
def test_a_timeout_met_on_the_fast_path_is_answered_by_the_view(app, monkeypatch, error, status):
    class Failing:
        calls = 0

        def run(self, job, timeout):
            Failing.calls += 1
            raise error

    monkeypatch.setitem(app.extensions, "localoffer.querypool", Failing())
    got, headers, body = call(app.wsgi_app, path="/sparql", query_string={"query": LOOKUP},
                              headers={"Accept": "application/json"})
    assert got.startswith(status) and str(error).encode() in body
    assert headers["access-control-allow-origin"] == "*"
    assert Failing.calls == 1


# -- resource documents ------------------------------------------------------------------------
DOCUMENT_ASKS = [
    pytest.param("", {"Accept": "text/turtle"}, id="accept-turtle"),
    pytest.param("", {"Accept": "application/ld+json", "Accept-Encoding": "gzip"}, id="accept-jsonld-gzip"),
    pytest.param("", {"Accept": "text/html;q=0.5, application/n-triples"}, id="accept-qvalues-nt"),
    pytest.param("", {"Accept": "application/rdf+xml", "Accept-Encoding": "gzip;q=0"}, id="rdfxml-no-gzip"),
    pytest.param(".ttl", {"Accept": "text/html"}, id="extension-over-accept"),
    pytest.param(".nt", {}, id="extension-nt"),
    pytest.param("?_format=jsonld", {"Accept": "text/html"}, id="format-parameter"),
    pytest.param("?_format=text/turtle", {"Accept-Encoding": "gzip"}, id="format-media-type"),
    pytest.param("", {"Accept": "text/html"}, id="html"),
    pytest.param("", {}, id="no-accept-is-html"),
    pytest.param(".html", {"Accept": "text/turtle", "Accept-Encoding": "gzip"}, id="html-extension-gzip"),
    pytest.param("?_format=html", {"Accept-Encoding": "gzip;q=0"}, id="html-format-no-gzip"),
]


@pytest.mark.parametrize("doc", DOCS)
@pytest.mark.parametrize(("ask", "headers"), DOCUMENT_ASKS)
def test_the_fast_path_serves_documents_as_the_view_would(app, monkeypatch, doc, ask, headers):
    path, _, query = (doc + ask).partition("?")
    (status, fast_headers, fast_body), (slow_status, slow_headers, slow_body) = both(
        app, monkeypatch, path=path, query_string=query, headers=headers)
    assert status == slow_status == "200 OK"
    assert fast_headers.pop("content-length") == str(len(fast_body))
    assert slow_headers.pop("content-length") == str(len(slow_body))
    assert fast_headers == slow_headers
    assert plain(fast_headers, fast_body) == plain(slow_headers, slow_body)
    assert fast_headers["access-control-allow-origin"] == "*" and fast_headers["etag"].startswith('W/"')


def test_a_document_from_the_fast_path_holds_the_data(app, monkeypatch):
    (status, headers, body), _ = both(app, monkeypatch, path=DOCS[1], headers={"Accept": "text/turtle"})
    assert headers["content-type"] == "text/turtle; charset=utf-8"
    assert headers["vary"] == "Accept, Accept-Encoding"
    assert headers["content-location"] == DOCS[1] + ".ttl"
    assert f'<{DOCS[1]}.html>; rel="alternate"; type="text/html"' in headers["link"]
    assert HOSTILE_NAME.replace('"', '\\"') in body.decode("utf-8")


@pytest.mark.parametrize(("accept", "extension"), [("application/ld+json", "jsonld"), ("text/html", "html")])
def test_a_document_under_a_script_root_links_as_the_view_would(app, monkeypatch, accept, extension):
    """Served under a prefix (SCRIPT_NAME, as behind a proxy), the alternates, the
    Content-Location and the page's own links carry it, as the view's do."""
    (status, fast, body), (_, slow, slow_body) = both(
        app, monkeypatch, path=DOCS[0], base_url="http://localoffer.example/lo",
        headers={"Accept": accept, "Accept-Encoding": "identity"})
    assert status == "200 OK" and fast == slow and body == slow_body
    assert fast["content-location"] == "/lo" + DOCS[0] + "." + extension
    if extension == "html":
        assert 'href="/lo/services"' in body.decode("utf-8")


DOCUMENTS_LEFT_TO_FLASK = [
    pytest.param(DOCS[0], "", {"Accept": "text/turtle", "If-None-Match": 'W/"x"'}, id="conditional"),
    pytest.param(DOCS[0], "", {"Accept": "text/html", "If-None-Match": 'W/"x"'}, id="conditional-html"),
    pytest.param(DOCS[0], "", {"Accept": "image/png"}, id="not-acceptable"),
    pytest.param(DOCS[0], "_format=xlsx", {}, id="unknown-format"),
    pytest.param(DOCS[0], "_format=ttl&x=1", {}, id="other-parameter"),
    pytest.param(DOCS[0], "_format=%C3%A9", {}, id="non-ascii-parameter"),
    pytest.param("/doc/service/no-such-service", "", {"Accept": "text/turtle"}, id="unknown-resource"),
    pytest.param("/doc/spaceship/1", "", {"Accept": "text/turtle"}, id="unknown-kind"),
    pytest.param("/doc/service/a%20b", "", {"Accept": "text/turtle"}, id="encoded-id"),
    pytest.param("/doc/service/a/b", "", {"Accept": "text/turtle"}, id="slash-in-id"),
    pytest.param("/doc/service/.ttl", "", {"Accept": "text/turtle"}, id="dot-first"),
]


@pytest.mark.parametrize(("path", "query", "headers"), DOCUMENTS_LEFT_TO_FLASK)
def test_other_document_requests_reach_the_view(app, monkeypatch, path, query, headers):
    fast = app.wsgi_app
    inner = Counting(fast.inner)
    monkeypatch.setattr(fast, "inner", inner)
    status, _, _ = call(fast, path=path, query_string=query, headers=headers)
    assert inner.calls == 1
    assert status == call(inner.inner, path=path, query_string=query, headers=headers)[0]


def test_a_failing_document_is_answered_by_the_view(app, monkeypatch):
    """A store failure met on the fast path is left to the view, whose error page says what
    happened (with CORS), rather than escaping to the server as a bare 500."""
    from localoffer.publisher.linkeddata import resources

    from localoffer.errors import StoreError

    def broken(*args, **kwargs):
        raise StoreError("cannot read the store at /nowhere: Input/output error")

    monkeypatch.setattr(resources, "describe", broken)  # both the fast path and the view call it
    status, headers, body = call(app.wsgi_app, path=DOCS[0], headers={"Accept": "text/turtle"})
    assert status.startswith("503") and b"Input/output error" in body
    assert headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(("query_string", "expected"), [
    ("query=ASK%20%7B%7D", ("ASK {}", None)),
    ("query=ASK+%7B%7D&format=json", ("ASK {}", "json")),
    ("query=", ("", None)),
    ("", None),
    ("query=a&query=b", None),
    ("query=a&format=x&format=y", None),
    ("query=a&named-graph-uri=x", None),
    ("query=%FF", None),  # not UTF-8: Flask keeps it percent-encoded
])
def test_query_parameters(query_string, expected):
    assert query_parameters(query_string) == expected
