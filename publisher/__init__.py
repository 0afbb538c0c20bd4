"""The Flask app that publishes the store: landing page, the SPARQL endpoint (/sparql), SPARQL
Update (/update) and the Graph Store Protocol (/store)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, g

from localoffer.config import Settings, load_settings
from localoffer.querypool import QueryPool
from localoffer.store import Store, open_store


def create_app(config: Mapping[str, Any] | None = None, *, settings: Settings | None = None) -> Flask:
    """App factory: defaults, then LOCALOFFER_* environment variables, then *config*."""
    app = Flask(__name__)
    settings = settings or load_settings(config)
    app.config["LOCALOFFER"] = settings
    app.config["JSON_SORT_KEYS"] = False
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.config["MAX_FORM_MEMORY_SIZE"] = settings.max_request_bytes
    app.extensions["localoffer.store"] = open_store(settings)
    # Query processes start on first use (or when the server warms them): never at import.
    app.extensions["localoffer.querypool"] = QueryPool(settings, settings.query_processes or settings.threads)

    from . import errors, graphstore, pages, responses, sparql, update

    errors.init_app(app)
    responses.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(sparql.bp)
    app.register_blueprint(update.bp)
    app.register_blueprint(graphstore.bp)
    from . import changes, stats

    app.register_blueprint(changes.bp)
    app.register_blueprint(stats.bp)
    from .linkeddata import register as register_linkeddata

    register_linkeddata(app)
    from .oruk import register as register_oruk

    register_oruk(app)
    from .fastpath import FastPath

    app.wsgi_app = FastPath(app, app.wsgi_app)  # type: ignore[method-assign]
    logging.getLogger("localoffer").setLevel(logging.INFO)
    return app


def get_store() -> Store:
    """The store of the current app."""
    return current_app.extensions["localoffer.store"]  # type: ignore[no-any-return]


def get_pool() -> QueryPool:
    """The query processes of the current app (this worker)."""
    return current_app.extensions["localoffer.querypool"]  # type: ignore[no-any-return]


def get_settings() -> Settings:
    """The settings of the current app."""
    return current_app.config["LOCALOFFER"]  # type: ignore[no-any-return]


__all__ = ["create_app", "get_store", "get_pool", "get_settings", "g"]
