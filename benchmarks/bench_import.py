"""Import throughput benchmark: rows/s and peak memory of ``import_file``.

What is measured
----------------
Each case imports one file with :func:`smart_policing.data.import_file` into a fresh
store and reports

* the summary's counts (read, inserted, duplicates, rejected), checking
  ``read == inserted + duplicates + rejected``;
* the wall seconds of the ``import_file`` call alone (interpreter start-up, module
  imports, engine creation and schema migration are timed apart and excluded) and
  ``rows read / wall seconds``;
* the CPU seconds of the import (user + system, all threads), to show parallelism;
* the peak resident set size of the process (``ru_maxrss``);
* the ratio ``import rows/s / bare-csv-read rows/s``, against a baseline measured in
  the same run: the same file read with Python's ``csv`` module (through ``gzip``
  for a ``.gz``), counting rows, nothing parsed or stored. It is the floor of just
  reading the file, so the ratio says how close the import gets to it (1.0 = as
  fast as reading; the importer itself reads with ``csv``, so it cannot exceed ~1).

Cases (targets for the 2-core reference machine in brackets):

``baltimore-sqlite``
    Open Baltimore Part 1 (``../shared/data/baltimore/part1_crime_2012_2015.csv.gz``
    relative to the project root, 193,956 rows) into a fresh SQLite file
    [>= 50,000 rows/s; peak RSS < 1 GiB]. Skipped with a message if the file is absent.
``baltimore-sqlite-reimport``
    The same file again into the same database: everything is a duplicate
    [check: inserted == 0]; reports its rows/s. Runs ``baltimore-sqlite`` first
    when that case is not selected.
``baltimore-postgres``
    The same file into PostgreSQL [>= 50,000 rows/s], when the server at
    ``SMART_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``)
    is reachable (skipped otherwise). A throwaway ``smart_bench_<random>`` database
    is created for the run and dropped afterwards.
``cad-1m``
    A synthetic CAD export of 1,000,000 rows from
    ``smart_policing.data.synth.generate_cad_calls(n, seed=0)`` into a fresh SQLite
    file [whole import < 60 s; peak RSS < 1 GiB]. The generated file is cached in
    ``bench-out/`` by row count and seed, so reruns do not regenerate it. With
    ``--cad-rows N`` the time target is scaled to ``60 s * N / 1,000,000``.

A target missed prints MISS; the exit status is still 0 unless ``--strict`` (a case
that crashes or breaks the row accounting always exits 1; a skipped case does not).

How
---
Every measurement (each case and each baseline) runs in its own subprocess,
``sys.executable benchmarks/bench_import.py --case NAME ...``, which prints its
figures as one JSON line on stdout; so each peak RSS is that case's alone. Scratch
SQLite files go to a temporary folder under ``bench-out/`` that is removed at the end.

How to run
----------
::

    make bench                                               # all cases
    .venv/bin/python benchmarks/bench_import.py --cases baltimore-sqlite,cad-1m
    .venv/bin/python benchmarks/bench_import.py --cad-rows 100000   # a quick run
    .venv/bin/python benchmarks/bench_import.py --json bench-out/import.json --strict
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import gzip
import json
import os
import platform
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(__file__).resolve()
OUT_DIR = ROOT / "bench-out"
BALTIMORE = (ROOT / "../shared/data/baltimore/part1_crime_2012_2015.csv.gz").resolve()
BALTIMORE_ROWS = 193_956
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
TIMEZONE = "America/New_York"
GIB = 1 << 30

CASES = ("baltimore-sqlite", "baltimore-sqlite-reimport", "baltimore-postgres", "cad-1m")
CAD_ROWS = 1_000_000
CAD_SECONDS = 60.0
MIN_ROWS_PER_SECOND = 50_000.0


# --------------------------------------------------------------------------- child side


def _peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024  # Linux: KiB


def _open_text(path: Path) -> IO[str]:
    with path.open("rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    if gz:
        return gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="")
    return path.open(encoding="utf-8", errors="replace", newline="")


def child_csv_read(path: Path) -> dict[str, Any]:
    """The baseline: read every row with ``csv.reader`` and count them."""
    started = time.perf_counter()
    rows = 0
    with _open_text(path) as text:
        for _row in csv.reader(text):
            rows += 1
    seconds = time.perf_counter() - started
    rows = max(rows - 1, 0)  # the header
    return {"rows": rows, "seconds": seconds, "rows_per_second": rows / seconds}


def _import(url: str, path: Path, fmt: str) -> dict[str, Any]:
    from smart_policing.data import builtin_mapping, import_file
    from smart_policing.store import make_engine, upgrade

    t0 = time.perf_counter()
    engine = make_engine(url)
    upgrade(engine)
    spec = builtin_mapping(fmt)
    setup = time.perf_counter() - t0
    try:
        cpu0 = time.process_time()
        t1 = time.perf_counter()
        summary = import_file(engine, path, spec, timezone=TIMEZONE)
        seconds = time.perf_counter() - t1
        cpu = time.process_time() - cpu0
    finally:
        engine.dispose()
    read, ins, dup, rej = summary.rows_read, summary.inserted, summary.duplicates, summary.rejected
    if read != ins + dup + rej:
        raise AssertionError(f"accounting broken: read {read} != {ins} + {dup} + {rej}")
    return {
        "status": summary.status,
        "rows_read": read,
        "inserted": ins,
        "duplicates": dup,
        "rejected": rej,
        "flagged": summary.flagged,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "summary_seconds": summary.seconds,
        "rows_per_second": read / seconds,
        "setup_seconds": setup,
    }


def _pg_admin_connect(url: str) -> Any:
    """An autocommit connection to the server: the given database, else ``postgres``."""
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


def child_postgres(url: str, path: Path) -> dict[str, Any]:
    from sqlalchemy.engine import make_url

    try:
        admin = _pg_admin_connect(url)
    except ConnectionError as exc:
        return {"status": "skipped", "reason": f"PostgreSQL not reachable at {url} ({exc})"}
    name = f"smart_bench_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        bench_url = make_url(url).set(database=name).render_as_string(hide_password=False)
        result = _import(bench_url, path, "baltimore-part1")
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    result["database"] = name
    return result


def child_generate_cad(n: int, seed: int, path: Path) -> dict[str, Any]:
    from smart_policing.data.synth import generate_cad_calls

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    started = time.perf_counter()
    try:
        generate_cad_calls(n_calls=n, seed=seed, path=tmp)
        tmp.replace(path)  # atomic: an interrupted run leaves no half file in the cache
    finally:
        tmp.unlink(missing_ok=True)
    return {"seconds": time.perf_counter() - started, "bytes": path.stat().st_size}


def run_child(args: argparse.Namespace) -> int:
    """``--case NAME``: measure one thing, print one JSON line on stdout."""
    out = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):  # keep stdout for the JSON line
        path = Path(args.file)
        if args.case == "csv-read":
            result = child_csv_read(path)
        elif args.case == "generate-cad":
            result = child_generate_cad(args.cad_rows, args.cad_seed, path)
        elif args.case == "postgres":
            result = child_postgres(args.postgres_url, path)
        elif args.case == "sqlite":
            result = _import(f"sqlite:///{Path(args.db).resolve()}", path, args.format)
        else:
            raise SystemExit(f"unknown child case {args.case!r}")
    result["peak_rss_bytes"] = _peak_rss_bytes()
    out.write(json.dumps(result) + "\n")
    out.flush()
    return 0


# -------------------------------------------------------------------------- parent side


class ChildError(RuntimeError):
    """A measuring subprocess failed."""


def spawn(case: str, timeout: float, **options: Any) -> dict[str, Any]:
    """Run ``bench_import.py --case CASE`` in a fresh interpreter and return its JSON."""
    cmd = [sys.executable, str(SCRIPT), "--case", case]
    for key, value in options.items():
        cmd += [f"--{key.replace('_', '-')}", str(value)]
    try:
        proc = subprocess.run(
            cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise ChildError(f"{case}: no result after {timeout:.0f} s") from None
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0 or not lines:
        raise ChildError(f"{case}: subprocess exited with status {proc.returncode} (see stderr)")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


@dataclass
class Check:
    target: str
    measured: str
    ok: bool


@dataclass
class CaseResult:
    name: str
    label: str
    status: str = "ok"  # ok | skipped | error
    reason: str = ""
    figures: dict[str, Any] = field(default_factory=dict)
    baseline: dict[str, Any] | None = None
    checks: list[Check] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        if self.status != "ok" or not self.baseline:
            return None
        return float(self.figures["rows_per_second"]) / float(self.baseline["rows_per_second"])


def _mib(n: int | float) -> str:
    return f"{n / (1 << 20):,.0f} MiB"


def _rate(x: float) -> str:
    return f"{x:,.0f} rows/s"


def _rss_check(res: CaseResult) -> None:
    rss = res.figures["peak_rss_bytes"]
    res.checks.append(Check("peak RSS < 1 GiB", _mib(rss), rss < GIB))


def _rate_check(res: CaseResult) -> None:
    rate = res.figures["rows_per_second"]
    res.checks.append(
        Check(f">= {MIN_ROWS_PER_SECOND:,.0f} rows/s", _rate(rate), rate >= MIN_ROWS_PER_SECOND)
    )


def _rows_check(res: CaseResult, expected: int) -> None:
    got = res.figures["rows_read"]
    res.checks.append(Check(f"rows read == {expected:,}", f"{got:,}", got == expected))


def _print_case(res: CaseResult) -> None:
    if res.status == "skipped":
        print(f"  SKIP {res.label}: {res.reason}", flush=True)
        return
    if res.status == "error":
        print(f"  ERROR {res.label}: {res.reason}", flush=True)
        return
    f = res.figures
    ratio = f"{res.ratio:.2f}x bare csv read" if res.ratio is not None else "no baseline"
    print(
        f"  {res.label}: read {f['rows_read']:,} = inserted {f['inserted']:,} + duplicates "
        f"{f['duplicates']:,} + rejected {f['rejected']:,} in {f['seconds']:.2f} s "
        f"(cpu {f['cpu_seconds']:.2f} s): {_rate(f['rows_per_second'])}, "
        f"peak RSS {_mib(f['peak_rss_bytes'])}, {ratio}",
        flush=True,
    )
    for c in res.checks:
        print(f"    {'PASS' if c.ok else 'MISS'}  {c.target}: {c.measured}", flush=True)


class Bench:
    def __init__(self, args: argparse.Namespace, scratch: Path) -> None:
        self.args = args
        self.scratch = scratch
        self.baselines: dict[Path, dict[str, Any] | str] = {}
        self.results: list[CaseResult] = []
        self.baltimore_db: Path | None = None
        self.cad_generation: dict[str, Any] | None = None

    def baseline(self, path: Path) -> dict[str, Any] | None:
        """Bare ``csv`` read of ``path`` (measured once per file per run)."""
        if path not in self.baselines:
            print(f"- baseline: bare csv read of {path.name}", flush=True)
            try:
                got = spawn("csv-read", self.args.timeout, file=path)
                print(
                    f"  {got['rows']:,} rows in {got['seconds']:.2f} s: "
                    f"{_rate(got['rows_per_second'])}, peak RSS {_mib(got['peak_rss_bytes'])}",
                    flush=True,
                )
                self.baselines[path] = got
            except ChildError as exc:
                print(f"  ERROR baseline: {exc}", flush=True)
                self.baselines[path] = str(exc)
        b = self.baselines[path]
        return b if isinstance(b, dict) else None

    def run_case(self, name: str) -> CaseResult:
        label = name
        if name == "cad-1m" and self.args.cad_rows != CAD_ROWS:
            label = f"cad-1m ({self.args.cad_rows:,} rows)"
        res = CaseResult(name, label)
        print(f"- {label}", flush=True)
        try:
            getattr(self, "_case_" + name.replace("-", "_"))(res)
        except ChildError as exc:
            res.status, res.reason = "error", str(exc)
        _print_case(res)
        self.results.append(res)
        return res

    def _baltimore_present(self, res: CaseResult) -> bool:
        if BALTIMORE.is_file():
            return True
        res.status, res.reason = "skipped", f"real data file not found: {BALTIMORE}"
        return False

    def _case_baltimore_sqlite(self, res: CaseResult) -> None:
        if not self._baltimore_present(res):
            return
        res.baseline = self.baseline(BALTIMORE)
        db = self.scratch / "baltimore.db"
        print(f"  importing into fresh SQLite {db}", flush=True)
        res.figures = spawn(
            "sqlite", self.args.timeout, file=BALTIMORE, db=db, format="baltimore-part1"
        )
        self.baltimore_db = db
        _rows_check(res, BALTIMORE_ROWS)
        _rate_check(res)
        _rss_check(res)

    def _case_baltimore_sqlite_reimport(self, res: CaseResult) -> None:
        if not self._baltimore_present(res):
            return
        if self.baltimore_db is None:
            print("  (needs the first import: running baltimore-sqlite)", flush=True)
            first = self.run_case("baltimore-sqlite")
            if self.baltimore_db is None or first.status != "ok":
                res.status, res.reason = "skipped", "the first import did not run"
                return
        res.baseline = self.baseline(BALTIMORE)
        print(f"  re-importing into the same database {self.baltimore_db}", flush=True)
        res.figures = spawn(
            "sqlite",
            self.args.timeout,
            file=BALTIMORE,
            db=self.baltimore_db,
            format="baltimore-part1",
        )
        ins = res.figures["inserted"]
        res.checks.append(Check("re-import inserts 0", f"inserted {ins:,}", ins == 0))

    def _case_baltimore_postgres(self, res: CaseResult) -> None:
        if not self._baltimore_present(res):
            return
        res.baseline = self.baseline(BALTIMORE)
        print(f"  importing into a throwaway database on {self.args.postgres_url}", flush=True)
        figures = spawn(
            "postgres", self.args.timeout, file=BALTIMORE, postgres_url=self.args.postgres_url
        )
        if figures.get("status") == "skipped":
            res.status, res.reason, res.baseline = "skipped", figures["reason"], None
            return
        res.figures = figures
        _rows_check(res, BALTIMORE_ROWS)
        _rate_check(res)

    def _cad_file(self) -> Path:
        n, seed = self.args.cad_rows, self.args.cad_seed
        path = OUT_DIR / f"synthetic_cad_n{n}_seed{seed}.csv"
        if path.is_file():
            print(f"  cached synthetic file {path} ({_mib(path.stat().st_size)})", flush=True)
            return path
        print(f"  generating {n:,} synthetic CAD rows (seed {seed}) into {path}", flush=True)
        gen = spawn("generate-cad", self.args.timeout, file=path, cad_rows=n, cad_seed=seed)
        print(f"  generated {_mib(gen['bytes'])} in {gen['seconds']:.1f} s", flush=True)
        self.cad_generation = gen
        return path

    def _case_cad_1m(self, res: CaseResult) -> None:
        n = self.args.cad_rows
        path = self._cad_file()
        res.baseline = self.baseline(path)
        db = self.scratch / "cad.db"
        print(f"  importing into fresh SQLite {db}", flush=True)
        res.figures = spawn("sqlite", self.args.timeout, file=path, db=db, format="cad")
        secs = res.figures["seconds"]
        limit = CAD_SECONDS * n / CAD_ROWS
        scaled = "" if n == CAD_ROWS else " (scaled)"
        _rows_check(res, n)
        res.checks.append(Check(f"import < {limit:,.1f} s{scaled}", f"{secs:.1f} s", secs < limit))
        _rss_check(res)


def _table(results: list[CaseResult]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 150)
    figures = Table(title="Import benchmark", title_justify="left")
    for col in ("case", "read", "inserted", "dup.", "rej.", "import s", "cpu s", "rows/s"):
        figures.add_column(col, justify="left" if col == "case" else "right")
    for col in ("bare read rows/s", "ratio", "peak RSS"):
        figures.add_column(col, justify="right")
    for r in results:
        if r.status != "ok":
            figures.add_row(r.label, f"[yellow]{r.status}[/]", *[""] * 9)
            continue
        f, b = r.figures, r.baseline
        figures.add_row(
            r.label,
            f"{f['rows_read']:,}",
            f"{f['inserted']:,}",
            f"{f['duplicates']:,}",
            f"{f['rejected']:,}",
            f"{f['seconds']:.2f}",
            f"{f['cpu_seconds']:.2f}",
            f"{f['rows_per_second']:,.0f}",
            f"{b['rows_per_second']:,.0f}" if b else "-",
            f"{r.ratio:.2f}" if r.ratio is not None else "-",
            _mib(f["peak_rss_bytes"]),
        )
    console.print(figures)

    targets = Table(title="Targets", title_justify="left")
    for col in ("case", "target", "measured", "result"):
        targets.add_column(col)
    for r in results:
        if r.status != "ok":
            targets.add_row(r.label, "-", r.reason, f"[yellow]{r.status.upper()}[/]")
        for c in r.checks:
            verdict = "[green]PASS[/]" if c.ok else "[red]MISS[/]"
            targets.add_row(r.label, c.target, c.measured, verdict)
    console.print(targets)


def _write_json(path: Path, bench: Bench, started: datetime) -> None:
    data = {
        "started": started.isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "cad_rows": bench.args.cad_rows,
        "cad_seed": bench.args.cad_seed,
        "cad_generation": bench.cad_generation,
        "cases": [
            {
                "name": r.name,
                "label": r.label,
                "status": r.status,
                "reason": r.reason or None,
                **r.figures,
                "baseline": r.baseline,
                "ratio_to_bare_read": r.ratio,
                "checks": [asdict(c) for c in r.checks],
            }
            for r in bench.results
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"figures written to {path}")


@contextlib.contextmanager
def _scratch(keep: bool) -> Iterator[Path]:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="import-", dir=OUT_DIR))
    try:
        yield scratch
    finally:
        if keep:
            print(f"scratch databases kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def run_parent(args: argparse.Namespace) -> int:
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        raise SystemExit(f"unknown case(s) {unknown}; known: {', '.join(CASES)}")
    started = datetime.now(UTC)
    print(
        f"import benchmark: {', '.join(cases)} | python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs",
        flush=True,
    )
    with _scratch(args.keep) as scratch:
        bench = Bench(args, scratch)
        for name in cases:
            if not any(r.name == name for r in bench.results):
                bench.run_case(name)
    print()
    _table(bench.results)
    if args.json:
        _write_json(Path(args.json), bench, started)
    errors = [r for r in bench.results if r.status == "error"]
    missed = [c for r in bench.results for c in r.checks if not c.ok]
    if errors:
        print(f"{len(errors)} case(s) failed to run")
        return 1
    if missed:
        print(
            f"{len(missed)} target(s) missed" + ("" if args.strict else " (not --strict: exit 0)")
        )
        return 1 if args.strict else 0
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Import throughput benchmark (see the module docstring).",
    )
    p.add_argument("--cases", default=",".join(CASES), help=f"comma-separated: {', '.join(CASES)}")
    p.add_argument("--cad-rows", type=int, default=CAD_ROWS, help="rows in the synthetic CAD file")
    p.add_argument("--cad-seed", type=int, default=0, help="seed of the synthetic CAD file")
    p.add_argument(
        "--postgres-url",
        default=os.environ.get("SMART_TEST_POSTGRES_URL") or DEFAULT_PG_URL,
        help="PostgreSQL server (default: $SMART_TEST_POSTGRES_URL or %(default)s)",
    )
    p.add_argument("--json", metavar="OUT", help="also write the figures to OUT as JSON")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    p.add_argument("--keep", action="store_true", help="keep the scratch SQLite databases")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per subprocess")
    # Internal: one measurement in this process (used by the parent).
    p.add_argument("--case", help=argparse.SUPPRESS)
    p.add_argument("--file", help=argparse.SUPPRESS)
    p.add_argument("--db", help=argparse.SUPPRESS)
    p.add_argument("--format", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_child(args) if args.case else run_parent(args)


if __name__ == "__main__":
    sys.exit(main())
