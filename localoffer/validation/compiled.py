"""The shapes compiled into plain Python checks over an in-memory triple index.

pySHACL builds a generic engine per shape and per focus node; for a national run that costs
~20 ms a service. Our shapes use a small part of SHACL Core, so each shape is compiled once
per process into closures over an index of pyoxigraph triples (subject -> predicate ->
objects, and the inverse), and an authority's data is checked in one pass. What is compiled:

* targets: sh:targetClass (with rdfs:subClassOf in the data), sh:targetNode,
  sh:targetSubjectsOf, sh:targetObjectsOf, SHACL-AF SPARQL targets (run by Oxigraph);
* paths: predicate, inverse, sequence, alternative, zero-or-more, one-or-more, zero-or-one;
* constraints: sh:minCount, sh:maxCount, sh:minLength, sh:pattern (+ sh:flags), sh:in,
  sh:hasValue, sh:class, sh:minInclusive, sh:maxInclusive, sh:lessThanOrEquals, sh:or, sh:not,
  sh:qualifiedValueShape with sh:qualifiedMinCount/MaxCount, and SPARQL constraints (SELECT,
  run by Oxigraph once with $this free when that provably equals one run per focus node,
  else once per focus node with $this pre-bound).

Each check reproduces pySHACL's (0.40) own decisions, read from its source: which value a
result carries, its path, message, severity and constraint component, how strings are taken
from literals for patterns, and how literals compare (pySHACL's compare_literal on rdflib
terms). A shape using anything else is not compiled: `Compiled.fallback` holds a shapes graph
in which only those shapes keep their targets, and `findings()` runs pySHACL on it for just
those shapes. tests/integration/test_validate_compiled.py compares both engines result for
result on the real feeds, every shape fixture and a generated authority."""

from __future__ import annotations

import datetime
import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Literal, Node, URIRef

from localoffer import namespaces as ns
from localoffer.validation.core import (
    RECORD_TYPES,
    Finding,
    _curie,
    _from_ox,
    _severity,
    load_shapes,
    render_path,
    term_tuple,
)

_TYPE = ox.NamedNode(ns.RDF + "type")
_SUBCLASS = ox.NamedNode(ns.RDFS + "subClassOf")
_NAME = ox.NamedNode(ns.SCHEMA + "name")
_TITLE = ox.NamedNode(ns.DCTERMS + "title")
_RECORD_TYPES = frozenset(ox.NamedNode(str(t)) for t in RECORD_TYPES)
_STRINGS = {ns.XSD + "string", ns.RDF + "langString"}
# What a compiled shape may say besides its constraints (anything else: not compiled).
_DESCRIPTIVE = {
    RDF.type,
    RDFS.label,
    RDFS.comment,
    SH.message,
    SH.severity,
    SH.path,
    SH.name,
    SH.description,
    SH.order,
    SH.group,
    URIRef(ns.DCTERMS + "source"),
    SH.targetClass,
    SH.targetNode,
    SH.targetSubjectsOf,
    SH.targetObjectsOf,
    SH.target,
    SH.deactivated,
    SH.flags,
    SH.qualifiedMinCount,
    SH.qualifiedMaxCount,
}


class NotCompiled(Exception):
    """A shape uses a SHACL feature this module does not compile."""


WHOLE_COPY = 20_000
"""Up to this many triples the SPARQL copy holds them all; beyond it, only those with a
predicate the queries read (a 3,000-service authority: ~165,000 triples, ~1 s to copy whole)."""


