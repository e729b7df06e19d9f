"""Hot-spot forecasters in the scikit-learn style: naive counts, space-time KDE, prospective.

Every forecaster follows scikit-learn's estimator contract: ``__init__`` only stores
its keyword parameters; :meth:`fit` checks them against the limits declared as data in
``_limits`` and learns state whose names end in ``_``; ``fit(X)`` returns ``self``.
``X`` is an ``(n, 3)`` array of events ``(x_m, y_m, t_days)``: position in a projected
CRS in metres (EPSG:26985 for Baltimore) and time in days from any fixed origin.
``predict(grid, t)`` returns the risk surface at time ``t`` (days, same origin): an
array of shape ``(grid.ny, grid.nx)`` with ``NaN`` outside the city (see
:class:`~smart_policing.zones.grid.Grid`). Only events strictly before ``t`` count, so a
forecaster fitted on more history than the origin never sees the future. Surfaces are
for *ranking* cells; their units are given per class.

Forecasters
-----------
:class:`NaiveCounts`
    Events per cell over a lookback window (default 365 days): the "last year's hot
    spots" baseline every other forecaster must beat (Chainey, Tompson & Uhlig 2008,
    "The utility of hotspot mapping for predicting spatial patterns of crime",
    Security Journal 21).
:class:`SpaceTimeKernelDensity`
    A Gaussian spatial kernel (bandwidth in metres) times an exponential or linear
    time decay: retrospective KDE hot-spot mapping with recent events weighted up.
    Evaluated by binning weighted events to the grid and smoothing with
    ``scipy.ndimage.gaussian_filter`` (each event sits at its cell's centre: a
    half-cell binning error against exact KDE).
:class:`ProspectiveHotSpotting`
    Bowers, Johnson & Pease (2004), "Prospective hot-spotting: the future of crime
    mapping?", British Journal of Criminology 44(5): each event within the space and
    time bandwidths adds ``1 / (1 + d) * 1 / (1 + w)``, ``d`` the distance in cell
    widths between the event's cell and the scored cell (centre to centre) and ``w``
    the whole weeks elapsed. Defaults follow the paper: 400 m and two months (8
    weeks). Computed exactly as a convolution of per-cell time weights with the
    distance kernel (``scipy.ndimage.convolve``).

The self-exciting point process (Mohler et al. 2011) is in
:mod:`smart_policing.zones.forecast_sepp`; rolling-origin scoring in
:mod:`smart_policing.zones.backtest`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt
from scipy import ndimage
from sklearn.base import BaseEstimator

from smart_policing.zones.grid import Grid

__all__ = [
    "Limit",
    "NaiveCounts",
    "ProspectiveHotSpotting",
    "SpaceTimeKernelDensity",
    "check_events",
    "check_limits",
]

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Limit:
    """A parameter's declared limits: a closed/open interval, or a set of options.

    ``low``/``high`` bound a number (``None``: unbounded), ``low_open`` makes the lower
    bound strict; ``options`` (when given) lists the allowed strings instead;
    ``integer`` demands an ``int``.
    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    integer: bool = False
    options: tuple[str, ...] | None = None

    def check(self, name: str, value: object) -> None:
        """Raise ``ValueError`` naming ``name`` when ``value`` breaks the limit."""
        if self.options is not None:
            if value not in self.options:
                raise ValueError(f"{name} must be one of {self.options}, got {value!r}")
            return
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name} must be a number, got {value!r}")
        if self.integer and not isinstance(value, int):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        if not np.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}")
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            op = ">" if self.low_open else ">="
            raise ValueError(f"{name} must be {op} {self.low}, got {value!r}")
        if self.high is not None and value > self.high:
            raise ValueError(f"{name} must be <= {self.high}, got {value!r}")


def check_limits(estimator: BaseEstimator, limits: dict[str, Limit]) -> None:
    """Check each of ``estimator``'s parameters against its declared :class:`Limit`."""
    params = estimator.get_params(deep=False)
    for name, limit in limits.items():
        limit.check(name, params[name])


