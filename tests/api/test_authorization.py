"""Authorisation: every route x every role against the expected matrix.

The matrix below is written out by hand from the access policy (it is the
specification, not read back from the code). A route missing from it fails the
test, so no route can ship without a decision; the app itself refuses to start
when a route declares no access at all (default deny).
"""

from __future__ import annotations

import re

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from smart_policing.api.security import check_route_declarations, iter_routes
from smart_policing.security.roles import Role
from webhelpers import add_account, make_app, sign_in

R = Role
STAFF = frozenset(Role) - {R.PUBLIC}
EVERYONE = frozenset(Role)
INCIDENT_READERS = frozenset({R.ADMIN, R.ANALYST, R.SUPERVISOR, R.RECORDS})
CALL_READERS = INCIDENT_READERS | {R.DISPATCHER}
COMPSTAT_READERS = frozenset({R.ADMIN, R.ANALYST, R.SUPERVISOR, R.OFFICER})
REPORT_REVIEWERS = frozenset({R.RECORDS, R.SUPERVISOR})
REPORT_READERS = REPORT_REVIEWERS | {R.OFFICER}
TRIAGE_DECIDERS = frozenset({R.DISPATCHER, R.SUPERVISOR, R.ADMIN})
DECISION_READERS = frozenset({R.SUPERVISOR, R.ANALYST, R.AUDITOR, R.ADMIN})
ALARM_READERS = frozenset({R.DISPATCHER, R.SUPERVISOR, R.RECORDS, R.ADMIN})
ALARM_RECORDERS = frozenset({R.DISPATCHER, R.SUPERVISOR, R.RECORDS})
REINSTATERS = frozenset({R.SUPERVISOR, R.ADMIN})

WHATIF_READERS = frozenset({R.ADMIN, R.ANALYST, R.SUPERVISOR})
RESPONSE_READERS = frozenset({R.ADMIN, R.ANALYST, R.SUPERVISOR})
ZONE_READERS = frozenset({R.OFFICER, R.SUPERVISOR, R.ANALYST, R.ADMIN})
ACTIVITY_LOGGERS = frozenset({R.OFFICER, R.SUPERVISOR})
DOSAGE_READERS = frozenset({R.SUPERVISOR, R.ANALYST, R.ADMIN})

#: (method, path) -> roles allowed; Role.PUBLIC stands for "not signed in"
MATRIX: dict[tuple[str, str], frozenset[Role]] = {
    ("GET", "/"): STAFF,
    ("GET", "/healthz"): EVERYONE,
    ("GET", "/login"): EVERYONE,
    ("POST", "/login"): EVERYONE,
    ("POST", "/logout"): STAFF,
    ("POST", "/api/auth/token"): EVERYONE,
    ("GET", "/api/me"): STAFF,
    ("GET", "/openapi.json"): STAFF,
    ("GET", "/docs"): STAFF,
    ("GET", "/api/incidents"): INCIDENT_READERS,
    ("GET", "/records/incidents"): INCIDENT_READERS,
    ("GET", "/api/calls"): CALL_READERS,
    ("GET", "/records/calls"): CALL_READERS,
    ("GET", "/api/audit"): frozenset({R.AUDITOR}),
    ("GET", "/api/audit/verify"): frozenset({R.AUDITOR}),
    ("GET", "/audit"): frozenset({R.AUDITOR}),
    ("GET", "/compstat"): COMPSTAT_READERS,
    ("GET", "/api/compstat"): COMPSTAT_READERS,
    ("GET", "/api/compstat.csv"): COMPSTAT_READERS,
    ("GET", "/api/compstat/districts"): COMPSTAT_READERS,
    ("GET", "/report"): EVERYONE,
    ("POST", "/report"): EVERYONE,
    ("POST", "/api/reports/online"): EVERYONE,
    ("POST", "/api/reports/telephone"): frozenset({R.DISPATCHER, R.RECORDS}),
    ("POST", "/api/reports/field"): frozenset({R.OFFICER}),
    ("GET", "/api/reports"): REPORT_READERS,
    ("GET", "/api/reports/{case}"): REPORT_READERS,
    ("POST", "/api/reports/{case}/transition"): REPORT_READERS,
    ("GET", "/reports/queue"): REPORT_REVIEWERS,
    ("GET", "/reports/new/telephone"): frozenset({R.DISPATCHER, R.RECORDS}),
    ("POST", "/reports/new/telephone"): frozenset({R.DISPATCHER, R.RECORDS}),
    ("GET", "/reports/new/field"): frozenset({R.OFFICER}),
    ("POST", "/reports/new/field"): frozenset({R.OFFICER}),
    ("GET", "/reports/{case}"): REPORT_READERS,
    ("POST", "/reports/{case}"): REPORT_READERS,
    ("POST", "/api/triage"): TRIAGE_DECIDERS,
    ("GET", "/api/triage/packs"): STAFF,
    ("GET", "/api/triage/decisions"): DECISION_READERS,
    ("GET", "/triage/console"): TRIAGE_DECIDERS,
    ("POST", "/triage/console/decide"): TRIAGE_DECIDERS,
    ("GET", "/triage/whatif"): WHATIF_READERS,
    ("GET", "/api/triage/whatif"): WHATIF_READERS,
    ("GET", "/api/triage/whatif.csv"): WHATIF_READERS,
    ("GET", "/response"): RESPONSE_READERS,
    ("GET", "/api/response/report"): RESPONSE_READERS,
    ("GET", "/api/response/report.csv"): RESPONSE_READERS,
    ("GET", "/api/response/time-budget"): RESPONSE_READERS,
    ("GET", "/api/response/erlang-c"): RESPONSE_READERS,
    ("GET", "/response/staffing"): RESPONSE_READERS,
    ("GET", "/response/simulate"): RESPONSE_READERS,
    ("GET", "/api/response/scenarios"): RESPONSE_READERS,
    ("POST", "/api/response/simulate"): RESPONSE_READERS,
    ("POST", "/api/response/staffing"): RESPONSE_READERS,
    ("GET", "/api/alarms/sites"): ALARM_READERS,
    ("GET", "/api/alarms/sites/{site_id}/history"): ALARM_READERS,
    ("POST", "/api/alarms/events"): ALARM_RECORDERS,
    ("POST", "/api/alarms/sites/{site_id}/reinstate"): REINSTATERS,
    ("GET", "/alarms"): ALARM_READERS,
    ("GET", "/alarms/sites/{site_id}"): ALARM_READERS,
    ("POST", "/alarms/sites/{site_id}/reinstate"): REINSTATERS,
    ("GET", "/api/zones/sets"): ZONE_READERS,
    ("GET", "/api/zones/sets/{name}"): ZONE_READERS,
    ("GET", "/api/zones/sets/{name}/neighbourhoods"): ZONE_READERS,
    ("POST", "/api/zones/activities"): ACTIVITY_LOGGERS,
    ("GET", "/api/zones/activities"): DOSAGE_READERS,
    ("GET", "/api/zones/dosage"): DOSAGE_READERS,
    ("GET", "/zones"): ZONE_READERS,
    ("POST", "/zones/activities"): ACTIVITY_LOGGERS,
}


