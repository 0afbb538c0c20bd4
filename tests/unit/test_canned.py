"""Canned queries: headers, safe parameter binding (hostile values stay literals), every
shipped query parses, and the CLI library function."""

from __future__ import annotations

import io
import json

import pyoxigraph as ox
import pytest

from localoffer.canned import (
    CannedQuery,
    Param,
    bind,
    load_queries,
    parse_assignments,
    parse_query_file,
    parse_value,
    run_canned,
    where_brace,
)
from localoffer.errors import NotFoundError, QueryError

BASE = "https://localoffer.test"
HOSTILE = '"} ; DROP ALL #'
ECHO = parse_query_file("echo", "# title: Echo\n# description: Returns its parameter.\n"
                                "# param: x string *\nSELECT ?x WHERE { }\n")


def run_on_empty(text: str) -> list[dict[str, object]]:
    result = ox.Store().query(text)
    return [{v.value: row[v.value] for v in result.variables} for row in result]


def test_header_is_read():
    q = parse_query_file("t", "# title: A title\n# description: one\n# description: two\n"
                              "# param: authority authority *\n# param: age decimal 16\nSELECT * WHERE { }")
    assert q.title == "A title" and q.description == "one two"
    assert q.params == (Param("authority", "authority", "*"), Param("age", "decimal", "16"))


@pytest.mark.parametrize("header", ["# param: x", "# param: x colour 1", "# param: 9x string 1"])
def test_bad_headers_name_the_file_and_line(header):
    with pytest.raises(QueryError, match=r"queries/bad\.rq line 2"):
        parse_query_file("bad", f"# title: t\n{header}\nSELECT * WHERE {{}}")
    with pytest.raises(QueryError, match="title"):
        parse_query_file("bad", "SELECT * WHERE {}")


@pytest.mark.parametrize("value", [HOSTILE, "x\" } } ; INSERT DATA { <a> <b> <c> } #", "'''", "\\", "é\n\u2028"])
def test_hostile_strings_are_bound_as_literals(value):
    text = bind(ECHO, {"x": value}, BASE)
    rows = run_on_empty(text)
    assert rows == [{"x": ox.Literal(value)}]


def test_typed_values_are_checked():
    assert parse_value(Param("a", "authority"), "e06000023", BASE) == ox.NamedNode(f"{BASE}/id/authority/E06000023")
    assert parse_value(Param("n", "integer"), " 12 ", BASE) == ox.Literal(
        "12", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))
    assert parse_value(Param("c", "concept:need"), "asd", BASE) == ox.NamedNode(
        "https://w3id.org/localoffer/def/scheme/need/asd")
    assert parse_value(Param("a", "authority"), "*", BASE) is None
    for param, bad in ((Param("a", "authority"), "<x>"), (Param("n", "integer"), HOSTILE),
                       (Param("d", "date"), "2024-13-01"), (Param("i", "iri"), "https://a> } #"),
                       (Param("c", "concept:need"), "../x"), (Param("n", "decimal"), "NaN"),
                       (Param("b", "boolean"), "maybe")):
        with pytest.raises(QueryError, match=f"parameter '{param.name}'"):
            parse_value(param, bad, BASE)


def test_unknown_parameters_are_refused():
    with pytest.raises(QueryError, match="has no parameter 'y'"):
        bind(ECHO, {"y": "1"}, BASE)


def test_default_any_is_undef():
    assert run_on_empty(bind(ECHO, {}, BASE)) == [{"x": None}]


def test_where_is_found_past_strings_comments_and_iris():
    text = ('# WHERE { in a comment\nPREFIX w: <http://x/WHERE/>\nSELECT ?somewhere ("WHERE {" AS ?s) '
            "WHERE\n{ ?a ?b ?c }")
    at = where_brace(text)
    assert text[at - 1] == "{" and text[at:].startswith(" ?a")
    with pytest.raises(QueryError):
        where_brace("SELECT * { ?a ?b ?c }")


def test_shipped_queries_parse_and_use_their_parameters():
    queries = load_queries()
    assert len(queries) >= 10
    store = ox.Store()
    for q in queries.values():
        assert q.title and q.description, q.name
        for p in q.params:
            assert f"?{p.name}" in q.text.split("WHERE", 1)[1], (q.name, p.name)
        values = {p.name: ("E06000023" if p.type == "authority" else HOSTILE if p.type == "string" else p.default)
                  for p in q.params}
        result = store.query(bind(q, values, BASE))  # parses and runs
        list(result)


def test_run_canned_writes_csv_and_json():
    import tempfile

    from localoffer.config import load_settings
    from localoffer.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(load_settings({"store": tmp, "base_uri": BASE}, environ={}))
        out = io.BytesIO()
        run_canned(store, "services-in-postcode-district", {"district": HOSTILE}, BASE, "csv", out)
        assert out.getvalue().decode().splitlines()[0] == "authorityName,service,name,placeName,postcode"
        out = io.BytesIO()
        run_canned(store, "services-per-authority", {}, BASE, "json", out)
        assert json.loads(out.getvalue())["results"]["bindings"] == []
        with pytest.raises(NotFoundError, match="no canned query 'nope'"):
            run_canned(store, "nope", {}, BASE, "csv", io.BytesIO())


def test_parse_assignments():
    assert parse_assignments(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(QueryError, match="NAME=VALUE"):
        parse_assignments(["novalue"])


def test_canned_query_is_a_value():
    assert isinstance(ECHO, CannedQuery) and ECHO.params[0].describe() == "text"
