"""The city's shape and its partitions: districts, beats (posts) and neighbourhoods.

Method
------
Everything is built in a local metric frame (transverse Mercator centred on
``CityParams.center_lat/center_lon``; x east, y north, metres) and then projected to
WGS84 longitude/latitude on a grid of 1e-7 degrees (about 1 cm).

* City: a smooth blob ``r(theta) = R (1 + sum_k a_k cos(k theta + phi_k))`` for
  k = 2..5 with random amplitudes 0.03-0.09, scaled to ``city_area_km2``.
* Districts: the Voronoi partition of nine seeds clipped to the city. Central (1)
  sits at the centre; the other eight surround it at their compass bearings, in the
  Baltimore numbering: Southeastern 2, Eastern 3, Northeastern 4, Northern 5,
  Northwestern 6, Western 7, Southwestern 8, Southern 9.
* Beats: within each district, k-means (Lloyd) centres of 3,000 uniform points give
  ``beats_per_district`` compact Voronoi cells clipped to the district. Beats are
  ordered by bearing around the district centre and numbered ``district, sector,
  post`` (three posts per sector): 211, 212, 213, 221 ...
* Neighbourhoods: the same construction over the whole city with generated names.
* Exact partitions: the projected beats are noded together on the 1e-7 degree grid
  and polygonized (`_noded_faces`); a beat is the union of its faces and a district
  the union of its beats' faces, so beats partition their district and districts
  partition the city with no gaps or overlaps (likewise for neighbourhoods).

Point location is done on the *written* (rounded) WGS84 polygons, after the point
itself is rounded to the decimals it is written with, so a row's stated district and
beat always contain its written coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from smart_policing.data.synth.params import CityParams
from smart_policing.data.synth.streets import StreetGrid, build_street_grid
from smart_policing.data.synth.tables import Names, load_names

__all__ = ["DISTRICT_NAMES", "Geography", "Places", "build_geography"]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Area: TypeAlias = "Polygon | MultiPolygon"

# Number n is DISTRICT_NAMES[n - 1]; bearing in degrees counter-clockwise from east.
DISTRICT_NAMES = (
    "Central",
    "Southeastern",
    "Eastern",
    "Northeastern",
    "Northern",
    "Northwestern",
    "Western",
    "Southwestern",
    "Southern",
)
_BEARINGS = (None, -45.0, 0.0, 45.0, 90.0, 135.0, 180.0, 225.0, 270.0)


@dataclass(frozen=True)
class Places:
    """Located points: metric and written coordinates, block address and areas."""

    x: F64
    y: F64
    lon: F64
    lat: F64
    address: list[str]
    district: I64  # 0..8 (district number - 1)
    beat: I64  # index into Geography.beat_posts
    neighborhood: I64  # index into Geography.neighborhood_names

    def __len__(self) -> int:
        return int(self.x.size)

    def take(self, idx: I64) -> Places:
        """The places at ``idx``, in that order."""
        return Places(
            x=self.x[idx],
            y=self.y[idx],
            lon=self.lon[idx],
            lat=self.lat[idx],
            address=[self.address[i] for i in idx.tolist()],
            district=self.district[idx],
            beat=self.beat[idx],
            neighborhood=self.neighborhood[idx],
        )

    @staticmethod
    def concat(parts: list[Places]) -> Places:
        """Places of all parts, in order."""
        return Places(
            x=np.concatenate([p.x for p in parts]),
            y=np.concatenate([p.y for p in parts]),
            lon=np.concatenate([p.lon for p in parts]),
            lat=np.concatenate([p.lat for p in parts]),
            address=[a for p in parts for a in p.address],
            district=np.concatenate([p.district for p in parts]),
            beat=np.concatenate([p.beat for p in parts]),
            neighborhood=np.concatenate([p.neighborhood for p in parts]),
        )


@dataclass(frozen=True)
class Geography:
    """The city, its streets and its three partitions (metric and WGS84)."""

    city_xy: Polygon
    streets: StreetGrid
    districts_ll: tuple[Area, ...]  # index = district number - 1
    beats_ll: tuple[Area, ...]
    beat_posts: I64  # 211, 212 ...
    beat_district: I64  # 0..8
    neighborhoods_ll: tuple[Area, ...]
    neighborhood_names: tuple[str, ...]
    _to_ll: Transformer
    _beat_bounds: F64
    _nbhd_bounds: F64

    def lonlat(self, x: F64, y: F64) -> tuple[F64, F64]:
        """Project local metres to WGS84 longitude, latitude (degrees)."""
        lon, lat = self._to_ll.transform(x, y)
        return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)

    def inside_city(self, x: F64, y: F64) -> npt.NDArray[np.bool_]:
        """Whether metric points lie in the city polygon."""
        return np.asarray(shapely.contains_xy(self.city_xy, x, y), dtype=bool)

    def place(
        self, rng: np.random.Generator, x: F64, y: F64, decimals: int
    ) -> tuple[Places, npt.NDArray[np.bool_]]:
        """Snap points to streets, address, round and locate them.

        Returns the places of the points that landed strictly inside one beat, its
        district and one neighbourhood (after rounding to ``decimals``), and the mask
        of those points among the input.
        """
        sx, sy, street, block, side = self.streets.snap(rng, x, y)
        lon, lat = self.lonlat(sx, sy)
        lon = np.round(lon, decimals)
        lat = np.round(lat, decimals)
        beat = _locate(self.beats_ll, self._beat_bounds, lon, lat)
        nbhd = _locate(self.neighborhoods_ll, self._nbhd_bounds, lon, lat)
        ok = (beat >= 0) & (nbhd >= 0)
        district = np.where(ok, self.beat_district[np.maximum(beat, 0)], -1)
        for d, area in enumerate(self.districts_ll):
            sel = np.flatnonzero(district == d)
            if sel.size:
                ok[sel] &= shapely.contains_xy(area, lon[sel], lat[sel])
        keep = np.flatnonzero(ok)
        places = Places(
            x=sx[keep],
            y=sy[keep],
            lon=lon[keep],
            lat=lat[keep],
            address=self.streets.addresses(street[keep], block[keep], side[keep]),
            district=district[keep].astype(np.int64),
            beat=beat[keep],
            neighborhood=nbhd[keep],
        )
        return places, ok


def _locate(areas: tuple[Area, ...], bounds: F64, lon: F64, lat: F64) -> I64:
    """Index of the one (prepared) area strictly containing each point, else -1."""
    out = np.full(lon.size, -1, dtype=np.int64)
    hits = np.zeros(lon.size, dtype=np.int64)
    for k, area in enumerate(areas):
        minx, miny, maxx, maxy = bounds[k]
        cand = np.flatnonzero((lon > minx) & (lon < maxx) & (lat > miny) & (lat < maxy))
        if cand.size == 0:
            continue
        inside = cand[shapely.contains_xy(area, lon[cand], lat[cand])]
        out[inside] = k
        hits[inside] += 1
    out[hits != 1] = -1
    return out


def _city_polygon(rng: np.random.Generator, area_m2: float) -> Polygon:
    theta = np.linspace(0.0, 2.0 * np.pi, 360, endpoint=False)
    r = np.ones_like(theta)
    for k in range(2, 6):
        r += rng.uniform(0.03, 0.09) * np.cos(k * theta + rng.uniform(0.0, 2.0 * np.pi))
    poly = Polygon(np.column_stack([r * np.cos(theta), r * np.sin(theta)]))
    scale = float(np.sqrt(area_m2 / poly.area))
    return Polygon(np.asarray(poly.exterior.coords) * scale)


def _uniform_in(rng: np.random.Generator, area: BaseGeometry, n: int) -> F64:
    minx, miny, maxx, maxy = area.bounds
    shapely.prepare(area)
    chunks: list[F64] = []
    got = 0
    while got < n:
        pts = rng.uniform((minx, miny), (maxx, maxy), size=(2 * n, 2))
        pts = pts[shapely.contains_xy(area, pts[:, 0], pts[:, 1])]
        chunks.append(pts)
        got += len(pts)
    return np.concatenate(chunks)[:n]


def _kmeans(rng: np.random.Generator, pts: F64, k: int, iterations: int = 20) -> F64:
    """Lloyd's k-means centres (empty clusters keep their previous centre)."""
    centres = pts[rng.choice(len(pts), size=k, replace=False)].copy()
    p2 = (pts**2).sum(axis=1)
    for _ in range(iterations):
        d2 = p2[:, None] - 2.0 * pts @ centres.T + (centres**2).sum(axis=1)[None, :]
        label = d2.argmin(axis=1)
        n = np.bincount(label, minlength=k).astype(np.float64)
        sx = np.bincount(label, weights=pts[:, 0], minlength=k)
        sy = np.bincount(label, weights=pts[:, 1], minlength=k)
        filled = n > 0
        centres[filled, 0] = sx[filled] / n[filled]
        centres[filled, 1] = sy[filled] / n[filled]
    return centres


