"""Zone targets as a policy file: what a department's zones must cover, versioned.

The 2019 Baltimore plan set its focused patrol areas by a target (areas where 33% of
gun incidents occurred, in the nine districts) and a second tier of larger District
Action Team zones. Those choices are policy, so they live in a validated data file with
a version and an effective date, not in code (``../shared/DESIGN.md``: "Policies are
data"). A file names one or more **tiers**; each tier sets any of the builder's
parameters (:class:`~smart_policing.zones.build.BuildParams`: shares, zone limits,
zone size in square metres, grid and smoothing in metres, recency half-life in days,
compactness); fields left out take the builder's tier preset (:data:`~smart_policing.
zones.build.TIERS`), then its defaults. ``smart-policing zones build --targets FILE|NAME
--tier NAME`` reads one; options given on the command line win over the file.

::

    schema_version: 1
    name: baltimore-2019
    version: "1.0"
    effective_from: 2019-06-20
    source: Baltimore Police Department 2019 Crime Reduction Plan (seed 001)
    tiers:
      micro: {target_share: 0.33, max_zones: 120}
      dat: {area_share: 0.0149, max_zones: 11, max_zones_per_district: 2}

Errors name the file, line and field (:func:`smart_policing.datafiles.load_model`,
:class:`~smart_policing.datafiles.DataFileError`); a
tier whose values contradict each other (both shares, a minimum above the maximum)
fails with the tier named.
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from smart_policing.datafiles import load_model
from smart_policing.zones.build import TIERS, BuildParams, tier_params

__all__ = [
    "SCHEMA_VERSION",
    "TierTargets",
    "ZoneTargets",
    "builtin_zone_targets",
    "builtin_zone_targets_names",
    "load_zone_targets",
]

SCHEMA_VERSION = 1
"""The only ``schema_version`` this code reads."""


class TierTargets(BaseModel):
    """One tier's builder parameters (units as :class:`BuildParams`); all optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target_share: float | None = Field(default=None, gt=0, le=1)
    area_share: float | None = Field(default=None, gt=0, le=1)
    max_zones: int | None = Field(default=None, ge=1)
    max_zones_per_district: int | None = Field(default=None, ge=1)
    cell_m: float | None = Field(default=None, gt=0)
    bandwidth_m: float | None = Field(default=None, ge=0)
    half_life_days: float | None = Field(default=None, gt=0)
    min_area_m2: float | None = Field(default=None, ge=0)
    max_area_m2: float | None = Field(default=None, gt=0)
    max_aspect: float | None = Field(default=None, ge=1)
    min_fill: float | None = Field(default=None, ge=0, le=1)


class ZoneTargets(BaseModel):
    """A zone-targets policy file (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int
    name: str = Field(min_length=1, max_length=80)
    version: str = Field(min_length=1, max_length=40)
    effective_from: date
    source: str = ""
    tiers: dict[str, TierTargets] = Field(min_length=1)

    @field_validator("schema_version")
    @classmethod
    def _schema(cls, v: int) -> int:
        if v != SCHEMA_VERSION:
            raise ValueError(f"this version reads schema_version {SCHEMA_VERSION}, not {v}")
        return v

    def params(self, tier: str, **overrides: Any) -> BuildParams:
        """The builder's parameters for ``tier``: the builder's preset of a tier of that
        name (if any), then this file's values, then ``overrides`` (``None`` values are
        ignored). Raises ``ValueError`` naming the tier."""
        if tier not in self.tiers:
            raise ValueError(f"{self.name}: no tier {tier!r} (tiers: {', '.join(self.tiers)})")
        values = self.tiers[tier].model_dump(exclude_none=True)
        given = {k: v for k, v in overrides.items() if v is not None}
        if {"target_share", "area_share"} & given.keys():
            values.pop("target_share", None)
            values.pop("area_share", None)
        try:
            base = tier if tier in TIERS else "micro"
            return tier_params(base, **(values | given))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{self.name}, tier {tier!r}: {exc}") from exc


def load_zone_targets(path: str | Path) -> ZoneTargets:
    """Read and validate a zone-targets file; :class:`DataFileError` names file, line, field."""
    return load_model(path, ZoneTargets)


def _data_dir() -> Any:
    return resources.files("smart_policing.zones") / "data"


def builtin_zone_targets_names() -> tuple[str, ...]:
    """Names of the shipped zone-targets files (``zones/data/*.targets.yaml``)."""
    return tuple(
        sorted(
            p.name.removesuffix(".targets.yaml")
            for p in _data_dir().iterdir()
            if p.name.endswith(".targets.yaml")
        )
    )


def builtin_zone_targets(name: str) -> ZoneTargets:
    """A shipped zone-targets file by name (e.g. ``baltimore-2019``); KeyError lists them."""
    if name not in builtin_zone_targets_names():
        known = ", ".join(builtin_zone_targets_names())
        raise KeyError(f"no shipped zone targets {name!r} (shipped: {known})")
    with resources.as_file(_data_dir() / f"{name}.targets.yaml") as path:
        return load_zone_targets(path)
