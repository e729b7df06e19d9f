"""The scenario file of the dispatch simulator: a city's patrol, its calls and its rules.

A scenario is one YAML file (``schema_version: 1``), validated on load by
:func:`load_scenario` (:func:`smart_policing.datafiles.load_model`: an unknown key, a
wrong type or an inconsistent table fails with the file, line and field). Every field
is documented in ``docs/response.md`` ("Dispatch simulation"); in short:

* **run**: ``name``, ``seed`` (one ``numpy.random.SeedSequence``), ``replications``,
  ``horizon_days`` and ``warmup_days`` (days; calls and tours of the warm-up are
  simulated but not measured), ``timezone`` (IANA) and ``start_date`` (local midnight
  of that day is simulation minute 0);
* **geography**: the districts, either a ``synthetic`` layout (one square per district,
  of its area in km², on a grid) or a ``geojson`` file of district polygons, projected
  to metres with pyproj into ``projected_crs`` (an EPSG code in metres, e.g. UTM zone
  18N ``EPSG:32618`` or Maryland State Plane ``EPSG:26985`` for Baltimore);
* **shifts** (local start time, length in hours; they may overlap) and **staffing**:
  units on duty per district and shift, a table with one row per district;
* **calls**: ``generate`` (calls per day, hourly and weekday profile, a call-type mix
  with priority, units needed and on-scene time per type) or ``replay`` (a CAD export,
  or the stored calls); ``call_taking`` (received -> queued, minutes) and
  ``dispatch_delay`` (queued -> the dispatcher can assign a free unit, minutes);
* **on-scene times**: per call type in the scenario, else from a ``calibration`` file
  written by ``smart-policing response calibrate`` (call type, then priority, then all);
* **dispatch** (the engine's :class:`~smart_policing.response.sim.engine.DispatchRules`),
  **officer_time** (administrative allowance) and **targets** (P1 within-target share,
  proactive share).

Distributions of durations (minutes) are small tagged mappings (``kind: lognormal,
median: 25, sigma: 0.8``); :class:`Empirical` is a quantile table, the form the
calibration writes. All models are frozen and picklable (Dask ships them to workers).
"""

from __future__ import annotations

import itertools
import math
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from smart_policing.datafiles import LocatedErrors, load_model
from smart_policing.timezones import IanaTimeZone

__all__ = [
    "SCHEMA_VERSION",
    "Calibration",
    "CallTypeSpec",
    "DispatchSpec",
    "Distribution",
    "Empirical",
    "Exponential",
    "Fixed",
    "GammaDist",
    "GenerateCalls",
    "GeoJsonLayout",
    "Geography",
    "LogNormal",
    "OfficerTime",
    "OnSceneTables",
    "PriorityStats",
    "ProactiveStats",
    "ReplayCalls",
    "Scenario",
    "Shift",
    "SyntheticDistrict",
    "SyntheticLayout",
    "Targets",
    "TypeStats",
    "builtin_scenario_path",
    "builtin_scenarios",
    "load_calibration",
    "load_scenario",
]

SCHEMA_VERSION = 1
"""The only scenario ``schema_version`` this code reads."""

F64 = npt.NDArray[np.float64]
Loc = tuple[str | int, ...]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- distributions


class Fixed(_Strict):
    """Always ``value`` minutes."""

    kind: Literal["fixed"] = "fixed"
    value: float = Field(ge=0.0)

    def sample(self, rng: np.random.Generator, size: int) -> F64:
        """``size`` draws (minutes)."""
        return np.full(size, self.value, dtype=np.float64)

    def mean(self) -> float:
        """The mean (minutes)."""
        return self.value


class Exponential(_Strict):
    """Exponential with mean ``mean`` minutes (memoryless; the M in M/M/c)."""

    kind: Literal["exponential"] = "exponential"
    mean_min: float = Field(gt=0.0, alias="mean")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def sample(self, rng: np.random.Generator, size: int) -> F64:
        """``size`` draws (minutes)."""
        return rng.exponential(self.mean_min, size)

    def mean(self) -> float:
        """The mean (minutes)."""
        return self.mean_min


