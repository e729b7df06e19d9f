"""Fast "insert, ignore what is already there" for both databases.

SQLite: ``INSERT OR IGNORE`` statements of up to 1,000 rows each, values bound as
parameters (no ORM objects). PostgreSQL: ``COPY`` of a CSV payload written by
Polars, straight into the table on a source's first import, else into a
temporary staging table, then ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``.
Both return how many rows were really inserted; the caller counts the rest as
duplicates. Timestamps go in as UTC text in each database's own format.
"""

from __future__ import annotations

import codecs
import io
import json
import sqlite3
from dataclasses import dataclass

import polars as pl
import psycopg
from sqlalchemy import Connection, Engine, Table, UniqueConstraint, select

from smart_policing.store import tables as t
from smart_policing.store.types import SQLITE_DATETIME_FORMAT

__all__ = [
    "PreparedRows",
    "existing_victim_counts",
    "has_records",
    "insert_ignore",
    "prepare_rows",
    "write_rows",
]

_PG_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S.%6f+00"
_SQLITE_ROWS_PER_STATEMENT = 1000


def _prepare(frame: pl.DataFrame, dialect: str) -> pl.DataFrame:
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Datetime):
            utc = col.dt.convert_time_zone("UTC") if dtype.time_zone else col
            fmt = SQLITE_DATETIME_FORMAT if dialect == "sqlite" else _PG_DATETIME_FORMAT
            exprs.append(utc.dt.strftime(fmt).alias(name))
        elif dtype == pl.Boolean and dialect == "sqlite":
            exprs.append(col.cast(pl.Int8).alias(name))
        else:
            exprs.append(col)
    return frame.select(exprs)


def _unique_columns(table: Table) -> list[str]:
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            return [c.name for c in constraint.columns]
    return []


@dataclass(frozen=True)
class PreparedRows:
    """Rows ready for one table: sorted by its unique key, formatted for the database.

    Preparing is pure work on the data (no connection), so the importer does it in
    its reader thread while the writer is busy with the previous chunk.
    """

    table: str
    columns: str
    count: int
    frame: pl.DataFrame | None = None  # SQLite: converted to values a statement at a time
    payload: bytes | None = None  # PostgreSQL: CSV (UTF-8) for COPY


def prepare_rows(table: Table, frame: pl.DataFrame, dialect: str) -> PreparedRows:
    """Prepare ``frame`` (columns named as in ``table``) for :func:`write_rows`."""
    unknown = [c for c in frame.columns if c not in table.c]
    if unknown:
        raise ValueError(f"columns {unknown} are not in table {table.name}")
    if dialect not in ("sqlite", "postgresql"):
        raise NotImplementedError(
            f"bulk loading is implemented for SQLite and PostgreSQL, not {dialect}"
        )
    key = [c for c in _unique_columns(table) if c in frame.columns]
    data = _prepare(frame.sort(key) if key and frame.height else frame, dialect)
    cols = ", ".join(f'"{c}"' for c in data.columns)
    if dialect == "sqlite":
        return PreparedRows(table.name, cols, data.height, frame=data)
    payload = io.BytesIO()  # bytes, not str: COPY sends them as they are
    data.write_csv(payload, include_header=False)
    return PreparedRows(table.name, cols, data.height, payload=payload.getvalue())


def write_rows(conn: Connection, prepared: PreparedRows, *, expect_new: bool = False) -> int:
    """Insert prepared rows, skipping those whose unique key exists; return how many went in.

    Runs inside the caller's transaction. ``expect_new`` says no row is likely to
    exist yet (a source's first import): PostgreSQL then copies the rows straight
    into the table, falling back to conflict handling should a duplicate turn up.
    """
    if prepared.count == 0:
        return 0
    if prepared.frame is not None:
        raw = conn.connection.dbapi_connection
        assert isinstance(raw, sqlite3.Connection)
        return _sqlite_insert(raw, prepared, prepared.frame)
    assert prepared.payload is not None
    return _pg_insert(conn, prepared, expect_new=expect_new)


