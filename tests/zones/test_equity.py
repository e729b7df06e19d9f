"""Zones across neighbourhoods: exact values on squares drawn in EPSG:26985 metres."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from pyproj import Transformer
from shapely.geometry import Polygon, box, shape
from shapely.geometry.base import BaseGeometry

from smart_policing.data.synth import CityParams, generate_city
from smart_policing.zones.equity import zones_across_neighbourhoods
from smart_policing.zones.incidents import filter_period, read_incidents_file, select_gun_incidents

# a point in Baltimore in NAD83 / Maryland (metres)
X0, Y0 = 433_000.0, 180_000.0
_TO_WGS84 = Transformer.from_crs("EPSG:26985", "EPSG:4326", always_xy=True)


def _square(x1: float, y1: float, x2: float, y2: float) -> BaseGeometry:
    """A rectangle given in metres from (X0, Y0), as WGS84 corners (as the store keeps it)."""
    corners = list(box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2).exterior.coords)
    return Polygon([_TO_WGS84.transform(x, y) for x, y in corners])


def _lonlat(points: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    lon, lat = _TO_WGS84.transform([X0 + x for x, _ in points], [Y0 + y for _, y in points])
    return list(lon), list(lat)


NEIGHBOURHOODS = [
    ("A", _square(0, 0, 1000, 1000)),
    ("B", _square(1000, 0, 2000, 1000)),
    ("C", _square(2000, 0, 3000, 1000)),
]
ZONES = [
    _square(0, 0, 500, 1000),  # 500,000 m2 in A
    _square(900, 0, 1400, 1000),  # 100,000 m2 in A, 400,000 m2 in B
    _square(0, 0, 100, 100),  # inside the first zone: not counted twice
    _square(0, -200, 100, -100),  # 10,000 m2 outside every neighbourhood
]


def test_hand_computed_squares() -> None:
    lon, lat = _lonlat([(300, 300), (700, 700), (1500, 500), (5000, 5000)])
    out = zones_across_neighbourhoods(
        ZONES, NEIGHBOURHOODS, incidents=([*lon, math.nan], [*lat, math.nan])
    )
    assert out.zone_area_m2 == pytest.approx(1_010_000.0, abs=0.01)
    assert out.outside_m2 == pytest.approx(10_000.0, abs=0.01)
    assert out.neighbourhoods == 3
    assert out.neighbourhoods_with_zones == 2
    # A holds 60% of the zone area inside neighbourhoods, A and B 100%
    assert out.concentration == {0.5: 1, 0.8: 2}
    assert out.incidents == 4  # the NaN point is not located
    a, b, c = out.rows
    assert [r.name for r in out.rows] == ["A", "B", "C"]
    assert a.area_m2 == pytest.approx(1_000_000.0, abs=0.01)
    assert a.zone_area_m2 == pytest.approx(600_000.0, abs=0.01)
    assert a.share_of_neighbourhood == pytest.approx(0.6, abs=1e-9)
    assert a.share_of_zone_area == pytest.approx(600 / 1010, abs=1e-9)
    assert (a.incidents, a.share_of_incidents) == (2, 0.5)
    assert b.zone_area_m2 == pytest.approx(400_000.0, abs=0.01)
    assert b.share_of_neighbourhood == pytest.approx(0.4, abs=1e-9)
    assert b.share_of_zone_area == pytest.approx(400 / 1010, abs=1e-9)
    assert (b.incidents, b.share_of_incidents) == (1, 0.25)
    assert (c.zone_area_m2, c.share_of_neighbourhood, c.share_of_zone_area) == (0.0, 0.0, 0.0)
    assert (c.incidents, c.share_of_incidents) == (0, 0.0)


def test_sorted_by_zone_area_and_concentrated_in_one() -> None:
    # all the zone area in C: C first, one neighbourhood holds 50% and 80%
    out = zones_across_neighbourhoods([_square(2100, 100, 2300, 600)], NEIGHBOURHOODS)
    assert [r.name for r in out.rows] == ["C", "A", "B"]  # ties (0 m2) by name
    assert out.rows[0].zone_area_m2 == pytest.approx(100_000.0, abs=0.01)
    assert out.rows[0].share_of_zone_area == pytest.approx(1.0, abs=1e-9)
    assert out.concentration == {0.5: 1, 0.8: 1}
    assert out.neighbourhoods_with_zones == 1
    assert out.incidents is None
    assert all(r.incidents is None and r.share_of_incidents is None for r in out.rows)


def test_even_split_needs_half_the_neighbourhoods() -> None:
    # 125,000 m2 in each of A and B, none in C: one of them holds exactly 50%
    zones = [_square(500, 500, 1500, 750)]
    out = zones_across_neighbourhoods(zones, NEIGHBOURHOODS)
    assert [r.zone_area_m2 for r in out.rows[:2]] == pytest.approx([125_000.0] * 2, abs=0.01)
    assert out.concentration == {0.5: 1, 0.8: 2}


def test_no_neighbourhoods_and_no_zones() -> None:
    none = zones_across_neighbourhoods(ZONES, [])
    assert none.rows == ()
    assert none.concentration == {0.5: None, 0.8: None}
    assert none.outside_m2 == pytest.approx(none.zone_area_m2)
    empty = zones_across_neighbourhoods([], NEIGHBOURHOODS, incidents=(np.array([]), np.array([])))
    assert empty.zone_area_m2 == 0.0
    assert empty.concentration == {0.5: None, 0.8: None}
    assert empty.incidents == 0
    assert all(r.share_of_incidents == 0.0 for r in empty.rows)


def test_synthetic_city_beats_across_its_neighbourhoods(tmp_path: Path) -> None:
    # two independent partitions of one city: their shared edges differ by rounding, and
    # projected they once failed GEOS's overlay ("side location conflict")
    generate_city(
        CityParams(seed=11, years=1, end_year=2022, calls_per_day=1.0, incidents_per_day=1.0),
        tmp_path,
    )
    beats = json.loads((tmp_path / "beats.geojson").read_text())["features"]
    hoods = json.loads((tmp_path / "neighborhoods.geojson").read_text())["features"]
    out = zones_across_neighbourhoods(
        [shape(f["geometry"]) for f in beats],
        [(str(i), shape(f["geometry"])) for i, f in enumerate(hoods)],
    )
    # the beats cover the city and so does every neighbourhood: all area falls in them
    assert out.outside_m2 < 1e-6 * out.zone_area_m2
    assert out.neighbourhoods_with_zones == out.neighbourhoods == len(hoods)
    assert math.fsum(r.share_of_zone_area for r in out.rows) == pytest.approx(1.0, abs=1e-6)
    assert all(r.share_of_neighbourhood == pytest.approx(1.0, abs=1e-6) for r in out.rows)
    half, most = out.concentration[0.5], out.concentration[0.8]
    assert half is not None
    assert most is not None
    assert 1 < half < most < len(hoods)


@pytest.mark.realdata
def test_bpd_focused_patrol_areas_across_baltimore_neighbourhoods(shared_data: Path) -> None:
    d = shared_data / "baltimore"
    fpa = json.loads((d / "focused_patrol_areas_2019.geojson").read_text())["features"]
    hoods = json.loads((d / "neighborhoods.geojson").read_text())["features"]
    tz = "America/New_York"
    frame, _ = read_incidents_file(d / "part1_crime_2012_2015.csv.gz", timezone=tz)
    guns = filter_period(
        select_gun_incidents(frame), date(2015, 1, 1), date(2015, 12, 31), timezone=tz
    ).filter(pl.col("latitude").is_not_null() & pl.col("longitude").is_not_null())
    out = zones_across_neighbourhoods(
        [shape(f["geometry"]) for f in fpa],
        [(f["properties"]["name"], shape(f["geometry"])) for f in hoods],
        incidents=(guns["longitude"].to_numpy(), guns["latitude"].to_numpy()),
    )
    assert out.zone_area_m2 == pytest.approx(7.27e6, rel=1e-3)  # as the zone store has it
    assert out.outside_m2 < 0.002 * out.zone_area_m2
    assert (out.neighbourhoods, out.neighbourhoods_with_zones) == (278, 156)
    assert out.concentration == {0.5: 25, 0.8: 63}
    assert out.incidents == 3905
    assert out.rows[0].name == "Reisterstown Station"
    # 101 neighbourhoods had 2015 gun incidents and no focused patrol area: 873 incidents
    missed = [r for r in out.rows if r.zone_area_m2 == 0.0 and r.incidents]
    assert (len(missed), sum(r.incidents or 0 for r in missed)) == (101, 873)
