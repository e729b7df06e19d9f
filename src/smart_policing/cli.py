"""The ``smart-policing`` command line (Typer).

Global options come before the command: ``smart-policing --db URL --json import cad FILE``.
Progress bars go to standard error, so ``--json`` output on standard output stays
machine-readable. Exit status: 0 success, 1 failure while working, 2 unusable input
(unreadable file, wrong columns, invalid mapping) with a message naming what is wrong.
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import Engine

from smart_policing.cli_support import JsonOpt, err
from smart_policing.cli_support import emit as _emit
from smart_policing.compstat import refresh_summary
from smart_policing.compstat.cli import compstat_app
from smart_policing.data.boundaries import import_boundaries
from smart_policing.data.importer import ImportSummary, import_file
from smart_policing.data.mapping import MappingSpec, builtin_mapping, load_mapping
from smart_policing.data.reader import UnusableFileError
from smart_policing.datafiles import DataFileError
from smart_policing.model.boundaries import BoundaryKind
from smart_policing.response.cli import response_app
from smart_policing.response.simulate_cli import simulate_app
from smart_policing.security.roles import STAFF_ROLES, parse_roles
from smart_policing.settings import Settings
from smart_policing.store import current_revision, head_revision, make_engine, upgrade
from smart_policing.store.audit import verify_audit
from smart_policing.store.queries import list_imports, list_rejects, record_counts
from smart_policing.store.users import (
    User,
    UserError,
    add_user,
    create_api_token,
    get_user,
    list_users,
    set_active,
    set_password,
)
from smart_policing.triage.cli import alarms_app, triage_app
from smart_policing.triage.vocabulary_cli import unmapped_after_import
from smart_policing.zones.cli import zones_app

__all__ = ["app", "main"]

app = typer.Typer(
    name="smart-policing",
    help="SMART Policing platform: import, analyse and serve police data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
import_app = typer.Typer(
    help="Import files as published (plain or .gz CSV, GeoJSON).", no_args_is_help=True
)
users_app = typer.Typer(help="User accounts, roles and API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(compstat_app, name="compstat")
app.add_typer(alarms_app, name="alarms")
app.add_typer(triage_app, name="triage")
app.add_typer(response_app, name="response")
app.add_typer(simulate_app, name="simulate")
app.add_typer(zones_app, name="zones")


@dataclass
class Context:
    settings: Settings
    as_json: bool
    _engine: Engine | None = None

    def engine(self, *, migrate: bool = True) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
            if migrate:
                upgrade(self._engine)
        return self._engine

    def close(self) -> None:
        """Release the engine's connections when the command ends."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


