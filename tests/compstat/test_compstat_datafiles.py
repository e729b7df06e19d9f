"""Group and population files: the shipped ones load; mistakes are refused at load with
the file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from smart_policing.compstat import builtin_groups, builtin_population, load_groups
from smart_policing.compstat.population import (
    UcrPopulationError,
    load_population_file,
    merge_population,
    read_ucr_population,
)
from smart_policing.datafiles import DataFileError


def test_shipped_baltimore_groups() -> None:
    g = builtin_groups("baltimore")
    assert [x.id for x in g.groups] == [
        "homicide",
        "rape",
        "robbery",
        "aggravated_assault",
        "shootings",
        "violent_crime",
    ]
    assert {x.id: x.counts for x in g.base_groups} == {
        "homicide": "victims",
        "rape": "victims",
        "robbery": "incidents",
        "aggravated_assault": "victims",
        "shootings": "victims",
    }
    assert g.get("violent_crime").of == ("homicide", "rape", "robbery", "aggravated_assault")
    codes = ["1F", "1k", "2B", "3AJF", "3P", "4D", "4E", "4F", "9S", "5A", "6D", "8H", "13"]
    assert g.classify(codes) == {
        "1F": "homicide",
        "1k": "homicide",
        "2B": "rape",
        "3AJF": "robbery",
        "3P": "robbery",
        "4D": "aggravated_assault",
        "4E": None,  # common assault
        "4F": None,  # assault by threat
        "9S": "shootings",
        "5A": None,
        "6D": None,
        "8H": None,
        "13": None,
    }
    assert all(g.classify([c])[c] == (x.id if x else None) for c in codes for x in [g.group_of(c)])


def test_shipped_baltimore_population_is_seed_002_table_1() -> None:
    p = builtin_population("baltimore")
    assert {f.year: f.population for f in p.figures} == {
        2017: 610_226,
        2018: 602_443,
        2019: 593_490,
        2020: 584_573,
        2021: 575_584,
        2022: 569_931,
    }
    assert all("Table 1" in f.source and f.origin == "file" for f in p.figures)


def test_unknown_city() -> None:
    with pytest.raises(KeyError, match="unknown city 'gotham'"):
        builtin_groups("gotham")


GOOD = """\
schema_version: 1
city: testville
name: Testville
chart: [shootings]
groups:
  - id: homicide
    label: Homicide
    counts: victims
    codes: [1A]
  - id: shootings
    label: Shootings
    counts: victims
    codes: [9S]
  - id: violent_crime
    label: Violent crime
    of: [homicide]
"""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("schema_version: 1", "schema_version: 2", "line 1, field 'schema_version'"),
        (
            "    counts: victims\n    codes: [1A]",
            "    codes: [1A]",
            "line 6, field 'groups.0.counts': a base group says what it counts",
        ),
        (
            "counts: victims\n    codes: [1A]",
            "counts: people\n    codes: [1A]",
            "line 8, field 'groups.0.counts': Input should be 'victims' or 'incidents'",
        ),
        (
            "    codes: [9S]",
            "    codes: [9S, 1a]",
            "line 13, field 'groups.1.codes.1': '1a' is already in 'homicide'",
        ),
        (
            "    of: [homicide]",
            "    of: [homicide, murder]",
            "line 16, field 'groups.2.of.1': 'murder' is not a base group",
        ),
        (
            "    of: [homicide]",
            "    of: [homicide]\n    codes: [1B]",
            "line 17, field 'groups.2.codes': a composite group (of) takes no codes",
        ),
        (
            "chart: [shootings]",
            "chart: [shooting]",
            "line 4, field 'chart.0': 'shooting' is not a group",
        ),
        (
            "  - id: shootings",
            "  - id: Shootings",
            "line 10, field 'groups.1.id': String should match pattern",
        ),
        (
            "    label: Shootings\n",
            "    label: Shootings\n    colour: red\n",
            "line 12, field 'groups.1.colour': Extra inputs are not permitted",
        ),
        (
            "    codes: [9S]",
            "    prefixes: ['1']",
            "line 13, field 'groups.1.prefixes.0': prefix '1' overlaps 'homicide' (1A)",
        ),
        (
            "  - id: shootings",
            "  - id: homicide",
            "line 10, field 'groups.1.id': duplicate group id 'homicide'",
        ),
    ],
)
def test_group_file_errors_name_line_and_field(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in GOOD
    path = tmp_path / "groups.yaml"
    path.write_text(GOOD.replace(old, new))
    with pytest.raises(DataFileError) as info:
        load_groups(path)
    assert str(info.value).startswith(f"{path}, "), str(info.value)
    assert message in str(info.value), str(info.value)


def test_good_group_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "groups.yaml"
    path.write_text(GOOD)
    assert load_groups(path).get("violent_crime").composite


POPULATION = """\
schema_version: 1
city: testville
name: Testville
figures:
  - {year: 2020, population: 1000, source: census}
  - {year: 2021, population: 1010, source: census}
"""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "year: 2021",
            "year: 2020",
            "line 6, field 'figures.1.year': year 2020 is listed twice",
        ),
        (
            "population: 1010",
            "population: -5",
            "line 6, field 'figures.1.population': Input should be greater than 0",
        ),
        (
            "population: 1010",
            "population: many",
            "line 6, field 'figures.1.population': Input should be a valid integer",
        ),
        (
            "source: census}\n  - {year: 2021",
            "source: ''}\n  - {year: 2021",
            "line 5, field 'figures.0.source'",
        ),
    ],
)
def test_population_file_errors(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in POPULATION
    path = tmp_path / "pop.yaml"
    path.write_text(POPULATION.replace(old, new))
    with pytest.raises(DataFileError) as info:
        load_population_file(path)
    assert message in str(info.value), str(info.value)


def test_stored_figures_override_shipped(tmp_path: Path) -> None:
    path = tmp_path / "pop.yaml"
    path.write_text(POPULATION)
    shipped = load_population_file(path).figures
    stored = [shipped[1].model_copy(update={"population": 999, "origin": "database"})]
    merged = merge_population(shipped, stored)
    assert {y: (f.population, f.origin) for y, f in merged.items()} == {
        2020: (1000, "file"),
        2021: (999, "database"),
    }


UCR = """\
JURISDICTION,YEAR,POPULATION,MURDER
Allegany County,2015,72000,1
Baltimore City,2014,623513,211
baltimore city ,2015,"621,252",344
"""


def test_read_ucr_population() -> None:
    assert read_ucr_population(UCR, jurisdiction="Baltimore City") == [
        (2014, 623_513),
        (2015, 621_252),
    ]
    with pytest.raises(
        UcrPopulationError, match=r"no rows for jurisdiction 'Gotham'.*Allegany County"
    ):
        read_ucr_population(UCR, jurisdiction="Gotham")
    with pytest.raises(UcrPopulationError, match="line 3, column POPULATION: 'n/a'"):
        read_ucr_population(UCR.replace("623513", "n/a"), jurisdiction="Baltimore City")
    with pytest.raises(UcrPopulationError, match=r"missing column.*POPULATION"):
        read_ucr_population("JURISDICTION,YEAR\nx,1\n", jurisdiction="x")
    with pytest.raises(UcrPopulationError, match="line 4: year 2014 is listed twice"):
        read_ucr_population(UCR.replace(',2015,"621', ',2014,"621'), jurisdiction="Baltimore City")
