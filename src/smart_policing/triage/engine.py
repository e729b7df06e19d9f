"""The triage decision: which responder answers a call, under a policy pack.

Pure and deterministic: :func:`decide` reads a :class:`~smart_policing.triage.pack.Pack`,
one :class:`CallFacts` and an optional availability snapshot, and returns a
:class:`Decision`; no I/O, no clock (the call's own ``received_at`` is the time).

The call (canonical JSON, the body of ``triage decide --call FILE.json``)::

    {
      "call_type": "lost-property",          # canonical id (triage/data/call_types.yaml)
      "priority": 4,                         # 1 = most urgent; optional
      "received_at": "2022-07-17T23:30:00-04:00",   # ISO 8601 with an offset
      "flags": ["injury"],                   # smart_policing.triage.types.CallFlag
      "agency_code": "LOST PROPERTY",        # the agency's own code; optional, echoed
      "alarm": {"kind": "burglar", "status": "suspended", "verified": false},  # optional
      "answers": {"weapon": false},          # screening question id -> yes/no; optional
      "call_id": "P221980001"                # optional, echoed
    }

How a decision is made:

1. **Flags**: the call's flags plus those set by its screening ``answers``
   (a question's ``sets_if_yes`` / ``sets_if_no``).
2. **Local time**: ``received_at`` in the pack's time zone, to the minute: weekday,
   minute of the day, and whether the local date is a pack holiday.
3. **Rule**: rules in ascending ``precedence`` (ties in file order); the first whose
   every condition holds fires. The pack ends with a catch-all, so one always does.
4. **Responder**: the rule's chain (primary, then each fallback) is tried in order;
   a responder is *available* when on shift (its local ``hours``, holidays) and, if
   ``availability`` names it, with free capacity > 0 (``availability`` maps responder
   id -> free places now; responders it does not name are assumed free). The first
   available one answers. If none is, the call waits for the **last** in the chain
   (``queued``): the chain's end is the pack's choice of who takes the call anyway.
5. ``co_respond`` (an officer goes with a non-patrol responder) and ``co_responders``
   (requested alongside, e.g. a clinician with patrol) come from the rule as written.

:func:`decide_many` makes the same decisions for a Polars frame of calls with
vectorised expressions (each rule's ``when`` compiled to one boolean expression, the
first match picked with a ``when/then`` chain); a test checks that both agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import polars as pl
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from smart_policing.triage.pack import (
    WEEKDAYS,
    Pack,
    Responder,
    Rule,
    call_type_catalogue,
    holiday_dates,
)
from smart_policing.triage.types import AlarmKind, AlarmStatus, CallFlag, ResponderKind

__all__ = [
    "CALL_FRAME_SCHEMA",
    "AlarmFacts",
    "CallFacts",
    "Decision",
    "SkippedResponder",
    "calls_frame",
    "decide",
    "decide_many",
    "effective_flags",
]

SkipReason = Literal["off-shift", "holiday", "busy"]


class AlarmFacts(BaseModel):
    """The alarm behind an alarm call: its kind, the site's standing, verification.

    ``status`` comes from the false-alarm registry at decision time (``none`` for an
    unregistered site); ``verified``: a person or video / audio confirmed a crime.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: AlarmKind
    status: AlarmStatus = AlarmStatus.NONE
    verified: bool = False


