"""The shapes readers hand to the mapper: `Item`s of HSDS 3.0-like dicts, and the
conversion of ORUK v1 (and Placecube/Outpost vendor) fields to HSDS 3.0 names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KINDS = ("service", "organization", "location", "taxonomy", "taxonomy_term", "service_at_location")
_DAY_NAMES = {"monday": "MO", "tuesday": "TU", "wednesday": "WE", "thursday": "TH",
              "friday": "FR", "saturday": "SA", "sunday": "SU"}
_DAY_NUMBERS = {"1": "MO", "2": "TU", "3": "WE", "4": "TH", "5": "FR", "6": "SA", "7": "SU"}


@dataclass
class Item:
    """One top-level record of a source: its kind, its fields, and where it was found."""

    kind: str
    data: dict[str, Any]
    locator: str


def detect_kind(d: dict[str, Any]) -> str:
    """Guess what an HSDS object is from its fields (HSDS lists do not say)."""
    keys = set(d)
    if keys & {"services", "organization_identifiers", "website", "year_incorporated", "programs"}:
        return "organization"
    if "taxonomy_terms" in keys or ("version" in keys and "status" not in keys and "uri" in keys):
        return "taxonomy"
    if keys & {"term_uri", "parent_id", "taxonomy_id", "taxonomy_detail", "code", "term"} \
            and "status" not in keys:
        return "taxonomy_term"
    if "location_type" in keys and "status" not in keys:
        return "location"
    if keys & {"service", "service_id"} and keys & {"location", "location_id"} \
            and not keys & {"name", "status"}:
        return "service_at_location"
    return "service"


def from_v1(d: dict[str, Any]) -> dict[str, Any]:
    """An ORUK v1 / HSDS 2 service (with vendor `pc_*` fields) renamed to HSDS 3.0 fields.
    Fields already in 3.0 form pass through unchanged."""
    out = dict(d)
    if "pc_attendingAccess_additionalInfo" in out:
        out["attending_access_info"] = out.pop("pc_attendingAccess_additionalInfo")
    if "pc_targetAudience" in out:
        out["target_audiences"] = out.pop("pc_targetAudience") or []
    taxa = out.pop("service_taxonomys", None) or out.pop("service_taxonomies", None)
    if taxa:
        out["attributes"] = list(out.get("attributes") or []) + [_v1_taxonomy(t) for t in taxa]
    if "regular_schedules" in out:
        out["schedules"] = list(out.get("schedules") or []) + [
            _v1_schedule(s) for s in out.pop("regular_schedules") or []]
    eligibilitys = out.pop("eligibilitys", None)
    if eligibilitys:
        out["eligibility_terms"] = eligibilitys
        mins = [e.get("minimum_age") for e in eligibilitys if isinstance(e, dict)
                and isinstance(e.get("minimum_age"), (int, float))]
        maxs = [e.get("maximum_age") for e in eligibilitys if isinstance(e, dict)
                and isinstance(e.get("maximum_age"), (int, float))]
        if mins and out.get("minimum_age") in (None, ""):
            out["minimum_age"] = min(mins)
        if maxs and out.get("maximum_age") in (None, ""):
            out["maximum_age"] = max(maxs)
    if "fundings" in out:
        out["funding"] = out.pop("fundings")
    if isinstance(out.get("languages"), list):
        out["languages"] = [({**lang, "name": lang["language"]} if isinstance(lang, dict)
                             and "language" in lang and "name" not in lang else lang)
                            for lang in out["languages"]]
        for lang in out["languages"]:
            if isinstance(lang, dict):
                lang.pop("language", None)
    return out


def _v1_taxonomy(t: Any) -> Any:
    if not isinstance(t, dict):
        return t
    term = t.get("taxonomy") if isinstance(t.get("taxonomy"), dict) else {}
    term = {k: v for k, v in term.items() if k != "vocabulary"} | (
        {"taxonomy": term["vocabulary"]} if term.get("vocabulary") else {})
    return {"taxonomy_term": term} if term else t


def _v1_schedule(s: Any) -> Any:
    if not isinstance(s, dict):
        return s
    out = {k: v for k, v in s.items() if k not in ("weekday", "service_at_location")}
    day = str(s.get("weekday") or "").strip()
    code = _DAY_NAMES.get(day.lower()) or _DAY_NUMBERS.get(day) or (day.upper() if len(day) == 2 else None)
    if code and not out.get("byday"):
        out["byday"] = code
        out.setdefault("freq", "WEEKLY")
    elif day and not code:
        out["byday"] = day
    return out
