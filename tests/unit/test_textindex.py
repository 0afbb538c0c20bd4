"""The text index's query writer and the graphs a SPARQL Update may change."""

from __future__ import annotations

import sqlite3

import pytest

from localoffer.textindex import fts_query, touched_by_update

HOSTILE = ['"', '""', "*", "NEAR(", "NEAR(a b, 2)", "a OR b", "a AND NOT b", "-a", "name:x", "(a",
           "a)", "^a", "a + b", "'; DROP TABLE doc; --", "<script>alert(1)</script>", "{x}", "\\",
           "\u0000", "_"]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_only_words(text):
    query = fts_query(text)
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE fts USING fts5(name, tokenize = 'porter unicode61 remove_diacritics 2')")
    conn.execute("INSERT INTO fts VALUES ('a b name x script alert drop table doc')")
    if query is None:
        return
    # every word is a quoted prefix term: nothing of the input is FTS5 syntax
    assert all(part.startswith('"') and part.endswith('"*') for part in query.split(" "))
    conn.execute("SELECT rowid FROM fts WHERE fts MATCH ?", (query,)).fetchall()


def test_words_are_lowercased_quoted_prefixes():
    assert fts_query("Speech  LANGUAGE") == '"speech"* "language"*'
    assert fts_query("café-au-lait") == '"café"* "au"* "lait"*'
    assert fts_query("  ** () ") is None
    assert fts_query(" ".join(f"w{i}" for i in range(40))).count('"*') == 16


def test_column_filter():
    assert fts_query('a "b', ("name", "description")) == '{name description} : ("a"* "b"*)'
    with pytest.raises(ValueError, match="columns are name, description, provider"):
        fts_query("a", ("doc.iri",))


def test_touched_graphs_of_updates():
    g = "https://x.test/graph/meta"
    assert touched_by_update(f"DELETE WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}", set()) == {g}
    assert touched_by_update(f"WITH <{g}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}", {"a"}) == {"a", g}
    assert touched_by_update("DELETE { GRAPH ?g { ?s ?p ?o } } WHERE { GRAPH ?g { ?s ?p ?o } }", set()) is None
    assert touched_by_update("DROP ALL", set()) is None
    assert touched_by_update("CLEAR NAMED", set()) is None
    assert touched_by_update(f"INSERT DATA {{ GRAPH <{g}> {{ <a:b> <c:d> 1 }} }}", None) is None


@pytest.mark.parametrize("text", HOSTILE)
def test_search_filters_are_only_looked_up(text):
    """Filter values select the services that have them (ignoring case), and nothing else:
    they are only looked up among the kept sets, never written into SQL."""
    from localoffer.publisher.linkeddata.search import Filters, filter_sets

    from localoffer import facets, searchsets

    conn = sqlite3.connect(":memory:")
    conn.executescript(facets.TABLES + "CREATE TABLE info(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                       "CREATE TABLE doc(id INTEGER PRIMARY KEY, graph TEXT, iri TEXT, authority TEXT);")
    conn.executemany("INSERT INTO svc VALUES (?, 'g', ?)", [("s", "s"), ("t", "t")])
    conn.executemany("INSERT INTO facet VALUES ('s', 'g', ?, ?, ?)",
                     [(n, text, text.lower()) for n in ("language", "attendance", "accessibility")]
                     + [("cost", "free", "free")])
    conn.executemany("INSERT INTO facet VALUES ('t', 'g', ?, 'x', 'x')", [("language",), ("attendance",)])
    conn.execute("INSERT INTO service_hours VALUES ('s', 'g', ?, '09:00:00', '17:00:00')",
                 ("https://schema.org/Monday",))
    sets = searchsets.load(conn)
    f = Filters(language=text.upper(), attendance=text, accessibility=text, cost="free", day="Monday",
                time="9:30")
    chosen = filter_sets(sets, f, "https://example.org/")
    assert [name for name, _ in chosen] == ["cost", "day", "language", "attendance", "accessibility"]
    assert all(bits == 1 << sets.number["s"] for _, bits in chosen)
    late = filter_sets(sets, Filters(day="Monday", time="17:00", language="x" + text), "https://example.org/")
    assert [bits for _, bits in late] == [0, 0]
