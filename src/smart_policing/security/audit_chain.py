"""The audit log's hash chain (pure).

Each entry's hash is SHA-256 over its canonical JSON form, which includes the
previous entry's hash and its own sequence number. Editing, inserting or
deleting any row therefore breaks the chain from that row on; ``verify_chain``
finds the first broken row. Truncating the newest rows cannot be seen from the
rows alone: ``ChainReport.head_hash`` is the anchor to record elsewhere (a
ticket, a printout) and compare on the next check.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["GENESIS_HASH", "AuditEntry", "ChainReport", "entry_hash", "verify_chain"]

#: ``prev_hash`` of the first entry.
GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit row: who did what, when, to which records, with what result."""

    seq: int
    at: datetime
    actor: str
    roles: str
    action: str
    route: str
    records: str
    result: str
    prev_hash: str

    def canonical(self) -> bytes:
        """The bytes hashed: a JSON array in a fixed field order, UTC microseconds."""
        at = self.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        fields = [
            self.seq,
            at,
            self.actor,
            self.roles,
            self.action,
            self.route,
            self.records,
            self.result,
            self.prev_hash,
        ]
        return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def entry_hash(entry: AuditEntry) -> str:
    """The SHA-256 hex hash of ``entry``."""
    return hashlib.sha256(entry.canonical()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of checking a chain."""

    ok: bool
    rows: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    reason: str | None = None


def verify_chain(rows: Iterable[tuple[AuditEntry, str]]) -> ChainReport:
    """Check ``(entry, stored_hash)`` pairs in ``seq`` order; stop at the first break."""
    prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    for entry, stored in rows:
        problem = None
        if entry.seq != expected_seq:
            problem = f"sequence jumps from {expected_seq - 1} to {entry.seq} (rows deleted?)"
        elif entry.prev_hash != prev:
            problem = "prev_hash does not match the previous row's hash (row deleted or inserted?)"
        elif entry_hash(entry) != stored:
            problem = "row content does not match its hash (row edited)"
        if problem is not None:
            return ChainReport(
                ok=False,
                rows=count,
                head_seq=expected_seq - 1,
                head_hash=prev,
                first_bad_seq=entry.seq,
                reason=problem,
            )
        prev = stored
        expected_seq += 1
        count += 1
    return ChainReport(ok=True, rows=count, head_seq=expected_seq - 1, head_hash=prev)
