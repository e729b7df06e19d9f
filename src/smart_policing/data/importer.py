"""Import a file through a mapping into the store: chunked, idempotent, accountable.

Every import is recorded in ``imports`` with its counts, and obeys
``read = inserted + duplicates + rejected``:

* *read*: records in the file (header and blank lines excluded);
* *rejected*: records that could not be read, kept in ``rejects`` with file line,
  columns, reason and the raw line (keyed by file hash and line, so re-importing
  the same file does not duplicate them);
* *duplicates*: valid records whose key is already stored (a re-import, an
  overlapping export, or the same id twice in one file);
* *inserted*: the rest.

Keys. A record's key is the mapping's ``key`` columns. A record without a key
(no key columns in the mapping, or an empty id) is keyed by a hash of its
canonical values plus its occurrence number among identical records in the file,
so two identical rows stay two records, and a re-import matches them again.

Victim-based sources (``victim_based: true``, e.g. Open Baltimore Part 1) publish
one row per victim, and the rows of one incident are identical. Identical rows
(same canonical values) are therefore one incident, and ``incidents.victim_count``
keeps how many rows it had: the rows are identical, so the count loses nothing.
Row k (k-th occurrence in the file) of an incident is *inserted* when k exceeds the
incident's stored count, otherwise it is a *duplicate*; so a re-import inserts
nothing, and a later export that adds a third victim adds exactly one row. The
counts above are of victim rows; the summary also reports new incidents.

Each chunk commits on its own, so an interrupted import keeps what it loaded and a
re-run completes it without duplicating anything.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, Integer, bindparam, update

from smart_policing.data.mapping import MappingSpec
from smart_policing.data.pipeline import parsed_chunks
from smart_policing.data.reader import CsvSource, UnusableFileError, file_sha256
from smart_policing.data.rejects import rejects_frame
from smart_policing.data.transform import ColumnResolver, TransformResult
from smart_policing.store import tables as t
from smart_policing.store.bulk import (
    PreparedRows,
    existing_victim_counts,
    has_records,
    insert_ignore,
    prepare_rows,
    write_rows,
)
from smart_policing.store.imports import finish_import, start_import

__all__ = ["ImportSummary", "ProgressCallback", "import_file"]

#: ``progress(done, total)`` in bytes of the file as stored.
ProgressCallback = Callable[[int, int], None]


@dataclass
class ImportSummary:
    """What one import did. ``rows_read == inserted + duplicates + rejected``."""

    import_id: int
    format: str
    source: str
    file: str
    status: str
    rows_read: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: int = 0
    flagged: int = 0
    flags: dict[str, int] = field(default_factory=dict)
    unmapped: dict[str, dict[str, int]] = field(default_factory=dict)
    incidents_inserted: int | None = None
    seconds: float = 0.0
    error: str | None = None

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rows_per_second"] = round(self.rows_per_second, 1)
        d["seconds"] = round(self.seconds, 3)
        return d


class _Keys:
    """Occurrence numbers of identical records across the whole file.

    ``ordinals`` numbers each key's occurrences 1, 2, ... in file order, chunk after
    chunk, in Polars (a join against the counts so far, not a Python loop). Most
    keys occur once, so only the repeated ones of a chunk are numbered by group.
    """

    def __init__(self, *, prior_records: bool) -> None:
        self.seen = pl.DataFrame(schema={"_k": pl.String, "_n": pl.Int64})  # key -> count
        self.prior_records = prior_records  # did the source hold records before this import?

    def ordinals(self, keys: pl.Series) -> tuple[pl.Series, pl.Series]:
        """(occurrence number, occurrences before this chunk) for each key."""
        frame = pl.DataFrame({"_k": keys})
        if self.seen.height:
            frame = frame.join(self.seen, on="_k", how="left", maintain_order="left")
            prior = frame["_n"].fill_null(0).alias("_prior")
        else:
            prior = pl.Series("_prior", dtype=pl.Int64).extend_constant(0, frame.height)
        repeated = frame["_k"].is_duplicated()
        within = pl.Series(dtype=pl.Int64).extend_constant(1, frame.height)
        if repeated.any():
            rows = repeated.arg_true()
            numbers = frame[rows].select(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("_k"))
            within = within.scatter(rows, numbers.to_series())
        ordinal = (within + prior).alias("_o")
        latest = pl.DataFrame({"_k": frame["_k"], "_n": ordinal}).unique(subset="_k", keep="last")
        if self.seen.height:
            kept = self.seen.filter(~pl.col("_k").is_in(latest["_k"].implode()))
            latest = pl.concat([kept, latest])
        self.seen = latest
        return ordinal, prior


def _with_keys(frame: pl.DataFrame, spec: MappingSpec, keys: _Keys) -> pl.DataFrame:
    """Add ``_record_key`` (and ``_ordinal`` for victim rows); flag missing ids."""
    if spec.victim_based:
        ordinal, prior = keys.ordinals(frame["_content"])
        return frame.with_columns(_record_key=pl.col("_content"), _ordinal=ordinal, _prior=prior)
    # records without a key: content hash + occurrence number among identical ones
    rows = frame["_key"].is_null().arg_true()
    content = frame["_content"].gather(rows)
    ordinal = keys.ordinals(content)[0]
    labels = pl.select(pl.format("row:{}#{}", pl.lit(content), pl.lit(ordinal))).to_series()
    fallback = pl.Series(dtype=pl.String).extend_constant(None, frame.height).scatter(rows, labels)
    frame = frame.with_columns(_record_key=pl.coalesce(pl.col("_key"), fallback))
    if spec.key is not None:
        missing = pl.col("_key").is_null()
        flag = "missing_call_id" if spec.record == "call" else "missing_key"
        frame = frame.with_columns(
            quality_flags=pl.when(missing)
            .then(
                pl.concat_str(
                    [pl.col("quality_flags"), pl.lit(flag)], separator=",", ignore_nulls=True
                )
            )
            .otherwise(pl.col("quality_flags"))
        )
    return frame


def _record_frame(frame: pl.DataFrame, spec: MappingSpec, import_id: int) -> pl.DataFrame:
    public = [c for c in frame.columns if not c.startswith("_")]
    key_col = "call_id" if spec.record == "call" else "source_key"
    return frame.select(
        pl.lit(spec.name).alias("source"),
        pl.col("_record_key").alias(key_col),
        *public,
        pl.lit(import_id).alias("import_id"),
    )


@dataclass
class _ChunkPlan:
    """One chunk's writes, prepared in the reader thread (see :func:`_plan_chunk`)."""

    records: PreparedRows | None  # None: victim rows needing the stored counts
    expect_new: bool
    places: PreparedRows
    rejects: PreparedRows
    victims_inserted: int | None = None  # victim rows that are new (victim-based sources)
    grown: list[dict[str, Any]] = field(default_factory=list)  # victim_count updates


