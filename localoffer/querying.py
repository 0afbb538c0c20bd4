"""Running a read-only query and writing its results in a chosen format."""

from __future__ import annotations

import io
from typing import IO, Any

import pyoxigraph as ox

from localoffer.config import Settings
from localoffer.errors import QueryError
from localoffer.sparqlguard import check_read_query, service_targets
from localoffer.store import Store, is_graph_result

RESULT_FORMATS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
                  "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}
GRAPH_FORMATS = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES,
                 "json": ox.RdfFormat.JSON_LD, "jsonld": ox.RdfFormat.JSON_LD,
                 "xml": ox.RdfFormat.RDF_XML, "rdf": ox.RdfFormat.RDF_XML, "nq": ox.RdfFormat.N_QUADS,
                 "table": ox.RdfFormat.TURTLE, "csv": ox.RdfFormat.N_TRIPLES, "tsv": ox.RdfFormat.N_TRIPLES}


def execute(store: Store, text: str, settings: Settings | None = None) -> Any:
    """Check and run a query; syntax errors become QueryError with the engine's position.
    With *settings*, SERVICE to allow-listed endpoints is answered (see federation.service)."""
    if settings is not None and service_targets(text):
        from localoffer.federation.service import check_services, resolve_services, service_policy

        policy = service_policy(settings)
        check_read_query(text, check_services(text, policy))
        text = resolve_services(text, policy)
    check_read_query(text)
    try:
        return store.query(text)
    except SyntaxError as exc:
        raise QueryError(f"SPARQL syntax error: {exc}") from None
    except OSError as exc:
        raise QueryError(f"the query failed: {exc}") from None


def run_query(store: Store, text: str, fmt: str, out: IO[bytes], settings: Settings | None = None) -> None:
    """Run *text* and write the results to *out* as table, json, csv, tsv (SELECT/ASK) or as
    Turtle/N-Triples/JSON-LD (CONSTRUCT/DESCRIBE)."""
    result = execute(store, text, settings)
    if is_graph_result(result):
        result.serialize(out, GRAPH_FORMATS.get(fmt, ox.RdfFormat.TURTLE))
        return
    if isinstance(result, ox.QueryBoolean):
        if fmt == "table":
            out.write(b"true\n" if bool(result) else b"false\n")
        else:
            result.serialize(out, RESULT_FORMATS.get(fmt, ox.QueryResultsFormat.JSON))
        return
    if fmt == "table":
        out.write(render_table(result).encode("utf-8"))
    elif fmt in RESULT_FORMATS:
        result.serialize(out, RESULT_FORMATS[fmt])
    else:
        raise QueryError(f"format {fmt} is for CONSTRUCT/DESCRIBE results; use table, json, csv or tsv")


def render_table(result: ox.QuerySolutions) -> str:
    """An aligned text table of SELECT results (IRIs in <>, literals as their text)."""
    names = [v.value for v in result.variables]
    rows = [[_cell(row[n]) for n in names] for row in result]
    widths = [min(60, max([len(n)] + [len(r[i]) for r in rows])) for i, n in enumerate(names)]
    buf = io.StringIO()
    line = "  ".join(n.ljust(w) for n, w in zip(names, widths))
    buf.write(line.rstrip() + "\n")
    buf.write("  ".join("-" * w for w in widths) + "\n")
    for r in rows:
        cells = [(c if len(c) <= w else c[: w - 1] + "…").ljust(w) for c, w in zip(r, widths)]
        buf.write("  ".join(cells).rstrip() + "\n")
    buf.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n")
    return buf.getvalue()


def _cell(term: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return f"<{term.value}>"
    return str(term.value).replace("\n", " ")