def _areas(polys: list[BaseGeometry]) -> list[Area]:
    out: list[Area] = []
    for g in polys:
        parts = [p for p in shapely.get_parts(shapely.make_valid(g)) if isinstance(p, Polygon)]
        parts = [p for p in parts if p.area > 0]
        if not parts:
            raise RuntimeError("empty cell in a synthetic partition")
        out.append(parts[0] if len(parts) == 1 else MultiPolygon(parts))
    return out


def _noded_faces(parts: list[Area]) -> list[list[Polygon]]:
    """Make projected parts an exact coverage on the 1e-7 degree grid.

    Each part is projected on its own, so neighbours no longer share their boundary
    exactly (a projected straight edge bends by up to a centimetre, and a vertex
    where one part meets a neighbour's edge is not on that edge). The boundaries of
    all parts are therefore noded together with snap-rounding to a 1e-7 degree grid
    and polygonized; each face goes to the part it overlaps most (the nearest part
    for a sliver that overlaps none). Faces share their edges exactly, so unions of
    faces partition the union of the parts with no gaps and no overlaps.
    """
    lines = shapely.union_all([shapely.boundary(p) for p in parts], grid_size=1e-7)
    faces = [
        f
        for f in shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
        if isinstance(f, Polygon) and f.area > 0
    ]
    tree = shapely.STRtree(parts)
    out: list[list[Polygon]] = [[] for _ in parts]
    for face in faces:
        face = shapely.transform(face, lambda c: np.round(c, 7))
        candidates = tree.query(face, predicate="intersects")
        overlap = [shapely.intersection(face, parts[k]).area for k in candidates.tolist()]
        if overlap and max(overlap) > 0:
            best = int(candidates[int(np.argmax(overlap))])
        else:
            best = int(tree.query_nearest(shapely.point_on_surface(face))[0])
        out[best].append(face)
    if any(not f for f in out):
        raise RuntimeError("a synthetic partition lost a cell while noding")
    return out


