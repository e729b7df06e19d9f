"""The scenario suites written from the seeds pass for both shipped packs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from smart_policing.datafiles import DataFileError
from smart_policing.triage.lint import builtin_scenarios, load_scenarios, run_scenarios
from smart_policing.triage.pack import builtin_pack, builtin_packs


def test_every_shipped_pack_has_a_suite_and_there_are_at_least_60_calls() -> None:
    total = 0
    for name in builtin_packs():
        suite = builtin_scenarios(name)
        assert suite.pack == name
        total += len(suite.scenarios)
    assert total >= 60


@pytest.mark.parametrize("name", builtin_packs())
def test_suite_passes(name: str) -> None:
    pack = builtin_pack(name)
    results = run_scenarios(pack, builtin_scenarios(name))
    failures = {r.scenario.id: r.mismatches for r in results if not r.passed}
    assert not failures
    # the suite names only rules and responders that exist, and exercises most rules
    fired = {r.decision.rule for r in results if r.decision is not None}
    assert len(fired) >= len(pack.rules) - 1, {r.id for r in pack.rules} - fired


@pytest.mark.parametrize("name", builtin_packs())
def test_suite_exercises_fallbacks_and_officer_free_outcomes(name: str) -> None:
    results = run_scenarios(builtin_pack(name), builtin_scenarios(name))
    decisions = [r.decision for r in results if r.decision is not None]
    assert any(d.skipped for d in decisions)  # a fallback was applied
    assert any(d.queued for d in decisions)  # nobody free
    assert sum(not d.officer_sent for d in decisions) >= 10


def test_issue_examples_are_in_the_baltimore_suite() -> None:
    by_id = {s.id: s for s in builtin_scenarios("baltimore-smart-2022").scenarios}
    examples = {
        "crash-no-injury-1400": "traffic-vendor",
        "crash-dui-1400": "patrol",
        "lost-property-sunday-2330": "online",
        "fifth-false-alarm-suspended": "no-officer",
        "suspended-site-verified-alarm": "patrol",
        "mental-health-with-weapon": "patrol",
        "crisis-team-busy": "patrol",
    }
    for sid, responder in examples.items():
        assert by_id[sid].expect.responder == responder


def test_a_wrong_expectation_is_reported(tmp_path: Path) -> None:
    suite = builtin_scenarios("baltimore-smart-2022")
    wrong = suite.model_copy(
        update={
            "scenarios": (
                suite.scenarios[0].model_copy(
                    update={
                        "expect": suite.scenarios[0].expect.model_copy(
                            update={"responder": "patrol"}
                        )
                    }
                ),
            )
        }
    )
    (result,) = run_scenarios(builtin_pack("baltimore-smart-2022"), wrong)
    assert result.mismatches == ("responder: expected 'patrol', got 'traffic-vendor'",)


def test_scenario_file_errors_name_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "schema_version": 1,
                "pack": "baltimore-smart-2022",
                "scenarios": [
                    {
                        "id": "x",
                        "source": "000",
                        "call": {"call_type": "larceny", "received_at": "2022-07-13T10:00:00"},
                        "expect": {"responder": "tru", "rule": "report-to-tru"},
                    }
                ],
            },
            sort_keys=False,
        )
    )
    with pytest.raises(DataFileError, match=r"line \d+, field 'scenarios.0.call.received_at'"):
        load_scenarios(path)
