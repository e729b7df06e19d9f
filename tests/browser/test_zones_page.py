"""In a real browser: an officer logs a foot patrol in a zone and sees it on the page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from conftest import ARTIFACTS, LiveSite, sign_in


def test_officer_logs_a_foot_patrol_and_sees_the_dosage(live_site: LiveSite, page: Any) -> None:
    sign_in(page, live_site, "oli", "/zones")
    page.wait_for_url("**/zones*")
    page.wait_for_selector("#zones-map[data-ready=true]")
    zones = page.locator("#zones-table tbody tr").count()
    assert zones == page.locator("#zones-map path.leaflet-interactive").count() > 9
    # the beats fall across the synthetic neighbourhoods: every listed one holds zone area
    spread = page.locator("#zones-neighbourhoods tbody tr")
    assert spread.count() > 9
    first_share = spread.first.locator("td").nth(1).inner_text()
    assert float(first_share) > 0.0
    assert "neighbourhoods hold zone area" in page.inner_text("#zones-neighbourhoods-summary")
    first = page.locator("#activity-form select[name=zone_id] option").first
    zone_id = first.get_attribute("value")
    page.select_option("#activity-form select[name=kind]", "foot-patrol")
    # three hours ago on the agency's clock (the form's start is local wall time)
    start = datetime.now(ZoneInfo(live_site.settings.timezone)) - timedelta(hours=3)
    page.fill("#activity-form input[name=started]", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#activity-form input[name=minutes]", "45")
    page.click("#log-activity")
    page.wait_for_selector("#zones-message")
    row = page.locator(f'#zones-table tr[data-zone="{zone_id}"] td').last
    assert row.inner_text().strip() == "1 / 45 min"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "zones.png"), full_page=True)
    assert page.errors == []
