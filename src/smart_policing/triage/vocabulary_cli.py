"""``smart-policing triage call-types`` and ``smart-policing triage map-check``.

::

    smart-policing triage call-types [--category NAME] [--markdown] [--json]
    smart-policing triage map-check [--map NAME | --map-file F] (FILE.csv | --from-db) [--json]

``map-check`` counts the calls whose agency code the map covers and lists every
code it does not, with its number of calls; the exit status is 1 when anything is
unmapped (0 when all is mapped, 2 for unusable input). A CSV is read as exported
(plain or gzip), codes from ``--code-column`` (default ``Problem``) and agencies
from ``--agency-column`` (default ``Agency``, optional unless named). ``--from-db``
checks the stored calls. After a call import, :func:`unmapped_after_import` prints
the same check for the imported rows.

Registered on :data:`smart_policing.triage.cli.triage_app`; reads the root
command's global ``--db`` / ``--json`` options from the root context.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import Engine

from smart_policing.cli_support import JsonOpt, err, out
from smart_policing.cli_support import emit as _emit
from smart_policing.cli_support import fail as _fail
from smart_policing.cli_support import root_context as _root
from smart_policing.datafiles import DataFileError
from smart_policing.triage.cli import triage_app
from smart_policing.triage.vocabulary import (
    DEFAULT_MAP,
    AgencyMap,
    CallTypeCategory,
    MapCheck,
    builtin_map,
    builtin_map_names,
    load_map,
    load_vocabulary,
    stored_call_type_counts,
)

__all__ = [
    "call_types_cmd",
    "call_types_markdown",
    "map_check_cmd",
    "read_csv_codes",
    "unmapped_after_import",
]


def call_types_markdown(category: CallTypeCategory | None = None) -> str:
    """The canonical call types as a Markdown table (docs/call-types.md embeds it)."""
    lines = ["| id | label | category | APCO/NENA type |", "|---|---|---|---|"]
    lines += [
        f"| `{ct.id}` | {ct.label} | {ct.category.value} | {ct.nena} |"
        for ct in load_vocabulary().call_types
        if category is None or ct.category == category
    ]
    return "\n".join(lines) + "\n"


@triage_app.command("call-types")
def call_types_cmd(
    ctx: typer.Context,
    category: Annotated[
        CallTypeCategory | None, typer.Option("--category", help="Only this category.")
    ] = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print a Markdown table (for docs).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """List the canonical call types (ids that policy packs and maps use)."""
    c = _root(ctx, as_json)
    if markdown and not c.as_json:
        typer.echo(call_types_markdown(category), nl=False)
        return
    types = [
        ct for ct in load_vocabulary().call_types if category is None or ct.category == category
    ]
    table = Table("id", "label", "category", "APCO/NENA type", title=f"{len(types)} call types")
    for ct in types:
        table.add_row(ct.id, ct.label, ct.category.value, ct.nena)
    _emit(c, [ct.model_dump(mode="json") for ct in types], table)


@contextmanager
def _open_text(path: Path, encoding: str) -> Iterator[IO[str]]:
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"  # gzip magic bytes, whatever the name
        raw.seek(0)
        with ExitStack() as stack:
            binary = stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb")) if gzipped else raw
            yield stack.enter_context(
                io.TextIOWrapper(binary, encoding=encoding, errors="replace", newline="")
            )


def _column(header: list[str], name: str) -> int | None:
    wanted = name.strip().casefold()
    for i, h in enumerate(header):
        if h.strip().lstrip("\ufeff").casefold() == wanted:
            return i
    return None


def read_csv_codes(
    path: Path,
    *,
    code_column: str = "Problem",
    agency_column: str | None = "Agency",
    require_agency: bool = False,
    encoding: str = "utf-8",
) -> list[tuple[str | None, str, int]]:
    """``(agency, code, calls)`` of a CSV export (plain or gzip), columns matched
    ignoring case and surrounding spaces; blank codes are skipped.

    Without an agency column (``agency_column=None``, or absent from the file and
    not ``require_agency``) every agency is None. Raises ValueError for a missing
    column and OSError for an unreadable file.
    """
    counts: Counter[tuple[str | None, str]] = Counter()
    with _open_text(path, encoding) as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path}: the file is empty")
        ci = _column(header, code_column)
        if ci is None:
            raise ValueError(f"{path}: no column {code_column!r} (columns: {', '.join(header)})")
        ai = None
        if agency_column is not None:
            ai = _column(header, agency_column)
            if ai is None and require_agency:
                raise ValueError(
                    f"{path}: no column {agency_column!r} (columns: {', '.join(header)})"
                )
        for row in reader:
            code = row[ci].strip() if ci < len(row) else ""
            if not code:
                continue
            agency = row[ai].strip() or None if ai is not None and ai < len(row) else None
            counts[(agency, code)] += 1
    return [(a, code, n) for (a, code), n in counts.items()]


def _choose_map(map_name: str | None, map_file: Path | None) -> AgencyMap:
    if map_name is not None and map_file is not None:
        raise _fail("give --map or --map-file, not both")
    try:
        if map_file is not None:
            return load_map(map_file)
        return builtin_map(map_name or DEFAULT_MAP)
    except DataFileError as exc:
        raise _fail(f"invalid call-type map:\n{exc}") from exc
    except KeyError as exc:
        raise _fail(str(exc.args[0])) from exc


def _check_text(check: MapCheck, where: str) -> str:
    total_codes = check.mapped_codes + check.unmapped_codes
    total_calls = check.mapped_calls + check.unmapped_calls
    text = (
        f"map {check.map_name} on {where}: {check.mapped_codes:,} of {total_codes:,} codes "
        f"mapped ({check.mapped_calls:,} of {total_calls:,} calls)"
    )
    if check.ok:
        return text + "; every code is mapped"
    return (
        text + f"; [red]unmapped: {check.unmapped_codes:,} codes, "
        f"{check.unmapped_calls:,} calls[/] (add them to the map, see docs/call-types.md)"
    )


def _unmapped_table(check: MapCheck) -> Table:
    table = Table("agency", "code", "calls", title="unmapped codes, most calls first")
    for u in check.unmapped:
        table.add_row(u.agency or "", u.code, f"{u.count:,}")
    return table


@triage_app.command("map-check")
def map_check_cmd(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Argument(help="CAD export (plain or gzip CSV).", show_default=False),
    ] = None,
    from_db: Annotated[
        bool, typer.Option("--from-db", help="Check the calls in the database instead.")
    ] = False,
    map_name: Annotated[
        str | None,
        typer.Option(
            "--map", help=f"Built-in map ({', '.join(builtin_map_names())}); default {DEFAULT_MAP}."
        ),
    ] = None,
    map_file: Annotated[
        Path | None, typer.Option("--map-file", help="A map file (YAML), see docs/call-types.md.")
    ] = None,
    code_column: Annotated[
        str, typer.Option("--code-column", help="CSV column holding the call-type code.")
    ] = "Problem",
    agency_column: Annotated[
        str | None,
        typer.Option(
            "--agency-column",
            help="CSV column holding the agency (default Agency, when the file has it).",
        ),
    ] = None,
    encoding: Annotated[str, typer.Option("--encoding", help="Text encoding of FILE.")] = "utf-8",
    as_json: JsonOpt = False,
) -> None:
    """Which agency codes a map covers; lists every unmapped code (exit 1 if any)."""
    c = _root(ctx, as_json)
    if (file is None) == (not from_db):
        raise _fail("give a FILE or --from-db (one of them)")
    agency_map = _choose_map(map_name, map_file)
    if file is not None:
        try:
            rows = read_csv_codes(
                file,
                code_column=code_column,
                agency_column=agency_column or "Agency",
                require_agency=agency_column is not None,
                encoding=encoding,
            )
        except (OSError, ValueError, EOFError, csv.Error) as exc:
            raise _fail(str(exc)) from exc
        where = file.name
    else:
        rows = stored_call_type_counts(c.engine())
        where = "the database"
    check = agency_map.check(rows)
    _emit(
        c,
        {**check.to_dict(), "input": str(file) if file else "database"},
        _check_text(check, where),
    )
    if not check.ok:
        if not c.as_json:
            out.print(_unmapped_table(check))
        raise typer.Exit(1)


def unmapped_after_import(engine: Engine, import_id: int) -> dict[str, Any]:
    """Check the calls of one import against the default map; print one line to
    standard error when codes are unmapped; return the check for the JSON summary."""
    check = builtin_map(DEFAULT_MAP).check(stored_call_type_counts(engine, import_id=import_id))
    if not check.ok:
        err.print(
            f"[yellow]call types not in map {check.map_name}:[/] {check.unmapped_codes:,} codes, "
            f"{check.unmapped_calls:,} calls (smart-policing triage map-check --from-db)"
        )
    return check.to_dict()
