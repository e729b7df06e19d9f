"""Zone sets, their zones, and the proactive-activity log (R8, R9): the repository.

**Zone sets.** A zone set is a named GeoJSON FeatureCollection of polygons (BPD's
2019 Focused Patrol Areas, its District Action Team zones, a set ``zones build``
made). The file's CRS is read as boundary imports read it
(:func:`smart_policing.data.boundaries.read_crs`: its ``crs`` member, WGS84 without
one, ``crs=`` overrides); geometries are stored as GeoJSON text in WGS84
(EPSG:4326, x = longitude), repaired with ``make_valid`` when invalid. Each zone's
area is computed in square metres in a projected CRS (``projected_crs``, default
EPSG:26985, NAD83 / Maryland, metres; pass the state plane or UTM zone of another
city). A zone is keyed by ``key_field`` or the first of ``zone_key``, ``zone``,
``name``, ``id``, ``Id``, ``ID`` whose values are present and unique across the
file; failing that (BPD's files give every polygon ``Id: 0``) by position,
``<set name>-001`` .... Its district comes from a ``district`` / ``District``
property, else from the stored district boundaries (``import boundaries --kind
district``) containing the zone's representative point, else stays unknown.

Importing is idempotent: the same name and the same content (zone keys and
geometries, hashed) change nothing; the same name with different content is refused
with :class:`ZoneStoreError` (import it under a new name: a set that activities
refer to is never rewritten). A new set writes an ``imports`` ledger row (format
``zone-set``).

**Activities** are validated by :func:`smart_policing.zones.activity.validate_activity`
and must name a stored zone. Each recorded activity writes an audit row naming the
activity and zone ids; its ``notes`` (free text that may name people) never reach
the audit log. Dosage (activities and minutes per zone per local ISO week) is
computed by :func:`smart_policing.zones.activity.dosage`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely import make_valid
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine, Row, and_, func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from smart_policing.data.boundaries import read_crs
from smart_policing.data.reader import UnusableFileError
from smart_policing.store import tables as t
from smart_policing.store.audit import append_audit
from smart_policing.store.imports import finish_import, start_import
from smart_policing.zones.activity import (
    ActivityError,
    ActivityKind,
    DosageCell,
    LoggedActivity,
    dosage,
    validate_activity,
)

__all__ = [
    "DEFAULT_PROJECTED_CRS",
    "ActivityPage",
    "StoredActivity",
    "StoredZone",
    "ZoneSetImported",
    "ZoneSetInfo",
    "ZoneSetKind",
    "ZoneShape",
    "ZoneStoreError",
    "activity_page",
    "find_zone_set",
    "import_zone_set",
    "list_zone_sets",
    "list_zones",
    "parse_zone_set",
    "record_activity",
    "zone_dosage",
]

#: NAD83 / Maryland (metres): areas of Baltimore zones are computed in it by default.
DEFAULT_PROJECTED_CRS = "EPSG:26985"

_KEY_FIELDS = ("zone_key", "zone_id", "zone", "name", "id", "Id", "ID")
_DISTRICT_FIELDS = ("district", "District", "DISTRICT", "dist_name")
_MAX_KEY = 128


class ZoneSetKind(StrEnum):
    """What a zone set is for (seed 001): micro-zones, or the larger DAT zones."""

    FOCUSED_PATROL = "focused-patrol"
    DISTRICT_ACTION_TEAM = "district-action-team"


class ZoneStoreError(ValueError):
    """A zone or activity request that cannot be carried out; the message says why."""


@dataclass(frozen=True, slots=True)
class ZoneShape:
    """A zone read from a file: key, district, WGS84 geometry, area (m²), properties."""

    key: str
    district: str | None
    geometry: BaseGeometry
    area_m2: float
    properties: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ZoneSetInfo:
    """A stored zone set, its zone count and total area (square metres)."""

    id: int
    name: str
    kind: ZoneSetKind
    file_name: str
    source_crs: str
    projected_crs: str
    content_sha256: str
    created_at: datetime
    created_by: str
    zones: int
    area_m2: float


@dataclass(frozen=True, slots=True)
class ZoneSetImported:
    """What :func:`import_zone_set` did: the set, and whether it was created now."""

    zone_set: ZoneSetInfo
    created: bool
    repaired: int


@dataclass(frozen=True, slots=True)
class StoredZone:
    """A stored zone: geometry is a GeoJSON geometry object in WGS84."""

    id: int
    set_id: int
    zone_key: str
    district: str | None
    geometry: dict[str, Any]
    area_m2: float
    bbox: tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class StoredActivity:
    """A logged activity as stored (times in UTC)."""

    id: int
    zone_id: int
    zone_key: str
    set_name: str
    kind: ActivityKind
    started_at: datetime
    ended_at: datetime
    officer: str
    unit_id: str | None
    notes: str | None
    created_at: datetime

    @property
    def minutes(self) -> float:
        """Length in minutes."""
        return (self.ended_at - self.started_at).total_seconds() / 60.0


@dataclass(frozen=True, slots=True)
class ActivityPage:
    """Activities newest first, and the cursor of the next (older) page, if any."""

    items: tuple[StoredActivity, ...]
    next_cursor: str | None


# ---------------------------------------------------------------- parsing


def _pick_key_field(props: list[dict[str, Any]], key_field: str | None) -> str | None:
    if key_field is not None:
        values = [_props_value(p, key_field) for p in props]
        if None in values or len(set(values)) != len(values):
            raise ZoneStoreError(
                f"property {key_field!r} is missing or does not name the zones uniquely"
            )
        return key_field
    for f in _KEY_FIELDS:
        values = [_props_value(p, f) for p in props]
        if None not in values and len(set(values)) == len(values):
            return f
    return None


def _props_value(props: dict[str, Any], field: str) -> str | None:
    """A property as text (None when absent or blank)."""
    value = props.get(field)
    return None if value is None or str(value).strip() == "" else str(value).strip()


def parse_zone_set(
    doc: Any,
    *,
    set_name: str,
    crs: str | None = None,
    projected_crs: str = DEFAULT_PROJECTED_CRS,
    key_field: str | None = None,
) -> tuple[str, list[ZoneShape], int]:
    """Read a GeoJSON FeatureCollection of polygons into zones.

    Returns the source CRS (as text), the zones in file order, and how many
    geometries were repaired. Raises :class:`ZoneStoreError` naming the feature for
    a missing, non-polygon or out-of-range geometry (a zone set is taken whole or
    not at all: a zone silently dropped would change every share computed on it).
    """
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise ZoneStoreError("not a GeoJSON FeatureCollection")
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise ZoneStoreError("the FeatureCollection has no features")
    try:
        src = read_crs(doc, crs)
        projected = CRS.from_user_input(projected_crs)
    except (UnusableFileError, CRSError) as exc:
        raise ZoneStoreError(str(exc)) from exc
    if not projected.is_projected:
        raise ZoneStoreError(f"projected_crs {projected_crs!r} is not a projected CRS in metres")
    to_wgs84 = (
        None
        if src.to_epsg() == 4326 or src.name.endswith("CRS84")
        else Transformer.from_crs(src, "EPSG:4326", always_xy=True)
    )
    to_metres = Transformer.from_crs("EPSG:4326", projected, always_xy=True)
    geoms: list[BaseGeometry] = []
    props_list: list[dict[str, Any]] = []
    repaired = 0
    for i, feat in enumerate(features, start=1):
        if not isinstance(feat, dict) or not feat.get("geometry"):
            raise ZoneStoreError(f"feature {i}: has no geometry")
        try:
            geom = shape(feat["geometry"])
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise ZoneStoreError(f"feature {i}: unreadable geometry: {exc}") from exc
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise ZoneStoreError(
                f"feature {i}: geometry is a {geom.geom_type}, expected Polygon or MultiPolygon"
            )
        if to_wgs84 is not None:
            geom = shapely.transform(geom, to_wgs84.transform, interleaved=False)
        if not geom.is_valid:
            geom = make_valid(geom)
            repaired += 1
        if geom.is_empty:
            raise ZoneStoreError(f"feature {i}: geometry is empty")
        minx, miny, maxx, maxy = geom.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise ZoneStoreError(
                f"feature {i}: coordinates out of range for {src.to_string()} "
                "(declare the file's CRS with --crs)"
            )
        geoms.append(geom)
        props = feat.get("properties")
        props_list.append(props if isinstance(props, dict) else {})
    field = _pick_key_field(props_list, key_field)
    width = max(3, len(str(len(features))))
    zones: list[ZoneShape] = []
    for i, (geom, props) in enumerate(zip(geoms, props_list, strict=True), start=1):
        key = _props_value(props, field) if field else None
        key = key if key is not None else f"{set_name}-{i:0{width}d}"
        if len(key) > _MAX_KEY:
            raise ZoneStoreError(f"feature {i}: zone key longer than {_MAX_KEY} characters")
        district = next(
            (v for f in _DISTRICT_FIELDS if (v := _props_value(props, f)) is not None), None
        )
        area = float(shapely.transform(geom, to_metres.transform, interleaved=False).area)
        zones.append(ZoneShape(key, district, geom, area, props))
    return src.to_string(), zones, repaired


def _geometry_text(geom: BaseGeometry) -> str:
    return json.dumps(mapping(geom), separators=(",", ":"))


def _content_sha(zones: list[ZoneShape]) -> str:
    h = hashlib.sha256()
    for z in sorted(zones, key=lambda z: z.key):
        h.update(z.key.encode())
        h.update(b"\0")
        h.update(_geometry_text(shapely.set_precision(z.geometry, 1e-9)).encode())
        h.update(b"\n")
    return h.hexdigest()


# ---------------------------------------------------------------- zone sets


def _info(row: Row[Any]) -> ZoneSetInfo:
    m = row._mapping
    return ZoneSetInfo(
        id=m["id"],
        name=m["name"],
        kind=ZoneSetKind(m["kind"]),
        file_name=m["file_name"],
        source_crs=m["source_crs"],
        projected_crs=m["projected_crs"],
        content_sha256=m["content_sha256"],
        created_at=m["created_at"],
        created_by=m["created_by"],
        zones=int(m["zones"] or 0),
        area_m2=float(m["area_m2"] or 0.0),
    )


def _sets_query() -> Any:
    s, z = t.zone_sets, t.zones
    counts = (
        select(
            z.c.set_id,
            func.count().label("zones"),
            func.sum(z.c.area_m2).label("area_m2"),
        )
        .group_by(z.c.set_id)
        .subquery()
    )
    return select(s, counts.c.zones, counts.c.area_m2).outerjoin(counts, counts.c.set_id == s.c.id)


def list_zone_sets(engine: Engine) -> list[ZoneSetInfo]:
    """Every stored zone set, by name."""
    with engine.connect() as conn:
        rows = conn.execute(_sets_query().order_by(t.zone_sets.c.name)).all()
    return [_info(r) for r in rows]


def find_zone_set(engine: Engine, name: str) -> ZoneSetInfo | None:
    """The zone set called ``name``, or None."""
    with engine.connect() as conn:
        row = conn.execute(_sets_query().where(t.zone_sets.c.name == name)).first()
    return _info(row) if row is not None else None


def _districts(engine: Engine) -> list[tuple[str, BaseGeometry]]:
    b = t.boundaries
    with engine.connect() as conn:
        rows = conn.execute(select(b.c.name, b.c.geometry).where(b.c.kind == "district")).all()
    return [(r.name, shape(json.loads(r.geometry))) for r in rows]


def import_zone_set(
    engine: Engine,
    doc: Any,
    *,
    name: str,
    kind: ZoneSetKind,
    file_name: str,
    actor: str,
    crs: str | None = None,
    projected_crs: str = DEFAULT_PROJECTED_CRS,
    key_field: str | None = None,
    file_sha256: str | None = None,
    file_bytes: int | None = None,
) -> ZoneSetImported:
    """Store the GeoJSON FeatureCollection ``doc`` as zone set ``name``.

    Idempotent: the same name and content return the stored set (``created=False``);
    the same name with other content raises :class:`ZoneStoreError`. ``file_sha256``
    and ``file_bytes`` describe the file read, for the import ledger (default: the
    zones' content hash and the document's JSON length).
    """
    name = name.strip()
    if not name or len(name) > 128 or any(ord(ch) < 32 for ch in name):
        raise ZoneStoreError("name: 1 to 128 printable characters")
    source_crs, shapes, repaired = parse_zone_set(
        doc, set_name=name, crs=crs, projected_crs=projected_crs, key_field=key_field
    )
    sha = _content_sha(shapes)
    existing = find_zone_set(engine, name)
    if existing is not None:
        if existing.content_sha256 != sha:
            raise ZoneStoreError(
                f"zone set {name!r} already exists with other zones (imported from "
                f"{existing.file_name} on {existing.created_at:%Y-%m-%d}); import under a new name"
            )
        return ZoneSetImported(existing, created=False, repaired=repaired)
    districts = _districts(engine) if any(z.district is None for z in shapes) else []
    import_id = start_import(
        engine,
        format_name="zone-set",
        source=name[:64],
        file_name=file_name,
        sha256=file_sha256 or sha,
        size=file_bytes if file_bytes is not None else len(json.dumps(doc)),
    )
    rows = []
    for z in shapes:
        district = z.district
        if district is None and districts:
            point = z.geometry.representative_point()
            district = next((d for d, poly in districts if poly.contains(point)), None)
        minx, miny, maxx, maxy = z.geometry.bounds
        rows.append(
            {
                "zone_key": z.key,
                "district": district[:64] if district else None,
                "geometry": _geometry_text(z.geometry),
                "area_m2": z.area_m2,
                "min_lon": minx,
                "min_lat": miny,
                "max_lon": maxx,
                "max_lat": maxy,
                "properties": z.properties,
            }
        )
    try:
        with engine.begin() as conn:
            set_id = conn.execute(
                insert(t.zone_sets)
                .values(
                    name=name,
                    kind=kind.value,
                    file_name=file_name,
                    source_crs=source_crs[:64],
                    projected_crs=projected_crs,
                    content_sha256=sha,
                    created_at=datetime.now(UTC),
                    created_by=actor,
                    import_id=import_id,
                )
                .returning(t.zone_sets.c.id)
            ).scalar_one()
            conn.execute(insert(t.zones), [{**r, "set_id": set_id} for r in rows])
    except IntegrityError as exc:
        finish_import(
            engine, import_id, status="failed", read=len(shapes), inserted=0, duplicates=0,
            rejected=0, flagged=repaired, error="zone set name taken concurrently",
        )  # fmt: skip
        raise ZoneStoreError(f"zone set {name!r} was imported at the same time") from exc
    finish_import(
        engine,
        import_id,
        status="completed",
        read=len(shapes),
        inserted=len(shapes),
        duplicates=0,
        rejected=0,
        flagged=repaired,
        details={"zone_set": name, "kind": kind.value, "repaired": repaired},
    )
    info = find_zone_set(engine, name)
    assert info is not None
    return ZoneSetImported(info, created=True, repaired=repaired)


def list_zones(engine: Engine, set_id: int) -> list[StoredZone]:
    """The zones of a set, by key."""
    z = t.zones
    with engine.connect() as conn:
        rows = conn.execute(select(z).where(z.c.set_id == set_id).order_by(z.c.zone_key)).all()
    return [
        StoredZone(
            r.id,
            r.set_id,
            r.zone_key,
            r.district,
            json.loads(r.geometry),
            r.area_m2,
            (r.min_lon, r.min_lat, r.max_lon, r.max_lat),
        )
        for r in rows
    ]


# ---------------------------------------------------------------- activities


def _activity_select() -> Any:
    a, z, s = t.zone_activities, t.zones, t.zone_sets
    return select(a, z.c.zone_key, s.c.name.label("set_name")).select_from(
        a.join(z, z.c.id == a.c.zone_id).join(s, s.c.id == z.c.set_id)
    )


def _activity(row: Row[Any]) -> StoredActivity:
    m = row._mapping
    return StoredActivity(
        id=m["id"],
        zone_id=m["zone_id"],
        zone_key=m["zone_key"],
        set_name=m["set_name"],
        kind=ActivityKind(m["kind"]),
        started_at=m["started_at"],
        ended_at=m["ended_at"],
        officer=m["officer"],
        unit_id=m["unit_id"],
        notes=m["notes"],
        created_at=m["created_at"],
    )


def record_activity(
    engine: Engine,
    *,
    zone_id: int,
    kind: ActivityKind,
    started_at: datetime,
    ended_at: datetime,
    officer: str,
    unit_id: str | None = None,
    notes: str | None = None,
    roles: str = "",
    route: str = "",
    now: datetime | None = None,
) -> StoredActivity:
    """Log an activity by ``officer`` in zone ``zone_id``; audit it (without the notes).

    Raises :class:`ZoneStoreError` for invalid times (the message names the field)
    or an unknown zone.
    """
    now = now or datetime.now(UTC)
    try:
        validate_activity(started_at, ended_at, now=now)
    except ActivityError as exc:
        raise ZoneStoreError(str(exc)) from exc
    with engine.begin() as conn:
        exists = conn.execute(select(t.zones.c.id).where(t.zones.c.id == zone_id)).first()
        if exists is None:
            raise ZoneStoreError(f"zone_id: no zone with id {zone_id}")
        new_id = conn.execute(
            insert(t.zone_activities)
            .values(
                zone_id=zone_id,
                kind=kind.value,
                started_at=started_at,
                ended_at=ended_at,
                officer=officer,
                unit_id=unit_id,
                notes=notes,
                created_at=now,
            )
            .returning(t.zone_activities.c.id)
        ).scalar_one()
    append_audit(
        engine,
        actor=officer,
        roles=roles,
        action="write",
        route=route or "record_activity",
        records=json.dumps({"zone_activity": [new_id], "zone": [zone_id]}),
        result="created",
    )
    with engine.connect() as conn:
        row = conn.execute(_activity_select().where(t.zone_activities.c.id == new_id)).one()
    return _activity(row)


def _utc_bounds(start: date, end: date, timezone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(timezone)
    lo = datetime.combine(start, time(), tz).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(), tz).astimezone(UTC)
    return lo, hi


def zone_dosage(
    engine: Engine, set_id: int, start: date, end: date, *, timezone: str
) -> list[DosageCell]:
    """Activities and minutes per zone of set ``set_id`` per local ISO week, for
    activities starting on local days ``start`` .. ``end`` (inclusive)."""
    a, z = t.zone_activities, t.zones
    lo, hi = _utc_bounds(start, end, timezone)
    with engine.connect() as conn:
        rows = conn.execute(
            select(a.c.zone_id, a.c.kind, a.c.started_at, a.c.ended_at)
            .select_from(a.join(z, z.c.id == a.c.zone_id))
            .where(z.c.set_id == set_id, a.c.started_at >= lo, a.c.started_at < hi)
        ).all()
    return dosage(
        (LoggedActivity(r.zone_id, ActivityKind(r.kind), r.started_at, r.ended_at) for r in rows),
        timezone,
    )


def _cursor(item: StoredActivity) -> str:
    return f"{item.started_at.astimezone(UTC).isoformat()}~{item.id}"


def _parse_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        at_text, id_text = cursor.rsplit("~", 1)
        at = datetime.fromisoformat(at_text)
        if at.utcoffset() is None:
            raise ValueError("naive")
        return at, int(id_text)
    except ValueError as exc:
        raise ZoneStoreError("cursor: not a cursor this listing gave out") from exc


def activity_page(
    engine: Engine,
    *,
    set_id: int | None = None,
    zone_id: int | None = None,
    officer: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> ActivityPage:
    """Activities newest first (by start, then id), filtered; keyset-paged by ``cursor``."""
    a, z = t.zone_activities, t.zones
    q = _activity_select()
    if set_id is not None:
        q = q.where(z.c.set_id == set_id)
    if zone_id is not None:
        q = q.where(a.c.zone_id == zone_id)
    if officer is not None:
        q = q.where(a.c.officer == officer)
    if start is not None:
        q = q.where(a.c.started_at >= start)
    if end is not None:
        q = q.where(a.c.started_at < end)
    if cursor is not None:
        at, last_id = _parse_cursor(cursor)
        q = q.where(or_(a.c.started_at < at, and_(a.c.started_at == at, a.c.id < last_id)))
    q = q.order_by(a.c.started_at.desc(), a.c.id.desc()).limit(limit + 1)
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    items = tuple(_activity(r) for r in rows[:limit])
    more = len(rows) > limit
    return ActivityPage(items, _cursor(items[-1]) if more and items else None)
