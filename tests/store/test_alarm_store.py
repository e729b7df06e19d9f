"""The false-alarm registry's repository, on SQLite and PostgreSQL: sites by any
spelling, events, notices written once, reinstatement, and an audit row per change."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select

from smart_policing.store import tables as t
from smart_policing.store.alarms import (
    AlarmRegistryError,
    EventRecorded,
    file_appeal,
    find_site,
    list_sites,
    record_event,
    register_site,
    reinstate,
    site_history,
    site_status,
)
from smart_policing.store.audit import iter_audit, verify_audit
from smart_policing.triage.alarms import (
    AlarmPolicy,
    NoticeKind,
    ReinstatementReason,
    ResponseReason,
    Verification,
)
from smart_policing.triage.types import AlarmKind, AlarmOutcome, AlarmStatus

NY = ZoneInfo("America/New_York")
POLICY = AlarmPolicy()
ADDRESS = "123 N. Main Street"


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)  # type: ignore[misc]


def false_alarm(engine: Engine, address: str, at: datetime, **kw: object) -> EventRecorded:
    return record_event(
        engine,
        address,
        occurred_at=at,
        kind=AlarmKind.BURGLAR,
        outcome=AlarmOutcome.FALSE,
        policy=POLICY,
        actor="dispatcher1",
        **kw,  # type: ignore[arg-type]
    )


def audit_rows(engine: Engine) -> list[dict[str, object]]:
    return [
        {"actor": e.actor, "route": e.route, "records": json.loads(e.records), "action": e.action}
        for e, _ in iter_audit(engine)
    ]


def count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_spellings_of_one_address_are_one_site(engine: Engine) -> None:
    site, created = register_site(engine, ADDRESS, actor="clerk", permit_number="P-17")
    assert created
    assert site.address_key == "123 N MAIN ST"
    assert site.display_address == ADDRESS
    again, created_again = register_site(engine, "123 NORTH MAIN ST", actor="clerk")
    assert (again, created_again) == (site, False)
    for spelling in ("123 north main st.", "123 N Main Str", " 123  N.  MAIN  STREET "):
        found = find_site(engine, spelling)
        assert found is not None
        assert found.id == site.id
    assert find_site(engine, "125 N Main St") is None
    assert find_site(engine, "   ") is None
    # events written any way land on the same site
    false_alarm(engine, "123 NORTH MAIN ST", local(2025, 1, 5, 2, 10))
    false_alarm(engine, "123 n main st.", local(2025, 2, 5, 2, 10))
    status = site_status(engine, "123 N. Main Street", policy=POLICY, at=local(2025, 3, 1))
    assert status is not None
    assert status.standing.false_count == 2
    assert count(engine, t.alarm_sites) == 1


def test_registering_again_updates_details_and_audits_only_changes(engine: Engine) -> None:
    register_site(engine, ADDRESS, actor="clerk")
    register_site(engine, ADDRESS, actor="clerk")  # nothing new: no audit row
    site, created = register_site(
        engine,
        "123 NORTH MAIN ST",
        actor="clerk2",
        permit_number="P-9",
        permit_holder="Main St Deli",
        permit_expires=date(2025, 12, 31),
        alarm_company="ACME Alarms",
    )
    assert not created
    assert (site.permit_number, site.permit_holder, site.alarm_company) == (
        "P-9",
        "Main St Deli",
        "ACME Alarms",
    )
    assert site.permit_expires == date(2025, 12, 31)
    assert site.permit_valid(date(2025, 12, 31))
    assert not site.permit_valid(date(2026, 1, 1))
    rows = audit_rows(engine)
    assert [(r["actor"], r["records"]) for r in rows] == [
        ("clerk", {"alarm_site": site.id, "created": True}),
        ("clerk2", {"alarm_site": site.id, "created": False}),
    ]
    assert {r["action"] for r in rows} == {"write"}


def test_the_fifth_false_alarm_suspends_and_notices_are_written_once(engine: Engine) -> None:
    results = [false_alarm(engine, ADDRESS, local(2025, m, 10, 2, 10)) for m in range(1, 6)]
    last = results[-1]
    assert last.standing.status is AlarmStatus.SUSPENDED
    assert last.standing.suspended_until == local(2026, 1, 1)
    assert last.standing.suspended_by.event_id == last.event.id
    assert [len(r.new_changes) for r in results] == [0, 0, 1, 1, 1]
    assert results[0].site_created

    history = site_history(engine, "123 NORTH MAIN ST")
    assert history is not None
    assert [(c.kind, c.false_count, c.year) for c in history.changes] == [
        (NoticeKind.WARNING, 3, 2025),
        (NoticeKind.WARNING, 4, 2025),
        (NoticeKind.SUSPENSION, 5, 2025),
    ]
    suspension = history.changes[-1]
    assert suspension.event_id == last.event.id
    assert suspension.at == local(2025, 5, 10, 2, 10)
    assert suspension.actor == "dispatcher1"
    assert [e.occurred_at for e in history.events] == [
        local(2025, m, 10, 2, 10) for m in range(1, 6)
    ]

    status = site_status(engine, ADDRESS, policy=POLICY, at=local(2025, 6, 1))
    assert status is not None
    assert status.burglar_response == (False, ResponseReason.SUSPENDED)
    # a verified alarm at the suspended site is recorded and changes nothing
    verified = record_event(
        engine,
        ADDRESS,
        occurred_at=local(2025, 6, 1, 3),
        kind=AlarmKind.BURGLAR,
        outcome=AlarmOutcome.VERIFIED,
        verified_by=Verification.VIDEO,
        policy=POLICY,
        actor="dispatcher1",
    )
    assert verified.new_changes == ()
    assert verified.event.verified_by is Verification.VIDEO
    # the next year starts clean
    assert site_status(engine, ADDRESS, policy=POLICY, at=local(2026, 1, 1)).standing.status is (  # type: ignore[union-attr]
        AlarmStatus.ACTIVE
    )


def test_four_false_and_one_verified_do_not_suspend(engine: Engine) -> None:
    for m in range(1, 5):
        false_alarm(engine, ADDRESS, local(2025, m, 1))
    result = record_event(
        engine,
        ADDRESS,
        occurred_at=local(2025, 6, 1),
        kind=AlarmKind.BURGLAR,
        outcome=AlarmOutcome.VERIFIED,
        policy=POLICY,
        actor="d",
    )
    assert result.standing.status is AlarmStatus.WARNED
    assert result.standing.false_count == 4


def test_the_year_boundary_is_local(engine: Engine) -> None:
    for d in (1, 2, 3, 4):
        false_alarm(engine, ADDRESS, local(2024, 12, d, 12))
    # 23:30 on 31 December local time: already 2025 in UTC, but the fifth of 2024
    late = false_alarm(engine, ADDRESS, local(2024, 12, 31, 23, 30))
    assert late.event.occurred_at.year == 2025
    assert late.standing.year == 2024
    assert late.standing.status is AlarmStatus.SUSPENDED
    for d in (1, 2, 3, 4):
        false_alarm(engine, ADDRESS, local(2025, 1, d, 0, 30))
    status = site_status(engine, ADDRESS, policy=POLICY, at=local(2025, 1, 10))
    assert status is not None
    assert (status.standing.status, status.standing.false_count) == (AlarmStatus.WARNED, 4)
    assert [r.site.id for r in list_sites(engine, policy=POLICY, year=2024)] == [status.site.id]
    assert list_sites(engine, policy=POLICY, year=2024, status=AlarmStatus.SUSPENDED)
    assert not list_sites(engine, policy=POLICY, year=2025, status=AlarmStatus.SUSPENDED)


def test_reinstatement_and_the_next_false_alarm(engine: Engine) -> None:
    for m in range(1, 6):
        false_alarm(engine, ADDRESS, local(2025, m, 1))
    status, change = reinstate(
        engine,
        "123 NORTH MAIN ST",
        reason=ReinstatementReason.REPAIRED,
        note="invoice 4411: new door contacts",
        policy=POLICY,
        actor="supervisor",
        at=local(2025, 6, 1),
    )
    assert change.kind is NoticeKind.REINSTATEMENT
    assert (change.reason, change.false_count, change.actor) == ("repaired", 5, "supervisor")
    assert status.standing.status is AlarmStatus.WARNED
    assert status.burglar_response.officer
    with pytest.raises(AlarmRegistryError, match="not suspended"):
        reinstate(
            engine,
            ADDRESS,
            reason=ReinstatementReason.APPEAL,
            policy=POLICY,
            actor="supervisor",
            at=local(2025, 6, 2),
        )
    sixth = false_alarm(engine, ADDRESS, local(2025, 7, 1))
    assert sixth.standing.status is AlarmStatus.SUSPENDED
    assert [(c.kind, c.false_count) for c in sixth.new_changes] == [(NoticeKind.SUSPENSION, 6)]
    _, appeal = file_appeal(
        engine, ADDRESS, note="owner disputes", policy=POLICY, actor="clerk", at=local(2025, 7, 2)
    )
    assert appeal.kind is NoticeKind.APPEAL
    assert site_status(engine, ADDRESS, policy=POLICY, at=local(2025, 7, 3)).standing.status is (  # type: ignore[union-attr]
        AlarmStatus.SUSPENDED  # an appeal lodged changes nothing
    )
    reinstate(
        engine,
        ADDRESS,
        reason=ReinstatementReason.APPEAL,
        policy=POLICY,
        actor="supervisor",
        at=local(2025, 7, 20),
    )
    history = site_history(engine, ADDRESS)
    assert history is not None
    assert [c.kind.value for c in history.changes] == [
        "warning",
        "warning",
        "suspension",
        "reinstatement",
        "suspension",
        "appeal",
        "reinstatement",
    ]


def test_duplicate_call_ids_and_bad_input_write_nothing(engine: Engine) -> None:
    first = false_alarm(engine, ADDRESS, local(2025, 3, 1), source_call_id="P250600001")
    again = false_alarm(engine, "123 NORTH MAIN ST", local(2025, 3, 1), source_call_id="P250600001")
    assert again.duplicate
    assert again.event == first.event
    with pytest.raises(AlarmRegistryError, match="already recorded"):
        false_alarm(engine, "9 Elm St", local(2025, 3, 1), source_call_id="P250600001")
    with pytest.raises(AlarmRegistryError, match="in the future"):
        false_alarm(engine, ADDRESS, datetime.now(UTC) + timedelta(days=2))
    with pytest.raises(AlarmRegistryError, match="timezone-aware"):
        false_alarm(engine, ADDRESS, datetime(2025, 3, 1))
    with pytest.raises(AlarmRegistryError, match="holds no address"):
        false_alarm(engine, " ,. ", local(2025, 3, 1))
    with pytest.raises(AlarmRegistryError, match="no alarm site"):
        reinstate(
            engine, "1 Nowhere Rd", reason=ReinstatementReason.APPEAL, policy=POLICY, actor="s"
        )
    assert count(engine, t.alarm_events) == 1
    assert len(audit_rows(engine)) == 1


def test_every_change_leaves_an_audit_row(engine: Engine) -> None:
    site, _ = register_site(engine, ADDRESS, actor="clerk", route="cli alarms site add")
    events = [false_alarm(engine, "123 NORTH MAIN ST", local(2025, m, 1)) for m in range(1, 6)]
    _, change = reinstate(
        engine,
        ADDRESS,
        reason=ReinstatementReason.APPEAL,
        policy=POLICY,
        actor="sup",
        at=local(2025, 6, 1),
    )
    new_site = false_alarm(engine, "9 Elm St", local(2025, 2, 1))
    rows = audit_rows(engine)
    assert len(rows) == 1 + 5 + 1 + 1
    assert rows[0] == {
        "actor": "clerk",
        "route": "cli alarms site add",
        "records": {"alarm_site": site.id, "created": True},
        "action": "write",
    }
    assert [r["records"]["alarm_event"] for r in rows[1:6]] == [e.event.id for e in events]
    assert rows[5]["records"]["alarm_status_changes"] == [c.id for c in events[-1].new_changes]
    assert {r["actor"] for r in rows[1:6]} == {"dispatcher1"}
    assert rows[1]["route"] == "store.alarms.record_event"
    assert rows[6]["records"] == {"alarm_site": site.id, "alarm_status_change": change.id}
    assert rows[6]["actor"] == "sup"
    assert rows[7]["records"]["site_created"] is True
    assert rows[7]["records"]["alarm_site"] == new_site.site.id
    report = verify_audit(engine)
    assert report.ok
    assert report.rows == 8


def test_list_sites_by_status(engine: Engine) -> None:
    for m in range(1, 6):
        false_alarm(engine, "1 A St", local(2025, m, 1))
    for m in range(1, 4):
        false_alarm(engine, "2 B St", local(2025, m, 1))
    register_site(engine, "3 C St", actor="clerk")
    rows = list_sites(engine, policy=POLICY, year=2025)
    assert [(r.site.address_key, r.standing.status) for r in rows] == [
        ("1 A ST", AlarmStatus.SUSPENDED),
        ("2 B ST", AlarmStatus.WARNED),
        ("3 C ST", AlarmStatus.ACTIVE),
    ]
    suspended = list_sites(engine, policy=POLICY, year=2025, status=AlarmStatus.SUSPENDED)
    assert [r.site.address_key for r in suspended] == ["1 A ST"]
    assert list_sites(engine, policy=POLICY, year=2025, status=AlarmStatus.NONE) == []
    strict = AlarmPolicy(threshold=3, warning_at=(2,))
    assert [r.standing.status for r in list_sites(engine, policy=strict, year=2025)] == [
        AlarmStatus.SUSPENDED,
        AlarmStatus.SUSPENDED,
        AlarmStatus.ACTIVE,
    ]
