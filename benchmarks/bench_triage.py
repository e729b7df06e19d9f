"""Triage decision speed: one call in process, and a batch of 1,000,000 calls.

What is measured (issue 4's acceptance, on this machine):

``single``
    :func:`smart_policing.triage.engine.decide` on ``--single`` (default 20,000)
    pre-validated random calls (random call type, priority, flags, alarm, screening
    answers, time over three years, a random availability snapshot), one at a time;
    p50 / p95 / p99 / max in milliseconds. Target: **p99 <= 2 ms**.
    Baseline: validating the same call from its JSON-like dict
    (``CallFacts.model_validate``), the least any caller pays to hand the engine a
    call; *ratio* = decide p99 / validate p99.
``batch``
    :func:`smart_policing.triage.engine.decide_many` over ``--rows`` (default
    1,000,000) random calls in a Polars frame, best of ``--repeat`` (default 3)
    wall times. Target: **<= 5 s** for 1,000,000 rows (scaled by rows / 1M).
    Baseline: the floor of reading those columns, the same frame's local weekday and
    minute of the day in the pack's time zone plus the call-type cast; *ratio* =
    decide_many time / baseline time.

Both run for every shipped pack (``--pack`` for one). Before timing, 2,000 calls are
decided both ways and must agree. PASS / MISS per target; the exit status is 0 unless
``--strict`` and a target is missed.

::

    .venv/bin/python benchmarks/bench_triage.py
    .venv/bin/python benchmarks/bench_triage.py --rows 100000 --single 5000   # quick
    .venv/bin/python benchmarks/bench_triage.py --pack baltimore-smart-2022 --strict
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from smart_policing.triage.engine import (
    CallFacts,
    calls_frame,
    decide,
    decide_many,
)
from smart_policing.triage.pack import Pack, builtin_pack, builtin_packs, call_type_catalogue
from smart_policing.triage.types import AlarmKind, AlarmStatus, CallFlag

__all__ = ["main"]

START = datetime(2021, 1, 1, tzinfo=UTC)
SPAN_MIN = 3 * 365 * 1440


def random_call_dicts(pack: Pack, n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` random calls as plain dicts (the JSON shape of the call)."""
    rng = random.Random(seed)
    types = sorted(call_type_catalogue().categories_by_id)
    questions = [q.id for q in pack.screening]
    out = []
    for _ in range(n):
        d: dict[str, Any] = {
            "call_type": rng.choice(types),
            "priority": rng.choice([None, 1, 2, 3, 4, 5]),
            "received_at": (START + timedelta(minutes=rng.randrange(SPAN_MIN))).isoformat(),
            "flags": [f.value for f in rng.sample(list(CallFlag), rng.choice([0, 0, 1, 2]))],
        }
        if rng.random() < 0.2:
            d["alarm"] = {
                "kind": rng.choice(list(AlarmKind)).value,
                "status": rng.choice(list(AlarmStatus)).value,
                "verified": rng.random() < 0.3,
            }
        if questions and rng.random() < 0.3:
            d["answers"] = {q: rng.random() < 0.5 for q in rng.sample(questions, 1)}
        out.append(d)
    return out


def random_frame(pack: Pack, n: int, seed: int) -> pl.DataFrame:
    """``n`` random calls as a frame (built with NumPy, not one object per call)."""
    rng = np.random.default_rng(seed)
    types = np.array(sorted(call_type_catalogue().categories_by_id))
    flags = [f.value for f in CallFlag]
    minutes = rng.integers(0, SPAN_MIN, n)
    flag_lists = pl.Series(
        "flags",
        [[flags[i]] for i in range(len(flags))] + [[], [flags[0], flags[1]], []],
    )
    pick = rng.integers(0, len(flag_lists), n)
    has_alarm = rng.random(n) < 0.2
    kinds = np.array([k.value for k in AlarmKind])
    statuses = np.array([s.value for s in AlarmStatus])
    frame = pl.DataFrame(
        {
            "call_type": types[rng.integers(0, len(types), n)],
            "priority": rng.integers(1, 6, n).astype(np.int16),
            "received_at": pl.Series(
                int(START.timestamp()) * 1_000_000 + minutes * 60_000_000
            ).cast(pl.Datetime("us", "UTC")),
            "flags": flag_lists.gather(pick),
            "alarm_kind": kinds[rng.integers(0, len(kinds), n)],
            "alarm_status": statuses[rng.integers(0, len(statuses), n)],
            "alarm_verified": rng.random(n) < 0.3,
            "has_alarm": has_alarm,
        }
    )
    alarm_cols = ("alarm_kind", "alarm_status", "alarm_verified")
    return frame.with_columns(
        pl.when(pl.col("has_alarm")).then(pl.col(c)).alias(c) for c in alarm_cols
    ).drop("has_alarm")


