"""The document about a resource: its concise bounded description (its own triples, followed
through the nodes it owns: blank nodes, the `-audience`/`-geo`/`#...` IRIs minted under its
own IRI, and the HSDS sub-objects hung off it by part-of properties such as schema:offers),
the resources that point at it, and the labels of everything it links to."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from localoffer import namespaces as ns
from localoffer.store import Store

from .vocab import LABEL_PROPERTIES

RDF_TYPE = ns.RDF + "type"
LABEL_NODES = tuple(ox.NamedNode(p) for p in LABEL_PROPERTIES)
# (subject, predicate, object) -> the matching quads of every graph, None matching anything.
QuadReader = Callable[[Any, Any, Any], Iterator[ox.Quad]]
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
# Pairs pointing at the subject that the first round brings (more: asked again when needed).
INVERSE_FETCH = MAX_INVERSE + 64
LABEL_OFFSET = 1 << 20  # row numbers from here on are labels, below are subjects of a round


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


class _Entries(dict):
    """A version's label candidates (IRI -> pairs), and the label `_labels` chose from each
    (`chosen`), kept on the one dict: a page still on the version before a write, finishing
    after a page of the new one swapped in fresh entries, fills its own version's choices."""

    def __init__(self) -> None:
        super().__init__()
        self.chosen: dict[str, str | None] = {}


