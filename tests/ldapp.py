"""A WSGI factory for real-server tests: the publisher app with the Linked Data site
registered (used only while `create_app` does not register it itself)."""

from __future__ import annotations

from flask import Flask
from localoffer.publisher import create_app
from localoffer.publisher.linkeddata import register


def create() -> Flask:
    """The app, configured from LOCALOFFER_* variables, with the Linked Data site."""
    app = create_app()
    if "ld_resources" not in app.blueprints:
        register(app)
    return app
