"""Graph snapshots of the embedded store: each named graph's N-Triples, kept as they were
loaded, so that reading a whole graph back costs a file read instead of a dump.

Why: Oxigraph stores each IRI and long literal once and refers to it by a hash, so dumping a
graph looks every term of every triple up in RocksDB. For a 3,000-service authority (~165,000
triples, 29 MB of N-Triples) that is 3–7 s of CPU on a store that has been written many times,
against ~0.05 s to read the same bytes from a file; the validation reads each authority whole.

Layout, beside the versions (see localoffer.store.embedded):

    snapshots/vNNNNNN/index.json   {graph IRI: {"file": name, "triples": n}}
    snapshots/vNNNNNN/<name>.nt    the graph's N-Triples, one triple per line

A writer that replaces a graph from N-Triples (`stream_graph`, `replace_graph`) keeps a copy
of the lines it loaded. Before the version is published each copy is checked against the
graph: it is kept only when its distinct lines are exactly as many as the graph's triples (the
store holds the set of triples the lines spell, so the two are then the same set; duplicate
lines are dropped). Any other change to a graph in the write (an update, an added file, a
drop) discards its snapshot, and the graphs the write did not touch carry theirs over as hard
links. A graph without a snapshot is simply dumped from the store."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

log = logging.getLogger(__name__)
FOLDER = "snapshots"
INDEX = "index.json"


def folder(root: Path, version: str) -> Path:
    return root / FOLDER / version


def file_name(graph: str) -> str:
    return hashlib.sha1(graph.encode("utf-8")).hexdigest()[:20] + ".nt"


class Tee:
    """A text stream that writes to two: the store's loader and the snapshot file. The copy
    failing (a full disk) only ends the copy: `complete` is then False."""

    def __init__(self, first: IO[str], second: IO[str]) -> None:
        self.first, self.second = first, second
        self.complete = True

    def _copy(self, write: Any, data: Any) -> None:
        if self.complete:
            try:
                write(data)
            except OSError:
                self.complete = False

    def write(self, text: str) -> int:
        self._copy(self.second.write, text)
        return self.first.write(text)

    def writelines(self, lines: Any) -> None:
        lines = lines if isinstance(lines, (list, tuple)) else list(lines)
        self._copy(self.second.writelines, lines)
        self.first.writelines(lines)

    def flush(self) -> None:
        self._copy(lambda _: self.second.flush(), None)
        self.first.flush()

    def close_copy(self) -> None:
        try:
            self.second.close()
        except OSError:
            self.complete = False


def verified(path: Path, triples: int) -> bool:
    """Make the file hold the graph's triples as the store gives them back, and say whether
    it does: typed literals in Oxigraph's canonical form (the store keeps numbers, booleans
    and dates as values: "14.0"^^xsd:decimal comes back as "14"), duplicate lines dropped, and
    then exactly *triples* lines. A file that does not match is deleted, and so is one with
    blank nodes: the store names them afresh on every load, so labels from the file could
    clash with another graph's where graphs are read together."""
    try:
        data = path.read_bytes()
        canonical = b"" if b"_:" in data else canonical_form(data)
        if canonical and (canonical.count(b"\n") != triples or not canonical.endswith(b"\n")
                          or b"\n\n" in canonical or canonical.startswith(b"\n")):
            canonical = b"".join(line + b"\n" for line in dict.fromkeys(canonical.split(b"\n")) if line.strip())
    except (OSError, SyntaxError, ValueError) as exc:
        log.info("no snapshot of a graph: %s", exc)
        canonical = b""
    if canonical.count(b"\n") != triples or not triples:
        log.info("no snapshot of a graph: %d lines for %d triples", canonical.count(b"\n"), triples)
        path.unlink(missing_ok=True)
        return False
    if canonical is not data:
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(canonical)
        os.replace(tmp, path)
    return True


