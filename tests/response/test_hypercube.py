"""Larson's hypercube model: published values, a dense reference chain, the approximation."""

from __future__ import annotations

import itertools
import math
import time
from pathlib import Path

import numpy as np
import pytest

from smart_policing.datafiles import DataFileError, load_model
from smart_policing.response.erlang import erlang_b, erlang_c_probability
from smart_policing.response.hypercube import (
    HypercubeFile,
    HypercubeResult,
    HypercubeSystem,
    Line,
    complete_preferences,
    correction_factors,
    hypercube,
    hypercube_approx,
    hypercube_exact,
)


def system(
    rates: list[float],
    prefs: list[tuple[int, ...]],
    *,
    mu: float = 1.0,
    line: Line = "zero",
    travel: list[list[float]] | None = None,
) -> HypercubeSystem:
    n = len(prefs[0])
    return HypercubeSystem(
        units=tuple(f"u{i + 1}" for i in range(n)),
        atoms=tuple(f"a{j + 1}" for j in range(len(rates))),
        arrival_rates_per_min=tuple(rates),
        service_rate_per_min=mu,
        preferences=tuple(prefs),
        travel_min=None if travel is None else tuple(tuple(r) for r in travel),
        line=line,
    )


def random_system(n: int, line: Line, seed: int) -> HypercubeSystem:
    """Units and atoms scattered on a 10 x 10 km square; nearest-unit (rectilinear) preferences."""
    rng = np.random.default_rng(seed)
    j = int(rng.integers(n, 3 * n + 1))
    utilisation = rng.uniform(0.2, 0.85)
    rates = rng.uniform(0.05, 1.0, j)
    rates = rates / rates.sum() * utilisation * n / 10.0  # mean service 10 min
    units, atoms = rng.uniform(0, 10, (n, 2)), rng.uniform(0, 10, (j, 2))
    travel = np.abs(units[:, None, :] - atoms[None, :, :]).sum(-1) / 0.5  # 0.5 km/min
    prefs = [tuple(int(u) for u in np.argsort(travel[:, a], kind="stable")) for a in range(j)]
    return system(list(rates), prefs, mu=0.1, line=line, travel=travel.tolist())


def check_invariants(s: HypercubeSystem, r: HypercubeResult) -> None:
    f = np.asarray(r.dispatch_fractions)
    assert f.shape == (len(s.units), len(s.atoms))
    assert (f >= -1e-15).all()
    assert f.sum() == pytest.approx(1.0, abs=1e-9)
    lam = np.asarray(s.arrival_rates_per_min)
    # each atom's calls get dispatched in proportion to its rate
    assert f.sum(axis=0) == pytest.approx(lam / lam.sum(), abs=1e-9)
    load = s.offered_load
    carried = load * (1 - r.p_loss) if s.line == "zero" else load
    assert sum(r.workloads()) == pytest.approx(carried, rel=1e-9)
    assert r.carried_load_erlangs == pytest.approx(carried, rel=1e-9)
    assert all(0 <= w <= 1 for w in r.workloads())
    # unit dispatch shares equal workload / carried load (same service rate for all units);
    # the approximation estimates the two separately, so they agree only closely
    assert [u.dispatch_share for u in r.units] == pytest.approx(
        [w / carried for w in r.workloads()], abs=1e-9 if r.method == "exact" else 0.01
    )


# ---------------------------------------------------------------- published values


@pytest.mark.parametrize("solve", [hypercube_exact, hypercube_approx])
def test_two_unit_ordered_hunt_zero_line(solve: object) -> None:
    """One atom, lambda = mu = 1, unit 1 first: loss B(2, 1) = 0.2; unit 1 carries B(1,1) = 0.5."""
    s = system([1.0], [(0, 1)], travel=[[2.0], [5.0]])
    r = solve(s)  # type: ignore[operator]
    assert round(r.p_loss, 10) == 0.2
    check_invariants(s, r)
    if r.method == "exact":
        assert [round(w, 10) for w in r.workloads()] == [0.5, 0.3]
        # dispatches: unit 1 takes 0.5 / 0.8 of the carried calls
        assert r.dispatch_fractions[0][0] == pytest.approx(0.625)
        assert r.atoms[0].first_preference_share == pytest.approx(0.625)
        assert r.atoms[0].mean_travel_min == pytest.approx(0.625 * 2 + 0.375 * 5)
        assert r.interdistrict_share == pytest.approx(0.375)
        assert r.units[1].outside_area_share == pytest.approx(1.0)
    else:
        assert r.workloads() == pytest.approx([0.5, 0.3], abs=0.005)


