"""``smart-policing response report`` (issue 5 item 1): CAD file, stored calls, options, errors."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from smart_policing.cli import app
from smart_policing.data.importer import import_file
from smart_policing.data.mapping import builtin_mapping
from smart_policing.response.metrics import CSV_COLUMNS, ResponseOptions, response_report
from smart_policing.response.report_cli import parse_shifts
from smart_policing.response.timebudget import TimeBudgetOptions, time_budget
from smart_policing.store.calls import RESPONSE_COLUMNS, load_response_calls
from smart_policing.triage.replay_cli import read_calls_file

runner = CliRunner()
TZ = "America/New_York"

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
    "Primary_Unit",
    "District",
]

# (id, agency, code, priority, reception, local start on Tue 2025-09-09, minutes from
#  the start to dispatch, to arrival (None: never), to clear, unit, district)
CALLS = [
    ("P1", "POLICE", "ASSAULT", 1, "E-911", "10:00", 1, 6, 31, "1A10", "NORTHERN"),
    ("P2", "POLICE", "ASSAULT", 1, "E-911", "11:00", 2, 14, 62, "1A11", "NORTHERN"),
    ("P3", "POLICE", "ASSAULT", 1, "E-911", "12:00", 1, None, 11, "1A11", "NORTHERN"),
    ("P4", "POLICE", "LARCENY", 2, "Phone", "13:00", 5, 20, 45, "2A20", "SOUTHERN"),
    ("O1", "POLICE", "TRAFFIC STOP", 2, "Officer", "09:00", 0, 0, 20, "1A10", "NORTHERN"),
    ("F1", "FIRE", "FIRE ALARM", 1, "E-911", "10:00", 1, 5, 30, "E1", "NORTHERN"),
]


def _stamp(local: str, minutes: float) -> str:
    hh, mm = (int(x) for x in local.split(":"))
    total = hh * 60 + mm + minutes
    return f"2025-09-09 {int(total // 60):02d}:{int(total % 60):02d}:00.000"


@pytest.fixture
def cad_file(tmp_path: Path) -> Path:
    path = tmp_path / "cad.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for cid, agency, code, prio, reception, start, disp, arr, clear, unit, dist in CALLS:
            dispatch = _stamp(start, disp)
            arrival = _stamp(start, arr) if arr is not None else ""
            w.writerow(
                [
                    cid,
                    agency,
                    code,
                    prio,
                    reception,
                    _stamp(start, 0),
                    _stamp(start, 0),
                    dispatch,
                    dispatch,
                    dispatch,
                    arrival,
                    _stamp(start, clear),
                    _stamp(start, clear),
                    "RE-Report",
                    "A",
                    "staff-1",
                    "staff-2",
                    "0",
                    unit,
                    dist,
                ]
            )
    return path


def _run(*args: str, db: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db, "--timezone", TZ, *args])
    return result.exit_code, result.stdout, result.stderr


def _db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_json_from_file(cad_file: Path, tmp_path: Path) -> None:
    code, stdout, stderr = _run("response", "report", str(cad_file), "--json", db=_db(tmp_path))
    assert code == 0, stderr
    doc = json.loads(stdout)
    r, b = doc["response"], doc["time_budget"]
    assert r["inputs"]["measured"] == 4
    assert r["inputs"]["officer_initiated"] == 1
    assert r["inputs"]["other_agencies"] == [{"agency": "FIRE", "calls": 1}]
    o = r["overall"]
    assert o["call_to_dispatch"]["median_min"] == 1.5  # 1 1 2 5
    assert o["call_to_arrival"]["median_min"] == 14.0  # 6 14 20; P3 never reached
    p1 = o["highest_priority"]
    assert (p1["calls"], p1["reached"], p1["within_target"], p1["never_reached"]) == (3, 2, 1, 1)
    assert p1["share_within_target"] == 0.5
    # unit-level: 1A10 and 1A11 (NORTHERN), 2A20 (SOUTHERN) on the day shift of the 9th
    assert b["method"] == "unit"
    assert b["on_duty_source"] == "seen-units"
    assert b["overall"]["on_duty_hours"] == 24.0
    assert b["overall"]["committed_hours"] == pytest.approx((30 + 60 + 10 + 40) / 60)
    assert b["overall"]["proactive_hours"] == pytest.approx(20 / 60)
    assert {d["district"]: d["unit_shifts"] for d in b["districts"]} == {
        "NORTHERN": 2.0,
        "SOUTHERN": 1.0,
    }


def test_options_reach_the_core(cad_file: Path, tmp_path: Path) -> None:
    db = _db(tmp_path)
    args = ["response", "report", str(cad_file), "--json"]
    code, stdout, _ = _run(*args, "--target-min", "15", db=db)
    assert json.loads(stdout)["response"]["overall"]["highest_priority"]["within_target"] == 2
    code, stdout, _ = _run(*args, "--agency", "FIRE", db=db)
    assert json.loads(stdout)["response"]["overall"]["call_to_arrival"]["median_min"] == 5.0
    code, stdout, _ = _run(*args, "--agency", "all", "--include-officer-initiated", db=db)
    assert json.loads(stdout)["response"]["inputs"]["measured"] == 6
    code, stdout, _ = _run(
        *args,
        "--method",
        "estimate",
        "--units-per-shift",
        "2",
        "--units-per-call",
        "2",
        "--admin-allowance",
        "0.25",
        db=db,
    )
    assert code == 0
    b = json.loads(stdout)["time_budget"]
    assert (b["method"], b["on_duty_source"]) == ("estimate", "units-per-shift")
    day = b["shifts"][0]
    assert (day["shift"], day["on_duty_hours"], day["available_hours"]) == ("day", 16.0, 12.0)
    assert day["committed_hours"] == pytest.approx(2 * 140 / 60)
    assert day["proactive_share"] == pytest.approx(1 - (280 / 60) / 12)
    code, stdout, _ = _run(*args, "--shifts", "days=06:00/12,nights=18:00/12", db=db)
    assert [s["shift"] for s in json.loads(stdout)["time_budget"]["shifts"]] == ["days", "nights"]
    code, stdout, _ = _run(*args, "--start", "2025-09-10", db=db)
    assert json.loads(stdout)["response"]["inputs"]["calls"] == 0


def test_human_output_and_csv(cad_file: Path, tmp_path: Path) -> None:
    out_csv = tmp_path / "r.csv"
    staffing = tmp_path / "staffing.yaml"
    staffing.write_text(
        "schema_version: 1\nunits:\n"
        + "".join(
            f"  - {{shift: {s}, district: {d}, units: 2}}\n"
            for d in ("NORTHERN", "SOUTHERN")
            for s in ("day", "evening", "night")
        )
    )
    code, stdout, stderr = _run(
        "response",
        "report",
        str(cad_file),
        "--by",
        "district",
        "--by",
        "hour",
        "--staffing",
        str(staffing),
        "--csv",
        str(out_csv),
        db=_db(tmp_path),
    )
    assert code == 0, stderr
    for text in (
        "response times",
        "priority 1 within 10 min: 1 of 2 reached (50.0%)",
        "by district",
        "by hour",
        "data quality",
        "time budget: unit",
        "time budget by district",
    ):
        assert text in stdout
    assert "by priority" not in stdout
    with out_csv.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert {r["by"] for r in rows} == {"all", "priority", "district", "hour", "weekday"} | {
        "call_type",
        "month",
    }
    assert next(r for r in rows if r["by"] == "district" and r["key"] == "SOUTHERN")["calls"] == "1"


def test_from_db_matches_the_file(engine: Engine, cad_file: Path) -> None:
    import_file(engine, cad_file, builtin_mapping("cad"), timezone=TZ)
    stored = load_response_calls(engine, timezone=TZ)
    assert stored.columns == list(RESPONSE_COLUMNS)
    assert stored.height == len(CALLS)
    frame, rejected = read_calls_file(cad_file, timezone=TZ)
    assert rejected == 0
    options = ResponseOptions(timezone=TZ)
    a, b = response_report(stored, options), response_report(frame, options)
    assert (a.overall, a.breakdowns, a.quality) == (b.overall, b.breakdowns, b.quality)
    t = TimeBudgetOptions(timezone=TZ)
    assert time_budget(stored, t).overall == time_budget(frame, t).overall
    day = load_response_calls(engine, start=date(2025, 9, 9), end=date(2025, 9, 9), timezone=TZ)
    assert day.height == len(CALLS)
    assert load_response_calls(engine, start=date(2025, 9, 10), timezone=TZ).height == 0
    db = engine.url.render_as_string(hide_password=False)
    code, stdout, stderr = _run("response", "report", "--from-db", "--json", db=db)
    assert code == 0, stderr
    doc = json.loads(stdout)
    assert doc["response"]["overall"] == b.overall.model_dump(mode="json")
    assert doc["time_budget"]["method"] == "unit"
    code, stdout, _ = _run(
        "response", "report", "--from-db", "--json", "--end", "2025-09-08", db=db
    )
    assert json.loads(stdout)["response"]["inputs"]["calls"] == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "either FILE or --from-db"),
        (["--from-db", "FILE"], "either FILE or --from-db"),
        (["FILE", "--by", "street"], "--by 'street'"),
        (["FILE", "--shifts", "day=07:00"], "--shifts"),
        (["FILE", "--shifts", "day=07:00/8"], "cover 24 hours"),
        (["FILE", "--units-per-shift", "3", "--staffing", "STAFF"], "not both"),
        (["FILE", "--staffing", "STAFF"], "staff.yaml, line 3"),
        (["FILE", "--method", "unit", "--agency", "NOBODY"], "needs unit ids"),
        (["FILE", "--method", "sometimes"], "method"),
        (["FILE", "--target-min", "0"], "target_min"),
        (["MISSING"], "x.csv"),
        (["FILE", "--format", "baltimore-part1"], "incidents"),
    ],
)
def test_unusable_input_exits_2(
    extra: list[str], message: str, cad_file: Path, tmp_path: Path
) -> None:
    staff = tmp_path / "staff.yaml"
    staff.write_text("schema_version: 1\nunits:\n  - {shift: graveyard, units: 3}\n")
    names = {"FILE": str(cad_file), "STAFF": str(staff), "MISSING": str(tmp_path / "x.csv")}
    code, _, stderr = _run(
        "response", "report", *[names.get(a, a) for a in extra], db=_db(tmp_path)
    )
    assert code == 2
    assert message in " ".join(stderr.split())


def test_parse_shifts() -> None:
    shifts = parse_shifts("a=07:00/8, b=15:00/8,c=23:00/8")
    assert [(s.name, s.start.hour, s.hours) for s in shifts] == [
        ("a", 7, 8),
        ("b", 15, 8),
        ("c", 23, 8),
    ]
    with pytest.raises(ValueError, match="no such time"):
        parse_shifts("a=25:00/8")
    with pytest.raises(ValueError, match="not NAME=HH:MM/HOURS"):
        parse_shifts("a=7")


def test_stored_frame_types(engine: Engine) -> None:
    empty = load_response_calls(engine)
    assert empty.height == 0
    assert dict(empty.schema) == RESPONSE_COLUMNS
    assert isinstance(empty.schema["received_at"], pl.Datetime)
