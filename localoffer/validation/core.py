"""Statutory validation: the SHACL shapes in shapes/ run by pySHACL over a Local Offer.

`validate()` checks an rdflib graph; `validate_store()` first gathers one authority's records
(and everything they link to) from the store. Both return a `ValidationResult`: conformance
(no Violation), counts per severity and per rule (with the rule's message and legal citation),
the findings with the names of the records at fault, and pySHACL's report graph.

Speed: pySHACL evaluates SHACL-SPARQL constraints and SPARQL targets with rdflib's SPARQL
engine, which needs tens to hundreds of milliseconds per focus node. The data graph handed to
pySHACL is therefore an rdflib graph whose `query()` answers from an in-memory Oxigraph copy
of the same triples (pre-bound variables passed as SEP-0007 substitutions, the same semantics),
and a constraint asked once per focus node with only $this pre-bound is run once for all of
them when that is provably the same (see `_QueryGraph._batched`). The SHACL Core constraints
are evaluated by pySHACL on rdflib as usual. Bristol's 817 services: ~70 s of CPU with plain
pySHACL, ~7 s here, most of it pySHACL building its ~5,000 results.

`validate_store()` (in `localoffer.validation.focus`) splits an authority into focus sets run in
parallel worker processes, and re-validates only the records that changed since the last run."""

from __future__ import annotations

import datetime as dt
import functools
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH
from rdflib.query import Result
from rdflib.term import BNode, Literal, Node, URIRef, Variable

from localoffer import namespaces as ns
from localoffer.config import Settings
from localoffer.errors import ValidationError
from localoffer.resources import data_files
from localoffer.store import Store

SEVERITIES = ("Violation", "Warning", "Info")
EXIT_OK, EXIT_VIOLATION, EXIT_ERROR = 0, 1, 2

DCT = rdflib.Namespace(ns.DCTERMS)
RDFS = rdflib.Namespace(ns.RDFS)
SCHEMA = rdflib.Namespace(ns.SCHEMA)
LO = rdflib.Namespace(ns.LO)
XSD_STRING = ns.XSD + "string"
# The kinds of record a finding is attributed to (audiences, addresses, phones belong to one).
RECORD_TYPES = (SCHEMA.Service, SCHEMA.Organization, SCHEMA.Place, LO.LocalOffer, LO.LocalAuthority)
_NOT_DATA = ("def", "meta", "links")
SHAPES_NS = "https://w3id.org/localoffer/def/shapes#"
REPORT_PREFIXES = {"sh": ns.SH, "dcterms": ns.DCTERMS, "schema": ns.SCHEMA, "lo": ns.LO, "hsds": ns.HSDS,
                   "los": SHAPES_NS, "xsd": ns.XSD, "rdf": ns.RDF}


@dataclass(frozen=True)
class Rule:
    """One shape that can produce results: what it checks and which law asks for it."""

    shape: str
    label: str
    severity: str
    message: str
    sources: tuple[str, ...]
    comment: str


@dataclass(frozen=True)
class Finding:
    """One validation result, with the record at fault named."""

    shape: str
    severity: str
    focus: str
    record: str
    record_name: str | None
    path: str | None
    value: str | None
    message: str
    # The RDF terms, so the SHACL report can be rebuilt from findings alone: (kind, lexical
    # form, language, datatype) with kind "iri", "bnode" or "literal"; `path_term` is the
    # result path when it is an IRI, or ("shape",) for the shape's own (complex) sh:path.
    focus_term: tuple[str, ...] = ()
    value_term: tuple[str, ...] | None = None
    path_term: tuple[str, ...] | None = None
    component: str = ""

    @functools.cached_property
    def key(self) -> tuple[Any, ...]:
        """What makes two findings the same result (for merging focus sets); computed once."""
        return (self.shape, self.focus_term, self.path_term, self.value_term, self.component, self.message)


@dataclass
class RuleResult:
    """The findings of one rule."""

    rule: Rule
    findings: list[Finding] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.findings)


