"""Searching services across council boundaries: the filters a person can set, checked and
turned into SQL over the search tables of the store version's own file (`localoffer.facets`,
beside the text index `localoffer.textindex`), the facet counts, and one page of results.

Every filter selects a set of services (words by an FTS5 MATCH on the same connection, the
others from the facet, age and opening-hours tables); the matching services are the
intersection, counted exactly however many match. Results with words are ordered by
relevance, else by name. Only the page's services are read from the store (names,
descriptions, councils, providers and ages for display). Every value reaches SQLite as a
bound `?` parameter, and the store as an RDF term written by pyoxigraph."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pyoxigraph as ox

from localoffer import facets as kept
from localoffer import namespaces as ns
from localoffer.errors import QueryError
from localoffer.textindex import TextIndex

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


def _in(name: str, column: str = "value") -> str:
    return f"service IN (SELECT service FROM facet WHERE name = '{name}' AND {column} = ?)"


def conditions(f: Filters, base: str, *, skip: str = "") -> tuple[list[str], list[Any]]:
    """SQL conditions on `service` (one per filter of *f* but the facet *skip*; words left
    out: the callers join the text index) and their parameters. As the SPARQL they replace:
    need and type of provision match narrower concepts; age and age group must hold for one
    audience (a missing minimum is 0, a missing maximum 200); day and time for one
    opening-hours node (open at the time, closed after it; `9:30` is read as 09:30:00);
    language, how to attend and accessibility ignore case; cost needs an offer."""
    where: list[str] = []
    params: list[Any] = []
    if f.authority and skip != "authority":
        where.append(_in("authority"))
        params.append(ns.authority_iri(base, f.authority))
    if f.need and skip != "need":
        where.append(_in("need+"))
        params.append(ns.SCHEME + "need/" + f.need)
    if f.category and skip != "category":
        where.append(_in("category+"))
        params.append(ns.SCHEME + "provision-category/" + f.category)
    if f.band and f.age is None and skip not in ("age", "band"):
        # the band's rows are kept for the bands the facet shows; others are checked below
        where.append("(service IN (SELECT service FROM facet WHERE name = 'band' AND value = ?) OR "
                     "(NOT EXISTS (SELECT 1 FROM band WHERE iri = ? AND shown) AND service IN ("
                     "SELECT a.service FROM service_age a JOIN band b ON b.iri = ? WHERE "
                     "COALESCE(a.amin, 0) <= b.bmax AND COALESCE(a.amax, 200) >= b.bmin)))")
        params += [ns.SCHEME + "age-band/" + f.band] * 3
    elif (f.age is not None or f.band) and skip not in ("age", "band"):
        sql = "SELECT a.service FROM service_age a"
        tests = []
        if f.band:
            sql += " JOIN band b ON b.iri = ?"
            params.append(ns.SCHEME + "age-band/" + f.band)
            tests.append("COALESCE(a.amin, 0) <= b.bmax AND COALESCE(a.amax, 200) >= b.bmin")
        if f.age is not None:
            tests.append("COALESCE(a.amin, 0) <= ? AND COALESCE(a.amax, 200) >= ?")
            params += [float(f.age), float(f.age)]
        where.append(f"service IN ({sql} WHERE {' AND '.join(tests)})")
    if f.cost and skip != "cost":
        where.append(_in("cost"))
        params.append(f.cost)
    if (f.day or f.time) and skip not in ("day", "time"):
        tests = []
        if f.day:
            tests.append("day = ?")
            params.append(ns.SCHEMA + f.day)
        if f.time:
            hour, minute = f.time.split(":")
            tests.append("opens <= ? AND closes > ?")
            params += [f"{int(hour):02d}:{minute}:00"] * 2
        where.append(f"service IN (SELECT service FROM service_hours WHERE {' AND '.join(tests)})")
    for name in ("language", "attendance", "accessibility"):
        if getattr(f, name) and skip != name:
            where.append(_in(name, "key"))
            params.append(getattr(f, name).lower())
    return where, params


def _selected(index: TextIndex, f: Filters, base: str, skip: str = "") -> tuple[str, list[Any]] | None:
    """A SELECT of the services matching *f* but the facet *skip* (None: every service; the
    words are the temporary table `words` that `TextIndex.fill_words` filled)."""
    where, params = conditions(f, base, skip=skip)
    if f.q and skip != "q":
        if not index.fill_words(f.q):
            return "SELECT NULL AS service WHERE 0", []
        if where:
            return ("SELECT service FROM temp.words WHERE service IN (SELECT service FROM svc WHERE "
                    + " AND ".join(where) + ")", params)
        return "SELECT service FROM temp.words", []
    if not where:
        return None
    return "SELECT service FROM svc WHERE " + " AND ".join(where), params


def facets(index: TextIndex, f: Filters, base: str) -> list[Facet]:
    """Counts of matching services per value of each facet (under the other filters)."""
    out = []
    kept_sets: dict[tuple[str, tuple[Any, ...]], str] = {}
    for name, label in FACETS:
        chosen = _selected(index, f, base, skip=name)
        sql = "SELECT value, COUNT(DISTINCT service) AS n FROM facet WHERE name = ?"
        params: list[Any] = [name]
        if chosen is not None:  # the facets skipping no set filter share one set: kept once
            key = (chosen[0], tuple(chosen[1]))
            if key not in kept_sets:
                kept_sets[key] = table = f"selected{len(kept_sets)}"
                index.conn.execute(f"DROP TABLE IF EXISTS temp.{table}")
                index.conn.execute(f"CREATE TEMP TABLE {table}(service TEXT PRIMARY KEY)")
                index.conn.execute(f"INSERT OR IGNORE INTO temp.{table} {chosen[0]}", chosen[1])
            sql = ("SELECT f.value AS value, COUNT(DISTINCT f.service) AS n FROM "
                   f"temp.{kept_sets[key]} c JOIN facet f ON f.service = c.service AND f.name = ?")
        rows = index.conn.execute(f"{sql} GROUP BY value ORDER BY n DESC, value LIMIT ?",
                                  [*params, FACET_LIMIT]).fetchall()
        marks = ",".join("?" * len(rows))
        shown = dict(index.conn.execute(f"SELECT value, label FROM facet_label WHERE value IN ({marks})",
                                        [v for v, _ in rows]).fetchall())
        facet = Facet(name, label)
        current = getattr(f, name)
        for value, n in rows:
            param = param_value(name, value)
            facet.values.append(FacetValue(param, shown.get(value) or param, int(n),
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


def page_of(index: TextIndex, f: Filters, base: str) -> tuple[int, list[str]]:
    """The number of matching services and the IRIs on the requested page."""
    offset = (f.page - 1) * PAGE_SIZE
    conn = index.conn
    if f.q:
        if not index.fill_words(f.q):
            return 0, []
        where, params = conditions(f, base)
        sql = "FROM temp.words" + (" WHERE service IN (SELECT service FROM svc WHERE " + " AND ".join(where) + ")"
                                   if where else "")
        total = conn.execute(f"SELECT COUNT(*) {sql}", params).fetchone()[0]
        iris = [i for (i,) in conn.execute(f"SELECT service {sql} ORDER BY rank, id LIMIT ? OFFSET ?",
                                           [*params, PAGE_SIZE, offset])]
        return int(total), iris
    chosen = _selected(index, f, base)
    cond, params = (f" AND service IN ({chosen[0]})", chosen[1]) if chosen else ("", [])
    total = conn.execute(f"SELECT COUNT(DISTINCT service) FROM svc WHERE 1{cond}", params).fetchone()[0]
    if kept.shared(index.conn):
        sql = (f"SELECT service FROM svc WHERE sortname IS NOT NULL{cond} GROUP BY service "
               "ORDER BY MIN(sortname), service LIMIT ? OFFSET ?")
    else:
        sql = f"SELECT service FROM svc WHERE sortname IS NOT NULL{cond} ORDER BY sortname, service LIMIT ? OFFSET ?"
    return int(total), [i for (i,) in conn.execute(sql, [*params, PAGE_SIZE, offset])]


def results(index: TextIndex, f: Filters, base: str) -> tuple[int, list[Hit]]:
    """The number of matching services and the hits on the requested page (by relevance when
    there are words, else by name)."""
    total, iris = page_of(index, f, base)
    if not iris:
        return total, []
    details = {r["s"].value: r for r in index.store.select(f"""{PREFIXES}
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


__all__ = ["Filters", "parse_filters", "conditions", "facets", "results", "replace"]
