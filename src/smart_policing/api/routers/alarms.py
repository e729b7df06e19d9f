"""The false-alarm registry (R4) over the web: lookup, history, events, reinstatement.

Sites are found by any spelling of their address (the registry normalises it).
Standing is computed under the alarm policy of the default triage pack
(``SMART_TRIAGE_PACK``), the same policy ``POST /api/triage`` applies. Every read
and write is audited by the middleware (``note_records`` names the site ids); the
registry's writes also leave their own audit rows under the signed-in user.

Roles: dispatchers, supervisors, records staff and admins read; dispatchers,
supervisors and records staff record alarm outcomes; only supervisors and admins
reinstate a suspended site.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlalchemy import Engine, select

from smart_policing.api.audit import note_records
from smart_policing.api.deps import BlankIsNone, EngineDep
from smart_policing.api.pages import render
from smart_policing.api.routers.triage import PacksDep, TriagePacks
from smart_policing.api.security import Principal, allow
from smart_policing.security.roles import Role
from smart_policing.store import tables as t
from smart_policing.store.alarms import (
    AlarmRegistryError,
    AlarmSite,
    SiteHistory,
    SiteStanding,
    find_site,
    list_sites,
    record_event,
    reinstate,
    site_history,
    site_status,
)
from smart_policing.triage.alarms import (
    AlarmPolicy,
    ReinstatementReason,
    Verification,
    local_year,
    officer_response,
)
from smart_policing.triage.types import AlarmKind, AlarmOutcome, AlarmStatus

__all__ = ["ALARM_READERS", "ALARM_RECORDERS", "REINSTATERS", "router"]

router = APIRouter()

ALARM_READERS = (Role.DISPATCHER, Role.SUPERVISOR, Role.RECORDS, Role.ADMIN)
ALARM_RECORDERS = (Role.DISPATCHER, Role.SUPERVISOR, Role.RECORDS)
REINSTATERS = (Role.SUPERVISOR, Role.ADMIN)

READ = allow(*ALARM_READERS)


def _printable(value: str | None) -> str | None:
    if value is not None and any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        raise ValueError("must not contain control characters")
    return value


class OfficerResponseOut(BaseModel):
    """Whether an officer is sent to a new alarm at the site now, and the rule."""

    officer: bool
    reason: str


class NoticeOut(BaseModel):
    """A notice due this year (warning, suspension, reinstatement)."""

    kind: str
    at: datetime
    false_count: int
    reason: str


class SiteOut(BaseModel):
    """A site, its permit, its standing this year, and who responds to its alarms now."""

    id: int
    address: str
    address_key: str
    permit_number: str | None
    permit_holder: str | None
    permit_expires: date | None
    permit_valid: bool
    alarm_company: str | None
    year: int
    status: AlarmStatus
    false_count: int
    threshold: int
    remaining: int
    suspended_until: datetime | None
    reinstated_at: datetime | None
    notices: list[NoticeOut]
    unverified_burglar: OfficerResponseOut
    verified_burglar: OfficerResponseOut
    panic: OfficerResponseOut


class SiteList(BaseModel):
    """Sites matching the query (an address lookup gives at most one)."""

    items: list[SiteOut]
    policy_pack: str


class EventOut(BaseModel):
    """One alarm event at a site."""

    id: int
    occurred_at: datetime
    kind: AlarmKind
    outcome: AlarmOutcome
    verified_by: Verification
    source_call_id: str | None
    note: str | None
    recorded_at: datetime
    recorded_by: str


class ChangeOut(BaseModel):
    """A status change on a site's record (warning, suspension, reinstatement, appeal)."""

    id: int
    at: datetime
    kind: str
    year: int
    false_count: int
    event_id: int | None
    reason: str
    note: str | None
    actor: str


class HistoryOut(BaseModel):
    """Everything recorded at a site, oldest first, and its standing now."""

    site: SiteOut
    events: list[EventOut]
    changes: list[ChangeOut]


