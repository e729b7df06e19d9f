"""Response times and officer time on the stored calls: page and API (issue 5 items 1 and 5)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from smart_policing.response.metrics import ResponseOptions, response_report
from smart_policing.response.timebudget import TimeBudgetOptions, time_budget
from smart_policing.security.roles import Role
from smart_policing.store.calls import load_response_calls
from webhelpers import load_synthetic_calls

TZ = "America/New_York"


def _load(engine: Engine, tmp_path: Path) -> None:
    load_synthetic_calls(engine, tmp_path / "city", TZ)


def test_the_api_gives_the_cores_numbers_for_the_stored_calls(
    engine: Engine, tmp_path: Path, signed_in_client: Callable[..., TestClient]
) -> None:
    _load(engine, tmp_path)
    client = signed_in_client(Role.SUPERVISOR)
    params = {"start": "2024-03-01", "end": "2024-05-31", "target_min": "8"}
    body = client.get("/api/response/report", params=params).json()
    calls = load_response_calls(engine, start=date(2024, 3, 1), end=date(2024, 5, 31), timezone=TZ)
    expected = response_report(calls, ResponseOptions(timezone=TZ, target_min=8))
    assert body["inputs"]["calls"] == expected.inputs.calls > 2000
    p1 = body["overall"]["highest_priority"]
    assert p1["target_min"] == 8
    assert (p1["within_target"], p1["reached"]) == (
        expected.overall.highest_priority.within_target,
        expected.overall.highest_priority.reached,
    )
    assert p1["reached"] > 0
    assert body["overall"]["call_to_arrival"]["median_min"] == (
        expected.overall.call_to_arrival.median_min
    )
    # the histogram holds every usable call-to-arrival once
    assert sum(b["calls"] for b in body["histogram"]) == expected.overall.call_to_arrival.n

    budget = client.get(
        "/api/response/time-budget", params={**params, "units_per_shift": "12"}
    ).json()
    want = time_budget(
        calls,
        TimeBudgetOptions(
            timezone=TZ, units_per_shift=12, start=date(2024, 3, 1), end=date(2024, 5, 31)
        ),
    )
    # Polars sums in parallel: the last bits may differ between two runs
    assert budget["overall"]["committed_hours"] == pytest.approx(want.overall.committed_hours)
    assert want.overall.committed_hours > 0
    assert budget["overall"]["proactive_share"] == pytest.approx(want.overall.proactive_share)
    assert budget["on_duty_source"] == "units-per-shift"
    assert [s["shift"] for s in budget["shifts"]] == [s.shift for s in want.shifts]


def test_csv_page_and_errors(
    engine: Engine, tmp_path: Path, signed_in_client: Callable[..., TestClient]
) -> None:
    _load(engine, tmp_path)
    client = signed_in_client(Role.ANALYST)
    reply = client.get("/api/response/report.csv")
    assert reply.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    assert rows[0]["by"] == "all"
    assert {r["by"] for r in rows} >= {"priority", "district", "hour"}
    empty_form = {"by": "district", "start": "", "end": "", "units_per_shift": ""}
    page = client.get("/response", params=empty_form)
    assert page.status_code == 200
    for marker in ('id="p1-share"', 'id="response-breakdown"', 'id="time-budget"'):
        assert marker in page.text
    assert "response-chart-data" in page.text
    assert client.get("/response", params={"by": "moon"}).status_code == 422
    backwards = client.get(
        "/api/response/report", params={"start": "2024-05-01", "end": "2024-04-01"}
    )
    assert backwards.status_code == 422
    assert "end must not be before start" in backwards.text
    assert client.get("/api/response/report", params={"target_min": "0"}).status_code == 422
    negative = client.get("/api/response/time-budget", params={"units_per_shift": "-1"})
    assert negative.status_code == 422


def test_dispatchers_and_officers_do_not_see_it(
    engine: Engine, signed_in_client: Callable[..., TestClient]
) -> None:
    for role in (Role.DISPATCHER, Role.OFFICER):
        client = signed_in_client(role)
        assert client.get("/api/response/report").status_code == 403


def test_erlang_c_api_reproduces_the_published_case(
    engine: Engine, signed_in_client: Callable[..., TestClient]
) -> None:
    client = signed_in_client(Role.ANALYST)
    params = {"calls": "100", "interval_min": "30", "handle_min": "3", "servers": "14"}
    body = client.get("/api/response/erlang-c", params={**params, "target_s": "20"}).json()
    r = body["result"]
    assert r["servers"] == 14
    assert r["p_wait"] == pytest.approx(0.1741319, abs=5e-8)
    assert r["service_level"] == pytest.approx(0.88835, abs=5e-6)
    assert r["mean_wait_s"] == pytest.approx(7.836, abs=5e-4)
    assert r["occupancy"] == pytest.approx(0.7142857, abs=5e-8)
    assert body["servers_needed"] == 14  # the default goal: 80% within 20 s
    # 10 servers for 10 erlangs: unstable, reported as such (JSON has no infinity)
    low = client.get("/api/response/erlang-c", params={**params, "servers": "10"}).json()
    assert low["result"]["stable"] is False
    assert low["result"]["mean_wait_s"] == "Infinity"
    page = client.get("/response/staffing", params={**params, "servers": ""})
    assert page.status_code == 200
    assert 'id="servers-needed"' in page.text
    bad = client.get("/api/response/erlang-c", params={"target_s": "", "target_sl": "0.8"})
    assert bad.status_code == 422
    assert "target_sl needs target_s" in bad.text
    none = client.get("/api/response/erlang-c", params={"target_sl": ""})
    assert none.status_code == 422
    huge = {"calls": "1000000", "interval_min": "1", "handle_min": "1440"}
    too_big = client.get("/api/response/erlang-c", params=huge)
    assert too_big.status_code == 422
    assert "offered load above 100,000 erlangs" in too_big.text
