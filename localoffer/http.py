"""Outbound HTTP for ingest and harvest: timeouts on every call, retries with backoff for
transient failures, a size cap, and a guard that refuses private, loopback, link-local and
cloud-metadata addresses (also after redirects) unless `host:port` is allow-listed in
LOCALOFFER_ALLOWED_HOSTS."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Mapping
from urllib.parse import urljoin, urlsplit

import requests

from localoffer import __version__
from localoffer.errors import HarvestError

USER_AGENT = f"localoffer/{__version__} (+https://w3id.org/localoffer)"
RETRY_STATUS = {429, 500, 502, 503, 504}
MAX_REDIRECTS = 5


def allowed_hosts(extra: Mapping[str, object]) -> set[str]:
    """The `host:port` pairs allow-listed by LOCALOFFER_ALLOWED_HOSTS (comma-separated)."""
    raw = str(extra.get("allowed_hosts", "") or "")
    return {h.strip().lower() for h in raw.split(",") if h.strip()}


def check_target(url: str, allow: set[str]) -> None:
    """Refuse a URL that is not http(s), or whose host resolves to a non-public address and
    is not allow-listed. Raises HarvestError before any connection is made."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HarvestError(f"{url}: only http:// and https:// URLs can be fetched")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    key = f"{parts.hostname.lower()}:{port}"
    if key in allow or parts.hostname.lower() in allow:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise HarvestError(f"{url}: cannot resolve host {parts.hostname!r} ({exc.strerror})") from None
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if not addr.is_global or addr.is_multicast:
            raise HarvestError(
                f"{url}: refused, {parts.hostname} is a private, loopback or link-local address "
                f"({addr}); add {key} to LOCALOFFER_ALLOWED_HOSTS if it is a trusted host")


def fetch(url: str, *, timeout: float, retries: int, allow: set[str],
          max_bytes: int = 512 * 1024 * 1024, accept: str = "application/json",
          session: requests.Session | None = None, headers: Mapping[str, str] | None = None
          ) -> requests.Response:
    """GET *url* with the guard, a timeout, retries with exponential backoff on transient
    failures, and a cap on the body size. Returns the final response (any status)."""
    http = session or requests.Session()
    send_headers = {"User-Agent": USER_AGENT, "Accept": accept, **(headers or {})}
    attempt = 0
    try:
        while True:
            attempt += 1
            try:
                response = _get_following_redirects(http, url, send_headers, timeout, allow, max_bytes)
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
                             timeout: float, allow: set[str], max_bytes: int) -> requests.Response:
    for _ in range(MAX_REDIRECTS + 1):
        check_target(url, allow)
        response = http.get(url, headers=dict(headers), timeout=timeout, allow_redirects=False, stream=True)
        if response.is_redirect and "location" in response.headers:
            url = urljoin(url, response.headers["location"])
            response.close()
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
