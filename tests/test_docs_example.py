"""The worked examples of docs/ and the README do what the pages say."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from smart_policing.cli import app
from smart_policing.store import make_engine
from smart_policing.store import tables as t

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


def test_springfield_example(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ex.db'}"
    args = ["--db", db, "--json", "import", "csv", str(EXAMPLES / "springfield-calls.csv")]
    args += ["--mapping", str(EXAMPLES / "springfield-calls.yaml")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    s = json.loads(result.stdout)
    assert (s["rows_read"], s["inserted"], s["duplicates"], s["rejected"], s["flagged"]) == (
        6,
        4,
        0,
        2,
        1,
    )
    assert s["flags"] == {"negative_call_to_dispatch_s": 1}
    assert s["unmapped"] == {"priority": {"LOW": 1}, "source_channel": {"PIGEON": 1}}

    rejects = json.loads(CliRunner().invoke(app, ["--db", db, "--json", "rejects"]).stdout)["rows"]
    assert [(r["line_number"], r["fields"]) for r in rejects] == [(5, "Priority"), (7, "Received")]

    with make_engine(db).connect() as conn:
        rows = {r["call_id"]: r for r in conn.execute(select(t.calls)).mappings()}
    assert rows["24-000101"]["place_key"] == "100 N STATE ST"
    assert rows["24-000101"]["call_to_arrival_s"] == 412.0
    assert rows["24-000105"]["source_channel"] == "other"
    assert rows["24-000103"]["self_initiated"] is True
    assert 41.87 < rows["24-000101"]["latitude"] < 41.90
    again = json.loads(CliRunner().invoke(app, args).stdout)
    assert (again["inserted"], again["duplicates"]) == (0, 4)


def test_hypercube_example_gives_larson_and_odonis_workloads() -> None:
    """docs/examples/hypercube-three-units.yaml, as the README runs it: exact workloads
    0.5574, 0.4734, 0.4693 (Larson & Odoni, Urban Operations Research, chapter 5)."""
    args = ["response", "hypercube", str(EXAMPLES / "hypercube-three-units.yaml")]
    result = CliRunner().invoke(app, [*args, "--method", "exact", "--json"])
    assert result.exit_code == 0, result.output
    units = json.loads(result.stdout)["units"]
    assert [round(u["workload"], 4) for u in units] == [0.5574, 0.4734, 0.4693]
