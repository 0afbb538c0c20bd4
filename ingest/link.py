"""Link discovery: the same organisation, location or service in two or more Local Offers.

Records are read from every source and harvest graph in the store, each with its authority.
Two records of different authorities are linked

1. by a shared national identifier (charity or company number, Ofsted/GIAS URN, UKPRN, CQC
   location id, UPRN, or a shared `owl:sameAs` IRI), normalised per scheme: `owl:sameAs`;
2. otherwise by name and postcode similarity, scored in [0, 1]: `skos:closeMatch` when the
   score reaches the threshold, a row of the review file when it falls between the review
   threshold and the threshold.

Candidate pairs come from blocks (postcode district; the rarest words of the name), never
from all pairs, so the work grows with the data, not with its square. A person's decisions
(confirmed / rejected) are read back from the review file and kept in the links graph.
Two records of one authority are never linked: they are reported as possible duplicates.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import math
import re
import tempfile
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from localoffer import __version__
from localoffer import namespaces as ns
from localoffer.config import Settings
from localoffer.definitions import ensure_definitions
from localoffer.errors import LocalOfferError
from localoffer.rdfterms import iri, lit, typed
from localoffer.store import Store

from .text import normalise_postcode

THRESHOLD = 0.85
REVIEW_THRESHOLD = 0.6
KINDS = ("organization", "location", "service")
CLASSES = {"organization": ns.SCHEMA + "Organization", "location": ns.SCHEMA + "Place",
           "service": ns.SCHEMA + "Service"}
SAME_AS, CLOSE_MATCH = ns.OWL + "sameAs", ns.SKOS + "closeMatch"


class LinkError(LocalOfferError):
    """Link discovery cannot run, or a decisions file is malformed."""


# -- normalisation ---------------------------------------------------------------------------
STOPWORDS = frozenset("the ltd limited cic cio plc llp inc and of a an for at in on to with".split())
EXPANSIONS = {
    "assoc": "association", "assn": "association", "ctr": "centre", "ctre": "centre",
    "cntr": "centre", "center": "centre", "saint": "st", "street": "st", "rd": "road",
    "ave": "avenue", "grp": "group", "svc": "service", "svcs": "services", "dept": "department",
    "org": "organisation", "organization": "organisation", "orgs": "organisations",
    "organizations": "organisations", "intl": "international", "natl": "national",
    "univ": "university", "coll": "college", "sch": "school", "prim": "primary",
    "acad": "academy", "inf": "infant", "infants": "infant", "jnr": "junior", "jr": "junior",
    "snr": "senior", "soc": "society", "mgmt": "management", "govt": "government",
    "hosp": "hospital", "cttee": "committee", "ctte": "committee", "pk": "park", "sq": "square",
    "ln": "lane", "cres": "crescent", "hse": "house", "programme": "program", "cofe": "ce",
}
_MARKS = re.compile(r"[\u0300-\u036f]")
_APOSTROPHE = re.compile(r"['\u2019\u2018`]")
_PUNCT = re.compile(r"[^a-z0-9]+")
_CE = re.compile(r"\bc\s*of\s*e\b|\bc\s+e\b")
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ([0-9])[A-Z]{2}$")


def normalise_name(text: str) -> str:
    """A name for comparison: lower case, '&' as 'and', no punctuation or filler words,
    common abbreviations expanded ('Assoc' -> 'association'; 'St', 'Saint' and 'Street' all
    become 'st', since which one is meant cannot be told out of context)."""
    text = _MARKS.sub("", unicodedata.normalize("NFKD", text)).lower()
    text = _CE.sub(" ce ", text.replace("&", " and ").replace("+", " and "))
    words = _PUNCT.sub(" ", _APOSTROPHE.sub("", text)).split()
    words = [EXPANSIONS.get(w, w) for w in words]
    kept = [w for w in words if w not in STOPWORDS]
    return " ".join(kept or words)


def postcode_parts(text: str) -> tuple[str, str, str] | None:
    """(postcode, sector, district) of a UK postcode ('BS1 5TH', 'BS1 5', 'BS1'), else None."""
    code = normalise_postcode(text)
    m = _POSTCODE.match(code)
    return (code, f"{m.group(1)} {m.group(2)}", m.group(1)) if m else None


def postcode_relation(a: Iterable[str], b: Iterable[str]) -> str:
    """How close two sets of postcodes are: full, sector, district, far, or missing."""
    pa = [p for p in map(postcode_parts, a) if p]
    pb = [p for p in map(postcode_parts, b) if p]
    if not pa or not pb:
        return "missing"
    for i, level in enumerate(("full", "sector", "district")):
        if {p[i] for p in pa} & {p[i] for p in pb}:
            return level
    return "far"


def _relation(a: Record, b: Record) -> str:
    """postcode_relation of two records, on their precomputed postcode parts."""
    if not a.postcodes or not b.postcodes:
        return "missing"
    if a.postcodes & b.postcodes:
        return "full"
    if a.sectors & b.sectors:
        return "sector"
    return "district" if a.districts & b.districts else "far"


# Identifier schemes: org-id.guide codes where there is one. Each identifies one kind of thing
# (a UPRN is a building: two organisations in one building share it, so it links locations only).
SCHEMES: dict[str, tuple[frozenset[str], str]] = {
    "GB-CHC": (frozenset({"organization"}), r"[1-9]\d{4,6}(-\d{1,3})?"),
    "GB-SC": (frozenset({"organization"}), r"SC\d{6}"),
    "GB-NIC": (frozenset({"organization"}), r"[1-9]\d{4,5}"),
    "GB-COH": (frozenset({"organization"}), r"(\d{8}|[A-Z]{2}\d{6})"),
    "UKPRN": (frozenset({"organization", "service"}), r"1\d{7}"),
    "URN": (frozenset({"organization", "location", "service"}), r"([A-Z]{2}\d{5,8}|[1-9]\d{4,7})"),
    "CQC": (frozenset({"location", "service"}), r"1-\d{6,12}"),
    "CQC-PROVIDER": (frozenset({"organization"}), r"1-\d{6,12}"),
    "UPRN": (frozenset({"location"}), r"[1-9]\d{0,11}"),
    "IRI": (frozenset(KINDS), r"\S+"),
}
_SCHEME_WORDS = [  # (pattern on the lower-cased scheme text, scheme), first match wins
    (r"\bgb[- ]?chc\b|\bchc\b|\bccew\b", "GB-CHC"), (r"\bgb[- ]?sc\b|\boscr\b|scot", "GB-SC"),
    (r"\bgb[- ]?nic\b|northern ireland", "GB-NIC"), (r"charit", "GB-CHC"),
    (r"\bgb[- ]?coh\b|compan|\bcrn\b", "GB-COH"), (r"ukprn|provider reference", "UKPRN"),
    (r"uprn|property reference", "UPRN"), (r"cqc.*provider", "CQC-PROVIDER"), (r"cqc", "CQC"),
    (r"\burn\b|ofsted|\bgias\b|edubase|\bgb[- ]?edu\b|unique reference", "URN"),
]


def scheme_code(*texts: str | None) -> str | None:
    """The scheme a PropertyValue's propertyID or name means ('Charity number' -> 'GB-CHC')."""
    for text in texts:
        lower = (text or "").strip().lower()
        for pattern, code in _SCHEME_WORDS:
            if lower and re.search(pattern, lower):
                return code
    return None


