"""Reading a neighbour's offer: from its SPARQL endpoint (CONSTRUCT in pages, stable order),
from a dump, or from its ORUK API (through the ingest's readers and mapping), always with
conditional requests where the server supports them. Each returns a `Snapshot` (the triples
and the validators to remember) or None when the neighbour answered 304 Not Modified."""

from __future__ import annotations

import gzip
import io
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from localoffer import namespaces as ns
from localoffer.config import Settings
from localoffer.errors import HarvestError, LocalOfferError
from localoffer.http import check_target, only_hosts

from . import remote
from .remote import RESULTS_JSON, Policy

PAGE_TRIPLES = 5000
Progress = Callable[[int, int | None], None]
DUMP_SUFFIXES = {".nq": ox.RdfFormat.N_QUADS, ".nt": ox.RdfFormat.N_TRIPLES, ".ttl": ox.RdfFormat.TURTLE,
                 ".trig": ox.RdfFormat.TRIG, ".jsonld": ox.RdfFormat.JSON_LD, ".rdf": ox.RdfFormat.RDF_XML}


@dataclass
class Snapshot:
    """What a neighbour holds now: triples, and the HTTP validators of the request that
    decides whether anything changed next time."""

    triples: list[Any]
    etag: str | None = None
    last_modified: str | None = None
    location: str = ""
    graphs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Validators:
    """What we remembered from the last harvest."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        """If-None-Match / If-Modified-Since for a conditional request."""
        out = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out


def authority_graphs_query(gss: str) -> str:
    """The named graphs that declare the authority (a localoffer source graph always does),
    with their sizes: the first, conditional request of a SPARQL harvest."""
    return (f"PREFIX lo: <{ns.LO}>\nPREFIX skos: <{ns.SKOS}>\n"
            f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ {{ SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ "
            f'?a a lo:LocalAuthority ; skos:notation "{gss}" }} }} }} GRAPH ?g {{ ?s ?p ?o }} }}\n'
            f"GROUP BY ?g ORDER BY ?g")


def page_query(graphs: list[str], limit: int, offset: int) -> str:
    """One page of the graphs' triples, in a stable order (ORDER BY subject, predicate, object)."""
    values = " ".join(f"<{g}>" for g in graphs)
    return (f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {{ SELECT DISTINCT ?s ?p ?o WHERE {{ "
            f"VALUES ?g {{ {values} }} "
            f"GRAPH ?g {{ ?s ?p ?o }} }} ORDER BY ?s ?p ?o LIMIT {limit} OFFSET {offset} }} }}")


def authority_graphs(endpoint: str, gss: str, policy: Policy, known: Validators
                     ) -> tuple[list[tuple[str, int]], Any] | None:
    """The neighbour's graphs for *gss* with their sizes and the response (None: 304)."""
    response = remote.request(endpoint, authority_graphs_query(gss), policy, accept=RESULTS_JSON,
                              headers=known.headers())
    if response.status_code == 304:
        return None
    solutions = remote.parse_results(endpoint, response)
    graphs = [(row["g"].value, int(row["n"].value)) for row in solutions
              if isinstance(row["g"], ox.NamedNode)]
    if not graphs:
        raise HarvestError(f"{endpoint}: holds no graph that declares authority {gss} "
                           "(a lo:LocalAuthority with skos:notation); nothing to harvest")
    return graphs, response


def from_sparql(endpoint: str, gss: str, policy: Policy, known: Validators,
                progress: Progress | None = None, page_size: int = PAGE_TRIPLES) -> Snapshot | None:
    """Harvest through the SPARQL endpoint: CONSTRUCT the authority's graphs page by page."""
    found = authority_graphs(endpoint, gss, policy, known)
    if found is None:
        return None
    graphs, response = found
    total = sum(n for _, n in graphs)
    names = [g for g, _ in graphs]
    triples: list[Any] = []
    offset = 0
    while True:
        page = remote.request(endpoint, page_query(names, page_size, offset), policy,
                              accept=remote.GRAPH_ACCEPT)
        got = remote.parse_graph(endpoint, page)
        triples.extend(got)
        offset += page_size
        if progress:
            progress(len(triples), total)
        if len(got) < page_size:
            break
        if len(triples) * 200 > policy.max_bytes:  # ~200 bytes a triple: the size cap
            raise HarvestError(f"{endpoint}: more than {policy.max_bytes // 2**20} MB of triples "
                               "(LOCALOFFER_HARVEST_MAX_MB); refused")
    return Snapshot(triples, response.headers.get("ETag"), response.headers.get("Last-Modified"),
                    endpoint, names)


def from_dump(url: str, gss: str, policy: Policy, known: Validators) -> Snapshot | None:
    """Harvest a dump (N-Quads, N-Triples, Turtle, TriG, ...; gzipped or not). With named
    graphs, only those declaring the authority are kept."""
    response = remote.get(url, policy, accept="application/n-quads, application/n-triples;q=0.9, "
                          "text/turtle;q=0.8, application/gzip;q=0.5", headers=known.headers())
    if response.status_code == 304:
        return None
    if response.status_code != 200:
        raise HarvestError(f"{url}: answered HTTP {response.status_code}; expected the dump")
    body = response.content
    mime = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    looks_html = body.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html"))
    if mime in ("text/html", "application/xhtml+xml") or looks_html:
        raise HarvestError(f"{url}: answered {mime or 'HTML'} ({remote.excerpt(response)}), not an RDF dump")
    name = url.split("?", 1)[0].lower()
    if body[:2] == b"\x1f\x8b":
        body = _gunzip(url, body, policy.max_bytes)
        name = name.removesuffix(".gz")
    fmt = remote.GRAPH_TYPES.get(mime) if mime != "text/plain" else None
    fmt = fmt or next((f for s, f in DUMP_SUFFIXES.items() if name.endswith(s)), None)
    if fmt is None:
        raise HarvestError(f"{url}: cannot tell the RDF format from the name or the Content-Type "
                           f"({response.headers.get('Content-Type') or 'none'})")
    try:
        quads = list(ox.parse(body, format=fmt))
    except SyntaxError as exc:
        raise HarvestError(f"{url}: not valid {fmt}: {exc}") from None
    triples = _authority_triples(quads, gss)
    if not triples:
        raise HarvestError(f"{url}: the dump holds nothing for authority {gss}")
    return Snapshot(triples, response.headers.get("ETag"), response.headers.get("Last-Modified"), url)


def _gunzip(url: str, body: bytes, limit: int) -> bytes:
    """Decompress with the size cap applied to the output (a small bomb stays small)."""
    out = io.BytesIO()
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        for start in range(0, len(body), 65536):
            out.write(inflater.decompress(body[start:start + 65536], limit + 1 - out.tell()))
            if out.tell() > limit:
                raise HarvestError(f"{url}: more than {limit // 2**20} MB once decompressed; refused")
        out.write(inflater.flush())
    except (zlib.error, EOFError, gzip.BadGzipFile) as exc:
        raise HarvestError(f"{url}: the gzip data is corrupt: {exc}") from None
    return out.getvalue()


def _authority_triples(quads: list[Any], gss: str) -> list[Any]:
    named = {q.graph_name for q in quads
             if isinstance(q, ox.Quad) and not isinstance(q.graph_name, ox.DefaultGraph)}
    if not named:
        return [q.triple if isinstance(q, ox.Quad) else q for q in quads]
    lo_authority, notation = ox.NamedNode(ns.LO + "LocalAuthority"), ox.NamedNode(ns.SKOS + "notation")
    rdf_type = ox.NamedNode(ns.RDF + "type")
    typed = {(q.subject, q.graph_name) for q in quads if q.predicate == rdf_type and q.object == lo_authority}
    keep = {q.graph_name for q in quads if q.predicate == notation and q.object == ox.Literal(gss)
            and (q.subject, q.graph_name) in typed}
    return list({q.triple for q in quads if q.graph_name in keep})


def from_oruk(url: str, gss: str, settings: Settings, policy: Policy,
              progress: Progress | None = None) -> Snapshot:
    """Harvest an ORUK/HSDS API through the ingest (its readers and mapping) into a scratch
    store, then take the mapped graph. The API host must be on the allow-list."""
    from localoffer.ingest.pipeline import ingest
    from localoffer.store import open_store

    check_target(url, set(policy.explicit), set(policy.listed))
    with tempfile.TemporaryDirectory(prefix="localoffer-harvest-") as tmp:
        scratch_settings = replace(settings, store=str(Path(tmp) / "store"))
        scratch = open_store(scratch_settings)
        try:
            with only_hosts(set(policy.listed)):  # the reader's pages and redirects too
                report = ingest(scratch, scratch_settings, url, authority=gss, fmt="api",
                                source_id=f"harvest-{gss.lower()}", progress=progress)
            triples = list(scratch.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{report.graph}> "
                                         "{ ?s ?p ?o } }"))
        except LocalOfferError as exc:
            raise HarvestError(f"{url}: {exc}") from None
        finally:
            scratch.close()
    return Snapshot(triples, location=url)
