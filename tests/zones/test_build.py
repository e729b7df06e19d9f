"""The zone builder on small synthetic cities whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from smart_policing.zones.build import TIERS, BuildParams, build_zones, tier_params
from smart_policing.zones.geometry import NamedPolygon
from smart_policing.zones.score import score_zone_set

# a 1 km square city, district W (x < 500 m) and E (x >= 500 m): 1,000,000 m2
CITY = box(0, 0, 1000, 1000)
DISTRICTS = [NamedPolygon("W", box(0, 0, 500, 1000)), NamedPolygon("E", box(500, 0, 1000, 1000))]
SMALL = {"cell_m": 50.0, "bandwidth_m": 0.0, "min_area_m2": 5_000.0, "max_area_m2": 40_000.0}


def _cluster(
    rng: np.random.Generator, n: int, x0: float, y0: float, side: float
) -> tuple[np.ndarray, np.ndarray]:
    return rng.uniform(x0, x0 + side, n), rng.uniform(y0, y0 + side, n)


def _city(seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """60 incidents in a 100 m square in W, 30 in one in E, 20 scattered; days 0..999."""
    rng = np.random.default_rng(seed)
    parts = [
        _cluster(rng, 60, 210, 210, 80),
        _cluster(rng, 30, 710, 710, 80),
        _cluster(rng, 20, 0, 0, 1000),
    ]
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    days = np.concatenate([np.zeros(60), np.full(30, 999.0), rng.uniform(0, 999, 20)])
    return x, y, days


def test_area_mode_finds_the_dense_block_within_budget() -> None:
    x, y, _ = _city()
    b = build_zones(x, y, CITY, DISTRICTS, BuildParams(area_share=0.012, **SMALL))
    assert b.area_m2 <= 0.012 * 1_000_000
    top = b.zones[0]
    assert top.district == "W"
    assert top.rank == 1
    # the 60-incident block (a 100 m square) is caught, and little else
    assert top.incidents >= 60
    assert top.geometry.within(DISTRICTS[0].geometry)
    assert b.captured == sum(z.incidents for z in b.zones)
    assert b.capture_share == pytest.approx(b.captured / 110)


def test_zones_are_contiguous_compact_within_bounds_and_one_district() -> None:
    x, y, _ = _city(2)
    # a cluster astride the district line: zones must not cross it
    xs, ys = _cluster(np.random.default_rng(3), 80, 440, 500, 120)
    x, y = np.concatenate([x, xs]), np.concatenate([y, ys])
    p = BuildParams(area_share=0.05, max_aspect=2.0, **SMALL)
    b = build_zones(x, y, CITY, DISTRICTS, p)
    assert len(b.zones) >= 3
    by_name = {d.name: d.geometry for d in DISTRICTS}
    for z in b.zones:
        assert z.geometry.geom_type == "Polygon"  # one piece
        assert p.min_area_m2 <= z.area_m2 <= p.max_area_m2
        assert z.geometry.within(by_name[z.district])
        minx, miny, maxx, maxy = z.geometry.bounds
        w, h = maxx - minx, maxy - miny
        assert max(w, h) / min(w, h) <= 2.0
        assert z.area_m2 >= p.min_fill * w * h
    union = shapely.union_all([z.geometry for z in b.zones])
    assert union.area == pytest.approx(sum(z.area_m2 for z in b.zones))  # no overlaps
    # the builder's own figures agree with the scoring code on the same incidents
    s = score_zone_set([z.named() for z in b.zones], CITY, x, y)
    assert (s.captured, s.area_share) == (b.captured, pytest.approx(b.area_share))
    assert [z.incidents for z in s.per_zone] == [z.incidents for z in b.zones]


def test_target_mode_reaches_the_share_with_the_least_area() -> None:
    x, y, _ = _city()
    b = build_zones(x, y, CITY, DISTRICTS, BuildParams(target_share=0.5, **SMALL))
    assert b.target_met
    assert b.capture_share >= 0.5
    # 60 of 110 incidents sit in one 10,000 m2 block: a little more than that suffices
    assert b.area_m2 <= 20_000
    more = build_zones(x, y, CITY, DISTRICTS, BuildParams(target_share=0.8, **SMALL))
    assert more.capture_share >= 0.8
    assert more.area_m2 > b.area_m2
    assert {z.district for z in more.zones} == {"W", "E"}


def test_zone_limits() -> None:
    x, y, _ = _city()
    one = build_zones(x, y, CITY, DISTRICTS, BuildParams(area_share=0.1, max_zones=1, **SMALL))
    assert len(one.zones) == 1
    p = BuildParams(area_share=0.1, max_zones=None, max_zones_per_district=1, **SMALL)
    per = build_zones(x, y, CITY, DISTRICTS, p)
    assert sorted(z.district for z in per.zones) == ["E", "W"]


def test_recency_weighting_moves_the_zone_to_recent_incidents() -> None:
    x, y, days = _city()
    p = {"area_share": 0.012, "max_zones": 1, **SMALL}
    old = build_zones(x, y, CITY, DISTRICTS, BuildParams(**p), days=days)  # type: ignore[arg-type]
    assert old.zones[0].district == "W"  # 60 old incidents beat 30 recent ones
    recent = build_zones(
        x,
        y,
        CITY,
        DISTRICTS,
        BuildParams(half_life_days=90.0, **p),  # type: ignore[arg-type]
        days=days,
    )
    assert recent.zones[0].district == "E"
    with pytest.raises(ValueError, match="days"):
        build_zones(x, y, CITY, DISTRICTS, BuildParams(half_life_days=90.0, **p))  # type: ignore[arg-type]


def test_incidents_outside_the_city_are_ignored() -> None:
    x, y, _ = _city()
    b = build_zones(
        np.append(x, [5000.0] * 50),
        np.append(y, [5000.0] * 50),
        CITY,
        DISTRICTS,
        BuildParams(area_share=0.012, **SMALL),
    )
    assert b.incidents == 110


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one"),
        ({"area_share": 0.1, "target_share": 0.3}, "exactly one"),
        ({"area_share": 1.5}, "area_share"),
        ({"area_share": 0.1, "max_zones": 0}, "max_zones"),
        ({"area_share": 0.1, "min_area_m2": 5e5}, "min_area_m2"),
        ({"area_share": 0.1, "max_aspect": 0.5}, "max_aspect"),
        ({"area_share": 0.1, "half_life_days": 0.0}, "half_life_days"),
    ],
)
def test_invalid_parameters(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BuildParams(**kwargs)  # type: ignore[arg-type]


def test_tier_presets_and_overrides() -> None:
    dat = tier_params("dat", area_share=0.015)
    assert (dat.min_area_m2, dat.max_area_m2) == (100_000.0, 1_000_000.0)
    assert (dat.max_zones, dat.max_zones_per_district) == (11, 2)
    assert tier_params("micro", area_share=0.0345) == BuildParams(area_share=0.0345)
    assert tier_params("dat", area_share=0.015, max_zones=15).max_zones == 15
    assert set(TIERS) == {"micro", "dat"}
    with pytest.raises(ValueError, match="unknown tier 'sector'"):
        tier_params("sector", area_share=0.01)


def test_dat_tier_builds_larger_zones_within_its_limits() -> None:
    # four dense 250 m squares (three in W, one in E) and a scattered background: at the
    # DAT tier each zone is 0.1-1.0 km2 and W keeps at most two of its three blocks
    rng = np.random.default_rng(3)
    parts = [
        _cluster(rng, 200, 20, 20, 250),
        _cluster(rng, 180, 20, 700, 250),
        _cluster(rng, 160, 220, 380, 250),
        _cluster(rng, 150, 700, 400, 250),
        _cluster(rng, 40, 0, 0, 1000),
    ]
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    p = tier_params("dat", area_share=0.3, cell_m=50.0, bandwidth_m=0.0)
    b = build_zones(x, y, CITY, DISTRICTS, p)
    assert len(b.zones) == 3  # W's third block would be a third W zone
    for z in b.zones:
        assert 100_000 <= z.area_m2 <= 1_000_000
    per = [z.district for z in b.zones]
    assert sorted(per) == ["E", "W", "W"]
    assert b.area_share <= 0.3 + 1e-9
    assert b.captured >= 150 + 160  # at least the E block and one W block
