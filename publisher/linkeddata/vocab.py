"""Readable names for the terms the pages show: schema.org and the other outside vocabularies
are not in the store, so their labels are kept here; lo: and hsds: terms are labelled from the
ontology (the def graph) and only fall back to these."""

from __future__ import annotations

import re

from localoffer import namespaces as ns

S, H, L = ns.SCHEMA, ns.HSDS, ns.LO

LABELS: dict[str, str] = {
    ns.RDF + "type": "Type", ns.RDF + "value": "Value", ns.RDFS + "label": "Label",
    ns.RDFS + "comment": "Description", ns.RDFS + "seeAlso": "See also",
    ns.RDFS + "isDefinedBy": "Defined by", ns.RDFS + "subClassOf": "Broader class",
    ns.RDFS + "subPropertyOf": "Broader property", ns.RDFS + "domain": "Applies to",
    ns.RDFS + "range": "Values are", ns.OWL + "sameAs": "Same as", ns.OWL + "versionInfo": "Version",
    ns.SKOS + "prefLabel": "Name", ns.SKOS + "altLabel": "Also called", ns.SKOS + "notation": "Code",
    ns.SKOS + "definition": "Definition", ns.SKOS + "scopeNote": "Scope note",
    ns.SKOS + "broader": "Broader concept", ns.SKOS + "narrower": "Narrower concepts",
    ns.SKOS + "inScheme": "In scheme", ns.SKOS + "topConceptOf": "Top concept of",
    ns.SKOS + "hasTopConcept": "Top concepts", ns.SKOS + "closeMatch": "Close match",
    ns.SKOS + "exactMatch": "Exact match", ns.SKOS + "Concept": "Concept",
    ns.SKOS + "ConceptScheme": "Concept scheme",
    ns.DCTERMS + "identifier": "Identifier", ns.DCTERMS + "created": "Created",
    ns.DCTERMS + "modified": "Last updated", ns.DCTERMS + "title": "Title",
    ns.DCTERMS + "description": "Description", ns.DCTERMS + "source": "Source",
    ns.DCTERMS + "publisher": "Publisher", ns.DCTERMS + "spatial": "Area covered",
    ns.DCTERMS + "isPartOf": "Part of", ns.DCTERMS + "language": "Language",
    ns.CPSV + "hasInput": "Documents needed", ns.CPSV + "PublicService": "Public service",
    ns.WGS + "lat": "Latitude", ns.WGS + "long": "Longitude",
    ns.GEO + "hasGeometry": "Geometry", ns.GEO + "asWKT": "Geometry (WKT)",
    ns.GEO + "asGeoJSON": "Geometry (GeoJSON)",
    ns.OWL + "Class": "Class", ns.OWL + "ObjectProperty": "Relationship",
    ns.OWL + "DatatypeProperty": "Property", ns.OWL + "Ontology": "Ontology",
    S + "Service": "Service", S + "GovernmentService": "Council service",
    S + "Organization": "Organisation", S + "GovernmentOrganization": "Government organisation",
    S + "Place": "Place", S + "VirtualLocation": "Online location", S + "PostalAddress": "Address",
    S + "GeoCoordinates": "Map coordinates", S + "ContactPoint": "Contact",
    S + "OpeningHoursSpecification": "Opening hours", S + "Schedule": "Schedule",
    S + "Offer": "Cost", S + "UnitPriceSpecification": "Price", S + "PeopleAudience": "Who it is for",
    S + "ServiceChannel": "Where and how to use it", S + "AdministrativeArea": "Area served",
    S + "Language": "Language", S + "LocationFeatureSpecification": "Accessibility feature",
    S + "PropertyValue": "Identifier", S + "DefinedTerm": "Term", S + "DefinedTermSet": "Term set",
    S + "Review": "Review", S + "CreativeWork": "Document",
    S + "name": "Name", S + "alternateName": "Also known as", S + "description": "Description",
    S + "url": "Website", S + "email": "Email", S + "telephone": "Telephone",
    S + "faxNumber": "Fax", S + "identifier": "Identifier", S + "provider": "Provided by",
    S + "serviceOperator": "Run by", S + "audience": "Who it is for",
    S + "suggestedMinAge": "Minimum age", S + "suggestedMaxAge": "Maximum age",
    S + "audienceType": "Audience", S + "offers": "Cost", S + "price": "Price",
    S + "priceCurrency": "Currency", S + "priceSpecification": "Price", S + "unitText": "Per",
    S + "availableChannel": "Where and how to use it", S + "serviceLocation": "Location",
    S + "servicePhone": "Phone", S + "providesService": "Service",
    S + "hoursAvailable": "Opening hours", S + "openingHoursSpecification": "Opening hours",
    S + "specialOpeningHoursSpecification": "Holiday opening hours",
    S + "dayOfWeek": "Day", S + "opens": "Opens", S + "closes": "Closes",
    S + "byDay": "Days", S + "startTime": "Starts", S + "endTime": "Ends",
    S + "validFrom": "From", S + "validThrough": "Until", S + "startDate": "Starts",
    S + "endDate": "Ends", S + "repeatFrequency": "Repeats", S + "repeatCount": "Times",
    S + "byMonthDay": "Days of the month", S + "areaServed": "Area served",
    S + "availableLanguage": "Languages", S + "address": "Address",
    S + "streetAddress": "Street", S + "addressLocality": "Town or city",
    S + "addressRegion": "County", S + "postalCode": "Postcode", S + "addressCountry": "Country",
    S + "geo": "Map coordinates", S + "latitude": "Latitude", S + "longitude": "Longitude",
    S + "amenityFeature": "Accessibility", S + "value": "Value", S + "propertyID": "Scheme",
    S + "contactPoint": "Contact", S + "location": "Locations", S + "logo": "Logo",
    S + "parentOrganization": "Parent organisation", S + "foundingDate": "Founded",
    S + "taxID": "Tax id", S + "category": "Category", S + "serviceType": "Type of service",
    S + "review": "Reviews", S + "reviewBody": "Review", S + "datePublished": "Published",
    S + "termCode": "Code", S + "inDefinedTermSet": "Term set",
    S + "Monday": "Monday", S + "Tuesday": "Tuesday", S + "Wednesday": "Wednesday",
    S + "Thursday": "Thursday", S + "Friday": "Friday", S + "Saturday": "Saturday",
    S + "Sunday": "Sunday",
    L + "localAuthority": "Local authority", L + "LocalAuthority": "Local authority",
    L + "LocalOffer": "Local Offer", L + "localOffer": "Local Offer",
}
PREFERRED_ORDER = [ns.RDF + "type", S + "name", ns.SKOS + "prefLabel", ns.DCTERMS + "title",
                   S + "alternateName", S + "description", ns.SKOS + "definition", ns.RDFS + "comment",
                   S + "provider", S + "serviceOperator", L + "localAuthority", S + "audience",
                   L + "needCategory", L + "provisionCategory", S + "offers", S + "availableChannel",
                   S + "hoursAvailable", S + "url", S + "email"]
