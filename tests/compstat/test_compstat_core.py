"""The pure core: counts in, report out (no database)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from smart_policing.compstat import (
    CodeCount,
    CompstatQuery,
    GroupSet,
    build_report,
    builtin_groups,
)
from smart_policing.compstat.core import DataCoverage
from smart_policing.compstat.population import PopulationFigure

GROUPS = builtin_groups("baltimore")


def coverage(first: date, last: date) -> DataCoverage:
    return DataCoverage(
        version="v",
        first_day=first,
        last_day=last,
        incidents=0,
        victims=0,
        built_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def year_rows() -> list[CodeCount]:
    return [
        CodeCount(2018, "1F", 1, 3),  # 3 homicide victims
        CodeCount(2019, "1F", 2, 2),
        CodeCount(2019, "3B", 4, 9),  # 4 robberies, 9 victim rows
        CodeCount(2019, "9S", 1, 2),
        CodeCount(2019, "7A", 10, 10),  # auto theft: outside
    ]


def month_rows() -> list[CodeCount]:  # the chart's codes only (homicide, shootings)
    return [
        CodeCount(date(2018, 7, 1), "1F", 1, 3),
        CodeCount(date(2019, 1, 1), "1F", 2, 2),
        CodeCount(date(2019, 2, 1), "9S", 1, 2),
    ]


def test_data_starting_mid_year_is_partial_and_not_compared() -> None:
    population = {2019: PopulationFigure(year=2019, population=593_490, source="seed 002")}
    r = build_report(
        query=CompstatQuery(),
        groups=GROUPS,
        by_year=year_rows(),
        by_month=month_rows(),
        by_district=[],
        population=population,
        data=coverage(date(2018, 7, 1), date(2019, 12, 31)),
        timezone="America/New_York",
    )
    assert [(y.year, y.days, y.partial, y.population) for y in r.years] == [
        (2018, 184, True, None),
        (2019, 365, False, 593_490),
    ]
    rows = {(x.year, x.group): x for x in r.rows}
    assert rows[(2018, "homicide")].count == 3
    assert rows[(2018, "homicide")].rate_per_100k is None  # no population, never guessed
    assert rows[(2019, "homicide")].count == 2
    assert rows[(2019, "homicide")].change is None  # 2018 is partial
    assert rows[(2019, "robbery")].count == 4
    assert rows[(2019, "violent_crime")].count == 6
    assert rows[(2019, "violent_crime")].rate_per_100k == round(6e5 / 593_490, 2) == 1.01
    assert rows[(2019, "shootings")].count == 2
    assert (r.outside_groups.incidents, r.outside_groups.victims) == (10, 10)
    assert [(m.month, m.counts) for m in r.months][:2] == [
        ("2018-07", {"shootings": 0, "homicide": 3}),
        ("2018-08", {"shootings": 0, "homicide": 0}),
    ]
    assert r.months[7].counts == {"shootings": 2, "homicide": 0}
    assert len(r.months) == 18
    assert any("No population figure for 2018" in n for n in r.notes)
    assert any("Partial years" in n for n in r.notes)
    json.dumps(r.model_dump(mode="json"))  # JSON-ready


def test_no_data() -> None:
    r = build_report(
        query=CompstatQuery(start=date(2020, 1, 1)),
        groups=GROUPS,
        by_year=[],
        by_month=[],
        by_district=[],
        population={},
        data=DataCoverage(
            version="0",
            first_day=None,
            last_day=None,
            incidents=0,
            victims=0,
            built_at=datetime(2026, 1, 1, tzinfo=UTC),
        ),
        timezone="UTC",
    )
    assert (r.years, r.rows, r.months, r.filters.effective_start) == ([], [], [], None)


def test_query_validation() -> None:
    q = CompstatQuery(district="Western", groups=["homicide", "homicide", " "])
    assert (q.district, q.groups) == (("Western",), ("homicide",))
    assert CompstatQuery(district=[]).district is None
    with pytest.raises(ValidationError, match="start 2020-02-01 is after end 2020-01-01"):
        CompstatQuery(start=date(2020, 2, 1), end=date(2020, 1, 1))
    with pytest.raises(ValidationError, match="city"):
        CompstatQuery(city="../etc")
    with pytest.raises(ValidationError, match="Extra inputs"):
        CompstatQuery.model_validate({"distrct": "x"})
    assert hash(q) == hash(CompstatQuery(district=["Western"], groups=["homicide"]))


def test_composite_listed_before_its_members() -> None:
    groups = GroupSet.model_validate(
        {
            "schema_version": 1,
            "city": "testville",
            "name": "Testville",
            "groups": [
                {"id": "violent", "label": "Violent", "of": ["murder", "robbery"]},
                {"id": "murder", "label": "Murder", "counts": "victims", "codes": ["M"]},
                {"id": "robbery", "label": "Robbery", "counts": "incidents", "prefixes": ["R"]},
            ],
        }
    )
    r = build_report(
        query=CompstatQuery(city="testville"),
        groups=groups,
        by_year=[
            CodeCount(2020, "M", 2, 5),
            CodeCount(2020, "R1", 3, 4),
            CodeCount(2020, "X", 1, 1),
        ],
        by_month=[],
        by_district=[CodeCount("", "r2", 1, 2)],
        population={},
        data=coverage(date(2020, 1, 1), date(2020, 12, 31)),
        timezone="UTC",
    )
    assert {x.group: x.count for x in r.rows} == {"violent": 8, "murder": 5, "robbery": 3}
    assert r.districts[0].district is None
    assert r.districts[0].counts == {"violent": 1, "murder": 0, "robbery": 1}
    assert r.months == [] or all(m.counts == {} for m in r.months)