@dataclass
class ValidationResult:
    """What `validate` found; `conforms` means no Violation (Warnings and Infos allowed)."""

    conforms: bool
    counts: dict[str, int]
    rules: list[RuleResult]
    findings: list[Finding]
    report_graph: rdflib.Graph | None = None
    authority: str | None = None
    records: dict[str, int] = field(default_factory=dict)
    created: str = ""
    seconds: float = 0.0
    # Completeness (see localoffer.validation.quality): filled by validate_store.
    completeness: dict[str, Any] = field(default_factory=dict)
    # The dataset graphs the result was computed on (dqv:computedOn), and run statistics.
    graphs: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def report(self) -> rdflib.Graph:
        """The SHACL validation report as an rdflib graph (built from the findings when the
        validation ran in focus sets)."""
        if self.report_graph is None:
            from localoffer.validation.reportgraph import report_graph

            self.report_graph = report_graph(self)
        return self.report_graph

    @property
    def focus_nodes(self) -> set[str]:
        """The IRIs (or blank node ids) of every node with a finding."""
        return {f.focus for f in self.findings}

    @property
    def exit_code(self) -> int:
        """0 when nothing violates, 1 when something does (2 is for errors; see exit_code())."""
        return EXIT_OK if self.conforms else EXIT_VIOLATION


def exit_code(outcome: ValidationResult | BaseException) -> int:
    """The `validate` command's exit status: 0 no Violation, 1 Violation, 2 error."""
    return EXIT_ERROR if isinstance(outcome, BaseException) else outcome.exit_code


@functools.lru_cache(maxsize=1)
def load_shapes() -> rdflib.Graph:
    """The shapes shipped in the package (shapes/*.ttl), parsed once; treat as read-only."""
    graph = rdflib.Graph()
    for _, part in shape_file_graphs():
        graph += part
        for prefix, namespace in part.namespaces():
            graph.bind(prefix, namespace, override=False)
    return graph


@functools.lru_cache(maxsize=1)
def shape_file_graphs() -> tuple[tuple[str, rdflib.Graph], ...]:
    """Each shapes file (its stem) as an rdflib graph, parsed once. Oxigraph parses the Turtle
    (some 40 times faster than rdflib's parser: ~15 ms against ~0.5 s for the shapes, paid by
    every process that validates); the terms are rdflib's, as rdflib would parse them."""
    out = []
    bnodes: dict[ox.BlankNode, BNode] = {}
    for entry in data_files("shapes", ".ttl"):
        graph = rdflib.Graph()
        try:
            parser = ox.parse(entry.read_bytes(), format=ox.RdfFormat.TURTLE)
            graph.addN((_from_ox(t.subject, bnodes), _from_ox(t.predicate, bnodes),
                        _from_ox(t.object, bnodes), graph) for t in parser)
        except SyntaxError as exc:
            raise ValidationError(f"shapes/{entry.name} is not valid Turtle: {exc}") from None
        for prefix, namespace in (parser.prefixes or {}).items():
            graph.bind(prefix, namespace)
        out.append((entry.name.removesuffix(".ttl"), graph))
    return tuple(out)


def rules(shapes: rdflib.Graph) -> dict[URIRef, Rule]:
    """Every shape with a severity, keyed by its IRI."""
    found: dict[URIRef, Rule] = {}
    for shape, severity in shapes.subject_objects(SH.severity):
        if not isinstance(shape, URIRef):
            continue
        found[shape] = Rule(
            shape=str(shape), label=str(shapes.value(shape, RDFS.label) or _local(shape)),
            severity=_severity(severity), message=str(shapes.value(shape, SH.message) or ""),
            sources=tuple(sorted((str(s) for s in shapes.objects(shape, DCT.source)),
                                 key=lambda s: ("legislation.gov.uk" not in s, s))),
            comment=str(shapes.value(shape, RDFS.comment) or ""))
    return found


