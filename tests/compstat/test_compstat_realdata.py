"""Compstat on the real Open Baltimore Part 1 file (2012-2015), against an independent
pandas count of the raw CSV.

Grouping rule for the victim-based rows: the file has one row per victim and the rows
of one incident are identical, so

* **victims** of a code = its number of rows;
* **incidents** = distinct rows (``drop_duplicates`` on the whole row), which is the
  importer's rule (identical on every mapped value; the unmapped ``Location 1`` repeats
  the coordinates and ``Total Incidents`` is always 1).

Homicide (1F/1K/1O), rape (2A/2B), aggravated assault (4A-4D) and non-fatal shootings
(9S) count victims; robbery (3*) counts incidents; violent crime = homicide + rape +
robbery + aggravated assault. The year is the local date of ``CrimeDate`` +
``CrimeTime`` (``24:00:00`` is the next day). Expected figures::

    year  homicide  rape  robbery  agg. assault  shootings  violent crime
    2012       216   315    3,681         4,870        369          9,082
    2013       235   280    3,784         4,605        402          8,904
    2014       211   249    3,641         4,260        369          8,361
    2015       342   281    4,332         4,758        636          9,713

Outside every group: 150,858 of 186,623 incidents. With Maryland UCR's 2015 population
(621,252) the 2015 homicide rate is 55.05 per 100,000 (UCR's own 2015 count: 344).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from smart_policing.compstat import CompstatQuery, add_population, compstat_report
from smart_policing.compstat.population import read_ucr_population
from smart_policing.data import builtin_mapping, import_file
from smart_policing.settings import Settings

pytestmark = pytest.mark.realdata

RealFile = Callable[[str], Path]
SETTINGS = Settings(database_url="sqlite://", timezone="America/New_York")

EXPECTED = {
    2012: {
        "homicide": 216,
        "rape": 315,
        "robbery": 3681,
        "aggravated_assault": 4870,
        "shootings": 369,
        "violent_crime": 9082,
    },
    2013: {
        "homicide": 235,
        "rape": 280,
        "robbery": 3784,
        "aggravated_assault": 4605,
        "shootings": 402,
        "violent_crime": 8904,
    },
    2014: {
        "homicide": 211,
        "rape": 249,
        "robbery": 3641,
        "aggravated_assault": 4260,
        "shootings": 369,
        "violent_crime": 8361,
    },
    2015: {
        "homicide": 342,
        "rape": 281,
        "robbery": 4332,
        "aggravated_assault": 4758,
        "shootings": 636,
        "violent_crime": 9713,
    },
}


def group_of(code: str) -> str | None:
    """Independent of the group file: BPD's Part 1 code families."""
    if code in ("1A", "1F", "1K", "1O"):
        return "homicide"
    if code in ("2A", "2B"):
        return "rape"
    if code.startswith("3"):
        return "robbery"
    if code in ("4A", "4B", "4C", "4D"):
        return "aggravated_assault"
    if code == "9S":
        return "shootings"
    return None


def pandas_counts(raw: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Counts per (year, group) from the raw rows, and incidents outside every group."""
    midnight = raw["CrimeTime"] == "24:00:00"
    day = pd.to_datetime(raw["CrimeDate"], format="%m/%d/%Y") + pd.to_timedelta(
        midnight.astype(int), unit="D"
    )
    rows = raw.assign(year=day.dt.year, group=raw["CrimeCode"].str.upper().map(group_of))
    victims = rows.groupby(["year", "group"]).size()
    incidents = rows.drop_duplicates(subset=list(raw.columns)).groupby(["year", "group"]).size()
    unit = {"robbery": incidents}
    table = (
        pd.DataFrame(
            {
                g: (unit.get(g, victims)).xs(g, level="group")
                for g in ("homicide", "rape", "robbery", "aggravated_assault", "shootings")
            }
        )
        .fillna(0)
        .astype(int)
    )
    table["violent_crime"] = table[["homicide", "rape", "robbery", "aggravated_assault"]].sum(
        axis=1
    )
    distinct = raw.drop_duplicates()
    outside = int(distinct["CrimeCode"].str.upper().map(group_of).isna().sum())
    return table, outside


def test_compstat_equals_pandas_on_real_baltimore(engine: Engine, real_file: RealFile) -> None:
    path = real_file("baltimore/part1_crime_2012_2015.csv.gz")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    import_file(engine, path, builtin_mapping("baltimore-part1"), timezone="America/New_York")
    report = compstat_report(engine, CompstatQuery(), SETTINGS)

    ours: dict[int, dict[str, int]] = {}
    for r in report.rows:
        ours.setdefault(r.year, {})[r.group] = r.count
    theirs, outside = pandas_counts(raw)
    assert ours == {int(y): {g: int(n) for g, n in row.items()} for y, row in theirs.iterrows()}
    assert ours == EXPECTED
    assert report.outside_groups.incidents == outside == 150_858
    assert (report.data.incidents, report.data.victims) == (186_623, 193_956)
    assert not any(y.partial for y in report.years)

    # monthly chart and district map add up to the yearly table
    for g in ("shootings", "homicide", "violent_crime"):
        total = sum(EXPECTED[y][g] for y in EXPECTED)
        if g in report.chart_groups:
            assert sum(m.counts[g] for m in report.months) == total
        assert sum(d.counts[g] for d in report.districts) == total
    assert len(report.available_districts) == 9

    # one district, against pandas too
    western = compstat_report(engine, CompstatQuery(district="Western"), SETTINGS)
    theirs_w, _ = pandas_counts(raw[raw["District"] == "WESTERN"])
    assert {(r.year, r.group): r.count for r in western.rows} == {
        (int(y), g): int(n) for y, row in theirs_w.iterrows() for g, n in row.items()
    }

    # rates from the Maryland UCR population (the shared aggregates file, not shipped)
    ucr = real_file("aggregates/maryland_ucr_1975_2020.csv")
    years = read_ucr_population(ucr.read_text(), jurisdiction="Baltimore City")
    add_population(
        engine, "baltimore", [(y, n, "Maryland UCR") for y, n in years if 2012 <= y <= 2015]
    )
    rated = compstat_report(engine, CompstatQuery(), SETTINGS)
    rate = {(r.year, r.group): r.rate_per_100k for r in rated.rows}
    assert rate[(2015, "homicide")] == round(342 * 100_000 / 621_252, 2) == 55.05
    assert rate[(2012, "violent_crime")] == round(9082 * 100_000 / 625_474, 2)
