"""The Flask app that publishes the store: landing page and the SPARQL endpoint."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, g

from localoffer.config import Settings, load_settings
from localoffer.store import Store, open_store


def create_app(config: Mapping[str, Any] | None = None, *, settings: Settings | None = None) -> Flask:
    """App factory: defaults, then LOCALOFFER_* environment variables, then *config*."""
    app = Flask(__name__)
    app.config["LOCALOFFER"] = settings or load_settings(config)
    app.config["JSON_SORT_KEYS"] = False
    app.extensions["localoffer.store"] = open_store(app.config["LOCALOFFER"])

    from . import errors, pages, sparql

    errors.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(sparql.bp)
    app.after_request(_cors)
    logging.getLogger("localoffer").setLevel(logging.INFO)
    return app


def get_store() -> Store:
    """The store of the current app."""
    return current_app.extensions["localoffer.store"]  # type: ignore[no-any-return]


def get_settings() -> Settings:
    """The settings of the current app."""
    return current_app.config["LOCALOFFER"]  # type: ignore[no-any-return]


def _cors(response):  # type: ignore[no-untyped-def]
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    response.headers.setdefault("Access-Control-Max-Age", "86400")
    response.headers.setdefault("Access-Control-Allow-Headers", "Accept, Content-Type, Authorization")
    return response


__all__ = ["create_app", "get_store", "get_settings", "g"]
