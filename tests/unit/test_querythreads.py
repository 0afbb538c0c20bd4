"""The worker-thread query runner (LOCALOFFER_QUERY_ISOLATION=worker) on a real embedded
store: answers, a runaway makes the worker stop accepting and end once no request is in
flight, and a job that never gets a thread is refused as busy rather than counted a runaway.
(Its behaviour inside a real `localoffer serve` is in tests/integration/test_endpoint_guards.py.)"""

from __future__ import annotations

import threading
import time

import pytest

from localoffer.config import load_settings
from localoffer.querypool import PoolBusy, QueryTimeout
from localoffer.queryexec import Answer, QueryJob
from localoffer.querythreads import RequestCounter, ThreadRunner
from localoffer.store import open_store

EX = "http://example.org/"
# Overruns the deadlines below but ends by itself within seconds (200³ rows, a few seconds), so the threads
# these tests leave running do not burn CPU for the rest of the session.
SLOW = (f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{EX}graph/small> "
        "{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } }")


@pytest.fixture
def settings(tmp_path):
    settings = load_settings({"store": str(tmp_path / "store"), "base_uri": "http://localoffer.test/",
                              "query_timeout": 30}, environ={})
    rows = "".join(f"<{EX}item/{i}> <{EX}rank> \"{i}\" .\n" for i in range(300))
    small = "".join(f"<{EX}small/{i}> <{EX}rank> \"{i}\" .\n" for i in range(200))
    with open_store(settings).write() as session:
        session.load(f"{EX}graph/items", rows.encode(), "nt")
        session.load(f"{EX}graph/small", small.encode(), "nt")
    return settings


def test_answers_and_a_runaway_retires_the_worker_once_requests_are_done(settings):
    calls: list[str] = []
    in_flight = [1]  # the runaway's own request, until its 503 is written
    ended = threading.Event()

    def end() -> None:
        calls.append(f"end with {in_flight[0]} in flight")
        ended.set()

    runner = ThreadRunner(settings, 2, stop_accepting=lambda: calls.append("stop accepting"),
                          requests_in_flight=lambda: in_flight[0], end_process=end)
    answer = runner.run(QueryJob(f"SELECT ?o WHERE {{ <{EX}item/7> <{EX}rank> ?o }}"), 5)
    assert isinstance(answer, Answer) and b'"7"' in answer.body
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match="longer than the 0.5 s limit"):
        runner.run(QueryJob(SLOW), 0.5)
    assert 0.45 < time.monotonic() - started < 2
    assert calls == ["stop accepting"]
    time.sleep(0.3)
    assert not ended.is_set()  # a request is still being answered
    in_flight[0] = 0
    assert ended.wait(2) and calls == ["stop accepting", "end with 0 in flight"]
    # the other thread still answers while the runaway holds the first
    answer = runner.run(QueryJob(f"ASK {{ <{EX}item/1> ?p ?o }}"), 5)
    assert answer.form == "boolean"


def test_a_job_that_never_gets_a_thread_is_busy_not_a_runaway(settings):
    calls: list[str] = []
    runner = ThreadRunner(settings, 1, stop_accepting=lambda: calls.append("stop accepting"),
                          requests_in_flight=lambda: 0, end_process=lambda: calls.append("end"))
    with pytest.raises(QueryTimeout):
        runner.run(QueryJob(SLOW), 0.3)  # holds the only thread from now on
    calls.clear()
    with pytest.raises(PoolBusy, match="stayed busy"):
        runner.run(QueryJob("ASK { ?s ?p ?o }"), 0.3)
    time.sleep(0.1)
    assert "stop accepting" not in calls  # being queued is not overrunning


def test_the_request_counter_counts_until_the_body_is_closed():
    def app(environ, start_response):
        start_response("200 OK", [])
        return [b"a", b"b"]

    counter = RequestCounter(app)
    body = counter({}, lambda *a: None)
    assert counter.count == 1
    assert b"".join(body) == b"ab" and counter.count == 1
    body.close()
    assert counter.count == 0

    def failing(environ, start_response):
        raise RuntimeError("boom")

    counter = RequestCounter(failing)
    with pytest.raises(RuntimeError):
        counter({}, lambda *a: None)
    assert counter.count == 0
