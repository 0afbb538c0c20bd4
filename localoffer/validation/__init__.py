"""Statutory validation: the SHACL shapes in shapes/ run by pySHACL over a Local Offer.

`validate()` checks an rdflib graph (core); `validate_store()` checks one authority's slice of
the store in focus sets, in parallel and incrementally (focus); `publish_report()` keeps the
report, the DQV completeness measurements and the incremental cache in the store (publish);
completeness figures are in quality, the report graph in reportgraph."""

from localoffer.validation.core import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_VIOLATION,
    RECORD_TYPES,
    REPORT_PREFIXES,
    SEVERITIES,
    SHAPES_NS,
    Finding,
    Rule,
    RuleResult,
    ValidationResult,
    data_graphs,
    exit_code,
    load_shapes,
    oxigraph_term,
    render_path,
    rules,
    validate,
)
from localoffer.validation.core import validate_store as validate_store_whole
from localoffer.validation.focus import iter_validate_authorities, validate_store
from localoffer.validation.publish import drop_combined_report, publish_report, publish_reports

__all__ = [
    "drop_combined_report",
    "EXIT_ERROR",
    "EXIT_OK",
    "EXIT_VIOLATION",
    "RECORD_TYPES",
    "REPORT_PREFIXES",
    "SEVERITIES",
    "SHAPES_NS",
    "Finding",
    "Rule",
    "RuleResult",
    "ValidationResult",
    "data_graphs",
    "exit_code",
    "iter_validate_authorities",
    "load_shapes",
    "oxigraph_term",
    "publish_report",
    "publish_reports",
    "render_path",
    "rules",
    "validate",
    "validate_store",
    "validate_store_whole",
]
