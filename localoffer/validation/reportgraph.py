"""The SHACL validation report (sh:ValidationReport) rebuilt from findings, with a
dcterms:source per result, and the DQV completeness measurements beside it. Focus sets return
findings rather than report graphs, so this is how their report is made; plain graph runs use it
too, so every report has the same form."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.namespace import SH
from rdflib.term import BNode, Literal, URIRef

from localoffer import namespaces as ns
from localoffer.validation.core import SEVERITIES, Finding, ValidationResult, load_shapes, rules

_SH = ns.SH
_A = ox.NamedNode(ns.RDF + "type")


def _ox(term: tuple[str, ...], bnodes: dict[str, ox.BlankNode]) -> Any:
    kind = term[0]
    if kind == "iri":
        return ox.NamedNode(term[1])
    if kind == "bnode":
        return bnodes.setdefault(term[1], ox.BlankNode())
    text, lang, datatype = term[1], term[2], term[3]
    if lang:
        return ox.Literal(text, language=lang)
    return ox.Literal(text, datatype=ox.NamedNode(datatype) if datatype else None)


def _copy_path(
    shapes: rdflib.Graph, node: Any, out: list[ox.Triple], prefix: str | None, counter: list[int]
) -> Any:
    """Copy a SHACL path (IRI or blank-node structure) from the shapes graph into *out*; its
    nodes are named {prefix}-{n} (the same names every time), or blank without a prefix."""
    if isinstance(node, URIRef):
        return ox.NamedNode(str(node))
    if isinstance(node, Literal):
        return ox.Literal(str(node))
    counter[0] += 1
    here = ox.NamedNode(f"{prefix}-{counter[0]}") if prefix else ox.BlankNode()
    for p, o in sorted(shapes.predicate_objects(node)):
        out.append(ox.Triple(here, ox.NamedNode(str(p)), _copy_path(shapes, o, out, prefix, counter)))
    return here


def report_graph_iri(base: str, authority: str | None) -> str:
    """The validation graph of an authority's report (`all`: a whole-store run)."""
    return ns.graph_iri(base, "validation", authority or "all")


def result_iri(graph: str, f: Finding) -> str:
    """A stable IRI for one result in the stored report (the same finding, the same IRI), so
    an incremental run can delete and add single results."""
    digest = hashlib.sha1(repr(f.key).encode("utf-8")).hexdigest()[:20]
    return f"{graph}#result-{digest}"


def path_nodes(graph: str, shape: str) -> list[str]:
    """The IRIs of the stored copy of *shape*'s complex path in the report *graph*."""
    path = load_shapes().value(URIRef(shape), SH.path)
    if path is None or isinstance(path, URIRef):
        return []
    out: list[ox.Triple] = []
    _copy_path(load_shapes(), path, out, f"{graph}#path-{shape.rsplit('#', 1)[-1]}", [0])
    return sorted({t.subject.value for t in out if isinstance(t.subject, ox.NamedNode)})


def report_triples(
    result: ValidationResult, *, base: str | None = None, only: Iterable[Finding] | None = None
) -> list[ox.Triple]:
    """The report as pyoxigraph triples: the report node, then each result (by severity, rule and
    focus node) with its path structure; then the DQV measurements. With *base* (the store's),
    the report, its results and their paths get IRIs in the validation graph; without it, blank
    nodes. With *only*, just the report node, those results and the measurements."""
    shapes = load_shapes()
    known = rules(shapes)
    N = ox.NamedNode
    out: list[ox.Triple] = []
    base = base or result.stats.get("base")
    graph = report_graph_iri(base, result.authority) if base else None
    report = N(f"{graph}#report") if graph else ox.BlankNode()
    out.append(ox.Triple(report, _A, N(_SH + "ValidationReport")))
    out.append(
        ox.Triple(
            report,
            N(_SH + "conforms"),
            ox.Literal("true" if result.conforms else "false", datatype=N(ns.XSD + "boolean")),
        )
    )
    if result.created:
        out.append(
            ox.Triple(
                report, N(ns.DCTERMS + "created"), ox.Literal(result.created, datatype=N(ns.XSD + "dateTime"))
            )
        )
    if result.authority:
        subject = N(ns.authority_iri(base, result.authority)) if base else ox.Literal(result.authority)
        out.append(ox.Triple(report, N(ns.DCTERMS + "subject"), subject))
    bnodes: dict[str, ox.BlankNode] = {}
    paths: dict[str, Any] = {}
    results: list[ox.Triple] = []
    chosen = result.findings if only is None else list(only)
    for f in sorted(chosen, key=lambda f: (SEVERITIES.index(f.severity), f.shape, f.focus)):
        r = N(result_iri(graph, f)) if graph else ox.BlankNode()
        out.append(ox.Triple(report, N(_SH + "result"), r))  # the report's triples come first
        res = results
        res += [
            ox.Triple(r, _A, N(_SH + "ValidationResult")),
            ox.Triple(r, N(_SH + "focusNode"), _ox(f.focus_term or ("iri", f.focus), bnodes)),
            ox.Triple(r, N(_SH + "resultSeverity"), N(_SH + f.severity)),
            ox.Triple(r, N(_SH + "sourceShape"), N(f.shape)),
            ox.Triple(r, N(_SH + "resultMessage"), ox.Literal(f.message)),
        ]
        if f.component:
            res.append(ox.Triple(r, N(_SH + "sourceConstraintComponent"), N(f.component)))
        if f.value_term is not None:
            res.append(ox.Triple(r, N(_SH + "value"), _ox(f.value_term, bnodes)))
        if f.path_term is not None:
            if f.path_term[0] == "shape":
                if f.shape not in paths:  # a complex path is copied once per rule and shared
                    path = shapes.value(URIRef(f.shape), SH.path)
                    prefix = f"{graph}#path-{f.shape.rsplit('#', 1)[-1]}" if graph else None
                    paths[f.shape] = _copy_path(shapes, path, res, prefix, [0]) if path is not None else None
                if paths[f.shape] is not None:
                    res.append(ox.Triple(r, N(_SH + "resultPath"), paths[f.shape]))
            else:
                res.append(ox.Triple(r, N(_SH + "resultPath"), _ox(f.path_term, bnodes)))
        rule = known.get(URIRef(f.shape))
        for source in rule.sources if rule else ():
            res.append(ox.Triple(r, N(ns.DCTERMS + "source"), N(source)))
    out += results
    if result.completeness:
        from localoffer.validation.quality import measurement_triples

        out += measurement_triples(
            result.completeness,
            graph=graph,
            authority_iri=ns.authority_iri(base, result.authority) if base and result.authority else None,
            computed_on=result.graphs,
            created=result.created,
        )
    return out


