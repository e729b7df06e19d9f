"""Calibration of the simulator on real CAD calls: empirical distributions, then a fit.

Empirical distributions (:func:`calibrate`)
    From a frame of calls with the canonical call columns (as
    :func:`smart_policing.triage.replay_cli.read_calls_file` returns a CAD export) of
    one agency (``POLICE`` by default):

    * **citizen-initiated** calls (not ``source_channel == officer_initiated``, not
      ``self_initiated``) make the call stream: calls per day, the share of calls by
      local hour and by weekday, the priority and call-type mix, and quantile tables
      (:class:`~.scenario.Empirical`, 101 quantiles by default) of on-scene time by call
      type (types with at least ``min_count`` usable values; the fallback is the
      priority's table, then all calls), call-taking time (received -> queued),
      queued -> dispatched by priority, turnout (dispatched -> en route), travel (en
      route -> on scene) and dispatch-to-arrival by priority; the observed medians and
      90th percentiles of call-to-dispatch, dispatch-to-arrival and call-to-arrival per
      priority (the numbers the fit has to reproduce);
    * **officer-initiated** calls are the proactive activity: how many per day and how
      long (their on-scene time).

    An interval is computed from its two timestamps (``model.calls.INTERVALS``; the
    queued -> dispatched interval is added here); a missing one is counted under
    ``missing``, an impossible one (negative, or above its plausibility limit) under
    ``impossible``, and neither is used.

The fit (:func:`fit_simulator`)
    A CAD export has neither locations nor unit counts, so those are unknowns. The
    calls are replayed through the engine as they happened (received times, types,
    priorities, recorded call-taking and on-scene times) in **one district**, and five
    unknowns are fitted:

    * **units on duty per shift** (the export's own shifts by default: day
      06:00-19:00, night 19:00-06:00), to the median call-to-dispatch of priority-2
      calls (the most frequent) received in each shift;
    * the **area** (km²; speed fixed at 40 km/h straight line, circuity 1.3: only
      ``sqrt(area) / speed`` matters, so it is an "effective patrol area"), to the
      median priority-2 dispatch-to-arrival;
    * a constant **dispatcher delay** between queue and dispatch (real dispatchers need
      some time even when a unit is free), to the median priority-1 call-to-dispatch;
    * the **proactive rate**, to the observed officer-initiated activities per day
      (they last the observed mean and yield only to priority-1 calls);
    * a **speed factor for priority 1** (the engine's ``priority_speed_factor``:
      lights and sirens), to the median priority-1 dispatch-to-arrival, relative to
      priority 2's, which sets the area;

    and one dispatch rule is chosen: **pre-emption** for priority 1 (the engine's
    ``preempt_priority``: a priority-1 call finding every unit busy takes one off a
    lower-priority call) or none. The search runs with each rule and keeps the one
    whose priority-1 call-to-dispatch 90th percentile is nearer the observed one:
    that tail is the waits of priority-1 calls arriving when every unit is busy, long
    without pre-emption, short with it; the medians cannot tell (the dispatcher delay
    and the speed factor absorb them).

    Units are integers: a steepest-descent search over the neighbouring staffing
    levels from a workload-based start per shift; the continuous unknowns are
    rescaled for each candidate until they settle. The search is checked on CAD
    exports the simulator writes itself from known units, area, delay, speed factor
    and rule, which it recovers (``tests/response/sim/test_calibrate.py``). The report
    lists observed and simulated medians per priority and per shift with the relative
    error; the priorities not fitted show how well the model generalises.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from smart_policing.response.sim.generate import (
    CALIBRATION_INTERVALS,
    CallReplay,
    build_district_map,
    interval_minutes,
    run_origin,
)
from smart_policing.response.sim.replicate import (
    Estimate,
    PreparedScenario,
    estimate,
    prepare_scenario,
    simulate_replication,
)
from smart_policing.response.sim.scenario import (
    SCHEMA_VERSION,
    Calibration,
    Empirical,
    OnSceneTables,
    PriorityStats,
    ProactiveStats,
    Scenario,
    TypeStats,
)

__all__ = [
    "CALIBRATION_INTERVALS",
    "FIT_SHIFTS",
    "FitResult",
    "FitRow",
    "FitShiftRow",
    "PreemptionCheck",
    "calibrate",
    "fit_scenario",
    "fit_simulator",
    "interval_minutes",
    "quantile_table",
]

F64 = npt.NDArray[np.float64]


def quantile_table(values: F64, points: int = 101) -> Empirical | None:
    """The quantile table of the finite ``values`` (minutes, 4 decimals); None if empty."""
    x = values[np.isfinite(values)]
    if len(x) == 0:
        return None
    q = np.quantile(x, np.linspace(0.0, 1.0, points))
    q = np.maximum.accumulate(np.round(q, 4))
    return Empirical(quantiles=tuple(float(v) for v in q), n=len(x))


def _median(x: F64) -> float | None:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if len(x) else None


def _p90(x: F64) -> float | None:
    x = x[np.isfinite(x)]
    return float(np.quantile(x, 0.9)) if len(x) else None


def _officer_initiated(frame: pl.DataFrame) -> npt.NDArray[np.bool_]:
    m = np.zeros(frame.height, dtype=bool)
    if "source_channel" in frame.columns:
        m |= (frame["source_channel"].fill_null("") == "officer_initiated").to_numpy()
    if "self_initiated" in frame.columns:
        m |= frame["self_initiated"].fill_null(False).to_numpy().astype(bool)
    return m


def calibrate(
    frame: pl.DataFrame,
    *,
    source: str,
    timezone: str,
    agency: str | None = "POLICE",
    min_count: int = 30,
    points: int = 101,
) -> Calibration:
    """Empirical distributions of one agency's calls (see the module docstring).

    Parameters
    ----------
    frame : polars.DataFrame
        Calls with the canonical columns (``received_at`` and the other timestamps,
        timezone-aware; ``agency``, ``priority``, ``call_type_code``,
        ``source_channel``/``self_initiated``).
    source : str
        What the calls are (a file name), recorded in the result.
    timezone : str
        IANA zone of the local clock (hour and weekday profiles).
    agency : str or None
        Keep only this agency's calls (None: all).
    min_count : int
        Fewest usable values for a call type's (or priority's) own on-scene table.
    points : int
        Quantiles per table (101: every percentile).
    """
    counts: dict[str, int] = {"rows": frame.height}
    f = frame
    if agency is not None and "agency" in f.columns:
        keep = (f["agency"].fill_null("") == agency).to_numpy()
        counts["other_agency"] = int((~keep).sum())
        f = f.filter(pl.Series(keep))
    oi = _officer_initiated(f)
    officer = f.filter(pl.Series(oi))
    calls = f.filter(pl.Series(~oi))
    counts["officer_initiated"] = officer.height
    counts["citizen_calls"] = calls.height
    if calls.height == 0:
        raise ValueError(f"no citizen-initiated {agency or ''} calls to calibrate on".strip())
    local = calls["received_at"].dt.convert_time_zone(timezone)
    first, last = local.min(), local.max()
    assert isinstance(first, datetime)
    assert isinstance(last, datetime)
    first_day, last_day = first.date(), last.date()
    days = float((last_day - first_day).days + 1)
    hours = local.dt.hour().to_numpy()
    weekdays = local.dt.weekday().to_numpy() - 1  # polars: Monday = 1
    hourly = np.bincount(hours, minlength=24).astype(float)
    # calls per weekday over the number of such weekdays in the period
    all_days = np.arange(np.datetime64(first_day), np.datetime64(last_day) + 1)
    day_wd = (all_days.astype("datetime64[D]").astype(np.int64) + 3) % 7
    n_wd = np.bincount(day_wd, minlength=7).astype(float)
    per_wd = np.bincount(weekdays, minlength=7) / np.maximum(n_wd, 1.0)
    weekday = per_wd / per_wd.mean()

    iv: dict[str, F64] = {}
    missing: dict[str, int] = {}
    impossible: dict[str, int] = {}
    for name in CALIBRATION_INTERVALS:
        iv[name], missing[name], impossible[name] = interval_minutes(calls, name)

    prio_raw = (
        calls["priority"] if "priority" in calls.columns else pl.Series([None] * calls.height)
    )
    missing["priority"] = int(prio_raw.is_null().sum())
    prio = prio_raw.fill_null(-1).cast(pl.Int64).to_numpy()
    codes = np.asarray(calls["call_type_code"].fill_null("(missing)").to_list(), dtype=object)

    priorities: list[PriorityStats] = []
    q2d_by_p: dict[int, Empirical] = {}
    d2a_by_p: dict[int, Empirical] = {}
    os_by_p: dict[int, Empirical] = {}
    for p in sorted(int(x) for x in np.unique(prio) if x >= 1):
        sel = prio == p
        c2d = iv["call_to_dispatch_s"][sel]
        d2a = iv["dispatch_to_arrival_s"][sel]
        c2a = iv["call_to_arrival_s"][sel]
        priorities.append(
            PriorityStats(
                priority=p,
                n=int(sel.sum()),
                share=float(sel.mean()),
                n_call_to_dispatch=int(np.isfinite(c2d).sum()),
                call_to_dispatch_median=_median(c2d),
                call_to_dispatch_p90=_p90(c2d),
                n_dispatch_to_arrival=int(np.isfinite(d2a).sum()),
                dispatch_to_arrival_median=_median(d2a),
                dispatch_to_arrival_p90=_p90(d2a),
                n_call_to_arrival=int(np.isfinite(c2a).sum()),
                call_to_arrival_median=_median(c2a),
                call_to_arrival_p90=_p90(c2a),
                call_taking_median=_median(iv["call_to_queue_s"][sel]),
                queue_to_dispatch_median=_median(iv["queue_to_dispatch_s"][sel]),
            )
        )
        for target, name in (
            (q2d_by_p, "queue_to_dispatch_s"),
            (d2a_by_p, "dispatch_to_arrival_s"),
            (os_by_p, "on_scene_s"),
        ):
            x = iv[name][sel]
            if np.isfinite(x).sum() >= min_count:
                t = quantile_table(x, points)
                assert t is not None
                target[p] = t

    types: list[TypeStats] = []
    os_by_type: dict[str, Empirical] = {}
    uniq, inverse, n_by = np.unique(codes.astype(str), return_inverse=True, return_counts=True)
    for k in np.lexsort((uniq, -n_by)):
        code = str(uniq[k])
        sel = inverse == k
        ps = prio[sel]
        ps = ps[ps >= 1]
        mix_vals, mix_n = np.unique(ps, return_counts=True)
        mix = {int(v): float(c / mix_n.sum()) for v, c in zip(mix_vals, mix_n, strict=True)}
        modal = int(mix_vals[np.argmax(mix_n)]) if len(mix_vals) else 1
        types.append(
            TypeStats(
                code=code,
                n=int(n_by[k]),
                share=float(n_by[k] / calls.height),
                priority=modal,
                priority_mix=mix or {1: 1.0},
            )
        )
        x = iv["on_scene_s"][sel]
        if np.isfinite(x).sum() >= min_count:
            t = quantile_table(x, points)
            assert t is not None
            os_by_type[code] = t

    oi_on_scene, _, _ = interval_minutes(officer, "on_scene_s")
    return Calibration(
        schema_version=SCHEMA_VERSION,
        source=source,
        timezone=timezone,
        agency=agency,
        first_day=first_day,
        last_day=last_day,
        days=days,
        min_count=min_count,
        counts=counts,
        impossible=impossible,
        missing=missing,
        calls_per_day=calls.height / days,
        hourly_profile=tuple(float(x) for x in hourly / hourly.sum()),
        weekday_profile=tuple(float(x) for x in weekday),
        priorities=tuple(priorities),
        types=tuple(types),
        on_scene=OnSceneTables(
            by_type=os_by_type,
            by_priority=os_by_p,
            overall=quantile_table(iv["on_scene_s"], points),
        ),
        call_taking=quantile_table(iv["call_to_queue_s"], points),
        queue_to_dispatch=q2d_by_p,
        turnout=quantile_table(iv["dispatch_to_en_route_s"], points),
        travel=quantile_table(iv["travel_s"], points),
        dispatch_to_arrival=d2a_by_p,
        proactive=ProactiveStats(
            n=officer.height,
            per_day=officer.height / days,
            duration=quantile_table(oi_on_scene, points),
        ),
    )


# ---------------------------------------------------------------- the fit

FIT_SHIFTS: tuple[tuple[str, str, float], ...] = (("day", "06:00", 13.0), ("night", "19:00", 11.0))
"""The shifts of the fit: the CAD export's own (its Shift column: day teams A/B from
06:00 to 18:59, night teams C/D from 19:00 to 05:59)."""


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FitRow(_Out):
    """One priority: observed vs simulated medians (minutes) and relative errors
    ``(simulated - observed) / observed`` (None below an observed 0.1 minute)."""

    priority: int
    calls: int
    fitted: bool
    observed_call_to_dispatch: float | None
    simulated_call_to_dispatch: Estimate
    error_call_to_dispatch: float | None
    observed_dispatch_to_arrival: float | None
    simulated_dispatch_to_arrival: Estimate
    error_dispatch_to_arrival: float | None
    observed_call_to_arrival: float | None
    simulated_call_to_arrival: Estimate
    error_call_to_arrival: float | None


class FitShiftRow(_Out):
    """One shift: the fitted units and the anchor priority's call-to-dispatch median."""

    shift: str
    units: int
    calls: int
    observed_call_to_dispatch: float | None
    simulated_call_to_dispatch: Estimate
    error_call_to_dispatch: float | None


