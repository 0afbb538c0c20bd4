"""Starting real server processes on 127.0.0.1 for tests, and waiting until they answer."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(cmd: Sequence[str], url: str, *, env: dict[str, str] | None = None,
            log: Path | None = None, timeout: float = 30.0) -> Iterator[subprocess.Popen[bytes]]:
    """Run *cmd* until the block ends; wait until *url* answers (any HTTP status)."""
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(list(cmd), env={**os.environ, **(env or {})}, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                text = log.read_text(errors="replace") if log else ""
                raise RuntimeError(f"{cmd[0]} exited with {proc.returncode} before answering:\n{text}")
            try:
                requests.get(url, timeout=1)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} did not answer within {timeout}s") from None
                time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log:
            out.close()  # type: ignore[union-attr]


def localoffer_cmd(*args: str) -> list[str]:
    """The localoffer CLI of this interpreter."""
    return [sys.executable, "-m", "localoffer", *args]
