"""``smart-policing zones forecast``: fit a hot-spot forecaster, write its top cells as GeoJSON.

Reads an incident export (built-in format, default ``baltimore-part1``) as the importer
would, keeps gun incidents (docs/zones.md) from ``--start`` to ``--end`` (local days,
inclusive; the settings' time zone), fits the chosen forecaster
(:mod:`smart_policing.zones.forecast`, :mod:`smart_policing.zones.forecast_sepp`) and
predicts the risk surface at ``--at`` (local midnight; default the day after
``--end``) on a grid of ``--cell-m`` metre cells (EPSG:26985) masked to the union of
the ``--boundaries`` polygons. The top cells covering ``--area-share`` of the city
(ties broken by cell index, :func:`smart_policing.zones.backtest.top_cells`) are
written to ``--out`` as a GeoJSON FeatureCollection in WGS84, one square per cell with
its rank and risk.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import numpy as np
import shapely
import typer

from smart_policing.cli_support import JsonOpt, emit, fail, parse_day, root_context
from smart_policing.data.reader import UnusableFileError
from smart_policing.zones.backtest import top_cells
from smart_policing.zones.cli import zones_app
from smart_policing.zones.forecast import (
    NaiveCounts,
    ProspectiveHotSpotting,
    SpaceTimeKernelDensity,
)
from smart_policing.zones.forecast_sepp import SelfExcitingPointProcess
from smart_policing.zones.geometry import (
    DEFAULT_CRS,
    GeometryError,
    feature_collection,
    polygons_from_geojson,
    union_all,
)
from smart_policing.zones.grid import Grid
from smart_policing.zones.incidents import (
    filter_period,
    read_incidents_file,
    select_gun_incidents,
    to_points,
)

__all__ = ["METHODS", "forecast_cmd"]

#: ``--method`` names and the forecaster each makes (with its default parameters).
METHODS: dict[str, type[Any]] = {
    "naive": NaiveCounts,
    "kde": SpaceTimeKernelDensity,
    "prospective": ProspectiveHotSpotting,
    "sepp": SelfExcitingPointProcess,
}


@zones_app.command("forecast")
def forecast_cmd(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Incident export (plain or gzip CSV).")],
    boundaries: Annotated[
        Path, typer.Option("--boundaries", help="GeoJSON whose polygons' union is the city.")
    ],
    out_path: Annotated[Path, typer.Option("--out", help="Write the top cells here (GeoJSON).")],
    method: Annotated[str, typer.Option("--method", help="naive, kde, prospective or sepp.")] = (
        "naive"
    ),
    start: Annotated[
        str | None, typer.Option("--start", help="First local day fitted, YYYY-MM-DD.")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Last local day fitted, YYYY-MM-DD.")
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="Forecast day, YYYY-MM-DD (default: --end + 1).")
    ] = None,
    cell_m: Annotated[float, typer.Option("--cell-m", help="Cell side, metres.")] = 150.0,
    area_share: Annotated[
        float, typer.Option("--area-share", help="Share of the city's cells to write.")
    ] = 0.05,
    format_name: Annotated[str, typer.Option("--format", help="Built-in incident format.")] = (
        "baltimore-part1"
    ),
    as_json: JsonOpt = False,
) -> None:
    """Fit a forecaster on gun incidents and write its top cells as GeoJSON."""
    c = root_context(ctx, as_json)
    if method not in METHODS:
        raise fail(f"--method {method!r} is not one of {', '.join(METHODS)}")
    if not cell_m > 0:
        raise fail(f"--cell-m must be > 0 metres, got {cell_m}")
    if not 0 < area_share <= 1:
        raise fail(f"--area-share must be in (0, 1], got {area_share}")
    first, last = parse_day(start, "--start"), parse_day(end, "--end")
    day = parse_day(at, "--at")
    if day is None:
        if last is None:
            raise fail("give --at or --end (the forecast day defaults to the day after --end)")
        day = last + timedelta(days=1)
    if last is not None and day <= last:
        raise fail(f"--at {day} must be after --end {last}")
    tz = c.settings.timezone
    try:
        doc = json.loads(boundaries.read_text(encoding="utf-8"))
        polygons = polygons_from_geojson(doc, where=str(boundaries))
    except (OSError, json.JSONDecodeError, GeometryError) as exc:
        raise fail(f"{boundaries}: {exc}") from exc
    try:
        frame, rejected = read_incidents_file(file, timezone=tz, format_name=format_name)
    except (OSError, UnusableFileError, ValueError) as exc:
        raise fail(f"{file}: {exc}") from exc
    fitted = filter_period(select_gun_incidents(frame), first, last, timezone=tz)
    pts = to_points(fitted)
    t_at = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz)).timestamp() / 86_400.0
    keep = pts.days < t_at
    events = np.column_stack([pts.x[keep], pts.y[keep], pts.days[keep]])
    if events.shape[0] == 0:
        raise fail(f"{file}: no located gun incidents before {day} in the chosen period")
    grid = Grid.from_polygon(union_all(p.geometry for p in polygons), cell_m)
    model = METHODS[method]().fit(events)
    surface = model.predict(grid, t_at)
    cells = top_cells(surface, area_share)
    items = []
    for rank, idx in enumerate(cells.tolist(), start=1):
        row, col = divmod(idx, grid.nx)
        x0, y0 = grid.x0 + col * grid.cell_m, grid.y0 + row * grid.cell_m
        square = shapely.box(x0, y0, x0 + grid.cell_m, y0 + grid.cell_m)
        props = {"rank": rank, "cell": idx, "risk": float(surface.flat[idx])}
        items.append((square, props))
    out_path.write_text(json.dumps(feature_collection(items, crs=DEFAULT_CRS)), encoding="utf-8")
    summary = {
        "method": method,
        "parameters": model.get_params(),
        "incidents_fitted": int(events.shape[0]),
        "unlocated": pts.unlocated,
        "rejected_rows": rejected,
        "forecast_day": day.isoformat(),
        "cell_m": cell_m,
        "city_cells": grid.n_cells,
        "cells_written": int(cells.size),
        "area_share": cells.size / grid.n_cells,
        "out": str(out_path),
    }
    emit(
        c,
        summary,
        f"{method}: fitted {events.shape[0]:,} gun incidents; wrote the top {cells.size:,} of "
        f"{grid.n_cells:,} cells ({cells.size / grid.n_cells:.1%} of the city) for {day} "
        f"to {out_path}",
    )
