"""Choosing a resource document's representation (publisher/linkeddata/formats.py): a single
media type takes the short path, and it answers what q-value ranking answers."""

from __future__ import annotations

import pytest
from localoffer.publisher.linkeddata.formats import (
    BY_KEY,
    FORMATS,
    RDF_FORMATS,
    NoAcceptableFormat,
    choose,
    negotiate,
    split_extension,
)
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header


def accept(header: str) -> MIMEAccept:
    return parse_accept_header(header, MIMEAccept)


def ranked(header: str, offers=FORMATS):  # type: ignore[no-untyped-def]
    """The answer of the ranking path: the header with a second, never-chosen entry."""
    return negotiate(accept(header + ", application/x-never;q=0.001"), offers)


@pytest.mark.parametrize("header, key", [
    ("text/turtle", "ttl"), ("text/html", "html"), ("application/ld+json", "jsonld"),
    ("application/n-triples", "nt"), ("application/rdf+xml", "rdf"), ("Text/Turtle", "ttl"),
    ("application/json", "jsonld"), ("text/plain", "nt"), ("*/*", "html"), ("text/*", "html"),
    ("text/turtle;q=0.5", "ttl"),
])
def test_single_media_type_is_what_ranking_gives(header: str, key: str) -> None:
    assert negotiate(accept(header)) is BY_KEY[key] is ranked(header)


@pytest.mark.parametrize("header, offers", [
    ("text/turtle;q=0", FORMATS), ("text/html", RDF_FORMATS), ("image/png", FORMATS),
])
def test_single_media_type_that_does_not_fit_is_406(header, offers) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NoAcceptableFormat):
        negotiate(accept(header), offers)


def test_extension_and_parameter_come_first() -> None:
    stem, ext = split_extension("abc.ttl")
    assert stem == "abc" and choose(accept("text/html"), "jsonld", ext) is BY_KEY["ttl"]
    assert choose(accept("text/html"), "nt", None) is BY_KEY["nt"]