def check_events(X: Any) -> F64:
    """Validate events: a finite float array of shape ``(n, 3)``, ``n >= 1``, sorted by time.

    Returns a new array sorted by ``t_days`` (stable, so equal times keep their order).
    """
    arr = np.asarray(X, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f"X must have shape (n, 3) = (x_m, y_m, t_days), got {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError("X holds no events; a forecaster needs at least one")
    if not np.isfinite(arr).all():
        raise ValueError("X holds NaN or infinite values")
    order = np.argsort(arr[:, 2], kind="stable")
    return np.ascontiguousarray(arr[order])


def _check_predict(est: BaseEstimator, grid: object, t: float) -> None:
    if not hasattr(est, "events_"):
        raise ValueError(f"{type(est).__name__} is not fitted: call fit(X) first")
    if not isinstance(grid, Grid):
        raise TypeError(f"grid must be a smart_policing.zones.grid.Grid, got {type(grid)}")
    if not np.isfinite(t):
        raise ValueError(f"t must be a finite time in days, got {t!r}")


def _window(events: F64, t: float, lookback_days: float) -> F64:
    """Events with ``t - lookback_days <= t_i < t`` (events sorted by time)."""
    times = events[:, 2]
    lo = int(np.searchsorted(times, t - lookback_days, side="left"))
    hi = int(np.searchsorted(times, t, side="left"))
    return events[lo:hi]


class _StoredEvents(BaseEstimator):  # type: ignore[misc]
    """Forecasters whose fit is storing the validated events (the surface is computed at
    ``predict``): parameter limits checked, events sorted by time, ``events_`` and
    ``n_events_`` learned."""

    _limits: ClassVar[dict[str, Limit]] = {}

    def fit(self, X: Any, y: None = None) -> Self:
        """Store the events ``X`` (``(n, 3)``: metres, metres, days); returns ``self``."""
        check_limits(self, self._limits)
        self.events_ = check_events(X)
        self.n_events_ = int(self.events_.shape[0])
        return self


class NaiveCounts(_StoredEvents):
    """Events per grid cell over the last ``lookback_days`` days: the baseline forecaster.

    The surface at ``t`` counts events with ``t - lookback_days <= t_i < t`` in each
    cell (a "last year's hot spots" map; Chainey, Tompson & Uhlig 2008).

    Parameters
    ----------
    lookback_days : float, default 365.0
        Window length in days (> 0).

    Attributes
    ----------
    events_ : ndarray, shape (n, 3)
        The fitted events sorted by time.
    n_events_ : int
        Number of fitted events.
    """

    _limits: ClassVar[dict[str, Limit]] = {"lookback_days": Limit(low=0.0, low_open=True)}

    def __init__(self, *, lookback_days: float = 365.0) -> None:
        self.lookback_days = lookback_days

    def predict(self, grid: Grid, t: float) -> F64:
        """Event counts per cell in ``[t - lookback_days, t)``; ``NaN`` outside the city."""
        _check_predict(self, grid, t)
        ev = _window(self.events_, t, float(self.lookback_days))
        return grid.masked(grid.counts(ev[:, 0], ev[:, 1]))


class SpaceTimeKernelDensity(_StoredEvents):
    """Gaussian spatial kernel times a time decay: a recency-weighted KDE hot-spot map.

    The surface at ``t`` is ``sum_i k(t - t_i) * G(cell - s_i; bandwidth_m)`` over
    events with ``0 < t - t_i <= lookback_days``, ``G`` an isotropic Gaussian of
    standard deviation ``bandwidth_m`` integrated over the cell, and ``k`` either
    ``exp(-(t - t_i) / time_scale_days)`` (``time_decay="exponential"``) or
    ``max(0, 1 - (t - t_i) / time_scale_days)`` (``"linear"``). Units: expected
    weighted events per cell. Events are binned to the grid first and the binned
    weights smoothed with ``scipy.ndimage.gaussian_filter`` (truncated at 4 standard
    deviations, zero outside the box), which is exact KDE up to the half-cell binning.

    Parameters
    ----------
    bandwidth_m : float, default 150.0
        Spatial standard deviation, metres (> 0).
    time_decay : {"exponential", "linear"}, default "exponential"
        Shape of the time weighting.
    time_scale_days : float, default 60.0
        E-folding time (exponential) or zero-weight age (linear), days (> 0).
    lookback_days : float, default 365.0
        Older events are ignored, days (> 0).

    Attributes
    ----------
    events_ : ndarray, shape (n, 3)
        The fitted events sorted by time.
    n_events_ : int
        Number of fitted events.
    """

    _limits: ClassVar[dict[str, Limit]] = {
        "bandwidth_m": Limit(low=0.0, low_open=True),
        "time_decay": Limit(options=("exponential", "linear")),
        "time_scale_days": Limit(low=0.0, low_open=True),
        "lookback_days": Limit(low=0.0, low_open=True),
    }

    def __init__(
        self,
        *,
        bandwidth_m: float = 150.0,
        time_decay: str = "exponential",
        time_scale_days: float = 60.0,
        lookback_days: float = 365.0,
    ) -> None:
        self.bandwidth_m = bandwidth_m
        self.time_decay = time_decay
        self.time_scale_days = time_scale_days
        self.lookback_days = lookback_days

    def time_weights(self, age_days: F64) -> F64:
        """The decay ``k(age)`` for ages in days (``age > 0``)."""
        scale = float(self.time_scale_days)
        if self.time_decay == "exponential":
            return np.asarray(np.exp(-age_days / scale), float)
        return np.asarray(np.clip(1.0 - age_days / scale, 0.0, None), float)

    def predict(self, grid: Grid, t: float) -> F64:
        """Recency-weighted Gaussian KDE per cell at ``t``; ``NaN`` outside the city."""
        _check_predict(self, grid, t)
        ev = _window(self.events_, t, float(self.lookback_days))
        w = self.time_weights(t - ev[:, 2])
        binned = grid.counts(ev[:, 0], ev[:, 1], w)
        sigma_cells = float(self.bandwidth_m) / grid.cell_m
        smooth = ndimage.gaussian_filter(binned, sigma_cells, mode="constant", truncate=4.0)
        return grid.masked(np.asarray(smooth, float))


class ProspectiveHotSpotting(_StoredEvents):
    """Prospective hot-spotting (Bowers, Johnson & Pease 2004).

    The surface at ``t`` is ``sum_i 1 / (1 + d_i) * 1 / (1 + w_i)`` over events with
    ``w_i = floor((t - t_i) / 7) < time_bandwidth_weeks`` and ``d_i * cell_m <=
    bandwidth_m``, where ``d_i`` is the distance, in cell widths, between the centre of
    the event's cell and the centre of the scored cell (so an event adds 1/(1 + w) to
    its own cell). Only events with ``t_i < t`` count. Units: the paper's score
    (dimensionless).

    Parameters
    ----------
    bandwidth_m : float, default 400.0
        Spatial bandwidth, metres (>= 0; 400 m in the paper).
    time_bandwidth_weeks : int, default 8
        Events at least this many whole weeks old are ignored (>= 1; two months in
        the paper).

    Attributes
    ----------
    events_ : ndarray, shape (n, 3)
        The fitted events sorted by time.
    n_events_ : int
        Number of fitted events.
    """

    _limits: ClassVar[dict[str, Limit]] = {
        "bandwidth_m": Limit(low=0.0),
        "time_bandwidth_weeks": Limit(low=1, integer=True),
    }

    def __init__(self, *, bandwidth_m: float = 400.0, time_bandwidth_weeks: int = 8) -> None:
        self.bandwidth_m = bandwidth_m
        self.time_bandwidth_weeks = time_bandwidth_weeks

    def kernel(self, cell_m: float) -> F64:
        """The spatial weights ``1 / (1 + d)`` on cell offsets within the bandwidth."""
        r = int(np.floor(float(self.bandwidth_m) / cell_m + 1e-9))
        off = np.arange(-r, r + 1, dtype=float)
        d = np.hypot(off[None, :], off[:, None])
        return np.where(d * cell_m <= float(self.bandwidth_m) + 1e-9, 1.0 / (1.0 + d), 0.0)

    def predict(self, grid: Grid, t: float) -> F64:
        """The prospective score per cell at ``t``; ``NaN`` outside the city."""
        _check_predict(self, grid, t)
        weeks = int(self.time_bandwidth_weeks)
        ev = _window(self.events_, t, 7.0 * weeks)
        w = np.floor((t - ev[:, 2]) / 7.0)
        keep = w < weeks
        binned = grid.counts(ev[keep, 0], ev[keep, 1], 1.0 / (1.0 + w[keep]))
        score = ndimage.convolve(binned, self.kernel(grid.cell_m), mode="constant", cval=0.0)
        return grid.masked(np.asarray(score, float))