def _plan_chunk(
    res: TransformResult,
    spec: MappingSpec,
    keys: _Keys,
    dialect: str,
    import_id: int,
    file_name: str,
    sha: str,
) -> _ChunkPlan:
    """Key the chunk's records and prepare every row it will write.

    All of it is pure work on the chunk, done in the reader thread while the writer
    stores the previous chunk, except for victim rows of a source that held
    incidents before this import: their stored counts are read by the writer.
    """
    frame = _with_keys(res.frame, spec, keys)
    res.frame = frame
    places = prepare_rows(t.places, _places_frame(frame, import_id), dialect)
    rejects = prepare_rows(
        t.rejects,
        rejects_frame(res.rejects, import_id=import_id, file_name=file_name, sha256=sha),
        dialect,
    )
    if not spec.victim_based:
        table = t.calls if spec.record == "call" else t.incidents
        records = prepare_rows(table, _record_frame(frame, spec, import_id), dialect)
        return _ChunkPlan(records, not keys.prior_records, places, rejects)
    if keys.prior_records:
        return _ChunkPlan(None, True, places, rejects)
    # the source's first import: an incident's stored count is what earlier chunks stored
    per_incident = _per_incident(frame)
    known = per_incident.filter(pl.col("_prior") > 0).select(
        "_record_key", pl.col("_prior").alias("_stored")
    )
    new, grown, inserted = _victim_changes(frame, per_incident, known)
    records = prepare_rows(t.incidents, _record_frame(new, spec, import_id), dialect)
    return _ChunkPlan(records, True, places, rejects, inserted, grown)


