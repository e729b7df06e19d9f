"""Dispatch simulation (issue 5 item 3): a discrete-event model of a city's patrol.

:mod:`.kernel` is the event kernel (a clock and a heap with a tie-breaking counter),
:mod:`.engine` the dispatch policy on top of it (:func:`simulate`): units by district and
shift, priority queues, nearest available unit with cross-district backup, multi-unit
calls, proactive activity that yields to calls. Times are minutes from the start of the
run, positions projected metres.
"""

from smart_policing.response.sim.engine import (
    CallStream,
    DispatchRules,
    Fleet,
    SimRun,
    TraceEvent,
    simulate,
)
from smart_policing.response.sim.kernel import EventKind, Kernel

__all__ = [
    "CallStream",
    "DispatchRules",
    "EventKind",
    "Fleet",
    "Kernel",
    "SimRun",
    "TraceEvent",
    "simulate",
]