class PreemptionCheck(_Out):
    """One pre-emption rule the fit tried: its best staffing, score, speed factors and
    dispatcher delay (minutes), and how near its priority-1 call-to-dispatch 90th
    percentile (minutes) comes to the observed."""

    preempt_priority: int
    units: list[int]
    score: float
    priority_speed_factor: list[float]
    dispatch_delay_min: float
    observed_p1_call_to_dispatch_p90: float | None
    simulated_p1_call_to_dispatch_p90: Estimate
    error_p1_call_to_dispatch_p90: float | None


class FitResult(_Out):
    """The fitted unknowns and how well the simulator reproduces the observed medians.

    ``priority_speed_factor`` is the engine's factor on speed by priority (1, 2, ...;
    fitted for ``speed_priority``), ``preempt_priority`` the pre-emption rule the fit
    ran with; ``preempted_share`` is the share of calls that lost a unit to a
    higher-priority call and ``preemptions_per_day`` how many times that happened.
    """

    source: str
    calls: int
    days: float
    anchor_priority: int
    delay_priority: int
    units: list[int]
    area_km2: float
    speed_kmh: float
    circuity: float
    turnout_min: float
    dispatch_delay_min: float
    proactive_rate_per_hour: float
    proactive_mean_min: float
    replications: int
    evaluations: int
    score: float
    utilisation: Estimate
    shifts: list[FitShiftRow]
    rows: list[FitRow]
    speed_priority: int | None = None
    priority_speed_factor: list[float] = Field(default_factory=list)
    preempt_priority: int = 0
    preempted_share: Estimate | None = None
    preemptions_per_day: Estimate | None = None
    preemption_checks: list[PreemptionCheck] = Field(default_factory=list)


