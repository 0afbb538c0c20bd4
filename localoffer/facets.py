"""The filters and facet counts of the `/services` search, kept in each version's file beside
the text index (`localoffer.textindex`), so that a search is a few SQLite queries instead of
SPARQL scans of every service.

Tables (rows per graph that declares the service a schema:Service, so a write redoes only the
graphs it changed; a service declared in two graphs has rows from both, counted DISTINCT):

- `svc(service, graph, sortname)`: the services, with their name lower-cased (page order);
- `facet(service, graph, name, value, key)`: one row per service and value of a facet —
  `authority`, `need`, `category` (direct values, counted), `need+`, `category+` (every
  concept a value reaches by skos:broader*, filtered on), `band` (every age band one of the
  service's audiences overlaps), `cost` (free/paid, for services with offers), `day`,
  `attendance`, `language`, `accessibility` (`key`: the value lower-cased, for the
  case-blind filters);
- `service_age(service, graph, amin, amax)`: each audience's ages (either may be NULL);
- `service_hours(service, graph, day, opens, closes)`: each opening-hours node;
- `band(iri, bmin, bmax, shown)`, `facet_label(value, label)`: the age bands and the labels
  of councils and concepts (small; redone on every build).

A graph that declares no services (vocabularies, taxonomies, extra RDF about other graphs'
services) can change any service's facets, so writing one redoes every graph.

Indexes are only those the writer (rows by graph; a service's graphs) and the bitsets' load
(`facet` by name and value) use: searches filter in memory (`localoffer.searchsets`). Each
index is copied with every version's file, so an unused one costs every write."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from localoffer import namespaces as ns

TABLES = """
CREATE TABLE IF NOT EXISTS svc(service TEXT NOT NULL, graph TEXT NOT NULL, sortname TEXT);
CREATE INDEX IF NOT EXISTS svc_service ON svc(service);
CREATE INDEX IF NOT EXISTS svc_graph ON svc(graph);
CREATE INDEX IF NOT EXISTS svc_sort ON svc(sortname, service);
CREATE TABLE IF NOT EXISTS facet(service TEXT NOT NULL, graph TEXT NOT NULL, name TEXT NOT NULL,
    value TEXT NOT NULL, key TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS facet_value ON facet(name, value, service);
CREATE INDEX IF NOT EXISTS facet_graph ON facet(graph);
DROP INDEX IF EXISTS facet_key;
DROP INDEX IF EXISTS facet_service;
CREATE TABLE IF NOT EXISTS service_age(service TEXT NOT NULL, graph TEXT NOT NULL, amin REAL, amax REAL);
CREATE INDEX IF NOT EXISTS service_age_service ON service_age(service);
CREATE INDEX IF NOT EXISTS service_age_graph ON service_age(graph);
CREATE TABLE IF NOT EXISTS service_hours(service TEXT NOT NULL, graph TEXT NOT NULL, day TEXT,
    opens TEXT, closes TEXT);
DROP INDEX IF EXISTS service_hours_service;
CREATE INDEX IF NOT EXISTS service_hours_graph ON service_hours(graph);
CREATE TABLE IF NOT EXISTS band(iri TEXT NOT NULL, bmin REAL NOT NULL, bmax REAL NOT NULL, shown INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS facet_label(value TEXT PRIMARY KEY, label TEXT);
"""

P = (f"PREFIX schema: <{ns.SCHEMA}>\nPREFIX lo: <{ns.LO}>\nPREFIX hsds: <{ns.HSDS}>\n"
     f"PREFIX skos: <{ns.SKOS}>\n")
_OWN = "GRAPH <{g}> {{ ?service a schema:Service }}"


def _free() -> str:
    # the search's SPARQL test for a free offer (see publisher search.free)
    return ("OPTIONAL {{ ?service schema:offers ?o1 . ?o1 schema:priceSpecification/schema:price ?p "
            "FILTER(?p = 0) }} OPTIONAL {{ ?service schema:offers ?o2 . ?o2 schema:description|schema:name ?t "
            'FILTER(REGEX(?t, "\\\\bfree\\\\b", "i")) }}')


VALUE_QUERIES: dict[str, str] = {
    # facet name -> a query binding ?service and ?v (per graph <{g}>)
    "authority": "?service lo:localAuthority ?v",
    "need": "?service lo:needCategory ?v",
    "need+": "?service lo:needCategory/skos:broader* ?v",
    "category": "?service lo:provisionCategory ?v",
    "category+": "?service lo:provisionCategory/skos:broader* ?v",
    "day": "?service (schema:hoursAvailable|schema:availableChannel/schema:hoursAvailable)/schema:dayOfWeek ?v",
    "attendance": "?service hsds:attendingType ?v",
    "language": "?service schema:availableLanguage/schema:name ?v",
    "accessibility": "?service schema:availableChannel/schema:serviceLocation/schema:amenityFeature/schema:name ?v",
}
NAMES = P + "SELECT ?service (MIN(LCASE(STR(?nm))) AS ?sort) WHERE {{ " + _OWN + \
    " OPTIONAL {{ ?service schema:name ?nm }} }} GROUP BY ?service"
COST = P + "SELECT DISTINCT ?service ?free WHERE {{ " + _OWN + " ?service schema:offers ?co . " + _free() + \
    " BIND(IF(BOUND(?p) || BOUND(?t), \"free\", \"paid\") AS ?free) }}"
AGES = P + "SELECT ?service ?amin ?amax WHERE {{ " + _OWN + " ?service schema:audience ?aud . " \
    "OPTIONAL {{ ?aud schema:suggestedMinAge ?amin }} OPTIONAL {{ ?aud schema:suggestedMaxAge ?amax }} " \
    "FILTER(BOUND(?amin) || BOUND(?amax)) }}"
HOURS = P + "SELECT ?service ?day ?opens ?closes WHERE {{ " + _OWN + \
    " ?service (schema:hoursAvailable|schema:availableChannel/schema:hoursAvailable) ?hrs . " \
    "OPTIONAL {{ ?hrs schema:dayOfWeek ?day }} OPTIONAL {{ ?hrs schema:opens ?opens }} " \
    "OPTIONAL {{ ?hrs schema:closes ?closes }} }}"
BANDS = P + """SELECT ?b ?bmin ?bmax ?shown WHERE { ?b lo:minimumAge ?bmin ; lo:maximumAge ?bmax .
  BIND(EXISTS { ?b a lo:AgeBand ; skos:prefLabel ?l } AS ?shown) }"""
LABELS = P + """SELECT ?v (SAMPLE(?l) AS ?label) WHERE {
  { ?v a lo:LocalAuthority ; schema:name ?l } UNION { ?v skos:prefLabel ?l } } GROUP BY ?v"""
SUBJECT_SERVICES = P + "SELECT DISTINCT ?s WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} ?s a schema:Service }}"
HAS_SERVICES = P + "ASK {{ GRAPH <{g}> {{ ?s a schema:Service }} }}"


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def index_graph(conn: sqlite3.Connection, source: Any, graph: str) -> None:
    """(Re)write the facet rows of the services *graph* declares."""
    from localoffer.textindex import rows

    found = {"names": rows(source, NAMES.format(g=graph)), "cost": rows(source, COST.format(g=graph)),
             "ages": rows(source, AGES.format(g=graph)), "hours": rows(source, HOURS.format(g=graph))}
    for name, pattern in VALUE_QUERIES.items():
        query = P + "SELECT DISTINCT ?service ?v WHERE {{ " + _OWN + " " + pattern + " }}"
        found[name] = rows(source, query.format(g=graph))
    write_rows(conn, graph, found)


def write_rows(conn: sqlite3.Connection, graph: str, found: Mapping[str, Iterable[dict[str, str]]]) -> None:
    """(Re)write the facet rows of *graph* from rows shaped as the queries answer them: `names`
    (NAMES), each facet of VALUE_QUERIES, `cost` (COST), `ages` (AGES), `hours` (HOURS)."""
    for table in ("svc", "facet", "service_age", "service_hours"):
        conn.execute(f"DELETE FROM {table} WHERE graph = ?", (graph,))  # noqa: S608 (fixed names)
    conn.executemany("INSERT INTO svc VALUES (?, ?, ?)",
                     [(r["service"], graph, r.get("sort")) for r in found["names"]])
    for name in VALUE_QUERIES:
        conn.executemany("INSERT INTO facet VALUES (?, ?, ?, ?, ?)",
                         [(r["service"], graph, name, r["v"], r["v"].lower()) for r in found[name]])
    conn.executemany("INSERT INTO facet VALUES (?, ?, 'cost', ?, ?)",
                     [(r["service"], graph, r["free"], r["free"]) for r in found["cost"]])
    conn.executemany("INSERT INTO service_age VALUES (?, ?, ?, ?)",
                     [(r["service"], graph, _number(r.get("amin")), _number(r.get("amax")))
                      for r in found["ages"]])
    conn.executemany("INSERT INTO service_hours VALUES (?, ?, ?, ?, ?)",
                     [(r["service"], graph, r.get("day"), r.get("opens"), r.get("closes"))
                      for r in found["hours"]])
    conn.execute("""INSERT INTO facet SELECT DISTINCT a.service, a.graph, 'band', b.iri, lower(b.iri)
        FROM service_age a JOIN band b ON b.shown AND COALESCE(a.amin, 0) <= b.bmax
        AND COALESCE(a.amax, 200) >= b.bmin WHERE a.graph = ?""", (graph,))


def _graphs_to_redo(conn: sqlite3.Connection, source: Any, present: set[str], changed: set[str],
                    built: Mapping[str, Any]) -> set[str] | None:
    """The graphs whose facet rows a write of *changed* may alter; None: all of them. For the
    graphs in *built* (rows the writer prepared), their subjects stand for SUBJECT_SERVICES:
    only those the svc table holds as services count."""
    from localoffer.textindex import rows

    indexed = {g for (g,) in conn.execute("SELECT DISTINCT graph FROM svc")}
    redo = set(changed)
    for g in sorted(changed):
        if g not in present:
            continue
        if not (built[g]["names"] if g in built else bool(source.query(HAS_SERVICES.format(g=g)))):
            return None  # a vocabulary or extra statements about other graphs' services
        services = (built[g]["subjects"] if g in built else
                    sorted({r["s"] for r in rows(source, SUBJECT_SERVICES.format(g=g))}))
        for i in range(0, len(services), 500):
            part = services[i:i + 500]
            redo |= {o for (o,) in conn.execute(
                f"SELECT DISTINCT graph FROM svc WHERE service IN ({','.join('?' * len(part))})", part)}
    return redo & (present | indexed)


def refresh(conn: sqlite3.Connection, source: Any, present: Iterable[str], changed: set[str] | None,
            built: Mapping[str, Any] | None = None, neutral: set[str] | None = None) -> None:
    """Bring the facet tables up to date after the graphs *changed* (None: all) were written;
    *present* are the named graphs the store holds now. The tables must exist (TABLES, and
    the text index's `info`). *built*: rows the writer prepared for some graphs (see
    `localoffer.prepared`); *neutral*: graphs changed in nothing these tables read."""
    from localoffer.textindex import rows

    present = set(present)
    built = built or {}
    if changed is not None and neutral:
        changed = changed - neutral
    conn.execute("DELETE FROM band")
    conn.executemany("INSERT INTO band VALUES (?, ?, ?, ?)", [
        (r["b"], float(r["bmin"]), float(r["bmax"]), int(r["shown"] == "true"))
        for r in rows(source, BANDS) if _number(r["bmin"]) is not None and _number(r["bmax"]) is not None])
    conn.execute("DELETE FROM facet_label")
    conn.executemany("INSERT OR REPLACE INTO facet_label VALUES (?, ?)",
                     [(r["v"], r.get("label")) for r in rows(source, LABELS)])
    redo = None if changed is None else _graphs_to_redo(conn, source, present, changed, built)
    if redo is None:
        for table in ("svc", "facet", "service_age", "service_hours"):
            conn.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed names)
        redo = present
    for g in sorted(redo):
        if g in built:
            write_rows(conn, g, built[g])
        else:
            index_graph(conn, source, g)
    shared = conn.execute("SELECT EXISTS (SELECT service FROM svc GROUP BY service HAVING COUNT(*) > 1)").fetchone()
    conn.execute("INSERT OR REPLACE INTO info VALUES ('svc_shared', ?)", (str(shared[0]),))


def shared(conn: sqlite3.Connection) -> bool:
    """Whether some service is declared in several graphs (so has several `svc` rows)."""
    row = conn.execute("SELECT value FROM info WHERE key = 'svc_shared'").fetchone()
    return row is None or row[0] != "0"
