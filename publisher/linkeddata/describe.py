"""The document about a resource: its concise bounded description (its own triples, followed
through the nodes it owns: blank nodes, the `-audience`/`-geo`/`#...` IRIs minted under its
own IRI, and the HSDS sub-objects hung off it by part-of properties such as schema:offers),
the resources that point at it, and the labels of everything it links to."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from localoffer import namespaces as ns
from localoffer.store import Store

from .vocab import LABEL_PROPERTIES

RDF_TYPE = ns.RDF + "type"
S = ns.SCHEMA
# Objects of these properties are parts of their subject (HSDS sub-objects), not things of their own.
PART_OF = frozenset(S + p for p in (
    "audience", "offers", "availableChannel", "hoursAvailable", "openingHoursSpecification",
    "specialOpeningHoursSpecification", "address", "geo", "contactPoint", "servicePhone",
    "amenityFeature", "availableLanguage", "areaServed", "priceSpecification", "identifier", "review",
)) | frozenset((ns.HSDS + "contact", ns.HSDS + "phone", ns.HSDS + "funding", ns.HSDS + "attribute",
                ns.CPSV + "hasInput", ns.GEO + "hasGeometry"))
# Things with pages of their own are never swallowed into another's description.
TOP_LEVEL = frozenset((S + "Service", S + "Organization", ns.LO + "LocalAuthority", ns.LO + "LocalOffer"))
MAX_ROUNDS = 5
MAX_TRIPLES = 5000
MAX_INVERSE = 200
LABEL_CACHE_SIZE = 20000


@dataclass
class Description:
    """The triples of a document and what the pages need to show it."""

    subject: str
    triples: list[ox.Triple] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    inverse: list[ox.Triple] = field(default_factory=list)
    inverse_counts: dict[str, int] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        """True when the store says anything about the subject."""
        return any(isinstance(t.subject, ox.NamedNode) and t.subject.value == self.subject
                   for t in self.triples)

    def all_triples(self) -> list[ox.Triple]:
        """The document's triples: the description, what points at it, and labels."""
        linked = self.linked()
        labelled = [ox.Triple(ox.NamedNode(iri), ox.NamedNode(ns.RDFS + "label"), ox.Literal(text))
                    for iri, text in sorted(self.labels.items()) if iri in linked]
        return self.triples + self.inverse + labelled

    def linked(self) -> set[str]:
        """The IRIs the description links to (objects and types) and the subjects pointing at it."""
        out = {t.object.value for t in self.triples if isinstance(t.object, ox.NamedNode)}
        out |= {t.subject.value for t in self.inverse if isinstance(t.subject, ox.NamedNode)}
        return out - self.owned_iris()

    def owned_iris(self) -> set[str]:
        """The subject and the IRIs of the nodes it owns."""
        return {t.subject.value for t in self.triples if isinstance(t.subject, ox.NamedNode)}


def values_block(var: str, iris: Iterable[str]) -> str:
    """`VALUES ?var { <a> <b> }` with each IRI written by pyoxigraph (checked and escaped)."""
    return f"VALUES ?{var} {{ {' '.join(str(ox.NamedNode(i)) for i in iris)} }}"


def owns(root: str, node: Any, predicate: str) -> bool:
    """True when *node* (object of *predicate*) is part of the description of *root*."""
    if isinstance(node, ox.BlankNode):
        return True
    if not isinstance(node, ox.NamedNode):
        return False
    return predicate in PART_OF or node.value.startswith((root + "-", root + "#"))


