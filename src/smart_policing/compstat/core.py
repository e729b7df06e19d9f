"""The violent-crime table (R17; seed 002, Table 1), computed from plain data.

Pure functions: counts per month / district and offence code in, a
:class:`CompstatReport` out. No database, no files; the query layer
(:mod:`smart_policing.compstat.service`) fetches the counts.

**Counting.** Each base group counts in its own unit (``victims`` or ``incidents``, see
:mod:`smart_policing.compstat.groups`); a composite such as violent crime is the sum of
its members' counts. Incidents whose offence code is in no group are reported as
``outside_groups``, never silently dropped.

**Periods.** Days are local dates in the city time zone; a range is inclusive. The
report covers the requested range clipped to the data (first to last day with any
incident). A year (or month) that the range does not cover completely is ``partial``:
its count is for the days covered only (``days`` of ``days_in_year``).

**Rates** are per 100,000 residents, ``count * 100000 / population``, rounded to 2
decimals, for city-wide reports only: with a district filter the resident population
of the area is unknown and rates are None. A year without a population figure has no
rate (None); nothing is interpolated.

**Year-over-year change** compares a year with the calendar year before it: ``change``
= count - previous count, ``change_pct`` = 100 * change / previous count (2 decimals).
Both are None for the first year, when either year is partial (a part-year must not be
compared with a whole one), and ``change_pct`` is None on a zero base.
"""

from __future__ import annotations

import calendar
import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from smart_policing.compstat.groups import CountUnit, GroupSet
from smart_policing.compstat.population import PopulationFigure, PopulationOrigin

__all__ = [
    "CodeCount",
    "CompstatError",
    "CompstatQuery",
    "CompstatReport",
    "DataCoverage",
    "DistrictCounts",
    "GroupInfo",
    "MonthPoint",
    "OutsideGroups",
    "ReportFilters",
    "YearInfo",
    "YearRow",
    "build_report",
    "effective_period",
    "report_to_csv",
]

RATE_BASE = 100_000


@dataclass(frozen=True)
class CodeCount:
    """Incidents and victims of one offence code within one month or district."""

    key: int | date | str  # a year, the first day of a month, or a district ('' = unknown)
    offence_code: str
    incidents: int
    victims: int


class CompstatError(ValueError):
    """A query that cannot be answered (unknown city or group); message says why."""


