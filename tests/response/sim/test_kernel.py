"""The event kernel: order by (time, kind, seq), the stream merged with the heap, the clock."""

from __future__ import annotations

import heapq
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smart_policing.response.sim.kernel import EventKind, Kernel


def drain(k: Kernel) -> list[tuple[float, str, int]]:
    return [(t, EventKind(kind).name, p) for t, kind, _, p in k.events()]


def test_stream_is_sorted_by_time_then_kind_then_input_order() -> None:
    k = Kernel(
        [10.0, 5.0, 10.0, 10.0, 5.0],
        [EventKind.CALL, EventKind.CALL, EventKind.TOUR_START, EventKind.CALL, EventKind.TOUR_END],
        [0, 1, 2, 3, 4],
    )
    assert drain(k) == [
        (5.0, "TOUR_END", 4),
        (5.0, "CALL", 1),
        (10.0, "TOUR_START", 2),
        (10.0, "CALL", 0),
        (10.0, "CALL", 3),
    ]


def test_heap_ties_break_by_kind_then_scheduling_order() -> None:
    k = Kernel()
    k.schedule(3.0, EventKind.BACKUP, 1)
    k.schedule(3.0, EventKind.CLEAR, 2)
    k.schedule(3.0, EventKind.PROACTIVE_END, 3)
    k.schedule(3.0, EventKind.CLEAR, 4)
    k.schedule(1.0, EventKind.BACKUP, 5)
    assert drain(k) == [
        (1.0, "BACKUP", 5),
        (3.0, "CLEAR", 2),
        (3.0, "CLEAR", 4),
        (3.0, "PROACTIVE_END", 3),
        (3.0, "BACKUP", 1),
    ]


def test_stream_and_heap_merge_at_equal_times_by_kind() -> None:
    k = Kernel([2.0, 2.0], [EventKind.CALL, EventKind.TOUR_END], [7, 8])
    k.schedule(2.0, EventKind.CLEAR, 1)
    k.schedule(2.0, EventKind.BACKUP, 2)
    k.schedule(2.0, EventKind.PROACTIVE_END, 3)
    assert drain(k) == [
        (2.0, "TOUR_END", 8),
        (2.0, "CLEAR", 1),
        (2.0, "PROACTIVE_END", 3),
        (2.0, "CALL", 7),
        (2.0, "BACKUP", 2),
    ]


def test_events_scheduled_while_running_are_merged_and_the_clock_follows() -> None:
    k = Kernel([1.0, 4.0], [EventKind.CALL, EventKind.CALL], [0, 1])
    seen = []
    for t, kind, seq, p in k.events():
        assert k.now == t
        seen.append((t, EventKind(kind).name, p, seq))
        if kind == EventKind.CALL and p == 0:
            k.schedule(3.0, EventKind.CLEAR, 10)  # before the second call
            k.schedule(4.0, EventKind.BACKUP, 11)  # after it (BACKUP ranks after CALL)
        if kind == EventKind.CLEAR:
            k.schedule(3.0, EventKind.BACKUP, 12)  # same time, later kind
    assert seen == [
        (1.0, "CALL", 0, 0),
        (3.0, "CLEAR", 10, 1),
        (3.0, "BACKUP", 12, 3),
        (4.0, "CALL", 1, 0),
        (4.0, "BACKUP", 11, 2),
    ]
    assert k.handed_out == 5
    assert k.stream_remaining == 0


def test_schedule_in_the_past_is_refused() -> None:
    k = Kernel([5.0], [EventKind.CALL], [0])
    for _ in k.events():
        with pytest.raises(ValueError, match="before now"):
            k.schedule(4.0, EventKind.CLEAR, 0)
        with pytest.raises(ValueError, match="before now"):
            k.schedule(math.nan, EventKind.CLEAR, 0)


def test_stream_lengths_must_match() -> None:
    with pytest.raises(ValueError, match="equal lengths"):
        Kernel([1.0, 2.0], [EventKind.CALL], [0, 1])


def test_stopping_early_then_resuming_continues_where_it_left() -> None:
    k = Kernel([1.0, 2.0, 3.0], [EventKind.CALL] * 3, [0, 1, 2])
    it = k.events()
    assert next(it)[3] == 0
    it.close()
    assert k.handed_out == 1
    assert [p for *_, p in k.events()] == [1, 2]
    assert k.handed_out == 3


@given(
    stream=st.lists(st.tuples(st.integers(0, 20), st.sampled_from(list(EventKind))), max_size=30),
    scheduled=st.lists(
        st.tuples(st.integers(0, 20), st.sampled_from(list(EventKind))), max_size=30
    ),
)
def test_merge_equals_one_sort_of_everything(
    stream: list[tuple[int, EventKind]], scheduled: list[tuple[int, EventKind]]
) -> None:
    """Merging stream and heap = sorting all events by (time, kind, stream first, order).

    Stream events carry seq 0, so at a full tie a stream event precedes a heap event;
    the engine never produces such ties (its stream and heap kinds are disjoint).
    """
    k = Kernel([float(t) for t, _ in stream], [int(kd) for _, kd in stream], range(len(stream)))
    for j, (t, kd) in enumerate(scheduled):
        k.schedule(float(t), kd, 1000 + j)
    got = [(t, kind, p) for t, kind, _, p in k.events()]
    everything = [(float(t), int(kd), 0, j, j) for j, (t, kd) in enumerate(stream)]
    everything += [(float(t), int(kd), 1, j, 1000 + j) for j, (t, kd) in enumerate(scheduled)]
    heapq.heapify(everything)
    want = [(t, kd, p) for t, kd, _, _, p in sorted(everything)]
    assert got == want
