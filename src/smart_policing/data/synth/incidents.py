"""Part 1 victim-based crime: incidents, victims and the Open Baltimore rows.

Method
------
The offence mix comes from ``part1_types.yaml``. A code's incident rate (per day) is

    incidents_per_day * share(type) * weight(code) / E[victims(type)]

so that ``incidents_per_day`` counts *rows*, like the real file. Ordinary codes are
inhomogeneous Poisson streams (`temporal.sample_times` with the type's profile)
placed by the spatial mixture (`spatial`): the ``gun`` stream for codes whose
weapon is FIREARM, else the type's component. The gun-violence codes
(``hawkes_codes``: 9S shooting, 1F firearm homicide, 4A firearm aggravated assault)
form one self-exciting stream (`hawkes`) whose background rate is ``(1 - b)`` times
their total rate.

Each incident then gets a victim count ``k`` (more than one with ``multi_prob``,
then ``1 + Poisson(extra_mean - 1)`` extra), a premise and its Inside/Outside, and is
written as ``k`` identical rows. Times are whole minutes; 20% are heaped down to the
hour or half hour, as reported times are. ``missing_location_rate`` of incidents lose
Location, Longitude, Latitude, Location 1 and Neighborhood (Post and District stay),
and 1.5% have a blank Inside/Outside. SHOOTING and HOMICIDE rows spell
Inside/Outside out ("Inside"/"Outside"), as the real file does.

Each incident may raise one CAD call at the same place (``cad.report_prob``), with a
Problem from the type's (or code's) mix, ``linked_delay_min`` (median, log-normal
sigma 0.8) after the incident.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from smart_policing.data.synth.formats import PART1_COLUMNS, fixed_decimals, format_ms
from smart_policing.data.synth.geography import DISTRICT_NAMES, Places
from smart_policing.data.synth.hawkes import simulate_offspring
from smart_policing.data.synth.params import CityParams
from smart_policing.data.synth.spatial import Component, SpatialModel
from smart_policing.data.synth.tables import CallTypeTable, CrimeTypeTable
from smart_policing.data.synth.temporal import (
    DAY_MS,
    PROFILES,
    DstGaps,
    day_number,
    sample_times,
)

__all__ = ["Incidents", "LinkedCalls", "generate_incidents", "linked_calls", "part1_frame"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

PART1_DECIMALS = 5
_MINUTE = 60_000


@dataclass(frozen=True)
class _Code:
    type_index: int
    description: str
    code: str
    weapon: str | None
    rate: float  # incidents per day
    hawkes: bool
    component: Component
    profile: str


@dataclass(frozen=True)
class Incidents:
    """Unique incidents, sorted by time (victim rows are made when writing)."""

    t: I64  # local ms, whole minutes
    code: I64  # index into codes
    places: Places
    victims: I64
    premise: I64  # index into premises
    io: I64  # 0 inside, 1 outside, 2 blank
    missing_location: B
    generation: I64  # 0 = background / ordinary, >= 1 Hawkes offspring
    codes: tuple[_Code, ...]
    premises: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.t.size)


@dataclass(frozen=True)
class LinkedCalls:
    """CAD calls raised by incidents: start (local ms), call type, place."""

    start: I64
    call_type: I64
    places: Places


def _codes(params: CityParams, table: CrimeTypeTable) -> tuple[_Code, ...]:
    total_share = sum(t.share for t in table.types)
    out: list[_Code] = []
    for ti, t in enumerate(table.types):
        mean_k = 1.0 + t.victims.multi_prob * t.victims.extra_mean
        weights = sum(c.weight for c in t.codes)
        for c in t.codes:
            rows = params.incidents_per_day * t.share / total_share * c.weight / weights
            component: Component = "gun" if c.weapon == "FIREARM" else t.component
            out.append(
                _Code(
                    type_index=ti,
                    description=t.description,
                    code=c.code,
                    weapon=c.weapon,
                    rate=rows / mean_k,
                    hawkes=c.code in table.hawkes_codes,
                    component=component,
                    profile=t.profile,
                )
            )
    return tuple(out)


def generate_incidents(
    params: CityParams,
    table: CrimeTypeTable,
    spatial: SpatialModel,
    gaps: DstGaps,
    rng: np.random.Generator,
) -> Incidents:
    """All Part 1 incidents of the history."""
    codes = _codes(params, table)
    first_day = day_number(params.start_date)
    days = np.arange(first_day, first_day + params.n_days, dtype=np.int64)
    t_end = int(days[-1] + 1) * DAY_MS

    t_parts: list[I64] = []
    code_parts: list[I64] = []
    place_parts: list[Places] = []
    gen_parts: list[I64] = []

    # Ordinary codes, grouped by (profile, component).
    groups: dict[tuple[str, str], list[int]] = {}
    for i, c in enumerate(codes):
        if not c.hawkes:
            groups.setdefault((c.profile, c.component), []).append(i)
    for (profile_name, component), members in sorted(groups.items()):
        rates = np.asarray([codes[i].rate for i in members])
        profile = PROFILES[profile_name]
        amp = params.seasonal_amplitude_violent if profile.violent else params.seasonal_amplitude
        t = sample_times(rng, float(rates.sum()), days, profile, amp, gaps)
        which = rng.choice(len(members), size=t.size, p=rates / rates.sum())
        comp: Component = "gun" if component == "gun" else "crime"
        t_parts.append(t)
        code_parts.append(np.asarray(members, dtype=np.int64)[which])
        place_parts.append(spatial.sample_places(rng, t.size, comp, PART1_DECIMALS))
        gen_parts.append(np.zeros(t.size, dtype=np.int64))

    # Gun violence: background immigrants + Hawkes offspring.
    hawkes = [i for i, c in enumerate(codes) if c.hawkes]
    if hawkes:
        rates = np.asarray([codes[i].rate for i in hawkes])
        b = params.hawkes_branching
        t0 = sample_times(
            rng,
            float(rates.sum()) * (1.0 - b),
            days,
            PROFILES["violent"],
            params.seasonal_amplitude_violent,
            gaps,
        )
        p0 = spatial.sample_places(rng, t0.size, "gun", PART1_DECIMALS)
        kids = simulate_offspring(
            rng, t0, p0.x, p0.y, b, params.hawkes_decay_days, params.hawkes_sigma_m, t_end
        )
        p1, ok = spatial.geography.place(rng, kids.x, kids.y, PART1_DECIMALS)
        t1 = gaps.shift_out(kids.t[ok])
        keep = t1 < t_end
        p1 = p1.take(np.flatnonzero(keep))
        t1 = t1[keep]
        g1 = kids.generation[ok][keep]
        all_t = np.concatenate([t0, t1])
        which = rng.choice(len(hawkes), size=all_t.size, p=rates / rates.sum())
        t_parts.append(all_t)
        code_parts.append(np.asarray(hawkes, dtype=np.int64)[which])
        place_parts.append(Places.concat([p0, p1]))
        gen_parts.append(np.concatenate([np.zeros(t0.size, dtype=np.int64), g1]))

    t = np.concatenate(t_parts)
    code = np.concatenate(code_parts)
    places = Places.concat(place_parts)
    generation = np.concatenate(gen_parts)

    # Whole minutes; 20% heaped down to the hour or half hour.
    t = (t // _MINUTE) * _MINUTE
    heap = rng.random(t.size)
    t = np.where(heap < 0.12, (t // (60 * _MINUTE)) * 60 * _MINUTE, t)
    t = np.where((heap >= 0.12) & (heap < 0.2), (t // (30 * _MINUTE)) * 30 * _MINUTE, t)

    order = np.lexsort((np.arange(t.size), t))
    t, code, generation = t[order], code[order], generation[order]
    places = places.take(order)

    n = t.size
    type_index = np.asarray([codes[c].type_index for c in code.tolist()], dtype=np.int64)
    multi = np.asarray([table.types[i].victims.multi_prob for i in range(len(table.types))])
    extra = np.asarray([table.types[i].victims.extra_mean for i in range(len(table.types))])
    is_multi = rng.random(n) < multi[type_index]
    victims = 1 + np.where(is_multi, 1 + rng.poisson(extra[type_index] - 1.0), 0)

    premises = tuple(table.premises)
    premise = np.zeros(n, dtype=np.int64)
    for ti, ty in enumerate(table.types):
        sel = np.flatnonzero(type_index == ti)
        names = list(ty.premises)
        p = np.asarray([ty.premises[k] for k in names])
        pick = rng.choice(len(names), size=sel.size, p=p / p.sum())
        premise[sel] = np.asarray([premises.index(k) for k in names], dtype=np.int64)[pick]
    io_of_premise = np.asarray([0 if table.premises[k] == "I" else 1 for k in premises])
    io = np.where(rng.random(n) < 0.015, 2, io_of_premise[premise])
    missing = rng.random(n) < params.missing_location_rate

    return Incidents(
        t=t,
        code=code,
        places=places,
        victims=victims.astype(np.int64),
        premise=premise,
        io=io.astype(np.int64),
        missing_location=missing,
        generation=generation,
        codes=codes,
        premises=premises,
    )


def part1_frame(
    inc: Incidents, table: CrimeTypeTable, beat_posts: I64, names: tuple[str, ...]
) -> pl.DataFrame:
    """The Part 1 CSV rows: one row per victim, in time order."""
    rows = np.repeat(np.arange(len(inc)), inc.victims)
    t = inc.t[rows]
    code = inc.code[rows]
    descriptions = pl.Series([c.description for c in inc.codes])
    code_text = pl.Series([c.code for c in inc.codes])
    weapons = pl.Series([c.weapon for c in inc.codes], dtype=pl.String)
    io_words = np.asarray([table.types[c.type_index].io_words for c in inc.codes])
    io = inc.io[rows]
    io_idx = np.where(io == 2, 4, io + 2 * io_words[code])
    io_text = pl.Series(["I", "O", "Inside", "Outside", None], dtype=pl.String)
    missing = inc.missing_location[rows]
    lon = inc.places.lon[rows]
    lat = inc.places.lat[rows]
    address = pl.Series(inc.places.address, dtype=pl.String).gather(rows)
    neighborhood = pl.Series(list(names), dtype=pl.String).gather(inc.places.neighborhood[rows])
    location1 = pl.select(
        pl.format(
            "({}, {})",
            pl.lit(fixed_decimals(lat, PART1_DECIMALS) + "00000"),
            pl.lit(fixed_decimals(lon, PART1_DECIMALS) + "00000"),
        )
    ).to_series()
    district = pl.Series([n.upper() for n in DISTRICT_NAMES]).gather(inc.places.district[rows])
    post = pl.Series(beat_posts[inc.places.beat[rows]]).cast(pl.String) + ".0"
    frame = pl.DataFrame(
        {
            "CrimeDate": format_ms(t, "%m/%d/%Y"),
            "CrimeTime": format_ms(t, "%H:%M:%S"),
            "CrimeCode": code_text.gather(code),
            "Location": address,
            "Description": descriptions.gather(code),
            "Inside/Outside": io_text.gather(io_idx),
            "Weapon": weapons.gather(code),
            "Post": post,
            "District": district,
            "Neighborhood": neighborhood,
            "Longitude": lon,
            "Latitude": lat,
            "Location 1": location1,
            "Premise": pl.Series(list(inc.premises)).gather(inc.premise[rows]),
            "Total Incidents": np.ones(rows.size, dtype=np.int64),
        }
    )
    blank = pl.Series(missing)
    frame = frame.with_columns(
        [
            pl.when(pl.lit(blank)).then(None).otherwise(pl.col(c)).alias(c)
            for c in ("Location", "Neighborhood", "Longitude", "Latitude", "Location 1")
        ]
    )
    assert tuple(frame.columns) == PART1_COLUMNS
    return frame


def linked_calls(
    inc: Incidents,
    crimes: CrimeTypeTable,
    calls: CallTypeTable,
    gaps: DstGaps,
    rng: np.random.Generator,
    t_end: int,
) -> LinkedCalls:
    """One CAD call for each reported incident, at its place, a little later."""
    n = len(inc)
    code_obj = [crimes.types[c.type_index].codes for c in inc.codes]
    report = np.asarray([crimes.types[c.type_index].cad.report_prob for c in inc.codes])
    reported = np.flatnonzero(rng.random(n) < report[inc.code])
    call_type = np.zeros(reported.size, dtype=np.int64)
    codes_of = inc.code[reported]
    for ci, c in enumerate(inc.codes):
        sel = np.flatnonzero(codes_of == ci)
        if sel.size == 0:
            continue
        spec = next(x for x in code_obj[ci] if x.code == c.code)
        mix = spec.cad_problems or crimes.types[c.type_index].cad.problems
        names = list(mix)
        p = np.asarray([mix[k] for k in names])
        pick = rng.choice(len(names), size=sel.size, p=p / p.sum())
        call_type[sel] = np.asarray([calls.index(k) for k in names], dtype=np.int64)[pick]
    median = np.asarray([c.linked_delay_min for c in calls.call_types])[call_type]
    delay = (median * 60_000 * rng.lognormal(0.0, 0.8, reported.size)).astype(np.int64)
    start = gaps.shift_out(inc.t[reported] + delay + rng.integers(0, 60_000, reported.size))
    keep = np.flatnonzero(start < t_end)
    return LinkedCalls(
        start=start[keep],
        call_type=call_type[keep],
        places=inc.places.take(reported[keep]),
    )
