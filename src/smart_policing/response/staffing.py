"""The staffing search: the fewest officers per district and shift that meet both targets.

Baltimore's plan sets two numbers (seed 001): priority-1 calls reached within 10 minutes
(here: at least ``targets.p1_share`` of them, e.g. 90%), and officers keeping a third of
their available time for proactive work. :func:`search_staffing` finds, by simulation,
units on duty per district and shift such that **every district-shift meets both
targets** and **one fewer unit in any district-shift fails a target** (a local minimum
of the staffing table, checked cell by cell and reported as :attr:`StaffingSearch.proof`).

Method
------
1. **Workloads.** Each replication's calls are drawn once (the scenario's call stream,
   seed stream of :func:`~smart_policing.response.sim.replicate.replication_seed`), and
   optionally thinned by a triage pack (:func:`pack_keep`: a call leaves patrol when the
   pack sends no officer, decided per call at its local time, as
   :func:`smart_policing.triage.replay.officer_sent` decides historical calls). Every
   staffing level is simulated on the same calls and the same engine seeds (common
   random numbers), so comparisons between levels are not blurred by new draws.
2. **Cell measures** (:func:`check_staffing`), pooled over replications and over the
   measured window (calls received after the warm-up, tours wholly inside it):
   a call belongs to the district it is in and to the shift whose tour started last
   before it was received (local time); its **P1 share** is priority-1 calls reached
   within ``p1_target_min`` of reception over priority-1 calls reached (calls never
   reached count in neither, as in ``docs/response.md``); a cell's **proactive share**
   is ``1 - committed / (on-duty x (1 - admin allowance))`` over its tours. A cell with
   no priority-1 call meets the response target vacuously (say so: it is reported
   with ``p1_calls`` 0).
3. **Start** (:func:`initial_staffing`): a lower bound from the proactive target alone,
   ``ceil(A / ((1 - admin) (1 - target)))`` units for a cell whose calls bring ``A``
   erlangs of on-scene work (travel left out, so it is low), and at least ``min_units``.
4. **Up**: while some cell fails, add one unit to every failing cell and simulate again.
5. **Down**: simulate every single-cell decrement (in parallel, on Dask distributed:
   :func:`~smart_policing.response.sweep.run_sweep`). If some pass, take them all at
   once when that passes too, else the one leaving the most slack, and repeat. When
   none passes, the last round is the proof that the table is minimal.

Cross-district backup couples the cells (a short-staffed district borrows from its
neighbours after ``backup_after_min``), which is why the proof re-simulates the whole
city for each decrement rather than judging a cell alone.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from pydantic import BaseModel, ConfigDict

from smart_policing.response.sim.engine import Fleet, SimRun
from smart_policing.response.sim.generate import CallTable, run_origin
from smart_policing.response.sim.replicate import (
    PreparedScenario,
    replication_seed,
    simulate_replication,
)
from smart_policing.response.sim.scenario import Shift
from smart_policing.response.sweep import SERIAL, run_sweep
from smart_policing.triage.pack import Pack
from smart_policing.triage.replay import officer_sent
from smart_policing.triage.vocabulary import AgencyMap

__all__ = [
    "CellCheck",
    "CurvePoint",
    "DecrementCheck",
    "StaffingCheck",
    "StaffingComparison",
    "StaffingSearch",
    "Workload",
    "call_shifts",
    "check_staffing",
    "compare_diversion",
    "draw_workloads",
    "initial_staffing",
    "pack_keep",
    "search_staffing",
    "staffing_curve",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]


# ---------------------------------------------------------------- workloads


def _utc(minutes: F64, start: date, timezone: str) -> pl.Series:
    """Simulation minutes as UTC timestamps (minute 0 = local midnight of ``start``)."""
    epoch_us = run_origin(start, timezone).timestamp() * 1e6
    return pl.Series(np.round(epoch_us + minutes * 60e6).astype(np.int64)).cast(
        pl.Datetime("us", "UTC")
    )


def call_shifts(received_min: F64, *, start: date, timezone: str, shifts: Sequence[Shift]) -> I64:
    """The shift of each call: the shift whose tour started last before the call was
    received (local wall-clock time; a gap between shifts goes to the shift before).

    ``received_min`` are minutes after local midnight of ``start`` in ``timezone``.
    """
    local = _utc(received_min, start, timezone).dt.convert_time_zone(timezone)
    tod = (local.dt.hour().cast(pl.Int64) * 60 + local.dt.minute().cast(pl.Int64)).to_numpy()
    since = np.stack([(tod - s.start_minute) % 1440 for s in shifts])  # (shifts, calls)
    return np.asarray(np.argmin(since, axis=0), dtype=np.int64)


@dataclass(frozen=True)
class Workload:
    """One replication's calls for patrol (after any diversion) and their shifts."""

    replication: int
    seed: int
    """The run's seed: calls came from its stream 0, the engine draws from stream 1."""
    calls: CallTable
    shift: I64
    diverted: int
    """Calls received in the measured window that the diversion took off patrol."""


