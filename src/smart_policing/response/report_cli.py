"""``smart-policing response report``: response times, P1 compliance and the officer time budget.

::

    smart-policing response report (FILE [--format cad] | --from-db) [--start DATE]
        [--end DATE] [--by priority|district|hour|weekday|call_type|month ...]
        [--target-min 10] [--priority 1] [--agency POLICE ...] [--include-officer-initiated]
        [--units-per-shift N | --staffing FILE] [--shifts day=07:00/8,...]
        [--method auto|unit|estimate] [--units-per-call 1.0] [--admin-allowance 0.10]
        [--proactive-target 0.3333] [--alternative-target 0.40] [--csv OUT] [--json]

``FILE`` (plain or gzip CAD export) is read in memory exactly as ``import cad`` would
(:func:`smart_policing.triage.replay_cli.read_calls_file`); ``--from-db`` reads the
stored calls (:func:`smart_policing.store.calls.load_response_calls`). ``--start`` /
``--end`` keep calls received on those local dates (root ``--timezone``), both
inclusive, and set the time budget's period of shift-days. ``--agency ALL`` measures
every agency.

The methods are in :mod:`smart_policing.response.metrics` (distributions, P1 within
target, data quality) and :mod:`smart_policing.response.timebudget` (the budget per
shift and district; ``--staffing`` is a YAML file of :class:`~smart_policing.response.
timebudget.Staffing`). ``--by`` chooses the breakdowns printed (default priority);
``--csv`` writes every breakdown (:data:`~smart_policing.response.metrics.CSV_COLUMNS`).
``--json`` prints ``{"response": ResponseReport, "time_budget": TimeBudget}``.
Exit status: 0 success; 2 unusable input, with a message naming the file or option.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from pydantic import ValidationError
from rich.table import Table

from smart_policing.cli_support import (
    CallFormatOpt,
    CallsFileArg,
    EndDateOpt,
    FromDbOpt,
    JsonOpt,
    StartDateOpt,
    err,
    out,
)
from smart_policing.cli_support import fail as _fail
from smart_policing.cli_support import root_context as _root
from smart_policing.data.mapping import BUILTIN_FORMATS
from smart_policing.data.reader import UnusableFileError
from smart_policing.datafiles import DataFileError, load_model
from smart_policing.response.cli import response_app
from smart_policing.response.metrics import (
    DIMENSIONS,
    Dimension,
    Distribution,
    GroupStats,
    ResponseOptions,
    ResponseReport,
    response_report,
    write_csv,
)
from smart_policing.response.timebudget import (
    BudgetRow,
    ShiftDefinition,
    Staffing,
    TimeBudget,
    TimeBudgetOptions,
    time_budget,
)
from smart_policing.store.calls import load_response_calls
from smart_policing.triage.replay_cli import read_calls_file

__all__ = ["parse_shifts", "report_cmd"]

_SHIFT = re.compile(r"^\s*([\w-]+)\s*=\s*(\d{1,2}):(\d{2})\s*/\s*(\d+(?:\.\d+)?)\s*$")


def parse_shifts(text: str) -> tuple[ShiftDefinition, ...]:
    """``day=07:00/8,evening=15:00/8,night=23:00/8`` -> shift definitions (ValueError
    naming the part that is wrong)."""
    shifts = []
    for part in text.split(","):
        m = _SHIFT.match(part)
        if m is None:
            raise ValueError(f"{part.strip()!r} is not NAME=HH:MM/HOURS")
        name, hh, mm, hours = m.groups()
        if int(hh) > 23 or int(mm) > 59:
            raise ValueError(f"{part.strip()!r}: no such time of day")
        try:
            shifts.append(ShiftDefinition(name=name, start=time(int(hh), int(mm)), hours=hours))
        except ValidationError as exc:
            raise ValueError(f"{part.strip()!r}: {exc.errors()[0]['msg']}") from exc
    return tuple(shifts)


def _problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(x) for x in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def _minutes(x: float | None) -> str:
    return "-" if x is None else f"{x:,.1f}"


def _share(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def _hours(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def _overall_table(stats: GroupStats) -> Table:
    table = Table("interval", "n", "median min", "p90 min", "mean min", title="response times")
    dists: tuple[Distribution, ...] = (
        stats.call_to_dispatch,
        stats.dispatch_to_arrival,
        stats.call_to_arrival,
    )
    for d in dists:
        table.add_row(
            d.interval.removesuffix("_s").replace("_", "-"),
            f"{d.n:,}",
            _minutes(d.median_min),
            _minutes(d.p90_min),
            _minutes(d.mean_min),
        )
    return table


def _compliance_line(stats: GroupStats) -> str:
    p = stats.highest_priority
    return (
        f"priority {p.priority} within {p.target_min:g} min: {p.within_target:,} of "
        f"{p.reached:,} reached ({_share(p.share_within_target)}); never reached "
        f"{p.never_reached:,} (never dispatched {p.never_dispatched:,}), unusable arrival "
        f"{p.unusable:,}: not in the share; {p.calls:,} priority-{p.priority} calls"
    )


def _breakdown_table(report: ResponseReport, by: Dimension) -> Table:
    p = report.options.highest_priority
    table = Table(
        by,
        "calls",
        "c-d med",
        "c-d p90",
        "d-a med",
        "d-a p90",
        "c-a med",
        "c-a p90",
        f"P{p}<={report.options.target_min:g}",
        title=f"by {by} (minutes)",
        caption="c-d call-to-dispatch, d-a dispatch-to-arrival, c-a call-to-arrival",
    )
    table.columns[0].no_wrap = True
    for r in report.breakdown(by):
        c = r.highest_priority
        table.add_row(
            r.key if r.key is not None else "(none)",
            f"{r.calls:,}",
            _minutes(r.call_to_dispatch.median_min),
            _minutes(r.call_to_dispatch.p90_min),
            _minutes(r.dispatch_to_arrival.median_min),
            _minutes(r.dispatch_to_arrival.p90_min),
            _minutes(r.call_to_arrival.median_min),
            _minutes(r.call_to_arrival.p90_min),
            f"{c.within_target:,}/{c.reached:,} {_share(c.share_within_target)}"
            if c.calls
            else "-",
        )
    return table


def _quality_table(report: ResponseReport) -> Table:
    calls = report.quality[0].calls if report.quality else 0
    table = Table(
        "interval",
        "usable",
        "missing stage",
        "negative",
        "above limit",
        "limit h",
        title=f"data quality of {calls:,} calls (not in the distributions, counted here)",
    )
    for q in report.quality:
        table.add_row(
            q.interval.removesuffix("_s").replace("_", "-"),
            f"{q.usable:,}",
            f"{q.missing:,} ({_share(q.share_missing)})",
            f"{q.negative:,} ({_share(q.share_negative)})",
            f"{q.above_limit:,} ({_share(q.share_above_limit)})",
            f"{q.limit_s / 3600:g}",
        )
    return table


def _budget_table(title: str, rows: list[BudgetRow], by_shift: bool) -> Table:
    table = Table(
        "shift" if by_shift else "district",
        "days",
        "units",
        "on-duty h",
        "committed h",
        "own h",
        "remainder h",
        "proactive",
        "target",
        title=title,
        caption="units: mean per shift-day; own: officer-initiated work; remainder: "
        "on-duty - admin - committed - own",
    )
    table.columns[0].no_wrap = True
    for r in rows:
        label = r.shift if by_shift else r.district
        table.add_row(
            label if label is not None else ("all" if by_shift else "(none)"),
            f"{r.shift_days:,}",
            "-" if r.mean_units is None else f"{r.mean_units:,.1f}",
            _hours(r.on_duty_hours),
            _hours(r.committed_hours),
            _hours(r.proactive_hours),
            _hours(r.remainder_hours),
            _share(r.proactive_share),
            "-" if r.meets_target is None else ("met" if r.meets_target else "MISSED"),
            style="bold" if by_shift and label is None else None,
        )
    return table


def _print(report: ResponseReport, budget: TimeBudget, by: list[Dimension]) -> None:
    i = report.inputs
    agencies = ", ".join(i.agencies) if i.agencies else "all"
    others = ", ".join(f"{a.agency} {a.calls:,}" for a in i.other_agencies) or "none"
    oi = "measured" if i.officer_initiated_included else "left out (no response)"
    out.print(
        f"{i.calls:,} calls; {agencies}: {i.agency_calls:,} (other agencies, not measured: "
        f"{others}); officer-initiated {i.officer_initiated:,} {oi}; measured {i.measured:,}",
        markup=False,
    )
    out.print(_overall_table(report.overall))
    out.print(_compliance_line(report.overall), markup=False)
    for dim in by:
        out.print(_breakdown_table(report, dim))
    out.print(_quality_table(report))
    b, k = budget, budget.inputs
    out.print(f"time budget: {b.method} ({b.method_reason})", markup=False)
    out.print(
        f"period {b.period_start} to {b.period_end} (shift dates); committed calls "
        f"{k.committed_calls:,}, officer-initiated {k.proactive_calls:,}; never dispatched "
        f"{k.not_dispatched:,}, closed without a unit {k.without_unit:,}, outside the period "
        f"{k.outside_period:,}; call-type median for {k.fallback_calls:,} of "
        f"{k.measured_calls + k.fallback_calls:,} calls (dispatch-to-clear missing, <= 0 or > "
        f"{b.options.max_officer_hours:g} h); units per call {b.options.units_per_call:g}",
        markup=False,
    )
    if b.on_duty_source is None:
        out.print(
            "on-duty time unknown: give --units-per-shift or --staffing for the proactive share",
            markup=False,
        )
    target = f"target {b.options.proactive_target:.1%}"
    if b.options.alternative_target is not None:
        target += f" (alternative {b.options.alternative_target:.0%})"
    target += f", admin {b.options.admin_allowance:.0%}"
    out.print(_budget_table(f"time budget by shift; {target}", [*b.shifts, b.overall], True))
    if b.districts:
        out.print(_budget_table("time budget by district", list(b.districts), False))


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _read_file(file: Path, format_name: str, encoding: str, timezone: str) -> pl.DataFrame:
    try:
        calls, rejected = read_calls_file(
            file, timezone=timezone, format_name=format_name, encoding=encoding
        )
    except (UnusableFileError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    if rejected:
        err.print(f"{rejected:,} rows rejected by the {format_name} format (not measured)")
    return calls


def _between(calls: pl.DataFrame, start: date | None, end: date | None, tz: str) -> pl.DataFrame:
    if not calls.height or (start is None and end is None):
        return calls
    local = pl.col("received_at").dt.convert_time_zone(tz).dt.date()
    keep = pl.lit(True)
    if start is not None:
        keep = keep & (local >= start)
    if end is not None:
        keep = keep & (local <= end)
    return calls.filter(keep)


def _staffing(path: Path | None) -> Staffing | None:
    if path is None:
        return None
    try:
        return load_model(path, Staffing)
    except DataFileError as exc:
        raise _fail(str(exc)) from exc
    except OSError as exc:
        raise _fail(f"{path}: cannot read the staffing file: {exc}") from exc


@response_app.command("report")
def report_cmd(
    ctx: typer.Context,
    file: CallsFileArg = None,
    format_name: CallFormatOpt = "cad",
    from_db: FromDbOpt = False,
    start: StartDateOpt = None,
    end: EndDateOpt = None,
    by: Annotated[
        list[str] | None,
        typer.Option("--by", help=f"Breakdown to print (repeat): {', '.join(DIMENSIONS)}."),
    ] = None,
    target_min: Annotated[
        float, typer.Option("--target-min", help="Highest-priority target, minutes.")
    ] = 10.0,
    priority: Annotated[
        int, typer.Option("--priority", help="Priority number that counts as highest.")
    ] = 1,
    agency: Annotated[
        list[str] | None,
        typer.Option("--agency", help="Agency measured (repeat; ALL: every agency)."),
    ] = None,
    include_officer_initiated: Annotated[
        bool,
        typer.Option(
            "--include-officer-initiated", help="Measure officer-initiated calls' response too."
        ),
    ] = False,
    units_per_shift: Annotated[
        float | None,
        typer.Option("--units-per-shift", help="Units on duty in each shift, city-wide."),
    ] = None,
    staffing: Annotated[
        Path | None,
        typer.Option("--staffing", help="YAML: units per shift (and district), optional shifts."),
    ] = None,
    shifts: Annotated[
        str | None,
        typer.Option(
            "--shifts", help="Clock shifts NAME=HH:MM/HOURS,... (default day=07:00/8,...)."
        ),
    ] = None,
    method: Annotated[
        str, typer.Option("--method", help="Time budget: auto, unit or estimate.")
    ] = "auto",
    units_per_call: Annotated[
        float, typer.Option("--units-per-call", help="Units per citizen call (lower bound 1).")
    ] = 1.0,
    admin_allowance: Annotated[
        float, typer.Option("--admin-allowance", help="Share of on-duty time for admin.")
    ] = 0.10,
    proactive_target: Annotated[
        float, typer.Option("--proactive-target", help="Target proactive share.")
    ] = 1 / 3,
    alternative_target: Annotated[
        float, typer.Option("--alternative-target", help="Second proactive-share target.")
    ] = 0.40,
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="Write every breakdown row to this CSV file.")
    ] = None,
    encoding: Annotated[str, typer.Option("--encoding", help="Text encoding of FILE.")] = "utf-8",
    as_json: JsonOpt = False,
) -> None:
    """Response-time distributions, P1 within target, data quality and the time budget."""
    c = _root(ctx, as_json)
    if (file is None) == (not from_db):
        raise _fail("give either FILE or --from-db")
    dims: list[Dimension] = []
    for name in by or ["priority"]:
        dim = next((d for d in DIMENSIONS if d == name), None)
        if dim is None:
            raise _fail(f"--by {name!r}: expected one of {', '.join(DIMENSIONS)}")
        if dim not in dims:
            dims.append(dim)
    if format_name not in BUILTIN_FORMATS:
        raise _fail(f"--format {format_name!r}: known formats {', '.join(BUILTIN_FORMATS)}")
    if units_per_shift is not None and staffing is not None:
        raise _fail("give --units-per-shift or --staffing, not both")
    tz = c.settings.timezone
    agencies = tuple(agency or ["POLICE"])
    chosen = None if any(a.strip().upper() == "ALL" for a in agencies) else agencies
    table = _staffing(staffing)
    shift_defs = table.shifts if table is not None else None
    if shifts is not None:
        try:
            shift_defs = parse_shifts(shifts)
        except ValueError as exc:
            raise _fail(f"--shifts: {exc}") from exc
    first, last = _day(start), _day(end)
    try:
        options = ResponseOptions(
            timezone=tz,
            agencies=chosen,
            include_officer_initiated=include_officer_initiated,
            target_min=target_min,
            highest_priority=priority,
        )
        extra: dict[str, Any] = {"method": method}
        if shift_defs is not None:
            extra["shifts"] = shift_defs
        budget_options = TimeBudgetOptions(
            timezone=tz,
            agencies=chosen,
            units_per_shift=units_per_shift,
            staffing=table.units if table is not None else None,
            units_per_call=units_per_call,
            admin_allowance=admin_allowance,
            proactive_target=proactive_target,
            alternative_target=alternative_target,
            start=first,
            end=last,
            **extra,
        )
    except ValidationError as exc:
        where = f"{staffing}: " if staffing is not None and "staffing" in str(exc) else ""
        raise _fail(f"{where}{_problem(exc)}") from exc
    if file is not None:
        calls = _between(_read_file(file, format_name, encoding, tz), first, last, tz)
    else:
        calls = load_response_calls(c.engine(), start=first, end=last, timezone=tz)
    try:
        report = response_report(calls, options)
        budget = time_budget(calls, budget_options)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    if csv_out is not None:
        try:
            n = write_csv(report, csv_out)
        except OSError as exc:
            raise _fail(f"{csv_out}: cannot write: {exc}") from exc
        err.print(f"wrote {n:,} rows to {csv_out}", markup=False, highlight=False)
    if c.as_json:
        doc = {
            "response": report.model_dump(mode="json"),
            "time_budget": budget.model_dump(mode="json"),
        }
        typer.echo(json.dumps(doc, indent=2))
        return
    _print(report, budget, dims)