class Index:
    """An authority's triples by subject and by object (pyoxigraph terms)."""

    def __init__(self, triples: Iterable[Any], *, ntriples: bytes | None = None) -> None:
        """*ntriples*: the same triples as N-Triples, when the caller has them (Oxigraph loads
        its SPARQL copy from them ~1.5x faster than from the Python objects). The index by
        object leaves literals out until one is asked for (`referrers`): they are over half
        the objects of a council, nothing but a literal focus node asks for them, and hashing
        them took half the time of making the index."""
        self.out: dict[Any, dict[Any, list[Any]]] = {}
        self.inv: dict[Any, dict[Any, list[Any]]] = {}  # IRIs and blank nodes
        self.by_predicate: dict[Any, list[ox.Triple | ox.Quad]] = defaultdict(list)
        out, inv, by_predicate, literal = self.out, self.inv, self.by_predicate, ox.Literal
        triple, quad = ox.Triple, ox.Quad
        for t in triples:  # the parser's quads are kept as they are: a copy of each cost ~0.5 s
            if type(t) is not quad and type(t) is not triple:  # a query solution's triple
                t = ox.Triple(t.subject, t.predicate, t.object)
            s, p, o = t.subject, t.predicate, t.object
            by_predicate[p].append(t)
            d = out.get(s)
            if d is None:
                d = out[s] = {}
            values = d.get(p)
            if values is None:
                d[p] = [o]
            else:
                values.append(o)
            if type(o) is literal:
                continue
            d = inv.get(o)
            if d is None:
                d = inv[o] = {}
            values = d.get(p)
            if values is None:
                d[p] = [s]
            else:
                values.append(s)
        self._literals: dict[Any, dict[Any, list[Any]]] | None = None
        self._store: ox.Store | None = None
        self.ntriples = ntriples
        # The predicates the SPARQL queries can read (see predicates_read); None: any.
        self.reads: frozenset[str] | None = None
        self._bnodes: dict[ox.BlankNode, Any] = {}
        self._rdflib: dict[Any, Node] = {}

    @property
    def size(self) -> int:
        return sum(map(len, self.by_predicate.values()))

    @property
    def triples(self) -> list[ox.Triple | ox.Quad]:
        return [t for ts in self.by_predicate.values() for t in ts]

    def objects(self, node: Any, p: Any) -> list[Any]:
        d = self.out.get(node)
        return d.get(p, []) if d else []

    def subjects(self, p: Any, node: Any) -> list[Any]:
        d = self.referrers(node)
        return d.get(p, []) if d else []

    def referrers(self, node: Any) -> dict[Any, list[Any]] | None:
        """The subjects that have *node* as an object, by predicate."""
        if type(node) is not ox.Literal:
            return self.inv.get(node)
        if self._literals is None:  # made on the first literal asked for
            self._literals = {}
            for p, ts in self.by_predicate.items():
                for t in ts:
                    o = t.object
                    if type(o) is ox.Literal:
                        self._literals.setdefault(o, {}).setdefault(p, []).append(t.subject)
        return self._literals.get(node)

    def instances(self, cls: Any) -> set[Any]:
        """Nodes of type *cls* or of one of its subclasses (rdfs:subClassOf in the data)."""
        memo = self.__dict__.setdefault("_by_class", {})
        if cls not in memo:
            memo[cls] = self._instances(cls)
        return memo[cls]

    def _instances(self, cls: Any) -> set[Any]:
        classes, frontier = {cls}, [cls]
        while frontier:
            frontier = [s for c in frontier for s in self.subjects(_SUBCLASS, c) if s not in classes]
            classes.update(frontier)
        return {s for c in classes for s in self.subjects(_TYPE, c)}

    def is_instance(self, node: Any, cls: Any) -> bool:
        seen, frontier = set(), list(self.objects(node, _TYPE))
        while frontier:
            c = frontier.pop()
            if c == cls:
                return True
            if c not in seen:
                seen.add(c)
                frontier += self.objects(c, _SUBCLASS)
        return False

    def store(self) -> ox.Store:
        """An in-memory Oxigraph store of the triples (made on first use, for SPARQL): only
        those with a predicate the queries can read, when that is known (`reads`)."""
        if self._store is None:
            self._store = ox.Store()
            if self.reads is not None:  # a few thousand triples, not the ~165,000 of a council
                predicates = [ox.NamedNode(p) for p in sorted(self.reads)]
                self._store.extend(ox.Quad(t.subject, p, t.object) for p in predicates
                                   for t in self.by_predicate.get(p, ()))
            elif self.ntriples is not None:
                self._store.bulk_load(self.ntriples, format=ox.RdfFormat.N_TRIPLES)
            else:
                self._store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in self.triples)
        return self._store

    def rdflib(self, term: Any) -> Node:
        """The rdflib term, as the pySHACL path sees it (rdflib normalises literals)."""
        found = self._rdflib.get(term)
        if found is None:
            found = self._rdflib[term] = _from_ox(term, self._bnodes)
        return found


# -- paths ----------------------------------------------------------------------------------

Path = Callable[[Index, Any], Iterable[Any]]


