"""The dispatch engine: exact event logs on hand-computed scenarios, and the SimPy reference.

Named ``test_sim_engine.py`` (not ``test_engine.py``): ``tests/triage/test_engine.py``
already has that basename and the suite runs without ``__init__.py`` files, where two
test modules of the same basename cannot both be collected.

Geometry in the hand-computed cases: 60 km/h and circuity 1 make travel 1 minute per
kilometre, so a unit 3,000 m from a call arrives 3 minutes (+ turnout) after dispatch.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simpy_reference import simulate_simpy

from smart_policing.response.sim import (
    CallStream,
    DispatchRules,
    Fleet,
    SimRun,
    TraceEvent,
    simulate,
)

NAN = math.nan
KM_PER_MIN = DispatchRules(speed_kmh=60.0, circuity=1.0, turnout_min=0.0, backup_after_min=None)


def fleet(*tours: tuple[int, float, float, float, float]) -> Fleet:
    """Tours as (district, start, end, home_x, home_y)."""
    a = np.array(tours, dtype=np.float64).reshape(-1, 5)
    return Fleet(
        district=a[:, 0].astype(np.int64),
        shift=np.zeros(len(a), np.int64),
        start_min=a[:, 1],
        end_min=a[:, 2],
        home_x_m=a[:, 3],
        home_y_m=a[:, 4],
    )


def calls(*rows: tuple[float, float, float, int, int, int, float]) -> CallStream:
    """Calls as (arrival, x, y, district, priority, units_needed, on_scene)."""
    a = np.array(rows, dtype=np.float64).reshape(-1, 7)
    return CallStream(
        arrival_min=a[:, 0],
        x_m=a[:, 1],
        y_m=a[:, 2],
        district=a[:, 3].astype(np.int64),
        priority=a[:, 4].astype(np.int64),
        units_needed=a[:, 5].astype(np.int64),
        on_scene_min=a[:, 6],
        call_type=np.zeros(len(a), np.int64),
    )


def run(f: Fleet, c: CallStream, rules: DispatchRules, nd: int = 1, seed: int = 0) -> SimRun:
    return simulate(f, c, rules, n_districts=nd, rng=np.random.default_rng(seed), trace=True)


def log(r: SimRun) -> list[tuple[Any, ...]]:
    """The event log without trailing Nones, for compact expectations."""
    return [tuple(e) if e.on_scene_min is not None else tuple(e)[:4] for e in r.event_log]


def test_queue_by_priority_then_arrival() -> None:
    """Two units, five calls: three wait and are served by priority, then arrival."""
    f = fleet((0, 0, 1000, 0, 0), (0, 0, 1000, 10_000, 0))
    c = calls(
        (0, 3000, 4000, 0, 3, 1, 20),  # u0 at 5 km (u1 at 8.06 km): arrives 0 + 5 + 1
        (2, 10_000, 3000, 0, 2, 1, 10),  # only u1 is free: 3 km
        (4, 0, 0, 0, 3, 1, 5),  # nobody free: queued
        (5, 10_000, 0, 0, 1, 1, 5),  # queued, ahead of call 2 (priority 1)
        (7, 6000, 8000, 0, 3, 1, 5),  # queued, behind call 2
    )
    r = run(f, c, replace(KM_PER_MIN, turnout_min=1.0))
    assert log(r) == [
        (0, "on_duty", -1, 0),
        (0, "on_duty", -1, 1),
        (0, "call", 0, -1),
        (0, "dispatch", 0, 0, 6),
        (2, "call", 1, -1),
        (2, "dispatch", 1, 1, 6),
        (4, "call", 2, -1),
        (4, "queued", 2, -1),
        (5, "call", 3, -1),
        (5, "queued", 3, -1),
        (7, "call", 4, -1),
        (7, "queued", 4, -1),
        (16, "clear", 1, 1),  # u1 at (10000, 3000) takes the priority-1 call, 3 km
        (16, "dispatch", 3, 1, 20),
        (25, "clear", 3, 1),  # u1 at (10000, 0) takes call 2 at (0, 0), 10 km
        (25, "dispatch", 2, 1, 36),
        (26, "clear", 0, 0),  # u0 at (3000, 4000) takes call 4, 5 km
        (26, "dispatch", 4, 0, 32),
        (37, "clear", 4, 0),
        (41, "clear", 2, 1),
        (1000, "off_duty", -1, 0),
        (1000, "off_duty", -1, 1),
    ]
    np.testing.assert_array_equal(r.dispatch_min, [0, 2, 25, 16, 26])
    np.testing.assert_array_equal(r.on_scene_at_min, [6, 6, 36, 20, 32])
    np.testing.assert_array_equal(r.first_unit, [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(r.backup, [False] * 5)
    np.testing.assert_array_equal(r.committed_min, [26 + 11, 14 + 9 + 16])
    np.testing.assert_array_equal(r.calls_handled, [2, 3])
    np.testing.assert_array_equal(r.overtime_min, [0, 0])
    assert r.events == 2 + 2 + 5 + 5  # tour starts and ends, calls, clears


def test_multi_unit_call_and_backup_after_the_wait() -> None:
    """A two-unit call gets its second unit from the other district at the backup time;
    a waiting call in district 1 is taken by district 0's unit freeing up."""
    f = fleet((0, 0, 1000, 0, 0), (1, 0, 1000, 0, 12_000))
    c = calls(
        (0, 0, 3000, 0, 2, 2, 30),  # u0 (3 km); the second unit waits
        (6, 0, 12_000, 1, 1, 1, 10),  # district 1's unit is away: queued
    )
    r = run(f, c, replace(KM_PER_MIN, backup_after_min=5.0), nd=2)
    assert log(r) == [
        (0, "on_duty", -1, 0),
        (0, "on_duty", -1, 1),
        (0, "call", 0, -1),
        (0, "dispatch", 0, 0, 3),
        (0, "queued", 0, -1),
        (5, "eligible", 0, -1),  # waited 5 min: u1 of district 1, 9 km away
        (5, "dispatch", 0, 1, 14),
        (6, "call", 1, -1),
        (6, "queued", 1, -1),
        (11, "eligible", 1, -1),  # nobody free anywhere
        (33, "clear", 0, 0),  # u0's own queue is empty: it takes the eligible call
        (33, "dispatch", 1, 0, 42),
        (44, "clear", 0, 1),  # the call it would have taken is served
        (52, "clear", 1, 0),
        (1000, "off_duty", -1, 0),
        (1000, "off_duty", -1, 1),
    ]
    np.testing.assert_array_equal(r.dispatch_min, [0, 33])
    np.testing.assert_array_equal(r.on_scene_at_min, [3, 42])  # the first unit to arrive
    np.testing.assert_array_equal(r.first_unit, [0, 0])
    np.testing.assert_array_equal(r.backup, [False, True])
    np.testing.assert_array_equal(r.calls_handled, [2, 1])


