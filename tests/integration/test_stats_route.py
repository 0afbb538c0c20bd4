"""`/stats`: the kept counts over HTTP (JSON and CSV, one authority or all), equal to the
statistics module's own reading and to SPARQL counts; validators tied to the store version."""

from __future__ import annotations

import csv
import io

import pytest
from localoffer.publisher import create_app

from localoffer import namespaces as ns
from localoffer.statistics import collect
from localoffer.store import open_store

from ..ldfixtures import BASE, BRISTOL, NLINCS, build_store


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stats")
    settings = build_store(tmp / "data")
    app = create_app({"store": settings.store, "base_uri": BASE})
    app.config["TESTING"] = True
    return settings, app


def sparql_services(settings, code: str) -> int:
    store = open_store(settings)
    try:
        rows = list(store.query(
            f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a <{ns.SCHEMA}Service> ; "
            f"<{ns.LO}localAuthority> <{ns.authority_iri(settings.base, code)}> }}"))
        return int(rows[0]["n"].value)
    finally:
        store.close()


def test_json_has_every_authority_with_counts_equal_to_sparql(site) -> None:
    settings, app = site
    r = app.test_client().get("/stats")
    assert r.status_code == 200 and r.mimetype == "application/json"
    data = r.get_json()
    assert "store" not in data  # the server's folder is not published
    codes = {a["code"]: a for a in data["authorities"]}
    assert set(codes) == {BRISTOL, NLINCS}
    for code in codes:
        assert codes[code]["services"] == sparql_services(settings, code) > 0
    store = open_store(settings)
    try:
        kept = collect(store, settings)
    finally:
        store.close()
    assert data["needs"] == kept["needs"] and data["version"] == kept["version"]


def test_one_authority(site) -> None:
    _, app = site
    data = app.test_client().get(f"/stats?authority={BRISTOL.lower()}").get_json()
    assert [a["code"] for a in data["authorities"]] == [BRISTOL]
    assert data["needs"] and {n["authority"] for n in data["needs"]} == {BRISTOL}


def test_csv_rows_match_json(site) -> None:
    _, app = site
    client = app.test_client()
    data = client.get("/stats").get_json()
    r = client.get("/stats?format=csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert len(rows) == len(data["needs"])
    assert sum(int(row["services"]) for row in rows) == sum(n["services"] for n in data["needs"])
    named = [row for row in rows if row["need_area"]]
    assert named and all(row["need_area_label"] for row in named)
    assert client.get("/stats", headers={"Accept": "text/csv"}).mimetype == "text/csv"


@pytest.mark.parametrize(("query", "status", "says"), [
    ("authority=bristol", 400, "GSS code"),
    ("authority=E06000001", 404, "no data for authority E06000001"),
    ("format=xml", 400, "choose json or csv"),
])
def test_bad_requests_say_what_is_right(site, query: str, status: int, says: str) -> None:
    _, app = site
    r = app.test_client().get(f"/stats?{query}", headers={"Accept": "application/json"})
    assert r.status_code == status
    assert says in r.get_data(as_text=True)


def test_etag_answers_304_until_the_data_changes(site) -> None:
    _, app = site
    client = app.test_client()
    first = client.get("/stats")
    etag = first.headers["ETag"]
    again = client.get("/stats", headers={"If-None-Match": etag})
    assert again.status_code == 304
    other = client.get("/stats?format=csv", headers={"If-None-Match": etag})
    assert other.status_code == 200
