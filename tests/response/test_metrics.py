"""Response-time metrics (issue 5 item 1): hand-computed distributions, P1 compliance, quality."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smart_policing.response.metrics import (
    CSV_COLUMNS,
    DIMENSIONS,
    ResponseOptions,
    ResponseReport,
    breakdown_records,
    report_csv,
    response_report,
    write_csv,
)

TZ = "America/New_York"
NY = ZoneInfo(TZ)

# (id, agency, priority, officer-initiated, local received, district, code,
#  seconds to dispatch or None, seconds from received to arrival or None)
# Tuesday 2025-09-09 unless said otherwise.
Row = tuple[str, str, int | None, bool, datetime, str | None, str, int | None, int | None]
CALLS: list[Row] = [
    ("A", "POLICE", 1, False, datetime(2025, 9, 9, 10, 0), "NORTHERN", "ASSAULT", 60, 300),
    ("B", "POLICE", 1, False, datetime(2025, 9, 9, 10, 5), "NORTHERN", "ASSAULT", 120, 600),
    ("C", "POLICE", 1, False, datetime(2025, 9, 9, 11, 0), "SOUTHERN", "SHOOTING", 300, 900),
    ("D", "POLICE", 1, False, datetime(2025, 9, 9, 11, 30), None, "SHOOTING", 60, None),
    ("E", "POLICE", 1, False, datetime(2025, 9, 9, 12, 0), None, "SHOOTING", None, None),
    ("F", "POLICE", 1, False, datetime(2025, 9, 9, 12, 30), None, "ASSAULT", 60, -60),
    ("G", "POLICE", 2, False, datetime(2025, 9, 7, 23, 30), None, "LARCENY", 600, 900),
    ("H", "POLICE", 2, False, datetime(2025, 9, 9, 13, 0), None, "LARCENY", 90000, 90060),
    ("I", "POLICE", 2, True, datetime(2025, 9, 9, 13, 0), None, "TRAFFIC STOP", 0, 0),
    ("J", "FIRE", 1, False, datetime(2025, 9, 9, 13, 0), None, "FIRE", 30, 230),
    ("K", "POLICE", None, False, datetime(2025, 8, 31, 23, 30), None, "NOISE", 30, 120),
]


def _frame(calls: list[Row] = CALLS, *, with_intervals: bool = False) -> pl.DataFrame:
    rows = []
    for cid, agency, prio, own, local, district, code, to_disp, to_arr in calls:
        received = local.replace(tzinfo=NY)
        rows.append(
            {
                "call_id": cid,
                "agency": agency,
                "priority": prio,
                "self_initiated": own,
                "source_channel": "officer_initiated" if own else "911",
                "received_at": received,
                "dispatched_at": received + timedelta(seconds=to_disp)
                if to_disp is not None
                else None,
                "on_scene_at": received + timedelta(seconds=to_arr) if to_arr is not None else None,
                "district": district,
                "call_type_code": code,
            }
        )
    ts = pl.Datetime("us", "UTC")
    frame = pl.DataFrame(
        rows,
        schema={
            "call_id": pl.String,
            "agency": pl.String,
            "priority": pl.Int64,
            "self_initiated": pl.Boolean,
            "source_channel": pl.String,
            "received_at": ts,
            "dispatched_at": ts,
            "on_scene_at": ts,
            "district": pl.String,
            "call_type_code": pl.String,
        },
    )
    if with_intervals:
        s = "received_at", "dispatched_at", "on_scene_at"
        frame = frame.with_columns(
            call_to_dispatch_s=(pl.col(s[1]) - pl.col(s[0])).dt.total_seconds().cast(pl.Float64),
            dispatch_to_arrival_s=(pl.col(s[2]) - pl.col(s[1])).dt.total_seconds().cast(pl.Float64),
            call_to_arrival_s=(pl.col(s[2]) - pl.col(s[0])).dt.total_seconds().cast(pl.Float64),
        ).drop("dispatched_at", "on_scene_at")
    return frame


@pytest.fixture
def report() -> ResponseReport:
    return response_report(_frame(), ResponseOptions(timezone=TZ))


def test_hand_computed_distributions(report: ResponseReport) -> None:
    i = report.inputs
    assert (i.calls, i.agency_calls, i.officer_initiated, i.measured) == (11, 10, 1, 9)
    assert [(a.agency, a.calls) for a in i.other_agencies] == [("FIRE", 1)]
    o = report.overall
    assert o.calls == 9
    # call-to-dispatch usable: 30 60 60 60 120 300 600 s (E missing, H above 24 h)
    # p90: h = 6 x 0.9 = 5.4 -> 300 + 0.4 x (600 - 300) = 420 s
    d = o.call_to_dispatch
    assert (d.n, d.median_min, d.p90_min) == (7, 1.0, pytest.approx(7.0))
    assert d.mean_min == pytest.approx(1230 / 7 / 60)
    # dispatch-to-arrival usable: 60 90 240 300 480 600 (D, E missing; F negative)
    # median (240 + 300) / 2 = 270 s; p90: h = 4.5 -> 480 + 0.5 x 120 = 540 s
    d = o.dispatch_to_arrival
    assert (d.n, d.median_min, d.p90_min) == (6, 4.5, pytest.approx(9.0))
    assert d.mean_min == pytest.approx(1770 / 6 / 60)
    # call-to-arrival usable: 120 300 600 900 900 (F negative, H above the limit)
    # p90: h = 3.6 -> 900 + 0.6 x 0 = 900 s
    d = o.call_to_arrival
    assert (d.n, d.median_min, d.p90_min, d.mean_min) == (5, 10.0, 15.0, pytest.approx(9.4))


def test_percentiles_match_numpy_linear(report: ResponseReport) -> None:
    """The stated definition (Hyndman & Fan 7) is NumPy's default."""
    ctd = np.array([30, 60, 60, 60, 120, 300, 600]) / 60
    assert report.overall.call_to_dispatch.p90_min == pytest.approx(np.quantile(ctd, 0.9))


