"""``smart-policing response erlang-c | priority | hypercube``: the queueing models.

::

    smart-policing response erlang-c --calls 100 --interval-min 30 --handle-min 3 \\
        --servers 14 --target-s 20 --json
    smart-policing response erlang-c --calls 100 --interval-min 30 --handle-min 3 \\
        --target-s 20 --target-sl 0.8            # staffing needed, and a table around it
    smart-policing response priority --rate P1:6 --rate P2:20 --rate P3:30 \\
        --interval-min 60 --handle-min 35 --servers 40 [--target-s 600]
    smart-policing response hypercube model.yaml [--method auto|exact|approx] [--json]

Counts are calls per ``--interval-min`` minutes (default 60: calls per hour); times in
minutes unless the option ends in ``-s`` (seconds). ``--json`` prints the result
models (:mod:`.erlang`, :mod:`.priority`, :mod:`.hypercube`) as JSON; an unbounded
wait is written ``"Infinity"``. Unusable input exits with status 2 and names the
option, or the file, line and field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, cast

import typer
from rich.table import Table

from smart_policing.cli_support import JsonOpt
from smart_policing.cli_support import emit as _emit
from smart_policing.cli_support import fail as _fail
from smart_policing.cli_support import root_context as _root
from smart_policing.datafiles import DataFileError, load_model
from smart_policing.response.cli import response_app
from smart_policing.response.erlang import (
    ErlangCResult,
    StaffingTargets,
    erlang_c,
    erlang_staffing,
)
from smart_policing.response.hypercube import HypercubeFile, HypercubeResult, hypercube
from smart_policing.response.priority import PriorityResult, priority_waits

__all__ = ["erlang_c_cmd", "hypercube_cmd", "priority_cmd"]

IntervalOpt = Annotated[
    float,
    typer.Option(
        "--interval-min", help="Minutes over which the calls are counted (default: an hour)."
    ),
]
HandleOpt = Annotated[
    float, typer.Option("--handle-min", help="Mean handle (service) time per call, minutes.")
]
TargetSOpt = Annotated[
    float | None, typer.Option("--target-s", help="Answer-time target, seconds (service level).")
]


def _positive(value: float, option: str) -> float:
    if not value > 0:
        raise _fail(f"{option} must be greater than 0, got {value:g}")
    return value


def _not_negative(value: float, option: str) -> float:
    if not value >= 0:
        raise _fail(f"{option} must be 0 or more, got {value:g}")
    return value


def _minutes(value: float) -> str:
    return "inf" if value == float("inf") else f"{value:.3f}"


def _seconds(value: float) -> str:
    return "inf" if value == float("inf") else f"{value:.1f}"


# ---------------------------------------------------------------- erlang-c


def _erlang_table(rows: list[ErlangCResult], title: str, mark: int | None = None) -> Table:
    table = Table(
        "servers",
        "occupancy",
        "P(wait)",
        "service level",
        "mean wait (s)",
        "mean queue",
        title=title,
        caption="M/M/c (Erlang C); 'unstable': the queue grows without bound.",
    )
    for r in rows:
        table.add_row(
            f"{r.servers}{' *' if r.servers == mark else ''}",
            f"{r.occupancy:.4f}",
            f"{r.p_wait:.7f}",
            "-" if r.service_level is None else f"{r.service_level:.5f}",
            _seconds(r.mean_wait_s) if r.stable else "unstable",
            "-" if not r.stable else f"{r.mean_queue_length:.3f}",
        )
    return table


@response_app.command("erlang-c")
def erlang_c_cmd(
    ctx: typer.Context,
    calls: Annotated[float, typer.Option("--calls", help="Calls arriving per --interval-min.")],
    handle_min: HandleOpt,
    interval_min: IntervalOpt = 60.0,
    servers: Annotated[
        int | None,
        typer.Option("--servers", help="Servers (call-takers, units); omit to compute staffing."),
    ] = None,
    target_s: TargetSOpt = None,
    target_sl: Annotated[
        float | None,
        typer.Option("--target-sl", help="Required share answered within --target-s (0-1)."),
    ] = None,
    max_wait_s: Annotated[
        float | None, typer.Option("--max-wait-s", help="Largest acceptable mean wait, seconds.")
    ] = None,
    max_p_wait: Annotated[
        float | None, typer.Option("--max-p-wait", help="Largest acceptable P(wait) (0-1).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Erlang C (M/M/c): P(wait), service level, mean wait; or the staffing a target needs."""
    c = _root(ctx, as_json)
    rate = _not_negative(calls, "--calls") / _positive(interval_min, "--interval-min")
    handle = _positive(handle_min, "--handle-min")
    if target_s is not None:
        _not_negative(target_s, "--target-s")
    if servers is not None:
        if servers < 1:
            raise _fail(f"--servers must be at least 1, got {servers}")
        r = erlang_c(rate, handle, servers, target_s=target_s)
        title = (
            f"{calls:g} calls per {interval_min:g} min, {handle:g}-min handle time: "
            f"offered load {r.offered_load_erlangs:.4f} erlangs"
        )
        _emit(c, r.model_dump(mode="json"), _erlang_table([r], title))
        return
    if target_sl is None and max_wait_s is None and max_p_wait is None:
        raise _fail(
            "give --servers, or a target: --target-sl (with --target-s), --max-wait-s, --max-p-wait"
        )
    if target_sl is not None and not 0 < target_sl < 1:
        raise _fail(f"--target-sl must be between 0 and 1, got {target_sl:g}")
    if target_sl is not None and target_s is None:
        raise _fail("--target-sl needs --target-s (the answer-time target in seconds)")
    if max_wait_s is not None:
        _positive(max_wait_s, "--max-wait-s")
    if max_p_wait is not None and not 0 < max_p_wait <= 1:
        raise _fail(f"--max-p-wait must be in (0, 1], got {max_p_wait:g}")
    plan = erlang_staffing(
        rate,
        handle,
        StaffingTargets(
            target_s=target_s, target_sl=target_sl, max_wait_s=max_wait_s, max_p_wait=max_p_wait
        ),
    )
    needed, table = plan.servers_needed or plan.result.servers, plan.table
    data = plan.model_dump(mode="json")
    title = f"staffing needed: {needed} servers (offered load {rate * handle:.4f} erlangs)"
    _emit(c, data, _erlang_table(table, title, mark=needed))