def validate(data: rdflib.Graph, *, shapes: rdflib.Graph | None = None,
             authority: str | None = None) -> ValidationResult:
    """Validate *data* against *shapes* (default: the package's shapes) with pySHACL
    (SHACL-AF on, no inference); *authority* labels the result and its report."""
    import pyshacl
    from pyparsing import ParseBaseException
    from pyshacl.errors import ReportableRuntimeError

    started = time.perf_counter()
    shapes = load_shapes() if shapes is None else shapes
    graph = _as_query_graph(data, shapes)
    try:
        _, report, _ = pyshacl.validate(graph, shacl_graph=shapes, advanced=True, inference="none",
                                        allow_warnings=True, inplace=True)
    except (ReportableRuntimeError, SyntaxError, ParseBaseException) as exc:  # bad shapes or queries
        raise ValidationError(f"validation could not run: {exc}") from exc
    if not isinstance(report, rdflib.Graph):
        raise ValidationError(f"validation could not run: {report}")
    known = rules(shapes)
    findings = _findings(report, graph, known)
    _annotate(report, known, authority, data)
    result = assemble(findings, known, authority=authority, records=_record_counts(graph))
    from localoffer.validation.quality import completeness

    services = {str(s) for s in graph.subjects(RDF.type, SCHEMA.Service)}
    result.completeness = completeness(findings, known, services,
                                       has_offer=(None, RDF.type, LO.LocalOffer) in graph)
    result.report_graph = report
    result.seconds = time.perf_counter() - started
    return result


def assemble(findings: list[Finding], known: dict[URIRef, Rule], *, authority: str | None,
             records: dict[str, int]) -> ValidationResult:
    """A ValidationResult from findings: counts, and the findings grouped by rule."""
    findings = sorted(findings, key=_finding_order)
    counts = Counter(f.severity for f in findings)
    by_rule: dict[str, RuleResult] = {}
    for f in findings:
        group = by_rule.get(f.shape)
        if group is None:
            rule = known.get(URIRef(f.shape)) or Rule(f.shape, _local(f.shape), f.severity, f.message, (), "")
            group = by_rule[f.shape] = RuleResult(rule)
        group.findings.append(f)
    ordered = sorted(by_rule.values(), key=lambda r: (SEVERITIES.index(r.rule.severity), -r.count,
                                                       r.rule.label))
    return ValidationResult(
        conforms=counts["Violation"] == 0, counts={s: counts.get(s, 0) for s in SEVERITIES},
        rules=ordered, findings=findings, authority=authority, records=records, created=_now())


def _finding_order(f: Finding) -> tuple[Any, ...]:
    return (SEVERITIES.index(f.severity), f.shape, f.record_name or "", f.focus, f.path or "", f.value or "")


def validate_store(store: Store, settings: Settings, *, authority: str | None = None) -> ValidationResult:
    """Validate one authority's records (those with lo:localAuthority, its lo:LocalOffer, and
    everything they link to) or, without *authority*, all the data in the store."""
    started = time.perf_counter()
    graphs = data_graphs(store, settings)
    if not graphs:
        raise ValidationError("the store holds no data to validate; ingest a source first")
    code = None
    if authority is not None:
        code = authority.strip().upper()
        if not ns.GSS_CODE.match(code):
            raise ValidationError(f"--authority {authority!r} is not an ONS GSS code such as E06000023")
    triples = store.query(_construct(settings, code), default_graph=graphs)
    graph = _QueryGraph.from_oxigraph(triples)
    if code is not None and (None, LO.localAuthority, None) not in graph \
            and (None, RDF.type, LO.LocalOffer) not in graph:
        raise ValidationError(f"the store holds no records for authority {code}; ingest its feed first")
    result = validate(graph, authority=code)
    result.seconds = time.perf_counter() - started
    return result


def data_graphs(store: Store, settings: Settings) -> list[str]:
    """The named graphs holding records: every graph but the ontology, metadata, linksets and
    validation reports."""
    skip = {ns.graph_iri(settings.base, role) for role in _NOT_DATA}
    reports = ns.graph_iri(settings.base, "validation") + "/"
    return [g for g in store.named_graphs() if g not in skip and not g.startswith(reports)]


def _construct(settings: Settings, authority: str | None) -> str:
    if authority is None:
        return "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    a = f"<{ns.authority_iri(settings.base, authority)}>"
    # Roots: the authority's records, its Local Offer and the authority itself; then every
    # node reachable from them along any predicate but rdf:type.
    return f"""
PREFIX lo: <{ns.LO}>
PREFIX dcterms: <{ns.DCTERMS}>
CONSTRUCT {{ ?s ?p ?o }} WHERE {{
  {{ SELECT DISTINCT ?s WHERE {{
      {{ ?root lo:localAuthority {a} }} UNION {{ {a} lo:localOffer ?root }}
      UNION {{ ?root a lo:LocalOffer ; dcterms:publisher {a} }} UNION {{ BIND({a} AS ?root) }}
      ?root (!<{ns.RDF}type>)* ?s .
  }} }}
  ?s ?p ?o .
}}"""


