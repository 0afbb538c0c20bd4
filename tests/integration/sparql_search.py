"""The `/services` search as it was answered before it moved to SQLite (`localoffer.facets`):
SPARQL graph patterns per filter and one SPARQL query per facet, kept here as the reference
the SQLite answers are compared with (tests/integration/test_search_index.py). Copied from
publisher/linkeddata/search.py at commit d4ca2e2."""

from __future__ import annotations

import pyoxigraph as ox
from localoffer.publisher.linkeddata.search import FACET_LIMIT, Filters, param_value

from localoffer import namespaces as ns

PREFIXES = (f"PREFIX schema: <{ns.SCHEMA}>\nPREFIX lo: <{ns.LO}>\nPREFIX hsds: <{ns.HSDS}>\n"
            f"PREFIX skos: <{ns.SKOS}>\nPREFIX xsd: <{ns.XSD}>\n")


def free(tag: str) -> tuple[str, str]:
    """Patterns binding ?{tag}p or ?{tag}t when one of ?service's offers is free (a price of 0,
    or "free" in its name or description), and the condition that one of them is bound.

    OPTIONALs rather than EXISTS: Oxigraph plans an EXISTS without the outer binding, which
    makes the cost facet a scan of every offer per service (seconds on a few thousand)."""
    patterns = (f"OPTIONAL {{ ?service schema:offers ?{tag}o1 . ?{tag}o1 schema:priceSpecification/schema:price "
                f"?{tag}p FILTER(?{tag}p = 0) }} "
                f"OPTIONAL {{ ?service schema:offers ?{tag}o2 . ?{tag}o2 schema:description|schema:name ?{tag}t "
                f'FILTER(REGEX(?{tag}t, "\\\\bfree\\\\b", "i")) }}')
    return patterns, f"(BOUND(?{tag}p) || BOUND(?{tag}t))"



def lit(text: str) -> str:
    """A string literal written by pyoxigraph (escaped)."""
    return str(ox.Literal(text))


def iri(value: str) -> str:
    """An IRI written by pyoxigraph (checked)."""
    return str(ox.NamedNode(value))


def patterns(f: Filters, base: str, *, skip: str = "", matches: list[str] | None = None) -> str:
    """The graph patterns selecting ?service for *f* (leaving out the facet *skip*); the words
    select the services in *matches* (what the text index found for them)."""
    out = []
    if f.q and skip != "q":
        out.append(f"VALUES ?service {{ {' '.join(iri(i) for i in matches or [])} }}")
    out.append("?service a schema:Service .")
    if f.authority and skip != "authority":
        out.append(f"?service lo:localAuthority {iri(ns.authority_iri(base, f.authority))} .")
    if f.need and skip != "need":
        out.append(f"?service lo:needCategory/skos:broader* {iri(ns.SCHEME + 'need/' + f.need)} .")
    if f.category and skip != "category":
        out.append(f"?service lo:provisionCategory/skos:broader* "
                   f"{iri(ns.SCHEME + 'provision-category/' + f.category)} .")
    if (f.age is not None or f.band) and skip not in ("age", "band"):
        out.append("?service schema:audience ?aud . OPTIONAL { ?aud schema:suggestedMinAge ?amin } "
                   "OPTIONAL { ?aud schema:suggestedMaxAge ?amax } FILTER(BOUND(?amin) || BOUND(?amax))")
        if f.age is not None:
            age = str(ox.Literal(format(f.age, "f"), datatype=ox.NamedNode(ns.XSD + "decimal")))
            out.append(f"FILTER(COALESCE(?amin, 0) <= {age} && COALESCE(?amax, 200) >= {age})")
        if f.band:
            out.append(f"{iri(ns.SCHEME + 'age-band/' + f.band)} lo:minimumAge ?bmin ; lo:maximumAge ?bmax . "
                       "FILTER(COALESCE(?amin, 0) <= ?bmax && COALESCE(?amax, 200) >= ?bmin)")
    if f.cost and skip != "cost":
        found, is_free = free("cf")
        out.append(f"?service schema:offers ?anyOffer . {found} FILTER({'' if f.cost == 'free' else '!'}{is_free})")
    if (f.day or f.time) and skip not in ("day", "time"):
        inner = "?service (schema:hoursAvailable|schema:availableChannel/schema:hoursAvailable) ?hrs ."
        if f.day:
            inner += f" ?hrs schema:dayOfWeek {iri(ns.SCHEMA + f.day)} ."
        if f.time:
            t = str(ox.Literal(f.time + ":00", datatype=ox.NamedNode(ns.XSD + "time")))
            inner += (f" ?hrs schema:opens ?op ; schema:closes ?cl . FILTER(?op <= {t} && ?cl > {t})")
        out.append(f"FILTER EXISTS {{ {inner} }}")
    if f.language and skip != "language":
        out.append(f"?service schema:availableLanguage/schema:name ?lang . "
                   f"FILTER(LCASE(STR(?lang)) = LCASE({lit(f.language)}))")
    if f.attendance and skip != "attendance":
        out.append(f"?service hsds:attendingType ?att . FILTER(LCASE(STR(?att)) = LCASE({lit(f.attendance)}))")
    if f.accessibility and skip != "accessibility":
        out.append("?service schema:availableChannel/schema:serviceLocation/schema:amenityFeature/schema:name ?acc . "
                   f"FILTER(LCASE(STR(?acc)) = LCASE({lit(f.accessibility)}))")
    return "\n  ".join(out)


