"""The activity log: kinds, validation, ISO weeks, dosage, and its commands."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from smart_policing.cli import app
from smart_policing.store import make_engine
from smart_policing.store import tables as t
from smart_policing.zones.activity import (
    CLOCK_SKEW,
    MAX_DURATION,
    ActivityError,
    ActivityKind,
    LoggedActivity,
    dosage,
    iso_week,
    validate_activity,
    weeks_between,
)

TZ = "America/New_York"
NOW = datetime(2019, 6, 30, 12, tzinfo=UTC)


def test_the_four_measures_of_the_2019_plan() -> None:
    assert [k.value for k in ActivityKind] == [
        "foot-patrol",
        "business-check",
        "knock-and-talk",
        "warrant-service",
    ]


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (NOW - timedelta(hours=1), NOW - timedelta(hours=1), "ended_at: must be after started_at"),
        (NOW - timedelta(hours=1), NOW - timedelta(hours=2), "ended_at: must be after started_at"),
        (NOW - timedelta(hours=13), NOW - timedelta(minutes=59), "at most 12 hours"),
        (NOW, NOW + CLOCK_SKEW + timedelta(seconds=1), "ended_at: is in the future"),
        (datetime(2019, 6, 1, 10), NOW - timedelta(hours=1), "started_at: needs a time zone"),
    ],
)
def test_invalid_times_are_refused_naming_the_field(
    start: datetime, end: datetime, message: str
) -> None:
    with pytest.raises(ActivityError, match=message):
        validate_activity(start, end, now=NOW)


def test_the_limits_themselves_are_accepted() -> None:
    validate_activity(NOW - MAX_DURATION, NOW, now=NOW)
    validate_activity(NOW, NOW + CLOCK_SKEW, now=NOW)


def test_iso_weeks_in_local_time() -> None:
    # 2019-12-30 (Monday) belongs to ISO week 1 of 2020
    assert iso_week(datetime(2019, 12, 30, 17, tzinfo=UTC), TZ) == "2020-W01"
    # Monday 03:00 UTC is Sunday 22:00 in Baltimore (EST, UTC-5)
    assert iso_week(datetime(2019, 1, 7, 3, tzinfo=UTC), TZ) == "2019-W01"
    assert iso_week(datetime(2019, 1, 7, 3, tzinfo=UTC), "UTC") == "2019-W02"
    assert weeks_between(date(2019, 12, 28), date(2020, 1, 7)) == [
        "2019-W52",
        "2020-W01",
        "2020-W02",
    ]
    assert weeks_between(date(2020, 1, 7), date(2020, 1, 6)) == []


def act(zone: int, start: datetime, minutes: float, kind: ActivityKind) -> LoggedActivity:
    return LoggedActivity(zone, kind, start, start + timedelta(minutes=minutes))


def test_dosage_by_hand() -> None:
    mon = datetime(2019, 6, 3, 14, tzinfo=UTC)  # 2019-W23
    acts = [
        act(2, mon, 15, ActivityKind.FOOT_PATROL),
        act(1, mon + timedelta(days=1), 30, ActivityKind.KNOCK_AND_TALK),
        act(1, mon + timedelta(days=2), 12.5, ActivityKind.KNOCK_AND_TALK),
        act(1, mon + timedelta(days=7), 60, ActivityKind.WARRANT_SERVICE),  # W24
    ]
    cells = dosage(acts, TZ)
    assert [(c.zone_id, c.week, c.activities, c.minutes, c.by_kind) for c in cells] == [
        (1, "2019-W23", 2, 42.5, {"knock-and-talk": 2}),
        (1, "2019-W24", 1, 60.0, {"warrant-service": 1}),
        (2, "2019-W23", 1, 15.0, {"foot-patrol": 1}),
    ]
    assert dosage([], TZ) == []


@given(
    st.lists(
        st.tuples(
            st.integers(1, 4),
            st.datetimes(
                min_value=datetime(2015, 1, 1),
                max_value=datetime(2025, 1, 1),
                timezones=st.just(UTC),
            ),
            st.integers(1, 720),
            st.sampled_from(list(ActivityKind)),
        ),
        max_size=40,
    )
)
def test_dosage_adds_up_to_the_activities(
    rows: list[tuple[int, datetime, int, ActivityKind]],
) -> None:
    acts = [act(z, s, m, k) for z, s, m, k in rows]
    cells = dosage(acts, TZ)
    assert sum(c.activities for c in cells) == len(acts)
    assert sum(c.minutes for c in cells) == pytest.approx(sum(m for _, _, m, _ in rows))
    assert all(sum(c.by_kind.values()) == c.activities for c in cells)
    keys = [(c.zone_id, c.week) for c in cells]
    assert keys == sorted(set(keys))


# ---------------------------------------------------------------- the command line

runner = CliRunner()


def cli(db: str, *args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["--db", db, "--timezone", TZ, *args])
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if code == 0 and "--json" in args else result.output


def test_cli_import_log_and_dosage(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'z.db'}"
    ring = [[-76.61, 39.29], [-76.60, 39.29], [-76.60, 39.30], [-76.61, 39.30], [-76.61, 39.29]]
    path = tmp_path / "zones.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"Id": 0},
                        "geometry": {"type": "Polygon", "coordinates": [ring]},
                    }
                ],
            }
        )
    )
    first = cli(db, "zones", "import", str(path), "--name", "dat", "--kind",
                "district-action-team", "--json")  # fmt: skip
    assert (first["created"], first["zones"], first["kind"]) == (True, 1, "district-action-team")
    # 0.01° x 0.01° at 39.3°N: about 862 m x 1,112 m
    assert 0.94e6 < first["area_m2"] < 0.97e6
    # the import ledger names the file read, its bytes and hash
    with make_engine(db).connect() as conn:
        ledger = conn.execute(select(t.imports)).one()
    assert (ledger.format, ledger.file_name, ledger.file_bytes) == (
        "zone-set",
        "zones.geojson",
        path.stat().st_size,
    )
    assert ledger.file_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    again = cli(db, "zones", "import", str(path), "--name", "dat", "--json")
    assert again["created"] is False
    assert [s["name"] for s in cli(db, "zones", "list", "--json")] == ["dat"]
    # a single "Id" of 0 is unique: it names the zone
    logged = cli(db, "zones", "activity", "log", "--set", "dat", "--zone", "0", "--kind",
                 "warrant-service", "--start", "2019-06-03T10:00", "--minutes", "50",
                 "--officer", "off9", "--json")  # fmt: skip
    assert logged["started_at"] == "2019-06-03T14:00:00+00:00"  # 10:00 EDT
    assert (logged["minutes"], logged["officer"]) == (50.0, "off9")
    dose = cli(db, "zones", "dosage", "--set", "dat", "--start", "2019-06-01",
               "--end", "2019-06-09", "--json")  # fmt: skip
    assert dose["weeks"] == ["2019-W22", "2019-W23"]
    assert dose["zones"][0]["weeks"] == [
        {"week": "2019-W23", "activities": 1, "minutes": 50.0, "by_kind": {"warrant-service": 1}}
    ]
    listed = cli(db, "zones", "activity", "list", "--set", "dat", "--json")
    assert [a["officer"] for a in listed] == ["off9"]
    # unusable input: exit 2 naming the option or the problem
    assert "--end: an activity lasts at most 12 hours" in cli(
        db, "zones", "activity", "log", "--set", "dat", "--zone", "0", "--kind", "foot-patrol",
        "--start", "2019-06-03T10:00", "--end", "2019-06-04T10:00", code=2,
    )  # fmt: skip
    assert "--zone: no zone 'x'" in cli(
        db, "zones", "activity", "log", "--set", "dat", "--zone", "x", "--kind", "foot-patrol",
        "--start", "2019-06-03T10:00", "--minutes", "5", code=2,
    )  # fmt: skip
    assert "--set: no zone set named 'nope'" in cli(
        db, "zones", "dosage", "--set", "nope", "--start", "2019-06-01", "--end", "2019-06-02",
        code=2,
    )  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature"}]}))
    assert "feature 1: has no geometry" in cli(db, "zones", "import", str(path), "--name", "b",
                                               code=2)  # fmt: skip
