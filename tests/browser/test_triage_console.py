"""In a real browser: a dispatcher enters a call on the console and sees the decision."""

from __future__ import annotations

from typing import Any

from conftest import ARTIFACTS, LiveSite, sign_in


def test_dispatcher_enters_a_call_and_sees_the_decision(live_site: LiveSite, page: Any) -> None:
    sign_in(page, live_site, "dee", "/triage/console")
    page.wait_for_url("**/triage/console")
    assert page.locator("header nav a[href='/triage/console']").count() == 1
    # a non-injury crash on a Wednesday afternoon goes to the traffic vendor
    page.select_option("#call-type", "traffic-collision-property")
    page.fill("#priority", "3")
    page.fill("#received-at", "2022-07-13T14:00")
    page.click("#decide")
    result = page.wait_for_selector("#decision-result")
    assert result.get_attribute("data-responder") == "traffic-vendor"
    assert result.get_attribute("data-rule") == "crash-to-vendor"
    assert "version" in page.inner_text("#decision-pack")
    assert page.inner_text("#decision-reason").strip()
    # the same crash with a DUI driver: patrol (the partial is replaced in place)
    page.check("#flag-dui")
    page.click("#decide")
    page.wait_for_selector("#decision-result[data-responder='patrol']")
    assert page.inner_text("#decision-officer").startswith("yes")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "triage_console.png"), full_page=True)
    assert page.errors == []
