"""Policy packs: a city's triage policy as one validated YAML file.

A pack says who can answer calls (``responders``, with their hours in local time and
their capacity), which days are holidays, how false alarms are handled
(``alarms``), which report types each report channel takes, the dispatcher's
screening questions, and the ``rules`` that route each call. Shape (``schema_version:
1``)::

    schema_version: 1
    name: baltimore-smart-2022          # the key a command names (= the file's stem)
    version: "1.0.0"
    effective_from: 2022-05-18
    effective_to: null                  # open-ended
    timezone: America/New_York          # IANA; every time below is local time
    holidays:
      - 2022-06-19                      # one date
      - {name: New Year's Day, month: 1, day: 1, observed: true}
      - {name: Thanksgiving, month: 11, weekday: thu, nth: 4}
    responders:
      - id: tru
        kind: telephone-report          # smart_policing.triage.types.ResponderKind
        label: Telephone Reporting Unit
        hours: [{days: [mon, tue, wed, thu, fri], start: "07:00", end: "23:00"}]
        closed_on_holidays: true
        capacity: 6                     # concurrent calls; null = not limited
    alarms: {false_alarm_threshold: 5, warning_counts: [3, 4]}
    report_channels: [{channel: online, call_types: [lost-property, larceny]}]
    screening:
      - {id: weapon, question: Does anyone have a weapon?, sets_if_yes: [weapon]}
    rules:
      - id: lost-property-to-tru
        precedence: 300
        description: "Seed 000 (R3): lost property is fully diverted to TRU / online."
        when: {call_types: [lost-property]}
        then: {primary: tru, fallback: [online], reason: TRU takes the report}

**Times** are ``"HH:MM"`` strings in the pack's time zone, quoted (YAML reads an
unquoted ``23:00`` as the number 1380 and is refused). A window covers minutes
``start <= t < end`` on each of its ``days``; ``end`` may be ``"24:00"``; an
overnight shift is written as two windows (``fri 20:00-24:00`` and ``sat
00:00-04:00``). A responder without ``hours`` is always on shift; ``hours: []`` means
never (the linter reports it).

**Precedence** (one rule, named): rules are tried in ascending ``precedence``; rules
with the same precedence in file order; the **first rule whose every condition holds
fires**. The last rule in that order must be a catch-all (an empty ``when``), so every
call gets exactly one decision. Conditions of one rule all have to hold (AND); within a
condition the listed values are alternatives (OR):

``call_types`` / ``categories``
    the call's canonical type id is listed, or its category is (either list may
    match; ids from ``triage/data/call_types.yaml``).
``priority_in`` / ``priority_min`` / ``priority_max``
    the call's priority (1 = most urgent) is one of / at least / at most (inclusive);
    a call without a priority matches no priority condition.
``flags_all`` / ``flags_any`` / ``flags_none``
    the call's flags (with those set by screening answers) include all of / at least
    one of / none of these.
``time``
    the local received time falls in one of these windows; ``holiday``: ``true``
    only on pack holidays, ``false`` only on other days.
``alarm_status`` / ``alarm_kinds`` / ``alarm_verified``
    the alarm site's standing (``none`` when no alarm or no registered site), the
    alarm's kind (a call without an alarm matches no ``alarm_kinds``), whether the
    alarm was verified (a call without an alarm counts as not verified).

``then`` names the ``primary`` responder, the ``fallback`` chain used in order when a
responder is off shift (hours, holidays) or has no free capacity, whether an officer
``co_respond``\\ s with a non-patrol primary, ``co_responders`` sent alongside (e.g. a
clinician with patrol), and a short ``reason``.

Loading checks every reference (responder ids, call-type ids and categories,
screening flags), unique ids, the final catch-all, and that no rule sends nobody to
an alarm the ``alarms`` settings say still gets an officer (verified, panic/robbery).
Errors name the file, line, field and reason (:func:`load_pack`).
"""

from __future__ import annotations

