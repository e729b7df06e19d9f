"""Calibration: empirical tables from calls (by hand), and a fit that recovers known units."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

import smart_policing.response.calibrate_cli  # noqa: F401  (registers `response calibrate`)
from smart_policing.cli import app
from smart_policing.data.synth import CityParams, generate_city
from smart_policing.response.sim.calibrate import (
    calibrate,
    fit_simulator,
    interval_minutes,
    quantile_table,
)
from smart_policing.response.sim.generate import run_origin
from smart_policing.response.sim.replicate import prepare_scenario, simulate_replication
from smart_policing.response.sim.scenario import Scenario, load_calibration

NY = "America/New_York"
TS = pl.Datetime("us", "UTC")
STAMPS = ("received_at", "queued_at", "dispatched_at", "en_route_at", "on_scene_at", "cleared_at")
T0 = datetime(2025, 3, 3, 5, tzinfo=UTC)  # Monday 2025-03-03 00:00 in New York


def _row(minute: float, **over: Any) -> dict[str, Any]:
    """A police 911 call received ``minute`` minutes after T0 with a full timestamp chain
    (minutes after reception: queued 1, dispatched 3, en route 3.5, on scene 8, cleared 38)."""
    at = T0 + timedelta(minutes=minute)
    offsets = {"queued_at": 1, "dispatched_at": 3, "en_route_at": 3.5, "on_scene_at": 8,
               "cleared_at": 38}  # fmt: skip
    row: dict[str, Any] = {
        "agency": "POLICE",
        "call_type_code": "NOISE",
        "priority": 2,
        "source_channel": "911",
        "self_initiated": False,
        "received_at": at,
        **{k: at + timedelta(minutes=v) for k, v in offsets.items()},
    }
    for k, v in over.items():
        row[k] = at + timedelta(minutes=v) if k in offsets and v is not None else v
    return row


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema: dict[str, Any] = {
        "agency": pl.String,
        "call_type_code": pl.String,
        "priority": pl.Int64,
        "source_channel": pl.String,
        "self_initiated": pl.Boolean,
        **dict.fromkeys(STAMPS, TS),
    }
    return pl.DataFrame(rows, schema=schema)


def test_quantile_table() -> None:
    t = quantile_table(np.arange(101, dtype=np.float64), points=11)
    assert t is not None
    assert t.quantiles == tuple(float(x) for x in range(0, 101, 10))
    assert t.n == 101
    assert quantile_table(np.array([np.nan])) is None


def test_calibration_by_hand() -> None:
    rows = [
        _row(0),  # Monday 00:00
        _row(60, priority=1, call_type_code="SHOOTING"),  # Monday 01:00
        _row(24 * 60 + 60, cleared_at=7.0),  # Tuesday 01:00: cleared before arrival
        _row(2 * 24 * 60, on_scene_at=None, cleared_at=None),  # Wednesday: never reached
        _row(3 * 24 * 60, dispatched_at=2000.0),  # Thursday: dispatch after 33 h (extreme)
        _row(30, agency="FIRE"),
        _row(40, source_channel="officer_initiated", on_scene_at=0.0, cleared_at=12.0),
        _row(50, self_initiated=True, on_scene_at=0.0, cleared_at=20.0),
    ]
    cal = calibrate(_frame(rows), source="hand", timezone=NY, min_count=2, points=3)
    assert cal.counts == {"rows": 8, "other_agency": 1, "officer_initiated": 2, "citizen_calls": 5}
    assert (cal.first_day.isoformat(), cal.last_day.isoformat(), cal.days) == (
        "2025-03-03",
        "2025-03-06",
        4.0,
    )
    assert cal.calls_per_day == 5 / 4
    assert cal.impossible["on_scene_s"] == 1  # cleared before arrival
    assert cal.impossible["call_to_dispatch_s"] == 1  # 33 hours
    assert cal.impossible["queue_to_dispatch_s"] == 1
    assert cal.missing["on_scene_s"] == 1
    assert cal.missing["call_to_arrival_s"] == 1
    # hours: 00, 01, 01, 00, 00 -> 3/5 at midnight, 2/5 at one
    assert cal.hourly_profile[0] == pytest.approx(0.6)
    assert cal.hourly_profile[1] == pytest.approx(0.4)
    # Monday 2 calls, Tuesday-Thursday 1 each, over one of each day: mean 5/7
    assert cal.weekday_profile[:4] == pytest.approx([2 / (5 / 7), 1 / (5 / 7)] + [7 / 5] * 2)
    assert cal.weekday_profile[4:] == (0.0, 0.0, 0.0)
    p1, p2 = cal.priorities
    assert (p1.priority, p1.n, p2.n) == (1, 1, 4)
    assert p1.call_to_dispatch_median == 3.0
    assert p2.n_call_to_dispatch == 3  # the 33-hour one is set aside
    assert p2.call_to_dispatch_median == 3.0
    assert p2.dispatch_to_arrival_median == 5.0
    assert p2.call_to_arrival_median == 8.0
    assert p2.n_call_to_arrival == 3  # one never reached
    assert [t.code for t in cal.types] == ["NOISE", "SHOOTING"]
    assert cal.types[0].share == 0.8
    assert cal.types[0].priority_mix == {2: 1.0}
    # on scene 30 min for the usable NOISE calls (two of four); SHOOTING has one (< 2)
    assert cal.on_scene.by_type["NOISE"].quantiles == (30.0, 30.0, 30.0)
    assert "SHOOTING" not in cal.on_scene.by_type
    assert cal.on_scene.lookup("SHOOTING", 1) == cal.on_scene.overall  # no P1 table either
    assert cal.call_taking is not None
    assert cal.call_taking.quantiles == (1.0, 1.0, 1.0)
    assert cal.turnout is not None
    assert cal.turnout.quantile(0.5) == 0.5
    assert cal.proactive.n == 2
    assert cal.proactive.per_day == 0.5
    assert cal.proactive.duration is not None
    assert cal.proactive.duration.quantiles == (12.0, 16.0, 20.0)


def test_interval_from_derived_column_when_timestamps_are_absent() -> None:
    frame = pl.DataFrame({"on_scene_s": [60.0, -1.0, None, 30 * 3600.0]})
    values, missing, bad = interval_minutes(frame, "on_scene_s")
    assert values[0] == 1.0
    assert np.isnan(values[1:]).all()
    assert (missing, bad) == (1, 2)


def test_no_citizen_calls_is_an_error() -> None:
    with pytest.raises(ValueError, match="no citizen-initiated POLICE calls"):
        calibrate(_frame([_row(0, agency="FIRE")]), source="x", timezone=NY)


# ---------------------------------------------------------------- the fit


TRUTH_UNITS = [5, 3]
TRUTH_AREA = 40.0


def _simulated_cad(**dispatch: Any) -> pl.DataFrame:
    """A CAD export written by the simulator itself, from known units and area
    (``dispatch``: more of the engine's rules, e.g. pre-emption)."""
    s = Scenario.model_validate(
        {
            "schema_version": 1,
            "name": "truth",
            "seed": 11,
            "start_date": "2025-03-10",
            "horizon_days": 42,
            "warmup_days": 0.0001,
            "geography": {
                "layout": "synthetic",
                "districts": [{"name": "city", "area_km2": TRUTH_AREA}],
            },
            "shifts": [
                {"name": "day", "start": "06:00", "hours": 13},
                {"name": "night", "start": "19:00", "hours": 11},
            ],
            "staffing": {"city": TRUTH_UNITS},
            "calls": {
                "mode": "generate",
                "per_day": 120,
                "hourly_profile": [0.5] * 6 + [1.3] * 13 + [0.9] * 5,
                "weekday_profile": [1] * 7,
                "types": [
                    {
                        "name": "A",
                        "share": 1,
                        "priority": 1,
                        "on_scene": {"kind": "lognormal", "median": 30, "sigma": 0.8},
                    },
                    {
                        "name": "B",
                        "share": 5,
                        "priority": 2,
                        "on_scene": {"kind": "lognormal", "median": 25, "sigma": 0.8},
                    },
                    {
                        "name": "C",
                        "share": 3,
                        "priority": 3,
                        "on_scene": {"kind": "lognormal", "median": 20, "sigma": 0.8},
                    },
                ],
            },
            "call_taking": {"kind": "lognormal", "median": 1.0, "sigma": 0.5},
            "dispatch_delay": {"kind": "lognormal", "median": 0.5, "sigma": 0.5},
            "dispatch": {"turnout_min": 0.2, "backup_after_min": None, **dispatch},
        }
    )
    prepared = prepare_scenario(s)
    calls, _, run, _ = simulate_replication(prepared, 0)
    origin = run_origin(prepared.start, s.timezone).astimezone(UTC)

    def at(minutes: np.ndarray) -> list[datetime | None]:
        return [None if np.isnan(m) else origin + timedelta(minutes=float(m)) for m in minutes]

    return pl.DataFrame(
        {
            "agency": ["POLICE"] * len(calls),
            "call_type_code": [calls.type_names[t] for t in calls.call_type],
            "priority": calls.priority,
            "source_channel": ["911"] * len(calls),
            "self_initiated": [False] * len(calls),
            "received_at": at(calls.received_min),
            "queued_at": at(calls.received_min + calls.call_taking_min),
            "dispatched_at": at(run.dispatch_min),
            "en_route_at": at(run.dispatch_min + 0.2),
            "on_scene_at": at(run.on_scene_at_min),
            "cleared_at": at(run.on_scene_at_min + calls.on_scene_min),
        },
        schema_overrides=dict.fromkeys(STAMPS, TS),
    )


def test_fit_recovers_the_units_area_and_delay_of_simulated_data() -> None:
    """The simulator writes a CAD export from known units (5 day, 3 night), area (40 km2)
    and dispatcher delay (log-normal, median 0.5 min, mean 0.57); the fit finds them."""
    frame = _simulated_cad()
    cal = calibrate(frame, source="truth", timezone=NY)
    fit = fit_simulator(frame, cal, replications=3, start_area_km2=10.0)
    assert fit.units == TRUTH_UNITS
    assert fit.area_km2 == pytest.approx(TRUTH_AREA, rel=0.1)
    assert 0.4 <= fit.dispatch_delay_min <= 0.9
    assert fit.turnout_min == pytest.approx(0.2)
    assert fit.proactive_rate_per_hour == 0.0  # no officer-initiated calls
    assert [r.fitted for r in fit.rows] == [True, True, False]
    for r in fit.rows:  # the same model: every priority is reproduced
        for err in (r.error_call_to_dispatch, r.error_dispatch_to_arrival):
            assert err is not None
            assert abs(err) < 0.1, r
    for s in fit.shifts:
        assert s.error_call_to_dispatch is not None
        assert abs(s.error_call_to_dispatch) < 0.1, s


def test_fit_finds_preemption_and_the_priority_1_speed_when_the_data_has_them() -> None:
    """The same city, but its dispatchers pre-empt for priority 1 and priority-1 units
    drive 1.5 times as fast: the fit keeps the pre-emption rule (its priority-1
    call-to-dispatch 90th percentile is the near one) and finds the speed factor."""
    frame = _simulated_cad(preempt_priority=1, priority_speed_factor=[1.5])
    cal = calibrate(frame, source="truth", timezone=NY)
    fit = fit_simulator(frame, cal, replications=3, start_area_km2=10.0)
    off, on = fit.preemption_checks
    assert (off.preempt_priority, on.preempt_priority) == (0, 1)
    assert on.error_p1_call_to_dispatch_p90 is not None
    assert off.error_p1_call_to_dispatch_p90 is not None
    assert abs(on.error_p1_call_to_dispatch_p90) < 0.15
    assert off.error_p1_call_to_dispatch_p90 > 1.0  # P1 calls wait far too long without it
    assert fit.preempt_priority == 1
    assert fit.units == TRUTH_UNITS
    assert fit.area_km2 == pytest.approx(TRUTH_AREA, rel=0.1)
    assert fit.speed_priority == 1
    assert fit.priority_speed_factor[0] == pytest.approx(1.5, rel=0.1)
    assert fit.preempted_share is not None
    assert fit.preempted_share.mean is not None
    assert 0.01 < fit.preempted_share.mean < 0.15  # loaded: P1 calls often find all busy
    for r in fit.rows:
        for err in (r.error_call_to_dispatch, r.error_dispatch_to_arrival):
            assert err is not None
            assert abs(err) < 0.1, r


def test_fit_options_are_checked() -> None:
    frame = _simulated_cad()
    cal = calibrate(frame, source="truth", timezone=NY)
    with pytest.raises(ValueError, match="speed_priority must differ"):
        fit_simulator(frame, cal, speed_priority=2)
    with pytest.raises(ValueError, match="no priority-7 calls"):
        fit_simulator(frame, cal, speed_priority=7)
    with pytest.raises(ValueError, match="preempt_priority must be >= 0"):
        fit_simulator(frame, cal, preempt_priority=-1)


# ---------------------------------------------------------------- command


def test_calibrate_command_on_a_synthetic_export(tmp_path: Path) -> None:
    params = CityParams(
        seed=3, calls_per_day=40, incidents_per_day=5, n_call_sites=500, n_alarm_sites=50,
        n_gun_sites=50,
    )  # fmt: skip
    generate_city(params, tmp_path)
    out = tmp_path / "cal.yaml"
    runner = CliRunner()
    args = ["response", "calibrate", str(tmp_path / "cad_calls.csv"), "--out", str(out)]
    result = runner.invoke(app, [*args, "--no-fit", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["fit"] is None
    assert doc["written"] == str(out)
    summary = doc["calibration"]
    assert summary["agency"] == "POLICE"
    assert summary["counts"]["citizen_calls"] > 1000
    cal = load_calibration(out)
    assert cal.counts == summary["counts"]
    assert sum(cal.hourly_profile) == pytest.approx(1.0)
    human = runner.invoke(app, [*args, "--replications", "1"])
    assert human.exit_code == 0, human.output
    assert "fit: units per shift" in human.stdout
    assert "by shift" in human.stdout
    bad = runner.invoke(app, ["response", "calibrate", str(tmp_path / "none.csv")])
    assert bad.exit_code == 2
    assert "none.csv" in bad.stderr
