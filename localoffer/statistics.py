"""Counts of what the store holds, per authority and per graph."""

from __future__ import annotations

from typing import Any

from localoffer import namespaces as ns
from localoffer.config import Settings
from localoffer.store import Store

_PER_AUTHORITY = f"""
PREFIX schema: <{ns.SCHEMA}>
PREFIX lo: <{ns.LO}>
SELECT ?authority ?code ?name (COUNT(DISTINCT ?service) AS ?services)
       (COUNT(DISTINCT ?org) AS ?organizations) (COUNT(DISTINCT ?place) AS ?locations)
WHERE {{
  ?authority a lo:LocalAuthority ; <{ns.SKOS}notation> ?code .
  OPTIONAL {{ ?authority schema:name ?name }}
  OPTIONAL {{ ?service lo:localAuthority ?authority ; a schema:Service .
             OPTIONAL {{ ?service schema:provider ?org }}
             OPTIONAL {{ ?service schema:availableChannel/schema:serviceLocation ?place }} }}
}} GROUP BY ?authority ?code ?name ORDER BY ?code
"""

_PER_GRAPH = """
SELECT ?g (COUNT(*) AS ?triples) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g
"""


def collect(store: Store, settings: Settings) -> dict[str, Any]:
    """Services, organisations and locations per authority; triples per graph; store version."""
    authorities = [
        {"code": r["code"].value, "name": r["name"].value if "name" in r else None,
         "services": int(r["services"].value), "organizations": int(r["organizations"].value),
         "locations": int(r["locations"].value)}
        for r in store.select(_PER_AUTHORITY)
    ]
    graphs = [{"graph": r["g"].value, "triples": int(r["triples"].value)}
              for r in store.select(_PER_GRAPH)]
    return {"store": settings.store, "version": store.version(), "authorities": authorities,
            "graphs": graphs, "triples": sum(g["triples"] for g in graphs)}


def render_text(data: dict[str, Any]) -> str:
    """A plain table of the counts."""
    lines = [f"store {data['store']} (version {data['version']}), {data['triples']} triples"]
    if not data["authorities"]:
        lines.append("no authorities loaded yet: run `localoffer ingest SOURCE --authority CODE`")
    else:
        lines.append(f"{'authority':<11} {'services':>8} {'orgs':>6} {'locations':>9}  name")
        for a in data["authorities"]:
            lines.append(f"{a['code']:<11} {a['services']:>8} {a['organizations']:>6} "
                         f"{a['locations']:>9}  {a['name'] or ''}")
    lines.append("")
    lines.append(f"{'triples':>9}  graph")
    for g in data["graphs"]:
        lines.append(f"{g['triples']:>9}  {g['graph']}")
    return "\n".join(lines)