def _write_chunk(
    conn: Connection, plan: _ChunkPlan, res: TransformResult, spec: MappingSpec, import_id: int
) -> tuple[int, int]:
    """Write one planned chunk; return (rows inserted, incidents inserted)."""
    if plan.records is None:
        per_incident = _per_incident(res.frame)
        stored = existing_victim_counts(conn, spec.name, per_incident["_record_key"])
        known = pl.DataFrame(
            {"_record_key": list(stored), "_stored": list(stored.values())},
            schema={"_record_key": pl.String, "_stored": pl.Int64},
        )
        new, grown, inserted = _victim_changes(res.frame, per_incident, known)
        new_incidents = insert_ignore(
            conn, t.incidents, _record_frame(new, spec, import_id), expect_new=True
        )
        _grow_victim_counts(conn, spec, grown)
    elif plan.victims_inserted is not None:
        new_incidents = write_rows(conn, plan.records, expect_new=True)
        inserted = plan.victims_inserted
        _grow_victim_counts(conn, spec, plan.grown)
    else:
        inserted, new_incidents = write_rows(conn, plan.records, expect_new=plan.expect_new), 0
    write_rows(conn, plan.places)
    write_rows(conn, plan.rejects)
    return inserted, new_incidents


def _per_incident(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per incident (its first), with ``_kmax``: its highest occurrence number.

    Most incidents have one row, so only the repeated ones are grouped.
    """
    first = frame.unique(subset="_record_key", keep="first", maintain_order=True)
    repeated = frame.filter(pl.col("_record_key").is_duplicated())
    if repeated.height:
        kmax = repeated.group_by("_record_key").agg(pl.col("_ordinal").max().alias("_kmax"))
        first = first.join(kmax, on="_record_key", how="left", maintain_order="left")
        first = first.with_columns(_kmax=pl.coalesce("_kmax", "_ordinal"))
    else:
        first = first.with_columns(_kmax=pl.col("_ordinal"))
    return first.select("_record_key", pl.exclude("_record_key", "_kmax"), "_kmax")


def _victim_changes(
    frame: pl.DataFrame, per_incident: pl.DataFrame, known: pl.DataFrame
) -> tuple[pl.DataFrame, list[dict[str, Any]], int]:
    """Victim rows: row k of an incident is new when k exceeds its stored victim count.

    ``known`` holds the stored counts (``_stored``) of incidents that exist. Returns
    the new incidents (``victim_count`` set), the count updates of existing ones,
    and how many victim rows are new.
    """
    rows = (
        frame.select("_record_key", "_ordinal")
        .join(known, on="_record_key", how="left")
        .with_columns(pl.col("_stored").fill_null(0))
    )
    inserted = int((rows["_ordinal"] > rows["_stored"]).sum())
    per_incident = per_incident.join(known, on="_record_key", how="left")
    new = per_incident.filter(pl.col("_stored").is_null()).with_columns(
        victim_count=pl.col("_kmax")
    )
    grown = per_incident.filter(pl.col("_kmax") > pl.col("_stored"))
    updates = [{"k": k, "n": n} for k, n in grown.select("_record_key", "_kmax").iter_rows()]
    return new, updates, inserted


def _grow_victim_counts(conn: Connection, spec: MappingSpec, updates: list[dict[str, Any]]) -> None:
    if updates:
        inc = t.incidents
        conn.execute(
            update(inc)
            .where(inc.c.source == spec.name, inc.c.source_key == bindparam("k"))
            .values(victim_count=bindparam("n", type_=Integer)),
            updates,
        )


def _places_frame(frame: pl.DataFrame, import_id: int) -> pl.DataFrame:
    """The chunk's places: first spelling and location seen for each place key."""
    district = "district" if "district" in frame.columns else None
    return (
        frame.select(
            "place_key",
            "block_address",
            "latitude",
            "longitude",
            pl.col(district) if district else pl.lit(None, dtype=pl.String).alias("district"),
        )
        .filter(pl.col("place_key").is_not_null())
        .unique(subset="place_key", keep="first", maintain_order=True)
        .with_columns(pl.lit(import_id).alias("import_id"))
    )


def import_file(
    engine: Engine,
    path: str | Path,
    spec: MappingSpec,
    *,
    timezone: str,
    encoding: str = "utf-8",
    format_name: str | None = None,
    chunk_rows: int = 50_000,
    progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Import ``path`` with ``spec`` into the store behind ``engine``.

    Raises :class:`~smart_policing.data.reader.UnusableFileError` when the file cannot
    be imported at all (unreadable, empty, wrong columns) before anything is
    written, or when it stops being readable part-way (the summary of what was
    loaded is then stored with status ``failed``). Bad rows never fail an import.
    """
    started = time.perf_counter()
    path = Path(path)
    with CsvSource(path, encoding=encoding) as source:  # fail fast: unreadable, wrong columns
        ColumnResolver(source.header, spec, path.name)
        size = source.total_bytes
    sha = file_sha256(path)
    import_id = start_import(
        engine,
        format_name=format_name or spec.name,
        source=spec.name,
        file_name=path.name,
        sha256=sha,
        size=size,
    )
    summary = ImportSummary(import_id, format_name or spec.name, spec.name, str(path), "running")
    if spec.victim_based:
        summary.incidents_inserted = 0
    flags: Counter[str] = Counter()
    unmapped: dict[str, Counter[str]] = {}
    keys = _Keys(prior_records=has_records(engine, spec.name, spec.record))
    try:
        dialect = engine.dialect.name
        for parsed in parsed_chunks(
            path,
            spec,
            timezone=timezone,
            encoding=encoding,
            chunk_rows=chunk_rows,
            plan=lambda res: _plan_chunk(res, spec, keys, dialect, import_id, path.name, sha),
        ):
            res = parsed.result
            with engine.begin() as conn:
                inserted, new_incidents = _write_chunk(conn, parsed.plan, res, spec, import_id)
            summary.rows_read += parsed.records
            summary.rejected += len(res.rejects)
            summary.inserted += inserted
            summary.duplicates += res.frame.height - inserted
            summary.flagged += int(res.frame["quality_flags"].is_not_null().sum())
            if summary.incidents_inserted is not None:
                summary.incidents_inserted += new_incidents
            flags.update(res.frame["quality_flags"].drop_nulls().str.split(",").explode().to_list())
            for name, counter in res.unmapped.items():
                unmapped.setdefault(name, Counter()).update(counter)
            if progress is not None:
                progress(parsed.bytes_read, size)
    except UnusableFileError as exc:
        summary.status, summary.error = "failed", str(exc)
        raise
    else:
        summary.status = "completed"
    finally:
        summary.flags = dict(sorted(flags.items()))
        summary.unmapped = {k: dict(v.most_common()) for k, v in unmapped.items()}
        summary.seconds = time.perf_counter() - started
        _finish_import(engine, summary)
    return summary


def _finish_import(engine: Engine, s: ImportSummary) -> None:
    finish_import(
        engine,
        s.import_id,
        status=s.status,
        read=s.rows_read,
        inserted=s.inserted,
        duplicates=s.duplicates,
        rejected=s.rejected,
        flagged=s.flagged,
        error=s.error,
        details={
            "flags": s.flags,
            "unmapped": s.unmapped,
            "incidents_inserted": s.incidents_inserted,
            "seconds": round(s.seconds, 3),
        },
    )
