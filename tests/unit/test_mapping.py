"""ingest/mapping.py and parts.py: HSDS 3.0 dicts (and v1 dicts made alike) to N-Triples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from localoffer import namespaces as ns
from localoffer.errors import RecordError
from localoffer.ingest.mapping import MappedRecord, Mapper
from localoffer.ingest.records import from_v1

DATA = Path(__file__).resolve().parents[1] / "data"
BASE = "https://localoffer.test"
S, H, L = ns.SCHEMA, ns.HSDS, ns.LO
RDF_TYPE = ns.RDF + "type"
SID = "5a3e9f5e-58c7-4e0c-9b0f-1f4a1d3c2b10"
SVC = f"{BASE}/id/service/{SID}"


def triples(records: list[MappedRecord]) -> set[tuple[str, str, Any]]:
    """Parse the lines (so they must be valid N-Triples) into (s, p, o) with o a pyoxigraph term."""
    text = "".join(line for r in records for line in r.lines)
    return {(q.subject.value, q.predicate.value, q.object)
            for q in ox.parse(text.encode(), format=ox.RdfFormat.N_TRIPLES)}


def objects(g: set[tuple[str, str, Any]], s: str, p: str) -> list[Any]:
    return sorted((o for (s2, p2, o) in g if s2 == s and p2 == p), key=str)


def values(g: set[tuple[str, str, Any]], s: str, p: str) -> list[str]:
    return sorted(o.value for o in objects(g, s, p))


def service(**fields: Any) -> dict[str, Any]:
    return {"id": SID, "name": "Stay and Play", "status": "active", **fields}


@pytest.fixture
def mapper() -> Mapper:
    return Mapper(BASE, "E06000023")


class TestService:
    def test_minimal(self, mapper: Mapper) -> None:
        recs = mapper.map_service(service(), "feed.json record 1")
        assert [(r.kind, r.iri, r.name) for r in recs] == [("service", SVC, "Stay and Play")]
        g = triples(recs)
        assert values(g, SVC, RDF_TYPE) == [S + "Service"]
        assert values(g, SVC, S + "identifier") == [SID]
        assert values(g, SVC, ns.DCTERMS + "identifier") == [SID]
        assert values(g, SVC, S + "name") == ["Stay and Play"]
        assert values(g, SVC, L + "localAuthority") == [f"{BASE}/id/authority/E06000023"]
        assert values(g, SVC, H + "status") == [ns.SCHEME + "service-status/active"]

    def test_uuid_iri_is_lower_case(self, mapper: Mapper) -> None:
        recs = mapper.map_service(service(id=SID.upper()), "r")
        assert recs[0].iri == SVC

    def test_non_uuid_id_is_prefixed_by_authority(self, mapper: Mapper) -> None:
        recs = mapper.map_service(service(id="123 abc"), "r")
        assert recs[0].iri == f"{BASE}/id/service/e06000023-123%20abc"

    @pytest.mark.parametrize(("status", "slug"), [("Active", "active"), ("temporarily closed",
                                                  "temporarily-closed"), ("defunct", "defunct")])
    def test_status_concepts(self, mapper: Mapper, status: str, slug: str) -> None:
        g = triples(mapper.map_service(service(status=status), "r"))
        assert values(g, SVC, H + "status") == [ns.SCHEME + "service-status/" + slug]

    def test_unknown_status_rejected(self, mapper: Mapper) -> None:
        with pytest.raises(RecordError) as err:
            mapper.map_service(service(status="open"), "feed.json record 3")
        assert err.value.field == "status"
        assert f"feed.json record 3 (id {SID})" in str(err.value) and "'open'" in str(err.value)

    @pytest.mark.parametrize("name", [None, "", "   "])
    def test_name_required(self, mapper: Mapper, name: Any) -> None:
        d = service(name=name)
        with pytest.raises(RecordError) as err:
            mapper.map_service(d, "feed.json record 1")
        assert err.value.field == "name"
        assert err.value.record == f"feed.json record 1 (id {SID})"

    def test_id_required(self, mapper: Mapper) -> None:
        d = service()
        del d["id"]
        with pytest.raises(RecordError) as err:
            mapper.map_service(d, "feed.json record 9")
        assert (err.value.field, err.value.record) == ("id", "feed.json record 9")

    def test_id_must_be_a_string(self, mapper: Mapper) -> None:
        with pytest.raises(RecordError) as err:
            mapper.map_service(service(id={"x": 1}), "r")
        assert err.value.field == "id"

    def test_minimum_age_must_be_a_number(self, mapper: Mapper) -> None:
        with pytest.raises(RecordError) as err:
            mapper.map_service(service(minimum_age="five"), "feed.json record 2")
        assert err.value.field == "minimum_age"
        assert SID in str(err.value) and '"five"' in str(err.value)

    def test_negative_age_rejected(self, mapper: Mapper) -> None:
        with pytest.raises(RecordError) as err:
            mapper.map_service(service(maximum_age=-1), "r")
        assert err.value.field == "maximum_age"

    def test_numeric_strings_are_numbers(self, mapper: Mapper) -> None:
        g = triples(mapper.map_service(service(minimum_age="5", maximum_age=25.0), "r"))
        aud = SVC + "-audience"
        assert [o.value for o in objects(g, aud, S + "suggestedMinAge")] == ["5.0"]
        assert objects(g, aud, S + "suggestedMinAge")[0].datatype.value == ns.XSD + "decimal"
        assert values(g, aud, S + "suggestedMaxAge") == ["25.0"]

    @pytest.mark.parametrize("value", [False, True])
    def test_boolean_is_not_text(self, mapper: Mapper, value: bool) -> None:
        with pytest.raises(RecordError) as err:
            mapper.map_service(service(email=value), "r")
        assert err.value.field == "email"

    def test_list_where_text_expected(self, mapper: Mapper) -> None:
        with pytest.raises(RecordError) as err:
            mapper.map_service(service(description=["a"]), "r")
        assert err.value.field == "description"

    def test_description_html_cleaned(self, mapper: Mapper) -> None:
        d = service(description="<p>Fun &amp; games</p><ul><li>Toys</li><li>Songs</li></ul>")
        g = triples(mapper.map_service(d, "r"))
        assert values(g, SVC, S + "description") == ["Fun & games\n\n• Toys\n• Songs"]

    def test_hostile_name_survives_as_plain_literal(self, mapper: Mapper) -> None:
        name = '<script>alert(1)</script> "Quoted" \\ back\nslash'
        g = triples(mapper.map_service(service(name=name), "r"))
        assert values(g, SVC, S + "name") == ['<script>alert(1)</script> "Quoted" \\ back slash']

    def test_name_entities_decoded(self, mapper: Mapper) -> None:
        g = triples(mapper.map_service(service(name="Tea &amp; Talk"), "r"))
        assert values(g, SVC, S + "name") == ["Tea & Talk"]

    def test_empty_strings_are_absent(self, mapper: Mapper) -> None:
        d = service(description="", url="", email=" ", fees="", accreditations="",
                    attending_type="", assured_date="")
        g = triples(mapper.map_service(d, "r"))
        assert {p for (s, p, o) in g if s == SVC} == {
            RDF_TYPE, S + "identifier", ns.DCTERMS + "identifier", S + "name",
            L + "localAuthority", H + "status"}

    def test_target_audience_trimmed(self, mapper: Mapper) -> None:
        d = from_v1(service(pc_targetAudience=[{"id": "ChronicallyIll", "audienceType": " Dementia "},
                                                {"id": "Carers", "audienceType": "Carers"}]))
        g = triples(mapper.map_service(d, "r"))
        aud = SVC + "-audience"
        assert values(g, SVC, S + "audience") == [aud]
        assert values(g, aud, RDF_TYPE) == [S + "PeopleAudience"]
        assert values(g, aud, S + "audienceType") == ["Carers", "Dementia"]

    def test_no_audience_node_without_audience_data(self, mapper: Mapper) -> None:
        g = triples(mapper.map_service(from_v1(service(pc_targetAudience=[])), "r"))
        assert objects(g, SVC, S + "audience") == []

    def test_pc_metadata_dates_but_not_assurer(self, mapper: Mapper) -> None:
        d = service(pc_metadata={"date_created": "2021-01-06", "date_modified": "2024-12-10",
                                 "date_assured": "2024-12-11", "assured_by": "assurer-1@redacted.invalid"})
        recs = mapper.map_service(d, "r")
        g = triples(recs)
        assert values(g, SVC, ns.DCTERMS + "created") == ["2021-01-06"]
        assert values(g, SVC, H + "assuredDate") == ["2024-12-11"]
        assert "assurer" not in "".join(recs[0].lines)

    def test_assurer_email_never_published(self, mapper: Mapper) -> None:
        recs = mapper.map_service(service(assurer_email="someone@council.gov.uk"), "r")
        assert "someone@council.gov.uk" not in "".join(recs[0].lines)

    def test_bad_date(self, mapper: Mapper) -> None:
        with pytest.raises(RecordError) as err:
            mapper.map_service(service(assured_date="10/12/2024"), "r")
        assert err.value.field == "assured_date"

    def test_fees_and_cost_option(self, mapper: Mapper) -> None:
        d = service(fees="<p>&pound;2 per session</p>",
                    cost_options=[{"id": "c1", "option": "Adults", "amount": "2.50", "currency": "gbp"}])
        g = triples(mapper.map_service(d, "r"))
        offers = values(g, SVC, S + "offers")
        assert f"{SVC}-fees" in offers
        assert values(g, f"{SVC}-fees", S + "description") == ["£2 per session"]
        cost = f"{BASE}/id/cost-option/e06000023-c1"
        assert cost in offers
        assert values(g, cost + "-price", S + "priceCurrency") == ["GBP"]
        assert values(g, cost + "-price", S + "price") == ["2.50"]

    def test_organisation_and_government_service(self, mapper: Mapper) -> None:
        d = service(organization={"id": "org-1", "name": "Bristol City Council", "description": "LA"})
        recs = mapper.map_service(d, "r")
        assert [r.kind for r in recs] == ["service", "organization"]
        org = f"{BASE}/id/organization/e06000023-org-1"
        g = triples(recs)
        assert values(g, SVC, S + "provider") == [org]
        assert S + "GovernmentService" in values(g, SVC, RDF_TYPE)
        assert S + "GovernmentOrganization" in values(g, org, RDF_TYPE)
        # the organisation is written once per source
        again = mapper.map_service(service(id="other", organization=d["organization"]), "r2")
        assert [r.kind for r in again] == ["service"]


class TestSchedules:
    def test_v1_weekday_becomes_opening_hours(self, mapper: Mapper) -> None:
        d = from_v1(service(regular_schedules=[{"id": "rs1", "weekday": "Monday",
                                                "opens_at": "9:30", "closes_at": "12:00"}]))
        g = triples(mapper.map_service(d, "r"))
        sch = f"{BASE}/id/schedule/e06000023-rs1"
        assert values(g, SVC, S + "hoursAvailable") == [sch]
        assert values(g, sch, RDF_TYPE) == [S + "OpeningHoursSpecification"]
        assert values(g, sch, S + "dayOfWeek") == ["https://schema.org/Monday"]
        assert values(g, sch, S + "opens") == ["09:30:00"]
        assert values(g, sch, S + "closes") == ["12:00:00"]
        assert values(g, sch, H + "rrule") == ["FREQ=WEEKLY;BYDAY=MO"]

    def test_monthly_rule_is_a_schedule(self, mapper: Mapper) -> None:
        d = service(schedules=[{"id": "s1", "freq": "MONTHLY", "byday": "2MO", "opens_at": "10:00"}])
        g = triples(mapper.map_service(d, "r"))
        sch = f"{BASE}/id/schedule/e06000023-s1"
        assert values(g, sch, RDF_TYPE) == [S + "Schedule"]
        assert values(g, sch, S + "byDay") == ["2MO"]
        assert values(g, sch, S + "startTime") == ["10:00:00"]
        assert values(g, sch, S + "repeatFrequency") == ["P1M"]

    def test_bad_time(self, mapper: Mapper) -> None:
        with pytest.raises(RecordError) as err:
            mapper.map_service(service(schedules=[{"id": "s1", "opens_at": "9am"}]), "r")
        assert err.value.field == "schedule.opens_at"

    def test_holiday_closed(self, mapper: Mapper) -> None:
        d = service(holiday_schedules=[{"closed": True, "start_date": "2024-12-25",
                                        "end_date": "2024-12-26"}])
        g = triples(mapper.map_service(d, "r"))
        h = SVC + "-holiday-0"
        assert values(g, SVC, S + "specialOpeningHoursSpecification") == [h]
        assert values(g, h, S + "opens") == ["00:00:00"] and values(g, h, S + "closes") == ["00:00:00"]
        assert values(g, h, S + "validFrom") == ["2024-12-25"]


class TestLocations:
    def location(self, **fields: Any) -> dict[str, Any]:
        return {"id": "loc-1", "location_type": "physical", "name": "Hall", **fields}

    def test_coordinates(self, mapper: Mapper) -> None:
        recs = mapper.map_location(self.location(latitude=51.45, longitude="-2.58"), "r")
        g = triples(recs)
        loc = f"{BASE}/id/location/e06000023-loc-1"
        assert values(g, loc, ns.WGS + "lat") == ["51.45"]
        assert values(g, loc + "-geo", S + "latitude") == ["51.45"]
        assert values(g, loc + "-geometry", ns.GEO + "asWKT") == ["POINT(-2.58 51.45)"]

    def test_coordinates_out_of_range_kept_without_a_point(self, mapper: Mapper) -> None:
        # The HSDS example uses latitude 100, longitude 101: the location is not rejected, the
        # values are kept as published, and no WGS84 point is made of them.
        recs = mapper.map_location(self.location(latitude=100, longitude=101), "r")
        g = triples(recs)
        loc = f"{BASE}/id/location/e06000023-loc-1"
        assert values(g, loc, H + "latitude") == ["100.0"]
        assert values(g, loc, H + "longitude") == ["101.0"]
        assert not {p for (s, p, o) in g if p in (ns.WGS + "lat", S + "geo", ns.GEO + "hasGeometry")}

    def test_bad_location_type(self, mapper: Mapper) -> None:
        with pytest.raises(RecordError) as err:
            mapper.map_location(self.location(location_type="building"), "r")
        assert err.value.field == "location_type"

    def test_v1_physical_address_postcode(self, mapper: Mapper) -> None:
        loc = self.location(physical_addresses=[{"id": "a1", "address_1": "1 Main St",
                                                 "city": "Bristol", "postal_code": "bs1 5th"}])
        g = triples(mapper.map_location(loc, "r"))
        addr = f"{BASE}/id/address/e06000023-a1"
        assert values(g, addr, S + "postalCode") == ["BS1 5TH"]
        assert values(g, addr, S + "streetAddress") == ["1 Main St"]

    def test_written_once(self, mapper: Mapper) -> None:
        assert mapper.map_location(self.location(), "r1")
        assert mapper.map_location(self.location(), "r2") == []


class TestPersonalData:
    def contact_service(self) -> dict[str, Any]:
        return service(contacts=[{"id": "c1", "name": "Ann Persona", "title": "Manager",
                                  "phones": [{"id": "p1", "number": "0117 000 0000"}]}],
                       metadata=[{"id": "m1", "resource_type": "service", "last_action_date": "2024-01-01",
                                  "last_action_type": "update", "field_name": "name",
                                  "previous_value": "a", "replacement_value": "b",
                                  "updated_by": "Ann Persona"}])

    def test_names_not_published_by_default(self, mapper: Mapper) -> None:
        recs = mapper.map_service(self.contact_service(), "r")
        text = "".join(recs[0].lines)
        assert "Ann Persona" not in text
        assert "Manager" in text and "0117 000 0000" in text

    def test_names_published_when_configured(self) -> None:
        m = Mapper(BASE, "E06000023", publish_names=True)
        g = triples(m.map_service(self.contact_service(), "r"))
        assert values(g, f"{BASE}/id/contact/e06000023-c1", S + "name") == ["Ann Persona"]
        assert values(g, f"{BASE}/id/change/e06000023-m1", H + "updatedBy") == ["Ann Persona"]

    def test_phone_needs_a_number(self, mapper: Mapper) -> None:
        with pytest.raises(RecordError) as err:
            mapper.map_service(service(contacts=[{"id": "c", "phones": [{"id": "p"}]}]), "r")
        assert err.value.field == "phone.number"


class TestTaxonomy:
    def test_term_uri_is_the_concept(self, mapper: Mapper) -> None:
        d = service(attributes=[{"taxonomy_term": {"id": "t1", "name": "Autism",
                                                   "term_uri": "https://example.org/need/autism"}}])
        g = triples(mapper.map_service(d, "r"))
        assert values(g, SVC, S + "category") == ["https://example.org/need/autism"]

    def test_term_uri_that_is_not_a_url_is_kept(self, mapper: Mapper) -> None:
        recs = mapper.map_taxonomy_term({"id": "t1", "name": "n", "term_uri": "example_com"}, "r")
        g = triples(recs)
        term = f"{BASE}/id/taxonomy-term/e06000023-t1"
        assert recs[0].iri == term
        assert values(g, term, H + "unresolvedLink") == ["term_uri: example_com"]

    def test_v1_service_taxonomys(self, mapper: Mapper) -> None:
        d = from_v1(service(service_taxonomys=[{"id": "st", "taxonomy": {
            "id": "t9", "name": "Short breaks", "parent_id": "t0", "vocabulary": "Local Offer"}}]))
        g = triples(mapper.map_service(d, "r"))
        term = f"{BASE}/id/taxonomy-term/e06000023-t9"
        assert values(g, SVC, S + "category") == [term]
        assert values(g, term, S + "name") == ["Short breaks"]
        assert values(g, term, ns.SKOS + "broader") == [f"{BASE}/id/taxonomy-term/e06000023-t0"]
        assert values(g, term, ns.DCTERMS + "source") == ["Local Offer"]


class TestServiceAtLocation:
    def test_top_level_with_embedded_service(self, mapper: Mapper) -> None:
        d = json.loads((DATA / "oruk-default/service_at_location_full.json").read_text())
        recs = mapper.map_service_at_location(d, "sal.json record 1")
        kinds = [r.kind for r in recs]
        assert kinds[0] == "service_at_location" and "service" in kinds and "location" in kinds
        g = triples(recs)
        sal = f"{BASE}/id/service-at-location/{d['id']}"
        svc = f"{BASE}/id/service/{d['service']['id']}"
        assert values(g, sal, S + "providesService") == [svc]
        assert values(g, svc, S + "availableChannel") == [sal]
        assert values(g, sal, S + "serviceLocation") == [f"{BASE}/id/location/{d['location']['id']}"]

    def test_by_ids(self, mapper: Mapper) -> None:
        recs = mapper.map_service_at_location({"id": "c1", "service_id": SID, "location_id": "l1"}, "r")
        g = triples(recs)
        sal = f"{BASE}/id/service-at-location/e06000023-c1"
        assert values(g, sal, S + "providesService") == [SVC]
        assert values(g, sal, S + "serviceLocation") == [f"{BASE}/id/location/e06000023-l1"]

    def test_needs_a_service(self, mapper: Mapper) -> None:
        with pytest.raises(RecordError) as err:
            mapper.map_service_at_location({"id": "c1", "location_id": "l1"}, "r")
        assert err.value.field == "service_id"


class TestRollback:
    def test_rejected_record_forgets_its_shared_nodes(self, mapper: Mapper) -> None:
        org = {"id": "org-1", "name": "Play Trust"}
        mark = mapper.mark()
        with pytest.raises(RecordError):  # fails after its organisation was written
            mapper.map_service(service(organization=org, schedules=[{"opens_at": "9am"}]), "r1")
        assert mapper.mark() > mark
        mapper.rollback(mark)
        recs = mapper.map_service(service(id="s2", organization=org), "r2")
        assert [r.kind for r in recs] == ["service", "organization"]


def test_full_example_is_valid_ntriples(mapper: Mapper) -> None:
    d = json.loads((DATA / "hsds-3.0/service_full.json").read_text())
    recs = mapper.map_service(d, "service_full.json record 1")
    assert {r.kind for r in recs} == {"service", "organization", "location"}
    assert len(triples(recs)) > 200


class TestProfileFields:
    """The HSDS-UK-3.0 fields that once shared a property or were not mapped at all."""

    TERM = {"id": "t1", "name": "Short name", "description": "d"}

    def attrs(self, tag: str) -> list[dict[str, Any]]:
        term = {**self.TERM, "id": f"t-{tag}"}
        return [{"id": f"a-{tag}", "link_type": f"{tag}_tag", "taxonomy_term": term}]

    def tagged(self, g: set[tuple[str, str, Any]], node: str, tag: str) -> None:
        term, attr = f"{BASE}/id/taxonomy-term/e06000023-t-{tag}", f"{BASE}/id/attribute/e06000023-a-{tag}"
        assert values(g, node, S + "category") == [term]
        assert values(g, node, H + "attribute") == [attr]
        assert values(g, attr, H + "linkType") == [f"{tag}_tag"]
        assert values(g, attr, H + "taxonomyTerm") == [term]

    def test_attributes_of_identifier_contact_address_accessibility(self, mapper: Mapper) -> None:
        org = {"id": "o1", "name": "Trust", "description": "d", "attributes": self.attrs("organization"),
               "organization_identifiers": [{"id": "oi1", "identifier_type": "Charity number",
                                             "identifier": "123", "attributes": self.attrs("identifier")}]}
        loc = {"id": "l1", "location_type": "physical",
               "addresses": [{"id": "ad1", "address_1": "1 Main St", "attributes": self.attrs("address")}],
               "accessibility": [{"id": "ac1", "description": "Ramp", "attributes": self.attrs("access")}]}
        d = service(organization=org, contacts=[{"id": "c1", "attributes": self.attrs("contact")}],
                    service_at_locations=[{"id": "sal1", "location": loc}])
        g = triples(mapper.map_service(d, "r"))
        self.tagged(g, f"{BASE}/id/organization/e06000023-o1", "organization")
        self.tagged(g, f"{BASE}/id/organization-identifier/e06000023-oi1", "identifier")
        self.tagged(g, f"{BASE}/id/contact/e06000023-c1", "contact")
        self.tagged(g, f"{BASE}/id/address/e06000023-ad1", "address")
        self.tagged(g, f"{BASE}/id/accessibility/e06000023-ac1", "access")

    @pytest.mark.parametrize(("given", "name", "text"), [
        ({"name": "Bristol", "service_area": "All of Bristol"}, ["Bristol"], ["All of Bristol"]),
        ({"name": "Bristol", "service_area": "Bristol"}, ["Bristol"], []),
        ({"service_area": "All of Bristol"}, ["All of Bristol"], []),   # ORUK v1: the area's name
        ({"name": "Bristol"}, ["Bristol"], [])])
    def test_service_area_legacy_text(self, mapper: Mapper, given: dict[str, Any], name: list[str],
                                      text: list[str]) -> None:
        g = triples(mapper.map_service(service(service_areas=[{"id": "sa1", **given}]), "r"))
        area = f"{BASE}/id/service-area/e06000023-sa1"
        assert values(g, area, S + "name") == name
        assert values(g, area, H + "serviceAreaText") == text

    @pytest.mark.parametrize(("given", "name", "text"), [
        ({"description": "Ramp", "accessibility": "Step-free"}, ["Ramp"], ["Step-free"]),
        ({"description": "Ramp", "accessibility": "Ramp"}, ["Ramp"], []),
        ({"accessibility": "Step-free", "details": "At the side"}, ["Step-free"], [])])   # v1
    def test_accessibility_legacy_text(self, mapper: Mapper, given: dict[str, Any], name: list[str],
                                       text: list[str]) -> None:
        g = triples(mapper.map_location({"id": "l1", "accessibility": [{"id": "ac1", **given}]}, "r"))
        feature = f"{BASE}/id/accessibility/e06000023-ac1"
        assert values(g, feature, S + "name") == name
        assert values(g, feature, H + "accessibilityText") == text

    @pytest.mark.parametrize(("given", "name", "legacy"), [
        ({"name": "Short name", "term": "Legacy term text"}, ["Short name"], ["Legacy term text"]),
        ({"name": "Short name", "term": "Short name"}, ["Short name"], []),
        ({"term": "Legacy term text"}, ["Legacy term text"], [])])
    def test_taxonomy_term_legacy_term(self, mapper: Mapper, given: dict[str, Any], name: list[str],
                                       legacy: list[str]) -> None:
        g = triples(mapper.map_taxonomy_term({"id": "t1", "description": "d", **given}, "r"))
        term = f"{BASE}/id/taxonomy-term/e06000023-t1"
        assert values(g, term, S + "name") == values(g, term, ns.SKOS + "prefLabel") == name
        assert values(g, term, H + "term") == legacy

    def test_schedule_at_a_service_at_location(self, mapper: Mapper) -> None:
        d = service(schedules=[{"id": "s1", "service_at_location_id": "sal-9", "byday": "MO"}])
        g = triples(mapper.map_service(d, "r"))
        assert values(g, f"{BASE}/id/schedule/e06000023-s1", H + "serviceAtLocation") == [
            f"{BASE}/id/service-at-location/e06000023-sal-9"]

    def test_language_of_a_phone(self, mapper: Mapper) -> None:
        g = triples(mapper.map_service(service(languages=[{"id": "lg1", "phone_id": "p-3"}]), "r"))
        assert values(g, f"{BASE}/id/language/e06000023-lg1", H + "onPhone") == [
            f"{BASE}/id/phone/e06000023-p-3"]

    def test_external_identifier_type_alone(self, mapper: Mapper) -> None:
        g = triples(mapper.map_location({"id": "l1", "external_identifier_type": "UPRN"}, "r"))
        ident = f"{BASE}/id/location/e06000023-l1-identifier-uprn"
        assert values(g, f"{BASE}/id/location/e06000023-l1", S + "identifier") == [ident, "l1"]
        assert values(g, ident, S + "propertyID") == ["UPRN"] and values(g, ident, S + "value") == []


@pytest.mark.parametrize("names", [False, True])
def test_address_attention_only_when_names_are_published(names: bool) -> None:
    """address.attention is often a person ("A. Persona" in the ORUK example): personal data."""
    m = Mapper(BASE, "E06000023", publish_names=names)
    loc = {"id": "l1", "addresses": [{"id": "ad1", "attention": "A. Persona", "address_1": "1 Main St"}]}
    recs = m.map_location(loc, "r")
    g = triples(recs)
    assert values(g, f"{BASE}/id/address/e06000023-ad1", H + "attention") == (["A. Persona"] if names else [])
    assert ("A. Persona" in "".join(recs[0].lines)) == names
    assert values(g, f"{BASE}/id/address/e06000023-ad1", S + "streetAddress") == ["1 Main St"]
