"""Every shape in shapes/ has a conforming and a non-conforming fixture (pySHACL's manifest
idea): tests/data/shapes/base.ttl is a small Local Offer that meets every rule; each case
below breaks one rule (and, where a rule has a condition, a second variant meets it), and the
broken fixture must yield exactly that rule's result with its severity. A meta test makes
sure every shape has its case and carries severity, message, legal source and comment."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import RDF, SH

from localoffer.validation import SHAPES_NS, load_shapes, rules, validate

DATA = Path(__file__).resolve().parents[1] / "data" / "shapes"
ONTOLOGY = Path(__file__).resolve().parents[2] / "ontology"
PREFIXES = """
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix schema:  <https://schema.org/> .
@prefix hsds:    <https://w3id.org/localoffer/def/hsds#> .
@prefix lo:      <https://w3id.org/localoffer/def#> .
@prefix ss:      <https://w3id.org/localoffer/def/scheme/service-status/> .
@prefix pc:      <https://w3id.org/localoffer/def/scheme/provision-category/> .
@prefix pt:      <https://w3id.org/localoffer/def/scheme/provider-type/> .
@prefix ii:      <https://w3id.org/localoffer/def/scheme/information-item/> .
@prefix auth:    <https://localoffer.test/id/authority/> .
@prefix offer:   <https://localoffer.test/id/local-offer/> .
@prefix page:    <https://localoffer.test/id/page/> .
@prefix svc:     <https://localoffer.test/id/service/> .
@prefix loc:     <https://localoffer.test/id/location/> .
@prefix org:     <https://localoffer.test/id/organization/> .
"""
TODAY = dt.date.today()
DATES = {"recent": (TODAY - dt.timedelta(days=30)).isoformat(),
         "stale": (TODAY - dt.timedelta(days=400)).isoformat(),
         "future": (TODAY + dt.timedelta(days=10)).isoformat(),
         "due": (TODAY - dt.timedelta(days=380)).isoformat(),  # 12 to 13 months ago
         "overdue": (TODAY - dt.timedelta(days=450)).isoformat()}
_YEAR = TODAY.year - (1 if TODAY.month < 9 else 0)  # the academic year starts on 1 September
DATES["year"] = f"{_YEAR}/{str(_YEAR + 1)[2:]}"
DATES["last_year"] = f"{_YEAR - 1}/{str(_YEAR)[2:]}"
DATES["year_long"] = f"{_YEAR}-{_YEAR + 1}"
NS = rdflib.Graph(bind_namespaces="none")
NS.parse(data=PREFIXES, format="turtle")
_EXPAND = dict(NS.namespaces())


def term(curie: str) -> rdflib.term.Node:
    """`svc:slt` -> the IRI; `"text"` -> a literal."""
    if curie.startswith('"'):
        return rdflib.Literal(curie.strip('"'))
    prefix, local = curie.split(":", 1)
    return rdflib.URIRef(str(_EXPAND[prefix]) + local)


@dataclass(frozen=True)
class Case:
    """Break one rule: remove triples (None = any object) and add Turtle; `ok_*` is a second
    conforming variant for rules with a condition; `also` lists rules that cannot help firing
    with this one (and why, in a comment)."""

    shape: str
    severity: str
    remove: tuple[tuple[str, str, str | None], ...] = ()
    add: str = ""
    ok_remove: tuple[tuple[str, str, str | None], ...] = ()
    ok_add: str = ""
    also: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.shape


SVC, ORG, LOC, ADR, AUD = "svc:slt", "org:trust", "loc:central-clinic", "loc:central-clinic-address-0", \
    "svc:slt-audience"
CONTACT, PHONE, OFFER = "svc:slt-contact-0", "svc:slt-phone-0", "offer:e06000023"
COMMENTS_PAGE, TRAVEL_PAGE = "page:help-and-complaints", "page:travel-and-money"
ITEMS = ["ordinarily-available-provision", "funding-arrangements", "identification-and-assessment",
         "health-provision", "social-care-provision", "other-educational-provision", "training-provision",
         "home-to-school-travel-policy", "post-16-transport-policy-statement", "phase-transfer-support",
         "preparing-for-adulthood", "childcare", "leisure-activities", "information-advice-and-support",
         "complaints", "disagreement-resolution", "mediation", "tribunal-appeals", "personal-budgets",
         "short-breaks-statement", "accessibility-strategy", "sen-information-reports-index",
         "comments-and-response", "offline-and-accessible-access"]
WARNING_ITEMS = {"identification-and-assessment", "health-provision", "social-care-provision",
                 "other-educational-provision", "training-provision", "phase-transfer-support", "childcare",
                 "leisure-activities"}
INFO_ITEMS = {"accessibility-strategy", "sen-information-reports-index"}

CASES = [
    Case("Service-name", "Violation", remove=((SVC, "schema:name", None),)),
    Case("Service-description", "Violation", remove=((SVC, "schema:description", None),)),
    Case("Service-status", "Violation", remove=((SVC, "hsds:status", None),),
         ok_add="svc:slt hsds:status ss:active ."),
    Case("Service-status-value", "Violation", remove=((SVC, "hsds:status", None),),
         add="svc:slt hsds:status ss:open .",
         ok_remove=((SVC, "hsds:status", None),),
         ok_add="svc:slt hsds:status ss:temporarily-closed ."),
    Case("Service-url", "Warning", remove=((SVC, "schema:url", None),)),
    Case("Service-url-syntax", "Violation", remove=((SVC, "schema:url", None),),
         add='svc:slt schema:url "www.example.nhs.uk/slt"^^xsd:anyURI .',
         ok_remove=((SVC, "schema:url", None),),
         ok_add='svc:slt schema:url "HTTPS://Example.org:8080/a?b=c#d" .'),
    Case("Service-email-syntax", "Violation", remove=((SVC, "schema:email", None),),
         add='svc:slt schema:email "slt@example" .'),
    Case("Service-provider", "Violation", remove=((SVC, "schema:provider", None),)),
    Case("Service-provision-category", "Violation", remove=((SVC, "lo:provisionCategory", None),)),
    Case("Service-provision-category-value", "Violation", remove=((SVC, "lo:provisionCategory", None),),
         add="svc:slt lo:provisionCategory pc:health-and-wellbeing ."),
    Case("Service-provider-type", "Violation",
         remove=((SVC, "lo:provisionCategory", None), (ORG, "lo:providerType", None)),
         add="svc:slt lo:provisionCategory pc:special-educational-provision .",
         ok_remove=((SVC, "lo:provisionCategory", None),),
         ok_add="svc:slt lo:provisionCategory pc:special-educational-provision ."),
    Case("Service-dates-not-future", "Violation", remove=((SVC, "hsds:assuredDate", None),),
         add='svc:slt hsds:assuredDate "{future}"^^xsd:date .',
         ok_add='svc:slt dcterms:created "{recent}"^^xsd:date .'),
    # A service with no email, phone or web address necessarily has no web page either.
    Case("Service-contact-route", "Warning",
         remove=((SVC, "schema:email", None), (SVC, "schema:url", None), (SVC, "hsds:contact", None),
                 (SVC, "schema:availableChannel", "svc:slt-phone-channel")),
         ok_remove=((SVC, "schema:email", None), (SVC, "hsds:contact", None)),
         also=("Service-url",)),
    Case("Service-ages", "Warning",
         remove=((AUD, "schema:suggestedMinAge", None), (AUD, "schema:suggestedMaxAge", None)),
         ok_remove=((AUD, "schema:suggestedMinAge", None),)),
    Case("Service-needs", "Warning", remove=((SVC, "lo:needCategory", None),),
         ok_remove=((SVC, "lo:needCategory", None),),
         ok_add='svc:slt lo:sendNeed "Speech and language" .'),
    Case("Service-access", "Warning", remove=((SVC, "hsds:applicationProcess", None),),
         ok_remove=((SVC, "hsds:applicationProcess", None),),
         ok_add="svc:slt lo:needsReferral false ."),
    Case("Service-eligibility-known", "Warning",
         remove=((SVC, "lo:eligibilityApplies", None), (AUD, "schema:description", None)),
         ok_remove=((AUD, "schema:description", None), (SVC, "lo:eligibilityApplies", None)),
         ok_add="svc:slt lo:eligibilityApplies false ."),
    Case("Service-eligibility-criteria", "Violation", remove=((AUD, "schema:description", None),),
         ok_remove=((AUD, "schema:description", None), (SVC, "lo:eligibilityApplies", None)),
         ok_add="svc:slt lo:eligibilityApplies false ."),
    Case("Service-review-date", "Warning", remove=((SVC, "hsds:assuredDate", None),),
         ok_remove=((SVC, "hsds:assuredDate", None),),
         ok_add='svc:slt dcterms:modified "{recent}T10:00:00Z"^^xsd:dateTime .'),
    Case("Service-review-recent", "Warning", remove=((SVC, "hsds:assuredDate", None),),
         add='svc:slt hsds:assuredDate "{stale}"^^xsd:date .',
         ok_add='svc:slt dcterms:modified "{stale}T10:00:00Z"^^xsd:dateTime .'),
    Case("Audience-min-age", "Violation", remove=((AUD, "schema:suggestedMinAge", None),),
         add='svc:slt-audience schema:suggestedMinAge -1.0 .'),
    Case("Audience-max-age", "Violation", remove=((AUD, "schema:suggestedMaxAge", None),),
         add='svc:slt-audience schema:suggestedMaxAge 30.0 .',
         ok_remove=((AUD, "schema:suggestedMaxAge", None),),
         ok_add="svc:slt-audience schema:suggestedMaxAge 25 ."),
    Case("Audience-age-order", "Violation",
         remove=((AUD, "schema:suggestedMinAge", None), (AUD, "schema:suggestedMaxAge", None)),
         add="svc:slt-audience schema:suggestedMinAge 5.0 ; schema:suggestedMaxAge 3.0 .",
         ok_remove=((AUD, "schema:suggestedMinAge", None),),
         ok_add="svc:slt-audience schema:suggestedMinAge 5.0 ."),
    Case("Organization-name", "Violation", remove=((ORG, "schema:name", None),)),
    Case("Organization-description", "Info", remove=((ORG, "schema:description", None),)),
    Case("Organization-url-syntax", "Violation", remove=((ORG, "schema:url", None),),
         add='org:trust schema:url "https://example nhs.uk"^^xsd:anyURI .'),
    Case("Organization-email-syntax", "Violation", remove=((ORG, "schema:email", None),),
         add='org:trust schema:email "mailto:enquiries@example.nhs.uk" .'),
    Case("Organization-provider-type-value", "Violation", remove=((ORG, "lo:providerType", None),),
         add="org:trust lo:providerType pt:charity ."),
    Case("Organization-sen-information-report", "Violation", remove=((ORG, "lo:providerType", None),),
         add="org:trust lo:providerType pt:academy .",
         ok_remove=((ORG, "lo:providerType", None),),
         ok_add="org:trust lo:providerType pt:academy ;"
                " lo:senInformationReport <https://school.example/sen> ."),
    Case("Location-type", "Info", remove=((LOC, "hsds:locationType", None),)),
    Case("Location-type-value", "Violation", remove=((LOC, "hsds:locationType", None),),
         add='loc:central-clinic hsds:locationType "building" .'),
    Case("Location-address", "Warning", remove=((LOC, "schema:address", None),),
         ok_remove=((LOC, "schema:address", None), (LOC, "hsds:locationType", None)),
         ok_add='loc:central-clinic hsds:locationType "virtual" .'),
    Case("Location-url-syntax", "Violation", remove=((LOC, "schema:url", None),),
         add='loc:central-clinic schema:url "central-clinic.example.nhs.uk"^^xsd:anyURI .'),
    Case("Address-street", "Info", remove=((ADR, "schema:streetAddress", None),)),
    Case("Address-locality", "Info", remove=((ADR, "schema:addressLocality", None),)),
    Case("Address-country", "Info", remove=((ADR, "schema:addressCountry", None),)),
    Case("Address-postcode", "Warning", remove=((ADR, "schema:postalCode", None),)),
    Case("Address-postcode-syntax", "Violation", remove=((ADR, "schema:postalCode", None),),
         add='loc:central-clinic-address-0 schema:postalCode "BS2" .',
         ok_remove=((ADR, "schema:postalCode", None),),
         ok_add='loc:central-clinic-address-0 schema:postalCode "ec1a1bb" .'),
    Case("Contact-route", "Warning", remove=((CONTACT, "schema:email", None), (CONTACT, "hsds:phone", None))),
    Case("Phone-number", "Violation", remove=((PHONE, "schema:telephone", None),)),
    Case("Contact-telephone-syntax", "Violation", remove=((PHONE, "schema:telephone", None),),
         add='svc:slt-phone-0 schema:telephone "0117 922 2000 ext 5" .',
         ok_remove=((PHONE, "schema:telephone", None),),
         ok_add='svc:slt-phone-0 schema:telephone "116 123" .'),
    Case("Contact-email-syntax", "Violation", remove=((CONTACT, "schema:email", None),),
         add='svc:slt-contact-0 schema:email "slt-admin at example.nhs.uk" .'),
    # An offer cut off from its authority has no publisher and cannot reach the records either.
    Case("LocalAuthority-local-offer", "Violation",
         remove=(("auth:E06000023", "lo:localOffer", None), (OFFER, "dcterms:publisher", None)),
         also=("LocalOffer-provision-records", "LocalOffer-publisher"),
         ok_remove=(("auth:E06000023", "lo:localOffer", None),)),
    Case("LocalOffer-modified", "Violation", remove=((OFFER, "dcterms:modified", None),)),
    Case("LocalOffer-url", "Violation", remove=((OFFER, "schema:url", None),)),
    Case("LocalOffer-url-syntax", "Violation", remove=((OFFER, "schema:url", None),),
         add='offer:e06000023 schema:url "javascript:alert(1)"^^xsd:anyURI .'),
    Case("LocalOffer-dates-not-future", "Violation", remove=((OFFER, "dcterms:modified", None),),
         add='offer:e06000023 dcterms:modified "{future}"^^xsd:date .'),
    Case("Service-quality-and-outcomes", "Warning", remove=((SVC, "lo:outcomes", None),),
         ok_remove=((SVC, "lo:outcomes", None), (SVC, "lo:provisionCategory", None)),
         ok_add="svc:slt lo:provisionCategory pc:other-educational-provision ."),
    Case("Organization-sen-information-report-due", "Warning",
         add='org:trust lo:senInformationReport <https://school.example/sen> .'
             ' <https://school.example/sen> dcterms:modified "{due}"^^xsd:date .',
         ok_add='org:trust lo:senInformationReport <https://school.example/sen> .'
                ' <https://school.example/sen> dcterms:modified "{recent}"^^xsd:date .'),
    # The latest date counts: an old date next to a recent one is fine.
    Case("Organization-sen-information-report-overdue", "Violation",
         add='org:trust lo:senInformationReport <https://school.example/sen> .'
             ' <https://school.example/sen> dcterms:modified "{overdue}"^^xsd:date .',
         ok_add='org:trust lo:senInformationReport <https://school.example/sen> .'
                ' <https://school.example/sen> dcterms:modified "{overdue}"^^xsd:date , "{recent}"^^xsd:date .'),
    # Without dcterms:publisher the offer also cannot reach its records (lo:localOffer still links it).
    Case("LocalOffer-publisher", "Violation", remove=((OFFER, "dcterms:publisher", None),),
         also=("LocalOffer-provision-records",)),
    Case("LocalOffer-area", "Violation", remove=((OFFER, "dcterms:spatial", None),)),
    Case("LocalOffer-provision-records", "Violation", remove=((SVC, "lo:localAuthority", None),)),
    Case("LocalOffer-feedback-route", "Violation", remove=((OFFER, "lo:feedbackUrl", None),),
         ok_remove=((OFFER, "lo:feedbackUrl", None),),
         ok_add="offer:e06000023 schema:potentialAction [ a schema:CommentAction ] ."),
    Case("LocalOffer-comments-and-response-annual", "Violation",
         remove=((COMMENTS_PAGE, "dcterms:modified", None),),
         add='page:help-and-complaints dcterms:modified "{stale}"^^xsd:date .',
         ok_remove=((COMMENTS_PAGE, "dcterms:modified", None),),
         ok_add='page:help-and-complaints dcterms:issued "{recent}"^^xsd:date .'),
    Case("LocalOffer-post-16-transport-statement-current", "Violation",
         remove=((TRAVEL_PAGE, "dcterms:temporal", None),),
         add='page:travel-and-money dcterms:temporal "{last_year}" .',
         ok_remove=((TRAVEL_PAGE, "dcterms:temporal", None),),
         ok_add='page:travel-and-money dcterms:temporal "{year_long}" .'),
]
# The base fixture spreads the information items over three pages.
PAGES = {**{i: "page:send-support" for i in ITEMS},
         **{i: "page:travel-and-money" for i in ("funding-arrangements", "home-to-school-travel-policy",
                                                 "post-16-transport-policy-statement", "personal-budgets",
                                                 "short-breaks-statement")},
         **{i: "page:help-and-complaints" for i in (
             "information-advice-and-support", "complaints", "disagreement-resolution", "mediation",
             "tribunal-appeals", "comments-and-response", "offline-and-accessible-access")}}
# The only page for a s.30(2) category also leaves the category uncovered (the base has no
# record in it).
SOLE_PAGE = {"other-educational-provision": "other-educational-provision",
             "training-provision": "other-training-provision",
             "preparing-for-adulthood": "preparation-for-adulthood"}
CASES += [Case(f"LocalOffer-information-{item}",
               "Info" if item in INFO_ITEMS else "Warning" if item in WARNING_ITEMS else "Violation",
               remove=((PAGES[item], "lo:informationItem", f"ii:{item}"),),
               also=(f"LocalOffer-covers-{SOLE_PAGE[item]}",) if item in SOLE_PAGE else ())
          for item in ITEMS]
# s.30(2) coverage: met by a page on the topic or a record in the category. The base has no
# record in the categories checked here, so removing the pages breaks it (and the page rules).
COVERAGE = {"education-health-and-care-provision": ("ordinarily-available-provision", "health-provision",
                                                    "social-care-provision"),
            "other-educational-provision": ("other-educational-provision",),
            "other-training-provision": ("training-provision",),
            "travel-arrangements": ("home-to-school-travel-policy", "post-16-transport-policy-statement"),
            "preparation-for-adulthood": ("preparing-for-adulthood",)}
# For (a) the base service's own category (health care) is moved out of (a) as well.
CASES += [Case(f"LocalOffer-covers-{key}", "Violation",
               remove=tuple((PAGES[i], "lo:informationItem", f"ii:{i}") for i in items)
               + (((SVC, "lo:provisionCategory", None),) if key == "education-health-and-care-provision" else ()),
               add=("svc:slt lo:provisionCategory pc:other-educational-provision ."
                    if key == "education-health-and-care-provision" else ""),
               also=tuple(f"LocalOffer-information-{i}" for i in items))
          for key, items in COVERAGE.items()]


def base() -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(DATA / "base.ttl")
    graph.parse(data=PREFIXES + f"""
        svc:slt hsds:assuredDate "{DATES['recent']}"^^xsd:date .
        offer:e06000023 dcterms:modified "{DATES['recent']}"^^xsd:date .
        page:help-and-complaints dcterms:modified "{DATES['recent']}"^^xsd:date .
        page:travel-and-money dcterms:temporal "{DATES['year']}" .""", format="turtle")
    return graph


def variant(remove: tuple[tuple[str, str, str | None], ...], add: str) -> rdflib.Graph:
    graph = base()
    for s, p, o in remove:
        before = len(graph)
        graph.remove((term(s), term(p), term(o) if o else None))
        assert len(graph) < before, f"fixture bug: nothing to remove for {s} {p} {o}"
    if add:
        graph.parse(data=PREFIXES + add.format(**DATES), format="turtle")
    return graph


def results(graph: rdflib.Graph) -> list[tuple[str, str]]:
    return sorted((f.shape.removeprefix(SHAPES_NS), f.severity) for f in validate(graph).findings)


def test_base_fixture_meets_every_rule():
    result = validate(base())
    assert result.findings == [] and result.conforms
    assert result.records == {"services": 1, "organizations": 1, "locations": 1, "local_offers": 1}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_broken_fixture_yields_exactly_that_rule(case: Case):
    found = results(variant(case.remove, case.add))
    mine = [r for r in found if r[0] == case.shape]
    assert mine == [(case.shape, case.severity)], found
    others = {r[0] for r in found if r[0] != case.shape}
    assert others == set(case.also), found


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_conforming_fixture_yields_nothing(case: Case):
    graph = variant(case.ok_remove, case.ok_add) if (case.ok_remove or case.ok_add) else base()
    assert results(graph) == []


@pytest.mark.parametrize("key,category", [("other-educational-provision", "other-educational-provision"),
                                          ("preparation-for-adulthood", "finding-employment")])
def test_a_record_in_the_category_covers_it_without_a_page(key, category):
    """s.30(2) coverage is met by the authority's records too (a narrower category counts)."""
    items = COVERAGE[key]
    remove = tuple((PAGES[i], "lo:informationItem", f"ii:{i}") for i in items)
    found = results(variant(remove, f"svc:slt lo:provisionCategory pc:{category} ."))
    assert {r[0] for r in found} == {f"LocalOffer-information-{i}" for i in items}


