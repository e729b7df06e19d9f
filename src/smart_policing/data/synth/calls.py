"""CAD calls: volume, types, places and the timestamp chain of each call.

Method
------
*Volume.* Each agency gets ``agency_share x calls_per_day`` calls a day
(`background_rates`): the calls Part 1 incidents raise for it (`incidents.linked_calls`,
at the incident's place) are subtracted and background calls fill the rest, split
over the agency's call types by weight (``call_types.yaml``) and drawn per temporal
profile (`temporal.sample_times`).

*Places.* Background calls come from fixed address pools so addresses repeat as in
real CAD data: ``n_call_sites`` general sites (the ``calls`` spatial stream, per-site
rate Gamma(shape 1)), ``n_alarm_sites`` alarm premises (Gamma(shape 0.5): a few
premises raise many false alarms a year) and ``n_gun_sites`` sites of the ``gun``
stream for shots-fired calls, drug complaints and directed/foot patrols.

*Timestamp chain* (seconds; log-normal = median x exp(sigma Z)):

==========================  =====================================================
start -> queue              log-normal 55 s police, 40 s EMS, 30 s fire (sigma 0.6)
start -> call viewed        log-normal 75 s (0.7); blank for C2C / CAD2CAD
start -> phone stop         log-normal 150 s (0.6); blank for C2C / CAD2CAD
queue -> dispatch           police by priority 25 / 150 / 420 / 900 s (P1-P4, 600 s
                            other) x hour-of-day load^1.5, sigma 0.9; fire/EMS 2.5 s
dispatch -> acknowledged    log-normal 4 s police (1.0), 55 s fire/EMS (0.5)
acknowledged -> en route    0 (70%) or log-normal 8 s (0.8)
en route -> arrival         log-normal 240 s (police P1), 330 s (other police),
                            270 s (EMS), 250 s (fire); sigma 0.45
arrival -> first cleared    the call type's on-scene time
cleared -> first close       0 (85%) or log-normal 20 s
first close -> final close  20-400 ms, or a reopening (2%): +15 min, then +20 min
==========================  =====================================================

Officer-initiated calls (Call_Reception OFFICER) have start = queue = dispatch =
acknowledged = en route = arrival. Calls closed without a unit (``not_dispatched``)
keep a dispatch time but have no acknowledgement, travel or arrival. Cancelled
calls (``cancelled``; Disposition ``CN-Cancellation``) have no arrival. Calls raised
by incidents get ``RE-Report`` when the police answer them. The later timestamps of a call
still running when the clock springs forward move forward by the gap
(`temporal.DstGaps.shift_crossing`), so no timestamp names a local time that never
existed.

*Injected data problems* (``anomaly_rate``, in equal parts, recorded by row number
in the manifest): an arrival 30-600 s *before* dispatch, a call whose first clear
comes 30-32 hours after arrival, and a blank Master_Incident_Number.

`cad_export` turns the simulated calls into the export's rows and derived columns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import polars as pl

from smart_policing.data.synth.formats import NULL_MS, fixed_decimals
from smart_policing.data.synth.geography import DISTRICT_NAMES, Geography, Places
from smart_policing.data.synth.params import CityParams
from smart_policing.data.synth.spatial import SpatialModel
from smart_policing.data.synth.tables import AGENCIES, CallTypeTable
from smart_policing.data.synth.temporal import (
    DAY_MS,
    HOUR_MS,
    PROFILES,
    DstGaps,
    hour_weights,
    sample_times,
)

__all__ = [
    "ANOMALY_KINDS",
    "CallBatch",
    "CallContext",
    "background_rates",
    "build_call_context",
    "place_text",
    "simulate_calls",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

CAD_DECIMALS = 6
ANOMALY_KINDS = ("arrival_before_dispatch", "extreme_duration", "blank_incident_number")
_S = 1000  # ms per second


@dataclass(frozen=True)
class _Pool:
    index: I64  # site indices
    cum: F64  # cumulative selection probabilities

    def draw(self, rng: np.random.Generator, n: int) -> I64:
        pick = np.searchsorted(self.cum, rng.random(n), side="right")
        return self.index[np.minimum(pick, self.index.size - 1)]


@dataclass(frozen=True)
class CallContext:
    """Everything fixed for a city's calls: tables, site pools, staff roster."""

    params: CityParams
    geography: Geography
    table: CallTypeTable
    sites: Places
    site_text: pl.DataFrame  # Address, Latitude, Longitude, District, Beat per site
    pools: dict[str, _Pool]
    roster: npt.NDArray[np.str_]  # (4 teams, members)
    # per call type
    agency: I64
    officer: F64
    not_dispatched: F64
    cancelled: F64
    scene_median_s: F64
    scene_sigma: F64
    delay_median_min: F64
    priority_vocab: I64
    priority_cum: F64
    disposition_vocab: tuple[str, ...]
    disposition_cum: F64
    reception_vocab: tuple[str, ...]
    reception_cum: F64  # per agency


