"""The audit log for auditors: browse it, verify its hash chain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from smart_policing.api.audit import note_records
from smart_policing.api.deps import EngineDep
from smart_policing.api.pages import render
from smart_policing.api.security import Principal, allow
from smart_policing.security.audit_chain import AuditEntry
from smart_policing.security.roles import Role
from smart_policing.store.audit import recent_audit, verify_audit

__all__ = ["router"]

router = APIRouter()
AUDITORS = allow(Role.AUDITOR)


class AuditRow(BaseModel):
    """One audit row."""

    seq: int
    at: datetime
    actor: str
    roles: str
    action: str
    route: str
    records: str
    result: str


class AuditPage(BaseModel):
    """Newest rows first; pass ``next_before`` as ``before`` for older ones."""

    items: list[AuditRow]
    next_before: int | None


class ChainCheck(BaseModel):
    """The outcome of recomputing the hash chain."""

    ok: bool
    rows: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None
    reason: str | None


def _rows(entries: list[AuditEntry]) -> list[AuditRow]:
    return [
        AuditRow(
            seq=e.seq,
            at=e.at,
            actor=e.actor,
            roles=e.roles,
            action=e.action,
            route=e.route,
            records=e.records,
            result=e.result,
        )
        for e in entries
    ]


Before = Annotated[int | None, Query(ge=1, le=2**53, description="show rows older than this seq")]
Actor = Annotated[str | None, Query(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=1000)]


def _page(
    request: Request, engine: EngineDep, before: int | None, actor: str | None, limit: int
) -> AuditPage:
    entries = recent_audit(engine, limit=limit, before_seq=before, actor=actor)
    note_records(request, "audit_log", ids=[e.seq for e in entries], actor=actor)
    next_before = entries[-1].seq if len(entries) == limit and entries[-1].seq > 1 else None
    return AuditPage(items=_rows(entries), next_before=next_before)


@router.get("/api/audit", tags=["audit"])
def api_audit(
    request: Request,
    engine: EngineDep,
    _who: Annotated[Principal, Depends(AUDITORS)],
    before: Before = None,
    actor: Actor = None,
    limit: Limit = 100,
) -> AuditPage:
    """Audit rows, newest first, optionally for one user."""
    return _page(request, engine, before, actor, limit)


@router.get("/api/audit/verify", tags=["audit"])
def api_audit_verify(
    request: Request, engine: EngineDep, _who: Annotated[Principal, Depends(AUDITORS)]
) -> ChainCheck:
    """Recompute the hash chain and name the first row that does not match."""
    report = verify_audit(engine)
    note_records(request, "audit_log", check="verify")
    return ChainCheck(
        ok=report.ok,
        rows=report.rows,
        head_seq=report.head_seq,
        head_hash=report.head_hash,
        first_bad_seq=report.first_bad_seq,
        reason=report.reason,
    )


@router.get("/audit", response_class=HTMLResponse, include_in_schema=False)
def audit_page(
    request: Request,
    engine: EngineDep,
    _who: Annotated[Principal, Depends(AUDITORS)],
    before: Before = None,
    actor: Actor = None,
    limit: Limit = 100,
) -> HTMLResponse:
    """The audit log page."""
    page = _page(request, engine, before, actor, limit)
    return render(request, "audit.html", {"page": page, "actor": actor or ""})