def _rel(sim: float | None, obs: float | None) -> float | None:
    """``(sim - obs) / obs``; None when either is missing or ``obs`` is under 0.1 minute
    (6 s: a relative error of a near-zero interval means nothing)."""
    if sim is None or obs is None or obs < 0.1:
        return None
    return (sim - obs) / obs


def _shift_of_hour(
    hours: npt.NDArray[np.int64], shifts: Sequence[tuple[str, str, float]]
) -> npt.NDArray[np.int64]:
    """Shift index of each local hour: the first shift whose window holds it (-1: none)."""
    out = np.full(len(hours), -1, dtype=np.int64)
    for k, (_, start, length) in enumerate(shifts):
        h0 = int(start[:2])
        inside = ((hours - h0) % 24) < length
        out[(out < 0) & inside] = k
    return out


def fit_scenario(
    calibration: Calibration,
    *,
    units: Sequence[int],
    area_km2: float,
    shifts: Sequence[tuple[str, str, float]] = FIT_SHIFTS,
    speed_kmh: float = 40.0,
    circuity: float = 1.3,
    delay_min: float = 0.0,
    proactive_rate_per_hour: float = 0.0,
    priority_speed_factor: Sequence[float] = (),
    preempt_priority: int = 0,
    replications: int = 3,
    seed: int = 0,
) -> Scenario:
    """The replay scenario of the fit: one district of ``area_km2``, ``units`` per shift.

    The calls are the agency's citizen-initiated ones with their recorded call-taking
    and on-scene times (the calibration's tables fill the gaps); the dispatcher delay
    is a constant ``delay_min``; turnout is the median observed one; proactive work
    lasts the observed mean officer-initiated time and yields to priority-1 calls;
    ``priority_speed_factor`` and ``preempt_priority`` are the engine's options
    (:class:`~smart_policing.response.sim.engine.DispatchRules`).
    """
    turnout = calibration.turnout.quantile(0.5) if calibration.turnout is not None else 0.0
    duration = calibration.proactive.duration
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "name": f"fit: {calibration.source}",
        "seed": seed,
        "replications": replications,
        "warmup_days": 1.0,
        "timezone": calibration.timezone,
        "geography": {"layout": "synthetic", "districts": [{"name": "city", "area_km2": area_km2}]},
        "shifts": [{"name": n, "start": s, "hours": h} for n, s, h in shifts],
        "staffing": {"city": list(units)},
        "calls": {"mode": "replay", "agency": calibration.agency},
        "call_taking": (calibration.call_taking or Empirical(quantiles=(0, 0))).model_dump(),
        "dispatch_delay": {"kind": "fixed", "value": delay_min},
        "dispatch": {
            "speed_kmh": speed_kmh,
            "circuity": circuity,
            "turnout_min": turnout,
            "backup_after_min": None,
            "proactive_rate_per_hour": proactive_rate_per_hour,
            "proactive_mean_min": duration.mean() if duration is not None else 20.0,
            "proactive_yields_to_priority": 1,
            "priority_speed_factor": [float(f) for f in priority_speed_factor],
            "preempt_priority": preempt_priority,
        },
    }
    return Scenario.model_validate(data)