class CompstatQuery(BaseModel):
    """What a Compstat report covers. Dates are local days, inclusive; None = open."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    city: str = Field(default="baltimore", pattern=r"^[a-z][a-z0-9_]*$", max_length=64)
    start: date | None = None
    end: date | None = None
    district: tuple[str, ...] | None = None
    groups: tuple[str, ...] | None = None

    @field_validator("district", "groups", mode="before")
    @classmethod
    def _one_or_many(cls, v: object) -> object:
        if isinstance(v, str):
            v = [v]
        if isinstance(v, list | tuple):
            cleaned = [x.strip() if isinstance(x, str) else x for x in v]
            cleaned = [x for x in cleaned if x != ""]
            return tuple(dict.fromkeys(cleaned)) or None
        return v

    @model_validator(mode="after")
    def _ordered(self) -> CompstatQuery:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")
        return self


class GroupInfo(BaseModel):
    """A group as the report counted it."""

    id: str
    label: str
    counts: CountUnit | Literal["sum"]
    of: list[str]


class YearInfo(BaseModel):
    """One calendar year of the report: days covered and the population used."""

    year: int
    start: date
    end: date
    days: int
    days_in_year: int
    partial: bool
    population: int | None
    population_source: str | None
    population_origin: PopulationOrigin | None


class YearRow(BaseModel):
    """One cell row of the table: a group in a year."""

    year: int
    group: str
    count: int
    rate_per_100k: float | None
    change: int | None
    change_pct: float | None
    partial: bool


class MonthPoint(BaseModel):
    """Counts of the chart groups (``CompstatReport.chart_groups``, e.g. shootings and
    homicide) in one local calendar month (``month`` = ``YYYY-MM``)."""

    month: str
    partial: bool
    counts: dict[str, int]


class DistrictCounts(BaseModel):
    """Counts per group in one district over the whole report period."""

    district: str | None
    counts: dict[str, int]
    incidents: int


class OutsideGroups(BaseModel):
    """Incidents (and their victims) whose offence code is in no group."""

    incidents: int
    victims: int


class ReportFilters(BaseModel):
    """The filters applied and the period they resolved to."""

    city: str
    start: date | None
    end: date | None
    districts: list[str] | None
    groups: list[str]
    effective_start: date | None
    effective_end: date | None


class DataCoverage(BaseModel):
    """The summarised incident data behind the report."""

    version: str
    first_day: date | None
    last_day: date | None
    incidents: int
    victims: int
    built_at: datetime


class CompstatReport(BaseModel):
    """The violent-crime table by year, with the chart and map series (JSON-ready)."""

    city: str
    city_name: str
    timezone: str
    data_version: str
    data: DataCoverage
    filters: ReportFilters
    groups: list[GroupInfo]
    chart_groups: list[str]
    rates_available: bool
    years: list[YearInfo]
    rows: list[YearRow]
    months: list[MonthPoint]
    districts: list[DistrictCounts]
    available_districts: list[str]
    outside_groups: OutsideGroups
    notes: list[str]


def effective_period(
    start: date | None, end: date | None, first_day: date | None, last_day: date | None
) -> tuple[date, date] | None:
    """The requested local days ``start``..``end`` (None = open) clipped to the data's
    ``first_day``..``last_day``; None when they do not meet or there is no data."""
    if first_day is None or last_day is None:
        return None
    lo = max(start or first_day, first_day)
    hi = min(end or last_day, last_day)
    return (lo, hi) if lo <= hi else None


def _year_bounds(y: int) -> tuple[date, date]:
    return date(y, 1, 1), date(y, 12, 31)


def _tally(
    rows: Iterable[CodeCount], groups: GroupSet
) -> tuple[dict[Any, dict[str, int]], dict[Any, list[int]], OutsideGroups]:
    """Per key: count per base group (in its unit); per key: [incidents, victims] of
    all codes; and the totals outside every group."""
    rows = list(rows)
    klass = groups.classify({r.offence_code for r in rows})
    unit = {g.id: g.counts for g in groups.base_groups}
    per: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    out_n = out_v = 0
    for r in rows:
        gid = klass[r.offence_code]
        totals[r.key][0] += r.incidents
        totals[r.key][1] += r.victims
        if gid is None:
            out_n += r.incidents
            out_v += r.victims
            continue
        per[r.key][gid] += r.victims if unit[gid] == "victims" else r.incidents
    return per, totals, OutsideGroups(incidents=out_n, victims=out_v)


def _with_composites(base: Mapping[str, int], groups: GroupSet) -> dict[str, int]:
    """Counts of every group (file order) from the base groups' counts."""
    out = {g.id: 0 if g.of else base.get(g.id, 0) for g in groups.groups}
    for g in groups.groups:
        if g.of:
            out[g.id] = sum(out[m] for m in g.of)
    return out


