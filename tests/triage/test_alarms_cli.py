"""``smart-policing alarms ...``: register, record, status, reinstate, list, history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from smart_policing.cli import app
from smart_policing.store import make_engine
from smart_policing.store.audit import iter_audit, verify_audit
from smart_policing.triage.pack import builtin_pack, dump_pack

runner = CliRunner()


def run(db: str, *args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["--db", db, "--timezone", "America/New_York", *args, "--json"])
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if code == 0 else result.output


def test_the_registry_from_the_command_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'alarms.db'}"
    added = run(db, "alarms", "site", "add", "123 N. Main Street", "--permit", "P-1",
                "--expires", "2030-12-31", "--actor", "clerk")  # fmt: skip
    assert added["created"] is True
    assert added["site"]["address_key"] == "123 N MAIN ST"

    for month in range(1, 6):
        last = run(db, "alarms", "event", "123 NORTH MAIN ST", "--kind", "burglar",
                   "--outcome", "false", "--at", f"2025-{month:02d}-01 02:10",
                   "--call-id", f"C{month}", "--actor", "dispatcher")  # fmt: skip
    assert last["standing"]["status"] == "suspended"
    assert last["standing"]["suspended_until"].startswith("2026-01-01 00:00:00-05:00")
    assert [c["kind"] for c in last["new_changes"]] == ["suspension"]
    # local time: 02:10 in New York is 07:10 UTC in winter
    assert last["event"]["occurred_at"].startswith("2025-05-01 06:10:00")  # EDT in May

    # 23:30 on 31 December local time counts for the year it is in locally
    late = run(db, "alarms", "event", "9 Elm St", "--kind", "burglar", "--outcome", "false",
               "--at", "2024-12-31 23:30", "--actor", "dispatcher")  # fmt: skip
    assert late["standing"]["year"] == 2024
    assert late["site_created"] is True

    status = run(db, "alarms", "status", "123 n main st.", "--year", "2025")
    assert status["standing"]["false_count"] == 5
    assert status["unverified_burglar_alarm_now"] == {"officer": False, "reason": "suspended"}
    assert status["permit_valid"] is True

    suspended = run(db, "alarms", "list", "--status", "suspended", "--year", "2025")
    assert [s["site"]["address_key"] for s in suspended] == ["123 N MAIN ST"]

    reinstated = run(db, "alarms", "reinstate", "123 N Main St", "--reason", "appeal",
                     "--note", "hearing 2025-06", "--at", "2025-06-15 10:00",
                     "--actor", "supervisor")  # fmt: skip
    assert reinstated["standing"]["status"] == "warned"
    assert reinstated["change"]["reason"] == "appeal"
    assert run(db, "alarms", "list", "--status", "suspended", "--year", "2025") == []

    refused = run(db, "alarms", "reinstate", "123 N Main St", "--reason", "repaired",
                  "--at", "2025-06-16 10:00", code=2)  # fmt: skip
    assert "not suspended" in refused

    history = run(db, "alarms", "history", "123 NORTH MAIN STREET")
    assert len(history["events"]) == 5
    assert [c["kind"] for c in history["changes"]] == [
        "warning",
        "warning",
        "suspension",
        "reinstatement",
    ]

    unknown = run(db, "alarms", "status", "500 Unknown Ave")
    assert unknown["status"] == "none"
    assert unknown["unverified_burglar_alarm_now"]["officer"] is True

    engine = make_engine(db)
    actors = [e.actor for e, _ in iter_audit(engine)]
    assert actors == ["clerk"] + ["dispatcher"] * 6 + ["supervisor"]
    routes = {e.route for e, _ in iter_audit(engine)}
    assert routes == {"cli alarms site add", "cli alarms event", "cli alarms reinstate"}
    assert verify_audit(engine).ok
    engine.dispose()


def test_bad_input_exits_2(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'alarms.db'}"
    out = run(db, "alarms", "event", "1 A St", "--kind", "burglar", "--outcome", "false",
              "--at", "yesterday", code=2)  # fmt: skip
    assert "expected a local time" in out
    out = run(db, "alarms", "event", "1 A St", "--kind", "meteor", "--outcome", "false", code=2)
    assert "meteor" in out
    assert "no alarm site" in run(db, "alarms", "history", "1 A St", code=2)
    policy = tmp_path / "policy.yaml"
    policy.write_text("threshold: 3\nwarning_at: [4]\n")
    out = run(db, "alarms", "list", "--policy", str(policy), code=2)
    assert "warning_at" in out


def test_a_policy_file_sets_the_threshold(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'alarms.db'}"
    policy = tmp_path / "policy.yaml"
    policy.write_text("threshold: 2\nwarning_at: [1]\ntimezone: America/Chicago\n")
    for day in (1, 2):
        last = run(db, "alarms", "event", "1 A St", "--kind", "burglar", "--outcome", "false",
                   "--at", f"2025-03-0{day} 12:00", "--policy", str(policy))  # fmt: skip
    assert last["standing"]["status"] == "suspended"
    assert last["event"]["occurred_at"].startswith("2025-03-02 18:00:00")  # Chicago, CST


def test_a_policy_pack_supplies_the_alarm_settings(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'alarms.db'}"
    # Minneapolis' pack runs in Central time: 23:30 local on 31 December is 05:30 UTC on
    # 1 January, and still counts for the old year
    for day in ("2025-12-29", "2025-12-30", "2025-12-31"):
        last = run(db, "alarms", "event", "9 B Ave", "--kind", "burglar", "--outcome", "false",
                   "--at", f"{day} 23:30", "--policy", "minneapolis-2020-pilots")  # fmt: skip
    assert last["event"]["occurred_at"].startswith("2026-01-01 05:30:00")
    assert last["standing"]["year"] == 2025
    assert last["standing"]["false_count"] == 3
    assert last["standing"]["status"] == "warned"
    packed = tmp_path / "pack.yaml"
    packed.write_text(dump_pack(builtin_pack("baltimore-smart-2022")))
    other = run(db, "alarms", "status", "9 B Ave", "--policy", str(packed))
    assert other["standing"]["threshold"] == 5