import calendar
import difflib
import re
from collections.abc import Iterable
from datetime import date, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from smart_policing.datafiles import DataFileError, LocatedErrors, load_model
from smart_policing.timezones import IanaTimeZone
from smart_policing.triage.alarms import AlarmPolicy
from smart_policing.triage.types import (
    AlarmKind,
    AlarmStatus,
    CallFlag,
    ReportChannel,
    ResponderKind,
)
from smart_policing.triage.vocabulary import load_vocabulary

__all__ = [
    "SCHEMA_VERSION",
    "WEEKDAYS",
    "AlarmPolicy",
    "CallTypeCatalogue",
    "FixedHoliday",
    "Holiday",
    "HoursWindow",
    "NthWeekdayHoliday",
    "Pack",
    "ReportChannelPolicy",
    "Responder",
    "Rule",
    "RuleThen",
    "RuleWhen",
    "ScreeningQuestion",
    "Weekday",
    "builtin_pack",
    "builtin_packs",
    "call_type_catalogue",
    "dump_pack",
    "holiday_dates",
    "load_pack",
    "resolve_pack",
]

SCHEMA_VERSION = 1
"""The only ``schema_version`` this code reads."""

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday names in ISO order (index 0 = Monday, as :meth:`date.weekday`)."""

_ID = r"^[a-z0-9][a-z0-9_.-]*$"
_HHMM = re.compile(r"^(?:([01]\d|2[0-3]):([0-5]\d)|24:00)$")
Loc = tuple[str | int, ...]


# ---------------------------------------------------------------- call types


class CallTypeCatalogue(BaseModel):
    """The canonical call types: id -> category (``triage/data/call_types.yaml``)."""

    model_config = ConfigDict(frozen=True)

    categories_by_id: dict[str, str]

    @property
    def categories(self) -> frozenset[str]:
        """Every category named by some call type."""
        return frozenset(self.categories_by_id.values())

    def ids_in(self, categories: Iterable[str]) -> frozenset[str]:
        """Call-type ids whose category is one of ``categories``."""
        wanted = set(categories)
        return frozenset(i for i, c in self.categories_by_id.items() if c in wanted)


@cache
def call_type_catalogue() -> CallTypeCatalogue:
    """The canonical call types by id and category (cached).

    Built from :func:`smart_policing.triage.vocabulary.load_vocabulary` (the shipped
    ``triage/data/call_types.yaml``).
    """
    vocabulary = load_vocabulary()
    return CallTypeCatalogue(
        categories_by_id={t.id: t.category.value for t in vocabulary.call_types}
    )


# ---------------------------------------------------------------- small parts


def _hhmm(value: Any) -> Any:
    if isinstance(value, str) and _HHMM.match(value):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(
            f'write times as quoted "HH:MM" strings (YAML read an unquoted time as {value})'
        )
    raise ValueError(f'{value!r} is not a time "HH:MM" (00:00 to 24:00)')


HHMM = Annotated[str, BeforeValidator(_hhmm)]


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HoursWindow(_Strict):
    """Local-time window ``start <= t < end`` (minutes of the day) on ``days``."""

    days: tuple[Weekday, ...] = Field(min_length=1)
    start: HHMM
    end: HHMM

    @property
    def start_minute(self) -> int:
        """Start, minutes after local midnight (inclusive)."""
        return _minutes(self.start)

    @property
    def end_minute(self) -> int:
        """End, minutes after local midnight (exclusive; 1440 = midnight)."""
        return _minutes(self.end)

    @property
    def weekday_numbers(self) -> frozenset[int]:
        """ISO weekday numbers of ``days`` (1 = Monday ... 7 = Sunday)."""
        return frozenset(WEEKDAYS.index(d) + 1 for d in self.days)

    @model_validator(mode="after")
    def _order(self) -> HoursWindow:
        if self.start == "24:00":
            raise LocatedErrors([(("start",), "a window cannot start at 24:00")])
        if self.end_minute <= self.start_minute:
            raise LocatedErrors(
                [
                    (
                        ("end",),
                        f"end {self.end} is not after start {self.start}; "
                        "write an overnight window as two windows (... to 24:00, 00:00 to ...)",
                    )
                ]
            )
        if len(set(self.days)) != len(self.days):
            raise LocatedErrors([(("days",), "a day is listed twice")])
        return self

    def contains(self, iso_weekday: int, minute: int) -> bool:
        """True if local ``minute`` of the day on ``iso_weekday`` (1 = Monday) is inside."""
        return iso_weekday in self.weekday_numbers and self.start_minute <= minute < self.end_minute


class FixedHoliday(_Strict):
    """A holiday on the same date every year, e.g. 4 July.

    With ``observed`` (the US federal convention) a Saturday holiday is also observed
    on the Friday before and a Sunday holiday on the Monday after.
    """

    name: str = Field(min_length=1)
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    observed: bool = True

    @model_validator(mode="after")
    def _real_day(self) -> FixedHoliday:
        if self.day > calendar.monthrange(2024, self.month)[1]:
            raise LocatedErrors([(("day",), f"month {self.month} has no day {self.day}")])
        return self

    def dates(self, year: int) -> list[date]:
        """The holiday's date(s) in ``year`` (the date itself, and its observed day)."""
        if self.month == 2 and self.day == 29 and not calendar.isleap(year):
            return []
        d = date(year, self.month, self.day)
        out = [d]
        if self.observed and d.weekday() == 5:
            out.append(d - timedelta(days=1))
        elif self.observed and d.weekday() == 6:
            out.append(d + timedelta(days=1))
        return out


