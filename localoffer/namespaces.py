"""Namespaces (declared once) and the one function that mints instance IRIs."""

from __future__ import annotations

import re
import uuid
from functools import lru_cache
from urllib.parse import quote

LO = "https://w3id.org/localoffer/def#"
HSDS = "https://w3id.org/localoffer/def/hsds#"
SCHEME = "https://w3id.org/localoffer/def/scheme/"
SCHEMA = "https://schema.org/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
GEO = "http://www.opengis.net/ont/geosparql#"
WGS = "http://www.w3.org/2003/01/geo/wgs84_pos#"
CPSV = "http://purl.org/vocab/cpsv#"
CV = "http://data.europa.eu/m8g/"
ADMS = "http://www.w3.org/ns/adms#"
VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
SH = "http://www.w3.org/ns/shacl#"
STATGEO = "http://statistics.data.gov.uk/id/statistical-geography/"

PREFIXES: dict[str, str] = {
    "lo": LO, "hsds": HSDS, "schema": SCHEMA, "rdf": RDF, "rdfs": RDFS, "owl": OWL, "xsd": XSD,
    "skos": SKOS, "dcterms": DCTERMS, "prov": PROV, "geo": GEO, "wgs": WGS, "cpsv": CPSV,
    "cv": CV, "adms": ADMS, "void": VOID, "dcat": DCAT, "sh": SH,
}

KINDS = frozenset({
    "service", "organization", "location", "service-at-location", "contact", "phone",
    "schedule", "service-area", "language", "funding", "cost-option", "program",
    "required-document", "accessibility", "address", "taxonomy", "taxonomy-term", "attribute",
    "organization-identifier", "authority", "local-offer", "information", "url", "change",
})

GSS_CODE = re.compile(r"^[EWSN]\d{8}$")
_SAFE_ID = re.compile(r"[^A-Za-z0-9._~-]+")


def sparql_prefixes() -> str:
    """The PREFIX lines for every namespace, for queries written by hand."""
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())


def is_uuid(value: str) -> bool:
    """True when *value* is a UUID in any of its usual spellings."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=1 << 16)
def local_id(source_id: str, authority: str | None = None) -> str:
    """The id part of an instance IRI: a UUID as it is (lower case), anything else
    prefixed by the authority so that ids stay unique across authorities hosted together."""
    text = str(source_id).strip()
    if is_uuid(text):
        return text.lower()
    safe = quote(text, safe="") if _SAFE_ID.search(text) else text
    return f"{authority.lower()}-{safe}" if authority else safe


def mint(base: str, kind: str, source_id: str, *, authority: str | None = None,
         doc: bool = False) -> str:
    """Mint the IRI of a thing (`{base}/id/{kind}/{id}`) or of its document (`/doc/`)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    return f"{base.rstrip('/')}/{'doc' if doc else 'id'}/{kind}/{local_id(source_id, authority)}"


def authority_iri(base: str, gss: str) -> str:
    """The IRI of a local authority, from its ONS GSS code."""
    return f"{base.rstrip('/')}/id/authority/{gss}"


def graph_iri(base: str, role: str, name: str | None = None) -> str:
    """The IRI of a named graph: source/{id}, harvest/{authority}, validation/{authority},
    or one of links, meta, def."""
    tail = f"{role}/{name}" if name else role
    return f"{base.rstrip('/')}/graph/{tail}"


def doc_for(iri: str, base: str) -> str | None:
    """The document IRI for a thing IRI minted under *base*, or None for foreign IRIs."""
    prefix = f"{base.rstrip('/')}/id/"
    if not iri.startswith(prefix):
        return None
    return f"{base.rstrip('/')}/doc/{iri[len(prefix):]}"
