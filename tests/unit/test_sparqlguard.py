"""SERVICE and updates are caught on the query's tokens, not on its raw text."""

from __future__ import annotations

import pytest

from localoffer.errors import QueryError
from localoffer.sparqlguard import check_read_query, looks_like_update, service_targets


@pytest.mark.parametrize("query,targets", [
    ("SELECT * { SERVICE <http://a/> { ?s ?p ?o } }", ["<http://a/>"]),
    ("SELECT * { service silent <http://a/> { ?s ?p ?o } }", ["<http://a/>"]),
    ("SELECT * { SERVICE ?x { ?s ?p ?o } }", ["?x"]),
    ("PREFIX e: <http://a/> SELECT * { Service e:b { ?s ?p ?o } }", ["e:b"]),
    ("SELECT * { ?s ?p 'SERVICE <http://a/>' }", []),
    ('SELECT * { ?s ?p """multi\nSERVICE <http://a/>""" }', []),
    ("SELECT * { ?s ?p ?o } # SERVICE <http://a/>", []),
    ("SELECT ?service { ?service ?p <http://x/SERVICE> }", []),
    ("PREFIX service: <http://a/> SELECT * { ?s service:p ?o }", []),
    ("SELECT * { ?s ?p ?o FILTER(?o < 3) SERVICE <http://b/> { ?s ?p ?o } }", ["<http://b/>"]),
])
def test_service_targets(query, targets):
    assert service_targets(query) == targets


def test_service_refused_unless_allowed():
    q = "SELECT * { SERVICE <http://a/sparql> { ?s ?p ?o } }"
    with pytest.raises(QueryError, match="refused"):
        check_read_query(q)
    check_read_query(q, {"http://a/sparql"})
    with pytest.raises(QueryError):
        check_read_query("SELECT * { SERVICE ?v { ?s ?p ?o } }", {"http://a/sparql"})


@pytest.mark.parametrize("text,expected", [
    ("INSERT DATA { <a:b> <a:c> 1 }", True),
    ("PREFIX x: <http://x/> DELETE WHERE { ?s x:p ?o }", True),
    ("drop graph <http://g>", True),
    ("SELECT * WHERE { ?s ?p 'INSERT' }", False),
    ("# INSERT\nASK {}", False),
])
def test_updates_detected(text, expected):
    assert looks_like_update(text) is expected
