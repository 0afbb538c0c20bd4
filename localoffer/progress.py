"""A progress bar with counts and rate on a terminal (stderr); silent when piped."""

from __future__ import annotations

import sys
import time
from types import TracebackType


class Bar:
    """Context manager; `update(done, total)` redraws at most ten times a second."""

    def __init__(self, label: str, unit: str = "items", stream=None) -> None:  # type: ignore[no-untyped-def]
        self.label = label
        self.unit = unit
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.total: int | None = None
        self.done = 0
        self.started = time.monotonic()
        self._drawn = 0.0

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.enabled and self.done:
            self._draw(final=True)

    def update(self, done: int, total: int | None) -> None:
        if total is not None:
            self.total = total
        self.done = done
        now = time.monotonic()
        if self.enabled and now - self._drawn > 0.1:
            self._drawn = now
            self._draw()

    def _draw(self, final: bool = False) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.done / elapsed
        if self.total:
            width = 30
            filled = int(width * min(self.done, self.total) / self.total)
            bar = "#" * filled + "-" * (width - filled)
            text = f"{self.label} [{bar}] {self.done}/{self.total} {self.unit} {rate:,.0f}/s"
        else:
            text = f"{self.label} {self.done} {self.unit} {rate:,.0f}/s"
        self.stream.write("\r" + text + ("\n" if final else ""))
        self.stream.flush()
