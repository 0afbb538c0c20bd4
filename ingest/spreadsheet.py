r"""Reading a council's own spreadsheet (CSV or XLSX) through a column-mapping file.

A mapping file is JSON. It says which column feeds which field of an HSDS 3.0 service (plus
the SEND Local Offer fields under `lo_send`). With no mapping file the Outpost template's
mapping is used (`columns/outpost.json`, shipped with the package: a complete example).

    {
      "format": "localoffer-columns/1",
      "title": "Anytown Local Offer sheet",          (optional; also "about", "comment")
      "encoding": "utf-8",          (CSV only; e.g. "cp1252" for old Excel exports)
      "sheet": "Services",          (XLSX only; default: the first sheet)
      "row_id": "Ref",              (optional: the column that numbers rows ...)
      "parent": "Parent ref",       (... and the column of a continuation row that names its
                                     service's row_id; see "repeat")
      "service": {                  (one service per main row: field path -> column)
        "id": "Ref",                               (required: every service needs an id)
        "name": "Service name",
        "minimum_age": "Min age",
        "organization.id": {"column": "Provider", "derive": "slug"},
        "organization.name": "Provider",
        "service_at_locations.0.location.addresses.0.postal_code": "Postcode",
        "attributes[].taxonomy_term.name": {"column": "Categories", "split": ";"},
        "lo_send.is_local_offer": "Local Offer?",
        "lo_send.suitabilities": {"column": "Suitable for", "split": ";"}
      },
      "repeat": [                   (optional: lists that main AND continuation rows add to)
        {"path": "contacts",
         "rows": "all",             ("all", the default, or "main")
         "when_any": ["Contact name", "Contact email"],   (element made only if one is filled;
                                                           default: any column of "fields")
         "when_all": [...],         (... and all of these are filled)
         "when_true": "Contact public?",                  (... and this one is TRUE/yes/1)
         "when_match": {"Opens": "^\\d{1,2}:\\d{2}"},    (... and these match a pattern)
         "fields": {"name": "Contact name", "phones.0.number": "Contact phone"}}
      ],
      "ignore": ["Notes", "Internal *"]     (columns left out on purpose; * and ? wildcards)
    }

Field paths are the HSDS 3.0 JSON field names (as in the spec's service_full.json) joined
with dots; a number selects a list element (`contacts.0.name`), and `name[]` makes one list
element per value of a split column (`attributes[].taxonomy_term.name`: one attribute per
category; two paths over the same split column fill the same elements). The SEND fields
are `lo_send.is_local_offer`, `needs_referral` (TRUE/FALSE), `send_needs` and
`suitabilities` (lists), and the Local Offer answers `send_needs_support`,
`support_description`, `recent_send_report`, `outcomes`, `recent_send_training`,
`parental_involvement`, `information_sharing`, `environment_accessibility`, `how_to_start`,
`future_plans` (text).

A column is given by its header text (matched ignoring case and surrounding spaces), or as
an object: `{"column": ..., "split": ";", "map": {"yes": "active"}, "default": "active",
"derive": "slug", "unless": "Hide address?"}`: `split` makes a list; `map` translates
values (matched ignoring case; unmatched values pass unchanged); `default` is used when the
cell is empty; `derive: "slug"` turns text into an id ("TPX Impact" -> "tpx-impact", so that
rows naming the same provider share one organisation); `unless` leaves the field out when
the named column is TRUE. `{"value": "GB"}` is a constant. It is always written when its
path goes through no list (`lo_send.is_local_offer`); inside a list element it is only
written into an object the row's columns have already created (so
`service_at_locations.0.location.addresses.0.country` needs a row with some address).

Values are passed as text (the mapper parses numbers, dates and TRUE/FALSE and reports bad
ones against the record). Empty cells are absent. Continuation rows (a `parent` value) add
only to `repeat` lists; their other cells are not read. Columns that are neither mapped nor
ignored are left out too, with one warning naming them. A column the mapping names but the
sheet lacks is an error, as are a continuation row whose parent is not a main row, a row
with more cells than the header, and text that is not in the mapping's encoding.

The checksum (*hasher*) covers the spreadsheet's bytes only, so it matches `sha256sum` of
the file; the mapping is configuration, not input.
"""

from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import hashlib
import io
import json
import logging
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from localoffer.errors import IngestError

from .records import Item

log = logging.getLogger(__name__)

