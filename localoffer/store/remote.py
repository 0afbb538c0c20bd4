"""A remote SPARQL 1.1 store behind the same interface as the embedded one: queries over the
SPARQL Protocol, writes through the Graph Store HTTP Protocol (into staging graphs) and one
SPARQL Update that swaps them in.

Server kinds differ in where their endpoints are and in a few dialect details; each difference
is handled where it matters and marked "kind:". The kind is guessed from the query endpoint's
path unless LOCALOFFER_STORE_KIND names it."""

from __future__ import annotations

import io
import re
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import pyoxigraph as ox
import requests

from localoffer import namespaces as ns
from localoffer.config import Settings
from localoffer.errors import ConfigError, QueryError, StoreError
from localoffer.sparqlguard import query_form
from localoffer.store import GraphResult, Store, WriteSession
from localoffer.textindex import publish_cached, touched_by_update

WRITE_TIMEOUT = 600.0  # seconds; LOCALOFFER_STORE_WRITE_TIMEOUT
MIME = {"nt": "application/n-triples", "ttl": "text/turtle", "nq": "application/n-quads",
        "trig": "application/trig", "jsonld": "application/ld+json", "rdf": "application/rdf+xml"}
KINDS = ("oxigraph", "virtuoso", "fuseki", "graphdb", "neptune", "generic")
# A CONSTRUCT of PROBE_SIDE² triples made from VALUES alone: a store that silently cuts graph
# answers at a row limit (Virtuoso's ResultSetMaxRows, 10,000 in Debian's ini) answers fewer.
PROBE_SIDE = 110
_PROBE = ("CONSTRUCT { ?s <urn:localoffer:probe> ?o } WHERE { VALUES ?s { "
          + " ".join(f"<urn:localoffer:probe:{i}>" for i in range(PROBE_SIDE))
          + " } VALUES ?o { " + " ".join(str(i) for i in range(PROBE_SIDE)) + " } }")


@dataclass(frozen=True)
class Endpoints:
    """Where a server answers queries, updates and Graph Store Protocol requests."""

    kind: str
    query: str
    update: str
    gsp: str | None
    graph_param: str = "graph"


def infer_endpoints(url: str, kind: str | None = None, update: str | None = None,
                    gsp: str | None = None) -> Endpoints:
    """The endpoints for a `sparql+http(s)://` store URL naming the query endpoint."""
    query = url.removeprefix("sparql+")
    path = urlsplit(query).path.rstrip("/")
    root = query[: len(query) - len(urlsplit(query).path)] if urlsplit(query).path else query
    if kind is None:
        if path.endswith("/query") and path.count("/") == 1:
            kind = "oxigraph"
        elif path == "/sparql" and urlsplit(query).port == 8890:
            kind = "virtuoso"
        elif "/repositories/" in path:
            kind = "graphdb"
        elif path.endswith(("/query", "/sparql")) and path.count("/") >= 2:
            kind = "fuseki"
        else:
            kind = "generic"
    if kind not in KINDS:
        raise ConfigError(f"LOCALOFFER_STORE_KIND={kind!r}: choose one of {', '.join(KINDS)}")
    base = query.rsplit("/", 1)[0]
    if kind == "oxigraph":
        guess = Endpoints(kind, query, f"{base}/update", f"{base}/store")
    elif kind == "virtuoso":
        # kind: Virtuoso takes updates on /sparql and the GSP on /sparql-graph-crud with
        # `graph-uri` instead of `graph`.
        guess = Endpoints(kind, query, query, f"{root}/sparql-graph-crud", "graph-uri")
    elif kind == "fuseki":
        guess = Endpoints(kind, query, f"{base}/update", f"{base}/data")
    elif kind == "graphdb":
        guess = Endpoints(kind, query, f"{query}/statements", f"{query}/rdf-graphs/service")
    else:
        # kind: Neptune and unknown servers: updates on the query endpoint, no GSP (data is
        # sent as INSERT DATA in chunks instead).
        guess = Endpoints(kind, query, query, None)
    return Endpoints(guess.kind, guess.query, update or guess.update, gsp or guess.gsp,
                     guess.graph_param)


