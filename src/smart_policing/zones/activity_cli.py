"""``smart-policing zones import | list | activity ... | dosage``: zone sets and the
proactive-activity log (R8, R9).

::

    smart-policing zones import ZONES.geojson --name NAME
        [--kind focused-patrol|district-action-team] [--crs CRS]
        [--projected-crs EPSG:26985] [--key-field PROPERTY] [--actor NAME]
    smart-policing zones list [--json]
    smart-policing zones activity log --set NAME --zone KEY --kind foot-patrol
        --start 2019-06-03T14:00 (--end 2019-06-03T14:25 | --minutes 25)
        [--officer NAME] [--unit ID] [--notes TEXT]
    smart-policing zones activity list [--set NAME] [--officer NAME] [--limit 50] [--json]
    smart-policing zones dosage --set NAME --start DATE --end DATE [--json]

Times without an offset are local wall time in the global ``--timezone``; weeks are
local ISO weeks (``smart_policing.zones.activity``). ``import`` stores the file's
polygons in WGS84 with areas in square metres in ``--projected-crs``; a second
import of the same content under the same name changes nothing, other content under
a used name is refused (exit 2). Unusable input exits 2 with a message naming the
option or the file's feature.
"""

from __future__ import annotations

import getpass
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from smart_policing.cli_support import JsonOpt, emit, fail, parse_day, root_context
from smart_policing.data.reader import file_sha256
from smart_policing.store.zones import (
    DEFAULT_PROJECTED_CRS,
    ZoneSetInfo,
    ZoneSetKind,
    ZoneStoreError,
    activity_page,
    find_zone_set,
    import_zone_set,
    list_zone_sets,
    list_zones,
    record_activity,
    zone_dosage,
)
from smart_policing.zones.activity import ActivityKind, weeks_between
from smart_policing.zones.cli import zones_app

__all__ = ["activity_app"]

activity_app = typer.Typer(
    help="The proactive-activity log: foot patrols, business checks, knock-and-talks, "
    "warrant services (R9).",
    no_args_is_help=True,
)
zones_app.add_typer(activity_app, name="activity")

_ROUTE = "cli zones"


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment or password file
        return "unknown"


def _set_dict(s: ZoneSetInfo) -> dict[str, Any]:
    return {
        "name": s.name,
        "kind": s.kind.value,
        "file_name": s.file_name,
        "source_crs": s.source_crs,
        "projected_crs": s.projected_crs,
        "created_at": s.created_at.isoformat(),
        "created_by": s.created_by,
        "zones": s.zones,
        "area_m2": s.area_m2,
    }


