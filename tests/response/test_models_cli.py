"""``smart-policing response erlang-c | priority | hypercube`` through the root command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from smart_policing.cli import app

runner = CliRunner()


def run(*args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["response", *args])
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if code == 0 and "--json" in args else result.output


def test_erlang_c_published_example() -> None:
    r = run("erlang-c", "--calls", "100", "--interval-min", "30", "--handle-min", "3",
            "--servers", "14", "--target-s", "20", "--json")  # fmt: skip
    assert round(r["p_wait"], 7) == 0.1741319
    assert round(r["service_level"], 5) == 0.88835
    assert round(r["mean_wait_s"], 3) == 7.836
    assert round(r["occupancy"], 7) == 0.7142857
    assert r["stable"] is True


def test_erlang_c_global_json_option_works_too() -> None:
    result = runner.invoke(app, ["--json", "response", "erlang-c", "--calls", "100",
                                 "--interval-min", "30", "--handle-min", "3", "--servers", "14"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["servers"] == 14


def test_erlang_c_staffing_for_a_service_level_target() -> None:
    r = run("erlang-c", "--calls", "100", "--interval-min", "30", "--handle-min", "3",
            "--target-s", "20", "--target-sl", "0.8", "--json")  # fmt: skip
    assert r["servers_needed"] == 14
    assert [row["servers"] for row in r["table"]] == [12, 13, 14, 15, 16, 17]
    assert r["table"][1]["service_level"] < 0.8 <= r["table"][2]["service_level"]
    assert r["result"]["servers"] == 14
    human = run("erlang-c", "--calls", "100", "--interval-min", "30", "--handle-min", "3",
                "--target-s", "20", "--target-sl", "0.8")  # fmt: skip
    assert "staffing needed: 14 servers" in human


def test_erlang_c_unstable_and_bad_input() -> None:
    r = run("erlang-c", "--calls", "100", "--interval-min", "30", "--handle-min", "3",
            "--servers", "9", "--json")  # fmt: skip
    assert r["stable"] is False
    assert r["mean_wait_s"] == "Infinity"
    out = run("erlang-c", "--calls", "100", "--interval-min", "0", "--handle-min", "3",
              "--servers", "9", code=2)  # fmt: skip
    assert "--interval-min" in out
    out = run("erlang-c", "--calls", "100", "--handle-min", "3", "--target-sl", "0.8", code=2)
    assert "--target-s" in out
    out = run("erlang-c", "--calls", "100", "--handle-min", "3", code=2)
    assert "--servers" in out


def test_priority_classes() -> None:
    r = run("priority", "--rate", "P1:12", "--rate", "P2:30", "--interval-min", "60",
            "--handle-min", "1", "--servers", "1", "--target-s", "30", "--json")  # fmt: skip
    # lambda = 0.2 and 0.5 per minute, mu = 1: W1 = 0.875 min, W2 = 0.7 / (0.8 * 0.3) min
    assert [c["label"] for c in r["classes"]] == ["P1", "P2"]
    assert abs(r["classes"][0]["mean_wait_min"] - 0.875) < 1e-12
    assert abs(r["classes"][1]["mean_wait_min"] - 0.7 / 0.24) < 1e-12
    assert r["classes"][0]["service_level"] is not None
    assert r["classes"][1]["service_level"] is None
    out = run("priority", "--rate", "P1=12", "--handle-min", "1", "--servers", "1", code=2)
    assert "--rate" in out
    assert "LABEL:CALLS" in out
    out = run("priority", "--rate", "P1:12", "--rate", "P1:3", "--handle-min", "1",
              "--servers", "1", code=2)  # fmt: skip
    assert "distinct" in out


HYPERCUBE = """\
schema_version: 1
line: infinite
service_min: 60
units: [u1, u2, u3]
atoms:
  - {id: "1+2", calls_per_hour: 0.50, preferences: [u1, u2, u3]}
  - {id: "4", calls_per_hour: 0.25, preferences: [u1, u3, u2]}
  - {id: "3+5+6", calls_per_hour: 0.35, preferences: [u2, u1, u3]}
  - {id: "7-10", calls_per_hour: 0.40, preferences: [u3, u1, u2]}
"""


def test_hypercube_file(tmp_path: Path) -> None:
    path = tmp_path / "three.yaml"
    path.write_text(HYPERCUBE, encoding="utf-8")
    r = run("hypercube", str(path), "--json")
    assert r["method"] == "exact"
    assert [round(u["workload"], 4) for u in r["units"]] == [0.5574, 0.4734, 0.4693]
    approx = run("hypercube", str(path), "--method", "approx", "--json")
    assert approx["method"] == "approx"
    assert abs(approx["units"][0]["workload"] - 0.5627) < 2e-4
    human = run("hypercube", str(path))
    assert "hypercube (exact, infinite line)" in human


def test_hypercube_bad_file_names_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(HYPERCUBE.replace("[u2, u1, u3]", "[u2, u7, u3]"), encoding="utf-8")
    out = run("hypercube", str(path), "--json", code=2)
    assert "line 8" in out
    assert "atoms.2.preferences.1" in out
    assert "unknown unit 'u7'" in out
    out = run("hypercube", str(path), "--method", "fast", code=2)
    assert "--method" in out


def test_hypercube_too_many_units_for_exact(tmp_path: Path) -> None:
    units = [f"u{i}" for i in range(16)]
    path = tmp_path / "big.yaml"
    path.write_text(
        "schema_version: 1\nline: zero\nservice_min: 30\n"
        f"units: [{', '.join(units)}]\n"
        f"atoms:\n  - {{id: a, calls_per_hour: 10, preferences: [{', '.join(units)}]}}\n",
        encoding="utf-8",
    )
    out = run("hypercube", str(path), "--method", "exact", code=2)
    assert "limited to 15 units" in out
    assert run("hypercube", str(path), "--json")["method"] == "approx"
