"""The one resolver for data folders shipped inside the package (ontology, shapes, queries,
samples). Works the same from a source checkout (editable install) and from a wheel."""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable

FOLDERS = ("ontology", "shapes", "queries", "samples")


def data_folder(name: str) -> Traversable:
    """The folder *name* (one of FOLDERS) as an importlib.resources Traversable."""
    if name not in FOLDERS:
        raise ValueError(f"unknown data folder {name!r}")
    return resources.files(f"localoffer.{name}")


def data_files(name: str, suffix: str) -> list[Traversable]:
    """The files in folder *name* (and one level of sub-folders) ending in *suffix*, sorted."""
    root = data_folder(name)
    found: list[Traversable] = []
    for entry in root.iterdir():
        if entry.is_file() and entry.name.endswith(suffix):
            found.append(entry)
        elif entry.is_dir() and not entry.name.startswith(("_", ".")):
            found.extend(e for e in entry.iterdir() if e.is_file() and e.name.endswith(suffix))
    return sorted(found, key=lambda e: e.name)
