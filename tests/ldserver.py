"""A real `localoffer serve` of the Linked Data site on the fixture store, for requests and
browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .ldfixtures import BASE, build_store
from .servers import free_port, localoffer_cmd, running


@contextmanager
def linked_data_server(tmp: Path) -> Iterator[str]:
    """Build the fixture store in *tmp* and serve it; yields the server's root URL."""
    settings = build_store(tmp / "data")
    env = {"LOCALOFFER_STORE": settings.store, "LOCALOFFER_BASE_URI": BASE,
           "LOCALOFFER_DUMP_CACHE": str(tmp / "dumps")}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running(localoffer_cmd("serve", "--port", str(port), "--workers", "2"), url + "/",
                 env=env, log=tmp / "serve.log"):
        yield url
