"""Zone sets and the proactive-activity log (R8, R9) over the web.

Officers log foot patrols, business checks, knock-and-talks and warrant services in
a zone; the officer is always the signed-in user, never a field of the request.
Supervisors, analysts and admins read the log and the dosage (activities and
minutes per zone per local ISO week, in the city's time zone ``SMART_TIMEZONE``).
Zone sets are imported with ``smart-policing zones import``.

Roles: officers, supervisors, analysts and admins read zone sets (the map's
GeoJSON carries per-zone dosage totals: counts and minutes, no names) and how a set
falls across the imported neighbourhoods (:mod:`smart_policing.zones.equity`: zone
area per neighbourhood beside its share of the period's victim-reported gun
incidents, never arrests); officers and
supervisors log activities; supervisors, analysts and admins read the activity
list (which names officers) and the dosage table. Every read and write is audited
by the middleware; a logged activity also leaves its own audit row, without its
notes.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import polars as pl
from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine, and_, func, select

from smart_policing.api.audit import note_records
from smart_policing.api.cache import LruCache
from smart_policing.api.deps import BlankIsNone, EngineDep, LocalDay, SettingsDep
from smart_policing.api.pages import render
from smart_policing.api.security import Principal, allow
from smart_policing.security.roles import Role
from smart_policing.store import tables as t
from smart_policing.store.zones import (
    StoredActivity,
    StoredZone,
    ZoneSetInfo,
    ZoneStoreError,
    activity_page,
    find_zone_set,
    list_zone_sets,
    list_zones,
    record_activity,
    zone_dosage,
)
from smart_policing.zones.activity import ActivityKind, weeks_between
from smart_policing.zones.equity import ZonesAcrossNeighbourhoods, zones_across_neighbourhoods
from smart_policing.zones.incidents import select_gun_incidents

__all__ = ["ACTIVITY_LOGGERS", "DOSAGE_READERS", "ZONE_READERS", "router"]

router = APIRouter()

ZONE_READERS = (Role.OFFICER, Role.SUPERVISOR, Role.ANALYST, Role.ADMIN)
ACTIVITY_LOGGERS = (Role.OFFICER, Role.SUPERVISOR)
DOSAGE_READERS = (Role.SUPERVISOR, Role.ANALYST, Role.ADMIN)

#: the default period: the four weeks ending today (local)
DEFAULT_DAYS = 28
#: the longest period a dosage request may span
MAX_DAYS = 3 * 366


def _printable(value: str | None) -> str | None:
    if value is not None and any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        raise ValueError("must not contain control characters")
    return value


class ZoneSetOut(BaseModel):
    """A stored zone set: zone count and total area (square metres)."""

    name: str
    kind: str
    file_name: str
    source_crs: str
    projected_crs: str
    created_at: datetime
    created_by: str
    zones: int
    area_m2: float


class ZoneSetList(BaseModel):
    """Every stored zone set, by name."""

    items: list[ZoneSetOut]


class ActivityIn(BaseModel):
    """An activity to log: its start and its length in minutes (a field client knows
    both; the end is stored as start + minutes). The officer is the signed-in user."""

    model_config = ConfigDict(extra="forbid")

    zone_id: int = Field(ge=1, le=2**31 - 1, examples=[1])
    kind: ActivityKind = Field(examples=["foot-patrol"])
    started_at: AwareDatetime = Field(examples=["2025-06-03T14:00:00-04:00"])
    minutes: int = Field(
        ge=1, le=720, examples=[25], description="length in minutes (12 h at most)"
    )
    unit_id: str | None = Field(default=None, max_length=32)
    notes: str | None = Field(default=None, max_length=2000)

    @field_validator("unit_id", "notes")
    @classmethod
    def _clean(cls, v: str | None) -> str | None:
        return _printable(v)

    @field_validator("started_at")
    @classmethod
    def _plausible(cls, v: datetime) -> datetime:
        if not 1900 < v.year < 2199:
            raise ValueError("must be between 1900 and 2199")
        return v

    @property
    def ended_at(self) -> datetime:
        """When the activity ended: ``started_at`` + ``minutes``."""
        return self.started_at + timedelta(minutes=self.minutes)


class ActivityOut(BaseModel):
    """A logged activity (times in UTC; minutes fractional)."""

    id: int
    zone_id: int
    zone_key: str
    zone_set: str
    kind: ActivityKind
    started_at: datetime
    ended_at: datetime
    minutes: float
    officer: str
    unit_id: str | None
    notes: str | None
    created_at: datetime


class ActivityPageOut(BaseModel):
    """Activities newest first; pass ``next_cursor`` as ``cursor`` for older ones."""

    items: list[ActivityOut]
    next_cursor: str | None


class WeekDose(BaseModel):
    """One zone's dosage in one ISO week."""

    week: str
    activities: int
    minutes: float
    by_kind: dict[str, int]


