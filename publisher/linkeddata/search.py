"""Searching services across council boundaries: the filters a person can set, checked and
turned into SPARQL graph patterns (every value written as an RDF term by pyoxigraph, never
pasted), the facet counts, and one page of results.

Words (`q`) are looked up in the text index of the same store version
(`localoffer.textindex`): the matching services, best first, enter the SPARQL as a VALUES
block, and results with words are ordered by relevance. Words alone are counted and paged by the
index (exact, any number of matches); the facet counts, and results with words and other
filters at once, take the best `FACET_MATCHES` text matches (the page says so when there are
more), because every SPARQL facet query joins them all."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pyoxigraph as ox

from localoffer import namespaces as ns
from localoffer.errors import QueryError
from localoffer.store import Store
from localoffer.textindex import TextIndex

PAGE_SIZE = 20
MAX_PAGE = 500
FACET_LIMIT = 25
FACET_MATCHES = 1000
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PREFIXES = (f"PREFIX schema: <{ns.SCHEMA}>\nPREFIX lo: <{ns.LO}>\nPREFIX hsds: <{ns.HSDS}>\n"
            f"PREFIX skos: <{ns.SKOS}>\nPREFIX xsd: <{ns.XSD}>\n")
_CONCEPT = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


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


@dataclass(frozen=True)
class Filters:
    """What a search asks for; empty fields do not filter."""

    q: str = ""
    authority: str = ""
    need: str = ""
    category: str = ""
    age: Decimal | None = None
    band: str = ""
    cost: str = ""
    day: str = ""
    time: str = ""
    language: str = ""
    attendance: str = ""
    accessibility: str = ""
    page: int = 1

    def query_string(self, **changes: Any) -> str:
        """The URL query for these filters with *changes* (back to page 1 unless a page is given)."""
        values = {**self.as_params(), "page": ""}
        values.update({k: "" if v is None else str(v) for k, v in changes.items()})
        return urlencode({k: v for k, v in values.items() if v})

    def as_params(self) -> dict[str, str]:
        """The filters as URL parameters."""
        out = {k: ("" if getattr(self, k) is None else str(getattr(self, k)))
               for k in ("q", "authority", "need", "category", "age", "band", "cost", "day", "time",
                         "language", "attendance", "accessibility")}
        out["page"] = str(self.page) if self.page > 1 else ""
        return out

    @property
    def active(self) -> list[tuple[str, str]]:
        """(name, value) of each filter that is set."""
        return [(k, v) for k, v in self.as_params().items() if v and k != "page"]


def parse_filters(args: Any, *, now: dt.datetime | None = None) -> Filters:
    """Filters from request arguments; a value that cannot be right raises QueryError saying why."""
    def get(name: str, limit: int = 200) -> str:
        value = (args.get(name) or "").strip()
        if len(value) > limit:
            raise QueryError(f"{name} is too long (at most {limit} characters)")
        return value

    authority = get("authority").upper()
    if authority and not ns.GSS_CODE.match(authority):
        raise QueryError(f"authority must be an ONS GSS code such as E06000023; got {authority!r}")
    concepts = {}
    for name in ("need", "category", "band"):
        value = get(name).rsplit("/", 1)[-1]
        if value and not _CONCEPT.match(value):
            raise QueryError(f"{name} must be the name of a concept such as 'asd'; got {value!r}")
        concepts[name] = value
    age_text = get("age", 10)
    age = None
    if age_text:
        try:
            age = Decimal(age_text)
        except InvalidOperation:
            raise QueryError(f"age must be a number of years such as 7; got {age_text!r}") from None
        if not age.is_finite() or not 0 <= age <= 120:
            raise QueryError(f"age must be between 0 and 120; got {age_text!r}")
    cost = get("cost").lower()
    if cost not in ("", "free", "paid"):
        raise QueryError(f"cost must be free or paid; got {cost!r}")
    day, time = get("day").capitalize(), get("time", 10)
    if args.get("open_now"):
        local = (now or dt.datetime.now(ZoneInfo("Europe/London")))
        day, time = DAYS[local.weekday()], local.strftime("%H:%M")
    if day and day not in DAYS:
        raise QueryError(f"day must be a day of the week such as Monday; got {day!r}")
    if time and not _TIME.match(time):
        raise QueryError(f"time must be a time of day such as 09:30; got {time!r}")
    try:
        page = max(1, min(MAX_PAGE, int(args.get("page") or 1)))
    except ValueError:
        raise QueryError(f"page must be a whole number; got {args.get('page')!r}") from None
    return Filters(q=get("q"), authority=authority, need=concepts["need"], category=concepts["category"],
                   age=age, band=concepts["band"], cost=cost, day=day, time=time,
                   language=get("language"), attendance=get("attendance"),
                   accessibility=get("accessibility"), page=page)


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


@dataclass
class FacetValue:
    """One value of a facet, its count and the link that selects (or clears) it."""

    value: str
    label: str
    count: int
    selected: bool = False


@dataclass
class Facet:
    name: str
    label: str
    values: list[FacetValue] = field(default_factory=list)


def param_value(name: str, term: Any) -> str:
    """The URL parameter value of a facet value (a GSS code, a concept name, a day, the text)."""
    value = term.value
    if name == "authority":
        return value.rsplit("/", 1)[-1]
    if name in ("need", "category", "band", "day"):
        return value.rsplit("/", 1)[-1]
    return value


def text_matches(index: TextIndex | None, f: Filters) -> list[str] | None:
    """The services the words of *f* find (best first, at most FACET_MATCHES); None without words."""
    if not f.q:
        return None
    if index is None:
        raise QueryError("searching by words needs the text index")
    return index.search(f.q, FACET_MATCHES)


def facets(store: Store, f: Filters, base: str, index: TextIndex | None = None,
           matches: list[str] | None = None) -> list[Facet]:
    """Counts of matching services per value of each facet (under the other filters)."""
    out = []
    if matches is None:
        matches = text_matches(index, f)
    if f.q and not matches:
        return out
    for name, label, pattern in FACETS:
        query = (f"{PREFIXES}SELECT ?v (SAMPLE(?label) AS ?l) (COUNT(DISTINCT ?service) AS ?n) WHERE {{\n  "
                 f"{patterns(f, base, skip=name, matches=matches)}\n  {pattern}\n}} GROUP BY ?v ORDER BY DESC(?n) ?v "
                 f"LIMIT {FACET_LIMIT}")
        facet = Facet(name, label)
        current = getattr(f, name)
        for row in store.select(query):
            value = param_value(name, row["v"])
            shown = row["l"].value if "l" in row else value
            facet.values.append(FacetValue(value, shown, int(row["n"].value),
                                           str(current).lower() == value.lower()))
        if facet.values:
            out.append(facet)
    return out


@dataclass
class Hit:
    iri: str
    name: str
    description: str
    authority: str
    provider: str
    ages: str


def results(store: Store, f: Filters, base: str, index: TextIndex | None = None,
            matches: list[str] | None = None) -> tuple[int, list[Hit]]:
    """The number of matching services and the hits on the requested page (by relevance when
    there are words, else by name)."""
    offset = (f.page - 1) * PAGE_SIZE
    if f.q:
        if matches is None:
            matches = text_matches(index, f)
        if len(f.active) == 1 and index is not None:  # words alone: the index counts and pages
            total, iris = index.count(f.q), index.search(f.q, PAGE_SIZE, offset)
        else:
            where = patterns(f, base, matches=matches)
            kept = {r["service"].value for r in store.select(
                f"{PREFIXES}SELECT DISTINCT ?service WHERE {{\n  {where}\n}}")}
            ranked = [i for i in matches or [] if i in kept]
            total, iris = len(ranked), ranked[offset:offset + PAGE_SIZE]
    else:
        where = patterns(f, base)
        total_rows = list(store.select(f"{PREFIXES}SELECT (COUNT(DISTINCT ?service) AS ?n) WHERE {{\n  {where}\n}}"))
        total = int(total_rows[0]["n"].value) if total_rows else 0
        page_rows = store.select(
            f"{PREFIXES}SELECT ?service (SAMPLE(?nm) AS ?name) WHERE {{\n  {where}\n  ?service schema:name ?nm\n}} "
            f"GROUP BY ?service ORDER BY LCASE(STR(?name)) ?service LIMIT {PAGE_SIZE} OFFSET {offset}")
        iris = [r["service"].value for r in page_rows]
    if not iris:
        return total, []
    details = {r["s"].value: r for r in store.select(f"""{PREFIXES}
      SELECT ?s (SAMPLE(?nm) AS ?name) (SAMPLE(?d) AS ?desc) (SAMPLE(?an) AS ?auth) (SAMPLE(?pn) AS ?prov)
             (MIN(?mi) AS ?min) (MAX(?ma) AS ?max) WHERE {{
        VALUES ?s {{ {' '.join(iri(i) for i in iris)} }}
        ?s schema:name ?nm .
        OPTIONAL {{ ?s schema:description ?d }}
        OPTIONAL {{ ?s lo:localAuthority/schema:name ?an }}
        OPTIONAL {{ ?s schema:provider/schema:name ?pn }}
        OPTIONAL {{ ?s schema:audience/schema:suggestedMinAge ?mi }}
        OPTIONAL {{ ?s schema:audience/schema:suggestedMaxAge ?ma }}
      }} GROUP BY ?s""")}
    hits = []
    for i in iris:
        r = details.get(i, {})
        desc = r["desc"].value if "desc" in r else ""
        lo_age, hi_age = (r[k].value if k in r else None for k in ("min", "max"))
        ages = (f"{_n(lo_age)} to {_n(hi_age)} years" if lo_age and hi_age else
                f"From {_n(lo_age)} years" if lo_age else f"Up to {_n(hi_age)} years" if hi_age else "")
        hits.append(Hit(i, r["name"].value if "name" in r else i,
                        desc if len(desc) <= 300 else desc[:297].rsplit(" ", 1)[0] + "…",
                        r["auth"].value if "auth" in r else "", r["prov"].value if "prov" in r else "", ages))
    return total, hits


def _n(text: str | None) -> str:
    try:
        d = Decimal(text or "")
    except InvalidOperation:
        return text or ""
    return str(d.quantize(Decimal(1))) if d == d.to_integral_value() else str(d)


__all__ = ["Filters", "parse_filters", "patterns", "facets", "results", "replace"]
