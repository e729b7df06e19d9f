"""Polygons and points in a metric projection, for zone building and scoring.

Areas and distances of zones are measured in a projected CRS whose unit is the metre:
for Baltimore the default, EPSG:26985 (NAD83 / Maryland State Plane, metres), whose
scale error over the city is below 1 part in 10,000, so a square metre on the map is a
square metre on the ground to that precision. Another city passes its own EPSG code
(``crs=``). GeoJSON read here may declare its CRS in the old ``crs`` member
(``urn:ogc:def:crs:OGC:1.3:CRS84``, ``EPSG:2248`` ...); a file without one is RFC 7946
WGS84 longitude/latitude (read as :func:`smart_policing.data.boundaries.read_crs`
does). Everything here is pure: documents (``dict``) and arrays in, shapely
geometries and arrays out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from smart_policing.data.boundaries import read_crs
from smart_policing.data.reader import UnusableFileError

__all__ = [
    "DEFAULT_CRS",
    "GeometryError",
    "NamedPolygon",
    "feature_collection",
    "polygons_from_geojson",
    "project_points",
    "union_all",
]

#: NAD83 / Maryland State Plane, metres: Baltimore's metric CRS.
DEFAULT_CRS = "EPSG:26985"

FloatArray = npt.NDArray[np.float64]


class GeometryError(ValueError):
    """A GeoJSON document that cannot be read as polygons (the message says where)."""


@dataclass(frozen=True)
class NamedPolygon:
    """One polygon (or multipolygon) in the metric CRS with its name and properties."""

    name: str
    geometry: BaseGeometry
    properties: dict[str, Any] = field(default_factory=dict)


def _transformer(src: CRS, dst: str) -> Transformer:
    return Transformer.from_crs(src, CRS.from_user_input(dst), always_xy=True)


def _name(props: dict[str, Any], name_field: str | None, position: int) -> str:
    fields = (name_field,) if name_field else ("zone_id", "name", "NAME", "Name", "Id", "id")
    for f in fields:
        if f and props.get(f) not in (None, ""):
            return str(props[f])
    return f"feature-{position}"


def polygons_from_geojson(
    doc: Any,
    *,
    crs: str = DEFAULT_CRS,
    source_crs: str | None = None,
    name_field: str | None = None,
    where: str = "GeoJSON",
) -> list[NamedPolygon]:
    """The (multi)polygons of a FeatureCollection, projected to ``crs`` (metres).

    ``source_crs`` overrides the document's declared CRS. Each feature is named by
    ``name_field`` or else the first of ``zone_id``, ``name``, ``NAME``, ``Name``,
    ``Id``, ``id`` present, or ``feature-N`` (1-based). Invalid geometries are repaired
    with ``make_valid`` (keeping their polygonal part). Raises :class:`GeometryError`
    naming ``where`` and the feature for anything that is not a polygon.
    """
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise GeometryError(f"{where}: not a GeoJSON FeatureCollection")
    features = doc.get("features")
    if not isinstance(features, list):
        raise GeometryError(f"{where}: the FeatureCollection has no 'features' list")
    try:
        src = read_crs(doc, source_crs)
    except UnusableFileError as exc:
        raise GeometryError(f"{where}: {exc}") from exc
    tr = _transformer(src, crs)
    out: list[NamedPolygon] = []
    for i, feat in enumerate(features, start=1):
        if not isinstance(feat, dict) or not isinstance(feat.get("geometry"), dict):
            raise GeometryError(f"{where}: feature {i} has no geometry")
        try:
            geom = shape(feat["geometry"])
        except (ValueError, TypeError, AttributeError, IndexError) as exc:
            raise GeometryError(f"{where}: feature {i}: unreadable geometry: {exc}") from exc
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise GeometryError(f"{where}: feature {i} is a {geom.geom_type}, not a polygon")
        geom = shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
            geom = shapely.union_all(
                [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
            )
        props = feat.get("properties") or {}
        if not isinstance(props, dict):
            props = {}
        out.append(NamedPolygon(_name(props, name_field, i), geom, dict(props)))
    return out


def project_points(
    lon: Sequence[float] | FloatArray, lat: Sequence[float] | FloatArray, crs: str = DEFAULT_CRS
) -> tuple[FloatArray, FloatArray]:
    """WGS84 longitude/latitude (degrees) to ``crs`` x/y (metres)."""
    tr = _transformer(CRS.from_epsg(4326), crs)
    x, y = tr.transform(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def union_all(geoms: Iterable[BaseGeometry]) -> BaseGeometry:
    """The union of geometries (an empty polygon for none)."""
    return shapely.union_all(list(geoms))


def feature_collection(
    items: Iterable[tuple[BaseGeometry, dict[str, Any]]], *, crs: str = DEFAULT_CRS
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection in WGS84 longitude/latitude (RFC 7946) from metric
    geometries in ``crs`` and their properties; coordinates rounded to 1e-7 degree (1 cm)."""
    tr = Transformer.from_crs(CRS.from_user_input(crs), CRS.from_epsg(4326), always_xy=True)
    features = []
    for geom, props in items:
        g = shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
        g = shapely.set_precision(g, 1e-7)
        features.append({"type": "Feature", "properties": props, "geometry": mapping(g)})
    return {"type": "FeatureCollection", "features": features}
