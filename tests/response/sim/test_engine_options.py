"""The engine's optional rules: speed by priority and pre-emption (``DispatchRules``).

Exact event logs on hand-computed cases, then call by call against the SimPy reference
(which models both options) on random cities. Geometry as in ``test_sim_engine.py``:
60 km/h and circuity 1 make travel 1 minute per kilometre, turnout 0 unless stated.
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
from test_sim_engine import KM_PER_MIN, RULES, assert_same_decisions, calls, fleet, log, run

from smart_policing.response.sim import DispatchRules, SimRun, simulate

PREEMPT = replace(KM_PER_MIN, preempt_priority=1)


def test_defaults_keep_one_speed_and_no_preemption() -> None:
    rules = DispatchRules()
    assert rules.priority_speed_factor == ()
    assert rules.preempt_priority == 0
    r = run(fleet((0, 0, 100, 0, 0)), calls((1, 0, 3000, 0, 1, 1, 5)), KM_PER_MIN)
    assert r.preempted.tolist() == [0]
    assert r.preemptions == 0


def test_speed_factor_changes_travel_time_exactly() -> None:
    """P1 at twice the speed, P3 at half; P2 (factor 1) and P4 (beyond the tuple) at 60 km/h.
    Turnout (0.5 min) is not scaled."""
    f = fleet((0, 0, 1000, 0, 0))
    c = calls(
        (0, 6000, 0, 0, 1, 1, 10),  # 6 km at 120 km/h: 3 min
        (20, 6000, 3000, 0, 3, 1, 10),  # 3 km at 30 km/h: 6 min
        (40, 6000, 7000, 0, 2, 1, 10),  # 4 km at 60 km/h: 4 min
        (60, 1000, 7000, 0, 4, 1, 10),  # 5 km, no factor for P4: 5 min
    )
    rules = replace(KM_PER_MIN, turnout_min=0.5, priority_speed_factor=(2.0, 1.0, 0.5))
    r = run(f, c, rules)
    assert [e[4] for e in log(r) if e[1] == "dispatch"] == [3.5, 26.5, 44.5, 65.5]
    np.testing.assert_array_equal(r.on_scene_at_min, [3.5, 26.5, 44.5, 65.5])
    np.testing.assert_array_equal(r.committed_min, [13.5 + 16.5 + 14.5 + 15.5])
    # the same calls without factors: 6, 3, 4, 5 minutes of travel
    plain = run(f, c, replace(rules, priority_speed_factor=()))
    np.testing.assert_array_equal(plain.on_scene_at_min, [6.5, 23.5, 44.5, 65.5])


def test_a_priority_1_call_preempts_a_priority_2_unit_which_resumes_later() -> None:
    """Two units, both on scene when a P1 call comes: it takes the nearer one (on a P2
    call); the P2 call goes back to the queue ahead of a later P2 call and is finished,
    its remaining 22 of 30 minutes, by the first unit free."""
    f = fleet((0, 0, 1000, 0, 0), (0, 0, 1000, 10_000, 0))
    c = calls(
        (0, 0, 2000, 0, 2, 1, 30),  # u0, 2 km: on scene 2, would clear at 32
        (1, 10_000, 3000, 0, 3, 1, 40),  # u1, 3 km: on scene 4, clears at 44
        (10, 0, 5000, 0, 1, 1, 20),  # no unit free: takes u0 (3 km; u1 is 10.2 km away)
        (12, 10_000, 0, 0, 2, 1, 5),  # no unit free, P2 does not pre-empt: queued
    )
    r = run(f, c, PREEMPT)
    assert log(r) == [
        (0, "on_duty", -1, 0),
        (0, "on_duty", -1, 1),
        (0, "call", 0, -1),
        (0, "dispatch", 0, 0, 2),
        (1, "call", 1, -1),
        (1, "dispatch", 1, 1, 4),
        (10, "call", 2, -1),
        (10, "preempted", 0, 0),  # 8 of call 0's 30 minutes done, 22 left
        (10, "dispatch", 2, 0, 13),
        (10, "queued", 0, -1),
        (12, "call", 3, -1),
        (12, "queued", 3, -1),
        (33, "clear", 2, 0),  # call 0 (arrived at 0) before call 3 (at 12): 3 km back
        (33, "dispatch", 0, 0, 36),
        (44, "clear", 1, 1),
        (44, "dispatch", 3, 1, 47),
        (52, "clear", 3, 1),
        (58, "clear", 0, 0),  # 36 + the remaining 22 minutes
        (1000, "off_duty", -1, 0),
        (1000, "off_duty", -1, 1),
    ]
    np.testing.assert_array_equal(r.dispatch_min, [0, 1, 10, 44])  # first dispatch stands
    np.testing.assert_array_equal(r.on_scene_at_min, [2, 4, 13, 47])
    np.testing.assert_array_equal(r.first_unit, [0, 1, 0, 1])
    np.testing.assert_array_equal(r.preempted, [1, 0, 0, 0])
    assert r.preemptions == 1
    # u0: 0-10 on call 0, 10-33 on call 2, 33-58 on call 0 again; u1: 1-44, 44-52
    np.testing.assert_array_equal(r.committed_min, [10 + 23 + 25, 43 + 8])
    np.testing.assert_array_equal(r.calls_handled, [3, 2])
    # tour starts and ends 4, calls 4, clears 4 and the interrupted call's stale one (at 32)
    assert r.events == 4 + 4 + 4 + 1


def test_no_preemption_of_travelling_units_emergencies_or_units_past_their_tour() -> None:
    """When the P1 call comes: u0 is on scene at a P1 call (never taken: no bouncing
    between emergencies), u1 is still travelling to a P3 call (not diverted) and u2 is on
    scene at a P3 call after its tour's end (no new call). The P1 call waits."""
    f = fleet((0, 0, 1000, 0, 0), (0, 0, 1000, 0, 0), (0, 0, 20, 0, 1000))
    c = calls(
        (0, 0, 1000, 0, 3, 1, 100),  # u2 is there: on scene at 0, clears at 100
        (1, 0, -3000, 0, 1, 1, 50),  # u0 (tie with u1: lowest index), on scene 4 to 54
        (2, 0, 30_000, 0, 3, 1, 10),  # u1, 30 km: travelling until 32
        (25, 0, 0, 0, 1, 1, 5),  # nothing it may take: queued
    )
    r = run(f, c, PREEMPT)
    assert log(r) == [
        (0, "on_duty", -1, 0),
        (0, "on_duty", -1, 1),
        (0, "on_duty", -1, 2),
        (0, "call", 0, -1),
        (0, "dispatch", 0, 2, 0),
        (1, "call", 1, -1),
        (1, "dispatch", 1, 0, 4),
        (2, "call", 2, -1),
        (2, "dispatch", 2, 1, 32),
        (25, "call", 3, -1),
        (25, "queued", 3, -1),
        (42, "clear", 2, 1),  # the first unit free takes it, 30 km away
        (42, "dispatch", 3, 1, 72),
        (54, "clear", 1, 0),
        (77, "clear", 3, 1),
        (100, "clear", 0, 2),
        (100, "off_duty", -1, 2),
        (1000, "off_duty", -1, 0),
        (1000, "off_duty", -1, 1),
    ]
    assert r.preemptions == 0
    np.testing.assert_array_equal(r.overtime_min, [0, 0, 80])