class AlarmEventIn(BaseModel):
    """An alarm outcome to record (the site is registered on its first alarm)."""

    model_config = ConfigDict(extra="forbid")

    address: str = Field(min_length=1, max_length=200)
    occurred_at: AwareDatetime
    kind: AlarmKind
    outcome: AlarmOutcome
    verified_by: Verification = Verification.NONE
    source_call_id: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=2000)

    @field_validator("address", "source_call_id", "note")
    @classmethod
    def _clean(cls, v: str | None) -> str | None:
        return _printable(v)

    @field_validator("occurred_at")
    @classmethod
    def _plausible(cls, v: datetime) -> datetime:
        if not 1900 < v.year < 2199:
            raise ValueError("occurred_at must be between 1900 and 2199")
        return v


class EventRecordedOut(BaseModel):
    """What recording did: the event, the site's standing after it, new notices."""

    site: SiteOut
    event: EventOut
    new_changes: list[ChangeOut]
    site_created: bool
    duplicate: bool


class ReinstateIn(BaseModel):
    """Why a suspension is lifted (appeal granted, system repaired with proof)."""

    model_config = ConfigDict(extra="forbid")

    reason: ReinstatementReason
    note: str | None = Field(default=None, max_length=2000)

    @field_validator("note")
    @classmethod
    def _clean(cls, v: str | None) -> str | None:
        return _printable(v)


def _policy(packs: TriagePacks) -> tuple[str, AlarmPolicy]:
    pack = packs.get(None)
    return pack.name, pack.alarms


def _response(
    standing: SiteStanding, policy: AlarmPolicy, kind: AlarmKind, verified: bool
) -> OfficerResponseOut:
    r = officer_response(
        standing.standing, kind, verified, policy, permit_valid=standing.permit_valid
    )
    return OfficerResponseOut(officer=r.officer, reason=r.reason.value)


def _site_out(s: SiteStanding, policy: AlarmPolicy) -> SiteOut:
    st = s.standing
    return SiteOut(
        id=s.site.id,
        address=s.site.display_address,
        address_key=s.site.address_key,
        permit_number=s.site.permit_number,
        permit_holder=s.site.permit_holder,
        permit_expires=s.site.permit_expires,
        permit_valid=s.permit_valid,
        alarm_company=s.site.alarm_company,
        year=st.year,
        status=st.status,
        false_count=st.false_count,
        threshold=st.threshold,
        remaining=st.remaining,
        suspended_until=st.suspended_until,
        reinstated_at=st.reinstated_at,
        notices=[
            NoticeOut(kind=n.kind.value, at=n.at, false_count=n.false_count, reason=n.reason)
            for n in st.notices
        ],
        unverified_burglar=OfficerResponseOut(
            officer=s.burglar_response.officer, reason=s.burglar_response.reason.value
        ),
        verified_burglar=_response(s, policy, AlarmKind.BURGLAR, True),
        panic=_response(s, policy, AlarmKind.PANIC, False),
    )


def _site_by_id(engine: Engine, site_id: int) -> AlarmSite:
    """The site with id ``site_id``; 404 when there is none."""
    with engine.connect() as conn:
        address = conn.execute(
            select(t.alarm_sites.c.display_address).where(t.alarm_sites.c.id == site_id)
        ).scalar_one_or_none()
    site = find_site(engine, address) if address is not None else None
    if site is None:
        raise HTTPException(404, f"no alarm site with id {site_id}")
    return site


SiteId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Address200 = Annotated[str, StringConstraints(max_length=200)]
AddressQuery = Annotated[
    Address200 | None, BlankIsNone, Query(description="any spelling of the address")
]
AtQuery = Annotated[
    AwareDatetime | None,
    BlankIsNone,
    Query(description="standing at this moment (ISO 8601 with offset; default now)"),
]
StatusQuery = Annotated[
    AlarmStatus | None, BlankIsNone, Query(description="only sites in this standing")
]


def _check_at(at: datetime | None) -> None:
    if at is not None and not 1900 < at.year < 2199:
        raise HTTPException(422, "at: must be between 1900 and 2199")


