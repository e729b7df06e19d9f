"""Replications and their metrics: hand-computed cases, common random numbers, Erlang C."""

from __future__ import annotations

import math
import pickle
from typing import Any

import numpy as np
import pytest

from smart_policing.response.sim.engine import Fleet, SimRun
from smart_policing.response.sim.generate import CallTable
from smart_policing.response.sim.replicate import (
    HISTOGRAM_EDGES_MIN,
    estimate,
    prepare_scenario,
    replication_metrics,
    replication_seed,
    run_replication,
    run_scenario,
    simulate_replication,
    summarise,
)
from smart_policing.response.sim.scenario import Scenario, builtin_scenario_path, load_scenario

NAN = math.nan


def scenario(**over: Any) -> Scenario:
    data: dict[str, Any] = {
        "schema_version": 1,
        "name": "t",
        "seed": 4,
        "replications": 3,
        "start_date": "2025-04-07",
        "horizon_days": 4,
        "warmup_days": 1,
        "geography": {
            "layout": "synthetic",
            "districts": [{"name": "A", "area_km2": 9.0}, {"name": "B", "area_km2": 9.0}],
        },
        "shifts": [
            {"name": "day", "start": "07:00", "hours": 12},
            {"name": "night", "start": "19:00", "hours": 12},
        ],
        "staffing": {"A": [2, 1], "B": [2, 1]},
        "calls": {
            "mode": "generate",
            "per_day": 60,
            "hourly_profile": [1] * 24,
            "weekday_profile": [1] * 7,
            "types": [
                {
                    "name": "X",
                    "share": 1,
                    "priority": 1,
                    "on_scene": {"kind": "fixed", "value": 20},
                },
                {
                    "name": "Y",
                    "share": 3,
                    "priority": {2: 0.5, 3: 0.5},
                    "on_scene": {"kind": "exponential", "mean": 30},
                },
            ],
        },
        "call_taking": {"kind": "fixed", "value": 1.0},
        "dispatch": {"proactive_rate_per_hour": 0.5, "proactive_mean_min": 15},
    }
    data.update(over)
    return Scenario.model_validate(data)


# ---------------------------------------------------------------- by hand


def _hand_case() -> tuple[CallTable, Fleet, SimRun]:
    f64 = np.float64
    calls = CallTable(
        received_min=np.array([10.0, 20.0, 30.0, 40.0, 600.0]),
        call_taking_min=np.ones(5),
        dispatch_delay_min=np.zeros(5),
        x_m=np.zeros(5),
        y_m=np.zeros(5),
        district=np.array([0, 1, 0, 1, 0]),
        priority=np.array([1, 1, 2, 2, 1]),
        units_needed=np.ones(5, dtype=np.int64),
        on_scene_min=np.full(5, 5.0),
        call_type=np.zeros(5, dtype=np.int64),
        type_names=("T",),
    )
    fleet = Fleet(
        district=np.array([0, 1, 0]),
        shift=np.array([0, 0, 1]),
        start_min=np.array([0.0, 0.0, 400.0]),
        end_min=np.array([480.0, 480.0, 880.0]),  # the third ends after the horizon
        home_x_m=np.zeros(3),
        home_y_m=np.zeros(3),
    )
    run = SimRun(
        dispatch_min=np.array([11.0, 25.0, 31.0, NAN, 601.0], dtype=f64),
        on_scene_at_min=np.array([15.0, 36.0, 40.0, NAN, 612.0], dtype=f64),
        first_unit=np.array([0, 0, 0, -1, 2]),
        backup=np.array([False, True, False, False, False]),
        committed_min=np.array([120.0, 60.0, 30.0]),
        proactive_min=np.array([30.0, 0.0, 0.0]),
        overtime_min=np.array([5.0, 0.0, 0.0]),
        calls_handled=np.array([2, 1, 1]),
        events=17,
    )
    return calls, fleet, run


