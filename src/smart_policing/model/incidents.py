"""Incidents (offences): the canonical record crime imports produce.

Victim-based sources such as Open Baltimore's Part 1 data publish one row per
victim; the importer groups identical rows into one incident whose
``victim_count`` is the number of rows (see :mod:`smart_policing.data.pipeline`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, field_validator

__all__ = ["Incident", "InsideOutside"]


class InsideOutside(StrEnum):
    INSIDE = "inside"
    OUTSIDE = "outside"


class Incident(BaseModel):
    """One offence/incident as stored (``occurred_at`` timezone-aware; WGS84 lat/lon)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    incident_key: str
    occurred_at: datetime
    offence_code: str
    offence_description: str | None = None
    weapon: str | None = None
    premise: str | None = None
    inside_outside: InsideOutside | None = None
    block_address: str | None = None
    place_key: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    district: str | None = None
    post: str | None = None
    neighbourhood: str | None = None
    victim_count: int = 1

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.utcoffset() is None:
            raise ValueError("occurred_at must be timezone-aware")
        return v
