"""``smart-policing zones build`` and ``zones score`` on a tiny Open Baltimore file."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from smart_policing.cli import app

runner = CliRunner()
HEADER = (
    "CrimeDate,CrimeTime,CrimeCode,Location,Description,Inside/Outside,Weapon,Post,District,"
    "Neighborhood,Longitude,Latitude,Location 1,Premise,Total Incidents"
)
LON0, LAT0 = -76.62, 39.29  # south-west corner of the test city


def _row(day: str, desc: str, weapon: str, lon: float, lat: float, time: str = "12:00:00") -> str:
    return (
        f"{day},{time},9S,100 N TEST ST,{desc},O,{weapon},111.0,WEST,Nowhere,{lon:.6f},{lat:.6f},"
        f'"({lat:.6f}, {lon:.6f})",STREET,1'
    )


def _files(tmp_path: Path) -> tuple[Path, Path]:
    rows = [HEADER]
    # 2014: 20 shootings in one 40 m spot in the west district (one of them with 3 victims)
    for i in range(20):
        rows.append(
            _row("06/01/2014", "SHOOTING", "FIREARM", LON0 + 0.002 + i * 2e-5, LAT0 + 0.004,
                 time=f"10:{i:02d}:00")
        )  # fmt: skip
    rows += [rows[1], rows[1]]  # two more victim rows of the first shooting
    # robberies with a firearm count as gun incidents; burglaries do not
    rows += [_row("07/01/2014", "ROBBERY - STREET", "FIREARM", LON0 + 0.012, LAT0 + 0.004)] * 1
    rows += [_row("07/02/2014", "BURGLARY", "", LON0 + 0.012, LAT0 + 0.0041 + i * 1e-5)
             for i in range(30)]  # fmt: skip
    # 2015: 4 homicides in the hot spot, 1 elsewhere; one row without coordinates
    rows += [_row("03/01/2015", "HOMICIDE", "FIREARM", LON0 + 0.002, LAT0 + 0.004 + i * 1e-5)
             for i in range(4)]  # fmt: skip
    rows.append(_row("03/02/2015", "HOMICIDE", "KNIFE", LON0 + 0.015, LAT0 + 0.007))
    rows.append("03/03/2015,12:00:00,9S,X,SHOOTING,O,FIREARM,111.0,WEST,N,,,,STREET,1")
    csv = tmp_path / "part1.csv.gz"
    csv.write_bytes(gzip.compress(("\n".join(rows) + "\n").encode()))

    def square(x0: float, x1: float) -> list[list[float]]:
        y0, y1 = LAT0, LAT0 + 0.01
        return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]

    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": [
            {"type": "Feature", "properties": {"name": n},
             "geometry": {"type": "Polygon", "coordinates": [square(a, b)]}}
            for n, a, b in (("West", LON0, LON0 + 0.01), ("East", LON0 + 0.01, LON0 + 0.02))
        ],
    }  # fmt: skip
    districts = tmp_path / "districts.geojson"
    districts.write_text(json.dumps(doc))
    return csv, districts


def run(tmp_path: Path, *args: str, code: int = 0) -> Any:
    db = f"sqlite:///{tmp_path / 'z.db'}"
    result = runner.invoke(app, ["--db", db, "--timezone", "America/New_York", *args])
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if code == 0 and "--json" in args else result.output


SMALL = ("--cell-m", "50", "--bandwidth-m", "0", "--min-area-m2", "2500",
         "--max-area-m2", "40000")  # fmt: skip


def test_build_then_score(tmp_path: Path) -> None:
    csv, districts = _files(tmp_path)
    out = tmp_path / "zones.geojson"
    built = run(tmp_path, "zones", "build", "--incidents", str(csv), "--start", "2014-01-01",
                "--end", "2014-12-31", "--target-share", "0.9", "--districts", str(districts),
                "--out", str(out), *SMALL, "--json")  # fmt: skip
    # 21 gun incidents in 2014 (victim rows grouped: 22 extra rows are 1 incident's victims,
    # burglaries left out): 20 in the hot spot, 1 robbery with a firearm in the east
    assert built["incidents"] == 21
    assert built["captured"] >= 19
    assert built["target_met"] is True
    top = built["zones_table"][0]
    assert (top["zone_id"], top["district"], top["rank"]) == ("Z001", "West", 1)
    assert top["incidents"] >= 19
    doc = json.loads(out.read_text())
    assert doc["features"][0]["properties"] == top
    lon, lat = doc["features"][0]["geometry"]["coordinates"][0][0]
    assert abs(lon - LON0) < 0.02
    assert abs(lat - LAT0) < 0.02

    scored = run(tmp_path, "zones", "score", str(out), "--incidents", str(csv), "--start",
                 "2015-01-01", "--end", "2015-12-31", "--districts", str(districts),
                 "--json")  # fmt: skip
    # 2015: 5 located homicides in the city (the knife one counts: Description HOMICIDE)
    assert scored["incidents"] == 5
    assert scored["captured"] == 4
    assert scored["capture_share"] == 0.8
    assert [d["district"] for d in scored["districts"]] == ["West", "East"]
    assert scored["districts"][0]["captured"] == 4
    assert scored["pai"] == 0.8 / scored["area_share"]

    cmp = run(tmp_path, "zones", "score", str(out), "--compare", str(out), "--incidents",
              str(csv), "--districts", str(districts), "--json")  # fmt: skip
    assert cmp["capture_ratio"] == 1.0
    assert cmp["stability"]["jaccard"] == 1.0
    assert cmp["stability"]["a_overlap_share"] == 1.0
    assert cmp["a"]["incidents"] == 26  # both years


def test_bad_input_exits_2_naming_it(tmp_path: Path) -> None:
    csv, districts = _files(tmp_path)
    out = str(tmp_path / "z.geojson")
    both = run(tmp_path, "zones", "build", "--incidents", str(csv), "--target-share", "0.3",
               "--area-share", "0.1", "--districts", str(districts), "--out", out, code=2)  # fmt: skip
    assert "at most one of --target-share and --area-share" in both
    missing = run(tmp_path, "zones", "build", "--incidents", str(tmp_path / "nope.csv"),
                  "--area-share", "0.1", "--districts", str(districts), "--out", out, code=2)  # fmt: skip
    assert "--incidents" in missing
    assert "nope.csv" in missing
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature"}]}')
    text = run(tmp_path, "zones", "score", str(bad), "--incidents", str(csv), "--districts",
               str(districts), code=2)  # fmt: skip
    assert "bad.geojson: feature 1 has no geometry" in text.replace("\n", "")
    nodist = run(tmp_path, "zones", "score", str(districts), "--incidents", str(csv), code=2)
    assert "--districts" in nodist
    share = run(tmp_path, "zones", "build", "--incidents", str(csv), "--area-share", "2",
                "--districts", str(districts), "--out", out, code=2)  # fmt: skip
    assert "area_share must be in (0, 1]" in share
    tier = run(tmp_path, "zones", "build", "--incidents", str(csv), "--area-share", "0.1",
               "--tier", "sector", "--districts", str(districts), "--out", out, code=2)  # fmt: skip
    assert "unknown tier 'sector'" in tier


def test_dat_tier_preset_and_override(tmp_path: Path) -> None:
    csv, districts = _files(tmp_path)
    out = str(tmp_path / "z.geojson")
    dat = run(tmp_path, "zones", "build", "--incidents", str(csv), "--area-share", "0.5",
              "--tier", "dat", "--districts", str(districts), "--out", out, "--json")  # fmt: skip
    p = dat["params"]
    assert (p["min_area_m2"], p["max_area_m2"]) == (100_000.0, 1_000_000.0)
    assert (p["max_zones"], p["max_zones_per_district"]) == (11, 2)
    assert dat["zones_table"]
    assert all(100_000 <= z["area_m2"] <= 1_000_000 for z in dat["zones_table"])
    over = run(tmp_path, "zones", "build", "--incidents", str(csv), "--area-share", "0.5",
               "--tier", "dat", "--max-zones", "1", "--districts", str(districts), "--out", out,
               "--json")  # fmt: skip
    assert over["params"]["max_zones"] == 1
    assert len(over["zones_table"]) <= 1
    micro = run(tmp_path, "zones", "build", "--incidents", str(csv), "--area-share", "0.5",
                "--districts", str(districts), "--out", out, "--json")  # fmt: skip
    assert (micro["params"]["max_zones"], micro["params"]["max_area_m2"]) == (120, 400_000.0)


def test_from_db_with_stored_districts_agrees_with_the_file(tmp_path: Path) -> None:
    csv, districts = _files(tmp_path)
    run(tmp_path, "import", "baltimore-part1", str(csv))
    run(tmp_path, "import", "boundaries", str(districts), "--kind", "district", "--name", "d")
    out = tmp_path / "zones.geojson"
    common = ("--start", "2014-01-01", "--end", "2014-12-31", "--target-share", "0.9", *SMALL)
    stored = run(tmp_path, "zones", "build", "--from-db", *common, "--out", str(out), "--json")
    from_file = run(tmp_path, "zones", "build", "--incidents", str(csv), "--districts",
                    str(districts), *common, "--out", str(tmp_path / "f.geojson"), "--json")  # fmt: skip
    assert stored["incidents"] == 21  # the store groups victim rows the same way
    for key in ("zones_table", "captured", "area_m2"):
        assert stored[key] == from_file[key]
    scored = run(tmp_path, "zones", "score", str(out), "--from-db", "--start", "2015-01-01",
                 "--json")  # fmt: skip
    # stored districts, ordered by name
    assert [d["district"] for d in scored["districts"]] == ["East", "West"]
    assert (scored["incidents"], scored["captured"]) == (5, 4)
    both = run(tmp_path, "zones", "score", str(out), "--from-db", "--incidents", str(csv), code=2)
    assert "exactly one of --incidents FILE and --from-db" in both


def test_score_flags_zones_whose_capture_dropped(tmp_path: Path) -> None:
    csv, districts = _files(tmp_path)
    out = tmp_path / "zones.geojson"
    run(tmp_path, "zones", "build", "--incidents", str(csv), "--start", "2014-01-01", "--end",
        "2014-12-31", "--target-share", "0.9", "--districts", str(districts), "--out", str(out),
        *SMALL)  # fmt: skip
    args = ("zones", "score", str(out), "--incidents", str(csv), "--districts", str(districts),
            "--start", "2015-01-01", "--end", "2015-12-31", "--before-start", "2014-01-01",
            "--before-end", "2014-12-31")  # fmt: skip
    scored = run(tmp_path, *args, "--min-drop", "0.1", "--json")
    # the hot-spot zone held >= 19 of 21 incidents (>= 90%) in 2014 and 4 of 5 (80%) in 2015
    (drop,) = [d for d in scored["capture_drops"] if d["zone_id"] == "Z001"]
    assert drop["after"] == 0.8
    assert drop["before"] >= 19 / 21
    assert drop["change"] == drop["after"] / drop["before"] - 1
    assert run(tmp_path, *args, "--min-drop", "0.5", "--json")["capture_drops"] == []
    assert "zones whose capture share fell by 10% or more" in run(
        tmp_path, *args, "--min-drop", "0.1"
    ).replace("\n", " ")
    assert "--min-drop must be in (0, 1]" in run(tmp_path, *args, "--min-drop", "0", code=2)


def test_score_lists_places_that_emerged_outside_the_zones(tmp_path: Path) -> None:
    csv, districts = _files(tmp_path)
    out = tmp_path / "zones.geojson"
    run(tmp_path, "zones", "build", "--incidents", str(csv), "--start", "2014-01-01", "--end",
        "2014-12-31", "--target-share", "0.9", "--districts", str(districts), "--out", str(out),
        *SMALL)  # fmt: skip
    args = ("zones", "score", str(out), "--incidents", str(csv), "--districts", str(districts),
            "--start", "2015-01-01", "--end", "2015-12-31", "--before-start", "2014-01-01",
            "--before-end", "2014-12-31")  # fmt: skip
    (place,) = run(tmp_path, *args, "--json")["emerging_places"]
    # 2015: 4 homicides in the West hot spot (inside the zone) and 1 in the east, in a
    # cell with no gun incident in 2014; it ranks 2nd, after the hot spot's cell
    assert (place["district"], place["before"], place["after"], place["change"]) == (
        "East",
        0,
        1,
        1,
    )
    assert place["rank_after"] == 2
    assert place["cell_m"] == 150.0
    assert abs(place["lat"] - LAT0) < 0.02
    text = run(tmp_path, *args).replace("\n", " ")
    assert "1 places (150 m cells) outside the zones whose incidents rose" in text
    assert "--place-m must be positive" in run(tmp_path, *args, "--place-m", "0", code=2)


def test_zone_targets_policy_file_sets_the_tier_and_options_win(tmp_path: Path) -> None:
    """``--targets`` reads a validated policy file (shipped or local); ``--tier`` picks its
    tier and command-line options override it; a bad file names the field."""
    from smart_policing.zones.targets import builtin_zone_targets

    shipped = builtin_zone_targets("baltimore-2019")
    micro = shipped.params("micro")
    assert (micro.target_share, micro.area_share, micro.max_zones) == (0.33, None, 120)
    dat = shipped.params("dat", area_share=0.02)
    assert (dat.area_share, dat.target_share, dat.max_zones, dat.min_area_m2) == (
        0.02,
        None,
        11,
        100_000.0,
    )
    bad = tmp_path / "bad.targets.yaml"
    bad.write_text(
        "schema_version: 1\nname: x\nversion: '1'\neffective_from: 2020-01-01\n"
        "tiers:\n  micro: {target_share: 1.5}\n"
    )
    result = runner.invoke(
        app,
        ["zones", "build", "--targets", str(bad), "--incidents", str(bad), "--out", "z.geojson"],
    )
    assert result.exit_code == 2
    assert "line 6" in result.output
    assert "tiers.micro.target_share" in result.output
    unknown = runner.invoke(
        app, ["zones", "build", "--targets", "gotham", "--from-db", "--out", "z.geojson"]
    )
    assert unknown.exit_code == 2
    assert "baltimore-2019" in unknown.output


def test_build_from_the_shipped_baltimore_targets(tmp_path: Path) -> None:
    """``--targets baltimore-2019`` (micro tier: 33% of gun incidents) builds like the
    same share given on the command line; ``--target-share`` given there wins."""
    csv, districts = _files(tmp_path)
    common = ("--incidents", str(csv), "--start", "2014-01-01", "--end", "2014-12-31",
              "--districts", str(districts), *SMALL, "--json")  # fmt: skip
    by_file = run(tmp_path, "zones", "build", "--targets", "baltimore-2019",
                  "--out", str(tmp_path / "a.geojson"), *common)  # fmt: skip
    by_option = run(tmp_path, "zones", "build", "--target-share", "0.33",
                    "--out", str(tmp_path / "b.geojson"), *common)  # fmt: skip
    assert by_file["zones_table"] == by_option["zones_table"]
    assert by_file["target_met"] is True
    wider = run(tmp_path, "zones", "build", "--targets", "baltimore-2019", "--target-share",
                "0.9", "--out", str(tmp_path / "c.geojson"), *common)  # fmt: skip
    assert wider["captured"] > by_file["captured"]
