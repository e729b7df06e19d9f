"""Authentication, authorisation and CSRF for every route.

Every route declares who may call it with exactly one access dependency:

* ``allow(Role.ANALYST, ...)`` — signed-in users holding one of these roles;
* ``signed_in()`` — any signed-in user (any staff role);
* ``anonymous()`` — anyone, including visitors who are not signed in.

``check_route_declarations(app)`` refuses to build an app with a route that
declares nothing (default deny), and the test suite walks every route x every
role against an expected matrix.

A request is signed in by the session cookie (pages) or an
``Authorization: Bearer spt_...`` header (API clients). Unsafe methods
(POST, PUT, PATCH, DELETE) authenticated by the cookie must carry the session's
CSRF token in the ``csrf_token`` form field or the ``X-CSRF-Token`` header; bearer
requests are exempt because browsers never attach the header by themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from starlette.routing import BaseRoute, Mount

from smart_policing.security.policy import SecurityPolicy
from smart_policing.security.roles import STAFF_ROLES, Role, format_roles
from smart_policing.security.tokens import constant_time_equal
from smart_policing.store.users import SessionInfo, User, load_api_token, load_session

__all__ = [
    "SESSION_COOKIE",
    "Access",
    "AuthError",
    "Principal",
    "allow",
    "anonymous",
    "check_route_declarations",
    "iter_routes",
    "route_access",
    "signed_in",
]

SESSION_COOKIE = "sp_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a user (by session or token) or an anonymous visitor."""

    user: User | None
    via: str  # "session", "token" or "anonymous"
    csrf_token: str | None = None

    @property
    def roles(self) -> frozenset[Role]:
        return self.user.roles if self.user else frozenset({Role.PUBLIC})

    @property
    def name(self) -> str:
        return self.user.username if self.user else "anonymous"

    @property
    def roles_text(self) -> str:
        return format_roles(self.roles)

    def has_any(self, roles: frozenset[Role]) -> bool:
        return bool(self.roles & roles)


ANONYMOUS = Principal(user=None, via="anonymous")


class AuthError(Exception):
    """Refused: 401 (not signed in), 403 (role or CSRF) or 429 (rate limit)."""

    def __init__(self, status: int, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def resolve_principal(request: Request) -> Principal:
    """The caller of ``request`` (cached on the request)."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    engine: Engine = request.app.state.engine
    policy: SecurityPolicy = request.app.state.settings.security
    principal = ANONYMOUS
    info: SessionInfo | None = None
    token = _bearer(request)
    if token is not None:
        info = load_api_token(engine, token)
        if info is None:
            raise AuthError(401, "the bearer token is unknown, expired or revoked")
        principal = Principal(user=info.user, via="token")
    elif cookie := request.cookies.get(SESSION_COOKIE):
        info = load_session(engine, cookie, policy=policy)
        if info is not None:
            principal = Principal(user=info.user, via="session", csrf_token=info.csrf_token)
    request.state.principal = principal
    return principal


async def _check_csrf(request: Request, principal: Principal) -> None:
    if request.method not in _UNSAFE or principal.via != "session":
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    expected = principal.csrf_token or ""
    if not sent or not expected or not constant_time_equal(sent, expected):
        raise AuthError(403, "missing or wrong CSRF token; reload the page and try again")


class Access:
    """An access declaration, used as a route dependency (see module docstring)."""

    def __init__(
        self, roles: frozenset[Role], *, anonymous: bool = False, rate: str | None = None
    ) -> None:
        self.roles = roles
        self.anonymous = anonymous
        #: which policy rate limits anonymous callers: "anonymous", "login" or None
        self.rate = rate

    def __repr__(self) -> str:
        if self.anonymous:
            return "anonymous()"
        return f"allow({', '.join(sorted(r.value for r in self.roles))})"

    async def __call__(self, request: Request) -> Principal:
        principal = resolve_principal(request)
        if self.anonymous:
            if self.rate == "login" or (self.rate == "anonymous" and principal.user is None):
                policy: SecurityPolicy = request.app.state.settings.security
                rate = policy.login_rate if self.rate == "login" else policy.anonymous_rate
                # password guesses share one budget across the form and the token API
                scope = "login" if self.rate == "login" else f"anonymous:{request.url.path}"
                request.app.state.rate_limiter.hit(request, scope, rate)
            await _check_csrf(request, principal)
            return principal
        if principal.user is None:
            raise AuthError(401, "sign in first")
        if not principal.has_any(self.roles):
            needed = ", ".join(sorted(r.value for r in self.roles))
            raise AuthError(
                403,
                f"signed in as {principal.name} ({principal.roles_text}); "
                f"this needs one of: {needed}",
            )
        await _check_csrf(request, principal)
        return principal


def allow(*roles: Role) -> Access:
    """Signed-in users holding any of ``roles``."""
    if not roles or Role.PUBLIC in roles:
        raise ValueError("allow() needs staff roles; use anonymous() for public routes")
    return Access(frozenset(roles))


def signed_in() -> Access:
    """Any signed-in user."""
    return Access(STAFF_ROLES)


def anonymous(rate: str | None = "anonymous") -> Access:
    """Anyone, signed in or not (login, health, the public report form).

    ``rate`` names the policy rate limit applied per client address: ``"anonymous"``
    (to visitors who are not signed in), ``"login"`` (to everyone: password and
    token endpoints) or None (health probe only).
    """
    if rate not in ("anonymous", "login", None):
        raise ValueError(f"unknown rate limit {rate!r}")
    return Access(frozenset(Role), anonymous=True, rate=rate)


def route_access(route: APIRoute) -> Access | None:
    """The access declaration of ``route`` (None if it declares none)."""
    found = [dep.call for dep in route.dependant.dependencies if isinstance(dep.call, Access)]
    found += [
        d.dependency
        for d in route.dependencies
        if isinstance(d.dependency, Access) and all(d.dependency is not f for f in found)
    ]
    if len(found) > 1:
        raise RuntimeError(f"route {route.path} declares access more than once: {found}")
    return found[0] if found else None


#: mounted sub-applications that serve files to anyone (styles, scripts, images)
PUBLIC_MOUNTS = frozenset({"/static"})


def iter_routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, descending into included routers (FastAPI keeps them nested)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            prefix = getattr(getattr(route, "include_context", None), "prefix", "")
            if prefix:
                raise RuntimeError("routers are included without a prefix; put paths in routes")
            yield from iter_routes(inner.routes)
        else:
            yield route


def check_route_declarations(app: FastAPI) -> None:
    """Default deny: raise if any route has no access declaration."""
    missing: list[str] = []
    for route in iter_routes(app.routes):
        if isinstance(route, APIRoute):
            if route_access(route) is None:
                missing.append(f"{sorted(route.methods or ())} {route.path}")
        elif isinstance(route, Mount):
            if route.path not in PUBLIC_MOUNTS:
                missing.append(f"mount {route.path}")
        else:
            missing.append(f"{type(route).__name__} {getattr(route, 'path', route)!r}")
    if missing:
        raise RuntimeError(
            "routes without an access declaration (add allow(...), signed_in() or "
            "anonymous()): " + "; ".join(missing)
        )


def principal_of(request: Request) -> Principal:
    """The principal an access dependency already resolved for ``request``."""
    principal: Any = getattr(request.state, "principal", None)
    return principal if isinstance(principal, Principal) else ANONYMOUS
