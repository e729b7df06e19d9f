"""False-alarm rules (R4): a site's standing this year, and whether an officer responds.

Seed 000 (Baltimore's False Alarm Reduction Program): the department may
"discontinue an officer response to locations that have recorded five false alarms
in a calendar year". This module is the pure core of that rule: plain data in,
plain data out, no I/O. The registry (:mod:`smart_policing.store.alarms`) stores
sites, events and notices and calls these functions; policy packs embed
:class:`AlarmPolicy` as their alarm settings.

The rules
---------
* **Counting.** An alarm event counts as *false* when its outcome is one of
  ``AlarmPolicy.false_outcomes`` (default: only ``false``; a city may add
  ``cancelled``) and its kind is not exempt (``exempt_kinds``, default ``fire``:
  fire alarms belong to the fire department's program). Counting is per **calendar
  year in the city's time zone** (``AlarmPolicy.timezone``): an alarm at 23:30 on
  31 December local time counts for that year although it is already January in
  UTC. The count starts again at 0 on 1 January, 00:00 local time (a city may move
  the reset date with ``reset_month`` / ``reset_day``; a counting year is then
  named for the calendar year it begins in, and "1 January" below means that date).
* **Warnings.** When the count reaches a number in ``warning_at`` (default 3 and
  4) a warning notice is due, once per number and year.
* **Suspension.** The false alarm that brings the count to ``threshold`` (default
  5) suspends officer response to unverified alarms at the site until 1 January
  of the next year, 00:00 local time.
* **Reinstatement** (an appeal granted, or the system repaired with proof) lifts
  a suspension for the rest of the year. The count is **not** reset: it
  continues, and because the site is already past the year's allowance, **the
  next false alarm after a reinstatement suspends again at once** (count
  ``threshold + 1`` or more). A reinstatement while the site is not suspended
  changes nothing (the registry refuses it). Reinstatements dated in an earlier
  year do not carry over. At equal timestamps, alarm events are applied before a
  reinstatement (the decision is taken after the alarm it reviews).
* **Who still gets an officer at a suspended site** (:func:`officer_response`):
  a verified alarm (video, audio, eyewitness) when ``verified_gets_officer`` and a
  panic, robbery or hold-up alarm when ``panic_gets_officer`` (both default true),
  and alarms of exempt kinds, which the program does not govern.
* **Permits.** With ``permit_required`` false (the default, a grace for sites
  without a permit) a missing or expired permit changes nothing. With it true, an
  unverified burglar alarm at a site without a valid permit gets no officer either.

A site's status is ``suspended`` while suspended, otherwise ``warned`` once the
count has reached the smallest warning number (so a reinstated site shows
``warned``: one more false alarm suspends it), otherwise ``active``.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from smart_policing.triage.types import AlarmKind, AlarmOutcome, AlarmStatus

__all__ = [
    "PANIC_KINDS",
    "AlarmEvent",
    "AlarmPolicy",
    "Notice",
    "NoticeKind",
    "OfficerResponse",
    "Reinstatement",
    "ReinstatementReason",
    "ResponseReason",
    "Standing",
    "Verification",
    "local_year",
    "officer_response",
    "site_standing",
    "year_end",
    "year_start",
]

#: Alarms a person sets off on purpose (duress, hold-up, robbery).
PANIC_KINDS = frozenset({AlarmKind.PANIC, AlarmKind.ROBBERY})


class Verification(StrEnum):
    """How an alarm was verified before dispatch (enhanced call verification)."""

    VIDEO = "video"
    AUDIO = "audio"
    EYEWITNESS = "eyewitness"
    NONE = "none"


class ReinstatementReason(StrEnum):
    """Why a suspension was lifted."""

    APPEAL = "appeal"  # the appeal was granted
    REPAIRED = "repaired"  # the system was repaired, with proof


class NoticeKind(StrEnum):
    """Status changes and notices written to a site's record."""

    WARNING = "warning"
    SUSPENSION = "suspension"
    REINSTATEMENT = "reinstatement"
    APPEAL = "appeal"  # an appeal lodged (no effect on standing until granted)


class ResponseReason(StrEnum):
    """Why :func:`officer_response` decided as it did (one value per rule)."""

    NOT_RESTRICTED = "not-restricted"  # site neither suspended nor short of a permit
    EXEMPT_KIND = "exempt-kind"  # e.g. fire: not governed by the false-alarm program
    VERIFIED = "verified"  # restricted site, but the alarm was verified
    PANIC = "panic"  # restricted site, but a panic/robbery/hold-up alarm
    SUSPENDED = "suspended"  # suspended site, unverified alarm: no officer
    NO_PERMIT = "no-permit"  # permit required and missing: no officer