class CallFacts(BaseModel):
    """One call as the engine sees it (canonical field names, see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    call_type: str
    priority: int | None = Field(default=None, ge=0, le=99)
    received_at: AwareDatetime
    flags: tuple[CallFlag, ...] = ()
    agency_code: str | None = None
    alarm: AlarmFacts | None = None
    answers: dict[str, bool] = Field(default_factory=dict)
    call_id: str | None = None

    @field_validator("call_type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        if v not in call_type_catalogue().categories_by_id:
            raise ValueError(
                f"{v!r} is not a canonical call type (see triage/data/call_types.yaml)"
            )
        return v

    @field_validator("flags")
    @classmethod
    def _sorted_flags(cls, v: tuple[CallFlag, ...]) -> tuple[CallFlag, ...]:
        return tuple(sorted(set(v)))


class SkippedResponder(BaseModel):
    """A responder of the chain that was passed over, and why."""

    model_config = ConfigDict(frozen=True)

    responder: str
    why: SkipReason


class Decision(BaseModel):
    """Who answers a call, and why.

    ``responder`` is who is actually sent (after the fallback chain); ``planned`` is
    the rule's primary. ``officer_sent`` is true when patrol answers or co-responds.
    ``inputs`` holds the call facts the firing rule tested and the local time.
    """

    model_config = ConfigDict(frozen=True)

    pack: str
    pack_version: str
    pack_in_effect: bool
    rule: str
    reason: str
    responder: str
    responder_kind: ResponderKind
    planned: str
    fallback_chain: tuple[str, ...]
    skipped: tuple[SkippedResponder, ...] = ()
    queued: bool = False
    co_respond: bool = False
    co_responders: tuple[str, ...] = ()
    officer_sent: bool
    call_id: str | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)


# ---------------------------------------------------------------- compiled pack


@dataclass(frozen=True, slots=True)
class _Compiled:
    rule: Rule
    types: frozenset[str] | None
    prio_in: frozenset[int] | None
    prio_min: int | None
    prio_max: int | None
    flags_all: frozenset[str]
    flags_any: frozenset[str]
    flags_none: frozenset[str]
    windows: tuple[tuple[frozenset[int], int, int], ...] | None
    holiday: bool | None
    status: frozenset[str] | None
    kinds: frozenset[str] | None
    verified: bool | None

    def matches(
        self,
        call_type: str,
        priority: int | None,
        flags: frozenset[str],
        dow: int,
        minute: int,
        holiday: bool,
        alarm: AlarmFacts | None,
    ) -> bool:
        if self.types is not None and call_type not in self.types:
            return False
        if self.prio_in is not None or self.prio_min is not None or self.prio_max is not None:
            if priority is None:
                return False
            if self.prio_in is not None and priority not in self.prio_in:
                return False
            if self.prio_min is not None and priority < self.prio_min:
                return False
            if self.prio_max is not None and priority > self.prio_max:
                return False
        if not self.flags_all <= flags:
            return False
        if self.flags_any and not (self.flags_any & flags):
            return False
        if self.flags_none & flags:
            return False
        if self.windows is not None and not any(
            dow in days and start <= minute < end for days, start, end in self.windows
        ):
            return False
        if self.holiday is not None and holiday != self.holiday:
            return False
        status = alarm.status.value if alarm is not None else AlarmStatus.NONE.value
        if self.status is not None and status not in self.status:
            return False
        if self.kinds is not None and (alarm is None or alarm.kind.value not in self.kinds):
            return False
        verified = alarm.verified if alarm is not None else False
        return self.verified is None or verified == self.verified


def _types_of(rule: Rule) -> frozenset[str] | None:
    w = rule.when
    if w.call_types is None and w.categories is None:
        return None
    ids = set(w.call_types or ())
    ids |= call_type_catalogue().ids_in(w.categories or ())
    return frozenset(ids)


def _compile_rule(rule: Rule) -> _Compiled:
    w = rule.when
    return _Compiled(
        rule=rule,
        types=_types_of(rule),
        prio_in=frozenset(w.priority_in) if w.priority_in is not None else None,
        prio_min=w.priority_min,
        prio_max=w.priority_max,
        flags_all=frozenset(f.value for f in w.flags_all),
        flags_any=frozenset(f.value for f in w.flags_any),
        flags_none=frozenset(f.value for f in w.flags_none),
        windows=(
            tuple((x.weekday_numbers, x.start_minute, x.end_minute) for x in w.time)
            if w.time is not None
            else None
        ),
        holiday=w.holiday,
        status=frozenset(s.value for s in w.alarm_status) if w.alarm_status is not None else None,
        kinds=frozenset(k.value for k in w.alarm_kinds) if w.alarm_kinds is not None else None,
        verified=w.alarm_verified,
    )


_CACHE: dict[int, tuple[Pack, tuple[_Compiled, ...]]] = {}


def _compiled(pack: Pack) -> tuple[_Compiled, ...]:
    hit = _CACHE.get(id(pack))
    if hit is not None and hit[0] is pack:
        return hit[1]
    rules = tuple(_compile_rule(r) for r in pack.ordered_rules)
    if len(_CACHE) > 64:
        _CACHE.clear()
    _CACHE[id(pack)] = (pack, rules)
    return rules


# ---------------------------------------------------------------- single decision


def effective_flags(pack: Pack, call: CallFacts) -> frozenset[str]:
    """The call's flags plus those its screening answers set (flag values).

    Raises ``ValueError`` for an answer to a question the pack does not ask.
    """
    flags = {f.value for f in call.flags}
    if call.answers:
        questions = {q.id: q for q in pack.screening}
        for qid, yes in call.answers.items():
            q = questions.get(qid)
            if q is None:
                known = ", ".join(questions) or "none"
                raise ValueError(
                    f"answers: {qid!r} is not a screening question of pack {pack.name} "
                    f"(known: {known})"
                )
            flags.update(f.value for f in (q.sets_if_yes if yes else q.sets_if_no))
    return frozenset(flags)


def _availability(pack: Pack, availability: Mapping[str, int] | None) -> dict[str, int]:
    if not availability:
        return {}
    for rid in availability:
        pack.responder(rid)  # KeyError naming the known ids
    return dict(availability)


def _skip_reason(
    r: Responder, dow: int, minute: int, holiday: bool, free: Mapping[str, int]
) -> SkipReason | None:
    if holiday and r.closed_on_holidays:
        return "holiday"
    if not r.on_shift(dow, minute, False):
        return "off-shift"
    if free.get(r.id, 1) <= 0:
        return "busy"
    return None


def decide(pack: Pack, call: CallFacts, availability: Mapping[str, int] | None = None) -> Decision:
    """Decide who answers ``call`` under ``pack``.

    ``availability`` maps responder ids to their free capacity now (number of calls
    they can still take; <= 0 = busy); responders not named are assumed free. Hours
    and holidays come from the pack. Raises ``KeyError`` for an unknown responder id
    in ``availability`` and ``ValueError`` for an unknown screening answer.
    """
    free = _availability(pack, availability)
    flags = effective_flags(pack, call)
    local = call.received_at.astimezone(pack.zone)
    dow = local.isoweekday()
    minute = local.hour * 60 + local.minute
    day = local.date()
    holiday = day in holiday_dates(pack, (day.year,))
    ctype = call.call_type
    fired: _Compiled | None = None
    for c in _compiled(pack):
        if c.matches(ctype, call.priority, flags, dow, minute, holiday, call.alarm):
            fired = c
            break
    if fired is None:  # pragma: no cover - a validated pack ends with a catch-all
        raise AssertionError(f"pack {pack.name} has no catch-all rule")
    rule = fired.rule
    chain = rule.then.chain
    skipped: list[SkippedResponder] = []
    chosen: str | None = None
    for rid in chain:
        why = _skip_reason(pack.responder(rid), dow, minute, holiday, free)
        if why is None:
            chosen = rid
            break
        skipped.append(SkippedResponder(responder=rid, why=why))
    queued = chosen is None
    responder_id = chosen if chosen is not None else chain[-1]
    responder = pack.responder(responder_id)
    return Decision(
        pack=pack.name,
        pack_version=pack.version,
        pack_in_effect=pack.in_effect(day),
        rule=rule.id,
        reason=rule.then.reason,
        responder=responder_id,
        responder_kind=responder.kind,
        planned=rule.then.primary,
        fallback_chain=rule.then.fallback,
        skipped=tuple(skipped),
        queued=queued,
        co_respond=rule.then.co_respond,
        co_responders=rule.then.co_responders,
        officer_sent=responder.kind is ResponderKind.PATROL or rule.then.co_respond,
        call_id=call.call_id,
        inputs=_inputs(rule, call, flags, local, holiday, skipped),
    )


def _inputs(
    rule: Rule,
    call: CallFacts,
    flags: frozenset[str],
    local: datetime,
    holiday: bool,
    skipped: list[SkippedResponder],
) -> dict[str, Any]:
    """The facts the firing rule tested, the local time, and the chain's skips."""
    w = rule.when
    out: dict[str, Any] = {
        "local_time": f"{WEEKDAYS[local.weekday()]} {local:%Y-%m-%d %H:%M}",
        "holiday": holiday,
    }
    if w.call_types is not None or w.categories is not None:
        out["call_type"] = call.call_type
        out["category"] = call_type_catalogue().categories_by_id[call.call_type]
    if w.priority_in is not None or w.priority_min is not None or w.priority_max is not None:
        out["priority"] = call.priority
    if w.flags_all or w.flags_any or w.flags_none:
        out["flags"] = sorted(flags)
        if call.answers:
            out["answers"] = dict(sorted(call.answers.items()))
    if w.alarm_status is not None or w.alarm_kinds is not None or w.alarm_verified is not None:
        out["alarm"] = call.alarm.model_dump(mode="json") if call.alarm is not None else None
    if skipped:
        out["unavailable"] = {s.responder: s.why for s in skipped}
    return out


