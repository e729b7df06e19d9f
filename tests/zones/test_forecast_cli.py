"""``smart-policing zones forecast`` on a tiny Open Baltimore-format file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely
from shapely.geometry import shape
from typer.testing import CliRunner

from smart_policing.cli import app

runner = CliRunner()
HEADER = (
    "CrimeDate,CrimeTime,CrimeCode,Location,Description,Inside/Outside,Weapon,Post,District,"
    "Neighborhood,Longitude,Latitude,Location 1,Premise,Total Incidents"
)


def row(day: str, desc: str, weapon: str, lon: float, lat: float, time: str = "12:00:00") -> str:
    return (
        f"{day},{time},9S,100 N TEST ST,{desc},O,{weapon},111.0,CENTRAL,Test,{lon},{lat},"
        f'"({lat}, {lon})",STREET,1'
    )


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    rows = [
        row("03/01/2014", "SHOOTING", "FIREARM", -76.6101, 39.2901),
        row("03/02/2014", "AGG. ASSAULT", "FIREARM", -76.6102, 39.2902),
        row("03/03/2014", "HOMICIDE", "FIREARM", -76.6101, 39.2902),
        row("03/04/2014", "BURGLARY", "", -76.6190, 39.2980),  # not a gun incident
        row("03/05/2014", "ROBBERY - STREET", "FIREARM", -76.6050, 39.2850),
        row("06/01/2014", "SHOOTING", "FIREARM", -76.6190, 39.2980),  # after --end
    ]
    csv = tmp_path / "part1.csv"
    csv.write_text("\n".join([HEADER, *rows]) + "\n")
    square = shapely.box(-76.62, 39.28, -76.60, 39.30)
    geo = tmp_path / "city.geojson"
    geo.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": shapely.geometry.mapping(square),
                    }
                ],
            }
        )
    )
    return csv, geo


def test_writes_the_top_cell_holding_the_cluster(files: tuple[Path, Path], tmp_path: Path) -> None:
    csv, geo = files
    out = tmp_path / "top.geojson"
    args = ["zones", "forecast", str(csv), "--boundaries", str(geo), "--out", str(out)]
    args += ["--end", "2014-03-31", "--cell-m", "300", "--area-share", "0.01", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["incidents_fitted"] == 4  # three clustered + one robbery; not the burglary
    assert summary["forecast_day"] == "2014-04-01"
    assert summary["cells_written"] == 1
    doc = json.loads(out.read_text())
    (feature,) = doc["features"]
    assert feature["properties"]["rank"] == 1
    assert feature["properties"]["risk"] == 3.0  # naive counts: the three clustered incidents
    assert shape(feature["geometry"]).contains(shapely.Point(-76.61015, 39.29015))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--method", "magic", "--end", "2014-03-31"], "--method 'magic'"),
        (["--end", "2014-03-31", "--area-share", "0"], "--area-share"),
        (["--end", "2014-3-31"], "--end"),
        ([], "give --at or --end"),
        (["--end", "2014-03-31", "--at", "2014-03-01"], "must be after --end"),
    ],
)
def test_bad_options_exit_2_naming_the_option(
    files: tuple[Path, Path], tmp_path: Path, extra: list[str], message: str
) -> None:
    csv, geo = files
    args = ["zones", "forecast", str(csv), "--boundaries", str(geo)]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "o.geojson"), *extra])
    assert result.exit_code == 2
    assert message in result.output.replace("\n", "")