class AlarmPolicy(BaseModel):
    """The false-alarm program's settings (a policy pack's alarm section).

    All counts are false alarms per site and calendar year in ``timezone``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    threshold: int = Field(5, ge=1, description="false alarms in a calendar year that suspend")
    warning_at: tuple[int, ...] = Field(
        (3, 4), description="false-alarm counts that send a warning notice, each < threshold"
    )
    timezone: str = Field(
        "America/New_York", description="IANA zone; the count resets at 00:00 local time"
    )
    reset_month: int = Field(1, ge=1, le=12, description="month the count resets (1: January)")
    reset_day: int = Field(1, ge=1, le=31, description="day of reset_month the count resets")
    verified_gets_officer: bool = Field(
        True, description="a verified alarm (video, audio, eyewitness) still gets an officer"
    )
    panic_gets_officer: bool = Field(
        True, description="a panic, robbery or hold-up alarm still gets an officer"
    )
    false_outcomes: frozenset[AlarmOutcome] = Field(
        frozenset({AlarmOutcome.FALSE}),
        description="outcomes that count as false; add 'cancelled' to count cancellations",
    )
    exempt_kinds: frozenset[AlarmKind] = Field(
        frozenset({AlarmKind.FIRE}), description="alarm kinds the program neither counts nor stops"
    )
    permit_required: bool = Field(
        False, description="no officer for unverified alarms at a site without a valid permit"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {v!r} (e.g. America/New_York)") from exc
        return v

    @field_validator("false_outcomes")
    @classmethod
    def _false_is_false(cls, v: frozenset[AlarmOutcome]) -> frozenset[AlarmOutcome]:
        if AlarmOutcome.FALSE not in v:
            raise ValueError("must include 'false'")
        if AlarmOutcome.VERIFIED in v:
            raise ValueError("a verified alarm cannot count as false")
        return v

    @model_validator(mode="after")
    def _reset_date_exists(self) -> Self:
        if self.reset_day > calendar.monthrange(2023, self.reset_month)[1]:  # a common year
            raise ValueError(f"month {self.reset_month} has no day {self.reset_day} every year")
        return self

    @model_validator(mode="after")
    def _warnings_below_threshold(self) -> Self:
        w = self.warning_at
        if list(w) != sorted(set(w)):
            raise ValueError(f"warning_at must be strictly increasing, got {list(w)}")
        if w and (w[0] < 1 or w[-1] >= self.threshold):
            raise ValueError(
                f"warning_at must lie between 1 and threshold - 1 ({self.threshold - 1}), "
                f"got {list(w)}"
            )
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The city's time zone."""
        return ZoneInfo(self.timezone)

    def status_for(self, false_alarms_this_year: int) -> AlarmStatus:
        """The standing of a registered site after this many counted false alarms."""
        if false_alarms_this_year >= self.threshold:
            return AlarmStatus.SUSPENDED
        if any(false_alarms_this_year >= w for w in self.warning_at):
            return AlarmStatus.WARNED
        return AlarmStatus.ACTIVE

    def officer_still_sent(self, kind: AlarmKind, verified: bool) -> bool:
        """True if this alarm gets an officer even at a suspended site."""
        return (
            kind in self.exempt_kinds
            or (self.panic_gets_officer and kind in PANIC_KINDS)
            or (verified and self.verified_gets_officer)
        )

    def counts(self, event: AlarmEvent) -> bool:
        """Does ``event`` count as a false alarm under this policy?"""
        return event.outcome in self.false_outcomes and event.kind not in self.exempt_kinds


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """One alarm activation at a site. ``occurred_at`` must be timezone-aware."""

    occurred_at: datetime
    kind: AlarmKind
    outcome: AlarmOutcome
    verified_by: Verification = Verification.NONE
    event_id: int | None = None  # the registry's id, when stored


@dataclass(frozen=True, slots=True)
class Reinstatement:
    """A suspension lifted at ``at`` (timezone-aware)."""

    at: datetime
    reason: ReinstatementReason
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """A notice due to the site's owner: a warning, suspension or reinstatement.

    ``false_count`` is the year's count when it fell due; ``event`` is the false
    alarm that caused a warning or suspension (None for a reinstatement).
    """

    kind: NoticeKind
    at: datetime
    false_count: int
    event: AlarmEvent | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Standing:
    """A site's standing in one calendar year (local time).

    ``suspended_by`` is the false alarm that caused the current suspension,
    ``suspended_until`` 1 January of the next year, 00:00 local time (both None when
    not suspended). ``notices`` lists every notice due this year, oldest first.
    """

    year: int
    status: AlarmStatus
    false_count: int
    threshold: int
    suspended_by: AlarmEvent | None = None
    suspended_until: datetime | None = None
    reinstated_at: datetime | None = None
    notices: tuple[Notice, ...] = ()

    @property
    def remaining(self) -> int:
        """False alarms left before suspension (0 when suspended or past threshold)."""
        return max(self.threshold - self.false_count, 0)


class OfficerResponse(NamedTuple):
    """``(officer, reason)``: whether an officer is sent, and the rule that decided."""

    officer: bool
    reason: ResponseReason


def _aware(moment: datetime, what: str) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {moment!r}")
    return moment


