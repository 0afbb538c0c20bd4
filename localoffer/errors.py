"""The project's exceptions. Library code raises these; only the CLI and the web layer
turn them into messages, exit codes and HTTP statuses."""

from __future__ import annotations


class LocalOfferError(Exception):
    """Base class for every error localoffer reports to a user."""


class ConfigError(LocalOfferError):
    """A setting is missing or malformed."""


class IngestError(LocalOfferError):
    """A source cannot be read or mapped as a whole."""


class RecordError(IngestError):
    """One record of a source is unusable; the message names the record and the field."""

    def __init__(self, message: str, *, record: str = "", field: str = "", source: str = "") -> None:
        self.record = record
        self.field = field
        self.source = source
        self.detail = message
        where = ", ".join(p for p in (source, record,
                                      f"field '{field}'" if field else "") if p)
        super().__init__(f"{where}: {message}" if where else message)


class StoreError(LocalOfferError):
    """The store cannot be opened, read or written."""


class QueryError(LocalOfferError):
    """A SPARQL query is malformed or not allowed."""


class NotFoundError(LocalOfferError):
    """A requested resource does not exist."""


class ValidationError(LocalOfferError):
    """Validation could not run (not: the data does not conform)."""


class HarvestError(LocalOfferError):
    """A neighbour could not be harvested."""
