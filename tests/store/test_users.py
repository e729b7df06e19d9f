"""Accounts, lock-out, sessions and API tokens on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from smart_policing.security.policy import SecurityPolicy
from smart_policing.security.roles import Role, parse_roles
from smart_policing.store import tables as t
from smart_policing.store.users import (
    LoginOutcome,
    UserError,
    add_user,
    authenticate,
    create_api_token,
    create_session,
    list_users,
    load_api_token,
    load_session,
    revoke_session,
    set_active,
    set_password,
)

POLICY = SecurityPolicy()
PW = "correct horse battery staple"
T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_add_and_list_users_never_expose_the_password(engine: Engine) -> None:
    user = add_user(
        engine, "J.Smith", PW, frozenset({Role.ANALYST, Role.SUPERVISOR}), policy=POLICY
    )
    assert user.username == "j.smith"
    assert user.roles == {Role.ANALYST, Role.SUPERVISOR}
    assert [u.username for u in list_users(engine)] == ["j.smith"]
    with engine.connect() as conn:
        stored = conn.execute(select(t.users.c.password_hash, t.users.c.roles)).one()
    assert stored.password_hash.startswith("$argon2id$")
    assert PW not in stored.password_hash
    assert stored.roles == "analyst,supervisor"


@pytest.mark.parametrize(
    ("name", "password", "roles", "message"),
    [
        ("ok", "short", {Role.ANALYST}, "at least 12 characters"),
        ("analyst-one", "analyst-one", {Role.ANALYST}, "at least 12|user name"),
        ("has space", PW, {Role.ANALYST}, "no spaces"),
        ("nobody", PW, set(), "at least one role"),
        ("visitor", PW, {Role.PUBLIC}, "anonymous"),
    ],
)
def test_bad_accounts_are_refused_with_a_reason(
    engine: Engine, name: str, password: str, roles: set[Role], message: str
) -> None:
    with pytest.raises(UserError, match=message):
        add_user(engine, name, password, frozenset(roles), policy=POLICY)


def test_duplicate_user_names_are_refused_case_insensitively(engine: Engine) -> None:
    add_user(engine, "ana", PW, frozenset({Role.ANALYST}), policy=POLICY)
    with pytest.raises(UserError, match="already exists"):
        add_user(engine, "ANA", PW, frozenset({Role.ANALYST}), policy=POLICY)


def test_unknown_roles_are_named() -> None:
    with pytest.raises(ValueError, match=r"unknown role 'sheriff'.*known roles: admin"):
        parse_roles("analyst,sheriff")
    assert parse_roles(" Internal-Affairs ,auditor") == {Role.INTERNAL_AFFAIRS, Role.AUDITOR}


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(engine: Engine) -> None:
    add_user(engine, "ana", PW, frozenset({Role.ANALYST}), policy=POLICY)
    outcomes = [
        authenticate(engine, "ana", "wrong password!", policy=POLICY, now=T0).outcome
        for _ in range(5)
    ]
    assert outcomes == [LoginOutcome.BAD_CREDENTIALS] * 4 + [LoginOutcome.LOCKED]
    # while locked even the right password is refused
    locked = authenticate(engine, "ana", PW, policy=POLICY, now=T0 + timedelta(minutes=14))
    assert locked.outcome is LoginOutcome.LOCKED
    assert locked.locked_until == T0 + timedelta(minutes=15)
    ok = authenticate(engine, "ana", PW, policy=POLICY, now=T0 + timedelta(minutes=15))
    assert ok.outcome is LoginOutcome.OK


def test_a_success_resets_the_failure_count(engine: Engine) -> None:
    add_user(engine, "ana", PW, frozenset({Role.ANALYST}), policy=POLICY)
    for _ in range(4):
        authenticate(engine, "ana", "nope nope nope", policy=POLICY, now=T0)
    assert authenticate(engine, "ana", PW, policy=POLICY, now=T0).outcome is LoginOutcome.OK
    for _ in range(4):
        r = authenticate(engine, "ana", "nope nope nope", policy=POLICY, now=T0)
        assert r.outcome is LoginOutcome.BAD_CREDENTIALS


def test_unknown_users_and_disabled_accounts_cannot_sign_in(engine: Engine) -> None:
    add_user(engine, "ana", PW, frozenset({Role.ANALYST}), policy=POLICY)
    assert authenticate(engine, "bob", PW, policy=POLICY).outcome is LoginOutcome.BAD_CREDENTIALS
    set_active(engine, "ana", False)
    assert authenticate(engine, "ana", PW, policy=POLICY).outcome is LoginOutcome.DISABLED


def test_sessions_end_when_idle_too_long_or_too_old(engine: Engine) -> None:
    user = add_user(engine, "ana", PW, frozenset({Role.ANALYST}), policy=POLICY)
    token, info = create_session(engine, user, policy=POLICY, now=T0)
    assert info.expires_at == T0 + timedelta(hours=12)
    # used every 20 minutes it stays alive ...
    at = T0
    for _ in range(35):
        at += timedelta(minutes=20)
        if at >= T0 + timedelta(hours=12):
            break
        assert load_session(engine, token, policy=POLICY, now=at) is not None
    # ... until 12 hours after sign-in
    assert load_session(engine, token, policy=POLICY, now=T0 + timedelta(hours=12)) is None
    # a new session left alone for 30 minutes is gone
    token2, _ = create_session(engine, user, policy=POLICY, now=T0)
    assert load_session(engine, token2, policy=POLICY, now=T0 + timedelta(minutes=29)) is not None
    assert load_session(engine, token2, policy=POLICY, now=T0 + timedelta(minutes=59)) is None


def test_logout_disable_and_password_change_end_sessions(engine: Engine) -> None:
    user = add_user(engine, "ana", PW, frozenset({Role.ANALYST}), policy=POLICY)
    a, _ = create_session(engine, user, policy=POLICY)
    b, _ = create_session(engine, user, policy=POLICY)
    revoke_session(engine, a)
    assert load_session(engine, a, policy=POLICY) is None
    assert load_session(engine, b, policy=POLICY) is not None
    set_password(engine, "ana", "another long passphrase", policy=POLICY)
    assert load_session(engine, b, policy=POLICY) is None
    c, _ = create_session(engine, user, policy=POLICY)
    set_active(engine, "ana", False)
    assert load_session(engine, c, policy=POLICY) is None


def test_api_tokens_are_stored_as_digests_and_expire(engine: Engine) -> None:
    add_user(engine, "ana", PW, frozenset({Role.ANALYST}), policy=POLICY)
    token, expires = create_api_token(engine, "ana", "etl", policy=POLICY, days=7, now=T0)
    assert token.startswith("spt_")
    assert expires == T0 + timedelta(days=7)
    with engine.connect() as conn:
        assert token not in str(conn.execute(select(t.api_tokens)).all())
    info = load_api_token(engine, token, now=T0 + timedelta(days=6))
    assert info is not None
    assert info.user.username == "ana"
    assert load_api_token(engine, token, now=T0 + timedelta(days=7)) is None
    assert load_api_token(engine, token + "x", now=T0) is None
    set_active(engine, "ana", False)
    assert load_api_token(engine, token, now=T0) is None