def pack_keep(
    pack: Pack, agency_map: AgencyMap, *, start: date, timezone: str, agency: str = "POLICE"
) -> Callable[[CallTable], B]:
    """A diversion filter: which generated or replayed calls still get an officer under
    ``pack`` (call types are the scenario's names, looked up in ``agency_map`` as
    ``agency`` codes; a code the map lacks keeps its officer)."""

    def keep(calls: CallTable) -> B:
        codes = np.asarray(calls.type_names, dtype=object)[calls.call_type]
        frame = pl.DataFrame(
            {
                "received_at": _utc(calls.received_min, start, timezone),
                "call_type_code": codes.tolist(),
                "agency": [agency] * len(calls),
                "priority": calls.priority,
            }
        )
        return np.asarray(officer_sent(frame, pack, agency_map=agency_map).to_numpy())

    return keep


def draw_workloads(
    prepared: PreparedScenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    keep: Callable[[CallTable], B] | None = None,
) -> list[Workload]:
    """Each replication's calls, drawn once (seed stream 0 of the replication), optionally
    filtered by ``keep`` (e.g. :func:`pack_keep`)."""
    s = prepared.scenario
    n = s.replications if replications is None else replications
    base = s.seed if seed is None else seed
    out = []
    for r in range(n):
        calls = prepared.calls.draw(np.random.default_rng(replication_seed(base, r, 0)))
        diverted = 0
        if keep is not None:
            kept = keep(calls)
            rec = calls.received_min[~kept]
            diverted = int(((rec >= prepared.warmup_min) & (rec < prepared.horizon_min)).sum())
            calls = calls.subset(kept)
        shift = call_shifts(
            calls.received_min, start=prepared.start, timezone=s.timezone, shifts=s.shifts
        )
        out.append(Workload(r, base, calls, shift, diverted))
    return out


# ---------------------------------------------------------------- one staffing level


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CellCheck(_Out):
    """One district and shift at one staffing level (pooled over replications)."""

    district: str
    shift: str
    units: int
    p1_calls: int
    """Priority-1 calls reached (the denominator of ``p1_share``)."""
    p1_within: int
    p1_share: float | None
    proactive_share: float | None
    meets_p1: bool
    meets_proactive: bool

    @property
    def meets(self) -> bool:
        """Both targets met."""
        return self.meets_p1 and self.meets_proactive


class StaffingCheck(_Out):
    """A staffing table, simulated: every cell, and the city as a whole."""

    staffing: dict[str, tuple[int, ...]]
    units_per_day: int
    """Unit tours a day (the sum of the table)."""
    cells: list[CellCheck]
    p1_share: float | None
    proactive_share: float | None
    meets: bool
    """Every cell meets both targets."""

    def failing(self) -> list[CellCheck]:
        """Cells missing a target."""
        return [c for c in self.cells if not c.meets]

    def slack(self, p1_target: float, proactive_target: float) -> float:
        """The smallest margin of any cell over its targets (negative when one fails)."""
        margins = [
            m
            for c in self.cells
            for m in (
                (c.p1_share - p1_target) if c.p1_share is not None else None,
                (c.proactive_share - proactive_target) if c.proactive_share is not None else None,
            )
            if m is not None
        ]
        return min(margins) if margins else 0.0


