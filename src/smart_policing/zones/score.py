"""Score a zone set on a period: area share, capture share, PAI, per district.

The measures (docs/zones.md) follow Chainey, Tompson and Uhlig (2008), "The utility of
hotspot mapping for predicting spatial patterns of crime", Security Journal 21:

* area share = area of the union of the zones inside the city / city area (square
  metres in a metric CRS; overlapping zones count once);
* capture share = incidents of the period inside the union / incidents in the city;
* PAI (predictive accuracy index) = capture share / area share.

Per district, a district's figures use the part of the zone union inside that
district and the district's own incidents and area, so a zone set is judged in every
district, as BPD's plan requires. An incident on a zone's boundary counts as inside
(``shapely.intersects_xy``). Per zone, ``incidents`` counts the incidents inside that
zone (overlapping zones may both count one), and :func:`capture_drops` flags zones
whose capture share fell between two periods; :func:`compare_zone_sets` puts two sets
(ours and BPD's, say) side by side on the same incidents.

Re-evaluation (issue 6): :func:`emerging_places` lists the grid cells outside a zone
set whose incidents rose most from one period to the next, with the rank each would
now take among all the city's cells: the places a rebuild should look at; and
:func:`zone_set_stability` measures how far two zone sets built from different windows
agree (Jaccard index of the unions' areas, share of zones of each set that overlap the
other), which :func:`compare_zone_sets` reports beside their capture on one period.

Pure functions: shapely geometries in the metric CRS and point arrays (metres) in,
frozen dataclasses out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from smart_policing.zones.geometry import FloatArray, NamedPolygon

__all__ = [
    "CaptureDrop",
    "DistrictScore",
    "EmergingPlace",
    "ZoneScore",
    "ZoneSetComparison",
    "ZoneSetScore",
    "ZoneSetStability",
    "capture_drops",
    "compare_zone_sets",
    "emerging_places",
    "score_zone_set",
    "zone_set_stability",
]


@dataclass(frozen=True)
class ZoneScore:
    """One zone: its area inside the city (m2), incidents inside it, and their share
    of the city's incidents of the period."""

    zone_id: str
    district: str | None
    area_m2: float
    incidents: int
    share: float


@dataclass(frozen=True)
class DistrictScore:
    """A district's area (m2), the zones' area inside it, its incidents and those the
    zones capture; ``pai`` is ``None`` when the zones cover none of it."""

    district: str
    area_m2: float
    zone_area_m2: float
    area_share: float
    incidents: int
    captured: int
    capture_share: float
    pai: float | None


