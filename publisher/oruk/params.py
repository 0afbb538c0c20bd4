"""The query parameters of the ORUK API: read, checked and normalised, or refused with a 400
that names the parameter and says what would be right."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from localoffer.errors import LocalOfferError

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 1000
MAX_SEARCH_WORDS = 10
PAGING = ("page", "per_page")
SERVICE_FILTERS = ("search", "taxonomy_term_id", "taxonomy_id", "organization_id", "modified_after",
                   "minimum_age", "maximum_age", "postcode", "proximity", "day", "start_time",
                   "end_time")
DAYS = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday", "FR": "Friday",
        "SA": "Saturday", "SU": "Sunday"}
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_TIME = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2}))?$")


class BadParameter(LocalOfferError):
    """A query parameter the client got wrong (HTTP 400); `parameter` names it."""

    def __init__(self, parameter: str, message: str) -> None:
        self.parameter = parameter
        super().__init__(f"parameter '{parameter}': {message}")


@dataclass(frozen=True)
class Paging:
    """Which page of a list: 1-based page number and page size."""

    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def offset(self) -> int:
        """How many records come before this page."""
        return (self.page - 1) * self.per_page


@dataclass(frozen=True)
class Filters:
    """The /services and /service_at_locations filters, normalised; None means not given."""

    search: tuple[str, ...] = ()
    taxonomy_term_id: str | None = None
    taxonomy_id: str | None = None
    organization_id: str | None = None
    modified_after: str | None = None      # xsd:dateTime in UTC
    minimum_age: Decimal | None = None
    maximum_age: Decimal | None = None
    postcode: str | None = None             # UK postcode, standard spelling
    proximity: Decimal | None = None        # metres
    day: str | None = None                  # schema.org day name, e.g. "Monday"
    start_time: str | None = None           # xsd:time hh:mm:ss
    end_time: str | None = None


def values_of(args: Mapping[str, Sequence[str]], name: str) -> list[str]:
    """All values of a parameter (from a werkzeug MultiDict or a plain mapping of lists)."""
    getlist = getattr(args, "getlist", None)
    return list(getlist(name)) if getlist else list(args.get(name, ()))


def single(args: Mapping[str, Sequence[str]], name: str) -> str | None:
    """The one value of *name*, None when absent or empty; several values are refused."""
    values = values_of(args, name)
    if len(values) > 1:
        raise BadParameter(name, f"give it once (got {len(values)} values)")
    if not values or not values[0].strip():
        return None
    return values[0].strip()


def read_paging(args: Mapping[str, Sequence[str]]) -> Paging:
    """page (>= 1) and per_page (1..1000)."""
    page = _integer(args, "page", 1, None)
    per_page = _integer(args, "per_page", 1, MAX_PER_PAGE)
    return Paging(page or 1, per_page or DEFAULT_PER_PAGE)


def _integer(args: Mapping[str, Sequence[str]], name: str, low: int, high: int | None) -> int | None:
    values = values_of(args, name)
    if len(values) > 1:
        raise BadParameter(name, f"give it once (got {len(values)} values)")
    if not values:
        return None
    text = values[0].strip()
    limits = f"from {low} to {high}" if high else f"of at least {low}"
    if not re.fullmatch(r"[+]?\d{1,9}", text):
        raise BadParameter(name, f"must be a whole number {limits}; got {values[0]!r}")
    value = int(text)
    if value < low or (high is not None and value > high):
        raise BadParameter(name, f"must be a whole number {limits}; got {value}")
    return value


def read_filters(args: Mapping[str, Sequence[str]]) -> Filters:
    """All service filters; unknown parameters are ignored (ORUK clients send others)."""
    search = single(args, "search")
    words = tuple(dict.fromkeys(w.lower() for w in search.split())) if search else ()
    if len(words) > MAX_SEARCH_WORDS:
        raise BadParameter("search", f"at most {MAX_SEARCH_WORDS} words; got {len(words)}")
    postcode = _postcode(single(args, "postcode"))
    proximity = _number(args, "proximity")
    if proximity is not None and postcode is None:
        raise BadParameter("proximity", "needs a postcode to measure from (postcode=BS1 5TH)")
    if proximity is not None and proximity <= 0:
        raise BadParameter("proximity", f"must be a positive distance in metres; got {proximity}")
    return Filters(
        search=words,
        taxonomy_term_id=single(args, "taxonomy_term_id"),
        taxonomy_id=single(args, "taxonomy_id"),
        organization_id=single(args, "organization_id"),
        modified_after=_datetime(single(args, "modified_after")),
        minimum_age=_number(args, "minimum_age"),
        maximum_age=_number(args, "maximum_age"),
        postcode=postcode,
        proximity=proximity,
        day=_day(single(args, "day")),
        start_time=_time(args, "start_time"),
        end_time=_time(args, "end_time"),
    )


def _number(args: Mapping[str, Sequence[str]], name: str) -> Decimal | None:
    text = single(args, name)
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise BadParameter(name, f"must be a number, e.g. 5; got {text!r}") from None
    if not value.is_finite() or value < 0:
        raise BadParameter(name, f"must be a number of 0 or more; got {text!r}")
    return value


def _datetime(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        raise BadParameter("modified_after", "must be a date or date-time, e.g. 2024-12-01 or "
                                             f"2024-12-01T09:00:00Z; got {text!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _postcode(text: str | None) -> str | None:
    if text is None:
        return None
    m = _POSTCODE.match(re.sub(r"\s+", "", text).upper())
    if not m:
        raise BadParameter("postcode", f"must be a UK postcode such as BS1 5TH; got {text!r}")
    return f"{m.group(1)} {m.group(2)}"


def _day(text: str | None) -> str | None:
    if text is None:
        return None
    key = text.strip().upper()[:2]
    name = DAYS.get(key)
    if name is None or text.strip().lower() not in (key.lower(), name.lower()):
        raise BadParameter("day", f"must be a day as MO..SU or Monday..Sunday; got {text!r}")
    return name


def _time(args: Mapping[str, Sequence[str]], name: str) -> str | None:
    text = single(args, name)
    if text is None:
        return None
    m = _TIME.match(text)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59 or int(m.group(3) or 0) > 59:
        raise BadParameter(name, f"must be a time as hh:mm or hh:mm:ss, e.g. 09:30; got {text!r}")
    return f"{m.group(1)}:{m.group(2)}:{m.group(3) or '00'}"
