"""Helpers for web tests: accounts per role and signing in through the real form."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from smart_policing.api import create_app
from smart_policing.data import builtin_mapping, import_file
from smart_policing.data.synth import CityParams, generate_city
from smart_policing.reports import Accepted, Actor, ReportAction, assess, intake_rules
from smart_policing.security.policy import SecurityPolicy
from smart_policing.security.roles import Role
from smart_policing.settings import Settings
from smart_policing.store.reports import StoredReport, submit_report, transition_report
from smart_policing.store.users import add_user
from smart_policing.triage.pack import builtin_pack
from smart_policing.triage.types import ReportChannel

PASSWORD = "correct horse battery staple"
POLICY = SecurityPolicy()


def make_app(engine: Engine, **policy: object) -> FastAPI:
    """The real app on ``engine`` with an optional policy override."""
    settings = Settings(
        database_url="sqlite://",
        security=SecurityPolicy.model_validate(policy),
    )
    return create_app(settings, engine=engine)


def add_account(engine: Engine, name: str, *roles: Role) -> None:
    add_user(engine, name, PASSWORD, frozenset(roles), policy=POLICY)


def form_csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the form has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD, next_path: str = "/") -> int:
    """Sign in through the form; returns the POST's status (303 on success)."""
    page = client.get("/login")
    assert page.status_code == 200
    reply = client.post(
        "/login",
        data={
            "username": name,
            "password": password,
            "csrf_token": form_csrf(page.text),
            "next": next_path,
        },
        follow_redirects=False,
    )
    return reply.status_code


ONLINE_REPORT: dict[str, Any] = {
    "call_type": "larceny",
    "occurred_from": "2025-06-01T20:00",
    "occurred_to": "2025-06-02T07:30",
    "address": "123 N. Main Street",
    "description": "My bicycle was taken from the front porch overnight.",
    "property_items": [{"description": "red bicycle", "value": "249.99"}],
    "contact": {"name": "Rita Resident", "email": "rita@example.org"},
    "screening": {"suspect_present": False, "injury": False, "weapon": False, "in_progress": False},
}


def seed_report(
    engine: Engine,
    now: datetime = datetime(2025, 6, 2, 16, 0, tzinfo=UTC),
    *,
    reviewed_by: str | None = None,
) -> StoredReport:
    """File ``ONLINE_REPORT`` anonymously (the first of 2025 is ``R25-000001``), and
    have records clerk ``reviewed_by`` review it."""
    rules = intake_rules(builtin_pack("baltimore-smart-2022"))
    result = assess(ReportChannel.ONLINE, ONLINE_REPORT, rules, now)
    assert isinstance(result, Accepted), result
    report = submit_report(engine, result, rules=rules, actor=None, now=now).report
    if reviewed_by is not None:
        clerk = Actor(reviewed_by, frozenset({Role.RECORDS}))
        report = transition_report(engine, report.case_number, ReportAction.REVIEW, clerk, now=now)
    return report


def load_synthetic_calls(engine: Engine, folder: Path, timezone: str = "America/New_York") -> None:
    """A one-year synthetic city (2024, 30 calls a day) written to ``folder`` and its CAD
    calls imported into ``engine``: stored calls for the report and what-if pages."""
    generate_city(
        CityParams(seed=5, years=1, end_year=2024, calls_per_day=30.0, incidents_per_day=5.0),
        folder,
    )
    import_file(engine, folder / "cad_calls.csv", builtin_mapping("cad"), timezone=timezone)
