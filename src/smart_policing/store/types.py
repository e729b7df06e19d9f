"""Column types shared by the store's tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["SQLITE_DATETIME_FORMAT", "UtcDateTime"]

#: How SQLite stores a UTC timestamp (SQLAlchemy's own SQLite DateTime format);
#: the bulk loader writes this text directly.
SQLITE_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S.%6f"


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp stored in UTC.

    PostgreSQL keeps it as ``timestamptz``; SQLite as UTC text. Values written must
    be aware (a naive datetime is a bug upstream and is refused); values read are
    aware, in UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise ValueError(f"UtcDateTime needs a timezone-aware datetime, got {value!r}")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
