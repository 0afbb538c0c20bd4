"""`/update`: the SPARQL 1.1 Protocol's update operation (URL-encoded or direct POST), for
holders of the update token only. Each request is one atomic write session, run in a
killable query process under the same hard timeout as queries."""

from __future__ import annotations

import time

from flask import Blueprint, Response, request
from werkzeug.exceptions import UnsupportedMediaType

from localoffer.errors import QueryError
from localoffer.queryexec import Answer, Failure, UpdateJob
from localoffer.sparqlguard import apply_using, check_update
from localoffer.store import StoreBusyError

from . import get_pool, get_settings
from .auth import require_writer
from .sparql import one, raise_failure, utf8_body

bp = Blueprint("update", __name__)
BUSY_WAIT = 10.0  # seconds to wait for another writer (an ingest, say) before answering 503


def read_update_request() -> tuple[str, list[str], list[str]]:
    """(update text, using-graph-uri values, using-named-graph-uri values)."""
    args = request.args
    mimetype = request.mimetype
    if mimetype == "application/x-www-form-urlencoded":
        form = request.form
        if "query" in form or "query" in args:
            raise QueryError("queries go to /sparql; this endpoint takes 'update' only")
        text = one(form.getlist("update") + args.getlist("update"), "update")
        if text is None:
            raise QueryError("no update given: send 'update' in the form body or POST the update "
                             "as application/sparql-update")
        return (text, args.getlist("using-graph-uri") + form.getlist("using-graph-uri"),
                args.getlist("using-named-graph-uri") + form.getlist("using-named-graph-uri"))
    if mimetype == "application/sparql-update":
        return utf8_body("update"), args.getlist("using-graph-uri"), args.getlist("using-named-graph-uri")
    raise UnsupportedMediaType(
        "a POST to /update must be application/x-www-form-urlencoded (update=...) or "
        f"application/sparql-update (the update as the body), not {mimetype or 'without a Content-Type'}")


@bp.route("/update", methods=["POST"])
def endpoint() -> Response:
    """Run a SPARQL Update; 204 when it has been published."""
    require_writer()
    text, using, using_named = read_update_request()
    check_update(text)
    job = UpdateJob(apply_using(text, using, using_named), base_iri=request.base_url)
    settings = get_settings()
    deadline = time.monotonic() + BUSY_WAIT
    while True:
        reply = get_pool().run(job, settings.query_timeout)
        if not (isinstance(reply, Failure) and reply.kind == "busy"):
            break
        if time.monotonic() > deadline:
            raise StoreBusyError(reply.message)
        time.sleep(0.2)
    if isinstance(reply, Failure):
        raise_failure(reply)
    assert isinstance(reply, Answer)
    response = Response(status=204)
    del response.headers["Content-Type"]  # no body
    response.headers["X-LocalOffer-Version"] = reply.version
    return response
