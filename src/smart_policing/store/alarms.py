"""The false-alarm registry's repository (R4): sites, alarm events, notices, audit.

Sites are keyed by :func:`smart_policing.model.places.normalise_address`, so any
spelling of an address (``123 N. Main Street``, ``123 NORTH MAIN ST``) finds the
same site. A site's standing is never stored: it is recomputed by
:func:`smart_policing.triage.alarms.site_standing` from the site's events and
reinstatements of the year (local calendar year of the policy's time zone), so a
changed policy or a back-dated event is always reflected.

What is stored besides the events are the **status changes**
(``alarm_status_changes``): warnings and suspensions are written when recording an
event makes them due (each ``(kind, count)`` once per site and year; rows are
never rewritten, so a back-dated event leaves earlier notices as they were sent),
reinstatements and appeals when staff enter them.

Every change is written to the audit log (``action="write"``, ``records`` a JSON
object of the site, event and status-change ids) by the caller-named actor, after
the change commits (the audit log has its own transaction; on SQLite one writer
at a time means it cannot share the change's). A call that changes nothing (a site
registered again with the same details, an event whose CAD call id is already
recorded) writes no audit row. Reads are audited by the API layer, not here.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from smart_policing.model.places import normalise_address
from smart_policing.store import tables as t
from smart_policing.store.audit import append_audit
from smart_policing.triage.alarms import (
    AlarmEvent,
    AlarmPolicy,
    NoticeKind,
    OfficerResponse,
    Reinstatement,
    ReinstatementReason,
    Standing,
    Verification,
    local_year,
    officer_response,
    site_standing,
    year_end,
    year_start,
)
from smart_policing.triage.types import AlarmKind, AlarmOutcome, AlarmStatus

__all__ = [
    "FUTURE_TOLERANCE",
    "AlarmRegistryError",
    "AlarmSite",
    "EventRecorded",
    "SiteHistory",
    "SiteStanding",
    "StatusChange",
    "StoredAlarmEvent",
    "file_appeal",
    "find_site",
    "list_sites",
    "record_event",
    "register_site",
    "reinstate",
    "site_history",
    "site_status",
]

#: How far in the future an alarm may be dated (clock skew), not more: a mistyped
#: year would otherwise count towards a year that has not begun.
FUTURE_TOLERANCE = timedelta(hours=1)

_s, _e, _c = t.alarm_sites, t.alarm_events, t.alarm_status_changes


class AlarmRegistryError(ValueError):
    """A registry request that cannot be carried out; the message says why."""


@dataclass(frozen=True, slots=True)
class AlarmSite:
    """A registered alarm site. ``permit_expires`` is the permit's last valid day."""

    id: int
    address_key: str
    display_address: str
    permit_number: str | None
    permit_holder: str | None
    permit_expires: date | None
    alarm_company: str | None
    created_at: datetime
    created_by: str

    def permit_valid(self, on: date) -> bool:
        """Does the site hold a permit valid on ``on`` (a local date)?"""
        return self.permit_number is not None and (
            self.permit_expires is None or on <= self.permit_expires
        )