FORMAT = "localoffer-columns/1"
_TOP_KEYS = {"format", "title", "about", "comment", "encoding", "sheet", "row_id", "parent",
             "service", "repeat", "ignore"}
_GROUP_KEYS = {"path", "rows", "when_any", "when_all", "when_true", "when_match", "fields", "comment"}
_SPEC_KEYS = {"column", "split", "map", "default", "value", "derive", "unless"}
_SEGMENT = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*(?:\[\])?|\d+)$")
_TRUE = {"true", "yes", "y", "1"}
_XLSX_MAGIC = b"PK\x03\x04"


# -- the mapping file ----------------------------------------------------------------------
@dataclass
class Spec:
    """How one field is filled: from a column (maybe split, mapped, derived) or a constant."""

    path: str
    column: str | None = None
    split: str | None = None
    mapping: dict[str, str] | None = None
    default: Any = None
    value: Any = None
    derive: str | None = None
    unless: str | None = None


@dataclass
class Group:
    """A list that each row (main or continuation) may add one element to."""

    path: str
    fields: list[Spec]
    rows: str = "all"
    when_any: list[str] = field(default_factory=list)
    when_all: list[str] = field(default_factory=list)
    when_true: str | None = None
    when_match: dict[str, re.Pattern[str]] = field(default_factory=dict)


@dataclass
class ColumnMapping:
    """A parsed mapping file."""

    where: str
    service: list[Spec]
    repeat: list[Group]
    row_id: str | None = None
    parent: str | None = None
    encoding: str = "utf-8"
    sheet: str | None = None
    ignore: list[str] = field(default_factory=list)

    def columns(self) -> list[str]:
        """Every column the mapping reads, in the order it names them."""
        names: list[str] = []
        for name in (self.row_id, self.parent):
            if name:
                names.append(name)
        for spec in self.service + [s for g in self.repeat for s in g.fields]:
            names += [c for c in (spec.column, spec.unless) if c]
        for g in self.repeat:
            names += g.when_any + g.when_all + ([g.when_true] if g.when_true else []) + list(g.when_match)
        return list(dict.fromkeys(names))


def load_mapping(path: Path | None) -> ColumnMapping:
    """Parse a mapping file (the Outpost template's when *path* is None)."""
    if path is None:
        ref = resources.files("localoffer.ingest") / "columns" / "outpost.json"
        where, body = "the built-in Outpost mapping (columns/outpost.json)", ref.read_bytes()
    else:
        where = str(path)
        try:
            body = Path(path).read_bytes()
        except FileNotFoundError:
            raise IngestError(f"{path}: no such mapping file") from None
        except OSError as exc:
            raise IngestError(f"{path}: cannot read the mapping file ({exc.strerror})") from None
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise IngestError(f"{where}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise IngestError(f"{where}: invalid JSON at line {exc.lineno}, column {exc.colno}: "
                          f"{exc.msg}") from None
    return parse_mapping(doc, where)


def parse_mapping(doc: Any, where: str) -> ColumnMapping:
    """Check and parse a mapping document; faults name the key."""
    if not isinstance(doc, dict):
        raise IngestError(f"{where}: a column mapping must be a JSON object with a 'service' object")
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise IngestError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; a mapping has "
                          f"{', '.join(sorted(_TOP_KEYS))}")
    if doc.get("format", FORMAT) != FORMAT:
        raise IngestError(f"{where}: format {doc.get('format')!r} is not {FORMAT!r}")
    service = doc.get("service")
    if not isinstance(service, dict) or not service:
        raise IngestError(f"{where}: 'service' must be an object of field path -> column")
    specs = [_spec(where, "service", p, v) for p, v in service.items()]
    if not any(s.path == "id" for s in specs):
        raise IngestError(f"{where}: 'service' must map a column to 'id' (every service needs "
                          'one; without an id column use {"column": "<name column>", "derive": "slug"})')
    groups = []
    repeat = doc.get("repeat", [])
    if not isinstance(repeat, list):
        raise IngestError(f"{where}: 'repeat' must be a list of groups")
    for i, g in enumerate(repeat):
        groups.append(_group(where, f"repeat[{i}]", g))
    row_id, parent = _opt_str(where, doc, "row_id"), _opt_str(where, doc, "parent")
    if parent and not row_id:
        raise IngestError(f"{where}: 'parent' needs 'row_id' (the column continuation rows refer to)")
    ignore = doc.get("ignore", [])
    if not isinstance(ignore, list) or not all(isinstance(x, str) for x in ignore):
        raise IngestError(f"{where}: 'ignore' must be a list of column names")
    encoding = _opt_str(where, doc, "encoding") or "utf-8"
    try:
        "".encode(encoding)
    except LookupError:
        raise IngestError(f"{where}: unknown encoding {encoding!r}") from None
    return ColumnMapping(where, specs, groups, row_id, parent, encoding,
                         _opt_str(where, doc, "sheet"), ignore)


