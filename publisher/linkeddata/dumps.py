"""`/dumps`: the whole dataset and each authority's data, gzipped, as N-Quads (graphs kept) or
Turtle (their union). A dump is written once per data version into a cache folder and served
with a strong ETag made from the version, so harvesters can ask `If-None-Match` cheaply."""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, request

from localoffer import namespaces as ns
from localoffer.errors import NotFoundError

from .site import TEMPLATE_FOLDER, not_found_page, settings, store

bp = Blueprint("ld_dumps", __name__, template_folder=TEMPLATE_FOLDER)
FORMATS = {"nq": ("application/n-quads", "N-Quads (named graphs kept)"),
           "ttl": ("text/turtle", "Turtle (all graphs merged)")}


def cache_dir() -> Path:
    """Where dumps are kept: LOCALOFFER_DUMP_CACHE, else a folder per store in the temp dir."""
    configured = settings().extra.get("dump_cache")
    if configured:
        return Path(str(configured))
    key = hashlib.sha256(settings().store.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"localoffer-dumps-{key}"


def authority_graphs(code: str) -> list[str]:
    """The named graphs an authority published (by their provenance), plus nothing else."""
    meta = ns.graph_iri(settings().base, "meta")
    authority = ox.NamedNode(ns.authority_iri(settings().base, code))
    rows = store().select(f"SELECT DISTINCT ?g WHERE {{ GRAPH {ox.NamedNode(meta)} "
                          f"{{ ?g <{ns.DCTERMS}publisher> {authority} }} }} ORDER BY ?g")
    return [r["g"].value for r in rows]


def write_dump(target: Path, fmt: str, graphs: list[str] | None) -> None:
    """Write the dump to *target* (gzipped) atomically: the whole store, or *graphs*."""
    tmp = target.with_suffix(".part")
    db = store()
    with gzip.open(tmp, "wb", compresslevel=6) as out:
        if graphs is None:
            db.dump(out, fmt)
        else:
            quads = []
            for g in graphs:
                node = ox.NamedNode(g)
                for row in db.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH {node} {{ ?s ?p ?o }} }}"):
                    quads.append(ox.Quad(row["s"], row["p"], row["o"], node if fmt == "nq" else ox.DefaultGraph()))
            rdf_format = ox.RdfFormat.N_QUADS if fmt == "nq" else ox.RdfFormat.TURTLE
            if fmt == "ttl":
                ox.serialize([q.triple for q in quads], out, rdf_format, prefixes=ns.PREFIXES)
            else:
                ox.serialize(quads, out, rdf_format)
    os.replace(tmp, target)


def dump_file(name: str, fmt: str, graphs: list[str] | None) -> tuple[Path, str]:
    """The cached dump for the current version (written on first request) and its ETag."""
    version = store().version()
    folder = cache_dir() / version
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.{fmt}.gz"
    if not target.exists():
        with open(folder / ".lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one writer per dump; the others wait and reuse it
            if not target.exists():
                write_dump(target, fmt, graphs)
    return target, f"{version}-{name}-{fmt}"


def serve_dump(name: str, fmt: str, graphs: list[str] | None) -> Response:
    """The gzipped dump, with its ETag; 304 when the client has it."""
    media, _ = FORMATS[fmt]
    etag = f"{store().version()}-{name}-{fmt}"
    if request.if_none_match and request.if_none_match.contains(etag):
        response = Response(status=304)
        response.set_etag(etag)
        return response
    path, etag = dump_file(name, fmt, graphs)
    response = Response(stream(path), mimetype="application/gzip", direct_passthrough=True)
    response.headers["Content-Length"] = str(path.stat().st_size)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}.gz"'
    response.set_etag(etag)
    response.headers["X-Content-Media-Type"] = media
    response.headers["Cache-Control"] = "public, no-cache"
    last = store().modified()
    if last:
        response.last_modified = int(last)
    return response


def stream(path: Path) -> Iterator[bytes]:
    """The file in chunks (closed when the body has been sent)."""
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 16):
            yield chunk


def _split(filename: str) -> tuple[str, str]:
    for fmt in FORMATS:
        if filename.endswith(f".{fmt}.gz"):
            return filename[: -len(f".{fmt}.gz")], fmt
    raise NotFoundError(f"no dump called {filename}: dumps end in .nq.gz or .ttl.gz")


@bp.route("/dumps")
def index() -> Response:
    """The list of dumps."""
    from .catalog import statistics

    authorities = statistics()["authorities"]
    return Response(render_template("ld/dumps.html", formats=FORMATS, authorities=authorities,
                                    version=store().version()), mimetype="text/html")


@bp.route("/dumps/<filename>")
def whole(filename: str) -> Response:
    """The whole dataset: /dumps/localoffer.nq.gz or /dumps/localoffer.ttl.gz."""
    try:
        name, fmt = _split(filename)
    except NotFoundError as exc:
        return not_found_page(str(exc), suggestions=[("See the list of downloads", "/dumps")])
    if name != "localoffer":
        return not_found_page(f"no dump called {filename}; the whole dataset is localoffer.nq.gz",
                              suggestions=[("See the list of downloads", "/dumps")])
    return serve_dump(name, fmt, None)


@bp.route("/dumps/authority/<filename>")
def authority(filename: str) -> Response:
    """One authority's graphs: /dumps/authority/E06000023.nq.gz."""
    try:
        code, fmt = _split(filename)
    except NotFoundError as exc:
        return not_found_page(str(exc), suggestions=[("See the list of downloads", "/dumps")])
    code = code.upper()
    graphs = authority_graphs(code) if ns.GSS_CODE.match(code) else []
    if not graphs:
        return not_found_page(f"no data is published for the authority {code!r}",
                              suggestions=[("See the list of downloads", "/dumps")])
    return serve_dump(code, fmt, graphs)
