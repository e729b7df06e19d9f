"""``smart-policing triage packs | decide | lint | scenarios``: policy packs from the shell.

::

    smart-policing triage packs [--json]
    smart-policing triage decide --pack NAME|FILE --call CALL.json [--availability F.json] [--json]
    smart-policing triage lint NAME|FILE [--json]
    smart-policing triage scenarios NAME|FILE [--file SCENARIOS.yaml] [--json]

``PACK`` is a shipped pack's name (``triage packs``) or a pack file's path. Exit
status: 0 success; 1 ``lint`` findings or failing scenarios; 2 unusable input (a pack,
call or scenario file with an error, named with file, line and field).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from smart_policing.datafiles import DataFileError, format_validation_error
from smart_policing.triage.cli import triage_app
from smart_policing.triage.engine import CallFacts, decide
from smart_policing.triage.lint import (
    ScenarioSuite,
    builtin_scenarios,
    lint_pack,
    load_scenarios,
    run_scenarios,
)
from smart_policing.triage.pack import Pack, builtin_pack, builtin_packs, resolve_pack

__all__ = ["decide_cmd", "lint_cmd", "packs_cmd", "scenarios_cmd"]

err = Console(stderr=True, soft_wrap=True)
out = Console()

JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON (as the global --json).")
]


def _as_json(ctx: typer.Context, flag: bool) -> bool:
    obj = ctx.find_root().obj
    return flag or bool(getattr(obj, "as_json", False))


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/] {message}", markup=False, highlight=False)
    return typer.Exit(2)


def _pack(name: str) -> Pack:
    try:
        return resolve_pack(name)
    except DataFileError as exc:
        raise _fail(str(exc)) from exc
    except KeyError as exc:
        raise _fail(str(exc.args[0])) from exc


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _fail(f"{path}: cannot read the {what} file: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise _fail(f"{path}, line {exc.lineno}: not valid JSON: {exc.msg}") from exc


@triage_app.command("packs")
def packs_cmd(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the shipped policy packs (name, version, dates, time zone, rules)."""
    rows = []
    for name in builtin_packs():
        p = builtin_pack(name)
        rows.append(
            {
                "name": p.name,
                "version": p.version,
                "effective_from": p.effective_from.isoformat(),
                "effective_to": p.effective_to.isoformat() if p.effective_to else None,
                "timezone": p.timezone,
                "rules": len(p.rules),
                "responders": [r.id for r in p.responders],
            }
        )
    if _as_json(ctx, as_json):
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("name", "version", "effective", "time zone", "rules", title="policy packs")
    for r in rows:
        table.add_row(
            str(r["name"]),
            str(r["version"]),
            f"{r['effective_from']} to {r['effective_to'] or 'open'}",
            str(r["timezone"]),
            str(r["rules"]),
        )
    out.print(table)


@triage_app.command("decide")
def decide_cmd(
    ctx: typer.Context,
    pack: Annotated[str, typer.Option("--pack", help="Shipped pack name or pack file.")],
    call: Annotated[Path, typer.Option("--call", help="The call as JSON (see docs/triage.md).")],
    availability: Annotated[
        Path | None,
        typer.Option(
            "--availability",
            help='JSON object: responder id -> free capacity now, e.g. {"crisis-team": 0}.',
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Decide who answers one call, and print the decision and why."""
    p = _pack(pack)
    raw = _read_json(call, "call")
    try:
        facts = CallFacts.model_validate(raw)
    except ValidationError as exc:
        raise _fail(str(format_validation_error(call, exc, {}))) from exc
    free: dict[str, int] | None = None
    if availability is not None:
        data = _read_json(availability, "availability")
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
            for k, v in data.items()
        ):
            raise _fail(f"{availability}: expected an object of responder id -> integer")
        free = data
    try:
        d = decide(p, facts, free)
    except KeyError as exc:
        raise _fail(f"{availability}: {exc.args[0]}") from exc
    except ValueError as exc:
        raise _fail(f"{call}, field 'answers': {exc}") from exc
    if _as_json(ctx, as_json):
        typer.echo(json.dumps(d.model_dump(mode="json"), indent=2))
        return
    table = Table(show_header=False, title=f"{d.pack} {d.pack_version}")
    table.add_row("responder", f"{d.responder} ({d.responder_kind.value})")
    if d.skipped:
        table.add_row("skipped", ", ".join(f"{s.responder} ({s.why})" for s in d.skipped))
    if d.queued:
        table.add_row("queued", "nobody in the chain is free: waits for the last")
    table.add_row("officer", "yes" if d.officer_sent else "no")
    if d.co_responders:
        table.add_row("co-responders", ", ".join(d.co_responders))
    table.add_row("rule", d.rule)
    table.add_row("reason", d.reason)
    table.add_row("inputs", json.dumps(d.inputs))
    out.print(table)


@triage_app.command("lint")
def lint_cmd(
    ctx: typer.Context,
    pack: Annotated[str, typer.Argument(help="Shipped pack name or pack file.")],
    as_json: JsonOpt = False,
) -> None:
    """Report rules that can never fire (shadowed, contradictory, no hours); exit 1 if any."""
    p = _pack(pack)
    findings = lint_pack(p)
    if _as_json(ctx, as_json):
        rows = [
            {"kind": f.kind, "rule": f.rule, "responder": f.responder, "message": f.message}
            for f in findings
        ]
        typer.echo(json.dumps({"pack": p.name, "findings": rows}, indent=2))
    elif findings:
        for f in findings:
            out.print(f"{p.name}: {f.kind}: {f.message}", markup=False, highlight=False)
    else:
        out.print(f"{p.name}: {len(p.rules)} rules, every one can fire", markup=False)
    if findings:
        raise typer.Exit(1)


@triage_app.command("scenarios")
def scenarios_cmd(
    ctx: typer.Context,
    pack: Annotated[str, typer.Argument(help="Shipped pack name or pack file.")],
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Scenario file (default: the pack's shipped suite)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a scenario suite against a pack; exit 1 if any scenario fails."""
    p = _pack(pack)
    try:
        suite: ScenarioSuite = load_scenarios(file) if file else builtin_scenarios(p.name)
    except DataFileError as exc:
        raise _fail(str(exc)) from exc
    except KeyError as exc:
        raise _fail(f"{exc.args[0]}; pass --file") from exc
    results = run_scenarios(p, suite)
    failed = [r for r in results if not r.passed]
    if _as_json(ctx, as_json):
        doc = {
            "pack": p.name,
            "scenarios": len(results),
            "passed": len(results) - len(failed),
            "failed": [{"id": r.scenario.id, "mismatches": list(r.mismatches)} for r in failed],
        }
        typer.echo(json.dumps(doc, indent=2))
    else:
        for r in failed:
            out.print(f"FAIL {r.scenario.id}: {'; '.join(r.mismatches)}", markup=False)
        out.print(f"{p.name}: {len(results) - len(failed)}/{len(results)} scenarios pass")
    if failed:
        raise typer.Exit(1)
