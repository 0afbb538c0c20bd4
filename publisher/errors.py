"""One place where errors become responses: HTML for browsers, JSON or text for programs."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from localoffer.errors import LocalOfferError, NotFoundError, QueryError

log = logging.getLogger("localoffer.publisher")


def _respond(status: int, title: str, message: str):  # type: ignore[no-untyped-def]
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "text/plain"])
    if best == "application/json":
        return jsonify({"status": status, "error": title, "message": message}), status
    if best == "text/html" and "text/html" in request.headers.get("Accept", ""):
        return render_template("error.html", status=status, title=title, message=message), status
    return f"{title}: {message}\n", status, {"Content-Type": "text/plain; charset=utf-8"}


def init_app(app: Flask) -> None:
    """Register the error handlers."""

    @app.errorhandler(QueryError)
    def query_error(exc: QueryError):  # type: ignore[no-untyped-def]
        return _respond(400, "Bad query", str(exc))

    @app.errorhandler(NotFoundError)
    def not_found(exc: NotFoundError):  # type: ignore[no-untyped-def]
        return _respond(404, "Not found", str(exc))

    @app.errorhandler(LocalOfferError)
    def other(exc: LocalOfferError):  # type: ignore[no-untyped-def]
        return _respond(400, "Bad request", str(exc))

    @app.errorhandler(HTTPException)
    def http(exc: HTTPException):  # type: ignore[no-untyped-def]
        return _respond(exc.code or 500, exc.name, exc.description or "")

    @app.errorhandler(Exception)
    def bug(exc: Exception):  # type: ignore[no-untyped-def]
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _respond(500, "Internal error", "something went wrong on our side; it has been logged")
