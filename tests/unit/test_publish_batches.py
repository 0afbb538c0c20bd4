"""The thread that publishes a validation run's reports: batches, waiting, errors."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from localoffer.validation.focus import _Batches


def _result(name: str) -> SimpleNamespace:
    return SimpleNamespace(authority=name, stats={"report_ntriples": b"x", "records": {}})


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
    batches = _Batches(lambda ready: seen.append((time.monotonic() - started, len(ready))), together=4, wait=0.3)
    batches.put(_result("c0"))
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.02)
    assert seen and seen[0][1] == 1 and 0.25 <= seen[0][0] < 3  # not before the wait, nor at close
    batches.close()


def test_put_waits_while_the_queue_is_full():
    release = threading.Event()
    calls: list[int] = []

    def slow(ready):
        calls.append(len(ready))
        release.wait(5)

    batches = _Batches(slow, together=1, wait=60, waiting=2)
    batches.put(_result("c0"))  # taken at once; the publisher then blocks
    deadline = time.monotonic() + 5
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    batches.put(_result("c1"))
    batches.put(_result("c2"))
    third = threading.Thread(target=batches.put, args=(_result("c3"),))
    third.start()
    third.join(0.3)
    assert third.is_alive()  # two wait already
    release.set()
    third.join(5)
    assert not third.is_alive()
    batches.close()
    assert sum(calls) == 4


def test_a_failed_publish_reaches_the_caller_and_stops_the_rest():
    calls: list[list[str]] = []

    def failing(ready):
        calls.append([r.authority for r in ready])
        raise OSError("disk full")

    batches = _Batches(failing, together=1, wait=60)
    batches.put(_result("c0"))
    deadline = time.monotonic() + 5
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.raises(OSError, match="disk full"):
        while time.monotonic() < deadline:
            batches.put(_result("later"))
            time.sleep(0.01)
    with pytest.raises(OSError, match="disk full"):
        batches.close()
    assert calls == [["c0"]]  # nothing tried after the failure
    batches.close(quiet=True)  # the caller's own error wins when there is one


def test_a_write_takes_at_most_the_largest_batch():
    release = threading.Event()
    seen: list[int] = []

    def slow(ready):
        seen.append(len(ready))
        release.wait(5)

    batches = _Batches(slow, together=2, wait=60, waiting=9, largest=3)
    for i in range(2):
        batches.put(_result(f"c{i}"))
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.01)
    for i in range(2, 9):  # seven wait while the first write runs
        batches.put(_result(f"c{i}"))
    release.set()
    batches.close()
    assert seen[0] == 2 and max(seen) == 3 and sum(seen) == 9