@zones_app.command("import")
def import_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="GeoJSON FeatureCollection of polygons.")],
    name: Annotated[str, typer.Option("--name", help="Name of the zone set (unique).")],
    kind: Annotated[
        ZoneSetKind, typer.Option("--kind", help="Micro-zones or District Action Team zones.")
    ] = ZoneSetKind.FOCUSED_PATROL,
    crs: Annotated[
        str | None,
        typer.Option("--crs", help="The file's CRS, when it declares none or a wrong one."),
    ] = None,
    projected_crs: Annotated[
        str, typer.Option("--projected-crs", help="CRS in metres for the areas.")
    ] = DEFAULT_PROJECTED_CRS,
    key_field: Annotated[
        str | None, typer.Option("--key-field", help="Property naming the zones uniquely.")
    ] = None,
    actor: Annotated[
        str | None, typer.Option("--actor", help="Who imports (default: OS user name).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Store a zone set (e.g. BPD's 2019 Focused Patrol Areas) from a GeoJSON file."""
    c = root_context(ctx, as_json)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise fail(f"{path}: cannot open: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise fail(f"{path}: not a GeoJSON file: {exc}") from exc
    try:
        done = import_zone_set(
            c.engine(),
            doc,
            name=name,
            kind=kind,
            file_name=path.name,
            actor=actor or _os_user(),
            crs=crs,
            projected_crs=projected_crs,
            key_field=key_field,
            file_sha256=file_sha256(path),
            file_bytes=path.stat().st_size,
        )
    except ZoneStoreError as exc:
        raise fail(f"{path}: {exc}") from exc
    s = done.zone_set
    data = {**_set_dict(s), "created": done.created, "repaired": done.repaired}
    verb = "imported" if done.created else "already stored (same content), nothing changed:"
    emit(c, data, f"{verb} {s.name}: {s.zones} zones, {s.area_m2 / 1e6:.3f} km² ({s.kind.value})")


@zones_app.command("list")
def list_cmd(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """The stored zone sets."""
    c = root_context(ctx, as_json)
    sets = list_zone_sets(c.engine())
    table = Table("name", "kind", "zones", "km²", "file", "created")
    for s in sets:
        table.add_row(
            s.name,
            s.kind.value,
            str(s.zones),
            f"{s.area_m2 / 1e6:.3f}",
            s.file_name,
            f"{s.created_at:%Y-%m-%d}",
        )
    emit(c, [_set_dict(s) for s in sets], table if sets else "no zone sets stored")


def _zone_set(engine: Any, name: str) -> ZoneSetInfo:
    found = find_zone_set(engine, name)
    if found is None:
        raise fail(f"--set: no zone set named {name!r} (see: smart-policing zones list)")
    return found


def _moment(value: str, option: str, timezone: str) -> datetime:
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise fail(f"{option} {value!r} is not a date and time (2019-06-03T14:00)") from exc
    return at if at.utcoffset() is not None else at.replace(tzinfo=ZoneInfo(timezone))


@activity_app.command("log")
def log_cmd(
    ctx: typer.Context,
    zone_set: Annotated[str, typer.Option("--set", help="Zone set name.")],
    zone: Annotated[str, typer.Option("--zone", help="Zone key within the set.")],
    kind: Annotated[ActivityKind, typer.Option("--kind", help="What was done.")],
    start: Annotated[str, typer.Option("--start", help="Start (local unless an offset is given).")],
    end: Annotated[str | None, typer.Option("--end", help="End (or give --minutes).")] = None,
    minutes: Annotated[
        int | None, typer.Option("--minutes", min=1, max=720, help="Length in minutes.")
    ] = None,
    officer: Annotated[
        str | None, typer.Option("--officer", help="Officer's user name (default: OS user).")
    ] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Unit id, e.g. 2A21.")] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Notes (not audited).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Log a proactive activity in a zone."""
    c = root_context(ctx, as_json)
    tz = c.settings.timezone
    started = _moment(start, "--start", tz)
    if (end is None) == (minutes is None):
        raise fail("give one of --end or --minutes")
    ended = (
        _moment(end, "--end", tz) if end is not None else started + timedelta(minutes=minutes or 0)
    )
    engine = c.engine()
    found = _zone_set(engine, zone_set)
    zone_id = next((z.id for z in list_zones(engine, found.id) if z.zone_key == zone), None)
    if zone_id is None:
        raise fail(f"--zone: no zone {zone!r} in set {zone_set!r}")
    try:
        done = record_activity(
            engine,
            zone_id=zone_id,
            kind=kind,
            started_at=started,
            ended_at=ended,
            officer=officer or _os_user(),
            unit_id=unit,
            notes=notes,
            roles="cli",
            route=f"{_ROUTE} activity log",
        )
    except ZoneStoreError as exc:
        raise fail(str(exc).replace("started_at", "--start").replace("ended_at", "--end")) from exc
    data = {
        "id": done.id,
        "zone_set": done.set_name,
        "zone": done.zone_key,
        "kind": done.kind.value,
        "started_at": done.started_at.isoformat(),
        "ended_at": done.ended_at.isoformat(),
        "minutes": done.minutes,
        "officer": done.officer,
    }
    emit(c, data, f"logged {done.kind.value} in {done.zone_key}: {done.minutes:g} minutes")


@activity_app.command("list")
def activity_list_cmd(
    ctx: typer.Context,
    zone_set: Annotated[str | None, typer.Option("--set", help="Only this zone set.")] = None,
    officer: Annotated[str | None, typer.Option("--officer", help="Only this officer.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The newest activities first."""
    c = root_context(ctx, as_json)
    engine = c.engine()
    set_id = _zone_set(engine, zone_set).id if zone_set is not None else None
    page = activity_page(engine, set_id=set_id, officer=officer, limit=limit)
    tz = ZoneInfo(c.settings.timezone)
    table = Table("id", "set", "zone", "kind", "start", "minutes", "officer", "unit")
    for a in page.items:
        table.add_row(
            str(a.id),
            a.set_name,
            a.zone_key,
            a.kind.value,
            f"{a.started_at.astimezone(tz):%Y-%m-%d %H:%M}",
            f"{a.minutes:g}",
            a.officer,
            a.unit_id or "",
        )
    data = [
        {
            "id": a.id,
            "zone_set": a.set_name,
            "zone": a.zone_key,
            "kind": a.kind.value,
            "started_at": a.started_at.isoformat(),
            "ended_at": a.ended_at.isoformat(),
            "minutes": a.minutes,
            "officer": a.officer,
            "unit_id": a.unit_id,
        }
        for a in page.items
    ]
    emit(c, data, table if data else "no activities")


@zones_app.command("dosage")
def dosage_cmd(
    ctx: typer.Context,
    zone_set: Annotated[str, typer.Option("--set", help="Zone set name.")],
    start: Annotated[str, typer.Option("--start", help="First local day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--end", help="Last local day, YYYY-MM-DD (inclusive).")],
    as_json: JsonOpt = False,
) -> None:
    """Activities and minutes per zone per local ISO week over a period."""
    c = root_context(ctx, as_json)
    first, last = parse_day(start, "--start"), parse_day(end, "--end")
    assert first is not None
    assert last is not None
    if last < first:
        raise fail("--end: must not be before --start")
    engine = c.engine()
    found = _zone_set(engine, zone_set)
    zones = list_zones(engine, found.id)
    cells = zone_dosage(engine, found.id, first, last, timezone=c.settings.timezone)
    weeks = weeks_between(first, last)
    by = {(x.zone_id, x.week): x for x in cells}
    rows: list[dict[str, Any]] = []
    for z in zones:
        mine = [by[(z.id, w)] for w in weeks if (z.id, w) in by]
        rows.append(
            {
                "zone_id": z.id,
                "zone_key": z.zone_key,
                "district": z.district,
                "area_m2": z.area_m2,
                "activities": sum(x.activities for x in mine),
                "minutes": sum(x.minutes for x in mine),
                "weeks": [
                    {
                        "week": x.week,
                        "activities": x.activities,
                        "minutes": x.minutes,
                        "by_kind": x.by_kind,
                    }
                    for x in mine
                ],
            }
        )
    data = {
        "zone_set": found.name,
        "start": first.isoformat(),
        "end": last.isoformat(),
        "timezone": c.settings.timezone,
        "weeks": weeks,
        "activities": sum(r["activities"] for r in rows),
        "minutes": sum(r["minutes"] for r in rows),
        "zones": rows,
    }
    table = Table("zone", "district", *weeks, "total")
    for r in rows:
        per = {w["week"]: w for w in r["weeks"]}
        table.add_row(
            r["zone_key"],
            r["district"] or "",
            *(
                f"{per[w]['activities']} / {per[w]['minutes']:.0f} min" if w in per else ""
                for w in weeks
            ),
            f"{r['activities']} / {r['minutes']:.0f} min",
        )
    emit(c, data, table)