class ZoneDose(BaseModel):
    """One zone's dosage per week of the period (weeks without activity are omitted)."""

    zone_id: int
    zone_key: str
    district: str | None
    area_m2: float
    activities: int
    minutes: float
    weeks: list[WeekDose]


class DosageOut(BaseModel):
    """Dosage per zone per local ISO week of a zone set over a period."""

    zone_set: str
    start: date
    end: date
    timezone: str
    weeks: list[str]
    activities: int
    minutes: float
    zones: list[ZoneDose]


class NeighbourhoodRow(BaseModel):
    """One neighbourhood: its area and the zone set's area in it (square metres), the
    shares of the neighbourhood and of the zone set that area is, and the
    neighbourhood's gun incidents in the period and their share of the city's."""

    name: str
    area_m2: float
    zone_area_m2: float
    share_of_neighbourhood: float
    share_of_zone_area: float
    incidents: int
    share_of_incidents: float


class NeighbourhoodsOut(BaseModel):
    """A zone set across the imported neighbourhoods, largest zone area first.

    ``concentration`` maps "0.5" and "0.8" to the fewest neighbourhoods holding that
    share of the zone area inside neighbourhoods (null when none). ``incidents``
    counts the located victim-reported gun incidents of the period (local days
    ``start`` to ``end``). No neighbourhood boundaries imported: ``items`` is empty.
    """

    zone_set: str
    crs: str
    start: date
    end: date
    timezone: str
    zone_area_m2: float
    outside_m2: float
    neighbourhoods: int
    neighbourhoods_with_zones: int
    concentration: dict[str, int | None]
    incidents: int
    items: list[NeighbourhoodRow]


def _set_out(s: ZoneSetInfo) -> ZoneSetOut:
    return ZoneSetOut(
        name=s.name,
        kind=s.kind.value,
        file_name=s.file_name,
        source_crs=s.source_crs,
        projected_crs=s.projected_crs,
        created_at=s.created_at,
        created_by=s.created_by,
        zones=s.zones,
        area_m2=s.area_m2,
    )


def _activity_out(a: StoredActivity) -> ActivityOut:
    return ActivityOut(
        id=a.id,
        zone_id=a.zone_id,
        zone_key=a.zone_key,
        zone_set=a.set_name,
        kind=a.kind,
        started_at=a.started_at,
        ended_at=a.ended_at,
        minutes=a.minutes,
        officer=a.officer,
        unit_id=a.unit_id,
        notes=a.notes,
        created_at=a.created_at,
    )


SetName = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Start = Annotated[
    LocalDay | None, BlankIsNone, Query(description="first local day (default: 27 days ago)")
]
End = Annotated[LocalDay | None, BlankIsNone, Query(description="last local day (default: today)")]


def _period(start: date | None, end: date | None, timezone: str) -> tuple[date, date]:
    if end is None:
        end = (
            datetime.now(ZoneInfo(timezone)).date()
            if start is None
            else min(start + timedelta(days=DEFAULT_DAYS - 1), date(2199, 12, 31))
        )
    if start is None:
        start = max(end - timedelta(days=DEFAULT_DAYS - 1), date(1900, 1, 1))
    if end < start:
        raise HTTPException(422, "end: must not be before start")
    if (end - start).days + 1 > MAX_DAYS:
        raise HTTPException(422, f"end: a period spans at most {MAX_DAYS} days")
    return start, end


