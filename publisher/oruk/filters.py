"""The ORUK filters as SPARQL: ids resolved to IRIs first (a few indexed look-ups), then one
join group per filter on the service, so that filters combine with AND. The same patterns
serve /services and /service_at_locations (where postcode and proximity apply to the
service_at_location's own place)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from localoffer import namespaces as ns
from localoffer.rdfterms import lit
from localoffer.store import Store
from localoffer.textindex import MAX_MATCHES, open_index

from .ids import is_uuid, sparql_derived_id
from .params import DAYS, Filters

PREFIXES = ns.sparql_prefixes()
METRES_PER_DEGREE = 111195.08  # on the mean Earth sphere (R = 6371008.8 m)
OS_POSTCODE_UNIT = "http://data.ordnancesurvey.co.uk/id/postcodeunit/"
CLASSIFYING = f'(?_lp = schema:category || STRSTARTS(STR(?_lp), "{ns.LO}"))'
"""Which links of a record are its attributes: schema:category (HSDS attributes) and the lo:
properties whose values are SKOS concepts (lo:needCategory, lo:provisionCategory, ...)."""


@dataclass(frozen=True)
class Resolved:
    """Filters with their ids turned into IRIs ([] when an id matched nothing)."""

    filters: Filters
    terms: tuple[str, ...] | None = None
    schemes: tuple[str, ...] | None = None
    organizations: tuple[str, ...] | None = None
    centroid: tuple[float, float] | None = None
    no_centroid: bool = False
    matches: tuple[str, ...] | None = None
    """The services the search words find in the text index (best MAX_MATCHES)."""


def find_nodes(store: Store, base: str, ident: str, kind: str, classes: tuple[str, ...]) -> list[str]:
    """The IRIs of the records of *classes* served under *ident*: by schema:identifier, by the
    IRI minted from a UUID, or (for ids this API derived) by the derivation."""
    types = f"FILTER(?c IN ({', '.join(f'<{c}>' for c in classes)}))"
    spellings = " ".join(dict.fromkeys(lit(v) for v in (ident, ident.lower(), ident.upper())))
    minted = (f"UNION {{ VALUES ?x {{ <{ns.mint(base, kind, ident)}> }} ?x a ?c . {types} }}"
              if is_uuid(ident) else "")
    # each branch binds ?x first: joined after a UNION, `?x a ?c` would be a scan
    rows = store.select(f"{PREFIXES}SELECT DISTINCT ?x WHERE {{ {{ VALUES ?lit {{ {spellings} }} "
                        f"?x schema:identifier ?lit . ?x a ?c . {types} }} {minted} }}")
    found = sorted(r["x"].value for r in rows)
    if found or not (is_uuid(ident) and ident[14] == "8"):
        return found
    typed = " UNION ".join(f"{{ ?x a <{c}> }}" for c in classes)
    rows = store.select(f"{PREFIXES}SELECT DISTINCT ?x WHERE {{ {typed} "
                        f"FILTER(isIRI(?x) && {sparql_derived_id('?x')} = {lit(ident.lower())}) }}")
    return sorted(r["x"].value for r in rows)


def term_classes() -> tuple[str, ...]:
    """The classes of taxonomy terms."""
    return (ns.SKOS + "Concept",)


def scheme_classes() -> tuple[str, ...]:
    """The classes of taxonomies."""
    return (ns.SKOS + "ConceptScheme",)


def resolve(store: Store, base: str, f: Filters) -> Resolved:
    """Look up the IRIs behind the id filters, and the point behind a postcode."""
    terms = schemes = orgs = None
    if f.taxonomy_term_id:
        terms = tuple(find_nodes(store, base, f.taxonomy_term_id, "taxonomy-term", term_classes()))
        if not terms and is_uuid(f.taxonomy_term_id):
            terms = (ns.mint(base, "taxonomy-term", f.taxonomy_term_id),)  # referred to only
    if f.taxonomy_id:
        schemes = tuple(find_nodes(store, base, f.taxonomy_id, "taxonomy", scheme_classes()))
        if not schemes and is_uuid(f.taxonomy_id):
            schemes = (ns.mint(base, "taxonomy", f.taxonomy_id),)
    if f.organization_id:
        orgs = tuple(find_nodes(store, base, f.organization_id, "organization",
                                (ns.SCHEMA + "Organization",)))
        if not orgs and is_uuid(f.organization_id):
            orgs = (ns.mint(base, "organization", f.organization_id),)
    centroid = postcode_point(store, f.postcode) if f.postcode and f.proximity is not None else None
    matches = None
    if f.search:
        with open_index(store) as index:
            # ORUK searches a service's name and description (not its provider's name)
            matches = tuple(index.search(" ".join(f.search), MAX_MATCHES, columns=("name", "description")))
    return Resolved(f, terms, schemes, orgs, centroid,
                    no_centroid=f.proximity is not None and centroid is None, matches=matches)


def postcode_point(store: Store, postcode: str) -> tuple[float, float] | None:
    """Where a postcode is: from an Ordnance Survey postcode unit in the store if one was
    loaded, else the mean position of the places in the data with that postcode."""
    unit = OS_POSTCODE_UNIT + postcode.replace(" ", "")
    head = "SELECT (COUNT(?lat) AS ?n) (AVG(?lat) AS ?la) (AVG(?lon) AS ?lo) WHERE"
    for where in (f"{{ <{unit}> wgs:lat ?lat ; wgs:long ?lon }}",
                  f"{{ ?a schema:postalCode {lit(postcode)} . ?l schema:address ?a ; schema:geo ?g . "
                  "?g schema:latitude ?lat ; schema:longitude ?lon }"):
        rows = list(store.select(f"{PREFIXES}{head} {where}"))
        if rows and int(rows[0]["n"].value) and "la" in rows[0] and "lo" in rows[0]:
            return float(rows[0]["la"].value), float(rows[0]["lo"].value)
    return None


def _values(var: str, iris: tuple[str, ...]) -> str:
    return f"VALUES {var} {{ {' '.join(f'<{i}>' for i in iris)} }}"


def _dec(value: Decimal | float) -> str:
    text = format(Decimal(str(value)), "f")
    return text if "." in text else text + ".0"


def service_conditions(r: Resolved, s: str = "?s", channel: str | None = None) -> str:
    """Join groups that keep the services bound to *s* which pass every filter; with *channel*,
    postcode and proximity apply to that service_at_location instead of any of the service's.

    Joins, not FILTER EXISTS: Oxigraph plans an EXISTS pattern without the outer binding, which
    makes it a scan per service. A service may come out more than once; callers keep one."""
    f = r.filters
    out: list[str] = []
    if r.matches is not None:
        out.append(f"{{ {_values(s, r.matches) if r.matches else 'FILTER(false)'} }}")
    if r.terms is not None:
        out.append(f"{{ {_values('?_tt', r.terms) if r.terms else 'FILTER(false)'} "
                   f"?_tc skos:broader* ?_tt . {s} ?_lp ?_tc . FILTER{CLASSIFYING} }}")
    if r.schemes is not None:
        out.append(f"{{ {_values('?_ts', r.schemes) if r.schemes else 'FILTER(false)'} "
                   f"?_sc skos:inScheme ?_ts . {s} ?_sp ?_sc . "
                   f"FILTER{CLASSIFYING.replace('?_lp', '?_sp')} }}")
    if r.organizations is not None:
        out.append(f"{{ {_values('?_org', r.organizations)} {s} schema:provider ?_org }}")
    if f.modified_after:
        since = lit(f.modified_after, ns.XSD + "dateTime")
        out.append(f"{{ {{ {s} dcterms:modified ?_mod }} UNION {{ {s} hsds:sourceModified ?_day "
                   f"OPTIONAL {{ {s} dcterms:modified ?_also }} FILTER(!BOUND(?_also)) "
                   f'BIND(xsd:dateTime(CONCAT(STR(?_day), "T00:00:00Z")) AS ?_mod) }} '
                   f"FILTER(?_mod >= {since}) }}")
    if f.minimum_age is not None:
        out.append(f"{{ {s} schema:audience ?_aud1 . ?_aud1 schema:suggestedMinAge ?_min "
                   f"FILTER(?_min >= {_dec(f.minimum_age)}) }}")
    if f.maximum_age is not None:
        out.append(f"{{ {s} schema:audience ?_aud2 . ?_aud2 schema:suggestedMaxAge ?_max "
                   f"FILTER(?_max <= {_dec(f.maximum_age)}) }}")
    if f.day or f.start_time or f.end_time:
        out.append(_schedule(f, s))
    if f.postcode:
        out.append(_place(r, s, channel))
    return "\n".join(out)


def _schedule(f: Filters, s: str) -> str:
    """One schedule of the service (or of one of its service_at_locations) meets them all."""
    parts = [f"{{ {s} schema:hoursAvailable ?_h }} UNION "
             f"{{ {s} schema:availableChannel ?_hc . ?_hc schema:hoursAvailable ?_h }}"]
    if f.day:
        code = next(k for k, v in DAYS.items() if v == f.day)
        parts.append(f"{{ ?_h schema:dayOfWeek|schema:byDay schema:{f.day} }} UNION {{ ?_h "
                     f'schema:byDay ?_bd FILTER(isLiteral(?_bd) && STRENDS(STR(?_bd), "{code}")) }}')
    if f.start_time:
        parts.append(f"?_h schema:opens|schema:startTime ?_open "
                     f"FILTER(?_open >= {lit(f.start_time, ns.XSD + 'time')})")
    if f.end_time:
        parts.append(f"?_h schema:closes|schema:endTime ?_close "
                     f"FILTER(?_close <= {lit(f.end_time, ns.XSD + 'time')})")
    return "{ " + " ".join(parts) + " }"


def _place(r: Resolved, s: str, channel: str | None) -> str:
    """postcode alone: a place with that postcode; with proximity: a place within that many
    metres of the postcode (flat-Earth distance, exact to well under 1% at these ranges)."""
    f = r.filters
    where = f"{channel} schema:serviceLocation ?_l ." if channel else \
        f"{s} schema:availableChannel ?_pc . ?_pc schema:serviceLocation ?_l ."
    if f.proximity is None:
        return f"{{ ?_ad schema:postalCode {lit(f.postcode or '')} . ?_l schema:address ?_ad . {where} }}"
    if r.centroid is None:
        return "{ FILTER(false) }"
    lat0, lon0 = r.centroid
    radius = float(f.proximity)
    k_lat = METRES_PER_DEGREE
    k_lon = METRES_PER_DEGREE * math.cos(math.radians(lat0))
    dlat, dlon = radius / k_lat, radius / max(k_lon, 1e-9)
    # doubles: xsd:decimal products of these overflow Oxigraph's 18-digit decimals
    return (f"{{ ?_g schema:latitude ?_y ; schema:longitude ?_x . "
            f"FILTER(?_y >= {_dec(round(lat0 - dlat, 9))} && ?_y <= {_dec(round(lat0 + dlat, 9))} && "
            f"?_x >= {_dec(round(lon0 - dlon, 9))} && ?_x <= {_dec(round(lon0 + dlon, 9))}) "
            f"BIND((xsd:double(?_y) - {_dbl(lat0)}) * {_dbl(k_lat)} AS ?_dy) "
            f"BIND((xsd:double(?_x) - {_dbl(lon0)}) * {_dbl(k_lon)} AS ?_dx) "
            f"FILTER(?_dy * ?_dy + ?_dx * ?_dx <= {_dbl(radius * radius)}) "
            f"?_l schema:geo ?_g . {where} }}")


def _dbl(value: float) -> str:
    return f"{float(value)!r}e0" if "e" not in repr(float(value)) else repr(float(value))
