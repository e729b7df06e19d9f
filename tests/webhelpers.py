"""Helpers for web tests: accounts per role and signing in through the real form."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from smart_policing.api import create_app
from smart_policing.security.policy import SecurityPolicy
from smart_policing.security.roles import Role
from smart_policing.settings import Settings
from smart_policing.store.users import add_user

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
