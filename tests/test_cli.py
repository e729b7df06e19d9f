"""The command line: help everywhere, JSON summaries, exit codes, rejects listing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from smart_policing.cli import app
from smart_policing.store import head_revision

runner = CliRunner()


def all_command_paths() -> list[list[str]]:
    root = typer.main.get_command(app)
    paths: list[list[str]] = [[]]

    def walk(cmd: object, prefix: list[str]) -> None:
        commands = getattr(cmd, "commands", None)  # a group (Typer vendors its own click)
        if commands:
            for name, sub in commands.items():
                paths.append([*prefix, name])
                walk(sub, [*prefix, name])

    walk(root, [])
    assert len(paths) > 10, paths
    return paths


@pytest.mark.parametrize("path", all_command_paths(), ids=lambda p: " ".join(p) or "root")
def test_every_command_has_help(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    assert len(result.output.strip().splitlines()) > 3


def test_import_json_summary_and_rejects(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    f = tmp_path / "p1.csv"
    f.write_text(
        "CrimeDate,CrimeTime,CrimeCode,Location,Description,Inside/Outside,Weapon,Post,District,"
        "Neighborhood,Longitude,Latitude,Location 1,Premise,Total Incidents\n"
        "01/31/2012,23:30:00,5A,900 FAWN ST,BURGLARY,I,,211.0,SOUTHEASTERN,Little Italy,-76.60161,39.2864,,ROW/TOWNHO,1\n"
        "02/30/2012,23:30:00,5A,900 FAWN ST,BURGLARY,I,,211.0,SOUTHEASTERN,Little Italy,-76.60161,39.2864,,ROW/TOWNHO,1\n"
    )
    result = runner.invoke(app, ["--db", db, "--json", "import", "baltimore-part1", str(f)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["rows_read"], summary["inserted"], summary["rejected"]) == (2, 1, 1)

    # the acceptance form: --json after the file does the same
    result = runner.invoke(app, ["--db", db, "import", "baltimore-part1", str(f), "--json"])
    again = json.loads(result.stdout)
    assert (again["rows_read"], again["inserted"], again["duplicates"], again["rejected"]) == (
        2,
        0,
        1,
        1,
    )

    result = runner.invoke(app, ["--db", db, "--json", "rejects"])
    listing = json.loads(result.stdout)
    assert listing["total"] == 1
    assert listing["rows"][0]["line_number"] == 3
    assert "02/30/2012" in listing["rows"][0]["reason"]

    result = runner.invoke(app, ["--db", db, "--json", "stats"])
    assert json.loads(result.stdout)["incidents"] == 1

    result = runner.invoke(app, ["--db", db, "--json", "imports"])
    assert json.loads(result.stdout)[0]["rows_rejected"] == 1


def test_unusable_file_exits_2_with_a_message(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    f = tmp_path / "wrong.csv"
    f.write_text("a,b\n1,2\n")
    result = runner.invoke(app, ["--db", db, "import", "cad", str(f)])
    assert result.exit_code == 2
    assert "error: wrong.csv: not a 'cad' file: missing column(s)" in result.output
    assert "'Master_Incident_Number'" in result.output
    assert "the header has a, b" in result.output


def test_invalid_mapping_exits_2(tmp_path: Path) -> None:
    m = tmp_path / "m.yaml"
    m.write_text("schema_version: 2\n")
    f = tmp_path / "x.csv"
    f.write_text("a\n1\n")
    result = runner.invoke(
        app,
        ["--db", f"sqlite:///{tmp_path / 'x.db'}", "import", "csv", str(f), "--mapping", str(m)],
    )
    assert result.exit_code == 2
    assert "line 1, field 'schema_version'" in result.output


def test_db_upgrade_and_current(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'm.db'}"
    result = runner.invoke(app, ["--db", db, "--json", "db", "upgrade"])
    head = head_revision()
    assert head is not None
    assert int(head) >= 2
    assert json.loads(result.stdout) == {"from": None, "to": head}
    result = runner.invoke(app, ["--db", db, "--json", "db", "current"])
    assert json.loads(result.stdout) == {"current": head, "head": head}


def test_bad_timezone_is_refused() -> None:
    result = runner.invoke(app, ["--timezone", "Mars/Olympus", "stats"])
    assert result.exit_code == 2
    assert "unknown IANA time zone" in result.output


def test_users_add_list_token_disable(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'u.db'}"
    added = runner.invoke(
        app,
        [
            "--db",
            db,
            "users",
            "add",
            "Ana",
            "--role",
            "analyst",
            "--role",
            "auditor",
            "--password-stdin",
            "--json",
        ],
        input="correct horse battery staple\n",
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["roles"] == ["analyst", "auditor"]
    again = runner.invoke(
        app,
        ["--db", db, "users", "add", "ana", "--role", "analyst", "--password-stdin"],
        input="correct horse battery staple\n",
    )
    assert again.exit_code == 2
    assert "already exists" in again.output
    kept = runner.invoke(
        app,
        ["--db", db, "users", "add", "ana", "--role", "officer", "--exist-ok", "--password-stdin"],
        input="another passphrase here\n",
    )
    assert kept.exit_code == 0
    assert "left unchanged" in kept.output
    weak = runner.invoke(
        app,
        ["--db", db, "users", "add", "bob", "--role", "analyst", "--password-stdin"],
        input="short\n",
    )
    assert weak.exit_code == 2
    assert "at least 12 characters" in weak.output
    unknown = runner.invoke(
        app,
        ["--db", db, "users", "add", "bob", "--role", "sheriff", "--password-stdin"],
        input="x" * 20 + "\n",
    )
    assert unknown.exit_code == 2
    assert "unknown role 'sheriff'" in unknown.output
    token = runner.invoke(app, ["--db", db, "--json", "users", "token", "ana", "--days", "7"])
    assert json.loads(token.stdout)["token"].startswith("spt_")
    listed = json.loads(runner.invoke(app, ["--db", db, "--json", "users", "list"]).stdout)
    assert [(u["username"], u["active"]) for u in listed] == [("ana", True)]
    assert "password" not in json.dumps(listed)
    disabled = runner.invoke(app, ["--db", db, "users", "disable", "ana"])
    assert disabled.exit_code == 0
    listed = json.loads(runner.invoke(app, ["--db", db, "--json", "users", "list"]).stdout)
    assert listed[0]["active"] is False
    verify = runner.invoke(app, ["--db", db, "--json", "audit", "verify"])
    assert verify.exit_code == 0
    assert json.loads(verify.stdout)["ok"] is True
