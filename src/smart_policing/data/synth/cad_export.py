"""CAD export rows: derived, calendar, number and unit columns of simulated calls.

*Derived columns* follow the real export exactly (verified against it): ``X_Time``
columns count whole-second boundaries between the two timestamps (SQL Server
``DATEDIFF(second, a, b)``), ``Elapsed_X`` columns are the exact difference
truncated to whole seconds (``-9999`` when a stage is missing) and the ``Diff``
columns are their difference:

* Time_To_Queue = queue - start; Elapsed_PS_Queue = queue - Response_Date
* Time_To_Dispatch = dispatch - queue; Phone_Time = phone stop - start
* Processing_Time = dispatch - start (the real export, not acknowledged - start)
* Rollout_Time = en route - dispatch; Transit_Time = arrival - en route
* Total_Call_Time = first close - start (the real export, not final close - start)

*Calendar columns* (from Response_Date): WeekNo is SQL Server ``DATEPART(week)``
(weeks start on Sunday; January 1st is in week 1); Shift is a 2-2-3 (Pitman)
rotation of day teams A/B over 14 days (anchored on Sunday 2025-08-24 = A), with
night teams C (after A) and D (after B); day shift 06:00-18:59; ShiftPart EARLY
06-09 and 18-21, MIDS 10-13 and 22-01, LATE 14-17 and 02-05.

*Numbers.* Master_Incident_Number is ``YY-NNNNNN``, numbered in time order per
year: police from 000001, fire and EMS (one fire-rescue sequence, as in the real
export) from 600001, so a number is unique per agency-year and within the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt
import polars as pl

from smart_policing.data.synth.calls import ANOMALY_KINDS, CallBatch, CallContext, place_text
from smart_policing.data.synth.formats import CAD_COLUMNS, CAD_EXTRA_COLUMNS, NULL_MS, format_ms
from smart_policing.data.synth.tables import AGENCIES
from smart_policing.data.synth.temporal import (
    DAY_MS,
    HOUR_MS,
    day_number,
    day_of_week,
    day_of_year,
)

__all__ = ["Numbering", "call_frame"]

I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

_S = 1000  # ms per second
_PITMAN = np.asarray([0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0])  # 0 = A, 1 = B
_PITMAN_ANCHOR = day_number(date(2025, 8, 24))  # a Sunday, first day of the cycle
_SEQ_OFFSET = {0: 0, 1: 600_000}  # police, fire-rescue
_SEQ_CAPACITY = {0: 599_999, 1: 399_999}


@dataclass
class Numbering:
    """Running Master_Incident_Number counters per (sequence, year) and row count."""

    last: dict[tuple[int, int], int] = field(default_factory=dict)
    rows: int = 0
    anomalies: dict[str, list[int]] = field(default_factory=lambda: {k: [] for k in ANOMALY_KINDS})


def _dd(a: I64, b: I64) -> I64:
    """Whole-second boundaries crossed from a to b (SQL DATEDIFF(second, a, b))."""
    return np.asarray(np.floor_divide(b, _S) - np.floor_divide(a, _S), dtype=np.int64)


def _el(a: I64, b: I64) -> I64:
    """b - a in whole seconds, truncated toward minus infinity."""
    return np.asarray(np.floor_divide(b - a, _S), dtype=np.int64)


def _calendar(response: I64) -> dict[str, pl.Series]:
    days = np.floor_divide(response, DAY_MS)
    hour = np.floor_divide(response % DAY_MS, HOUR_MS)
    dow = day_of_week(days)  # Monday = 0
    doy = day_of_year(days)
    d64 = days.astype("datetime64[D]")
    year_start = d64.astype("datetime64[Y]").astype("datetime64[D]")
    jan1_sun = (day_of_week(year_start.astype(np.int64)) + 1) % 7  # Sunday = 0
    week = (doy - 1 + jan1_sun) // 7 + 1
    dom = (d64 - d64.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    team_day = _PITMAN[np.mod(days - _PITMAN_ANCHOR, 14)]
    is_day = (hour >= 6) & (hour <= 18)
    team = np.where(is_day, team_day, team_day + 2)  # A, B, C, D = 0..3
    part = np.select(
        [
            (hour >= 6) & (hour <= 9),
            (hour >= 10) & (hour <= 13),
            (hour >= 14) & (hour <= 17),
            (hour >= 18) & (hour <= 21),
            (hour >= 22) | (hour <= 1),
        ],
        [0, 1, 2, 0, 1],
        2,
    )
    dows = pl.Series(["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"])
    return {
        "WeekNo": pl.Series(week.astype(np.int64)),
        "DOW": dows.gather(dow),
        "Day": pl.Series(dom),
        "Hour": pl.Series(hour.astype(np.int64)),
        "Shift": pl.Series(["A", "B", "C", "D"]).gather(team),
        "Day_Night": pl.Series(["NIGHT", "DAY"]).gather(is_day.astype(np.int64)),
        "ShiftPart": pl.Series(["EARLY", "MIDS", "LATE"]).gather(part),
        "_team": pl.Series(team.astype(np.int64)),
    }


def _numbers(batch: CallBatch, ctx: CallContext, numbering: Numbering) -> pl.Series:
    start = batch.times["start"]
    year = (
        np.floor_divide(start, DAY_MS)
        .astype("datetime64[D]")
        .astype("datetime64[Y]")
        .astype(np.int64)
        + 1970
    )
    group = (ctx.agency[batch.call_type] != 0).astype(np.int64)
    seq = np.zeros(start.size, dtype=np.int64)
    for g in (0, 1):
        for y in np.unique(year[group == g]).tolist():
            sel = np.flatnonzero((group == g) & (year == y))
            last = numbering.last.get((g, y), 0)
            if last + sel.size > _SEQ_CAPACITY[g]:
                raise ValueError(
                    f"more than {_SEQ_CAPACITY[g]} calls in {y} for one number sequence; "
                    "lower calls_per_day"
                )
            seq[sel] = _SEQ_OFFSET[g] + last + np.arange(1, sel.size + 1)
            numbering.last[(g, y)] = last + sel.size
    frame = pl.DataFrame({"y": year % 100, "s": seq})
    out = frame.select(
        pl.concat_str(
            [
                pl.col("y").cast(pl.String).str.zfill(2),
                pl.lit("-"),
                pl.col("s").cast(pl.String).str.zfill(6),
            ]
        )
    ).to_series()
    blank = batch.anomaly == 2
    if blank.any():
        out = out.set(pl.Series(blank), None)
    return out


def call_frame(ctx: CallContext, batch: CallBatch, numbering: Numbering) -> pl.DataFrame:
    """The CAD CSV rows of a batch (50 real + 6 synthetic columns)."""
    t = batch.times
    n = batch.call_type.size
    missing = {k: v == NULL_MS for k, v in t.items()}
    cal = _calendar(t["response"])

    def col_int(values: I64, null: B | None = None) -> pl.Series:
        s = pl.Series(values.astype(np.int64))
        return s.set(pl.Series(null), None) if null is not None and null.any() else s

    def col_float(values: I64, null: B | None = None) -> pl.Series:
        s = pl.Series(values.astype(np.float64))
        return s.set(pl.Series(null), None) if null is not None and null.any() else s

    ttq = _dd(t["start"], t["queue"])
    el_q = _el(t["response"], t["queue"])
    ttd = _dd(t["queue"], t["dispatch"])
    el_d = _el(t["queue"], t["dispatch"])
    ph = _dd(t["start"], t["phone"])
    el_ph = _el(t["response"], t["phone"])
    proc = _dd(t["start"], t["dispatch"])
    el_proc = _el(t["start"], t["dispatch"])
    no_roll = missing["enroute"]
    roll = _dd(t["dispatch"], t["enroute"])
    el_roll = np.where(no_roll, -9999, _el(t["dispatch"], t["enroute"]))
    no_tr = missing["enroute"] | missing["arrival"]
    tr = _dd(t["enroute"], t["arrival"])
    el_tr = np.where(no_tr, -9999, _el(t["enroute"], t["arrival"]))
    tot = _dd(t["start"], t["first_close"])
    el_tot = _el(t["start"], t["first_close"])

    agency_names = pl.Series(list(AGENCIES))
    problems = pl.Series([c.problem for c in ctx.table.call_types])
    team = cal["_team"].to_numpy()
    taker = ctx.roster[team, batch.staff_draw[:, 0]]
    dispatcher = ctx.roster[team, batch.staff_draw[:, 1]].astype(object)
    dispatcher = np.where(batch.officer, taker, dispatcher)
    dispatcher = np.where(batch.auto_dispatch & ~batch.officer, "Automatic Dispatch", dispatcher)
    dispatcher_s = pl.Series(dispatcher.astype(str))
    if (~batch.dispatched).any():
        dispatcher_s = dispatcher_s.set(pl.Series(~batch.dispatched), None)

    text = ctx.site_text
    if batch.extra_places is not None:
        text = pl.concat([text, place_text(batch.extra_places, ctx.geography)])
    located = text[batch.site]

    frame = pl.DataFrame(
        {
            "Master_Incident_Number": _numbers(batch, ctx, numbering),
            "Response_Date": format_ms(t["response"]),
            "WeekNo": cal["WeekNo"],
            "DOW": cal["DOW"],
            "Day": cal["Day"],
            "Hour": cal["Hour"],
            "Shift": cal["Shift"],
            "Day_Night": cal["Day_Night"],
            "ShiftPart": cal["ShiftPart"],
            "Agency": agency_names.gather(ctx.agency[batch.call_type]),
            "Problem": problems.gather(batch.call_type),
            "Priority_Number": pl.Series(batch.priority),
            "Call_Reception": pl.Series(list(ctx.reception_vocab)).gather(batch.reception),
            "Call_Taker": pl.Series(taker.astype(str)),
            "Dispatcher": dispatcher_s,
            "Incident_Start_Time": format_ms(t["start"]),
            "TimeCallViewed": format_ms(t["viewed"]),
            "Incident_Queue_Time": format_ms(t["queue"]),
            "Time_To_Queue": col_int(ttq),
            "Elapsed_PS_Queue": col_float(el_q),
            "Time_To_Queue_Diff": col_int(ttq - el_q),
            "Incident_Dispatch_Time": format_ms(t["dispatch"]),
            "Time_To_Dispatch": col_int(ttd),
            "Elapsed_Queue_Disp": col_int(el_d),
            "Time_To_Disp_Diff": col_int(ttd - el_d),
            "Incident_Phone_Stop": format_ms(t["phone"]),
            "Phone_Time": col_float(ph, missing["phone"]),
            "Elapsed_PS_CTD": col_float(el_ph, missing["phone"]),
            "Phone_Time_Diff": col_float(ph - el_ph, missing["phone"]),
            "TimeFirstUnitDispatchAcknowledged": format_ms(t["ack"]),
            "Processing_Time": col_int(proc),
            "Elapsed_Processing": col_float(el_proc),
            "Diff_Proc_Time": col_int(proc - el_proc),
            "Incident_Enroute_Time": format_ms(t["enroute"]),
            "Rollout_Time": col_float(roll, no_roll),
            "Elapsed_Rollout": col_int(el_roll),
            "Diff_Rollout_Time": col_float(roll - el_roll, no_roll),
            "Incident_Arrival_Time": format_ms(t["arrival"]),
            "Transit_Time": col_float(tr, no_tr),
            "Elapsed_Transit": col_int(el_tr),
            "Diff_Transit_Time": col_float(tr - el_tr, no_tr),
            "TimeFirstCallCleared": format_ms(t["cleared"]),
            "Incident_First_Close_Time": format_ms(t["first_close"]),
            "Call_Reopened": pl.Series(batch.reopened.astype(np.int64)),
            "First_Reopen_Time": format_ms(t["reopen"]),
            "Final_Closed_Time": format_ms(t["final"]),
            "Total_Call_Time": col_float(tot),
            "Elapsed_Call_Time": col_float(el_tot),
            "Diff_Total_Call_Time": col_float(tot - el_tot),
            "Disposition": pl.Series(list(ctx.disposition_vocab)).gather(batch.disposition),
            "Primary_Unit": _units(ctx, batch, cal["Shift"]),
            "Address": located["Address"],
            "Latitude": located["Latitude"],
            "Longitude": located["Longitude"],
            "District": located["District"],
            "Beat": located["Beat"],
        }
    )
    assert tuple(frame.columns) == CAD_COLUMNS + CAD_EXTRA_COLUMNS
    for k, kind in enumerate(ANOMALY_KINDS):
        rows = np.flatnonzero(batch.anomaly == k) + numbering.rows + 1
        numbering.anomalies[kind].extend(rows.tolist())
    numbering.rows += n
    return frame


def _units(ctx: CallContext, batch: CallBatch, shift: pl.Series) -> pl.Series:
    """Primary_Unit: 2A13 (district, shift, car = beat's sector+post), M12, E7, T3."""
    agency = ctx.agency[batch.call_type]
    posts = ctx.geography.beat_posts[batch.unit_beat]
    district = posts // 100
    u = batch.unit_choice
    medic = 3 * (district - 1) + 1 + (u * 3).astype(np.int64)
    truck = u < 0.2
    frame = pl.DataFrame(
        {
            "agency": agency,
            "d": district,
            "shift": shift,
            "car": posts % 100,
            "n": np.where((agency == 2) & truck, district, medic),
            "letter": np.where(agency == 1, "M", np.where(truck, "T", "E")),
            "sent": batch.dispatched,
        }
    )
    return frame.select(
        pl.when(~pl.col("sent"))
        .then(None)
        .when(pl.col("agency") == 0)
        .then(
            pl.concat_str(
                [
                    pl.col("d").cast(pl.String),
                    pl.col("shift"),
                    pl.col("car").cast(pl.String).str.zfill(2),
                ]
            )
        )
        .otherwise(pl.concat_str([pl.col("letter"), pl.col("n").cast(pl.String)]))
    ).to_series()