@app.callback()
def _main(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database URL (sqlite:///file.db or postgresql://...). Env: SMART_DATABASE_URL.",
        ),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option("--timezone", help="City time zone for local times. Env: SMART_TIMEZONE."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """SMART Policing: Strategic Management & Alternative Response Tactics."""
    try:
        settings = Settings.from_env(database_url=db, timezone=timezone)
    except ValueError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    ctx.obj = obj = Context(settings, as_json)
    ctx.call_on_close(obj.close)


def _ctx(ctx: typer.Context, as_json: bool = False) -> Context:
    obj = ctx.find_root().obj
    assert isinstance(obj, Context)
    obj.as_json = obj.as_json or as_json
    return obj


# ---------------------------------------------------------------- db


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Create or migrate the database schema to this version."""
    c = _ctx(ctx, as_json)
    engine = c.engine(migrate=False)
    before = current_revision(engine)
    upgrade(engine)
    after = current_revision(engine)
    _emit(c, {"from": before, "to": after}, f"database at revision {after} (was {before})")


@db_app.command("current")
def db_current(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Show the database's schema revision and the newest this version ships."""
    c = _ctx(ctx, as_json)
    rev, head = current_revision(c.engine(migrate=False)), head_revision()
    _emit(c, {"current": rev, "head": head}, f"current {rev}, newest {head}")


# ---------------------------------------------------------------- imports

FileArg = Annotated[
    Path, typer.Argument(help="File to import (plain or gzip).", show_default=False)
]
EncodingOpt = Annotated[str, typer.Option("--encoding", help="Text encoding of the file.")]


def _run_import(c: Context, path: Path, spec: MappingSpec, encoding: str, format_name: str) -> None:
    try:
        with Progress(
            TextColumn(f"importing {path.name}"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=c.as_json,
        ) as bar:
            task = bar.add_task("import", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            summary = import_file(
                c.engine(),
                path,
                spec,
                timezone=c.settings.timezone,
                encoding=encoding,
                format_name=format_name,
                progress=progress,
            )
    except UnusableFileError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    if spec.record == "incident" and summary.inserted:
        # bring Compstat's summary up to date now, not in the next page view
        refresh_summary(c.engine(), c.settings)
    data = summary.to_dict()
    if spec.record == "call" and summary.inserted:
        # triage: call-type codes the default map does not know (reported, never guessed)
        data["unmapped_call_types"] = unmapped_after_import(c.engine(), summary.import_id)
    _emit(c, data, _summary_table(summary))


def _summary_table(s: ImportSummary) -> Table:
    table = Table(
        title=f"import #{s.import_id}: {Path(s.file).name} ({s.format})", show_header=False
    )
    table.add_row("read", f"{s.rows_read:,}")
    table.add_row("inserted", f"{s.inserted:,}")
    table.add_row("duplicates", f"{s.duplicates:,}")
    table.add_row(
        "rejected", f"{s.rejected:,}" + ("  (see: smart-policing rejects)" if s.rejected else "")
    )
    if s.incidents_inserted is not None:
        table.add_row("new incidents", f"{s.incidents_inserted:,} (victim rows grouped)")
    table.add_row("flagged", f"{s.flagged:,}")
    for flag, n in s.flags.items():
        table.add_row(f"  {flag}", f"{n:,}")
    for fname, values in s.unmapped.items():
        shown = ", ".join(f"{v!r} x{n}" for v, n in list(values.items())[:8])
        table.add_row(f"unmapped {fname}", shown)
    table.add_row("time", f"{s.seconds:.1f} s ({s.rows_per_second:,.0f} rows/s)")
    return table


@import_app.command("baltimore-part1")
def import_baltimore(
    ctx: typer.Context, file: FileArg, encoding: EncodingOpt = "utf-8", as_json: JsonOpt = False
) -> None:
    """Open Baltimore 'BPD Part 1 Victim Based Crime Data' CSV, as published."""
    _run_import(
        _ctx(ctx, as_json), file, builtin_mapping("baltimore-part1"), encoding, "baltimore-part1"
    )


@import_app.command("cad")
def import_cad(
    ctx: typer.Context, file: FileArg, encoding: EncodingOpt = "utf-8", as_json: JsonOpt = False
) -> None:
    """CAD export with the full timestamp chain; derives and flags response intervals."""
    _run_import(_ctx(ctx, as_json), file, builtin_mapping("cad"), encoding, "cad")


@import_app.command("csv")
def import_csv(
    ctx: typer.Context,
    file: FileArg,
    mapping: Annotated[
        Path, typer.Option("--mapping", help="Mapping file (YAML), see docs/importing.md.")
    ],
    encoding: EncodingOpt = "utf-8",
    as_json: JsonOpt = False,
) -> None:
    """Any city's calls or incidents through a declarative mapping file."""
    try:
        spec = load_mapping(mapping)
    except DataFileError as exc:
        err.print(f"[red]error:[/] invalid mapping:\n{exc}")
        raise typer.Exit(2) from exc
    _run_import(_ctx(ctx, as_json), file, spec, encoding, f"csv:{spec.name}")


@import_app.command("boundaries")
def import_boundaries_cmd(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="GeoJSON FeatureCollection of polygons.")],
    kind: Annotated[BoundaryKind, typer.Option("--kind", help="What the polygons are.")],
    name: Annotated[str, typer.Option("--name", help="Layer name, e.g. bpd-districts-2019.")],
    name_field: Annotated[
        str | None, typer.Option("--name-field", help="Property naming each feature.")
    ] = None,
    crs: Annotated[
        str | None, typer.Option("--crs", help="CRS of the file if it does not declare one.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """District, beat or zone polygons (GeoJSON in any declared CRS)."""
    c = _ctx(ctx, as_json)
    try:
        s = import_boundaries(
            c.engine(), file, kind=kind, layer=name, name_field=name_field, crs=crs
        )
    except UnusableFileError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    _emit(
        c,
        s.to_dict(),
        f"layer {s.layer} ({s.kind}, from {s.source_crs}): read {s.rows_read} = "
        f"inserted {s.inserted} + duplicates {s.duplicates} + rejected {s.rejected}; "
        f"repaired {s.repaired}",
    )


@app.command("imports")
def imports_cmd(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """List recent imports with their counts."""
    c = _ctx(ctx, as_json)
    rows = list_imports(c.engine(), limit)
    table = Table(
        "id", "format", "file", "status", "read", "inserted", "dup", "rejected", "flagged"
    )
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["format"],
            r["file_name"],
            r["status"],
            *(
                f"{r[k]:,}"
                for k in (
                    "rows_read",
                    "rows_inserted",
                    "rows_duplicate",
                    "rows_rejected",
                    "rows_flagged",
                )
            ),
        )
    _emit(c, rows, table)


@app.command("rejects")
def rejects_cmd(
    ctx: typer.Context,
    import_id: Annotated[int | None, typer.Option("--import", help="Only this import id.")] = None,
    file: Annotated[str | None, typer.Option("--file", help="Only this file name.")] = None,
    limit: Annotated[int, typer.Option(help="Rows per page.")] = 50,
    offset: Annotated[int, typer.Option(help="Skip this many.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Rows rejected by imports: file, line, columns, reason and the raw line."""
    c = _ctx(ctx, as_json)
    total, rows = list_rejects(
        c.engine(), import_id=import_id, file_name=file, limit=limit, offset=offset
    )
    table = Table("import", "file", "line", "columns", "reason", title=f"{total:,} rejected rows")
    for r in rows:
        table.add_row(
            str(r["import_id"]),
            r["file_name"],
            str(r["line_number"]),
            r["fields"] or "",
            r["reason"],
        )
    _emit(c, {"total": total, "rows": rows}, table)


@app.command("stats")
def stats_cmd(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Record counts in the database."""
    c = _ctx(ctx, as_json)
    counts = record_counts(c.engine())
    table = Table("records", "rows")
    for k, v in counts.items():
        table.add_row(k, f"{v:,}")
    _emit(c, counts, table)


# ---------------------------------------------------------------- users and audit


def _read_password(password_stdin: bool, *, confirm: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=confirm))


def _user_json(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "roles": sorted(r.value for r in user.roles),
        "active": user.active,
        "locked_until": user.locked_until,
        "created_at": user.created_at,
        "last_login_at": user.last_login_at,
    }


RoleOpt = Annotated[
    list[str],
    typer.Option(
        "--role",
        help="A role (repeat for several): " + ", ".join(r.value for r in STAFF_ROLES) + ".",
    ),
]
PasswordStdinOpt = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from standard input (scripts)."),
]


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name (letters, digits, . _ - @).")],
    role: RoleOpt,
    full_name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    password_stdin: PasswordStdinOpt = False,
    exist_ok: Annotated[
        bool, typer.Option("--exist-ok", help="Succeed without change if the user exists.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create a user with one or more roles (asks for the password)."""
    c = _ctx(ctx, as_json)
    existing = get_user(c.engine(), username) if exist_ok else None
    if existing is not None:
        _emit(c, _user_json(existing), f"{existing.username} exists; left unchanged")
        return
    try:
        roles = parse_roles(role)
        password = _read_password(password_stdin, confirm=True)
        user = add_user(
            c.engine(),
            username,
            password,
            roles,
            policy=c.settings.security,
            full_name=full_name,
        )
    except (UserError, ValueError) as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    _emit(c, _user_json(user), f"added {user.username} ({', '.join(sorted(role))})")


@users_app.command("list")
def users_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List user accounts (never passwords)."""
    c = _ctx(ctx, as_json)
    users = list_users(c.engine())
    table = Table("user", "name", "roles", "active", "locked until", "last login")
    for u in users:
        table.add_row(
            u.username,
            u.full_name or "",
            ", ".join(sorted(r.value for r in u.roles)),
            "yes" if u.active else "no",
            str(u.locked_until or ""),
            str(u.last_login_at or ""),
        )
    _emit(c, [_user_json(u) for u in users], table)


def _set_active(ctx: typer.Context, username: str, active: bool, as_json: bool) -> None:
    c = _ctx(ctx, as_json)
    try:
        user = set_active(c.engine(), username, active)
    except UserError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    word = "enabled" if active else "disabled (sessions and tokens ended)"
    _emit(c, _user_json(user), f"{user.username} {word}")


@users_app.command("disable")
def users_disable(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name.")],
    as_json: JsonOpt = False,
) -> None:
    """Disable an account and end its sessions and API tokens."""
    _set_active(ctx, username, False, as_json)


@users_app.command("enable")
def users_enable(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name.")],
    as_json: JsonOpt = False,
) -> None:
    """Enable a disabled account."""
    _set_active(ctx, username, True, as_json)


@users_app.command("passwd")
def users_passwd(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name.")],
    password_stdin: PasswordStdinOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Set a new password (also unlocks the account and ends its sessions)."""
    c = _ctx(ctx, as_json)
    try:
        set_password(
            c.engine(),
            username,
            _read_password(password_stdin, confirm=True),
            policy=c.settings.security,
        )
    except UserError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    _emit(c, {"username": username, "password_changed": True}, f"password of {username} changed")


@users_app.command("token")
def users_token(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    days: Annotated[int | None, typer.Option(help="Lifetime in days (policy default 90).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Issue an API bearer token (printed once; only its digest is stored)."""
    c = _ctx(ctx, as_json)
    try:
        token, expires = create_api_token(
            c.engine(), username, name, policy=c.settings.security, days=days
        )
    except UserError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    _emit(c, {"username": username, "token": token, "expires_at": expires}, token)


@audit_app.command("verify")
def audit_verify(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Recompute the audit log's hash chain; exit 1 if any row was altered or removed."""
    c = _ctx(ctx, as_json)
    report = verify_audit(c.engine())
    data = {
        "ok": report.ok,
        "rows": report.rows,
        "head_seq": report.head_seq,
        "head_hash": report.head_hash,
        "first_bad_seq": report.first_bad_seq,
        "reason": report.reason,
    }
    if report.ok:
        human = (
            f"audit log intact: {report.rows:,} rows; head #{report.head_seq} "
            f"{report.head_hash} (record this hash to detect truncation later)"
        )
    else:
        human = (
            f"[red]audit log BROKEN[/] at row #{report.first_bad_seq}: {report.reason} "
            f"({report.rows:,} rows before it verify)"
        )
    _emit(c, data, human)
    if not report.ok:
        raise typer.Exit(1)


# ---------------------------------------------------------------- synthetic city and server


@app.command("synth")
def synth_cmd(
    ctx: typer.Context,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the city into.")],
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed writes the same files.")
    ] = 0,
    years: Annotated[int, typer.Option(help="Whole years of history.")] = 1,
    end_year: Annotated[int, typer.Option(help="Last calendar year of history.")] = 2025,
    calls_per_day: Annotated[float, typer.Option(help="Mean CAD calls per day.")] = 600.0,
    incidents_per_day: Annotated[
        float, typer.Option(help="Mean Part 1 victim rows per day.")
    ] = 120.0,
    as_json: JsonOpt = False,
) -> None:
    """Write a synthetic city in the real formats (Part 1 CSV, CAD CSV, districts GeoJSON)."""
    from smart_policing.data.synth import CityParams, generate_city

    c = _ctx(ctx, as_json)
    params = CityParams(
        seed=seed,
        years=years,
        end_year=end_year,
        timezone=c.settings.timezone,
        calls_per_day=calls_per_day,
        incidents_per_day=incidents_per_day,
    )
    with Progress(
        TextColumn("{task.description}"), BarColumn(), console=err, transient=True
    ) as bar:
        task = bar.add_task("synthetic city", total=1.0)

        def progress(stage: str, fraction: float) -> None:
            bar.update(task, description=stage, completed=fraction)

        manifest = generate_city(params, out_dir, progress=progress)
    data = manifest.to_json()
    shown = {k: v for k, v in data.items() if k not in ("params", "anomaly_rows")}
    _emit(c, data, "\n".join(f"{k}: {v}" for k, v in shown.items()))


@app.command("serve")
def serve_cmd(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Server processes (one per core is typical).")
    ] = 1,
) -> None:
    """Serve the web app and API (http://127.0.0.1:8000 by default)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from smart_policing.api.app import create_app, settle

    c = _ctx(ctx)
    engine = c.engine()  # migrate before serving
    refresh_summary(engine, c.settings)  # the first Compstat view should not pay for it
    c.close()
    if workers == 1:
        uvicorn.run(settle(create_app(c.settings)), host=host, port=port, log_level="info")
        return
    # several processes: each builds its app from the environment
    os.environ["SMART_DATABASE_URL"] = c.settings.database_url
    os.environ["SMART_TIMEZONE"] = c.settings.timezone
    if c.settings.rate_limit_storage == "memory://":
        err.print(
            "[yellow]note:[/] rate limits are counted per process with --workers; "
            "set SMART_RATE_LIMIT_STORAGE=redis://... to share them"
        )
    config = uvicorn.Config(
        "smart_policing.api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )
    # Bind the socket ourselves with protocol IPPROTO_TCP: asyncio only sets TCP_NODELAY
    # on connections of such sockets, and uvicorn's own multi-process socket has
    # protocol 0, which adds a delayed-ACK wait (~40 ms) to every keep-alive request
    # (Kludex/uvicorn#3149).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    Multiprocess(config, sockets=[sock]).run()


def main() -> None:
    """Console-script entry point."""
    app()
