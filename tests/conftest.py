"""Shared fixtures: settings on a temp store (and on each store backend), the CLI runner,
the repository's data folders."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from localoffer.config import Settings, load_settings
from localoffer.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
SAMPLES = ROOT / "samples"
BASE = "https://localoffer.test/"


def require_system(what: str, available: bool, why: str) -> None:
    """Skip when a system package is missing, unless CI made it required."""
    if available:
        return
    if os.environ.get("LOCALOFFER_REQUIRE_SYSTEM") == "1":
        pytest.fail(f"{what} is required in CI but missing: {why}")
    pytest.skip(f"{what} not installed: {why}")


def which(cmd: str) -> str | None:
    return shutil.which(cmd)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings({"store": str(tmp_path / "store"), "base_uri": BASE}, environ={})


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = open_store(settings)
    yield s
    s.close()


@pytest.fixture(params=["embedded", "oxigraph-server", "virtuoso"])
def backend_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for each store backend: the embedded store, `oxigraph serve`, Virtuoso."""
    from .backends import clear_test_graphs

    if request.param == "embedded":
        return load_settings({"store": str(tmp_path / "store"), "base_uri": BASE}, environ={})
    fixture = "oxigraph_url" if request.param == "oxigraph-server" else "virtuoso_url"
    url = request.getfixturevalue(fixture)
    kind = "oxigraph" if request.param == "oxigraph-server" else "virtuoso"
    clear_test_graphs(url, kind)
    return load_settings({"store": url, "base_uri": BASE, "store_kind": kind,
                          "index_cache": str(tmp_path / "index-cache")}, environ={})


@pytest.fixture
def backend_store(backend_settings: Settings) -> Iterator[Store]:
    s = open_store(backend_settings)
    yield s
    s.close()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


# The server fixtures live beside the backends they start; imported last (they use BASE).
from .backends import oxigraph_url, virtuoso_url  # noqa: E402, F401
