"""Graph Store writes are checked against the SHACL shapes before they are published: a write
that would add Violations is refused with the report, unless the client forces it.

Which shapes: the file or folder named by LOCALOFFER_WRITE_SHAPES when set; otherwise the
project's validator (`localoffer.validation.validate`) when it is installed; otherwise the
Turtle files of the shapes/ folder. With none of these, writes are not validated."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rdflib
from rdflib.namespace import SH

from localoffer.config import Settings
from localoffer.errors import LocalOfferError

Validator = Callable[[rdflib.Graph], list["Violation"]]


@dataclass(frozen=True)
class Violation:
    """One SHACL result of severity Violation."""

    focus: str
    path: str
    message: str
    shape: str
    component: str
    value: str

    def key(self) -> tuple[str, ...]:
        """What identifies the same violation before and after a write (blank nodes differ
        between parses, so they count as one)."""
        return tuple(_stable(x) for x in (self.focus, self.path, self.shape, self.component, self.value))

    def as_dict(self) -> dict[str, str]:
        """For the JSON error body."""
        return {"focus": self.focus, "path": self.path, "message": self.message,
                "shape": self.shape, "constraint": self.component, "value": self.value}


class WriteRefused(LocalOfferError):
    """The write would add SHACL Violations."""

    def __init__(self, graph: str, violations: list[Violation]) -> None:
        self.violations = violations
        label = "the default graph" if not graph else f"<{graph}>"
        super().__init__(f"the write to {label} would add {len(violations)} SHACL violation"
                         f"{'s' if len(violations) != 1 else ''}; fix the data, or add ?force=true "
                         "to write it anyway")


def _stable(text: str) -> str:
    return "_:" if text.startswith("_:") else text


def check_write(validator: Validator | None, graph: str, after: bytes,
                before: Callable[[], bytes | None]) -> None:
    """Refuse (WriteRefused) when the N-Triples *after* has Violations that the graph's
    current content (*before*, fetched only when needed) does not have."""
    if validator is None:
        return
    found = validator(_graph(after))
    if not found:
        return
    previous = before()
    old = {v.key() for v in validator(_graph(previous))} if previous else set()
    added = [v for v in found if v.key() not in old]
    if added:
        raise WriteRefused(graph, added)


def _graph(ntriples: bytes) -> rdflib.Graph:
    g = rdflib.Graph()
    if ntriples:
        g.parse(data=ntriples, format="nt")
    return g


def find_validator(settings: Settings) -> Validator | None:
    """The validator the settings and the installed code call for (see the module docstring)."""
    if settings.write_shapes:
        return _pyshacl(_load_shapes([Path(settings.write_shapes)]))
    try:
        module = importlib.import_module("localoffer.validation")
    except ImportError:
        module = None
    if module is not None and hasattr(module, "validate"):
        return _project_validator(module.validate)
    from localoffer.resources import data_files

    files = data_files("shapes", ".ttl")
    if not files:
        return None
    shapes = rdflib.Graph()
    for f in files:
        shapes.parse(data=f.read_text(encoding="utf-8"), format="turtle")
    return _pyshacl(shapes)


def _load_shapes(paths: list[Path]) -> rdflib.Graph:
    shapes = rdflib.Graph()
    for path in paths:
        for f in sorted(path.glob("*.ttl")) if path.is_dir() else [path]:
            shapes.parse(f, format="turtle")
    return shapes


def _pyshacl(shapes: rdflib.Graph) -> Validator:
    def validate(data: rdflib.Graph) -> list[Violation]:
        import pyshacl

        _conforms, report, _text = pyshacl.validate(data, shacl_graph=shapes, advanced=True)
        return violations_in(report)

    return validate


def _project_validator(validate: Callable[..., Any]) -> Validator:
    """Adapt the project's validator, whatever its result carries: a SHACL report graph, a
    list of violations, or only a conforms flag."""

    def run(data: rdflib.Graph) -> list[Violation]:
        result = validate(data)
        if isinstance(result, tuple) and len(result) >= 2 and isinstance(result[1], rdflib.Graph):
            return violations_in(result[1])
        for name in ("report_graph", "results_graph", "graph", "report"):
            candidate = getattr(result, name, None)
            if isinstance(candidate, rdflib.Graph):
                return violations_in(candidate)
        items = getattr(result, "violations", None)
        if items is not None:
            return [_from_object(v) for v in items]
        if getattr(result, "conforms", True):
            return []
        return [Violation("", "", str(result), "", "", "")]

    return run


def _from_object(item: Any) -> Violation:
    def text(*names: str) -> str:
        for name in names:
            value = getattr(item, name, None) if not isinstance(item, dict) else item.get(name)
            if value is not None:
                return str(value)
        return ""

    return Violation(text("focus", "focus_node"), text("path", "result_path"),
                     text("message", "result_message") or str(item), text("shape", "source_shape"),
                     text("component", "constraint"), text("value"))


def violations_in(report: rdflib.Graph) -> list[Violation]:
    """The Violation-severity results of a SHACL validation report graph."""
    out = []
    for result in report.objects(None, SH.result):
        if report.value(result, SH.resultSeverity) != SH.Violation:
            continue

        def text(prop: rdflib.URIRef, r: Any = result) -> str:
            value = report.value(r, prop)
            if value is None:
                return ""
            return f"_:{value}" if isinstance(value, rdflib.BNode) else str(value)

        out.append(Violation(text(SH.focusNode), text(SH.resultPath), text(SH.resultMessage),
                             text(SH.sourceShape), text(SH.sourceConstraintComponent), text(SH.value)))
    return out
