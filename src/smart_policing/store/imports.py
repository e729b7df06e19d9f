"""The import ledger: one ``imports`` row per file loaded, with its counts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, update

from smart_policing.store import tables as t

__all__ = ["finish_import", "start_import"]


def start_import(
    engine: Engine, *, format_name: str, source: str, file_name: str, sha256: str, size: int
) -> int:
    """Record an import as running; return its id."""
    with engine.begin() as conn:
        result = conn.execute(
            insert(t.imports).values(
                format=format_name,
                source=source,
                file_name=file_name,
                file_sha256=sha256,
                file_bytes=size,
                started_at=datetime.now(UTC),
                status="running",
                rows_read=0,
                rows_inserted=0,
                rows_duplicate=0,
                rows_rejected=0,
                rows_flagged=0,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


def finish_import(
    engine: Engine,
    import_id: int,
    *,
    status: str,
    read: int,
    inserted: int,
    duplicates: int,
    rejected: int,
    flagged: int,
    error: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Store an import's final counts and status (``completed`` or ``failed``)."""
    with engine.begin() as conn:
        conn.execute(
            update(t.imports)
            .where(t.imports.c.id == import_id)
            .values(
                finished_at=datetime.now(UTC),
                status=status,
                rows_read=read,
                rows_inserted=inserted,
                rows_duplicate=duplicates,
                rows_rejected=rejected,
                rows_flagged=flagged,
                error=error,
                details=details,
            )
        )