def _lookup(
    engine: Engine,
    policy: AlarmPolicy,
    address: str | None,
    status: AlarmStatus | None,
    at: datetime | None = None,
) -> list[SiteOut]:
    if address is not None:
        if _printable(address) is None:  # pragma: no cover - address is not None
            return []
        found = site_status(engine, address, policy=policy, at=at)
        if found is None or (status is not None and found.standing.status is not status):
            return []
        return [_site_out(found, policy)]
    year = local_year(at, policy) if at is not None else None
    return [
        _site_out(s, policy) for s in list_sites(engine, policy=policy, status=status, year=year)
    ]


@router.get("/api/alarms/sites", tags=["alarms"])
def api_sites(
    request: Request,
    engine: EngineDep,
    packs: PacksDep,
    _who: Annotated[Principal, Depends(READ)],
    address: AddressQuery = None,
    status: StatusQuery = None,
    at: AtQuery = None,
) -> SiteList:
    """Look a site up by any spelling of its address, or list sites by standing
    (``status=suspended``): standing this year, permit, officer response now."""
    if address is not None and any(ord(ch) < 32 for ch in address):
        raise HTTPException(422, "address: must not contain control characters")
    _check_at(at)
    pack_name, policy = _policy(packs)
    items = _lookup(engine, policy, address, status, at)
    note_records(request, "alarm_site", ids=[s.id for s in items], status=status)
    return SiteList(items=items, policy_pack=pack_name)


def _history(
    engine: Engine, policy: AlarmPolicy, site: AlarmSite, at: datetime | None = None
) -> HistoryOut:
    history: SiteHistory | None = site_history(engine, site.display_address)
    standing = site_status(engine, site.display_address, policy=policy, at=at)
    assert history is not None
    assert standing is not None
    return HistoryOut(
        site=_site_out(standing, policy),
        events=[
            EventOut(**{k: getattr(e, k) for k in EventOut.model_fields}) for e in history.events
        ],
        changes=[
            ChangeOut(
                **{**{k: getattr(c, k) for k in ChangeOut.model_fields}, "kind": c.kind.value}
            )
            for c in history.changes
        ],
    )


@router.get("/api/alarms/sites/{site_id}/history", tags=["alarms"])
def api_site_history(
    request: Request,
    engine: EngineDep,
    packs: PacksDep,
    _who: Annotated[Principal, Depends(READ)],
    site_id: SiteId,
    at: AtQuery = None,
) -> HistoryOut:
    """Every alarm event and status change at a site, oldest first, and its standing
    at ``at`` (default now)."""
    _check_at(at)
    note_records(request, "alarm_site", ids=[site_id])
    site = _site_by_id(engine, site_id)
    return _history(engine, _policy(packs)[1], site, at)


@router.post("/api/alarms/events", tags=["alarms"])
def api_record_event(
    request: Request,
    engine: EngineDep,
    packs: PacksDep,
    who: Annotated[Principal, Depends(allow(*ALARM_RECORDERS))],
    body: AlarmEventIn,
) -> EventRecordedOut:
    """Record an alarm's outcome; writes the warnings and suspension that fall due
    (the 5th false alarm of the calendar year suspends officer response)."""
    _, policy = _policy(packs)
    try:
        done = record_event(
            engine,
            body.address,
            occurred_at=body.occurred_at,
            kind=body.kind,
            outcome=body.outcome,
            verified_by=body.verified_by,
            source_call_id=body.source_call_id,
            note=body.note,
            policy=policy,
            actor=who.name,
            roles=who.roles_text,
            route="POST /api/alarms/events",
        )
    except AlarmRegistryError as exc:
        raise HTTPException(422, str(exc)) from None
    note_records(request, "alarm_site", ids=[done.site.id], event=done.event.id)
    standing = site_status(engine, done.site.display_address, policy=policy, at=body.occurred_at)
    assert standing is not None
    return EventRecordedOut(
        site=_site_out(standing, policy),
        event=EventOut(**{k: getattr(done.event, k) for k in EventOut.model_fields}),
        new_changes=[
            ChangeOut(
                **{**{k: getattr(c, k) for k in ChangeOut.model_fields}, "kind": c.kind.value}
            )
            for c in done.new_changes
        ],
        site_created=done.site_created,
        duplicate=done.duplicate,
    )


