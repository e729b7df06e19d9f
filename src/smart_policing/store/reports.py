"""The report intake repository: case numbers, idempotent submits, review, approval.

:func:`submit_report` stores a report validated by
:func:`smart_policing.reports.validate.assess` and gives it the next case number of
the city's local calendar year (``R25-000123``), in one transaction: the
``report_sequences`` row of the year is bumped first (an upsert: a row lock on
PostgreSQL, the write lock on SQLite), so concurrent submits are serialised, numbers
are unique and, since a rolled-back submit rolls its number back, gap-free.

A submit with an idempotency key (field reports) is recorded per user: a retry with
the same key returns the first report (``created=False``), never a duplicate; the same
key with a different report is refused (:class:`IdempotencyConflict`).

:func:`transition_report` moves a report through the workflow of
:mod:`smart_policing.reports.workflow` with a conditional ``UPDATE`` (a report changed
by someone else meanwhile is refused, not overwritten; the same user retrying the move
that brought the report to its state, e.g. after a timeout, gets the report unchanged).
**Approval** inserts one row
into ``incidents`` in the same transaction (``source="report"``, ``source_key`` = the
case number, so a second approval could not add another), with the block-level
address, the call type as offence code and the district of the block when the
``places`` table knows it. ``incidents.import_id`` names one ``imports`` ledger row,
format ``report-intake`` (status ``open``), created by the first approval and
counting every approved report, so approved reports are records like imported ones
without a schema change to the (large) incidents table.

Screening refusals are only counted (:func:`record_refusal`). Reads and writes are
audited by the API layer. Nothing here logs report contents.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, Row, and_, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from smart_policing.model.places import block_of, normalise_address
from smart_policing.reports.casenumbers import format_case_number, normalise_case_number
from smart_policing.reports.model import ReportAction, ReportStatus
from smart_policing.reports.validate import Accepted, Emergency, IntakeRules
from smart_policing.reports.workflow import Actor, ReportRef, TransitionError, check_move
from smart_policing.store import tables as t
from smart_policing.triage.types import ReportChannel
from smart_policing.triage.vocabulary import load_vocabulary

__all__ = [
    "INTAKE_FORMAT",
    "IdempotencyConflict",
    "ReportNotFound",
    "ReportSummary",
    "StoredItem",
    "StoredReport",
    "SubmitResult",
    "TransitionRecord",
    "get_report",
    "list_reports",
    "record_refusal",
    "refusal_counts",
    "submit_report",
    "transition_report",
]

#: ``imports.format`` of the ledger row approved reports are recorded under.
INTAKE_FORMAT = "report-intake"
_PG_LEDGER_LOCK = 0x53_50_52_49  # pg_advisory_xact_lock key ("SPRI")

_r, _i, _tr, _k = t.reports, t.report_items, t.report_transitions, t.report_idempotency


class ReportNotFound(LookupError):
    """No report has this case number."""


class IdempotencyConflict(ValueError):
    """An idempotency key already used for a different report."""


@dataclass(frozen=True, slots=True)
class StoredItem:
    """A property item as stored (value in dollars)."""

    position: int
    description: str
    value: Decimal
    serial_number: str | None


@dataclass(frozen=True, slots=True)
class TransitionRecord:
    """One move of a report."""

    at: datetime
    action: str
    from_status: ReportStatus | None
    to_status: ReportStatus
    actor: str
    note: str | None


@dataclass(frozen=True, slots=True)
class ReportSummary:
    """A report in a list (no contact, no exact address, no description)."""

    case_number: str
    channel: ReportChannel
    status: ReportStatus
    call_type: str
    occurred_from: datetime
    block_address: str
    submitted_by: str | None
    submitted_at: datetime


@dataclass(frozen=True, slots=True)
class StoredReport:
    """A report with everything staff see (contact and exact address included)."""

    id: int
    case_number: str
    channel: ReportChannel
    status: ReportStatus
    call_type: str
    occurred_from: datetime
    occurred_to: datetime
    address: str
    address_key: str
    block_address: str
    description: str
    contact: dict[str, Any] | None
    pack: str
    pack_version: str
    submitted_by: str | None
    submitted_at: datetime
    updated_at: datetime
    incident_id: int | None
    items: tuple[StoredItem, ...]
    transitions: tuple[TransitionRecord, ...]

    @property
    def ref(self) -> ReportRef:
        """What the workflow rules need."""
        return ReportRef(self.status, self.channel, self.submitted_by)


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """The stored report, and whether this call created it (False: an idempotent retry)."""

    report: StoredReport
    created: bool


class _Replay(Exception):
    def __init__(self, report_id: int) -> None:
        self.report_id = report_id


def _now(now: datetime | None) -> datetime:
    value = now or datetime.now(UTC)
    if value.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return value


def _to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(UTC)


def _upsert(conn: Connection) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def _next_seq(conn: Connection, year: int) -> int:
    seq = t.report_sequences
    stmt = (
        _upsert(conn)(seq)
        .values(year=year, last_seq=1)
        .on_conflict_do_update(index_elements=[seq.c.year], set_={"last_seq": seq.c.last_seq + 1})
        .returning(seq.c.last_seq)
    )
    return int(conn.execute(stmt).scalar_one())


def _request_hash(accepted: Accepted) -> str:
    text = accepted.channel.value + "\n" + accepted.submission.model_dump_json()
    return hashlib.sha256(text.encode()).hexdigest()


def submit_report(
    engine: Engine,
    accepted: Accepted,
    *,
    rules: IntakeRules,
    actor: str | None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> SubmitResult:
    """Store ``accepted`` as a new ``submitted`` report with the next case number.

    ``actor`` is the submitting user's name (None: an anonymous online reporter).
    ``idempotency_key`` needs an actor (keys are per user).
    """
    if idempotency_key is not None and actor is None:
        raise ValueError("an idempotency key needs a signed-in submitter")
    at = _now(now)
    zone = ZoneInfo(rules.timezone)
    sub = accepted.submission
    key = normalise_address(sub.address)
    if key is None:  # pragma: no cover - ReportSubmission checks the address
        raise ValueError("the address has no letters or digits")
    block = block_of(key) or key
    digest = _request_hash(accepted) if idempotency_key is not None else ""
    year = at.astimezone(zone).year
    for attempt in range(3):
        try:
            with engine.begin() as conn:
                seq = _next_seq(conn, year)  # first: takes the write lock
                if idempotency_key is not None:
                    found = conn.execute(
                        select(_k.c.report_id, _k.c.request_sha256).where(
                            _k.c.actor == actor, _k.c.key == idempotency_key
                        )
                    ).first()
                    if found is not None:
                        if found.request_sha256 != digest:
                            raise IdempotencyConflict(
                                "this Idempotency-Key was already used for a different report"
                            )
                        raise _Replay(int(found.report_id))  # rolls the number back
                case = format_case_number(year, seq)
                report_id = conn.execute(
                    insert(_r)
                    .values(
                        case_number=case,
                        case_year=year,
                        case_seq=seq,
                        channel=accepted.channel.value,
                        status=ReportStatus.SUBMITTED.value,
                        call_type=sub.call_type,
                        occurred_from=_to_utc(sub.occurred_from, zone),
                        occurred_to=_to_utc(sub.occurred_until, zone),
                        address=sub.address,
                        address_key=key,
                        block_address=block,
                        description=sub.description,
                        contact=None if sub.contact is None else sub.contact.model_dump(),
                        pack=rules.pack,
                        pack_version=rules.pack_version,
                        submitted_by=actor,
                        submitted_at=at,
                        updated_at=at,
                    )
                    .returning(_r.c.id)
                ).scalar_one()
                if sub.property_items:
                    conn.execute(
                        insert(_i),
                        [
                            {
                                "report_id": report_id,
                                "position": n,
                                "description": item.description,
                                "value_cents": int(item.value * 100),
                                "serial_number": item.serial_number,
                            }
                            for n, item in enumerate(sub.property_items)
                        ],
                    )
                _log_move(conn, report_id, at, "submit", None, ReportStatus.SUBMITTED, actor, None)
                if idempotency_key is not None:
                    assert actor is not None
                    conn.execute(
                        insert(_k).values(
                            actor=actor,
                            key=idempotency_key,
                            request_sha256=digest,
                            report_id=report_id,
                            created_at=at,
                        )
                    )
        except _Replay as replay:
            return SubmitResult(_load(engine, _r.c.id == replay.report_id), created=False)
        except Exception as exc:
            # two first retries of one key racing on PostgreSQL: the loser sees the key next time
            if attempt < 2 and idempotency_key is not None and _is_integrity(exc):
                continue
            raise
        return SubmitResult(_load(engine, _r.c.id == report_id), created=True)
    raise AssertionError("unreachable")  # pragma: no cover


def _is_integrity(exc: Exception) -> bool:
    return isinstance(exc, IntegrityError)


def _log_move(
    conn: Connection,
    report_id: int,
    at: datetime,
    action: str,
    source: ReportStatus | None,
    target: ReportStatus,
    actor: str | None,
    note: str | None,
) -> None:
    conn.execute(
        insert(_tr).values(
            report_id=report_id,
            at=at,
            action=action,
            from_status=None if source is None else source.value,
            to_status=target.value,
            actor=actor or "anonymous",
            note=note,
        )
    )


def record_refusal(
    engine: Engine, emergency: Emergency, *, timezone: str, now: datetime | None = None
) -> None:
    """Count one screening refusal (local day, channel, signs); nothing else is kept."""
    at = _now(now)
    day = at.astimezone(ZoneInfo(timezone)).date()
    signs = ",".join(s.value for s in emergency.signs)
    table = t.report_refusals
    with engine.begin() as conn:
        conn.execute(
            _upsert(conn)(table)
            .values(day=day, channel=emergency.channel.value, signs=signs, count=1)
            .on_conflict_do_update(
                index_elements=[table.c.day, table.c.channel, table.c.signs],
                set_={"count": table.c.count + 1},
            )
        )


def refusal_counts(engine: Engine) -> list[tuple[date, str, str, int]]:
    """Screening refusals: (local day, channel, signs, count), oldest first."""
    table = t.report_refusals
    with engine.connect() as conn:
        rows = conn.execute(
            select(table.c.day, table.c.channel, table.c.signs, table.c.count).order_by(
                table.c.day, table.c.channel, table.c.signs
            )
        ).all()
    return [(r.day, r.channel, r.signs, int(r[3])) for r in rows]


def _report(row: Row[Any], items: Sequence[Row[Any]], moves: Sequence[Row[Any]]) -> StoredReport:
    return StoredReport(
        id=row.id,
        case_number=row.case_number,
        channel=ReportChannel(row.channel),
        status=ReportStatus(row.status),
        call_type=row.call_type,
        occurred_from=row.occurred_from,
        occurred_to=row.occurred_to,
        address=row.address,
        address_key=row.address_key,
        block_address=row.block_address,
        description=row.description,
        contact=row.contact,
        pack=row.pack,
        pack_version=row.pack_version,
        submitted_by=row.submitted_by,
        submitted_at=row.submitted_at,
        updated_at=row.updated_at,
        incident_id=row.incident_id,
        items=tuple(
            StoredItem(i.position, i.description, Decimal(i.value_cents) / 100, i.serial_number)
            for i in items
        ),
        transitions=tuple(
            TransitionRecord(
                m.at,
                m.action,
                None if m.from_status is None else ReportStatus(m.from_status),
                ReportStatus(m.to_status),
                m.actor,
                m.note,
            )
            for m in moves
        ),
    )


def _load(engine_or_conn: Engine | Connection, where: Any) -> StoredReport:
    if isinstance(engine_or_conn, Engine):
        with engine_or_conn.connect() as conn:
            return _load(conn, where)
    conn = engine_or_conn
    row = conn.execute(select(_r).where(where)).first()
    if row is None:
        raise ReportNotFound("no report with this case number")
    items = conn.execute(select(_i).where(_i.c.report_id == row.id).order_by(_i.c.position)).all()
    moves = conn.execute(select(_tr).where(_tr.c.report_id == row.id).order_by(_tr.c.id)).all()
    return _report(row, items, moves)


def get_report(engine: Engine, case_number: str) -> StoredReport:
    """The report with ``case_number`` (any case, surrounding spaces allowed);
    raises :class:`ReportNotFound` (also for text that is not a case number)."""
    try:
        case = normalise_case_number(case_number)
    except ValueError:
        raise ReportNotFound("no report with this case number") from None
    return _load(engine, _r.c.case_number == case)


def list_reports(
    engine: Engine,
    *,
    status: ReportStatus | None = None,
    submitted_by: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> list[ReportSummary]:
    """Reports in filing order (oldest first), optionally of one status or submitter,
    after the case number ``after`` (keyset paging)."""
    query = select(
        _r.c.case_number,
        _r.c.channel,
        _r.c.status,
        _r.c.call_type,
        _r.c.occurred_from,
        _r.c.block_address,
        _r.c.submitted_by,
        _r.c.submitted_at,
    )
    if status is not None:
        query = query.where(_r.c.status == status.value)
    if submitted_by is not None:
        query = query.where(_r.c.submitted_by == submitted_by)
    with engine.connect() as conn:
        if after is not None:
            cursor = conn.execute(
                select(_r.c.case_year, _r.c.case_seq).where(
                    _r.c.case_number == normalise_case_number(after)
                )
            ).first()
            if cursor is not None:
                query = query.where(
                    or_(
                        _r.c.case_year > cursor.case_year,
                        and_(_r.c.case_year == cursor.case_year, _r.c.case_seq > cursor.case_seq),
                    )
                )
        rows = conn.execute(query.order_by(_r.c.case_year, _r.c.case_seq).limit(limit)).all()
    return [
        ReportSummary(
            case_number=r.case_number,
            channel=ReportChannel(r.channel),
            status=ReportStatus(r.status),
            call_type=r.call_type,
            occurred_from=r.occurred_from,
            block_address=r.block_address,
            submitted_by=r.submitted_by,
            submitted_at=r.submitted_at,
        )
        for r in rows
    ]


def transition_report(
    engine: Engine,
    case_number: str,
    action: ReportAction,
    actor: Actor,
    note: str | None = None,
    *,
    now: datetime | None = None,
) -> StoredReport:
    """Make ``action`` on the report as ``actor`` (workflow rules in
    :func:`smart_policing.reports.workflow.check_move`); approving lands the incident.

    Raises :class:`ReportNotFound`, or :class:`~smart_policing.reports.workflow.TransitionError`
    (409 when the report is in another state, also when it changed meanwhile).
    """
    at = _now(now)
    report = get_report(engine, case_number)
    last = report.transitions[-1] if report.transitions else None
    if (
        last is not None
        and (last.action, last.actor, last.to_status) == (action.value, actor.name, report.status)
        and report.status is not ReportStatus.SUBMITTED
    ):
        return report  # the same user retrying the move that brought it here: no change
    move = check_move(report.ref, action, actor, note)
    clean_note = note.strip() if note and note.strip() else None
    with engine.begin() as conn:
        changed = conn.execute(
            update(_r)
            .where(_r.c.id == report.id, _r.c.status == report.status.value)
            .values(status=move.target.value, updated_at=at)
        ).rowcount
        if changed != 1:
            raise TransitionError(
                "the report changed while you were looking at it; reload and try again",
                status=409,
            )
        if move.target is ReportStatus.APPROVED:
            incident_id = _land_incident(conn, report, at)
            conn.execute(update(_r).where(_r.c.id == report.id).values(incident_id=incident_id))
        _log_move(
            conn, report.id, at, action.value, report.status, move.target, actor.name, clean_note
        )
    return _load(engine, _r.c.id == report.id)


def _intake_ledger(conn: Connection, at: datetime) -> int:
    """The ``imports`` row approved reports are recorded under (created once)."""
    if conn.dialect.name == "postgresql":  # SQLite: the transaction already holds the write lock
        conn.execute(select(func.pg_advisory_xact_lock(_PG_LEDGER_LOCK)))
    found = conn.execute(
        select(t.imports.c.id)
        .where(t.imports.c.format == INTAKE_FORMAT)
        .order_by(t.imports.c.id)
        .limit(1)
    ).scalar()
    if found is not None:
        return int(found)
    return int(
        conn.execute(
            insert(t.imports)
            .values(
                format=INTAKE_FORMAT,
                source="report",
                file_name="report intake (approved reports)",
                started_at=at,
                status="open",
                rows_read=0,
                rows_inserted=0,
                rows_duplicate=0,
                rows_rejected=0,
                rows_flagged=0,
            )
            .returning(t.imports.c.id)
        ).scalar_one()
    )


def _land_incident(conn: Connection, report: StoredReport, at: datetime) -> int:
    ledger = _intake_ledger(conn, at)
    district = conn.execute(
        select(t.places.c.district).where(t.places.c.place_key == report.block_address)
    ).scalar()
    call_type = load_vocabulary().get(report.call_type)
    incident_id = conn.execute(
        insert(t.incidents)
        .values(
            source="report",
            source_key=report.case_number,
            occurred_at=report.occurred_from,
            offence_code=report.call_type,
            offence_description=call_type.label if call_type else report.call_type,
            block_address=report.block_address,
            place_key=report.block_address,
            district=district,
            victim_count=1,
            import_id=ledger,
        )
        .returning(t.incidents.c.id)
    ).scalar_one()
    conn.execute(
        update(t.imports)
        .where(t.imports.c.id == ledger)
        .values(
            rows_read=t.imports.c.rows_read + 1,
            rows_inserted=t.imports.c.rows_inserted + 1,
        )
    )
    return int(incident_id)
