"""Zone sets, zones and the activity log in the store (SQLite, and PostgreSQL when set)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pyproj import Transformer
from sqlalchemy import Engine, func, select

from smart_policing.store import tables as t
from smart_policing.store.audit import verify_audit
from smart_policing.store.zones import (
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
from smart_policing.zones.activity import ActivityKind

TZ = "America/New_York"
NOW = datetime(2019, 6, 30, 12, tzinfo=UTC)


def square_m(x0: float, y0: float, side: float) -> list[list[list[float]]]:
    """A square ring in EPSG:26985 metres."""
    return [[[x0, y0], [x0 + side, y0], [x0 + side, y0 + side], [x0, y0 + side], [x0, y0]]]


def collection(features: list[dict[str, Any]], crs: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    return doc


def two_squares(props: tuple[dict[str, Any], dict[str, Any]] = ({}, {})) -> dict[str, Any]:
    """Two squares in Baltimore, 100 m and 200 m a side, declared in EPSG:26985."""
    return collection(
        [
            {
                "type": "Feature",
                "properties": props[0],
                "geometry": {"type": "Polygon", "coordinates": square_m(433000, 180000, 100)},
            },
            {
                "type": "Feature",
                "properties": props[1],
                "geometry": {"type": "Polygon", "coordinates": square_m(434000, 181000, 200)},
            },
        ],
        crs="EPSG:26985",
    )


def imported(engine: Engine, doc: dict[str, Any] | None = None, name: str = "fpa") -> list[Any]:
    import_zone_set(
        engine,
        doc or two_squares(),
        name=name,
        kind=ZoneSetKind.FOCUSED_PATROL,
        file_name="f.geojson",
        actor="analyst1",
    )
    info = find_zone_set(engine, name)
    assert info is not None
    return list_zones(engine, info.id)


def test_a_projected_file_is_stored_in_wgs84_with_areas_in_metres(engine: Engine) -> None:
    done = import_zone_set(
        engine,
        two_squares(),
        name="fpa",
        kind=ZoneSetKind.FOCUSED_PATROL,
        file_name="f.geojson",
        actor="analyst1",
    )
    assert done.created
    assert done.zone_set.zones == 2
    assert done.zone_set.area_m2 == pytest.approx(10_000 + 40_000, rel=1e-9)
    assert done.zone_set.source_crs == "EPSG:26985"
    zones = list_zones(engine, done.zone_set.id)
    # no key property: keys are generated from the set name and position
    assert [z.zone_key for z in zones] == ["fpa-001", "fpa-002"]
    assert [round(z.area_m2) for z in zones] == [10_000, 40_000]
    back = Transformer.from_crs("EPSG:26985", "EPSG:4326", always_xy=True)
    corners = [back.transform(x, y) for x, y in square_m(433000, 180000, 100)[0]]
    expected = (
        min(c[0] for c in corners),
        min(c[1] for c in corners),
        max(c[0] for c in corners),
        max(c[1] for c in corners),
    )
    assert zones[0].bbox == pytest.approx(expected, abs=1e-9)
    assert -77 < zones[0].geometry["coordinates"][0][0][0] < -76  # longitude first
    with engine.connect() as conn:
        ledger = conn.execute(select(t.imports)).one()
    assert (ledger.format, ledger.status, ledger.rows_inserted) == ("zone-set", "completed", 2)


def test_reimport_is_idempotent_and_other_content_is_refused(engine: Engine) -> None:
    imported(engine)
    again = import_zone_set(
        engine,
        two_squares(),
        name="fpa",
        kind=ZoneSetKind.FOCUSED_PATROL,
        file_name="copy.geojson",
        actor="analyst2",
    )
    assert not again.created
    assert again.zone_set.file_name == "f.geojson"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.zones)).scalar_one() == 2
        assert conn.execute(select(func.count()).select_from(t.imports)).scalar_one() == 1
    other = two_squares()
    other["features"] = other["features"][:1]
    with pytest.raises(ZoneStoreError, match="already exists with other zones"):
        import_zone_set(
            engine,
            other,
            name="fpa",
            kind=ZoneSetKind.FOCUSED_PATROL,
            file_name="g.geojson",
            actor="analyst1",
        )
    # under a new name it is a new set
    imported(engine, other, name="fpa-v2")
    assert [s.name for s in list_zone_sets(engine)] == ["fpa", "fpa-v2"]


def test_keys_and_districts_come_from_properties(engine: Engine) -> None:
    zones = imported(engine, two_squares(({"name": "A", "District": "Central"}, {"name": "B"})))
    assert [(z.zone_key, z.district) for z in zones] == [("A", "Central"), ("B", None)]


def test_district_from_stored_boundaries(engine: Engine) -> None:
    from smart_policing.store.imports import start_import

    to_wgs = Transformer.from_crs("EPSG:26985", "EPSG:4326", always_xy=True)
    ring = [list(to_wgs.transform(x, y)) for x, y in square_m(432500, 179500, 1000)[0]]
    import_id = start_import(
        engine, format_name="geojson", source="d", file_name="d", sha256="0", size=0
    )
    with engine.begin() as conn:
        conn.execute(
            t.boundaries.insert().values(
                kind="district",
                layer="d",
                name="Southern",
                geometry=json.dumps({"type": "Polygon", "coordinates": [ring]}),
                source_crs="EPSG:4326",
                area_m2=1e6,
                min_lon=0,
                min_lat=0,
                max_lon=0,
                max_lat=0,
                import_id=import_id,
            )
        )
    zones = imported(engine)
    # the first square lies inside the district, the second outside it
    assert [z.district for z in zones] == ["Southern", None]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"type": "Feature"}, "not a GeoJSON FeatureCollection"),
        (collection([]), "no features"),
        (
            collection([{"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 0]}}]),
            "feature 1: geometry is a Point",
        ),
        (collection([{"type": "Feature", "geometry": None}]), "feature 1: has no geometry"),
        (
            collection(
                [
                    {
                        "type": "Feature",
                        "geometry": {"type": "Polygon", "coordinates": square_m(4e5, 2e5, 10)},
                    }
                ]
            ),
            "out of range",
        ),
        (
            two_squares() | {"crs": {"type": "name", "properties": {"name": "EPSG:999999"}}},
            "unknown",
        ),
    ],
)
def test_bad_files_are_refused_with_the_feature_named(
    engine: Engine, doc: dict[str, Any], message: str
) -> None:
    with pytest.raises(ZoneStoreError, match=message):
        imported(engine, doc)
    assert list_zone_sets(engine) == []


def test_a_non_projected_area_crs_is_refused(engine: Engine) -> None:
    with pytest.raises(ZoneStoreError, match="not a projected CRS"):
        import_zone_set(
            engine,
            two_squares(),
            name="x",
            kind=ZoneSetKind.FOCUSED_PATROL,
            file_name="f",
            actor="a",
            projected_crs="EPSG:4326",
        )


def log(engine: Engine, zone_id: int, start: datetime, minutes: float, **kw: Any) -> Any:
    kw.setdefault("kind", ActivityKind.FOOT_PATROL)
    kw.setdefault("officer", "officer1")
    return record_activity(
        engine,
        zone_id=zone_id,
        started_at=start,
        ended_at=start + timedelta(minutes=minutes),
        now=NOW,
        **kw,
    )


def test_recording_validates_and_audits_without_the_notes(engine: Engine) -> None:
    a, _ = imported(engine)
    start = datetime(2019, 6, 3, 14, tzinfo=UTC)
    done = log(engine, a.id, start, 20, notes="spoke with Jane Doe", unit_id="2A21")
    assert (done.zone_key, done.set_name, done.minutes, done.officer) == (
        "fpa-001",
        "fpa",
        20,
        "officer1",
    )
    assert done.started_at == start
    with pytest.raises(ZoneStoreError, match="ended_at: must be after started_at"):
        log(engine, a.id, start, 0)
    with pytest.raises(ZoneStoreError, match="at most 12 hours"):
        log(engine, a.id, start, 12 * 60 + 1)
    with pytest.raises(ZoneStoreError, match="in the future"):
        log(engine, a.id, NOW, 6)
    log(engine, a.id, NOW - timedelta(minutes=1), 6)  # within the 5-minute clock skew
    with pytest.raises(ZoneStoreError, match="zone_id: no zone with id 999"):
        log(engine, 999, start, 10)
    with engine.connect() as conn:
        rows = conn.execute(select(t.audit_log)).all()
        assert conn.execute(select(func.count()).select_from(t.zone_activities)).scalar_one() == 2
    assert len(rows) == 2
    assert all("Jane" not in json.dumps([str(v) for v in r]) for r in rows)
    assert json.loads(rows[0].records) == {"zone_activity": [done.id], "zone": [a.id]}
    assert verify_audit(engine).ok


def test_dosage_per_zone_per_local_iso_week(engine: Engine) -> None:
    a, b = imported(engine)
    # Monday 2019-06-03 is the first day of ISO week 2019-W23
    log(engine, a.id, datetime(2019, 6, 3, 14, tzinfo=UTC), 15)
    log(engine, a.id, datetime(2019, 6, 4, 14, tzinfo=UTC), 30, kind=ActivityKind.BUSINESS_CHECK)
    # Monday 02:00 UTC is Sunday 22:00 in Baltimore: still week 22 locally
    log(engine, a.id, datetime(2019, 6, 3, 2, tzinfo=UTC), 45)
    log(engine, b.id, datetime(2019, 6, 12, 16, tzinfo=UTC), 90, kind=ActivityKind.WARRANT_SERVICE)
    # outside the period (local day 2019-06-16 is after the end)
    log(engine, b.id, datetime(2019, 6, 16, 16, tzinfo=UTC), 10)
    info = find_zone_set(engine, "fpa")
    assert info is not None
    cells = zone_dosage(engine, info.id, date(2019, 6, 1), date(2019, 6, 15), timezone=TZ)
    got = [(c.zone_id, c.week, c.activities, c.minutes, c.by_kind) for c in cells]
    assert got == [
        (a.id, "2019-W22", 1, 45.0, {"foot-patrol": 1}),
        (a.id, "2019-W23", 2, 45.0, {"business-check": 1, "foot-patrol": 1}),
        (b.id, "2019-W24", 1, 90.0, {"warrant-service": 1}),
    ]


def test_keyset_pages_cover_every_activity_once_newest_first(engine: Engine) -> None:
    a, b = imported(engine)
    base = datetime(2019, 6, 3, 14, tzinfo=UTC)
    ids = []
    for i in range(7):
        # two activities share each start time: the id breaks the tie
        ids.append(log(engine, (a, b)[i % 2].id, base + timedelta(hours=i // 2), 10).id)
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        page = activity_page(engine, cursor=cursor, limit=3)
        seen.extend(x.id for x in page.items)
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert sorted(seen) == sorted(ids)
    assert len(seen) == len(set(seen))
    starts = [(x.started_at, x.id) for x in activity_page(engine, limit=100).items]
    assert starts == sorted(starts, reverse=True)
    only_b = activity_page(engine, zone_id=b.id, limit=100).items
    assert {x.zone_id for x in only_b} == {b.id}
    assert len(only_b) == 3
    with pytest.raises(ZoneStoreError, match="cursor"):
        activity_page(engine, cursor="nonsense")


@pytest.mark.realdata
def test_bpd_focused_patrol_areas(engine: Engine, real_file: Any) -> None:
    path: Path = real_file("baltimore/focused_patrol_areas_2019.geojson")
    done = import_zone_set(
        engine,
        json.loads(path.read_text()),
        name="bpd-fpa-2019",
        kind=ZoneSetKind.FOCUSED_PATROL,
        file_name=path.name,
        actor="analyst1",
    )
    assert done.zone_set.zones == 118
    zones = list_zones(engine, done.zone_set.id)
    areas = sorted(z.area_m2 for z in zones)
    # every polygon has Id 0, so keys are generated; BPD's sizes: 0.012 to 0.375 km²
    assert zones[0].zone_key == "bpd-fpa-2019-001"
    assert round(areas[0]) == 12_140
    assert round(areas[-1]) == 374_969
    # the city is the nine police districts (210.8 km² in EPSG:26985): BPD's 3.45%
    city = import_zone_set(
        engine,
        json.loads(real_file("baltimore/police_districts.geojson").read_text()),
        name="districts",
        kind=ZoneSetKind.DISTRICT_ACTION_TEAM,
        file_name="police_districts.geojson",
        actor="analyst1",
    )
    assert round(city.zone_set.area_m2 / 1e6, 1) == 210.8
    assert round(100 * done.zone_set.area_m2 / city.zone_set.area_m2, 2) == 3.45


@pytest.mark.realdata
def test_bpd_areas_fall_in_the_nine_districts(engine: Engine, real_file: Any) -> None:
    from smart_policing.data.boundaries import import_boundaries
    from smart_policing.model.boundaries import BoundaryKind

    import_boundaries(
        engine,
        real_file("baltimore/police_districts.geojson"),
        kind=BoundaryKind.DISTRICT,
        layer="districts",
    )
    path: Path = real_file("baltimore/focused_patrol_areas_2019.geojson")
    zones = imported(engine, json.loads(path.read_text()), name="bpd-fpa-2019")
    per: dict[str | None, int] = {}
    for z in zones:
        per[z.district] = per.get(z.district, 0) + 1
    # "in each of the nine districts" (seed 001): 11 to 18 areas each, none outside
    assert per == {
        "Central": 12,
        "Eastern": 12,
        "Northeastern": 18,
        "Northern": 13,
        "Northwestern": 13,
        "Southeastern": 12,
        "Southern": 11,
        "Southwestern": 14,
        "Western": 13,
    }


def test_zones_built_by_zones_build_keep_their_ids(engine: Engine) -> None:
    """The builder writes ``zone_id`` (Z001, ...): an imported build keeps those keys, so
    officers log activity against the ids the analyst's table shows."""
    square = [[[-76.61, 39.29], [-76.60, 39.29], [-76.60, 39.30], [-76.61, 39.30], [-76.61, 39.29]]]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"zone_id": f"Z00{i}", "district": "Central", "rank": i},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[x + 0.02 * i, y] for x, y in square[0]]],
                },
            }
            for i in (1, 2)
        ],
    }
    done = import_zone_set(
        engine, doc, name="built", kind=ZoneSetKind.FOCUSED_PATROL, file_name="z.geojson", actor="t"
    )
    assert [z.zone_key for z in list_zones(engine, done.zone_set.id)] == ["Z001", "Z002"]
