"""Link discovery across authorities: the linkset graph parsed back as triples, the review
file round trip, scoped runs, the command, and precision/recall on perturbed real feeds."""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
import rdflib
from localoffer.ingest.link import LinkError, LinkReport, discover_links, publish_links, write_review
from localoffer.ingest.pipeline import ingest
from rdflib import RDF, XSD, Literal, Namespace, URIRef

from localoffer import namespaces as ns
from localoffer.config import Settings, load_settings
from localoffer.store import Store, open_store

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "link"
BASE = "https://localoffer.test/"
FEEDS = {"alpha": "E06000023", "beta": "E06000025", "gamma": "E06000022"}
LO, VOID, PROV, DCT = Namespace(ns.LO), Namespace(ns.VOID), Namespace(ns.PROV), Namespace(ns.DCTERMS)
SAME_AS, CLOSE = URIRef(ns.OWL + "sameAs"), URIRef(ns.SKOS + "closeMatch")


def thing(kind: str, key: str) -> URIRef:
    """The IRI the ingest mints for fixture record *key* (its id is a UUIDv5 of the key)."""
    ident = uuid.uuid5(uuid.NAMESPACE_URL, f"https://w3id.org/localoffer/test/link/{key}")
    return URIRef(ns.mint(BASE, kind, str(ident)))


def authority_of(iri: object) -> str:
    """Which fixture file a record comes from (the key's first letter: a, b/t/m, c/g/n)."""
    for feed in FEEDS:
        for record in json.loads((DATA / f"{feed}.json").read_text(encoding="utf-8")):
            ids = {record["id"], record["organization"]["id"],
                   *(sal["location"]["id"] for sal in record["service_at_locations"])}
            if str(iri).rsplit("/", 1)[1] in ids:
                return FEEDS[feed]
    raise AssertionError(f"{iri} is not a fixture record")


class Linked:
    """A store holding some fixture authorities, linked and published."""

    def __init__(self, folder: Path, feeds: tuple[str, ...]) -> None:
        self.folder = folder
        self.settings: Settings = load_settings({"store": str(folder / "store"), "base_uri": BASE},
                                                environ={})
        self.store: Store = open_store(self.settings)
        for feed in feeds:
            ingest(self.store, self.settings, str(DATA / f"{feed}.json"), authority=FEEDS[feed])
        self.report = self.run()

    def run(self, **kwargs: object) -> LinkReport:
        report = discover_links(self.store, self.settings, **kwargs)  # type: ignore[arg-type]
        publish_links(self.store, self.settings, report)
        return report

    def graph(self, name: str = "links") -> rdflib.Graph:
        """A named graph of the store, parsed back."""
        g = rdflib.Graph()
        g.parse(data=self._dump(ns.graph_iri(BASE, name)), format="nt")
        return g

    def _dump(self, graph: str) -> bytes:
        import io

        out = io.BytesIO()
        self.store.dump(out, "nt", graph)
        return out.getvalue()


@pytest.fixture
def linked(tmp_path: Path) -> Iterator[Linked]:
    lk = Linked(tmp_path, ("alpha", "beta"))
    yield lk
    lk.store.close()


def link_node(g: rdflib.Graph, a: URIRef, b: URIRef) -> URIRef:
    """The lo:Link node between a and b (either way round)."""
    nodes = [n for n in g.subjects(RDF.type, LO.Link)
             if {g.value(n, LO.source), g.value(n, LO.target)} == {a, b}]
    assert len(nodes) == 1, f"expected one lo:Link between {a} and {b}, found {len(nodes)}"
    return nodes[0]  # type: ignore[return-value]


def decimal(term: object) -> Decimal:
    """The value of an xsd:decimal literal (and a check that it is one)."""
    assert isinstance(term, Literal) and term.datatype == XSD.decimal, term
    return Decimal(str(term))


def linked_by(g: rdflib.Graph, a: URIRef, b: URIRef) -> set[URIRef]:
    return set(g.predicates(a, b)) | set(g.predicates(b, a))


# -- the linkset graph -----------------------------------------------------------------------
def test_a_shared_charity_number_is_owl_same_as(linked: Linked) -> None:
    g = linked.graph()
    a1, b1 = thing("organization", "a1"), thing("organization", "b1")
    assert linked_by(g, a1, b1) == {SAME_AS}     # 'Charity number' '0 1012345' = GB-CHC 1012345
    node = link_node(g, a1, b1)
    assert g.value(node, LO.method) == Literal("identifier:GB-CHC")
    assert decimal(g.value(node, LO.confidence)) == 1


def test_a_shared_uprn_links_two_spellings_of_a_place(linked: Linked) -> None:
    g = linked.graph()
    node = link_node(g, thing("location", "l1"), thing("location", "m1"))
    assert g.value(node, LO.method) == Literal("identifier:UPRN")