@dataclass(frozen=True, slots=True)
class StoredAlarmEvent:
    """An alarm event as stored (``occurred_at`` and ``recorded_at`` in UTC)."""

    id: int
    site_id: int
    occurred_at: datetime
    kind: AlarmKind
    outcome: AlarmOutcome
    verified_by: Verification
    source_call_id: str | None
    note: str | None
    recorded_at: datetime
    recorded_by: str

    def rule_event(self) -> AlarmEvent:
        """The event as the rules see it."""
        return AlarmEvent(self.occurred_at, self.kind, self.outcome, self.verified_by, self.id)


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A warning, suspension, reinstatement or appeal on a site's record.

    ``at`` is when it took effect (for warnings and suspensions, the false alarm's
    time), ``year`` the local calendar year it belongs to, ``false_count`` the
    year's count then, ``event_id`` the false alarm that caused it (if any).
    """

    id: int
    site_id: int
    at: datetime
    kind: NoticeKind
    year: int
    false_count: int
    event_id: int | None
    reason: str
    note: str | None
    actor: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class SiteStanding:
    """A site, its standing in a year, and the answer for an unverified burglar alarm."""

    site: AlarmSite
    standing: Standing
    permit_valid: bool
    burglar_response: OfficerResponse


@dataclass(frozen=True, slots=True)
class EventRecorded:
    """What :func:`record_event` did: the event, the standing after it, new notices."""

    site: AlarmSite
    event: StoredAlarmEvent
    standing: Standing
    new_changes: tuple[StatusChange, ...]
    site_created: bool
    duplicate: bool  # the CAD call id was already recorded: nothing was written


@dataclass(frozen=True, slots=True)
class SiteHistory:
    """Everything recorded at a site, oldest first."""

    site: AlarmSite
    events: tuple[StoredAlarmEvent, ...]
    changes: tuple[StatusChange, ...]


# ---------------------------------------------------------------- rows


def _site(row: Row[Any]) -> AlarmSite:
    m = row._mapping
    return AlarmSite(**{k: m[k] for k in AlarmSite.__slots__})


def _event(row: Row[Any]) -> StoredAlarmEvent:
    m = row._mapping
    values = {k: m[k] for k in StoredAlarmEvent.__slots__}
    values["kind"] = AlarmKind(m["kind"])
    values["outcome"] = AlarmOutcome(m["outcome"])
    values["verified_by"] = Verification(m["verified_by"])
    return StoredAlarmEvent(**values)


def _change(row: Row[Any]) -> StatusChange:
    m = row._mapping
    values = {k: m[k] for k in StatusChange.__slots__}
    values["kind"] = NoticeKind(m["kind"])
    return StatusChange(**values)


def _key(address: str) -> str:
    key = normalise_address(address)
    if key is None:
        raise AlarmRegistryError(f"{address!r} holds no address")
    return key


def _aware(moment: datetime, what: str) -> datetime:
    if moment.utcoffset() is None:
        raise AlarmRegistryError(f"{what} must be timezone-aware, got {moment!r}")
    return moment.astimezone(UTC)


def _audit(engine: Engine, *, actor: str, roles: str, route: str, records: dict[str, Any]) -> None:
    append_audit(
        engine,
        actor=actor,
        roles=roles,
        action="write",
        route=route,
        records=json.dumps(records, sort_keys=True),
        result="ok",
    )


def _site_by_key(conn: Connection, key: str, *, lock: bool = False) -> AlarmSite | None:
    query = select(_s).where(_s.c.address_key == key)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).first()
    return None if row is None else _site(row)


def _year_bounds(year: int, policy: AlarmPolicy) -> tuple[datetime, datetime]:
    return year_start(year, policy).astimezone(UTC), year_end(year, policy).astimezone(UTC)


def _year_inputs(
    conn: Connection, site_ids: Sequence[int] | None, year: int, policy: AlarmPolicy
) -> tuple[dict[int, list[AlarmEvent]], dict[int, list[Reinstatement]]]:
    """The year's events and reinstatements per site (all sites when ``site_ids`` is None)."""
    start, end = _year_bounds(year, policy)
    events_q = (
        select(_e)
        .where(_e.c.occurred_at >= start, _e.c.occurred_at < end)
        .order_by(_e.c.occurred_at, _e.c.id)
    )
    changes_q = (
        select(_c)
        .where(_c.c.kind == NoticeKind.REINSTATEMENT.value, _c.c.year == year)
        .order_by(_c.c.at, _c.c.id)
    )
    if site_ids is not None:
        events_q = events_q.where(_e.c.site_id.in_(site_ids))
        changes_q = changes_q.where(_c.c.site_id.in_(site_ids))
    events: dict[int, list[AlarmEvent]] = defaultdict(list)
    for row in conn.execute(events_q):
        events[row.site_id].append(_event(row).rule_event())
    reinstatements: dict[int, list[Reinstatement]] = defaultdict(list)
    for row in conn.execute(changes_q):
        reinstatements[row.site_id].append(
            Reinstatement(row.at, ReinstatementReason(row.reason), row.note)
        )
    return events, reinstatements


def _standing(conn: Connection, site_id: int, year: int, policy: AlarmPolicy) -> Standing:
    events, reinstatements = _year_inputs(conn, [site_id], year, policy)
    return site_standing(events[site_id], year, policy, reinstatements[site_id])


