"""Emergency screening: the questions asked before a report is taken.

Seed 000 diverts non-emergencies to the Telephone Reporting Unit and online reports;
an emergency must still reach 911. Every online and telephone report therefore starts
with four yes/no questions (suspect still there, anyone hurt, a weapon, happening
now). Any yes refuses the report with "call 911 now": nothing the reporter typed is
kept, only a count of refusals by day, channel and sign (for the channel-shift
figures of R24). Field reports skip screening: the officer is the emergency response.
"""

from __future__ import annotations

from enum import StrEnum

from smart_policing.reports.model import ScreeningAnswers
from smart_policing.triage.types import CallFlag, ReportChannel

__all__ = [
    "EMERGENCY_MESSAGE",
    "SCREENED_CHANNELS",
    "SCREENING_QUESTIONS",
    "EmergencySign",
    "emergency_signs",
]

EMERGENCY_MESSAGE = (
    "Call 911 now. This is an emergency: an online or telephone report cannot send help. "
    "Nothing you entered has been kept."
)

#: Channels whose reports must answer the screening questions first.
SCREENED_CHANNELS = frozenset({ReportChannel.ONLINE, ReportChannel.TELEPHONE})


class EmergencySign(StrEnum):
    """A yes answer that needs 911 (the triage flag it corresponds to in the value's doc)."""

    SUSPECT_PRESENT = "suspect_present"
    INJURY = "injury"
    WEAPON = "weapon"
    IN_PROGRESS = "in_progress"

    @property
    def flag(self) -> CallFlag:
        """The triage flag a call with this sign would carry."""
        return _FLAGS[self]


_FLAGS = {
    EmergencySign.SUSPECT_PRESENT: CallFlag.SUSPECT_ON_SCENE,
    EmergencySign.INJURY: CallFlag.INJURY,
    EmergencySign.WEAPON: CallFlag.WEAPON,
    EmergencySign.IN_PROGRESS: CallFlag.IN_PROGRESS,
}

#: (field of :class:`ScreeningAnswers`, question) in the order the form asks them.
SCREENING_QUESTIONS: tuple[tuple[EmergencySign, str], ...] = tuple(
    (EmergencySign(name), str(field.description))
    for name, field in ScreeningAnswers.model_fields.items()
)


def emergency_signs(answers: ScreeningAnswers) -> tuple[EmergencySign, ...]:
    """The questions answered yes, in question order (empty: no emergency)."""
    return tuple(sign for sign, _ in SCREENING_QUESTIONS if getattr(answers, sign.value))
