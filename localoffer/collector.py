"""Pausing Python's cyclic garbage collector around work that builds millions of objects.

Validating an authority makes millions of small objects (terms, triples, dicts) that hold no
reference cycles. While they pile up, the collector's full passes walk all of them and find
nothing, and re-enabling it while they are still alive soon sets off one more (~0.6 s each at
3,000 services). Reference counting frees them either way; the pause only skips those passes.
(Tried on the ingest too: 9 full passes fewer in a 3-authority ingest, no time saved.)"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic collection inside the block (nested blocks leave it to the outermost). Drop
    the big structures before the block ends: re-enabling the collector while they are alive
    soon triggers a full pass over them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
