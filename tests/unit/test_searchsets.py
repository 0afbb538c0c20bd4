"""The bitsets the /services search counts with: sets from numbers, and the members of a set
from an offset (pages by name)."""

from __future__ import annotations

import random

import pytest

from localoffer.searchsets import bitset, members


def test_bitset_of_numbers():
    assert bitset([], 10) == 0
    assert bitset([0, 3, 9], 10) == 0b1000001001
    assert bitset([5, 5], 6) == 1 << 5


@pytest.mark.parametrize("size", [1, 7, 64, 511, 512, 513, 5000])
def test_members_from_an_offset(size):
    rng = random.Random(size)
    numbers = sorted(rng.sample(range(size), rng.randint(0, size)))
    bits = bitset(numbers, size)
    for offset in (0, 1, 19, 20, len(numbers) // 2, len(numbers) - 1, len(numbers), len(numbers) + 5):
        assert members(bits, offset, 20) == numbers[offset:offset + 20], offset
    assert members(bits, 0, len(numbers) + 1) == numbers


def test_a_page_of_words_keeps_the_filtered_services_in_rank_order():
    from localoffer.publisher.linkeddata.search import Filters, Selection, page_of

    from localoffer.searchsets import Sets, Words

    iris = [f"s{i:02d}" for i in range(20)]
    sets = Sets(iris, {s: i for i, s in enumerate(iris)}, {}, {}, {}, {})
    words = Words([15, 3, 0, 19], bitset([15, 3, 0, 19], 20))
    f = Filters(q="x", authority="E06000001")
    assert page_of(None, f, "", Selection(sets, words, [("authority", bitset([0, 3], 20))])) == (2, ["s03", "s00"])
    assert page_of(None, f, "", Selection(sets, words, [("authority", 0)])) == (0, [])
    assert page_of(None, f, "", Selection(sets, words, [])) == (4, ["s15", "s03", "s00", "s19"])


def test_filters_past_the_best_kept_matches_rank_them_all(monkeypatch):
    import sqlite3

    from localoffer.publisher.linkeddata.search import Filters, page_of, select

    from localoffer import facets, searchsets, textindex

    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.executescript(textindex._TABLES + facets.TABLES)
    conn.execute("INSERT INTO info VALUES ('shared', '0')")
    authority = "https://example.org/id/authority/E06000001"
    for i in range(30):  # longer names rank lower
        s = f"https://example.org/id/service/s{i:02d}"
        conn.execute("INSERT INTO doc VALUES (?, 'g', ?, NULL)", (i + 1, s))
        conn.execute("INSERT INTO fts(rowid, name, description, provider) VALUES (?, ?, '', '')",
                     (i + 1, "play " + "more " * i))
        conn.execute("INSERT INTO svc VALUES (?, 'g', ?)", (s, f"s{i:02d}"))
        if i % 7 == 3:
            conn.execute("INSERT INTO facet VALUES (?, 'g', 'authority', ?, ?)", (s, authority, authority))
    index = textindex.TextIndex("v", None, conn)
    f = Filters(q="play", authority="E06000001")
    expected = (4, [f"https://example.org/id/service/s{i:02d}" for i in (3, 10, 17, 24)])
    assert page_of(index, f, "https://example.org/") == expected
    monkeypatch.setattr(searchsets, "KEEP_RANKED", 5)
    sel = select(index, f, "https://example.org/")
    assert not sel.words.complete and len(sel.words.ranked) == 5
    assert page_of(index, f, "https://example.org/", sel) == expected
    assert page_of(index, Filters(q="play"), "https://example.org/")[1][-1].endswith("s19")
