"""Deterministic synthetic national-scale Open Referral (HSDS 3.0) service directories.

One JSON file per local authority (`{GSS}.json`, a JSON array of HSDS 3.0 `service_full`
objects), for N authorities x M services. Everything is derived from the seed: the same
arguments always give byte-identical files, and ids are UUIDv5 so they are stable too.

What a service looks like (shaped on the ORUK feeds in samples/ and the HSDS 3.0 schema):

* HTML descriptions of realistic length (median ~750 characters, long tail to ~4,000, as in
  the Bristol and North Lincolnshire feeds), inline styles included;
* an embedded `organization` (shared: about one organisation per 4 services; one of them is
  the council, which makes its services `schema:GovernmentService`);
* `service_at_locations` with an embedded `location` (address + latitude/longitude),
  locations shared between services (about 0.6 locations per service);
* phones, a weekly schedule, cost options, eligibility with min/max ages, languages,
  contacts, service areas and `attributes` carrying full `taxonomy_term` objects from a
  national taxonomy (the same term ids in every authority).

The mapping (ingest/mapping.py) turns an average service into ~50 triples, the shared
organisation and location triples included.

Output is streamed: one authority is built and written at a time, one service at a time.

    python bench/generate.py --out /tmp/lo-data --authorities 150 --services 3000
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

MANIFEST = "manifest.json"
GENERATOR_VERSION = 1

# -- vocabulary ------------------------------------------------------------------------------
_PLACES_A = ["North", "South", "East", "West", "Upper", "Lower", "Great", "Little", "Old", "New",
             "Kings", "Market", "Castle", "Bishops", "Long", "High"]
_PLACES_B = ["brook", "field", "ford", "ham", "ley", "ton", "wick", "bury", "caster", "mouth",
             "stead", "worth", "borough", "dale", "mere", "thorpe", "combe", "minster"]
_PLACES_C = ["Ash", "Elm", "Oak", "Thorn", "Wil", "Brad", "Chel", "Dor", "Hart", "Ken", "Lang",
             "Mil", "Nor", "Pen", "Red", "Sal", "Stan", "Wal", "Win", "Hal", "Bel", "Gran"]
_STREETS = ["High Street", "Station Road", "Church Lane", "Mill Road", "Victoria Road",
            "Park Avenue", "Queens Road", "London Road", "School Lane", "The Green",
            "Manor Road", "Albert Street", "Bridge Street", "King Street", "York Road"]
_BUILDINGS = ["Community Centre", "Family Hub", "Library", "Children's Centre", "Youth Club",
              "Leisure Centre", "Health Centre", "Village Hall", "Primary School",
              "Academy", "Church Hall", "Sports Ground", "Resource Centre", "Pavilion"]
_SVC_A = ["Inclusive", "Accessible", "Parent", "Family", "Young People's", "Sensory", "Autism",
          "SEND", "Early Years", "Teen", "Carers'", "Holiday", "Saturday", "After-School",
          "Wellbeing", "Speech and Language", "Independent Living", "Short Breaks"]
_SVC_B = ["Swimming", "Drama", "Football", "Play", "Music", "Arts and Crafts", "Cookery",
          "Gardening", "Climbing", "Cycling", "Dance", "Coding", "Reading", "Yoga", "Social",
          "Peer Support", "Advice", "Drop-in", "Therapy", "Mentoring", "Outreach"]
_SVC_C = ["Club", "Group", "Sessions", "Service", "Programme", "Hub", "Workshop", "Café",
          "Network", "Scheme", "Project", "Team"]
_ORG_A = ["Friends of", "Community", "Together", "Bright", "Rainbow", "Open Door", "Hope",
          "Sunrise", "Compass", "Horizons", "Little Steps", "Pathways", "Kindred", "Lighthouse"]
_ORG_B = ["Trust", "CIC", "Charity", "Association", "Foundation", "Partnership", "Network",
          "Ltd", "Society", "Collective"]
_WORDS = ("the service offers support for children and young people with special educational "
          "needs and disabilities and their families carers parents guardians we provide a safe "
          "friendly welcoming inclusive environment where everyone can take part at their own pace "
          "sessions are run by trained staff and volunteers who understand autism adhd sensory "
          "processing difficulties learning disabilities physical disabilities and social emotional "
          "mental health needs activities include games crafts music sport outdoor play cooking "
          "life skills and trips in the local area referrals can be made by professionals or "
          "families directly please contact us to discuss your child's needs before attending "
          "places are limited and booking is essential transport may be available for those who "
          "qualify all venues are wheelchair accessible with changing places toilets quiet rooms "
          "are available funded by the council short breaks programme and local grants").split()
_TAGS = ["p", "p", "p", "ul", "strong"]
_STYLE = ['', '', ' style="margin-bottom:11px"', ' style="font-size:11pt"',
          ' class="MsoNormal"']
_LANGS = [("English", "en"), ("Polish", "pl"), ("Urdu", "ur"), ("Punjabi", "pa"),
          ("Romanian", "ro"), ("Arabic", "ar"), ("Bengali", "bn"), ("British Sign Language", "bfi"),
          ("Somali", "so"), ("Portuguese", "pt"), ("Welsh", "cy")]
_DAYS = ["MO,TU,WE,TH,FR", "MO,WE,FR", "SA", "SA,SU", "TU,TH", "WE", "MO,TU,WE,TH,FR,SA"]
_HOURS = [("09:00", "17:00"), ("09:30", "15:00"), ("10:00", "12:00"), ("13:00", "16:30"),
          ("16:00", "18:00"), ("18:30", "20:30"), ("08:30", "17:30")]
_PC_AREAS = ["BS", "DN", "HU", "LN", "SO", "HP", "BA", "GL", "NE", "M", "L", "B", "LS", "S",
             "NG", "LE", "CV", "OX", "RG", "PO", "EX", "PL", "TR", "NR", "IP", "CB", "YO", "SR"]
_TAXONOMIES = [("SEND Local Offer categories", 48), ("LGA service types", 40),
               ("Needs and conditions", 32)]


# -- authorities -----------------------------------------------------------------------------
def gss_codes(n: int) -> list[str]:
    """The first *n* upper-tier English authority codes, in the real code ranges: unitary
    (E06), metropolitan districts (E08), London boroughs (E09), counties (E10); then district
    codes (E07) if more are asked for. Unique; a real code need not be a live council."""
    ranges = [("E06", 1, 66), ("E08", 1, 37), ("E09", 1, 33), ("E10", 1, 34), ("E07", 1, 999)]
    codes: list[str] = []
    for prefix, lo, hi in ranges:
        for i in range(lo, hi + 1):
            if len(codes) == n:
                return codes
            codes.append(f"{prefix}{i:06d}")
    if len(codes) < n:
        raise ValueError(f"at most {len(codes)} authorities")
    return codes


def namespace(seed: int) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"https://w3id.org/localoffer/bench/seed/{seed}")


# -- building blocks -------------------------------------------------------------------------
class Authority:
    """The records of one authority, built lazily, deterministic from (seed, code)."""

    def __init__(self, seed: int, code: str, services: int) -> None:
        self.seed = seed
        self.code = code
        self.n = services
        self.ns = namespace(seed)
        self.rng = random.Random(f"{seed}:{code}")
        r = self.rng
        self.place = (r.choice(_PLACES_C) + r.choice(_PLACES_B)).capitalize()
        if r.random() < 0.4:
            self.place = f"{r.choice(_PLACES_A)} {self.place}"
        kind = "County" if code.startswith("E10") else "Borough" if r.random() < .4 else "City"
        self.council = f"{self.place} {kind} Council"
        self.lat = r.uniform(50.4, 54.9)
        self.lon = r.uniform(-4.5, 1.3)
        self.postcode_area = r.choice(_PC_AREAS)
        self.sentences = [_sentence(r) for _ in range(400)]
        self.n_orgs = max(1, math.ceil(services / 4))
        self.n_locations = max(1, int(services * 0.4))
        order = list(range(services))
        r.shuffle(order)
        self.org_of = [order[i] // 4 for i in range(services)]     # exactly <=4 services per org
        self._orgs: dict[int, dict] = {}
        self._locations: dict[int, dict] = {}

    def id(self, kind: str, n: int | str) -> str:
        return str(uuid.uuid5(self.ns, f"{self.code}/{kind}/{n}"))

    def html(self, rng: random.Random, median: int) -> str:
        """HTML text of lognormal length around *median* characters (long right tail)."""
        target = int(min(6000, max(60, rng.lognormvariate(math.log(median), 0.75))))
        parts: list[str] = []
        size = 0
        while size < target:
            tag = rng.choice(_TAGS)
            style = rng.choice(_STYLE)
            if tag == "ul":
                items = "".join(f"<li{style}>{rng.choice(self.sentences)}</li>"
                                for _ in range(rng.randint(2, 5)))
                block = f"<ul>{items}</ul>"
            elif tag == "strong":
                block = f"<p><strong>{rng.choice(self.sentences)}</strong>&nbsp;</p>"
            else:
                text = " ".join(rng.choice(self.sentences) for _ in range(rng.randint(1, 4)))
                block = f"<p{style}><span{style}>{text}</span><br></p>"
            parts.append(block)
            size += len(block)
        return "".join(parts)

    def plain(self, rng: random.Random, sentences: int) -> str:
        return " ".join(rng.choice(self.sentences) for _ in range(sentences))

    def phone(self, rng: random.Random, key: str) -> dict:
        return {"id": self.id("phone", key), "number": f"01632 {rng.randint(960000, 960999)}",
                "type": rng.choice(["voice", "voice", "voice", "text", "cell"]),
                "languages": []}

    def postcode(self, rng: random.Random) -> str:
        pc = (f"{self.postcode_area}{rng.randint(1, 29)} {rng.randint(0, 9)}"
              f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}")
        return pc.lower() if rng.random() < 0.1 else pc     # the mapper normalises postcodes

    def organization(self, k: int) -> dict:
        org = self._orgs.get(k)
        if org is not None:
            return org
        rng = random.Random(f"{self.seed}:{self.code}:org:{k}")
        if k == 0:
            name = self.council
        else:
            name = f"{rng.choice(_ORG_A)} {self.place} {rng.choice(_SVC_B)} {rng.choice(_ORG_B)}"
        slug = "".join(c for c in name.lower() if c.isalnum())[:24]
        org = {
            "id": self.id("organization", k), "name": name,
            "description": self.html(rng, 300),
            "email": f"info@{slug}.org.uk", "website": f"https://www.{slug}.org.uk/",
            "phones": [self.phone(rng, f"org-{k}")] if rng.random() < 0.3 else [],
        }
        if rng.random() < 0.4:
            org["organization_identifiers"] = [{
                "id": self.id("organization-identifier", k), "identifier_scheme": "GB-CHC",
                "identifier_type": "Registered charity number",
                "identifier": str(rng.randint(1000000, 1199999))}]
        self._orgs[k] = org
        return org

    def location(self, k: int) -> dict:
        loc = self._locations.get(k)
        if loc is not None:
            return loc
        rng = random.Random(f"{self.seed}:{self.code}:loc:{k}")
        building = f"{rng.choice(_PLACES_C)}{rng.choice(_PLACES_B)} {rng.choice(_BUILDINGS)}"
        loc = {
            "id": self.id("location", k), "location_type": "physical", "name": building,
            "latitude": round(self.lat + rng.uniform(-0.15, 0.15), 6),
            "longitude": round(self.lon + rng.uniform(-0.2, 0.2), 6),
            "addresses": [{
                "id": self.id("address", k), "address_1": f"{rng.randint(1, 240)} {rng.choice(_STREETS)}",
                "city": self.place, "region": "England", "state_province": "",
                "postal_code": self.postcode(rng), "country": "GB", "address_type": "physical"}],
        }
        if rng.random() < 0.3:
            loc["accessibility"] = [{"id": self.id("accessibility", k),
                                     "description": "Step-free access and an accessible toilet"}]
        self._locations[k] = loc
        return loc

    def service(self, i: int, terms: list[dict]) -> dict:
        rng = random.Random(f"{self.seed}:{self.code}:svc:{i}")
        sid = self.id("service", i)
        org = self.organization(self.org_of[i])
        name = f"{rng.choice(_SVC_A)} {rng.choice(_SVC_B)} {rng.choice(_SVC_C)}"
        lo_age = rng.choice([0, 0, 2, 4, 5, 8, 11, 14, 16])
        svc: dict = {
            "id": sid, "organization_id": org["id"], "name": name,
            "alternate_name": f"{name.split()[0]} {self.place}" if rng.random() < 0.15 else "",
            "description": self.html(rng, 750) if rng.random() < 0.92 else self.plain(rng, 4),
            "url": f"https://{self.place.lower().replace(' ', '')}.example.org.uk/services/{sid}",
            "email": f"{name.split()[0].lower().strip(chr(39))}@example.org.uk" if rng.random() < 0.7 else "",
            "status": "active" if rng.random() < 0.96 else "inactive",
            "interpretation_services": "", "application_process":
                self.plain(rng, 2) if rng.random() < 0.4 else "",
            "fees_description": "Free" if rng.random() < 0.2 else "",
            "wait_time": "", "accreditations": "", "licenses": "", "alert": "",
            "eligibility_description": self.plain(rng, 1) if rng.random() < 0.6 else "",
            "minimum_age": lo_age if rng.random() < 0.8 else None,
            "maximum_age": rng.choice([5, 11, 16, 18, 19, 25]) if rng.random() < 0.8 else None,
            "assured_date": f"202{rng.randint(2, 5)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "last_modified": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
                             f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z",
            "organization": org,
            "phones": [self.phone(rng, f"svc-{i}")] if rng.random() < 0.85 else [],
            "schedules": [], "cost_options": [], "languages": [], "contacts": [],
            "service_areas": [], "service_at_locations": [], "attributes": [],
        }
        if rng.random() < 0.15:
            # a list-level record (as many ORUK v1 feeds publish): no nested detail but a place
            loc = self.location(rng.randrange(self.n_locations))
            svc["phones"] = []
            svc["service_at_locations"].append({"id": self.id("service-at-location", f"{i}-0"),
                                                "service_id": sid, "location_id": loc["id"],
                                                "location": loc})
            return svc
        if rng.random() < 0.45:
            opens, closes = rng.choice(_HOURS)
            svc["schedules"].append({"id": self.id("schedule", i), "freq": "WEEKLY", "interval": 1,
                                     "byday": rng.choice(_DAYS), "opens_at": opens, "closes_at": closes,
                                     "description": "Term time only" if rng.random() < 0.3 else ""})
        if rng.random() < 0.35:
            free = rng.random() < 0.3
            svc["cost_options"].append({
                "id": self.id("cost-option", i), "option": "Free" if free else "Per session",
                "amount": 0 if free else rng.choice([2, 2.5, 3, 5, 7.5, 10, 12, 15]),
                "currency": "GBP", "amount_description": "" if free else "per child per session"})
        if rng.random() < 0.6:
            svc["languages"].append({"id": self.id("language", f"{i}-en"), "name": "English", "code": "en"})
        if rng.random() < 0.15:
            lname, code = rng.choice(_LANGS[1:])
            svc["languages"].append({"id": self.id("language", f"{i}-{code}"), "name": lname, "code": code})
        if rng.random() < 0.15:
            svc["contacts"].append({"id": self.id("contact", i), "name": "Service lead",
                                    "title": "Coordinator", "email": svc["email"] or "team@example.org.uk"})
        if rng.random() < 0.25:
            svc["service_areas"].append({
                "id": self.id("service-area", i), "name": self.place,
                "uri": f"http://statistics.data.gov.uk/id/statistical-geography/{self.code}"})
        n_sal = 0 if rng.random() < 0.12 else (2 if rng.random() < 0.1 else 1)
        for j in range(n_sal):
            loc = self.location(rng.randrange(self.n_locations))
            svc["service_at_locations"].append({"id": self.id("service-at-location", f"{i}-{j}"),
                                                "service_id": sid, "location_id": loc["id"],
                                                "location": loc})
        for j, term in enumerate(rng.sample(terms, rng.choice([1, 2, 2, 3]))):
            attr = {"taxonomy_term_id": term["id"], "taxonomy_term": term}
            if rng.random() < 0.15:     # most feeds (ORUK v1 service_taxonomys) carry only the term
                attr.update({"id": self.id("attribute", f"{i}-{j}"), "link_id": sid,
                             "link_type": "service", "link_entity": "service"})
            svc["attributes"].append(attr)
        return svc

    def services(self, terms: list[dict]) -> Iterator[dict]:
        for i in range(self.n):
            yield self.service(i, terms)


def national_taxonomy(seed: int) -> list[dict]:
    """Taxonomy terms shared by every authority (same ids), with their taxonomy."""
    ns = namespace(seed)
    rng = random.Random(f"{seed}:taxonomy")
    terms: list[dict] = []
    for t, (tname, size) in enumerate(_TAXONOMIES):
        tax = {"id": str(uuid.uuid5(ns, f"taxonomy/{t}")), "name": tname,
               "description": f"{tname} used by English councils' Local Offer directories",
               "uri": f"https://w3id.org/localoffer/bench/taxonomy/{t}", "version": "1.0"}
        for k in range(size):
            label = f"{rng.choice(_SVC_A)} {rng.choice(_SVC_B)}".strip()
            terms.append({"id": str(uuid.uuid5(ns, f"taxonomy-term/{t}/{k}")), "code": f"T{t}-{k:03d}",
                          "name": label, "description": f"Services for {label.lower()}",
                          "taxonomy": tname, "taxonomy_id": tax["id"], "taxonomy_detail": tax,
                          "language": "en"})
    return terms


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 22))]
    text = " ".join(words)
    if rng.random() < 0.15:
        text += " &amp; more"
    return text[0].upper() + text[1:] + "."


# -- output ----------------------------------------------------------------------------------
def write_authority(out: Path, seed: int, code: str, services: int, terms: list[dict]) -> Path:
    """Write `{out}/{code}.json` one service at a time (atomically: temp file, then rename)."""
    path = out / f"{code}.json"
    tmp = out / f".{code}.json.tmp"
    auth = Authority(seed, code, services)
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write("[\n")
        for i, svc in enumerate(auth.services(terms)):
            if i:
                fh.write(",\n")
            fh.write(json.dumps(svc, ensure_ascii=False, separators=(",", ":")))
        fh.write("\n]\n")
    os.replace(tmp, path)
    return path


def generate(out: Path, authorities: int, services: int, seed: int = 1,
             log=None) -> list[tuple[str, Path]]:  # type: ignore[no-untyped-def]
    """Write the data set (or reuse it when the manifest says it is the same) and return
    [(gss_code, path)] in authority order."""
    out.mkdir(parents=True, exist_ok=True)
    codes = gss_codes(authorities)
    want = {"generator_version": GENERATOR_VERSION, "seed": seed, "authorities": authorities,
            "services_per_authority": services, "files": [f"{c}.json" for c in codes]}
    manifest = out / MANIFEST
    if manifest.exists():
        try:
            have = json.loads(manifest.read_text())
        except ValueError:
            have = None
        if have == want and all((out / f).exists() for f in want["files"]):
            if log:
                log(f"reusing generated data in {out}")
            return [(c, out / f"{c}.json") for c in codes]
        manifest.unlink()
    terms = national_taxonomy(seed)
    started = time.perf_counter()
    paths = []
    for k, code in enumerate(codes, 1):
        paths.append((code, write_authority(out, seed, code, services, terms)))
        if log and (k == len(codes) or k % max(1, len(codes) // 10) == 0):
            log(f"generated {k}/{len(codes)} authorities ({time.perf_counter() - started:.1f} s)")
    manifest.write_text(json.dumps(want, indent=1) + "\n")
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for the {GSS}.json files")
    ap.add_argument("--authorities", type=int, default=150, help="number of authorities (150)")
    ap.add_argument("--services", type=int, default=3000, help="services per authority (3000)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    paths = generate(args.out, args.authorities, args.services, args.seed,
                     log=lambda m: print(m, file=sys.stderr))
    total = sum(p.stat().st_size for _, p in paths)
    print(f"{len(paths)} files, {args.authorities * args.services} services, "
          f"{total / 2**20:.1f} MiB in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
