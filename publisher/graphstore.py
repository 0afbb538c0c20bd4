"""`/store`: the SPARQL 1.1 Graph Store HTTP Protocol. A graph is named directly (any URL
under /store/ is the graph of that IRI) or indirectly (`/store?graph=IRI`, `/store?default`
for the store's own default graph). GET and HEAD are open to all; PUT, POST and DELETE need
the update token, go through one atomic write session each, and are checked against the
SHACL shapes (refused with the report when they would add Violations, unless ?force=true)."""

from __future__ import annotations

import io
import re
import time
import uuid
from collections.abc import Callable

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import UnsupportedMediaType

from localoffer.errors import NotFoundError, QueryError
from localoffer.store import DEFAULT_GRAPH, StoreBusyError, WriteSession

from . import get_settings, get_store
from .auth import require_writer
from .conneg import RDF_DOCUMENTS, negotiate, with_charset
from .responses import etag_for, not_modified, set_validators
from .writecheck import Validator, check_write, find_validator

bp = Blueprint("graphstore", __name__)
METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE"]
DUMP_FORMATS = {"ttl": "ttl", "nt": "nt", "jsonld": "jsonld", "rdfxml": "rdf", "n3": "n3"}
EXTRA_TYPES = {"text/plain": ox.RdfFormat.N_TRIPLES, "application/xml": ox.RdfFormat.RDF_XML,
               "application/json": ox.RdfFormat.JSON_LD}
ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]*$")
BUSY_WAIT = 10.0
SMALL_WRITE = 2 * 1024 * 1024


@bp.route("/store", methods=METHODS)
@bp.route("/store/<path:rest>", methods=METHODS)
def graph_store(rest: str | None = None) -> Response:
    """Dispatch on the method."""
    graph = target_graph(rest)
    if request.method in ("GET", "HEAD"):
        return read_graph(graph)
    require_writer()
    if request.method == "DELETE":
        return delete_graph(graph)
    if request.method == "PUT":
        return put_graph(graph)
    return post_graph(graph)


def target_graph(rest: str | None) -> str | None:
    """The graph a request names: its IRI, DEFAULT_GRAPH, or None when it names none."""
    graphs = request.args.getlist("graph")
    default = "default" in request.args
    if rest is not None:
        if graphs or default:
            raise QueryError("name the graph by the URL (direct) or by ?graph= / ?default (indirect), "
                             "not both")
        return request.base_url
    if graphs and default:
        raise QueryError("give either ?graph=IRI or ?default, not both")
    if len(graphs) > 1:
        raise QueryError(f"give one 'graph' parameter (got {len(graphs)})")
    if default:
        return DEFAULT_GRAPH
    if graphs:
        if not ABSOLUTE_IRI.match(graphs[0]):
            raise QueryError(f"graph {graphs[0]!r} is not an absolute IRI")
        return graphs[0]
    return None


def _label(graph: str) -> str:
    return "the default graph" if graph == DEFAULT_GRAPH else f"graph <{graph}>"


def graph_exists(graph: str) -> bool:
    """The default graph always exists; a named graph once it has been created."""
    return graph == DEFAULT_GRAPH or graph in get_store().named_graphs()


def read_graph(graph: str | None) -> Response:
    """GET/HEAD: the graph's triples in the negotiated RDF format."""
    if graph is None:
        raise QueryError("name a graph: /store?graph=IRI, /store?default, or a URL under /store/")
    store = get_store()
    if not graph_exists(graph):
        raise NotFoundError(f"there is no {_label(graph)} in the store")
    mime, key = negotiate(RDF_DOCUMENTS, request.accept_mimetypes, request.args.get("format"), graph=True)
    etag = etag_for(store.version(), "graph", graph, mime)
    cached = not_modified(etag, store.modified())
    if cached is not None:
        cached.vary.add("Accept")
        return cached
    buf = io.BytesIO()
    store.dump(buf, DUMP_FORMATS[key], graph=graph)
    response = Response(buf.getvalue(), content_type=with_charset(mime))
    response.vary.add("Accept")
    set_validators(response, etag, store.modified())
    return response


def put_graph(graph: str | None) -> Response:
    """PUT: replace the graph's content (creating it: 201)."""
    if graph is None:
        raise QueryError("PUT needs a graph: /store?graph=IRI, /store?default, or a URL under /store/")
    data = request_triples(graph or request.base_url)
    existed = graph_exists(graph)
    if not forced():
        check_write(validator(), graph, data, lambda: dump_ntriples(graph) if existed else None)

    def replace(session: WriteSession) -> None:
        if graph == DEFAULT_GRAPH:
            session.update("CLEAR DEFAULT")
        else:
            session.update(f"DROP SILENT GRAPH <{graph}> ; CREATE SILENT GRAPH <{graph}>")
        add_triples(session, graph, data)

    return written(replace, 204 if existed else 201)