def _site_standing(site: AlarmSite, standing: Standing, policy: AlarmPolicy) -> SiteStanding:
    today = datetime.now(policy.zone).date()
    valid = site.permit_valid(today)
    response = officer_response(standing, AlarmKind.BURGLAR, False, policy, permit_valid=valid)
    return SiteStanding(site, standing, valid, response)


def _insert_site(
    conn: Connection,
    address: str,
    key: str,
    actor: str,
    now: datetime,
    details: dict[str, Any],
) -> AlarmSite:
    site_id = conn.execute(
        insert(_s)
        .values(
            address_key=key,
            display_address=address.strip(),
            created_at=now,
            created_by=actor,
            **details,
        )
        .returning(_s.c.id)
    ).scalar_one()
    row = conn.execute(select(_s).where(_s.c.id == site_id)).one()
    return _site(row)


# ---------------------------------------------------------------- reads


def find_site(engine: Engine, address: str) -> AlarmSite | None:
    """The site at ``address`` written any way, or None."""
    key = normalise_address(address)
    if key is None:
        return None
    with engine.connect() as conn:
        return _site_by_key(conn, key)


def site_status(
    engine: Engine, address: str, *, policy: AlarmPolicy, at: datetime | None = None
) -> SiteStanding | None:
    """The site's standing in the local year of ``at`` (default now), or None if unknown."""
    year = local_year(at or datetime.now(UTC), policy)
    key = normalise_address(address)
    if key is None:
        return None
    with engine.connect() as conn:
        site = _site_by_key(conn, key)
        if site is None:
            return None
        return _site_standing(site, _standing(conn, site.id, year, policy), policy)


def list_sites(
    engine: Engine,
    *,
    policy: AlarmPolicy,
    status: AlarmStatus | None = None,
    year: int | None = None,
) -> list[SiteStanding]:
    """Every site with its standing in ``year`` (default this local year), by address.

    ``status`` keeps only sites in that status (``none`` matches no site).
    """
    year = year if year is not None else local_year(datetime.now(UTC), policy)
    with engine.connect() as conn:
        sites = [_site(r) for r in conn.execute(select(_s).order_by(_s.c.address_key))]
        events, reinstatements = _year_inputs(conn, None, year, policy)
    out = []
    for site in sites:
        standing = site_standing(events[site.id], year, policy, reinstatements[site.id])
        if status is None or standing.status is status:
            out.append(_site_standing(site, standing, policy))
    return out


def site_history(engine: Engine, address: str) -> SiteHistory | None:
    """Every event and status change at the site, oldest first; None if unknown."""
    key = normalise_address(address)
    if key is None:
        return None
    with engine.connect() as conn:
        site = _site_by_key(conn, key)
        if site is None:
            return None
        events = conn.execute(
            select(_e).where(_e.c.site_id == site.id).order_by(_e.c.occurred_at, _e.c.id)
        )
        changes = conn.execute(select(_c).where(_c.c.site_id == site.id).order_by(_c.c.at, _c.c.id))
        return SiteHistory(
            site, tuple(_event(r) for r in events), tuple(_change(r) for r in changes)
        )


# ---------------------------------------------------------------- writes


def _register(
    engine: Engine,
    address: str,
    key: str,
    actor: str,
    now: datetime,
    details: dict[str, Any],
) -> tuple[AlarmSite, bool, bool]:
    """(site, created, changed) in one transaction."""
    with engine.begin() as conn:
        site = _site_by_key(conn, key, lock=True)
        if site is None:
            return _insert_site(conn, address, key, actor, now, details), True, True
        changed = {k: v for k, v in details.items() if getattr(site, k) != v}
        if changed:
            conn.execute(update(_s).where(_s.c.id == site.id).values(**changed))
            site = _site(conn.execute(select(_s).where(_s.c.id == site.id)).one())
        return site, False, bool(changed)


