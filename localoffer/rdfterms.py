"""N-Triples term writers. The ingest emits N-Triples text (fast to build, streamed to the
store's bulk loader); these functions are the only place terms are spelled."""

from __future__ import annotations

import re
from decimal import Decimal

from localoffer.namespaces import XSD

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t",
            "\b": "\\b", "\f": "\\f"}
_NEEDS_ESCAPE = re.compile(r'[\\"\n\r\t\b\f\x00-\x1f\x7f]')
_IRI_BAD = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def _escape_char(m: re.Match[str]) -> str:
    ch = m.group(0)
    return _ESCAPES.get(ch) or f"\\u{ord(ch):04X}"


def iri(value: str) -> str:
    """`<value>`, with characters N-Triples forbids in IRIs percent-encoded."""
    if _IRI_BAD.search(value):
        value = _IRI_BAD.sub(lambda m: "".join(f"%{b:02X}" for b in m.group(0).encode()), value)
    return f"<{value}>"


def lit(value: str, datatype: str | None = None, lang: str | None = None) -> str:
    """A literal: plain string, language-tagged, or typed."""
    text = _NEEDS_ESCAPE.sub(_escape_char, value) if _NEEDS_ESCAPE.search(value) else value
    if lang:
        return f'"{text}"@{lang}'
    if datatype and datatype != XSD + "string":
        return f'"{text}"^^<{datatype}>'
    return f'"{text}"'


def typed(value: object, kind: str) -> str:
    """A literal of XSD type *kind* (`integer`, `decimal`, `boolean`, `date`, ...)."""
    if kind == "boolean":
        text = "true" if value else "false"
    elif kind == "decimal":
        text = _decimal_text(value)
    else:
        text = str(value)
    return lit(text, XSD + kind)


def _decimal_text(value: object) -> str:
    d = Decimal(str(value))
    text = format(d.normalize(), "f") if d == d.to_integral_value() else format(d, "f")
    return text if "." in text else f"{text}.0"


def triple(s: str, p: str, o: str) -> str:
    """One N-Triples line from three already-written terms."""
    return f"{s} {p} {o} .\n"