def _zone_set(engine: Engine, name: str) -> ZoneSetInfo:
    if any(ord(ch) < 32 for ch in name):
        raise HTTPException(422, "set: must not contain control characters")
    found = find_zone_set(engine, name)
    if found is None:
        raise HTTPException(404, f"no zone set named {name!r}")
    return found


def _dosage(
    engine: Engine, zone_set: ZoneSetInfo, start: date, end: date, timezone: str
) -> tuple[DosageOut, list[StoredZone]]:
    zones = list_zones(engine, zone_set.id)
    by_zone: dict[int, list[WeekDose]] = {}
    for c in zone_dosage(engine, zone_set.id, start, end, timezone=timezone):
        by_zone.setdefault(c.zone_id, []).append(
            WeekDose(week=c.week, activities=c.activities, minutes=c.minutes, by_kind=c.by_kind)
        )
    doses = [
        ZoneDose(
            zone_id=z.id,
            zone_key=z.zone_key,
            district=z.district,
            area_m2=z.area_m2,
            activities=sum(w.activities for w in by_zone.get(z.id, [])),
            minutes=sum(w.minutes for w in by_zone.get(z.id, [])),
            weeks=by_zone.get(z.id, []),
        )
        for z in zones
    ]
    out = DosageOut(
        zone_set=zone_set.name,
        start=start,
        end=end,
        timezone=timezone,
        weeks=weeks_between(start, end),
        activities=sum(d.activities for d in doses),
        minutes=sum(d.minutes for d in doses),
        zones=doses,
    )
    return out, zones


def _neighbourhood_polygons(engine: Engine) -> list[tuple[str, BaseGeometry]]:
    b = t.boundaries
    with engine.connect() as conn:
        rows = conn.execute(
            select(b.c.name, b.c.geometry).where(b.c.kind == "neighbourhood").order_by(b.c.name)
        ).all()
    return [(r.name, shape(json.loads(r.geometry))) for r in rows]


def _gun_incident_points(
    engine: Engine, start: date, end: date, timezone: str
) -> tuple[list[float], list[float]]:
    """Located gun incidents (victim-reported Part 1 records) of local days start..end."""
    tz = ZoneInfo(timezone)
    lo = datetime.combine(start, time(), tz).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(), tz).astimezone(UTC)
    i = t.incidents
    cols = ("offence_description", "weapon", "latitude", "longitude")
    with engine.connect() as conn:
        rows = conn.execute(
            select(*[i.c[c] for c in cols]).where(
                and_(
                    i.c.occurred_at >= lo,
                    i.c.occurred_at < hi,
                    i.c.latitude.is_not(None),
                    i.c.longitude.is_not(None),
                )
            )
        ).all()
    frame = pl.DataFrame(
        [tuple(r) for r in rows],
        schema={
            "offence_description": pl.String,
            "weapon": pl.String,
            "latitude": pl.Float64,
            "longitude": pl.Float64,
        },
        orient="row",
    )
    guns = select_gun_incidents(frame)
    return guns["longitude"].to_list(), guns["latitude"].to_list()


def _records_version(engine: Engine) -> tuple[object, ...]:
    """What the breakdown reads besides the zones: neighbourhood polygons and incidents
    (count and newest id of each; any import changes them)."""
    b, i = t.boundaries, t.incidents
    with engine.connect() as conn:
        polygons = conn.execute(
            select(func.count(), func.max(b.c.id)).where(b.c.kind == "neighbourhood")
        ).one()
        incidents = conn.execute(select(func.count(), func.max(i.c.id))).one()
    return (*polygons, *incidents)


