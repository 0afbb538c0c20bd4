"""Rows of the per-version derived tables (text index, search facets) built by the writer from
the N-Triples it writes, instead of read back from the store after the write.

The read-back (`textindex.DOC_QUERY`, the queries of `localoffer.facets`) runs SPARQL over the
union of all graphs. A graph's own triples give the same rows whenever no other graph says
anything those queries read about the nodes they walk from the graph's services (the services,
their providers, channels, schedules, languages, places, accessibility features, offers,
prices and audiences). `PreparedGraph.resolve` checks that with one count per chunk of nodes
when the version is published and looks up the broader concepts of the need and provision
categories (`skos:broader*` runs through the ontology graph); when another graph does say
something (a council's extra RDF about its services, an update), it answers None and the
tables are read back as before. Graphs with blank nodes are always read back.

A graph can also be declared *neutral* (`Neutral`): what the write changed in it (the
ingest's provenance and change-feed records in the metadata graph) is read by no derived
table, so only its triple count moves."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from localoffer import namespaces as ns

_S, _L, _H, _SKOS, _XSD = ns.SCHEMA, ns.LO, ns.HSDS, ns.SKOS, ns.XSD
TYPE = f"<{ns.RDF}type>"
SERVICE = f"<{_S}Service>"
P = {name: f"<{base}{name}>" for base, names in (
    (_S, ("name", "description", "provider", "hoursAvailable", "availableChannel", "dayOfWeek",
          "availableLanguage", "serviceLocation", "amenityFeature", "offers", "priceSpecification",
          "price", "audience", "suggestedMinAge", "suggestedMaxAge", "opens", "closes")),
    (_L, ("localAuthority", "needCategory", "provisionCategory")),
    (_H, ("attendingType",))) for name in names}
NOTATION = f"<{_SKOS}notation>"
LOCAL_AUTHORITY = f"<{_L}LocalAuthority>"
READ = frozenset(P.values())
"""The predicates the derived tables read (besides a service's rdf:type in its own graph)."""
_READ = {p: p for p in READ}
WALK = tuple(P[n] for n in ("provider", "hoursAvailable", "availableChannel", "availableLanguage",
                            "serviceLocation", "amenityFeature", "offers", "priceSpecification", "audience"))
"""The links the read-back queries follow from a service to the nodes whose values they read."""
NUMERIC = {f"<{_XSD}{t}>" for t in ("decimal", "integer", "double", "float", "int", "long", "short",
                                    "byte", "nonNegativeInteger", "positiveInteger",
                                    "nonPositiveInteger", "negativeInteger", "unsignedLong",
                                    "unsignedInt", "unsignedShort", "unsignedByte")}
_ESCAPE = re.compile(r'\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)')
_UNESCAPE = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_FREE = re.compile(r"\bfree\b", re.IGNORECASE)
_PLAIN_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$")  # canonical already (24:00:00 is not)
CHUNK = 2000


@dataclass(frozen=True)
class Neutral:
    """A write that changed a graph only in ways no derived table reads: its triple count
    moved by *triples* (added minus removed). *fresh*: the graph was empty before, so all it
    holds is of that kind: it speaks of no authority and builds no vocabulary, and its kept
    counts are made without asking the store (a validation run publishes 150 new report
    graphs the first time, ~0.2 s of queries each)."""

    triples: int
    fresh: bool = False


@dataclass(frozen=True)
class Term:
    """An N-Triples object: an IRI (`datatype` None, `lang` None, `is_iri`) or a literal."""

    value: str
    is_iri: bool
    datatype: str | None = None


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        e = m.group(1)
        return chr(int(e[1:], 16)) if e[0] in "uU" and len(e) > 1 else _UNESCAPE.get(e, e)

    return _ESCAPE.sub(one, text)


def parse_term(text: str) -> Term:
    """The value of an N-Triples object term as pyoxigraph reports it (`.value`)."""
    if text[0] == "<":
        return Term(text[1:-1], True)
    end = text.rfind('"')
    datatype = text[end + 3:] if text[end + 1:end + 3] == "^^" else None
    return Term(_unescape(text[1:end]), False, datatype)


@dataclass
class PreparedGraph:
    """What one graph's own triples say that the derived tables read; fed line by line."""

    graph: str
    authority: str | None = None
    """The IRI term of the ingest's authority, whose kept counts the graph may give."""
    facts: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    services: list[str] = field(default_factory=list)
    subjects: set[str] = field(default_factory=set)
    about_authority: set[str] = field(default_factory=set)
    blank: bool = False

    def add(self, lines: Iterable[str]) -> None:
        """Note N-Triples lines written to the graph (duplicates are harmless)."""
        facts, subjects, read = self.facts, self.subjects, _READ
        for line in lines:
            s, p, o = line[:-3].split(" ", 2)
            subjects.add(s)
            if s[0] == "_" or o[0] == "_":
                self.blank = True
            if s == self.authority:
                self.about_authority.add(line)
            if p in read:
                values = facts.setdefault(s, {}).setdefault(read[p], [])  # one string per predicate
                if o not in values:
                    values.append(o)
            elif p == TYPE and o == SERVICE:
                self.services.append(s)

    # -- at publish time -------------------------------------------------------------------
    def resolve(self, source: Any) -> dict[str, Any] | None:
        """The rows of the read-back queries for this graph in the version *source* (None when
        they must be read back: blank nodes, or another graph says something they read)."""
        if self.blank:
            return None
        services = sorted(set(self.services))
        nodes = self._walk(services)
        if not self._alone(source, nodes):
            return None
        concepts = self._closure(source, services)
        out: dict[str, Any] = {"docs": list(self._docs(services)),
                               "subjects": sorted(s[1:-1] for s in self.subjects),
                               "parts": self._foreign_parts(services), "graph": self}
        out.update(self._facets(services, concepts))
        return out

    def _values(self, s: str, p: str) -> list[str]:
        return self.facts.get(s, {}).get(P[p], [])

    def authority_counts(self, source: Any
                         ) -> tuple[str, list[dict[str, str]], dict[str, list[dict[str, str]]]] | None:
        """The kept counts of the ingest's authority from this graph (after `resolve` found
        nothing else about its services): its statistics.PER_AUTHORITY rows and
        statistics.NEED_BAND rows by key; None when another graph says something about the
        authority or names it as a service's authority (then SPARQL counts it)."""
        a = self.authority
        if a is None:
            return None
        mine = sorted(s for s, props in self.facts.items() if a in props.get(P["localAuthority"], ()))
        services = set(self.services)
        names = self._values(a, "name")
        if any(s not in services for s in mine) or len(names) > 1:
            return None
        for query, own in ((f"SELECT (COUNT(*) AS ?n) WHERE {{ {a} ?p ?o }}", len(self.about_authority)),
                           (f"SELECT (COUNT(*) AS ?n) WHERE {{ ?x {P['localAuthority']} {a} }}", len(mine))):
            if int(next(iter(source.query(query)))["n"].value) != own:
                return None
        value = a[1:-1]
        codes = [parse_term(line[:-3].split(" ", 2)[2]).value for line in sorted(self.about_authority)
                 if line.split(" ", 2)[1] == NOTATION]
        typed = f"{a} {TYPE} {LOCAL_AUTHORITY} .\n" in self.about_authority
        orgs = {o for s in mine for o in self._values(s, "provider")}
        places = {p for s in mine for c in self._values(s, "availableChannel")
                  for p in self._values(c, "serviceLocation")}
        head = {"authority": value, "services": str(len(mine)), "organizations": str(len(orgs)),
                "locations": str(len(places))}
        if names:
            head["name"] = parse_term(names[0]).value
        per_authority = [{**head, "code": code} for code in dict.fromkeys(codes)] if typed else []
        areas = self._areas(source, mine)
        in_band = self._bands(source, mine)
        need: dict[str, list[dict[str, str]]] = {"area band": [], "area": [], "band": []}
        by_area: dict[str, set[str]] = {}
        for s in mine:
            for area in areas.get(s, ()):
                by_area.setdefault(area, set()).add(s)
        by_band: dict[str, set[str]] = {}
        for s in mine:
            for band in in_band.get(s, ()):
                by_band.setdefault(band, set()).add(s)
        for area, members in by_area.items():
            need["area"].append({"authority": value, "area": area, "n": str(len(members))})
            for band, banded in by_band.items():
                if members & banded:
                    need["area band"].append({"authority": value, "area": area, "band": band,
                                              "n": str(len(members & banded))})
        need["band"] = [{"authority": value, "band": band, "n": str(len(m))} for band, m in by_band.items()]
        return value, per_authority, need

    def _areas(self, source: Any, services: list[str]) -> dict[str, set[str]]:
        """Each service's areas of need (its needs' skos:broader* that are lo:NeedArea)."""
        needs = {s: self._values(s, "needCategory") for s in services}
        concepts = sorted({c for cs in needs.values() for c in cs if c[0] == "<"})
        reach: dict[str, set[str]] = {}
        for i in range(0, len(concepts), CHUNK):
            part = " ".join(concepts[i:i + CHUNK])
            for row in source.query(f"SELECT DISTINCT ?c ?area WHERE {{ VALUES ?c {{ {part} }} "
                                    f"?c <{_SKOS}broader>* ?area . ?area {TYPE} <{_L}NeedArea> }}"):
                reach.setdefault(f"<{row['c'].value}>", set()).add(row["area"].value)
        return {s: {a for c in cs for a in reach.get(c, ())} for s, cs in needs.items()}

    def _bands(self, source: Any, services: list[str]) -> dict[str, set[str]]:
        """The age bands each service counts in (statistics._BAND: any of its minimum and
        maximum ages, 0 and 25 when absent, overlapping the band)."""
        bands = [(r["band"].value, _decimal(r["lo"]), _decimal(r["hi"])) for r in source.query(
            f"SELECT ?band ?lo ?hi WHERE {{ ?band {TYPE} <{_L}AgeBand> ; <{_L}minimumAge> ?lo ; "
            f"<{_L}maximumAge> ?hi }}")]
        out: dict[str, set[str]] = {}
        for s in services:
            auds = self._values(s, "audience")
            lows = [_decimal_term(t) for a in auds for t in self._values(a, "suggestedMinAge")]
            highs = [_decimal_term(t) for a in auds for t in self._values(a, "suggestedMaxAge")]
            lows, highs = lows or [Decimal(0)], highs or [Decimal(25)]
            out[s] = {band for band, b_lo, b_hi in bands if any(
                lo is not None and hi is not None and b_lo is not None and b_hi is not None
                and lo <= b_hi and hi >= b_lo for lo in lows for hi in highs)}
        return out

    def _foreign_parts(self, services: list[str]) -> list[str]:
        """statistics.PARTS minus statistics.OWNED_PARTS: the IRIs this graph gives ages or
        places that it does not attach to one of its services as audience or channel."""
        keys = (P["suggestedMinAge"], P["suggestedMaxAge"], P["serviceLocation"])
        parts = {s for s, props in self.facts.items() if s[0] == "<" and any(k in props for k in keys)}
        owned = {o for s in services for p in ("audience", "availableChannel") for o in self._values(s, p)}
        return sorted(s[1:-1] for s in parts - owned)

    def _walk(self, services: list[str]) -> set[str]:
        """The nodes the read-back walks from the services (themselves included)."""
        seen = set(services)
        todo = list(services)
        while todo:
            s = todo.pop()
            props = self.facts.get(s)
            if not props:
                continue
            for p in WALK:
                for o in props.get(p, ()):
                    if o[0] == "<" and o not in seen:
                        seen.add(o)
                        todo.append(o)
        return seen

    def _alone(self, source: Any, nodes: set[str]) -> bool:
        """Whether the store holds exactly this graph's read triples about *nodes* (so no
        other graph adds to them)."""
        own = sum(len(v) for s in nodes for v in self.facts.get(s, {}).values())
        preds = ", ".join(sorted(READ))
        ordered = sorted(nodes)
        found = 0
        for i in range(0, len(ordered), CHUNK):
            part = " ".join(ordered[i:i + CHUNK])
            result = source.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?s {{ {part} }} ?s ?p ?o "
                                  f"FILTER(?p IN ({preds})) }}")
            found += int(next(iter(result))["n"].value)
        return found == own

    def _closure(self, source: Any, services: list[str]) -> dict[str, list[str]]:
        """Each need or provision category with every concept it reaches by skos:broader*."""
        concepts = sorted({o for s in services for p in ("needCategory", "provisionCategory")
                           for o in self._values(s, p) if o[0] == "<"})
        found: dict[str, list[str]] = {c: [] for c in concepts}
        for i in range(0, len(concepts), CHUNK):
            part = " ".join(concepts[i:i + CHUNK])
            for row in source.query(f"SELECT DISTINCT ?c ?a WHERE {{ VALUES ?c {{ {part} }} "
                                    f"?c <{_SKOS}broader>* ?a }}"):
                found[f"<{row['c'].value}>"].append(row["a"].value)
        return found

    def _docs(self, services: list[str]) -> Iterator[dict[str, str]]:
        """Rows of textindex.DOC_QUERY."""
        for s in services:
            names = [parse_term(t).value for t in self._values(s, "name")]
            if not names:
                continue
            opt = {"description": [parse_term(t).value for t in self._values(s, "description")],
                   "authority": [parse_term(t).value for t in self._values(s, "localAuthority")],
                   "provider": [parse_term(n).value for o in self._values(s, "provider")
                                for n in self._values(o, "name")]}
            for name in names:
                yield from _product({"s": [s[1:-1]], "name": [name], **opt})

    def _facets(self, services: list[str], concepts: dict[str, list[str]]) -> dict[str, list[dict[str, str]]]:
        """Rows of the queries of localoffer.facets, by facet name (`names`, `cost`, `ages`,
        `hours` for NAMES, COST, AGES, HOURS)."""
        out: dict[str, list[dict[str, str]]] = {k: [] for k in (
            "names", "authority", "need", "need+", "category", "category+", "day", "attendance",
            "language", "accessibility", "cost", "ages", "hours")}
        v = self._values
        for s in services:
            service = s[1:-1]
            names = [parse_term(t).value.lower() for t in v(s, "name")]
            out["names"].append({"service": service, "sort": min(names)} if names else {"service": service})
            channels = v(s, "availableChannel")
            schedules = list(dict.fromkeys(v(s, "hoursAvailable") + [h for c in channels
                                                                       for h in v(c, "hoursAvailable")]))
            values = {
                "authority": v(s, "localAuthority"), "need": v(s, "needCategory"),
                "category": v(s, "provisionCategory"),
                "day": [d for h in schedules for d in v(h, "dayOfWeek")],
                "attendance": v(s, "attendingType"),
                "language": [n for lang in v(s, "availableLanguage") for n in v(lang, "name")],
                "accessibility": [n for c in channels for place in v(c, "serviceLocation")
                                  for a in v(place, "amenityFeature") for n in v(a, "name")],
            }
            for name, terms in values.items():
                for value in dict.fromkeys(parse_term(t).value for t in terms):
                    out[name].append({"service": service, "v": value})
            for name, direct in (("need+", values["need"]), ("category+", values["category"])):
                reached = dict.fromkeys(a for c in direct for a in concepts.get(c, [parse_term(c).value]))
                out[name] += [{"service": service, "v": a} for a in reached]
            offers = v(s, "offers")
            if offers:
                free = any(_is_zero(p) for o in offers for ps in v(o, "priceSpecification")
                           for p in v(ps, "price")) or any(
                    not (t := parse_term(x)).is_iri and _FREE.search(t.value)
                    for o in offers for x in v(o, "description") + v(o, "name"))
                out["cost"].append({"service": service, "free": "free" if free else "paid"})
            for aud in v(s, "audience"):
                lo_, hi = v(aud, "suggestedMinAge"), v(aud, "suggestedMaxAge")
                if lo_ or hi:
                    out["ages"] += _product({"service": [service], "amin": [parse_term(t).value for t in lo_],
                                             "amax": [parse_term(t).value for t in hi]})
            for h in schedules:
                out["hours"] += _product({"service": [service],
                                          "day": [parse_term(t).value for t in v(h, "dayOfWeek")],
                                          "opens": [_time(t) for t in v(h, "opens")],
                                          "closes": [_time(t) for t in v(h, "closes")]})
        return out


