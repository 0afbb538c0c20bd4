"""The resource pages' "All the details" section (publisher/linkeddata/render.py tree_html) is
written in Python, not by the `node` macro of ld/_macros.html that the vocabulary pages still
use: both must give the same HTML, character for character, hostile data included."""

from __future__ import annotations

import pytest
from localoffer.publisher import create_app
from localoffer.publisher.linkeddata import register
from localoffer.publisher.linkeddata.describe import describe
from localoffer.publisher.linkeddata.render import build_tree, tree_html
from localoffer.publisher.linkeddata.site import href_for
from markupsafe import Markup

from localoffer.store import open_store

from ..ldfixtures import BASE, BRISTOL, HOSTILE_NAME, ORG_SHARED, SVC_HOSTILE, build_store
from ..ldfixtures import RESOURCES as SUBJECTS


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings = build_store(tmp_path_factory.mktemp("html") / "data")
    app = create_app({"store": settings.store, "base_uri": BASE})
    if "ld_resources" not in app.blueprints:
        register(app)
    app.config["TESTING"] = True
    return app


def test_details_are_the_macros_html(app) -> None:
    store = open_store(app.config["LOCALOFFER"])
    with app.test_request_context("/doc/service/x"):
        macro = app.jinja_env.get_template("ld/_macros.html").module.node  # type: ignore[attr-defined]
        for subject in SUBJECTS:
            tree = build_tree(describe(store, subject), href_for)
            ours = tree_html(tree)
            assert isinstance(ours, Markup)
            assert str(ours) == str(macro(tree)), subject
            assert any(row.values and any(v.node for v in row.values) for row in tree.rows) \
                or subject.endswith((ORG_SHARED, BRISTOL)), f"{subject}: no nested part was compared"
    store.close()


def test_hostile_name_is_escaped_in_the_details(app) -> None:
    response = app.test_client().get(f"/doc/service/{SVC_HOSTILE}", headers={"Accept": "text/html"})
    body = response.get_data(as_text=True)
    details = body.split('<h2 id="details">', 1)[1]
    assert HOSTILE_NAME not in details and "<script>alert" not in details
    escaped = "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt; Café &amp; &#34;Quotes&#34; &#39;too&#39;"
    assert escaped in details
