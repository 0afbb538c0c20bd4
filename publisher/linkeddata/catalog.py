"""Discovery: `/void` (VoID: endpoint, dumps, URI space, class and property partitions,
linksets), `/catalog` (DCAT: the dataset, one dataset per authority with its spatial coverage,
distributions, licence, publisher, the SPARQL data service), `/robots.txt` and the sitemap of
resource pages. The counts are computed once per data version."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request, url_for

from localoffer import namespaces as ns

from .describe import Description
from .documents import respond_document
from .formats import split_extension
from .site import TEMPLATE_FOLDER, settings, store

bp = Blueprint("ld_catalog", __name__, template_folder=TEMPLATE_FOLDER)
OGL = "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
SITEMAP_SIZE = 50000
A = ox.NamedNode(ns.RDF + "type")


def N(iri: str) -> ox.NamedNode:  # noqa: N802
    return ox.NamedNode(iri)


def L(value: Any, datatype: str | None = None, lang: str | None = None) -> ox.Literal:  # noqa: N802
    if datatype:
        return ox.Literal(str(value), datatype=N(ns.XSD + datatype))
    return ox.Literal(str(value), language=lang) if lang else ox.Literal(str(value))


def statistics() -> dict[str, Any]:
    """Counts for VoID and DCAT, cached per data version (they scan the store)."""
    db = store()
    version = db.version()
    cache = current_app.extensions.setdefault("localoffer.linkeddata.stats", {})
    if cache.get("version") == version:
        return cache["data"]  # type: ignore[no-any-return]
    data: dict[str, Any] = {
        "triples": _one(db, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"),
        "classes": [(r["c"].value, int(r["n"].value)) for r in db.select(
            "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c FILTER(isIRI(?c)) } GROUP BY ?c ORDER BY ?c")],
        "properties": [(r["p"].value, int(r["n"].value)) for r in db.select(
            "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY ?p")],
        "authorities": [(r["a"].value, r["code"].value, r["name"].value if "name" in r else r["code"].value)
                        for r in db.select(f"""SELECT ?a ?code (SAMPLE(?nm) AS ?name) WHERE {{
                            ?a a <{ns.LO}LocalAuthority> ; <{ns.SKOS}notation> ?code .
                            OPTIONAL {{ ?a <{ns.SCHEMA}name> ?nm }} }} GROUP BY ?a ?code ORDER BY ?code""")],
        "sameas_statgeo": _one(db, f"""SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{ns.OWL}sameAs> ?o
                                       FILTER(STRSTARTS(STR(?o), "{ns.STATGEO}")) }}"""),
        "links": linksets(db, ns.graph_iri(settings().base, "links")),
        "modified": db.modified(),
    }
    cache.clear()
    cache.update(version=version, data=data)
    return data


LINK_PREDICATES = (ns.OWL + "sameAs", ns.SKOS + "closeMatch")


def linksets(db: Any, graph: str) -> list[tuple[str, str, int, str | None, str | None]]:
    """(linkset, link predicate, links, subjects graph, objects graph) of each void:Linkset in
    the links graph whose predicate is owl:sameAs or skos:closeMatch; links counts the triples
    with that predicate between the linkset's link records' source and target (not the
    confidence, method and other triples that describe them)."""
    V, g = ns.VOID, f"<{graph}>"
    preds = " ".join(f"<{p}>" for p in LINK_PREDICATES)
    meta = {r["ls"].value: r for r in db.select(
        f"SELECT ?ls ?p (SAMPLE(?a) AS ?ga) (SAMPLE(?b) AS ?gb) WHERE {{ GRAPH {g} {{ "
        f"VALUES ?p {{ {preds} }} ?ls a <{V}Linkset> ; <{V}linkPredicate> ?p . "
        f"OPTIONAL {{ ?ls <{V}subjectsTarget> ?a }} OPTIONAL {{ ?ls <{V}objectsTarget> ?b }} }} }} "
        "GROUP BY ?ls ?p")}
    counts = {r["ls"].value: int(r["n"].value) for r in db.select(
        f"SELECT ?ls (COUNT(*) AS ?n) WHERE {{ {{ SELECT DISTINCT ?ls ?s ?o WHERE {{ GRAPH {g} {{ "
        f"VALUES ?p {{ {preds} }} ?ls <{V}linkPredicate> ?p . ?l <{V}inDataset> ?ls ; "
        f"<{ns.LO}source> ?s ; <{ns.LO}target> ?o . ?s ?p ?o }} }} }} }} GROUP BY ?ls")}
    return [(ls, r["p"].value, counts.get(ls, 0), r["ga"].value if "ga" in r else None,
             r["gb"].value if "gb" in r else None) for ls, r in sorted(meta.items())]


def _one(db: Any, sparql: str) -> int:
    rows = list(db.select(sparql))
    return int(rows[0]["n"].value) if rows else 0


def void_triples(base: str) -> tuple[str, list[ox.Triple]]:
    """The VoID description of the whole dataset."""
    V, D = ns.VOID, ns.DCTERMS
    stats = statistics()
    ds = N(f"{base}/void#dataset")
    t = [ox.Triple(ds, A, N(V + "Dataset")),
         ox.Triple(ds, N(D + "title"), L("SEND Local Offer open data", lang="en")),
         ox.Triple(ds, N(D + "description"), L(
             "The SEND Local Offers of English councils (Children and Families Act 2014 s.30): services, "
             "organisations, locations and the authority-wide information, as Linked Data.", lang="en")),
         ox.Triple(ds, N(D + "license"), N(OGL)),
         ox.Triple(ds, N(V + "sparqlEndpoint"), N(f"{base}/sparql")),
         ox.Triple(ds, N(V + "dataDump"), N(f"{base}/dumps/localoffer.nq.gz")),
         ox.Triple(ds, N(V + "dataDump"), N(f"{base}/dumps/localoffer.ttl.gz")),
         ox.Triple(ds, N(V + "uriSpace"), L(f"{base}/id/")),
         ox.Triple(ds, N(V + "uriRegexPattern"), L(f"^{base}/id/")),
         ox.Triple(ds, N(V + "rootResource"), N(f"{base}/catalog")),
         ox.Triple(ds, N(ns.RDFS + "seeAlso"), N(f"{base}/changes")),  # the change feed (AS2)
         ox.Triple(N(f"{base}/changes"), N(D + "conformsTo"), N("https://www.w3.org/TR/activitystreams-core/")),
         ox.Triple(N(f"{base}/changes"), N(D + "format"), L("application/activity+json")),
         ox.Triple(ds, N(V + "triples"), L(stats["triples"], "integer")),
         ox.Triple(ds, N(V + "classes"), L(len(stats["classes"]), "integer")),
         ox.Triple(ds, N(V + "properties"), L(len(stats["properties"]), "integer"))]
    for vocab in (ns.SCHEMA, ns.LO, ns.HSDS, ns.SKOS, ns.DCTERMS, ns.PROV):
        t.append(ox.Triple(ds, N(V + "vocabulary"), N(vocab)))
    if stats["modified"]:
        import datetime as dt

        stamp = dt.datetime.fromtimestamp(int(stats["modified"]), tz=dt.UTC).isoformat()
        t.append(ox.Triple(ds, N(D + "modified"), L(stamp.replace("+00:00", "Z"), "dateTime")))
    for cls, n in stats["classes"]:
        part = ox.BlankNode()
        t += [ox.Triple(ds, N(V + "classPartition"), part), ox.Triple(part, N(V + "class"), N(cls)),
              ox.Triple(part, N(V + "entities"), L(n, "integer"))]
    for prop, n in stats["properties"]:
        part = ox.BlankNode()
        t += [ox.Triple(ds, N(V + "propertyPartition"), part), ox.Triple(part, N(V + "property"), N(prop)),
              ox.Triple(part, N(V + "triples"), L(n, "integer"))]
    statgeo, other = N(f"{base}/void#dataset-statgeo"), N("http://statistics.data.gov.uk/")
    t += [ox.Triple(ds, N(V + "subset"), statgeo), ox.Triple(statgeo, A, N(V + "Linkset")),
          ox.Triple(statgeo, N(V + "linkPredicate"), N(ns.OWL + "sameAs")),
          ox.Triple(statgeo, N(V + "triples"), L(stats["sameas_statgeo"], "integer")),
          ox.Triple(statgeo, N(V + "subjectsTarget"), ds), ox.Triple(statgeo, N(V + "objectsTarget"), other),
          ox.Triple(other, A, N(V + "Dataset")),
          ox.Triple(other, N(D + "title"), L("ONS statistical geographies", lang="en"))]
    for linkset, predicate, n, left, right in stats["links"]:
        ls = N(linkset)
        t += [ox.Triple(ds, N(V + "subset"), ls), ox.Triple(ls, A, N(V + "Linkset")),
              ox.Triple(ls, N(V + "linkPredicate"), N(predicate)), ox.Triple(ls, N(V + "triples"), L(n, "integer"))]
        for prop, target in (("subjectsTarget", left), ("objectsTarget", right)):
            t.append(ox.Triple(ls, N(V + prop), N(target) if target else ds))
    return ds.value, t


def dcat_triples(base: str) -> tuple[str, list[ox.Triple]]:
    """The DCAT catalogue: the whole dataset, a dataset per authority, the SPARQL data service."""
    C, D = ns.DCAT, ns.DCTERMS
    stats = statistics()
    cat, whole, svc = N(f"{base}/catalog"), N(f"{base}/catalog#dataset"), N(f"{base}/catalog#sparql")
    t = [ox.Triple(cat, A, N(C + "Catalog")),
         ox.Triple(cat, N(D + "title"), L("SEND Local Offer open data catalogue", lang="en")),
         ox.Triple(cat, N(D + "license"), N(OGL)), ox.Triple(cat, N(C + "dataset"), whole),
         ox.Triple(cat, N(C + "service"), svc),
         ox.Triple(svc, A, N(C + "DataService")), ox.Triple(svc, N(C + "endpointURL"), N(f"{base}/sparql")),
         ox.Triple(svc, N(D + "title"), L("SPARQL 1.1 endpoint", lang="en")),
         ox.Triple(svc, N(C + "servesDataset"), whole),
         ox.Triple(svc, N(D + "conformsTo"), N("https://www.w3.org/TR/sparql11-protocol/")),
         # the change feed: what each ingest and harvest added, changed and withdrew
         ox.Triple(cat, N(C + "service"), N(f"{base}/catalog#changes")),
         ox.Triple(N(f"{base}/catalog#changes"), A, N(C + "DataService")),
         ox.Triple(N(f"{base}/catalog#changes"), N(C + "endpointURL"), N(f"{base}/changes")),
         ox.Triple(N(f"{base}/catalog#changes"), N(D + "title"), L("Change feed (Activity Streams 2.0)", lang="en")),
         ox.Triple(N(f"{base}/catalog#changes"), N(D + "conformsTo"),
                   N("https://www.w3.org/TR/activitystreams-core/")),
         ox.Triple(N(f"{base}/catalog#changes"), N(C + "servesDataset"), whole)]
    t += _dataset(whole, "All Local Offers", f"{base}/dumps/localoffer", base, None)
    for iri, code, name in stats["authorities"]:
        ds = N(f"{base}/catalog#dataset-{code}")
        t.append(ox.Triple(cat, N(C + "dataset"), ds))
        t.append(ox.Triple(whole, N(D + "hasPart"), ds))
        t += _dataset(ds, f"{name}: SEND Local Offer", f"{base}/dumps/authority/{code}", base, (iri, code))
    return cat.value, t


def _dataset(ds: ox.NamedNode, title: str, dump: str, base: str,
             authority: tuple[str, str] | None) -> list[ox.Triple]:
    C, D = ns.DCAT, ns.DCTERMS
    t = [ox.Triple(ds, A, N(C + "Dataset")), ox.Triple(ds, N(D + "title"), L(title, lang="en")),
         ox.Triple(ds, N(D + "license"), N(OGL)), ox.Triple(ds, N(C + "landingPage"), N(f"{base}/services")),
         ox.Triple(ds, N(C + "keyword"), L("SEND", lang="en")),
         ox.Triple(ds, N(C + "keyword"), L("Local Offer", lang="en")),
         ox.Triple(ds, N(C + "theme"), N("http://publications.europa.eu/resource/authority/data-theme/EDUC"))]
    if authority:
        iri, code = authority
        t += [ox.Triple(ds, N(D + "publisher"), N(iri)), ox.Triple(ds, N(D + "spatial"), N(ns.STATGEO + code))]
    for ext, media in (("nq.gz", "application/n-quads"), ("ttl.gz", "text/turtle")):
        dist = N(f"{ds.value}-{ext.split('.')[0]}")
        t += [ox.Triple(ds, N(C + "distribution"), dist), ox.Triple(dist, A, N(C + "Distribution")),
              ox.Triple(dist, N(C + "downloadURL"), N(f"{dump}.{ext}")),
              ox.Triple(dist, N(C + "mediaType"), N(f"https://www.iana.org/assignments/media-types/{media}")),
              ox.Triple(dist, N(C + "compressFormat"),
                        N("https://www.iana.org/assignments/media-types/application/gzip")),
              ox.Triple(dist, N(D + "license"), N(OGL))]
    return t


def _serve(builder: Any, name: str) -> Response:
    stem, extension = split_extension(request.path.rsplit("/", 1)[-1])
    subject, triples = builder(settings().base)
    desc = Description(subject, triples=triples)
    desc.labels = {t.subject.value: t.object.value for t in triples
                   if t.predicate.value == ns.DCTERMS + "title" and isinstance(t.subject, ox.NamedNode)}
    return respond_document(desc, f"{request.script_root}/{name}", extension, store().version())


@bp.route("/void")
@bp.route("/void.<ext>")
def void(ext: str | None = None) -> Response:
    """The VoID description, by content negotiation."""
    return _serve(void_triples, "void")


@bp.route("/catalog")
@bp.route("/catalog.<ext>")
def catalog(ext: str | None = None) -> Response:
    """The DCAT catalogue, by content negotiation."""
    return _serve(dcat_triples, "catalog")


@bp.route("/.well-known/void")
def well_known_void() -> Response:
    """RFC 5785 / VoID discovery location."""
    from flask import redirect

    return redirect(url_for("ld_catalog.void"), code=303)  # type: ignore[return-value]


@bp.route("/robots.txt")
def robots() -> Response:
    """Crawl the resource pages, not the query machinery."""
    root = request.url_root.rstrip("/")
    body = ("User-agent: *\nDisallow: /sparql\nDisallow: /services?\nDisallow: /queries/\n"
            "Disallow: /dumps/\nAllow: /\n"
            f"Sitemap: {root}/sitemap.xml\n")
    return Response(body, content_type="text/plain; charset=utf-8")


def _sitemap_count() -> int:
    return _one(store(), f"""SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{
        VALUES ?c {{ <{ns.SCHEMA}Service> <{ns.SCHEMA}Organization> <{ns.SCHEMA}Place>
                     <{ns.LO}LocalAuthority> <{ns.LO}LocalOffer> }}
        ?s a ?c FILTER(STRSTARTS(STR(?s), {ox.Literal(settings().base + "/id/")})) }}""")


@bp.route("/sitemap.xml")
def sitemap_index() -> Response:
    """A sitemap index: one sitemap per 50,000 resource pages."""
    root = request.url_root.rstrip("/")
    pages = max(1, -(-_sitemap_count() // SITEMAP_SIZE))
    items = "".join(f"<sitemap><loc>{escape(root)}/sitemap/{i}.xml</loc></sitemap>" for i in range(1, pages + 1))
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>\n')
    return Response(body, mimetype="application/xml")


@bp.route("/sitemap/<int:page>.xml")
def sitemap(page: int) -> Response:
    """Up to 50,000 resource pages (their /doc/ URLs on this host)."""
    base = settings().base
    root = request.url_root.rstrip("/")
    rows = store().select(f"""SELECT DISTINCT ?s WHERE {{
        VALUES ?c {{ <{ns.SCHEMA}Service> <{ns.SCHEMA}Organization> <{ns.SCHEMA}Place>
                     <{ns.LO}LocalAuthority> <{ns.LO}LocalOffer> }}
        ?s a ?c FILTER(STRSTARTS(STR(?s), {ox.Literal(base + "/id/")})) }}
        ORDER BY ?s LIMIT {SITEMAP_SIZE} OFFSET {(max(page, 1) - 1) * SITEMAP_SIZE}""")
    urls = "".join(f"<url><loc>{escape(root + '/doc/' + r['s'].value[len(base) + 4:])}</loc></url>" for r in rows)
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n')
    return Response(body, mimetype="application/xml")
