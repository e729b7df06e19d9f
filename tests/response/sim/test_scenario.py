"""The scenario file: validation naming file, line and field; distributions; copies."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from smart_policing.datafiles import DataFileError
from smart_policing.response.sim.scenario import (
    Calibration,
    Empirical,
    Exponential,
    Fixed,
    GammaDist,
    GenerateCalls,
    LogNormal,
    Scenario,
    builtin_scenario_path,
    builtin_scenarios,
    load_scenario,
)

MINIMAL = """\
schema_version: 1
name: tiny
seed: 3
replications: 2
start_date: 2025-03-03
horizon_days: 2
warmup_days: 0.5
geography:
  layout: synthetic
  districts:
    - {name: A, area_km2: 4}
    - {name: B, area_km2: 9}
shifts:
  - {name: day, start: "07:00", hours: 12}
  - {name: night, start: "19:00", hours: 12}
staffing:
  A: [2, 1]
  B: [3, 2]
calls:
  mode: generate
  per_day: 50
  hourly_profile: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
  weekday_profile: [1, 1, 1, 1, 1, 1, 1]
  types:
    - {name: DISTURBANCE, share: 3, priority: {1: 0.2, 2: 0.8},
       on_scene: {kind: lognormal, median: 20, sigma: 0.5}}
    - {name: REPORT, share: 1, priority: 4, units_needed: 1,
       on_scene: {kind: fixed, value: 30}}
call_taking: {kind: exponential, mean: 1.0}
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def problems(tmp_path: Path, text: str) -> str:
    with pytest.raises(DataFileError) as info:
        load_scenario(write(tmp_path, text))
    return str(info.value)


def test_minimal_scenario_loads_with_defaults(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, MINIMAL))
    assert s.district_names == ("A", "B")
    assert s.shift_names == ("day", "night")
    assert s.staffing_matrix().tolist() == [[2, 1], [3, 2]]
    assert s.officer_time.admin_allowance == 0.10
    assert s.targets.p1_target_min == 10.0
    assert s.targets.p1_share == 0.90
    assert s.targets.proactive_share == pytest.approx(1 / 3)
    assert s.dispatch.backup_after_min == 5.0
    assert s.dispatch_delay == Fixed(value=0.0)
    assert isinstance(s.calls, GenerateCalls)
    assert s.calls.types is not None
    assert s.calls.types[0].priority == {1: 0.2, 2: 0.8}
    assert s.shifts[1].start_minute == 19 * 60


