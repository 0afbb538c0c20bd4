"""The ontology folder: every Turtle file parses, the SKOS concept schemes hang together, and
every lo:/hsds: term (including each one the ingest writes) is defined and documented.

The checks are small functions that return a list of problems; each is also run on a tiny,
deliberately broken graph to prove it finds the fault it is meant to find."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path

import pytest
from rdflib import OWL, RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, SKOS

ROOT = Path(__file__).resolve().parents[2]
ONTOLOGY = ROOT / "ontology"
INGEST = ROOT / "ingest"

LO = Namespace("https://w3id.org/localoffer/def#")
HSDS = Namespace("https://w3id.org/localoffer/def/hsds#")
SCHEMA = Namespace("https://schema.org/")
SCHEME = "https://w3id.org/localoffer/def/scheme/"
LO_ONTOLOGY = URIRef("https://w3id.org/localoffer/def")
HSDS_ONTOLOGY = URIRef("https://w3id.org/localoffer/def/hsds")
NAMESPACES = {"lo": (str(LO), LO_ONTOLOGY), "hsds": (str(HSDS), HSDS_ONTOLOGY)}

TERM_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
DFE_CODES = {"SPLD", "MLD", "SLD", "PMLD", "SEMH", "SLCN", "HI", "VI", "MSI", "PD", "ASD", "OTH"}
# DfE type-of-need code -> notation of its broad area of need (CoP 6.28-6.35); OTH has none.
CODE_AREA = {"SLCN": "C&I", "ASD": "C&I", "MLD": "C&L", "SLD": "C&L", "PMLD": "C&L",
             "SPLD": "C&L", "SEMH": "SEMH", "VI": "SP", "HI": "SP", "MSI": "SP", "PD": "SP",
             "OTH": None}
STATUSES = {f"{SCHEME}service-status/{s}" for s in ("active", "inactive", "defunct",
                                                     "temporarily-closed")}


# -- helpers (each returns a list of problems; empty means fine) ---------------------------

def turtle_files() -> list[Path]:
    return sorted(ONTOLOGY.rglob("*.ttl"))


def load(paths: Iterable[Path]) -> Graph:
    g = Graph()
    for path in paths:
        g.parse(path, format="turtle")
    return g


def concepts(g: Graph) -> set[URIRef]:
    """Everything typed skos:Concept, directly or through a subclass of it."""
    classes = {SKOS.Concept, *g.subjects(RDFS.subClassOf, SKOS.Concept)}
    return {s for c in classes for s in g.subjects(RDF.type, c) if isinstance(s, URIRef)}


def scheme_membership_problems(g: Graph) -> list[str]:
    schemes = set(g.subjects(RDF.type, SKOS.ConceptScheme))
    problems = []
    for c in sorted(concepts(g)):
        found = set(g.objects(c, SKOS.inScheme))
        if len(found) != 1:
            problems.append(f"{c} is in {len(found)} schemes, not exactly one")
        problems += [f"{c} is in {s}, which is not a skos:ConceptScheme" for s in found - schemes]
    return problems


def pref_label_problems(g: Graph) -> list[str]:
    problems = []
    for c in sorted(concepts(g)):
        english = [o for o in g.objects(c, SKOS.prefLabel)
                   if isinstance(o, Literal) and o.language == "en"]
        if len(english) != 1:
            problems.append(f"{c} has {len(english)} @en skos:prefLabel values, not exactly one")
    return problems


def hierarchy_problems(g: Graph) -> list[str]:
    """skos:broader/narrower/topConceptOf must join concepts (and schemes) that exist."""
    known, schemes = concepts(g), set(g.subjects(RDF.type, SKOS.ConceptScheme))
    problems = []
    for p in (SKOS.broader, SKOS.narrower):
        for s, o in g.subject_objects(p):
            problems += [f"{s} {p.fragment} {o}: {x} is not a concept" for x in (s, o) if x not in known]
    for s, o in g.subject_objects(SKOS.topConceptOf):
        if o not in schemes:
            problems.append(f"{s} is a top concept of {o}, which is not a concept scheme")
        if (o, SKOS.hasTopConcept, s) not in g:
            problems.append(f"{s} is skos:topConceptOf {o} but {o} does not list it in skos:hasTopConcept")
    for s, o in g.subject_objects(SKOS.hasTopConcept):
        if (o, SKOS.topConceptOf, s) not in g:
            problems.append(f"{s} lists {o} in skos:hasTopConcept but {o} is not skos:topConceptOf it")
    return problems


def symmetry_problems(g: Graph) -> list[str]:
    """Each skos:broader is also stated as skos:narrower the other way, and vice versa."""
    problems = [f"{s} broader {o} has no matching narrower" for s, o in g.subject_objects(SKOS.broader)
                if (o, SKOS.narrower, s) not in g]
    problems += [f"{s} narrower {o} has no matching broader" for s, o in g.subject_objects(SKOS.narrower)
                 if (o, SKOS.broader, s) not in g]
    return problems


def defined_terms(g: Graph, namespace: str) -> set[URIRef]:
    return {s for t in TERM_TYPES for s in g.subjects(RDF.type, t)
            if isinstance(s, URIRef) and str(s).startswith(namespace)}


def _english(g: Graph, s: URIRef, p: URIRef) -> bool:
    return any(isinstance(o, Literal) and o.language == "en" and str(o).strip() for o in g.objects(s, p))


def _aligned(g: Graph, term: URIRef, namespace: str) -> bool:
    """A property has a domain, a range or a schema.org alignment; a class a superclass or an
    equivalent class from another vocabulary (schema.org, SKOS, PROV)."""
    if (term, RDF.type, OWL.Class) in g:
        supers = set(g.objects(term, RDFS.subClassOf)) | set(g.objects(term, OWL.equivalentClass))
        return any(isinstance(c, URIRef) and not str(c).startswith(namespace) for c in supers)
    if any(True for p in (RDFS.domain, RDFS.range, SCHEMA.domainIncludes, SCHEMA.rangeIncludes)
           for _ in g.objects(term, p)):
        return True
    supers = set(g.objects(term, RDFS.subPropertyOf)) | set(g.objects(term, OWL.equivalentProperty))
    return any(str(p).startswith(str(SCHEMA)) for p in supers)


def documentation_problems(g: Graph, namespace: str, ontology: URIRef) -> list[str]:
    problems = []
    for term in sorted(defined_terms(g, namespace)):
        if not _english(g, term, RDFS.label):
            problems.append(f"{term} has no @en rdfs:label")
        if not _english(g, term, RDFS.comment):
            problems.append(f"{term} has no @en rdfs:comment")
        if not _aligned(g, term, namespace):
            problems.append(f"{term} has no domain, range or schema.org alignment")
        if (term, RDFS.isDefinedBy, ontology) not in g:
            problems.append(f"{term} is not rdfs:isDefinedBy {ontology}")
    return problems


def undefined_terms(used: Iterable[str], g: Graph, namespace: str) -> list[str]:
    defined = defined_terms(g, namespace)
    return sorted({f"{namespace}{name}" for name in used} - {str(t) for t in defined})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


# How code spells a term: Vocab attribute or item (`L.x`, `L["x"]`), a helper call (`L("x")`),
# concatenation (`ns.LO + "x"`), an f-string (`{ns.LO}x`), a prefixed name (`lo:x`) or the full IRI.
_SPELLINGS = {
    "lo": ("L", "LO", "lo", re.escape(str(LO))),
    "hsds": ("H", "HSDS", "hsds", re.escape(str(HSDS))),
}
_DYNAMIC_OK = (  # computed names that the tests below expand themselves
    re.compile(r"L\[_camel\(f\)\]"),
    re.compile(r"""L\(f["']\{kind\.replace\('_', ''\)\}Count["']\)"""),
)


def code_terms(source: str, prefix: str) -> set[str]:
    """Local names of the *prefix* namespace (lo or hsds) spelled literally in *source*."""
    var, const, pfx, full = _SPELLINGS[prefix]
    pattern = re.compile(
        rf"\b{var}\.(\w+)|\b{var}[\[(]\s*['\"](\w+)['\"]\s*[\])]|ns\.{const}\s*\+\s*['\"](\w+)"
        rf"|\{{ns\.{const}\}}(\w+)|(?<![\w#.\[-]){pfx}:([A-Za-z_]\w*)|{full}(\w+)")
    return {next(x for x in m if x) for m in pattern.findall(source)}


def ingest_terms(source: str, letter: str) -> set[str]:
    """Local names used as `H.name` / `H["name"]` / `H("name")` (H) or the same with L (L)."""
    return code_terms(source, {"H": "hsds", "L": "lo"}[letter])


def dynamic_uses(source: str, letter: str) -> list[str]:
    """`L[...]` / `L(...)` (or H) whose argument is not a string literal and that no test expands."""
    found = re.finditer(rf"\b{letter}[\[(](?!\s*['\"]\w+['\"]\s*[\])])[^\n]*", source)
    return [m.group(0) for m in found if not any(ok.match(m.group(0)) for ok in _DYNAMIC_OK)]


def count_terms(sources: Iterable[str]) -> set[str]:
    """The per-kind counters that `L(f"{kind.replace('_', '')}Count")` writes: one per kind of
    mapped record (`MappedRecord("kind", ...)`) and per literal `counts["kind"]` key."""
    text = "\n".join(sources)
    if not _DYNAMIC_OK[1].search(text):
        return set()
    kinds = set(re.findall(r"""MappedRecord\(\s*["'](\w+)["']""", text))
    kinds |= set(re.findall(r"""counts\[\s*["'](\w+)["']\s*\]""", text))
    return {f"{k.replace('_', '')}Count" for k in kinds}


def send_answer_terms(source: str) -> set[str]:
    """The lo: local names of the SEND_ANSWERS tuple (written through `L[_camel(f)]`)."""
    for node in ast.walk(ast.parse(source)):
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == "SEND_ANSWERS" for t in targets):
            return {_camel(name) for name in ast.literal_eval(node.value)}
    return set()


