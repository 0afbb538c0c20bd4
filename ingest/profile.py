"""Authority profiles: the authority-wide Local Offer information that service directories do
not hold (policies, statements, the pages the law asks for), written by a council as YAML.

    authority: E06000023                  # ONS GSS code (must match --authority)
    name: Bristol City Council
    local_offer:
      url: https://www.example.gov.uk/local-offer
      title: Bristol SEND Local Offer
      last_reviewed: 2024-11-01           # when the Local Offer as a whole was last reviewed
      feedback_url: https://www.example.gov.uk/local-offer/feedback   # where families comment on it
    information:                          # one entry per page, policy or document
      - items: [home-to-school-travel-policy]    # topics it covers: concept names from
        url: https://www.example.gov.uk/travel   # ontology/schemes/information-item.ttl
        title: Home to school travel policy
        updated: 2024-09-01
        academic_year: 2025/26            # optional: the year a yearly statement covers

Each information entry becomes an `lo:InformationResource` linked from the authority's single
`lo:LocalOffer` node with `lo:hasInformation`; the SHACL shapes then check every statutory topic
is covered."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from localoffer import namespaces as ns
from localoffer.errors import IngestError, RecordError
from localoffer.rdfterms import iri, lit, typed
from localoffer.resources import data_folder

from .emit import DCT, A, L, Out, S
from .mapping import MappedRecord, Mapper
from .records import Item

ITEM_SCHEME = f"{ns.SCHEME}information-item"
_URL = re.compile(r"^https?://[^\s<>\"]+$")
_YEAR = re.compile(r"^\d{4} ?[-/] ?(\d{2}|\d{4})$")


def information_items() -> dict[str, str]:
    """Concept name -> IRI for the Local Offer information items of the ontology."""
    text = (data_folder("ontology") / "schemes" / "information-item.ttl").read_text(encoding="utf-8")
    names = set(re.findall(r"^ii:([a-z0-9-]+)\s*$", text, re.M))
    return {n: f"{ITEM_SCHEME}/{n}" for n in sorted(names)}


def read_profile(path: Path, hasher: Any) -> Iterator[Item]:
    """Items for a profile file: the Local Offer itself, then one per information entry."""
    import yaml

    try:
        body = path.read_bytes()
    except FileNotFoundError:
        raise IngestError(f"{path}: no such file") from None
    hasher.update(body)
    try:
        doc = yaml.safe_load(body.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise IngestError(f"{path}: not a valid YAML profile: {exc}") from None
    if not isinstance(doc, dict) or "authority" not in doc:
        raise IngestError(f"{path}: a profile is a YAML mapping with at least 'authority' (a GSS code), "
                          "'local_offer' and 'information'; see ingest/profile.py")
    header = {k: v for k, v in doc.items() if k != "information"}
    yield Item("local_offer", header, f"{path} local_offer")
    entries = doc.get("information") or []
    if not isinstance(entries, list):
        raise IngestError(f"{path}: 'information' must be a list of entries with items, url and title")
    for i, entry in enumerate(entries):
        yield Item("information", entry if isinstance(entry, dict) else {"_value": entry},
                   f"{path} information[{i}]")


def map_profile_item(mapper: Mapper, item: Item) -> list[MappedRecord]:
    """The Local Offer node or one information resource as N-Triples."""
    o = Out(item.locator)
    offer = iri(ns.mint(mapper.base, "local-offer", mapper.authority))
    if item.kind == "local_offer":
        return [_local_offer(mapper, item.data, o, offer)]
    d = item.data
    if "_value" in d:
        raise RecordError("must be a mapping with items, url and title", record=item.locator)
    url = o.scalar(d, "url")
    if not url or not _URL.match(url):
        raise o.fault("url", f"must be the web address of the page, e.g. https://www.example.gov.uk/travel; got {url!r}")
    known = information_items()
    items = d.get("items") or ([d["item"]] if d.get("item") else [])
    if isinstance(items, str):
        items = [items]
    if not items:
        raise o.fault("items", "name the topic(s) this page covers, e.g. [home-to-school-travel-policy]")
    unknown = [x for x in items if str(x) not in known]
    if unknown:
        raise o.fault("items", f"unknown information item(s) {', '.join(map(str, unknown))}; "
                               f"choose from: {', '.join(known)}")
    s = iri(ns.mint(mapper.base, "information", f"{mapper.authority.lower()}-{_slug(url)}"))
    o.add(offer, L.hasInformation, s)
    o.kind(s, L.InformationResource)
    o.add(s, S.url, typed(url, "anyURI"))
    o.text(s, DCT.title, d, "title")
    _date(o, s, d, "updated")
    year = d.get("academic_year")
    if year is not None:
        if not _YEAR.match(str(year)):
            raise o.fault("academic_year", f"must be an academic year such as 2025/26; got {year!r}")
        o.add(s, DCT.temporal, lit(str(year)))
    for x in items:
        o.add(s, L.informationItem, iri(known[str(x)]))
    return [MappedRecord("information", url, s[1:-1], d.get("title"), o.lines)]


def _local_offer(mapper: Mapper, d: dict[str, Any], o: Out, offer: str) -> MappedRecord:
    code = str(d.get("authority", "")).strip().upper()
    if code != mapper.authority:
        raise IngestError(f"{o.record}: the profile is for {code or '(no code)'} but --authority "
                          f"is {mapper.authority}; nothing was loaded")
    lo_info = o.obj(d, "local_offer") or {}
    o.kind(offer, L.LocalOffer)
    o.add(mapper.authority_iri, L.localOffer, offer)
    o.add(offer, DCT.publisher, mapper.authority_iri)
    o.add(offer, DCT.spatial, iri(ns.STATGEO + mapper.authority))
    name = o.scalar(d, "name")
    if name:
        o.add(offer, S.name, lit(f"{name} Local Offer"))
    lo = o.at("local_offer")
    url = lo.scalar(lo_info, "url")
    if url:
        if not _URL.match(url):
            raise lo.fault("url", f"must be the Local Offer's web address; got {url!r}")
        o.add(offer, S.url, typed(url, "anyURI"))
    lo.text(offer, DCT.title, lo_info, "title")
    feedback = lo.scalar(lo_info, "feedback_url")
    if feedback:
        if not _URL.match(feedback):
            raise lo.fault("feedback_url",
                           f"must be the web address of the feedback form or page; got {feedback!r}")
        o.add(offer, L.feedbackUrl, iri(feedback))
    _date(lo, offer, lo_info, "last_reviewed")
    return MappedRecord("local_offer", mapper.authority, offer[1:-1], name, o.lines)


def _date(o: Out, s: str, d: dict[str, Any], field: str) -> None:
    value = d.get(field)
    if isinstance(value, (dt.date, dt.datetime)):
        d = {**d, field: value.isoformat()[:10]}
    o.date(s, DCT.modified, d, field)


def _slug(url: str) -> str:
    import hashlib

    return hashlib.sha1(url.encode()).hexdigest()[:16]


__all__ = ["read_profile", "map_profile_item", "information_items", "A"]