def _opt_str(where: str, doc: dict[str, Any], key: str) -> str | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise IngestError(f"{where}: '{key}' must be a column name (text)")
    return value.strip()


def _spec(where: str, context: str, path: Any, raw: Any) -> Spec:
    label = f"{context} {path!r}"
    if not isinstance(path, str) or not all(_SEGMENT.match(p) for p in path.split(".")):
        raise IngestError(f"{where}: {label}: a field path is names and numbers joined by dots, "
                          "e.g. contacts.0.name or attributes[].taxonomy_term.name")
    if path.count("[]") > 1:
        raise IngestError(f"{where}: {label}: only one [] per path")
    last = path.split(".")[-1]
    if last.isdigit() or last.endswith("[]"):
        raise IngestError(f"{where}: {label}: a field path must end with a field name, e.g. "
                          "contacts.0.name")
    if isinstance(raw, str):
        raw = {"column": raw}
    if not isinstance(raw, dict):
        raise IngestError(f"{where}: {label}: must be a column name or an object with 'column' or 'value'")
    unknown = set(raw) - _SPEC_KEYS
    if unknown:
        raise IngestError(f"{where}: {label}: unknown key(s) {', '.join(sorted(unknown))}; use "
                          f"{', '.join(sorted(_SPEC_KEYS))}")
    column = raw.get("column")
    if ("value" in raw) == (column is not None):
        raise IngestError(f"{where}: {label}: give either 'column' or 'value'")
    if column is not None and (not isinstance(column, str) or not column.strip()):
        raise IngestError(f"{where}: {label}: 'column' must be a column name")
    mapping = raw.get("map")
    if mapping is not None:
        if not isinstance(mapping, dict):
            raise IngestError(f"{where}: {label}: 'map' must be an object of value -> value")
        mapping = {str(k).strip().lower(): v for k, v in mapping.items()}
    if raw.get("derive") not in (None, "slug"):
        raise IngestError(f"{where}: {label}: 'derive' can only be \"slug\"")
    split = raw.get("split")
    if split is not None and (not isinstance(split, str) or not split):
        raise IngestError(f"{where}: {label}: 'split' must be a delimiter such as \";\"")
    if "[]" in path and column is None:
        raise IngestError(f"{where}: {label}: a [] path needs a column to split")
    unless = raw.get("unless")
    if unless is not None and (not isinstance(unless, str) or not unless.strip()):
        raise IngestError(f"{where}: {label}: 'unless' must be a column name")
    return Spec(path, column.strip() if column else None, split, mapping, raw.get("default"),
                raw.get("value"), raw.get("derive"), unless.strip() if unless else None)


def _group(where: str, context: str, raw: Any) -> Group:
    if not isinstance(raw, dict):
        raise IngestError(f"{where}: {context} must be an object with 'path' and 'fields'")
    unknown = set(raw) - _GROUP_KEYS
    if unknown:
        raise IngestError(f"{where}: {context}: unknown key(s) {', '.join(sorted(unknown))}; use "
                          f"{', '.join(sorted(_GROUP_KEYS))}")
    path = raw.get("path")
    if not isinstance(path, str) or not all(_SEGMENT.match(p) and "[]" not in p for p in path.split(".")):
        raise IngestError(f"{where}: {context}: 'path' must name a list field, e.g. contacts")
    fields = raw.get("fields")
    if not isinstance(fields, dict) or not fields:
        raise IngestError(f"{where}: {context}: 'fields' must be an object of field path -> column")
    specs = [_spec(where, f"{context} ({path})", p, v) for p, v in fields.items()]
    rows = raw.get("rows", "all")
    if rows not in ("all", "main"):
        raise IngestError(f"{where}: {context}: 'rows' must be \"all\" or \"main\"")
    lists = {}
    for key in ("when_any", "when_all"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(x, str) and x.strip() for x in value):
            raise IngestError(f"{where}: {context}: '{key}' must be a list of column names")
        lists[key] = [x.strip() for x in value]
    when_true = raw.get("when_true")
    if when_true is not None and (not isinstance(when_true, str) or not when_true.strip()):
        raise IngestError(f"{where}: {context}: 'when_true' must be a column name")
    patterns = {}
    match = raw.get("when_match", {})
    if not isinstance(match, dict):
        raise IngestError(f"{where}: {context}: 'when_match' must be an object of column -> pattern")
    for col, pattern in match.items():
        try:
            patterns[str(col).strip()] = re.compile(str(pattern))
        except re.error as exc:
            raise IngestError(f"{where}: {context}: when_match pattern for {col!r} is not a "
                              f"regular expression ({exc})") from None
    if not lists["when_any"]:
        lists["when_any"] = [s.column for s in specs if s.column]
    return Group(path, specs, rows, lists["when_any"], lists["when_all"],
                 when_true.strip() if when_true else None, patterns)