class RemoteSession(WriteSession):
    """Uploads go to staging graphs at once; the swap is one SPARQL Update at the end."""

    def __init__(self, store: RemoteStore) -> None:
        self.store = store
        self.staged: list[str] = []
        self.ops: list[str] = []
        self.touched: set[str] | None = set()  # graphs changed (None: any), for the text index
        self.marker = str(uuid.uuid4())  # the version this session publishes

    def _stage(self, data: Path | bytes, fmt: str) -> str:
        staging = f"{self.store.base}/graph/staging/{uuid.uuid4()}"
        self.staged.append(staging)
        self.store.put_graph(staging, data, fmt)
        return staging

    def replace_graph(self, graph: str, ntriples: Path) -> None:
        staging = self._stage(ntriples, "nt")
        self.touched = touched_by_update(f"<{graph}>", self.touched)
        self.ops.append(f"DROP SILENT GRAPH <{graph}>")
        self.ops.append(f"ADD <{staging}> TO <{graph}>")
        self.ops.append(f"DROP SILENT GRAPH <{staging}>")

    def load(self, graph: str, data: Path | bytes, fmt: str = "nt") -> None:
        if fmt in ("nq", "trig"):
            raise StoreError("loading quads into a remote store: split them by graph first")
        staging = self._stage(data, fmt)
        self.touched = touched_by_update(f"<{graph}>", self.touched)
        self.ops.append(f"ADD <{staging}> TO <{graph}>")
        self.ops.append(f"DROP SILENT GRAPH <{staging}>")

    def drop_graph(self, graph: str) -> None:
        self.touched = touched_by_update(f"<{graph}>", self.touched)
        self.ops.append(f"DROP SILENT GRAPH <{graph}>")

    def update(self, sparql: str) -> None:
        self.touched = touched_by_update(sparql, self.touched)
        self.ops.append(sparql.strip().rstrip(";"))

    def query(self, sparql: str) -> Any:
        return self.store.query(sparql)

    def commit(self) -> None:
        marker = f"{self.store.base}/graph/meta"
        self.ops.append(f"DELETE WHERE {{ GRAPH <{marker}> {{ <{marker}> <{ns.LO}storeVersion> ?v }} }}")
        self.ops.append(f'INSERT DATA {{ GRAPH <{marker}> {{ <{marker}> <{ns.LO}storeVersion> '
                        f'"{self.marker}" }} }}')
        self.store.run_update(" ;\n".join(self.ops))

    def abort(self) -> None:
        for staging in self.staged:
            try:
                self.store.run_update(f"DROP SILENT GRAPH <{staging}>")
            except StoreError:
                pass


def _raise_virtuoso_limit(r: requests.Response, what: str) -> None:
    """Name the virtuoso.ini setting when Virtuoso refused a write at one of its own limits."""
    if r.status_code < 300:
        return
    said = r.text.strip()
    if "SR171" in said:
        # kind: Virtuoso stops every SPARQL request, updates included, at its
        # MaxQueryExecutionTime (60 s in Debian's virtuoso.ini).
        raise StoreError(f"the SPARQL store stopped {what} at its own time limit (SR171: transaction "
                         "timed out); on Virtuoso set MaxQueryExecutionTime = 0 in the [SPARQL] "
                         "section of virtuoso.ini (replacing a large graph takes minutes; localoffer "
                         "bounds reads itself: LOCALOFFER_QUERY_TIMEOUT)")
    if "SR325" in said:
        # kind: Virtuoso aborts a write whose transaction log outgrows
        # TransactionAfterImageLimit (50 MB unless set): uploading or replacing a large graph does.
        raise StoreError(f"the SPARQL store aborted {what} as too large for its transaction log "
                         "(SR325); on Virtuoso raise TransactionAfterImageLimit in the [Parameters] "
                         "section of virtuoso.ini above the size of the largest graph localoffer "
                         "writes (a validation report of 30,000 services needs more than the "
                         "default 50 MB)")


