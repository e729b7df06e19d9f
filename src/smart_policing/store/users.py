"""Users, browser sessions and API tokens (repository over the security tables).

Login rules live here because they are state changes: a wrong password counts a
failure, the ``lockout_threshold``-th consecutive failure locks the account for
``lockout_minutes``, a success resets the count. Sessions end after
``session_idle_minutes`` without use or ``session_max_hours`` after login.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Engine, insert, select, update

from smart_policing.security.passwords import (
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)
from smart_policing.security.policy import SecurityPolicy
from smart_policing.security.roles import STAFF_ROLES, Role, format_roles, parse_roles
from smart_policing.security.tokens import API_TOKEN_PREFIX, new_secret, token_digest
from smart_policing.store import tables as t

__all__ = [
    "LoginOutcome",
    "LoginResult",
    "SessionInfo",
    "User",
    "UserError",
    "add_user",
    "authenticate",
    "create_api_token",
    "create_session",
    "get_user",
    "list_users",
    "load_api_token",
    "load_session",
    "revoke_session",
    "set_active",
    "set_password",
]

#: a session's ``last_seen_at`` is written at most this often (saves a write per request)
_TOUCH_EVERY = timedelta(seconds=60)


class UserError(ValueError):
    """A user-management request that cannot be carried out (message says why)."""


@dataclass(frozen=True, slots=True)
class User:
    """A user account as the app sees it (never the password hash)."""

    id: int
    username: str
    full_name: str | None
    roles: frozenset[Role]
    active: bool
    locked_until: datetime | None
    created_at: datetime
    last_login_at: datetime | None


def _now() -> datetime:
    return datetime.now(UTC)


def _user(row: object) -> User:
    m = row._mapping  # type: ignore[attr-defined]
    return User(
        id=m["id"],
        username=m["username"],
        full_name=m["full_name"],
        roles=parse_roles(m["roles"]),
        active=bool(m["active"]),
        locked_until=m["locked_until"],
        created_at=m["created_at"],
        last_login_at=m["last_login_at"],
    )


_USER_COLUMNS = (
    t.users.c.id,
    t.users.c.username,
    t.users.c.full_name,
    t.users.c.roles,
    t.users.c.active,
    t.users.c.locked_until,
    t.users.c.created_at,
    t.users.c.last_login_at,
)


def _valid_username(username: str) -> str:
    name = username.strip()
    if not (2 <= len(name) <= 64) or not all(c.isalnum() or c in "._-@" for c in name):
        raise UserError(
            f"user name {username!r} must be 2-64 letters, digits or . _ - @ (no spaces)"
        )
    return name.lower()


def add_user(
    engine: Engine,
    username: str,
    password: str,
    roles: frozenset[Role],
    *,
    policy: SecurityPolicy,
    full_name: str | None = None,
) -> User:
    """Create an active account; ``UserError`` if the name is taken or input is bad."""
    name = _valid_username(username)
    if not roles:
        raise UserError("a user needs at least one role")
    if Role.PUBLIC in roles or not roles <= STAFF_ROLES:
        raise UserError("'public' is the anonymous visitor's role, not an account's")
    try:
        check_password_policy(password, username=name, min_length=policy.min_password_length)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    now = _now()
    with engine.begin() as conn:
        if conn.execute(select(t.users.c.id).where(t.users.c.username == name)).first():
            raise UserError(f"user {name!r} already exists")
        conn.execute(
            insert(t.users).values(
                username=name,
                full_name=full_name,
                roles=format_roles(roles),
                password_hash=hash_password(password),
                active=True,
                failed_logins=0,
                created_at=now,
                password_changed_at=now,
            )
        )
    user = get_user(engine, name)
    assert user is not None
    return user


def get_user(engine: Engine, username: str) -> User | None:
    """The account called ``username`` (case-insensitive), or None."""
    with engine.connect() as conn:
        row = conn.execute(
            select(*_USER_COLUMNS).where(t.users.c.username == username.strip().lower())
        ).first()
    return _user(row) if row else None


def list_users(engine: Engine) -> list[User]:
    """Every account, by user name."""
    with engine.connect() as conn:
        rows = conn.execute(select(*_USER_COLUMNS).order_by(t.users.c.username)).all()
    return [_user(r) for r in rows]


def _require(engine: Engine, username: str) -> User:
    user = get_user(engine, username)
    if user is None:
        raise UserError(f"no user {username!r}")
    return user


def set_active(engine: Engine, username: str, active: bool) -> User:
    """Enable or disable an account; disabling also ends its sessions and tokens."""
    user = _require(engine, username)
    now = _now()
    with engine.begin() as conn:
        conn.execute(update(t.users).where(t.users.c.id == user.id).values(active=active))
        if not active:
            for table in (t.sessions, t.api_tokens):
                conn.execute(
                    update(table)
                    .where(table.c.user_id == user.id, table.c.revoked_at.is_(None))
                    .values(revoked_at=now)
                )
    return _require(engine, username)


def set_password(engine: Engine, username: str, password: str, *, policy: SecurityPolicy) -> None:
    """Set a new password, unlock the account and end its sessions."""
    user = _require(engine, username)
    try:
        check_password_policy(
            password, username=user.username, min_length=policy.min_password_length
        )
    except ValueError as exc:
        raise UserError(str(exc)) from None
    now = _now()
    with engine.begin() as conn:
        conn.execute(
            update(t.users)
            .where(t.users.c.id == user.id)
            .values(
                password_hash=hash_password(password),
                password_changed_at=now,
                failed_logins=0,
                locked_until=None,
            )
        )
        conn.execute(
            update(t.sessions)
            .where(t.sessions.c.user_id == user.id, t.sessions.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )


class LoginOutcome(StrEnum):
    """Why a login succeeded or failed (the user is told only ok/failed/locked)."""

    OK = "ok"
    BAD_CREDENTIALS = "bad-credentials"
    LOCKED = "locked"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class LoginResult:
    """The outcome of a password check."""

    outcome: LoginOutcome
    user: User | None = None
    locked_until: datetime | None = None


def authenticate(
    engine: Engine,
    username: str,
    password: str,
    *,
    policy: SecurityPolicy,
    now: datetime | None = None,
) -> LoginResult:
    """Check a password, applying lock-out; see the module docstring."""
    now = now or _now()
    name = username.strip().lower()
    with engine.begin() as conn:
        row = conn.execute(
            select(*_USER_COLUMNS, t.users.c.password_hash, t.users.c.failed_logins).where(
                t.users.c.username == name
            )
        ).first()
        if row is None:
            verify_password(None, password)  # same cost as a real check
            return LoginResult(LoginOutcome.BAD_CREDENTIALS)
        user = _user(row)
        stored_hash: str = row.password_hash
        if user.locked_until is not None and user.locked_until > now:
            verify_password(None, password)
            return LoginResult(LoginOutcome.LOCKED, locked_until=user.locked_until)
        if not verify_password(stored_hash, password):
            failures = int(row.failed_logins) + 1
            values: dict[str, object] = {"failed_logins": failures}
            locked_until = None
            if failures >= policy.lockout_threshold:
                locked_until = now + timedelta(minutes=policy.lockout_minutes)
                values = {"failed_logins": 0, "locked_until": locked_until}
            conn.execute(update(t.users).where(t.users.c.id == user.id).values(**values))
            if locked_until is not None:
                return LoginResult(LoginOutcome.LOCKED, locked_until=locked_until)
            return LoginResult(LoginOutcome.BAD_CREDENTIALS)
        if not user.active:
            return LoginResult(LoginOutcome.DISABLED)
        values = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
        if needs_rehash(stored_hash):
            values["password_hash"] = hash_password(password)
        conn.execute(update(t.users).where(t.users.c.id == user.id).values(**values))
    return LoginResult(LoginOutcome.OK, user=user)


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A live session or API token: whose it is and its CSRF secret (sessions only)."""

    user: User
    csrf_token: str | None
    expires_at: datetime