# ---------------------------------------------------------------- priority


def _parse_rate(text: str) -> tuple[str, float]:
    label, sep, count = text.rpartition(":")
    if not sep or not label.strip():
        raise _fail(f"--rate {text!r}: expected LABEL:CALLS, e.g. P1:12")
    try:
        value = float(count)
    except ValueError as exc:
        raise _fail(f"--rate {text!r}: {count!r} is not a number of calls") from exc
    if not value >= 0:
        raise _fail(f"--rate {text!r}: the number of calls must be 0 or more")
    return label.strip(), value


def _priority_table(r: PriorityResult) -> Table:
    table = Table(
        "priority",
        "class",
        "calls/min",
        "cumulative load",
        "mean wait (min)",
        "mean wait (s)",
        "service level",
        title=(
            f"non-preemptive priority M/M/c: {r.servers} servers, {r.handle_min:g}-min handle, "
            f"occupancy {r.occupancy:.4f}, P(wait) {r.p_wait:.5f}"
        ),
        caption=(
            f"overall mean wait {_minutes(r.mean_wait_min)} min (= FCFS Erlang C). "
            "Service level is exact for the top class only; lower classes: means only."
        ),
    )
    for k in r.classes:
        table.add_row(
            str(k.priority),
            k.label,
            f"{k.arrival_rate_per_min:.4f}",
            f"{k.cumulative_load:.4f}",
            _minutes(k.mean_wait_min) if k.stable else "unstable",
            _seconds(k.mean_wait_s) if k.stable else "unstable",
            "-" if k.service_level is None else f"{k.service_level:.5f}",
        )
    return table