def normalise_identifier(scheme: str, value: str) -> str | None:
    """The canonical spelling of an identifier, or None when it is not valid for its scheme."""
    text = re.sub(r"\s+", "", value).upper()
    if scheme == "IRI":
        return re.sub(r"^https?://(www\.)?", "", value.strip()).rstrip("/").lower() or None
    text = re.sub(rf"^(GB-)?{re.escape(scheme.removeprefix('GB-'))}[-:]", "", text) or text
    if scheme in ("GB-CHC", "GB-NIC", "URN", "UPRN", "UKPRN") and text.isdigit():
        text = text.lstrip("0")
    elif scheme == "GB-COH" and text.isdigit():
        text = text.zfill(8)
    if scheme == "CQC" or scheme == "CQC-PROVIDER":
        text = text if text.startswith("1-") else f"1-{text}"
    return text if re.fullmatch(SCHEMES[scheme][1], text) and text.strip("0-") else None


GENERIC_DOMAINS = frozenset(
    "gmail.com googlemail.com hotmail.com hotmail.co.uk outlook.com live.co.uk yahoo.com "
    "yahoo.co.uk btinternet.com icloud.com aol.com sky.com virginmedia.com facebook.com "
    "twitter.com x.com instagram.com linktr.ee eventbrite.co.uk eventbrite.com google.com "
    "sites.google.com youtube.com gov.uk nhs.uk wordpress.com wixsite.com".split())


def web_keys(url: str) -> tuple[str, str]:
    """(page, domain) of a URL for comparison: no scheme, 'www.', query or trailing slash."""
    page = re.sub(r"^[a-z]+://(www\.)?", "", url.strip().lower()).split("?")[0].split("#")[0].rstrip("/")
    return page, page.split("/")[0]


# -- records ---------------------------------------------------------------------------------
@dataclass(eq=False, slots=True)
class Record:
    """One organisation, location or service of one authority, as read from the store."""

    iri: str
    kind: str
    authority: str
    graph: str
    name: str = ""
    norm: str = ""
    tokens: tuple[str, ...] = ()
    postcodes: set[str] = field(default_factory=set)
    ids: set[tuple[str, str]] = field(default_factory=set)
    pages: set[str] = field(default_factory=set)
    domains: set[str] = field(default_factory=set)
    providers: set[str] = field(default_factory=set)
    street: str = ""
    info: float = 0.0
    sectors: set[str] = field(default_factory=set)
    districts: set[str] = field(default_factory=set)
    street_norm: str = ""

    def prepare(self) -> None:
        """Compute what comparisons use: the normalised name, its words, postcode parts."""
        self.norm = normalise_name(self.name or self.street)
        self.tokens = tuple(dict.fromkeys(self.norm.split()))
        self.street_norm = normalise_name(self.street) if self.street else ""
        parts = [p for p in map(postcode_parts, self.postcodes) if p]
        self.postcodes = {p[0] for p in parts}
        self.sectors = {p[1] for p in parts}
        self.districts = {p[2] for p in parts}

    def label(self) -> str:
        return self.name or self.street or self.iri


@dataclass
class Link:
    """A pair of records of two authorities that are (or may be) the same thing."""

    kind: str
    left: Record
    right: Record
    confidence: float
    method: str
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def predicate(self) -> str:
        return CLOSE_MATCH if self.method == "name+postcode" else SAME_AS

    @property
    def key(self) -> frozenset[str]:
        return frozenset((self.left.iri, self.right.iri))

    def as_dict(self) -> dict[str, Any]:
        side = lambda r: {"iri": r.iri, "authority": r.authority, "name": r.name,  # noqa: E731
                          "postcodes": sorted(r.postcodes)}
        return {"kind": self.kind, "left": side(self.left), "right": side(self.right),
                "confidence": round(self.confidence, 3), "method": self.method,
                "predicate": self.predicate, "evidence": self.evidence}


@dataclass
class Decision:
    """A person's verdict on a pair: confirmed (the same) or rejected (never link)."""

    left: str
    right: str
    verdict: str
    kind: str = ""
    created: str = ""
    row: dict[str, str] = field(default_factory=dict)


@dataclass
class LinkReport:
    """What a link run found; `publish_links` writes it, `write_review` lists the uncertain."""

    scope: tuple[str, ...]
    threshold: float
    review_threshold: float
    started: str
    ended: str = ""
    records: Counter[str] = field(default_factory=Counter)
    graphs: dict[str, str] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    review: list[Link] = field(default_factory=list)
    duplicates: list[Link] = field(default_factory=list)
    kept: list[Link] = field(default_factory=list)
    decisions: dict[frozenset[str], Decision] = field(default_factory=dict)
    candidates: int = 0
    unknown_schemes: Counter[str] = field(default_factory=Counter)
    invalid_identifiers: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    index: dict[str, Record] = field(default_factory=dict, repr=False)

    def counts(self) -> dict[str, int]:
        """Published links per method, plus review rows and duplicates."""
        c = Counter(f"{lk.kind} {lk.method}" for lk in self.links + self.kept)
        return dict(sorted(c.items())) | {"review": len(self.review), "duplicates": len(self.duplicates)}

    def as_dict(self) -> dict[str, Any]:
        return {
            "scope": list(self.scope), "threshold": self.threshold,
            "review_threshold": self.review_threshold, "started": self.started, "ended": self.ended,
            "records": dict(sorted(self.records.items())), "graphs": self.graphs,
            "candidate_pairs": self.candidates, "counts": self.counts(),
            "links": [lk.as_dict() for lk in self.links],
            "kept_links": len(self.kept), "review": [lk.as_dict() for lk in self.review],
            "duplicates": [lk.as_dict() for lk in self.duplicates],
            "decisions": Counter(d.verdict for d in self.decisions.values()),
            "unknown_identifier_schemes": dict(self.unknown_schemes),
            "invalid_identifiers": dict(self.invalid_identifiers), "warnings": self.warnings,
        }