def test_p1_within_target_numerator_denominator_and_never_reached(
    report: ResponseReport,
) -> None:
    p = report.overall.highest_priority
    # A (5 min) and B (exactly 10 min) met, C (15) not; D dispatched, never arrived;
    # E never dispatched; F arrives before the call: unusable
    assert (p.calls, p.reached, p.within_target) == (6, 3, 2)
    assert p.share_within_target == pytest.approx(2 / 3)
    assert (p.never_reached, p.never_dispatched, p.unusable) == (2, 1, 1)
    looser = response_report(_frame(), ResponseOptions(timezone=TZ, target_min=15)).overall
    assert looser.highest_priority.within_target == 3
    p2 = response_report(_frame(), ResponseOptions(timezone=TZ, highest_priority=2)).overall
    c = p2.highest_priority
    assert (c.priority, c.calls, c.reached, c.within_target, c.unusable) == (2, 2, 1, 0, 1)
    assert c.share_within_target == 0.0


def test_data_quality_counts(report: ResponseReport) -> None:
    q = {x.interval: x for x in report.quality}
    assert set(q) == {"call_to_dispatch_s", "dispatch_to_arrival_s", "call_to_arrival_s"}
    got = {k: (v.calls, v.usable, v.missing, v.negative, v.above_limit) for k, v in q.items()}
    assert got == {
        "call_to_dispatch_s": (9, 7, 1, 0, 1),
        "dispatch_to_arrival_s": (9, 6, 2, 1, 0),
        "call_to_arrival_s": (9, 5, 2, 1, 1),
    }
    assert q["call_to_arrival_s"].share_missing == pytest.approx(2 / 9)
    assert q["dispatch_to_arrival_s"].limit_s == 12 * 3600
    for v in q.values():  # every measured call is in exactly one bucket
        assert v.usable + v.missing + v.negative + v.above_limit == v.calls


def test_interval_columns_and_timestamps_agree(report: ResponseReport) -> None:
    from_columns = response_report(_frame(with_intervals=True), ResponseOptions(timezone=TZ))
    assert from_columns.overall == report.overall
    assert from_columns.quality == report.quality
    assert from_columns.breakdowns == report.breakdowns


def test_breakdowns_local_time_and_order(report: ResponseReport) -> None:
    assert {r.by for r in report.breakdowns} == set(DIMENSIONS)
    prio = report.breakdown("priority")
    assert [(r.key, r.calls) for r in prio] == [("1", 6), ("2", 2), (None, 1)]
    assert prio[0].highest_priority.within_target == 2
    assert prio[1].highest_priority.calls == 0
    assert prio[1].highest_priority.share_within_target is None
    # G: Sunday 23:30 local (Monday 03:30 UTC); K: Sunday 31 August 23:30 local (1 September UTC)
    assert [(r.key, r.calls) for r in report.breakdown("weekday")] == [("tue", 7), ("sun", 2)]
    hours = {r.key: r.calls for r in report.breakdown("hour")}
    assert hours == {"10": 2, "11": 2, "12": 2, "13": 1, "23": 2}
    assert [(r.key, r.calls) for r in report.breakdown("month")] == [("2025-08", 1), ("2025-09", 8)]
    north = report.breakdown("district")[0]
    assert (north.key, north.calls, north.call_to_arrival.median_min) == ("NORTHERN", 2, 7.5)
    assert report.breakdown("district")[-1].key is None
    for by in DIMENSIONS:
        rows = report.breakdown(by)
        assert sum(r.calls for r in rows) == report.overall.calls
        assert sum(r.call_to_arrival.n for r in rows) == report.overall.call_to_arrival.n
        assert sum(r.highest_priority.never_reached for r in rows) == 2


