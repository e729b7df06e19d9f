"""Incidents for zones: read, select (gun incidents by default), project to metres.

Two sources give the same frame. :func:`read_incidents_file` parses an incident
export in memory exactly as the importer would (the built-in format, by default
``baltimore-part1``, through :func:`smart_policing.data.pipeline.parsed_chunks`), and
groups victim rows into incidents as the importer does: the Open Baltimore file
publishes one row per victim, identical rows are one incident (``victim_count`` rows).
Rows the importer would reject are counted and left out. :func:`load_stored_incidents`
reads the ``incidents`` table of the store.

The default selection (docs/zones.md, "gun incident") is a row whose ``Description``
is SHOOTING or HOMICIDE or whose ``Weapon`` is FIREARM: shootings, homicides and any
offence with a firearm (:func:`select_gun_incidents`). Victim-reported incidents, not
arrests: the Part 1 file is victim-based. Incidents without coordinates are dropped by
:func:`to_points` (counted), then longitude/latitude are projected to the metric CRS
(:data:`~smart_policing.zones.geometry.DEFAULT_CRS`, EPSG:26985 for Baltimore).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
from sqlalchemy import Engine, select

from smart_policing.data.mapping import builtin_mapping
from smart_policing.data.pipeline import parsed_chunks
from smart_policing.data.reader import CsvSource
from smart_policing.data.transform import ColumnResolver
from smart_policing.store import tables as t
from smart_policing.zones.geometry import DEFAULT_CRS, FloatArray, project_points

__all__ = [
    "GUN_DESCRIPTIONS",
    "GUN_WEAPONS",
    "INCIDENT_COLUMNS",
    "IncidentPoints",
    "filter_period",
    "load_stored_incidents",
    "read_incidents_file",
    "select_gun_incidents",
    "to_points",
]

#: ``offence_description`` values that make a gun incident (upper case).
GUN_DESCRIPTIONS = ("SHOOTING", "HOMICIDE")
#: ``weapon`` values that make a gun incident (upper case).
GUN_WEAPONS = ("FIREARM",)
#: Columns of the incident frame both readers return.
INCIDENT_COLUMNS = (
    "occurred_at",
    "offence_description",
    "weapon",
    "district",
    "latitude",
    "longitude",
    "victim_count",
)


def read_incidents_file(
    path: Path, *, timezone: str, format_name: str = "baltimore-part1", encoding: str = "utf-8"
) -> tuple[pl.DataFrame, int]:
    """Incidents of an export (victim rows grouped) and the number of rejected rows.

    Raises :class:`~smart_policing.data.reader.UnusableFileError` for an unreadable
    file or one without the format's columns, ``ValueError`` for a call format.
    """
    spec = builtin_mapping(format_name)
    if spec.record != "incident":
        raise ValueError(f"format {format_name!r} holds calls, not incidents")
    with CsvSource(path, encoding=encoding) as source:
        ColumnResolver(source.header, spec, path.name)
    frames: list[pl.DataFrame] = []
    rejected = 0
    for parsed in parsed_chunks(path, spec, timezone=timezone, encoding=encoding):
        frames.append(parsed.result.frame)
        rejected += len(parsed.result.rejects)
    if not frames:
        return _empty(), rejected
    frame = pl.concat(frames, how="vertical_relaxed")
    if spec.victim_based:  # identical rows are one incident, victim_count = rows
        frame = frame.group_by("_content", maintain_order=True).agg(
            pl.exclude("victim_count", "_content").first(), pl.len().alias("victim_count")
        )
    frame = frame.with_columns(pl.col("victim_count").cast(pl.Int64))
    return frame.select(INCIDENT_COLUMNS), rejected


def _empty() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "occurred_at": pl.Datetime("us", "UTC"),
            "offence_description": pl.String,
            "weapon": pl.String,
            "district": pl.String,
            "latitude": pl.Float64,
            "longitude": pl.Float64,
            "victim_count": pl.Int64,
        }
    )


def load_stored_incidents(engine: Engine) -> pl.DataFrame:
    """The stored incidents (one row per incident, ``victim_count`` kept)."""
    i = t.incidents
    cols = [i.c[c] for c in INCIDENT_COLUMNS]
    with engine.connect() as conn:
        rows = conn.execute(select(*cols)).all()
    if not rows:
        return _empty()
    frame = pl.DataFrame(
        [tuple(r) for r in rows],
        schema=list(INCIDENT_COLUMNS),
        orient="row",
        infer_schema_length=None,
    )
    return frame.with_columns(
        pl.col("occurred_at").cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        if frame["occurred_at"].dtype == pl.Datetime("us")
        else pl.col("occurred_at").cast(pl.Datetime("us", "UTC")),
        pl.col("victim_count").cast(pl.Int64),
    ).select(INCIDENT_COLUMNS)


def select_gun_incidents(frame: pl.DataFrame) -> pl.DataFrame:
    """Gun incidents: Description SHOOTING or HOMICIDE, or Weapon FIREARM (upper case)."""
    desc = pl.col("offence_description").str.to_uppercase().str.strip_chars()
    weapon = pl.col("weapon").str.to_uppercase().str.strip_chars()
    cond = desc.is_in(GUN_DESCRIPTIONS).fill_null(False) | weapon.is_in(GUN_WEAPONS).fill_null(
        False
    )
    return frame.filter(cond)


def filter_period(
    frame: pl.DataFrame, start: date | None, end: date | None, *, timezone: str
) -> pl.DataFrame:
    """Incidents from local day ``start`` to local day ``end``, both inclusive."""
    tz = ZoneInfo(timezone)
    if start is not None:
        lo = datetime(start.year, start.month, start.day, tzinfo=tz).astimezone(UTC)
        frame = frame.filter(pl.col("occurred_at") >= lo)
    if end is not None:
        nxt = end + timedelta(days=1)
        hi = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz).astimezone(UTC)
        frame = frame.filter(pl.col("occurred_at") < hi)
    return frame


@dataclass(frozen=True)
class IncidentPoints:
    """Incidents as projected points: ``x``, ``y`` in metres (``crs``), ``days`` since
    the epoch 1970-01-01 UTC (float, for recency weights), and ``district`` as recorded."""

    x: FloatArray
    y: FloatArray
    days: FloatArray
    district: tuple[str | None, ...]
    crs: str
    unlocated: int

    def __len__(self) -> int:
        return int(self.x.size)


def to_points(frame: pl.DataFrame, *, crs: str = DEFAULT_CRS) -> IncidentPoints:
    """Project the located incidents of ``frame``; ``unlocated`` counts the others."""
    located = frame.filter(pl.col("latitude").is_not_null() & pl.col("longitude").is_not_null())
    x, y = project_points(located["longitude"].to_numpy(), located["latitude"].to_numpy(), crs)
    micros = located["occurred_at"].dt.epoch("us").to_numpy().astype(np.float64)
    return IncidentPoints(
        x=x,
        y=y,
        days=micros / 86_400e6,
        district=tuple(located["district"].to_list()),
        crs=crs,
        unlocated=frame.height - located.height,
    )
