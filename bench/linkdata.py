"""A labelled test set for link discovery, made from a real ORUK v1 feed.

The council feeds in samples/ have no addresses or identifiers at list level, so the generator
first gives every record a synthetic place (a postcode in the authority's postcode districts,
shared between the services of an organisation and between the groups that meet at one venue)
and, for some organisations and locations, national identifiers (charity and company numbers,
Ofsted/GIAS URNs, UKPRNs, CQC location ids, UPRNs). That is the *left* feed.

The *right* feed is a synthetic neighbour that lists part of the same provision under new
UUIDs, changed the way a second council's officers would change it: names re-cased, with
typos, abbreviated or expanded, words reordered, punctuation and "The"/"Ltd" added or dropped;
postcodes kept, moved within the district, moved to another district, or missing; identifiers
kept (in another spelling of the scheme and the value) or missing. It also holds distractors:
other organisations and services with similar names at the same postcode (with their own
identifiers, when they have one).

The ground truth is the list of (kind, left id, right id) pairs that are the same thing.
Everything follows from the seed: the same arguments give the same files.

    python bench/linkdata.py samples/bristol-services-2024-12.json --out /tmp/pair --area BS
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import random
import string
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Postcode districts and place names of the two sample councils and their synthetic neighbours.
AREAS = {
    "BS": {"districts": ["BS1", "BS2", "BS3", "BS4", "BS5", "BS6", "BS7", "BS8", "BS9", "BS10",
                         "BS11", "BS13", "BS14", "BS15", "BS16"],
           "places": ["Easton", "Bedminster", "Southmead", "Knowle", "Fishponds", "Clifton",
                      "Horfield", "Hartcliffe", "Lawrence Weston", "St Pauls", "Redland",
                      "Totterdown", "Brislington", "Henbury", "Withywood", "Lockleaze"],
           "city": "Bristol"},
    "DN": {"districts": ["DN7", "DN8", "DN9", "DN15", "DN16", "DN17", "DN18", "DN19", "DN20"],
           "places": ["Scunthorpe", "Brigg", "Barton", "Ashby", "Bottesford", "Crowle",
                      "Epworth", "Winterton", "Kirton", "Broughton", "Messingham", "Haxey"],
           "city": "Scunthorpe"},
}
STREETS = ["High Street", "Station Road", "Church Lane", "Mill Road", "Victoria Road",
           "Park Avenue", "Queens Road", "London Road", "School Lane", "Saint Marks Road",
           "Manor Road", "Albert Street", "Bridge Street", "King Street", "Grove Road"]
VENUES = ["Community Centre", "Family Hub", "Library", "Children's Centre", "Youth Club",
          "Leisure Centre", "Health Centre", "Church Hall", "Resource Centre", "Methodist Church"]
UNITS = "ABDEFGHJLNPQRSTUWXYZ"
ABBREVIATIONS = [("Association", "Assoc"), ("Centre", "Ctr"), ("Centre", "Ctre"), ("Saint", "St"),
                 ("Street", "St"), ("Limited", "Ltd"), ("and", "&"), ("&", "and"),
                 ("Road", "Rd"), ("Children's", "Childrens"), ("Organisation", "Org.")]
QUALIFIERS = ["Junior", "Senior", "Youth", "Adult", "Parents", "Carers", "Family", "Women's",
              "Men's", "Intermediate", "Beginners", "Advanced", "North", "South", "East", "West",
              "Teens", "Over 50s", "Deaf", "Evening", "Saturday", "Outreach"]
ORG_SWAPS = [("Trust", "Foundation"), ("Society", "Network"), ("Group", "Club"),
             ("Project", "Partnership"), ("Centre", "Hub"), ("Service", "Team")]
ORG_SUFFIXES = ["Trust", "Foundation", "Network", "Partnership", "Collective", "Society"]
SCHEME_SPELLINGS = {
    "GB-CHC": ["GB-CHC", "Charity number", "Registered charity no.", "charity commission", "CHC"],
    "GB-COH": ["GB-COH", "Company number", "Companies House", "company registration number"],
    "URN": ["URN", "Ofsted URN", "GIAS URN", "GB-EDU", "Unique Reference Number"],
    "UKPRN": ["UKPRN", "GB-UKPRN", "UK provider reference number"],
    "CQC": ["CQC location id", "CQC", "CQC location"],
    "UPRN": ["UPRN", "Unique Property Reference Number"],
}


@dataclass
class LinkData:
    """A left feed, a perturbed right feed and the pairs that are the same thing."""

    left: list[dict[str, Any]]
    right: list[dict[str, Any]]
    truth: list[tuple[str, str, str]] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)

    def write(self, folder: Path) -> tuple[Path, Path, Path]:
        """left.json, right.json and truth.csv in *folder*."""
        folder.mkdir(parents=True, exist_ok=True)
        left, right, truth = folder / "left.json", folder / "right.json", folder / "truth.csv"
        left.write_text(json.dumps(self.left, indent=1), encoding="utf-8")
        right.write_text(json.dumps(self.right, indent=1), encoding="utf-8")
        with open(truth, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["kind", "left_id", "right_id"])
            w.writerows(sorted(self.truth))
        return left, right, truth


def read_truth(path: Path) -> list[tuple[str, str, str]]:
    """The pairs of a truth.csv."""
    with open(path, newline="", encoding="utf-8") as fh:
        return [(r["kind"], r["left_id"], r["right_id"]) for r in csv.DictReader(fh)]


# -- the left feed: real records with synthetic places and identifiers -----------------------
class Places:
    """Postcodes, streets and venues of one authority area, drawn from a seeded generator."""

    def __init__(self, rng: random.Random, area: str) -> None:
        self.rng = rng
        self.area = AREAS[area]
        self.pool = {d: [self._unit(d) for _ in range(18)] for d in self.area["districts"]}

    def _unit(self, district: str) -> str:
        r = self.rng
        return f"{district} {r.randint(0, 9)}{r.choice(UNITS)}{r.choice(UNITS)}"

    def postcode(self, district: str | None = None) -> str:
        district = district or self.rng.choice(self.area["districts"])
        return self.rng.choice(self.pool[district])

    def street(self) -> str:
        return f"{self.rng.randint(1, 180)} {self.rng.choice(STREETS)}"

    def venue_name(self) -> str:
        return f"{self.rng.choice(self.area['places'])} {self.rng.choice(VENUES)}"


def _uuid(seed: int, *parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "https://w3id.org/localoffer/bench/link/"
                          + "/".join(str(p) for p in (seed, *parts))))


def _location(ident: str, name: str, street: str, postcode: str, city: str) -> dict[str, Any]:
    return {"id": ident, "name": name, "location_type": "physical",
            "physical_addresses": [{"address_1": street, "city": city, "postal_code": postcode,
                                    "country": "GB"}]}


def _org_identifiers(rng: random.Random, name: str) -> list[tuple[str, str]]:
    lower = name.lower()
    ids: list[tuple[str, str]] = []
    if any(w in lower for w in ("school", "academy", "nursery", "pre-school", "preschool")):
        ids.append(("URN", rng.choice([str(rng.randint(100000, 149999)),
                                       f"EY{rng.randint(100000, 999999)}"])))
    if "college" in lower:
        ids.append(("UKPRN", str(rng.randint(10000000, 10099999))))
    roll = rng.random()
    if roll < 0.35:
        ids.append(("GB-CHC", str(rng.randint(200000, 1199999))))
    elif roll < 0.55:
        ids.append(("GB-COH", f"{rng.randint(100000, 13999999):08d}"))
    return ids


def _identifier_objects(rng: random.Random, ids: list[tuple[str, str]],
                        alias: bool) -> list[dict[str, Any]]:
    out = []
    for scheme, value in ids:
        spelled = rng.choice(SCHEME_SPELLINGS[scheme]) if alias else scheme
        out.append({"identifier_scheme": spelled, "identifier_type": spelled,
                    "identifier": _respell_value(rng, scheme, value) if alias else value})
    return out


def _respell_value(rng: random.Random, scheme: str, value: str) -> str:
    """Another way of writing the same identifier (spaces, leading zeros, case)."""
    roll = rng.random()
    if scheme == "GB-COH" and value.isdigit() and roll < 0.5:
        return value.lstrip("0")
    if value.isdigit() and len(value) > 5 and roll < 0.3:
        return f"{value[:3]} {value[3:]}"
    if roll < 0.15:
        return value.lower() if not value.isdigit() else f" {value} "
    return value


def augment(records: list[dict[str, Any]], *, seed: int,
            area: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The left feed: *records* with places and identifiers; and what was given to whom."""
    rng = random.Random(f"{seed}:left:{area}")
    places = Places(rng, area)
    names = list(dict.fromkeys(places.venue_name() for _ in range(60)))[:40]
    venues = [_location(_uuid(seed, area, "venue", i), name, places.street(), places.postcode(),
                        places.area["city"]) for i, name in enumerate(names)]
    homes: dict[str, dict[str, Any]] = {}
    org_ids: dict[str, list[tuple[str, str]]] = {}
    loc_ids: dict[str, list[tuple[str, str]]] = {}
    out = []
    for n, rec in enumerate(records):
        rec = copy.deepcopy(rec)
        org = rec.get("organization") or None
        if not (rec.get("name") or "").strip():
            out.append(rec)
            continue
        key = org["id"] if org else f"service-{rec['id']}"
        if key not in homes:
            name = (org or rec)["name"]
            homes[key] = _location(_uuid(seed, area, "home", key), name, places.street(),
                                   places.postcode(), places.area["city"])
            if rng.random() < 0.4:
                loc_ids[homes[key]["id"]] = [("UPRN", str(rng.randint(10000000, 100099999999)))]
            if "care" in name.lower() and rng.random() < 0.7:
                cqc = f"1-{rng.randint(100000000, 999999999)}"
                loc_ids.setdefault(homes[key]["id"], []).append(("CQC", cqc))
        if org and org["id"] not in org_ids:
            org_ids[org["id"]] = _org_identifiers(rng, org["name"])
        roll = rng.random()
        place = homes[key] if roll < 0.7 else rng.choice(venues)
        rec["service_at_locations"] = [{"id": _uuid(seed, area, "sal", n), "location": place}]
        out.append(rec)
    for rec in out:
        org = rec.get("organization")
        if org and org_ids.get(org["id"]):
            org["organization_identifiers"] = _identifier_objects(rng, org_ids[org["id"]], alias=False)
        for sal in rec.get("service_at_locations", []):
            loc = sal["location"]
            if loc_ids.get(loc["id"]):
                loc["external_identifier_type"], loc["external_identifier"] = loc_ids[loc["id"]][0]
    return out, {"org_ids": org_ids, "loc_ids": loc_ids}


