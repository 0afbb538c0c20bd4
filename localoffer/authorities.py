"""Names of English local authorities by ONS GSS code, for the authorities whose data ships
with localoffer and their neighbours; any other code gets a neutral name until a profile
or --authority-name gives the real one."""

from __future__ import annotations

NAMES = {
    "E06000023": "Bristol City Council",
    "E06000013": "North Lincolnshire Council",
    "E06000012": "North East Lincolnshire Council",
    "E06000010": "Kingston upon Hull City Council",
    "E06000011": "East Riding of Yorkshire Council",
    "E06000022": "Bath and North East Somerset Council",
    "E06000024": "North Somerset Council",
    "E06000025": "South Gloucestershire Council",
    "E06000060": "Buckinghamshire Council",
    "E06000045": "Southampton City Council",
    "E10000019": "Lincolnshire County Council",
}


def authority_name(gss: str) -> str:
    """The authority's name, or 'Local authority {code}' when it is not in the table."""
    return NAMES.get(gss.upper(), f"Local authority {gss.upper()}")
