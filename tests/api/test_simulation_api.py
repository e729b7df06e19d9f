"""Dispatch simulation and staffing search over the API, and the simulation page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from smart_policing.response.sim.replicate import prepare_scenario, run_scenario
from smart_policing.response.sim.scenario import builtin_scenario_path, load_scenario
from smart_policing.security.roles import Role
from smart_policing.store.users import create_api_token
from webhelpers import POLICY, add_account, make_app


@pytest.fixture
def api(engine: Engine) -> tuple[TestClient, dict[str, str]]:
    add_account(engine, "cmd", Role.SUPERVISOR)
    token, _ = create_api_token(engine, "cmd", "test", policy=POLICY)
    return TestClient(make_app(engine)), {"Authorization": f"Bearer {token}"}


def test_simulate_gives_the_cores_result_with_other_staffing(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = api
    assert client.get("/api/response/scenarios", headers=auth).json() == ["synthetic-city"]
    scenario = load_scenario(builtin_scenario_path("synthetic-city"))
    lean = {d: tuple(max(1, u - 1) for u in row) for d, row in scenario.staffing.items()}
    body = {"scenario": "synthetic-city", "replications": 3, "staffing": lean}
    reply = client.post("/api/response/simulate", json=body, headers=auth)
    assert reply.status_code == 200, reply.text
    got = reply.json()
    want = run_scenario(prepare_scenario(scenario), replications=3, staffing=lean)
    assert got["p1_within_target"]["mean"] == pytest.approx(want.p1_within_target.mean)
    assert got["replications"] == 3
    assert {c["district"]: c["units"] for c in got["cells"] if c["shift"] == "day"} == {
        d: row[0] for d, row in lean.items()
    }
    unknown = client.post("/api/response/simulate", json={"scenario": "/etc/passwd"}, headers=auth)
    assert unknown.status_code == 422
    assert "unknown '/etc/passwd'" in unknown.text
    bad = client.post(
        "/api/response/simulate",
        json={"staffing": {"Central": [1, 2]}, "replications": 1},
        headers=auth,
    )
    assert bad.status_code == 422
    too_big = client.post("/api/response/simulate", json={"replications": 500}, headers=auth)
    assert too_big.status_code == 422


def test_staffing_search_before_and_after_a_pack(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    body = {"scenario": "synthetic-city", "pack": "baltimore-smart-2022", "replications": 1}
    got = client.post("/api/response/staffing", json=body, headers=auth).json()
    assert got["agency_map"] == "synthetic-city"
    before, after = got["before"]["result"], got["after"]["result"]
    assert before["meets"]
    assert after["meets"]
    assert after["units_per_day"] < before["units_per_day"]
    assert not any(p["meets"] for p in got["before"]["proof"] + got["after"]["proof"])
    plain = client.post("/api/response/staffing", json={"replications": 1}, headers=auth).json()
    assert plain["result"]["staffing"] == got["before"]["result"]["staffing"]
    assert (
        client.post("/api/response/staffing", json={"pack": "gotham"}, headers=auth).status_code
        == 422
    )


def test_simulation_page_shows_curves_before_and_after(
    engine: Engine, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, auth = api
    page = client.get("/response/simulate", params={"replications": 2}, headers=auth)
    assert page.status_code == 200
    for marker in ('id="sim-p1"', 'id="sim-curves"', 'id="sim-curve-table"', "simulate-chart-data"):
        assert marker in page.text
    rows = page.text.split('id="sim-curve-table"')[1].count("<tr>")
    assert rows == 1 + 10  # header and one row per scale
    assert client.get("/response/simulate", params={"pack": "x"}, headers=auth).status_code == 422
    assert (
        client.get("/response/simulate", params={"replications": 99}, headers=auth).status_code
        == 422
    )


def test_dispatchers_cannot_run_simulations(engine: Engine) -> None:
    add_account(engine, "dee", Role.DISPATCHER)
    token, _ = create_api_token(engine, "dee", "test", policy=POLICY)
    client = TestClient(make_app(engine))
    reply = client.post(
        "/api/response/simulate", json={}, headers={"Authorization": f"Bearer {token}"}
    )
    assert reply.status_code == 403
