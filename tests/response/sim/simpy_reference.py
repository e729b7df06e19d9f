"""A straightforward SimPy model of the dispatch system of ``response.sim.engine``.

The same policy as :func:`smart_policing.response.sim.engine.simulate` (see its module
docstring), written the way a SimPy user would: one process per unit tour (comes on
duty, waits idle, travels, works the scene, goes off duty), one process per call
(dispatches the nearest free units, waits in its district's queue, becomes eligible
for backup after ``backup_after_min``), timeouts for every interval and condition
events (``wake | off_duty | proactive_timer``) for an idle unit, with the free units
kept as a dict of "wake-up" events per district (SimPy's passivate/reactivate idiom).

Why not ``simpy.Resource`` or ``simpy.Store``: a granted ``Resource`` request does not
name the unit, and a ``Store``/``FilterStore`` serves getters in request order, not
by distance, so neither can express "nearest free unit"; shift-varying staffing does
not fit a fixed ``Resource`` capacity either.

Tours start as they come on duty (a ``tours`` process), not all at time 0, so
SimPy's event heap holds only what is pending, as the engine's does.

Two uses: the baseline of ``benchmarks/bench_simulate.py`` and a slow,
obviously-correct reference the engine is checked against call by call
(``test_engine.py``). With proactive activity off it makes exactly the same decisions
as the engine provided no two events fall at the same instant except tour starts and
ends (SimPy orders same-time events by when they were scheduled, the engine by event
kind; the tests draw arrival times on a 1/1024-minute grid away from tour boundaries
so that sums like ``now + (t - now)`` are exact). Proactive draws come from Python's
``random`` seeded from ``rng``, so with proactive activity on the two agree only in
distribution.

The engine's two options are modelled too: speed by priority (a travel time per
priority) and pre-emption (``preempt_priority``): a call of priority ``<= P`` that finds
no free unit interrupts (``Process.interrupt``, SimPy's idiom for pre-emption) the
process of the nearest unit of its district on scene at a lower-priority call; that
call goes back to its queue with the remaining on-scene time, and a ``requeued``
process makes it eligible for backup after ``backup_after_min``.

Dev-only (SimPy is a dev dependency), so it lives in the tests.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from smart_policing.response.sim.engine import CallStream, DispatchRules, Fleet, SimRun

__all__ = ["SimpyDispatch", "simulate_simpy"]


class SimpyDispatch:
    """The dispatch system as SimPy processes; :meth:`run` returns a :class:`SimRun`."""

    def __init__(
        self,
        fleet: Fleet,
        calls: CallStream,
        rules: DispatchRules,
        *,
        n_districts: int,
        rng: np.random.Generator,
    ) -> None:
        self.env = simpy.Environment()
        self.fleet = fleet
        self.calls = calls
        self.rules = rules
        self.n_districts = n_districts
        self.random = random.Random(int(rng.integers(2**63)))
        factors = rules.priority_speed_factor
        top = max([len(factors), *calls.priority.tolist()])
        self.min_per_m = [
            rules.circuity
            / (
                rules.speed_kmh
                * (factors[p - 1] if 1 <= p <= len(factors) else 1.0)
                * 1000.0
                / 60.0
            )
            for p in range(top + 1)
        ]
        nu = len(fleet.district)
        nc = len(calls.arrival_min)
        self.ux = fleet.home_x_m.tolist()
        self.uy = fleet.home_y_m.tolist()
        self.udist = fleet.district.tolist()
        self.uend = fleet.end_min.tolist()
        self.cx = calls.x_m.tolist()
        self.cy = calls.y_m.tolist()
        self.cdist = calls.district.tolist()
        self.cprio = calls.priority.tolist()
        self.cons = calls.on_scene_min.tolist()
        self.left = calls.units_needed.tolist()
        self.free: list[dict[int, simpy.Event]] = [{} for _ in range(n_districts)]
        self.on_proactive: set[int] = set()
        self.queue: list[list[tuple[int, int]]] = [[] for _ in range(n_districts)]
        self.eligible: list[tuple[int, int]] = []
        self.dispatch = [math.nan] * nc
        self.on_scene = [math.nan] * nc
        self.first = [-1] * nc
        self.backup = [False] * nc
        self.committed = [0.0] * nu
        self.proactive = [0.0] * nu
        self.overtime = [0.0] * nu
        self.handled = [0] * nu
        self.preempted = [0] * len(self.cons)
        # pre-emption: units on scene per district -> (call, dispatched at, clears at)
        self.on_scene_units: list[dict[int, tuple[int, float, float]]] = [
            {} for _ in range(n_districts)
        ]
        self.procs: dict[int, simpy.Process] = {}

    # -- decisions -------------------------------------------------------------------

    def nearest(self, i: int, districts: list[int]) -> int:
        """Nearest free unit for call ``i`` among ``districts`` (ties: lowest index)."""
        strict = self.cprio[i] > self.rules.proactive_yields_to_priority
        x, y = self.cx[i], self.cy[i]
        best: tuple[float, int] | None = None
        for d in districts:
            for u in self.free[d]:
                if strict and u in self.on_proactive:
                    continue
                dx = self.ux[u] - x
                dy = self.uy[u] - y
                key = (dx * dx + dy * dy, u)
                if best is None or key < best:
                    best = key
        return -1 if best is None else best[1]

    def assign(self, u: int, i: int) -> None:
        """Dispatch free unit ``u`` to call ``i`` now (wakes the unit's process)."""
        wake = self.free[self.udist[u]].pop(u)
        self.record_dispatch(u, i)
        wake.succeed(i)

    def record_dispatch(self, u: int, i: int) -> None:
        self.left[i] -= 1
        if self.first[i] < 0:
            self.first[i] = u
            self.dispatch[i] = self.env.now
            self.backup[i] = self.udist[u] != self.cdist[i]

    def take_waiting(self, u: int) -> int:
        """A freed unit takes its own queue's head, else the oldest eligible call."""
        for q in (self.queue[self.udist[u]], self.eligible):
            while q:
                i = q[0][1]
                if self.left[i] > 0:
                    if self.left[i] == 1:
                        heapq.heappop(q)
                    self.record_dispatch(u, i)
                    return i
                heapq.heappop(q)
        return -1

    def preemptable(self, i: int) -> int:
        """Nearest unit of call ``i``'s district on scene at a call it may pre-empt (-1)."""
        p = self.rules.preempt_priority
        x, y = self.cx[i], self.cy[i]
        best: tuple[float, int] | None = None
        for u, (j, _, _) in self.on_scene_units[self.cdist[i]].items():
            if self.cprio[j] <= p or self.env.now >= self.uend[u]:
                continue
            dx = self.cx[j] - x  # the unit is at its call's scene
            dy = self.cy[j] - y
            key = (dx * dx + dy * dy, u)
            if best is None or key < best:
                best = key
        return -1 if best is None else best[1]

    def preempt(self, u: int, i: int) -> None:
        """Call ``i`` takes unit ``u`` off its call ``j``, which goes back to its queue."""
        now = self.env.now
        j, t0, clear = self.on_scene_units[self.udist[u]].pop(u)
        self.committed[u] += now - t0
        self.handled[u] += 1
        self.cons[j] = clear - now
        self.preempted[j] += 1
        was = self.left[j]
        self.left[j] += 1
        self.record_dispatch(u, i)
        self.procs[u].interrupt(i)
        if not was:
            heapq.heappush(self.queue[self.cdist[j]], (self.cprio[j], j))
            if self.rules.backup_after_min is not None:
                self.env.process(self.requeued(j))

    def backup_now(self, i: int) -> None:
        """Call ``i`` has waited ``backup_after_min``: units of any district may go."""
        while self.left[i] > 0:
            u = self.nearest(i, list(range(self.n_districts)))
            if u < 0:
                break
            self.assign(u, i)
        if self.left[i] > 0:
            heapq.heappush(self.eligible, (self.cprio[i], i))

    # -- processes -------------------------------------------------------------------

    def arrivals(self) -> Generator[simpy.Event, Any, None]:
        env = self.env
        for i, t in enumerate(self.calls.arrival_min.tolist()):
            yield env.timeout(t - env.now)
            env.process(self.call(i))

    def tours(self) -> Generator[simpy.Event, Any, None]:
        """Start each tour's process when it comes on duty (tours in start order)."""
        env = self.env
        starts = self.fleet.start_min
        for u in np.argsort(starts, kind="stable").tolist():
            if starts[u] > env.now:
                yield env.timeout(starts[u] - env.now)
            self.procs[u] = env.process(self.unit(u))

    def call(self, i: int) -> Generator[simpy.Event, Any, None]:
        env = self.env
        d = self.cdist[i]
        while self.left[i] > 0:
            u = self.nearest(i, [d])
            if u < 0:
                break
            self.assign(u, i)
        if self.cprio[i] <= self.rules.preempt_priority:
            while self.left[i] > 0:
                u = self.preemptable(i)
                if u < 0:
                    break
                self.preempt(u, i)
        if self.left[i] == 0:
            return
        heapq.heappush(self.queue[d], (self.cprio[i], i))
        if self.rules.backup_after_min is None:
            return
        yield env.timeout(self.rules.backup_after_min)
        self.backup_now(i)

    def requeued(self, j: int) -> Generator[simpy.Event, Any, None]:
        """An interrupted call waits again: eligible for backup after the usual wait."""
        assert self.rules.backup_after_min is not None
        yield self.env.timeout(self.rules.backup_after_min)
        if self.left[j] > 0:
            self.backup_now(j)

    def idle(self, u: int, off: simpy.Event) -> Generator[simpy.Event, Any, int]:
        """Wait free until dispatched (returns the call) or off duty (returns -1)."""
        env = self.env
        d = self.udist[u]
        rules = self.rules
        wake = env.event()
        self.free[d][u] = wake
        while True:
            if rules.proactive_rate_per_hour <= 0:
                yield wake | off
            else:
                gap = env.timeout(self.random.expovariate(rules.proactive_rate_per_hour / 60))
                yield wake | off | gap
                if not (wake.triggered or off.processed):
                    self.on_proactive.add(u)
                    t0 = env.now
                    activity = env.timeout(self.random.expovariate(1 / rules.proactive_mean_min))
                    yield wake | off | activity
                    self.on_proactive.discard(u)
                    self.proactive[u] += min(env.now, self.uend[u]) - t0
                    if not (wake.triggered or off.processed):
                        i = self.take_waiting(u)  # calls that passed over a busy unit
                        if i >= 0:
                            del self.free[d][u]
                            return i
                        continue
            if wake.triggered:
                return int(wake.value)
            del self.free[d][u]
            return -1

    def unit(self, u: int) -> Generator[simpy.Event, Any, None]:
        env = self.env
        end = self.uend[u]
        if env.now >= end:
            return
        off = env.timeout(end - env.now)
        turnout = self.rules.turnout_min
        on_scene = self.on_scene_units[self.udist[u]]
        taken = -1  # a call that pre-empted this unit
        while True:
            i = taken if taken >= 0 else self.take_waiting(u)
            taken = -1
            if i < 0:
                i = yield from self.idle(u, off)
                if i < 0:
                    return
            t0 = env.now
            work = self.cons[i]  # read at dispatch, as the engine does
            dx = self.ux[u] - self.cx[i]
            dy = self.uy[u] - self.cy[i]
            travel = math.sqrt(dx * dx + dy * dy) * self.min_per_m[self.cprio[i]] + turnout
            yield env.timeout(travel)
            if not env.now >= self.on_scene[i]:  # first arrival (NaN compares false)
                self.on_scene[i] = env.now
            on_scene[u] = (i, t0, env.now + work)
            try:
                yield env.timeout(work)
            except simpy.Interrupt as stop:  # pre-empted: ``preempt`` did the accounting
                self.ux[u], self.uy[u] = self.cx[i], self.cy[i]
                taken = int(stop.cause)
                continue
            on_scene.pop(u, None)
            self.left[i] = 0  # cleared: requests still outstanding are cancelled
            self.ux[u], self.uy[u] = self.cx[i], self.cy[i]
            self.handled[u] += 1
            self.committed[u] += min(env.now, end) - t0
            if env.now > end:
                self.overtime[u] += env.now - end
            if env.now >= end:
                return

    def run(self) -> SimRun:
        """Run to the end; ``events`` counts SimPy events processed."""
        env = self.env
        env.process(self.tours())
        env.process(self.arrivals())
        n = 0
        try:
            while True:
                env.step()
                n += 1
        except simpy.core.EmptySchedule:
            pass
        return SimRun(
            dispatch_min=np.array(self.dispatch),
            on_scene_at_min=np.array(self.on_scene),
            first_unit=np.array(self.first, dtype=np.int64),
            backup=np.array(self.backup, dtype=np.bool_),
            committed_min=np.array(self.committed),
            proactive_min=np.array(self.proactive),
            overtime_min=np.array(self.overtime),
            calls_handled=np.array(self.handled, dtype=np.int64),
            events=n,
            preempted=np.array(self.preempted, dtype=np.int64),
        )


def simulate_simpy(
    fleet: Fleet,
    calls: CallStream,
    rules: DispatchRules,
    *,
    n_districts: int,
    rng: np.random.Generator,
) -> SimRun:
    """Run :class:`SimpyDispatch` once (same signature as ``engine.simulate``)."""
    return SimpyDispatch(fleet, calls, rules, n_districts=n_districts, rng=rng).run()
