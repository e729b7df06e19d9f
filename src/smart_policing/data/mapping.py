"""Declarative import mappings: how a city's CSV columns become canonical records.

A mapping is a YAML data file (``schema_version: 1``) validated on load; errors name
the file, line and field (:mod:`smart_policing.datafiles`). The built-in formats
(``baltimore-part1``, ``cad``) are themselves mappings in ``data/formats/``, so the
generic ``import csv --mapping`` path is the one every import takes.

Shape::

    schema_version: 1
    name: springfield-calls          # the record source; keys are unique within it
    record: call                     # call | incident
    timezone: America/Chicago        # optional; default: the city setting
    key: {columns: [CallNo]}         # optional; default: a hash of the whole row
    victim_based: false              # incidents only: identical rows = one incident, k victims
    coordinates: {x: X, y: Y, crs: "EPSG:3435"}   # optional; transformed to EPSG:4326
    fields:
      received_at: {column: CallTime, formats: ["%m/%d/%Y %I:%M:%S %p"]}
      priority: {column: Pri, codes: {E: 1, U: 2, R: 3}}
      call_type_code: {column: Type, required: true}

Field options (all optional except a source):

``column``
    source column (matched ignoring case and surrounding spaces);
``value``
    a constant instead of a column;
``time_column``
    datetime fields only: a separate time-of-day column joined to ``column`` with a
    space before parsing;
``formats``
    datetime fields only: strftime-style formats tried in order (Polars/chrono
    syntax; ``%.f`` matches optional fractional seconds). A time of ``24:00`` or
    ``24:00:00`` means midnight at the end of that day;
``regex``
    keep the first capture group (``'^(\\d+)'`` turns post ``211.0`` into ``211``);
``case``
    ``upper``, ``lower`` or ``title``;
``codes``
    a table from source values to canonical values, with ``on_unmapped``
    (``reject`` the row, ``keep`` the source value, ``null``, or use ``default``).
    Unmapped values are always counted in the import summary, never guessed;
``required``
    reject the row when the value is empty;
``optional_column``
    the column may be absent from a file (the field is then empty).

Local times are converted with the mapping's (or the city's) IANA time zone. In the
repeated hour when clocks go back, the earlier (daylight) instant is taken; a time
in the skipped hour when clocks go forward is moved one hour later and flagged
``dst_gap_shifted``.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pyproj import CRS
from pyproj.exceptions import CRSError

from smart_policing.datafiles import LocatedErrors, load_model
from smart_policing.model.calls import CALL_TIME_FIELDS, SourceChannel
from smart_policing.model.incidents import InsideOutside

__all__ = [
    "BUILTIN_FORMATS",
    "CALL_FIELDS",
    "INCIDENT_FIELDS",
    "CoordinatesSpec",
    "FieldSpec",
    "KeySpec",
    "MappingSpec",
    "builtin_mapping",
    "load_mapping",
]

FieldKind = Literal["str", "int", "float", "bool", "datetime", "channel", "inside_outside"]

#: Canonical call fields a mapping may fill, with their kind.
CALL_FIELDS: dict[str, FieldKind] = {
    "agency": "str",
    **dict.fromkeys(CALL_TIME_FIELDS, "datetime"),
    "call_type_code": "str",
    "call_type_text": "str",
    "priority": "int",
    "source_channel": "channel",
    "disposition_code": "str",
    "disposition_text": "str",
    "block_address": "str",
    "district": "str",
    "beat": "str",
    "shift": "str",
    "unit_id": "str",
    "call_taker_id": "str",
    "dispatcher_id": "str",
    "self_initiated": "bool",
    "reopened": "bool",
}

#: Canonical incident fields a mapping may fill, with their kind.
INCIDENT_FIELDS: dict[str, FieldKind] = {
    "occurred_at": "datetime",
    "offence_code": "str",
    "offence_description": "str",
    "weapon": "str",
    "premise": "str",
    "inside_outside": "inside_outside",
    "block_address": "str",
    "district": "str",
    "post": "str",
    "neighbourhood": "str",
    "victim_count": "int",
}

_REQUIRED = {"call": ("received_at", "call_type_code"), "incident": ("occurred_at", "offence_code")}

BUILTIN_FORMATS = ("baltimore-part1", "cad")


class FieldSpec(BaseModel):
    """Where one canonical field comes from and how it is cleaned."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str | None = None
    value: str | int | float | bool | None = None
    time_column: str | None = None
    formats: tuple[str, ...] = ()
    regex: str | None = None
    case: Literal["upper", "lower", "title"] | None = None
    codes: dict[str, str | int | float | bool] | None = None
    on_unmapped: Literal["reject", "keep", "null", "default"] = "reject"
    default: str | int | float | bool | None = None
    required: bool = False
    optional_column: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        if (self.column is None) == (self.value is None):
            raise ValueError("give exactly one of 'column' or 'value'")
        if self.on_unmapped == "default" and self.default is None:
            raise ValueError("on_unmapped: default needs a 'default' value")
        if self.regex is not None:
            import re

            try:
                compiled = re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"regex {self.regex!r} does not compile: {exc}") from exc
            if compiled.groups < 1:
                raise ValueError(f"regex {self.regex!r} needs one capture group")
        return self

    def source_columns(self) -> tuple[str, ...]:
        return tuple(c for c in (self.column, self.time_column) if c is not None)


