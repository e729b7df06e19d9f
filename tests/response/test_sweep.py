"""Scenario sweeps: the same results, in item order, serial or on a Dask cluster."""

from __future__ import annotations

import os

import pytest

from smart_policing.response.sweep import SERIAL, SweepError, run_sweep


def _square_after_spin(n: int) -> tuple[int, int]:
    """A little CPU work, then the worker's process id and n squared."""
    total = 0
    for i in range(20_000 * (5 - n % 5)):  # later items finish first
        total += i
    return os.getpid(), n * n


def _fails_on_three(n: int) -> int:
    if n == 3:
        raise ValueError("three is not allowed")
    return n


def test_serial_keeps_order_and_reports_each_item() -> None:
    done: list[int] = []
    out = run_sweep(_square_after_spin, list(range(6)), scheduler=SERIAL, on_done=done.append)
    assert [sq for _, sq in out] == [0, 1, 4, 9, 16, 25]
    assert done == [0, 1, 2, 3, 4, 5]
    assert {pid for pid, _ in out} == {os.getpid()}


def test_local_cluster_runs_in_worker_processes_in_item_order() -> None:
    done: list[int] = []
    out = run_sweep(_square_after_spin, list(range(10)), workers=2, on_done=done.append)
    assert [sq for _, sq in out] == [n * n for n in range(10)]
    assert sorted(done) == list(range(10))
    assert os.getpid() not in {pid for pid, _ in out}


@pytest.mark.parametrize("scheduler", [SERIAL, None])
def test_a_failed_run_names_its_item(scheduler: str | None) -> None:
    with pytest.raises(SweepError, match="item 3 failed: ValueError: three") as info:
        run_sweep(_fails_on_three, [0, 1, 2, 3, 4], scheduler=scheduler, workers=1)
    assert info.value.index == 3
    assert isinstance(info.value.__cause__, ValueError)


def test_empty_sweep_starts_nothing() -> None:
    assert run_sweep(_square_after_spin, [], workers=2) == []
