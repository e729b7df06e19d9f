"""Report intake over HTTP: the public form with its CSRF token, the JSON API per
channel, field-level 422s, the rate limit, roles, review and approval."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from smart_policing.security.roles import Role
from smart_policing.store import tables as t
from webhelpers import ONLINE_REPORT, form_csrf, make_app

FORM = {
    "screening_suspect_present": "no",
    "screening_injury": "no",
    "screening_weapon": "no",
    "screening_in_progress": "no",
    "call_type": "lost-property",
    "occurred_from": "2025-03-01T14:05",
    "occurred_to": "2025-03-01T15:00",
    "address": "1200 N. Charles Street",
    "description": "I lost my wallet somewhere between the bus stop and the library.",
    "item_description_0": "brown leather wallet",
    "item_value_0": "40",
    "contact_name": "Rita Resident",
    "contact_phone": "410-555-0100",
}


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _post_form(client: TestClient, **changes: str) -> Any:
    page = client.get("/report")
    assert page.status_code == 200
    data = {**FORM, **changes, "csrf_token": form_csrf(page.text)}
    return client.post("/report", data=data)


def test_a_resident_files_online_and_gets_a_case_number(engine: Engine) -> None:
    client = TestClient(make_app(engine))
    page = client.get("/report")
    # screening comes first, then the types the pack takes online
    assert page.text.index('name="screening_weapon"') < page.text.index('name="call_type"')
    assert '<option value="lost-property"' in page.text
    assert 'value="assault"' not in page.text
    reply = _post_form(client)
    assert reply.status_code == 201
    assert 'id="case-number">R' in reply.text
    assert "1200 N CHARLES ST" in reply.text  # the block, as the address was 1200
    assert _count(engine, t.reports) == 1


def test_the_form_needs_its_csrf_token(engine: Engine) -> None:
    client = TestClient(make_app(engine))
    client.get("/report")
    reply = client.post("/report", data={**FORM, "csrf_token": "forged"})
    assert reply.status_code == 400
    assert "form expired" in reply.text
    fresh = TestClient(make_app(engine))  # no cookie at all
    assert fresh.post("/report", data={**FORM, "csrf_token": "x"}).status_code == 400
    assert _count(engine, t.reports) == 0


def test_form_errors_appear_next_to_the_fields(engine: Engine) -> None:
    client = TestClient(make_app(engine))
    reply = _post_form(
        client,
        description="short",
        item_value_0="-3",
        contact_phone="",
        occurred_to="2025-03-01T13:00",
        call_type="assault",
    )
    assert reply.status_code == 422
    for name in ("description", "item_value_0", "contact", "occurred_to", "call_type"):
        assert f'id="error-{name}"' in reply.text, name
    assert "at least 10 characters" in reply.text
    assert 'value="brown leather wallet"' in reply.text  # what was typed is kept
    assert _count(engine, t.reports) == 0


def test_a_yes_in_screening_says_call_911_and_keeps_nothing(engine: Engine) -> None:
    client = TestClient(make_app(engine))
    reply = _post_form(client, screening_weapon="yes", description="")
    assert reply.status_code == 200
    assert "Call 911 now" in reply.text
    assert _count(engine, t.reports) == 0
    assert _count(engine, t.report_refusals) == 1


def test_online_json_api(engine: Engine) -> None:
    client = TestClient(make_app(engine))
    reply = client.post("/api/reports/online", json=ONLINE_REPORT)
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert body["outcome"] == "filed"
    assert body["block_address"] == "100 N MAIN ST"
    assert "contact" not in body
    bad = copy.deepcopy(ONLINE_REPORT)
    bad["property_items"][0]["value"] = -1
    bad["contact"] = {"name": "Rita"}
    reply = client.post("/api/reports/online", json=bad)
    assert reply.status_code == 422
    locs = [d["loc"] for d in reply.json()["detail"]]
    assert ["body", "property_items", 0, "value"] in locs
    assert ["body", "contact"] in locs
    wrong_type = {**ONLINE_REPORT, "call_type": "robbery"}
    reply = client.post("/api/reports/online", json=wrong_type)
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["body", "call_type"]
    assert "online reports take" in reply.json()["detail"][0]["msg"]
    emergency = copy.deepcopy(ONLINE_REPORT)
    emergency["screening"]["injury"] = True
    reply = client.post("/api/reports/online", json=emergency)
    assert reply.status_code == 200
    assert reply.json()["outcome"] == "call-911"
    assert reply.json()["signs"] == ["injury"]


def test_anonymous_reports_are_rate_limited(engine: Engine) -> None:
    client = TestClient(make_app(engine, anonymous_rate="3/minute"))
    codes = [client.post("/api/reports/online", json=ONLINE_REPORT).status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]


def test_anonymous_visitors_reach_only_the_form(engine: Engine) -> None:
    client = TestClient(make_app(engine))
    client.post("/api/reports/online", json=ONLINE_REPORT)
    for path in ("/reports/queue", "/api/reports", "/reports/R25-000001"):
        reply = client.get(path, follow_redirects=False)
        assert reply.status_code in (303, 401), path
    assert client.post("/api/reports/field", json={}).status_code == 401
    assert client.post("/api/reports/telephone", json={}).status_code == 401


def _field(**changes: Any) -> dict[str, Any]:
    data = {k: v for k, v in ONLINE_REPORT.items() if k != "screening"}
    data.update({"call_type": "assault", "contact": None}, **changes)
    return data


def test_field_reports_are_idempotent(
    engine: Engine, signed_in_client: Callable[..., TestClient]
) -> None:
    officer = signed_in_client(Role.OFFICER)
    csrf = form_csrf(officer.get("/report").text)
    headers = {"X-CSRF-Token": csrf, "Idempotency-Key": "car-12-0001"}
    first = officer.post("/api/reports/field", json=_field(), headers=headers)
    again = officer.post("/api/reports/field", json=_field(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["case_number"] == again.json()["case_number"]
    other = officer.post("/api/reports/field", json=_field(call_type="robbery"), headers=headers)
    assert other.status_code == 422
    assert other.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert _count(engine, t.reports) == 1
    # screening answers are not part of a field report
    reply = officer.post(
        "/api/reports/field",
        json={**_field(), "screening": ONLINE_REPORT["screening"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["body", "screening"]


def test_review_approve_and_who_sees_what(
    engine: Engine, signed_in_client: Callable[..., TestClient]
) -> None:
    anonymous = TestClient(make_app(engine))
    online_case = anonymous.post("/api/reports/online", json=ONLINE_REPORT).json()["case_number"]
    officer = signed_in_client(Role.OFFICER)
    o_csrf = {"X-CSRF-Token": form_csrf(officer.get("/report").text)}
    field_case = officer.post("/api/reports/field", json=_field(), headers=o_csrf).json()[
        "case_number"
    ]
    clerk = signed_in_client(Role.RECORDS)
    c_csrf = {"X-CSRF-Token": form_csrf(clerk.get("/report").text)}
    # the officer sees only their own report
    assert [r["case_number"] for r in officer.get("/api/reports").json()["items"]] == [field_case]
    assert officer.get(f"/api/reports/{online_case}").status_code == 404
    assert officer.get(f"/api/reports/{field_case}").status_code == 200
    # the clerk sees both, with the contact, and moves the online one along
    listed = clerk.get("/api/reports", params={"status": "submitted"}).json()["items"]
    assert [r["case_number"] for r in listed] == [online_case, field_case]
    detail = clerk.get(f"/api/reports/{online_case}").json()
    assert detail["contact"]["email"] == "rita@example.org"
    assert detail["allowed_actions"] == ["review"]
    url = f"/api/reports/{online_case}/transition"
    assert clerk.post(url, json={"action": "approve"}, headers=c_csrf).status_code == 409
    assert clerk.post(url, json={"action": "review"}, headers=c_csrf).status_code == 200
    no_note = clerk.post(url, json={"action": "return"}, headers=c_csrf)
    assert no_note.status_code == 422
    assert no_note.json()["detail"][0]["loc"] == ["body", "note"]
    approved = clerk.post(url, json={"action": "approve"}, headers=c_csrf)
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert approved.json()["incident_id"] is not None
    assert (
        clerk.post(url, json={"action": "return", "note": "x"}, headers=c_csrf).status_code == 409
    )
    with engine.connect() as conn:
        rows = conn.execute(select(t.incidents.c.source_key)).scalars().all()
    assert rows == [online_case]
    # the officer cannot review; the queue page is for reviewers
    move = {"action": "review"}
    assert (
        officer.post(f"/api/reports/{field_case}/transition", json=move, headers=o_csrf).status_code
        == 403
    )
    assert officer.get("/reports/queue").status_code == 403
    queue = clerk.get("/reports/queue")
    assert field_case in queue.text
    assert online_case not in queue.text  # approved: not in the submitted tab
    # the audit log names case numbers, never the reporter's contact
    with engine.connect() as conn:
        records = " ".join(conn.execute(select(t.audit_log.c.records)).scalars())
    assert online_case in records
    assert "rita@example.org" not in records
    assert "bicycle" not in records


def _idempotency(html: str) -> str:
    found = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert found, "the field form carries an idempotency key"
    return found.group(1)


def test_tru_and_field_forms(engine: Engine, signed_in_client: Callable[..., TestClient]) -> None:
    clerk = signed_in_client(Role.RECORDS)
    page = clerk.get("/reports/new/telephone")
    assert page.status_code == 200
    assert 'action="/reports/new/telephone"' in page.text
    assert 'name="screening_weapon"' in page.text  # TRU asks the screening questions
    filed = clerk.post("/reports/new/telephone", data={**FORM, "csrf_token": form_csrf(page.text)})
    assert filed.status_code == 201
    assert 'id="case-number">R' in filed.text
    emergency = clerk.post(
        "/reports/new/telephone",
        data={**FORM, "screening_weapon": "yes", "csrf_token": form_csrf(page.text)},
    )
    assert "911" in emergency.text
    assert _count(engine, t.reports) == 1

    officer = signed_in_client(Role.OFFICER)
    form = officer.get("/reports/new/field")
    assert 'name="screening_weapon"' not in form.text  # the officer is the response
    key = _idempotency(form.text)
    data = {k: v for k, v in FORM.items() if not k.startswith("screening_")}
    data |= {"csrf_token": form_csrf(form.text), "idempotency_key": key}
    first = officer.post("/reports/new/field", data=data)
    assert first.status_code == 201
    again = officer.post("/reports/new/field", data=data)  # a retry after a dropped reply
    assert again.status_code == 200
    case = re.search(r'id="case-number">(R[0-9-]+)<', first.text)
    assert case
    assert case.group(1) in again.text
    assert _count(engine, t.reports) == 2
    # a dispatcher takes telephone reports but does not file field reports
    dispatcher = signed_in_client(Role.DISPATCHER)
    assert dispatcher.get("/reports/new/telephone").status_code == 200
    assert dispatcher.get("/reports/new/field").status_code == 403