LABEL_PROPERTIES = (S + "name", ns.SKOS + "prefLabel", ns.RDFS + "label", ns.DCTERMS + "title")
DESCRIPTION_PROPERTIES = (S + "description", ns.SKOS + "definition", ns.RDFS + "comment",
                          ns.DCTERMS + "description")
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def humanise(iri: str) -> str:
    """A readable name made from the last segment of an IRI: `suggestedMinAge` -> `Suggested min age`."""
    tail = re.split(r"[#/]", iri.rstrip("/#"))[-1] or iri
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", tail).replace("-", " ").replace("_", " ")
    return words[:1].upper() + words[1:].lower() if words else iri


def label_for(iri: str, known: dict[str, str] | None = None) -> str:
    """The label of a term: from the store's labels, then LABELS, then its IRI."""
    if known and iri in known:
        return known[iri]
    return LABELS.get(iri) or humanise(iri)


def curie(iri: str) -> str:
    """`schema:name` for a term in a known namespace, else the IRI."""
    for prefix, space in sorted(ns.PREFIXES.items(), key=lambda kv: -len(kv[1])):
        if iri.startswith(space) and re.fullmatch(r"[A-Za-z_][\w.-]*", iri[len(space):]):
            return f"{prefix}:{iri[len(space):]}"
    return iri


def heading_for(iri: str, known: dict[str, str] | None = None) -> str:
    """A property's label as a heading (first letter capitalised)."""
    text = label_for(iri, known)
    return text[:1].upper() + text[1:]
