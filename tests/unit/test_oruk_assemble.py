"""publisher/oruk: ids, parameters, SPARQL fragments and the RDF -> ORUK assembly, on small
in-memory graphs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pyoxigraph as ox
import pytest
from localoffer.ingest.mapping import Mapper
from localoffer.publisher.oruk import assemble
from localoffer.publisher.oruk.cache import OrderCache
from localoffer.publisher.oruk.fetch import SERVICE_FULL, Index, page_of, tree
from localoffer.publisher.oruk.filters import find_nodes, postcode_point
from localoffer.publisher.oruk.ids import derived_id, is_uuid, oruk_id, sparql_derived_id
from localoffer.publisher.oruk.params import BadParameter, Filters, Paging, read_filters, read_paging

from localoffer import namespaces as ns
from localoffer.store import Store

BASE = "https://localoffer.test"
S, H, LO = ns.SCHEMA, ns.HSDS, ns.LO


class MemoryStore(Store):
    """Just enough of the Store interface for the queries of publisher/oruk."""

    def __init__(self, turtle: str = "") -> None:
        self.db = ox.Store()
        if turtle:
            self.db.load(turtle.encode(), ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(BASE + "/graph/t"))

    def query(self, sparql: str, *, default_graph: Any = None, named_graphs: Any = None) -> Any:
        return self.db.query(sparql, use_default_graph_as_union=True)

    def named_graphs(self) -> list[str]:
        return []

    ver = "1"

    def version(self) -> str:
        return self.ver

    def write(self) -> Any:
        raise NotImplementedError

    def dump(self, out: Any, fmt: str = "nq", graph: str | None = None) -> None:
        raise NotImplementedError


def mapped(record: dict[str, Any], *, names: bool = False) -> MemoryStore:
    """A store holding what the ingest's mapper makes of one HSDS service."""
    mapper = Mapper(BASE, "E06000023", publish_names=names)
    return MemoryStore("".join(line for rec in mapper.map_service(record, "test") for line in rec.lines))


def one_service(store: MemoryStore, ident: str) -> dict[str, Any]:
    """The full service, as a site that publishes names serves it (the ingest decides if any)."""
    node = ns.mint(BASE, "service", ident)
    index = tree(store, [node], SERVICE_FULL, index=Index(publish_names=True))
    return assemble.service(index, node, full=True)


SID = "ac148810-d857-441c-9679-408f346de14b"
TERM = "3f7b145d-84af-42d7-8fae-eaca714b02b2"
SCHEDULE = "48102e86-bb50-41c4-8f1e-e269368c41d1"
SAL = "e94c9f38-1e8f-4564-91d4-d53501ab1765"
PLACE = "3a19ff88-4620-4d17-9830-ac1d859eb5d5"
COST = "1fdf4d39-3d80-484d-9f92-a8ffa08621e7"
TAXONOMY = "5c4d79d7-cc55-470e-9f1f-8cad074e4892"
CONTACT = "1e7efce3-639b-4880-940c-b95cd30cdb50"


# -- ids -------------------------------------------------------------------------------------
@pytest.mark.parametrize("iri", ["https://w3id.org/localoffer/def/scheme/need/asd", "http://example.com",
                                 "https://x.test/id/taxonomy-term/e06000023-Homeless%20people", "urn:x:é"])
def test_derived_id_is_a_uuid_and_the_same_in_sparql(iri: str) -> None:
    ident = derived_id(iri)
    assert is_uuid(ident) and ident[14] == "8" and ident[19] in "89ab"
    row = next(iter(MemoryStore().query(f"SELECT ({sparql_derived_id('?x')} AS ?id) WHERE "
                                        f"{{ BIND(<{iri}> AS ?x) }}")))
    assert row["id"].value == ident