def _cell_index(prepared: PreparedScenario) -> tuple[tuple[str, ...], tuple[str, ...]]:
    s = prepared.scenario
    return s.district_names, s.shift_names


def _measure(
    prepared: PreparedScenario, work: Workload, fleet: Fleet, run: SimRun
) -> tuple[I64, I64, F64, F64]:
    """Per cell (flattened district x shift): P1 reached, P1 within target, committed
    and on-duty minutes of measured tours."""
    s = prepared.scenario
    n_d, n_s = len(s.district_names), len(s.shifts)
    calls = work.calls
    rec = calls.received_min
    measured = (rec >= prepared.warmup_min) & (rec < prepared.horizon_min)
    arrive = run.on_scene_at_min
    p1 = measured & (calls.priority == 1) & ~np.isnan(arrive)
    within = p1 & ((arrive - rec) <= s.targets.p1_target_min)
    cell = calls.district * n_s + work.shift
    reached = np.bincount(cell[p1], minlength=n_d * n_s).astype(np.int64)
    ok = np.bincount(cell[within], minlength=n_d * n_s).astype(np.int64)
    tours = (fleet.start_min >= prepared.warmup_min) & (fleet.end_min <= prepared.horizon_min)
    tcell = (fleet.district * n_s + fleet.shift)[tours]
    committed = np.bincount(tcell, weights=run.committed_min[tours], minlength=n_d * n_s).astype(
        np.float64
    )
    on_duty = np.bincount(
        tcell, weights=(fleet.end_min - fleet.start_min)[tours], minlength=n_d * n_s
    ).astype(np.float64)
    return reached, ok, committed, on_duty


def check_staffing(
    prepared: PreparedScenario, workloads: Sequence[Workload], staffing: npt.ArrayLike
) -> StaffingCheck:
    """Simulate ``staffing`` (districts x shifts) on ``workloads`` and judge every cell
    against the scenario's targets (see the module docstring)."""
    table = np.asarray(staffing, dtype=np.int64)
    p = prepared.with_staffing(table)
    s = p.scenario
    fleet = p.fleet()
    n_d, n_s = len(s.district_names), len(s.shifts)
    reached = np.zeros(n_d * n_s, dtype=np.int64)
    ok = np.zeros(n_d * n_s, dtype=np.int64)
    committed = np.zeros(n_d * n_s)
    on_duty = np.zeros(n_d * n_s)
    for work in workloads:
        _, _, run, _ = simulate_replication(
            p, work.replication, seed=work.seed, calls=work.calls, fleet=fleet
        )
        got = _measure(p, work, fleet, run)
        reached += got[0]
        ok += got[1]
        committed += got[2]
        on_duty += got[3]
    t = s.targets
    available = on_duty * (1.0 - s.officer_time.admin_allowance)
    cells = []
    for d, district in enumerate(s.district_names):
        for k, shift in enumerate(s.shift_names):
            i = d * n_s + k
            share = float(ok[i] / reached[i]) if reached[i] else None
            proactive = float(1.0 - committed[i] / available[i]) if available[i] > 0 else None
            cells.append(
                CellCheck(
                    district=district,
                    shift=shift,
                    units=int(table[d, k]),
                    p1_calls=int(reached[i]),
                    p1_within=int(ok[i]),
                    p1_share=share,
                    proactive_share=proactive,
                    meets_p1=share is None or share >= t.p1_share,
                    meets_proactive=proactive is not None and proactive >= t.proactive_share,
                )
            )
    total_available = float(available.sum())
    return StaffingCheck(
        staffing={d: tuple(int(u) for u in table[i]) for i, d in enumerate(s.district_names)},
        units_per_day=int(table.sum()),
        cells=cells,
        p1_share=float(ok.sum() / reached.sum()) if reached.sum() else None,
        proactive_share=(
            float(1.0 - committed.sum() / total_available) if total_available > 0 else None
        ),
        meets=all(c.meets for c in cells),
    )


