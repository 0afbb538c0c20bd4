"""A remote store left with answer limits (Virtuoso's ResultSetMaxRows,
MaxQueryCostEstimationTime and MaxQueryExecutionTime as Debian ships them, a small
TransactionAfterImageLimit) is refused
with an error that says which setting to change, rather than giving cut answers without a sign."""

from __future__ import annotations

import shutil

import pytest

from localoffer.config import load_settings
from localoffer.errors import StoreError
from localoffer.store import open_store

from ..conftest import BASE, require_system
from ..servers import VIRTUOSO_INI, virtuoso_process


@pytest.fixture(scope="module")
def limited_virtuoso(tmp_path_factory):
    require_system("Virtuoso (Debian package virtuoso-opensource)",
                   shutil.which("virtuoso-t") is not None and VIRTUOSO_INI.exists(),
                   "apt-get install virtuoso-opensource")
    with virtuoso_process(tmp_path_factory.mktemp("virtuoso-limited"), max_rows=10000,
                          cost_limit=400, max_time=1,
                          after_image=100_000) as url:
        yield f"sparql+{url}"


def _store(url):
    return open_store(load_settings({"store": url, "base_uri": BASE, "store_kind": "virtuoso"},
                                    environ={}))


def test_a_store_that_cuts_graph_answers_is_refused_at_the_first_construct(limited_virtuoso):
    store = _store(limited_virtuoso)
    try:
        with pytest.raises(StoreError, match=r"CONSTRUCT of 12100 triples with only \d+:.*"
                                             r"ResultSetMaxRows = 0"):
            store.query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <urn:none> { ?s ?p ?o } }")
    finally:
        store.close()


def test_a_select_cut_at_the_row_limit_is_an_error(limited_virtuoso):
    digits = " ".join(str(i) for i in range(101))  # 101 × 101 = 10,201 rows
    store = _store(limited_virtuoso)
    try:
        rows = list(store.query(f"SELECT * WHERE {{ VALUES ?a {{ {digits} }} }}"))
        assert len(rows) == 101  # under the limit: answered
        with pytest.raises(StoreError, match="cut the answer at 10000 rows.*ResultSetMaxRows"):
            store.query(f"SELECT * WHERE {{ VALUES ?a {{ {digits} }} VALUES ?b {{ {digits} }} }}")
    finally:
        store.close()


def test_a_refusal_by_estimated_cost_says_which_setting(limited_virtuoso):
    store = _store(limited_virtuoso)
    try:
        with pytest.raises(StoreError, match="estimate of the cost.*MaxQueryCostEstimationTime = 0"):
            store.query("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . "
                        "?j ?k ?l . ?m ?n2 ?o }")
    finally:
        store.close()


def test_an_update_stopped_at_the_time_limit_says_which_setting(limited_virtuoso):
    store = _store(limited_virtuoso)
    rows = "".join(f"<urn:lo:s{i}> <urn:lo:p> {i} .\n" for i in range(300))
    try:
        store.put_graph("urn:lo:small", rows.encode(), "nt")
        with pytest.raises(StoreError, match=r"time limit.*MaxQueryExecutionTime = 0"):
            # one triple to write, after counting 300^3 rows: far past the second this store allows
            store.run_update("INSERT { GRAPH <urn:lo:count> { <urn:lo:all> <urn:lo:n> ?n } } WHERE { "
                             "{ SELECT (COUNT(*) AS ?n) WHERE { GRAPH <urn:lo:small> "
                             "{ ?a ?p ?x . ?b ?r ?y . ?c ?q ?z } } } }")
    finally:
        store.close()


def test_a_write_too_large_for_the_transaction_log_says_which_setting(limited_virtuoso):
    store = _store(limited_virtuoso)
    rows = "".join(f"<urn:lo:t{i}> <urn:lo:p> \"a label long enough to weigh in the log {i}\" .\n"
                   for i in range(3000))
    try:
        with pytest.raises(StoreError, match=r"data for <urn:lo:wide> as too large for its transaction "
                                             r"log.*TransactionAfterImageLimit"):
            store.put_graph("urn:lo:wide", rows.encode(), "nt")
    finally:
        store.close()
