"""Ingest of the real council feeds (ORUK v1, Placecube) and of the official HSDS 3.0 example."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from localoffer import namespaces as ns
from localoffer.cli import main
from localoffer.config import Settings, load_settings
from localoffer.definitions import ensure_definitions
from localoffer.ingest.pipeline import IngestReport, ingest
from localoffer.ingest.text import clean_text
from localoffer.store import Store, open_store

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
DATA = ROOT / "tests" / "data"
BASE = "https://localoffer.test/"
BRISTOL = SAMPLES / "bristol-services-2024-12.json"
NORTH_LINCS = SAMPLES / "north-lincolnshire-services-2024-12.json"
FEEDS = {"bristol": (BRISTOL, "E06000023"), "north-lincs": (NORTH_LINCS, "E06000013")}
PREFIXES = ns.sparql_prefixes()


def new_settings(folder: Path, **extra: Any) -> Settings:
    return load_settings({"store": str(folder / "store"), "base_uri": BASE, **extra}, environ={})


class Ingested:
    """One feed ingested into its own store, shared by the tests of a module."""

    def __init__(self, folder: Path, path: Path, authority: str) -> None:
        self.path, self.authority = path, authority
        self.records: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
        self.settings = new_settings(folder)
        self.store: Store = open_store(self.settings)
        self.report: IngestReport = ingest(self.store, self.settings, str(path), authority=authority)

    def select(self, query: str) -> list[dict[str, Any]]:
        return list(self.store.select(PREFIXES + query))

    def in_graph(self, pattern: str) -> str:
        return f"GRAPH <{self.report.graph}> {{ {pattern} }}"


@pytest.fixture(scope="module")
def ingested() -> Iterator[dict[str, Ingested]]:
    """Each feed is ingested once per module, when a test first needs it."""
    cache: dict[str, Ingested] = {}
    yield cache
    for f in cache.values():
        f.store.close()


def _feed(cache: dict[str, Ingested], factory: pytest.TempPathFactory, name: str) -> Ingested:
    if name not in cache:
        path, authority = FEEDS[name]
        cache[name] = Ingested(factory.mktemp(name), path, authority)
    return cache[name]


@pytest.fixture(scope="module", params=sorted(FEEDS))
def feed(request: pytest.FixtureRequest, ingested: dict[str, Ingested],
         tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    return _feed(ingested, tmp_path_factory, request.param)


@pytest.fixture(scope="module")
def bristol(ingested: dict[str, Ingested], tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    return _feed(ingested, tmp_path_factory, "bristol")


@pytest.fixture(scope="module")
def north_lincs(ingested: dict[str, Ingested], tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    return _feed(ingested, tmp_path_factory, "north-lincs")


def service_iri(ident: str) -> str:
    return ns.mint(BASE, "service", ident)


def expected_rejections(records: list[dict[str, Any]]) -> dict[int, str]:
    """Record number (1-based) -> field, worked out from the input itself."""
    out: dict[int, str] = {}
    seen: set[str] = set()
    for i, r in enumerate(records, start=1):
        if not str(r.get("name") or "").strip():
            out[i] = "name"
            continue
        key = r["id"].strip().lower()
        if key in seen:
            out[i] = "id"
        seen.add(key)
    return out


# -- the real council feeds ------------------------------------------------------------------

def test_input_sizes() -> None:
    assert len(json.loads(BRISTOL.read_text())) == 819
    assert len(json.loads(NORTH_LINCS.read_text())) == 738


def test_every_record_with_id_and_name_is_a_service(feed: Ingested) -> None:
    rejected = expected_rejections(feed.records)
    rows = feed.select(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ "
                       f"{feed.in_graph('?s a schema:Service')} }}")
    count = int(rows[0]["n"].value)
    assert feed.report.read == len(feed.records)
    assert count == feed.report.read - len(feed.report.rejected)
    assert count == len(feed.records) - len(rejected)
    assert feed.report.counts["service"] == count
    # exactly the input ids (minus the rejected ones) are published
    pattern = "?s a schema:Service ; schema:identifier ?id"
    rows = feed.select(f"SELECT ?id WHERE {{ {feed.in_graph(pattern)} }}")
    published = {r["id"].value for r in rows}
    wanted = {r["id"] for i, r in enumerate(feed.records, start=1) if rejected.get(i) != "name"}
    assert published == wanted


def test_bristol_counts(bristol: Ingested) -> None:
    assert bristol.report.read == 819
    assert bristol.report.counts["service"] == 817
    assert len(bristol.report.rejected) == 2


def test_bristol_rejections_name_record_and_field(bristol: Ingested) -> None:
    expected = expected_rejections(bristol.records)
    assert sorted(expected.values()) == ["id", "name"]
    by_field = {e.field: e for e in bristol.report.rejected}
    assert set(by_field) == {"id", "name"}
    src = str(BRISTOL)
    (name_no,) = [n for n, f in expected.items() if f == "name"]
    (dup_no,) = [n for n, f in expected.items() if f == "id"]
    dup_id = bristol.records[dup_no - 1]["id"]
    first_no = next(i for i, r in enumerate(bristol.records, 1) if r["id"] == dup_id)
    empty = by_field["name"]
    assert empty.record == f"{src} record {name_no} (id {bristol.records[name_no - 1]['id']})"
    assert "name" in empty.detail and "empty" in empty.detail
    assert "field 'name'" in str(empty)
    dup = by_field["id"]
    assert dup.record == f"{src} record {dup_no}"
    assert f"duplicate id {dup_id}" in dup.detail
    assert f"{src} record {first_no}" in dup.detail
    assert str(dup).startswith(f"{src} record {dup_no}, field 'id': duplicate id")


def test_north_lincolnshire_has_no_rejections(north_lincs: Ingested) -> None:
    assert north_lincs.report.read == 738
    assert north_lincs.report.rejected == []
    assert north_lincs.report.counts["service"] == 738


def test_organisations_are_the_distinct_input_organisations(feed: Ingested) -> None:
    ids = {r["organization"]["id"].lower() for r in feed.records
           if isinstance(r.get("organization"), dict) and r["organization"].get("id")}
    pattern = "?o a schema:Organization ; schema:identifier ?id"
    rows = feed.select(f"SELECT ?id WHERE {{ {feed.in_graph(pattern)} }}")
    published = {r["id"].value.lower() for r in rows}
    assert published == ids
    assert feed.report.counts["organization"] == len(ids)
    # every service with an organisation points to it
    pattern = "?s a schema:Service ; schema:provider ?o"
    rows = feed.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ {feed.in_graph(pattern)} }}")
    with_org = {r["id"] for r in feed.records if r.get("organization") and r.get("name", "").strip()}
    assert int(rows[0]["n"].value) == len(with_org)


def test_find_bristol_service_by_name_with_clean_description(bristol: Ingested) -> None:
    rows = bristol.select(f"""SELECT ?s ?d WHERE {{ {bristol.in_graph(
        '?s a schema:Service ; schema:name "Bristol Foot Care" ; schema:description ?d')} }}""")
    assert [r["s"].value for r in rows] == [service_iri("aa5169b7-6a26-0eea-3839-9731cc24d823")]
    text = rows[0]["d"].value
    assert text.startswith("Our mission is to provide you with personalised, high-quality care.")
    assert "\n• Nail Trimming\n• Thickened nails\n" in text
    assert "• Callus & Hard Skin" in text
    assert not re.search(r"<[a-zA-Z/][^>]*>", text), "HTML tags left in"
    assert not re.search(r"&[a-zA-Z]+;|&#\d+;", text), "entities left in"


def test_find_north_lincs_service_by_name(north_lincs: Ingested) -> None:
    feed = north_lincs
    pattern = '?s a schema:Service ; schema:name """"We are with You" WAWY""" ; schema:description ?d'
    rows = feed.select(f"SELECT ?s ?d WHERE {{ {feed.in_graph(pattern)} }}")
    assert [r["s"].value for r in rows] == [service_iri("738f94e0-aa6c-6a5c-2395-7b64421ba2a5")]
    text = rows[0]["d"].value
    assert text.startswith("Struggling with Drug & Alcohol Addiction?")
    assert "\n\nWe Are With You are now offering" in text
    assert "&amp;" not in text and "&nbsp;" not in text and "<p>" not in text
    assert text == text.strip()


def test_no_description_keeps_markup_or_entities(feed: Ingested) -> None:
    rows = feed.select(f"SELECT ?d WHERE {{ {feed.in_graph('?s schema:description ?d')} }}")
    assert rows
    for r in rows:
        text = r["d"].value
        assert not re.search(r"</?(p|br|li|ul|ol|strong|em|span|div|a)\b[^>]*>", text), text[:200]
        assert not re.search(r"&(amp|nbsp|lt|gt|quot|#\d+);", text), text[:200]


def test_reingest_is_unchanged(feed: Ingested) -> None:
    before = feed.store.version()
    triples = feed.store.count()
    again = ingest(feed.store, feed.settings, str(feed.path), authority=feed.authority)
    assert again.unchanged
    assert again.version == before == feed.store.version()
    assert feed.store.count() == triples
    assert not again.added and not again.removed and not again.changed


def test_reingest_via_cli_says_unchanged(feed: Ingested, runner: CliRunner) -> None:
    before = feed.store.version()
    result = runner.invoke(main, ["--store", feed.settings.store, "--base-uri", BASE, "ingest",
                                  str(feed.path), "--authority", feed.authority])
    assert result.exit_code == 0, result.output
    assert "changes    none" in result.output
    feed.store.close()  # forget the cached snapshot; the version must be the same on disk
    assert feed.store.version() == before


def test_iris_are_stable_across_fresh_stores(feed: Ingested, tmp_path: Path) -> None:
    other = new_settings(tmp_path)
    store = open_store(other)
    try:
        report = ingest(store, other, str(feed.path), authority=feed.authority)
        assert report.graph == feed.report.graph
        assert report.checksum == feed.report.checksum

        def graph(s: Store) -> set[str]:
            out = io.BytesIO()
            s.dump(out, "nt", feed.report.graph)
            return set(out.getvalue().decode().splitlines())

        assert graph(store) == graph(feed.store)
    finally:
        store.close()


def test_no_personal_data_anywhere(feed: Ingested) -> None:
    # the feeds carry (redacted) staff emails in pc_metadata.assured_by: never published
    assert any("assurer-" in json.dumps(r.get("pc_metadata")) for r in feed.records)
    out = io.BytesIO()
    feed.store.dump(out, "nq")
    dump = out.getvalue().decode()
    assert len(dump) > 100_000
    assert "assurer-" not in dump
    assert "redacted.invalid" not in dump
    assert "assured_by" not in dump


def test_target_audience_becomes_trimmed_audience_type(feed: Ingested) -> None:
    pattern = ("?s a schema:Service ; schema:identifier ?id ; schema:audience ?a . "
               "?a a schema:PeopleAudience ; schema:audienceType ?t")
    rows = feed.select(f"SELECT ?id ?t WHERE {{ {feed.in_graph(pattern)} }}")
    got: dict[str, set[str]] = {}
    for r in rows:
        got.setdefault(r["id"].value, set()).add(r["t"].value)
    rejected = expected_rejections(feed.records)
    want: dict[str, set[str]] = {}
    for i, r in enumerate(feed.records, start=1):
        if i in rejected:
            continue
        for a in r["pc_targetAudience"]:
            if a.get("audienceType", "").strip():
                want.setdefault(r["id"], set()).add(a["audienceType"].strip())
    assert want, "the feed has target audiences"
    assert any(a["audienceType"] != a["audienceType"].strip()
               for r in feed.records for a in r["pc_targetAudience"]), "the feed has untrimmed values"
    assert got == want


def test_status_is_the_service_status_concept(feed: Ingested) -> None:
    rows = feed.select(f"""SELECT ?st (COUNT(?s) AS ?n) WHERE {{ {feed.in_graph(
        '?s a schema:Service ; hsds:status ?st')} }} GROUP BY ?st""")
    statuses = {r["st"].value: int(r["n"].value) for r in rows}
    assert statuses == {ns.SCHEME + "service-status/active": feed.report.counts["service"]}
    assert all(isinstance(r["st"], ox.NamedNode) for r in rows)
    # ... a concept of the service-status scheme that the ingest loaded into the def graph
    rows = feed.select(f"""SELECT ?notation WHERE {{ GRAPH <{ns.graph_iri(feed.settings.base, 'def')}> {{
        <{ns.SCHEME}service-status/active> a skos:Concept ; skos:notation ?notation ;
            skos:inScheme <{ns.SCHEME}service-status> }} }}""")
    assert [r["notation"].value for r in rows] == ["active"]


def test_services_belong_to_the_authority(feed: Ingested) -> None:
    authority = ns.authority_iri(BASE, feed.authority)
    rows = feed.select(f"""SELECT (COUNT(?s) AS ?n) WHERE {{ {feed.in_graph(
        f'?s a schema:Service ; lo:localAuthority <{authority}>')} }}""")
    assert int(rows[0]["n"].value) == feed.report.counts["service"]


def test_cli_reports_rejections_on_stderr(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["--store", str(tmp_path / "store"), "--base-uri", BASE, "ingest",
                                  str(BRISTOL), "--authority", "E06000023", "--output", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["records_read"] == 819 and report["counts"]["service"] == 817
    assert sorted(r["field"] for r in report["rejected"]) == ["id", "name"]
    lines = [x for x in result.stderr.splitlines() if x.startswith("rejected: ")]
    assert len(lines) == 2
    assert all(str(BRISTOL) in x and "record " in x and "field '" in x for x in lines)


# -- the official HSDS 3.0 example: every leaf lands -----------------------------------------

HSDS = DATA / "hsds-3.0"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T")
_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
DAYS = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday", "FR": "Friday",
        "SA": "Saturday", "SU": "Sunday"}

# Personal data that is deliberately not published (a path pattern over the JSON leaves):
NEVER_PUBLISHED = [
    re.compile(r"(^|\.)assurer_email$"),          # who assured the record: staff email, never
]
# Names of people: published only when publish_contact_names=True.
NAMES_OF_PEOPLE = [
    re.compile(r"(^|\.)contacts\[\d+\]\.name$"),   # a contact's name
    re.compile(r"(^|\.)metadata\[\d+\]\.updated_by$"),  # who changed the record
    re.compile(r"(^|\.)addresses\[\d+\]\.attention$"),  # "for the attention of" a person
]


def leaves(value: Any, path: str = "", owner: str | None = None) -> Iterator[tuple[str, Any, str | None]]:
    """(path, value, id of the object holding the value) for every scalar of a JSON document."""
    if isinstance(value, dict):
        ident = value.get("id") if isinstance(value.get("id"), str) else owner
        for k, v in value.items():
            yield from leaves(v, f"{path}.{k}" if path else k, ident)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, f"{path}[{i}]", owner)
    else:
        yield path, value, owner


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except (InvalidOperation, ValueError):
        return None


def _when(text: str) -> Any:
    try:
        if _DATETIME.match(text):
            return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if _DATE.match(text):
            return dt.date.fromisoformat(text)
        if _TIME.match(text):
            return dt.time.fromisoformat(text)
    except ValueError:
        return None
    return None


def _same_time(a: Any, b: Any) -> bool:
    if isinstance(a, dt.date) and not isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return b.date() == a and b.time() == dt.time(0)   # a date published as midnight
    if isinstance(b, dt.date) and not isinstance(b, dt.datetime) and isinstance(a, dt.datetime):
        return _same_time(b, a)
    return type(a) is type(b) and a == b


def lands(value: Any, path: str, term: Any) -> bool:
    """Does the RDF object *term* carry the JSON leaf *value* (at *path*)?"""
    field = re.sub(r"\[\d+\]", "", path).rsplit(".", 1)[-1]
    if isinstance(term, ox.NamedNode):
        iri = term.value
        if isinstance(value, str):
            if iri == value:                                    # URLs as IRIs
                return True
            if field.endswith("_id") or field == "id":          # referenced ids: minted IRIs
                return iri.rsplit("/", 1)[-1] == value.lower()
            if field == "status":                               # enum -> concept IRI
                return iri == ns.SCHEME + "service-status/" + value.replace(" ", "-")
            if field == "byday":                                # RRULE days -> schema:DayOfWeek
                return False                                    # (checked day by day below)
        return False
    if not isinstance(term, ox.Literal):
        return False
    text = term.value
    if isinstance(value, bool):
        return text == ("true" if value else "false")
    if isinstance(value, (int, float)):                          # numbers compare numerically
        n = _number(text)
        return n is not None and n == Decimal(str(value))
    if text == value or text == value.strip():
        return True
    if clean_text(value) == text:                                # HTML-cleaned text
        return True
    if field == "currency":                                      # ISO 4217 is upper case
        return text == value.upper()
    a, b = _when(value), _when(text)
    return a is not None and b is not None and _same_time(a, b)  # dates and times by value


def objects_of(store: Store, graph: str) -> list[tuple[str, str, Any]]:
    rows = store.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return [(r["s"].value, r["p"].value, r["o"]) for r in rows]


def nodes_by_identifier(triples: list[tuple[str, str, Any]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for s, p, o in triples:
        if p == ns.SCHEMA + "identifier" and isinstance(o, ox.Literal):
            out.setdefault(o.value, set()).add(s)
    return out


def on_node(subject: str, nodes: set[str]) -> bool:
    """Is *subject* one of *nodes*, or a node derived from one (`{node}-audience`, ...)?"""
    return any(subject == n or subject.startswith(n + "-") for n in nodes)


def unlanded(doc: Any, triples: list[tuple[str, str, Any]], skip: list[re.Pattern[str]]) -> list[str]:
    """The leaves of *doc* that do not appear on the node of the object that holds them (or on
    a node derived from it, such as `{service}-audience` or `{cost-option}-price`)."""
    by_id = nodes_by_identifier(triples)
    missing = []
    for path, value, owner in leaves(doc):
        if any(p.search(path) for p in skip):
            continue
        field = path.rsplit(".", 1)[-1]
        owners = by_id.get(owner or "", set())
        assert owners, f"{path}: no node has schema:identifier {owner!r}"
        if field == "id":   # every id is the schema:identifier of its node
            continue
        if value in owners:  # term_uri: the concept's own IRI
            continue
        if field == "byday":
            days = {f"https://schema.org/{DAYS[d]}" for d in value.split(",")}
            found = {o.value for s, p, o in triples
                     if on_node(s, owners) and isinstance(o, ox.NamedNode)}
            if not days <= found:
                missing.append(f"{path} = {value!r}")
            continue
        if not any(on_node(s, owners) and lands(value, path, o) for s, p, o in triples):
            missing.append(f"{path} = {value!r}")
    return missing


@pytest.fixture(scope="module")
def definitions_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store folder with the ontology loaded, made once: loading it takes seconds."""
    folder = tmp_path_factory.mktemp("template")
    settings = new_settings(folder)
    store = open_store(settings)
    with store.write() as session:
        ensure_definitions(session, settings)
    store.close()
    return folder / "store"