@dataclass(frozen=True)
class CallBatch:
    """Simulated calls of one chunk, sorted by start (local ms; NULL_MS = blank)."""

    call_type: I64
    site: I64  # index into the chunk's place table (pool sites, then linked places)
    extra_places: Places | None
    linked: B
    priority: I64
    reception: I64
    officer: B
    dispatched: B
    disposition: I64
    times: dict[str, I64]
    reopened: B
    anomaly: I64  # -1 none, else index into ANOMALY_KINDS
    unit_choice: F64  # uniform draws for unit numbers
    unit_beat: I64
    staff_draw: I64  # (n, 2): call taker, dispatcher member index
    auto_dispatch: B

    def __len__(self) -> int:
        return int(self.call_type.size)

    def head(self, k: int) -> CallBatch:
        """The first ``k`` calls (the batch is in time order)."""
        return replace(
            self,
            call_type=self.call_type[:k],
            site=self.site[:k],
            linked=self.linked[:k],
            priority=self.priority[:k],
            reception=self.reception[:k],
            officer=self.officer[:k],
            dispatched=self.dispatched[:k],
            disposition=self.disposition[:k],
            times={name: v[:k] for name, v in self.times.items()},
            reopened=self.reopened[:k],
            anomaly=self.anomaly[:k],
            unit_choice=self.unit_choice[:k],
            unit_beat=self.unit_beat[:k],
            staff_draw=self.staff_draw[:k],
            auto_dispatch=self.auto_dispatch[:k],
        )


def _cum(matrix: F64) -> F64:
    c = np.cumsum(matrix / matrix.sum(axis=1, keepdims=True), axis=1)
    c[:, -1] = 1.0
    return c


def _categorical(rng: np.random.Generator, cum: F64) -> I64:
    u = np.asarray(rng.random(cum.shape[0]), dtype=np.float64)
    return np.asarray((u[:, None] >= cum).sum(axis=1), dtype=np.int64)


def _pool(rng: np.random.Generator, index: I64, shape: float) -> _Pool:
    w = np.asarray(rng.gamma(shape, 1.0, index.size), dtype=np.float64)
    cum = np.cumsum(w / w.sum())
    cum[-1] = 1.0
    return _Pool(index=index, cum=cum)


def build_call_context(
    params: CityParams,
    spatial: SpatialModel,
    table: CallTypeTable,
    rng: np.random.Generator,
) -> CallContext:
    """Site pools, staff roster and per-type arrays for ``params``."""
    geo = spatial.geography
    general = spatial.sample_places(rng, params.n_call_sites, "calls", CAD_DECIMALS)
    alarm = spatial.sample_places(rng, params.n_alarm_sites, "calls", CAD_DECIMALS)
    gun = spatial.sample_places(rng, params.n_gun_sites, "gun", CAD_DECIMALS)
    sites = Places.concat([general, alarm, gun])
    n1, n2 = len(general), len(general) + len(alarm)
    pools = {
        "general": _pool(rng, np.arange(0, n1), 1.0),
        "alarm": _pool(rng, np.arange(n1, n2), 0.5),
        "gun": _pool(rng, np.arange(n2, len(sites)), 1.0),
    }
    site_text = place_text(sites, geo)

    hexes = rng.choice(16**10, size=params.n_staff, replace=False)
    staff = np.asarray([f"staff-{h:010x}" for h in hexes.tolist()])
    members = params.n_staff // 4
    roster = staff[: 4 * members].reshape(4, members)

    types = table.call_types
    prio_vocab = sorted({p for c in types for p in c.priority})
    prio = np.asarray([[c.priority.get(p, 0.0) for p in prio_vocab] for c in types])
    disp_vocab = sorted({d for c in types for d in c.dispositions} | {"CN-Cancellation"})
    disp = np.asarray([[c.dispositions.get(d, 0.0) for d in disp_vocab] for c in types])
    rec_vocab = [*sorted({r for mix in table.reception.values() for r in mix}), "OFFICER"]
    rec = np.asarray(
        [[table.reception.get(a, {}).get(r, 0.0) for r in rec_vocab] for a in AGENCIES]
    )
    rec[rec.sum(axis=1) == 0, 0] = 1.0  # agencies without calls: any valid row
    return CallContext(
        params=params,
        geography=geo,
        table=table,
        sites=sites,
        site_text=site_text,
        pools=pools,
        roster=roster,
        agency=np.asarray([AGENCIES.index(c.agency) for c in types], dtype=np.int64),
        officer=np.asarray([c.officer_initiated for c in types]),
        not_dispatched=np.asarray([c.not_dispatched for c in types]),
        cancelled=np.asarray([c.cancelled for c in types]),
        scene_median_s=np.asarray([c.on_scene.median_min * 60.0 for c in types]),
        scene_sigma=np.asarray([c.on_scene.sigma for c in types]),
        delay_median_min=np.asarray([c.linked_delay_min for c in types]),
        priority_vocab=np.asarray(prio_vocab, dtype=np.int64),
        priority_cum=_cum(prio),
        disposition_vocab=tuple(disp_vocab),
        disposition_cum=_cum(disp),
        reception_vocab=tuple(rec_vocab),
        reception_cum=_cum(rec),
    )


