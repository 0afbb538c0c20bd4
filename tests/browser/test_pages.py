"""The pages in real headless Chromium against a real server: follow a service to its
organisation, search by need and age, run a canned query, keyboard use, and axe-core
(WCAG 2.2 A/AA rules) on every page type. Screenshots go to LOCALOFFER_TEST_OUTPUT
(default: a pytest temp folder).

Needs Debian's `chromium` and Playwright from PyPI (no `playwright install`); skipped when
either is missing, failed instead when LOCALOFFER_REQUIRE_SYSTEM=1."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from ..conftest import require_system
from ..ldfixtures import BRISTOL, LOC_CENTRE, ORG_SHARED, SVC_HOSTILE, SVC_PLAY
from ..ldserver import linked_data_server

pytestmark = [pytest.mark.server, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PAGES = {
    "service": f"/doc/service/{SVC_PLAY}",
    "hostile-service": f"/doc/service/{SVC_HOSTILE}",
    "organisation": f"/doc/organization/{ORG_SHARED}",
    "location": f"/doc/location/{LOC_CENTRE}",
    "authority": f"/doc/authority/{BRISTOL}",
    "concept": "/def/scheme/need/asd",
    "scheme": "/def/scheme/need",
    "vocabulary": "/def",
    "search": "/services?need=communication-and-interaction",
    "queries": "/queries",
    "query": "/queries/services-per-authority",
    "dumps": "/dumps",
    "catalog": "/catalog",
    "not-found": "/doc/service/00000000-0000-4000-8000-000000000000",
}


@pytest.fixture(scope="module")
def browser():
    require_system("chromium", Path(CHROMIUM).exists(), f"{CHROMIUM} not found (apt-get install chromium)")
    require_system("playwright", importlib.util.find_spec("playwright") is not None,
                   "pip install playwright (the browser comes from Debian, not `playwright install`)")
    require_system("axe-playwright-python", importlib.util.find_spec("axe_playwright_python") is not None,
                   "pip install axe-playwright-python (bundles axe-core)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, browser):
    with linked_data_server(tmp_path_factory.mktemp("ldbrowser")) as url:
        yield url


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("LOCALOFFER_TEST_OUTPUT") or tmp_path_factory.mktemp("out")) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-GB")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("dialog", lambda d: errors.append(f"dialog: {d.message}"))
    yield pg
    context.close()
    assert errors == [], f"script errors or dialogs on the page: {errors}"


def test_service_page_links_to_its_organisation(server, page, shots):
    page.goto(server + PAGES["service"])
    assert page.locator("h1").inner_text() == "Little Explorers Play Scheme"
    assert "From 0 to 5 years" in page.locator("section.facts").inner_text()
    page.screenshot(path=str(shots / "service.png"), full_page=True)
    page.get_by_role("link", name="Sunrise Play Trust").first.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/doc/organization/{ORG_SHARED}")
    assert page.locator("h1").inner_text() == "Sunrise Play Trust"
    assert page.get_by_role("link", name="Pathways Supported Internship").count() == 1
    page.screenshot(path=str(shots / "organisation.png"), full_page=True)


def test_hostile_name_is_shown_as_text(server, page):
    page.goto(server + PAGES["hostile-service"])
    assert page.locator("h1").inner_text().startswith('<script>alert("name")</script>')


def test_search_by_need_and_age(server, page, shots):
    page.goto(server + "/services")
    assert "4 services found" in page.locator("#results-heading").inner_text()
    page.get_by_role("link", name="Autistic spectrum disorder").click()
    page.wait_for_load_state()
    assert "1 service found" in page.locator("#results-heading").inner_text()
    page.get_by_label("Age of the child or young person (years)").fill("3")
    page.get_by_label("Age of the child or young person (years)").press("Enter")
    page.wait_for_load_state()
    assert "age=3" in page.url and "need=asd" in page.url
    assert "1 service found" in page.locator("#results-heading").inner_text()
    assert page.get_by_role("link", name="Little Explorers Play Scheme").count() == 1
    page.get_by_label("Age of the child or young person (years)").fill("17")
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()
    assert "0 services found" in page.locator("#results-heading").inner_text()
    page.screenshot(path=str(shots / "search.png"), full_page=True)


def test_run_a_canned_query(server, page, shots):
    page.goto(server + "/queries")
    page.get_by_role("link", name="Services in a postcode district", exact=True).click()
    page.wait_for_load_state()
    page.get_by_label("district", exact=True).fill("BS1")
    page.get_by_role("button", name="Run the query").click()
    page.wait_for_load_state()
    table = page.locator("table")
    assert "Little Explorers Play Scheme" in table.inner_text()
    assert page.get_by_role("link", name="CSV").count() >= 1
    page.screenshot(path=str(shots / "query.png"), full_page=True)


def test_keyboard_reaches_skip_link_and_navigation(server, page):
    page.goto(server + PAGES["service"])
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Find services":
            break
    else:
        pytest.fail("the navigation link 'Find services' cannot be reached with Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "focused links must show a focus indicator"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/services")


@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_no_wcag_violations(server, page, shots, name):
    from axe_playwright_python.sync_playwright import Axe

    response = page.goto(server + PAGES[name])
    assert response is not None and response.status == (404 if name == "not-found" else 200)
    assert page.evaluate("document.documentElement.lang").startswith("en")
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS},
                                       "resultTypes": ["violations"]})
    page.screenshot(path=str(shots / f"axe-{name}.png"), full_page=True)
    assert results.violations_count == 0, results.generate_report()
