"""Reading records out of the store: one page of ids (and the total), then the triples of
those records' trees in one query each (a property path from the roots over the links that
make up an ORUK object), indexed in memory for `assemble`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from localoffer import namespaces as ns
from localoffer.store import Store

from .cache import OrderCache
from .params import Paging

PREFIXES = ns.sparql_prefixes()

# The links followed from a record to the objects nested in its ORUK form.
SERVICE_LIST = ("schema:audience", "schema:offers", "schema:provider")
SERVICE_FULL = SERVICE_LIST + (
    "schema:priceSpecification", "schema:parentOrganization", "schema:identifier",
    "schema:hoursAvailable", "schema:areaServed", "schema:availableChannel", "schema:availableLanguage",
    "hsds:funding", "hsds:contact", "hsds:attribute", "hsds:taxonomyTerm", "schema:category",
    "skos:broader", "skos:inScheme", "schema:serviceLocation", "schema:address",
    "schema:amenityFeature", "schema:geo")
SAL_LIST = SERVICE_LIST + ("schema:serviceLocation", "schema:providesService", "schema:identifier",
                           "schema:geo")
SAL_FULL = tuple(p for p in SERVICE_FULL if p != "schema:availableChannel") + ("schema:providesService",)
TERM = ("skos:broader", "skos:inScheme")


def key(term: Any) -> str:
    """The index key of a node: its IRI, or `_:id` for a blank node."""
    return term.value if isinstance(term, ox.NamedNode) else f"_:{term.value}"


@dataclass
class Index:
    """Triples by subject and predicate: `index[s][p]` is the list of objects."""

    triples: dict[str, dict[str, list[Any]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    publish_names: bool = False
    """Whether names of people (contact names, address attention) held in the store may be
    served: the `publish_contact_names` setting, checked again at serving time (off unless
    the site publishes them)."""

    def add(self, s: Any, p: Any, o: Any) -> None:
        """Add one triple (duplicates from several graphs once)."""
        objs = self.triples[key(s)][p.value]
        if o not in objs:
            objs.append(o)

    def __contains__(self, node: str) -> bool:
        return node in self.triples

    def get(self, node: str) -> dict[str, list[Any]]:
        """The predicates and objects of *node* ({} if none)."""
        return self.triples.get(node) or {}


def tree(store: Store, roots: Iterable[str], links: tuple[str, ...], *, concepts: bool = True,
         index: Index | None = None) -> Index:
    """The triples of *roots* and of every node reached from them over *links*, plus (with
    *concepts*) the SKOS concepts these nodes are tagged with through lo: properties (SEND
    needs, provision categories, provider types, ...)."""
    index = index or Index()
    values = " ".join(f"<{r}>" for r in roots)
    if not values:
        return index
    def reach(var: str) -> str:  # a path from a bound root (no BIND: it would end the pattern)
        return f"VALUES ?root {{ {values} }} ?root ({'|'.join(links)})* {var} ." if links \
            else f"VALUES {var} {{ {values} }}"

    union = ""
    if concepts:
        union = (f"UNION {{ {reach('?y')} ?y ?lp ?x . "
                 f'FILTER(isIRI(?x) && STRSTARTS(STR(?lp), "{ns.LO}")) ?x a skos:Concept ; ?p ?o }}')
    query = f"{PREFIXES}SELECT DISTINCT ?x ?p ?o WHERE {{ {{ {reach('?x')} ?x ?p ?o }} {union} }}"
    for row in store.query(query):
        index.add(row["x"], row["p"], row["o"])
    return index


def ordered(store: Store, pattern: str, var: str) -> list[str]:
    """The records matching *pattern* (which binds *var*), sorted by IRI: by id for the UUID
    ids the profile asks for (`{base}/id/{kind}/{uuid}`), and stable for any other."""
    rows = store.query(f"{PREFIXES}SELECT {var} WHERE {{ {pattern} }}")
    return sorted({key(row[var[1:]]) for row in rows})


def page_of(store: Store, pattern: str, var: str, paging: Paging,
            cache: OrderCache | None = None) -> tuple[list[str], int]:
    """One page of the records matching *pattern*, and how many match in all."""
    if cache is None:
        records = ordered(store, pattern, var)
    else:
        records = cache.get((store.version(), f"{var} {pattern}"), lambda: ordered(store, pattern, var))
    return records[paging.offset:paging.offset + paging.per_page], len(records)


def rows_of(store: Store, query: str) -> Iterator[dict[str, Any]]:
    """SELECT rows (variables to pyoxigraph terms) of a query written with the usual prefixes."""
    return store.select(PREFIXES + query)
