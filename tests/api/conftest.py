"""Web-test fixtures."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from smart_policing.security.roles import Role
from webhelpers import add_account, make_app, sign_in


@pytest.fixture
def signed_in_client(engine: Engine) -> Callable[..., TestClient]:
    """``factory(role, ...)`` -> a client signed in as a fresh user with those roles."""
    app = make_app(engine)
    counter = iter(range(1000))

    def factory(*roles: Role) -> TestClient:
        name = f"user{next(counter)}"
        add_account(engine, name, *roles)
        client = TestClient(app)
        assert sign_in(client, name) == 303
        return client

    return factory
