"""A real server of the Linked Data site on the fixture store, for requests and browser tests:
`localoffer serve` when its app has the site registered, else gunicorn on tests.ldapp."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import requests

from .conftest import ROOT
from .ldfixtures import BASE, build_store
from .servers import free_port, localoffer_cmd, running


@contextmanager
def linked_data_server(tmp: Path) -> Iterator[str]:
    """Build the fixture store in *tmp* and serve it; yields the server's root URL."""
    settings = build_store(tmp / "data")
    env = {"LOCALOFFER_STORE": settings.store, "LOCALOFFER_BASE_URI": BASE,
           "LOCALOFFER_DUMP_CACHE": str(tmp / "dumps"), "PYTHONPATH": str(ROOT)}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with ExitStack() as stack:
        stack.enter_context(running(localoffer_cmd("serve", "--port", str(port), "--workers", "2"),
                                    url + "/", env=env, log=tmp / "serve.log"))
        if requests.get(url + "/services", timeout=10).status_code == 404:
            stack.close()  # the app does not register the site yet: serve it through gunicorn
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            cmd = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                   "--threads", "4", "--chdir", str(ROOT), "tests.ldapp:create()"]
            stack.enter_context(running(cmd, url + "/services", env=env, log=tmp / "gunicorn.log"))
        yield url
