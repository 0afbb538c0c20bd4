"""The human-readable summary of an ingest report."""

from __future__ import annotations

from .pipeline import IngestReport


PLURALS = {"information": "information resources", "local_offer": "Local Offer nodes",
           "taxonomy": "taxonomies", "triples": "triples"}


def summarise(report: IngestReport) -> str:
    """A few lines: what was read, loaded, rejected and changed."""
    lines = [f"source     {report.source}", f"graph      <{report.graph}>",
             f"authority  {report.authority}",
             f"read       {report.read} records"]
    loaded = ", ".join(f"{n} {PLURALS.get(k, k + 's')}" for k, n in sorted(report.counts.items()))
    lines.append(f"loaded     {loaded or 'nothing'} ({report.triples} triples)")
    lines.append(f"rejected   {len(report.rejected)} records")
    if report.unchanged:
        lines.append("changes    none: the source is identical to what is published; nothing written")
    else:
        parts = []
        for label, counter in (("added", report.added), ("removed", report.removed),
                               ("changed", report.changed)):
            if counter:
                parts.append(f"{label} " + ", ".join(f"{n} {k}" for k, n in sorted(counter.items())))
        lines.append("changes    " + ("; ".join(parts) if parts else "none"))
        lines.append(f"published  store version {report.version}")
    return "\n".join(lines)
