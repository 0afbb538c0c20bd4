"""Federation between real servers on loopback: two `localoffer serve` instances (Bristol and
North Lincolnshire slices), an `oxigraph serve` third-party neighbour, a flaky neighbour (a
small HTTP server in the test that can answer slowly, with HTML, 500 or garbage, or redirect),
and a trap listener that records every connection made to it: the SSRF tests assert it was
never contacted. The tests run in order and share the servers (module scope)."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from localoffer.ingest.pipeline import ingest

from localoffer.cli import main
from localoffer.config import load_settings
from localoffer.store import open_store

from ..backends import oxigraph_binary
from ..conftest import DATA, SAMPLES, require_system
from ..servers import free_port, localoffer_cmd, running

pytestmark = pytest.mark.server
SCHEMA, LO = "https://schema.org/", "https://w3id.org/localoffer/def#"


def neighbour_nquads(base: str, gss: str, name: str, graph: str, services: list[str]) -> str:
    """A small offer in one named graph, shaped like a localoffer source graph."""
    a = f"<{base}/id/authority/{gss}>"
    lines = [
        f"{a} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{LO}LocalAuthority> <{graph}> .",
        f'{a} <http://www.w3.org/2004/02/skos/core#notation> "{gss}" <{graph}> .',
        f'{a} <{SCHEMA}name> "{name}" <{graph}> .',
    ]
    for i, service in enumerate(services):
        s = f"<{base}/id/service/{gss.lower()}-{i}>"
        lines += [
            f"{s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{SCHEMA}Service> <{graph}> .",
            f'{s} <{SCHEMA}name> "{service}" <{graph}> .',
            f"{s} <{LO}localAuthority> {a} <{graph}> .",
        ]
    return "\n".join(lines) + "\n"


class Trap:
    """A listener that counts connections: nothing may ever reach it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.running = False
        self.thread.join(2)
        self.sock.close()


def flaky_server(state: dict[str, object]) -> ThreadingHTTPServer:
    """A neighbour whose answers the tests choose: state['mode'] is ok, html, 500, slow or garbage."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, mime: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", mime)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?", 1)[0]
            if path == "/redirect/sparql":
                self.send_response(302)
                self.send_header(
                    "Location", f"http://127.0.0.1:{state['trap']}/sparql?{self.path.split('?', 1)[-1]}"
                )
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif path == "/slow/sparql":
                time.sleep(5)
                self._send(
                    200, b'{"head":{"vars":[]},"results":{"bindings":[]}}', "application/sparql-results+json"
                )
            elif path == "/sparql":
                self._send(200, b"<!doctype html><title>Our new website</title><p>Moved!", "text/html")
            elif path == "/dump.nq":
                mode = state["mode"]
                if mode == "slow":
                    time.sleep(3)
                if mode == "html":
                    self._send(200, b"<html><body>Maintenance</body></html>", "text/html")
                elif mode == "500":
                    self._send(500, b"Internal Server Error", "text/plain")
                elif mode == "garbage":
                    self._send(200, b'<http://x> <http://y> "unterminated .\n\x00\xff', "application/n-quads")
                else:
                    self._send(
                        200,
                        gzip.compress(str(state["dump"]).encode()),
                        "application/gzip",
                        {"ETag": '"dump-1"'},
                    )
            else:
                self._send(404, b"not found", "text/plain")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Federation:
    """Everything the tests need: URLs, ports, B's settings and environment."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.pa, self.pb, self.pc, self.pdown = free_port(), free_port(), free_port(), free_port()
        self.a, self.b, self.c = (f"http://127.0.0.1:{p}" for p in (self.pa, self.pb, self.pc))
        self.trap = Trap()
        self.flaky_state: dict[str, object] = {"mode": "ok", "trap": self.trap.port}
        self.flaky = flaky_server(self.flaky_state)
        self.pf = self.flaky.server_address[1]
        self.f = f"http://127.0.0.1:{self.pf}"

    def env_b(self, **extra: str) -> dict[str, str]:
        return {
            "LOCALOFFER_STORE": str(self.tmp / "b"),
            "LOCALOFFER_BASE_URI": self.b + "/",
            "LOCALOFFER_NEIGHBOURS": str(self.tmp / "neighbours.toml"),
            "LOCALOFFER_ALLOWED_HOSTS": ",".join(
                f"127.0.0.1:{p}" for p in (self.pa, self.pb, self.pc, self.pf, self.pdown)
            ),
            "LOCALOFFER_HTTP_TIMEOUT": "5",
            "LOCALOFFER_HTTP_RETRIES": "1",
            **extra,
        }

    def settings_b(self):  # type: ignore[no-untyped-def]
        env = self.env_b()
        return load_settings(
            {"store": env["LOCALOFFER_STORE"], "base_uri": env["LOCALOFFER_BASE_URI"]}, environ=env
        )

    def harvest(self, *args: str, **env: str):  # type: ignore[no-untyped-def]
        from click.testing import CliRunner

        return CliRunner().invoke(main, ["harvest", "--format", "json", *args], env=self.env_b(**env))

    def sparql(
        self, url: str, query: str, accept: str = "application/sparql-results+json"
    ) -> requests.Response:
        return requests.post(f"{url}/sparql", data={"query": query}, headers={"Accept": accept}, timeout=30)

    def rows(self, url: str, query: str) -> list[dict[str, str]]:
        r = self.sparql(url, query)
        assert r.status_code == 200, r.text
        return [{k: v["value"] for k, v in b.items()} for b in r.json()["results"]["bindings"]]