def _path(sg: rdflib.Graph, node: Node) -> Path:
    if isinstance(node, URIRef):
        p = ox.NamedNode(str(node))
        return lambda ix, n: ix.objects(n, p)
    props = dict(sg.predicate_objects(node))
    if SH.inversePath in props:
        inner = props[SH.inversePath]
        if not isinstance(inner, URIRef):
            raise NotCompiled("inverse of a complex path")
        p = ox.NamedNode(str(inner))
        return lambda ix, n: ix.subjects(p, n)
    if SH.alternativePath in props:
        alts = [_path(sg, x) for x in Collection(sg, props[SH.alternativePath])]
        return lambda ix, n: {v for a in alts for v in a(ix, n)}
    for kind in (SH.zeroOrMorePath, SH.oneOrMorePath, SH.zeroOrOnePath):
        if kind in props:
            return _repeat(_path(sg, props[kind]), kind)
    if RDF.first in props:
        steps = [_path(sg, x) for x in Collection(sg, node)]

        def sequence(ix: Index, n: Any) -> set[Any]:
            nodes = {n}
            for step in steps:
                nodes = {v for m in nodes for v in step(ix, m)}
            return nodes

        return sequence
    raise NotCompiled(f"path {node!r}")


def _repeat(inner: Path, kind: URIRef) -> Path:
    def repeat(ix: Index, n: Any) -> set[Any]:
        found: set[Any] = {n} if kind != SH.oneOrMorePath else set()
        frontier = [n]
        depth = 0
        while frontier and (kind != SH.zeroOrOnePath or depth < 1):
            depth += 1
            nxt = [v for m in frontier for v in inner(ix, m) if v not in found]
            found.update(nxt)
            frontier = nxt
        return found

    return repeat


# -- shapes ---------------------------------------------------------------------------------

# A check gives, for a focus node and its value nodes, the results: (value or None, component,
# result path or None meaning the shape's own path).
Result = tuple[Any, str, Any]
Check = Callable[[Index, Any, set[Any]], list[Result]]


@dataclass
class Shape:
    """One compiled shape."""

    node: Node
    path: Path | None
    path_node: Node | None
    checks: list[Check]

    def values(self, ix: Index, focus: Any) -> set[Any]:
        return set(self.path(ix, focus)) if self.path else {focus}

    def results(self, ix: Index, focus: Any) -> list[Result]:
        values = self.values(ix, focus)
        return [r for check in self.checks for r in check(ix, focus, values)]

    def conforms(self, ix: Index, focus: Any) -> bool:
        values = self.values(ix, focus)
        return not any(check(ix, focus, values) for check in self.checks)


@dataclass
class Target:
    """A top-level shape: its targets and what a result says."""

    shape: Shape
    targets: list[Callable[[Index], Iterable[Any]]]
    severity: str
    message: str
    rendered_path: str | None


@dataclass
class Compiled:
    """The compiled shapes, and a shapes graph for those that could not be compiled."""

    targets: list[Target] = field(default_factory=list)
    fallback: rdflib.Graph | None = None
    not_compiled: list[str] = field(default_factory=list)
    shapes: rdflib.Graph | None = field(default=None, repr=False)

    @functools.cached_property
    def sparql_predicates(self) -> frozenset[str] | None:
        """The predicates any SPARQL query of the shapes can read (None: any; see
        predicates_read), worked out on first use: rdflib parses the queries in ~0.5 s, which
        only pays off on a large authority (see WHOLE_COPY)."""
        return None if self.shapes is None else _sparql_reads(self.shapes)


def _sh(name: str) -> str:
    return ns.SH + name + "ConstraintComponent"


def _compile_shape(sg: rdflib.Graph, node: Node, nested: dict[Node, Shape]) -> Shape:
    if node in nested:
        return nested[node]
    props: dict[URIRef, list[Node]] = defaultdict(list)
    for p, o in sg.predicate_objects(node):
        props[p].append(o)
    path_node = props[SH.path][0] if props.get(SH.path) else None
    shape = Shape(node, _path(sg, path_node) if path_node is not None else None, path_node, [])
    nested[node] = shape
    for p, objs in props.items():
        if p in _DESCRIPTIVE:
            continue
        for o in objs:
            shape.checks.append(_constraint(sg, p, o, props, nested))
    if props.get(SH.deactivated):
        raise NotCompiled("sh:deactivated")
    return shape


def _literal_string(ix: Index, v: Any) -> str:
    """The string pySHACL matches a pattern or measures a length on."""
    if isinstance(v, ox.Literal) and (v.language or v.datatype.value in _STRINGS):
        return v.value
    return str(ix.rdflib(v))


