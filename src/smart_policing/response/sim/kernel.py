"""A tiny deterministic discrete-event kernel: a clock and one priority queue.

The method is SimPy's core (``simpy/core.py``: ``Environment.schedule`` pushes
``(time, priority, eid, event)`` onto a heap, ``step`` pops the smallest), reduced to
what a dispatch simulation needs and made cheap enough to run millions of events in
pure Python:

* **one heap** of ``(time, kind, seq, payload)`` tuples. ``time`` is simulation
  minutes, ``kind`` is an :class:`EventKind` (an ``int``: at equal times the smaller
  kind runs first), ``seq`` is a counter that breaks the remaining ties in the order
  events were scheduled (SimPy's ``eid``), and ``payload`` is an ``int`` (a unit or a
  call index). Nothing else is compared, so two events never tie.
* **one pre-sorted stream** of events known before the run starts (call arrivals,
  tour starts and ends). Pushing a million arrivals through the heap would cost a
  ``log n`` sift each and keep the heap large; instead :meth:`Kernel.events` merges
  the stream with the heap, taking whichever event is next by ``(time, kind)``.
  Stream events carry ``seq = 0``. Stream kinds and heap kinds are disjoint in the
  engine, so ``(time, kind)`` alone orders a stream event against a heap event.
* **a clock**, :attr:`Kernel.now`, set to each event's time as it is handed out.

The kernel knows nothing about units or calls: the engine
(:mod:`smart_policing.response.sim.engine`) iterates :meth:`Kernel.events` and pushes
follow-up events onto :attr:`Kernel.heap` itself (with ``heapq.heappush`` and
:attr:`Kernel.next_seq`, the inlined form of :meth:`Kernel.schedule`). Stale events
(a wake-up at the end of proactive work for a unit dispatched meanwhile) are not
removed from the heap; the engine recognises them by their ``seq`` and skips them
("lazy deletion").

Determinism: given the same stream and the same sequence of ``schedule`` calls, the
order of events is fully determined: there is no dependence on hashing, object
identity or wall time.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Iterator
from enum import IntEnum

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["EventKind", "HeapEntry", "Kernel"]

HeapEntry = tuple[float, int, int, int]
"""``(time_min, kind, seq, payload)``: one scheduled event."""


class EventKind(IntEnum):
    """What an event is; the value is its rank among events at the same time.

    The order at equal times encodes the dispatch rules' boundary cases:

    ``TOUR_END`` (stream)
        first, so a tour is on duty on ``[start_min, end_min)``: a unit whose tour ends
        at ``t`` takes no call arriving at ``t``.
    ``CLEAR`` (heap)
        a unit finishing a call at ``t`` is free for a call arriving at ``t``.
    ``TOUR_START`` (stream)
        a unit starting at ``t`` takes a call arriving at ``t``.
    ``PROACTIVE_END`` (heap)
        a unit back from proactive work at ``t`` is idle for a call at ``t`` (scheduled
        only while a call that may not interrupt that work waits).
    ``CALL`` (stream)
        a call for service enters the dispatch queue.
    ``BACKUP`` (heap)
        last: a waiting call becomes eligible for other districts' units; after
        arrivals, so a zero backup delay still lets the call's own district try first.

    Proactive activities have no start event: the engine rolls them forward lazily
    (see :mod:`~smart_policing.response.sim.engine`), with the same convention: an
    activity starting exactly at ``t`` has not started for a call at ``t``, one ending
    at ``t`` has ended.
    """

    TOUR_END = 0
    CLEAR = 1
    TOUR_START = 2
    PROACTIVE_END = 3
    CALL = 4
    BACKUP = 5


class Kernel:
    """A clock, a heap of scheduled events and a pre-sorted stream merged with it.

    Parameters
    ----------
    stream_time_min, stream_kind, stream_payload
        Events known before the run (equal lengths). They need not be sorted: the
        kernel orders them by ``(time, kind)``, stably (equal keys keep their input
        order, so pass e.g. calls in index order).

    Attributes
    ----------
    now : float
        The time of the event last handed out (minutes); ``-inf`` before the first.
    heap : list of HeapEntry
        Scheduled events, a ``heapq`` heap.
    next_seq : callable
        Returns the next tie-breaking counter value (1, 2, ...).
    handed_out : int
        Events handed out by :meth:`events` so far (stale ones included), updated when
        the iteration ends.

    Examples
    --------
    >>> k = Kernel([5.0, 1.0], [EventKind.CALL, EventKind.CALL], [0, 1])
    >>> _ = k.schedule(5.0, EventKind.CLEAR, 7)
    >>> [(t, EventKind(kind).name, p) for t, kind, _, p in k.events()]
    [(1.0, 'CALL', 1), (5.0, 'CLEAR', 7), (5.0, 'CALL', 0)]
    """

    def __init__(
        self,
        stream_time_min: ArrayLike = (),
        stream_kind: ArrayLike = (),
        stream_payload: ArrayLike = (),
    ) -> None:
        times = np.asarray(stream_time_min, dtype=np.float64).ravel()
        kinds = np.asarray(stream_kind, dtype=np.int64).ravel()
        payloads = np.asarray(stream_payload, dtype=np.int64).ravel()
        if not len(times) == len(kinds) == len(payloads):
            raise ValueError(
                "stream_time_min, stream_kind and stream_payload must have equal lengths, "
                f"got {len(times)}, {len(kinds)}, {len(payloads)}"
            )
        if np.isnan(times).any():
            raise ValueError("stream_time_min holds NaN")
        order = np.lexsort((kinds, times))  # by time, then kind; stable for equal keys
        self._stream_time: list[float] = times[order].tolist()
        self._stream_kind: list[int] = kinds[order].tolist()
        self._stream_payload: list[int] = payloads[order].tolist()
        self._stream_pos = 0
        self.now = -math.inf
        self.heap: list[HeapEntry] = []
        self.next_seq: Callable[[], int] = itertools.count(1).__next__
        self.handed_out = 0

    def schedule(self, time_min: float, kind: int, payload: int) -> int:
        """Schedule an event at ``time_min`` (not before :attr:`now`); return its ``seq``."""
        if time_min < self.now or math.isnan(time_min):
            raise ValueError(f"cannot schedule at {time_min} before now ({self.now})")
        seq = self.next_seq()
        heapq.heappush(self.heap, (time_min, int(kind), seq, payload))
        return seq

    @property
    def stream_remaining(self) -> int:
        """Stream events not yet handed out."""
        return len(self._stream_time) - self._stream_pos

    def events(self) -> Iterator[HeapEntry]:
        """Hand out every event in ``(time, kind, seq)`` order until both sources are empty.

        Events pushed onto :attr:`heap` while iterating are merged in. Each event
        sets :attr:`now` before it is yielded. A generator rather than a ``pop``
        method: resuming it costs less than a method call per event.
        """
        heap = self.heap
        pop = heapq.heappop
        st = self._stream_time
        sk = self._stream_kind
        sp = self._stream_payload
        n = len(st)
        j = self._stream_pos
        inf = math.inf
        nt = st[j] if j < n else inf
        nk = sk[j] if j < n else 0
        popped = 0
        try:
            while True:
                if heap:
                    top = heap[0]
                    ht = top[0]
                    if j >= n or ht < nt or (ht == nt and top[1] < nk):
                        pop(heap)
                        popped += 1
                        self.now = ht
                        yield top
                        continue
                elif j >= n:
                    return
                ev = (nt, nk, 0, sp[j])
                j += 1
                if j < n:
                    nt = st[j]
                    nk = sk[j]
                else:
                    nt = inf
                self.now = ev[0]
                yield ev
        finally:
            self.handed_out += popped + j - self._stream_pos
            self._stream_pos = j
