"""The ordered IRIs of a list (all services, or those a filter matches), kept per store
version: a list is read and sorted once, and its pages are then slices of it. Sorting in the
engine (ORDER BY) decodes every term at every comparison and takes minutes at national scale;
reading the IRIs once and sorting them here takes seconds, and later pages take milliseconds."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

DEFAULT_MAX_IDS = 2_000_000


class OrderCache:
    """A least-recently-used map from (store version, query) to sorted IRIs, bounded by the
    total number of IRIs held."""

    def __init__(self, max_ids: int = DEFAULT_MAX_IDS) -> None:
        self.max_ids = max_ids
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], list[str]] = OrderedDict()
        self._size = 0
        self._version = ""

    def get(self, key: tuple[str, str], compute: Callable[[], list[str]]) -> list[str]:
        """The cached list for *key*, computing (outside the lock) and keeping it if new."""
        with self._lock:
            if key[0] != self._version:  # the data changed: earlier lists are stale
                self._entries.clear()
                self._size = 0
                self._version = key[0]
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
                return hit
        value = compute()
        with self._lock:
            if key[0] == self._version and key not in self._entries and len(value) <= self.max_ids:
                self._entries[key] = value
                self._size += len(value)
                while self._size > self.max_ids:
                    _, old = self._entries.popitem(last=False)
                    self._size -= len(old)
        return value

    def clear(self) -> None:
        """Forget every list."""
        with self._lock:
            self._entries.clear()
            self._size = 0