# -- name perturbations ----------------------------------------------------------------------
def _typo(rng: random.Random, name: str) -> str:
    words = name.split()
    long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long:
        return name
    i = rng.choice(long)
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    op = rng.choice(["swap", "drop", "double", "sub"])
    if op == "swap":
        w = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    elif op == "drop":
        w = w[:j] + w[j + 1:]
    elif op == "double":
        w = w[:j] + w[j] + w[j:]
    else:
        w = w[:j] + rng.choice(string.ascii_lowercase) + w[j + 1:]
    words[i] = w
    return " ".join(words)


def _recase(rng: random.Random, name: str) -> str:
    return rng.choice([name.upper(), name.lower(), name.title()])


def _abbreviate(rng: random.Random, name: str) -> str:
    options = [(a, b) for a, b in ABBREVIATIONS if f" {a.lower()} " in f" {name.lower()} "]
    options += [(b, a) for a, b in ABBREVIATIONS if f" {b.lower()} " in f" {name.lower()} "
                and b not in ("Ctre", "Org.")]
    if not options:
        return name
    a, b = rng.choice(options)
    words = [b if w.lower() == a.lower() else w for w in name.split()]
    return " ".join(words)


def _reorder(rng: random.Random, name: str) -> str:
    for sep in (" - ", ": ", " – "):
        if sep in name:
            head, tail = name.split(sep, 1)
            return f"{tail}{sep}{head}"
    words = name.split()
    if len(words) < 3:
        return name
    return f"{' '.join(words[1:])}, {words[0]}"


