"""Pausing Python's cyclic garbage collector around work that builds millions of objects.

Validating an authority makes millions of small objects (terms, triples, dicts) that hold no
reference cycles. While they pile up, the collector's full passes walk all of them and find
nothing, and re-enabling it while they are still alive soon sets off one more (~0.6 s each at
3,000 services). Reference counting frees them either way; the pause only skips those passes.
(Tried on the ingest too: 9 full passes fewer in a 3-authority ingest, no time saved.)"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_paused = 0  # blocks open, in any thread (the collector is the process's)
_was_enabled = False


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic collection inside the block. Nested blocks, and blocks open at once in other
    threads (a validation run publishes reports from a thread of its own), leave it to the
    last one to end. Drop the big structures before the block ends: re-enabling the collector
    while they are alive soon triggers a full pass over them."""
    global _paused, _was_enabled
    with _lock:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                gc.enable()
