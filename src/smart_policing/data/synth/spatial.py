"""Where things happen: a background density plus Gaussian hot spots.

Every point stream (gun violence, other crime, CAD call sites) is a two-part mixture
in the city's metric frame:

* background, with density proportional to
  ``floor + (1 - floor) exp(-r / downtown_scale)`` inside the city (``r`` = distance
  from the centre, ``floor`` = ``CityParams.background_floor``), drawn by rejection;
* hot spots: ``n_hotspots`` isotropic Gaussians whose centres are background draws,
  whose standard deviations are ``hotspot_sigma_m`` times a log-normal factor
  (sigma 0.3) and whose weights are log-normal (sigma 0.8). Gun violence uses the
  weights squared (renormalised), so it concentrates on fewer spots.

The share of a stream drawn from the hot spots is ``hotspot_share_gun``,
``hotspot_share_crime`` or ``hotspot_share_calls``. Points are then snapped to the
street grid and located (`Geography.place`); points that fall outside the city are
drawn again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from smart_policing.data.synth.geography import Geography, Places
from smart_policing.data.synth.params import CityParams

__all__ = ["Component", "SpatialModel", "build_spatial_model"]

F64 = npt.NDArray[np.float64]
Component = Literal["gun", "crime", "calls"]


@dataclass(frozen=True)
class SpatialModel:
    """Hot spots and mixture shares of one city."""

    geography: Geography
    centres: F64  # (n, 2) metres
    sigmas: F64  # (n,) metres
    weights: dict[str, F64]  # per component, sums to 1
    shares: dict[str, float]
    downtown_scale_m: float
    floor: float

    def background_xy(self, rng: np.random.Generator, n: int) -> tuple[F64, F64]:
        """``n`` background points (metres) inside the city."""
        minx, miny, maxx, maxy = self.geography.city_xy.bounds
        xs: list[F64] = []
        ys: list[F64] = []
        got = 0
        while got < n:
            m = 2 * (n - got) + 16
            x = rng.uniform(minx, maxx, m)
            y = rng.uniform(miny, maxy, m)
            density = self.floor + (1.0 - self.floor) * np.exp(
                -np.hypot(x, y) / self.downtown_scale_m
            )
            keep = (rng.random(m) < density) & self.geography.inside_city(x, y)
            xs.append(x[keep])
            ys.append(y[keep])
            got += int(keep.sum())
        return np.concatenate(xs)[:n], np.concatenate(ys)[:n]

    def sample_xy(self, rng: np.random.Generator, n: int, component: Component) -> tuple[F64, F64]:
        """``n`` points (metres) of a stream: hot-spot or background draws."""
        from_spot = rng.random(n) < self.shares[component]
        k = int(from_spot.sum())
        spot = rng.choice(len(self.sigmas), size=k, p=self.weights[component])
        x = np.empty(n)
        y = np.empty(n)
        x[from_spot] = self.centres[spot, 0] + rng.normal(0.0, 1.0, k) * self.sigmas[spot]
        y[from_spot] = self.centres[spot, 1] + rng.normal(0.0, 1.0, k) * self.sigmas[spot]
        bx, by = self.background_xy(rng, n - k)
        x[~from_spot] = bx
        y[~from_spot] = by
        return x, y

    def sample_places(
        self, rng: np.random.Generator, n: int, component: Component, decimals: int
    ) -> Places:
        """``n`` located places of a stream (redrawing points that fall outside)."""
        parts: list[Places] = []
        got = 0
        for _ in range(100):
            if got >= n:
                break
            want = n - got
            x, y = self.sample_xy(rng, int(want * 1.1) + 8, component)
            places, _ = self.geography.place(rng, x, y, decimals)
            take = min(want, len(places))
            parts.append(places.take(np.arange(take)))
            got += take
        if got < n:
            raise RuntimeError("could not place points inside the synthetic city")
        return Places.concat(parts)


def build_spatial_model(
    params: CityParams, geography: Geography, rng: np.random.Generator
) -> SpatialModel:
    """Hot spots for ``params`` (centres drawn from the background density)."""
    model = SpatialModel(
        geography=geography,
        centres=np.zeros((0, 2)),
        sigmas=np.zeros(0),
        weights={},
        shares={},
        downtown_scale_m=params.downtown_scale_km * 1000.0,
        floor=params.background_floor,
    )
    cx, cy = model.background_xy(rng, params.n_hotspots)
    sigmas = params.hotspot_sigma_m * rng.lognormal(0.0, 0.3, params.n_hotspots)
    w = rng.lognormal(0.0, 0.8, params.n_hotspots)
    return SpatialModel(
        geography=geography,
        centres=np.column_stack([cx, cy]),
        sigmas=sigmas,
        weights={"gun": w**1.5 / np.sum(w**1.5), "crime": w / w.sum(), "calls": w / w.sum()},
        shares={
            "gun": params.hotspot_share_gun,
            "crime": params.hotspot_share_crime,
            "calls": params.hotspot_share_calls,
        },
        downtown_scale_m=params.downtown_scale_km * 1000.0,
        floor=params.background_floor,
    )