class KeySpec(BaseModel):
    """Columns whose values identify a record within its source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: tuple[str, ...] = Field(min_length=1)


class CoordinatesSpec(BaseModel):
    """Point coordinates: ``x``/``y`` columns in ``crs`` (EPSG code or any pyproj CRS).

    For geographic CRSs x is longitude and y latitude. ``(0, 0)`` is a common "no
    location" placeholder in police exports; with ``zero_is_missing`` it becomes an
    empty location flagged ``zero_coordinates``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    x: str
    y: str
    crs: str = "EPSG:4326"
    zero_is_missing: bool = True
    optional_columns: bool = False

    @field_validator("crs")
    @classmethod
    def _known_crs(cls, v: str) -> str:
        try:
            CRS.from_user_input(v)
        except CRSError as exc:
            raise ValueError(f"unknown coordinate reference system {v!r}: {exc}") from exc
        return v


class MappingSpec(BaseModel):
    """One import format (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    description: str = ""
    record: Literal["call", "incident"]
    timezone: str | None = None
    key: KeySpec | None = None
    victim_based: bool = False
    coordinates: CoordinatesSpec | None = None
    fields: dict[str, FieldSpec]

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                ZoneInfo(v)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown IANA time zone {v!r}") from exc
        return v

    @model_validator(mode="after")
    def _fields_fit_record(self) -> MappingSpec:
        known = self.field_kinds()
        problems: list[tuple[tuple[str | int, ...], str]] = [
            (
                ("fields", name),
                f"'{name}' is not a {self.record} field (known: {', '.join(sorted(known))})",
            )
            for name in self.fields
            if name not in known
        ]
        problems += [
            (("fields",), f"'{name}' is required for {self.record} records")
            for name in _REQUIRED[self.record]
            if name not in self.fields
        ]
        for name, spec in self.fields.items():
            kind = known.get(name)
            where = ("fields", name)
            if kind == "datetime" and spec.column is not None and not spec.formats:
                problems.append((where, f"'{name}' is a date-time field and needs 'formats'"))
            if kind != "datetime" and (spec.formats or spec.time_column):
                problems.append(
                    (where, f"'{name}' is not a date-time field: drop formats/time_column")
                )
            allowed = _ENUMS.get(kind or "")
            if allowed is not None and spec.codes is not None:
                bad = sorted({str(v) for v in spec.codes.values()} - allowed)
                if bad:
                    problems.append(
                        (
                            (*where, "codes"),
                            f"'{name}' codes map to unknown values {bad}; "
                            f"allowed: {sorted(allowed)}",
                        )
                    )
        if self.victim_based and self.record != "incident":
            problems.append((("victim_based",), "victim_based applies to incident records only"))
        if problems:
            raise LocatedErrors(problems)
        return self

    def field_kinds(self) -> dict[str, FieldKind]:
        return CALL_FIELDS if self.record == "call" else INCIDENT_FIELDS


_ENUMS: dict[str, set[str]] = {
    "channel": {c.value for c in SourceChannel},
    "inside_outside": {c.value for c in InsideOutside},
}


def load_mapping(path: str | Path) -> MappingSpec:
    """Load and validate a mapping file; raises :class:`~smart_policing.datafiles.DataFileError`."""
    return load_model(path, MappingSpec)


@cache
def builtin_mapping(name: str) -> MappingSpec:
    """One of :data:`BUILTIN_FORMATS`, shipped in ``smart_policing/data/formats``."""
    if name not in BUILTIN_FORMATS:
        raise KeyError(f"unknown built-in format {name!r}; known: {', '.join(BUILTIN_FORMATS)}")
    ref = resources.files("smart_policing.data") / "formats" / f"{name}.yaml"
    with resources.as_file(ref) as path:
        return load_mapping(path)
