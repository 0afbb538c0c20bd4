"""Reading the W3C SPARQL 1.1 Protocol, Graph Store Protocol and Service Description manifests
(HTTP exchanges described with the `ht:`, `cnt:` and `mf:` vocabularies) and playing them
against a running server."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import rdflib
import requests
from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
TEST_TYPES = (MF.ProtocolTest, MF.GraphStoreProtocolTest, MF.ServiceDescriptionTest)
STATUS_NAMES = {"OK": 200, "Created": 201, "NoContent": 204, "NotFound": 404, "BadRequest": 400}
RESULT_TYPES = {"application/sparql-results+json", "application/sparql-results+xml", "application/json",
                "application/xml"}
TABULAR_TYPES = RESULT_TYPES | {"text/csv", "text/tab-separated-values"}
RDF_TYPES = {"text/turtle": "turtle", "application/n-triples": "nt", "application/rdf+xml": "xml",
             "application/ld+json": "json-ld", "text/n3": "n3", "text/plain": "nt",
             "application/n-quads": "nquads", "application/trig": "trig"}


@dataclass
class Exchange:
    """One request of a test and what its response must show."""

    method: str
    path: str
    headers: dict[str, str]
    body: str | None
    encoding: str
    statuses: list[str]
    expected_boolean: bool | None = None
    expected_format: str | None = None
    expected_headers: dict[str, str] = field(default_factory=dict)
    expected_body: str | None = None
    location_var: str | None = None


@dataclass
class W3CTest:
    """A manifest entry: its name, its requests in order, and the data it needs loaded."""

    suite: str
    name: str
    title: str
    kind: str
    exchanges: list[Exchange]
    graph_data: list[tuple[Path, str]]

    @property
    def id(self) -> str:
        return f"{self.suite}/{self.name}"


def _list(g: Graph, head: rdflib.term.Node | None) -> list[rdflib.term.Node]:
    return list(Collection(g, head)) if head is not None else []


def _literal(g: Graph, s: rdflib.term.Node, p: URIRef) -> str | None:
    value = g.value(s, p)
    return None if value is None else str(value)


def _headers(g: Graph, node: rdflib.term.Node) -> dict[str, str]:
    out = {}
    for h in _list(g, g.value(node, HT.headers)):
        out[str(g.value(h, HT.fieldName)).lower()] = str(g.value(h, HT.fieldValue))
    return out


def _exchange(g: Graph, req: rdflib.term.Node) -> Exchange:
    body_node = g.value(req, HT.body)
    resp = g.value(req, HT.resp)
    statuses = sorted(str(s).rsplit("#", 1)[1] for s in g.objects(resp, MF.expectedStatus))
    expected_boolean = g.value(resp, MF.expectedBoolean)
    resp_body = g.value(resp, HT.body)
    return Exchange(
        method=str(g.value(req, HT.methodName)), path=str(g.value(req, HT.absolutePath)),
        headers=_headers(g, req),
        body=_literal(g, body_node, CNT.chars) if body_node is not None else None,
        encoding=_literal(g, body_node, CNT.characterEncoding) or "UTF-8" if body_node else "UTF-8",
        statuses=statuses,
        expected_boolean=None if expected_boolean is None else bool(expected_boolean.toPython()),
        expected_format=_literal(g, resp, MF.expectedFormat),
        expected_headers=_headers(g, resp),
        expected_body=_literal(g, resp_body, CNT.chars) if resp_body is not None else None,
        location_var=_literal(g, resp, MF.expectedLocation))


def load_manifest(path: Path, suite: str) -> list[W3CTest]:
    """Every test of the manifest at *path* (and the manifests it includes), in entry order,
    then the typed tests that the entry lists leave out."""
    g = Graph()
    pending, seen = [path], set()
    while pending:
        p = pending.pop()
        if p in seen:
            continue
        seen.add(p)
        g.parse(p, format="turtle", publicID=p.resolve().as_uri())
        for manifest in g.subjects(RDF.type, MF.Manifest):
            for inc in _list(g, g.value(manifest, MF.include)):
                pending.append(Path(str(inc).removeprefix("file://")))
    ordered: list[rdflib.term.Node] = []
    for manifest in g.subjects(RDF.type, MF.Manifest):
        ordered += [e for e in _list(g, g.value(manifest, MF.entries)) if e not in ordered]
    typed = [s for t in TEST_TYPES for s in g.subjects(RDF.type, t)]
    ordered += sorted((s for s in typed if s not in ordered), key=str)
    tests = []
    for node in ordered:
        kind = str(g.value(node, RDF.type)).rsplit("#", 1)[1]
        action = g.value(node, MF.action)
        exchanges = [_exchange(g, r) for r in _list(g, g.value(action, HT.requests))] if action else []
        data = [(Path(str(g.value(d, UT.graph)).removeprefix("file://")), str(g.value(d, rdflib.RDFS.label)))
                for d in g.objects(node, UT.graphData)]
        tests.append(W3CTest(suite, str(node).rsplit("#", 1)[1], str(g.value(node, MF.name)), kind,
                             exchanges, sorted(data, key=lambda d: d[1])))
    return tests


@dataclass
class Target:
    """Where the server under test answers, and the token its writes need."""

    base: str
    token: str
    query_path: str = "/sparql"
    update_path: str = "/update"
    store_path: str = "/store"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def is_update(ex: Exchange, test_name: str) -> bool:
    """Whether a protocol request is an update operation (it goes to the update endpoint)."""
    ctype = ex.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/sparql-update":
        return True
    if ctype == "application/sparql-query":
        return False
    query = parse_qs(urlsplit(ex.path).query)
    form = parse_qs(ex.body or "") if ctype == "application/x-www-form-urlencoded" or not ctype else {}
    names = set(query) | set(form)
    if names & {"update", "using-graph-uri", "using-named-graph-uri"}:
        return True
    if "query" in names:
        return False
    return "update" in test_name


def url_for(ex: Exchange, test: W3CTest, target: Target, path: str) -> tuple[str, dict[str, str]]:
    """The server URL for a manifest path, and the extra headers (the token where writes go)."""
    if test.suite == "graph-store-protocol":
        return target.base + target.store_path + path.removeprefix("/gsp"), target.auth
    rest = re.sub(r"^/sparql/?", "", path)
    if is_update(ex, test.name):
        return target.base + target.update_path + rest, target.auth
    return target.base + target.query_path + rest, {}


def prepare(test: W3CTest, target: Target, http: requests.Session) -> None:
    """Start from an empty store holding only the test's data (for the tests whose outcome
    depends on what the store holds: those with data and the Graph Store tests)."""
    if not test.graph_data and test.suite != "graph-store-protocol":
        return
    inserts = "".join(f"GRAPH <{graph}> {{\n{path.read_text(encoding='utf-8')}\n}}\n"
                      for path, graph in test.graph_data)
    update = "DROP ALL" + (f" ;\nINSERT DATA {{\n{inserts}}}" if inserts else "")
    r = http.post(target.base + target.update_path, data={"update": update}, headers=target.auth, timeout=30)
    assert r.status_code == 204, f"could not reset the store: {r.status_code} {r.text}"


def _status_ok(code: int, names: list[str]) -> bool:
    for name in names:
        m = re.fullmatch(r"StatusCode(\d)xx", name)
        if (m and code // 100 == int(m.group(1))) or STATUS_NAMES.get(name) == code:
            return True
    return False


def _media(value: str) -> tuple[str, dict[str, str]]:
    main, *params = [p.strip() for p in value.split(";")]
    pairs = (p.partition("=") for p in params)
    return main.lower(), {k.strip().lower(): v.strip().lower() for k, _, v in pairs}


def check(ex: Exchange, r: requests.Response) -> None:
    """Assert that response *r* shows what the manifest expects."""
    what = f"{ex.method} {ex.path} -> {r.status_code}: {r.text[:300]}"
    assert _status_ok(r.status_code, ex.statuses), f"expected {ex.statuses}; {what}"
    ctype, _ = _media(r.headers.get("Content-Type", ""))
    if ex.expected_format == "boolean":
        assert ctype in RESULT_TYPES, what
        if ex.expected_boolean is not None:
            answer = _boolean(r.text, ctype)
            assert answer is ex.expected_boolean, f"expected {ex.expected_boolean}; {what}"
    elif ex.expected_format == "tabular":
        assert ctype in TABULAR_TYPES, what
    elif ex.expected_format == "RDF":
        assert ctype in RDF_TYPES, what
        Graph().parse(data=r.content, format=RDF_TYPES[ctype])
    for name, value in ex.expected_headers.items():
        want_type, want_params = _media(value)
        got_type, got_params = _media(r.headers.get(name, ""))
        assert got_type == want_type and all(got_params.get(k) == v for k, v in want_params.items()), \
            f"header {name}: expected {value!r}, got {r.headers.get(name)!r}"
    if ex.expected_body is not None and ex.method != "HEAD":
        fmt = RDF_TYPES[_media(ex.expected_headers.get("content-type", "text/turtle"))[0]]
        expected = Graph().parse(data=ex.expected_body, format=fmt)
        got = Graph().parse(data=r.content, format=RDF_TYPES[ctype])
        assert isomorphic(expected, got), f"graphs differ; got:\n{r.text}"


def _boolean(text: str, ctype: str) -> bool | None:
    if "json" in ctype:
        import json

        return bool(json.loads(text)["boolean"])
    m = re.search(r"<boolean>\s*(true|false)\s*</boolean>", text)
    return None if m is None else m.group(1) == "true"


def play(test: W3CTest, target: Target, http: requests.Session) -> None:
    """Run every request of *test* in order, checking each response."""
    prepare(test, target, http)
    variables: dict[str, str] = {}
    for ex in test.exchanges:
        path, body = ex.path, ex.body
        for var, value in variables.items():
            path = path.replace(var, value)
            body = body.replace(var, value) if body is not None else None
        url, extra = url_for(ex, test, target, path)
        data = body.encode(ex.encoding.lower()) if body is not None else None
        r = http.request(ex.method, url, headers={**ex.headers, **extra}, data=data, timeout=30,
                         allow_redirects=False)
        check(ex, r)
        if ex.location_var:
            assert "Location" in r.headers, f"{ex.method} {path}: no Location header"
            variables[ex.location_var] = r.headers["Location"]


def check_service_description(name: str, endpoint: str, http: requests.Session) -> None:
    """The three Service Description tests, as the W3C validator (kasei/sparql11-sdvalidator)
    runs them: GET the endpoint as an RDF client would, then look at the graph."""
    r = http.get(endpoint, headers={"Accept": "text/turtle, application/rdf+xml;q=0.9, "
                                              "application/n-triples;q=0.8, application/ld+json;q=0.5"},
                 timeout=30)
    assert r.status_code == 200, r.text
    ctype = _media(r.headers.get("Content-Type", ""))[0]
    assert ctype in RDF_TYPES, f"{ctype} is not RDF"
    g = Graph().parse(data=r.content, format=RDF_TYPES[ctype])
    if name == "returns-rdf":
        assert len(g) > 0
    elif name == "has-endpoint-triple":
        assert (None, SD.endpoint, URIRef(endpoint)) in g
    elif name == "conforms-to-schema":
        named = list(g.subjects(RDF.type, SD.NamedGraph))
        assert named, "the description lists no named graphs to check"
        assert all(g.value(n, SD.name) is not None for n in named), "a sd:NamedGraph has no sd:name"
        # The validator's best-practice checks, which a careful description passes too.
        typed = {SD.Service: [SD.endpoint, SD.supportedLanguage, SD.resultFormat, SD.defaultDataset],
                 SD.Dataset: [SD.defaultGraph, SD.namedGraph], SD.NamedGraph: [SD.name, SD.graph]}
        for cls, props in typed.items():
            for p in props:
                for s in g.subjects(p, None):
                    assert (s, RDF.type, cls) in g, f"{s} uses {p} but is not a {cls}"
        for o in g.objects(None, SD.defaultGraph):
            assert (o, RDF.type, SD.Graph) in g
        langs = set(g.objects(None, SD.supportedLanguage))
        assert langs & {SD.SPARQL10Query, SD.SPARQL11Query, SD.SPARQL11Update}
    else:
        raise AssertionError(f"unknown service description test {name}")