def report_ntriples(
    result: ValidationResult, *, base: str, only: Iterable[Finding] | None = None
) -> bytes:
    """The triples of `report_triples(result, base=base, only=only)` as N-Triples, written as
    text: a council's ~12,000 results are ~114,000 triples, and making each one a pyoxigraph
    object to serialise it cost ~1 s of the worker's ~6. A result's lines that depend on its
    rule alone (severity, shape, message, component, sources, the shape's path) are written
    once per rule and reused; terms are written by pyoxigraph (its escaping), once each."""
    shapes = load_shapes()
    known = rules(shapes)
    graph = report_graph_iri(base, result.authority)
    chosen = result.findings if only is None else list(only)
    text: dict[tuple[str, ...], str] = {}
    labels: dict[str, str] = {}

    def nt(term: tuple[str, ...]) -> str:
        found = text.get(term)
        if found is None:
            if term[0] == "bnode":  # a label of our own (pyoxigraph's are hex), one per node
                found = labels.setdefault(term[1], f"_:z{len(labels)}")
            else:
                found = str(_ox(term, {}))
            text[term] = found
        return found

    report = f"<{graph}#report>"
    has_result = f" <{_SH}result> "
    tails: dict[tuple[Any, ...], str] = {}
    paths: list[ox.Triple] = []  # the complex paths' structures, one copy per rule
    path_nodes_: dict[str, Any] = {}
    lines: list[str] = []
    results: list[str] = []
    for f in chosen:
        r = f"<{result_iri(graph, f)}>"
        lines.append(f"{report}{has_result}{r} .\n")
        key = (f.shape, f.severity, f.message, f.component, f.path_term)
        tail = tails.get(key)
        if tail is None:
            tail = tails[key] = _tail(shapes, known, graph, f, paths, path_nodes_, nt)
        results.append(f"{r} <{ns.RDF}type> <{_SH}ValidationResult> .\n"
                       f"{r} <{_SH}focusNode> {nt(f.focus_term or ('iri', f.focus))} .\n")
        if f.value_term is not None:
            results.append(f"{r} <{_SH}value> {nt(f.value_term)} .\n")
        results.append(tail.replace("\0", r))
    # the report node and the measurements, as report_triples writes them
    rest = report_triples(result, base=base, only=()) + paths
    return ox.serialize(rest, format=ox.RdfFormat.N_TRIPLES) + "".join(lines + results).encode("utf-8")


def _tail(shapes: rdflib.Graph, known: dict[URIRef, Any], graph: str, f: Finding, paths: list[ox.Triple],
          path_node: dict[str, Any], nt: Callable[[tuple[str, ...]], str]) -> str:
    """The lines every result of *f*'s rule, severity, message, component and path has, with
    NUL where the result's IRI goes (NUL cannot occur in N-Triples)."""
    pairs = [(f"<{_SH}resultSeverity>", f"<{_SH}{f.severity}>"),
             (f"<{_SH}sourceShape>", nt(("iri", f.shape))),
             (f"<{_SH}resultMessage>", str(ox.Literal(f.message)))]
    if f.component:
        pairs.append((f"<{_SH}sourceConstraintComponent>", nt(("iri", f.component))))
    if f.path_term is not None:
        if f.path_term[0] == "shape":
            if f.shape not in path_node:
                path = shapes.value(URIRef(f.shape), SH.path)
                prefix = f"{graph}#path-{f.shape.rsplit('#', 1)[-1]}"
                copied = _copy_path(shapes, path, paths, prefix, [0]) if path is not None else None
                path_node[f.shape] = copied
            if path_node[f.shape] is not None:
                pairs.append((f"<{_SH}resultPath>", str(path_node[f.shape])))
        else:
            pairs.append((f"<{_SH}resultPath>", nt(f.path_term)))
    rule = known.get(URIRef(f.shape))
    for source in rule.sources if rule else ():
        pairs.append((f"<{ns.DCTERMS}source>", nt(("iri", source))))
    return "".join(f"\0 {p} {o} .\n" for p, o in pairs)


def report_graph(result: ValidationResult) -> rdflib.Graph:
    """The report as an rdflib graph."""
    graph = rdflib.Graph()
    bnodes: dict[ox.BlankNode, BNode] = {}

    def term(t: Any) -> Any:
        if isinstance(t, ox.NamedNode):
            return URIRef(t.value)
        if isinstance(t, ox.BlankNode):
            return bnodes.setdefault(t, BNode())
        if t.language:
            return Literal(t.value, lang=t.language)
        dt = t.datatype.value if t.datatype else None
        return Literal(t.value) if dt in (None, ns.XSD + "string") else Literal(t.value, datatype=dt)

    graph.addN((term(t.subject), term(t.predicate), term(t.object), graph) for t in report_triples(result))
    return graph