# -- reading the store -----------------------------------------------------------------------
_P = ns.sparql_prefixes()
_AUTHORITIES = _P + """SELECT ?g ?code ?how WHERE {
  { GRAPH <%(meta)s> { ?g dcterms:publisher ?a } ?a skos:notation ?code BIND("meta" AS ?how) }
  UNION { GRAPH ?g { ?a a lo:LocalAuthority ; skos:notation ?code } BIND("graph" AS ?how) } }"""
_NAMES = _P + "SELECT ?g ?s ?name WHERE { GRAPH ?g { ?s a <%(cls)s> OPTIONAL { ?s schema:name ?name } } }"
_PLACE = "schema:address/schema:postalCode"
_FIELDS = {  # field: graph pattern binding ?s and ?v
    "postcode location": f"?s a schema:Place ; {_PLACE} ?v",
    "postcode service": f"?s a schema:Service ; schema:availableChannel/schema:serviceLocation/{_PLACE} ?v",
    "postcode organization": f"?s a schema:Organization . {{ ?s schema:location/{_PLACE} ?v }} UNION "
                             f"{{ ?s {_PLACE} ?v }} UNION {{ ?x schema:provider ?s ; "
                             f"schema:availableChannel/schema:serviceLocation/{_PLACE} ?v }}",
    "street": "?s a schema:Place ; schema:address/schema:streetAddress ?v",
    "provider": "?s a schema:Service ; schema:provider ?v",
    "url": "?s schema:url ?v",
    "email": "?s schema:email ?v",
    "same_as": f'?s owl:sameAs ?v FILTER(isIRI(?v) && !STRSTARTS(STR(?v), "{ns.STATGEO}"))',
}
_IDENTIFIERS = _P + """SELECT ?g ?s ?scheme ?type ?v WHERE { GRAPH ?g {
  ?s schema:identifier ?pv . ?pv schema:value ?v
  OPTIONAL { ?pv schema:propertyID ?scheme } OPTIONAL { ?pv schema:name ?type } } }"""


def graph_authorities(store: Store, settings: Settings) -> tuple[dict[str, str], list[str]]:
    """The authority (GSS code) of every source and harvest graph (from its provenance, else
    from the one authority it describes), and warnings for graphs that name several."""
    prefixes = (ns.graph_iri(settings.base, "source") + "/", ns.graph_iri(settings.base, "harvest") + "/")
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for row in store.select(_AUTHORITIES % {"meta": ns.graph_iri(settings.base, "meta")}):
        if row["g"].value.startswith(prefixes):
            found[row["g"].value][row["how"].value].add(row["code"].value.upper())
    graphs: dict[str, str] = {}
    warnings = []
    for g, how in sorted(found.items()):
        codes = how.get("meta") or how.get("graph") or set()
        if len(codes) == 1:
            graphs[g] = next(iter(codes))
        else:
            warnings.append(f"<{g}> was left out: it describes {len(codes)} authorities "
                            f"({', '.join(sorted(codes))}), so its records cannot be told apart")
    return graphs, warnings


def read_records(store: Store, settings: Settings, report: LinkReport) -> list[Record]:
    """Every organisation, location and service of the source and harvest graphs, with the
    names, postcodes, identifiers, web addresses and providers that matching uses."""
    report.graphs, warnings = graph_authorities(store, settings)
    report.warnings += warnings
    graphs = report.graphs
    records: dict[tuple[str, str, str], Record] = {}
    by_iri: dict[str, list[Record]] = defaultdict(list)
    for kind in KINDS:
        for row in store.select(_NAMES % {"cls": CLASSES[kind]}):
            g = row["g"].value
            if g not in graphs or not isinstance(row["s"], ox.NamedNode):
                continue
            rec = records.get((kind, graphs[g], row["s"].value))
            if rec is None:
                rec = records[(kind, graphs[g], row["s"].value)] = Record(row["s"].value, kind, graphs[g], g)
                by_iri[rec.iri].append(rec)
            if "name" in row and (not rec.name or row["name"].value < rec.name):
                rec.name = row["name"].value   # the same name whatever the order of the rows
    for field_, pattern in _FIELDS.items():
        for row in store.select(_P + f"SELECT ?g ?s ?v WHERE {{ GRAPH ?g {{ {pattern} }} }}"):
            if row["g"].value in graphs:
                for rec in by_iri.get(row["s"].value, ()):
                    _add_field(rec, field_, row["v"].value, report)
    for row in store.select(_IDENTIFIERS):
        if row["g"].value in graphs:
            for rec in by_iri.get(row["s"].value, ()):
                _add_identifier(rec, row["scheme"].value if "scheme" in row else None,
                                row["type"].value if "type" in row else None, row["v"].value, report)
    out = [r for r in records.values() if r.name or r.street or r.ids]
    for rec in out:
        rec.prepare()
        report.records[f"{rec.kind} {rec.authority}"] += 1
    report.index = {r.iri: r for r in out}
    return out


def _add_field(rec: Record, field_: str, value: str, report: LinkReport) -> None:
    if field_.startswith("postcode "):
        if field_ == f"postcode {rec.kind}":
            rec.postcodes.add(value)
    elif field_ == "street" and rec.kind == "location":
        rec.street = min(rec.street or value, value)
    elif field_ == "provider" and rec.kind == "service":
        rec.providers.add(value)
    elif field_ in ("url", "email"):
        if field_ == "email":
            page, domain = value.strip().lower(), value.rpartition("@")[2].strip().lower()
        else:
            page, domain = web_keys(value)
        if "." not in domain:
            return
        if domain not in GENERIC_DOMAINS:
            rec.domains.add(domain)
        if page != domain or domain not in GENERIC_DOMAINS:  # a Facebook page is someone's
            rec.pages.add(page)
    elif field_ == "same_as":
        _add_identifier(rec, "IRI", None, value, report)


