"""`/def`: the ontology (lo:), the hsds: vocabulary and the SKOS concept schemes, as HTML and
RDF. Their IRIs live under https://w3id.org/localoffer/def, which is redirected here:
`…/def#LocalOffer` is `/def#LocalOffer`, `…/def/scheme/need/asd` is `/def/scheme/need/asd`.

They are read from the Turtle files shipped in the package (an in-memory store made once per
app), so /def works even before anything has been ingested."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, render_template, request

from localoffer import namespaces as ns
from localoffer.definitions import definitions_turtle
from localoffer.resources import data_files

from .describe import describe
from .documents import conditional, etag_of, respond_document
from .formats import FORMATS, NoAcceptableFormat, choose, split_extension
from .render import build_tree, serialise, summary_of, title_of
from .site import DEF_BASE, TEMPLATE_FOLDER, alternates_link, href_for, not_acceptable, not_found_page

bp = Blueprint("ld_definitions", __name__, template_folder=TEMPLATE_FOLDER)
FILES = {"": "lo.ttl", "hsds": "hsds.ttl"}


class MemoryStore:
    """The ontology files in an in-memory Oxigraph store, with the `select` the describer uses."""

    def __init__(self) -> None:
        self.db = ox.Store()
        self.files: dict[str, bytes] = {}
        for entry in data_files("ontology", ".ttl"):
            body = entry.read_bytes()
            self.files[entry.name] = body
            self.db.load(body, format=ox.RdfFormat.TURTLE)
        self.version = definitions_turtle()[1][:16]

    def select(self, sparql: str):  # type: ignore[no-untyped-def]
        """SELECT rows as dicts of variable name to term."""
        result = self.db.query(sparql)
        names = [v.value for v in result.variables]
        for row in result:
            yield {n: row[n] for n in names if row[n] is not None}

    def triples_of(self, name: str) -> list[ox.Triple]:
        """The triples of one shipped file."""
        return [q.triple for q in ox.parse(self.files[name], format=ox.RdfFormat.TURTLE)]


def definitions() -> MemoryStore:
    """The app's definitions store (made on first use)."""
    found = current_app.extensions.get("localoffer.linkeddata.def")
    if found is None:
        found = current_app.extensions["localoffer.linkeddata.def"] = MemoryStore()
    return found


@dataclass
class Term:
    """A class or property of a vocabulary, for the overview page."""

    iri: str
    anchor: str
    label: str
    comment: str
    kind: str


def terms(db: MemoryStore, namespace: str) -> list[Term]:
    """Classes and properties whose IRIs are in *namespace*, sorted by kind then label."""
    query = f"""SELECT ?t ?kind (SAMPLE(?l) AS ?label) (SAMPLE(?c) AS ?comment) WHERE {{
      VALUES ?kind {{ <{ns.OWL}Class> <{ns.OWL}ObjectProperty> <{ns.OWL}DatatypeProperty> <{ns.RDF}Property> }}
      ?t a ?kind . FILTER(STRSTARTS(STR(?t), "{namespace}"))
      OPTIONAL {{ ?t <{ns.RDFS}label> ?l }} OPTIONAL {{ ?t <{ns.RDFS}comment> ?c }}
    }} GROUP BY ?t ?kind"""
    kinds = {ns.OWL + "Class": "Classes", ns.OWL + "ObjectProperty": "Relationships",
             ns.OWL + "DatatypeProperty": "Properties", ns.RDF + "Property": "Properties"}
    out = [Term(r["t"].value, r["t"].value[len(namespace):], r["label"].value if "label" in r else "",
                r["comment"].value if "comment" in r else "", kinds[r["kind"].value])
           for r in db.select(query)]
    return sorted(out, key=lambda t: (list(kinds.values()).index(t.kind), t.label.lower() or t.anchor))


def schemes(db: MemoryStore) -> list[tuple[str, str, str]]:
    """(label, href, IRI) of each concept scheme."""
    rows = db.select(f"""SELECT ?s (SAMPLE(?l) AS ?label) WHERE {{ ?s a <{ns.SKOS}ConceptScheme> ;
                         <{ns.SKOS}prefLabel> ?l }} GROUP BY ?s ORDER BY ?label""")
    return [(r["label"].value, href_for(r["s"].value), r["s"].value) for r in rows]


def vocabulary_page(name: str) -> Response:
    """/def (lo:) or /def/hsds: the overview page or the whole Turtle file."""
    db = definitions()
    path = request.script_root + ("/def" if not name else f"/def/{name}")
    stem, extension = split_extension(request.path.rsplit("/", 1)[-1])
    try:
        fmt = choose(request.accept_mimetypes, request.args.get("_format"), extension)
    except NoAcceptableFormat as exc:
        return not_acceptable(exc, path)
    etag = etag_of(db.version, name, fmt.key)
    cached = conditional(etag)
    if cached is not None:
        return cached
    iri = DEF_BASE + (f"/{name}" if name else "")
    namespace = ns.LO if not name else ns.HSDS
    if fmt.key == "html":
        desc = describe(db, iri, inverse=False)  # type: ignore[arg-type]
        body = render_template("ld/vocabulary.html", title=title_of(desc), summary=summary_of(desc),
                               tree=build_tree(desc, href_for), terms=terms(db, namespace),
                               schemes=schemes(db) if not name else [], iri=iri, path=path,
                               alternates=FORMATS[1:])
        response = Response(body, mimetype="text/html")
    else:
        response = Response(serialise(db.triples_of(FILES[name]), fmt),
                            content_type=f"{fmt.media_type}; charset=utf-8")
    response.headers["Link"] = alternates_link(path, FORMATS)
    response.vary.add("Accept")
    response.set_etag(etag, weak=True)
    return response


@bp.route("/def")
@bp.route("/def.<ext>")
def ontology(ext: str | None = None) -> Response:
    """The Local Offer ontology."""
    return vocabulary_page("")


@bp.route("/def/hsds")
@bp.route("/def/hsds.<ext>")
def hsds(ext: str | None = None) -> Response:
    """The hsds: vocabulary."""
    return vocabulary_page("hsds")


@bp.route("/def/scheme/<path:rest>")
def scheme_or_concept(rest: str) -> Response:
    """A concept scheme (with all its concepts as RDF) or one concept."""
    db = definitions()
    stem, extension = split_extension(rest)
    iri = f"{ns.SCHEME}{stem}"
    path = f"{request.script_root}/def/scheme/{stem}"
    try:
        desc = describe(db, iri)  # type: ignore[arg-type]
    except ValueError:
        desc = None
    if desc is None or not desc.found:
        return not_found_page(f"the vocabulary has no concept or scheme {iri}.",
                              suggestions=[("See the vocabulary and its concept schemes",
                                            f"{request.script_root}/def")])
    if "/" not in stem and f"{stem}.ttl" in db.files:
        # a whole scheme: its RDF is the scheme file (every concept with its definitions)
        desc.triples = db.triples_of(f"{stem}.ttl")
    return respond_document(desc, path, extension, db.version)
