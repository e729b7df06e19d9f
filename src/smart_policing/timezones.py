"""IANA time-zone names as a validated type, for every policy, scenario and report option.

Local days, shifts, hours of the day and TRU hours are all read in an agency's time
zone; a misspelt zone must fail where it is written, naming the value.
"""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator

__all__ = ["IanaTimeZone", "check_timezone"]


def check_timezone(value: str) -> str:
    """``value`` if it names an IANA time zone (``America/New_York``); ``ValueError`` else."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. America/New_York)") from exc
    return value


IanaTimeZone = Annotated[str, AfterValidator(check_timezone)]
"""A ``str`` field holding an IANA time-zone name, checked on validation."""
