"""Imports into the real store (SQLite, and PostgreSQL when configured).

Every test checks the promise ``read = inserted + duplicates + rejected``, that
bad rows are kept with line, field and reason, and that re-importing adds nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from smart_policing.data import (
    ImportSummary,
    UnusableFileError,
    builtin_mapping,
    import_file,
    load_mapping,
)
from smart_policing.store import tables as t
from smart_policing.store.queries import list_rejects

HEADER = (
    "CrimeDate,CrimeTime,CrimeCode,Location,Description,Inside/Outside,Weapon,Post,District,"
    "Neighborhood,Longitude,Latitude,Location 1,Premise,Total Incidents"
)


def part1_row(
    date: str = "01/31/2012",
    time: str = "23:30:00",
    code: str = "5A",
    lat: str = "39.2864",
    location: str = "900 FAWN ST",
    desc: str = "BURGLARY",
) -> str:
    return (
        f"{date},{time},{code},{location},{desc},I,,211.0,SOUTHEASTERN,Little Italy,-76.60161,{lat},"
        f'"({lat}, -76.60161)",ROW/TOWNHO,1'
    )


def balanced(s: ImportSummary) -> None:
    assert s.rows_read == s.inserted + s.duplicates + s.rejected


def run(engine: Engine, path: Path, fmt: str = "baltimore-part1") -> ImportSummary:
    s = import_file(engine, path, builtin_mapping(fmt), timezone="America/New_York")
    balanced(s)
    return s


def test_broken_csv_rejects_bad_rows_by_line_and_field_and_loads_the_rest(
    engine: Engine, tmp_path: Path
) -> None:
    lines = [
        HEADER,
        part1_row(),  # 2 good
        part1_row(date="13/45/2012"),  # 3 bad date
        part1_row(lat="999"),  # 4 latitude out of range
        part1_row(location="1 CAF\udce9 ST"),  # 5 wrong encoding (written as raw byte below)
        part1_row(code=""),  # 6 missing required offence code
        part1_row(time="08:15:00", code="4E", desc="COMMON ASSAULT"),  # 7 good
        "01/31/2012,23:30:00,5A,900 FAWN",  # 8 truncated last line
    ]
    raw = "\n".join(lines).encode("utf-8", errors="surrogateescape")
    f = tmp_path / "broken.csv"
    f.write_bytes(raw)
    s = run(engine, f)
    assert (s.rows_read, s.inserted, s.duplicates, s.rejected) == (7, 2, 0, 5)
    total, rows = list_rejects(engine, import_id=s.import_id)
    assert total == 5
    by_line = {r["line_number"]: r for r in rows}
    assert set(by_line) == {3, 4, 5, 6, 8}
    assert by_line[3]["fields"] == "CrimeDate,CrimeTime"
    assert "'13/45/2012 23:30:00' is not a date-time" in by_line[3]["reason"]
    assert by_line[4]["fields"] == "Latitude"
    assert "999 is outside the latitude range" in by_line[4]["reason"]
    assert by_line[5]["fields"] == "Location"
    assert "not valid utf-8" in by_line[5]["reason"]
    assert "field 'offence_code' (column 'CrimeCode') is required but empty" in by_line[6]["reason"]
    assert "has 4 fields, expected 15 (truncated?)" in by_line[8]["reason"]
    assert by_line[8]["raw"] == "01/31/2012,23:30:00,5A,900 FAWN"
    assert by_line[4]["raw"] == lines[3]

    again = run(engine, f)
    assert (again.inserted, again.duplicates, again.rejected) == (0, 2, 5)
    assert list_rejects(engine)[0] == 5, "re-importing must not duplicate the rejects"


def test_missing_column_makes_the_file_unusable_before_anything_is_written(
    engine: Engine, tmp_path: Path
) -> None:
    f = tmp_path / "x.csv"
    f.write_text(HEADER.replace("CrimeCode,", "") + "\n")
    with pytest.raises(UnusableFileError, match="missing column\\(s\\) 'CrimeCode'"):
        run(engine, f)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.imports)).scalar_one() == 0


def test_victim_rows_group_into_incidents_and_later_exports_add_only_new_victims(
    engine: Engine, tmp_path: Path
) -> None:
    shooting = part1_row(code="9S", desc="SHOOTING", time="02:10:00")
    a = tmp_path / "a.csv"
    a.write_text("\n".join([HEADER, shooting, part1_row(), shooting]) + "\n")
    s = run(engine, a)
    assert (s.inserted, s.duplicates, s.incidents_inserted) == (3, 0, 2)
    with engine.connect() as conn:
        counts = dict(
            conn.execute(select(t.incidents.c.offence_code, t.incidents.c.victim_count)).all()
        )
    assert counts == {"9S": 2, "5A": 1}

    b = tmp_path / "b.csv"  # a later export: the shooting now has a third victim
    b.write_text("\n".join([HEADER, shooting, shooting, part1_row(), shooting]) + "\n")
    s2 = run(engine, b)
    assert (s2.inserted, s2.duplicates, s2.incidents_inserted) == (1, 3, 0)
    with engine.connect() as conn:
        counts = dict(
            conn.execute(select(t.incidents.c.offence_code, t.incidents.c.victim_count)).all()
        )
    assert counts == {"9S": 3, "5A": 1}


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 1000])
def test_victim_counts_do_not_depend_on_chunk_boundaries(
    engine: Engine, tmp_path: Path, chunk_rows: int
) -> None:
    """Repeats within a chunk, across chunks, and in a later export with more of them."""
    rows = {k: part1_row(code=k) for k in ("1A", "2B", "3C", "4D")}
    first = ["1A", "2B", "1A", "3C", "1A", "2B", "4D", "2B", "2B"]
    later = ["2B", "3C", "1A", "3C", "3C", "2B", "2B", "2B", "2B", "4D", "1A"]
    expected: dict[str, int] = {}
    for n, codes in enumerate((first, later)):
        f = tmp_path / f"export{n}.csv"
        f.write_text("\n".join([HEADER, *(rows[c] for c in codes)]) + "\n")
        s = import_file(
            engine, f, builtin_mapping("baltimore-part1"), timezone="UTC", chunk_rows=chunk_rows
        )
        balanced(s)
        counts = {c: codes.count(c) for c in rows}
        new_victims = sum(max(0, counts[c] - expected.get(c, 0)) for c in rows)
        new_incidents = sum(1 for c in rows if counts[c] and c not in expected)
        assert (s.inserted, s.incidents_inserted) == (new_victims, new_incidents)
        expected = {c: max(counts[c], expected.get(c, 0)) for c in rows if counts[c]}
        with engine.connect() as conn:
            stored = dict(
                conn.execute(select(t.incidents.c.offence_code, t.incidents.c.victim_count)).all()
            )
        assert stored == expected


def test_local_times_become_utc_including_midnight_24_and_dst(
    engine: Engine, tmp_path: Path
) -> None:
    f = tmp_path / "t.csv"
    f.write_text(
        "\n".join(
            [
                HEADER,
                part1_row(
                    date="07/04/2014", time="24:00:00", code="4E"
                ),  # midnight at the END of July 4th
                part1_row(
                    date="03/09/2014", time="02:30:00", code="6D"
                ),  # clocks skipped 02:00-03:00
                part1_row(
                    date="11/02/2014", time="01:30:00", code="6C"
                ),  # 01:00-02:00 happened twice
                part1_row(date="01/15/2014", time="12:00:00", code="7A"),
            ]
        )
        + "\n"
    )
    s = run(engine, f)
    assert s.flags == {"dst_gap_shifted": 1, "midnight_24h": 1}
    with engine.connect() as conn:
        got = dict(
            conn.execute(select(t.incidents.c.offence_code, t.incidents.c.occurred_at)).all()
        )
    assert got["4E"] == datetime(2014, 7, 5, 4, 0, tzinfo=UTC)  # 00:00 EDT on the 5th
    assert got["6D"] == datetime(2014, 3, 9, 7, 30, tzinfo=UTC)  # moved to 03:30 EDT
    assert got["6C"] == datetime(2014, 11, 2, 5, 30, tzinfo=UTC)  # the first (EDT) 01:30
    assert got["7A"] == datetime(2014, 1, 15, 17, 0, tzinfo=UTC)  # EST


CAD_HEADER = (
    "Master_Incident_Number,Response_Date,WeekNo,DOW,Day,Hour,Shift,Day_Night,ShiftPart,Agency,Problem,"
    "Priority_Number,Call_Reception,Call_Taker,Dispatcher,Incident_Start_Time,TimeCallViewed,"
    "Incident_Queue_Time,Time_To_Queue,Elapsed_PS_Queue,Time_To_Queue_Diff,Incident_Dispatch_Time,"
    "Time_To_Dispatch,Elapsed_Queue_Disp,Time_To_Disp_Diff,Incident_Phone_Stop,Phone_Time,Elapsed_PS_CTD,"
    "Phone_Time_Diff,TimeFirstUnitDispatchAcknowledged,Processing_Time,Elapsed_Processing,Diff_Proc_Time,"
    "Incident_Enroute_Time,Rollout_Time,Elapsed_Rollout,Diff_Rollout_Time,Incident_Arrival_Time,Transit_Time,"
    "Elapsed_Transit,Diff_Transit_Time,TimeFirstCallCleared,Incident_First_Close_Time,Call_Reopened,"
    "First_Reopen_Time,Final_Closed_Time,Total_Call_Time,Elapsed_Call_Time,Diff_Total_Call_Time,Disposition"
)
CAD_ROW = (
    "25-071089,2025-08-24 00:07:06.000,35,SUN,24,0,C,NIGHT,MIDS,POLICE,ALARM COMMERCIAL,2,Phone,"
    "staff-91adbe8f29,staff-bb50d6fd81,2025-08-24 00:07:06.000,2025-08-24 00:08:19.000,"
    "2025-08-24 00:07:53.000,47,47.0,0,2025-08-24 00:09:46.810,113,113,0,2025-08-24 00:09:52.000,166.0,"
    "166.0,0.0,2025-08-24 00:13:10.710,160,160.0,0,2025-08-24 00:13:10.710,204.0,203,1.0,"
    "2025-08-24 00:23:51.860,641.0,641,0.0,2025-08-24 00:35:47.190,2025-08-24 00:35:47.190,0,,"
    "2025-08-24 00:35:47.260,1721.0,1721.0,0.0,FALSE-False Alarm"
)


def test_cad_intervals_are_derived_and_impossible_ones_flagged(
    engine: Engine, tmp_path: Path
) -> None:
    # second call: arrival typed 5 minutes BEFORE dispatch; third: no incident number
    early = CAD_ROW.replace("25-071089", "25-071090").replace(
        "2025-08-24 00:23:51.860", "2025-08-24 00:04:46.810"
    )
    no_id = CAD_ROW.replace("25-071089", "").replace("ALARM COMMERCIAL", "NOISE COMPLAINT")
    f = tmp_path / "cad.csv"
    f.write_text("\n".join([CAD_HEADER, CAD_ROW, early, no_id, no_id]) + "\n")
    s = run(engine, f, "cad")
    assert (s.inserted, s.rejected) == (4, 0), "two identical rows without an id are two calls"
    assert s.flags["missing_call_id"] == 2
    assert s.flags["negative_dispatch_to_arrival_s"] == 1
    with engine.connect() as conn:
        row = conn.execute(select(t.calls).where(t.calls.c.call_id == "25-071089")).mappings().one()
    assert row["call_to_dispatch_s"] == pytest.approx(160.81)  # 00:09:46.810 - 00:07:06
    assert row["dispatch_to_arrival_s"] == pytest.approx(845.05)  # 00:23:51.860 - 00:09:46.810
    assert row["call_to_arrival_s"] == pytest.approx(1005.86)
    assert row["travel_s"] == pytest.approx(641.15)
    assert row["on_scene_s"] == pytest.approx(715.33)  # first close 00:35:47.190 - arrival
    assert row["source_channel"] == "phone"
    assert row["disposition_code"] == "FALSE"
    assert row["priority"] == 2
    assert row["received_at"] == datetime(2025, 8, 24, 4, 7, 6, tzinfo=UTC)
    assert row["quality_flags"] is None
    assert run(engine, f, "cad").inserted == 0


GENERIC = """\
schema_version: 1
name: springfield-calls
record: call
timezone: America/Chicago
key: {columns: [CallNo]}
coordinates: {x: X, y: Y, crs: "EPSG:3435"}
fields:
  received_at: {column: Received, formats: ["%m/%d/%Y %I:%M:%S %p"], required: true}
  dispatched_at: {column: Dispatched, formats: ["%m/%d/%Y %I:%M:%S %p"]}
  call_type_code: {column: Type, case: upper, required: true}
  priority: {column: Pri, codes: {E: 1, U: 2, R: 3}}
  source_channel: {column: Src, codes: {"911": "911", ADMIN: phone, SELF: officer_initiated}, on_unmapped: default, default: other}
  block_address: {column: Address}
