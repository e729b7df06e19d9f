"""Stored calls as Polars frames: the same values as reading row by row, on each backend."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from sqlalchemy import Engine, select

from smart_policing.data import builtin_mapping, import_file
from smart_policing.data.synth import generate_cad_calls
from smart_policing.store import tables as t
from smart_policing.store.calls import (
    REPLAY_COLUMNS,
    RESPONSE_COLUMNS,
    load_calls,
    load_response_calls,
)


def test_frames_hold_exactly_the_stored_values(engine: Engine, tmp_path: Path) -> None:
    path = generate_cad_calls(2_000, seed=4, path=tmp_path / "cad.csv")
    import_file(engine, path, builtin_mapping("cad"), timezone="America/New_York")
    response = load_response_calls(engine)
    replay = load_calls(engine)
    assert response.height == replay.height == 2_000
    assert response.schema == pl.Schema(RESPONSE_COLUMNS)
    assert tuple(replay.columns) == REPLAY_COLUMNS
    # the slow, obvious read: SQLAlchemy's own types, row by row
    names = list(RESPONSE_COLUMNS)
    with engine.connect() as conn:
        rows = conn.execute(
            select(*(t.calls.c[n] for n in names)).order_by(t.calls.c.received_at, t.calls.c.id)
        ).all()
    assert response.rows() == [tuple(r) for r in rows]
    assert replay.select(REPLAY_COLUMNS).rows() == response.select(REPLAY_COLUMNS).rows()
    # fractional seconds survive (the export has milliseconds)
    assert any(v.microsecond for v in response.get_column("dispatched_at").drop_nulls())
