"""A small N-Triples writer for one record: the mapping functions call it to add values,
and it takes care of absent values, cleaning, typing and checking of each field."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from localoffer import namespaces as ns
from localoffer.errors import RecordError
from localoffer.rdfterms import iri, lit, typed
from .text import clean_name, clean_plain, clean_text


class Vocab:
    """`Vocab(SCHEMA).name` -> '<https://schema.org/name>' (cached N-Triples IRI terms)."""

    def __init__(self, base: str) -> None:
        self._base = base
        self._cache: dict[str, str] = {}

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        term = self[name]
        setattr(self, name, term)  # later lookups find it without calling __getattr__
        return term

    def __getitem__(self, name: str) -> str:
        term = self._cache.get(name)
        if term is None:
            term = self._cache[name] = iri(self._base + name)
        return term


S = Vocab(ns.SCHEMA)
H = Vocab(ns.HSDS)
L = Vocab(ns.LO)
DCT = Vocab(ns.DCTERMS)
SKOS = Vocab(ns.SKOS)
OWL = Vocab(ns.OWL)
RDFS = Vocab(ns.RDFS)
GEO = Vocab(ns.GEO)
WGS = Vocab(ns.WGS)
CPSV = Vocab(ns.CPSV)
CV = Vocab(ns.CV)
A = iri(ns.RDF + "type")
RDF_VALUE = iri(ns.RDF + "value")

_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_URLISH = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]*$")


class Out:
    """The lines of one record, with the context needed to name its faults."""

    def __init__(self, record: str, entity: str = "") -> None:
        self.lines: list[str] = []
        self.record = record
        self.entity = entity

    def fault(self, field: str, message: str) -> RecordError:
        """A RecordError naming this record and *field* (prefixed by the nested entity)."""
        where = f"{self.entity}.{field}" if self.entity else field
        return RecordError(message, record=self.record, field=where)

    def at(self, entity: str) -> Out:
        """A view that names faults inside a nested entity but writes to the same lines."""
        view = Out(self.record, entity)
        view.lines = self.lines
        return view

    def add(self, s: str, p: str, o: str) -> None:
        self.lines.append(f"{s} {p} {o} .\n")

    def kind(self, s: str, *classes: str) -> None:
        for c in classes:
            self.add(s, A, c)

    def text(self, s: str, p: str, d: dict[str, Any], field: str, *, html: bool = False,
             value: Any = None, name: bool = False) -> str | None:
        """Add a text field (HTML cleaned when *html*; one line with entities decoded when
        *name*); returns the cleaned text."""
        raw = d.get(field) if value is None else value
        if raw is None:
            return None
        if isinstance(raw, (dict, list)):
            raise self.fault(field, f"must be text, got a JSON {type(raw).__name__}")
        if isinstance(raw, bool):
            raise self.fault(field, f"must be text, got the JSON boolean {json.dumps(raw)}")
        text = clean_name(raw) if name else clean_text(raw) if html else clean_plain(raw)
        if text is not None:
            self.add(s, p, lit(text))
        return text

    def url(self, s: str, p: str, d: dict[str, Any], field: str) -> str | None:
        """Add a URL as an xsd:anyURI literal (kept verbatim; the shapes judge its syntax)."""
        text = self.scalar(d, field)
        if text is not None:
            self.add(s, p, typed(text, "anyURI"))
        return text

    def link(self, s: str, p: str, d: dict[str, Any], field: str) -> None:
        """Add an IRI-valued link when the value is an absolute IRI, else keep it as text."""
        text = self.scalar(d, field)
        if text is None:
            return
        if _URLISH.match(text):
            self.add(s, p, iri(text))
        else:
            self.add(s, H.unresolvedLink, lit(f"{field}: {text}"))

    def scalar(self, d: dict[str, Any], field: str) -> str | None:
        raw = d.get(field)
        if raw is None:
            return None
        if isinstance(raw, (dict, list)):
            raise self.fault(field, f"must be a single value, got a JSON {type(raw).__name__}")
        return clean_plain(raw)

    def number(self, s: str, p: str, d: dict[str, Any], field: str, kind: str = "decimal",
               example: str = "5") -> Decimal | None:
        raw = d.get(field)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if isinstance(raw, bool) or isinstance(raw, (dict, list)):
            raise self.fault(field, f"must be a number, e.g. {example}; got {json.dumps(raw)}")
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            raise self.fault(field, f"must be a number, e.g. {example}; got {json.dumps(raw)}") from None
        if not value.is_finite():
            raise self.fault(field, f"must be a finite number; got {json.dumps(raw)}")
        if kind == "integer":
            if value != value.to_integral_value():
                raise self.fault(field, f"must be a whole number, e.g. {example}; got {json.dumps(raw)}")
            self.add(s, p, typed(int(value), "integer"))
        else:
            self.add(s, p, typed(value, "decimal"))
        return value

    def date(self, s: str, p: str, d: dict[str, Any], field: str) -> None:
        text = self.scalar(d, field)
        if text is None:
            return
        try:
            value = dt.date.fromisoformat(text[:10]) if len(text) >= 10 else None
        except ValueError:
            value = None
        if value is None or (len(text) > 10 and text[10] not in "T "):
            raise self.fault(field, f"must be a date as YYYY-MM-DD, e.g. 2024-12-10; got {text!r}")
        self.add(s, p, typed(value.isoformat(), "date"))

    def datetime(self, s: str, p: str, d: dict[str, Any], field: str) -> None:
        text = self.scalar(d, field)
        if text is None:
            return
        try:
            value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise self.fault(field, "must be a date-time as YYYY-MM-DDThh:mm:ss, e.g. "
                                    f"2023-03-15T10:30:45Z; got {text!r}") from None
        out = text if "T" in text else value.isoformat()
        if len(text) == 10:
            out = value.isoformat()
        self.add(s, p, typed(out, "dateTime"))

    def time(self, s: str, p: str, d: dict[str, Any], field: str) -> None:
        text = self.scalar(d, field)
        if text is None:
            return
        m = _TIME.match(text)
        if not m or int(m.group(1)) > 24 or int(m.group(2)) > 59:
            raise self.fault(field, f"must be a time as hh:mm or hh:mm:ss, e.g. 09:30; got {text!r}")
        zone = m.group(5) or ""
        if zone and zone != "Z" and ":" not in zone:
            zone = f"{zone[:3]}:{zone[3:]}"
        value = f"{int(m.group(1)):02d}:{m.group(2)}:{m.group(3) or '00'}{m.group(4) or ''}{zone}"
        self.add(s, p, typed(value, "time"))

    def boolean(self, s: str, p: str, d: dict[str, Any], field: str) -> bool | None:
        raw = d.get(field)
        if raw is None or raw == "":
            return None
        if isinstance(raw, bool):
            value = raw
        elif str(raw).strip().lower() in {"true", "yes", "y", "1"}:
            value = True
        elif str(raw).strip().lower() in {"false", "no", "n", "0"}:
            value = False
        else:
            raise self.fault(field, f"must be true or false; got {json.dumps(raw)}")
        self.add(s, p, typed(value, "boolean"))
        return value

    def items(self, d: dict[str, Any], field: str) -> list[dict[str, Any]]:
        """The objects of an array field ([] when absent); anything else is a fault."""
        raw = d.get(field)
        if raw is None or raw == "":
            return []
        if not isinstance(raw, list):
            raise self.fault(field, f"must be a list of objects, got {type(raw).__name__}")
        for i, item in enumerate(raw):
            if not isinstance(item, dict):
                raise self.fault(f"{field}[{i}]", f"must be an object, got {json.dumps(item)[:40]}")
        return raw

    def obj(self, d: dict[str, Any], field: str) -> dict[str, Any] | None:
        raw = d.get(field)
        if raw is None or raw == "" or raw == {}:
            return None
        if not isinstance(raw, dict):
            raise self.fault(field, f"must be an object, got {json.dumps(raw)[:40]}")
        return raw


def identifier(d: dict[str, Any], out: Out, field: str = "id") -> str | None:
    """The record's id as clean text (None when absent)."""
    raw = d.get(field)
    if raw is None:
        return None
    if isinstance(raw, (dict, list, bool)):
        raise out.fault(field, f"must be a string id, got {json.dumps(raw)[:40]}")
    return clean_plain(raw)
