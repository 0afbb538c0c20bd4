"""Writing a document's triples: Turtle, N-Triples and RDF/XML by pyoxigraph, JSON-LD with our
published context, schema.org JSON-LD for embedding in pages, and the tree the HTML shows."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import pyoxigraph as ox
from markupsafe import Markup, escape

from localoffer import namespaces as ns

from .describe import RDF_TYPE, Description, owns
from .formats import Format
from .vocab import DESCRIPTION_PROPERTIES, LABEL_PROPERTIES, PREFERRED_ORDER, curie, heading_for, label_for

ORDER = {p: i for i, p in enumerate(PREFERRED_ORDER)}  # where each property's row goes on a page
OX_FORMATS = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "rdf": ox.RdfFormat.RDF_XML}
XSD = ns.XSD


def context() -> dict[str, Any]:
    """The JSON-LD context published at /context.jsonld and used by every JSON-LD document."""
    return {"@context": {**{p: iri for p, iri in ns.PREFIXES.items()}, "foaf": "http://xmlns.com/foaf/0.1/"}}


def serialise(triples: list[ox.Triple], fmt: Format) -> bytes:
    """The triples in an RDF format (Turtle with the project's prefixes)."""
    if fmt.key == "jsonld":
        return json.dumps(to_jsonld(triples), ensure_ascii=False, indent=1).encode("utf-8")
    prefixes = {**ns.PREFIXES, "foaf": "http://xmlns.com/foaf/0.1/"} if fmt.key in ("ttl", "rdf") else None
    return ox.serialize(triples, format=OX_FORMATS[fmt.key], prefixes=prefixes)


def _term_json(term: Any) -> Any:
    if isinstance(term, ox.NamedNode):
        return {"@id": term.value}
    if isinstance(term, ox.BlankNode):
        return {"@id": f"_:{term.value}"}
    lang = term.language
    if lang:
        return {"@value": term.value, "@language": lang}
    if term.datatype.value == XSD + "string":
        return term.value
    return {"@value": term.value, "@type": term.datatype.value}


def to_jsonld(triples: list[ox.Triple]) -> dict[str, Any]:
    """A JSON-LD document: the context inline (the same as /context.jsonld, so it reads offline)
    and one node object per subject, keyed by compact IRIs."""
    nodes: dict[str, dict[str, Any]] = {}
    for t in triples:
        sid = t.subject.value if isinstance(t.subject, ox.NamedNode) else f"_:{t.subject.value}"
        node = nodes.setdefault(sid, {"@id": sid})
        if t.predicate.value == RDF_TYPE and isinstance(t.object, ox.NamedNode):
            node.setdefault("@type", []).append(curie(t.object.value))
        else:
            node.setdefault(curie(t.predicate.value), []).append(_term_json(t.object))
    return {**context(), "@graph": list(nodes.values())}


def script_json(data: Any) -> Markup:
    """JSON safe inside <script>: `<`, `>` and `&` are written as \\u escapes, so data can
    never close the element or open a comment."""
    text = json.dumps(data, ensure_ascii=False)  # no indent: the C encoder, several times faster
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def schema_org(desc: Description) -> dict[str, Any]:
    """The subject as schema.org JSON-LD for search engines (schema: properties only)."""
    by_subject = _index(desc.triples)
    parts = _part_keys(desc)

    def node(term: Any, depth: int) -> Any:
        if isinstance(term, ox.Literal):
            return term.value
        key = _key(term)
        if depth > 4 or key not in by_subject or (depth and not _is_part(desc, term, parts)):
            out: dict[str, Any] = {"@id": term.value}
            if term.value in desc.labels:
                out["name"] = desc.labels[term.value]
            return out
        obj: dict[str, Any] = {"@id": term.value} if isinstance(term, ox.NamedNode) else {}
        types = [t.object.value[len(ns.SCHEMA):] for t in by_subject[key]
                 if t.predicate.value == RDF_TYPE and t.object.value.startswith(ns.SCHEMA)]
        if types:
            obj["@type"] = types if len(types) > 1 else types[0]
        for t in by_subject[key]:
            p = t.predicate.value
            if p.startswith(ns.SCHEMA):
                obj.setdefault(p[len(ns.SCHEMA):], []).append(node(t.object, depth + 1))
        return {k: (v[0] if isinstance(v, list) and len(v) == 1 else v) for k, v in obj.items()}

    data = node(ox.NamedNode(desc.subject), 0)
    return {"@context": "https://schema.org", **data}


def _index(triples: list[ox.Triple]) -> dict[str, list[ox.Triple]]:
    out: dict[str, list[ox.Triple]] = {}
    for t in triples:
        out.setdefault(_key(t.subject), []).append(t)
    return out


def _key(term: Any) -> str:
    return term.value if isinstance(term, ox.NamedNode) else f"_:{term.value}"


def _part_keys(desc: Description) -> set[str]:
    """Keys of the terms that are parts of the subject: the objects it owns (see describe.owns)."""
    return {_key(t.object) for t in desc.triples
            if not isinstance(t.object, ox.Literal) and owns(desc.subject, t.object, t.predicate.value)}


def _is_part(desc: Description, term: Any, parts: set[str]) -> bool:
    return isinstance(term, ox.BlankNode) or term.value.startswith((desc.subject + "-", desc.subject + "#")) \
        or _key(term) in parts


# -- the HTML tree -----------------------------------------------------------------------------
@dataclass
class Value:
    """One value as the page shows it: text, a link, or a nested node."""

    text: str = ""
    href: str | None = None
    note: str = ""
    node: NodeView | None = None


@dataclass
class Row:
    """A property and its values."""

    iri: str
    label: str
    values: list[Value] = field(default_factory=list)


@dataclass
class NodeView:
    """A resource or a part of one, ready for the template."""

    iri: str | None
    title: str
    types: list[Value] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)