def test_metrics_of_a_hand_computed_replication() -> None:
    calls, fleet, run = _hand_case()
    m = replication_metrics(
        calls,
        fleet,
        run,
        n_districts=2,
        n_shifts=2,
        warmup_min=0.0,
        horizon_min=480.0,
        target_min=10.0,
    )
    # call 4 (received at 600) is after the horizon
    assert m.calls == 4
    assert m.unreached == 1
    p1, p2 = m.priorities
    # P1: responses 15 - 10 = 5 and 36 - 20 = 16
    assert (p1.priority, p1.calls, p1.reached) == (1, 2, 2)
    assert p1.response_median == 10.5
    assert p1.response_p90 == pytest.approx(5 + 0.9 * 11)
    assert p1.response_mean == 10.5
    assert p1.call_to_dispatch_median == 3.0  # 1 and 5
    assert p1.dispatch_to_arrival_median == 7.5  # 4 and 11
    assert p1.queue_wait_mean == 2.0  # queued at 11 and 21: waits 0 and 4
    assert p1.within_target == 0.5
    # histogram: 5 in [4, 6), 16 in [16, 18)
    edges = list(HISTOGRAM_EDGES_MIN)
    assert p1.histogram[edges.index(4.0)] == 0.5
    assert p1.histogram[edges.index(16.0)] == 0.5
    assert sum(p1.histogram) == 1.0
    # P2: one reached in exactly 10 minutes (counts as within), one never reached
    assert (p2.calls, p2.reached, p2.response_median, p2.within_target) == (2, 1, 10.0, 1.0)
    assert m.p1_within_target == 0.5
    assert m.backup_share == pytest.approx(1 / 3)  # of the 3 dispatched calls
    assert m.district_calls == (2, 2)
    assert m.district_p1_within_target == (1.0, 0.0)
    # tours: the third is outside the window
    o = m.overall_time
    assert (o.tours, o.on_duty_h, o.committed_h, o.proactive_h) == (2, 16.0, 3.0, 0.5)
    assert o.utilisation() == 180 / 960
    assert o.proactive_share(0.1) == pytest.approx(1 - 180 / (960 * 0.9))
    assert o.activity_share() == 30 / 960
    assert o.overtime_h == pytest.approx(5 / 60)
    d0 = m.district_time[0]
    assert d0.utilisation() == 0.25
    assert d0.proactive_share(0.1) == pytest.approx(1 - 120 / 432)
    assert m.shift_time[1].tours == 0
    assert math.isnan(m.shift_time[1].utilisation())
    assert m.cell_time[1][0].committed_h == 1.0
    assert m.events == 17


def test_estimate_student_t() -> None:
    e = estimate([1.0, 2.0, 3.0])
    # s = 1, t(0.975, 2) = 4.302652729749464
    half = 4.302652729749464 / math.sqrt(3)
    assert (e.mean, e.n) == (2.0, 3)
    assert e.low == pytest.approx(2.0 - half)
    assert e.high == pytest.approx(2.0 + half)
    assert estimate([0.9, 1.0, 1.0], lower=0.0, upper=1.0).high == 1.0
    one = estimate([5.0, NAN])
    assert (one.mean, one.low, one.high, one.n) == (5.0, None, None, 1)
    assert estimate([]).mean is None


def test_summary_of_hand_computed_replications() -> None:
    calls, fleet, run = _hand_case()
    kw: dict[str, Any] = {
        "n_districts": 2,
        "n_shifts": 2,
        "warmup_min": 0.0,
        "horizon_min": 480.0,
        "target_min": 10.0,
    }
    a = replication_metrics(calls, fleet, run, **kw)
    # a second replication where the P1 call in district 1 makes it in time
    run2 = SimRun(**{**run.__dict__, "on_scene_at_min": np.array([15.0, 29.0, 40.0, NAN, 612.0])})
    b = replication_metrics(calls, fleet, run2, **kw)
    s = scenario(
        staffing={"A": [1, 0], "B": [1, 0]}, horizon_days=1 / 3, warmup_days=0, replications=2
    )
    prepared = prepare_scenario(s)
    r = summarise(prepared, [a, b])
    assert r.replications == 2
    assert r.p1_within_target.mean == 0.75  # 0.5 and 1.0
    assert r.p1_within_target.high == 1.0  # clipped
    # t(0.975, 1) s / sqrt(2) = 12.71 x 0.354 / 1.41 = 3.18: clipped to [0, 1]
    assert r.p1_within_target.low == 0.0
    assert r.p1_target_met is False  # 0.75 < 0.90
    assert r.priorities[0].response_median.mean == (10.5 + 7.0) / 2
    assert r.districts[1].p1_within_target.mean == 0.5
    assert r.overall.utilisation.mean == 180 / 960
    assert r.proactive_target_met is True
    assert r.calls_per_day.mean == 4 / (1 / 3)
    assert [c.units for c in r.cells] == [1, 0, 1, 0]
    assert r.per_replication[1]["p1_within_target"] == 1.0


