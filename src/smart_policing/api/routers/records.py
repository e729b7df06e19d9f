"""The records browser: incidents and calls, filtered, keyset-paginated."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field, StringConstraints

from smart_policing.api.audit import note_records
from smart_policing.api.deps import BlankIsNone, EngineDep, LocalDay, SettingsDep
from smart_policing.api.pages import render
from smart_policing.api.security import Principal, allow
from smart_policing.security.roles import Role
from smart_policing.store.records import (
    CALL_COLUMNS,
    INCIDENT_COLUMNS,
    CursorError,
    Page,
    RecordFilters,
    browse,
)

__all__ = ["router"]

router = APIRouter()

INCIDENT_ROLES = (Role.ADMIN, Role.ANALYST, Role.SUPERVISOR, Role.RECORDS)
CALL_ROLES = (Role.ADMIN, Role.ANALYST, Role.SUPERVISOR, Role.DISPATCHER, Role.RECORDS)

Limit = Annotated[int, Query(ge=1, le=500, description="rows per page")]
Start = Annotated[LocalDay | None, BlankIsNone, Query(description="first local day (inclusive)")]
End = Annotated[LocalDay | None, BlankIsNone, Query(description="last local day (inclusive)")]
ShortText = Annotated[str, StringConstraints(max_length=128)]
Text64 = Annotated[ShortText | None, BlankIsNone, Query()]


class RecordPage(BaseModel):
    """One page of records (newest first); pass ``next_cursor`` as ``cursor`` for more."""

    items: list[dict[str, Any]]
    next_cursor: str | None
    columns: list[str]


def _check_range(start: date | None, end: date | None) -> None:
    if start and end and end < start:
        raise HTTPException(422, "end must not be before start")


def _page(
    request: Request,
    engine: EngineDep,
    timezone: str,
    kind: str,
    filters: RecordFilters,
    cursor: str | None,
    limit: int,
) -> Page:
    try:
        page = browse(engine, kind, filters, timezone=timezone, cursor=cursor, limit=limit)
    except CursorError as exc:
        raise HTTPException(422, str(exc)) from None
    note_records(
        request,
        kind,
        ids=[r["id"] for r in page.items],
        start=filters.start,
        end=filters.end,
        **filters.equals,
    )
    return page


def incident_filters(
    start: Start = None,
    end: End = None,
    district: Text64 = None,
    offence_code: Text64 = None,
    neighbourhood: Text64 = None,
    weapon: Text64 = None,
    flagged: bool = False,
) -> RecordFilters:
    """The incident filters of a request (query parameters)."""
    _check_range(start, end)
    return RecordFilters(
        start=start,
        end=end,
        equals={
            "district": district,
            "offence_code": offence_code,
            "neighbourhood": neighbourhood,
            "weapon": weapon,
        },
        flagged_only=flagged,
    )


PriorityNumber = Annotated[int, Field(ge=0, le=99)]
Priority = Annotated[PriorityNumber | None, BlankIsNone, Query()]


def call_filters(
    start: Start = None,
    end: End = None,
    district: Text64 = None,
    call_type_code: Text64 = None,
    priority: Priority = None,
    source_channel: Text64 = None,
    disposition_code: Text64 = None,
    flagged: bool = False,
) -> RecordFilters:
    """The call filters of a request (query parameters)."""
    _check_range(start, end)
    return RecordFilters(
        start=start,
        end=end,
        equals={
            "district": district,
            "call_type_code": call_type_code,
            "priority": priority,
            "source_channel": source_channel,
            "disposition_code": disposition_code,
        },
        flagged_only=flagged,
    )


IncidentFilters = Annotated[RecordFilters, Depends(incident_filters)]
CallFilters = Annotated[RecordFilters, Depends(call_filters)]
Cursor = Annotated[str | None, Query(max_length=512)]


def _render(
    request: Request, kind: str, title: str, page: Page, filters: RecordFilters, timezone: str
) -> HTMLResponse:
    columns = INCIDENT_COLUMNS if kind == "incidents" else CALL_COLUMNS
    return render(
        request,
        "records.html",
        {
            "kind": kind,
            "title": title,
            "page": page,
            "columns": columns,
            "filters": {
                "start": filters.start,
                "end": filters.end,
                **filters.equals,
                "flagged": filters.flagged_only,
            },
            "filter_fields": list(filters.equals),
            "timezone": timezone,
        },
    )


@router.get("/api/incidents", tags=["records"])
def api_incidents(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _who: Annotated[Principal, Depends(allow(*INCIDENT_ROLES))],
    filters: IncidentFilters,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> RecordPage:
    """Incidents, newest first, filtered by local-day range and codes."""
    page = _page(request, engine, settings.timezone, "incidents", filters, cursor, limit)
    return RecordPage(
        items=page.items, next_cursor=page.next_cursor, columns=list(INCIDENT_COLUMNS)
    )


@router.get("/records/incidents", response_class=HTMLResponse, include_in_schema=False)
def incidents_page(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _who: Annotated[Principal, Depends(allow(*INCIDENT_ROLES))],
    filters: IncidentFilters,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> HTMLResponse:
    """The incidents browser."""
    page = _page(request, engine, settings.timezone, "incidents", filters, cursor, limit)
    return _render(request, "incidents", "Incidents", page, filters, settings.timezone)


@router.get("/api/calls", tags=["records"])
def api_calls(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _who: Annotated[Principal, Depends(allow(*CALL_ROLES))],
    filters: CallFilters,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> RecordPage:
    """Calls for service, newest first, with derived intervals (seconds)."""
    page = _page(request, engine, settings.timezone, "calls", filters, cursor, limit)
    return RecordPage(items=page.items, next_cursor=page.next_cursor, columns=list(CALL_COLUMNS))


@router.get("/records/calls", response_class=HTMLResponse, include_in_schema=False)
def calls_page(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _who: Annotated[Principal, Depends(allow(*CALL_ROLES))],
    filters: CallFilters,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> HTMLResponse:
    """The calls-for-service browser."""
    page = _page(request, engine, settings.timezone, "calls", filters, cursor, limit)
    return _render(request, "calls", "Calls for service", page, filters, settings.timezone)