def register_site(
    engine: Engine,
    address: str,
    *,
    actor: str,
    roles: str = "cli",
    route: str = "store.alarms.register_site",
    permit_number: str | None = None,
    permit_holder: str | None = None,
    permit_expires: date | None = None,
    alarm_company: str | None = None,
) -> tuple[AlarmSite, bool]:
    """Register the site at ``address``; return it and whether it was created.

    Idempotent on the normalised address: an existing site is returned, with the
    permit and company details that were given (not None) updated.
    """
    key = _key(address)
    details = {
        k: v
        for k, v in {
            "permit_number": permit_number,
            "permit_holder": permit_holder,
            "permit_expires": permit_expires,
            "alarm_company": alarm_company,
        }.items()
        if v is not None
    }
    now = datetime.now(UTC)
    try:
        site, created, changed = _register(engine, address, key, actor, now, details)
    except IntegrityError:  # another writer registered the same key first: once more
        site, created, changed = _register(engine, address, key, actor, now, details)
    if not changed:
        return site, False
    _audit(
        engine,
        actor=actor,
        roles=roles,
        route=route,
        records={"alarm_site": site.id, "created": created},
    )
    return site, created


def record_event(
    engine: Engine,
    address: str,
    *,
    occurred_at: datetime,
    kind: AlarmKind,
    outcome: AlarmOutcome,
    policy: AlarmPolicy,
    actor: str,
    roles: str = "cli",
    route: str = "store.alarms.record_event",
    verified_by: Verification = Verification.NONE,
    source_call_id: str | None = None,
    note: str | None = None,
) -> EventRecorded:
    """Record one alarm at ``address`` (registering the site if new).

    Recomputes the site's standing for the event's local year and writes the
    warnings and suspension that became due. An event whose ``source_call_id`` is
    already recorded is not written again (``duplicate=True``).
    """
    key = _key(address)
    occurred = _aware(occurred_at, "occurred_at")
    now = datetime.now(UTC)
    if occurred > now + FUTURE_TOLERANCE:
        raise AlarmRegistryError(f"occurred_at {occurred_at.isoformat()} is in the future")
    year = local_year(occurred, policy)
    with engine.begin() as conn:
        if source_call_id is not None:
            row = conn.execute(select(_e).where(_e.c.source_call_id == source_call_id)).first()
            if row is not None:
                event = _event(row)
                site = _site(conn.execute(select(_s).where(_s.c.id == event.site_id)).one())
                if site.address_key != key:
                    raise AlarmRegistryError(
                        f"call {source_call_id!r} is already recorded at {site.display_address!r}"
                    )
                standing = _standing(conn, site.id, year, policy)
                return EventRecorded(site, event, standing, (), False, True)
        found = _site_by_key(conn, key, lock=True)
        created = found is None
        site = found or _insert_site(conn, address, key, actor, now, {})
        event_id = conn.execute(
            insert(_e)
            .values(
                site_id=site.id,
                occurred_at=occurred,
                kind=AlarmKind(kind).value,
                outcome=AlarmOutcome(outcome).value,
                verified_by=Verification(verified_by).value,
                source_call_id=source_call_id,
                note=note,
                recorded_at=now,
                recorded_by=actor,
            )
            .returning(_e.c.id)
        ).scalar_one()
        event = _event(conn.execute(select(_e).where(_e.c.id == event_id)).one())
        standing = _standing(conn, site.id, year, policy)
        new_changes = _write_due_notices(conn, site.id, standing, actor, now)
    records: dict[str, Any] = {"alarm_site": site.id, "alarm_event": event.id}
    if created:
        records["site_created"] = True
    if new_changes:
        records["alarm_status_changes"] = [c.id for c in new_changes]
    _audit(engine, actor=actor, roles=roles, route=route, records=records)
    return EventRecorded(site, event, standing, new_changes, created, False)


_DERIVED = (NoticeKind.WARNING.value, NoticeKind.SUSPENSION.value)