def _registry(fed: Federation) -> str:
    return f"""
[[neighbour]]
gss = "E06000023"
name = "Bristol City Council"
sparql = "{fed.a}/sparql"
dump = "{fed.a}/dumps/authority/E06000023.nq.gz"

[[neighbour]]
gss = "E06000024"
name = "North Somerset Council"
sparql = "{fed.c}/query"

[[neighbour]]
gss = "E06000025"
name = "South Gloucestershire Council"
sparql = "{fed.f}/sparql"
dump = "{fed.f}/dump.nq"

[[neighbour]]
gss = "E06000022"
name = "Bath and North East Somerset Council"
sparql = "{fed.f}/redirect/sparql"

[[neighbour]]
gss = "E06000060"
name = "Buckinghamshire Council"
sparql = "http://localhost:{fed.trap.port}/sparql"
"""


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    binary = oxigraph_binary()
    require_system("oxigraph (PyPI package 'oxigraph')", binary is not None, "pip install oxigraph")
    tmp = tmp_path_factory.mktemp("federation")
    f = Federation(tmp)
    (tmp / "neighbours.toml").write_text(_registry(f))
    nl = json.loads((SAMPLES / "north-lincolnshire-services-2024-12.json").read_text())[:6]
    (tmp / "nl-slice.json").write_text(json.dumps(nl))
    for store, base, feed, gss in (
        ("a", f.a, DATA / "feeds" / "bristol-slice.json", "E06000023"),
        ("b", f.b, tmp / "nl-slice.json", "E06000013"),
    ):
        settings = load_settings({"store": str(tmp / store), "base_uri": base + "/"}, environ={})
        s = open_store(settings)
        ingest(s, settings, str(feed), authority=gss)
        s.close()
    f.flaky_state["dump"] = neighbour_nquads(
        "https://sglos.test",
        "E06000025",
        "South Gloucestershire Council",
        "https://sglos.test/graph/offer",
        ["Sensory Play", "Youth Club"],
    )
    serve = ("serve", "--workers", "1", "--threads", "2")
    env_a = {
        "LOCALOFFER_STORE": str(tmp / "a"),
        "LOCALOFFER_BASE_URI": f.a + "/",
        "LOCALOFFER_DUMP_CACHE": str(tmp / "dumps-a"),
    }
    oxigraph = [str(binary), "serve", "--location", str(tmp / "c"), "--bind", f"127.0.0.1:{f.pc}"]
    with (
        running(localoffer_cmd(*serve, "--port", str(f.pa)), f.a + "/", env=env_a, log=tmp / "a.log"),
        running(
            localoffer_cmd(*serve, "--port", str(f.pb)),
            f.b + "/",
            env={**f.env_b(LOCALOFFER_SERVICE_TIMEOUT="2"), "LOCALOFFER_DUMP_CACHE": str(tmp / "dumps-b")},
            log=tmp / "b.log",
        ),
        running(oxigraph, f.c + "/", log=tmp / "c.log"),
    ):
        body = neighbour_nquads(
            "https://nsomerset.test",
            "E06000024",
            "North Somerset Council",
            "https://nsomerset.test/graph/offer",
            ["Autism Outreach", "Hearing Support"],
        )
        requests.post(
            f"{f.c}/store", data=body.encode(), headers={"Content-Type": "application/n-quads"}, timeout=10
        ).raise_for_status()
        yield f
    f.flaky.shutdown()
    f.flaky.server_close()
    f.trap.close()


