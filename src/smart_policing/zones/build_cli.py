"""``smart-policing zones build`` and ``smart-policing zones score``.

::

    smart-policing zones build (--incidents FILE | --from-db) --start DATE --end DATE
        (--target-share 0.33 | --area-share 0.0345) [--tier micro|dat] [--max-zones 120]
        [--max-zones-per-district N] [--districts FILE] [--cell-m 50] [--bandwidth-m 75]
        [--half-life-days D] [--min-area-m2 10000] [--max-area-m2 400000]
        [--max-aspect 4] [--min-fill 0.4] [--crs EPSG:26985] [--all-offences]
        --out zones.geojson [--json]
    smart-policing zones score ZONES.geojson (--incidents FILE | --from-db)
        [--start DATE] [--end DATE] [--districts FILE] [--compare OTHER.geojson]
        [--before-start DATE --before-end DATE [--min-drop 0.5] [--place-m 150]
        [--places 10]]
        [--crs EPSG:26985] [--all-offences] [--json]

``--incidents`` reads an Open Baltimore Part 1 export as published (plain or gzip;
``--format`` names another built-in incident format) in memory, through the
importer's own parsing, with victim rows grouped into incidents
(:func:`smart_policing.zones.incidents.read_incidents_file`); ``--from-db`` reads
the stored incidents. Gun incidents are selected unless ``--all-offences``. Dates
are local days of the root ``--timezone``, both inclusive. The city is the union of
the districts: ``--districts`` (a GeoJSON file, any declared CRS) or else the
district boundaries imported into the store. Everything is measured in ``--crs``
(metres; EPSG:26985, Maryland State Plane, by default).

``build`` writes the zones as RFC 7946 GeoJSON (WGS84) with properties ``zone_id``,
``district``, ``area_m2``, ``incidents`` (training incidents inside), ``share`` and
``rank``, and prints the table (method: :mod:`smart_policing.zones.build`). ``--tier``
picks the preset zone sizes and limits (:data:`smart_policing.zones.build.TIERS`):
``micro`` for focused patrol areas, ``dat`` for District Action Team zones; the
``--min-area-m2``, ``--max-area-m2``, ``--max-zones`` and ``--max-zones-per-district``
options override the preset. ``score``
prints area share, capture share and PAI for the city and per district (method:
:mod:`smart_policing.zones.score`); ``--compare`` scores a second set on the same
incidents and measures how far the two agree (``stability``: Jaccard index of their
areas, zones of each overlapping the other), e.g. a rebuild against the set it
replaces; ``--before-start``/``--before-end`` add the zones whose capture fell and the
places outside them whose incidents rose (``emerging_places``). Exit status 2 for
unusable input, naming the file or option.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from pyproj import Transformer
from rich.table import Table
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select

from smart_policing.cli_support import EndDateOpt, JsonOpt, StartDateOpt, emit, err, fail
from smart_policing.cli_support import RootContext as RootContext
from smart_policing.cli_support import out as console
from smart_policing.cli_support import root_context as _root
from smart_policing.data.reader import UnusableFileError
from smart_policing.datafiles import DataFileError
from smart_policing.store import tables as t
from smart_policing.zones.build import BuildParams, ZoneBuild, build_zones, tier_params
from smart_policing.zones.cli import zones_app
from smart_policing.zones.geometry import (
    DEFAULT_CRS,
    GeometryError,
    NamedPolygon,
    feature_collection,
    polygons_from_geojson,
    union_all,
)
from smart_policing.zones.incidents import (
    IncidentPoints,
    filter_period,
    load_stored_incidents,
    read_incidents_file,
    select_gun_incidents,
    to_points,
)
from smart_policing.zones.score import (
    CaptureDrop,
    EmergingPlace,
    ZoneSetScore,
    capture_drops,
    compare_zone_sets,
    emerging_places,
    score_zone_set,
)
from smart_policing.zones.targets import ZoneTargets, builtin_zone_targets, load_zone_targets

__all__ = ["build_cmd", "load_districts", "load_points", "score_cmd"]

_D = BuildParams(area_share=0.0345)  # the builder's defaults, shown as the options

IncidentsOpt = Annotated[
    Path | None,
    typer.Option("--incidents", help="Incident export (Open Baltimore Part 1 CSV, plain/gzip)."),
]
FromDbOpt = Annotated[bool, typer.Option("--from-db", help="Read the stored incidents instead.")]
FormatOpt = Annotated[
    str, typer.Option("--format", help="Built-in incident format of --incidents.")
]
DistrictsOpt = Annotated[
    Path | None,
    typer.Option("--districts", help="District polygons (GeoJSON); default: the stored ones."),
]
CrsOpt = Annotated[str, typer.Option("--crs", help="Metric CRS of all measures (EPSG code).")]
AllOpt = Annotated[
    bool, typer.Option("--all-offences", help="Use every incident, not only gun incidents.")
]


def _read_geojson(path: Path, crs: str, what: str) -> list[NamedPolygon]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise fail(f"{path}: cannot read the {what} file: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise fail(f"{path}: the {what} file is not GeoJSON: {exc}") from exc
    try:
        return polygons_from_geojson(doc, crs=crs, where=str(path))
    except GeometryError as exc:
        raise fail(str(exc)) from exc


def load_districts(c: RootContext, path: Path | None, crs: str) -> list[NamedPolygon]:
    """District polygons from ``path`` or the store (kind ``district``), in ``crs``."""
    if path is not None:
        found = _read_geojson(path, crs, "districts")
    else:
        b = t.boundaries
        with c.engine().connect() as conn:
            rows = conn.execute(
                select(b.c.name, b.c.geometry).where(b.c.kind == "district").order_by(b.c.name)
            ).all()
        doc = {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": {"name": n}, "geometry": json.loads(g)}
                for n, g in rows
            ],
        }
        found = polygons_from_geojson(doc, crs=crs, where="stored districts")
    if not found:
        raise fail("no district polygons: pass --districts FILE or import district boundaries")
    return found


def _read_frame(
    c: RootContext, incidents: Path | None, from_db: bool, *, fmt: str, all_offences: bool
) -> pl.DataFrame:
    if (incidents is None) == (not from_db):
        raise fail("give exactly one of --incidents FILE and --from-db")
    frame: pl.DataFrame
    if incidents is not None:
        try:
            frame, rejected = read_incidents_file(
                incidents, timezone=c.settings.timezone, format_name=fmt
            )
        except (UnusableFileError, ValueError, KeyError) as exc:
            raise fail(f"--incidents {incidents}: {exc}") from exc
        if rejected:
            err.print(f"{incidents}: {rejected:,} rows the importer would reject left out")
    else:
        frame = load_stored_incidents(c.engine())
    return frame if all_offences else select_gun_incidents(frame)


def _period(
    c: RootContext, frame: pl.DataFrame, start: datetime | None, end: datetime | None, crs: str
) -> IncidentPoints:
    frame = filter_period(
        frame,
        start.date() if start else None,
        end.date() if end else None,
        timezone=c.settings.timezone,
    )
    return to_points(frame, crs=crs)


def load_points(
    c: RootContext,
    incidents: Path | None,
    from_db: bool,
    *,
    start: datetime | None,
    end: datetime | None,
    fmt: str,
    crs: str,
    all_offences: bool,
) -> IncidentPoints:
    """The selected incidents of the period (local days, inclusive) as projected points."""
    frame = _read_frame(c, incidents, from_db, fmt=fmt, all_offences=all_offences)
    return _period(c, frame, start, end, crs)


def _zone_targets(value: str) -> ZoneTargets:
    try:
        if Path(value).exists():
            return load_zone_targets(value)
        return builtin_zone_targets(value)
    except DataFileError as exc:
        raise fail(f"--targets: invalid zone-targets file:\n{exc}") from exc
    except KeyError as exc:
        raise fail(f"--targets {value!r}: no such file or shipped targets ({exc})") from exc


@zones_app.command("build")
def build_cmd(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Write the zones here (GeoJSON).")],
    incidents: IncidentsOpt = None,
    from_db: FromDbOpt = False,
    fmt: FormatOpt = "baltimore-part1",
    start: StartDateOpt = None,
    end: EndDateOpt = None,
    target_share: Annotated[
        float | None, typer.Option("--target-share", help="Cover this share of incidents.")
    ] = None,
    area_share: Annotated[
        float | None, typer.Option("--area-share", help="Spend this share of the city's area.")
    ] = None,
    tier: Annotated[
        str,
        typer.Option(
            "--tier",
            help="Preset of zone size and count: micro (0.01-0.4 km2, <= 120 zones) or dat "
            "(District Action Team zones: 0.1-1.0 km2, <= 11 zones, <= 2 per district).",
        ),
    ] = "micro",
    max_zones: Annotated[
        int | None, typer.Option("--max-zones", help="At most this many zones (tier preset).")
    ] = None,
    max_per_district: Annotated[
        int | None,
        typer.Option("--max-zones-per-district", help="At most N per district (tier preset)."),
    ] = None,
    districts_file: DistrictsOpt = None,
    cell_m: Annotated[
        float | None, typer.Option("--cell-m", help=f"Grid cell side, metres ({_D.cell_m:g}).")
    ] = None,
    bandwidth_m: Annotated[
        float | None,
        typer.Option(
            "--bandwidth-m", help=f"Gaussian smoothing s.d., metres, 0: none ({_D.bandwidth_m:g})."
        ),
    ] = None,
    half_life_days: Annotated[
        float | None, typer.Option("--half-life-days", help="Recency weight half-life, days.")
    ] = None,
    min_area_m2: Annotated[
        float | None, typer.Option("--min-area-m2", help="Zone minimum, m2 (tier preset).")
    ] = None,
    max_area_m2: Annotated[
        float | None, typer.Option("--max-area-m2", help="Zone maximum, m2 (tier preset).")
    ] = None,
    max_aspect: Annotated[
        float | None,
        typer.Option(
            "--max-aspect", help=f"Longest/shortest bounding-box side ({_D.max_aspect:g})."
        ),
    ] = None,
    min_fill: Annotated[
        float | None,
        typer.Option(
            "--min-fill", help=f"Least share of its bounding box a zone fills ({_D.min_fill:g})."
        ),
    ] = None,
    targets: Annotated[
        str | None,
        typer.Option(
            "--targets",
            help="Zone-targets policy file or shipped name (baltimore-2019); --tier picks "
            "its tier, options given here win over it.",
        ),
    ] = None,
    crs: CrsOpt = DEFAULT_CRS,
    all_offences: AllOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Build focused patrol micro-zones from a period's incidents."""
    c = _root(ctx, as_json)
    given = {
        "target_share": target_share,
        "area_share": area_share,
        "max_zones": max_zones,
        "max_zones_per_district": max_per_district,
        "cell_m": cell_m,
        "bandwidth_m": bandwidth_m,
        "half_life_days": half_life_days,
        "min_area_m2": min_area_m2,
        "max_area_m2": max_area_m2,
        "max_aspect": max_aspect,
        "min_fill": min_fill,
    }
    if target_share is not None and area_share is not None:
        raise fail("give at most one of --target-share and --area-share")
    if targets is None and target_share is None and area_share is None:
        raise fail("give --target-share or --area-share (or --targets FILE|NAME)")
    try:
        if targets is None:
            params = tier_params(tier, **{k: v for k, v in given.items() if v is not None})
        else:
            params = _zone_targets(targets).params(tier, **given)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    districts = load_districts(c, districts_file, crs)
    pts = load_points(
        c, incidents, from_db, start=start, end=end, fmt=fmt, crs=crs, all_offences=all_offences
    )
    city = union_all(d.geometry for d in districts)
    result = build_zones(pts.x, pts.y, city, districts, params, days=pts.days)
    doc = feature_collection(((z.geometry, z.properties()) for z in result.zones), crs=crs)
    try:
        out.write_text(json.dumps(doc), encoding="utf-8")
    except OSError as exc:
        raise fail(f"--out {out}: cannot write: {exc.strerror or exc}") from exc
    err.print(f"wrote {len(result.zones)} zones to {out}")
    data = result.summary() | {
        "out": str(out),
        "zones_table": [z.properties() for z in result.zones],
    }
    emit(c, data, _build_table(result))