def test_oruk_id_prefers_uuid_identifiers_then_minted_uuids() -> None:
    minted = f"{BASE}/id/service/{SID}"
    assert oruk_id(minted, SID.upper()) == SID.upper()
    assert oruk_id(minted, None) == SID
    other = f"{BASE}/id/service/e06000023-123"
    assert oruk_id(other, "123") == derived_id(other)


def test_find_nodes_by_identifier_minted_iri_and_derivation() -> None:
    store = mapped({"id": SID, "name": "Play", "attributes": [{"taxonomy_term": {
        "id": TERM, "name": "n", "description": "d"}}]})
    node = ns.mint(BASE, "service", SID)
    assert find_nodes(store, BASE, SID.upper(), "service", (S + "Service",)) == [node]
    assert find_nodes(store, BASE, TERM, "taxonomy-term",
                      (ns.SKOS + "Concept",)) == [ns.mint(BASE, "taxonomy-term", TERM)]
    store.db.load(b"<https://w3id.org/c> a <http://www.w3.org/2004/02/skos/core#Concept> .",
                  ox.RdfFormat.TURTLE)
    assert find_nodes(store, BASE, derived_id("https://w3id.org/c"), "taxonomy-term",
                      (ns.SKOS + "Concept",)) == ["https://w3id.org/c"]
    assert find_nodes(store, BASE, derived_id("https://w3id.org/other"), "taxonomy-term",
                      (ns.SKOS + "Concept",)) == []


def test_page_of_orders_by_id_and_counts_once_per_version() -> None:
    ids = sorted(f"{n:08x}-0000-4000-8000-000000000000" for n in (5, 3, 9, 1, 7))
    store = MemoryStore("".join(f"<{ns.mint(BASE, 'service', i)}> a <{S}Service> .\n" for i in ids))
    cache = OrderCache()
    pattern = f"?s a <{S}Service> ."
    first, total = page_of(store, pattern, "?s", Paging(1, 2), cache)
    assert total == 5 and first == [ns.mint(BASE, "service", i) for i in ids[:2]]
    assert page_of(store, pattern, "?s", Paging(3, 2), cache) == ([ns.mint(BASE, "service", ids[4])], 5)
    assert page_of(store, pattern, "?s", Paging(4, 2), cache) == ([], 5)
    store.db.update(f"DELETE WHERE {{ GRAPH ?g {{ <{ns.mint(BASE, 'service', ids[0])}> ?p ?o }} }}")
    assert page_of(store, pattern, "?s", Paging(1, 2), cache)[1] == 5      # same version: cached
    store.ver = "2"
    assert page_of(store, pattern, "?s", Paging(1, 2), cache)[1] == 4


def test_order_cache_is_bounded() -> None:
    cache = OrderCache(max_ids=5)
    assert cache.get(("1", "a"), lambda: list("abc")) == list("abc")
    cache.get(("1", "b"), lambda: list("de"))
    cache.get(("1", "c"), lambda: list("fg"))       # 7 > 5: the oldest goes
    assert cache.get(("1", "a"), lambda: ["again"]) == ["again"]
    assert cache.get(("1", "big"), lambda: list("abcdefgh")) == list("abcdefgh")  # too big to keep
    assert cache.get(("1", "big"), lambda: ["x"]) == ["x"]


# -- parameters ------------------------------------------------------------------------------
def test_paging_defaults_and_limits() -> None:
    assert read_paging({}) == Paging(1, 50)
    assert read_paging({"page": ["3"], "per_page": ["1000"]}) == Paging(3, 1000)
    for args, name in (({"page": ["0"]}, "page"), ({"per_page": ["abc"]}, "per_page"),
                       ({"per_page": ["1001"]}, "per_page"), ({"page": ["1", "2"]}, "page"),
                       ({"page": ["1.5"]}, "page"), ({"per_page": [""]}, "per_page")):
        with pytest.raises(BadParameter) as err:
            read_paging(args)
        assert err.value.parameter == name and name in str(err.value)


