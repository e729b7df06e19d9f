"""Issue 6 acceptance: our micro-zones against BPD's 2019 Focused Patrol Areas.

Built from the 2012-2014 gun incidents of the Open Baltimore Part 1 file and scored on
2015, both zone sets by the same code (:func:`smart_policing.zones.score.score_zone_set`),
in EPSG:26985 metres, the city being the union of the nine police districts
(210.80 km2). Figures measured with the default parameters (50 m cells, 75 m
smoothing, zones of 0.01-0.4 km2 with bounding-box aspect <= 4 and fill >= 0.4, at
most 120)::

    gun incidents 2012-2015, victim rows grouped: 12,164 located in the city
        (13,989 victim rows: the data README's count, which counts rows)
    2012-2014: 8,264; 2015: 3,900
    BPD 2019 Focused Patrol Areas: 118 polygons, 3.445% of the city,
        2015 capture 542 (13.9%), PAI 4.03
    ours, area mode at BPD's share: 116 zones, 3.44%, 2015 capture 962 (24.7%),
        PAI 7.16: 1.77x BPD's capture (goal 1.6x, stretch 2x not reached)
    ours, target mode (33% of 2012-2014): 109 zones, 3.13% of the city, holding 33.0%
        of 2012-2014; 2015 capture 914 (23.4%), PAI 7.50

Print them with::

    smart-policing zones build --incidents ../shared/data/baltimore/part1_crime_2012_2015.csv.gz \\
        --districts ../shared/data/baltimore/police_districts.geojson \\
        --start 2012-01-01 --end 2014-12-31 --area-share 0.034449 --out zones.geojson
    smart-policing zones score zones.geojson --incidents (same file) --districts (same) \\
        --start 2015-01-01 --end 2015-12-31 \\
        --compare ../shared/data/baltimore/focused_patrol_areas_2019.geojson

The second tier, BPD's 11 District Action Team zones (3.132 km2, 1.486% of the city),
against ours built with ``--tier dat`` (zones of 0.1-1.0 km2, at most 11, at most 2 per
district) at the same area share from the same 2012-2014 incidents::

    BPD 2019 DAT zones: 11 polygons, 1.486%, 2015 capture 314 (8.1%), PAI 5.42
    ours, --tier dat: 9 zones, 1.485%, 2015 capture 358 (9.2%), PAI 6.18: 1.14x BPD
    (with --max-zones 15: 14 zones, capture 422, 1.34x)

Re-evaluation. Stability between rebuilds: ours built (defaults, BPD's 3.445%) from
2012-2013 and from 2013-2014, compared on 2015 (``zones score A --compare B``)::

    117 and 117 zones; 2015 capture 918 and 906; Jaccard of the areas 0.351;
    86 of 117 zones of the first overlap the second, 77 of 117 the other way
    (from 2012-2013 vs from 2014 alone: Jaccard 0.18; ours 2013-2014 vs BPD's: 0.09)

Places that emerged outside BPD's focused patrol areas from 2014 to 2015 (150 m cells,
``zones score ... --before-start 2014-01-01 --before-end 2014-12-31``): the top cell,
in Southwestern, went from 1 to 20 gun incidents, all 20 at one coordinate (a stacked
geocode, not a street corner: read such cells before redrawing a zone).

The defaults were chosen by building from 2012-2013 and scoring on 2014 (ours 1.94x
BPD's 2014 capture, the best of the settings tried there); on 2015 the settings tried
give 1.4x-1.8x, so the result depends on them. BPD drew its areas from later years,
so they are not tuned to this period.
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path

import polars as pl
import pytest

from smart_policing.zones.build import BuildParams, ZoneBuild, build_zones, tier_params
from smart_policing.zones.geometry import NamedPolygon, polygons_from_geojson, union_all
from smart_policing.zones.incidents import (
    IncidentPoints,
    filter_period,
    read_incidents_file,
    select_gun_incidents,
    to_points,
)
from smart_policing.zones.score import compare_zone_sets, emerging_places, score_zone_set

pytestmark = pytest.mark.realdata
TZ = "America/New_York"


@cache
def _guns(root: Path) -> pl.DataFrame:
    path = root / "baltimore" / "part1_crime_2012_2015.csv.gz"
    frame, rejected = read_incidents_file(path, timezone=TZ)
    assert rejected == 0
    return select_gun_incidents(frame)


def _years(root: Path, first: int, last: int) -> IncidentPoints:
    period = filter_period(_guns(root), date(first, 1, 1), date(last, 12, 31), timezone=TZ)
    return to_points(period)


@cache
def _data(root: Path) -> tuple[list[NamedPolygon], IncidentPoints, IncidentPoints, IncidentPoints]:
    b = root / "baltimore"
    guns = _guns(root)
    districts = polygons_from_geojson(json.loads((b / "police_districts.geojson").read_text()))
    return (
        districts,
        to_points(guns),
        to_points(filter_period(guns, date(2012, 1, 1), date(2014, 12, 31), timezone=TZ)),
        to_points(filter_period(guns, date(2015, 1, 1), date(2015, 12, 31), timezone=TZ)),
    )


@cache
def _bpd(root: Path) -> list[NamedPolygon]:
    path = root / "baltimore" / "focused_patrol_areas_2019.geojson"
    return polygons_from_geojson(json.loads(path.read_text()))


@cache
def _build(root: Path, mode: str) -> ZoneBuild:
    districts, _, train, _ = _data(root)
    city = union_all(d.geometry for d in districts)
    if mode == "area":
        share = score_zone_set(_bpd(root), city, train.x, train.y).area_share
        params = BuildParams(area_share=share, max_zones=120)
    else:
        params = BuildParams(target_share=0.33, max_zones=120)
    return build_zones(train.x, train.y, city, districts, params, days=train.days)


def test_gun_incident_counts(shared_data: Path) -> None:
    districts, every, train, test = _data(shared_data)
    city = union_all(d.geometry for d in districts)
    assert city.area / 1e6 == pytest.approx(210.80, abs=0.01)
    s = score_zone_set([], city, every.x, every.y)
    # grouped victim rows: 12,164 incidents; the README's 13,989 counts victim rows
    assert s.incidents == 12_164
    assert score_zone_set([], city, train.x, train.y).incidents == 8_264
    assert score_zone_set([], city, test.x, test.y).incidents == 3_900


def test_bpd_areas_measured_by_our_code(shared_data: Path) -> None:
    districts, _, _, test = _data(shared_data)
    city = union_all(d.geometry for d in districts)
    bpd = score_zone_set(_bpd(shared_data), city, test.x, test.y, districts=districts)
    assert bpd.zones == 118
    assert bpd.area_share == pytest.approx(0.03445, abs=0.00005)  # "3.45% of the city"
    assert (bpd.captured, bpd.incidents) == (542, 3_900)
    assert len(bpd.districts) == 9
    assert sum(d.incidents for d in bpd.districts) == 3_900


def test_our_zones_capture_1_6x_bpd_at_the_same_area(shared_data: Path) -> None:
    districts, _, _, test = _data(shared_data)
    city = union_all(d.geometry for d in districts)
    bpd = score_zone_set(_bpd(shared_data), city, test.x, test.y)
    built = _build(shared_data, "area")
    ours = score_zone_set([z.named() for z in built.zones], city, test.x, test.y)
    assert ours.zones <= 120
    assert ours.area_share <= bpd.area_share + 1e-9
    assert ours.area_share >= 0.99 * bpd.area_share
    for z in built.zones:  # street-block scale, one piece, inside its district
        assert 10_000 <= z.area_m2 <= 400_000
        assert z.geometry.geom_type == "Polygon"
    assert {z.district for z in built.zones} == {d.name for d in districts}
    assert ours.captured == 962
    assert ours.captured >= 1.6 * bpd.captured  # 962 / 542 = 1.77


def test_target_mode_covers_a_third_and_reports_2015(shared_data: Path) -> None:
    districts, _, train, test = _data(shared_data)
    city = union_all(d.geometry for d in districts)
    built = _build(shared_data, "target")
    assert built.target_met
    assert built.capture_share >= 0.33  # exact: counted in the polygons
    assert (built.incidents, train.x.size) == (8_264, 8_285)  # 21 located outside the city
    ours = score_zone_set([z.named() for z in built.zones], city, test.x, test.y)
    assert len(built.zones) == 109
    assert built.area_share == pytest.approx(0.0313, abs=0.0001)
    assert (ours.captured, ours.incidents) == (914, 3_900)


def test_dat_tier_against_bpd_district_action_team_zones(shared_data: Path) -> None:
    districts, _, train, test = _data(shared_data)
    city = union_all(d.geometry for d in districts)
    path = shared_data / "baltimore" / "district_action_team_zones_2019.geojson"
    dat = polygons_from_geojson(json.loads(path.read_text()))
    bpd = score_zone_set(dat, city, test.x, test.y)
    assert bpd.zones == 11
    assert bpd.zone_area_m2 / 1e6 == pytest.approx(3.132, abs=0.001)
    assert (bpd.captured, bpd.incidents) == (314, 3_900)
    share = score_zone_set(dat, city, train.x, train.y).area_share
    built = build_zones(train.x, train.y, city, districts, tier_params("dat", area_share=share))
    ours = score_zone_set([z.named() for z in built.zones], city, test.x, test.y)
    assert ours.area_share <= bpd.area_share + 1e-9
    assert ours.area_share >= 0.99 * bpd.area_share
    assert len(built.zones) == 9  # the per-district limit and the budget stop it below 11
    for z in built.zones:
        assert 100_000 <= z.area_m2 <= 1_000_000
    per = [z.district for z in built.zones]
    assert max(per.count(d) for d in set(per)) <= 2
    assert ours.captured == 358  # 1.14x BPD's 314


@cache
def _window(root: Path, first: int, last: int) -> list[NamedPolygon]:
    districts = _data(root)[0]
    city = union_all(d.geometry for d in districts)
    w = _years(root, first, last)
    share = score_zone_set(_bpd(root), city, w.x, w.y).area_share
    built = build_zones(w.x, w.y, city, districts, BuildParams(area_share=share))
    return [z.named() for z in built.zones]


def test_rebuilds_from_two_windows_are_compared_on_2015(shared_data: Path) -> None:
    districts, _, _, test = _data(shared_data)
    city = union_all(d.geometry for d in districts)
    a, b = _window(shared_data, 2012, 2013), _window(shared_data, 2013, 2014)
    c = compare_zone_sets(a, b, city, test.x, test.y)
    s = c.stability
    assert (s.a_zones, s.b_zones) == (117, 117)
    assert (c.a.captured, c.b.captured) == (918, 906)
    assert s.jaccard == pytest.approx(0.351, abs=0.001)
    assert (s.a_overlapping, s.b_overlapping) == (86, 77)
    # the two share about a third of the area either covers, yet most zones keep a foothold
    assert 0.2 < s.jaccard < 0.6


def test_places_that_emerged_outside_bpd_areas(shared_data: Path) -> None:
    districts, _, _, test = _data(shared_data)
    city = union_all(d.geometry for d in districts)
    y2014 = _years(shared_data, 2014, 2014)
    places = emerging_places(
        _bpd(shared_data), city, y2014.x, y2014.y, test.x, test.y, districts=districts
    )
    assert len(places) == 10
    top = places[0]
    assert (top.district, top.before, top.after, top.rank_after) == ("Southwestern", 1, 20, 1)
    assert all(p.after > p.before for p in places)
    assert [p.change for p in places] == sorted((p.change for p in places), reverse=True)