"""


def test_generic_mapping_with_codes_and_projected_coordinates(
    engine: Engine, tmp_path: Path
) -> None:
    m = tmp_path / "m.yaml"
    m.write_text(GENERIC)
    f = tmp_path / "calls.csv"
    # Illinois East State Plane (US feet): 1176000, 1900000 is near Chicago's Loop
    f.write_text(
        "CallNo,Received,Dispatched,Type,Pri,Src,Address,X,Y\n"
        "A1,07/04/2024 11:59:30 PM,07/05/2024 12:01:00 AM,shots fired,E,911,100 N. State Street,1176000,1900000\n"
        "A2,07/05/2024 01:00:00 AM,,noise,Q,PIGEON,,0,0\n"
    )
    s = import_file(engine, f, load_mapping(m), timezone="America/New_York")
    balanced(s)
    assert (s.inserted, s.rejected) == (1, 1)
    assert s.unmapped == {"priority": {"Q": 1}, "source_channel": {"PIGEON": 1}}
    _, rejects = list_rejects(engine)
    assert (
        "field 'priority' (column 'Pri'): 'Q' is not in the mapping's codes" in rejects[0]["reason"]
    )
    with engine.connect() as conn:
        row = conn.execute(select(t.calls)).mappings().one()
    assert row["received_at"] == datetime(
        2024, 7, 5, 4, 59, 30, tzinfo=UTC
    )  # CDT, not the city setting
    assert row["call_to_dispatch_s"] == 90.0
    assert row["priority"] == 1
    assert row["call_type_code"] == "SHOTS FIRED"
    assert row["place_key"] == "100 N STATE ST"
    assert 41.8 < row["latitude"] < 41.95
    assert -87.7 < row["longitude"] < -87.55


def test_zero_coordinates_are_no_location(engine: Engine, tmp_path: Path) -> None:
    f = tmp_path / "z.csv"
    f.write_text(HEADER + "\n" + part1_row().replace("-76.60161,39.2864", "0,0") + "\n")
    s = run(engine, f)
    assert s.flags == {"no_location": 1, "zero_coordinates": 1}
    with engine.connect() as conn:
        assert conn.execute(select(t.incidents.c.latitude)).scalar_one() is None


def test_the_same_id_twice_in_a_first_import_is_one_call_and_one_duplicate(
    engine: Engine, tmp_path: Path
) -> None:
    """On a source's first import rows are expected to be new; a repeated id must
    still be caught (PostgreSQL falls back from a plain COPY to conflict handling)."""
    f = tmp_path / "dup.csv"
    f.write_text(
        "\n".join([CAD_HEADER, CAD_ROW, CAD_ROW.replace("25-071089", "25-071090"), CAD_ROW]) + "\n"
    )
    s = run(engine, f, "cad")
    assert (s.rows_read, s.inserted, s.duplicates) == (3, 2, 1)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.calls)).scalar_one() == 2
