"""The representations of a Linked Data document and how one is chosen: by a file extension,
by `?_format=`, or by `Accept` with its q-values (on a tie the order of FORMATS decides)."""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.datastructures import MIMEAccept


@dataclass(frozen=True)
class Format:
    """One representation: a short key, its media type, its file extension."""

    key: str
    media_type: str
    extension: str
    label: str


FORMATS: tuple[Format, ...] = (
    Format("html", "text/html", "html", "HTML page"),
    Format("ttl", "text/turtle", "ttl", "Turtle"),
    Format("jsonld", "application/ld+json", "jsonld", "JSON-LD"),
    Format("nt", "application/n-triples", "nt", "N-Triples"),
    Format("rdf", "application/rdf+xml", "rdf", "RDF/XML"),
)
RDF_FORMATS = FORMATS[1:]
BY_KEY = {f.key: f for f in FORMATS}
BY_EXTENSION = {f.extension: f for f in FORMATS}
BY_MEDIA_TYPE = {f.media_type: f for f in FORMATS}
# Other names clients use for the same representations (media types and short names).
ALIASES = {
    "application/json": "jsonld", "application/x-turtle": "ttl", "text/n3": "ttl",
    "text/plain": "nt", "application/xml": "rdf", "text/xml": "rdf",
    "application/xhtml+xml": "html", "turtle": "ttl", "json-ld": "jsonld", "json": "jsonld",
    "ntriples": "nt", "n-triples": "nt", "rdfxml": "rdf", "rdf+xml": "rdf", "xml": "rdf",
}


class NoAcceptableFormat(Exception):
    """Nothing offered fits what the client asked for."""

    def __init__(self, asked: str, offers: tuple[Format, ...]) -> None:
        super().__init__(asked)
        self.asked = asked
        self.offers = offers


def split_extension(ident: str, offers: tuple[Format, ...] = FORMATS) -> tuple[str, Format | None]:
    """`abc.ttl` -> ("abc", Turtle); an id without a known extension is returned as it is."""
    stem, dot, ext = ident.rpartition(".")
    if dot and stem and ext.lower() in BY_EXTENSION and BY_EXTENSION[ext.lower()] in offers:
        return stem, BY_EXTENSION[ext.lower()]
    return ident, None


def by_name(name: str, offers: tuple[Format, ...] = FORMATS) -> Format:
    """The format a `?_format=` value names (a key, an alias or a media type)."""
    wanted = name.strip().lower()
    key = wanted if wanted in BY_KEY else ALIASES.get(wanted)
    if key is None:
        key = next((f.key for f in FORMATS if f.media_type == wanted), None)
    if key is None or BY_KEY[key] not in offers:
        raise NoAcceptableFormat(f"_format={name}", offers)
    return BY_KEY[key]


def negotiate(accept: MIMEAccept, offers: tuple[Format, ...] = FORMATS) -> Format:
    """The best offer for an Accept header (q-values, wildcards, aliases); the first offer
    when the client sends no Accept."""
    if not accept:
        return offers[0]
    if len(accept) == 1 and accept[0][1] > 0:
        # One media type and no wildcard (what programs send): no ranking to do.
        single = BY_MEDIA_TYPE.get(accept[0][0].lower())
        if single is not None and single in offers:
            return single
    candidates: list[str] = [f.media_type for f in offers]
    candidates += [alias for alias, key in ALIASES.items() if "/" in alias and BY_KEY[key] in offers]
    best = accept.best_match(candidates)
    if best is None:
        raise NoAcceptableFormat(accept.to_header(), offers)
    key = ALIASES.get(best) or next(f.key for f in offers if f.media_type == best)
    return BY_KEY[key]


def choose(accept: MIMEAccept, format_param: str | None, extension: Format | None,
           offers: tuple[Format, ...] = FORMATS) -> Format:
    """Extension first, then `?_format=`, then Accept."""
    if extension is not None:
        return extension
    if format_param:
        return by_name(format_param, offers)
    return negotiate(accept, offers)
