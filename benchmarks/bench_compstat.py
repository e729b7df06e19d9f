"""Compstat page and API under load: p95 latency and requests/s (issue 3's acceptance).

What is measured
----------------
A database holding the real Open Baltimore Part 1 file
(``../shared/data/baltimore/part1_crime_2012_2015.csv.gz``, 186,623 incidents after
grouping victim rows) **plus** a synthetic city's Part 1 file of at least
``--synthetic-rows`` (default 1,000,000) incidents, and the real Baltimore police
districts as boundaries of kind ``district``. The synthetic city
(``generate_city``, seed 1) covers **2016-2022**, so it follows the real 2012-2015
data without overlapping it: the store holds eleven continuous years, and 2017-2022
get rates from the shipped population file. Its district names are Baltimore's nine,
so district filters select real and synthetic incidents alike. ``calls_per_day`` is
1 (the CAD file, not imported, is deleted after generation).

The server is started as a separate process, ``smart-policing --db URL serve`` on
127.0.0.1 (with ``--workers 1`` and ``--workers 2`` when ``serve`` has that option),
and loaded from a second process: a small asyncio HTTP/1.1 client over
keep-alive connections (``--concurrency`` connections, default 16), closed loop,
``--warmup`` seconds discarded, then ``--duration`` seconds (default 20) measured.
Latency is from writing the request to reading the last body byte. Targets:

``healthz``      ``GET /healthz`` (anonymous, not audited): the **baseline**; the
                 *ratio* column is a target's requests/s / this one's.
``static``       ``GET /static/app.css``: the framework's floor (no database at all).
``api-cached``   ``GET /api/compstat`` with no filter, bearer token: the report cache.
``api-mix``      ``GET /api/compstat`` cycling 20 query strings (none, each of the
                 nine districts, whole and partial year ranges, both combined). Once
                 each string has been seen, the per-process report cache serves it.
``api-uncached`` ``GET /api/compstat`` where every request has a new random date range
                 (and half of them a district): the summary-table queries every time.
``page-mix``     ``GET /compstat`` (the HTML page), the same 20 query strings, signed
                 in with a session cookie from the login form (GET /login, POST /login).
``page-uncached`` the page with a new random query every time.

Also printed, per backend: the server's start-up time (to ``/healthz``), the first
``/api/compstat`` after start-up (summary built, report cache empty), the time to
build the Compstat summary tables after the bulk import (``refresh_summary``), and,
while the server runs, the first ``/api/compstat`` after a new import finishes (the
Baltimore file re-imported: nothing inserted, but the imports ledger moves, so that
request rebuilds the summary tables), plus the request after it.

For each target: requests, errors (non-200 or failed), requests/s, p50/p95/p99 ms,
ratio to the baseline, and the CPU used by the server (its process tree), the load
client and the whole machine during the measured window, in cores. Targets
(SQLite, 2-core machine): **p95 <= 250 ms and >= 100 requests/s** for the Compstat
page and API targets; PASS/MISS is printed for every Compstat target on SQLite (the
acceptance reading is ``api-mix`` and ``page-mix`` with one worker; ``*-uncached`` is
the no-cache worst case). PostgreSQL figures are quoted with the same checks marked
"info". Exit status 0 unless ``--strict`` and a target is missed, or a step fails.

Databases
---------
SQLite: ``bench-out/compstat-<key>.db``; PostgreSQL: database
``smart_bench_compstat_<key>`` on ``--postgres-url``'s server (default
``postgresql://postgres@127.0.0.1:5432/postgres``; skipped, with the reason, if
unreachable). ``<key>`` hashes the inputs: the two Baltimore files' SHA-256, the
synthetic city's parameters, the schema's Alembic head and this recipe's version.
Without ``--keep`` both are built fresh and removed at the end; with ``--keep`` they
are kept and reused by later runs with the same key. The synthetic Part 1 file is
always cached in ``bench-out/`` by its parameters. A user ``bench-analyst`` (role
analyst) and a new API token are made every run.

How to run
----------
::

    .venv/bin/python benchmarks/bench_compstat.py                       # everything
    .venv/bin/python benchmarks/bench_compstat.py --keep --skip-pg      # reuse the SQLite db
    .venv/bin/python benchmarks/bench_compstat.py --synthetic-rows 100000 --duration 5
    .venv/bin/python benchmarks/bench_compstat.py --json bench-out/compstat.json
    .venv/bin/python benchmarks/bench_compstat.py --keep --profile      # + py-spy per target

Progress goes to stderr, results to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import http.client
import json
import math
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(__file__).resolve()
OUT_DIR = ROOT / "bench-out"
BIN = Path(sys.executable).parent
CLI = BIN / "smart-policing"
SHARED = (ROOT / "../shared/data/baltimore").resolve()
BALTIMORE = SHARED / "part1_crime_2012_2015.csv.gz"
DISTRICTS = SHARED / "police_districts.geojson"
BALTIMORE_INCIDENTS = 186_623
TIMEZONE = "America/New_York"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
RECIPE = 1  # bump when the database recipe changes

SYNTH_SEED = 1
SYNTH_END_YEAR = 2022
SYNTH_YEARS = 7  # 2016-2022: right after the real 2012-2015 data
SYNTH_CALLS_PER_DAY = 1.0
INCIDENTS_PER_ROW = 0.95  # synthetic incidents per victim row is ~0.96; aim a bit over

USERNAME = "bench-analyst"
PASSWORD = "bench-analyst-password-0"

TARGET_P95_MS = 250.0
TARGET_RPS = 100.0
FIRST_DAY = date(2012, 1, 1)
LAST_DAY = date(2022, 12, 31)

TARGETS = (
    "healthz",
    "static",
    "api-cached",
    "api-mix",
    "api-uncached",
    "page-mix",
    "page-uncached",
)
BASELINE = "healthz"
COMPSTAT_TARGETS = frozenset(t for t in TARGETS if t.startswith(("api-", "page-")))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ----------------------------------------------------------------------- query strings

# the nine Baltimore district names, as both the real and the synthetic data spell them
NINE_DISTRICTS = (
    "CENTRAL",
    "EASTERN",
    "NORTHEASTERN",
    "NORTHERN",
    "NORTHWESTERN",
    "SOUTHEASTERN",
    "SOUTHERN",
    "SOUTHWESTERN",
    "WESTERN",
)


def mix_queries(districts: list[str]) -> list[str]:
    """20 query strings: none, each district, year ranges (whole and partial), combined."""
    ranges = [
        ("2012-01-01", "2015-12-31"),  # the real data, whole years
        ("2016-01-01", "2022-12-31"),  # the synthetic years
        ("2019-01-01", "2019-12-31"),
        ("2020-06-01", "2021-05-31"),  # partial years: monthly rows
        ("2014-03-15", "2014-09-20"),  # partial months: daily rows
    ]
    qs: list[dict[str, Any]] = [{}]
    qs += [{"district": d} for d in districts[:9]]
    qs += [{"start": a, "end": b} for a, b in ranges]
    combos = [
        (districts[0], ranges[0]),
        (districts[3 % len(districts)], ranges[2]),
        (districts[5 % len(districts)], ranges[3]),
        (districts[7 % len(districts)], ranges[4]),
    ]
    qs += [{"district": d, "start": a, "end": b} for d, (a, b) in combos]
    qs.append({"district": [districts[1], districts[2]], "start": "2017-01-01"})
    return [urlencode(q, doseq=True) for q in qs]


def random_query(rng: random.Random, districts: list[str]) -> str:
    """A date range (and, half the time, a district) unlikely to repeat."""
    span = (LAST_DAY - FIRST_DAY).days
    start = FIRST_DAY + timedelta(days=rng.randrange(span))
    end = min(LAST_DAY, start + timedelta(days=rng.randrange(30, 2000)))
    q: dict[str, Any] = {"start": start.isoformat(), "end": end.isoformat()}
    if rng.random() < 0.5:
        q["district"] = rng.choice(districts)
    return urlencode(q)


# --------------------------------------------------------------------- child: synthetic


def synth_params(n: int) -> dict[str, Any]:
    days = (date(SYNTH_END_YEAR, 12, 31) - date(SYNTH_END_YEAR - SYNTH_YEARS + 1, 1, 1)).days + 1
    per_day = math.ceil(n / INCIDENTS_PER_ROW / days * 100) / 100
    if per_day > 2000:
        raise SystemExit(f"--synthetic-rows {n:,} needs > 2,000 rows/day over {days} days")
    return {
        "seed": SYNTH_SEED,
        "years": SYNTH_YEARS,
        "end_year": SYNTH_END_YEAR,
        "timezone": TIMEZONE,
        "calls_per_day": SYNTH_CALLS_PER_DAY,
        "incidents_per_day": per_day,
    }


def child_synth(spec: dict[str, Any]) -> dict[str, Any]:
    """Write the synthetic city's Part 1 file (and manifest) into ``spec['dir']``."""
    from smart_policing.data.synth import CityParams, generate_city

    out = Path(spec["dir"])
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    started = time.perf_counter()
    try:
        manifest = generate_city(CityParams(**spec["params"]), tmp)
        for name in ("cad_calls.csv", "beats.geojson", "neighborhoods.geojson"):
            (tmp / name).unlink(missing_ok=True)  # only the Part 1 file is imported
        shutil.rmtree(out, ignore_errors=True)
        tmp.replace(out)  # atomic: an interrupted run leaves no half city in the cache
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "seconds": time.perf_counter() - started,
        "part1_rows": manifest.part1_rows,
        "part1_incidents": manifest.part1_incidents,
    }