def bench_single(pack: Pack, n: int) -> dict[str, float]:
    dicts = random_call_dicts(pack, n, seed=1)
    rng = random.Random(2)
    ids = [r.id for r in pack.responders]
    snapshots = [{rid: rng.randint(0, 2) for rid in rng.sample(ids, 2)} for _ in range(64)]
    calls = [CallFacts.model_validate(d) for d in dicts]
    for c in calls[:500]:  # warm-up (compiled rules, holiday sets, time-zone cache)
        decide(pack, c, snapshots[0])
    gc.collect()
    decide_t: list[float] = []
    validate_t: list[float] = []
    clock = time.perf_counter_ns
    for i, (c, d) in enumerate(zip(calls, dicts, strict=True)):
        snap = snapshots[i % len(snapshots)]
        t0 = clock()
        decide(pack, c, snap)
        t1 = clock()
        CallFacts.model_validate(d)
        t2 = clock()
        decide_t.append((t1 - t0) / 1e6)
        validate_t.append((t2 - t1) / 1e6)
    q = statistics.quantiles(decide_t, n=100)
    qb = statistics.quantiles(validate_t, n=100)
    return {
        "p50": q[49],
        "p95": q[94],
        "p99": q[98],
        "max": max(decide_t),
        "base_p99": qb[98],
        "per_s": 1000 / statistics.fmean(decide_t),
    }


def bench_batch(pack: Pack, rows: int, repeat: int) -> dict[str, float]:
    frame = random_frame(pack, rows, seed=3)
    type_enum = pl.Enum(sorted(call_type_catalogue().categories_by_id))
    local = pl.col("received_at").dt.convert_time_zone(pack.timezone)
    best = base = float("inf")
    out: pl.DataFrame | None = None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        frame.select(
            pl.col("call_type").cast(type_enum),
            local.dt.weekday().alias("dow"),
            (local.dt.hour().cast(pl.Int32) * 60 + local.dt.minute().cast(pl.Int32)).alias("min"),
        )
        t1 = time.perf_counter()
        out = decide_many(pack, frame)
        t2 = time.perf_counter()
        base = min(base, t1 - t0)
        best = min(best, t2 - t1)
    assert out is not None
    assert out.height == rows
    return {"seconds": best, "base": base, "rows_per_s": rows / best}


def check_agreement(pack: Pack) -> None:
    calls = [CallFacts.model_validate(d) for d in random_call_dicts(pack, 2000, seed=9)]
    got = decide_many(pack, calls_frame(calls))["responder"].to_list()
    want = [decide(pack, c).responder for c in calls]
    if got != want:
        raise SystemExit(f"{pack.name}: decide_many and decide disagree")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pack", choices=builtin_packs(), action="append")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--single", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--strict", action="store_true")
    args = ap.parse_args(argv)
    missed = False
    batch_target = 5.0 * args.rows / 1_000_000
    print(f"polars {pl.__version__}, python {sys.version.split()[0]}, rows {args.rows:,}")
    header = f"{'pack':<26}{'case':<8}{'figure':<38}{'baseline':<22}{'ratio':>7}  target"
    print(header)
    print("-" * len(header))
    for name in args.pack or builtin_packs():
        pack = builtin_pack(name)
        check_agreement(pack)
        s = bench_single(pack, args.single)
        ok = s["p99"] <= 2.0
        missed |= not ok
        figure = f"p50 {s['p50']:.3f} p95 {s['p95']:.3f} p99 {s['p99']:.3f} ms"
        base = f"validate p99 {s['base_p99']:.3f}"
        print(
            f"{name:<26}{'single':<8}{figure:<38}{base:<22}"
            f"{s['p99'] / s['base_p99']:>7.1f}  p99 <= 2 ms {'PASS' if ok else 'MISS'}"
            f"  ({s['per_s']:,.0f} decisions/s, max {s['max']:.2f} ms)"
        )
        b = bench_batch(pack, args.rows, args.repeat)
        ok = b["seconds"] <= batch_target
        missed |= not ok
        figure = f"{b['seconds']:.3f} s ({b['rows_per_s'] / 1e6:.2f} M calls/s)"
        base = f"local time {b['base']:.3f} s"
        print(
            f"{name:<26}{'batch':<8}{figure:<38}{base:<22}"
            f"{b['seconds'] / b['base']:>7.1f}  <= {batch_target:.2f} s {'PASS' if ok else 'MISS'}"
        )
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    raise SystemExit(main())
