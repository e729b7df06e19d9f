"""GeoJSON boundary import: CRS handling, areas, rejects, idempotence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyproj import Transformer
from sqlalchemy import Engine, select

from smart_policing.data import UnusableFileError, import_boundaries
from smart_policing.model.boundaries import BoundaryKind
from smart_policing.store import tables as t
from smart_policing.store.queries import list_rejects

# a 0.01 x 0.01 degree square at Baltimore's latitude
SQUARE = [[-76.62, 39.29], [-76.61, 39.29], [-76.61, 39.30], [-76.62, 39.30], [-76.62, 39.29]]


def collection(features: list[dict[str, object]], crs: str | None = None) -> dict[str, object]:
    doc: dict[str, object] = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    return doc


def polygon(ring: list[list[float]], **props: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def test_import_with_area_and_rejects_and_idempotence(engine: Engine, tmp_path: Path) -> None:
    bowtie = [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]  # self-intersecting: repaired
    f = tmp_path / "d.geojson"
    f.write_text(
        json.dumps(
            collection(
                [
                    polygon(SQUARE, name="Central"),
                    polygon(bowtie, name="Bowtie"),
                    {"type": "Feature", "properties": {"name": "Nowhere"}, "geometry": None},
                    {
                        "type": "Feature",
                        "properties": {"name": "Pin"},
                        "geometry": {"type": "Point", "coordinates": [0, 0]},
                    },
                ]
            )
        )
    )
    s = import_boundaries(engine, f, kind=BoundaryKind.DISTRICT, layer="test")
    assert (s.rows_read, s.inserted, s.rejected, s.repaired) == (4, 2, 2, 1)
    with engine.connect() as conn:
        area = conn.execute(
            select(t.boundaries.c.area_m2).where(t.boundaries.c.name == "Central")
        ).scalar_one()
    # 0.01 deg lat = 1110.9 m; 0.01 deg lon at 39.295 N = 862.0 m
    assert area == pytest.approx(1110.9 * 862.0, rel=0.003)
    _, rejects = list_rejects(engine, import_id=s.import_id)
    assert [r["reason"] for r in rejects] == [
        "feature 3: feature has no geometry",
        "feature 4: geometry is a Point, expected Polygon or MultiPolygon",
    ]
    again = import_boundaries(engine, f, kind=BoundaryKind.DISTRICT, layer="test")
    assert (again.inserted, again.duplicates) == (0, 2)


def test_projected_crs_is_transformed_to_wgs84(engine: Engine, tmp_path: Path) -> None:
    to_md = Transformer.from_crs("EPSG:4326", "EPSG:2248", always_xy=True)  # Maryland, US feet
    ring = [list(to_md.transform(x, y)) for x, y in SQUARE]
    f = tmp_path / "p.geojson"
    f.write_text(
        json.dumps(
            collection([polygon(ring, dist_name="Central")], crs="urn:ogc:def:crs:EPSG::2248")
        )
    )
    s = import_boundaries(engine, f, kind=BoundaryKind.DISTRICT, layer="md")
    assert s.inserted == 1
    assert "2248" in s.source_crs
    with engine.connect() as conn:
        row = conn.execute(select(t.boundaries)).mappings().one()
    assert row["name"] == "Central"
    assert row["min_lon"] == pytest.approx(-76.62, abs=1e-6)
    assert row["max_lat"] == pytest.approx(39.30, abs=1e-6)


def test_features_named_by_position_when_no_property_is_unique(
    engine: Engine, tmp_path: Path
) -> None:
    # BPD's 2019 zone files carry only {"Id": 0} on every feature
    shifted = [[x + 0.02, y] for x, y in SQUARE]
    f = tmp_path / "z.geojson"
    f.write_text(json.dumps(collection([polygon(SQUARE, Id=0), polygon(shifted, Id=0)])))
    s = import_boundaries(engine, f, kind=BoundaryKind.ZONE, layer="fpa")
    assert s.inserted == 2
    with engine.connect() as conn:
        assert sorted(conn.execute(select(t.boundaries.c.name)).scalars()) == [
            "feature-1",
            "feature-2",
        ]
    with pytest.raises(UnusableFileError, match="does not name features uniquely"):
        import_boundaries(engine, f, kind=BoundaryKind.ZONE, layer="fpa2", name_field="Id")


def test_unusable_geojson(engine: Engine, tmp_path: Path) -> None:
    f = tmp_path / "x.geojson"
    f.write_text("{not json")
    with pytest.raises(UnusableFileError, match="not a GeoJSON file"):
        import_boundaries(engine, f, kind=BoundaryKind.BEAT, layer="x")
    f.write_text('{"type": "Feature"}')
    with pytest.raises(UnusableFileError, match="not a GeoJSON FeatureCollection"):
        import_boundaries(engine, f, kind=BoundaryKind.BEAT, layer="x")
