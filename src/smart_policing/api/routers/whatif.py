"""The diversion what-if page: a policy pack replayed on the stored calls (R24).

Command staff pick a pack (and optionally a second one to compare) and a period;
the page shows the calls and officer-hours each responder would take, broken down
by district, hour, weekday, call type or priority, with a CSV download. The
numbers come from :func:`smart_policing.triage.replay.replay`, the same core as
``smart-policing triage replay --from-db``; the call-type map is the shipped one that
knows the most stored calls (:func:`~smart_policing.triage.vocabulary.best_builtin_map`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, get_args

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlalchemy import Engine

from smart_policing.api.audit import note_records
from smart_policing.api.cache import LruCache, calls_version
from smart_policing.api.deps import BlankIsNone, EngineDep, LocalDay, SettingsDep
from smart_policing.api.pages import render
from smart_policing.api.security import Principal, allow
from smart_policing.security.roles import Role
from smart_policing.settings import Settings
from smart_policing.store.calls import load_calls
from smart_policing.triage.pack import builtin_pack, builtin_packs
from smart_policing.triage.replay import (
    Breakdown,
    ReplayOptions,
    ReplayReport,
    replay,
    report_csv,
)
from smart_policing.triage.vocabulary import best_builtin_map, stored_call_type_counts

__all__ = ["WhatIfQuery", "router"]

router = APIRouter()

WHATIF = allow(Role.ADMIN, Role.ANALYST, Role.SUPERVISOR)
BREAKDOWNS: tuple[str, ...] = get_args(Breakdown)
_CACHE_SIZE = 16


class WhatIfQuery(BaseModel):
    """One replay: pack, optional comparison pack, local-day period."""

    model_config = ConfigDict(frozen=True)

    pack: str
    compare: str | None = None
    start: date | None = None
    end: date | None = None
    include_officer_initiated: bool = False


ShortName = Annotated[str, StringConstraints(max_length=64)]
PackName = Annotated[ShortName | None, BlankIsNone, Query(description="policy pack")]
Start = Annotated[LocalDay | None, BlankIsNone, Query(description="first local day (inclusive)")]
End = Annotated[LocalDay | None, BlankIsNone, Query(description="last local day (inclusive)")]


def whatif_query(
    request: Request,
    pack: PackName = None,
    compare: PackName = None,
    start: Start = None,
    end: End = None,
    include_officer_initiated: bool = False,
) -> WhatIfQuery:
    """The replay a request asks for; 422 naming an unknown pack or a backwards range."""
    settings: Settings = request.app.state.settings
    chosen = pack or getattr(settings, "triage_pack", None) or "baltimore-smart-2022"
    known = builtin_packs()
    for field, name in (("pack", chosen), ("compare", compare)):
        if name is not None and name not in known:
            raise HTTPException(422, f"{field}: unknown pack {name!r} (known: {', '.join(known)})")
    if start and end and end < start:
        raise HTTPException(422, "end must not be before start")
    return WhatIfQuery(
        pack=chosen,
        compare=compare if compare != chosen else None,
        start=start,
        end=end,
        include_officer_initiated=include_officer_initiated,
    )


Query_ = Annotated[WhatIfQuery, Depends(whatif_query)]


def _report(request: Request, engine: Engine, settings: Settings, q: WhatIfQuery) -> ReplayReport:
    cache: LruCache[ReplayReport] | None = getattr(request.app.state, "whatif_cache", None)
    if cache is None:
        cache = request.app.state.whatif_cache = LruCache(_CACHE_SIZE)
    key = (calls_version(engine), settings.timezone, q)

    def make() -> ReplayReport:
        calls = load_calls(engine, start=q.start, end=q.end, timezone=settings.timezone)
        codes = {(a, code): n for a, code, n in stored_call_type_counts(engine)}
        return replay(
            calls,
            builtin_pack(q.pack),
            compare=builtin_pack(q.compare) if q.compare else None,
            agency_map=best_builtin_map(codes),
            options=ReplayOptions(include_officer_initiated=q.include_officer_initiated),
        )

    report = cache.get_or_make(key, make)
    note_records(
        request,
        "triage_whatif",
        pack=q.pack,
        compare=q.compare,
        start=q.start,
        end=q.end,
        calls=report.inputs.calls,
    )
    return report


@router.get("/api/triage/whatif", tags=["triage"])
def api_whatif(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _who: Annotated[Principal, Depends(WHATIF)],
    query: Query_,
) -> ReplayReport:
    """Calls and officer-hours a pack (and a second one) would move, on the stored calls."""
    return _report(request, engine, settings, query)


@router.get(
    "/api/triage/whatif.csv",
    tags=["triage"],
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def api_whatif_csv(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _who: Annotated[Principal, Depends(WHATIF)],
    query: Query_,
) -> Response:
    """Every breakdown of the replay as CSV (hours as exact decimals)."""
    report = _report(request, engine, settings, query)
    name = f"whatif_{query.pack}" + (f"_vs_{query.compare}" if query.compare else "")
    return Response(
        report_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get("/triage/whatif", response_class=HTMLResponse, include_in_schema=False)
def whatif_page(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _who: Annotated[Principal, Depends(WHATIF)],
    query: Query_,
    by: Annotated[str, Query(max_length=16)] = "district",
) -> HTMLResponse:
    """The what-if page."""
    if by not in BREAKDOWNS:
        raise HTTPException(422, f"by: one of {', '.join(BREAKDOWNS)}")
    report = _report(request, engine, settings, query)
    rows = [r for r in report.result.breakdowns if r.by == by]
    return render(
        request,
        "whatif.html",
        {
            "report": report,
            "q": query,
            "packs": builtin_packs(),
            "by": by,
            "breakdowns": BREAKDOWNS,
            "rows": rows,
            "query_string": request.url.query,
        },
    )
