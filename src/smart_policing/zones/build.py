"""Build focused patrol micro-zones from incidents: a smoothed grid grown into blocks.

BPD's 2019 plan drew "focused patrol areas" around the places where a third of gun
incidents occurred, in each district, at street-block scale (its 118 areas measure
about 0.01 to 0.4 km2). This builder makes such zones from N years of incidents in
four steps, all in a metric CRS (metres):

1. **Grid.** Incidents inside the city are counted on square cells of ``cell_m``
   metres (default 50 m, about half a Baltimore block), each weighted by recency when
   ``half_life_days`` is set: ``w = 0.5 ** (age_days / half_life_days)``, age counted
   from the last incident. Each cell belongs to the district holding its centre; a
   cell's area is the part of it inside that district (boundary cells are clipped).
2. **Smoothing.** The counts are smoothed with a Gaussian kernel of standard
   deviation ``bandwidth_m`` (0 turns it off): a kernel density estimate on the grid,
   the usual hot-spot surface (Chainey, Tompson and Uhlig 2008), which ranks places by
   their neighbourhood rather than by one cell's luck.
3. **Growth.** From the free cell with the highest smoothed value among those whose own
   density (weighted incidents per m2) is at least ``tau``, a zone grows by the
   4-neighbour of the same district with the highest smoothed value, as long as the
   zone's density (its weighted incidents / its area) stays at least ``tau``: it may
   cross an empty cell to reach a busy one. A cell is only added when the zone stays
   within ``max_area_m2``, its bounding box keeps an aspect ratio (long side / short
   side, in cells) of at most ``max_aspect`` and the zone fills at least ``min_fill``
   of that box (compact, not a snake along a corridor). A zone smaller than
   ``min_area_m2`` takes its best neighbours whatever their density until it is big
   enough, or is dropped. Zones are 4-connected sets of cells inside one district, so
   each is one contiguous polygon (unless the district's own boundary cuts it)
   assigned to that district.
4. **Selection.** Zones are ranked by smoothed incidents minus a price per square
   metre (a Lagrangian relaxation of the area limit; the price is scanned, see
   :func:`_select`) and taken in that order while they fit: in *area* mode until the
   area budget (``area_share`` of the city) is spent, in *target* mode until they
   hold ``target_share`` of the (weighted) incidents; at most ``max_zones`` in all
   and ``max_zones_per_district`` per district. ``tau`` is chosen from a scan of
   candidate densities (multiples of the density at which the densest cells alone
   would fill the budget or reach the target, and steps from there up to the densest
   cell's): in area mode the one whose zones hold the most smoothed incidents, in
   target mode the one that meets the target with the least area.
5. **Expansion** (area mode). If budget is left (the zone limit stopped the
   selection, or no further zone fitted), the chosen zones grow into their best free
   neighbours (same size and compactness limits) until it is spent.

**Tiers.** BPD's 2019 plan has two tiers: 118 focused patrol areas (street blocks,
about 0.01-0.4 km2) and 11 larger District Action Team (DAT) zones (3.13 km2 in all,
0.05-0.7 km2 each, one to three per district). :data:`TIERS` holds the size bounds
and zone limits of each as presets (``micro``: the defaults; ``dat``: zones of
0.1-1.0 km2, at most 11 zones and 2 per district); :func:`tier_params` makes the
:class:`BuildParams` of a tier, any field overridden.

The reported ``incidents`` of a zone are the (unweighted) incidents inside its final
polygon, counted exactly as :mod:`smart_policing.zones.score` does. Pure: arrays and
shapely geometries in, :class:`ZoneBuild` out.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import shapely
from scipy.ndimage import gaussian_filter
from shapely.geometry.base import BaseGeometry

from smart_policing.zones.geometry import FloatArray, NamedPolygon

__all__ = ["TIERS", "BuildParams", "BuiltZone", "ZoneBuild", "build_zones", "tier_params"]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class BuildParams:
    """Parameters of :func:`build_zones` (metres, square metres, days).

    Exactly one of ``target_share`` (fraction of incidents to cover, e.g. 0.33) and
    ``area_share`` (fraction of the city's area to spend, e.g. 0.0345) is set.
    """

    target_share: float | None = None
    area_share: float | None = None
    max_zones: int | None = 120
    max_zones_per_district: int | None = None
    cell_m: float = 50.0
    bandwidth_m: float = 75.0
    half_life_days: float | None = None
    min_area_m2: float = 10_000.0
    max_area_m2: float = 400_000.0
    max_aspect: float = 4.0
    min_fill: float = 0.4

    def __post_init__(self) -> None:
        if (self.target_share is None) == (self.area_share is None):
            raise ValueError("set exactly one of target_share and area_share")
        for name in ("target_share", "area_share"):
            v = getattr(self, name)
            if v is not None and not 0 < v <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {v}")
        for name in ("max_zones", "max_zones_per_district"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ValueError(f"{name} must be at least 1, got {v}")
        if not self.cell_m > 0:
            raise ValueError(f"cell_m must be positive, got {self.cell_m}")
        if self.bandwidth_m < 0:
            raise ValueError(f"bandwidth_m must be 0 or more, got {self.bandwidth_m}")
        if self.half_life_days is not None and not self.half_life_days > 0:
            raise ValueError(f"half_life_days must be positive, got {self.half_life_days}")
        if not 0 <= self.min_area_m2 < self.max_area_m2:
            raise ValueError("need 0 <= min_area_m2 < max_area_m2")
        if self.max_area_m2 < self.cell_m**2:
            raise ValueError("max_area_m2 is smaller than one cell (cell_m ** 2)")
        if self.max_aspect < 1:
            raise ValueError(f"max_aspect must be at least 1, got {self.max_aspect}")
        if not 0 <= self.min_fill <= 1:
            raise ValueError(f"min_fill must be in [0, 1], got {self.min_fill}")

    @property
    def mode(self) -> Literal["target", "area"]:
        """``target`` (reach a share of incidents) or ``area`` (spend an area budget)."""
        return "target" if self.target_share is not None else "area"


TIERS: dict[str, dict[str, Any]] = {
    "micro": {},
    "dat": {
        "min_area_m2": 100_000.0,
        "max_area_m2": 1_000_000.0,
        "max_zones": 11,
        "max_zones_per_district": 2,
    },
}
"""Presets of :class:`BuildParams` fields per tier (square metres, counts); ``micro`` is
the defaults (BPD's focused patrol areas), ``dat`` BPD's District Action Team zones."""


def tier_params(tier: str, **overrides: Any) -> BuildParams:
    """The :class:`BuildParams` of ``tier`` (a key of :data:`TIERS`), with ``overrides``
    (any field, e.g. ``area_share=0.0149``) taking precedence over the preset.

    Raises ``ValueError`` for an unknown tier or invalid parameters.
    """
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}; known: {', '.join(TIERS)}")
    return BuildParams(**(TIERS[tier] | overrides))


@dataclass(frozen=True)
class BuiltZone:
    """One zone: polygon (metric CRS), district, area (m2), training incidents inside
    it and their share of the city's, rank (1 = densest)."""

    zone_id: str
    district: str
    geometry: BaseGeometry
    area_m2: float
    incidents: int
    share: float
    rank: int
    cells: int

    def properties(self) -> dict[str, Any]:
        """GeoJSON properties."""
        return {
            "zone_id": self.zone_id,
            "district": self.district,
            "area_m2": round(self.area_m2, 1),
            "incidents": self.incidents,
            "share": round(self.share, 6),
            "rank": self.rank,
        }

    def named(self) -> NamedPolygon:
        """As a :class:`NamedPolygon` (for scoring)."""
        return NamedPolygon(self.zone_id, self.geometry, self.properties())


@dataclass(frozen=True)
class ZoneBuild:
    """The zones chosen and what they cover of the training incidents."""

    zones: tuple[BuiltZone, ...]
    mode: str
    city_area_m2: float
    area_m2: float
    area_share: float
    incidents: int
    captured: int
    capture_share: float
    target_met: bool
    threshold: float
    params: BuildParams = field(repr=False)

    def summary(self) -> dict[str, Any]:
        """Plain JSON-ready figures (without geometries)."""
        return {
            "mode": self.mode,
            "zones": len(self.zones),
            "city_area_m2": self.city_area_m2,
            "area_m2": self.area_m2,
            "area_share": self.area_share,
            "incidents": self.incidents,
            "captured": self.captured,
            "capture_share": self.capture_share,
            "target_met": self.target_met,
            "params": self.params.__dict__,
        }


@dataclass
class _Grid:
    x0: float
    y0: float
    nx: int
    ny: int
    cell: float
    label: IntArray  # district index per cell (ny * nx), -1 outside
    area: FloatArray  # clipped area per cell, m2
    raw: FloatArray  # weighted counts per cell
    smooth: FloatArray  # smoothed counts per cell


def _grid(
    x: FloatArray,
    y: FloatArray,
    w: FloatArray,
    city: BaseGeometry,
    districts: Sequence[NamedPolygon],
    p: BuildParams,
) -> _Grid:
    minx, miny, maxx, maxy = city.bounds
    c = p.cell_m
    nx = max(1, math.ceil((maxx - minx) / c))
    ny = max(1, math.ceil((maxy - miny) / c))
    ix = np.clip(((x - minx) // c).astype(np.int64), 0, nx - 1)
    iy = np.clip(((y - miny) // c).astype(np.int64), 0, ny - 1)
    cell_of = iy * nx + ix
    point_d = np.full(x.size, -1, dtype=np.int64)  # district holding each incident
    cols, rows = np.meshgrid(np.arange(nx), np.arange(ny))
    cx = minx + (cols.ravel() + 0.5) * c
    cy = miny + (rows.ravel() + 0.5) * c
    label = np.full(nx * ny, -1, dtype=np.int64)
    area = np.zeros(nx * ny, dtype=np.float64)
    for k, d in enumerate(districts):
        g = d.geometry
        shapely.prepare(g)
        point_d[(point_d < 0) & shapely.intersects_xy(g, x, y)] = k
        hit = np.flatnonzero(shapely.contains_xy(g, cx, cy) & (label < 0))
        label[hit] = k
        boxes = shapely.box(cx[hit] - c / 2, cy[hit] - c / 2, cx[hit] + c / 2, cy[hit] + c / 2)
        inner = shapely.contains_properly(g, boxes)
        area[hit[inner]] = c * c
        edge = hit[~inner]
        area[edge] = shapely.area(shapely.intersection(boxes[~inner], g))
    # a zone's polygon is its cells clipped to its district: an incident counts for a
    # cell only if it lies in the cell's district, so cell counts add up to what the
    # polygons hold
    same = (point_d >= 0) & (point_d == label[cell_of])
    raw = np.bincount(cell_of[same], weights=w[same], minlength=nx * ny).astype(np.float64)
    if p.bandwidth_m > 0:
        smooth = gaussian_filter(
            raw.reshape(ny, nx), sigma=p.bandwidth_m / c, mode="constant", truncate=3.0
        ).ravel()
    else:
        smooth = raw.copy()
    smooth[label < 0] = 0.0
    return _Grid(minx, miny, nx, ny, c, label, area, raw, smooth)


@dataclass
class _Zone:
    cells: list[int]
    label: int
    area: float
    mass: float  # smoothed
    raw: float  # weighted counts


def _grow(g: _Grid, tau: float, p: BuildParams) -> list[_Zone]:
    """Zones grown from the free cells whose density is at least ``tau`` (per m2)."""
    nx, ny = g.nx, g.ny
    s, lab, area, raw = g.smooth, g.label, g.area, g.raw
    dens = np.divide(raw, area, out=np.zeros_like(raw), where=area > 0)
    seeds = np.flatnonzero((dens >= tau) & (lab >= 0) & (raw > 0))
    seeds = seeds[np.argsort(-s[seeds], kind="stable")]
    taken = np.zeros(nx * ny, dtype=bool)
    zones: list[_Zone] = []
    for seed in seeds.tolist():
        if taken[seed]:
            continue
        d = int(lab[seed])
        r, c = divmod(seed, nx)
        r0 = r1 = r
        c0 = c1 = c
        cells = [seed]
        taken[seed] = True
        z_area = float(area[seed])
        z_raw = float(raw[seed])
        heap: list[tuple[float, int]] = []
        seen = {seed}

        def push(
            cell: int, heap: list[tuple[float, int]] = heap, seen: set[int] = seen, d: int = d
        ) -> None:
            rr, cc = divmod(cell, nx)
            for nb in (cell - nx if rr > 0 else -1, cell + nx if rr < ny - 1 else -1):
                if nb >= 0 and nb not in seen and not taken[nb] and lab[nb] == d:
                    seen.add(nb)
                    heapq.heappush(heap, (-float(s[nb]), nb))
            for nb in (cell - 1 if cc > 0 else -1, cell + 1 if cc < nx - 1 else -1):
                if nb >= 0 and nb not in seen and not taken[nb] and lab[nb] == d:
                    seen.add(nb)
                    heapq.heappush(heap, (-float(s[nb]), nb))

        push(seed)
        while heap:
            _, nb = heapq.heappop(heap)
            if taken[nb]:
                continue
            a = z_area + float(area[nb])
            if (z_raw + float(raw[nb])) < tau * a and z_area >= p.min_area_m2:
                continue
            if a > p.max_area_m2:
                continue
            rr, cc = divmod(nb, nx)
            h = max(r1, rr) - min(r0, rr) + 1
            wd = max(c1, cc) - min(c0, cc) + 1
            if max(h, wd) / min(h, wd) > p.max_aspect or (len(cells) + 1) / (h * wd) < p.min_fill:
                continue
            r0, r1, c0, c1 = min(r0, rr), max(r1, rr), min(c0, cc), max(c1, cc)
            cells.append(nb)
            taken[nb] = True
            z_area = a
            z_raw += float(raw[nb])
            push(nb)
        if z_area < p.min_area_m2:
            continue  # its cells stay taken: a seed inside them would only repeat this
        idx = np.asarray(cells, dtype=np.int64)
        zones.append(_Zone(cells, d, z_area, float(s[idx].sum()), float(g.raw[idx].sum())))
    return zones


def _take(
    zones: list[_Zone], p: BuildParams, budget_m2: float, target: float, lam: float
) -> tuple[list[_Zone], float, float]:
    """Zones by ``value - lam * area`` (best first) while they fit; (zones, area, incidents)."""
    order = sorted(zones, key=lambda z: -(z.mass - lam * z.area))
    per_d: dict[int, int] = {}
    chosen: list[_Zone] = []
    used = 0.0
    got = 0.0
    for z in order:
        if p.max_zones is not None and len(chosen) >= p.max_zones:
            break
        if p.mode == "target" and got >= target:
            break
        if z.mass - lam * z.area <= 0 and lam > 0:
            break
        if p.max_zones_per_district is not None and per_d.get(z.label, 0) >= (
            p.max_zones_per_district
        ):
            continue
        if p.mode == "area" and used + z.area > budget_m2:
            continue
        chosen.append(z)
        per_d[z.label] = per_d.get(z.label, 0) + 1
        used += z.area
        got += z.raw
    return chosen, used, got


def _select(
    zones: list[_Zone], p: BuildParams, budget_m2: float, target: float, density: float
) -> tuple[list[_Zone], float, float]:
    """The best of :func:`_take` over prices ``lam`` of area (multiples of ``density``).

    Taking zones by density alone fills the zone limit with the smallest zones; taking
    them by incidents alone spends the budget on a few large ones. Ranking by incidents
    minus a price per square metre (a Lagrangian relaxation of the area constraint)
    moves between the two; the price that does best is kept: in area mode the most
    smoothed incidents, in target mode the least area that reaches the target.
    """
    best: tuple[tuple[float, float], tuple[list[_Zone], float, float]] | None = None
    for f in (0.0, 0.1, 0.2, 0.35, 0.5, 0.7, 0.85, 1.0, 1.2, 1.5, 2.0, 3.0):
        took = _take(zones, p, budget_m2, target, density * f)
        chosen, used, got = took
        if p.mode == "area":
            key = (sum(z.mass for z in chosen), 0.0)
        else:
            key = (1.0 if got >= target else got / max(target, 1e-12), -used)
        if best is None or key > best[0]:
            best = (key, took)
    assert best is not None
    return best[1]


def build_zones(
    x: FloatArray,
    y: FloatArray,
    city: BaseGeometry,
    districts: Sequence[NamedPolygon],
    params: BuildParams,
    *,
    days: FloatArray | None = None,
) -> ZoneBuild:
    """Micro-zones from incidents at ``x``, ``y`` (metres, the districts' CRS).

    ``city`` is the city polygon, ``districts`` its districts (each zone lies in one);
    ``days`` (day numbers, any origin) are needed for recency weights when
    ``params.half_life_days`` is set. See the module docstring for the method.
    """
    if not districts:
        raise ValueError("at least one district polygon is needed")
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    shapely.prepare(city)
    inside = shapely.intersects_xy(city, x, y)
    x, y = x[inside], y[inside]
    if params.half_life_days is not None:
        if days is None:
            raise ValueError("half_life_days needs the incidents' days")
        dd = np.asarray(days, dtype=np.float64)[inside]
        age = (dd.max() if dd.size else 0.0) - dd
        w = np.power(0.5, age / params.half_life_days)
    else:
        w = np.ones(x.size)
    g = _grid(x, y, w, city, districts, params)
    city_area = float(city.area)
    budget = (params.area_share or 0.0) * city_area
    total_w = float(w.sum())
    target = (params.target_share or 0.0) * total_w

    # the density at which the densest cells alone would fill the budget / reach the target
    order = np.argsort(-g.smooth, kind="stable")
    order = order[g.smooth[order] > 0]
    if params.mode == "area":
        k = int(np.searchsorted(np.cumsum(g.area[order]), budget))
    else:
        k = int(np.searchsorted(np.cumsum(g.raw[order]), target))
    base = float(g.smooth[order[min(k, order.size - 1)]]) / params.cell_m**2 if order.size else 0.0
    best: tuple[tuple[float, float], list[_Zone], float, float, float] | None = None
    dens = np.divide(g.raw, g.area, out=np.zeros_like(g.raw), where=g.area > 0)
    top = float(dens.max()) if dens.size else 0.0
    taus = sorted(
        {base * f for f in (3.0, 2.5, 2.0, 1.7, 1.4, 1.2, 1.0, 0.85, 0.7, 0.55, 0.4, 0.3, 0.2)}
        | ({float(v) for v in np.geomspace(base * 3, top, 8)} if top > base * 3 > 0 else set()),
        reverse=True,
    )
    for tau in taus:
        chosen, used, got = _select(_grow(g, tau, params), params, budget, target, base)
        if params.mode == "area":
            key = (sum(z.mass for z in chosen), 0.0)
        else:
            key = (1.0 if got >= target else got / max(target, 1e-12), -used)
        if best is None or key > best[0]:
            best = (key, chosen, used, got, tau)
    assert best is not None
    _, chosen, _, got, tau = best
    if params.mode == "area":
        _expand(g, chosen, params, budget)
    chosen = sorted(chosen, key=lambda z: -z.mass / z.area)  # rank 1 = densest

    built = _polygons(chosen, g, x, y, districts, params)
    union = shapely.union_all([z.geometry for z in built])
    shapely.prepare(union)
    captured = int(shapely.intersects_xy(union, x, y).sum()) if x.size else 0
    area_m2 = float(union.area)
    return ZoneBuild(
        zones=tuple(built),
        mode=params.mode,
        city_area_m2=city_area,
        area_m2=area_m2,
        area_share=area_m2 / city_area if city_area > 0 else 0.0,
        incidents=int(x.size),
        captured=captured,
        capture_share=captured / x.size if x.size else 0.0,
        target_met=params.mode == "area" or got >= target,
        threshold=tau,
        params=params,
    )


def _expand(g: _Grid, chosen: list[_Zone], p: BuildParams, budget_m2: float) -> None:
    """Spend what is left of the area budget growing the chosen zones (area mode).

    When the zone limit stops the selection before the budget is spent, the chosen
    zones take their best free neighbours (highest smoothed value first, across all
    zones), within the same size and compactness limits, until the budget is spent.
    """
    nx = g.nx
    used = sum(z.area for z in chosen)
    taken = np.zeros(g.nx * g.ny, dtype=bool)
    boxes: list[list[int]] = []
    for z in chosen:
        taken[z.cells] = True
        rows, cols = np.divmod(np.asarray(z.cells, dtype=np.int64), nx)
        boxes.append([int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max())])
    heap: list[tuple[float, int, int]] = []

    def push(i: int, cell: int) -> None:
        r, c = divmod(cell, nx)
        for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if 0 <= rr < g.ny and 0 <= cc < nx:
                nb = rr * nx + cc
                if not taken[nb] and g.label[nb] == chosen[i].label:
                    heapq.heappush(heap, (-float(g.smooth[nb]), nb, i))

    for i, z in enumerate(chosen):
        for cell in z.cells:
            push(i, cell)
    while heap and used < budget_m2:
        neg, nb, i = heapq.heappop(heap)
        if taken[nb] or -neg <= 0:
            continue
        z, bb = chosen[i], boxes[i]
        a = float(g.area[nb])
        if used + a > budget_m2 or z.area + a > p.max_area_m2:
            continue
        r, c = divmod(nb, nx)
        r0, r1, c0, c1 = min(bb[0], r), max(bb[1], r), min(bb[2], c), max(bb[3], c)
        h, w = r1 - r0 + 1, c1 - c0 + 1
        if max(h, w) / min(h, w) > p.max_aspect or (len(z.cells) + 1) / (h * w) < p.min_fill:
            continue
        boxes[i] = [r0, r1, c0, c1]
        taken[nb] = True
        z.cells.append(nb)
        z.area += a
        z.mass += float(g.smooth[nb])
        z.raw += float(g.raw[nb])
        used += a
        push(i, nb)


def _polygons(
    chosen: list[_Zone],
    g: _Grid,
    x: FloatArray,
    y: FloatArray,
    districts: Sequence[NamedPolygon],
    p: BuildParams,
) -> list[BuiltZone]:
    out: list[BuiltZone] = []
    c = g.cell
    n = x.size
    for rank, z in enumerate(chosen, start=1):
        idx = np.asarray(z.cells, dtype=np.int64)
        rows, cols = np.divmod(idx, g.nx)
        boxes = shapely.box(
            g.x0 + cols * c, g.y0 + rows * c, g.x0 + (cols + 1) * c, g.y0 + (rows + 1) * c
        )
        geom = shapely.intersection(shapely.union_all(boxes), districts[z.label].geometry)
        geom = shapely.normalize(geom)
        shapely.prepare(geom)
        k = int(shapely.intersects_xy(geom, x, y).sum()) if n else 0
        d = districts[z.label].name
        out.append(
            BuiltZone(
                zone_id=f"Z{rank:03d}",
                district=d,
                geometry=geom,
                area_m2=float(geom.area),
                incidents=k,
                share=k / n if n else 0.0,
                rank=rank,
                cells=len(z.cells),
            )
        )
    return out
