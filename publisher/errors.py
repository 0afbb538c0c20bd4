"""One place where errors become responses: HTML for browsers, JSON or text for programs."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from localoffer.errors import LocalOfferError, NotFoundError, QueryError, StoreError
from localoffer.querypool import PoolBusy, QueryTimeout
from localoffer.store import StoreBusyError

from .writecheck import WriteRefused

log = logging.getLogger("localoffer.publisher")


def respond(status: int, title: str, message: str, details: list[dict[str, Any]] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    """An error response in the form the client prefers (JSON, HTML or plain text)."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "text/plain"])
    if best == "application/json":
        body: dict[str, Any] = {"status": status, "error": title, "message": message}
        if details is not None:
            body["details"] = details
        response = jsonify(body)
    elif best == "text/html" and "text/html" in request.headers.get("Accept", ""):
        response = Response(render_template("error.html", status=status, title=title, message=message,
                                            details=details or []), mimetype="text/html")
    else:
        lines = [f"{title}: {message}"]
        lines += ["  - " + "; ".join(f"{k}: {v}" for k, v in d.items() if v) for d in details or []]
        response = Response("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(QueryError)
    def query_error(exc: QueryError) -> Response:
        return respond(400, "Bad query", str(exc))

    @app.errorhandler(QueryTimeout)
    def timeout(exc: QueryTimeout) -> Response:
        return respond(503, "Query timed out", str(exc))

    @app.errorhandler(PoolBusy)
    def busy(exc: PoolBusy) -> Response:
        return respond(503, "Server busy", str(exc), headers={"Retry-After": "2"})

    @app.errorhandler(StoreBusyError)
    def store_busy(exc: StoreBusyError) -> Response:
        return respond(503, "Store busy", str(exc), headers={"Retry-After": "5"})

    @app.errorhandler(StoreError)
    def store_error(exc: StoreError) -> Response:
        log.error("store error on %s %s: %s", request.method, request.path, exc)
        return respond(503, "Store unavailable", str(exc))

    @app.errorhandler(WriteRefused)
    def refused(exc: WriteRefused) -> Response:
        return respond(422, "Write refused by validation", str(exc),
                       details=[v.as_dict() for v in exc.violations])

    @app.errorhandler(NotFoundError)
    def not_found(exc: NotFoundError) -> Response:
        return respond(404, "Not found", str(exc))

    @app.errorhandler(LocalOfferError)
    def other(exc: LocalOfferError) -> Response:
        return respond(400, "Bad request", str(exc))

    @app.errorhandler(HTTPException)
    def http(exc: HTTPException) -> Response:
        headers = {}
        if exc.code == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="localoffer"'
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            headers["Allow"] = ", ".join(exc.valid_methods)
        return respond(exc.code or 500, exc.name, exc.description or "", headers=headers)

    @app.errorhandler(Exception)
    def bug(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return respond(500, "Internal error", "something went wrong on our side; it has been logged")
