"""Report intake records: what a reporter submits, and the states a report moves through.

One input model per record (the stored report adds the case number, status and who
filed it; see :mod:`smart_policing.store.reports`). Checks that need no outside
knowledge live here (lengths, money, ``occurred_from <= occurred_to``); checks that
need the policy pack, the channel or the clock (allowed types, required contact, not in
the future) are in :mod:`smart_policing.reports.validate`.

Times are **local wall-clock times of the city** without a UTC offset
(``2025-03-01T14:05``), as a resident reads them off a clock; the store converts them
to UTC with the city's time zone.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from smart_policing.model.places import normalise_address
from smart_policing.triage.types import ReportChannel

__all__ = [
    "DESCRIPTION_MAX",
    "DESCRIPTION_MIN",
    "MAX_ITEMS",
    "LocalDateTime",
    "PropertyItem",
    "ReportAction",
    "ReportChannel",
    "ReportStatus",
    "ReportSubmission",
    "ReporterContact",
    "ScreenedReportSubmission",
    "ScreeningAnswers",
]

DESCRIPTION_MIN = 10
DESCRIPTION_MAX = 4000
MAX_ITEMS = 50
MAX_ITEM_VALUE = Decimal("10000000")


class ReportStatus(StrEnum):
    """Where a report is in review (``submitted -> reviewed -> approved | returned``)."""

    SUBMITTED = "submitted"
    REVIEWED = "reviewed"
    APPROVED = "approved"  # a record now: one row in ``incidents``
    RETURNED = "returned"  # back to the submitter for corrections


class ReportAction(StrEnum):
    """What a user does to a report (:mod:`smart_policing.reports.workflow`)."""

    REVIEW = "review"
    APPROVE = "approve"
    RETURN = "return"
    RESUBMIT = "resubmit"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _local(value: datetime) -> datetime:
    if value.tzinfo is not None:
        raise PydanticCustomError(
            "value_error",
            "give the local time of the city without a UTC offset, e.g. 2025-03-01T14:05",
        )
    if not 1900 <= value.year <= 2199:
        raise PydanticCustomError("value_error", "the year must be between 1900 and 2199")
    return value.replace(microsecond=0)


#: A local wall-clock time without an offset (``YYYY-MM-DDTHH:MM[:SS]``).
LocalDateTime = Annotated[
    datetime,
    AfterValidator(_local),
    WithJsonSchema(
        {
            "type": "string",
            "description": "local time of the city, no UTC offset",
            "pattern": r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
            r"T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$",
            "examples": ["2025-03-01T14:05"],
        }
    ),
]

_PHONE = re.compile(r"^\+?[0-9 ().-]{7,32}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


class ScreeningAnswers(_Strict):
    """The emergency screening questions, answered before anything else (yes = true).

    Any yes means the reporter must call 911 now: the report is not taken.
    """

    suspect_present: bool = Field(description="Is the person who did it still there?")
    injury: bool = Field(description="Is anyone hurt?")
    weapon: bool = Field(description="Did anyone have or show a weapon?")
    in_progress: bool = Field(description="Is it happening now?")


class PropertyItem(_Strict):
    """Something lost, stolen or damaged, and its value in dollars."""

    description: str = Field(min_length=1, max_length=200)
    value: Annotated[
        Decimal,
        Field(ge=0, le=MAX_ITEM_VALUE, max_digits=10, decimal_places=2),
        WithJsonSchema(
            {
                "type": "number",
                "minimum": 0,
                "maximum": 10_000_000,
                "multipleOf": 0.01,
                "description": 'US dollars and cents (or a string such as "19.99")',
            }
        ),
    ]
    serial_number: Annotated[str, StringConstraints(max_length=64)] | None = None

    @field_validator("value", mode="before")
    @classmethod
    def _no_float_noise(cls, v: Any) -> Any:
        # JSON numbers arrive as floats: 19.99 must stay 19.99, not 19.989999...
        if isinstance(v, float):
            return Decimal(repr(v))
        return v


class ReporterContact(_Strict):
    """How records staff reach the reporter. Stored with the report, never logged."""

    model_config = ConfigDict(
        json_schema_extra={"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}
    )

    name: str = Field(min_length=1, max_length=128)
    phone: Annotated[str, StringConstraints(max_length=32)] | None = Field(
        None, json_schema_extra={"pattern": r"^\+?[0-9][0-9 ().-]{6,30}$"}
    )
    email: Annotated[str, StringConstraints(max_length=254)] | None = Field(
        None, json_schema_extra={"pattern": r"^[a-z0-9._-]{1,64}@[a-z0-9-]{1,63}\.[a-z]{2,12}$"}
    )

    @field_validator("phone", "email", mode="before")
    @classmethod
    def _blank_is_none(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        if v is not None and not _PHONE.match(v):
            raise PydanticCustomError(
                "value_error", "a phone number has 7 to 32 digits, spaces, dashes or brackets"
            )
        return v

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is not None and not _EMAIL.match(v):
            raise PydanticCustomError(
                "value_error", "an e-mail address looks like name@example.org"
            )
        return v

    @model_validator(mode="after")
    def _reachable(self) -> ReporterContact:
        if self.phone is None and self.email is None:
            raise PydanticCustomError("value_error", "give a phone number or an e-mail address")
        return self


class _KnownCallTypes:
    """Lists the canonical call-type ids in the JSON schema (read when a schema is
    generated, not at import); which of them a channel takes is the pack's business."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        from smart_policing.triage.vocabulary import load_vocabulary

        schema["enum"] = sorted(t.id for t in load_vocabulary().call_types)
        return schema


class ReportSubmission(_Strict):
    """A report's fields on any channel (the channel is the route, not a field).

    As is, the shape of a field report (contact optional, no screening);
    :class:`ScreenedReportSubmission` is the shape of online and telephone reports.
    ``occurred_to`` defaults to ``occurred_from`` (one moment).
    """

    call_type: Annotated[
        str,
        Field(
            min_length=1,
            max_length=32,
            pattern=r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$",
            description="canonical call-type id (e.g. lost-property); the policy pack lists "
            "those each channel takes",
            examples=["larceny"],
        ),
        _KnownCallTypes(),
    ]
    occurred_from: LocalDateTime
    occurred_to: LocalDateTime | None = None
    address: str = Field(
        min_length=3, max_length=200, description="street address where it happened"
    )
    description: str = Field(min_length=DESCRIPTION_MIN, max_length=DESCRIPTION_MAX)
    property_items: list[PropertyItem] = Field(default_factory=list, max_length=MAX_ITEMS)
    contact: ReporterContact | None = None

    @field_validator("address")
    @classmethod
    def _an_address(cls, v: str) -> str:
        if normalise_address(v) is None:
            raise PydanticCustomError("value_error", "write the street address, e.g. 123 N Main St")
        return v

    @field_validator("occurred_to")
    @classmethod
    def _not_before_start(cls, v: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("occurred_from")
        if isinstance(start, datetime) and v is not None and v < start:
            raise PydanticCustomError("value_error", "must not be before occurred_from")
        return v

    @property
    def occurred_until(self) -> datetime:
        """``occurred_to``, or ``occurred_from`` when only one moment was given."""
        return self.occurred_to or self.occurred_from


class ScreenedReportSubmission(ReportSubmission):
    """An online or telephone report: the screening answers and the reporter's contact
    are required."""

    contact: ReporterContact
    screening: ScreeningAnswers