def _constraint(
    sg: rdflib.Graph, p: URIRef, o: Node, props: dict[URIRef, list[Node]], nested: dict[Node, Shape]
) -> Check:
    if p in (SH.minCount, SH.maxCount):
        n, low = int(o), p == SH.minCount
        component = _sh("MinCount" if low else "MaxCount")
        return lambda ix, f, vs: [(None, component, None)] if (len(vs) < n if low else len(vs) > n) else []
    if p == SH.minLength:
        n = int(o)
        return _per_value(
            _sh("MinLength"),
            lambda ix, v: n == 0 or (not isinstance(v, ox.BlankNode) and len(_literal_string(ix, v)) >= n),
        )
    if p == SH.pattern:
        flags = props.get(SH.flags)
        text = str(flags[0]).lower() if flags else ""
        regex = re.compile(str(o), (re.I if "i" in text else 0) | (re.M if "m" in text else 0))
        return _per_value(
            _sh("Pattern"),
            lambda ix, v: not isinstance(v, ox.BlankNode) and bool(regex.search(_literal_string(ix, v))),
        )
    if p == SH["in"]:
        allowed = set(Collection(sg, o))
        return _per_value(_sh("In"), lambda ix, v: ix.rdflib(v) in allowed)
    if p == SH.hasValue:
        component = _sh("HasValue")
        return lambda ix, f, vs: [] if any(ix.rdflib(v) == o for v in vs) else [(None, component, None)]
    if p == SH["class"]:
        cls = ox.NamedNode(str(o))
        return _per_value(_sh("Class"), lambda ix, v: ix.is_instance(v, cls))
    if p in (SH.minInclusive, SH.maxInclusive):
        return _range(p, o)
    if p == SH.lessThanOrEquals:
        return _less_than_or_equals(ox.NamedNode(str(o)))
    if p in (SH["or"], SH["not"]):
        members = [_compile_shape(sg, m, nested) for m in (Collection(sg, o) if p == SH["or"] else [o])]
        if p == SH["or"]:
            return _per_value(_sh("Or"), lambda ix, v: any(m.conforms(ix, v) for m in members))
        return _per_value(_sh("Not"), lambda ix, v: not members[0].conforms(ix, v))
    if p == SH.qualifiedValueShape:
        return _qualified(_compile_shape(sg, o, nested), props)
    if p == SH.sparql:
        return _sparql(sg, o)
    raise NotCompiled(f"constraint {p}")


def _per_value(component: str, ok: Callable[[Index, Any], bool]) -> Check:
    return lambda ix, f, vs: [(v, component, None) for v in vs if not ok(ix, v)]


def compare_literal(l1: Literal, l2: Literal) -> int:
    """pySHACL's comparison of two literals (pyshacl.rdfutil.compare.compare_literal, 0.40,
    Apache-2.0), copied: importing pySHACL for it costs a validation run ~0.5 s."""
    if l1.eq(l2):
        return 0
    # Datetimes and times compare by value, not by rdflib's total order.
    if l1.value.__class__ in (datetime.datetime, datetime.time):
        if l1.value == l2.value:
            return 0
        if l1.value > l2.value:
            return 1
    elif l1 > l2:
        return 1
    return -1


def _range(p: URIRef, bound: Node) -> Check:
    assert isinstance(bound, Literal)
    low = p == SH.minInclusive
    bound_is_string = isinstance(bound.value, str)

    def ok(ix: Index, v: Any) -> bool:
        if not isinstance(v, ox.Literal):
            return False
        lit = ix.rdflib(v)
        if isinstance(lit.value, str) != bound_is_string:
            return False
        try:
            cmp = compare_literal(lit, bound)
        except (TypeError, NotImplementedError):
            return False
        return cmp >= 0 if low else cmp <= 0

    return _per_value(_sh("MinInclusive" if low else "MaxInclusive"), ok)


def _comparable(ix: Index, v: Any) -> tuple[Any, bool]:
    if isinstance(v, ox.BlankNode):
        raise NotCompiled("sh:lessThanOrEquals on a blank node")  # pySHACL raises an error
    t = ix.rdflib(v)
    if isinstance(t, URIRef):
        return str(t), True
    if isinstance(t.value, str):
        return t.value, True
    return t, False


def _less_than_or_equals(other: Any) -> Check:
    component = _sh("LessThanOrEquals")

    def check(ix: Index, f: Any, vs: set[Any]) -> list[Result]:
        out = []
        for v in vs:
            a, a_str = _comparable(ix, v)
            for w in set(ix.objects(f, other)):
                b, b_str = _comparable(ix, w)
                if a_str != b_str or not a <= b:
                    out.append((v, component, None))
        return out

    return check


