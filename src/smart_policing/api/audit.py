"""The audit middleware: one hash-chained row per request that reads or writes.

It records, when the response starts: who (user and roles, or anonymous), the
action (read for GET/HEAD, write otherwise), the route template (e.g.
``GET /api/incidents``), which records (what the handler noted with
``note_records``; else the query string), and the result (the status code).
If the row cannot be written the client gets 503 instead of the data: nothing
is served unaudited. Static files and the health probe are not record access
and are not logged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from anyio import to_thread
from fastapi import Request
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smart_policing.api.security import Principal
from smart_policing.store.audit import append_audit

__all__ = ["AuditMiddleware", "note_records"]

_UNLOGGED_PREFIXES = ("/static/", "/healthz", "/favicon.ico")
_MAX_RECORDS_TEXT = 4000


def note_records(
    request: Request, kind: str, ids: Iterable[object] | None = None, **filters: Any
) -> None:
    """Tell the audit log which records this request touched.

    ``ids`` are record identifiers (at most a page of them); ``filters`` are the
    query that selected them (for aggregates such as Compstat, the filters are the record).
    """
    note: dict[str, Any] = {"kind": kind}
    if ids is not None:
        note["ids"] = [str(i) for i in ids]
    clean = {k: v for k, v in filters.items() if v not in (None, "", [], ())}
    if clean:
        note["filters"] = clean
    request.state.audit_records = note


def _records_text(scope: Scope) -> str:
    state = scope.get("state") or {}
    note = state.get("audit_records")
    if note is None:
        query = scope.get("query_string", b"").decode("latin-1")
        note = {"query": query} if query else {}
    text = json.dumps(note, default=str, separators=(",", ":"), sort_keys=True)
    return text if len(text) <= _MAX_RECORDS_TEXT else text[: _MAX_RECORDS_TEXT - 3] + "..."


class AuditMiddleware:
    """ASGI middleware writing the audit row before the response leaves."""

    def __init__(self, app: ASGIApp, engine: Engine) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_UNLOGGED_PREFIXES):
            await self.app(scope, receive, send)
            return
        failed = False

        async def audited_send(message: Message) -> None:
            nonlocal failed
            if message["type"] == "http.response.start":
                try:
                    await to_thread.run_sync(self._append, scope, message["status"])
                except Exception:
                    failed = True
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 503,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                        }
                    )
                    await send({"type": "http.response.body", "body": b"audit log unavailable"})
                    return
            if not failed:
                await send(message)

        await self.app(scope, receive, audited_send)

    def _append(self, scope: Scope, status: int) -> None:
        state = scope.get("state") or {}
        principal = state.get("principal")
        actor, roles = ("anonymous", "public")
        if isinstance(principal, Principal):
            actor, roles = principal.name, principal.roles_text
        route = scope.get("route")
        template = getattr(route, "path", None) or scope["path"]
        method = scope["method"]
        append_audit(
            self.engine,
            actor=actor,
            roles=roles,
            action="read" if method in ("GET", "HEAD", "OPTIONS") else "write",
            route=f"{method} {template}",
            records=_records_text(scope),
            result=str(status),
        )