def test_a_fuzzy_match_is_skos_close_match_with_its_confidence(linked: Linked) -> None:
    g = linked.graph()
    s1, t1 = thing("service", "s1"), thing("service", "t1")  # 'Support Group' / 'Support Grp'
    assert linked_by(g, s1, t1) == {CLOSE}
    node = link_node(g, s1, t1)
    assert g.value(node, LO.method) == Literal("name+postcode")
    assert Decimal("0.85") <= decimal(g.value(node, LO.confidence)) < 1


def test_similar_names_of_different_things_are_not_linked(linked: Linked) -> None:
    g = linked.graph()
    assert not linked_by(g, thing("service", "s2"), thing("service", "t2"))  # Junior / Senior


def test_nothing_links_two_records_of_one_authority(linked: Linked) -> None:
    g = linked.graph()
    links = [(s, o) for p in (SAME_AS, CLOSE) for s, o in g.subject_objects(p)]
    assert links
    for s, o in links:
        assert authority_of(s) != authority_of(o)
    a1, a3 = thing("organization", "a1"), thing("organization", "a3")
    assert not linked_by(g, a1, a3)                  # one charity number, both in alpha:
    dup = [d for d in linked.report.duplicates if {d.left.iri, d.right.iri} == {str(a1), str(a3)}]
    assert dup and dup[0].method == "identifier:GB-CHC"     # reported as a duplicate instead


def test_linksets_describe_the_links(linked: Linked) -> None:
    g = linked.graph()
    sources = {URIRef(ns.graph_iri(BASE, "source", f"{FEEDS[f].lower()}-json")) for f in ("alpha", "beta")}
    linksets = set(g.subjects(RDF.type, VOID.Linkset))
    assert {g.value(ls, VOID.linkPredicate) for ls in linksets} == {SAME_AS, CLOSE}
    total = 0
    for ls in linksets:
        assert {g.value(ls, VOID.subjectsTarget), g.value(ls, VOID.objectsTarget)} == sources
        predicate = g.value(ls, VOID.linkPredicate)
        nodes = set(g.subjects(URIRef(ns.VOID + "inDataset"), ls))
        assert int(g.value(ls, VOID.triples)) == len(nodes) > 0       # type: ignore[arg-type]
        for node in nodes:
            assert (g.value(node, LO.source), predicate, g.value(node, LO.target)) in g
        assert g.value(ls, DCT.created).datatype == XSD.dateTime      # type: ignore[union-attr]
        assert g.value(ls, PROV.wasGeneratedBy) == URIRef(ns.graph_iri(BASE, "links") + "#run")
        total += len(nodes)
    assert total == len(list(g.subjects(RDF.type, LO.Link)))
    meta = linked.graph("meta")
    links = URIRef(ns.graph_iri(BASE, "links"))
    run = meta.value(links, PROV.wasGeneratedBy)
    assert run is not None and set(meta.objects(run, PROV.used)) == sources
    assert set(meta.objects(links, VOID.subset)) == linksets


def test_publishing_again_replaces_the_links(linked: Linked) -> None:
    before = linked.graph()
    linked.run()
    after = linked.graph()
    assert len(after) == len(before)
    assert set(after.subject_objects(SAME_AS)) == set(before.subject_objects(SAME_AS))
    assert len(list(linked.graph("meta").subjects(RDF.type, PROV.Activity))) >= 1


