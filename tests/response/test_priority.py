"""Non-preemptive priority M/M/c: Cobham's means, the conservation law, a solved Markov chain."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as sla
from hypothesis import given
from hypothesis import strategies as st

from smart_policing.response.erlang import erlang_c
from smart_policing.response.priority import priority_waits


def test_cobham_by_hand_one_server() -> None:
    """M/M/1, mu = 1 per min, lambda = 0.2 and 0.5: C = rho = 0.7.

    W1 = 0.7 / 1 / (1 * 0.8) = 0.875 min; W2 = 0.7 / (0.8 * 0.3) = 2.916667 min.
    """
    r = priority_waits([0.2, 0.5], 1.0, 1)
    assert r.p_wait == pytest.approx(0.7)
    w1, w2 = (k.mean_wait_min for k in r.classes)
    assert w1 == pytest.approx(0.875)
    assert w2 == pytest.approx(0.7 / (0.8 * 0.3))
    assert [k.cumulative_load for k in r.classes] == pytest.approx([0.2, 0.7])
    assert [k.p_wait for k in r.classes] == pytest.approx([0.7, 0.7])
    # FCFS M/M/1: Wq = rho / (mu - lambda) = 0.7 / 0.3
    assert r.mean_wait_min == pytest.approx(0.7 / 0.3)


def test_one_class_is_erlang_c() -> None:
    r = priority_waits([100 / 30], 3.0, 14)
    e = erlang_c(100 / 30, 3.0, 14)
    assert r.classes[0].mean_wait_min == pytest.approx(e.mean_wait_min)
    assert r.mean_wait_min == pytest.approx(e.mean_wait_min)
    assert r.p_wait == pytest.approx(e.p_wait)


@given(
    rates=st.lists(st.floats(min_value=0.0, max_value=5.0), min_size=1, max_size=6),
    handle=st.floats(min_value=0.1, max_value=60.0),
    spare=st.floats(min_value=0.05, max_value=20.0),
)
def test_conservation_law_weighted_mean_equals_fcfs(
    rates: list[float], handle: float, spare: float
) -> None:
    """Priorities move waiting between classes; the arrival-weighted mean is FCFS Erlang C."""
    total = sum(rates)
    if total * handle < 1e-6:
        return
    servers = max(1, math.ceil(total * handle + spare))
    r = priority_waits(rates, handle, servers)
    e = erlang_c(total, handle, servers)
    assert r.stable == e.stable
    if e.stable:
        assert r.mean_wait_min == pytest.approx(e.mean_wait_min, rel=1e-9, abs=1e-12)
        waits = [k.mean_wait_min for k in r.classes]
        assert all(a <= b * (1 + 1e-12) for a, b in itertools.pairwise(waits))


def _priority_chain(
    rates: list[float], mu: float, c: int, cap: int
) -> dict[tuple[int, ...], float]:
    """Stationary law of (busy, q1, q2) for two classes, queues truncated at ``cap``."""
    states: list[tuple[int, int, int]] = [(b, 0, 0) for b in range(c)]
    states += [(c, q1, q2) for q1 in range(cap + 1) for q2 in range(cap + 1)]
    index = {s: i for i, s in enumerate(states)}
    rows, cols, vals = [], [], []

    def add(a: tuple[int, int, int], b: tuple[int, int, int], rate: float) -> None:
        rows.append(index[a])
        cols.append(index[b])
        vals.append(rate)

    for s in states:
        b, q1, q2 = s
        for cls, lam in enumerate(rates):
            if b < c:
                add(s, (b + 1, 0, 0), lam)
            elif cls == 0 and q1 < cap:
                add(s, (c, q1 + 1, q2), lam)
            elif cls == 1 and q2 < cap:
                add(s, (c, q1, q2 + 1), lam)
        if b > 0:
            if q1 > 0:
                add(s, (c, q1 - 1, q2), b * mu)
            elif q2 > 0:
                add(s, (c, q1, q2 - 1), b * mu)
            else:
                add(s, (b - 1, 0, 0), b * mu)
    n = len(states)
    rate = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    gen = rate - sp.diags(np.asarray(rate.sum(axis=1)).ravel())
    a = sp.vstack([gen.T[:-1], sp.csr_matrix(np.ones((1, n)))]).tocsc()
    rhs = np.zeros(n)
    rhs[-1] = 1.0
    p = sla.spsolve(a, rhs)
    return {s: float(p[i]) for i, s in enumerate(states)}


@pytest.mark.parametrize("c", [1, 2, 3])
@pytest.mark.parametrize("split", [(0.2, 0.4), (0.45, 0.15)])
def test_against_the_solved_markov_chain(c: int, split: tuple[float, float]) -> None:
    """Per-class mean waits (Little's law on the chain) and the class-1 geometric law."""
    mu = 1.0 / 4.0  # 4-minute service
    rates = [s * c * mu for s in split]
    p = _priority_chain(rates, mu, c, cap=60)
    lq1 = sum(q1 * v for (_, q1, _), v in p.items())
    lq2 = sum(q2 * v for (_, _, q2), v in p.items())
    r = priority_waits(rates, 4.0, c)
    assert r.classes[0].mean_wait_min == pytest.approx(lq1 / rates[0], rel=1e-6)
    assert r.classes[1].mean_wait_min == pytest.approx(lq2 / rates[1], rel=1e-6)
    all_busy = sum(v for (b, _, _), v in p.items() if b == c)
    assert r.p_wait == pytest.approx(all_busy, rel=1e-9)
    # P(all busy, n class-1 calls waiting) = C (1 - sigma_1) sigma_1^n
    sigma1 = split[0]
    for n in range(6):
        got = sum(v for (b, q1, _), v in p.items() if b == c and q1 == n)
        assert got == pytest.approx(all_busy * (1 - sigma1) * sigma1**n, rel=1e-6)


def test_class_one_service_level_only() -> None:
    r = priority_waits([0.2, 0.5], 1.0, 2, target_s=30)
    top, low = r.classes
    sigma1 = 0.1
    assert top.service_level == pytest.approx(1 - r.p_wait * math.exp(-2 * (1 - sigma1) * 0.5))
    assert low.service_level is None  # no closed form: not invented


def test_overload_keeps_top_classes_finite() -> None:
    """sigma_K >= 1: servers always busy (P(wait) = 1); class k finite while sigma_k < 1."""
    r = priority_waits([0.5, 0.3, 0.6], 2.0, 2)  # sigma = 0.5, 0.8, 1.4
    assert not r.stable
    assert r.p_wait == 1.0
    assert [k.stable for k in r.classes] == [True, True, False]
    assert r.classes[0].mean_wait_min == pytest.approx(1.0 / 0.5)  # (1/(c mu)) / (1 - 0.5)
    assert r.classes[1].mean_wait_min == pytest.approx(1.0 / (0.5 * 0.2))
    assert r.classes[2].mean_wait_min == math.inf
    assert r.mean_wait_min == math.inf
    assert r.model_dump(mode="json")["classes"][2]["mean_wait_s"] == "Infinity"


@pytest.mark.parametrize(
    ("args", "kwargs", "name"),
    [
        (([], 3.0, 2), {}, "arrival_rates_per_min"),
        (([0.1, -0.2], 3.0, 2), {}, r"arrival_rates_per_min\[1\]"),
        (([0.1], 0.0, 2), {}, "handle_min"),
        (([0.1], 3.0, 0), {}, "servers"),
        (([0.1, 0.2], 3.0, 2), {"labels": ["P1"]}, "labels"),
    ],
)
def test_invalid_inputs(args: tuple[object, ...], kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        priority_waits(*args, **kwargs)  # type: ignore[arg-type]
