"""Scoring a risk surface (hit rate, PAI, PEI) and rolling-origin backtests.

Scoring a surface at an area share ``a``
---------------------------------------
The city has ``n`` cells (the grid's mask; surfaces hold ``NaN`` outside it). The
forecast *selects* its top ``k = max(1, floor(a * n))`` cells: cells ranked by surface
value, highest first, **ties broken by the flat (row-major) cell index, lowest first**
(south-west first; see :class:`~smart_policing.zones.grid.Grid`), so a surface with
many equal values (naive counts' zeros) selects the same cells every run. Given the
events of the scoring period counted per cell (``counts``, same shape; events in cells
outside the city are not counted):

* **hit rate** (capture share) = events in the selected cells / events in the city;
* **PAI** (Chainey, Tompson & Uhlig 2008) = hit rate / (k / n), the realised area share;
* **PEI** (Hunt 2016, "Do crime hot spots move? Exploring the effects of the modifiable
  areal unit problem and modifiable temporal unit problem on crime hot spot
  stability", American University) = events in the selected cells / the most events
  any ``k`` cells held (the sum of the ``k`` largest counts).

Each is ``NaN`` when its denominator is zero (no events in the city).

Rolling origin
--------------
:func:`rolling_origin` walks a list of origins ``t`` (days): at each it fits a fresh
clone of the estimator on events strictly before ``t`` (optionally only the last
``history_days``), predicts the surface at ``t`` and scores it against events in
``[t, t + horizon_days)``. Totals are *pooled* over origins: the pooled hit rate is
all captured events / all events, the pooled PAI that over the area share, the
pooled PEI all captured / all capturable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.base import clone

from smart_policing.zones.grid import Grid

__all__ = [
    "BacktestResult",
    "hit_rate",
    "n_selected",
    "pai",
    "pei",
    "rolling_origin",
    "top_cells",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def _check(surface: F64, counts: F64, area_share: float) -> tuple[F64, F64]:
    s = np.asarray(surface, dtype=float)
    c = np.asarray(counts, dtype=float)
    if s.shape != c.shape:
        raise ValueError(f"surface {s.shape} and counts {c.shape} must have the same shape")
    if not 0.0 < area_share <= 1.0:
        raise ValueError(f"area_share must be in (0, 1], got {area_share!r}")
    return s.ravel(), c.ravel()


def n_selected(n_city_cells: int, area_share: float) -> int:
    """Cells selected at ``area_share``: ``max(1, floor(area_share * n_city_cells))``."""
    return max(1, int(np.floor(area_share * n_city_cells + 1e-9)))


def top_cells(surface: F64, area_share: float) -> I64:
    """Flat indices of the selected cells: highest values first, ties by lowest index.

    ``NaN`` cells (outside the city) are never selected.
    """
    s, _ = _check(surface, surface, area_share)
    city = np.flatnonzero(~np.isnan(s))
    k = n_selected(city.size, area_share)
    order = np.argsort(-s[city], kind="stable")  # stable: equal values keep index order
    return city[order[:k]].astype(np.int64)


def _scores(surface: F64, counts: F64, area_share: float) -> tuple[float, float, float, int, int]:
    """(captured, events in city, best capturable, k, n city cells)."""
    s, c = _check(surface, counts, area_share)
    city = ~np.isnan(s)
    n = int(city.sum())
    sel = top_cells(surface, area_share)
    k = sel.size
    captured = float(c[sel].sum())
    total = float(c[city].sum())
    best = float(np.sort(c[city])[::-1][:k].sum())
    return captured, total, best, k, n


def hit_rate(surface: F64, counts: F64, area_share: float) -> float:
    """Capture share of the surface's top cells at ``area_share`` (module docstring)."""
    captured, total, _, _, _ = _scores(surface, counts, area_share)
    return captured / total if total > 0 else float("nan")


def pai(surface: F64, counts: F64, area_share: float) -> float:
    """Predictive accuracy index: hit rate / realised area share ``k / n``."""
    captured, total, _, k, n = _scores(surface, counts, area_share)
    return (captured / total) / (k / n) if total > 0 else float("nan")


def pei(surface: F64, counts: F64, area_share: float) -> float:
    """Predictive efficiency index: captured / the most any ``k`` city cells held."""
    captured, _, best, _, _ = _scores(surface, counts, area_share)
    return captured / best if best > 0 else float("nan")


