"""Diversion what-if (issue 4 item 5): ``triage.replay`` and ``triage replay``."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from smart_policing.cli import app
from smart_policing.data.importer import import_file
from smart_policing.data.mapping import builtin_mapping
from smart_policing.triage.pack import builtin_pack
from smart_policing.triage.replay import (
    BREAKDOWNS,
    ReplayOptions,
    ReplayReport,
    read_csv,
    replay,
    report_csv_rows,
    write_csv,
)
from smart_policing.triage.replay_cli import load_calls, read_calls_file

runner = CliRunner()
TZ = "America/New_York"
BALTIMORE = builtin_pack("baltimore-smart-2022")
MINNEAPOLIS = builtin_pack("minneapolis-2020-pilots")

HEADER = [
    "Master_Incident_Number",
    "Agency",
    "Problem",
    "Priority_Number",
    "Call_Reception",
    "Incident_Start_Time",
    "Incident_Queue_Time",
    "Incident_Dispatch_Time",
    "TimeFirstUnitDispatchAcknowledged",
    "Incident_Enroute_Time",
    "Incident_Arrival_Time",
    "Incident_First_Close_Time",
    "Final_Closed_Time",
    "Disposition",
    "Shift",
    "Call_Taker",
    "Dispatcher",
    "Call_Reopened",
]

# (id, agency, code, reception, local start, minutes from dispatch to clear or None)
# Tue 2025-09-09 and Sun 2025-09-07, local time (America/New_York). Dispatch is one
# minute after the start. Expected under baltimore-smart-2022 in the comments.
CALLS: list[tuple[str, str, str, str, str, float | None]] = [
    ("P1", "POLICE", "LARCENY RESIDENTIAL DELAY", "Phone", "2025-09-09 10:00", 30),  # tru
    ("P2", "POLICE", "LARCENY RESIDENTIAL DELAY", "Phone", "2025-09-07 10:00", 60),  # online
    ("P3", "POLICE", "MVC PROPERTY DAMAGE", "E-911", "2025-09-09 14:00", 45),  # vendor
    ("P4", "POLICE", "MVC PROPERTY DAMAGE", "E-911", "2025-09-09 23:30", 90),  # patrol
    ("P5", "POLICE", "ASSAULT NO INJURY IN PROG", "E-911", "2025-09-09 10:00", 120),  # patrol
    ("P6", "POLICE", "ANIMAL STRAY", "Phone", "2025-09-09 11:00", None),  # 311, median 30
    ("P7", "POLICE", "ANIMAL STRAY", "Phone", "2025-09-09 11:10", 20),  # 311
    ("P8", "POLICE", "ANIMAL STRAY", "Phone", "2025-09-09 11:20", 40),  # 311
    ("P9", "POLICE", "MENTAL HEALTH CASE", "E-911", "2025-09-09 10:00", 300),  # crisis team
    ("P10", "POLICE", "MENTAL HEALTH CASE", "E-911", "2025-09-09 12:00", -5),  # median 300
    ("P11", "POLICE", "MADE UP CODE", "Phone", "2025-09-09 10:00", 10),  # unmapped
    ("P12", "POLICE", "LARCENY RESIDENTIAL DELAY", "Officer", "2025-09-09 10:00", 60),  # own
    ("F1", "FIRE", "HAZARD", "E-911", "2025-09-09 10:00", 15),  # stays with fire
    ("E1", "EMS", "PUBLIC SERVICE EMS", "E-911", "2025-09-09 10:00", 15),  # stays with EMS
]


def _stamp(local: str, minutes: float) -> str:
    ts = pl.Series([local]).str.to_datetime("%Y-%m-%d %H:%M") + pl.duration(
        seconds=round(minutes * 60)
    )
    return str(pl.select(ts.dt.strftime("%Y-%m-%d %H:%M:%S.000")).item())


def _write_cad(path: Path, calls: list[tuple[str, str, str, str, str, float | None]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for cid, agency, code, reception, start, minutes in calls:
            dispatch = _stamp(start, 1)
            cleared = _stamp(start, 1 + minutes) if minutes is not None else ""
            w.writerow(
                [
                    cid,
                    agency,
                    code,
                    "2",
                    reception,
                    _stamp(start, 0),
                    _stamp(start, 0.5),
                    dispatch,
                    dispatch,
                    dispatch,
                    "",
                    cleared,
                    cleared,
                    "RE-Report",
                    "A",
                    "staff-1",
                    "staff-2",
                    "0",
                ]
            )
    return path


@pytest.fixture
def cad_file(tmp_path: Path) -> Path:
    return _write_cad(tmp_path / "cad.csv", CALLS)


@pytest.fixture
def frame(cad_file: Path) -> pl.DataFrame:
    calls, rejected = read_calls_file(cad_file, timezone=TZ)
    assert rejected == 0
    return calls


def _by_responder(report: ReplayReport) -> dict[str, tuple[int, float]]:
    return {
        r.responder: (r.calls, round(r.officer_hours_moved, 6))
        for r in report.result.responders
        if r.calls
    }


def test_hand_computed_calls_and_officer_hours(frame: pl.DataFrame) -> None:
    report = replay(frame, BALTIMORE)
    i = report.inputs
    assert (i.calls, i.routed_calls, i.replayed, i.officer_initiated) == (14, 12, 10, 1)
    assert [(a.agency, a.calls) for a in i.other_agencies] == [("EMS", 1), ("FIRE", 1)]
    assert [(u.agency, u.code, u.calls) for u in i.unmapped] == [("POLICE", "MADE UP CODE", 1)]
    # P6 (no clear time) and P10 (cleared before dispatch) take their type's median
    assert (i.officer_time.measured_calls, i.officer_time.fallback_calls) == (8, 2)
    assert _by_responder(report) == {
        "tru": (1, 0.5),
        "online": (1, 1.0),
        "traffic-vendor": (1, 0.75),
        "patrol": (2, 0.0),
        "city-311": (3, 1.5),  # 30 (median of 20 and 40) + 20 + 40 minutes
        "crisis-team": (2, 10.0),  # 300 + 300 (median) minutes
    }
    r = report.result
    assert r.diverted_calls == 8
    assert r.officer_hours == pytest.approx(13.75 + 3.5)  # patrol keeps 1.5 + 2 hours
    assert r.officer_hours_moved == pytest.approx(13.75)
    assert r.share_diverted == pytest.approx(8 / 10)
    assert r.share_of_routed_diverted == pytest.approx(8 / 12)
    rules = {x.rule: x.calls for x in r.rules}
    assert rules["crash-to-vendor"] == 2  # P4 falls back to patrol at 23:30 (vendor closed)
    assert rules["danger-to-patrol"] == 1


def test_breakdowns_by_hour_weekday_and_call_type(frame: pl.DataFrame) -> None:
    r = replay(frame, BALTIMORE).result
    assert set(BREAKDOWNS) == {x.by for x in r.breakdowns}
    sun = [x for x in r.breakdown("weekday") if x.key == "sun"]
    assert [(x.responder, x.calls, x.officer_hours_moved) for x in sun] == [("online", 1, 1.0)]
    assert [x.key for x in r.breakdown("weekday")][:1] == ["tue"]  # weekday order, not a-z
    h23 = [(x.responder, x.calls) for x in r.breakdown("hour") if x.key == "23"]
    assert h23 == [("patrol", 1)]
    animal = [x for x in r.breakdown("call-type") if x.key == "animal"]
    assert [(x.responder, x.calls, x.officer_hours_moved) for x in animal] == [
        ("city-311", 3, pytest.approx(1.5))
    ]
    for by in BREAKDOWNS:
        rows = r.breakdown(by)
        assert sum(x.calls for x in rows) == r.calls
        assert sum(x.officer_hours_moved for x in rows) == pytest.approx(r.officer_hours_moved)
    assert {x.key for x in r.breakdown("district")} == {None}  # the export has no district
    assert {x.key for x in r.breakdown("priority")} == {"2"}


def test_officer_initiated_included_on_request(frame: pl.DataFrame) -> None:
    report = replay(frame, BALTIMORE, options=ReplayOptions(include_officer_initiated=True))
    assert report.inputs.replayed == 11
    assert _by_responder(report)["tru"] == (2, 1.5)  # P12 (Tue 10:00, 60 min) joins P1


def test_availability_sends_calls_down_the_chain(frame: pl.DataFrame) -> None:
    report = replay(frame, BALTIMORE, options=ReplayOptions(availability={"crisis-team": 0}))
    by = _by_responder(report)
    assert "crisis-team" not in by
    assert by["patrol"] == (4, 0.0)
    with pytest.raises(KeyError, match="nobody"):
        replay(frame, BALTIMORE, options=ReplayOptions(availability={"nobody": 1}))


def test_two_pack_comparison(frame: pl.DataFrame) -> None:
    report = replay(frame, BALTIMORE, compare=MINNEAPOLIS)
    cmp = report.comparison
    assert report.compare is not None
    assert cmp is not None
    assert sum(t.calls for t in cmp.transitions) == report.inputs.replayed
    moved = {(t.base, t.other): t.calls for t in cmp.transitions if t.base != t.other}
    assert cmp.changed_calls == sum(moved.values())
    assert moved[("traffic-vendor", "patrol")] == 1  # Minneapolis has no crash vendor
    assert moved[("crisis-team", "mh-team")] == 2
    assert moved[("city-311", "patrol")] == 3  # stray animals are not diverted there
    for r, side in ((report.result, "base"), (report.compare, "other")):
        counts: dict[str, int] = {}
        for t in cmp.transitions:
            key = getattr(t, side)
            counts[key] = counts.get(key, 0) + t.calls
        assert counts == {x.responder: x.calls for x in r.responders if x.calls}
    same = replay(frame, BALTIMORE, compare=BALTIMORE).comparison
    assert same is not None
    assert same.changed_calls == 0


def test_csv_round_trip(frame: pl.DataFrame, tmp_path: Path) -> None:
    report = replay(frame, BALTIMORE, compare=MINNEAPOLIS)
    n = write_csv(report, tmp_path / "out.csv")
    back = read_csv(tmp_path / "out.csv")
    assert n == len(back)
    assert back == report_csv_rows(report)
    assert {r.pack for r in back} == {BALTIMORE.name, MINNEAPOLIS.name}
    assert any(r.key is None for r in back)  # district: empty cell, read back as None
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="expected columns"):
        read_csv(tmp_path / "bad.csv")


def test_frame_without_required_columns_is_refused() -> None:
    with pytest.raises(ValueError, match="call_type_code"):
        replay(pl.DataFrame({"received_at": []}), BALTIMORE)


def test_from_db_matches_the_file(engine: Engine, cad_file: Path, frame: pl.DataFrame) -> None:
    import_file(engine, cad_file, builtin_mapping("cad"), timezone=TZ)
    stored = load_calls(engine, timezone=TZ)
    assert stored.height == len(CALLS)
    from_db, from_file = replay(stored, BALTIMORE), replay(frame, BALTIMORE)
    assert from_db.result == from_file.result
    sunday = load_calls(engine, start=date(2025, 9, 7), end=date(2025, 9, 7), timezone=TZ)
    assert sunday.get_column("call_id").to_list() == ["P2"]
    assert load_calls(engine, start=date(2025, 9, 10), timezone=TZ).height == 0


def test_cli_replay_file_and_from_db(engine: Engine, cad_file: Path, tmp_path: Path) -> None:
    db = engine.url.render_as_string(hide_password=False)
    result = runner.invoke(
        app,
        ["--db", db, "--json", "triage", "replay", "--pack", BALTIMORE.name, str(cad_file)],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["result"]["officer_hours_moved"] == pytest.approx(13.75)
    import_file(engine, cad_file, builtin_mapping("cad"), timezone=TZ)
    out_csv = tmp_path / "r.csv"
    args = ["--db", db, "--json", "triage", "replay", "--pack", BALTIMORE.name, "--from-db"]
    result = runner.invoke(app, [*args, "--compare", MINNEAPOLIS.name, "--csv", str(out_csv)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["result"]["diverted_calls"] == 8
    assert doc["comparison"]["other"] == MINNEAPOLIS.name
    assert len(read_csv(out_csv)) > 0
    # only Sunday 7 September (local): P2, diverted online
    result = runner.invoke(app, [*args, "--start", "2025-09-07", "--end", "2025-09-07"])
    doc = json.loads(result.stdout)
    assert (doc["inputs"]["calls"], doc["result"]["diverted_calls"]) == (1, 1)
    # human output with a breakdown
    result = runner.invoke(
        app, ["--db", db, "triage", "replay", "--pack", BALTIMORE.name, "--from-db", "--by", "hour"]
    )
    assert result.exit_code == 0, result.output
    assert "by hour" in result.stdout


@pytest.mark.parametrize(
    "extra",
    [
        [],  # neither FILE nor --from-db
        ["--from-db", "FILE"],
        ["FILE", "--by", "street"],
        ["FILE", "--format", "baltimore-part1"],
        ["FILE", "--compare", "no-such-pack"],
        ["FILE", "--availability", "AVAIL"],
        ["MISSING"],
    ],
)
def test_cli_unusable_input_exits_2(extra: list[str], cad_file: Path, tmp_path: Path) -> None:
    avail = tmp_path / "a.json"
    avail.write_text('{"nobody": 0}')
    names = {"FILE": str(cad_file), "AVAIL": str(avail), "MISSING": str(tmp_path / "x.csv")}
    args = [names.get(a, a) for a in extra]
    db = f"sqlite:///{tmp_path / 'x.db'}"
    result = runner.invoke(app, ["--db", db, "triage", "replay", "--pack", BALTIMORE.name, *args])
    assert result.exit_code == 2, result.output


@pytest.mark.realdata
def test_baltimore_pack_on_the_real_cad_sample(real_file: Callable[[str], Path]) -> None:
    """The Baltimore SMART 2022 pack on the real CAD export (2025-08-24 to 2025-11-29).

    22,147 calls: 14,589 police; EMS 5,123 and FIRE 2,435 stay with their agency;
    every code mapped (cad-2025); 2,499 officer-initiated police calls not replayed;
    12,090 replayed. Officer time measured for 11,890 calls, call-type median for 200;
    median 32.2 minutes.

    ==============  ======  ======  ===================
    responder        calls   share  officer-hours moved
    ==============  ======  ======  ===================
    patrol           9,858   81.5%                  0.0
    tru                544    4.5%              1,317.3
    traffic-vendor     518    4.3%                702.0
    city-311           498    4.1%                 47.2
    crisis-team        459    3.8%                793.8
    online             213    1.8%                526.0
    all             12,090  100.0%              3,386.4
    ==============  ======  ======  ===================

    2,232 calls with no officer: 18.5% of the replayed calls, 15.3% of all police
    calls; 3,386.4 of 14,596.0 officer-hours (23.2%) moved off patrol in 14 weeks.
    """
    calls, rejected = read_calls_file(real_file("cad/cad_2025_weeks35-48.csv.gz"), timezone=TZ)
    assert (calls.height, rejected) == (22147, 0)
    report = replay(calls, BALTIMORE)
    i, r = report.inputs, report.result
    assert (i.routed_calls, i.officer_initiated, i.replayed, i.unmapped_calls) == (
        14589,
        2499,
        12090,
        0,
    )
    assert {(a.agency, a.calls) for a in i.other_agencies} == {("EMS", 5123), ("FIRE", 2435)}
    assert (i.officer_time.measured_calls, i.officer_time.fallback_calls) == (11890, 200)
    assert {x.responder: x.calls for x in r.responders if x.calls} == {
        "patrol": 9858,
        "tru": 544,
        "traffic-vendor": 518,
        "city-311": 498,
        "crisis-team": 459,
        "online": 213,
    }
    moved = {x.responder: round(x.officer_hours_moved, 1) for x in r.responders if x.calls}
    assert moved == {
        "patrol": 0.0,
        "tru": 1317.3,
        "traffic-vendor": 702.0,
        "city-311": 47.2,
        "crisis-team": 793.8,
        "online": 526.0,
    }
    assert r.diverted_calls == 2232
    assert round(r.officer_hours_moved, 1) == 3386.4
    assert round(r.officer_hours, 1) == 14596.0
    assert round(r.share_diverted, 3) == 0.185
    assert round(r.share_of_routed_diverted, 3) == 0.153


def test_officer_sent_is_the_replay_per_call() -> None:
    """The per-call form agrees with the replay's totals and keeps set-aside calls."""
    from smart_policing.triage.replay import officer_sent
    from smart_policing.triage.vocabulary import builtin_map

    rows = [
        # a larceny report on a Tuesday morning: TRU hours
        ("POLICE", "LARCENY REPORT", "2025-09-09 10:00"),
        ("POLICE", "SHOOTING", "2025-09-09 10:05"),
        ("FIRE", "STRUCTURE FIRE", "2025-09-09 10:06"),
        ("POLICE", "NO SUCH CODE", "2025-09-09 10:07"),
        ("POLICE", "ACCIDENT PROPERTY DAMAGE", "2025-09-09 11:00"),
        ("POLICE", "SHOOTING", "2025-09-09 12:00"),
    ]
    frame = pl.DataFrame(
        {
            "agency": [a for a, _, _ in rows],
            "call_type_code": [c for _, c, _ in rows],
            "received_at": [t for _, _, t in rows],
        }
    ).with_columns(pl.col("received_at").str.to_datetime("%Y-%m-%d %H:%M").dt.replace_time_zone(TZ))
    synthetic = builtin_map("synthetic-city")
    sent = officer_sent(frame, BALTIMORE, agency_map=synthetic)
    assert sent.name == "officer_sent"
    assert sent.len() == frame.height
    # shootings keep their officer; the fire call and the unmapped code are set aside (kept)
    assert sent.to_list()[1:4] == [True, True, True]
    assert sent[5]
    assert sent.to_list() == [False, True, True, True, False, True]
    report = replay(frame, BALTIMORE, agency_map=synthetic)
    assert int((~sent).sum()) == report.result.diverted_calls == 2
