"""The key facts of a service, organisation or place in plain words, for the top of its page:
who it is for (ages), when it is open, what it costs, how to contact it, where it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import pyoxigraph as ox

from localoffer import namespaces as ns

from .describe import Description
from .render import format_literal, safe_href
from .vocab import DAYS

S = ns.SCHEMA


@dataclass
class Fact:
    """A heading and its lines (each line a text and an optional link)."""

    label: str
    lines: list[tuple[str, str | None]] = field(default_factory=list)


class Graph:
    """Lookups over a description's triples."""

    def __init__(self, desc: Description) -> None:
        self.desc = desc
        self.index: dict[str, list[ox.Triple]] = {}
        for t in desc.triples:
            self.index.setdefault(str(t.subject), []).append(t)

    def objects(self, term: Any, *path: str) -> list[Any]:
        """Values reached from *term* along the property path *path*."""
        current = [term]
        for p in path:
            current = [t.object for c in current for t in self.index.get(str(c), [])
                       if t.predicate.value == p]
        return current

    def text(self, term: Any, *path: str) -> str | None:
        found = [o for o in self.objects(term, *path) if isinstance(o, ox.Literal)]
        return found[0].value if found else None


def ages(g: Graph, subject: Any) -> str | None:
    """"From 5 to 25 years", "Up to 18 years", "16 years and over"."""
    lows = [_num(v) for a in g.objects(subject, S + "audience") for v in g.objects(a, S + "suggestedMinAge")]
    highs = [_num(v) for a in g.objects(subject, S + "audience") for v in g.objects(a, S + "suggestedMaxAge")]
    lo = min((x for x in lows if x is not None), default=None)
    hi = max((x for x in highs if x is not None), default=None)
    if lo is None and hi is None:
        return None
    if lo is not None and hi is not None:
        return f"From {lo} to {hi} years"
    return f"Up to {hi} years" if lo is None else f"{lo} years and over"


def _num(term: Any) -> str | None:
    try:
        value = Decimal(term.value)
    except (InvalidOperation, AttributeError):
        return None
    return str(value.quantize(Decimal(1))) if value == value.to_integral_value() else str(value)


def hours(g: Graph, subject: Any) -> list[str]:
    """"Monday, Tuesday: 09:00 to 17:00" for each schedule of the subject and its channels."""
    nodes = g.objects(subject, S + "hoursAvailable") + g.objects(subject, S + "openingHoursSpecification")
    for channel in g.objects(subject, S + "availableChannel"):
        nodes += g.objects(channel, S + "hoursAvailable")
    out = []
    for n in nodes:
        days = [d.value.rsplit("/", 1)[-1] for d in g.objects(n, S + "dayOfWeek") + g.objects(n, S + "byDay")
                if isinstance(d, ox.NamedNode)]
        days.sort(key=lambda d: DAYS.index(d) if d in DAYS else 9)
        opens = g.text(n, S + "opens") or g.text(n, S + "startTime")
        closes = g.text(n, S + "closes") or g.text(n, S + "endTime")
        times = f"{opens[:5]} to {closes[:5]}" if opens and closes else ""
        words = ", ".join(days) or (g.text(n, S + "description") or "")
        line = f"{words}: {times}" if words and times else (words or times)
        if line:
            out.append(line)
    return out


def costs(g: Graph, subject: Any) -> list[str]:
    """Each offer: its name or description, and its price."""
    out = []
    for offer in g.objects(subject, S + "offers"):
        words = g.text(offer, S + "name") or g.text(offer, S + "description") or ""
        price = g.text(offer, S + "priceSpecification", S + "price")
        unit = g.text(offer, S + "priceSpecification", S + "unitText")
        currency = g.text(offer, S + "priceSpecification", S + "priceCurrency") or "GBP"
        if price is not None:
            amount = "Free" if _num(ox.Literal(price)) == "0" else \
                (f"£{Decimal(price):.2f}" if currency == "GBP" else f"{price} {currency}")
            words = f"{words}: {amount}" if words else amount
            if unit:
                words += f" ({unit})"
        if words:
            out.append(words)
    return out


def contacts(g: Graph, subject: Any) -> list[tuple[str, str | None]]:
    """Email addresses and phone numbers of the subject, its contacts and its channels."""
    out: list[tuple[str, str | None]] = []
    holders = [subject] + g.objects(subject, ns.HSDS + "contact") + g.objects(subject, S + "contactPoint")
    for channel in g.objects(subject, S + "availableChannel"):
        holders.append(channel)
        holders += g.objects(channel, ns.HSDS + "contact")
    for h in holders:
        for email in g.objects(h, S + "email"):
            out.append((f"Email: {email.value}", safe_href(f"mailto:{email.value}")))
        phones = g.objects(h, S + "telephone") + [
            p for node in g.objects(h, S + "servicePhone") + g.objects(h, ns.HSDS + "phone")
            for p in g.objects(node, S + "telephone")]
        for phone in phones:
            out.append((f"Phone: {phone.value}", "tel:" + "".join(c for c in phone.value if c.isdigit() or c == "+")))
    return list(dict.fromkeys(out))


def places(g: Graph, subject: Any, labels: dict[str, str], href_for: Any) -> list[tuple[str, str | None]]:
    """The locations a service is delivered at (name and link), and its own address and map point."""
    out: list[tuple[str, str | None]] = []
    for channel in g.objects(subject, S + "availableChannel"):
        for place in g.objects(channel, S + "serviceLocation"):
            if isinstance(place, ox.NamedNode):
                out.append((labels.get(place.value) or g.text(place, S + "name") or "Location",
                            href_for(place.value)))
    for address in g.objects(subject, S + "address"):
        parts = [g.text(address, S + p) for p in ("streetAddress", "addressLocality", "postalCode")]
        line = ", ".join(p for p in parts if p)
        if line:
            out.append((line, None))
    for geo in g.objects(subject, S + "geo"):
        lat, lon = g.text(geo, S + "latitude"), g.text(geo, S + "longitude")
        if lat and lon:
            out.append((f"Map: latitude {lat}, longitude {lon}",
                        f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"))
    return out


def facts(desc: Description, href_for: Any) -> list[Fact]:
    """The at-a-glance facts of the subject (only those it has)."""
    g = Graph(desc)
    subject = ox.NamedNode(desc.subject)
    out: list[Fact] = []
    age = ages(g, subject)
    if age:
        out.append(Fact("Ages", [(age, None)]))
    for label, lines in (("Opening times", hours(g, subject)), ("Cost", costs(g, subject))):
        if lines:
            out.append(Fact(label, [(line, None) for line in lines]))
    where = places(g, subject, desc.labels, href_for)
    if where:
        out.append(Fact("Where", where))
    contact = contacts(g, subject)
    if contact:
        out.append(Fact("Contact", contact))
    for p, label in ((S + "url", "Website"),):
        urls = [format_literal(o) for o in g.objects(subject, p) if isinstance(o, ox.Literal)]
        if urls:
            out.append(Fact(label, urls))
    return out
