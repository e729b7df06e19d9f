"""Hot-spot forecasters on Baltimore's gun incidents: do they beat last year's counts in 2015?

Data: the Open Baltimore Part 1 file read as the importer does (victim rows grouped:
:func:`smart_policing.zones.incidents.read_incidents_file`), gun incidents
(docs/zones.md), located ones projected to EPSG:26985: 12,190 incidents in
2012-2015, 8,285 before 2015 and 3,905 in 2015. The grid: 150 m cells over the nine
police districts' union, 9,379 cells inside (1% = 93 cells, 5% = 468).

Backtest: 13 rolling origins every 28 days from 2015-01-01 00:00 (America/New_York),
each forecaster fitted on every incident before the origin (2012 onward) and scored on
the next 28 days (3,896 incidents in the 13 periods). Parameters are the classes'
defaults, chosen before looking at 2015 (naive: 365 days; KDE: 150 m, exponential 60
days, 365-day lookback; prospective: 400 m, 8 weeks; SEPP: 500 m / 90 days cutoffs,
300 m background, 25 m floor on sigma). Measured (pooled over the 13 periods):

=============  ========  ========  ========  ========  ========  ========
forecaster     hit 1%    PAI 1%    PEI 1%    hit 5%    PAI 5%    PEI 5%
=============  ========  ========  ========  ========  ========  ========
naive counts   0.0862    8.70      0.170     0.2862    5.73      0.286
space-time KDE 0.0657    6.63      0.130     0.2505    5.02      0.251
prospective    0.0572    5.77      0.113     0.2159    4.33      0.216
SEPP           0.0688    6.94      0.136     0.2749    5.51      0.275
=============  ========  ========  ========  ========  ========  ========

None beats the naive baseline at 1% or 5% area: over four-week horizons gun violence
in Baltimore stays where it was over the past year, and recency weighting loses more
than it gains. SEPP comes closest (PAI 20% short at 1%, 4% short at 5%); KDE falls
24% / 12% short, prospective hot-spotting 34% / 25%. (For the SEPP floor, 10 m and 50 m
were also run on 2015 after the default was set: PAI 7.17 / 6.47 at 1%, neither beats
the baseline; the default was not changed.)
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from smart_policing.zones.backtest import BacktestResult, rolling_origin
from smart_policing.zones.forecast import (
    NaiveCounts,
    ProspectiveHotSpotting,
    SpaceTimeKernelDensity,
)
from smart_policing.zones.forecast_sepp import SelfExcitingPointProcess
from smart_policing.zones.geometry import polygons_from_geojson, union_all
from smart_policing.zones.grid import Grid
from smart_policing.zones.incidents import read_incidents_file, select_gun_incidents, to_points

pytestmark = pytest.mark.realdata
TZ = "America/New_York"

# pooled (hit 1%, PAI 1%, PEI 1%, hit 5%, PAI 5%, PEI 5%) measured on 2015
MEASURED = {
    "naive": (0.0862, 8.697, 0.170, 0.2862, 5.735, 0.286),
    "kde": (0.0657, 6.627, 0.130, 0.2505, 5.020, 0.251),
    "prospective": (0.0572, 5.772, 0.113, 0.2159, 4.326, 0.216),
    "sepp": (0.0688, 6.937, 0.136, 0.2749, 5.509, 0.275),
}
ESTIMATORS: dict[str, Any] = {
    "naive": NaiveCounts(),
    "kde": SpaceTimeKernelDensity(),
    "prospective": ProspectiveHotSpotting(),
    "sepp": SelfExcitingPointProcess(),
}


def _day(y: int, m: int, d: int) -> float:
    return datetime(y, m, d, tzinfo=ZoneInfo(TZ)).timestamp() / 86_400.0


_CACHE: dict[str, Any] = {}  # the read and the backtests, once per session


@pytest.fixture
def baltimore(shared_data: Path) -> tuple[np.ndarray, Grid]:
    if "data" in _CACHE:
        return _CACHE["data"]  # type: ignore[no-any-return]
    base = shared_data / "baltimore"
    frame, _ = read_incidents_file(base / "part1_crime_2012_2015.csv.gz", timezone=TZ)
    pts = to_points(select_gun_incidents(frame))
    districts = polygons_from_geojson(json.loads((base / "police_districts.geojson").read_text()))
    grid = Grid.from_polygon(union_all(p.geometry for p in districts), 150.0)
    _CACHE["data"] = (np.column_stack([pts.x, pts.y, pts.days]), grid)
    return _CACHE["data"]  # type: ignore[no-any-return]


@pytest.fixture
def results(baltimore: tuple[np.ndarray, Grid]) -> dict[str, BacktestResult]:
    if "results" not in _CACHE:
        ev, grid = baltimore
        origins = _day(2015, 1, 1) + 28.0 * np.arange(13)
        _CACHE["results"] = {
            name: rolling_origin(est, ev, grid, origins, 28.0, (0.01, 0.05))
            for name, est in ESTIMATORS.items()
        }
    return _CACHE["results"]  # type: ignore[no-any-return]


def test_the_data_and_grid(baltimore: tuple[np.ndarray, Grid]) -> None:
    ev, grid = baltimore
    start, end = _day(2015, 1, 1), _day(2016, 1, 1)
    assert len(ev) == 12_190
    assert int((ev[:, 2] < start).sum()) == 8_285
    assert int(((ev[:, 2] >= start) & (ev[:, 2] < end)).sum()) == 3_905
    assert (grid.nx, grid.ny, grid.n_cells) == (105, 130, 9_379)


@pytest.mark.parametrize("name", list(MEASURED))
def test_measured_2015_figures(results: dict[str, BacktestResult], name: str) -> None:
    r = results[name]
    assert int(r.events.sum()) == 3_896
    assert r.selected == (93, 468)
    got = [r.hit_rate(0.01), r.pai(0.01), r.pei(0.01), r.hit_rate(0.05), r.pai(0.05)]
    got.append(r.pei(0.05))
    np.testing.assert_allclose(got, MEASURED[name], atol=6e-4)


def test_no_forecaster_beats_last_years_counts_in_2015(
    results: dict[str, BacktestResult],
) -> None:
    base = results["naive"]
    for name in ("kde", "prospective", "sepp"):
        for share in (0.01, 0.05):
            assert results[name].pai(share) < base.pai(share), (name, share)
    # every forecaster concentrates gun violence far beyond chance (PAI 1)
    assert min(r.pai(0.05) for r in results.values()) > 4.0
