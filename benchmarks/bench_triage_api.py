"""``POST /api/triage`` under load: p95 latency at 200 requests/s (issue 4's acceptance).

What is measured
----------------
A fresh SQLite store (or ``--db URL``) with one dispatcher and a bearer token, and
alarm sites in the false-alarm registry (some suspended, some warned). The server is
a separate process, ``smart-policing --db URL serve --port P`` (``--workers N``),
and the load comes from a second process: an asyncio HTTP/1.1 client over
``--connections`` keep-alive connections, **open loop**: requests are scheduled at
``--rate`` per second (evenly spaced) whether or not earlier ones have returned, and
latency runs from the *scheduled* send time to the last body byte, so a server that
falls behind is charged for the queue it builds (no coordinated omission).

Targets, each ``--warmup`` s discarded then ``--duration`` s measured:

``healthz``  ``GET /healthz`` (anonymous, no audit row, ``SELECT 1``): the baseline.
``triage``   ``POST /api/triage`` with a bearer token, cycling a realistic mix: every
             scenario call of both shipped packs (crashes, reports, mental-health
             calls, alarms; with their availability snapshots), a tenth of them with
             an address, half of those at a registered alarm site. Each request
             verifies the token, decides, writes a decision row and an audit row.

Printed: requests, errors, achieved rate, p50/p95/p99/max ms, the ratio of each
percentile to ``/healthz``'s in the same run, and **PASS/MISS** for p95 <= 25 ms at
200 requests/s (achieved rate within 2% of the target, no errors). Then, in process on
the same store, the cost of each part of a request's work (token lookup, decision,
decision row, audit row), to show where the time goes.

Run: ``.venv/bin/python benchmarks/bench_triage_api.py`` (``--help`` for options).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["main"]

TARGET_RATE = 200.0
TARGET_P95_MS = 25.0
ADDRESSES = [f"{100 + i} N. Charles Street" for i in range(20)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# ---------------------------------------------------------------- set-up


def prepare(url: str) -> str:
    """Migrate, add a dispatcher, fill the alarm registry; return a bearer token."""
    from smart_policing.security.policy import SecurityPolicy
    from smart_policing.security.roles import Role
    from smart_policing.store import make_engine, upgrade
    from smart_policing.store.alarms import record_event
    from smart_policing.store.users import add_user, create_api_token
    from smart_policing.triage.pack import builtin_pack
    from smart_policing.triage.types import AlarmKind, AlarmOutcome

    engine = make_engine(url)
    upgrade(engine)
    policy = SecurityPolicy()
    add_user(
        engine, "bench.dispatcher", "a long enough passphrase", {Role.DISPATCHER}, policy=policy
    )
    token, _ = create_api_token(engine, "bench.dispatcher", "bench", policy=policy)
    alarms = builtin_pack("baltimore-smart-2022").alarms
    start = datetime(2022, 2, 1, 3, tzinfo=UTC)
    for i, address in enumerate(ADDRESSES[:10]):
        for n in range(5 if i % 2 == 0 else 3):  # even sites suspended, odd ones warned
            record_event(
                engine,
                address,
                occurred_at=start + timedelta(days=n, minutes=i),
                kind=AlarmKind.BURGLAR,
                outcome=AlarmOutcome.FALSE,
                policy=alarms,
                actor="bench",
            )
    engine.dispose()
    return token


def call_mix(seed: int = 1) -> list[bytes]:
    """Request bodies: every scenario of both shipped packs, a tenth with an address."""
    from smart_policing.triage.lint import builtin_scenarios
    from smart_policing.triage.pack import builtin_packs

    rng = random.Random(seed)
    bodies: list[bytes] = []
    for name in builtin_packs():
        for sc in builtin_scenarios(name).scenarios:
            body: dict[str, Any] = sc.call.model_dump(mode="json", exclude_defaults=True)
            body["pack"] = name
            if sc.availability:
                body["availability"] = sc.availability
            if rng.random() < 0.1:
                body["address"] = rng.choice(ADDRESSES)
            bodies.append(json.dumps(body).encode())
    rng.shuffle(bodies)
    return bodies


# ---------------------------------------------------------------- the load process


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    line = await reader.readline()
    if not line:
        raise ConnectionError("connection closed by the server")
    status = int(line.split(None, 2)[1])
    length = 0
    close = False
    while True:
        h = await reader.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        name, _, value = h.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value == b"close":
            close = True
    await reader.readexactly(length)
    return status, close


async def _load(spec: dict[str, Any]) -> dict[str, Any]:
    host, port, rate = spec["host"], spec["port"], spec["rate"]
    bodies = [b.encode("latin-1") for b in spec["bodies"]]
    head = "".join(f"{k}: {v}\r\n" for k, v in spec["headers"].items())
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.2
    total = int(rate * (spec["warmup"] + spec["duration"]))
    measured_from = t0 + spec["warmup"]
    queue: asyncio.Queue[tuple[float, int] | None] = asyncio.Queue()
    latencies: list[float] = []
    service: list[float] = []
    statuses: Counter[str] = Counter()

    def request(i: int) -> bytes:
        if spec["method"] == "GET":
            return f"GET {spec['path']} HTTP/1.1\r\nHost: {host}\r\n{head}\r\n".encode()
        body = bodies[i % len(bodies)]
        return (
            f"POST {spec['path']} HTTP/1.1\r\nHost: {host}\r\n{head}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    async def scheduler() -> None:
        for i in range(total):
            due = t0 + i / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            queue.put_nowait((due, i))
        for _ in range(spec["connections"]):
            queue.put_nowait(None)

    async def connection() -> None:
        conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        while (job := await queue.get()) is not None:
            due, i = job
            sent = loop.time()
            try:
                if conn is None:
                    conn = await asyncio.open_connection(host, port)
                    sock = conn[1].get_extra_info("socket")
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                conn[1].write(request(i))
                status, close = await asyncio.wait_for(_read_response(conn[0]), 30)
                outcome = str(status)
            except (OSError, ConnectionError, asyncio.IncompleteReadError, TimeoutError) as exc:
                outcome, close = type(exc).__name__, True
            done = loop.time()
            if due >= measured_from:
                latencies.append(done - due)
                service.append(done - sent)
                statuses[outcome] += 1
            if close and conn is not None:
                conn[1].close()
                conn = None
        if conn is not None:
            conn[1].close()

    started = time.monotonic()
    await asyncio.gather(scheduler(), *(connection() for _ in range(spec["connections"])))
    elapsed = time.monotonic() - started - 0.2 - spec["warmup"]
    return _summary(latencies, service, statuses, elapsed)


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))] * 1000


def _summary(
    latencies: list[float], service: list[float], statuses: Counter[str], elapsed: float
) -> dict[str, Any]:
    latencies.sort()
    service.sort()
    n = len(latencies)
    ok = statuses.get("200", 0)
    return {
        "requests": n,
        "errors": n - ok,
        "statuses": dict(statuses),
        "rate": n / max(elapsed, 1e-9),
        "p50_ms": _pct(latencies, 0.50),
        "p95_ms": _pct(latencies, 0.95),
        "p99_ms": _pct(latencies, 0.99),
        "max_ms": latencies[-1] * 1000 if n else None,
        "service_p95_ms": _pct(service, 0.95),
    }


def child_load() -> int:
    spec = json.loads(sys.stdin.read())
    print(json.dumps(asyncio.run(_load(spec))))
    return 0


# ---------------------------------------------------------------- in-process costs


def part_costs(url: str, token: str, bodies: list[bytes], n: int = 400) -> dict[str, float]:
    """Mean ms of each part of a triage request's work, in this process."""
    from smart_policing.api.routers.triage import TriageRequest
    from smart_policing.security.policy import SecurityPolicy
    from smart_policing.store import make_engine
    from smart_policing.store.audit import append_audit
    from smart_policing.store.decisions import store_decision
    from smart_policing.store.users import load_api_token
    from smart_policing.triage.engine import decide
    from smart_policing.triage.pack import builtin_pack

    del SecurityPolicy
    engine = make_engine(url)
    reqs = [TriageRequest.model_validate_json(b) for b in bodies]
    pairs = [(builtin_pack(r.pack or "baltimore-smart-2022"), r) for r in reqs]
    out: dict[str, float] = {}

    def timed(name: str, fn: Any) -> None:
        t = time.perf_counter()
        for i in range(n):
            fn(i)
        out[name] = (time.perf_counter() - t) / n * 1000

    timed("validate body", lambda i: TriageRequest.model_validate_json(bodies[i % len(bodies)]))
    timed("token lookup", lambda i: load_api_token(engine, token))
    timed(
        "decide",
        lambda i: decide(
            pairs[i % len(pairs)][0],
            pairs[i % len(pairs)][1].call(),
            pairs[i % len(pairs)][1].availability,
        ),
    )
    decisions = [(r.call(), decide(p, r.call(), r.availability)) for p, r in pairs]
    timed(
        "decision row",
        lambda i: store_decision(
            engine,
            decisions[i % len(decisions)][0],
            decisions[i % len(decisions)][1],
            actor="bench",
        ),
    )
    timed(
        "audit row",
        lambda i: append_audit(
            engine,
            actor="bench",
            roles="dispatcher",
            action="write",
            route="POST /api/triage",
            records='{"kind":"triage_decision","ids":["1"]}',
            result="200",
        ),
    )
    engine.dispose()
    return out


