"""`localoffer serve` as a real gunicorn process: landing page and the read-only /sparql."""

from __future__ import annotations

import io
import json

import pytest
import rdflib
import requests

from ..servers import serving_north_lincolnshire

pytestmark = pytest.mark.server
SCHEMA = "https://schema.org/"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serving_north_lincolnshire(tmp_path_factory.mktemp("serve"), "--workers", "2") as (_, url):
        yield url


def test_landing_page_shows_counts(server):
    r = requests.get(server + "/", headers={"Accept": "text/html"}, timeout=10)
    assert r.status_code == 200
    assert "North Lincolnshire Council" in r.text and "738" in r.text
    data = requests.get(server + "/", headers={"Accept": "application/json"}, timeout=10).json()
    assert data["authorities"][0]["services"] == 738


@pytest.mark.parametrize("method", ["get", "form", "direct"])
def test_select_in_three_protocol_forms(server, method):
    q = f"SELECT (COUNT(?s) AS ?n) WHERE {{ ?s a <{SCHEMA}Service> }}"
    accept = {"Accept": "application/sparql-results+json"}
    if method == "get":
        r = requests.get(server + "/sparql", params={"query": q}, headers=accept, timeout=10)
    elif method == "form":
        r = requests.post(server + "/sparql", data={"query": q}, headers=accept, timeout=10)
    else:
        r = requests.post(server + "/sparql", data=q.encode(),
                          headers={**accept, "Content-Type": "application/sparql-query"}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/sparql-results+json")
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert json.loads(r.text)["results"]["bindings"][0]["n"]["value"] == "738"


@pytest.mark.parametrize("accept,fmt", [("text/turtle", "turtle"), ("application/n-triples", "nt"),
                                        ("application/ld+json", "json-ld"), ("application/rdf+xml", "xml")])
def test_construct_parses_back(server, accept, fmt):
    q = (f"CONSTRUCT {{ ?s <{SCHEMA}name> ?n }} WHERE {{ ?s a <{SCHEMA}Service> ; <{SCHEMA}name> ?n }} "
         "ORDER BY ?s LIMIT 5")
    r = requests.get(server + "/sparql", params={"query": q}, headers={"Accept": accept}, timeout=10)
    assert r.status_code == 200
    g = rdflib.Graph().parse(data=r.content, format=fmt)
    assert len(g) == 5


@pytest.mark.parametrize("fmt,mime", [("csv", "text/csv"), ("tsv", "text/tab-separated-values"),
                                      ("xml", "application/sparql-results+xml")])
def test_result_formats_by_parameter(server, fmt, mime):
    q = f"SELECT ?s WHERE {{ ?s a <{SCHEMA}Service> }} LIMIT 3"
    r = requests.get(server + "/sparql", params={"query": q, "format": fmt}, timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith(mime)


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE SILENT <http://169.254.169.254/latest> { ?s ?p ?o } }",
    "SELECT * WHERE { BIND(<http://127.0.0.1:1/> AS ?e) SERVICE ?e { ?s ?p ?o } }",
    "PREFIX ex: <http://127.0.0.1:1/> SELECT * WHERE { service ex:x { ?s ?p ?o } }",
])
def test_service_is_refused(server, query):
    r = requests.get(server + "/sparql", params={"query": query}, timeout=10)
    assert r.status_code == 400
    assert "SERVICE" in r.text and "refused" in r.text
    assert r.headers["Access-Control-Allow-Origin"] == "*"


def test_updates_are_refused(server):
    upd = "INSERT DATA { <http://x/s> <http://x/p> 1 }"
    r1 = requests.post(server + "/sparql", data={"update": upd}, timeout=10)
    r2 = requests.post(server + "/sparql", data=upd.encode(),
                       headers={"Content-Type": "application/sparql-update"}, timeout=10)
    r3 = requests.get(server + "/sparql", params={"query": upd}, timeout=10)
    assert (r1.status_code, r2.status_code, r3.status_code) == (400, 400, 400)
    assert "read-only" in r1.text and "read-only" in r2.text
    count = requests.get(server + "/sparql", params={"query": "ASK { <http://x/s> ?p ?o }"},
                         headers={"Accept": "application/sparql-results+json"}, timeout=10).json()
    assert count["boolean"] is False


def test_syntax_error_says_where(server):
    r = requests.get(server + "/sparql", params={"query": "SELECT ?s WHERE { ?s ?p }"}, timeout=10)
    assert r.status_code == 400
    assert "syntax error" in r.text.lower()
    assert "1" in r.text  # the engine's line/column position is in the message


def test_query_page_is_html(server):
    r = requests.get(server + "/sparql", headers={"Accept": "text/html"}, timeout=10)
    assert r.status_code == 200 and "<textarea" in r.text
    assert io.StringIO(r.text).read().count("<label") >= 2