def ingest_example(tmp_path: Path, name: str, **extra: Any) -> tuple[Store, IngestReport]:
    settings = new_settings(tmp_path, **extra)
    store = open_store(settings)
    report = ingest(store, settings, str(HSDS / name), authority="E06000023")
    return store, report


@pytest.mark.parametrize("name", ["service_full.json", "organization_full.json"])
def test_hsds_example_every_leaf_lands(tmp_path: Path, name: str, definitions_store: Path) -> None:
    shutil.copytree(definitions_store, tmp_path / "store")
    doc = json.loads((HSDS / name).read_text())
    store, report = ingest_example(tmp_path, name, publish_contact_names=True)
    try:
        assert report.rejected == []
        assert report.counts == {"service": 1, "organization": 1, "location": 1}
        triples = objects_of(store, report.graph)
        # every id is some node's schema:identifier
        ids = nodes_by_identifier(triples)
        for path, value, _ in leaves(doc):
            if path.rsplit(".", 1)[-1] == "id":
                assert value in ids, f"{path}: id {value} is not a schema:identifier"
        missing = unlanded(doc, triples, NEVER_PUBLISHED)
        assert missing == []
        # the exclusions really are excluded
        assert not [t for t in triples if "assurer" in t[1].lower()]
    finally:
        store.close()