def _add_identifier(rec: Record, scheme_text: str | None, type_text: str | None, value: str,
                    report: LinkReport) -> None:
    scheme = "IRI" if scheme_text == "IRI" else scheme_code(scheme_text, type_text)
    if scheme is None:
        report.unknown_schemes[scheme_text or type_text or "(none)"] += 1
    elif rec.kind in SCHEMES[scheme][0]:
        canonical = normalise_identifier(scheme, value)
        if canonical is None:
            report.invalid_identifiers[scheme] += 1
        else:
            rec.ids.add((scheme, canonical))


# -- scoring ---------------------------------------------------------------------------------
PREFILTER = 75          # token_set_ratio below which a blocked pair is not scored (none scores >= review)
RARE_TOKENS = 3         # words of a name used as blocking keys (its rarest ones)
MAX_BLOCK_DF = 200      # words in more names than this are no blocking key
BLOCK_BUDGET = 20000    # comparisons above which a postcode district is split into sectors
SPECIFIC_WORDS = 1.5    # a name with the information of 1.5 unique words can stand alone
# What a postcode relation adds to a name's evidence, per kind: a place in another district is
# another place; an organisation has many sites; a service may have moved.
PC_WEIGHT = {
    "organization": {"full": 0.14, "sector": 0.08, "district": 0.04, "missing": 0.0, "far": -0.1},
    "location": {"full": 0.14, "sector": 0.06, "district": 0.0, "missing": -0.04, "far": -0.4},
    "service": {"full": 0.14, "sector": 0.08, "district": 0.04, "missing": -0.02, "far": -0.2},
}
EXTRA_WORD = 0.15       # cost of a word only one name has ('Youth', 'Bristol', 'Senior')


@dataclass
class Context:
    """Statistics of one kind's records that the scores depend on."""

    idf: dict[str, float]
    max_idf: float
    page_df: Counter[tuple[str, str]]
    domain_df: Counter[tuple[str, str]]
    linked: dict[str, set[str]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)


def make_context(records: Sequence[Record]) -> Context:
    """Word rarity (idf) and web-address frequency per authority, for one kind."""
    df = Counter(t for r in records for t in r.tokens)
    n = max(1, len(records))
    idf = {t: math.log(1 + n / c) for t, c in df.items()}
    for r in records:
        r.info = sum(idf[t] for t in r.tokens)
    return Context(idf, math.log(1 + n),
                   Counter((r.authority, p) for r in records for p in r.pages),
                   Counter((r.authority, d) for r in records for d in r.domains))


def _cover(xs: Sequence[str], ys: Sequence[str], ctx: Context) -> tuple[float, int]:
    """The idf-weighted share of the words of xs found in ys (a one-edit typo counts nearly),
    and how many words of xs have no counterpart at all."""
    total = got = 0.0
    missing = 0
    for x in xs:
        w = ctx.idf.get(x, ctx.max_idf)
        total += w
        if x in ys:
            got += w
            continue
        best = 0.0
        if len(x) >= 4 and not x.isdigit():
            best = max((OSA.normalized_similarity(x, y) for y in ys
                        if abs(len(x) - len(y)) <= 1 and not y.isdigit()), default=0.0)
        if best >= 0.75:
            got += w * best
        else:
            missing += 1
    return (got / total if total else 0.0), missing


def compare_names(a: Record, b: Record, ctx: Context) -> tuple[float, int]:
    """Similarity of two normalised names in [0, 1] (word order free, typo tolerant, each word
    weighted by its rarity) and the number of words only one of them has."""
    if a.norm == b.norm:
        return (1.0 if a.norm else 0.0), 0
    if not a.tokens or not b.tokens:
        return 0.0, 0
    ca, ma = _cover(a.tokens, b.tokens, ctx)
    cb, mb = _cover(b.tokens, a.tokens, ctx)
    return 0.5 * fuzz.token_sort_ratio(a.norm, b.norm) / 100 + 0.5 * min(ca, cb), ma + mb


def name_similarity(a: Record, b: Record, ctx: Context) -> float:
    """The similarity part of `compare_names`."""
    return compare_names(a, b, ctx)[0]


def id_conflict(a: Record, b: Record) -> str | None:
    """A scheme both records have with no value in common (two different charities)."""
    sa, sb = defaultdict(set), defaultdict(set)
    for s, v in a.ids:
        sa[s].add(v)
    for s, v in b.ids:
        sb[s].add(v)
    for scheme in sorted(sa.keys() & sb.keys() - {"IRI"}):
        if not sa[scheme] & sb[scheme]:
            return scheme
    return None


def _web(a: Record, b: Record, ctx: Context) -> str:
    rare = lambda df, r, k: df[(r.authority, k)] <= 2  # noqa: E731
    if any(rare(ctx.page_df, a, p) and rare(ctx.page_df, b, p) for p in a.pages & b.pages):
        return "page"
    if any(ctx.domain_df[(a.authority, d)] <= 5 and ctx.domain_df[(b.authority, d)] <= 5
           for d in a.domains & b.domains):
        return "domain"
    return "none"


def _provider(a: Record, b: Record, ctx: Context) -> str:
    if not a.providers or not b.providers:
        return "unknown"
    if any(q in ctx.linked.get(p, ()) for p in a.providers for q in b.providers):
        return "linked"
    names = [(ctx.names.get(p, ""), ctx.names.get(q, "")) for p in a.providers for q in b.providers]
    best = max((fuzz.token_set_ratio(x, y) for x, y in names if x and y),
               default=100)
    return "different" if best < 50 else "unknown"


