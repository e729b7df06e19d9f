"""Tests of the synthetic city (smart_policing.data.synth).

The files are read back with plain tools (polars with every column as text, json,
shapely) and checked against the real formats and against slow, obviously-correct
reference computations (datetime arithmetic, brute-force pair counts).
"""

from __future__ import annotations

import json
import re
import zoneinfo
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import shapely
from pydantic import ValidationError
from pyproj import Geod, Transformer
from shapely.geometry import shape

import smart_policing.data.synth as synth
from smart_policing.data.synth import CityManifest, CityParams, generate_cad_calls, generate_city
from smart_policing.data.synth.tables import (
    TableError,
    load_call_types,
    parse_call_types,
    parse_crime_types,
)

REAL_PART1_HEADER = (
    "CrimeDate,CrimeTime,CrimeCode,Location,Description,Inside/Outside,Weapon,Post,District,"
    "Neighborhood,Longitude,Latitude,Location 1,Premise,Total Incidents"
)
REAL_CAD_HEADER = (
    "Master_Incident_Number,Response_Date,WeekNo,DOW,Day,Hour,Shift,Day_Night,ShiftPart,Agency,"
    "Problem,Priority_Number,Call_Reception,Call_Taker,Dispatcher,Incident_Start_Time,"
    "TimeCallViewed,Incident_Queue_Time,Time_To_Queue,Elapsed_PS_Queue,Time_To_Queue_Diff,"
    "Incident_Dispatch_Time,Time_To_Dispatch,Elapsed_Queue_Disp,Time_To_Disp_Diff,"
    "Incident_Phone_Stop,Phone_Time,Elapsed_PS_CTD,Phone_Time_Diff,"
    "TimeFirstUnitDispatchAcknowledged,Processing_Time,Elapsed_Processing,Diff_Proc_Time,"
    "Incident_Enroute_Time,Rollout_Time,Elapsed_Rollout,Diff_Rollout_Time,Incident_Arrival_Time,"
    "Transit_Time,Elapsed_Transit,Diff_Transit_Time,TimeFirstCallCleared,"
    "Incident_First_Close_Time,Call_Reopened,First_Reopen_Time,Final_Closed_Time,"
    "Total_Call_Time,Elapsed_Call_Time,Diff_Total_Call_Time,Disposition"
)
SYNTH_CAD_EXTRA = ",Primary_Unit,Address,Latitude,Longitude,District,Beat"

# Two rows of the real CAD export (from the brief), used to check that our derived
# columns and calendar columns follow the real export's rules.
REAL_CAD_ROWS = (
    "25-071089,2025-08-24 00:07:06.000,35,SUN,24,0,C,NIGHT,MIDS,POLICE,ALARM COMMERCIAL,2,Phone,"
    "staff-91adbe8f29,staff-bb50d6fd81,2025-08-24 00:07:06.000,2025-08-24 00:08:19.000,"
    "2025-08-24 00:07:53.000,47,47.0,0,2025-08-24 00:09:46.810,113,113,0,2025-08-24 00:09:52.000,"
    "166.0,166.0,0.0,2025-08-24 00:13:10.710,160,160.0,0,2025-08-24 00:13:10.710,204.0,203,1.0,"
    "2025-08-24 00:23:51.860,641.0,641,0.0,2025-08-24 00:35:47.190,2025-08-24 00:35:47.190,0,,"
    "2025-08-24 00:35:47.260,1721.0,1721.0,0.0,FALSE-False Alarm",
    "25-071093,2025-08-24 00:23:30.000,35,SUN,24,0,C,NIGHT,MIDS,POLICE,TRAFFIC STOP,2,OFFICER,"
    "staff-3c444225a6,staff-3c444225a6,2025-08-24 00:23:30.000,2025-08-24 00:23:33.000,"
    "2025-08-24 00:23:30.000,0,0.0,0,2025-08-24 00:23:30.000,0,0,0,2025-08-24 00:23:30.000,0.0,"
    "0.0,0.0,2025-08-24 00:23:38.183,0,0.0,0,2025-08-24 00:23:30.000,0.0,0,0.0,"
    "2025-08-24 00:23:30.000,0.0,0,0.0,2025-08-24 00:24:09.977,2025-08-24 00:44:49.133,0,,"
    "2025-08-24 00:44:49.173,1279.0,1279.0,0.0,NR-No Report",
)

DISTRICTS = (
    "CENTRAL",
    "SOUTHEASTERN",
    "EASTERN",
    "NORTHEASTERN",
    "NORTHERN",
    "NORTHWESTERN",
    "WESTERN",
    "SOUTHWESTERN",
    "SOUTHERN",
)