@dataclass(frozen=True)
class BacktestResult:
    """Per-origin tallies of a rolling-origin backtest.

    ``captured[o, a]`` and ``best[o, a]`` are events captured by the forecast made at
    origin ``o`` at area share ``area_shares[a]`` and the most any equal-size cell set
    could capture; ``events[o]`` the events in the city in that origin's horizon.
    """

    origins: F64
    horizon_days: float
    area_shares: tuple[float, ...]
    selected: tuple[int, ...]
    n_city_cells: int
    events: I64
    captured: I64
    best: I64

    def _col(self, area_share: float) -> int:
        for i, a in enumerate(self.area_shares):
            if abs(a - area_share) < 1e-12:
                return i
        raise KeyError(f"area share {area_share} was not scored; scored: {self.area_shares}")

    def hit_rate(self, area_share: float) -> float:
        """Pooled capture share: all captured / all events over the origins."""
        total = int(self.events.sum())
        return float(self.captured[:, self._col(area_share)].sum()) / total if total else np.nan

    def pai(self, area_share: float) -> float:
        """Pooled PAI: pooled hit rate / realised area share."""
        i = self._col(area_share)
        return self.hit_rate(area_share) / (self.selected[i] / self.n_city_cells)

    def pei(self, area_share: float) -> float:
        """Pooled PEI: all captured / all capturable."""
        i = self._col(area_share)
        best = int(self.best[:, i].sum())
        return float(self.captured[:, i].sum()) / best if best else float("nan")

    def summary(self) -> dict[str, Any]:
        """Pooled figures per area share, as plain data (JSON-ready)."""
        return {
            "origins": int(self.origins.size),
            "horizon_days": self.horizon_days,
            "events": int(self.events.sum()),
            "n_city_cells": self.n_city_cells,
            "by_area_share": [
                {
                    "area_share": a,
                    "cells": self.selected[i],
                    "hit_rate": self.hit_rate(a),
                    "pai": self.pai(a),
                    "pei": self.pei(a),
                }
                for i, a in enumerate(self.area_shares)
            ],
        }


def rolling_origin(
    estimator: Any,
    events: F64,
    grid: Grid,
    origins: Sequence[float] | F64,
    horizon_days: float,
    area_shares: Sequence[float] = (0.01, 0.05),
    history_days: float | None = None,
) -> BacktestResult:
    """Rolling-origin backtest of ``estimator`` (fitted afresh at every origin).

    Parameters
    ----------
    estimator : forecaster
        Any forecaster of :mod:`smart_policing.zones.forecast` (cloned, never mutated).
    events : ndarray, shape (n, 3)
        All events ``(x_m, y_m, t_days)``, history and scoring periods together.
    grid : Grid
        The prediction grid.
    origins : sequence of float
        Forecast origins, days.
    horizon_days : float
        Each forecast is scored on events in ``[t, t + horizon_days)`` (> 0).
    area_shares : sequence of float
        Area shares to score, each in (0, 1].
    history_days : float, optional
        Fit only on events in ``[t - history_days, t)`` (default: all before ``t``).
    """
    if not horizon_days > 0:
        raise ValueError(f"horizon_days must be > 0, got {horizon_days!r}")
    shares = tuple(float(a) for a in area_shares)
    for a in shares:
        if not 0.0 < a <= 1.0:
            raise ValueError(f"area_share must be in (0, 1], got {a!r}")
    ev = np.asarray(events, dtype=float)
    ev = ev[np.argsort(ev[:, 2], kind="stable")]
    times = ev[:, 2]
    o = np.asarray(origins, dtype=float)
    n_city = grid.n_cells
    selected = tuple(n_selected(n_city, a) for a in shares)
    n_events = np.zeros(o.size, np.int64)
    captured = np.zeros((o.size, len(shares)), np.int64)
    best = np.zeros((o.size, len(shares)), np.int64)
    for i, t in enumerate(o):
        lo = 0 if history_days is None else int(np.searchsorted(times, t - history_days))
        hi = int(np.searchsorted(times, t, side="left"))
        if hi <= lo:
            raise ValueError(f"no history before origin t={t}: cannot fit")
        model = clone(estimator).fit(ev[lo:hi])
        surface = model.predict(grid, float(t))
        end = int(np.searchsorted(times, t + horizon_days, side="left"))
        future = ev[hi:end]
        counts = grid.counts(future[:, 0], future[:, 1])
        counts[~grid.mask] = 0.0
        n_events[i] = int(counts.sum())
        flat_counts = counts.ravel()
        order_best = np.sort(flat_counts[grid.mask.ravel()])[::-1]
        for j, a in enumerate(shares):
            sel = top_cells(surface, a)
            captured[i, j] = int(flat_counts[sel].sum())
            best[i, j] = int(order_best[: selected[j]].sum())
    return BacktestResult(
        o, float(horizon_days), shares, selected, n_city, n_events, captured, best
    )