def graph_size(fed: Federation, graph: str) -> int:
    rows = fed.rows(fed.b, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return int(rows[0]["n"])


# -- harvest ---------------------------------------------------------------------------------


def test_harvest_a_localoffer_neighbour_into_its_own_graph(fed):
    result = fed.harvest("E06000023")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)[0]
    assert (report["status"], report["method"]) == ("harvested", "sparql")
    assert report["changes"] == {"added organization": 5, "added service": 5}
    graph = f"{fed.b}/graph/harvest/E06000023"
    names = fed.rows(
        fed.b, f"SELECT ?name WHERE {{ GRAPH <{graph}> {{ ?s a <{SCHEMA}Service> ; <{SCHEMA}name> ?name }} }}"
    )
    bristol = json.loads((DATA / "feeds" / "bristol-slice.json").read_text())
    assert sorted(r["name"] for r in names) == sorted(s["name"] for s in bristol)
    prov = fed.rows(
        fed.b,
        f"""PREFIX prov: <http://www.w3.org/ns/prov#>
        SELECT ?where ?format WHERE {{ GRAPH <{fed.b}/graph/meta> {{ <{graph}> prov:wasDerivedFrom ?input ;
        prov:wasGeneratedBy ?act . ?input prov:atLocation ?where ;
        <http://purl.org/dc/terms/format> ?format }} }}""",
    )
    assert prov == [{"where": f"{fed.a}/sparql", "format": "sparql"}]
    report_graph = f"{fed.b}/graph/validation/harvest-E06000023"
    assert fed.rows(
        fed.b,
        f"ASK {{ GRAPH <{report_graph}> {{ ?r a <http://www.w3.org/ns/shacl#ValidationReport> }} }}".replace(
            "ASK", "SELECT (1 AS ?x) WHERE", 1
        ),
    )
    assert report["violations"] is not None
    feed = requests.get(f"{fed.b}/changes", params={"authority": "E06000023", "page": 1}, timeout=10).json()
    assert feed["totalItems"] == 10
    assert {i["object"]["id"].split("/id/")[0] for i in feed["orderedItems"]} == {fed.a}
    assert {i["type"] for i in feed["orderedItems"]} == {"Create"}


def test_after_a_harvest_the_search_tables_equal_a_fresh_build(fed):
    """The harvest declares its report and provenance writes neutral for the derived tables;
    what it publishes must still equal a from-scratch build of the same version."""
    from localoffer import textindex

    from .test_search_index import tables

    settings = fed.settings_b()
    store = open_store(settings)
    view = textindex.pin(store)
    fresh = fed.tmp / "fresh-after-harvest.sqlite"
    fresh.unlink(missing_ok=True)
    textindex.build(view, fresh, view.named_graphs(), version=view.version())
    built = textindex.index_file(Path(settings.store) / "derived", view.version())
    assert built.exists()
    assert tables(built) == tables(fresh)
    store.close()


def test_an_unchanged_neighbour_costs_one_question_to_its_change_feed(fed):
    version = open_store(fed.settings_b()).version()
    result = fed.harvest("E06000023")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)[0]
    assert (report["status"], report["via_change_feed"]) == ("unchanged", True)
    assert open_store(fed.settings_b()).version() == version  # nothing written


