"""Diversion what-if: what a policy pack would have moved off patrol, on historical calls.

:func:`replay` takes historical calls (a Polars frame with the canonical call columns
of :data:`smart_policing.store.tables.calls`, from an import or straight from a CAD
file) and one or two policy packs, and returns a :class:`ReplayReport`: plain data
(pydantic models, JSON-ready; :func:`report_csv_rows` / :func:`write_csv` for CSV).
No I/O, no clock. The method, step by step:

1. **Agencies.** Only calls of the agencies the pack routes (``routed_agencies``,
   default ``POLICE``) are replayed; calls of other agencies (FIRE, EMS) stay with
   their agency and are counted in :attr:`ReplayInputs.other_agencies`. A call with no
   agency (an export without that column) counts as routed.
2. **Call types.** Each ``(agency, call_type_code)`` is looked up in the agency map
   (default ``cad-2025``, :func:`~smart_policing.triage.vocabulary.builtin_map`): the
   canonical call type plus the flags the code implies. Codes the map lacks are
   **never guessed**: their calls are counted and listed (:attr:`ReplayInputs.unmapped`)
   and not replayed.
3. **Officer-initiated calls** (``self_initiated``, or ``source_channel`` =
   ``officer_initiated``, i.e. CAD ``Call_Reception`` = ``OFFICER``) are the officer's
   own proactive work: they are **not diverted** by default and are counted in
   :attr:`ReplayInputs.officer_initiated`; ``include_officer_initiated=True`` replays them too.
4. **Decisions.** :func:`~smart_policing.triage.engine.decide_many` decides every
   remaining call as the pack would at the call's own local time (responder hours,
   holidays). Historical calls carry no alarm-registry status (alarm columns are
   passed through when the frame has them, else ``none``) and no screening answers.
   **Availability**: every responder is assumed available (on shift per the pack)
   unless ``availability`` (responder id -> free capacity, as ``triage decide
   --availability``) says otherwise; that one snapshot applies to the whole replay
   (``0`` = the responder never takes a call, so its fallback does). Concurrent load
   (a crisis team busy with an earlier call) is not simulated.
5. **Officer time** of each call (:func:`officer_seconds`): the first unit's
   dispatch-to-clear time, ``cleared_at - dispatched_at`` (travel plus time on scene;
   in the CAD import ``cleared_at`` is when the incident first closes), when both are
   present and ``0 < t <= max_officer_hours`` (default 12 hours). Otherwise the median
   of the plausible times of calls of the same canonical call type (routed agencies,
   whole frame), else the median of all plausible times; such calls are counted in
   :attr:`OfficerTimeEstimate.fallback_calls`. Only one unit is counted: backup
   units are not in the export, so officer-hours are a lower bound.
6. **Moved.** A call is *diverted* when no officer goes (``officer_sent`` false: the
   responder is not patrol and no officer co-responds). **Officer-hours moved** are
   the estimated officer-hours of diverted calls. Calls and officer-hours are
   reported per responder and broken down (:data:`BREAKDOWNS`) by district, hour of
   day and day of week (local time, the first pack's time zone), canonical call type
   and priority.

With ``compare``, the same calls are replayed under a second pack and
:class:`PackComparison` lists, for each pair of responders, how many calls (and
officer-hours) the second pack sends elsewhere.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from smart_policing.model.calls import SourceChannel
from smart_policing.triage.engine import decide_many
from smart_policing.triage.pack import WEEKDAYS, Pack
from smart_policing.triage.vocabulary import AgencyMap, builtin_map

__all__ = [
    "BREAKDOWNS",
    "CSV_COLUMNS",
    "AgencyCount",
    "Breakdown",
    "BreakdownRow",
    "OfficerTimeEstimate",
    "PackComparison",
    "PackReplay",
    "ReplayInputs",
    "ReplayOptions",
    "ReplayReport",
    "ResponderDelta",
    "ResponderTotal",
    "RuleCount",
    "Transition",
    "UnmappedCall",
    "officer_seconds",
    "officer_sent",
    "read_csv",
    "replay",
    "report_csv",
    "report_csv_rows",
    "write_csv",
]

Breakdown = Literal["responder", "district", "hour", "weekday", "call-type", "priority"]
"""A dimension of the breakdown tables."""

BREAKDOWNS: tuple[Breakdown, ...] = get_args(Breakdown)
"""Every breakdown, in report order."""

CSV_COLUMNS: tuple[str, ...] = (
    "pack",
    "by",
    "key",
    "responder",
    "calls",
    "diverted_calls",
    "officer_hours",
    "officer_hours_moved",
)
"""Columns of the replay CSV (one :class:`BreakdownRow` per line)."""

_HOUR = 3600.0


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReplayOptions(_Model):
    """How calls are chosen and officer time estimated (see the module docstring)."""

    routed_agencies: tuple[str, ...] = ("POLICE",)
    """Agencies whose calls the pack routes (upper case, as the importer stores them)."""
    include_officer_initiated: bool = False
    """Replay officer-initiated calls too (default: they stay with patrol, not replayed)."""
    max_officer_hours: float = Field(default=12.0, gt=0)
    """Longest plausible dispatch-to-clear time of one call, in hours."""
    availability: dict[str, int] | None = None
    """Responder id -> free capacity for the whole replay (<= 0: never available);
    responders not named are available when on shift. Ids a pack lacks are ignored
    for that pack; an id no pack knows is refused."""


class AgencyCount(_Model):
    """Calls of one agency the packs do not route."""

    agency: str | None
    calls: int


class UnmappedCall(_Model):
    """An agency code the map has no entry for, and its number of calls."""

    agency: str | None
    code: str
    calls: int


class OfficerTimeEstimate(_Model):
    """How officer time was estimated, over the replayed calls."""

    max_officer_hours: float
    measured_calls: int
    """Calls with a plausible ``cleared_at - dispatched_at``."""
    fallback_calls: int
    """Calls given a median instead (missing, zero or negative, or too long)."""
    fallback_overall_median_calls: int
    """Of those, calls whose call type had no plausible time (overall median used)."""
    median_minutes: float | None
    """Median officer time of the replayed calls after the fallback, in minutes."""


class ReplayInputs(_Model):
    """What went into the replay, and what was set aside (counts are calls)."""

    calls: int
    """Rows of the input frame."""
    first_received_at: datetime | None
    last_received_at: datetime | None
    timezone: str
    """Time zone of the hour and weekday breakdowns (the first pack's)."""
    agency_map: str
    routed_agencies: tuple[str, ...]
    routed_calls: int
    """Calls of routed agencies (or without an agency)."""
    other_agencies: tuple[AgencyCount, ...]
    """Calls of other agencies: they stay with their agency, not replayed."""
    unmapped_calls: int
    unmapped: tuple[UnmappedCall, ...]
    """Codes of routed calls the map does not cover, most calls first: not replayed."""
    officer_initiated: int
    """Officer-initiated calls of routed agencies (mapped)."""
    officer_initiated_included: bool
    replayed: int
    """Calls decided under each pack."""
    officer_time: OfficerTimeEstimate


class ResponderTotal(_Model):
    """Replayed calls one responder would take, and the officer time involved."""

    responder: str
    kind: str
    calls: int
    diverted_calls: int
    """Calls this responder takes with no officer going."""
    officer_hours: float
    """Estimated historical officer-hours of all these calls, in hours."""
    officer_hours_moved: float
    """Officer-hours of the diverted ones (freed for patrol), in hours."""
    share_of_calls: float
    """Fraction of the replayed calls (0-1)."""


class RuleCount(_Model):
    """How many replayed calls a rule decided."""

    rule: str
    calls: int
    officer_hours: float


class BreakdownRow(_Model):
    """Calls of one group (``by`` = ``key``) going to one responder.

    ``key`` is the district, the local hour (``"00"``-``"23"``), the weekday
    (``mon``-``sun``), the canonical call type, the priority, or the responder itself
    (``by`` = ``responder``); ``None`` when the call has no value.
    """

    pack: str
    by: Breakdown
    key: str | None
    responder: str
    calls: int
    diverted_calls: int
    officer_hours: float
    officer_hours_moved: float


class PackReplay(_Model):
    """One pack's decisions over the replayed calls."""

    pack: str
    pack_version: str
    calls: int
    calls_outside_effective_dates: int
    """Calls whose local date is outside the pack's effective dates (replayed anyway)."""
    diverted_calls: int
    """Calls on which no officer would go."""
    share_diverted: float
    """Diverted / replayed calls (0-1)."""
    share_of_routed_diverted: float
    """Diverted / all calls of the routed agencies, officer-initiated and unmapped
    included (0-1): the share of police calls diverted."""
    queued_calls: int
    """Calls for which nobody in the rule's chain was available (they wait for the last)."""
    officer_hours: float
    """Estimated officer-hours of the replayed calls, in hours."""
    officer_hours_moved: float
    """Estimated officer-hours of the diverted calls, in hours."""
    responders: tuple[ResponderTotal, ...]
    """Every responder of the pack, most calls first."""
    rules: tuple[RuleCount, ...]
    """Rules that fired, most calls first."""
    breakdowns: tuple[BreakdownRow, ...]
    """Every :data:`BREAKDOWNS` dimension, in that order, keys sorted."""

    def breakdown(self, by: Breakdown) -> tuple[BreakdownRow, ...]:
        """The rows of one breakdown."""
        return tuple(r for r in self.breakdowns if r.by == by)


class Transition(_Model):
    """Calls the first pack sends to ``base`` and the second to ``other``."""

    base: str
    other: str
    calls: int
    officer_hours: float


class ResponderDelta(_Model):
    """One responder under both packs (0 for a pack without it)."""

    responder: str
    calls_base: int
    calls_other: int
    officer_hours_moved_base: float
    officer_hours_moved_other: float


class PackComparison(_Model):
    """Where two packs send the same calls differently."""

    base: str
    other: str
    changed_calls: int
    """Calls with a different responder."""
    diverted_base: int
    diverted_other: int
    officer_hours_moved_base: float
    officer_hours_moved_other: float
    responders: tuple[ResponderDelta, ...]
    transitions: tuple[Transition, ...]
    """Pairs of responders with at least one call, the changed ones first."""


class ReplayReport(_Model):
    """The result of :func:`replay`."""

    inputs: ReplayInputs
    result: PackReplay
    compare: PackReplay | None = None
    comparison: PackComparison | None = None


# ---------------------------------------------------------------- preparation


def _col_or_null(frame: pl.DataFrame, name: str, dtype: pl.DataType) -> pl.Expr:
    if name in frame.columns:
        return pl.col(name).cast(dtype)
    return pl.lit(None, dtype=dtype)


def officer_seconds(frame: pl.DataFrame, max_officer_hours: float = 12.0) -> pl.Series:
    """The measured officer time of each call, in seconds, or null when implausible.

    ``cleared_at - dispatched_at`` when both are present and ``0 < t <=
    max_officer_hours`` hours; null otherwise (missing, zero or negative, too long).
    """
    limit = max_officer_hours * _HOUR
    if "dispatched_at" not in frame.columns or "cleared_at" not in frame.columns:
        return pl.Series("officer_s", [None] * frame.height, dtype=pl.Float64)
    t = (pl.col("cleared_at") - pl.col("dispatched_at")).dt.total_microseconds() / 1e6
    return frame.select(
        pl.when((t > 0) & (t <= limit)).then(t).otherwise(None).alias("officer_s")
    ).to_series()


def _map_codes(
    frame: pl.DataFrame, agency_map: AgencyMap
) -> tuple[pl.DataFrame, list[UnmappedCall]]:
    """Join the canonical call type and implied flags onto ``frame`` (null when unmapped)."""
    pairs = frame.group_by("__agency", "call_type_code").agg(pl.len().alias("n"))
    types: list[str | None] = []
    flags: list[list[str] | None] = []
    unmapped: list[UnmappedCall] = []
    for agency, code, n in pairs.iter_rows():
        hit = agency_map.lookup(code, agency or None) if code is not None else None
        types.append(hit.call_type if hit else None)
        flags.append(sorted(f.value for f in hit.flags) if hit else None)
        if hit is None:
            unmapped.append(UnmappedCall(agency=agency or None, code=str(code), calls=int(n)))
    lookup = pairs.select("__agency", "call_type_code").with_columns(
        pl.Series("call_type", types, dtype=pl.String),
        pl.Series("flags", flags, dtype=pl.List(pl.String)),
    )
    out = frame.join(lookup, on=["__agency", "call_type_code"], how="left", nulls_equal=True)
    unmapped.sort(key=lambda u: (-u.calls, u.agency or "", u.code))
    return out, unmapped


@dataclass(frozen=True, slots=True)
class _Prepared:
    """The calls to decide (with officer time and local hour / weekday), and the inputs."""

    frame: pl.DataFrame
    inputs: ReplayInputs


def _prepare(
    calls: pl.DataFrame, agency_map: AgencyMap, options: ReplayOptions, timezone: str
) -> _Prepared:
    missing = [c for c in ("received_at", "call_type_code") if c not in calls.columns]
    if missing:
        raise ValueError(f"calls frame lacks column(s) {', '.join(missing)}")
    ts = calls.schema["received_at"]
    if not isinstance(ts, pl.Datetime) or ts.time_zone is None:
        raise ValueError("received_at must be a time-zone-aware Datetime column")
    routed = tuple(a.strip().upper() for a in options.routed_agencies)
    frame = calls.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("__row"),
        pl.col("received_at"),
        pl.col("call_type_code").cast(pl.String),
        _col_or_null(calls, "agency", pl.String())
        .str.strip_chars()
        .str.to_uppercase()
        .fill_null("")
        .alias("__agency"),
        _col_or_null(calls, "priority", pl.Int16()).alias("priority"),
        _col_or_null(calls, "district", pl.String()).alias("district"),
        (
            _col_or_null(calls, "self_initiated", pl.Boolean()).fill_null(False)
            | (
                _col_or_null(calls, "source_channel", pl.String())
                == SourceChannel.OFFICER_INITIATED.value
            ).fill_null(False)
        ).alias("__self"),
        *(
            pl.col(c)
            for c in ("alarm_kind", "alarm_status", "alarm_verified")
            if c in calls.columns
        ),
        officer_seconds(calls, options.max_officer_hours).alias("__measured"),
    )
    is_routed = (pl.col("__agency") == "") | pl.col("__agency").is_in(routed)
    others = (
        frame.filter(~is_routed)
        .group_by("__agency")
        .agg(pl.len().alias("n"))
        .sort("n", "__agency", descending=[True, False])
    )
    frame = frame.filter(is_routed)
    routed_calls = frame.height
    frame, unmapped = _map_codes(frame, agency_map)
    frame = frame.filter(pl.col("call_type").is_not_null())
    # officer time: measured, else the call type's median, else the overall median
    overall = frame.get_column("__measured").median()
    frame = frame.with_columns(
        __type_median=pl.col("__measured").median().over("call_type"),
    ).with_columns(
        officer_s=pl.coalesce(
            "__measured", "__type_median", pl.lit(overall, dtype=pl.Float64)
        ).fill_null(0.0),
    )
    officer_initiated = int(frame.get_column("__self").sum())
    if not options.include_officer_initiated:
        frame = frame.filter(~pl.col("__self"))
    est = frame.select(
        measured=pl.col("__measured").is_not_null().sum(),
        fallback=pl.col("__measured").is_null().sum(),
        overall=(pl.col("__measured").is_null() & pl.col("__type_median").is_null()).sum(),
        median=pl.col("officer_s").median() / 60.0,
    ).row(0, named=True)
    first, last = (
        calls.select(
            pl.col("received_at").min().alias("a"), pl.col("received_at").max().alias("b")
        ).row(0)
        if calls.height
        else (None, None)
    )
    inputs = ReplayInputs(
        calls=calls.height,
        first_received_at=first,
        last_received_at=last,
        timezone=timezone,
        agency_map=agency_map.name,
        routed_agencies=routed,
        routed_calls=routed_calls,
        other_agencies=tuple(
            AgencyCount(agency=a or None, calls=int(n)) for a, n in others.iter_rows()
        ),
        unmapped_calls=sum(u.calls for u in unmapped),
        unmapped=tuple(unmapped),
        officer_initiated=officer_initiated,
        officer_initiated_included=options.include_officer_initiated,
        replayed=frame.height,
        officer_time=OfficerTimeEstimate(
            max_officer_hours=options.max_officer_hours,
            measured_calls=int(est["measured"]),
            fallback_calls=int(est["fallback"]),
            fallback_overall_median_calls=int(est["overall"]),
            median_minutes=est["median"],
        ),
    )
    local = pl.col("received_at").dt.convert_time_zone(timezone)
    frame = frame.with_columns(
        __hour=local.dt.hour().cast(pl.String).str.zfill(2),
        __weekday=local.dt.weekday().replace_strict(
            list(range(1, 8)), list(WEEKDAYS), return_dtype=pl.String
        ),
        __local_date=local.dt.date(),
    )
    return _Prepared(frame, inputs)