def test_backup_never_when_disabled_and_outstanding_units_cancelled_at_clear() -> None:
    """Without backup the second unit never comes: u0 clears the call, which cancels it."""
    f = fleet((0, 0, 1000, 0, 0), (1, 0, 1000, 0, 12_000))
    c = calls((0, 0, 3000, 0, 2, 2, 30), (40, 0, 0, 0, 3, 1, 10))
    r = run(f, c, KM_PER_MIN, nd=2)
    assert log(r) == [
        (0, "on_duty", -1, 0),
        (0, "on_duty", -1, 1),
        (0, "call", 0, -1),
        (0, "dispatch", 0, 0, 3),
        (0, "queued", 0, -1),
        (33, "clear", 0, 0),
        (33, "cancelled", 0, 0),  # not sent back to its own cleared call
        (40, "call", 1, -1),
        (40, "dispatch", 1, 0, 43),
        (53, "clear", 1, 0),
        (1000, "off_duty", -1, 0),
        (1000, "off_duty", -1, 1),
    ]
    assert r.calls_handled.tolist() == [2, 0]


def test_off_duty_overtime_and_ties_at_equal_times() -> None:
    f = fleet((0, 0, 60, 0, 0), (0, 60, 200, 0, 0))
    c = calls(
        (50, 0, 0, 0, 2, 1, 30),  # u0 busy past its end (60): 20 min overtime
        (55, 0, 0, 0, 2, 1, 5),  # queued until u1 comes on at 60
        (60, 0, 0, 0, 1, 1, 5),  # arrives as u1 starts: u1 took the queue's head first
        (70, 0, 0, 0, 3, 1, 130),  # u1 clears at 70 and takes it; clears at 200 = its end
        (200, 0, 0, 0, 1, 1, 5),  # nobody on duty at 200: never dispatched
    )
    r = run(f, c, KM_PER_MIN)
    assert log(r) == [
        (0, "on_duty", -1, 0),
        (50, "call", 0, -1),
        (50, "dispatch", 0, 0, 50),
        (55, "call", 1, -1),
        (55, "queued", 1, -1),
        (60, "on_duty", -1, 1),  # tour end of u0 (busy) logs nothing; u1 starts
        (60, "dispatch", 1, 1, 60),
        (60, "call", 2, -1),
        (60, "queued", 2, -1),
        (65, "clear", 1, 1),
        (65, "dispatch", 2, 1, 65),
        (70, "clear", 2, 1),  # clear before call at the same time
        (70, "call", 3, -1),
        (70, "dispatch", 3, 1, 70),
        (80, "clear", 0, 0),
        (80, "off_duty", -1, 0),
        (200, "clear", 3, 1),
        (200, "off_duty", -1, 1),
        (200, "call", 4, -1),
        (200, "queued", 4, -1),
    ]
    np.testing.assert_array_equal(r.dispatch_min, [50, 60, 65, 70, NAN])
    np.testing.assert_array_equal(r.on_scene_at_min, [50, 60, 65, 70, NAN])
    np.testing.assert_array_equal(r.first_unit, [0, 1, 1, 1, -1])
    np.testing.assert_array_equal(r.committed_min, [10, 140])
    np.testing.assert_array_equal(r.overtime_min, [20, 0])


