"""Naive counts, space-time KDE and prospective hot-spotting: exact values and contracts."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from sklearn.base import clone

from smart_policing.zones.forecast import (
    NaiveCounts,
    ProspectiveHotSpotting,
    SpaceTimeKernelDensity,
)
from smart_policing.zones.forecast_sepp import SelfExcitingPointProcess
from smart_policing.zones.grid import Grid

ESTIMATORS = [
    NaiveCounts(),
    SpaceTimeKernelDensity(),
    ProspectiveHotSpotting(),
    SelfExcitingPointProcess(max_iter=5),
]


def random_events(seed: int, n: int = 300, size_m: float = 2000.0, days: float = 200.0):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [rng.uniform(0, size_m, n), rng.uniform(0, size_m, n), rng.uniform(0, days, n)]
    )


def test_grid_from_polygon_masks_cells_by_centre() -> None:
    # a 300 x 200 m rectangle plus a triangle; 100 m cells
    city = shapely.Polygon([(0, 0), (300, 0), (300, 200), (0, 200)])
    grid = Grid.from_polygon(city, 100.0)
    assert (grid.nx, grid.ny, grid.n_cells) == (3, 2, 6)
    tri = shapely.Polygon([(0, 0), (300, 0), (0, 300)])
    g2 = Grid.from_polygon(tri, 100.0)
    # centres (50,50),(150,50),(50,150) are inside x + y < 300; (250,50),(150,150) are on/out
    assert g2.mask.tolist() == [[True, True, False], [True, False, False], [False, False, False]]
    assert g2.cell_index(np.array([50.0, 250.0, -1.0]), np.array([150.0, 250.0, 0.0])).tolist() == [
        3,
        8,
        -1,
    ]


def test_naive_counts_counts_the_lookback_window_only() -> None:
    grid = Grid.from_bounds(0, 0, 200, 100, 100)
    ev = np.array([[10, 10, 0.0], [20, 20, 5.0], [150, 50, 9.0], [150, 50, 10.0]])
    est = NaiveCounts(lookback_days=6.0).fit(ev)
    # t = 10: window [4, 10): day 5 (cell 0) and day 9 (cell 1); day 10 is not before t
    assert est.predict(grid, 10.0).tolist() == [[1.0, 1.0]]
    assert est.predict(grid, 11.0).tolist() == [[1.0, 2.0]]
    assert est.predict(grid, 0.0).tolist() == [[0.0, 0.0]]


def test_prospective_matches_the_papers_sum_computed_by_loops() -> None:
    rng = np.random.default_rng(3)
    grid = Grid.from_bounds(0, 0, 1000, 800, 50)
    grid = Grid(grid.x0, grid.y0, grid.cell_m, grid.nx, grid.ny, rng.random(grid.mask.shape) < 0.9)
    ev = np.column_stack(
        [rng.uniform(-100, 1100, 200), rng.uniform(-100, 900, 200), rng.uniform(0, 100, 200)]
    )
    est = ProspectiveHotSpotting(bandwidth_m=200.0, time_bandwidth_weeks=4).fit(ev)
    t = 90.0
    got = est.predict(grid, t)
    cx, cy = grid.centres()
    want = np.zeros_like(cx)
    for x, y, ti in ev:
        col, row = np.floor(x / 50), np.floor(y / 50)
        if ti >= t or not (0 <= col < grid.nx and 0 <= row < grid.ny):
            continue
        weeks = np.floor((t - ti) / 7)
        if weeks >= 4:
            continue
        ex, ey = (col + 0.5) * 50, (row + 0.5) * 50
        d_cells = np.hypot(cx - ex, cy - ey) / 50
        want += np.where(d_cells * 50 <= 200 + 1e-9, 1 / (1 + d_cells), 0) / (1 + weeks)
    want[~grid.mask] = np.nan
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, equal_nan=True)


def test_one_event_adds_one_to_its_own_cell_in_its_first_week() -> None:
    grid = Grid.from_bounds(0, 0, 500, 500, 100)
    est = ProspectiveHotSpotting(bandwidth_m=100.0).fit(np.array([[250.0, 250.0, 0.0]]))
    s = est.predict(grid, 3.0)
    assert s[2, 2] == 1.0
    assert s[2, 3] == 0.5
    assert s[3, 3] == 0.0  # the diagonal neighbour is 1.41 cells away
    assert est.predict(grid, 8.0)[2, 2] == 0.5  # one whole week old


@pytest.mark.parametrize("decay", ["exponential", "linear"])
def test_kde_matches_direct_gaussian_sum(decay: str) -> None:
    grid = Grid.from_bounds(0, 0, 3000, 3000, 50)
    ev = random_events(5, n=40, size_m=3000.0, days=100.0)
    # put events on cell centres so the binned filter equals the exact kernel sum
    ev[:, :2] = (np.floor(ev[:, :2] / 50) + 0.5) * 50
    est = SpaceTimeKernelDensity(bandwidth_m=200.0, time_decay=decay, time_scale_days=50.0)
    got = est.fit(ev).predict(grid, 100.0)
    cx, cy = grid.centres()
    want = np.zeros_like(cx)
    for x, y, ti in ev:
        age = 100.0 - ti
        k = np.exp(-age / 50) if decay == "exponential" else max(0.0, 1 - age / 50)
        g = np.exp(-((cx - x) ** 2 + (cy - y) ** 2) / (2 * 200.0**2)) / (2 * np.pi * 200.0**2)
        want += k * g * 50.0**2
    # the Gaussian integrated over cells vs sampled at centres, and truncation at 4 sd
    np.testing.assert_allclose(got, want, rtol=0.02, atol=1e-4 * want.max())
    assert got.sum() == pytest.approx(want.sum(), rel=0.02)


def test_kde_recent_events_weigh_more() -> None:
    grid = Grid.from_bounds(0, 0, 2000, 1000, 100)
    ev = np.array([[500.0, 500.0, 0.0], [1500.0, 500.0, 90.0]])
    s = SpaceTimeKernelDensity().fit(ev).predict(grid, 100.0)
    assert s[5, 15] > 3 * s[5, 5] > 0


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_estimator_contract(est: object) -> None:
    X = random_events(1)
    grid = Grid.from_bounds(0, 0, 2000, 2000, 100)
    model = clone(est)
    params = model.get_params()
    assert model.fit(X) is model
    assert model.get_params() == params  # fit does not touch parameters
    fitted = [k for k in vars(model) if k.endswith("_") and not k.startswith("_")]
    assert "events_" in fitted
    s1 = model.predict(grid, 150.0)
    assert s1.shape == (20, 20)
    assert np.isfinite(s1).all()
    assert (s1 >= 0).all()
    # order of the rows does not matter; events after t never matter
    rng = np.random.default_rng(0)
    s2 = clone(est).fit(X[rng.permutation(len(X))]).predict(grid, 150.0)
    np.testing.assert_allclose(s1, s2, rtol=1e-9, atol=1e-15)
    past = X[X[:, 2] < 150.0]
    if not isinstance(est, SelfExcitingPointProcess):  # SEPP's parameters depend on all data
        np.testing.assert_array_equal(clone(est).fit(past).predict(grid, 150.0), s1)
    unfitted = clone(est)
    with pytest.raises(ValueError, match="not fitted"):
        unfitted.predict(grid, 1.0)


@pytest.mark.parametrize(
    ("est", "message"),
    [
        (NaiveCounts(lookback_days=0.0), "lookback_days must be > 0"),
        (SpaceTimeKernelDensity(time_decay="cubic"), "time_decay must be one of"),
        (SpaceTimeKernelDensity(bandwidth_m=float("nan")), "bandwidth_m must be finite"),
        (ProspectiveHotSpotting(time_bandwidth_weeks=2.5), "must be an integer"),  # type: ignore[arg-type]
        (ProspectiveHotSpotting(bandwidth_m=-1.0), "bandwidth_m must be >= 0"),
        (SelfExcitingPointProcess(theta0=1.5), "theta0 must be <= 0.999"),
        (SelfExcitingPointProcess(max_iter=0), "max_iter must be >= 1"),
    ],
)
def test_parameter_limits_are_checked_in_fit(est: object, message: str) -> None:
    X = random_events(2, n=20)
    with pytest.raises(ValueError, match=message):
        est.fit(X)  # type: ignore[attr-defined]


@pytest.mark.parametrize("bad", [np.zeros((0, 3)), np.zeros((4, 2)), np.array([[0, 0, np.nan]])])
def test_bad_events_are_refused(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="X "):
        NaiveCounts().fit(bad)


def test_set_params_then_fit_uses_the_new_value() -> None:
    X = random_events(4)
    grid = Grid.from_bounds(0, 0, 2000, 2000, 100)
    a = NaiveCounts(lookback_days=30.0).fit(X).predict(grid, 200.0)
    b = NaiveCounts().set_params(lookback_days=30.0).fit(X).predict(grid, 200.0)
    np.testing.assert_array_equal(a, b)
    assert a.sum() == ((X[:, 2] >= 170.0) & (X[:, 2] < 200.0)).sum()


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_moving_space_and_time_together_changes_nothing(est: object) -> None:
    X = random_events(6)
    grid = Grid.from_bounds(0, 0, 2000, 2000, 100)
    moved = X + np.array([5_000.0, -3_000.0, 1_000.0])
    grid2 = Grid(5_000.0, -3_000.0, 100.0, grid.nx, grid.ny, grid.mask)
    s1 = clone(est).fit(X).predict(grid, 150.0)
    s2 = clone(est).fit(moved).predict(grid2, 1_150.0)
    np.testing.assert_allclose(s1, s2, rtol=1e-6, atol=1e-12)