# -- fixtures -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def graph() -> Graph:
    return load(turtle_files())


@pytest.fixture(scope="module")
def ingest_sources() -> dict[str, str]:
    return {p.relative_to(INGEST).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(INGEST.rglob("*.py"))}


# -- files ---------------------------------------------------------------------------------

def test_the_expected_files_exist():
    names = {p.relative_to(ONTOLOGY).as_posix() for p in turtle_files()}
    assert {"lo.ttl", "hsds.ttl", "schemes/need.ttl", "schemes/service-status.ttl"} <= names
    assert (ONTOLOGY / "__init__.py").exists()


@pytest.mark.parametrize("path", turtle_files(), ids=lambda p: p.relative_to(ONTOLOGY).as_posix())
def test_turtle_parses_with_rdflib_and_oxigraph(path: Path):
    assert len(Graph().parse(path, format="turtle")) > 0
    ox = pytest.importorskip("pyoxigraph")
    assert sum(1 for _ in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)) > 0


@pytest.mark.parametrize("path", sorted((ONTOLOGY / "schemes").glob("*.ttl")), ids=lambda p: p.name)
def test_each_scheme_file_holds_one_documented_scheme_named_like_the_file(path: Path):
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*\.ttl", path.name), "file names are kebab-case"
    g = Graph().parse(path, format="turtle")
    schemes = list(g.subjects(RDF.type, SKOS.ConceptScheme))
    assert schemes == [URIRef(SCHEME + path.stem)]
    scheme = schemes[0]
    assert _english(g, scheme, DCTERMS.title) and _english(g, scheme, RDFS.comment)
    assert list(g.objects(scheme, SKOS.hasTopConcept)), f"{scheme} has no top concepts"
    for c in concepts(g):
        assert str(c).startswith(f"{scheme}/"), f"{c} is not minted under {scheme}"


