"""The engine agrees with queueing theory where both apply.

M/M/c special case: one district, zero travel and turnout (units and calls at one
point), Poisson arrivals, exponential on-scene times, ``c`` units on duty throughout,
one unit per call, no backup, no proactive work. Then the dispatch queue is an M/M/c
queue and

* Erlang C (Erlang 1917; Gross & Harris, *Fundamentals of Queueing Theory*, 4th ed.,
  sec. 2.3) gives P(wait > 0) and the mean wait;
* with several priorities served non-preemptively, FIFO within a class and the same
  service rate for all, Cobham (1954) gives the mean wait of class ``k``:
  ``W_k = C(c, a) / (c mu (1 - s_{k-1}) (1 - s_k))`` with ``s_k`` the load of classes
  ``1..k`` (Gross & Harris sec. 3.4.1).

Method: independent replications (each its own Poisson stream from one seeded
generator, the first calls of each discarded as warm-up from an empty system), a
Student-t 95 % confidence interval over the replication means; the formula's value
must lie inside it, and the interval must be narrow (so the check can fail).

The formulas are the package's own (:func:`smart_policing.response.erlang.erlang_c`,
:func:`smart_policing.response.priority.priority_waits`), themselves tested against
published values.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from smart_policing.response.erlang import erlang_c
from smart_policing.response.priority import priority_waits
from smart_policing.response.sim import CallStream, DispatchRules, Fleet, simulate

INSTANT = DispatchRules(
    speed_kmh=40.0,
    circuity=1.0,
    turnout_min=0.0,
    backup_after_min=None,
    proactive_rate_per_hour=0.0,
)


def mmc_calls(
    rng: np.random.Generator, n: int, lam_per_min: float, mean_min: float, priority_p: list[float]
) -> CallStream:
    arrival = np.cumsum(rng.exponential(1 / lam_per_min, n))
    zeros = np.zeros(n)
    return CallStream(
        arrival_min=arrival,
        x_m=zeros,
        y_m=zeros,
        district=np.zeros(n, np.int64),
        priority=(rng.choice(len(priority_p), size=n, p=priority_p) + 1).astype(np.int64),
        units_needed=np.ones(n, np.int64),
        on_scene_min=rng.exponential(mean_min, n),
        call_type=np.zeros(n, np.int64),
    )


def always_on(c: int, until_min: float) -> Fleet:
    return Fleet(
        district=np.zeros(c, np.int64),
        shift=np.zeros(c, np.int64),
        start_min=np.zeros(c),
        end_min=np.full(c, until_min),
        home_x_m=np.zeros(c),
        home_y_m=np.zeros(c),
    )


def ci95(values: list[float]) -> tuple[float, float]:
    v = np.asarray(values)
    half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v))
    return float(v.mean() - half), float(v.mean() + half)


def replicate_waits(
    c: int, lam: float, mean: float, priority_p: list[float], reps: int, n: int, warmup: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(waits, priorities) after warm-up, per replication."""
    rng = np.random.default_rng(20240501)
    out = []
    for _ in range(reps):
        calls = mmc_calls(rng, n, lam, mean, priority_p)
        fleet = always_on(c, float(calls.arrival_min[-1]) + 1e6)
        run = simulate(fleet, calls, INSTANT, n_districts=1, rng=rng)
        assert not np.isnan(run.dispatch_min).any()
        np.testing.assert_array_equal(run.on_scene_at_min, run.dispatch_min)  # zero travel
        wait = (run.dispatch_min - calls.arrival_min)[warmup:]
        out.append((wait, calls.priority[warmup:]))
    return out


def test_mmc_matches_erlang_c() -> None:
    c, mean = 5, 20.0
    lam = 0.8 * c / mean  # 80 % utilisation
    model = erlang_c(lam, mean, c)
    p_wait, mean_wait = model.p_wait, float(model.mean_wait_min)
    assert p_wait == pytest.approx(0.5541, abs=1e-4)
    runs = replicate_waits(c, lam, mean, [1.0], reps=10, n=60_000, warmup=2000)
    lo, hi = ci95([float((w > 0).mean()) for w, _ in runs])
    assert lo <= p_wait <= hi
    assert hi - lo < 0.02
    lo, hi = ci95([float(w.mean()) for w, _ in runs])
    assert lo <= mean_wait <= hi
    assert hi - lo < 0.1 * mean_wait


def test_priority_mmc_matches_cobham() -> None:
    c, mean = 4, 20.0
    lam = 0.75 * c / mean
    shares = [0.1, 0.3, 0.6]
    model = priority_waits([lam * x for x in shares], mean, c)
    p_wait = model.p_wait
    want = [float(k.mean_wait_min) for k in model.classes]
    runs = replicate_waits(c, lam, mean, shares, reps=10, n=60_000, warmup=2000)
    for k in range(3):
        lo, hi = ci95([float(w[p == k + 1].mean()) for w, p in runs])
        assert lo <= want[k] <= hi, (k + 1, want[k], lo, hi)
        assert hi - lo < 0.15 * want[k]
    # and the overall chance of waiting is still Erlang C (priorities only reorder)
    lo, hi = ci95([float((w > 0).mean()) for w, _ in runs])
    assert lo <= p_wait <= hi


def test_idle_units_proactive_share_matches_the_alternating_renewal_limit() -> None:
    """No calls: an idle unit alternates Exp(gap) idle and Exp(mean) activity periods,
    so the long-run share of time on proactive work is ``mean / (gap + mean)``."""
    rules = DispatchRules(proactive_rate_per_hour=2.0, proactive_mean_min=15.0)
    gap = 60.0 / rules.proactive_rate_per_hour
    share = rules.proactive_mean_min / (gap + rules.proactive_mean_min)
    fleet = always_on(20, 100 * 1440.0)  # 20 units x 100 days, ~96,000 activities
    empty = mmc_calls(np.random.default_rng(0), 0, 1.0, 1.0, [1.0])
    run = simulate(fleet, empty, rules, n_districts=1, rng=np.random.default_rng(7))
    lo, hi = ci95((run.proactive_min / (100 * 1440.0)).tolist())
    assert lo <= share <= hi
    assert hi - lo < 0.02
