"""Lint (rules that can never fire) and the triage commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from smart_policing.cli import app
from smart_policing.triage.lint import lint_pack
from smart_policing.triage.pack import Pack, builtin_pack, builtin_packs

runner = CliRunner()


def pack_with(rules: list[dict[str, Any]], **extra: Any) -> Pack:
    responders = [
        {"id": "patrol", "kind": "patrol", "label": "Patrol"},
        {"id": "tru", "kind": "telephone-report", "label": "TRU"},
        {"id": "ghost", "kind": "311", "label": "Never on shift", "hours": []},
    ]
    default = {
        "id": "default",
        "precedence": 999,
        "description": "d",
        "then": {"primary": "patrol", "reason": "d"},
    }
    return Pack.model_validate(
        {
            "schema_version": 1,
            "name": "lint-test",
            "version": "1",
            "effective_from": "2022-01-01",
            "timezone": "America/New_York",
            "responders": responders,
            "rules": [*rules, default],
            **extra,
        }
    )


def rule(rid: str, prec: int, when: dict[str, Any], primary: str = "tru") -> dict[str, Any]:
    return {
        "id": rid,
        "precedence": prec,
        "description": rid,
        "when": when,
        "then": {"primary": primary, "reason": "r"},
    }


@pytest.mark.parametrize("name", builtin_packs())
def test_shipped_packs_are_clean(name: str) -> None:
    assert lint_pack(builtin_pack(name)) == []


def test_shadowed_by_a_broader_earlier_rule() -> None:
    pack = pack_with(
        [
            rule("property", 10, {"categories": ["property"]}),
            rule(
                "larceny-weekdays",
                20,
                {
                    "call_types": ["larceny"],
                    "time": [{"days": ["mon"], "start": "07:00", "end": "23:00"}],
                },
            ),
            rule(
                "larceny-injury",
                30,
                {"call_types": ["larceny", "assault"], "flags_all": ["injury"]},
            ),
        ]
    )
    found = {(f.kind, f.rule) for f in lint_pack(pack)}
    assert ("shadowed", "larceny-weekdays") in found
    assert ("shadowed", "larceny-injury") not in found  # assault is not property


def test_shadowing_respects_flags_time_priority_and_alarms() -> None:
    pack = pack_with(
        [
            rule("any-weapon", 10, {"flags_any": ["weapon", "injury"]}),
            rule("weapon-and-dui", 20, {"flags_all": ["weapon", "dui"]}),  # shadowed
            rule("dui-no-weapon", 30, {"flags_all": ["dui"], "flags_none": ["weapon"]}),  # fires
            rule("prio-1-3", 40, {"priority_min": 1, "priority_max": 3}),
            rule("prio-2", 50, {"priority_in": [2]}),  # shadowed
            rule(
                "night",
                60,
                {
                    "time": [{"days": ["sat", "sun"], "start": "00:00", "end": "06:00"}],
                    "holiday": False,
                },
            ),
            rule(
                "night-sat", 70, {"time": [{"days": ["sat"], "start": "01:00", "end": "02:00"}]}
            ),  # holidays too: fires
            rule("suspended", 80, {"alarm_status": ["suspended", "warned"]}),
            rule(
                "suspended-verified", 90, {"alarm_status": ["suspended"], "alarm_verified": True}
            ),  # shadowed
        ]
    )
    shadowed = {f.rule for f in lint_pack(pack) if f.kind == "shadowed"}
    assert shadowed == {"weapon-and-dui", "prio-2", "suspended-verified"}


def test_contradictory_rules_and_no_hours() -> None:
    pack = pack_with(
        [
            rule("both", 10, {"flags_all": ["weapon"], "flags_none": ["weapon"]}),
            rule(
                "no-alarm-kind",
                20,
                {"alarm_kinds": ["burglar"], "alarm_status": ["none"], "alarm_verified": True},
                primary="patrol",
            ),
            rule("to-ghost", 30, {"call_types": ["noise"]}, primary="ghost"),
        ]
    )
    found = {(f.kind, f.rule, f.responder) for f in lint_pack(pack)}
    assert ("contradictory", "both", None) in found
    assert ("no-hours", None, "ghost") in found
    assert ("no-hours", "to-ghost", None) in found
    # alarm_kinds with status none is satisfiable (an alarm at an unregistered site) unless verified is impossible
    assert ("contradictory", "no-alarm-kind", None) not in found


# ---------------------------------------------------------------- commands


def test_packs_command() -> None:
    result = runner.invoke(app, ["--json", "triage", "packs"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == list(builtin_packs())
    assert rows[0]["timezone"] == "America/New_York"
    human = runner.invoke(app, ["triage", "packs"])
    assert "America/Chicago" in human.stdout


def test_decide_command(tmp_path: Path) -> None:
    call = tmp_path / "call.json"
    call.write_text(
        json.dumps(
            {
                "call_type": "mental-health",
                "received_at": "2022-07-13T20:00:00-04:00",
                "flags": ["weapon"],
            }
        )
    )
    result = runner.invoke(
        app, ["triage", "decide", "--pack", "baltimore-smart-2022", "--call", str(call), "--json"]
    )
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert (d["responder"], d["co_responders"], d["rule"], d["pack_version"]) == (
        "patrol",
        ["clinician"],
        "mental-health-weapon",
        "1.0.0",
    )
    busy = tmp_path / "free.json"
    busy.write_text(json.dumps({"crisis-team": 0}))
    call.write_text(
        json.dumps({"call_type": "mental-health", "received_at": "2022-07-13T20:00:00-04:00"})
    )
    result = runner.invoke(
        app,
        [
            "triage",
            "decide",
            "--pack",
            "baltimore-smart-2022",
            "--call",
            str(call),
            "--availability",
            str(busy),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "crisis-team (busy)" in result.stdout


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{", "line 1: not valid JSON"),
        (json.dumps({"call_type": "larceny"}), "field 'received_at'"),
        (
            json.dumps(
                {"call_type": "larceny", "received_at": "2022-07-13T10:00:00-04:00", "colour": 1}
            ),
            "field 'colour'",
        ),
        (
            json.dumps(
                {
                    "call_type": "larceny",
                    "received_at": "2022-07-13T10:00:00-04:00",
                    "answers": {"x": True},
                }
            ),
            "field 'answers'",
        ),
    ],
)
def test_decide_command_refuses_bad_calls(tmp_path: Path, body: str, message: str) -> None:
    call = tmp_path / "call.json"
    call.write_text(body)
    result = runner.invoke(
        app, ["triage", "decide", "--pack", "baltimore-smart-2022", "--call", str(call)]
    )
    assert result.exit_code == 2
    assert message in result.stderr
    assert "call.json" in result.stderr


def test_decide_command_bad_pack(tmp_path: Path) -> None:
    call = tmp_path / "call.json"
    call.write_text("{}")
    result = runner.invoke(app, ["triage", "decide", "--pack", "springfield", "--call", str(call)])
    assert result.exit_code == 2
    assert "unknown pack 'springfield'" in result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\nname: x\n")
    result = runner.invoke(app, ["triage", "decide", "--pack", str(bad), "--call", str(call)])
    assert result.exit_code == 2
    assert "bad.yaml, line 1, field 'version'" in result.stderr


def test_lint_command(tmp_path: Path) -> None:
    result = runner.invoke(app, ["triage", "lint", "baltimore-smart-2022"])
    assert result.exit_code == 0, result.output
    assert "every one can fire" in result.stdout
    data = yaml.safe_load(
        (
            Path(__file__).resolve().parents[2]
            / "src/smart_policing/triage/packs/baltimore-smart-2022.yaml"
        ).read_text()
    )
    data["rules"].insert(
        0,
        {
            "id": "all-property",
            "precedence": 1,
            "description": "d",
            "when": {"categories": ["property"]},
            "then": {"primary": "patrol", "reason": "r"},
        },
    )
    path = tmp_path / "shadowed.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    result = runner.invoke(app, ["--json", "triage", "lint", str(path)])
    assert result.exit_code == 1
    findings = json.loads(result.stdout)["findings"]
    assert {f["rule"] for f in findings} == {"report-to-tru"}  # information is not property


def test_scenarios_command() -> None:
    result = runner.invoke(app, ["--json", "triage", "scenarios", "minneapolis-2020-pilots"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["passed"] == doc["scenarios"] >= 30
