"""Talking to other SPARQL endpoints under the allow-list: the policy (which hosts, how long,
how much), and query requests whose answers are checked before they are believed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
import requests

from localoffer.config import Settings
from localoffer.errors import HarvestError
from localoffer.http import fetch

RESULTS_JSON = "application/sparql-results+json"
GRAPH_TYPES = {"application/n-triples": ox.RdfFormat.N_TRIPLES, "text/plain": ox.RdfFormat.N_TRIPLES,
               "text/turtle": ox.RdfFormat.TURTLE, "application/n-quads": ox.RdfFormat.N_QUADS,
               "application/trig": ox.RdfFormat.TRIG, "application/rdf+xml": ox.RdfFormat.RDF_XML,
               "application/ld+json": ox.RdfFormat.JSON_LD}
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/n-quads;q=0.5"


@dataclass(frozen=True)
class Policy:
    """What outbound federation may do: *listed* hosts may be contacted at all, *explicit*
    ones (LOCALOFFER_ALLOWED_HOSTS) even on non-public addresses; a timeout per request,
    retries, and caps on bytes and rows."""

    listed: frozenset[str]
    explicit: frozenset[str]
    timeout: float = 10.0
    retries: int = 1
    max_bytes: int = 256 * 1024 * 1024
    max_rows: int = 10000


def policy_for(settings: Settings, *, timeout: float | None = None, retries: int | None = None,
               max_rows: int | None = None) -> Policy:
    """The policy from the settings: the neighbours registry, LOCALOFFER_ALLOWED_HOSTS,
    LOCALOFFER_HTTP_TIMEOUT/RETRIES and LOCALOFFER_HARVEST_MAX_MB."""
    from localoffer.neighbours import allow_list

    allowed = allow_list(settings)
    max_mb = float(settings.extra.get("harvest_max_mb", 256))
    return Policy(frozenset(allowed.contactable()), allowed.explicit,
                  timeout=settings.http_timeout if timeout is None else timeout,
                  retries=settings.http_retries if retries is None else retries,
                  max_bytes=int(max_mb * 1024 * 1024),
                  max_rows=settings.result_limit if max_rows is None else max_rows)


def get(url: str, policy: Policy, *, accept: str, headers: dict[str, str] | None = None,
        form: dict[str, str] | None = None) -> requests.Response:
    """GET (or POST *form*) under the policy (allow-list checked on every redirect hop)."""
    return fetch(url, timeout=policy.timeout, retries=policy.retries, allow=set(policy.explicit),
                 max_bytes=policy.max_bytes, accept=accept, headers=headers, listed=set(policy.listed),
                 form=form)


# Longest GET URL sent; many servers refuse request lines over 8 KiB (gunicorn: 8190 bytes).
MAX_GET_URL = 4096


def query_url(endpoint: str, sparql: str) -> str:
    """The protocol's GET form of a query."""
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode({'query': sparql})}"


def request(endpoint: str, sparql: str, policy: Policy, *, accept: str,
            headers: dict[str, str] | None = None) -> requests.Response:
    """Send *sparql* to *endpoint*; a 304 or a 200 is returned, anything else is an error that
    says what the endpoint answered. A query whose GET form would be longer than servers
    commonly accept is POSTed as a form (the protocol's other query operation)."""
    url = query_url(endpoint, sparql)
    if len(url) <= MAX_GET_URL:
        response = get(url, policy, accept=accept, headers=headers)
    else:
        response = get(endpoint, policy, accept=accept, headers=headers, form={"query": sparql})
    if response.status_code in (200, 304):
        return response
    raise HarvestError(f"{endpoint}: answered HTTP {response.status_code} "
                       f"({excerpt(response)}); expected SPARQL results")