def _articles(rng: random.Random, name: str) -> str:
    if name.lower().startswith("the "):
        return name[4:]
    return rng.choice([f"The {name}", f"{name} Ltd", f"{name} CIC"])


def _punctuation(rng: random.Random, name: str) -> str:
    if "'" in name or "-" in name:
        return name.replace("'", "").replace("-", " ")
    return f"{name}."


NAME_CHANGES = [(_recase, 0.35), (_typo, 0.35), (_abbreviate, 0.3), (_reorder, 0.15),
                (_articles, 0.12), (_punctuation, 0.15)]


def perturb_name(rng: random.Random, name: str) -> str:
    """A second council's spelling of *name*: zero to three of the changes above."""
    for change, p in NAME_CHANGES:
        if rng.random() < p:
            name = change(rng, name)
    return " ".join(name.split())


def distract_name(rng: random.Random, name: str, org: bool) -> str:
    """A different thing with a similar name: a qualifier added or swapped, another suffix."""
    words = name.split()
    if org:
        for a, b in ORG_SWAPS:
            if a in words:
                return " ".join(b if w == a else w for w in words)
        if rng.random() < 0.5:
            return f"{name} {rng.choice(ORG_SUFFIXES)}"
    present = [i for i, w in enumerate(words) if w in QUALIFIERS]
    if present:
        words[present[0]] = rng.choice([q for q in QUALIFIERS if q != words[present[0]]])
        return " ".join(words)
    return f"{rng.choice(QUALIFIERS)} {name}" if rng.random() < 0.5 else f"{name} ({rng.choice(QUALIFIERS)})"