def _product(fields: dict[str, list[str]]) -> list[dict[str, str]]:
    """Rows of every combination of the fields' values (an empty field stays unbound, as an
    OPTIONAL that found nothing)."""
    rows: list[dict[str, str]] = [{}]
    for key, values in fields.items():
        if values:
            rows = [{**r, key: value} for r in rows for value in values]
    return rows


def _decimal(term: Any) -> Decimal | None:
    """A numeric literal (pyoxigraph term) as a Decimal; None when it is not one."""
    datatype = getattr(term, "datatype", None)
    if datatype is None or f"<{datatype.value}>" not in NUMERIC:
        return None
    try:
        return Decimal(term.value)
    except InvalidOperation:
        return None


def _decimal_term(text: str) -> Decimal | None:
    """A numeric N-Triples literal as a Decimal; None when it is not one."""
    t = parse_term(text)
    if t.is_iri or t.datatype not in NUMERIC:
        return None
    try:
        return Decimal(t.value)
    except InvalidOperation:
        return None


def _is_zero(term: str) -> bool:
    t = parse_term(term)
    if t.is_iri or t.datatype not in NUMERIC:
        return False
    try:
        return Decimal(t.value) == 0
    except InvalidOperation:
        return False


_canonical: dict[str, str] = {}


def _time(term: str) -> str:
    """An xsd:time's value as the store gives it back (its canonical form)."""
    t = parse_term(term)
    if t.is_iri or _PLAIN_TIME.match(t.value) or t.datatype != f"<{_XSD}time>":
        return t.value
    if term not in _canonical:
        import pyoxigraph as ox

        store = ox.Store()
        node = ox.NamedNode("urn:x:t")
        store.add(ox.Quad(node, node, ox.Literal(t.value, datatype=ox.NamedNode(f"{_XSD}time"))))
        _canonical[term] = next(iter(store.quads_for_pattern(None, None, None))).object.value
    return _canonical[term]


def split(prepared: dict[str, Any] | None, source: Any, present: Iterable[str],
          changed: set[str] | None) -> tuple[dict[str, Neutral], dict[str, dict[str, Any]]]:
    """The *prepared* graphs of a build: the neutral ones (only when the build is incremental)
    and the rows of the others that their graph's own triples give (`PreparedGraph.resolve`)."""
    neutral: dict[str, Neutral] = {}
    built: dict[str, dict[str, Any]] = {}
    present = set(present)
    for g, item in (prepared or {}).items():
        if isinstance(item, Neutral):
            if changed is not None and g in changed:
                neutral[g] = item
        elif g in present and (changed is None or g in changed):
            rows = item.resolve(source)
            if rows is not None:
                built[g] = rows
    return neutral, built
