"""Keeping a validation result in the store: the report and the DQV measurements in the
authority's validation graph, and the incremental-validation cache in the metadata graph.

After an incremental run only the results that appeared or went are written (each result has
a stable IRI, see reportgraph.result_iri), with the report's verdict, date and measurements;
otherwise the graph is replaced."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from localoffer import namespaces as ns
from localoffer.collector import paused_gc
from localoffer.config import Settings
from localoffer.prepared import Neutral
from localoffer.store import Store, WriteSession
from localoffer.validation import cache as vcache
from localoffer.validation.core import ValidationResult
from localoffer.validation.reportgraph import path_nodes, report_graph_iri, report_ntriples, result_iri

_DQV = "http://www.w3.org/ns/dqv#"


def publish_report(store: Store, settings: Settings, result: ValidationResult) -> str:
    """Keep the report as RDF in the authority's validation graph (replacing the previous one),
    so SPARQL can ask which councils lack what and compare their completeness; returns the
    graph IRI. A focus-set result also leaves its cache for the next incremental run."""
    return publish_reports(store, settings, [result])[0]


def publish_reports(store: Store, settings: Settings, results: list[ValidationResult]) -> list[str]:
    """publish_report for several authorities' results in one write: one new version of the
    store for all of them (each version costs ~0.8 s of opening, counting and pruning beside
    the load itself), all published or none. The graph IRIs, in order."""
    graphs = [report_graph_iri(settings.base, r.authority) for r in results]
    if len(set(graphs)) < len(graphs):  # two results for one graph: one after the other
        return [g for r in results for g in publish_reports(store, settings, [r])]
    with paused_gc():  # ~100,000 report terms each, no cycles: collections would only cost time
        plans: list[_Plan] = []
        try:
            for result in results:
                plans.append(_plan(store, settings, result))
            with store.write() as session:
                _write(session, settings, plans)
        except BaseException:
            for plan in plans:
                if plan.kept_cache is not None:
                    plan.kept_cache.discard()
            raise
        for plan in plans:
            if plan.kept_cache is not None:
                plan.kept_cache.keep()
        return [plan.graph for plan in plans]


def drop_combined_report(store: Store, settings: Settings) -> bool:
    """Remove the report of a whole-store run (`{base}/graph/validation/all`) once every
    authority's report is kept in its own graph, so that SPARQL does not count results twice;
    whether there was one."""
    graph = ns.graph_iri(settings.base, "validation", "all")
    if not bool(store.query(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")):  # not a scan of all graphs
        return False
    with store.write() as session:
        session.drop_graph(graph)
    return True


@dataclass
class _Plan:
    """What publishing one result writes."""

    result: ValidationResult
    graph: str
    body: bytes
    updates: list[str]
    touched: set[str] | None
    kept_cache: vcache.Written | None


def _plan(store: Store, settings: Settings, result: ValidationResult) -> _Plan:
    graph = report_graph_iri(settings.base, result.authority)
    state, records, by_record = vcache.state_of(result)
    previous = result.stats.get("previous_findings")
    if previous is None and result.authority and state is not None:
        # A full run over a report stored with the same shapes: replace only the results that
        # changed (dropping a graph of ~100,000 triples costs Oxigraph some 15 s).
        stored = vcache.read(store, settings, result.authority)
        if stored is not None and stored.shapes == state.shapes:
            previous = [f for fs in stored.findings.values() for f in fs]
    touched: set[str] | None = None  # by difference: the subjects whose triples may change
    if previous is not None and result.authority:
        old = {f.key: f for f in previous}
        new = {f.key: f for f in result.findings}
        gone_findings = [f for k, f in old.items() if k not in new]
        gone = [result_iri(graph, f) for f in gone_findings]
        added = [f for k, f in new.items() if k not in old]
        body = report_ntriples(result, base=settings.base, only=added)
        # A rule with a complex path keeps one copy of it, shared by its results: it goes
        # with the rule's last such result.
        complex_before = {f.shape for f in gone_findings if f.path_term == ("shape",)}
        complex_now = {f.shape for f in result.findings if f.path_term == ("shape",)}
        orphans = [n for shape in sorted(complex_before - complex_now) for n in path_nodes(graph, shape)]
        touched = {f"{graph}#report", *gone, *orphans}
        touched |= _subjects(body)
        touched |= {n for shape in complex_before for n in path_nodes(graph, shape)}
        updates = _forget_header(graph) + _forget_results(graph, gone) + _forget_subjects(graph, orphans)
    else:
        body = result.stats.pop("report_ntriples", None) or report_ntriples(result, base=settings.base)
        updates = []
    kept_cache = None
    if state is not None and state.complete and result.authority:
        kept_cache = (result.stats.pop("kept_cache", None)  # written by the worker (focus._one)
                      or vcache.write(store, result.authority, state, records, by_record))
    return _Plan(result, graph, body, updates, touched, kept_cache)


def _write(session: WriteSession, settings: Settings, plans: list[_Plan]) -> None:
    """Each plan's graph emptied or its changed results removed, then every report and cache
    statement loaded at once (load_graphs), then the derived tables told what changed."""
    meta = ns.graph_iri(settings.base, "meta")
    before: list[int] = []
    cached = 0
    bodies: dict[str, bytes] = {}
    statements: list[bytes] = []
    for plan in plans:
        graph, touched = plan.graph, plan.touched
        if touched is not None:  # what changes is counted, not the whole graph (~0.15 s each)
            touched |= _measurements(session, graph)
            before.append(_count_subjects(session, graph, touched))
        else:
            before.append(_count(session, graph))
        subject = vcache.cache_subject(settings, plan.result.authority)
        cached += _count(session, meta, f"<{subject}> <{ns.LO}validationCache>")
        if not plan.updates:
            session.drop_graph(graph)
        for u in plan.updates:
            session.update(u)
        session.update(vcache.forget_statement(settings, plan.result.authority))
        bodies[graph] = plan.body
        if plan.kept_cache is not None:
            statements.append(vcache.as_ntriples(settings, plan.result.authority, plan.kept_cache.text))
    if statements:
        bodies[meta] = b"".join(statements)
    session.load_graphs(bodies)
    # Reports and the cache are read by no derived table (text index, facets, counts but
    # the triple count): without this, every publish rebuilt those tables for all graphs.
    for plan, n in zip(plans, before, strict=True):
        graph, touched = plan.graph, plan.touched
        after = _count(session, graph) if touched is None else _count_subjects(session, graph, touched)
        session.prepare(graph, Neutral(after - n, fresh=touched is None and n == 0))
    kept = sum(body.count(b"\n") for body in statements)
    session.prepare(meta, Neutral(kept - cached))


def _subjects(ntriples: bytes) -> set[str]:
    """The IRIs that are subjects in *ntriples* (one triple a line, the subject first)."""
    lines = ntriples.splitlines()
    return {line[1 : line.index(b">")].decode("utf-8") for line in lines if line.startswith(b"<")}


def _count(session: WriteSession, graph: str, subject_predicate: str = "?s ?p") -> int:
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ {subject_predicate} ?o }} }}"
    rows = list(session.query(query))
    return int(rows[0]["n"].value)


def _count_subjects(session: WriteSession, graph: str, subjects: set[str], chunk: int = 2000) -> int:
    """The triples of the graph whose subject is one of *subjects*."""
    ordered, n = sorted(subjects), 0
    for i in range(0, len(ordered), chunk):
        values = " ".join(f"<{s}>" for s in ordered[i : i + chunk])
        query = f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?s {{ {values} }} GRAPH <{graph}> {{ ?s ?p ?o }} }}"
        n += int(next(iter(session.query(query)))["n"].value)
    return n


def _measurements(session: WriteSession, graph: str) -> set[str]:
    query = f"SELECT ?m WHERE {{ GRAPH <{graph}> {{ ?m a <{_DQV}QualityMeasurement> }} }}"
    return {r["m"].value for r in session.query(query) if isinstance(r["m"], ox.NamedNode)}


def _forget_subjects(graph: str, iris: list[str]) -> list[str]:
    if not iris:
        return []
    values = " ".join(f"<{r}>" for r in iris)
    return [
        f"DELETE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} "
        f"WHERE {{ VALUES ?s {{ {values} }} GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    ]


def _forget_header(graph: str) -> list[str]:
    report = f"<{graph}#report>"
    return [
        f"DELETE WHERE {{ GRAPH <{graph}> {{ {report} <{ns.SH}conforms> ?c }} }}",
        f"DELETE WHERE {{ GRAPH <{graph}> {{ {report} <{ns.DCTERMS}created> ?d }} }}",
        f"DELETE {{ GRAPH <{graph}> {{ ?m ?p ?o }} }} WHERE {{ GRAPH <{graph}> {{ "
        f"?m a <{_DQV}QualityMeasurement> ; ?p ?o }} }}",
    ]


def _forget_results(graph: str, iris: list[str], chunk: int = 2000) -> list[str]:
    out = []
    for i in range(0, len(iris), chunk):
        values = " ".join(f"<{r}>" for r in iris[i : i + chunk])
        out.append(
            f"DELETE {{ GRAPH <{graph}> {{ <{graph}#report> <{ns.SH}result> ?r . ?r ?p ?o }} }} "
            f"WHERE {{ VALUES ?r {{ {values} }} GRAPH <{graph}> {{ ?r ?p ?o }} }}"
        )
    return out