# (timestamp column, its place in the chain) - the order the brief requires.
CHAIN = (
    "Incident_Start_Time",
    "Incident_Queue_Time",
    "Incident_Dispatch_Time",
    "TimeFirstUnitDispatchAcknowledged",
    "Incident_Enroute_Time",
    "Incident_Arrival_Time",
    "TimeFirstCallCleared",
    "Incident_First_Close_Time",
    "Final_Closed_Time",
)
TS_FORMAT = "%Y-%m-%d %H:%M:%S%.3f"
GUN_CODES = ("9S", "1F", "4A")


# --------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> CityManifest:
    params = CityParams(seed=7, years=1, calls_per_day=300.0)
    return generate_city(params, tmp_path_factory.mktemp("city"))


@pytest.fixture(scope="module")
def part1(city: CityManifest) -> pl.DataFrame:
    return pl.read_csv(city.part1_csv, infer_schema=False)


@pytest.fixture(scope="module")
def cad(city: CityManifest) -> pl.DataFrame:
    return pl.read_csv(city.cad_csv, infer_schema=False)


@pytest.fixture(scope="module")
def poisson_city(tmp_path_factory: pytest.TempPathFactory) -> CityManifest:
    """The same city without self-excitation (negative control for clustering)."""
    params = CityParams(seed=7, years=1, calls_per_day=5.0, n_call_sites=500, hawkes_branching=0.0)
    return generate_city(params, tmp_path_factory.mktemp("poisson"))


def _tiny(seed: int = 3) -> CityParams:
    return CityParams(
        seed=seed,
        years=1,
        calls_per_day=30.0,
        incidents_per_day=15.0,
        n_call_sites=300,
        n_alarm_sites=50,
        n_gun_sites=50,
        n_neighborhoods=20,
        beats_per_district=3,
    )


def _first_line(path: Path) -> str:
    with path.open(encoding="utf-8") as fh:
        return fh.readline().rstrip("\n")