def _qualified(inner: Shape, props: dict[URIRef, list[Node]]) -> Check:
    if props.get(SH.qualifiedValueShapesDisjoint):
        raise NotCompiled("sh:qualifiedValueShapesDisjoint")
    low = int(props[SH.qualifiedMinCount][0]) if props.get(SH.qualifiedMinCount) else None
    high = int(props[SH.qualifiedMaxCount][0]) if props.get(SH.qualifiedMaxCount) else None

    def check(ix: Index, f: Any, vs: set[Any]) -> list[Result]:
        n = sum(1 for v in vs if inner.conforms(ix, v))
        out = []
        if high is not None and n > high:
            out.append((None, _sh("QualifiedMaxCount"), None))
        if low is not None and n < low:
            out.append((None, _sh("QualifiedMinCount"), None))
        return out

    return check


# -- SHACL-SPARQL -----------------------------------------------------------------------------

_BATCHABLE = re.compile(r"^\s*(PREFIX\s+[^\s:]*:\s*<[^>]*>\s*)*SELECT\s", re.I)
_NOT_BATCHABLE = re.compile(
    r"\b(GROUP\s+BY|HAVING|LIMIT|OFFSET|VALUES|SERVICE|MINUS|COUNT|SUM|MIN|MAX|AVG|"
    r"SAMPLE|GROUP_CONCAT|BIND\s*\([^)]*AS\s+[?$]this|AS\s+[?$]this)\b|"
    r"\{\s*SELECT\b|\$(PATH|currentShape|shapesGraph)\b",
    re.I,
)


def _prefixes(sg: rdflib.Graph, node: Node) -> str:
    lines = []
    for holder in sg.objects(node, SH.prefixes):
        for decl in sg.objects(holder, SH.declare):
            prefix, namespace = sg.value(decl, SH.prefix), sg.value(decl, SH.namespace)
            if prefix is None or namespace is None:
                raise NotCompiled("incomplete sh:declare")
            lines.append(f"PREFIX {prefix}: <{namespace}>")
    return "\n".join(lines) + "\n"


def _select(sg: rdflib.Graph, node: Node) -> str:
    texts = list(sg.objects(node, SH.select))
    if len(texts) != 1 or list(sg.objects(node, SH.message)) or list(sg.objects(node, SH.deactivated)):
        raise NotCompiled("SPARQL constraint with its own message, deactivation or several queries")
    query = _prefixes(sg, node) + str(texts[0])
    try:
        ox.Store().query(query)  # parses it (and runs it on nothing)
    except SyntaxError as exc:
        raise NotCompiled(f"SPARQL that Oxigraph cannot read: {exc}") from None
    return query


class _Unknown(Exception):
    """What a query reads cannot be told from its text."""


def predicates_read(query: str) -> frozenset[str] | None:
    """The predicates of the triples a SPARQL query can read: the IRIs its triple patterns
    and property paths name (FILTER EXISTS and sub-queries included) and, for a variable in
    the predicate position, the IRIs that a `FILTER (?p IN (...) && ...)` on its group allows.
    None when that cannot be told: a variable predicate not so restricted, a negated property
    set, a path that may have length zero (`*`, `?`: it matches every node of the data), SERVICE,
    LIMIT/OFFSET, SAMPLE or GROUP_CONCAT (answers that depend on which solutions come first), an
    IRI written with an escape that rdflib and Oxigraph read differently, or a query rdflib
    cannot read. A copy of the data holding only triples with these predicates gives the query
    the same answers (tests/unit/test_sparql_reads.py compares them)."""
    from rdflib.plugins.sparql import prepareQuery

    try:
        algebra = prepareQuery(query).algebra
    except Exception:  # noqa: BLE001 - whatever rdflib cannot read is read as "any predicate"
        return None
    found: set[str] = set()
    try:
        _reads(algebra, found, {})
    except _Unknown:
        return None
    if any("\\" in iri for iri in found):  # `:a\-b`: rdflib keeps the backslash, Oxigraph does not
        return None
    return frozenset(found)


# SERVICE reads elsewhere; LIMIT/OFFSET, SAMPLE and GROUP_CONCAT may answer from whichever
# solutions come first, which a smaller copy can change.
_NOT_TOLD = frozenset(
    ("ServiceGraphPattern", "Service", "Slice", "Aggregate_Sample", "Aggregate_GroupConcat"))