# ---------------------------------------------------------------- runs


def test_replications_are_seeded_from_one_seed_sequence() -> None:
    root = np.random.SeedSequence(4)
    child = root.spawn(3)[2].spawn(2)[1]
    assert (
        np.random.default_rng(child).random(3).tolist()
        == np.random.default_rng(replication_seed(4, 2, 1)).random(3).tolist()
    )
    s = scenario()
    a = run_scenario(s)
    b = run_scenario(s)
    assert a.model_dump(exclude={"seconds"}) == b.model_dump(exclude={"seconds"})
    c = run_scenario(s, seed=5)
    assert c.seed == 5
    assert c.calls_per_day != a.calls_per_day


def test_metrics_match_an_independent_computation_from_the_arrays() -> None:
    s = scenario(replications=1)
    prepared = prepare_scenario(s)
    calls, fleet, run, _ = simulate_replication(prepared, 0)
    result = run_scenario(prepared)
    m = (calls.received_min >= 1440.0) & (calls.received_min < 4 * 1440.0)
    resp = (run.on_scene_at_min - calls.received_min)[m]
    p1 = calls.priority[m] == 1
    assert result.p1_within_target.mean == pytest.approx(float((resp[p1] <= 10.0).mean()))
    for pr in result.priorities:
        sel = calls.priority[m] == pr.priority
        assert pr.calls.mean == int(sel.sum())
        assert pr.response_median.mean == pytest.approx(float(np.median(resp[sel])))
        wait = (run.dispatch_min - calls.queue_min)[m][sel]
        assert pr.queue_wait_mean.mean == pytest.approx(float(wait.mean()))
    inside = (fleet.start_min >= 1440.0) & (fleet.end_min <= 4 * 1440.0)
    on_duty = (fleet.end_min - fleet.start_min)[inside].sum()
    util = run.committed_min[inside].sum() / on_duty
    assert result.overall.utilisation.mean == pytest.approx(util)
    assert result.overall.proactive_share.mean == pytest.approx(1 - util / 0.9)
    assert result.overall.proactive_activity_share.mean == pytest.approx(
        run.proactive_min[inside].sum() / on_duty
    )
    assert result.overall.proactive_activity_share.mean > 0  # proactive work happened
    backup = run.backup[m][~np.isnan(run.dispatch_min[m])]
    assert result.backup_share.mean == pytest.approx(float(backup.mean()))
    assert result.overall.tours_per_day == pytest.approx(inside.sum() / 3)


def test_common_random_numbers_across_staffing_and_diversion() -> None:
    s = scenario()
    prepared = prepare_scenario(s)
    calls_a, *_ = simulate_replication(prepared, 1)
    calls_b, *_ = simulate_replication(prepared.with_staffing(np.array([[5, 5], [5, 5]])), 1)
    assert calls_a.received_min.tolist() == calls_b.received_min.tolist()
    calls_c, _, _, diverted = simulate_replication(prepared, 1, divert={"Y": 1.0})
    x = calls_a.call_type == 0
    window = (calls_a.received_min >= 1440) & (calls_a.received_min < 4 * 1440)
    assert diverted == int((~x & window).sum())
    assert calls_c.received_min.tolist() == calls_a.received_min[x].tolist()
    half = run_scenario(prepared, divert={"Y": 0.5})
    full = run_scenario(prepared)
    assert half.diverted_per_day.mean == pytest.approx(
        full.calls_per_day.mean * 0.75 * 0.5, rel=0.15
    )
    with pytest.raises(ValueError, match="between 0 and 1"):
        run_replication(prepared, 0, divert={"Y": 2.0})


