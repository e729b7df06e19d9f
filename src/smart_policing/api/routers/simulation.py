"""Dispatch simulation and the staffing search over the API, and the simulation page.

Command staff ask what staffing and diversion would do before they change them (R6,
R7, R24). The API runs the shipped scenarios only (by name, with bounded overrides):
a scenario file names files on disk, and a web request must not make the server read
arbitrary paths; departments add scenarios as package data or run their own files
with ``smart-policing simulate`` and ``smart-policing response staffing``. Work is
bounded (replications, horizon) so a request answers in seconds; the search runs in
the serving process (``scheduler="serial"``), the command line on Dask.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from smart_policing.api.audit import note_records
from smart_policing.api.cache import LruCache
from smart_policing.api.pages import render
from smart_policing.api.security import Principal, allow
from smart_policing.response.sim.replicate import (
    PreparedScenario,
    ScenarioResult,
    prepare_scenario,
    run_scenario,
)
from smart_policing.response.sim.scenario import builtin_scenarios, load_scenario
from smart_policing.response.staffing import (
    CurvePoint,
    StaffingComparison,
    StaffingSearch,
    compare_diversion,
    draw_workloads,
    pack_keep,
    search_staffing,
    staffing_curve,
)
from smart_policing.response.staffing_cli import choose_agency_map
from smart_policing.security.roles import Role
from smart_policing.triage.pack import builtin_pack, builtin_packs

__all__ = ["SimulateRequest", "StaffingRequest", "router"]

router = APIRouter()

PLANNERS = allow(Role.ADMIN, Role.ANALYST, Role.SUPERVISOR)
CURVE_SCALES = (0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5)


def _scenario_name(value: str) -> str:
    known = builtin_scenarios()
    if value not in known:
        raise HTTPException(422, f"scenario: unknown {value!r} (known: {', '.join(sorted(known))})")
    return value


def _pack_name(value: str | None) -> str | None:
    if value is not None and value not in builtin_packs():
        raise HTTPException(422, f"pack: unknown {value!r} (known: {', '.join(builtin_packs())})")
    return value


def _prepared(name: str, *, horizon_days: float | None = None) -> PreparedScenario:
    scenario = load_scenario(builtin_scenarios()[_scenario_name(name)])
    if horizon_days is not None:
        scenario = scenario.with_changes(horizon_days=horizon_days)
    return prepare_scenario(scenario)


class SimulateRequest(BaseModel):
    """One shipped scenario, optionally with other staffing, seed or length."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str = Field(default="synthetic-city", max_length=80)
    replications: int | None = Field(default=None, ge=1, le=20)
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)
    horizon_days: float | None = Field(default=None, gt=1, le=60)
    staffing: dict[str, tuple[int, ...]] | None = Field(
        default=None, description="units on duty per district, one number per shift"
    )


