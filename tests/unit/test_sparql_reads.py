"""What a shape's SPARQL can read (compiled.predicates_read): the compiled checker gives the
SPARQL constraints and targets an in-memory copy of only those triples, so a predicate missed
here would change results. Unknowable cases must answer None (copy everything)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from localoffer.validation import compiled
from localoffer.validation.compiled import Index, predicates_read

E = "http://example.org/"
PREFIX = f"PREFIX e: <{E}>\n"


FOUND = [
        ("?s e:a ?o", {"a"}),
        ("?s a e:C", {"http://www.w3.org/1999/02/22-rdf-syntax-ns#type"}),
        ("?s e:a|^e:b ?o . ?o e:c/e:d+ ?z . ?z (e:f|^e:g)+ ?y", {"a", "b", "c", "d", "f", "g"}),
        ("?s e:a ?o ; e:b ?p , ?q", {"a", "b"}),
        ("?s e:a ?o FILTER NOT EXISTS { ?o e:b ?x FILTER EXISTS { ?x e:c ?y } }", {"a", "b", "c"}),
        ("?s e:a ?o OPTIONAL { ?o e:b ?x } MINUS { ?s e:c ?z }", {"a", "b", "c"}),
        ("{ ?s e:a ?o } UNION { ?s e:b ?o } GRAPH ?g { ?s e:c ?x }", {"a", "b", "c"}),
        ("?s e:a ?o { SELECT (COUNT(?x) AS ?n) WHERE { ?y e:b ?x } }", {"a", "b"}),  # (a grouped key is
        # projected through SAMPLE by rdflib: None, which is safe)
        # a variable predicate kept to a list by its group's filter
        ("?s ?p ?o FILTER (?p IN (e:a, e:b) && STR(?o) > '1')", {"a", "b"}),
        ("?s ?p ?o . FILTER (STR(?o) > '1') FILTER (?p IN (e:a))", {"a"}),
]


@pytest.mark.parametrize(("where", "expected"), FOUND)
def test_the_predicates_a_query_names_are_found(where, expected):
    found = predicates_read(f"{PREFIX}SELECT * WHERE {{ {where} }}")
    assert found == {x if ":" in x else E + x for x in expected}


@pytest.mark.parametrize(
    "where",
    [
        "?s ?p ?o",  # any predicate
        "?s ?p ?o FILTER (?p IN (e:a) || STR(?o) = 'x')",  # not a conjunct: ?p may be anything
        "?s ?p ?o FILTER (?p IN (e:a, ?q))",  # a variable in the list
        "?s ?p ?o FILTER (?p != e:a)",
        "?s e:a ?o OPTIONAL { ?o ?p ?x } FILTER (?p IN (e:b))",  # the filter is not on ?p's group
        "?s !(e:a) ?o",  # a negated property set
        "?s e:a* ?o",  # a path of length zero matches every node, whatever its triples
        "?s e:a/e:b? ?o",
        "?s e:a ?o { SELECT ?o WHERE { ?o e:b ?x } LIMIT 3 }",  # which rows come first
        "{ SELECT (SAMPLE(?o) AS ?x) WHERE { ?s e:a ?o } }",
        "{ SELECT (GROUP_CONCAT(?o) AS ?x) WHERE { ?s e:a ?o } }",
        "?s e:a\\-b ?o",  # rdflib reads e:a-b with its backslash, Oxigraph without
        "?s e:a ?o SERVICE <http://example.org/sparql> { ?o e:b ?x }",
        "?s e:a ?o FILTER EXISTS { ?o ?p ?x }",
        "this is not SPARQL",
    ],
)
def test_what_cannot_be_told_reads_everything(where):
    assert predicates_read(f"{PREFIX}SELECT * WHERE {{ {where} }}") is None


def test_the_package_shapes_name_what_their_sparql_reads():
    reads = compiled.package_shapes().sparql_predicates
    assert reads is not None
    assert "http://purl.org/dc/terms/temporal" in reads  # only inside a FILTER NOT EXISTS
    assert "https://w3id.org/localoffer/def/hsds#sourceModified" in reads  # only in a FILTER IN
    assert "http://schema.org/name" not in reads


def test_the_sparql_copy_holds_only_what_the_queries_read():
    a, b = ox.NamedNode(E + "a"), ox.NamedNode(E + "b")
    s, o = ox.NamedNode(E + "s"), ox.Literal("x")
    ix = Index([ox.Triple(s, a, o), ox.Triple(s, b, o)])
    ix.reads = frozenset({E + "a"})
    assert list(ix.store().quads_for_pattern(None, None, None)) == [ox.Quad(s, a, o)]
    everything = Index([ox.Triple(s, a, o), ox.Triple(s, b, o)])
    assert len(list(everything.store().quads_for_pattern(None, None, None))) == 2


def test_a_large_authority_gets_the_smaller_copy(monkeypatch):
    s = ox.NamedNode(E + "s")
    triples = [ox.Triple(s, ox.NamedNode(E + f"p{i}"), ox.Literal(str(i))) for i in range(50)]
    monkeypatch.setattr(compiled, "WHOLE_COPY", 100)
    small = Index(triples)
    compiled.findings(small)
    assert small.reads is None  # copying 50 triples costs less than reading the queries
    monkeypatch.setattr(compiled, "WHOLE_COPY", 10)
    large = Index(triples)
    compiled.findings(large)
    assert large.reads == compiled.package_shapes().sparql_predicates


def _data() -> list[ox.Quad]:
    """Each predicate of FOUND's queries and others, between nodes some of which appear only in
    triples of the others (what a copy leaves out)."""
    n = [ox.NamedNode(E + x) for x in ("n1", "n2", "n3", "n4", "only-elsewhere")]
    out = []
    for i, p in enumerate(("a", "b", "c", "d", "f", "g", "other")):
        out.append(ox.Quad(n[i % 4], ox.NamedNode(E + p), n[(i + 1) % 4], ox.DefaultGraph()))
        out.append(ox.Quad(n[(i + 2) % 4], ox.NamedNode(E + p), ox.Literal(str(i)), ox.DefaultGraph()))
    out.append(ox.Quad(n[4], ox.NamedNode(E + "other"), n[0], ox.DefaultGraph()))
    out.append(ox.Quad(n[0], ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                       ox.NamedNode(E + "C"), ox.DefaultGraph()))
    return out


@pytest.mark.parametrize(("where", "expected"), FOUND)
def test_the_query_answers_the_same_on_the_copy(where, expected):
    query = f"{PREFIX}SELECT * WHERE {{ {where} }}"
    reads = predicates_read(query)
    assert reads is not None
    everything, copy = ox.Store(), ox.Store()
    everything.extend(_data())
    copy.extend(q for q in _data() if q.predicate.value in reads)

    def answers(store: ox.Store) -> list[tuple[tuple[str, str], ...]]:
        result = store.query(query)
        names = result.variables
        return sorted(tuple((v.value, str(row[v])) for v in names if row[v] is not None) for row in result)

    assert answers(copy) == answers(everything)
