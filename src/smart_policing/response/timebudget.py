"""The officer time budget per shift (R7): committed, proactive, administrative, remainder.

:func:`time_budget` takes calls (a Polars frame of canonical call columns) and
returns a :class:`TimeBudget`: how the on-duty time of patrol units was spent, per
shift (clock shifts: :class:`ShiftDefinition`, default three 8-hour shifts from 07:00,
15:00 and 23:00 local time), per district where the calls carry one, and overall.
Definitions are those of ``docs/response.md``; all times are **hours** unless a name
says otherwise. No I/O, no clock. The method:

1. **Calls.** Calls of ``agencies`` (default ``POLICE``; a call without an agency
   value is kept). *Citizen-initiated* calls (calls for service) commit units;
   *officer-initiated* calls (``self_initiated`` or ``source_channel`` =
   ``officer_initiated``) are the officer's own proactive work.
2. **Time of a call.** A unit's time on a call is its dispatch-to-clear time,
   ``cleared_at - dispatched_at`` (travel plus on scene; in the CAD import
   ``cleared_at`` is when the incident first closes), when ``0 < t <=
   max_officer_hours`` (default 12 h): :func:`smart_policing.triage.replay.officer_seconds`,
   the same rule as the diversion replay. Otherwise (missing, zero or negative, too
   long) the call gets the median of the plausible times of calls of the same call type
   and kind (citizen / officer-initiated), else the median of its kind; such calls are
   counted (:attr:`BudgetInputs.fallback_calls`).
3. **Calls that commit nobody.** A citizen call never dispatched commits no unit, nor
   does one *closed without a unit*: in unit-level data, a call without a unit id; in
   an export without unit ids, a call with a dispatch time but no later unit stage (no
   acknowledgement, en route or arrival: e.g. animal calls handed to animal control).
   Both are counted.
4. **Shift of a call.** The call is charged to the clock shift in which its work
   starts (dispatch; an officer-initiated call without a dispatch time: its creation),
   in local time (``timezone``). A *shift-day* is one shift on one date (a night shift
   from 23:00 belongs to the date it starts). Work carried past the end of the shift
   (holdover) is charged to the shift that dispatched it, as overtime is. The CAD
   ``Shift`` column (a team letter of a rotation) is not used.
5. **On-duty time**, by one of two methods; :attr:`TimeBudget.method` says which and
   :attr:`TimeBudget.method_reason` why:

   * ``unit`` (unit-level records, e.g. the synthetic city's ``Primary_Unit``): chosen
     when at least ``min_unit_coverage`` (default 50%) of the dispatched citizen calls
     carry a unit id. Without a staffing table, the units on duty in a shift-day are
     **the distinct units seen in it** (with at least one call starting in it); each is
     placed in the district of most of its calls there. This *undercounts* units that
     took no call (so overstates the committed share) and counts a unit once even if it
     worked only part of the shift; only primary units are recorded, so backup work is
     missing (understating it). With ``staffing`` (or ``units_per_shift``), on-duty units
     come from it instead.
     Committed and proactive time are charged to the unit's district.
   * ``estimate`` (no unit ids, e.g. the real CAD export): on-duty units come from
     ``units_per_shift`` (city-wide) or ``staffing`` (per shift, per district if
     known); committed time is the call's time **times** ``units_per_call`` (default
     1.0: a **lower bound**, the export records no backup units); charged to the call's
     district. Without staffing the on-duty figures are ``None``: committed and
     proactive hours are still reported.

   On-duty unit-hours are units x the shift-day's real length (a night shift across the
   autumn clock change lasts 9 hours).
6. **Budget** of a group (:class:`BudgetRow`): ``admin = on-duty x admin_allowance``
   (default 0.10), ``available = on-duty - admin``, ``remainder = available -
   committed - proactive`` (uncommitted time not logged as officer-initiated work; may
   be negative), and the **proactive share** ``1 - committed / available``
   (docs/response.md: officer-initiated work and uncommitted time count as proactive),
   compared with ``proactive_target`` (default 1/3, seed 001) and
   ``alternative_target`` (default 0.40, later plans).

The period is every shift-day from ``start`` to ``end`` (shift dates; default: the
shift-days of the first and last call); calls outside it are counted and left out.
The first and last shift-days may be observed only in part.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from smart_policing.datafiles import LocatedErrors
from smart_policing.response.metrics import (
    AgencyCount,
    agency_column,
    officer_initiated_column,
    select_agencies,
)
from smart_policing.timezones import IanaTimeZone
from smart_policing.triage.replay import officer_seconds

__all__ = [
    "BALTIMORE_SHIFTS",
    "STAFFING_SCHEMA_VERSION",
    "BudgetInputs",
    "BudgetRow",
    "Method",
    "ShiftDefinition",
    "Staffing",
    "StaffingRow",
    "TimeBudget",
    "TimeBudgetOptions",
    "budget_records",
    "shift_of",
    "time_budget",
]

Method = Literal["unit", "estimate"]
"""How on-duty time is known (see the module docstring)."""

STAFFING_SCHEMA_VERSION = 1
"""The only staffing-file ``schema_version`` this code reads."""

_HOUR = 3600.0


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShiftDefinition(_Model):
    """One clock shift: a name, a local start time and a length in hours."""

    name: str = Field(min_length=1, max_length=32)
    start: time
    """Local wall-clock start, ``"HH:MM"`` (quote it in YAML: unquoted ``07:00`` is a
    base-60 number there)."""
    hours: float = Field(gt=0, le=24)
    """Length in wall-clock hours (whole minutes)."""

    @field_validator("start", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        if isinstance(value, int | float):
            raise ValueError(
                "write the start time as text, e.g. '07:00' (in YAML, unquoted 07:00 is "
                "read as a base-60 number)"
            )
        return value

    @field_validator("hours")
    @classmethod
    def _whole_minutes(cls, value: float) -> float:
        if abs(value * 60 - round(value * 60)) > 1e-9:
            raise ValueError("a shift lasts a whole number of minutes")
        return value

    @property
    def start_seconds(self) -> int:
        """Start as seconds after local midnight."""
        return self.start.hour * 3600 + self.start.minute * 60 + self.start.second


BALTIMORE_SHIFTS: tuple[ShiftDefinition, ...] = (
    ShiftDefinition(name="day", start=time(7), hours=8),
    ShiftDefinition(name="evening", start=time(15), hours=8),
    ShiftDefinition(name="night", start=time(23), hours=8),
)
"""Three 8-hour shifts from 07:00, 15:00 and 23:00 local time (Baltimore-like)."""


def _check_shifts(shifts: tuple[ShiftDefinition, ...]) -> tuple[ShiftDefinition, ...]:
    """Shifts sorted by start; they must cover the day once (no gap, no overlap)."""
    if not shifts:
        raise ValueError("at least one shift is needed")
    names = [s.name for s in shifts]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"shift names repeat: {', '.join(dupes)}")
    ordered = tuple(sorted(shifts, key=lambda s: s.start_seconds))
    total = sum(round(s.hours * 60) for s in ordered)
    if total != 24 * 60:
        raise ValueError(f"shifts must cover 24 hours exactly, these cover {total / 60:g}")
    for a, b in zip(ordered, ordered[1:] + ordered[:1], strict=True):
        end = (a.start_seconds + round(a.hours * 60) * 60) % 86400
        if end != b.start_seconds:
            raise ValueError(
                f"shift {a.name!r} ends at {end // 3600:02d}:{end % 3600 // 60:02d} but the "
                f"next one, {b.name!r}, starts at {b.start:%H:%M}: shifts must follow each other"
            )
    return ordered


def _district(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().upper()
    return value or None


class StaffingRow(_Model):
    """Units on duty in one shift (in one district, or city-wide when ``district`` is unset)."""

    shift: str
    district: str | None = None
    """District name as imported (compared upper case)."""
    units: float = Field(ge=0)
    """Units (cars) on duty during the shift."""

    @field_validator("district")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return _district(value)


def _check_staffing(rows: tuple[StaffingRow, ...]) -> tuple[StaffingRow, ...]:
    """Each (shift, district) once; a district on every row or on none."""
    seen: set[tuple[str, str | None]] = set()
    for i, r in enumerate(rows):
        if (r.shift, r.district) in seen:
            where = f" in {r.district}" if r.district else ""
            raise LocatedErrors([((i, "shift"), f"shift {r.shift!r}{where} is given twice")])
        seen.add((r.shift, r.district))
    with_district = {r.district is not None for r in rows}
    if len(with_district) > 1:
        raise ValueError("give a district on every row or on none")
    return rows


class Staffing(_Model):
    """A staffing file: units on duty per shift (and district), and optionally the shifts.

    ::

        schema_version: 1
        shifts:                 # optional; default: BALTIMORE_SHIFTS
          - {name: day, start: "07:00", hours: 8}
          - {name: evening, start: "15:00", hours: 8}
          - {name: night, start: "23:00", hours: 8}
        units:
          - {shift: day, district: NORTHERN, units: 6}
          - ...
    """

    schema_version: int
    shifts: tuple[ShiftDefinition, ...] = BALTIMORE_SHIFTS
    units: tuple[StaffingRow, ...] = Field(min_length=1)

    @field_validator("schema_version")
    @classmethod
    def _schema(cls, value: int) -> int:
        if value != STAFFING_SCHEMA_VERSION:
            raise ValueError(
                f"this version reads schema_version {STAFFING_SCHEMA_VERSION}, not {value}"
            )
        return value

    @field_validator("shifts")
    @classmethod
    def _shifts(cls, value: tuple[ShiftDefinition, ...]) -> tuple[ShiftDefinition, ...]:
        return _check_shifts(value)

    @field_validator("units")
    @classmethod
    def _rows(cls, value: tuple[StaffingRow, ...]) -> tuple[StaffingRow, ...]:
        return _check_staffing(value)

    @model_validator(mode="after")
    def _known_shifts(self) -> Staffing:
        _check_staffing_shifts(self.units, self.shifts, "units")
        return self


def _check_staffing_shifts(
    rows: tuple[StaffingRow, ...], shifts: tuple[ShiftDefinition, ...], field: str
) -> None:
    """Every row names a known shift; every district (or the city) has every shift.
    Problems are located at ``field`` (the rows' field in the model validated)."""
    names = [s.name for s in shifts]
    problems: list[tuple[tuple[str | int, ...], str]] = [
        ((field, i, "shift"), f"unknown shift {r.shift!r} (shifts: {', '.join(names)})")
        for i, r in enumerate(rows)
        if r.shift not in names
    ]
    for d in dict.fromkeys(r.district for r in rows):
        missing = [n for n in names if not any(r.shift == n and r.district == d for r in rows)]
        if missing:
            where = f"district {d}" if d else "the city"
            problems.append(((field,), f"staffing for {where} lacks shift(s) {', '.join(missing)}"))
    if problems:
        raise LocatedErrors(problems)


class TimeBudgetOptions(_Model):
    """Shifts, staffing and the assumptions of the budget (see the module docstring)."""

    timezone: IanaTimeZone = "America/New_York"
    """IANA time zone of the shift clock."""
    agencies: tuple[str, ...] | None = ("POLICE",)
    """Agencies counted (upper case); ``None``: all."""
    shifts: tuple[ShiftDefinition, ...] = BALTIMORE_SHIFTS
    """Clock shifts covering the day once (sorted by start on validation)."""
    method: Literal["auto", "unit", "estimate"] = "auto"
    min_unit_coverage: float = Field(default=0.5, gt=0, le=1)
    """``auto`` picks ``unit`` when at least this share of dispatched citizen calls
    carries a unit id."""
    units_per_shift: float | None = Field(default=None, ge=0)
    """Units on duty in every shift, city-wide (either method; exclusive with ``staffing``)."""
    staffing: tuple[StaffingRow, ...] | None = None
    """Units on duty per shift (and district)."""
    units_per_call: float = Field(default=1.0, gt=0)
    """Units committed per citizen call (``estimate`` and ``unit``: only the primary
    unit is recorded); 1.0 is a lower bound."""
    admin_allowance: float = Field(default=0.10, ge=0, lt=1)
    """Share of on-duty time for breaks, reports, court (docs/response.md)."""
    proactive_target: float = Field(default=1 / 3, ge=0, le=1)
    """Target proactive share (seed 001: one third)."""
    alternative_target: float | None = Field(default=0.40, ge=0, le=1)
    """A second target to compare with (later plans: 40%); ``None`` to omit."""
    max_officer_hours: float = Field(default=12.0, gt=0)
    """Longest plausible dispatch-to-clear time of one call, in hours."""
    start: date | None = None
    """First shift date of the period (default: the first call's)."""
    end: date | None = None
    """Last shift date of the period, inclusive (default: the last call's)."""

    @field_validator("agencies")
    @classmethod
    def _agencies(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if value is None else tuple(a.strip().upper() for a in value)

    @field_validator("shifts")
    @classmethod
    def _shifts(cls, value: tuple[ShiftDefinition, ...]) -> tuple[ShiftDefinition, ...]:
        return _check_shifts(value)

    @field_validator("staffing")
    @classmethod
    def _staffing(cls, value: tuple[StaffingRow, ...] | None) -> tuple[StaffingRow, ...] | None:
        return None if value is None else _check_staffing(value)

    @model_validator(mode="after")
    def _consistent(self) -> TimeBudgetOptions:
        if self.units_per_shift is not None and self.staffing is not None:
            raise ValueError("give units_per_shift or staffing, not both")
        if self.staffing is not None:
            _check_staffing_shifts(self.staffing, self.shifts, "staffing")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError("end is before start")
        return self


class BudgetInputs(_Model):
    """What went into the budget, and what was set aside (counts are calls)."""

    calls: int
    """Rows of the input frame."""
    agencies: tuple[str, ...] | None
    agency_calls: int
    """Calls of the counted agencies (or without an agency value)."""
    other_agencies: tuple[AgencyCount, ...]
    citizen_calls: int
    """Citizen-initiated calls of the counted agencies."""
    not_dispatched: int
    """Citizen calls never dispatched: no unit time."""
    without_unit: int
    """Citizen calls dispatched but closed without a unit (module docstring, step 3)."""
    committed_calls: int
    """Citizen calls that committed a unit, in the period."""
    officer_initiated_calls: int
    proactive_calls: int
    """Officer-initiated calls counted as proactive work, in the period (in ``unit``
    mode: those with a unit id)."""
    outside_period: int
    """Calls that would count but start outside the period's shift-days."""
    measured_calls: int
    """Counted calls with a plausible dispatch-to-clear time."""
    fallback_calls: int
    """Counted calls given a median instead (missing, <= 0 or too long)."""
    fallback_kind_median_calls: int
    """Of those, calls whose call type had no plausible time (median of the kind used)."""
    median_committed_minutes: float | None
    """Median time of a committed call after the fallback, one unit, in minutes."""
    unit_coverage: float | None
    """Share of dispatched citizen calls with a unit id (``None`` without the column)."""


class BudgetRow(_Model):
    """The time budget of a shift (``None``: all shifts) in a district (``None``: all).

    Hours are unit-hours summed over the period's shift-days. The on-duty figures are
    ``None`` when on-duty time is unknown (``estimate`` without staffing, or a district
    the staffing does not name).
    """

    shift: str | None
    district: str | None
    shift_days: int
    """Shift-days in the period (one shift on one date)."""
    unit_shifts: float | None
    """Units on duty summed over the shift-days."""
    mean_units: float | None
    """Mean units on duty per shift-day."""
    on_duty_hours: float | None
    admin_hours: float | None
    available_hours: float | None
    """On-duty minus the administrative allowance."""
    committed_hours: float
    """Unit time on citizen-initiated calls (dispatch to clear, x units per call)."""
    committed_calls: int
    proactive_hours: float
    """Unit time on officer-initiated calls (logged proactive work)."""
    proactive_calls: int
    remainder_hours: float | None
    """Available minus committed minus logged proactive time (may be negative)."""
    committed_share: float | None
    """``committed / available`` (0-1, may exceed 1)."""
    proactive_share: float | None
    """``1 - committed / available`` (docs/response.md)."""
    officer_initiated_share: float | None
    """``proactive / available``: the logged part of the proactive share."""
    meets_target: bool | None
    meets_alternative_target: bool | None


class TimeBudget(_Model):
    """The result of :func:`time_budget`."""

    options: TimeBudgetOptions
    method: Method
    method_reason: str
    on_duty_source: Literal["seen-units", "staffing", "units-per-shift"] | None
    """Where on-duty units come from; ``None``: unknown (no staffing given)."""
    period_start: date | None
    """First shift date of the period."""
    period_end: date | None
    inputs: BudgetInputs
    overall: BudgetRow
    shifts: tuple[BudgetRow, ...]
    """One per shift (in start order), all districts."""
    districts: tuple[BudgetRow, ...]
    """One per district, all shifts (empty when the calls carry no district)."""
    shift_districts: tuple[BudgetRow, ...]
    """One per shift and district."""


# ---------------------------------------------------------------- shifts


def shift_of(local: pl.Expr, shifts: tuple[ShiftDefinition, ...]) -> tuple[pl.Expr, pl.Expr]:
    """Shift date and shift name of naive local wall-clock times ``local``.

    ``shifts`` must be sorted by start and cover the day (:class:`TimeBudgetOptions`
    does both); a time before the first start belongs to the last shift of the day
    before.
    """
    tod = (local - local.dt.truncate("1d")).dt.total_microseconds() / 1e6
    started = pl.sum_horizontal([(tod >= s.start_seconds).cast(pl.Int32) for s in shifts])
    names = [s.name for s in shifts]
    index = pl.when(started == 0).then(len(shifts) - 1).otherwise(started - 1)
    name = index.replace_strict(list(range(len(shifts))), names, return_dtype=pl.String)
    day = local.dt.date() - pl.when(started == 0).then(pl.duration(days=1)).otherwise(
        pl.duration(days=0)
    )
    return day.cast(pl.Date), name


def _windows(
    start: date, end: date, shifts: tuple[ShiftDefinition, ...], timezone: str
) -> pl.DataFrame:
    """Every shift-day from ``start`` to ``end``: shift date, shift, real length (s)."""
    tz = zoneinfo.ZoneInfo(timezone)
    days, names, seconds = [], [], []
    d = start
    while d <= end:
        for s in shifts:
            begin = datetime.combine(d, s.start)
            finish = begin + timedelta(minutes=round(s.hours * 60))
            real = (
                begin.replace(tzinfo=tz).astimezone(UTC),
                finish.replace(tzinfo=tz).astimezone(UTC),
            )
            days.append(d)
            names.append(s.name)
            seconds.append((real[1] - real[0]).total_seconds())
        d += timedelta(days=1)
    return pl.DataFrame(
        {"shift_date": days, "shift": names, "length_s": seconds},
        schema={"shift_date": pl.Date(), "shift": pl.String(), "length_s": pl.Float64()},
    )


# ---------------------------------------------------------------- preparation


def _col_or_null(frame: pl.DataFrame, name: str, dtype: pl.DataType) -> pl.Expr:
    if name in frame.columns:
        return pl.col(name).cast(dtype)
    return pl.lit(None, dtype=dtype)


@dataclass(frozen=True, slots=True)
class _Work:
    """The calls of the counted agencies (internal columns), counts and unit coverage."""

    frame: pl.DataFrame
    counts: dict[str, Any]
    other_agencies: list[AgencyCount]
    unit_coverage: float | None


def _ts(frame: pl.DataFrame, name: str) -> pl.Expr:
    if name in frame.columns:
        return pl.col(name)
    return pl.lit(None, dtype=pl.Datetime("us", "UTC"))


def _prepare(calls: pl.DataFrame, options: TimeBudgetOptions) -> _Work:
    if "received_at" not in calls.columns:
        raise ValueError("calls frame lacks column received_at")
    ts = calls.schema["received_at"]
    if not isinstance(ts, pl.Datetime) or ts.time_zone is None:
        raise ValueError("received_at must be a time-zone-aware Datetime column")
    has_units = "unit_id" in calls.columns
    unit = (_col_or_null(calls, "unit_id", pl.String()).str.strip_chars().replace("", None)).alias(
        "__unit"
    )
    stage_after_dispatch = pl.any_horizontal(
        [_ts(calls, c).is_not_null() for c in ("acknowledged_at", "en_route_at", "on_scene_at")]
    )
    frame = calls.select(
        agency_column(calls),
        officer_initiated_column(calls),
        unit,
        _col_or_null(calls, "call_type_code", pl.String()).alias("__type"),
        _col_or_null(calls, "district", pl.String())
        .str.strip_chars()
        .str.to_uppercase()
        .replace("", None)
        .alias("__district"),
        _ts(calls, "dispatched_at").alias("__dispatched"),
        pl.col("received_at"),
        stage_after_dispatch.alias("__unit_stage"),
        officer_seconds(calls, options.max_officer_hours).alias("__measured"),
    )
    frame, others = select_agencies(frame, options.agencies)
    citizen = ~pl.col("__self")
    dispatched = pl.col("__dispatched").is_not_null()
    cov = frame.filter(citizen & dispatched).select(
        n=pl.len(), with_unit=pl.col("__unit").is_not_null().sum()
    )
    n_disp, n_unit = cov.row(0)
    unit_coverage = (n_unit / n_disp if n_disp else 0.0) if has_units else None
    counts: dict[str, Any] = {
        "agency_calls": frame.height,
        "citizen_calls": int(frame.select(citizen.sum()).item()),
        "officer_initiated_calls": int(frame.select(pl.col("__self").sum()).item()),
        "not_dispatched": int(frame.select((citizen & ~dispatched).sum()).item()),
    }
    return _Work(frame, counts, others, unit_coverage)


def _choose_method(work: _Work, options: TimeBudgetOptions) -> tuple[Method, str]:
    cov, need = work.unit_coverage, options.min_unit_coverage
    if cov is None:
        seen = "the calls have no unit_id column"
    elif cov == 0:
        seen = "no dispatched citizen call carries a unit id"
    else:
        seen = f"{cov:.1%} of dispatched citizen calls carry a unit id"
    if options.method == "unit":
        if not cov:
            raise ValueError(f"method 'unit' needs unit ids on the calls ({seen})")
        return "unit", f"unit-level records requested; {seen}"
    if options.method == "estimate":
        return "estimate", f"estimate requested; {seen}"
    if cov is not None and cov >= need:
        return "unit", f"{seen} (at least {need:.0%}): unit-level records"
    if cov:
        seen = f"only {seen}, fewer than {need:.0%}"
    return "estimate", f"{seen}: estimate from staffing and dispatch-to-clear times"


# ---------------------------------------------------------------- budget


_KEYS = ["shift_date", "shift", "district"]


def _charged(work: _Work, method: Method, options: TimeBudgetOptions) -> tuple[pl.DataFrame, int]:
    """Counted calls with their time (s, after fallback and units per call) and
    shift-day, and the number of citizen calls closed without a unit."""
    frame = work.frame
    citizen = ~pl.col("__self")
    # unit-level: no unit id; export without unit ids: no unit stage after dispatch
    no_unit = pl.col("__unit").is_null() if method == "unit" else ~pl.col("__unit_stage")
    dispatched = pl.col("__dispatched").is_not_null()
    own_counted = ~no_unit if method == "unit" else pl.lit(True)
    counted = pl.when(citizen).then(dispatched & ~no_unit).otherwise(own_counted)
    without_unit = int(frame.select((citizen & dispatched & no_unit).sum()).item())
    frame = frame.filter(counted)
    # fallback: median of the call type and kind, else of the kind
    frame = frame.with_columns(
        __type_median=pl.col("__measured").median().over("__self", "__type"),
        __kind_median=pl.col("__measured").median().over("__self"),
    ).with_columns(
        __seconds=pl.coalesce("__measured", "__type_median", "__kind_median").fill_null(0.0),
    )
    local = (
        pl.coalesce("__dispatched", "received_at")
        .dt.convert_time_zone(options.timezone)
        .dt.replace_time_zone(None)
    )
    day, name = shift_of(local, options.shifts)
    factor = pl.when(pl.col("__self")).then(1.0).otherwise(options.units_per_call)
    charged = frame.with_columns(
        shift_date=day,
        shift=name,
        __charged=pl.col("__seconds") * factor,
    )
    return charged, without_unit


def _home_districts(frame: pl.DataFrame) -> pl.DataFrame:
    """The district of most of each unit's calls in each shift-day (ties: first by name)."""
    return (
        frame.group_by("shift_date", "shift", "__unit", "__district")
        .agg(n=pl.len())
        .sort("n", "__district", descending=[True, False], nulls_last=True)
        .group_by("shift_date", "shift", "__unit", maintain_order=True)
        .first()
        .select("shift_date", "shift", "__unit", district=pl.col("__district"))
    )


@dataclass(frozen=True, slots=True)
class _Cells:
    """Per shift-day and district: units and on-duty seconds (``units``), committed and
    proactive time (``load``)."""

    units: pl.DataFrame
    load: pl.DataFrame
    source: Literal["seen-units", "staffing", "units-per-shift"] | None
    city_wide: bool
    """On-duty units are known for the city only (no district)."""
    staffed: frozenset[str | None] | None
    """Districts a staffing table names (``None``: every district is known)."""


_UNITS_SCHEMA: dict[str, pl.DataType] = {
    "shift_date": pl.Date(),
    "shift": pl.String(),
    "district": pl.String(),
    "units": pl.Float64(),
}


def _cells(
    charged: pl.DataFrame, windows: pl.DataFrame, method: Method, options: TimeBudgetOptions
) -> _Cells:
    if method == "unit":
        homes = _home_districts(charged)
        charged = charged.join(
            homes, on=["shift_date", "shift", "__unit"], how="left", nulls_equal=True
        )
    else:
        charged = charged.with_columns(district=pl.col("__district"))
    load = charged.group_by(_KEYS).agg(
        committed_s=pl.col("__charged").filter(~pl.col("__self")).sum(),
        committed_calls=(~pl.col("__self")).sum(),
        proactive_s=pl.col("__charged").filter(pl.col("__self")).sum(),
        proactive_calls=pl.col("__self").sum(),
    )
    source: Literal["seen-units", "staffing", "units-per-shift"] | None
    staffed: frozenset[str | None] | None = None
    city_wide = False
    if options.staffing is not None:
        table = pl.DataFrame(
            [(r.shift, r.district, r.units) for r in options.staffing],
            schema={"shift": pl.String(), "district": pl.String(), "units": pl.Float64()},
            orient="row",
        )
        units = windows.join(table, on="shift").select(*_KEYS, "units")
        source = "staffing"
        staffed = frozenset(r.district for r in options.staffing)
        city_wide = staffed == frozenset({None})
    elif options.units_per_shift is not None:
        units = windows.select(
            "shift_date",
            "shift",
            district=pl.lit(None, dtype=pl.String),
            units=pl.lit(options.units_per_shift, dtype=pl.Float64),
        )
        source, city_wide = "units-per-shift", True
    elif method == "unit":
        units = charged.group_by(_KEYS).agg(units=pl.col("__unit").n_unique().cast(pl.Float64))
        source = "seen-units"
    else:
        units = pl.DataFrame(schema=_UNITS_SCHEMA)
        source = None
    units = units.join(windows, on=["shift_date", "shift"], how="inner").with_columns(
        on_duty_s=pl.col("units") * pl.col("length_s")
    )
    return _Cells(units, load, source, city_wide, staffed)


def _row(
    shift: str | None,
    district: str | None,
    shift_days: int,
    duty: dict[str, Any] | None,
    load: dict[str, Any],
    options: TimeBudgetOptions,
) -> BudgetRow:
    """One budget row; ``duty`` (units, on-duty seconds) is ``None`` when unknown."""
    committed = float(load.get("committed_s") or 0.0) / _HOUR
    proactive = float(load.get("proactive_s") or 0.0) / _HOUR
    unit_shifts = float(duty.get("units") or 0.0) if duty is not None else None
    on_duty = float(duty.get("on_duty_s") or 0.0) / _HOUR if duty is not None else None
    admin = available = remainder = None
    committed_share = share = oi_share = None
    meets = meets_alt = None
    if on_duty is not None:
        admin = on_duty * options.admin_allowance
        available = on_duty - admin
        remainder = available - committed - proactive
        if available > 0:
            committed_share = committed / available
            share = 1.0 - committed_share
            oi_share = proactive / available
            meets = share >= options.proactive_target
            if options.alternative_target is not None:
                meets_alt = share >= options.alternative_target
    return BudgetRow(
        shift=shift,
        district=district,
        shift_days=shift_days,
        unit_shifts=unit_shifts,
        mean_units=(unit_shifts / shift_days if unit_shifts is not None and shift_days else None),
        on_duty_hours=on_duty,
        admin_hours=admin,
        available_hours=available,
        committed_hours=committed,
        committed_calls=int(load.get("committed_calls") or 0),
        proactive_hours=proactive,
        proactive_calls=int(load.get("proactive_calls") or 0),
        remainder_hours=remainder,
        committed_share=committed_share,
        proactive_share=share,
        officer_initiated_share=oi_share,
        meets_target=meets,
        meets_alternative_target=meets_alt,
    )


_DUTY = [pl.col("units").sum(), pl.col("on_duty_s").sum()]
_LOAD = [
    pl.col("committed_s").sum(),
    pl.col("committed_calls").sum(),
    pl.col("proactive_s").sum(),
    pl.col("proactive_calls").sum(),
]


def _sums(frame: pl.DataFrame, by: list[str], aggs: list[pl.Expr]) -> dict[Any, dict[str, Any]]:
    """Sums of ``aggs`` per group of ``by`` (key: a tuple of the ``by`` values)."""
    if not by:
        return {(): frame.select(aggs).row(0, named=True)} if frame.height else {}
    grouped = frame.group_by(by).agg(aggs)
    return {tuple(r[b] for b in by): r for r in grouped.iter_rows(named=True)}


@dataclass(frozen=True, slots=True)
class _Rows:
    overall: BudgetRow
    shifts: list[BudgetRow]
    districts: list[BudgetRow]
    shift_districts: list[BudgetRow]


def _rows(c: _Cells, windows: pl.DataFrame, options: TimeBudgetOptions) -> _Rows:
    days = {s: int(n) for s, n in windows.group_by("shift").agg(pl.len()).iter_rows()}
    order = [s.name for s in options.shifts]
    known = c.source is not None

    def duty(
        sums: dict[Any, dict[str, Any]], key: tuple[Any, ...], ok: bool
    ) -> dict[str, Any] | None:
        return sums.get(key, {}) if ok else None

    d_all, l_all = _sums(c.units, [], _DUTY), _sums(c.load, [], _LOAD)
    overall = _row(None, None, windows.height, duty(d_all, (), known), l_all.get((), {}), options)
    d_s, l_s = _sums(c.units, ["shift"], _DUTY), _sums(c.load, ["shift"], _LOAD)
    shifts = [
        _row(s, None, days.get(s, 0), duty(d_s, (s,), known), l_s.get((s,), {}), options)
        for s in order
    ]
    load_districts = set(c.load.get_column("district").unique().to_list())
    duty_districts = (
        set() if c.city_wide else set(c.units.get_column("district").unique().to_list())
    )
    names = load_districts | duty_districts
    districts: list[BudgetRow] = []
    both: list[BudgetRow] = []
    if names - {None}:

        def ok(d: str | None) -> bool:
            return known and not c.city_wide and (c.staffed is None or d in c.staffed)

        ordered = sorted(names, key=lambda d: (d is None, d or ""))
        d_d, l_d = _sums(c.units, ["district"], _DUTY), _sums(c.load, ["district"], _LOAD)
        d_b, l_b = (
            _sums(c.units, ["shift", "district"], _DUTY),
            _sums(c.load, ["shift", "district"], _LOAD),
        )
        for d in ordered:
            districts.append(
                _row(None, d, windows.height, duty(d_d, (d,), ok(d)), l_d.get((d,), {}), options)
            )
            both += [
                _row(s, d, days.get(s, 0), duty(d_b, (s, d), ok(d)), l_b.get((s, d), {}), options)
                for s in order
            ]
    return _Rows(overall, shifts, districts, both)


# ---------------------------------------------------------------- entry point


def time_budget(calls: pl.DataFrame, options: TimeBudgetOptions | None = None) -> TimeBudget:
    """The officer time budget of ``calls`` per shift, district and overall.

    Parameters
    ----------
    calls : polars.DataFrame
        Canonical calls: ``received_at`` (time-zone-aware Datetime) is required;
        ``dispatched_at``, ``cleared_at``, ``acknowledged_at``, ``en_route_at``,
        ``on_scene_at``, ``agency``, ``call_type_code``, ``district``, ``unit_id``,
        ``self_initiated`` and ``source_channel`` are used when present.
    options : TimeBudgetOptions, optional
        Shifts, staffing, method and assumptions (defaults: police, three 8-hour
        shifts from 07:00, method chosen from the data, no staffing, 1 unit per call,
        10% administrative allowance, targets 1/3 and 40%).

    Returns
    -------
    TimeBudget
        Hours; the method and its assumptions are in the module docstring.

    Raises
    ------
    ValueError
        The frame lacks ``received_at`` (or it is not time-zone aware), or ``method``
        is ``unit`` and the calls carry no unit ids.
    """
    options = options or TimeBudgetOptions()
    work = _prepare(calls, options)
    method, reason = _choose_method(work, options)
    charged, without_unit = _charged(work, method, options)
    if charged.height:
        first, last = charged.select(
            pl.col("shift_date").min().alias("a"), pl.col("shift_date").max().alias("b")
        ).row(0)
    else:
        first = last = None
    start, end = options.start or first, options.end or last
    if start is not None and end is not None and end < start:
        start, end = (start, start) if options.start is not None else (end, end)
    in_period = (
        pl.col("shift_date").is_between(start, end)
        if start is not None and end is not None
        else pl.lit(False)
    )
    outside = int(charged.select((~in_period).sum()).item()) if charged.height else 0
    charged = charged.filter(in_period)
    windows = (
        _windows(start, end, options.shifts, options.timezone)
        if start is not None and end is not None
        else pl.DataFrame(
            schema={"shift_date": pl.Date(), "shift": pl.String(), "length_s": pl.Float64()}
        )
    )
    cells = _cells(charged, windows, method, options)
    rows = _rows(cells, windows, options)
    est = charged.select(
        measured=pl.col("__measured").is_not_null().sum(),
        fallback=pl.col("__measured").is_null().sum(),
        kind=(pl.col("__measured").is_null() & pl.col("__type_median").is_null()).sum(),
        median=pl.col("__seconds").filter(~pl.col("__self")).median() / 60.0,
        committed=(~pl.col("__self")).sum(),
        proactive=pl.col("__self").sum(),
    ).row(0, named=True)
    k = work.counts
    inputs = BudgetInputs(
        calls=calls.height,
        agencies=options.agencies,
        agency_calls=k["agency_calls"],
        other_agencies=tuple(work.other_agencies),
        citizen_calls=k["citizen_calls"],
        not_dispatched=k["not_dispatched"],
        without_unit=without_unit,
        committed_calls=int(est["committed"] or 0),
        officer_initiated_calls=k["officer_initiated_calls"],
        proactive_calls=int(est["proactive"] or 0),
        outside_period=outside,
        measured_calls=int(est["measured"] or 0),
        fallback_calls=int(est["fallback"] or 0),
        fallback_kind_median_calls=int(est["kind"] or 0),
        median_committed_minutes=est["median"],
        unit_coverage=work.unit_coverage,
    )
    return TimeBudget(
        options=options,
        method=method,
        method_reason=reason,
        on_duty_source=cells.source,
        period_start=start,
        period_end=end,
        inputs=inputs,
        overall=rows.overall,
        shifts=tuple(rows.shifts),
        districts=tuple(rows.districts),
        shift_districts=tuple(rows.shift_districts),
    )


def budget_records(budget: TimeBudget) -> list[dict[str, Any]]:
    """Every row of the budget as flat dicts (overall, shifts, districts, shift x
    district), the fields of :class:`BudgetRow`; for CSV and tables."""
    rows = [budget.overall, *budget.shifts, *budget.districts, *budget.shift_districts]
    return [r.model_dump() for r in rows]