def _sqlite_insert(raw: sqlite3.Connection, prepared: PreparedRows, frame: pl.DataFrame) -> int:
    """``INSERT OR IGNORE`` many rows per statement.

    The driver releases the interpreter lock once per statement step; one step per
    row lets the reader thread's Python work stall the writer at every row (it waits
    for the lock a whole switch interval). Many rows per statement means few
    hand-overs. Values are still bound as parameters (floats exact, no quoting).
    """
    width = frame.width
    limit = raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    per = max(1, min(_SQLITE_ROWS_PER_STATEMENT, limit // width))
    one = "(" + ", ".join(["?"] * width) + ")"
    head = f'INSERT OR IGNORE INTO "{prepared.table}" ({prepared.columns}) VALUES '
    cur = raw.cursor()  # the connection's own transaction
    try:
        inserted = 0
        sql = head + ", ".join([one] * per)
        for start in range(0, frame.height, per):
            part = frame.slice(start, per)
            if part.height != per:
                sql = head + ", ".join([one] * part.height)
            values: list[object] = [None] * (part.height * width)  # row after row
            for i, column in enumerate(part.iter_columns()):
                values[i::width] = column.to_list()
            cur.execute(sql, values)
            inserted += cur.rowcount
        return inserted
    finally:
        cur.close()


def insert_ignore(
    conn: Connection, table: Table, frame: pl.DataFrame, *, expect_new: bool = False
) -> int:
    """:func:`prepare_rows` then :func:`write_rows` on ``conn``."""
    prepared = prepare_rows(table, frame, conn.dialect.name)
    return write_rows(conn, prepared, expect_new=expect_new)


def _pg_insert(conn: Connection, prepared: PreparedRows, *, expect_new: bool) -> int:
    """COPY the rows in; keep only what is new.

    When the rows are expected to be new they are copied straight into the table
    (inside a savepoint); otherwise, or if a duplicate turns up after all, they are
    copied into a temporary staging table and inserted with ``ON CONFLICT DO NOTHING``.
    """
    raw = conn.connection.dbapi_connection
    assert isinstance(raw, psycopg.Connection)
    table, cols, payload = prepared.table, prepared.columns, prepared.payload
    assert payload is not None
    if codecs.lookup(raw.info.encoding).name != "utf-8":  # the payload is UTF-8
        payload = payload.decode("utf-8").encode(raw.info.encoding)
    with raw.cursor() as cur:
        if expect_new:
            try:
                with raw.transaction():  # a savepoint: a duplicate undoes only this attempt
                    with cur.copy(f'COPY "{table}" ({cols}) FROM STDIN (FORMAT csv)') as copy:
                        copy.write(payload)
                    return prepared.count
            except psycopg.errors.UniqueViolation:
                pass
        stage = f"_stage_{table}"
        cur.execute(f'CREATE TEMP TABLE "{stage}" AS SELECT {cols} FROM "{table}" WITH NO DATA')
        with cur.copy(f'COPY "{stage}" ({cols}) FROM STDIN (FORMAT csv)') as copy:
            copy.write(payload)
        cur.execute(
            f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM "{stage}" ON CONFLICT DO NOTHING'
        )
        inserted = cur.rowcount
        cur.execute(f'DROP TABLE "{stage}"')
    return int(inserted)


def has_records(engine: Engine, source: str, record: str) -> bool:
    """Whether ``source`` already has calls (``record="call"``) or incidents stored."""
    table = t.calls if record == "call" else t.incidents
    with engine.connect() as conn:
        return (
            conn.execute(select(table.c.id).where(table.c.source == source).limit(1)).first()
            is not None
        )


def existing_victim_counts(conn: Connection, source: str, keys: pl.Series) -> dict[str, int]:
    """Stored ``victim_count`` of the incidents among ``keys`` that exist already.

    The keys travel as one parameter (a JSON array on SQLite, an array on
    PostgreSQL), not one bind parameter each.
    """
    if keys.len() == 0:
        return {}
    if conn.dialect.name == "sqlite":
        sql = (
            "SELECT source_key, victim_count FROM incidents WHERE source = ? "
            "AND source_key IN (SELECT value FROM json_each(?))"
        )
        params: tuple[object, ...] = (source, json.dumps(keys.to_list()))
    else:
        sql = (
            "SELECT source_key, victim_count FROM incidents WHERE source = %s "
            "AND source_key = ANY(%s)"
        )
        params = (source, keys.to_list())
    return {k: int(n) for k, n in conn.exec_driver_sql(sql, params)}
