"""RDF (an `Index` of fetched triples) to ORUK 3.0 objects: the inverse of ingest/mapping.py
for the fields the HSDS-UK-3.0 profile carries, and nothing else.

Each function returns one profile object with its fields in the schema's order. Values the
store does not hold are left out, except where the profile requires a field: then a required
text is "" and a required enum takes the documented default (see `REQUIRED_DEFAULTS`)."""

from __future__ import annotations

import re
from typing import Any

import pyoxigraph as ox

from .fetch import Index
from .nodes import DCT, OWL, WGS, H, Node, S, date_time, put, sort_by_id, uri
from .terms import attributes, taxonomy, taxonomy_term

__all__ = ["service", "service_at_location", "taxonomy", "taxonomy_term", "uri", "Node",
           "REQUIRED_DEFAULTS"]

DAY_CODES = {"Monday": "MO", "Tuesday": "TU", "Wednesday": "WE", "Thursday": "TH", "Friday": "FR",
             "Saturday": "SA", "Sunday": "SU"}
STATUSES = ("active", "inactive", "defunct", "temporarily closed")
REQUIRED_DEFAULTS = {"service.status": "active", "location.location_type": "physical",
                     "address.address_type": "the location's type, else physical"}


# -- services ------------------------------------------------------------------------------
def service(index: Index, node: str, *, full: bool, channels: bool = True) -> dict[str, Any]:
    """A service: `service_list` fields (full=False) or `service` (full=True); *channels*
    False leaves out service_at_locations (inside a service_at_location)."""
    n = Node(index, node)
    out: dict[str, Any] = {"id": n.id}
    org = n.link(S + "provider")
    put(out, "organization_id", org.id if org else None)
    out["name"] = n.text(S + "name") or ""
    put(out, "description", n.text(S + "description"))
    put(out, "url", uri(n.text(S + "url")))
    put(out, "email", n.text(S + "email"))
    out["status"] = status(n)
    offers = n.links(S + "offers")
    put(out, "fees", next((o.text(S + "description") for o in offers
                           if o.text(H + "sourceField") == "fees"), None))
    put(out, "accreditations", n.text(H + "accreditations"))
    audience = n.link(S + "audience")
    if audience:
        put(out, "minimum_age", audience.number(S + "suggestedMinAge"))
        put(out, "maximum_age", audience.number(S + "suggestedMaxAge"))
    put(out, "assured_date", n.text(H + "assuredDate"))
    put(out, "alert", n.text(H + "alert"))
    put(out, "last_modified", date_time(n.text(DCT + "modified"), n.text(H + "sourceModified")))
    if full:
        put(out, "schedules", sort_by_id([schedule(s) for s in n.links(S + "hoursAvailable")]))
        put(out, "service_areas", sort_by_id([service_area(a) for a in n.links(S + "areaServed")]))
        if channels:
            put(out, "service_at_locations", sort_by_id([
                service_at_location(index, c.key, full=True, nested=True)
                for c in n.links(S + "availableChannel") if S + "ServiceChannel" in c.types
                and c.values(S + "providesService")]))
        put(out, "languages", sort_by_id([language(lang) for lang in n.links(S + "availableLanguage")]))
    if org and org.props:
        out["organization"] = organization(org, full=full)
    if full:
        put(out, "funding", sort_by_id([{"id": f.id, **_opt("source", f.text(S + "description"))}
                                        for f in n.links(H + "funding")]))
        put(out, "cost_options", sort_by_id([cost_option(o) for o in offers
                                             if not o.text(H + "sourceField")]))
        put(out, "contacts", sort_by_id([contact(c) for c in n.links(H + "contact")]))
        put(out, "attributes", attributes(n))
    return out


def status(n: Node) -> str:
    """The service status from its hsds:status concept (required: default active)."""
    for o in n.values(H + "status"):
        text = o.value.rsplit("/", 1)[-1].replace("-", " ") if isinstance(o, ox.NamedNode) else str(o.value)
        if text.lower() in STATUSES:
            return text.lower()
    return REQUIRED_DEFAULTS["service.status"]


def _opt(name: str, value: Any) -> dict[str, Any]:
    return {name: value} if value is not None else {}


