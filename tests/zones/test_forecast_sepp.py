"""The self-exciting point process: sparse pairs and recovery of known parameters."""

from __future__ import annotations

import numpy as np
import pytest

from smart_policing.zones.forecast_sepp import SelfExcitingPointProcess, space_time_pairs
from smart_policing.zones.grid import Grid


def simulate_hawkes(
    seed: int,
    rate_per_day: float,
    days: float,
    size_m: float,
    theta: float,
    omega: float,
    sigma_m: float,
) -> np.ndarray:
    """Branching simulation: uniform immigrants, Poisson(theta) children per event,
    Exp(omega) delays, N(0, sigma^2) displacements in x and y; children after ``days``
    are dropped (children off the square are kept: no spatial edge effect)."""
    rng = np.random.default_rng(seed)
    n0 = rng.poisson(rate_per_day * days)
    gen = np.column_stack(
        [rng.uniform(0, size_m, n0), rng.uniform(0, size_m, n0), rng.uniform(0, days, n0)]
    )
    out = [gen]
    while gen.shape[0]:
        parents = np.repeat(gen, rng.poisson(theta, gen.shape[0]), axis=0)
        m = parents.shape[0]
        step = np.column_stack(
            [rng.normal(0, sigma_m, m), rng.normal(0, sigma_m, m), rng.exponential(1 / omega, m)]
        )
        gen = (parents + step)[parents[:, 2] + step[:, 2] < days]
        out.append(gen)
    return np.vstack(out)


def test_pairs_match_brute_force() -> None:
    rng = np.random.default_rng(0)
    ev = np.column_stack(
        [rng.uniform(0, 2000, 400), rng.uniform(0, 2000, 400), rng.integers(0, 200, 400)]
    ).astype(float)
    ev = ev[np.argsort(ev[:, 2], kind="stable")]
    parent, child = space_time_pairs(ev, 300.0, 20.0)
    want = set()
    for i in range(len(ev)):
        for j in range(len(ev)):
            dt = ev[j, 2] - ev[i, 2]
            d = np.hypot(ev[j, 0] - ev[i, 0], ev[j, 1] - ev[i, 1])
            if 0 < dt <= 20.0 and d <= 300.0:
                want.add((i, j))
    assert set(zip(parent.tolist(), child.tolist(), strict=True)) == want
    assert len(want) > 100  # the fixture has pairs to find


@pytest.mark.parametrize(
    ("seed", "theta", "omega", "sigma"),
    [(1, 0.5, 0.1, 100.0), (2, 0.3, 0.2, 60.0), (3, 0.7, 0.05, 150.0)],
)
def test_recovers_known_parameters(seed: int, theta: float, omega: float, sigma: float) -> None:
    ev = simulate_hawkes(seed, 4.0 * (1 - theta) / 0.5, 1000.0, 10_000.0, theta, omega, sigma)
    # the background kernel must be wider than the triggering spread, or the background
    # absorbs the clusters (theta 0.65 for the third case with 300 m): 4 sigma here
    model = SelfExcitingPointProcess(
        cutoff_m=6 * sigma, cutoff_days=6 / omega, background_bandwidth_m=4 * sigma
    ).fit(ev)
    assert model.converged_
    assert model.theta_ == pytest.approx(theta, abs=0.05)
    assert model.omega_ == pytest.approx(omega, rel=0.15)
    assert model.sigma_m_ == pytest.approx(sigma, rel=0.1)
    assert model.background_share_ == pytest.approx(1 - theta, abs=0.06)


def test_no_excitation_gives_small_theta() -> None:
    rng = np.random.default_rng(7)
    n = 4000
    ev = np.column_stack(
        [rng.uniform(0, 10_000, n), rng.uniform(0, 10_000, n), rng.uniform(0, 1000, n)]
    )
    model = SelfExcitingPointProcess().fit(ev)
    assert model.theta_ < 0.05


def test_surface_rises_after_a_cluster_and_decays() -> None:
    ev = simulate_hawkes(4, 3.0, 500.0, 5000.0, 0.5, 0.1, 100.0)
    burst = np.array([[2500.0 + 10 * k, 2500.0, 499.0 + 0.1 * k] for k in range(5)])
    model = SelfExcitingPointProcess().fit(np.vstack([ev, burst]))
    grid = Grid.from_bounds(0, 0, 5000, 5000, 100)
    soon = model.predict(grid, 500.0)
    later = model.predict(grid, 560.0)
    assert soon[25, 25] > 5 * np.nanmedian(soon)
    assert later[25, 25] < soon[25, 25] / 5
    # the surface is the expected events per cell per day: its total is near the rate
    base_rate = model.background_share_ * model.n_events_ / 500.0
    assert later.sum() == pytest.approx(base_rate, rel=0.25)
