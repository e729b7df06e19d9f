"""Report store on SQLite and PostgreSQL: case numbers, idempotency, review, approval."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select

from smart_policing.reports import (
    Accepted,
    Actor,
    Emergency,
    EmergencySign,
    ReportAction,
    ReportStatus,
    TransitionError,
    assess,
    intake_rules,
)
from smart_policing.security.roles import Role
from smart_policing.store import tables as t
from smart_policing.store.reports import (
    INTAKE_FORMAT,
    IdempotencyConflict,
    ReportNotFound,
    get_report,
    list_reports,
    record_refusal,
    refusal_counts,
    submit_report,
    transition_report,
)
from smart_policing.triage.pack import builtin_pack
from smart_policing.triage.types import ReportChannel

RULES = intake_rules(builtin_pack("baltimore-smart-2022"))
NOW = datetime(2025, 6, 2, 16, 0, tzinfo=UTC)
CLERK = Actor("rita.records", frozenset({Role.RECORDS}))
OFFICER = Actor("pat.officer", frozenset({Role.OFFICER}))


def accepted(channel: ReportChannel = ReportChannel.ONLINE, **changes: Any) -> Accepted:
    data: dict[str, Any] = {
        "call_type": "larceny",
        "occurred_from": "2025-06-01T20:00",
        "occurred_to": "2025-06-02T07:30",
        "address": "123 n. Main Street Apt 4",
        "description": "My bicycle was taken from the front porch overnight.",
        "property_items": [{"description": "red bicycle", "value": "249.99"}],
        "contact": {"name": "Rita Resident", "email": "rita@example.org"},
        "screening": {
            "suspect_present": False,
            "injury": False,
            "weapon": False,
            "in_progress": False,
        },
    }
    if channel is ReportChannel.FIELD:
        data.pop("screening")
    data.update(changes)
    result = assess(channel, data, RULES, NOW)
    assert isinstance(result, Accepted), result
    return result


def test_submit_stores_the_report_with_a_case_number(engine: Engine) -> None:
    result = submit_report(engine, accepted(), rules=RULES, actor=None, now=NOW)
    report = result.report
    assert result.created
    assert report.case_number == "R25-000001"
    assert report.status is ReportStatus.SUBMITTED
    assert report.address_key == "123 N MAIN ST APT 4"
    assert report.block_address == "100 N MAIN ST"
    assert report.occurred_from == datetime(2025, 6, 2, 0, 0, tzinfo=UTC)  # 20:00 EDT
    assert report.contact == {"name": "Rita Resident", "phone": None, "email": "rita@example.org"}
    assert [str(i.value) for i in report.items] == ["249.99"]
    assert [m.action for m in report.transitions] == ["submit"]
    assert report.transitions[0].actor == "anonymous"
    assert get_report(engine, " r25-000001") == report
    with pytest.raises(ReportNotFound):
        get_report(engine, "R25-000002")
    with pytest.raises(ReportNotFound):
        get_report(engine, "nonsense")


def test_case_numbers_are_sequential_per_local_year(engine: Engine) -> None:
    numbers = [
        submit_report(engine, accepted(), rules=RULES, actor=None, now=NOW).report.case_number
        for _ in range(3)
    ]
    assert numbers == ["R25-000001", "R25-000002", "R25-000003"]
    # 04:30 UTC on 1 January is still 31 December in Baltimore
    eve = datetime(2026, 1, 1, 4, 30, tzinfo=UTC)
    new_year = datetime(2026, 1, 1, 5, 30, tzinfo=UTC)
    assert (
        submit_report(engine, accepted(), rules=RULES, actor=None, now=eve).report.case_number
        == "R25-000004"
    )
    assert (
        submit_report(engine, accepted(), rules=RULES, actor=None, now=new_year).report.case_number
        == "R26-000001"
    )


def test_concurrent_submits_get_unique_sequential_numbers(engine: Engine) -> None:
    report = accepted()

    def one(_: int) -> str:
        return submit_report(engine, report, rules=RULES, actor=None, now=NOW).report.case_number

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(one, range(40)))
    assert sorted(numbers) == [f"R25-{n:06d}" for n in range(1, 41)]


def test_a_retried_field_submission_returns_the_first_case(engine: Engine) -> None:
    report = accepted(ReportChannel.FIELD, call_type="assault", contact=None)
    first = submit_report(
        engine, report, rules=RULES, actor="pat.officer", idempotency_key="k-1", now=NOW
    )
    again = submit_report(
        engine, report, rules=RULES, actor="pat.officer", idempotency_key="k-1", now=NOW
    )
    assert first.created
    assert not again.created
    assert again.report == first.report
    # the same key from another officer is another report; a different body is refused
    other = submit_report(
        engine, report, rules=RULES, actor="kim.officer", idempotency_key="k-1", now=NOW
    )
    assert other.created
    assert other.report.case_number == "R25-000002"
    changed = accepted(ReportChannel.FIELD, call_type="robbery", contact=None)
    with pytest.raises(IdempotencyConflict):
        submit_report(
            engine, changed, rules=RULES, actor="pat.officer", idempotency_key="k-1", now=NOW
        )
    # a refused replay used no number
    third = submit_report(engine, changed, rules=RULES, actor="pat.officer", now=NOW)
    assert third.report.case_number == "R25-000003"
    with pytest.raises(ValueError, match="signed-in"):
        submit_report(engine, report, rules=RULES, actor=None, idempotency_key="k", now=NOW)


def test_concurrent_retries_of_one_key_make_one_report(engine: Engine) -> None:
    report = accepted(ReportChannel.FIELD, call_type="assault", contact=None)

    def one(_: int) -> str:
        return submit_report(
            engine, report, rules=RULES, actor="pat.officer", idempotency_key="same", now=NOW
        ).report.case_number

    with ThreadPoolExecutor(max_workers=6) as pool:
        numbers = set(pool.map(one, range(12)))
    assert numbers == {"R25-000001"}
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.reports)).scalar() == 1


def test_approval_lands_one_incident(engine: Engine) -> None:
    with engine.begin() as conn:  # a known block with its district
        conn.execute(
            insert(t.places).values(
                place_key="100 N MAIN ST",
                block_address="100 N MAIN ST",
                district="CENTRAL",
                import_id=0,
            )
        )
    case = submit_report(engine, accepted(), rules=RULES, actor=None, now=NOW).report.case_number
    transition_report(engine, case, ReportAction.REVIEW, CLERK, now=NOW)
    approved = transition_report(engine, case, ReportAction.APPROVE, CLERK, "ok", now=NOW)
    assert approved.status is ReportStatus.APPROVED
    assert [m.action for m in approved.transitions] == ["submit", "review", "approve"]
    assert approved.transitions[-1].note == "ok"
    with engine.connect() as conn:
        rows = conn.execute(select(t.incidents)).mappings().all()
        ledger = (
            conn.execute(select(t.imports).where(t.imports.c.format == INTAKE_FORMAT))
            .mappings()
            .all()
        )
    assert len(rows) == 1
    incident = rows[0]
    assert incident["id"] == approved.incident_id
    assert (incident["source"], incident["source_key"]) == ("report", case)
    assert incident["offence_code"] == "larceny"
    assert incident["offence_description"] == "Larceny / theft"
    assert incident["block_address"] == "100 N MAIN ST"  # never the house number or flat
    assert incident["district"] == "CENTRAL"
    assert incident["occurred_at"] == approved.occurred_from
    assert len(ledger) == 1
    assert incident["import_id"] == ledger[0]["id"]
    assert ledger[0]["rows_inserted"] == 1
    # approving again is impossible; the same clerk's retry changes nothing
    other = Actor("sam.super", frozenset({Role.SUPERVISOR}))
    with pytest.raises(TransitionError) as caught:
        transition_report(engine, case, ReportAction.APPROVE, other, now=NOW)
    assert caught.value.status == 409
    assert transition_report(engine, case, ReportAction.APPROVE, CLERK, now=NOW) == approved
    with pytest.raises(TransitionError):
        transition_report(engine, case, ReportAction.RETURN, CLERK, "too late", now=NOW)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.incidents)).scalar() == 1
    # a second approved report shares the ledger row
    case2 = submit_report(engine, accepted(), rules=RULES, actor=None, now=NOW).report.case_number
    transition_report(engine, case2, ReportAction.REVIEW, CLERK, now=NOW)
    transition_report(engine, case2, ReportAction.APPROVE, CLERK, now=NOW)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.incidents)).scalar() == 2
        assert (
            conn.execute(
                select(t.imports.c.rows_inserted).where(t.imports.c.format == INTAKE_FORMAT)
            ).scalar_one()
            == 2
        )


def test_return_and_resubmit_and_the_queue(engine: Engine) -> None:
    field = accepted(ReportChannel.FIELD, call_type="assault", contact=None)
    case = submit_report(
        engine, field, rules=RULES, actor="pat.officer", now=NOW
    ).report.case_number
    online_case = submit_report(
        engine, accepted(), rules=RULES, actor=None, now=NOW
    ).report.case_number
    transition_report(engine, case, ReportAction.REVIEW, CLERK, now=NOW)
    assert [r.case_number for r in list_reports(engine, status=ReportStatus.SUBMITTED)] == [
        online_case
    ]
    returned = transition_report(engine, case, ReportAction.RETURN, CLERK, "which arm?", now=NOW)
    assert returned.status is ReportStatus.RETURNED
    with pytest.raises(TransitionError):
        transition_report(
            engine, case, ReportAction.RESUBMIT, Actor("kim", frozenset({Role.OFFICER})), now=NOW
        )
    again = transition_report(engine, case, ReportAction.RESUBMIT, OFFICER, now=NOW)
    assert again.status is ReportStatus.SUBMITTED
    queue = list_reports(engine, status=ReportStatus.SUBMITTED)
    assert [r.case_number for r in queue] == [case, online_case]
    assert [r.case_number for r in list_reports(engine, submitted_by="pat.officer")] == [case]
    assert [r.case_number for r in list_reports(engine, after=case)] == [online_case]


def test_refusals_are_only_counted(engine: Engine) -> None:
    refusal = Emergency(ReportChannel.ONLINE, (EmergencySign.WEAPON, EmergencySign.INJURY))
    record_refusal(engine, refusal, timezone=RULES.timezone, now=NOW)
    record_refusal(engine, refusal, timezone=RULES.timezone, now=NOW)
    assert refusal_counts(engine) == [(NOW.date(), "online", "weapon,injury", 2)]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.reports)).scalar() == 0