def test_every_shape_has_a_case():
    shapes = {str(s).removeprefix(SHAPES_NS) for s in rules(load_shapes())}
    assert shapes == {c.shape for c in CASES}


def _result_shapes(graph: rdflib.Graph) -> set[rdflib.term.Node]:
    """The shapes that can produce results: those with a target. Shapes nested in sh:or,
    sh:not or sh:qualifiedValueShape only feed their parent's result."""
    targets = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)
    return {s for t in targets for s in graph.subjects(t, None)}


def test_every_shape_carries_severity_message_source_and_comment():
    graph = load_shapes()
    shapes = _result_shapes(graph)
    assert len(shapes) == len(CASES)
    dct, rdfs = rdflib.DCTERMS, rdflib.RDFS
    for shape in shapes:
        assert isinstance(shape, rdflib.URIRef) and str(shape).startswith(SHAPES_NS), shape
        assert graph.value(shape, SH.severity) in (SH.Violation, SH.Warning, SH.Info), shape
        for prop in (SH.message, rdfs.comment, rdfs.label):
            value = graph.value(shape, prop)
            assert isinstance(value, rdflib.Literal), (shape, prop)
            assert value.language == "en" and len(value) > 3, (shape, prop)
        sources = list(graph.objects(shape, dct.source))
        assert sources, shape
        for source in sources:
            assert str(source).startswith(("https://www.legislation.gov.uk/", "https://www.gov.uk/government/",
                                           "https://docs.openreferral.org/")), (shape, source)


