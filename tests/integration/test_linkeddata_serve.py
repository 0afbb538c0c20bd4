"""The Linked Data site on a real server, with `requests`: 303, conneg, 406, ETag and 304."""

from __future__ import annotations

import gzip

import pytest
import rdflib
import requests
from rdflib import RDF, URIRef

from ..ldfixtures import BASE, SVC_PLAY
from ..ldserver import linked_data_server

pytestmark = pytest.mark.server
SDO = rdflib.Namespace("https://schema.org/")
PLAY = URIRef(f"{BASE.rstrip('/')}/id/service/{SVC_PLAY}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with linked_data_server(tmp_path_factory.mktemp("ldserve")) as url:
        yield url


def test_303_then_conneg(server):
    r = requests.get(f"{server}/id/service/{SVC_PLAY}", headers={"Accept": "text/turtle"},
                     allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/doc/service/{SVC_PLAY}")
    followed = requests.get(f"{server}/id/service/{SVC_PLAY}", headers={"Accept": "text/turtle"}, timeout=10)
    assert followed.status_code == 200 and followed.headers["Content-Type"].startswith("text/turtle")
    assert "Accept" in followed.headers["Vary"]
    g = rdflib.Graph().parse(data=followed.content, format="turtle")
    assert (PLAY, RDF.type, SDO.Service) in g


def test_q_values_and_406(server):
    url = f"{server}/doc/service/{SVC_PLAY}"
    r = requests.get(url, headers={"Accept": "text/turtle;q=0.3, application/rdf+xml;q=0.7"}, timeout=10)
    assert r.headers["Content-Type"].startswith("application/rdf+xml")
    bad = requests.get(url, headers={"Accept": "application/pdf"}, timeout=10)
    assert bad.status_code == 406 and "application/ld+json" in bad.text


def test_etag_and_304(server):
    url = f"{server}/doc/service/{SVC_PLAY}.jsonld"
    first = requests.get(url, timeout=10)
    again = requests.get(url, headers={"If-None-Match": first.headers["ETag"]}, timeout=10)
    assert again.status_code == 304
    dump = requests.get(f"{server}/dumps/localoffer.nq.gz", timeout=30)
    assert dump.status_code == 200 and gzip.decompress(dump.content)
    cached = requests.get(f"{server}/dumps/localoffer.nq.gz", headers={"If-None-Match": dump.headers["ETag"]},
                          timeout=10)
    assert cached.status_code == 304