def test_changes_at_the_neighbour_are_synced_through_its_feed(fed):
    bristol = json.loads((DATA / "feeds" / "bristol-slice.json").read_text())
    renamed, withdrawn = bristol[0], bristol[1]
    changed = [dict(bristol[0], name=renamed["name"] + " (renamed)")] + bristol[2:]
    (fed.tmp / "bristol-changed.json").write_text(json.dumps(changed))
    settings_a = load_settings({"store": str(fed.tmp / "a"), "base_uri": fed.a + "/"}, environ={})
    ingest(
        open_store(settings_a),
        settings_a,
        str(fed.tmp / "bristol-changed.json"),
        authority="E06000023",
        source_id="e06000023-json",
    )
    # the neighbour's own feed: an Update, and a Delete whose object is a dated Tombstone
    page = requests.get(f"{fed.a}/changes", params={"page": 1}, timeout=10).json()
    latest = [i for i in page["orderedItems"] if i["published"] == page["orderedItems"][0]["published"]]
    tomb = [i for i in latest if i["type"] == "Delete" and i["kind"] == "service"]
    assert len(tomb) == 1 and tomb[0]["object"]["type"] == "Tombstone"
    assert (
        tomb[0]["object"]["deleted"] == tomb[0]["published"]
        and tomb[0]["object"]["formerType"] == "schema:Service"
    )
    assert tomb[0]["object"]["id"].endswith(withdrawn["id"])
    assert [i["object"]["id"].rsplit("/", 1)[-1] for i in latest if i["type"] == "Update"] == [renamed["id"]]

    result = fed.harvest("E06000023")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)[0]
    assert (report["status"], report["via_change_feed"]) == ("harvested", True)
    assert report["changes"]["changed service"] == 1 and report["changes"]["withdrawn service"] == 1
    # the synced graph is exactly what a full harvest gives
    full = fed.tmp / "full"
    from click.testing import CliRunner

    env = fed.env_b(LOCALOFFER_STORE=str(full))
    out = CliRunner().invoke(
        main, ["harvest", "--endpoint", f"{fed.a}/sparql", "--authority", "E06000023"], env=env
    )
    assert out.exit_code == 0, out.output
    graph = f"{fed.b}/graph/harvest/E06000023"
    dump = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    synced = set(map(str, open_store(fed.settings_b()).query(dump)))
    expected = set(
        map(
            str,
            open_store(load_settings({"store": str(full), "base_uri": fed.b + "/"}, environ={})).query(dump),
        )
    )
    assert synced == expected and len(synced) > 50
    feed = requests.get(f"{fed.b}/changes", params={"authority": "E06000023", "page": 1}, timeout=10).json()
    assert feed["orderedItems"][0]["type"] in ("Update", "Delete")


def test_dump_harvest_uses_conditional_requests(fed):
    first = fed.harvest("E06000023", "--via", "dump")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)[0]["status"] in ("harvested", "unchanged")
    second = fed.harvest("E06000023", "--via", "dump")
    report = json.loads(second.stdout)[0]
    assert (report["status"], report["message"]) == ("unchanged", "the neighbour answered 304 Not Modified")


def test_third_party_oxigraph_neighbour(fed):
    result = fed.harvest("North Somerset Council")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["status"] == "harvested"
    rows = fed.rows(
        fed.b,
        f"SELECT ?name WHERE {{ GRAPH <{fed.b}/graph/harvest/E06000024> {{ ?s <{SCHEMA}name> ?name }} }} "
        "ORDER BY ?name",
    )
    assert [r["name"] for r in rows] == ["Autism Outreach", "Hearing Support", "North Somerset Council"]


