"""The Linked Data site: dereferenceable URIs (/id -> 303 -> /doc, by content negotiation),
pages for people, search and browse of services, the ontology (/def), discovery (/void,
/catalog, /sitemap.xml, /robots.txt), bulk dumps (/dumps) and canned queries (/queries).

`register(app)` adds it to an app made by `localoffer.publisher.create_app`."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Register the Linked Data blueprints (once) on *app*."""
    from . import browse, canned, catalog, definitions, dumps, resources

    for module in (resources, definitions, browse, catalog, dumps, canned):
        if module.bp.name not in app.blueprints:
            app.register_blueprint(module.bp)