class _QueryGraph(rdflib.Graph):
    """An rdflib graph whose SPARQL queries run on an in-memory Oxigraph copy of its triples.
    The copy is made on the first query and dropped whenever the graph changes."""

    _mirror: tuple[ox.Store, dict[BNode, ox.BlankNode], dict[ox.BlankNode, BNode]] | None = None

    @classmethod
    def from_oxigraph(cls, triples: Iterable[Any]) -> _QueryGraph:
        """A graph (and its Oxigraph copy) from pyoxigraph triples."""
        db = ox.Store()
        graph = cls()
        to_rdflib: dict[ox.BlankNode, BNode] = {}
        quads = []
        for t in triples:
            quads.append(ox.Quad(t.subject, t.predicate, t.object))
        db.extend(quads)
        graph.addN((_from_ox(q.subject, to_rdflib), _from_ox(q.predicate, to_rdflib),
                    _from_ox(q.object, to_rdflib), graph) for q in quads)
        graph._mirror = (db, {v: k for k, v in to_rdflib.items()}, to_rdflib)
        return graph

    def _oxigraph(self) -> tuple[ox.Store, dict[BNode, ox.BlankNode], dict[ox.BlankNode, BNode]]:
        if self._mirror is None:
            to_ox: dict[BNode, ox.BlankNode] = {}
            db = ox.Store()
            db.extend(ox.Quad(oxigraph_term(s, to_ox), oxigraph_term(p, to_ox), oxigraph_term(o, to_ox))
                      for s, p, o in self)
            self._mirror = (db, to_ox, {v: k for k, v in to_ox.items()})
        return self._mirror

    def _changed(self) -> None:
        self._mirror = None
        self.__dict__.pop("_batches", None)

    def add(self, triple: Any) -> Any:
        self._changed()
        return super().add(triple)

    def addN(self, quads: Any) -> Any:  # noqa: N802 (rdflib's name)
        self._changed()
        return super().addN(quads)

    def remove(self, triple: Any) -> Any:
        self._changed()
        return super().remove(triple)

    def query(self, query_object: Any, processor: Any = "sparql", result: Any = "sparql",
              initNs: Any = None, initBindings: Any = None, use_store_provided: bool = True,  # noqa: N803
              **kwargs: Any) -> Any:
        if not isinstance(query_object, str):
            return super().query(query_object, processor, result, initNs, initBindings,
                                 use_store_provided, **kwargs)
        db, to_ox, back = self._oxigraph()
        prefixes = {str(k): str(v) for k, v in (initNs or {}).items()} or None
        bindings = {str(k): v for k, v in (initBindings or {}).items()}
        try:
            if set(bindings) == {"this"} and _BATCHABLE.match(query_object) \
                    and not _NOT_BATCHABLE.search(query_object):
                rows = self._batched(query_object, prefixes, oxigraph_term(bindings["this"], to_ox))
                if rows is not None:
                    return _select_result(*rows, back)
            subs = {ox.Variable(k): oxigraph_term(v, to_ox) for k, v in bindings.items()}
            answer = db.query(query_object, prefixes=prefixes, substitutions=subs or None)
        except SyntaxError:  # not SPARQL as Oxigraph reads it: let rdflib try
            return super().query(query_object, processor, result, initNs, initBindings,
                                 use_store_provided, **kwargs)
        if isinstance(answer, ox.QueryBoolean):
            out = Result("ASK")
            out.askAnswer = bool(answer)
            return out
        if isinstance(answer, ox.QuerySolutions):
            names = [v.value for v in answer.variables]
            return _select_result(names, [[row[n] for n in names] for row in answer], back)
        out = Result("CONSTRUCT")
        out.graph = rdflib.Graph()
        for t in answer:
            out.graph.add((_from_ox(t.subject, back), _from_ox(t.predicate, back), _from_ox(t.object, back)))
        return out

    def _batched(self, text: str, prefixes: dict[str, str] | None,
                 this: Any) -> tuple[list[str], list[list[Any]]] | None:
        """pySHACL asks a SHACL-SPARQL constraint once per focus node with $this pre-bound.
        For a plain SELECT (no aggregates, subqueries or slicing) in which every solution binds
        ?this, that equals running it once with ?this free and keeping the solutions for the
        focus node; do that, and answer each focus node from the grouped solutions. Queries
        that do not qualify (None) are run per focus node."""
        key = (text, tuple(sorted((prefixes or {}).items())))
        cache = self.__dict__.setdefault("_batches", {})
        if key not in cache:
            db = self._oxigraph()[0]
            answer = db.query(text, prefixes=prefixes)
            names = [v.value for v in answer.variables] if isinstance(answer, ox.QuerySolutions) else []
            grouped: dict[Any, list[list[Any]]] | None = defaultdict(list) if "this" in names else None
            if grouped is not None:
                for row in answer:
                    focus = row["this"]
                    if focus is None:
                        grouped = None
                        break
                    grouped[focus].append([row[n] for n in names])
            cache[key] = None if grouped is None else (names, grouped)
        found = cache[key]
        if found is None:
            return None
        names, grouped = found
        return names, grouped.get(this, [])


