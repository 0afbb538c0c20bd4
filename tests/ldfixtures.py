"""A small two-authority store for the Linked Data site tests: HSDS 3.0 services made here
(ages, costs, schedules, languages, locations with coordinates and accessibility, hostile
names), and SEND categories (need, provision category) added as an RDF source; both go
through the real ingest pipeline."""

from __future__ import annotations

import json
from pathlib import Path

from localoffer.ingest.pipeline import ingest

from localoffer.config import Settings, load_settings
from localoffer.store import open_store

BASE = "https://localoffer.test/"
BRISTOL, NLINCS = "E06000023", "E06000013"
HOSTILE_NAME = '<script>alert("name")</script> Café & "Quotes" \'too\''
HOSTILE_TEXT = 'Ends a script: </script><script>alert(1)</script> and an "attribute" <b onclick=x>'
SVC_PLAY = "11111111-1111-4111-8111-111111111111"
SVC_HOSTILE = "22222222-2222-4222-8222-222222222222"
SVC_COLLEGE = "33333333-3333-4333-8333-333333333333"
SVC_NL = "44444444-4444-4444-8444-444444444444"
ORG_SHARED = "55555555-5555-4555-8555-555555555555"
ORG_NL = "66666666-6666-4666-8666-666666666666"
LOC_CENTRE = "77777777-7777-4777-8777-777777777777"
_B = BASE.rstrip("/")
RESOURCES = [f"{_B}/id/service/{SVC_PLAY}", f"{_B}/id/service/{SVC_HOSTILE}",
             f"{_B}/id/service/{SVC_COLLEGE}", f"{_B}/id/organization/{ORG_SHARED}",
             f"{_B}/id/location/{LOC_CENTRE}", f"{_B}/id/authority/{BRISTOL}"]
"""One resource of each kind the fixture feeds describe (three services, the hostile one among them)."""


def _location(ident: str, name: str, postcode: str) -> dict:
    return {"id": ident, "name": name, "location_type": "physical", "latitude": 51.4545,
            "longitude": -2.5879, "addresses": [{"id": ident[:-1] + "a", "address_1": "1 Quay Street",
                                                 "city": "Bristol", "postal_code": postcode,
                                                 "country": "GB", "address_type": "physical"}],
            "accessibility": [{"id": ident[:-1] + "b", "description": "Wheelchair accessible"}],
            "schedules": [{"id": ident[:-1] + "c", "freq": "WEEKLY", "byday": "SA",
                           "opens_at": "10:00", "closes_at": "16:00"}]}


def bristol_services() -> list[dict]:
    """Three Bristol services: a free play scheme for young children, one with hostile text,
    and a paid post-16 college course."""
    org = {"id": ORG_SHARED, "name": "Sunrise Play Trust", "description": "A charity running play schemes.",
           "website": "https://sunrise.example.org/"}
    return [
        {"id": SVC_PLAY, "name": "Little Explorers Play Scheme", "status": "active",
         "description": "Free inclusive play sessions for children with autism and their families.",
         "url": "https://sunrise.example.org/play", "email": "play@sunrise.example.org",
         "minimum_age": 0, "maximum_age": 5, "eligibility_description": "Children under five with SEND",
         "attending_type": "Venue", "assured_date": "2024-06-01",
         "organization": org,
         "cost_options": [{"id": "a1111111-1111-4111-8111-111111111111", "option": "Session",
                           "amount": 0, "currency": "GBP", "amount_description": "Free"}],
         "languages": [{"id": "b1111111-1111-4111-8111-111111111111", "name": "English", "code": "en"},
                       {"id": "b2111111-1111-4111-8111-111111111111", "name": "Somali", "code": "so"}],
         "phones": [{"id": "c1111111-1111-4111-8111-111111111111", "number": "0117 922 2000"}],
         "schedules": [{"id": "d1111111-1111-4111-8111-111111111111", "freq": "WEEKLY", "byday": "MO,WE",
                        "opens_at": "09:00", "closes_at": "12:00"}],
         "service_at_locations": [{"id": "e1111111-1111-4111-8111-111111111111",
                                   "location": _location(LOC_CENTRE, "Harbourside Family Centre", "BS1 5TR")}]},
        {"id": SVC_HOSTILE, "name": HOSTILE_NAME, "status": "active", "description": HOSTILE_TEXT,
         "minimum_age": 5, "maximum_age": 11, "attending_type": "Online", "organization_id": ORG_SHARED,
         "url": "javascript:alert(1)",
         "cost_options": [{"id": "a2222222-2222-4222-8222-222222222222", "option": "Per term",
                           "amount": 25, "currency": "GBP"}]},
        {"id": SVC_COLLEGE, "name": "Pathways Supported Internship", "status": "active",
         "description": "A supported internship for young people preparing for work.",
         "minimum_age": 16, "maximum_age": 25, "attending_type": "Venue", "organization_id": ORG_SHARED,
         "cost_options": [{"id": "a3333333-3333-4333-8333-333333333333", "option": "Course fee",
                           "amount": 120, "currency": "GBP"}]},
    ]


def nlincs_services() -> list[dict]:
    """One North Lincolnshire service by an organisation of the same name as Bristol's."""
    return [{"id": SVC_NL, "name": "Scunthorpe Speech and Language Drop-in", "status": "active",
             "description": "Drop-in advice on speech and language for families.", "minimum_age": 2,
             "maximum_age": 18, "attending_type": "Phone",
             "organization": {"id": ORG_NL, "name": "Sunrise Play Trust", "website": "https://sunrise.example.org/"},
             "schedules": [{"id": "d4444444-4444-4444-8444-444444444444", "freq": "WEEKLY", "byday": "TU",
                            "opens_at": "13:00", "closes_at": "15:30"}]}]


def categories_turtle(base: str) -> str:
    """SEND categories for the services (as a council would add them in RDF)."""
    b = base.rstrip("/")
    need = "https://w3id.org/localoffer/def/scheme/need/"
    pc = "https://w3id.org/localoffer/def/scheme/provision-category/"
    lo = "https://w3id.org/localoffer/def#"
    return "\n".join([
        f"<{b}/id/service/{SVC_PLAY}> <{lo}needCategory> <{need}asd> ; <{lo}provisionCategory> <{pc}special-educational-provision> .",
        f"<{b}/id/service/{SVC_HOSTILE}> <{lo}needCategory> <{need}semh> .",
        f"<{b}/id/service/{SVC_COLLEGE}> <{lo}needCategory> <{need}mld> ; <{lo}provisionCategory> <{pc}finding-employment> .",
    ]) + "\n"


def build_store(folder: Path, base: str = BASE) -> Settings:
    """Ingest the fixtures into a store in *folder*; the settings that open it."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = load_settings({"store": str(folder / "store"), "base_uri": base}, environ={})
    store = open_store(settings)
    for name, code, records in (("bristol.json", BRISTOL, bristol_services()),
                                ("nlincs.json", NLINCS, nlincs_services())):
        path = folder / name
        path.write_text(json.dumps(records), encoding="utf-8")
        ingest(store, settings, str(path), authority=code, fmt="json")
    ttl = folder / "categories.ttl"
    ttl.write_text(categories_turtle(base), encoding="utf-8")
    ingest(store, settings, str(ttl), authority=BRISTOL, fmt="rdf")
    store.close()
    return settings
