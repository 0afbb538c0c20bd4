"""RDF files pass through into their source graph unchanged (parsed, so bad RDF is refused)."""

from __future__ import annotations

import json

import io

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from localoffer.errors import IngestError
from localoffer.ingest.pipeline import ingest

TTL = """@prefix schema: <https://schema.org/> .
<https://other.example/id/service/1> a schema:Service ; schema:name "Speech and language therapy"@en ;
    schema:description "Line one\\nLine \\"two\\"" .
"""


@pytest.mark.parametrize("suffix,fmt,text", [
    (".ttl", "turtle", TTL),
    (".nt", "nt", None),
    (".jsonld", "json-ld", None),
])
def test_rdf_files_pass_through(store, settings, tmp_path, suffix, fmt, text):
    source = rdflib.Graph().parse(data=TTL, format="turtle")
    path = tmp_path / f"offer{suffix}"
    path.write_text(text if text else source.serialize(format=fmt))
    report = ingest(store, settings, str(path), authority="E06000023")
    assert report.triples == 3
    buf = io.BytesIO()
    store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{report.graph}> {{ ?s ?p ?o }} }}"
                ).serialize(buf, ox.RdfFormat.N_TRIPLES)
    g = rdflib.Graph().parse(data=buf.getvalue(), format="nt")
    assert isomorphic(g, source)
    again = ingest(store, settings, str(path), authority="E06000023")
    assert again.unchanged


def test_bad_rdf_is_refused_and_nothing_changes(store, settings, tmp_path):
    good = tmp_path / "a.ttl"
    good.write_text(TTL)
    ingest(store, settings, str(good), authority="E06000023")
    version = store.version()
    bad = tmp_path / "b.ttl"
    bad.write_text(TTL.replace(" .\n", " \n", 1))
    with pytest.raises(IngestError, match="b.ttl"):
        ingest(store, settings, str(bad), authority="E06000023")
    assert store.version() == version
    assert json.dumps(store.named_graphs())