# -- SKOS -----------------------------------------------------------------------------------

def test_every_concept_is_in_exactly_one_scheme(graph: Graph):
    assert scheme_membership_problems(graph) == []


def test_every_concept_has_exactly_one_english_pref_label(graph: Graph):
    assert pref_label_problems(graph) == []


def test_broader_narrower_and_top_concepts_point_at_real_concepts(graph: Graph):
    assert hierarchy_problems(graph) == []


def test_broader_and_narrower_are_stated_both_ways(graph: Graph):
    assert symmetry_problems(graph) == []


def test_every_concept_is_typed_with_a_lo_concept_class(graph: Graph):
    lo_classes = {c for c in graph.subjects(RDFS.subClassOf, SKOS.Concept) if str(c).startswith(str(LO))}
    untyped = [c for c in concepts(graph) if (c, RDF.type, SKOS.Concept) not in graph
               or not set(graph.objects(c, RDF.type)) & lo_classes]
    assert untyped == []


def test_all_twelve_dfe_codes_sit_under_their_broad_area(graph: Graph):
    need = URIRef(SCHEME + "need")
    by_code = {str(n): c for c, n in graph.subject_objects(SKOS.notation)
               if (c, RDF.type, LO.Need) in graph and (c, SKOS.inScheme, need) in graph}
    assert DFE_CODES <= set(by_code)
    areas = {str(n): a for a, n in graph.subject_objects(SKOS.notation)
             if (a, RDF.type, LO.NeedArea) in graph}
    assert set(areas) == {"C&I", "C&L", "SEMH", "SP"}
    assert all((a, SKOS.topConceptOf, need) in graph for a in areas.values())
    for code, area in CODE_AREA.items():
        broader = set(graph.objects(by_code[code], SKOS.broader))
        assert broader == ({areas[area]} if area else set()), code
    assert by_code["SEMH"] != areas["SEMH"], "the SEMH code and the SEMH area need distinct IRIs"


