"""Store basics on every backend: migrations, UTC timestamps, bulk insert-ignore."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import polars as pl
import pytest
from sqlalchemy import Engine, inspect, select

from smart_policing.store import current_revision, head_revision, make_engine, normalise_url
from smart_policing.store import tables as t
from smart_policing.store.bulk import insert_ignore
from smart_policing.store.imports import start_import


def test_schema_is_at_head_with_every_table(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    assert set(t.metadata.tables) <= set(inspect(engine).get_table_names())


def test_timestamps_round_trip_as_aware_utc(engine: Engine) -> None:
    local = datetime(2025, 8, 24, 0, 7, 6, 810000, tzinfo=timezone(timedelta(hours=-4)))
    imp = start_import(engine, format_name="t", source="t", file_name="f", sha256="0" * 64, size=1)
    with engine.begin() as conn:
        conn.execute(
            t.calls.insert().values(
                source="t",
                call_id="1",
                received_at=local,
                call_type_code="X",
                source_channel="911",
                self_initiated=False,
                reopened=False,
                import_id=imp,
            )
        )
        got = conn.execute(select(t.calls.c.received_at)).scalar_one()
    assert got == local
    assert got.tzinfo == UTC


def test_naive_timestamps_are_refused(engine: Engine) -> None:
    imp = start_import(engine, format_name="t", source="t", file_name="f", sha256="0" * 64, size=1)
    with pytest.raises(Exception, match="timezone-aware"), engine.begin() as conn:
        conn.execute(
            t.calls.insert().values(
                source="t",
                call_id="1",
                received_at=datetime(2025, 1, 1),
                call_type_code="X",
                source_channel="911",
                self_initiated=False,
                reopened=False,
                import_id=imp,
            )
        )


def test_bulk_insert_ignore_counts_only_new_rows(engine: Engine) -> None:
    imp = start_import(engine, format_name="t", source="t", file_name="f", sha256="0" * 64, size=1)
    frame = pl.DataFrame(
        {
            "source": ["s", "s", "s"],
            "call_id": ["a", "b", "a"],  # "a" twice in one batch
            "received_at": [datetime(2025, 1, 1, tzinfo=UTC)] * 3,
            "call_type_code": ["X", "Y", "Z"],
            "source_channel": ["911"] * 3,
            "self_initiated": [False, True, False],
            "reopened": [False] * 3,
            "import_id": [imp] * 3,
        }
    )
    with engine.begin() as conn:
        assert insert_ignore(conn, t.calls, frame) == 2
        assert insert_ignore(conn, t.calls, frame) == 0
        rows = conn.execute(
            select(t.calls.c.call_id, t.calls.c.call_type_code, t.calls.c.self_initiated)
        ).all()
    assert sorted(tuple(r) for r in rows) == [("a", "X", False), ("b", "Y", True)]


def test_url_normalisation(tmp_path: object) -> None:
    assert normalise_url("postgresql://u@h/db").startswith("postgresql+psycopg://")
    eng = make_engine("sqlite://")
    assert eng.dialect.name == "sqlite"
