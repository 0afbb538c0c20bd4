"""Renderings of a ValidationResult for people and programs: text (grouped by severity, then
by rule, with counts and the first examples), JSON, Turtle (the SHACL report with a
dcterms:source per result) and a self-contained HTML page."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from localoffer.authorities import authority_name
from localoffer.errors import ValidationError
from localoffer.validation import (
    REPORT_PREFIXES,
    SEVERITIES,
    Finding,
    RuleResult,
    ValidationResult,
)
from localoffer.validation.quality import DQV, METRIC

FORMATS = ("text", "json", "html", "ttl")
EXAMPLES = 5
_PLURAL = {"Violation": "violations", "Warning": "warnings", "Info": "infos"}
_RECORDS = (("services", "services"), ("organizations", "organisations"), ("locations", "locations"),
            ("local_offers", "Local Offer nodes"))


def render(result: ValidationResult, fmt: str, *, severities: Collection[str] | None = None) -> str:
    """*result* in one of FORMATS; *severities* limits the rules shown (the counts stay whole)."""
    renderers = {"text": render_text, "json": render_json, "html": render_html, "ttl": render_turtle}
    if fmt not in renderers:
        raise ValidationError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
    return renderers[fmt](result, severities=severities)


def render_text(result: ValidationResult, *, severities: Collection[str] | None = None,
                examples: int = EXAMPLES) -> str:
    """Plain text: a summary and the completeness figures, then each severity, each rule with
    its count, message, legal source and the first *examples* findings (record name, focus
    node, path, value)."""
    lines = [_title(result), _summary(result), "", *_completeness_lines(result)]
    for severity, rules in _by_severity(result.rules, severities):
        total = sum(r.count for r in rules)
        lines.append(f"{_PLURAL[severity].upper()} ({total})")
        for rr in rules:
            lines.append(f"  [{rr.count}] {rr.rule.label} ({_short(rr.rule.shape)})")
            lines.append(f"      {rr.rule.message}")
            for source in rr.rule.sources:
                lines.append(f"      Source: {cite(source)} <{source}>")
            for f in rr.findings[:examples]:
                lines.append("      - " + _example(f))
            if rr.count > examples:
                lines.append(f"      ... and {rr.count - examples} more")
        lines.append("")
    if not result.findings:
        lines.append("Nothing to report: every rule is met.")
    return "\n".join(lines).rstrip() + "\n"


def result_as_dict(result: ValidationResult, *, severities: Collection[str] | None = None) -> dict[str, Any]:
    """The result as plain data: summary, counts, completeness (shares as decimal strings),
    and every rule with all its findings."""
    return {
        "authority": result.authority,
        "authority_name": authority_name(result.authority) if result.authority else None,
        "conforms": result.conforms,
        "created": result.created,
        "seconds": round(result.seconds, 3),
        "records": result.records,
        "counts": result.counts,
        "completeness": result.completeness,
        "rules": [
            {"shape": rr.rule.shape, "label": rr.rule.label, "severity": rr.rule.severity,
             "message": rr.rule.message, "sources": list(rr.rule.sources),
             "citations": [cite(s) for s in rr.rule.sources], "comment": rr.rule.comment,
             "count": rr.count,
             "findings": [{"record": f.record, "name": f.record_name, "focus": f.focus, "path": f.path,
                           "value": f.value, "message": f.message} for f in rr.findings]}
            for _, rules in _by_severity(result.rules, severities) for rr in rules
        ],
    }


def render_json(result: ValidationResult, *, severities: Collection[str] | None = None) -> str:
    """JSON of result_as_dict()."""
    return json.dumps(result_as_dict(result, severities=severities), indent=2, ensure_ascii=False) + "\n"


def render_turtle(result: ValidationResult, *, severities: Collection[str] | None = None) -> str:
    """The SHACL validation report (sh:ValidationReport) with dcterms:source on every result.
    The report graph is always whole: *severities* does not apply to it."""
    import pyoxigraph as ox

    from localoffer.validation.reportgraph import report_triples

    return ox.serialize(report_triples(result), format=ox.RdfFormat.TURTLE,
                        prefixes={**REPORT_PREFIXES, "dqv": DQV, "lom": METRIC}).decode("utf-8")


def render_html(result: ValidationResult, *, severities: Collection[str] | None = None) -> str:
    """A self-contained HTML page: summary, a table of rules with counts and legal citations,
    and, per rule, every failing record by name, linked to its IRI. Everything is escaped."""
    env = _environment()
    template = env.get_template("validation-report.html")
    groups = [(severity, _PLURAL[severity], rules)
              for severity, rules in _by_severity(result.rules, severities)]
    return template.render(
        result=result, title=_title(result), summary=_summary(result), groups=groups,
        severities=SEVERITIES, plural=_PLURAL, short=_short, cite=cite, pct=_pct)


def cite(url: str) -> str:
    """A readable title for a legal or standards citation IRI (the IRI itself if unknown)."""
    for pattern, title in _CITATIONS:
        m = pattern.search(url)
        if m:
            return title.format(*m.groups())
    return url


_CITATIONS = [(re.compile(p), t) for p, t in (
    (r"legislation\.gov\.uk/ukpga/2014/6/section/(\w+)$", "Children and Families Act 2014, section {}"),
    (r"legislation\.gov\.uk/uksi/2014/1530/schedule/(\d+)/paragraph/(\d+)$",
     "SEND Regulations 2014, Schedule {} paragraph {}"),
    (r"legislation\.gov\.uk/uksi/2014/1530/schedule/(\d+)$", "SEND Regulations 2014, Schedule {}"),
    (r"legislation\.gov\.uk/uksi/2014/1530/regulation/(\d+)$", "SEND Regulations 2014, regulation {}"),
    (r"legislation\.gov\.uk/uksi/2011/707$", "Breaks for Carers of Disabled Children Regulations 2011"),
    (r"legislation\.gov\.uk/ukpga/1996/56/section/(\w+)$", "Education Act 1996, section {}"),
    (r"gov\.uk/government/publications/send-code-of-practice-0-to-25$",
     "SEND Code of Practice: 0 to 25 years"),
    (r"docs\.openreferral\.org/.*#(\w+)$", "Open Referral (HSDS 3.0) standard: {}"),
)]


# -- helpers ----------------------------------------------------------------------------------

def _environment() -> Any:
    """A Jinja2 environment over publisher/templates, found without importing the publisher
    package (which would import Flask)."""
    import jinja2

    spec = importlib.util.find_spec("localoffer.publisher")
    if spec is None or not spec.submodule_search_locations:
        raise ValidationError("the publisher templates are not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "templates"
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters["href"] = _href
    return env


def _href(iri: str | None) -> str | None:
    """Only http(s) IRIs become links (never javascript: or data: from the data)."""
    return iri if iri and iri.lower().startswith(("http://", "https://")) else None


def _by_severity(rules: Iterable[RuleResult],
                 severities: Collection[str] | None) -> list[tuple[str, list[RuleResult]]]:
    wanted = set(severities) if severities else set(SEVERITIES)
    unknown = wanted - set(SEVERITIES)
    if unknown:
        raise ValidationError(f"unknown severity {', '.join(sorted(unknown))}; use {', '.join(SEVERITIES)}")
    rules = list(rules)
    return [(s, [r for r in rules if r.rule.severity == s]) for s in SEVERITIES
            if s in wanted and any(r.rule.severity == s for r in rules)]


def _title(result: ValidationResult) -> str:
    if result.authority:
        return f"Local Offer validation: {authority_name(result.authority)} ({result.authority})"
    return "Local Offer validation"


def _summary(result: ValidationResult) -> str:
    checked = ", ".join(f"{result.records.get(k, 0)} {label}" for k, label in _RECORDS
                        if result.records.get(k))
    verdict = "no Violation" if result.conforms else "does not conform"
    counts = ", ".join(f"{result.counts.get(s, 0)} {_PLURAL[s]}" for s in SEVERITIES)
    return (f"Checked {checked or 'no records'}: {verdict} ({counts}); "
            f"{result.created}, {result.seconds:.1f} s.")


def _pct(share: str | None) -> str:
    return "n/a" if share is None else f"{float(share) * 100:.1f}%"


def _completeness_lines(result: ValidationResult) -> list[str]:
    c = result.completeness
    if not c:
        return []
    items = c["statutory_items"]
    lines = ["COMPLETENESS",
             f"  Statutory items present: {items['met']} of {items['total']} ({_pct(items['share'])})"]
    for m in items["missing"]:
        lines.append(f"      - not met: {m['label']} ({m['severity']})")
    if c["services"]:
        ok = c["services_without_violation"]
        lines.append(f"  Services without a Violation: {ok['count']} of {c['services']} "
                     f"({_pct(ok['share'])})")
        lines.append("  Services passing each rule:")
        for r in c["service_rules"]:
            lines.append(f"    {_pct(r['share']):>7}  {r['passing']} of {c['services']}  "
                         f"{r['label']} ({r['severity']})")
    return [*lines, ""]


def _example(f: Finding) -> str:
    name = f'"{f.record_name}"' if f.record_name else "(no name)"
    parts = [f"{name} <{f.record}>"]
    if f.focus != f.record:
        parts.append(f"at <{f.focus}>")
    if f.path:
        parts.append(f.path)
    if f.value is not None:
        parts.append(f"= {json.dumps(f.value, ensure_ascii=False)[:120]}")
    return " ".join(parts)


def _short(iri: str) -> str:
    return "los:" + iri.split("#", 1)[1] if "/def/shapes#" in iri else iri
