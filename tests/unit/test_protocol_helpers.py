"""The pure parts of the SPARQL endpoint: protocol datasets for updates, readable syntax
errors, the update guard, content negotiation, and serialising results under the row cap."""

from __future__ import annotations

import csv
import io
import json

import pytest
from localoffer.publisher.conneg import BOOLEAN, GRAPHS, RESULTS, negotiate, prefers_html
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import NotAcceptable
from werkzeug.http import parse_accept_header

from localoffer.errors import QueryError
from localoffer.queryexec import QueryJob, run_query
from localoffer.sparqlguard import apply_using, check_update, explain_syntax_error, with_base
from localoffer.store import open_store


def test_using_parameters_go_before_each_where():
    update = ("PREFIX ex: <http://ex/>\nCLEAR ALL ; INSERT DATA { GRAPH ex:g { ex:a ex:b ex:c } } ;\n"
              "INSERT { GRAPH ex:t { ?s a ex:T } } WHERE { ?s a ex:D { SELECT * WHERE { ?x ?y ?z } } }")
    out = apply_using(update, ["http://u/1"], ["http://n/1"])
    assert out.count("USING <http://u/1> USING NAMED <http://n/1> WHERE") == 1
    assert "{ SELECT * WHERE { ?x ?y ?z } }" in out  # the subquery's WHERE is left alone
    assert apply_using(update, [], []) == update


def test_delete_where_is_spelled_out_to_take_using():
    out = apply_using("DELETE WHERE { ?s ?p ?o }", ["http://u/1"], [])
    assert out == "DELETE { ?s ?p ?o } USING <http://u/1> WHERE { ?s ?p ?o }"


@pytest.mark.parametrize("update", [
    "WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "DELETE { ?s ?p ?o } USING <http://g> WHERE { ?s ?p ?o }",
])
def test_a_dataset_in_both_the_update_and_the_request_is_refused(update):
    with pytest.raises(QueryError, match="one or the other"):
        apply_using(update, [], ["http://n/1"])


def test_syntax_errors_point_at_the_place():
    text = "SELECT ?s\nWHERE { ?s ?p }"
    message = explain_syntax_error(text, "error at 2:15: expected one of LATERAL, SERVICE, [_]")
    lines = message.splitlines()
    assert lines[0] == ("SPARQL syntax error in the query at line 2, column 15: "
                        "expected one of LATERAL, SERVICE, [_]")
    assert lines[1].strip() == "WHERE { ?s ?p }" and lines[2].index("^") == 4 + 14


def test_syntax_errors_keep_the_expected_list_short_and_ignore_our_base():
    expected = ", ".join(f"'{c}'" for c in "abcdefghijklmnopqrstuvwxyz") + ", [\n| '\\u{0370}'..='\\u{037D}']"
    text, shift = with_base("ASK {", "http://127.0.0.1/sparql")
    assert text.startswith("BASE <http://127.0.0.1/sparql> ")
    engine = f"error at 1:{6 + shift}: expected one of {expected}"
    message = explain_syntax_error("ASK {", engine, shift=shift)
    assert "line 1, column 6" in message and message.endswith("^") and len(message) < 200


@pytest.mark.parametrize("update", [
    "LOAD <http://169.254.169.254/latest>",
    "load silent <file:///etc/passwd> INTO GRAPH <http://g>",
    "INSERT { ?s ?p ?o } WHERE { SERVICE <http://a/> { ?s ?p ?o } }",
])
def test_updates_that_would_fetch_urls_are_refused(update):
    with pytest.raises(QueryError, match="refused"):
        check_update(update)


def test_ordinary_updates_pass_the_guard():
    check_update('INSERT DATA { <http://a> <http://b> "LOAD <http://x> and SERVICE" }')


def accept(header: str) -> MIMEAccept:
    return parse_accept_header(header, MIMEAccept)


@pytest.mark.parametrize("header,fmt,expected", [
    ("*/*", None, "application/sparql-results+json"),
    ("", None, "application/sparql-results+json"),
    ("application/sparql-results+xml;q=0.8, text/csv;q=0.9", None, "text/csv"),
    ("text/tab-separated-values; charset=utf-8", None, "text/tab-separated-values"),
    ("*/*", "xml", "application/sparql-results+xml"),
    ("*/*", "text/csv", "text/csv"),
])
def test_results_negotiation(header, fmt, expected):
    assert negotiate(RESULTS, accept(header), fmt)[0] == expected


def test_graph_negotiation_reads_format_names_for_graphs():
    assert negotiate(GRAPHS, accept("*/*"), "xml", graph=True)[0] == "application/rdf+xml"
    assert negotiate(GRAPHS, accept("*/*"), "json", graph=True)[0] == "application/ld+json"
    assert negotiate(GRAPHS, accept("application/n-quads, text/turtle;q=0.5"), None, graph=True)[1] == "nq"


def test_nothing_acceptable_is_406_and_an_unknown_format_400():
    with pytest.raises(NotAcceptable):
        negotiate(BOOLEAN, accept("text/turtle"), None)
    with pytest.raises(QueryError, match="not available"):
        negotiate(BOOLEAN, accept("*/*"), "csv")


def test_browsers_are_told_apart_from_programs():
    browser = accept("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    assert prefers_html(browser, GRAPHS) and not prefers_html(accept("*/*"), GRAPHS)


@pytest.fixture
def filled(settings):
    store = open_store(settings)
    rows = "".join(f'<http://ex/{i}> <http://ex/p> "v{i}"@en .\n' for i in range(30))
    rows += '_:b <http://ex/p> "3"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
    with store.write() as session:
        session.load("http://ex/g", rows.encode(), "nt")
    return store


def test_solutions_are_cut_at_the_limit(filled):
    answer = run_query(filled, QueryJob("SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?o", limit=10))
    data = json.loads(answer.body)
    assert answer.truncated and answer.count == 10 and len(data["results"]["bindings"]) == 10
    whole = run_query(filled, QueryJob("SELECT ?s ?o WHERE { ?s ?p ?o }", result_format="csv", limit=100))
    assert not whole.truncated and len(list(csv.reader(io.StringIO(whole.body.decode())))) == 32


def test_terms_keep_languages_datatypes_and_blank_nodes(filled):
    answer = run_query(filled, QueryJob("SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?o", limit=100))
    cells = [b["o"] for b in json.loads(answer.body)["results"]["bindings"]]
    assert {"type": "literal", "value": "v1", "xml:lang": "en"} in cells
    assert {"type": "literal", "value": "3", "datatype": "http://www.w3.org/2001/XMLSchema#integer"} in cells
    subjects = [b["s"]["type"] for b in json.loads(answer.body)["results"]["bindings"]]
    assert "bnode" in subjects


def test_graphs_are_cut_at_the_limit_too(filled):
    answer = run_query(filled, QueryJob("CONSTRUCT WHERE { ?s ?p ?o }", graph_format="nt", limit=5))
    assert answer.form == "graph" and answer.truncated and len(answer.body.decode().strip().splitlines()) == 5


def test_an_update_the_engine_rejects_is_the_clients_mistake(filled):
    from localoffer.queryexec import Failure, UpdateJob, execute

    before = filled.version()
    reply = execute(filled, UpdateJob("CLEAR GRAPH <http://ex/no-such-graph>"))
    assert isinstance(reply, Failure) and reply.kind == "refused" and "does not exist" in reply.message
    assert filled.version() == before  # nothing was published