def _neighbourhoods(
    request: Request,
    engine: Engine,
    zone_set: ZoneSetInfo,
    start: date,
    end: date,
    timezone: str,
) -> tuple[NeighbourhoodsOut, ZonesAcrossNeighbourhoods]:
    """The breakdown of ``zone_set``, remembered per zone-set content, period and stored
    records (an overlay of a city's neighbourhoods takes about a second)."""
    cache: LruCache[tuple[NeighbourhoodsOut, ZonesAcrossNeighbourhoods]] | None = getattr(
        request.app.state, "neighbourhood_cache", None
    )
    if cache is None:
        cache = request.app.state.neighbourhood_cache = LruCache(16)
    key = (zone_set.id, zone_set.content_sha256, start, end, timezone, _records_version(engine))
    return cache.get_or_make(
        key, lambda: _compute_neighbourhoods(engine, zone_set, start, end, timezone)
    )


def _compute_neighbourhoods(
    engine: Engine, zone_set: ZoneSetInfo, start: date, end: date, timezone: str
) -> tuple[NeighbourhoodsOut, ZonesAcrossNeighbourhoods]:
    zones = [shape(z.geometry) for z in list_zones(engine, zone_set.id)]
    found = zones_across_neighbourhoods(
        zones,
        _neighbourhood_polygons(engine),
        incidents=_gun_incident_points(engine, start, end, timezone),
        crs=zone_set.projected_crs,
    )
    out = NeighbourhoodsOut(
        zone_set=zone_set.name,
        crs=found.crs,
        start=start,
        end=end,
        timezone=timezone,
        zone_area_m2=found.zone_area_m2,
        outside_m2=found.outside_m2,
        neighbourhoods=found.neighbourhoods,
        neighbourhoods_with_zones=found.neighbourhoods_with_zones,
        concentration={str(k): v for k, v in found.concentration.items()},
        incidents=found.incidents or 0,
        items=[
            NeighbourhoodRow(
                name=r.name,
                area_m2=r.area_m2,
                zone_area_m2=r.zone_area_m2,
                share_of_neighbourhood=r.share_of_neighbourhood,
                share_of_zone_area=r.share_of_zone_area,
                incidents=r.incidents or 0,
                share_of_incidents=r.share_of_incidents or 0.0,
            )
            for r in found.rows
        ],
    )
    return out, found


@router.get("/api/zones/sets", tags=["zones"])
def api_zone_sets(
    request: Request, engine: EngineDep, _who: Annotated[Principal, Depends(allow(*ZONE_READERS))]
) -> ZoneSetList:
    """Every stored zone set (name, kind, zone count, total area in square metres)."""
    items = [_set_out(s) for s in list_zone_sets(engine)]
    note_records(request, "zone_set", ids=[s.name for s in items])
    return ZoneSetList(items=items)


@router.get("/api/zones/sets/{name}", tags=["zones"])
def api_zone_set(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _who: Annotated[Principal, Depends(allow(*ZONE_READERS))],
    name: Annotated[SetName, Path(description="the zone set's name", examples=["fpa-2019"])],
    start: Start = None,
    end: End = None,
) -> dict[str, Any]:
    """The zone set as a GeoJSON FeatureCollection (WGS84), each zone with its dosage
    over the period: ``activities``, ``minutes`` and ``weeks`` (per local ISO week)."""
    zone_set = _zone_set(engine, name)
    first, last = _period(start, end, settings.timezone)
    note_records(request, "zone_set", ids=[zone_set.name], start=first, end=last)
    dose, zones = _dosage(engine, zone_set, first, last, settings.timezone)
    features = [
        {
            "type": "Feature",
            "id": z.id,
            "geometry": z.geometry,
            "properties": {
                "zone_id": z.id,
                "zone_key": z.zone_key,
                "district": z.district,
                "area_m2": z.area_m2,
                "activities": d.activities,
                "minutes": d.minutes,
                "weeks": {
                    w.week: {"activities": w.activities, "minutes": w.minutes} for w in d.weeks
                },
            },
        }
        for z, d in zip(zones, dose.zones, strict=True)
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "zone_set": _set_out(zone_set).model_dump(mode="json"),
        "start": first.isoformat(),
        "end": last.isoformat(),
        "timezone": settings.timezone,
        "weeks": dose.weeks,
    }


