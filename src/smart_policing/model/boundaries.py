"""Boundaries: district, beat (post) and zone polygons.

Geometries are stored in WGS84 longitude/latitude (EPSG:4326, axis order x=lon,
y=lat) whatever CRS the source file declared; ``source_crs`` records the
original, and ``area_m2`` is the geodesic area in square metres.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["Boundary", "BoundaryKind"]


class BoundaryKind(StrEnum):
    DISTRICT = "district"
    BEAT = "beat"
    ZONE = "zone"
    NEIGHBOURHOOD = "neighbourhood"


class Boundary(BaseModel):
    """One named polygon of a boundary layer (GeoJSON geometry in EPSG:4326)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: BoundaryKind
    layer: str
    name: str
    geometry: dict[str, Any]
    source_crs: str
    area_m2: float
    properties: dict[str, Any] = {}