def _write_due_notices(
    conn: Connection, site_id: int, standing: Standing, actor: str, now: datetime
) -> tuple[StatusChange, ...]:
    """Insert the standing's warnings and suspensions not yet on the site's record."""
    have = {
        (r.kind, r.false_count)
        for r in conn.execute(
            select(_c.c.kind, _c.c.false_count).where(
                and_(_c.c.site_id == site_id, _c.c.year == standing.year, _c.c.kind.in_(_DERIVED))
            )
        )
    }
    written = []
    for notice in standing.notices:
        if notice.kind.value not in _DERIVED or (notice.kind.value, notice.false_count) in have:
            continue
        change_id = conn.execute(
            insert(_c)
            .values(
                site_id=site_id,
                at=notice.at,
                kind=notice.kind.value,
                year=standing.year,
                false_count=notice.false_count,
                event_id=notice.event.event_id if notice.event else None,
                reason=notice.reason,
                note=None,
                actor=actor,
                recorded_at=now,
            )
            .returning(_c.c.id)
        ).scalar_one()
        written.append(_change(conn.execute(select(_c).where(_c.c.id == change_id)).one()))
    return tuple(written)


def _staff_change(
    engine: Engine,
    address: str,
    *,
    kind: NoticeKind,
    reason: str,
    note: str | None,
    policy: AlarmPolicy,
    actor: str,
    roles: str,
    route: str,
    at: datetime | None,
    must_be_suspended: bool,
) -> tuple[SiteStanding, StatusChange]:
    key = _key(address)
    now = datetime.now(UTC)
    effective = _aware(at, "at") if at is not None else now
    if effective > now + FUTURE_TOLERANCE:
        raise AlarmRegistryError(f"{kind.value} dated in the future: {effective.isoformat()}")
    year = local_year(effective, policy)
    with engine.begin() as conn:
        site = _site_by_key(conn, key, lock=True)
        if site is None:
            raise AlarmRegistryError(f"no alarm site registered at {address!r} ({key})")
        events, reinstatements = _year_inputs(conn, [site.id], year, policy)
        before = site_standing(
            [e for e in events[site.id] if e.occurred_at <= effective],
            year,
            policy,
            [r for r in reinstatements[site.id] if r.at <= effective],
        )
        if must_be_suspended and before.status is not AlarmStatus.SUSPENDED:
            raise AlarmRegistryError(
                f"{site.display_address} is not suspended in {year} "
                f"(status {before.status.value}, {before.false_count} false alarms)"
            )
        change_id = conn.execute(
            insert(_c)
            .values(
                site_id=site.id,
                at=effective,
                kind=kind.value,
                year=year,
                false_count=before.false_count,
                event_id=None,
                reason=reason,
                note=note,
                actor=actor,
                recorded_at=now,
            )
            .returning(_c.c.id)
        ).scalar_one()
        change = _change(conn.execute(select(_c).where(_c.c.id == change_id)).one())
        standing = _standing(conn, site.id, year, policy)
    _audit(
        engine,
        actor=actor,
        roles=roles,
        route=route,
        records={"alarm_site": site.id, "alarm_status_change": change.id},
    )
    return _site_standing(site, standing, policy), change


def reinstate(
    engine: Engine,
    address: str,
    *,
    reason: ReinstatementReason,
    policy: AlarmPolicy,
    actor: str,
    roles: str = "cli",
    route: str = "store.alarms.reinstate",
    note: str | None = None,
    at: datetime | None = None,
) -> tuple[SiteStanding, StatusChange]:
    """Lift the site's suspension for the rest of the year (``at``, default now).

    Raises :class:`AlarmRegistryError` when the site is unknown or not suspended at
    ``at``. The year's count continues: the next false alarm suspends again.
    """
    return _staff_change(
        engine,
        address,
        kind=NoticeKind.REINSTATEMENT,
        reason=ReinstatementReason(reason).value,
        note=note,
        policy=policy,
        actor=actor,
        roles=roles,
        route=route,
        at=at,
        must_be_suspended=True,
    )


def file_appeal(
    engine: Engine,
    address: str,
    *,
    note: str,
    policy: AlarmPolicy,
    actor: str,
    roles: str = "cli",
    route: str = "store.alarms.file_appeal",
    at: datetime | None = None,
) -> tuple[SiteStanding, StatusChange]:
    """Record an appeal lodged against a suspension (no effect until granted by
    :func:`reinstate` with reason ``appeal``)."""
    return _staff_change(
        engine,
        address,
        kind=NoticeKind.APPEAL,
        reason="appeal lodged",
        note=note,
        policy=policy,
        actor=actor,
        roles=roles,
        route=route,
        at=at,
        must_be_suspended=True,
    )