def organization(n: Node, *, full: bool) -> dict[str, Any]:
    """An organization (identifiers and attributes only when *full*)."""
    out: dict[str, Any] = {"id": n.id, "name": n.text(S + "name") or "",
                           "description": n.text(S + "description") or ""}
    put(out, "email", n.text(S + "email"))
    put(out, "website", next((u for u in map(uri, n.texts(S + "url")) if u), None))
    put(out, "logo", n.text(S + "logo"))
    put(out, "uri", next((o.value for o in n.values(OWL + "sameAs") if isinstance(o, ox.NamedNode)), None))
    parent = n.link(S + "parentOrganization")
    put(out, "parent_organization_id", parent.id if parent else None)
    if full:
        put(out, "organization_identifiers", sort_by_id([
            organization_identifier(i) for i in n.links(S + "identifier") if S + "PropertyValue" in i.types]))
        put(out, "attributes", attributes(n))
    return out


def organization_identifier(n: Node) -> dict[str, Any]:
    """An organization_identifier from its schema:PropertyValue."""
    out: dict[str, Any] = {"id": n.id}
    put(out, "identifier_scheme", n.text(S + "propertyID"))
    out["identifier_type"] = n.text(S + "name") or ""
    out["identifier"] = n.text(S + "value") or ""
    put(out, "attributes", attributes(n))
    return out


def language(n: Node) -> dict[str, Any]:
    """A language: the profile keeps only its id and the phone it is spoken on."""
    out: dict[str, Any] = {"id": n.id}
    phone = n.link(H + "onPhone")
    put(out, "phone_id", phone.id if phone else None)
    return out


def schedule(n: Node) -> dict[str, Any]:
    """A schedule from its OpeningHoursSpecification or Schedule."""
    out: dict[str, Any] = {"id": n.id}
    channel = n.link(H + "serviceAtLocation")
    put(out, "service_at_location_id", channel.id if channel else None)
    put(out, "valid_from", n.text(S + "validFrom"))
    put(out, "valid_to", n.text(S + "validThrough"))
    put(out, "dtstart", n.text(S + "startDate"))
    freq = n.text(H + "freq")
    put(out, "freq", freq if freq in ("WEEKLY", "MONTHLY") else None)
    put(out, "interval", n.number(H + "interval"))
    put(out, "byday", byday(n))
    put(out, "bymonthday", n.text(S + "byMonthDay"))
    put(out, "description", n.text(S + "description"))
    put(out, "opens_at", n.text(S + "opens") or n.text(S + "startTime"))
    put(out, "closes_at", n.text(S + "closes") or n.text(S + "endTime"))
    put(out, "schedule_link", uri(n.text(S + "url")))
    put(out, "attending_type", n.text(H + "attendingType"))
    put(out, "notes", n.text(H + "notes"))
    return out


def byday(n: Node) -> str | None:
    """BYDAY as published (hsds:rrule keeps its order), else the days in week order."""
    for rule in n.texts(H + "rrule"):
        m = re.search(r"(?:^|;)BYDAY=([^;]+)", rule)
        if m:
            return m.group(1)
    days = [DAY_CODES[o.value.rsplit("/", 1)[-1]] for p in (S + "dayOfWeek", S + "byDay")
            for o in n.values(p) if isinstance(o, ox.NamedNode) and o.value.rsplit("/", 1)[-1] in DAY_CODES]
    days += [str(o.value) for o in n.values(S + "byDay") if isinstance(o, ox.Literal)]
    order = list(DAY_CODES.values())
    days = sorted(set(days), key=lambda d: (order.index(d) if d in order else 7, d))
    return ",".join(days) or None


def service_area(n: Node) -> dict[str, Any]:
    """A service_area from its AdministrativeArea."""
    out: dict[str, Any] = {"id": n.id}
    names = n.texts(S + "name")
    legacy = n.text(H + "serviceAreaText")
    put(out, "name", names[0] if names else None)
    put(out, "extent", n.text(H + "extent"))
    put(out, "extent_type", n.text(H + "extentType"))
    unresolved = [t[5:] for t in n.texts(H + "unresolvedLink") if t.startswith("uri: ")]
    put(out, "uri", next((o.value for o in n.values(OWL + "sameAs") if isinstance(o, ox.NamedNode)),
                         unresolved[0] if unresolved else None))
    put(out, "service_area", legacy or legacy_text(names))
    return out


def legacy_text(names: list[str]) -> str | None:
    """An ORUK legacy text field (service_area, accessibility) when the store has no separate
    value: the object's name, which it repeats in v1 feeds (in data ingested before the legacy
    fields had properties of their own, both texts are schema:name values)."""
    return names[-1] if names else None


