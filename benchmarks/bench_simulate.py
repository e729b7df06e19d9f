"""Dispatch simulation speed: one simulated year, engine vs a straightforward SimPy model.

What is measured (issue 5's acceptance, on this machine):

``engine``
    :func:`smart_policing.response.sim.engine.simulate` on one simulated year: by
    default 1,000,000 calls and 300 units. Target: **<= 60 s** wall time in one process.
``simpy``
    ``tests/response/sim/simpy_reference.py`` (the same system as SimPy processes) on the
    same input, measured in the same run: the whole year by default (~25-40 s);
    ``--simpy-fraction 0.1`` runs it on the tours and calls that start in the first
    tenth of the year instead, times the engine on that same slice too, and prints the
    SimPy time scaled to the year by the ratio of calls (labelled as such). Target: the
    engine **>= 5x** faster on the same calls, by wall time and by CPU time (both
    printed: the machine is shared, and CPU time is the steadier of the two).

The synthetic year (``--calls``, ``--days``, ``--seed``, ``--shift-units``): a
15.5 x 15.5 km city (240 km^2, projected metres) split into 3 x 3 districts of unequal
demand; **300 distinct units**, each on one 8-hour shift (00-08, 08-16, 16-24) every
day, so 100 are on duty at a time on average, staffed per shift in proportion to demand
(75 / 105 / 120) and per district in proportion to its calls. Calls are a
non-homogeneous Poisson process with an hourly profile (trough 05:00, peak
17:00-22:00) and a weekly one (Friday and Saturday busier), exactly ``--calls`` of them,
positions uniform in their district; priorities 1-4 in proportions 10 / 30 / 40 / 20 %;
15 % multi-unit (12 % two units, 3 % three); on-scene time lognormal, median 25 min,
sigma 0.5 (mean 28.3 min). Dispatch: 40 km/h, circuity 1.3, turnout 0.5 min, backup
after 5 min; proactive activity at 1 per idle hour, mean 20 min, interrupted by
priority 1-2 calls only (priority 3-4 calls wait for it to end). The engine's optional
rules are off by default; ``--preempt P`` turns pre-emption on for priorities ``<= P``
(both models: the SimPy reference models it too) and prints how many calls lost a unit.

Utilisation (committed time / on-duty time) is printed, ~75 % by default: with 100 units
on duty it cannot be below 56 % (1,000,000 calls x 1.18 units x 25 min / (100 x 525,600
on-duty minutes)) even with no travel and no spread in on-scene times.
``--shift-units 110,155,185`` (450 units, 150 on duty) gives ~45 %.

Before timing, the engine and the SimPy model run a 3-day copy with proactive activity
off and must make the same decisions call by call. Peak memory: the process's peak RSS
(``resource.getrusage``) after the engine run, and with ``--tracemalloc`` the peak of
Python allocations during a separate engine run (slower).

::

    .venv/bin/python benchmarks/bench_simulate.py
    .venv/bin/python benchmarks/bench_simulate.py --calls 100000 --days 36.5   # quick
    .venv/bin/python benchmarks/bench_simulate.py --simpy-fraction 0.1         # SimPy on 1/10
    .venv/bin/python benchmarks/bench_simulate.py --skip-simpy --profile       # cProfile top 25
    .venv/bin/python benchmarks/bench_simulate.py --preempt 1                  # pre-emption on
    .venv/bin/python benchmarks/bench_simulate.py --search-micro               # loop vs NumPy
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import math
import os
import pstats
import resource
import sys
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from smart_policing.response.sim.engine import (
    CallStream,
    DispatchRules,
    Fleet,
    SimRun,
    simulate,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "response" / "sim"))
from simpy_reference import simulate_simpy

__all__ = ["main", "synthetic_year"]

SIDE_M = 15_500.0  # 15.5 km x 15.5 km = 240 km^2
GRID = 3  # 3 x 3 districts
DISTRICT_WEIGHT = np.array([0.16, 0.13, 0.12, 0.11, 0.10, 0.10, 0.10, 0.09, 0.09])
HOURLY = np.array(
    [0.9, 0.75, 0.65, 0.55, 0.5, 0.45, 0.5, 0.65, 0.85, 0.95, 1.0, 1.05,
     1.1, 1.1, 1.1, 1.15, 1.25, 1.35, 1.4, 1.4, 1.35, 1.3, 1.2, 1.05]
)  # fmt: skip
WEEKLY = np.array([0.97, 0.95, 0.96, 0.98, 1.07, 1.1, 0.97])  # Monday first
SHIFT_UNITS = (75, 105, 120)  # 00-08, 08-16, 16-24: 300 distinct units
PRIORITY_P = np.array([0.10, 0.30, 0.40, 0.20])
RULES = DispatchRules(
    speed_kmh=40.0,
    circuity=1.3,
    turnout_min=0.5,
    backup_after_min=5.0,
    proactive_rate_per_hour=1.0,
    proactive_mean_min=20.0,
    proactive_yields_to_priority=2,
)


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder)."""
    raw = total * weights / weights.sum()
    out = np.floor(raw).astype(np.int64)
    out[np.argsort(out - raw)[: total - out.sum()]] += 1
    return out


