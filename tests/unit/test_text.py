"""ingest/text.py: HTML to plain text, empty values, names, UK postcodes."""

from __future__ import annotations

import pytest

from localoffer.ingest.text import clean_name, clean_plain, clean_text, normalise_postcode


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
