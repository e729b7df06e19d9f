"""In a real browser: sign in, read Compstat, be refused, sign out."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from conftest import ARTIFACTS, LiveSite, sign_in
from smart_policing.compstat import CompstatQuery, compstat_report
from smart_policing.store import make_engine


def _expected(site: LiveSite) -> Any:
    engine = make_engine(site.database_url)
    try:
        return compstat_report(engine, CompstatQuery(), site.settings)
    finally:
        engine.dispose()


def test_analyst_signs_in_reads_compstat_and_signs_out(live_site: LiveSite, page: Any) -> None:
    sign_in(page, live_site, "ana", "/compstat")
    page.wait_for_url("**/compstat")
    assert page.inner_text("#whoami").startswith("ana")
    report = _expected(live_site)
    table = page.locator("#compstat-table")
    # every count cell on the page is the imported data's number
    checked = 0
    for row in report.rows:
        cell = table.locator(f'tr[data-group="{row.group}"] td.count[data-year="{row.year}"]')
        assert cell.inner_text().replace(",", "") == str(row.count), (row.group, row.year)
        checked += 1
    assert checked == len(report.groups) * len(report.years) >= 12
    # the chart and the district map drew (no tiles, no internet)
    page.wait_for_selector("#district-map[data-ready=true]")
    assert page.locator("#district-map path.leaflet-interactive").count() == 9
    assert page.evaluate("document.getElementById('monthly-chart').width") > 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "compstat.png"), full_page=True)
    assert (ARTIFACTS / "compstat.png").stat().st_size > 20_000
    # the CSV download carries the same table
    with page.expect_download() as download:
        page.click("#csv-download")
    csv_text = download.value.path().read_text()
    assert csv_text.splitlines()[0].startswith("year,")
    assert page.errors == []
    # sign out: back at the form, and the page is closed again
    page.click("#logout")
    page.wait_for_url("**/login")
    page.goto(live_site.url + "/compstat")
    assert "/login" in page.url
    assert page.locator("#sign-in").is_visible()


def test_a_dispatcher_is_refused_the_compstat_page(live_site: LiveSite, page: Any) -> None:
    sign_in(page, live_site, "dee", "/compstat")
    assert page.inner_text("#error-status") == "Not allowed"
    assert "dispatcher" in page.inner_text("#error-message")
    # the navigation offers only what the role may open
    nav = page.locator("header nav").inner_text()
    assert "Calls" in nav
    assert "Compstat" not in nav
    page.goto(live_site.url + "/records/calls")
    assert page.locator("#records tbody tr").count() == 50


def test_a_wrong_password_is_refused_with_a_message(live_site: LiveSite, page: Any) -> None:
    page.goto(live_site.url + "/login")
    page.fill("#username", "ana")
    page.fill("#password", "not the password")
    page.click("#sign-in")
    assert "Wrong user name or password" in page.inner_text("#login-error")


def test_the_api_documentation_renders_offline(live_site: LiveSite, page: Any) -> None:
    sign_in(page, live_site, "ana", "/docs")
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() >= 8
    assert "/api/compstat" in page.inner_text("#swagger-ui")
    assert page.errors == []


def test_record_filters_update_the_table_in_place(live_site: LiveSite, page: Any) -> None:
    sign_in(page, live_site, "dee", "/records/calls")
    page.wait_for_selector("#records")
    page.evaluate("window.__marker = 'same page'")  # gone if the page fully reloads
    page.fill("input[name=priority]", "1")
    page.click("form.filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"/records/calls\?.*priority=1"))
    page.wait_for_load_state("networkidle")
    priorities = page.locator("#records tbody tr td:nth-child(9)").all_inner_texts()
    assert priorities
    assert set(priorities) == {"1"}
    assert page.evaluate("window.__marker") == "same page"  # htmx swapped the table only
    page.click("#next-page")
    expect(page).to_have_url(re.compile(r"cursor="))
    page.wait_for_load_state("networkidle")
    assert set(page.locator("#records tbody tr td:nth-child(9)").all_inner_texts()) == {"1"}
    assert page.errors == []


def test_compstat_filters_by_district_from_the_form(live_site: LiveSite, page: Any) -> None:
    sign_in(page, live_site, "ana", "/compstat")
    page.select_option("select[name=district]", "WESTERN")
    page.click("#compstat-filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"district=WESTERN"))
    assert "districts: WESTERN" in page.inner_text("main")
    assert page.locator("#compstat-table").is_visible()
    assert page.errors == []
