"""Taxonomies, taxonomy terms and attributes: HSDS attributes (hsds:Attribute nodes and
schema:category) and the SEND concepts a record is tagged with through lo: properties."""

from __future__ import annotations

import re
from typing import Any

import pyoxigraph as ox

from .fetch import key
from .ids import derived_id
from .nodes import DCT, LO, OWL, RDFS, SKOS, H, Node, S, put, sort_by_id


def attributes(n: Node) -> list[dict[str, Any]]:
    """HSDS attributes: the record's hsds:Attribute nodes, then its other classifying links
    (schema:category, and lo: properties whose value is a SKOS concept) as attributes with a
    derived id."""
    out: list[dict[str, Any]] = []
    covered: set[str] = set()
    for a in n.links(H + "attribute"):
        item: dict[str, Any] = {"id": a.id}
        put(item, "link_id", a.text(H + "linkId"))
        term = a.link(H + "taxonomyTerm")
        if term:
            covered.add(term.key)
            item["taxonomy_term_id"] = term.id
        put(item, "link_type", a.text(H + "linkType"))
        if term and term.props:
            item["taxonomy_term"] = taxonomy_term(term)
        out.append(item)
    for p, objs in sorted(n.props.items()):
        if not (p == S + "category" or p.startswith(LO)):
            continue
        for o in objs:
            if isinstance(o, ox.Literal) or key(o) in covered:
                continue
            term = Node(n.index, key(o))
            if p != S + "category" and SKOS + "Concept" not in term.types:
                continue
            covered.add(term.key)
            item = {"id": derived_id(f"{n.key} {p} {term.key}"), "link_id": n.id,
                    "taxonomy_term_id": term.id}
            put(item, "link_type", p[len(LO):] if p.startswith(LO) else None)
            if term.props:
                item["taxonomy_term"] = taxonomy_term(term)
            out.append(item)
    return sort_by_id(out)


def label(n: Node, *preds: str) -> str | None:
    """The first of *preds* with a value; English labels before others."""
    for p in preds:
        values = [o for o in n.values(p) if isinstance(o, ox.Literal)]
        if values:
            values.sort(key=lambda o: (o.language not in (None, "en", "en-GB"), o.value))
            return str(values[0].value)
    return None


def minted(iri: str) -> bool:
    """True for IRIs this project minted (`.../id/{kind}/{id}`), which are no term_uri."""
    return bool(re.search(r"/id/(taxonomy-term|taxonomy)/[^/]+$", iri))


def taxonomy_term(n: Node) -> dict[str, Any]:
    """A taxonomy term from its SKOS concept."""
    out: dict[str, Any] = {"id": n.id}
    name = label(n, S + "name", SKOS + "prefLabel") or ""
    out["name"] = name
    out["description"] = label(n, SKOS + "definition", RDFS + "comment", SKOS + "scopeNote") or ""
    parent = n.link(SKOS + "broader")
    put(out, "parent_id", parent.id if parent else None)
    scheme = n.link(SKOS + "inScheme")
    source = n.text(DCT + "source")
    put(out, "taxonomy", source if source is not None else scheme.key if scheme else None)
    put(out, "taxonomy_id", scheme.id if scheme else None)
    put(out, "term_uri", n.key if not n.key.startswith("_:") and not minted(n.key) else None)
    put(out, "term", n.text(H + "term") or name or None)  # ORUK's legacy text, else the name
    return out


def taxonomy(n: Node, terms: list[Node] | None = None) -> dict[str, Any]:
    """A taxonomy from its concept scheme, with *terms* when given."""
    out: dict[str, Any] = {"id": n.id, "name": label(n, DCT + "title", SKOS + "prefLabel", S + "name") or "",
                           "description": label(n, DCT + "description", RDFS + "comment") or ""}
    same = next((o.value for o in n.values(OWL + "sameAs") if isinstance(o, ox.NamedNode)), None)
    put(out, "uri", same or (n.key if not n.key.startswith("_:") and not minted(n.key) else None))
    put(out, "version", n.text(OWL + "versionInfo"))
    if terms is not None:
        out["taxonomy_terms"] = sort_by_id([taxonomy_term(t) for t in terms])
    return out