@router.get("/api/zones/sets/{name}/neighbourhoods", tags=["zones"])
def api_zone_set_neighbourhoods(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _who: Annotated[Principal, Depends(allow(*ZONE_READERS))],
    name: Annotated[SetName, Path(description="the zone set's name", examples=["fpa-2019"])],
    start: Start = None,
    end: End = None,
) -> NeighbourhoodsOut:
    """How the zone set falls across the imported neighbourhoods (``import boundaries
    --kind neighbourhood``): zone area (square metres, in the set's projected CRS) per
    neighbourhood, its share of the neighbourhood and of the set, beside the
    neighbourhood's share of the period's victim-reported gun incidents; largest zone
    area first, with the fewest neighbourhoods holding 50% and 80% of the zone area."""
    zone_set = _zone_set(engine, name)
    first, last = _period(start, end, settings.timezone)
    note_records(request, "zone_set", ids=[zone_set.name], start=first, end=last)
    return _neighbourhoods(request, engine, zone_set, first, last, settings.timezone)[0]


def _record(engine: Engine, who: Principal, body: ActivityIn, route: str) -> StoredActivity:
    try:
        return record_activity(
            engine,
            zone_id=body.zone_id,
            kind=body.kind,
            started_at=body.started_at,
            ended_at=body.ended_at,
            officer=who.name,
            unit_id=body.unit_id,
            notes=body.notes,
            roles=who.roles_text,
            route=route,
        )
    except ZoneStoreError as exc:
        raise HTTPException(422, str(exc)) from None


@router.post("/api/zones/activities", tags=["zones"], status_code=201)
def api_log_activity(
    request: Request,
    engine: EngineDep,
    who: Annotated[Principal, Depends(allow(*ACTIVITY_LOGGERS))],
    body: ActivityIn,
) -> ActivityOut:
    """Log a proactive activity in a zone as the signed-in officer (422 naming the
    field: ends before it starts, longer than 12 h, in the future, unknown zone)."""
    done = _record(engine, who, body, "POST /api/zones/activities")
    note_records(request, "zone_activity", ids=[done.id], zone=done.zone_id)
    return _activity_out(done)


