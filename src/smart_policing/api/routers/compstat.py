"""Compstat (R17): the violent-crime table, the shootings chart, the district map, CSV."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import Engine, select

from smart_policing.api.audit import note_records
from smart_policing.api.deps import BlankIsNone, EngineDep, LocalDay, SettingsDep
from smart_policing.api.pages import render
from smart_policing.api.security import Principal, allow
from smart_policing.compstat import (
    CompstatError,
    CompstatQuery,
    CompstatReport,
    compstat_report,
    report_to_csv,
)
from smart_policing.security.roles import Role
from smart_policing.settings import Settings
from smart_policing.store import tables as t

__all__ = ["router"]

router = APIRouter()

COMPSTAT = allow(Role.ADMIN, Role.ANALYST, Role.SUPERVISOR, Role.OFFICER)

City = Annotated[str, Query(max_length=64, description="city whose groups and population apply")]
Start = Annotated[LocalDay | None, BlankIsNone, Query(description="first local day (inclusive)")]
End = Annotated[LocalDay | None, BlankIsNone, Query(description="last local day (inclusive)")]
Districts = Annotated[
    list[str] | None, Query(max_length=64, description="district name; repeat for several")
]
Groups = Annotated[list[str] | None, Query(max_length=64, description="group ids to report")]


def compstat_query(
    city: City = "baltimore",
    start: Start = None,
    end: End = None,
    district: Districts = None,
    group: Groups = None,
) -> CompstatQuery:
    """The Compstat query of a request (query parameters); 422 naming the field if invalid."""
    try:
        return CompstatQuery(city=city, start=start, end=end, district=district, groups=group)
    except ValidationError as exc:
        message = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'query'}: {e['msg']}" for e in exc.errors()
        )
        raise HTTPException(422, message) from None


Query_ = Annotated[CompstatQuery, Depends(compstat_query)]


def _report(
    request: Request, engine: Engine, settings: Settings, query: CompstatQuery
) -> CompstatReport:
    try:
        report = compstat_report(engine, query, settings, cache=request.app.state.compstat_cache)
    except CompstatError as exc:
        raise HTTPException(422, str(exc)) from None
    note_records(
        request,
        "compstat",
        city=query.city,
        start=query.start,
        end=query.end,
        district=query.district,
        groups=query.groups,
        data_version=report.data_version,
    )
    return report


@router.get("/api/compstat", tags=["compstat"])
def api_compstat(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _who: Annotated[Principal, Depends(COMPSTAT)],
    query: Query_,
) -> CompstatReport:
    """Counts by year and group, rates per 100,000, year-over-year change, the monthly
    shootings/homicides series and counts per district (same numbers as the page and
    ``smart-policing compstat --json``)."""
    return _report(request, engine, settings, query)


@router.get(
    "/api/compstat.csv",
    tags=["compstat"],
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def api_compstat_csv(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _who: Annotated[Principal, Depends(COMPSTAT)],
    query: Query_,
) -> Response:
    """The year-by-group table as CSV (for spreadsheets and the command meeting's slides)."""
    report = _report(request, engine, settings, query)
    stamp = f"{report.filters.effective_start or 'all'}_{report.filters.effective_end or 'all'}"
    return Response(
        report_to_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="compstat_{query.city}_{stamp}.csv"'
        },
    )


def _district_key(name: str | None) -> str:
    return (name or "").strip().upper()


@router.get("/api/compstat/districts", tags=["compstat"])
def api_compstat_districts(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _who: Annotated[Principal, Depends(COMPSTAT)],
    query: Query_,
) -> dict[str, Any]:
    """District polygons (GeoJSON, EPSG:4326) with the report's counts per district.

    Districts are matched to incident districts by name, ignoring case; districts with
    no polygon are listed under ``unmapped``. A ``district`` filter is ignored: the
    map always shows every district.
    """
    report = _report(request, engine, settings, query.model_copy(update={"district": None}))
    by_name = {_district_key(d.district): d for d in report.districts}
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.boundaries.c.name, t.boundaries.c.geometry, t.boundaries.c.area_m2)
            .where(t.boundaries.c.kind == "district")
            .order_by(t.boundaries.c.name)
        ).all()
    features = []
    matched: set[str] = set()
    for row in rows:
        key = _district_key(row.name)
        counts = by_name.get(key)
        matched.add(key)
        features.append(
            {
                "type": "Feature",
                "geometry": json.loads(row.geometry),
                "properties": {
                    "name": row.name,
                    "area_km2": round(row.area_m2 / 1e6, 3),
                    "incidents": counts.incidents if counts else 0,
                    "counts": counts.counts if counts else {},
                },
            }
        )
    unmapped = [
        {"district": d.district, "counts": d.counts, "incidents": d.incidents}
        for d in report.districts
        if _district_key(d.district) not in matched
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "groups": [g.id for g in report.groups],
        "unmapped": unmapped,
    }


@router.get("/compstat", response_class=HTMLResponse, include_in_schema=False)
def compstat_page(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _who: Annotated[Principal, Depends(COMPSTAT)],
    query: Query_,
) -> HTMLResponse:
    """The Compstat page: table, monthly chart, district map, CSV link."""
    report = _report(request, engine, settings, query)
    years = [y.year for y in report.years]
    cells = {(r.group, r.year): r for r in report.rows}
    chart = {
        "months": [m.month for m in report.months],
        "series": {g: [m.counts.get(g, 0) for m in report.months] for g in report.chart_groups},
        "labels": {g.id: g.label for g in report.groups},
    }
    return render(
        request,
        "compstat.html",
        {
            "report": report,
            "years": years,
            "cells": cells,
            "chart_json": json.dumps(chart),
            "query": request.url.query,
            "selected_districts": list(query.district or ()),
        },
    )