def test_shipped_synthetic_city_scenario() -> None:
    assert "synthetic-city" in builtin_scenarios()
    s = load_scenario(builtin_scenario_path("synthetic-city"))
    assert len(s.district_names) == 9
    assert s.shift_names == ("day", "evening", "midnight")
    assert s.staffing_matrix().shape == (9, 3)
    assert isinstance(s.calls, GenerateCalls)
    assert s.calls.types is not None
    assert all(t.on_scene is not None for t in s.calls.types)
    weights = s.calls.district_weights
    assert weights is not None
    assert sum(weights.values()) == pytest.approx(1.0, abs=0.002)
    with pytest.raises(KeyError, match="known: synthetic-city"):
        builtin_scenario_path("nowhere")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("schema_version: 1", "schema_version: 2"), "line 1, field 'schema_version'"),
        (("seed: 3", "seed: 3\ncolour: red"), "line 4, field 'colour': Extra inputs"),
        (("  A: [2, 1]", "  A: [2, 1, 4]"), "field 'staffing.A': 3 numbers for 2 shifts"),
        (("  B: [3, 2]", "  C: [3, 2]"), "field 'staffing.C': 'C' is not a district"),
        (("  B: [3, 2]", "  B: [3, -2]"), "field 'staffing.B': units on duty cannot be negative"),
        (('start: "19:00"', 'start: "25:00"'), "field 'shifts.1.start'"),
        (("kind: fixed, value: 30", "kind: weibull, value: 30"), "types.1.on_scene"),
    ],
)
def test_errors_name_line_and_field(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    old, new = change
    text = MINIMAL.replace(old, new)
    assert text != MINIMAL
    message = problems(tmp_path, text)
    assert str(tmp_path / "s.yaml") in message
    assert expected in message


DISPATCH = """dispatch:
  priority_speed_factor: [1.6, 1.0, 0.9]
  preempt_priority: 1
"""


def test_dispatch_options_reach_the_engine_rules(tmp_path: Path) -> None:
    """The two optional rules: off by default, passed to ``DispatchRules`` when set."""
    from smart_policing.response.sim.engine import DispatchRules
    from smart_policing.response.sim.replicate import dispatch_rules

    plain = load_scenario(write(tmp_path, MINIMAL))
    assert dispatch_rules(plain) == DispatchRules()
    s = load_scenario(write(tmp_path, MINIMAL + DISPATCH))
    rules = dispatch_rules(s)
    assert rules.priority_speed_factor == (1.6, 1.0, 0.9)
    assert rules.preempt_priority == 1
    assert rules == DispatchRules(priority_speed_factor=(1.6, 1.0, 0.9), preempt_priority=1)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("[1.6, 1.0, 0.9]", "[1.6, 0, 0.9]"), "line 31, field 'dispatch.priority_speed_factor.1'"),
        (("[1.6, 1.0, 0.9]", "fast"), "field 'dispatch.priority_speed_factor'"),
        (("preempt_priority: 1", "preempt_priority: -1"), "field 'dispatch.preempt_priority'"),
    ],
)
def test_dispatch_option_errors_name_the_field(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert expected in problems(tmp_path, MINIMAL + DISPATCH.replace(old, new))


def test_missing_staffing_row_and_on_scene_without_calibration(tmp_path: Path) -> None:
    text = MINIMAL.replace("  B: [3, 2]\n", "").replace(
        "       on_scene: {kind: fixed, value: 30}}", "       }"
    )
    message = problems(tmp_path, text)
    assert "no staffing row for district 'B'" in message
    assert "field 'calls.types.1.on_scene': on_scene is required without a calibration" in message


def test_generate_needs_start_and_horizon(tmp_path: Path) -> None:
    text = MINIMAL.replace("start_date: 2025-03-03\n", "").replace("horizon_days: 2\n", "")
    message = problems(tmp_path, text)
    assert "field 'start_date': generated calls need a start_date" in message
    assert "field 'horizon_days': generated calls need a horizon_days" in message


def test_bad_time_zone_and_warmup(tmp_path: Path) -> None:
    message = problems(tmp_path, MINIMAL.replace("seed: 3", "seed: 3\ntimezone: Mars/Olympus"))
    assert "line 4, field 'timezone'" in message
    assert "'Mars/Olympus' is not an IANA time zone" in message
    message = problems(tmp_path, MINIMAL.replace("warmup_days: 0.5", "warmup_days: 2"))
    assert "line 7, field 'warmup_days': the warm-up must be shorter than the horizon" in message


def test_relative_paths_resolve_against_the_file(tmp_path: Path) -> None:
    sub = tmp_path / "cfg"
    sub.mkdir()
    text = MINIMAL.replace("seed: 3", "seed: 3\ncalibration: cal.yaml")
    s = load_scenario(write(sub, text))
    assert s.calibration == sub / "cal.yaml"


def test_with_staffing_validates_and_keeps_the_rest(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, MINIMAL))
    t = s.with_staffing(np.array([[5, 4], [1, 0]]))
    assert t.staffing == {"A": (5, 4), "B": (1, 0)}
    assert t.calls == s.calls
    assert s.staffing_matrix().tolist() == [[2, 1], [3, 2]]  # unchanged
    assert s.with_staffing({"A": (1, 1), "B": (2, 2)}).staffing_matrix().tolist() == [
        [1, 1],
        [2, 2],
    ]
    with pytest.raises(ValueError, match="staffing must be 2 x 2"):
        s.with_staffing(np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="non-negative integers"):
        s.with_staffing(np.array([[1.5, 1], [1, 1]]))
    assert s.with_changes(seed=11).seed == 11


def test_scenario_pickles(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, MINIMAL))
    assert pickle.loads(pickle.dumps(s)) == s


# ---------------------------------------------------------------- distributions