def _coverage(faces: list[Polygon]) -> Area:
    merged = shapely.orient_polygons(shapely.coverage_union_all(faces))
    return _areas([merged])[0]


def _voronoi(seeds: F64, clip: BaseGeometry) -> list[Area]:
    minx, miny, maxx, maxy = clip.bounds
    pad = max(maxx - minx, maxy - miny)
    env = shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=env, ordered=True)
    return _areas([shapely.intersection(c, clip) for c in shapely.get_parts(cells)])


def _bearing_order(areas: list[Area], centre: Point) -> list[int]:
    ang = [
        float(np.arctan2(a.centroid.y - centre.y, a.centroid.x - centre.x)) % (2 * np.pi)
        for a in areas
    ]
    # Start in the north-west and go clockwise, as post maps usually read.
    start = 0.75 * np.pi
    key = [(start - a) % (2 * np.pi) for a in ang]
    return sorted(range(len(areas)), key=lambda i: key[i])


def _neighbourhood_names(rng: np.random.Generator, n: int, vocab: Names) -> tuple[str, ...]:
    names: list[str] = list(vocab.neighborhood_first)
    for first in vocab.neighborhood_first:
        for second in vocab.neighborhood_second:
            names.append(f"{first} {second}")
    picked = rng.choice(len(names), size=n, replace=n > len(names))
    out: list[str] = []
    seen: set[str] = set()
    for i in picked.tolist():
        name = names[i]
        while name in seen:  # only when n exceeds the vocabulary
            name = f"{name} {len(seen)}"
        seen.add(name)
        out.append(name)
    return tuple(out)


