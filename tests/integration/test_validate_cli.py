"""`localoffer validate`: exit codes, formats, and the report kept in the validation graph."""

from __future__ import annotations

import json

import rdflib

from localoffer import namespaces as ns
from localoffer.cli import main
from localoffer.config import load_settings
from localoffer.store import open_store
from localoffer.validation import load_shapes, rules
from localoffer.validation.quality import authority_items

from ..conftest import BASE, SAMPLES

PROFILES = SAMPLES / "profiles"
LACKING = """PREFIX sh: <http://www.w3.org/ns/shacl#>
SELECT DISTINCT ?g WHERE { GRAPH ?g { ?r a sh:ValidationResult ; sh:resultSeverity sh:Violation ;
  sh:sourceShape <https://w3id.org/localoffer/def/shapes#LocalOffer-information-post-16-transport-policy-statement> } }"""


def _args(tmp_path):
    return ["--store", str(tmp_path / "store"), "--base-uri", BASE]


def _conforming_offer(tmp_path):
    """tests/data/shapes/base.ttl (a Local Offer meeting every rule) with today-relative dates."""
    from ..unit.test_shapes import base

    path = tmp_path / "offer.ttl"
    base().serialize(path, format="turtle")
    return path


def test_exit_codes_and_validation_graph(runner, tmp_path):
    args = _args(tmp_path)
    loaded = runner.invoke(main, [*args, "ingest", str(_conforming_offer(tmp_path)), "--authority", "E06000023"])
    assert loaded.exit_code == 0, loaded.output
    ok = runner.invoke(main, [*args, "validate", "--authority", "E06000023"])
    assert ok.exit_code == 0, ok.output
    n = len(authority_items(rules(load_shapes())))
    assert n > 30 and f"Statutory items present: {n} of {n} (100.0%)" in ok.stdout
    assert runner.invoke(main, [*args, "ingest", str(PROFILES / "example-incomplete.yaml"),
                                "--authority", "E06000023"]).exit_code == 0
    bad = runner.invoke(main, [*args, "validate", "--authority", "E06000023", "--format", "json"])
    assert bad.exit_code == 1
    data = json.loads(bad.stdout)
    # The incomplete profile's Local Offer lacks five items (all five Violations) and a
    # feedback address; the records of the first offer count for it too.
    violations = {rule["shape"].rsplit("#", 1)[1] for rule in data["rules"] if rule["severity"] == "Violation"}
    assert violations == {f"LocalOffer-information-{i}" for i in (
        "post-16-transport-policy-statement", "short-breaks-statement", "comments-and-response",
        "personal-budgets", "tribunal-appeals")} | {"LocalOffer-feedback-route"}
    assert data["counts"]["Violation"] == 6
    q = runner.invoke(main, [*args, "query", LACKING, "--format", "json"])
    graphs = [b["g"]["value"] for b in json.loads(q.stdout)["results"]["bindings"]]
    assert graphs == [f"{BASE.rstrip('/')}/graph/validation/E06000023"]


def test_formats_and_errors(runner, tmp_path):
    args = _args(tmp_path)
    runner.invoke(main, [*args, "ingest", str(PROFILES / "example-incomplete.yaml"), "--authority", "E06000023"])
    ttl = runner.invoke(main, [*args, "validate", "--authority", "E06000023", "--format", "ttl", "--no-store"])
    assert len(rdflib.Graph().parse(data=ttl.stdout, format="turtle")) > 10
    html = tmp_path / "report.html"
    out = runner.invoke(main, [*args, "validate", "--authority", "E06000023", "--format", "html", "-o", str(html)])
    assert out.exit_code == 1 and "legislation.gov.uk" in html.read_text()
    missing = runner.invoke(main, [*args, "validate", "--authority", "E06000099"])
    assert missing.exit_code == 2


PER_AUTHORITY = """PREFIX sh: <http://www.w3.org/ns/shacl#>
PREFIX dqv: <http://www.w3.org/ns/dqv#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?g (COUNT(DISTINCT ?r) AS ?results) (COUNT(DISTINCT ?m) AS ?measurements) (SAMPLE(?a) AS ?about)
WHERE { GRAPH ?g { { ?r a sh:ValidationResult } UNION { ?m a dqv:QualityMeasurement ; dcterms:subject ?a } } }
GROUP BY ?g ORDER BY ?g"""


def test_validating_everything_keeps_each_councils_report_in_its_own_graph(runner, tmp_path):
    """`localoffer validate` without --authority: one report graph per council (with its own
    DQV measurements, so councils compare in SPARQL), no combined graph, the same results."""
    args = _args(tmp_path)
    feeds = {"E06000023": SAMPLES / "bristol-services-2024-12.json",
             "E06000013": SAMPLES / "north-lincolnshire-services-2024-12.json"}
    for code, path in feeds.items():
        assert runner.invoke(main, [*args, "ingest", str(path), "--authority", code]).exit_code == 0
    combined = runner.invoke(main, [*args, "validate", "--authority", "E06000023", "--format", "json"])
    one = json.loads(combined.stdout)["counts"]
    # An older whole-store report graph goes once each council's is kept.
    store = open_store(load_settings({"store": str(tmp_path / "store"), "base_uri": BASE}, environ={}))
    stale = tmp_path / "all.nt"
    stale.write_text(f"<urn:x:r> <{ns.RDF}type> <{ns.SH}ValidationResult> .\n", encoding="utf-8")
    with store.write() as w:
        w.replace_graph(ns.graph_iri(BASE, "validation", "all"), stale)
    store.close()
    everything = runner.invoke(main, [*args, "validate", "--format", "json"])
    assert everything.exit_code in (0, 1), everything.output
    assert "report kept in 2 graphs" in everything.stderr
    totals = json.loads(everything.stdout)["counts"]
    q = runner.invoke(main, [*args, "query", PER_AUTHORITY, "--format", "json"])
    rows = {b["g"]["value"].rsplit("/", 1)[1]: b for b in json.loads(q.stdout)["results"]["bindings"]}
    assert set(rows) == {"E06000013", "E06000023"}, rows
    for code, row in rows.items():
        assert int(row["results"]["value"]) > 0 and int(row["measurements"]["value"]) > 0
        assert row["about"]["value"].endswith("/" + code)
    bristol = sum(one.values())
    assert int(rows["E06000023"]["results"]["value"]) == bristol
    assert sum(totals.values()) == sum(int(r["results"]["value"]) for r in rows.values())
