"""The N-Triples reading of `localoffer.prepared`: object terms decoded to the values pyoxigraph
reports, and the cases where the prepared rows must not be used."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from localoffer.prepared import PreparedGraph, _time, parse_term
from localoffer.rdfterms import iri, lit, typed

TEXTS = ["plain", 'with "quotes" and \\ backslash', "tab\tnew\nline\r", "bell\x07 and \x7f",
         "accents é ü 漢字 🙂", "", "ends with backslash \\"]


@pytest.mark.parametrize("text", TEXTS)
def test_literals_decode_as_pyoxigraph_reads_them(text):
    for term in (lit(text), lit(text, lang="en-GB"), lit(text, "http://example.org/dt")):
        quad = next(iter(ox.parse(f"<urn:s> <urn:p> {term} .\n".encode(), format=ox.RdfFormat.N_TRIPLES)))
        assert parse_term(term).value == quad.object.value
        assert not parse_term(term).is_iri


def test_iris_and_typed_literals():
    assert parse_term(iri("https://example.org/a b")).value == "https://example.org/a%20b"
    assert parse_term(iri("https://example.org/x")).is_iri
    t = parse_term(typed(5, "decimal"))
    assert (t.value, t.datatype) == ("5.0", "<http://www.w3.org/2001/XMLSchema#decimal>")


@pytest.mark.parametrize("value", ["09:30:00", "09:30:00.5", "09:30:00Z", "09:30:00+01:00", "24:00:00",
                                   "23:59:60", "09:30:00.50"])
def test_times_are_given_as_the_store_gives_them_back(value):
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"),
                      ox.Literal(value, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#time"))))
    expected = next(iter(store.query("SELECT ?o WHERE { ?s ?p ?o }")))["o"].value
    assert _time(typed(value, "time")) == expected


def test_a_graph_with_blank_nodes_is_read_back():
    graph = PreparedGraph("urn:g")
    rdf_type = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    graph.add([f"<urn:s> {rdf_type} <https://schema.org/Service> .\n",
               "<urn:s> <https://schema.org/audience> _:b0 .\n"])
    assert graph.resolve(ox.Store()) is None
