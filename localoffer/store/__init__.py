"""The store interface. Callers use `open_store(settings)` and the `Store` methods only, so
that a remote SPARQL store can stand in for the embedded one without touching them.

Query results are pyoxigraph result objects (QuerySolutions, QueryBoolean, QueryTriples) on
every backend: a remote backend parses the server's answer with pyoxigraph's parsers."""

from __future__ import annotations

import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, Any

from localoffer.config import Settings
from localoffer.errors import StoreError

DEFAULT_GRAPH = ""
"""Graph name meaning the store's own default graph (the triples outside every named graph),
accepted by the write-session methods, `dump` and `query(default_graph=...)`."""


class StoreBusyError(StoreError):
    """Another writer holds the store; trying again later may succeed."""


class GraphResult:
    """CONSTRUCT/DESCRIBE results read from a remote store: iterate its pyoxigraph Triples,
    or serialize them like pyoxigraph's QueryTriples."""

    def __init__(self, triples: list[Any]) -> None:
        self.triples = triples

    def __iter__(self) -> Iterator[Any]:
        return iter(self.triples)

    def serialize(self, output: IO[bytes] | None = None, format: Any = None) -> bytes | None:  # noqa: A002
        import pyoxigraph as ox

        return ox.serialize(self.triples, output, format or ox.RdfFormat.N_TRIPLES)


def is_graph_result(result: Any) -> bool:
    """True for CONSTRUCT/DESCRIBE results, from either backend."""
    import pyoxigraph as ox

    return isinstance(result, (ox.QueryTriples, GraphResult))


class WriteSession(ABC):
    """Changes collected by `Store.write()`; they become visible together, or not at all."""

    @abstractmethod
    def replace_graph(self, graph: str, ntriples: Path) -> None:
        """Make the named graph hold exactly the triples of an N-Triples file."""

    @contextmanager
    def stream_graph(self, graph: str) -> Iterator[IO[str]]:
        """Replace the named graph with N-Triples written to the yielded text stream.

        By default the lines are collected in a temporary file and loaded when the block
        ends; a store that can load while the caller is still writing overrides this."""
        with tempfile.TemporaryDirectory(prefix="localoffer-graph-") as tmp:
            path = Path(tmp) / "graph.nt"
            with open(path, "w", encoding="utf-8") as out:
                yield out
            self.replace_graph(graph, path)

    def prepare(self, graph: str, prepared: Any) -> None:
        """Hand over derived rows the writer built for *graph* as it now stands
        (`localoffer.prepared`); a store that cannot use them ignores them. A later write
        to the graph in the session drops them."""

    @abstractmethod
    def load(self, graph: str, data: Path | bytes, fmt: str = "nt") -> None:
        """Add the triples of a file or bytes (nt, ttl, nq, trig, jsonld, rdf) to *graph*."""

    def load_graphs(self, bodies: Mapping[str, bytes]) -> None:
        """Add N-Triples to several named graphs (graph -> body): load() each, unless the store
        can take them together."""
        for graph, body in bodies.items():
            self.load(graph, body, "nt")

    @abstractmethod
    def drop_graph(self, graph: str) -> None:
        """Remove a named graph if it exists."""

    @abstractmethod
    def update(self, sparql: str) -> None:
        """Run a SPARQL 1.1 Update inside the session."""

    @abstractmethod
    def query(self, sparql: str) -> Any:
        """Query the session's view (its own changes included)."""


class Store(ABC):
    """A quad store: read by SPARQL, written through `write()` sessions."""

    @abstractmethod
    def query(self, sparql: str, *, default_graph: Sequence[str] | None = None,
              named_graphs: Sequence[str] | None = None) -> Any:
        """Run a SPARQL query; the default graph is the union of all named graphs unless
        *default_graph* lists the graphs to use."""

    @abstractmethod
    def named_graphs(self) -> list[str]:
        """The IRIs of the named graphs that hold data."""

    @abstractmethod
    def version(self) -> str:
        """A marker that changes whenever the published data changes."""

    @abstractmethod
    def write(self) -> AbstractContextManager[WriteSession]:
        """A write session; its changes are published atomically when the block ends
        without an exception and discarded otherwise."""

    @abstractmethod
    def dump(self, out: IO[bytes], fmt: str = "nq", graph: str | None = None) -> None:
        """Serialise the whole store (N-Quads/TriG) or one graph or the union (Turtle/N-Triples)."""

    def modified(self) -> float | None:
        """When the published data last changed (POSIX time), if the backend knows."""
        return None

    def count(self, graph: str | None = None) -> int:
        """Number of triples in *graph*, or quads in the whole store."""
        where = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "GRAPH ?g { ?s ?p ?o }"
        rows = list(self.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}"))
        return int(rows[0]["n"].value) if rows else 0

    def select(self, sparql: str) -> Iterator[dict[str, Any]]:
        """SELECT rows as dicts of variable name to pyoxigraph term (unbound ones left out)."""
        result = self.query(sparql)
        names = [v.value for v in result.variables]
        for row in result:
            yield {n: row[n] for n in names if row[n] is not None}

    def close(self) -> None:
        """Release the store."""


def open_store(settings: Settings) -> Store:
    """Open the store the settings name: a folder (embedded Oxigraph) or a
    `sparql+http(s)://` URL of a remote SPARQL store's query endpoint."""
    location = settings.store
    if location.startswith(("sparql+http://", "sparql+https://")):
        from localoffer.store.remote import RemoteStore

        return RemoteStore(settings)
    from localoffer.store.embedded import EmbeddedStore

    return EmbeddedStore(Path(location))
