"""Replications of a scenario, the metrics of each, and their confidence intervals.

One scenario run is ``R`` independent replications. Replication ``r`` takes its random
numbers from ``numpy.random.SeedSequence(seed, spawn_key=(r,))`` (the ``r``-th child of
``SeedSequence(seed)``), split into three independent streams: the calls (generated
calls, or the gaps of replayed ones), the engine (proactive activity) and the
diversion draws. The calls of replication ``r`` therefore do not depend on staffing or
diversion: two staffing levels compared replication by replication see the same calls
(common random numbers), which makes their difference far less noisy than either.

Measured window
    Calls *received* in ``[warmup, horizon)`` (minutes) and tours lying entirely in
    that window are measured. Tours of the warm-up, and the cool-down day after the
    horizon that lets the last calls be answered, are simulated but not measured.

Per replication (:class:`ReplicationMetrics`), with the definitions of
``docs/response.md``:

* per priority: call-to-dispatch ``dispatch - received``, dispatch-to-arrival,
  call-to-arrival (the **response time**, ``on_scene - received``: call-taking,
  dispatcher delay, queue wait, turnout and travel), their median and 90th percentile;
  the queue wait ``dispatch - queued`` (time waiting for a unit); the share within the
  target; a histogram of response times; calls never reached are counted apart and
  never count as met;
* the **P1 within-target share**: priority-1 calls reached within ``p1_target_min``
  over priority-1 calls reached;
* per district, per shift, per district x shift and overall, over the measured tours:
  **utilisation** ``committed / on-duty`` (committed = travel + on scene for calls,
  inside the tour), **proactive share** ``1 - committed / (on-duty x (1 - admin
  allowance))`` (available time not committed to calls, as in ``docs/response.md``), the
  share of on-duty time spent on simulated proactive activities, and overtime (call
  time after the tour's end, hours per day);
* the share of dispatched calls whose first unit came from another district (backup);
* with pre-emption (``dispatch.preempt_priority``), the share of dispatched calls that
  lost a unit to a higher-priority call at least once.

Summary (:class:`ScenarioResult`): every metric's mean over replications with a 95%
confidence interval from Student's t with ``R - 1`` degrees of freedom, ``mean +-
t(0.975, R-1) s / sqrt(R)`` (Law, *Simulation Modeling and Analysis*, 5th ed., 2015,
section 9.4.1: independent replications). Metrics undefined in a replication (no
priority-1 call) are left out of that metric's mean, and ``n`` says how many remain; an
interval needs ``n >= 2``.
"""

from __future__ import annotations

import math
import time as _time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from smart_policing.response.sim.engine import DispatchRules, Fleet, SimRun, simulate
from smart_policing.response.sim.generate import (
    CallGenerator,
    CallReplay,
    CallTable,
    DistrictMap,
    ReplayCounts,
    build_district_map,
    build_fleet,
    call_generator,
    call_replay,
    replay_window,
)
from smart_policing.response.sim.scenario import (
    Calibration,
    GenerateCalls,
    ReplayCalls,
    Scenario,
    load_calibration,
)

