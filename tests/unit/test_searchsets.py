"""The bitsets the /services search counts with: sets from numbers, and the members of a set
from an offset (pages by name)."""

from __future__ import annotations

import random
from types import SimpleNamespace

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
    words = Words(bitset([15, 3, 0, 19], 20), [15, 3, 0, 19])
    index = SimpleNamespace(conn=None)

    def page(f, filters):  # fresh sets for each page
        sets = Sets(iris, {s: i for i, s in enumerate(iris)}, {}, {}, {}, {}, [], [])
        return page_of(index, f, "", Selection(sets, words, filters))

    f = Filters(q="x", authority="E06000001")
    assert page(f, [("authority", bitset([0, 3], 20))]) == (2, ["s03", "s00"])
    assert page(f, [("authority", 0)]) == (0, [])
    assert page(Filters(q="x"), []) == (4, ["s15", "s03", "s00", "s19"])


@pytest.mark.parametrize("shared", ["0", "1"])
def test_pages_of_words_with_filters_rank_only_the_filtered(shared):
    """With one document per service or several (a service ranks as its best document), the
    matches are ranked once and a page under filters is their first filtered services."""
    import sqlite3

    from localoffer.publisher.linkeddata.search import Filters, page_of, select

    from localoffer import facets, textindex

    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.executescript(textindex._TABLES + facets.TABLES)
    conn.execute("INSERT INTO info VALUES ('shared', ?)", (shared,))
    authority = "https://example.org/id/authority/E06000001"
    for i in range(30):  # longer names rank lower; numbered by name in the other order
        s = f"https://example.org/id/service/s{i:02d}"
        conn.execute("INSERT INTO doc VALUES (?, 'g', ?, NULL)", (i + 1, s))
        conn.execute("INSERT INTO fts(rowid, name, description, provider) VALUES (?, ?, '', '')",
                     (i + 1, "play " + "more " * i))
        conn.execute("INSERT INTO svc VALUES (?, 'g', ?)", (s, f"{99 - i}"))
        if i % 7 == 3:
            conn.execute("INSERT INTO facet VALUES (?, 'g', 'authority', ?, ?)", (s, authority, authority))
    index = textindex.TextIndex("v", None, conn)
    base = "https://example.org/"

    def page(**filters):
        return page_of(index, Filters(q="play", **filters), base)

    assert list(select(index, Filters(q="play"), base).words.ranked) == list(range(29, -1, -1))
    assert page(authority="E06000001") == (4, [f"{base}id/service/s{i:02d}" for i in (3, 10, 17, 24)])
    assert page() == (30, [f"{base}id/service/s{i:02d}" for i in range(20)])
    assert page(page=2) == (30, [f"{base}id/service/s{i:02d}" for i in range(20, 30)])
    assert page(authority="E06000001", page=2) == (4, [])


def test_links_of_a_results_page_are_what_urlencode_gives():
    """Filters.query_string encodes the filters once and each link's change alone: the same
    text as urlencode of every non-empty value, for hostile text too."""
    from decimal import Decimal
    from urllib.parse import urlencode

    from localoffer.publisher.linkeddata.search import Filters

    def reference(f, **changes):
        values = {**f.as_params(), "page": ""}
        values.update({k: "" if v is None else str(v) for k, v in changes.items()})
        return urlencode({k: v for k, v in values.items() if v})

    rng = random.Random(7)
    texts = ["", "play & <b>", "café \"quotes\"", "a=b&c", "x y+z", "ünï/?#%"]
    for _ in range(2000):
        f = Filters(q=rng.choice(texts), authority=rng.choice(["", "E06000023"]), language=rng.choice(texts),
                    age=rng.choice([None, Decimal("7"), Decimal("2.5")]), cost=rng.choice(["", "free"]),
                    page=rng.choice([1, 2, 7]))
        change = rng.choice([{}, {"page": 3}, {"need": "asd"}, {"language": rng.choice(texts)},
                             {"authority": ""}, {"q": None}, {"age": Decimal("4")}])
        assert f.query_string(**change) == reference(f, **change), (f, change)