def select(endpoint: str, sparql: str, policy: Policy) -> tuple[list[str], list[list[Any]]]:
    """Run a SELECT at *endpoint*: its variables and rows of pyoxigraph terms (None: unbound)."""
    response = request(endpoint, sparql, policy, accept=RESULTS_JSON)
    solutions = parse_results(endpoint, response)
    names = [v.value for v in solutions.variables]
    rows: list[list[Any]] = []
    for row in solutions:
        if len(rows) >= policy.max_rows:
            raise HarvestError(f"{endpoint}: more than {policy.max_rows} rows; narrow the pattern")
        rows.append([row[n] for n in names])
    return names, rows


def parse_results(endpoint: str, response: requests.Response) -> Any:
    """SPARQL JSON results, or an error naming what came instead (HTML, garbage)."""
    mime = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if mime not in (RESULTS_JSON, "application/json"):
        raise HarvestError(f"{endpoint}: answered {mime or 'without a Content-Type'} "
                           f"({excerpt(response)}), not SPARQL JSON results")
    try:
        return ox.parse_query_results(response.content, format=ox.QueryResultsFormat.JSON)
    except (SyntaxError, ValueError) as exc:
        raise HarvestError(f"{endpoint}: the SPARQL JSON results are malformed: {exc}") from None


def parse_graph(url: str, response: requests.Response, default: str | None = None) -> list[Any]:
    """The triples (or quads) of an RDF answer, by its Content-Type; errors say what came."""
    mime = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    fmt = GRAPH_TYPES.get(mime) or (GRAPH_TYPES.get(default) if default else None)
    if fmt is None:
        raise HarvestError(f"{url}: answered {mime or 'without a Content-Type'} "
                           f"({excerpt(response)}), not RDF")
    try:
        return list(ox.parse(response.content, format=fmt))
    except SyntaxError as exc:
        raise HarvestError(f"{url}: the {mime or default} is malformed: {exc}") from None


def excerpt(response: requests.Response) -> str:
    text = response.content[:200].decode("utf-8", "replace")
    return " ".join(text.split())[:120] or "empty body"


def run_remote_query(endpoint: str, sparql: str, fmt: str, out: Any, settings: Settings) -> None:
    """What `localoffer query --endpoint URL` does: send the query (allow-list applies) and
    write the answer like a local query's (table, json, csv, tsv; ttl, nt for graphs)."""
    from localoffer.errors import QueryError
    from localoffer.querying import GRAPH_FORMATS, RESULT_FORMATS, render_table
    from localoffer.sparqlguard import check_read_query, query_form

    check_read_query(sparql, {t[1:-1] for t in _service_iris(sparql)})  # the endpoint decides SERVICE
    policy = policy_for(settings)
    try:
        if query_form(sparql) in ("CONSTRUCT", "DESCRIBE"):
            response = request(endpoint, sparql, policy, accept=GRAPH_ACCEPT)
            triples = [t.triple if isinstance(t, ox.Quad) else t for t in parse_graph(endpoint, response)]
            out.write(ox.serialize(triples, format=GRAPH_FORMATS.get(fmt, ox.RdfFormat.TURTLE)))
            return
        result = parse_results(endpoint, request(endpoint, sparql, policy, accept=RESULTS_JSON))
    except HarvestError as exc:
        raise QueryError(str(exc)) from None
    if isinstance(result, ox.QueryBoolean):
        if fmt == "table":
            out.write(b"true\n" if bool(result) else b"false\n")
        else:
            result.serialize(out, RESULT_FORMATS.get(fmt, ox.QueryResultsFormat.JSON))
    elif fmt == "table":
        out.write(render_table(result).encode("utf-8"))
    elif fmt in RESULT_FORMATS:
        result.serialize(out, RESULT_FORMATS[fmt])
    else:
        raise QueryError(f"format {fmt} is for CONSTRUCT/DESCRIBE results; use table, json, csv or tsv")


def _service_iris(sparql: str) -> list[str]:
    from localoffer.sparqlguard import service_targets

    return [t for t in service_targets(sparql) if t.startswith("<")]