def test_disability_without_sen_is_a_need(graph: Graph):
    disability = URIRef(SCHEME + "need/disability-without-sen")
    assert (disability, RDF.type, LO.Need) in graph
    assert not list(graph.objects(disability, SKOS.broader))


def test_service_status_scheme_has_exactly_the_four_hsds_statuses(graph: Graph):
    scheme = URIRef(SCHEME + "service-status")
    members = {str(c) for c in graph.subjects(SKOS.inScheme, scheme)}
    assert members == STATUSES
    assert all((URIRef(s), RDF.type, LO.ServiceStatus) in graph for s in STATUSES)


def test_mapper_status_iris_match_the_scheme(ingest_sources: dict[str, str]):
    """The mapper builds status IRIs as service-status/{value with spaces as hyphens}."""
    found = re.search(r"STATUSES\s*=\s*(\{[^}]*\})", ingest_sources["mapping.py"])
    assert found, "the STATUSES set was not found in ingest/mapping.py"
    values = ast.literal_eval(found.group(1))
    assert {f"{SCHEME}service-status/{v.replace(' ', '-')}" for v in values} == STATUSES


def test_age_bands_have_sensible_ages(graph: Graph):
    bands = {}
    for band in graph.subjects(RDF.type, LO.AgeBand):
        low, high = graph.value(band, LO.minimumAge), graph.value(band, LO.maximumAge)
        assert low is not None and high is not None, band
        bands[str(band).rsplit("/", 1)[1]] = (low.toPython(), high.toPython())
    assert bands == {"0-5": (0, 5), "5-11": (5, 11), "11-16": (11, 16), "16-19": (16, 19),
                     "19-25": (19, 25)}


def test_information_items_cover_every_topic_of_the_statutory_list(graph: Graph):
    scheme = URIRef(SCHEME + "information-item")
    items = set(graph.subjects(SKOS.inScheme, scheme))
    assert len(items) == 24  # the rows of statutory-requirements.md §3.7
    assert all((i, RDF.type, LO.InformationItem) in graph for i in items)


def test_pfa_and_ehc_provision_have_their_parts(graph: Graph):
    pc = SCHEME + "provision-category/"

    def narrower(concept: str) -> set[str]:
        return {str(n)[len(pc):] for n in graph.objects(URIRef(pc + concept), SKOS.narrower)}

    assert narrower("education-health-and-care-provision") == {
        "special-educational-provision", "health-care-provision", "social-care-provision"}
    assert narrower("preparation-for-adulthood") == {
        "finding-employment", "obtaining-accommodation", "participation-in-society", "good-health"}


def test_scheme_iris_used_anywhere_are_declared(graph: Graph):
    declared = concepts(graph) | set(graph.subjects(RDF.type, SKOS.ConceptScheme))
    used = {o for o in graph.objects() if isinstance(o, URIRef) and str(o).startswith(SCHEME)}
    assert sorted(used - declared) == []


# -- OWL terms ------------------------------------------------------------------------------

@pytest.mark.parametrize("prefix", sorted(NAMESPACES))
def test_every_term_is_labelled_commented_and_anchored(graph: Graph, prefix: str):
    namespace, ontology = NAMESPACES[prefix]
    assert (ontology, RDF.type, OWL.Ontology) in graph
    assert defined_terms(graph, namespace)
    assert documentation_problems(graph, namespace, ontology) == []


