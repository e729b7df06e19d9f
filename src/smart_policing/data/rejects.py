"""Rejected input records, as kept in the ``rejects`` table."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

__all__ = ["Reject", "rejects_frame"]


@dataclass(frozen=True)
class Reject:
    """One rejected record: where it was (file line, or feature number for GeoJSON),
    the columns at fault, why, and the raw text."""

    line: int
    fields: str
    reason: str
    raw: str


def rejects_frame(
    rejects: list[Reject], *, import_id: int, file_name: str, sha256: str
) -> pl.DataFrame:
    """Rows for the ``rejects`` table."""
    n = len(rejects)
    return pl.DataFrame(
        {
            "import_id": [import_id] * n,
            "file_name": [file_name] * n,
            "file_sha256": [sha256] * n,
            "line_number": [r.line for r in rejects],
            "fields": [r.fields or None for r in rejects],
            "reason": [r.reason for r in rejects],
            "raw": [r.raw for r in rejects],
        },
        schema={
            "import_id": pl.Int64,
            "file_name": pl.String,
            "file_sha256": pl.String,
            "line_number": pl.Int64,
            "fields": pl.String,
            "reason": pl.String,
            "raw": pl.String,
        },
    )