# ------------------------------------------------------------------------ child: build


def _pg_admin(url: str) -> Any:
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url).set(drivername="postgresql")
    errors = []
    for db in dict.fromkeys([parsed.database, "postgres"]):
        conninfo = parsed.set(database=db).render_as_string(hide_password=False)
        try:
            return psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
        except psycopg.Error as exc:
            errors.append(f"{db}: {str(exc).strip().splitlines()[0]}")
    raise ConnectionError("; ".join(errors))


def child_pg(spec: dict[str, Any]) -> dict[str, Any]:
    """``op``: probe | exists | create | drop a database on the server."""
    try:
        admin = _pg_admin(spec["url"])
    except ConnectionError as exc:
        return {"ok": False, "reason": f"PostgreSQL not reachable at {spec['url']} ({exc})"}
    with admin:
        name = spec.get("name")
        if spec["op"] == "exists":
            row = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            return {"ok": True, "exists": row is not None}
        if spec["op"] == "create":
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        elif spec["op"] == "drop":
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        version = admin.execute("SHOW server_version").fetchone()
        return {"ok": True, "server_version": version[0] if version else "?"}


def child_build(spec: dict[str, Any]) -> dict[str, Any]:
    """Import Baltimore + the synthetic city + districts into ``spec['url']``; build
    the Compstat summary (timed)."""
    from smart_policing.compstat import refresh_summary
    from smart_policing.data import builtin_mapping, import_boundaries, import_file
    from smart_policing.model.boundaries import BoundaryKind
    from smart_policing.settings import Settings
    from smart_policing.store import make_engine, upgrade

    engine = make_engine(spec["url"])
    out: dict[str, Any] = {"imports": []}
    try:
        upgrade(engine)
        spec_part1 = builtin_mapping("baltimore-part1")
        for label, path in (("baltimore", spec["baltimore"]), ("synthetic", spec["synthetic"])):
            log(f"  importing {label} Part 1 file {path}")
            s = import_file(engine, path, spec_part1, timezone=TIMEZONE)
            if s.status != "completed":
                raise RuntimeError(f"import of {path} ended {s.status}: {s.error}")
            out["imports"].append(
                {
                    "file": label,
                    "rows_read": s.rows_read,
                    "inserted": s.inserted,
                    "rejected": s.rejected,
                    "incidents": s.incidents_inserted,
                    "seconds": s.seconds,
                }
            )
            log(
                f"    {s.rows_read:,} rows, {s.incidents_inserted or 0:,} incidents "
                f"in {s.seconds:.1f} s"
            )
        b = import_boundaries(
            engine, spec["districts"], kind=BoundaryKind.DISTRICT, layer="bpd-districts"
        )
        out["districts_imported"] = b.inserted
        settings = Settings(database_url=spec["url"], timezone=TIMEZONE)
        t0 = time.perf_counter()
        state = refresh_summary(engine, settings)
        out["summary_seconds"] = time.perf_counter() - t0
        out["incidents"] = state.incidents
        log(f"  summary built in {out['summary_seconds']:.1f} s ({state.incidents:,} incidents)")
    finally:
        engine.dispose()
    return out


