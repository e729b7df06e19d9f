"""Validating a submission against the channel, the policy pack and the clock.

:func:`assess` is the whole intake decision for one submission, as plain data:

1. **Screening first** (online and telephone): if the answers parse and any is yes,
   the result is :class:`Emergency` whatever else is wrong with the form: the
   reporter must call 911 now, and nothing is kept.
2. **Fields** (:class:`~smart_policing.reports.model.ReportSubmission`): types,
   lengths, money, ``occurred_from <= occurred_to``; online and telephone reports
   (:class:`~smart_policing.reports.model.ScreenedReportSubmission`) carry the
   reporter's contact and the screening answers, field reports no screening answers.
3. **Channel and pack**: the call type is one the pack's ``report_channels`` lets this
   channel take; occurred times are not in the future (city time, with a few minutes
   for clock skew).

Every problem is a :class:`FieldError` naming the field as a pydantic location
(``("property_items", 0, "value")``), so the API answers 422 with the same ``loc``
FastAPI uses and the form shows the message next to the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from smart_policing.reports.model import (
    ReportSubmission,
    ScreenedReportSubmission,
    ScreeningAnswers,
)
from smart_policing.reports.screening import SCREENED_CHANNELS, EmergencySign, emergency_signs
from smart_policing.triage.pack import Pack, call_type_catalogue
from smart_policing.triage.types import ReportChannel
from smart_policing.triage.vocabulary import load_vocabulary

__all__ = [
    "FUTURE_TOLERANCE",
    "Accepted",
    "Emergency",
    "FieldError",
    "IntakeResult",
    "IntakeRules",
    "Invalid",
    "assess",
    "check_submission",
    "field_errors",
    "intake_rules",
]

#: How far past "now" an occurred time may be (a reporter's clock running fast).
FUTURE_TOLERANCE = timedelta(minutes=5)

Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field (``loc`` as pydantic writes it; empty = the whole form)."""

    loc: Loc
    message: str
    kind: str = "value_error"

    @property
    def field(self) -> str:
        """``property_items.0.value``: the location as one string."""
        return ".".join(str(p) for p in self.loc)

    def to_dict(self, prefix: Loc = ()) -> dict[str, Any]:
        """FastAPI's 422 item shape, with ``prefix`` (e.g. ``("body",)``) before ``loc``."""
        return {"loc": [*prefix, *self.loc], "msg": self.message, "type": self.kind}


def field_errors(exc: ValidationError) -> list[FieldError]:
    """pydantic's errors as :class:`FieldError` (messages without pydantic's prefixes)."""
    out = []
    for err in exc.errors(include_url=False):
        message = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        out.append(FieldError(tuple(err["loc"]), message, str(err["type"])))
    return out


@dataclass(frozen=True, slots=True)
class IntakeRules:
    """What the active policy pack lets each channel take, and the city's time zone."""

    pack: str
    pack_version: str
    timezone: str
    allowed: Mapping[ReportChannel, tuple[str, ...]]
    labels: Mapping[str, str] = field(default_factory=dict)

    def types_for(self, channel: ReportChannel) -> tuple[str, ...]:
        """Call-type ids ``channel`` takes (sorted by label; empty: the channel is closed)."""
        return self.allowed.get(channel, ())

    def label(self, call_type: str) -> str:
        """A call type's human label (its id when unknown)."""
        return self.labels.get(call_type, call_type)


def intake_rules(pack: Pack) -> IntakeRules:
    """The intake rules of ``pack``: each ``report_channels`` entry's call types plus
    every type of its categories; types are sorted by label."""
    vocabulary = load_vocabulary()
    labels = {t.id: t.label for t in vocabulary.call_types}
    catalogue = call_type_catalogue()
    allowed: dict[ReportChannel, tuple[str, ...]] = {}
    for policy in pack.report_channels:
        ids = set(policy.call_types) | catalogue.ids_in(policy.categories)
        ids |= set(allowed.get(policy.channel, ()))
        allowed[policy.channel] = tuple(sorted(ids, key=lambda i: (labels.get(i, i), i)))
    return IntakeRules(
        pack=pack.name,
        pack_version=pack.version,
        timezone=pack.timezone,
        allowed=allowed,
        labels=labels,
    )


@dataclass(frozen=True, slots=True)
class Accepted:
    """A valid report, ready to store."""

    channel: ReportChannel
    submission: ReportSubmission


@dataclass(frozen=True, slots=True)
class Emergency:
    """Refused: the screening answers say call 911 (nothing but a count is kept)."""

    channel: ReportChannel
    signs: tuple[EmergencySign, ...]


@dataclass(frozen=True, slots=True)
class Invalid:
    """Refused: field errors to show next to the fields."""

    errors: tuple[FieldError, ...]


IntakeResult = Accepted | Emergency | Invalid


def _local_now(now: datetime, timezone: str) -> datetime:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


def _check_call_type(
    channel: ReportChannel, call_type: str, rules: IntakeRules
) -> list[FieldError]:
    allowed = rules.types_for(channel)
    if call_type in allowed:
        return []
    if allowed:
        message = f"{channel.value} reports take: {', '.join(allowed)} (not {call_type!r})"
    else:
        message = f"the {rules.pack} policy takes no {channel.value} reports"
    return [FieldError(("call_type",), message, "call_type_not_allowed")]


def check_submission(
    channel: ReportChannel, submission: ReportSubmission, rules: IntakeRules, now: datetime
) -> list[FieldError]:
    """The channel, pack and clock checks of a submission whose fields parsed."""
    errors = _check_call_type(channel, submission.call_type, rules)
    latest = _local_now(now, rules.timezone) + FUTURE_TOLERANCE
    for name in ("occurred_from", "occurred_to"):
        value = getattr(submission, name)
        if value is not None and value > latest:
            errors.append(FieldError((name,), "must not be in the future", "in_future"))
    return errors


def assess(channel: ReportChannel, data: object, rules: IntakeRules, now: datetime) -> IntakeResult:
    """Screen, validate and check one submission (``data``: the submitted fields as a
    mapping, e.g. parsed JSON). Never raises for bad input."""
    if not isinstance(data, Mapping):
        return Invalid((FieldError((), "a report is an object of named fields", "model_type"),))
    if channel in SCREENED_CHANNELS and isinstance(data.get("screening"), Mapping):
        try:
            answers = ScreeningAnswers.model_validate(data["screening"])
        except ValidationError:
            pass  # reported with the other field errors below
        else:
            if signs := emergency_signs(answers):
                return Emergency(channel, signs)
    model = ScreenedReportSubmission if channel in SCREENED_CHANNELS else ReportSubmission
    try:
        submission = model.model_validate(dict(data))
    except ValidationError as exc:
        errors = field_errors(exc)
        call_type = data.get("call_type")
        if isinstance(call_type, str) and all(e.loc[:1] != ("call_type",) for e in errors):
            errors += _check_call_type(channel, call_type, rules)  # all the form's errors at once
        return Invalid(tuple(errors))
    errors = check_submission(channel, submission, rules, now)
    if errors:
        return Invalid(tuple(errors))
    return Accepted(channel, submission)