class RemoteStore(Store):
    """Any SPARQL 1.1 store reached over HTTP; see the module docstring."""

    def __init__(self, settings: Settings) -> None:
        extra = settings.extra
        self.base = settings.base
        self.endpoints = infer_endpoints(settings.store, extra.get("store_kind"),
                                         extra.get("update_endpoint"), extra.get("gsp_endpoint"))
        self.timeout = settings.http_timeout
        # Writes (an update, a graph replaced) may take minutes for a large graph: their own limit.
        self.write_timeout = float(extra.get("store_write_timeout") or WRITE_TIMEOUT)
        self.retries = settings.http_retries
        # Where this node keeps its search files (localoffer.textindex.index_folder).
        self.index_cache = str(extra.get("index_cache") or "") or None
        self.http = requests.Session()
        self._limit_checked = False
        token, user = extra.get("store_token"), extra.get("store_user")
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"
        elif user:
            password = str(extra.get("store_password", ""))
            if str(extra.get("store_auth", "basic")).lower() == "digest":
                self.http.auth = requests.auth.HTTPDigestAuth(str(user), password)
            else:
                self.http.auth = (str(user), password)

    # -- HTTP ----------------------------------------------------------------------------
    def _send(self, method: str, url: str, *, idempotent: bool, write: bool = False,
              **kwargs: Any) -> requests.Response:
        limit = self.write_timeout if write else self.timeout
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.http.request(method, url, timeout=limit, **kwargs)
            except requests.ReadTimeout:
                if not idempotent or attempt > self.retries:
                    raise StoreError(self._late(url, write, idempotent)) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                if not idempotent or attempt > self.retries:
                    raise StoreError(f"the SPARQL store at {url} is unreachable: "
                                     f"{exc.__class__.__name__}") from None
            else:
                if response.status_code < 500 or not idempotent or attempt > self.retries:
                    return response
            time.sleep(min(0.25 * 2 ** (attempt - 1), 4.0))

    def _late(self, url: str, write: bool, idempotent: bool) -> str:
        """What to say when the store took longer than its limit to answer."""
        if write:
            maybe = "" if idempotent else " (it may still take effect)"
            return (f"the SPARQL store at {url} did not finish a write within {self.write_timeout:g} s"
                    f"{maybe}; a large graph can take longer: raise LOCALOFFER_STORE_WRITE_TIMEOUT")
        return (f"the SPARQL store at {url} did not answer within {self.timeout:g} s "
                "(LOCALOFFER_HTTP_TIMEOUT)")

    def run_update(self, sparql: str) -> None:
        """Send one SPARQL Update request (not retried: it may have taken effect)."""
        r = self._send("POST", self.endpoints.update, idempotent=False, data={"update": sparql},
                       write=True)
        _raise_virtuoso_limit(r, "an update")
        if r.status_code >= 300:
            raise StoreError(f"the SPARQL store refused an update (HTTP {r.status_code}): {r.text[:500]}")

    def put_graph(self, graph: str, data: Path | bytes, fmt: str) -> None:
        """Create or replace *graph* with the data (GSP PUT, or INSERT DATA where no GSP)."""
        body = data.read_bytes() if isinstance(data, Path) else data
        if self.endpoints.gsp is None:
            self._insert_data(graph, body, fmt)
            return
        r = self._send("PUT", self.endpoints.gsp, idempotent=True, write=True,
                       params={self.endpoints.graph_param: graph}, data=body,
                       headers={"Content-Type": MIME[fmt]})
        _raise_virtuoso_limit(r, f"data for <{graph}>")
        if r.status_code >= 300:
            raise StoreError(f"the SPARQL store refused data for <{graph}> "
                             f"(HTTP {r.status_code}): {r.text[:500]}")

    def _insert_data(self, graph: str, body: bytes, fmt: str, chunk: int = 1000) -> None:
        triples = [f"{t.subject} {t.predicate} {t.object} ." for t in ox.parse(body, format=_rdf_format(fmt))]
        for i in range(0, len(triples), chunk):
            part = "\n".join(triples[i:i + chunk])
            self.run_update(f"INSERT DATA {{ GRAPH <{graph}> {{ {part} }} }}")

    # -- reading -------------------------------------------------------------------------
    def query(self, sparql: str, *, default_graph: Sequence[str] | None = None,
              named_graphs: Sequence[str] | None = None) -> Any:
        form: dict[str, Any] = {"query": sparql}
        if default_graph:
            form["default-graph-uri"] = list(default_graph)
        elif self.endpoints.kind == "oxigraph":
            # kind: Oxigraph server's default graph is its own; ask for the union explicitly.
            form["union-default-graph"] = ""
        if named_graphs:
            form["named-graph-uri"] = list(named_graphs)
        # kind: Virtuoso answers CONSTRUCT in SPARQL JSON when that is acceptable, so ask for
        # a graph format when the query makes a graph.
        if query_form(sparql) in ("CONSTRUCT", "DESCRIBE"):
            accept = "application/n-triples, text/turtle;q=0.9"
            if not self._limit_checked:
                self._check_graph_answers_are_whole()
        else:
            accept = "application/sparql-results+json, application/sparql-results+xml;q=0.9"
        return _decode(self._answer(form, accept))

    def _answer(self, form: dict[str, Any], accept: str) -> requests.Response:
        """POST a query; a refusal or a cut answer becomes an error that says what to change."""
        r = self._send("POST", self.endpoints.query, idempotent=True, data=form,
                       headers={"Accept": accept})
        if r.status_code >= 300 and "estimated execution time" in r.text:
            # kind: Virtuoso refuses by its cost *estimate*, which for fresh graphs is wild.
            raise StoreError(
                "the SPARQL store refused the query on its own estimate of the cost, not by "
                f"running it ({r.text.strip().splitlines()[0][:300]}); set "
                "MaxQueryCostEstimationTime = 0 in the [SPARQL] section of virtuoso.ini "
                "(localoffer stops long queries itself: LOCALOFFER_QUERY_TIMEOUT)")
        if r.status_code == 400:
            raise QueryError(f"the SPARQL store rejected the query: {r.text[:500]}")
        if r.status_code >= 300:
            raise StoreError(f"the SPARQL store failed (HTTP {r.status_code}): {r.text[:500]}")
        if r.headers.get("X-SPARQL-MaxRows"):
            # kind: Virtuoso says so when it has cut a SELECT at ResultSetMaxRows.
            raise StoreError(_cut_message(f"cut the answer at {r.headers['X-SPARQL-MaxRows']} rows"))
        return r

    def _check_graph_answers_are_whole(self) -> None:
        """Once per store handle: refuse to go on with a store that cuts graph answers silently
        (a dump, a document or a validation would then be missing triples without a sign)."""
        got = sum(1 for _ in _decode(self._answer({"query": _PROBE}, "application/n-triples")))
        if got < PROBE_SIDE ** 2:
            raise StoreError(_cut_message(f"answered a CONSTRUCT of {PROBE_SIDE ** 2} triples "
                                          f"with only {got}"))
        self._limit_checked = True

    def named_graphs(self) -> list[str]:
        rows = self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        prefix = f"{self.base}/graph/"
        # kind: Virtuoso lists its system graphs too; only ours count.
        return sorted(r["g"].value for r in rows if r["g"].value.startswith(prefix)
                      and "/graph/staging/" not in r["g"].value)

    def version(self) -> str:
        marker = f"{self.base}/graph/meta"
        rows = list(self.query(f"SELECT ?v WHERE {{ GRAPH <{marker}> {{ <{marker}> "
                               f"<{ns.LO}storeVersion> ?v }} }}"))
        return rows[0]["v"].value if rows else "empty"

    def dump(self, out: IO[bytes], fmt: str = "nq", graph: str | None = None) -> None:
        graphs = [graph] if graph else self.named_graphs()
        quads: list[ox.Quad] = []
        for g in graphs:
            result = self.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}")
            node = ox.NamedNode(g)
            quads.extend(ox.Quad(t.subject, t.predicate, t.object, node) for t in result)
        if fmt in ("nq", "trig"):
            ox.serialize(quads, out, _rdf_format(fmt))
        else:
            ox.serialize({ox.Triple(q.subject, q.predicate, q.object) for q in quads}, out, _rdf_format(fmt))

    @contextmanager
    def write(self) -> Iterator[WriteSession]:
        session = RemoteSession(self)
        previous = self.version()
        try:
            yield session
            session.commit()
        except BaseException:
            session.abort()
            raise
        publish_cached(self, session, previous)

    def close(self) -> None:
        self.http.close()