def _app_routes(app: FastAPI) -> set[tuple[str, str]]:
    found = set()
    for route in iter_routes(app.routes):
        if isinstance(route, APIRoute):
            for method in route.methods or ():
                found.add((method, route.path))
    return found


def _refused(reply_status: int, location: str | None) -> bool:
    redirected_to_login = reply_status in (302, 303, 307) and (location or "").startswith("/login")
    return reply_status in (401, 403) or redirected_to_login


def test_every_route_is_in_the_matrix(engine: Engine) -> None:
    routes = _app_routes(make_app(engine))
    assert routes - set(MATRIX) == set(), "routes without an expected row in MATRIX"
    assert set(MATRIX) - routes == set(), "MATRIX rows for routes that do not exist"


def test_every_route_times_every_role(engine: Engine) -> None:
    app = make_app(engine, login_rate="10000/minute", anonymous_rate="10000/minute")
    clients: dict[Role, TestClient] = {R.PUBLIC: TestClient(app)}
    csrf: dict[Role, str] = {R.PUBLIC: ""}
    for role in sorted(STAFF):
        name = f"u-{role.value}"
        add_account(engine, name, role)
        client = TestClient(app)
        assert sign_in(client, name) == 303
        token = re.search(r'data-csrf="([^"]+)"', client.get("/").text)
        assert token
        clients[role], csrf[role] = client, token.group(1)
    outcomes: dict[tuple[str, str, Role], bool] = {}
    for method, path in sorted(MATRIX):
        for role, client in clients.items():
            if (method, path) == ("POST", "/logout"):
                continue  # checked last, it ends the session
            reply = client.request(
                method,
                path,
                headers={"X-CSRF-Token": csrf[role]},
                follow_redirects=False,
            )
            assert reply.status_code < 500, (method, path, role, reply.text[:300])
            outcomes[(method, path, role)] = not _refused(
                reply.status_code, reply.headers.get("location")
            )
    for role, client in clients.items():
        reply = client.post("/logout", headers={"X-CSRF-Token": csrf[role]}, follow_redirects=False)
        # signing out redirects to the sign-in form: only 401/403 mean refused here
        outcomes[("POST", "/logout", role)] = reply.status_code not in (401, 403)
    wrong = [
        f"{method} {path} as {role.value}: {'allowed' if ok else 'refused'}"
        for (method, path, role), ok in sorted(outcomes.items())
        if ok != (role in MATRIX[(method, path)])
    ]
    assert wrong == []


def test_an_undeclared_route_stops_the_app(engine: Engine) -> None:
    app = make_app(engine)
    extra = APIRouter()

    @extra.get("/api/forgotten")
    def forgotten() -> dict[str, str]:
        return {"secret": "data"}

    app.include_router(extra)
    with pytest.raises(RuntimeError, match="/api/forgotten"):
        check_route_declarations(app)
