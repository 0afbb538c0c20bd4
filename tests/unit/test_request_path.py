"""Parts of the request path that trade repeated work for speed: the guard decisions remembered
per query text (refusals never remembered), and gunicorn's access log, off unless configured."""

from __future__ import annotations

import pytest
from localoffer.publisher.sparql import checked_form

from localoffer.config import load_settings
from localoffer.errors import QueryError
from localoffer.server import gunicorn_options

LOOKUP = "CONSTRUCT { <https://x.test/a> ?p ?o } WHERE { <https://x.test/a> ?p ?o }"


def test_checked_form_names_the_form_and_remembers_it():
    checked_form.cache_clear()
    assert checked_form(LOOKUP) == "CONSTRUCT"
    assert checked_form(LOOKUP) == "CONSTRUCT"
    assert checked_form("ASK { ?s ?p ?o }") == "ASK"
    info = checked_form.cache_info()
    assert info.hits == 1 and info.currsize == 2 and info.maxsize is not None


@pytest.mark.parametrize("text", [
    "INSERT DATA { <https://x.test/a> <https://x.test/p> 1 }",
    "SELECT * WHERE { SERVICE <https://evil.test/sparql> { ?s ?p ?o } }",
])
def test_refusals_are_refused_every_time(text):
    for _ in range(2):
        with pytest.raises(QueryError):
            checked_form(text)


def test_access_log_is_off_unless_configured():
    assert gunicorn_options(load_settings({}, environ={}))["accesslog"] is None
    assert gunicorn_options(load_settings({}, environ={"LOCALOFFER_ACCESS_LOG": "-"}))["accesslog"] == "-"
    on_file = load_settings({"access_log": "/var/log/localoffer/access.log"}, environ={})
    assert gunicorn_options(on_file)["accesslog"] == "/var/log/localoffer/access.log"
    assert gunicorn_options(load_settings({}, environ={"LOCALOFFER_ACCESS_LOG": "off"}))["accesslog"] is None