def child_prepare(spec: dict[str, Any]) -> dict[str, Any]:
    """The analyst account (made once) and a new API token; incidents in the store."""
    from sqlalchemy import func, select

    from smart_policing.security.policy import SecurityPolicy
    from smart_policing.security.roles import Role
    from smart_policing.store import make_engine, upgrade
    from smart_policing.store import tables as t
    from smart_policing.store.users import UserError, add_user, create_api_token

    policy = SecurityPolicy()
    engine = make_engine(spec["url"])
    try:
        upgrade(engine)
        with contextlib.suppress(UserError):  # already there in a reused database
            add_user(engine, USERNAME, PASSWORD, frozenset({Role.ANALYST}), policy=policy)
        token, _ = create_api_token(engine, USERNAME, "bench_compstat", policy=policy)
        with engine.connect() as conn:
            incidents = conn.execute(select(func.count()).select_from(t.incidents)).scalar_one()
            audit_rows = conn.execute(select(func.count()).select_from(t.audit_log)).scalar_one()
    finally:
        engine.dispose()
    return {"token": token, "incidents": int(incidents), "audit_rows": int(audit_rows)}


# ------------------------------------------------------------------------- child: load


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (Linux /proc)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{p}/task"):
                with contextlib.suppress(OSError):
                    kids = Path(f"/proc/{p}/task/{task}/children").read_text().split()
                    todo.extend(int(k) for k in kids)
    return found


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_of(pids: list[int]) -> float:
    total = 0
    for p in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK


def _machine_busy() -> tuple[float, float]:
    """(busy seconds, total seconds) over all CPUs since boot."""
    try:
        values = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values) - idle) / _TICK, sum(values) / _TICK


def _postgres_cpu() -> float:
    """CPU seconds of the PostgreSQL server's processes (0 when none run here)."""
    pids = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if Path(f"/proc/{entry}/comm").read_text().strip() == "postgres":
                    pids.append(int(entry))
    return _cpu_of(pids)


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, int, bool]:
    line = await reader.readline()
    if not line:
        raise ConnectionError("connection closed by the server")
    status = int(line.split(None, 2)[1])
    length: int | None = None
    chunked = close = False
    while True:
        h = await reader.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        name, _, value = h.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value:
            chunked = True
        elif name == b"connection" and value == b"close":
            close = True
    size = 0
    if chunked:
        while True:
            n = int((await reader.readline()).split(b";")[0].strip(), 16)
            if n == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                break
            await reader.readexactly(n + 2)
            size += n
    elif length is not None:
        await reader.readexactly(length)
        size = length
    else:
        size = len(await reader.read())
        close = True
    return status, size, close