def test_no_shape_without_a_target():
    """A node or property shape that only groups others would be a rule nobody can count."""
    graph = load_shapes()
    declared = set(graph.subjects(RDF.type, SH.NodeShape)) | set(graph.subjects(RDF.type, SH.PropertyShape))
    assert declared <= _result_shapes(graph)


def test_warnings_on_unverified_paragraphs_say_so():
    graph = load_shapes()
    for item in WARNING_ITEMS:
        shape = rdflib.URIRef(SHAPES_NS + f"LocalOffer-information-{item}")
        assert "unverified" in str(graph.value(shape, rdflib.RDFS.comment)), item


def _concepts(scheme_file: str) -> set[rdflib.term.Node]:
    graph = rdflib.Graph()
    graph.parse(ONTOLOGY / "schemes" / scheme_file)
    return set(graph.subjects(RDF.type, rdflib.SKOS.Concept))


def _in_list(shape: str) -> set[rdflib.term.Node]:
    graph = load_shapes()
    head = graph.value(rdflib.URIRef(SHAPES_NS + shape), SH["in"])
    return set(rdflib.collection.Collection(graph, head))


@pytest.mark.parametrize("shape,scheme", [("Service-status-value", "service-status.ttl"),
                                          ("Service-provision-category-value", "provision-category.ttl"),
                                          ("Organization-provider-type-value", "provider-type.ttl")])
