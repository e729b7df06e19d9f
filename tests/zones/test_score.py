"""Zone-set scoring on tiny squares, every figure computed by hand."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from smart_policing.zones.geometry import NamedPolygon, polygons_from_geojson
from smart_policing.zones.score import (
    EmergingPlace,
    capture_drops,
    compare_zone_sets,
    emerging_places,
    score_zone_set,
    zone_set_stability,
)

# city: 0..100 x 0..100 m (10,000 m2); district W = x < 50, district E = x >= 50
CITY = box(0, 0, 100, 100)
DISTRICTS = [NamedPolygon("W", box(0, 0, 50, 100)), NamedPolygon("E", box(50, 0, 100, 100))]
# zone a: 10x10 in W (100 m2); zone b: 20x10 in E (200 m2), half of it outside the city
ZONES = [
    NamedPolygon("a", box(10, 10, 20, 20), {"district": "W"}),
    NamedPolygon("b", box(90, 50, 110, 60)),
]
# 10 incidents in the city: 3 in a, 1 in b, 2 elsewhere in W, 4 elsewhere in E; 1 outside
X = np.array([11, 15, 19, 95, 30, 40, 60, 70, 80, 85, 150], dtype=float)
Y = np.array([11, 15, 19, 55, 30, 40, 60, 70, 80, 85, 50], dtype=float)


def test_city_figures() -> None:
    s = score_zone_set(ZONES, CITY, X, Y, districts=DISTRICTS)
    assert s.zones == 2
    assert s.city_area_m2 == 10_000
    assert s.zone_area_m2 == 100 + 100  # b clipped to the city
    assert s.area_share == pytest.approx(0.02)
    assert (s.incidents, s.captured) == (10, 4)
    assert s.capture_share == pytest.approx(0.4)
    assert s.pai == pytest.approx(20.0)


def test_per_district_and_per_zone() -> None:
    s = score_zone_set(ZONES, CITY, X, Y, districts=DISTRICTS)
    w, e = s.districts
    assert (w.district, w.area_m2, w.zone_area_m2, w.incidents, w.captured) == (
        "W",
        5000,
        100,
        5,
        3,
    )
    assert w.area_share == pytest.approx(0.02)
    assert w.capture_share == pytest.approx(0.6)
    assert w.pai == pytest.approx(30.0)
    assert (e.incidents, e.captured, e.zone_area_m2) == (5, 1, 100)
    assert e.pai == pytest.approx(0.2 / 0.02)
    a, b = s.per_zone
    assert (a.zone_id, a.district, a.area_m2, a.incidents, a.share) == ("a", "W", 100, 3, 0.3)
    # b has no district property: the district holding its area
    assert (b.zone_id, b.district, b.area_m2, b.incidents) == ("b", "E", 100, 1)


def test_overlapping_zones_count_once_and_boundary_is_inside() -> None:
    zones = [NamedPolygon("p", box(0, 0, 10, 10)), NamedPolygon("q", box(5, 0, 15, 10))]
    x = np.array([10.0, 7.0, 50.0])  # (10, 5) is on p's edge, inside q; (7, 5) in both
    y = np.array([5.0, 5.0, 50.0])
    s = score_zone_set(zones, CITY, x, y)
    assert s.zone_area_m2 == 150
    assert s.captured == 2
    assert [z.incidents for z in s.per_zone] == [2, 2]
    assert s.districts == ()


def test_empty_zone_set_has_no_pai() -> None:
    s = score_zone_set([], CITY, X, Y)
    assert (s.area_share, s.captured, s.pai) == (0.0, 0, None)


def test_compare_two_sets() -> None:
    other = [NamedPolygon("c", box(10, 10, 30, 20))]  # 200 m2, holds a, 3 incidents
    c = compare_zone_sets(ZONES, other, CITY, X, Y)
    assert (c.a.captured, c.b.captured) == (4, 3)
    assert c.capture_ratio == pytest.approx(4 / 3)
    assert c.pai_ratio == pytest.approx((0.4 / 0.02) / (0.3 / 0.02))
    assert c.area_ratio == pytest.approx(1.0)
    assert c.overlap_m2 == 100


def test_capture_drops_flags_zones_that_halved() -> None:
    before = score_zone_set(ZONES, CITY, X, Y)
    # later period: 10 incidents, 1 in a (share 0.1, was 0.3), 1 in b (0.1, was 0.1)
    x2 = np.array([15, 95, 30, 30, 30, 30, 30, 30, 30, 30], dtype=float)
    y2 = np.array([15, 55, 30, 30, 30, 30, 30, 30, 30, 30], dtype=float)
    after = score_zone_set(ZONES, CITY, x2, y2)
    drops = capture_drops(before, after, min_drop=0.5)
    assert [(d.zone_id, d.before, d.after) for d in drops] == [("a", 0.3, 0.1)]
    assert drops[0].change == pytest.approx(-2 / 3)
    assert capture_drops(before, after, min_drop=0.7) == []
    with pytest.raises(ValueError, match="min_drop"):
        capture_drops(before, after, min_drop=0)


def test_geojson_in_crs84_is_projected_to_metres() -> None:
    # a 0.001 x 0.001 degree square near Baltimore: about 86 m x 111 m in EPSG:26985
    ring = [[-76.6, 39.3], [-76.599, 39.3], [-76.599, 39.301], [-76.6, 39.301], [-76.6, 39.3]]
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": [
            {
                "type": "Feature",
                "properties": {"Id": 7},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }
    (p,) = polygons_from_geojson(doc)
    assert p.name == "7"
    # 0.001 deg lon = 111,320 m * cos(39.3005 deg) = 86.17 m; 0.001 deg lat = 111.0 m
    assert p.geometry.area == pytest.approx(86.17 * 111.0, rel=0.005)


coord = st.integers(min_value=0, max_value=20)


@settings(max_examples=60, deadline=None)
@given(
    boxes=st.lists(st.tuples(coord, coord, coord, coord), min_size=0, max_size=4),
    points=st.lists(st.tuples(coord, coord), min_size=1, max_size=30),
)
def test_capture_matches_a_brute_force_reference(
    boxes: list[tuple[int, int, int, int]], points: list[tuple[int, int]]
) -> None:
    """Captured incidents, per zone and per district, against a loop over the boxes
    (edges inside) on a 20 x 20 city split at x = 10; zones may stick out of the city."""
    rects = [(min(a, c), min(b, d), max(a, c) + 1, max(b, d) + 1) for a, b, c, d in boxes]
    zones = [NamedPolygon(f"z{i}", box(*r)) for i, r in enumerate(rects)]
    city = box(0, 0, 20, 20)
    halves = [NamedPolygon("L", box(0, 0, 10, 20)), NamedPolygon("R", box(10, 0, 20, 20))]
    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    s = score_zone_set(zones, city, x, y, districts=halves)

    def inside(r: tuple[int, int, int, int], px: float, py: float) -> bool:
        return r[0] <= px <= r[2] and r[1] <= py <= r[3]

    hit = [any(inside(r, px, py) for r in rects) for px, py in zip(x, y, strict=True)]
    assert s.incidents == len(points)
    assert s.captured == sum(hit)
    assert [z.incidents for z in s.per_zone] == [
        sum(inside(r, px, py) for px, py in zip(x, y, strict=True)) for r in rects
    ]
    left = [px <= 10 for px in x]  # the shared edge x = 10 counts in both halves
    right = [px >= 10 for px in x]
    assert s.districts[0].incidents == sum(left)
    assert s.districts[0].captured == sum(h and a for h, a in zip(hit, left, strict=True))
    assert s.districts[1].captured == sum(h and a for h, a in zip(hit, right, strict=True))
    union = shapely.union_all([z.geometry for z in zones])
    assert s.area_share == pytest.approx(shapely.intersection(union, city).area / 400)


def test_emerging_places_on_a_two_by_two_grid() -> None:
    # 50 m cells: SW (0..50, 0..50) holds zone a, NW (0..50, 50..100), SE, NE
    bx = np.array([15, 30, 60, 70], dtype=float)  # a; SW; NE; NE
    by = np.array([15, 30, 60, 70], dtype=float)
    ax = np.array([15, 16, 30, 40, 45, 60, 10, 20, 150], dtype=float)
    ay = np.array([15, 16, 30, 40, 10, 80, 60, 70, 50], dtype=float)
    # after: a 2 (inside the zone, not counted); SW 3 outside; NE 1; NW 2; one outside city
    places = emerging_places(ZONES[:1], CITY, bx, by, ax, ay, cell_m=50, districts=DISTRICTS)
    assert places == [
        # SW: 1 -> 3 outside the zone; 5 incidents in all after, the busiest cell
        EmergingPlace(25.0, 25.0, 50.0, "W", 1, 3, 2, 1),
        # NW: 0 -> 2, same rise, fewer after; second busiest (NE fell 2 -> 1: not listed)
        EmergingPlace(25.0, 75.0, 50.0, "W", 0, 2, 2, 2),
    ]
    assert emerging_places(ZONES[:1], CITY, bx, by, ax, ay, cell_m=50, limit=1) == [
        EmergingPlace(25.0, 25.0, 50.0, None, 1, 3, 2, 1)
    ]
    # with no zones, SW counts the incidents of a too: 2 -> 5
    top = emerging_places([], CITY, bx, by, ax, ay, cell_m=50)[0]
    assert (top.before, top.after, top.change) == (2, 5, 3)
    with pytest.raises(ValueError, match="cell_m"):
        emerging_places([], CITY, bx, by, ax, ay, cell_m=0)


def test_stability_of_two_rebuilds_on_squares() -> None:
    # A: a1 20x20 (400 m2), a2 10x10 (100), a3 20x10 half outside the city (100 inside)
    a = [
        NamedPolygon("a1", box(0, 0, 20, 20)),
        NamedPolygon("a2", box(50, 50, 60, 60)),
        NamedPolygon("a3", box(90, 0, 110, 10)),
    ]
    # B: b1 20x20 sharing a 10x10 corner with a1; b2 touches a2 along an edge only
    b = [NamedPolygon("b1", box(10, 10, 30, 30)), NamedPolygon("b2", box(60, 50, 70, 60))]
    s = zone_set_stability(a, b, CITY)
    assert (s.a_area_m2, s.b_area_m2, s.overlap_m2, s.union_m2) == (600, 500, 100, 1000)
    assert s.jaccard == pytest.approx(0.1)
    assert (s.a_zones, s.a_overlapping, s.b_zones, s.b_overlapping) == (3, 1, 2, 1)
    assert s.a_overlap_share == pytest.approx(1 / 3)
    assert s.b_overlap_share == pytest.approx(0.5)
    assert zone_set_stability(a, a, CITY).jaccard == 1.0
    assert zone_set_stability([], [], CITY).jaccard == 0.0
    # compare_zone_sets reports it beside the capture of each on a common period:
    # a1 holds (11, 11), (15, 15), (19, 19); b1 those and (30, 30) on its corner; (60, 60)
    # is on the corner of a2 and of b2: A captures 4, B 5
    c = compare_zone_sets(a, b, CITY, X, Y)
    assert c.stability == s
    assert (c.a.captured, c.b.captured, c.overlap_m2) == (4, 5, 100)


half = st.tuples(st.integers(0, 19), st.integers(0, 19)).map(lambda p: (p[0] + 0.5, p[1] + 0.5))


@settings(max_examples=60, deadline=None)
@given(
    boxes=st.lists(st.tuples(coord, coord, coord, coord), min_size=0, max_size=3),
    before=st.lists(half, min_size=0, max_size=25),
    after=st.lists(half, min_size=0, max_size=25),
)
def test_emerging_places_match_a_brute_force_reference(
    boxes: list[tuple[int, int, int, int]],
    before: list[tuple[float, float]],
    after: list[tuple[float, float]],
) -> None:
    """Cells of 5 m on a 20 x 20 city (4 x 4 cells), counted by loops over the points."""
    rects = [(min(a, c), min(b, d), max(a, c) + 1, max(b, d) + 1) for a, b, c, d in boxes]
    zones = [NamedPolygon(f"z{i}", box(*r)) for i, r in enumerate(rects)]
    city = box(0, 0, 20, 20)

    def outside(px: float, py: float) -> bool:
        return not any(r[0] <= px <= r[2] and r[1] <= py <= r[3] for r in rects)

    def cell(px: float, py: float) -> int:
        return int(py // 5) * 4 + int(px // 5)

    was = [sum(outside(*p) and cell(*p) == k for p in before) for k in range(16)]
    now = [sum(outside(*p) and cell(*p) == k for p in after) for k in range(16)]
    every = [sum(cell(*p) == k for p in after) for k in range(16)]
    rising = sorted(
        (k for k in range(16) if now[k] > was[k]), key=lambda k: (was[k] - now[k], -now[k], k)
    )
    expected = [
        (k % 4 * 5 + 2.5, k // 4 * 5 + 2.5, was[k], now[k], now[k] - was[k],
         1 + sum(e > every[k] for e in every))
        for k in rising
    ]  # fmt: skip
    bx = np.array([p[0] for p in before], dtype=float)
    by = np.array([p[1] for p in before], dtype=float)
    ax = np.array([p[0] for p in after], dtype=float)
    ay = np.array([p[1] for p in after], dtype=float)
    got = emerging_places(zones, city, bx, by, ax, ay, cell_m=5, limit=16)
    assert [(p.x, p.y, p.before, p.after, p.change, p.rank_after) for p in got] == expected
