"""The ORUK 3.0 API (/api) through the Flask test client: every endpoint's responses against the
profile's compiled JSON Schemas on both real council feeds, paging, filters against hand-written
SPARQL, errors, the OpenAPI document, and the round trip ORUK -> RDF -> ORUK."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator, FormatChecker
from localoffer.ingest.pipeline import ingest
from localoffer.ingest.text import clean_name, clean_text, normalise_postcode
from localoffer.publisher import create_app
from localoffer.publisher.oruk import register
from localoffer.publisher.oruk.ids import derived_id
from localoffer.publisher.oruk.openapi import ENDPOINTS, RESPONSE_SCHEMAS, SCHEMAS
from localoffer.publisher.oruk.params import PAGING, SERVICE_FILTERS
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from localoffer import namespaces as ns
from localoffer.config import load_settings
from localoffer.store import Store, open_store

from ..conftest import BASE, DATA, SAMPLES

ORUK = DATA / "oruk-api"
SOURCES = {"uk-profile": ORUK / "examples", "validator-default": DATA / "oruk-default"}
FEEDS = ((SAMPLES / "bristol-services-2024-12.json", "E06000023"),
         (SAMPLES / "north-lincolnshire-services-2024-12.json", "E06000013"))
PREFIXES = ns.sparql_prefixes()
PAGE_KEYS = {"total_items", "total_pages", "page_number", "size", "first_page", "last_page", "empty",
             "contents"}


# -- schemas ---------------------------------------------------------------------------------
def _registry() -> Registry:
    resources = []
    for url in RESPONSE_SCHEMAS.values():
        contents = json.loads((ORUK / "schema" / url[len(SCHEMAS):]).read_text(encoding="utf-8"))
        resources.append((url, Resource.from_contents(contents, default_specification=DRAFT202012)))
    return Registry().with_resources(resources)


REGISTRY = _registry()
PROFILE_OPENAPI = json.loads((ORUK / "schema" / "openapi.json").read_text(encoding="utf-8"))
FORMATS = FormatChecker()


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", parts.scheme)) and not re.search(r"\s", value) \
        and (bool(parts.netloc) or parts.scheme in ("mailto", "tel", "urn"))


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value):
        return False
    dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


def schema_for(kind: str, paged: bool) -> dict[str, Any]:
    """The response schema: an official object schema, or the profile's Page of them."""
    item = {"$ref": RESPONSE_SCHEMAS[kind]}
    if not paged:
        return item
    page = PROFILE_OPENAPI["components"]["schemas"]["Page"]
    return {"allOf": [page], "required": sorted(PAGE_KEYS),
            "properties": {"contents": {"type": "array", "items": item}}}


