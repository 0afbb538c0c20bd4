"""Searching services across council boundaries: the filters a person can set, checked and
turned into sets of services from the search tables of the store version's own file
(`localoffer.facets`, held in memory as bitsets by `localoffer.searchsets`), the facet
counts, and one page of results.

Every filter selects a set of services (words by an FTS5 MATCH on the version's file, the
others by looking their value up among the kept sets); the matching services are the
intersection, counted exactly however many match. Results with words are ordered by
relevance, else by name. What a hit shows comes from the same file (the text index's
documents, the kept ages and council names). Words reach SQLite as a bound `?` parameter."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any
from functools import cached_property
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

import pyoxigraph as ox

from localoffer import namespaces as ns
from localoffer import searchsets as kept
from localoffer.errors import QueryError
from localoffer.searchsets import Sets, Words, members
from localoffer.textindex import WEIGHTS, TextIndex, fts_query

PAGE_SIZE = 20
MAX_PAGE = 500
FACET_LIMIT = 25
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PREFIXES = f"PREFIX schema: <{ns.SCHEMA}>\nPREFIX lo: <{ns.LO}>\n"
_CONCEPT = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


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
        """The URL query for these filters with *changes* (back to page 1 unless a page is
        given): what `urlencode` gives for the non-empty values, with the filters' own values
        encoded once per Filters (a results page links to every facet value it lists)."""
        encoded = dict(self._encoded)
        for k, v in changes.items():
            encoded[k] = quote_plus("" if v is None else str(v))
        return "&".join(f"{quote_plus(k)}={v}" for k, v in encoded.items() if v)

    @cached_property
    def _encoded(self) -> dict[str, str]:
        return {**{k: quote_plus(v) for k, v in self.as_params().items()}, "page": ""}

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



# facet name, label
FACETS: list[tuple[str, str]] = [
    ("authority", "Council"), ("need", "Need"), ("category", "Type of provision"), ("band", "Age group"),
    ("cost", "Cost"), ("day", "Open on"), ("attendance", "How to attend"), ("language", "Language"),
    ("accessibility", "Accessibility"),
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


def param_value(name: str, value: str) -> str:
    """The URL parameter value of a facet value (a GSS code, a concept name, a day, the text)."""
    if name in ("authority", "need", "category", "band", "day"):
        return value.rsplit("/", 1)[-1]
    return value


def filter_sets(sets: Sets, f: Filters, base: str) -> list[tuple[str, int]]:
    """(facet, set of services) for each filter of *f* but the words: a facet's counts leave
    out its own filter. As the SPARQL they replace: need and type of provision match narrower
    concepts; age and age group must hold for one audience (a missing minimum is 0, a missing
    maximum 200); day and time for one opening-hours node (open at the time, closed after it;
    `9:30` is read as 09:30:00); language, how to attend and accessibility ignore case; cost
    needs an offer. Filter values are only looked up, never written into a query."""
    out: list[tuple[str, int]] = []
    if f.authority:
        out.append(("authority", sets.value("authority", ns.authority_iri(base, f.authority))))
    if f.need:
        out.append(("need", sets.value("need+", ns.SCHEME + "need/" + f.need)))
    if f.category:
        out.append(("category", sets.value("category+", ns.SCHEME + "provision-category/" + f.category)))
    if f.age is not None or f.band:
        out.append(("band", sets.of_age(None if f.age is None else float(f.age),
                                        ns.SCHEME + "age-band/" + f.band if f.band else None)))
    if f.cost:
        out.append(("cost", sets.value("cost", f.cost)))
    if f.day or f.time:
        hour, minute = f.time.split(":") if f.time else ("", "")
        out.append(("day", sets.open_at(ns.SCHEMA + f.day if f.day else None,
                                        f"{int(hour):02d}:{minute}:00" if f.time else None)))
    for name in kept.KEYED:
        if getattr(f, name):
            out.append((name, sets.key(name, getattr(f, name))))
    return out


@dataclass
class Selection:
    """The services a search selects: the words' matches (None: no words) and the filters."""

    sets: Sets
    words: Words | None
    filters: list[tuple[str, int]]

    def chosen(self, skip: str = "", *, words: bool = True) -> int | None:
        """The services every filter but the facet *skip* selects, with the words unless not
        *words* (None: all of them)."""
        out = self.words.bits if self.words is not None and words else None
        for name, bits in self.filters:
            if name != skip:
                out = bits if out is None else out & bits
        return out


def select(index: TextIndex, f: Filters, base: str) -> Selection:
    """The sets a search of *f* selects, on the version *index* reads."""
    sets = kept.sets_of(index.conn, index.path)
    words = None
    if f.q:
        query = fts_query(f.q)
        words = sets.words(index.conn, query, WEIGHTS) if query else Words(0, ())
    return Selection(sets, words, filter_sets(sets, f, base))