class LabelCache:
    """The label candidates of IRIs already looked up, for one data version: the terms most
    documents link to (properties, types, concepts, authorities) are asked for once rather
    than on every page. Bounded (the oldest entries go first) and emptied when the version
    changes. Thread-safe enough for gthread workers: entries are only added or dropped, and a
    new version swaps in a new dict."""

    def __init__(self, size: int = LABEL_CACHE_SIZE) -> None:
        self.size = size
        self.version: str | None = None
        self.entries: dict[str, list[tuple[str, Any]]] = {}

    def view(self, version: str) -> dict[str, list[tuple[str, Any]]]:
        """The entries for *version* (a fresh, empty set when the data changed)."""
        if version != self.version:
            self.entries, self.version = {}, version
        return self.entries

    def add(self, entries: dict[str, list[tuple[str, Any]]], found: dict[str, list[tuple[str, Any]]]) -> None:
        """Remember *found* in *entries* (the dict `view` gave), dropping the oldest when full."""
        entries.update(found)
        excess = len(entries) - self.size
        if excess > 0:
            for key in list(entries)[: excess + self.size // 4]:
                entries.pop(key, None)


def describe(store: Store, subject: str, *, inverse: bool = True,
             labels: LabelCache | None = None) -> Description:
    """The concise bounded description of *subject* with labels (see the module docstring);
    with *labels*, label lookups go through that cache of the store's current version."""
    desc = Description(subject)
    seen_triples: set[ox.Triple] = set()
    visited: set[str] = set()
    frontier = [subject]
    for _ in range(MAX_ROUNDS):
        if not frontier or len(desc.triples) >= MAX_TRIPLES:
            break
        visited.update(frontier)
        found = _round(store, frontier)
        next_frontier: list[str] = []
        for s, triples in found.items():
            types = {t.object.value for t in triples if t.predicate.value == RDF_TYPE}
            if s != subject and types & TOP_LEVEL:
                continue
            for t in triples:
                if t in seen_triples:
                    continue
                seen_triples.add(t)
                desc.triples.append(t)
                o = t.object
                if isinstance(o, ox.NamedNode) and o.value not in visited \
                        and t.subject == ox.NamedNode(s) and owns(subject, o, t.predicate.value):
                    next_frontier.append(o.value)
        frontier = list(dict.fromkeys(next_frontier))
    if inverse and desc.triples:
        _inverse(store, desc)
    _labels(store, desc, labels)
    return desc


def _round(store: Store, subjects: list[str]) -> dict[str, list[ox.Triple]]:
    """The triples of *subjects*, with blank-node objects followed two levels down."""
    out: dict[str, list[ox.Triple]] = {s: [] for s in subjects}
    plain = f"SELECT ?s ?p ?o WHERE {{ {values_block('s', subjects)} ?s ?p ?o }}"
    rows = list(_tuples(store, plain))
    if not any(isinstance(row[2], ox.BlankNode) for row in rows):
        # The usual case (the ingest mints IRIs for sub-objects): one cheap lookup is enough.
        for s, p, o in rows:
            out[s.value].append(ox.Triple(s, p, o))
        return out
    # Blank nodes cannot be named in a later query, so they are followed in this one.
    query = f"""SELECT ?s ?p ?o ?p2 ?o2 ?p3 ?o3 WHERE {{
      {values_block('s', subjects)}
      ?s ?p ?o .
      OPTIONAL {{ FILTER(isBlank(?o)) ?o ?p2 ?o2 .
                 OPTIONAL {{ FILTER(isBlank(?o2)) ?o2 ?p3 ?o3 }} }}
    }}"""
    for row in store.select(query):
        s = row["s"]
        out[s.value].append(ox.Triple(s, row["p"], row["o"]))
        if "p2" in row:
            out[s.value].append(ox.Triple(row["o"], row["p2"], row["o2"]))
        if "p3" in row:
            out[s.value].append(ox.Triple(row["o2"], row["p3"], row["o3"]))
    return out


def _inverse(store: Store, desc: Description) -> None:
    """Up to MAX_INVERSE resources pointing at the subject; counts per property. One query
    brings every pointing (subject, property) pair when there are few (the usual case); the
    counts are a second query only when there are more."""
    target = ox.NamedNode(desc.subject)
    owned = desc.owned_iris()
    limit = MAX_INVERSE + len(owned)
    pairs = [(row[0], row[1]) for row in _tuples(store,
        f"""SELECT DISTINCT ?s ?p WHERE {{ ?s ?p {target} FILTER(isIRI(?s)) }}
            ORDER BY ?p ?s LIMIT {limit + 1}""")]
    if len(pairs) > limit:
        counts = f"""SELECT ?p (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s ?p {target} FILTER(isIRI(?s)) }}
                     GROUP BY ?p"""
        for row in store.select(counts):
            desc.inverse_counts[row["p"].value] = int(row["n"].value)
        pairs = pairs[:limit]
    else:
        for _, p in pairs:
            desc.inverse_counts[p.value] = desc.inverse_counts.get(p.value, 0) + 1
    desc.inverse = [ox.Triple(s, p, target) for s, p in pairs if s.value not in owned][:MAX_INVERSE]


def _labels(store: Store, desc: Description, cache: LabelCache | None = None) -> None:
    """Labels (English or untagged first) of the IRIs the document mentions. The subject and
    the nodes it owns are labelled from their own triples (the document has all of them);
    the rest are looked up (through *cache* when given)."""
    iris: set[str] = set()
    for t in desc.triples + desc.inverse:
        iris.add(t.predicate.value)
        for term in (t.subject, t.object):
            if isinstance(term, ox.NamedNode):
                iris.add(term.value)
    if not iris:
        return
    candidates: dict[str, list[tuple[str, Any]]] = {}
    for t in desc.triples:
        if isinstance(t.subject, ox.NamedNode) and t.predicate.value in LABEL_PROPERTIES \
                and isinstance(t.object, ox.Literal):
            candidates.setdefault(t.subject.value, []).append((t.predicate.value, t.object))
    described = desc.owned_iris()
    entries = cache.view(store.version()) if cache is not None else {}
    for iri in iris - described:
        known = entries.get(iri)
        if known is not None:
            candidates[iri] = known
    wanted = sorted(iris - described - candidates.keys())
    found: dict[str, list[tuple[str, Any]]] = {i: [] for i in wanted}
    props = ", ".join(f"<{p}>" for p in LABEL_PROPERTIES)
    for chunk in _chunks(wanted, 400):
        # FILTER IN rather than a second VALUES: Oxigraph would join the two VALUES blocks
        # first and look up every pair (several times slower).
        query = f"SELECT ?x ?p ?l WHERE {{ {values_block('x', chunk)} ?x ?p ?l FILTER(?p IN ({props})) }}"
        for x, p, label in _tuples(store, query):
            found[x.value].append((p.value, label))
    if cache is not None:
        cache.add(entries, found)
    candidates.update(found)
    for iri, pairs in candidates.items():
        best: tuple[int, int] | None = None
        for prop, label in pairs:
            lang = getattr(label, "language", None) or ""
            score = (LABEL_PROPERTIES.index(prop), 0 if lang in ("", "en", "en-gb") else 1)
            if best is None or score < best:
                best = score
                desc.labels[iri] = label.value


def _tuples(store: Any, sparql: str) -> Iterator[Any]:
    """SELECT rows indexed by position (every variable bound): the engine's own solutions when
    *store* is a Store (no dict per row), else tuples made from its `select` dicts."""
    if isinstance(store, Store):
        yield from store.query(sparql)
    else:
        for row in store.select(sparql):
            yield tuple(row.values())


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