__all__ = [
    "HISTOGRAM_EDGES_MIN",
    "DistrictResult",
    "Estimate",
    "GroupTime",
    "HistogramBin",
    "PreparedScenario",
    "PriorityMetrics",
    "PriorityResult",
    "ReplicationMetrics",
    "ScenarioResult",
    "ShiftResult",
    "StaffingCell",
    "TimeResult",
    "dispatch_rules",
    "estimate",
    "prepare_scenario",
    "replication_metrics",
    "replication_seed",
    "run_replication",
    "run_scenario",
    "simulate_replication",
    "summarise",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

HISTOGRAM_EDGES_MIN: tuple[float, ...] = (
    *(float(x) for x in range(0, 32, 2)),
    40.0,
    50.0,
    60.0,
    90.0,
    120.0,
    math.inf,
)
"""Response-time histogram bin edges (minutes): 2-minute bins to 30, then wider."""


# ---------------------------------------------------------------- preparation


@dataclass(frozen=True)
class PreparedScenario:
    """A scenario with its files read once: districts, calibration, call source.

    Picklable (plain arrays and pydantic models): ship it to Dask workers and change
    staffing (:meth:`with_staffing`) or the calls (:meth:`with_calls`) without reading
    any file again.
    """

    scenario: Scenario
    districts: DistrictMap
    calls: CallGenerator | CallReplay
    start: date
    horizon_days: float
    calibration: Calibration | None = None

    @property
    def horizon_min(self) -> float:
        """Measured horizon, minutes."""
        return self.horizon_days * 1440.0

    @property
    def warmup_min(self) -> float:
        """Warm-up, minutes."""
        return self.scenario.warmup_days * 1440.0

    def with_staffing(self, units: npt.ArrayLike | dict[str, tuple[int, ...]]) -> PreparedScenario:
        """The same scenario and calls with other staffing (districts x shifts)."""
        return replace(self, scenario=self.scenario.with_staffing(units))

    def with_calls(self, keep: npt.NDArray[np.bool_]) -> PreparedScenario:
        """A replay with only the calls where ``keep`` is true (replay order)."""
        if not isinstance(self.calls, CallReplay):
            raise TypeError("with_calls filters replayed calls; use divert= for generated ones")
        return replace(self, calls=self.calls.with_calls(keep))

    def fleet(self) -> Fleet:
        """The unit tours of this staffing."""
        s = self.scenario
        return build_fleet(
            s.staffing_matrix(),
            s.shifts,
            self.districts,
            start=self.start,
            timezone=s.timezone,
            horizon_days=self.horizon_days,
        )


def prepare_scenario(
    scenario: Scenario,
    *,
    calls_frame: pl.DataFrame | None = None,
    calibration: Calibration | None = None,
) -> PreparedScenario:
    """Read what the scenario names (calibration file, GeoJSON layer, replay file) once.

    ``calls_frame`` supplies replayed calls already read (canonical call columns, e.g.
    the stored calls); otherwise a replay scenario's ``calls.file`` is read with the
    importer's reader. Raises ``ValueError`` (or the reader's
    :class:`~smart_policing.data.reader.UnusableFileError`, a ``ValueError``) naming
    the file when something cannot be used.
    """
    if calibration is None and scenario.calibration is not None:
        calibration = load_calibration(scenario.calibration)
    districts = build_district_map(scenario.geography)
    spec = scenario.calls
    if isinstance(spec, GenerateCalls):
        assert scenario.start_date is not None
        assert scenario.horizon_days is not None
        return PreparedScenario(
            scenario=scenario,
            districts=districts,
            calls=call_generator(scenario, districts, calibration),
            start=scenario.start_date,
            horizon_days=scenario.horizon_days,
            calibration=calibration,
        )
    assert isinstance(spec, ReplayCalls)
    if calls_frame is None:
        if spec.file is None:
            raise ValueError("the scenario replays the stored calls: pass them as calls_frame")
        from smart_policing.triage.replay_cli import read_calls_file

        calls_frame, _ = read_calls_file(
            Path(spec.file), timezone=scenario.timezone, format_name=spec.format
        )
    start, days = replay_window(calls_frame, scenario)
    fixed = scenario.with_changes(start_date=start, horizon_days=days)
    return PreparedScenario(
        scenario=fixed,
        districts=districts,
        calls=call_replay(calls_frame, fixed, districts, calibration),
        start=start,
        horizon_days=days,
        calibration=calibration,
    )


def dispatch_rules(scenario: Scenario) -> DispatchRules:
    """The engine's rules from the scenario's ``dispatch`` section."""
    return DispatchRules(**scenario.dispatch.model_dump())


# ---------------------------------------------------------------- one replication


@dataclass(frozen=True)
class PriorityMetrics:
    """One priority in one replication (minutes; NaN when undefined)."""

    priority: int
    calls: int
    reached: int
    response_median: float
    response_p90: float
    response_mean: float
    call_to_dispatch_median: float
    call_to_dispatch_p90: float
    dispatch_to_arrival_median: float
    queue_wait_mean: float
    queue_wait_median: float
    queue_wait_p90: float
    within_target: float
    histogram: tuple[float, ...]


@dataclass(frozen=True)
class GroupTime:
    """Unit time of a group of measured tours in one replication."""

    tours: int
    on_duty_h: float
    committed_h: float
    proactive_h: float
    overtime_h: float
    calls_handled: int

    def utilisation(self) -> float:
        """Committed / on-duty (NaN without tours)."""
        return self.committed_h / self.on_duty_h if self.on_duty_h > 0 else math.nan

    def proactive_share(self, admin: float) -> float:
        """``1 - committed / (on-duty x (1 - admin))`` (NaN without tours)."""
        if self.on_duty_h <= 0:
            return math.nan
        return 1.0 - self.committed_h / (self.on_duty_h * (1.0 - admin))

    def activity_share(self) -> float:
        """Simulated proactive activity / on-duty (NaN without tours)."""
        return self.proactive_h / self.on_duty_h if self.on_duty_h > 0 else math.nan


@dataclass(frozen=True)
class ReplicationMetrics:
    """Everything measured in one replication (plain numbers)."""

    calls: int
    unreached: int
    priorities: tuple[PriorityMetrics, ...]
    p1_within_target: float
    backup_share: float
    district_calls: tuple[int, ...]
    district_p1_within_target: tuple[float, ...]
    district_time: tuple[GroupTime, ...]
    shift_time: tuple[GroupTime, ...]
    cell_time: tuple[tuple[GroupTime, ...], ...]  # [district][shift]
    overall_time: GroupTime
    measured_days: float
    events: int
    diverted: int = 0
    preempted_share: float = math.nan


def _q(x: F64, p: float) -> float:
    return float(np.quantile(x, p)) if len(x) else math.nan


def _mean(x: F64) -> float:
    return float(x.mean()) if len(x) else math.nan


def _group_time(run: SimRun, fleet: Fleet, mask: npt.NDArray[np.bool_]) -> GroupTime:
    dur = (fleet.end_min - fleet.start_min)[mask]
    return GroupTime(
        tours=int(mask.sum()),
        on_duty_h=float(dur.sum()) / 60.0,
        committed_h=float(run.committed_min[mask].sum()) / 60.0,
        proactive_h=float(run.proactive_min[mask].sum()) / 60.0,
        overtime_h=float(run.overtime_min[mask].sum()) / 60.0,
        calls_handled=int(run.calls_handled[mask].sum()),
    )


def replication_metrics(
    calls: CallTable,
    fleet: Fleet,
    run: SimRun,
    *,
    n_districts: int,
    n_shifts: int,
    warmup_min: float,
    horizon_min: float,
    target_min: float,
    diverted: int = 0,
) -> ReplicationMetrics:
    """The metrics of one replication from the engine's arrays (see the module docstring).

    ``calls`` must be the table the run's :class:`CallStream` came from (same order).
    """
    received = calls.received_min
    m = (received >= warmup_min) & (received < horizon_min)
    dispatch = run.dispatch_min[m]
    arrive = run.on_scene_at_min[m]
    rec = received[m]
    queued = calls.queue_min[m]
    prio = calls.priority[m]
    reached_all = ~np.isnan(arrive)
    edges = np.asarray(HISTOGRAM_EDGES_MIN)
    pms: list[PriorityMetrics] = []
    for p in np.unique(prio):
        sel = prio == p
        r = sel & reached_all
        resp = arrive[r] - rec[r]
        d_ok = sel & ~np.isnan(dispatch)
        c2d = dispatch[d_ok] - rec[d_ok]
        d2a = arrive[r] - dispatch[r]
        wait = dispatch[d_ok] - queued[d_ok]
        hist, _ = np.histogram(resp, bins=edges)
        pms.append(
            PriorityMetrics(
                priority=int(p),
                calls=int(sel.sum()),
                reached=int(r.sum()),
                response_median=_q(resp, 0.5),
                response_p90=_q(resp, 0.9),
                response_mean=_mean(resp),
                call_to_dispatch_median=_q(c2d, 0.5),
                call_to_dispatch_p90=_q(c2d, 0.9),
                dispatch_to_arrival_median=_q(d2a, 0.5),
                queue_wait_mean=_mean(wait),
                queue_wait_median=_q(wait, 0.5),
                queue_wait_p90=_q(wait, 0.9),
                within_target=float((resp <= target_min).mean()) if len(resp) else math.nan,
                histogram=tuple(float(h) for h in hist / max(len(resp), 1)),
            )
        )
    p1 = (prio == 1) & reached_all
    p1_resp = arrive[p1] - rec[p1]
    p1_share = float((p1_resp <= target_min).mean()) if len(p1_resp) else math.nan
    dispatched = ~np.isnan(dispatch)
    backup = run.backup[m][dispatched]
    preempted_share = math.nan  # not counted (a SimRun built without the counts)
    if len(run.preempted) == len(received):
        lost = run.preempted[m][dispatched]
        preempted_share = float((lost > 0).mean()) if len(lost) else math.nan
    dist = calls.district[m]
    d_calls = np.bincount(dist, minlength=n_districts)
    d_p1: list[float] = []
    for d in range(n_districts):
        sel = (dist == d) & p1
        resp = arrive[sel] - rec[sel]
        d_p1.append(float((resp <= target_min).mean()) if len(resp) else math.nan)

    measured = (fleet.start_min >= warmup_min) & (fleet.end_min <= horizon_min)
    return ReplicationMetrics(
        calls=int(m.sum()),
        unreached=int((~reached_all).sum()),
        priorities=tuple(pms),
        p1_within_target=p1_share,
        backup_share=float(backup.mean()) if len(backup) else math.nan,
        district_calls=tuple(int(c) for c in d_calls),
        district_p1_within_target=tuple(d_p1),
        district_time=tuple(
            _group_time(run, fleet, measured & (fleet.district == d)) for d in range(n_districts)
        ),
        shift_time=tuple(
            _group_time(run, fleet, measured & (fleet.shift == s)) for s in range(n_shifts)
        ),
        cell_time=tuple(
            tuple(
                _group_time(run, fleet, measured & (fleet.district == d) & (fleet.shift == s))
                for s in range(n_shifts)
            )
            for d in range(n_districts)
        ),
        overall_time=_group_time(run, fleet, measured),
        measured_days=(horizon_min - warmup_min) / 1440.0,
        events=run.events,
        diverted=diverted,
        preempted_share=preempted_share,
    )


def replication_seed(seed: int, r: int, stream: int) -> np.random.SeedSequence:
    """The seed of stream ``stream`` (0 calls, 1 engine, 2 diversion) of replication ``r``.

    Equal to ``SeedSequence(seed).spawn(r + 1)[r].spawn(stream + 1)[stream]``, computed
    without spawning (so any replication can run alone, e.g. on a Dask worker).
    """
    return np.random.SeedSequence(seed, spawn_key=(r, stream))


def _divert(
    calls: CallTable, divert: Mapping[str, float], rng: np.random.Generator
) -> npt.NDArray[np.bool_]:
    """Which calls stay on patrol: each call of type t leaves with probability divert[t]."""
    share = np.asarray([divert.get(t, 0.0) for t in calls.type_names], dtype=np.float64)
    if (share < 0).any() or (share > 1).any():
        raise ValueError("diversion shares must be between 0 and 1")
    return np.asarray(rng.random(len(calls)) >= share[calls.call_type], dtype=np.bool_)


def simulate_replication(
    prepared: PreparedScenario,
    r: int,
    *,
    seed: int | None = None,
    divert: Mapping[str, float] | None = None,
    calls: CallTable | None = None,
    fleet: Fleet | None = None,
) -> tuple[CallTable, Fleet, SimRun, int]:
    """Replication ``r``'s calls, tours and engine run, and how many calls received in
    the measured window were diverted.

    ``divert`` maps call-type names to the share of their calls taken off patrol (a
    triage pack's diversion), thinned with the replication's own diversion stream;
    ``calls`` replaces the drawn calls (the same for every replication); ``fleet``
    saves rebuilding the tours.
    """
    s = prepared.scenario
    base = s.seed if seed is None else seed
    if calls is None:
        calls = prepared.calls.draw(np.random.default_rng(replication_seed(base, r, 0)))
    diverted = 0
    if divert:
        keep = _divert(calls, divert, np.random.default_rng(replication_seed(base, r, 2)))
        rec = calls.received_min[~keep]
        diverted = int(((rec >= prepared.warmup_min) & (rec < prepared.horizon_min)).sum())
        calls = calls.subset(keep)
    fleet = fleet if fleet is not None else prepared.fleet()
    run = simulate(
        fleet,
        calls.to_stream(),
        dispatch_rules(s),
        n_districts=len(prepared.districts.names),
        rng=np.random.default_rng(replication_seed(base, r, 1)),
    )
    return calls, fleet, run, diverted


def run_replication(
    prepared: PreparedScenario,
    r: int,
    *,
    seed: int | None = None,
    divert: Mapping[str, float] | None = None,
    calls: CallTable | None = None,
    fleet: Fleet | None = None,
) -> ReplicationMetrics:
    """The metrics of replication ``r`` (:func:`simulate_replication`, then
    :func:`replication_metrics`); pure given its inputs, so it can run anywhere."""
    calls, fleet, run, diverted = simulate_replication(
        prepared, r, seed=seed, divert=divert, calls=calls, fleet=fleet
    )
    s = prepared.scenario
    return replication_metrics(
        calls,
        fleet,
        run,
        n_districts=len(prepared.districts.names),
        n_shifts=len(s.shifts),
        warmup_min=prepared.warmup_min,
        horizon_min=prepared.horizon_min,
        target_min=s.targets.p1_target_min,
        diverted=diverted,
    )


# ---------------------------------------------------------------- summary


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Estimate(_Out):
    """A metric over replications: mean and 95% Student-t interval (None if undefined)."""

    mean: float | None
    low: float | None
    high: float | None
    n: int


def estimate(
    values: Sequence[float], *, lower: float | None = None, upper: float | None = None
) -> Estimate:
    """Mean and 95% t confidence interval of the finite ``values``.

    ``lower`` / ``upper`` clip the interval to a quantity's range (a share is in
    [0, 1]; the symmetric t interval of a share near 1 can otherwise pass 100%).
    """
    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    n = len(x)
    if n == 0:
        return Estimate(mean=None, low=None, high=None, n=0)
    mean = float(x.mean())
    if n < 2:
        return Estimate(mean=mean, low=None, high=None, n=1)
    from scipy import stats  # here: scipy.stats costs ~0.3 s to import, for every command

    half = float(stats.t.ppf(0.975, n - 1)) * float(x.std(ddof=1)) / math.sqrt(n)
    low, high = mean - half, mean + half
    if lower is not None:
        low = max(low, lower)
    if upper is not None:
        high = min(high, upper)
    return Estimate(mean=mean, low=low, high=high, n=n)


def _share(values: Sequence[float]) -> Estimate:
    return estimate(values, lower=0.0, upper=1.0)


def _pos(values: Sequence[float]) -> Estimate:
    return estimate(values, lower=0.0)


class HistogramBin(_Out):
    """Share of reached calls whose response time is in ``[low_min, high_min)``."""

    low_min: float
    high_min: float | None
    share: Estimate


class PriorityResult(_Out):
    """One priority over replications (minutes; shares 0-1)."""

    priority: int
    calls: Estimate
    unreached: Estimate
    response_median: Estimate
    response_p90: Estimate
    response_mean: Estimate
    call_to_dispatch_median: Estimate
    call_to_dispatch_p90: Estimate
    dispatch_to_arrival_median: Estimate
    queue_wait_mean: Estimate
    queue_wait_median: Estimate
    queue_wait_p90: Estimate
    within_target: Estimate
    histogram: list[HistogramBin]


class TimeResult(_Out):
    """Unit time of a group of tours: utilisation, proactive share (0-1), overtime."""

    tours_per_day: float
    on_duty_hours_per_day: Estimate
    utilisation: Estimate
    proactive_share: Estimate
    proactive_activity_share: Estimate
    overtime_hours_per_day: Estimate
    calls_handled_per_tour: Estimate


class DistrictResult(_Out):
    """One district: its calls, P1 within-target share and unit time."""

    district: str
    calls_per_day: Estimate
    p1_within_target: Estimate
    time: TimeResult


class ShiftResult(_Out):
    """One shift's unit time."""

    shift: str
    time: TimeResult


class StaffingCell(_Out):
    """One district and shift: units on duty and their time."""

    district: str
    shift: str
    units: int
    utilisation: Estimate
    proactive_share: Estimate


class ScenarioResult(_Out):
    """What ``smart-policing simulate --json`` prints: a scenario over its replications."""

    scenario: str
    replications: int
    seed: int
    start_date: date
    horizon_days: float
    warmup_days: float
    timezone: str
    p1_target_min: float
    p1_share_target: float
    proactive_share_target: float
    admin_allowance: float
    calls_per_day: Estimate
    diverted_per_day: Estimate
    unreached: Estimate
    priorities: list[PriorityResult]
    p1_within_target: Estimate
    p1_target_met: bool | None
    proactive_target_met: bool | None
    backup_share: Estimate
    preempted_share: Estimate | None = None
    overall: TimeResult
    districts: list[DistrictResult]
    shifts: list[ShiftResult]
    cells: list[StaffingCell]
    replay: ReplayCounts | None = None
    events_per_replication: Estimate
    seconds: float = 0.0
    per_replication: list[dict[str, float | None]] = Field(default_factory=list)


def _time_result(groups: Sequence[GroupTime], days: float, admin: float) -> TimeResult:
    return TimeResult(
        tours_per_day=(groups[0].tours / days) if groups else 0.0,
        on_duty_hours_per_day=_pos([g.on_duty_h / days for g in groups]),
        utilisation=_share([g.utilisation() for g in groups]),
        proactive_share=estimate([g.proactive_share(admin) for g in groups], upper=1.0),
        proactive_activity_share=_share([g.activity_share() for g in groups]),
        overtime_hours_per_day=_pos([g.overtime_h / days for g in groups]),
        calls_handled_per_tour=_pos(
            [g.calls_handled / g.tours if g.tours else math.nan for g in groups]
        ),
    )


def _none(x: float) -> float | None:
    return x if math.isfinite(x) else None


def summarise(
    prepared: PreparedScenario,
    reps: Sequence[ReplicationMetrics],
    *,
    replay: ReplayCounts | None = None,
    seed: int | None = None,
    seconds: float = 0.0,
) -> ScenarioResult:
    """Means and 95% intervals over replications: the :class:`ScenarioResult`."""
    s = prepared.scenario
    if not reps:
        raise ValueError("no replications to summarise")
    days = reps[0].measured_days
    admin = s.officer_time.admin_allowance
    target = s.targets
    prios = sorted({p.priority for r in reps for p in r.priorities})
    edges = HISTOGRAM_EDGES_MIN

    def pget(r: ReplicationMetrics, p: int) -> PriorityMetrics | None:
        return next((x for x in r.priorities if x.priority == p), None)

    def pe(p: int, name: str) -> Estimate:
        vals = []
        for r in reps:
            x = pget(r, p)
            vals.append(math.nan if x is None else float(getattr(x, name)))
        return _pos(vals)

    priorities = []
    for p in prios:
        hist = []
        for b in range(len(edges) - 1):
            vals = []
            for r in reps:
                x = pget(r, p)
                vals.append(math.nan if x is None or x.reached == 0 else x.histogram[b])
            hi = edges[b + 1]
            hist.append(
                HistogramBin(
                    low_min=edges[b],
                    high_min=hi if math.isfinite(hi) else None,
                    share=_share(vals),
                )
            )
        priorities.append(
            PriorityResult(
                priority=p,
                calls=_pos([float(x.calls) if (x := pget(r, p)) else 0.0 for r in reps]),
                unreached=_pos(
                    [float(x.calls - x.reached) if (x := pget(r, p)) else 0.0 for r in reps]
                ),
                response_median=pe(p, "response_median"),
                response_p90=pe(p, "response_p90"),
                response_mean=pe(p, "response_mean"),
                call_to_dispatch_median=pe(p, "call_to_dispatch_median"),
                call_to_dispatch_p90=pe(p, "call_to_dispatch_p90"),
                dispatch_to_arrival_median=pe(p, "dispatch_to_arrival_median"),
                queue_wait_mean=pe(p, "queue_wait_mean"),
                queue_wait_median=pe(p, "queue_wait_median"),
                queue_wait_p90=pe(p, "queue_wait_p90"),
                within_target=_share(
                    [math.nan if (x := pget(r, p)) is None else x.within_target for r in reps]
                ),
                histogram=hist,
            )
        )
    p1 = _share([r.p1_within_target for r in reps])
    overall = _time_result([r.overall_time for r in reps], days, admin)
    names = prepared.districts.names
    shifts = s.shift_names
    staffing = s.staffing_matrix()
    districts = [
        DistrictResult(
            district=d,
            calls_per_day=_pos([r.district_calls[i] / days for r in reps]),
            p1_within_target=_share([r.district_p1_within_target[i] for r in reps]),
            time=_time_result([r.district_time[i] for r in reps], days, admin),
        )
        for i, d in enumerate(names)
    ]
    shift_results = [
        ShiftResult(shift=sh, time=_time_result([r.shift_time[j] for r in reps], days, admin))
        for j, sh in enumerate(shifts)
    ]
    cells = [
        StaffingCell(
            district=d,
            shift=sh,
            units=int(staffing[i, j]),
            utilisation=_share([r.cell_time[i][j].utilisation() for r in reps]),
            proactive_share=estimate(
                [r.cell_time[i][j].proactive_share(admin) for r in reps], upper=1.0
            ),
        )
        for i, d in enumerate(names)
        for j, sh in enumerate(shifts)
    ]
    per_rep = [
        {
            "calls": float(r.calls),
            "p1_within_target": _none(r.p1_within_target),
            "proactive_share": _none(r.overall_time.proactive_share(admin)),
            "utilisation": _none(r.overall_time.utilisation()),
            "backup_share": _none(r.backup_share),
        }
        for r in reps
    ]
    return ScenarioResult(
        scenario=s.name,
        replications=len(reps),
        seed=s.seed if seed is None else seed,
        start_date=prepared.start,
        horizon_days=prepared.horizon_days,
        warmup_days=s.warmup_days,
        timezone=s.timezone,
        p1_target_min=target.p1_target_min,
        p1_share_target=target.p1_share,
        proactive_share_target=target.proactive_share,
        admin_allowance=admin,
        calls_per_day=_pos([r.calls / days for r in reps]),
        diverted_per_day=_pos([r.diverted / days for r in reps]),
        unreached=_pos([float(r.unreached) for r in reps]),
        priorities=priorities,
        p1_within_target=p1,
        p1_target_met=None if p1.mean is None else p1.mean >= target.p1_share,
        proactive_target_met=(
            None
            if overall.proactive_share.mean is None
            else overall.proactive_share.mean >= target.proactive_share
        ),
        backup_share=_share([r.backup_share for r in reps]),
        preempted_share=(
            _share([r.preempted_share for r in reps]) if s.dispatch.preempt_priority > 0 else None
        ),
        overall=overall,
        districts=districts,
        shifts=shift_results,
        cells=cells,
        replay=replay,
        events_per_replication=_pos([float(r.events) for r in reps]),
        seconds=seconds,
        per_replication=per_rep,
    )


def run_scenario(
    scenario: Scenario | PreparedScenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    staffing: npt.ArrayLike | dict[str, tuple[int, ...]] | None = None,
    divert: Mapping[str, float] | None = None,
    calls: CallTable | None = None,
    on_replication: Callable[[int], None] | None = None,
) -> ScenarioResult:
    """Run a scenario's replications and summarise them.

    Parameters
    ----------
    scenario : Scenario or PreparedScenario
        A scenario (its files are read now) or one prepared by :func:`prepare_scenario`
        (nothing is read: the form to use in loops and sweeps).
    replications, seed : int, optional
        Override the scenario's.
    staffing : array (districts x shifts) or table by district name, optional
        Units on duty instead of the scenario's.
    divert : mapping of call-type name to share (0-1), optional
        Calls taken off patrol (thinned at random per replication, common random
        numbers: the calls kept are a subset of the undiverted run's).
    calls : CallTable, optional
        Fixed calls for every replication instead of drawn ones.
    on_replication : callable, optional
        Called with the replication index after each one (a progress bar).
    """
    started = _time.perf_counter()
    prepared = scenario if isinstance(scenario, PreparedScenario) else prepare_scenario(scenario)
    if staffing is not None:
        prepared = prepared.with_staffing(staffing)
    s = prepared.scenario
    n = s.replications if replications is None else replications
    if n < 1:
        raise ValueError("replications must be >= 1")
    base = s.seed if seed is None else seed
    fleet = prepared.fleet()
    reps = []
    for r in range(n):
        reps.append(
            run_replication(prepared, r, seed=base, divert=divert, calls=calls, fleet=fleet)
        )
        if on_replication is not None:
            on_replication(r)
    counts = prepared.calls.counts if isinstance(prepared.calls, CallReplay) else None
    return summarise(
        prepared, reps, replay=counts, seed=base, seconds=_time.perf_counter() - started
    )