def _check_task(job: tuple[tuple[PreparedScenario, list[Workload]], I64]) -> StaffingCheck:
    (prepared, workloads), staffing = job
    return check_staffing(prepared, workloads, staffing)


# ---------------------------------------------------------------- the search


def initial_staffing(
    prepared: PreparedScenario, workloads: Sequence[Workload], *, min_units: int = 1
) -> I64:
    """A lower bound per cell from the proactive target alone (module docstring, step 3)."""
    s = prepared.scenario
    n_d, n_s = len(s.district_names), len(s.shifts)
    work_min = np.zeros(n_d * n_s)
    for w in workloads:
        c = w.calls
        m = (c.received_min >= prepared.warmup_min) & (c.received_min < prepared.horizon_min)
        cell = (c.district * n_s + w.shift)[m]
        work_min += np.bincount(
            cell, weights=(c.units_needed * c.on_scene_min)[m], minlength=n_d * n_s
        )
    days = (prepared.horizon_min - prepared.warmup_min) / 1440.0 * max(len(workloads), 1)
    hours = np.asarray([sh.hours for sh in s.shifts] * n_d)
    erlangs = work_min / 60.0 / days / hours
    usable = (1.0 - s.officer_time.admin_allowance) * (1.0 - s.targets.proactive_share)
    need = np.ceil(erlangs / max(usable, 1e-9) - 1e-9).astype(np.int64)
    out: I64 = np.maximum(need, min_units).reshape(n_d, n_s)
    return out


class DecrementCheck(_Out):
    """One fewer unit in one cell, simulated: the targets it fails (the proof of minimality)."""

    district: str
    shift: str
    units: int
    """Units in the cell after the decrement."""
    meets: bool
    failing: list[str]
    """``district/shift: p1 0.871 < 0.9`` for every cell that misses a target."""


class StaffingSearch(_Out):
    """The result of :func:`search_staffing`."""

    scenario: str
    replications: int
    p1_target_min: float
    p1_share_target: float
    proactive_share_target: float
    admin_allowance: float
    min_units: int
    diverted_per_day: float
    calls_per_day: float
    start: dict[str, tuple[int, ...]]
    result: StaffingCheck
    proof: list[DecrementCheck]
    """Every cell with one unit fewer. Cells above ``min_units`` all fail (``meets``
    false); a cell at the floor may pass (the search keeps ``min_units`` anyway)."""
    at_floor: list[str]
    """Cells at ``min_units``, which the search does not go below."""
    evaluations: int
    rounds: int
    seconds: float


def _failing_text(check: StaffingCheck, p1: float, proactive: float) -> list[str]:
    out = []
    for c in check.failing():
        if not c.meets_p1 and c.p1_share is not None:
            out.append(f"{c.district}/{c.shift}: P1 {c.p1_share:.3f} < {p1:g}")
        if not c.meets_proactive:
            share = "none" if c.proactive_share is None else f"{c.proactive_share:.3f}"
            out.append(f"{c.district}/{c.shift}: proactive {share} < {proactive:.3f}")
    return out


