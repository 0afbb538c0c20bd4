"""Answers to words kept per version: the first process to search a word ranks every match
once and keeps the answer beside the version file; another process reads it without asking
FTS5; answers of another file are not used; a file that cannot be written only costs the next
search; the answers go with their version; pages under filters come from the ranked matches."""

from __future__ import annotations

import logging
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from localoffer import searchsets, textindex
from localoffer.store import open_store
from localoffer.textindex import WEIGHTS, fts_query

from ..ldfixtures import BASE, build_store

WORDS = ["play", "autism", "sunrise", "speech language", "nothing-like-this"]


@pytest.fixture
def site(tmp_path):
    settings = build_store(tmp_path / "data")
    store = open_store(settings)
    yield settings, store
    store.close()
    searchsets._recent.clear()


def fresh_sets(index):
    """The sets as a new process reads them (nothing kept in memory)."""
    searchsets._recent.clear()
    return searchsets.sets_of(index.conn, index.path)


def asked_fts(conn):
    """The statements *conn* runs that match the text index, from now on."""
    seen: list[str] = []
    conn.set_trace_callback(lambda sql: seen.append(sql) if "MATCH" in sql else None)
    return seen


def fts_order(index, sets, query):
    """Every match of *query*, best first, asked of FTS5 directly (the reference)."""
    rows = index.conn.execute(f"SELECT doc.iri, bm25(fts, {', '.join(map(str, WEIGHTS))}) AS r "
                              "FROM fts JOIN doc ON doc.id = fts.rowid WHERE fts MATCH ? "
                              "ORDER BY r, fts.rowid", (query,))
    return list(dict.fromkeys(sets.number[s] for s, _ in rows if s in sets.number))


def test_another_process_reads_the_kept_answer_without_asking_fts(site):
    settings, store = site
    with textindex.open_index(store) as index:
        first = {}
        sets = fresh_sets(index)
        for w in WORDS:
            first[w] = sets.words(index.conn, fts_query(w), WEIGHTS)
            assert list(first[w].ranked) == fts_order(index, sets, fts_query(w)), w
            assert first[w].bits == searchsets.bitset(first[w].ranked, len(sets.iris))
        assert textindex.words_file(index.path).exists()
        other = fresh_sets(index)
        assert other is not sets
        seen = asked_fts(index.conn)
        for w in WORDS:
            again = other.words(index.conn, fts_query(w), WEIGHTS)
            assert (again.bits, list(again.ranked)) == (first[w].bits, list(first[w].ranked)), w
        assert seen == []