# -- reading the sheet ---------------------------------------------------------------------
@dataclass
class _Row:
    number: int
    cells: dict[str, str]

    def get(self, column: str | None) -> str:
        return self.cells.get(column, "") if column else ""


def read_spreadsheet(path: Path, mapping: Path | None, hasher: Any) -> Iterator[Item]:
    """Items (services) for the rows of the CSV or XLSX file *path*, read through the
    column mapping *mapping* (the Outpost template's when None)."""
    path = Path(path)
    cmap = load_mapping(mapping)
    try:
        body = path.read_bytes()
    except FileNotFoundError:
        raise IngestError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise IngestError(f"{path}: is a folder; name a .csv or .xlsx file") from None
    except OSError as exc:
        raise IngestError(f"{path}: cannot read ({exc.strerror})") from None
    hasher.update(body)
    suffix = path.suffix.lower()
    if suffix == ".xls" and not body.startswith(_XLSX_MAGIC):
        raise IngestError(f"{path}: old Excel .xls workbooks are not read; save it as .xlsx or CSV")
    if suffix in (".xlsx", ".xlsm") or body.startswith(_XLSX_MAGIC):
        where, header, rows = _xlsx_rows(path, body, cmap)
    else:
        where, header, rows = _csv_rows(path, body, cmap)
    yield from _Sheet(where, header, rows, cmap).items()


def _csv_rows(path: Path, body: bytes, cmap: ColumnMapping) -> tuple[str, list[str], list[_Row]]:
    where = str(path)
    if not body.strip():
        raise IngestError(f"{where}: the file is empty; expected a header row and one row per service")
    encoding = "utf-8-sig" if cmap.encoding.lower().replace("_", "-") in ("utf-8", "utf8") else cmap.encoding
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        line = body[:exc.start].count(b"\n") + 1
        raise IngestError(f"{where}: not {cmap.encoding} text (byte {exc.start}, line {line}); save "
                          "the sheet as 'CSV UTF-8', or set \"encoding\" (e.g. \"cp1252\") in the "
                          "mapping file") from None
    text = text.replace("\r\r\n", "\r\n")  # CRLF converted twice: one line end
    if "\x00" in text:
        raise IngestError(f"{where}: contains NUL bytes; this is not a CSV text file")
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows: list[_Row] = []
    number = 0
    try:
        for cells in reader:
            number += 1
            if header is None:
                header = _header(where, [c for c in cells])
                continue
            row = _make_row(where, number, header, cells)
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        raise IngestError(f"{where} row {number + 1}: not valid CSV ({exc})") from None
    if header is None:
        raise IngestError(f"{where}: the file is empty; expected a header row and one row per service")
    return where, header, rows


def _xlsx_rows(path: Path, body: bytes, cmap: ColumnMapping) -> tuple[str, list[str], list[_Row]]:
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise IngestError(f"{path}: not a readable XLSX workbook ({exc.__class__.__name__}: {exc})") from None
    try:
        if cmap.sheet:
            if cmap.sheet not in wb.sheetnames:
                raise IngestError(f"{path}: no sheet {cmap.sheet!r} (named by {cmap.where}); the "
                                  f"workbook has {', '.join(map(repr, wb.sheetnames))}")
            ws = wb[cmap.sheet]
        else:
            ws = wb.worksheets[0]
        where = f"{path} sheet {ws.title!r}"
        header: list[str] | None = None
        rows: list[_Row] = []
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            if header is None:
                if not any(c.strip() for c in cells):
                    continue  # leading blank rows
                header = _header(where, cells)
                continue
            row = _make_row(where, number, header, cells)
            if row is not None:
                rows.append(row)
    finally:
        wb.close()
    if header is None:
        raise IngestError(f"{where}: the sheet is empty; expected a header row and one row per service")
    return where, header, rows


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _header(where: str, cells: list[str]) -> list[str]:
    header = [c.strip() for c in cells]
    while header and not header[-1]:
        header.pop()
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if name and name.lower() in seen:
            raise IngestError(f"{where} row 1: column {name!r} appears twice (columns "
                              f"{seen[name.lower()] + 1} and {i + 1}); rename one")
        if name:
            seen[name.lower()] = i
    if not header:
        raise IngestError(f"{where}: the first row is empty; it must name the columns")
    return header