def search_staffing(
    prepared: PreparedScenario,
    workloads: Sequence[Workload],
    *,
    start: npt.ArrayLike | None = None,
    min_units: int = 1,
    max_units: int = 200,
    scheduler: str | None = None,
    workers: int | None = None,
    on_evaluation: Callable[[int], None] | None = None,
) -> StaffingSearch:
    """The fewest units per district and shift meeting both targets (module docstring).

    Parameters
    ----------
    prepared, workloads
        The scenario (:func:`~smart_policing.response.sim.replicate.prepare_scenario`)
        and its calls (:func:`draw_workloads`, with or without a diversion).
    start
        The first table tried (default :func:`initial_staffing`).
    min_units, max_units
        Bounds on any cell (a cell never goes below ``min_units``; reaching
        ``max_units`` while failing raises ``ValueError``).
    scheduler, workers
        Where the decrement rounds run (:func:`~smart_policing.response.sweep.run_sweep`):
        ``None`` a local Dask cluster, ``"serial"`` this process, or a scheduler address.
    on_evaluation
        Called with the running count after each simulated table (a progress bar).
    """
    started = _time.perf_counter()
    s = prepared.scenario
    t = s.targets
    n_d, n_s = len(s.district_names), len(s.shifts)
    table = (
        initial_staffing(prepared, workloads, min_units=min_units)
        if start is None
        else np.maximum(np.asarray(start, dtype=np.int64).reshape(n_d, n_s), min_units)
    )
    first = table.copy()
    count = 0
    rounds = 0
    shared = (prepared, list(workloads))

    def note(k: int) -> None:
        nonlocal count
        count += k
        if on_evaluation is not None:
            on_evaluation(count)

    def one(candidate: I64) -> StaffingCheck:
        note(1)
        return check_staffing(prepared, workloads, candidate)

    client: Any = None
    cluster: Any = None
    if scheduler != SERIAL:
        from distributed import Client, LocalCluster

        if scheduler is None:
            cluster = LocalCluster(
                n_workers=workers or None,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=40,
            )
            client = Client(cluster)
        else:
            client = Client(scheduler)
        remote: Any = client.scatter(shared, broadcast=True)
    else:
        remote = shared

    def many(candidates: list[I64]) -> list[StaffingCheck]:
        jobs = [(remote, c) for c in candidates]
        out = run_sweep(
            _check_task,
            jobs,
            scheduler=SERIAL if client is None else None,
            client=client,
        )
        note(len(candidates))
        return out

    try:
        # up: add a unit to every failing cell until all pass
        check = one(table)
        while not check.meets:
            rounds += 1
            for cell in check.failing():
                d, k = s.district_names.index(cell.district), s.shift_names.index(cell.shift)
                if table[d, k] >= max_units:
                    raise ValueError(
                        f"{cell.district}/{cell.shift} still misses a target at {max_units} units"
                    )
                table[d, k] += 1
            check = one(table)
        # down: single-cell decrements until none passes
        while True:
            rounds += 1
            # every cell with a unit to lose is tried (those at the floor only for the proof)
            cells = [(d, k) for d in range(n_d) for k in range(n_s) if table[d, k] > 0]
            candidates = []
            for d, k in cells:
                fewer = table.copy()
                fewer[d, k] -= 1
                candidates.append(fewer)
            checks = many(candidates) if candidates else []
            passing = [i for i, ch in enumerate(checks) if ch.meets and table[cells[i]] > min_units]
            if not passing:
                break
            if len(passing) > 1:
                together = table.copy()
                for i in passing:
                    d, k = cells[i]
                    together[d, k] -= 1
                both = one(together)
                if both.meets:
                    table, check = together, both
                    continue
            best = max(passing, key=lambda i: checks[i].slack(t.p1_share, t.proactive_share))
            table, check = candidates[best], checks[best]
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    proof = [
        DecrementCheck(
            district=s.district_names[d],
            shift=s.shift_names[k],
            units=int(table[d, k]) - 1,
            meets=ch.meets,
            failing=_failing_text(ch, t.p1_share, t.proactive_share),
        )
        for (d, k), ch in zip(cells, checks, strict=True)
    ]
    days = (prepared.horizon_min - prepared.warmup_min) / 1440.0 * max(len(workloads), 1)
    measured_calls = sum(
        int(
            (
                (w.calls.received_min >= prepared.warmup_min)
                & (w.calls.received_min < prepared.horizon_min)
            ).sum()
        )
        for w in workloads
    )
    return StaffingSearch(
        scenario=s.name,
        replications=len(workloads),
        p1_target_min=t.p1_target_min,
        p1_share_target=t.p1_share,
        proactive_share_target=t.proactive_share,
        admin_allowance=s.officer_time.admin_allowance,
        min_units=min_units,
        diverted_per_day=sum(w.diverted for w in workloads) / days,
        calls_per_day=measured_calls / days,
        start={d: tuple(int(u) for u in first[i]) for i, d in enumerate(s.district_names)},
        result=check,
        proof=proof,
        at_floor=[
            f"{s.district_names[d]}/{s.shift_names[k]}"
            for d in range(n_d)
            for k in range(n_s)
            if table[d, k] <= min_units
        ],
        evaluations=count,
        rounds=rounds,
        seconds=_time.perf_counter() - started,
    )


