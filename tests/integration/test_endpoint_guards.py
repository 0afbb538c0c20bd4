"""The endpoint's guards against a real `localoffer serve`: the hard query timeout (a runaway
query is really stopped while other queries are answered), the row cap and its signal, the
request size limit, CORS on every response, gzip, ETag/Last-Modified with 304, the update
token, and SHACL validation of Graph Store writes."""

from __future__ import annotations

import gzip
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
import requests
from localoffer.publisher import create_app

from localoffer.config import load_settings
from localoffer.store import open_store

from ..conftest import BASE
from ..servers import free_port, localoffer_cmd, running

pytestmark = pytest.mark.server
TOKEN = "guards-test-token"
LIMIT = 50
TIMEOUT = 2.0
EX = "http://example.org/"
SCHEMA = "https://schema.org/"
EXPLOSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
SHAPES = f"""@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix schema: <{SCHEMA}> .
<urn:test:ServiceNeedsName> a sh:NodeShape ; sh:targetClass schema:Service ;
  sh:property [ sh:path schema:name ; sh:minCount 1 ; sh:severity sh:Violation ;
                sh:message "A service needs a name" ] .
"""


@pytest.fixture(scope="module", params=["process", "worker"])
def server(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A server per query isolation (LOCALOFFER_QUERY_ISOLATION): every guard holds in both."""
    tmp = tmp_path_factory.mktemp(f"guards-{request.param}")
    store_dir = tmp / "store"
    settings = load_settings({"store": str(store_dir), "base_uri": BASE}, environ={})
    rows = "".join(f"<{EX}item/{i}> <{EX}rank> \"{i}\" .\n" for i in range(300))
    with open_store(settings).write() as session:
        session.load(f"{EX}graph/items", rows.encode(), "nt")
    (tmp / "shapes.ttl").write_text(SHAPES, encoding="utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"LOCALOFFER_STORE": str(store_dir), "LOCALOFFER_BASE_URI": BASE, "LOCALOFFER_UPDATE_TOKEN": TOKEN,
           "LOCALOFFER_QUERY_TIMEOUT": str(TIMEOUT), "LOCALOFFER_RESULT_LIMIT": str(LIMIT),
           "LOCALOFFER_MAX_REQUEST_BYTES": "65536", "LOCALOFFER_WRITE_SHAPES": str(tmp / "shapes.ttl"),
           "LOCALOFFER_QUERY_ISOLATION": request.param}
    with running(localoffer_cmd("serve", "--port", str(port), "--workers", "1", "--threads", "4"),
                 url + "/", env=env, log=tmp / "serve.log") as proc:
        yield url, proc.pid


def sparql(url: str, query: str, **headers: str) -> requests.Response:
    return requests.get(url + "/sparql", params={"query": query}, headers=headers, timeout=30)


def cpu_seconds(root: int) -> dict[int, float]:
    """CPU time used so far by every descendant of process *root* (from /proc)."""
    parents, times = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    found, frontier = {}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in found:
                found[child] = times[child]
                frontier.append(child)
    return found


# -- the hard timeout --------------------------------------------------------------------

def test_a_runaway_query_is_stopped_while_others_are_answered(server):
    url, pid = server
    assert sparql(url, "ASK { ?s ?p ?o }").status_code == 200  # the query processes are up
    outcome: dict[str, object] = {}

    def explode() -> None:
        started = time.monotonic()
        r = sparql(url, EXPLOSIVE)
        outcome.update(status=r.status_code, text=r.text, elapsed=time.monotonic() - started,
                       cors=r.headers.get("Access-Control-Allow-Origin"))

    runaway = threading.Thread(target=explode)
    runaway.start()
    time.sleep(0.3)
    latencies = []
    while runaway.is_alive() and len(latencies) < 100:
        started = time.monotonic()
        r = sparql(url, f"SELECT ?o WHERE {{ <{EX}item/7> <{EX}rank> ?o }}",
                   Accept="application/sparql-results+json")
        latencies.append(time.monotonic() - started)
        assert r.status_code == 200 and r.json()["results"]["bindings"][0]["o"]["value"] == "7"
        time.sleep(0.05)
    runaway.join(30)
    latencies.sort()
    assert len(latencies) >= 5 and latencies[len(latencies) // 2] < 0.5 and latencies[-1] < 2.0, latencies
    assert outcome["status"] == 503, outcome
    assert "stopped" in str(outcome["text"]) and f"{TIMEOUT:g} s" in str(outcome["text"])
    assert TIMEOUT - 0.2 < float(outcome["elapsed"]) < TIMEOUT + 4  # type: ignore[arg-type]
    assert outcome["cors"] == "*"
    # A fresh query process (or, with worker isolation, a fresh web worker) answers ...
    assert sparql(url, "ASK { ?s ?p ?o }").status_code == 200
    # ... and the evaluation itself is gone, not just abandoned: nothing under the server
    # burns CPU.
    before = cpu_seconds(pid)
    time.sleep(1.0)
    after = cpu_seconds(pid)
    busy = {p: after[p] - before.get(p, 0.0) for p in after}
    assert max(busy.values()) < 0.5, busy


# -- the row cap -----------------------------------------------------------------------------

def test_results_are_cut_at_the_limit_with_a_signal(server):
    url, _ = server
    cut = sparql(url, "SELECT * WHERE { ?s ?p ?o }", Accept="application/sparql-results+json")
    assert cut.headers["X-LocalOffer-Truncated"] == "true"
    assert len(cut.json()["results"]["bindings"]) == LIMIT
    whole = sparql(url, "SELECT * WHERE { ?s ?p ?o } LIMIT 10", Accept="text/csv")
    assert whole.headers["X-LocalOffer-Truncated"] == "false"
    assert len(whole.text.strip().splitlines()) == 11
    graph = sparql(url, "CONSTRUCT WHERE { ?s ?p ?o }", Accept="application/n-triples")
    assert graph.headers["X-LocalOffer-Truncated"] == "true"
    assert len(rdflib.Graph().parse(data=graph.text, format="nt")) == LIMIT


def test_the_html_page_says_when_results_were_cut(server):
    url, _ = server
    r = sparql(url, "SELECT * WHERE { ?s ?p ?o }", Accept="text/html,application/xhtml+xml,*/*;q=0.8")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert r.headers["X-LocalOffer-Truncated"] == "true"
    assert f"Only the first {LIMIT} rows are shown" in r.text
    assert r.text.count("<tr>") == LIMIT + 1  # header row + the rows
    short = sparql(url, "SELECT * WHERE { ?s ?p ?o } LIMIT 3", Accept="text/html")
    assert "Only the first" not in short.text and short.text.count("<tr>") == 4


# -- request limits, CORS, gzip ------------------------------------------------------------------

def test_a_request_body_over_the_limit_is_refused_with_413(server):
    url, _ = server
    big = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 100_000
    r = requests.post(url + "/sparql", data=big.encode(), timeout=30,
                      headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 413
    assert r.headers["Access-Control-Allow-Origin"] == "*"


def test_cors_preflight(server):
    url, _ = server
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}
    r = requests.options(url + "/sparql", headers=preflight, timeout=10)
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in r.headers["Access-Control-Allow-Headers"]
    assert int(r.headers["Access-Control-Max-Age"]) > 0


@pytest.mark.parametrize("method,path,kwargs,status", [
    ("get", "/sparql", {"params": {"query": "SELECT ?s WHERE { ?s ?p }"}}, 400),
    ("get", "/no/such/page", {}, 404),
    ("put", "/sparql", {"data": b"x"}, 405),
    ("put", "/store?graph=http://example.org/g", {"data": b"", "headers": {"Content-Type": "text/turtle"}},
     401),
    ("post", "/sparql", {"data": b"ASK {}", "headers": {"Content-Type": "text/plain"}}, 415),
])
def test_errors_carry_cors_headers_too(server, method, path, kwargs, status):
    url, _ = server
    r = requests.request(method, url + path, timeout=10, **kwargs)
    assert r.status_code == status
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.headers["Access-Control-Max-Age"] == "86400"


def test_answers_are_gzipped_when_the_client_accepts_it(server):
    url, _ = server
    query = {"query": "SELECT * WHERE { ?s ?p ?o }"}
    r = requests.get(url + "/sparql", params=query, stream=True, timeout=10,
                     headers={"Accept": "application/sparql-results+json", "Accept-Encoding": "gzip"})
    raw = r.raw.read(decode_content=False)
    assert r.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in r.headers["Vary"]
    assert len(json.loads(gzip.decompress(raw))["results"]["bindings"]) == LIMIT
    plain = requests.get(url + "/sparql", params=query, timeout=10,
                         headers={"Accept": "application/sparql-results+json", "Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and len(plain.json()["results"]["bindings"]) == LIMIT


# -- conditional requests ------------------------------------------------------------------------

def test_unchanged_results_answer_304_until_the_data_changes(server):
    url, _ = server
    q = f"SELECT ?o WHERE {{ <{EX}item/1> ?p ?o }}"
    first = sparql(url, q, Accept="application/sparql-results+json")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = sparql(url, q, Accept="application/sparql-results+json", **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
    assert again.headers["Access-Control-Allow-Origin"] == "*"
    since = sparql(url, q, Accept="application/sparql-results+json", **{"If-Modified-Since": modified})
    assert since.status_code == 304
    other = sparql(url, q, Accept="text/csv", **{"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag
    r = requests.put(url + "/store", params={"graph": f"{EX}graph/extra"}, data=f"<{EX}a> <{EX}b> <{EX}c> .",
                     headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert r.status_code == 201, r.text
    changed = sparql(url, q, Accept="application/sparql-results+json", **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


# -- who may write ---------------------------------------------------------------------------------

def test_writes_need_the_right_token(server):
    url, _ = server
    target = url + "/store?graph=" + requests.utils.quote(f"{EX}graph/auth", safe="")
    body = {"data": f"<{EX}s> <{EX}p> \"o\" .", "timeout": 30}
    turtle = {"Content-Type": "text/turtle"}
    missing = requests.put(target, headers=turtle, **body)
    wrong = requests.put(target, headers={**turtle, "Authorization": "Bearer nope"}, **body)
    basic = requests.put(target, headers={**turtle, "Authorization": "Basic Zm9vOmJhcg=="}, **body)
    update = requests.post(url + "/update", data={"update": "CLEAR ALL"}, timeout=30)
    statuses = (missing.status_code, wrong.status_code, basic.status_code, update.status_code)
    assert statuses == (401, 401, 401, 401)
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert "token" in missing.text and "not valid" in wrong.text
    assert requests.get(target, timeout=10).status_code == 404  # nothing was written
    right = requests.put(target, headers={**turtle, "Authorization": f"Bearer {TOKEN}"}, **body)
    assert right.status_code == 201
    assert requests.get(target, timeout=10).status_code == 200


def test_without_a_configured_token_writes_are_off(tmp_path: Path):
    app = create_app({"store": str(tmp_path / "store"), "base_uri": BASE, "update_token": ""})
    client = app.test_client()
    put = client.put("/store?default", data=b"<http://a> <http://b> <http://c> .",
                     headers={"Content-Type": "text/turtle", "Authorization": "Bearer anything"})
    update = client.post("/update", data={"update": "CLEAR ALL"}, headers={"Authorization": "Bearer x"})
    assert (put.status_code, update.status_code) == (403, 403)
    assert "switched off" in put.get_data(as_text=True)
    assert put.headers["Access-Control-Allow-Origin"] == "*"


def test_update_refuses_load_and_service(server):
    url, _ = server
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for text in ("LOAD <http://169.254.169.254/latest/meta-data>",
                 "INSERT { ?s ?p ?o } WHERE { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }"):
        r = requests.post(url + "/update", data={"update": text}, headers=auth, timeout=30)
        assert r.status_code == 400 and "refused" in r.text


# -- SHACL validation of Graph Store writes -----------------------------------------------------------

def test_graph_store_writes_that_add_violations_are_refused(server):
    url, _ = server
    graph = url + "/store?graph=" + requests.utils.quote(f"{EX}graph/services", safe="")
    headers = {"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}",
               "Accept": "application/json"}
    named = f"<{EX}svc/1> a <{SCHEMA}Service> ; <{SCHEMA}name> \"Speech and language therapy\" ."
    nameless = f"<{EX}svc/1> a <{SCHEMA}Service> ; <{SCHEMA}description> \"no name\" ."
    assert requests.put(graph, data=named, headers=headers, timeout=30).status_code == 201
    refused = requests.put(graph, data=nameless, headers=headers, timeout=30)
    assert refused.status_code == 422
    report = refused.json()
    assert "force=true" in report["message"]
    assert report["details"][0]["focus"] == f"{EX}svc/1"
    assert report["details"][0]["message"] == "A service needs a name"
    kept = rdflib.Graph().parse(data=requests.get(graph, timeout=10).text, format="turtle")
    assert (rdflib.URIRef(f"{EX}svc/1"), rdflib.URIRef(f"{SCHEMA}name"), None) in kept
    forced = requests.put(graph + "&force=true", data=nameless, headers=headers, timeout=30)
    assert forced.status_code == 204
    # The violation is there already: a write that adds no new one is accepted...
    other = f"<{EX}org/1> <{SCHEMA}name> \"A provider\" ."
    assert requests.post(graph, data=other, headers=headers, timeout=30).status_code == 204
    # ...one that adds another is not.
    second = f"<{EX}svc/2> a <{SCHEMA}Service> ."
    again = requests.post(graph, data=second, headers=headers, timeout=30)
    assert again.status_code == 422 and [d["focus"] for d in again.json()["details"]] == [f"{EX}svc/2"]