def place_text(places: Places, geo: Geography) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "Address": pl.Series(places.address, dtype=pl.String),
            "Latitude": fixed_decimals(places.lat, CAD_DECIMALS),
            "Longitude": fixed_decimals(places.lon, CAD_DECIMALS),
            "District": pl.Series([n.upper() for n in DISTRICT_NAMES]).gather(places.district),
            "Beat": pl.Series(geo.beat_posts[places.beat]).cast(pl.String),
        }
    )


def background_rates(
    table: CallTypeTable, calls_per_day: float, linked_per_day: dict[str, float] | None = None
) -> F64:
    """Background calls per day of each call type.

    Agency totals are ``agency_share * calls_per_day`` minus the calls per day that
    incidents already raise for that agency (never below zero), so the agency mix of
    the whole file stays at ``agency_share``.
    """
    types = table.call_types
    linked = linked_per_day or {}
    agency_w = {a: sum(c.weight for c in types if c.agency == a) for a in AGENCIES}
    share_total = sum(table.agency_share.values())
    agency_rate = {
        a: max(
            calls_per_day * table.agency_share.get(a, 0.0) / share_total - linked.get(a, 0.0), 0.0
        )
        for a in AGENCIES
    }
    return np.asarray([agency_rate[c.agency] * c.weight / agency_w[c.agency] for c in types])


def _background(
    ctx: CallContext, rng: np.random.Generator, days: I64, rates: F64, gaps: DstGaps
) -> tuple[I64, I64]:
    """Start times and call types of background calls on ``days`` (``rates`` per type)."""
    types = ctx.table.call_types
    starts: list[I64] = []
    kinds: list[I64] = []
    for name in sorted({c.profile for c in types}):
        members = np.asarray([i for i, c in enumerate(types) if c.profile == name])
        r = rates[members]
        if r.sum() <= 0:
            continue
        profile = PROFILES[name]
        p = ctx.params
        amp = p.seasonal_amplitude_violent if profile.violent else p.seasonal_amplitude
        t = sample_times(rng, float(r.sum()), days, profile, amp, gaps)
        starts.append(t)
        kinds.append(members[rng.choice(members.size, size=t.size, p=r / r.sum())])
    if not starts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(starts), np.concatenate(kinds)


def _lognormal(rng: np.random.Generator, median_s: F64 | float, sigma: F64 | float, n: int) -> I64:
    """Log-normal durations in ms with the given median (s) and sigma."""
    return np.asarray(median_s * _S * np.exp(sigma * rng.standard_normal(n)), dtype=np.int64)


