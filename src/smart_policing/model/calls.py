"""Calls for service: the canonical record every 911/CAD import produces.

A call's life is a chain of timestamps, all timezone-aware:

``received_at`` (call answered / incident created) -> ``queued_at`` (call-taker
finished, call waits for a unit) -> ``dispatched_at`` -> ``acknowledged_at`` ->
``en_route_at`` -> ``on_scene_at`` (first unit arrives) -> ``cleared_at`` (first
unit clears) -> ``closed_at`` (incident finally closed).

Intervals are derived from that chain in seconds (:data:`INTERVALS`); the same
table drives the bulk importer, so there is one definition of, say,
"call-to-arrival". An interval that is negative, or longer than its plausibility
limit, is *flagged* (:func:`interval_flags`), never dropped: real CAD exports have
clock skew between workstations, stages entered after the fact and calls left
open for days, and analysts must be able to count them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, field_validator

__all__ = [
    "CALL_TIME_FIELDS",
    "INTERVALS",
    "CallForService",
    "Interval",
    "SourceChannel",
    "interval_flags",
]


class SourceChannel(StrEnum):
    """How a call reached the agency (the CAD's "reception" field, normalised)."""

    E911 = "911"
    PHONE = "phone"
    TEXT = "text"
    OFFICER_INITIATED = "officer_initiated"
    RADIO = "radio"
    FLAG_DOWN = "flag_down"
    WALK_IN = "walk_in"
    ONLINE = "online"
    ALARM_COMPANY = "alarm_company"
    CAD_TO_CAD = "cad_to_cad"
    OTHER = "other"
    UNKNOWN = "unknown"


#: The timestamp chain in the order a call normally moves through it.
CALL_TIME_FIELDS: tuple[str, ...] = (
    "received_at",
    "queued_at",
    "dispatched_at",
    "acknowledged_at",
    "en_route_at",
    "on_scene_at",
    "cleared_at",
    "closed_at",
)


@dataclass(frozen=True)
class Interval:
    """A derived interval ``end - start`` in seconds.

    ``max_seconds`` is the plausibility limit above which the interval is flagged
    ``extreme_<name>``; a negative value is flagged ``negative_<name>``.
    """

    name: str
    start: str
    end: str
    max_seconds: float
    description: str


#: Derived intervals (seconds). Response-time work reads these columns.
INTERVALS: tuple[Interval, ...] = (
    Interval("call_to_queue_s", "received_at", "queued_at", 6 * 3600, "call-taking time"),
    Interval("call_to_dispatch_s", "received_at", "dispatched_at", 24 * 3600, "call to dispatch"),
    Interval("dispatch_to_en_route_s", "dispatched_at", "en_route_at", 6 * 3600, "turnout"),
    Interval("travel_s", "en_route_at", "on_scene_at", 6 * 3600, "travel (en route to arrival)"),
    Interval(
        "dispatch_to_arrival_s", "dispatched_at", "on_scene_at", 12 * 3600, "dispatch to arrival"
    ),
    Interval("call_to_arrival_s", "received_at", "on_scene_at", 24 * 3600, "call to arrival"),
    Interval("on_scene_s", "on_scene_at", "cleared_at", 24 * 3600, "time on scene"),
    Interval("total_s", "received_at", "closed_at", 7 * 24 * 3600, "call open to final close"),
)


def interval_flags(values: dict[str, float | None]) -> list[str]:
    """Quality flags for one call's intervals (seconds; ``None`` when a stage is missing)."""
    flags: list[str] = []
    for iv in INTERVALS:
        v = values.get(iv.name)
        if v is None:
            continue
        if v < 0:
            flags.append(f"negative_{iv.name}")
        elif v > iv.max_seconds:
            flags.append(f"extreme_{iv.name}")
    return flags


class CallForService(BaseModel):
    """One call for service as stored (times timezone-aware, intervals in seconds)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    call_id: str
    agency: str | None = None
    received_at: datetime
    queued_at: datetime | None = None
    dispatched_at: datetime | None = None
    acknowledged_at: datetime | None = None
    en_route_at: datetime | None = None
    on_scene_at: datetime | None = None
    cleared_at: datetime | None = None
    closed_at: datetime | None = None
    call_type_code: str
    call_type_text: str | None = None
    priority: int | None = None
    source_channel: SourceChannel = SourceChannel.UNKNOWN
    disposition_code: str | None = None
    disposition_text: str | None = None
    block_address: str | None = None
    place_key: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    district: str | None = None
    beat: str | None = None
    shift: str | None = None
    unit_id: str | None = None
    call_taker_id: str | None = None
    dispatcher_id: str | None = None
    self_initiated: bool = False
    reopened: bool = False
    quality_flags: tuple[str, ...] = ()

    @field_validator(*CALL_TIME_FIELDS)
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.utcoffset() is None:
            raise ValueError("timestamps must be timezone-aware")
        return v

    def interval(self, name: str) -> float | None:
        """The derived interval ``name`` (see :data:`INTERVALS`) in seconds, or None."""
        for iv in INTERVALS:
            if iv.name == name:
                start, end = getattr(self, iv.start), getattr(self, iv.end)
                if start is None or end is None:
                    return None
                return float((end - start).total_seconds())
        raise KeyError(f"unknown interval {name!r}; known: {[i.name for i in INTERVALS]}")