def test_idle_unit_goes_off_at_end_and_takes_no_call_then() -> None:
    f = fleet((0, 0, 60, 0, 0), (0, 60, 120, 3000, 0))
    c = calls((60, 0, 0, 0, 1, 1, 10))
    r = run(f, c, KM_PER_MIN)
    assert log(r) == [
        (0, "on_duty", -1, 0),
        (60, "off_duty", -1, 0),  # tour end ranks first: u0 leaves, u1 is 3 km away
        (60, "on_duty", -1, 1),
        (60, "call", 0, -1),
        (60, "dispatch", 0, 1, 63),
        (73, "clear", 0, 1),
        (120, "off_duty", -1, 1),
    ]


def test_nearest_unit_ties_go_to_the_lowest_tour_index() -> None:
    f = fleet((0, 0, 100, 1000, 0), (0, 0, 100, -1000, 0), (0, 0, 100, 0, 1000))
    c = calls((1, 0, 0, 0, 1, 2, 10))
    r = run(f, c, KM_PER_MIN)
    assert [(e.call, e.unit) for e in r.event_log if e.what == "dispatch"] == [(0, 0), (0, 1)]


def proactive_draws(seed: int, n: int) -> list[float]:
    """The engine's first ``n`` standard exponentials from ``default_rng(seed)``."""
    return np.random.default_rng(seed).standard_exponential(n).tolist()


PROACTIVE = replace(
    KM_PER_MIN, proactive_rate_per_hour=6.0, proactive_mean_min=20.0, proactive_yields_to_priority=2
)


def test_proactive_activity_is_cut_short_by_a_call() -> None:
    """Draws, in order: gap to the first activity (mean 10 min), its length (mean 20)."""
    e = proactive_draws(3, 3)
    start = e[0] * 10.0
    stop = start + e[1] * 20.0
    call_at = (start + stop) / 2
    assert stop < 100
    f = fleet((0, 0, 100, 0, 0))
    c = calls((call_at, 0, 2000, 0, 2, 1, 10))  # priority 2: the activity yields
    r = run(f, c, PROACTIVE, seed=3)
    assert log(r)[:6] == [
        (0, "on_duty", -1, 0),
        (start, "proactive", -1, 0),
        (call_at, "call", 0, -1),
        (call_at, "proactive_cut", -1, 0),
        (call_at, "dispatch", 0, 0, call_at + 2),
        (call_at + 12, "clear", 0, 0),
    ]
    next_start = call_at + 12 + e[2] * 10.0  # idle again: a new gap
    assert log(r)[6] == (
        (next_start, "proactive", -1, 0) if next_start < 100 else (100, "off_duty", -1, 0)
    )
    assert r.proactive_min[0] >= call_at - start
    assert r.committed_min[0] == pytest.approx(12)


def test_a_lower_priority_call_waits_for_the_activity_to_end() -> None:
    e = proactive_draws(3, 3)
    start = e[0] * 10.0
    stop = start + e[1] * 20.0
    call_at = (start + stop) / 2
    f = fleet((0, 0, 100, 0, 0))
    c = calls((call_at, 0, 2000, 0, 3, 1, 10))  # priority 3 > 2: does not interrupt
    r = run(f, c, PROACTIVE, seed=3)
    assert log(r)[:7] == [
        (0, "on_duty", -1, 0),
        (start, "proactive", -1, 0),
        (call_at, "call", 0, -1),
        (call_at, "queued", 0, -1),
        (stop, "proactive_end", -1, 0),
        (stop, "dispatch", 0, 0, stop + 2),
        (stop + 12, "clear", 0, 0),
    ]
    assert r.dispatch_min[0] == stop


