"""The cross-authority canned queries on a known region: three authorities minted under
different bases (as after harvesting), with needs, ages and providers chosen so that every
expected row is known (tests/data/federation/region.ttl)."""

from __future__ import annotations

import pytest
from localoffer.ingest.pipeline import ingest

from localoffer.canned import execute_canned

from ..conftest import BASE, DATA

REGION = DATA / "federation" / "region.ttl"


@pytest.fixture
def region(store, settings):
    ingest(store, settings, str(REGION), authority="E06000023", fmt="rdf")
    return store


def rows(store, name, **params):
    result = execute_canned(store, name, params, BASE)
    names = [v.value for v in result.variables]
    return [{n: (row[n].value if row[n] is not None else None) for n in names} for row in result]


def test_provision_for_a_need_across_the_council_and_its_neighbours(region):
    found = rows(
        region,
        "provision-for-need-across-neighbours",
        need="communication-and-interaction",
        council="e06000023",
    )
    assert [(r["authorityCode"], r["serviceName"], r["own"]) for r in found] == [
        ("E06000023", "Autism Outreach", "true"),
        ("E06000024", "Talking Together", "false"),
    ]
    assert (found[1]["minAge"], found[1]["maxAge"]) == ("12", "15")
    sensory = rows(region, "provision-for-need-across-neighbours", need="sensory-and-physical")
    assert sorted(r["serviceName"] for r in sensory) == ["Hearing Support", "Physical Access Club"]
    assert {r["own"] for r in sensory} == {"false"}  # no council given: none is "own"
    assert rows(region, "provision-for-need-across-neighbours", need="cognition-and-learning") == []


def test_providers_in_several_offers_by_name_and_by_shared_identifier(region):
    found = {r["provider"]: r for r in rows(region, "providers-in-several-offers")}
    assert set(found) == {"sunrise autism trust", "GB-CHC:1123456"}
    by_name = found["sunrise autism trust"]
    assert (by_name["authorities"], by_name["offers"], by_name["services"]) == ("2", "1", "3")
    assert set(by_name["authorityCodes"].split()) == {"E06000023", "E06000024"}
    assert set(found["GB-CHC:1123456"]["authorityCodes"].split()) == {"E06000023", "E06000025"}
    assert rows(region, "providers-in-several-offers", min="3") == []


def test_out_of_area_provision_compares_the_councils_list_with_the_neighbours(region):
    found = rows(region, "out-of-area-provision", council="E06000023")
    assert [
        (r["serviceName"], r["provider"], r["neighbourCode"], r["neighbourServices"], r["neighbourListsIt"])
        for r in found
    ] == [("Autism Outreach", "sunrise autism trust", "E06000024", "2", "true")]
    other_way = rows(region, "out-of-area-provision", council="E06000024")
    assert {(r["serviceName"], r["neighbourCode"], r["neighbourListsIt"]) for r in other_way} == {
        ("Talking Together", "E06000023", "false"),
        ("autism outreach", "E06000023", "true"),
    }
    assert rows(region, "out-of-area-provision", council="E06000025") == []


def test_gaps_are_need_areas_and_age_bands_without_provision(region):
    def gaps(**params):
        return {
            (r["area"].rsplit("/", 1)[-1], r["band"].rsplit("/", 1)[-1])
            for r in rows(region, "provision-gaps", **params)
        }

    bands = {"0-5", "5-11", "11-16", "16-19", "19-25"}
    areas = {
        "communication-and-interaction",
        "cognition-and-learning",
        "social-emotional-and-mental-health",
        "sensory-and-physical",
    }
    covered = {
        ("communication-and-interaction", "5-11"),
        ("communication-and-interaction", "11-16"),
        ("sensory-and-physical", "0-5"),
        ("social-emotional-and-mental-health", "5-11"),
        ("sensory-and-physical", "16-19"),
    }
    assert gaps() == {(a, b) for a in areas for b in bands} - covered
    bristol_only = {("communication-and-interaction", "5-11"), ("sensory-and-physical", "0-5")}
    assert gaps(region="E06000023") == {(a, b) for a in areas for b in bands} - bristol_only
    assert gaps(region="E06000023 E06000025") == {(a, b) for a in areas for b in bands} - bristol_only - {
        ("sensory-and-physical", "16-19")
    }
