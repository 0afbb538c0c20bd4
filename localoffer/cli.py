"""The `localoffer` command. Each command parses its options, calls a library function and
prints; results go to stdout, diagnostics to stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from localoffer import __version__
from localoffer.config import Settings, load_settings
from localoffer.errors import LocalOfferError
from localoffer.store import Store, open_store


class Context:
    """What every command needs: settings (lazily validated) and the store."""

    def __init__(self, overrides: dict[str, Any]) -> None:
        self.overrides = overrides
        self._settings: Settings | None = None
        self._store: Store | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.overrides)
        return self._settings

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.settings)
        return self._store


def _run(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except LocalOfferError as exc:
        raise click.ClickException(str(exc)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="localoffer")
@click.option("--store", envvar="LOCALOFFER_STORE", help="Store folder (default ./data/store).")
@click.option("--base-uri", envvar="LOCALOFFER_BASE_URI",
              help="IRI base for minted IRIs, e.g. https://localoffer.example.gov.uk/")
@click.pass_context
def main(ctx: click.Context, store: str | None, base_uri: str | None) -> None:
    """localoffer: publish the SEND Local Offer as Linked Open Data."""
    ctx.obj = Context({"store": store, "base_uri": base_uri})


@main.command()
@click.argument("source")
@click.option("--authority", required=True, help="ONS GSS code of the council, e.g. E06000023.")
@click.option("--format", "fmt", type=click.Choice(["json", "api", "tabular", "spreadsheet", "rdf", "profile"]),
              help="Reader to use (guessed from the name when omitted).")
@click.option("--source-id", help="Name of the source's graph (default: authority and format).")
@click.option("--mapping", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="Column-mapping file for spreadsheets (default: the Outpost template's).")
@click.option("--strict", is_flag=True, help="Fail the whole source on any bad record.")
@click.option("--no-details", is_flag=True, help="APIs: do not fetch /services/{id} for each service.")
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def ingest(obj: Context, source: str, authority: str, fmt: str | None, source_id: str | None,
           mapping: Path | None, strict: bool, no_details: bool, output: str) -> None:
    """Load SOURCE (a file, folder or ORUK/HSDS API URL) into the store, replacing the
    source's named graph atomically."""
    from localoffer.ingest.pipeline import ingest as run_ingest
    from localoffer.progress import Bar

    with Bar("Ingesting", unit="records") as bar:
        report = _run(lambda: run_ingest(obj.store, obj.settings, source, authority=authority,
                                         fmt=fmt, source_id=source_id, strict=strict,
                                         mapping=mapping, details=not no_details, progress=bar.update))
    if output == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        from localoffer.ingest.summary import summarise

        click.echo(summarise(report))
    for err in report.rejected[:50]:
        click.echo(f"rejected: {err}", err=True)
    if len(report.rejected) > 50:
        click.echo(f"... and {len(report.rejected) - 50} more rejected records "
                   "(see --output json)", err=True)
    if not report.unchanged:  # an ingest that wrote nothing publishes nothing
        _compact_if_due(obj.store)


def _compact_if_due(store: Store) -> None:
    """Compact the embedded store when enough was written since it last was (see
    localoffer.store.embedded). The data is already published: a failure here is a warning."""
    from localoffer.store.embedded import EmbeddedStore

    if not isinstance(store, EmbeddedStore):
        return
    try:
        done = store.compact(if_due=True)
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, the ingest itself succeeded
        click.echo(f"warning: the data is published, but the store was not compacted: {exc}", err=True)
        return
    if done is not None:
        click.echo(done.describe(), err=True)


@main.command()
@click.option("--if-due", is_flag=True,
              help="Only when ingest would: never compacted, doubled in size, or 30 writes since.")
@click.pass_obj
def compact(obj: Context, if_due: bool) -> None:
    """Publish a compacted copy of the embedded store's data (the same data as a new version),
    so that reads look each key up in fewer files. `ingest` and `harvest` do it when due; run it
    after a bulk load through the library or a validation of every council."""
    from localoffer.store.embedded import COMPACT_GROWTH, COMPACT_WRITES, EmbeddedStore

    store = obj.store
    if not isinstance(store, EmbeddedStore):
        raise click.ClickException("only the embedded store is compacted here; a SPARQL server "
                                   "(LOCALOFFER_STORE is a sparql+http(s):// URL) compacts its own files")
    before = store.layout()
    done = _run(lambda: store.compact(if_due=if_due))
    if done is not None:
        click.echo(done.describe())
    elif before.version is None:
        click.echo("the store is empty: nothing to compact")
    else:
        click.echo(f"not due: store version {before.version} ({before.bytes / (1 << 20):,.0f} MB), "
                   f"{before.since()}; ingest compacts at {COMPACT_GROWTH:g}x or after {COMPACT_WRITES} writes")


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def stats(obj: Context, fmt: str) -> None:
    """Counts per authority and graph: services, organisations, locations, triples."""
    from localoffer.statistics import collect, render_text

    data = _run(lambda: collect(obj.store, obj.settings))
    click.echo(json.dumps(data, indent=2) if fmt == "json" else render_text(data))


