"""A tiny hand-made city in the Open Baltimore Part 1 format, with known counts.

Times are local (America/New_York). ``xN`` = N identical victim rows = one incident
with victim_count N (the importer's grouping rule)::

    local day    code  group               district  rows  note
    2016-01-01   6D    (outside)           NORTHERN  1     first day of data
    2016-01-10   1F    homicide            WESTERN   x2    2 victims, 1 incident
    2016-03-05   3B    robbery             EASTERN   x3    robbery counts 1 (incident)
    2016-06-01   4A    aggravated_assault  WESTERN   1
    2016-06-01   9S    shootings           WESTERN   1     same event, not in violent crime
    2016-07-04   5A    (outside)           WESTERN   x2
    2016-12-31   4B    aggravated_assault  EASTERN   1     23:30 EST = 2017-01-01 04:30 UTC
    2017-01-01   1K    homicide            EASTERN   1     00:30 EST = 2017-01-01 05:30 UTC
    2017-02-14   2A    rape                WESTERN   1
    2017-02-20   3AF   robbery             WESTERN   1
    2017-02-21   3AF   robbery             WESTERN   x2
    2017-08-08   6D    (outside)           EASTERN   1
    2017-09-09   4C    aggravated_assault  (none)    1
    2017-11-30   9S    shootings           EASTERN   x3
    2017-12-31   6D    (outside)           NORTHERN  1     23:50 EST, last day of data

Per year: 2016 homicide 2, rape 0, robbery 1, agg. assault 2, shootings 1, violent 5;
2017 homicide 1, rape 1, robbery 2, agg. assault 1, shootings 3, violent 5. Outside
every group: 4 incidents, 5 victims. 15 incidents, 22 victim rows.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

Row = tuple[str, str, str, str, str, str, int]
WritePart1 = Callable[[str, list[Row]], Path]

HEADER = (
    "CrimeDate,CrimeTime,CrimeCode,Location,Description,Inside/Outside,Weapon,Post,District,"
    "Neighborhood,Longitude,Latitude,Location 1,Premise,Total Incidents\n"
)

# (date, time, code, description, weapon, district, rows)
CITY = [
    ("01/01/2016", "00:10:00", "6D", "LARCENY FROM AUTO", "", "NORTHERN", 1),
    ("01/10/2016", "10:00:00", "1F", "HOMICIDE", "FIREARM", "WESTERN", 2),
    ("03/05/2016", "22:00:00", "3B", "ROBBERY - STREET", "", "EASTERN", 3),
    ("06/01/2016", "12:00:00", "4A", "AGG. ASSAULT", "FIREARM", "WESTERN", 1),
    ("06/01/2016", "12:00:00", "9S", "SHOOTING", "FIREARM", "WESTERN", 1),
    ("07/04/2016", "14:00:00", "5A", "BURGLARY", "", "WESTERN", 2),
    ("12/31/2016", "23:30:00", "4B", "AGG. ASSAULT", "KNIFE", "EASTERN", 1),
    ("01/01/2017", "00:30:00", "1K", "HOMICIDE", "KNIFE", "EASTERN", 1),
    ("02/14/2017", "21:00:00", "2A", "RAPE", "", "WESTERN", 1),
    ("02/20/2017", "09:00:00", "3AF", "ROBBERY - STREET", "FIREARM", "WESTERN", 1),
    ("02/21/2017", "09:00:00", "3AF", "ROBBERY - STREET", "FIREARM", "WESTERN", 2),
    ("08/08/2017", "08:00:00", "6D", "LARCENY FROM AUTO", "", "EASTERN", 1),
    ("09/09/2017", "19:00:00", "4C", "AGG. ASSAULT", "OTHER", "", 1),
    ("11/30/2017", "02:00:00", "9S", "SHOOTING", "FIREARM", "EASTERN", 3),
    ("12/31/2017", "23:50:00", "6D", "LARCENY FROM AUTO", "", "NORTHERN", 1),
]


def part1_csv(rows: list[Row]) -> str:
    """Part 1 CSV text with each row repeated ``rows`` times (identical victim rows)."""
    lines = [HEADER]
    for i, (day, time, code, desc, weapon, district, n) in enumerate(rows):
        line = (
            f"{day},{time},{code},{100 + i} TEST ST,{desc},O,{weapon},111.0,{district},"
            f"Testville,-76.6,39.29,,STREET,1\n"
        )
        lines += [line] * n
    return "".join(lines)


@pytest.fixture
def write_part1(tmp_path: Path) -> WritePart1:
    """``write_part1(name, rows)``: a Part 1 CSV file of ``rows`` in the test's folder."""

    def write(name: str, rows: list[Row]) -> Path:
        path = tmp_path / name
        path.write_text(part1_csv(rows))
        return path

    return write


@pytest.fixture
def city_file(write_part1: WritePart1) -> Path:
    """The hand-made city above as a Part 1 CSV file."""
    return write_part1("city.csv", CITY)