def post_graph(graph: str | None) -> Response:
    """POST: merge the data into the graph; to /store itself, create a new graph (201 + Location)."""
    created = graph is None
    if graph is None:
        graph = request.url_root + "store/" + uuid.uuid4().hex
    data = request_triples(graph or request.base_url)
    existed = not created and graph_exists(graph)
    if not forced():
        before = dump_ntriples(graph) if existed else None
        check_write(validator(), graph, (before or b"") + data, lambda: before)
    def merge(session: WriteSession) -> None:
        if not existed and graph != DEFAULT_GRAPH:
            session.update(f"CREATE SILENT GRAPH <{graph}>")
        add_triples(session, graph, data)

    response = written(merge, 204 if existed else 201)
    if created:
        response.headers["Location"] = graph
    return response


def delete_graph(graph: str | None) -> Response:
    """DELETE: drop the graph (404 when there is none)."""
    if graph is None:
        raise QueryError("DELETE needs a graph: /store?graph=IRI, /store?default, or a URL under /store/")
    if not graph_exists(graph):
        raise NotFoundError(f"there is no {_label(graph)} in the store")
    return written(lambda session: session.drop_graph(graph), 204)


def add_triples(session: WriteSession, graph: str, ntriples: bytes) -> None:
    """Add N-Triples to *graph*: small payloads as INSERT DATA (no bulk-loader start-up
    cost), large ones through the bulk loader."""
    if not ntriples:
        return
    if len(ntriples) > SMALL_WRITE:
        session.load(graph, ntriples, "nt")
        return
    triples = ntriples.decode("utf-8")
    if graph == DEFAULT_GRAPH:
        session.update(f"INSERT DATA {{\n{triples}\n}}")
    else:
        session.update(f"INSERT DATA {{ GRAPH <{graph}> {{\n{triples}\n}} }}")


def written(change: Callable[[WriteSession], None], status: int) -> Response:
    """Apply *change* in one write session, waiting a while for another writer to finish."""
    store = get_store()
    deadline = time.monotonic() + BUSY_WAIT
    while True:
        try:
            with store.write() as session:
                change(session)
            break
        except StoreBusyError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    response = Response(status=status)
    del response.headers["Content-Type"]  # no body
    response.headers["X-LocalOffer-Version"] = store.version()
    return response


def dump_ntriples(graph: str) -> bytes:
    """The graph's current content as N-Triples."""
    buf = io.BytesIO()
    get_store().dump(buf, "nt", graph=graph)
    return buf.getvalue()


def forced() -> bool:
    """?force=true: write even when validation finds new Violations."""
    return request.args.get("force", "").lower() in ("1", "true", "yes")


def validator() -> Validator | None:
    """The app's write validator, found once."""
    ext = current_app.extensions
    if "localoffer.validator" not in ext:
        ext["localoffer.validator"] = find_validator(get_settings())
    return ext["localoffer.validator"]  # type: ignore[no-any-return]


def request_triples(base: str) -> bytes:
    """The request body (one RDF document, or several as multipart/form-data) as N-Triples."""
    if request.mimetype == "multipart/form-data":
        parts = [(f.mimetype, f.mimetype_params.get("charset"), f.filename, f.read())
                 for _, f in request.files.items(multi=True)]
        if not parts:
            raise QueryError("the multipart/form-data body holds no files")
    else:
        parts = [(request.mimetype, request.mimetype_params.get("charset"), None, request.get_data())]
    out = []
    for mime, charset, filename, data in parts:
        fmt = _format(mime, filename)
        try:
            quads = ox.parse(_utf8(data, charset), format=fmt, base_iri=base,
                             without_named_graphs=True, rename_blank_nodes=True)
            out.append(ox.serialize([q.triple for q in quads], format=ox.RdfFormat.N_TRIPLES))
        except SyntaxError as exc:
            where = f" (part {filename})" if filename else ""
            raise QueryError(f"the request body{where} is not valid {fmt.name}: {exc}") from None
    return b"".join(out)


def _format(mime: str, filename: str | None) -> ox.RdfFormat:
    fmt = EXTRA_TYPES.get(mime) or (ox.RdfFormat.from_media_type(mime) if mime else None)
    if fmt is None and filename and "." in filename:
        fmt = ox.RdfFormat.from_extension(filename.rsplit(".", 1)[1])
    if fmt is None:
        raise UnsupportedMediaType(f"cannot read {mime or 'a body without a Content-Type'} as RDF; send "
                                   "Turtle, N-Triples, RDF/XML, JSON-LD or N3")
    return fmt


def _utf8(data: bytes, charset: str | None) -> bytes:
    if not charset or charset.lower() in ("utf-8", "utf8"):
        return data
    try:
        return data.decode(charset).encode("utf-8")
    except (LookupError, UnicodeDecodeError) as exc:
        raise QueryError(f"cannot read the body as {charset}: {exc}") from None
