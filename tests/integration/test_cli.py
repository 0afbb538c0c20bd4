"""The CLI through click's CliRunner: every command, its formats and its errors."""

from __future__ import annotations

import json

import pytest
import rdflib

from localoffer.cli import main

from ..conftest import BASE, SAMPLES

NL = str(SAMPLES / "north-lincolnshire-services-2024-12.json")


@pytest.fixture
def loaded(runner, tmp_path):
    args = ["--store", str(tmp_path / "store"), "--base-uri", BASE]
    result = runner.invoke(main, [*args, "ingest", NL, "--authority", "E06000013"])
    assert result.exit_code == 0, result.output
    return args


@pytest.mark.parametrize("command", [[], ["ingest"], ["stats"], ["query"], ["dump"], ["serve"]])
def test_help_everywhere(runner, command):
    result = runner.invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_ingest_reports_changes_then_noop(runner, loaded):
    again = runner.invoke(main, [*loaded, "ingest", NL, "--authority", "E06000013", "--output", "json"])
    report = json.loads(again.stdout)
    assert report["unchanged"] is True and report["counts"]["service"] == 738


def test_stats(runner, loaded):
    out = runner.invoke(main, [*loaded, "stats", "--format", "json"])
    data = json.loads(out.stdout)
    assert data["authorities"] == [{"code": "E06000013", "name": "North Lincolnshire Council",
                                    "services": 738, "organizations": 239, "locations": 0}]
    text = runner.invoke(main, [*loaded, "stats"]).stdout
    assert "E06000013" in text and "738" in text


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "tsv"])
def test_query_formats(runner, loaded, fmt):
    q = "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://schema.org/Service> }"
    out = runner.invoke(main, [*loaded, "query", q, "--format", fmt])
    assert out.exit_code == 0, out.output
    if fmt == "json":
        assert json.loads(out.stdout)["results"]["bindings"][0]["n"]["value"] == "738"
    else:
        assert "738" in out.stdout


def test_query_construct_json_is_jsonld(runner, loaded):
    q = ("CONSTRUCT { ?s <https://schema.org/name> ?n } WHERE { ?s a <https://schema.org/Service> ; "
         "<https://schema.org/name> ?n } LIMIT 3")
    out = runner.invoke(main, [*loaded, "query", q, "--format", "json"])
    g = rdflib.Graph().parse(data=out.stdout, format="json-ld")
    assert len(g) == 3


def test_query_errors_exit_nonzero(runner, loaded):
    bad = runner.invoke(main, [*loaded, "query", "SELECT ?s WHERE { ?s"])
    assert bad.exit_code == 1 and "syntax error" in bad.output.lower()
    upd = runner.invoke(main, [*loaded, "query", "INSERT DATA { <a:a> <a:b> <a:c> }"])
    assert upd.exit_code == 1 and "read-only" in upd.output


@pytest.mark.parametrize("fmt,parse", [("nq", "nquads"), ("trig", "trig"), ("ttl", "turtle"), ("nt", "nt")])
def test_dump_round_trips(runner, loaded, tmp_path, fmt, parse):
    target = tmp_path / f"dump.{fmt}"
    out = runner.invoke(main, [*loaded, "dump", "--format", fmt, "-o", str(target)])
    assert out.exit_code == 0, out.output
    if parse in ("nquads", "trig"):
        ds = rdflib.Dataset()
        ds.parse(target, format=parse)
        assert len(list(ds.quads())) > 10000
    else:
        assert len(rdflib.Graph().parse(target, format=parse)) > 10000


def test_bad_authority_code(runner, tmp_path):
    out = runner.invoke(main, ["--store", str(tmp_path / "s"), "ingest", NL, "--authority", "Bristol"])
    assert out.exit_code == 1
    assert "GSS code" in out.output


def test_bad_base_uri(runner, tmp_path):
    out = runner.invoke(main, ["--store", str(tmp_path / "s"), "--base-uri", "localhost", "stats"])
    assert out.exit_code == 1 and "base URI" in out.output


def test_canned_queries_from_the_cli(runner, loaded):
    listing = runner.invoke(main, [*loaded, "query", "--list"])
    assert listing.exit_code == 0 and "services-per-authority" in listing.stdout
    out = runner.invoke(main, [*loaded, "query", "--name", "services-per-authority", "--format", "json"])
    rows = json.loads(out.stdout)["results"]["bindings"]
    assert rows[0]["services"]["value"] == "738"
    hostile = runner.invoke(main, [*loaded, "query", "--name", "services-in-postcode-district",
                                   "--param", 'district="} ; DROP ALL #'])
    assert hostile.exit_code in (0, 1)
    again = runner.invoke(main, [*loaded, "stats", "--format", "json"])
    assert json.loads(again.stdout)["authorities"][0]["services"] == 738


def test_ingest_compacts_when_due_and_compact_on_demand(runner, tmp_path):
    args = ["--store", str(tmp_path / "store"), "--base-uri", BASE]
    empty = runner.invoke(main, [*args, "compact"])
    assert empty.exit_code == 0 and "the store is empty" in empty.stdout
    first = runner.invoke(main, [*args, "ingest", NL, "--authority", "E06000013"])
    assert first.exit_code == 0, first.output
    assert "compacted store version v000001 into v000002" in first.stderr  # never compacted
    (tmp_path / "store" / "compacted.json").unlink()  # as if never compacted: due, were it to ask
    again = runner.invoke(main, [*args, "ingest", NL, "--authority", "E06000013"])
    assert again.exit_code == 0 and "compacted" not in again.stderr  # nothing written, nothing published
    assert (tmp_path / "store" / "CURRENT").read_text().strip() == "v000002"
    runner.invoke(main, [*args, "compact"])  # recorded again (v000003)
    due = runner.invoke(main, [*args, "compact", "--if-due"])
    assert due.exit_code == 0 and due.stdout.startswith("not due: store version v000003 (")
    assert "1.0x its size at the last compaction (v000003), 0 writes since" in due.stdout
    forced = runner.invoke(main, [*args, "compact"])
    assert forced.exit_code == 0 and "compacted store version v000003 into v000004" in forced.stdout
    counted = runner.invoke(main, [*args, "stats", "--format", "json"])
    assert json.loads(counted.stdout)["authorities"][0]["services"] == 738


def test_compact_is_for_the_embedded_store(runner):
    result = runner.invoke(main, ["--store", "sparql+http://127.0.0.1:9/sparql", "--base-uri", BASE, "compact"])
    assert result.exit_code == 1
    assert "only the embedded store is compacted here" in result.output


@pytest.mark.parametrize("error", [RuntimeError("RocksDB: Corruption"), OSError(28, "No space left on device")])
def test_an_ingest_whose_compaction_fails_still_succeeds(runner, tmp_path, monkeypatch, error):
    """The data is published before the compaction: whatever stops the compaction is a
    warning, and the command's exit status is the ingest's."""
    from localoffer.store.embedded import EmbeddedStore

    def failing(self, *, if_due=False):
        raise error

    monkeypatch.setattr(EmbeddedStore, "compact", failing)
    args = ["--store", str(tmp_path / "store"), "--base-uri", BASE]
    result = runner.invoke(main, [*args, "ingest", NL, "--authority", "E06000013"])
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == f"warning: the data is published, but the store was not compacted: {error}"
    assert "published  store version v000001" in result.stdout