# -- the right feed ----------------------------------------------------------------------------
class Neighbour:
    """Builds the right feed; keeps one copy per left organisation and location."""

    def __init__(self, seed: int, area: str, given: dict[str, Any]) -> None:
        self.seed = seed
        self.rng = random.Random(f"{seed}:right:{area}")
        self.places = Places(random.Random(f"{seed}:right-places:{area}"), area)
        self.given = given
        self.orgs: dict[str, dict[str, Any]] = {}
        self.locs: dict[str, dict[str, Any]] = {}
        self.truth: list[tuple[str, str, str]] = []
        self.notes: dict[str, int] = {}

    def note(self, what: str) -> None:
        self.notes[what] = self.notes.get(what, 0) + 1

    def org(self, org: dict[str, Any]) -> dict[str, Any]:
        if org["id"] in self.orgs:
            return self.orgs[org["id"]]
        r = self.rng
        copy_ = {k: v for k, v in org.items() if k != "organization_identifiers"}
        copy_["id"] = _uuid(self.seed, "right-org", org["id"])
        if r.random() < 0.6:
            copy_["name"] = perturb_name(r, org["name"])
            self.note("organization renamed")
        if r.random() < 0.3:
            copy_["url"] = ""
        kept = [(s, v) for s, v in self.given["org_ids"].get(org["id"], []) if r.random() < 0.7]
        if len(kept) < len(self.given["org_ids"].get(org["id"], [])):
            self.note("organization identifier missing")
        if kept:
            copy_["organization_identifiers"] = _identifier_objects(r, kept, alias=True)
        self.orgs[org["id"]] = copy_
        self.truth.append(("organization", org["id"], copy_["id"]))
        return copy_

    def location(self, loc: dict[str, Any]) -> dict[str, Any]:
        if loc["id"] in self.locs:
            return self.locs[loc["id"]]
        r = self.rng
        address = loc["physical_addresses"][0]
        postcode = address["postal_code"]
        district = postcode.split()[0]
        roll = r.random()
        if roll < 0.55:
            self.note("postcode kept")
        elif roll < 0.78:
            postcode = self.places.postcode(district)
            self.note("postcode moved within the district")
        elif roll < 0.88:
            others = [d for d in self.places.area["districts"] if d != district]
            postcode = self.places.postcode(r.choice(others))
            self.note("postcode moved to another district")
        else:
            postcode = ""
            self.note("postcode missing")
        street = address["address_1"]
        if r.random() < 0.3:
            street = _abbreviate(r, street)
        copy_ = _location(_uuid(self.seed, "right-loc", loc["id"]),
                          perturb_name(r, loc["name"]) if r.random() < 0.5 else loc["name"],
                          street, postcode.lower() if r.random() < 0.1 else postcode,
                          address["city"])
        ids = self.given["loc_ids"].get(loc["id"], [])
        if ids and r.random() < 0.7:
            scheme, value = ids[0]
            copy_["external_identifier_type"] = r.choice(SCHEME_SPELLINGS[scheme])
            copy_["external_identifier"] = _respell_value(r, scheme, value)
        elif ids:
            self.note("location identifier missing")
        self.locs[loc["id"]] = copy_
        self.truth.append(("location", loc["id"], copy_["id"]))
        return copy_

    def service(self, rec: dict[str, Any], n: int) -> dict[str, Any]:
        r = self.rng
        out = copy.deepcopy(rec)
        out["id"] = _uuid(self.seed, "right-service", rec["id"], n)
        if r.random() < 0.6:
            out["name"] = perturb_name(r, rec["name"])
            self.note("service renamed")
        if r.random() < 0.3:
            out["url"] = ""
        if rec.get("organization"):
            out["organization"] = self.org(rec["organization"])
        out["service_at_locations"] = [
            {"id": _uuid(self.seed, "right-sal", rec["id"], i), "location": self.location(sal["location"])}
            for i, sal in enumerate(rec.get("service_at_locations", []))]
        self.truth.append(("service", rec["id"], out["id"]))
        return out

    def distractor(self, rec: dict[str, Any], n: int) -> dict[str, Any]:
        """Another provider's similar service at the same postcode (never the same thing)."""
        r = self.rng
        out = {k: v for k, v in rec.items() if k not in ("organization", "service_at_locations")}
        out["id"] = _uuid(self.seed, "distractor-service", rec["id"], n)
        out["name"] = distract_name(r, rec["name"], org=False)
        out["url"] = ""
        out["email"] = ""
        org = rec.get("organization")
        if org:
            other = {"id": _uuid(self.seed, "distractor-org", org["id"], n),
                     "name": distract_name(r, org["name"], org=True), "description": "",
                     "url": "", "logo": "", "uri": ""}
            if self.given["org_ids"].get(org["id"]) and r.random() < 0.5:
                scheme, _ = self.given["org_ids"][org["id"]][0]
                other["organization_identifiers"] = _identifier_objects(
                    r, [(scheme, str(r.randint(1200000, 1299999)) if scheme != "URN"
                         else str(r.randint(150000, 159999)))], alias=True)
            out["organization"] = other
        place = rec["service_at_locations"][0]["location"]
        address = place["physical_addresses"][0]
        out["service_at_locations"] = [{
            "id": _uuid(self.seed, "distractor-sal", rec["id"], n),
            "location": _location(_uuid(self.seed, "distractor-loc", rec["id"], n),
                                  distract_name(r, place["name"], org=True), self.places.street(),
                                  address["postal_code"], address["city"])}]
        self.note("distractor")
        return out