def simulate_calls(
    ctx: CallContext,
    rng: np.random.Generator,
    days: I64,
    rates: F64,
    gaps: DstGaps,
    linked_start: I64 | None = None,
    linked_type: I64 | None = None,
    linked_places: Places | None = None,
) -> CallBatch:
    """Simulate the calls starting on ``days``: background calls at ``rates`` (per type
    and day, see `background_rates`) plus the given incident-raised calls."""
    bg_start, bg_type = _background(ctx, rng, days, rates, gaps)
    bg_site = np.zeros(bg_type.size, dtype=np.int64)
    sites_kind = [c.sites for c in ctx.table.call_types]
    for kind, pool in ctx.pools.items():
        members = np.flatnonzero(np.asarray([s == kind for s in sites_kind])[bg_type])
        bg_site[members] = pool.draw(rng, members.size)
    n_linked = 0 if linked_start is None else linked_start.size
    start = bg_start
    call_type = bg_type
    site = bg_site
    if linked_start is not None and linked_type is not None and n_linked:
        start = np.concatenate([bg_start, linked_start])
        call_type = np.concatenate([bg_type, linked_type])
        site = np.concatenate([bg_site, len(ctx.sites) + np.arange(n_linked)])
    linked = np.arange(start.size) >= bg_start.size
    order = np.lexsort((np.arange(start.size), start))
    start, call_type, site, linked = start[order], call_type[order], site[order], linked[order]
    n = start.size

    agency = ctx.agency[call_type]
    police = agency == 0
    priority = ctx.priority_vocab[_categorical(rng, ctx.priority_cum[call_type])]
    officer = ~linked & (rng.random(n) < ctx.officer[call_type])
    reception = _categorical(rng, ctx.reception_cum[agency])
    reception = np.where(officer, len(ctx.reception_vocab) - 1, reception)
    rec_name = np.asarray(ctx.reception_vocab)[reception]
    c2c = np.isin(rec_name, ("C2C", "CAD2CAD"))
    not_disp = ~linked & ~officer & (rng.random(n) < ctx.not_dispatched[call_type])
    cancel = ~linked & ~officer & ~not_disp & (rng.random(n) < ctx.cancelled[call_type])

    # Start: whole seconds, except computer-to-computer and half of NOT CAPTURED.
    with_ms = c2c | ((rec_name == "NOT CAPTURED") & (rng.random(n) < 0.5))
    start = (start // _S) * _S + np.where(with_ms, rng.integers(0, _S, n), 0)
    start = gaps.shift_out(start)

    med_q = np.asarray([55.0, 40.0, 30.0])[agency]
    queue = ((start + _lognormal(rng, med_q, 0.6, n)) // _S) * _S
    queue = np.maximum(queue, start)
    queue = np.where(officer, start, queue)
    lag = np.where(rng.random(n) < 0.45, 0, rng.integers(1, 6, n) * _S)
    lag = np.where(officer | c2c | (rec_name == "NOT CAPTURED"), 0, lag)
    response = np.minimum(start + lag, queue)
    viewed = ((start + _lognormal(rng, 75.0, 0.7, n)) // _S) * _S
    viewed = np.where(officer, start + rng.integers(1, 11, n) * _S, np.maximum(viewed, start))
    viewed = np.where(c2c, NULL_MS, viewed)
    phone = ((start + _lognormal(rng, 150.0, 0.6, n)) // _S) * _S
    phone = np.where(officer, start, np.maximum(phone, start))
    phone = np.where(c2c, NULL_MS, phone)

    hour = (start % DAY_MS) // HOUR_MS
    load = hour_weights(PROFILES["general"]).mean(axis=0)[hour]
    wait_med = np.select(
        [priority == 1, priority == 2, priority == 3, priority == 4],
        [25.0, 150.0, 420.0, 900.0],
        600.0,
    ) * np.where(priority == 1, 1.0, load**1.5)
    wait = np.where(
        police, _lognormal(rng, wait_med, 0.9, n), _lognormal(rng, 2.5, 0.5, n)
    ) + rng.integers(0, _S, n)
    dispatch = np.where(officer, start, queue + wait)
    ack = dispatch + np.where(police, _lognormal(rng, 4.0, 1.0, n), _lognormal(rng, 55.0, 0.5, n))
    enroute = ack + np.where(rng.random(n) < 0.7, 0, _lognormal(rng, 8.0, 0.8, n))
    transit_med = np.where(police, np.where(priority == 1, 240.0, 330.0), 0.0)
    transit_med = np.where(agency == 1, 270.0, np.where(agency == 2, 250.0, transit_med))
    arrival = enroute + _lognormal(rng, transit_med, 0.45, n)
    ack = np.where(officer, start, ack)
    enroute = np.where(officer, start, enroute)
    arrival = np.where(officer, start, arrival)
    cleared = arrival + _lognormal(
        rng, ctx.scene_median_s[call_type], ctx.scene_sigma[call_type], n
    )
    first_close = cleared + np.where(rng.random(n) < 0.85, 0, _lognormal(rng, 20.0, 0.8, n))

    # Closed without a unit; cancelled before arrival.
    ack = np.where(not_disp, NULL_MS, ack)
    enroute = np.where(not_disp, NULL_MS, enroute)
    arrival = np.where(not_disp | cancel, NULL_MS, arrival)
    cleared = np.where(not_disp | cancel, NULL_MS, cleared)
    first_close = np.where(not_disp, dispatch + rng.integers(2, 31, n) * _S, first_close)
    no_enroute = cancel & (rng.random(n) < 0.4)
    enroute = np.where(no_enroute, NULL_MS, enroute)
    cancel_from = np.where(no_enroute, ack, enroute)
    first_close = np.where(cancel, cancel_from + _lognormal(rng, 180.0, 0.7, n), first_close)

    reopened = ~not_disp & (rng.random(n) < 0.02)
    reopen = np.where(reopened, first_close + _lognormal(rng, 900.0, 1.0, n), NULL_MS)
    final = np.where(
        reopened, reopen + _lognormal(rng, 1200.0, 1.0, n), first_close + rng.integers(20, 401, n)
    )

    disposition = _categorical(rng, ctx.disposition_cum[call_type])
    report_idx = (
        ctx.disposition_vocab.index("RE-Report") if "RE-Report" in ctx.disposition_vocab else -1
    )
    if report_idx >= 0:
        disposition = np.where(linked & police, report_idx, disposition)
    disposition = np.where(cancel, ctx.disposition_vocab.index("CN-Cancellation"), disposition)

    # Injected data problems.
    rate = ctx.params.anomaly_rate
    u = rng.random(n)
    anomaly = np.where(u < rate / 3, 0, np.where(u < 2 * rate / 3, 1, np.where(u < rate, 2, -1)))
    has_arrival = arrival != NULL_MS
    anomaly = np.where((anomaly < 2) & (officer | ~has_arrival), -1, anomaly)
    early = anomaly == 0
    arrival = np.where(early, dispatch - rng.integers(30, 601, n) * _S, arrival)
    long = anomaly == 1
    shift = (30 * 3600 + rng.integers(0, 7200, n)) * _S
    new_cleared = np.where(long, arrival + shift, cleared)
    delta = new_cleared - np.where(long, cleared, new_cleared)
    cleared = new_cleared
    first_close = first_close + delta
    reopen = np.where(reopen == NULL_MS, NULL_MS, reopen + delta)
    final = final + delta

    times = {
        "start": start,
        "response": response,
        "viewed": viewed,
        "queue": queue,
        "dispatch": dispatch,
        "phone": phone,
        "ack": ack,
        "enroute": enroute,
        "arrival": arrival,
        "cleared": cleared,
        "first_close": first_close,
        "reopen": reopen,
        "final": final,
    }
    times = {k: v if k == "start" else gaps.shift_crossing(start, v) for k, v in times.items()}
    members = ctx.roster.shape[1]
    police_unit_beat = _unit_beats(ctx, rng, site, linked_places)
    return CallBatch(
        call_type=call_type,
        site=site,
        extra_places=linked_places if n_linked else None,
        linked=linked,
        priority=priority,
        reception=reception,
        officer=officer,
        dispatched=~not_disp,
        disposition=disposition,
        times=times,
        reopened=reopened,
        anomaly=anomaly.astype(np.int64),
        unit_choice=rng.random(n),
        unit_beat=police_unit_beat,
        staff_draw=rng.integers(0, members, (n, 2)),
        auto_dispatch=~police & (rng.random(n) < 0.65),
    )


def _site_arrays(ctx: CallContext, extra: Places | None) -> tuple[I64, I64]:
    """District and beat index of every entry of the chunk's place table."""
    if extra is None:
        return ctx.sites.district, ctx.sites.beat
    return (
        np.concatenate([ctx.sites.district, extra.district]),
        np.concatenate([ctx.sites.beat, extra.beat]),
    )


def _unit_beats(ctx: CallContext, rng: np.random.Generator, site: I64, extra: Places | None) -> I64:
    """Beat whose car answers: the call's own beat (70%) or another in its district."""
    district, beat = _site_arrays(ctx, extra)
    k = ctx.params.beats_per_district
    other = district[site] * k + rng.integers(0, k, site.size)
    return np.where(rng.random(site.size) < 0.7, beat[site], other)
