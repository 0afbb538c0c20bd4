"""Outbound HTTP for ingest and harvest: timeouts on every call, retries with backoff for
transient failures, a size cap, and a guard that refuses private, loopback, link-local and
cloud-metadata addresses (also after redirects) unless `host:port` is allow-listed in
LOCALOFFER_ALLOWED_HOSTS.

The guard runs twice: `check_target` before a request (a clear refusal, nothing sent), and
again when the connection is opened, on the very addresses the socket connects to. A host
name is resolved afresh for every connection, so checking the first answer alone would let a
name that resolves to a public address and then to 127.0.0.1 (DNS rebinding) through."""

from __future__ import annotations

import contextvars
import ipaddress
import socket
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as _urllib3_connection

from localoffer import __version__
from localoffer.errors import HarvestError

USER_AGENT = f"localoffer/{__version__} (+https://w3id.org/localoffer)"
RETRY_STATUS = {429, 500, 502, 503, 504}
MAX_REDIRECTS = 5
# Instance-metadata services of cloud providers (AWS, GCP, Azure, OpenStack: 169.254.169.254;
# Alibaba: 100.100.100.200; AWS over IPv6: fd00:ec2::254; Oracle: 192.0.0.192).
_METADATA_V4 = {ipaddress.IPv4Address(a) for a in ("169.254.169.254", "100.100.100.200", "192.0.0.192")}
_METADATA_V6 = {ipaddress.IPv6Address("fd00:ec2::254")}


_ONLY_HOSTS: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("only_hosts", default=None)


@contextmanager
def only_hosts(listed: set[str]) -> Iterator[None]:
    """Within the block, every `fetch` (also from code that does not pass *listed*, such as
    the ingest's API reader run by a harvest) may contact only these hosts."""
    token = _ONLY_HOSTS.set(set(listed))
    try:
        yield
    finally:
        _ONLY_HOSTS.reset(token)


def allowed_hosts(extra: Mapping[str, object]) -> set[str]:
    """The `host:port` pairs allow-listed by LOCALOFFER_ALLOWED_HOSTS (comma-separated)."""
    raw = str(extra.get("allowed_hosts", "") or "")
    return {h.strip().lower() for h in raw.split(",") if h.strip()}


def classify_address(addr: ipaddress.IPv4Address | ipaddress.IPv6Address | str) -> str | None:
    """Why an address must not be contacted unless its host:port is allow-listed explicitly
    (loopback, private, link-local, cloud-metadata, ...), or None for a public address."""
    if isinstance(addr, str):
        addr = ipaddress.ip_address(addr.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address):
        mapped = addr.ipv4_mapped or addr.sixtofour or (addr.teredo[1] if addr.teredo else None)
        if mapped is not None:  # an IPv4 address in IPv6 clothing is judged as that address
            reason = classify_address(mapped)
            if reason:
                return reason
        if addr in _METADATA_V6:
            return "cloud-metadata"
    elif addr in _METADATA_V4:
        return "cloud-metadata"
    if addr.is_unspecified:
        return "unspecified"
    if addr.is_loopback:
        return "loopback"
    if addr.is_link_local:
        return "link-local"
    if addr.is_multicast:
        return "multicast"
    if addr.is_reserved:
        return "reserved or shared"
    if addr.is_private:
        return "private"
    if not addr.is_global:
        return "reserved or shared"
    return None


def _listed(host: str, port: int, listed: set[str]) -> bool:
    return f"{host}:{port}" in listed or host in listed


def _refusal(url: str, host: str, key: str, address: str, reason: str) -> HarvestError:
    return HarvestError(f"{url}: refused, {host} is a {reason} address ({address}); "
                        f"add {key} to LOCALOFFER_ALLOWED_HOSTS if it is a trusted host")


