"""Checks on a policy pack: rules that can never fire, and scenario suites.

**Lint** (:func:`lint_pack`). Each rule's ``when`` is a product of independent
conditions, so the set of calls it matches is a product of one set per dimension,
each computed exactly over its finite domain:

* call type: the canonical ids (categories expanded);
* priority: unknown, or 0 to 99;
* flags: every subset of the :class:`~smart_policing.triage.types.CallFlag` values
  (2^12 subsets, as bits of one integer);
* local time: each minute of the week, on a holiday or not (20,160 points, as bits);
* alarm: no alarm, or (kind, site status, verified).

Findings (any of them makes ``smart-policing triage lint`` exit 1):

``contradictory``
    some dimension is empty (e.g. a flag both in ``flags_all`` and ``flags_none``,
    ``alarm_kinds`` with ``alarm_status: [none]`` and ``alarm_verified: true``): the
    rule matches no call.
``shadowed``
    an earlier rule in precedence order matches every call this one matches (each of
    its dimension sets contains this rule's), so this one never fires. Only shadowing
    by *one* earlier rule is detected, not by several together.
``no-hours``
    a responder with ``hours: []`` is never on shift; a rule whose whole chain is such
    responders only ever queues.

**Scenarios** (:func:`run_scenarios`): a scenario file (``triage/scenarios/<pack>.yaml``)
lists realistic calls with the decision the pack must make::

    schema_version: 1
    pack: baltimore-smart-2022
    scenarios:
      - id: lost-property-sunday-2330
        source: "000 TRU hours 7 a.m.-11 p.m. Mon-Fri"
        call: {call_type: lost-property, received_at: "2022-07-17T23:30:00-04:00"}
        availability: {tru: 0}          # optional: free capacity per responder
        expect: {responder: online, rule: report-to-tru}   # co_respond, co_responders, queued

``expect`` checks the responder sent, the rule that fired, ``co_respond`` (default
false), ``co_responders`` (default none) and, if given, ``queued``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from smart_policing.datafiles import LocatedErrors, load_model
from smart_policing.triage.engine import CallFacts, Decision, decide
from smart_policing.triage.pack import Pack, Rule, call_type_catalogue
from smart_policing.triage.types import AlarmKind, AlarmStatus, CallFlag

__all__ = [
    "Finding",
    "Scenario",
    "ScenarioExpect",
    "ScenarioResult",
    "ScenarioSuite",
    "builtin_scenarios",
    "lint_pack",
    "load_scenarios",
    "run_scenarios",
]

FindingKind = Literal["contradictory", "shadowed", "no-hours"]

_FLAGS: tuple[str, ...] = tuple(f.value for f in CallFlag)
_PRIORITIES: tuple[int | None, ...] = (None, *range(100))
_ALARMS: tuple[tuple[str | None, str, bool], ...] = (
    (None, AlarmStatus.NONE.value, False),
    *((k.value, s.value, v) for k in AlarmKind for s in AlarmStatus for v in (False, True)),
)
_DAY = 1440
_WEEK = 7 * _DAY


@dataclass(frozen=True)
class Finding:
    """One problem: the rule (or responder) it concerns and a message."""

    kind: FindingKind
    message: str
    rule: str | None = None
    responder: str | None = None


@dataclass(frozen=True)
class _Space:
    types: frozenset[str]
    priorities: frozenset[int | None]
    flags: int  # bit i set: flag subset with bitmask i matches
    time: int  # bit (holiday * WEEK + (dow-1) * DAY + minute) set: matches
    alarms: frozenset[tuple[str | None, str, bool]]

    def empty_dimensions(self) -> list[str]:
        out = []
        if not self.types:
            out.append("call type")
        if not self.priorities:
            out.append("priority")
        if not self.flags:
            out.append("flags")
        if not self.time:
            out.append("time")
        if not self.alarms:
            out.append("alarm")
        return out

    def covers(self, other: _Space) -> bool:
        return (
            self.types >= other.types
            and self.priorities >= other.priorities
            and (self.flags & other.flags) == other.flags
            and (self.time & other.time) == other.time
            and self.alarms >= other.alarms
        )


def _space(rule: Rule) -> _Space:
    w = rule.when
    cat = call_type_catalogue()
    if w.call_types is None and w.categories is None:
        types = frozenset(cat.categories_by_id)
    else:
        types = frozenset(w.call_types or ()) | cat.ids_in(w.categories or ())
    prios = set(_PRIORITIES)
    if w.priority_in is not None or w.priority_min is not None or w.priority_max is not None:
        prios = {
            p
            for p in range(100)
            if (w.priority_in is None or p in w.priority_in)
            and (w.priority_min is None or p >= w.priority_min)
            and (w.priority_max is None or p <= w.priority_max)
        }
    bit = {f: 1 << i for i, f in enumerate(_FLAGS)}
    all_m = sum(bit[f.value] for f in w.flags_all)
    any_m = sum(bit[f.value] for f in w.flags_any)
    none_m = sum(bit[f.value] for f in w.flags_none)
    flags = 0
    for subset in range(1 << len(_FLAGS)):
        if subset & all_m == all_m and (not any_m or subset & any_m) and not subset & none_m:
            flags |= 1 << subset
    day_bits = 0
    if w.time is None:
        day_bits = (1 << _WEEK) - 1
    else:
        for win in w.time:
            span = (1 << (win.end_minute - win.start_minute)) - 1
            for d in win.weekday_numbers:
                day_bits |= span << ((d - 1) * _DAY + win.start_minute)
    time = 0
    if w.holiday is not True:
        time |= day_bits
    if w.holiday is not False:
        time |= day_bits << _WEEK
    alarms = frozenset(
        (k, s, v)
        for k, s, v in _ALARMS
        if (w.alarm_status is None or s in {x.value for x in w.alarm_status})
        and (w.alarm_kinds is None or (k is not None and k in {x.value for x in w.alarm_kinds}))
        and (w.alarm_verified is None or v == w.alarm_verified)
    )
    return _Space(frozenset(types), frozenset(prios), flags, time, alarms)


def lint_pack(pack: Pack) -> list[Finding]:
    """Rules of ``pack`` that can never fire, and responders never on shift."""
    findings: list[Finding] = []
    never = {r.id for r in pack.responders if r.hours is not None and not r.hours}
    for rid in sorted(never):
        findings.append(
            Finding("no-hours", f"responder {rid!r} has hours: [] (never on shift)", responder=rid)
        )
    earlier: list[tuple[Rule, _Space]] = []
    for rule in pack.ordered_rules:
        space = _space(rule)
        empty = space.empty_dimensions()
        if empty:
            findings.append(
                Finding(
                    "contradictory",
                    f"rule {rule.id!r} matches no call: its {', '.join(empty)} "
                    "conditions exclude every value",
                    rule=rule.id,
                )
            )
        else:
            for prior, prior_space in earlier:
                if prior_space.covers(space):
                    findings.append(
                        Finding(
                            "shadowed",
                            f"rule {rule.id!r} never fires: rule {prior.id!r} "
                            f"(precedence {prior.precedence}) matches every call it matches",
                            rule=rule.id,
                        )
                    )
                    break
        if all(r in never for r in rule.then.chain):
            findings.append(
                Finding(
                    "no-hours",
                    f"rule {rule.id!r} only names responders never on shift: its calls queue",
                    rule=rule.id,
                )
            )
        earlier.append((rule, space))
    return findings


# ---------------------------------------------------------------- scenarios


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScenarioExpect(_Strict):
    """The decision a scenario expects."""

    responder: str
    rule: str
    co_respond: bool = False
    co_responders: tuple[str, ...] = ()
    queued: bool | None = None


class Scenario(_Strict):
    """One realistic call, the availability snapshot, and the expected decision."""

    id: str = Field(min_length=1, max_length=80)
    source: str = Field(min_length=1)
    call: CallFacts
    availability: dict[str, int] = Field(default_factory=dict)
    expect: ScenarioExpect


class ScenarioSuite(_Strict):
    """A scenario file: the pack it is written for and its scenarios."""

    schema_version: Literal[1]
    pack: str
    scenarios: tuple[Scenario, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ScenarioSuite:
        seen: set[str] = set()
        problems: list[tuple[tuple[str | int, ...], str]] = []
        for i, s in enumerate(self.scenarios):
            if s.id in seen:
                problems.append((("scenarios", i, "id"), f"duplicate scenario id {s.id!r}"))
            seen.add(s.id)
        if problems:
            raise LocatedErrors(problems)
        return self


@dataclass(frozen=True)
class ScenarioResult:
    """A scenario's decision and what differs from the expectation (empty = passed)."""

    scenario: Scenario
    decision: Decision | None
    mismatches: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """True if the decision is the expected one."""
        return not self.mismatches


