"""What every sub-command module of the command line shares.

The root command (``smart_policing.cli``) parses the global options into a context
object; capability modules (``compstat.cli``, ``triage.*_cli``) reach it through
:func:`root_context` and print through :func:`emit`, so ``--json`` and error exits
behave the same everywhere: JSON on standard output, messages on standard error,
exit status 2 for unusable input.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Protocol, runtime_checkable

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from smart_policing.settings import Settings

__all__ = [
    "CallFormatOpt",
    "CallsFileArg",
    "EndDateOpt",
    "FromDbOpt",
    "JsonOpt",
    "RootContext",
    "StartDateOpt",
    "emit",
    "err",
    "fail",
    "out",
    "parse_day",
    "root_context",
]

err = Console(stderr=True, soft_wrap=True)
out = Console()


@runtime_checkable
class RootContext(Protocol):
    """What the root command's context object offers (smart_policing.cli.Context)."""

    settings: Settings
    as_json: bool

    def engine(self, *, migrate: bool = True) -> Engine: ...


def root_context(ctx: typer.Context, as_json: bool) -> RootContext:
    """The root command's context; a command's own ``--json`` turns JSON on too."""
    obj = ctx.find_root().obj
    assert isinstance(obj, RootContext), "run through the smart-policing root command"
    obj.as_json = obj.as_json or as_json
    return obj


def emit(c: RootContext, data: Any, human: str | Table) -> None:
    """Print ``data`` as JSON (``--json``) or the human form."""
    if c.as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
    else:
        out.print(human)


def fail(message: str) -> typer.Exit:
    """Say what is wrong on standard error; raise the result (exit status 2)."""
    err.print(f"[red]error:[/] {message}")
    return typer.Exit(2)


JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON (as the global --json).")
]


def parse_day(value: str | None, option: str) -> date | None:
    """A ``YYYY-MM-DD`` option value as a date (``None`` stays ``None``); exit 2 naming
    the option otherwise."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise fail(f"{option} {value!r} is not a date (YYYY-MM-DD)") from exc


# options shared by the commands that read calls from a CAD file or from the store
CallsFileArg = Annotated[
    Path | None, typer.Argument(help="CAD export (plain or gzip CSV).", show_default=False)
]
CallFormatOpt = Annotated[str, typer.Option("--format", help="Built-in call format of FILE.")]
FromDbOpt = Annotated[bool, typer.Option("--from-db", help="Read the stored calls instead.")]
StartDateOpt = Annotated[
    datetime | None, typer.Option("--start", formats=["%Y-%m-%d"], help="First local date.")
]
EndDateOpt = Annotated[
    datetime | None,
    typer.Option("--end", formats=["%Y-%m-%d"], help="Last local date, inclusive."),
]