def test_harvest_from_an_oruk_api_through_the_ingest(fed):
    from click.testing import CliRunner

    query = f"SELECT ?n WHERE {{ ?s a <{SCHEMA}Service> ; <{SCHEMA}name> ?n }}"
    at_a = {r["n"] for r in fed.rows(fed.a, query)}
    env = fed.env_b(LOCALOFFER_STORE=str(fed.tmp / "oruk"))
    result = CliRunner().invoke(
        main, ["harvest", "--oruk", f"{fed.a}/api", "--authority", "E06000023", "--format", "json"], env=env
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)[0]
    assert (report["status"], report["method"]) == ("harvested", "oruk")
    assert report["changes"]["added service"] == len(at_a)
    store = open_store(load_settings({"store": str(fed.tmp / "oruk"), "base_uri": fed.b + "/"}, environ={}))
    names = {
        r["n"].value
        for r in store.select(
            f"SELECT ?n WHERE {{ GRAPH <{fed.b}/graph/harvest/E06000023> {{ "
            f"?s a <{SCHEMA}Service> ; <{SCHEMA}name> ?n }} }}"
        )
    }
    assert names == at_a


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("html", "text/html"),
        ("500", "HTTP 500"),
        ("slow", "no answer within 1 s"),
        ("garbage", "not valid"),
    ],
)
def test_a_failing_neighbour_keeps_its_previous_harvest(fed, mode, says):
    fed.flaky_state["mode"] = "ok"
    ok = fed.harvest("E06000025", "--via", "dump")
    assert ok.exit_code == 0, ok.output
    graph = f"{fed.b}/graph/harvest/E06000025"
    before, version = graph_size(fed, graph), open_store(fed.settings_b()).version()
    assert before > 0
    fed.flaky_state["mode"] = mode
    started = time.monotonic()
    failed = fed.harvest(
        "E06000025", "--via", "dump", LOCALOFFER_HTTP_TIMEOUT="1", LOCALOFFER_HTTP_RETRIES="0"
    )
    assert failed.exit_code == 1
    assert "harvest failed: E06000025" in failed.stderr and says in failed.stderr
    assert "previous harvest (if any) is kept" in failed.stderr
    assert time.monotonic() - started < 10
    assert graph_size(fed, graph) == before and open_store(fed.settings_b()).version() == version
    fed.flaky_state["mode"] = "ok"


def test_a_sparql_neighbour_answering_html_is_reported(fed):
    result = fed.harvest("E06000025", "--via", "sparql")
    assert result.exit_code == 1 and "answered text/html" in result.stderr


# -- SSRF ------------------------------------------------------------------------------------


def test_harvest_targets_off_the_allow_list_are_never_contacted(fed):
    trap = f"http://127.0.0.1:{fed.trap.port}/sparql"
    adhoc = fed.harvest("--endpoint", trap, "--authority", "E06000021")
    assert adhoc.exit_code == 1 and "is not on the allow-list" in adhoc.stderr
    listed_loopback = fed.harvest("E06000060")  # in the registry, but loopback and not explicit
    assert listed_loopback.exit_code == 1 and "loopback address" in listed_loopback.stderr
    redirected = fed.harvest("E06000022")  # an allowed neighbour redirecting to the trap
    assert (
        redirected.exit_code == 1
        and f"127.0.0.1:{fed.trap.port} is not on the allow-list" in redirected.stderr
    )
    both = fed.harvest("E06000022", "E06000024")  # one failing does not stop the others
    assert both.exit_code == 1 and [r["status"] for r in json.loads(both.stdout)] == ["failed", "unchanged"]
    assert fed.trap.connections == 0


@pytest.mark.parametrize(
    "target",
    [
        "<http://127.0.0.1:{trap}/sparql>",
        "<http://localhost:{trap}/sparql>",
        "?endpoint",
        "<http://169.254.169.254/latest/meta-data/>",
        "<http://[::ffff:127.0.0.1]:{trap}/sparql>",
    ],
)
def test_service_targets_off_the_allow_list_are_refused_before_any_connection(fed, target):
    shown = target.format(trap=fed.trap.port)
    r = fed.sparql(fed.b, f"SELECT * WHERE {{ SERVICE {shown} {{ ?s ?p ?o }} }}")
    assert r.status_code == 400
    assert f"SERVICE {shown} is refused" in r.text
    silent = fed.sparql(fed.b, f"SELECT * WHERE {{ SERVICE SILENT {shown} {{ ?s ?p ?o }} }}")
    assert silent.status_code == 400  # SILENT forgives a failing endpoint, not a forbidden one
    assert fed.trap.connections == 0


def test_service_redirect_to_a_forbidden_host_is_not_followed(fed):
    query = f"SELECT * WHERE {{ SERVICE <{fed.f}/redirect/sparql> {{ ?s ?p ?o }} }}"
    r = fed.sparql(fed.b, query)
    assert r.status_code == 502 and "is not on the allow-list" in r.text
    silent = fed.sparql(fed.b, query.replace("SERVICE", "SERVICE SILENT"))
    assert silent.status_code == 200 and silent.json()["results"]["bindings"] == [{}]
    assert fed.trap.connections == 0


# -- federated queries -------------------------------------------------------------------------