class NthWeekdayHoliday(_Strict):
    """A holiday on the ``nth`` ``weekday`` of ``month`` (``nth: -1`` = the last)."""

    name: str = Field(min_length=1)
    month: int = Field(ge=1, le=12)
    weekday: Weekday
    nth: int = Field(ge=-1, le=5)

    @field_validator("nth")
    @classmethod
    def _not_zero(cls, v: int) -> int:
        if v == 0:
            raise ValueError("nth counts from 1 (first), or -1 for the last")
        return v

    def dates(self, year: int) -> list[date]:
        """The holiday's date in ``year`` (empty if the month has no such day)."""
        wd = WEEKDAYS.index(self.weekday)
        days = [
            date(year, self.month, d)
            for d in range(1, calendar.monthrange(year, self.month)[1] + 1)
            if date(year, self.month, d).weekday() == wd
        ]
        if self.nth == -1:
            return [days[-1]]
        return [days[self.nth - 1]] if self.nth <= len(days) else []


Holiday = date | FixedHoliday | NthWeekdayHoliday


class Responder(_Strict):
    """Someone who can answer calls: a unit, a team, a vendor, a web form.

    ``hours``: local-time windows on shift (``None`` = always, ``[]`` = never);
    ``closed_on_holidays``: off shift all day on pack holidays; ``capacity``: how many
    calls at once (``None`` = not limited). Free capacity at decision time is an
    input of the decision (``availability``), not part of the pack.
    """

    id: str = Field(pattern=_ID, max_length=64)
    kind: ResponderKind
    label: str = Field(min_length=1)
    hours: tuple[HoursWindow, ...] | None = None
    closed_on_holidays: bool = False
    capacity: int | None = Field(default=None, ge=0)

    def on_shift(self, iso_weekday: int, minute: int, holiday: bool) -> bool:
        """True if on shift at local ``minute`` of a day (1 = Monday; holiday or not)."""
        if holiday and self.closed_on_holidays:
            return False
        if self.hours is None:
            return True
        return any(w.contains(iso_weekday, minute) for w in self.hours)


class ReportChannelPolicy(_Strict):
    """Which report types one channel takes (report intake reads this)."""

    channel: ReportChannel
    call_types: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    description: str = ""


class ScreeningQuestion(_Strict):
    """A dispatcher's screening question (Minneapolis MH2) and the flags its answer sets.

    A call's ``answers`` map question ids to yes (``true``) / no (``false``); the
    flags of the answer are added to the call's flags before the rules run.
    """

    id: str = Field(pattern=_ID, max_length=64)
    question: str = Field(min_length=1)
    sets_if_yes: tuple[CallFlag, ...] = ()
    sets_if_no: tuple[CallFlag, ...] = ()