def test_value_lists_match_the_concept_schemes(shape, scheme):
    assert _in_list(shape) == _concepts(scheme)


def test_information_items_match_the_scheme():
    graph = load_shapes()
    items = {o for o in graph.objects(None, SH.hasValue) if isinstance(o, rdflib.URIRef)}
    assert items == _concepts("information-item.ttl")


# -- the Oxigraph-backed SPARQL keeps pySHACL's semantics -----------------------------------------

def _rows(report: rdflib.Graph) -> set[tuple[str, str, str, str]]:
    out = set()
    for r in report.subjects(RDF.type, SH.ValidationResult):
        path = report.value(r, SH.resultPath)
        out.add((str(report.value(r, SH.focusNode)), str(report.value(r, SH.sourceShape)),
                 str(path) if isinstance(path, rdflib.URIRef) else "", str(report.value(r, SH.value) or "")))
    return out


def _plain(graph: rdflib.Graph, shapes: rdflib.Graph) -> set[tuple[str, str, str, str]]:
    """Results of pySHACL on a plain rdflib graph (rdflib's SPARQL engine)."""
    import pyshacl

    _, report, _ = pyshacl.validate(graph, shacl_graph=shapes, advanced=True, inference="none",
                                    allow_warnings=True)
    return _rows(report)


