"""SERVICE, evaluated by us and not by the engine.

pyoxigraph evaluates SERVICE itself and connects to whatever IRI a query names, following
redirects, with no allow-list and no way for Python to hook in (0.5 offers custom functions and
aggregates, not a service handler). So:

1. `check_services` runs on the query text in the web worker, before anything else: every
   SERVICE target must be a literal `<IRI>` whose host:port is on the allow-list, and a host
   that resolves to a private, loopback, link-local or cloud-metadata address must be listed
   explicitly in LOCALOFFER_ALLOWED_HOSTS. `SERVICE ?var` and prefixed names are refused.
2. `resolve_services` (in the query process, under the query's hard timeout) sends each
   outermost `SERVICE <e> { P }` as `SELECT * WHERE { P }` to `<e>` through the guarded
   fetch (allow-list checked again on every redirect hop, a per-service timeout, a row cap)
   and replaces the clause by `{ VALUES (...) { ... } }` holding the answers. The engine then
   sees a query without SERVICE. This is the SPARQL 1.1 Federated Query semantics: the service
   pattern is evaluated on its own and joined. A failing `SERVICE SILENT` becomes the empty
   group `{}` (one solution with no bindings, as the standard says), so it adds no rows and
   takes none away; a failing SERVICE without SILENT fails the query with `ServiceError`."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import pyoxigraph as ox

from localoffer.errors import HarvestError, QueryError
from localoffer.http import check_target
from localoffer.sparqlguard import positioned_tokens, service_targets

from .remote import Policy, select


class ServiceError(HarvestError):
    """A SERVICE endpoint failed (no answer, an error status, not SPARQL results)."""


@dataclass(frozen=True)
class Clause:
    """One outermost SERVICE clause: where it sits in the text, its target and pattern."""

    start: int
    end: int
    endpoint: str
    silent: bool
    pattern: str


def check_services(text: str, policy: Policy) -> set[str]:
    """The SERVICE endpoints of *text*, all allowed; otherwise QueryError saying why, raised
    before any connection is made."""
    allowed: set[str] = set()
    for target in service_targets(text):
        if not target:
            raise QueryError("SERVICE must be followed by the endpoint's <IRI>")
        if target[0] in "?$":
            raise QueryError(f"SERVICE {target} is refused: a variable could name any endpoint; "
                             "write the allow-listed endpoint as an <IRI>")
        if not target.startswith("<"):
            raise QueryError(f"SERVICE {target} is refused: write the endpoint as a full <IRI>, "
                             "not a prefixed name")
        iri = target[1:-1]
        try:
            check_target(iri, set(policy.explicit), set(policy.listed))
        except HarvestError as exc:
            raise QueryError(f"SERVICE <{iri}> is refused: {_reason(exc, iri)}") from None
        allowed.add(iri)
    return allowed


def _reason(exc: HarvestError, iri: str) -> str:
    text = str(exc)
    text = text[len(iri) + 2:] if text.startswith(f"{iri}: ") else text
    return text.removeprefix("refused, ")


def prologue(text: str) -> str:
    """The PREFIX and BASE declarations of a query, to send along with its SERVICE patterns."""
    toks = positioned_tokens(text)
    out: list[str] = []
    for i, m in enumerate(toks):
        word = m.group().upper()
        if m.lastgroup == "word" and word == "PREFIX" and i + 2 < len(toks):
            out.append(f"PREFIX {toks[i + 1].group()} {toks[i + 2].group()}")
        elif m.lastgroup == "word" and word == "BASE" and i + 1 < len(toks):
            out.append(f"BASE {toks[i + 1].group()}")
        elif m.lastgroup == "word" and word in ("SELECT", "CONSTRUCT", "ASK", "DESCRIBE"):
            break
    return "\n".join(out)


def clauses(text: str) -> list[Clause]:
    """The outermost SERVICE clauses (nested ones travel inside their pattern)."""
    toks = positioned_tokens(text)
    found: list[Clause] = []
    i = 0
    while i < len(toks):
        m = toks[i]
        if m.lastgroup == "word" and m.group().upper() == "SERVICE":
            j = i + 1
            silent = j < len(toks) and toks[j].group().upper() == "SILENT"
            j += int(silent)
            if j + 1 >= len(toks) or toks[j].lastgroup != "iri" or toks[j + 1].group() != "{":
                raise QueryError("SERVICE must be followed by <IRI> { pattern }")
            end = _matching(toks, j + 1)
            found.append(Clause(m.start(), toks[end].end(), toks[j].group()[1:-1], silent,
                                text[toks[j + 1].start():toks[end].end()]))
            i = end + 1
            continue
        i += 1
    return found


def _matching(toks: list[re.Match[str]], start: int) -> int:
    depth = 0
    for k in range(start, len(toks)):
        depth += {"{": 1, "}": -1}.get(toks[k].group(), 0)
        if depth == 0:
            return k
    raise QueryError("a SERVICE pattern is not closed with }")


def resolve_services(text: str, policy: Policy) -> str:
    """*text* with every outermost SERVICE clause replaced by the endpoint's answers."""
    found = clauses(text)
    if not found:
        return text
    head = prologue(text)
    parts: list[str] = []
    at = 0
    for clause in found:
        parts.append(text[at:clause.start])
        parts.append(_inline(clause, head, policy))
        at = clause.end
    parts.append(text[at:])
    return "".join(parts)


def _inline(clause: Clause, head: str, policy: Policy) -> str:
    remote = f"{head}\nSELECT * WHERE {clause.pattern}"
    try:
        names, rows = select(clause.endpoint, remote, policy)
    except HarvestError as exc:
        if clause.silent:
            return "{}"
        raise ServiceError(f"SERVICE <{clause.endpoint}> failed: {_reason(exc, clause.endpoint)}") from None
    variables = " ".join(f"?{n}" for n in names)
    body = " ".join("(" + " ".join(_value(t, clause.endpoint) for t in row) + ")" for row in rows)
    return f"{{ VALUES ({variables}) {{ {body} }} }}"


def _value(term: object, endpoint: str) -> str:
    if term is None:
        return "UNDEF"
    if isinstance(term, ox.BlankNode):
        # VALUES cannot hold blank nodes: a stable IRI per endpoint and label stands in
        digest = hashlib.sha1(endpoint.encode()).hexdigest()[:12]
        return f"<urn:localoffer:service-bnode:{digest}:{term.value}>"
    if isinstance(term, ox.Triple):
        raise ServiceError(f"SERVICE <{endpoint}> returned an RDF-star triple term, which cannot "
                           "be joined here")
    return str(term)


def service_policy(settings: object) -> Policy:
    """The policy for SERVICE: the allow-list, LOCALOFFER_SERVICE_TIMEOUT seconds per endpoint
    (default 10, and never more than the query timeout), no retries, the result-row cap."""
    from .remote import policy_for

    extra = getattr(settings, "extra", {})
    limit = float(getattr(settings, "query_timeout", 30.0))
    timeout = min(float(extra.get("service_timeout", 10)), limit)
    return policy_for(settings, timeout=timeout, retries=0)  # type: ignore[arg-type]