@router.get("/api/zones/activities", tags=["zones"])
def api_activities(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _who: Annotated[Principal, Depends(allow(*DOSAGE_READERS))],
    zone_set: Annotated[
        SetName | None, BlankIsNone, Query(alias="set", description="only this zone set")
    ] = None,
    zone_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    officer: Annotated[
        Annotated[str, StringConstraints(max_length=64)] | None, BlankIsNone, Query()
    ] = None,
    cursor: Annotated[
        Annotated[str, StringConstraints(max_length=80)] | None, BlankIsNone, Query()
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    start: Annotated[
        LocalDay | None, BlankIsNone, Query(description="first local day of the start")
    ] = None,
    end: Annotated[
        LocalDay | None, BlankIsNone, Query(description="last local day of the start")
    ] = None,
) -> ActivityPageOut:
    """Logged activities newest first (by start), filtered by set, zone, officer and
    the local days they started on."""
    set_id = _zone_set(engine, zone_set).id if zone_set is not None else None
    tz = ZoneInfo(settings.timezone)
    lo = datetime.combine(start, time(), tz) if start is not None else None
    hi = datetime.combine(end + timedelta(days=1), time(), tz) if end is not None else None
    if officer is not None and any(ord(ch) < 32 for ch in officer):
        raise HTTPException(422, "officer: must not contain control characters")
    try:
        page = activity_page(
            engine,
            set_id=set_id,
            zone_id=zone_id,
            officer=officer,
            start=lo,
            end=hi,
            cursor=cursor,
            limit=limit,
        )
    except ZoneStoreError as exc:
        raise HTTPException(422, str(exc)) from None
    note_records(
        request, "zone_activity", ids=[a.id for a in page.items], set=zone_set, zone=zone_id
    )
    return ActivityPageOut(
        items=[_activity_out(a) for a in page.items], next_cursor=page.next_cursor
    )


@router.get("/api/zones/dosage", tags=["zones"])
def api_dosage(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    _who: Annotated[Principal, Depends(allow(*DOSAGE_READERS))],
    zone_set: Annotated[
        SetName, Query(alias="set", description="the zone set's name", examples=["fpa-2019"])
    ],
    start: Start = None,
    end: End = None,
) -> DosageOut:
    """Activities and minutes per zone per local ISO week of a zone set over a period
    (activities count in the week of their local start)."""
    found = _zone_set(engine, zone_set)
    first, last = _period(start, end, settings.timezone)
    note_records(request, "zone_set", ids=[found.name], start=first, end=last)
    return _dosage(engine, found, first, last, settings.timezone)[0]


# ---------------------------------------------------------------- page


@router.get("/zones", response_class=HTMLResponse, include_in_schema=False)
def zones_page(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(allow(*ZONE_READERS))],
    zone_set: Annotated[SetName | None, BlankIsNone, Query(alias="set")] = None,
    start: Start = None,
    end: End = None,
) -> HTMLResponse:
    """A zone set on a map coloured by dosage, the dosage table, and the log form."""
    sets = list_zone_sets(engine)
    chosen = None
    if zone_set is not None:
        chosen = _zone_set(engine, "".join(ch for ch in zone_set if ord(ch) >= 32))
    elif sets:
        chosen = sets[0]
    first, last = _period(start, end, settings.timezone)
    dose = _dosage(engine, chosen, first, last, settings.timezone)[0] if chosen else None
    spread = (
        _neighbourhoods(request, engine, chosen, first, last, settings.timezone)[0]
        if chosen
        else None
    )
    note_records(request, "zone_set", ids=[chosen.name] if chosen else [], start=first, end=last)
    cells = {(z.zone_id, w.week): w for z in dose.zones for w in z.weeks} if dose else {}
    return render(
        request,
        "zones.html",
        {
            "sets": sets,
            "chosen": chosen,
            "dose": dose,
            "cells": cells,
            "spread": spread,
            "start": first,
            "end": last,
            "kinds": [k.value for k in ActivityKind],
            "can_log": who.has_any(frozenset(ACTIVITY_LOGGERS)),
            "message": request.query_params.get("done", ""),
            "timezone": settings.timezone,
        },
    )


@router.post("/zones/activities", response_class=HTMLResponse, include_in_schema=False)
def zones_log_form(
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(allow(*ACTIVITY_LOGGERS))],
    zone_id: Annotated[str, Form(max_length=12)] = "",
    kind: Annotated[str, Form(max_length=32)] = "",
    started: Annotated[str, Form(max_length=32)] = "",
    minutes: Annotated[str, Form(max_length=6)] = "",
    unit_id: Annotated[str, Form(max_length=32)] = "",
    notes: Annotated[str, Form(max_length=2000)] = "",
    zone_set: Annotated[str, Form(alias="set", max_length=128)] = "",
) -> RedirectResponse:
    """The page's form: start as local wall time and a length in minutes."""
    try:
        local = datetime.fromisoformat(started)
        if local.tzinfo is None:
            local = local.replace(tzinfo=ZoneInfo(settings.timezone))
        body = ActivityIn(
            zone_id=int(zone_id),
            kind=ActivityKind(kind),
            started_at=local,
            minutes=int(minutes),
            unit_id=unit_id.strip() or None,
            notes=notes.strip() or None,
        )
    except (ValueError, OverflowError) as exc:
        raise HTTPException(
            422,
            "zone, kind, start (local date and time) and minutes are required: "
            + str(exc).splitlines()[0],
        ) from None
    done = _record(engine, who, body, "POST /zones/activities")
    note_records(request, "zone_activity", ids=[done.id], zone=done.zone_id)
    query = {"done": "logged", "set": zone_set} if zone_set else {"done": "logged"}
    return RedirectResponse(f"/zones?{urlencode(query)}", status_code=303)