def _field(node: Any, key: str) -> Any:
    """A part of an rdflib algebra node: as translated (rdflib sets the translated pattern of
    an EXISTS as an attribute, leaving the parsed one in the mapping), else as parsed. (The
    node's own `get` answers a missing key with the key.)"""
    own = vars(node)
    return own[key] if key in own else dict.get(node, key)


def _reads(node: Any, found: set[str], allowed: dict[Any, frozenset[str]]) -> None:
    from rdflib.plugins.sparql.parserutils import CompValue

    if isinstance(node, CompValue):
        if node.name in _NOT_TOLD:
            raise _Unknown
        inner = _field(node, "p")
        if node.name == "Filter" and isinstance(inner, CompValue) and inner.name == "BGP":
            _reads(inner, found, {**allowed, **_restricted(_field(node, "expr"))})
            _reads(_field(node, "expr"), found, allowed)
            return
        for pattern in _field(node, "triples") or ():  # (s, p, o), or s p o s p o ... as parsed
            if len(pattern) % 3:
                raise _Unknown
            for i in range(1, len(pattern), 3):
                _path_reads(pattern[i], found, allowed)
        for key in dict.fromkeys([*dict.keys(node), *vars(node)]):
            if key not in ("triples", "_vars"):
                _reads(_field(node, key), found, {})
    elif isinstance(node, (list, tuple)):
        for value in node:
            _reads(value, found, {})


def _restricted(expr: Any) -> dict[Any, frozenset[str]]:
    """Variables a filter keeps to a list of IRIs: `?v IN (<a>, <b>)` as one of the terms of
    its top-level conjunction (a solution failing it is dropped whatever the rest says)."""
    from rdflib.plugins.sparql.parserutils import CompValue

    out: dict[Any, frozenset[str]] = {}
    stack = [expr]
    while stack:
        e = stack.pop()
        if not isinstance(e, CompValue):
            continue
        if e.name == "ConditionalAndExpression":
            stack += [_field(e, "expr"), *(_field(e, "other") or [])]
        elif (e.name == "RelationalExpression" and _field(e, "op") == "IN"
              and isinstance(_field(e, "expr"), rdflib.Variable) and _field(e, "other")
              and all(isinstance(o, URIRef) for o in _field(e, "other"))):
            out[_field(e, "expr")] = frozenset(str(o) for o in _field(e, "other"))
    return out


def _path_reads(p: Any, found: set[str], allowed: dict[Any, frozenset[str]]) -> None:
    from rdflib import paths

    if isinstance(p, URIRef):
        found.add(str(p))
    elif isinstance(p, rdflib.Variable) and p in allowed:
        found.update(allowed[p])
    elif isinstance(p, (paths.AlternativePath, paths.SequencePath)):
        for arg in p.args:
            _path_reads(arg, found, allowed)
    elif isinstance(p, paths.InvPath):
        _path_reads(p.arg, found, allowed)
    elif isinstance(p, paths.MulPath) and p.mod == paths.OneOrMore:
        _path_reads(p.path, found, allowed)
    else:  # an unrestricted variable, a negated property set, or a path that may have length
        # zero (`*`, `?`): that matches every node of the data, in any triple
        raise _Unknown


def _sparql(sg: rdflib.Graph, node: Node) -> Check:
    query = _select(sg, node)
    body = query.split("\n")[-1]
    batched = bool(_BATCHABLE.match(body)) and not _NOT_BATCHABLE.search(body)
    component = _sh("SPARQL")
    this = ox.Variable("this")

    def rows(ix: Index, f: Any) -> list[dict[str, Any]]:
        if batched:
            cache = ix.__dict__.setdefault("_sparql", {})
            if query not in cache:
                answer = ix.store().query(query)
                names = [v.value for v in answer.variables]
                grouped: dict[Any, list[dict[str, Any]]] | None = (
                    defaultdict(list) if "this" in names else None
                )
                for row in answer:
                    if grouped is None or row["this"] is None:
                        grouped = None
                        break
                    grouped[row["this"]].append({n: row[n] for n in names if row[n] is not None})
                cache[query] = grouped
            if cache[query] is not None:
                return cache[query].get(f, [])
        answer = ix.store().query(query, substitutions={this: f})
        names = [v.value for v in answer.variables]
        return [{n: row[n] for n in names if row[n] is not None} for row in answer]

    def check(ix: Index, f: Any, vs: set[Any]) -> list[Result]:
        out = []
        for row in rows(ix, f):
            if "failure" in row:
                raise NotCompiled("?failure")  # pySHACL reports failures differently
            t, p, v = row.get("this"), row.get("path"), row.get("value")
            if p is None and v is None and t is None:
                continue
            out.append((v, component, p, t))
        return out

    return check  # type: ignore[return-value]


