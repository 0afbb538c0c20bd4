"""Completeness of an authority's Local Offer, and its W3C Data Quality Vocabulary (DQV) form.

Two kinds of figure, both shares from 0 to 1:

* statutory items present: of the authority-wide rules (the shapes of shapes/local-offer.ttl
  with severity Violation or Warning, data-format rules left out), how many the authority
  meets. Without a Local Offer node none of the rules on it is met.
* services passing each rule: per shape of shapes/service.ttl, the share of the authority's
  services with no result of that rule (results on a service's audience, contacts or
  channels count against the service); and the share of services without any Violation.

`measurement_triples` turns them into `dqv:QualityMeasurement`s of the metrics defined in
ontology/lo.ttl (lom:statutory-items-present, lom:services-without-violation,
lom:services-passing-rule with lo:measuredShape), computed on the authority's source graphs."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pyoxigraph as ox
from rdflib.namespace import SH
from rdflib.term import URIRef

from localoffer import namespaces as ns
from localoffer.validation.core import Finding, Rule, shape_file_graphs

DQV = "http://www.w3.org/ns/dqv#"
METRIC = "https://w3id.org/localoffer/def/metric/"
STATUTORY_ITEMS = METRIC + "statutory-items-present"
SERVICES_WITHOUT_VIOLATION = METRIC + "services-without-violation"
SERVICES_PASSING_RULE = METRIC + "services-passing-rule"
_INTEGRITY = re.compile(r"-(dates-not-future|url-syntax)$")


@functools.lru_cache(maxsize=1)
def _shape_index() -> tuple[dict[str, str], frozenset[str]]:
    files, patterned = {}, set()
    for stem, g in shape_file_graphs():
        for shape in g.subjects(SH.severity, None):
            if isinstance(shape, URIRef):
                files[str(shape)] = stem
        patterned |= {str(s) for s in g.subjects(SH.pattern, None)}
    return files, frozenset(patterned)


def shape_files() -> dict[str, str]:
    """Shape IRI -> the shapes file (stem) that defines it, for the shapes that have a severity."""
    return _shape_index()[0]


def _patterned() -> frozenset[str]:
    return _shape_index()[1]


def authority_items(known: dict[URIRef, Rule]) -> list[Rule]:
    """The authority-wide rules the completeness share counts."""
    files = shape_files()
    return sorted(
        (
            r
            for r in known.values()
            if files.get(r.shape) == "local-offer"
            and r.severity in ("Violation", "Warning")
            and r.shape not in _patterned()
            and not _INTEGRITY.search(r.shape)
        ),
        key=lambda r: r.label,
    )


def service_rules(known: dict[URIRef, Rule]) -> list[Rule]:
    """The per-service rules (shapes/service.ttl)."""
    files = shape_files()
    return sorted(
        (r for r in known.values() if files.get(r.shape) == "service"),
        key=lambda r: (("Violation", "Warning", "Info").index(r.severity), r.label),
    )


def completeness(
    findings: Iterable[Finding], known: dict[URIRef, Rule], services: set[str], *, has_offer: bool
) -> dict[str, Any]:
    """The completeness figures for one authority (see the module docstring)."""
    findings = list(findings)
    fired = {f.shape for f in findings}
    items = authority_items(known)
    met = [r for r in items if has_offer and r.shape not in fired]
    missing = [r for r in items if r not in met]
    failing: dict[str, set[str]] = {}
    violating: set[str] = set()
    for f in findings:
        if f.record in services:
            failing.setdefault(f.shape, set()).add(f.record)
            if f.severity == "Violation":
                violating.add(f.record)
    n = len(services)
    per_rule = (
        [
            {
                "shape": r.shape,
                "label": r.label,
                "severity": r.severity,
                "passing": n - len(failing.get(r.shape, ())),
                "share": share(n - len(failing.get(r.shape, ())), n),
            }
            for r in service_rules(known)
        ]
        if n
        else []
    )
    return {
        "statutory_items": {
            "met": len(met),
            "total": len(items),
            "share": share(len(met), len(items)),
            "missing": [{"shape": r.shape, "label": r.label, "severity": r.severity} for r in missing],
        },
        "services": n,
        "services_without_violation": {"count": n - len(violating), "share": share(n - len(violating), n)},
        "service_rules": per_rule,
    }


def share(part: int, whole: int) -> str | None:
    """part/whole as a decimal string with 4 places (None when whole is 0)."""
    if not whole:
        return None
    return str((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN))


def measurement_triples(
    completeness: dict[str, Any],
    *,
    graph: str | None,
    authority_iri: str | None,
    computed_on: Iterable[str],
    created: str,
) -> list[ox.Triple]:
    """DQV quality measurements for the figures; IRIs under *graph* (blank nodes without it)."""
    if not completeness:
        return []
    a, N = ox.NamedNode(ns.RDF + "type"), ox.NamedNode
    out: list[ox.Triple] = []
    sources = [N(g) for g in computed_on]

    def measurement(slug: str, metric: str, value: str | None, extra: list[tuple[str, Any]]) -> None:
        if value is None:
            return
        m = N(f"{graph}#measurement-{slug}") if graph else ox.BlankNode()
        out.extend(
            [
                ox.Triple(m, a, N(DQV + "QualityMeasurement")),
                ox.Triple(m, N(DQV + "isMeasurementOf"), N(metric)),
                ox.Triple(m, N(DQV + "value"), ox.Literal(value, datatype=N(ns.XSD + "decimal"))),
                ox.Triple(m, N(ns.DCTERMS + "date"), ox.Literal(created, datatype=N(ns.XSD + "dateTime"))),
            ]
        )
        out.extend(ox.Triple(m, N(DQV + "computedOn"), g) for g in sources)
        if authority_iri:
            out.append(ox.Triple(m, N(ns.DCTERMS + "subject"), N(authority_iri)))
        out.extend(ox.Triple(m, N(p), o) for p, o in extra)

    items = completeness["statutory_items"]
    measurement("statutory-items-present", STATUTORY_ITEMS, items["share"], [])
    measurement(
        "services-without-violation",
        SERVICES_WITHOUT_VIOLATION,
        completeness["services_without_violation"]["share"],
        [],
    )
    for rule in completeness["service_rules"]:
        local = rule["shape"].rsplit("#", 1)[-1]
        measurement(
            f"services-passing-{local}",
            SERVICES_PASSING_RULE,
            rule["share"],
            [(ns.LO + "measuredShape", N(rule["shape"]))],
        )
    return out
