"""``smart-policing response staffing``: the minimum units per district and shift.

::

    smart-policing response staffing --scenario FILE.yaml|NAME [--pack PACK]
        [--agency-map auto|NAME|FILE] [--replications N] [--min-units 1]
        [--scheduler ADDRESS|serial] [--workers N] [--json]

Searches, by simulation, the fewest units on duty per district and shift such that every
district-shift meets both targets of the scenario (P1 share within the response target,
proactive share), and shows that one fewer unit in any district-shift fails
(:mod:`smart_policing.response.staffing`). With ``--pack`` it searches twice, on the
scenario's calls and on the calls the pack leaves to patrol, and prints both side by
side. The decrement rounds run on Dask distributed: a local cluster by default,
``--scheduler tcp://host:8786`` for a running one, ``--scheduler serial`` in this
process. A progress bar counts simulated tables on standard error.

::

    smart-policing response sweep --scenario FILE.yaml|NAME [--scales 0.6:1.5:0.1]
        [--pack PACK] [--replications N] [--scheduler ADDRESS|serial] [--workers N] [--json]

Staffing curves: the whole table scaled by each factor, simulated on the same calls
(and on the calls a pack leaves to patrol), one Dask task per factor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from smart_policing.cli_support import JsonOpt, emit, err, fail, root_context
from smart_policing.data.reader import UnusableFileError
from smart_policing.datafiles import DataFileError
from smart_policing.response.cli import response_app
from smart_policing.response.sim.replicate import PreparedScenario, prepare_scenario
from smart_policing.response.simulate_cli import scenario_arg
from smart_policing.response.staffing import (
    CurvePoint,
    StaffingComparison,
    StaffingSearch,
    compare_diversion,
    draw_workloads,
    pack_keep,
    search_staffing,
    staffing_curve,
)
from smart_policing.triage.pack import Pack, builtin_pack, builtin_packs, load_pack
from smart_policing.triage.vocabulary import AgencyMap, best_builtin_map, builtin_map, load_map

__all__ = ["choose_agency_map", "staffing_cmd", "sweep_cmd"]


def choose_agency_map(prepared: PreparedScenario, name: str) -> AgencyMap:
    """``name`` (a shipped map or a map file), or with ``auto`` the shipped map that knows
    most of the scenario's call types, as police codes (ties: the default map)."""
    if name != "auto":
        path = Path(name)
        return load_map(path) if path.exists() else builtin_map(name)
    names: tuple[str, ...] = prepared.calls.type_names
    return best_builtin_map(dict.fromkeys((("POLICE", t) for t in names), 1))


def _pack(value: str) -> Pack:
    path = Path(value)
    if path.exists():
        return load_pack(path)
    if value not in builtin_packs():
        raise fail(f"--pack {value!r}: no such file or shipped pack ({', '.join(builtin_packs())})")
    return builtin_pack(value)


def _prepared(value: str) -> PreparedScenario:
    try:
        return prepare_scenario(scenario_arg(value))
    except (DataFileError, UnusableFileError, ValueError) as exc:
        raise fail(f"--scenario {value}: {exc}") from exc


def _cells_table(title: str, searches: list[tuple[str, StaffingSearch]]) -> Table:
    table = Table("district", "shift", title=title)
    for label, _ in searches:
        table.add_column(f"units {label}", justify="right")
        table.add_column(f"P1 share {label}", justify="right")
        table.add_column(f"proactive {label}", justify="right")
    rows = zip(*(s.result.cells for _, s in searches), strict=True)
    for cells in rows:
        line = [cells[0].district, cells[0].shift]
        for c in cells:
            share = "-" if c.p1_share is None else f"{c.p1_share:.3f} ({c.p1_calls})"
            proactive = "-" if c.proactive_share is None else f"{c.proactive_share:.3f}"
            line += [str(c.units), share, proactive]
        table.add_row(*line)
    total = ["all", ""]
    for _, s in searches:
        p1 = "-" if s.result.p1_share is None else f"{s.result.p1_share:.3f}"
        pro = "-" if s.result.proactive_share is None else f"{s.result.proactive_share:.3f}"
        total += [str(s.result.units_per_day), p1, pro]
    table.add_row(*total, style="bold")
    return table