_VIRTUOSO_BNODE = re.compile(rb'"type"\s*:\s*"bnode"\s*,\s*"value"\s*:\s*"nodeID://([^"]*)"')


def _blank_labels(body: bytes) -> bytes:
    """Virtuoso names blank nodes in results `nodeID://b10006`, which is not a blank node label
    (pyoxigraph refuses it): keep what follows the scheme, prefixed so that it is one
    (`_:vb10006`). Labels only name nodes within one result, as the protocol says."""
    if b"nodeID://" not in body:
        return body
    return _VIRTUOSO_BNODE.sub(lambda m: b'"type": "bnode", "value": "v' + re.sub(rb"[^A-Za-z0-9_]", b"_",
                                                                                     m.group(1)) + b'"', body)


def _decode(r: requests.Response) -> Any:
    """Query results or a graph, by the answer's media type."""
    ctype = r.headers.get("Content-Type", "").split(";")[0].strip()
    if ctype in ("application/sparql-results+json", "application/json"):
        return ox.parse_query_results(_blank_labels(r.content), format=ox.QueryResultsFormat.JSON)
    if ctype == "application/sparql-results+xml":
        return ox.parse_query_results(r.content, format=ox.QueryResultsFormat.XML)
    fmt = {"application/n-triples": "nt", "text/plain": "nt", "text/turtle": "ttl",
           "application/rdf+xml": "rdf", "application/ld+json": "jsonld"}.get(ctype)
    if fmt is None:
        raise StoreError(f"the SPARQL store answered with an unexpected type {ctype!r}")
    return GraphResult(list(ox.parse(r.content, format=_rdf_format(fmt))))


def _cut_message(what: str) -> str:
    return (f"the SPARQL store {what}: it limits the rows of an answer (Virtuoso: "
            "ResultSetMaxRows in the [SPARQL] section of virtuoso.ini). localoffer needs whole "
            "answers; set ResultSetMaxRows = 0 (localoffer caps what it serves itself: "
            "LOCALOFFER_RESULT_LIMIT)")


def _rdf_format(fmt: str) -> ox.RdfFormat:
    from localoffer.store.embedded import FORMATS

    return FORMATS[fmt]


__all__ = ["RemoteStore", "infer_endpoints", "Endpoints", "io"]
