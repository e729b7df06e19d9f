"""POST /api/triage: the shipped packs' scenarios through the API, stored decisions,
alarm standing from the registry, field-level 422s, the dispatcher console."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from smart_policing.security.roles import Role
from smart_policing.store import tables as t
from smart_policing.store.alarms import record_event
from smart_policing.store.users import create_api_token
from smart_policing.triage.alarms import AlarmPolicy
from smart_policing.triage.lint import builtin_scenarios
from smart_policing.triage.pack import builtin_pack, builtin_packs
from smart_policing.triage.types import AlarmKind, AlarmOutcome
from webhelpers import POLICY, add_account, make_app

Factory = Callable[..., TestClient]


def bearer(engine: Engine, client: TestClient, name: str, *roles: Role) -> dict[str, str]:
    add_account(engine, name, *roles)
    token, _ = create_api_token(engine, name, "test", policy=POLICY)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(engine: Engine) -> tuple[TestClient, dict[str, str]]:
    client = TestClient(make_app(engine))
    return client, bearer(engine, client, "dina", Role.DISPATCHER)


def _body(call: Any, **extra: Any) -> dict[str, Any]:
    return {**call.model_dump(mode="json", exclude_defaults=True), **extra}


@pytest.mark.parametrize("name", builtin_packs())
def test_every_scenario_of_the_shipped_packs_through_the_api(
    engine: Engine, api: tuple[TestClient, dict[str, str]], name: str
) -> None:
    client, headers = api
    suite = builtin_scenarios(name)
    version = builtin_pack(name).version
    for sc in suite.scenarios:
        body = _body(sc.call, pack=name, call_id=f"T-{sc.id}"[:64])
        if sc.availability:
            body["availability"] = sc.availability
        reply = client.post("/api/triage", json=body, headers=headers)
        assert reply.status_code == 200, (sc.id, reply.text)
        got = reply.json()
        assert (got["responder"], got["rule"]) == (sc.expect.responder, sc.expect.rule), sc.id
        assert got["co_respond"] == sc.expect.co_respond, sc.id
        assert got["pack"] == name
        assert got["pack_version"] == version
        assert got["decision_id"] > 0
    with engine.connect() as conn:
        rows = conn.execute(select(t.triage_decisions).order_by(t.triage_decisions.c.id)).all()
    assert len(rows) == len(suite.scenarios)
    by_call = {r.call_id: r for r in rows}
    for sc in suite.scenarios:
        row = by_call[f"T-{sc.id}"[:64]]
        assert (row.pack, row.pack_version, row.actor) == (name, version, "dina")
        assert (row.responder, row.rule) == (sc.expect.responder, sc.expect.rule)
        assert row.decision["reason"]
        assert row.call["call_type"] == sc.call.call_type


def test_default_pack_is_the_setting_and_decisions_are_listed_newest_first(
    engine: Engine, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, headers = api
    call = {"call_type": "lost-property", "priority": 5, "received_at": "2022-07-13T10:00:00-04:00"}
    ids = []
    for i in range(5):
        reply = client.post("/api/triage", json={**call, "call_id": f"C{i}"}, headers=headers)
        assert reply.status_code == 200, reply.text
        assert reply.json()["pack"] == "baltimore-smart-2022"
        assert reply.json()["responder"] == "tru"
        ids.append(reply.json()["decision_id"])
    # dispatchers decide but do not browse the stored decisions; supervisors do
    assert client.get("/api/triage/decisions", headers=headers).status_code == 403
    sup = bearer(engine, client, "sam", Role.SUPERVISOR)
    first = client.get("/api/triage/decisions", params={"limit": 2}, headers=sup).json()
    assert [d["id"] for d in first["items"]] == ids[::-1][:2]
    second = client.get(
        "/api/triage/decisions", params={"limit": 2, "cursor": first["next_cursor"]}, headers=sup
    ).json()
    assert [d["id"] for d in second["items"]] == ids[::-1][2:4]
    last = client.get(
        "/api/triage/decisions", params={"limit": 2, "cursor": second["next_cursor"]}, headers=sup
    ).json()
    assert [d["id"] for d in last["items"]] == ids[:1]
    assert last["next_cursor"] is None
    only = client.get("/api/triage/decisions", params={"call_id": "C3"}, headers=sup).json()
    assert [d["call_id"] for d in only["items"]] == ["C3"]
    assert (
        only["items"][0]["decision"]["pack_version"] == builtin_pack("baltimore-smart-2022").version
    )


def test_packs_are_listed_for_any_signed_in_user(engine: Engine) -> None:
    client = TestClient(make_app(engine))
    headers = bearer(engine, client, "olga", Role.OFFICER)
    packs = client.get("/api/triage/packs", headers=headers).json()
    assert [p["name"] for p in packs] == list(builtin_packs())
    assert [p["name"] for p in packs if p["default"]] == ["baltimore-smart-2022"]
    assert all(p["version"] and p["responders"] for p in packs)


def test_the_pack_setting_changes_the_default(engine: Engine) -> None:
    from smart_policing.api import create_app
    from smart_policing.settings import Settings

    app = create_app(
        Settings(database_url="sqlite://", triage_pack="minneapolis-2020-pilots"), engine=engine
    )
    client = TestClient(app)
    headers = bearer(engine, client, "mo", Role.DISPATCHER)
    reply = client.post(
        "/api/triage",
        json={"call_type": "parking", "received_at": "2022-07-13T10:00:00-05:00"},
        headers=headers,
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["pack"] == "minneapolis-2020-pilots"


def _suspend(engine: Engine, address: str, policy: AlarmPolicy) -> None:
    for day in range(1, 6):
        record_event(
            engine,
            address,
            occurred_at=datetime.fromisoformat(f"2022-03-0{day}T02:00:00-05:00"),
            kind=AlarmKind.BURGLAR,
            outcome=AlarmOutcome.FALSE,
            policy=policy,
            actor="test",
        )


def test_an_address_fills_the_alarm_standing(
    engine: Engine, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, headers = api
    pack = builtin_pack("baltimore-smart-2022")
    _suspend(engine, "123 N. Main Street", pack.alarms)
    call = {"call_type": "alarm-burglar", "priority": 3, "received_at": "2022-06-01T03:00:00-04:00"}
    # unverified burglar alarm at the suspended site, spelled another way: nobody sent
    reply = client.post(
        "/api/triage", json={**call, "address": "123 NORTH MAIN ST"}, headers=headers
    ).json()
    assert reply["responder"] == "no-officer"
    assert reply["rule"] == "alarm-suspended-site"
    assert reply["officer_sent"] is False
    assert reply["alarm_site"]["status"] == "suspended"
    assert reply["alarm_site"]["false_count"] == 5
    assert reply["call"]["alarm"] == {"kind": "burglar", "status": "suspended", "verified": False}
    # a verified alarm there still gets an officer
    verified = {**call, "alarm": {"kind": "burglar", "verified": True}}
    reply = client.post(
        "/api/triage", json={**verified, "address": "123 n main st."}, headers=headers
    ).json()
    assert reply["officer_sent"] is True
    assert reply["responder"] == "patrol"
    # the same call at an unregistered address: an officer, no site
    reply = client.post(
        "/api/triage", json={**call, "address": "9 Elm Street"}, headers=headers
    ).json()
    assert reply["officer_sent"] is True
    assert reply["alarm_site"] is None
    with engine.connect() as conn:
        sites = conn.execute(select(t.triage_decisions.c.alarm_site_id)).scalars().all()
    assert sites[0] is not None
    assert sites[:2] == [sites[0], sites[0]]
    assert sites[2] is None


def _detail(reply: Any) -> list[tuple[str, str]]:
    assert reply.status_code == 422, reply.text
    return [(".".join(str(p) for p in d["loc"]), d["msg"]) for d in reply.json()["detail"]]


@pytest.mark.parametrize(
    ("patch", "field", "words"),
    [
        ({"call_type": "burglery"}, "body.call_type", ["unknown call type", "burglary", "known:"]),
        ({"flags": ["drunk"]}, "body.flags.0", ["'injury'", "'dui'"]),
        ({"priority": 500}, "body.priority", ["less than or equal to 99"]),
        ({"received_at": "2022-07-13T10:00:00"}, "body.received_at", ["timezone"]),
        ({"received_at": "0001-01-01T00:00:00+14:00"}, "body.received_at", ["between"]),
        ({"pack": "baltimore"}, "body.pack", ["unknown pack", "baltimore-smart-2022"]),
        ({"colour": "red"}, "body.colour", ["Extra inputs"]),
        ({"availability": {"batman": 1}}, "body.availability", ["batman", "patrol"]),
        ({"answers": {"unicorn": True}}, "body.answers", ["not a screening question"]),
        ({"call_id": "x" * 65}, "body.call_id", ["at most 64"]),
        ({"call_id": "a\x00b"}, "body.call_id", ["control characters"]),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    api: tuple[TestClient, dict[str, str]], patch: dict[str, Any], field: str, words: list[str]
) -> None:
    client, headers = api
    call = {"call_type": "burglary", "received_at": "2022-07-13T10:00:00-04:00", **patch}
    errors = _detail(client.post("/api/triage", json=call, headers=headers))
    assert [f for f, _ in errors] == [field], errors
    for word in words:
        assert word in errors[0][1], (word, errors)


def test_missing_fields_are_named(api: tuple[TestClient, dict[str, str]]) -> None:
    client, headers = api
    errors = _detail(client.post("/api/triage", json={}, headers=headers))
    assert {f for f, _ in errors} == {"body.call_type", "body.received_at"}


def test_the_console_decides_with_csrf_and_shows_why(signed_in_client: Factory) -> None:
    client = signed_in_client(Role.DISPATCHER)
    page = client.get("/triage/console")
    assert page.status_code == 200
    assert 'optgroup label="traffic"' in page.text
    assert "<script>" not in page.text  # strict CSP: no inline scripts
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    form = {
        "call_type": "traffic-collision-property",
        "priority": "3",
        "received_at": "2022-07-13T14:00",
        "pack": "baltimore-smart-2022",
        "address": "",
    }
    assert client.post("/triage/console/decide", data=form).status_code == 403  # no CSRF
    reply = client.post(
        "/triage/console/decide", data=form, headers={"X-CSRF-Token": csrf.group(1)}
    )
    assert reply.status_code == 200
    assert 'data-responder="traffic-vendor"' in reply.text
    assert "crash-to-vendor" in reply.text
    # a DUI: the dispatcher ticks a flag, patrol goes
    reply = client.post(
        "/triage/console/decide",
        data={**form, "flags": ["dui"]},
        headers={"X-CSRF-Token": csrf.group(1)},
    )
    assert 'data-responder="patrol"' in reply.text
    # errors are listed by field
    reply = client.post(
        "/triage/console/decide",
        data={**form, "call_type": "nonsense", "priority": "x"},
        headers={"X-CSRF-Token": csrf.group(1)},
    )
    assert 'id="decision-errors"' in reply.text
    assert "call_type" in reply.text
    assert "priority" in reply.text


def test_each_decision_is_audited_with_its_id(
    engine: Engine, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, headers = api
    reply = client.post(
        "/api/triage",
        json={"call_type": "burglary", "received_at": "2022-07-13T10:00:00-04:00"},
        headers=headers,
    )
    decision_id = reply.json()["decision_id"]
    with engine.connect() as conn:
        row = conn.execute(
            select(t.audit_log.c.route, t.audit_log.c.records, t.audit_log.c.actor)
            .order_by(t.audit_log.c.seq.desc())
            .limit(1)
        ).one()
    assert row.route == "POST /api/triage"
    assert row.actor == "dina"
    assert json.loads(row.records)["ids"] == [str(decision_id)]
