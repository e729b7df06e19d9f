"""Stored triage decisions: every decision the API makes, with its pack version.

A decision is written once and never changed (the design's "every decision
explains itself and is stored with the policy version"): the canonical call JSON
as it was decided (with the alarm standing the registry gave), the full decision
(rule, reason, responder, fallback chain, inputs), the pack name and version, the
alarm site matched (if any) and who asked. Lists are newest first, cut by id
(keyset): the cursor is the last id of the previous page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Row, insert, select

from smart_policing.store import tables as t
from smart_policing.triage.engine import CallFacts, Decision

__all__ = ["DecisionPage", "StoredDecision", "list_decisions", "store_decision"]

_d = t.triage_decisions


@dataclass(frozen=True, slots=True)
class StoredDecision:
    """One stored decision (``call`` and ``decision`` as JSON objects)."""

    id: int
    decided_at: datetime
    call_id: str | None
    pack: str
    pack_version: str
    rule: str
    responder: str
    responder_kind: str
    co_respond: bool
    officer_sent: bool
    queued: bool
    alarm_site_id: int | None
    call: dict[str, Any]
    decision: dict[str, Any]
    actor: str


@dataclass(frozen=True, slots=True)
class DecisionPage:
    """A page of decisions, newest first; ``next_cursor`` continues it (None at the end)."""

    items: list[StoredDecision]
    next_cursor: int | None


def store_decision(
    engine: Engine,
    call: CallFacts,
    decision: Decision,
    *,
    actor: str,
    alarm_site_id: int | None = None,
    decided_at: datetime | None = None,
) -> int:
    """Write one decision; returns its id."""
    at = decided_at or datetime.now(UTC)
    with engine.begin() as conn:
        new_id = conn.execute(
            insert(_d)
            .values(
                decided_at=at,
                call_id=call.call_id,
                pack=decision.pack,
                pack_version=decision.pack_version,
                rule=decision.rule,
                responder=decision.responder,
                responder_kind=decision.responder_kind.value,
                co_respond=decision.co_respond,
                officer_sent=decision.officer_sent,
                queued=decision.queued,
                alarm_site_id=alarm_site_id,
                call=call.model_dump(mode="json"),
                decision=decision.model_dump(mode="json"),
                actor=actor,
            )
            .returning(_d.c.id)
        ).scalar_one()
    return int(new_id)


def _stored(row: Row[Any]) -> StoredDecision:
    m = row._mapping
    return StoredDecision(**{c.name: m[c.name] for c in _d.columns})


def list_decisions(
    engine: Engine,
    *,
    cursor: int | None = None,
    limit: int = 50,
    pack: str | None = None,
    call_id: str | None = None,
    responder: str | None = None,
) -> DecisionPage:
    """Decisions newest first, optionally of one pack, call id or responder."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    query = select(_d).order_by(_d.c.id.desc()).limit(limit + 1)
    if cursor is not None:
        query = query.where(_d.c.id < cursor)
    if pack is not None:
        query = query.where(_d.c.pack == pack)
    if call_id is not None:
        query = query.where(_d.c.call_id == call_id)
    if responder is not None:
        query = query.where(_d.c.responder == responder)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    items = [_stored(r) for r in rows[:limit]]
    more = len(rows) > limit
    return DecisionPage(items=items, next_cursor=items[-1].id if more and items else None)
