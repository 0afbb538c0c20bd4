"""The derived tables an ingest builds from its mapped records (`localoffer.prepared`: the text
index and search facets of the source graph, and the metadata graph's triple count) equal the
tables read back from the store: after each ingest, the published file of the version is
compared with a file built from scratch by the read-back over the same version. Real feeds
(Bristol, North Lincolnshire), a generated synthetic authority, a re-ingest with changes, and
an RDF graph that adds to a source's services (the ingest must then read back)."""

from __future__ import annotations

import importlib.util
import json
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from localoffer.ingest.pipeline import IngestReport, ingest

from localoffer import namespaces as ns
from localoffer import prepared, textindex
from localoffer.config import Settings, load_settings
from localoffer.federation.changes import read_changes
from localoffer.store import open_store

ROOT = Path(__file__).resolve().parents[2]
BRISTOL = ROOT / "samples" / "bristol-services-2024-12.json"
NORTH_LINCS = ROOT / "samples" / "north-lincolnshire-services-2024-12.json"
BASE = "https://localoffer.test/"
TABLES = {
    "docs": "SELECT doc.graph, doc.iri, doc.authority, fts.name, fts.description, fts.provider "
            "FROM doc JOIN fts ON fts.rowid = doc.id",
    "svc": "SELECT * FROM svc", "facet": "SELECT * FROM facet", "service_age": "SELECT * FROM service_age",
    "service_hours": "SELECT * FROM service_hours", "band": "SELECT * FROM band",
    "facet_label": "SELECT * FROM facet_label", "graph_stat": "SELECT * FROM graph_stat",
    "graph_authority": "SELECT * FROM graph_authority", "authority_stat": "SELECT * FROM authority_stat",
    "need_band": "SELECT * FROM need_band", "concept": "SELECT * FROM concept",
    "info": "SELECT * FROM info WHERE key <> 'version'",
}


def _tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with closing(textindex.open_file(path)) as conn:
        return {name: sorted(conn.execute(sql).fetchall(), key=repr) for name, sql in TABLES.items()}


class Ingests:
    """A store and its ingests; records which graphs used prepared rows in each build."""

    def __init__(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.folder = folder
        self.settings: Settings = load_settings({"store": str(folder / "store"), "base_uri": BASE},
                                                environ={})
        self.store = open_store(self.settings)
        self.built: list[set[str]] = []
        self.neutral: list[set[str]] = []
        split = prepared.split

        def spy(*args: Any) -> Any:  # records what the build used, and returns it unchanged
            neutral, built = split(*args)
            if args[0] is not None:  # the ingest's build, not the read-back of check()
                self.neutral.append(set(neutral))
                self.built.append(set(built))
            return neutral, built

        monkeypatch.setattr(prepared, "split", spy)

    def ingest(self, path: Path, authority: str, **options: Any) -> IngestReport:
        report = ingest(self.store, self.settings, str(path), authority=authority, **options)
        self.check()
        return report

    def check(self) -> None:
        """The published file equals a read-back build of the same version from scratch."""
        version = self.store.version()
        root = Path(self.settings.store)
        published = textindex.index_file(root / "derived", version)
        fresh = self.folder / f"readback-{version}.sqlite"
        db = textindex._Version(root / "versions" / version)
        textindex.build(db, fresh, db.named_graphs(), version=version)
        del db
        ours, theirs = _tables(published), _tables(fresh)
        assert ours["docs"] and ours["facet"]
        for name in TABLES:
            assert ours[name] == theirs[name], name


@pytest.fixture
def ingests(tmp_path, monkeypatch):
    run = Ingests(tmp_path, monkeypatch)
    yield run
    run.store.close()


def test_real_feeds_build_the_tables_the_read_back_builds(ingests):
    meta = ns.graph_iri(BASE, "meta")
    bristol = ingests.ingest(BRISTOL, "E06000023")
    assert ingests.built[-1] == {bristol.graph}  # first version: built from scratch, Bristol prepared
    nl = ingests.ingest(NORTH_LINCS, "E06000013")
    assert ingests.built[-1] == {nl.graph} and ingests.neutral[-1] == {meta}
    assert nl.counts["service"] > 700


def test_a_synthetic_authority_and_a_changed_reingest(ingests, tmp_path):
    spec = importlib.util.spec_from_file_location("generate", ROOT / "bench" / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)  # type: ignore[union-attr]
    generate.generate(tmp_path / "data", 2, 150, seed=11)
    first, second = sorted((tmp_path / "data").glob("E*.json"))
    ingests.ingest(first, first.stem)
    report = ingests.ingest(second, second.stem)
    assert ingests.built[-1] == {report.graph}

    records = json.loads(second.read_text(encoding="utf-8"))
    records[0]["name"] = "Renamed Service For Testing"
    need = "https://w3id.org/localoffer/def/scheme/need/"
    records[3]["lo_send"] = {"is_local_offer": True, "need_concepts": [need + "asd", need + "slcn"]}
    records[4]["lo_send"] = {"need_concepts": [need + "semh"]}
    records[1]["description"] = "Now free for everyone"
    gone = records.pop(2)
    changed = tmp_path / "changed" / second.name
    changed.parent.mkdir()
    changed.write_text(json.dumps(records), encoding="utf-8")
    again = ingests.ingest(changed, second.stem)
    assert ingests.built[-1] == {again.graph}
    with closing(textindex.open_file(textindex.index_file(Path(ingests.settings.store) / "derived",
                                                          ingests.store.version()))) as conn:
        assert conn.execute("SELECT COUNT(*) FROM need_band WHERE area <> '' AND band <> ''").fetchone()[0]
    assert again.changed["service"] >= 2 and again.removed["service"] == 1
    feed = read_changes(ingests.store, ingests.settings, authority=second.stem, limit=10_000)
    latest = max(c.published for c in feed)
    kinds = {(c.type, c.kind) for c in feed if c.published == latest}
    assert ("Update", "service") in kinds and ("Delete", "service") in kinds
    assert any(c.object.endswith(gone["id"]) for c in feed if c.type == "Delete")


def test_another_graph_about_the_services_makes_the_ingest_read_back(ingests, tmp_path):
    bristol = ingests.ingest(BRISTOL, "E06000023")
    records = json.loads(BRISTOL.read_text(encoding="utf-8"))
    derived = Path(ingests.settings.store) / "derived"
    with closing(textindex.open_file(textindex.index_file(derived, ingests.store.version()))) as conn:
        (service,) = conn.execute("SELECT service FROM svc WHERE graph = ? ORDER BY service LIMIT 1",
                                  (bristol.graph,)).fetchone()
    need = "https://w3id.org/localoffer/def/scheme/need/asd"
    extra = tmp_path / "extra.ttl"
    extra.write_text(f"<{service}> <{ns.LO}needCategory> <{need}> ;\n"
                     f"  <{ns.SCHEMA}name> \"Another name\" .\n", encoding="utf-8")
    ingests.ingest(extra, "E06000023", fmt="rdf")
    records[-1]["description"] = "Changed, so that the source graph is written again"
    changed = tmp_path / "bristol.json"
    changed.write_text(json.dumps(records), encoding="utf-8")
    ingests.ingest(changed, "E06000023", source_id=bristol.source_id)
    assert ingests.built[-1] == set()  # read back: the RDF graph says things the tables read
    with closing(textindex.open_file(textindex.index_file(derived, ingests.store.version()))) as conn:
        assert conn.execute("SELECT COUNT(*) FROM facet WHERE service = ? AND name = 'need'",
                            (service,)).fetchone()[0] == 1
