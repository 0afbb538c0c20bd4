"""ingest/records.py: what kind of HSDS object a dict is, and ORUK v1 -> HSDS 3.0 fields."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from localoffer.ingest.records import KINDS, detect_kind, from_v1

DATA = Path(__file__).resolve().parents[1] / "data"


class TestDetectKind:
    @pytest.mark.parametrize(("fixture", "kind"), [
        ("hsds-3.0/service_full.json", "service"),
        ("hsds-3.0/organization_full.json", "organization"),
        ("oruk-default/taxonomy.json", "taxonomy"),
        ("oruk-default/taxonomy_term.json", "taxonomy_term"),
        ("oruk-default/service_at_location_full.json", "service_at_location"),
    ])
    def test_examples(self, fixture: str, kind: str) -> None:
        assert detect_kind(json.loads((DATA / fixture).read_text())) == kind

    def test_list_items(self) -> None:
        for fixture, kind in (("oruk-default/organization_list.json", "organization"),
                              ("oruk-default/taxonomy_list.json", "taxonomy"),
                              ("oruk-default/taxonomy_term_list.json", "taxonomy_term"),
                              ("oruk-default/service_list.json", "service"),
                              ("oruk-default/service_at_location_list.json", "service_at_location")):
            page = json.loads((DATA / fixture).read_text())
            assert [detect_kind(x) for x in page["contents"]] == [kind] * len(page["contents"]), fixture

    def test_v1_service(self) -> None:
        assert detect_kind({"id": "1", "name": "Stay and Play", "status": "active",
                            "organization": {"id": "o", "name": "Org"}}) == "service"

    def test_bare_record_defaults_to_service(self) -> None:
        assert detect_kind({"id": "x"}) == "service"

    def test_location(self) -> None:
        assert detect_kind({"id": "l", "location_type": "physical", "name": "Hall"}) == "location"

    def test_service_with_location_type_and_status_is_a_service(self) -> None:
        assert detect_kind({"id": "s", "status": "active", "location_type": "virtual"}) == "service"

    def test_service_at_location_by_ids(self) -> None:
        assert detect_kind({"id": "c", "service_id": "s", "location_id": "l"}) == "service_at_location"

    def test_all_kinds_listed(self) -> None:
        assert set(KINDS) == {"service", "organization", "location", "taxonomy", "taxonomy_term",
                              "service_at_location"}


V1_DETAIL = {
    "id": "svc-1",
    "name": "Stay and Play",
    "status": "active",
    "organization": {"id": "org-1", "name": "Play Trust"},
    "regular_schedules": [
        {"id": "rs1", "service_at_location": "sal-1", "weekday": "Monday",
         "opens_at": "09:00", "closes_at": "12:00"},
        {"id": "rs2", "weekday": "3", "opens_at": "13:00", "closes_at": "15:00"},
        {"id": "rs3", "weekday": "fr"},
        {"id": "rs4", "weekday": "Fortnightly"},
        {"id": "rs5", "weekday": "Tuesday", "byday": "1TU", "freq": "MONTHLY"},
    ],
    "holiday_schedules": [{"closed": True, "start_date": "2024-12-25", "end_date": "2024-12-26"}],
    "service_taxonomys": [
        {"id": "st1", "taxonomy": {"id": "t1", "name": "Autism", "parent_id": "t0",
                                   "vocabulary": "SEND needs"}},
        {"id": "st2", "taxonomy": {"id": "t2", "name": "Play"}},
    ],
    "eligibilitys": [
        {"id": "e1", "eligibility": "child", "minimum_age": 0, "maximum_age": 11},
        {"id": "e2", "eligibility": "teen", "minimum_age": 12, "maximum_age": 18},
    ],
    "fundings": [{"id": "f1", "source": "Council grant"}],
    "languages": [{"id": "l1", "language": "English"}, {"id": "l2", "language": "Polish"}],
    "pc_targetAudience": [{"id": "ChronicallyIll", "audienceType": "Dementia "}],
    "pc_attendingAccess_additionalInfo": "Ring first",
}


class TestFromV1:
    def test_input_not_modified(self) -> None:
        before = copy.deepcopy(V1_DETAIL)
        from_v1(V1_DETAIL)
        assert before == V1_DETAIL

    def test_schedules_weekday_to_byday(self) -> None:
        out = from_v1(V1_DETAIL)
        assert "regular_schedules" not in out
        sch = out["schedules"]
        assert sch[0] == {"id": "rs1", "byday": "MO", "freq": "WEEKLY", "opens_at": "09:00",
                          "closes_at": "12:00"}
        assert sch[1]["byday"] == "WE" and sch[1]["freq"] == "WEEKLY"   # ISO weekday number
        assert sch[2]["byday"] == "FR"                                   # two-letter code
        assert sch[3]["byday"] == "Fortnightly" and "freq" not in sch[3]  # unknown kept as given
        assert sch[4]["byday"] == "1TU" and sch[4]["freq"] == "MONTHLY"  # explicit byday wins

    def test_existing_3_0_schedules_kept_first(self) -> None:
        out = from_v1({"id": "s", "schedules": [{"id": "x", "byday": "SA"}],
                       "regular_schedules": [{"weekday": "Sunday"}]})
        assert [s["byday"] for s in out["schedules"]] == ["SA", "SU"]

    def test_taxonomies_become_attributes(self) -> None:
        out = from_v1(V1_DETAIL)
        assert "service_taxonomys" not in out
        assert out["attributes"] == [
            {"taxonomy_term": {"id": "t1", "name": "Autism", "parent_id": "t0", "taxonomy": "SEND needs"}},
            {"taxonomy_term": {"id": "t2", "name": "Play"}},
        ]

    def test_schema_spelling_service_taxonomies(self) -> None:
        out = from_v1({"id": "s", "service_taxonomies": [{"taxonomy": {"id": "t"}}]})
        assert out["attributes"] == [{"taxonomy_term": {"id": "t"}}]

    def test_eligibilitys_give_terms_and_age_range(self) -> None:
        out = from_v1(V1_DETAIL)
        assert "eligibilitys" not in out
        assert [e["eligibility"] for e in out["eligibility_terms"]] == ["child", "teen"]
        assert out["minimum_age"] == 0 and out["maximum_age"] == 18

    def test_explicit_ages_win_over_eligibilitys(self) -> None:
        out = from_v1({"id": "s", "minimum_age": 5, "maximum_age": 10,
                       "eligibilitys": [{"minimum_age": 0, "maximum_age": 25}]})
        assert (out["minimum_age"], out["maximum_age"]) == (5, 10)

    def test_fundings_and_languages(self) -> None:
        out = from_v1(V1_DETAIL)
        assert out["funding"] == [{"id": "f1", "source": "Council grant"}] and "fundings" not in out
        assert out["languages"] == [{"id": "l1", "name": "English"}, {"id": "l2", "name": "Polish"}]

    def test_placecube_fields(self) -> None:
        out = from_v1(V1_DETAIL)
        assert out["target_audiences"] == [{"id": "ChronicallyIll", "audienceType": "Dementia "}]
        assert out["attending_access_info"] == "Ring first"
        assert "pc_targetAudience" not in out and "pc_attendingAccess_additionalInfo" not in out

    def test_empty_target_audience(self) -> None:
        assert from_v1({"id": "s", "pc_targetAudience": None})["target_audiences"] == []

    def test_unchanged_fields_pass_through(self) -> None:
        out = from_v1(V1_DETAIL)
        assert out["holiday_schedules"] == V1_DETAIL["holiday_schedules"]
        assert out["organization"] == V1_DETAIL["organization"]

    def test_hsds_3_0_service_passes_through(self) -> None:
        svc = json.loads((DATA / "hsds-3.0/service_full.json").read_text())
        assert from_v1(svc) == svc

    def test_non_dict_entries_kept(self) -> None:
        out = from_v1({"id": "s", "regular_schedules": ["oops"], "service_taxonomys": [7]})
        assert out["schedules"] == ["oops"] and out["attributes"] == [7]
