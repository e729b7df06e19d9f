"""``smart-policing compstat``: the violent-crime table, and population figures.

::

    smart-policing compstat [--start DATE] [--end DATE] [--district NAME ...] [--group ID ...]
                            [--city NAME | --groups FILE] [--csv FILE] [--json]
    smart-policing compstat population add --year 2015 --population 621252 --source TEXT
    smart-policing compstat population list
    smart-policing compstat population import-ucr FILE --jurisdiction "Baltimore City"
    smart-policing compstat rebuild

``--json`` prints ``CompstatReport.model_dump(mode="json")``, the same document as
``GET /api/compstat``. Registered on the root app in :mod:`smart_policing.cli`, whose
global ``--db`` / ``--timezone`` / ``--json`` options this sub-app reads from the root
context.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from smart_policing.cli_support import JsonOpt, err, parse_day
from smart_policing.cli_support import RootContext as RootContext
from smart_policing.cli_support import emit as _emit
from smart_policing.cli_support import fail as _fail
from smart_policing.cli_support import root_context as _root
from smart_policing.compstat.core import CompstatError, CompstatQuery, CompstatReport, report_to_csv
from smart_policing.compstat.groups import GroupSet, load_groups
from smart_policing.compstat.population import UcrPopulationError, read_ucr_population
from smart_policing.compstat.service import add_population, city_population, compstat_report
from smart_policing.compstat.summary import rebuild_summary
from smart_policing.datafiles import DataFileError

__all__ = ["compstat_app", "population_app"]

compstat_app = typer.Typer(
    help="Compstat: violent crime by year and type, rates per 100,000, YoY change (R17)."
)
population_app = typer.Typer(
    help="Resident population per city and year (denominator of rates).", no_args_is_help=True
)
compstat_app.add_typer(population_app, name="population")


CityOpt = Annotated[str, typer.Option("--city", help="City (its group and population files).")]


@compstat_app.callback(invoke_without_command=True)
def compstat_cmd(
    ctx: typer.Context,
    start: Annotated[
        str | None, typer.Option("--start", help="First local day, YYYY-MM-DD (inclusive).")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--end", help="Last local day, YYYY-MM-DD (inclusive).")
    ] = None,
    district: Annotated[
        list[str] | None,
        typer.Option("--district", help="Only this district (repeat for several)."),
    ] = None,
    group: Annotated[
        list[str] | None,
        typer.Option("--group", help="Only this group id, e.g. homicide (repeat for several)."),
    ] = None,
    city: Annotated[
        str | None,
        typer.Option("--city", help="City (its group and population files). Default: baltimore."),
    ] = None,
    groups_file: Annotated[
        Path | None,
        typer.Option(
            "--groups", help="Group file (YAML) to use instead of the city's shipped one."
        ),
    ] = None,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Also write the year x group table as CSV.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Violent crime by year and group: counts, rates per 100,000, year-over-year change."""
    if ctx.invoked_subcommand is not None:
        return
    c = _root(ctx, as_json)
    groups: GroupSet | None = None
    if groups_file is not None:
        try:
            groups = load_groups(groups_file)
        except DataFileError as exc:
            raise _fail(f"invalid group file:\n{exc}") from exc
    try:
        query = CompstatQuery(
            city=city or (groups.city if groups else "baltimore"),
            start=parse_day(start, "--start"),
            end=parse_day(end, "--end"),
            district=tuple(district) if district else None,
            groups=tuple(group) if group else None,
        )
        report = compstat_report(c.engine(), query, c.settings, groups=groups)
    except (ValidationError, CompstatError) as exc:
        raise _fail(str(exc)) from exc
    if csv_file is not None:
        csv_file.write_text(report_to_csv(report), encoding="utf-8")
        err.print(f"wrote {csv_file}")
    _emit(c, report.model_dump(mode="json"), _report_tables(report))


