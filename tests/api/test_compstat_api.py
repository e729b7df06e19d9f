"""Compstat over HTTP: the same numbers as the command line, CSV, map, clear errors."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from smart_policing.cli import app as cli
from smart_policing.data import builtin_mapping, import_file
from smart_policing.data.boundaries import import_boundaries
from smart_policing.model.boundaries import BoundaryKind
from smart_policing.security.roles import Role

HEADER = (
    "CrimeDate,CrimeTime,CrimeCode,Location,Description,Inside/Outside,Weapon,Post,District,"
    "Neighborhood,Longitude,Latitude,Location 1,Premise,Total Incidents\n"
)
ROWS = [
    # 2017: 2 homicide victims of one incident, a robbery, a shooting; 2018: one homicide
    "03/01/2017,01:00:00,1F,100 N MAIN ST,HOMICIDE,O,FIREARM,111,WESTERN,Downtown,-76.65,39.29,,STREET,1",
    "03/01/2017,01:00:00,1F,100 N MAIN ST,HOMICIDE,O,FIREARM,111,WESTERN,Downtown,-76.65,39.29,,STREET,1",
    "04/02/2017,13:00:00,3B,200 E NORTH AVE,ROBBERY - STREET,O,,312,EASTERN,Oliver,-76.59,39.31,,STREET,1",
    "05/03/2017,22:00:00,9S,300 W BALTIMORE ST,SHOOTING,O,FIREARM,111,WESTERN,Downtown,-76.65,39.29,,STREET,1",
    "06/04/2018,02:00:00,1F,400 S MAIN ST,HOMICIDE,O,FIREARM,312,EASTERN,Oliver,-76.59,39.31,,STREET,1",
]
SQUARE = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Western"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [-76.7, 39.25],
                        [-76.62, 39.25],
                        [-76.62, 39.33],
                        [-76.7, 39.33],
                        [-76.7, 39.25],
                    ]
                ],
            },
        }
    ],
}


def _load(engine: Engine, tmp_path: Path) -> None:
    f = tmp_path / "p1.csv"
    f.write_text(HEADER + "\n".join(ROWS) + "\n")
    import_file(engine, f, builtin_mapping("baltimore-part1"), timezone="America/New_York")
    g = tmp_path / "districts.geojson"
    g.write_text(json.dumps(SQUARE))
    import_boundaries(engine, g, kind=BoundaryKind("district"), layer="test")


def test_api_and_command_line_print_the_same_numbers(
    engine: Engine, tmp_path: Path, signed_in_client: Callable[..., TestClient]
) -> None:
    _load(engine, tmp_path)
    client = signed_in_client(Role.SUPERVISOR)
    api = client.get("/api/compstat").json()
    url = engine.url.render_as_string(hide_password=False)
    printed = CliRunner().invoke(cli, ["--db", url, "compstat", "--json"])
    assert printed.exit_code == 0, printed.output
    cli_json = json.loads(printed.stdout)
    assert api["rows"] == cli_json["rows"]
    assert api["years"] == cli_json["years"]
    counts = {(r["year"], r["group"]): r["count"] for r in api["rows"]}
    assert counts[(2017, "homicide")] == 2  # victims
    assert counts[(2017, "robbery")] == 1
    assert counts[(2017, "shootings")] == 1
    assert counts[(2017, "violent_crime")] == 3
    assert counts[(2018, "homicide")] == 1
    # seed 002's population for 2017 is 610,226: 2 / 610,226 * 100,000 = 0.33 (2 decimals)
    rate = next(r for r in api["rows"] if (r["year"], r["group"]) == (2017, "homicide"))
    assert rate["rate_per_100k"] == round(2 / 610_226 * 100_000, 2) == 0.33
    western = client.get("/api/compstat", params={"district": "WESTERN"}).json()
    assert {(r["year"], r["group"]): r["count"] for r in western["rows"]}[(2018, "homicide")] == 0


def test_csv_download_and_district_map(
    engine: Engine, tmp_path: Path, signed_in_client: Callable[..., TestClient]
) -> None:
    _load(engine, tmp_path)
    client = signed_in_client(Role.ANALYST)
    reply = client.get("/api/compstat.csv", params={"start": "2017-01-01", "end": "2017-12-31"})
    assert reply.headers["content-type"].startswith("text/csv")
    assert "compstat_baltimore_2017-03-01_2017-12-31.csv" in reply.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    assert {r["year"] for r in rows} == {"2017"}
    assert next(r for r in rows if r["group"] == "homicide")["count"] == "2"
    geo = client.get("/api/compstat/districts").json()
    assert [f["properties"]["name"] for f in geo["features"]] == ["Western"]
    western = geo["features"][0]["properties"]
    assert western["counts"]["homicide"] == 2
    assert western["counts"]["shootings"] == 1
    # EASTERN has incidents but no polygon: listed, not dropped
    assert [u["district"] for u in geo["unmapped"]] == ["EASTERN"]


def test_bad_queries_name_the_field(
    engine: Engine, tmp_path: Path, signed_in_client: Callable[..., TestClient]
) -> None:
    _load(engine, tmp_path)
    client = signed_in_client(Role.ANALYST)
    backwards = client.get("/api/compstat", params={"start": "2018-01-01", "end": "2017-01-01"})
    assert backwards.status_code == 422
    assert "after end" in backwards.json()["detail"]
    unknown = client.get("/api/compstat", params={"group": "murder"})
    assert unknown.status_code == 422
    assert "unknown group" in unknown.json()["detail"]
    ancient = client.get("/api/compstat", params={"end": "0001-01-01"})
    assert ancient.status_code == 422
    assert "between 1900-01-01" in json.dumps(ancient.json())
