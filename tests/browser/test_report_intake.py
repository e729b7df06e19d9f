"""In a real browser: a resident files an online report; a records clerk approves it."""

from __future__ import annotations

import re
from typing import Any

from conftest import ARTIFACTS, LiveSite, sign_in
from smart_policing.security.roles import Role
from smart_policing.store import make_engine
from webhelpers import add_account


def test_a_resident_files_and_a_clerk_approves(
    live_site: LiveSite, page: Any, browser: Any
) -> None:
    page.goto(live_site.url + "/report")
    for question in ("suspect_present", "injury", "weapon", "in_progress"):
        page.check(f"#screening_{question}_no")
    page.select_option("#call_type", "larceny-from-vehicle")
    page.fill("#occurred_from", "2022-03-01T21:00")
    page.fill("#occurred_to", "2022-03-02T07:15")
    page.fill("#address", "1234 E. Baltimore Street")
    page.fill("#description", "Someone broke the car window overnight and took a laptop bag.")
    page.fill("#item_description_0", "laptop bag")
    page.fill("#item_value_0", "120.50")
    page.fill("#contact_name", "Rita Resident")
    page.fill("#contact_email", "rita@example.org")
    page.click("#submit-report")
    case_number = page.inner_text("#case-number")
    assert re.fullmatch(r"R\d{2}-\d{6}", case_number)
    assert page.inner_text("#block-address") == "1200 E BALTIMORE ST"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-filed.png"), full_page=True)
    assert page.errors == []

    engine = make_engine(live_site.database_url)
    try:
        add_account(engine, "rory.records", Role.RECORDS)
    finally:
        engine.dispose()
    clerk = browser.new_context().new_page()
    sign_in(clerk, live_site, "rory.records", "/reports/queue")
    clerk.wait_for_url("**/reports/queue")
    assert "Reports" in clerk.locator("header nav").inner_text()
    clerk.click(f'#report-queue tr[data-case="{case_number}"] a')
    assert clerk.inner_text("#report-status") == "submitted"
    clerk.click("#action-review")
    assert clerk.inner_text("#report-status") == "reviewed"
    clerk.fill("#move-note", "window damage photographed by the reporter")
    clerk.click("#action-approve")
    assert clerk.inner_text("#report-status") == "approved"
    assert clerk.inner_text("#incident-id").isdigit()
    clerk.goto(live_site.url + "/reports/queue?status=approved")
    assert clerk.locator(f'#report-queue tr[data-case="{case_number}"]').count() == 1
    clerk.context.close()
