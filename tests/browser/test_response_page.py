"""In a real browser: an analyst reads response times and officer time, and narrows the target."""

from __future__ import annotations

from typing import Any

from conftest import ARTIFACTS, LiveSite, sign_in
from smart_policing.response.metrics import ResponseOptions, response_report
from smart_policing.store import make_engine
from smart_policing.store.calls import load_response_calls


def _expected(site: LiveSite, target_min: float) -> Any:
    engine = make_engine(site.database_url)
    try:
        calls = load_response_calls(engine, timezone=site.settings.timezone)
    finally:
        engine.dispose()
    options = ResponseOptions(timezone=site.settings.timezone, target_min=target_min)
    return response_report(calls, options)


def test_analyst_reads_p1_compliance_charts_and_time_budget(live_site: LiveSite, page: Any) -> None:
    sign_in(page, live_site, "ana", "/response")
    page.wait_for_url("**/response")
    page.wait_for_selector("body[data-charts-ready=true]")
    p1 = _expected(live_site, 10).overall.highest_priority
    card = page.inner_text("#p1-share")
    assert f"{100 * p1.share_within_target:.1f}%" in card
    assert f"{p1.within_target:,} of {p1.reached:,}" in card
    for chart in ("histogram-chart", "district-chart", "budget-chart"):
        assert page.evaluate(f"document.getElementById('{chart}').width") > 0, chart
    # the shifts of the time budget, then all shifts
    shifts = page.locator("#time-budget tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.shift)"
    )
    assert shifts == ["day", "evening", "night", "all"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "response.png"), full_page=True)
    # a stricter target from the form: fewer calls make it, the page says so
    page.fill("input[name=target_min]", "6")
    page.select_option("select[name=by]", "district")
    page.click("#response-filters button[type=submit]")
    page.wait_for_url("**/response?*target_min=6*")
    page.wait_for_selector("body[data-charts-ready=true]")
    strict = _expected(live_site, 6).overall.highest_priority
    assert strict.within_target < p1.within_target
    assert f"{strict.within_target:,} of {strict.reached:,}" in page.inner_text("#p1-share")
    assert page.locator("#response-breakdown tbody tr").count() >= 9
    assert page.errors == []


def test_staffing_calculator_finds_the_servers_a_goal_needs(live_site: LiveSite, page: Any) -> None:
    sign_in(page, live_site, "ana", "/response/staffing")
    page.wait_for_url("**/response/staffing")
    page.fill("input[name=calls]", "100")
    page.fill("input[name=interval_min]", "30")
    page.fill("input[name=handle_min]", "3")
    page.fill("input[name=servers]", "")
    page.fill("input[name=target_s]", "20")
    page.fill("input[name=target_sl]", "0.8")
    page.click("#erlang-form button[type=submit]")
    page.wait_for_url("**/response/staffing?*")
    page.wait_for_selector("body[data-charts-ready=true]")
    assert page.inner_text("#servers-needed .n") == "14"
    assert page.inner_text("#p-wait .n") == "0.1741"
    assert page.locator("#erlang-table tr.total").get_attribute("data-servers") == "14"
    assert page.evaluate("document.getElementById('staffing-chart').width") > 0
    page.screenshot(path=str(ARTIFACTS / "staffing.png"), full_page=True)
    assert page.errors == []


def test_simulation_page_draws_curves_before_and_after_diversion(
    live_site: LiveSite, page: Any
) -> None:
    sign_in(page, live_site, "ana", "/response/simulate?replications=2")
    page.wait_for_url("**/response/simulate*")
    page.wait_for_selector("body[data-charts-ready=true]")
    for chart in ("sim-histogram", "sim-districts", "sim-curves"):
        assert page.evaluate(f"document.getElementById('{chart}').width") > 0, chart
    rows = page.locator("#sim-curve-table tbody tr")
    assert rows.count() == 10
    first = rows.nth(0).locator("td").all_inner_texts()
    assert first[0] == "0.6x"
    assert "%" in page.inner_text("#sim-p1 .n")
    page.screenshot(path=str(ARTIFACTS / "simulate.png"), full_page=True)
    assert page.errors == []