# ---------------------------------------------------------------- batch decisions

CALL_FRAME_SCHEMA: dict[str, pl.DataType] = {
    "call_type": pl.String(),
    "priority": pl.Int16(),
    "received_at": pl.Datetime("us", "UTC"),
    "flags": pl.List(pl.String()),
    "alarm_kind": pl.String(),
    "alarm_status": pl.String(),
    "alarm_verified": pl.Boolean(),
}
"""Columns of a calls frame for :func:`decide_many` (``received_at`` any time zone;
an ``answers`` struct column of booleans, one field per screening question, may
be added; null = not asked)."""


def calls_frame(calls: Iterable[CallFacts]) -> pl.DataFrame:
    """A frame of :class:`CallFacts` in the :data:`CALL_FRAME_SCHEMA` layout."""
    rows = list(calls)
    data: dict[str, list[Any]] = {
        "call_type": [c.call_type for c in rows],
        "priority": [c.priority for c in rows],
        "received_at": [c.received_at for c in rows],
        "flags": [[f.value for f in c.flags] for c in rows],
        "alarm_kind": [c.alarm.kind.value if c.alarm else None for c in rows],
        "alarm_status": [c.alarm.status.value if c.alarm else None for c in rows],
        "alarm_verified": [c.alarm.verified if c.alarm else None for c in rows],
    }
    frame = pl.DataFrame(data, schema=CALL_FRAME_SCHEMA)
    qids = sorted({q for c in rows for q in c.answers})
    if qids:
        answers = pl.DataFrame(
            {q: [c.answers.get(q) for c in rows] for q in qids},
            schema=dict.fromkeys(qids, pl.Boolean()),
        )
        frame = frame.with_columns(answers=answers.to_struct())
    return frame


