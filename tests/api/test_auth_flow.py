"""Signing in and out, CSRF, lock-out, rate limits, bearer tokens and the audit trail."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from smart_policing.security.roles import Role
from smart_policing.store.audit import recent_audit, verify_audit
from webhelpers import PASSWORD, add_account, form_csrf, make_app, sign_in


def test_sign_in_sets_a_hardened_session_cookie_and_sign_out_ends_it(engine: Engine) -> None:
    add_account(engine, "ana", Role.ANALYST)
    client = TestClient(make_app(engine))
    page = client.get("/login")
    reply = client.post(
        "/login",
        data={
            "username": "ANA",
            "password": PASSWORD,
            "csrf_token": form_csrf(page.text),
            "next": "/records/incidents",
        },
        follow_redirects=False,
    )
    assert reply.status_code == 303
    assert reply.headers["location"] == "/records/incidents"
    cookie = next(h for h in reply.headers.get_list("set-cookie") if h.startswith("sp_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Max-Age=43200" in cookie
    assert "Secure" not in cookie  # plain http in this test; see the next test
    home = client.get("/")
    assert home.status_code == 200
    # signing out needs the page's CSRF token
    refused = client.post("/logout", follow_redirects=False)
    assert refused.status_code == 403
    token = home.text.split('data-csrf="')[1].split('"')[0]
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert out.headers["location"] == "/login"
    again = client.get("/", follow_redirects=False)
    assert again.status_code == 303


def test_the_cookie_is_secure_when_the_policy_says_so(engine: Engine) -> None:
    add_account(engine, "ana", Role.ANALYST)
    client = TestClient(make_app(engine, cookie_secure=True), base_url="https://testserver")
    page = client.get("/login")
    reply = client.post(
        "/login",
        data={"username": "ana", "password": PASSWORD, "csrf_token": form_csrf(page.text)},
        follow_redirects=False,
    )
    assert "Secure" in reply.headers["set-cookie"]


def test_a_login_post_without_the_form_token_is_refused(engine: Engine) -> None:
    add_account(engine, "ana", Role.ANALYST)
    client = TestClient(make_app(engine))
    reply = client.post(
        "/login",
        data={"username": "ana", "password": PASSWORD, "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert reply.status_code == 403
    assert "sp_session" not in reply.headers.get("set-cookie", "")


def test_wrong_passwords_lock_the_account_and_say_so(engine: Engine) -> None:
    add_account(engine, "ana", Role.ANALYST)
    client = TestClient(make_app(engine))
    statuses = [sign_in(client, "ana", "not the password") for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 423]
    assert sign_in(client, "ana") == 423  # the right password while locked
    page = client.get("/login")
    reply = client.post(
        "/login",
        data={"username": "ana", "password": PASSWORD, "csrf_token": form_csrf(page.text)},
    )
    assert "locked for 15 minutes" in reply.text


def test_login_attempts_are_rate_limited_per_client(engine: Engine) -> None:
    add_account(engine, "ana", Role.ANALYST)
    client = TestClient(make_app(engine, login_rate="3/minute"))
    statuses = [sign_in(client, "ana", "wrong wrong wrong") for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    api = client.post("/api/auth/token", json={"username": "ana", "password": PASSWORD})
    assert api.status_code == 429
    assert int(api.headers["retry-after"]) >= 1


def test_anonymous_pages_are_rate_limited(engine: Engine) -> None:
    client = TestClient(make_app(engine, anonymous_rate="5/minute"))
    statuses = [client.get("/login").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]


def test_the_next_parameter_cannot_send_users_to_another_site(engine: Engine) -> None:
    add_account(engine, "ana", Role.ANALYST)
    client = TestClient(make_app(engine))
    for target in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
        client.cookies.clear()
        page = client.get("/login")
        reply = client.post(
            "/login",
            data={
                "username": "ana",
                "password": PASSWORD,
                "csrf_token": form_csrf(page.text),
                "next": target,
            },
            follow_redirects=False,
        )
        assert reply.headers["location"] == "/"


def test_bearer_tokens_for_api_clients(engine: Engine) -> None:
    add_account(engine, "ana", Role.ANALYST)
    client = TestClient(make_app(engine))
    issued = client.post(
        "/api/auth/token", json={"username": "ana", "password": PASSWORD, "name": "etl"}
    )
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["token_type"] == "bearer"
    assert body["roles"] == ["analyst"]
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    me = client.get("/api/me", headers=headers)
    assert me.json() == {"username": "ana", "full_name": None, "roles": ["analyst"], "via": "token"}
    bad = client.get("/api/me", headers={"Authorization": "Bearer spt_nope"})
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/me").status_code == 401
    wrong = client.post("/api/auth/token", json={"username": "ana", "password": "x"})
    assert wrong.status_code == 401
    # a role without access gets 403 with a reason, not data
    assert client.get("/api/audit", headers=headers).status_code == 403


def test_every_request_leaves_an_audit_row_with_who_what_and_result(engine: Engine) -> None:
    add_account(engine, "ana", Role.ANALYST)
    client = TestClient(make_app(engine))
    assert sign_in(client, "ana", "bad password 1") == 401
    assert sign_in(client, "ana") == 303
    assert client.get("/api/incidents?district=CENTRAL").status_code == 200
    assert client.get("/api/audit").status_code == 403
    rows = list(reversed(recent_audit(engine, limit=50)))
    seen = [(r.actor, r.action, r.route, r.result) for r in rows]
    assert ("anonymous", "write", "POST /login", "401") in seen
    assert ("ana", "write", "POST /login", "303") in seen
    assert ("ana", "read", "GET /api/incidents", "200") in seen
    assert ("ana", "read", "GET /api/audit", "403") in seen
    read = next(r for r in rows if r.route == "GET /api/incidents")
    assert json.loads(read.records) == {
        "filters": {"district": "CENTRAL"},
        "ids": [],
        "kind": "incidents",
    }
    failed = next(r for r in rows if r.route == "POST /login" and r.result == "401")
    assert "bad password" not in failed.records  # never a password in the log
    assert json.loads(failed.records)["filters"]["username"] == "ana"
    assert verify_audit(engine).ok


def test_nothing_is_served_when_the_audit_log_cannot_be_written(engine: Engine) -> None:
    add_account(engine, "ana", Role.ANALYST)
    client = TestClient(make_app(engine))
    assert sign_in(client, "ana") == 303
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_log RENAME TO audit_log_away"))
    try:
        reply = client.get("/api/incidents")
        assert reply.status_code == 503
        assert "items" not in reply.text
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_log_away RENAME TO audit_log"))