class RuleWhen(_Strict):
    """A rule's conditions (all must hold; an empty ``when`` matches every call)."""

    call_types: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None
    priority_in: tuple[int, ...] | None = None
    priority_min: int | None = None
    priority_max: int | None = None
    flags_all: tuple[CallFlag, ...] = ()
    flags_any: tuple[CallFlag, ...] = ()
    flags_none: tuple[CallFlag, ...] = ()
    time: tuple[HoursWindow, ...] | None = None
    holiday: bool | None = None
    alarm_status: tuple[AlarmStatus, ...] | None = None
    alarm_kinds: tuple[AlarmKind, ...] | None = None
    alarm_verified: bool | None = None

    @property
    def is_catch_all(self) -> bool:
        """True if no condition is set (matches every call)."""
        return self == RuleWhen()

    @model_validator(mode="after")
    def _sane(self) -> RuleWhen:
        problems: list[tuple[Loc, str]] = []
        for name in ("call_types", "categories", "priority_in", "time"):
            if getattr(self, name) == ():
                problems.append(((name,), "an empty list matches nothing; leave the field out"))
        for name in ("alarm_status", "alarm_kinds"):
            if getattr(self, name) == ():
                problems.append(((name,), "an empty list matches nothing; leave the field out"))
        if (
            self.priority_min is not None
            and self.priority_max is not None
            and self.priority_min > self.priority_max
        ):
            problems.append((("priority_max",), "priority_max is below priority_min"))
        if problems:
            raise LocatedErrors(problems)
        return self


class RuleThen(_Strict):
    """What a rule decides: responder ids (from ``responders``) and a reason."""

    primary: str
    fallback: tuple[str, ...] = ()
    co_respond: bool = False
    co_responders: tuple[str, ...] = ()
    reason: str = Field(min_length=1, max_length=200)

    @property
    def chain(self) -> tuple[str, ...]:
        """The primary followed by the fallbacks, in the order they are tried."""
        return (self.primary, *self.fallback)


class Rule(_Strict):
    """One routing rule (see the module docstring for precedence)."""

    id: str = Field(pattern=_ID, max_length=64)
    precedence: int
    description: str = Field(min_length=1)
    when: RuleWhen = RuleWhen()
    then: RuleThen