def _in_window_expr(days: frozenset[int], start: int, end: int) -> pl.Expr:
    dow, minute = pl.col("__dow"), pl.col("__min")
    day_ok = dow.is_in(sorted(days)) if len(days) < 7 else pl.lit(True)
    return day_ok & (minute >= start) & (minute < end)


def _responder_expr(r: Responder, free: Mapping[str, int]) -> pl.Expr:
    if free.get(r.id, 1) <= 0:
        return pl.lit(False)
    if r.hours is None:
        ok = pl.lit(True)
    elif not r.hours:
        ok = pl.lit(False)
    else:
        ok = pl.any_horizontal(
            [_in_window_expr(w.weekday_numbers, w.start_minute, w.end_minute) for w in r.hours]
        )
    if r.closed_on_holidays:
        ok = ok & ~pl.col("__hol")
    return ok


def _rule_expr(c: _Compiled, flag_cols: Mapping[str, str]) -> pl.Expr:
    parts: list[pl.Expr] = []
    if c.types is not None:
        parts.append(pl.col("call_type").is_in(sorted(c.types)))
    prio = pl.col("priority")
    if c.prio_in is not None:
        parts.append(prio.is_in(sorted(c.prio_in)))
    if c.prio_min is not None:
        parts.append(prio >= c.prio_min)
    if c.prio_max is not None:
        parts.append(prio <= c.prio_max)
    if c.prio_in is not None or c.prio_min is not None or c.prio_max is not None:
        parts.append(prio.is_not_null())
    parts += [pl.col(flag_cols[f]) for f in sorted(c.flags_all)]
    if c.flags_any:
        parts.append(pl.any_horizontal([pl.col(flag_cols[f]) for f in sorted(c.flags_any)]))
    parts += [~pl.col(flag_cols[f]) for f in sorted(c.flags_none)]
    if c.windows is not None:
        parts.append(pl.any_horizontal([_in_window_expr(*w) for w in c.windows]))
    if c.holiday is not None:
        parts.append(pl.col("__hol") if c.holiday else ~pl.col("__hol"))
    if c.status is not None:
        parts.append(pl.col("__status").is_in(sorted(c.status)))
    if c.kinds is not None:
        parts.append(pl.col("alarm_kind").is_in(sorted(c.kinds)))
    if c.verified is not None:
        parts.append(pl.col("__verified") if c.verified else ~pl.col("__verified"))
    if not parts:
        return pl.lit(True)
    return pl.all_horizontal(parts).fill_null(False)