# -- the review file -------------------------------------------------------------------------
def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_review_round_trip(linked: Linked) -> None:
    review = linked.folder / "review.csv"
    write_review(linked.report, review)
    rows = read_rows(review)
    pairs = {frozenset((r["left_iri"], r["right_iri"])): r for r in rows}
    lunch = frozenset((str(thing("service", "s3")), str(thing("service", "t3"))))
    centre = frozenset((str(thing("location", "l3")), str(thing("location", "m3"))))
    assert {lunch, centre} <= set(pairs)             # same name, another postcode district
    assert pairs[lunch]["decision"] == "" and 0.6 <= float(pairs[lunch]["confidence"]) < 0.85
    assert pairs[lunch]["left_name"] == "Saturday Lunch Club" and pairs[lunch]["right_postcode"]
    assert not linked_by(linked.graph(), *map(URIRef, lunch))

    for row in rows:
        key = frozenset((row["left_iri"], row["right_iri"]))
        row["decision"] = {lunch: "confirmed", centre: "rejected"}.get(key, "")
    with open(review, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    def check(report: LinkReport) -> None:
        g = linked.graph()
        assert linked_by(g, *map(URIRef, lunch)) == {SAME_AS}
        node = link_node(g, *map(URIRef, lunch))
        assert g.value(node, LO.method) == Literal("confirmed")
        assert decimal(g.value(node, LO.confidence)) == 1
        assert not linked_by(g, *map(URIRef, centre))
        assert all(lk.key not in (lunch, centre) for lk in report.review)
        verdicts = {str(g.value(d, LO.decision)) for d in g.subjects(RDF.type, LO.LinkDecision)}
        assert verdicts == {"confirmed", "rejected"}

    check(linked.run(decisions=review))
    again = linked.run()                     # no file: the decisions were kept in the links graph
    check(again)
    write_review(again, review)
    decided = {frozenset((r["left_iri"], r["right_iri"])): r["decision"] for r in read_rows(review)}
    assert decided[lunch] == "confirmed" and decided[centre] == "rejected"


def between(g: rdflib.Graph, a: str, b: str) -> set[tuple[object, object]]:
    """The link triples between records of authorities a and b."""
    return {(s, o) for p in (SAME_AS, CLOSE) for s, o in g.subject_objects(p)
            if {authority_of(s), authority_of(o)} == {a, b}}


# -- scope -------------------------------------------------------------------------------------
def test_a_scoped_run_keeps_the_links_between_other_authorities(tmp_path: Path) -> None:
    lk = Linked(tmp_path, ("alpha", "beta", "gamma"))
    try:
        g = lk.graph()
        a1, b1, c1 = (thing("organization", k) for k in ("a1", "b1", "c1"))
        assert linked_by(g, b1, c1) == {SAME_AS}        # 'Company number' 7654321 = GB-COH 07654321
        alpha_beta = between(g, "E06000023", "E06000025")
        report = lk.run(authorities=["e06000022"])
        assert report.scope == ("E06000022",) and report.kept
        g = lk.graph()
        assert linked_by(g, b1, c1) == {SAME_AS}
        assert between(g, "E06000023", "E06000025") == alpha_beta
        assert a1 in set(g.subjects()) | set(g.objects())
        with pytest.raises(LinkError, match="no data in the store for E06000060"):
            discover_links(lk.store, lk.settings, authorities=["E06000060"])
        with pytest.raises(LinkError, match="not an ONS GSS code"):
            discover_links(lk.store, lk.settings, authorities=["Bristol"])
    finally:
        lk.store.close()


# -- the command -------------------------------------------------------------------------------
def test_link_command(linked: Linked) -> None:
    from click.testing import CliRunner

    from localoffer.cli import main

    review = linked.folder / "review.csv"
    result = CliRunner().invoke(main, ["--store", linked.settings.store, "--base-uri", BASE, "link",
                                       "--review", str(review), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["counts"]["organization identifier:GB-CHC"] == 2 and review.exists()
    result = CliRunner().invoke(main, ["--store", linked.settings.store, "--base-uri", BASE, "link",
                                       "--authority", "E06000060"])
    assert result.exit_code == 1 and "no data in the store for E06000060" in result.output


# -- precision and recall on perturbed real feeds ------------------------------------------
def linkdata() -> ModuleType:
    """bench/linkdata.py, the generator of the labelled pairs."""
    spec = importlib.util.spec_from_file_location("linkdata", ROOT / "bench" / "linkdata.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("linkdata", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_precision_and_recall_on_perturbed_feeds(tmp_path: Path) -> None:
    gen = linkdata()
    settings = load_settings({"store": str(tmp_path / "store"), "base_uri": BASE}, environ={})
    store = open_store(settings)
    truth: set[tuple[str, frozenset[str]]] = set()
    pairs = []
    for feed, left, right, area in (("bristol", "E06000023", "E06000024", "BS"),
                                    ("north-lincolnshire", "E06000013", "E06000012", "DN")):
        records = json.loads((ROOT / "samples" / f"{feed}-services-2024-12.json").read_text(encoding="utf-8"))
        data = gen.make_pair(records, seed=7, area=area, limit=150)
        paths = data.write(tmp_path / area)
        ingest(store, settings, str(paths[0]), authority=left)
        ingest(store, settings, str(paths[1]), authority=right)
        truth |= {(k, frozenset((ns.mint(BASE, k, a), ns.mint(BASE, k, b)))) for k, a, b in data.truth}
        pairs.append(frozenset((left, right)))
    report = discover_links(store, settings)
    store.close()
    found = {(lk.kind, lk.key) for lk in report.links
             if frozenset((lk.left.authority, lk.right.authority)) in pairs}
    precision = len(found & truth) / len(found)
    recall = len(found & truth) / len(truth)
    assert len(truth) > 400
    assert precision >= 0.98, f"precision {precision:.4f}: {sorted(found - truth)[:5]}"
    assert recall >= 0.90, f"recall {recall:.4f}"