@pytest.mark.parametrize("name", ["service_full.json", "organization_full.json"])
def test_hsds_example_names_of_people_not_published_by_default(tmp_path: Path, name: str,
                                                              definitions_store: Path) -> None:
    shutil.copytree(definitions_store, tmp_path / "store")
    doc = json.loads((HSDS / name).read_text())
    store, report = ingest_example(tmp_path, name)
    try:
        triples = objects_of(store, report.graph)
        # everything else still lands
        assert unlanded(doc, triples, NEVER_PUBLISHED + NAMES_OF_PEOPLE) == []
        people = {v for p, v, _ in leaves(doc) if any(r.search(p) for r in NAMES_OF_PEOPLE)}
        assert people == {"Ann Persona", "A. Persona"}
        out = io.BytesIO()
        store.dump(out, "nq")
        dump = out.getvalue().decode()
        assert not any(person in dump for person in people)
        out = io.BytesIO()
        store.dump(out, "nt", report.graph)
        assert ns.HSDS + "updatedBy" not in out.getvalue().decode()
        # contacts keep their title, department, email and phones
        assert '"Reception Manager"' in dump
    finally:
        store.close()


def test_hsds_example_shape_spot_checks(tmp_path: Path, definitions_store: Path) -> None:
    shutil.copytree(definitions_store, tmp_path / "store")
    store, report = ingest_example(tmp_path, "service_full.json")
    try:
        svc = ns.mint(BASE, "service", "ac148810-d857-441c-9679-408f346de14b")
        q = PREFIXES + f"""SELECT * WHERE {{ GRAPH <{report.graph}> {{
            <{svc}> a schema:Service ; schema:name ?name ; schema:url ?url ;
                schema:hoursAvailable ?sch ; schema:audience ?aud ; schema:offers ?offer .
            ?sch schema:byDay schema:Thursday ; schema:startTime ?start ; hsds:rrule ?rrule .
            ?aud schema:suggestedMinAge ?min .
            ?offer schema:priceSpecification [ schema:price ?price ; schema:priceCurrency ?cur ] .
        }} }}"""
        rows = list(store.select(q))
        assert rows
        r = rows[0]
        assert r["name"].value == "Community Counselling"
        assert r["url"].datatype.value == ns.XSD + "anyURI"
        assert r["start"].value == "10:00:00" and r["start"].datatype.value == ns.XSD + "time"
        assert "BYDAY=TH,FR" in r["rrule"].value and "UNTIL=2005-01-01" in r["rrule"].value
        assert Decimal(r["min"].value) == 12
        assert Decimal(r["price"].value) == 35 and r["cur"].value == "GBP"
        # the placeholder coordinates (100, 101) are kept, but make no WGS84 point
        loc = ns.mint(BASE, "location", "3a19ff88-4620-4d17-9830-ac1d859eb5d5")
        rows = list(store.select(PREFIXES + f"""SELECT ?lat ?geo WHERE {{ GRAPH <{report.graph}> {{
            <{loc}> hsds:latitude ?lat OPTIONAL {{ <{loc}> schema:geo ?geo }} }} }}"""))
        assert [(Decimal(r["lat"].value), r.get("geo")) for r in rows] == [(Decimal(100), None)]
    finally:
        store.close()