# ---------------------------------------------------------------- the parent


def _wait_healthy(port: int, timeout: float = 60) -> float:
    t = time.monotonic()
    while time.monotonic() - t < timeout:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return time.monotonic() - t
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not answer /healthz")


def _run_load(spec: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child-load"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        check=True,
        timeout=spec["warmup"] + spec["duration"] + 120,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x:8.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child-load", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", help="store URL (default: a fresh SQLite file)")
    parser.add_argument("--rate", type=float, default=TARGET_RATE, help="requests/s offered")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=3.0, help="discarded seconds")
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--strict", action="store_true", help="exit 1 on MISS")
    args = parser.parse_args(argv)
    if args.child_load:
        return child_load()
    with tempfile.TemporaryDirectory(prefix="bench-triage-") as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'triage.db'}"
        token = prepare(url)
        bodies = call_mix()
        port = _free_port()
        env = {**os.environ, "SMART_RATE_LIMIT_STORAGE": "memory://"}
        exe = Path(sys.executable).with_name("smart-policing")
        cmd = [str(exe), "--db", url, "serve", "--port", str(port), "--workers", str(args.workers)]
        server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            startup = _wait_healthy(port)
            base = {
                "host": "127.0.0.1",
                "port": port,
                "rate": args.rate,
                "warmup": args.warmup,
                "duration": args.duration,
                "connections": args.connections,
                "bodies": [b.decode("latin-1") for b in bodies],
            }
            health = _run_load({**base, "method": "GET", "path": "/healthz", "headers": {}})
            triage = _run_load(
                {
                    **base,
                    "method": "POST",
                    "path": "/api/triage",
                    "headers": {"Authorization": f"Bearer {token}"},
                }
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
        costs = part_costs(url, token, bodies)
    print(f"server: {' '.join(cmd[1:])} (up in {startup:.2f} s); backend {url.split(':')[0]}")
    print(
        f"load: open loop at {args.rate:.0f} req/s, {args.connections} keep-alive connections, "
        f"{args.warmup:.0f} s warm-up + {args.duration:.0f} s measured; "
        f"{len(bodies)} distinct calls"
    )
    print(
        f"{'target':10} {'requests':>8} {'errors':>6} {'req/s':>8} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    )
    for name, r in (("healthz", health), ("triage", triage)):
        print(
            f"{name:10} {r['requests']:8d} {r['errors']:6d} {r['rate']:8.1f} "
            f"{_ms(r['p50_ms'])} {_ms(r['p95_ms'])} {_ms(r['p99_ms'])} {_ms(r['max_ms'])}"
        )
    ratios = {
        q: (triage[q] / health[q]) if health[q] else float("nan")
        for q in ("p50_ms", "p95_ms", "p99_ms")
    }
    print("ratio triage/healthz: " + ", ".join(f"{q[:-3]} x{v:.1f}" for q, v in ratios.items()))
    if triage["errors"]:
        print(f"triage statuses: {triage['statuses']}")
    print("in-process cost of each part of a triage request (mean ms):")
    for name, ms in costs.items():
        print(f"  {name:14} {ms:7.3f}")
    p95 = triage["p95_ms"] or float("inf")
    rate_ok = triage["rate"] >= 0.98 * TARGET_RATE and args.rate >= TARGET_RATE
    passed = p95 <= TARGET_P95_MS and rate_ok and triage["errors"] == 0
    print(
        f"{'PASS' if passed else 'MISS'}: POST /api/triage p95 {p95:.2f} ms "
        f"(target <= {TARGET_P95_MS:.0f}) at {triage['rate']:.1f} req/s "
        f"(target {TARGET_RATE:.0f}), {triage['errors']} errors"
    )
    return 1 if args.strict and not passed else 0


if __name__ == "__main__":
    raise SystemExit(main())