def _sparql_target(sg: rdflib.Graph, node: Node) -> Callable[[Index], Iterable[Any]]:
    if (node, RDF.type, SH.SPARQLTarget) not in sg:
        raise NotCompiled("a custom target type")
    query = _select(sg, node)

    def targets(ix: Index) -> list[Any]:
        return [row["this"] for row in ix.store().query(query) if row["this"] is not None]

    return targets


# -- the shapes graph ---------------------------------------------------------------------------

_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)


def _targets(sg: rdflib.Graph, node: Node) -> list[Callable[[Index], Iterable[Any]]]:
    out: list[Callable[[Index], Iterable[Any]]] = []
    if (node, RDF.type, RDFS.Class) in sg or (node, RDF.type, rdflib.OWL.Class) in sg:
        raise NotCompiled("implicit class target")
    for kind in _TARGETS:
        for o in sg.objects(node, kind):
            if kind == SH.target:
                out.append(_sparql_target(sg, o))
                continue
            term = ox.NamedNode(str(o)) if isinstance(o, URIRef) else None
            if term is None:
                raise NotCompiled("a target that is not an IRI")
            if kind == SH.targetClass:
                out.append(lambda ix, c=term: ix.instances(c))
            elif kind == SH.targetNode:
                out.append(lambda ix, n=term: [n])
            elif kind == SH.targetSubjectsOf:
                out.append(lambda ix, p=term: [t.subject for t in ix.by_predicate.get(p, ())])
            else:
                out.append(lambda ix, p=term: [t.object for t in ix.by_predicate.get(p, ())])
    return out


def compile_shapes(sg: rdflib.Graph) -> Compiled:
    """Compile every shape with a target; the others go to `fallback` (pySHACL)."""
    compiled = Compiled()
    roots = sorted({s for kind in _TARGETS for s in sg.subjects(kind, None)}, key=str)
    fallback: list[Node] = []
    for node in roots:
        try:
            messages = list(sg.objects(node, SH.message))
            if len(messages) != 1 or re.search(r"\{[?$]", str(messages[0])):
                raise NotCompiled("not exactly one message, or a templated one")
            shape = _compile_shape(sg, node, {})
            path = shape.path_node
            rendered = (
                None if path is None else _curie(path) if isinstance(path, URIRef) else render_path(sg, path)
            )
            compiled.targets.append(
                Target(
                    shape,
                    _targets(sg, node),
                    _severity(sg.value(node, SH.severity)),
                    str(messages[0]),
                    rendered,
                )
            )
        except NotCompiled:
            fallback.append(node)
    compiled.shapes = sg
    if fallback:
        keep = rdflib.Graph()
        done = {t.shape.node for t in compiled.targets}
        keep += ((s, p, o) for s, p, o in sg if not (s in done and p in _TARGETS))
        compiled.fallback = keep
        compiled.not_compiled = [str(n) for n in fallback]
    return compiled


def _sparql_reads(sg: rdflib.Graph) -> frozenset[str] | None:
    """What every SPARQL query of the shapes graph can read, together (None: any triple)."""
    found: set[str] = set()
    for node in sorted(set(sg.subjects(SH.select, None)), key=str):
        try:
            query = _prefixes(sg, node)
        except NotCompiled:
            return None
        for text in sg.objects(node, SH.select):
            reads = predicates_read(query + str(text))
            if reads is None:
                return None
            found |= reads
    return frozenset(found)


@functools.lru_cache(maxsize=1)
def package_shapes() -> Compiled:
    """The package's shapes, compiled once per process."""
    return compile_shapes(load_shapes())


# -- running ----------------------------------------------------------------------------------