def _make_row(where: str, number: int, header: list[str], cells: list[str]) -> _Row | None:
    if not any(c.strip() for c in cells):
        return None  # blank row (also ",,,,")
    extra = [c for c in cells[len(header):] if c.strip()]
    if extra:
        raise IngestError(f"{where} row {number}: {len(cells)} cells but the header has "
                          f"{len(header)} columns; the extra cell after column {header[-1]!r} "
                          f"holds {extra[0][:40]!r} — is a comma or quote unescaped?")
    values = {name: cells[i].strip() for i, name in enumerate(header)
              if name and i < len(cells) and cells[i].strip()}
    return _Row(number, values)


# -- building services ---------------------------------------------------------------------
class _Sheet:
    def __init__(self, where: str, header: list[str], rows: list[_Row], cmap: ColumnMapping) -> None:
        self.where = where
        self.cmap = cmap
        self.rows = rows
        self.column = self._resolve(header)  # the mapping's column names -> header names
        if not rows:
            raise IngestError(f"{where}: has a header row but no data rows")

    def _resolve(self, header: list[str]) -> dict[str, str]:
        exact = {h: h for h in header if h}
        folded: dict[str, str] = {}
        for h in header:
            if h:
                folded.setdefault(h.lower(), h)
        resolved: dict[str, str] = {}
        missing = []
        for name in self.cmap.columns():
            hit = exact.get(name) or folded.get(name.lower())
            if hit is None:
                missing.append(name)
            else:
                resolved[name] = hit
        if missing:
            raise IngestError(
                f"{self.where}: column(s) {', '.join(map(repr, missing))} named by {self.cmap.where} "
                f"are not in the sheet; its columns are {', '.join(map(repr, [h for h in header if h]))}")
        used = {h.lower() for h in resolved.values()}
        spare = [h for h in header if h and h.lower() not in used
                 and not any(fnmatch.fnmatch(h.lower(), p.lower()) for p in self.cmap.ignore)]
        if spare:
            log.warning("%s: column(s) %s are not in %s and were left out", self.where,
                        ", ".join(map(repr, spare)), self.cmap.where)
        return resolved

    def cell(self, row: _Row, column: str | None) -> str:
        return row.get(self.column.get(column)) if column else ""

    def items(self) -> Iterator[Item]:
        cmap = self.cmap
        mains: list[_Row] = []
        by_id: dict[str, _Row] = {}
        children: dict[int, list[_Row]] = {}
        for row in self.rows:
            parent = self.cell(row, cmap.parent) if cmap.parent else ""
            if not parent:
                mains.append(row)
                rid = self.cell(row, cmap.row_id) if cmap.row_id else ""
                if rid:
                    by_id.setdefault(rid, row)
        for row in self.rows:
            parent = self.cell(row, cmap.parent) if cmap.parent else ""
            if not parent:
                continue
            target = by_id.get(parent)
            if target is None:
                kind = ("a continuation row" if any(self.cell(r, cmap.row_id) == parent for r in self.rows)
                        else "no row")
                raise IngestError(
                    f"{self.where} row {row.number}, column {self.column[cmap.parent]!r}: {parent!r} "
                    f"names {kind}; it must be the {self.column[cmap.row_id]!r} of a service's main row")
            children.setdefault(target.number, []).append(row)
        for row in mains:
            service = self.service(row, children.get(row.number, []))
            yield Item("service", service, f"{self.where} row {row.number}")

    def service(self, main: _Row, extra: list[_Row]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        self.apply(out, self.cmap.service, main)
        for row in [main, *extra]:
            for group in self.cmap.repeat:
                if group.rows == "main" and row is not main:
                    continue
                if not self.wanted(group, row):
                    continue
                element: dict[str, Any] = {}
                self.apply(element, group.fields, row)
                if element:
                    _container(out, group.path.split("."), list).append(element)
        return out

    def wanted(self, group: Group, row: _Row) -> bool:
        if group.when_any and not any(self.cell(row, c) for c in group.when_any):
            return False
        if not all(self.cell(row, c) for c in group.when_all):
            return False
        if group.when_true and self.cell(row, group.when_true).lower() not in _TRUE:
            return False
        for col, pattern in group.when_match.items():
            value = self.cell(row, col)
            if value and not pattern.search(value):
                log.warning("%s row %d: %s %r does not look right (%s); this %s entry was left out",
                            self.where, row.number, self.column.get(col, col), value,
                            pattern.pattern, group.path)
                return False
        return True

    def apply(self, target: dict[str, Any], specs: list[Spec], row: _Row) -> None:
        """Set the fields of *specs* from *row* into *target*; constants come last."""
        split_lists: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for spec in specs:
            if spec.column is None:
                continue
            if spec.unless and self.cell(row, spec.unless).lower() in _TRUE:
                continue
            value = self.value(spec, row)
            if value in (None, "", []):
                continue
            if "[]" in spec.path:
                head, _, tail = spec.path.partition("[]")
                values = value if isinstance(value, list) else [value]
                key = (head, spec.column)
                elements = split_lists.get(key)
                if elements is None:
                    elements = split_lists[key] = [{} for _ in values]
                    _container(target, head.split("."), list).extend(elements)
                for element, v in zip(elements, values, strict=True):
                    if tail.strip("."):
                        _set(element, tail.strip(".").split("."), v)
            else:
                _set(target, spec.path.split("."), value)
        for spec in specs:
            if spec.column is not None:
                continue
            parts = spec.path.split(".")
            if "[]" in spec.path:
                head, _, tail = spec.path.partition("[]")
                for element in _get(target, head.split(".")) or []:
                    if isinstance(element, dict) and tail.strip("."):
                        _set(element, tail.strip(".").split("."), spec.value)
            elif not any(p.isdigit() for p in parts) or isinstance(_get(target, parts[:-1]), dict):
                _set(target, parts, spec.value)

    def value(self, spec: Spec, row: _Row) -> Any:
        raw = self.cell(row, spec.column)
        if not raw:
            return spec.default
        if spec.split:
            values = list(dict.fromkeys(p.strip() for p in raw.split(spec.split) if p.strip()))
            return [self.convert(spec, v) for v in values]
        return self.convert(spec, raw)

    @staticmethod
    def convert(spec: Spec, text: str) -> Any:
        if spec.mapping is not None:
            text = spec.mapping.get(text.strip().lower(), text)
        if spec.derive == "slug":
            text = slug(str(text))
        return text


# -- paths ---------------------------------------------------------------------------------
def _set(target: dict[str, Any], parts: list[str], value: Any) -> None:
    node: Any = target
    for i, part in enumerate(parts[:-1]):
        nxt = parts[i + 1]
        node = _step(node, part, list if nxt.isdigit() else dict)
    node[parts[-1]] = value


def _step(node: Any, part: str, kind: type) -> Any:
    if part.isdigit():
        index = int(part)
        while len(node) <= index:
            node.append({})
        if not isinstance(node[index], kind):
            node[index] = kind()
        return node[index]
    child = node.get(part)
    if not isinstance(child, kind):
        child = node[part] = kind()
    return child


def _container(target: dict[str, Any], parts: list[str], kind: type) -> Any:
    node: Any = target
    for i, part in enumerate(parts):
        nxt = kind if i == len(parts) - 1 else (list if parts[i + 1].isdigit() else dict)
        node = _step(node, part, nxt)
    return node


def _get(target: Any, parts: list[str]) -> Any:
    node = target
    for part in parts:
        if part.isdigit():
            if not isinstance(node, list) or int(part) >= len(node):
                return None
            node = node[int(part)]
        else:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
    return node


def slug(text: str) -> str:
    """'TPX Impact' -> 'tpx-impact': a stable id from a name (hashed when nothing is left)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    out = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")
    digest = hashlib.sha1(text.strip().lower().encode()).hexdigest()
    if not out:
        return f"h{digest[:12]}"
    if len(out) > 80:
        return f"{out[:60].rstrip('-')}-{digest[:8]}"
    return out
