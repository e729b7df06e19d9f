"""``smart-policing response calibrate``: the simulator's distributions from a CAD export,
and how well the simulator, fitted to it, reproduces the observed medians.

::

    smart-policing response calibrate FILE [--format cad] [--agency POLICE|ALL]
        [--min-count 30] [--out CALIBRATION.yaml] [--no-fit] [--replications 3]
        [--seed 0] [--json]

``FILE`` (plain or gzip) is read in memory exactly as ``import cad`` would
(:func:`smart_policing.triage.replay_cli.read_calls_file`), times local to the root
``--timezone``. The method is in :mod:`smart_policing.response.sim.calibrate`:
:func:`~smart_policing.response.sim.calibrate.calibrate` (quantile tables, profiles,
mixes, counts of missing and impossible intervals) and, unless ``--no-fit``,
:func:`~smart_policing.response.sim.calibrate.fit_simulator` (units per shift and the
effective area fitted; observed vs simulated medians per priority). ``--out`` writes
the calibration file a scenario names in ``calibration:``. ``--json`` prints
``{"calibration": summary, "fit": FitResult | null, "written": path | null}``.
Exit status 2 for an unreadable file or a file without usable calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from smart_policing.cli_support import JsonOpt, emit, err, fail, root_context
from smart_policing.data.mapping import BUILTIN_FORMATS
from smart_policing.data.reader import UnusableFileError
from smart_policing.response.cli import response_app
from smart_policing.response.sim.calibrate import FitResult, calibrate, fit_simulator
from smart_policing.response.sim.scenario import Calibration
from smart_policing.triage.replay_cli import read_calls_file

__all__ = ["calibrate_cmd", "calibration_summary", "fit_tables"]


def calibration_summary(cal: Calibration) -> dict[str, Any]:
    """The calibration without its quantile tables (what ``--json`` prints of it)."""
    return {
        "source": cal.source,
        "agency": cal.agency,
        "first_day": cal.first_day.isoformat(),
        "last_day": cal.last_day.isoformat(),
        "days": cal.days,
        "counts": cal.counts,
        "missing": cal.missing,
        "impossible": cal.impossible,
        "calls_per_day": cal.calls_per_day,
        "priorities": [p.model_dump(mode="json") for p in cal.priorities],
        "call_types": len(cal.types),
        "on_scene_tables": {
            "by_type": len(cal.on_scene.by_type),
            "by_priority": sorted(cal.on_scene.by_priority),
        },
        "proactive": {"n": cal.proactive.n, "per_day": cal.proactive.per_day},
    }


def _f(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:+.0%}"


def _calibration_table(cal: Calibration) -> Table:
    c = cal.counts
    t = Table(
        "priority",
        "calls",
        "call to dispatch",
        "dispatch to arrival",
        "call to arrival",
        title=f"{cal.source}: {c.get('citizen_calls', 0):,} citizen-initiated "
        f"{cal.agency or ''} calls, {cal.days:g} days ({cal.first_day} to {cal.last_day}); "
        f"{c.get('officer_initiated', 0):,} officer-initiated",
        caption="observed medians, minutes. Impossible intervals set aside: "
        + ", ".join(f"{k} {v}" for k, v in cal.impossible.items() if v),
    )
    for p in cal.priorities:
        t.add_row(
            str(p.priority),
            f"{p.n:,}",
            _f(p.call_to_dispatch_median),
            _f(p.dispatch_to_arrival_median),
            _f(p.call_to_arrival_median),
        )
    return t


def _rules(fit: FitResult) -> str:
    """The dispatch rules the fit chose, in words."""
    p, factors = fit.speed_priority, fit.priority_speed_factor
    speed = (
        f"priority {p} speed x{factors[p - 1]:.2f}"
        if p is not None and len(factors) >= p
        else "one speed"
    )
    preempt = (
        f"priority <= {fit.preempt_priority} pre-empts lower-priority units on scene"
        if fit.preempt_priority
        else "no pre-emption"
    )
    return f"{speed}, {preempt}"


def fit_tables(cal: Calibration, fit: FitResult | None) -> Table:
    """Human form: the observed medians, then observed vs simulated after the fit."""
    grid = Table.grid(padding=(1, 0))
    grid.add_row(_calibration_table(cal))
    if fit is None:
        return grid
    rows = Table(
        "priority",
        "calls",
        "call to dispatch obs / sim (err)",
        "dispatch to arrival obs / sim (err)",
        "call to arrival obs / sim (err)",
        title=f"fit: units per shift {fit.units}, effective area {fit.area_km2:.1f} km2 "
        f"at {fit.speed_kmh:g} km/h x {fit.circuity:g}, dispatcher delay "
        f"{fit.dispatch_delay_min:.2f} min, {_rules(fit)}, {fit.replications} replications",
        caption=f"* fitted: priority {fit.anchor_priority} call-to-dispatch by shift and "
        f"dispatch-to-arrival, priority {fit.delay_priority} call-to-dispatch"
        + (
            " and dispatch-to-arrival (speed factor)"
            if fit.speed_priority == fit.delay_priority
            else ""
        )
        + "; the other cells are not fitted. Medians, minutes.",
    )

    def cell(obs: float | None, sim: float | None, e: float | None) -> str:
        return f"{_f(obs)} / {_f(sim)} ({_pct(e)})"

    for r in fit.rows:
        rows.add_row(
            f"{r.priority}{' *' if r.fitted else ''}",
            f"{r.calls:,}",
            cell(
                r.observed_call_to_dispatch,
                r.simulated_call_to_dispatch.mean,
                r.error_call_to_dispatch,
            ),
            cell(
                r.observed_dispatch_to_arrival,
                r.simulated_dispatch_to_arrival.mean,
                r.error_dispatch_to_arrival,
            ),
            cell(
                r.observed_call_to_arrival,
                r.simulated_call_to_arrival.mean,
                r.error_call_to_arrival,
            ),
        )
    shifts = Table(
        "shift",
        "units",
        f"P{fit.anchor_priority} calls",
        "call to dispatch obs / sim (err)",
        title="by shift",
    )
    for s in fit.shifts:
        shifts.add_row(
            s.shift,
            str(s.units),
            f"{s.calls:,}",
            cell(
                s.observed_call_to_dispatch,
                s.simulated_call_to_dispatch.mean,
                s.error_call_to_dispatch,
            ),
        )
    grid.add_row(rows)
    grid.add_row(shifts)
    return grid


@response_app.command("calibrate")
def calibrate_cmd(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CAD export (CSV, plain or gzip).")],
    format_name: Annotated[
        str, typer.Option("--format", help=f"Call format: {', '.join(BUILTIN_FORMATS)}.")
    ] = "cad",
    agency: Annotated[
        str, typer.Option("--agency", help="Agency whose calls to use; ALL for every agency.")
    ] = "POLICE",
    min_count: Annotated[
        int, typer.Option("--min-count", min=1, help="Fewest values for a type's own table.")
    ] = 30,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the calibration file (YAML).")
    ] = None,
    fit: Annotated[
        bool, typer.Option("--fit/--no-fit", help="Fit the simulator and compare medians.")
    ] = True,
    replications: Annotated[
        int, typer.Option("--replications", min=1, help="Replications per fit candidate.")
    ] = 3,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the fit runs.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Empirical distributions of a CAD export for the simulator, and the fit."""
    c = root_context(ctx, as_json)
    tz = c.settings.timezone
    try:
        frame, _rejected = read_calls_file(file, timezone=tz, format_name=format_name)
    except (UnusableFileError, ValueError) as exc:
        raise fail(f"{file}: {exc}") from exc
    try:
        cal = calibrate(
            frame,
            source=file.name,
            timezone=tz,
            agency=None if agency.upper() == "ALL" else agency,
            min_count=min_count,
        )
    except ValueError as exc:
        raise fail(f"{file}: {exc}") from exc
    written = None
    if out_file is not None:
        out_file.write_text(
            yaml.safe_dump(cal.model_dump(mode="json"), sort_keys=False), encoding="utf-8"
        )
        written = str(out_file)
        err.print(f"wrote {out_file}")
    result = None
    if fit:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as bar:
            task = bar.add_task("fitting units per shift and area", total=None)
            try:
                result = fit_simulator(
                    frame,
                    cal,
                    replications=replications,
                    seed=seed,
                    progress=lambda msg: bar.update(task, description=msg),
                )
            except ValueError as exc:
                raise fail(f"{file}: cannot fit the simulator: {exc}") from exc
    emit(
        c,
        {
            "calibration": calibration_summary(cal),
            "fit": None if result is None else result.model_dump(mode="json"),
            "written": written,
        },
        fit_tables(cal, result),
    )