def test_filters_are_normalised() -> None:
    f = read_filters({"search": ["  Autism  SUPPORT autism "], "postcode": ["bs15th"],
                      "proximity": ["1500"], "day": ["monday"], "start_time": ["09:30"],
                      "modified_after": ["2024-06-01T10:00:00+01:00"], "minimum_age": ["5"],
                      "format": ["json"]})
    assert f.search == ("autism", "support") and f.postcode == "BS1 5TH" and f.proximity == Decimal(1500)
    assert f.day == "Monday" and f.start_time == "09:30:00" and f.minimum_age == Decimal(5)
    assert f.modified_after == "2024-06-01T09:00:00Z"
    assert read_filters({"modified_after": ["2024-06-01"]}).modified_after == "2024-06-01T00:00:00Z"
    assert read_filters({"day": ["SU"]}).day == "Sunday" and read_filters({"search": [""]}) == Filters()


@pytest.mark.parametrize(("args", "name"), [
    ({"proximity": ["100"]}, "proximity"), ({"postcode": ["BS1"]}, "postcode"),
    ({"day": ["Mondays"]}, "day"), ({"end_time": ["24:00"]}, "end_time"),
    ({"maximum_age": ["NaN"]}, "maximum_age"), ({"search": [" ".join("abcdefghijk")]}, "search"),
    ({"postcode": ["BS1 5TH"], "proximity": ["0"]}, "proximity")])
def test_bad_filters(args: dict[str, list[str]], name: str) -> None:
    with pytest.raises(BadParameter) as err:
        read_filters(args)
    assert err.value.parameter == name


# -- assembly ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("given", "served"), [
    ("http://example.com/x", "http://example.com/x"), ("www.example.org/a b", "http://www.example.org/a%20b"),
    ("http:www.example.co.uk", "http://www.example.co.uk"), ("https:/example.org", "https://example.org"),
    ("Warmley Community Centre", None), ("mailto:a@b.org", "mailto:a@b.org"), ("https://", None)])
def test_uri_repairs_council_urls(given: str, served: str | None) -> None:
    assert assemble.uri(given) == served


def test_service_defaults_for_required_fields() -> None:
    store = MemoryStore(f"<{BASE}/id/service/x> <{ns.RDF}type> <{S}Service> .\n")
    node = f"{BASE}/id/service/x"
    out = assemble.service(tree(store, [node], SERVICE_FULL), node, full=True)
    assert out == {"id": derived_id(node), "name": "", "status": "active"}


def test_schedule_keeps_byday_order_from_the_rule_and_orders_days_otherwise() -> None:
    store = mapped({"id": SID, "name": "Play", "schedules": [
        {"id": SCHEDULE, "freq": "WEEKLY", "byday": "FR,MO", "opens_at": "9:00"}]})
    sched = one_service(store, SID)["schedules"][0]
    assert sched["byday"] == "FR,MO" and sched["opens_at"] == "09:00:00"
    node = ns.mint(BASE, "schedule", SCHEDULE)
    store.db.update(f"DELETE WHERE {{ GRAPH ?g {{ <{node}> <{H}rrule> ?r }} }}")
    assert one_service(store, SID)["schedules"][0]["byday"] == "MO,FR"


def test_location_coordinates_and_identifiers() -> None:
    store = mapped({"id": SID, "name": "Play", "service_at_locations": [{"id": SAL,
        "location": {"id": PLACE, "location_type": "physical", "latitude": 100,
                     "longitude": 101, "external_identifier": "X1"}}]})
    loc = one_service(store, SID)["service_at_locations"][0]["location"]
    assert (loc["latitude"], loc["longitude"]) == (100, 101)      # kept although not WGS84
    assert loc["external_identifier"] == "X1" and "external_identifier_type" not in loc