def test_an_eligible_call_waits_for_proactive_work_in_another_district() -> None:
    """Backup for a call that may not interrupt proactive work: the only free unit
    elsewhere is on an activity, so the call takes it when the activity ends."""
    e = proactive_draws(0, 2)  # tour 0 comes on duty first: its gap, then its length
    start = e[0] * 10.0
    stop = start + e[1] * 20.0
    assert 15 < stop < 100
    f = fleet((1, 0, 200, 0, 10_000), (0, 0, 200, 0, 0))
    c = calls(
        (0, 0, 0, 0, 1, 1, 100),  # district 0's unit is busy until 100
        (10, 0, 4000, 0, 3, 1, 10),  # priority 3 may not interrupt: queued, eligible at 15
    )
    r = run(f, c, replace(PROACTIVE, backup_after_min=5.0), nd=2, seed=0)
    assert log(r)[:10] == [
        (0, "on_duty", -1, 0),
        (0, "on_duty", -1, 1),
        (0, "call", 0, -1),
        (0, "dispatch", 0, 1, 0),
        (start, "proactive", -1, 0),  # found when the backup search looked at unit 0
        (10, "call", 1, -1),
        (10, "queued", 1, -1),
        (15, "eligible", 1, -1),
        (stop, "proactive_end", -1, 0),
        (stop, "dispatch", 1, 0, stop + 6),
    ]
    assert r.backup.tolist() == [False, True]
    assert r.proactive_min[0] >= stop - start


def test_proactive_work_stops_at_the_end_of_the_tour() -> None:
    f = fleet((0, 0, 30, 0, 0))
    r = run(f, calls(), replace(PROACTIVE, proactive_rate_per_hour=600.0), seed=1)
    assert r.event_log[-1] == TraceEvent(30, "off_duty", -1, 0)
    assert 0 < r.proactive_min[0] <= 30
    assert r.committed_min[0] == 0


def test_same_seed_same_run_and_rng_is_the_only_randomness() -> None:
    f, c = small_city(np.random.default_rng(1), n_calls=300)
    rules = replace(RULES, proactive_rate_per_hour=2.0)
    a = simulate(f, c, rules, n_districts=3, rng=np.random.default_rng(9))
    b = simulate(f, c, rules, n_districts=3, rng=np.random.default_rng(9))
    d = simulate(f, c, rules, n_districts=3, rng=np.random.default_rng(10))
    for name in ("dispatch_min", "on_scene_at_min", "first_unit", "proactive_min"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.proactive_min, d.proactive_min)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"arrival_min": np.array([2.0, 1.0])}, "sorted"),
        ({"district": np.array([0, 5])}, "district must be in 0..0"),
        ({"units_needed": np.array([1, 0])}, "units_needed"),
        ({"x_m": np.array([0.0])}, "x_m has 1 rows, expected 2"),
        ({"on_scene_min": np.array([1.0, -1.0])}, "on_scene_min"),
    ],
)
def test_bad_calls_are_refused(change: dict[str, Any], message: str) -> None:
    c = replace(calls((1, 0, 0, 0, 1, 1, 5), (2, 0, 0, 0, 1, 1, 5)), **change)
    with pytest.raises(ValueError, match=message):
        simulate(fleet((0, 0, 10, 0, 0)), c, KM_PER_MIN, n_districts=1, rng=np.random.default_rng())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"end_min": np.array([-1.0])}, "before Fleet.start_min"),
        ({"end_min": np.array([np.inf])}, "finite"),
        ({"district": np.array([1])}, "Fleet.district"),
    ],
)
def test_bad_fleets_are_refused(change: dict[str, Any], message: str) -> None:
    f = replace(fleet((0, 0, 10, 0, 0)), **change)
    with pytest.raises(ValueError, match=message):
        simulate(f, calls(), KM_PER_MIN, n_districts=1, rng=np.random.default_rng())


