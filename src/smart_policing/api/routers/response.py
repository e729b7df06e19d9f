"""Response times and officer time on the stored calls (R6, R7): page and API.

Command staff and analysts see where they stand against the two numbers of the 2019
plan (seed 001): the share of priority-1 calls reached within 10 minutes, and the
share of officer time left for proactive work (one third). The numbers come from
:func:`smart_policing.response.metrics.response_report` and
:func:`smart_policing.response.timebudget.time_budget`, the same cores as
``smart-policing response report --from-db``; this router only reads the query,
loads the calls and renders.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Engine

from smart_policing.api.audit import note_records
from smart_policing.api.cache import LruCache, calls_version
from smart_policing.api.deps import BlankIsNone, EngineDep, LocalDay, SettingsDep
from smart_policing.api.pages import render
from smart_policing.api.security import Principal, allow
from smart_policing.response.erlang import ErlangStaffing, StaffingTargets, erlang_staffing
from smart_policing.response.metrics import (
    DIMENSIONS,
    ResponseOptions,
    ResponseReport,
    report_csv,
    response_report,
)
from smart_policing.response.timebudget import TimeBudget, TimeBudgetOptions, time_budget
from smart_policing.security.roles import Role
from smart_policing.settings import Settings
from smart_policing.store.calls import load_response_calls

__all__ = ["ErlangQuery", "ResponseQuery", "router"]

router = APIRouter()

RESPONSE = allow(Role.ADMIN, Role.ANALYST, Role.SUPERVISOR)
_CACHE_SIZE = 16


class ResponseQuery(BaseModel):
    """One measurement: period, agency, target, and the time-budget assumptions."""

    model_config = ConfigDict(frozen=True)

    start: date | None = None
    end: date | None = None
    agency: str = "POLICE"
    include_officer_initiated: bool = False
    target_min: float = 10.0
    target_share: float = 0.90
    units_per_shift: float | None = None
    admin_allowance: float = 0.10
    proactive_target: float = 1 / 3

    def metric_options(self, timezone: str) -> ResponseOptions:
        return ResponseOptions(
            timezone=timezone,
            agencies=None if self.agency == "ALL" else (self.agency,),
            include_officer_initiated=self.include_officer_initiated,
            target_min=self.target_min,
        )

    def budget_options(self, timezone: str) -> TimeBudgetOptions:
        return TimeBudgetOptions(
            timezone=timezone,
            agencies=None if self.agency == "ALL" else (self.agency,),
            units_per_shift=self.units_per_shift,
            admin_allowance=self.admin_allowance,
            proactive_target=self.proactive_target,
            start=self.start,
            end=self.end,
        )


UnitCount = Annotated[float, Field(ge=0, le=100_000)]
Start = Annotated[LocalDay | None, BlankIsNone, Query(description="first local day (inclusive)")]
End = Annotated[LocalDay | None, BlankIsNone, Query(description="last local day (inclusive)")]


def response_query(
    start: Start = None,
    end: End = None,
    agency: Annotated[
        str, Query(max_length=32, pattern=r"^[A-Za-z0-9 _-]+$", description="agency or ALL")
    ] = "POLICE",
    include_officer_initiated: bool = False,
    target_min: Annotated[
        float, Query(gt=0, le=240, description="priority-1 response target, minutes")
    ] = 10.0,
    target_share: Annotated[
        float, Query(gt=0, le=1, description="share of priority-1 calls to reach in time")
    ] = 0.90,
    units_per_shift: Annotated[
        UnitCount | None,
        BlankIsNone,
        Query(description="units on duty per shift, city-wide (else from unit ids)"),
    ] = None,
    admin_allowance: Annotated[float, Query(ge=0, lt=1)] = 0.10,
    proactive_target: Annotated[float, Query(ge=0, le=1)] = 1 / 3,
) -> ResponseQuery:
    """The measurement a request asks for; 422 for a backwards range."""
    if start and end and end < start:
        raise HTTPException(422, "end must not be before start")
    return ResponseQuery(
        start=start,
        end=end,
        agency=agency.strip().upper(),
        include_officer_initiated=include_officer_initiated,
        target_min=target_min,
        target_share=target_share,
        units_per_shift=units_per_shift,
        admin_allowance=admin_allowance,
        proactive_target=proactive_target,
    )


Query_ = Annotated[ResponseQuery, Depends(response_query)]


def _cache(request: Request) -> LruCache[Any]:
    cache: LruCache[Any] | None = getattr(request.app.state, "response_cache", None)
    if cache is None:
        cache = request.app.state.response_cache = LruCache(_CACHE_SIZE)
    return cache


def _measure(
    request: Request, engine: Engine, settings: Settings, q: ResponseQuery
) -> tuple[ResponseReport, TimeBudget]:
    tz = settings.timezone

    def make() -> tuple[ResponseReport, TimeBudget]:
        calls = load_response_calls(engine, start=q.start, end=q.end, timezone=tz)
        try:
            return response_report(calls, q.metric_options(tz)), time_budget(
                calls, q.budget_options(tz)
            )
        except (ValidationError, ValueError) as exc:
            raise HTTPException(422, str(exc)) from exc

    result: tuple[ResponseReport, TimeBudget] = _cache(request).get_or_make(
        ("measure", calls_version(engine), tz, q), make
    )
    note_records(
        request,
        "response_report",
        start=q.start,
        end=q.end,
        agency=q.agency,
        calls=result[0].inputs.calls,
    )
    return result


@router.get("/api/response/report", tags=["response"])
def api_report(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _who: Annotated[Principal, Depends(RESPONSE)],
    query: Query_,
) -> ResponseReport:
    """Response-time distributions, priority-1 compliance and data quality (minutes)."""
    return _measure(request, engine, settings, query)[0]


@router.get(
    "/api/response/report.csv",
    tags=["response"],
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def api_report_csv(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _who: Annotated[Principal, Depends(RESPONSE)],
    query: Query_,
) -> Response:
    """The overall row and every breakdown as CSV (minutes, exact decimals)."""
    report = _measure(request, engine, settings, query)[0]
    return Response(
        report_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="response_times.csv"'},
    )


@router.get("/api/response/time-budget", tags=["response"])
def api_time_budget(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _who: Annotated[Principal, Depends(RESPONSE)],
    query: Query_,
) -> TimeBudget:
    """Officer time per shift: committed to calls, officer-initiated, admin, remainder."""
    return _measure(request, engine, settings, query)[1]


def _chart_data(report: ResponseReport, budget: TimeBudget, q: ResponseQuery) -> dict[str, Any]:
    hist: dict[str, list[int]] = {}
    labels: list[str] = []
    for b in report.histogram:
        key = b.priority or "none"
        hist.setdefault(key, []).append(b.calls)
        if len(hist) == 1:
            labels.append(
                f"{b.start_min:g}-{b.end_min:g}" if b.end_min is not None else f"{b.start_min:g}+"
            )
    districts = [
        {
            "district": r.key,
            "share": r.highest_priority.share_within_target,
            "reached": r.highest_priority.reached,
        }
        for r in report.breakdown("district")
        if r.key is not None and r.highest_priority.reached
    ]
    shifts = [
        {
            "shift": r.shift,
            "committed": r.committed_hours,
            "proactive": r.proactive_hours,
            "admin": r.admin_hours,
            "remainder": r.remainder_hours,
        }
        for r in budget.shifts
    ]
    return {
        "histogram": {"labels": labels, "series": hist},
        "target_min": q.target_min,
        "target_share": q.target_share,
        "districts": districts,
        "shifts": shifts,
    }


@router.get("/response", response_class=HTMLResponse, include_in_schema=False)
def response_page(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _who: Annotated[Principal, Depends(RESPONSE)],
    query: Query_,
    by: Annotated[str, Query(max_length=16)] = "priority",
) -> HTMLResponse:
    """The response-times page: compliance, distributions, breakdowns, time budget."""
    if by not in DIMENSIONS:
        raise HTTPException(422, f"by: one of {', '.join(DIMENSIONS)}")
    report, budget = _measure(request, engine, settings, query)
    return render(
        request,
        "response.html",
        {
            "report": report,
            "budget": budget,
            "q": query,
            "by": by,
            "dimensions": DIMENSIONS,
            "rows": [r for r in report.breakdowns if r.by == by],
            "query_string": request.url.query,
            "chart_json": json.dumps(_chart_data(report, budget, query)),
        },
    )


# ---------------------------------------------------------------- staffing calculator

MAX_ERLANGS = 100_000
"""Largest offered load the calculator takes (a city's whole fleet is in the thousands)."""
Positive = Annotated[float, Field(gt=0, le=1_000_000)]
Share = Annotated[float, Field(gt=0, lt=1)]


class ErlangQuery(BaseModel):
    """An Erlang C staffing question: load, and servers or targets."""

    model_config = ConfigDict(frozen=True)

    calls: float = 100.0
    interval_min: float = 30.0
    handle_min: float = 3.0
    servers: int | None = None
    target_s: float | None = 20.0
    target_sl: float | None = 0.8
    max_wait_s: float | None = None
    max_p_wait: float | None = None


def erlang_query(
    calls: Annotated[float, Query(ge=0, le=1_000_000, description="calls per interval")] = 100.0,
    interval_min: Annotated[float, Query(gt=0, le=1440, description="minutes")] = 30.0,
    handle_min: Annotated[float, Query(gt=0, le=1440, description="mean handle, minutes")] = 3.0,
    servers: Annotated[
        Annotated[int, Field(ge=1, le=5000)] | None, BlankIsNone, Query(description="servers")
    ] = None,
    target_s: Annotated[
        Annotated[float, Field(ge=0, le=86_400)] | None,
        BlankIsNone,
        Query(description="answer-time target, seconds"),
    ] = 20.0,
    target_sl: Annotated[
        Share | None, BlankIsNone, Query(description="share answered within target_s")
    ] = 0.8,
    max_wait_s: Annotated[
        Positive | None, BlankIsNone, Query(description="largest mean wait, seconds")
    ] = None,
    max_p_wait: Annotated[
        Share | None, BlankIsNone, Query(description="largest probability of waiting")
    ] = None,
) -> ErlangQuery:
    """The calculator's inputs; 422 when a service-level target lacks its time."""
    if target_sl is not None and target_s is None:
        raise HTTPException(422, "target_sl needs target_s (the answer-time target in seconds)")
    if calls / interval_min * handle_min > MAX_ERLANGS:
        raise HTTPException(
            422, f"offered load above {MAX_ERLANGS:,} erlangs (calls / interval_min x handle_min)"
        )
    if servers is None and target_sl is None and max_wait_s is None and max_p_wait is None:
        raise HTTPException(
            422, "give servers, or a target: target_sl (with target_s), max_wait_s, max_p_wait"
        )
    return ErlangQuery(
        calls=calls,
        interval_min=interval_min,
        handle_min=handle_min,
        servers=servers,
        target_s=target_s,
        target_sl=target_sl,
        max_wait_s=max_wait_s,
        max_p_wait=max_p_wait,
    )


ErlangQuery_ = Annotated[ErlangQuery, Depends(erlang_query)]


def _erlang(q: ErlangQuery) -> ErlangStaffing:
    targets = StaffingTargets(
        target_s=q.target_s, target_sl=q.target_sl, max_wait_s=q.max_wait_s, max_p_wait=q.max_p_wait
    )
    try:
        return erlang_staffing(q.calls / q.interval_min, q.handle_min, targets, servers=q.servers)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc


@router.get("/api/response/erlang-c", tags=["response"])
def api_erlang_c(
    _who: Annotated[Principal, Depends(RESPONSE)], query: ErlangQuery_
) -> ErlangStaffing:
    """Erlang C (M/M/c): P(wait), service level, mean wait at ``servers``, the servers a
    target needs, and the staffing curve around them. Rates per ``interval_min``."""
    return _erlang(query)


@router.get("/response/staffing", response_class=HTMLResponse, include_in_schema=False)
def staffing_page(
    request: Request,
    _who: Annotated[Principal, Depends(RESPONSE)],
    query: ErlangQuery_,
) -> HTMLResponse:
    """The staffing page: the Erlang C calculator and its curve."""
    plan = _erlang(query)
    curve = {
        "servers": [r.servers for r in plan.table],
        "service_level": [r.service_level for r in plan.table],
        "p_wait": [r.p_wait for r in plan.table],
        "occupancy": [r.occupancy for r in plan.table],
        "needed": plan.servers_needed,
        "target_sl": query.target_sl,
    }
    return render(
        request,
        "response_staffing.html",
        {"plan": plan, "q": query, "chart_json": json.dumps(curve)},
    )
