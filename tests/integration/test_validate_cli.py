"""`localoffer validate`: exit codes, formats, and the report kept in the validation graph."""

from __future__ import annotations

import json

import rdflib

from localoffer.cli import main

from ..conftest import BASE, SAMPLES

PROFILES = SAMPLES / "profiles"
LACKING = """PREFIX sh: <http://www.w3.org/ns/shacl#>
SELECT DISTINCT ?g WHERE { GRAPH ?g { ?r a sh:ValidationResult ; sh:resultSeverity sh:Violation ;
  sh:sourceShape <https://w3id.org/localoffer/def/shapes#LocalOffer-information-post-16-transport-policy-statement> } }"""


def _args(tmp_path):
    return ["--store", str(tmp_path / "store"), "--base-uri", BASE]


def test_exit_codes_and_validation_graph(runner, tmp_path):
    args = _args(tmp_path)
    assert runner.invoke(main, [*args, "ingest", str(PROFILES / "example-complete.yaml"),
                                "--authority", "E06000023"]).exit_code == 0
    ok = runner.invoke(main, [*args, "validate", "--authority", "E06000023"])
    assert ok.exit_code == 0, ok.output
    assert runner.invoke(main, [*args, "ingest", str(PROFILES / "example-incomplete.yaml"),
                                "--authority", "E06000023"]).exit_code == 0
    bad = runner.invoke(main, [*args, "validate", "--authority", "E06000023", "--format", "json"])
    assert bad.exit_code == 1
    data = json.loads(bad.stdout)
    assert data["counts"]["Violation"] == 5
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