def _reinstate(
    engine: Engine, policy: AlarmPolicy, who: Principal, site_id: int, body: ReinstateIn, route: str
) -> SiteOut:
    site = _site_by_id(engine, site_id)
    try:
        standing, _ = reinstate(
            engine,
            site.display_address,
            reason=body.reason,
            note=body.note,
            policy=policy,
            actor=who.name,
            roles=who.roles_text,
            route=route,
        )
    except AlarmRegistryError as exc:
        raise HTTPException(409, str(exc)) from None
    return _site_out(standing, policy)


@router.post("/api/alarms/sites/{site_id}/reinstate", tags=["alarms"])
def api_reinstate(
    request: Request,
    engine: EngineDep,
    packs: PacksDep,
    who: Annotated[Principal, Depends(allow(*REINSTATERS))],
    site_id: SiteId,
    body: ReinstateIn,
) -> SiteOut:
    """Lift a site's suspension for the rest of the year (409 if it is not suspended)."""
    note_records(request, "alarm_site", ids=[site_id])
    return _reinstate(
        engine, _policy(packs)[1], who, site_id, body, "POST /api/alarms/sites/{site_id}/reinstate"
    )


# ---------------------------------------------------------------- pages


@router.get("/alarms", response_class=HTMLResponse, include_in_schema=False)
def alarms_page(
    request: Request,
    engine: EngineDep,
    packs: PacksDep,
    _who: Annotated[Principal, Depends(READ)],
    address: AddressQuery = None,
) -> HTMLResponse:
    """Look up a site by address; the suspended and warned sites this year."""
    pack_name, policy = _policy(packs)
    found: list[SiteOut] | None = None
    if address is not None:
        clean = "".join(ch for ch in address if ord(ch) >= 32)
        found = _lookup(engine, policy, clean, None)
    listed = [
        s
        for s in (_site_out(x, policy) for x in list_sites(engine, policy=policy))
        if s.status in (AlarmStatus.SUSPENDED, AlarmStatus.WARNED)
    ]
    ids = [s.id for s in (found or [])] + [s.id for s in listed]
    note_records(request, "alarm_site", ids=ids)
    return render(
        request,
        "alarms.html",
        {
            "address": address or "",
            "found": found,
            "suspended": [s for s in listed if s.status is AlarmStatus.SUSPENDED],
            "warned": [s for s in listed if s.status is AlarmStatus.WARNED],
            "pack_name": pack_name,
        },
    )


@router.get("/alarms/sites/{site_id}", response_class=HTMLResponse, include_in_schema=False)
def alarm_site_page(
    request: Request,
    engine: EngineDep,
    packs: PacksDep,
    who: Annotated[Principal, Depends(READ)],
    site_id: SiteId,
) -> HTMLResponse:
    """A site's history, notices, and (for supervisors) the reinstatement form."""
    note_records(request, "alarm_site", ids=[site_id])
    history = _history(engine, _policy(packs)[1], _site_by_id(engine, site_id))
    return render(
        request,
        "alarm_site.html",
        {
            "history": history,
            "can_reinstate": who.has_any(frozenset(REINSTATERS)),
            "reasons": [r.value for r in ReinstatementReason],
            "message": request.query_params.get("done", ""),
            "timezone": packs.get(None).timezone,
        },
    )


@router.post(
    "/alarms/sites/{site_id}/reinstate", response_class=HTMLResponse, include_in_schema=False
)
def alarm_site_reinstate(
    request: Request,
    engine: EngineDep,
    packs: PacksDep,
    who: Annotated[Principal, Depends(allow(*REINSTATERS))],
    site_id: SiteId,
    reason: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> RedirectResponse:
    """The reinstatement form: lift the suspension, back to the site page."""
    note_records(request, "alarm_site", ids=[site_id])
    try:
        body = ReinstateIn(reason=ReinstatementReason(reason), note=note.strip() or None)
    except ValueError:
        raise HTTPException(
            422, f"reason: one of {', '.join(r.value for r in ReinstatementReason)}"
        ) from None
    _reinstate(
        engine, _policy(packs)[1], who, site_id, body, "POST /alarms/sites/{site_id}/reinstate"
    )
    return RedirectResponse(f"/alarms/sites/{site_id}?done=reinstated", status_code=303)