def synthetic_year(
    n_calls: int = 1_000_000,
    days: float = 365.0,
    seed: int = 0,
    shift_units: tuple[int, ...] = SHIFT_UNITS,
) -> tuple[Fleet, CallStream, int]:
    """The benchmark city: (fleet, calls, n_districts); see the module docstring."""
    rng = np.random.default_rng(seed)
    nd = GRID * GRID
    cell = SIDE_M / GRID
    cx0 = (np.arange(nd) % GRID) * cell
    cy0 = (np.arange(nd) // GRID) * cell

    # tours: each unit works its shift every day
    whole_days = math.ceil(days)
    rows: list[tuple[int, int, float, float]] = []
    for s, n_units in enumerate(shift_units):
        per_district = _allocate(n_units, DISTRICT_WEIGHT)
        for day in range(whole_days):
            start = day * 1440.0 + s * 480.0
            if start >= days * 1440.0:
                continue
            for d in range(nd):
                rows.extend((d, s, start, start + 480.0) for _ in range(per_district[d]))
    dist = np.array([r[0] for r in rows], dtype=np.int64)
    fleet = Fleet(
        district=dist,
        shift=np.array([r[1] for r in rows], dtype=np.int64),
        start_min=np.array([r[2] for r in rows]),
        end_min=np.array([r[3] for r in rows]),
        home_x_m=cx0[dist] + cell / 2,
        home_y_m=cy0[dist] + cell / 2,
    )

    # calls: exactly n_calls points of a Poisson process with an hourly x weekly rate
    n_hours = math.ceil(days * 24)
    hours = np.arange(n_hours)
    rate = HOURLY[hours % 24] * WEEKLY[(hours // 24) % 7]
    rate[-1] *= days * 24 - (n_hours - 1)  # a partial last hour
    hour = rng.choice(n_hours, size=n_calls, p=rate / rate.sum())
    arrival = np.sort(hour * 60.0 + rng.random(n_calls) * 60.0)
    arrival = np.minimum(arrival, days * 1440.0)
    district = rng.choice(nd, size=n_calls, p=DISTRICT_WEIGHT / DISTRICT_WEIGHT.sum())
    u = rng.random(n_calls)
    calls = CallStream(
        arrival_min=arrival,
        x_m=cx0[district] + rng.random(n_calls) * cell,
        y_m=cy0[district] + rng.random(n_calls) * cell,
        district=district.astype(np.int64),
        priority=(rng.choice(4, size=n_calls, p=PRIORITY_P) + 1).astype(np.int64),
        units_needed=np.where(u < 0.03, 3, np.where(u < 0.15, 2, 1)).astype(np.int64),
        on_scene_min=np.exp(np.log(25.0) + 0.5 * rng.standard_normal(n_calls)),
        call_type=rng.integers(0, 20, n_calls).astype(np.int64),
    )
    return fleet, calls, nd


def _slice(fleet: Fleet, calls: CallStream, until_min: float) -> tuple[Fleet, CallStream]:
    """Tours and calls that start before ``until_min``."""
    t = fleet.start_min < until_min
    c = calls.arrival_min < until_min
    return (
        Fleet(**{k: getattr(fleet, k)[t] for k in fleet.__dataclass_fields__}),
        CallStream(**{k: getattr(calls, k)[c] for k in calls.__dataclass_fields__}),
    )


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[SimRun, float, float]:
    gc.collect()
    c0 = time.process_time()
    t0 = time.perf_counter()
    run = fn(*args, **kwargs)
    return run, time.perf_counter() - t0, time.process_time() - c0


def _summary(run: SimRun, fleet: Fleet, calls: CallStream) -> str:
    on_duty = float((fleet.end_min - fleet.start_min).sum())
    wait = run.dispatch_min - calls.arrival_min
    p1 = calls.priority == 1
    resp = run.on_scene_at_min - calls.arrival_min
    return (
        f"utilisation {run.committed_min.sum() / on_duty:.1%}, "
        f"proactive {run.proactive_min.sum() / on_duty:.1%} of on-duty time, "
        f"queued {np.mean(wait > 0):.1%}, backup {run.backup.mean():.1%}, "
        f"P1 on scene <= 10 min after queueing {np.mean(resp[p1] <= 10):.1%}, "
        f"never dispatched {int(np.isnan(run.dispatch_min).sum())}, "
        f"pre-emptions {run.preemptions:,}"
    )


def check_agreement(rules: DispatchRules = RULES) -> None:
    """The engine and the SimPy model make the same decisions on a small copy."""
    fleet, calls, nd = synthetic_year(3000, days=3.0, seed=11)
    # a 1/1024-minute grid off the hour keeps every SimPy time sum exact
    arr = np.floor(calls.arrival_min * 1024) / 1024 + 1 / 2048
    calls = replace(calls, arrival_min=arr)
    rules = replace(rules, proactive_rate_per_hour=0.0)
    a = simulate(fleet, calls, rules, n_districts=nd, rng=np.random.default_rng(0))
    b = simulate_simpy(fleet, calls, rules, n_districts=nd, rng=np.random.default_rng(0))
    names = (
        "dispatch_min",
        "on_scene_at_min",
        "first_unit",
        "backup",
        "committed_min",
        "preempted",
    )
    for name in names:
        x, y = getattr(a, name), getattr(b, name)
        if not np.array_equal(x, y, equal_nan=x.dtype.kind == "f"):
            raise SystemExit(f"engine and SimPy model disagree on {name}")


def search_micro(repeat: int = 200_000) -> None:
    """Nearest-of-n search: a plain loop over lists vs NumPy on arrays, per call."""
    rng = np.random.default_rng(0)
    for n in (5, 11, 30, 100):
        xs = (rng.random(n) * 5000).tolist()
        ys = (rng.random(n) * 5000).tolist()
        idx = list(range(n))
        ax, ay = np.array(xs), np.array(ys)
        x, y = 2500.0, 2500.0
        t0 = time.perf_counter()
        for _ in range(repeat):
            best = math.inf
            bu = -1
            for v in idx:
                dx = xs[v] - x
                dy = ys[v] - y
                d2 = dx * dx + dy * dy
                if d2 < best or (d2 == best and v < bu):
                    best = d2
                    bu = v
        t1 = time.perf_counter()
        for _ in range(repeat):
            d2a = (ax - x) ** 2 + (ay - y) ** 2
            int(d2a.argmin())
        t2 = time.perf_counter()
        loop = (t1 - t0) / repeat * 1e6
        vec = (t2 - t1) / repeat * 1e6
        print(f"  nearest of {n:>3}: python loop {loop:6.2f} us, numpy {vec:6.2f} us")


def _row(model: str, n: int, run: SimRun, wall: float, cpu: float, note: str) -> str:
    return (
        f"{model:<8}{n:>11,}{run.events:>13,}{wall:>9.2f}{cpu:>8.2f}{n / wall:>11,.0f}"
        f"{n / cpu:>11,.0f}  {note}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--days", type=float, default=365.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--shift-units",
        default=",".join(map(str, SHIFT_UNITS)),
        help="distinct units per shift 00-08,08-16,16-24 (default 75,105,120 = 300)",
    )
    ap.add_argument(
        "--simpy-fraction",
        type=float,
        default=1.0,
        help="run SimPy on this first part of the year and scale (default: the whole year)",
    )
    ap.add_argument("--skip-simpy", action="store_true")
    ap.add_argument("--profile", action="store_true", help="cProfile the engine run")
    ap.add_argument("--tracemalloc", action="store_true", help="Python allocation peak")
    ap.add_argument("--search-micro", action="store_true", help="loop vs NumPy search")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument(
        "--preempt",
        type=int,
        default=0,
        metavar="P",
        help="pre-emption for priorities <= P (DispatchRules.preempt_priority; 0 = off)",
    )
    args = ap.parse_args(argv)
    if args.search_micro:
        search_micro()
        return 0
    shift_units = tuple(int(x) for x in args.shift_units.split(","))
    if len(shift_units) != 3:
        ap.error("--shift-units takes three numbers")
    print(f"numpy {np.__version__}, python {sys.version.split()[0]}, load average {_load()}")
    rules = replace(RULES, preempt_priority=args.preempt)
    check_agreement(rules)
    print(
        "agreement: engine and SimPy model match call by call on a 3-day copy (proactive off"
        f"{f', pre-emption for P <= {args.preempt}' if args.preempt else ''})"
    )

    t0 = time.perf_counter()
    fleet, calls, nd = synthetic_year(args.calls, args.days, args.seed, shift_units)
    n = len(calls.arrival_min)
    print(
        f"input: {n:,} calls, {sum(shift_units)} distinct units ({'/'.join(map(str, shift_units))}"
        f" by shift, {sum(shift_units) / 3:.0f} on duty on average) in {len(fleet.district):,} "
        f"tours, {args.days:g} days, {nd} districts (built in {time.perf_counter() - t0:.1f} s)"
    )
    target_s = 60.0 * n / 1_000_000
    missed = False

    prof = cProfile.Profile() if args.profile else None
    if prof is not None:
        prof.enable()
    rng = np.random.default_rng(1)
    run, wall, cpu = _timed(simulate, fleet, calls, rules, n_districts=nd, rng=rng)
    if prof is not None:
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    engine_rss = _peak_rss_mib()
    ok = wall <= target_s
    missed |= not ok
    header = (
        f"{'model':<8}{'calls':>11}{'events':>13}{'wall s':>9}{'cpu s':>8}"
        f"{'calls/s':>11}{'calls/cpu-s':>13}  note"
    )
    print(header)
    print("-" * len(header))
    note = f"<= {target_s:.0f} s {'PASS' if ok else 'MISS'}  (peak RSS {engine_rss:,.0f} MiB)"
    print(_row("engine", n, run, wall, cpu, note))
    print(f"          {_summary(run, fleet, calls)}")

    if not args.skip_simpy:
        rng = np.random.default_rng(1)
        if args.simpy_fraction < 1:
            f2, c2 = _slice(fleet, calls, args.days * 1440.0 * args.simpy_fraction)
            n2 = len(c2.arrival_min)
            r_e, w_e, cpu_e = _timed(simulate, f2, c2, rules, n_districts=nd, rng=rng)
            print(_row("engine", n2, r_e, w_e, cpu_e, f"first {args.simpy_fraction:g} of the year"))
        else:
            f2, c2, n2, w_e, cpu_e = fleet, calls, n, wall, cpu
        r_s, w_s, cpu_s = _timed(simulate_simpy, f2, c2, rules, n_districts=nd, rng=rng)
        note = f"peak RSS {_peak_rss_mib():,.0f} MiB (process, after both)"
        if n2 < n:
            note = (
                f"first {args.simpy_fraction:g} of the year, scaled to {n:,} calls: "
                f"{w_s * n / n2:,.0f} s wall, {cpu_s * n / n2:,.0f} s cpu; {note}"
            )
        print(_row("simpy", n2, r_s, w_s, cpu_s, note))
        print(f"          simpy: {_summary(r_s, f2, c2)}")
        ratio_wall = w_s / w_e
        ratio_cpu = cpu_s / cpu_e
        ok = min(ratio_wall, ratio_cpu) >= 5.0
        missed |= not ok
        print(
            f"ratio simpy/engine on the same {n2:,} calls: {ratio_wall:.1f}x wall, "
            f"{ratio_cpu:.1f}x cpu  >= 5x {'PASS' if ok else 'MISS'}"
        )
    print(f"load average after: {_load()} (2 cores; wall > cpu means other processes ran)")

    if args.tracemalloc:
        tracemalloc.start()
        simulate(fleet, calls, rules, n_districts=nd, rng=np.random.default_rng(1))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"engine peak Python allocations (tracemalloc): {peak / 2**20:,.0f} MiB")
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    raise SystemExit(main())
