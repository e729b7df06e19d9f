"""A sweep of 32 simulation scenarios: a local Dask distributed cluster against serial.

What is measured (issue 5's acceptance, on this machine):

``serial``
    The baseline: 32 scenarios run one after the other in this process with
    :func:`smart_policing.response.sweep.run_sweep` (``scheduler="serial"``).
``dask``
    The same 32 scenarios on a local Dask distributed cluster of ``--workers``
    single-threaded worker processes (default: one per core), cluster start-up
    included (it is part of what a user waits for) and also shown apart.

The scenarios are the shipped synthetic city (9 districts, 3 shifts, ~325 calls a day)
at 16 staffing levels (the file's table scaled from 0.8x to 1.55x) x 2 call streams
(all calls, and 80% of them: a diversion), ``--replications`` (default 10) replications
of ``--days`` (default 60) days each, so every scenario is a real ``run_scenario`` of
about a second. The
results of both runs must be identical (the simulation is deterministic given its
seeds); the script checks it before printing. Output: wall seconds of each, scenarios
per second, the speed-up (serial / dask) and its efficiency (speed-up / workers).

::

    .venv/bin/python benchmarks/bench_sweep.py
    .venv/bin/python benchmarks/bench_sweep.py --replications 4 --days 15   # quick
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import numpy as np

from smart_policing.response.sim.replicate import (
    PreparedScenario,
    ScenarioResult,
    prepare_scenario,
    run_scenario,
)
from smart_policing.response.sim.scenario import builtin_scenario_path, load_scenario
from smart_policing.response.sweep import SERIAL, run_sweep

__all__ = ["main"]

N_SCENARIOS = 32


def _run(job: tuple[PreparedScenario, Any, float | None]) -> ScenarioResult:
    prepared, staffing, keep_share = job
    divert = None
    if keep_share is not None:
        names = prepared.calls.type_names
        divert = dict.fromkeys(names, 1.0 - keep_share)
    return run_scenario(prepared, staffing=staffing, divert=divert)


def _jobs(replications: int, days: float) -> list[tuple[PreparedScenario, Any, float | None]]:
    scenario = load_scenario(builtin_scenario_path("synthetic-city"))
    prepared = prepare_scenario(scenario.with_changes(replications=replications, horizon_days=days))
    base = scenario.staffing_matrix()
    jobs = []
    for i in range(N_SCENARIOS // 2):
        scale = 0.8 + 0.05 * i
        table = np.maximum(np.rint(base * scale), 1).astype(np.int64)
        for keep in (None, 0.8):
            jobs.append((prepared, table, keep))
    return jobs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--days", type=float, default=60.0, help="horizon of each scenario")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    jobs = _jobs(args.replications, args.days)
    print(
        f"{len(jobs)} scenarios: synthetic city, {args.replications} replications x "
        f"{args.days:g} days "
        f"each; {args.workers} worker processes; {os.cpu_count()} cores"
    )

    t0 = time.perf_counter()
    serial = run_sweep(_run, jobs, scheduler=SERIAL)
    t_serial = time.perf_counter() - t0

    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=args.workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=40,
    )
    client = Client(cluster)
    t_start = time.perf_counter() - t0
    try:
        t1 = time.perf_counter()
        parallel = run_sweep(_run, jobs, client=client)
        t_sweep = time.perf_counter() - t1
    finally:
        client.close()
        cluster.close()
    t_dask = t_start + t_sweep

    same = all(
        a.model_dump(exclude={"seconds"}) == b.model_dump(exclude={"seconds"})
        for a, b in zip(serial, parallel, strict=True)
    )
    print(f"{'run':<28}{'wall s':>10}{'scenarios/s':>14}")
    print(f"{'serial (baseline)':<28}{t_serial:>10.2f}{len(jobs) / t_serial:>14.2f}")
    print(f"{'dask, incl. cluster start':<28}{t_dask:>10.2f}{len(jobs) / t_dask:>14.2f}")
    print(f"{'  cluster start':<28}{t_start:>10.2f}")
    print(f"{'  sweep':<28}{t_sweep:>10.2f}{len(jobs) / t_sweep:>14.2f}")
    speedup = t_serial / t_dask
    print(
        f"speed-up {speedup:.2f}x (sweep alone {t_serial / t_sweep:.2f}x), efficiency "
        f"{speedup / args.workers:.0%} of {args.workers} workers; results identical: {same}"
    )
    p1 = [r.p1_within_target.mean for r in serial]
    print(f"P1 within target across the sweep: {min(p1):.3f} .. {max(p1):.3f}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
