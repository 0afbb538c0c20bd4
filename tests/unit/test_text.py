"""ingest/text.py: HTML to plain text, empty values, names, UK postcodes."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import pytest

from localoffer.ingest.text import (_extract_simple, _TextExtractor, clean_name, clean_plain,
                                    clean_text, normalise_postcode)
from localoffer.resources import data_folder


class TestCleanText:
    def test_paragraphs_become_blank_line_separated(self) -> None:
        assert clean_text("<p>First para.</p><p>Second para.</p>") == "First para.\n\nSecond para."

    def test_bullets(self) -> None:
        html = "<p>We offer:</p><ul><li>Advice</li><li>Drop-in sessions</li></ul><p>Call us.</p>"
        assert clean_text(html) == "We offer:\n\n• Advice\n• Drop-in sessions\n\nCall us."

    def test_ordered_list_items_are_bullets_too(self) -> None:
        assert clean_text("<ol><li>One</li><li>Two</li></ol>") == "• One\n• Two"

    def test_paragraph_inside_list_item_stays_on_the_bullet(self) -> None:
        # as in Bristol's feed: <li><p>...</p></li>
        html = "<p>Open:</p><ul><li><p>Monday, 8am</p></li><li><p>Friday, 8am</p></li></ul><p>End</p>"
        assert clean_text(html) == "Open:\n\n• Monday, 8am\n• Friday, 8am\n\nEnd"

    def test_empty_list_items_and_nested_lists(self) -> None:
        assert clean_text("<ul><li>A<ul><li>B</li></ul></li><li> </li><li>C</li></ul>") == "• A\n• B\n• C"

    def test_inline_markup_inside_bullet(self) -> None:
        assert clean_text("<ul><li><strong>Bold</strong> text</li></ul>") == "• Bold text"

    def test_link_text_kept(self) -> None:
        assert clean_text('<p>See <a href="https://x.example">our page</a>.</p>') == "See our page."

    def test_line_breaks(self) -> None:
        assert clean_text("Line one<br>Line two<br/>Line three") == "Line one\nLine two\nLine three"
        assert clean_text("One<br><br>Two") == "One\n\nTwo"
        assert clean_text("<p><br>Text<br></p>") == "Text"

    @pytest.mark.parametrize(("raw", "expected"), [
        ("Fish &amp; Chips", "Fish & Chips"),
        ("Costs &pound;5 or &#163;5 or &#xA3;5", "Costs £5 or £5 or £5"),
        ("&#39;quoted&#39; and &quot;double&quot;", "'quoted' and \"double\""),
        ("caf&eacute;", "café"),
        ("<p>Tom &amp; Jerry&nbsp;</p>", "Tom & Jerry"),
    ])
    def test_entities_decoded(self, raw: str, expected: str) -> None:
        assert clean_text(raw) == expected

    def test_entities_decoded_exactly_once(self) -> None:
        # "&amp;lt;" is the text "&lt;", not "<"
        assert clean_text("<p>Write &amp;lt; for a less-than sign</p>") == "Write &lt; for a less-than sign"

    def test_nbsp_and_runs_of_spaces_collapse(self) -> None:
        assert clean_text("<p>a&nbsp;&nbsp;  \t b</p>") == "a b"

    def test_script_and_style_content_dropped(self) -> None:
        assert clean_text("<style>p{color:red}</style><p>Hi</p><script>alert(1)</script>") == "Hi"

    def test_tags_without_text_are_empty(self) -> None:
        assert clean_text("<p><br></p>") is None
        assert clean_text("<div> &nbsp; </div>") is None

    @pytest.mark.parametrize("raw", ["", "   ", "\n\t ", None])
    def test_empty_is_none(self, raw: object) -> None:
        assert clean_text(raw) is None
        assert clean_plain(raw) is None

    def test_plain_text_untouched_but_trimmed(self) -> None:
        assert clean_text("  A < B and C > D  ") == "A < B and C > D"
        assert clean_text("Bristol & South Glos") == "Bristol & South Glos"

    def test_plain_newlines_kept_blank_lines_limited(self) -> None:
        assert clean_text("One\r\n\r\n\r\n\r\nTwo\nThree") == "One\n\nTwo\nThree"

    def test_numbers_become_text(self) -> None:
        assert clean_text(5) == "5"
        assert clean_plain(12.5) == "12.5"

    def test_nested_blocks_do_not_pile_up_blank_lines(self) -> None:
        out = clean_text("<div><div><p>A</p></div></div><div><p>B</p></div>")
        assert out == "A\n\nB"


class TestCleanPlainAndName:
    def test_plain_keeps_markup(self) -> None:
        assert clean_plain("  <b>x</b> ") == "<b>x</b>"

    def test_name_decodes_entities_keeps_markup(self) -> None:
        assert clean_name("  Tom &amp; Jerry ") == "Tom & Jerry"
        assert clean_name("<script>alert(1)</script>") == "<script>alert(1)</script>"
        assert clean_name("H&Me Creations") == "H&Me Creations"

    def test_name_is_one_line(self) -> None:
        assert clean_name("Stay\n  and\tPlay") == "Stay and Play"

    @pytest.mark.parametrize("raw", ["", "  ", None])
    def test_empty_name_is_none(self, raw: object) -> None:
        assert clean_name(raw) is None


class TestPostcode:
    @pytest.mark.parametrize(("raw", "expected"), [
        ("bs1 5th", "BS1 5TH"),
        ("BS15TH", "BS1 5TH"),
        ("  sw1a   1aa ", "SW1A 1AA"),
        ("ec1v9hq", "EC1V 9HQ"),
        ("M1 1AE", "M1 1AE"),
        ("dn15 6nl", "DN15 6NL"),
        ("b338th", "B33 8TH"),
    ])
    def test_uk_postcodes_normalised(self, raw: str, expected: str) -> None:
        assert normalise_postcode(raw) == expected

    @pytest.mark.parametrize(("raw", "expected"), [
        ("ABC 1234", "ABC 1234"),          # the HSDS example's (US-style) code
        ("  not a postcode ", "not a postcode"),
        ("90210", "90210"),
    ])
    def test_other_values_only_trimmed(self, raw: str, expected: str) -> None:
        assert normalise_postcode(raw) == expected


class TestFastPathMatchesHtmlParser:
    """The fast tokeniser must give exactly what html.parser gives, or step aside (None)."""

    @staticmethod
    def _slow(text: str) -> str:
        parser = _TextExtractor()
        parser.feed(text)
        parser.close()
        return "".join(parser.parts)

    @staticmethod
    def _strings(value: object) -> Iterator[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for v in value.values():
                yield from TestFastPathMatchesHtmlParser._strings(v)
        elif isinstance(value, list):
            for v in value:
                yield from TestFastPathMatchesHtmlParser._strings(v)

    @pytest.mark.parametrize("feed", ["bristol-services-2024-12.json",
                                      "north-lincolnshire-services-2024-12.json"])
    def test_every_text_of_the_real_feeds(self, feed: str) -> None:
        data = json.loads((data_folder("samples") / feed).read_text(encoding="utf-8"))
        checked = fast = 0
        for text in set(self._strings(data)):
            if "<" not in text and "&" not in text:
                continue
            checked += 1
            parts = _extract_simple(text)
            if parts is not None:
                fast += 1
                assert "".join(parts) == self._slow(text), text[:200]
        assert checked > 100 and fast > checked * 0.9  # the fast path is the usual path

    @pytest.mark.parametrize("text", [
        "<p>a</p> <p>b</p>", "<P CLASS='x'>Up</P>", "<br/><br />x<br>", "<a href=\"a>b\">l</a>",
        "<a href=x/>y</a>", "a < b", "a<b", "<3 you", "x</p foo>y", "<p>unclosed", "</li>stray",
        "<!-- c --><p>x</p>", "<script>1<2</script>t", "<style>p{}</style>t", "<title>t</title>",
        "&amp;lt;", "&nbsp;&nbsp;", "<p>&#163;5 &pound;</p>", "&unknown; &", "<ul><li> </li></ul>",
        "<li><p>a</p></li><li>b", "<textarea><b></textarea>", "<p\n class='a'\n>x</p>",
        "<img src='a.png' alt=\"x\"/>after", "<p>x</p\n>", "<?php x ?>", "<![CDATA[x]]>",
        "<b>bold</b>&amp;<i>it</i>", "<table><tr><td>1</td></tr></table>", "<p/>x<p/>",
    ])
    def test_tricky_fragments(self, text: str) -> None:
        parts = _extract_simple(text)
        if parts is not None:
            assert "".join(parts) == self._slow(text)
        assert clean_text(text) == _clean_slow(text)

    def test_random_fragments(self) -> None:
        rng = random.Random(7)
        atoms = ["<p>", "</p>", "<li>", "</li>", "<ul>", "</ul>", "<br>", "<br/>", "<b>", "</b>",
                 "<div class=\"c\">", "</div>", "text", " ", "\n", "&amp;", "&nbsp;", "&#39;",
                 "<", ">", "&", "<a href='u'>", "</a>", "<h2>", "</h2>", "<script>", "</script>",
                 "<!--", "-->", "<P>", "</LI>", "é", "\t"]
        fast = 0
        for _ in range(3000):
            text = "".join(rng.choice(atoms) for _ in range(rng.randint(1, 14)))
            parts = _extract_simple(text)
            if parts is not None:
                fast += 1
                assert "".join(parts) == self._slow(text), repr(text)
        assert fast > 300


def _clean_slow(text: str) -> str | None:
    """clean_text as it was before the fast path (html.parser for anything tag-like)."""
    import localoffer.ingest.text as module

    saved = module._extract_simple
    module._extract_simple = lambda _text: None
    try:
        return module.clean_text(text)
    finally:
        module._extract_simple = saved
