"""Pure parts of federation: finding SERVICE clauses and checking their targets, the change
set of two runs, records and their owned triples, applying a change feed."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from localoffer.errors import QueryError
from localoffer.federation.changes import change_set
from localoffer.federation.records import Index, apply_changes, feed_url, record_digests
from localoffer.federation.remote import Policy
from localoffer.federation.service import check_services, clauses, prologue

POLICY = Policy(frozenset({"127.0.0.1:8001", "neighbour.test:443"}), frozenset({"127.0.0.1:8001"}))


def test_service_clauses_are_found_past_strings_comments_and_nested_braces():
    text = """PREFIX s: <https://schema.org/>
    SELECT * WHERE { ?x s:name "SERVICE <http://127.0.0.1:1/> { }" # SERVICE <http://x/> {
      SERVICE SILENT <http://127.0.0.1:8001/sparql> { ?x s:name ?n . { ?x ?p "}" }
        SERVICE <http://in.test/> { ?a ?b ?c } }
      OPTIONAL { SERVICE <https://neighbour.test/sparql> { ?x ?q ?r } } }"""
    found = clauses(text)
    assert [(c.endpoint, c.silent) for c in found] == [
        ("http://127.0.0.1:8001/sparql", True),
        ("https://neighbour.test/sparql", False),
    ]
    assert found[0].pattern.startswith("{ ?x s:name ?n") and found[0].pattern.endswith("?c } }")
    assert "SERVICE <http://in.test/>" in found[0].pattern  # nested: travels to the endpoint
    assert prologue(text) == "PREFIX s: <https://schema.org/>"


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("SELECT * { SERVICE ?endpoint { ?s ?p ?o } }", r"SERVICE \?endpoint is refused: a variable"),
        (
            "PREFIX e: <http://127.0.0.1:8001/> SELECT * { SERVICE e:sparql { ?s ?p ?o } }",
            "not a prefixed name",
        ),
        (
            "SELECT * { SERVICE <http://127.0.0.1:8002/sparql> { ?s ?p ?o } }",
            "127.0.0.1:8002 is not on the allow-list",
        ),
        ("SELECT * { SERVICE <http://169.254.169.254/latest/> { ?s ?p ?o } }", "not on the allow-list"),
        ("SELECT * { SERVICE <file:///etc/passwd> { ?s ?p ?o } }", "only http:// and https://"),
        ("SELECT * { SERVICE <sparql> { ?s ?p ?o } }", "only http:// and https://"),
        ("SELECT * { ?s ?p ?o } # fine\n SERVICE", "must be followed by the endpoint"),
    ],
)
def test_service_targets_that_are_refused(query, says):
    with pytest.raises(QueryError, match=says):
        check_services(query, POLICY)


def test_allow_listed_service_targets_pass():
    assert check_services("SELECT * { SERVICE <http://127.0.0.1:8001/sparql> { ?s ?p ?o } }", POLICY) == {
        "http://127.0.0.1:8001/sparql"
    }
    assert check_services("SELECT * { ?s ?p ?o }", POLICY) == set()


def test_change_set_of_two_runs():
    before = {"service http://a/1": "x", "service http://a/2": "y", "_checksum": "c", "file f.ttl": "z"}
    after = {"service http://a/1": "x", "service http://a/2": "y2", "organization http://a/o": "o"}
    assert change_set(before, after) == [
        ("Create", "organization", "http://a/o"),
        ("Update", "service", "http://a/2"),
    ]
    assert change_set(after, {}) == [
        ("Delete", "organization", "http://a/o"),
        ("Delete", "service", "http://a/1"),
        ("Delete", "service", "http://a/2"),
    ]
    assert change_set(None, {"service http://a/1": "x"}) == [("Create", "service", "http://a/1")]


def _graph(text: str) -> list[ox.Triple]:
    prefix = (
        "@prefix s: <https://schema.org/> . @prefix sv: <http://n.test/id/service/> .\n"
        "@prefix org: <http://n.test/id/organization/> .\n"
    )
    return list(ox.parse((prefix + text).encode(), format=ox.RdfFormat.TURTLE))


NEIGHBOUR = """
sv:1 a s:Service ; s:name "One" ; s:provider org:o ; s:availableChannel sv:1-phone-channel ;
    s:audience sv:1-audience .
sv:1-phone-channel a s:ServiceChannel ; s:servicePhone "0117" .
sv:1-audience a s:PeopleAudience ; s:suggestedMinAge 5 .
sv:2 a s:Service ; s:name "Two" ; s:provider org:o .
org:o a s:Organization ; s:name "Org" .
"""


def test_records_own_their_parts_but_not_other_records():
    index = Index(_graph(NEIGHBOUR))
    owned = {str(t.subject) for t in index.owned(ox.NamedNode("http://n.test/id/service/1"))}
    assert owned == {
        "<http://n.test/id/service/1>",
        "<http://n.test/id/service/1-phone-channel>",
        "<http://n.test/id/service/1-audience>",
    }  # not the organisation
    digests = record_digests(_graph(NEIGHBOUR))
    assert set(digests) == {
        "service http://n.test/id/service/1",
        "service http://n.test/id/service/2",
        "organization http://n.test/id/organization/o",
    }
    renamed = record_digests(_graph(NEIGHBOUR.replace('"Org"', '"Org Ltd"')))
    assert [k for k in digests if digests[k] != renamed[k]] == [
        "organization http://n.test/id/organization/o"
    ]


def test_applying_a_change_feed_gives_the_neighbours_new_graph():
    old = _graph(NEIGHBOUR)
    new_text = NEIGHBOUR.replace('s:name "One"', 's:name "One, renamed"').replace(
        "s:suggestedMinAge 5", "s:suggestedMinAge 6"
    )
    new_text = new_text.replace('sv:2 a s:Service ; s:name "Two" ; s:provider org:o .', "")
    new_text += 'sv:3 a s:Service ; s:name "Three" ; s:provider org:o .\n'
    new = _graph(new_text)
    asked: list[list[str]] = []

    def fetch(roots: list[str]) -> list[ox.Triple]:
        asked.append(roots)
        return new  # the neighbour answers with (at least) the closure of what was asked

    items = [
        {"type": "Create", "object": {"id": "http://n.test/id/service/3"}, "published": "3"},
        {
            "type": "Delete",
            "object": {"id": "http://n.test/id/service/2", "type": "Tombstone"},
            "published": "3",
        },
        {"type": "Update", "object": {"id": "http://n.test/id/service/1"}, "published": "2"},
        {"type": "Create", "object": {"id": "http://n.test/id/service/2"}, "published": "1"},
    ]
    assert apply_changes(old, items, fetch) == set(new)
    assert sorted(asked[0]) == ["http://n.test/id/service/1", "http://n.test/id/service/3"]


def test_feed_url_is_given_or_found_beside_a_localoffer_endpoint():
    assert feed_url("https://n.test/sparql", None) == "https://n.test/changes"
    assert feed_url("https://n.test/sparql", "https://n.test/feed") == "https://n.test/feed"
    assert feed_url("https://n.test/query", None) is None