def _ours(graph: rdflib.Graph, shapes: rdflib.Graph) -> set[tuple[str, str, str, str]]:
    return _rows(validate(graph, shapes=shapes).report)


SPARQL_CASES = [c for c in CASES if "date" in c.shape.lower() or "review" in c.shape
                or c.shape in ("Service-ages", "Contact-route", "LocalAuthority-local-offer")
                or c.shape.startswith(("Organization-sen-information-report-", "LocalOffer-comments",
                                       "LocalOffer-post-16", "LocalOffer-covers-", "LocalOffer-provision"))]


@pytest.mark.parametrize("case", SPARQL_CASES, ids=lambda c: c.id)
def test_same_results_as_plain_pyshacl(case: Case):
    graph = variant(case.remove, case.add)
    graph.parse(data=PREFIXES + f'svc:slt dcterms:created "{DATES["future"]}"^^xsd:date .', format="turtle")
    assert _ours(graph, load_shapes()) == _plain(graph, load_shapes())


def test_per_focus_queries_that_cannot_be_batched_stay_per_focus():
    """LIMIT applies per focus node under pre-binding; running it once for all would differ."""
    shapes = rdflib.Graph().parse(format="turtle", data='''
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:shape> a sh:NodeShape ; sh:targetClass <https://schema.org/Service> ; sh:severity sh:Info ;
            sh:sparql [ sh:select """SELECT $this ?value WHERE { $this <https://schema.org/name> ?value }
                                     ORDER BY ?value LIMIT 1""" ] .
        <urn:count> a sh:NodeShape ; sh:targetClass <https://schema.org/Service> ; sh:severity sh:Info ;
            sh:sparql [ sh:select """SELECT $this WHERE { $this <https://schema.org/name> ?n }
                                     GROUP BY $this HAVING (COUNT(?n) > 1)""" ] .
        ''')
    graph = rdflib.Graph().parse(format="turtle", data="""
        <urn:a> a <https://schema.org/Service> ; <https://schema.org/name> "A" .
        <urn:b> a <https://schema.org/Service> ; <https://schema.org/name> "B" , "B2" .""")
    assert _ours(graph, shapes) == _plain(graph, shapes)
    assert {f.shape for f in validate(graph, shapes=shapes).findings} == {"urn:shape", "urn:count"}
    assert len([f for f in validate(graph, shapes=shapes).findings if f.shape == "urn:shape"]) == 2