# ---------------------------------------------------------------- before / after diversion


class StaffingComparison(_Out):
    """The minimum staffing without and with a triage pack's diversion, side by side."""

    pack: str
    pack_version: str
    agency_map: str
    before: StaffingSearch
    after: StaffingSearch

    @property
    def units_saved_per_day(self) -> int:
        """Unit tours a day the diversion frees (before minus after)."""
        return self.before.result.units_per_day - self.after.result.units_per_day


def compare_diversion(
    prepared: PreparedScenario,
    pack: Pack,
    agency_map: AgencyMap,
    *,
    replications: int | None = None,
    min_units: int = 1,
    scheduler: str | None = None,
    workers: int | None = None,
    on_evaluation: Callable[[int], None] | None = None,
) -> StaffingComparison:
    """:func:`search_staffing` on the scenario's calls, then on the calls ``pack`` leaves
    to patrol (the same draws, thinned per call)."""
    s = prepared.scenario
    base = draw_workloads(prepared, replications=replications)
    keep = pack_keep(pack, agency_map, start=prepared.start, timezone=s.timezone)
    diverted = draw_workloads(prepared, replications=replications, keep=keep)
    before = search_staffing(
        prepared,
        base,
        min_units=min_units,
        scheduler=scheduler,
        workers=workers,
        on_evaluation=on_evaluation,
    )
    after = search_staffing(
        prepared,
        diverted,
        min_units=min_units,
        scheduler=scheduler,
        workers=workers,
        on_evaluation=on_evaluation,
    )
    return StaffingComparison(
        pack=pack.name,
        pack_version=pack.version,
        agency_map=agency_map.name,
        before=before,
        after=after,
    )


# ---------------------------------------------------------------- staffing curves


class CurvePoint(_Out):
    """The whole staffing table scaled by ``scale`` (rounded, at least ``min_units``)."""

    scale: float
    units_per_day: int
    p1_share: float | None
    proactive_share: float | None
    cells_meeting: int
    """District-shifts meeting both targets."""
    cells: int


def staffing_curve(
    prepared: PreparedScenario,
    workloads: Sequence[Workload],
    scales: Sequence[float],
    *,
    base: npt.ArrayLike | None = None,
    min_units: int = 1,
    scheduler: str | None = SERIAL,
    workers: int | None = None,
    on_done: Callable[[int], None] | None = None,
) -> list[CurvePoint]:
    """City-wide P1 share and proactive share as the scenario's staffing table (or
    ``base``) is scaled up and down, on the same calls (:func:`check_staffing`); the
    scales run as a sweep (:func:`~smart_policing.response.sweep.run_sweep`: serial by
    default, ``None`` for a local Dask cluster, or a scheduler address)."""
    table = np.asarray(
        prepared.scenario.staffing_matrix() if base is None else base, dtype=np.float64
    )
    shared = (prepared, list(workloads))
    tables = [np.maximum(np.rint(table * scale), min_units).astype(np.int64) for scale in scales]
    checks = run_sweep(
        _check_task,
        [(shared, t) for t in tables],
        scheduler=scheduler,
        workers=workers,
        on_done=on_done,
    )
    return [
        CurvePoint(
            scale=float(scale),
            units_per_day=check.units_per_day,
            p1_share=check.p1_share,
            proactive_share=check.proactive_share,
            cells_meeting=sum(c.meets for c in check.cells),
            cells=len(check.cells),
        )
        for scale, check in zip(scales, checks, strict=True)
    ]
