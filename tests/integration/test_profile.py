"""Authority profiles (YAML) become the authority's lo:LocalOffer node and its linked pages."""

from __future__ import annotations

import pytest

from localoffer.errors import IngestError
from localoffer.ingest.pipeline import ingest
from localoffer.ingest.profile import information_items

from ..conftest import SAMPLES

PROFILES = SAMPLES / "profiles"
ITEMS = ("PREFIX lo: <https://w3id.org/localoffer/def#> SELECT DISTINCT ?i WHERE { "
         "?a lo:localOffer ?lo . ?lo a lo:LocalOffer ; lo:hasInformation/lo:informationItem ?i }")


def _items(store) -> set[str]:
    return {r["i"].value.rsplit("/", 1)[1] for r in store.select(ITEMS)}


def test_complete_profile_covers_every_item(store, settings):
    report = ingest(store, settings, str(PROFILES / "example-complete.yaml"), authority="E06000023")
    assert not report.rejected
    assert _items(store) == set(information_items())
    assert len(information_items()) == 24


def test_incomplete_profile_lacks_five_items(store, settings):
    ingest(store, settings, str(PROFILES / "example-incomplete.yaml"), authority="E06000023")
    missing = set(information_items()) - _items(store)
    assert missing == {"post-16-transport-policy-statement", "short-breaks-statement",
                       "comments-and-response", "personal-budgets", "tribunal-appeals"}


def _profile(tmp_path, body: str):
    path = tmp_path / "p.yaml"
    path.write_text("authority: E06000023\nname: Test\nlocal_offer:\n  url: https://www.example.gov.uk/lo\n"
                    "information:\n" + body)
    return path


@pytest.mark.parametrize("entry,field,words", [
    ("  - items: [not-a-topic]\n    url: https://www.example.gov.uk/a\n", "items", "choose from"),
    ("  - items: [childcare]\n    url: javascript:alert(1)\n", "url", "web address"),
    ("  - items: [childcare]\n    url: https://www.example.gov.uk/a\n    updated: last week\n", "updated", "YYYY-MM-DD"),
    ("  - url: https://www.example.gov.uk/a\n", "items", "name the topic"),
    ("  - items: [post-16-transport-policy-statement]\n    url: https://www.example.gov.uk/a\n"
     "    academic_year: next year\n", "academic_year", "academic year such as 2025/26"),
])
def test_bad_entries_are_rejected_with_field(store, settings, tmp_path, entry, field, words):
    report = ingest(store, settings, str(_profile(tmp_path, entry)), authority="E06000023")
    assert len(report.rejected) == 1
    err = report.rejected[0]
    assert err.field == field and words in err.detail and "information[0]" in err.record


def test_wrong_authority_or_bad_yaml_fails_whole_file(store, settings, tmp_path):
    with pytest.raises(IngestError, match="nothing was loaded"):
        ingest(store, settings, str(PROFILES / "example-complete.yaml"), authority="E06000013")
    bad = tmp_path / "bad.yaml"
    bad.write_text("authority: E06000023\ninformation:\n  - items: [a\n")
    with pytest.raises(IngestError, match="bad.yaml: not a valid YAML profile"):
        ingest(store, settings, str(bad), authority="E06000023")
    assert store.version() == "empty"