# ---------------------------------------------------------------- one pack


_BY_COLUMN: dict[Breakdown, str] = {
    "responder": "responder",
    "district": "district",
    "hour": "__hour",
    "weekday": "__weekday",
    "call-type": "call_type",
    "priority": "priority",
}
_GROUP_COLUMNS = [c for c in _BY_COLUMN.values() if c != "responder"]


def _pack_availability(
    packs: Iterable[Pack], availability: Mapping[str, int] | None
) -> dict[str, dict[str, int]]:
    packs = list(packs)
    if not availability:
        return {p.name: {} for p in packs}
    known = {r.id for p in packs for r in p.responders}
    unknown = sorted(set(availability) - known)
    if unknown:
        raise KeyError(
            f"availability: {', '.join(repr(u) for u in unknown)} not a responder of "
            f"{' or '.join(p.name for p in packs)} (known: {', '.join(sorted(known))})"
        )
    return {
        p.name: {k: v for k, v in availability.items() if k in {r.id for r in p.responders}}
        for p in packs
    }


def _decided(prep: _Prepared, pack: Pack, availability: Mapping[str, int]) -> pl.DataFrame:
    decisions = decide_many(pack, prep.frame, availability or None)
    return pl.concat(
        [prep.frame.select(*_GROUP_COLUMNS, "officer_s", "__local_date"), decisions],
        how="horizontal",
    ).with_columns(__diverted=~pl.col("officer_sent"))


