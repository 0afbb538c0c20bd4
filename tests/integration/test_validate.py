"""Both real council feeds validated end to end: ingest into a temporary store, validate per
authority, and check each rule's count against a count computed here straight from the input
JSON; then the four renderings (text, JSON, Turtle, HTML)."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
import rdflib
from localoffer.ingest.pipeline import ingest
from rdflib.namespace import RDF, SH

from localoffer.config import load_settings
from localoffer.errors import ValidationError
from localoffer.reports import FORMATS, render, render_html, render_json, render_text, render_turtle
from localoffer.store import open_store
from localoffer.validation import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_VIOLATION,
    SHAPES_NS,
    exit_code,
    validate,
    validate_store,
)

from ..conftest import BASE, SAMPLES

EMAIL = re.compile(r"[\w.%+'-]+@[\w-]+(\.[\w-]+)*\.[A-Za-z]{2,}", re.A)
FEEDS = {"E06000023": SAMPLES / "bristol-services-2024-12.json",
         "E06000013": SAMPLES / "north-lincolnshire-services-2024-12.json"}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    settings = load_settings({"store": str(tmp_path_factory.mktemp("validate") / "store"), "base_uri": BASE},
                             environ={})
    store = open_store(settings)
    for code, feed in FEEDS.items():
        ingest(store, settings, str(feed), authority=code)
    yield store, settings
    store.close()


@pytest.fixture(scope="module")
def results(loaded):
    store, settings = loaded
    return {code: validate_store(store, settings, authority=code) for code in FEEDS}


# -- what the input says, computed without the shapes -------------------------------------------

def _text(value) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", str(value or ""))).replace("\xa0", " ").strip()


def _url_ok(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https") and "." in parts.netloc and not re.search(r"\s", url)


def _review_date(record: dict) -> str | None:
    return record.get("assured_date") or (record.get("pc_metadata") or {}).get("date_assured") or None


def expected_counts(code: str) -> dict[str, int]:
    """Per-rule counts from the feed: the services the ingest keeps (a name, first use of an id),
    their organisations (first occurrence), and what each field holds."""
    services, seen = [], set()
    for record in json.loads(FEEDS[code].read_text(encoding="utf-8")):
        key = str(record["id"]).lower()
        if _text(record.get("name")) and key not in seen:
            seen.add(key)
            services.append(record)
    orgs: dict[str, dict] = {}
    for record in services:
        org = record.get("organization") or {}
        if org.get("id"):
            orgs.setdefault(org["id"].lower(), org)
    today = dt.date.today()
    cutoff = (today.replace(year=today.year - 1) if (today.month, today.day) != (2, 29)
              else dt.date(today.year - 1, 2, 28)).isoformat()
    counts = {
        # No authority profile is loaded, so the authority has no lo:LocalOffer node yet.
        "LocalAuthority-local-offer": 1,
        # No feed gives ages, need categories, eligibility or provision categories.
        "Service-ages": len(services), "Service-needs": len(services),
        "Service-eligibility-known": len(services), "Service-provision-category": len(services),
        "Service-provider": sum(1 for r in services if not (r.get("organization") or {}).get("id")),
        "Service-description": sum(1 for r in services if not _text(r.get("description"))),
        "Service-url": sum(1 for r in services if not str(r.get("url") or "").strip()),
        "Service-url-syntax": sum(1 for r in services if str(r.get("url") or "").strip()
                                  and not _url_ok(r["url"].strip())),
        "Service-email-syntax": sum(1 for r in services if str(r.get("email") or "").strip()
                                    and not EMAIL.fullmatch(r["email"].strip())),
        "Service-contact-route": sum(1 for r in services if not str(r.get("url") or "").strip()
                                     and not str(r.get("email") or "").strip()),
        "Service-access": sum(1 for r in services if not _text(r.get("attending_access"))
                              and not _text(r.get("pc_attendingAccess_additionalInfo"))),
        "Service-review-date": sum(1 for r in services if not _review_date(r)),
        "Service-review-recent": sum(1 for r in services if _review_date(r)
                                     and _review_date(r)[:10] < cutoff),
        "Organization-description": sum(1 for o in orgs.values() if not _text(o.get("description"))),
        "Organization-url-syntax": sum(1 for o in orgs.values() if str(o.get("url") or "").strip()
                                       and not _url_ok(o["url"].strip())),
    }
    counts["_services"], counts["_organizations"] = len(services), len(orgs)
    return {k: v for k, v in counts.items() if v}


@pytest.mark.parametrize("code", FEEDS)
def test_rule_counts_match_the_input(results, code):
    result = results[code]
    expected = expected_counts(code)
    assert result.records["services"] == expected.pop("_services")
    assert result.records["organizations"] == expected.pop("_organizations")
    got = {rr.rule.shape.removeprefix(SHAPES_NS): rr.count for rr in result.rules}
    assert got == expected
    assert sum(result.counts.values()) == len(result.findings) == sum(expected.values())


def test_bristol_services_without_ages_get_the_code_of_practice_warning(results):
    result = results["E06000023"]
    ages = next(rr for rr in result.rules if rr.rule.shape == SHAPES_NS + "Service-ages")
    assert ages.rule.severity == "Warning" and ages.count == 817
    assert ages.rule.sources == ("https://www.gov.uk/government/publications/send-code-of-practice-0-to-25",)
    careline = [f for f in ages.findings if f.record_name == "Careline365"]
    assert len(careline) == 1 and careline[0].record.startswith(BASE + "id/service/")
    assert not result.conforms and result.exit_code == EXIT_VIOLATION


def test_findings_name_the_record_and_value(results):
    result = results["E06000023"]
    bad_url = [f for f in result.findings if f.shape == SHAPES_NS + "Service-url-syntax"]
    assert any(f.value == "http:www.yateandsodburydc.co.uk" and f.path == "schema:url" for f in bad_url)
    email = next(f for f in result.findings if f.shape == SHAPES_NS + "Service-email-syntax")
    assert email.value == "employment.support@mencap.org.uk." and email.record_name


def test_only_the_authority_is_validated(loaded, results):
    store, settings = loaded
    everything = validate_store(store, settings)
    assert everything.records["services"] == sum(r.records["services"] for r in results.values())
    bristol = {f.record for f in results["E06000023"].findings}
    lincs = {f.record for f in results["E06000013"].findings}
    assert not bristol & lincs


def test_errors(loaded):
    store, settings = loaded
    with pytest.raises(ValidationError, match="GSS code"):
        validate_store(store, settings, authority="Bristol")
    with pytest.raises(ValidationError, match="no records for authority E06000001"):
        validate_store(store, settings, authority="E06000001")
    assert exit_code(ValidationError("x")) == EXIT_ERROR


def test_text_report(results):
    text = render_text(results["E06000023"])
    assert text.startswith("Local Offer validation: Bristol City Council (E06000023)")
    assert text.index("VIOLATIONS (") < text.index("WARNINGS (") < text.index("INFOS (")
    assert "[817] Ages the service is for (los:Service-ages)" in text
    assert ("Source: Children and Families Act 2014, section 30 "
            "<https://www.legislation.gov.uk/ukpga/2014/6/section/30>") in text
    assert "... and 812 more" in text  # 5 examples per rule
    warnings_only = render(results["E06000023"], "text", severities=["Warning"])
    assert "VIOLATIONS" not in warnings_only and "WARNINGS" in warnings_only


def test_json_report(results):
    result = results["E06000013"]
    data = json.loads(render_json(result))
    assert data["authority"] == "E06000013" and data["conforms"] is False
    assert data["counts"] == result.counts
    assert sum(rule["count"] for rule in data["rules"]) == len(result.findings)
    rule = data["rules"][0]
    assert rule["severity"] == "Violation" and rule["sources"] and len(rule["findings"]) == rule["count"]


def test_turtle_report_reparses_as_a_shacl_report(results):
    result = results["E06000023"]
    graph = rdflib.Graph().parse(data=render_turtle(result), format="turtle")
    report = graph.value(predicate=RDF.type, object=SH.ValidationReport, any=False)
    assert report is not None and graph.value(report, SH.conforms).toPython() is False
    found = list(graph.objects(report, SH.result))
    assert len(found) == len(result.findings)
    assert all(graph.value(r, rdflib.DCTERMS.source) is not None for r in found)


class _Balanced(HTMLParser):
    """Fails on unbalanced or mis-nested tags (void elements excepted)."""

    VOID = {"meta", "br", "hr", "img", "input", "link"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()


def _well_formed(page: str) -> None:
    parser = _Balanced()
    parser.feed(page)
    parser.close()
    assert parser.stack == []


def test_html_report(results):
    page = render_html(results["E06000023"])
    _well_formed(page)
    assert "<title>Local Offer validation: Bristol City Council (E06000023)</title>" in page
    assert '<a href="https://www.legislation.gov.uk/ukpga/2014/6/section/30">' in page
    assert ">Careline365</a>" in page
    assert "<link" not in page and "<script" not in page and " src=" not in page  # self-contained


def test_html_escapes_what_the_data_says():
    graph = rdflib.Graph().parse(format="turtle", data="""
        @prefix schema: <https://schema.org/> .
        <https://localoffer.test/id/service/x> a schema:Service ;
            schema:name "<script>alert('x')</script> & friends" ;
            schema:url "javascript:alert(1)" .
        <javascript:alert(2)> a schema:Organization ; schema:name "Evil org" .""")
    result = validate(graph, authority="E06000023")
    page = render_html(result)
    _well_formed(page)
    assert "<script>" not in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; friends" in page
    assert 'href="javascript:' not in page
    assert "javascript:alert(1)" in page  # shown as the failing value, as text


def test_a_conforming_graph_exits_zero():
    result = validate(rdflib.Graph())
    assert result.conforms and result.exit_code == EXIT_OK and result.findings == []
    assert "every rule is met" in render_text(result)
    for fmt in FORMATS:
        assert render(result, fmt)


PROFILES = SAMPLES / "profiles"


@pytest.mark.skipif(not (PROFILES / "example-incomplete.yaml").exists(),
                    reason="no sample authority profiles")
@pytest.mark.parametrize("profile", ["example-complete", "example-incomplete"])
def test_authority_profile_items(tmp_path, profile):
    """With the authority's profile loaded, each information item it lacks is one finding of
    that item's rule, and the authority has its Local Offer node."""
    yaml = pytest.importorskip("yaml")
    settings = load_settings({"store": str(tmp_path / "store"), "base_uri": BASE}, environ={})
    store = open_store(settings)
    try:
        ingest(store, settings, str(PROFILES / f"{profile}.yaml"), authority="E06000023")
        result = validate_store(store, settings, authority="E06000023")
    finally:
        store.close()
    doc = yaml.safe_load((PROFILES / f"{profile}.yaml").read_text(encoding="utf-8"))
    listed = {item for entry in doc["information"] for item in entry["items"]}
    scheme = rdflib.Graph().parse(SAMPLES.parent / "ontology" / "schemes" / "information-item.ttl")
    every = {str(c).rsplit("/", 1)[1] for c in scheme.subjects(RDF.type, rdflib.SKOS.Concept)}
    fired = {f.shape.removeprefix(SHAPES_NS) for f in result.findings}
    missing = {s.removeprefix("LocalOffer-information-") for s in fired if s.startswith("LocalOffer-information-")}
    assert missing == every - listed
    assert result.records["local_offers"] == 1
    assert fired - {f"LocalOffer-information-{i}" for i in missing} == _dated_rules(doc)
    assert (profile == "example-complete") == (missing == set())
    items = result.completeness["statutory_items"]
    assert items["total"] - items["met"] == len(fired - {"LocalOffer-information-accessibility-strategy",
                                                           "LocalOffer-information-sen-information-reports-index"})


def _dated_rules(doc: dict) -> set[str]:
    """The other authority-wide rules a profile alone breaks, worked out from the YAML: no
    service is loaded; the feedback address; the yearly 'you said, we did' and post-16 statement."""
    today = dt.date.today()
    year = today.year - (1 if today.month < 9 else 0)
    current = {f"{year}/{str(year + 1)[2:]}", f"{year}-{str(year + 1)[2:]}", f"{year}/{year + 1}", f"{year}-{year + 1}"}
    out = {"LocalOffer-provision-records"}
    if not (doc.get("local_offer") or {}).get("feedback_url"):
        out.add("LocalOffer-feedback-route")
    entries = doc["information"]
    comments = [e for e in entries if "comments-and-response" in e["items"]]
    if comments and not any(str(e.get("updated", ""))[:10] >= (today - dt.timedelta(days=365)).isoformat()
                            for e in comments):
        out.add("LocalOffer-comments-and-response-annual")
    post16 = [e for e in entries if "post-16-transport-policy-statement" in e["items"]]
    if post16 and not any(str(e.get("academic_year", "")) in current for e in post16):
        out.add("LocalOffer-post-16-transport-statement-current")
    return out