def load_scenarios(path: str | Path) -> ScenarioSuite:
    """Load a scenario file; errors name the file, line and field."""
    return load_model(path, ScenarioSuite)


def builtin_scenarios(pack_name: str) -> ScenarioSuite:
    """The scenario suite shipped for pack ``pack_name`` (``triage/scenarios``)."""
    folder = resources.files("smart_policing.triage") / "scenarios"
    entry = folder / f"{pack_name}.yaml"
    if not entry.is_file():
        raise KeyError(f"no shipped scenarios for pack {pack_name!r}")
    with resources.as_file(entry) as path:
        return load_scenarios(path)


def run_scenarios(pack: Pack, suite: ScenarioSuite) -> list[ScenarioResult]:
    """Decide every scenario's call under ``pack`` and compare with its ``expect``."""
    results: list[ScenarioResult] = []
    for s in suite.scenarios:
        try:
            d = decide(pack, s.call, s.availability)
        except (KeyError, ValueError) as exc:
            results.append(ScenarioResult(s, None, (f"no decision: {exc}",)))
            continue
        e = s.expect
        pairs = [
            ("responder", e.responder, d.responder),
            ("rule", e.rule, d.rule),
            ("co_respond", e.co_respond, d.co_respond),
            ("co_responders", e.co_responders, d.co_responders),
        ]
        if e.queued is not None:
            pairs.append(("queued", e.queued, d.queued))
        mismatches = tuple(
            f"{name}: expected {want!r}, got {got!r}" for name, want, got in pairs if want != got
        )
        results.append(ScenarioResult(s, d, mismatches))
    return results