@pytest.mark.parametrize(
    ("field", "value"),
    [("speed_kmh", 0.0), ("circuity", 0.9), ("turnout_min", -1.0), ("backup_after_min", -1.0),
     ("proactive_rate_per_hour", math.nan), ("proactive_mean_min", 0.0)],
)  # fmt: skip
def test_bad_rules_are_refused(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        DispatchRules(**{field: value})


# -- against the SimPy reference ------------------------------------------------------

RULES = DispatchRules(speed_kmh=40.0, circuity=1.3, turnout_min=0.5, backup_after_min=5.0)


def small_city(
    rng: np.random.Generator, n_calls: int, n_districts: int = 3, days: int = 2
) -> tuple[Fleet, CallStream]:
    """A few units per district on 8-hour shifts, calls on a 1/1024-minute grid.

    Arrivals sit on the grid and off whole minutes, so SimPy's ``now + (t - now)`` is
    exact and no arrival coincides with a tour boundary (multiples of 480).
    """
    side = 4000.0
    rows = []
    for day in range(days):
        for s in range(3):
            start = day * 1440.0 + s * 480.0
            for d in range(n_districts):
                for _ in range(int(rng.integers(1, 4))):
                    rows.append((d, start, start + 480.0, d * side + side / 2, side / 2))
    a = np.array(rows)
    f = Fleet(
        district=a[:, 0].astype(np.int64),
        shift=np.zeros(len(a), np.int64),
        start_min=a[:, 1],
        end_min=a[:, 2],
        home_x_m=a[:, 3],
        home_y_m=a[:, 4],
    )
    arrival = np.sort(np.floor(rng.random(n_calls) * days * 1440 * 1024) / 1024 + 1 / 2048)
    district = rng.integers(0, n_districts, n_calls)
    u = rng.random(n_calls)
    c = CallStream(
        arrival_min=arrival,
        x_m=district * side + rng.random(n_calls) * side,
        y_m=rng.random(n_calls) * side,
        district=district.astype(np.int64),
        priority=rng.integers(1, 5, n_calls).astype(np.int64),
        units_needed=np.where(u < 0.05, 3, np.where(u < 0.2, 2, 1)).astype(np.int64),
        on_scene_min=rng.lognormal(np.log(25), 0.7, n_calls),
        call_type=np.zeros(n_calls, np.int64),
    )
    return f, c


def assert_same_decisions(a: SimRun, b: SimRun) -> None:
    for name in ("dispatch_min", "on_scene_at_min", "first_unit", "backup"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name in ("committed_min", "overtime_min", "calls_handled"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    load=st.sampled_from([40, 150, 400]),
    backup=st.sampled_from([None, 0.0, 5.0, 15.0]),
    turnout=st.sampled_from([0.0, 0.5]),
)
def test_same_decisions_as_the_simpy_model(
    seed: int, load: int, backup: float | None, turnout: float
) -> None:
    """Call by call, the same dispatch and arrival times and units (proactive off)."""
    f, c = small_city(np.random.default_rng(seed), n_calls=load)
    rules = replace(RULES, backup_after_min=backup, turnout_min=turnout)
    a = simulate(f, c, rules, n_districts=3, rng=np.random.default_rng(0))
    b = simulate_simpy(f, c, rules, n_districts=3, rng=np.random.default_rng(0))
    assert_same_decisions(a, b)


def test_same_decisions_as_the_simpy_model_on_a_busy_week() -> None:
    """A week, 9 districts, ~70 % load: queues, backups and multi-unit calls on every shift."""
    f, c = small_city(np.random.default_rng(42), n_calls=2500, n_districts=9, days=7)
    a = simulate(f, c, RULES, n_districts=9, rng=np.random.default_rng(0))
    b = simulate_simpy(f, c, RULES, n_districts=9, rng=np.random.default_rng(0))
    assert_same_decisions(a, b)
    waited = a.dispatch_min > c.arrival_min
    assert 0.2 < waited.mean() < 0.9
    assert a.backup.sum() > 500
    assert (c.units_needed > 1).sum() > 500
    assert a.calls_handled.sum() <= c.units_needed[~np.isnan(a.dispatch_min)].sum()


def test_proactive_on_agrees_with_simpy_in_distribution() -> None:
    """Different random streams, so only the totals agree (within 3 %)."""
    f, c = small_city(np.random.default_rng(5), n_calls=2000, n_districts=9, days=14)
    rules = replace(RULES, proactive_rate_per_hour=1.0, proactive_yields_to_priority=2)
    a = simulate(f, c, rules, n_districts=9, rng=np.random.default_rng(1))
    b = simulate_simpy(f, c, rules, n_districts=9, rng=np.random.default_rng(1))
    on_duty = float((f.end_min - f.start_min).sum())
    assert a.proactive_min.sum() / on_duty == pytest.approx(
        b.proactive_min.sum() / on_duty, rel=0.03
    )
    wait_a = np.nanmean(a.dispatch_min - c.arrival_min)
    wait_b = np.nanmean(b.dispatch_min - c.arrival_min)
    assert wait_a == pytest.approx(wait_b, rel=0.1)
