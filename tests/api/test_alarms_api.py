"""The false-alarm registry over the API and pages: lookup by any spelling, the 5th false
alarm suspending, a verified alarm still getting an officer, reinstatement by role."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from smart_policing.security.roles import Role
from smart_policing.store import tables as t
from smart_policing.store.users import create_api_token
from webhelpers import POLICY, add_account, make_app

Factory = Callable[..., TestClient]


def recent(minutes: int) -> str:
    """A moment ``minutes`` ago (standing, reinstatement and lookup work on this year)."""
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


@pytest.fixture
def api(engine: Engine) -> tuple[TestClient, Callable[..., dict[str, str]]]:
    client = TestClient(make_app(engine))

    def bearer(name: str, *roles: Role) -> dict[str, str]:
        add_account(engine, name, *roles)
        token, _ = create_api_token(engine, name, "test", policy=POLICY)
        return {"Authorization": f"Bearer {token}"}

    return client, bearer


def _false_alarm(client: TestClient, headers: dict[str, str], address: str, day: int) -> Any:
    reply = client.post(
        "/api/alarms/events",
        json={
            "address": address,
            "occurred_at": recent(60 - day),
            "kind": "burglar",
            "outcome": "false",
            "source_call_id": f"P22{day:04d}",
        },
        headers=headers,
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_fifth_false_alarm_suspends_then_verified_alarm_gets_an_officer_then_reinstated(
    engine: Engine, api: tuple[TestClient, Callable[..., dict[str, str]]]
) -> None:
    client, bearer = api
    dispatcher = bearer("dina", Role.DISPATCHER)
    supervisor = bearer("sam", Role.SUPERVISOR)
    spellings = ["123 N. Main Street", "123 NORTH MAIN ST", "123 north main st."]
    results = [_false_alarm(client, dispatcher, spellings[i % 3], i + 1) for i in range(5)]
    assert results[0]["site_created"] is True
    assert {r["site"]["id"] for r in results} == {results[0]["site"]["id"]}
    assert [r["site"]["status"] for r in results] == [
        "active",
        "active",
        "warned",
        "warned",
        "suspended",
    ]
    assert [c["kind"] for c in results[4]["new_changes"]] == ["suspension"]
    site_id = results[0]["site"]["id"]
    # the same CAD call recorded twice is one event
    again = _false_alarm(client, dispatcher, spellings[0], 5)
    assert again["duplicate"] is True
    # lookup by two spellings finds the same site, suspended, no officer for a plain alarm
    for spelling in ("123 n main st", "123 North Main Street"):
        found = client.get(
            "/api/alarms/sites", params={"address": spelling}, headers=dispatcher
        ).json()
        (site,) = found["items"]
        assert site["id"] == site_id
        assert site["status"] == "suspended"
        assert site["false_count"] == 5
        assert site["unverified_burglar"] == {"officer": False, "reason": "suspended"}
        assert site["verified_burglar"]["officer"] is True
        assert site["panic"]["officer"] is True
    listed = client.get(
        "/api/alarms/sites", params={"status": "suspended"}, headers=dispatcher
    ).json()
    assert [s["id"] for s in listed["items"]] == [site_id]
    # the call-taker's decision: unverified -> nobody; verified -> an officer
    call = {"call_type": "alarm-burglar", "priority": 3, "received_at": recent(1)}
    plain = client.post(
        "/api/triage", json={**call, "address": "123 N MAIN ST"}, headers=dispatcher
    ).json()
    assert plain["officer_sent"] is False
    verified = client.post(
        "/api/triage",
        json={**call, "address": "123 N MAIN ST", "alarm": {"kind": "burglar", "verified": True}},
        headers=dispatcher,
    ).json()
    assert verified["officer_sent"] is True
    # history: five events, warnings at 3 and 4, the suspension
    history = client.get(f"/api/alarms/sites/{site_id}/history", headers=dispatcher).json()
    assert len(history["events"]) == 5
    assert [c["kind"] for c in history["changes"]] == ["warning", "warning", "suspension"]
    # a dispatcher may not reinstate; a supervisor may, once
    body = {"reason": "repaired", "note": "new motion sensor, invoice seen"}
    url = f"/api/alarms/sites/{site_id}/reinstate"
    assert client.post(url, json=body, headers=dispatcher).status_code == 403
    done = client.post(url, json=body, headers=supervisor)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "warned"
    assert done.json()["unverified_burglar"]["officer"] is True
    assert client.post(url, json=body, headers=supervisor).status_code == 409
    # the reinstatement is on the record, by the supervisor; the audit log names the site
    history = client.get(f"/api/alarms/sites/{site_id}/history", headers=supervisor).json()
    assert history["changes"][-1]["kind"] == "reinstatement"
    assert history["changes"][-1]["actor"] == "sam"
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                t.audit_log.c.route,
                t.audit_log.c.records,
                t.audit_log.c.actor,
                t.audit_log.c.result,
            ).where(t.audit_log.c.route == "POST /api/alarms/sites/{site_id}/reinstate")
        ).all()
    # the request (middleware, also the refusals) and the change (registry) both logged
    assert {(r.actor, r.result) for r in rows} == {
        ("dina", "403"),
        ("sam", "200"),
        ("sam", "ok"),
        ("sam", "409"),
    }
    for row in rows:
        records = json.loads(row.records)
        if row.result == "ok":
            assert records["alarm_site"] == site_id
        elif row.result != "403":
            assert records["ids"] == [str(site_id)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "burglar", "outcome": "false"}, "address"),
        ({"address": "1 Elm St", "kind": "lizard", "outcome": "false"}, "kind"),
        ({"address": "1 Elm St", "kind": "burglar", "outcome": "maybe"}, "outcome"),
        (
            {
                "address": "1 Elm St",
                "kind": "burglar",
                "outcome": "false",
                "verified_by": "psychic",
            },
            "verified_by",
        ),
    ],
)
def test_bad_events_are_422_naming_the_field(
    api: tuple[TestClient, Callable[..., dict[str, str]]], body: dict[str, Any], field: str
) -> None:
    client, bearer = api
    headers = bearer("rae", Role.RECORDS)
    reply = client.post(
        "/api/alarms/events",
        json={"occurred_at": "2022-03-01T02:00:00-05:00", **body},
        headers=headers,
    )
    assert reply.status_code == 422, reply.text
    assert [d["loc"] for d in reply.json()["detail"]] == [["body", field]]


def test_an_event_in_the_future_or_unknown_site_is_refused(
    api: tuple[TestClient, Callable[..., dict[str, str]]],
) -> None:
    client, bearer = api
    headers = bearer("sam", Role.SUPERVISOR)
    reply = client.post(
        "/api/alarms/events",
        json={
            "address": "1 Elm St",
            "occurred_at": "2190-03-01T02:00:00-05:00",
            "kind": "burglar",
            "outcome": "false",
        },
        headers=headers,
    )
    assert reply.status_code == 422
    assert "future" in reply.text
    assert client.get("/api/alarms/sites/999/history", headers=headers).status_code == 404
    body = {"reason": "appeal"}
    assert (
        client.post("/api/alarms/sites/999/reinstate", json=body, headers=headers).status_code
        == 404
    )
    empty = client.get("/api/alarms/sites", params={"address": "1 Nowhere Rd"}, headers=headers)
    assert empty.json()["items"] == []


def test_pages_lookup_history_and_reinstate_form(signed_in_client: Factory) -> None:
    supervisor = signed_in_client(Role.SUPERVISOR)
    csrf = re.search(r'data-csrf="([^"]+)"', supervisor.get("/").text)
    assert csrf
    headers = {"X-CSRF-Token": csrf.group(1)}
    for day in range(1, 6):
        reply = supervisor.post(
            "/api/alarms/events",
            json={
                "address": "40 W. Baltimore Street",
                "occurred_at": recent(60 - day),
                "kind": "burglar",
                "outcome": "false",
            },
            headers=headers,
        )
        assert reply.status_code == 200, reply.text
    site_id = reply.json()["site"]["id"]
    page = supervisor.get("/alarms", params={"address": "40 WEST BALTIMORE ST"})
    assert page.status_code == 200
    assert f'href="/alarms/sites/{site_id}"' in page.text
    assert "no officer" in page.text
    site_page = supervisor.get(f"/alarms/sites/{site_id}")
    assert 'id="reinstate-form"' in site_page.text
    dispatcher = signed_in_client(Role.DISPATCHER)
    assert 'id="reinstate-form"' not in dispatcher.get(f"/alarms/sites/{site_id}").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', site_page.text)
    assert token
    done = supervisor.post(
        f"/alarms/sites/{site_id}/reinstate",
        data={"reason": "appeal", "note": "granted", "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    after = supervisor.get(done.headers["location"])
    assert 'id="site-message"' in after.text
    assert "reinstatement" in after.text
