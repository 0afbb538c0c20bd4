"""The HSDS 3.0 Tabular Data Package reader (ingest/tabular.py).

The key test: the official example package (tests/data/hsds-3.0/csv, a copy of
openreferral/specification 3.0 @ 279fd2eb examples/csv) and the official JSON examples
(service_full.json + organization_full.json, same commit) map to the same RDF.

They do not hold quite the same data, though. Five foreign-key cells of the CSV package
point at ids that exist nowhere in the package, where the JSON nests the object, and one CSV
cell has no JSON counterpart:

  attributes.csv  link_id                f28dd44b-...  (not the service ac148810-...)
  metadata.csv    resource_id            38960354-...  (not the service)
  contacts.csv    organization_id        ae67a707-...  (not the organisation d9d5e0f5-...)
                  service_at_location_id 93eaf18d-...  (not the service-at-location e94c9f38-...)
  locations.csv   organization_id        985e4a42-...  (not the organisation)
  taxonomy_terms  taxonomy_id            07ff6aee-...  (not the taxonomy 5c4d79d7-...)
  organizations   tax_id "tax_id"        (organization.tax_id is absent from both JSON files)

So `test_official_package_and_json_differ_only_by_the_broken_links` compares the two graphs
after removing exactly the triples those cells account for (each listed below, and each
checked to be present in one graph and absent from the other), and
`test_package_with_links_repaired_is_isomorphic_to_the_json` repairs those six cells in a
copy of the package and requires the whole graphs to be isomorphic.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import graph_diff, isomorphic

from localoffer import namespaces as ns
from localoffer.errors import IngestError, RecordError
from localoffer.ingest.mapping import Mapper
from localoffer.ingest.records import Item
from localoffer.ingest.tabular import read_tabular


DATA = Path(__file__).resolve().parents[1] / "data"
HSDS = DATA / "hsds-3.0"
PACKAGE = HSDS / "csv"
ORUK = DATA / "oruk-3.0-csv"
BASE = "https://localoffer.test"
AUTHORITY = "E06000023"

SERVICE_ID = "ac148810-d857-441c-9679-408f346de14b"
ORG_ID = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
SAL_ID = "e94c9f38-1e8f-4564-91d4-d53501ab1765"
LOCATION_ID = "3a19ff88-4620-4d17-9830-ac1d859eb5d5"
CONTACT_ID = "1e7efce3-639b-4880-940c-b95cd30cdb50"
ATTRIBUTE_ID = "ae58cc39-8b70-4ab1-8aea-786882e5ac8e"
METADATA_ID = "6cd71e9f-1013-49d9-8370-26b8f59d3e5a"
TAXONOMY_ID = "5c4d79d7-cc55-470e-9f1f-8cad074e4892"
TERM_IRI = URIRef("http://example.com")  # the term's term_uri is its IRI

# The repairs (file, column, value) that make the CSV package say what the JSON examples say.
REPAIRS = [
    ("attributes.csv", "link_id", SERVICE_ID),           # was f28dd44b-0c4d-479f-8e90-4c52219a8b3c
    ("metadata.csv", "resource_id", SERVICE_ID),         # was 38960354-e7d2-4cfa-a368-820f729d6ccf
    ("contacts.csv", "organization_id", ORG_ID),         # was ae67a707-5893-4225-b0b1-320ab9cb596b
    ("contacts.csv", "service_at_location_id", SAL_ID),  # was 93eaf18d-1cd2-4ec7-bffb-3c9172ee5070
    ("locations.csv", "organization_id", ORG_ID),        # was 985e4a42-bd9f-4edc-911d-0243a4640aca
    ("taxonomy_terms.csv", "taxonomy_id", TAXONOMY_ID),  # was 07ff6aee-a219-438c-b694-d2fcb6c5373b
    ("organizations.csv", "tax_id", ""),                 # was "tax_id"
]


def thing(kind: str, ident: str) -> URIRef:
    return URIRef(ns.mint(BASE, kind, ident, authority=AUTHORITY))


S, H, SKOS = ns.SCHEMA, ns.HSDS, ns.SKOS


def mapped_graph(items: Iterable[Item]) -> Graph:
    """Map *items* with one Mapper (as an ingest does) and parse the N-Triples."""
    mapper = Mapper(BASE, AUTHORITY, publish_names=True)
    handlers = {"service": mapper.map_service, "organization": mapper.map_organization,
                "location": mapper.map_location, "taxonomy": mapper.map_taxonomy,
                "taxonomy_term": mapper.map_taxonomy_term}
    lines: list[str] = []
    for item in items:
        for record in handlers[item.kind](item.data, item.locator):
            lines += record.lines
    return Graph().parse(data="".join(lines), format="nt")


def json_examples() -> tuple[dict, dict]:
    return (json.loads((HSDS / "service_full.json").read_text(encoding="utf-8")),
            json.loads((HSDS / "organization_full.json").read_text(encoding="utf-8")))


def json_graph() -> Graph:
    service, organization = json_examples()
    return mapped_graph([Item("service", service, "service_full.json"),
                         Item("organization", organization, "organization_full.json")])


def package_items(folder: Path = PACKAGE) -> list[Item]:
    return list(read_tabular(folder, hashlib.sha256()))


def repaired_copy(tmp_path: Path) -> Path:
    folder = package_copy(tmp_path, "repaired")
    for file, column, value in REPAIRS:
        set_cell(folder, file, column, value)
    return folder


def package_copy(tmp_path: Path, name: str = "pkg") -> Path:
    folder = tmp_path / name
    shutil.copytree(PACKAGE, folder)
    for p in folder.iterdir():
        p.chmod(0o644)
    return folder


def set_cell(folder: Path, file: str, column: str, value: str, row: int = 0) -> None:
    path = folder / file
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    rows[row + 1][rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8", newline="")


# -- the key test --------------------------------------------------------------------------
def test_service_dict_is_service_full_except_the_broken_links() -> None:
    items = package_items()
    service = items[0].data
    expected = copy.deepcopy(json_examples()[0])
    # what the package's dangling foreign keys cannot attach (see the module docstring)
    for key in ("attributes", "metadata"):
        del expected[key]
    del expected["organization"]["contacts"]
    del expected["organization"]["locations"]
    del expected["service_at_locations"][0]["contacts"]
    expected["organization"]["tax_id"] = "tax_id"
    assert service == expected
    assert isinstance(service["minimum_age"], int)
    assert isinstance(service["service_at_locations"][0]["location"]["latitude"], int)


def test_official_package_and_json_differ_only_by_the_broken_links() -> None:
    g_csv = mapped_graph(package_items())
    g_json = json_graph()
    service, org = thing("service", SERVICE_ID), thing("organization", ORG_ID)
    sal, contact = thing("service-at-location", SAL_ID), thing("contact", CONTACT_ID)
    location, taxonomy = thing("location", LOCATION_ID), thing("taxonomy", TAXONOMY_ID)
    attribute, change = thing("attribute", ATTRIBUTE_ID), thing("change", METADATA_ID)

    json_only = Graph()
    # attributes.csv link_id points nowhere: the service's attribute and its category link
    json_only.add((service, URIRef(S + "category"), TERM_IRI))
    json_only.add((service, URIRef(H + "attribute"), attribute))
    for t in g_json.triples((attribute, None, None)):
        json_only.add(t)
    # metadata.csv resource_id points nowhere: the service's change record
    for t in g_json.triples((change, None, None)):
        json_only.add(t)
    # contacts.csv organization_id / service_at_location_id point nowhere
    json_only.add((org, URIRef(S + "contactPoint"), contact))
    json_only.add((sal, URIRef(H + "contact"), contact))
    # locations.csv organization_id points nowhere
    json_only.add((org, URIRef(S + "location"), location))
    # taxonomy_terms.csv taxonomy_id points nowhere
    json_only.add((TERM_IRI, URIRef(SKOS + "inScheme"), taxonomy))
    json_only.add((TERM_IRI, URIRef(S + "inDefinedTermSet"), taxonomy))
    csv_only = Graph()
    csv_only.add((org, URIRef(S + "taxID"), Literal("tax_id")))

    assert len(list(g_json.triples((attribute, None, None)))) >= 5
    assert len(list(g_json.triples((change, None, None)))) >= 5
    for t in json_only:
        assert t in g_json and t not in g_csv, t
    for t in csv_only:
        assert t in g_csv and t not in g_json, t
    shared_csv, shared_json = g_csv - csv_only, g_json - json_only
    if not isomorphic(shared_csv, shared_json):
        _, only_csv, only_json = graph_diff(shared_csv, shared_json)
        pytest.fail("graphs differ beyond the documented links:\nCSV only:\n"
                    + only_csv.serialize(format="nt") + "\nJSON only:\n" + only_json.serialize(format="nt"))
    assert (len(shared_json), len(json_only), len(csv_only)) == (206, 23, 1)


def test_package_with_links_repaired_is_isomorphic_to_the_json(tmp_path: Path) -> None:
    g_csv = mapped_graph(package_items(repaired_copy(tmp_path)))
    g_json = json_graph()
    if not isomorphic(g_csv, g_json):
        _, only_csv, only_json = graph_diff(g_csv, g_json)
        pytest.fail("CSV only:\n" + only_csv.serialize(format="nt")
                    + "\nJSON only:\n" + only_json.serialize(format="nt"))


def test_repaired_package_nests_like_the_json(tmp_path: Path) -> None:
    items = package_items(repaired_copy(tmp_path))
    assert [i.kind for i in items] == ["service", "taxonomy"]  # org and location are nested
    assert items[0].data == json_examples()[0]


# -- items, values, checksum ---------------------------------------------------------------
def test_items_and_locators() -> None:
    items = package_items()
    assert [(i.kind, i.locator) for i in items] == [
        ("service", f"{PACKAGE / 'services.csv'} row 2"),
        ("taxonomy", f"{PACKAGE / 'taxonomies.csv'} row 2"),
        ("taxonomy_term", f"{PACKAGE / 'taxonomy_terms.csv'} row 2"),
    ]
    term = items[2].data
    assert "taxonomy_id" not in term and "taxonomy_detail" not in term  # its taxonomy is absent


def test_accepts_the_datapackage_json_path_itself() -> None:
    assert len(list(read_tabular(PACKAGE / "datapackage.json", hashlib.sha256()))) == 3


def test_hasher_sees_every_byte_read() -> None:
    h = hashlib.sha256()
    list(read_tabular(PACKAGE, h))
    expected = hashlib.sha256()
    expected.update((PACKAGE / "datapackage.json").read_bytes())
    for res in json.loads((PACKAGE / "datapackage.json").read_text())["resources"]:
        expected.update((PACKAGE / res["path"]).read_bytes())
    assert h.hexdigest() == expected.hexdigest()


def test_typed_columns_and_empty_cells(tmp_path: Path) -> None:
    folder = package_copy(tmp_path)
    set_cell(folder, "services.csv", "minimum_age", "2.5")
    set_cell(folder, "services.csv", "alternate_name", "")
    set_cell(folder, "phones.csv", "extension", " 7 ")
    service = package_items(folder)[0].data
    assert service["minimum_age"] == 2.5
    assert "alternate_name" not in service
    assert service["phones"][0]["extension"] == 7


def test_a_wrong_type_passes_through_for_the_mapper_to_report(tmp_path: Path) -> None:
    folder = package_copy(tmp_path)
    set_cell(folder, "services.csv", "minimum_age", "five")
    item = package_items(folder)[0]
    assert item.data["minimum_age"] == "five"
    with pytest.raises(RecordError) as err:
        Mapper(BASE, AUTHORITY).map_service(item.data, item.locator)
    assert err.value.field == "minimum_age" and "services.csv row 2" in str(err.value)


def test_boolean_columns(tmp_path: Path) -> None:
    folder = package_copy(tmp_path)
    pkg = json.loads((folder / "datapackage.json").read_text())
    service = next(r for r in pkg["resources"] if r["name"] == "service")
    service["schema"]["fields"].append({"name": "flag", "type": "boolean"})
    service["schema"]["fields"].append({"name": "other", "type": "boolean"})
    (folder / "datapackage.json").write_text(json.dumps(pkg))
    text = (folder / "services.csv").read_text(encoding="utf-8").splitlines()
    text[0] += ",flag,other"
    text[1] += ",FALSE,maybe"
    (folder / "services.csv").write_text("\r\n".join(text) + "\r\n", encoding="utf-8")
    data = package_items(folder)[0].data
    assert data["flag"] is False and data["other"] == "maybe"


# -- joins ---------------------------------------------------------------------------------
def test_dangling_foreign_keys_leave_the_child_out(tmp_path: Path) -> None:
    folder = package_copy(tmp_path)
    set_cell(folder, "service_at_location.csv", "location_id", "00000000-0000-0000-0000-000000000000")
    set_cell(folder, "services.csv", "organization_id", "11111111-1111-1111-1111-111111111111")
    set_cell(folder, "services.csv", "program_id", "")
    items = package_items(folder)
    service = items[0].data
    assert "organization" not in service and "organization_id" not in service
    assert "program" not in service
    sal = service["service_at_locations"][0]
    assert "location" not in sal and "location_id" not in sal
    # the organisation no service names now comes on its own, with what it owns
    orgs = [i for i in items if i.kind == "organization"]
    assert len(orgs) == 1 and orgs[0].locator.endswith("organizations.csv row 2")
    assert orgs[0].data["programs"][0]["name"] == "Community Mental Health Support"
    # and the location that nothing reaches any more is its own item
    assert [i.data["id"] for i in items if i.kind == "location"] == [LOCATION_ID]
    mapped_graph(items)  # maps without a fault


def test_child_rows_for_missing_parents_are_ignored(tmp_path: Path) -> None:
    folder = package_copy(tmp_path)
    with open(folder / "phones.csv", "a", encoding="utf-8", newline="") as f:
        f.write("99999999-0000-0000-0000-000000000000,,nowhere,,,,0117 000 0000,,voice,orphan\r\n")
    items = package_items(folder)
    numbers = json.dumps([i.data for i in items])
    assert "0117 000 0000" not in numbers


def test_services_of_one_organisation_share_its_nested_object(tmp_path: Path) -> None:
    folder = package_copy(tmp_path)
    path = folder / "services.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    second = "00000000-aaaa-4bbb-8ccc-000000000002," + lines[1].split(",", 1)[1]
    path.write_text("\r\n".join([lines[0], lines[1], second]) + "\r\n", encoding="utf-8")
    first, other = [i.data for i in package_items(folder) if i.kind == "service"]
    assert first["organization"] is other["organization"]  # built once: linear in package size
    assert "phones" not in other  # the second service's children are its own
    g = mapped_graph(package_items(folder))
    assert (thing("service", "00000000-aaaa-4bbb-8ccc-000000000002"), URIRef(S + "provider"),
            thing("organization", ORG_ID)) in g


# -- bad packages --------------------------------------------------------------------------
def test_missing_datapackage_json(tmp_path: Path) -> None:
    folder = package_copy(tmp_path)
    (folder / "datapackage.json").unlink()
    with pytest.raises(IngestError, match=r"datapackage\.json: missing"):
        package_items(folder)


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="no such folder"):
        package_items(tmp_path / "nope")


def test_invalid_datapackage_json(tmp_path: Path) -> None:
    folder = package_copy(tmp_path)
    (folder / "datapackage.json").write_text('{"resources": [', encoding="utf-8")
    with pytest.raises(IngestError, match=r"datapackage\.json: invalid JSON at line 1"):
        package_items(folder)
    (folder / "datapackage.json").write_text('{"name": "x"}', encoding="utf-8")
    with pytest.raises(IngestError, match="no 'resources' list"):
        package_items(folder)


def test_a_csv_the_package_names_is_missing(tmp_path: Path) -> None:
    folder = package_copy(tmp_path)
    (folder / "phones.csv").unlink()
    with pytest.raises(IngestError) as err:
        package_items(folder)
    assert "phones.csv: missing" in str(err.value) and "'phone'" in str(err.value)


def test_resource_outside_the_folder_is_refused(tmp_path: Path) -> None:
    folder = package_copy(tmp_path)
    pkg = json.loads((folder / "datapackage.json").read_text())
    pkg["resources"][0]["path"] = "../organizations.csv"
    (folder / "datapackage.json").write_text(json.dumps(pkg))
    with pytest.raises(IngestError, match="outside the package folder"):
        package_items(folder)


def test_ragged_rows_name_file_row_and_column(tmp_path: Path) -> None:
    folder = package_copy(tmp_path)
    path = folder / "cost_options.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\r\n".join([lines[0], lines[1] + ",surplus"]) + "\r\n", encoding="utf-8")
    with pytest.raises(IngestError) as err:
        package_items(folder)
    msg = str(err.value)
    assert "cost_options.csv row 2" in msg and "'amount_description'" in msg and "'surplus'" in msg

    path.write_text("\r\n".join([lines[0], lines[1], "abc,def"]) + "\r\n", encoding="utf-8")
    with pytest.raises(IngestError) as err:
        package_items(folder)
    msg = str(err.value)
    assert "cost_options.csv row 3" in msg and "2 cells" in msg and "valid_from" in msg


def test_trailing_empty_cells_are_tolerated(tmp_path: Path) -> None:
    folder = package_copy(tmp_path)
    path = folder / "funding.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\r\n".join([lines[0], lines[1] + ",,"]) + "\r\n\r\n", encoding="utf-8")
    assert package_items(folder)[0].data["funding"][0]["id"] == "1f2df32c-bf08-4b8e-bd6f-e834014b19bc"


def test_not_utf8(tmp_path: Path) -> None:
    folder = package_copy(tmp_path)
    body = (folder / "services.csv").read_bytes().replace(b"\xc2\xa3", b"\xa3")  # £ in Latin-1
    (folder / "services.csv").write_bytes(body)
    with pytest.raises(IngestError, match=r"services\.csv: not UTF-8 text \(byte \d+, line 2\)"):
        package_items(folder)


def test_declared_encoding_is_honoured(tmp_path: Path) -> None:
    folder = package_copy(tmp_path)
    body = (folder / "services.csv").read_bytes().replace(b"\xc2\xa3", b"\xa3")
    (folder / "services.csv").write_bytes(body)
    pkg = json.loads((folder / "datapackage.json").read_text())
    next(r for r in pkg["resources"] if r["name"] == "service")["encoding"] = "latin-1"
    (folder / "datapackage.json").write_text(json.dumps(pkg))
    assert "£50" in package_items(folder)[0].data["fees_description"]


def test_empty_csv_and_duplicate_header(tmp_path: Path) -> None:
    folder = package_copy(tmp_path)
    (folder / "funding.csv").write_bytes(b"")
    with pytest.raises(IngestError, match=r"funding\.csv: is empty"):
        package_items(folder)
    (folder / "funding.csv").write_text("id,source,source\r\n", encoding="utf-8")
    with pytest.raises(IngestError, match=r"funding\.csv row 1: column 'source' appears twice"):
        package_items(folder)


def test_byte_order_mark_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    folder = package_copy(tmp_path)
    (folder / "services.csv").write_bytes(b"\xef\xbb\xbf" + (folder / "services.csv").read_bytes())
    assert package_items(folder)[0].data["id"] == SERVICE_ID


# -- the ORUK 3.0 profile's flavour -------------------------------------------------------
def test_oruk_singular_file_names() -> None:
    items = list(read_tabular(ORUK, hashlib.sha256()))
    assert [(i.kind, Path(i.locator).name) for i in items] == [
        ("service", "services.csv row 2"), ("taxonomy", "taxonomies.csv row 2"),
        ("taxonomy_term", "taxonomy_terms.csv row 2")]  # the files' "\r\r\n" is one line end
    service = items[0].data
    location = service["service_at_locations"][0]["location"]
    assert location["addresses"][0]["address_1"] == "1-30 Main Street"  # from address.csv
    assert "address_2" not in location["addresses"][0]  # ORUK drops it (addresses.csv has it)
    assert location["location_type"] == "physical"  # a column the package does not declare
    assert service["schedules"][0]["byday"] == "TH,FR"  # from schedule.csv
    assert items[2].data["term"] == "name"
    mapped_graph(items)


def test_oruk_service_matches_its_json_example_except_the_data_that_differs() -> None:
    """ORUK's CSV and JSON examples differ too: attribute.csv's link_id points at no service
    (the JSON nests the attribute), while phones.csv gives the contact a phone and
    schedule.csv gives the service-at-location a schedule that the JSON leaves out."""
    service = list(read_tabular(ORUK, hashlib.sha256()))[0].data
    expected = json.loads((ORUK / "service_full.json").read_text(encoding="utf-8"))
    del expected["attributes"]
    assert service["contacts"][0].pop("phones")[0]["number"] == '"+44 1234 234567"'
    assert service["service_at_locations"][0].pop("schedules")[0]["id"] == \
        "48102e86-bb50-41c4-8f1e-e269368c41d1"
    assert service == expected