def test_send_concepts_and_categories_are_attributes() -> None:
    need = f"{ns.SCHEME}need/asd"
    store = mapped({"id": SID, "name": "Play", "attributes": [
        {"taxonomy_term": {"id": TERM, "name": "Swimming", "description": "d",
                           "taxonomy_id": TAXONOMY}}]})
    node = ns.mint(BASE, "service", SID)
    store.db.load((f"<{node}> <{LO}needCategory> <{need}> .\n<{need}> a <{ns.SKOS}Concept> ; "
                   f'<{ns.SKOS}prefLabel> "Autism"@en ; <{ns.SKOS}broader> <{ns.SCHEME}need/ci> ; '
                   f"<{ns.SKOS}inScheme> <{ns.SCHEME}need> .\n"
                   f"<{node}> <{LO}localAuthority> <{BASE}/id/authority/E06000023> .\n").encode(),
                  ox.RdfFormat.TURTLE)
    attrs = one_service(store, SID)["attributes"]
    by_term = {a["taxonomy_term"]["name"]: a for a in attrs}
    assert set(by_term) == {"Swimming", "Autism"}
    autism = by_term["Autism"]
    assert autism["link_type"] == "needCategory" and autism["link_id"] == SID
    scheme = f"{ns.SCHEME}need"
    assert autism["taxonomy_term"] == {"id": derived_id(need), "name": "Autism", "description": "",
                                       "parent_id": derived_id(f"{scheme}/ci"), "taxonomy": scheme,
                                       "taxonomy_id": derived_id(scheme), "term_uri": need, "term": "Autism"}
    swim = by_term["Swimming"]["taxonomy_term"]
    assert swim["taxonomy_id"] == TAXONOMY and "term_uri" not in swim


def test_contact_names_only_when_the_ingest_published_them() -> None:
    record = {"id": SID, "name": "Play", "contacts": [{"id": CONTACT,
                                                        "name": "Ann Persona", "title": "Manager"}]}
    assert one_service(mapped(record), SID)["contacts"] == [
        {"id": CONTACT, "title": "Manager"}]
    assert one_service(mapped(record, names=True), SID)["contacts"][0]["name"] == "Ann Persona"


def test_status_and_fees_and_cost_options() -> None:
    store = mapped({"id": SID, "name": "Play", "status": "temporarily closed", "fees": "<p>£2</p>",
                    "fees_description": "Free for carers", "cost_options": [
                        {"id": COST, "option": "Session", "amount": "2.50"}]})
    out = one_service(store, SID)
    assert out["status"] == "temporarily closed" and out["fees"] == "£2"
    assert out["cost_options"] == [{"id": COST, "option": "Session",
                                     "amount": 2.5}]


def test_postcode_point_from_gazetteer_then_places() -> None:
    store = MemoryStore(f'<{BASE}/id/location/l> <{S}address> <{BASE}/a> ; <{S}geo> <{BASE}/g> .\n'
                        f'<{BASE}/a> <{S}postalCode> "BS1 5TH" .\n'
                        f'<{BASE}/g> <{S}latitude> "51.45"^^<{ns.XSD}decimal> ; '
                        f'<{S}longitude> "-2.59"^^<{ns.XSD}decimal> .\n')
    assert postcode_point(store, "BS1 5TH") == (51.45, -2.59)
    assert postcode_point(store, "BS2 0AA") is None
    store.db.load((f"<http://data.ordnancesurvey.co.uk/id/postcodeunit/BS15TH> <{ns.WGS}lat> 51.4 ; "
                   f"<{ns.WGS}long> -2.6 .").encode(), ox.RdfFormat.TURTLE)
    assert postcode_point(store, "BS1 5TH") == (51.4, -2.6)


