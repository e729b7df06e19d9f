"""``smart-policing simulate --scenario FILE.yaml``: run one dispatch-simulation scenario.

::

    smart-policing simulate --scenario FILE.yaml|NAME [--replications N] [--seed S]
        [--start DATE] [--end DATE] [--json]

``--scenario`` is a scenario file (``docs/response.md``, "Dispatch simulation") or the
name of a shipped one (``synthetic-city``). A replay scenario without ``calls.file``
replays the stored calls (root ``--db``), optionally from ``--start`` to ``--end``
(local dates, inclusive). A progress bar over the replications goes to standard
error; ``--json`` prints :class:`~smart_policing.response.sim.replicate.ScenarioResult`
on standard output. Exit status 2 for an unusable scenario (the message names the
file, line and field) or an unreadable file it names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from smart_policing.cli_support import JsonOpt, emit, err, fail, parse_day, root_context
from smart_policing.data.reader import UnusableFileError
from smart_policing.datafiles import DataFileError
from smart_policing.response.sim.replicate import (
    Estimate,
    ScenarioResult,
    TimeResult,
    prepare_scenario,
    run_scenario,
)
from smart_policing.response.sim.scenario import (
    ReplayCalls,
    Scenario,
    builtin_scenarios,
    load_scenario,
)

__all__ = ["fmt_estimate", "result_tables", "scenario_arg", "simulate_app", "simulate_cmd"]

simulate_app = typer.Typer(help="Run a dispatch-simulation scenario (docs/response.md).")


def scenario_arg(value: str) -> Scenario:
    """``--scenario``: a scenario file or a shipped scenario's name; exit 2 naming the
    file, line and field of an invalid one."""
    path = Path(value)
    if not path.exists() and value in builtin_scenarios():
        path = builtin_scenarios()[value]
    if not path.exists():
        known = ", ".join(sorted(builtin_scenarios()))
        raise fail(f"{value}: no such scenario file (shipped scenarios: {known})")
    try:
        return load_scenario(path)
    except DataFileError as exc:
        raise fail(f"invalid scenario file:\n{exc}") from exc


@simulate_app.callback(invoke_without_command=True)
def simulate_cmd(
    ctx: typer.Context,
    scenario: Annotated[
        str,
        typer.Option("--scenario", "-s", help="Scenario file (YAML) or shipped scenario name."),
    ],
    replications: Annotated[
        int | None,
        typer.Option("--replications", "-r", min=1, help="Replications (default: the file's)."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, help="Seed (default: the file's).")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--start", help="Stored calls from this local day.")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Stored calls up to this local day.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Simulate a scenario's replications; print response times, P1 compliance,
    utilisation and proactive share with 95% confidence intervals."""
    if ctx.invoked_subcommand is not None:
        return
    c = root_context(ctx, as_json)
    s = scenario_arg(scenario)
    frame = None
    stored = isinstance(s.calls, ReplayCalls) and s.calls.file is None
    if (start is not None or end is not None) and not stored:
        raise fail("--start and --end select stored calls; this scenario does not replay them")
    if stored:
        from smart_policing.store.calls import load_calls

        frame = load_calls(
            c.engine(),
            start=parse_day(start, "--start"),
            end=parse_day(end, "--end"),
            timezone=s.timezone,
        )
        if frame.height == 0:
            raise fail("the scenario replays the stored calls, and there are none")
    try:
        prepared = prepare_scenario(s, calls_frame=frame)
    except (UnusableFileError, DataFileError, ValueError) as exc:
        raise fail(f"{scenario}: {exc}") from exc
    n = replications or prepared.scenario.replications
    with Progress(
        TextColumn(f"simulating {s.name}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("replications", total=n)
        try:
            result = run_scenario(
                prepared,
                replications=n,
                seed=seed,
                on_replication=lambda _r: bar.advance(task),
            )
        except ValueError as exc:
            raise fail(f"{scenario}: {exc}") from exc
    emit(c, result.model_dump(mode="json"), result_tables(result))


def fmt_estimate(e: Estimate, *, pct: bool = False, digits: int = 1) -> str:
    """``mean [low, high]`` (``-`` when undefined); shares as percentages with ``pct``."""
    if e.mean is None:
        return "-"
    k = 100.0 if pct else 1.0
    unit = "%" if pct else ""
    text = f"{e.mean * k:.{digits}f}{unit}"
    if e.low is not None and e.high is not None:
        text += f" [{e.low * k:.{digits}f}, {e.high * k:.{digits}f}]"
    return text


def _time_row(t: TimeResult) -> tuple[str, ...]:
    return (
        f"{t.tours_per_day:.1f}",
        fmt_estimate(t.utilisation, pct=True),
        fmt_estimate(t.proactive_share, pct=True),
        fmt_estimate(t.overtime_hours_per_day),
    )


def result_tables(r: ScenarioResult) -> Table:
    """The human form of a result: summary, priorities, districts, shifts."""
    summary = Table(
        "measure",
        "value [95% CI]",
        "target",
        title=f"{r.scenario}: {r.replications} replications, {r.horizon_days:g} days "
        f"from {r.start_date} (warm-up {r.warmup_days:g})",
    )

    def met(flag: bool | None) -> str:
        return "" if flag is None else (" met" if flag else " NOT met")

    summary.add_row("calls per day", fmt_estimate(r.calls_per_day), "")
    if r.diverted_per_day.mean:
        summary.add_row("diverted per day", fmt_estimate(r.diverted_per_day), "")
    summary.add_row(
        f"P1 within {r.p1_target_min:g} min",
        fmt_estimate(r.p1_within_target, pct=True),
        f">= {r.p1_share_target:.0%}{met(r.p1_target_met)}",
    )
    summary.add_row(
        "proactive share",
        fmt_estimate(r.overall.proactive_share, pct=True),
        f">= {r.proactive_share_target:.1%}{met(r.proactive_target_met)}",
    )
    summary.add_row(
        "utilisation (committed / on duty)", fmt_estimate(r.overall.utilisation, pct=True), ""
    )
    summary.add_row(
        "proactive activity (simulated)",
        fmt_estimate(r.overall.proactive_activity_share, pct=True),
        "",
    )
    summary.add_row("answered by backup units", fmt_estimate(r.backup_share, pct=True), "")
    summary.add_row("overtime hours per day", fmt_estimate(r.overall.overtime_hours_per_day), "")
    summary.add_row("calls never reached", fmt_estimate(r.unreached), "")

    prios = Table(
        "priority",
        "calls/rep",
        "response median",
        "response p90",
        f"<= {r.p1_target_min:g} min",
        "queue wait mean",
        title="response time (call to arrival, minutes) by priority",
    )
    for p in r.priorities:
        prios.add_row(
            str(p.priority),
            fmt_estimate(p.calls, digits=0),
            fmt_estimate(p.response_median),
            fmt_estimate(p.response_p90),
            fmt_estimate(p.within_target, pct=True),
            fmt_estimate(p.queue_wait_mean),
        )
    districts = Table(
        Column("district", no_wrap=True, min_width=max(len(d.district) for d in r.districts)),
        "calls/day",
        "P1 in target",
        "tours/day",
        "utilisation",
        "proactive share",
        "overtime h/day",
        title="by district",
    )
    for d in r.districts:
        districts.add_row(
            d.district,
            fmt_estimate(d.calls_per_day),
            fmt_estimate(d.p1_within_target, pct=True),
            *_time_row(d.time),
        )
    shifts = Table(
        "shift",
        "tours/day",
        "utilisation",
        "proactive share",
        "overtime h/day",
        title="by shift",
    )
    for sh in r.shifts:
        shifts.add_row(sh.shift, *_time_row(sh.time))
    grid = Table.grid(padding=(1, 0))
    for part in (summary, prios, districts, shifts):
        grid.add_row(part)
    return grid