def _with_scenario(prepared: PreparedScenario, scenario: Scenario) -> PreparedScenario:
    """The prepared replay with another one-district scenario (units, area, rules)."""
    assert isinstance(prepared.calls, CallReplay)
    districts = build_district_map(scenario.geography)
    return replace(
        prepared,
        scenario=scenario.with_changes(
            start_date=prepared.start, horizon_days=prepared.horizon_days
        ),
        districts=districts,
        calls=replace(prepared.calls, districts=districts, dispatch_delay=scenario.dispatch_delay),
    )


@dataclass(frozen=True)
class _Eval:
    """Simulated medians of one candidate (per replication lists)."""

    c2d: dict[int, list[float]]
    d2a: dict[int, list[float]]
    c2a: dict[int, list[float]]
    c2d_p90: dict[int, list[float]]
    shift_c2d: list[list[float]]
    utilisation: list[float]
    activity: list[float]
    on_duty_h_per_day: list[float]
    preempted_share: list[float]
    preemptions_per_day: list[float]


def _med(x: F64) -> float:
    return float(np.median(x)) if len(x) else math.nan


def _evaluate(
    prepared: PreparedScenario, shifts: Sequence[tuple[str, str, float]], anchor: int
) -> _Eval:
    s = prepared.scenario
    tz = s.timezone
    origin_s = run_origin(prepared.start, tz).timestamp()
    fleet = prepared.fleet()
    ev = _Eval({}, {}, {}, {}, [[] for _ in shifts], [], [], [], [], [])
    for r in range(s.replications):
        calls, fleet, run, _ = simulate_replication(prepared, r, fleet=fleet)
        m = (calls.received_min >= prepared.warmup_min) & (
            calls.received_min < prepared.horizon_min
        )
        rec = calls.received_min[m]
        disp = run.dispatch_min[m]
        arr = run.on_scene_at_min[m]
        prio = calls.priority[m]
        for p in np.unique(prio):
            sel = prio == p
            waited = (disp - rec)[sel & ~np.isnan(disp)]
            ev.c2d.setdefault(int(p), []).append(_med(waited))
            ev.c2d_p90.setdefault(int(p), []).append(
                float(np.quantile(waited, 0.9)) if len(waited) else math.nan
            )
            ok = sel & ~np.isnan(arr)
            ev.d2a.setdefault(int(p), []).append(_med((arr - disp)[ok]))
            ev.c2a.setdefault(int(p), []).append(_med((arr - rec)[ok]))
        local = (
            pl.from_epoch(pl.Series(np.round(origin_s + rec * 60.0).astype(np.int64)), "s")
            .dt.replace_time_zone("UTC")
            .dt.convert_time_zone(tz)
            .dt.hour()
            .to_numpy()
            .astype(np.int64)
        )
        shift = _shift_of_hour(local, shifts)
        for k in range(len(shifts)):
            sel = (shift == k) & (prio == anchor) & ~np.isnan(disp)
            ev.shift_c2d[k].append(_med((disp - rec)[sel]))
        measured = (fleet.start_min >= prepared.warmup_min) & (
            fleet.end_min <= prepared.horizon_min
        )
        on_duty = float((fleet.end_min - fleet.start_min)[measured].sum())
        ev.utilisation.append(float(run.committed_min[measured].sum()) / on_duty)
        ev.activity.append(float(run.proactive_min[measured].sum()) / on_duty)
        days = (prepared.horizon_min - prepared.warmup_min) / 1440.0
        ev.on_duty_h_per_day.append(on_duty / 60.0 / days)
        pre = run.preempted[m]
        ev.preempted_share.append(float((pre > 0).mean()) if len(pre) else math.nan)
        ev.preemptions_per_day.append(float(pre.sum()) / days)
    return ev


