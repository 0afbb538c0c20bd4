"""Reading JSON sources (files and HTTP bodies) with errors that say where and why."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from localoffer.errors import IngestError

from .records import Item, detect_kind, from_v1


def parse_json(body: bytes, where: str) -> Any:
    """Parse JSON; a failure names *where*, the line and column, and what the body looks like."""
    if not body.strip():
        raise IngestError(f"{where}: the file is empty; expected a JSON array or object of services")
    head = body.lstrip()[:200].lower()
    if head.startswith((b"<!doctype", b"<html", b"<?xml", b"<")):
        raise IngestError(f"{where}: this is an HTML or XML page, not JSON (an error page or a "
                          "login page?); expected an Open Referral JSON feed")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        ending = (" — the file ends early; was it truncated?"
                  if exc.reason == "unexpected end of data" else "")
        raise IngestError(f"{where}: not UTF-8 text (byte {exc.start}); expected UTF-8 JSON"
                          f"{ending}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # a string that never closes also means the text ran out
        truncated = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        ending = " — the file ends early; was it truncated?" if truncated else ""
        raise IngestError(f"{where}: invalid JSON at line {exc.lineno}, column {exc.colno}: "
                          f"{exc.msg}{ending}") from None


def page_items(doc: Any, where: str) -> tuple[list[Any], int | None]:
    """The items of a document and its total page count: a bare array, a v1 Spring page
    (`content`, `totalPages`) or an HSDS 3.0 page (`contents`, `total_pages`)."""
    if isinstance(doc, list):
        return doc, None
    if isinstance(doc, dict):
        if isinstance(doc.get("contents"), list):
            return doc["contents"], _int(doc.get("total_pages"))
        if isinstance(doc.get("content"), list):
            return doc["content"], _int(doc.get("totalPages"))
        if "id" in doc:
            return [doc], None
    raise IngestError(f"{where}: expected an array of services, a page with 'contents' (HSDS 3.0) "
                      f"or 'content' (ORUK v1), or a single record with an 'id'; got "
                      f"{type(doc).__name__} with keys {sorted(doc)[:8] if isinstance(doc, dict) else ''}")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def items_of(records: list[Any], where: str, start: int = 0) -> Iterator[Item]:
    """Items for the records of a page, with v1 fields converted to HSDS 3.0."""
    for i, rec in enumerate(records, start=start):
        locator = f"{where} record {i + 1}"
        if not isinstance(rec, dict):
            yield Item("invalid", {"_value": rec}, locator)
            continue
        kind = detect_kind(rec)
        yield Item(kind, from_v1(rec) if kind == "service" else rec, locator)