def check_target(url: str, allow: set[str], listed: set[str] | None = None) -> None:
    """Refuse a URL that is not http(s), whose host is not on *listed* (when given: the
    hosts harvest and SERVICE may contact), or whose host resolves to a non-public address
    and is not allow-listed in *allow*. Raises HarvestError before any connection is made."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HarvestError(f"{url}: only http:// and https:// URLs can be fetched")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise HarvestError(f"{url}: the port is not a number between 0 and 65535") from None
    host = parts.hostname.lower()
    key = f"{host}:{port}"
    if listed is not None and not _listed(host, port, listed | allow):
        raise HarvestError(f"{url}: refused, {key} is not on the allow-list (the neighbours "
                           "registry, LOCALOFFER_NEIGHBOURS, and LOCALOFFER_ALLOWED_HOSTS)")
    if _listed(host, port, allow):
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise HarvestError(f"{url}: cannot resolve host {parts.hostname!r} ({exc.strerror})") from None
    for info in infos:
        reason = classify_address(str(info[4][0]))
        if reason:
            raise _refusal(url, parts.hostname, key, str(info[4][0]), reason)


# The request being sent, for the connection-time check: (url, host, port, allow-list).
_SENDING: contextvars.ContextVar[tuple[str, str, int, frozenset[str]] | None] = \
    contextvars.ContextVar("sending", default=None)


class _CheckedConnect:
    """Opens the socket only to addresses that pass `classify_address`, resolved here, once,
    for this connection (a connection to a configured proxy is not the target: not checked)."""

    host: str
    port: int
    timeout: float | None
    source_address: tuple[str, int] | None
    socket_options: list[tuple[int, int, int]] | None

    def _new_conn(self) -> socket.socket:
        sending = _SENDING.get()
        host = self.host.strip("[]").lower()
        if sending is None or sending[1] != host or sending[2] != self.port:
            return super()._new_conn()  # type: ignore[misc, no-any-return]
        url, host, port, allow = sending
        if _listed(host, port, set(allow)):
            return super()._new_conn()  # type: ignore[misc, no-any-return]
        try:
            infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        except socket.gaierror as exc:
            raise HarvestError(f"{url}: cannot resolve host {host!r} ({exc.strerror})") from None
        last: OSError | None = None
        for info in infos:
            address = str(info[4][0])
            reason = classify_address(address)
            if reason:
                raise _refusal(url, host, f"{host}:{port}", address, reason)
        for info in infos:
            try:
                return _urllib3_connection.create_connection(
                    (str(info[4][0]), port), self.timeout, source_address=self.source_address,
                    socket_options=self.socket_options)
            except OSError as exc:
                last = exc
        if isinstance(last, TimeoutError):
            raise ConnectTimeoutError(self, f"Connection to {host} timed out. "
                                            f"(connect timeout={self.timeout})") from last
        raise NewConnectionError(self, f"Failed to establish a new connection: {last}") from last


class _CheckedHTTPConnection(_CheckedConnect, HTTPConnection):
    pass


class _CheckedHTTPSConnection(_CheckedConnect, HTTPSConnection):
    pass


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedAdapter(HTTPAdapter):
    """requests' adapter whose pools open connections through `_CheckedConnect`."""

    def init_poolmanager(self, *args: object, **kwargs: object) -> None:
        super().init_poolmanager(*args, **kwargs)  # type: ignore[arg-type]
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedHTTPPool, "https": _CheckedHTTPSPool}


def guarded_session(session: requests.Session | None = None) -> requests.Session:
    """*session* (or a new one) with the connection-time address check mounted."""
    http = session or requests.Session()
    if not isinstance(http.get_adapter("https://x/"), _CheckedAdapter):
        http.mount("https://", _CheckedAdapter())
        http.mount("http://", _CheckedAdapter())
    return http


def fetch(url: str, *, timeout: float, retries: int, allow: set[str],
          max_bytes: int = 512 * 1024 * 1024, accept: str = "application/json",
          session: requests.Session | None = None, headers: Mapping[str, str] | None = None,
          listed: set[str] | None = None, form: Mapping[str, str] | None = None) -> requests.Response:
    """GET *url* (POST *form*, url-encoded, when given) with the guard (every redirect hop
    checked; with *listed*, only those hosts), a timeout, retries with exponential backoff on
    transient failures, and a cap on the body size. Returns the final response (any status)."""
    http = guarded_session(session)
    listed = listed if listed is not None else _ONLY_HOSTS.get()
    send_headers = {"User-Agent": USER_AGENT, "Accept": accept, **(headers or {})}
    attempt = 0
    try:
        while True:
            attempt += 1
            try:
                response = _get_following_redirects(http, url, send_headers, timeout, allow, max_bytes,
                                                    listed, form)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt > retries:
                    tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
                    raise HarvestError(f"{url}: no answer within {timeout:g} s after {tries} "
                                       f"({exc.__class__.__name__})") from None
            else:
                if response.status_code not in RETRY_STATUS or attempt > retries:
                    return response
            time.sleep(min(0.5 * 2 ** (attempt - 1), 8.0))
    finally:
        if session is None:
            http.close()  # the body has been read; release the connection pool


def _get_following_redirects(http: requests.Session, url: str, headers: Mapping[str, str],
                             timeout: float, allow: set[str], max_bytes: int,
                             listed: set[str] | None = None,
                             form: Mapping[str, str] | None = None) -> requests.Response:
    for _ in range(MAX_REDIRECTS + 1):
        check_target(url, allow, listed)
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        token = _SENDING.set((url, (parts.hostname or "").lower(), port, frozenset(allow)))
        try:
            response = http.request("POST" if form is not None else "GET", url, data=form,
                                    headers=dict(headers), timeout=timeout, allow_redirects=False,
                                    stream=True)
        finally:
            _SENDING.reset(token)
        if response.is_redirect and "location" in response.headers:
            target = urljoin(url, response.headers["location"])
            response.close()
            if form is not None and response.status_code not in (307, 308):
                raise HarvestError(f"{url}: answered a POST with HTTP {response.status_code} to "
                                   f"{target}, which would turn it into a GET; use that address")
            url = target
            continue
        body = bytearray()
        for chunk in response.iter_content(64 * 1024):
            body.extend(chunk)
            if len(body) > max_bytes:
                response.close()
                raise HarvestError(f"{url}: response larger than {max_bytes} bytes; refused")
        response._content = bytes(body)  # noqa: SLF001 - keep requests' API for callers
        return response
    raise HarvestError(f"{url}: more than {MAX_REDIRECTS} redirects")
