"""The W3C SPARQL 1.1 conformance tests for the Protocol (34), the Graph Store HTTP Protocol
(14) and the Service Description (3), read from their manifests and played against a real
`localoffer serve` process. Update requests go to /update and Graph Store writes carry the
update token, as any client of a protected endpoint would send them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from ..conftest import DATA
from ..servers import free_port, localoffer_cmd, running
from ..w3cmanifest import Target, W3CTest, check_service_description, load_manifest, play

pytestmark = pytest.mark.server
SUITES = DATA / "w3c-sparql11"
TOKEN = "w3c-conformance-token"
PROTOCOL = load_manifest(SUITES / "protocol" / "manifest.ttl", "protocol")
GSP = load_manifest(SUITES / "graph-store-protocol" / "manifest.ttl", "graph-store-protocol")
SERVICE_DESCRIPTION = load_manifest(SUITES / "service-description" / "manifest.ttl", "service-description")


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    tmp = tmp_path_factory.mktemp("w3c")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"LOCALOFFER_STORE": str(tmp / "store"), "LOCALOFFER_BASE_URI": url + "/",
           "LOCALOFFER_UPDATE_TOKEN": TOKEN, "LOCALOFFER_QUERY_TIMEOUT": "20"}
    with running(localoffer_cmd("serve", "--port", str(port), "--workers", "2", "--threads", "2"),
                 url + "/sparql", env=env, log=tmp / "serve.log"):
        yield Target(url, TOKEN)


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def test_the_manifests_hold_every_test():
    assert (len(PROTOCOL), len(GSP), len(SERVICE_DESCRIPTION)) == (34, 14, 3)


@pytest.mark.parametrize("test", PROTOCOL + GSP, ids=lambda t: t.id)
def test_w3c_http_exchange(test: W3CTest, target: Target, http: requests.Session):
    play(test, target, http)


@pytest.mark.parametrize("test", SERVICE_DESCRIPTION, ids=lambda t: t.id)
def test_w3c_service_description(test: W3CTest, target: Target, http: requests.Session):
    data = next(t for t in PROTOCOL if t.name == "query_dataset_full")
    play(W3CTest("setup", "load", "", "", [], data.graph_data), target, http)  # a few named graphs
    check_service_description(test.name, target.base + target.query_path, http)
