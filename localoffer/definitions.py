"""Keeping the ontology and concept schemes in the store (graph `{base}/graph/def`), so that
SPARQL can use labels and scheme membership next to the data."""

from __future__ import annotations

import hashlib

from localoffer import namespaces as ns
from localoffer.config import Settings
from localoffer.resources import data_files
from localoffer.store import WriteSession


def definitions_turtle() -> tuple[list[bytes], str]:
    """The Turtle files of the ontology folder and a checksum over them."""
    files = [f.read_bytes() for f in data_files("ontology", ".ttl")]
    digest = hashlib.sha256(b"".join(files)).hexdigest()
    return files, digest


def ensure_definitions(session: WriteSession, settings: Settings) -> None:
    """Load the ontology into the def graph unless the same version is already there."""
    graph = ns.graph_iri(settings.base, "def")
    files, digest = definitions_turtle()
    present = session.query(
        f"ASK {{ GRAPH <{graph}> {{ <{graph}> <{ns.LO}contentChecksum> \"{digest}\" }} }}")
    if bool(present):
        return
    session.drop_graph(graph)
    for body in files:
        session.load(graph, body, "ttl")
    session.load(graph, f'<{graph}> <{ns.LO}contentChecksum> "{digest}" .\n'.encode(), "nt")