def test_distribution_means() -> None:
    assert Fixed(value=4.0).mean() == 4.0
    assert Exponential(mean=3.0).mean() == 3.0
    assert LogNormal(median=10.0, sigma=0.0).mean() == 10.0
    assert LogNormal(median=10.0, sigma=1.0).mean() == pytest.approx(10.0 * math.exp(0.5))
    assert GammaDist(mean=6.0, cv=0.5).mean() == 6.0
    # uniform on [0, 10], then on [10, 30]: trapezoid mean (5 + 20) / 2
    assert Empirical(quantiles=(0.0, 10.0, 30.0)).mean() == pytest.approx(12.5)


def test_sampled_moments_match() -> None:
    rng = np.random.default_rng(1)
    n = 200_000
    x = Exponential(mean=3.0).sample(rng, n)
    assert x.mean() == pytest.approx(3.0, rel=0.02)
    g = GammaDist(mean=6.0, cv=0.5).sample(rng, n)
    assert g.mean() == pytest.approx(6.0, rel=0.02)
    assert g.std() / g.mean() == pytest.approx(0.5, rel=0.03)
    ln = LogNormal(median=10.0, sigma=0.8).sample(rng, n)
    assert np.median(ln) == pytest.approx(10.0, rel=0.02)
    e = Empirical(quantiles=(0.0, 10.0, 30.0)).sample(rng, n)
    assert e.mean() == pytest.approx(12.5, rel=0.02)
    assert (e <= 10.0).mean() == pytest.approx(0.5, abs=0.01)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(min_value=0, max_value=1e4, allow_nan=False), min_size=2, max_size=30),
    st.floats(min_value=0, max_value=1),
)
def test_empirical_inverts_its_quantiles(values: list[float], p: float) -> None:
    q = tuple(sorted(values))
    e = Empirical(quantiles=q)
    draws = e.sample(np.random.default_rng(0), 500)
    assert draws.min() >= q[0]
    assert draws.max() <= q[-1]
    # the listed quantiles are reproduced exactly
    k = len(q) - 1
    for i in (0, k // 2, k):
        assert e.quantile(i / k) == pytest.approx(q[i])
    assert q[0] <= e.quantile(p) <= q[-1]


def test_empirical_rejects_bad_tables() -> None:
    with pytest.raises(ValueError, match="must not decrease"):
        Empirical(quantiles=(1.0, 0.5))
    with pytest.raises(ValueError, match="not negative"):
        Empirical(quantiles=(-1.0, 0.5))


def test_calibration_model_round_trips_through_yaml(tmp_path: Path) -> None:
    data = {
        "schema_version": 1,
        "source": "x.csv",
        "timezone": "America/New_York",
        "agency": "POLICE",
        "first_day": "2025-01-01",
        "last_day": "2025-01-07",
        "days": 7,
        "min_count": 2,
        "counts": {"rows": 3},
        "impossible": {"on_scene_s": 1},
        "missing": {},
        "calls_per_day": 0.4,
        "hourly_profile": [1 / 24] * 24,
        "weekday_profile": [1] * 7,
        "priorities": [{"priority": 1, "n": 3, "share": 1.0}],
        "types": [{"code": "A", "n": 3, "share": 1.0, "priority": 1, "priority_mix": {1: 1.0}}],
        "on_scene": {"by_priority": {1: {"quantiles": [1, 2, 3]}}},
        "proactive": {"n": 0, "per_day": 0},
    }
    cal = Calibration.model_validate(data)
    path = tmp_path / "cal.yaml"
    path.write_text(yaml.safe_dump(cal.model_dump(mode="json")), encoding="utf-8")
    from smart_policing.response.sim.scenario import load_calibration

    back = load_calibration(path)
    assert back == cal
    assert back.on_scene.lookup("A", 1) == Empirical(quantiles=(1, 2, 3))
    assert back.on_scene.lookup("B", 2) is None


def test_scenario_model_is_strict_about_unknown_distribution_fields() -> None:
    with pytest.raises(ValueError, match="Extra inputs"):
        Scenario.model_validate(
            {**yaml.safe_load(MINIMAL), "call_taking": {"kind": "fixed", "value": 1, "x": 2}}
        )
