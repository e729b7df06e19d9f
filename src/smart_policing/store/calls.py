"""Reading stored calls into analysis frames (Polars), for replays, reports and pages.

SQLite keeps timestamps as UTC text (``2025-03-01 14:05:00.000000``); turning a few
hundred thousand of them into Python datetimes one by one is most of a page's wait, so
on SQLite the text is read as is and parsed by Polars in one vectorised step (same
values: UTC, microseconds). PostgreSQL's driver hands over datetimes already.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy import ColumnElement, Engine, String, select, type_coerce

from smart_policing.store import tables as t

__all__ = ["REPLAY_COLUMNS", "RESPONSE_COLUMNS", "load_calls", "load_response_calls"]

_TS = pl.Datetime("us", "UTC")
_SQLITE_TS_FORMAT = "%Y-%m-%d %H:%M:%S%.f"

_REPLAY_SCHEMA: dict[str, pl.DataType] = {
    "call_id": pl.String(),
    "agency": pl.String(),
    "received_at": _TS,
    "dispatched_at": _TS,
    "cleared_at": _TS,
    "call_type_code": pl.String(),
    "priority": pl.Int64(),
    "district": pl.String(),
    "source_channel": pl.String(),
    "self_initiated": pl.Boolean(),
}

REPLAY_COLUMNS: tuple[str, ...] = tuple(_REPLAY_SCHEMA)
"""The stored call columns a replay reads."""

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


def _utc_bound(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone))


def _read(
    engine: Engine,
    schema: dict[str, pl.DataType],
    start: date | None,
    end: date | None,
    timezone: str,
) -> pl.DataFrame:
    """``schema``'s columns of the calls received from local ``start`` to ``end``."""
    c = t.calls
    text_ts = engine.dialect.name == "sqlite"

    def column(name: str) -> ColumnElement[Any]:
        if text_ts and schema[name] == _TS:
            return type_coerce(c.c[name], String()).label(name)
        return c.c[name]

    query = select(*(column(n) for n in schema)).order_by(c.c.received_at, c.c.id)
    if start is not None:
        query = query.where(c.c.received_at >= _utc_bound(start, timezone))
    if end is not None:
        query = query.where(c.c.received_at < _utc_bound(end + timedelta(days=1), timezone))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    data = []
    for (name, dtype), values in zip(schema.items(), columns, strict=True):
        if text_ts and dtype == _TS:
            parsed = pl.Series(name, values, pl.String()).str.to_datetime(
                _SQLITE_TS_FORMAT, time_unit="us", time_zone="UTC"
            )
            data.append(parsed)
        else:
            data.append(pl.Series(name, values, dtype))
    return pl.DataFrame(data)


def load_calls(
    engine: Engine,
    *,
    start: date | None = None,
    end: date | None = None,
    timezone: str = "UTC",
) -> pl.DataFrame:
    """The stored calls (:data:`REPLAY_COLUMNS`) received from local date ``start`` to
    ``end`` (both inclusive, in ``timezone``), oldest first; times in UTC."""
    return _read(engine, _REPLAY_SCHEMA, start, end, timezone)


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
    return _read(engine, RESPONSE_COLUMNS, start, end, timezone)
