"""``smart-policing compstat``: the same JSON as the query layer (and the API), CSV,
population commands, and exit status 2 for bad input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from smart_policing.cli import app
from smart_policing.compstat import CompstatQuery, compstat_report
from smart_policing.settings import Settings
from smart_policing.store import make_engine

runner = CliRunner()


def run(db: str, *args: str) -> dict[str, object] | list[object]:
    result = runner.invoke(app, ["--db", db, *args])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, dict | list)
    return data


def test_json_equals_the_query_layer(tmp_path: Path, city_file: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    run(db, "--json", "import", "baltimore-part1", str(city_file))
    out = tmp_path / "table.csv"
    # --json after the command, as the acceptance form of issue 3
    printed = run(
        db,
        "compstat",
        "--start",
        "2016-06-01",
        "--district",
        "western",
        "--csv",
        str(out),
        "--json",
    )
    engine = make_engine(db)
    report = compstat_report(
        engine,
        CompstatQuery(start="2016-06-01", district=["western"]),
        Settings(database_url=db),
    )
    engine.dispose()
    assert printed == report.model_dump(mode="json")
    assert isinstance(printed, dict)
    assert printed["filters"]["districts"] == ["western"]
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["year"], r["group"], r["count"]) for r in rows if r["group"] == "robbery"] == [
        ("2016", "robbery", "0"),
        ("2017", "robbery", "2"),
    ]


def test_human_table(tmp_path: Path, city_file: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    run(db, "--json", "import", "baltimore-part1", str(city_file))
    result = runner.invoke(app, ["--db", db, "compstat", "--group", "homicide"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Baltimore City: violent crime, 2016-01-01 to 2017-12-31, all districts" in text
    assert "│ 2016 │ - │ 2 │" in text
    assert "│ 2017 │ 610,226 │ 1 (0.2) [-50.0%] │" in text
    assert "Outside every group: 4 incidents" in text


def test_population_commands(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'p.db'}"
    added = run(
        db,
        "--json",
        "compstat",
        "population",
        "add",
        "--year",
        "2016",
        "--population",
        "614664",
        "--source",
        "Census estimate",
    )
    assert added == {
        "year": 2016,
        "population": 614664,
        "source": "Census estimate",
        "origin": "database",
    }
    ucr = tmp_path / "ucr.csv"
    ucr.write_text(
        "JURISDICTION,YEAR,POPULATION\nBaltimore City,2015,621252\nBaltimore City,2016,618385\n"
        "Baltimore City,2017,613217\nAllegany County,2015,72000\n"
    )
    imported = run(
        db,
        "--json",
        "compstat",
        "population",
        "import-ucr",
        str(ucr),
        "--jurisdiction",
        "Baltimore City",
        "--to-year",
        "2016",
    )
    assert imported == {
        "city": "baltimore",
        "added": 2,
        "years": [2015, 2016],
        "source": "UCR ucr.csv, Baltimore City",
    }
    listed = run(db, "compstat", "population", "list", "--json")
    assert isinstance(listed, list)
    assert [(f["year"], f["population"], f["origin"]) for f in listed] == [
        (2015, 621252, "database"),
        (2016, 618385, "database"),  # the UCR import replaced the figure added first
        (2017, 610226, "file"),
        (2018, 602443, "file"),
        (2019, 593490, "file"),
        (2020, 584573, "file"),
        (2021, 575584, "file"),
        (2022, 569931, "file"),
    ]


def test_bad_input_exits_2(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'b.db'}"
    cases = [
        (["compstat", "--start", "2016-13-01"], "--start '2016-13-01' is not a date"),
        (
            ["compstat", "--start", "2017-01-01", "--end", "2016-01-01"],
            "start 2017-01-01 is after end 2016-01-01",
        ),
        (["compstat", "--group", "murder"], "unknown group(s) 'murder'"),
        (["compstat", "--city", "gotham"], "unknown city 'gotham'"),
        (
            [
                "compstat",
                "population",
                "add",
                "--year",
                "2016",
                "--population",
                "0",
                "--source",
                "x",
            ],
            "greater than 0",
        ),
        (
            [
                "compstat",
                "population",
                "import-ucr",
                str(tmp_path / "none.csv"),
                "--jurisdiction",
                "X",
            ],
            "cannot read",
        ),
    ]
    for args, message in cases:
        result = runner.invoke(app, ["--db", db, *args])
        assert result.exit_code == 2, (args, result.output)
        assert message in " ".join(result.output.split()), (args, result.output)


def test_rebuild_command(tmp_path: Path, city_file: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.db'}"
    run(db, "--json", "import", "baltimore-part1", str(city_file))
    rebuilt = run(db, "--json", "compstat", "rebuild")
    assert rebuilt == {"version": "1.1.15", "incidents": 15, "victims": 22}


def test_custom_group_file(tmp_path: Path, city_file: Path) -> None:
    db = f"sqlite:///{tmp_path / 'g.db'}"
    run(db, "--json", "import", "baltimore-part1", str(city_file))
    groups = tmp_path / "guns.yaml"
    groups.write_text(
        "schema_version: 1\ncity: testville\nname: Testville\nchart: [gun_violence]\n"
        "groups:\n"
        "  - {id: gun_homicide, label: Gun homicide, counts: victims, codes: [1F]}\n"
        "  - {id: shootings, label: Shootings, counts: victims, codes: [9S]}\n"
        "  - {id: gun_violence, label: Gun violence, of: [gun_homicide, shootings]}\n"
    )
    report = run(db, "--json", "compstat", "--groups", str(groups))
    assert isinstance(report, dict)
    assert report["city"] == "testville"
    assert [(r["year"], r["group"], r["count"]) for r in report["rows"]] == [
        (2016, "gun_homicide", 2),
        (2016, "shootings", 1),
        (2016, "gun_violence", 3),
        (2017, "gun_homicide", 0),
        (2017, "shootings", 3),
        (2017, "gun_violence", 3),
    ]
    assert report["rates_available"] is True
    assert all(r["rate_per_100k"] is None for r in report["rows"])  # no population for testville
    groups.write_text(groups.read_text().replace("counts: victims, codes: [9S]", "codes: [9S]"))
    result = runner.invoke(app, ["--db", db, "compstat", "--groups", str(groups)])
    assert result.exit_code == 2
    assert "line 7, field 'groups.1.counts'" in result.output
