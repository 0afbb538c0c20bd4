"""The SPARQL 1.1 Service Description of the endpoint (sd: vocabulary), as RDF triples."""

from __future__ import annotations

import pyoxigraph as ox

from localoffer.config import Settings

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
PREFIXES = {"sd": SD, "formats": FORMATS, "dcterms": "http://purl.org/dc/terms/",
            "rdfs": "http://www.w3.org/2000/01/rdf-schema#"}
RESULT_FORMATS = ["SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                  "Turtle", "N-Triples", "JSON-LD", "RDF_XML", "N-Quads", "TriG", "N3"]


def _sd(name: str) -> ox.NamedNode:
    return ox.NamedNode(SD + name)


def describe_service(endpoint: str, update_endpoint: str | None, graphs: list[str],
                     settings: Settings) -> list[ox.Triple]:
    """Triples saying what the endpoint at *endpoint* offers: languages, result formats,
    features, the dataset (default graph = union of the named graphs) and its limits."""
    svc = ox.NamedNode(endpoint + "#service")
    dataset = ox.BlankNode()
    default = ox.BlankNode()
    t = [
        ox.Triple(svc, RDF_TYPE, _sd("Service")),
        ox.Triple(svc, _sd("endpoint"), ox.NamedNode(endpoint)),
        ox.Triple(svc, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        ox.Triple(svc, _sd("feature"), _sd("UnionDefaultGraph")),
        ox.Triple(svc, _sd("defaultEntailmentRegime"), ox.NamedNode("http://www.w3.org/ns/entailment/Simple")),
        ox.Triple(svc, ox.NamedNode(PREFIXES["dcterms"] + "title"),
                  ox.Literal("SEND Local Offer open data: SPARQL endpoint", language="en")),
        ox.Triple(svc, ox.NamedNode(PREFIXES["rdfs"] + "comment"), ox.Literal(
            f"Read-only SPARQL 1.1 Query. A query stops after {settings.query_timeout:g} s; results are "
            f"cut at {settings.result_limit} rows or triples, and a cut answer carries the HTTP header "
            "X-LocalOffer-Truncated: true. SERVICE is refused. The default graph is the union of "
            "the named graphs.", language="en")),
        ox.Triple(svc, _sd("defaultDataset"), dataset),
        ox.Triple(dataset, RDF_TYPE, _sd("Dataset")),
        ox.Triple(dataset, _sd("defaultGraph"), default),
        ox.Triple(default, RDF_TYPE, _sd("Graph")),
    ]
    t += [ox.Triple(svc, _sd("resultFormat"), ox.NamedNode(FORMATS + f)) for f in RESULT_FORMATS]
    for name in graphs:
        named, graph = ox.BlankNode(), ox.BlankNode()
        t += [ox.Triple(dataset, _sd("namedGraph"), named), ox.Triple(named, RDF_TYPE, _sd("NamedGraph")),
              ox.Triple(named, _sd("name"), ox.NamedNode(name)), ox.Triple(named, _sd("graph"), graph),
              ox.Triple(graph, RDF_TYPE, _sd("Graph"))]
    if update_endpoint:
        upd = ox.NamedNode(update_endpoint + "#service")
        t += [ox.Triple(upd, RDF_TYPE, _sd("Service")),
              ox.Triple(upd, _sd("endpoint"), ox.NamedNode(update_endpoint)),
              ox.Triple(upd, _sd("supportedLanguage"), _sd("SPARQL11Update")),
              ox.Triple(upd, _sd("defaultDataset"), dataset)]
    return t