class Pack(_Strict):
    """A validated policy pack (one YAML file)."""

    schema_version: int
    name: str = Field(pattern=_ID, max_length=64)
    version: str = Field(min_length=1, max_length=32)
    description: str = ""
    effective_from: date
    effective_to: date | None = None
    timezone: IanaTimeZone
    holidays: tuple[Holiday, ...] = ()
    responders: tuple[Responder, ...] = Field(min_length=1)
    alarms: AlarmPolicy = AlarmPolicy()
    report_channels: tuple[ReportChannelPolicy, ...] = ()
    screening: tuple[ScreeningQuestion, ...] = ()
    rules: tuple[Rule, ...] = Field(min_length=1)

    _ordered: tuple[Rule, ...] = PrivateAttr(default=())
    _responders: dict[str, Responder] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _alarm_zone(cls, data: Any) -> Any:
        """The false-alarm year runs in the pack's time zone unless the pack says otherwise."""
        if isinstance(data, dict) and isinstance(data.get("timezone"), str):
            alarms = data.get("alarms")
            if alarms is None:
                data = {**data, "alarms": {"timezone": data["timezone"]}}
            elif isinstance(alarms, dict) and "timezone" not in alarms:
                data = {**data, "alarms": {**alarms, "timezone": data["timezone"]}}
        return data

    @field_validator("schema_version")
    @classmethod
    def _schema(cls, v: int) -> int:
        if v != SCHEMA_VERSION:
            raise ValueError(f"this version reads schema_version {SCHEMA_VERSION}, not {v}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Pack:
        problems: list[tuple[Loc, str]] = []
        if self.effective_to is not None and self.effective_to < self.effective_from:
            problems.append((("effective_to",), "effective_to is before effective_from"))
        responders = _unique(self.responders, "responders", problems)
        _unique(self.rules, "rules", problems)
        _unique(self.screening, "screening", problems)
        catalogue = call_type_catalogue()
        for i, rc in enumerate(self.report_channels):
            _check_types(rc.call_types, rc.categories, ("report_channels", i), catalogue, problems)
        for i, rule in enumerate(self.rules):
            at: Loc = ("rules", i)
            _check_types(
                rule.when.call_types or (),
                rule.when.categories or (),
                (*at, "when"),
                catalogue,
                problems,
            )
            then = rule.then
            refs: list[tuple[Loc, str]] = [((*at, "then", "primary"), then.primary)]
            refs += [((*at, "then", "fallback", j), r) for j, r in enumerate(then.fallback)]
            refs += [
                ((*at, "then", "co_responders", j), r) for j, r in enumerate(then.co_responders)
            ]
            for loc, rid in refs:
                if rid not in responders:
                    problems.append(
                        (loc, f"{rid!r} is not a responder (known: {', '.join(responders)})")
                    )
            if len(set(then.chain)) != len(then.chain):
                problems.append(((*at, "then", "fallback"), "a responder appears twice"))
            primary = responders.get(then.primary)
            if primary is not None and primary.kind is ResponderKind.PATROL and then.co_respond:
                problems.append(
                    (
                        (*at, "then", "co_respond"),
                        "co_respond adds an officer, and the primary is already patrol",
                    )
                )
            if primary is not None:
                problems += _alarm_conflicts(rule, at, primary, self.alarms)
        ordered = tuple(
            r for _, r in sorted(enumerate(self.rules), key=lambda p: (p[1].precedence, p[0]))
        )
        if ordered and not ordered[-1].when.is_catch_all:
            last = self.rules.index(ordered[-1])
            problems.append(
                (
                    ("rules", last, "when"),
                    f"the last rule in precedence order ({ordered[-1].id!r}) must be a catch-all "
                    "(no conditions), so every call gets a decision",
                )
            )
        if problems:
            raise LocatedErrors(problems)
        self._ordered = ordered
        self._responders = responders
        return self

    @property
    def ordered_rules(self) -> tuple[Rule, ...]:
        """Rules in the order they are tried (ascending precedence, then file order)."""
        return self._ordered

    def responder(self, responder_id: str) -> Responder:
        """The responder ``responder_id``; KeyError naming the known ids otherwise."""
        try:
            return self._responders[responder_id]
        except KeyError:
            known = ", ".join(self._responders)
            raise KeyError(f"unknown responder {responder_id!r} (known: {known})") from None

    def rule(self, rule_id: str) -> Rule:
        """The rule ``rule_id``; KeyError otherwise."""
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(f"unknown rule {rule_id!r}")

    def in_effect(self, day: date) -> bool:
        """True if ``day`` is within ``effective_from`` .. ``effective_to`` (inclusive)."""
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )

    @property
    def zone(self) -> ZoneInfo:
        """The pack's time zone."""
        return ZoneInfo(self.timezone)