def _ms(frame: pl.DataFrame, column: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Milliseconds since 1970 of a CAD timestamp column (NaN when blank)."""
    s = frame[column].str.strptime(pl.Datetime("ms"), TS_FORMAT, strict=True)
    return s.dt.epoch("ms").cast(pl.Float64).fill_null(np.nan).to_numpy()


def _num(frame: pl.DataFrame, column: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    return frame[column].cast(pl.Float64).fill_null(np.nan).to_numpy()


def _anomalous(city: CityManifest) -> set[int]:
    return {r for rows in city.anomaly_rows.values() for r in rows}


def _geo(path: Path) -> list[dict[str, Any]]:
    doc = json.loads(path.read_text("utf-8"))
    assert doc["type"] == "FeatureCollection"
    assert doc["crs"] == {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    features: list[dict[str, Any]] = doc["features"]
    return features


def _metric(city: CityManifest) -> Transformer:
    p = city.params
    return Transformer.from_crs(
        "EPSG:4326",
        f"+proj=tmerc +lat_0={p.center_lat} +lon_0={p.center_lon} +k=1 +x_0=0 +y_0=0 "
        "+ellps=WGS84 +units=m",
        always_xy=True,
    )


# ------------------------------------------------------------------ public API


def test_public_surface() -> None:
    assert set(synth.__all__) == {
        "CityParams",
        "CityManifest",
        "generate_city",
        "generate_cad_calls",
    }
    for name in synth.__all__:
        assert hasattr(synth, name)


def test_params_are_validated_and_frozen() -> None:
    with pytest.raises(ValidationError, match="colour"):
        CityParams(colour="red")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="time zone"):
        CityParams(timezone="Mars/Olympus_Mons")
    with pytest.raises(ValidationError):
        CityParams(years=0)
    with pytest.raises(ValidationError):
        CityParams(hawkes_branching=1.0)
    p = CityParams(years=2, end_year=2024)
    assert (p.start_date, p.end_date, p.n_days) == (date(2023, 1, 1), date(2024, 12, 31), 731)
    with pytest.raises(ValidationError):
        p.seed = 5  # type: ignore[misc]


def test_call_type_table_loads_and_rejects_bad_mixes() -> None:
    table = load_call_types()
    assert 55 <= len(table.call_types) <= 100
    good = (Path(synth.__file__).parent / "call_types.yaml").read_text("utf-8")
    bad = good.replace("priority: {2: 0.9, 3: 0.1}", "priority: {2: 0.9, 3: 0.2}", 1)
    assert bad != good
    with pytest.raises(TableError, match=r"call_types\[0\] \(TRAFFIC STOP\) field priority"):
        parse_call_types(bad)
    unknown_key = good.replace("    weight: 10\n", "    weight: 10\n    wieght: 3\n", 1)
    with pytest.raises(TableError, match="wieght"):
        parse_call_types(unknown_key)
    crimes = (Path(synth.__file__).parent / "part1_types.yaml").read_text("utf-8")
    with pytest.raises(TableError, match="not a call type"):
        parse_crime_types(crimes.replace("{SHOOTING: 1.0}", "{SHOOTINGS: 1.0}", 1), table)


# ----------------------------------------------------------------- file formats


def test_part1_header_is_the_real_one(city: CityManifest) -> None:
    assert _first_line(city.part1_csv) == REAL_PART1_HEADER


def test_cad_header_is_the_real_one_plus_six(city: CityManifest) -> None:
    assert _first_line(city.cad_csv) == REAL_CAD_HEADER + SYNTH_CAD_EXTRA


def test_part1_values_follow_the_open_baltimore_format(part1: pl.DataFrame) -> None:
    assert part1.height > 40_000
    assert part1["CrimeDate"].str.contains(r"^\d{2}/\d{2}/\d{4}$").all()
    assert part1["CrimeTime"].str.contains(r"^\d{2}:\d{2}:00$").all()
    assert part1["Post"].str.contains(r"^[1-9]\d{2}\.0$").all()
    assert set(part1["District"].unique()) == set(DISTRICTS)
    assert (part1["Total Incidents"] == "1").all()
    assert set(part1["Inside/Outside"].drop_nulls().unique()) <= {"I", "O", "Inside", "Outside"}
    assert set(part1["Weapon"].drop_nulls().unique()) <= {"HANDS", "FIREARM", "KNIFE", "OTHER"}
    gun = part1.filter(
        pl.col("Description").is_in(["SHOOTING"]) | pl.col("CrimeCode").str.ends_with("F")
    )
    assert (gun["Weapon"] == "FIREARM").all()
    located = part1.filter(pl.col("Latitude").is_not_null())
    assert located["Location"].str.contains(r"^(0|[1-9]\d*00) ([NSEW] )?[A-Z0-9 ]+ [A-Z]+$").all()
    expected = pl.format(
        "({}, {})",
        pl.col("Latitude").cast(pl.Float64).map_elements(lambda v: f"{v:.10f}", pl.String),
        pl.col("Longitude").cast(pl.Float64).map_elements(lambda v: f"{v:.10f}", pl.String),
    )
    assert (located.select(expected).to_series() == located["Location 1"]).all()
    assert part1["CrimeCode"].str.contains(r"^[1-9][A-Z]{1,3}$").all()
    assert part1["Post"].str.slice(0, 1).cast(pl.Int64).to_list() == [
        DISTRICTS.index(d) + 1 for d in part1["District"].to_list()
    ]


def test_description_mix_is_close_to_the_real_one(part1: pl.DataFrame) -> None:
    share = dict(part1["Description"].value_counts(normalize=True).iter_rows())
    assert share["LARCENY"] == pytest.approx(0.23, abs=0.02)
    assert share["COMMON ASSAULT"] == pytest.approx(0.17, abs=0.02)
    assert share["BURGLARY"] == pytest.approx(0.15, abs=0.02)
    assert share["SHOOTING"] == pytest.approx(0.009, abs=0.003)
    assert share["HOMICIDE"] == pytest.approx(0.005, abs=0.002)


def test_victim_duplicates_are_about_four_percent(part1: pl.DataFrame) -> None:
    duplicate_share = 1.0 - part1.unique().height / part1.height
    assert 0.025 <= duplicate_share <= 0.06
    extra = part1.filter(part1.is_duplicated())
    violent = extra["Description"].str.contains("ASSAULT|SHOOTING|ROBBERY|HOMICIDE")
    assert violent.mean() > 0.8  # type: ignore[operator]


def test_about_one_percent_of_rows_lack_a_location(part1: pl.DataFrame) -> None:
    blank = part1.filter(pl.col("Latitude").is_null())
    assert 0.005 <= blank.height / part1.height <= 0.02
    for column in ("Location", "Longitude", "Location 1", "Neighborhood"):
        assert blank[column].is_null().all()
    assert blank["Post"].is_not_null().all()
    assert blank["District"].is_not_null().all()


def test_cad_values_follow_the_export_format(cad: pl.DataFrame) -> None:
    ids = cad["Master_Incident_Number"].drop_nulls()
    assert ids.str.contains(r"^\d{2}-\d{6}$").all()
    assert ids.n_unique() == ids.len()
    ts = [c for c in cad.columns if c in CHAIN or c in ("Response_Date", "TimeCallViewed")]
    for column in ts:
        assert (
            cad[column].drop_nulls().str.contains(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$").all()
        )
    assert set(cad["Agency"].unique()) == {"POLICE", "EMS", "FIRE"}
    assert set(cad["Shift"].unique()) == {"A", "B", "C", "D"}
    assert cad["Call_Taker"].str.contains(r"^staff-[0-9a-f]{10}$").all()
    assert cad["Latitude"].str.contains(r"^-?\d+\.\d{6}$").all()
    assert cad["Beat"].str.contains(r"^[1-9]\d\d$").all()
    units = cad["Primary_Unit"].drop_nulls()
    assert units.str.contains(r"^([1-9][A-D]\d\d|M\d+|E\d+|T\d+)$").all()
    police = cad.filter((pl.col("Agency") == "POLICE") & pl.col("Primary_Unit").is_not_null())
    assert (police["Primary_Unit"].str.slice(0, 1) == police["Beat"].str.slice(0, 1)).all()
    assert (police["Primary_Unit"].str.slice(1, 1) == police["Shift"]).all()
    assert cad.filter(pl.col("Call_Reception") == "OFFICER")["Problem"].n_unique() > 5


def test_cad_mix_is_close_to_the_real_one(cad: pl.DataFrame) -> None:
    agency = dict(cad["Agency"].value_counts(normalize=True).iter_rows())
    assert agency["POLICE"] == pytest.approx(0.66, abs=0.03)
    assert agency["EMS"] == pytest.approx(0.23, abs=0.03)
    assert agency["FIRE"] == pytest.approx(0.11, abs=0.02)
    prio = dict(cad["Priority_Number"].value_counts(normalize=True).iter_rows())
    assert prio["2"] == max(prio.values())
    assert sum(prio.get(p, 0.0) for p in ("1", "2", "3", "4")) > 0.95
    alarms = cad.filter(pl.col("Problem").str.starts_with("ALARM "))
    assert (alarms["Disposition"] == "FALSE-False Alarm").mean() > 0.75  # type: ignore[operator]
    repeat = alarms.filter(pl.col("Disposition") == "FALSE-False Alarm").group_by("Address").len()
    assert repeat.filter(pl.col("len") > 5).height > 0  # premises the 5-false-alarm rule would hit


def test_manifest_round_trips(city: CityManifest) -> None:
    assert CityManifest.read(city.manifest_json) == city
    doc = json.loads(city.manifest_json.read_text("utf-8"))
    assert doc["files"]["part1_csv"] == "part1_crime.csv"
    assert (doc["start_date"], doc["end_date"]) == ("2025-01-01", "2025-12-31")
    for path, rows in ((city.part1_csv, city.part1_rows), (city.cad_csv, city.cad_rows)):
        with path.open("rb") as fh:
            assert sum(1 for _ in fh) - 1 == rows


# ------------------------------------------------------------ timestamp chain


def _timestamps(frame: pl.DataFrame) -> dict[str, np.ndarray[Any, np.dtype[np.float64]]]:
    columns = (*CHAIN, "Response_Date", "Incident_Phone_Stop", "TimeCallViewed")
    return {c: _ms(frame, c) for c in columns}


@pytest.fixture(scope="module")
def cad_ms(cad: pl.DataFrame) -> dict[str, np.ndarray[Any, np.dtype[np.float64]]]:
    return _timestamps(cad)


def _check_derived(
    frame: pl.DataFrame, ms: dict[str, np.ndarray[Any, np.dtype[np.float64]]]
) -> None:
    """Derived columns equal DATEDIFF(second) of the printed timestamps, and
    Elapsed/Diff columns agree with them (the real export's rules)."""

    def dd(a: str, b: str) -> np.ndarray[Any, np.dtype[np.float64]]:
        return np.floor(ms[b] / 1000) - np.floor(ms[a] / 1000)

    def el(a: str, b: str) -> np.ndarray[Any, np.dtype[np.float64]]:
        return np.floor((ms[b] - ms[a]) / 1000)

    def check(column: str, a: str, b: str, elapsed_col: str, since: str, diff_col: str) -> None:
        got = _num(frame, column)
        np.testing.assert_array_equal(got, dd(a, b), err_msg=column)  # NaN where blank
        present = ~np.isnan(got)
        e = _num(frame, elapsed_col)
        np.testing.assert_array_equal(e[present], el(since, b)[present], err_msg=elapsed_col)
        # A missing stage: Elapsed is -9999 for rollout and transit, blank elsewhere.
        blank = -9999.0 if column in ("Rollout_Time", "Transit_Time") else np.nan
        np.testing.assert_array_equal(e[~present], np.full(int((~present).sum()), blank))
        d = _num(frame, diff_col)
        np.testing.assert_array_equal(d[present], (got - e)[present], err_msg=diff_col)
        assert np.isnan(d[~present]).all(), diff_col

    start, queue, disp = "Incident_Start_Time", "Incident_Queue_Time", "Incident_Dispatch_Time"
    phone, enroute = "Incident_Phone_Stop", "Incident_Enroute_Time"
    arrival, close = "Incident_Arrival_Time", "Incident_First_Close_Time"
    check("Time_To_Queue", start, queue, "Elapsed_PS_Queue", "Response_Date", "Time_To_Queue_Diff")
    check("Time_To_Dispatch", queue, disp, "Elapsed_Queue_Disp", queue, "Time_To_Disp_Diff")
    check("Phone_Time", start, phone, "Elapsed_PS_CTD", "Response_Date", "Phone_Time_Diff")
    check("Processing_Time", start, disp, "Elapsed_Processing", start, "Diff_Proc_Time")
    check("Rollout_Time", disp, enroute, "Elapsed_Rollout", disp, "Diff_Rollout_Time")
    check("Transit_Time", enroute, arrival, "Elapsed_Transit", enroute, "Diff_Transit_Time")
    check("Total_Call_Time", start, close, "Elapsed_Call_Time", start, "Diff_Total_Call_Time")


def test_derived_column_rules_match_the_real_export() -> None:
    header = REAL_CAD_HEADER.split(",")
    rows = [r.split(",") for r in REAL_CAD_ROWS]
    real = pl.DataFrame([dict(zip(header, r, strict=True)) for r in rows]).with_columns(
        pl.all().replace("", None)
    )
    _check_derived(real, _timestamps(real))


def test_derived_columns_are_consistent_with_the_timestamps(
    cad: pl.DataFrame, cad_ms: dict[str, np.ndarray[Any, np.dtype[np.float64]]]
) -> None:
    _check_derived(cad, cad_ms)


def test_timestamp_chain_is_ordered_except_injected_problems(
    city: CityManifest, cad: pl.DataFrame, cad_ms: dict[str, np.ndarray[Any, np.dtype[np.float64]]]
) -> None:
    bad_rows = np.asarray(sorted(_anomalous(city)), dtype=np.int64) - 1
    ok = np.ones(cad.height, dtype=bool)
    ok[bad_rows] = False
    stamps = np.column_stack([cad_ms[c] for c in CHAIN])[ok]
    running = np.maximum.accumulate(np.nan_to_num(stamps, nan=-np.inf), axis=1)
    present = ~np.isnan(stamps)
    assert (stamps[present] >= running[present]).all()
    start = stamps[:, 0]
    for column in ("TimeCallViewed", "Incident_Phone_Stop", "Response_Date"):
        other = cad_ms[column][ok]
        assert (other[~np.isnan(other)] >= start[~np.isnan(other)]).all(), column
    assert (cad_ms["Response_Date"][ok] <= stamps[:, 1]).all()
    assert not np.isnan(stamps[:, [0, 1, 2, 7, 8]]).any()  # always present


def test_injected_problems_are_there_and_rare(city: CityManifest, cad: pl.DataFrame) -> None:
    rows = {k: np.asarray(v, dtype=np.int64) - 1 for k, v in city.anomaly_rows.items()}
    total = sum(len(v) for v in rows.values())
    assert 0.001 <= total / cad.height <= 0.006
    assert all(len(v) > 0 for v in rows.values())
    early = cad[rows["arrival_before_dispatch"]]
    assert (_ms(early, "Incident_Arrival_Time") < _ms(early, "Incident_Dispatch_Time")).all()
    assert (_num(early, "Transit_Time") < 0).all()
    long = cad[rows["extreme_duration"]]
    assert (_num(long, "Total_Call_Time") >= 30 * 3600).all()
    assert cad[rows["blank_incident_number"]]["Master_Incident_Number"].is_null().all()
    assert cad["Master_Incident_Number"].null_count() == len(rows["blank_incident_number"])
    normal = np.ones(cad.height, dtype=bool)
    normal[np.concatenate(list(rows.values()))] = False
    assert (_num(cad, "Total_Call_Time")[normal] < 30 * 3600).all()


def test_officer_initiated_cancelled_and_undispatched_calls(cad: pl.DataFrame) -> None:
    officer = cad.filter(pl.col("Call_Reception") == "OFFICER")
    for column in CHAIN[1:6]:
        assert (officer[column] == officer["Incident_Start_Time"]).all(), column
    cancelled = cad.filter(pl.col("Disposition") == "CN-Cancellation")
    assert cancelled.height > 0
    assert cancelled["Incident_Arrival_Time"].is_null().all()
    assert cancelled["Transit_Time"].is_null().all()
    undispatched = cad.filter(pl.col("Primary_Unit").is_null())
    assert undispatched.height > 0
    assert undispatched["TimeFirstUnitDispatchAcknowledged"].is_null().all()
    assert undispatched["Incident_Dispatch_Time"].is_not_null().all()


def _calendar_reference(response: str) -> tuple[str, ...]:
    """WeekNo, DOW, Day, Hour, Shift, Day_Night, ShiftPart from first principles."""
    t = datetime.strptime(response, "%Y-%m-%d %H:%M:%S.%f")
    jan1 = date(t.year, 1, 1)
    sunday_offset = (jan1.weekday() + 1) % 7
    week = (t.timetuple().tm_yday - 1 + sunday_offset) // 7 + 1
    cycle = "ABBAABBBAABBAA"[(t.date() - date(2025, 8, 24)).days % 14]
    day = 6 <= t.hour <= 18
    shift = cycle if day else {"A": "C", "B": "D"}[cycle]
    part = {6: "EARLY", 10: "MIDS", 14: "LATE", 18: "EARLY", 22: "MIDS", 2: "LATE"}
    start = max(h for h in (2, 6, 10, 14, 18, 22) if h <= t.hour) if t.hour >= 2 else 22
    return (
        str(week),
        t.strftime("%a").upper(),
        str(t.day),
        str(t.hour),
        shift,
        "DAY" if day else "NIGHT",
        part[start],
    )


def test_calendar_columns_follow_response_date(cad: pl.DataFrame) -> None:
    columns = ("WeekNo", "DOW", "Day", "Hour", "Shift", "Day_Night", "ShiftPart")
    for row in REAL_CAD_ROWS:
        values = row.split(",")
        assert _calendar_reference(values[1]) == tuple(values[2:9])
    sample = cad.sample(2000, seed=1)
    for sampled in sample.select(("Response_Date", *columns)).iter_rows():
        assert _calendar_reference(sampled[0]) == tuple(sampled[1:])


def test_no_time_falls_in_the_spring_forward_gap(
    city: CityManifest, cad: pl.DataFrame, part1: pl.DataFrame
) -> None:
    tz = zoneinfo.ZoneInfo(city.params.timezone)
    gap_hours = []
    for day in range(1, 32):
        local = datetime(city.params.end_year, 3, day, 2, 30, tzinfo=tz)
        if local.astimezone(UTC).astimezone(tz).hour != 2:  # 02:30 does not exist
            gap_hours.append(local.strftime("%Y-%m-%d %H"))
    assert len(gap_hours) == 1
    for column in (*CHAIN, "Response_Date", "TimeCallViewed", "Incident_Phone_Stop"):
        assert not cad[column].str.starts_with(gap_hours[0]).any(), column
    gap_day, gap_hour = gap_hours[0].split()
    crime_day = date.fromisoformat(gap_day).strftime("%m/%d/%Y")
    in_gap = (part1["CrimeDate"] == crime_day) & part1["CrimeTime"].str.starts_with(gap_hour)
    assert not in_gap.any()


# ------------------------------------------------------------------- geography


def test_districts_partition_the_city(city: CityManifest) -> None:
    features = _geo(city.districts_geojson)
    assert [f["properties"]["number"] for f in features] == list(range(1, 10))
    assert [f["properties"]["name"].upper() for f in features] == list(DISTRICTS)
    geoms = [shape(f["geometry"]) for f in features]
    assert all(g.is_valid and g.geom_type in ("Polygon", "MultiPolygon") for g in geoms)
    union = shapely.union_all(geoms)
    total = sum(g.area for g in geoms)
    assert total == pytest.approx(union.area, rel=1e-9)  # no overlaps
    for i in range(9):
        for j in range(i + 1, 9):
            assert geoms[i].intersection(geoms[j]).area < 1e-12 * union.area
    assert union.geom_type == "Polygon"
    assert len(union.interiors) == 0  # no gaps
    km2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(union)[0]) / 1e6
    assert km2 == pytest.approx(city.params.city_area_km2, rel=0.01)


def test_beats_partition_their_districts(city: CityManifest) -> None:
    districts = {
        f["properties"]["name"]: shape(f["geometry"]) for f in _geo(city.districts_geojson)
    }
    beats = _geo(city.beats_geojson)
    assert len(beats) == 9 * city.params.beats_per_district
    posts = [f["properties"]["post"] for f in beats]
    assert len(set(posts)) == len(posts)
    by_district: dict[str, list[Any]] = {}
    for f in beats:
        post, name = f["properties"]["post"], f["properties"]["district"]
        assert re.fullmatch(r"[1-9]\d\d", post)
        assert DISTRICTS[int(post[0]) - 1] == name.upper()
        by_district.setdefault(name, []).append(shape(f["geometry"]))
    for name, parts in by_district.items():
        union = shapely.union_all(parts)
        assert sum(p.area for p in parts) == pytest.approx(union.area, rel=1e-9)
        assert union.symmetric_difference(districts[name]).area < 1e-7 * districts[name].area


def _assert_inside(points: pl.DataFrame, city: CityManifest, post_col: str) -> None:
    districts = {
        f["properties"]["name"].upper(): shape(f["geometry"]) for f in _geo(city.districts_geojson)
    }
    beats = {f["properties"]["post"]: shape(f["geometry"]) for f in _geo(city.beats_geojson)}
    frame = points.with_columns(
        pl.col("Longitude").cast(pl.Float64),
        pl.col("Latitude").cast(pl.Float64),
        pl.col(post_col).cast(pl.Float64).cast(pl.Int64).cast(pl.String).alias("_post"),
    )
    for (name,), group in frame.group_by(["District"]):
        lon, lat = group["Longitude"].to_numpy(), group["Latitude"].to_numpy()
        assert shapely.contains_xy(districts[str(name)], lon, lat).all(), name
    for (post,), group in frame.group_by(["_post"]):
        lon, lat = group["Longitude"].to_numpy(), group["Latitude"].to_numpy()
        assert shapely.contains_xy(beats[str(post)], lon, lat).all(), post


def test_part1_locations_lie_in_their_district_and_post(
    city: CityManifest, part1: pl.DataFrame
) -> None:
    _assert_inside(part1.filter(pl.col("Latitude").is_not_null()), city, "Post")


def test_cad_locations_lie_in_their_district_and_beat(
    city: CityManifest, cad: pl.DataFrame
) -> None:
    _assert_inside(cad, city, "Beat")


# ----------------------------------------------------------- time and space


def test_hour_of_day_and_weekly_cycles(cad: pl.DataFrame, part1: pl.DataFrame) -> None:
    hours = cad["Hour"].cast(pl.Int64).to_numpy()
    per_hour = np.bincount(hours, minlength=24)
    assert per_hour[16:20].mean() > 2.0 * per_hour[3:6].mean()
    violent = part1.unique().filter(
        pl.col("Description").is_in(["SHOOTING", "HOMICIDE", "AGG. ASSAULT"])
    )
    vh = violent["CrimeTime"].str.slice(0, 2).cast(pl.Int64).to_numpy()
    night = np.isin(vh, [21, 22, 23, 0, 1]).sum() / 5
    morning = np.isin(vh, [6, 7, 8, 9, 10]).sum() / 5
    assert night > 2.0 * morning
    days = violent["CrimeDate"].str.strptime(pl.Date, "%m/%d/%Y").dt.weekday()  # Monday = 1
    weekend = int(days.is_in([6, 7]).sum()) / 2
    weekday = int(days.is_in([1, 2, 3]).sum()) / 3
    assert weekend > 1.15 * weekday


def _gun_xy(
    city: CityManifest, part1: pl.DataFrame, codes: tuple[str, ...] | None = None
) -> tuple[Any, Any, pl.DataFrame]:
    rows = part1.unique(maintain_order=True).filter(pl.col("Latitude").is_not_null())
    if codes is None:
        rows = rows.filter(
            pl.col("Description").is_in(["SHOOTING", "HOMICIDE"]) | (pl.col("Weapon") == "FIREARM")
        )
    else:
        rows = rows.filter(pl.col("CrimeCode").is_in(list(codes)))
    x, y = _metric(city).transform(
        rows["Longitude"].cast(pl.Float64).to_numpy(), rows["Latitude"].cast(pl.Float64).to_numpy()
    )
    return np.asarray(x), np.asarray(y), rows


def _top_cell_share(x: Any, y: Any, n_cells: int, cell: float) -> float:
    keys = np.floor(x / cell).astype(np.int64) * 1_000_003 + np.floor(y / cell).astype(np.int64)
    counts = np.sort(np.unique(keys, return_counts=True)[1])[::-1]
    return float(counts[: max(1, round(0.05 * n_cells))].sum() / counts.sum())


def test_gun_violence_is_spatially_concentrated(city: CityManifest, part1: pl.DataFrame) -> None:
    x, y, _ = _gun_xy(city, part1)
    assert len(x) > 1000
    cell = 500.0
    city_area_m2 = city.params.city_area_km2 * 1e6
    n_cells = int(city_area_m2 / cell**2)
    # Uniform reference: as many points spread evenly over the city.
    union = shapely.union_all([shape(f["geometry"]) for f in _geo(city.districts_geojson)])
    rng = np.random.default_rng(0)
    minx, miny, maxx, maxy = union.bounds
    pts = rng.uniform((minx, miny), (maxx, maxy), (20 * len(x), 2))
    pts = pts[shapely.contains_xy(union, pts[:, 0], pts[:, 1])][: len(x)]
    ux, uy = _metric(city).transform(pts[:, 0], pts[:, 1])
    gun_share = _top_cell_share(x, y, n_cells, cell)
    uniform_share = _top_cell_share(np.asarray(ux), np.asarray(uy), n_cells, cell)
    assert gun_share > 0.3
    assert gun_share > 2.5 * uniform_share


def _close_pairs(x: Any, y: Any, t: Any, metres: float = 200.0, days: float = 7.0) -> int:
    """Brute force: pairs of events within ``metres`` and ``days`` of each other."""
    dx = x[:, None] - x[None, :]
    dy = y[:, None] - y[None, :]
    dt = np.abs(t[:, None] - t[None, :])
    close = (dx * dx + dy * dy < metres**2) & (dt < days)
    return int((close.sum() - len(x)) // 2)


def _clustering_ratio(city: CityManifest) -> float:
    part1 = pl.read_csv(city.part1_csv, infer_schema=False)
    x, y, rows = _gun_xy(city, part1, GUN_CODES)
    when = rows.select(
        pl.concat_str(["CrimeDate", pl.lit(" "), "CrimeTime"]).str.strptime(
            pl.Datetime("ms"), "%m/%d/%Y %H:%M:%S"
        )
    ).to_series()
    t = when.dt.epoch("ms").to_numpy() / 86_400_000
    rng = np.random.default_rng(1)
    shuffled = np.mean([_close_pairs(x, y, rng.permutation(t)) for _ in range(10)])
    return _close_pairs(x, y, t) / float(shuffled)


def test_gun_violence_is_self_exciting(city: CityManifest, poisson_city: CityManifest) -> None:
    # More pairs close in space and time than when times are shuffled among the same
    # places (a Knox test); the same city without self-excitation shows no excess.
    assert _clustering_ratio(city) > 1.4
    assert _clustering_ratio(poisson_city) < 1.2


# --------------------------------------------------------- determinism, fast path


def test_same_params_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a = generate_city(_tiny(3), tmp_path / "a")
    b = generate_city(_tiny(3), tmp_path / "b")
    c = generate_city(_tiny(4), tmp_path / "c")
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(
        [
            "part1_crime.csv",
            "cad_calls.csv",
            "districts.geojson",
            "beats.geojson",
            "neighborhoods.geojson",
            "manifest.json",
        ]
    )
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    for name in ("part1_crime.csv", "cad_calls.csv", "districts.geojson"):
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes(), name
    assert (a.part1_rows, a.cad_rows) == (b.part1_rows, b.cad_rows)
    assert c.params.seed == 4


def test_generate_cad_calls_writes_exactly_n_rows(tmp_path: Path) -> None:
    for n in (0, 2_345):
        path = generate_cad_calls(n, seed=2, start=date(2024, 3, 1), path=tmp_path / f"cad{n}.csv")
        frame = pl.read_csv(path, infer_schema=False)
        assert _first_line(path) == REAL_CAD_HEADER + SYNTH_CAD_EXTRA
        assert frame.height == n
        if n:
            assert frame["Incident_Start_Time"].min() >= "2024-03-01"  # type: ignore[operator]
            ids = frame["Master_Incident_Number"].drop_nulls()
            assert ids.n_unique() == ids.len()
    again = generate_cad_calls(2_345, seed=2, start=date(2024, 3, 1), path=tmp_path / "again.csv")
    assert again.read_bytes() == (tmp_path / "cad2345.csv").read_bytes()
