"""Content negotiation: the media types each kind of answer comes in, chosen by a `format`
parameter or by `Accept` (q-values honoured; on a tie the order here decides)."""

from __future__ import annotations

from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import NotAcceptable

from localoffer.errors import QueryError
from localoffer.queryexec import TABLE

Offer = tuple[str, str]  # (media type, format key understood by localoffer.queryexec)

RESULTS: list[Offer] = [
    ("application/sparql-results+json", "json"), ("application/sparql-results+xml", "xml"),
    ("text/csv", "csv"), ("text/tab-separated-values", "tsv"), ("application/json", "json"),
    ("application/xml", "xml"), ("text/html", TABLE),
]
BOOLEAN: list[Offer] = [o for o in RESULTS if o[1] in ("json", "xml", TABLE)]
GRAPHS: list[Offer] = [
    ("text/turtle", "ttl"), ("application/n-triples", "nt"), ("application/ld+json", "jsonld"),
    ("application/rdf+xml", "rdfxml"), ("application/n-quads", "nq"), ("application/trig", "trig"),
    ("text/n3", "n3"), ("application/xml", "rdfxml"), ("application/json", "jsonld"),
    ("text/plain", "nt"), ("text/html", TABLE),
]
# What the Graph Store Protocol and the service description can be read as.
RDF_DOCUMENTS: list[Offer] = [o for o in GRAPHS if o[1] in ("ttl", "nt", "jsonld", "rdfxml", "n3")]

SHORT_NAMES = {
    "json": ("json", "jsonld"), "srj": ("json", None), "xml": ("xml", "rdfxml"), "srx": ("xml", None),
    "csv": ("csv", None), "tsv": ("tsv", None), "html": (TABLE, TABLE), "table": (TABLE, TABLE),
    "ttl": (None, "ttl"), "turtle": (None, "ttl"), "nt": (None, "nt"), "ntriples": (None, "nt"),
    "n-triples": (None, "nt"), "jsonld": (None, "jsonld"), "json-ld": (None, "jsonld"),
    "rdfxml": (None, "rdfxml"), "rdf": (None, "rdfxml"), "rdf+xml": (None, "rdfxml"),
    "nq": (None, "nq"), "nquads": (None, "nq"), "trig": (None, "trig"), "n3": (None, "n3"),
}
CHARSET_TYPES = ("text/", "application/sparql-results+", "application/json", "application/ld+json",
                 "application/n-triples", "application/n-quads", "application/trig", "application/xml",
                 "application/rdf+xml")


def media_type_for(key: str, offers: list[Offer]) -> str:
    """The first media type of *offers* that serves format *key*."""
    return next(m for m, k in offers if k == key)


def with_charset(media_type: str) -> str:
    """The Content-Type value: textual types say they are UTF-8."""
    return f"{media_type}; charset=utf-8" if media_type.startswith(CHARSET_TYPES) else media_type


def negotiate(offers: list[Offer], accept: MIMEAccept, fmt: str | None, *, graph: bool = False) -> Offer:
    """Pick an offer by the `format` parameter (a short name or a media type) or by Accept;
    406 with the list of what is available when nothing fits."""
    if fmt:
        wanted = fmt.strip().lower()
        pair = SHORT_NAMES.get(wanted)
        if pair is not None:
            key = pair[1] if graph else pair[0]
            for offer in offers:
                if offer[1] == key:
                    return offer
        for offer in offers:
            if offer[0] == wanted:
                return offer
        raise QueryError(f"format {fmt!r} is not available for this answer; choose one of "
                         + ", ".join(sorted({m for m, _ in offers})))
    if not accept:
        return offers[0]
    # Parameters such as charset do not decide the type ("text/turtle; charset=utf-8" is Turtle).
    accept = MIMEAccept([(value.split(";")[0].strip(), quality) for value, quality in accept])
    best = accept.best_match([m for m, _ in offers])
    if best is None:
        raise NotAcceptable("none of the media types in Accept can be produced here; available: "
                            + ", ".join(dict.fromkeys(m for m, _ in offers)))
    return next(o for o in offers if o[0] == best)


def prefers_html(accept: MIMEAccept, others: list[Offer]) -> bool:
    """True for a browser: it names text/html and ranks it above every other offer."""
    if "text/html" not in [v for v, _ in accept]:
        return False
    return accept.best_match(["text/html", *[m for m, _ in others if m != "text/html"]]) == "text/html"