def test_preempted_call_becomes_eligible_for_backup_after_the_interruption() -> None:
    """The interrupted call waits again from the pre-emption: eligible 5 minutes later,
    it takes the other district's unit, which works the remaining 51 minutes."""
    f = fleet((0, 0, 1000, 0, 0), (1, 0, 1000, 20_000, 1000))
    c = calls(
        (0, 0, 1000, 0, 2, 1, 60),  # u0: on scene 1, would clear at 61
        (10, 0, 4000, 0, 1, 1, 10),  # takes u0 (3 km): on scene 13, clears 23
    )
    r = run(f, c, replace(PREEMPT, backup_after_min=5.0), nd=2)
    assert log(r) == [
        (0, "on_duty", -1, 0),
        (0, "on_duty", -1, 1),
        (0, "call", 0, -1),
        (0, "dispatch", 0, 0, 1),
        (10, "call", 1, -1),
        (10, "preempted", 0, 0),
        (10, "dispatch", 1, 0, 13),
        (10, "queued", 0, -1),
        (15, "eligible", 0, -1),  # u1, 20 km away
        (15, "dispatch", 0, 1, 35),
        (23, "clear", 1, 0),  # call 0 is served: u0 stays free
        (86, "clear", 0, 1),  # 35 + 51
        (1000, "off_duty", -1, 0),
        (1000, "off_duty", -1, 1),
    ]
    np.testing.assert_array_equal(r.committed_min, [10 + 13, 71])
    np.testing.assert_array_equal(r.backup, [False, False])  # the first unit was its own
    np.testing.assert_array_equal(r.on_scene_at_min, [1, 13])