def test_federated_query_across_two_localoffer_servers_and_oxigraph(fed):
    query = f"""PREFIX schema: <{SCHEMA}>
    SELECT ?where ?name WHERE {{
      {{ SERVICE <{fed.a}/sparql> {{ ?s a schema:Service ; schema:name ?name }} BIND("bristol" AS ?where) }}
      UNION {{ SERVICE <{fed.c}/query> {{ GRAPH ?g {{ ?s a schema:Service ; schema:name ?name }} }}
               BIND("oxigraph" AS ?where) }}
      UNION {{ GRAPH <{fed.b}/graph/source/e06000013-json> {{ ?s a schema:Service ; schema:name ?name }}
               BIND("local" AS ?where) }}
    }}"""
    rows = fed.rows(fed.b, query)
    by = {w: sorted(r["name"] for r in rows if r["where"] == w) for w in ("bristol", "oxigraph", "local")}
    assert by["oxigraph"] == ["Autism Outreach", "Hearing Support"]
    assert len(by["bristol"]) == 4 and len(by["local"]) == 6  # Bristol after the change above
    r = fed.sparql(fed.b, query)
    assert r.headers.get("Cache-Control") == "no-store" and "ETag" not in r.headers


def test_a_long_service_pattern_is_posted_to_localoffer_and_oxigraph(fed):
    """A pattern whose GET form is longer than the 8 KiB request line servers accept."""
    names = " ".join(f'"not a service name {i:05d}"' for i in range(400))  # ~12 KB
    for endpoint, graph in ((f"{fed.a}/sparql", False), (f"{fed.c}/query", True)):
        inner = f"?s a <{SCHEMA}Service> ; <{SCHEMA}name> ?name . VALUES ?other {{ {names} }} " \
                "FILTER(?name != ?other)"
        inner = f"GRAPH ?g {{ {inner} }}" if graph else inner
        rows = fed.rows(fed.b, f"SELECT DISTINCT ?name WHERE {{ SERVICE <{endpoint}> {{ {inner} }} }}")
        assert rows and len({r["name"] for r in rows}) == len(rows), endpoint


def test_service_timeout_and_silent_failures(fed):
    local = f"GRAPH <{fed.b}/graph/source/e06000013-json> {{ ?s a <{SCHEMA}Service> }}"
    started = time.monotonic()
    slow = fed.sparql(fed.b, f"SELECT ?s WHERE {{ {local} SERVICE <{fed.f}/slow/sparql> {{ ?x ?y ?z }} }}")
    assert slow.status_code == 502 and "no answer within 2 s" in slow.text
    assert time.monotonic() - started < 4.5
    silent = fed.rows(
        fed.b, f"SELECT ?s WHERE {{ {local} SERVICE SILENT <{fed.f}/slow/sparql> {{ ?x ?y ?z }} }}"
    )
    assert len(silent) == 6  # the failing service adds no rows and takes none away
    down = fed.rows(
        fed.b,
        f"SELECT ?s ?x WHERE {{ {local} "
        f"SERVICE SILENT <http://127.0.0.1:{fed.pdown}/sparql> {{ ?x ?y ?z }} }}",
    )
    assert len(down) == 6 and all("x" not in r for r in down)
    html = fed.sparql(fed.b, f"SELECT * WHERE {{ SERVICE <{fed.f}/sparql> {{ ?x ?y ?z }} }}")
    assert html.status_code == 502 and "text/html" in html.text


# -- query --endpoint, the feed in VoID/DCAT ------------------------------------------------------


def test_query_command_against_any_allow_listed_endpoint(fed):
    from click.testing import CliRunner

    run = CliRunner()
    q = f"SELECT ?name WHERE {{ ?s a <{SCHEMA}Service> ; <{SCHEMA}name> ?name }} ORDER BY ?name"
    csv = run.invoke(main, ["query", "--endpoint", f"{fed.a}/sparql", q, "--format", "csv"], env=fed.env_b())
    assert csv.exit_code == 0, csv.output
    assert csv.stdout.splitlines()[0] == "name" and len(csv.stdout.splitlines()) == 5
    js = run.invoke(
        main,
        [
            "query",
            "--endpoint",
            f"{fed.c}/query",
            "SELECT ?n WHERE { GRAPH ?g { ?s <https://schema.org/name> ?n } }",
            "--format",
            "json",
        ],
        env=fed.env_b(),
    )
    assert len(json.loads(js.stdout)["results"]["bindings"]) == 3
    table = run.invoke(
        main,
        [
            "query",
            "--endpoint",
            f"{fed.b}/sparql",
            "--name",
            "providers-in-several-offers",
            "--param",
            "min=1",
        ],
        env=fed.env_b(),
    )
    assert table.exit_code == 0 and "authorities" in table.stdout.splitlines()[0]
    refused = run.invoke(
        main, ["query", "--endpoint", f"http://127.0.0.1:{fed.trap.port}/sparql", "ASK {}"], env=fed.env_b()
    )
    assert refused.exit_code == 1 and "not on the allow-list" in refused.output
    assert fed.trap.connections == 0


