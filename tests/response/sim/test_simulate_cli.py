"""``smart-policing simulate``: through the root command, as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from smart_policing.cli import app
from smart_policing.data import builtin_mapping, import_file
from smart_policing.data.synth import CityParams, generate_city
from smart_policing.response.sim.calibrate import calibrate
from smart_policing.store import make_engine, upgrade
from smart_policing.triage.replay_cli import read_calls_file

runner = CliRunner()
NY = "America/New_York"

TINY = """\
schema_version: 1
name: tiny
seed: 3
replications: 2
start_date: 2025-03-03
horizon_days: 3
warmup_days: 1
geography:
  layout: synthetic
  districts:
    - {name: A, area_km2: 4}
shifts:
  - {name: day, start: "07:00", hours: 12}
  - {name: night, start: "19:00", hours: 12}
staffing:
  A: [2, 1]
calls:
  mode: generate
  per_day: 40
  hourly_profile: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
  weekday_profile: [1, 1, 1, 1, 1, 1, 1]
  types:
    - {name: X, share: 1, priority: 1, on_scene: {kind: fixed, value: 20}}
    - {name: Y, share: 2, priority: 3, on_scene: {kind: lognormal, median: 25, sigma: 0.5}}
call_taking: {kind: fixed, value: 1}
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "tiny.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_json_result_of_a_scenario_file(tmp_path: Path) -> None:
    path = write(tmp_path, TINY)
    result = runner.invoke(app, ["simulate", "--scenario", str(path), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["scenario"] == "tiny"
    assert doc["replications"] == 2
    assert doc["seed"] == 3
    assert doc["horizon_days"] == 3
    assert [p["priority"] for p in doc["priorities"]] == [1, 3]
    assert doc["p1_target_min"] == 10
    assert 0 <= doc["p1_within_target"]["mean"] <= 1
    assert doc["districts"][0]["district"] == "A"
    assert [s["shift"] for s in doc["shifts"]] == ["day", "night"]
    assert [c["units"] for c in doc["cells"]] == [2, 1]
    assert doc["calls_per_day"]["mean"] == pytest.approx(40, rel=0.2)
    assert doc["replay"] is None
    assert len(doc["per_replication"]) == 2


def test_options_override_the_file_and_runs_repeat(tmp_path: Path) -> None:
    path = write(tmp_path, TINY)
    args = ["--json", "simulate", "--scenario", str(path), "-r", "3", "--seed", "9"]
    a = json.loads(runner.invoke(app, args).stdout)
    b = json.loads(runner.invoke(app, args).stdout)
    assert (a["replications"], a["seed"]) == (3, 9)
    a.pop("seconds")
    b.pop("seconds")
    assert a == b


def test_shipped_scenario_by_name_and_human_tables() -> None:
    result = runner.invoke(app, ["simulate", "--scenario", "synthetic-city", "-r", "2"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "synthetic-city: 2 replications" in out
    assert "P1 within 10 min" in out
    assert "proactive share" in out
    assert "by district" in out
    assert "Southeastern" in out
    assert "by shift" in out
    assert "midnight" in out


def test_bad_scenario_exits_2_naming_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, TINY.replace("  A: [2, 1]", "  A: [2]"))
    result = runner.invoke(app, ["simulate", "--scenario", str(path), "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    message = " ".join(result.stderr.split())
    assert "invalid scenario file" in message
    assert "tiny.yaml, line 16, field 'staffing.A': 1 numbers for 2 shifts" in message


def test_start_and_end_only_for_stored_calls(tmp_path: Path) -> None:
    path = write(tmp_path, TINY)
    result = runner.invoke(app, ["simulate", "--scenario", str(path), "--start", "2025-01-01"])
    assert result.exit_code == 2
    assert "--start and --end select stored calls" in result.stderr


def test_missing_scenario_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", "--scenario", str(tmp_path / "no.yaml")])
    assert result.exit_code == 2
    assert "no such scenario file" in result.stderr
    assert "synthetic-city" in result.stderr


def test_unreadable_replay_file_exits_2(tmp_path: Path) -> None:
    text = TINY.replace(
        "calls:\n  mode: generate",
        "calls:\n  mode: replay\n  file: nowhere.csv\nx_calls:\n  mode: x",
    )
    text = text.split("x_calls:")[0] + "call_taking: {kind: fixed, value: 1}\n"
    path = write(tmp_path, text)
    result = runner.invoke(app, ["simulate", "--scenario", str(path)])
    assert result.exit_code == 2, result.output
    assert "nowhere.csv" in result.stderr


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("city")
    params = CityParams(
        seed=2,
        calls_per_day=40,
        incidents_per_day=5,
        n_call_sites=500,
        n_alarm_sites=50,
        n_gun_sites=50,
    )
    generate_city(params, folder)
    return folder


def _replay_scenario(city: Path, tmp_path: Path, *, file: bool) -> Path:
    frame, _ = read_calls_file(city / "cad_calls.csv", timezone=NY)
    cal = calibrate(frame, source="cad_calls.csv", timezone=NY, min_count=5)
    (tmp_path / "cal.yaml").write_text(
        yaml.safe_dump(cal.model_dump(mode="json"), sort_keys=False), encoding="utf-8"
    )
    names = [
        f["properties"]["name"]
        for f in json.loads((city / "districts.geojson").read_text())["features"]
    ]
    doc = {
        "schema_version": 1,
        "name": "replay",
        "replications": 2,
        "start_date": "2025-03-03",
        "horizon_days": 14,
        "geography": {
            "layout": "geojson",
            "file": str(city / "districts.geojson"),
            "projected_crs": "EPSG:32617",
            "districts": names,
        },
        "shifts": [{"name": "day", "start": "06:00", "hours": 12}, {"name": "night", "start": "18:00", "hours": 12}],
        "staffing": {n: [2, 2] for n in names},
        "calls": {"mode": "replay", **({"file": str(city / "cad_calls.csv")} if file else {})},
        "calibration": "cal.yaml",
        "call_taking": {"kind": "fixed", "value": 1},
    }  # fmt: skip
    path = tmp_path / "replay.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_replay_of_a_cad_file(city: Path, tmp_path: Path) -> None:
    path = _replay_scenario(city, tmp_path, file=True)
    result = runner.invoke(app, ["simulate", "--scenario", str(path), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    counts = doc["replay"]
    assert counts["replayed"] > 0
    assert counts["position_from_coordinates"] == counts["replayed"]
    assert counts["outside_window"] > 0  # the file is a year; the window two weeks
    assert doc["calls_per_day"]["mean"] == pytest.approx(counts["replayed"] / 14, rel=0.1)


def test_replay_of_the_stored_calls(city: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    upgrade(engine)
    import_file(engine, city / "cad_calls.csv", builtin_mapping("cad"), timezone=NY)
    engine.dispose()
    path = _replay_scenario(city, tmp_path, file=False)
    args = ["--db", url, "simulate", "--scenario", str(path), "--json"]
    result = runner.invoke(app, [*args, "--start", "2025-03-03", "--end", "2025-03-16"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)["replay"]
    # stored calls carry a district but no coordinates, call-taking or on-scene time
    assert counts["replayed"] > 0
    assert counts["outside_window"] == 0
    assert counts["position_drawn_in_district"] == counts["replayed"]
    assert counts["on_scene_drawn"] == counts["replayed"]
    empty = runner.invoke(app, [*args, "--start", "1999-01-01", "--end", "1999-01-02"])
    assert empty.exit_code == 2
    assert "there are none" in empty.stderr
