"""``smart-policing response staffing``: the search from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from smart_policing.cli import app

runner = CliRunner()


def test_staffing_before_and_after_a_pack_as_json(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    args = ["--db", db, "response", "staffing", "--scenario", "synthetic-city"]
    args += ["--pack", "baltimore-smart-2022", "--replications", "2", "--scheduler", "serial"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["pack"] == "baltimore-smart-2022"
    assert body["agency_map"] == "synthetic-city"  # auto: the map that knows the call types
    before, after = body["before"], body["after"]
    assert before["result"]["meets"]
    assert after["result"]["meets"]
    assert len(before["proof"]) == 27
    assert not any(p["meets"] for p in before["proof"] + after["proof"])
    assert body["units_saved_per_day"] == (
        before["result"]["units_per_day"] - after["result"]["units_per_day"]
    )
    assert body["units_saved_per_day"] > 0
    assert after["diverted_per_day"] > 0


def test_staffing_refuses_unknown_inputs(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    base = ["--db", db, "response", "staffing"]
    bad_pack = runner.invoke(app, [*base, "--scenario", "synthetic-city", "--pack", "gotham"])
    assert bad_pack.exit_code == 2
    assert "--pack 'gotham'" in bad_pack.output
    missing = runner.invoke(app, [*base, "--scenario", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 2
    assert "no such scenario file" in missing.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("schema_version: 1\nname: x\n")
    invalid = runner.invoke(app, [*base, "--scenario", str(broken)])
    assert invalid.exit_code == 2
    assert "broken.yaml" in invalid.output


def test_sweep_gives_staffing_curves_before_and_after(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    args = [
        "--db",
        db,
        "response",
        "sweep",
        "--scenario",
        "synthetic-city",
        "--scales",
        "0.6:1.4:0.4",
    ]
    args += ["--pack", "baltimore-smart-2022", "--replications", "2", "--workers", "2", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    before, after = body["curves"]["before"], body["curves"]["after"]
    assert [p["scale"] for p in before] == [0.6, 1.0, 1.4]
    # the same tables on fewer calls: the same units, better shares
    for b, a in zip(before, after, strict=True):
        assert a["units_per_day"] == b["units_per_day"]
        assert a["proactive_share"] > b["proactive_share"]
    assert before[0]["p1_share"] < before[1]["p1_share"] < before[2]["p1_share"]
    bad = runner.invoke(app, [*args[:6], "--scales", "2:1:0.1"])
    assert bad.exit_code == 2
    assert "--scales '2:1:0.1'" in bad.output