_BATCHABLE = re.compile(r"^\s*(PREFIX\s+[^\s:]*:\s*<[^>]*>\s*)*SELECT\s", re.I)
_NOT_BATCHABLE = re.compile(r"\b(GROUP\s+BY|HAVING|LIMIT|OFFSET|VALUES|SERVICE|MINUS|COUNT|SUM|MIN|MAX|AVG|"
                            r"SAMPLE|GROUP_CONCAT|AS\s+[?$]this)\b|\{\s*SELECT\b", re.I)


def _select_result(names: list[str], rows: list[list[Any]], back: dict[ox.BlankNode, BNode]) -> Result:
    out = Result("SELECT")
    out.vars = [Variable(n) for n in names]
    out.bindings = [{Variable(n): _from_ox(v, back) for n, v in zip(names, row, strict=True) if v is not None}
                    for row in rows]
    return out


def _as_query_graph(data: rdflib.Graph, shapes: rdflib.Graph) -> _QueryGraph:
    """*data* as a _QueryGraph. pySHACL runs in place (no copy); it only changes the data graph
    for SHACL rules, so a caller's graph is copied when the shapes have rules."""
    if isinstance(data, _QueryGraph):
        return data
    if (None, SH.rule, None) in shapes:
        copy = _QueryGraph()
        copy += data
        return copy
    return _QueryGraph(store=data.store, identifier=data.identifier)


