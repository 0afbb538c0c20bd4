"""Keeping a validation result in the store: the report and the DQV measurements in the
authority's validation graph, and the incremental-validation cache in the metadata graph."""

from __future__ import annotations

import pyoxigraph as ox

from localoffer import namespaces as ns
from localoffer.config import Settings
from localoffer.store import Store
from localoffer.validation import cache as vcache
from localoffer.validation.core import ValidationResult
from localoffer.validation.reportgraph import report_triples


def publish_report(store: Store, settings: Settings, result: ValidationResult) -> str:
    """Keep the report as RDF in the authority's validation graph (replacing the previous one),
    so SPARQL can ask which councils lack what and compare their completeness; returns the
    graph IRI. A focus-set result also leaves its cache for the next incremental run."""
    graph = ns.graph_iri(settings.base, "validation", result.authority or "all")
    body = ox.serialize(report_triples(result, base=settings.base), format=ox.RdfFormat.N_TRIPLES)
    state, records, by_record = vcache.state_of(result)
    with store.write() as session:
        session.drop_graph(graph)
        session.load(graph, body, "nt")
        session.update(vcache.forget_statement(settings, result.authority))
        if state is not None and state.complete and result.authority:
            text = vcache.encode(state, records, by_record)
            session.load(ns.graph_iri(settings.base, "meta"),
                         vcache.as_ntriples(settings, result.authority, text), "nt")
    return graph
