"""How a zone set falls across neighbourhoods: where the extra patrol time would go.

A focused-patrol plan concentrates police presence in a few places on purpose. Who lives
in those places is a question the plan's own figures (capture share, PAI) do not answer:
a set that covers 3% of the city may cover half of one neighbourhood and none of the
next. This module measures it, so the page can show it beside the dosage.

For a zone set and a partition of the city into named neighbourhoods (``import
boundaries FILE --kind neighbourhood``), per neighbourhood:

* ``zone_area_m2``: the area of the zone set inside it, in square metres. The zones are
  first merged (their union), so overlapping zones are not counted twice;
* ``share_of_neighbourhood``: that area / the neighbourhood's area;
* ``share_of_zone_area``: that area / the zone set's area (the union, in the CRS);
* with incidents: ``incidents`` inside the neighbourhood and ``share_of_incidents``, its
  incidents / all the incidents given (located ones; incidents outside every
  neighbourhood stay in the denominator).

and a concentration summary: the fewest neighbourhoods that together hold 50% and 80% of
the zone area that falls in neighbourhoods (largest first), and how many hold any. A
share of zone area well above the share of incidents says the zones put more presence
there than the harm recorded there would justify; the reverse, less.

Everything is measured in a projected CRS whose unit is the metre (``crs``, default
EPSG:26985, NAD83 / Maryland, the zone store's default). Projected polygons are snapped
to a 1 mm grid and every overlay runs on that grid (GEOS's snap-rounding overlay), so
partitions whose shared edges are almost but not exactly the same (polygons valid in
degrees can touch themselves after projection) never fail with a topology error; the
snapping changes an area by at most its perimeter x 1 mm. Input geometries and incident
points are WGS84 longitude/latitude (EPSG:4326, x = longitude), as the store keeps
them. Pure: shapely geometries and arrays in, plain data out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

__all__ = [
    "CONCENTRATION_SHARES",
    "DEFAULT_CRS",
    "GRID_M",
    "NeighbourhoodShare",
    "ZonesAcrossNeighbourhoods",
    "zones_across_neighbourhoods",
]

#: NAD83 / Maryland (metres): the zone store's default projected CRS.
DEFAULT_CRS = "EPSG:26985"

#: the precision grid of every overlay, metres
GRID_M = 0.001

#: the shares of zone area the concentration summary reports
CONCENTRATION_SHARES = (0.5, 0.8)

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class NeighbourhoodShare:
    """One neighbourhood: its area and the zone set's area in it (square metres), the
    shares that area is of the neighbourhood and of the zone set, and (when incidents
    were given) its incidents and their share of all incidents given."""

    name: str
    area_m2: float
    zone_area_m2: float
    share_of_neighbourhood: float
    share_of_zone_area: float
    incidents: int | None
    share_of_incidents: float | None


@dataclass(frozen=True, slots=True)
class ZonesAcrossNeighbourhoods:
    """A zone set across neighbourhoods.

    ``rows`` are sorted by zone area, largest first (then by name). ``zone_area_m2`` is
    the zone set's area (its union); ``outside_m2`` the part of it in no neighbourhood.
    ``concentration`` maps each share in :data:`CONCENTRATION_SHARES` to the fewest
    neighbourhoods that hold at least that share of the zone area inside neighbourhoods
    (``None`` when no zone area falls in any). ``incidents`` is the number of located
    incidents given, or ``None`` when none were passed.
    """

    crs: str
    zone_area_m2: float
    outside_m2: float
    neighbourhoods: int
    neighbourhoods_with_zones: int
    concentration: dict[float, int | None]
    incidents: int | None
    rows: tuple[NeighbourhoodShare, ...]


def _project(geom: BaseGeometry, tr: Transformer) -> BaseGeometry:
    def fn(coords: FloatArray) -> FloatArray:
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([np.asarray(x, np.float64), np.asarray(y, np.float64)])

    return shapely.set_precision(shapely.make_valid(shapely.transform(geom, fn)), GRID_M)


def _fewest(areas: Sequence[float], share: float) -> int | None:
    """The fewest of ``areas`` (sorted largest first) that sum to ``share`` of their total."""
    total = math.fsum(areas)
    if total <= 0.0:
        return None
    running = 0.0
    for k, a in enumerate(areas, start=1):
        running += a
        # a relative tolerance, so 0.5 of an exact total is reached despite rounding
        if running >= share * total * (1.0 - 1e-12):
            return k
    return len(areas)


def zones_across_neighbourhoods(
    zones: Sequence[BaseGeometry],
    neighbourhoods: Sequence[tuple[str, BaseGeometry]],
    *,
    incidents: tuple[Sequence[float] | FloatArray, Sequence[float] | FloatArray] | None = None,
    crs: str = DEFAULT_CRS,
) -> ZonesAcrossNeighbourhoods:
    """Measure how a zone set falls across neighbourhoods.

    Parameters
    ----------
    zones : sequence of shapely geometries
        The zone set's polygons, WGS84 longitude/latitude (EPSG:4326).
    neighbourhoods : sequence of (name, geometry)
        Neighbourhood polygons, WGS84 longitude/latitude.
    incidents : (longitude, latitude) arrays, optional
        Located incidents (degrees) whose share per neighbourhood is reported beside the
        zone area; victim-reported gun incidents on the page.
    crs : str
        The metric CRS areas are measured in (default EPSG:26985, metres).

    Returns
    -------
    ZonesAcrossNeighbourhoods
        Per-neighbourhood areas (square metres) and shares, largest zone area first,
        and the concentration summary (see the module docstring).
    """
    tr = Transformer.from_crs(CRS.from_epsg(4326), CRS.from_user_input(crs), always_xy=True)
    zone_union = shapely.union_all([_project(g, tr) for g in zones], grid_size=GRID_M)
    zone_area = float(zone_union.area)
    projected = [(name, _project(g, tr)) for name, g in neighbourhoods]

    counts: list[int] | None = None
    n_incidents: int | None = None
    if incidents is not None:
        lon = np.asarray(incidents[0], dtype=np.float64)
        lat = np.asarray(incidents[1], dtype=np.float64)
        ok = np.isfinite(lon) & np.isfinite(lat)
        x, y = tr.transform(lon[ok], lat[ok])
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        n_incidents = int(ok.sum())
        counts = []
        for _, g in projected:
            shapely.prepare(g)
            counts.append(int(np.count_nonzero(shapely.intersects_xy(g, x, y))))

    rows: list[NeighbourhoodShare] = []
    for i, (name, g) in enumerate(projected):
        inside = (
            float(shapely.intersection(zone_union, g, grid_size=GRID_M).area)
            if zone_area > 0
            else 0.0
        )
        area = float(g.area)
        count = counts[i] if counts is not None else None
        rows.append(
            NeighbourhoodShare(
                name=name,
                area_m2=area,
                zone_area_m2=inside,
                share_of_neighbourhood=inside / area if area > 0 else 0.0,
                share_of_zone_area=inside / zone_area if zone_area > 0 else 0.0,
                incidents=count,
                share_of_incidents=(
                    None
                    if count is None or n_incidents is None
                    else (count / n_incidents if n_incidents else 0.0)
                ),
            )
        )
    rows.sort(key=lambda r: (-r.zone_area_m2, r.name))

    covered = shapely.union_all([g for _, g in projected], grid_size=GRID_M)
    inside_any = float(shapely.intersection(zone_union, covered, grid_size=GRID_M).area)
    with_zones = [r.zone_area_m2 for r in rows if r.zone_area_m2 > 0.0]
    return ZonesAcrossNeighbourhoods(
        crs=crs,
        zone_area_m2=zone_area,
        outside_m2=max(0.0, zone_area - inside_any),
        neighbourhoods=len(rows),
        neighbourhoods_with_zones=len(with_zones),
        concentration={s: _fewest(with_zones, s) for s in CONCENTRATION_SHARES},
        incidents=n_incidents,
        rows=tuple(rows),
    )
