"""The proactive-activity log (R9): what officers did in zones, and the dosage it adds up to.

Baltimore's 2019 plan (seed 001) sends officers and District Action Teams into zones
to take "proactive measures": foot patrols, business checks, knock-and-talks and
executing warrants. An officer logs each one with its zone and its start and end;
supervisors read the **dosage**: per zone and per ISO week, how many activities and
how many minutes of them. Dosage is the measure the hot-spot policing literature
uses for how much police presence a place received (Sherman & Weisburd 1995; the
Koper curve, Koper 1995, puts the useful length of a stop at 10-15 minutes), so
minutes are counted, not only visits.

Rules (checked by :func:`validate_activity`; all times timezone-aware):

- the activity ends after it starts, and lasts at most :data:`MAX_DURATION` (12 h:
  a longer one is a typing error, e.g. a wrong day);
- it does not end in the future, beyond :data:`CLOCK_SKEW` (5 minutes) of a device's
  clock being fast.

Weeks are ISO 8601 weeks (Monday to Sunday, week 1 holds the year's first Thursday),
in the city's local time zone. An activity counts whole in the week of its local
start (one spanning Sunday midnight is not split: a patrol is one dose). Minutes are
``(ended_at - started_at)`` in minutes, fractional.

Pure functions over plain data: the store (``smart_policing.store.zones``) reads and
writes, the API and CLI call both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

__all__ = [
    "CLOCK_SKEW",
    "MAX_DURATION",
    "ActivityError",
    "ActivityKind",
    "DosageCell",
    "LoggedActivity",
    "dosage",
    "iso_week",
    "validate_activity",
    "weeks_between",
]

#: The longest activity accepted (a shift); anything longer is refused as a typing error.
MAX_DURATION = timedelta(hours=12)

#: How far in the future an activity may end (a device clock running fast).
CLOCK_SKEW = timedelta(minutes=5)


class ActivityKind(StrEnum):
    """The proactive measures of the 2019 plan (seed 001)."""

    FOOT_PATROL = "foot-patrol"
    BUSINESS_CHECK = "business-check"
    KNOCK_AND_TALK = "knock-and-talk"
    WARRANT_SERVICE = "warrant-service"


class ActivityError(ValueError):
    """An activity that cannot be logged; the message names the field and the reason."""


def validate_activity(started_at: datetime, ended_at: datetime, *, now: datetime) -> None:
    """Check an activity's times; raise :class:`ActivityError` naming the field.

    Parameters
    ----------
    started_at, ended_at
        Timezone-aware start and end.
    now
        The current time (aware), against which "in the future" is judged with
        :data:`CLOCK_SKEW` of tolerance.
    """
    for field, value in (("started_at", started_at), ("ended_at", ended_at), ("now", now)):
        if value.utcoffset() is None:
            raise ActivityError(f"{field}: needs a time zone offset (e.g. 2019-05-01T14:00-04:00)")
    if ended_at <= started_at:
        raise ActivityError("ended_at: must be after started_at")
    if ended_at - started_at > MAX_DURATION:
        hours = MAX_DURATION.total_seconds() / 3600
        raise ActivityError(f"ended_at: an activity lasts at most {hours:g} hours")
    if ended_at > now + CLOCK_SKEW:
        raise ActivityError("ended_at: is in the future")


def iso_week(moment: datetime, timezone: str) -> str:
    """The ISO 8601 week of ``moment`` in local time ``timezone``, e.g. ``2019-W05``."""
    year, week, _ = moment.astimezone(ZoneInfo(timezone)).isocalendar()
    return f"{year}-W{week:02d}"


def weeks_between(start: date, end: date) -> list[str]:
    """Every ISO week touching the local days ``start`` .. ``end`` (inclusive), in order."""
    if end < start:
        return []
    monday = start - timedelta(days=start.weekday())
    weeks = []
    while monday <= end:
        year, week, _ = monday.isocalendar()
        weeks.append(f"{year}-W{week:02d}")
        monday += timedelta(days=7)
    return weeks


@dataclass(frozen=True, slots=True)
class LoggedActivity:
    """An activity as dosage sees it: where, what, when (aware datetimes)."""

    zone_id: int
    kind: ActivityKind
    started_at: datetime
    ended_at: datetime

    @property
    def minutes(self) -> float:
        """Length in minutes."""
        return (self.ended_at - self.started_at).total_seconds() / 60.0


@dataclass(frozen=True, slots=True)
class DosageCell:
    """Dosage of one zone in one ISO week: activity count, minutes, and count by kind."""

    zone_id: int
    week: str
    activities: int
    minutes: float
    by_kind: dict[str, int]


def dosage(activities: Iterable[LoggedActivity], timezone: str) -> list[DosageCell]:
    """Activities and minutes per zone per local ISO week, sorted by zone then week.

    Only (zone, week) pairs with at least one activity appear; a caller wanting
    zeros fills them from :func:`weeks_between`.
    """
    tz = ZoneInfo(timezone)
    counts: dict[tuple[int, str], list[float]] = {}
    kinds: dict[tuple[int, str], dict[str, int]] = {}
    for a in activities:
        year, week, _ = a.started_at.astimezone(tz).isocalendar()
        key = (a.zone_id, f"{year}-W{week:02d}")
        cell = counts.setdefault(key, [0, 0.0])
        cell[0] += 1
        cell[1] += a.minutes
        by = kinds.setdefault(key, {})
        by[a.kind.value] = by.get(a.kind.value, 0) + 1
    return [
        DosageCell(
            z, w, int(counts[(z, w)][0]), counts[(z, w)][1], dict(sorted(kinds[(z, w)].items()))
        )
        for z, w in sorted(counts)
    ]