# name, label, pattern binding ?v (and maybe ?label), kind of value
FACETS: list[tuple[str, str, str]] = [
    ("authority", "Council", "?service lo:localAuthority ?v . OPTIONAL { ?v schema:name ?label }"),
    ("need", "Need", "?service lo:needCategory ?v . OPTIONAL { ?v skos:prefLabel ?label }"),
    ("category", "Type of provision", "?service lo:provisionCategory ?v . OPTIONAL { ?v skos:prefLabel ?label }"),
    ("band", "Age group", "?service schema:audience ?fa . OPTIONAL { ?fa schema:suggestedMinAge ?fmin } "
     "OPTIONAL { ?fa schema:suggestedMaxAge ?fmax } FILTER(BOUND(?fmin) || BOUND(?fmax)) "
     "?v a lo:AgeBand ; lo:minimumAge ?vb1 ; lo:maximumAge ?vb2 ; skos:prefLabel ?label . "
     "FILTER(COALESCE(?fmin, 0) <= ?vb2 && COALESCE(?fmax, 200) >= ?vb1)"),
    ("cost", "Cost", f"?service schema:offers ?co . {free('ff')[0]} BIND(IF({free('ff')[1]}, \"free\", \"paid\") AS ?v)"),
    ("day", "Open on", "?service (schema:hoursAvailable|schema:availableChannel/schema:hoursAvailable)/schema:dayOfWeek ?v"),
    ("attendance", "How to attend", "?service hsds:attendingType ?v"),
    ("language", "Language", "?service schema:availableLanguage/schema:name ?v"),
    ("accessibility", "Accessibility",
     "?service schema:availableChannel/schema:serviceLocation/schema:amenityFeature/schema:name ?v"),
]


def sparql_facets(store, f: Filters, base: str, matches: list[str] | None) -> dict[str, list[tuple]]:
    """{facet: [(value, label, count), ...]} as the SPARQL facet queries count them."""
    out = {}
    if f.q and not matches:
        return out
    for name, _label, pattern in FACETS:
        query = (f"{PREFIXES}SELECT ?v (SAMPLE(?label) AS ?l) (COUNT(DISTINCT ?service) AS ?n) WHERE {{\n  "
                 f"{patterns(f, base, skip=name, matches=matches)}\n  {pattern}\n}} GROUP BY ?v ORDER BY DESC(?n) ?v "
                 f"LIMIT {FACET_LIMIT}")
        values = []
        for row in store.select(query):
            value = param_value(name, row["v"].value)
            values.append((value, row["l"].value if "l" in row else value, int(row["n"].value)))
        if values:
            out[name] = values
    return out


def sparql_services(store, f: Filters, base: str, matches: list[str] | None) -> list[str]:
    """Every matching service: by relevance (the order of *matches*) with words, else by name."""
    where = patterns(f, base, matches=matches)
    if f.q:
        kept = {r["service"].value for r in store.select(f"{PREFIXES}SELECT DISTINCT ?service WHERE {{\n  {where}\n}}")}
        return [i for i in matches or [] if i in kept]
    named = [r["service"].value for r in store.select(
        f"{PREFIXES}SELECT ?service (SAMPLE(?nm) AS ?name) WHERE {{\n  {where}\n  ?service schema:name ?nm\n}} "
        "GROUP BY ?service ORDER BY LCASE(STR(?name)) ?service")]
    every = {r["service"].value for r in store.select(f"{PREFIXES}SELECT DISTINCT ?service WHERE {{\n  {where}\n}}")}
    return named + sorted(every - set(named))
