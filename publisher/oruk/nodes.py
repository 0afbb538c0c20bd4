"""Reading fetched triples (an `Index`) as nodes, and the value conversions every ORUK object
shares: URIs fit for `format: uri`, RFC 3339 date-times, array order."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pyoxigraph as ox

from localoffer import namespaces as ns

from .fetch import Index, key
from .ids import oruk_id

S, H, LO, SKOS, DCT, OWL, RDFS, RDF = (ns.SCHEMA, ns.HSDS, ns.LO, ns.SKOS, ns.DCTERMS, ns.OWL,
                                      ns.RDFS, ns.RDF)
WGS = ns.WGS
TYPE = RDF + "type"
_ABSOLUTE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]+$")
_WEB = re.compile(r"^(https?):/*(.*)$", re.I)
_HOST = re.compile(r"^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::\d+)?(?:[/?#]\S*)?$")


class Node:
    """One subject of the index, read by predicate IRI."""

    def __init__(self, index: Index, node: str) -> None:
        self.index = index
        self.key = node
        self.props = index.get(node)

    def values(self, p: str) -> list[Any]:
        """All objects of a predicate."""
        return self.props.get(p, [])

    def texts(self, p: str) -> list[str]:
        """Literal values, sorted (the store keeps no order)."""
        return sorted(o.value for o in self.values(p) if isinstance(o, ox.Literal))

    def text(self, p: str) -> str | None:
        """The literal value (the first in sort order if there are several)."""
        texts = self.texts(p)
        return texts[0] if texts else None

    def number(self, p: str) -> int | float | None:
        """A numeric literal as int when whole, else float."""
        text = self.text(p)
        if text is None:
            return None
        value = Decimal(text)
        return int(value) if value == value.to_integral_value() else float(value)

    def links(self, p: str) -> list[Node]:
        """The nodes (IRIs and blank nodes) a predicate points to."""
        return [Node(self.index, key(o)) for o in self.values(p) if not isinstance(o, ox.Literal)]

    def link(self, p: str) -> Node | None:
        """The node a predicate points to (the first in IRI order)."""
        nodes = sorted(self.links(p), key=lambda n: n.key)
        return nodes[0] if nodes else None

    @property
    def types(self) -> set[str]:
        """The node's rdf:type IRIs."""
        return {o.value for o in self.values(TYPE)}

    @property
    def id(self) -> str:
        """The id the node is served under."""
        return oruk_id(self.key, self.text(S + "identifier"))


def put(obj: dict[str, Any], name: str, value: Any) -> None:
    """Set a field unless the value is absent or an empty list."""
    if value is not None and value != []:
        obj[name] = value


def uri(text: str | None) -> str | None:
    """A value for a `format: uri` field. Council feeds hold bare host names
    (`www.example.org/x`) and broken schemes (`http:www.example.org`, `https:/example.org`):
    these get `scheme://` put right; other absolute URIs stay as they are (inner spaces
    %20-encoded); anything else (free text in a URL field) is left out."""
    if not text:
        return None
    text = text.strip().replace(" ", "%20")
    web = _WEB.match(text)
    if web:
        rest = web.group(2)
        return f"{web.group(1).lower()}://{rest}" if _HOST.match(rest) else None
    if _HOST.match(text) and "." in text.split("/", 1)[0]:
        return "http://" + text
    return text if _ABSOLUTE.match(text) else None


def date_time(text: str | None, date_only: str | None = None) -> str | None:
    """An RFC 3339 date-time: xsd:dateTime as stored (UTC assumed when it has no zone), else
    a date as midnight UTC."""
    if text:
        return text if re.search(r"(Z|[+-]\d{2}:\d{2})$", text) else text + "Z"
    if date_only:
        return f"{date_only[:10]}T00:00:00Z"
    return None


def sort_by_id(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Array items in id order (the store keeps no order)."""
    return sorted(items, key=lambda d: str(d.get("id")))