def cost_option(n: Node) -> dict[str, Any]:
    """A cost_option from its Offer and price specification."""
    out: dict[str, Any] = {"id": n.id}
    put(out, "valid_from", n.text(S + "validFrom"))
    put(out, "valid_to", n.text(S + "validThrough"))
    put(out, "option", n.text(S + "name"))
    price = n.link(S + "priceSpecification")
    if price:
        put(out, "amount", price.number(S + "price"))
        put(out, "amount_description", price.text(S + "unitText"))
    return out


def contact(n: Node) -> dict[str, Any]:
    """A contact (its name only if the ingest published names and the API may serve them)."""
    out: dict[str, Any] = {"id": n.id}
    put(out, "name", n.text(S + "name") if n.index.publish_names else None)
    put(out, "title", n.text(H + "title"))
    put(out, "attributes", attributes(n))
    return out


# -- places --------------------------------------------------------------------------------
def service_at_location(index: Index, node: str, *, full: bool, nested: bool = False) -> dict[str, Any]:
    """A service_at_location: inside a service (*nested*: id and location only), or on its
    own with service_id, location_id and the service (list or full form)."""
    n = Node(index, node)
    out: dict[str, Any] = {"id": n.id}
    place = n.link(S + "serviceLocation")
    svc = n.link(S + "providesService")
    if not nested or (place and not place.props):  # nested: implied by the location, if served
        put(out, "service_id", svc.id if svc and not nested else None)
        put(out, "location_id", place.id if place else None)
    if place and place.props:
        out["location"] = location(place, full=full)
    if not nested and svc and svc.props:
        out["service"] = service(index, svc.key, full=full, channels=False)
    return out


def location(n: Node, *, full: bool) -> dict[str, Any]:
    """A location (addresses, accessibility and attributes when *full*)."""
    out: dict[str, Any] = {"id": n.id}
    kind = n.text(H + "locationType")
    if kind not in ("physical", "postal", "virtual"):
        kind = "virtual" if S + "VirtualLocation" in n.types else REQUIRED_DEFAULTS["location.location_type"]
    out["location_type"] = kind
    put(out, "name", n.text(S + "name"))
    put(out, "description", n.text(S + "description"))
    geo = n.link(S + "geo")
    # a point; else coordinates that are no WGS84 point (hsds:) or one without the other (wgs:)
    lat = geo.number(S + "latitude") if geo else _first(n.number(H + "latitude"), n.number(WGS + "lat"))
    lon = geo.number(S + "longitude") if geo else _first(n.number(H + "longitude"), n.number(WGS + "long"))
    put(out, "latitude", lat)
    put(out, "longitude", lon)
    ext = next((i for i in sorted(n.links(S + "identifier"), key=lambda i: i.key)
                if S + "PropertyValue" in i.types), None)
    if ext:
        put(out, "external_identifier", ext.text(S + "value"))
        kind_text = ext.text(S + "propertyID")
        put(out, "external_identifier_type", kind_text if kind_text != "external" else None)
    if full:
        put(out, "addresses", sort_by_id([address(a, kind) for a in n.links(S + "address")]))
        put(out, "accessibility", sort_by_id([accessibility(a) for a in n.links(S + "amenityFeature")]))
        put(out, "attributes", attributes(n))
    return out


def address(n: Node, location_type: str) -> dict[str, Any]:
    """An address from its PostalAddress."""
    out: dict[str, Any] = {"id": n.id}
    put(out, "attention", n.text(H + "attention") if n.index.publish_names else None)
    out["address_1"] = n.text(H + "address1") or n.text(S + "streetAddress") or ""
    out["city"] = n.text(S + "addressLocality") or ""
    put(out, "region", n.text(H + "region"))
    out["state_province"] = n.text(S + "addressRegion") or ""
    out["postal_code"] = n.text(S + "postalCode") or ""
    out["country"] = n.text(S + "addressCountry") or ""
    kind = n.text(H + "addressType")
    out["address_type"] = kind if kind in ("physical", "postal", "virtual") else location_type
    put(out, "attributes", attributes(n))
    return out


def accessibility(n: Node) -> dict[str, Any]:
    """An accessibility item from its LocationFeatureSpecification."""
    out: dict[str, Any] = {"id": n.id}
    names = n.texts(S + "name")
    put(out, "description", names[0] if names else None)
    put(out, "details", n.text(S + "description"))
    put(out, "url", uri(n.text(S + "url")))
    put(out, "attributes", attributes(n))
    put(out, "accessibility", n.text(H + "accessibilityText") or legacy_text(names))
    return out


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)