def score(a: Record, b: Record, ctx: Context) -> tuple[float, dict[str, Any]]:
    """The confidence that *a* and *b* are the same thing, and the evidence behind it."""
    name, extra = compare_names(a, b, ctx)
    pc = _relation(a, b)
    web = _web(a, b, ctx)
    ev: dict[str, Any] = {"name": round(name, 3), "postcode": pc, "web": web}
    conflict = id_conflict(a, b)
    if conflict:
        ev["identifier_conflict"] = conflict
        return 0.0, ev
    conf = max(0.0, (name - 0.5) * 2) + PC_WEIGHT[a.kind][pc] + {"page": 0.08, "domain": 0.04}.get(web, 0.0)
    if extra:
        ev["extra_words"] = extra
        conf -= EXTRA_WORD * min(extra, 2)
    if a.kind == "service":
        ev["provider"] = _provider(a, b, ctx)
        conf += {"linked": 0.1, "different": -0.12}.get(ev["provider"], 0.0)
    if a.kind == "location" and a.street_norm and b.street_norm and a.name and b.name:
        street = fuzz.token_sort_ratio(a.street_norm, b.street_norm) / 100
        ev["street"] = round(street, 3)
        conf += 0.05 if street >= 0.9 else -0.2 if street < 0.5 else 0.0   # another street: another place
    specific = min(a.info, b.info) / (ctx.max_idf * SPECIFIC_WORDS)
    if specific < 1 and pc != "full" and web != "page":
        conf -= 0.15 * (1 - specific)   # 'Lunch club' elsewhere is another lunch club
        ev["generic"] = round(specific, 2)
    return min(0.99, max(0.0, conf)), ev


# -- candidates ------------------------------------------------------------------------------
def _cross(groups: dict[str, list[int]], scope: frozenset[str]) -> Iterable[tuple[list[int], list[int]]]:
    """The (smaller, larger) member lists of each pair of authorities in a block."""
    names = sorted(groups)
    for x, ax in enumerate(names):
        for ay in names[x + 1:]:
            if not scope or ax in scope or ay in scope:
                yield tuple(sorted((groups[ax], groups[ay]), key=len))  # type: ignore[misc]


def _blocks(records: Sequence[Record], scope: frozenset[str]) -> Iterable[dict[str, list[int]]]:
    """Blocks of record indices grouped by authority: each postcode district (a dense district
    is split into its sectors, so that no block costs more than BLOCK_BUDGET comparisons) and
    each of the rarest words of every name."""
    df = Counter(t for r in records for t in r.tokens)
    blocks: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, r in enumerate(records):
        for district in r.districts:
            blocks[("district", district)][r.authority].append(i)
        rare = sorted((t for t in r.tokens if df[t] <= MAX_BLOCK_DF), key=lambda t: (df[t], t))
        for t in rare[:RARE_TOKENS]:
            blocks[("word", t)][r.authority].append(i)
    for (kind, key), groups in blocks.items():
        if len(groups) < 2:
            continue
        if kind == "district" and sum(len(s) * len(la) for s, la in _cross(groups, scope)) > BLOCK_BUDGET:
            sectors: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
            for authority, members in groups.items():
                for i in members:
                    for sector in records[i].sectors:
                        if sector.startswith(f"{key} "):
                            sectors[sector][authority].append(i)
            yield from (g for g in sectors.values() if len(g) > 1)
        else:
            yield groups


def candidate_pairs(records: Sequence[Record], scope: frozenset[str]) -> set[tuple[int, int]]:
    """Pairs of records of different authorities that share a block (postcode district or
    sector, or a rare word of the name) and pass a cheap name filter; at least one side in
    *scope*. The work grows with the records, not with their square."""
    pairs: set[tuple[int, int]] = set()
    for groups in _blocks(records, scope):
        if len(groups) == 2 or sum(map(len, groups.values())) > 1000:
            for small, large in _cross(groups, scope):
                _compare(records, small, large, None, pairs)
        else:  # many authorities, few records each: one call per record beats one per pair
            members = [i for g in groups.values() for i in g]
            _compare(records, members, members, scope, pairs)
    return pairs


def _compare(records: Sequence[Record], queries: list[int], choices: list[int],
             scope: frozenset[str] | None, pairs: set[tuple[int, int]]) -> None:
    """Add the pairs (query, choice) of two authorities whose names pass the prefilter."""
    names = [records[j].norm for j in choices]
    for i in queries:
        a = records[i].authority
        for _, _, k in process.extract(records[i].norm, names, scorer=fuzz.token_set_ratio,
                                       score_cutoff=PREFILTER, limit=None):
            j = choices[k]
            b = records[j].authority
            if scope is None or (a != b and (not scope or a in scope or b in scope)):
                pairs.add((min(i, j), max(i, j)))


def identifier_links(records: Sequence[Record], scope: frozenset[str],
                     ctx: Context) -> tuple[list[Link], list[Link]]:
    """Pairs sharing an identifier: across authorities (links) and within one (duplicates)."""
    index: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for r in records:
        for key in r.ids:
            index[key].append(r)
    found: dict[frozenset[str], Link] = {}
    dups: dict[frozenset[str], Link] = {}
    priority = list(SCHEMES)
    for (scheme, value), group in sorted(index.items(), key=lambda kv: priority.index(kv[0][0])):
        for x, a in enumerate(group):
            for b in group[x + 1:]:
                if a.iri == b.iri:
                    continue
                a, b = sorted((a, b), key=lambda r: (r.authority, r.iri))
                key = frozenset((a.iri, b.iri))
                name = name_similarity(a, b, ctx) if a.norm and b.norm else 1.0
                conf = 1.0 if name >= 0.5 else 0.75   # the same number under unrelated names: ask
                link = Link(a.kind, a, b, conf, f"identifier:{scheme}",
                            {"identifier": f"{scheme} {value}", "name": round(name, 3)})
                if a.authority == b.authority:
                    dups.setdefault(key, link)
                elif not scope or a.authority in scope or b.authority in scope:
                    found.setdefault(key, link)
    return list(found.values()), list(dups.values())


# -- the run ---------------------------------------------------------------------------------
MARGIN = 0.03           # a runner-up this close makes a fuzzy match a question for a person
REVIEW_PER_RECORD = 3   # at most this many review rows name one record