def findings(triples: Iterable[Any], *, compiled: Compiled | None = None) -> list[Finding]:
    """The results of validating *triples* (pyoxigraph triples), as pySHACL would give them."""
    compiled = package_shapes() if compiled is None else compiled
    ix = triples if isinstance(triples, Index) else Index(triples)
    reads = compiled.sparql_predicates if ix.size > WHOLE_COPY else None
    if ix.reads != reads:
        ix.reads, ix._store = reads, None
    out: list[Finding] = []
    shared: dict[Any, Any] = {}
    for target in compiled.targets:
        shape = target.shape
        focus_nodes: set[Any] = set()
        for t in target.targets:
            focus_nodes.update(t(ix))
        for f in focus_nodes:
            for r in shape.results(ix, f):
                value, component, path = r[0], r[1], r[2]
                focus = r[3] if len(r) > 3 and r[3] is not None else f
                if value is None and shape.path is None:
                    value = focus  # a node shape's result carries its focus node as the value
                out.append(_finding(ix, target, focus, value, component, path, shared))
    if compiled.fallback is not None:
        out += _fallback(ix, compiled.fallback)
    return out


def _finding(
    ix: Index,
    target: Target,
    focus: Any,
    value: Any,
    component: str,
    path: Any,
    shared: dict[Any, Any],
) -> Finding:
    """One result as a Finding. Its strings and term tuples are made once per authority and
    shared (*shared*) by every finding that repeats them: a worker's pickle then holds each
    once, and so does the process keeping every council's findings (~1.1 KB a finding before)."""
    owner = _once(shared, ("owner", focus), lambda: _owner_of(ix, focus, shared))
    focus_text, focus_term = _term(ix, focus, shared)
    value_text, value_term = (None, None) if value is None else _term(ix, value, shared)
    if path is not None:
        path_text, path_term = _once(shared, ("path", path), lambda: _path_of(ix, path))
    elif target.shape.path_node is not None:
        path_text, node = target.rendered_path, target.shape.path_node
        path_term = _once(shared, ("shape path", node),
                          lambda: term_tuple(node) if isinstance(node, URIRef) else ("shape",))
    else:
        path_text, path_term = None, None
    return Finding(
        shape=_shared_str(shared, str(target.shape.node)),
        severity=target.severity,
        focus=focus_text,
        record=owner[0],
        record_name=owner[1],
        path=path_text,
        value=None if value_term is None or value_term == focus_term else value_text,
        message=target.message,
        focus_term=focus_term,
        value_term=value_term,
        path_term=path_term,
        component=_shared_str(shared, component),
    )


def _once(shared: dict[Any, Any], key: Any, make: Callable[[], Any]) -> Any:
    """The value kept under *key*, made the first time."""
    found = shared.get(key)
    if found is None:
        found = shared[key] = make()
    return found


def _owner_of(ix: Index, focus: Any, shared: dict[Any, Any]) -> tuple[str, str | None]:
    record, name = _owner(ix, focus)
    return _shared_str(shared, str(record)), name


def _term(ix: Index, node: Any, shared: dict[Any, Any]) -> tuple[str, tuple[str, ...]]:
    """(text, term tuple) of a node, made once (the text is the tuple's own string)."""
    def make() -> tuple[str, tuple[str, ...]]:
        rdf = ix.rdflib(node)
        t = tuple(_shared_str(shared, x) for x in term_tuple(rdf))
        text = str(rdf)
        return (t[1] if t[1] == text else text, t)
    return _once(shared, ("term", node), make)


def _path_of(ix: Index, path: Any) -> tuple[str, tuple[str, ...]]:
    path_rdf = ix.rdflib(path)
    if isinstance(path_rdf, URIRef):
        return _curie(path_rdf), term_tuple(path_rdf)
    return str(path_rdf), ("shape",)


def _shared_str(shared: dict[Any, Any], text: str) -> str:
    return shared.setdefault(text, text) if isinstance(text, str) else text


def _owner(ix: Index, node: Any) -> tuple[Node, str | None]:
    """The record *node* belongs to (core._owner on the index)."""
    frontier, seen = [node], {node}
    for _ in range(4):
        for n in frontier:
            if any(t in _RECORD_TYPES for t in ix.objects(n, _TYPE)):
                return ix.rdflib(n), _name(ix, n)
        frontier = [s for n in frontier for ss in (ix.referrers(n) or {}).values() for s in ss if s not in seen]
        seen.update(frontier)
    names = ix.objects(node, _NAME)
    return ix.rdflib(node), str(ix.rdflib(names[0])) if names else None


def _name(ix: Index, node: Any) -> str | None:
    names = ix.objects(node, _NAME) or ix.objects(node, _TITLE)
    return str(ix.rdflib(names[0])) if names else None


def _fallback(ix: Index, shapes: rdflib.Graph) -> list[Finding]:
    from localoffer.validation.core import _QueryGraph, validate

    return validate(_QueryGraph.from_oxigraph(ix.triples), shapes=shapes).findings