def test_void_and_dcat_link_the_change_feed(fed):
    void = requests.get(f"{fed.b}/void", headers={"Accept": "application/n-triples"}, timeout=10)
    triples = list(ox.parse(void.content, format=ox.RdfFormat.N_TRIPLES))
    feed = ox.NamedNode(f"{fed.b}/changes")
    assert any(t.predicate.value.endswith("seeAlso") and t.object == feed for t in triples)
    dcat = requests.get(f"{fed.b}/catalog", headers={"Accept": "application/n-triples"}, timeout=10)
    triples = list(ox.parse(dcat.content, format=ox.RdfFormat.N_TRIPLES))
    assert any(
        t.predicate.value == "http://www.w3.org/ns/dcat#endpointURL" and t.object == feed for t in triples
    )


def test_change_feed_pages(fed):
    first = requests.get(f"{fed.a}/changes", timeout=10)
    assert first.headers["Content-Type"].startswith("application/activity+json")
    doc = first.json()
    assert (
        doc["type"] == "OrderedCollection" and doc["totalItems"] == 13
    )  # 10 created, 1 changed, 2 withdrawn
    pages = []
    url = f"{fed.a}/changes?per_page=5&page=1"
    while url:
        page = requests.get(url, timeout=10).json()
        pages.append(page)
        url = page.get("next")
    assert [len(p["orderedItems"]) for p in pages] == [5, 5, 3]
    stamps = [i["published"] for p in pages for i in p["orderedItems"]]
    assert stamps == sorted(stamps, reverse=True)
    since = requests.get(f"{fed.a}/changes", params={"since": stamps[-1], "page": 1}, timeout=10).json()
    assert since["totalItems"] == 3
    cached = requests.get(f"{fed.a}/changes", headers={"If-None-Match": first.headers["ETag"]}, timeout=10)
    assert cached.status_code == 304
    assert requests.get(f"{fed.a}/changes?since=yesterday", timeout=10).status_code == 400


def test_sparql_harvest_is_conditional_without_a_change_feed(fed):
    from localoffer.federation.remote import policy_for
    from localoffer.federation.sources import Validators, from_sparql

    policy = policy_for(fed.settings_b())
    first = from_sparql(f"{fed.a}/sparql", "E06000023", policy, Validators(), page_size=7)
    assert first is not None and first.etag and len(first.triples) > 50  # several pages of 7
    again = from_sparql(f"{fed.a}/sparql", "E06000023", policy, Validators(first.etag, first.last_modified))
    assert again is None  # one request, answered 304
    assert set(map(str, from_sparql(f"{fed.a}/sparql", "E06000023", policy, Validators()).triples)) == \
        set(map(str, first.triples))


def test_cli_query_on_the_store_answers_allowed_service_and_refuses_others(fed):
    from click.testing import CliRunner

    run = CliRunner()
    q = f"SELECT ?n WHERE {{ SERVICE <{fed.a}/sparql> {{ ?s a <{SCHEMA}Service> ; <{SCHEMA}name> ?n }} }}"
    ok = run.invoke(main, ["query", q, "--format", "csv"], env=fed.env_b())
    assert ok.exit_code == 0, ok.output
    assert len(ok.stdout.splitlines()) == 5
    trap = q.replace(fed.a, f"http://127.0.0.1:{fed.trap.port}")
    refused = run.invoke(main, ["query", trap], env=fed.env_b())
    assert refused.exit_code == 1 and "is refused" in refused.output
    assert fed.trap.connections == 0