def build_geography(params: CityParams, rng: np.random.Generator) -> Geography:
    """Build the city for ``params`` from ``rng`` (its geography sub-stream)."""
    city = _city_polygon(rng, params.city_area_km2 * 1e6)
    scale = float(np.sqrt(params.city_area_km2 / 210.0))
    seeds = [(0.0, 0.0)]
    for bearing in _BEARINGS[1:]:
        assert bearing is not None
        a = np.deg2rad(bearing + rng.uniform(-7.0, 7.0))
        r = 2600.0 * scale * rng.uniform(0.9, 1.1)
        seeds.append((r * np.cos(a), r * np.sin(a)))
    districts = _voronoi(np.asarray(seeds), city)

    beats: list[Area] = []
    posts: list[int] = []
    beat_district: list[int] = []
    for d, district in enumerate(districts):
        k = params.beats_per_district
        pts = _uniform_in(rng, district, 3000)
        cells = _voronoi(_kmeans(rng, pts, k), district) if k > 1 else [district]
        for rank, c in enumerate(_bearing_order(cells, district.centroid)):
            beats.append(cells[c])
            posts.append(100 * (d + 1) + 10 * (rank // 3 + 1) + (rank % 3 + 1))
            beat_district.append(d)

    nb_pts = _uniform_in(rng, city, 20 * params.n_neighborhoods + 2000)
    nb_cells = _voronoi(_kmeans(rng, nb_pts, params.n_neighborhoods), city)
    vocab = load_names()
    nb_names = _neighbourhood_names(rng, params.n_neighborhoods, vocab)

    minx, miny, maxx, maxy = city.bounds
    extent = max(abs(minx), abs(miny), abs(maxx), abs(maxy))
    streets = build_street_grid(rng, params.street_spacing_m, extent, vocab.street_words)

    to_ll = Transformer.from_crs(
        f"+proj=tmerc +lat_0={params.center_lat} +lon_0={params.center_lon} +k=1 "
        "+x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs",
        "EPSG:4326",
        always_xy=True,
    )

    def project(coords: F64) -> F64:
        lon, lat = to_ll.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    beat_faces = _noded_faces([shapely.transform(b, project) for b in beats])
    beats_ll = tuple(_coverage(f) for f in beat_faces)
    districts_ll = tuple(
        _coverage([f for k, faces in enumerate(beat_faces) if beat_district[k] == d for f in faces])
        for d in range(len(districts))
    )
    nbhd_ll = tuple(
        _coverage(f) for f in _noded_faces([shapely.transform(c, project) for c in nb_cells])
    )
    for g in (city, *districts_ll, *beats_ll, *nbhd_ll):
        shapely.prepare(g)
    return Geography(
        city_xy=city,
        streets=streets,
        districts_ll=districts_ll,
        beats_ll=beats_ll,
        beat_posts=np.asarray(posts, dtype=np.int64),
        beat_district=np.asarray(beat_district, dtype=np.int64),
        neighborhoods_ll=nbhd_ll,
        neighborhood_names=nb_names,
        _to_ll=to_ll,
        _beat_bounds=np.asarray(shapely.bounds(list(beats_ll)), dtype=np.float64),
        _nbhd_bounds=np.asarray(shapely.bounds(list(nbhd_ll)), dtype=np.float64),
    )