def create_session(
    engine: Engine, user: User, *, policy: SecurityPolicy, now: datetime | None = None
) -> tuple[str, SessionInfo]:
    """Start a session; returns the cookie token (shown once) and the session."""
    now = now or _now()
    token = new_secret()
    csrf = new_secret()
    expires = now + timedelta(hours=policy.session_max_hours)
    with engine.begin() as conn:
        conn.execute(
            insert(t.sessions).values(
                token_digest=token_digest(token),
                user_id=user.id,
                csrf_token=csrf,
                created_at=now,
                last_seen_at=now,
                expires_at=expires,
            )
        )
    return token, SessionInfo(user=user, csrf_token=csrf, expires_at=expires)


def load_session(
    engine: Engine, token: str, *, policy: SecurityPolicy, now: datetime | None = None
) -> SessionInfo | None:
    """The live session for a cookie token, or None if unknown, ended or idle too long."""
    now = now or _now()
    digest = token_digest(token)
    with engine.connect() as conn:
        row = conn.execute(
            select(
                *_USER_COLUMNS,
                t.sessions.c.csrf_token,
                t.sessions.c.last_seen_at,
                t.sessions.c.expires_at,
                t.sessions.c.revoked_at,
            )
            .join(t.users, t.users.c.id == t.sessions.c.user_id)
            .where(t.sessions.c.token_digest == digest)
        ).first()
    if row is None or row.revoked_at is not None or not row.active:
        return None
    idle_limit = row.last_seen_at + timedelta(minutes=policy.session_idle_minutes)
    if now >= row.expires_at or now >= idle_limit:
        return None
    if now - row.last_seen_at >= _TOUCH_EVERY:
        with engine.begin() as conn:
            conn.execute(
                update(t.sessions)
                .where(t.sessions.c.token_digest == digest)
                .values(last_seen_at=now)
            )
    return SessionInfo(user=_user(row), csrf_token=row.csrf_token, expires_at=row.expires_at)