def test_agency_and_officer_initiated_options() -> None:
    fire = response_report(_frame(), ResponseOptions(timezone=TZ, agencies=("fire",)))
    assert (fire.inputs.measured, fire.overall.call_to_arrival.median_min) == (1, 230 / 60)
    assert [(a.agency, a.calls) for a in fire.inputs.other_agencies] == [("POLICE", 10)]
    every = response_report(_frame(), ResponseOptions(timezone=TZ, agencies=None))
    assert (every.inputs.measured, every.inputs.other_agencies) == (10, ())
    own = response_report(_frame(), ResponseOptions(timezone=TZ, include_officer_initiated=True))
    assert own.inputs.measured == 10
    assert own.overall.call_to_dispatch.n == 8  # I's zero wait is usable
    # an export without the agency column: every call is measured
    no_agency = response_report(_frame().drop("agency"), ResponseOptions(timezone=TZ))
    assert (no_agency.inputs.measured, no_agency.inputs.no_agency_calls) == (10, 11)


def test_empty_frame_and_bad_input() -> None:
    empty = response_report(_frame().clear(), ResponseOptions(timezone=TZ))
    assert empty.overall.calls == 0
    assert empty.overall.call_to_arrival.median_min is None
    assert empty.overall.highest_priority.share_within_target is None
    assert empty.breakdowns == ()
    with pytest.raises(ValueError, match="received_at"):
        response_report(pl.DataFrame({"x": [1]}))
    with pytest.raises(ValueError, match=r"dispatch_to_arrival_s .*, call_to_arrival_s"):
        response_report(_frame().drop("on_scene_at"))
    with pytest.raises(ValueError, match="time zone"):
        ResponseOptions(timezone="Mars/Olympus")


def test_csv_export(report: ResponseReport, tmp_path: Path) -> None:
    n = write_csv(report, tmp_path / "r.csv")
    with (tmp_path / "r.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert n == len(rows) == 1 + len(report.breakdowns)
    assert tuple(rows[0]) == CSV_COLUMNS
    assert (rows[0]["by"], rows[0]["key"], rows[0]["calls"]) == ("all", "", "9")
    assert float(rows[0]["call_to_dispatch_p90_min"]) == report.overall.call_to_dispatch.p90_min
    assert rows[0]["p1_within_target"] == "2"
    assert (tmp_path / "r.csv").read_text(encoding="utf-8") == report_csv(report)
    p2 = next(r for r in rows if r["by"] == "priority" and r["key"] == "2")
    assert p2["p1_share_within_target"] == ""  # no priority-1 call: empty cell
    assert len(breakdown_records(report)) == n


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.integers(min_value=-3600, max_value=30 * 3600)),
        min_size=1,
        max_size=40,
    )
)
def test_distribution_matches_a_plain_reference(values: list[int | None]) -> None:
    """Any mix of missing, negative, plausible and extreme call-to-arrival times: the
    usable ones, and only they, make the distribution (NumPy linear percentiles)."""
    base = datetime(2025, 9, 9, 10, 0)
    calls: list[Row] = [
        (str(k), "POLICE", 1, False, base, None, "X", 0, v) for k, v in enumerate(values)
    ]
    r = response_report(_frame(calls), ResponseOptions(timezone=TZ))
    usable = [v for v in values if v is not None and 0 <= v <= 24 * 3600]
    d, p = r.overall.call_to_arrival, r.overall.highest_priority
    assert d.n == len(usable)
    if usable:
        x = np.array(usable) / 60
        assert d.median_min == pytest.approx(np.median(x))
        assert d.p90_min == pytest.approx(np.quantile(x, 0.9))
        assert d.mean_min == pytest.approx(x.mean())
    assert p.reached == len(usable)
    assert p.within_target == sum(v <= 600 for v in usable)
    assert p.never_reached == sum(v is None for v in values)
    assert p.reached + p.never_reached + p.unusable == p.calls == len(values)


def test_call_to_arrival_histogram_by_priority() -> None:
    """Usable call-to-arrival in 5-minute bins up to 10 minutes, then one open bin:
    P1 A 5 min, B 10 min, C 15 min (F negative is out); P2 G 15 min (H above the limit
    is out); K (no priority) 2 min. Every bin of every priority is listed."""
    options = ResponseOptions(timezone=TZ, histogram_bin_min=5, histogram_max_min=10)
    bins = response_report(_frame(), options).histogram
    got = [(b.priority, b.start_min, b.end_min, b.calls) for b in bins]
    assert got == [
        ("1", 0.0, 5.0, 0),
        ("1", 5.0, 10.0, 1),
        ("1", 10.0, None, 2),
        ("2", 0.0, 5.0, 0),
        ("2", 5.0, 10.0, 0),
        ("2", 10.0, None, 1),
        (None, 0.0, 5.0, 1),
        (None, 5.0, 10.0, 0),
        (None, 10.0, None, 0),
    ]
    usable = response_report(_frame(), ResponseOptions(timezone=TZ)).overall.call_to_arrival.n
    assert sum(b.calls for b in bins) == usable