class LogNormal(_Strict):
    """Log-normal: ``median x exp(sigma Z)``, Z standard normal (minutes).

    The usual shape of CAD service times (skewed, a long right tail); the mean is
    ``median x exp(sigma^2 / 2)``.
    """

    kind: Literal["lognormal"] = "lognormal"
    median: float = Field(gt=0.0)
    sigma: float = Field(ge=0.0, le=5.0)

    def sample(self, rng: np.random.Generator, size: int) -> F64:
        """``size`` draws (minutes)."""
        return self.median * np.exp(self.sigma * rng.standard_normal(size))

    def mean(self) -> float:
        """The mean (minutes)."""
        return self.median * math.exp(self.sigma**2 / 2.0)


class GammaDist(_Strict):
    """Gamma with mean ``mean`` minutes and coefficient of variation ``cv`` (sd / mean).

    ``cv`` 1 is the exponential; below 1 more regular, above 1 more variable.
    """

    kind: Literal["gamma"] = "gamma"
    mean_min: float = Field(gt=0.0, alias="mean")
    cv: float = Field(gt=0.0, le=20.0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def sample(self, rng: np.random.Generator, size: int) -> F64:
        """``size`` draws (minutes)."""
        shape = 1.0 / self.cv**2
        return rng.gamma(shape, self.mean_min / shape, size)

    def mean(self) -> float:
        """The mean (minutes)."""
        return self.mean_min


class Empirical(_Strict):
    """An empirical distribution as a quantile table (minutes).

    ``quantiles[i]`` is the quantile at probability ``i / (len(quantiles) - 1)``: the
    first value is the minimum, the last the maximum. Draws are by inversion with
    linear interpolation between neighbouring quantiles (the distribution is piecewise
    uniform between them), so every listed quantile is reproduced exactly and the mean
    is the trapezoid mean of the table. ``n`` is the number of observations behind it.
    """

    kind: Literal["empirical"] = "empirical"
    quantiles: tuple[float, ...] = Field(min_length=2)
    n: int | None = Field(default=None, ge=1)

    @field_validator("quantiles")
    @classmethod
    def _ordered(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        if any(not math.isfinite(x) or x < 0 for x in v):
            raise ValueError("quantiles must be finite and not negative (minutes)")
        if any(b < a for a, b in itertools.pairwise(v)):
            raise ValueError("quantiles must not decrease")
        return v

    def sample(self, rng: np.random.Generator, size: int) -> F64:
        """``size`` draws (minutes)."""
        q = np.asarray(self.quantiles, dtype=np.float64)
        k = len(q) - 1
        u = rng.random(size) * k
        i = np.minimum(u.astype(np.int64), k - 1)
        frac = u - i
        return np.asarray(q[i] + frac * (q[i + 1] - q[i]), dtype=np.float64)

    def mean(self) -> float:
        """The mean (minutes): the trapezoid mean of the table."""
        q = np.asarray(self.quantiles, dtype=np.float64)
        return float(((q[:-1] + q[1:]) / 2.0).mean())

    def quantile(self, p: float) -> float:
        """The quantile at probability ``p`` (interpolated; minutes)."""
        q = np.asarray(self.quantiles, dtype=np.float64)
        return float(np.interp(p, np.linspace(0.0, 1.0, len(q)), q))


Distribution: TypeAlias = Annotated[
    Fixed | Exponential | LogNormal | GammaDist | Empirical, Field(discriminator="kind")
]
"""A duration distribution (minutes), tagged by ``kind``."""


# ---------------------------------------------------------------- geography


class SyntheticDistrict(_Strict):
    """A district of the synthetic layout: a square of ``area_km2`` square kilometres."""

    name: str = Field(min_length=1, max_length=80)
    area_km2: float = Field(gt=0.0, le=5000.0)


class SyntheticLayout(_Strict):
    """Districts as squares on a grid, filled row by row from the north-west.

    Each district is a square of its area centred in a grid cell; cells are as large
    as the largest square, so neighbouring districts are a cell apart and cross-district
    backup travels a realistic distance. Calls are uniform within their square.
    """

    layout: Literal["synthetic"] = "synthetic"
    districts: tuple[SyntheticDistrict, ...] = Field(min_length=1)
    columns: int | None = Field(
        default=None, ge=1, description="grid columns (default: ceil(sqrt(districts)))"
    )

    @property
    def names(self) -> tuple[str, ...]:
        """District names, in order."""
        return tuple(d.name for d in self.districts)


class GeoJsonLayout(_Strict):
    """District polygons from a GeoJSON file, projected to metres.

    ``crs`` overrides the file's declared CRS (RFC 7946 files without one are WGS84
    longitude/latitude). ``projected_crs`` must be a projected CRS in metres: a UTM
    zone (``EPSG:326zz``, north) or a state plane in metres (Maryland ``EPSG:26985``).
    ``districts`` lists the districts used, in order, by their ``name_field`` value.
    """

    layout: Literal["geojson"] = "geojson"
    file: Path
    name_field: str = "name"
    crs: str | None = None
    projected_crs: str = Field(pattern=r"^EPSG:\d{4,6}$")
    districts: tuple[str, ...] = Field(min_length=1)

    @property
    def names(self) -> tuple[str, ...]:
        """District names, in order."""
        return self.districts


Geography: TypeAlias = Annotated[SyntheticLayout | GeoJsonLayout, Field(discriminator="layout")]
"""The districts: a synthetic layout or a GeoJSON file."""


# ---------------------------------------------------------------- shifts, staffing


class Shift(_Strict):
    """A shift: local start time ``HH:MM`` and length in hours (tours may overlap)."""

    name: str = Field(min_length=1, max_length=40)
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    hours: float = Field(gt=0.0, le=24.0)

    @property
    def start_minute(self) -> int:
        """Minutes after local midnight."""
        h, m = self.start.split(":")
        return int(h) * 60 + int(m)


# ---------------------------------------------------------------- calls


Mix: TypeAlias = dict[int, float]


def _check_mix(v: int | Mix, what: str) -> int | Mix:
    if isinstance(v, dict):
        if not v:
            raise ValueError(f"the {what} mix is empty")
        if any(k < 1 for k in v) or any(w < 0 for w in v.values()) or sum(v.values()) <= 0:
            raise ValueError(f"a {what} mix maps values >= 1 to weights >= 0 with a positive sum")
    elif v < 1:
        raise ValueError(f"{what} must be >= 1")
    return v


class CallTypeSpec(_Strict):
    """One call type of a generated stream.

    ``share`` is a relative weight (normalised over types). ``priority`` and
    ``units_needed`` are a number or a mix ``{value: weight}``. ``on_scene`` (minutes,
    per unit sent) falls back to the calibration file when absent.
    """

    name: str = Field(min_length=1, max_length=80)
    share: float = Field(gt=0.0)
    priority: int | Mix
    units_needed: int | Mix = 1
    on_scene: Distribution | None = None

    @field_validator("priority")
    @classmethod
    def _priority(cls, v: int | Mix) -> int | Mix:
        return _check_mix(v, "priority")

    @field_validator("units_needed")
    @classmethod
    def _units(cls, v: int | Mix) -> int | Mix:
        return _check_mix(v, "units_needed")


class GenerateCalls(_Strict):
    """Calls generated as a Poisson process by local hour and weekday.

    The expected calls in a local hour ``h`` of weekday ``d`` are ``per_day x
    hourly[h] / sum(hourly) x weekday[d] / mean(weekday)``; counts are Poisson per hour,
    times uniform within it. Districts are drawn by ``district_weights`` (default:
    proportional to area), positions uniformly within the district. Fields left out
    (``per_day``, profiles, ``types``) come from the calibration file.
    """

    mode: Literal["generate"] = "generate"
    per_day: float | None = Field(default=None, gt=0.0)
    hourly_profile: tuple[float, ...] | None = Field(default=None, min_length=24, max_length=24)
    weekday_profile: tuple[float, ...] | None = Field(default=None, min_length=7, max_length=7)
    district_weights: dict[str, float] | None = None
    types: tuple[CallTypeSpec, ...] | None = None
    max_types: int = Field(
        default=40, ge=1, description="from a calibration: the most frequent types kept"
    )

    @field_validator("hourly_profile", "weekday_profile")
    @classmethod
    def _profile(cls, v: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if v is not None and (min(v) < 0 or sum(v) <= 0):
            raise ValueError("profile weights must be >= 0 with a positive sum")
        return v

    @model_validator(mode="after")
    def _unique_types(self) -> GenerateCalls:
        if self.types is not None:
            names = [t.name for t in self.types]
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise LocatedErrors([(("types",), f"call type listed twice: {', '.join(dup)}")])
        return self


class ReplayCalls(_Strict):
    """Calls replayed from history: a CAD export (``file``) or the stored calls.

    ``file`` is read with the importer's reader in ``format`` (the built-in ``cad`` by
    default), in memory; without ``file`` the command line reads the stored calls.
    Only ``agency`` calls are kept (all when null); officer-initiated calls are left
    out unless ``include_officer_initiated``. A call's recorded call-taking time
    (received -> queued) and on-scene time are used when present and plausible
    (``use_recorded_*``), else drawn from the scenario's distributions. Calls without
    coordinates get a position drawn uniformly in their district, or in a district
    drawn by volume when the district is missing or unknown; both are counted.
    """

    mode: Literal["replay"] = "replay"
    file: Path | None = None
    format: str = "cad"
    agency: str | None = "POLICE"
    include_officer_initiated: bool = False
    use_recorded_call_taking: bool = True
    use_recorded_on_scene: bool = True
    default_priority: int = Field(default=3, ge=1)
    units_needed: int = Field(default=1, ge=1)
    units_needed_by_type: dict[str, int] = Field(default_factory=dict)

    @field_validator("units_needed_by_type")
    @classmethod
    def _units(cls, v: dict[str, int]) -> dict[str, int]:
        if any(n < 1 for n in v.values()):
            raise ValueError("units needed must be >= 1")
        return v


CallsSpec: TypeAlias = Annotated[GenerateCalls | ReplayCalls, Field(discriminator="mode")]


# ---------------------------------------------------------------- rules, targets


class DispatchSpec(_Strict):
    """The engine's dispatch rules (``DispatchRules``), with the same defaults.

    speed_kmh: straight-line speed (km/h) before circuity; circuity: network / straight
    distance; turnout_min: dispatch to rolling (minutes); backup_after_min: a call
    waiting this long may take the nearest free unit of any district (null: never);
    proactive_rate_per_hour: an idle unit starts officer-initiated activity at this
    Poisson rate (per hour); proactive_mean_min: mean duration (minutes, exponential);
    proactive_yields_to_priority: calls of this priority or higher (smaller number)
    interrupt proactive work; priority_speed_factor: factor on speed_kmh for calls of
    priority 1, 2, ... (``[1.6]``: priority-1 units drive 1.6 times as fast; priorities
    not listed keep speed_kmh); preempt_priority: calls of this priority or higher that
    find no free unit in their district take the nearest unit of the district on scene
    at a lower-priority call, which goes back to the queue (0: never).
    """

    speed_kmh: float = Field(default=40.0, gt=0.0, le=200.0)
    circuity: float = Field(default=1.3, ge=1.0, le=5.0)
    turnout_min: float = Field(default=0.5, ge=0.0)
    backup_after_min: float | None = Field(default=5.0, ge=0.0)
    proactive_rate_per_hour: float = Field(default=0.0, ge=0.0)
    proactive_mean_min: float = Field(default=20.0, gt=0.0)
    proactive_yields_to_priority: int = Field(default=99, ge=0)
    priority_speed_factor: tuple[Annotated[float, Field(gt=0.0, le=5.0)], ...] = Field(
        default=(), max_length=20
    )
    preempt_priority: int = Field(default=0, ge=0)


class OfficerTime(_Strict):
    """Officer time: the administrative allowance (share of on-duty time, 0-1)."""

    admin_allowance: float = Field(default=0.10, ge=0.0, lt=1.0)


class Targets(_Strict):
    """The plan's two numbers: P1 reached within ``p1_target_min`` minutes for at least
    ``p1_share`` of calls, and a ``proactive_share`` of available time (both 0-1)."""

    p1_target_min: float = Field(default=10.0, gt=0.0)
    p1_share: float = Field(default=0.90, ge=0.0, le=1.0)
    proactive_share: float = Field(default=1.0 / 3.0, ge=0.0, le=1.0)


# ---------------------------------------------------------------- the scenario


class Scenario(_Strict):
    """A validated scenario file. See the module docstring and ``docs/response.md``."""

    schema_version: int
    name: str = Field(min_length=1, max_length=120)
    description: str = ""
    seed: int = Field(default=0, ge=0)
    replications: int = Field(default=10, ge=1, le=10_000)
    horizon_days: float | None = Field(default=None, gt=0.0, le=3660.0)
    warmup_days: float = Field(default=1.0, ge=0.0)
    timezone: IanaTimeZone = "America/New_York"
    start_date: date | None = None
    geography: Geography
    shifts: tuple[Shift, ...] = Field(min_length=1)
    staffing: dict[str, tuple[int, ...]]
    calls: CallsSpec
    calibration: Path | None = None
    call_taking: Distribution
    dispatch_delay: Distribution = Fixed(value=0.0)
    dispatch: DispatchSpec = DispatchSpec()
    officer_time: OfficerTime = OfficerTime()
    targets: Targets = Targets()

    @field_validator("schema_version")
    @classmethod
    def _schema(cls, v: int) -> int:
        if v != SCHEMA_VERSION:
            raise ValueError(f"this version reads schema_version {SCHEMA_VERSION}, not {v}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        problems: list[tuple[Loc, str]] = []
        names = self.geography.names
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            problems.append((("geography", "districts"), f"district listed twice: {dup}"))
        shift_names = [s.name for s in self.shifts]
        if len(set(shift_names)) != len(shift_names):
            problems.append((("shifts",), "a shift name appears twice"))
        for d in self.staffing:
            if d not in names:
                problems.append(
                    (("staffing", d), f"{d!r} is not a district (known: {', '.join(names)})")
                )
        for d in names:
            if d not in self.staffing:
                problems.append((("staffing",), f"no staffing row for district {d!r}"))
        for d, row in self.staffing.items():
            if len(row) != len(self.shifts):
                problems.append(
                    (
                        ("staffing", d),
                        f"{len(row)} numbers for {len(self.shifts)} shifts "
                        f"({', '.join(shift_names)})",
                    )
                )
            if any(u < 0 for u in row):
                problems.append((("staffing", d), "units on duty cannot be negative"))
        if isinstance(self.calls, GenerateCalls):
            g = self.calls
            if self.start_date is None:
                problems.append((("start_date",), "generated calls need a start_date"))
            if self.horizon_days is None:
                problems.append((("horizon_days",), "generated calls need a horizon_days"))
            if self.calibration is None:
                for f in ("per_day", "hourly_profile", "weekday_profile", "types"):
                    if getattr(g, f) is None:
                        problems.append(
                            (("calls", f), f"{f} is required without a calibration file")
                        )
                for i, t in enumerate(g.types or ()):
                    if t.on_scene is None:
                        problems.append(
                            (
                                ("calls", "types", i, "on_scene"),
                                "on_scene is required without a calibration file",
                            )
                        )
            for d in g.district_weights or {}:
                if d not in names:
                    problems.append((("calls", "district_weights", d), f"{d!r} is not a district"))
        if self.horizon_days is not None and self.warmup_days >= self.horizon_days:
            problems.append((("warmup_days",), "the warm-up must be shorter than the horizon"))
        if problems:
            raise LocatedErrors(problems)
        return self

    # ------------------------------------------------------------ derived views

    @property
    def district_names(self) -> tuple[str, ...]:
        """District names, in order (index = the engine's district number)."""
        return self.geography.names

    @property
    def shift_names(self) -> tuple[str, ...]:
        """Shift names, in order (index = the engine's shift number)."""
        return tuple(s.name for s in self.shifts)

    def staffing_matrix(self) -> npt.NDArray[np.int64]:
        """Units on duty as a (districts x shifts) integer array."""
        return np.asarray([self.staffing[d] for d in self.district_names], dtype=np.int64).reshape(
            len(self.district_names), len(self.shifts)
        )

    def with_staffing(self, units: npt.ArrayLike | dict[str, tuple[int, ...]]) -> Scenario:
        """A copy with other staffing: a (districts x shifts) array or a table by name."""
        if isinstance(units, dict):
            table = {k: tuple(int(u) for u in v) for k, v in units.items()}
        else:
            m = np.asarray(units)
            if m.shape != (len(self.district_names), len(self.shifts)):
                raise ValueError(
                    f"staffing must be {len(self.district_names)} x {len(self.shifts)}, "
                    f"not {m.shape}"
                )
            if not np.issubdtype(m.dtype, np.integer) or (m < 0).any():
                raise ValueError("staffing must be non-negative integers")
            table = {d: tuple(int(u) for u in m[i]) for i, d in enumerate(self.district_names)}
        return Scenario.model_validate({**self.model_dump(by_alias=True), "staffing": table})

    def with_changes(self, **changes: Any) -> Scenario:
        """A validated copy with top-level fields replaced (e.g. ``seed=7``)."""
        return Scenario.model_validate({**self.model_dump(by_alias=True), **changes})

    def resolve_paths(self, base: Path) -> Scenario:
        """A copy whose relative file paths are taken relative to ``base`` (a folder)."""
        data = self.model_dump(by_alias=True)

        def fix(p: Any) -> Any:
            return None if p is None else (Path(p) if Path(p).is_absolute() else base / p)

        data["calibration"] = fix(data["calibration"])
        if data["geography"]["layout"] == "geojson":
            data["geography"]["file"] = fix(data["geography"]["file"])
        if data["calls"]["mode"] == "replay":
            data["calls"]["file"] = fix(data["calls"]["file"])
        return Scenario.model_validate(data)


# ---------------------------------------------------------------- calibration file


class TypeStats(_Strict):
    """One call type in the calibration data: count, share and priority mix."""

    code: str
    n: int = Field(ge=0)
    share: float = Field(ge=0.0, le=1.0)
    priority: int = Field(ge=1, description="the most frequent priority")
    priority_mix: dict[int, float]


class PriorityStats(_Strict):
    """Observed intervals (minutes) of one priority: medians and 90th percentiles over
    the usable values (``n_*``: how many were usable)."""

    priority: int
    n: int = Field(ge=0)
    share: float = Field(ge=0.0, le=1.0)
    n_call_to_dispatch: int = 0
    call_to_dispatch_median: float | None = None
    call_to_dispatch_p90: float | None = None
    n_dispatch_to_arrival: int = 0
    dispatch_to_arrival_median: float | None = None
    dispatch_to_arrival_p90: float | None = None
    n_call_to_arrival: int = 0
    call_to_arrival_median: float | None = None
    call_to_arrival_p90: float | None = None
    call_taking_median: float | None = None
    queue_to_dispatch_median: float | None = None


class OnSceneTables(_Strict):
    """On-scene time (minutes) by call type, by priority and overall (the fallbacks)."""

    by_type: dict[str, Empirical] = Field(default_factory=dict)
    by_priority: dict[int, Empirical] = Field(default_factory=dict)
    overall: Empirical | None = None

    def lookup(self, code: str | None, priority: int | None) -> Empirical | None:
        """The table for a call type, else its priority, else all calls (None: no data)."""
        if code is not None and code in self.by_type:
            return self.by_type[code]
        if priority is not None and priority in self.by_priority:
            return self.by_priority[priority]
        return self.overall


class ProactiveStats(_Strict):
    """Officer-initiated activity in the calibration data (the proactive work)."""

    n: int = Field(ge=0)
    per_day: float = Field(ge=0.0)
    duration: Empirical | None = None


class Calibration(_Strict):
    """Empirical distributions of one agency's calls, written by
    :func:`smart_policing.response.sim.calibrate.calibrate` (``response calibrate``).

    Times in minutes; profiles are shares (``hourly_profile`` sums to 1 over local
    hours 0-23, ``weekday_profile`` is relative with mean 1, Monday first). ``counts``
    and ``impossible`` say what was used and what was set aside: an interval that is
    negative or beyond its plausibility limit (``model.calls.INTERVALS``) is counted
    under its name and never used.
    """

    schema_version: int
    source: str
    timezone: str
    agency: str | None
    first_day: date
    last_day: date
    days: float = Field(gt=0.0)
    min_count: int = Field(ge=1)
    counts: dict[str, int]
    impossible: dict[str, int]
    missing: dict[str, int]
    calls_per_day: float = Field(ge=0.0)
    hourly_profile: tuple[float, ...] = Field(min_length=24, max_length=24)
    weekday_profile: tuple[float, ...] = Field(min_length=7, max_length=7)
    priorities: tuple[PriorityStats, ...]
    types: tuple[TypeStats, ...]
    on_scene: OnSceneTables
    call_taking: Empirical | None = None
    queue_to_dispatch: dict[int, Empirical] = Field(default_factory=dict)
    turnout: Empirical | None = None
    travel: Empirical | None = None
    dispatch_to_arrival: dict[int, Empirical] = Field(default_factory=dict)
    proactive: ProactiveStats

    @field_validator("schema_version")
    @classmethod
    def _schema(cls, v: int) -> int:
        if v != SCHEMA_VERSION:
            raise ValueError(f"this version reads schema_version {SCHEMA_VERSION}, not {v}")
        return v

    def priority_stats(self, priority: int) -> PriorityStats | None:
        """The observed statistics of one priority (None if absent)."""
        return next((p for p in self.priorities if p.priority == priority), None)


def load_calibration(path: str | Path) -> Calibration:
    """Read a calibration file (YAML or JSON); errors name the file, line and field."""
    return load_model(Path(path), Calibration)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; relative paths in it are relative to its folder.

    Raises :class:`~smart_policing.datafiles.DataFileError` naming the file, line and
    field of every problem.
    """
    p = Path(path)
    return load_model(p, Scenario).resolve_paths(p.resolve().parent)


def _scenario_folder() -> Path:
    return Path(__file__).resolve().parent / "data"


def builtin_scenarios() -> dict[str, Path]:
    """Scenario files shipped with the package, by name (file stem)."""
    folder = _scenario_folder()
    return {p.name.removesuffix(".scenario.yaml"): p for p in folder.glob("*.scenario.yaml")}


def builtin_scenario_path(name: str) -> Path:
    """The shipped scenario file ``name`` (e.g. ``synthetic-city``)."""
    known = builtin_scenarios()
    if name not in known:
        raise KeyError(f"no shipped scenario {name!r} (known: {', '.join(sorted(known))})")
    return known[name]