@pytest.mark.parametrize("prefix", sorted(NAMESPACES))
def test_every_term_used_in_the_ontology_is_defined(graph: Graph, prefix: str):
    namespace = NAMESPACES[prefix][0]
    used = {str(t)[len(namespace):] for triple in graph for t in triple
            if isinstance(t, URIRef) and str(t).startswith(namespace)}
    assert undefined_terms(used, graph, namespace) == []


def test_every_term_the_ingest_writes_is_defined(graph: Graph, ingest_sources: dict[str, str]):
    hsds_used = set().union(*(ingest_terms(src, "H") for src in ingest_sources.values()))
    lo_used = set().union(*(ingest_terms(src, "L") for src in ingest_sources.values()))
    answers = send_answer_terms(ingest_sources["mapping.py"])
    assert answers, "SEND_ANSWERS was not found in ingest/mapping.py"
    assert hsds_used and lo_used
    lo_used |= answers | count_terms(ingest_sources.values())
    assert undefined_terms(hsds_used, graph, str(HSDS)) == []
    assert undefined_terms(lo_used, graph, str(LO)) == []


def test_the_ingest_builds_no_term_names_these_tests_cannot_see(ingest_sources: dict[str, str]):
    """A computed name (`L[some_expression]`) escapes the check above: teach this module to
    expand it (as for SEND_ANSWERS and the per-kind counts) before using a new one."""
    unseen = [f"{name}: {use}" for name, src in ingest_sources.items()
              for letter in "LH" for use in dynamic_uses(src, letter)]
    assert unseen == []


def test_every_term_the_rest_of_the_project_uses_is_defined(graph: Graph):
    """Core code, publisher, shapes and canned queries use lo:/hsds: terms too."""
    paths = [p for folder in ("localoffer", "publisher") for p in (ROOT / folder).rglob("*.py")]
    paths += [*(ROOT / "shapes").glob("*.ttl"), *(ROOT / "queries").glob("*.rq")]
    paths += [*(ROOT / "publisher").rglob("*.html")]
    texts = {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in paths}
    missing = {}
    for prefix, ns in (("lo", LO), ("hsds", HSDS)):
        for name, text in texts.items():
            for iri in undefined_terms(code_terms(text, prefix), graph, str(ns)):
                missing.setdefault(iri, []).append(name)
    assert missing == {}


def test_every_hsds_term_links_to_the_hsds_documentation(graph: Graph):
    docs = "https://docs.openreferral.org/en/latest/hsds/schema_reference.html"
    unlinked = [t for t in defined_terms(graph, str(HSDS))
                if not any(str(o).startswith(docs) for o in graph.objects(t, RDFS.seeAlso))]
    assert unlinked == []


def test_the_outpost_local_offer_questions_are_literal_properties(graph: Graph):
    for name in ("supportDescription", "recentSendReport", "outcomes", "recentSendTraining",
                 "parentalInvolvement", "informationSharing", "environmentAccessibility",
                 "howToStart", "futurePlans", "sendNeedsSupport"):
        assert (LO[name], RDF.type, OWL.DatatypeProperty) in graph, name


def test_legal_sources_are_iris(graph: Graph):
    sources = list(graph.objects(None, DCTERMS.source))
    assert sources and all(isinstance(s, URIRef) for s in sources)
    assert all(str(s).startswith(("https://www.legislation.gov.uk/", "https://www.gov.uk/"))
               for s in sources)


# -- the checks themselves find faults (negative tests) --------------------------------------

BROKEN = """
@prefix lo: <https://w3id.org/localoffer/def#> .
@prefix hsds: <https://w3id.org/localoffer/def/hsds#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix ex: <https://example.org/> .

ex:s1 a skos:ConceptScheme .
ex:s2 a skos:ConceptScheme .
ex:good a skos:Concept ; skos:prefLabel "Good"@en ; skos:inScheme ex:s1 ; skos:narrower ex:nothing .
ex:twice a skos:Concept ; skos:prefLabel "One"@en , "Two"@en ; skos:inScheme ex:s1 , ex:s2 .
ex:unlabelled a skos:Concept ; skos:prefLabel "Sans langue" ; skos:inScheme ex:s1 ;
    skos:broader ex:good ; skos:topConceptOf ex:s1 .
lo:Bare a owl:Class .
hsds:vague a owl:DatatypeProperty ; rdfs:label "vague"@en ; rdfs:comment "No domain."@en ;
    rdfs:isDefinedBy <https://w3id.org/localoffer/def/hsds> .
"""