def larson_odoni_three_units() -> HypercubeSystem:
    """Larson & Odoni (1981) section 5.4.3: 3 units, 10 atoms, lambda = 1.5, mu = 1, infinite line.

    Primary areas: unit 1 = atoms 1, 2, 4 (half the calls); unit 2 = atoms 3, 5, 6; unit 3 = atoms
    7-10. Unit 1 backs up areas 2 and 3; unit 2 backs up atoms 1, 2 and unit 3 atom 4 (Table
    5-4). Workloads depend only on the total rate per preference list; the figure's per-atom
    rates give 0.50 (atoms 1, 2: 1-2-3), 0.25 (atom 4: 1-3-2), 0.35 (atoms 3, 5, 6: 2-1-3)
    and 0.40 (atoms 7-10: 3-1-2). (The book's figure is an image; these totals, multiples
    of 0.05, are the ones that reproduce all three published exact workloads, and with them
    the approximation also reproduces the book's approximate workloads.)
    """
    return system(
        [0.50, 0.25, 0.35, 0.40],
        [(0, 1, 2), (0, 2, 1), (1, 0, 2), (2, 0, 1)],
        line="infinite",
    )


def test_larson_odoni_three_unit_example_exact() -> None:
    s = larson_odoni_three_units()
    r = hypercube_exact(s)
    assert [round(w, 4) for w in r.workloads()] == [0.5574, 0.4734, 0.4693]
    assert r.p_queue == pytest.approx(erlang_c_probability(3, 1.5))  # 0.236842
    check_invariants(s, r)


def test_larson_odoni_correction_factors_and_approximation() -> None:
    assert [round(q, 5) for q in correction_factors(3, 1.5, "infinite")] == [
        1.0,
        0.73684,
        0.63158,
    ]
    s = larson_odoni_three_units()
    r = hypercube_approx(s)
    assert r.converged
    # the book's approximate workloads (section 5.5.3), to rounding of its last iteration
    assert r.workloads() == pytest.approx([0.5627, 0.4716, 0.4657], abs=2e-4)
    check_invariants(s, r)


# ---------------------------------------------------------------- reference chain


def dense_reference(
    s: HypercubeSystem, queue_cap: int = 400
) -> tuple[np.ndarray, np.ndarray, float]:
    """Enumerate the chain state by state (queue states explicit), solve densely.

    Returns workloads, dispatch fractions (N x J) and P(all busy).
    """
    n, lam, mu = len(s.units), np.asarray(s.arrival_rates_per_min), s.service_rate_per_min
    busy_sets = list(range(1 << n))
    queue = s.line == "infinite"
    size = len(busy_sets) + (queue_cap if queue else 0)
    full = (1 << n) - 1
    gen = np.zeros((size, size))
    for state in busy_sets:
        for j, pref in enumerate(s.preferences):
            free = [u for u in pref if not state >> u & 1]
            if free:
                gen[state, state | 1 << free[0]] += lam[j]
            elif queue:
                gen[state, 1 << n] += lam[j]
        for u in range(n):
            if state >> u & 1:
                gen[state, state & ~(1 << u)] += mu
    if queue:
        for k in range(1, queue_cap + 1):  # k calls waiting, all units busy
            here = (1 << n) + k - 1
            gen[here, here - 1 if k > 1 else full] += n * mu
            if k < queue_cap:
                gen[here, here + 1] += lam.sum()
    np.fill_diagonal(gen, -gen.sum(axis=1))
    a = gen.T.copy()
    a[-1, :] = 1.0
    rhs = np.zeros(size)
    rhs[-1] = 1.0
    p = np.linalg.solve(a, rhs)
    p_full = p[full] + p[1 << n :].sum()
    workloads = np.array([sum(p[b] for b in busy_sets if b >> u & 1) for u in range(n)]) + (
        p[1 << n :].sum()
    )
    f = np.zeros((n, len(lam)))
    for state in busy_sets:
        for j, pref in enumerate(s.preferences):
            free = [u for u in pref if not state >> u & 1]
            if free:
                f[free[0], j] += lam[j] * p[state]
    if queue:
        f += np.outer(np.ones(n), lam) * p_full / n
    f /= f.sum()
    return workloads, f, p_full


