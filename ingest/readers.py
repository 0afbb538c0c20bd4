"""Choosing and opening a reader for a source: a JSON file (ORUK v1 or HSDS 3.0), a live
ORUK/HSDS API, an HSDS Tabular Data Package, a spreadsheet, or RDF files."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from localoffer.config import Settings
from localoffer.errors import HarvestError, IngestError
from localoffer.http import allowed_hosts, fetch

from .jsonfile import items_of, page_items, parse_json
from .records import Item

FORMATS = ("json", "api", "tabular", "spreadsheet", "rdf", "profile")
RDF_SUFFIXES = {".ttl": "ttl", ".nt": "nt", ".nq": "nq", ".trig": "trig", ".jsonld": "jsonld",
                ".rdf": "rdf", ".owl": "rdf", ".n3": "n3"}
Progress = Callable[[int, int | None], None]


@dataclass
class Source:
    """An opened source. `items()` streams its records; `checksum` is the SHA-256 of the bytes
    read (complete once `items()` is exhausted)."""

    location: str
    kind: str
    settings: Settings
    mapping: Path | None = None
    per_page: int = 100
    details: bool = True
    progress: Progress | None = None
    checksum: str = ""
    _hash: Any = field(default_factory=hashlib.sha256, repr=False)

    def items(self) -> Iterator[Item]:
        if self.kind == "json":
            yield from self._json_file()
        elif self.kind == "api":
            yield from self._api()
        elif self.kind == "tabular":
            from .tabular import read_tabular

            yield from read_tabular(Path(self.location), self._hash)
        elif self.kind == "profile":
            from .profile import read_profile

            yield from read_profile(Path(self.location), self._hash)
        elif self.kind == "spreadsheet":
            from .spreadsheet import read_spreadsheet

            yield from read_spreadsheet(Path(self.location), self.mapping, self._hash)
        else:
            raise IngestError(f"{self.location}: {self.kind} sources have no records")
        self.checksum = self._hash.hexdigest()

    def rdf_files(self) -> list[tuple[Path, str]]:
        """For RDF sources: the files and their formats."""
        path = Path(self.location)
        files = sorted(p for p in path.iterdir() if p.suffix in RDF_SUFFIXES) if path.is_dir() else [path]
        for p in files:
            self._hash.update(_read(p, self.settings))
        self.checksum = self._hash.hexdigest()
        return [(p, RDF_SUFFIXES[p.suffix]) for p in files]

    # -- JSON files ----------------------------------------------------------------------
    def _json_file(self) -> Iterator[Item]:
        path = Path(self.location)
        body = _read(path, self.settings)
        self._hash.update(body)
        records, _ = page_items(parse_json(body, str(path)), str(path))
        if self.progress:
            self.progress(0, len(records))
        yield from items_of(records, str(path))

    # -- live APIs -----------------------------------------------------------------------
    def _api(self) -> Iterator[Item]:
        base = self.location.rstrip("/")
        allow = allowed_hosts(self.settings.extra)
        page, total_pages, seen = 1, None, 0
        while total_pages is None or page <= total_pages:
            url = f"{base}/services?{urlencode({'page': page, 'per_page': self.per_page})}"
            doc = self._get_json(url, allow)
            records, total_pages = page_items(doc, url)
            if total_pages is None:
                total_pages = page if not records else page + 1 if len(records) >= self.per_page else page
            if self.progress and page == 1:
                self.progress(0, (total_pages or 1) * self.per_page if total_pages else None)
            for item in items_of(records, url, start=seen):
                if self.details and item.kind == "service" and item.data.get("id"):
                    item = self._detail(base, item, allow)
                yield item
            seen += len(records)
            if not records:
                break
            page += 1

    def _detail(self, base: str, item: Item, allow: set[str]) -> Item:
        url = f"{base}/services/{quote(str(item.data['id']), safe='')}"
        try:
            doc = self._get_json(url, allow)
        except IngestError:
            return item  # the list record still stands; the detail is an enrichment
        if isinstance(doc, dict) and doc.get("id") == item.data.get("id"):
            detail = next(items_of([doc], url))
            # the detail wins; fields only the list page gives (vendor extras) are kept
            return Item(detail.kind, {**item.data, **detail.data}, detail.locator)
        return item

    def _get_json(self, url: str, allow: set[str]) -> Any:
        try:
            response = fetch(url, timeout=self.settings.http_timeout,
                             retries=self.settings.http_retries, allow=allow)
        except HarvestError as exc:
            raise IngestError(str(exc)) from None
        if response.status_code != 200:
            raise IngestError(f"{url}: the server answered HTTP {response.status_code}; "
                              "expected 200 with an Open Referral JSON page")
        self._hash.update(response.content)
        return parse_json(response.content, url)


def _read(path: Path, settings: Settings) -> bytes:
    limit = int(settings.extra.get("max_input_mb", 2048)) * 1024 * 1024
    try:
        size = path.stat().st_size
        if size > limit:
            raise IngestError(f"{path}: {size} bytes is over the {limit // 2**20} MB input limit "
                              "(LOCALOFFER_MAX_INPUT_MB); split the file by authority")
        return path.read_bytes()
    except FileNotFoundError:
        raise IngestError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise IngestError(f"{path}: is a folder; name a file, or a folder with datapackage.json") from None
    except OSError as exc:
        raise IngestError(f"{path}: cannot read ({exc.strerror})") from None


def detect_format(location: str) -> str:
    """The reader for a source, from its URL or file name."""
    if location.startswith(("http://", "https://")):
        return "api"
    path = Path(location)
    if path.is_dir():
        if (path / "datapackage.json").exists():
            return "tabular"
        if any(p.suffix in RDF_SUFFIXES for p in path.iterdir()):
            return "rdf"
        raise IngestError(f"{location}: a folder must hold datapackage.json (HSDS tabular) or RDF files")
    if path.name == "datapackage.json":
        return "tabular"
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return "profile"
    if suffix in (".csv", ".xlsx"):
        return "spreadsheet"
    if suffix in RDF_SUFFIXES:
        return "rdf"
    if suffix == ".json" or not path.exists():
        return "json"
    raise IngestError(f"{location}: cannot tell the format from the name; pass --format "
                      f"({'|'.join(FORMATS)})")


def open_source(location: str, settings: Settings, *, fmt: str | None = None,
                mapping: Path | None = None, details: bool = True,
                progress: Progress | None = None) -> Source:
    """Open *location* with the reader for *fmt* (guessed when None)."""
    kind = fmt or detect_format(location)
    if kind not in FORMATS:
        raise IngestError(f"unknown format {kind!r}; choose one of {', '.join(FORMATS)}")
    if kind == "tabular" and Path(location).name == "datapackage.json":
        location = str(Path(location).parent)
    return Source(location, kind, settings, mapping=mapping, details=details, progress=progress)
