"""Response-time metrics from historical calls (R6): distributions, P1 compliance, data quality.

:func:`response_report` takes calls (a Polars frame with the canonical call columns
of :data:`smart_policing.store.tables.calls`, from an import or straight from a CAD
file) and returns a :class:`ResponseReport`: plain data (pydantic models, JSON-ready;
:func:`breakdown_records` / :func:`write_csv` for CSV). No I/O, no clock. Definitions
are those of ``docs/response.md``; the method, step by step:

1. **Agency.** Only calls of ``agencies`` (default ``POLICE``; ``None`` keeps every
   agency) are measured; other agencies are counted in
   :attr:`ResponseInputs.other_agencies`. A call with no agency value (an export
   without that column) is kept.
2. **Officer-initiated calls** (``self_initiated``, or ``source_channel`` =
   ``officer_initiated``, CAD ``Call_Reception`` = ``OFFICER``) have no response: the
   officer is on scene when the call is created. They are left out by default and
   counted (:attr:`ResponseInputs.officer_initiated`).
3. **Intervals**, in seconds, from :data:`smart_policing.model.calls.INTERVALS`:
   call-to-dispatch ``dispatched_at - received_at``, dispatch-to-arrival ``on_scene_at
   - dispatched_at``, call-to-arrival ``on_scene_at - received_at`` (the response
   time). The frame's interval columns (``call_to_dispatch_s`` ...) are used when
   present, else they are derived from the timestamps the same way the importer does.
4. **Usable values.** A value is usable when present, not negative and not above the
   interval's plausibility limit (``Interval.max_seconds``: 24 h, 12 h, 24 h). Other
   values are **left out of the distributions but counted**, per interval, as
   *missing stage*, *negative* or *above limit* (:class:`IntervalQuality`), each with
   its share of the measured calls. Zero is usable.
5. **Distributions** of the usable values (:class:`Distribution`, minutes): count,
   median, 90th percentile and mean. Percentiles use **linear interpolation between
   order statistics** (Hyndman & Fan 1996, definition 7; the default of NumPy, pandas
   and Polars ``interpolation="linear"``): for ``n`` sorted values ``x[0..n-1]`` and
   probability ``p``, ``h = (n - 1) p`` and ``Q(p) = x[floor h] + (h - floor h)
   (x[floor h + 1] - x[floor h])``. The median is ``Q(0.5)`` (the mean of the two
   middle values for even ``n``).
6. **Highest priority within target** (:class:`TargetCompliance`): of the calls of
   the highest priority (``highest_priority``, default 1: the lowest number), the
   *denominator* is those with a usable call-to-arrival and the *numerator* those
   whose call-to-arrival is ``<= target_min`` minutes (default 10). Calls **never
   reached** (no arrival: cancelled, closed without a unit, never dispatched) are
   counted separately and are in neither; so are calls whose arrival makes an
   unusable call-to-arrival (negative or above the limit).
7. **Breakdowns** (:data:`DIMENSIONS`): the same statistics per priority, district,
   local hour of day (``"00"``-``"23"``), local weekday (``mon``-``sun``), call type
   (the CAD call-type code) and local month (``YYYY-MM``); hours, weekdays and months
   are local to ``timezone`` (IANA, default ``America/New_York``). A call without a
   value falls in the group ``None``.

Everything is Polars group-bys over one prepared frame: a million calls take about a
second.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal, get_args

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator

from smart_policing.model.calls import INTERVALS, Interval, SourceChannel
from smart_policing.timezones import IanaTimeZone
from smart_policing.triage.pack import WEEKDAYS

__all__ = [
    "CSV_COLUMNS",
    "DIMENSIONS",
    "PERCENTILE_INTERPOLATION",
    "RESPONSE_INTERVALS",
    "AgencyCount",
    "BreakdownRow",
    "Dimension",
    "Distribution",
    "GroupStats",
    "HistogramBin",
    "IntervalQuality",
    "ResponseInputs",
    "ResponseOptions",
    "ResponseReport",
    "TargetCompliance",
    "agency_column",
    "breakdown_records",
    "officer_initiated_column",
    "report_csv",
    "response_report",
    "select_agencies",
    "write_csv",
]

Dimension = Literal["priority", "district", "hour", "weekday", "call_type", "month"]
"""A dimension of the breakdown tables."""

DIMENSIONS: tuple[Dimension, ...] = get_args(Dimension)
"""Every breakdown, in report order."""

RESPONSE_INTERVALS: tuple[str, ...] = (
    "call_to_dispatch_s",
    "dispatch_to_arrival_s",
    "call_to_arrival_s",
)
"""The measured intervals (names of :data:`~smart_policing.model.calls.INTERVALS`)."""

PERCENTILE_INTERPOLATION: Final = "linear"
"""Percentile definition: Hyndman & Fan definition 7 (see the module docstring)."""

_INTERVAL: dict[str, Interval] = {iv.name: iv for iv in INTERVALS if iv.name in RESPONSE_INTERVALS}
_SHORT: dict[str, str] = {name: name.removesuffix("_s") for name in RESPONSE_INTERVALS}
_DIST_FIELDS = ("n", "median_min", "p90_min", "mean_min")
_P1_FIELDS = (
    "priority",
    "target_min",
    "calls",
    "reached",
    "within_target",
    "share_within_target",
    "never_reached",
    "never_dispatched",
    "unusable",
)

CSV_COLUMNS: tuple[str, ...] = (
    "by",
    "key",
    "calls",
    *(f"{_SHORT[name]}_{f}" for name in RESPONSE_INTERVALS for f in _DIST_FIELDS),
    *(f"p1_{f}" for f in _P1_FIELDS),
)
"""Columns of the breakdown CSV: one row per group (the overall row has ``by`` =
``all``); times in minutes, an empty cell is a missing value."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ResponseOptions(_Model):
    """What is measured, and how (see the module docstring)."""

    timezone: IanaTimeZone = "America/New_York"
    """IANA time zone of the hour, weekday and month breakdowns."""
    agencies: tuple[str, ...] | None = ("POLICE",)
    """Agencies measured (upper case, as the importer stores them); ``None``: all."""
    include_officer_initiated: bool = False
    """Measure officer-initiated calls too (default: left out and counted)."""
    target_min: float = Field(default=10.0, gt=0)
    """Response-time target of the highest priority, in minutes (seed 001: 10)."""
    highest_priority: int = 1
    """The priority number that counts as highest (the target applies to it)."""
    breakdowns: tuple[Dimension, ...] = DIMENSIONS
    """Breakdowns computed, in this order."""
    histogram_bin_min: float = Field(default=2.0, gt=0)
    """Width of the call-to-arrival histogram bins, in minutes."""
    histogram_max_min: float = Field(default=60.0, gt=0, le=24 * 60)
    """Upper edge of the last full bin, in minutes; longer times fall in one open bin."""

    @field_validator("agencies")
    @classmethod
    def _upper(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if value is None else tuple(a.strip().upper() for a in value)


class AgencyCount(_Model):
    """Calls of one agency that were not measured."""

    agency: str
    calls: int


class ResponseInputs(_Model):
    """What went into the report, and what was set aside (counts are calls)."""

    calls: int
    """Rows of the input frame."""
    first_received_at: datetime | None
    last_received_at: datetime | None
    timezone: str
    agencies: tuple[str, ...] | None
    """Agencies measured (``None``: all)."""
    agency_calls: int
    """Calls of the measured agencies (or without an agency value)."""
    no_agency_calls: int
    """Of those, calls without an agency value (kept)."""
    other_agencies: tuple[AgencyCount, ...]
    """Calls of other agencies, most first: not measured."""
    officer_initiated: int
    """Officer-initiated calls of the measured agencies."""
    officer_initiated_included: bool
    measured: int
    """Calls whose intervals are measured (the denominator of the data-quality shares)."""


class Distribution(_Model):
    """Usable values of one interval in one group, in minutes (``None`` when ``n`` = 0)."""

    interval: str
    """Interval name (:data:`RESPONSE_INTERVALS`)."""
    n: int
    """Calls with a usable value."""
    median_min: float | None
    p90_min: float | None
    """90th percentile, linear interpolation (:data:`PERCENTILE_INTERPOLATION`)."""
    mean_min: float | None


class TargetCompliance(_Model):
    """Highest-priority calls answered within the target (docs/response.md, "P1 within target")."""

    priority: int
    """The priority counted (``ResponseOptions.highest_priority``)."""
    target_min: float
    calls: int
    """Measured calls of that priority."""
    reached: int
    """Denominator: calls with a usable call-to-arrival."""
    within_target: int
    """Numerator: calls with call-to-arrival ``<= target_min`` minutes."""
    share_within_target: float | None
    """``within_target / reached`` (0-1); ``None`` when nothing was reached."""
    never_reached: int
    """Calls with no arrival (cancelled, closed without a unit, never dispatched):
    not in the share."""
    never_dispatched: int
    """Of ``never_reached``, calls with no dispatch either."""
    unusable: int
    """Calls with an arrival but a negative or above-limit call-to-arrival: not in the share."""


class GroupStats(_Model):
    """Distributions and highest-priority compliance of a group of calls."""

    calls: int
    call_to_dispatch: Distribution
    dispatch_to_arrival: Distribution
    call_to_arrival: Distribution
    highest_priority: TargetCompliance


class BreakdownRow(GroupStats):
    """:class:`GroupStats` of the calls with ``by`` = ``key``.

    ``key`` is the priority, the district, the local hour (``"00"``-``"23"``), the
    local weekday (``mon``-``sun``), the call-type code or the local month
    (``YYYY-MM``); ``None`` for calls without a value.
    """

    by: Dimension
    key: str | None


class IntervalQuality(_Model):
    """Data quality of one interval over the measured calls (shares 0-1 of ``calls``)."""

    interval: str
    description: str
    limit_s: float
    """Plausibility limit in seconds (``model.calls.INTERVALS``)."""
    calls: int
    usable: int
    missing: int
    """A stage is missing (e.g. no arrival)."""
    negative: int
    above_limit: int
    share_missing: float
    share_negative: float
    share_above_limit: float


class HistogramBin(_Model):
    """Calls of one priority whose usable call-to-arrival falls in ``[start_min, end_min)``."""

    priority: str | None
    """The priority (as in the ``priority`` breakdown), ``None`` for calls without one."""
    start_min: float
    end_min: float | None
    """``None`` for the open last bin (``>= start_min``)."""
    calls: int


class ResponseReport(_Model):
    """The result of :func:`response_report`."""

    options: ResponseOptions
    inputs: ResponseInputs
    overall: GroupStats
    breakdowns: tuple[BreakdownRow, ...]
    """Every dimension of ``options.breakdowns``, in that order, keys sorted (numbers
    numerically, weekdays Monday first, ``None`` last)."""
    quality: tuple[IntervalQuality, ...]
    """One per interval of :data:`RESPONSE_INTERVALS`. Values not usable are left out
    of the distributions and counted here."""
    histogram: tuple[HistogramBin, ...] = ()
    """Usable call-to-arrival times per priority in bins of ``options.histogram_bin_min``
    minutes up to ``options.histogram_max_min`` and one open bin; every bin of every
    priority is listed, empty ones with 0 calls."""

    def breakdown(self, by: Dimension) -> tuple[BreakdownRow, ...]:
        """The rows of one breakdown."""
        return tuple(r for r in self.breakdowns if r.by == by)


# ---------------------------------------------------------------- preparation


def _col_or_null(frame: pl.DataFrame, name: str, dtype: pl.DataType) -> pl.Expr:
    if name in frame.columns:
        return pl.col(name).cast(dtype)
    return pl.lit(None, dtype=dtype)


def _interval_expr(frame: pl.DataFrame, iv: Interval) -> pl.Expr:
    """The interval in seconds: the frame's column, else derived from the timestamps."""
    if iv.name in frame.columns:
        return pl.col(iv.name).cast(pl.Float64)
    return (pl.col(iv.end) - pl.col(iv.start)).dt.total_microseconds() / 1e6


def _check_received(calls: pl.DataFrame) -> None:
    if "received_at" not in calls.columns:
        raise ValueError("calls frame lacks column received_at")
    ts = calls.schema["received_at"]
    if not isinstance(ts, pl.Datetime) or ts.time_zone is None:
        raise ValueError("received_at must be a time-zone-aware Datetime column")


def agency_column(calls: pl.DataFrame) -> pl.Expr:
    """The agency, stripped and upper case, ``""`` when absent (a column ``__agency``)."""
    return (
        _col_or_null(calls, "agency", pl.String())
        .str.strip_chars()
        .str.to_uppercase()
        .fill_null("")
        .alias("__agency")
    )


def officer_initiated_column(calls: pl.DataFrame) -> pl.Expr:
    """True for officer-initiated calls (``self_initiated`` or the officer channel)."""
    return (
        _col_or_null(calls, "self_initiated", pl.Boolean()).fill_null(False)
        | (
            _col_or_null(calls, "source_channel", pl.String())
            == SourceChannel.OFFICER_INITIATED.value
        ).fill_null(False)
    ).alias("__self")


def select_agencies(
    frame: pl.DataFrame, agencies: tuple[str, ...] | None
) -> tuple[pl.DataFrame, list[AgencyCount]]:
    """Rows of ``frame`` (with an ``__agency`` column, :func:`agency_column`) of
    ``agencies`` or without an agency (all rows for ``None``), and the counts of the
    other agencies, most first."""
    if agencies is None:
        return frame, []
    keep = (pl.col("__agency") == "") | pl.col("__agency").is_in(list(agencies))
    others = (
        frame.filter(~keep)
        .group_by("__agency")
        .agg(pl.len().alias("n"))
        .sort("n", "__agency", descending=[True, False])
    )
    return frame.filter(keep), [AgencyCount(agency=a, calls=int(n)) for a, n in others.iter_rows()]


def _prepare(calls: pl.DataFrame, options: ResponseOptions) -> tuple[pl.DataFrame, ResponseInputs]:
    _check_received(calls)
    local = pl.col("received_at").dt.convert_time_zone(options.timezone)
    missing = [
        f"{iv.name} (or {iv.start} and {iv.end})"
        for iv in _INTERVAL.values()
        if iv.name not in calls.columns
        and not (iv.start in calls.columns and iv.end in calls.columns)
    ]
    if missing:
        raise ValueError(f"calls frame lacks {', '.join(missing)}")
    raw = [_interval_expr(calls, _INTERVAL[name]).alias(f"__raw_{name}") for name in _INTERVAL]
    frame = calls.select(
        agency_column(calls),
        officer_initiated_column(calls),
        _col_or_null(calls, "priority", pl.Int64()).alias("__priority"),
        *raw,
        _col_or_null(calls, "district", pl.String()).alias("district"),
        _col_or_null(calls, "call_type_code", pl.String()).alias("call_type"),
        local.dt.hour().cast(pl.String).str.zfill(2).alias("hour"),
        local.dt.weekday()
        .replace_strict(list(range(1, 8)), list(WEEKDAYS), return_dtype=pl.String)
        .alias("weekday"),
        local.dt.strftime("%Y-%m").alias("month"),
    ).with_columns(priority=pl.col("__priority").cast(pl.String))
    frame, others = select_agencies(frame, options.agencies)
    agency_calls = frame.height
    no_agency = int(frame.select((pl.col("__agency") == "").sum()).item()) if agency_calls else 0
    officer_initiated = int(frame.get_column("__self").sum()) if agency_calls else 0
    if not options.include_officer_initiated:
        frame = frame.filter(~pl.col("__self"))
    usable = []
    for name, iv in _INTERVAL.items():
        v = pl.col(f"__raw_{name}")
        usable.append(
            pl.when((v >= 0) & (v <= iv.max_seconds)).then(v).otherwise(None).alias(f"__{name}")
        )
    frame = frame.with_columns(usable).with_columns(
        __p1=(pl.col("__priority") == options.highest_priority).fill_null(False)
    )
    first, last = (
        calls.select(
            pl.col("received_at").min().alias("a"), pl.col("received_at").max().alias("b")
        ).row(0)
        if calls.height
        else (None, None)
    )
    inputs = ResponseInputs(
        calls=calls.height,
        first_received_at=first,
        last_received_at=last,
        timezone=options.timezone,
        agencies=options.agencies,
        agency_calls=agency_calls,
        no_agency_calls=no_agency,
        other_agencies=tuple(others),
        officer_initiated=officer_initiated,
        officer_initiated_included=options.include_officer_initiated,
        measured=frame.height,
    )
    return frame, inputs


# ---------------------------------------------------------------- statistics


def _aggregations(options: ResponseOptions) -> list[pl.Expr]:
    exprs: list[pl.Expr] = [pl.len().alias("calls")]
    for name in _INTERVAL:
        v = pl.col(f"__{name}")
        short = _SHORT[name]
        exprs += [
            v.count().alias(f"{short}_n"),
            (v.median() / 60.0).alias(f"{short}_median_min"),
            (v.quantile(0.9, interpolation=PERCENTILE_INTERPOLATION) / 60.0).alias(
                f"{short}_p90_min"
            ),
            (v.mean() / 60.0).alias(f"{short}_mean_min"),
        ]
    p1 = pl.col("__p1")
    cta, cta_raw = pl.col("__call_to_arrival_s"), pl.col("__raw_call_to_arrival_s")
    no_dispatch = pl.col("__raw_call_to_dispatch_s").is_null()
    exprs += [
        p1.sum().alias("p1_calls"),
        (p1 & cta.is_not_null()).sum().alias("p1_reached"),
        (p1 & (cta <= options.target_min * 60.0)).fill_null(False).sum().alias("p1_within_target"),
        (p1 & cta_raw.is_null()).sum().alias("p1_never_reached"),
        (p1 & cta_raw.is_null() & no_dispatch).sum().alias("p1_never_dispatched"),
        (p1 & cta_raw.is_not_null() & cta.is_null()).sum().alias("p1_unusable"),
    ]
    return exprs


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _stats(row: dict[str, Any], options: ResponseOptions) -> GroupStats:
    dists = {
        _SHORT[name]: Distribution(
            interval=name,
            n=int(row[f"{_SHORT[name]}_n"]),
            median_min=_opt_float(row[f"{_SHORT[name]}_median_min"]),
            p90_min=_opt_float(row[f"{_SHORT[name]}_p90_min"]),
            mean_min=_opt_float(row[f"{_SHORT[name]}_mean_min"]),
        )
        for name in _INTERVAL
    }
    counts = {k: int(row[f"p1_{k}"]) for k in _P1_FIELDS[2:] if k != "share_within_target"}
    reached = counts["reached"]
    return GroupStats(
        calls=int(row["calls"]),
        call_to_dispatch=dists["call_to_dispatch"],
        dispatch_to_arrival=dists["dispatch_to_arrival"],
        call_to_arrival=dists["call_to_arrival"],
        highest_priority=TargetCompliance(
            priority=options.highest_priority,
            target_min=options.target_min,
            share_within_target=counts["within_target"] / reached if reached else None,
            **counts,
        ),
    )


def _breakdown(frame: pl.DataFrame, by: Dimension, options: ResponseOptions) -> list[BreakdownRow]:
    if by == "weekday":
        order = pl.col("key").replace_strict(list(WEEKDAYS), list(range(7)), default=7)
    elif by == "priority":
        order = pl.col("key").cast(pl.Int64, strict=False)
    else:
        order = pl.col("key")
    sums = (
        frame.with_columns(key=pl.col(by))
        .group_by("key")
        .agg(_aggregations(options))
        .sort(order, "key", nulls_last=True)
    )
    rows = []
    for row in sums.iter_rows(named=True):
        stats = _stats(row, options)
        rows.append(BreakdownRow(by=by, key=row["key"], **dict(stats)))
    return rows


def _quality(frame: pl.DataFrame) -> list[IntervalQuality]:
    n = frame.height
    out = []
    for name, iv in _INTERVAL.items():
        v = pl.col(f"__raw_{name}")
        c = frame.select(
            usable=pl.col(f"__{name}").is_not_null().sum(),
            missing=v.is_null().sum(),
            negative=(v < 0).sum(),
            above=(v > iv.max_seconds).sum(),
        ).row(0, named=True)
        out.append(
            IntervalQuality(
                interval=name,
                description=iv.description,
                limit_s=iv.max_seconds,
                calls=n,
                usable=int(c["usable"]),
                missing=int(c["missing"]),
                negative=int(c["negative"]),
                above_limit=int(c["above"]),
                share_missing=int(c["missing"]) / n if n else 0.0,
                share_negative=int(c["negative"]) / n if n else 0.0,
                share_above_limit=int(c["above"]) / n if n else 0.0,
            )
        )
    return out


def _histogram(frame: pl.DataFrame, options: ResponseOptions) -> list[HistogramBin]:
    width, top = options.histogram_bin_min, options.histogram_max_min
    n_bins = int(-(-top // width))  # full bins; the last may end above top when not a multiple
    minutes = pl.col("__call_to_arrival_s") / 60.0
    counted = (
        frame.filter(pl.col("__call_to_arrival_s").is_not_null())
        .with_columns(bin=pl.min_horizontal((minutes / width).floor().cast(pl.Int64), n_bins))
        .group_by("priority", "bin")
        .len()
    )
    counts = {(p, int(b)): int(n) for p, b, n in counted.iter_rows()}
    priorities = sorted(
        {p for p, _ in counts},
        key=lambda p: (p is None, int(p) if p is not None and p.lstrip("-").isdigit() else 0, p),
    )
    return [
        HistogramBin(
            priority=p,
            start_min=b * width,
            end_min=None if b == n_bins else (b + 1) * width,
            calls=counts.get((p, b), 0),
        )
        for p in priorities
        for b in range(n_bins + 1)
    ]


# ---------------------------------------------------------------- entry point


def response_report(calls: pl.DataFrame, options: ResponseOptions | None = None) -> ResponseReport:
    """Response-time distributions, highest-priority compliance and data quality of ``calls``.

    Parameters
    ----------
    calls : polars.DataFrame
        Canonical calls: ``received_at`` (time-zone-aware Datetime) is required, and
        either the interval columns ``call_to_dispatch_s``, ``dispatch_to_arrival_s``,
        ``call_to_arrival_s`` (seconds) or the timestamps ``dispatched_at`` and
        ``on_scene_at``. ``agency``, ``priority``, ``district``, ``call_type_code``,
        ``self_initiated`` and ``source_channel`` are used when present.
    options : ResponseOptions, optional
        Agencies, target, highest priority, time zone, breakdowns (defaults: police,
        10 minutes, priority 1, ``America/New_York``, every breakdown).

    Returns
    -------
    ResponseReport
        Times in minutes; the method is in the module docstring.

    Raises
    ------
    ValueError
        The frame lacks ``received_at`` (or it is not time-zone aware) or an interval.
    """
    options = options or ResponseOptions()
    frame, inputs = _prepare(calls, options)
    aggs = _aggregations(options)
    overall = _stats(frame.select(aggs).row(0, named=True), options)
    breakdowns = [row for by in options.breakdowns for row in _breakdown(frame, by, options)]
    return ResponseReport(
        options=options,
        inputs=inputs,
        overall=overall,
        breakdowns=tuple(breakdowns),
        quality=tuple(_quality(frame)),
        histogram=tuple(_histogram(frame, options)),
    )


# ---------------------------------------------------------------- CSV


def _record(by: str, key: str | None, stats: GroupStats) -> dict[str, object]:
    rec: dict[str, object] = {"by": by, "key": key, "calls": stats.calls}
    for name in RESPONSE_INTERVALS:
        dist: Distribution = getattr(stats, _SHORT[name])
        for f in _DIST_FIELDS:
            rec[f"{_SHORT[name]}_{f}"] = getattr(dist, f)
    for f in _P1_FIELDS:
        rec[f"p1_{f}"] = getattr(stats.highest_priority, f)
    return rec


def breakdown_records(report: ResponseReport) -> list[dict[str, object]]:
    """The overall row (``by`` = ``all``) and every breakdown row as flat dicts
    (keys :data:`CSV_COLUMNS`; minutes; ``None`` for missing values)."""
    rows = [_record("all", None, report.overall)]
    rows += [_record(r.by, r.key, r) for r in report.breakdowns]
    return rows


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return value


def _csv_text(records: Iterable[dict[str, object]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for rec in records:
        writer.writerow([_cell(rec[c]) for c in CSV_COLUMNS])
    return buf.getvalue()


def report_csv(report: ResponseReport) -> str:
    """:func:`breakdown_records` as CSV text (columns :data:`CSV_COLUMNS`, floats exact)."""
    return _csv_text(breakdown_records(report))


def write_csv(report: ResponseReport, path: str | Path) -> int:
    """Write :func:`report_csv` to ``path``; returns the number of data rows."""
    records = breakdown_records(report)
    Path(path).write_text(_csv_text(records), encoding="utf-8")
    return len(records)