@pytest.mark.parametrize("line", ["zero", "infinite"])
@pytest.mark.parametrize(("n", "seed"), [(2, 1), (3, 2), (4, 3), (5, 4), (6, 5), (6, 6)])
def test_exact_model_matches_the_dense_reference(line: Line, n: int, seed: int) -> None:
    s = random_system(n, line, seed)
    workloads, f, p_full = dense_reference(s)
    r = hypercube_exact(s)
    assert r.converged
    assert r.workloads() == pytest.approx(workloads, abs=1e-9)
    assert np.asarray(r.dispatch_fractions) == pytest.approx(f, abs=1e-9)
    assert r.p_all_busy == pytest.approx(p_full, abs=1e-9)
    if line == "zero":
        assert r.p_loss == pytest.approx(erlang_b(n, s.offered_load), rel=1e-9)
    else:
        assert r.p_queue == pytest.approx(erlang_c_probability(n, s.offered_load), rel=1e-9)
    check_invariants(s, r)


def test_exact_model_matches_a_monte_carlo_run() -> None:
    """An independent event-by-event simulation of a 3-unit, 4-atom zero-line system."""
    s = system(
        [0.9, 0.6, 0.5, 0.4], [(0, 1, 2), (1, 2, 0), (2, 0, 1), (1, 0, 2)], mu=1.0, line="zero"
    )
    r = hypercube_exact(s)
    rng = np.random.default_rng(7)
    lam = np.asarray(s.arrival_rates_per_min)
    busy = [False, False, False]
    busy_time = np.zeros(3)
    sent = np.zeros((3, 4))
    lost = arrivals = 0
    clock = 0.0
    for _ in range(300_000):
        total = lam.sum() + sum(busy)
        dt = rng.exponential(1 / total)
        clock += dt
        busy_time += dt * np.asarray(busy)
        pick = rng.uniform(0, total)
        if pick < lam.sum():
            arrivals += 1
            j = int(np.searchsorted(np.cumsum(lam), pick, side="right"))
            unit = next((u for u in s.preferences[j] if not busy[u]), None)
            if unit is None:
                lost += 1
            else:
                busy[unit] = True
                sent[unit, j] += 1
        else:
            which = [u for u in range(3) if busy[u]][int(pick - lam.sum())]
            busy[which] = False
    assert busy_time / clock == pytest.approx(r.workloads(), abs=0.01)
    assert lost / arrivals == pytest.approx(r.p_loss, abs=0.005)
    assert sent / sent.sum() == pytest.approx(np.asarray(r.dispatch_fractions), abs=0.005)


@pytest.mark.parametrize("line", ["zero", "infinite"])
def test_identical_units_and_uniform_preferences_share_the_work_equally(line: Line) -> None:
    """All 24 orders of 4 units, equal rates: every workload is the M/M/4 utilisation."""
    prefs = list(itertools.permutations(range(4)))
    s = system([2.6 / 24] * 24, prefs, line=line)
    load = 2.6
    expected = load * (1 - erlang_b(4, load)) / 4 if line == "zero" else load / 4
    for r in (hypercube_exact(s), hypercube_approx(s)):
        assert r.workloads() == pytest.approx([expected] * 4, rel=1e-9)
        f = np.asarray(r.dispatch_fractions)
        assert f.sum(axis=1) == pytest.approx(0.25, rel=1e-9)
        # every atom's first choice answers the same share of its calls
        shares = [a.first_preference_share for a in r.atoms]
        assert shares == pytest.approx([shares[0]] * 24, rel=1e-9)


