"""Case numbers: ``R25-000123`` = report, two-digit year, sequence within the year.

A case number is what a resident writes down and reads back over the phone, so it
is short, unambiguous (digits only after the prefix) and sorts in filing order: the
store assigns the next sequence number of the local calendar year inside the
transaction that stores the report, so numbers are unique and gap-free per year
(a refused or rolled-back submission consumes none).

Six digits hold 999,999 reports a year; a seventh is added beyond that (such numbers
still parse, but no longer sort as text: the store orders by year and sequence).
"""

from __future__ import annotations

import re

__all__ = [
    "CASE_NUMBER_PATTERN",
    "CaseNumberError",
    "format_case_number",
    "normalise_case_number",
    "parse_case_number",
]

#: What a case number looks like (the API's path parameter pattern).
CASE_NUMBER_PATTERN = r"^R[0-9]{2}-[0-9]{6,7}$"
_PREFIX = "R"
_CASE = re.compile(CASE_NUMBER_PATTERN)


class CaseNumberError(ValueError):
    """Text that is not a case number."""


def format_case_number(year: int, sequence: int) -> str:
    """``format_case_number(2025, 123) == "R25-000123"``."""
    if not 1900 <= year <= 2199:
        raise CaseNumberError(f"year {year} is outside 1900-2199")
    if not 1 <= sequence <= 9_999_999:
        raise CaseNumberError(f"sequence {sequence} is outside 1-9999999")
    return f"{_PREFIX}{year % 100:02d}-{sequence:06d}"


def parse_case_number(text: str) -> tuple[int, int]:
    """``"R25-000123"`` -> ``(25, 123)`` (two-digit year, sequence); accepts lower case
    and surrounding spaces. Raises :class:`CaseNumberError` for anything else."""
    value = text.strip().upper()
    if not _CASE.match(value):
        raise CaseNumberError(f"{text!r} is not a case number like R25-000123")
    year, seq = value[1:].split("-")
    return int(year), int(seq)


def normalise_case_number(text: str) -> str:
    """The canonical spelling of a case number (``" r25-000123"`` -> ``"R25-000123"``)."""
    parse_case_number(text)
    return text.strip().upper()