def test_a_two_unit_emergency_takes_a_free_unit_and_preempts_the_nearest_busy_one() -> None:
    f = fleet((0, 0, 1000, 0, 0), (0, 0, 1000, 0, 0), (0, 0, 1000, 9000, 0))
    c = calls(
        (0, 0, 8000, 0, 4, 1, 60),  # u0, 8 km: on scene 8
        (1, 0, 2000, 0, 3, 1, 60),  # u1, 2 km: on scene 3
        (10, 0, 5000, 0, 1, 2, 10),  # u2 is free (10.3 km); u0 and u1 are 3 km away
    )
    r = run(f, c, replace(PREEMPT, preempt_priority=2))
    # u2 first (free), then the nearest unit on scene: a tie at 3 km, the lowest index u0
    assert log(r)[7:12] == [
        (10, "call", 2, -1),
        (10, "dispatch", 2, 2, 10 + math.hypot(9000, 5000) / 1000),
        (10, "preempted", 0, 0),
        (10, "dispatch", 2, 0, 13),
        (10, "queued", 0, -1),
    ]
    assert r.preempted.tolist() == [1, 0, 0]
    assert r.on_scene_at_min[2] == 13  # the earlier of its two units


def test_units_on_calls_at_or_above_the_preemption_priority_are_not_taken() -> None:
    """preempt_priority 2: a P1 call does not take a unit from a P2 call; a P2 call does
    not take one from another P2 call (only from priority 3 and below)."""
    f = fleet((0, 0, 1000, 0, 0))
    c = calls((0, 0, 1000, 0, 2, 1, 60), (5, 0, 0, 0, 1, 1, 5), (6, 0, 0, 0, 2, 1, 5))
    r = run(f, c, replace(PREEMPT, preempt_priority=2))
    assert r.preemptions == 0
    np.testing.assert_array_equal(r.dispatch_min, [0, 61, 67])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"priority_speed_factor": (1.5, 0.0)}, "priority_speed_factor for priority 2"),
        ({"priority_speed_factor": (math.nan,)}, "priority_speed_factor for priority 1"),
        ({"priority_speed_factor": ("fast",)}, "sequence of numbers"),
        ({"preempt_priority": -1}, "preempt_priority"),
    ],
)
def test_bad_options_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DispatchRules(**change)


def test_speed_factors_are_stored_as_a_tuple_of_floats() -> None:
    rules = DispatchRules(priority_speed_factor=[2, 1.5])  # type: ignore[arg-type]
    assert rules.priority_speed_factor == (2.0, 1.5)
    assert hash(rules) == hash(DispatchRules(priority_speed_factor=(2.0, 1.5)))