# ---------------------------------------------------------------- the approximation


@pytest.mark.parametrize("line", ["zero", "infinite"])
@pytest.mark.parametrize("n", [4, 5, 6, 7, 8])
def test_approximation_agrees_with_the_exact_model(line: Line, n: int) -> None:
    """Random cities of 4-8 units at 20-85 % utilisation.

    Stated tolerance: workloads within 0.035 (mean error per system within 0.015),
    dispatch fractions within 0.006, region-wide mean travel within 4.5 %, interdistrict
    share within 0.01. Over 400 such systems the largest errors seen were 0.027, 0.014,
    0.0054, 4.0 % and 0.007, the averages 0.009, 0.004, 0.002, 0.9 % and 0.003 (Larson
    reports ~1-2 %; the largest errors are on lightly loaded back-up units).
    """
    for seed in range(4):
        s = random_system(n, line, 100 * n + seed)
        exact, approx = hypercube_exact(s), hypercube_approx(s)
        assert approx.converged
        check_invariants(s, approx)
        err = np.abs(np.asarray(exact.workloads()) - approx.workloads())
        assert err.max() < 0.035
        assert err.mean() < 0.015
        f_err = np.abs(np.asarray(exact.dispatch_fractions) - approx.dispatch_fractions)
        assert f_err.max() < 0.006
        assert exact.mean_travel_min is not None
        assert approx.mean_travel_min is not None
        assert approx.mean_travel_min == pytest.approx(exact.mean_travel_min, rel=0.045)
        assert abs(approx.interdistrict_share - exact.interdistrict_share) < 0.01
        assert approx.p_all_busy == pytest.approx(exact.p_all_busy, rel=1e-9)


def test_approximation_handles_a_large_fleet_quickly() -> None:
    rng = np.random.default_rng(3)
    n, j = 250, 1200
    travel = rng.uniform(1, 30, (n, j))
    prefs = [tuple(int(u) for u in np.argsort(travel[:, a])) for a in range(j)]
    rates = rng.uniform(0.1, 1, j)
    rates = list(rates / rates.sum() * 0.7 * n / 30.0)
    s = system(rates, prefs, mu=1 / 30, line="infinite", travel=travel.tolist())
    started = time.perf_counter()
    r = hypercube(s)  # auto: approximation above 15 units
    elapsed = time.perf_counter() - started
    assert r.method == "approx"
    assert r.converged
    check_invariants(s, r)
    assert elapsed < 10.0
    # nearest-first dispatch: the region-wide mean beats random assignment (15.5 min)
    assert r.mean_travel_min is not None
    assert r.mean_travel_min < 5.0


def test_auto_solves_small_fleets_exactly_and_exact_refuses_large_ones() -> None:
    assert hypercube(random_system(5, "zero", 1)).method == "exact"
    s = system([1.0], [tuple(range(16))])
    with pytest.raises(ValueError, match=r"limited to 15 units.*approx"):
        hypercube_exact(s)
    assert hypercube(s, "approx").method == "approx"


def test_saturated_infinite_line_is_reported() -> None:
    s = system([1.5, 1.0], [(0, 1), (1, 0)], line="infinite")  # lambda 2.5 >= 2 mu
    for r in (hypercube_exact(s), hypercube_approx(s)):
        assert not r.stable
        assert r.workloads() == [1.0, 1.0]
        assert r.p_queue == 1.0
        assert r.mean_queue_wait_min == math.inf
        assert sum(map(sum, r.dispatch_fractions)) == pytest.approx(1.0)


def test_infinite_line_queue_wait_is_erlang_c() -> None:
    s = larson_odoni_three_units()
    r = hypercube_exact(s)
    # W_q = C / (N mu - lambda) = 0.236842 / 1.5
    assert r.mean_queue_wait_min == pytest.approx(0.2368421 / 1.5, rel=1e-6)


