"""Checks on SPARQL text before it reaches the engine. The embedded Oxigraph engine evaluates
SERVICE by itself and would connect to any IRI a query names, so SERVICE must be caught here,
on the query's tokens (strings, IRIs and comments skipped), `SERVICE ?var` included."""

from __future__ import annotations

import re
from collections.abc import Iterator

from localoffer.errors import QueryError

_TOKEN = re.compile(
    r'''(?P<comment>\#[^\n]*)
      | (?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\'|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
      | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
      | (?P<word>[A-Za-z_][A-Za-z0-9_\-]*(?::[A-Za-z0-9_\-.]*)?|[?$][A-Za-z0-9_]+)
      | (?P<other>\S)''', re.VERBOSE | re.DOTALL)
_UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}


def tokens(text: str) -> Iterator[tuple[str, str]]:
    """(kind, text) for each token of a SPARQL string; kinds: comment string iri word other."""
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        yield kind, m.group(kind)


def service_targets(text: str) -> list[str]:
    """The targets of every SERVICE clause: an IRI, a prefixed name or a variable."""
    out: list[str] = []
    words = [(k, t) for k, t in tokens(text) if k != "comment"]
    for i, (kind, tok) in enumerate(words):
        if kind == "word" and tok.upper() == "SERVICE":
            j = i + 1
            if j < len(words) and words[j][1].upper() == "SILENT":
                j += 1
            out.append(words[j][1] if j < len(words) else "")
    return out


def looks_like_update(text: str) -> bool:
    """True when the text starts (after prologue) with an update operation keyword."""
    for kind, tok in tokens(text):
        if kind in ("comment",):
            continue
        word = tok.upper()
        if kind == "word" and word in ("PREFIX", "BASE"):
            continue
        if kind in ("iri",) or (kind == "word" and ":" in tok):
            continue
        return kind == "word" and word in _UPDATE_WORDS
    return False


def check_read_query(text: str, allowed_services: set[str] | None = None) -> None:
    """Refuse updates and SERVICE clauses to endpoints that are not allow-listed."""
    if looks_like_update(text):
        raise QueryError("this endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, DROP, ...) "
                         "is refused here")
    for target in service_targets(text):
        iri = target[1:-1] if target.startswith("<") else None
        if iri is None or not allowed_services or iri not in allowed_services:
            shown = target or "(nothing)"
            raise QueryError(f"SERVICE {shown} is refused: federated queries may only name "
                             "allow-listed SPARQL endpoints, and none is allowed here")
