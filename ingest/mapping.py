"""HSDS 3.0 objects (as dicts) to RDF, following docs/openreferral-mapping: schema.org first,
`hsds:` for fields schema.org lacks, `lo:` for the SEND Local Offer extension.

Every reader turns its input into HSDS 3.0-shaped dicts (plus a few ORUK v1 and vendor
extras) and hands them to `Mapper`, so that all formats share one mapping."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from localoffer import namespaces as ns
from localoffer.errors import RecordError
from localoffer.rdfterms import iri, lit, typed

from .emit import CPSV, DCT, OWL, SKOS, H, L, Out, S, identifier
from .parts import Parts, _slug
from .records import from_v1

STATUSES = {"active", "inactive", "defunct", "temporarily closed"}
SEND_ANSWERS = ("support_description", "recent_send_report", "outcomes", "recent_send_training",
                "parental_involvement", "information_sharing", "environment_accessibility",
                "how_to_start", "future_plans", "send_needs_support")
_COUNCIL = re.compile(r"\b(council|borough|county|local authority)\b", re.I)
_PLAIN_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass
class MappedRecord:
    """The N-Triples lines of one top-level record (a service, organisation, ...)."""

    kind: str
    source_id: str
    iri: str
    name: str | None
    lines: list[str] = field(default_factory=list)


class Mapper(Parts):
    """Maps the records of one source; remembers shared nodes already written."""

    def __init__(self, base: str, authority: str, *, publish_names: bool = False) -> None:
        self.base = base.rstrip("/")
        self.authority = authority
        self.authority_iri = iri(ns.authority_iri(self.base, authority))
        self.publish_names = publish_names
        self.written: _Journal = _Journal()

    def mark(self) -> int:
        """A point to roll back to if the record being mapped is rejected."""
        return len(self.written.log)

    def rollback(self, mark: int) -> None:
        """Forget the shared nodes noted since *mark* (their record was rejected)."""
        for s in self.written.log[mark:]:
            self.written.discard(s)
        del self.written.log[mark:]

    # -- identifiers ---------------------------------------------------------------------
    def mint(self, kind: str, source_id: str) -> str:
        # A lower-case UUID is its own local id (ns.local_id): skip its parse, the commonest case.
        if _PLAIN_UUID.fullmatch(source_id) and kind in ns.KINDS:
            return iri(f"{self.base}/id/{kind}/{source_id}")
        return iri(ns.mint(self.base, kind, source_id, authority=self.authority))

    def node(self, kind: str, d: dict[str, Any], out: Out, fallback: str) -> str:
        ident = identifier(d, out)
        if ident is None:
            return fallback
        s = self.mint(kind, ident)
        out.add(s, S.identifier, lit(ident))
        return s

    def _ids(self, s: str, ident: str, out: Out) -> None:
        out.add(s, S.identifier, lit(ident))
        out.add(s, DCT.identifier, lit(ident))

    # -- services ------------------------------------------------------------------------
    def map_service(self, d: dict[str, Any], record: str) -> list[MappedRecord]:
        """Map one service (HSDS 3.0 `service_full`, or an ORUK v1 service made alike)."""
        o = Out(record)
        ident = identifier(d, o)
        if not ident:
            raise o.fault("id", "every service needs an id (a UUID such as ac148810-d857-441c-9679-408f346de14b)")
        s = self.mint("service", ident)
        o.record = f"{record} (id {ident})"
        o.kind(s, S.Service)
        self._ids(s, ident, o)
        name = o.text(s, S.name, d, "name", name=True)
        if not name:
            raise o.fault("name", "every service needs a name; the value is empty or missing")
        o.add(s, L.localAuthority, self.authority_iri)
        o.text(s, S.alternateName, d, "alternate_name")
        o.text(s, S.description, d, "description", html=True)
        o.url(s, S.url, d, "url")
        o.text(s, S.email, d, "email")
        status = (o.scalar(d, "status") or "").lower()
        if status:
            if status not in STATUSES:
                raise o.fault("status", f"must be one of {', '.join(sorted(STATUSES))}; got {status!r}")
            o.add(s, H.status, iri(f"{ns.SCHEME}service-status/{status.replace(' ', '-')}"))
        for f, p in (("interpretation_services", H.interpretationServices),
                     ("application_process", H.applicationProcess), ("wait_time", H.waitTime),
                     ("accreditations", H.accreditations), ("licenses", H.licenses), ("alert", H.alert)):
            o.text(s, p, d, f, html=True)
        self._offers_and_audience(d, o, s)
        o.date(s, H.assuredDate, d, "assured_date")
        o.datetime(s, DCT.modified, d, "last_modified")
        self._v1_extras(d, o, s)
        self._send(d, o, s)
        records = [MappedRecord("service", ident, s[1:-1], name, o.lines)]
        records += self._service_links(d, o, s)
        return records

    def _offers_and_audience(self, d: dict[str, Any], o: Out, s: str) -> None:
        fees = [(f, d.get(f)) for f in ("fees_description", "fees") if d.get(f) not in (None, "")]
        for f, _ in fees:
            offer = f"{s[:-1]}-{f.replace('_', '-')}>"
            if o.text(offer, S.description, d, f, html=True):
                o.add(s, S.offers, offer)
                o.kind(offer, S.Offer)
                o.add(offer, H.sourceField, lit(f))
        for i, cost in enumerate(o.items(d, "cost_options")):
            o.add(s, S.offers, self.cost_option(cost, o, f"{s[:-1]}-cost-{i}>"))
        aud = f"{s[:-1]}-audience>"
        before = len(o.lines)
        o.text(aud, S.description, d, "eligibility_description", html=True)
        lo = o.number(aud, S.suggestedMinAge, d, "minimum_age", "decimal", "5")
        hi = o.number(aud, S.suggestedMaxAge, d, "maximum_age", "decimal", "25")
        for v, f in ((lo, "minimum_age"), (hi, "maximum_age")):
            if v is not None and v < 0:
                raise o.fault(f, f"an age cannot be negative; got {v}")
        for a in o.items(d, "target_audiences"):
            o.text(aud, S.audienceType, a, "audienceType")
        for term in o.items(d, "eligibility_terms"):
            o.text(aud, S.audienceType, term, "eligibility")
        if len(o.lines) > before:
            o.add(s, S.audience, aud)
            o.kind(aud, S.PeopleAudience)

    def _v1_extras(self, d: dict[str, Any], o: Out, s: str) -> None:
        o.text(s, S.serviceType, d, "deliverable_type")
        o.text(s, H.attendingType, d, "attending_type")
        o.text(s, H.attendingAccess, d, "attending_access")
        o.text(s, H.attendingAccessInfo, d, "attending_access_info", html=True)
        meta = o.obj(d, "pc_metadata") or {}
        m = o.at("pc_metadata")
        m.date(s, DCT.created, meta, "date_created")
        m.date(s, H.sourceModified, meta, "date_modified")
        if not d.get("assured_date"):
            m.date(s, H.assuredDate, meta, "date_assured")
        for i, review in enumerate(o.items(d, "reviews")):
            r = f"{s[:-1]}-review-{i}>"
            ro = o.at("reviews")
            o.add(s, S.review, r)
            o.kind(r, S.Review)
            ro.text(r, S.name, review, "title")
            ro.text(r, S.reviewBody, review, "description", html=True)
            ro.date(r, S.datePublished, review, "date")
            ro.text(r, H.score, review, "score")
            ro.url(r, S.url, review, "url")

    def _send(self, d: dict[str, Any], o: Out, s: str) -> None:
        """The SEND Local Offer extension (Outpost's columns, or a profile's lo_send object)."""
        send = o.obj(d, "lo_send")
        if not send:
            return
        so = o.at("lo_send")
        so.boolean(s, L.isLocalOffer, send, "is_local_offer")
        so.boolean(s, L.needsReferral, send, "needs_referral")
        for f in SEND_ANSWERS:
            so.text(s, L[_camel(f)], send, f, html=True)
        for need in send.get("send_needs") or []:
            so.add(s, L.sendNeed, lit(str(need)))
        for suit in send.get("suitabilities") or []:
            so.add(s, L.suitability, lit(str(suit)))
        for concept in send.get("need_concepts") or []:
            so.add(s, L.needCategory, iri(concept))

    def _service_links(self, d: dict[str, Any], o: Out, s: str) -> list[MappedRecord]:
        extra: list[MappedRecord] = []
        org = o.obj(d, "organization")
        org_id = o.scalar(d, "organization_id") or (identifier(org, o.at("organization")) if org else None)
        if org_id:
            org_iri = self.mint("organization", org_id)
            o.add(s, S.provider, org_iri)
            org_name = (org or {}).get("name") or ""
            if _COUNCIL.search(str(org_name)):
                o.kind(s, S.GovernmentService, CPSV.PublicService)
                o.add(s, S.serviceOperator, org_iri)
            if org and org_iri not in self.written:
                extra += self.map_organization(org, f"{o.record} organization")
        program = o.obj(d, "program")
        if program or d.get("program_id"):
            pid = o.scalar(d, "program_id") or identifier(program or {}, o.at("program"))
            if pid:
                o.add(s, DCT.isPartOf, self.mint("program", pid))
            if program:
                self.program(program, o)
        for i, ph in enumerate(o.items(d, "phones")):
            channel = f"{s[:-1]}-phone-channel>"
            o.add(s, S.availableChannel, channel)
            o.kind(channel, S.ServiceChannel)
            o.add(channel, S.servicePhone, self.phone(ph, o, f"{s[:-1]}-phone-{i}>"))
        for i, c in enumerate(o.items(d, "contacts")):
            o.add(s, H.contact, self.contact(c, o, f"{s[:-1]}-contact-{i}>"))
        for i, sch in enumerate(o.items(d, "schedules")):
            o.add(s, S.hoursAvailable, self.schedule(sch, o, f"{s[:-1]}-schedule-{i}>"))
        for i, h in enumerate(o.items(d, "holiday_schedules")):
            o.add(s, S.specialOpeningHoursSpecification, self.holiday(h, o, f"{s[:-1]}-holiday-{i}>"))
        for i, a in enumerate(o.items(d, "service_areas")):
            o.add(s, S.areaServed, self.service_area(a, o, f"{s[:-1]}-area-{i}>"))
        for i, lang in enumerate(o.items(d, "languages")):
            o.add(s, S.availableLanguage, self.language(lang, o, f"{s[:-1]}-lang-{i}>"))
        for i, f in enumerate(o.items(d, "funding")):
            o.add(s, H.funding, self.funding(f, o, f"{s[:-1]}-funding-{i}>"))
        for i, rd in enumerate(o.items(d, "required_documents")):
            o.add(s, CPSV.hasInput, self.required_document(rd, o, f"{s[:-1]}-document-{i}>"))
        for i, sal in enumerate(o.items(d, "service_at_locations")):
            extra += self.service_at_location(sal, o, s, f"{s[:-1]}-channel-{i}>")
        for i, attr in enumerate(o.items(d, "attributes")):
            self.attribute(attr, o, s, f"{s[:-1]}-attribute-{i}>")
        for url in o.items(d, "additional_urls"):
            self.url_link(url, o, s)
        for m in o.items(d, "metadata"):
            self.change(m, o, s)
        return extra

    def service_at_location(self, d: dict[str, Any], out: Out, service: str,
                            fallback: str) -> list[MappedRecord]:
        o = out.at("service_at_location")
        s = self.node("service-at-location", d, o, fallback)
        o.kind(s, S.ServiceChannel)
        out.add(service, S.availableChannel, s)
        o.add(s, S.providesService, service)
        o.text(s, S.description, d, "description", html=True)
        for i, c in enumerate(o.items(d, "contacts")):
            o.add(s, H.contact, self.contact(c, o, f"{s[:-1]}-contact-{i}>"))
        for i, ph in enumerate(o.items(d, "phones")):
            o.add(s, S.servicePhone, self.phone(ph, o, f"{s[:-1]}-phone-{i}>"))
        for i, sch in enumerate(o.items(d, "schedules")):
            o.add(s, S.hoursAvailable, self.schedule(sch, o, f"{s[:-1]}-schedule-{i}>"))
        for i, a in enumerate(o.items(d, "service_areas")):
            o.add(s, S.areaServed, self.service_area(a, o, f"{s[:-1]}-area-{i}>"))
        for i, attr in enumerate(o.items(d, "attributes")):
            self.attribute(attr, o, s, f"{s[:-1]}-attribute-{i}>")
        loc = o.obj(d, "location")
        loc_id = o.scalar(d, "location_id") or (identifier(loc, o.at("location")) if loc else None)
        if loc_id:
            o.add(s, S.serviceLocation, self.mint("location", loc_id))
        elif loc:
            fb = f"{s[:-1]}-location>"
            o.add(s, S.serviceLocation, fb)
            self._location_body(loc, o.at("location"), fb)
        if loc and loc_id:
            return self.map_location(loc, f"{out.record} location")
        return []

    def map_service_at_location(self, d: dict[str, Any], record: str) -> list[MappedRecord]:
        """Map a top-level service_at_location (ORUK `/service_at_locations[/{id}]`): the
        channel, its location and, when embedded, its service (written once per source)."""
        o = Out(record)
        ident = identifier(d, o)
        if not ident:
            raise o.fault("id", "every service_at_location needs an id")
        o.record = f"{record} (id {ident})"
        svc = o.obj(d, "service")
        sid = o.scalar(d, "service_id") or (identifier(svc, o.at("service")) if svc else None)
        if not sid:
            raise o.fault("service_id", "a service_at_location needs its service: a service_id or "
                                        "a service object with an id")
        service = self.mint("service", sid)
        records: list[MappedRecord] = []
        if svc and service not in self.written:
            records += self.map_service(from_v1(svc), f"{o.record} service")
            self.written.add(service)
        channel = {k: v for k, v in d.items() if k != "service"}
        extra = self.service_at_location(channel, o, service, self.mint("service-at-location", ident))
        s = self.mint("service-at-location", ident)
        return [MappedRecord("service_at_location", ident, s[1:-1], None, o.lines)] + records + extra

    # -- organisations and locations (shared nodes: written once per source) ------------
    def map_organization(self, d: dict[str, Any], record: str) -> list[MappedRecord]:
        """Map one organisation (and, for `organization_full`, its services and locations)."""
        o = Out(record)
        ident = identifier(d, o)
        if not ident:
            raise o.fault("id", "every organisation needs an id")
        s = self.mint("organization", ident)
        self.written.add(s)
        o.kind(s, S.Organization)
        self._ids(s, ident, o)
        name = o.text(s, S.name, d, "name", name=True)
        if not name:
            raise o.fault("name", "every organisation needs a name")
        if _COUNCIL.search(name):
            o.kind(s, S.GovernmentOrganization)
        o.text(s, S.alternateName, d, "alternate_name")
        o.text(s, S.description, d, "description", html=True)
        o.text(s, S.email, d, "email")
        o.url(s, S.url, d, "website")
        o.url(s, S.url, d, "url")
        o.url(s, S.logo, d, "logo")
        o.link(s, OWL.sameAs, d, "uri")
        o.text(s, H.taxStatus, d, "tax_status")
        o.text(s, S.taxID, d, "tax_id")
        year = o.scalar(d, "year_incorporated")
        if year:
            if not re.fullmatch(r"\d{4}(\.0+)?", year):
                raise o.fault("year_incorporated", f"must be a year such as 2005; got {year!r}")
            o.add(s, S.foundingDate, lit(year[:4], ns.XSD + "gYear"))
        o.text(s, H.legalStatus, d, "legal_status")
        parent = o.scalar(d, "parent_organization_id")
        if parent:
            o.add(s, S.parentOrganization, self.mint("organization", parent))
        for i, f in enumerate(o.items(d, "funding")):
            o.add(s, H.funding, self.funding(f, o, f"{s[:-1]}-funding-{i}>"))
        for i, c in enumerate(o.items(d, "contacts")):
            o.add(s, S.contactPoint, self.contact(c, o, f"{s[:-1]}-contact-{i}>"))
        for i, ph in enumerate(o.items(d, "phones")):
            p = self.phone(ph, o, f"{s[:-1]}-phone-{i}>")
            o.add(s, H.phone, p)
        for i, oi in enumerate(o.items(d, "organization_identifiers")):
            o.add(s, S.identifier, self.org_identifier(oi, o, f"{s[:-1]}-identifier-{i}>"))
        for i, attr in enumerate(o.items(d, "attributes")):
            self.attribute(attr, o, s, f"{s[:-1]}-attribute-{i}>")
        for url in o.items(d, "additional_websites"):
            self.url_link(url, o, s)
        for prog in o.items(d, "programs"):
            self.program(prog, o, s)
        records = [MappedRecord("organization", ident, s[1:-1], name, o.lines)]
        for i, loc in enumerate(o.items(d, "locations")):
            loc_id = identifier(loc, o.at("locations"))
            if loc_id:
                o.add(s, S.location, self.mint("location", loc_id))
                records += self.map_location(loc, f"{record} locations[{i}]")
        for i, svc in enumerate(o.items(d, "services")):
            svc = dict(svc)
            svc.setdefault("organization_id", ident)
            records += self.map_service(svc, f"{record} services[{i}]")
        return records

    def map_location(self, d: dict[str, Any], record: str) -> list[MappedRecord]:
        """Map one location; written once per source however many services use it."""
        o = Out(record)
        ident = identifier(d, o)
        if not ident:
            raise o.fault("id", "every location needs an id")
        s = self.mint("location", ident)
        if s in self.written:
            return []
        self.written.add(s)
        self._ids(s, ident, o)
        self._location_body(d, o, s)
        return [MappedRecord("location", ident, s[1:-1], d.get("name"), o.lines)]

    def _location_body(self, d: dict[str, Any], o: Out, s: str) -> None:
        o.kind(s, S.Place)
        kind = (o.scalar(d, "location_type") or "").lower()
        if kind:
            if kind not in ("physical", "postal", "virtual"):
                raise o.fault("location_type", f"must be physical, postal or virtual; got {kind!r}")
            o.add(s, H.locationType, lit(kind))
            if kind == "virtual":
                o.kind(s, S.VirtualLocation)
        o.text(s, S.name, d, "name")
        o.text(s, S.alternateName, d, "alternate_name")
        o.text(s, S.description, d, "description", html=True)
        o.url(s, S.url, d, "url")
        o.text(s, H.transportation, d, "transportation", html=True)
        org = o.scalar(d, "organization_id")
        if org:
            o.add(self.mint("organization", org), S.location, s)
        self.geo(d, o, s)
        ext = o.scalar(d, "external_identifier")
        ext_type = o.scalar(d, "external_identifier_type")
        if ext or ext_type:  # a type alone is kept too (the profile carries it)
            kind_text = ext_type or "external"
            e = f"{s[:-1]}-identifier-{re.sub(r'[^A-Za-z0-9]+', '-', kind_text).lower()}>"
            o.add(s, S.identifier, e)
            o.kind(e, S.PropertyValue)
            o.add(e, S.propertyID, lit(kind_text))
            if ext:
                o.add(e, S.value, lit(ext))
        for i, a in enumerate(o.items(d, "addresses") + o.items(d, "physical_addresses")):
            o.add(s, S.address, self.address(a, o, f"{s[:-1]}-address-{i}>"))
        for i, a in enumerate(o.items(d, "accessibility") + o.items(d, "accessibility_for_disabilities")):
            o.add(s, S.amenityFeature, self.accessibility(a, o, f"{s[:-1]}-accessibility-{i}>"))
        for i, sch in enumerate(o.items(d, "schedules")):
            o.add(s, S.openingHoursSpecification, self.schedule(sch, o, f"{s[:-1]}-schedule-{i}>"))
        for i, lang in enumerate(o.items(d, "languages")):
            o.add(s, S.availableLanguage, self.language(lang, o, f"{s[:-1]}-lang-{i}>"))
        for i, ph in enumerate(o.items(d, "phones")):
            o.add(s, H.phone, self.phone(ph, o, f"{s[:-1]}-phone-{i}>"))
        for i, c in enumerate(o.items(d, "contacts")):
            o.add(s, H.contact, self.contact(c, o, f"{s[:-1]}-contact-{i}>"))
        for i, attr in enumerate(o.items(d, "attributes")):
            self.attribute(attr, o, s, f"{s[:-1]}-attribute-{i}>")

    def program(self, d: dict[str, Any], out: Out, provider: str | None = None) -> str:
        o = out.at("program")
        s = self.node("program", d, o, f"<{self.base}/id/program/{_slug(d)}>")
        o.kind(s, H.Program)
        o.text(s, S.name, d, "name")
        o.text(s, S.alternateName, d, "alternate_name")
        o.text(s, S.description, d, "description", html=True)
        org = o.scalar(d, "organization_id")
        if org:
            o.add(s, S.provider, self.mint("organization", org))
        elif provider:
            o.add(s, S.provider, provider)
        return s

    # -- taxonomies ----------------------------------------------------------------------
    def attribute(self, d: dict[str, Any], out: Out, subject: str, fallback: str) -> None:
        o = out.at("attribute")
        term_obj = o.obj(d, "taxonomy_term")
        term_id = o.scalar(d, "taxonomy_term_id") or (identifier(term_obj, o) if term_obj else None)
        term = None
        if term_obj:
            term = self.taxonomy_term(term_obj, o)
        elif term_id:
            term = self.mint("taxonomy-term", term_id)
        if term:
            o.add(subject, S.category, term)
        if any(d.get(f) not in (None, "") for f in ("value", "link_type", "label", "link_entity")) \
                or d.get("id"):
            a = self.node("attribute", d, o, fallback)
            o.add(subject, H.attribute, a)
            self.attribute_value(d, o, a, term)

    def taxonomy_term(self, d: dict[str, Any], out: Out) -> str:
        o = out.at("taxonomy_term")
        ident = identifier(d, o)
        uri = o.scalar(d, "term_uri")
        if uri and re.match(r"^https?://\S+$", uri):
            s = iri(uri)
        elif ident:
            s = self.mint("taxonomy-term", ident)
        else:
            raise o.fault("id", "a taxonomy term needs an id or a term_uri")
        if s in self.written:
            return s
        self.written.add(s)
        if ident:
            o.add(s, S.identifier, lit(ident))
        if uri and s != iri(uri):
            o.add(s, H.unresolvedLink, lit(f"term_uri: {uri}"))
        o.kind(s, SKOS.Concept, S.DefinedTerm)
        code = o.text(s, SKOS.notation, d, "code")
        if code:
            o.add(s, S.termCode, lit(code))
        lang = o.scalar(d, "language")
        name = o.scalar(d, "name") or o.scalar(d, "term")
        if name:
            o.add(s, SKOS.prefLabel, lit(name, lang=lang if lang and re.fullmatch(r"[a-zA-Z]{2,3}(-[A-Za-z0-9]+)*", lang) else None))
            o.add(s, S.name, lit(name))
        legacy = o.scalar(d, "term")
        if legacy and legacy != name:  # ORUK's legacy `term`, when it is not the name again
            o.add(s, H.term, lit(legacy))
        if lang:
            o.add(s, H.language, lit(lang))
        o.text(s, SKOS.definition, d, "description", html=True)
        parent = o.scalar(d, "parent_id")
        if parent:
            o.add(s, SKOS.broader, self.mint("taxonomy-term", parent))
        o.text(s, DCT.source, d, "taxonomy")
        tax = o.obj(d, "taxonomy_detail")
        tax_id = o.scalar(d, "taxonomy_id") or (identifier(tax, o) if tax else None)
        if tax_id:
            scheme = self.mint("taxonomy", tax_id)
            o.add(s, SKOS.inScheme, scheme)
            o.add(s, S.inDefinedTermSet, scheme)
        if tax:
            self.taxonomy(tax, o)
        return s

    def taxonomy(self, d: dict[str, Any], out: Out) -> str:
        o = out.at("taxonomy")
        ident = identifier(d, o)
        if not ident:
            raise o.fault("id", "a taxonomy needs an id")
        s = self.mint("taxonomy", ident)
        if s in self.written:
            return s
        self.written.add(s)
        o.add(s, S.identifier, lit(ident))
        o.kind(s, SKOS.ConceptScheme, S.DefinedTermSet)
        name = o.text(s, DCT.title, d, "name")
        if name:
            o.add(s, SKOS.prefLabel, lit(name))
            o.add(s, S.name, lit(name))
        o.text(s, DCT.description, d, "description", html=True)
        o.link(s, OWL.sameAs, d, "uri")
        o.text(s, OWL.versionInfo, d, "version")
        for m in o.items(d, "metadata"):
            self.change(m, o, s)
        return s

    def map_taxonomy(self, d: dict[str, Any], record: str) -> list[MappedRecord]:
        """Map a taxonomy with its terms (ORUK `taxonomy.taxonomy_terms[]`)."""
        o = Out(record)
        s = self.taxonomy(d, o)
        for t in o.items(d, "taxonomy_terms"):
            t = dict(t)
            t.setdefault("taxonomy_id", d.get("id"))
            self.taxonomy_term(t, o)
        return [MappedRecord("taxonomy", str(d.get("id")), s[1:-1], d.get("name"), o.lines)]

    def map_taxonomy_term(self, d: dict[str, Any], record: str) -> list[MappedRecord]:
        """Map a standalone taxonomy term."""
        o = Out(record)
        s = self.taxonomy_term(d, o)
        return [MappedRecord("taxonomy_term", str(d.get("id")), s[1:-1], d.get("name"), o.lines)]


class _Journal(set[str]):
    """A set that remembers the order of additions, so a rejected record can be undone."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[str] = []

    def add(self, item: str) -> None:
        if item not in self:
            self.log.append(item)
        super().add(item)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


__all__ = ["Mapper", "MappedRecord", "RecordError", "typed"]
