"""Settings: defaults, then LOCALOFFER_* environment variables, then an optional config
file, then explicit overrides (command-line options or a mapping passed to create_app)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from localoffer.errors import ConfigError

ENV_PREFIX = "LOCALOFFER_"


@dataclass(frozen=True)
class Settings:
    """Every setting localoffer reads; see the configuration table in the README."""

    store: str = "./data/store"
    base_uri: str = "http://localhost:8080/"
    query_timeout: float = 30.0
    result_limit: int = 10000
    publish_contact_names: bool = False
    http_timeout: float = 30.0
    http_retries: int = 3
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 2
    threads: int = 4
    update_token: str = field(default="", repr=False)  # bearer token for writes; empty = writes off
    max_request_bytes: int = 16 * 1024 * 1024
    query_processes: int = 0
    write_shapes: str = ""
    neighbours: str = ""  # TOML or YAML registry of neighbouring authorities (localoffer.neighbours)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> Settings:
        """Return a copy with the non-None values of *overrides* applied and coerced."""
        if not overrides:
            return self
        known = {f.name: f for f in fields(self)}
        changes: dict[str, Any] = {}
        extra = dict(self.extra)
        for key, value in overrides.items():
            if value is None:
                continue
            name = key.lower().replace("-", "_")
            if name in known and name != "extra":
                changes[name] = _coerce(name, value, type(getattr(self, name)))
            else:
                extra[key] = value
        return replace(self, extra=extra, **changes)

    @property
    def base(self) -> str:
        """The IRI base without a trailing slash."""
        return self.base_uri.rstrip("/")


def _coerce(name: str, value: Any, kind: type) -> Any:
    if isinstance(value, kind):
        return value
    text = str(value).strip()
    try:
        if kind is bool:
            if text.lower() in {"1", "true", "yes", "on"}:
                return True
            if text.lower() in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(text)
        return kind(text)
    except ValueError:
        raise ConfigError(
            f"setting {ENV_PREFIX}{name.upper()}={value!r} is not a valid {kind.__name__}"
        ) from None


def load_settings(overrides: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from defaults, the environment, a config file and *overrides*."""
    env = os.environ if environ is None else environ
    settings = Settings()
    config_file = env.get(f"{ENV_PREFIX}CONFIG")
    if config_file:
        settings = settings.with_overrides(_read_config_file(Path(config_file)))
    from_env = {k[len(ENV_PREFIX):].lower(): v for k, v in env.items()
                if k.startswith(ENV_PREFIX) and k != f"{ENV_PREFIX}CONFIG"}
    settings = settings.with_overrides(from_env)
    settings = settings.with_overrides(overrides)
    if not settings.base_uri.startswith(("http://", "https://")):
        raise ConfigError(f"base URI {settings.base_uri!r} must start with http:// or https://")
    return settings


def _read_config_file(path: Path) -> dict[str, Any]:
    """Read a JSON or TOML config file whose keys are setting names (without the prefix)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        if path.suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"config file {path} is not valid: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a table of settings")
    return data
