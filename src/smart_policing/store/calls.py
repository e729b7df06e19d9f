"""Reading stored calls into analysis frames (Polars), for replays and pages."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import Engine, select

from smart_policing.store import tables as t

__all__ = ["REPLAY_COLUMNS", "RESPONSE_COLUMNS", "load_calls", "load_response_calls"]

REPLAY_COLUMNS: tuple[str, ...] = (
    "call_id",
    "agency",
    "received_at",
    "dispatched_at",
    "cleared_at",
    "call_type_code",
    "priority",
    "district",
    "source_channel",
    "self_initiated",
)
"""The stored call columns a replay reads."""


def _utc_bound(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone))


def load_calls(
    engine: Engine,
    *,
    start: date | None = None,
    end: date | None = None,
    timezone: str = "UTC",
) -> pl.DataFrame:
    """The stored calls (:data:`REPLAY_COLUMNS`) received from local date ``start`` to
    ``end`` (both inclusive, in ``timezone``), oldest first; times in UTC."""
    c = t.calls
    query = select(*(c.c[name] for name in REPLAY_COLUMNS)).order_by(c.c.received_at, c.c.id)
    if start is not None:
        query = query.where(c.c.received_at >= _utc_bound(start, timezone))
    if end is not None:
        query = query.where(c.c.received_at < _utc_bound(end + timedelta(days=1), timezone))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    ts = pl.Datetime("us", "UTC")
    schema: dict[str, pl.DataType] = {
        "call_id": pl.String(),
        "agency": pl.String(),
        "received_at": ts,
        "dispatched_at": ts,
        "cleared_at": ts,
        "call_type_code": pl.String(),
        "priority": pl.Int64(),
        "district": pl.String(),
        "source_channel": pl.String(),
        "self_initiated": pl.Boolean(),
    }
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in REPLAY_COLUMNS]
    return pl.DataFrame(
        {name: list(col) for name, col in zip(REPLAY_COLUMNS, columns, strict=True)},
        schema=schema,
    )


_TS = pl.Datetime("us", "UTC")

RESPONSE_COLUMNS: dict[str, pl.DataType] = {
    "call_id": pl.String(),
    "agency": pl.String(),
    "received_at": _TS,
    "dispatched_at": _TS,
    "acknowledged_at": _TS,
    "en_route_at": _TS,
    "on_scene_at": _TS,
    "cleared_at": _TS,
    "call_type_code": pl.String(),
    "priority": pl.Int64(),
    "district": pl.String(),
    "shift": pl.String(),
    "unit_id": pl.String(),
    "source_channel": pl.String(),
    "self_initiated": pl.Boolean(),
    "call_to_dispatch_s": pl.Float64(),
    "dispatch_to_arrival_s": pl.Float64(),
    "call_to_arrival_s": pl.Float64(),
}
"""The stored call columns (and their frame types) the response-time metrics and the
officer time budget read (``smart_policing.response``)."""


def load_response_calls(
    engine: Engine,
    *,
    start: date | None = None,
    end: date | None = None,
    timezone: str = "UTC",
) -> pl.DataFrame:
    """The stored calls (:data:`RESPONSE_COLUMNS`) received from local date ``start`` to
    ``end`` (both inclusive, in ``timezone``), oldest first; times in UTC, intervals in
    seconds as imported."""
    c = t.calls
    names = list(RESPONSE_COLUMNS)
    query = select(*(c.c[name] for name in names)).order_by(c.c.received_at, c.c.id)
    if start is not None:
        query = query.where(c.c.received_at >= _utc_bound(start, timezone))
    if end is not None:
        query = query.where(c.c.received_at < _utc_bound(end + timedelta(days=1), timezone))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pl.DataFrame(
        {name: list(col) for name, col in zip(names, columns, strict=True)},
        schema=RESPONSE_COLUMNS,
    )