@dataclass(frozen=True)
class ZoneSetScore:
    """A zone set scored on one set of incidents (see the module docstring)."""

    zones: int
    city_area_m2: float
    zone_area_m2: float
    area_share: float
    incidents: int
    captured: int
    capture_share: float
    pai: float | None
    districts: tuple[DistrictScore, ...]
    per_zone: tuple[ZoneScore, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return asdict(self)


def _share(a: float, b: float) -> float:
    return a / b if b > 0 else 0.0


def _pai(capture: float, area: float) -> float | None:
    return capture / area if area > 0 else None


def score_zone_set(
    zones: Sequence[NamedPolygon],
    city: BaseGeometry,
    x: FloatArray,
    y: FloatArray,
    *,
    districts: Sequence[NamedPolygon] = (),
    zone_district: Mapping[str, str] | None = None,
) -> ZoneSetScore:
    """Score ``zones`` on the incidents at ``x``, ``y`` (metres, the zones' CRS).

    ``city`` is the city polygon (e.g. the union of the districts); incidents outside
    it are ignored. ``districts`` adds per-district figures. Each zone's district is
    ``zone_district[zone.name]`` if given, else its ``district`` property, else the
    district holding most of its area.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    shapely.prepare(city)
    in_city = shapely.intersects_xy(city, x, y)
    cx, cy = x[in_city], y[in_city]
    total = int(cx.size)
    city_area = float(city.area)
    union = shapely.intersection(shapely.union_all([z.geometry for z in zones]), city)
    shapely.prepare(union)
    inside = shapely.intersects_xy(union, cx, cy) if total else np.zeros(0, dtype=bool)
    captured = int(inside.sum())
    area_share = _share(float(union.area), city_area)
    capture = _share(captured, total)

    dist_rows: list[DistrictScore] = []
    for d in districts:
        shapely.prepare(d.geometry)
        in_d = shapely.intersects_xy(d.geometry, cx, cy) if total else inside
        n = int(in_d.sum())
        got = int((in_d & inside).sum())
        d_area = float(d.geometry.area)
        z_area = float(shapely.intersection(union, d.geometry).area)
        a_share = _share(z_area, d_area)
        c_share = _share(got, n)
        dist_rows.append(
            DistrictScore(d.name, d_area, z_area, a_share, n, got, c_share, _pai(c_share, a_share))
        )

    per_zone: list[ZoneScore] = []
    for z in zones:
        g = shapely.intersection(z.geometry, city)
        shapely.prepare(g)
        n = int(shapely.intersects_xy(g, cx, cy).sum()) if total else 0
        district = (zone_district or {}).get(z.name) or z.properties.get("district")
        if district is None and districts:
            overlaps = [float(shapely.intersection(g, d.geometry).area) for d in districts]
            if max(overlaps) > 0:
                district = districts[int(np.argmax(overlaps))].name
        per_zone.append(
            ZoneScore(
                z.name,
                None if district is None else str(district),
                float(g.area),
                n,
                _share(n, total),
            )
        )
    return ZoneSetScore(
        zones=len(zones),
        city_area_m2=city_area,
        zone_area_m2=float(union.area),
        area_share=area_share,
        incidents=total,
        captured=captured,
        capture_share=capture,
        pai=_pai(capture, area_share),
        districts=tuple(dist_rows),
        per_zone=tuple(per_zone),
    )


@dataclass(frozen=True)
class ZoneSetStability:
    """How far two zone sets agree in space (areas in m2, inside the city).

    ``jaccard`` = area covered by both unions / area covered by either (1 = the same
    area, 0 = disjoint; 0 when both are empty); ``a_overlapping`` counts the zones of
    ``a`` that share some area (more than a boundary) with the union of ``b``,
    ``a_overlap_share`` is that count over ``a``'s zones; likewise for ``b``.
    """

    a_area_m2: float
    b_area_m2: float
    overlap_m2: float
    union_m2: float
    jaccard: float
    a_zones: int
    a_overlapping: int
    a_overlap_share: float
    b_zones: int
    b_overlapping: int
    b_overlap_share: float


def zone_set_stability(
    a: Sequence[NamedPolygon], b: Sequence[NamedPolygon], city: BaseGeometry
) -> ZoneSetStability:
    """Spatial agreement of zone sets ``a`` and ``b`` (e.g. built from two windows).

    Both are clipped to ``city`` (metres, one metric CRS). The Jaccard index of the
    unions' areas is the usual measure of how stable hot spots are between periods
    (e.g. Levine's "hot spot persistence"; Chainey, Tompson and Uhlig 2008); the
    shares of zones overlapping the other set tell whether a rebuild moved a few zones
    or all of them.
    """
    ga = [shapely.intersection(z.geometry, city) for z in a]
    gb = [shapely.intersection(z.geometry, city) for z in b]
    ua = shapely.union_all(ga)
    ub = shapely.union_all(gb)
    both = float(shapely.intersection(ua, ub).area)
    either = float(shapely.union(ua, ub).area)
    shapely.prepare(ua)
    shapely.prepare(ub)

    def overlapping(gs: list[BaseGeometry], other: BaseGeometry) -> int:
        return sum(1 for g in gs if float(shapely.intersection(g, other).area) > 0)

    na, nb = overlapping(ga, ub), overlapping(gb, ua)
    return ZoneSetStability(
        a_area_m2=float(ua.area),
        b_area_m2=float(ub.area),
        overlap_m2=both,
        union_m2=either,
        jaccard=_share(both, either),
        a_zones=len(ga),
        a_overlapping=na,
        a_overlap_share=_share(na, len(ga)),
        b_zones=len(gb),
        b_overlapping=nb,
        b_overlap_share=_share(nb, len(gb)),
    )


@dataclass(frozen=True)
class ZoneSetComparison:
    """Two zone sets scored on the same incidents; ratios are ``a`` over ``b``
    (``None`` when ``b``'s figure is zero); ``overlap_m2`` is the area both cover;
    ``stability`` their spatial agreement (:func:`zone_set_stability`)."""

    a: ZoneSetScore
    b: ZoneSetScore
    capture_ratio: float | None
    pai_ratio: float | None
    area_ratio: float | None
    overlap_m2: float
    stability: ZoneSetStability

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return asdict(self)


def compare_zone_sets(
    a: Sequence[NamedPolygon],
    b: Sequence[NamedPolygon],
    city: BaseGeometry,
    x: FloatArray,
    y: FloatArray,
    *,
    districts: Sequence[NamedPolygon] = (),
) -> ZoneSetComparison:
    """Score ``a`` and ``b`` by :func:`score_zone_set` on the same incidents, with
    their spatial agreement (:func:`zone_set_stability`): comparing a rebuild with the
    set it replaces, both scored on a common period."""
    sa = score_zone_set(a, city, x, y, districts=districts)
    sb = score_zone_set(b, city, x, y, districts=districts)
    stab = zone_set_stability(a, b, city)

    def ratio(p: float | None, q: float | None) -> float | None:
        return p / q if p is not None and q else None

    return ZoneSetComparison(
        a=sa,
        b=sb,
        capture_ratio=ratio(sa.captured, sb.captured),
        pai_ratio=ratio(sa.pai, sb.pai),
        area_ratio=ratio(sa.zone_area_m2, sb.zone_area_m2),
        overlap_m2=stab.overlap_m2,
        stability=stab,
    )


@dataclass(frozen=True)
class CaptureDrop:
    """A zone whose capture share fell from ``before`` to ``after`` (fractions of the
    city's incidents of each period); ``change`` = after / before - 1."""

    zone_id: str
    district: str | None
    before: float
    after: float
    change: float


def capture_drops(
    before: ZoneSetScore, after: ZoneSetScore, *, min_drop: float = 0.5
) -> list[CaptureDrop]:
    """Zones whose capture share fell by at least ``min_drop`` (0.5 = halved or worse)
    from period ``before`` to period ``after``, worst first. Both scores must be of the
    same zones (matched by ``zone_id``); zones that captured nothing before are skipped."""
    if not 0 < min_drop <= 1:
        raise ValueError(f"min_drop must be in (0, 1], got {min_drop}")
    later = {z.zone_id: z for z in after.per_zone}
    missing = [z.zone_id for z in before.per_zone if z.zone_id not in later]
    if missing:
        raise ValueError(f"zones scored before but not after: {', '.join(missing[:5])}")
    out: list[CaptureDrop] = []
    for z in before.per_zone:
        if z.share <= 0:
            continue
        new = later[z.zone_id].share
        change = new / z.share - 1.0
        if change <= -min_drop:
            out.append(CaptureDrop(z.zone_id, z.district, z.share, new, change))
    out.sort(key=lambda d: (d.change, d.zone_id))
    return out


@dataclass(frozen=True)
class EmergingPlace:
    """A grid cell outside the zones whose incidents rose between two periods.

    ``x``, ``y``: the cell's centre (metres, the zones' CRS); ``cell_m``: its side
    (metres); ``before``/``after``: incidents in the cell and outside the zones in each
    period; ``change`` = after - before; ``rank_after``: 1 + the number of the city's
    cells (all incidents, inside zones too) with more incidents in the later period,
    so ``rank_after`` <= 10 means the cell would now be among the ten busiest places.
    """

    x: float
    y: float
    cell_m: float
    district: str | None
    before: int
    after: int
    change: int
    rank_after: int


def emerging_places(
    zones: Sequence[NamedPolygon],
    city: BaseGeometry,
    before_x: FloatArray,
    before_y: FloatArray,
    after_x: FloatArray,
    after_y: FloatArray,
    *,
    cell_m: float = 150.0,
    limit: int = 10,
    districts: Sequence[NamedPolygon] = (),
) -> list[EmergingPlace]:
    """Places outside ``zones`` whose incident count rose most from ``before`` to
    ``after`` (points in metres, the zones' CRS).

    Incidents in the city are counted on square cells of ``cell_m`` metres (default 150
    m, two Baltimore blocks) anchored at the city's lower-left bounds; for each cell
    the incidents *outside* the zone union are counted in both periods. Cells whose
    count rose are listed, largest rise first (then most incidents after, then
    position), at most ``limit``. Counts are raw: give periods of equal length (a year
    and a year) for the rise to mean a change of rate. ``districts`` names the district
    holding each cell's centre. Method: the re-evaluation step of a hot-spot plan,
    comparing the current period's hot spots with the zones drawn earlier (Chainey,
    Tompson and Uhlig 2008 on hot-spot stability).
    """
    if not cell_m > 0:
        raise ValueError(f"cell_m must be positive, got {cell_m}")
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    shapely.prepare(city)
    union = shapely.union_all([z.geometry for z in zones])
    shapely.prepare(union)
    minx, miny, maxx, maxy = city.bounds
    nx = max(1, int(np.ceil((maxx - minx) / cell_m)))
    ny = max(1, int(np.ceil((maxy - miny) / cell_m)))

    def counts(px: FloatArray, py: FloatArray) -> tuple[FloatArray, FloatArray]:
        px = np.asarray(px, dtype=np.float64)
        py = np.asarray(py, dtype=np.float64)
        keep = shapely.intersects_xy(city, px, py)
        px, py = px[keep], py[keep]
        ix = np.clip(((px - minx) // cell_m).astype(np.int64), 0, nx - 1)
        iy = np.clip(((py - miny) // cell_m).astype(np.int64), 0, ny - 1)
        cell = iy * nx + ix
        out = ~shapely.intersects_xy(union, px, py) if px.size else np.zeros(0, dtype=bool)
        every = np.bincount(cell, minlength=nx * ny).astype(np.float64)
        return every, np.bincount(cell[out], minlength=nx * ny).astype(np.float64)

    _, was = counts(before_x, before_y)
    all_now, now = counts(after_x, after_y)
    rise = now - was
    cand = np.flatnonzero(rise > 0)
    order = sorted(cand.tolist(), key=lambda k: (-rise[k], -now[k], k))[:limit]
    ranked = np.sort(all_now)[::-1]
    places: list[EmergingPlace] = []
    for k in order:
        r, c = divmod(k, nx)
        cx, cy = minx + (c + 0.5) * cell_m, miny + (r + 0.5) * cell_m
        district = next(
            (d.name for d in districts if shapely.intersects_xy(d.geometry, cx, cy)), None
        )
        higher = int(np.searchsorted(-ranked, -all_now[k], side="left"))
        places.append(
            EmergingPlace(
                float(cx),
                float(cy),
                cell_m,
                district,
                int(was[k]),
                int(now[k]),
                int(rise[k]),
                higher + 1,
            )
        )
    return places
