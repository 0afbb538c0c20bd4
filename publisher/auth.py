"""Who may write: a client that presents the configured bearer token. With no token
configured (LOCALOFFER_UPDATE_TOKEN unset) every write is refused."""

from __future__ import annotations

import hmac

from flask import request
from werkzeug.exceptions import Forbidden, Unauthorized

from . import get_settings

REALM = 'Bearer realm="localoffer"'


def require_writer() -> None:
    """Raise 403 when writes are switched off, 401 when the token is missing or wrong."""
    expected = get_settings().update_token
    if not expected:
        raise Forbidden("writes are switched off on this server: no update token is configured "
                        "(set LOCALOFFER_UPDATE_TOKEN to enable SPARQL Update and Graph Store writes)")
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise Unauthorized("this write needs the update token: send 'Authorization: Bearer <token>'")
    if not hmac.compare_digest(given.strip().encode("utf-8"), expected.encode("utf-8")):
        raise Unauthorized("the update token is not valid")