def test_threads_asking_for_the_same_new_words_rank_them_once(site, monkeypatch):
    import threading
    import time

    settings, store = site
    with textindex.open_index(store) as index:
        sets = fresh_sets(index)
        ranked = []
        rank = searchsets.Sets._rank

        def slow_rank(self, conn, query, weights):
            ranked.append(query)
            time.sleep(0.3)  # long enough for every thread to ask meanwhile
            return rank(self, conn, query, weights)

        monkeypatch.setattr(searchsets.Sets, "_rank", slow_rank)
        answers = []
        threads = [threading.Thread(target=lambda: answers.append(
            sets.words(index.conn, fts_query("play"), WEIGHTS))) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert ranked == [fts_query("play")] and len(answers) == 4
        assert all(a is answers[0] for a in answers)


def test_answers_kept_for_other_contents_are_not_used(site):
    """A search file changed in place gets a words file of its own; and a words file that
    holds answers for other contents (a copy, a reused name) is emptied, not read."""
    import shutil

    settings, store = site
    with textindex.open_index(store) as index:
        sets = fresh_sets(index)
        query = fts_query("play")
        right = sets.words(index.conn, query, WEIGHTS)
        before = textindex.words_file(index.path)
        with closing(sqlite3.connect(before)) as db, db:  # a wrong answer, of the same size
            db.execute("UPDATE answer SET ranked = ?", (b"\0" * len(db.execute("SELECT ranked FROM answer").fetchone()[0]),))
        stat = index.path.stat()
        os.utime(index.path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # the file changed
        after = textindex.words_file(index.path)
        assert after != before
        shutil.copy(before, after)  # the old contents' answers under the new name
        other = fresh_sets(index)
        seen = asked_fts(index.conn)
        again = other.words(index.conn, query, WEIGHTS)
        assert list(again.ranked) == list(right.ranked) and seen, "searched afresh"
        with closing(sqlite3.connect(after)) as db:
            assert db.execute("SELECT COUNT(*) FROM answer").fetchone()[0] == 1  # the copied ones dropped


def test_versions_sharing_a_search_file_share_its_answers_until_none_has_it(site):
    """A validation report links the search file: the next version reads the answers kept
    for the one before, also after that one is pruned; they go when no version has the file."""
    from localoffer.store.embedded import KEEP_VERSIONS
    from localoffer.validation import publish_report, validate_store

    settings, store = site
    derived = Path(settings.store) / "derived"
    with textindex.open_index(store) as index:
        fresh_sets(index).words(index.conn, fts_query("play"), WEIGHTS)
        first, kept = index.path, textindex.words_file(index.path)
    code = statistics_code(store, settings)
    for _ in range(KEEP_VERSIONS + 1):  # reports only: every version links the same file
        publish_report(store, settings, validate_store(store, settings, authority=code))
    assert not first.exists() and kept.exists()
    with textindex.open_index(store) as index:
        assert textindex.words_file(index.path) == kept
        seen = asked_fts(index.conn)
        fresh_sets(index).words(index.conn, fts_query("play"), WEIGHTS)
        assert seen == []
    for n in range(KEEP_VERSIONS + 1):  # new services: new files, the linked ones pruned
        with store.write() as session:
            session.update(f'INSERT DATA {{ GRAPH <{BASE}graph/test/extra{n}> {{ <{BASE}id/service/x{n}> a '
                           f'<https://schema.org/Service> ; <https://schema.org/name> "Extra play {n}" }} }}')
    assert not kept.exists()
    assert {f.name.split(".sqlite")[0] for f in (derived / "words").iterdir()} <= {
        textindex.words_file(f).name.split(".sqlite")[0] for f in derived.glob("*.sqlite")}


def statistics_code(store, settings):
    from localoffer import statistics

    return statistics.collect(store, settings)["authorities"][0]["code"]


@pytest.mark.parametrize("damage", ["not a database", "an answer of the wrong size", "a set not the ranked"])
def test_a_damaged_words_file_is_started_afresh_and_said_once(site, caplog, damage):
    settings, store = site
    with textindex.open_index(store) as index:
        sets = fresh_sets(index)
        sets.words(index.conn, fts_query("play"), WEIGHTS)
        words = textindex.words_file(index.path)
        if damage == "not a database":
            words.write_bytes(b"this is not SQLite " * 100)
        else:
            with closing(sqlite3.connect(words)) as db, db:
                db.execute("UPDATE answer SET ranked = x'010203'" if damage == "an answer of the wrong size"
                           else "UPDATE answer SET bits = zeroblob(length(bits))")
        other = fresh_sets(index)
        with caplog.at_level(logging.DEBUG, logger="localoffer.searchsets"):
            for w in WORDS:
                assert list(other.words(index.conn, fts_query(w), WEIGHTS).ranked) == \
                    fts_order(index, other, fts_query(w)), w
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1 and str(words) in warnings[0].getMessage()
        third = fresh_sets(index)  # the file was started afresh: its answers are read
        seen = asked_fts(index.conn)
        for w in WORDS[1:]:
            third.words(index.conn, fts_query(w), WEIGHTS)
        assert seen == []


def test_a_words_file_that_cannot_be_used_only_costs_the_next_search(site, caplog):
    settings, store = site
    with textindex.open_index(store) as index:
        where = textindex.words_file(index.path)
        where.mkdir(parents=True)  # where the file would go: not a database
        sets = fresh_sets(index)
        with caplog.at_level(logging.WARNING, logger="localoffer.searchsets"):
            for w in WORDS:
                words = sets.words(index.conn, fts_query(w), WEIGHTS)
                assert list(words.ranked) == fts_order(index, sets, fts_query(w)), w
        assert len(caplog.records) == 1 and str(where) in caplog.text  # said once
        assert sets.answers is None  # kept in memory only from the third failure on
        assert where.is_dir()


def test_the_oldest_answers_go_past_the_limit(site, monkeypatch):
    settings, store = site
    with textindex.open_index(store) as index:
        sets = fresh_sets(index)
        sizes = {w: (len(sets.iris) >> 3) + 1 + 4 * len(fts_order(index, sets, fts_query(w))) for w in WORDS}
        for w in WORDS[:3]:
            sets.words(index.conn, fts_query(w), WEIGHTS)
        monkeypatch.setattr(searchsets, "ANSWERS_BYTES", sizes["sunrise"] + sizes["speech language"] + 1)
        sets.words(index.conn, fts_query("speech language"), WEIGHTS)
        with closing(sqlite3.connect(textindex.words_file(index.path))) as db:
            kept = [q for q, in db.execute("SELECT query FROM answer ORDER BY rowid")]
        assert kept == [fts_query("sunrise"), fts_query("speech language")]


def test_the_answers_go_with_their_version(site):
    settings, store = site
    with textindex.open_index(store) as index:
        fresh_sets(index).words(index.conn, fts_query("play"), WEIGHTS)
        kept = textindex.words_file(index.path)
    assert kept.exists()
    from localoffer.store.embedded import KEEP_VERSIONS

    for n in range(KEEP_VERSIONS + 1):  # versions past those kept: the first one's files are gone
        with store.write() as session:
            session.update(f'INSERT DATA {{ GRAPH <{BASE}graph/test/extra{n}> {{ <{BASE}id/service/x{n}> a '
                           f'<https://schema.org/Service> ; <https://schema.org/name> "Extra play {n}" }} }}')
    assert not kept.exists() and not kept.with_name(kept.name + "-wal").exists()
    textindex.remove(textindex.index_file(Path(settings.store) / "derived", store.version()))
    assert not list((Path(settings.store) / "derived").glob(f"{store.version()}.sqlite*"))


def test_pages_under_filters_come_from_the_ranked_matches(site):
    """Every page of a word under each filter equals the ranked matches kept by the filter."""
    from localoffer.publisher.linkeddata.search import Filters, filter_sets, page_of, select

    settings, store = site
    with textindex.open_index(store) as index:
        sets = fresh_sets(index)
        ranked = fts_order(index, sets, fts_query("play"))
        filters = [Filters(q="play"), Filters(q="play", age=5), Filters(q="play", cost="free"),
                   Filters(q="play", age=17, cost="paid")]
        for f in filters:
            within = None
            for _, bits in filter_sets(sets, f, BASE):
                within = bits if within is None else within & bits
            expected = [sets.iris[i] for i in ranked if within is None or within >> i & 1]
            total, page = page_of(index, f, BASE, select(index, f, BASE))
            assert (total, page) == (len(expected), expected[:20]), f


def test_a_server_answers_again_in_a_new_version_the_words_asked_in_the_last(site):
    from localoffer.server import SearchWarmer

    settings, store = site
    warmer = SearchWarmer(store, after=0)
    assert warmer.step() == 0  # the first version this worker reads: nothing asked before it
    with textindex.open_index(store) as index:
        for w in ("play", "autism"):
            searchsets.sets_of(index.conn, index.path).words(index.conn, fts_query(w), WEIGHTS)
    with store.write() as session:  # a new service: a new search file
        session.update(f'INSERT DATA {{ GRAPH <{BASE}graph/test/extra> {{ <{BASE}id/service/x> a '
                       '<https://schema.org/Service> ; <https://schema.org/name> "Extra play" } }')
    before = warmer.current
    assert warmer.step() == 2
    assert warmer.step() == 0  # the same version again
    with textindex.open_index(store) as index:
        seen = asked_fts(index.conn)
        sets = searchsets.sets_of(index.conn, index.path)
        assert sets.answers != before  # kept in order: the last asked are the last dropped
        assert searchsets.asked_words(sets.answers, 10) == searchsets.asked_words(before, 10) == [
            fts_query("autism"), fts_query("play")]
        words = sets.words(index.conn, fts_query("play"), WEIGHTS)
        assert seen == [] and sets.number[f"{BASE}id/service/x"] in words.ranked
        assert list(words.ranked) == fts_order(index, sets, fts_query("play"))


def test_warming_stops_for_a_newer_version_and_leaves_a_folder_another_worker_warms(site):
    import fcntl

    settings, store = site
    with textindex.open_index(store) as index:
        sets = searchsets.sets_of(index.conn, index.path)
        sets.words(index.conn, fts_query("play"), WEIGHTS)
        previous = sets.answers
    with store.write() as session:
        session.update(f'INSERT DATA {{ GRAPH <{BASE}graph/test/extra> {{ <{BASE}id/service/x> a '
                       '<https://schema.org/Service> ; <https://schema.org/name> "Extra play" } }')
    with textindex.open_index(store) as index:
        assert searchsets.asked_words(previous, 10) == [fts_query("play")]
        assert searchsets.warm_words(index.conn, index.path, previous, still_current=lambda: False) == 0
        with open(index.path.parent / ".words-lock", "a+b") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            assert searchsets.warm_words(index.conn, index.path, previous, still_current=lambda: True) == 0
        assert searchsets.warm_words(index.conn, index.path, previous, still_current=lambda: True) == 1


def test_words_are_answered_again_once_writes_have_stopped_for_a_while(site):
    """While versions keep coming (a harvest), nothing is ranked again; a minute after the
    last, the words kept before the burst are answered in it."""
    from localoffer.server import SearchWarmer

    settings, store = site
    now = [0.0]
    warmer = SearchWarmer(store, after=60, clock=lambda: now[0])
    warmer.step()
    with textindex.open_index(store) as index:
        searchsets.sets_of(index.conn, index.path).words(index.conn, fts_query("play"), WEIGHTS)
    for n in range(3):  # a version every 30 s
        with store.write() as session:
            session.update(f'INSERT DATA {{ GRAPH <{BASE}graph/test/extra{n}> {{ <{BASE}id/service/x{n}> a '
                           f'<https://schema.org/Service> ; <https://schema.org/name> "Extra play {n}" }} }}')
        assert warmer.step() == 0
        now[0] += 30
        assert warmer.step() == 0
    now[0] += 30
    assert warmer.step() == 1
    now[0] += 60
    assert warmer.step() == 0  # once per version
    with textindex.open_index(store) as index:
        seen = asked_fts(index.conn)
        searchsets.sets_of(index.conn, index.path).words(index.conn, fts_query("play"), WEIGHTS)
        assert seen == []
