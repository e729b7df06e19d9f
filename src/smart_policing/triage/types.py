"""Words the triage engine, its packs, the alarm registry and report intake share.

Enumerations are the canonical spellings used in policy packs, call JSON and the
API (lower case, hyphenated); a pack or call using any other spelling is refused
with the list of known values.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "AlarmKind",
    "AlarmOutcome",
    "AlarmStatus",
    "CallFlag",
    "ReportChannel",
    "ResponderKind",
]


class CallFlag(StrEnum):
    """Facts about a call that change who should answer it.

    Set by the call-taker (or screening questions), or implied by the agency's call
    type through the vocabulary mapping (e.g. ``ASSAULT IN PROGRESS`` implies
    ``in-progress``).
    """

    INJURY = "injury"
    DUI = "dui"  # a driver under the influence is involved
    WEAPON = "weapon"
    IN_PROGRESS = "in-progress"
    SUSPECT_ON_SCENE = "suspect-on-scene"
    STATE_REPORT_NEEDED = "state-report-needed"  # a crash needing a state police report
    BEHAVIOURAL_HEALTH = "behavioural-health"  # mental-health or substance crisis signs
    SUICIDAL = "suicidal"
    VIOLENT_BEHAVIOUR = "violent-behaviour"
    EVIDENCE_TO_COLLECT = "evidence-to-collect"
    VEHICLE_BLOCKING = "vehicle-blocking"  # traffic hazard, blocked lane or driveway
    CHILD_INVOLVED = "child-involved"


class ResponderKind(StrEnum):
    """Who can answer a call (a pack names its responders, each of one kind)."""

    PATROL = "patrol"  # sworn officers
    BEHAVIOURAL_HEALTH = "behavioural-health"  # clinicians / social workers, mobile team
    CO_RESPONDER = "co-responder"  # clinician riding with an officer
    TRAFFIC_VENDOR = "traffic-vendor"  # third-party crash / tow vendor
    TRAFFIC_CONTROL = "traffic-control"  # parking enforcement
    TELEPHONE_REPORT = "telephone-report"  # Telephone Reporting Unit (TRU)
    ONLINE_REPORT = "online-report"  # self-service web report
    CITY_311 = "311"
    FIRE_EMS = "fire-ems"
    NO_RESPONSE = "no-response"  # e.g. alarm at a suspended site: logged, nobody sent


class AlarmKind(StrEnum):
    """What an alarm signals."""

    BURGLAR = "burglar"
    PANIC = "panic"  # a person pressed it: duress, hold-up
    ROBBERY = "robbery"
    FIRE = "fire"
    OTHER = "other"


class AlarmOutcome(StrEnum):
    """What responders found (or were told) about one alarm activation."""

    FALSE = "false"  # no sign of an attempted crime: user error, fault, weather, animals
    VERIFIED = "verified"  # a crime or attempt was confirmed
    CANCELLED = "cancelled"  # the alarm company cancelled before dispatch
    UNDETERMINED = "undetermined"


class AlarmStatus(StrEnum):
    """A site's standing for officer response this calendar year."""

    NONE = "none"  # no registered site at the address
    ACTIVE = "active"
    WARNED = "warned"  # reached a warning count
    SUSPENDED = "suspended"  # threshold reached: no officer for unverified alarms


class ReportChannel(StrEnum):
    """Where a report is filed (report intake, R3/R5/R12)."""

    ONLINE = "online"  # a resident on the web form (anonymous public role)
    TELEPHONE = "telephone"  # TRU call-taker
    FIELD = "field"  # an officer from the car