class LabelCache:
    """The label candidates of IRIs already looked up, for one data version: the terms most
    documents link to (properties, types, concepts, authorities) are asked for once rather
    than on every page. Bounded (the oldest entries go first) and emptied when the version
    changes. Thread-safe enough for gthread workers: entries are only added or dropped, and a
    new version swaps in a new dict."""

    def __init__(self, size: int = LABEL_CACHE_SIZE) -> None:
        self.size = size
        self.version: str | None = None
        self.entries: dict[str, list[tuple[str, Any]]] = _Entries()

    def view(self, version: str) -> dict[str, list[tuple[str, Any]]]:
        """The entries for *version* (a fresh, empty set when the data changed)."""
        if version != self.version:
            self.entries, self.version = _Entries(), version
        return self.entries

    def add(self, entries: dict[str, list[tuple[str, Any]]], found: dict[str, list[tuple[str, Any]]]) -> None:
        """Remember *found* in *entries* (the dict `view` gave), dropping the oldest when full."""
        entries.update(found)
        excess = len(entries) - self.size
        if excess > 0:
            for key in list(entries)[: excess + self.size // 4]:
                entries.pop(key, None)
            entries.chosen = {}  # type: ignore[attr-defined]


def describe(store: Any, subject: str, *, inverse: bool = True, labels: LabelCache | None = None,
             version: str | None = None) -> Description:
    """The concise bounded description of *subject* with labels (see the module docstring);
    with *labels*, label lookups go through that cache of the store's version (*version*,
    asked of the store when not given).

    The embedded store is read through its indexes (`_round_direct`: a scan per node, no
    query to parse and plan). Other stores get one SPARQL query per round of owned nodes (two
    or three for a service): the first also brings the resources pointing at the subject,
    each later one the labels of what the previous round linked to; a last query only for
    labels still missing (usually none once shared terms are cached). Rows name their subject
    by a small number rather than its IRI, since the engine decodes every term of every row
    from the store and that dominates the cost. Both give the same description
    (tests/integration/test_describe.py)."""
    store = pin(store)
    desc = Description(subject)
    entries = labels.view(version or store.version()) if labels is not None else {}
    quads = direct_reader(store)
    fetched: dict[str, list[tuple[str, Any]]] = {}
    seen: set[ox.Triple] = set()
    visited: set[str] = set()
    frontier, pending = [subject], []
    pairs: list[tuple[Any, Any]] | None = None
    for n in range(MAX_ROUNDS):
        if not frontier or len(desc.triples) >= MAX_TRIPLES:
            break
        visited.update(frontier)
        ask = [i for i in dict.fromkeys(pending)
               if i not in visited and i not in entries and i not in fetched]
        if quads is not None:
            found, got_pairs = _round_direct(quads, frontier, ask, fetched, inverse=inverse and n == 0)
        else:
            found, got_pairs = _round(store, frontier, ask, fetched, inverse=inverse and n == 0)
        if n == 0:
            pairs = got_pairs
        frontier, pending = _take(desc, found, seen, visited)
        pending += [s.value for s, _ in got_pairs or ()]
    owned = desc.owned_iris()
    if inverse and desc.triples:
        _inverse(store, desc, pairs, owned)
    _labels(store, desc, labels, entries, fetched, owned, quads)
    return desc


def _take(desc: Description, found: dict[str, list[ox.Triple]], seen: set[ox.Triple],
          visited: set[str]) -> tuple[list[str], list[str]]:
    """Add a round's triples to *desc*; the owned nodes to ask for next, and the IRIs met
    that need a label (things of their own are not swallowed: they only get a label)."""
    owned: list[str] = []
    pending: list[str] = []
    for s, triples in found.items():
        if s != desc.subject and any(t.predicate.value == RDF_TYPE and t.object.value in TOP_LEVEL
                                     for t in triples):
            pending.append(s)
            continue
        for t in triples:
            if t in seen:
                continue
            seen.add(t)
            desc.triples.append(t)
            p, o = t.predicate.value, t.object
            pending.append(p)
            if isinstance(o, ox.NamedNode):
                iri = o.value
                if iri in visited:
                    continue
                if t.subject.value == s and owns(desc.subject, o, p):
                    owned.append(iri)
                else:
                    pending.append(iri)
    return list(dict.fromkeys(owned)), pending


def pin(store: Any) -> Any:
    """A view of *store* fixed to the version published now, when the backend has one (every
    query of a document then reads one version, and no query re-checks which is current)."""
    pinned = getattr(store, "pinned", None)
    return pinned() if pinned else store


def _numbered(var: str, iris: list[str], offset: int) -> str:
    """`VALUES (?var ?i) { (<a> 0) (<b> 1) }`: rows then carry the number ?i, not the IRI
    (the engine decodes every projected term of every row from the store: that is the cost)."""
    rows = " ".join(f"({ox.NamedNode(iri)} {offset + j})" for j, iri in enumerate(iris))
    return f"VALUES (?{var} ?i) {{ {rows} }}"


def _round(store: Any, subjects: list[str], label_iris: list[str], fetched: dict[str, list[tuple[str, Any]]],
           *, inverse: bool) -> tuple[dict[str, list[ox.Triple]], list[tuple[Any, Any]] | None]:
    """One query: the triples of *subjects* (with blank-node objects followed two levels down),
    the label candidates of *label_iris* (into *fetched*) and, with *inverse*, the first
    INVERSE_FETCH (resource, property) pairs pointing at the first subject."""
    nodes = [ox.NamedNode(s) for s in subjects]
    out: dict[str, list[ox.Triple]] = {s: [] for s in subjects}
    if len(subjects) == 1:
        branches = [f"{{ {nodes[0]} ?p ?o BIND(0 AS ?i) }}"]
    else:
        branches = [f"{{ {_numbered('s', subjects, 0)} ?s ?p ?o }}"]
    if label_iris:
        branches.append(_label_branch(label_iris, LABEL_OFFSET))
    if inverse:
        branches.append(f"""{{ {{ SELECT DISTINCT ?p ?o WHERE {{ ?o ?p {nodes[0]} FILTER(isIRI(?o)) }}
                              ORDER BY ?p ?o LIMIT {INVERSE_FETCH + 1} }} BIND(-1 AS ?i) }}""")
    query = f"SELECT ?i ?p ?o WHERE {{ {' UNION '.join(branches)} }}"
    pairs: list[tuple[Any, Any]] | None = [] if inverse else None
    blank = False
    for i, p, o in _rows(store, query, ("i", "p", "o")):
        k = int(i.value)
        if k >= LABEL_OFFSET:
            fetched.setdefault(label_iris[k - LABEL_OFFSET], []).append((p.value, o))
        elif k < 0:
            pairs.append((o, p))  # type: ignore[union-attr]
        else:
            blank = blank or isinstance(o, ox.BlankNode)
            out[subjects[k]].append(ox.Triple(nodes[k], p, o))
    for iri in label_iris:
        fetched.setdefault(iri, [])
    if pairs:
        pairs.sort(key=lambda sp: (sp[1].value, sp[0].value))
    return (_round_with_blank_nodes(store, subjects) if blank else out), pairs


def direct_reader(store: Any) -> QuadReader | None:
    """The store's own reader of its indexes when it has one (the embedded store's
    `quads_for_pattern`), else None (remote stores are asked in SPARQL)."""
    return getattr(store, "quads_for_pattern", None)


def _round_direct(quads: QuadReader, subjects: list[str], label_iris: list[str],
                  fetched: dict[str, list[tuple[str, Any]]], *,
                  inverse: bool) -> tuple[dict[str, list[ox.Triple]], list[tuple[Any, Any]] | None]:
    """What `_round` gives, read from the store's indexes: one index scan per subject, per
    label property of each label IRI and for the inverse links, with no query to parse and
    plan (that costs more than reading a service's few dozen triples). The same description
    as the SPARQL rounds: blank-node objects followed two levels down, the same label
    candidates, and the inverse pairs sorted and cut as the query's ORDER BY and LIMIT would
    (None when there are more than that, so that `_inverse` asks its own query)."""
    out: dict[str, list[ox.Triple]] = {}
    for s in subjects:
        triples = out[s] = []
        for quad in quads(ox.NamedNode(s), None, None):
            triple = quad.triple
            triples.append(triple)
            if isinstance(triple.object, ox.BlankNode):
                _follow_blank(quads, triple.object, triples, depth=2)
    for iri in label_iris:
        fetched[iri] = _label_candidates(quads, iri)
    pairs: list[tuple[Any, Any]] | None = None
    if inverse:
        pairs = _pointing(quads, subjects[0], INVERSE_FETCH + 1)
    return out, pairs


def _follow_blank(quads: QuadReader, node: ox.BlankNode, into: list[ox.Triple], depth: int) -> None:
    """The triples of blank node *node*, and of the blank nodes they lead to, *depth* levels."""
    for quad in quads(node, None, None):
        triple = quad.triple
        into.append(triple)
        if depth > 1 and isinstance(triple.object, ox.BlankNode):
            _follow_blank(quads, triple.object, into, depth - 1)


def _label_candidates(quads: QuadReader, iri: str) -> list[tuple[str, Any]]:
    """(label property, label) of *iri* for the first label property it has: one index
    lookup per label property until one is found (a label of a later property never wins
    over one of an earlier property, see `_labels`), and none past the first when nothing
    at all is said of *iri* (1.2 of a service page's 3.5 lookups at national size)."""
    node = ox.NamedNode(iri)
    for n, (prop, name) in enumerate(zip(LABEL_NODES, LABEL_PROPERTIES)):
        found = [(name, quad.object) for quad in quads(node, prop, None)]
        if found:
            return found
        if n == 0 and next(iter(quads(node, None, None)), None) is None:
            return []  # nothing is said of it (a place code, a language, a web page): one
            # more lookup rather than one per remaining label property
    return []


def _pointing(quads: QuadReader, subject: str, limit: int) -> list[tuple[Any, Any]] | None:
    """The distinct (resource, property) pairs pointing at *subject* from an IRI, ordered by
    property then resource; None when there are more than *limit* (the scan stops there)."""
    pairs: set[tuple[Any, Any]] = set()
    for quad in quads(None, None, ox.NamedNode(subject)):
        if isinstance(quad.subject, ox.NamedNode):
            pairs.add((quad.subject, quad.predicate))
            if len(pairs) > limit:
                return None
    return sorted(pairs, key=lambda sp: (sp[1].value, sp[0].value))


def _round_with_blank_nodes(store: Any, subjects: list[str]) -> dict[str, list[ox.Triple]]:
    """The triples of *subjects* with blank-node objects followed two levels down: blank nodes
    cannot be named in a later query, so they are followed in this one."""
    out: dict[str, list[ox.Triple]] = {s: [] for s in subjects}
    query = f"""SELECT ?s ?p ?o ?p2 ?o2 ?p3 ?o3 WHERE {{
      {values_block('s', subjects)}
      ?s ?p ?o .
      OPTIONAL {{ FILTER(isBlank(?o)) ?o ?p2 ?o2 .
                 OPTIONAL {{ FILTER(isBlank(?o2)) ?o2 ?p3 ?o3 }} }}
    }}"""
    for s, p, o, p2, o2, p3, o3 in _rows(store, query, ("s", "p", "o", "p2", "o2", "p3", "o3")):
        out[s.value].append(ox.Triple(s, p, o))
        if p2 is not None:
            out[s.value].append(ox.Triple(o, p2, o2))
        if p3 is not None:
            out[s.value].append(ox.Triple(o2, p3, o3))
    return out


def _label_branch(iris: list[str], offset: int) -> str:
    """A UNION branch giving rows (offset + j, label property, label) for IRI number j.
    FILTER IN rather than a second VALUES: Oxigraph would join the two VALUES blocks first
    and look up every pair (several times slower)."""
    props = ", ".join(f"<{p}>" for p in LABEL_PROPERTIES)
    return f"{{ {_numbered('x', iris, offset)} ?x ?p ?o FILTER(?p IN ({props})) }}"


def _inverse(store: Any, desc: Description, pairs: list[tuple[Any, Any]] | None, owned: set[str]) -> None:
    """Up to MAX_INVERSE resources pointing at the subject; counts per property. The first
    round brought the pointing (subject, property) pairs when there are few (the usual case);
    the counts are a further query only when there are more."""
    target = ox.NamedNode(desc.subject)
    limit = MAX_INVERSE + len(owned)
    if pairs is None or (len(pairs) > INVERSE_FETCH and limit > INVERSE_FETCH):
        pairs = [(s, p) for s, p in _rows(store,
            f"""SELECT DISTINCT ?s ?p WHERE {{ ?s ?p {target} FILTER(isIRI(?s)) }}
                ORDER BY ?p ?s LIMIT {limit + 1}""", ("s", "p"))]
    if len(pairs) > limit:
        counts = f"""SELECT ?p (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s ?p {target} FILTER(isIRI(?s)) }}
                     GROUP BY ?p"""
        for p, n in _rows(store, counts, ("p", "n")):
            desc.inverse_counts[p.value] = int(n.value)
        pairs = pairs[:limit]
    else:
        for _, p in pairs:
            desc.inverse_counts[p.value] = desc.inverse_counts.get(p.value, 0) + 1
    desc.inverse = [ox.Triple(s, p, target) for s, p in pairs if s.value not in owned][:MAX_INVERSE]


def _labels(store: Any, desc: Description, cache: LabelCache | None,
            entries: dict[str, list[tuple[str, Any]]], fetched: dict[str, list[tuple[str, Any]]],
            described: set[str], quads: QuadReader | None = None) -> None:
    """Labels (English or untagged first; of equals, the first in code-point order, whatever
    order the store gave them in) of the IRIs the document mentions. The subject and
    the nodes it owns are labelled from their own triples (the document has all of them);
    the rest come from *entries* (the cache), from *fetched* (asked along with the rounds)
    or from a last query."""
    iris: set[str] = set()  # what needs a label, and the described nodes' own candidates
    candidates: dict[str, list[tuple[str, Any]]] = {}
    for t in desc.triples:  # (their subjects are the described nodes)
        p, o = t.predicate.value, t.object
        iris.add(p)
        if isinstance(o, ox.NamedNode):
            iris.add(o.value)
        elif p in LABEL_PROPERTIES and isinstance(o, ox.Literal) and isinstance(t.subject, ox.NamedNode):
            candidates.setdefault(t.subject.value, []).append((p, o))
    for t in desc.inverse:  # (their object is the subject)
        iris.add(t.predicate.value)
        iris.add(t.subject.value)
    if not iris:
        return
    found: dict[str, list[tuple[str, Any]]] = {}
    chosen: dict[str, str | None] = getattr(entries, "chosen", {})  # (the label picked per entry)
    settled: set[str] = set()
    for iri in iris - described:
        if iri in chosen:  # scored on an earlier page of this version
            settled.add(iri)
            best_label = chosen[iri]
            if best_label is not None:
                desc.labels[iri] = best_label
            continue
        known = entries.get(iri)
        if known is None:
            known = fetched.get(iri)
            if known is not None:
                found[iri] = known
        if known is not None:
            candidates[iri] = known
    wanted = sorted(iris - described - settled - candidates.keys())
    if quads is not None:
        found.update((iri, _label_candidates(quads, iri)) for iri in wanted)
        wanted = []
    for chunk in _chunks(wanted, 400):
        query = f"SELECT ?i ?p ?o WHERE {_label_branch(chunk, 0)}"
        for iri in chunk:
            found[iri] = []
        for i, p, label in _rows(store, query, ("i", "p", "o")):
            found[chunk[int(i.value)]].append((p.value, label))
    if cache is not None:
        cache.add(entries, found)
        chosen = getattr(entries, "chosen", {})
    candidates.update(found)
    for iri, pairs in candidates.items():
        best: tuple[int, int, str] | None = None
        for prop, label in pairs:
            lang = getattr(label, "language", None) or ""
            score = (LABEL_PROPERTIES.index(prop), 0 if lang in ("", "en", "en-gb") else 1, label.value)
            if best is None or score < best:
                best = score
                desc.labels[iri] = label.value
        if cache is not None and iri not in described and iri in entries:
            chosen[iri] = desc.labels.get(iri)


def _rows(store: Any, sparql: str, names: tuple[str, ...]) -> Iterator[Any]:
    """SELECT rows as tuples in the order of *names* (None where unbound): the engine's own
    solutions when *store* is a Store (no dict per row), else tuples made from its `select`."""
    if isinstance(store, Store):
        yield from store.query(sparql)
    else:
        for row in store.select(sparql):
            yield tuple(row.get(n) for n in names)


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
