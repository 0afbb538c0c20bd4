"""Reading an HSDS 3.0 Tabular Data Package: `datapackage.json` plus one CSV per object.

The package's rows are joined on their foreign-key id columns and assembled into the nested
objects of the HSDS 3.0 JSON examples (`service_full.json`, `organization_full.json`), so that
the mapper sees the same dicts whichever serialisation a council publishes:

- a **service** carries its `phones`, `schedules`, `service_areas`, `service_at_locations`
  (each with its `location` object, the location with its `addresses`, `accessibility`,
  `phones`, `schedules`, `languages`, `contacts`), `languages`, `organization` (with its
  `funding`, `contacts`, `phones`, `locations`, `programs`, `organization_identifiers`, but
  not its services), `funding`, `cost_options`, `program`, `required_documents`, `contacts`
  (with their `phones`), `attributes` (each with its `taxonomy_term`, the term with its
  `taxonomy_detail`) and `metadata`;
- the foreign-key columns that the nesting expresses (`service_id`, `location_id`,
  `organization_id`, `link_id`, `taxonomy_id`, ...) are left out of the nested objects, as in
  the JSON examples; self references (`parent_organization_id`, `parent_id`) stay;
- `attributes` (by `link_id`) and `metadata` (by `resource_id`) attach to whatever object has
  that id.

Items come out in this order: every service (`Item("service", ..., "<dir>/services.csv row N")`),
then organisations that no service names, locations that neither a service nor an
organisation reaches, every taxonomy (with its terms), and terms whose taxonomy is not in the
package. The mapper writes shared nodes once, so repeats cost nothing. Nested objects are
built once per row and shared between the items that contain them: treat items as read-only.

Values: columns typed `number`/`integer`/`boolean` in the package's Table Schema become
Python numbers and booleans (a value that does not parse is passed through as text, so that
the mapper reports it against the record); everything else stays text; empty cells (the
schema's `missingValues`, by default `""`) are left out. Columns the schema does not declare
(the ORUK profile adds `term`, `service_area`, `accessibility`) are kept as text.

File names come from `datapackage.json`, so both the HSDS 3.0 names (`schedules.csv`,
`addresses.csv`) and the ORUK 3.0 profile's singular ones (`schedule.csv`, `address.csv`,
`attribute.csv`) work; resource names may be singular or plural.

Problems with the package as a whole raise `IngestError` naming the file (and the row and
column where there is one): no or invalid `datapackage.json`, a CSV it names that is
missing, text that is not UTF-8, a row with more or fewer cells than the header. A foreign
key that points at no row is not an error: the child is simply not attached (HSDS packages
are often extracts). Row numbers count the header as row 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from localoffer.errors import IngestError

from .records import Item

# Canonical object names (HSDS 3.0 and 3.1), and the other spellings seen in packages.
OBJECTS = ("organization", "program", "service", "attribute", "service_at_location", "location",
           "phone", "contact", "address", "schedule", "funding", "service_area", "required_document",
           "language", "accessibility", "taxonomy_term", "metadata", "meta_table_description",
           "cost_option", "organization_identifier", "taxonomy", "url", "service_capacity", "unit")
_ALIASES = {"organizations": "organization", "programs": "program", "services": "service",
            "attributes": "attribute", "service_at_locations": "service_at_location",
            "locations": "location", "phones": "phone", "contacts": "contact",
            "addresses": "address", "schedules": "schedule", "fundings": "funding",
            "service_areas": "service_area", "required_documents": "required_document",
            "languages": "language", "accessibilities": "accessibility",
            "accessibility_for_disabilities": "accessibility", "taxonomy_terms": "taxonomy_term",
            "metadatas": "metadata", "meta_table_descriptions": "meta_table_description",
            "cost_options": "cost_option", "organization_identifiers": "organization_identifier",
            "taxonomies": "taxonomy", "urls": "url", "service_capacities": "service_capacity",
            "units": "unit"}

# What each object nests, in the order of the HSDS 3.0 JSON examples. A `many` entry is
# (key, child object, the child's column holding this object's id); a `one` entry is
# (key, referenced object, this object's column holding its id).
_MANY, _ONE = "many", "one"
_NESTING: dict[str, list[tuple[str, str, str, str]]] = {
    "service": [
        (_MANY, "phones", "phone", "service_id"),
        (_MANY, "schedules", "schedule", "service_id"),
        (_MANY, "service_areas", "service_area", "service_id"),
        (_MANY, "service_at_locations", "service_at_location", "service_id"),
        (_MANY, "languages", "language", "service_id"),
        (_ONE, "organization", "organization", "organization_id"),
        (_MANY, "funding", "funding", "service_id"),
        (_MANY, "cost_options", "cost_option", "service_id"),
        (_ONE, "program", "program", "program_id"),
        (_MANY, "required_documents", "required_document", "service_id"),
        (_MANY, "contacts", "contact", "service_id"),
        (_MANY, "additional_urls", "url", "service_id"),
        (_MANY, "capacities", "service_capacity", "service_id"),
    ],
    "organization": [
        (_MANY, "funding", "funding", "organization_id"),
        (_MANY, "contacts", "contact", "organization_id"),
        (_MANY, "phones", "phone", "organization_id"),
        (_MANY, "locations", "location", "organization_id"),
        (_MANY, "programs", "program", "organization_id"),
        (_MANY, "organization_identifiers", "organization_identifier", "organization_id"),
        (_MANY, "additional_websites", "url", "organization_id"),
    ],
    "service_at_location": [
        (_MANY, "contacts", "contact", "service_at_location_id"),
        (_MANY, "phones", "phone", "service_at_location_id"),
        (_MANY, "schedules", "schedule", "service_at_location_id"),
        (_MANY, "service_areas", "service_area", "service_at_location_id"),
        (_ONE, "location", "location", "location_id"),
    ],
    "location": [
        (_MANY, "languages", "language", "location_id"),
        (_MANY, "addresses", "address", "location_id"),
        (_MANY, "contacts", "contact", "location_id"),
        (_MANY, "accessibility", "accessibility", "location_id"),
        (_MANY, "phones", "phone", "location_id"),
        (_MANY, "schedules", "schedule", "location_id"),
    ],
    "contact": [(_MANY, "phones", "phone", "contact_id")],
    "phone": [(_MANY, "languages", "language", "phone_id")],
    "attribute": [(_ONE, "taxonomy_term", "taxonomy_term", "taxonomy_term_id")],
    "taxonomy_term": [(_ONE, "taxonomy_detail", "taxonomy", "taxonomy_id")],
    "service_capacity": [(_ONE, "unit", "unit", "unit_id")],
}
# Foreign-key columns that the nesting expresses; the JSON examples leave them out.
_LINK_COLUMNS: dict[str, frozenset[str]] = {
    "service": frozenset({"organization_id", "program_id"}),
    "service_at_location": frozenset({"service_id", "location_id"}),
    "location": frozenset({"organization_id"}),
    "phone": frozenset({"location_id", "service_id", "organization_id", "contact_id",
                        "service_at_location_id"}),
    "contact": frozenset({"organization_id", "service_id", "service_at_location_id", "location_id"}),
    "address": frozenset({"location_id"}),
    "schedule": frozenset({"service_id", "location_id", "service_at_location_id"}),
    "service_area": frozenset({"service_id", "service_at_location_id"}),
    "language": frozenset({"service_id", "location_id", "phone_id"}),
    "funding": frozenset({"organization_id", "service_id"}),
    "cost_option": frozenset({"service_id"}),
    "program": frozenset({"organization_id"}),
    "required_document": frozenset({"service_id"}),
    "accessibility": frozenset({"location_id"}),
    "taxonomy_term": frozenset({"taxonomy_id"}),
    "attribute": frozenset({"link_id", "taxonomy_term_id"}),
    "metadata": frozenset({"resource_id"}),
    "organization_identifier": frozenset({"organization_id"}),
    "url": frozenset({"organization_id", "service_id"}),
    "service_capacity": frozenset({"service_id", "unit_id"}),
}
_NO_ANNOTATIONS = frozenset({"attribute", "metadata", "meta_table_description"})
_INTEGER = re.compile(r"^[+-]?\d+$")
_TRUE = ("true", "True", "TRUE", "1")
_FALSE = ("false", "False", "FALSE", "0")


@dataclass
class _Table:
    """The rows of one resource, with the file and the row number each came from."""

    name: str
    path: Path
    rows: list[dict[str, Any]] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)


def read_tabular(folder: Path, hasher: Any) -> Iterator[Item]:
    """Items for the services (and unreferenced organisations, locations, taxonomies) of
    the HSDS Tabular Data Package in *folder*. Every byte read goes into *hasher*."""
    folder = Path(folder)
    if folder.name == "datapackage.json":
        folder = folder.parent
    tables = _read_package(folder, hasher)
    yield from _Assembler(tables).items()


# -- reading -------------------------------------------------------------------------------
def _read_package(folder: Path, hasher: Any) -> dict[str, _Table]:
    if not folder.is_dir():
        raise IngestError(f"{folder}: no such folder; expected an HSDS Tabular Data Package "
                          "(a folder with datapackage.json and CSV files)")
    descriptor = folder / "datapackage.json"
    try:
        body = descriptor.read_bytes()
    except FileNotFoundError:
        raise IngestError(f"{descriptor}: missing; an HSDS Tabular Data Package needs its "
                          "datapackage.json (use the one from openreferral/specification, or "
                          "OpenReferralUK/uk-profile for the ORUK file names)") from None
    except OSError as exc:
        raise IngestError(f"{descriptor}: cannot read ({exc.strerror})") from None
    hasher.update(body)
    try:
        package = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise IngestError(f"{descriptor}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise IngestError(f"{descriptor}: invalid JSON at line {exc.lineno}, column {exc.colno}: "
                          f"{exc.msg}") from None
    resources = package.get("resources") if isinstance(package, dict) else None
    if not isinstance(resources, list) or not resources:
        raise IngestError(f"{descriptor}: has no 'resources' list; expected one resource per CSV "
                          "(organizations.csv, services.csv, ...)")
    tables: dict[str, _Table] = {}
    for i, res in enumerate(resources):
        if not isinstance(res, dict):
            raise IngestError(f"{descriptor}: resources[{i}] must be an object with a name and a path")
        name = str(res.get("name") or "").strip()
        path = res.get("path")
        if not isinstance(path, str) or not path.strip():
            raise IngestError(f"{descriptor}: resource {name or i!r} has no path; expected a CSV "
                              "file name such as services.csv")
        csv_path = _local_path(folder, descriptor, name, path)
        obj = _canonical(name or PurePosixPath(path).stem)
        table = _read_csv(csv_path, name or path, res, hasher)
        if obj is None:
            continue  # a resource HSDS does not define: read (and hashed) but not used
        if obj in tables:
            raise IngestError(f"{descriptor}: resources {tables[obj].name!r} and {name!r} are both "
                              f"'{obj}' tables; a package has one file per object")
        table.name = name or obj
        tables[obj] = table
    if "service" not in tables and "organization" not in tables:
        raise IngestError(f"{descriptor}: lists neither a service nor an organization resource; "
                          "expected services.csv and organizations.csv at least")
    return tables


def _canonical(name: str) -> str | None:
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    key = _ALIASES.get(key, key)
    return key if key in OBJECTS else None


def _local_path(folder: Path, descriptor: Path, name: str, path: str) -> Path:
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", path):
        raise IngestError(f"{descriptor}: resource {name!r} is remote ({path}); only CSV files "
                          "inside the package folder are read")
    rel = PurePosixPath(path.replace("\\", "/"))
    if rel.is_absolute() or ".." in rel.parts:
        raise IngestError(f"{descriptor}: resource {name!r} path {path!r} points outside the "
                          "package folder")
    return folder.joinpath(*rel.parts)


def _read_csv(path: Path, resource: str, res: dict[str, Any], hasher: Any) -> _Table:
    try:
        body = path.read_bytes()
    except FileNotFoundError:
        raise IngestError(f"{path}: missing; datapackage.json names it as resource "
                          f"{resource!r}") from None
    except IsADirectoryError:
        raise IngestError(f"{path}: is a folder; datapackage.json names it as the CSV of "
                          f"resource {resource!r}") from None
    except OSError as exc:
        raise IngestError(f"{path}: cannot read ({exc.strerror})") from None
    hasher.update(body)
    encoding = str(res.get("encoding") or "utf-8").lower().replace("_", "-")
    if encoding in ("utf-8", "utf8"):
        encoding = "utf-8-sig"
    try:
        text = body.decode(encoding)
    except LookupError:
        raise IngestError(f"{path}: unknown encoding {res.get('encoding')!r} in datapackage.json") from None
    except UnicodeDecodeError as exc:
        line = body[:exc.start].count(b"\n") + 1
        raise IngestError(f"{path}: not {res.get('encoding') or 'UTF-8'} text (byte {exc.start}, "
                          f"line {line}); save the file as UTF-8 CSV") from None
    # "\r\r\n" is CRLF converted twice (the ORUK examples have it); it is one line end
    text = text.replace("\r\r\n", "\r\n")
    schema = res.get("schema") if isinstance(res.get("schema"), dict) else {}
    fields = {f["name"]: f for f in schema.get("fields") or [] if isinstance(f, dict) and f.get("name")}
    missing = schema.get("missingValues", [""])
    missing = set(missing) if isinstance(missing, list) else {""}
    dialect = res.get("dialect") if isinstance(res.get("dialect"), dict) else {}
    reader = csv.reader(io.StringIO(text, newline=""),
                        delimiter=str(dialect.get("delimiter") or ","),
                        quotechar=str(dialect.get("quoteChar") or '"'),
                        skipinitialspace=bool(dialect.get("skipInitialSpace", False)))
    table = _Table(resource, path)
    header: list[str] | None = None
    row_number = 0
    try:
        for cells in reader:
            row_number += 1
            if header is None:
                header = [c.strip() for c in cells]
                _check_header(path, header)
                continue
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # a blank line
            table.rows.append(_row(path, row_number, header, cells, fields, missing))
            table.numbers.append(row_number)
    except csv.Error as exc:
        raise IngestError(f"{path} row {row_number + 1}: not valid CSV ({exc})") from None
    if header is None:
        raise IngestError(f"{path}: is empty; expected a header row naming the {resource} columns")
    return table


def _check_header(path: Path, header: list[str]) -> None:
    seen: set[str] = set()
    for i, name in enumerate(header):
        if not name:
            raise IngestError(f"{path} row 1: column {i + 1} has no name; the first row must "
                              "name every column")
        if name in seen:
            raise IngestError(f"{path} row 1: column {name!r} appears twice")
        seen.add(name)


def _row(path: Path, number: int, header: list[str], cells: list[str],
         fields: dict[str, dict[str, Any]], missing: set[str]) -> dict[str, Any]:
    if len(cells) != len(header):
        extra = cells[len(header):]
        if len(cells) < len(header) or any(c.strip() for c in extra):
            if len(cells) < len(header):
                where = (f"no cells for column(s) {', '.join(header[len(cells):][:5])}"
                         f"{' ...' if len(header) - len(cells) > 5 else ''}")
            else:
                where = (f"{len(extra)} cell(s) after the last column {header[-1]!r}, starting "
                         f"with {extra[0][:40]!r}")
            raise IngestError(f"{path} row {number}: {len(cells)} cells but the header has "
                              f"{len(header)} columns — {where}; is a comma or quote unescaped?")
    row: dict[str, Any] = {}
    for name, raw in zip(header, cells, strict=False):
        if raw in missing or not raw.strip():
            continue
        row[name] = _value(raw, fields.get(name))
    return row


def _value(raw: str, spec: dict[str, Any] | None) -> Any:
    """A cell as its Table Schema type; text that does not parse is passed through."""
    kind = (spec or {}).get("type", "string")
    text = raw.strip()
    if kind in ("number", "integer"):
        if _INTEGER.match(text):
            return int(text)
        if kind == "number":
            try:
                number = float(text)
            except ValueError:
                return raw
            return number if math.isfinite(number) else raw
        return raw
    if kind == "boolean":
        trues = spec.get("trueValues", _TRUE) if spec else _TRUE
        falses = spec.get("falseValues", _FALSE) if spec else _FALSE
        if text in trues:
            return True
        if text in falses:
            return False
        return raw
    return raw


# -- assembling ----------------------------------------------------------------------------
class _Assembler:
    """Joins the tables into nested HSDS 3.0 objects."""

    def __init__(self, tables: dict[str, _Table]) -> None:
        self.tables = tables
        self.by_id: dict[str, dict[str, dict[str, Any]]] = {}
        for name, table in tables.items():
            index: dict[str, dict[str, Any]] = {}
            for row in table.rows:
                key = _key(row.get("id"))
                if key is not None:
                    index.setdefault(key, row)
            self.by_id[name] = index
        self._children: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}
        self._built: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}  # id(row) -> (row, object)

    def children(self, table: str, column: str, parent_id: Any) -> list[dict[str, Any]]:
        key = _key(parent_id)
        if key is None or table not in self.tables:
            return []
        index = self._children.get((table, column))
        if index is None:
            index = {}
            for row in self.tables[table].rows:
                ref = _key(row.get(column))
                if ref is not None:
                    index.setdefault(ref, []).append(row)
            self._children[(table, column)] = index
        return index.get(key, [])

    def build(self, kind: str, row: dict[str, Any]) -> dict[str, Any]:
        """The nested object for *row* of table *kind*. Built once per row: an organisation
        or location that many services share is the same dict in each (read-only for the
        consumers), which keeps large packages linear."""
        done = self._built.get(id(row))
        if done is not None and done[0] is row:
            return done[1]
        out = self._build(kind, row)
        self._built[id(row)] = (row, out)  # the row is kept alive so that its id stays its own
        return out

    def _build(self, kind: str, row: dict[str, Any]) -> dict[str, Any]:
        links = _LINK_COLUMNS.get(kind, frozenset())
        out = {k: v for k, v in row.items() if k not in links}
        ident = row.get("id")
        for how, key, table, column in _NESTING.get(kind, []):
            if how == _MANY:
                kids = [self.build(table, r) for r in self.children(table, column, ident)]
                if kids:
                    out[key] = kids
            else:
                target = self.by_id.get(table, {}).get(_key(row.get(column)) or "")
                if target is not None:
                    out[key] = self.build(table, target)
        if kind not in _NO_ANNOTATIONS and ident not in (None, ""):
            attrs = [self.build("attribute", r) for r in self.children("attribute", "link_id", ident)]
            if attrs:
                out["attributes"] = attrs
            meta = [self.build("metadata", r) for r in self.children("metadata", "resource_id", ident)]
            if meta:
                out["metadata"] = meta
        return out

    def items(self) -> Iterator[Item]:
        services = self.tables.get("service")
        used_orgs: set[str] = set()
        reached_locations: set[str] = set()
        if services:
            for row, number in zip(services.rows, services.numbers, strict=True):
                org = _key(row.get("organization_id"))
                if org is not None and org in self.by_id.get("organization", {}):
                    used_orgs.add(org)
                for sal in self.children("service_at_location", "service_id", row.get("id")):
                    loc = _key(sal.get("location_id"))
                    if loc is not None:
                        reached_locations.add(loc)
                yield Item("service", self.build("service", row), f"{services.path} row {number}")
        orgs = self.tables.get("organization")
        known_orgs = self.by_id.get("organization", {})
        if orgs:
            for row, number in zip(orgs.rows, orgs.numbers, strict=True):
                key = _key(row.get("id"))
                if key is not None and key in used_orgs:
                    continue
                yield Item("organization", self.build("organization", row),
                           f"{orgs.path} row {number}")
        locations = self.tables.get("location")
        if locations:
            for row, number in zip(locations.rows, locations.numbers, strict=True):
                key = _key(row.get("id"))
                if key is not None and (key in reached_locations
                                        or _key(row.get("organization_id")) in known_orgs):
                    continue
                yield Item("location", self.build("location", row), f"{locations.path} row {number}")
        taxonomies = self.tables.get("taxonomy")
        known_taxonomies = self.by_id.get("taxonomy", {})
        if taxonomies:
            for row, number in zip(taxonomies.rows, taxonomies.numbers, strict=True):
                tax = dict(self.build("taxonomy", row))  # built objects are shared: copy
                terms = [self.build("taxonomy_term", {k: v for k, v in t.items() if k != "taxonomy_id"})
                         for t in self.children("taxonomy_term", "taxonomy_id", row.get("id"))]
                if terms:
                    tax["taxonomy_terms"] = terms
                yield Item("taxonomy", tax, f"{taxonomies.path} row {number}")
        terms_table = self.tables.get("taxonomy_term")
        if terms_table:
            for row, number in zip(terms_table.rows, terms_table.numbers, strict=True):
                if _key(row.get("taxonomy_id")) in known_taxonomies:
                    continue  # written with its taxonomy
                yield Item("taxonomy_term", self.build("taxonomy_term", row),
                           f"{terms_table.path} row {number}")


def _key(value: Any) -> str | None:
    """Ids compare as trimmed, case-insensitive text (UUIDs are spelt both ways)."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip().lower()
    return text or None