def discover_links(store: Store, settings: Settings, *, authorities: Sequence[str] | None = None,
                   decisions: Path | None = None, threshold: float = THRESHOLD,
                   review_threshold: float = REVIEW_THRESHOLD) -> LinkReport:
    """Find the same organisations, locations and services across authorities. With
    *authorities*, only links that involve one of them are (re)computed; the published links
    between other authorities are kept. *decisions* is a review file filled in by a person."""
    if not 0 < review_threshold <= threshold <= 1:
        raise LinkError(f"thresholds must satisfy 0 < review ({review_threshold}) <= "
                        f"accept ({threshold}) <= 1")
    scope = frozenset(code.strip().upper() for code in authorities or ())
    for code in scope:
        if not ns.GSS_CODE.match(code):
            raise LinkError(f"--authority {code!r} is not an ONS GSS code such as E06000023")
    report = LinkReport(tuple(sorted(scope)), threshold, review_threshold, _now())
    records = read_records(store, settings, report)
    missing = scope - set(report.graphs.values())
    if missing:
        raise LinkError(f"no data in the store for {', '.join(sorted(missing))}: ingest or harvest "
                        "that authority first (localoffer stats lists what is loaded)")
    kept, report.decisions = read_published(store, settings, records)
    if decisions is not None:
        for key, d in read_decisions(decisions).items():
            old = report.decisions.get(key)
            if old is not None and old.verdict == d.verdict:
                d.created = old.created   # when the person first decided, not when it was reread
            report.decisions[key] = d
    report.kept = [lk for lk in kept if scope and not {lk.left.authority, lk.right.authority} & scope
                   and lk.key not in report.decisions]
    linked: dict[str, set[str]] = defaultdict(set)
    for kind in KINDS:
        recs = [r for r in records if r.kind == kind]
        ctx = make_context(recs)
        ctx.linked = linked
        ctx.names = {r.iri: r.norm for r in records if r.kind == "organization"}
        accepted, review = _link_kind(kind, recs, scope, ctx, report)
        report.links += accepted
        report.review += review
        for lk in accepted + [k for k in report.kept if k.kind == kind]:
            linked[lk.left.iri].add(lk.right.iri)
            linked[lk.right.iri].add(lk.left.iri)
    report.ended = _now()
    return report


def _link_kind(kind: str, recs: list[Record], scope: frozenset[str], ctx: Context,
               report: LinkReport) -> tuple[list[Link], list[Link]]:
    rejected = {k for k, d in report.decisions.items() if d.verdict == "rejected"}
    by_iri: dict[str, list[Record]] = defaultdict(list)
    for r in recs:
        by_iri[r.iri].append(r)
    confirmed = []
    for d in report.decisions.values():
        if d.verdict != "confirmed" or not (by_iri.get(d.left) and by_iri.get(d.right)):
            continue
        a, b = sorted((by_iri[d.left][0], by_iri[d.right][0]), key=lambda r: (r.authority, r.iri))
        if a.authority == b.authority:
            report.warnings.append(f"confirmed pair {a.iri} / {b.iri} is within {a.authority}: "
                                   "records of one authority are never linked")
            continue
        confirmed.append(Link(kind, a, b, 1.0, "confirmed", {"decision": "confirmed"}))
    by_id, dups = identifier_links(recs, scope, ctx)
    report.duplicates += dups + _exact_duplicates(recs, {lk.key for lk in dups})
    fixed = [lk for lk in by_id if lk.key not in rejected]
    pairs = candidate_pairs(recs, scope)
    report.candidates += len(pairs)
    cands = []
    for i, j in sorted(pairs):
        a, b = sorted((recs[i], recs[j]), key=lambda r: (r.authority, r.iri))
        key = frozenset((a.iri, b.iri))
        if a.iri == b.iri or key in rejected:
            continue
        conf, ev = score(a, b, ctx)
        if conf >= report.review_threshold:
            cands.append(Link(kind, a, b, conf, "name+postcode", ev))
    return assign(confirmed + fixed, cands, report.threshold)


def assign(fixed: list[Link], cands: list[Link], threshold: float) -> tuple[list[Link], list[Link]]:
    """Accepted links and review rows. Identifier and confirmed links come first; then fuzzy
    ones, best first, one partner per record and other authority; a close runner-up turns a
    fuzzy match into a review row."""
    taken: set[tuple[str, str]] = set()
    accepted, review, seen = [], [], set()
    for lk in fixed:
        if lk.key in seen:
            continue
        seen.add(lk.key)
        if lk.confidence >= threshold:
            accepted.append(lk)
            taken |= {(lk.left.iri, lk.right.authority), (lk.right.iri, lk.left.authority)}
        else:
            review.append(lk)
    tops: dict[tuple[str, str], list[float]] = defaultdict(list)
    for c in cands:
        tops[(c.left.iri, c.right.authority)].append(c.confidence)
        tops[(c.right.iri, c.left.authority)].append(c.confidence)
    for v in tops.values():
        v.sort(reverse=True)
    for c in cands:
        runner = max(_runner_up(tops[(c.left.iri, c.right.authority)], c.confidence),
                     _runner_up(tops[(c.right.iri, c.left.authority)], c.confidence))
        if c.confidence - runner < MARGIN:
            c.evidence["runner_up"] = round(runner, 3)
            c.confidence = min(c.confidence, threshold - 0.01)
    shown: Counter[str] = Counter()
    for c in sorted(cands, key=lambda c: (-c.confidence, c.left.iri, c.right.iri)):
        if c.key in seen or {(c.left.iri, c.right.authority), (c.right.iri, c.left.authority)} & taken:
            continue
        if c.confidence >= threshold:
            accepted.append(c)
            taken |= {(c.left.iri, c.right.authority), (c.right.iri, c.left.authority)}
        elif shown[c.left.iri] < REVIEW_PER_RECORD and shown[c.right.iri] < REVIEW_PER_RECORD:
            review.append(c)
            shown.update((c.left.iri, c.right.iri))
    return accepted, review


def _runner_up(confs: list[float], mine: float) -> float:
    if confs and confs[0] > mine:
        return confs[0]
    return confs[1] if len(confs) > 1 else 0.0


def _exact_duplicates(recs: list[Record], known: set[frozenset[str]]) -> list[Link]:
    """Records of one authority with the same normalised name at the same postcode."""
    groups: dict[tuple[str, str, str], list[Record]] = defaultdict(list)
    for r in recs:
        for pc in r.postcodes:
            if r.norm:
                groups[(r.authority, r.norm, pc)].append(r)
    out: dict[frozenset[str], Link] = {}
    for group in groups.values():
        for x, a in enumerate(group):
            for b in group[x + 1:]:
                key = frozenset((a.iri, b.iri))
                if a.iri != b.iri and key not in known:
                    out.setdefault(key, Link(a.kind, a, b, 0.95, "name+postcode",
                                             {"name": 1.0, "postcode": "full"}))
    return list(out.values())


