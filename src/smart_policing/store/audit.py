"""The audit log: append (hash-chained) and verify.

Appends from several threads or processes are safe without a table lock: each
new row claims ``seq = last + 1`` and ``prev_hash = last hash``, both unique, so
of two racing writers one wins and the other re-reads the head and retries.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import Engine, Integer, String, Text, exists, insert, literal, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.sql.dml import ReturningInsert

from smart_policing.security.audit_chain import (
    GENESIS_HASH,
    AuditEntry,
    ChainReport,
    entry_hash,
    verify_chain,
)
from smart_policing.store import tables as t
from smart_policing.store.types import UtcDateTime

__all__ = ["AuditError", "append_audit", "iter_audit", "recent_audit", "verify_audit"]

_RETRIES = 50
_LOCK = threading.Lock()  # fewer retries between threads of one process
#: the last row this process appended, per database URL: (seq, row_hash)
_HEADS: dict[str, tuple[int, str]] = {}
a = t.audit_log


class AuditError(RuntimeError):
    """The audit row could not be written; the request it records must fail."""


def append_audit(
    engine: Engine,
    *,
    actor: str,
    roles: str,
    action: str,
    route: str,
    records: str,
    result: str,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one row to the chain and return it."""
    at = at or datetime.now(UTC)
    last_error: Exception | None = None
    key = engine.url.render_as_string(hide_password=True)
    with _LOCK:
        for _ in range(_RETRIES):
            head = _HEADS.get(key)
            try:
                with engine.begin() as conn:
                    if head is None:
                        row = conn.execute(
                            select(a.c.seq, a.c.row_hash).order_by(a.c.seq.desc()).limit(1)
                        ).first()
                        head = (row.seq, row.row_hash) if row else (0, GENESIS_HASH)
                    entry = AuditEntry(
                        seq=head[0] + 1,
                        at=at,
                        actor=actor[:64],
                        roles=roles,
                        action=action[:16],
                        route=route,
                        records=records,
                        result=result[:32],
                        prev_hash=head[1],
                    )
                    digest = entry_hash(entry)
                    inserted = conn.execute(_insert_after(entry, digest, head)).first()
                if inserted is not None:
                    _HEADS[key] = (entry.seq, digest)
                    return entry
                last_error = RuntimeError("the chain's head moved")
            except (IntegrityError, OperationalError) as exc:  # lost a race
                last_error = exc
            _HEADS.pop(key, None)  # re-read the head and try again
    raise AuditError(f"could not append to the audit log: {last_error}")


def _insert_after(
    entry: AuditEntry, digest: str, head: tuple[int, str]
) -> ReturningInsert[tuple[int]]:
    """INSERT the row only if ``head`` is still the newest row (one statement).

    The head is this process's memory of its last append; the condition (two
    primary-key probes) makes a stale memory harmless: nothing is inserted and the
    caller re-reads the head.
    """
    a = t.audit_log
    values = select(
        literal(entry.seq, Integer()),
        literal(entry.at, UtcDateTime()),
        literal(entry.actor, String()),
        literal(entry.roles, Text()),
        literal(entry.action, String()),
        literal(entry.route, Text()),
        literal(entry.records, Text()),
        literal(entry.result, String()),
        literal(entry.prev_hash, String()),
        literal(digest, String()),
    ).where(~exists().where(a.c.seq > head[0]))
    if head[0] > 0:
        values = values.where(exists().where(a.c.seq == head[0], a.c.row_hash == head[1]))
    return (
        insert(a)
        .from_select(
            [
                a.c.seq,
                a.c.at,
                a.c.actor,
                a.c.roles,
                a.c.action,
                a.c.route,
                a.c.records,
                a.c.result,
                a.c.prev_hash,
                a.c.row_hash,
            ],
            values,
        )
        .returning(a.c.seq)
    )


def _entry(row: object) -> tuple[AuditEntry, str]:
    m = row._mapping  # type: ignore[attr-defined]
    entry = AuditEntry(
        seq=m["seq"],
        at=m["at"],
        actor=m["actor"],
        roles=m["roles"],
        action=m["action"],
        route=m["route"],
        records=m["records"],
        result=m["result"],
        prev_hash=m["prev_hash"],
    )
    return entry, m["row_hash"]


def iter_audit(engine: Engine, *, batch: int = 10_000) -> Iterator[tuple[AuditEntry, str]]:
    """Every row with its stored hash, in ``seq`` order (streamed in batches)."""
    after = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                select(t.audit_log)
                .where(t.audit_log.c.seq > after)
                .order_by(t.audit_log.c.seq)
                .limit(batch)
            ).all()
        if not rows:
            return
        for row in rows:
            yield _entry(row)
        after = rows[-1].seq


def verify_audit(engine: Engine) -> ChainReport:
    """Recompute the whole chain; the report names the first broken row."""
    return verify_chain(iter_audit(engine))


def recent_audit(
    engine: Engine,
    *,
    limit: int = 100,
    before_seq: int | None = None,
    actor: str | None = None,
) -> list[AuditEntry]:
    """The newest rows first (for the auditor's page), optionally by one actor."""
    query = select(t.audit_log).order_by(t.audit_log.c.seq.desc()).limit(limit)
    if before_seq is not None:
        query = query.where(t.audit_log.c.seq < before_seq)
    if actor:
        query = query.where(t.audit_log.c.actor == actor.strip().lower())
    with engine.connect() as conn:
        return [_entry(r)[0] for r in conn.execute(query).all()]
