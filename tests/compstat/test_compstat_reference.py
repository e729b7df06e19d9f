"""The summary tables (monthly + daily, local days from UTC) against a brute-force count
of the raw rows, over random filters, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from smart_policing.compstat import CompstatQuery, compstat_report
from smart_policing.compstat.summary import split_period
from smart_policing.data import builtin_mapping, import_file
from smart_policing.settings import Settings

Row = tuple[str, str, str, str, str, str, int]

# code -> (group, unit); reference mapping written out independently of the group file
REFERENCE = {
    "1F": ("homicide", "victims"),
    "1K": ("homicide", "victims"),
    "2A": ("rape", "victims"),
    "3B": ("robbery", "incidents"),
    "3AJF": ("robbery", "incidents"),
    "4A": ("aggravated_assault", "victims"),
    "4D": ("aggravated_assault", "victims"),
    "9S": ("shootings", "victims"),
    "4E": (None, None),
    "6D": (None, None),
}
VIOLENT = ("homicide", "rape", "robbery", "aggravated_assault")
DISTRICTS = ["EASTERN", "WESTERN", "CENTRAL", ""]
# times near midnight and in the DST gap / repeated hour, where local and UTC days differ
TIMES = ["00:05:00", "00:59:00", "01:30:00", "02:30:00", "12:00:00", "19:10:00", "23:59:00"]
DST_DAYS = [date(2016, 3, 13), date(2016, 11, 6), date(2016, 12, 31), date(2017, 1, 1)]


def random_city(seed: int) -> list[Row]:
    rng = random.Random(seed)
    first, last = date(2015, 11, 20), date(2017, 2, 10)
    rows: list[Row] = []
    for _ in range(400):
        if rng.random() < 0.2:
            day = rng.choice(DST_DAYS)
        else:
            day = first + timedelta(days=rng.randrange((last - first).days + 1))
        rows.append(
            (
                day.strftime("%m/%d/%Y"),
                rng.choice(TIMES),
                rng.choice(list(REFERENCE)),
                "X",
                "",
                rng.choice(DISTRICTS),
                rng.choice([1, 1, 1, 2, 3]),
            )
        )
    # distinct rows only: the CSV repeats each ``n`` times (victims); a repeated
    # (day, time, code, district) would merge into one incident, so keep the first
    seen: set[tuple[str, str, str, str]] = set()
    unique = []
    for r in rows:
        key = (r[0], r[1], r[2], r[5])
        if key not in seen:
            seen.add(key)
            unique.append(r)
    return unique


def brute_force(
    rows: list[Row], start: date | None, end: date | None, districts: list[str] | None
) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {}
    for day_text, _time, code, _d, _w, district, n in rows:
        month, dd, year = (int(x) for x in day_text.split("/"))
        day = date(year, month, dd)
        if (start and day < start) or (end and day > end):
            continue
        if districts is not None and district.upper() not in {x.upper() for x in districts}:
            continue
        group, unit = REFERENCE[code]
        if group is None:
            continue
        counts = out.setdefault(year, {})
        counts[group] = counts.get(group, 0) + (n if unit == "victims" else 1)
    for counts in out.values():
        counts["violent_crime"] = sum(counts.get(g, 0) for g in VIOLENT)
    return out


def districts_of(q: CompstatQuery) -> list[str] | None:
    return list(q.district) if q.district else None


def brute_force_months(
    rows: list[Row], start: date | None, end: date | None, districts: list[str] | None
) -> dict[tuple[str, str], int]:
    """Shooting and homicide victims per local month (the chart)."""
    out: dict[tuple[str, str], int] = {}
    for day_text, _time, code, _d, _w, district, n in rows:
        month, dd, year = (int(x) for x in day_text.split("/"))
        day = date(year, month, dd)
        if (start and day < start) or (end and day > end):
            continue
        if districts is not None and district.upper() not in {x.upper() for x in districts}:
            continue
        group = REFERENCE[code][0]
        if group in ("shootings", "homicide"):
            key = (f"{year:04d}-{month:02d}", group)
            out[key] = out.get(key, 0) + n
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_summary_equals_brute_force(
    engine: Engine, write_part1: Callable[[str, list[Row]], Path], seed: int
) -> None:
    rows = random_city(seed)
    path = write_part1("random.csv", rows)
    import_file(engine, path, builtin_mapping("baltimore-part1"), timezone="America/New_York")
    settings = Settings(database_url="sqlite://", timezone="America/New_York")
    rng = random.Random(seed + 100)
    days = [date(2015, 11, 1) + timedelta(days=i) for i in range(480)]
    queries: list[CompstatQuery] = [CompstatQuery()]
    for _ in range(25):
        a, b = sorted(rng.sample(days, 2))
        start = None if rng.random() < 0.2 else a
        end = None if rng.random() < 0.2 else b
        districts = None if rng.random() < 0.5 else rng.sample(DISTRICTS[:3], rng.randint(1, 2))
        queries.append(CompstatQuery(start=start, end=end, district=districts))
    for q in queries:
        report = compstat_report(engine, q, settings)
        ours: dict[int, dict[str, int]] = {}
        for r in report.rows:
            if r.count:
                ours.setdefault(r.year, {})[r.group] = r.count
        expected = {
            y: {g: n for g, n in counts.items() if n}
            for y, counts in brute_force(rows, q.start, q.end, districts_of(q)).items()
        }
        expected = {y: c for y, c in expected.items() if c}
        assert ours == expected, q
        # the monthly chart, month by month
        chart = {(m.month, g): n for m in report.months for g, n in m.counts.items() if n}
        assert chart == brute_force_months(rows, q.start, q.end, districts_of(q)), q
        # the district map adds up to the same totals
        for g in ("shootings", "homicide"):
            total = sum(c.get(g, 0) for c in expected.values())
            assert sum(m.counts[g] for m in report.months) == total, q
            assert sum(d.counts[g] for d in report.districts) == total, q
        total = sum(c.get("violent_crime", 0) for c in expected.values())
        assert sum(d.counts["violent_crime"] for d in report.districts) == total, q


def test_split_period_covers_each_day_once() -> None:
    rng = random.Random(7)
    for _ in range(300):
        a = date(2011, 1, 1) + timedelta(days=rng.randrange(2000))
        b = a + timedelta(days=rng.choice([0, 1, 27, 31, 59, 365, 366, 800, rng.randrange(1500)]))
        pieces = split_period(a, b)
        covered: list[date] = []
        for y0, y1 in pieces.years:
            for y in range(y0, y1 + 1):
                covered += [
                    date(y, 1, 1) + timedelta(days=i)
                    for i in range((date(y + 1, 1, 1) - date(y, 1, 1)).days)
                ]
        for m0, m1 in pieces.months:
            d = m0
            while d <= m1 or (d.year, d.month) == (m1.year, m1.month):
                covered.append(d)
                d += timedelta(days=1)
        for d0, d1 in pieces.days:
            covered += [d0 + timedelta(days=i) for i in range((d1 - d0).days + 1)]
        assert sorted(covered) == [a + timedelta(days=i) for i in range((b - a).days + 1)], (a, b)
        assert len(pieces.days) <= 4
        assert len(pieces.months) <= 2
        assert len(pieces.years) <= 1
