"""The live API reader against a real HTTP server on 127.0.0.1: ORUK v1 (Spring pages and
nested /services/{id} details) and HSDS 3.0 (`contents` pages), retries, timeouts, the
private-address guard, and error pages."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from localoffer import namespaces as ns
from localoffer.cli import main
from localoffer.config import Settings, load_settings
from localoffer.definitions import ensure_definitions
from localoffer.errors import IngestError
from localoffer.ingest.pipeline import IngestReport, ingest
from localoffer.store import Store, open_store

BASE = "https://localoffer.test/"
AUTH = "E06000023"
PREFIXES = ns.sparql_prefixes()
PAGE_SIZE = 3     # the server's own page size: it ignores per_page, as real servers may


def uuid(n: int, kind: int = 0) -> str:
    return f"{kind:08x}-0000-4000-8000-{n:012x}"


# -- the data the fake server publishes ------------------------------------------------------

def v1_list_item(n: int) -> dict[str, Any]:
    return {"id": uuid(n), "name": f"Service {n}", "description": f"<p>Service {n} &amp; friends</p>",
            "url": f"https://example.org/s/{n}", "email": "", "status": "active", "fees": "",
            "pc_targetAudience": [{"id": "Carers", "audienceType": "Carers "}],
            "organization": {"id": uuid(1, 9), "name": "Play Trust", "description": "A charity",
                             "url": "", "logo": "", "uri": ""}}


def v1_detail(n: int) -> dict[str, Any]:
    d = v1_list_item(n)
    del d["pc_targetAudience"]   # only on the list pages, as Placecube's extras may be
    d.update({
        "regular_schedules": [
            {"id": uuid(n, 1), "service_at_location": {"id": uuid(n, 2)}, "weekday": "Monday",
             "opens_at": "09:00", "closes_at": "12:30"},
            {"id": uuid(n, 11), "weekday": "Wednesday", "opens_at": "13:00", "closes_at": "15:00",
             "valid_from": "2024-01-01", "valid_to": "2024-12-31"},
        ],
        "holiday_schedules": [{"id": uuid(n, 3), "closed": True, "start_date": "2024-12-25",
                               "end_date": "2024-12-26"}],
        "service_taxonomys": [{"id": uuid(n, 4), "taxonomy": {
            "id": uuid(1, 5), "name": "Autism", "parent_id": None, "vocabulary": "SEND needs"}}],
        "eligibilitys": [{"id": uuid(n, 6), "eligibility": "child", "minimum_age": 0, "maximum_age": 11},
                         {"id": uuid(n, 7), "eligibility": "teen", "minimum_age": 12, "maximum_age": 18}],
        "service_at_locations": [{"id": uuid(n, 2), "location": {
            "id": uuid(1, 8), "name": "Community Hall", "description": "By the park",
            "latitude": 51.4545, "longitude": -2.5879,
            "physical_addresses": [{"id": uuid(1, 10), "address_1": "1 Main Street", "city": "Bristol",
                                    "state_province": "", "postal_code": "bs1 5th", "country": "GB"}],
            "accessibility_for_disabilities": [{"id": uuid(1, 12), "accessibility": "Step-free access"}],
        }}],
        "fundings": [{"id": uuid(n, 13), "source": "Council grant"}],
        "languages": [{"id": uuid(n, 14), "language": "English"}, {"id": uuid(n, 15), "language": "Polish"}],
        "contacts": [{"id": uuid(n, 16), "name": "Jane Doe", "title": "Coordinator",
                      "phones": [{"id": uuid(n, 17), "number": "0117 496 0000"}]}],
        "cost_options": [{"id": uuid(n, 18), "option": "Per session", "amount": 2.5,
                          "amount_description": "per child"}],
    })
    return d


def v3_list_item(n: int) -> dict[str, Any]:
    return {"id": uuid(n, 20), "name": f"HSDS service {n}", "status": "active",
            "description": "Plain description", "organization_id": uuid(2, 9)}


def v3_detail(n: int) -> dict[str, Any]:
    return {**v3_list_item(n), "minimum_age": 5, "schedules": [
        {"id": uuid(n, 21), "freq": "WEEKLY", "byday": "TU,TH", "opens_at": "10:00:00",
         "closes_at": "16:00:00"}]}


class FakeApi:
    """Routes of the fake server, a log of the requests, and switches for failures."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.unavailable: dict[str, int] = {}      # path -> number of 503 answers still to give
        self.v1_count = 7
        self.v3_count = 5
        self.v3_missing_detail = {3}               # /v3/services/{id} answers 404 for these
        self.routes: dict[str, Callable[[dict[str, list[str]]], tuple[int, str, bytes]]] = {}

    def log(self, path: str) -> None:
        with self.lock:
            self.requests.append(path)

    def hits(self, prefix: str) -> list[str]:
        return [r for r in self.requests if r.startswith(prefix)]

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
        left = self.unavailable.get(path, 0)
        if left:
            self.unavailable[path] = left - 1
            return 503, "text/plain", b"busy, try again"
        if path in self.routes:
            return self.routes[path](query)
        page = int(query.get("page", ["1"])[0])
        if path == "/v1/services":
            return self._v1_page(page)
        if path.startswith("/v1/services/"):
            ident = path.rsplit("/", 1)[1]
            for n in range(1, self.v1_count + 1):
                if uuid(n) == ident:
                    return _json(v1_detail(n))
        if path == "/v3/services":
            return self._v3_page(page)
        if path.startswith("/v3/services/"):
            ident = path.rsplit("/", 1)[1]
            for n in range(1, self.v3_count + 1):
                if uuid(n, 20) == ident and n not in self.v3_missing_detail:
                    return _json(v3_detail(n))
        if path == "/slow/services":
            self.release.wait(20)
            return _json({"content": [], "totalPages": 0})
        if path == "/html/services":
            return 200, "text/html", (b"<!DOCTYPE html><html><head><title>Directory</title></head>"
                                      b"<body><h1>Please sign in</h1></body></html>")
        return 404, "application/json", b'{"error": "Not Found"}'

    def _v1_page(self, page: int) -> tuple[int, str, bytes]:
        items = [v1_list_item(n) for n in range(1, self.v1_count + 1)]
        pages = max(1, -(-len(items) // PAGE_SIZE))
        content = items[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        return _json({"content": content, "totalElements": len(items), "totalPages": pages,
                      "number": page, "size": PAGE_SIZE, "first": page == 1, "last": page >= pages})

    def _v3_page(self, page: int) -> tuple[int, str, bytes]:
        items = [v3_list_item(n) for n in range(1, self.v3_count + 1)]
        pages = max(1, -(-len(items) // PAGE_SIZE))
        contents = items[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
        return _json({"total_items": len(items), "total_pages": pages, "page_number": page,
                      "size": PAGE_SIZE, "first_page": page == 1, "last_page": page >= pages,
                      "empty": not contents, "contents": contents})


def _json(doc: Any) -> tuple[int, str, bytes]:
    return 200, "application/json", json.dumps(doc).encode()


@pytest.fixture
def api() -> Iterator[tuple[FakeApi, str]]:
    """A real HTTP server on a free port of 127.0.0.1, serving FakeApi; yields (api, root URL)."""
    fake = FakeApi()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            fake.log(self.path)
            status, ctype, body = fake.answer(parts.path, parse_qs(parts.query))
            try:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass   # the client gave up (the timeout test)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        fake.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def definitions_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store folder with the ontology loaded, made once: loading it takes seconds."""
    folder = tmp_path_factory.mktemp("template") / "store"
    settings = load_settings({"store": str(folder), "base_uri": BASE}, environ={})
    store = open_store(settings)
    with store.write() as session:
        ensure_definitions(session, settings)
    store.close()
    return folder


@pytest.fixture(autouse=True)
def warm_store(definitions_store: Path, tmp_path: Path) -> None:
    """Each test's store (tmp_path/store) starts as a copy of the template."""
    shutil.copytree(definitions_store, tmp_path / "store")


def api_settings(tmp_path: Path, root: str, **extra: Any) -> Settings:
    host = root.split("//", 1)[1]
    return load_settings({"store": str(tmp_path / "store"), "base_uri": BASE,
                          "allowed_hosts": host, **extra}, environ={})


def snapshot(store: Store) -> tuple[str, int, str]:
    out = io.BytesIO()
    store.dump(out, "nq")
    return store.version(), store.count(), hashlib.sha256(out.getvalue()).hexdigest()


def select(store: Store, report: IngestReport, pattern: str, head: str = "*") -> list[dict[str, Any]]:
    return list(store.select(PREFIXES + f"SELECT {head} WHERE {{ GRAPH <{report.graph}> {{ {pattern} }} }}"))


def svc(n: int, kind: int = 0) -> str:
    return ns.mint(BASE, "service", uuid(n, kind))


# -- ORUK v1 ---------------------------------------------------------------------------------

def test_v1_all_pages_fetched(api: tuple[FakeApi, str], tmp_path: Path) -> None:
    fake, root = api
    settings = api_settings(tmp_path, root)
    store = open_store(settings)
    report = ingest(store, settings, f"{root}/v1", authority=AUTH)
    assert report.rejected == []
    assert report.read == 7 and report.counts["service"] == 7 and report.counts["organization"] == 1
    pages = [r for r in fake.hits("/v1/services?")]
    assert pages == [f"/v1/services?page={n}&per_page=100" for n in (1, 2, 3)]
    assert sorted(fake.hits("/v1/services/")) == sorted(f"/v1/services/{uuid(n)}" for n in range(1, 8))
    rows = select(store, report, "?s a schema:Service", "(COUNT(?s) AS ?n)")
    assert int(rows[0]["n"].value) == 7
    assert report.source == f"{root}/v1" and report.source_id == "e06000023-api"


def test_v1_details_merged(api: tuple[FakeApi, str], tmp_path: Path) -> None:
    fake, root = api
    settings = api_settings(tmp_path, root)
    store = open_store(settings)
    report = ingest(store, settings, f"{root}/v1", authority=AUTH)
    s = svc(2)
    # regular_schedules -> opening hours with the weekday
    rows = select(store, report, f"<{s}> schema:hoursAvailable ?h . ?h a schema:OpeningHoursSpecification ; "
                                 "schema:dayOfWeek ?day ; schema:opens ?o ; schema:closes ?c")
    assert sorted((r["day"].value, r["o"].value, r["c"].value) for r in rows) == [
        ("https://schema.org/Monday", "09:00:00", "12:30:00"),
        ("https://schema.org/Wednesday", "13:00:00", "15:00:00")]
    rows = select(store, report, f"<{s}> schema:hoursAvailable ?h . ?h schema:validThrough ?t")
    assert [r["t"].value for r in rows] == ["2024-12-31"]
    # holiday_schedules -> closed days
    rows = select(store, report, f"<{s}> schema:specialOpeningHoursSpecification ?h . "
                                 "?h schema:opens ?o ; schema:validFrom ?f")
    assert [(r["o"].value, r["f"].value) for r in rows] == [("00:00:00", "2024-12-25")]
    # service_taxonomys -> categories
    rows = select(store, report, f"<{s}> schema:category ?t . ?t schema:name ?n ; dcterms:source ?v")
    assert [(r["n"].value, r["v"].value) for r in rows] == [("Autism", "SEND needs")]
    # eligibilitys -> audience types and the age range
    rows = select(store, report, f"<{s}> schema:audience ?a . ?a schema:audienceType ?t")
    # eligibilitys from the detail, pc_targetAudience kept from the list page
    assert sorted(r["t"].value for r in rows) == ["Carers", "child", "teen"]
    rows = select(store, report, f"<{s}> schema:audience ?a . ?a schema:suggestedMinAge ?lo ; "
                                 "schema:suggestedMaxAge ?hi")
    assert [(float(r["lo"].value), float(r["hi"].value)) for r in rows] == [(0.0, 18.0)]
    # service_at_locations with physical_addresses
    rows = select(store, report, f"<{s}> schema:availableChannel ?c . ?c schema:serviceLocation ?l . "
                                 "?l schema:name ?ln ; schema:address ?a ; wgs:lat ?lat . "
                                 "?a schema:postalCode ?pc ; schema:streetAddress ?st")
    assert [(r["ln"].value, r["pc"].value, r["st"].value, r["lat"].value) for r in rows] == [
        ("Community Hall", "BS1 5TH", "1 Main Street", "51.4545")]
    rows = select(store, report, f"<{s}> schema:availableChannel/schema:serviceLocation/"
                                 "schema:amenityFeature/schema:name ?n")
    assert [r["n"].value for r in rows] == ["Step-free access"]
    # fundings, languages [{language}], contacts with phones (names of people left out)
    rows = select(store, report, f"<{s}> hsds:funding/schema:description ?d")
    assert [r["d"].value for r in rows] == ["Council grant"]
    rows = select(store, report, f"<{s}> schema:availableLanguage/schema:name ?n")
    assert sorted(r["n"].value for r in rows) == ["English", "Polish"]
    rows = select(store, report, f"<{s}> hsds:contact ?c . "
                                 "?c hsds:title ?t ; hsds:phone/schema:telephone ?tel")
    assert [(r["t"].value, r["tel"].value) for r in rows] == [("Coordinator", "0117 496 0000")]
    assert not select(store, report, '?x schema:name "Jane Doe"')
    # the list-level fields are still there
    rows = select(store, report, f"<{s}> schema:description ?d ; schema:provider ?o")
    assert rows[0]["d"].value == "Service 2 & friends"
    assert rows[0]["o"].value == ns.mint(BASE, "organization", uuid(1, 9))
    # one shared location, written once
    assert report.counts["location"] == 1


def test_v1_without_details(api: tuple[FakeApi, str], tmp_path: Path) -> None:
    fake, root = api
    settings = api_settings(tmp_path, root)
    store = open_store(settings)
    report = ingest(store, settings, f"{root}/v1", authority=AUTH, details=False)
    assert report.counts["service"] == 7
    assert fake.hits("/v1/services/") == []
    assert not select(store, report, "?s schema:hoursAvailable ?h")


def test_v1_reingest_unchanged(api: tuple[FakeApi, str], tmp_path: Path) -> None:
    fake, root = api
    settings = api_settings(tmp_path, root)
    store = open_store(settings)
    first = ingest(store, settings, f"{root}/v1", authority=AUTH)
    again = ingest(store, settings, f"{root}/v1", authority=AUTH)
    assert again.unchanged and again.version == first.version == store.version()


def test_503_is_retried(api: tuple[FakeApi, str], tmp_path: Path) -> None:
    fake, root = api
    fake.unavailable["/v1/services"] = 1      # the very first request answers 503
    settings = api_settings(tmp_path, root, http_retries=2)
    store = open_store(settings)
    report = ingest(store, settings, f"{root}/v1", authority=AUTH)
    assert report.counts["service"] == 7
    assert fake.requests[:2] == ["/v1/services?page=1&per_page=100"] * 2


def test_503_without_retries_is_an_error(api: tuple[FakeApi, str], tmp_path: Path) -> None:
    fake, root = api
    fake.unavailable["/v1/services"] = 5
    settings = api_settings(tmp_path, root, http_retries=1)
    store = open_store(settings)
    before = snapshot(store)
    with pytest.raises(IngestError) as err:
        ingest(store, settings, f"{root}/v1", authority=AUTH)
    assert str(err.value) == (f"{root}/v1/services?page=1&per_page=100: the server answered HTTP 503; "
                              "expected 200 with an Open Referral JSON page")
    assert len(fake.requests) == 2
    assert snapshot(store) == before


def test_server_that_never_answers_times_out(api: tuple[FakeApi, str], tmp_path: Path) -> None:
    fake, root = api
    settings = api_settings(tmp_path, root, http_timeout=0.5, http_retries=0)
    store = open_store(settings)
    before = snapshot(store)
    started = time.monotonic()
    with pytest.raises(IngestError) as err:
        ingest(store, settings, f"{root}/slow", authority=AUTH)
    assert time.monotonic() - started < 5
    assert str(err.value) == (f"{root}/slow/services?page=1&per_page=100: no answer within 0.5 s after "
                              "1 attempt (ReadTimeout)")
    assert snapshot(store) == before


def test_timeouts_are_retried(api: tuple[FakeApi, str], tmp_path: Path) -> None:
    fake, root = api
    settings = api_settings(tmp_path, root, http_timeout=0.3, http_retries=1)
    store = open_store(settings)
    with pytest.raises(IngestError) as err:
        ingest(store, settings, f"{root}/slow", authority=AUTH)
    assert str(err.value).endswith("no answer within 0.3 s after 2 attempts (ReadTimeout)")
    assert fake.hits("/slow/") == ["/slow/services?page=1&per_page=100"] * 2


def test_nothing_listening(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:           # a free port that nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = f"http://127.0.0.1:{port}"
    settings = api_settings(tmp_path, root, http_retries=0)
    store = open_store(settings)
    with pytest.raises(IngestError) as err:
        ingest(store, settings, root, authority=AUTH)
    assert str(err.value).startswith(f"{root}/services?page=1&per_page=100: no answer within ")
    assert str(err.value).endswith("after 1 attempt (ConnectionError)")


def test_loopback_not_allow_listed_is_refused_before_connecting(api: tuple[FakeApi, str],
                                                                tmp_path: Path) -> None:
    fake, root = api
    settings = load_settings({"store": str(tmp_path / "store"), "base_uri": BASE}, environ={})
    store = open_store(settings)
    before = snapshot(store)
    with pytest.raises(IngestError) as err:
        ingest(store, settings, f"{root}/v1", authority=AUTH)
    host = root.split("//", 1)[1]
    assert str(err.value) == (f"{root}/v1/services?page=1&per_page=100: refused, 127.0.0.1 is a "
                              f"loopback address (127.0.0.1); add {host} to "
                              "LOCALOFFER_ALLOWED_HOSTS if it is a trusted host")
    assert fake.requests == []
    assert snapshot(store) == before


def test_allow_list_is_per_port(api: tuple[FakeApi, str], tmp_path: Path) -> None:
    fake, root = api
    port = int(root.rsplit(":", 1)[1])
    settings = api_settings(tmp_path, f"http://127.0.0.1:{port + 1}")
    store = open_store(settings)
    with pytest.raises(IngestError, match="refused, 127.0.0.1 is a loopback address"):
        ingest(store, settings, f"{root}/v1", authority=AUTH)
    assert fake.requests == []


def test_allow_list_from_the_environment(api: tuple[FakeApi, str], tmp_path: Path) -> None:
    fake, root = api
    host = root.split("//", 1)[1]
    settings = load_settings({"store": str(tmp_path / "store"), "base_uri": BASE},
                             environ={"LOCALOFFER_ALLOWED_HOSTS": f"example.org:443, {host}"})
    store = open_store(settings)
    assert ingest(store, settings, f"{root}/v1", authority=AUTH, details=False).counts["service"] == 7


def test_cli_with_allow_list(api: tuple[FakeApi, str], tmp_path: Path) -> None:
    fake, root = api
    host = root.split("//", 1)[1]
    args = ["--store", str(tmp_path / "store"), "--base-uri", BASE, "ingest", f"{root}/v3",
            "--authority", AUTH, "--output", "json"]
    refused = CliRunner().invoke(main, args, env={"LOCALOFFER_ALLOWED_HOSTS": ""})
    assert refused.exit_code == 1 and "LOCALOFFER_ALLOWED_HOSTS" in refused.stderr
    assert fake.requests == []
    result = CliRunner().invoke(main, args, env={"LOCALOFFER_ALLOWED_HOSTS": host})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["counts"]["service"] == 5


def test_404_is_a_clear_error(api: tuple[FakeApi, str], tmp_path: Path) -> None:
    fake, root = api
    settings = api_settings(tmp_path, root)
    store = open_store(settings)
    before = snapshot(store)
    with pytest.raises(IngestError) as err:
        ingest(store, settings, f"{root}/nowhere", authority=AUTH)
    assert str(err.value) == (f"{root}/nowhere/services?page=1&per_page=100: the server answered HTTP 404; "
                              "expected 200 with an Open Referral JSON page")
    assert snapshot(store) == before


def test_html_body_is_a_clear_error(api: tuple[FakeApi, str], tmp_path: Path) -> None:
    fake, root = api
    settings = api_settings(tmp_path, root)
    store = open_store(settings)
    before = snapshot(store)
    with pytest.raises(IngestError) as err:
        ingest(store, settings, f"{root}/html", authority=AUTH)
    assert str(err.value).startswith(f"{root}/html/services?page=1&per_page=100: this is an HTML or "
                                     "XML page, not JSON")
    assert snapshot(store) == before


def test_failure_on_a_later_page_publishes_nothing(api: tuple[FakeApi, str], tmp_path: Path) -> None:
    fake, root = api
    settings = api_settings(tmp_path, root, http_retries=0)
    store = open_store(settings)
    ingest(store, settings, f"{root}/v1", authority=AUTH, details=False)
    before = snapshot(store)
    fake.v1_count = 8                                     # the source changed ...
    fake.unavailable["/v1/services"] = 0
    fake.routes["/v1/services"] = lambda q: (
        (500, "text/plain", b"boom") if q.get("page") == ["2"] else fake._v1_page(int(q["page"][0])))
    with pytest.raises(IngestError, match=r"page=2&per_page=100: the server answered HTTP 500"):
        ingest(store, settings, f"{root}/v1", authority=AUTH, details=False)
    assert snapshot(store) == before                      # ... but nothing half-done is published


def test_bad_page_document(api: tuple[FakeApi, str], tmp_path: Path) -> None:
    fake, root = api
    fake.routes["/odd/services"] = lambda q: _json({"items": [], "count": 0})
    settings = api_settings(tmp_path, root)
    store = open_store(settings)
    with pytest.raises(IngestError) as err:
        ingest(store, settings, f"{root}/odd", authority=AUTH)
    assert str(err.value).startswith(f"{root}/odd/services?page=1&per_page=100: expected an array of "
                                     "services, a page with 'contents' (HSDS 3.0) or 'content' (ORUK v1)")


def test_detail_errors_keep_the_list_record(api: tuple[FakeApi, str], tmp_path: Path) -> None:
    fake, root = api
    bad = uuid(4)
    fake.routes[f"/v1/services/{bad}"] = lambda q: (200, "text/html", b"<html>oops</html>")
    settings = api_settings(tmp_path, root)
    store = open_store(settings)
    report = ingest(store, settings, f"{root}/v1", authority=AUTH)
    assert report.counts["service"] == 7 and report.rejected == []
    assert select(store, report, f"<{svc(4)}> schema:name ?n")
    assert not select(store, report, f"<{svc(4)}> schema:hoursAvailable ?h")
    assert select(store, report, f"<{svc(5)}> schema:hoursAvailable ?h")


# -- HSDS 3.0 --------------------------------------------------------------------------------

def test_hsds_3_paging_and_details(api: tuple[FakeApi, str], tmp_path: Path) -> None:
    fake, root = api
    settings = api_settings(tmp_path, root)
    store = open_store(settings)
    report = ingest(store, settings, f"{root}/v3", authority=AUTH)
    assert report.rejected == [] and report.counts == {"service": 5}
    assert fake.hits("/v3/services?") == ["/v3/services?page=1&per_page=100",
                                          "/v3/services?page=2&per_page=100"]
    assert len(fake.hits("/v3/services/")) == 5
    rows = select(store, report, "?s a schema:Service ; schema:name ?n", "?n")
    assert sorted(r["n"].value for r in rows) == [f"HSDS service {n}" for n in range(1, 6)]
    # details merged: schedules as opening hours on two days
    rows = select(store, report, f"<{svc(1, 20)}> schema:hoursAvailable ?h . "
                                 "?h a schema:OpeningHoursSpecification ; schema:dayOfWeek ?d")
    assert sorted(r["d"].value for r in rows) == ["https://schema.org/Thursday", "https://schema.org/Tuesday"]
    # service 3 has no detail (404): its list record stands
    assert select(store, report, f"<{svc(3, 20)}> schema:name ?n")
    assert not select(store, report, f"<{svc(3, 20)}> schema:hoursAvailable ?h")
    assert select(store, report, f"<{svc(1, 20)}> schema:provider ?o")


def test_detail_url_quotes_the_id(api: tuple[FakeApi, str], tmp_path: Path) -> None:
    fake, root = api
    page = {"contents": [{"id": "a/b?c", "name": "Odd id", "status": "active"}], "total_pages": 1}
    fake.routes["/odd/services"] = lambda q: _json(page)
    settings = api_settings(tmp_path, root)
    store = open_store(settings)
    report = ingest(store, settings, f"{root}/odd", authority=AUTH)
    assert report.counts["service"] == 1
    assert fake.hits("/odd/services/") == ["/odd/services/a%2Fb%3Fc"]


def test_hsds_3_rejects_bad_records_by_name(api: tuple[FakeApi, str], tmp_path: Path) -> None:
    fake, root = api
    fake.v3_missing_detail = set(range(1, 6))
    page = json.loads(fake._v3_page(1)[2])
    page["contents"][1]["minimum_age"] = "five"
    page["total_pages"] = 1
    fake.routes["/v3/services"] = lambda q: _json(page)
    settings = api_settings(tmp_path, root)
    store = open_store(settings)
    report = ingest(store, settings, f"{root}/v3", authority=AUTH)
    assert report.counts["service"] == 2
    (err,) = report.rejected
    assert err.field == "minimum_age"
    assert err.record == f"{root}/v3/services?page=1&per_page=100 record 2 (id {uuid(2, 20)})"