# ---------------------------------------------------------------- inputs


def test_complete_preferences_orders_the_rest_by_travel_time() -> None:
    travel = [[5.0, 1.0], [2.0, 2.0], [9.0, 1.0]]
    assert complete_preferences([[], [1]], 3, travel) == ((1, 0, 2), (1, 0, 2))
    with pytest.raises(ValueError, match="no travel times"):
        complete_preferences([[0]], 2)


def test_system_validation_names_the_problem() -> None:
    with pytest.raises(ValueError, match="every unit index"):
        system([1.0], [(0, 0)])
    with pytest.raises(ValueError, match="at least one atom needs calls"):
        system([0.0], [(0, 1)])
    with pytest.raises(ValueError, match="travel_min"):
        system([1.0], [(0, 1)], travel=[[1.0]])


BOOK_YAML = """\
schema_version: 1
line: infinite
service_min: 60
units: [u1, u2, u3]
atoms:
  - {id: "1+2", calls_per_hour: 0.50, preferences: [u1, u2, u3]}
  - {id: "4", calls_per_hour: 0.25, preferences: [u1, u3, u2]}
  - {id: "3+5+6", calls_per_hour: 0.35, preferences: [u2, u1, u3]}
  - {id: "7-10", calls_per_hour: 0.40, preferences: [u3, u1, u2]}
"""


def test_file_round_trip_to_the_core(tmp_path: Path) -> None:
    path = tmp_path / "book.yaml"
    path.write_text(BOOK_YAML, encoding="utf-8")
    s = load_model(path, HypercubeFile).to_system()
    assert s.offered_load == pytest.approx(1.5)
    assert [round(w, 4) for w in hypercube_exact(s).workloads()] == [0.5574, 0.4734, 0.4693]


def test_file_with_partial_preferences_and_travel(tmp_path: Path) -> None:
    path = tmp_path / "city.yaml"
    path.write_text(
        """\
schema_version: 1
line: zero
service_min: 30
units: [A, B]
atoms:
  - id: north
    calls_per_hour: 1.0
    travel_min: {A: 3, B: 8}
  - id: south
    calls_per_hour: 1.0
    preferences: [B]
    travel_min: {A: 7, B: 2}
""",
        encoding="utf-8",
    )
    s = load_model(path, HypercubeFile).to_system()
    assert s.preferences == ((0, 1), (1, 0))
    r = hypercube_exact(s)
    assert r.atoms[0].first_unit == "A"
    assert r.atoms[1].first_unit == "B"
    assert r.mean_travel_min is not None
    assert 2.0 < r.mean_travel_min < 8.0


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (
            "  - {id: x, calls_per_hour: 1, preferences: [u1, u9]}\n",
            "line 6, field 'atoms.0.preferences.1'",
        ),
        (
            "  - {id: x, calls_per_hour: -1, preferences: [u1, u2]}\n",
            "line 6, field 'atoms.0.calls_per_hour'",
        ),
        (
            "  - {id: x, calls_per_hour: 1, preferences: [u1]}\n",
            "line 6, field 'atoms.0.preferences'",
        ),
        (
            "  - {id: x, calls_per_hour: 1, preferences: [u1, u2], travel_min: {u1: 2}}\n",
            "field 'atoms.0.travel_min'",
        ),
        ("  - {id: x, calls_per_hour: 1, preference: [u1, u2]}\n", "field 'atoms.0.preference'"),
    ],
)
def test_file_errors_name_line_and_field(tmp_path: Path, body: str, where: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "schema_version: 1\nline: zero\nservice_min: 30\nunits: [u1, u2]\natoms:\n" + body,
        encoding="utf-8",
    )
    with pytest.raises(DataFileError) as info:
        load_model(path, HypercubeFile)
    assert where in str(info.value)
    assert str(path) in str(info.value)


def test_file_schema_version_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "v2.yaml"
    path.write_text(BOOK_YAML.replace("schema_version: 1", "schema_version: 2"), encoding="utf-8")
    with pytest.raises(DataFileError, match="schema_version"):
        load_model(path, HypercubeFile)