def test_simrun_without_preemption_counts_defaults_to_empty() -> None:
    empty = np.zeros(0)
    r = SimRun(empty, empty, empty.astype(np.int64), empty.astype(bool), empty, empty, empty,
               empty.astype(np.int64), 0)  # fmt: skip
    assert r.preempted.shape == (0,)
    assert r.preemptions == 0


# -- against the SimPy reference ------------------------------------------------------


def small_city(seed: int, n_calls: int, n_districts: int = 3, days: int = 2) -> Any:
    from test_sim_engine import small_city as city

    return city(np.random.default_rng(seed), n_calls=n_calls, n_districts=n_districts, days=days)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    load=st.sampled_from([40, 150, 400]),
    backup=st.sampled_from([None, 0.0, 5.0]),
    preempt=st.sampled_from([0, 1, 2]),
    factors=st.sampled_from([(), (1.6,), (1.6, 1.2, 0.8)]),
)
def test_same_decisions_as_the_simpy_model_with_the_options(
    seed: int, load: int, backup: float | None, preempt: int, factors: tuple[float, ...]
) -> None:
    """Call by call the same dispatches, arrivals, units, pre-emptions (proactive off)."""
    f, c = small_city(seed, n_calls=load)
    rules = replace(
        RULES, backup_after_min=backup, preempt_priority=preempt, priority_speed_factor=factors
    )
    a = simulate(f, c, rules, n_districts=3, rng=np.random.default_rng(0))
    b = simulate_simpy(f, c, rules, n_districts=3, rng=np.random.default_rng(0))
    assert_same_decisions(a, b)
    np.testing.assert_array_equal(a.preempted, b.preempted)


def test_preemption_on_a_busy_week_agrees_with_simpy_and_serves_priority_1_faster() -> None:
    f, c = small_city(42, n_calls=2500, n_districts=9, days=7)
    on = replace(RULES, preempt_priority=1)
    a = simulate(f, c, on, n_districts=9, rng=np.random.default_rng(0))
    b = simulate_simpy(f, c, on, n_districts=9, rng=np.random.default_rng(0))
    assert_same_decisions(a, b)
    np.testing.assert_array_equal(a.preempted, b.preempted)
    assert a.preemptions > 30
    assert (a.preempted[c.priority == 1] == 0).all()  # emergencies are never interrupted
    off = simulate(f, c, RULES, n_districts=9, rng=np.random.default_rng(0))
    p1 = c.priority == 1
    wait_on = a.dispatch_min - c.arrival_min
    wait_off = off.dispatch_min - c.arrival_min
    assert np.nanmean(wait_on[p1]) < 0.5 * np.nanmean(wait_off[p1])
    assert np.nanmean(wait_on[~p1]) > np.nanmean(wait_off[~p1])  # the others pay for it
    # every pre-empted call is eventually finished (or cancelled by its other units)
    assert not np.isnan(a.on_scene_at_min[a.preempted > 0]).any()


def test_preemption_with_proactive_work_agrees_with_simpy_in_distribution() -> None:
    """Proactive work on (different random streams): waits and pre-emptions agree in total."""
    f, c = small_city(5, n_calls=2000, n_districts=9, days=14)
    rules = replace(
        RULES, proactive_rate_per_hour=1.0, proactive_yields_to_priority=2, preempt_priority=1
    )
    a = simulate(f, c, rules, n_districts=9, rng=np.random.default_rng(1))
    b = simulate_simpy(f, c, rules, n_districts=9, rng=np.random.default_rng(1))
    assert a.preemptions > 10
    assert a.preemptions == pytest.approx(b.preemptions, rel=0.25)
    for sel in (c.priority == 1, c.priority > 1):
        wait_a = np.nanmean((a.dispatch_min - c.arrival_min)[sel])
        wait_b = np.nanmean((b.dispatch_min - c.arrival_min)[sel])
        assert wait_a == pytest.approx(wait_b, rel=0.15, abs=0.05)