_XSD = b"^^<http://www.w3.org/2001/XMLSchema#"


def canonical_form(data: bytes) -> bytes:
    """*data* (N-Triples, one triple a line) with each XSD-typed literal written the way
    Oxigraph writes it after storing it, found by storing each distinct one in an in-memory
    store; *data* itself when nothing changes."""
    lines: list[tuple[int, int, bytes, bytes]] = []  # start, end, "<s> <p> ", object
    pos = data.find(_XSD)
    while pos != -1:
        start = data.rfind(b"\n", 0, pos) + 1
        end = data.find(b"\n", pos)
        end = len(data) if end == -1 else end
        s, p, rest = data[start:end].split(b" ", 2)
        lines.append((start, end, s + b" " + p + b" ", rest.rstrip()[:-1].rstrip()))
        pos = data.find(_XSD, end)
    if not lines:
        return data
    distinct = list(dict.fromkeys(line[3] for line in lines))
    probe = ox.Store()
    probe.bulk_load(b"".join(b"<urn:x:%d> <urn:x:p> %s .\n" % (i, o) for i, o in enumerate(distinct)),
                    format=ox.RdfFormat.N_TRIPLES)
    changed = {}
    for q in probe.quads_for_pattern(None, None, None, ox.DefaultGraph()):
        before, after = distinct[int(q.subject.value[6:])], str(q.object).encode("utf-8")
        if before != after:
            changed[before] = after
    if not changed:
        return data
    parts, done = [], 0
    for start, end, head, obj in lines:
        if obj in changed:
            parts += [data[done:start], head, changed[obj], b" ."]
            done = end
    parts.append(data[done:])
    return b"".join(parts)


def publish(root: Path, previous: str | None, name: str, touched: set[str] | None,
            written: dict[str, tuple[Path, int]]) -> None:
    """Write the index of version *name*: the snapshots this write made (*written*: graph ->
    (file, triples), already verified), and those of *previous* for graphs it did not touch."""
    target = folder(root, name)
    target.mkdir(parents=True, exist_ok=True)
    index = {g: {"file": p.name, "triples": n, "bytes": p.stat().st_size} for g, (p, n) in written.items()}
    if previous is not None and touched is not None:
        for graph, entry in read_index(root, previous).items():
            if graph in touched or graph in index:
                continue
            source = folder(root, previous) / entry["file"]
            try:
                os.link(source, target / entry["file"])
            except FileExistsError:
                pass
            except OSError:
                continue  # gone or not linkable: that graph is dumped from the store instead
            index[graph] = entry
    for stray in target.glob("*.nt"):
        if stray.name not in {e["file"] for e in index.values()}:
            stray.unlink(missing_ok=True)
    tmp = target / (INDEX + ".tmp")
    tmp.write_text(json.dumps(index, sort_keys=True), encoding="utf-8")
    os.replace(tmp, target / INDEX)


def read_index(root: Path, version: str) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads((folder(root, version) / INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def open_graph(root: Path, version: str, graph: str) -> IO[bytes] | None:
    """The snapshot of *graph* in *version*, open for reading, if there is one."""
    entry = read_index(root, version).get(graph)
    if not entry:
        return None
    try:
        fh = open(folder(root, version) / entry["file"], "rb")  # noqa: SIM115
    except OSError:
        return None  # pruned meanwhile: the caller dumps the graph instead
    if os.fstat(fh.fileno()).st_size != entry.get("bytes"):  # e.g. cut short by a crash
        fh.close()
        return None
    return fh


def remove(root: Path, version: str) -> None:
    shutil.rmtree(folder(root, version), ignore_errors=True)


def prune(root: Path, versions: set[str]) -> None:
    """Delete the snapshot folders of versions that are gone."""
    base = root / FOLDER
    if not base.is_dir():
        return
    for entry in base.iterdir():
        if entry.name not in versions:
            shutil.rmtree(entry, ignore_errors=True)
