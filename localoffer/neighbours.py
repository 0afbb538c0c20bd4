"""The neighbours registry: the authorities this deployment harvests and federates with, read
from the TOML or YAML file named by LOCALOFFER_NEIGHBOURS, and the allow-list built from it.

    [[neighbour]]                                  # YAML: neighbours: [{gss: ..., ...}]
    gss = "E06000013"
    name = "North Lincolnshire Council"
    sparql = "https://localoffer.northlincs.gov.uk/sparql"
    dump = "https://localoffer.northlincs.gov.uk/dumps/authority/E06000013.nq.gz"   # optional
    oruk = "https://directory.northlincs.gov.uk/api/v1"                           # optional
    changes = "https://localoffer.northlincs.gov.uk/changes"                      # optional

Each neighbour needs at least one of `sparql`, `dump`, `oruk`. The hosts (host:port) of these
URLs, plus LOCALOFFER_ALLOWED_HOSTS, are the only hosts harvest and SERVICE ever contact; a host
that resolves to a private, loopback or link-local address must in addition be listed in
LOCALOFFER_ALLOWED_HOSTS by host:port (see `localoffer.http.check_target`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from localoffer import namespaces as ns
from localoffer.config import Settings
from localoffer.errors import ConfigError, HarvestError
from localoffer.http import allowed_hosts

URL_FIELDS = ("sparql", "dump", "oruk", "changes")


@dataclass(frozen=True)
class Neighbour:
    """One neighbouring authority and where its offer can be read."""

    gss: str
    name: str
    sparql: str | None = None
    dump: str | None = None
    oruk: str | None = None
    changes: str | None = None

    def urls(self) -> list[str]:
        """Every URL the registry gives for this neighbour."""
        return [u for u in (self.sparql, self.dump, self.oruk, self.changes) if u]


@dataclass(frozen=True)
class AllowList:
    """Hosts that may be contacted (*hosts*: host or host:port) and those allow-listed
    explicitly by LOCALOFFER_ALLOWED_HOSTS (*explicit*), which may resolve to non-public
    addresses."""

    hosts: frozenset[str]
    explicit: frozenset[str]

    def contactable(self) -> set[str]:
        """Everything harvest and SERVICE may reach."""
        return set(self.hosts | self.explicit)


def host_key(url: str) -> str:
    """`host:port` of a URL (default ports filled in), lower case."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{(parts.hostname or '').lower()}:{port}"


def load_registry(settings: Settings) -> list[Neighbour]:
    """The neighbours of the registry file named by LOCALOFFER_NEIGHBOURS (none without one)."""
    if not settings.neighbours:
        return []
    return read_registry(Path(settings.neighbours))


def read_registry(path: Path) -> list[Neighbour]:
    """Parse a registry file (TOML or YAML); errors name the file, entry and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the neighbours registry {path}: {exc.strerror}") from None
    try:
        if path.suffix.lower() == ".toml":
            import tomllib

            data: Any = tomllib.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as exc:  # noqa: BLE001 - tomllib and yaml raise their own error classes
        raise ConfigError(f"neighbours registry {path} is not valid TOML/YAML: {exc}") from None
    entries = data.get("neighbour", data.get("neighbours")) if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise ConfigError(f"neighbours registry {path}: expected a list of neighbours "
                          "([[neighbour]] tables in TOML, or 'neighbours:' in YAML)")
    out: list[Neighbour] = []
    for number, entry in enumerate(entries, start=1):
        out.append(_neighbour(entry, f"{path}, neighbour {number}"))
    codes = [n.gss for n in out]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise ConfigError(f"neighbours registry {path}: {', '.join(duplicates)} listed more than once")
    return out


def _neighbour(entry: Any, where: str) -> Neighbour:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a table with gss, name and sparql/dump/oruk")
    gss = str(entry.get("gss", "")).strip().upper()
    if not ns.GSS_CODE.match(gss):
        raise ConfigError(f"{where}: field 'gss' must be an ONS GSS code such as E06000023; "
                          f"got {entry.get('gss')!r}")
    name = str(entry.get("name") or "").strip()
    if not name:
        raise ConfigError(f"{where} ({gss}): field 'name' is missing")
    unknown = sorted(set(entry) - {"gss", "name", *URL_FIELDS})
    if unknown:
        raise ConfigError(f"{where} ({gss}): unknown field {', '.join(unknown)}; "
                          f"the fields are gss, name, {', '.join(URL_FIELDS)}")
    urls: dict[str, str | None] = {}
    for key in URL_FIELDS:
        value = entry.get(key)
        if value in (None, ""):
            urls[key] = None
            continue
        parts = urlsplit(str(value))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{where} ({gss}): field '{key}' must be an http(s) URL; got {value!r}")
        urls[key] = str(value)
    if not (urls["sparql"] or urls["dump"] or urls["oruk"]):
        raise ConfigError(f"{where} ({gss}): give at least one of sparql, dump, oruk")
    return Neighbour(gss, name, **urls)


def allow_list(settings: Settings, registry: list[Neighbour] | None = None) -> AllowList:
    """The registry's hosts and LOCALOFFER_ALLOWED_HOSTS."""
    neighbours = load_registry(settings) if registry is None else registry
    hosts = {host_key(u) for n in neighbours for u in n.urls()}
    return AllowList(frozenset(hosts), frozenset(allowed_hosts(settings.extra)))


def select(registry: list[Neighbour], wanted: tuple[str, ...] | list[str]) -> list[Neighbour]:
    """The neighbours named by GSS code or name (case-insensitive); all when none is named."""
    if not wanted:
        if not registry:
            raise HarvestError("no neighbours to harvest: set LOCALOFFER_NEIGHBOURS to a registry "
                               "file, or use --endpoint URL --authority CODE")
        return list(registry)
    found: list[Neighbour] = []
    for word in wanted:
        key = word.strip().lower()
        match = [n for n in registry if key in (n.gss.lower(), n.name.lower())]
        if not match:
            known = ", ".join(f"{n.gss} ({n.name})" for n in registry) or "none (LOCALOFFER_NEIGHBOURS unset)"
            raise HarvestError(f"no neighbour {word!r} in the registry; known: {known}")
        found.extend(m for m in match if m not in found)
    return found