def format_literal(term: ox.Literal) -> tuple[str, str | None]:
    """Readable text of a literal, and an href when it is a web or mail address."""
    value, datatype = term.value, term.datatype.value if term.datatype else ""
    try:
        if datatype == XSD + "date":
            return dt.date.fromisoformat(value).strftime("%-d %B %Y"), None
        if datatype == XSD + "dateTime":
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).strftime("%-d %B %Y, %H:%M"), None
        if datatype == XSD + "time":
            return value[:5], None
        if datatype == XSD + "boolean":
            return ("Yes" if value in ("true", "1") else "No"), None
        if datatype == XSD + "decimal":
            number = Decimal(value)
            return (str(number.quantize(Decimal(1))) if number == number.to_integral_value()
                    else str(number)), None
    except (ValueError, InvalidOperation):
        return value, None
    if datatype == XSD + "anyURI" or (value.startswith(("http://", "https://")) and " " not in value):
        return value, safe_href(value)
    return value, None


def safe_href(value: str) -> str | None:
    """Only web and mail addresses become links (never javascript: or data: URLs)."""
    return value if value.lower().startswith(("http://", "https://", "mailto:")) else None


def build_tree(desc: Description, href_for: Any, *, skip: frozenset[str] = frozenset()) -> NodeView:
    """The subject as a NodeView: labelled properties, owned parts nested, links to the rest."""
    by_subject = _index(desc.triples)
    parts = _part_keys(desc)
    labels = desc.labels

    def view(term: Any, depth: int, path: frozenset[str]) -> NodeView:
        key = _key(term)
        triples = by_subject.get(key, [])
        iri = term.value if isinstance(term, ox.NamedNode) else None
        title = next((t.object.value for p in LABEL_PROPERTIES for t in triples
                      if t.predicate.value == p and isinstance(t.object, ox.Literal)), "")
        node = NodeView(iri, title)
        rows: dict[str, Row] = {}
        inside = path | {key}
        for t in triples:
            p = t.predicate.value
            if depth == 0 and p in skip:
                continue
            if p == RDF_TYPE:
                node.types.append(Value(label_for(t.object.value, labels), href_for(t.object.value)))
                continue
            row = rows.get(p)
            if row is None:
                row = rows[p] = Row(p, heading_for(p, labels))
            row.values.append(value(t.object, depth, inside))
        node.rows = sorted(rows.values(), key=lambda r: (ORDER.get(r.iri, len(ORDER)), r.label))
        return node

    def value(term: Any, depth: int, path: frozenset[str]) -> Value:
        if isinstance(term, ox.Literal):
            text, href = format_literal(term)
            note = term.language if term.language and term.language not in ("en", "en-gb") else ""
            return Value(text, href, note)
        key = _key(term)
        if key in by_subject and key not in path and depth < 6 and _is_part(desc, term, parts):
            return Value(node=view(term, depth + 1, path))
        if isinstance(term, ox.BlankNode):
            return Value("(blank node)")
        return Value(label_for(term.value, labels) if term.value in labels or not term.value.startswith("http")
                     else _readable_iri(term.value, labels), href_for(term.value))

    return view(ox.NamedNode(desc.subject), 0, frozenset())


