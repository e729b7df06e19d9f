"""Officer time budget (issue 5 item 1): hand-computed unit-level and estimate methods."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from pydantic import ValidationError

from smart_policing.datafiles import DataFileError, load_model
from smart_policing.response.timebudget import (
    BALTIMORE_SHIFTS,
    BudgetRow,
    ShiftDefinition,
    Staffing,
    StaffingRow,
    TimeBudget,
    TimeBudgetOptions,
    budget_records,
    shift_of,
    time_budget,
)

TZ = "America/New_York"
NY = ZoneInfo(TZ)
TS = pl.Datetime("us", "UTC")

# (id, own, type, local dispatch "HH:MM" on 2025-09-09 (or "-1 HH:MM" the day before),
#  minutes to clear (None: missing), a unit stage after dispatch, unit, district)
Call = tuple[str, bool, str, str | None, float | None, bool, str | None, str | None]


def _local(text: str) -> datetime:
    day = date(2025, 9, 9)
    if text.startswith("-1 "):
        day, text = day - timedelta(days=1), text[3:]
    hh, mm = text.split(":")
    return datetime.combine(day, time(int(hh), int(mm)), tzinfo=NY)


def _frame(calls: list[Call], *, received: str = "07:00") -> pl.DataFrame:
    rows = []
    for cid, own, code, dispatch, minutes, staged, unit, district in calls:
        sent = _local(dispatch) if dispatch is not None else None
        start = sent or _local(received)
        rows.append(
            {
                "call_id": cid,
                "agency": "POLICE",
                "received_at": start - timedelta(minutes=2) if not own else start,
                "dispatched_at": sent,
                "acknowledged_at": sent if staged else None,
                "cleared_at": sent + timedelta(minutes=minutes)
                if sent is not None and minutes is not None
                else None,
                "call_type_code": code,
                "self_initiated": own,
                "source_channel": "officer_initiated" if own else "phone",
                "unit_id": unit,
                "district": district,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "call_id": pl.String,
            "agency": pl.String,
            "received_at": TS,
            "dispatched_at": TS,
            "acknowledged_at": TS,
            "cleared_at": TS,
            "call_type_code": pl.String,
            "self_initiated": pl.Boolean,
            "source_channel": pl.String,
            "unit_id": pl.String,
            "district": pl.String,
        },
    )


# An export without unit ids (the real CAD's shape): the estimate method.
ESTIMATE: list[Call] = [
    ("c1", False, "ALARM", "08:00", 30, True, None, None),  # day
    ("c2", False, "ALARM", "14:50", 120, True, None, None),  # day; holdover stays in day
    ("c3", False, "THEFT", "16:00", None, True, None, None),  # evening; THEFT median 40
    ("c4", False, "THEFT", "17:00", 40, True, None, None),  # evening
    ("c5", False, "ALARM", "23:30", 60, True, None, None),  # night of the 9th
    ("c6", False, "ALARM", None, None, False, None, None),  # never dispatched
    ("c7", False, "ANIMAL", "11:00", 5, False, None, None),  # closed without a unit
    ("c8", False, "ALARM", "06:10", 30, True, None, None),  # night of the 8th: outside
    ("c9", False, "ODD", "12:00", -60, True, None, None),  # day; citizen median 40
    ("o1", True, "STOP", "09:00", 20, True, None, None),  # day, proactive
    ("o2", True, "STOP", "20:00", 45, True, None, None),  # evening, proactive
]


def _estimate(**kw: object) -> TimeBudget:
    options = TimeBudgetOptions(
        timezone=TZ, start=date(2025, 9, 9), end=date(2025, 9, 9), units_per_call=1.5, **kw
    )
    return time_budget(_frame(ESTIMATE).drop("unit_id", "district"), options)


def _by_shift(b: TimeBudget) -> dict[str | None, BudgetRow]:
    return {r.shift: r for r in b.shifts}


def test_estimate_hand_computed() -> None:
    b = _estimate(units_per_shift=2)
    assert (b.method, b.on_duty_source) == ("estimate", "units-per-shift")
    assert "no unit_id column" in b.method_reason
    assert (b.period_start, b.period_end) == (date(2025, 9, 9), date(2025, 9, 9))
    k = b.inputs
    assert (k.citizen_calls, k.not_dispatched, k.without_unit, k.outside_period) == (9, 1, 1, 1)
    assert (k.committed_calls, k.proactive_calls) == (6, 2)
    # fallback: c3 the THEFT median (40), c9 no other ODD call: the citizen median of
    # 30 120 40 60 30 (c8 outside the period still informs the median) = 40
    assert (k.measured_calls, k.fallback_calls, k.fallback_kind_median_calls) == (6, 2, 1)
    assert k.median_committed_minutes == 40.0  # 30 40 40 40 60 120, one unit
    s = _by_shift(b)
    # day: (30 + 120 + 40) x 1.5 = 285 min; evening (40 + 40) x 1.5 = 120; night 60 x 1.5 = 90
    assert [
        (x.shift, x.committed_hours, x.committed_calls, x.proactive_calls) for x in b.shifts
    ] == [("day", 4.75, 3, 1), ("evening", 2.0, 2, 1), ("night", 1.5, 1, 0)]
    assert s["day"].proactive_hours == pytest.approx(20 / 60)
    assert s["evening"].proactive_hours == pytest.approx(0.75)
    day = s["day"]
    assert (day.shift_days, day.unit_shifts, day.mean_units, day.on_duty_hours) == (1, 2, 2, 16)
    assert (day.admin_hours, day.available_hours) == (pytest.approx(1.6), pytest.approx(14.4))
    assert day.proactive_share == pytest.approx(1 - 4.75 / 14.4)
    assert day.remainder_hours == pytest.approx(14.4 - 4.75 - 1 / 3)
    assert day.officer_initiated_share == pytest.approx((1 / 3) / 14.4)
    o = b.overall
    assert (o.shift_days, o.on_duty_hours, o.committed_hours) == (3, 48.0, pytest.approx(8.25))
    assert o.proactive_share == pytest.approx(1 - 8.25 / 43.2)
    assert o.remainder_hours == pytest.approx(43.2 - 8.25 - 65 / 60)
    assert (o.meets_target, o.meets_alternative_target) == (True, True)
    assert b.districts == ()
    assert b.shift_districts == ()


def test_estimate_targets_and_unknown_on_duty() -> None:
    b = _estimate(units_per_shift=0.5, proactive_target=0.5)
    s = _by_shift(b)
    # available per shift 0.5 x 8 x 0.9 = 3.6 h
    assert s["day"].proactive_share == pytest.approx(1 - 4.75 / 3.6)  # negative: over-committed
    assert (s["day"].meets_target, s["day"].meets_alternative_target) == (False, False)
    assert s["evening"].proactive_share == pytest.approx(1 - 2 / 3.6)  # 0.444
    assert (s["evening"].meets_target, s["evening"].meets_alternative_target) == (False, True)
    assert s["night"].meets_target is True
    unknown = _estimate()
    assert unknown.on_duty_source is None
    assert unknown.overall.committed_hours == pytest.approx(8.25)
    assert unknown.overall.on_duty_hours is None
    assert unknown.overall.proactive_share is None
    assert unknown.overall.meets_target is None


def test_estimate_staffing_per_district() -> None:
    calls = [
        ("n1", False, "ALARM", "08:00", 60, True, None, "NORTHERN"),
        ("s1", False, "ALARM", "09:00", 30, True, None, "southern"),
        ("x1", False, "ALARM", "10:00", 30, True, None, None),
    ]
    staffing = tuple(
        StaffingRow(shift=s, district=d, units=u)
        for d, u in (("northern", 2), ("SOUTHERN", 1))
        for s in ("day", "evening", "night")
    )
    options = TimeBudgetOptions(timezone=TZ, staffing=staffing, method="estimate")
    b = time_budget(_frame(calls), options)
    assert (b.method, b.on_duty_source) == ("estimate", "staffing")
    d = {r.district: r for r in b.districts}
    assert list(d) == ["NORTHERN", "SOUTHERN", None]
    assert (d["NORTHERN"].on_duty_hours, d["NORTHERN"].committed_hours) == (48.0, 1.0)
    assert d["SOUTHERN"].proactive_share == pytest.approx(1 - 0.5 / 21.6)
    assert d[None].on_duty_hours is None  # calls without a district: no staffing
    assert d[None].committed_hours == 0.5
    assert b.overall.on_duty_hours == 72.0
    assert b.overall.committed_hours == 2.0
    both = {(r.shift, r.district): r for r in b.shift_districts}
    assert both[("day", "NORTHERN")].on_duty_hours == 16.0
    assert both[("night", "SOUTHERN")].committed_hours == 0.0
    city = TimeBudgetOptions(timezone=TZ, units_per_shift=3)
    b = time_budget(_frame(calls), city)
    assert b.overall.on_duty_hours == 72.0
    assert {r.district: r.on_duty_hours for r in b.districts} == {
        "NORTHERN": None,
        "SOUTHERN": None,
        None: None,
    }


# Unit-level records (the synthetic city's shape).
UNITS: list[Call] = [
    ("a", False, "ALARM", "08:00", 30, True, "1A10", "NORTH"),
    ("b", False, "ALARM", "10:00", 60, True, "1A10", "NORTH"),
    ("c", True, "STOP", "12:00", 15, True, "1A10", "NORTH"),
    ("d", False, "ALARM", "09:00", 20, True, "1A11", "NORTH"),
    ("e", False, "ALARM", "09:30", 60, True, "1A11", "SOUTH"),
    ("f", False, "ALARM", "13:00", 30, True, "1A11", "SOUTH"),  # 1A11 mostly SOUTH
    ("g", True, "STOP", "14:00", 30, True, "2A20", "SOUTH"),
    ("h", False, "ALARM", "16:00", 40, True, "1A10", "NORTH"),  # evening
    ("i", False, "ANIMAL", "13:00", 5, False, None, "NORTH"),  # dispatched, no unit
]


def test_unit_level_hand_computed() -> None:
    b = time_budget(_frame(UNITS), TimeBudgetOptions(timezone=TZ))
    assert (b.method, b.on_duty_source) == ("unit", "seen-units")
    assert "85.7% of dispatched citizen calls carry a unit id" in b.method_reason
    assert b.inputs.unit_coverage == pytest.approx(6 / 7)
    assert (b.inputs.without_unit, b.inputs.committed_calls, b.inputs.proactive_calls) == (1, 6, 2)
    s = _by_shift(b)
    # day: 1A10 (NORTH), 1A11 (SOUTH: 2 of its 3 calls), 2A20 (SOUTH); evening: 1A10
    assert [(x.shift, x.unit_shifts, x.on_duty_hours) for x in b.shifts] == [
        ("day", 3, 24.0),
        ("evening", 1, 8.0),
        ("night", 0, 0.0),
    ]
    assert s["day"].committed_hours == pytest.approx(200 / 60)  # 30 + 60 + 20 + 60 + 30
    assert s["day"].proactive_hours == pytest.approx(0.75)  # 15 + 30
    assert s["night"].proactive_share is None  # nobody seen on duty
    d = {r.district: r for r in b.districts}
    # time is charged to the unit's district: 1A11's 20 minutes in NORTH count in SOUTH
    assert (d["NORTH"].unit_shifts, d["NORTH"].committed_hours) == (2, pytest.approx(130 / 60))
    assert (d["SOUTH"].unit_shifts, d["SOUTH"].committed_hours) == (2, pytest.approx(110 / 60))
    assert d["SOUTH"].proactive_hours == 0.5
    assert d["NORTH"].proactive_share == pytest.approx(1 - (130 / 60) / 14.4)
    o = b.overall
    assert (o.unit_shifts, o.on_duty_hours, o.committed_hours) == (4, 32.0, pytest.approx(4.0))
    assert o.proactive_share == pytest.approx(1 - 4 / 28.8)
    assert sum(r.committed_hours for r in b.districts) == pytest.approx(o.committed_hours)
    assert sum(r.on_duty_hours or 0 for r in b.shift_districts) == o.on_duty_hours


def test_unit_level_with_staffing_table() -> None:
    staffing = tuple(
        StaffingRow(shift=s, district=d, units=u)
        for d, per in (("NORTH", (2, 2, 1)), ("SOUTH", (3, 2, 1)))
        for s, u in zip(("day", "evening", "night"), per, strict=True)
    )
    b = time_budget(_frame(UNITS), TimeBudgetOptions(timezone=TZ, staffing=staffing))
    assert (b.method, b.on_duty_source) == ("unit", "staffing")
    assert b.overall.on_duty_hours == 8 * 11
    d = {r.district: r for r in b.districts}
    assert d["SOUTH"].on_duty_hours == 48.0
    assert d["SOUTH"].proactive_share == pytest.approx(1 - (110 / 60) / 43.2)


def test_method_choice() -> None:
    few = [(*c[:6], None, c[7]) if c[0] in "abdef" else c for c in UNITS]
    b = time_budget(_frame(few), TimeBudgetOptions(timezone=TZ))  # 1 of 6 with a unit
    assert b.method == "estimate"
    assert "fewer than 50%" in b.method_reason
    forced = time_budget(_frame(UNITS), TimeBudgetOptions(timezone=TZ, method="estimate"))
    assert forced.method == "estimate"
    assert forced.inputs.without_unit == 1  # no unit stage after dispatch
    no_ids = _frame(UNITS).with_columns(unit_id=pl.lit(None, dtype=pl.String))
    with pytest.raises(ValueError, match="needs unit ids"):
        time_budget(no_ids, TimeBudgetOptions(timezone=TZ, method="unit"))


def test_shift_of_boundaries() -> None:
    local = pl.Series(
        [
            datetime(2025, 9, 9, 6, 59, 59),
            datetime(2025, 9, 9, 7, 0),
            datetime(2025, 9, 9, 14, 59),
            datetime(2025, 9, 9, 15, 0),
            datetime(2025, 9, 9, 23, 0),
            datetime(2025, 9, 10, 0, 0),
        ]
    )
    frame = pl.DataFrame({"t": local})
    day, name = shift_of(pl.col("t"), BALTIMORE_SHIFTS)
    got = frame.select(day.alias("d"), name.alias("n")).rows()
    assert got == [
        (date(2025, 9, 8), "night"),
        (date(2025, 9, 9), "day"),
        (date(2025, 9, 9), "day"),
        (date(2025, 9, 9), "evening"),
        (date(2025, 9, 9), "night"),
        (date(2025, 9, 9), "night"),
    ]
    two = TimeBudgetOptions(
        shifts=(
            ShiftDefinition(name="nights", start=time(18), hours=12),
            ShiftDefinition(name="days", start=time(6), hours=12),
        )
    )
    assert [s.name for s in two.shifts] == ["days", "nights"]  # sorted by start
    day, name = shift_of(pl.col("t"), two.shifts)
    assert frame.select(name).to_series().to_list() == ["days"] * 4 + ["nights"] * 2


@pytest.mark.parametrize(
    ("day", "night_hours"),
    [(date(2025, 11, 1), 9.0), (date(2025, 3, 8), 7.0), (date(2025, 9, 9), 8.0)],
)
def test_clock_changes_lengthen_or_shorten_the_night(day: date, night_hours: float) -> None:
    options = TimeBudgetOptions(timezone=TZ, units_per_shift=1, start=day, end=day)
    b = time_budget(_frame([]), options)
    assert [r.on_duty_hours for r in b.shifts] == [8.0, 8.0, night_hours]


def test_invalid_shifts_and_staffing() -> None:
    with pytest.raises(ValidationError, match="cover 24 hours"):
        TimeBudgetOptions(shifts=(ShiftDefinition(name="d", start=time(7), hours=8),))
    with pytest.raises(ValidationError, match="'a' ends at 15:00 but the next one, 'b'"):
        TimeBudgetOptions(
            shifts=(
                ShiftDefinition(name="a", start=time(7), hours=8),
                ShiftDefinition(name="b", start=time(16), hours=16),
            )
        )
    with pytest.raises(ValidationError, match="unknown shift"):
        TimeBudgetOptions(staffing=(StaffingRow(shift="graveyard", units=3),))
    with pytest.raises(ValidationError, match="lacks shift"):
        TimeBudgetOptions(staffing=(StaffingRow(shift="day", units=3),))
    with pytest.raises(ValidationError, match="not both"):
        TimeBudgetOptions(
            units_per_shift=3,
            staffing=tuple(StaffingRow(shift=s.name, units=3) for s in BALTIMORE_SHIFTS),
        )
    with pytest.raises(ValidationError, match="every row or on none"):
        TimeBudgetOptions(
            staffing=(
                *(StaffingRow(shift=s.name, units=3) for s in BALTIMORE_SHIFTS),
                StaffingRow(shift="day", district="X", units=1),
            )
        )


def test_staffing_file(tmp_path: Path) -> None:
    good = tmp_path / "staffing.yaml"
    good.write_text(
        "schema_version: 1\n"
        "shifts:\n"
        "  - {name: days, start: '06:00', hours: 12}\n"
        "  - {name: nights, start: '18:00', hours: 12}\n"
        "units:\n"
        "  - {shift: days, units: 10}\n"
        "  - {shift: nights, units: 8}\n"
    )
    s = load_model(good, Staffing)
    assert [x.name for x in s.shifts] == ["days", "nights"]
    assert sum(r.units for r in s.units) == 18
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "schema_version: 1\nshifts:\n  - {name: all, start: 7:00, hours: 24}\nunits:\n"
        "  - {shift: all, units: 1}\n"
    )
    # YAML 1.1 reads an unquoted 7:00 as the base-60 number 420
    with pytest.raises(DataFileError, match=r"bad.yaml, line 3.*as text, e.g. '07:00'"):
        load_model(bad, Staffing)
    bad.write_text("schema_version: 2\nunits:\n  - {shift: day, units: 1}\n")
    with pytest.raises(DataFileError, match="schema_version 1, not 2"):
        load_model(bad, Staffing)


def test_records_cover_every_row() -> None:
    b = time_budget(_frame(UNITS), TimeBudgetOptions(timezone=TZ))
    records = budget_records(b)
    assert len(records) == 1 + len(b.shifts) + len(b.districts) + len(b.shift_districts)
    assert (records[0]["shift"], records[0]["district"]) == (None, None)
    assert set(records[0]) == set(BudgetRow.model_fields)


def test_bad_frame_is_refused() -> None:
    with pytest.raises(ValueError, match="received_at"):
        time_budget(pl.DataFrame({"x": [1]}))


def test_docs_staffing_example_loads(tmp_path: Path) -> None:
    """The staffing file shown in docs/response.md is valid and means what it says."""
    docs = Path(__file__).resolve().parents[2] / "docs" / "response.md"
    text = docs.read_text(encoding="utf-8")
    section = text[text.index("## Response-time metrics and the officer time budget") :]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "staffing.yaml"
    path.write_text(block, encoding="utf-8")
    staffing = load_model(path, Staffing)
    assert staffing.shifts == BALTIMORE_SHIFTS
    options = TimeBudgetOptions(
        staffing=staffing.units, start=date(2025, 9, 9), end=date(2025, 9, 9)
    )
    b = time_budget(_frame(UNITS).with_columns(district=pl.lit("NORTHERN")), options)
    assert b.overall.on_duty_hours == (6 + 7 + 5) * 8
