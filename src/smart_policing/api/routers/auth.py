"""Signing in and out (pages) and bearer tokens (API)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from smart_policing.api.audit import note_records
from smart_policing.api.deps import EngineDep, SettingsDep
from smart_policing.api.pages import render
from smart_policing.api.security import (
    SESSION_COOKIE,
    AuthError,
    Principal,
    anonymous,
    signed_in,
)
from smart_policing.security.tokens import constant_time_equal, new_secret
from smart_policing.settings import Settings
from smart_policing.store.users import (
    LoginOutcome,
    authenticate,
    create_api_token,
    create_session,
    revoke_session,
)

__all__ = ["router"]

router = APIRouter()

LOGIN_CSRF_COOKIE = "sp_login_csrf"


def _secure(request: Request, settings: Settings) -> bool:
    flag = settings.security.cookie_secure
    return request.url.scheme == "https" if flag is None else flag


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect a signed-in user to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_page(
    request: Request, settings: Settings, *, next_path: str, error: str | None, status: int
) -> HTMLResponse:
    token = new_secret()
    page = render(
        request,
        "login.html",
        {"login_csrf": token, "next": next_path, "error": error},
        status_code=status,
    )
    page.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request, settings),
        path="/login",
    )
    return page


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(
    request: Request,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(anonymous())],
    next: str = "/",
) -> Response:
    """The sign-in form (signed-in users go straight on)."""
    if who.user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, settings, next_path=_safe_next(next), error=None, status=200)


@router.post("/login", response_class=HTMLResponse, include_in_schema=False)
def login(
    request: Request,
    eng: EngineDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    csrf_token: Annotated[str, Form(max_length=128)],
    _who: Annotated[Principal, Depends(anonymous(rate="login"))],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the password; start a session (cookie) or say why not."""
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    target = _safe_next(next)
    if not expected or not constant_time_equal(expected, csrf_token):
        return _login_page(
            request, settings, next_path=target, error="The form expired; try again.", status=403
        )
    result = authenticate(eng, username, password, policy=settings.security)
    note_records(request, "login", username=username.strip().lower(), outcome=result.outcome)
    if result.outcome is not LoginOutcome.OK or result.user is None:
        message = "Wrong user name or password."
        if result.outcome is LoginOutcome.LOCKED:
            message = (
                "Too many failed attempts: this account is locked for "
                f"{settings.security.lockout_minutes} minutes."
            )
        status = 423 if result.outcome is LoginOutcome.LOCKED else 401
        return _login_page(request, settings, next_path=target, error=message, status=status)
    token, _session = create_session(eng, result.user, policy=settings.security)
    request.state.principal = Principal(user=result.user, via="session")
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.security.session_max_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=_secure(request, settings),
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", include_in_schema=False)
def logout(
    request: Request, eng: EngineDep, _who: Annotated[Principal, Depends(signed_in())]
) -> Response:
    """End the session and return to the sign-in form."""
    if cookie := request.cookies.get(SESSION_COOKIE):
        revoke_session(eng, cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


class TokenRequest(BaseModel):
    """Credentials exchanged for a bearer token."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    name: str = Field("api", min_length=1, max_length=128, description="a label for the token")


class TokenResponse(BaseModel):
    """A new bearer token (shown once) and when it expires."""

    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    username: str
    roles: list[str]


@router.post("/api/auth/token", tags=["auth"])
def issue_token(
    request: Request,
    body: TokenRequest,
    eng: EngineDep,
    settings: SettingsDep,
    _who: Annotated[Principal, Depends(anonymous(rate="login"))],
) -> TokenResponse:
    """Exchange a user name and password for a bearer token (rate-limited, lock-out applies)."""
    result = authenticate(eng, body.username, body.password, policy=settings.security)
    note_records(request, "token", username=body.username.strip().lower(), outcome=result.outcome)
    if result.outcome is LoginOutcome.LOCKED:
        raise AuthError(423, "account locked after repeated failures; try again later")
    if result.outcome is not LoginOutcome.OK or result.user is None:
        raise AuthError(401, "wrong user name or password")
    token, expires = create_api_token(
        eng, result.user.username, body.name, policy=settings.security
    )
    request.state.principal = Principal(user=result.user, via="token")
    return TokenResponse(
        access_token=token,
        expires_at=expires,
        username=result.user.username,
        roles=sorted(r.value for r in result.user.roles),
    )


class Me(BaseModel):
    """The signed-in user."""

    username: str
    full_name: str | None
    roles: list[str]
    via: str


@router.get("/api/me", tags=["auth"])
def me(who: Annotated[Principal, Depends(signed_in())]) -> Me:
    """Who the request is signed in as."""
    assert who.user is not None
    return Me(
        username=who.user.username,
        full_name=who.user.full_name,
        roles=sorted(r.value for r in who.roles),
        via=who.via,
    )
