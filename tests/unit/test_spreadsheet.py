"""The spreadsheet reader (ingest/spreadsheet.py) and the Outpost column mapping
(ingest/columns/outpost.json), on Outpost's own import template with its sample rows
(tests/data/outpost, a copy of wearefuturegov/outpost @ 3c1718f4)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from localoffer import namespaces as ns
from localoffer.errors import IngestError
from localoffer.ingest.mapping import Mapper
from localoffer.ingest.records import Item
from localoffer.ingest.spreadsheet import load_mapping, read_spreadsheet, slug


DATA = Path(__file__).resolve().parents[1] / "data"
OUTPOST = DATA / "outpost" / "services--with-sample-data.csv"
OUTPOST_MAPPING = Path(__file__).resolve().parents[2] / "ingest" / "columns" / "outpost.json"
BASE = "https://localoffer.test"
AUTHORITY = "E06000023"
S, L, H = ns.SCHEMA, ns.LO, ns.HSDS


def thing(kind: str, ident: str) -> URIRef:
    return URIRef(ns.mint(BASE, kind, ident, authority=AUTHORITY))


def items_of(path: Path, mapping: Path | None = None) -> list[Item]:
    return list(read_spreadsheet(path, mapping, hashlib.sha256()))


def graph_of(items: list[Item]) -> Graph:
    mapper = Mapper(BASE, AUTHORITY, publish_names=True)
    lines: list[str] = []
    for item in items:
        assert item.kind == "service"
        for record in mapper.map_service(item.data, item.locator):
            lines += record.lines
    return Graph().parse(data="".join(lines), format="nt")


def outpost_rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(OUTPOST.read_text(encoding="utf-8"), newline="")))


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8", newline="")
    return path


def edited_outpost(tmp_path: Path, edits: dict[tuple[str, str], str]) -> Path:
    """A copy of the template with cells changed: {(import_id, column): value}."""
    rows = outpost_rows()
    header = rows[0]
    for (import_id, column), value in edits.items():
        row = next(r for r in rows[1:] if r[0] == import_id)
        row[header.index(column)] = value
    return write_rows(tmp_path / "outpost.csv", rows)


def one(g: Graph, s: URIRef, p: str) -> object:
    values = list(g.objects(s, URIRef(p)))
    assert len(values) == 1, (s, p, values)
    return values[0]


# -- the Outpost template ------------------------------------------------------------------
def test_sample_rows_give_two_services_with_continuations_merged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        items = items_of(OUTPOST)
    assert [(i.kind, i.data["id"], i.locator) for i in items] == [
        ("service", "1", f"{OUTPOST} row 2"), ("service", "8", f"{OUTPOST} row 9")]
    first = items[0].data
    # rows 3-8 (import_id_reference 1) add to service 1; the private contact does not
    assert [c["email"] for c in first["contacts"]] == ["email@email.com"]
    assert [s["location"]["name"] for s in first["service_at_locations"]] == [
        "Venue or building name", "Second Venue or building name"]
    assert [c["option"] for c in first["cost_options"]] == ["Who is this fee for?", "OAP"]
    assert [u["label"] for u in first["additional_urls"]] == ["Facebook", "Twitter"]
    # the template's "hh:mm:ss" placeholder schedule is left out, with a warning
    assert [s["byday"] for s in first["schedules"]] == ["MO"]
    assert any("'hh:mm:ss'" in r.getMessage() and "row 7" in r.getMessage() for r in caplog.records)
    assert first["organization"] == {"id": "tpx-impact", "name": "TPX Impact"}
    assert first["lo_send"]["send_needs"] == ["Autism", "Hearing impairment", "Visual impairment",
                                              "Mobility", "Cognitive"]
    text = json.dumps([i.data for i in items])
    for private in ("I am an additional note", "i am text", "internal label", "email2@email.com"):
        assert private not in text


def test_sample_rows_map_to_send_triples(tmp_path: Path) -> None:
    path = edited_outpost(tmp_path, {("1", "how_to_start"): "Phone us to book a visit",
                                     ("1", "outcomes"): "<p>Confidence</p>"})
    g = graph_of(items_of(path))
    svc1, svc8 = thing("service", "1"), thing("service", "8")
    assert one(g, svc1, L + "howToStart") == Literal("Phone us to book a visit")
    assert one(g, svc1, L + "outcomes") == Literal("Confidence")
    assert one(g, svc1, L + "isLocalOffer") == Literal(True)
    assert one(g, svc8, L + "isLocalOffer") == Literal(False)
    assert one(g, svc1, L + "needsReferral") == Literal(True)
    assert one(g, svc8, L + "needsReferral") == Literal(False)
    assert one(g, svc1, L + "supportDescription") == Literal("dfsdfs2222")
    assert set(g.objects(svc1, URIRef(L + "sendNeed"))) == {
        Literal(x) for x in ("Autism", "Hearing impairment", "Visual impairment", "Mobility", "Cognitive")}
    assert one(g, svc1, L + "sendNeedsSupport") == Literal(
        "Autism;Hearing impairment;Visual impairment;Mobility;Cognitive")
    assert len(set(g.objects(svc8, URIRef(L + "suitability")))) == 7
    for lit in g.objects(svc1, URIRef(L + "isLocalOffer")):
        assert lit.datatype == XSD.boolean


def test_sample_rows_map_ages_contact_location_costs_and_links() -> None:
    g = graph_of(items_of(OUTPOST))
    svc = thing("service", "1")
    assert one(g, svc, S + "name") == Literal("CSV creation service")
    audience = one(g, svc, S + "audience")
    assert one(g, audience, S + "suggestedMinAge").toPython() == 0
    assert one(g, audience, S + "suggestedMaxAge").toPython() == 100
    contact = one(g, svc, H + "contact")
    assert one(g, contact, S + "name") == Literal("public contact name")
    assert one(g, contact, H + "title") == Literal("public contacts role")
    assert one(g, contact, S + "email") == Literal("email@email.com")
    assert one(g, one(g, contact, H + "phone"), S + "telephone") == Literal("92939293")
    channels = list(g.objects(svc, URIRef(S + "availableChannel")))
    places = [one(g, c, S + "serviceLocation") for c in channels]
    postcodes = {one(g, one(g, p, S + "address"), S + "postalCode") for p in places}
    assert len(places) == 2 and postcodes == {Literal("SW1A 1AA")}
    address = one(g, places[0], S + "address")
    assert one(g, address, S + "addressCountry") == Literal("GB")
    assert float(one(g, places[0], URIRef(ns.WGS + "lat")).toPython()) == pytest.approx(51.50101)
    prices = {one(g, one(g, o, S + "priceSpecification"), S + "price").toPython()
              for o in g.objects(svc, URIRef(S + "offers"))}
    assert prices == {1, 0}
    assert one(g, svc, RDFS.seeAlso) == URIRef("http://www.google.com")
    assert (svc, URIRef(H + "status"), URIRef(ns.SCHEME + "service-status/active")) in g
    org = thing("organization", "tpx-impact")
    assert one(g, svc, S + "provider") == org and one(g, org, S + "name") == Literal("TPX Impact")
    assert (svc, URIRef(S + "category"), thing("taxonomy-term", "hello")) not in g
    assert (thing("service", "8"), URIRef(S + "category"), thing("taxonomy-term", "hello")) in g
    free = [o for o in g.objects(thing("service", "8"), URIRef(S + "offers"))]
    assert [one(g, o, S + "name") for o in free] == [Literal("Free")]
    hours = one(g, svc, S + "hoursAvailable")
    assert (hours, RDF.type, URIRef(S + "OpeningHoursSpecification")) in g
    assert one(g, hours, S + "dayOfWeek") == URIRef(S + "Monday")
    assert one(g, hours, S + "opens") == Literal("09:00:00", datatype=XSD.time)


def test_privacy_flags(tmp_path: Path) -> None:
    path = edited_outpost(tmp_path, {("8", "mask_exact_address"): "TRUE",
                                     ("1", "location_visible"): "FALSE",
                                     ("1", "contact_visible"): ""})
    items = items_of(path)
    first, second = items[0].data, items[1].data
    assert "contacts" not in first  # contact_visible empty means not visible, as in Outpost
    assert [s["location"]["name"] for s in first["service_at_locations"]] == ["Second Venue or building name"]
    masked = second["service_at_locations"][0]["location"]
    assert "latitude" not in masked and "longitude" not in masked
    assert masked["addresses"][0] == {"city": "Biscuitville", "postal_code": "EC1N 8BA",
                                      "country": "GB", "address_type": "physical"}


def test_temporarily_closed_sets_status(tmp_path: Path) -> None:
    path = edited_outpost(tmp_path, {("1", "temporarily_closed"): "TRUE"})
    assert items_of(path)[0].data["status"] == "temporarily closed"


def test_default_mapping_is_the_packaged_outpost_file() -> None:
    packaged = [i.data for i in items_of(OUTPOST)]
    explicit = [i.data for i in items_of(OUTPOST, OUTPOST_MAPPING)]
    assert packaged == explicit
    assert load_mapping(None).row_id == "import_id"


def test_hasher_covers_the_sheet_bytes() -> None:
    h = hashlib.sha256()
    list(read_spreadsheet(OUTPOST, None, h))
    assert h.hexdigest() == hashlib.sha256(OUTPOST.read_bytes()).hexdigest()


def test_unmapped_columns_are_left_out_with_one_warning(tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    rows = outpost_rows()
    rows[0].append("referrer_notes")
    for r in rows[1:]:
        r.append("x")
    path = write_rows(tmp_path / "extra.csv", rows)
    with caplog.at_level(logging.WARNING):
        items = items_of(path)
    warned = [r.getMessage() for r in caplog.records if "left out" in r.getMessage()
              and "not in" in r.getMessage()]
    assert len(warned) == 1 and "'referrer_notes'" in warned[0]
    assert "custom_text_text_field" not in warned[0] and "'notes'" not in warned[0]
    assert "referrer_notes" not in json.dumps([i.data for i in items])


def test_slug() -> None:
    assert slug("TPX Impact") == "tpx-impact"
    assert slug("  Café & Co. ") == "cafe-co"
    assert slug("日本").startswith("h")
    assert len(slug("x" * 200)) < 80


# -- a council's own sheet -----------------------------------------------------------------
TINY_MAPPING = {
    "format": "localoffer-columns/1",
    "title": "A three-column sheet",
    "service": {
        "id": "Ref",
        "name": "service name",
        "service_at_locations.0.location.addresses.0.postal_code": "Postcode",
        "service_at_locations.0.location.addresses.0.country": {"value": "GB"},
        "lo_send.is_local_offer": {"value": "TRUE"},
    },
}


def tiny(tmp_path: Path, body: str, mapping: dict | None = None) -> tuple[Path, Path]:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(body, encoding="utf-8")
    mfile = tmp_path / "mapping.json"
    mfile.write_text(json.dumps(mapping or TINY_MAPPING), encoding="utf-8")
    return sheet, mfile


def test_custom_mapping_for_a_three_column_csv(tmp_path: Path) -> None:
    sheet, mfile = tiny(tmp_path, "Ref,Service Name,Postcode\nA1,Stay and Play,bs1 5th\n"
                                  "A2,Speech therapy,\n")
    items = items_of(sheet, mfile)
    assert [i.data for i in items] == [
        {"id": "A1", "name": "Stay and Play", "lo_send": {"is_local_offer": "TRUE"},
         "service_at_locations": [
             {"location": {"addresses": [{"postal_code": "bs1 5th", "country": "GB"}]}}]},
        {"id": "A2", "name": "Speech therapy", "lo_send": {"is_local_offer": "TRUE"}},
    ]
    g = graph_of(items)
    svc = thing("service", "A1")
    place = one(g, one(g, svc, S + "availableChannel"), S + "serviceLocation")
    assert one(g, one(g, place, S + "address"), S + "postalCode") == Literal("BS1 5TH")
    assert one(g, svc, L + "isLocalOffer") == Literal(True)


def test_id_derived_from_a_name_column(tmp_path: Path) -> None:
    mapping = {"service": {"id": {"column": "Name", "derive": "slug"}, "name": "Name"}}
    sheet, mfile = tiny(tmp_path, "Name\nStay & Play\n", mapping)
    assert items_of(sheet, mfile)[0].data == {"id": "stay-play", "name": "Stay & Play"}


# -- bad input -----------------------------------------------------------------------------
def test_a_column_the_mapping_names_is_missing(tmp_path: Path) -> None:
    sheet, mfile = tiny(tmp_path, "Ref,Service name\nA1,Stay and Play\n")
    with pytest.raises(IngestError) as err:
        items_of(sheet, mfile)
    msg = str(err.value)
    assert str(sheet) in msg and "'Postcode'" in msg and str(mfile) in msg
    assert "its columns are 'Ref', 'Service name'" in msg


def test_outpost_mapping_on_another_sheet_names_what_is_missing(tmp_path: Path) -> None:
    sheet, _ = tiny(tmp_path, "Ref,Service name\nA1,Stay and Play\n")
    with pytest.raises(IngestError, match=r"'import_id'.*built-in Outpost mapping.*its columns are 'Ref'"):
        items_of(sheet)


def test_empty_file(tmp_path: Path) -> None:
    for body in (b"", b"\xef\xbb\xbf", b"\r\n\r\n"):
        sheet = tmp_path / "empty.csv"
        sheet.write_bytes(body)
        with pytest.raises(IngestError, match="empty"):
            items_of(sheet)


def test_header_only(tmp_path: Path) -> None:
    sheet, mfile = tiny(tmp_path, "Ref,Service name,Postcode\n")
    with pytest.raises(IngestError, match="no data rows"):
        items_of(sheet, mfile)


def test_non_utf8_bytes(tmp_path: Path) -> None:
    sheet, mfile = tiny(tmp_path, "")
    sheet.write_bytes("Ref,Service name,Postcode\nA1,Café,BS1 5TH\n".encode("cp1252"))
    with pytest.raises(IngestError) as err:
        items_of(sheet, mfile)
    assert "not utf-8 text (byte 32, line 2)" in str(err.value) and "encoding" in str(err.value)
    mfile.write_text(json.dumps({**TINY_MAPPING, "encoding": "cp1252"}), encoding="utf-8")
    assert items_of(sheet, mfile)[0].data["name"] == "Café"


def test_ragged_row(tmp_path: Path) -> None:
    sheet, mfile = tiny(tmp_path, "Ref,Service name,Postcode\nA1,Stay, and Play,BS1 5TH\n")
    with pytest.raises(IngestError,
                       match=r"sheet\.csv row 2: 4 cells but the header has 3 columns.*'Postcode'"):
        items_of(sheet, mfile)
    # short rows and trailing empty cells are fine in a hand-made sheet
    sheet.write_text("Ref,Service name,Postcode\nA1,Stay and Play\nA2,Speech,,,\n", encoding="utf-8")
    assert [i.data["id"] for i in items_of(sheet, mfile)] == ["A1", "A2"]


def test_continuation_row_without_its_service(tmp_path: Path) -> None:
    rows = outpost_rows()
    rows[3][1] = "99"  # row 4 (import_id 3) now refers to import_id 99
    path = write_rows(tmp_path / "orphan.csv", rows)
    with pytest.raises(IngestError,
                       match=r"orphan\.csv row 4, column 'import_id_reference': '99' names no row"):
        items_of(path)
    rows[3][1] = "2"  # import_id 2 is itself a continuation row
    write_rows(path, rows)
    with pytest.raises(IngestError, match="'2' names a continuation row"):
        items_of(path)


@pytest.mark.parametrize("mapping, message", [
    ({"service": {"name": "Name"}}, "must map a column to 'id'"),
    ({"service": {"id": "Ref"}, "colums": {}}, "unknown key"),
    ({"service": {"id": "Ref", "contacts..name": "X"}}, "field path"),
    ({"service": {"id": {"column": "Ref", "derive": "md5"}}}, "derive"),
    ({"service": {"id": "Ref"}, "repeat": [{"path": "contacts", "fields": {"name": {"vaule": 1}}}]},
     "unknown key"),
    ({"service": {"id": "Ref"}, "parent": "Parent"}, "needs 'row_id'"),
])
def test_bad_mapping_files(tmp_path: Path, mapping: dict, message: str) -> None:
    sheet, mfile = tiny(tmp_path, "Ref,Name\nA1,x\n", mapping)
    with pytest.raises(IngestError, match=message):
        items_of(sheet, mfile)


def test_mapping_file_that_is_not_json(tmp_path: Path) -> None:
    sheet, mfile = tiny(tmp_path, "Ref\nA1\n")
    mfile.write_text("{'service': {}}", encoding="utf-8")
    with pytest.raises(IngestError, match=r"mapping\.json: invalid JSON at line 1"):
        items_of(sheet, mfile)


# -- XLSX ----------------------------------------------------------------------------------
def test_xlsx_workbook(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Services"
    ws.append(["Ref", "Service name", "Postcode", "Min age", "Local offer", "Checked", "Opens"])
    ws.append([101, "Stay and Play", "BS1 5TH", 0.0, True, dt.datetime(2024, 5, 1), dt.time(9, 30)])
    ws.append([None, None, None, None, None, None, None])
    ws.append([102.0, "Speech therapy", None, 2.5, False, dt.datetime(2024, 5, 1, 14, 0), None])
    path = tmp_path / "services.xlsx"
    wb.save(path)
    mapping = {"sheet": "Services", "service": {
        "id": "Ref", "name": "Service name", "minimum_age": "Min age", "assured_date": "Checked",
        "lo_send.is_local_offer": "Local offer",
        "service_at_locations.0.location.addresses.0.postal_code": "Postcode",
        "schedules.0.opens_at": "Opens"}}
    mfile = tmp_path / "mapping.json"
    mfile.write_text(json.dumps(mapping), encoding="utf-8")
    h = hashlib.sha256()
    items = list(read_spreadsheet(path, mfile, h))
    assert h.hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()
    assert [i.locator for i in items] == [f"{path} sheet 'Services' row 2", f"{path} sheet 'Services' row 4"]
    first, second = items[0].data, items[1].data
    assert first["id"] == "101" and first["minimum_age"] == "0" and first["assured_date"] == "2024-05-01"
    assert first["lo_send"] == {"is_local_offer": "TRUE"} and first["schedules"] == [{"opens_at": "09:30:00"}]
    assert second["id"] == "102" and second["minimum_age"] == "2.5"
    assert second["assured_date"] == "2024-05-01T14:00:00"
    g = graph_of(items)
    assert one(g, thing("service", "101"), L + "isLocalOffer") == Literal(True)
    assert one(g, thing("service", "102"), L + "isLocalOffer") == Literal(False)

    mfile.write_text(json.dumps({**mapping, "sheet": "Sheet9"}), encoding="utf-8")
    with pytest.raises(IngestError, match=r"no sheet 'Sheet9'.*'Services'"):
        items_of(path, mfile)


def test_xlsx_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"Ref,Name\n1,x\n")
    with pytest.raises(IngestError, match="not a readable XLSX workbook"):
        items_of(path)


def test_old_xls_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(IngestError, match="save it as .xlsx or CSV"):
        items_of(path)


# -- through the pipeline ------------------------------------------------------------------
def test_ingest_of_the_outpost_template(store, settings) -> None:  # type: ignore[no-untyped-def]
    from localoffer.ingest.pipeline import ingest

    report = ingest(store, settings, str(OUTPOST), authority=AUTHORITY)
    assert report.read == 2 and not report.rejected
    assert report.counts["service"] == 2 and report.counts["organization"] == 2
