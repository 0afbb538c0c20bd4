"""Canned ("stored") queries: the `queries/*.rq` files with their metadata header, and the safe
binding of their parameters.

A canned query starts with comment lines::

    # title: Services per need area and authority
    # description: How many services each authority lists for each broad area of need.
    # param: authority authority *
    # param: min_age integer 16

`# param: NAME TYPE DEFAULT` declares the variable `?NAME`. A value given by a user is parsed by
its type and written as an RDF term by pyoxigraph (which escapes it), then bound with a
`VALUES` block placed at the start of the query's outermost `WHERE` group; the query text is
never pasted together with user input. The default `*` (or an empty value) leaves the
variable unconstrained (`UNDEF`)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

import pyoxigraph as ox

from localoffer import namespaces as ns
from localoffer.errors import NotFoundError, QueryError
from localoffer.resources import data_files

ANY = "*"
TYPES = ("string", "integer", "decimal", "boolean", "date", "iri", "authority", "concept")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HEADER = re.compile(r"^#\s*(title|description|param)\s*:\s*(.*)$")
_CONCEPT = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# Tokens that may hide the WHERE keyword or braces: comments, strings, IRIs.
_SKIP = re.compile(r'#[^\n]*|"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
                   r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\x00-\x20]*>')


@dataclass(frozen=True)
class Param:
    """One declared parameter: the variable name, its type and its default."""

    name: str
    type: str
    default: str = ANY

    @property
    def scheme(self) -> str | None:
        """For `concept:SCHEME` parameters, the scheme's name."""
        return self.type.split(":", 1)[1] if self.type.startswith("concept:") else None

    def describe(self) -> str:
        """What a user may give, in a few words."""
        hints = {"string": "text", "integer": "a whole number", "decimal": "a number",
                 "boolean": "true or false", "date": "a date such as 2024-01-31",
                 "iri": "an absolute IRI (https://...)", "authority": "an ONS GSS code such as E06000023"}
        if self.scheme:
            return f"a concept of the {self.scheme} scheme, such as its last IRI segment"
        return hints.get(self.type, self.type)


@dataclass(frozen=True)
class CannedQuery:
    """A query file: its name (the file name without .rq), header and text."""

    name: str
    title: str
    description: str
    text: str
    params: tuple[Param, ...] = field(default_factory=tuple)


def parse_query_file(name: str, text: str) -> CannedQuery:
    """Read the header of a `.rq` file; a malformed header names the file and line."""
    title = description = ""
    params: list[Param] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped.startswith("#"):
            if stripped:
                break
            continue
        m = _HEADER.match(stripped)
        if not m:
            continue
        key, value = m.group(1), m.group(2).strip()
        if key == "title":
            title = value
        elif key == "description":
            description = f"{description} {value}".strip()
        else:
            parts = value.split()
            if len(parts) not in (2, 3) or not _VAR.match(parts[0]) or not _valid_type(parts[1]):
                raise QueryError(f"queries/{name}.rq line {number}: a parameter is declared as "
                                 f"'# param: NAME TYPE [DEFAULT]' with TYPE one of {', '.join(TYPES)} "
                                 f"(concept as concept:SCHEME); got {value!r}")
            params.append(Param(parts[0], parts[1], parts[2] if len(parts) == 3 else ANY))
    if not title:
        raise QueryError(f"queries/{name}.rq: the file must start with a '# title:' line")
    return CannedQuery(name, title, description, text, tuple(params))


def _valid_type(kind: str) -> bool:
    if kind.startswith("concept:"):
        return bool(_CONCEPT.match(kind.split(":", 1)[1]))
    return kind in TYPES and kind != "concept"


def load_queries() -> dict[str, CannedQuery]:
    """Every canned query shipped in the queries folder, by name."""
    found: dict[str, CannedQuery] = {}
    for entry in data_files("queries", ".rq"):
        name = entry.name[: -len(".rq")]
        if _NAME.match(name):
            found[name] = parse_query_file(name, entry.read_text(encoding="utf-8"))
    return found


def get_query(name: str) -> CannedQuery:
    """The canned query *name*, or NotFoundError listing the names there are."""
    queries = load_queries()
    if name not in queries:
        raise NotFoundError(f"there is no canned query {name!r}; choose one of {', '.join(sorted(queries))}")
    return queries[name]


