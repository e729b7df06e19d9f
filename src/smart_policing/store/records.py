"""The records browser's queries: filtered, newest first, keyset-paginated.

Pages are cut by the last row's (timestamp, id) rather than an OFFSET, so page
1,000 costs what page 1 costs on millions of rows; the cursor is opaque to
clients. Date filters are local calendar days in the city's time zone,
inclusive.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Engine, Select, Table, and_, or_, select

from smart_policing.store import tables as t

__all__ = [
    "CALL_COLUMNS",
    "INCIDENT_COLUMNS",
    "CursorError",
    "Page",
    "RecordFilters",
    "browse",
    "decode_cursor",
    "encode_cursor",
    "page_query",
]

#: columns the browser shows and the API returns (no personal data is stored)
INCIDENT_COLUMNS = (
    "id",
    "occurred_at",
    "offence_code",
    "offence_description",
    "weapon",
    "premise",
    "inside_outside",
    "block_address",
    "district",
    "post",
    "neighbourhood",
    "latitude",
    "longitude",
    "victim_count",
    "quality_flags",
)
CALL_COLUMNS = (
    "id",
    "call_id",
    "received_at",
    "dispatched_at",
    "on_scene_at",
    "cleared_at",
    "call_type_code",
    "call_type_text",
    "priority",
    "source_channel",
    "disposition_code",
    "block_address",
    "district",
    "beat",
    "unit_id",
    "call_to_dispatch_s",
    "dispatch_to_arrival_s",
    "call_to_arrival_s",
    "quality_flags",
)

_KINDS: dict[str, tuple[Table, str, tuple[str, ...]]] = {
    "incidents": (t.incidents, "occurred_at", INCIDENT_COLUMNS),
    "calls": (t.calls, "received_at", CALL_COLUMNS),
}

#: equality filters each kind accepts (filter name -> column)
EQUALITY_FILTERS: dict[str, dict[str, str]] = {
    "incidents": {
        "district": "district",
        "offence_code": "offence_code",
        "neighbourhood": "neighbourhood",
        "weapon": "weapon",
    },
    "calls": {
        "district": "district",
        "call_type_code": "call_type_code",
        "priority": "priority",
        "source_channel": "source_channel",
        "disposition_code": "disposition_code",
    },
}


class CursorError(ValueError):
    """A page cursor that this server did not issue."""


@dataclass(frozen=True, slots=True)
class RecordFilters:
    """What to show: local-day range, equality filters, flagged rows only."""

    start: date | None = None
    end: date | None = None
    equals: dict[str, Any] = field(default_factory=dict)
    flagged_only: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    """One page of records, newest first, and the cursor of the next one."""

    items: list[dict[str, Any]]
    next_cursor: str | None


def encode_cursor(at: datetime, row_id: int) -> str:
    """The opaque cursor after the row (at, id)."""
    raw = json.dumps([at.astimezone(UTC).isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """(timestamp, id) from a cursor; ``CursorError`` if it is malformed."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at_text, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        at = datetime.fromisoformat(at_text)
        if at.tzinfo is None or not isinstance(row_id, int):
            raise ValueError
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise CursorError("the page cursor is not valid; start again from the first page") from exc
    return at, row_id


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def page_query(
    kind: str,
    filters: RecordFilters,
    *,
    timezone: str,
    cursor: str | None = None,
    limit: int = 50,
) -> Select[Any]:
    """The SELECT for one page (``limit + 1`` rows, to know whether more follow)."""
    table, time_col_name, columns = _KINDS[kind]
    time_col = table.c[time_col_name]
    zone = ZoneInfo(timezone)
    where: list[ColumnElement[bool]] = []
    if filters.start is not None:
        where.append(time_col >= _day_start(filters.start, zone))
    if filters.end is not None:
        where.append(time_col < _day_start(filters.end + timedelta(days=1), zone))
    allowed = EQUALITY_FILTERS[kind]
    for name, value in filters.equals.items():
        if value in (None, ""):
            continue
        if name not in allowed:
            raise ValueError(f"unknown filter {name!r} for {kind} (known: {', '.join(allowed)})")
        where.append(table.c[allowed[name]] == value)
    if filters.flagged_only:
        where.append(table.c.quality_flags.is_not(None))
        where.append(table.c.quality_flags != "")
    if cursor:
        at, row_id = decode_cursor(cursor)
        where.append(or_(time_col < at, and_(time_col == at, table.c.id < row_id)))
    return (
        select(*(table.c[c] for c in columns))
        .where(*where)
        .order_by(time_col.desc(), table.c.id.desc())
        .limit(limit + 1)
    )


def browse(
    engine: Engine,
    kind: str,
    filters: RecordFilters,
    *,
    timezone: str,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """One page of ``kind`` ("incidents" or "calls") matching ``filters``."""
    time_col_name = _KINDS[kind][1]
    query = page_query(kind, filters, timezone=timezone, cursor=cursor, limit=limit)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings().all()]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(last[time_col_name], last["id"])
    return Page(items=rows, next_cursor=next_cursor)
