"""Bad input: every failure names the file, record and field, and leaves the store as it was.

Whole-source failures (unreadable or unparseable input, --strict, every record rejected) raise
IngestError and publish nothing. Record-level faults reject only the record: the rest of the
source is published and the report (and the CLI's stderr) says which record and field."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from localoffer import namespaces as ns
from localoffer.cli import main
from localoffer.config import Settings, load_settings
from localoffer.definitions import ensure_definitions
from localoffer.errors import IngestError
from localoffer.ingest.pipeline import IngestReport, ingest
from localoffer.store import Store, open_store

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
SLICE = DATA / "feeds" / "bristol-slice.json"
BRISTOL = ROOT / "samples" / "bristol-services-2024-12.json"
FAIL = DATA / "oruk-fail"
DEFAULT = DATA / "oruk-default"
AUTH = "E06000023"
BASE = "https://localoffer.test/"
PREFIXES = ns.sparql_prefixes()


def snapshot(store: Store) -> tuple[str, int, str]:
    """The store's version, quad count and a digest of everything in it."""
    out = io.BytesIO()
    store.dump(out, "nq")
    return store.version(), store.count(), hashlib.sha256(out.getvalue()).hexdigest()


def write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    elif isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


def records() -> list[dict[str, Any]]:
    return json.loads(SLICE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Store folders made once per module (loading the ontology takes seconds): one with the
    definitions only, one that also publishes the slice as source "feed"."""
    root = tmp_path_factory.mktemp("templates")
    settings = load_settings({"store": str(root / "defs"), "base_uri": BASE}, environ={})
    store = open_store(settings)
    with store.write() as session:
        ensure_definitions(session, settings)
    store.close()
    shutil.copytree(root / "defs", root / "loaded")
    settings = settings.with_overrides({"store": str(root / "loaded")})
    store = open_store(settings)
    report = ingest(store, settings, str(SLICE), authority=AUTH, source_id="feed")
    assert report.counts["service"] == 5 and not report.rejected
    store.close()
    return {"defs": root / "defs", "loaded": root / "loaded"}


@pytest.fixture
def store(settings: Settings, templates: dict[str, Path]) -> Iterator[Store]:
    """A store with the definitions already loaded (overrides conftest's empty store)."""
    shutil.copytree(templates["defs"], settings.store)
    s = open_store(settings)
    yield s
    s.close()


@pytest.fixture
def loaded(settings: Settings, templates: dict[str, Path]) -> Iterator[Store]:
    """A store that already publishes the slice, under the same graph the bad inputs aim at."""
    shutil.copytree(templates["loaded"], settings.store)
    s = open_store(settings)
    assert s.count(ns.graph_iri(settings.base, "source", "feed")) > 50
    yield s
    s.close()


def fails(store: Store, settings: Settings, path: Path, *, strict: bool = False,
          fmt: str | None = None) -> str:
    """Ingest *path* expecting a whole-source failure; check nothing changed; return the message."""
    before = snapshot(store)
    with pytest.raises(IngestError) as err:
        ingest(store, settings, str(path), authority=AUTH, source_id="feed", strict=strict, fmt=fmt)
    assert snapshot(store) == before, "a failed ingest changed the store"
    return str(err.value)


def run(store: Store, settings: Settings, path: Path) -> IngestReport:
    return ingest(store, settings, str(path), authority=AUTH, source_id="feed")


def service_names(store: Store, report: IngestReport) -> set[str]:
    rows = store.select(PREFIXES + f"SELECT ?n WHERE {{ GRAPH <{report.graph}> "
                        "{ ?s a schema:Service ; schema:name ?n } }")
    return {r["n"].value for r in rows}


# -- the source as a whole is unusable ----------------------------------------------------

def test_missing_file(loaded: Store, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "nope" / "services.json"
    msg = fails(loaded, settings, path)
    assert msg == f"{path}: no such file"


def test_folder_instead_of_file(loaded: Store, settings: Settings, tmp_path: Path) -> None:
    msg = fails(loaded, settings, tmp_path, fmt="json")
    assert str(tmp_path) in msg and "folder" in msg


def test_invalid_json_names_line_and_column(loaded: Store, settings: Settings, tmp_path: Path) -> None:
    path = write(tmp_path, "broken.json", '[\n {"id": "a", "name": "A"}\n {"id": "b", "name": "B"}\n]\n')
    msg = fails(loaded, settings, path)
    assert msg.startswith(f"{path}: invalid JSON at line 3, column 2:")
    assert "delimiter" in msg


def test_trailing_comma(loaded: Store, settings: Settings, tmp_path: Path) -> None:
    path = write(tmp_path, "comma.json", '[{"id": "a", "name": "A"},\n]')
    assert "invalid JSON at line 2, column 1" in fails(loaded, settings, path)


def test_html_error_page(loaded: Store, settings: Settings, tmp_path: Path) -> None:
    page = ("<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
            "<body><h1>Bad Gateway</h1></body></html>\n")
    path = write(tmp_path, "services.json", page)
    msg = fails(loaded, settings, path)
    assert msg.startswith(f"{path}: this is an HTML or XML page, not JSON")


def test_html_page_with_leading_whitespace_and_bom(loaded: Store, settings: Settings, tmp_path: Path) -> None:
    path = write(tmp_path, "services.json", b"\n  <html><body>Sign in</body></html>")
    assert "HTML or XML page" in fails(loaded, settings, path)


@pytest.mark.parametrize("body", [b"", b"   \n\t\n"])
def test_empty_file(loaded: Store, settings: Settings, tmp_path: Path, body: bytes) -> None:
    path = write(tmp_path, "empty.json", body)
    assert fails(loaded, settings, path) == (
        f"{path}: the file is empty; expected a JSON array or object of services")


def test_empty_array(loaded: Store, settings: Settings, tmp_path: Path) -> None:
    path = write(tmp_path, "none.json", [])
    assert fails(loaded, settings, path) == f"{path}: no records found; expected at least one service"


@pytest.mark.parametrize("fraction", [0.5, 0.25, 0.999])
def test_truncated_real_feed(loaded: Store, settings: Settings, tmp_path: Path, fraction: float) -> None:
    body = BRISTOL.read_bytes()
    cut = body[: int(len(body) * fraction)]
    while cut[-1] & 0xC0 == 0x80:   # keep whole UTF-8 characters (see the next test)
        cut = cut[:-1]
    path = write(tmp_path, "bristol-cut.json", cut)
    msg = fails(loaded, settings, path)
    assert msg.startswith(f"{path}: invalid JSON at line ")
    line = int(msg.split(" at line ")[1].split(",")[0])
    assert cut.count(b"\n") - 1 <= line <= cut.count(b"\n") + 1
    assert msg.endswith("— the file ends early; was it truncated?")


def test_truncated_inside_a_character(loaded: Store, settings: Settings, tmp_path: Path) -> None:
    body = SLICE.read_bytes()
    pos = body.index("£".encode()) + 1
    path = write(tmp_path, "cut.json", body[:pos])
    msg = fails(loaded, settings, path)
    assert msg == (f"{path}: not UTF-8 text (byte {pos - 1}); expected UTF-8 JSON — the file ends "
                   "early; was it truncated?")


def test_truncated_after_a_record(loaded: Store, settings: Settings, tmp_path: Path) -> None:
    text = SLICE.read_text(encoding="utf-8")
    cut = text[: text.index("\n {", 10)]   # ends after "}," of the first record
    path = write(tmp_path, "cut.json", cut)
    msg = fails(loaded, settings, path)
    assert "invalid JSON at line" in msg and msg.endswith("was it truncated?")


def test_not_utf8(loaded: Store, settings: Settings, tmp_path: Path) -> None:
    path = write(tmp_path, "latin1.json", '[{"id": "a", "name": "Café"}]'.encode("latin-1"))
    msg = fails(loaded, settings, path)
    assert msg.startswith(f"{path}: not UTF-8 text (byte ")


def test_utf8_bom_is_fine(store: Store, settings: Settings, tmp_path: Path) -> None:
    path = write(tmp_path, "bom.json", b"\xef\xbb\xbf" + SLICE.read_bytes())
    assert run(store, settings, path).counts["service"] == 5


@pytest.mark.parametrize("doc", ["42", '"a string"', '{"services": []}', '{"data": [{"id": "x"}]}'])
def test_not_a_list_of_services(loaded: Store, settings: Settings, tmp_path: Path, doc: str) -> None:
    path = write(tmp_path, "odd.json", doc)
    msg = fails(loaded, settings, path)
    assert msg.startswith(f"{path}: expected an array of services, a page with 'contents'")


def test_array_of_non_objects(loaded: Store, settings: Settings, tmp_path: Path) -> None:
    path = write(tmp_path, "odd.json", [1, "two", None])
    msg = fails(loaded, settings, path)
    assert msg.startswith(f"{path}: all 3 records were rejected, so nothing was published")
    assert f"{path} record 1: must be a JSON object" in msg


def test_every_record_rejected_publishes_nothing(loaded: Store, settings: Settings, tmp_path: Path) -> None:
    bad = [{**r, "name": ""} for r in records()]
    path = write(tmp_path, "nameless.json", bad)
    msg = fails(loaded, settings, path)
    assert msg.startswith(f"{path}: all 5 records were rejected")
    assert f"{path} record 1 (id {bad[0]['id']}), field 'name'" in msg
    assert "(and 2 more)" in msg


def test_bad_authority(loaded: Store, settings: Settings) -> None:
    before = snapshot(loaded)
    with pytest.raises(IngestError, match="--authority 'BRISTOL' is not an ONS GSS code"):
        ingest(loaded, settings, str(SLICE), authority="Bristol")
    assert snapshot(loaded) == before


# -- single records are unusable: rejected, the rest published ---------------------------

def rejected_one(store: Store, settings: Settings, tmp_path: Path, index: int, record: Any,
                 ) -> tuple[IngestReport, Any]:
    """Replace record *index* of the slice by *record*; ingest; expect exactly that record rejected."""
    data = records()
    data[index] = record
    path = write(tmp_path, "feed.json", data)
    report = run(store, settings, path)
    assert report.read == 5
    assert report.counts["service"] == 4
    assert len(report.rejected) == 1
    err = report.rejected[0]
    assert err.record.startswith(f"{path} record {index + 1}")
    return report, err


def test_record_without_id(store: Store, settings: Settings, tmp_path: Path) -> None:
    rec = {k: v for k, v in records()[1].items() if k != "id"}
    report, err = rejected_one(store, settings, tmp_path, 1, rec)
    assert err.field == "id" and err.record == f"{tmp_path / 'feed.json'} record 2"
    assert "needs an id" in err.detail
    assert rec["name"] not in service_names(store, report)


@pytest.mark.parametrize("ident", ["", "   ", None])
def test_record_with_empty_id(store: Store, settings: Settings, tmp_path: Path, ident: Any) -> None:
    rec = {**records()[1], "id": ident}
    _, err = rejected_one(store, settings, tmp_path, 1, rec)
    assert err.field == "id"


def test_record_without_name(store: Store, settings: Settings, tmp_path: Path) -> None:
    base = records()[2]
    rec = {k: v for k, v in base.items() if k != "name"}
    report, err = rejected_one(store, settings, tmp_path, 2, rec)
    assert err.field == "name"
    assert err.record == f"{tmp_path / 'feed.json'} record 3 (id {base['id']})"
    assert str(err) == (f"{tmp_path / 'feed.json'} record 3 (id {base['id']}), field 'name': "
                        "every service needs a name; the value is empty or missing")
    assert not store.query(f"ASK {{ GRAPH ?g {{ ?s <{ns.SCHEMA}identifier> \"{base['id']}\" }} }}")


def test_duplicate_ids(store: Store, settings: Settings, tmp_path: Path) -> None:
    data = records()
    dup = {**data[0], "name": "A different service with the same id"}
    path = write(tmp_path, "feed.json", data + [dup])
    report = run(store, settings, path)
    assert report.counts["service"] == 5 and len(report.rejected) == 1
    err = report.rejected[0]
    assert err.field == "id" and err.record == f"{path} record 6"
    assert err.detail.startswith(f"duplicate id {data[0]['id']}: already used by {path} record 1")
    names = service_names(store, report)
    assert data[0]["name"] in names and dup["name"] not in names


def test_duplicate_ids_differ_only_in_case(store: Store, settings: Settings, tmp_path: Path) -> None:
    data = records()
    path = write(tmp_path, "feed.json", data + [{**data[3], "id": data[3]["id"].upper()}])
    report = run(store, settings, path)
    assert [e.field for e in report.rejected] == ["id"]


def test_minimum_age_not_a_number(store: Store, settings: Settings, tmp_path: Path) -> None:
    base = records()[0]
    report, err = rejected_one(store, settings, tmp_path, 0, {**base, "minimum_age": "five"})
    assert err.field == "minimum_age"
    assert base["id"] in err.record
    assert str(err) == (f"{tmp_path / 'feed.json'} record 1 (id {base['id']}), field 'minimum_age': "
                        'must be a number, e.g. 5; got "five"')
    assert base["name"] not in service_names(store, report)


@pytest.mark.parametrize(("field", "value", "where"), [
    ("maximum_age", [18], "maximum_age"),
    ("status", "open", "status"),
    ("status", 1, "status"),
    ("email", False, "email"),
    ("description", {"text": "x"}, "description"),
    ("organization", "Bristol", "organization"),
    ("assured_date", "19/12/2023", "assured_date"),
    ("pc_targetAudience", "Carers", "target_audiences"),
    ("pc_targetAudience", ["Carers"], "target_audiences[0]"),
    ("pc_metadata", {"date_created": "yesterday"}, "pc_metadata.date_created"),
])
def test_wrong_types(store: Store, settings: Settings, tmp_path: Path, field: str, value: Any,
                     where: str) -> None:
    base = records()[4]
    _, err = rejected_one(store, settings, tmp_path, 4, {**base, field: value})
    assert err.field == where
    assert base["id"] in err.record


def test_record_faults_reach_cli_stderr(tmp_path: Path) -> None:
    data = records()
    data[1] = {**data[1], "minimum_age": "five"}
    path = write(tmp_path, "feed.json", data)
    result = CliRunner().invoke(main, ["--store", str(tmp_path / "store"), "--base-uri", BASE,
                                       "ingest", str(path), "--authority", AUTH])
    assert result.exit_code == 0, result.output
    assert "rejected   1 records" in result.stdout
    rejected, compacted = result.stderr.strip().splitlines()
    assert rejected == (f"rejected: {path} record 2 (id {data[1]['id']}), "
                        "field 'minimum_age': must be a number, e.g. 5; got \"five\"")
    assert compacted.startswith("compacted store version v000001 into v000002")  # a new store


# -- --strict ----------------------------------------------------------------------------

def test_strict_fails_whole_source(loaded: Store, settings: Settings, tmp_path: Path) -> None:
    data = records()
    data[3] = {**data[3], "minimum_age": "five"}
    data.append({**data[0], "name": "changed"})  # would change the graph if published
    path = write(tmp_path, "feed.json", data)
    msg = fails(loaded, settings, path, strict=True)
    assert msg == (f"{path} record 4 (id {data[3]['id']}), field 'minimum_age': must be a number, "
                   'e.g. 5; got "five" (--strict: nothing was published)')


def test_strict_clean_source_publishes(store: Store, settings: Settings) -> None:
    before = store.version()
    report = ingest(store, settings, str(SLICE), authority=AUTH, strict=True)
    assert report.counts["service"] == 5 and store.version() != before


def test_strict_via_cli(tmp_path: Path) -> None:
    data = records()
    data[0] = {**data[0], "name": ""}
    path = write(tmp_path, "feed.json", data)
    store_dir = tmp_path / "store"
    args = ["--store", str(store_dir), "--base-uri", BASE, "ingest", str(path), "--authority", AUTH]
    result = CliRunner().invoke(main, args + ["--strict"])
    assert result.exit_code == 1
    assert f"Error: {path} record 1 (id {data[0]['id']}), field 'name'" in result.stderr
    assert "--strict: nothing was published" in result.stderr
    assert not (store_dir / "CURRENT").exists()
    # the same without --strict publishes the other four
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0 and (store_dir / "CURRENT").exists()


def test_cli_whole_source_error(tmp_path: Path) -> None:
    path = write(tmp_path, "page.json", "<html><body>Service unavailable</body></html>")
    result = CliRunner().invoke(main, ["--store", str(tmp_path / "store"), "--base-uri", BASE,
                                       "ingest", str(path), "--authority", AUTH])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {path}: this is an HTML or XML page, not JSON")
    assert not (tmp_path / "store" / "CURRENT").exists()


# -- the ORUK validator's payloads ---------------------------------------------------------

def test_oruk_fail_api_details_refused(loaded: Store, settings: Settings) -> None:
    # GET / of an API (with a wrong version "HSDS 3.0"), not a list of services
    msg = fails(loaded, settings, FAIL / "api_details.json")
    assert msg.startswith(f"{FAIL / 'api_details.json'}: expected an array of services")
    assert "['openapi_url', 'version']" in msg


def test_oruk_fail_service_list_refused(loaded: Store, settings: Settings) -> None:
    # four services without a name (one also reuses the first one's id, one has "email": false,
    # one "email": 12345): each is rejected for its missing name, so the file as a whole is refused
    path = FAIL / "service_list.json"
    msg = fails(loaded, settings, path)
    assert msg.startswith(f"{path}: all 4 records were rejected, so nothing was published")
    for n, ident in ((1, "ac148810-d857-441c-9679-408f346de14b"),
                     (2, "b644a0d2-9e8a-4c33-9390-ae9ee93fc056"),
                     (3, "e85f5bb0-62f0-42cc-a08a-0c5c16273090")):
        assert f"{path} record {n} (id {ident}), field 'name': every service needs a name" in msg
    assert "(and 1 more)" in msg


def test_oruk_fail_service_list_record_faults(store: Store, settings: Settings, tmp_path: Path) -> None:
    # with names given, the other faults of the same records show
    page = json.loads((FAIL / "service_list.json").read_text())
    for i, rec in enumerate(page["contents"]):
        rec["name"] = f"Service {i}"
    report = run(store, settings, write(tmp_path, "named.json", page))
    assert [(e.record.rsplit(" record ", 1)[1].split(" ")[0], e.field) for e in report.rejected] == [
        ("3", "email"), ("4", "id")]
    assert "JSON boolean false" in report.rejected[0].detail
    assert report.rejected[1].detail.startswith("duplicate id ac148810-d857-441c-9679-408f346de14b")
    assert report.counts["service"] == 2


def published(store: Store, report: IngestReport) -> str:
    out = io.BytesIO()
    store.dump(out, "nt", report.graph)
    return out.getvalue().decode()


def test_oruk_fail_service_full_loaded_with_its_bad_values_kept(store: Store, settings: Settings) -> None:
    # invalid url ("example/counselling") and email ("email-example_com"), no description: the
    # formats are the shapes' (SHACL) concern, so the service is loaded with the values as given
    report = run(store, settings, FAIL / "service_full.json")
    assert report.rejected == []
    assert report.counts == {"service": 1, "organization": 1, "location": 1}
    nt = published(store, report)
    svc = ns.mint(BASE, "service", "ac148810-d857-441c-9679-408f346de14b")
    assert f'<{svc}> <{ns.SCHEMA}url> "example/counselling"^^<{ns.XSD}anyURI> .' in nt
    assert f'<{svc}> <{ns.SCHEMA}email> "email-example_com" .' in nt
    assert f"<{svc}> <{ns.SCHEMA}description>" not in nt


def test_oruk_fail_taxonomy_term_keeps_bad_term_uri(store: Store, settings: Settings) -> None:
    # term_uri "example_com" is not a URI and the required description is missing: the concept
    # gets an IRI minted from its id, and the bad term_uri is kept as an unresolved link
    report = run(store, settings, FAIL / "taxonomy_term.json")
    assert report.rejected == [] and report.counts == {"taxonomy_term": 1}
    term = ns.mint(BASE, "taxonomy-term", "3f7b145d-84af-42d7-8fae-eaca714b02b2")
    nt = published(store, report)
    assert f'<{term}> <{ns.HSDS}unresolvedLink> "term_uri: example_com" .' in nt
    assert f"<{term}> <{ns.SKOS}definition>" not in nt


@pytest.mark.parametrize(("name", "counts", "why"), [
    # identical to the Default payloads (the validator fails them for API-level reasons)
    ("organization_full.json", {"organization": 1, "service": 1, "location": 1}, "same as Default"),
    ("organization_list.json", {"organization": 1}, "same as Default"),
    ("taxonomy.json", {"taxonomy": 1}, "same as Default"),
    ("taxonomy_list.json", {"taxonomy": 1}, "same as Default"),
    # the validator fails these by comparing list and detail responses, or for a page count that
    # does not match the items (total_pages 10, one item): a single file cannot show either
    ("service_at_location_full.json", {"service_at_location": 1, "service": 1, "organization": 1,
                                       "location": 1}, "id differs from the list's"),
    ("service_at_location_list.json", {"service_at_location": 1, "service": 1, "organization": 1,
                                       "location": 1}, "total_pages 10 for one item"),
    ("taxonomy_term_list.json", {"taxonomy_term": 1}, "id differs from taxonomy_term.json's"),
])
def test_oruk_fail_payloads_that_a_file_reader_accepts(store: Store, settings: Settings, name: str,
                                                       counts: dict[str, int], why: str) -> None:
    report = run(store, settings, FAIL / name)
    assert report.rejected == [], why
    assert dict(report.counts) == counts


def test_oruk_fail_every_file_has_an_expectation() -> None:
    covered = {"api_details.json", "service_list.json", "service_full.json", "taxonomy_term.json",
               "organization_full.json", "organization_list.json", "taxonomy.json",
               "taxonomy_list.json", "service_at_location_full.json",
               "service_at_location_list.json", "taxonomy_term_list.json"}
    assert {p.name for p in FAIL.glob("*.json")} == covered


def test_oruk_fail_service_at_location_id_clash(store: Store, settings: Settings) -> None:
    # its id is the location's id: channel and location still get distinct IRIs
    report = run(store, settings, FAIL / "service_at_location_full.json")
    ident = "3a19ff88-4620-4d17-9830-ac1d859eb5d5"
    nt = published(store, report)
    sal, loc = ns.mint(BASE, "service-at-location", ident), ns.mint(BASE, "location", ident)
    assert f"<{sal}> <{ns.SCHEMA}serviceLocation> <{loc}> ." in nt


def test_oruk_fail_strict(loaded: Store, settings: Settings) -> None:
    msg = fails(loaded, settings, FAIL / "service_list.json", strict=True)
    assert msg.endswith("field 'name': every service needs a name; the value is empty or missing "
                        "(--strict: nothing was published)")


DEFAULT_DATA = ["organization_full.json", "organization_list.json", "service_at_location_full.json",
                "service_at_location_list.json", "service_full.json", "service_list.json",
                "taxonomy.json", "taxonomy_list.json", "taxonomy_term.json", "taxonomy_term_list.json"]
DEFAULT_NOT_FEEDS = ["api_details.json", "dashboard_service_details_response.json",
                     "dashboard_services_response.json"]


def test_oruk_default_files_all_considered() -> None:
    assert {p.name for p in DEFAULT.glob("*.json")} == set(DEFAULT_DATA + DEFAULT_NOT_FEEDS)


@pytest.mark.parametrize("name", DEFAULT_DATA)
def test_oruk_default_ingests_cleanly(store: Store, settings: Settings, name: str) -> None:
    report = run(store, settings, DEFAULT / name)
    assert report.rejected == []
    assert report.read == 1
    strict = ingest(store, settings, str(DEFAULT / name), authority=AUTH, source_id="strict", strict=True)
    assert strict.counts == report.counts


@pytest.mark.parametrize("name", DEFAULT_NOT_FEEDS)
def test_oruk_default_documents_that_are_not_feeds(loaded: Store, settings: Settings, name: str) -> None:
    # the API root document (GET /) and the validator dashboard's own responses
    msg = fails(loaded, settings, DEFAULT / name)
    assert msg.startswith(f"{DEFAULT / name}: expected an array of services")


# -- hostile and huge values ---------------------------------------------------------------

HOSTILE = [
    "<script>alert(1)</script>",
    'The "Best" Club',
    "O'Brien's Café — Fun & Games",
    'Quote " and backslash \\ and a fake triple " . <http://evil.example/s> <http://evil.example/p> "x',
    "<img src=x onerror=alert(1)> Stay & Play",
    "Tab\tand \u202eRTL override",
]


def test_hostile_strings_survive_as_plain_literals(store: Store, settings: Settings, tmp_path: Path) -> None:
    data = records()
    for i, name in enumerate(HOSTILE[:5]):
        data[i]["name"] = name
    extra = {**data[0], "id": "hostile-6", "name": HOSTILE[5],
             "description": "<p>Hello</p><script>alert(1)</script><p>World &lt;b&gt;</p>"}
    path = write(tmp_path, "feed.json", data + [extra])
    report = run(store, settings, path)
    assert report.rejected == [] and report.counts["service"] == 6
    expected = {n if "\t" not in n else "Tab and \u202eRTL override" for n in HOSTILE}
    assert service_names(store, report) == expected
    # each is an ordinary literal, found by exact match
    for name in expected:
        literal = json.dumps(name)   # a valid SPARQL string literal for these values
        rows = list(store.select(f"SELECT ?s WHERE {{ GRAPH <{report.graph}> {{ ?s <{ns.SCHEMA}name> "
                                 f"{literal} }} }}"))
        assert len(rows) == 1, name
    # nothing was injected
    assert not store.query("ASK { GRAPH ?g { ?s ?p ?o FILTER(CONTAINS(STR(?s), 'evil') || "
                           "CONTAINS(STR(?p), 'evil')) } }")
    svc = ns.mint(BASE, "service", "hostile-6", authority=AUTH)
    rows = list(store.select(f"SELECT ?d WHERE {{ <{svc}> <{ns.SCHEMA}description> ?d }}"))
    assert [r["d"].value for r in rows] == ["Hello\n\nWorld <b>"]


def test_hostile_ids_make_valid_iris(store: Store, settings: Settings, tmp_path: Path) -> None:
    data = records()
    data[0]["id"] = 'x> <http://evil.example/p> "y'
    data[1]["id"] = "a b/c?d#e"
    report = run(store, settings, write(tmp_path, "feed.json", data))
    assert report.rejected == [] and report.counts["service"] == 5
    rows = list(store.select(f"SELECT ?s WHERE {{ GRAPH <{report.graph}> {{ ?s <{ns.SCHEMA}identifier> "
                             f"{json.dumps(data[1]['id'])} }} }}"))
    assert [r["s"].value for r in rows] == [f"{BASE}id/service/e06000023-a%20b%2Fc%3Fd%23e"]
    assert not store.query("ASK { GRAPH ?g { ?s ?p ?o FILTER(CONTAINS(STR(?p), 'evil')) } }")


def test_one_megabyte_description(store: Store, settings: Settings, tmp_path: Path) -> None:
    data = records()
    para = "<p>" + ("Support for families &amp; carers. " * 30).strip() + "</p>"
    big = para * (1_048_576 // len(para) + 1)
    assert len(big) > 1_048_576
    data[2]["description"] = big
    path = write(tmp_path, "big.json", data)
    started = time.monotonic()
    report = run(store, settings, path)
    assert time.monotonic() - started < 60
    assert report.rejected == [] and report.counts["service"] == 5
    svc = ns.mint(BASE, "service", data[2]["id"])
    rows = list(store.select(f"SELECT ?d WHERE {{ <{svc}> <{ns.SCHEMA}description> ?d }}"))
    text = rows[0]["d"].value
    assert len(text) > 900_000
    assert "<p>" not in text and "&amp;" not in text
    assert text.startswith("Support for families & carers.")
    # and a re-ingest of the same bytes is recognised as unchanged
    assert run(store, settings, path).unchanged