async def _load(spec: dict[str, Any]) -> dict[str, Any]:
    host, port = spec["host"], spec["port"]
    headers = "".join(f"{k}: {v}\r\n" for k, v in spec["headers"].items())
    paths: list[str] = spec["paths"]
    districts: list[str] = spec["districts"]
    loop = asyncio.get_running_loop()
    t_start = loop.time()
    t_measure = t_start + spec["warmup"]
    t_end = t_measure + spec["duration"]
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    bytes_total = 0
    last_done = t_measure
    marks: dict[str, float] = {}

    async def mark_window() -> None:
        await asyncio.sleep(max(0.0, t_measure - loop.time()))
        marks["server"] = _cpu_of(_tree(spec["server_pid"]))
        marks["client"] = _self_cpu()
        marks["db"] = _postgres_cpu() if spec["postgres"] else 0.0
        marks["busy"], marks["total"] = _machine_busy()

    async def worker(i: int) -> None:
        nonlocal bytes_total, last_done
        rng = random.Random(f"{spec['seed']}-{i}")
        k = i * 7
        conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        while loop.time() < t_end:
            if spec["uncached"]:
                path = f"{paths[0]}?{random_query(rng, districts)}"
            else:
                path = paths[k % len(paths)]
                k += 1
            request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{headers}\r\n".encode()
            t0 = loop.time()
            try:
                if conn is None:
                    conn = await asyncio.open_connection(host, port)
                reader, writer = conn
                writer.write(request)
                status, size, close = await asyncio.wait_for(_read_response(reader), 60)
                outcome = str(status)
            except (OSError, ConnectionError, asyncio.IncompleteReadError, TimeoutError) as exc:
                outcome, size, close = type(exc).__name__, 0, True
            t1 = loop.time()
            if t0 >= t_measure:
                latencies.append(t1 - t0)
                statuses[outcome] += 1
                bytes_total += size
                last_done = max(last_done, t1)
            if close and conn is not None:
                conn[1].close()
                conn = None
        if conn is not None:
            conn[1].close()

    marker = asyncio.ensure_future(mark_window())
    await asyncio.gather(*(worker(i) for i in range(spec["concurrency"])))
    await marker
    window = max(last_done - t_measure, 1e-9)
    server_cpu = _cpu_of(_tree(spec["server_pid"])) - marks["server"]
    client_cpu = _self_cpu() - marks["client"]
    db_cpu = _postgres_cpu() - marks["db"] if spec["postgres"] else 0.0
    busy, total = _machine_busy()
    latencies.sort()
    n = len(latencies)

    def pct(q: float) -> float | None:
        return latencies[min(n - 1, max(0, math.ceil(q * n) - 1))] * 1000 if n else None

    return {
        "requests": n,
        "errors": n - statuses.get("200", 0),
        "statuses": dict(statuses),
        "seconds": window,
        "rps": n / window,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": latencies[-1] * 1000 if n else None,
        "mean_body_bytes": bytes_total / n if n else 0,
        "server_cores": server_cpu / window,
        "client_cores": client_cpu / window,
        # short-lived parallel-query workers are missed: a lower bound, clamped at 0
        "db_cores": max(0.0, db_cpu / window),
        "machine_busy": (busy - marks["busy"]) / max(total - marks["total"], 1e-9),
        "machine_cores": (busy - marks["busy"]) / window,
    }


def child_load(spec: dict[str, Any]) -> dict[str, Any]:
    return asyncio.run(_load(spec))


CHILDREN = {
    "synth": child_synth,
    "pg": child_pg,
    "build": child_build,
    "prepare": child_prepare,
    "load": child_load,
}


def run_child(name: str) -> int:
    spec = json.loads(sys.stdin.read())
    out = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):  # keep stdout for the JSON line
        result = CHILDREN[name](spec)
    out.write(json.dumps(result, default=str) + "\n")
    out.flush()
    return 0


# ------------------------------------------------------------------------ parent side


class StepError(RuntimeError):
    """A subprocess or a server step failed."""


def spawn(name: str, spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run ``bench_compstat.py --child NAME`` with ``spec`` on stdin; its JSON result."""
    cmd = [sys.executable, str(SCRIPT), "--child", name]
    try:
        proc = subprocess.run(
            cmd,
            cwd=ROOT,
            input=json.dumps(spec),
            stdout=subprocess.PIPE,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise StepError(f"{name}: no result after {timeout:.0f} s") from None
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0 or not lines:
        raise StepError(f"{name}: subprocess exited with status {proc.returncode} (see stderr)")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]
    ms: float
    cookies: dict[str, str] = field(default_factory=dict)


def request(
    port: int,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: str | None = None,
    timeout: float = 600.0,
) -> Reply:
    """One request on a new connection (setup steps and single timed requests)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        t0 = time.perf_counter()
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        ms = (time.perf_counter() - t0) * 1000
        cookies = {}
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                k, _, rest = value.partition("=")
                cookies[k.strip()] = rest.split(";", 1)[0]
        return Reply(resp.status, data, {k.lower(): v for k, v in resp.getheaders()}, ms, cookies)
    finally:
        conn.close()


def login(port: int) -> str:
    """Sign in through the form; the ``Cookie`` header value of the session."""
    form = request(port, "GET", "/login")
    found = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', form.body) or re.search(
        rb'value="([^"]+)"[^>]*name="csrf_token"', form.body
    )
    if form.status != 200 or not found or "sp_login_csrf" not in form.cookies:
        raise StepError(f"GET /login: status {form.status}, no csrf_token field or cookie")
    body = urlencode(
        {
            "username": USERNAME,
            "password": PASSWORD,
            "csrf_token": found.group(1).decode(),
            "next": "/compstat",
        }
    )
    done = request(
        port,
        "POST",
        "/login",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"sp_login_csrf={form.cookies['sp_login_csrf']}",
        },
    )
    session = done.cookies.get("sp_session")
    if done.status != 303 or not session:
        raise StepError(f"POST /login: status {done.status}, no session cookie")
    return f"sp_session={session}"


