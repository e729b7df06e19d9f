"""Hit rate, PAI and PEI against a brute-force reference; the rolling-origin backtest."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from smart_policing.zones.backtest import hit_rate, pai, pei, rolling_origin, top_cells
from smart_policing.zones.forecast import NaiveCounts
from smart_policing.zones.grid import Grid

NAN = float("nan")


def brute_force(
    surface: np.ndarray, counts: np.ndarray, area_share: float
) -> tuple[float, float, float]:
    """Obviously correct: loop over cells, pick the best k by (value desc, index asc)."""
    cells = [
        (float(surface.flat[i]), i, float(counts.flat[i]))
        for i in range(surface.size)
        if not np.isnan(surface.flat[i])
    ]
    n = len(cells)
    k = max(1, int(area_share * n + 1e-9))
    chosen: list[tuple[float, int, float]] = []
    remaining = list(cells)
    for _ in range(k):
        pick = remaining[0]
        for c in remaining:
            if c[0] > pick[0] or (c[0] == pick[0] and c[1] < pick[1]):
                pick = c
        chosen.append(pick)
        remaining.remove(pick)
    captured = sum(c[2] for c in chosen)
    total = sum(c[2] for c in cells)
    best = max(
        sum(c[2] for c in combo) for combo in itertools.combinations(cells, k)
    )  # every k-subset: the most any k cells could hold
    hr = captured / total if total else NAN
    return hr, hr / (k / n) if total else NAN, captured / best if best else NAN


# 3 x 4 grid; the NaN cell (row 0, col 3) is outside the city: 11 city cells.
SURFACE = np.array(
    [
        [5.0, 1.0, 1.0, NAN],
        [0.0, 3.0, 1.0, 2.0],
        [0.0, 0.0, 4.0, 1.0],
    ]
)
COUNTS = np.array(
    [
        [1.0, 0.0, 2.0, 9.0],
        [0.0, 1.0, 0.0, 0.0],
        [4.0, 0.0, 1.0, 1.0],
    ]
)


def test_hand_computed_fixture() -> None:
    # 11 city cells, 10 events in the city (the 9 in the NaN cell are outside).
    # share 0.2 -> k = floor(2.2) = 2: cells 0 (5.0) and 10 (4.0) hold 1 + 1 = 2 events.
    assert top_cells(SURFACE, 0.2).tolist() == [0, 10]
    assert hit_rate(SURFACE, COUNTS, 0.2) == pytest.approx(2 / 10)
    assert pai(SURFACE, COUNTS, 0.2) == pytest.approx((2 / 10) / (2 / 11))
    # the best two cells hold 4 + 2 = 6
    assert pei(SURFACE, COUNTS, 0.2) == pytest.approx(2 / 6)
    # share 0.5 -> k = 5: 0, 10, 5 (3.0), 7 (2.0), then the tie at 1.0 among 1, 2, 6, 11
    # is broken by the lowest flat index: cell 1.
    assert top_cells(SURFACE, 0.5).tolist() == [0, 10, 5, 7, 1]
    assert hit_rate(SURFACE, COUNTS, 0.5) == pytest.approx(3 / 10)


@pytest.mark.parametrize("share", [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0])
@pytest.mark.parametrize("seed", range(6))
def test_matches_brute_force(share: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    surface = rng.integers(0, 4, size=(3, 4)).astype(float)  # many ties
    surface[rng.random((3, 4)) < 0.15] = NAN
    surface[0, 0] = 1.0  # at least one city cell
    counts = rng.poisson(1.0, size=(3, 4)).astype(float)
    got = (
        hit_rate(surface, counts, share),
        pai(surface, counts, share),
        pei(surface, counts, share),
    )
    want = brute_force(surface, counts, share)
    np.testing.assert_allclose(got, want, equal_nan=True)


def test_perfect_forecast_has_pei_one_and_no_events_is_nan() -> None:
    counts = np.array([[0.0, 3.0], [1.0, 0.0]])
    assert pei(counts, counts, 0.25) == 1.0
    assert hit_rate(counts, counts, 0.25) == 0.75  # one cell of four holds 3 of 4 events
    assert pai(counts, counts, 0.25) == 3.0
    assert np.isnan(hit_rate(counts, np.zeros((2, 2)), 0.5))
    assert np.isnan(pei(counts, np.zeros((2, 2)), 0.5))


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="area_share"):
        hit_rate(SURFACE, COUNTS, 0.0)
    with pytest.raises(ValueError, match="same shape"):
        pai(SURFACE, COUNTS[:, :2], 0.1)


def test_rolling_origin_scores_each_origin_on_its_horizon_only() -> None:
    grid = Grid.from_bounds(0.0, 0.0, 400.0, 100.0, 100.0)  # 4 cells in a row
    # history: three events in cell 2, one in cell 0; future: day 10 in cell 2,
    # day 11 in cell 0, day 25 (beyond a 10-day horizon from day 10) in cell 3.
    ev = np.array(
        [
            [250.0, 50.0, 1.0],
            [260.0, 50.0, 2.0],
            [270.0, 50.0, 3.0],
            [50.0, 50.0, 4.0],
            [250.0, 50.0, 10.0],
            [50.0, 50.0, 11.0],
            [350.0, 50.0, 25.0],
        ]
    )
    res = rolling_origin(NaiveCounts(lookback_days=30.0), ev, grid, [10.0, 20.0], 10.0, (0.25,))
    assert res.events.tolist() == [2, 1]
    # origin 10: top cell is 2 (3 events) -> captures the day-10 event; best single cell 1.
    # origin 20: history adds day 10 (cell 2: 4) and day 11 (cell 0: 2) -> cell 2; misses.
    assert res.captured[:, 0].tolist() == [1, 0]
    assert res.best[:, 0].tolist() == [1, 1]
    assert res.hit_rate(0.25) == pytest.approx(1 / 3)
    assert res.pai(0.25) == pytest.approx((1 / 3) / 0.25)
    assert res.pei(0.25) == pytest.approx(1 / 2)
    assert res.summary()["by_area_share"][0]["cells"] == 1
    with pytest.raises(KeyError, match="not scored"):
        res.pai(0.5)
    with pytest.raises(ValueError, match="no history"):
        rolling_origin(NaiveCounts(), ev, grid, [0.5], 10.0)


def test_history_days_limits_what_each_origin_is_fitted_on() -> None:
    grid = Grid.from_bounds(0.0, 0.0, 200.0, 100.0, 100.0)  # cells 0 and 1
    ev = np.array(
        [
            [50.0, 50.0, 1.0],
            [50.0, 50.0, 2.0],
            [50.0, 50.0, 3.0],
            [150.0, 50.0, 15.0],
            [150.0, 50.0, 21.0],  # the scored event, in cell 1
        ]
    )
    est = NaiveCounts(lookback_days=1000.0)
    everything = rolling_origin(est, ev, grid, [20.0], 5.0, (0.5,))
    recent = rolling_origin(est, ev, grid, [20.0], 5.0, (0.5,), history_days=10.0)
    assert everything.captured.tolist() == [[0]]  # cell 0 (3 old events) is chosen
    assert recent.captured.tolist() == [[1]]  # only day 15 is fitted: cell 1