def _citizen(frame: pl.DataFrame, agency: str | None) -> pl.DataFrame:
    f = frame
    if agency is not None and "agency" in f.columns:
        f = f.filter(pl.col("agency").fill_null("") == agency)
    return f.filter(pl.Series(~_officer_initiated(f)))


def fit_simulator(
    frame: pl.DataFrame,
    calibration: Calibration,
    *,
    shifts: Sequence[tuple[str, str, float]] = FIT_SHIFTS,
    anchor_priority: int = 2,
    delay_priority: int = 1,
    speed_priority: int | None = 1,
    preempt_priority: int | None = None,
    start_area_km2: float = 50.0,
    speed_kmh: float = 40.0,
    circuity: float = 1.3,
    replications: int = 3,
    seed: int = 0,
    min_improvement: float = 0.002,
    start_units: Sequence[int] | None = None,
    max_evaluations: int = 80,
    progress: Callable[[str], None] | None = None,
) -> FitResult:
    """Fit units per shift, the effective area and the dispatcher delay to a CAD export.

    ``frame`` holds the calls ``calibration`` was computed from. For each candidate
    staffing (units per shift) the continuous unknowns are rescaled in turn until they
    settle (five rounds): the **area**, until the simulated median dispatch-to-arrival
    of ``anchor_priority`` calls matches the observed one (travel grows with
    ``sqrt(area)``); the **speed factor** of ``speed_priority`` calls (None: one speed),
    until their median dispatch-to-arrival matches (travel shrinks with the factor);
    the **dispatcher delay** (a constant between queue and the moment a free unit can
    be assigned), until the simulated median call-to-dispatch of ``delay_priority``
    calls matches; and the **proactive rate**, until the simulated officer-initiated
    activities match the observed count per day. The candidate's score is the mean
    over shifts of the squared log ratio of the simulated to the observed median
    call-to-dispatch of ``anchor_priority`` calls received in that shift. A
    steepest-descent search over staffing (each step tries every neighbour: each shift
    -1, 0 or +1 unit) from a workload-based start per shift (its share of the calls
    and of the proactive work over 0.6 utilisation; or ``start_units``) moves only if
    the best neighbour lowers the score by more than ``min_improvement`` (replication
    noise: where medians no longer respond to units the search stops instead of
    drifting); each candidate starts from the unknowns of the current best.

    ``preempt_priority``: the engine's pre-emption rule to fit with; None (default)
    searches with 0 (off) and 1 (priority 1 pre-empts; the second search starts from
    the first's staffing) and keeps the rule whose simulated priority-1
    call-to-dispatch 90th percentile is nearer the observed one (``preemption_checks``
    in the result lists both). Rows of priorities not fitted say how well the model
    reproduces them.
    """
    observed = {p.priority: p for p in calibration.priorities}
    if speed_priority == anchor_priority:
        raise ValueError("speed_priority must differ from anchor_priority (which sets the area)")
    if speed_priority is not None and speed_priority < 1:
        raise ValueError(f"speed_priority must be >= 1 or None, got {speed_priority}")
    if preempt_priority is not None and preempt_priority < 0:
        raise ValueError(f"preempt_priority must be >= 0, got {preempt_priority}")
    needed = (anchor_priority, delay_priority) + (
        (speed_priority,) if speed_priority is not None else ()
    )
    for need in needed:
        if need not in observed:
            raise ValueError(f"no priority-{need} calls to fit on")
    obs_d2a = observed[anchor_priority].dispatch_to_arrival_median
    obs_delay = observed[delay_priority].call_to_dispatch_median
    if obs_d2a is None or obs_delay is None:
        raise ValueError("no usable dispatch-to-arrival or call-to-dispatch to fit on")
    turnout = calibration.turnout.quantile(0.5) if calibration.turnout is not None else 0.0
    obs_speed_d2a = (
        observed[speed_priority].dispatch_to_arrival_median if speed_priority is not None else None
    )
    if speed_priority is not None and (obs_speed_d2a is None or obs_speed_d2a <= turnout):
        raise ValueError(f"no usable priority-{speed_priority} dispatch-to-arrival to fit on")

    def factors(factor: float) -> tuple[float, ...]:
        """The engine's speed factors: ``factor`` for ``speed_priority``, 1 before it."""
        if speed_priority is None:
            return ()
        return (1.0,) * (speed_priority - 1) + (factor,)

    # observed anchor call-to-dispatch medians by shift (local hour of reception)
    citizen = _citizen(frame, calibration.agency)
    c2d, _, _ = interval_minutes(citizen, "call_to_dispatch_s")
    hours = (
        citizen["received_at"].dt.convert_time_zone(calibration.timezone).dt.hour().to_numpy()
    ).astype(np.int64)
    prio = citizen["priority"].fill_null(-1).to_numpy()
    shift_of = _shift_of_hour(hours, shifts)
    obs_shift: list[float | None] = []
    n_shift: list[int] = []
    for k in range(len(shifts)):
        x = c2d[(shift_of == k) & (prio == anchor_priority)]
        obs_shift.append(_median(x))
        n_shift.append(int(np.isfinite(x).sum()))

    base = fit_scenario(
        calibration, units=[1] * len(shifts), area_km2=start_area_km2, shifts=shifts
    )
    prepared = prepare_scenario(base, calls_frame=frame, calibration=calibration)
    assert isinstance(prepared.calls, CallReplay)
    pro = calibration.proactive
    pro_mean = pro.duration.mean() if pro.duration is not None else 20.0
    # workload-based start, per shift: busy unit-hours per hour (the shift's share of the
    # calls, proactive work spread evenly) / 0.6
    recorded = prepared.calls.on_scene_min[np.isfinite(prepared.calls.on_scene_min)]
    typical = calibration.on_scene.overall.mean() if calibration.on_scene.overall else 30.0
    mean_call = (float(recorded.mean()) if len(recorded) else typical) + obs_d2a
    in_shift = np.array([(shift_of == k).mean() for k in range(len(shifts))])
    hours_of = np.array([length for _, _, length in shifts], dtype=np.float64)
    load = (
        calibration.calls_per_day * in_shift * mean_call / (hours_of * 60.0)
        + pro.per_day * pro_mean / 1440.0
    )
    first = (
        tuple(start_units)
        if start_units is not None
        else tuple(max(1, round(float(x) / 0.6)) for x in load)
    )

    Unknowns = tuple[float, float, float, float]  # area, delay, proactive rate, speed factor
    Fit = tuple[float, Unknowns, _Eval]
    q2d = observed[delay_priority].queue_to_dispatch_median or 0.0

    def search(
        pre: int, first: tuple[int, ...]
    ) -> tuple[tuple[int, ...], dict[tuple[int, ...], Fit]]:
        """The staffing search with pre-emption rule ``pre``: (best units, every fit)."""
        cache: dict[tuple[int, ...], Fit] = {}
        warm: list[Unknowns] = [(start_area_km2, q2d, 0.0, 1.0)]

        def evaluate(units: tuple[int, ...]) -> float:
            if units in cache:
                return cache[units][0]
            area, delay, rate, factor = warm[0]
            ev: _Eval | None = None
            for _ in range(5):
                scen = fit_scenario(
                    calibration,
                    units=units,
                    area_km2=area,
                    shifts=shifts,
                    speed_kmh=speed_kmh,
                    circuity=circuity,
                    delay_min=delay,
                    proactive_rate_per_hour=rate,
                    priority_speed_factor=factors(factor),
                    preempt_priority=pre,
                    replications=replications,
                    seed=seed,
                )
                ev = _evaluate(_with_scenario(prepared, scen), shifts, anchor_priority)
                sim_d2a = float(np.nanmean(ev.d2a.get(anchor_priority, [math.nan])))
                scale = 1.0  # how the area's change scales every travel time
                if math.isfinite(sim_d2a) and sim_d2a > turnout:
                    new_area = area * ((obs_d2a - turnout) / (sim_d2a - turnout)) ** 2
                    new_area = min(max(new_area, 0.5), 20_000.0)
                    scale = math.sqrt(new_area / area)
                    area = new_area
                if speed_priority is not None and obs_speed_d2a is not None:
                    # travel ~ sqrt(area) / factor: the speed priority's median after
                    # the area's change, over the observed one
                    sim_sp = float(np.nanmean(ev.d2a.get(speed_priority, [math.nan])))
                    if math.isfinite(sim_sp) and sim_sp > turnout:
                        factor *= (sim_sp - turnout) * scale / (obs_speed_d2a - turnout)
                        factor = min(max(factor, 0.2), 5.0)
                sim_delay = float(np.nanmean(ev.c2d.get(delay_priority, [math.nan])))
                if math.isfinite(sim_delay):
                    delay = max(delay + (obs_delay - sim_delay), 0.0)
                # officer-initiated starts per idle hour reproduce the observed count
                on_duty = float(np.mean(ev.on_duty_h_per_day))
                busy = float(np.mean(ev.utilisation)) + float(np.mean(ev.activity))
                idle = on_duty * (1.0 - busy)
                if pro.per_day > 0 and idle > 0:
                    rate = pro.per_day / idle
            assert ev is not None
            errs = []
            for k, obs in enumerate(obs_shift):
                sim = float(np.nanmean(ev.shift_c2d[k]))
                if obs is None or obs <= 0 or not math.isfinite(sim) or sim <= 0:
                    errs.append(4.0)
                else:
                    errs.append(math.log(sim / obs) ** 2)
            score = float(np.mean(errs))
            cache[units] = (score, (area, delay, rate, factor), ev)
            if progress is not None:
                progress(
                    f"pre-emption {pre}, units {list(units)}: score {score:.4f}, "
                    f"area {area:.1f} km2, delay {delay:.2f} min, speed x{factor:.2f}"
                )
            return score

        best = first
        best_score = evaluate(best)
        warm[0] = cache[best][1]
        while len(cache) < max_evaluations:
            # steepest descent over the neighbours (every shift -1, 0 or +1 unit)
            moves = itertools.product((-1, 0, 1), repeat=len(shifts))
            cands = [tuple(u + d for u, d in zip(best, m, strict=True)) for m in moves]
            cands = [c for c in cands if c != best and min(c) >= 1]
            scored = []
            for c in cands:
                if len(cache) >= max_evaluations and c not in cache:
                    continue
                scored.append((evaluate(c), c))
            if not scored:
                break
            sc, cand = min(scored)
            if sc >= best_score - min_improvement:
                break
            best, best_score = cand, sc
            warm[0] = cache[best][1]
        return best, cache

    # one search per pre-emption rule; keep the rule whose priority-1 call-to-dispatch
    # 90th percentile is nearer the observed one (waits of P1 calls finding every unit busy)
    policies = (0, 1) if preempt_priority is None else (preempt_priority,)
    obs_p1_p90 = observed[1].call_to_dispatch_p90 if 1 in observed else None
    checks: list[PreemptionCheck] = []
    searched: list[tuple[float, int, tuple[int, ...], Fit, int]] = []
    for pre in policies:
        best, cache = search(pre, first if not searched else searched[-1][2])
        fit = cache[best]
        sim_p90 = estimate(fit[2].c2d_p90.get(1, []), lower=0.0)
        err = _rel(sim_p90.mean, obs_p1_p90)
        checks.append(
            PreemptionCheck(
                preempt_priority=pre,
                units=list(best),
                score=fit[0],
                priority_speed_factor=list(factors(fit[1][3])),
                dispatch_delay_min=fit[1][1],
                observed_p1_call_to_dispatch_p90=obs_p1_p90,
                simulated_p1_call_to_dispatch_p90=sim_p90,
                error_p1_call_to_dispatch_p90=err,
            )
        )
        gap = abs(math.log1p(err)) if err is not None and err > -1 else math.inf
        searched.append((gap, pre, best, fit, len(cache)))
    chosen = min(searched, key=lambda x: x[0]) if len(searched) > 1 else searched[0]
    _, pre, best, (score, (area, delay, rate, factor), ev), _ = chosen
    evaluations = sum(x[4] for x in searched)
    rows = []
    for obs in calibration.priorities:
        if obs.n < calibration.min_count or obs.priority not in ev.c2d:
            continue
        sim_c2d = estimate(ev.c2d[obs.priority], lower=0.0)
        sim_d2a = estimate(ev.d2a[obs.priority], lower=0.0)
        sim_c2a = estimate(ev.c2a[obs.priority], lower=0.0)
        rows.append(
            FitRow(
                priority=obs.priority,
                calls=obs.n,
                fitted=obs.priority in (anchor_priority, delay_priority, speed_priority),
                observed_call_to_dispatch=obs.call_to_dispatch_median,
                simulated_call_to_dispatch=sim_c2d,
                error_call_to_dispatch=_rel(sim_c2d.mean, obs.call_to_dispatch_median),
                observed_dispatch_to_arrival=obs.dispatch_to_arrival_median,
                simulated_dispatch_to_arrival=sim_d2a,
                error_dispatch_to_arrival=_rel(sim_d2a.mean, obs.dispatch_to_arrival_median),
                observed_call_to_arrival=obs.call_to_arrival_median,
                simulated_call_to_arrival=sim_c2a,
                error_call_to_arrival=_rel(sim_c2a.mean, obs.call_to_arrival_median),
            )
        )
    shift_rows = []
    for k, (name, start, length) in enumerate(shifts):
        sim = estimate(ev.shift_c2d[k], lower=0.0)
        shift_rows.append(
            FitShiftRow(
                shift=f"{name} {start} ({length:g} h)",
                units=best[k],
                calls=n_shift[k],
                observed_call_to_dispatch=obs_shift[k],
                simulated_call_to_dispatch=sim,
                error_call_to_dispatch=_rel(sim.mean, obs_shift[k]),
            )
        )
    return FitResult(
        source=calibration.source,
        calls=calibration.counts.get("citizen_calls", 0),
        days=calibration.days,
        anchor_priority=anchor_priority,
        delay_priority=delay_priority,
        units=list(best),
        area_km2=area,
        speed_kmh=speed_kmh,
        circuity=circuity,
        turnout_min=turnout,
        dispatch_delay_min=delay,
        proactive_rate_per_hour=rate,
        proactive_mean_min=pro_mean,
        replications=replications,
        evaluations=evaluations,
        score=score,
        utilisation=estimate(ev.utilisation),
        shifts=shift_rows,
        rows=rows,
        speed_priority=speed_priority,
        priority_speed_factor=list(factors(factor)),
        preempt_priority=pre,
        preempted_share=estimate(ev.preempted_share, lower=0.0, upper=1.0),
        preemptions_per_day=estimate(ev.preemptions_per_day, lower=0.0),
        preemption_checks=checks,
    )