def test_send_concepts_on_the_organisation_too() -> None:
    org = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
    store = mapped({"id": SID, "name": "Play",
                    "organization": {"id": org, "name": "Trust", "description": "d"}})
    kind = f"{ns.SCHEME}provider-type/academy"
    store.db.load((f"<{ns.mint(BASE, 'organization', org)}> <{LO}providerType> <{kind}> .\n"
                   f'<{kind}> a <{ns.SKOS}Concept> ; <{ns.SKOS}prefLabel> "Academy"@en .\n').encode(),
                  ox.RdfFormat.TURTLE)
    attrs = one_service(store, SID)["organization"]["attributes"]
    assert [(a["link_type"], a["link_id"], a["taxonomy_term"]["name"]) for a in attrs] == [
        ("providerType", org, "Academy")]


def test_names_of_people_are_withheld_when_the_index_says_so() -> None:
    """The API checks publish_contact_names again when serving (the store may hold names)."""
    record = {"id": SID, "name": "Play", "contacts": [{"id": CONTACT, "name": "Ann Persona"}],
              "service_at_locations": [{"id": SAL, "location": {"id": PLACE, "location_type": "physical",
                  "addresses": [{"id": COST, "attention": "A. Persona", "address_1": "1 Main St"}]}}]}
    store, node = mapped(record, names=True), ns.mint(BASE, "service", SID)
    for allowed in (True, False):
        out = assemble.service(tree(store, [node], SERVICE_FULL, index=Index(publish_names=allowed)),
                               node, full=True)
        address = out["service_at_locations"][0]["location"]["addresses"][0]
        assert address.get("attention") == ("A. Persona" if allowed else None)
        assert out["contacts"][0].get("name") == ("Ann Persona" if allowed else None)


def test_legacy_texts_from_their_own_properties_or_the_name() -> None:
    store = mapped({"id": SID, "name": "Play", "service_areas": [
        {"id": COST, "name": "Bristol", "service_area": "All of Bristol"}], "attributes": [
        {"taxonomy_term": {"id": TERM, "name": "Short", "description": "d", "term": "Legacy"}}]})
    out = one_service(store, SID)
    assert out["service_areas"] == [{"id": COST, "name": "Bristol", "service_area": "All of Bristol"}]
    assert out["attributes"][0]["taxonomy_term"]["term"] == "Legacy"
    # data mapped before the legacy texts had properties of their own: both are schema:name, so
    # which is which cannot be told, but both texts are still served
    area = ns.mint(BASE, "service-area", COST)
    store.db.update(f"DELETE WHERE {{ GRAPH ?g {{ <{area}> <{H}serviceAreaText> ?t }} }}")
    store.db.load(f'<{area}> <{S}name> "All of Bristol" .'.encode(), ox.RdfFormat.TURTLE)
    assert one_service(store, SID)["service_areas"] == [
        {"id": COST, "name": "All of Bristol", "service_area": "Bristol"}]


def test_references_a_nested_object_cannot_imply() -> None:
    """A schedule's service_at_location, a language's phone, and the location of a service at
    location whose location is not in the store."""
    phone = "6a0f5b7e-9a4e-4c41-8d0b-3e2f1a9c7d55"
    store = mapped({"id": SID, "name": "Play",
                    "schedules": [{"id": SCHEDULE, "byday": "MO", "service_at_location_id": SAL}],
                    "languages": [{"id": TAXONOMY, "phone_id": phone}],
                    "service_at_locations": [{"id": SAL, "location_id": PLACE}]})
    out = one_service(store, SID)
    assert out["schedules"][0]["service_at_location_id"] == SAL
    assert out["languages"] == [{"id": TAXONOMY, "phone_id": phone}]
    assert out["service_at_locations"] == [{"id": SAL, "location_id": PLACE}]


def test_one_coordinate_alone_is_served() -> None:
    store = mapped({"id": SID, "name": "Play", "service_at_locations": [{"id": SAL, "location": {
        "id": PLACE, "location_type": "physical", "latitude": 51.45}}]})
    loc = one_service(store, SID)["service_at_locations"][0]["location"]
    assert loc["latitude"] == 51.45 and "longitude" not in loc