def _summary(label: str, s: StaffingSearch) -> str:
    failed = sum(not p.meets for p in s.proof)
    return (
        f"{label}: {s.result.units_per_day} unit tours a day for {s.calls_per_day:.1f} calls a day"
        f" ({s.diverted_per_day:.1f} diverted); one fewer in each of {len(s.proof)} "
        f"district-shifts: {failed} fail a target; {s.evaluations} tables simulated in "
        f"{s.seconds:.1f} s ({s.replications} replications)"
    )


ScenarioOpt = Annotated[
    str, typer.Option("--scenario", "-s", help="Scenario file (YAML) or shipped name.")
]
AgencyMapOpt = Annotated[
    str, typer.Option("--agency-map", help="Call-type map for --pack: auto, a name or a file.")
]
ReplicationsOpt = Annotated[
    int | None, typer.Option("--replications", "-r", min=1, help="Default: the file's.")
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option("--scheduler", help="Dask scheduler address, or 'serial' (default: local)."),
]
WorkersOpt = Annotated[
    int | None, typer.Option("--workers", min=1, help="Local cluster worker processes.")
]


@response_app.command("staffing")
def staffing_cmd(
    ctx: typer.Context,
    scenario: ScenarioOpt,
    pack: Annotated[
        str | None,
        typer.Option("--pack", help="Also search after this triage pack's diversion."),
    ] = None,
    agency_map: AgencyMapOpt = "auto",
    replications: ReplicationsOpt = None,
    min_units: Annotated[
        int, typer.Option("--min-units", min=0, help="Fewest units any district-shift keeps.")
    ] = 1,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The fewest units per district and shift meeting both targets (before and after a
    pack's diversion with --pack)."""
    c = root_context(ctx, as_json)
    prepared = _prepared(scenario)
    s = prepared.scenario
    chosen = _pack(pack) if pack is not None else None
    try:
        amap = choose_agency_map(prepared, agency_map) if chosen is not None else None
    except (KeyError, DataFileError) as exc:
        raise fail(f"--agency-map {agency_map}: {exc}") from exc
    with Progress(
        SpinnerColumn(),
        TextColumn("searching staffing for {task.fields[name]}: {task.completed} tables"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("staffing", total=None, name=s.name)

        def progress(n: int) -> None:
            bar.update(task, completed=n)

        try:
            if chosen is None:
                result: StaffingSearch | StaffingComparison = search_staffing(
                    prepared,
                    draw_workloads(prepared, replications=replications),
                    min_units=min_units,
                    scheduler=scheduler,
                    workers=workers,
                    on_evaluation=progress,
                )
            else:
                assert amap is not None
                result = compare_diversion(
                    prepared,
                    chosen,
                    amap,
                    replications=replications,
                    min_units=min_units,
                    scheduler=scheduler,
                    workers=workers,
                    on_evaluation=progress,
                )
        except (ValueError, OSError) as exc:
            raise fail(str(exc)) from exc
    data: dict[str, Any] = result.model_dump(mode="json")
    if isinstance(result, StaffingComparison):
        data["units_saved_per_day"] = result.units_saved_per_day
        title = (
            f"{s.name}: minimum units per district and shift, before and after "
            f"{result.pack} {result.pack_version} (call types: {result.agency_map})"
        )
        searches = [("before", result.before), ("after", result.after)]
    else:
        title = f"{s.name}: minimum units per district and shift"
        searches = [("", result)]
    t = s.targets
    caption = (
        f"targets: P1 within {t.p1_target_min:g} min for {t.p1_share:.0%} of P1 calls, "
        f"proactive share >= {t.proactive_share:.1%} (admin allowance "
        f"{s.officer_time.admin_allowance:.0%}); P1 share (reached P1 calls)"
    )
    table = _cells_table(title, searches)
    table.caption = caption
    emit(c, data, table)
    if not c.as_json:
        for label, search in searches:
            err.print(_summary(label or "minimum", search), highlight=False)


def _scales(text: str) -> list[float]:
    """``0.6:1.5:0.1`` (start:stop:step, inclusive) or ``0.8,1,1.2``."""
    try:
        if ":" in text:
            a, b, step = (float(x) for x in text.split(":"))
            if step <= 0 or b < a:
                raise ValueError
            n = round((b - a) / step) + 1
            values = [round(a + i * step, 10) for i in range(n)]
        else:
            values = [float(x) for x in text.split(",")]
    except ValueError as exc:
        raise fail(f"--scales {text!r}: expected START:STOP:STEP or a list like 0.8,1,1.2") from exc
    if not values or any(v <= 0 for v in values) or len(values) > 200:
        raise fail(f"--scales {text!r}: 1 to 200 positive factors")
    return values


@response_app.command("sweep")
def sweep_cmd(
    ctx: typer.Context,
    scenario: ScenarioOpt,
    scales: Annotated[
        str,
        typer.Option("--scales", help="Factors on the staffing table: START:STOP:STEP or a list."),
    ] = "0.6:1.5:0.1",
    pack: Annotated[
        str | None, typer.Option("--pack", help="Also sweep after this pack's diversion.")
    ] = None,
    agency_map: AgencyMapOpt = "auto",
    replications: ReplicationsOpt = None,
    scheduler: SchedulerOpt = None,
    workers: WorkersOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Staffing curves: P1 share and proactive share as the whole staffing table is scaled,
    on the same calls (and after a pack's diversion with --pack), run on Dask."""
    c = root_context(ctx, as_json)
    factors = _scales(scales)
    prepared = _prepared(scenario)
    s = prepared.scenario
    chosen = _pack(pack) if pack is not None else None
    streams = [
        ("before" if chosen else "calls", draw_workloads(prepared, replications=replications))
    ]
    if chosen is not None:
        try:
            amap = choose_agency_map(prepared, agency_map)
        except (KeyError, DataFileError) as exc:
            raise fail(f"--agency-map {agency_map}: {exc}") from exc
        keep = pack_keep(chosen, amap, start=prepared.start, timezone=s.timezone)
        streams.append(("after", draw_workloads(prepared, replications=replications, keep=keep)))
    curves: dict[str, list[CurvePoint]] = {}
    with Progress(
        TextColumn("sweeping {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        for label, workloads in streams:
            task = bar.add_task(label, total=len(factors))

            def advance(_index: int, task: TaskID = task) -> None:
                bar.advance(task)

            curves[label] = staffing_curve(
                prepared,
                workloads,
                factors,
                scheduler=scheduler,
                workers=workers,
                on_done=advance,
            )
    data = {
        "scenario": s.name,
        "pack": chosen.name if chosen else None,
        "targets": s.targets.model_dump(),
        "curves": {k: [p.model_dump() for p in v] for k, v in curves.items()},
    }
    table = Table("scale", title=f"{s.name}: staffing curves ({s.targets.p1_target_min:g}-min P1)")
    for label in curves:
        for col in ("units/day", "P1 share", "proactive", "cells ok"):
            table.add_column(f"{col} {label}" if len(curves) > 1 else col, justify="right")
    for i, f in enumerate(factors):
        row = [f"{f:g}x"]
        for points in curves.values():
            p = points[i]
            row += [
                str(p.units_per_day),
                "-" if p.p1_share is None else f"{p.p1_share:.3f}",
                "-" if p.proactive_share is None else f"{p.proactive_share:.3f}",
                f"{p.cells_meeting}/{p.cells}",
            ]
        table.add_row(*row)
    emit(c, data, table)
