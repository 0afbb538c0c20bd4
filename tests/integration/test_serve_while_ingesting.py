"""Several gunicorn workers keep answering while `localoffer ingest` writes to the same
embedded store from another process: no errors, every answer is the old version or the new
one (never a mix), and once the ingest has published, the readers see the new data."""

from __future__ import annotations

import os
import subprocess
import threading
import time

import pytest
import requests
from localoffer.ingest.pipeline import ingest

from localoffer.config import load_settings
from localoffer.store import open_store

from ..conftest import BASE, DATA, SAMPLES
from ..servers import free_port, localoffer_cmd, running

pytestmark = pytest.mark.server
COUNT = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a <https://schema.org/Service> }"


def test_readers_answer_throughout_an_ingest(tmp_path):
    store_dir = tmp_path / "store"
    settings = load_settings({"store": str(store_dir), "base_uri": BASE}, environ={})
    ingest(open_store(settings), settings, str(DATA / "feeds" / "bristol-slice.json"), authority="E06000023")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"LOCALOFFER_STORE": str(store_dir), "LOCALOFFER_BASE_URI": BASE}
    seen: list[tuple[float, int, str, str]] = []  # (time, status, count, store version)
    errors: list[str] = []
    stop = threading.Event()

    def read() -> None:
        with requests.Session() as http:
            while not stop.is_set():
                try:
                    r = http.get(url + "/sparql", params={"query": COUNT}, timeout=30,
                                 headers={"Accept": "application/sparql-results+json"})
                    count = r.json()["results"]["bindings"][0]["n"]["value"] if r.ok else r.text
                    seen.append((time.monotonic(), r.status_code, count, r.headers.get("ETag", "")))
                except Exception as exc:  # noqa: BLE001 - every failure is a finding
                    errors.append(repr(exc))
                time.sleep(0.05)  # steady readers, leaving the writer its share of the machine

    with running(localoffer_cmd("serve", "--port", str(port), "--workers", "2", "--threads", "2"),
                 url + "/", env=env, log=tmp_path / "serve.log"):
        readers = [threading.Thread(target=read) for _ in range(3)]
        for t in readers:
            t.start()
        time.sleep(0.5)
        started = time.monotonic()
        feed = str(SAMPLES / "bristol-services-2024-12.json")
        writer = subprocess.run(localoffer_cmd("ingest", feed, "--authority", "E06000023"),
                                env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
        finished = time.monotonic()
        time.sleep(1.0)
        stop.set()
        for t in readers:
            t.join(30)
        final = requests.get(url + "/sparql", params={"query": COUNT}, timeout=30,
                             headers={"Accept": "application/sparql-results+json"}).json()

    assert writer.returncode == 0, writer.stderr
    assert errors == []
    assert {status for _, status, _, _ in seen} == {200}
    old, new = seen[0][2], final["results"]["bindings"][0]["n"]["value"]
    assert int(new) > int(old)
    assert {count for _, _, count, _ in seen} <= {old, new}
    during = [s for s in seen if started <= s[0] <= finished]
    assert len(during) >= 10, f"only {len(during)} reads while the ingest ran"
    after = [count for at, _, count, _ in seen if at > finished + 0.5]
    assert after and set(after) == {new}
    # The answers carry the version they were read from: two versions, each with one count.
    by_version: dict[str, set[str]] = {}
    for _, _, count, etag in seen:
        by_version.setdefault(etag.split("-")[0], set()).add(count)
    assert all(len(counts) == 1 for counts in by_version.values()), by_version
