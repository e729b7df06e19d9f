"""The audit log: append (hash-chained) and verify.

Appends from several threads or processes are safe without a table lock: each
new row claims ``seq = last + 1`` and ``prev_hash = last hash``, both unique, so
of two racing writers one wins and the other re-reads the head and retries.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError, OperationalError

from smart_policing.security.audit_chain import (
    GENESIS_HASH,
    AuditEntry,
    ChainReport,
    entry_hash,
    verify_chain,
)
from smart_policing.store import tables as t

__all__ = ["AuditError", "append_audit", "iter_audit", "recent_audit", "verify_audit"]

_RETRIES = 50
_LOCK = threading.Lock()  # fewer retries between threads of one process


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
    with _LOCK:
        for _ in range(_RETRIES):
            try:
                with engine.begin() as conn:
                    head = conn.execute(
                        select(t.audit_log.c.seq, t.audit_log.c.row_hash)
                        .order_by(t.audit_log.c.seq.desc())
                        .limit(1)
                    ).first()
                    seq, prev = (head.seq + 1, head.row_hash) if head else (1, GENESIS_HASH)
                    entry = AuditEntry(
                        seq=seq,
                        at=at,
                        actor=actor[:64],
                        roles=roles,
                        action=action[:16],
                        route=route,
                        records=records,
                        result=result[:32],
                        prev_hash=prev,
                    )
                    conn.execute(
                        insert(t.audit_log).values(
                            seq=entry.seq,
                            at=entry.at,
                            actor=entry.actor,
                            roles=entry.roles,
                            action=entry.action,
                            route=entry.route,
                            records=entry.records,
                            result=entry.result,
                            prev_hash=entry.prev_hash,
                            row_hash=entry_hash(entry),
                        )
                    )
                return entry
            except (IntegrityError, OperationalError) as exc:  # lost a race: re-read the head
                last_error = exc
    raise AuditError(f"could not append to the audit log: {last_error}")


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
