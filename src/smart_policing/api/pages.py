"""Rendering server-side pages with what every page needs (user, CSRF token, nav)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.datastructures import QueryParams

from smart_policing import __version__
from smart_policing.api.security import Principal, principal_of
from smart_policing.security.roles import Role

__all__ = ["NAV", "install_filters", "render"]

#: the navigation bar: (label, path, roles that see the link)
NAV: tuple[tuple[str, str, frozenset[Role]], ...] = (
    ("Compstat", "/compstat", frozenset({Role.ADMIN, Role.ANALYST, Role.SUPERVISOR, Role.OFFICER})),
    (
        "Incidents",
        "/records/incidents",
        frozenset({Role.ADMIN, Role.ANALYST, Role.SUPERVISOR, Role.RECORDS}),
    ),
    (
        "Calls",
        "/records/calls",
        frozenset({Role.ADMIN, Role.ANALYST, Role.SUPERVISOR, Role.DISPATCHER, Role.RECORDS}),
    ),
    ("Console", "/triage/console", frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})),
    ("What-if", "/triage/whatif", frozenset({Role.ANALYST, Role.SUPERVISOR, Role.ADMIN})),
    ("Response", "/response", frozenset({Role.ANALYST, Role.SUPERVISOR, Role.ADMIN})),
    ("Staffing", "/response/staffing", frozenset({Role.ANALYST, Role.SUPERVISOR, Role.ADMIN})),
    ("Simulation", "/response/simulate", frozenset({Role.ANALYST, Role.SUPERVISOR, Role.ADMIN})),
    (
        "Alarms",
        "/alarms",
        frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.RECORDS, Role.ADMIN}),
    ),
    ("Zones", "/zones", frozenset({Role.OFFICER, Role.SUPERVISOR, Role.ANALYST, Role.ADMIN})),
    ("Reports", "/reports/queue", frozenset({Role.RECORDS, Role.SUPERVISOR})),
    ("TRU report", "/reports/new/telephone", frozenset({Role.DISPATCHER, Role.RECORDS})),
    ("Field report", "/reports/new/field", frozenset({Role.OFFICER})),
    ("Audit log", "/audit", frozenset({Role.AUDITOR})),
    ("API", "/docs", frozenset(Role) - {Role.PUBLIC}),
)


def _localtime(value: object, timezone: str) -> str:
    """A stored UTC timestamp as local wall time, e.g. ``2015-03-01 14:05``."""
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def _replace_param(params: QueryParams, name: str, value: str | None) -> str:
    """The query string with ``name`` set to ``value`` (or removed when None)."""
    items = [(k, v) for k, v in params.multi_items() if k != name]
    if value is not None:
        items.append((name, value))
    return urlencode(items)


def install_filters(templates: Jinja2Templates) -> None:
    """Register the template filters pages use."""
    templates.env.filters["localtime"] = _localtime
    templates.env.filters["replace_param"] = _replace_param


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    principal: Principal | None = None,
) -> HTMLResponse:
    """Render ``template`` with the caller, their navigation links and CSRF token."""
    templates: Jinja2Templates = request.app.state.templates
    who = principal or principal_of(request)
    nav = [(label, path) for label, path, roles in NAV if who.user and who.has_any(roles)]
    ctx = {
        "principal": who,
        "nav": nav,
        "csrf_token": who.csrf_token or "",
        "version": __version__,
        "path": request.url.path,
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, template, ctx, status_code=status_code)