@pytest.fixture
def broken() -> Graph:
    return Graph().parse(data=BROKEN, format="turtle")


def test_scheme_check_finds_a_concept_in_two_schemes(broken: Graph):
    assert scheme_membership_problems(broken) == [
        "https://example.org/twice is in 2 schemes, not exactly one"]


def test_label_check_finds_missing_and_duplicate_labels(broken: Graph):
    problems = pref_label_problems(broken)
    assert len(problems) == 2
    assert any("twice has 2" in p for p in problems) and any("unlabelled has 0" in p for p in problems)


def test_hierarchy_check_finds_dangling_links_and_unlisted_top_concepts(broken: Graph):
    problems = hierarchy_problems(broken)
    assert any("nothing is not a concept" in p for p in problems)
    assert any("does not list it in skos:hasTopConcept" in p for p in problems)
    assert symmetry_problems(broken) == [
        "https://example.org/unlabelled broader https://example.org/good has no matching narrower",
        "https://example.org/good narrower https://example.org/nothing has no matching broader"]


def test_documentation_check_finds_undocumented_terms(broken: Graph):
    lo_problems = documentation_problems(broken, str(LO), LO_ONTOLOGY)
    assert len(lo_problems) == 4 and all(p.startswith(str(LO.Bare)) for p in lo_problems)
    assert documentation_problems(broken, str(HSDS), HSDS_ONTOLOGY) == [
        f"{HSDS.vague} has no domain, range or schema.org alignment"]


def test_undefined_check_finds_terms_the_ontology_lacks(broken: Graph):
    assert undefined_terms({"vague", "missing"}, broken, str(HSDS)) == [f"{HSDS}missing"]


def test_ingest_term_extraction():
    source = (
        'o.add(s, H.status, x)\nso.text(s, L["isLocalOffer"], d)\nSH.path\nL[_camel(f)]\n'
        'SEND_ANSWERS = ("how_to_start", "future_plans")\n(g, L("recordDigests"), d)\n'
        'iri(ns.LO + \'LocalAuthority\')\nf"<{ns.LO}contentChecksum> ?c"\n'
        '"PREFIX lo: <x> SELECT * { ?a lo:localOffer ?o ; hello:x ?y ; ^schema:x/lo:domain ?d }"\n'
        'ages[lo:hi]\n'
        '"<https://w3id.org/localoffer/def#outOfArea>"\n"https://w3id.org/localoffer/def/hsds#rrule"\n'
        'L(f"{kind.replace(\'_\', \'\')}Count")\nMappedRecord("service_at_location", x)\n'
        'counts["triples"] = 1\nH[name]\n')
    assert ingest_terms(source, "H") == {"status", "rrule"}
    assert ingest_terms(source, "L") == {"isLocalOffer", "recordDigests", "LocalAuthority",
                                         "contentChecksum", "localOffer", "domain", "outOfArea"}
    assert send_answer_terms(source) == {"howToStart", "futurePlans"}
    assert send_answer_terms("OTHER = ('a',)\n") == set()
    assert count_terms([source]) == {"serviceatlocationCount", "triplesCount"}
    assert dynamic_uses(source, "L") == []
    assert dynamic_uses(source, "H") == ["H[name]"]


def test_a_good_graph_passes_every_check():
    good = Graph().parse(format="turtle", data="""
        @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        @prefix ex: <https://example.org/> .
        ex:s a skos:ConceptScheme ; skos:hasTopConcept ex:top .
        ex:top a skos:Concept ; skos:prefLabel "Top"@en ; skos:inScheme ex:s ; skos:topConceptOf ex:s ;
            skos:narrower ex:leaf .
        ex:leaf a skos:Concept ; skos:prefLabel "Leaf"@en ; skos:inScheme ex:s ; skos:broader ex:top .
    """)
    assert scheme_membership_problems(good) == pref_label_problems(good) == []
    assert hierarchy_problems(good) == symmetry_problems(good) == []