def build_report(
    *,
    query: CompstatQuery,
    groups: GroupSet,
    by_year: Sequence[CodeCount],
    by_month: Sequence[CodeCount],
    by_district: Sequence[CodeCount],
    population: Mapping[int, PopulationFigure],
    data: DataCoverage,
    timezone: str,
    available_districts: Sequence[str] = (),
) -> CompstatReport:
    """The report for ``query`` from summary counts already restricted to the query's
    dates and districts: ``by_year`` (keys: years; every code), ``by_month`` (keys: first
    days of months; at least the codes of the chart groups) and ``by_district`` (keys:
    district names, '' for unknown; every code)."""
    selected = list(query.groups) if query.groups else [g.id for g in groups.groups]
    known = {g.id for g in groups.groups}
    unknown = [g for g in selected if g not in known]
    if unknown:
        raise CompstatError(
            f"unknown group(s) {', '.join(map(repr, unknown))} for {query.city} "
            f"(known: {', '.join(g.id for g in groups.groups)})"
        )
    order = [g.id for g in groups.groups if g.id in selected]
    city_wide = query.district is None

    period = effective_period(query.start, query.end, data.first_day, data.last_day)
    eff_start, eff_end = period if period is not None else (None, None)

    years: list[YearInfo] = []
    if eff_start is not None and eff_end is not None:
        for year in range(eff_start.year, eff_end.year + 1):
            lo, hi = _year_bounds(year)
            s, e = max(lo, eff_start), min(hi, eff_end)
            n_days = 366 if calendar.isleap(year) else 365
            pop = population.get(year)
            years.append(
                YearInfo(
                    year=year,
                    start=s,
                    end=e,
                    days=(e - s).days + 1,
                    days_in_year=n_days,
                    partial=(e - s).days + 1 < n_days,
                    population=pop.population if pop else None,
                    population_source=pop.source if pop else None,
                    population_origin=pop.origin if pop else None,
                )
            )

    per_year, _, outside = _tally(by_year, groups)
    per_month, _, _ = _tally(by_month, groups)
    chart = [c for c in groups.chart if c in order]

    rows: list[YearRow] = []
    counts_by_year = {y.year: _with_composites(per_year.get(y.year, {}), groups) for y in years}
    info = {y.year: y for y in years}
    for y in years:
        prev = info.get(y.year - 1)
        for gid in order:
            n = counts_by_year[y.year][gid]
            rate = None
            if city_wide and y.population:
                rate = round(n * RATE_BASE / y.population, 2)
            change = change_pct = None
            if prev is not None and not prev.partial and not y.partial:
                p = counts_by_year[prev.year][gid]
                change = n - p
                change_pct = round(change * 100 / p, 2) if p else None
            rows.append(
                YearRow(
                    year=y.year,
                    group=gid,
                    count=n,
                    rate_per_100k=rate,
                    change=change,
                    change_pct=change_pct,
                    partial=y.partial,
                )
            )

    months: list[MonthPoint] = []
    if eff_start is not None and eff_end is not None:
        m = eff_start.replace(day=1)
        while m <= eff_end:
            last = m.replace(day=calendar.monthrange(m.year, m.month)[1])
            counts = _with_composites(per_month.get(m, {}), groups)
            months.append(
                MonthPoint(
                    month=f"{m.year:04d}-{m.month:02d}",
                    partial=eff_start > m or eff_end < last,
                    counts={gid: counts[gid] for gid in chart},
                )
            )
            m = date(last.year + (last.month == 12), last.month % 12 + 1, 1)

    per_district, district_totals, _ = _tally(by_district, groups)
    names = sorted(district_totals, key=lambda k: (k == "", str(k)))
    districts = []
    for name in names:
        counts = _with_composites(per_district.get(name, {}), groups)
        districts.append(
            DistrictCounts(
                district=str(name) or None,
                counts={gid: counts[gid] for gid in order},
                incidents=district_totals[name][0],
            )
        )

    notes = [
        "Counts: "
        + "; ".join(
            f"{g.label} = {g.counts}"
            if not g.composite
            else f"{g.label} = sum of {', '.join(g.of)}"
            for g in groups.groups
        )
        + ".",
        f"Dates are local days in {timezone}; ranges are inclusive.",
    ]
    if not city_wide:
        notes.append("Rates are not shown for a district filter: area population unknown.")
    if any(y.partial for y in years):
        notes.append(
            "Partial years count only the days covered; no rate or change comparison "
            "between a partial and a whole year."
        )
    if any(y.population is None for y in years) and city_wide:
        missing = ", ".join(str(y.year) for y in years if y.population is None)
        notes.append(f"No population figure for {missing}: rates missing (add the years).")

    return CompstatReport(
        city=query.city,
        city_name=groups.name,
        timezone=timezone,
        data_version=data.version,
        data=data,
        filters=ReportFilters(
            city=query.city,
            start=query.start,
            end=query.end,
            districts=list(query.district) if query.district else None,
            groups=order,
            effective_start=eff_start,
            effective_end=eff_end,
        ),
        groups=[
            GroupInfo(
                id=g.id,
                label=g.label,
                counts="sum" if g.composite else (g.counts or "incidents"),
                of=list(g.of),
            )
            for g in groups.groups
            if g.id in order
        ],
        chart_groups=chart,
        rates_available=city_wide,
        years=years,
        rows=rows,
        months=months,
        districts=districts,
        available_districts=list(available_districts),
        outside_groups=outside,
        notes=notes,
    )


CSV_COLUMNS = (
    "year",
    "group",
    "label",
    "counts",
    "count",
    "rate_per_100k",
    "change",
    "change_pct",
    "partial",
    "days",
    "days_in_year",
    "population",
    "population_source",
)


def report_to_csv(report: CompstatReport) -> str:
    """The year x group table as CSV (one row per year and group, header first).

    Missing values (no rate, no change) are empty cells; ``partial`` is true/false.
    """
    labels = {g.id: g for g in report.groups}
    years = {y.year: y for y in report.years}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)

    def cell(v: object) -> object:
        if v is None:
            return ""
        if isinstance(v, bool):
            return "true" if v else "false"
        return v

    for r in report.rows:
        y, g = years[r.year], labels[r.group]
        w.writerow(
            [
                cell(v)
                for v in (
                    r.year,
                    r.group,
                    g.label,
                    g.counts,
                    r.count,
                    r.rate_per_100k,
                    r.change,
                    r.change_pct,
                    r.partial,
                    y.days,
                    y.days_in_year,
                    y.population,
                    y.population_source,
                )
            ]
        )
    return buf.getvalue()