def _sums(frame: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    moved = pl.when(pl.col("__diverted")).then(pl.col("officer_s")).otherwise(0.0)
    return frame.group_by(by).agg(
        calls=pl.len(),
        diverted_calls=pl.col("__diverted").sum(),
        officer_hours=pl.col("officer_s").sum() / _HOUR,
        officer_hours_moved=moved.sum() / _HOUR,
    )


def _breakdown(decided: pl.DataFrame, pack: str, by: Breakdown) -> list[BreakdownRow]:
    col = _BY_COLUMN[by]
    frame = decided.with_columns(key=pl.col(col).cast(pl.String))
    sums = _sums(frame, ["key", "responder"])
    if by == "weekday":
        order = pl.col("key").replace_strict(list(WEEKDAYS), list(range(7)), default=7)
    elif by == "priority":
        order = pl.col("key").cast(pl.Int64, strict=False)
    else:
        order = pl.col("key")
    sums = sums.sort(order, "key", "responder", nulls_last=True)
    return [
        BreakdownRow(
            pack=pack,
            by=by,
            key=key,
            responder=responder,
            calls=int(calls),
            diverted_calls=int(diverted),
            officer_hours=float(hours),
            officer_hours_moved=float(moved),
        )
        for key, responder, calls, diverted, hours, moved in sums.select(
            "key", "responder", *CSV_COLUMNS[4:]
        ).iter_rows()
    ]


def _pack_replay(decided: pl.DataFrame, pack: Pack, routed_calls: int) -> PackReplay:
    n = decided.height
    totals = _sums(decided.with_columns(__all=pl.lit(1)), ["__all"])
    if n:
        diverted = int(totals["diverted_calls"][0])
        hours, moved = float(totals["officer_hours"][0]), float(totals["officer_hours_moved"][0])
    else:
        diverted, hours, moved = 0, 0.0, 0.0
    per = {r[0]: r for r in _sums(decided, ["responder"]).iter_rows()}
    responders = [
        ResponderTotal(
            responder=r.id,
            kind=r.kind.value,
            calls=int(per[r.id][1]) if r.id in per else 0,
            diverted_calls=int(per[r.id][2]) if r.id in per else 0,
            officer_hours=float(per[r.id][3]) if r.id in per else 0.0,
            officer_hours_moved=float(per[r.id][4]) if r.id in per else 0.0,
            share_of_calls=(int(per[r.id][1]) / n if r.id in per and n else 0.0),
        )
        for r in pack.responders
    ]
    responders.sort(key=lambda r: -r.calls)
    rules = (
        decided.group_by("rule")
        .agg(calls=pl.len(), officer_hours=pl.col("officer_s").sum() / _HOUR)
        .sort("calls", "rule", descending=[True, False])
    )
    start, end = pack.effective_from, pack.effective_to
    outside = pl.col("__local_date") < start
    if end is not None:
        outside = outside | (pl.col("__local_date") > end)
    return PackReplay(
        pack=pack.name,
        pack_version=pack.version,
        calls=n,
        calls_outside_effective_dates=int(decided.select(outside.sum()).item()) if n else 0,
        diverted_calls=diverted,
        share_diverted=diverted / n if n else 0.0,
        share_of_routed_diverted=diverted / routed_calls if routed_calls else 0.0,
        queued_calls=int(decided.get_column("queued").sum()) if n else 0,
        officer_hours=hours,
        officer_hours_moved=moved,
        responders=tuple(responders),
        rules=tuple(
            RuleCount(rule=r, calls=int(c), officer_hours=float(h)) for r, c, h in rules.iter_rows()
        ),
        breakdowns=tuple(row for by in BREAKDOWNS for row in _breakdown(decided, pack.name, by)),
    )


def _comparison(a: pl.DataFrame, b: pl.DataFrame, ra: PackReplay, rb: PackReplay) -> PackComparison:
    pairs = (
        pl.DataFrame(
            {
                "base": a.get_column("responder"),
                "other": b.get_column("responder"),
                "officer_s": a.get_column("officer_s"),
            }
        )
        .group_by("base", "other")
        .agg(calls=pl.len(), officer_hours=pl.col("officer_s").sum() / _HOUR)
        .sort(
            pl.col("base") == pl.col("other"),
            "calls",
            "base",
            "other",
            descending=[False, True, False, False],
        )
    )
    base = {r.responder: r for r in ra.responders}
    other = {r.responder: r for r in rb.responders}
    names = list(base) + [n for n in other if n not in base]
    return PackComparison(
        base=ra.pack,
        other=rb.pack,
        changed_calls=int(
            pairs.filter(pl.col("base") != pl.col("other")).get_column("calls").sum()
        ),
        diverted_base=ra.diverted_calls,
        diverted_other=rb.diverted_calls,
        officer_hours_moved_base=ra.officer_hours_moved,
        officer_hours_moved_other=rb.officer_hours_moved,
        responders=tuple(
            ResponderDelta(
                responder=name,
                calls_base=base[name].calls if name in base else 0,
                calls_other=other[name].calls if name in other else 0,
                officer_hours_moved_base=base[name].officer_hours_moved if name in base else 0.0,
                officer_hours_moved_other=(
                    other[name].officer_hours_moved if name in other else 0.0
                ),
            )
            for name in names
        ),
        transitions=tuple(
            Transition(base=x, other=y, calls=int(c), officer_hours=float(h))
            for x, y, c, h in pairs.iter_rows()
        ),
    )


# ---------------------------------------------------------------- entry point


def replay(
    calls: pl.DataFrame,
    pack: Pack,
    *,
    compare: Pack | None = None,
    agency_map: AgencyMap | None = None,
    options: ReplayOptions | None = None,
) -> ReplayReport:
    """Replay historical ``calls`` under ``pack`` (and ``compare``): what would move.

    ``calls`` has the canonical call columns: ``received_at`` (time-zone aware) and
    ``call_type_code`` are required; ``agency``, ``priority``, ``district``,
    ``source_channel``, ``self_initiated``, ``dispatched_at``, ``cleared_at`` (and the
    alarm columns of :data:`~smart_policing.triage.engine.CALL_FRAME_SCHEMA`) are used
    when present. ``agency_map`` defaults to the shipped ``cad-2025`` map. Hours and
    weekdays are local to ``pack``'s time zone. See the module docstring for the
    method. Raises ``ValueError`` for a frame lacking the required columns and
    ``KeyError`` for an availability id neither pack knows.
    """
    options = options or ReplayOptions()
    agency_map = agency_map or builtin_map()
    packs = [pack] if compare is None else [pack, compare]
    free = _pack_availability(packs, options.availability)
    prep = _prepare(calls, agency_map, options, pack.timezone)
    routed = prep.inputs.routed_calls
    a = _decided(prep, pack, free[pack.name])
    ra = _pack_replay(a, pack, routed)
    if compare is None:
        return ReplayReport(inputs=prep.inputs, result=ra)
    b = _decided(prep, compare, free[compare.name])
    rb = _pack_replay(b, compare, routed)
    return ReplayReport(
        inputs=prep.inputs, result=ra, compare=rb, comparison=_comparison(a, b, ra, rb)
    )


def officer_sent(
    calls: pl.DataFrame,
    pack: Pack,
    *,
    agency_map: AgencyMap | None = None,
    options: ReplayOptions | None = None,
) -> pl.Series:
    """Whether an officer still goes to each call under ``pack`` (``officer_sent``), in order.

    The per-call form of :func:`replay` (same columns, same steps 1-4 of the module
    docstring), for what-ifs that drop the diverted calls from a patrol workload (the
    dispatch simulation, the staffing search). Calls the replay sets aside stay as they
    are, with an officer: other agencies, call types the agency map lacks, and
    officer-initiated calls (unless ``options.include_officer_initiated``). Returns a
    Boolean series named ``officer_sent``, one value per row of ``calls``.
    """
    options = options or ReplayOptions()
    prep = _prepare(calls, agency_map or builtin_map(), options, pack.timezone)
    free = _pack_availability([pack], options.availability)[pack.name]
    decisions = decide_many(pack, prep.frame, free or None)
    sent = np.ones(calls.height, dtype=np.bool_)
    rows = prep.frame.get_column("__row").to_numpy()
    sent[rows] = decisions.get_column("officer_sent").to_numpy()
    return pl.Series("officer_sent", sent)


# ---------------------------------------------------------------- CSV


def report_csv_rows(report: ReplayReport) -> list[BreakdownRow]:
    """Every breakdown row of the report, the first pack's then the second's."""
    rows = list(report.result.breakdowns)
    if report.compare is not None:
        rows += report.compare.breakdowns
    return rows


def _csv_text(rows: Iterable[BreakdownRow]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow(
            [
                r.pack,
                r.by,
                "" if r.key is None else r.key,
                r.responder,
                r.calls,
                r.diverted_calls,
                repr(r.officer_hours),
                repr(r.officer_hours_moved),
            ]
        )
    return buf.getvalue()


def report_csv(report: ReplayReport) -> str:
    """:func:`report_csv_rows` as CSV text (columns :data:`CSV_COLUMNS`)."""
    return _csv_text(report_csv_rows(report))


def write_csv(report: ReplayReport, path: str | Path) -> int:
    """Write :func:`report_csv_rows` to ``path`` (columns :data:`CSV_COLUMNS`, hours as
    exact decimals; an empty ``key`` is a call without a value); returns the row count."""
    rows = report_csv_rows(report)
    Path(path).write_text(_csv_text(rows), encoding="utf-8")
    return len(rows)


def read_csv(path: str | Path) -> list[BreakdownRow]:
    """Read a file written by :func:`write_csv` back into rows (a ValueError names the
    line of a malformed one)."""
    with Path(path).open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
            raise ValueError(f"{path}: expected columns {', '.join(CSV_COLUMNS)}")
        out = []
        for line, row in enumerate(reader, start=2):
            try:
                out.append(BreakdownRow.model_validate({**row, "key": row["key"] or None}))
            except ValueError as exc:
                raise ValueError(f"{path}, line {line}: {exc}") from exc
        return out
