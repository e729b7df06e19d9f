"""Erlang C (M/M/c): the published example, a brute-force reference, properties, staffing."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import gammaln, logsumexp
from scipy.stats import poisson

from smart_policing.response.erlang import (
    erlang_b,
    erlang_c,
    erlang_c_probability,
    min_servers,
    staffing_table,
)


def test_published_example_100_calls_per_30_minutes_14_agents() -> None:
    """100 calls per 30 min, 3-min handle, 14 servers (the issue's published values)."""
    r = erlang_c(100 / 30, 3.0, 14, target_s=20)
    assert r.offered_load_erlangs == pytest.approx(10.0)
    assert round(r.occupancy, 7) == 0.7142857
    assert round(r.p_wait, 7) == 0.1741319
    assert r.service_level is not None
    assert round(r.service_level, 5) == 0.88835
    assert round(r.mean_wait_s, 3) == 7.836
    assert r.mean_wait_min == pytest.approx(r.mean_wait_s / 60)
    assert r.mean_wait_of_waiting_min == pytest.approx(3.0 / 4.0)
    assert r.mean_queue_length == pytest.approx(100 / 30 * r.mean_wait_min)
    assert r.stable
    assert r.service_level_at(20) == r.service_level
    assert r.service_level_at(0) == pytest.approx(1 - r.p_wait)


def _birth_death(rate: float, handle: float, c: int) -> tuple[np.ndarray, int]:
    """Stationary distribution of the number in system, by the birth-death products, truncated.

    ``p_n`` is proportional to ``prod_{i<=n} lambda / (min(i, c) mu)``; the tail beyond
    ``c + m`` is below 1e-18 when ``rho^m`` is.
    """
    mu = 1.0 / handle
    rho = rate / (c * mu)
    extra = math.ceil(math.log(1e-18) / math.log(rho)) + 10
    n = np.arange(c + extra + 1)
    servers = np.minimum(np.maximum(n, 1), c)
    log_ratio = np.log(rate) - np.log(servers * mu)
    log_p = np.concatenate([[0.0], np.cumsum(log_ratio[1:])])
    p = np.exp(log_p - logsumexp(log_p))
    return p, c


@pytest.mark.parametrize("c", [1, 2, 5, 14, 40])
@pytest.mark.parametrize("utilisation", [0.05, 0.5, 0.8, 0.95])
@pytest.mark.parametrize("handle", [0.5, 3.0, 45.0])
def test_against_the_birth_death_chain(c: int, utilisation: float, handle: float) -> None:
    rate = utilisation * c / handle
    p, _ = _birth_death(rate, handle, c)
    n = np.arange(len(p))
    p_wait = p[c:].sum()
    lq = ((n[c:] - c) * p[c:]).sum()
    r = erlang_c(rate, handle, c, target_s=40)
    assert r.p_wait == pytest.approx(p_wait, rel=1e-9, abs=1e-15)
    assert r.mean_queue_length == pytest.approx(lq, rel=1e-9, abs=1e-15)
    assert r.mean_wait_min == pytest.approx(lq / rate, rel=1e-9, abs=1e-15)  # Little
    # an arrival finding n >= c waits for n - c + 1 completions at rate c mu:
    # P(W > t) = sum_n p_n P(Poisson(c mu t) <= n - c)
    t = 40 / 60
    tail = (p[c:] * poisson.cdf(n[c:] - c, c / handle * t)).sum()
    assert r.service_level == pytest.approx(1 - tail, rel=1e-9)


def test_thousands_of_servers_are_computed_stably() -> None:
    """c = 5000 (where A^c / c! overflows a float): compare with a log-space direct sum."""
    c, load = 5000, 4900.0
    k = np.arange(c)
    log_terms = k * math.log(load) - gammaln(k + 1)
    log_last = c * math.log(load) - gammaln(c + 1) + math.log(c / (c - load))
    direct = math.exp(log_last - logsumexp(np.append(log_terms, log_last)))
    assert erlang_c_probability(c, load) == pytest.approx(direct, rel=1e-9)
    r = erlang_c(load / 2.0, 2.0, c)
    assert 0 < r.p_wait < 1
    assert math.isfinite(r.mean_wait_s)


def test_unstable_system_is_reported_not_raised() -> None:
    r = erlang_c(100 / 30, 3.0, 10, target_s=20)
    assert not r.stable
    assert r.p_wait == 1.0
    assert r.mean_wait_min == math.inf
    assert r.mean_wait_of_waiting_min == math.inf
    assert r.mean_queue_length == math.inf
    assert r.service_level == 0.0
    assert r.occupancy == pytest.approx(1.0)
    data = r.model_dump(mode="json")
    assert data["mean_wait_s"] == "Infinity"
    assert data["stable"] is False
    # one more server makes it stable
    assert erlang_c(100 / 30, 3.0, 11).stable


def test_no_calls_means_no_wait() -> None:
    r = erlang_c(0.0, 3.0, 1, target_s=0)
    assert r.p_wait == 0.0
    assert r.mean_wait_min == 0.0
    assert r.service_level == 1.0


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"arrival_rate_per_min": -1.0, "handle_min": 3.0, "servers": 2}, "arrival_rate_per_min"),
        ({"arrival_rate_per_min": 1.0, "handle_min": 0.0, "servers": 2}, "handle_min"),
        ({"arrival_rate_per_min": 1.0, "handle_min": math.nan, "servers": 2}, "handle_min"),
        ({"arrival_rate_per_min": 1.0, "handle_min": 3.0, "servers": 0}, "servers"),
        ({"arrival_rate_per_min": 1.0, "handle_min": 3.0, "servers": 2.5}, "servers"),
        (
            {"arrival_rate_per_min": 1.0, "handle_min": 3.0, "servers": 2, "target_s": -1},
            "target_s",
        ),
    ],
)
def test_invalid_inputs_name_the_parameter(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        erlang_c(**kwargs)  # type: ignore[arg-type]


loads = st.floats(min_value=0.01, max_value=300.0, allow_nan=False)


@given(load=loads, extra=st.integers(min_value=1, max_value=40))
def test_p_wait_decreases_as_servers_are_added(load: float, extra: int) -> None:
    c = math.floor(load) + 1
    values = [erlang_c_probability(k, load) for k in range(c, c + extra + 1)]
    assert all(0 < v <= 1 for v in values)
    assert all(b <= a for a, b in itertools.pairwise(values))


@given(
    load=loads,
    spare=st.integers(min_value=1, max_value=20),
    t1=st.floats(min_value=0, max_value=3600),
    t2=st.floats(min_value=0, max_value=3600),
)
def test_service_level_is_a_probability_increasing_in_t(
    load: float, spare: int, t1: float, t2: float
) -> None:
    c = math.floor(load) + spare
    r = erlang_c(load / 3.0, 3.0, c)
    lo, hi = sorted((t1, t2))
    assert 0.0 <= r.service_level_at(lo) <= r.service_level_at(hi) <= 1.0
    assert r.service_level_at(0) == pytest.approx(1 - r.p_wait)


@given(load=loads, c=st.integers(min_value=1, max_value=400))
def test_erlang_b_and_c_relation(load: float, c: int) -> None:
    """``C(c, A) = A B(c-1, A) / (c - A + A B(c-1, A))``, and C >= B (waiting beats losing)."""
    b_prev = erlang_b(c - 1, load)
    if load < c:
        expected = load * b_prev / (c - load + load * b_prev)
        assert erlang_c_probability(c, load) == pytest.approx(expected, rel=1e-9)
        assert erlang_c_probability(c, load) >= erlang_b(c, load) - 1e-15
    else:
        assert erlang_c_probability(c, load) == 1.0


def test_erlang_b_small_values() -> None:
    # B(1, A) = A / (1 + A); B(2, 1) = (1/2) / (1 + 1 + 1/2) = 0.2
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(1, 3.0) == pytest.approx(0.75)
    assert erlang_b(2, 1.0) == pytest.approx(0.2)


def test_min_servers_for_a_service_level_target() -> None:
    rate, handle = 100 / 30, 3.0
    c = min_servers(rate, handle, target_sl=0.8, target_s=20)
    assert c == 14  # 13 servers give 0.796, 14 give 0.888
    assert erlang_c(rate, handle, c - 1, target_s=20).service_level < 0.8  # type: ignore[operator]
    assert erlang_c(rate, handle, c, target_s=20).service_level >= 0.8  # type: ignore[operator]


@pytest.mark.parametrize("load", [0.3, 4.0, 10.0, 57.5, 800.0])
@pytest.mark.parametrize(
    "target",
    [
        {"target_sl": 0.9, "target_s": 30},
        {"max_mean_wait_s": 15.0},
        {"max_p_wait": 0.2},
        {"target_sl": 0.95, "target_s": 10, "max_p_wait": 0.1},
    ],
)
def test_min_servers_is_the_minimum(load: float, target: dict[str, float]) -> None:
    handle = 5.0
    rate = load / handle

    def meets(c: int) -> bool:
        r = erlang_c(rate, handle, c, target_s=target.get("target_s"))
        ok = r.stable
        if "target_sl" in target:
            ok = ok and r.service_level is not None and r.service_level >= target["target_sl"]
        if "max_mean_wait_s" in target:
            ok = ok and r.mean_wait_s <= target["max_mean_wait_s"]
        if "max_p_wait" in target:
            ok = ok and r.p_wait <= target["max_p_wait"]
        return ok

    c = min_servers(rate, handle, **target)  # type: ignore[arg-type]
    assert meets(c)
    assert c == 1 or not meets(c - 1)


def test_min_servers_rejects_unusable_targets() -> None:
    with pytest.raises(ValueError, match="at least one"):
        min_servers(1.0, 3.0)
    with pytest.raises(ValueError, match="target_s"):
        min_servers(1.0, 3.0, target_sl=0.8)
    with pytest.raises(ValueError, match="target_sl"):
        min_servers(1.0, 3.0, target_sl=1.0, target_s=20)
    with pytest.raises(ValueError, match="max_p_wait"):
        min_servers(1.0, 3.0, max_p_wait=0.0)


def test_staffing_table_over_a_range() -> None:
    table = staffing_table(100 / 30, 3.0, range(9, 17), target_s=20)
    assert [r.servers for r in table] == list(range(9, 17))
    assert [r.stable for r in table] == [False, False] + [True] * 6
    levels = [r.service_level for r in table]
    assert levels[:2] == [0.0, 0.0]
    assert all(a < b for a, b in itertools.pairwise(levels[2:]))  # type: ignore[operator]
    assert table[5].p_wait == pytest.approx(0.1741319, abs=5e-8)


def test_erlang_staffing_needed_servers_and_the_curve_around_them() -> None:
    """The published case: 100 calls / 30 min, 3-min handle, 80% within 20 s needs 14."""
    from smart_policing.response.erlang import StaffingTargets, erlang_staffing

    rate = 100 / 30
    plan = erlang_staffing(rate, 3.0, StaffingTargets(target_s=20, target_sl=0.8))
    assert plan.servers_needed == 14
    assert [r.servers for r in plan.table] == [12, 13, 14, 15, 16, 17]
    assert plan.result.p_wait == pytest.approx(0.1741319, abs=5e-8)
    assert plan.table[1].service_level is not None
    assert plan.table[1].service_level < 0.8 <= plan.table[2].service_level  # type: ignore[operator]
    at_twelve = erlang_staffing(rate, 3.0, StaffingTargets(target_s=20), servers=12)
    assert at_twelve.servers_needed is None
    assert at_twelve.result.servers == 12
    assert [r.servers for r in at_twelve.table] == [10, 11, 12, 13, 14, 15]
    assert not at_twelve.table[0].stable  # 10 servers < 10 erlangs offered
    with pytest.raises(ValueError, match="give servers, or a target"):
        erlang_staffing(rate, 3.0, StaffingTargets())


def test_min_servers_refuses_a_load_beyond_any_fleet_at_once() -> None:
    """1,000,000 calls a minute of a day each: refused before counting servers up."""
    from smart_policing.response.erlang import min_servers

    with pytest.raises(ValueError, match="needs more than 1,000,000 servers"):
        min_servers(1_000_000, 1440, max_p_wait=0.5)
