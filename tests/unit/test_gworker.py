"""The gunicorn worker's connection balancing (localoffer.gworker), piece by piece: when a
worker leaves a connection to a sibling, and the slots the arbiter hands out."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from localoffer import gworker
from localoffer.gworker import NOT_ACCEPTING, gunicorn_hooks, lighter_sibling


@pytest.mark.parametrize(("table", "slot", "held", "expected"), [
    ([3, 3], 0, 3, False),          # even: take it
    ([4, 3], 0, 4, True),           # the sibling holds fewer: leave it
    ([3, 4], 0, 3, False),          # this worker holds fewer: take it
    ([0, 0], 1, 0, False),          # both idle
    ([NOT_ACCEPTING, 0], 1, 5, False),  # the only lighter one does not accept (retiring)
    ([9, 12, 7, NOT_ACCEPTING], 1, 12, True),
    ([12], 0, 12, False),           # a single worker never waits
])
def test_a_worker_leaves_a_connection_only_to_a_lighter_sibling_that_accepts(table, slot, held, expected):
    assert lighter_sibling(table, slot, held) is expected


def test_the_arbiter_hands_out_free_slots_and_frees_them(monkeypatch):
    monkeypatch.setattr(gworker, "_held", None)
    hooks = gunicorn_hooks()
    server = SimpleNamespace(WORKERS={})
    hooks["on_starting"](server)
    table = gworker._held
    assert table is not None and list(table[:4]) == [NOT_ACCEPTING] * 4
    first, second = SimpleNamespace(), SimpleNamespace()
    hooks["pre_fork"](server, first)
    server.WORKERS[101] = first
    hooks["pre_fork"](server, second)
    server.WORKERS[102] = second
    assert (first.slot, second.slot) == (0, 1)
    table[0], table[1] = 5, 7
    hooks["child_exit"](server, first)   # the first worker has gone: its slot is free again
    del server.WORKERS[101]
    assert table[0] == NOT_ACCEPTING and table[1] == 7
    third = SimpleNamespace()
    hooks["pre_fork"](server, third)
    assert third.slot == 0


def test_a_retiring_worker_says_it_does_not_accept(monkeypatch):
    table = [0, 0]
    monkeypatch.setattr(gworker, "_held", table)
    worker = SimpleNamespace(slot=1, alive=True, nr_conns=3, cfg=SimpleNamespace(worker_connections=1000))
    gworker.BalancingThreadWorker.publish(worker)
    assert table == [0, 3]
    worker.alive = False
    gworker.BalancingThreadWorker.publish(worker)
    assert table == [0, NOT_ACCEPTING]
