"""The Linked Data site through Flask's test client: 303s, content negotiation (Accept with
q-values, extensions, ?_format=), 406 and 404, escaping of hostile data, VoID and DCAT parsed
back as triples, /def, search facets, canned queries with hostile parameters, dumps."""

from __future__ import annotations

import gzip
import io
import json
import re

import pytest
import rdflib
from localoffer.publisher import create_app
from localoffer.publisher.linkeddata import register
from rdflib import RDF, Literal, Namespace, URIRef

from ..ldfixtures import (
    BASE,
    BRISTOL,
    HOSTILE_NAME,
    LOC_CENTRE,
    NLINCS,
    ORG_SHARED,
    SVC_COLLEGE,
    SVC_HOSTILE,
    SVC_NL,
    SVC_PLAY,
    build_store,
)

SDO = Namespace("https://schema.org/")
LO = Namespace("https://w3id.org/localoffer/def#")
VOID = Namespace("http://rdfs.org/ns/void#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
B = BASE.rstrip("/")
PLAY = URIRef(f"{B}/id/service/{SVC_PLAY}")
RDF_TYPES = {"text/turtle": "turtle", "application/ld+json": "json-ld", "application/n-triples": "nt",
             "application/rdf+xml": "xml"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ld")
    settings = build_store(tmp / "data")
    app = create_app({"store": settings.store, "base_uri": BASE, "dump_cache": str(tmp / "dumps")})
    if "ld_resources" not in app.blueprints:
        register(app)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def graph_of(response, fmt: str | None = None) -> rdflib.Graph:
    ctype = response.headers["Content-Type"].split(";")[0]
    return rdflib.Graph().parse(data=response.get_data(), format=fmt or RDF_TYPES[ctype])


# -- dereferencing ---------------------------------------------------------------------------
def test_id_redirects_303_to_doc(client):
    r = client.get(f"/id/service/{SVC_PLAY}", headers={"Accept": "text/turtle"})
    assert r.status_code == 303
    assert r.headers["Location"].endswith(f"/doc/service/{SVC_PLAY}")
    assert "Accept" in r.headers["Vary"]


@pytest.mark.parametrize("accept", list(RDF_TYPES))
def test_document_by_accept_parses_back(client, accept):
    r = client.get(f"/doc/service/{SVC_PLAY}", headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith(accept)
    assert "Accept" in r.headers["Vary"]
    g = graph_of(r)
    assert (PLAY, RDF.type, SDO.Service) in g
    assert (PLAY, SDO.name, Literal("Little Explorers Play Scheme")) in g
    # owned nodes are in the description: the audience and its ages, the offer's price
    audience = g.value(PLAY, SDO.audience)
    assert audience == URIRef(f"{PLAY}-audience")
    assert g.value(audience, SDO.suggestedMaxAge).toPython() == 5
    offer = g.value(PLAY, SDO.offers)
    assert g.value(g.value(offer, SDO.priceSpecification), SDO.price).toPython() == 0
    # the location linked from the channel is labelled, not described
    place = URIRef(f"{B}/id/location/{LOC_CENTRE}")
    assert (place, rdflib.RDFS.label, Literal("Harbourside Family Centre")) in g
    assert (place, SDO.address, None) not in g
    org = URIRef(f"{B}/id/organization/{ORG_SHARED}")
    assert (org, rdflib.RDFS.label, Literal("Sunrise Play Trust")) in g
    assert (URIRef("https://w3id.org/localoffer/def/scheme/need/asd"), rdflib.RDFS.label,
            Literal("Autistic spectrum disorder")) in g


@pytest.mark.parametrize("accept,expected", [
    ("text/turtle;q=0.5, application/ld+json;q=0.9", "application/ld+json"),
    ("application/rdf+xml;q=0.8, text/html;q=0.2", "application/rdf+xml"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
    ("application/n-triples, */*;q=0.1", "application/n-triples"),
    ("application/json", "application/ld+json"),
])
def test_q_values_choose(client, accept, expected):
    r = client.get(f"/doc/service/{SVC_PLAY}", headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith(expected)


@pytest.mark.parametrize("ext,fmt", [("ttl", "turtle"), ("jsonld", "json-ld"), ("nt", "nt"), ("rdf", "xml")])
def test_extension_and_format_parameter(client, ext, fmt):
    by_ext = client.get(f"/doc/service/{SVC_PLAY}.{ext}", headers={"Accept": "text/html"})
    by_param = client.get(f"/doc/service/{SVC_PLAY}?_format={ext}", headers={"Accept": "text/html"})
    for r in (by_ext, by_param):
        assert r.status_code == 200
        assert (PLAY, RDF.type, SDO.Service) in graph_of(r, fmt)
    html = client.get(f"/doc/service/{SVC_PLAY}.html", headers={"Accept": "text/turtle"})
    assert html.headers["Content-Type"].startswith("text/html")


def test_link_headers_name_alternates(client):
    r = client.get(f"/doc/service/{SVC_PLAY}", headers={"Accept": "text/turtle"})
    links = r.headers["Link"]
    for ext, media in (("ttl", "text/turtle"), ("jsonld", "application/ld+json"), ("html", "text/html")):
        assert f'</doc/service/{SVC_PLAY}.{ext}>; rel="alternate"; type="{media}"' in links


def test_jsonld_uses_the_published_context(client):
    r = client.get(f"/doc/service/{SVC_PLAY}", headers={"Accept": "application/ld+json"})
    doc = json.loads(r.get_data())
    ctx = json.loads(client.get("/context.jsonld").get_data())
    assert doc["@context"] == ctx["@context"]
    assert ctx["@context"]["schema"] == "https://schema.org/"
    node = next(n for n in doc["@graph"] if n["@id"] == str(PLAY))
    assert "schema:Service" in node["@type"]


def test_406_lists_the_choices(client):
    r = client.get(f"/doc/service/{SVC_PLAY}", headers={"Accept": "image/png"})
    assert r.status_code == 406
    body = r.get_data(as_text=True)
    for media in ("text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml", "text/html"):
        assert media in body
    assert 'rel="alternate"' in r.headers["Link"]
    assert client.get(f"/doc/service/{SVC_PLAY}?_format=pdf").status_code == 406


def test_unknown_resource_gets_a_helpful_404(client):
    r = client.get("/doc/service/00000000-0000-4000-8000-000000000000", headers={"Accept": "text/html"})
    assert r.status_code == 404
    text = r.get_data(as_text=True)
    assert "Page not found" in text and 'href="/services"' in text
    assert client.get("/doc/spaceship/1", headers={"Accept": "text/html"}).status_code == 404
    plain = client.get("/doc/service/nope", headers={"Accept": "text/turtle"})
    assert plain.status_code == 404 and plain.headers["Content-Type"].startswith("text/plain")


def test_etag_gives_304(client):
    r = client.get(f"/doc/service/{SVC_PLAY}", headers={"Accept": "text/turtle"})
    etag = r.headers["ETag"]
    again = client.get(f"/doc/service/{SVC_PLAY}", headers={"Accept": "text/turtle", "If-None-Match": etag})
    assert again.status_code == 304
    other = client.get(f"/doc/service/{SVC_PLAY}", headers={"Accept": "application/n-triples",
                                                          "If-None-Match": etag})
    assert other.status_code == 200


# -- pages for people ------------------------------------------------------------------------
def test_service_page_is_readable(client):
    r = client.get(f"/doc/service/{SVC_PLAY}", headers={"Accept": "text/html"})
    html = r.get_data(as_text=True)
    assert "<h1>Little Explorers Play Scheme</h1>" in html
    assert "From 0 to 5 years" in html
    assert "Monday, Wednesday: 09:00 to 12:00" in html
    assert "Session: Free" in html
    assert "Phone: 0117 922 2000" in html
    assert f'href="/doc/organization/{ORG_SHARED}">Sunrise Play Trust</a>' in html
    assert f'href="/doc/location/{LOC_CENTRE}">Harbourside Family Centre</a>' in html
    assert "Autistic spectrum disorder" in html
    assert "https://w3id.org/localoffer/def/scheme/need/asd</a>" not in html  # labels, not IRIs


def test_location_page_has_coordinates_and_access(client):
    html = client.get(f"/doc/location/{LOC_CENTRE}", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "latitude 51.4545, longitude -2.5879" in html
    assert "Wheelchair accessible" in html
    assert "BS1 5TR" in html
    assert "Saturday: 10:00 to 16:00" in html


def test_organisation_page_lists_its_services(client):
    html = client.get(f"/doc/organization/{ORG_SHARED}", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Services it provides" in html
    assert f'href="/doc/service/{SVC_COLLEGE}">Pathways Supported Internship</a>' in html


def test_authority_page_links_to_search(client):
    html = client.get(f"/doc/authority/{BRISTOL}", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "<h1>Bristol City Council</h1>" in html
    assert f"/services?authority={BRISTOL}" in html


def test_hostile_names_are_escaped(client):
    r = client.get(f"/doc/service/{SVC_HOSTILE}", headers={"Accept": "text/html"})
    html = r.get_data(as_text=True)
    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html
    scripts = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(scripts) == 1
    assert "</" not in scripts[0] and "<" not in scripts[0]
    data = json.loads(scripts[0])
    assert data["name"] == HOSTILE_NAME and data["@type"] == "Service"
    search = client.get("/services?q=quotes").get_data(as_text=True)
    assert "<script>alert(" not in search and "&lt;script&gt;" in search


# -- search ----------------------------------------------------------------------------------
def search(client, query: str) -> dict:
    r = client.get(f"/services?{query}&_format=json")
    assert r.status_code == 200, r.get_data(as_text=True)
    return json.loads(r.get_data())


def names(data: dict) -> set[str]:
    return {h["name"] for h in data["results"]}


@pytest.mark.parametrize("query,expected", [
    ("q=play+scheme", {"Little Explorers Play Scheme"}),
    ("need=communication-and-interaction", {"Little Explorers Play Scheme"}),  # asd is narrower
    ("need=asd", {"Little Explorers Play Scheme"}),
    ("age=17", {"Pathways Supported Internship", "Scunthorpe Speech and Language Drop-in"}),
    ("band=16-19", {"Pathways Supported Internship", "Scunthorpe Speech and Language Drop-in"}),
    ("category=preparation-for-adulthood", {"Pathways Supported Internship"}),
    (f"authority={NLINCS}", {"Scunthorpe Speech and Language Drop-in"}),
    ("cost=free", {"Little Explorers Play Scheme"}),
    ("cost=paid", {"Pathways Supported Internship", HOSTILE_NAME}),
    ("day=Tuesday&time=14:00", {"Scunthorpe Speech and Language Drop-in"}),
    ("day=Tuesday&time=16:00", set()),
    ("language=somali", {"Little Explorers Play Scheme"}),
    ("attendance=online", {HOSTILE_NAME}),
    ("accessibility=Wheelchair+accessible", {"Little Explorers Play Scheme"}),
    ("q=%22%7D+%3B+DROP+ALL+%23", set()),
])
def test_search_filters(client, query, expected):
    assert names(search(client, query)) == expected


def test_search_facet_counts_and_paging(client):
    data = search(client, "")
    assert data["total"] == 4
    councils = {v["value"]: v["count"] for v in data["facets"]["authority"]}
    assert councils == {BRISTOL: 3, NLINCS: 1}
    attendance = {v["value"]: v["count"] for v in data["facets"]["attendance"]}
    assert attendance == {"Venue": 2, "Online": 1, "Phone": 1}
    cost = {v["value"]: v["count"] for v in data["facets"]["cost"]}
    assert cost == {"free": 1, "paid": 2}
    filtered = search(client, f"authority={BRISTOL}")
    assert {v["value"]: v["count"] for v in filtered["facets"]["attendance"]} == {"Venue": 2, "Online": 1}
    assert search(client, "page=2")["results"] == []


def test_search_page_and_bad_input(client):
    html = client.get("/services?need=asd").get_data(as_text=True)
    assert "1 service found" in html and '<label for="q">' in html
    bad = client.get("/services?age=old")
    assert bad.status_code == 400 and "age must be a number" in bad.get_data(as_text=True)
    assert client.get("/services?authority=%22%7D").status_code == 400


# -- discovery -------------------------------------------------------------------------------
def test_void_describes_the_dataset(client):
    r = client.get("/void", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    g = graph_of(r)
    ds = URIRef(f"{B}/void#dataset")
    assert (ds, RDF.type, VOID.Dataset) in g
    assert (ds, VOID.sparqlEndpoint, URIRef(f"{B}/sparql")) in g
    assert (ds, VOID.dataDump, URIRef(f"{B}/dumps/localoffer.nq.gz")) in g
    assert (ds, VOID.uriSpace, Literal(f"{B}/id/")) in g
    services = [p for p in g.objects(ds, VOID.classPartition) if (p, VOID["class"], SDO.Service) in g]
    assert len(services) == 1 and g.value(services[0], VOID.entities).toPython() == 4
    names_part = [p for p in g.objects(ds, VOID.propertyPartition) if (p, VOID.property, SDO.name) in g]
    assert g.value(names_part[0], VOID.triples).toPython() > 4
    linksets = [s for s in g.subjects(RDF.type, VOID.Linkset)]
    assert any((ls, VOID.linkPredicate, rdflib.OWL.sameAs) in g for ls in linksets)
    assert (ds, VOID.subset, linksets[0]) in g
    assert client.get("/void.jsonld").status_code == 200


def test_catalog_is_dcat_with_coverage_per_authority(client):
    g = graph_of(client.get("/catalog", headers={"Accept": "application/ld+json"}))
    cat = URIRef(f"{B}/catalog")
    assert (cat, RDF.type, DCAT.Catalog) in g
    datasets = set(g.objects(cat, DCAT.dataset))
    bristol = URIRef(f"{B}/catalog#dataset-{BRISTOL}")
    assert bristol in datasets
    assert (bristol, DCT.spatial, URIRef(f"http://statistics.data.gov.uk/id/statistical-geography/{BRISTOL}")) in g
    assert (bristol, DCT.publisher, URIRef(f"{B}/id/authority/{BRISTOL}")) in g
    assert (bristol, DCT.license, None) in g
    urls = {g.value(d, DCAT.downloadURL) for d in g.objects(bristol, DCAT.distribution)}
    assert URIRef(f"{B}/dumps/authority/{BRISTOL}.nq.gz") in urls
    assert (None, DCAT.endpointURL, URIRef(f"{B}/sparql")) in g
    html = client.get("/catalog", headers={"Accept": "text/html"})
    assert html.status_code == 200 and "Bristol City Council" in html.get_data(as_text=True)


def test_definitions_served_as_html_and_rdf(client):
    html = client.get("/def", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'id="LocalOffer"' in html and 'href="/def/scheme/need"' in html
    g = graph_of(client.get("/def.ttl"), "turtle")
    assert (LO.LocalOffer, RDF.type, rdflib.OWL.Class) in g
    asd = URIRef("https://w3id.org/localoffer/def/scheme/need/asd")
    concept = graph_of(client.get("/def/scheme/need/asd", headers={"Accept": "text/turtle"}))
    assert (asd, SKOS.notation, Literal("ASD")) in concept
    scheme = graph_of(client.get("/def/scheme/need.nt"), "nt")
    assert (asd, SKOS.inScheme, URIRef("https://w3id.org/localoffer/def/scheme/need")) in scheme
    page = client.get("/def/scheme/need/asd", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Autistic spectrum disorder" in page
    assert client.get("/def/scheme/need/nothing", headers={"Accept": "text/html"}).status_code == 404
    hsds = graph_of(client.get("/def/hsds", headers={"Accept": "text/turtle"}))
    assert (URIRef("https://w3id.org/localoffer/def/hsds#status"), RDF.type, None) in hsds


def test_robots_and_sitemap(client):
    robots = client.get("/robots.txt").get_data(as_text=True)
    assert "Sitemap: http://localhost/sitemap.xml" in robots
    index = client.get("/sitemap.xml").get_data(as_text=True)
    assert "http://localhost/sitemap/1.xml" in index
    pages = client.get("/sitemap/1.xml").get_data(as_text=True)
    assert f"http://localhost/doc/service/{SVC_PLAY}</loc>" in pages
    assert f"http://localhost/doc/authority/{BRISTOL}</loc>" in pages


# -- dumps -----------------------------------------------------------------------------------
def test_whole_dump_is_gzipped_nquads_with_etag(client):
    r = client.get("/dumps/localoffer.nq.gz")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/gzip"
    ds = rdflib.Dataset()
    ds.parse(data=gzip.decompress(r.get_data()), format="nquads")
    graphs = {str(g.identifier) for g in ds.graphs()}
    assert f"{B}/graph/source/{BRISTOL.lower()}-json" in graphs
    assert (PLAY, RDF.type, SDO.Service) in ds.graph(URIRef(f"{B}/graph/source/{BRISTOL.lower()}-json"))
    etag = r.headers["ETag"]
    assert client.get("/dumps/localoffer.nq.gz", headers={"If-None-Match": etag}).status_code == 304


def test_authority_dump_holds_only_its_data(client):
    r = client.get(f"/dumps/authority/{NLINCS}.ttl.gz")
    assert r.status_code == 200
    g = rdflib.Graph().parse(data=gzip.decompress(r.get_data()), format="turtle")
    assert (URIRef(f"{B}/id/service/{SVC_NL}"), RDF.type, SDO.Service) in g
    assert (PLAY, None, None) not in g
    assert client.get("/dumps/authority/E09999999.nq.gz", headers={"Accept": "text/html"}).status_code == 404
    assert client.get("/dumps/other.zip").status_code == 404
    page = client.get("/dumps").get_data(as_text=True)
    assert f"/dumps/authority/{BRISTOL}.nq.gz" in page


# -- canned queries --------------------------------------------------------------------------
def test_queries_listed_and_run(client):
    listing = client.get("/queries").get_data(as_text=True)
    assert listing.count("<section") >= 10
    r = client.get("/queries/services-per-authority.csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(__import__("csv").DictReader(io.StringIO(r.get_data(as_text=True))))
    assert {row["code"]: row["services"] for row in rows} == {BRISTOL: "3", NLINCS: "1"}
    data = json.loads(client.get(f"/queries/services-without-ages?authority={BRISTOL}",
                                 headers={"Accept": "application/sparql-results+json"}).get_data())
    assert data["results"]["bindings"] == []
    html = client.get("/queries/providers-in-several-authorities").get_data(as_text=True)
    assert "sunrise play trust" in html and "<table>" in html


def test_canned_hostile_parameter_is_a_literal(client, app):
    hostile = '"} ; DROP ALL #'
    r = client.get("/queries/services-in-postcode-district", query_string={"district": hostile},
                   headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200
    assert json.loads(r.get_data())["results"]["bindings"] == []
    ok = json.loads(client.get("/queries/services-in-postcode-district?district=bs1&_format=json").get_data())
    assert [b["name"]["value"] for b in ok["results"]["bindings"]] == ["Little Explorers Play Scheme"]
    html = client.get("/queries/services-in-postcode-district", query_string={"district": hostile})
    assert html.status_code == 200 and "&#34;} ; DROP ALL #" in html.get_data(as_text=True)
    bad = client.get("/queries/not-reviewed-recently", query_string={"before": hostile})
    assert bad.status_code == 400 and "must be a date" in bad.get_data(as_text=True)
    bad_iri = client.get("/queries/services-per-need-area", query_string={"authority": "<x> } DROP"},
                         headers={"Accept": "application/json"})
    assert bad_iri.status_code == 400
    assert client.get("/queries/no-such-query", headers={"Accept": "text/html"}).status_code == 404
    # the store is untouched
    assert json.loads(client.get("/services?_format=json").get_data())["total"] == 4


def test_open_now_uses_london_time():
    import datetime as dt
    from zoneinfo import ZoneInfo

    from localoffer.publisher.linkeddata.search import parse_filters

    tuesday = dt.datetime(2024, 6, 4, 14, 5, tzinfo=ZoneInfo("Europe/London"))
    f = parse_filters({"open_now": "1"}, now=tuesday)
    assert (f.day, f.time) == ("Tuesday", "14:05")
    assert f.query_string(page=2) == "day=Tuesday&time=14%3A05&page=2"