def revoke_session(engine: Engine, token: str) -> None:
    """End a session (logout)."""
    with engine.begin() as conn:
        conn.execute(
            update(t.sessions)
            .where(t.sessions.c.token_digest == token_digest(token))
            .values(revoked_at=_now())
        )


def create_api_token(
    engine: Engine,
    username: str,
    name: str,
    *,
    policy: SecurityPolicy,
    days: int | None = None,
    now: datetime | None = None,
) -> tuple[str, datetime]:
    """A new bearer token for ``username``; returns it (shown once) and its expiry."""
    user = _require(engine, username)
    if not user.active:
        raise UserError(f"user {user.username!r} is disabled")
    now = now or _now()
    token = new_secret(API_TOKEN_PREFIX)
    expires = now + timedelta(days=days or policy.token_days)
    with engine.begin() as conn:
        conn.execute(
            insert(t.api_tokens).values(
                token_digest=token_digest(token),
                user_id=user.id,
                name=name[:128],
                created_at=now,
                expires_at=expires,
            )
        )
    return token, expires


def load_api_token(
    engine: Engine, token: str, *, now: datetime | None = None
) -> SessionInfo | None:
    """The live user behind a bearer token, or None if unknown, expired or revoked."""
    now = now or _now()
    digest = token_digest(token)
    with engine.connect() as conn:
        row = conn.execute(
            select(
                *_USER_COLUMNS,
                t.api_tokens.c.expires_at,
                t.api_tokens.c.revoked_at,
                t.api_tokens.c.last_used_at,
            )
            .join(t.users, t.users.c.id == t.api_tokens.c.user_id)
            .where(t.api_tokens.c.token_digest == digest)
        ).first()
    if row is None or row.revoked_at is not None or not row.active or now >= row.expires_at:
        return None
    if row.last_used_at is None or now - row.last_used_at >= _TOUCH_EVERY:
        with engine.begin() as conn:
            conn.execute(
                update(t.api_tokens)
                .where(t.api_tokens.c.token_digest == digest)
                .values(last_used_at=now)
            )
    return SessionInfo(user=_user(row), csrf_token=None, expires_at=row.expires_at)