def make_pair(records: list[dict[str, Any]], *, seed: int = 1, area: str = "BS",
              share: float = 0.65, distractors: float = 0.12, limit: int | None = None) -> LinkData:
    """The left feed, the right feed and the truth, from the real *records*."""
    if limit is not None:
        records = records[:limit]
    left, given = augment(records, seed=seed, area=area)
    nb = Neighbour(seed, area, given)
    right: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, rec in enumerate(left):
        # A service id used twice in a feed is loaded once (the first): copy only that one.
        duplicate = rec["id"] in seen
        seen.add(rec["id"])
        if duplicate or not (rec.get("name") or "").strip() or not rec.get("service_at_locations"):
            continue
        if nb.rng.random() < share:
            right.append(nb.service(rec, n))
        if nb.rng.random() < distractors:
            right.append(nb.distractor(rec, n))
    nb.rng.shuffle(right)
    return LinkData(left, right, sorted(set(nb.truth)), dict(sorted(nb.notes.items())))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("feed", type=Path, help="an ORUK v1 feed (JSON array of services)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--area", choices=sorted(AREAS), default="BS")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit", type=int)
    args = parser.parse_args(argv)
    data = make_pair(json.loads(args.feed.read_text(encoding="utf-8")), seed=args.seed,
                     area=args.area, limit=args.limit)
    paths = data.write(args.out)
    print(f"{len(data.left)} left, {len(data.right)} right records, {len(data.truth)} true pairs: "
          + ", ".join(str(p) for p in paths))
    print(json.dumps(data.notes, indent=1))


if __name__ == "__main__":
    main()