def check(body: Any, kind: str, paged: bool = False) -> None:
    """Valid against the official schema (formats checked), and no field the schema lacks."""
    errors = sorted(Draft202012Validator(schema_for(kind, paged), registry=REGISTRY,
                                         format_checker=FORMATS).iter_errors(body), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
    items = body["contents"] if paged else [body]
    if paged:
        assert set(body) == PAGE_KEYS
    for item in items:
        extra = undeclared(item, REGISTRY.contents(RESPONSE_SCHEMAS[kind]), RESPONSE_SCHEMAS[kind])
        assert not extra, f"fields the profile does not have: {extra}"


def undeclared(value: Any, schema: dict[str, Any], where: str, path: str = "") -> list[str]:
    """Paths of fields in *value* that *schema* does not declare (the schemas allow extras)."""
    if "$ref" in schema:
        where = re.sub(r"[^/]+$", schema["$ref"], where)
        schema = REGISTRY.contents(where)
    out: list[str] = []
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for k, v in value.items():
            out += [f"{path}.{k}"] if k not in props else undeclared(v, props[k], where, f"{path}.{k}")
    elif isinstance(value, list):
        for v in value:
            out += undeclared(v, schema.get("items", {}), where, f"{path}[]")
    return out


# -- apps ------------------------------------------------------------------------------------
def make_app(store_dir: Path, **config: Any) -> Flask:
    app = create_app({"store": str(store_dir), "base_uri": BASE, **config})
    if "oruk" not in app.blueprints:
        register(app)
    return app


def get(client: FlaskClient, url: str, status: int = 200) -> Any:
    r = client.get(url)
    assert r.status_code == status, f"{url}: {r.status_code} {r.get_data(as_text=True)[:500]}"
    assert r.mimetype == "application/json"
    return r.get_json()


def all_pages(client: FlaskClient, url: str, per_page: int) -> Iterator[dict[str, Any]]:
    sep = "&" if "?" in url else "?"
    page = 1
    while True:
        body = get(client, f"{url}{sep}page={page}&per_page={per_page}")
        yield body
        if body["last_page"]:
            return
        page += 1


@dataclass
class Feeds:
    app: Flask
    client: FlaskClient
    store: Store
    tagged: dict[str, set[str]]  # concept IRI -> service ids tagged with it

    def ids(self, where: str) -> set[str]:
        """Service ids matching a hand-written SPARQL pattern on ?s."""
        rows = self.store.select(f"{PREFIXES}SELECT DISTINCT ?id WHERE {{ ?s a schema:Service ; "
                                 f"schema:identifier ?id . {where} }}")
        return {r["id"].value for r in rows}

    def listed(self, query: str, per_page: int = 1000) -> list[str]:
        return [s["id"] for body in all_pages(self.client, f"/api/services?{query}", per_page)
                for s in body["contents"]]


NEED = f"{ns.SCHEME}need/"
PROVISION = f"{ns.SCHEME}provision-category/"
TAGS = {"autis": NEED + "asd", "deaf": NEED + "hi", "hearing": NEED + "hi", "dyslex": NEED + "spld",
        "send": PROVISION + "special-educational-provision",
        "short break": PROVISION + "social-care-provision"}


def send_tags(path: Path) -> tuple[str, dict[str, set[str]]]:
    """Turtle tagging services with SEND concepts by keyword, as a council might."""
    lines, tagged = [], {}
    for rec in json.loads(path.read_text(encoding="utf-8")):
        text = f"{rec.get('name')} {rec.get('description')}".lower()
        for word, concept in TAGS.items():
            if re.search(rf"\b{word}", text):
                prop = "needCategory" if concept.startswith(NEED) else "provisionCategory"
                lines.append(f"<{ns.mint(BASE, 'service', rec['id'])}> <{ns.LO}{prop}> <{concept}> .")
                tagged.setdefault(concept, set()).add(rec["id"])
    return "\n".join(sorted(set(lines))) + "\n", tagged


SYNTHETIC = "E06000024"
POSTCODES = {"BS1 5TH": (51.4536, -2.5930), "BS2 0JA": (51.4619, -2.5772), "BS8 1TH": (51.4566, -2.6175),
             "BS16 1QY": (51.5000, -2.5480)}
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def synthetic_feed(n: int = 120, seed: int = 8) -> list[dict[str, Any]]:
    """HSDS 3.0 services with what the council feeds lack: ages, schedules, places with
    postcodes and coordinates, taxonomy terms with a hierarchy, last_modified."""
    import random
    import uuid

    rng = random.Random(seed)
    space = uuid.UUID("0b7f3c59-6a52-4a4e-9d0e-7a1c52c8a001")

    def uid(*parts: object) -> str:
        return str(uuid.uuid5(space, "/".join(map(str, parts))))

    taxonomy = {"id": uid("taxonomy"), "name": "Activities", "description": "Synthetic activities"}
    parent = {"id": uid("term", "sport"), "name": "Sport", "description": "Sport",
              "taxonomy_id": taxonomy["id"]}
    terms = [parent] + [{"id": uid("term", t), "name": t.title(), "description": t, "parent_id": parent["id"],
                         "taxonomy_id": taxonomy["id"]} for t in ("swimming", "football", "climbing")]
    terms.append({"id": uid("term", "music"), "name": "Music", "description": "Music",
                  "taxonomy_id": taxonomy["id"]})
    orgs = [{"id": uid("org", k), "name": f"Synthetic Trust {k}", "description": "A charity"}
            for k in range(6)]
    services = []
    for i in range(n):
        svc: dict[str, Any] = {"id": uid("service", i), "name": f"Synthetic club {i}", "status": "active",
                               "description": rng.choice(["Swimming for all", "Football and fun",
                                                          "Music group"]),
                               "organization": rng.choice(orgs),
                               "last_modified": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
                                                f"{rng.randint(0, 23):02d}:00:00Z"}
        if rng.random() < 0.8:
            svc["minimum_age"] = rng.choice([0, 2, 5, 8, 11, 16])
        if rng.random() < 0.8:
            svc["maximum_age"] = rng.choice([5, 11, 16, 18, 25])
        if rng.random() < 0.7:
            opens = rng.choice(["08:00", "09:30", "13:00", "17:00"])
            svc["schedules"] = [{"id": uid("schedule", i), "freq": "WEEKLY", "opens_at": opens,
                                 "closes_at": rng.choice(["12:00", "16:00", "19:30"]),
                                 "byday": ",".join(sorted(rng.sample(DAY_CODES, rng.randint(1, 3)),
                                                          key=DAY_CODES.index))}]
        if rng.random() < 0.8:
            k = rng.randrange(12)
            postcode = sorted(POSTCODES)[k % len(POSTCODES)]
            lat, lon = POSTCODES[postcode]
            svc["service_at_locations"] = [{"id": uid("sal", i), "location": {
                "id": uid("location", k), "location_type": "physical", "name": f"Venue {k}",
                "latitude": round(lat + (k // 4) * 0.004, 6), "longitude": round(lon - (k // 4) * 0.006, 6),
                "addresses": [{"id": uid("address", k), "address_1": f"{k} High Street", "city": "Bristol",
                               "state_province": "Bristol", "postal_code": postcode, "country": "GB",
                               "address_type": "physical"}]}}]
        svc["attributes"] = [{"taxonomy_term": t} for t in rng.sample(terms, rng.randint(0, 2))]
        services.append(svc)
    return services


@pytest.fixture(scope="module")
def feeds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Feeds]:
    tmp = tmp_path_factory.mktemp("oruk-feeds")
    settings = load_settings({"store": str(tmp / "store"), "base_uri": BASE}, environ={})
    store = open_store(settings)
    for path, code in FEEDS:
        ingest(store, settings, str(path), authority=code)
    turtle, tagged = send_tags(FEEDS[0][0])
    (tmp / "send-tags.ttl").write_text(turtle, encoding="utf-8")
    ingest(store, settings, str(tmp / "send-tags.ttl"), authority="E06000023", source_id="e06000023-send")
    (tmp / "synthetic.json").write_text(json.dumps(synthetic_feed()), encoding="utf-8")
    ingest(store, settings, str(tmp / "synthetic.json"), authority=SYNTHETIC)
    app = make_app(tmp / "store")
    yield Feeds(app, app.test_client(), store, tagged)
    store.close()


# -- schema validation on the real feeds ----------------------------------------------------
def test_root(feeds: Feeds) -> None:
    body = get(feeds.client, "/api/")
    root = PROFILE_OPENAPI["paths"]["/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert not list(Draft202012Validator(root, format_checker=FORMATS).iter_errors(body))
    assert body["version"] == "HSDS-UK-3.0" and set(body) == {"version", "profile", "openapi_url"}
    assert get(feeds.client, "/api") == body
    assert get(feeds.client, urlsplit(body["openapi_url"]).path)["openapi"] == "3.1.0"


def test_services_pages_validate_and_cover_every_service(feeds: Feeds) -> None:
    pages = list(all_pages(feeds.client, "/api/services", 1000))
    for body in pages:
        check(body, "service_list", paged=True)
    ids = [s["id"] for body in pages for s in body["contents"]]
    assert len(ids) == len(set(ids)) == pages[0]["total_items"] == len(feeds.ids(""))
    assert ids == sorted(ids)
    assert set(ids) == feeds.ids("")


def test_service_details_validate(feeds: Feeds) -> None:
    ids = sorted(feeds.ids(""))
    sample = ids[::10] + sorted(set().union(*feeds.tagged.values()) & set(ids))
    for ident in sample:
        body = get(feeds.client, f"/api/services/{ident}")
        check(body, "service")
        assert body["id"] == ident


def test_service_at_locations_validate(feeds: Feeds) -> None:
    pages = list(all_pages(feeds.client, "/api/service_at_locations", 40))
    for body in pages:
        check(body, "service_at_location_list", paged=True)
    items = [c for body in pages for c in body["contents"]]
    expected = {r["id"].value for r in feeds.store.select(
        f"{PREFIXES}SELECT ?id WHERE {{ ?c a schema:ServiceChannel ; schema:providesService ?s ; "
        "schema:identifier ?id }")}
    assert len(items) == pages[0]["total_items"] == len(expected) > 0
    assert {c["id"] for c in items} == expected
    for c in items[::3]:
        full = get(feeds.client, f"/api/service_at_locations/{c['id']}")
        check(full, "service_at_location")
        assert full["service"]["id"] == c["service_id"] == c["service"]["id"]
        assert "service_at_locations" not in full["service"]


def test_taxonomies_are_the_send_schemes_and_validate(feeds: Feeds) -> None:
    pages = list(all_pages(feeds.client, "/api/taxonomies", 5))
    items = [t for body in pages for t in body["contents"]]
    for body in pages:
        check(body, "taxonomy", paged=True)
    uris = {t.get("uri") for t in items}
    assert {f"{ns.SCHEME}need", f"{ns.SCHEME}provision-category"} <= uris
    for t in items:
        full = get(feeds.client, f"/api/taxonomies/{t['id']}")
        check(full, "taxonomy")
        assert {k: v for k, v in full.items() if k != "taxonomy_terms"} == t
        assert all(term["taxonomy_id"] == t["id"] for term in full["taxonomy_terms"])
    need = next(t for t in items if t.get("uri") == f"{ns.SCHEME}need")
    names = {term["name"] for term in get(feeds.client, f"/api/taxonomies/{need['id']}")["taxonomy_terms"]}
    assert {"Communication and interaction", "Autistic spectrum disorder", "Hearing impairment"} <= names


def test_taxonomy_terms_validate(feeds: Feeds) -> None:
    pages = list(all_pages(feeds.client, "/api/taxonomy_terms", 50))
    items = [t for body in pages for t in body["contents"]]
    assert len(items) == len({t["id"] for t in items}) == pages[0]["total_items"]
    for body in pages:
        check(body, "taxonomy_term", paged=True)
    for t in items:
        one = get(feeds.client, f"/api/taxonomy_terms/{t['id']}")
        check(one, "taxonomy_term")
        assert one == t


def test_send_concepts_are_attributes(feeds: Feeds) -> None:
    sid = sorted(feeds.tagged[NEED + "asd"])[0]
    body = get(feeds.client, f"/api/services/{sid}")
    attrs = [a for a in body["attributes"] if a["taxonomy_term"].get("term_uri") == NEED + "asd"]
    assert len(attrs) == 1
    a = attrs[0]
    assert a["link_type"] == "needCategory" and a["link_id"] == sid
    assert a["taxonomy_term"]["name"] == "Autistic spectrum disorder"
    assert a["taxonomy_term_id"] == a["taxonomy_term"]["id"] == derived_id(NEED + "asd")
    assert a["taxonomy_term"]["parent_id"] == derived_id(NEED + "communication-and-interaction")


def test_no_personal_data(feeds: Feeds) -> None:
    bodies = [feeds.client.get(u).get_data(as_text=True) for u in (
        "/api/services?per_page=1000", "/api/services?per_page=1000&page=2",
        *(f"/api/services/{i}" for i in sorted(feeds.ids(""))[::25]))]
    for text in bodies:
        assert "redacted.invalid" not in text and "assurer_email" not in text


# -- paging ----------------------------------------------------------------------------------
def test_paging_is_consistent(feeds: Feeds) -> None:
    # search finds words starting with "support" (the text index), not "...support" inside a URL
    expected = feeds.ids('FILTER EXISTS { { ?s schema:name ?t } UNION { ?s schema:description ?t } '
                         'FILTER(REGEX(?t, "(^|[^\\\\p{L}\\\\p{N}])support", "i")) }')
    pages = list(all_pages(feeds.client, "/api/services?search=support", 7))
    ids = [s["id"] for p in pages for s in p["contents"]]
    assert len(ids) == len(set(ids)) and set(ids) == expected
    total = len(expected)
    for n, p in enumerate(pages, start=1):
        assert p["total_items"] == total and p["total_pages"] == -(-total // 7)
        assert p["page_number"] == n and p["first_page"] == (n == 1)
        assert p["last_page"] == (n == len(pages)) and p["size"] == len(p["contents"])
        assert not p["empty"]
    beyond = get(feeds.client, f"/api/services?search=support&per_page=7&page={len(pages) + 1}")
    assert beyond["contents"] == [] and beyond["empty"] and beyond["last_page"] and beyond["size"] == 0
    check(beyond, "service_list", paged=True)


# -- filters against hand-written SPARQL -----------------------------------------------------
def _text(word: str) -> str:
    """Name or description has a word starting with *word* (what the text index finds)."""
    return (f'FILTER EXISTS {{ {{ ?s schema:name ?t }} UNION {{ ?s schema:description ?t }} '
            f'FILTER(REGEX(?t, "(^|[^\\\\p{{L}}\\\\p{{N}}]){word}", "i")) }}')


def test_filter_search(feeds: Feeds) -> None:
    assert set(feeds.listed("search=autism")) == feeds.ids(_text("autism")) != set()
    both = feeds.listed("search=Support%20GROUP")
    assert set(both) == feeds.ids(_text("support") + _text("group")) != set()


def test_filter_organization(feeds: Feeds) -> None:
    rows = list(feeds.store.select(
        f"{PREFIXES}SELECT ?oid (COUNT(?s) AS ?n) WHERE {{ ?s a schema:Service ; schema:provider ?o . "
        "?o schema:identifier ?oid } GROUP BY ?oid ORDER BY DESC(?n) ?oid LIMIT 1"))
    oid = rows[0]["oid"].value
    expected = feeds.ids(f'?s schema:provider ?o . ?o schema:identifier "{oid}"')
    assert len(expected) > 1 and set(feeds.listed(f"organization_id={oid}")) == expected
    assert feeds.listed(f"organization_id={derived_id('https://nowhere.example/org')}") == []


def test_filter_ages(feeds: Feeds) -> None:
    mins = feeds.ids("?s schema:audience ?a . ?a schema:suggestedMinAge ?m FILTER(?m >= 5)")
    maxs = feeds.ids("?s schema:audience ?a . ?a schema:suggestedMaxAge ?m FILTER(?m <= 18)")
    assert mins and maxs and mins & maxs
    assert set(feeds.listed("minimum_age=5")) == mins
    assert set(feeds.listed("maximum_age=18")) == maxs
    assert set(feeds.listed("minimum_age=5&maximum_age=18")) == mins & maxs


def test_filter_modified_after(feeds: Feeds) -> None:
    def expected(op: str, when: str) -> set[str]:
        return feeds.ids(f'?s dcterms:modified ?m FILTER(?m {op} "{when}T00:00:00Z"^^xsd:dateTime)') | \
            feeds.ids(f'FILTER NOT EXISTS {{ ?s dcterms:modified ?x }} ?s hsds:sourceModified ?d '
                      f'FILTER(?d {op} "{when}"^^xsd:date)')
    after = expected(">=", "2024-06-01")
    assert after & feeds.ids('?s dcterms:modified ?m') and after & feeds.ids('?s hsds:sourceModified ?m')
    assert set(feeds.listed("modified_after=2024-06-01")) == after
    later = expected(">", "2024-06-01")
    assert set(feeds.listed("modified_after=2024-06-01T00:00:01Z")) == later


def test_filter_taxonomy_term_includes_narrower(feeds: Feeds) -> None:
    area = NEED + "communication-and-interaction"
    expected = feeds.ids(f"{{ ?s lo:needCategory <{area}> }} UNION {{ <{area}> skos:narrower ?c . "
                         "?s lo:needCategory ?c }")
    assert expected == feeds.tagged[NEED + "asd"]
    assert set(feeds.listed(f"taxonomy_term_id={derived_id(area)}")) == expected
    assert set(feeds.listed(f"taxonomy_term_id={derived_id(NEED + 'hi')}")) == feeds.tagged[NEED + "hi"]


def test_filter_taxonomy_term_of_a_feed(feeds: Feeds) -> None:
    rows = list(feeds.store.select(f'{PREFIXES}SELECT ?t ?id WHERE {{ ?t skos:prefLabel "Sport" ; '
                                   "schema:identifier ?id }"))
    sport, sport_id = rows[0]["t"].value, rows[0]["id"].value
    expected = feeds.ids(f"{{ ?s schema:category <{sport}> }} UNION {{ ?s schema:category ?c . "
                         f"?c skos:broader <{sport}> }}")
    assert expected > feeds.ids(f"?s schema:category <{sport}>")
    assert set(feeds.listed(f"taxonomy_term_id={sport_id}")) == expected


def test_filter_taxonomy(feeds: Feeds) -> None:
    expected = feeds.ids(f"?s lo:provisionCategory ?c . ?c skos:inScheme <{ns.SCHEME}provision-category>")
    assert expected and set(feeds.listed(f"taxonomy_id={derived_id(ns.SCHEME + 'provision-category')}")) \
        == expected


def test_filters_combine_with_and(feeds: Feeds) -> None:
    query = f"search=autism&maximum_age=25&taxonomy_id={derived_id(ns.SCHEME + 'need')}"
    expected = feeds.ids(_text("autism")) & feeds.ids(
        "?s schema:audience/schema:suggestedMaxAge ?m FILTER(?m <= 25)") & feeds.ids("?s lo:needCategory ?c")
    assert set(feeds.listed(query)) == expected
    query = "search=swimming&minimum_age=2&day=TU"
    expected = feeds.ids(_text("swimming")) & feeds.ids(
        "?s schema:audience/schema:suggestedMinAge ?m FILTER(?m >= 2)") & feeds.ids(
        "?s schema:hoursAvailable/schema:dayOfWeek schema:Tuesday")
    assert expected and set(feeds.listed(query)) == expected


def test_filter_schedules(feeds: Feeds) -> None:
    monday = feeds.ids("?s schema:hoursAvailable/schema:dayOfWeek schema:Monday")
    assert monday and set(feeds.listed("day=MO")) == monday == set(feeds.listed("day=monday"))
    window = feeds.ids('?s schema:hoursAvailable ?h . ?h schema:dayOfWeek schema:Friday ; schema:opens ?o ; '
                       'schema:closes ?c FILTER(?o >= "09:00:00"^^xsd:time && ?c <= "16:00:00"^^xsd:time)')
    assert window and set(feeds.listed("day=FR&start_time=09:00&end_time=16:00")) == window
    assert set(feeds.listed("start_time=13:00")) == feeds.ids(
        '?s schema:hoursAvailable/schema:opens ?o FILTER(?o >= "13:00:00"^^xsd:time)')


def test_filter_postcode(feeds: Feeds) -> None:
    expected = feeds.ids('?s schema:availableChannel/schema:serviceLocation/schema:address/schema:postalCode '
                         '"BS8 1TH"')
    assert expected and set(feeds.listed("postcode=bs81th")) == expected
    pages = all_pages(feeds.client, "/api/service_at_locations?postcode=BS8%201TH", 100)
    sal = [c["service_id"] for body in pages for c in body["contents"]]
    assert set(sal) == expected


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    import math

    (la1, lo1), (la2, lo2) = (tuple(map(math.radians, p)) for p in (a, b))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(h))


@pytest.mark.parametrize("radius", [300, 1000, 2500])
def test_filter_proximity(feeds: Feeds, radius: int) -> None:
    """Against great-circle distances worked out here from the feed itself."""
    services = synthetic_feed()
    places = [(s["id"], sal["location"]) for s in services for sal in s.get("service_at_locations", [])]
    at = list({p["id"]: (p["latitude"], p["longitude"]) for _, p in places
               if p["addresses"][0]["postal_code"] == "BS2 0JA"}.values())   # each place once
    centre = (sum(p[0] for p in at) / len(at), sum(p[1] for p in at) / len(at))
    dist = {sid: _metres(centre, (p["latitude"], p["longitude"])) for sid, p in places}
    inside = {sid for sid, d in dist.items() if d <= radius * 0.995}
    unsure = {sid for sid, d in dist.items() if radius * 0.995 < d <= radius * 1.005}
    got = set(feeds.listed(f"postcode=BS2%200JA&proximity={radius}"))
    assert inside and inside <= got <= inside | unsure
    assert feeds.listed("postcode=EH1%201YZ&proximity=5000") == []   # a postcode the data does not know


# -- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("query", "parameter"), [
    ("page=0", "page"), ("page=-1", "page"), ("per_page=abc", "per_page"), ("per_page=1001", "per_page"),
    ("per_page=0", "per_page"), ("page=1&page=2", "page"), ("minimum_age=young", "minimum_age"),
    ("maximum_age=-3", "maximum_age"), ("modified_after=yesterday", "modified_after"), ("day=XX", "day"),
    ("start_time=25:00", "start_time"), ("end_time=9am", "end_time"), ("postcode=nowhere", "postcode"),
    ("proximity=500", "proximity"), ("postcode=BS1%205TH&proximity=far", "proximity")])
def test_bad_parameters_are_400_naming_them(feeds: Feeds, query: str, parameter: str) -> None:
    for path in ("/api/services", "/api/service_at_locations") + (
            ("/api/taxonomies", "/api/taxonomy_terms") if parameter in PAGING else ()):
        body = get(feeds.client, f"{path}?{query}", 400)
        assert body["parameter"] == parameter and parameter in body["message"]


@pytest.mark.parametrize("path", ["services", "service_at_locations", "taxonomies", "taxonomy_terms"])
def test_unknown_ids_are_404_json(feeds: Feeds, path: str) -> None:
    for ident in ("ac148810-d857-441c-9679-408f346de14b", derived_id("https://nowhere.example/"), "nope"):
        body = get(feeds.client, f"/api/{path}/{ident}", 404)
        assert body["status"] == 404 and ident in body["message"]
    assert get(feeds.client, "/api/no_such_endpoint", 404)["status"] == 404


def test_not_modified(feeds: Feeds) -> None:
    first = feeds.client.get("/api/services?per_page=3")
    again = feeds.client.get("/api/services?per_page=3", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


# -- the OpenAPI document --------------------------------------------------------------------
def test_openapi_describes_exactly_what_is_served(feeds: Feeds) -> None:
    doc = get(feeds.client, "/api/openapi.json")
    served = {re.sub(r"<(?:path:)?(\w+)>", r"{id}", r.rule[len("/api"):]) or "/"
              for r in feeds.app.url_map.iter_rules() if r.endpoint.startswith("oruk.")}
    served.discard("/{id}")  # the catch-all that answers 404
    assert set(doc["paths"]) == served == set(ENDPOINTS)
    params = doc["components"]["parameters"]
    for path, item in doc["paths"].items():
        names = {p.get("name") or params[p["$ref"].rsplit("/", 1)[-1]]["name"]
                 for p in item["get"].get("parameters", [])}
        if path in ("/services", "/service_at_locations"):
            assert names == set(PAGING) | set(SERVICE_FILTERS)
        elif path in ("/taxonomies", "/taxonomy_terms"):
            assert names == set(PAGING)
        elif "{id}" in path:
            assert names == {"id"}
        for code, response in item["get"]["responses"].items():
            body = response["content"]["application/json"]["schema"]
            refs = re.findall(r'"\$ref": "(http[^"]+)"', json.dumps(body))
            assert all(ref in RESPONSE_SCHEMAS.values() for ref in refs), (path, code)
    assert doc["servers"] == [{"url": "http://localhost/api"}]


def test_configurable_prefix(tmp_path: Path) -> None:
    settings = load_settings({"store": str(tmp_path / "store"), "base_uri": BASE}, environ={})
    ingest(open_store(settings), settings, str(SOURCES["uk-profile"] / "service_full.json"),
           authority="E06000023")
    client = make_app(tmp_path / "store", oruk_prefix="/oruk/v3/").test_client()
    assert get(client, "/oruk/v3/services")["total_items"] == 1
    assert get(client, "/oruk/v3/")["openapi_url"] == "http://localhost/oruk/v3/openapi.json"
    assert get(client, "/oruk/v3/openapi.json")["servers"] == [{"url": "http://localhost/oruk/v3"}]
    assert client.get("/api/services").status_code == 404


# -- round trip: ORUK -> RDF -> ORUK ---------------------------------------------------------
WITHHELD = {"assurer_email": "personal data: the ingest never maps it (mapping doc §3: do not publish)"}
IMPLIED = ("service_id", "location_id", "organization_id", "link_id", "phone_id", "contact_id",
           "service_at_location_id")
"""Foreign keys a nested input object may carry, naming an enclosing or embedded object: the
RDF holds them as the nesting link itself."""
ADDED = {
    "organization_id": "a service's provider (the service_list schema's core field)",
    "service.organization_id": "the same, on the service inside a service_at_location",
    "attributes[].taxonomy_term_id": "the id of the attribute's embedded taxonomy_term",
    "service.attributes[].taxonomy_term_id": "the same, inside a service_at_location",
    "service_id": "a service_at_location's service (embedded in the input)",
    "location_id": "a service_at_location's location (embedded in the input)",
    "taxonomy_terms[].taxonomy_id": "the taxonomy a term is listed under (nesting, in the input)",
}
DERIVED = {  # field (at any depth) -> how it is served when the input left it out
    "attributes[].taxonomy_term_id": "the id of the attribute's embedded taxonomy_term",
    "taxonomy_term.term": "ORUK's legacy term: the term's name when the source gave no different term",
    "taxonomy_term.taxonomy": "the IRI of the term's taxonomy when the source gave only taxonomy_id",
    "service_areas[].service_area": "ORUK's legacy text: the area's name when the source gave no other",
    "service_areas[].name": "the area's legacy service_area text when the source gave no name",
    "accessibility[].accessibility": "ORUK's legacy text: the description when the source gave no other",
    "accessibility[].description": "the legacy accessibility text when the source gave no description",
}
"""Fields the profile's ORUK v1 legacy texts and nesting let the API fill in (documented in the
OpenAPI description): served though not given, never a loss."""
HTML_FIELDS = {"description", "alert", "accreditations", "notes", "details", "fees"}
PERSONAL = re.compile(r"(service\.)?contacts\[\d+\]\.name|"
                      r"(service_at_locations\[\d+\]\.)?location\.addresses\[\d+\]\.attention")
"""Names of people: served only when the site publishes them (publish_contact_names)."""


def unexplained(added: set[str]) -> set[str]:
    """The fields served but not given that neither ADDED nor DERIVED explains."""
    return {p for p in added if p not in ADDED and not any(p == k or p.endswith("." + k) for k in DERIVED)}


def _field(path: str) -> str:
    return re.sub(r"\[\d+\]", "", path.rsplit(".", 1)[-1])


def same(path: str, given: Any, served: Any) -> bool:
    """Equal after the ingest's documented normalisation of this field."""
    field = _field(path)
    if isinstance(given, bool) or isinstance(served, bool):
        return given == served
    if isinstance(given, (int, float)):
        return isinstance(served, (int, float)) and Decimal(str(given)) == Decimal(str(served))
    if not isinstance(given, str) or not isinstance(served, str):
        return given == served
    if field == "last_modified":   # the same instant (Oxigraph drops trailing fraction zeros)
        def at(v: str) -> dt.datetime:
            return dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
        return at(given) == at(served)
    if field == "postal_code":
        return normalise_postcode(given) == served
    if field == "name":
        return clean_name(given) == served
    if field in HTML_FIELDS:
        return clean_text(given) == served
    return given.strip() == served


def compare(given: Any, served: Any, path: str = "",
            ids: tuple[Any, ...] = ()) -> tuple[dict[str, str], set[str]]:
    """Field-by-field differences (path -> what is wrong) and the fields served but not given
    (generic paths, list indices as [])."""
    diffs: dict[str, str] = {}
    added: set[str] = set()
    if isinstance(given, dict) and isinstance(served, dict):
        ids = ids + ((given["id"],) if "id" in given else ())
        for k, v in given.items():
            p = f"{path}.{k}" if path else k
            if k in WITHHELD:
                if k in served:
                    diffs[p] = "withheld field is served"
            elif k not in served:
                child = given.get(k[:-3]) if k.endswith("_id") else None
                if not (k in IMPLIED and (v in ids or isinstance(child, dict) and child.get("id") == v)):
                    diffs[p] = f"missing (given {v!r:.80})"
            else:
                d, a = compare(v, served[k], p, ids)
                diffs.update(d)
                added |= a
        added |= {re.sub(r"\[\d+\]", "[]", f"{path}.{k}" if path else k)
                  for k in served.keys() - given.keys()}
    elif isinstance(given, list) and isinstance(served, list):
        by_id = {s.get("id"): s for s in served if isinstance(s, dict)}
        for i, g in enumerate(given):
            match = by_id.get(g.get("id")) if isinstance(g, dict) else \
                (served[i] if i < len(served) else None)
            if match is None:
                diffs[f"{path}[{i}]"] = "missing"
                continue
            d, a = compare(g, match, f"{path}[{i}]", ids)
            diffs.update(d)
            added |= a
        if len(served) != len(given):
            diffs[path] = f"{len(served)} items served, {len(given)} given"
    elif not same(path, given, served):
        diffs[path] = f"served {served!r:.80}, given {given!r:.80}"
    return diffs, added


def served_store(tmp: Path, source: Path, **config: Any) -> FlaskClient:
    settings = load_settings({"store": str(tmp / "store"), "base_uri": BASE, **config}, environ={})
    store = open_store(settings)
    report = ingest(store, settings, str(source), authority="E06000023")
    assert not report.rejected
    store.close()
    return make_app(tmp / "store", **config).test_client()


ROUND_TRIPS = {  # payload -> (endpoint, listed in a page?)
    "service_full.json": ("/api/services/{id}", False),
    "service_list.json": ("/api/services", True),
    "service_at_location_full.json": ("/api/service_at_locations/{id}", False),
    "service_at_location_list.json": ("/api/service_at_locations", True),
    "taxonomy.json": ("/api/taxonomies/{id}", False),
    "taxonomy_list.json": ("/api/taxonomies", True),
    "taxonomy_term.json": ("/api/taxonomy_terms/{id}", False),
    "taxonomy_term_list.json": ("/api/taxonomy_terms", True),
}


@pytest.mark.parametrize(("source", "payload", "names"), [
    pytest.param(source, payload, names, id=f"{source}-{payload}" + ("-contact-names" if names else ""))
    for source in sorted(SOURCES) for payload in sorted(ROUND_TRIPS)
    for names in ((False, True) if payload.startswith("service") else (False,))])
def test_round_trip(tmp_path: Path, source: str, payload: str, names: bool) -> None:
    """Ingest an ORUK 3.0 payload, serve it, and get back every field the profile carries."""
    path = SOURCES[source] / payload
    given = json.loads(path.read_text(encoding="utf-8"))
    client = served_store(tmp_path, path, publish_contact_names=names)
    endpoint, listed = ROUND_TRIPS[payload]
    items = given["contents"] if listed else [given]
    kind = {"services": "service", "service_at_locations": "service_at_location",
            "taxonomies": "taxonomy", "taxonomy_terms": "taxonomy_term"}[endpoint.split("/")[2]]
    for item in items:
        if listed:
            body = get(client, endpoint + "?per_page=1000")
            check(body, kind + ("_list" if kind.startswith("service") else ""), paged=True)
            served = next(s for s in body["contents"] if s["id"] == item["id"])
        else:
            served = get(client, endpoint.format(id=item["id"]))
            check(served, kind)
        diffs, added = compare(item, served)
        if not names:  # names of people are personal data, withheld unless the publisher opts in
            for p, why in list(diffs.items()):
                if PERSONAL.fullmatch(p):
                    assert why.startswith("missing")
                    del diffs[p]
        assert not diffs, json.dumps(diffs, indent=1)
        assert not unexplained(added), unexplained(added)
        assert not any(k in json.dumps(served) for k in ('"assurer_email"',))


def test_round_trip_root(tmp_path: Path) -> None:
    """The validator's API root document: the same version and profile."""
    given = json.loads((SOURCES["validator-default"] / "api_details.json").read_text(encoding="utf-8"))
    root = get(served_store(tmp_path, SOURCES["validator-default"] / "service_full.json"), "/api/")
    assert (root["version"], root["profile"]) == (given["version"], given["profile"])


# -- every field of the profile, one test each ------------------------------------------------
EVERY_FIELD = ORUK / "every-field-service.json"
SERVICE_SCHEMA = REGISTRY.contents(RESPONSE_SCHEMAS["service"])


def leaf_paths(value: Any, path: str = "") -> list[str]:
    """The fields of a payload, one path each (a whole attribute counts as one field)."""
    if isinstance(value, dict):
        return [p for k, v in value.items() if k not in WITHHELD
                for p in leaf_paths(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list) and not path.endswith("attributes"):
        return [p for i, v in enumerate(value) for p in leaf_paths(v, f"{path}[{i}]")]
    if isinstance(value, list):
        return [f"{path}[{i}]" for i in range(len(value))]
    return [path]


def schema_leaves(schema: dict[str, Any], path: str = "") -> list[str]:
    """Every scalar field of a (compiled, $ref-free) schema, arrays as `[]`."""
    if "properties" in schema:
        return [p for k, v in schema["properties"].items()
                for p in schema_leaves(v, f"{path}.{k}" if path else k)]
    if "items" in schema:
        return schema_leaves(schema["items"], path + "[]")
    return [path]


def payload_leaves(value: Any, path: str = "") -> set[str]:
    """Every scalar field a payload fills in, arrays as `[]`."""
    if isinstance(value, dict):
        return {p for k, v in value.items() for p in payload_leaves(v, f"{path}.{k}" if path else k)}
    if isinstance(value, list):
        return {p for v in value for p in payload_leaves(v, path + "[]")}
    return {path}


EveryField = tuple[dict[str, str], set[str], Any]


@pytest.fixture(scope="module")
def every_field(tmp_path_factory: pytest.TempPathFactory) -> EveryField:
    client = served_store(tmp_path_factory.mktemp("every-field"), EVERY_FIELD, publish_contact_names=True)
    given = json.loads(EVERY_FIELD.read_text(encoding="utf-8"))
    served = get(client, f"/api/services/{given['id']}")
    check(served, "service")
    diffs, added = compare(given, served)
    return diffs, added, served


def related(a: str, b: str) -> bool:
    """True when one path is the other or inside it."""
    return a == b or a.startswith((b + ".", b + "[")) or b.startswith((a + ".", a + "["))


def test_every_field_payload_fills_in_every_field_of_the_profile() -> None:
    """So that the comparisons below are over every field the profile's service carries."""
    given = payload_leaves(json.loads(EVERY_FIELD.read_text(encoding="utf-8")))
    missing = set(schema_leaves(SERVICE_SCHEMA)) - given
    assert not missing, sorted(missing)


@pytest.mark.parametrize("field", leaf_paths(json.loads(EVERY_FIELD.read_text(encoding="utf-8"))))
def test_every_profile_field_round_trips(every_field: EveryField, field: str) -> None:
    wrong = {p: why for p, why in every_field[0].items() if related(p, field)}
    assert not wrong, wrong


def test_every_field_loses_nothing(every_field: EveryField) -> None:
    diffs, added, served = every_field
    assert not diffs, diffs
    assert not unexplained(added), unexplained(added)
    assert "assurer_email" not in served


# -- each field alone: nothing lost or made up when the rest of its object is absent -----------
SPARSE_NS = uuid.UUID("5e7d2f0a-3c1b-4d5e-8f9a-0b1c2d3e4f50")


def _tokens(path: str) -> list[str]:
    return [t for t in re.split(r"\.|(\[\])", path) if t]


def _keep(value: Any, schema: dict[str, Any], steps: list[str]) -> Any:
    """*value* cut down to the fields its schema requires along *steps*, plus the last step."""
    if not steps:
        return value
    if steps[0] == "[]":
        return [_keep(value[0], schema["items"], steps[1:])]
    out = {k: value[k] for k in schema.get("required", []) if k in value}
    out[steps[0]] = _keep(value[steps[0]], schema["properties"][steps[0]], steps[1:])
    return out


def _renamed(value: Any, tag: str, n: int) -> Any:
    """*value* with every UUID (ids and references alike) and term URI made unique to *tag*, so
    that the variants' shared nodes (organisations, terms) do not meet in one source."""
    if isinstance(value, dict):
        return {k: _renamed(v, tag, n) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, tag, n) for v in value]
    if isinstance(value, str) and re.fullmatch(UUID_RE, value):
        return str(uuid.uuid5(SPARSE_NS, f"{tag} {value}"))
    if isinstance(value, str) and value.startswith("https://example.org/terms/"):
        return f"{value}-{n}"
    return value


UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
SPARSE_FIELDS = [p for p in schema_leaves(SERVICE_SCHEMA) if p not in ("id", "name", "status")]


def sparse_service(field: str, n: int) -> dict[str, Any]:
    """The every-field service cut down to the required fields plus *field*."""
    full = json.loads(EVERY_FIELD.read_text(encoding="utf-8"))
    return _renamed(_keep(full, SERVICE_SCHEMA, _tokens(field)), field, n)


@pytest.fixture(scope="module")
def sparse(tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    tmp = tmp_path_factory.mktemp("sparse")
    feed = [sparse_service(f, n) for n, f in enumerate(SPARSE_FIELDS)]
    (tmp / "sparse.json").write_text(json.dumps(feed), encoding="utf-8")
    return served_store(tmp, tmp / "sparse.json", publish_contact_names=True)


@pytest.mark.parametrize("field", SPARSE_FIELDS)
def test_each_field_alone_round_trips(sparse: FlaskClient, field: str) -> None:
    given = sparse_service(field, SPARSE_FIELDS.index(field))
    assert field in payload_leaves(given)
    served = get(sparse, f"/api/services/{given['id']}")
    check(served, "service")
    diffs, added = compare(given, served)
    assert not diffs, diffs
    assert not unexplained(added), unexplained(added)


# -- names of people ----------------------------------------------------------------------------
@pytest.mark.parametrize("names", [False, True])
def test_attention_and_contact_names_follow_the_setting(tmp_path: Path, names: bool) -> None:
    """address.attention ("A. Persona" in the profile's example) and contact names are in the
    store and served only when publish_contact_names is on; assurer emails never."""
    source = SOURCES["uk-profile"] / "service_full.json"
    given = json.loads(source.read_text(encoding="utf-8"))
    attention = given["service_at_locations"][0]["location"]["addresses"][0]["attention"]
    contact = given["contacts"][0]["name"]
    client = served_store(tmp_path, source, publish_contact_names=names)
    served = get(client, f"/api/services/{given['id']}")
    address = served["service_at_locations"][0]["location"]["addresses"][0]
    assert address.get("attention") == (attention if names else None)
    assert served["contacts"][0].get("name") == (contact if names else None)
    sal = get(client, f"/api/service_at_locations/{given['service_at_locations'][0]['id']}")
    assert sal["location"]["addresses"][0].get("attention") == (attention if names else None)
    for body in (served, sal):
        text = json.dumps(body)
        assert (attention in text) == names and (contact in text) == names
        assert "assurer_email" not in text
    settings = load_settings({"store": str(tmp_path / "store"), "base_uri": BASE}, environ={})
    store = open_store(settings)
    try:
        held = {r["v"].value for r in store.select(
            f"{PREFIXES}SELECT ?v WHERE {{ {{ ?a hsds:attention ?v }} UNION {{ ?c a schema:ContactPoint ; "
            "schema:name ?v } UNION { ?s hsds:assurerEmail ?v } }")}
    finally:
        store.close()
    assert held == ({attention, contact} if names else set())


def test_names_in_the_store_are_withheld_when_the_site_does_not_publish_them(tmp_path: Path) -> None:
    """Ingested with names, served by a site whose setting is off: the API withholds them."""
    source = SOURCES["uk-profile"] / "service_full.json"
    given = json.loads(source.read_text(encoding="utf-8"))
    served_store(tmp_path, source, publish_contact_names=True)
    client = make_app(tmp_path / "store", publish_contact_names=False).test_client()
    text = json.dumps(get(client, f"/api/services/{given['id']}"))
    assert "A. Persona" not in text and "Ann Persona" not in text
    doc = get(client, "/api/openapi.json")
    assert "withheld" in doc["info"]["description"]
