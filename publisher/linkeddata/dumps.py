"""`/dumps`: the whole dataset and each authority's data, gzipped, as N-Quads (graphs kept) or
Turtle (their union). A dump is written once per data version into a cache folder and served
with a strong ETag made from the version, so harvesters can ask `If-None-Match` cheaply.

Dumps are streamed: quads go from the store (pinned to one version for the whole request)
through the serializer and gzip to disk as they are read, so a national-scale dump never
holds the data in memory."""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, request

from localoffer import namespaces as ns
from localoffer.errors import NotFoundError
from localoffer.textindex import pin

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


def authority_graphs(code: str, db: Any = None) -> list[str]:
    """The named graphs an authority published (by their provenance), plus nothing else."""
    meta = ns.graph_iri(settings().base, "meta")
    authority = ox.NamedNode(ns.authority_iri(settings().base, code))
    rows = (db or store()).select(f"SELECT DISTINCT ?g WHERE {{ GRAPH {ox.NamedNode(meta)} "
                                  f"{{ ?g <{ns.DCTERMS}publisher> {authority} }} }} ORDER BY ?g")
    return [r["g"].value for r in rows]


def graph_quads(db: Any, graphs: Iterable[str]) -> Iterator[ox.Quad]:
    """The quads of *graphs*, one graph after another, as the store yields them."""
    for g in graphs:
        node = ox.NamedNode(g)
        for row in db.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH {node} {{ ?s ?p ?o }} }}"):
            yield ox.Quad(row["s"], row["p"], row["o"], node)


def write_dump(db: Any, target: Path, fmt: str, graphs: list[str] | None) -> None:
    """Stream the dump to *target* (gzipped, atomically): the whole store, or *graphs*."""
    tmp = target.with_suffix(".part")
    with gzip.open(tmp, "wb", compresslevel=6) as out:
        if graphs is None and hasattr(db, "root"):
            db.dump(out, fmt)  # the embedded store streams itself
        else:
            quads = graph_quads(db, db.named_graphs() if graphs is None else graphs)
            if fmt == "ttl":
                ox.serialize((q.triple for q in quads), out, ox.RdfFormat.TURTLE, prefixes=ns.PREFIXES)
            else:
                ox.serialize(quads, out, ox.RdfFormat.N_QUADS)
    os.replace(tmp, target)


def dump_file(db: Any, name: str, fmt: str, graphs: list[str] | None) -> tuple[Path, str]:
    """The cached dump of the version *db* reads (written on first request) and its ETag."""
    version = db.version()
    folder = cache_dir() / version
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.{fmt}.gz"
    if not target.exists():
        with open(folder / ".lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one writer per dump; the others wait and reuse it
            if not target.exists():
                write_dump(db, target, fmt, graphs)
                prune(folder)
    return target, f"{version}-{name}-{fmt}"


def prune(keep: Path, age: float = 3600.0) -> None:
    """Delete the dumps of other versions untouched for *age* seconds (a request still
    sending one keeps its open file)."""
    for folder in keep.parent.iterdir():
        try:
            stale = folder != keep and folder.is_dir() and time.time() - folder.stat().st_mtime > age
        except OSError:
            continue
        if stale:
            shutil.rmtree(folder, ignore_errors=True)


def serve_dump(db: Any, name: str, fmt: str, graphs: list[str] | None) -> Response:
    """The gzipped dump of the version *db* reads, with its ETag; 304 when the client has it."""
    media, _ = FORMATS[fmt]
    etag = f"{db.version()}-{name}-{fmt}"
    if request.if_none_match and request.if_none_match.contains(etag):
        response = Response(status=304)
        response.set_etag(etag)
        return response
    path, etag = dump_file(db, name, fmt, graphs)
    response = Response(stream(path), mimetype="application/gzip", direct_passthrough=True)
    response.headers["Content-Length"] = str(path.stat().st_size)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}.gz"'
    response.set_etag(etag)
    response.headers["X-Content-Media-Type"] = media
    response.headers["Cache-Control"] = "public, no-cache"
    last = db.modified()
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
    return serve_dump(pin(store()), name, fmt, None)


@bp.route("/dumps/authority/<filename>")
def authority(filename: str) -> Response:
    """One authority's graphs: /dumps/authority/E06000023.nq.gz."""
    try:
        code, fmt = _split(filename)
    except NotFoundError as exc:
        return not_found_page(str(exc), suggestions=[("See the list of downloads", "/dumps")])
    code = code.upper()
    db = pin(store())
    graphs = authority_graphs(code, db) if ns.GSS_CODE.match(code) else []
    if not graphs:
        return not_found_page(f"no data is published for the authority {code!r}",
                              suggestions=[("See the list of downloads", "/dumps")])
    return serve_dump(db, code, fmt, graphs)