def _unique(items: Iterable[Any], section: str, problems: list[tuple[Loc, str]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for i, item in enumerate(items):
        if item.id in seen:
            problems.append(((section, i, "id"), f"duplicate id {item.id!r}"))
        seen.setdefault(item.id, item)
    return seen


def _check_types(
    call_types: Iterable[str],
    categories: Iterable[str],
    at: Loc,
    catalogue: CallTypeCatalogue,
    problems: list[tuple[Loc, str]],
) -> None:
    known = catalogue.categories_by_id
    for j, t in enumerate(call_types):
        if t not in known:
            close = difflib.get_close_matches(t, list(known), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            problems.append(
                (
                    (*at, "call_types", j),
                    f"{t!r} is not a canonical call type{hint}; see triage/data/call_types.yaml",
                )
            )
    cats = sorted(catalogue.categories)
    for j, c in enumerate(categories):
        if c not in cats:
            problems.append(
                ((*at, "categories", j), f"{c!r} is not a category (known: {', '.join(cats)})")
            )


def _alarm_conflicts(
    rule: Rule, at: Loc, primary: Responder, policy: AlarmPolicy
) -> list[tuple[Loc, str]]:
    """A rule that sends nobody must not catch alarms the policy still sends an officer."""
    if primary.kind is not ResponderKind.NO_RESPONSE or rule.then.co_respond:
        return []
    w = rule.when
    can_be_alarm = w.alarm_kinds is not None or (
        w.alarm_status is not None and AlarmStatus.NONE not in w.alarm_status
    )
    if not can_be_alarm:
        return []
    out: list[tuple[Loc, str]] = []
    if policy.verified_gets_officer and w.alarm_verified is not False:
        out.append(
            (
                (*at, "when", "alarm_verified"),
                "this rule sends no officer but can match a verified alarm, which "
                "alarms.verified_gets_officer says still gets one; add alarm_verified: false",
            )
        )
    kinds = set(w.alarm_kinds) if w.alarm_kinds is not None else set(AlarmKind)
    always = {k for k in AlarmKind if policy.officer_still_sent(k, verified=False)}
    exempt = sorted(kinds & always)
    if exempt:
        out.append(
            (
                (*at, "when", "alarm_kinds"),
                f"this rule sends no officer but can match {', '.join(exempt)} alarms, which "
                "the alarms settings say always get one (panic_gets_officer, exempt_kinds)",
            )
        )
    return out


_HOLIDAY_CACHE: dict[tuple[int, int], tuple[tuple[Holiday, ...], frozenset[date]]] = {}


def _holiday_year(holidays: tuple[Holiday, ...], year: int) -> frozenset[date]:
    # keyed by the tuple's identity (and kept alive with it): no hashing per decision
    hit = _HOLIDAY_CACHE.get((id(holidays), year))
    if hit is not None and hit[0] is holidays:
        return hit[1]
    out: set[date] = set()
    for h in holidays:
        if isinstance(h, date):
            if h.year == year:
                out.add(h)
        else:
            # an observed day may fall in the neighbouring year (1 January on a Saturday)
            out.update(d for y in (year - 1, year, year + 1) for d in h.dates(y) if d.year == year)
    if len(_HOLIDAY_CACHE) > 4096:
        _HOLIDAY_CACHE.clear()
    result = frozenset(out)
    _HOLIDAY_CACHE[(id(holidays), year)] = (holidays, result)
    return result


def holiday_dates(pack: Pack, years: Iterable[int]) -> frozenset[date]:
    """Every local date that is a pack holiday in ``years`` (observed days included)."""
    out: set[date] = set()
    for y in years:
        out |= _holiday_year(pack.holidays, y)
    return frozenset(out)


# ---------------------------------------------------------------- files


def load_pack(path: str | Path) -> Pack:
    """Load and validate a pack file.

    Raises :class:`~smart_policing.datafiles.DataFileError` naming the file, line,
    field and reason of every problem.
    """
    return load_model(path, Pack)


def dump_pack(pack: Pack) -> str:
    """The pack as YAML text that :func:`load_pack` reads back to an equal pack."""
    data = pack.model_dump(mode="json", exclude_defaults=True)
    data = {"schema_version": pack.schema_version, **data}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _packs_dir() -> Any:
    return resources.files("smart_policing.triage") / "packs"


def builtin_packs() -> tuple[str, ...]:
    """Names of the packs shipped in ``triage/packs`` (file stems)."""
    return tuple(
        sorted(p.name[: -len(".yaml")] for p in _packs_dir().iterdir() if p.name.endswith(".yaml"))
    )


@cache
def builtin_pack(name: str) -> Pack:
    """The shipped pack ``name`` (:func:`builtin_packs`); KeyError for others."""
    if name not in builtin_packs():
        raise KeyError(f"unknown pack {name!r} (shipped: {', '.join(builtin_packs())})")
    with resources.as_file(_packs_dir() / f"{name}.yaml") as path:
        pack = load_pack(path)
        if pack.name != name:
            raise DataFileError(path, [f"field 'name': {pack.name!r} in the file for {name!r}"])
    return pack


def resolve_pack(name_or_path: str | Path) -> Pack:
    """A shipped pack by name, or a pack file by path (anything with a ``.yaml``/``/``)."""
    text = str(name_or_path)
    if text in builtin_packs():
        return builtin_pack(text)
    if isinstance(name_or_path, Path) or text.endswith((".yaml", ".yml")) or "/" in text:
        return load_pack(text)
    raise KeyError(f"unknown pack {text!r} (shipped: {', '.join(builtin_packs())}; or a file)")