def test_more_units_never_hurt_p1_on_the_same_calls() -> None:
    s = scenario(dispatch={"proactive_rate_per_hour": 0.0})
    prepared = prepare_scenario(s)
    low = run_scenario(prepared, staffing=np.array([[1, 1], [1, 1]]))
    high = run_scenario(prepared, staffing=np.array([[4, 3], [4, 3]]))
    assert high.p1_within_target.mean is not None
    assert low.p1_within_target.mean is not None
    assert high.p1_within_target.mean > low.p1_within_target.mean
    assert high.overall.proactive_share.mean > low.overall.proactive_share.mean  # type: ignore[operator]


def test_preemption_in_a_scenario_serves_priority_1_sooner_on_the_same_calls() -> None:
    """dispatch.preempt_priority reaches the engine: on the same calls (common random
    numbers) priority-1 calls wait less than half as long, and the share of calls that
    lost a unit is reported (None when the rule is off)."""
    base = {"proactive_rate_per_hour": 0.0}
    off = run_scenario(scenario(dispatch=base, staffing={"A": [1, 1], "B": [1, 1]}))
    on = run_scenario(
        scenario(dispatch={**base, "preempt_priority": 1}, staffing={"A": [1, 1], "B": [1, 1]})
    )
    assert off.preempted_share is None
    assert on.preempted_share is not None
    assert on.preempted_share.mean is not None
    assert 0 < on.preempted_share.mean < 0.5
    assert [p.calls.mean for p in on.priorities] == [p.calls.mean for p in off.priorities]
    p1_on, p1_off = on.priorities[0].queue_wait_mean.mean, off.priorities[0].queue_wait_mean.mean
    assert p1_on is not None
    assert p1_off is not None
    assert p1_on < 0.5 * p1_off
    assert on.unreached.mean == off.unreached.mean  # interrupted calls are finished later


def test_prepared_scenario_pickles_and_runs_the_same() -> None:
    prepared = prepare_scenario(load_scenario(builtin_scenario_path("synthetic-city")))
    clone = pickle.loads(pickle.dumps(prepared))
    a = run_replication(prepared, 0)
    b = run_replication(clone, 0)
    assert a == b


def test_agrees_with_erlang_c() -> None:
    """One district, Poisson calls, exponential service, travel ~ 0: an M/M/c queue.

    lambda = 6 calls/h, mean service 20 min, c = 3: a = 2 Erlang, P(wait) = 4/9 and
    the mean wait W_q = P(wait) / (c mu - lambda) = (4/9) / (3/20 - 1/10) = 80/9 min.
    """
    s = scenario(
        replications=8,
        horizon_days=40,
        warmup_days=2,
        geography={"layout": "synthetic", "districts": [{"name": "A", "area_km2": 0.0001}]},
        shifts=[{"name": "all", "start": "00:00", "hours": 24}],
        staffing={"A": [3]},
        calls={
            "mode": "generate",
            "per_day": 144,
            "hourly_profile": [1] * 24,
            "weekday_profile": [1] * 7,
            "types": [
                {
                    "name": "X",
                    "share": 1,
                    "priority": 1,
                    "on_scene": {"kind": "exponential", "mean": 20},
                }
            ],
        },
        dispatch={"speed_kmh": 200, "turnout_min": 0, "backup_after_min": None},
        call_taking={"kind": "fixed", "value": 0},
    )
    prepared = prepare_scenario(s)
    # one tour over the whole run: at a shift change the outgoing units finish their
    # calls while the incoming ones are free, briefly more than c servers (about 6%
    # less waiting with daily changes), which the M/M/c model does not have
    three = Fleet(
        district=np.zeros(3, dtype=np.int64),
        shift=np.zeros(3, dtype=np.int64),
        start_min=np.zeros(3),
        end_min=np.full(3, 50 * 1440.0),
        home_x_m=np.zeros(3),
        home_y_m=np.zeros(3),
    )
    reps = [run_replication(prepared, r, fleet=three) for r in range(s.replications)]
    r = summarise(prepared, reps)
    wait = r.priorities[0].queue_wait_mean
    assert wait.low is not None
    assert wait.high is not None
    assert wait.low <= 80 / 9 <= wait.high
    assert wait.high - wait.low < 2.0
    waited = [x.priorities[0].queue_wait_median for x in reps]
    assert all(w == 0.0 for w in waited)  # P(wait) = 4/9 < 1/2: the median call never waits
