"""The thread that publishes a validation run's reports: batches, waiting, errors."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from localoffer.validation.focus import _Batches


def _result(name: str) -> SimpleNamespace:
    return SimpleNamespace(authority=name, stats={"report_ntriples": b"x", "records": {}})


def _until(done, seconds: float = 5) -> None:
    """Wait (at most *seconds*) until *done()*."""
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        time.sleep(0.01)


class _Held:
    """A publisher that records each batch's size and holds until released."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.release = threading.Event()

    def __call__(self, ready) -> None:
        self.sizes.append(len(ready))
        self.release.wait(5)


def test_results_are_published_four_at_a_time_and_the_rest_at_the_end():
    seen: list[list[str]] = []
    batches = _Batches(lambda ready: seen.append([r.authority for r in ready]), together=4, wait=60)
    results = [_result(f"c{i}") for i in range(10)]
    for r in results:
        batches.put(r)
    batches.close()
    assert [a for batch in seen for a in batch] == [f"c{i}" for i in range(10)]  # in order, each once
    assert all(len(batch) >= 4 for batch in seen[:-1]) and sum(map(len, seen)) == 10
    assert all(not r.stats for r in results)  # the report text is not kept once published


def test_a_lone_result_is_published_after_the_wait():
    seen: list[tuple[float, int]] = []
    started = time.monotonic()
    batches = _Batches(lambda ready: seen.append((time.monotonic() - started, len(ready))),
                       together=4, wait=0.3)
    batches.put(_result("c0"))
    _until(lambda: seen)
    assert seen and seen[0][1] == 1 and 0.25 <= seen[0][0] < 3  # not before the wait, nor at close
    batches.close()


def test_put_waits_while_the_queue_is_full():
    held = _Held()
    batches = _Batches(held, together=1, wait=60, waiting=2)
    batches.put(_result("c0"))  # taken at once; the publisher then blocks
    _until(lambda: held.sizes)
    batches.put(_result("c1"))
    batches.put(_result("c2"))
    third = threading.Thread(target=batches.put, args=(_result("c3"),))
    third.start()
    third.join(0.3)
    assert third.is_alive()  # two wait already
    held.release.set()
    third.join(5)
    assert not third.is_alive()
    batches.close()
    assert sum(held.sizes) == 4


def test_a_failed_publish_reaches_the_caller_and_stops_the_rest():
    calls: list[list[str]] = []

    def failing(ready):
        calls.append([r.authority for r in ready])
        raise OSError("disk full")

    batches = _Batches(failing, together=1, wait=60)
    batches.put(_result("c0"))
    _until(lambda: calls)
    deadline = time.monotonic() + 5
    with pytest.raises(OSError, match="disk full"):
        while time.monotonic() < deadline:
            batches.put(_result("later"))
            time.sleep(0.01)
    with pytest.raises(OSError, match="disk full"):
        batches.close()
    assert calls == [["c0"]]  # nothing tried after the failure
    batches.close(quiet=True)  # the caller's own error wins when there is one


def test_a_write_takes_at_most_the_largest_batch():
    held = _Held()
    batches = _Batches(held, together=2, wait=60, waiting=9, largest=3)
    for i in range(2):
        batches.put(_result(f"c{i}"))
    _until(lambda: held.sizes)
    for i in range(2, 9):  # seven wait while the first write runs
        batches.put(_result(f"c{i}"))
    held.release.set()
    batches.close()
    assert held.sizes[0] == 2 and max(held.sizes) == 3 and sum(held.sizes) == 9
