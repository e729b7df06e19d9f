"""Hot-spot forecasters: fit + predict times, SEPP memory, and a daily rolling backtest.

What is measured
----------------
A synthetic city, seeded (``--seed``, default 1): a 15 x 15 km square cut into a
150 x 150 grid of 100 m cells (all cells in the city), five years of events from a
space-time Hawkes process (branching ratio 0.3, mean delay 10 days, spread 100 m) whose
background is 70% concentrated in 60 Gaussian hot spots (sd 150-400 m) and 30% uniform.
The first four years hold about ``--events`` (default 100,000) events.

1. **fit + predict** on the four-year history for each forecaster (defaults of
   :mod:`smart_policing.zones.forecast` and :mod:`smart_policing.zones.forecast_sepp`),
   predicting the surface at the end of the history; naive counts and KDE with a
   lookback covering the whole history, so every event is binned. Targets: KDE <= 5 s, prospective
   hot-spotting <= 1 s, SEPP <= 60 s; naive counts is the **baseline** measured in the
   same run (no target; the *ratio* column is a time over its time).
2. **SEPP peak memory** during fit: ``tracemalloc``'s peak (numpy's allocations) and the
   process's peak resident set (``resource.getrusage``, the whole process so far: an
   upper bound). Target: < 2 GiB. SEPP runs first so the RSS peak is its own.
3. **Daily rolling-origin backtest**: 365 origins (each day of the fifth year), each
   fitting on all earlier events (four-plus years) and scoring the next day at 1% and 5%
   of the cells (:func:`smart_policing.zones.backtest.rolling_origin`). Target <= 120 s
   per forecaster; run for the three fast forecasters (SEPP refits daily would take
   365 fits; its backtest is the monthly one in
   ``tests/realdata/test_forecast_realdata.py``). Pooled PAI at 1% and 5% is printed
   for information (on synthetic data, not a claim about any city).

How to run
----------
::

    .venv/bin/python benchmarks/bench_forecast.py
    .venv/bin/python benchmarks/bench_forecast.py --events 20000 --days 60   # quick
    .venv/bin/python benchmarks/bench_forecast.py --json bench-out/forecast.json --strict

Progress goes to stderr, results to stdout. Exit status 0 unless ``--strict`` and a
target is missed.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

from smart_policing.zones.backtest import rolling_origin
from smart_policing.zones.forecast import (
    NaiveCounts,
    ProspectiveHotSpotting,
    SpaceTimeKernelDensity,
)
from smart_policing.zones.forecast_sepp import SelfExcitingPointProcess
from smart_policing.zones.grid import Grid

SIZE_M = 15_000.0
CELL_M = 100.0
HISTORY_DAYS = 4 * 365.0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def synthetic_events(seed: int, n_history: int, days: float) -> np.ndarray:
    """Hawkes events over ``HISTORY_DAYS + days`` days, about ``n_history`` in the history."""
    rng = np.random.default_rng(seed)
    theta, omega, sigma = 0.3, 0.1, 100.0
    total_days = HISTORY_DAYS + days
    n0 = rng.poisson(n_history * (1 - theta) * total_days / HISTORY_DAYS)
    centres = rng.uniform(1000, SIZE_M - 1000, (60, 2))
    spread = rng.uniform(150, 400, 60)
    hot = rng.random(n0) < 0.7
    which = rng.integers(0, 60, n0)
    xy = np.where(
        hot[:, None],
        centres[which] + rng.normal(0, 1, (n0, 2)) * spread[which, None],
        rng.uniform(0, SIZE_M, (n0, 2)),
    )
    gen = np.column_stack([xy, rng.uniform(0, total_days, n0)])
    out = [gen]
    while gen.shape[0]:
        parents = np.repeat(gen, rng.poisson(theta, gen.shape[0]), axis=0)
        m = parents.shape[0]
        step = np.column_stack(
            [rng.normal(0, sigma, m), rng.normal(0, sigma, m), rng.exponential(1 / omega, m)]
        )
        gen = (parents + step)[parents[:, 2] + step[:, 2] < total_days]
        out.append(gen)
    ev = np.vstack(out)
    inside = (ev[:, 0] >= 0) & (ev[:, 0] < SIZE_M) & (ev[:, 1] >= 0) & (ev[:, 1] < SIZE_M)
    ev = ev[inside]
    return ev[np.argsort(ev[:, 2], kind="stable")]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--events", type=int, default=100_000, help="events in the 4-year history")
    ap.add_argument("--days", type=int, default=365, help="daily origins in the backtest")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args()

    log(f"simulating ~{args.events:,} history events (seed {args.seed}) ...")
    ev = synthetic_events(args.seed, args.events, float(args.days))
    history = ev[ev[:, 2] < HISTORY_DAYS]
    grid = Grid.from_bounds(0.0, 0.0, SIZE_M, SIZE_M, CELL_M)
    log(f"{len(history):,} history events, {len(ev) - len(history):,} in the test period")
    rows: list[dict[str, Any]] = []

    # SEPP first: its fit is the only sizeable allocation, so the RSS peak is its own
    sepp = SelfExcitingPointProcess()
    tracemalloc.start()
    t0 = time.perf_counter()
    sepp.fit(history)
    sepp.predict(grid, HISTORY_DAYS)
    sepp_s = time.perf_counter() - t0
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    log(
        f"SEPP: theta={sepp.theta_:.3f} omega={sepp.omega_:.4f}/day sigma={sepp.sigma_m_:.1f} m "
        f"pairs={sepp.n_pairs_:,} iterations={sepp.n_iter_}"
    )

    # fit + predict with every history event inside the window (the defaults look back
    # 365 days); prospective hot-spotting's 8-week window is the method's own
    whole = HISTORY_DAYS + 1.0
    timed: dict[str, Any] = {
        "naive": NaiveCounts(lookback_days=whole),
        "kde": SpaceTimeKernelDensity(lookback_days=whole),
        "prospective": ProspectiveHotSpotting(),
    }
    fast: dict[str, Any] = {
        "naive": NaiveCounts(),
        "kde": SpaceTimeKernelDensity(),
        "prospective": ProspectiveHotSpotting(),
    }
    targets = {"naive": None, "kde": 5.0, "prospective": 1.0, "sepp": 60.0}
    times: dict[str, float] = {}
    for name, est in timed.items():
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            est.fit(history).predict(grid, HISTORY_DAYS)
            best = min(best, time.perf_counter() - t0)
        times[name] = best
    times["sepp"] = sepp_s
    base = times["naive"]
    for name, secs in times.items():
        target = targets[name]
        rows.append(
            {
                "step": f"fit+predict {name}",
                "events": len(history),
                "seconds": secs,
                "ratio": secs / base,
                "target": "baseline" if target is None else f"<= {target:g} s",
                "status": "-" if target is None else ("PASS" if secs <= target else "MISS"),
            }
        )
    gib = 1024**3
    rows.append(
        {
            "step": "SEPP peak memory",
            "events": len(history),
            "traced_peak_mib": traced_peak / 2**20,
            "rss_peak_mib": rss_peak / 2**20,
            "target": "< 2 GiB",
            "status": "PASS" if max(traced_peak, rss_peak) < 2 * gib else "MISS",
        }
    )

    origins = HISTORY_DAYS + np.arange(args.days, dtype=float)
    for name, est in fast.items():
        log(f"backtest {name}: {args.days} daily origins ...")
        t0 = time.perf_counter()
        res = rolling_origin(est, ev, grid, origins, 1.0, (0.01, 0.05))
        secs = time.perf_counter() - t0
        rows.append(
            {
                "step": f"daily backtest {name}",
                "origins": args.days,
                "events_scored": int(res.events.sum()),
                "seconds": secs,
                "pai_1pct": res.pai(0.01),
                "pai_5pct": res.pai(0.05),
                "target": "<= 120 s",
                "status": "PASS" if secs <= 120.0 else "MISS",
            }
        )

    for r in rows:
        extras = {k: v for k, v in r.items() if k not in ("step", "target", "status")}
        shown = "  ".join(
            f"{k}={v:,.3f}" if isinstance(v, float) else f"{k}={v:,}" for k, v in extras.items()
        )
        print(f"{r['step']:<28} {shown:<90} {r['target']:<10} {r['status']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2))
    missed = [r["step"] for r in rows if r["status"] == "MISS"]
    if missed:
        log(f"missed: {', '.join(missed)}")
    return 1 if (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
