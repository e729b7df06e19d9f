"""Discrete-event dispatch engine: patrol units, calls for service, priority queues.

What is simulated
-----------------
A city's patrol in one run: **tours** (one row per unit per shift, :class:`Fleet`) come on
duty at ``start_min`` at their home point and go off duty at ``end_min``; **calls**
(:class:`CallStream`, sorted by arrival) arrive in a district with a priority, a
number of units needed and an on-scene time. All times are simulation **minutes** from
the start of the run, positions projected **metres** (x east, y north).

Dispatch policy (the interface shared with the scenario layer; ``docs/response.md``):

1. A call is served by the **nearest available unit of its own district**, by straight-line
   distance from the unit's position (ties: the lowest tour index). Travel time is
   ``sqrt(dx**2 + dy**2) * circuity / speed + turnout`` (Larson & Odoni, *Urban
   Operations Research*, 1981, ch. 3: network distance ~ a circuity factor times the
   Euclidean distance; Manhattan-like grids ~1.27). A unit reaches the scene at
   ``dispatch + travel`` and clears it ``on_scene_min`` later; then it stays where the call
   was.
2. A call needing ``k > 1`` units takes up to ``k`` nearest free units at once; the missing
   ones are dispatched one by one as units free up (each is one more request at the
   call's place in the queue). When one of its units clears the call, requests still
   outstanding are cancelled (the job is done; no unit is sent to a cleared scene).
3. When no unit is free the call waits in its district's queue, **non-preemptive
   priority** (1 first), first-come first-served within a priority. A unit that frees up
   takes the head of its own district's queue.
4. **Cross-district backup**: a call that has waited ``backup_after_min`` becomes eligible
   for the nearest available unit of any district; a unit freeing up with an empty own
   queue takes the oldest highest-priority eligible call elsewhere. The eligibility is a
   timer event scheduled only for calls that actually wait.
5. **Proactive (officer-initiated) activity**: an idle unit starts one at the Poisson rate
   ``proactive_rate_per_hour``; it lasts an exponential time of mean
   ``proactive_mean_min``. A unit busy with proactive work stays available to calls of
   priority ``<= proactive_yields_to_priority`` (the activity is cut short) and is passed
   over by the others, which wait for it to finish.
6. A unit takes no new call at or after its ``end_min`` (a tour is on duty on
   ``[start_min, end_min)``); a unit busy at ``end_min`` finishes its call, and the part
   after ``end_min`` is counted as overtime. Proactive work ends at ``end_min``.

Two options, off by default (the defaults reproduce the policy above exactly):

7. **Pre-emption** (``preempt_priority = P > 0``): a call of priority ``<= P`` that, on
   arrival, still needs a unit after taking the available ones of its district takes the
   nearest unit of its district that is **on scene** (arrived, not yet cleared) at a call
   of priority ``> P`` and still on duty (before its ``end_min``), one per unit still
   needed. Real dispatch guidelines say so: the most urgent calls go to "the nearest
   police unit - regardless of current assignment", the beat officer "reassigned" if
   need be (e.g. Sherman, TX, Police "Priority Call" guideline; Stanislaus County, CA,
   911 "How we prioritize calls": an officer on a report call "preempted to respond to
   an assault"). In queueing terms it is a pre-emptive-resume priority discipline
   (Kleinrock, *Queueing Systems*, vol. 2, 1976, ch. 3) of the classes ``<= P`` over
   the others. Units still travelling are not diverted (a simplification: the engine
   does not track a unit's position between two points; travel takes minutes against
   half an hour or more on scene). The interrupted call goes back to its district's
   queue at its original place (its priority and arrival order) needing one more unit;
   the next unit sent to it works the **remaining** on-scene time of the interrupted
   one, and it becomes eligible for backup ``backup_after_min`` after the interruption
   (at equal times after the pre-empting call). The interrupted unit's time on it until
   then counts as committed; the call's first dispatch and arrival stand (it was
   reached). Units on calls of priority ``<= P`` are never taken, so a pre-empting call
   keeps its unit (no bouncing between emergencies); a re-queued call can be
   interrupted again once it is served. Pre-emption is tried only when the call
   arrives: a call of priority ``<= P`` that finds no unit to take waits in the queue
   like any other.
8. **Speed by priority** (``priority_speed_factor``): the travel of a unit sent to a
   priority-``p`` call is ``distance x circuity / (speed x factor[p])`` + turnout
   (emergency driving with lights and sirens; turnout is not changed).

Events at equal times run in the order of :class:`~.kernel.EventKind` (see there), then
in the order they were scheduled; with stream events (tours, calls) in input order.

How it runs fast
----------------
The engine is pure Python and NumPy, written for the hot path (one simulated year of a
million calls and ~110,000 tours in well under a minute on one core):

* arrivals and tour starts/ends are known in advance: they form a pre-sorted stream that
  :class:`~.kernel.Kernel` merges with a small heap holding only unit-clear and
  backup-timer events (the heap stays at about the number of busy units);
* **proactive activity is rolled forward lazily**, not simulated event by event: a unit
  that becomes idle draws when its next activity would start and end (idle gaps are
  exponential: a Poisson start rate while idle); only when something needs the unit's
  state (a dispatch, its tour's end, a call that may not interrupt proactive work) is
  that alternating idle/activity sequence advanced to the current time, counting the
  activities that ended. Most idle spells end with a call before any activity starts,
  so this saves two heap events per idle spell. The one case where an activity's end
  changes what happens next, a call that may not interrupt it and waits, schedules a
  ``PROACTIVE_END`` wake-up for the units then busy with proactive work;
* per-district lists of available units; the nearest-unit search is a plain loop over the
  ~5-30 units of one district (faster at that size than NumPy's per-call overhead; see
  ``benchmarks/bench_simulate.py --search-micro``);
* per-district waiting queues are heaps of plain ``int`` keys ``priority * n_calls +
  call``: priority first, then arrival order (calls are sorted), no tuple per entry;
  calls served from elsewhere leave stale keys that are skipped when they reach the head;
* the state lives in Python lists of floats and ints bound to local variables (outputs
  in ``array.array`` buffers that NumPy wraps without a copy), and every proactive draw
  comes from a pre-drawn block of standard exponentials.

Randomness: only proactive activity is random; every draw comes from ``rng`` (in blocks of
standard exponentials, consumed in the order the engine needs them: the gap then the
length of each activity), so a run is a deterministic function of its inputs and the
generator's state.

Event log: with ``trace=True`` every decision is logged (:class:`TraceEvent`), sorted by
time at the end (stably: same-time lines keep the order they happened in), because a
lazily rolled activity is logged when it is rolled, after later events.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from smart_policing.response.sim.kernel import EventKind, Kernel

__all__ = ["CallStream", "DispatchRules", "Fleet", "SimRun", "TraceEvent", "simulate"]

_EXP_BLOCK = 1 << 14


@dataclass(frozen=True)
class Fleet:
    """Unit tours: one row per unit on duty for one shift (a unit working 7 tours = 7 rows).

    Attributes
    ----------
    district : int64 array
        District index ``0 .. n_districts - 1`` the tour is assigned to.
    shift : int64 array
        Shift index (reporting only).
    start_min, end_min : float64 arrays
        On duty from ``start_min`` until ``end_min`` (minutes, finite, ``end >= start``).
        A unit busy at ``end_min`` finishes its call first; that overtime is counted.
    home_x_m, home_y_m : float64 arrays
        Where the tour starts (its beat or the district centre), projected metres.
    """

    district: NDArray[np.int64]
    shift: NDArray[np.int64]
    start_min: NDArray[np.float64]
    end_min: NDArray[np.float64]
    home_x_m: NDArray[np.float64]
    home_y_m: NDArray[np.float64]


@dataclass(frozen=True)
class CallStream:
    """Calls for service, sorted by ``arrival_min``.

    Attributes
    ----------
    arrival_min : float64 array
        When the call enters the dispatch queue (after call-taking), minutes.
    x_m, y_m : float64 arrays
        Where the call is, projected metres.
    district : int64 array
        District index of the call.
    priority : int64 array
        1 = highest.
    units_needed : int64 array
        ``>= 1``; extra units are dispatched independently as they free up.
    on_scene_min : float64 array
        Time on scene of each unit sent (pre-drawn by the scenario code), minutes.
    call_type : int64 array
        Index into the scenario's call-type names (reporting only).
    """

    arrival_min: NDArray[np.float64]
    x_m: NDArray[np.float64]
    y_m: NDArray[np.float64]
    district: NDArray[np.int64]
    priority: NDArray[np.int64]
    units_needed: NDArray[np.int64]
    on_scene_min: NDArray[np.float64]
    call_type: NDArray[np.int64]


@dataclass(frozen=True)
class DispatchRules:
    """Travel, backup and proactive-activity parameters of the dispatch policy.

    Attributes
    ----------
    speed_kmh : float
        Straight-line speed before circuity, km/h (> 0).
    circuity : float
        Network distance / straight-line distance (>= 1; Manhattan-like streets ~1.27).
    turnout_min : float
        Dispatch to rolling, minutes (>= 0).
    backup_after_min : float or None
        A call waiting this long (minutes) may take the nearest free unit of any
        district; ``None`` = never.
    proactive_rate_per_hour : float
        An idle unit starts officer-initiated activity at this Poisson rate (per hour of
        idle time, >= 0; 0 = no proactive activity).
    proactive_mean_min : float
        Mean of the exponential duration of one activity, minutes (> 0).
    proactive_yields_to_priority : int
        A unit busy with proactive work is dispatchable to calls with priority ``<=`` this
        (the activity is cut short); calls of lower priority wait for it to finish.
    priority_speed_factor : tuple of float
        Factor on ``speed_kmh`` for calls of priority 1, 2, ... (element ``p - 1`` for
        priority ``p``; each > 0); priorities beyond the tuple (and priority 0) drive at
        ``speed_kmh``. Default ``()``: one speed for every priority. (An addition to the
        shared interface, optional.)
    preempt_priority : int
        Pre-emption: a call of priority ``<=`` this that finds no available unit in its
        district takes the nearest unit of its district **on scene** at a call of
        priority ``>`` this (see the module docstring, rule 7). Default 0: never. (An
        addition to the shared interface, optional.)
    """

    speed_kmh: float = 40.0
    circuity: float = 1.3
    turnout_min: float = 0.5
    backup_after_min: float | None = 5.0
    proactive_rate_per_hour: float = 0.0
    proactive_mean_min: float = 20.0
    proactive_yields_to_priority: int = 99
    priority_speed_factor: tuple[float, ...] = ()
    preempt_priority: int = 0

    def __post_init__(self) -> None:
        problems = []
        if not (self.speed_kmh > 0 and math.isfinite(self.speed_kmh)):
            problems.append(f"speed_kmh must be a positive number, got {self.speed_kmh}")
        if not (self.circuity >= 1 and math.isfinite(self.circuity)):
            problems.append(f"circuity must be >= 1, got {self.circuity}")
        if not (self.turnout_min >= 0 and math.isfinite(self.turnout_min)):
            problems.append(f"turnout_min must be >= 0, got {self.turnout_min}")
        b = self.backup_after_min
        if b is not None and not (b >= 0 and math.isfinite(b)):
            problems.append(f"backup_after_min must be >= 0 or None, got {b}")
        r = self.proactive_rate_per_hour
        if not (r >= 0 and math.isfinite(r)):
            problems.append(f"proactive_rate_per_hour must be >= 0, got {r}")
        if not (self.proactive_mean_min > 0 and math.isfinite(self.proactive_mean_min)):
            problems.append(f"proactive_mean_min must be > 0, got {self.proactive_mean_min}")
        try:
            factors = tuple(float(f) for f in self.priority_speed_factor)
        except (TypeError, ValueError):
            factors = ()
            problems.append(
                "priority_speed_factor must be a sequence of numbers, "
                f"got {self.priority_speed_factor!r}"
            )
        object.__setattr__(self, "priority_speed_factor", factors)
        for p, f in enumerate(factors, start=1):
            if not (f > 0 and math.isfinite(f)):
                problems.append(
                    f"priority_speed_factor for priority {p} must be a positive number, got {f}"
                )
        if not (isinstance(self.preempt_priority, int) and self.preempt_priority >= 0):
            problems.append(
                f"preempt_priority must be an integer >= 0, got {self.preempt_priority}"
            )
        if problems:
            raise ValueError("; ".join(problems))


class TraceEvent(NamedTuple):
    """One line of the event log :func:`simulate` keeps when ``trace=True``.

    ``what`` is one of ``on_duty``, ``off_duty``, ``call`` (arrival), ``queued``,
    ``eligible`` (a waiting call reaches ``backup_after_min``), ``dispatch``, ``clear``,
    ``cancelled`` (units still requested when one of the call's units clears it),
    ``proactive``, ``proactive_end``, ``proactive_cut`` (a call interrupts it),
    ``preempted`` (``unit`` is taken off call ``call`` by a higher-priority call; the
    ``dispatch`` line of that call and a ``queued`` line of the interrupted one follow).
    ``call`` and ``unit`` are indexes (-1 when not applicable); ``on_scene_min`` is the
    arrival time on scene for ``dispatch`` lines, ``None`` otherwise.
    """

    time_min: float
    what: str
    call: int
    unit: int
    on_scene_min: float | None = None


@dataclass(frozen=True)
class SimRun:
    """What one run produced, per call (in :class:`CallStream` order) and per tour.

    Attributes
    ----------
    dispatch_min : float64 array
        When the first unit was dispatched (NaN if never: the run ended).
    on_scene_at_min : float64 array
        When the first unit arrived on scene (the earliest arrival among the units sent;
        NaN if never).
    first_unit : int64 array
        Tour index of the first unit dispatched (-1 if none).
    backup : bool array
        The first unit came from another district.
    committed_min : float64 array
        Per tour: time on calls (dispatch to clear: travel plus on scene) inside the tour.
    proactive_min : float64 array
        Per tour: time on officer-initiated activities.
    overtime_min : float64 array
        Per tour: call time after ``end_min``.
    calls_handled : int64 array
        Per tour: dispatches (one per call the unit went to). Summed over tours it can be
        below the units needed: requests outstanding when a call clears are cancelled.
    events : int
        Events processed (stream and heap, stale ones included): for benchmarks.
    event_log : tuple of TraceEvent
        The event log when ``simulate(..., trace=True)``, else empty. (An addition to
        the shared interface: optional, defaults to empty.)
    preempted : int64 array
        Per call: how many times one of its units was taken off it by a higher-priority
        call (rule 7; all zero without pre-emption). Empty when the producer does not
        count pre-emptions. (An addition to the shared interface: optional.)
    """

    dispatch_min: NDArray[np.float64]
    on_scene_at_min: NDArray[np.float64]
    first_unit: NDArray[np.int64]
    backup: NDArray[np.bool_]
    committed_min: NDArray[np.float64]
    proactive_min: NDArray[np.float64]
    overtime_min: NDArray[np.float64]
    calls_handled: NDArray[np.int64]
    events: int
    event_log: tuple[TraceEvent, ...] = ()
    preempted: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def preemptions(self) -> int:
        """Pre-emptions in the run (the sum of :attr:`preempted`)."""
        return int(self.preempted.sum())


def _check_inputs(fleet: Fleet, calls: CallStream, n_districts: int) -> None:
    """Raise ``ValueError`` naming the field when the arrays are inconsistent."""
    if n_districts < 1:
        raise ValueError(f"n_districts must be >= 1, got {n_districts}")
    nu = len(fleet.district)
    for name in ("shift", "start_min", "end_min", "home_x_m", "home_y_m"):
        if len(getattr(fleet, name)) != nu:
            raise ValueError(f"Fleet.{name} has {len(getattr(fleet, name))} rows, expected {nu}")
    nc = len(calls.arrival_min)
    for name in ("x_m", "y_m", "district", "priority", "units_needed", "on_scene_min"):
        if len(getattr(calls, name)) != nc:
            raise ValueError(
                f"CallStream.{name} has {len(getattr(calls, name))} rows, expected {nc}"
            )
    if nu:
        if not (np.isfinite(fleet.start_min).all() and np.isfinite(fleet.end_min).all()):
            raise ValueError("Fleet.start_min and Fleet.end_min must be finite")
        if (fleet.end_min < fleet.start_min).any():
            raise ValueError("Fleet.end_min is before Fleet.start_min for some tours")
        if fleet.district.min() < 0 or fleet.district.max() >= n_districts:
            raise ValueError(f"Fleet.district must be in 0..{n_districts - 1}")
        if not (np.isfinite(fleet.home_x_m).all() and np.isfinite(fleet.home_y_m).all()):
            raise ValueError("Fleet.home_x_m and Fleet.home_y_m must be finite")
    if nc:
        arr = calls.arrival_min
        if not np.isfinite(arr).all():
            raise ValueError("CallStream.arrival_min must be finite")
        if (np.diff(arr) < 0).any():
            raise ValueError("CallStream.arrival_min must be sorted")
        if calls.district.min() < 0 or calls.district.max() >= n_districts:
            raise ValueError(f"CallStream.district must be in 0..{n_districts - 1}")
        if calls.units_needed.min() < 1:
            raise ValueError("CallStream.units_needed must be >= 1")
        if calls.priority.min() < 0:
            raise ValueError("CallStream.priority must be >= 0 (1 = highest)")
        if not (np.isfinite(calls.on_scene_min).all() and calls.on_scene_min.min() >= 0):
            raise ValueError("CallStream.on_scene_min must be finite and >= 0")
        if not (np.isfinite(calls.x_m).all() and np.isfinite(calls.y_m).all()):
            raise ValueError("CallStream.x_m and CallStream.y_m must be finite")


def _time_of(e: TraceEvent) -> float:
    return e.time_min


def simulate(
    fleet: Fleet,
    calls: CallStream,
    rules: DispatchRules,
    *,
    n_districts: int,
    rng: np.random.Generator,
    trace: bool = False,
) -> SimRun:
    """Run the dispatch simulation once.

    Parameters
    ----------
    fleet : Fleet
        The tours (units per shift).
    calls : CallStream
        The calls, sorted by arrival.
    rules : DispatchRules
        Travel, backup and proactive parameters.
    n_districts : int
        Number of districts (district indexes are ``0 .. n_districts - 1``).
    rng : numpy.random.Generator
        Source of every random draw (proactive activity only). With
        ``proactive_rate_per_hour == 0`` it is not used.
    trace : bool
        Keep an event log (:attr:`SimRun.event_log`); slower, for tests and debugging.
        (An addition to the shared interface: optional, default off.)

    Returns
    -------
    SimRun
        Per-call dispatch and arrival times, per-tour committed, proactive and
        overtime minutes.

    Raises
    ------
    ValueError
        Inconsistent array lengths, unsorted arrivals, indexes out of range,
        non-finite tour times.

    Examples
    --------
    Two units in one district, three calls; 60 km/h and circuity 1 make travel one
    minute per kilometre:

    >>> fleet = Fleet(
    ...     district=np.array([0, 0]), shift=np.array([0, 0]),
    ...     start_min=np.array([0.0, 0.0]), end_min=np.array([480.0, 480.0]),
    ...     home_x_m=np.array([0.0, 5000.0]), home_y_m=np.array([0.0, 0.0]))
    >>> calls = CallStream(
    ...     arrival_min=np.array([1.0, 2.0, 3.0]), x_m=np.array([1000.0, 4000.0, 0.0]),
    ...     y_m=np.zeros(3), district=np.zeros(3, np.int64), priority=np.array([2, 1, 3]),
    ...     units_needed=np.ones(3, np.int64), on_scene_min=np.array([20.0, 30.0, 10.0]),
    ...     call_type=np.zeros(3, np.int64))
    >>> rules = DispatchRules(speed_kmh=60, circuity=1.0, turnout_min=0.5, backup_after_min=None)
    >>> run = simulate(fleet, calls, rules, n_districts=1, rng=np.random.default_rng(0))
    >>> run.dispatch_min.tolist(), run.on_scene_at_min.tolist(), run.first_unit.tolist()
    ([1.0, 2.0, 22.5], [2.5, 3.5, 24.0], [0, 1, 0])
    """
    _check_inputs(fleet, calls, n_districts)
    nu = len(fleet.district)
    nc = len(calls.arrival_min)

    kernel = Kernel(
        np.concatenate([fleet.end_min, fleet.start_min, calls.arrival_min]),
        np.concatenate(
            [
                np.full(nu, EventKind.TOUR_END, np.int64),
                np.full(nu, EventKind.TOUR_START, np.int64),
                np.full(nc, EventKind.CALL, np.int64),
            ]
        ),
        np.concatenate([np.arange(nu), np.arange(nu), np.arange(nc)]),
    )
    heap = kernel.heap
    next_seq = kernel.next_seq
    push = heapq.heappush
    pop = heapq.heappop
    sqrt = math.sqrt
    nan = math.nan
    inf = math.inf

    k_CLEAR = int(EventKind.CLEAR)
    k_CALL = int(EventKind.CALL)
    k_TOUR_START = int(EventKind.TOUR_START)
    k_BACKUP = int(EventKind.BACKUP)
    k_WAKE = int(EventKind.PROACTIVE_END)

    # minutes per metre of straight line, by call priority (speed x the priority's factor)
    factors = rules.priority_speed_factor
    top = max(len(factors), int(calls.priority.max()) if nc else 0)
    mpm: list[float] = [
        rules.circuity
        / (rules.speed_kmh * (factors[p - 1] if 1 <= p <= len(factors) else 1.0) * 1000.0 / 60.0)
        for p in range(top + 1)
    ]
    preempt = int(rules.preempt_priority)
    preempt_on = preempt > 0
    turnout = float(rules.turnout_min)
    backup_after = rules.backup_after_min
    yields = int(rules.proactive_yields_to_priority)
    proactive_on = rules.proactive_rate_per_hour > 0
    gap_mean = 60.0 / rules.proactive_rate_per_hour if proactive_on else inf
    act_mean = float(rules.proactive_mean_min)

    # unit (tour) state: 0 off duty, 1 available (idle or on proactive work), 3 on a call
    ux: list[float] = fleet.home_x_m.astype(np.float64).tolist()
    uy: list[float] = fleet.home_y_m.astype(np.float64).tolist()
    uend: list[float] = fleet.end_min.astype(np.float64).tolist()
    udist: list[int] = fleet.district.astype(np.int64).tolist()
    ustate = [0] * nu
    pa = [inf] * nu  # an available unit's current or next proactive activity: start
    pb = [inf] * nu  # ... and end
    utoken = [0] * nu  # seq of the unit's pending wake-up event (0: none)
    ulogged = [nan] * nu  # start of the activity last logged as started (trace only)
    ucall = [-1] * nu
    ustart = [0.0] * nu  # when the unit was dispatched to its current call
    ueta = [0.0] * nu  # ... arrives on scene
    uclear = [0.0] * nu  # ... clears it
    useq = [0] * nu  # seq of its CLEAR event (an older one is stale: pre-empted)
    committed = array("d", [0.0]) * nu
    proactive = array("d", [0.0]) * nu
    overtime = array("d", [0.0]) * nu
    handled = array("q", [0]) * nu

    # call state
    cx: list[float] = calls.x_m.astype(np.float64).tolist()
    cy: list[float] = calls.y_m.astype(np.float64).tolist()
    cdist: list[int] = calls.district.astype(np.int64).tolist()
    cprio: list[int] = calls.priority.astype(np.int64).tolist()
    left: list[int] = calls.units_needed.astype(np.int64).tolist()  # units still to send
    # on-scene time of the next unit sent (the remaining time after a pre-emption)
    cons: list[float] = calls.on_scene_min.astype(np.float64).tolist()
    npre = array("q", [0]) * nc  # pre-emptions per call
    # outputs as C arrays: compact, and handed to NumPy without a copy
    disp = array("d", [nan]) * nc
    onscene = array("d", [nan]) * nc
    first = array("q", [-1]) * nc
    backup_flag = array("b", [0]) * nc

    avail: list[list[int]] = [[] for _ in range(n_districts)]  # available units
    queues: list[list[int]] = [[] for _ in range(n_districts)]  # keys prio * nc + call
    eligible: list[int] = []  # keys of calls past backup_after_min, all districts
    busy: list[set[int]] = [set() for _ in range(n_districts)]  # on calls (pre-emption only)
    keybase = max(nc, 1)
    log: list[TraceEvent] = []

    def exponentials() -> Iterator[float]:
        """Standard exponentials from ``rng``, drawn a block at a time."""
        while True:
            yield from rng.standard_exponential(_EXP_BLOCK).tolist()

    draw = exponentials().__next__

    def roll(u: int, t: float) -> bool:
        """Roll available unit ``u``'s proactive activities forward to ``t``.

        Activities that ended by ``t`` are counted and the next drawn; returns whether
        the unit is in an activity at ``t`` (strictly after its start, before its end),
        which then began at ``pa[u]``.
        """
        a = pa[u]
        if a >= t:
            return False
        b = pb[u]
        while b <= t:
            proactive[u] += b - a
            if trace:
                if ulogged[u] != a:
                    log.append(TraceEvent(a, "proactive", -1, u))
                log.append(TraceEvent(b, "proactive_end", -1, u))
            a = b + draw() * gap_mean
            b = a + draw() * act_mean
            if a >= t:
                pa[u] = a
                pb[u] = b
                return False
        pa[u] = a
        pb[u] = b
        if trace and ulogged[u] != a:
            ulogged[u] = a
            log.append(TraceEvent(a, "proactive", -1, u))
        return True

    def wake_at_activity_ends(units: list[int]) -> None:
        """A call that may not interrupt proactive work waits: wake each unit (all of
        them on an activity) when its activity ends, once per activity."""
        for v in units:
            if utoken[v] == 0:
                seq = next_seq()
                utoken[v] = seq
                push(heap, (pb[v], k_WAKE, seq, v))

    def dispatch(u: int, i: int, t: float, d2: float) -> None:
        """Send unit ``u`` (squared distance ``d2`` m^2 from call ``i``) at ``t``."""
        if pa[u] < t and roll(u, t):
            proactive[u] += t - pa[u]
            if trace:
                log.append(TraceEvent(t, "proactive_cut", -1, u))
        pa[u] = inf
        utoken[u] = 0
        ustate[u] = 3
        ucall[u] = i
        travel = sqrt(d2) * mpm[cprio[i]] + turnout
        eta = t + travel
        clear = eta + cons[i]
        ux[u] = cx[i]
        uy[u] = cy[i]
        if first[i] < 0:
            first[i] = u
            disp[i] = t
            onscene[i] = eta
            backup_flag[i] = udist[u] != cdist[i]
        elif eta < onscene[i]:
            onscene[i] = eta
        ustart[u] = t
        ueta[u] = eta
        uclear[u] = clear
        handled[u] += 1
        seq = next_seq()
        useq[u] = seq
        push(heap, (clear, k_CLEAR, seq, u))
        if preempt_on:
            busy[udist[u]].add(u)
        if trace:
            log.append(TraceEvent(t, "dispatch", i, u, eta))

    def take_waiting(u: int, t: float) -> bool:
        """Unit ``u``, free and not in ``avail``, takes its queue's head or an eligible call."""
        q = queues[udist[u]]
        while q:
            i = q[0] % keybase
            if left[i]:
                left[i] -= 1
                if not left[i]:
                    pop(q)
                dx = ux[u] - cx[i]
                dy = uy[u] - cy[i]
                dispatch(u, i, t, dx * dx + dy * dy)
                return True
            pop(q)
        while eligible:
            i = eligible[0] % keybase
            if left[i]:
                left[i] -= 1
                if not left[i]:
                    pop(eligible)
                dx = ux[u] - cx[i]
                dy = uy[u] - cy[i]
                dispatch(u, i, t, dx * dx + dy * dy)
                return True
            pop(eligible)
        return False

    def go_idle(u: int, t: float) -> None:
        """Unit ``u`` found nothing to do: available, with its first activity drawn."""
        ustate[u] = 1
        avail[udist[u]].append(u)
        if proactive_on:
            a = t + draw() * gap_mean
            pa[u] = a
            pb[u] = a + draw() * act_mean

    def nearest_anywhere(i: int, t: float, strict: bool) -> tuple[int, float]:
        """Nearest available unit of any district for call ``i`` (-1 if none)."""
        x = cx[i]
        y = cy[i]
        best = inf
        bu = -1
        for av in avail:
            for v in av:
                if strict and pa[v] < t and roll(v, t):
                    continue
                dx = ux[v] - x
                dy = uy[v] - y
                d2 = dx * dx + dy * dy
                if d2 < best or (d2 == best and v < bu):
                    best = d2
                    bu = v
        return bu, best

    def preemptable(i: int, t: float) -> tuple[int, float]:
        """Nearest unit of call ``i``'s district on scene at a call of priority above
        ``preempt`` and on duty at ``t`` (-1 if none), with its squared distance."""
        x = cx[i]
        y = cy[i]
        best = inf
        bu = -1
        for v in busy[cdist[i]]:
            if ueta[v] > t or t >= uend[v] or cprio[ucall[v]] <= preempt:
                continue
            dx = ux[v] - x
            dy = uy[v] - y
            d2 = dx * dx + dy * dy
            if d2 < best or (d2 == best and v < bu):
                best = d2
                bu = v
        return bu, best

    def take_over(v: int, i: int, t: float, d2: float) -> int:
        """Call ``i`` takes unit ``v`` off its call, which goes back to its queue.

        Returns that call when it needs a backup timer (it was not waiting already),
        else -1: the caller schedules it after call ``i``'s own, so at equal times the
        pre-empting call is eligible for backup first."""
        j = ucall[v]
        committed[v] += t - ustart[v]  # on duty at t: no overtime yet
        cons[j] = uclear[v] - t  # what the next unit sent to ``j`` still has to do
        npre[j] += 1
        was = left[j]
        left[j] = was + 1
        if trace:
            log.append(TraceEvent(t, "preempted", j, v))
        dispatch(v, i, t, d2)  # a new CLEAR: the old one is stale
        if trace:
            log.append(TraceEvent(t, "queued", j, -1))
        if proactive_on and cprio[j] > yields:
            av = avail[cdist[j]]
            if av:
                wake_at_activity_ends(av)
        if was:  # already waiting for another of its units
            return -1
        push(queues[cdist[j]], cprio[j] * keybase + j)
        return j

    for t, kind, seq, p in kernel.events():
        if kind == k_CALL:
            i = p
            need = left[i]
            av = avail[cdist[i]]
            if trace:
                log.append(TraceEvent(t, "call", i, -1))
            strict = cprio[i] > yields and proactive_on
            if av:
                x = cx[i]
                y = cy[i]
                while need:
                    best = inf
                    bu = -1
                    for v in av:
                        if strict and pa[v] < t and roll(v, t):
                            continue
                        dx = ux[v] - x
                        dy = uy[v] - y
                        d2 = dx * dx + dy * dy
                        if d2 < best or (d2 == best and v < bu):
                            best = d2
                            bu = v
                    if bu < 0:
                        break
                    av.remove(bu)
                    need -= 1
                    left[i] = need
                    dispatch(bu, i, t, best)
                    if not av:
                        break
            requeued: list[int] | None = None
            if need and cprio[i] <= preempt:
                requeued = []
                while need:
                    bu, best = preemptable(i, t)
                    if bu < 0:
                        break
                    need -= 1
                    left[i] = need
                    j = take_over(bu, i, t, best)
                    if j >= 0:
                        requeued.append(j)
            if need:
                push(queues[cdist[i]], cprio[i] * keybase + i)
                if backup_after is not None:
                    push(heap, (t + backup_after, k_BACKUP, next_seq(), i))
                if trace:
                    log.append(TraceEvent(t, "queued", i, -1))
                if strict and av:
                    wake_at_activity_ends(av)
            if requeued and backup_after is not None:
                for j in requeued:
                    push(heap, (t + backup_after, k_BACKUP, next_seq(), j))
        elif kind == k_CLEAR:
            u = p
            if seq != useq[u]:
                continue  # stale: the unit was taken off this call (pre-emption)
            i = ucall[u]
            t0 = ustart[u]
            end = uend[u]
            if t <= end:
                committed[u] += t - t0
            else:
                committed[u] += end - t0
                overtime[u] += t - end
            if preempt_on:
                busy[udist[u]].remove(u)
            if trace:
                log.append(TraceEvent(t, "clear", i, u))
            if left[i]:  # units still requested for a call now cleared: cancelled
                left[i] = 0
                if trace:
                    log.append(TraceEvent(t, "cancelled", i, u))
            if t >= uend[u]:
                ustate[u] = 0
                if trace:
                    log.append(TraceEvent(t, "off_duty", -1, u))
            elif not take_waiting(u, t):
                go_idle(u, t)
        elif kind == k_BACKUP:
            i = p
            if not left[i]:
                continue
            if trace:
                log.append(TraceEvent(t, "eligible", i, -1))
            strict = cprio[i] > yields and proactive_on
            while left[i]:
                bu, best = nearest_anywhere(i, t, strict)
                if bu < 0:
                    break
                avail[udist[bu]].remove(bu)
                left[i] -= 1
                dispatch(bu, i, t, best)
            if left[i]:
                push(eligible, cprio[i] * keybase + i)
                if strict:
                    for av in avail:
                        wake_at_activity_ends(av)
        elif kind == k_WAKE:
            u = p
            if utoken[u] != seq:
                continue  # stale: the unit was dispatched or went off duty meanwhile
            utoken[u] = 0
            roll(u, t)  # the activity ends now; the unit's next one is drawn
            av = avail[udist[u]]
            av.remove(u)
            if not take_waiting(u, t):  # the calls that passed it over
                av.append(u)
        elif kind == k_TOUR_START:
            u = p
            if t >= uend[u]:  # an empty tour (end == start)
                continue
            if trace:
                log.append(TraceEvent(t, "on_duty", -1, u))
            if not take_waiting(u, t):
                go_idle(u, t)
        else:  # TOUR_END
            u = p
            if ustate[u] == 1:
                avail[udist[u]].remove(u)
                if pa[u] < t and roll(u, t):
                    proactive[u] += t - pa[u]
                ustate[u] = 0
                utoken[u] = 0
                if trace:
                    log.append(TraceEvent(t, "off_duty", -1, u))

    log.sort(key=_time_of)  # lazily rolled activities were logged late: stable, by time
    return SimRun(
        dispatch_min=np.frombuffer(disp, dtype=np.float64),
        on_scene_at_min=np.frombuffer(onscene, dtype=np.float64),
        first_unit=np.frombuffer(first, dtype=np.int64),
        backup=np.frombuffer(backup_flag, dtype=np.int8).astype(np.bool_),
        committed_min=np.frombuffer(committed, dtype=np.float64),
        proactive_min=np.frombuffer(proactive, dtype=np.float64),
        overtime_min=np.frombuffer(overtime, dtype=np.float64),
        calls_handled=np.frombuffer(handled, dtype=np.int64),
        events=kernel.handed_out,
        event_log=tuple(log),
        preempted=np.frombuffer(npre, dtype=np.int64),
    )
