"""From scenario to engine inputs: the clock, districts, generated and replayed calls, tours."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import shape

from smart_policing.data.synth import CityParams, generate_city
from smart_policing.response.sim.generate import (
    CallTable,
    build_district_map,
    build_fleet,
    call_generator,
    call_replay,
    hour_rates,
    run_origin,
)
from smart_policing.response.sim.scenario import (
    Calibration,
    Empirical,
    GeoJsonLayout,
    OnSceneTables,
    ProactiveStats,
    Scenario,
    Shift,
    SyntheticDistrict,
    SyntheticLayout,
)
from smart_policing.triage.replay_cli import read_calls_file

NY = "America/New_York"


def scenario(**over: Any) -> Scenario:
    data: dict[str, Any] = {
        "schema_version": 1,
        "name": "t",
        "seed": 1,
        "start_date": "2025-03-03",
        "horizon_days": 7,
        "warmup_days": 0,
        "geography": {
            "layout": "synthetic",
            "districts": [{"name": "A", "area_km2": 4.0}, {"name": "B", "area_km2": 16.0}],
        },
        "shifts": [{"name": "day", "start": "07:00", "hours": 12}],
        "staffing": {"A": [1], "B": [1]},
        "calls": {
            "mode": "generate",
            "per_day": 240,
            "hourly_profile": [0] * 6 + [1] * 18,
            "weekday_profile": [1] * 7,
            "district_weights": {"A": 1, "B": 3},
            "types": [
                {
                    "name": "X",
                    "share": 3,
                    "priority": {1: 0.5, 3: 0.5},
                    "units_needed": {1: 0.5, 2: 0.5},
                    "on_scene": {"kind": "fixed", "value": 7},
                },
                {"name": "Y", "share": 1, "priority": 2, "on_scene": {"kind": "fixed", "value": 9}},
            ],
        },
        "call_taking": {"kind": "fixed", "value": 1.5},
        "dispatch_delay": {"kind": "fixed", "value": 0.25},
    }
    data.update(over)
    return Scenario.model_validate(data)


# ---------------------------------------------------------------- clock


def test_hour_rates_follow_the_local_clock_across_dst() -> None:
    # 2025-03-09 is the spring-forward day in New York: 23 local hours
    origin = run_origin(date(2025, 3, 9), NY)
    assert origin.astimezone(UTC) == datetime(2025, 3, 9, 5, tzinfo=UTC)
    hourly = [float(h) for h in range(24)]  # weight = local hour
    rates = hour_rates(24.0, hourly, [1] * 7, origin, 24)
    norm = 24.0 / sum(hourly)
    # absolute hours 0, 1 are local 00:00, 01:00; absolute hour 2 is local 03:00
    assert rates[:4] == pytest.approx([0.0, 1 * norm, 3 * norm, 4 * norm])
    # the day has 23 local hours, so hour 23 is already Monday 00:00
    assert rates[:23].sum() == pytest.approx(24.0 - 2 * norm)
    assert rates[23] == 0.0


def test_weekday_profile_is_relative_to_its_mean() -> None:
    origin = run_origin(date(2025, 3, 17), NY)  # a Monday, no clock change that week
    rates = hour_rates(10.0, [1] * 24, [2, 1, 1, 1, 1, 1, 0], origin, 24 * 7)
    per_day = rates.reshape(7, 24).sum(axis=1)
    # weights 2, 1, ..., 0 have mean 1: Monday twice the per-day rate, Sunday none
    assert per_day == pytest.approx([20.0, 10, 10, 10, 10, 10, 0.0])
    assert per_day.sum() == pytest.approx(70.0)


# ---------------------------------------------------------------- districts


def test_synthetic_layout_squares_on_a_grid() -> None:
    layout = SyntheticLayout(
        districts=(
            SyntheticDistrict(name="a", area_km2=4.0),
            SyntheticDistrict(name="b", area_km2=1.0),
            SyntheticDistrict(name="c", area_km2=4.0),
        ),
        columns=2,
    )
    m = build_district_map(layout)
    assert m.area_km2 == pytest.approx([4.0, 1.0, 4.0])
    # cells of 2 km (the largest side), filled row by row from the north-west
    assert m.centre_x_m == pytest.approx([1000.0, 3000.0, 1000.0])
    assert m.centre_y_m == pytest.approx([-1000.0, -1000.0, -3000.0])
    rng = np.random.default_rng(0)
    x, y = m.sample_points(np.full(100_000, 1, dtype=np.int64), rng)
    assert x.min() >= 2500.0
    assert x.max() <= 3500.0
    assert y.min() >= -1500.0
    assert y.max() <= -500.0
    assert x.mean() == pytest.approx(3000.0, abs=5.0)
    assert x.var() == pytest.approx(1000.0**2 / 12.0, rel=0.02)  # uniform on 1 km
    assert m.beat_x_m.shape == (3, 64)
    # beat 0 nearest the centre, the first beats spread out
    assert np.hypot(m.beat_x_m[1, 0] - 3000.0, m.beat_y_m[1, 0] + 1000.0) < 60.0
    d01 = np.hypot(m.beat_x_m[1, 1] - m.beat_x_m[1, 0], m.beat_y_m[1, 1] - m.beat_y_m[1, 0])
    assert d01 > 500.0


def _two_polygons(tmp_path: Path) -> Path:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "West"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [-76.70, 39.28],
                            [-76.62, 39.28],
                            [-76.62, 39.33],
                            [-76.70, 39.33],
                            [-76.70, 39.28],
                        ]
                    ],
                },
            },
            {
                "type": "Feature",
                "properties": {"name": "East"},
                "geometry": {  # an L shape: not convex
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [-76.62, 39.28],
                            [-76.54, 39.28],
                            [-76.54, 39.30],
                            [-76.58, 39.30],
                            [-76.58, 39.33],
                            [-76.62, 39.33],
                            [-76.62, 39.28],
                        ]
                    ],
                },
            },
        ],
    }
    path = tmp_path / "districts.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_geojson_layer_projected_to_metres(tmp_path: Path) -> None:
    path = _two_polygons(tmp_path)
    layout = GeoJsonLayout(file=path, projected_crs="EPSG:26985", districts=("East", "West"))
    m = build_district_map(layout)
    geod = Geod(ellps="WGS84")
    doc = json.loads(path.read_text())
    true_km2 = {
        f["properties"]["name"]: abs(geod.geometry_area_perimeter(shape(f["geometry"]))[0]) / 1e6
        for f in doc["features"]
    }
    assert m.names == ("East", "West")
    # Maryland state plane (metres) keeps areas to well under 0.1% here
    assert m.area_km2 == pytest.approx([true_km2["East"], true_km2["West"]], rel=1e-3)
    rng = np.random.default_rng(2)
    d = np.repeat(np.array([0, 1], dtype=np.int64), 20_000)
    x, y = m.sample_points(d, rng)
    assert m.polygons is not None
    assert shapely.contains_xy(m.polygons[0], x[:20_000], y[:20_000]).all()
    assert (m.locate(x, y) == d).all()
    # the L-shaped district: the notch (NE corner) gets no points
    lon, lat = -76.56, 39.32
    nx, ny = m.project_lonlat(np.array([lon]), np.array([lat]))
    assert m.locate(nx, ny)[0] == -1
    # uniform in the L: its southern bar (0.08 x 0.02 degrees) is 4/7 of its area
    # (the northern arm is 0.04 x 0.03)
    sx, sy = m.project_lonlat(np.array([-76.60]), np.array([39.30]))
    assert (y[:20_000] < sy[0]).mean() == pytest.approx(4 / 7, abs=0.012)
    assert sx[0] > 0


def test_geojson_layer_errors_name_the_file(tmp_path: Path) -> None:
    path = _two_polygons(tmp_path)
    with pytest.raises(ValueError, match="no feature with name = 'North'"):
        build_district_map(
            GeoJsonLayout(file=path, projected_crs="EPSG:26985", districts=("North",))
        )
    with pytest.raises(ValueError, match="not a projected CRS in metres"):
        build_district_map(GeoJsonLayout(file=path, projected_crs="EPSG:4326", districts=("East",)))
    with pytest.raises(ValueError, match="cannot read the district layer"):
        build_district_map(
            GeoJsonLayout(file=tmp_path / "none.json", projected_crs="EPSG:26985", districts=("A",))
        )


# ---------------------------------------------------------------- tours


def test_fleet_tours_by_hand() -> None:
    s = scenario(
        shifts=[
            {"name": "day", "start": "07:00", "hours": 12},
            {"name": "night", "start": "19:00", "hours": 12},
        ],
        staffing={"A": [2, 0], "B": [1, 1]},
        horizon_days=1,
    )
    m = build_district_map(s.geography)
    f = build_fleet(
        s.staffing_matrix(), s.shifts, m, start=date(2025, 3, 3), timezone=NY, horizon_days=1
    )
    rows = list(
        zip(
            f.start_min.tolist(),
            f.end_min.tolist(),
            f.district.tolist(),
            f.shift.tolist(),
            strict=True,
        )
    )
    # day -1 night tour (19:00 the day before, clipped to 0), day 0 day and night,
    # day 1 (cool-down) day and night
    assert rows == [
        (0.0, 420.0, 1, 1),
        (420.0, 1140.0, 0, 0),
        (420.0, 1140.0, 0, 0),
        (420.0, 1140.0, 1, 0),
        (1140.0, 1860.0, 1, 1),
        (1860.0, 2580.0, 0, 0),
        (1860.0, 2580.0, 0, 0),
        (1860.0, 2580.0, 1, 0),
        (2580.0, 3300.0, 1, 1),
    ]
    # the two units of A start at A's beat points 0 and 1
    assert f.home_x_m[1] == m.beat_x_m[0, 0]
    assert f.home_x_m[2] == m.beat_x_m[0, 1]
    assert f.home_y_m[3] == m.beat_y_m[1, 0]


def test_fleet_on_the_dst_day() -> None:
    shifts = [Shift(name="day", start="07:00", hours=8)]
    m = build_district_map(scenario().geography)
    f = build_fleet(
        np.array([[1], [0]]), shifts, m, start=date(2025, 3, 9), timezone=NY, horizon_days=1
    )
    # local midnight is EST, 07:00 is EDT: six hours later, not seven
    assert f.start_min[0] == 360.0
    assert f.end_min[0] == 360.0 + 480.0
    assert f.start_min[1] == 360.0 + 1440.0


def test_more_units_keep_the_existing_posts() -> None:
    m = build_district_map(scenario().geography)
    shifts = [Shift(name="day", start="07:00", hours=8)]
    kw: dict[str, Any] = {"start": date(2025, 3, 3), "timezone": NY, "horizon_days": 1}
    f2 = build_fleet(np.array([[2], [0]]), shifts, m, **kw)
    f3 = build_fleet(np.array([[3], [0]]), shifts, m, **kw)
    assert f3.home_x_m[:2].tolist() == f2.home_x_m[:2].tolist()
    assert f3.home_x_m[3:5].tolist() == f2.home_x_m[2:4].tolist()


# ---------------------------------------------------------------- generated calls


def test_generated_calls_follow_the_scenario() -> None:
    s = scenario(horizon_days=28)
    m = build_district_map(s.geography)
    gen = call_generator(s, m)
    calls = gen.draw(np.random.default_rng(5))
    n = len(calls)
    assert n == pytest.approx(240 * 28, rel=0.03)
    assert (np.diff(calls.queue_min) >= 0).all()
    assert calls.queue_min == pytest.approx(calls.received_min + 1.75)
    local_hour = (calls.received_min // 60) % 24  # no DST change in March 3-31 ... until 9th
    early = calls.received_min < 6 * 1440  # before the spring-forward day
    assert (local_hour[early] >= 6).all()
    assert (calls.district == 1).mean() == pytest.approx(0.75, abs=0.02)
    x_type = calls.call_type == 0
    assert calls.type_names == ("X", "Y")
    assert x_type.mean() == pytest.approx(0.75, abs=0.02)
    assert set(calls.priority[x_type].tolist()) == {1, 3}
    assert set(calls.priority[~x_type].tolist()) == {2}
    assert calls.units_needed[x_type].mean() == pytest.approx(1.5, abs=0.03)
    assert (calls.units_needed[~x_type] == 1).all()
    assert (calls.on_scene_min[x_type] == 7.0).all()
    assert (calls.on_scene_min[~x_type] == 9.0).all()
    # positions inside each call's square
    for d in (0, 1):
        sel = calls.district == d
        half = np.sqrt(m.area_km2[d] * 1e6) / 2
        assert (np.abs(calls.x_m[sel] - m.centre_x_m[d]) <= half).all()
        assert (np.abs(calls.y_m[sel] - m.centre_y_m[d]) <= half).all()
    stream = calls.to_stream()
    assert stream.arrival_min is not calls.received_min
    assert len(stream.arrival_min) == n
    # deterministic given the generator state, and picklable
    again = pickle.loads(pickle.dumps(gen)).draw(np.random.default_rng(5))
    assert again.received_min.tolist() == calls.received_min.tolist()


def test_call_table_subset_keeps_stream_order() -> None:
    s = scenario(horizon_days=1)
    calls = call_generator(s, build_district_map(s.geography)).draw(np.random.default_rng(0))
    keep = calls.call_type == 1
    sub = calls.subset(keep)
    assert len(sub) == int(keep.sum())
    assert (sub.call_type == 1).all()
    assert (np.diff(sub.queue_min) >= 0).all()
    with pytest.raises(ValueError, match="keep must have"):
        calls.subset(keep[:-1])
    shuffled = calls.take(np.arange(len(calls))[::-1])
    with pytest.raises(ValueError, match="stream order"):
        shuffled.to_stream()
    assert isinstance(shuffled.sorted(), CallTable)


# ---------------------------------------------------------------- replay


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    ts = pl.Datetime("us", "UTC")
    schema: dict[str, Any] = {
        "agency": pl.String,
        "call_type_code": pl.String,
        "priority": pl.Int64,
        "source_channel": pl.String,
        "district": pl.String,
        "latitude": pl.Float64,
        "longitude": pl.Float64,
        "received_at": ts,
        "queued_at": ts,
        "on_scene_s": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema)


def _t(h: int, m: int = 0) -> datetime:
    # local 2025-03-04 h:m (EST = UTC-5)
    return datetime(2025, 3, 4, h + 5, m, tzinfo=UTC)


def test_replay_uses_records_and_counts_every_fallback(tmp_path: Path) -> None:
    path = _two_polygons(tmp_path)
    s = scenario(
        geography={
            "layout": "geojson",
            "file": str(path),
            "projected_crs": "EPSG:26985",
            "districts": ["West", "East"],
        },
        staffing={"West": [1], "East": [1]},
        calls={"mode": "replay", "units_needed_by_type": {"FIGHT": 2}},
        start_date="2025-03-04",
        horizon_days=1,
    )
    base = {"agency": "POLICE", "call_type_code": "FIGHT", "priority": 1, "source_channel": "911"}
    rows = [
        # coordinates in West, district given: position recorded, all recorded
        {**base, "district": "WEST", "latitude": 39.30, "longitude": -76.66,
         "received_at": _t(8), "queued_at": _t(8, 1), "on_scene_s": 1200.0},
        # no coordinates, district East: drawn in East; impossible on-scene: drawn
        {**base, "district": "East", "call_type_code": "NOISE", "priority": None,
         "received_at": _t(9), "queued_at": None, "on_scene_s": -5.0},
        # no district, coordinates in East: located
        {**base, "latitude": 39.29, "longitude": -76.60, "received_at": _t(10),
         "queued_at": _t(10) + timedelta(seconds=30), "on_scene_s": 600.0},
        # unknown district, no coordinates: district drawn by volume
        {**base, "district": "NOWHERE", "received_at": _t(11), "on_scene_s": 600.0},
        # left out: fire, officer-initiated, outside the window
        {**base, "agency": "FIRE", "received_at": _t(12)},
        {**base, "source_channel": "officer_initiated", "received_at": _t(13)},
        {**base, "received_at": datetime(2025, 3, 6, 12, tzinfo=UTC)},
    ]  # fmt: skip
    cal = _calibration_with(OnSceneTables(overall=None, by_priority={3: _emp(40.0)}))
    replay = call_replay(_frame(rows), s, build_district_map(s.geography), cal)
    c = replay.counts
    assert (c.rows, c.other_agency, c.officer_initiated, c.outside_window, c.replayed) == (
        7,
        1,
        1,
        1,
        4,
    )
    assert c.priority_defaulted == 1
    assert c.position_from_coordinates == 2
    assert c.district_from_coordinates == 1
    assert c.position_drawn_in_district == 1
    assert c.district_unknown_drawn == 1
    assert c.district_missing_drawn == 0
    assert (c.call_taking_recorded, c.call_taking_drawn) == (2, 2)
    assert (c.on_scene_recorded, c.on_scene_drawn) == (3, 1)
    assert replay.type_names == ("FIGHT", "NOISE")
    assert replay.priority.tolist() == [1, 3, 1, 1]  # the missing one defaulted to 3
    assert replay.units_needed.tolist() == [2, 1, 2, 2]
    assert replay.district.tolist() == [0, 1, 1, -1]
    assert replay.received_min.tolist() == [480.0, 540.0, 600.0, 660.0]

    table = replay.draw(np.random.default_rng(0))
    assert table.call_taking_min[0] == 1.0
    assert table.on_scene_min.tolist()[0] == 20.0
    assert table.on_scene_min[1] == 40.0  # NOISE: its priority's table (a constant here)
    assert table.call_taking_min[1] == 1.5  # drawn from the scenario's distribution
    m = replay.districts
    assert m.locate(table.x_m, table.y_m).tolist() == table.district.tolist()
    assert table.district[3] in (0, 1)


def _emp(v: float) -> Empirical:
    return Empirical(quantiles=(v, v))


def _calibration_with(on_scene: OnSceneTables) -> Calibration:
    return Calibration(
        schema_version=1,
        source="t",
        timezone=NY,
        agency="POLICE",
        first_day=date(2025, 1, 1),
        last_day=date(2025, 1, 1),
        days=1,
        min_count=1,
        counts={},
        impossible={},
        missing={},
        calls_per_day=1,
        hourly_profile=tuple([1 / 24] * 24),
        weekday_profile=tuple([1.0] * 7),
        priorities=(),
        types=(),
        on_scene=on_scene,
        proactive=ProactiveStats(n=0, per_day=0),
    )


def test_replay_without_fallback_says_which_type(tmp_path: Path) -> None:
    s = scenario(calls={"mode": "replay"}, start_date="2025-03-04", horizon_days=1)
    rows = [
        {"agency": "POLICE", "call_type_code": "NOISE", "priority": 4, "source_channel": "911",
         "received_at": _t(9), "on_scene_s": None},
    ]  # fmt: skip
    with pytest.raises(ValueError, match="no on-scene time for call type 'NOISE'"):
        call_replay(_frame(rows), s, build_district_map(s.geography))


@pytest.fixture(scope="module")
def small_city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("city")
    params = CityParams(
        seed=1,
        calls_per_day=30,
        incidents_per_day=5,
        n_call_sites=500,
        n_alarm_sites=50,
        n_gun_sites=50,
    )
    generate_city(params, folder)
    return folder


def test_replay_of_a_cad_export_with_district_polygons(small_city: Path) -> None:
    frame, rejected = read_calls_file(small_city / "cad_calls.csv", timezone=NY)
    assert rejected == 0
    names = [f["properties"]["name"] for f in json.loads((small_city / "districts.geojson").read_text())["features"]]  # fmt: skip
    s = scenario(
        geography={
            "layout": "geojson",
            "file": str(small_city / "districts.geojson"),
            "projected_crs": "EPSG:32617",  # UTM 17N: the synthetic city is at 78.3 W
            "districts": names,
        },
        staffing={n: [1] for n in names},
        calls={"mode": "replay", "file": str(small_city / "cad_calls.csv")},
        start_date=None,
        horizon_days=None,
        call_taking={"kind": "fixed", "value": 1.0},
        calibration=None,
    )
    m = build_district_map(s.geography)
    police = frame.filter(pl.col("agency") == "POLICE")
    oi = int((police["source_channel"] == "officer_initiated").sum())
    replay = call_replay(frame, s, m, _calibration_with(_fallback_tables()))
    c = replay.counts
    assert c.rows == frame.height
    assert c.other_agency == frame.height - police.height
    assert c.officer_initiated == oi
    assert c.outside_window == 0  # the window is the calls' own span
    assert c.replayed == police.height - oi
    # the synthetic CAD rows carry coordinates and a district for every police call
    with_ll = police.filter(
        (pl.col("source_channel") != "officer_initiated") & pl.col("latitude").is_not_null()
    ).height
    assert c.position_from_coordinates == with_ll
    assert c.coordinates_outside_districts == 0
    assert c.district_missing_drawn == 0
    table = replay.draw(np.random.default_rng(0))
    located = m.locate(table.x_m, table.y_m)
    assert (located == table.district).mean() > 0.999


def _fallback_tables() -> OnSceneTables:
    return OnSceneTables(overall=_emp(25.0))
