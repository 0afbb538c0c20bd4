"""Checks on SPARQL text before it reaches the engine. The embedded Oxigraph engine evaluates
SERVICE by itself and would connect to any IRI a query names, so SERVICE must be caught here,
on the query's tokens (strings, IRIs and comments skipped), `SERVICE ?var` included."""

from __future__ import annotations

import re
from collections.abc import Iterator

from localoffer.errors import QueryError

_TOKEN = re.compile(
    r'''(?P<comment>\#[^\n]*)
      | (?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\'
                  |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
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


def query_form(text: str) -> str | None:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first query-form keyword after the prologue."""
    for kind, tok in tokens(text):
        if kind == "word" and tok.upper() in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"):
            return tok.upper()
    return None


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


def positioned_tokens(text: str) -> list[re.Match[str]]:
    """The query's tokens (comments left out), each with its position in *text*."""
    return [m for m in _TOKEN.finditer(text) if m.lastgroup != "comment"]


def apply_using(update: str, using: list[str], using_named: list[str]) -> str:
    """Give every DELETE/INSERT ... WHERE operation of *update* the dataset named by the
    protocol's using-graph-uri / using-named-graph-uri parameters (SPARQL 1.1 Protocol 2.2.3).
    An update that names its own dataset (USING, USING NAMED or WITH) as well is refused."""
    if not using and not using_named:
        return update
    clause = "".join(f" USING <{g}>" for g in using) + "".join(f" USING NAMED <{g}>" for g in using_named)
    toks = positioned_tokens(update)
    depth = 0
    edits: list[tuple[int, int, str]] = []
    for i, m in enumerate(toks):
        tok = m.group()
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
        elif depth == 0 and m.lastgroup == "word" and tok.upper() in ("USING", "WITH"):
            raise QueryError(f"the update names its own dataset with {tok.upper()} (line "
                             f"{update.count(chr(10), 0, m.start()) + 1}) and the request gives "
                             "using-graph-uri/using-named-graph-uri too; give one or the other")
        elif depth == 0 and m.lastgroup == "word" and tok.upper() == "WHERE":
            prev = toks[i - 1].group().upper() if i else ""
            if prev == "DELETE":
                # DELETE WHERE { P } cannot take USING: spell it out as DELETE { P } USING ... WHERE { P }
                end = _matching_brace(toks, i + 1)
                pattern = update[toks[i + 1].start():toks[end].end()]
                edits.append((m.start(), m.end(), f"{pattern}{clause} WHERE"))
            else:
                edits.append((m.start(), m.start(), clause.lstrip() + " "))
    for start, end, text in reversed(edits):
        update = update[:start] + text + update[end:]
    return update


def _matching_brace(toks: list[re.Match[str]], start: int) -> int:
    if start >= len(toks) or toks[start].group() != "{":
        raise QueryError("DELETE WHERE must be followed by a { ... } pattern")
    depth = 0
    for j in range(start, len(toks)):
        depth += {"{": 1, "}": -1}.get(toks[j].group(), 0)
        if depth == 0:
            return j
    raise QueryError("DELETE WHERE pattern is not closed with }")


_POSITION = re.compile(r"^error at (\d+):(\d+): (.*)$", re.DOTALL)


def with_base(text: str, base_iri: str | None) -> tuple[str, int]:
    """*text* with a BASE declaration in front (on the same line, so line numbers hold), and
    how many columns of line 1 it takes: the service's base IRI for relative IRIs."""
    if not base_iri:
        return text, 0
    prefix = f"BASE <{base_iri}> "
    return prefix + text, len(prefix)


def explain_syntax_error(text: str, message: str, what: str = "query", shift: int = 0) -> str:
    """The engine's syntax error made readable: line and column, the offending line with a
    caret under the position, and a shortened list of what was expected. *shift* is the
    width of anything the server put in front of line 1 (see `with_base`)."""
    m = _POSITION.match(message.strip())
    if not m:
        return f"SPARQL syntax error in the {what}: {message}"
    line_no, col, detail = int(m.group(1)), int(m.group(2)), " ".join(m.group(3).split())
    if line_no == 1:
        col = max(1, col - shift)
    if detail.startswith("expected one of ") and len(detail) > 160:
        items = detail[len("expected one of "):].split(", ")
        keep = [i for i in items if len(i) < 20][:12]
        detail = "expected one of " + ", ".join(keep) + ", ..."
    lines = text.splitlines() or [""]
    shown = lines[line_no - 1] if 0 < line_no <= len(lines) else ""
    caret = " " * max(0, min(col - 1, len(shown))) + "^"
    return (f"SPARQL syntax error in the {what} at line {line_no}, column {col}: {detail}\n"
            f"    {shown}\n    {caret}")


def check_update(text: str, allowed_services: set[str] | None = None) -> None:
    """Refuse updates that would make the server fetch from the network: LOAD, and SERVICE
    clauses to endpoints that are not allow-listed."""
    for kind, tok in tokens(text):
        if kind == "word" and tok.upper() == "LOAD":
            raise QueryError("LOAD is refused: it would make the server fetch a URL; send the data "
                             "with the Graph Store Protocol (/store) or load it with `localoffer ingest`")
    for target in service_targets(text):
        iri = target[1:-1] if target.startswith("<") else None
        if iri is None or not allowed_services or iri not in allowed_services:
            raise QueryError(f"SERVICE {target or '(nothing)'} is refused: federated queries may only "
                             "name allow-listed SPARQL endpoints, and none is allowed here")