class Server:
    """``smart-policing --db URL serve`` in its own process group (ours to stop)."""

    def __init__(self, url: str, workers: int | None, log_path: Path) -> None:
        self.port = _free_port()
        cmd = [str(CLI), "--db", url, "--timezone", TIMEZONE, "serve"]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port)]
        if workers is not None:
            cmd += ["--workers", str(workers)]
        self.command = cmd
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.startup_s = 0.0

    def wait_ready(self, timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise StepError(f"server exited with {self.proc.returncode}; see {self.log_path}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if request(self.port, "GET", "/healthz", timeout=5).status == 200:
                    self.startup_s = time.perf_counter() - self.started
                    return
            time.sleep(0.2)
        raise StepError(f"server not ready after {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the group we started
                self.proc.wait(10)
        self._log.close()


def serve_has_workers() -> bool:
    proc = subprocess.run(
        [str(CLI), "serve", "--help"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"},
    )
    return "--workers" in proc.stdout


@dataclass
class TargetResult:
    backend: str
    workers: int
    target: str
    figures: dict[str, Any]
    ratio: float | None = None
    checks: list[dict[str, Any]] = field(default_factory=list)
    profile: list[str] = field(default_factory=list)


@dataclass
class BackendResult:
    name: str
    url: str = ""
    status: str = "ok"  # ok | skipped | error
    reason: str = ""
    build: dict[str, Any] | None = None
    reused: bool = False
    incidents: int = 0
    runs: list[dict[str, Any]] = field(default_factory=list)
    targets: list[TargetResult] = field(default_factory=list)


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x:,.1f}"


def _frame(frame: str) -> str:
    """``func (path/to/file.py:12)`` -> ``func (pkg/file.py)``: one name per function."""
    func, _, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for cut in ("site-packages/", "/src/", "/lib/python3"):
        if cut in where:
            where = where.split(cut, 1)[1]
            break
    return f"{func} ({where})"


def _profile_summary(raw: Path, top: int = 12) -> list[str]:
    """Inclusive share of samples per frame (once per stack) from py-spy's raw output."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_frame(f) for f in stack.split(";")]
        total += n
        for f in set(frames):
            inclusive[f] += n
        own[frames[-1]] += n
    if not total:
        return ["(no samples)"]
    keys = ("smart_policing", "sqlalchemy", "sqlite3", "psycopg", "jinja2", "pydantic", "json")
    lines = [f"{total:,} samples; inclusive share of our and key library frames:"]
    picked = [(f, n) for f, n in inclusive.most_common() if any(k in f for k in keys)]
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in picked[:top]]
    lines.append("self time (innermost frame):")
    for f, n in own.most_common(8):
        lines.append(f"  {100 * n / total:5.1f}%  {f}")
    return lines


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.backends: list[BackendResult] = []
        self.synth: dict[str, Any] = {}
        self.workers_supported = False

    # ---------------------------------------------------------------- inputs and key

    def synthetic_file(self) -> Path:
        params = synth_params(self.args.synthetic_rows)
        tag = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
        folder = OUT_DIR / f"compstat-synth-{tag}"
        part1 = folder / "part1_crime.csv"
        self.synth = {"params": params, "dir": str(folder), "cached": part1.is_file()}
        if not part1.is_file():
            log(f"- generating the synthetic city ({params}) into {folder}")
            got = spawn("synth", {"dir": str(folder), "params": params}, self.args.timeout)
            log(
                f"  {got['part1_rows']:,} rows, {got['part1_incidents']:,} incidents in "
                f"{got['seconds']:.0f} s"
            )
        manifest = json.loads((folder / "manifest.json").read_text())
        self.synth.update(
            part1_rows=manifest["counts"]["part1_rows"],
            part1_incidents=manifest["counts"]["part1_incidents"],
            start=manifest["start_date"],
            end=manifest["end_date"],
        )
        if self.synth["part1_incidents"] < self.args.synthetic_rows:
            log(
                f"  note: {self.synth['part1_incidents']:,} synthetic incidents, fewer than "
                f"{self.args.synthetic_rows:,}"
            )
        return part1

    def db_key(self) -> str:
        from smart_policing.store import head_revision

        doc = {
            "recipe": RECIPE,
            "baltimore": _sha256(BALTIMORE),
            "districts": _sha256(DISTRICTS),
            "synthetic": self.synth["params"],
            "synthetic_bytes": (Path(self.synth["dir"]) / "part1_crime.csv").stat().st_size,
            "schema": head_revision(),
            "timezone": TIMEZONE,
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:12]

    # -------------------------------------------------------------------- databases

    def _build(self, res: BackendResult, synthetic: Path) -> None:
        spec = {
            "url": res.url,
            "baltimore": str(BALTIMORE),
            "synthetic": str(synthetic),
            "districts": str(DISTRICTS),
        }
        t0 = time.perf_counter()
        res.build = spawn("build", spec, self.args.timeout)
        res.build["wall_seconds"] = time.perf_counter() - t0

    def sqlite_db(self, res: BackendResult, key: str, synthetic: Path) -> Path:
        db = OUT_DIR / f"compstat-{key}.db"
        marker = db.with_suffix(".json")
        res.url = f"sqlite:///{db}"
        if self.args.keep and db.is_file() and marker.is_file():
            res.reused, res.build = True, json.loads(marker.read_text())
            log(f"- sqlite: reusing {db}")
            return db
        for p in (db, marker, Path(f"{db}-wal"), Path(f"{db}-shm")):
            p.unlink(missing_ok=True)
        log(f"- sqlite: building {db}")
        self._build(res, synthetic)
        marker.write_text(json.dumps(res.build, indent=2) + "\n")
        return db

    def pg_db(self, res: BackendResult, key: str, synthetic: Path) -> str | None:
        from sqlalchemy.engine import make_url

        base = self.args.postgres_url
        name = f"smart_bench_compstat_{key}"
        marker = OUT_DIR / f"compstat-pg-{key}.json"
        probe = spawn("pg", {"url": base, "op": "exists", "name": name}, 60)
        if not probe["ok"]:
            res.status, res.reason = "skipped", probe["reason"]
            return None
        res.url = make_url(base).set(database=name).render_as_string(hide_password=False)
        if self.args.keep and probe["exists"] and marker.is_file():
            res.reused, res.build = True, json.loads(marker.read_text())
            log(f"- postgresql: reusing database {name}")
            return name
        marker.unlink(missing_ok=True)
        log(f"- postgresql: building database {name} on {base}")
        spawn("pg", {"url": base, "op": "create", "name": name}, 120)
        self._build(res, synthetic)
        marker.write_text(json.dumps(res.build, indent=2) + "\n")
        return name

    # ---------------------------------------------------------------------- serving

    def run_backend(self, res: BackendResult) -> None:
        prep = spawn("prepare", {"url": res.url}, 300)
        res.incidents = prep["incidents"]
        log(f"  {res.incidents:,} incidents, {prep['audit_rows']:,} audit rows in the store")
        worker_counts: list[int | None] = [1, 2] if self.workers_supported else [None]
        for i, workers in enumerate(worker_counts):
            self.run_server(res, prep["token"], workers, after_import=i == 0)

    def run_server(
        self, res: BackendResult, token: str, workers: int | None, *, after_import: bool
    ) -> None:
        n_workers = workers or 1
        label = f"{res.name}, {n_workers} worker{'s' if n_workers > 1 else ''}"
        log_path = OUT_DIR / f"compstat-server-{res.name}-w{n_workers}.log"
        log(f"- {label}: starting the server (log {log_path})")
        server = Server(res.url, workers, log_path)
        run: dict[str, Any] = {"workers": n_workers, "command": " ".join(server.command)}
        try:
            server.wait_ready(self.args.timeout)
            run["startup_s"] = server.startup_s
            port = server.port
            bearer = {"Authorization": f"Bearer {token}"}
            first = request(port, "GET", "/api/compstat", headers=bearer)
            if first.status != 200:
                raise StepError(f"first /api/compstat: status {first.status}: {first.body[:200]!r}")
            report = json.loads(first.body)
            run["first_api_ms"] = first.ms
            run["report_incidents"] = report["data"]["incidents"]
            districts = [d for d in report["available_districts"] if d] or list(NINE_DISTRICTS)
            cookie = login(port)
            page = request(port, "GET", "/compstat", headers={"Cookie": cookie})
            if page.status != 200:
                raise StepError(f"GET /compstat with the session: status {page.status}")
            run["first_page_ms"] = page.ms
            run["page_bytes"] = len(page.body)
            log(
                f"  up in {server.startup_s:.1f} s; first /api/compstat {first.ms:,.0f} ms "
                f"({run['report_incidents']:,} incidents), first /compstat {page.ms:,.0f} ms"
            )
            queries = mix_queries(districts)
            plans: dict[str, tuple[list[str], dict[str, str], bool]] = {
                "healthz": (["/healthz"], {}, False),
                "static": (["/static/app.css"], {}, False),
                "api-cached": (["/api/compstat"], bearer, False),
                "api-mix": ([f"/api/compstat?{q}".rstrip("?") for q in queries], bearer, False),
                "api-uncached": (["/api/compstat"], bearer, True),
                "page-mix": (
                    [f"/compstat?{q}".rstrip("?") for q in queries],
                    {"Cookie": cookie},
                    False,
                ),
                "page-uncached": (["/compstat"], {"Cookie": cookie}, True),
            }
            base_rps: float | None = None
            for target in self.args.targets:
                paths, headers, uncached = plans[target]
                result = self.load(
                    res, server, n_workers, target, paths, headers, uncached, districts
                )
                if target == BASELINE:
                    base_rps = result.figures["rps"]
                if base_rps:
                    result.ratio = result.figures["rps"] / base_rps
                self.check(res, result)
                res.targets.append(result)
                _print_target(result)
            if after_import:
                run.update(self.after_import(res, port, bearer))
        finally:
            server.stop()
            res.runs.append(run)

    def load(
        self,
        res: BackendResult,
        server: Server,
        workers: int,
        target: str,
        paths: list[str],
        headers: dict[str, str],
        uncached: bool,
        districts: list[str],
    ) -> TargetResult:
        spec = {
            "host": "127.0.0.1",
            "port": server.port,
            "paths": paths,
            "headers": headers,
            "uncached": uncached,
            "districts": districts,
            "warmup": self.args.warmup,
            "duration": self.args.duration,
            "concurrency": self.args.concurrency,
            "server_pid": server.proc.pid,
            "postgres": res.name == "postgresql",
            "seed": f"{res.name}-{workers}-{target}",
        }
        log(f"  load: {target} ({self.args.concurrency} connections, {self.args.duration:g} s)")
        profiler = None
        raw = OUT_DIR / f"compstat-profile-{res.name}-w{workers}-{target}.txt"
        if self.args.profile and target in COMPSTAT_TARGETS:
            py_spy = BIN / "py-spy"
            profiler = subprocess.Popen(
                [
                    str(py_spy),
                    "record",
                    "--pid",
                    str(server.proc.pid),
                    "--subprocesses",
                    "--rate",
                    "100",
                    "--format",
                    "raw",
                    "--output",
                    str(raw),
                    "--nonblocking",
                    "--duration",
                    str(int(self.args.warmup + self.args.duration)),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        figures = spawn("load", spec, self.args.warmup + self.args.duration + 120)
        result = TargetResult(res.name, workers, target, figures)
        if profiler is not None:
            profiler.wait(60)
            if raw.is_file():
                result.profile = [f"py-spy: {raw}", *_profile_summary(raw)]
        return result

    def check(self, res: BackendResult, r: TargetResult) -> None:
        if r.target not in COMPSTAT_TARGETS:
            return
        f = r.figures
        kind = "target" if res.name == "sqlite" else "info"
        p95 = f["p95_ms"] if f["p95_ms"] is not None else float("inf")
        r.checks = [
            {
                "kind": kind,
                "what": f"p95 <= {TARGET_P95_MS:g} ms",
                "measured": f"{p95:,.1f} ms",
                "ok": p95 <= TARGET_P95_MS,
            },
            {
                "kind": kind,
                "what": f">= {TARGET_RPS:g} requests/s",
                "measured": f"{f['rps']:,.1f}",
                "ok": f["rps"] >= TARGET_RPS,
            },
            {
                "kind": kind,
                "what": "no errors",
                "measured": f"{f['errors']:,}",
                "ok": f["errors"] == 0,
            },
        ]

    def after_import(self, res: BackendResult, port: int, bearer: dict[str, str]) -> dict[str, Any]:
        """Re-import the Baltimore file while the server runs; the next report rebuilds."""
        log("  re-importing the Baltimore file (moves the imports ledger) while serving")
        t0 = time.perf_counter()
        proc = subprocess.run(
            [
                str(CLI),
                "--db",
                res.url,
                "--timezone",
                TIMEZONE,
                "--json",
                "import",
                "baltimore-part1",
                str(BALTIMORE),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=self.args.timeout,
        )
        if proc.returncode != 0:
            raise StepError(f"re-import failed ({proc.returncode}): {proc.stderr[-500:]}")
        reimport_s = time.perf_counter() - t0
        first = request(port, "GET", "/api/compstat", headers=bearer)
        second = request(port, "GET", "/api/compstat?district=NORTHERN", headers=bearer)
        if first.status != 200 or second.status != 200:
            raise StepError(f"after the re-import: statuses {first.status}, {second.status}")
        log(
            f"  re-import {reimport_s:.1f} s; next /api/compstat {first.ms:,.0f} ms "
            f"(summary rebuild), the one after {second.ms:,.0f} ms"
        )
        return {
            "reimport_s": reimport_s,
            "after_import_first_ms": first.ms,
            "after_import_second_ms": second.ms,
        }

    # ------------------------------------------------------------------------- run

    def run(self) -> None:
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        for needed in (BALTIMORE, DISTRICTS):
            if not needed.is_file():
                raise SystemExit(f"real data file not found: {needed}")
        self.workers_supported = serve_has_workers()
        log(f"- serve --workers: {'yes' if self.workers_supported else 'no (1 process)'}")
        synthetic = self.synthetic_file()
        key = self.db_key()
        for name in ("sqlite", "postgresql"):
            res = BackendResult(name)
            self.backends.append(res)
            if name == "postgresql" and self.args.skip_pg:
                res.status, res.reason = "skipped", "--skip-pg"
                continue
            pg_name: str | None = None
            db: Path | None = None
            try:
                if name == "sqlite":
                    db = self.sqlite_db(res, key, synthetic)
                else:
                    pg_name = self.pg_db(res, key, synthetic)
                    if pg_name is None:
                        log(f"- postgresql: skipped: {res.reason}")
                        continue
                self.run_backend(res)
            except StepError as exc:
                res.status, res.reason = "error", str(exc)
                log(f"  ERROR {name}: {exc}")
            finally:
                if not self.args.keep:
                    if db is not None:
                        for p in (
                            db,
                            db.with_suffix(".json"),
                            Path(f"{db}-wal"),
                            Path(f"{db}-shm"),
                        ):
                            p.unlink(missing_ok=True)
                    if pg_name is not None:
                        spawn(
                            "pg",
                            {"url": self.args.postgres_url, "op": "drop", "name": pg_name},
                            120,
                        )
                        (OUT_DIR / f"compstat-pg-{key}.json").unlink(missing_ok=True)


def _other(f: dict[str, Any]) -> float:
    """Cores busy with anything but the server, PostgreSQL and the load client."""
    used = f["server_cores"] + f["db_cores"] + f["client_cores"]
    return max(0.0, f["machine_cores"] - used)


def _print_target(r: TargetResult) -> None:
    f = r.figures
    ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "-"
    print(
        f"  {r.backend:<10} w{r.workers} {r.target:<14} {f['requests']:>7,} req "
        f"{f['errors']:>5,} err {f['rps']:>8,.1f} req/s  p50 {_ms(f['p50_ms']):>8} "
        f"p95 {_ms(f['p95_ms']):>8} p99 {_ms(f['p99_ms']):>8} ms  ratio {ratio:>6}  "
        f"cores: server {f['server_cores']:.2f} db {f['db_cores']:.2f} "
        f"client {f['client_cores']:.2f} other {_other(f):.2f}",
        flush=True,
    )
    bad = {k: v for k, v in f["statuses"].items() if k != "200"}
    if bad:
        print(f"      non-200: {bad}", flush=True)
    for c in r.checks:
        verdict = (
            ("PASS" if c["ok"] else "MISS")
            if c["kind"] == "target"
            else ("ok" if c["ok"] else "over")
        )
        print(
            f"      {verdict:<4} {c['what']}: {c['measured']}"
            + ("" if c["kind"] == "target" else " (info)"),
            flush=True,
        )
    for line in r.profile:
        print(f"      {line}", flush=True)


def _report(bench: Bench) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 170)
    print()
    for res in bench.backends:
        if res.status == "skipped":
            print(f"{res.name}: SKIPPED ({res.reason})")
            continue
        if res.status == "error":
            print(f"{res.name}: ERROR ({res.reason})")
        b = res.build or {}
        how = "reused" if res.reused else f"built in {b.get('wall_seconds', 0):.0f} s"
        imports = ", ".join(
            f"{i['file']} {i['rows_read']:,} rows -> {i['incidents'] or 0:,} incidents "
            f"in {i['seconds']:.1f} s"
            for i in b.get("imports", [])
        )
        print(
            f"{res.name}: {res.incidents:,} incidents ({how}: {imports}); "
            f"summary tables built in {b.get('summary_seconds', 0):.1f} s after the bulk import"
        )
        for run in res.runs:
            parts = [f"  {run['workers']} worker(s): start-up {run.get('startup_s', 0):.1f} s"]
            if "first_api_ms" in run:
                parts.append(f"first /api/compstat {run['first_api_ms']:,.0f} ms (cold cache)")
                parts.append(
                    f"first /compstat {run['first_page_ms']:,.0f} ms "
                    f"({run['page_bytes'] / 1024:,.0f} KiB)"
                )
            if "after_import_first_ms" in run:
                parts.append(
                    f"after a re-import ({run['reimport_s']:.1f} s): first /api/compstat "
                    f"{run['after_import_first_ms']:,.0f} ms (summary rebuild), next "
                    f"{run['after_import_second_ms']:,.0f} ms"
                )
            print("; ".join(parts))
    table = Table(title="Compstat under load", title_justify="left")
    for col in (
        "backend",
        "w",
        "target",
        "requests",
        "errors",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "ratio",
        "cpu srv",
        "cpu db",
        "cpu cli",
        "other",
        "targets",
    ):
        table.add_column(
            col, justify="left" if col in ("backend", "target", "targets") else "right"
        )
    for res in bench.backends:
        for r in res.targets:
            f = r.figures
            verdicts = []
            for c in r.checks:
                tag = (
                    ("[green]PASS[/]" if c["ok"] else "[red]MISS[/]")
                    if c["kind"] == "target"
                    else ("ok" if c["ok"] else "[yellow]over[/]")
                )
                verdicts.append(tag)
            table.add_row(
                r.backend,
                str(r.workers),
                r.target,
                f"{f['requests']:,}",
                f"{f['errors']:,}",
                f"{f['rps']:,.1f}",
                _ms(f["p50_ms"]),
                _ms(f["p95_ms"]),
                _ms(f["p99_ms"]),
                f"{r.ratio:.2f}" if r.ratio is not None else "-",
                f"{f['server_cores']:.2f}",
                f"{f['db_cores']:.2f}",
                f"{f['client_cores']:.2f}",
                f"{_other(f):.2f}",
                " ".join(verdicts),
            )
    console.print(table)
    print(
        "targets: p95, requests/s, errors; 'ratio' = req/s / healthz req/s; cpu in cores "
        f"of {os.cpu_count()}: server process tree, PostgreSQL processes, load client, and "
        "'other' = everything else busy on the machine (> 0.2 means the figures shared it)"
    )


def _write_json(path: Path, bench: Bench, started: datetime) -> None:
    data = {
        "started": started.isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "settings": {
            "duration": bench.args.duration,
            "warmup": bench.args.warmup,
            "concurrency": bench.args.concurrency,
            "synthetic_rows": bench.args.synthetic_rows,
        },
        "synthetic": bench.synth,
        "backends": [
            {**asdict(res), "targets": [asdict(t) for t in res.targets]} for res in bench.backends
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    print(f"figures written to {path}")


def run_parent(args: argparse.Namespace) -> int:
    args.targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        raise SystemExit(f"unknown target(s) {unknown}; known: {', '.join(TARGETS)}")
    if BASELINE not in args.targets:
        args.targets.insert(0, BASELINE)
    started = datetime.now(UTC)
    print(
        f"compstat benchmark | python {platform.python_version()}, {os.cpu_count()} CPUs | "
        f"{args.concurrency} connections, {args.warmup:g} s warm-up + {args.duration:g} s "
        f"per target | synthetic incidents >= {args.synthetic_rows:,}",
        flush=True,
    )
    bench = Bench(args)
    bench.run()
    _report(bench)
    if args.json:
        _write_json(Path(args.json), bench, started)
    errors = [b for b in bench.backends if b.status == "error"]
    missed = [
        c
        for b in bench.backends
        for r in b.targets
        for c in r.checks
        if c["kind"] == "target" and not c["ok"]
    ]
    if errors:
        print(f"{len(errors)} backend(s) failed")
        return 1
    if missed:
        print(
            f"{len(missed)} target(s) missed" + ("" if args.strict else " (not --strict: exit 0)")
        )
        return 1 if args.strict else 0
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Compstat load benchmark (see the module docstring).")
    p.add_argument("--skip-pg", action="store_true", help="SQLite only")
    p.add_argument("--duration", type=float, default=20.0, help="measured seconds per target")
    p.add_argument("--warmup", type=float, default=3.0, help="discarded seconds per target")
    p.add_argument("--concurrency", type=int, default=16, help="concurrent connections")
    p.add_argument("--keep", action="store_true", help="keep the databases and reuse them")
    p.add_argument(
        "--synthetic-rows", type=int, default=1_000_000, help="synthetic incidents (at least)"
    )
    p.add_argument("--targets", default=",".join(TARGETS), help=f"of: {', '.join(TARGETS)}")
    p.add_argument(
        "--postgres-url",
        default=os.environ.get("SMART_BENCH_POSTGRES_URL") or DEFAULT_PG_URL,
        help="PostgreSQL server; a bench database is made on it (default: %(default)s)",
    )
    p.add_argument("--profile", action="store_true", help="py-spy the server per Compstat target")
    p.add_argument("--json", metavar="OUT", help="also write the figures to OUT as JSON")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per build step")
    p.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_child(args.child) if args.child else run_parent(args)


if __name__ == "__main__":
    sys.exit(main())
