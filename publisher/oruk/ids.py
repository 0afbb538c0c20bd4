"""ORUK ids for RDF nodes. A record's id is its `schema:identifier` (the source id) when that
is a UUID, as the profile requires; otherwise, and for nodes that carry no identifier (the SEND
concepts of the def graph, nested objects a source gave no id), a UUID derived from the node's
IRI. The derivation is the same in Python and in SPARQL, so that derived ids can be searched."""

from __future__ import annotations

import hashlib
import re

UUID_PATTERN = "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
_UUID = re.compile(UUID_PATTERN)
_VARIANT = "89ab89ab89ab89ab"  # hex digit -> an RFC 9562 variant nibble (10xx)


def is_uuid(text: str | None) -> bool:
    """True for a UUID in its canonical 8-4-4-4-12 hex spelling (any case)."""
    return bool(text) and bool(_UUID.match(text or ""))


def derived_id(iri: str) -> str:
    """A UUIDv8 (RFC 9562, custom) built from the MD5 of *iri*: stable and searchable in SPARQL."""
    h = hashlib.md5(iri.encode("utf-8")).hexdigest()
    return f"{h[:8]}-{h[8:12]}-8{h[13:16]}-{_VARIANT[int(h[16], 16)]}{h[17:20]}-{h[20:32]}"


def oruk_id(iri: str, identifier: str | None) -> str:
    """The id a node is served under: its identifier when that is a UUID, else the UUID its
    minted IRI ends with (`.../id/organization/{uuid}`: a node only referred to), else derived."""
    if identifier is not None and is_uuid(identifier):
        return identifier
    tail = local_part(iri)
    return tail if is_uuid(tail) else derived_id(iri)


def local_part(iri: str) -> str:
    """The last path segment of an IRI (`.../id/organization/{id}` -> `{id}`)."""
    return iri.rsplit("/", 1)[-1]


def sparql_derived_id(node: str) -> str:
    """The SPARQL expression of `derived_id` for the IRI bound to *node* (e.g. `?s`)."""
    h = f"MD5(STR({node}))"
    return (f'CONCAT(SUBSTR({h}, 1, 8), "-", SUBSTR({h}, 9, 4), "-8", SUBSTR({h}, 14, 3), "-", '
            f'SUBSTR("{_VARIANT}", STRLEN(STRBEFORE("0123456789abcdef", SUBSTR({h}, 17, 1))) + 1, 1), '
            f'SUBSTR({h}, 18, 3), "-", SUBSTR({h}, 21, 12))')
