"""Compstat reports on the hand-made city (tests/compstat/conftest.py), on SQLite and
PostgreSQL: exact counts, rates, year-over-year change, partial years, filters, the
summary's rebuild after a new import, the cache, and the CSV download."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from smart_policing.compstat import (
    CompstatError,
    CompstatQuery,
    CompstatReport,
    ReportCache,
    add_population,
    compstat_report,
    report_to_csv,
)
from smart_policing.data import builtin_mapping, import_file
from smart_policing.settings import Settings
from smart_policing.store import tables as t

SETTINGS = Settings(database_url="sqlite://", timezone="America/New_York")
GROUPS = ["homicide", "rape", "robbery", "aggravated_assault", "shootings", "violent_crime"]


def load(engine: Engine, path: Path) -> None:
    import_file(engine, path, builtin_mapping("baltimore-part1"), timezone="America/New_York")


def table(report: CompstatReport, field: str = "count") -> dict[int, list[object]]:
    """{year: [value per group in GROUPS order]}."""
    out: dict[int, list[object]] = {}
    for r in report.rows:
        out.setdefault(r.year, [None] * len(report.filters.groups))
        out[r.year][report.filters.groups.index(r.group)] = getattr(r, field)
    return out


@pytest.fixture
def city(engine: Engine, city_file: Path) -> Engine:
    load(engine, city_file)
    add_population(engine, "baltimore", [(2016, 500_000, "test figure")])
    return engine


def test_counts_rates_and_change(city: Engine) -> None:
    r = compstat_report(city, CompstatQuery(), SETTINGS)
    assert r.filters.groups == GROUPS
    assert table(r) == {2016: [2, 0, 1, 2, 1, 5], 2017: [1, 1, 2, 1, 3, 5]}
    # 2016 from the database (500,000), 2017 shipped from seed 002 (610,226)
    assert [(y.year, y.population, y.population_origin) for y in r.years] == [
        (2016, 500_000, "database"),
        (2017, 610_226, "file"),
    ]
    assert table(r, "rate_per_100k") == {
        2016: [0.4, 0.0, 0.2, 0.4, 0.2, 1.0],
        # 1e5/610226 = 0.1639; 2e5/610226 = 0.3277; 3e5/610226 = 0.4916; 5e5/610226 = 0.8194
        2017: [0.16, 0.16, 0.33, 0.16, 0.49, 0.82],
    }
    assert table(r, "change") == {2016: [None] * 6, 2017: [-1, 1, 1, -1, 2, 0]}
    assert table(r, "change_pct") == {
        2016: [None] * 6,
        2017: [-50.0, None, 100.0, -50.0, 200.0, 0.0],  # rape: zero base
    }
    assert [(y.year, y.partial, y.days, y.days_in_year) for y in r.years] == [
        (2016, False, 366, 366),
        (2017, False, 365, 365),
    ]
    assert (r.outside_groups.incidents, r.outside_groups.victims) == (4, 5)
    assert (r.data.incidents, r.data.victims) == (15, 22)
    assert (r.data.first_day, r.data.last_day) == (date(2016, 1, 1), date(2017, 12, 31))
    assert r.rates_available
    assert r.chart_groups == ["shootings", "homicide"]
    assert r.available_districts == ["EASTERN", "NORTHERN", "WESTERN"]


def test_monthly_series_and_districts(city: Engine) -> None:
    r = compstat_report(city, CompstatQuery(), SETTINGS)
    months = {m.month: m.counts for m in r.months}
    assert len(months) == 24
    assert not any(m.partial for m in r.months)
    assert months["2016-01"]["homicide"] == 2
    assert months["2016-06"] == {"shootings": 1, "homicide": 0}
    assert months["2017-01"]["homicide"] == 1  # 00:30 local on 1 Jan
    assert months["2017-11"]["shootings"] == 3
    assert sum(m["shootings"] for m in months.values()) == 4
    districts = {d.district: (d.counts, d.incidents) for d in r.districts}
    assert list(districts) == ["EASTERN", "NORTHERN", "WESTERN", None]
    assert districts["EASTERN"] == (
        {
            "homicide": 1,
            "rape": 0,
            "robbery": 1,
            "aggravated_assault": 1,
            "shootings": 3,
            "violent_crime": 3,
        },
        5,
    )
    assert districts["WESTERN"][0]["violent_crime"] == 6
    assert districts["WESTERN"][1] == 7
    assert districts["NORTHERN"] == (dict.fromkeys(GROUPS, 0), 2)
    assert districts[None] == (
        {**dict.fromkeys(GROUPS, 0), "aggravated_assault": 1, "violent_crime": 1},
        1,
    )


def test_district_filter_has_no_rates(city: Engine) -> None:
    r = compstat_report(city, CompstatQuery(district="western"), SETTINGS)
    assert r.filters.districts == ["western"]
    assert table(r) == {2016: [2, 0, 0, 1, 1, 3], 2017: [0, 1, 2, 0, 0, 3]}
    assert table(r, "rate_per_100k") == {2016: [None] * 6, 2017: [None] * 6}
    assert not r.rates_available
    assert table(r, "change")[2017] == [-2, 1, 2, -1, -1, 0]
    assert (r.outside_groups.incidents, r.outside_groups.victims) == (1, 2)
    assert [d.district for d in r.districts] == ["WESTERN"]
    both = compstat_report(city, CompstatQuery(district=["WESTERN", "Eastern"]), SETTINGS)
    assert table(both) == {2016: [2, 0, 1, 2, 1, 5], 2017: [1, 1, 2, 0, 3, 4]}


def test_date_range_marks_partial_years(city: Engine) -> None:
    q = CompstatQuery(start=date(2016, 6, 1), end=date(2017, 2, 20))
    r = compstat_report(city, q, SETTINGS)
    assert table(r) == {2016: [0, 0, 0, 2, 1, 2], 2017: [1, 1, 1, 0, 0, 3]}
    assert [(y.year, y.start, y.end, y.days, y.partial) for y in r.years] == [
        (2016, date(2016, 6, 1), date(2016, 12, 31), 214, True),
        (2017, date(2017, 1, 1), date(2017, 2, 20), 51, True),
    ]
    # a part-year is never compared with another year; rates are for the days covered
    assert table(r, "change") == {2016: [None] * 6, 2017: [None] * 6}
    assert table(r, "rate_per_100k")[2016][3] == 0.4
    assert [(m.month, m.partial) for m in r.months][:2] == [("2016-06", False), ("2016-07", False)]
    assert (r.months[-1].month, r.months[-1].partial) == ("2017-02", True)
    assert (r.filters.effective_start, r.filters.effective_end) == (q.start, q.end)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # local days across the new year: 4B at 23:30 on 31 Dec, 1K at 00:30 on 1 Jan
        (date(2016, 12, 31), date(2016, 12, 31), {2016: [0, 0, 0, 1, 0, 1]}),
        (date(2017, 1, 1), date(2017, 1, 1), {2017: [1, 0, 0, 0, 0, 1]}),
        (
            date(2016, 12, 31),
            date(2017, 1, 1),
            {2016: [0, 0, 0, 1, 0, 1], 2017: [1, 0, 0, 0, 0, 1]},
        ),
        # whole months only (monthly table), one open end
        (date(2017, 2, 1), None, {2017: [0, 1, 2, 1, 3, 4]}),
        (None, date(2016, 3, 31), {2016: [2, 0, 1, 0, 0, 3]}),
        # a partial month at each end around whole months
        (date(2016, 3, 6), date(2017, 2, 20), {2016: [0, 0, 0, 2, 1, 2], 2017: [1, 1, 1, 0, 0, 3]}),
        # inside one month
        (date(2017, 2, 15), date(2017, 2, 21), {2017: [0, 0, 2, 0, 0, 2]}),
        # beyond the data: clipped, nothing outside it
        (date(2020, 1, 1), None, {}),
    ],
)
def test_date_filters(
    city: Engine, start: date | None, end: date | None, expected: dict[int, list[int]]
) -> None:
    r = compstat_report(city, CompstatQuery(start=start, end=end), SETTINGS)
    assert table(r) == expected


def test_group_selection_and_unknown_group(city: Engine) -> None:
    r = compstat_report(city, CompstatQuery(groups=["violent_crime", "homicide"]), SETTINGS)
    assert r.filters.groups == ["homicide", "violent_crime"]  # file order
    assert table(r) == {2016: [2, 5], 2017: [1, 5]}
    assert [g.id for g in r.groups] == ["homicide", "violent_crime"]
    assert r.chart_groups == ["homicide"]
    with pytest.raises(CompstatError, match=r"unknown group.*'murder'"):
        compstat_report(city, CompstatQuery(groups="murder"), SETTINGS)
    with pytest.raises(CompstatError, match="unknown city 'springfield'"):
        compstat_report(city, CompstatQuery(city="springfield"), SETTINGS)


def test_summary_rebuilds_after_an_import(
    city: Engine, write_part1: Callable[[str, list[tuple[str, str, str, str, str, str, int]]], Path]
) -> None:
    cache = ReportCache(recheck_s=0)  # ask the database every time (see the next test)
    first = compstat_report(city, CompstatQuery(), SETTINGS, cache=cache)
    again = compstat_report(city, CompstatQuery(), SETTINGS, cache=cache)
    assert again is first
    assert (cache.hits, cache.misses) == (1, 1)

    more = write_part1(
        "more.csv", [("05/05/2017", "05:00:00", "1F", "HOMICIDE", "FIREARM", "SOUTHERN", 2)]
    )
    load(city, more)
    after = compstat_report(city, CompstatQuery(), SETTINGS, cache=cache)
    assert after.data_version != first.data_version
    assert table(after)[2017] == [3, 1, 2, 1, 3, 7]
    assert after.available_districts == ["EASTERN", "NORTHERN", "SOUTHERN", "WESTERN"]
    assert cache.misses == 2

    # a re-import of the same file adds nothing: same version, same report, no rebuild
    load(city, more)
    same = compstat_report(city, CompstatQuery(), SETTINGS, cache=cache)
    assert same is after
    with city.connect() as conn:
        summed = conn.execute(select(func.sum(t.compstat_daily.c.victims))).scalar_one()
    assert summed == 24


def test_a_busy_cache_rechecks_the_database_after_its_window(
    city: Engine, write_part1: Callable[[str, list[tuple[str, str, str, str, str, str, int]]], Path]
) -> None:
    cache = ReportCache(recheck_s=3600)
    first = compstat_report(city, CompstatQuery(), SETTINGS, cache=cache)
    load(
        city,
        write_part1(
            "late.csv", [("05/05/2017", "05:00:00", "1F", "HOMICIDE", "FIREARM", "SOUTHERN", 1)]
        ),
    )
    # inside the window the report read a moment ago is served without a query
    assert compstat_report(city, CompstatQuery(), SETTINGS, cache=cache) is first
    cache.recheck_s = 0
    fresh = compstat_report(city, CompstatQuery(), SETTINGS, cache=cache)
    assert fresh.data_version != first.data_version
    assert table(fresh)[2017][0] == table(first)[2017][0] + 1


def test_population_edit_is_not_served_from_cache(city: Engine) -> None:
    cache = ReportCache(recheck_s=0)
    compstat_report(city, CompstatQuery(), SETTINGS, cache=cache)
    add_population(city, "baltimore", [(2017, 1_000_000, "corrected")])
    r = compstat_report(city, CompstatQuery(), SETTINGS, cache=cache)
    assert table(r, "rate_per_100k")[2017] == [0.1, 0.1, 0.2, 0.1, 0.3, 0.5]
    assert r.years[1].population_source == "corrected"


def test_time_zone_change_rebuilds_local_days(city: Engine) -> None:
    chicago = Settings(database_url="sqlite://", timezone="America/Chicago")
    r = compstat_report(city, CompstatQuery(), chicago)
    # 00:30 EST on 1 Jan 2017 is 23:30 CST on 31 Dec 2016; the first incident (00:10 EST
    # on 1 Jan 2016, outside every group) falls on 31 Dec 2015: a one-day partial year
    assert table(r) == {2015: [0] * 6, 2016: [3, 0, 1, 2, 1, 6], 2017: [0, 1, 2, 1, 3, 4]}
    assert [(y.year, y.days, y.partial) for y in r.years] == [
        (2015, 1, True),
        (2016, 366, False),
        (2017, 365, False),
    ]
    back = compstat_report(city, CompstatQuery(), SETTINGS)
    assert table(back)[2016] == [2, 0, 1, 2, 1, 5]


def test_empty_store(engine: Engine) -> None:
    r = compstat_report(engine, CompstatQuery(), SETTINGS)
    assert (r.years, r.rows, r.months, r.districts) == ([], [], [], [])
    assert (r.outside_groups.incidents, r.data.incidents, r.data.first_day) == (0, 0, None)


def test_connection_argument(city: Engine) -> None:
    with city.connect() as conn:
        r = compstat_report(conn, CompstatQuery(), SETTINGS)
    assert table(r)[2017] == [1, 1, 2, 1, 3, 5]


def test_csv_download(city: Engine) -> None:
    r = compstat_report(city, CompstatQuery(), SETTINGS)
    rows = list(csv.DictReader(io.StringIO(report_to_csv(r))))
    assert len(rows) == 12
    assert rows[0] == {
        "year": "2016",
        "group": "homicide",
        "label": "Homicide",
        "counts": "victims",
        "count": "2",
        "rate_per_100k": "0.4",
        "change": "",
        "change_pct": "",
        "partial": "false",
        "days": "366",
        "days_in_year": "366",
        "population": "500000",
        "population_source": "test figure",
    }
    last = rows[-1]
    assert (last["year"], last["group"], last["counts"], last["count"]) == (
        "2017",
        "violent_crime",
        "sum",
        "5",
    )
    assert (last["rate_per_100k"], last["change"], last["change_pct"]) == ("0.82", "0", "0.0")
