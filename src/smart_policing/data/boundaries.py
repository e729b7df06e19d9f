"""Import boundary polygons (districts, beats/posts, zones) from GeoJSON.

The file's CRS is read from its ``crs`` member (``urn:ogc:def:crs:EPSG::2248``,
``EPSG:2248`` or ``urn:ogc:def:crs:OGC:1.3:CRS84``); RFC 7946 files without one are
WGS84, and ``crs=`` overrides both. Geometries are transformed to EPSG:4326
(x = longitude), repaired with ``make_valid`` when invalid (counted as
``repaired``), and their geodesic area computed in square metres on the WGS84
ellipsoid. Each feature is named by ``name_field`` (default: the first of
``name``, ``NAME``, ``Name``, ``dist_name``, ``district``, ``post``, ``beat``,
``zone``, ``id``, ``Id``, ``ID`` present) or, failing that, its position
(``feature-1`` ...). A feature with no geometry, a non-polygon geometry or an
unreadable one is rejected with its position and reason, like a bad CSV row.
Re-importing the same layer adds nothing: features are keyed by kind, layer and
name.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import polars as pl
import shapely
from pyproj import CRS, Geod, Transformer
from pyproj.exceptions import CRSError
from shapely import make_valid
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Engine

from smart_policing.data.reader import UnusableFileError, file_sha256
from smart_policing.data.rejects import Reject, rejects_frame
from smart_policing.model.boundaries import BoundaryKind
from smart_policing.store import tables as t
from smart_policing.store.bulk import insert_ignore
from smart_policing.store.imports import finish_import, start_import

__all__ = ["BoundaryImportSummary", "import_boundaries", "read_crs"]

_NAME_FIELDS = (
    "name",
    "NAME",
    "Name",
    "dist_name",
    "district",
    "post",
    "beat",
    "zone",
    "id",
    "Id",
    "ID",
)
_GEOD = Geod(ellps="WGS84")


@dataclass
class BoundaryImportSummary:
    """What a boundary import did. ``rows_read == inserted + duplicates + rejected``."""

    import_id: int
    kind: str
    layer: str
    file: str
    source_crs: str
    rows_read: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: int = 0
    repaired: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_crs(doc: dict[str, Any], override: str | None) -> CRS:
    """The CRS declared by a GeoJSON document (or ``override``)."""
    name = override
    if name is None:
        crs = doc.get("crs")
        if isinstance(crs, dict):
            name = (crs.get("properties") or {}).get("name")
    if name is None:
        return CRS.from_epsg(4326)
    try:
        return CRS.from_user_input(name)
    except CRSError as exc:
        raise UnusableFileError(f"unknown coordinate reference system {name!r}: {exc}") from exc


def geodesic_area_m2(geom: BaseGeometry) -> float:
    """Area of a lon/lat geometry on the WGS84 ellipsoid, square metres."""
    area, _ = _GEOD.geometry_area_perimeter(geom)
    return abs(float(area))


def import_boundaries(
    engine: Engine,
    path: str | Path,
    *,
    kind: BoundaryKind,
    layer: str,
    name_field: str | None = None,
    crs: str | None = None,
) -> BoundaryImportSummary:
    """Import the polygons of a GeoJSON FeatureCollection as boundary layer ``layer``."""
    started = time.perf_counter()
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UnusableFileError(f"{path}: cannot open: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnusableFileError(f"{path}: not a GeoJSON file: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise UnusableFileError(
            f"{path}: not a GeoJSON FeatureCollection (type is {doc.get('type')!r})"
            if isinstance(doc, dict)
            else f"{path}: not a GeoJSON object"
        )
    features = doc.get("features")
    if not isinstance(features, list):
        raise UnusableFileError(f"{path}: the FeatureCollection has no 'features' list")
    src = read_crs(doc, crs)
    to_wgs84 = (
        None
        if src.to_epsg() == 4326 or src.name.endswith("CRS84")
        else Transformer.from_crs(src, "EPSG:4326", always_xy=True)
    )
    source_crs = src.to_string()

    rows: list[dict[str, Any]] = []
    rejects: list[Reject] = []

    def reject(position: int, reason: str, raw: str) -> None:
        rejects.append(Reject(position, "geometry", f"feature {position}: {reason}", raw))

    repaired = 0
    for i, feat in enumerate(features, start=1):
        raw = json.dumps(feat)[:10_000]
        props = (feat or {}).get("properties") or {}
        geom_doc = (feat or {}).get("geometry")
        if not geom_doc:
            reject(i, "feature has no geometry", raw)
            continue
        try:
            geom = shape(geom_doc)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            reject(i, f"unreadable geometry: {exc}", raw)
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            reject(i, f"geometry is a {geom.geom_type}, expected Polygon or MultiPolygon", raw)
            continue
        if to_wgs84 is not None:
            geom = shapely.transform(geom, to_wgs84.transform, interleaved=False)
        if not geom.is_valid:
            geom = make_valid(geom)
            repaired += 1
        if geom.is_empty:
            reject(i, "geometry is empty", raw)
            continue
        minx, miny, maxx, maxy = geom.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            reject(
                i, f"coordinates out of range for {source_crs} (declare the CRS with --crs?)", raw
            )
            continue
        rows.append(
            {
                "_props": props,
                "_position": i,
                "kind": kind.value,
                "layer": layer,
                "geometry": json.dumps(mapping(geom)),
                "source_crs": source_crs,
                "area_m2": geodesic_area_m2(geom),
                "min_lon": minx,
                "min_lat": miny,
                "max_lon": maxx,
                "max_lat": maxy,
                "properties": json.dumps(props, default=str),
            }
        )
    field = _name_field([r["_props"] for r in rows], name_field, path)
    for r in rows:
        props, position = r.pop("_props"), r.pop("_position")
        value = props.get(field) if field else None
        r["name"] = str(value) if value not in (None, "") else f"feature-{position}"
    sha = file_sha256(path)
    import_id = start_import(
        engine,
        format_name="geojson",
        source=layer,
        file_name=path.name,
        sha256=sha,
        size=path.stat().st_size,
    )
    floats = {"area_m2", "min_lon", "min_lat", "max_lon", "max_lat"}
    columns = ["kind", "layer", "name", "geometry", "source_crs", *sorted(floats), "properties"]
    frame = pl.DataFrame(
        rows, schema={k: pl.Float64 if k in floats else pl.String for k in columns}
    )
    with engine.begin() as conn:
        inserted = insert_ignore(
            conn, t.boundaries, frame.with_columns(import_id=pl.lit(import_id))
        )
        insert_ignore(
            conn,
            t.rejects,
            rejects_frame(rejects, import_id=import_id, file_name=path.name, sha256=sha),
        )
    summary = BoundaryImportSummary(
        import_id,
        kind.value,
        layer,
        str(path),
        source_crs,
        rows_read=len(features),
        inserted=inserted,
        duplicates=len(rows) - inserted,
        rejected=len(rejects),
        repaired=repaired,
        seconds=time.perf_counter() - started,
    )
    finish_import(
        engine,
        import_id,
        status="completed",
        read=summary.rows_read,
        inserted=inserted,
        duplicates=summary.duplicates,
        rejected=len(rejects),
        flagged=repaired,
        details={"kind": kind.value, "repaired": repaired},
    )
    return summary


def _name_field(props: list[dict[str, Any]], name_field: str | None, path: Path) -> str | None:
    """The property that names features: given, or the first candidate unique across all."""
    if name_field is not None:
        values = [str(p.get(name_field)) for p in props]
        if len(set(values)) != len(values):
            raise UnusableFileError(
                f"{path}: property {name_field!r} does not name features uniquely; "
                "pick another --name-field"
            )
        return name_field
    for f in _NAME_FIELDS:
        values = [str(p[f]) for p in props if p.get(f) not in (None, "")]
        if len(values) == len(props) and len({str(v) for v in values}) == len(values):
            return f
    return None