def oxigraph_term(term: Node, bnodes: dict[BNode, ox.BlankNode]) -> Any:
    """The pyoxigraph term for an rdflib term (*bnodes* keeps blank nodes consistent)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return bnodes.setdefault(term, ox.BlankNode())
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)) if term.datatype else None)
    raise ValidationError(f"cannot use {term!r} in a SPARQL query")


def _from_ox(term: Any, bnodes: dict[ox.BlankNode, BNode]) -> Node:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return bnodes.setdefault(term, BNode(term.value))  # the same id in every focus set
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    return Literal(term.value) if datatype == XSD_STRING else Literal(term.value, datatype=datatype)


# -- reading the report ---------------------------------------------------------------------

def _findings(report: rdflib.Graph, data: rdflib.Graph, known: dict[URIRef, Rule]) -> list[Finding]:
    owners: dict[Node, tuple[Node, str | None]] = {}
    paths: dict[tuple[Node, Node], str] = {}  # complex paths are copied into every result
    out = []
    for r in report.subjects(RDF.type, SH.ValidationResult):
        props = dict(report.predicate_objects(r))
        shape, focus = props.get(SH.sourceShape), props.get(SH.focusNode)
        if focus not in owners:
            owners[focus] = _owner(data, focus)
        record, name = owners[focus]
        path, value = props.get(SH.resultPath), props.get(SH.value)
        if path is not None:
            key = (shape, path) if isinstance(path, URIRef) else (shape, SH.resultPath)
            if key not in paths:
                paths[key] = render_path(report, path)
            path = paths[key]
        rule = known.get(shape) if isinstance(shape, URIRef) else None
        message = props.get(SH.resultMessage)
        raw_path = props.get(SH.resultPath)
        out.append(Finding(
            shape=str(shape), severity=_severity(props.get(SH.resultSeverity)), focus=str(focus),
            record=str(record), record_name=name, path=path,
            value=None if value is None or value == focus else str(value),
            message=str(message) if message is not None else (rule.message if rule else ""),
            focus_term=term_tuple(focus), value_term=None if value is None else term_tuple(value),
            path_term=None if raw_path is None else term_tuple(raw_path) if isinstance(raw_path, URIRef)
            else ("shape",),
            component=str(props.get(SH.sourceConstraintComponent) or "")))
    out.sort(key=_finding_order)
    return out


def term_tuple(node: Node) -> tuple[str, ...]:
    """An rdflib term as plain data: ("iri", iri), ("bnode", id) or ("literal", text, lang, datatype)."""
    if isinstance(node, URIRef):
        return ("iri", str(node))
    if isinstance(node, BNode):
        return ("bnode", str(node))
    if isinstance(node, Literal):
        return ("literal", str(node), node.language or "", str(node.datatype or ""))
    return ("literal", str(node), "", "")


def _owner(data: rdflib.Graph, node: Node) -> tuple[Node, str | None]:
    """The record *node* belongs to (itself, or the nearest record linking to it) and its name."""
    frontier, seen = [node], {node}
    for _ in range(4):
        for n in frontier:
            if any((n, RDF.type, t) in data for t in RECORD_TYPES):
                name = data.value(n, SCHEMA.name) or data.value(n, DCT.title)
                return n, str(name) if name is not None else None
        frontier = [s for n in frontier for s in data.subjects(None, n) if s not in seen]
        seen.update(frontier)
    name = data.value(node, SCHEMA.name)
    return node, str(name) if name is not None else None


def render_path(graph: rdflib.Graph, path: Node) -> str:
    """A SHACL property path as SPARQL path syntax with the project's prefixes."""
    if isinstance(path, URIRef):
        return _curie(path)
    for kind, fmt in ((SH.inversePath, "^{}"), (SH.zeroOrMorePath, "{}*"),
                      (SH.oneOrMorePath, "{}+"), (SH.zeroOrOnePath, "{}?")):
        inner = graph.value(path, kind)
        if inner is not None:
            return fmt.format(render_path(graph, inner))
    alternatives = graph.value(path, SH.alternativePath)
    if alternatives is not None:
        return "(" + " | ".join(render_path(graph, p) for p in Collection(graph, alternatives)) + ")"
    if graph.value(path, RDF.first) is not None:
        return "/".join(render_path(graph, p) for p in Collection(graph, path))
    return str(path)


def _curie(iri: Node) -> str:
    text = str(iri)
    for prefix, namespace in ns.PREFIXES.items():
        if text.startswith(namespace) and len(text) > len(namespace):
            return f"{prefix}:{text[len(namespace):]}"
    return f"<{text}>"


def _annotate(report: rdflib.Graph, known: dict[URIRef, Rule], authority: str | None,
              data: rdflib.Graph) -> None:
    """Add to pySHACL's report: dcterms:source per result, and when and for whom it was made."""
    for r, shape in list(report.subject_objects(SH.sourceShape)):
        rule = known.get(shape) if isinstance(shape, URIRef) else None
        for source in rule.sources if rule else ():
            report.add((r, DCT.source, URIRef(source)))
    for node in report.subjects(RDF.type, SH.ValidationReport):
        report.add((node, DCT.created, Literal(_now(), datatype=rdflib.XSD.dateTime)))
        if authority:
            report.add((node, DCT.subject, _authority_node(data, authority) or Literal(authority)))
    for prefix, namespace in REPORT_PREFIXES.items():
        report.bind(prefix, namespace)


def _authority_node(data: rdflib.Graph, code: str) -> Node | None:
    for node in data.subjects(RDF.type, LO.LocalAuthority):
        if str(data.value(node, rdflib.SKOS.notation)) == code:
            return node
    return None


def _record_counts(data: rdflib.Graph) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for kind, cls in (("services", SCHEMA.Service), ("organizations", SCHEMA.Organization),
                      ("locations", SCHEMA.Place), ("local_offers", LO.LocalOffer)):
        counts[kind] = sum(1 for _ in data.subjects(RDF.type, cls))
    return dict(counts)


def _severity(node: Node | None) -> str:
    name = str(node or "").rsplit("#", 1)[-1]
    return name if name in SEVERITIES else "Violation"


def _local(iri: Node | str) -> str:
    return str(iri).rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