def _flag_exprs(pack: Pack, frame: pl.DataFrame) -> dict[str, pl.Expr]:
    """One boolean expression per flag: in ``flags`` or set by a screening answer."""
    has_answers = "answers" in frame.columns
    fields: set[str] = set()
    if has_answers:
        dtype = frame.schema["answers"]
        if not isinstance(dtype, pl.Struct):
            raise ValueError("answers must be a struct column of booleans")
        fields = {f.name for f in dtype.fields}
        known = {q.id for q in pack.screening}
        unknown = sorted(fields - known)
        if unknown:
            raise ValueError(
                f"answers: {', '.join(unknown)} not screening questions of pack {pack.name}"
            )
    out: dict[str, pl.Expr] = {}
    for flag in CallFlag:
        e = pl.col("flags").list.contains(flag.value).fill_null(False)
        for q in pack.screening:
            if q.id not in fields:
                continue
            ans = pl.col("answers").struct.field(q.id)
            if flag in q.sets_if_yes:
                e = e | (ans == True).fill_null(False)  # noqa: E712 - a Polars expression
            if flag in q.sets_if_no:
                e = e | (ans == False).fill_null(False)  # noqa: E712
        out[flag.value] = e
    return out


def decide_many(
    pack: Pack, calls: pl.DataFrame, availability: Mapping[str, int] | None = None
) -> pl.DataFrame:
    """Decide every call of a frame at once (same decisions as :func:`decide`).

    ``calls`` has the :data:`CALL_FRAME_SCHEMA` columns (``priority``, ``flags`` and the
    alarm columns may be absent); ``availability`` is one snapshot applied to every
    row. Returns one row per call, in order: ``rule``, ``responder``,
    ``responder_kind``, ``queued``, ``co_respond``, ``officer_sent``.
    """
    free = _availability(pack, availability)
    rules = _compiled(pack)
    catalogue = call_type_catalogue()
    missing = [c for c in ("call_type", "received_at") if c not in calls.columns]
    if missing:
        raise ValueError(f"calls frame lacks column(s) {', '.join(missing)}")
    ts = calls.schema["received_at"]
    if not isinstance(ts, pl.Datetime) or ts.time_zone is None:
        raise ValueError("received_at must be a time-zone-aware Datetime column")
    type_enum = pl.Enum(sorted(catalogue.categories_by_id))
    ctype = calls.get_column("call_type")
    if ctype.dtype != type_enum:
        unknown = ctype.cast(pl.String).unique().drop_nulls()
        bad = sorted(set(unknown.to_list()) - set(catalogue.categories_by_id))
        if bad or ctype.null_count():
            what = ", ".join(repr(b) for b in bad[:5]) or "null"
            raise ValueError(f"call_type: {what} not canonical call type(s)")
    frame = calls
    defaults: dict[str, pl.Expr] = {
        "priority": pl.lit(None, pl.Int16),
        "flags": pl.lit(None, pl.List(pl.String)),
        "alarm_kind": pl.lit(None, pl.String),
        "alarm_status": pl.lit(None, pl.String),
        "alarm_verified": pl.lit(None, pl.Boolean),
    }
    frame = frame.with_columns(
        [e.alias(name) for name, e in defaults.items() if name not in frame.columns]
    )
    local = pl.col("received_at").dt.convert_time_zone(pack.timezone)
    frame = frame.with_columns(
        call_type=pl.col("call_type").cast(type_enum),
        __dow=local.dt.weekday(),
        __min=local.dt.hour().cast(pl.Int32) * 60 + local.dt.minute().cast(pl.Int32),
        __date=local.dt.date(),
        __status=pl.col("alarm_status").fill_null(AlarmStatus.NONE.value),
        __verified=pl.col("alarm_verified").fill_null(False) & pl.col("alarm_kind").is_not_null(),
    )
    years = frame.get_column("__date").dt.year().unique().drop_nulls().to_list()
    hol: list[date] = sorted(holiday_dates(pack, years))
    flag_exprs = _flag_exprs(pack, frame)
    used = sorted({f for c in rules for f in c.flags_all | c.flags_any | c.flags_none})
    flag_cols = {f: f"__flag_{f}" for f in used}
    frame = frame.with_columns(
        __hol=pl.col("__date").is_in(hol),
        **{flag_cols[f]: flag_exprs[f] for f in used},
    )
    responders = {r.id: r for r in pack.responders}
    avail_cols = {rid: f"__avail_{i}" for i, rid in enumerate(responders)}
    frame = frame.with_columns(
        **{avail_cols[rid]: _responder_expr(r, free) for rid, r in responders.items()}
    )
    idx: Any = pl
    for i, c in enumerate(rules[:-1]):
        idx = idx.when(_rule_expr(c, flag_cols)).then(pl.lit(i, pl.UInt16))
    idx = idx.otherwise(pl.lit(len(rules) - 1, pl.UInt16)) if len(rules) > 1 else pl.lit(0)
    frame = frame.with_columns(__rule=idx)
    resp: Any = pl
    queued: Any = pl
    for i, c in enumerate(rules):
        chain = c.rule.then.chain
        pick: Any = pl
        for rid in chain:
            pick = pick.when(pl.col(avail_cols[rid])).then(pl.lit(rid))
        pick = pick.otherwise(pl.lit(chain[-1]))
        none_free = ~pl.any_horizontal([pl.col(avail_cols[rid]) for rid in chain])
        is_rule = pl.col("__rule") == i
        resp = resp.when(is_rule).then(pick)
        queued = queued.when(is_rule).then(none_free)
    kinds = {r.id: r.kind.value for r in pack.responders}
    rule_ids = [c.rule.id for c in rules]
    co = [c.rule.then.co_respond for c in rules]
    out = frame.select(
        rule=pl.col("__rule").replace_strict(list(range(len(rules))), rule_ids),
        responder=resp.otherwise(pl.lit(None, pl.String)),
        queued=queued.otherwise(pl.lit(None, pl.Boolean)),
        co_respond=pl.col("__rule").replace_strict(list(range(len(rules))), co),
    )
    return out.with_columns(
        responder_kind=pl.col("responder").replace_strict(kinds, return_dtype=pl.String),
    ).with_columns(
        officer_sent=(pl.col("responder_kind") == ResponderKind.PATROL.value)
        | pl.col("co_respond"),
    )