def parse_value(param: Param, raw: str, base: str) -> ox.NamedNode | ox.Literal | None:
    """A user's value as an RDF term (None: unconstrained), checked against the type."""
    text = raw.strip()
    if text in ("", ANY):
        return None
    where = f"parameter {param.name!r}"
    xsd = ns.XSD
    try:
        if param.type == "string":
            return ox.Literal(raw)  # as given: spaces and line breaks are part of a string
        if param.type == "integer":
            return ox.Literal(str(int(text)), datatype=ox.NamedNode(xsd + "integer"))
        if param.type == "decimal":
            value = Decimal(text)
            if not value.is_finite():
                raise ValueError(text)
            return ox.Literal(format(value, "f"), datatype=ox.NamedNode(xsd + "decimal"))
        if param.type == "boolean":
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return ox.Literal(str(text.lower() in ("true", "1", "yes")).lower(),
                              datatype=ox.NamedNode(xsd + "boolean"))
        if param.type == "date":
            return ox.Literal(dt.date.fromisoformat(text).isoformat(), datatype=ox.NamedNode(xsd + "date"))
        if param.type == "authority":
            code = text.upper()
            if not ns.GSS_CODE.match(code):
                raise ValueError(text)
            return ox.NamedNode(ns.authority_iri(base, code))
        if param.type == "iri":
            if not re.match(r"^https?://", text):
                raise ValueError(text)
            return ox.NamedNode(text)
        if param.scheme:
            scheme = f"{ns.SCHEME}{param.scheme}/"
            if text.startswith(scheme):
                text = text[len(scheme):]
            if not _CONCEPT.match(text):
                raise ValueError(text)
            return ox.NamedNode(scheme + text)
    except (ValueError, InvalidOperation):
        raise QueryError(f"{where} must be {param.describe()}; got {raw!r}") from None
    raise QueryError(f"{where} has an unknown type {param.type!r}")


def where_brace(text: str) -> int:
    """The index just after the `{` that opens the outermost WHERE group."""
    pos, seen_where = 0, False
    while pos < len(text):
        skip = _SKIP.match(text, pos)
        if skip:
            pos = skip.end()
            continue
        if not seen_where and re.match(r"(?i)WHERE\b", text[pos:pos + 6]) and \
                (pos == 0 or not (text[pos - 1].isalnum() or text[pos - 1] in "_?$:")):
            seen_where = True
            pos += 5
            continue
        if seen_where and text[pos] == "{":
            return pos + 1
        pos += 1
    raise QueryError("a canned query needs a WHERE clause to bind its parameters in")


def bind(query: CannedQuery, values: Mapping[str, str], base: str) -> str:
    """The query text with the parameters bound by a VALUES block (defaults for missing ones);
    unknown parameter names are refused."""
    declared = {p.name: p for p in query.params}
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise QueryError(f"the query {query.name!r} has no parameter {', '.join(map(repr, unknown))}; "
                         f"it takes {', '.join(declared) or 'none'}")
    if not query.params:
        return query.text
    terms = [parse_value(p, values.get(p.name, p.default), base) for p in query.params]
    variables = " ".join(f"?{p.name}" for p in query.params)
    row = " ".join("UNDEF" if t is None else str(t) for t in terms)
    at = where_brace(query.text)
    return f"{query.text[:at]}\n  VALUES ({variables}) {{ ({row}) }}\n{query.text[at:]}"


def execute_canned(store: Any, name: str, values: Mapping[str, str], base: str) -> Any:
    """Run the canned query *name* with *values*; the pyoxigraph result object."""
    from localoffer.querying import execute

    return execute(store, bind(get_query(name), values, base))


def run_canned(store: Any, name: str, values: Mapping[str, str], base: str, fmt: str,
               out: IO[bytes]) -> None:
    """What `localoffer query --name NAME --param k=v` does: bind, run, write in *fmt*."""
    from localoffer.querying import run_query

    run_query(store, bind(get_query(name), values, base), fmt, out)


def parse_assignments(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """`["k=v", ...]` from the command line as a dict; a pair without '=' is an error."""
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise QueryError(f"--param takes NAME=VALUE; got {pair!r}")
        values[key.strip()] = value
    return values
