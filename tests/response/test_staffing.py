"""The staffing search (issue 5 item 4): the minimum per district and shift, before and
after the Baltimore diversion pack, on the synthetic city."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from smart_policing.response.sim.replicate import prepare_scenario, run_scenario
from smart_policing.response.sim.scenario import Shift, builtin_scenario_path, load_scenario
from smart_policing.response.staffing import (
    StaffingComparison,
    call_shifts,
    check_staffing,
    compare_diversion,
    draw_workloads,
    search_staffing,
)
from smart_policing.triage.pack import builtin_pack
from smart_policing.triage.vocabulary import builtin_map

SHIFTS = (
    Shift(name="day", start="07:00", hours=8),
    Shift(name="evening", start="15:00", hours=8),
    Shift(name="night", start="23:00", hours=8),
)


def _prepared(replications: int = 4):  # type: ignore[no-untyped-def]
    scenario = load_scenario(builtin_scenario_path("synthetic-city"))
    return prepare_scenario(scenario.with_changes(replications=replications))


def test_a_call_belongs_to_the_shift_whose_tour_started_last() -> None:
    minutes = np.asarray([0.0, 6 * 60 + 59, 7 * 60, 14 * 60 + 59.9, 15 * 60, 23 * 60, 1440 + 420])
    got = call_shifts(minutes, start=date(2025, 3, 3), timezone="America/New_York", shifts=SHIFTS)
    assert got.tolist() == [2, 2, 0, 0, 1, 2, 0]
    # the spring-forward night: local 03:30 on 2025-03-09 is 2.5 h after midnight, still night;
    # 07:00 local that day is only 6 h after midnight
    dst = call_shifts(
        np.asarray([150.0, 6 * 60 - 1, 6 * 60]),
        start=date(2025, 3, 9),
        timezone="America/New_York",
        shifts=SHIFTS,
    )
    assert dst.tolist() == [2, 2, 0]


def test_cell_proactive_share_is_the_simulations_own() -> None:
    """Pooled over replications with equal tours, a cell's proactive share is the mean of
    the replications' shares that ``simulate`` reports for the same staffing."""
    prepared = _prepared(3)
    table = prepared.scenario.staffing_matrix()
    check = check_staffing(prepared, draw_workloads(prepared), table)
    result = run_scenario(prepared)
    ours = {(c.district, c.shift): c.proactive_share for c in check.cells}
    theirs = {(c.district, c.shift): c.proactive_share.mean for c in result.cells}
    assert ours.keys() == theirs.keys()
    for key, share in ours.items():
        assert share == pytest.approx(theirs[key], abs=1e-9), key
    assert check.units_per_day == int(table.sum())


@pytest.fixture(scope="module")
def comparison() -> StaffingComparison:
    return compare_diversion(
        _prepared(4),
        builtin_pack("baltimore-smart-2022"),
        builtin_map("synthetic-city"),
        scheduler="serial",
    )


def test_the_minimum_meets_both_targets_and_one_fewer_anywhere_fails(
    comparison: StaffingComparison,
) -> None:
    prepared = _prepared(4)
    keep_all = draw_workloads(prepared)
    for search, workloads in ((comparison.before, keep_all), (comparison.after, None)):
        result = search.result
        assert result.meets
        assert all(c.p1_calls > 0 for c in result.cells)  # no cell passes vacuously
        table = np.asarray([result.staffing[d] for d in prepared.scenario.district_names])
        if workloads is None:
            continue  # the diverted calls are checked through the search's own proof below
        # an independent re-simulation: the table meets, and each single decrement fails
        assert check_staffing(prepared, workloads, table).meets
        for d in range(table.shape[0]):
            for k in range(table.shape[1]):
                fewer = table.copy()
                fewer[d, k] -= 1
                assert not check_staffing(prepared, workloads, fewer).meets, (d, k)
    for search in (comparison.before, comparison.after):
        cells = {(p.district, p.shift) for p in search.proof}
        assert len(cells) == 27  # every district-shift of 9 x 3, none at zero
        assert not any(p.meets for p in search.proof)
        assert all(p.failing for p in search.proof)


def test_diversion_moves_calls_and_needs_fewer_units(comparison: StaffingComparison) -> None:
    before, after = comparison.before, comparison.after
    assert before.diverted_per_day == 0
    # the pack sends report-only thefts, lost property, crashes without injury, parking,
    # mental-health calls... elsewhere: about a fifth of the synthetic city's police calls
    assert 0.1 < after.diverted_per_day / before.calls_per_day < 0.35
    assert after.calls_per_day == pytest.approx(before.calls_per_day - after.diverted_per_day)
    assert after.result.units_per_day < before.result.units_per_day
    assert comparison.units_saved_per_day == (
        before.result.units_per_day - after.result.units_per_day
    )


def test_the_search_on_a_local_dask_cluster_finds_the_same_table() -> None:
    prepared = _prepared(2)
    workloads = draw_workloads(prepared)
    serial = search_staffing(prepared, workloads, scheduler="serial")
    on_dask = search_staffing(prepared, workloads, workers=2)
    assert on_dask.result.staffing == serial.result.staffing
    assert on_dask.evaluations == serial.evaluations


def test_staffing_curve_rises_with_units() -> None:
    """More units on the same calls: P1 share and proactive share do not fall, and the
    curve passes through the scenario's own table at scale 1."""
    from smart_policing.response.staffing import staffing_curve

    prepared = _prepared(2)
    workloads = draw_workloads(prepared)
    curve = staffing_curve(prepared, workloads, [0.6, 1.0, 1.4])
    units = [p.units_per_day for p in curve]
    assert units == sorted(units)
    assert units[1] == int(prepared.scenario.staffing_matrix().sum())
    p1 = [p.p1_share for p in curve]
    proactive = [p.proactive_share for p in curve]
    assert p1[0] < p1[1] <= p1[2]  # type: ignore[operator]
    assert proactive[0] < proactive[1] < proactive[2]  # type: ignore[operator]
    assert curve[0].cells_meeting < curve[2].cells_meeting <= curve[2].cells == 27