@main.command()
@click.argument("sparql", required=False)
@click.option("--file", "file_", type=click.File("r"), help="Read the query from a file ('-' for stdin).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "tsv", "ttl", "nt"]),
              default="table", show_default=True)
@click.option("--name", help="Run the canned query queries/NAME.rq.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Canned-query parameter (repeatable).")
@click.option("--list", "list_", is_flag=True, help="List the canned queries and their parameters.")
@click.option("--endpoint", metavar="URL",
              help="Send the query to this SPARQL endpoint instead of the store (allow-listed hosts only).")
@click.pass_obj
def query(obj: Context, sparql: str | None, file_: Any, fmt: str, name: str | None,
          params: tuple[str, ...], list_: bool, endpoint: str | None) -> None:
    """Run a SPARQL query, or a canned one (--name), against the store (read-only) or any
    allow-listed endpoint (--endpoint); SERVICE may name allow-listed endpoints."""
    from localoffer.querying import run_query

    if endpoint and not list_:
        from localoffer.canned import bind, get_query, parse_assignments
        from localoffer.federation.remote import run_remote_query

        if name and (sparql or file_):
            raise click.UsageError("give a query or --name, not both")
        text = (_run(lambda: bind(get_query(name), parse_assignments(params), obj.settings.base))
                if name else sparql if sparql is not None else (file_.read() if file_ else None))
        if not text:
            raise click.UsageError("give a query as an argument, with --file, or --name")
        _run(lambda: run_remote_query(endpoint, text, fmt, sys.stdout.buffer, obj.settings))
        return

    if list_ or name:
        from localoffer.canned import load_queries, parse_assignments, run_canned

        if list_:
            for q in load_queries().values():
                click.echo(f"{q.name}: {q.title}" + "".join(
                    f"\n  --param {p.name}=... ({p.type}, default {p.default})" for p in q.params))
            return
        if sparql or file_:
            raise click.UsageError("give a query or --name, not both")
        _run(lambda: run_canned(obj.store, name, parse_assignments(params), obj.settings.base, fmt,
                                sys.stdout.buffer))
        return
    text = sparql if sparql is not None else (file_.read() if file_ else None)
    if not text:
        raise click.UsageError("give a query as an argument or with --file")
    out = sys.stdout.buffer
    _run(lambda: run_query(obj.store, text, fmt, out, settings=obj.settings))