@response_app.command("priority")
def priority_cmd(
    ctx: typer.Context,
    rate: Annotated[
        list[str],
        typer.Option(
            "--rate",
            help="LABEL:CALLS per --interval-min, one per class, highest priority first.",
        ),
    ],
    handle_min: HandleOpt,
    servers: Annotated[int, typer.Option("--servers", help="Servers (units).")],
    interval_min: IntervalOpt = 60.0,
    target_s: TargetSOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Mean wait per priority class (non-preemptive priority M/M/c, Cobham's formula)."""
    c = _root(ctx, as_json)
    classes = [_parse_rate(x) for x in rate]
    labels = [label for label, _ in classes]
    if len(set(labels)) != len(labels):
        raise _fail(f"--rate: class labels must be distinct, got {labels}")
    interval = _positive(interval_min, "--interval-min")
    handle = _positive(handle_min, "--handle-min")
    if servers < 1:
        raise _fail(f"--servers must be at least 1, got {servers}")
    if target_s is not None:
        _not_negative(target_s, "--target-s")
    r = priority_waits(
        [n / interval for _, n in classes], handle, servers, labels=labels, target_s=target_s
    )
    _emit(c, r.model_dump(mode="json"), _priority_table(r))


# ---------------------------------------------------------------- hypercube


def _hypercube_tables(r: HypercubeResult) -> Table:
    travel = r.mean_travel_min is not None
    table = Table(
        "unit",
        "workload",
        "dispatch share",
        "outside own area",
        *(["mean travel (min)"] if travel else []),
        title=(
            f"hypercube ({r.method}, {r.line} line): offered load {r.offered_load_erlangs:.4f}, "
            f"all busy {r.p_all_busy:.5f}"
            + (f", lost {r.p_loss:.5f}" if r.line == "zero" else f", queued {r.p_queue:.5f}")
        ),
        caption=(
            f"interdistrict dispatches {r.interdistrict_share:.4f}"
            + (f"; region-wide mean travel {r.mean_travel_min:.3f} min" if travel else "")
            + (
                f"; mean queue wait {_minutes(r.mean_queue_wait_min)} min"
                if r.line == "infinite"
                else ""
            )
            + ("" if r.stable else "; UNSTABLE: more calls than the units can serve")
        ),
    )
    for u in r.units:
        table.add_row(
            u.name,
            f"{u.workload:.4f}",
            f"{u.dispatch_share:.4f}",
            "-" if u.outside_area_share is None else f"{u.outside_area_share:.4f}",
            *(["-" if u.mean_travel_min is None else f"{u.mean_travel_min:.3f}"] if travel else []),
        )
    return table


@response_app.command("hypercube")
def hypercube_cmd(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Hypercube model (YAML, schema_version 1).")],
    method: Annotated[
        str,
        typer.Option(
            "--method", help="exact (at most 15 units), approx, or auto (exact up to 15)."
        ),
    ] = "auto",
    as_json: JsonOpt = False,
) -> None:
    """Larson's hypercube model: unit workloads, dispatch fractions, travel times per atom."""
    c = _root(ctx, as_json)
    if method not in ("auto", "exact", "approx"):
        raise _fail(f"--method must be auto, exact or approx, got {method!r}")
    try:
        spec = load_model(file, HypercubeFile)
    except DataFileError as exc:
        raise _fail(f"invalid hypercube file:\n{exc}") from exc
    system = spec.to_system()
    try:
        r = hypercube(system, cast(Literal["auto", "exact", "approx"], method))
    except ValueError as exc:
        raise _fail(f"{file}: {exc}") from exc
    _emit(c, r.model_dump(mode="json"), _hypercube_tables(r))
