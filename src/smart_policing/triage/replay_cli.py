"""``smart-policing triage replay``: what a policy pack would move off patrol.

::

    smart-policing triage replay --pack NAME|FILE (FILE.csv [--format cad] | --from-db
        [--start DATE] [--end DATE]) [--compare PACK] [--by responder|district|hour|
        weekday|call-type|priority] [--availability F.json] [--include-officer-initiated]
        [--map NAME | --map-file F] [--csv OUT] [--json]

``FILE`` is read as exported (plain or gzip) with the importer's own reader and
mapping (:func:`read_calls_file`: :func:`smart_policing.data.pipeline.parsed_chunks`,
the same parsing, validation and derived columns as ``import cad``), in memory:
nothing is written to a database. Rows the importer would reject are counted and
left out; a repeated call number keeps its first row, as an import would.
``--from-db`` reads the stored calls (:func:`load_calls`), optionally from ``--start``
to ``--end`` (local dates in the root ``--timezone``, both inclusive). Times in a
file are local to the root ``--timezone`` too.

The method (officer time, what is and is not diverted) is in
:mod:`smart_policing.triage.replay`. ``--csv`` writes every breakdown of every pack
(:data:`~smart_policing.triage.replay.CSV_COLUMNS`); ``--by`` chooses the breakdown
printed. Exit status: 0 success; 2 unusable input (unreadable or wrong-format file,
invalid pack, map or availability file), with a message naming the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from smart_policing.cli_support import (
    CallFormatOpt,
    CallsFileArg,
    EndDateOpt,
    FromDbOpt,
    StartDateOpt,
)
from smart_policing.cli_support import root_context as _root
from smart_policing.data.mapping import BUILTIN_FORMATS, builtin_mapping
from smart_policing.data.pipeline import parsed_chunks
from smart_policing.data.reader import CsvSource, UnusableFileError
from smart_policing.data.transform import ColumnResolver
from smart_policing.datafiles import DataFileError
from smart_policing.store.calls import REPLAY_COLUMNS, load_calls
from smart_policing.triage.cli import triage_app
from smart_policing.triage.engine_cli import _pack
from smart_policing.triage.replay import (
    BREAKDOWNS,
    Breakdown,
    PackReplay,
    ReplayOptions,
    ReplayReport,
    replay,
    write_csv,
)
from smart_policing.triage.vocabulary import DEFAULT_MAP, AgencyMap, builtin_map, load_map

__all__ = ["REPLAY_COLUMNS", "load_calls", "read_calls_file", "replay_cmd"]

err = Console(stderr=True, soft_wrap=True)
out = Console()


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/] {message}", markup=False, highlight=False)
    return typer.Exit(2)


def read_calls_file(
    path: Path,
    *,
    timezone: str,
    format_name: str = "cad",
    encoding: str = "utf-8",
    progress: Progress | None = None,
) -> tuple[pl.DataFrame, int]:
    """Calls of a CAD export as canonical columns, in memory, and the rejected row count.

    Parsed exactly as the importer would (``format_name`` is a built-in call format);
    a call number seen twice keeps its first row. Raises
    :class:`~smart_policing.data.reader.UnusableFileError` for an unreadable file or
    one without the format's columns, ``ValueError`` for a format that is not a call format.
    """
    spec = builtin_mapping(format_name)
    if spec.record != "call":
        raise ValueError(f"format {format_name!r} holds incidents, not calls")
    with CsvSource(path, encoding=encoding) as source:
        ColumnResolver(source.header, spec, path.name)
        size = source.total_bytes
    task = progress.add_task("read", total=size) if progress is not None else None
    frames: list[pl.DataFrame] = []
    rejected = 0
    for parsed in parsed_chunks(path, spec, timezone=timezone, encoding=encoding):
        frames.append(parsed.result.frame)
        rejected += len(parsed.result.rejects)
        if progress is not None and task is not None:
            progress.update(task, completed=parsed.bytes_read)
    frame = pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()
    if frame.height:
        first = pl.col("_key").is_null() | pl.col("_key").is_first_distinct()
        frame = frame.filter(first).rename({"_key": "call_id"})
        frame = frame.select(pl.exclude("^_.*$"))
    return frame, rejected


def _agency_map(name: str | None, file: Path | None) -> AgencyMap:
    try:
        if file is not None:
            return load_map(file)
        return builtin_map(name or DEFAULT_MAP)
    except DataFileError as exc:
        raise _fail(str(exc)) from exc
    except KeyError as exc:
        raise _fail(str(exc.args[0])) from exc


def _availability(path: Path | None) -> dict[str, int] | None:
    if path is None:
        return None
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _fail(f"{path}: cannot read the availability file: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise _fail(f"{path}, line {exc.lineno}: not valid JSON: {exc.msg}") from exc
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
        for k, v in data.items()
    ):
        raise _fail(f"{path}: expected an object of responder id -> integer")
    return data


def _hours(x: float) -> str:
    return f"{x:,.1f}"


def _responder_table(r: PackReplay) -> Table:
    table = Table(
        "responder",
        "calls",
        "share",
        "no officer",
        "officer h",
        "officer h moved",
        title=f"{r.pack} {r.pack_version}",
    )
    for x in r.responders:
        if x.calls:
            table.add_row(
                x.responder,
                f"{x.calls:,}",
                f"{x.share_of_calls:.1%}",
                f"{x.diverted_calls:,}",
                _hours(x.officer_hours),
                _hours(x.officer_hours_moved),
            )
    table.add_row(
        "all",
        f"{r.calls:,}",
        "100.0%",
        f"{r.diverted_calls:,}",
        _hours(r.officer_hours),
        _hours(r.officer_hours_moved),
        style="bold",
    )
    return table


def _breakdown_table(r: PackReplay, by: Breakdown) -> Table:
    rows = r.breakdown(by)
    responders = [x.responder for x in r.responders if x.calls]
    table = Table(by, "calls", *responders, "officer-hours moved", title=f"{r.pack} by {by}")
    keys: dict[str | None, dict[str, int]] = {}
    moved: dict[str | None, float] = {}
    for row in rows:
        keys.setdefault(row.key, {})[row.responder] = row.calls
        moved[row.key] = moved.get(row.key, 0.0) + row.officer_hours_moved
    for key, per in keys.items():
        table.add_row(
            key if key is not None else "(none)",
            f"{sum(per.values()):,}",
            *(f"{per.get(x, 0):,}" for x in responders),
            _hours(moved[key]),
        )
    return table


def _print(report: ReplayReport, by: Breakdown) -> None:
    i = report.inputs
    ot = i.officer_time
    others = ", ".join(f"{a.agency} {a.calls:,}" for a in i.other_agencies) or "none"
    out.print(
        f"{i.calls:,} calls; routed ({', '.join(i.routed_agencies)}): {i.routed_calls:,}; "
        f"other agencies (not replayed): {others}",
        markup=False,
    )
    oi = "replayed" if i.officer_initiated_included else "not replayed (stay with patrol)"
    out.print(
        f"officer-initiated: {i.officer_initiated:,} {oi}; unmapped codes: "
        f"{len(i.unmapped)} ({i.unmapped_calls:,} calls, not replayed); replayed: {i.replayed:,}",
        markup=False,
    )
    out.print(
        f"officer time: first unit's dispatch-to-clear, measured for {ot.measured_calls:,}, "
        f"call-type median for {ot.fallback_calls:,} (missing, <= 0 or > "
        f"{ot.max_officer_hours:g} h); median "
        f"{ot.median_minutes or 0:.1f} min",
        markup=False,
    )
    for u in i.unmapped[:10]:
        out.print(f"  unmapped: {u.agency or '-'} {u.code!r} x{u.calls}", markup=False)
    for r in (report.result, report.compare):
        if r is None:
            continue
        out.print(_responder_table(r))
        out.print(
            f"{r.pack}: {r.diverted_calls:,} calls with no officer "
            f"({r.share_diverted:.1%} of replayed, {r.share_of_routed_diverted:.1%} of all "
            f"routed calls), {_hours(r.officer_hours_moved)} officer-hours moved",
            markup=False,
        )
        if by != "responder":
            out.print(_breakdown_table(r, by))
    cmp = report.comparison
    if cmp is not None:
        table = Table(cmp.base, cmp.other, "calls", "officer-hours", title="where they differ")
        for tr in cmp.transitions:
            if tr.base != tr.other:
                table.add_row(tr.base, tr.other, f"{tr.calls:,}", _hours(tr.officer_hours))
        out.print(table)
        out.print(f"{cmp.changed_calls:,} calls change responder", markup=False)


@triage_app.command("replay")
def replay_cmd(
    ctx: typer.Context,
    pack: Annotated[str, typer.Option("--pack", help="Shipped pack name or pack file.")],
    file: CallsFileArg = None,
    format_name: CallFormatOpt = "cad",
    from_db: FromDbOpt = False,
    start: StartDateOpt = None,
    end: EndDateOpt = None,
    compare: Annotated[
        str | None, typer.Option("--compare", help="A second pack to compare with.")
    ] = None,
    by: Annotated[
        str, typer.Option("--by", help=f"Breakdown to print: {', '.join(BREAKDOWNS)}.")
    ] = "responder",
    availability: Annotated[
        Path | None,
        typer.Option(
            "--availability",
            help="JSON: responder id -> free capacity for the whole replay (0 = never), "
            'e.g. {"crisis-team": 0}. Default: every responder available when on shift.',
        ),
    ] = None,
    include_officer_initiated: Annotated[
        bool,
        typer.Option(
            "--include-officer-initiated",
            help="Replay officer-initiated calls too (default: they stay with patrol).",
        ),
    ] = False,
    map_name: Annotated[
        str | None, typer.Option("--map", help=f"Shipped call-type map (default {DEFAULT_MAP}).")
    ] = None,
    map_file: Annotated[Path | None, typer.Option("--map-file", help="Call-type map file.")] = None,
    csv_out: Annotated[
        Path | None, typer.Option("--csv", help="Write every breakdown to this CSV file.")
    ] = None,
    encoding: Annotated[str, typer.Option("--encoding", help="Text encoding of FILE.")] = "utf-8",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print machine-readable JSON (as the global --json).")
    ] = False,
) -> None:
    """Apply a pack to historical calls: calls and officer-hours moved to each responder."""
    c = _root(ctx, as_json)
    if (file is None) == (not from_db):
        raise _fail("give either FILE or --from-db")
    if file is not None and (start is not None or end is not None):
        raise _fail("--start / --end go with --from-db")
    if by not in BREAKDOWNS:
        raise _fail(f"--by {by!r}: expected one of {', '.join(BREAKDOWNS)}")
    if format_name not in BUILTIN_FORMATS:
        raise _fail(f"--format {format_name!r}: known formats {', '.join(BUILTIN_FORMATS)}")
    first = _pack(pack)
    second = _pack(compare) if compare is not None else None
    agency_map = _agency_map(map_name, map_file)
    options = ReplayOptions(
        include_officer_initiated=include_officer_initiated,
        availability=_availability(availability),
    )
    tz = c.settings.timezone
    if file is not None:
        try:
            with Progress(
                TextColumn(f"reading {file.name}"),
                BarColumn(),
                DownloadColumn(),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            ) as bar:
                calls, rejected = read_calls_file(
                    file, timezone=tz, format_name=format_name, encoding=encoding, progress=bar
                )
        except (UnusableFileError, ValueError) as exc:
            raise _fail(str(exc)) from exc
        if rejected:
            err.print(f"{rejected:,} rows rejected by the {format_name} format (not replayed)")
    else:
        calls = load_calls(
            c.engine(),
            start=start.date() if start else None,
            end=end.date() if end else None,
            timezone=tz,
        )
    try:
        report = replay(calls, first, compare=second, agency_map=agency_map, options=options)
    except KeyError as exc:
        raise _fail(f"{availability}: {exc.args[0]}") from exc
    if csv_out is not None:
        try:
            n = write_csv(report, csv_out)
        except OSError as exc:
            raise _fail(f"{csv_out}: cannot write: {exc}") from exc
        err.print(f"wrote {n:,} rows to {csv_out}", markup=False, highlight=False)
    if c.as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), indent=2))
        return
    _print(report, by)