class StaffingRequest(BaseModel):
    """A staffing search on a shipped scenario, optionally before/after a pack."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str = Field(default="synthetic-city", max_length=80)
    pack: str | None = Field(default=None, max_length=80)
    replications: int = Field(default=1, ge=1, le=3)
    min_units: int = Field(default=1, ge=0, le=20)


@router.get("/api/response/scenarios", tags=["response"])
def api_scenarios(_who: Annotated[Principal, Depends(PLANNERS)]) -> list[str]:
    """The shipped simulation scenarios (``smart-policing simulate --scenario NAME``)."""
    return sorted(builtin_scenarios())


@router.post("/api/response/simulate", tags=["response"])
def api_simulate(
    request: Request, _who: Annotated[Principal, Depends(PLANNERS)], body: SimulateRequest
) -> ScenarioResult:
    """Simulate a shipped scenario's replications: response times per priority, P1
    within target, utilisation and proactive share by district and shift, with 95%
    confidence intervals. 422 names an unknown scenario or a bad staffing table."""
    prepared = _prepared(body.scenario, horizon_days=body.horizon_days)
    note_records(request, "simulation", scenario=body.scenario)
    try:
        return run_scenario(
            prepared, replications=body.replications, seed=body.seed, staffing=body.staffing
        )
    except ValueError as exc:
        raise HTTPException(422, f"staffing: {exc}") from exc


@router.post("/api/response/staffing", tags=["response"])
def api_staffing(
    request: Request, _who: Annotated[Principal, Depends(PLANNERS)], body: StaffingRequest
) -> StaffingSearch | StaffingComparison:
    """The fewest units per district and shift meeting both targets, and the proof that
    one fewer anywhere fails; with ``pack``, before and after its diversion."""
    prepared = _prepared(body.scenario)
    pack_name = _pack_name(body.pack)
    note_records(request, "staffing_search", scenario=body.scenario, pack=pack_name)
    if pack_name is None:
        workloads = draw_workloads(prepared, replications=body.replications)
        return search_staffing(prepared, workloads, min_units=body.min_units, scheduler="serial")
    pack = builtin_pack(pack_name)
    return compare_diversion(
        prepared,
        pack,
        choose_agency_map(prepared, "auto"),
        replications=body.replications,
        min_units=body.min_units,
        scheduler="serial",
    )


class _Page(BaseModel):
    model_config = ConfigDict(frozen=True)

    result: ScenarioResult
    before: list[CurvePoint]
    after: list[CurvePoint]
    agency_map: str


def _page_data(scenario: str, replications: int, pack: str) -> _Page:
    prepared = _prepared(scenario)
    result = run_scenario(prepared, replications=replications)
    amap = choose_agency_map(prepared, "auto")
    keep = pack_keep(
        builtin_pack(pack), amap, start=prepared.start, timezone=prepared.scenario.timezone
    )
    plain = draw_workloads(prepared, replications=replications)
    diverted = draw_workloads(prepared, replications=replications, keep=keep)
    return _Page(
        result=result,
        before=staffing_curve(prepared, plain, CURVE_SCALES),
        after=staffing_curve(prepared, diverted, CURVE_SCALES),
        agency_map=amap.name,
    )


@router.get("/response/simulate", response_class=HTMLResponse, include_in_schema=False)
def simulate_page(
    request: Request,
    _who: Annotated[Principal, Depends(PLANNERS)],
    scenario: Annotated[str, Query(max_length=80)] = "synthetic-city",
    replications: Annotated[int, Query(ge=2, le=20)] = 5,
    pack: Annotated[str, Query(max_length=80)] = "baltimore-smart-2022",
) -> HTMLResponse:
    """The simulation page: simulated response times, compliance by district with
    confidence intervals, and staffing curves before and after a pack's diversion."""
    _scenario_name(scenario)
    _pack_name(pack)
    cache: LruCache[_Page] | None = getattr(request.app.state, "simulation_cache", None)
    if cache is None:
        cache = request.app.state.simulation_cache = LruCache(8)
    page = cache.get_or_make(
        (scenario, replications, pack), lambda: _page_data(scenario, replications, pack)
    )
    note_records(request, "simulation", scenario=scenario, pack=pack)
    r = page.result
    chart: dict[str, Any] = {
        "histogram": [
            {
                "priority": p.priority,
                "labels": [
                    f"{b.low_min:g}-{b.high_min:g}" if b.high_min is not None else f"{b.low_min:g}+"
                    for b in p.histogram
                ],
                "shares": [b.share.mean for b in p.histogram],
            }
            for p in r.priorities
        ],
        "districts": [
            {
                "district": d.district,
                "mean": d.p1_within_target.mean,
                "low": d.p1_within_target.low,
                "high": d.p1_within_target.high,
            }
            for d in r.districts
        ],
        "target_share": r.p1_share_target,
        "proactive_target": r.proactive_share_target,
        "before": [p.model_dump() for p in page.before],
        "after": [p.model_dump() for p in page.after],
    }
    return render(
        request,
        "response_simulate.html",
        {
            "page": page,
            "r": r,
            "scenario": scenario,
            "scenarios": sorted(builtin_scenarios()),
            "replications": replications,
            "pack": pack,
            "packs": builtin_packs(),
            "chart_json": json.dumps(chart),
        },
    )
