"""A remote store's two time limits, against a store on loopback that takes its time: reads
keep LOCALOFFER_HTTP_TIMEOUT, writes (an update, a graph replaced) have their own, longer
LOCALOFFER_STORE_WRITE_TIMEOUT (replacing a national validation graph on Virtuoso takes
minutes), and each failure says which limit to raise."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from localoffer.config import load_settings
from localoffer.errors import StoreError
from localoffer.store import open_store

DELAY = 1.0


@pytest.fixture(scope="module")
def slow_store() -> Iterator[str]:
    """A SPARQL endpoint answering every request after DELAY seconds (queries with no rows,
    updates and graph uploads with 204)."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(DELAY)
            try:
                if self.path.startswith("/query"):
                    body = b'{"head": {"vars": ["s"]}, "results": {"bindings": []}}'
                    self.send_response(200)
                    self.send_header("Content-Type", "application/sparql-results+json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                else:
                    self.send_response(204)
                    self.end_headers()
            except (BrokenPipeError, ConnectionResetError):  # the client gave up first
                pass

        do_POST = do_PUT = _answer  # noqa: N815

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"sparql+http://127.0.0.1:{server.server_address[1]}/query"
    server.shutdown()
    server.server_close()
    time.sleep(DELAY)  # requests the clients gave up on finish and close their sockets


def store_with(url: str, **limits: float):
    return open_store(load_settings({"store": url, "base_uri": "http://localoffer.test/",
                                     "store_kind": "oxigraph", "http_retries": 0, **limits},
                                    environ={}))


def test_a_slow_write_within_the_write_limit_succeeds(slow_store):
    store = store_with(slow_store, http_timeout=0.3, store_write_timeout=DELAY + 5)
    store.run_update("CLEAR SILENT GRAPH <http://localoffer.test/graph/x>")
    store.put_graph("http://localoffer.test/graph/x", b"<a:b> <a:c> <a:d> .\n", "nt")


def test_a_write_past_its_limit_names_the_setting(slow_store):
    store = store_with(slow_store, http_timeout=DELAY + 5, store_write_timeout=0.3)
    with pytest.raises(StoreError) as update:
        store.run_update("CLEAR SILENT GRAPH <http://localoffer.test/graph/x>")
    assert "within 0.3 s" in str(update.value) and "may still take effect" in str(update.value)
    assert "LOCALOFFER_STORE_WRITE_TIMEOUT" in str(update.value)
    with pytest.raises(StoreError, match="LOCALOFFER_STORE_WRITE_TIMEOUT"):
        store.put_graph("http://localoffer.test/graph/x", b"<a:b> <a:c> <a:d> .\n", "nt")


def test_a_read_past_its_limit_names_the_setting(slow_store):
    store = store_with(slow_store, http_timeout=0.3, store_write_timeout=DELAY + 5)
    with pytest.raises(StoreError, match=r"did not answer within 0\.3 s \(LOCALOFFER_HTTP_TIMEOUT\)"):
        list(store.query("SELECT ?s WHERE { ?s ?p ?o }"))
