"""Load and validate the data tables shipped with the generator.

``call_types.yaml`` (CAD call types: agency, priority mix, on-scene time, disposition
mix, reception channel) and ``part1_types.yaml`` (Part 1 offence types: share of
rows, CrimeCode/Weapon mix, premises, victims per incident, calls raised) are
validated with pydantic models that forbid unknown keys; ``names.yaml`` holds the
street and neighbourhood name vocabularies. A bad table raises
`TableError` naming the file, the entry (index and name) and the field.

Mixes (``priority``, ``dispositions``, ``premises``, ...) must each sum to 1 within
0.001, so a typo cannot silently shift a distribution.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from smart_policing.data.synth.temporal import PROFILES

__all__ = [
    "AGENCIES",
    "CallType",
    "CallTypeTable",
    "CrimeCode",
    "CrimeType",
    "CrimeTypeTable",
    "Names",
    "TableError",
    "load_call_types",
    "load_crime_types",
    "load_names",
    "parse_call_types",
    "parse_crime_types",
]

Agency = Literal["POLICE", "EMS", "FIRE"]
AGENCIES: tuple[Agency, ...] = ("POLICE", "EMS", "FIRE")
_TOL = 1e-3


class TableError(ValueError):
    """A synthetic-city data table failed validation."""


def _known_profile(v: str) -> str:
    if v not in PROFILES:
        raise ValueError(f"unknown profile {v!r}; known: {sorted(PROFILES)}")
    return v


def _check_mix(mix: dict[Any, float], what: str) -> None:
    if not mix:
        raise ValueError(f"{what} must not be empty")
    if any(v < 0 for v in mix.values()):
        raise ValueError(f"{what} has a negative share")
    total = sum(mix.values())
    if abs(total - 1.0) > _TOL:
        raise ValueError(f"{what} sums to {total:.4f}, not 1")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OnScene(_Strict):
    """Log-normal on-scene time: median (minutes) and sigma of the log."""

    median_min: float = Field(gt=0.0, le=24 * 60)
    sigma: float = Field(gt=0.0, le=3.0)


class CallType(_Strict):
    """One CAD call type (see the header of call_types.yaml)."""

    problem: str = Field(min_length=1, max_length=60)
    agency: Agency
    weight: float = Field(gt=0.0)
    priority: dict[int, float]
    on_scene: OnScene
    dispositions: dict[str, float]
    officer_initiated: float = Field(0.0, ge=0.0, le=1.0)
    not_dispatched: float = Field(0.0, ge=0.0, le=1.0)
    cancelled: float = Field(0.0, ge=0.0, le=1.0)
    sites: Literal["general", "alarm", "gun"] = "general"
    profile: str = "general"
    linked_delay_min: float = Field(3.0, gt=0.0, le=7 * 24 * 60)

    @field_validator("problem")
    @classmethod
    def _upper(cls, v: str) -> str:
        if v != v.upper() or v != v.strip():
            raise ValueError("problem must be upper case without surrounding blanks")
        return v

    @field_validator("priority")
    @classmethod
    def _priority(cls, v: dict[int, float]) -> dict[int, float]:
        if any(not 1 <= p <= 10 for p in v):
            raise ValueError("priorities must be between 1 and 10")
        _check_mix(v, "priority")
        return v

    @field_validator("dispositions")
    @classmethod
    def _dispositions(cls, v: dict[str, float]) -> dict[str, float]:
        _check_mix(v, "dispositions")
        return v

    @field_validator("profile")
    @classmethod
    def _profile(cls, v: str) -> str:
        return _known_profile(v)


class CallTypeTable(_Strict):
    """The whole call-type table."""

    schema_version: Literal[1]
    agency_share: dict[Agency, float]
    reception: dict[Agency, dict[str, float]]
    call_types: list[CallType]

    @field_validator("agency_share")
    @classmethod
    def _shares(cls, v: dict[Agency, float]) -> dict[Agency, float]:
        _check_mix(v, "agency_share")
        return v

    @field_validator("reception")
    @classmethod
    def _reception(cls, v: dict[Agency, dict[str, float]]) -> dict[Agency, dict[str, float]]:
        for agency, mix in v.items():
            _check_mix(mix, f"reception.{agency}")
            if "OFFICER" in mix:
                raise ValueError("OFFICER reception comes from officer_initiated, not the mix")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> CallTypeTable:
        problems = [c.problem for c in self.call_types]
        dup = {p for p in problems if problems.count(p) > 1}
        if dup:
            raise ValueError(f"duplicate problems: {sorted(dup)}")
        for agency in AGENCIES:
            if self.agency_share.get(agency, 0.0) > 0 and agency not in self.reception:
                raise ValueError(f"reception has no mix for {agency}")
            if self.agency_share.get(agency, 0.0) > 0 and not any(
                c.agency == agency for c in self.call_types
            ):
                raise ValueError(f"no call type for {agency}")
        return self

    def index(self, problem: str) -> int:
        """Position of a problem in ``call_types``."""
        for i, c in enumerate(self.call_types):
            if c.problem == problem:
                return i
        raise KeyError(problem)


class CrimeCode(_Strict):
    """A CrimeCode with the weapon it implies and an optional calls override."""

    code: str = Field(pattern=r"^[0-9][A-Z]{1,3}$")
    weight: float = Field(gt=0.0)
    weapon: Literal["FIREARM", "KNIFE", "OTHER", "HANDS"] | None
    cad_problems: dict[str, float] | None = None


class Victims(_Strict):
    """P(more than one victim) and mean number of additional victims when so."""

    multi_prob: float = Field(ge=0.0, le=1.0)
    extra_mean: float = Field(ge=1.0, le=20.0)


class CadLink(_Strict):
    """Calls raised by incidents of a type."""

    report_prob: float = Field(ge=0.0, le=1.0)
    problems: dict[str, float]

    @field_validator("problems")
    @classmethod
    def _problems(cls, v: dict[str, float]) -> dict[str, float]:
        _check_mix(v, "problems")
        return v


class CrimeType(_Strict):
    """One Part 1 Description (see the header of part1_types.yaml)."""

    description: str = Field(min_length=1)
    share: float = Field(gt=0.0)
    profile: str
    component: Literal["crime", "gun"]
    io_words: bool = False
    victims: Victims
    codes: list[CrimeCode] = Field(min_length=1)
    premises: dict[str, float]
    cad: CadLink

    @field_validator("premises")
    @classmethod
    def _premises(cls, v: dict[str, float]) -> dict[str, float]:
        _check_mix(v, "premises")
        return v

    @field_validator("profile")
    @classmethod
    def _profile(cls, v: str) -> str:
        return _known_profile(v)


class CrimeTypeTable(_Strict):
    """The whole Part 1 type table."""

    schema_version: Literal[1]
    hawkes_codes: list[str]
    premises: dict[str, Literal["I", "O"]]
    types: list[CrimeType] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> CrimeTypeTable:
        codes = [c.code for t in self.types for c in t.codes]
        dup = {c for c in codes if codes.count(c) > 1}
        if dup:
            raise ValueError(f"duplicate CrimeCodes: {sorted(dup)}")
        unknown = set(self.hawkes_codes) - set(codes)
        if unknown:
            raise ValueError(f"hawkes_codes not in any type: {sorted(unknown)}")
        for t in self.types:
            missing = set(t.premises) - set(self.premises)
            if missing:
                raise ValueError(f"{t.description}: premises without I/O: {sorted(missing)}")
            for c in t.codes:
                if c.cad_problems is not None:
                    _check_mix(c.cad_problems, f"{t.description} {c.code} cad_problems")
        return self


def _describe(exc: ValidationError, data: Any, list_key: str, name_key: str) -> str:
    lines = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = ".".join(str(p) for p in loc) or "(top level)"
        if len(loc) >= 2 and loc[0] == list_key and isinstance(loc[1], int):
            try:
                entry = data[list_key][loc[1]].get(name_key, "?")
            except (KeyError, IndexError, TypeError, AttributeError):
                entry = "?"
            where = f"{list_key}[{loc[1]}] ({entry}) field {'.'.join(str(p) for p in loc[2:])}"
        lines.append(f"{where}: {err['msg']}")
    return "; ".join(lines)


def _load_yaml(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TableError(f"{source}: not valid YAML: {exc}") from exc


def parse_call_types(text: str, source: str = "call_types.yaml") -> CallTypeTable:
    """Validate a call-type table given as YAML text."""
    data = _load_yaml(text, source)
    try:
        return CallTypeTable.model_validate(data)
    except ValidationError as exc:
        raise TableError(f"{source}: {_describe(exc, data, 'call_types', 'problem')}") from exc


def parse_crime_types(
    text: str, calls: CallTypeTable, source: str = "part1_types.yaml"
) -> CrimeTypeTable:
    """Validate a Part 1 type table; its call problems must exist in ``calls``."""
    data = _load_yaml(text, source)
    try:
        table = CrimeTypeTable.model_validate(data)
    except ValidationError as exc:
        raise TableError(f"{source}: {_describe(exc, data, 'types', 'description')}") from exc
    known = {c.problem for c in calls.call_types}
    for i, t in enumerate(table.types):
        mixes = [t.cad.problems] + [c.cad_problems for c in t.codes if c.cad_problems]
        for mix in mixes:
            for problem in mix:
                if problem not in known:
                    raise TableError(
                        f"{source}: types[{i}] ({t.description}) field cad.problems: "
                        f"{problem!r} is not a call type"
                    )
    return table


@cache
def load_call_types() -> CallTypeTable:
    """The call-type table shipped with the package."""
    text = resources.files(__package__).joinpath("call_types.yaml").read_text("utf-8")
    return parse_call_types(text)


@cache
def load_crime_types() -> CrimeTypeTable:
    """The Part 1 type table shipped with the package."""
    text = resources.files(__package__).joinpath("part1_types.yaml").read_text("utf-8")
    return parse_crime_types(text, load_call_types())


class Names(_Strict):
    """Street and neighbourhood name vocabularies."""

    schema_version: Literal[1]
    street_words: list[str] = Field(min_length=20)
    neighborhood_first: list[str] = Field(min_length=5)
    neighborhood_second: list[str] = Field(min_length=1)

    @field_validator("street_words", "neighborhood_first", "neighborhood_second")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("names must be unique")
        if any(not isinstance(w, str) or not w.strip() for w in v):
            raise ValueError("names must be non-empty text")
        return v

    @field_validator("street_words")
    @classmethod
    def _upper(cls, v: list[str]) -> list[str]:
        if any(w != w.upper() for w in v):
            raise ValueError("street words must be upper case")
        return v


@cache
def load_names() -> Names:
    """The name vocabularies shipped with the package."""
    text = resources.files(__package__).joinpath("names.yaml").read_text("utf-8")
    data = _load_yaml(text, "names.yaml")
    try:
        return Names.model_validate(data)
    except ValidationError as exc:
        raise TableError(f"names.yaml: {_describe(exc, data, 'street_words', '')}") from exc