@main.command()
@click.option("--format", "fmt", type=click.Choice(["nq", "trig", "ttl", "nt"]), default="nq", show_default=True)
@click.option("--graph", help="Dump one named graph only.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="File (default stdout).")
@click.pass_obj
def dump(obj: Context, fmt: str, graph: str | None, output: Path | None) -> None:
    """Write the store (all graphs as N-Quads/TriG, or the union/one graph as Turtle/N-Triples)."""
    if output:
        with open(output, "wb") as fh:
            _run(lambda: obj.store.dump(fh, fmt, graph))
    else:
        _run(lambda: obj.store.dump(sys.stdout.buffer, fmt, graph))


@main.command()
@click.option("--host", help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=int, help="Port (default 8080).")
@click.option("--workers", type=int, help="gunicorn worker processes.")
@click.option("--threads", type=int, help="Threads per worker.")
@click.option("--query-timeout", type=float,
              help="Seconds after which a query is stopped (default 30; LOCALOFFER_QUERY_TIMEOUT).")
@click.option("--debug", is_flag=True, help="Flask's development server with the debugger.")
@click.pass_obj
def serve(obj: Context, host: str | None, port: int | None, workers: int | None,
          threads: int | None, query_timeout: float | None, debug: bool) -> None:
    """Serve the store over HTTP: landing page, /sparql, and (with LOCALOFFER_UPDATE_TOKEN)
    /update and the Graph Store Protocol at /store."""
    from localoffer.server import run_server

    settings = _run(lambda: obj.settings.with_overrides(
        {"host": host, "port": port, "workers": workers, "threads": threads,
         "query_timeout": query_timeout}))
    _run(lambda: run_server(settings, debug=debug))


@main.command()
@click.option("--authority", "authorities", multiple=True, metavar="CODE",
              help="Only (re)compute the links that involve this authority (repeatable); "
                   "published links between other authorities are kept.")
@click.option("--review", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the uncertain pairs, and every decision so far, to this CSV.")
@click.option("--decisions", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A review CSV whose decision column says confirmed or rejected.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def link(obj: Context, authorities: tuple[str, ...], review: Path | None, decisions: Path | None,
         fmt: str) -> None:
    """Find the same organisations, locations and services in different authorities' offers
    (shared identifiers first, then name and postcode) and publish them as the links graph."""
    from localoffer.ingest.link import discover_links, publish_links, render_text, write_review

    report = _run(lambda: discover_links(obj.store, obj.settings, authorities=authorities,
                                         decisions=decisions))
    _run(lambda: publish_links(obj.store, obj.settings, report))
    if review:
        rows = write_review(report, review)
        click.echo(f"review: {rows} rows written to {review}; fill in the decision column "
                   "(confirmed/rejected) and pass it back with --decisions", err=True)
    click.echo(json.dumps(report.as_dict(), indent=2) if fmt == "json" else render_text(report))
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)


@main.command()
@click.argument("neighbours", nargs=-1, metavar="[NEIGHBOUR]...")
@click.option("--endpoint", metavar="URL", help="Ad hoc: harvest this SPARQL endpoint (with --authority).")
@click.option("--dump", "dump_url", metavar="URL", help="Ad hoc: harvest this dump (with --authority).")
@click.option("--oruk", metavar="URL", help="Ad hoc: harvest this ORUK/HSDS API (with --authority).")
@click.option("--authority", metavar="CODE", help="GSS code of the ad hoc neighbour.")
@click.option("--name", help="Name of the ad hoc neighbour.")
@click.option("--via", type=click.Choice(["sparql", "dump", "oruk"]),
              help="Which of the neighbour's URLs to use (default: sparql, else dump, else oruk).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def harvest(obj: Context, neighbours: tuple[str, ...], endpoint: str | None, dump_url: str | None,
            oruk: str | None, authority: str | None, name: str | None, via: str | None, fmt: str) -> None:
    """Copy neighbours' Local Offers (by GSS code or name from LOCALOFFER_NEIGHBOURS; all when
    none is named) into their own graphs {base}/graph/harvest/{GSS}. A neighbour that fails
    keeps its previous harvest; the exit status is 1 when any failed."""
    from localoffer.federation.harvest import harvest as run_harvest
    from localoffer.federation.harvest import plan, render_text
    from localoffer.federation.remote import policy_for
    from localoffer.progress import Bar

    chosen = _run(lambda: plan(obj.settings, neighbours, endpoint=endpoint, dump=dump_url, oruk=oruk,
                               authority=authority, name=name))
    policy = _run(lambda: policy_for(obj.settings))
    with Bar("Harvesting", unit="triples") as bar:
        reports = _run(lambda: run_harvest(obj.store, obj.settings, chosen, policy=policy, method=via,
                                           progress=bar.update))
    if fmt == "json":
        click.echo(json.dumps([r.as_dict() for r in reports], indent=2))
    else:
        click.echo(render_text([r for r in reports if r.ok]), nl=False)
    for r in reports:
        if not r.ok:
            click.echo(f"harvest failed: {r.gss} {r.name}: {r.message}", err=True)
    if any(r.status == "harvested" for r in reports):
        _compact_if_due(obj.store)
    if not all(r.ok for r in reports):
        sys.exit(1)


@main.command()
@click.option("--authority", help="ONS GSS code of the council, e.g. E06000023 (default: all data in the store).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html", "ttl"]), default="text",
              show_default=True)
@click.option("--severity", "severities", multiple=True,
              type=click.Choice(["Violation", "Warning", "Info"], case_sensitive=False),
              help="Show only these severities (repeatable); the counts and exit status cover all.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to a file (default stdout).")
@click.option("--no-store", is_flag=True, help="Do not keep the report in the validation graph.")
@click.pass_obj
def validate(obj: Context, authority: str | None, fmt: str, severities: tuple[str, ...],
             output: Path | None, no_store: bool) -> None:
    """Check the Local Offer against the law and the SEND Code of Practice (the SHACL shapes
    in shapes/). Exit status: 0 no Violation, 1 Violations found, 2 validation could not run.
    Each council's report is kept as RDF in the graph {base}/graph/validation/{authority}
    (data that belongs to no council: all in {base}/graph/validation/all)."""
    from localoffer.reports import render
    from localoffer.validation import (EXIT_ERROR, drop_combined_report, publish_report, publish_reports,
                                       validate_store)

    kept: list[str] = []

    def keep(ready: list[Any]) -> None:  # each council's report as soon as it is ready
        kept.extend(publish_reports(obj.store, obj.settings, ready))

    try:
        result = validate_store(obj.store, obj.settings, authority=authority,
                                publish=None if no_store or authority else keep)
        text = render(result, fmt, severities=severities or None)
        if no_store:
            graph = None
        elif result.stats.get("published"):
            drop_combined_report(obj.store, obj.settings)
            graph = (f"{len(kept)} graph{'s' if len(kept) != 1 else ''} "
                     + ", ".join(f"<{g}>" for g in kept[:3]) + (", ..." if len(kept) > 3 else ""))
        else:
            graph = f"<{publish_report(obj.store, obj.settings, result)}>"
        if output:
            output.write_text(text, encoding="utf-8")
        else:
            click.echo(text, nl=False)
    except LocalOfferError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    except OSError as exc:
        click.echo(f"Error: cannot write {output}: {exc.strerror}" if output else f"Error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    counts = result.counts
    click.echo(f"{counts['Violation']} violations, {counts['Warning']} warnings, {counts['Info']} infos "
               f"({result.seconds:.1f} s)" + (f"; report kept in {graph}" if graph else ""), err=True)
    sys.exit(result.exit_code)


if __name__ == "__main__":
    main()