def local_year(moment: datetime, policy: AlarmPolicy) -> int:
    """The counting year of ``moment`` (aware): its calendar year in the policy's time
    zone, or with a reset date other than 1 January, the year in which the counting
    year containing ``moment`` began."""
    local = _aware(moment, "a timestamp").astimezone(policy.zone)
    before_reset = (local.month, local.day) < (policy.reset_month, policy.reset_day)
    return local.year - 1 if before_reset else local.year


def year_start(year: int, policy: AlarmPolicy) -> datetime:
    """When counting year ``year`` begins: the reset date (1 January) 00:00 local time."""
    return datetime(year, policy.reset_month, policy.reset_day, tzinfo=policy.zone)


def year_end(year: int, policy: AlarmPolicy) -> datetime:
    """When counting year ``year`` ends and counts reset: 1 January of ``year + 1``,
    00:00 in the policy's time zone (with the default reset date)."""
    return year_start(year + 1, policy)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def site_standing(
    events: Iterable[AlarmEvent],
    year: int,
    policy: AlarmPolicy,
    reinstatements: Iterable[Reinstatement] = (),
) -> Standing:
    """A site's standing in calendar ``year`` from all its events and reinstatements.

    Events and reinstatements outside ``year`` (local time) are ignored, so the
    caller may pass a site's whole history. Events at the same instant keep their
    given order; see the module docstring for the rules.
    """
    timeline: list[tuple[datetime, int, int, AlarmEvent | Reinstatement]] = []
    for i, e in enumerate(events):
        at = _aware(e.occurred_at, "AlarmEvent.occurred_at")
        if policy.counts(e) and local_year(at, policy) == year:
            timeline.append((at, 0, i, e))
    for i, r in enumerate(reinstatements):
        at = _aware(r.at, "Reinstatement.at")
        if local_year(at, policy) == year:
            timeline.append((at, 1, i, r))
    timeline.sort(key=lambda item: item[:3])

    warnings = set(policy.warning_at)
    count = 0
    suspended_by: AlarmEvent | None = None
    reinstated_at: datetime | None = None
    notices: list[Notice] = []
    for at, _, _, item in timeline:
        if isinstance(item, Reinstatement):
            if suspended_by is not None:
                suspended_by, reinstated_at = None, at
                notices.append(Notice(NoticeKind.REINSTATEMENT, at, count, None, item.reason.value))
            continue
        count += 1
        if suspended_by is None and count >= policy.threshold:
            suspended_by = item
            why = (
                f"{_ordinal(count)} false alarm in {year}"
                if count == policy.threshold
                else f"{_ordinal(count)} false alarm in {year}, after reinstatement"
            )
            notices.append(Notice(NoticeKind.SUSPENSION, at, count, item, why))
        elif count in warnings:
            notices.append(
                Notice(
                    NoticeKind.WARNING,
                    at,
                    count,
                    item,
                    f"{_ordinal(count)} false alarm in {year}; "
                    f"the {_ordinal(policy.threshold)} suspends officer response",
                )
            )

    if suspended_by is not None:
        status = AlarmStatus.SUSPENDED
    elif policy.warning_at and count >= policy.warning_at[0]:
        status = AlarmStatus.WARNED
    else:
        status = AlarmStatus.ACTIVE
    return Standing(
        year=year,
        status=status,
        false_count=count,
        threshold=policy.threshold,
        suspended_by=suspended_by,
        suspended_until=year_end(year, policy) if suspended_by is not None else None,
        reinstated_at=reinstated_at,
        notices=tuple(notices),
    )


def officer_response(
    standing: Standing,
    alarm_kind: AlarmKind,
    verified: bool | Verification,
    policy: AlarmPolicy,
    *,
    permit_valid: bool | None = None,
) -> OfficerResponse:
    """Is an officer sent to a new alarm at a site with ``standing``? And why.

    ``verified`` is true (or a :class:`Verification` other than ``none``) when the
    alarm was verified by video, audio or an eyewitness. ``permit_valid`` is whether
    the site holds a valid permit now (None: not known, which never restricts).
    The rules, in order: exempt kinds are not governed; a site that is neither
    suspended nor (when permits are required) without a valid permit gets an
    officer; at a restricted site a verified alarm, then a panic/robbery alarm, may
    still get one (per policy); otherwise no officer.
    """
    if isinstance(verified, Verification):
        verified = verified is not Verification.NONE
    if alarm_kind in policy.exempt_kinds:
        return OfficerResponse(True, ResponseReason.EXEMPT_KIND)
    if standing.status is AlarmStatus.SUSPENDED:
        restriction = ResponseReason.SUSPENDED
    elif policy.permit_required and permit_valid is False:
        restriction = ResponseReason.NO_PERMIT
    else:
        return OfficerResponse(True, ResponseReason.NOT_RESTRICTED)
    if verified and policy.verified_gets_officer:
        return OfficerResponse(True, ResponseReason.VERIFIED)
    if alarm_kind in PANIC_KINDS and policy.panic_gets_officer:
        return OfficerResponse(True, ResponseReason.PANIC)
    return OfficerResponse(False, restriction)
