"""Link discovery: normalisation of names, postcodes and identifiers; scoring; blocking;
assignment; the review file."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from localoffer.ingest.link import (
    Link,
    LinkError,
    LinkReport,
    Record,
    assign,
    candidate_pairs,
    make_context,
    name_similarity,
    normalise_identifier,
    normalise_name,
    postcode_parts,
    postcode_relation,
    read_decisions,
    scheme_code,
    score,
    web_keys,
    write_review,
)

BASE = "https://localoffer.test/id/"


def rec(name: str, authority: str = "E06000023", *, pc: str = "", kind: str = "organization",
        ids: tuple[tuple[str, str], ...] = (), n: int = 0, url: str = "") -> Record:
    r = Record(f"{BASE}{kind}/{authority.lower()}-{n}-{abs(hash(name)) % 10**6}", kind, authority,
               f"https://localoffer.test/graph/source/{authority.lower()}", name=name,
               postcodes={pc} if pc else set(), ids=set(ids))
    if url:
        page, domain = web_keys(url)
        r.pages.add(page)
        r.domains.add(domain)
    r.prepare()
    return r


# Background records so that word rarity (idf) looks like a real directory's.
FILLER = [rec(f"{w} {v}", "E06000099", n=i) for i, (w, v) in enumerate(
    (w, v) for w in ("Community", "Family", "Youth", "Parent", "Carers", "Sports", "Arts", "Music")
    for v in ("Club", "Group", "Service", "Project", "Hub", "Network", "Centre", "Support"))]


def ctx_for(*records: Record):  # type: ignore[no-untyped-def]
    return make_context([*records, *FILLER])


# -- names -----------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, expected", [
    ("The St. Mary's C of E Primary School Ltd", "st marys ce primary school"),
    ("Bristol Parents & Carers Assoc.", "bristol parents carers association"),
    ("Easton Community Ctr", "easton community centre"),
    ("Easton Community Ctre", "easton community centre"),
    ("Easton Community Center", "easton community centre"),
    ("Saint Werburgh's", "st werburghs"),
    ("12 High Street", "12 high st"),
    ("Café Crème CIC", "cafe creme"),
    ("AUTISM-FRIENDLY  swimming (juniors)", "autism friendly swimming juniors"),
    ("The", "the"),                       # nothing but filler words: keep them
    ("Children’s Centre", "childrens centre"),
])
def test_normalise_name(raw: str, expected: str) -> None:
    assert normalise_name(raw) == expected


def test_st_saint_and_street_compare_equal_without_guessing() -> None:
    assert normalise_name("St Paul's Centre") == normalise_name("Saint Pauls Centre")
    assert normalise_name("1 Mina St") == normalise_name("1 Mina Street")


# -- postcodes -------------------------------------------------------------------------------
def test_postcode_parts() -> None:
    assert postcode_parts("bs15th") == ("BS1 5TH", "BS1 5", "BS1")
    assert postcode_parts(" DN15 6NL ") == ("DN15 6NL", "DN15 6", "DN15")
    assert postcode_parts("not a postcode") is None


@pytest.mark.parametrize("a, b, relation", [
    (["BS1 5TH"], ["bs1 5th"], "full"),
    (["BS1 5TH"], ["BS1 5AA"], "sector"),
    (["BS1 5TH"], ["BS1 6AA"], "district"),
    (["BS1 5TH"], ["BS16 5TH"], "far"),
    (["BS1 5TH"], [], "missing"),
    (["BS1 5TH", "DN15 6NL"], ["DN15 6NL"], "full"),
])
def test_postcode_relation(a: list[str], b: list[str], relation: str) -> None:
    assert postcode_relation(a, b) == relation


# -- identifiers -----------------------------------------------------------------------------
@pytest.mark.parametrize("text, code", [
    ("GB-CHC", "GB-CHC"), ("Charity number", "GB-CHC"), ("Registered charity no.", "GB-CHC"),
    ("charity commission", "GB-CHC"), ("OSCR", "GB-SC"), ("GB-COH", "GB-COH"),
    ("Company number", "GB-COH"), ("Companies House", "GB-COH"), ("UKPRN", "UKPRN"),
    ("UK provider reference number", "UKPRN"), ("Ofsted URN", "URN"), ("GB-EDU", "URN"),
    ("Unique Reference Number", "URN"), ("UPRN", "UPRN"), ("Unique Property Reference Number", "UPRN"),
    ("CQC location id", "CQC"), ("CQC provider id", "CQC-PROVIDER"), ("Outpost ID", None), ("", None),
])
def test_scheme_code(text: str, code: str | None) -> None:
    assert scheme_code(text) == code


def test_scheme_code_falls_back_to_the_identifier_type() -> None:
    assert scheme_code(None, "Registered charity number") == "GB-CHC"


@pytest.mark.parametrize("scheme, value, canonical", [
    ("GB-CHC", " 1 012 345 ", "1012345"), ("GB-CHC", "01012345", "1012345"),
    ("GB-CHC", "GB-CHC-1012345", "1012345"), ("GB-CHC", "1012345-1", "1012345-1"),
    ("GB-COH", "1234567", "01234567"), ("GB-COH", "sc123456", "SC123456"), ("GB-COH", "0", None),
    ("URN", "ey123456", "EY123456"), ("URN", "URN: 108930", "108930"), ("GB-SC", "SC012345", "SC012345"),
    ("GB-SC", "GB-SC-SC012345", "SC012345"), ("URN", "0108930", "108930"), ("UKPRN", "10012345", "10012345"),
    ("UKPRN", "12345", None), ("UPRN", "000100012345", "100012345"), ("UPRN", "N/A", None),
    ("CQC", "1-101234567", "1-101234567"), ("CQC", "101234567", "1-101234567"),
    ("IRI", "http://www.example.org/charity/1/", "example.org/charity/1"),
])
def test_normalise_identifier(scheme: str, value: str, canonical: str | None) -> None:
    assert normalise_identifier(scheme, value) == canonical


# -- scoring ---------------------------------------------------------------------------------
@pytest.mark.parametrize("other", [
    "Autism Family Support Group",      # the same
    "AUTISM FAMILY SUPPORT GROUP",      # re-cased
    "Autism Famliy Support Group",      # a typo
    "Family Support Group, Autism",     # word order
    "The Autism Family Support Grp.",   # filler word, abbreviation, punctuation
])
def test_the_same_name_spelled_differently_scores_high(other: str) -> None:
    a, b = rec("Autism Family Support Group"), rec(other, "E06000025")
    assert name_similarity(a, b, ctx_for(a, b)) >= 0.9


@pytest.mark.parametrize("other", ["Junior Football Club", "Football Club (Youth)", "Bristol Football Club"])
def test_a_word_only_one_name_has_keeps_a_match_out(other: str) -> None:
    a, b = rec("Senior Football Club", pc="BS5 7BB"), rec(other, "E06000025", pc="BS5 7BB")
    conf, evidence = score(a, b, ctx_for(a, b))
    assert conf < 0.85
    assert evidence["postcode"] == "full"


def test_postcode_agreement_raises_confidence_in_order() -> None:
    a = rec("Easton Autism Parents Network", pc="BS5 6AA", kind="service")
    scores = []
    for pc in ("BS5 6AA", "BS5 6ZZ", "BS5 7ZZ", "", "BS16 1AA"):
        b = rec("Easton Autism Parents Network", "E06000025", pc=pc, kind="service")
        scores.append(score(a, b, ctx_for(a, b))[0])
    assert scores == sorted(scores, reverse=True)
    assert scores[0] >= 0.95 > scores[-1]


def test_a_place_in_another_district_is_another_place() -> None:
    a = rec("St Werburghs Centre", pc="BS2 9YT", kind="location")
    b = rec("St Werburghs Centre", "E06000025", pc="BS16 3QQ", kind="location")
    assert score(a, b, ctx_for(a, b))[0] < 0.85


def test_a_generic_name_needs_more_than_its_name() -> None:
    a = rec("Lunch Club", pc="BS5 6AA", kind="service")
    b = rec("Lunch Club", "E06000025", pc="BS5 7ZZ", kind="service")
    c, d = (rec("Grimsbury Farm Lunch Club", pc="BS5 6AA", kind="service"),
            rec("Grimsbury Farm Lunch Club", "E06000025", pc="BS5 7ZZ", kind="service"))
    ctx = ctx_for(a, b, c, d, *(rec("Lunch Club", f"E0600001{i}", n=i) for i in range(6)))
    assert score(a, b, ctx)[0] < score(c, d, ctx)[0]
    assert "generic" in score(a, b, ctx)[1]


def test_different_numbers_of_one_scheme_veto_a_match() -> None:
    a = rec("Bristol Mind", pc="BS1 5TH", ids=(("GB-CHC", "1012345"),))
    b = rec("Bristol Mind", "E06000025", pc="BS1 5TH", ids=(("GB-CHC", "1099999"),))
    conf, evidence = score(a, b, ctx_for(a, b))
    assert conf == 0.0 and evidence["identifier_conflict"] == "GB-CHC"


def test_a_shared_web_page_is_evidence() -> None:
    a = rec("Bristol Autism Support", pc="BS1 5TH", url="https://www.bast.org.uk/family")
    b = rec("Bristol Autism Support", "E06000025", pc="BS16 1AA", url="http://bast.org.uk/family/")
    c = rec("Bristol Autism Support", "E06000025", pc="BS16 1AA", n=1)
    ctx = ctx_for(a, b, c)
    assert score(a, b, ctx)[1]["web"] == "page"
    assert score(a, b, ctx)[0] > score(a, c, ctx)[0]


# -- blocking and assignment -------------------------------------------------------------------
def test_candidates_never_pair_records_of_one_authority() -> None:
    records = [rec("Easton Autism Parents Network", pc="BS5 6AA", n=1),
               rec("Easton Autism Parents Network", pc="BS5 6AA", n=2),
               rec("Easton Autism Parents Netwrk", "E06000025", pc="BS16 1AA")]
    pairs = candidate_pairs(records, frozenset())
    assert pairs == {(0, 2), (1, 2)}


def test_candidates_are_found_by_a_rare_word_when_postcodes_differ_or_are_missing() -> None:
    records = [rec("Grimsbury Farm Open Day", pc="BS5 6AA"), rec("Grimsbury Farm Open Day", "E06000025"),
               rec("Open Day", "E06000025", pc="DN15 6NL", n=3)]
    assert (0, 1) in candidate_pairs(records, frozenset())


def test_candidates_in_scope_involve_a_scoped_authority() -> None:
    records = [rec("Easton Autism Parents Network", "E06000023", pc="BS5 6AA"),
               rec("Easton Autism Parents Network", "E06000025", pc="BS5 6AA"),
               rec("Easton Autism Parents Network", "E06000022", pc="BS5 6AA")]
    assert candidate_pairs(records, frozenset({"E06000022"})) == {(0, 2), (1, 2)}


def _link(a: Record, b: Record, conf: float) -> Link:
    return Link(a.kind, a, b, conf, "name+postcode", {})


def test_assign_gives_each_record_one_partner_per_authority() -> None:
    a, b, c = rec("A", "E06000023"), rec("A", "E06000025", n=1), rec("A", "E06000025", n=2)
    accepted, review = assign([], [_link(a, b, 0.97), _link(a, c, 0.90)], 0.85)
    assert [(lk.left, lk.right) for lk in accepted] == [(a, b)]
    assert review == []


def test_assign_sends_a_close_runner_up_to_review() -> None:
    a, b, c = rec("A", "E06000023"), rec("A", "E06000025", n=1), rec("A", "E06000025", n=2)
    accepted, review = assign([], [_link(a, b, 0.95), _link(a, c, 0.94)], 0.85)
    assert accepted == []           # a person sees both and says which, if either
    assert [lk.right for lk in review] == [b, c] and review[0].evidence["runner_up"] == 0.94


def test_assign_keeps_identifier_links_first() -> None:
    a, b, c = rec("A", "E06000023"), rec("A", "E06000025", n=1), rec("A", "E06000025", n=2)
    by_id = Link(a.kind, a, c, 1.0, "identifier:GB-CHC", {})
    accepted, _ = assign([by_id], [_link(a, b, 0.99)], 0.85)
    assert accepted == [by_id]


# -- the review file -------------------------------------------------------------------------
def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, ["kind", "left_iri", "right_iri", "decision"])
        w.writeheader()
        w.writerows(rows)
    return path


def test_read_decisions(tmp_path: Path) -> None:
    path = _write(tmp_path / "review.csv", [
        {"kind": "service", "left_iri": f"{BASE}a", "right_iri": f"{BASE}b", "decision": "Confirmed"},
        {"kind": "service", "left_iri": f"{BASE}c", "right_iri": f"{BASE}d", "decision": "no"},
        {"kind": "service", "left_iri": f"{BASE}e", "right_iri": f"{BASE}f", "decision": ""}])
    decisions = read_decisions(path)
    assert {k: d.verdict for k, d in decisions.items()} == {
        frozenset((f"{BASE}a", f"{BASE}b")): "confirmed", frozenset((f"{BASE}c", f"{BASE}d")): "rejected"}


@pytest.mark.parametrize("row, message", [
    ({"left_iri": f"{BASE}a", "right_iri": f"{BASE}b", "decision": "maybe"}, "line 2: decision 'maybe'"),
    ({"left_iri": f"{BASE}a", "right_iri": f"{BASE}a", "decision": "confirmed"}, "two different IRIs"),
    ({"left_iri": "a", "right_iri": f"{BASE}a", "decision": "rejected"}, "two different IRIs"),
])
def test_read_decisions_names_the_faulty_line(tmp_path: Path, row: dict[str, str], message: str) -> None:
    path = _write(tmp_path / "review.csv", [{"kind": "service", **row}])
    with pytest.raises(LinkError, match=message):
        read_decisions(path)


def test_read_decisions_rejects_other_files(tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(LinkError, match="not a review file"):
        read_decisions(other)
    with pytest.raises(LinkError, match="no such decisions file"):
        read_decisions(tmp_path / "missing.csv")


def test_review_file_quotes_cells_a_spreadsheet_would_run(tmp_path: Path) -> None:
    a, b = rec("=HYPERLINK(\"http://evil\")", pc="BS1 5TH"), rec("+Bristol", "E06000025", pc="BS1 5TH")
    report = LinkReport((), 0.85, 0.6, "2025-01-01T00:00:00Z")
    report.review.append(_link(a, b, 0.7))
    assert write_review(report, tmp_path / "review.csv") == 1
    with open(tmp_path / "review.csv", newline="", encoding="utf-8") as fh:
        row = next(csv.DictReader(fh))
    assert row["left_name"].startswith("'=") and row["right_name"] == "'+Bristol"
    assert row["confidence"] == "0.700" and row["decision"] == "" and row["left_postcode"] == "BS1 5TH"
