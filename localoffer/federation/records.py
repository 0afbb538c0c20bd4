"""Records inside a harvested graph, and syncing them from a neighbour's change feed.

A record is a node of one of the record classes (service, organisation, location, service at a
location, Local Offer, information page). It owns itself and every node reachable from it that
is not another record (nodes minted under the record's own IRI, such as a service's phone
channel, stay owned even though they are typed). Owned triples are what a record's digest
covers, what a change feed's Update replaces, and what a Delete removes."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import pyoxigraph as ox

from localoffer import namespaces as ns
from localoffer.errors import HarvestError

from . import remote
from .changes import KIND_CLASSES
from .remote import Policy

RDF_TYPE = ox.NamedNode(ns.RDF + "type")
RECORD_KINDS = {ox.NamedNode(c): k for k, c in KIND_CLASSES.items()}
BOUNDARY = set(RECORD_KINDS) | {ox.NamedNode(ns.LO + "LocalAuthority")}
MAX_FEED_CHANGES = 2000


class Index:
    """Triples by subject, with each subject's types."""

    def __init__(self, triples: Iterable[Any]) -> None:
        self.by_subject: dict[Any, set[Any]] = defaultdict(set)
        self.types: dict[Any, set[Any]] = defaultdict(set)
        for t in triples:
            self.by_subject[t.subject].add(t)
            if t.predicate == RDF_TYPE:
                self.types[t.subject].add(t.object)

    def owned(self, root: Any) -> set[Any]:
        """The triples *root* owns (see the module docstring)."""
        prefix = root.value if isinstance(root, ox.NamedNode) else None
        seen, out, todo = {root}, set(), [root]
        while todo:
            node = todo.pop()
            for t in self.by_subject.get(node, ()):
                out.add(t)
                o = t.object
                if t.predicate == RDF_TYPE or o in seen or not isinstance(o, (ox.NamedNode, ox.BlankNode)):
                    continue
                if o not in self.by_subject:
                    continue
                inside = prefix is not None and isinstance(o, ox.NamedNode) and o.value.startswith(prefix)
                if self.types.get(o, set()) & BOUNDARY and not inside:
                    continue
                seen.add(o)
                todo.append(o)
        return out

    def records(self) -> dict[Any, str]:
        """Every record node and its kind (not parts minted under a record's IRI, such as
        a service's phone channel)."""
        out: dict[Any, str] = {}
        for node, types in self.types.items():
            for cls in types:
                if cls in RECORD_KINDS:
                    out[node] = RECORD_KINDS[cls]
                    break
        names = {n.value for n in out if isinstance(n, ox.NamedNode)}
        return {n: k for n, k in out.items() if not (isinstance(n, ox.NamedNode) and _inside(n.value, names))}


def _inside(value: str, names: set[str]) -> bool:
    """True when a prefix of *value* ending before a '-', '#' or '/' is another record's IRI."""
    return any(ch in "-#/" and value[:i] in names for i, ch in enumerate(value) if i)


def record_digests(triples: Iterable[Any]) -> dict[str, str]:
    """`"{kind} {iri}"` → digest of the record's owned triples, like the ingest's digests."""
    index = Index(triples)
    out: dict[str, str] = {}
    for node, kind in index.records().items():
        if not isinstance(node, ox.NamedNode):
            continue
        lines = sorted(f"{t.subject} {t.predicate} {t.object} .\n" for t in index.owned(node))
        out[f"{kind} {node.value}"] = hashlib.sha1("".join(lines).encode()).hexdigest()
    return out


def feed_url(sparql: str | None, changes: str | None) -> str | None:
    """The neighbour's change feed: given by the registry, or beside a localoffer /sparql."""
    if changes:
        return changes
    if sparql and sparql.rstrip("/").endswith("/sparql"):
        return sparql.rstrip("/")[: -len("/sparql")] + "/changes"
    return None


def _feed_page(url: str, policy: Policy) -> dict[str, Any] | None:
    response = remote.get(url, policy, accept="application/activity+json, application/ld+json;q=0.9")
    mime = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if response.status_code != 200 or mime not in ("application/activity+json", "application/ld+json",
                                                   "application/json"):
        return None
    try:
        doc = response.json()
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def feed_position(feed: str, gss: str, policy: Policy) -> str | None:
    """The newest change the neighbour's feed holds for *gss* (None: no usable feed)."""
    try:
        doc = _feed_page(f"{feed}?authority={gss}&page=1&per_page=1", policy)
    except HarvestError:
        return None
    if not doc or doc.get("type") != "OrderedCollectionPage":
        return None
    items = doc.get("orderedItems") or []
    return str(items[0].get("published")) if items else ""


def pending_changes(feed: str, gss: str, since: str, policy: Policy) -> list[dict[str, Any]] | None:
    """The feed's changes for *gss* after *since*, newest first; None when the feed cannot be
    used (missing, malformed, too many changes): the caller then fetches everything."""
    from urllib.parse import urlencode

    url: str | None = f"{feed}?{urlencode({'authority': gss, 'since': since, 'page': 1, 'per_page': 500})}"
    items: list[dict[str, Any]] = []
    while url:
        doc = _feed_page(url, policy)
        if not doc or doc.get("type") != "OrderedCollectionPage":
            return None
        for item in doc.get("orderedItems") or []:
            published = str(item.get("published", ""))
            if published and since and published <= since:
                return items  # the server ignored `since`: stop at what we have seen
            items.append(item)
        if len(items) > MAX_FEED_CHANGES:
            return None
        url = doc.get("next") if isinstance(doc.get("next"), str) else None
    return items


def apply_changes(previous: Iterable[Any], items: list[dict[str, Any]],
                  fetch: Callable[[list[str]], list[Any]]) -> set[Any]:
    """The harvested graph after the feed's *items*: each touched record's owned triples are
    dropped, and Created/Updated records are fetched again (their new owned triples added)."""
    latest: dict[str, str] = {}
    for item in items:  # newest first: the first word on a record is the last
        obj = item.get("object")
        iri = obj.get("id") if isinstance(obj, dict) else obj
        if isinstance(iri, str) and iri not in latest:
            latest[iri] = str(item.get("type", ""))
    old = Index(previous)
    triples = set().union(*(s for s in old.by_subject.values())) if old.by_subject else set()
    for iri in latest:
        triples -= old.owned(ox.NamedNode(iri))
    upserts = [iri for iri, kind in latest.items() if kind in ("Create", "Update")]
    if upserts:
        fresh = Index(fetch(upserts))
        for iri in upserts:
            triples |= fresh.owned(ox.NamedNode(iri))
    return triples


def closure_query(graphs: list[str], roots: list[str]) -> str:
    """CONSTRUCT the nodes reachable from *roots* inside the authority's graphs."""
    values = " ".join(f"<{g}>" for g in graphs)
    starts = " ".join(f"<{r}>" for r in roots)
    return (f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?g {{ {values} }} VALUES ?root {{ {starts} }} "
            f"GRAPH ?g {{ ?root (!<{ns.RDF}type>)* ?s . ?s ?p ?o }} }}")
