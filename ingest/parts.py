"""Mapping of the HSDS 3.0 objects that hang off services, organisations and locations:
phones, contacts, schedules, areas, languages, offers, addresses, accessibility, ..."""

from __future__ import annotations

import json
from typing import Any

from localoffer.rdfterms import iri, lit, typed

from .emit import CPSV, CV, DCT, GEO, H, OWL, RDF_VALUE, RDFS, WGS, A, Out, S, identifier
from .text import clean_plain, normalise_postcode

DAYS = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday", "FR": "Friday",
        "SA": "Saturday", "SU": "Sunday"}


class Parts:
    """Mixin of the mapper: each method maps one HSDS object and returns its IRI."""

    base: str
    authority: str
    publish_names: bool

    def node(self, kind: str, d: dict[str, Any], out: Out, fallback: str) -> str:
        """The IRI of a nested object: minted from its id, or *fallback* (a hash IRI of the parent)."""
        raise NotImplementedError

    def mint(self, kind: str, source_id: str) -> str:
        """The IRI of a record of *kind* with the source id *source_id*."""
        raise NotImplementedError

    def attribute(self, d: dict[str, Any], out: Out, subject: str, fallback: str) -> None:
        """Map an HSDS attribute of *subject* (a taxonomy term link, and its details)."""
        raise NotImplementedError

    def attributes(self, d: dict[str, Any], o: Out, s: str) -> None:
        """Map the `attributes` of the object *d* (mapped as *s*)."""
        for i, attr in enumerate(o.items(d, "attributes")):
            self.attribute(attr, o, s, f"{s[:-1]}-attribute-{i}>")

    # -- contact points ------------------------------------------------------------------
    def phone(self, d: dict[str, Any], out: Out, fallback: str) -> str:
        o = out.at("phone")
        s = self.node("phone", d, o, fallback)
        o.kind(s, S.ContactPoint)
        number = o.text(s, S.telephone, d, "number")
        if number is None:
            raise o.fault("number", "a phone needs a number, e.g. 0117 922 2000")
        o.number(s, H.extension, d, "extension", "integer", "100")
        kind = o.text(s, H.phoneType, d, "type")
        if kind == "fax":
            o.add(s, S.faxNumber, lit(number))
        o.text(s, S.description, d, "description", html=True)
        for lang in o.items(d, "languages"):
            o.add(s, S.availableLanguage, self.language(lang, o, f"{s[:-1]}-lang-{_slug(lang)}>"))
        return s

    def contact(self, d: dict[str, Any], out: Out, fallback: str) -> str:
        o = out.at("contact")
        s = self.node("contact", d, o, fallback)
        o.kind(s, S.ContactPoint)
        if self.publish_names:
            o.text(s, S.name, d, "name")
        o.text(s, H.title, d, "title")
        o.text(s, H.department, d, "department")
        o.text(s, S.email, d, "email")
        for i, phone in enumerate(o.items(d, "phones")):
            p = self.phone(phone, o, f"{s[:-1]}-phone-{i}>")
            o.add(s, H.phone, p)
        self.attributes(d, o, s)
        return s

    def language(self, d: dict[str, Any], out: Out, fallback: str) -> str:
        o = out.at("language")
        s = self.node("language", d, o, fallback)
        o.kind(s, S.Language)
        o.text(s, S.name, d, "name")
        code = o.text(s, S.alternateName, d, "code")
        if code and len(code) == 2 and code.isalpha():
            o.add(s, DCT.language, iri(f"http://id.loc.gov/vocabulary/iso639-1/{code.lower()}"))
        o.text(s, S.description, d, "note")
        phone = o.scalar(d, "phone_id")
        if phone:
            o.add(s, H.onPhone, self.mint("phone", phone))
        return s

    # -- time ----------------------------------------------------------------------------
    def schedule(self, d: dict[str, Any], out: Out, fallback: str) -> str:
        o = out.at("schedule")
        s = self.node("schedule", d, o, fallback)
        freq = (o.scalar(d, "freq") or "").upper()
        interval = o.scalar(d, "interval")
        byday = o.scalar(d, "byday") or ""
        days = [p.strip().upper() for p in byday.split(",") if p.strip()]
        simple = freq in ("", "WEEKLY") and interval in (None, "1") and all(x in DAYS for x in days) \
            and not any(o.scalar(d, f) for f in ("bymonthday", "byweekno", "byyearday", "count", "until"))
        o.kind(s, S.OpeningHoursSpecification if simple else S.Schedule)
        for day in days:
            if day in DAYS:
                o.add(s, S.dayOfWeek if simple else S.byDay, iri(f"https://schema.org/{DAYS[day]}"))
            else:
                o.add(s, S.byDay, lit(day))
        o.time(s, S.opens if simple else S.startTime, d, "opens_at")
        o.time(s, S.closes if simple else S.endTime, d, "closes_at")
        o.date(s, S.validFrom, d, "valid_from")
        o.date(s, S.validThrough, d, "valid_to")
        o.date(s, S.startDate, d, "dtstart")
        o.date(s, S.endDate, d, "until")
        o.number(s, S.repeatCount, d, "count", "integer", "3")
        o.number(s, H.interval, d, "interval", "integer", "1")
        if freq:
            if freq not in ("WEEKLY", "MONTHLY", "DAILY", "YEARLY"):
                raise o.fault("freq", f"must be WEEKLY or MONTHLY; got {freq!r}")
            o.add(s, H.freq, lit(freq))
            o.add(s, S.repeatFrequency, lit(f"P{interval or 1}{freq[0] if freq != 'DAILY' else 'D'}"))
        o.text(s, S.byMonthDay, d, "bymonthday")
        o.number(s, H.timezone, d, "timezone", "decimal", "0")
        for field, prop in (("wkst", H.wkst), ("byweekno", H.byweekno), ("byyearday", H.byyearday)):
            o.text(s, prop, d, field)
        o.text(s, S.description, d, "description", html=True)
        o.text(s, H.notes, d, "notes", html=True)
        o.url(s, S.url, d, "schedule_link")
        o.text(s, H.attendingType, d, "attending_type")
        o.add(s, H.rrule, lit(_rrule(d, freq, interval, days)))
        sal = o.scalar(d, "service_at_location_id")
        if sal:
            o.add(s, H.serviceAtLocation, self.mint("service-at-location", sal))
        return s

    def holiday(self, d: dict[str, Any], out: Out, fallback: str) -> str:
        """ORUK v1 holiday_schedules: special opening hours (closed days open 00:00-00:00)."""
        o = out.at("holiday_schedule")
        s = fallback
        o.kind(s, S.OpeningHoursSpecification)
        closed = o.boolean(s, H.closed, d, "closed")
        if closed:
            o.add(s, S.opens, typed("00:00:00", "time"))
            o.add(s, S.closes, typed("00:00:00", "time"))
        else:
            o.time(s, S.opens, d, "opens_at")
            o.time(s, S.closes, d, "closes_at")
        o.date(s, S.validFrom, d, "start_date")
        o.date(s, S.validThrough, d, "end_date")
        return s

    # -- places --------------------------------------------------------------------------
    def service_area(self, d: dict[str, Any], out: Out, fallback: str) -> str:
        o = out.at("service_area")
        s = self.node("service-area", d, o, fallback)
        o.kind(s, S.AdministrativeArea)
        name = o.text(s, S.name, d, "name")
        self._legacy_text(o, s, name, H.serviceAreaText, d, "service_area")
        o.text(s, S.description, d, "description", html=True)
        o.link(s, OWL.sameAs, d, "uri")
        extent = o.scalar(d, "extent")
        kind = o.text(s, H.extentType, d, "extent_type")
        if extent:
            if (kind or "").lower() == "geojson" and _is_json(extent):
                geom = f"{s[:-1]}-geometry>"
                o.add(s, GEO.hasGeometry, geom)
                o.add(geom, GEO.asGeoJSON, typed(extent, "geoJSONLiteral").replace(
                    "http://www.w3.org/2001/XMLSchema#geoJSONLiteral",
                    "http://www.opengis.net/ont/geosparql#geoJSONLiteral"))
            o.add(s, H.extent, lit(extent))
        return s

    def address(self, d: dict[str, Any], out: Out, fallback: str) -> str:
        o = out.at("address")
        s = self.node("address", d, o, fallback)
        o.kind(s, S.PostalAddress)
        line1, line2 = o.scalar(d, "address_1"), o.scalar(d, "address_2")
        street = ", ".join(p for p in (line1, line2) if p)
        if street:
            o.add(s, S.streetAddress, lit(street))
        if line2:
            o.add(s, H.address1, lit(line1 or ""))
            o.add(s, H.address2, lit(line2))
        o.text(s, S.addressLocality, d, "city")
        o.text(s, S.addressRegion, d, "state_province")
        o.text(s, H.region, d, "region")
        postcode = o.scalar(d, "postal_code")
        if postcode:
            o.add(s, S.postalCode, lit(normalise_postcode(postcode)))
        o.text(s, S.addressCountry, d, "country")
        if self.publish_names:  # often a person's name ("FAO A. Persona"): personal data
            o.text(s, H.attention, d, "attention")
        o.text(s, H.addressType, d, "address_type")
        self.attributes(d, o, s)
        return s

    def accessibility(self, d: dict[str, Any], out: Out, fallback: str) -> str:
        o = out.at("accessibility")
        s = self.node("accessibility", d, o, fallback)
        o.kind(s, S.LocationFeatureSpecification)
        name = o.text(s, S.name, d, "description")
        self._legacy_text(o, s, name, H.accessibilityText, d, "accessibility")
        o.text(s, S.description, d, "details", html=True)
        o.url(s, S.url, d, "url")
        o.add(s, S.value, typed(True, "boolean"))
        self.attributes(d, o, s)
        return s

    def _legacy_text(self, o: Out, s: str, name: str | None, p: str, d: dict[str, Any], field: str) -> None:
        """An ORUK legacy text field (`service_area`, `accessibility`) that repeats the object's
        name in v1 feeds: the name when there is none, else its own property if it differs."""
        text = o.scalar(d, field)
        if text is None or text == name:
            return
        o.add(s, S.name if name is None else p, lit(text))

    # -- money and requirements ----------------------------------------------------------
    def cost_option(self, d: dict[str, Any], out: Out, fallback: str) -> str:
        o = out.at("cost_option")
        s = self.node("cost-option", d, o, fallback)
        o.kind(s, S.Offer)
        o.text(s, S.name, d, "option")
        o.date(s, S.validFrom, d, "valid_from")
        o.date(s, S.validThrough, d, "valid_to")
        has_price = any(d.get(f) not in (None, "") for f in ("amount", "currency", "amount_description"))
        if has_price:
            p = f"{s[:-1]}-price>"
            o.add(s, S.priceSpecification, p)
            o.kind(p, S.UnitPriceSpecification)
            o.number(p, S.price, d, "amount", "decimal", "50.00")
            currency = o.scalar(d, "currency")
            if currency:
                o.add(p, S.priceCurrency, lit(currency.upper()))
            o.text(p, S.unitText, d, "amount_description")
        return s

    def funding(self, d: dict[str, Any], out: Out, fallback: str) -> str:
        o = out.at("funding")
        s = self.node("funding", d, o, fallback)
        o.kind(s, H.Funding)
        o.text(s, S.description, d, "source")
        return s

    def required_document(self, d: dict[str, Any], out: Out, fallback: str) -> str:
        o = out.at("required_document")
        s = self.node("required-document", d, o, fallback)
        o.kind(s, CV.Evidence)
        o.text(s, DCT.title, d, "document")
        o.url(s, S.url, d, "uri")
        return s

    def org_identifier(self, d: dict[str, Any], out: Out, fallback: str) -> str:
        o = out.at("organization_identifier")
        s = self.node("organization-identifier", d, o, fallback)
        o.kind(s, S.PropertyValue)
        o.text(s, S.propertyID, d, "identifier_scheme")
        o.text(s, S.name, d, "identifier_type")
        if o.text(s, S.value, d, "identifier") is None:
            raise o.fault("identifier", "an organisation identifier needs its value, e.g. 1234567")
        self.attributes(d, o, s)
        return s

    def url_link(self, d: dict[str, Any], out: Out, subject: str) -> None:
        """HSDS 3.1 `url` objects (additional_websites / additional_urls)."""
        o = out.at("url")
        target = o.scalar(d, "url")
        if not target:
            raise o.fault("url", "a url object needs its url")
        o.add(subject, RDFS.seeAlso, iri(target))
        label = o.scalar(d, "label")
        if label:
            o.add(iri(target), RDFS.label, lit(label))

    def change(self, d: dict[str, Any], out: Out, subject: str) -> None:
        """HSDS metadata rows: the change history of a record (who changed it is left out)."""
        o = out.at("metadata")
        ident = identifier(d, o)
        s = self.node("change", d, o, f"{subject[:-1]}-change-{_slug(d)}>")
        o.kind(s, H.ChangeRecord)
        o.add(s, H.resource, subject)
        if ident is None:
            return
        o.text(s, H.resourceType, d, "resource_type")
        o.datetime(s, H.lastActionDate, d, "last_action_date")
        o.text(s, H.actionType, d, "last_action_type")
        o.text(s, H.fieldName, d, "field_name")
        o.text(s, H.previousValue, d, "previous_value")
        o.text(s, H.replacementValue, d, "replacement_value")
        if self.publish_names:
            o.text(s, H.updatedBy, d, "updated_by")

    def attribute_value(self, d: dict[str, Any], o: Out, s: str, term: str | None) -> None:
        o.kind(s, H.Attribute)
        o.text(s, H.linkType, d, "link_type")
        o.text(s, H.linkEntity, d, "link_entity")
        o.text(s, H.linkId, d, "link_id")
        o.text(s, RDF_VALUE, d, "value")
        o.text(s, H.label, d, "label")
        if term:
            o.add(s, H.taxonomyTerm, term)

    # -- geometry ------------------------------------------------------------------------
    def geo(self, d: dict[str, Any], o: Out, s: str) -> None:
        probe = Out(o.record, o.entity)
        lat = probe.number(s, WGS.lat, d, "latitude", "decimal", "51.4545")
        lon = probe.number(s, WGS.long, d, "longitude", "decimal", "-2.5879")
        if lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
            # Not WGS84 degrees (the HSDS examples use latitude 100, longitude 101): keep the
            # values as published, but make no point of them and do not lose the record.
            o.add(s, H.latitude, typed(lat, "decimal"))
            o.add(s, H.longitude, typed(lon, "decimal"))
            return
        o.lines.extend(probe.lines)
        if lat is None or lon is None:
            return
        g = f"{s[:-1]}-geo>"
        o.add(s, S.geo, g)
        o.kind(g, S.GeoCoordinates)
        o.add(g, S.latitude, typed(lat, "decimal"))
        o.add(g, S.longitude, typed(lon, "decimal"))
        w = f"{s[:-1]}-geometry>"
        o.add(s, GEO.hasGeometry, w)
        o.add(w, GEO.asWKT, lit(f"POINT({lon} {lat})", "http://www.opengis.net/ont/geosparql#wktLiteral"))


def _rrule(d: dict[str, Any], freq: str, interval: str | None, days: list[str]) -> str:
    parts = [f"FREQ={freq or 'WEEKLY'}"]
    if interval:
        parts.append(f"INTERVAL={interval}")
    if days:
        parts.append(f"BYDAY={','.join(days)}")
    for field in ("bymonthday", "byweekno", "byyearday", "count", "until", "wkst"):
        value = clean_plain(d.get(field))
        if value:
            parts.append(f"{field.upper()}={value}")
    return ";".join(parts)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _slug(d: Any) -> str:
    import hashlib

    return hashlib.sha1(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:12]


__all__ = ["Parts", "DAYS", "A", "CPSV"]