def facets(index: TextIndex, f: Filters, base: str, selection: Selection | None = None) -> list[Facet]:
    """Counts of matching services per value of each facet (under the other filters), kept
    for the next request with the same filters (a page of 20 facet values costs ~10 ms at
    450,000 services)."""
    sel = selection or select(index, f, base)
    return sel.sets.memo(("facets", replace(f, page=1), base), lambda: _facets(sel, f))


def _facets(sel: Selection, f: Filters) -> list[Facet]:
    out = []
    for name, label in FACETS:
        chosen = sel.chosen(skip=name)
        counted = [(value, bits.bit_count() if chosen is None else (bits & chosen).bit_count())
                   for value, bits in sel.sets.values.get(name, {}).items()]
        rows = sorted(((v, n) for v, n in counted if n), key=lambda r: (-r[1], r[0]))[:FACET_LIMIT]
        facet = Facet(name, label)
        current = getattr(f, name)
        for value, n in rows:
            param = param_value(name, value)
            facet.values.append(FacetValue(param, sel.sets.labels.get(value) or param, n,
                                           str(current).lower() == param.lower()))
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


def page_of(index: TextIndex, f: Filters, base: str,
            selection: Selection | None = None) -> tuple[int, list[str]]:
    """The number of matching services and the IRIs on the requested page."""
    sel = selection or select(index, f, base)
    offset = (f.page - 1) * PAGE_SIZE
    chosen = sel.chosen()
    total = len(sel.sets.iris) if chosen is None else chosen.bit_count()
    if sel.words is not None:  # best first
        numbers = sel.sets.best(sel.words, sel.chosen(words=False), offset, PAGE_SIZE)
    elif chosen is None:  # services are numbered in page order
        numbers = list(range(offset, min(total, offset + PAGE_SIZE)))
    else:
        numbers = members(chosen, offset, PAGE_SIZE)
    return total, [sel.sets.iris[i] for i in numbers]


def results(index: TextIndex, f: Filters, base: str,
            selection: Selection | None = None) -> tuple[int, list[Hit]]:
    """The number of matching services and the hits on the requested page (by relevance when
    there are words, else by name), kept for the next request of the same page."""
    sel = selection or select(index, f, base)
    return sel.sets.memo(("results", f, base), lambda: _results(index, f, base, sel))


def _results(index: TextIndex, f: Filters, base: str, selection: Selection) -> tuple[int, list[Hit]]:
    total, iris = page_of(index, f, base, selection)
    if not iris:
        return total, []
    sets = selection.sets
    details = _details(index, sets, iris)
    hits = []
    for i in iris:
        r = details.get(i, {})
        desc = r.get("desc", "")
        lo_age, hi_age = r.get("min"), r.get("max")
        ages = (f"{_n(lo_age)} to {_n(hi_age)} years" if lo_age and hi_age else
                f"From {_n(lo_age)} years" if lo_age else f"Up to {_n(hi_age)} years" if hi_age else "")
        hits.append(Hit(i, r.get("name", i), desc if len(desc) <= 300 else desc[:297].rsplit(" ", 1)[0] + "…",
                        r.get("auth", ""), r.get("prov", ""), ages))
    return total, hits


def _details(index: TextIndex, sets: Sets, iris: list[str]) -> dict[str, dict[str, str]]:
    """What a hit shows of each service: from the text index's documents (a field with several
    values shows the first name and provider) and the kept ages and council names; from the
    store for a service without a document."""
    marks = ",".join("?" * len(iris))
    out: dict[str, dict[str, str]] = {}
    rows = sorted(index.conn.execute(  # the first document of a service declared in several graphs
        "SELECT doc.id, doc.iri, fts.name, fts.description, fts.provider, doc.authority FROM doc "
        f"JOIN fts ON fts.rowid = doc.id WHERE doc.iri IN ({marks})", iris).fetchall())
    for _, s, name, desc, prov, auth in rows:
        if s not in out:
            out[s] = {"name": name.split("\n", 1)[0], "desc": desc or "",
                      "prov": (prov or "").split("\n", 1)[0], "auth": sets.labels.get(auth or "", "")}
    for s, lo_age, hi_age in index.conn.execute(
            f"SELECT service, MIN(amin), MAX(amax) FROM service_age WHERE service IN ({marks}) "
            "GROUP BY service", iris):
        if s in out:
            out[s].update({k: str(v) for k, v in (("min", lo_age), ("max", hi_age)) if v is not None})
    missing = [i for i in iris if i not in out]
    if missing:
        out.update(_details_from_store(index, missing))
    return out


def _details_from_store(index: TextIndex, iris: list[str]) -> dict[str, dict[str, str]]:
    return {r["s"].value: {k: r[k].value for k in ("name", "desc", "auth", "prov", "min", "max") if k in r}
            for r in index.store.select(f"""{PREFIXES}
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


def _n(text: str | None) -> str:
    try:
        d = Decimal(text or "")
    except InvalidOperation:
        return text or ""
    return str(d.quantize(Decimal(1))) if d == d.to_integral_value() else str(d)


__all__ = ["Filters", "parse_filters", "filter_sets", "select", "facets", "results", "replace"]
