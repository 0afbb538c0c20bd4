"""Completeness per authority: in the report (all formats), as W3C DQV measurements in each
authority's validation graph, and compared across councils by the canned query
queries/completeness-by-authority.rq."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
import rdflib
from localoffer.ingest.pipeline import ingest

from localoffer import namespaces as ns
from localoffer.canned import run_canned
from localoffer.config import load_settings
from localoffer.reports import render_html, render_json, render_text, render_turtle
from localoffer.store import open_store
from localoffer.validation import load_shapes, publish_report, rules, validate_store
from localoffer.validation.quality import STATUTORY_ITEMS, authority_items, service_rules

from ..conftest import BASE, SAMPLES

DQV = rdflib.Namespace("http://www.w3.org/ns/dqv#")
SLICE = SAMPLES.parent / "tests" / "data" / "feeds" / "bristol-slice.json"
PROFILES = SAMPLES / "profiles"


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """Bristol: five services and the complete profile. North Lincolnshire (E06000013): the same
    five services and the incomplete profile, re-addressed to it."""
    tmp = tmp_path_factory.mktemp("completeness")
    settings = load_settings({"store": str(tmp / "store"), "base_uri": BASE}, environ={})
    store = open_store(settings)
    lincs = tmp / "lincs.yaml"
    lincs.write_text(
        (PROFILES / "example-incomplete.yaml")
        .read_text(encoding="utf-8")
        .replace("authority: E06000023", "authority: E06000013"),
        encoding="utf-8",
    )
    results = {}
    for code, profile in (("E06000023", PROFILES / "example-complete.yaml"), ("E06000013", lincs)):
        ingest(store, settings, str(SLICE), authority=code)
        ingest(store, settings, str(profile), authority=code)
        results[code] = validate_store(store, settings, authority=code, workers=1)
        publish_report(store, settings, results[code])
    yield store, settings, results
    store.close()


def test_the_figures(published):
    _, _, results = published
    total = len(authority_items(rules(load_shapes())))
    bristol, lincs = results["E06000023"].completeness, results["E06000013"].completeness
    assert bristol["statutory_items"] == {"met": total, "total": total, "share": "1.0000", "missing": []}
    missing = {m["shape"].rsplit("#", 1)[1] for m in lincs["statutory_items"]["missing"]}
    assert missing == {
        f"LocalOffer-information-{i}"
        for i in (
            "post-16-transport-policy-statement",
            "short-breaks-statement",
            "comments-and-response",
            "personal-budgets",
            "tribunal-appeals",
        )
    } | {"LocalOffer-feedback-route"}
    assert lincs["statutory_items"]["share"] == str((Decimal(total - 6) / total).quantize(Decimal("0.0001")))
    # The five services carry no provision category (a Violation each), so none is free of them.
    assert bristol["services"] == 5 and bristol["services_without_violation"] == {
        "count": 0,
        "share": "0.0000",
    }
    by_rule = {r["shape"].rsplit("#", 1)[1]: r for r in bristol["service_rules"]}
    assert set(by_rule) == {r.shape.rsplit("#", 1)[1] for r in service_rules(rules(load_shapes()))}
    assert by_rule["Service-provision-category"]["passing"] == 0
    assert by_rule["Service-name"] == {**by_rule["Service-name"], "passing": 5, "share": "1.0000"}
    failing = {f.record for f in results["E06000023"].findings if f.shape.endswith("#Service-review-recent")}
    assert by_rule["Service-review-recent"]["passing"] == 5 - len(failing)


def test_the_figures_are_in_every_format(published):
    _, _, results = published
    result = results["E06000013"]
    assert json.loads(render_json(result))["completeness"] == json.loads(json.dumps(result.completeness))
    text = render_text(result)
    assert "COMPLETENESS" in text and "not met: Way to comment on the Local Offer (Violation)" in text
    assert "Statutory items present:" in render_html(result)
    graph = rdflib.Graph().parse(data=render_turtle(result), format="turtle")
    values = {
        str(graph.value(m, DQV.isMeasurementOf)): graph.value(m, DQV.value)
        for m in graph.subjects(rdflib.RDF.type, DQV.QualityMeasurement)
    }
    assert values[STATUTORY_ITEMS] == rdflib.Literal(
        result.completeness["statutory_items"]["share"], datatype=rdflib.XSD.decimal
    )


def test_measurements_are_stored_as_dqv(published):
    store, settings, results = published
    graph = ns.graph_iri(settings.base, "validation", "E06000023")
    rows = list(
        store.select(f"""PREFIX dqv: <{DQV}> SELECT ?m ?on ?v ?d WHERE {{ GRAPH <{graph}> {{
        ?m a dqv:QualityMeasurement ; dqv:isMeasurementOf <{STATUTORY_ITEMS}> ; dqv:computedOn ?on ;
           dqv:value ?v ; <{ns.DCTERMS}date> ?d }} }}""")
    )
    sources = {r["on"].value for r in rows}
    own = {
        g for g in store.named_graphs() if g.startswith(ns.graph_iri(settings.base, "source", "e06000023"))
    }
    assert len(own) == 2 and sources == own  # the feed and the profile
    # Oxigraph keeps decimals in canonical form (1.0000 is stored as 1).
    assert {(Decimal(r["v"].value), r["v"].datatype.value) for r in rows} == {
        (Decimal(1), ns.XSD + "decimal")
    }
    assert all(r["d"].datatype.value == ns.XSD + "dateTime" for r in rows)
    # The metrics are defined in the ontology, in a DQV dimension and category.
    metric = list(
        store.select(f"""PREFIX dqv: <{DQV}> SELECT ?dim ?cat WHERE {{
        <{STATUTORY_ITEMS}> a dqv:Metric ; dqv:inDimension ?dim . ?dim dqv:inCategory ?cat }}""")
    )
    assert len(metric) == 1


def _canned(store, params: dict[str, str]) -> list[dict[str, str]]:
    out = io.BytesIO()
    run_canned(store, "completeness-by-authority", params, BASE.rstrip("/"), "json", out)
    return [{k: v["value"] for k, v in b.items()} for b in json.loads(out.getvalue())["results"]["bindings"]]


def test_canned_query_compares_councils(published):
    store, _, results = published
    rows = _canned(store, {"metric": STATUTORY_ITEMS})
    assert [(r["authorityName"], Decimal(r["value"])) for r in rows] == [
        ("Bristol City Council", Decimal(1)),
        (
            "North Lincolnshire Council",
            Decimal(results["E06000013"].completeness["statutory_items"]["share"]),
        ),
    ]
    assert rows[0]["metricLabel"] == "share of statutory items present"
    one = _canned(store, {"authority": "E06000013"})
    assert {r["authority"].rsplit("/", 1)[1] for r in one} == {"E06000013"}
    assert len(one) == 2 + len(results["E06000013"].completeness["service_rules"])
    assert all(r.get("rule") for r in one if r["metric"].endswith("services-passing-rule"))
