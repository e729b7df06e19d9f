"""Shared fixtures.

``engine`` runs a test on SQLite and, when ``SMART_TEST_POSTGRES_URL`` is set, on
PostgreSQL too (a throwaway database per session, emptied between tests). Tests
marked ``realdata`` read ``../shared/data``: they skip with a reason when it is
absent, except under ``CI=true``, where a missing file fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text

from smart_policing.store import make_engine, upgrade
from smart_policing.store.tables import metadata

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
PG_URL = os.environ.get("SMART_TEST_POSTGRES_URL")


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    if not PG_URL:
        pytest.skip("SMART_TEST_POSTGRES_URL is not set")
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"smart_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def _pg_engine(pg_database_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=_backends())
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty store on each configured backend."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
        upgrade(eng)
        yield eng
        eng.dispose()
        return
    eng = request.getfixturevalue("_pg_engine")
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with eng.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    yield eng


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data``; skip (or fail under CI) when absent."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the real data folder {SHARED_DATA} is missing")
        pytest.skip(
            f"real data not found at {SHARED_DATA} (tests marked realdata need ../shared/data)"
        )
    return SHARED_DATA


@pytest.fixture
def real_file(shared_data: Path) -> Callable[[str], Path]:
    """``real_file("baltimore/x.csv.gz")``: a file under ``../shared/data``; a missing
    one fails under CI, else skips."""

    def get(relative: str) -> Path:
        path = shared_data / relative
        if not path.is_file():
            if os.environ.get("CI") == "true":
                pytest.fail(f"CI=true but {path} is missing")
            pytest.skip(f"{path} not found")
        return path

    return get