# -- decisions and the review file -----------------------------------------------------------
REVIEW_COLUMNS = ["kind", "left_iri", "left_name", "left_postcode", "right_iri", "right_name",
                  "right_postcode", "confidence", "method", "decision"]
VERDICTS = {"confirmed": "confirmed", "confirm": "confirmed", "yes": "confirmed", "y": "confirmed",
            "same": "confirmed", "rejected": "rejected", "reject": "rejected", "no": "rejected",
            "n": "rejected", "different": "rejected"}


def read_decisions(path: Path) -> dict[frozenset[str], Decision]:
    """The confirmed and rejected rows of a review file (blank decisions are skipped)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = {"left_iri", "right_iri", "decision"} - set(reader.fieldnames or ())
            if missing:
                raise LinkError(f"{path}: not a review file: no column {', '.join(sorted(missing))} "
                                f"(expected {','.join(REVIEW_COLUMNS)})")
            out: dict[frozenset[str], Decision] = {}
            for n, row in enumerate(reader, start=2):
                text = (row.get("decision") or "").strip().lower()
                if not text:
                    continue
                verdict = VERDICTS.get(text)
                left, right = (row.get("left_iri") or "").strip(), (row.get("right_iri") or "").strip()
                if verdict is None:
                    raise LinkError(f"{path} line {n}: decision {row['decision']!r} must be "
                                    "'confirmed', 'rejected' or blank")
                if left == right or not all(x.startswith(("http://", "https://")) for x in (left, right)):
                    raise LinkError(f"{path} line {n}: left_iri and right_iri must be two different IRIs")
                out[frozenset((left, right))] = Decision(left, right, verdict, row.get("kind") or "",
                                                         _now(), dict(row))
            return out
    except FileNotFoundError:
        raise LinkError(f"{path}: no such decisions file") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise LinkError(f"{path}: not a UTF-8 CSV review file ({exc})") from None


def write_review(report: LinkReport, path: Path) -> int:
    """Write the review file: the uncertain pairs (decision blank), then every decision so
    far, so that the same file can be edited and passed back with --decisions. Returns rows."""
    index = report.index
    rows = []
    for lk in sorted(report.review, key=lambda lk: (lk.kind, -lk.confidence, lk.left.iri)):
        if lk.key not in report.decisions:
            rows.append(_review_row(lk.kind, lk.left, lk.right, lk.confidence, lk.method, ""))
    for d in sorted(report.decisions.values(), key=lambda d: (d.verdict, d.left, d.right)):
        if d.row:
            rows.append({c: d.row.get(c, "") for c in REVIEW_COLUMNS} | {"decision": d.verdict})
        else:
            a, b = index.get(d.left), index.get(d.right)
            rows.append({"kind": a.kind if a else "", "left_iri": d.left, "right_iri": d.right,
                         "left_name": a.name if a else "", "right_name": b.name if b else "",
                         "left_postcode": "; ".join(sorted(a.postcodes)) if a else "",
                         "right_postcode": "; ".join(sorted(b.postcodes)) if b else "",
                         "confidence": "", "method": "", "decision": d.verdict})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, REVIEW_COLUMNS)
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
    tmp.replace(path)
    return len(rows)


def _review_row(kind: str, a: Record, b: Record, conf: float, method: str, verdict: str) -> dict[str, str]:
    return {"kind": kind, "left_iri": a.iri, "left_name": a.label(),
            "left_postcode": "; ".join(sorted(a.postcodes)), "right_iri": b.iri,
            "right_name": b.label(), "right_postcode": "; ".join(sorted(b.postcodes)),
            "confidence": f"{conf:.3f}", "method": method, "decision": verdict}


def _cell(value: Any) -> str:
    """Text for a spreadsheet cell: a leading = + - @ would make it a formula, so quote it."""
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# -- the links graph -------------------------------------------------------------------------
def read_published(store: Store, settings: Settings,
                   records: Sequence[Record]) -> tuple[list[Link], dict[frozenset[str], Decision]]:
    """The links and decisions already in the links graph (links only between records that
    still exist)."""
    graph = ns.graph_iri(settings.base, "links")
    by_iri: dict[str, list[Record]] = defaultdict(list)
    for r in records:
        by_iri[r.iri].append(r)
    links = []
    for row in store.select(_P + f"""SELECT ?s ?t ?c ?m WHERE {{ GRAPH <{graph}> {{
            ?l a lo:Link ; lo:source ?s ; lo:target ?t ; lo:confidence ?c ; lo:method ?m }} }}"""):
        pairs = [(a, b) for a in by_iri.get(row["s"].value, ()) for b in by_iri.get(row["t"].value, ())
                 if a.kind == b.kind and a.authority != b.authority]
        if pairs:
            a, b = pairs[0]
            links.append(Link(a.kind, a, b, float(row["c"].value), row["m"].value, {"kept": True}))
    decisions = {}
    for row in store.select(_P + f"""SELECT ?s ?t ?v ?c WHERE {{ GRAPH <{graph}> {{
            ?d a lo:LinkDecision ; lo:source ?s ; lo:target ?t ; lo:decision ?v
            OPTIONAL {{ ?d dcterms:created ?c }} }} }}"""):
        s, t = row["s"].value, row["t"].value
        decisions[frozenset((s, t))] = Decision(s, t, row["v"].value, "",
                                                row["c"].value if "c" in row else _now())
    return links, decisions


def publish_links(store: Store, settings: Settings, report: LinkReport) -> int:
    """Replace the links graph with the report's links, linksets and decisions, and its
    provenance in the meta graph, in one atomic write. Returns the triples written."""
    graph, meta_graph = ns.graph_iri(settings.base, "links"), ns.graph_iri(settings.base, "meta")
    lines, linksets = _link_lines(graph, report)
    meta = _provenance(settings, graph, report, len(lines), linksets)
    with tempfile.TemporaryDirectory(prefix="localoffer-links-") as tmp:
        path = Path(tmp) / "links.nt"
        path.write_text("".join(lines), encoding="utf-8")
        with store.write() as session:
            session.replace_graph(graph, path)
            subjects = " ".join(f"<{graph}{s}>" for s in ("", "#run", "#software"))
            session.update(f"DELETE {{ GRAPH <{meta_graph}> {{ ?s ?p ?o }} }} WHERE {{ "
                           f"VALUES ?s {{ {subjects} }} GRAPH <{meta_graph}> {{ ?s ?p ?o }} }}")
            session.load(meta_graph, "".join(meta).encode(), "nt")
            ensure_definitions(session, settings)
    return len(lines)


def _t(s: str, p: str, o: str) -> str:
    return f"{s} {p} {o} .\n"


def _link_lines(graph: str, report: LinkReport) -> tuple[list[str], list[str]]:
    A, L, V, D, P = (lambda n, b=b: iri(b + n) for b in (ns.RDF, ns.LO, ns.VOID, ns.DCTERMS, ns.PROV))
    A = iri(ns.RDF + "type")  # noqa: F811
    created = typed(report.ended or _now(), "dateTime")
    groups: dict[tuple[str, str, str], list[Link]] = defaultdict(list)
    for lk in report.links + report.kept:
        groups[(lk.left.graph, lk.right.graph, lk.predicate)].append(lk)
    lines: list[str] = []
    linksets = []
    for (ga, gb, pred), links in sorted(groups.items()):
        a, b = links[0].left.authority, links[0].right.authority
        name = "sameas" if pred == SAME_AS else "closematch"
        ls = iri(f"{graph}#linkset-{a.lower()}-{b.lower()}-{name}-{_hash(ga, gb)[:8]}")
        linksets.append(ls)
        lines += [_t(ls, A, V("Linkset")), _t(ls, V("subjectsTarget"), iri(ga)),
                  _t(ls, V("objectsTarget"), iri(gb)), _t(ls, V("linkPredicate"), iri(pred)),
                  _t(ls, V("triples"), typed(len(links), "integer")), _t(ls, D("created"), created),
                  _t(ls, D("title"), lit(f"{'owl:sameAs' if name == 'sameas' else 'skos:closeMatch'} "
                                          f"links from {a} to {b}")),
                  _t(ls, P("wasGeneratedBy"), iri(f"{graph}#run"))]
        for lk in sorted(links, key=lambda lk: (lk.left.iri, lk.right.iri)):
            s, o = iri(lk.left.iri), iri(lk.right.iri)
            node = iri(f"{graph}#link-{_hash(lk.left.iri, lk.right.iri)[:16]}")
            lines += [_t(s, iri(pred), o), _t(node, A, L("Link")), _t(node, L("source"), s),
                      _t(node, L("target"), o),
                      _t(node, L("confidence"), typed(f"{lk.confidence:.3f}", "decimal")),
                      _t(node, L("method"), lit(lk.method)), _t(node, V("inDataset"), ls)]
    for d in sorted(report.decisions.values(), key=lambda d: (d.left, d.right)):
        left, right = sorted((d.left, d.right))
        node = iri(f"{graph}#decision-{_hash(left, right)[:16]}")
        lines += [_t(node, A, L("LinkDecision")), _t(node, L("source"), iri(left)),
                  _t(node, L("target"), iri(right)), _t(node, L("decision"), lit(d.verdict)),
                  _t(node, D("created"), typed(d.created, "dateTime"))]
    return lines, linksets


def _provenance(settings: Settings, graph: str, report: LinkReport, triples: int,
                linksets: list[str]) -> list[str]:
    A = iri(ns.RDF + "type")
    P, L, V, D, S = (lambda n, b=b: iri(b + n) for b in (ns.PROV, ns.LO, ns.VOID, ns.DCTERMS, ns.SCHEMA))
    g, run, sw = iri(graph), iri(f"{graph}#run"), iri(f"{graph}#software")
    lines = [_t(g, A, P("Entity")), _t(g, A, V("Dataset")), _t(g, P("wasGeneratedBy"), run),
             _t(g, D("title"), lit("Links between the Local Offers of different authorities")),
             _t(g, D("modified"), typed(report.ended or _now(), "dateTime")),
             _t(g, V("triples"), typed(triples, "integer")),
             _t(run, A, P("Activity")), _t(run, P("startedAtTime"), typed(report.started, "dateTime")),
             _t(run, P("endedAtTime"), typed(report.ended or _now(), "dateTime")),
             _t(run, P("wasAssociatedWith"), sw),
             _t(run, L("acceptThreshold"), typed(report.threshold, "decimal")),
             _t(run, L("reviewThreshold"), typed(report.review_threshold, "decimal")),
             _t(sw, A, P("SoftwareAgent")), _t(sw, S("name"), lit("localoffer")),
             _t(sw, S("softwareVersion"), lit(__version__))]
    lines += [_t(g, V("subset"), ls) for ls in linksets]
    lines += [_t(run, P("used"), iri(source)) for source in sorted(report.graphs)]
    return lines


def _hash(*parts: str) -> str:
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def render_text(report: LinkReport) -> str:
    """A plain summary of a link run for the terminal."""
    per_kind = Counter(k.split()[0] for k in report.records.elements())
    if not per_kind:
        return "\n".join(["records    none: ingest or harvest the offers of two or more authorities first",
                          *(f"warning    {w}" for w in report.warnings)])
    lines = [f"records    {', '.join(f'{n} {k}s' for k, n in sorted(per_kind.items()))} "
             f"in {len(set(report.graphs.values()))} authorities ({len(report.graphs)} graphs)",
             f"compared   {report.candidates} candidate pairs"]
    for key, n in report.counts().items():
        lines.append(f"{'linked' if key not in ('review', 'duplicates') else key:<10} {n:>6}  "
                     f"{key if key not in ('review', 'duplicates') else ''}".rstrip())
    verdicts = Counter(d.verdict for d in report.decisions.values())
    if verdicts:
        lines.append(f"decisions  {verdicts['confirmed']} confirmed, {verdicts['rejected']} rejected")
    for scheme, n in report.unknown_schemes.most_common(5):
        lines.append(f"note       {n} identifiers with the unknown scheme {scheme!r} were not used")
    lines += [f"warning    {w}" for w in report.warnings]
    return "\n".join(lines)