def _build_table(b: ZoneBuild) -> Table:
    table = Table(
        "rank",
        "zone",
        "district",
        "area m2",
        "incidents",
        "share",
        title=f"{len(b.zones)} zones ({b.mode} mode): {b.area_share:.2%} of the city, "
        f"{b.captured:,} of {b.incidents:,} incidents ({b.capture_share:.1%})"
        + ("" if b.target_met else " - target NOT met within the zone limits"),
    )
    for z in b.zones:
        table.add_row(
            str(z.rank),
            z.zone_id,
            z.district,
            f"{z.area_m2:,.0f}",
            f"{z.incidents:,}",
            f"{z.share:.2%}",
        )
    return table


@zones_app.command("score")
def score_cmd(
    ctx: typer.Context,
    zones_file: Annotated[Path, typer.Argument(help="Zone polygons (GeoJSON, any CRS).")],
    incidents: IncidentsOpt = None,
    from_db: FromDbOpt = False,
    fmt: FormatOpt = "baltimore-part1",
    start: StartDateOpt = None,
    end: EndDateOpt = None,
    districts_file: DistrictsOpt = None,
    compare: Annotated[
        Path | None, typer.Option("--compare", help="A second zone set to score beside it.")
    ] = None,
    before_start: Annotated[
        datetime | None,
        typer.Option(
            "--before-start", formats=["%Y-%m-%d"], help="Earlier period's first local date."
        ),
    ] = None,
    before_end: Annotated[
        datetime | None,
        typer.Option("--before-end", formats=["%Y-%m-%d"], help="Earlier period's last date."),
    ] = None,
    min_drop: Annotated[
        float,
        typer.Option("--min-drop", help="Flag zones whose capture share fell by this fraction."),
    ] = 0.5,
    place_m: Annotated[
        float,
        typer.Option("--place-m", help="Cell side for places that emerged, metres."),
    ] = 150.0,
    places_limit: Annotated[
        int, typer.Option("--places", help="List at most this many places that emerged.")
    ] = 10,
    crs: CrsOpt = DEFAULT_CRS,
    all_offences: AllOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Score a zone set on a period: area share, capture share, PAI, per district.

    With ``--before-start``/``--before-end`` the zones are scored on that earlier
    period too, and zones whose capture share fell by at least ``--min-drop`` are
    listed (``capture_drops``), with the places outside the zones (``--place-m`` cells)
    whose incidents rose most (``emerging_places``).
    """
    c = _root(ctx, as_json)
    if not 0 < min_drop <= 1:
        raise fail(f"--min-drop must be in (0, 1], got {min_drop}")
    if not place_m > 0:
        raise fail(f"--place-m must be positive, got {place_m}")
    if places_limit < 1:
        raise fail(f"--places must be at least 1, got {places_limit}")
    zones = _read_geojson(zones_file, crs, "zones")
    other = _read_geojson(compare, crs, "--compare zones") if compare is not None else None
    districts = load_districts(c, districts_file, crs)
    frame = _read_frame(c, incidents, from_db, fmt=fmt, all_offences=all_offences)
    pts = _period(c, frame, start, end, crs)
    city: BaseGeometry = union_all(d.geometry for d in districts)
    if other is None:
        s = score_zone_set(zones, city, pts.x, pts.y, districts=districts)
        doc: dict[str, Any] = s.to_dict() | {"zones_file": str(zones_file)}
        if before_start is not None or before_end is not None:
            early = _period(c, frame, before_start, before_end, crs)
            was = score_zone_set(zones, city, early.x, early.y)
            drops = capture_drops(was, s, min_drop=min_drop)
            doc["capture_drops"] = [asdict(d) for d in drops]
            places = emerging_places(
                zones,
                city,
                early.x,
                early.y,
                pts.x,
                pts.y,
                cell_m=place_m,
                limit=places_limit,
                districts=districts,
            )
            doc["emerging_places"] = _places_rows(places, crs)
            if not c.as_json:
                console.print(_drops_table(drops, min_drop))
                console.print(_places_table(doc["emerging_places"], place_m))
        emit(c, doc, _score_table(s, str(zones_file)))
        return
    cmp = compare_zone_sets(zones, other, city, pts.x, pts.y, districts=districts)
    data: dict[str, Any] = cmp.to_dict() | {"zones_file": str(zones_file), "compare": str(compare)}
    table = _score_table(cmp.a, str(zones_file))
    table.caption = (
        f"{compare}: {cmp.b.area_share:.2%} of the city, captures {cmp.b.captured:,} "
        f"({cmp.b.capture_share:.1%}), PAI {_num(cmp.b.pai)}; capture ratio "
        f"{_num(cmp.capture_ratio)}, PAI ratio {_num(cmp.pai_ratio)}; overlap "
        f"{cmp.stability.jaccard:.1%} of the area either covers (Jaccard), "
        f"{cmp.stability.a_overlapping} of {cmp.stability.a_zones} zones overlap the other "
        f"set, {cmp.stability.b_overlapping} of {cmp.stability.b_zones} the other way"
    )
    emit(c, data, table)


def _drops_table(drops: list[CaptureDrop], min_drop: float) -> Table:
    table = Table(
        "zone",
        "district",
        "share before",
        "share after",
        "change",
        title=f"{len(drops)} zones whose capture share fell by {min_drop:.0%} or more",
    )
    for d in drops:
        table.add_row(
            d.zone_id, d.district or "-", f"{d.before:.2%}", f"{d.after:.2%}", f"{d.change:+.0%}"
        )
    return table


def _places_rows(places: list[EmergingPlace], crs: str) -> list[dict[str, Any]]:
    to_wgs84 = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    rows: list[dict[str, Any]] = []
    for p in places:
        lon, lat = to_wgs84.transform(p.x, p.y)
        rows.append(asdict(p) | {"lon": round(float(lon), 6), "lat": round(float(lat), 6)})
    return rows


def _places_table(rows: list[dict[str, Any]], cell_m: float) -> Table:
    table = Table(
        "rank now",
        "district",
        "lat, lon (cell centre)",
        "before",
        "after",
        "change",
        title=f"{len(rows)} places ({cell_m:.0f} m cells) outside the zones whose incidents rose",
    )
    for r in rows:
        table.add_row(
            str(r["rank_after"]),
            r["district"] or "-",
            f"{r['lat']:.5f}, {r['lon']:.5f}",
            str(r["before"]),
            str(r["after"]),
            f"{r['change']:+d}",
        )
    return table


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def _score_table(s: ZoneSetScore, name: str) -> Table:
    table = Table(
        "district",
        "area share",
        "incidents",
        "captured",
        "capture share",
        "PAI",
        title=f"{name}: {s.zones} zones, {s.area_share:.2%} of the city, {s.captured:,} of "
        f"{s.incidents:,} incidents ({s.capture_share:.1%}), PAI {_num(s.pai)}",
    )
    for d in s.districts:
        table.add_row(
            d.district,
            f"{d.area_share:.2%}",
            f"{d.incidents:,}",
            f"{d.captured:,}",
            f"{d.capture_share:.1%}",
            _num(d.pai),
        )
    return table