def _report_tables(r: CompstatReport) -> Table:
    f = r.filters
    period = f"{f.effective_start} to {f.effective_end}" if f.effective_start else "no data"
    where = ", ".join(f.districts) if f.districts else "all districts"
    labels = {g.id: g.label for g in r.groups}
    table = Table(
        "year",
        "population",
        *(labels[g] for g in f.groups),
        title=f"{r.city_name}: violent crime, {period}, {where}",
        caption="count (rate per 100,000) \\[change %]; * partial year. "
        f"Outside every group: {r.outside_groups.incidents:,} incidents. "
        f"Data version {r.data_version}.",
    )
    cells: dict[tuple[int, str], str] = {}
    for row in r.rows:
        text = f"{row.count:,}"
        if row.rate_per_100k is not None:
            text += f" ({row.rate_per_100k:,.1f})"
        if row.change_pct is not None:
            text += f" \\[{row.change_pct:+.1f}%]"
        cells[(row.year, row.group)] = text
    for y in r.years:
        table.add_row(
            f"{y.year}{'*' if y.partial else ''}",
            f"{y.population:,}" if y.population else "-",
            *(cells[(y.year, g)] for g in f.groups),
        )
    return table


@compstat_app.command("rebuild")
def rebuild_cmd(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Rebuild the summary tables now (they rebuild by themselves after each import)."""
    c = _root(ctx, as_json)
    with c.engine().begin() as conn:
        state = rebuild_summary(conn, c.settings.timezone)
    _emit(
        c,
        {"version": state.version, "incidents": state.incidents, "victims": state.victims},
        f"summary rebuilt: {state.incidents:,} incidents, {state.victims:,} victims, "
        f"{state.first_day} to {state.last_day} (version {state.version})",
    )


# ---------------------------------------------------------------- population


def _population_table(c: RootContext, city: str) -> None:
    with c.engine().connect() as conn:
        figures = city_population(conn, city)
    table = Table("year", "population", "source", "origin", title=f"population: {city}")
    for f in figures.values():
        table.add_row(str(f.year), f"{f.population:,}", f.source, f.origin)
    _emit(c, [f.model_dump(mode="json") for f in figures.values()], table)


@population_app.command("list")
def population_list(
    ctx: typer.Context, city: CityOpt = "baltimore", as_json: JsonOpt = False
) -> None:
    """Population per year: shipped figures and those added (which override them)."""
    _population_table(_root(ctx, as_json), city)


@population_app.command("add")
def population_add(
    ctx: typer.Context,
    year: Annotated[int, typer.Option("--year", help="Calendar year.")],
    population: Annotated[int, typer.Option("--population", help="Residents (persons).")],
    source: Annotated[str, typer.Option("--source", help="Where the figure comes from.")],
    city: CityOpt = "baltimore",
    as_json: JsonOpt = False,
) -> None:
    """Add or correct one year's population (overrides the shipped figure)."""
    c = _root(ctx, as_json)
    try:
        (f,) = add_population(c.engine(), city, [(year, population, source)])
    except ValidationError as exc:
        raise _fail(str(exc)) from exc
    _emit(c, f.model_dump(mode="json"), f"{city} {f.year}: {f.population:,} ({f.source})")


@population_app.command("import-ucr")
def population_import_ucr(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="Maryland UCR CSV (JURISDICTION, YEAR, POPULATION).")
    ],
    jurisdiction: Annotated[
        str,
        typer.Option("--jurisdiction", help='Jurisdiction as in the file, e.g. "Baltimore City".'),
    ],
    city: CityOpt = "baltimore",
    source: Annotated[
        str | None, typer.Option("--source", help="Source text (default: file and jurisdiction).")
    ] = None,
    first_year: Annotated[
        int | None, typer.Option("--from-year", help="Skip earlier years.")
    ] = None,
    last_year: Annotated[int | None, typer.Option("--to-year", help="Skip later years.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add the population of every year of one jurisdiction from a UCR yearly CSV."""
    c = _root(ctx, as_json)
    try:
        text = file.read_text(encoding="utf-8-sig")
        rows = read_ucr_population(text, jurisdiction=jurisdiction, file_name=file.name)
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"{file}: cannot read: {exc}") from exc
    except UcrPopulationError as exc:
        raise _fail(str(exc)) from exc
    rows = [
        (y, n)
        for y, n in rows
        if (first_year is None or y >= first_year) and (last_year is None or y <= last_year)
    ]
    label = source or f"UCR {file.name}, {jurisdiction}"
    added = add_population(c.engine(), city, [(y, n, label) for y, n in rows])
    years = f"{added[0].year}-{added[-1].year}" if added else "none"
    _emit(
        c,
        {"city": city, "added": len(added), "years": [f.year for f in added], "source": label},
        f"{city}: {len(added)} years added ({years}) from {file.name}",
    )
