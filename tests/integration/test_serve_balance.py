"""`localoffer serve` spreads a client's keep-alive connections over its workers: sixteen opened
at once (as a harvester or wrk opens them) end up held about evenly by two workers, where
gunicorn's own threaded worker left them 12/4 under load (bench/README.md) and 16/0 here.
Counted from /proc: which worker process holds each established connection to the server's
port."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from ..servers import serving_north_lincolnshire

pytestmark = [pytest.mark.server,
              pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")]
CONNECTIONS = 16


def children(pid: int) -> list[int]:
    """The processes whose parent is *pid* (gunicorn's workers)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def established_inodes(port: int) -> set[str]:
    """Socket inodes of established TCP connections whose local port is *port*."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                inodes.add(fields[9])
    return inodes


def held_by(pid: int, inodes: set[str]) -> int:
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            count += 1
    return count


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with serving_north_lincolnshire(tmp_path_factory.mktemp("balance"), "--workers", "2", "--threads", "4",
                                    ready_path="/robots.txt") as (proc, url):
        yield proc.pid, int(url.rsplit(":", 1)[1])


def ask(sock: socket.socket, path: str) -> bytes:
    """One keep-alive GET on *sock*; its whole response."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += sock.recv(65536)
    return head


def both_accepting(port: int, workers: list[int], timeout: float = 60) -> None:
    """Wait until every worker has taken a connection (the server answers as soon as one
    worker is up; another may still be starting, and one that is not accepting yet is left
    out of the balance). Connections are opened one at a time and kept: once a worker holds
    one, the next goes to a worker holding none."""
    held: list[socket.socket] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            held.append(sock)
            assert ask(sock, "/robots.txt").startswith(b"HTTP/1.1 200")
            inodes = established_inodes(port)
            if all(held_by(pid, inodes) for pid in workers):
                return
            time.sleep(0.2)
        raise AssertionError(f"not every worker took a connection within {timeout} s")
    finally:
        for sock in held:
            sock.close()
        time.sleep(0.5)  # the workers see them closed and say so


def test_keep_alive_connections_opened_at_once_are_held_evenly(served):
    arbiter, port = served
    workers = children(arbiter)
    assert len(workers) == 2, workers
    both_accepting(port, workers)
    go = threading.Barrier(CONNECTIONS)
    socks: list[socket.socket] = []
    heads: list[bytes] = []
    lock = threading.Lock()

    def client() -> None:
        go.wait()
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        head = ask(sock, "/services?page=1")  # a page that takes the worker a few ms
        with lock:
            socks.append(sock)
            heads.append(head)

    threads = [threading.Thread(target=client) for _ in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert len(heads) == CONNECTIONS and all(h.startswith(b"HTTP/1.1 200") for h in heads)
        for sock in socks:  # a second request on each: every connection is kept alive
            assert ask(sock, "/robots.txt").startswith(b"HTTP/1.1 200")
        inodes = established_inodes(port)
        held = Counter({pid: held_by(pid, inodes) for pid in workers})
        assert sum(held.values()) == CONNECTIONS, held
        # even is 8/8; gunicorn's own worker gave 16/0 or 14/2 here. A worker slow to wake may
        # leave a few to its sibling after ACCEPT_WAIT_MAX, so the test asks for a quarter each.
        assert min(held.values()) >= CONNECTIONS // 4, f"connections per worker: {dict(held)}"
    finally:
        for sock in socks:
            sock.close()
