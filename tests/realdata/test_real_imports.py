"""The real public files in ../shared/data, imported as published, checked against
independent pandas computations on the raw files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from smart_policing.data import builtin_mapping, import_boundaries, import_file
from smart_policing.model.boundaries import BoundaryKind
from smart_policing.store import tables as t

pytestmark = pytest.mark.realdata

RealFile = Callable[[str], Path]
NY = ZoneInfo("America/New_York")


def test_baltimore_part1(engine: Engine, real_file: RealFile) -> None:
    path = real_file("baltimore/part1_crime_2012_2015.csv.gz")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    s = import_file(engine, path, builtin_mapping("baltimore-part1"), timezone="America/New_York")
    assert s.rows_read == len(raw) == 193_956
    assert s.rows_read == s.inserted + s.duplicates + s.rejected
    assert (s.inserted, s.rejected) == (193_956, 0)
    # victim-based rows: identical rows are one incident
    distinct = len(raw.drop_duplicates())
    assert s.incidents_inserted == distinct == 186_623
    assert s.flags["no_location"] == int((raw["Latitude"] == "").sum()) == 1_925
    assert s.flags["midnight_24h"] == int((raw["CrimeTime"] == "24:00:00").sum())

    with engine.connect() as conn:
        n, victims = conn.execute(select(func.count(), func.sum(t.incidents.c.victim_count))).one()
        rows = conn.execute(
            select(
                t.incidents.c.occurred_at,
                t.incidents.c.offence_description,
                t.incidents.c.victim_count,
            )
        ).all()
    assert (n, victims) == (186_623, 193_956)
    ours = (
        pd.DataFrame(rows, columns=["at", "desc", "victims"])
        .assign(year=lambda d: d["at"].map(lambda x: x.astimezone(NY).year))
        .groupby(["year", "desc"])["victims"]
        .sum()
    )
    when = pd.to_datetime(raw["CrimeDate"], format="%m/%d/%Y") + pd.to_timedelta(raw["CrimeTime"])
    theirs = raw.assign(year=when.dt.year.astype("int64")).groupby(["year", "Description"]).size()
    theirs.index.names = ["year", "desc"]
    pd.testing.assert_series_equal(
        ours.sort_index(), theirs.sort_index(), check_names=False, check_dtype=False
    )

    again = import_file(
        engine, path, builtin_mapping("baltimore-part1"), timezone="America/New_York"
    )
    assert (again.rows_read, again.inserted, again.duplicates, again.incidents_inserted) == (
        193_956,
        0,
        193_956,
        0,
    )


def test_cad_export(engine: Engine, real_file: RealFile) -> None:
    path = real_file("cad/cad_2025_weeks35-48.csv.gz")
    raw = pd.read_csv(path, dtype=str)
    s = import_file(engine, path, builtin_mapping("cad"), timezone="America/New_York")
    assert (s.rows_read, s.inserted, s.duplicates, s.rejected) == (len(raw), 22_147, 0, 0)
    assert s.flags["missing_call_id"] == int(raw["Master_Incident_Number"].isna().sum()) == 9

    def ts(col: str) -> pd.Series:
        # local wall-clock times; in the repeated hour of 2 November the first (EDT) reading
        local = pd.to_datetime(raw[col], format="%Y-%m-%d %H:%M:%S.%f")
        return local.dt.tz_localize("America/New_York", ambiguous=np.ones(len(local), dtype=bool))

    expected = {
        "call_to_dispatch_s": ts("Incident_Dispatch_Time") - ts("Incident_Start_Time"),
        "dispatch_to_arrival_s": ts("Incident_Arrival_Time") - ts("Incident_Dispatch_Time"),
        "call_to_arrival_s": ts("Incident_Arrival_Time") - ts("Incident_Start_Time"),
        "on_scene_s": ts("Incident_First_Close_Time") - ts("Incident_Arrival_Time"),
    }
    key = raw["Master_Incident_Number"]
    with engine.connect() as conn:
        got = pd.DataFrame(
            conn.execute(select(t.calls.c.call_id, *(t.calls.c[k] for k in expected))).all(),
            columns=["call_id", *expected],
        ).set_index("call_id")
    has_id = key.notna()
    for name, delta in expected.items():
        secs = delta.dt.total_seconds()[has_id].set_axis(key[has_id])
        mine = got.loc[secs.index, name]
        assert int(mine.notna().sum()) == int(secs.notna().sum()), name
        assert (mine - secs).abs().max() < 1e-3, name  # every interval derived, to the millisecond
        # every negative interval is flagged and counted
        assert s.flags.get(f"negative_{name}", 0) == int((delta.dt.total_seconds() < 0).sum()), name
    assert s.flagged > 0


def test_baltimore_boundaries(engine: Engine, real_file: RealFile) -> None:
    districts = import_boundaries(
        engine,
        real_file("baltimore/police_districts.geojson"),
        kind=BoundaryKind.DISTRICT,
        layer="bpd-districts",
    )
    fpa = import_boundaries(
        engine,
        real_file("baltimore/focused_patrol_areas_2019.geojson"),
        kind=BoundaryKind.ZONE,
        layer="bpd-fpa-2019",
    )
    assert (districts.inserted, districts.rejected) == (9, 0)
    assert (fpa.inserted, fpa.rejected) == (118, 0)
    with engine.connect() as conn:
        area = dict(
            conn.execute(
                select(t.boundaries.c.layer, func.sum(t.boundaries.c.area_m2)).group_by(
                    t.boundaries.c.layer
                )
            ).all()
        )
        names = set(
            conn.execute(
                select(t.boundaries.c.name).where(t.boundaries.c.layer == "bpd-districts")
            ).scalars()
        )
    assert "Central" in names
    assert area["bpd-districts"] / 1e6 == pytest.approx(209.6, rel=0.02)  # 80.95 sq mi (seed 002)
    assert area["bpd-fpa-2019"] / area["bpd-districts"] == pytest.approx(0.0345, abs=0.0006)