def tree_html(node: NodeView) -> Markup:
    """The HTML of a NodeView: what the `node` macro of ld/_macros.html writes, character for
    character, made here because the macro's calls cost more than the rest of the page."""
    out: list[str] = ['<dl class="props">']
    _node_html(node, out)
    return Markup("".join(out))


def _node_html(node: NodeView, out: list[str]) -> None:
    if node.types:
        out.append("<dt>Type</dt><dd>")
        for t in node.types:
            text = escape(t.text)
            out.append(f'<span class="tag"><a href="{escape(t.href)}">{text}</a></span>' if t.href
                       else f'<span class="tag">{text}</span>')
        out.append("</dd>")
    for row in node.rows:
        out.append(f"\n<dt>{escape(row.label)}</dt>\n<dd>")
        if len(row.values) == 1:
            _value_html(row.values[0], out)
        else:
            out.append("<ul>")
            for v in row.values:
                out.append("<li>")
                _value_html(v, out)
                out.append("</li>")
            out.append("</ul>")
        out.append("</dd>")
    out.append("\n</dl>")


def _value_html(value: Value, out: list[str]) -> None:
    if value.node:
        out.append('<dl class="props">')
        _node_html(value.node, out)
        return
    text = escape(value.text)
    out.append(f'<a href="{escape(value.href)}">{text}</a>' if value.href
               else f'<span class="text">{text}</span>')
    if value.note:
        out.append(f' <span class="meta">({escape(value.note)})</span>')


def _readable_iri(iri: str, labels: dict[str, str]) -> str:
    known = label_for(iri, labels)
    return known if iri.startswith((ns.SCHEMA, ns.LO, ns.HSDS, ns.SCHEME)) else iri


def first_literal(desc: Description, subject: str, predicates: tuple[str, ...]) -> str | None:
    """The first literal value of one of *predicates* (in that order) on *subject*."""
    first: dict[str, str] = {}
    for t in desc.triples:
        p = t.predicate.value
        if p in predicates and p not in first and isinstance(t.object, ox.Literal) \
                and isinstance(t.subject, ox.NamedNode) and t.subject.value == subject:
            first[p] = t.object.value
    return next((first[p] for p in predicates if p in first), None)


def title_of(desc: Description) -> str:
    """The name of the subject for headings."""
    return first_literal(desc, desc.subject, LABEL_PROPERTIES) or desc.subject


def summary_of(desc: Description) -> str | None:
    """The subject's description, if it has one."""
    return first_literal(desc, desc.subject, DESCRIPTION_PROPERTIES)
