"""Counts of what the store holds, computed when a version is published and kept in that
version's file beside the text index (`localoffer.textindex`), so that reading them costs a
few milliseconds at national scale and always matches the data of that version.

What is kept: services, organisations and locations per authority; services per authority,
broad area of need (the need scheme's lo:NeedArea concepts, counting narrower needs under
their area) and age band (a service counts in every band its ages overlap, as in the canned
query `services-per-need-area`); triples per named graph.

A write changes a few graphs; only the authorities those graphs mention (before or after)
are counted again, each with the same SPARQL as a full count, so the kept numbers equal a
full recount. A graph that builds the need hierarchy or defines age bands (the ontology's, or
a council's taxonomy placed under an area of need) makes everything counted again."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from localoffer import namespaces as ns
from localoffer.config import Settings
from localoffer.store import Store

P = f"PREFIX schema: <{ns.SCHEMA}>\nPREFIX lo: <{ns.LO}>\nPREFIX skos: <{ns.SKOS}>\n"

TABLES = """
CREATE TABLE IF NOT EXISTS graph_stat(graph TEXT PRIMARY KEY, triples INTEGER NOT NULL,
    vocabulary INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS graph_authority(graph TEXT NOT NULL, authority TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS graph_authority_graph ON graph_authority(graph);
CREATE TABLE IF NOT EXISTS authority_stat(authority TEXT PRIMARY KEY, code TEXT NOT NULL, name TEXT,
    services INTEGER NOT NULL, organizations INTEGER NOT NULL, locations INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS need_band(authority TEXT NOT NULL, area TEXT NOT NULL, band TEXT NOT NULL,
    services INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS need_band_authority ON need_band(authority);
CREATE TABLE IF NOT EXISTS concept(iri TEXT PRIMARY KEY, kind TEXT NOT NULL, label TEXT, notation TEXT,
    position REAL);
"""


def tables(schema: str) -> str:
    """TABLES created in the attached database *schema* (the kept counts live in their own
    file beside a version's search tables, see `localoffer.textindex`)."""
    return (TABLES.replace("CREATE TABLE IF NOT EXISTS ", f"CREATE TABLE IF NOT EXISTS {schema}.")
            .replace("CREATE INDEX IF NOT EXISTS ", f"CREATE INDEX IF NOT EXISTS {schema}."))


def table_names() -> list[str]:
    """The names of the tables in TABLES."""
    return re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", TABLES)


PER_AUTHORITY = P + """SELECT ?authority ?code (SAMPLE(?nm) AS ?name) (COUNT(DISTINCT ?service) AS ?services)
       (COUNT(DISTINCT ?org) AS ?organizations) (COUNT(DISTINCT ?place) AS ?locations)
WHERE { {values}
  ?authority a lo:LocalAuthority ; skos:notation ?code .
  OPTIONAL { ?authority schema:name ?nm }
  OPTIONAL { ?service lo:localAuthority ?authority ; a schema:Service .
             OPTIONAL { ?service schema:provider ?org }
             OPTIONAL { ?service schema:availableChannel/schema:serviceLocation ?place } }
} GROUP BY ?authority ?code"""

_NEED = "?service lo:needCategory ?need . ?need skos:broader* ?area . ?area a lo:NeedArea ."
# The canned query's age pattern with the OPTIONALs first (the same answers: they share no
# variable with the bands), so that Oxigraph does not redo them for every band.
_BAND = ("OPTIONAL { ?service schema:audience/schema:suggestedMinAge ?min } "
         "OPTIONAL { ?service schema:audience/schema:suggestedMaxAge ?max } "
         "?band a lo:AgeBand ; lo:minimumAge ?bandMin ; lo:maximumAge ?bandMax . "
         "FILTER (COALESCE(?min, 0) <= ?bandMax && COALESCE(?max, 25) >= ?bandMin)")
NEED_BAND = {
    # (area, band) -> the query; "" stands for "any" in the kept rows
    "area band": P + "SELECT ?authority ?area ?band (COUNT(DISTINCT ?service) AS ?n) WHERE { {values} "
                 "?service a schema:Service ; lo:localAuthority ?authority . " + _NEED + " " + _BAND
                 + " } GROUP BY ?authority ?area ?band",
    "area": P + "SELECT ?authority ?area (COUNT(DISTINCT ?service) AS ?n) WHERE { {values} "
            "?service a schema:Service ; lo:localAuthority ?authority . " + _NEED + " } GROUP BY ?authority ?area",
    "band": P + "SELECT ?authority ?band (COUNT(DISTINCT ?service) AS ?n) WHERE { {values} "
            "?service a schema:Service ; lo:localAuthority ?authority . " + _BAND + " } GROUP BY ?authority ?band",
}
CONCEPTS = P + """SELECT ?c ?kind (SAMPLE(?l) AS ?label) (SAMPLE(?nt) AS ?notation) (SAMPLE(?m) AS ?pos) WHERE {
  { ?c a lo:NeedArea BIND("area" AS ?kind) } UNION { ?c a lo:AgeBand ; lo:minimumAge ?m BIND("band" AS ?kind) }
  OPTIONAL { ?c skos:prefLabel ?l } OPTIONAL { ?c skos:notation ?nt } } GROUP BY ?c ?kind"""
GRAPH_AUTHORITIES = tuple(P + q for q in (
    "SELECT DISTINCT ?a WHERE {{ ?a a lo:LocalAuthority . GRAPH <{g}> {{ ?a ?ap ?ao }} }}",
    "SELECT DISTINCT ?a WHERE {{ GRAPH <{g}> {{ ?x a schema:Service }} ?x lo:localAuthority ?a }}",
    "SELECT DISTINCT ?a WHERE {{ {{ SELECT DISTINCT ?x WHERE {{ GRAPH <{g}> {{ VALUES ?p {{ lo:localAuthority "
    "schema:provider schema:availableChannel lo:needCategory schema:audience }} ?x ?p ?o }} }} }} "
    "?x lo:localAuthority ?a }}"))
"""The authorities whose counts a graph's triples can change (one query each: Oxigraph plans
their UNION far worse): those it says something about,
and those of the services whose type, authority, provider, channels, needs or audiences it
states, or whose audiences' ages or channels' places it states (no other triple enters a
count; links to shared taxonomy terms only through the need hierarchy: GRAPH_VOCABULARY)."""
PARTS = P + """SELECT DISTINCT ?y WHERE {{ GRAPH <{g}> {{
  VALUES ?q {{ schema:suggestedMinAge schema:suggestedMaxAge schema:serviceLocation }} ?y ?q ?o FILTER(isIRI(?y)) }} }}"""
"""The audiences and channels whose ages or places a graph states (blank nodes belong to their
graph, so only IRIs can be another graph's)."""
OWNED_PARTS = P + """SELECT DISTINCT ?y WHERE {{ GRAPH <{g}> {{ ?x a schema:Service .
  {{ ?x schema:audience ?y }} UNION {{ ?x schema:availableChannel ?y }} }} }}"""
"""The audiences and channels a graph attaches to its own services (their authorities are found
by GRAPH_AUTHORITIES already). Two queries and a set difference: as one query, Oxigraph plans the
OPTIONAL as a scan per node."""
PART_AUTHORITIES = P + """SELECT DISTINCT ?a WHERE {{ VALUES ?y {{ {nodes} }}
  {{ ?x schema:audience ?y }} UNION {{ ?x schema:availableChannel ?y }} ?x lo:localAuthority ?a }}"""

GRAPH_VOCABULARY = P + """ASK {{ {{ GRAPH <{g}> {{ ?x skos:broader ?y }} ?y skos:broader* ?area . ?area a lo:NeedArea }}
  UNION {{ GRAPH <{g}> {{ {{ ?x lo:minimumAge ?y }} UNION {{ ?x lo:maximumAge ?y }} UNION {{ ?x a lo:NeedArea }}
                        UNION {{ ?x a lo:AgeBand }} }} }} }}"""
"""Whether a graph builds the need hierarchy (a skos:broader link leading to an area of need)
or defines age bands: changing it can change every authority's counts, so all are counted
again (and every graph's flag is asked again, as the hierarchy may now run through it)."""
GRAPH_TRIPLES = "SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}"


def graphs(conn: sqlite3.Connection) -> set[str]:
    """The graphs the kept counts know of."""
    return {g for (g,) in conn.execute("SELECT graph FROM graph_stat")}


def _part_authorities(source: Any, graph: str, chunk: int = 500,
                      foreign: list[str] | None = None) -> set[str]:
    """The authorities of the services whose audiences or channels *graph* describes but
    does not itself attach to a service (*foreign*, when the writer knows them)."""
    from localoffer.textindex import rows

    if foreign is None:
        foreign = sorted({r["y"] for r in rows(source, PARTS.format(g=graph))}
                         - {r["y"] for r in rows(source, OWNED_PARTS.format(g=graph))})
    found: set[str] = set()
    for i in range(0, len(foreign), chunk):
        nodes = " ".join(f"<{y}>" for y in foreign[i:i + chunk])
        found |= {r["a"] for r in rows(source, PART_AUTHORITIES.format(nodes=nodes))}
    return found


def refresh(conn: sqlite3.Connection, source: Any, present: Iterable[str], changed: set[str] | None,
            neutral: Mapping[str, Any] | None = None, built: Mapping[str, Any] | None = None) -> None:
    """Bring the kept counts up to date after the graphs *changed* (None: all) were written;
    *present* are the named graphs the store holds now. The tables must exist (TABLES).
    *neutral*: graphs whose write changed only their triple count, by `.triples`
    (`localoffer.prepared.Neutral`); *built*: rows the writer prepared for some graphs, whose
    `parts` stand for PARTS minus OWNED_PARTS."""
    from localoffer.textindex import rows

    present = set(present)
    if changed is not None and neutral:
        changed = set(changed)
        for g, mark in neutral.items():
            if g not in changed or g not in present:
                continue
            if conn.execute("UPDATE graph_stat SET triples = triples + ? WHERE graph = ?",
                            (mark.triples, g)).rowcount:
                changed.discard(g)
            elif mark.fresh:  # new, and nothing in it is counted
                conn.execute("DELETE FROM graph_authority WHERE graph = ?", (g,))
                conn.execute("INSERT INTO graph_stat VALUES (?, ?, 0)", (g, mark.triples))
                changed.discard(g)
    full = changed is None
    redo = present if changed is None else changed
    affected = {a for g in redo for (a,) in conn.execute(
        "SELECT authority FROM graph_authority WHERE graph = ?", (g,))}
    full = full or any(v for g in redo for (v,) in conn.execute(
        "SELECT vocabulary FROM graph_stat WHERE graph = ?", (g,)))
    if changed is None:
        conn.execute("DELETE FROM graph_stat")
        conn.execute("DELETE FROM graph_authority")
    for g in sorted(redo):
        conn.execute("DELETE FROM graph_stat WHERE graph = ?", (g,))
        conn.execute("DELETE FROM graph_authority WHERE graph = ?", (g,))
        if g not in present:
            continue
        n = next(rows(source, GRAPH_TRIPLES.format(g=g)))["n"]
        vocabulary = bool(source.query(GRAPH_VOCABULARY.format(g=g)))
        conn.execute("INSERT INTO graph_stat VALUES (?, ?, ?)", (g, int(n), int(vocabulary)))
        full = full or vocabulary
        mentioned = set() if vocabulary else {  # with vocabulary, everything is recounted
            r["a"] for query in GRAPH_AUTHORITIES for r in rows(source, query.format(g=g))}
        if not vocabulary:
            known = built[g]["parts"] if built and g in built else None
            mentioned |= _part_authorities(source, g, foreign=known)
        conn.executemany("INSERT INTO graph_authority VALUES (?, ?)", [(g, a) for a in sorted(mentioned)])
        affected |= mentioned
    if full:
        if changed is not None:
            conn.executemany("UPDATE graph_stat SET vocabulary = ? WHERE graph = ?", [
                (int(bool(source.query(GRAPH_VOCABULARY.format(g=g)))), g) for g in sorted(present)])
        conn.execute("DELETE FROM authority_stat")
        conn.execute("DELETE FROM need_band")
        conn.execute("DELETE FROM concept")
        conn.executemany("INSERT INTO concept VALUES (?, ?, ?, ?, ?)",
                         [(r["c"], r["kind"], r.get("label"), r.get("notation"),
                           float(r["pos"]) if "pos" in r else None) for r in rows(source, CONCEPTS)])
        values = ""
    elif not affected:
        return
    else:
        conn.executemany("DELETE FROM authority_stat WHERE authority = ?", [(a,) for a in affected])
        conn.executemany("DELETE FROM need_band WHERE authority = ?", [(a,) for a in affected])
        own = _prepared_counts(source, affected, built or {})
        for _, per_authority, need in own.values():
            _insert_counts(conn, per_authority, need)
        if not affected - own.keys():
            return
        values = "VALUES ?authority { " + " ".join(f"<{a}>" for a in sorted(affected - own.keys())) + " }"
    _insert_counts(conn, rows(source, PER_AUTHORITY.replace("{values}", values)),
                   {key: rows(source, query.replace("{values}", values)) for key, query in NEED_BAND.items()})


def _prepared_counts(source: Any, affected: set[str], built: Mapping[str, Any]) -> dict[str, Any]:
    """The counts of affected authorities that a graph the writer prepared gives by itself
    (`localoffer.prepared.PreparedGraph.authority_counts`), by authority."""
    own: dict[str, Any] = {}
    for g in sorted(built):
        got = built[g]["graph"].authority_counts(source)
        if got is not None and got[0] in affected:
            own[got[0]] = got
    return own


def _insert_counts(conn: sqlite3.Connection, per_authority: Iterable[dict[str, str]],
                   need: Mapping[str, Iterable[dict[str, str]]]) -> None:
    """Keep rows shaped as PER_AUTHORITY and NEED_BAND (by key) answer them."""
    conn.executemany("INSERT OR REPLACE INTO authority_stat VALUES (?, ?, ?, ?, ?, ?)", [
        (r["authority"], r["code"], r.get("name"), int(r["services"]), int(r["organizations"]),
         int(r["locations"])) for r in per_authority])
    for key, found in need.items():
        conn.executemany("INSERT INTO need_band VALUES (?, ?, ?, ?)", [
            (r["authority"], r.get("area", "") if "area" in key else "",
             r.get("band", "") if "band" in key else "", int(r["n"])) for r in found])


def read(conn: sqlite3.Connection) -> dict[str, Any]:
    """The kept counts, as `collect` returns them (without the store and version)."""
    authorities = [{"code": code, "name": name, "services": s, "organizations": o, "locations": loc}
                   for code, name, s, o, loc in conn.execute(
                       "SELECT code, name, services, organizations, locations FROM authority_stat "
                       "ORDER BY code, authority")]
    codes = dict(conn.execute("SELECT authority, code FROM authority_stat"))
    concepts = {iri: (kind, label, notation) for iri, kind, label, notation in conn.execute(
        "SELECT iri, kind, label, notation FROM concept ORDER BY kind, position, notation, iri")}
    areas = [{"iri": i, "label": c[1], "notation": c[2]} for i, c in concepts.items() if c[0] == "area"]
    bands = [{"iri": i, "label": c[1], "notation": c[2]} for i, c in concepts.items() if c[0] == "band"]
    needs = [{"authority": codes.get(a, a), "area": area or None, "band": band or None, "services": n}
             for a, area, band, n in conn.execute(
                 "SELECT authority, area, band, services FROM need_band ORDER BY authority, area, band")]
    graph_rows = [{"graph": g, "triples": n} for g, n in conn.execute(
        "SELECT graph, triples FROM graph_stat ORDER BY graph")]
    return {"authorities": authorities, "need_areas": areas, "age_bands": bands, "needs": needs,
            "graphs": graph_rows, "triples": sum(g["triples"] for g in graph_rows)}


def collect(store: Store, settings: Settings) -> dict[str, Any]:
    """Services, organisations and locations per authority; services per authority, need area
    and age band; triples per graph; the store version they belong to (all kept counts)."""
    from localoffer.textindex import open_index

    with open_index(store) as index:
        return {"store": settings.store, "version": index.version, **read(index.conn)}


def need_table(data: dict[str, Any], band: str | None = None) -> list[tuple[str, list[int]]]:
    """(authority code, services per need area in data["need_areas"] order) for one age band
    (None: any age)."""
    cells = {(n["authority"], n["area"]): n["services"] for n in data["needs"]
             if n["band"] == band and n["area"]}
    return [(a["code"], [cells.get((a["code"], area["iri"]), 0) for area in data["need_areas"]])
            for a in data["authorities"]]


def render_text(data: dict[str, Any]) -> str:
    """Plain tables of the counts."""
    lines = [f"store {data['store']} (version {data['version']}), {data['triples']} triples"]
    if not data["authorities"]:
        lines.append("no authorities loaded yet: run `localoffer ingest SOURCE --authority CODE`")
    else:
        lines.append(f"{'authority':<11} {'services':>8} {'orgs':>6} {'locations':>9}  name")
        for a in data["authorities"]:
            lines.append(f"{a['code']:<11} {a['services']:>8} {a['organizations']:>6} "
                         f"{a['locations']:>9}  {a['name'] or ''}")
        if data["need_areas"]:
            heads = [area["notation"] or area["label"] or area["iri"] for area in data["need_areas"]]
            lines += ["", "services per broad area of need (any age)",
                      f"{'authority':<11} " + " ".join(f"{h:>8}" for h in heads)]
            lines += [f"{code:<11} " + " ".join(f"{n:>8}" for n in counts)
                      for code, counts in need_table(data)]
    lines.append("")
    lines.append(f"{'triples':>9}  graph")
    for g in data["graphs"]:
        lines.append(f"{g['triples']:>9}  {g['graph']}")
    return "\n".join(lines)
