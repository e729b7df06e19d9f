"""Call records: the per-record interval definitions are the reference the bulk
importer's vectorised flags must agree with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, select

from smart_policing.data import builtin_mapping, import_file
from smart_policing.data.synth import generate_cad_calls
from smart_policing.model import INTERVALS, CallForService
from smart_policing.model.calls import interval_flags
from smart_policing.store import tables as t

T0 = datetime(2025, 8, 24, 4, 7, 6, tzinfo=UTC)


def call(**times: datetime) -> CallForService:
    return CallForService(source="s", call_id="1", received_at=T0, call_type_code="X", **times)


def test_intervals_and_flags_on_a_hand_computed_call() -> None:
    c = call(
        dispatched_at=T0 + timedelta(seconds=160.81),
        en_route_at=T0 + timedelta(seconds=100),  # typed before the dispatch
        on_scene_at=T0 + timedelta(seconds=1005.86),
        cleared_at=T0 + timedelta(hours=30),
    )
    assert c.interval("call_to_dispatch_s") == pytest.approx(160.81)
    assert c.interval("dispatch_to_en_route_s") == pytest.approx(-60.81)
    assert c.interval("call_to_queue_s") is None  # never queued
    values = {iv.name: c.interval(iv.name) for iv in INTERVALS}
    assert interval_flags(values) == ["negative_dispatch_to_en_route_s", "extreme_on_scene_s"]
    with pytest.raises(KeyError, match="unknown interval"):
        c.interval("lunch_break_s")


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        CallForService(
            source="s", call_id="1", received_at=datetime(2025, 1, 1), call_type_code="X"
        )


def test_bulk_flags_equal_the_per_record_reference(engine: Engine, tmp_path: Path) -> None:
    path = generate_cad_calls(4000, seed=3, path=tmp_path / "cad.csv")
    s = import_file(engine, path, builtin_mapping("cad"), timezone="America/New_York")
    assert s.inserted == 4000
    cols = [c for c in CallForService.model_fields if c != "quality_flags"]
    with engine.connect() as conn:
        rows = (
            conn.execute(select(*(t.calls.c[c] for c in cols), t.calls.c.quality_flags))
            .mappings()
            .all()
        )
    checked = 0
    for row in rows:
        record = CallForService(**{c: row[c] for c in cols})
        expected = interval_flags({iv.name: record.interval(iv.name) for iv in INTERVALS})
        stored = [
            f
            for f in (row["quality_flags"] or "").split(",")
            if f.startswith(("negative_", "extreme_"))
        ]
        assert sorted(stored) == sorted(expected), row["call_id"]
        checked += bool(expected)
    assert checked > 0, "the synthetic export injects impossible intervals"
