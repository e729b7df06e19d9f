"""The records browser: filters, local-day ranges and keyset pages that never skip or repeat."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from smart_policing.data import builtin_mapping, import_file
from smart_policing.security.roles import Role

HEADER = (
    "CrimeDate,CrimeTime,CrimeCode,Location,Description,Inside/Outside,Weapon,Post,District,"
    "Neighborhood,Longitude,Latitude,Location 1,Premise,Total Incidents\n"
)


def _load(engine: Engine, tmp_path: Path) -> None:
    lines = []
    # 30 incidents: one a day in March 2015 except the 31st; days 1-10 in CENTRAL
    for day in range(1, 31):
        district = "CENTRAL" if day <= 10 else "WESTERN"
        code, desc = ("3B", "ROBBERY - STREET") if day % 3 == 0 else ("6D", "LARCENY FROM AUTO")
        lines.append(
            f"03/{day:02d}/2015,23:30:00,{code},{day}00 N MAIN ST,{desc},O,,111,{district},"
            f"Downtown,-76.61,39.29,,STREET,1\n"
        )
    f = tmp_path / "march.csv"
    f.write_text(HEADER + "".join(lines))
    import_file(engine, f, builtin_mapping("baltimore-part1"), timezone="America/New_York")


def test_pages_walk_every_match_once_newest_first(
    engine: Engine, tmp_path: Path, signed_in_client: Callable[..., TestClient]
) -> None:
    _load(engine, tmp_path)
    client = signed_in_client(Role.RECORDS)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 7} | ({"cursor": cursor} if cursor else {})
        body = client.get("/api/incidents", params=params).json()
        seen += [item["occurred_at"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 5
    assert len(seen) == len(set(seen)) == 30
    assert seen == sorted(seen, reverse=True)


def test_filters_use_local_days_and_codes(
    engine: Engine, tmp_path: Path, signed_in_client: Callable[..., TestClient]
) -> None:
    _load(engine, tmp_path)
    client = signed_in_client(Role.ANALYST)
    # 23:30 in Baltimore on 5 March is 04:30 UTC on 6 March: the local day counts
    one_day = client.get("/api/incidents", params={"start": "2015-03-05", "end": "2015-03-05"})
    items = one_day.json()["items"]
    assert len(items) == 1
    assert items[0]["occurred_at"].startswith("2015-03-06T04:30")
    central = client.get("/api/incidents", params={"district": "CENTRAL", "limit": 100})
    assert len(central.json()["items"]) == 10
    robberies = client.get(
        "/api/incidents", params={"offence_code": "3B", "district": "WESTERN", "limit": 100}
    )
    assert {i["offence_code"] for i in robberies.json()["items"]} == {"3B"}
    assert len(robberies.json()["items"]) == 7  # days 12, 15, ..., 30
    bad = client.get("/api/incidents", params={"start": "2015-03-05", "end": "2015-03-01"})
    assert bad.status_code == 422
    forged = client.get("/api/incidents", params={"cursor": "bm90LWEtY3Vyc29y"})
    assert forged.status_code == 422
    assert "cursor" in forged.json()["detail"]


def test_the_incidents_page_renders_local_times_and_a_next_link(
    engine: Engine, tmp_path: Path, signed_in_client: Callable[..., TestClient]
) -> None:
    _load(engine, tmp_path)
    client = signed_in_client(Role.SUPERVISOR)
    page = client.get("/records/incidents", params={"limit": 10, "district": "WESTERN"})
    assert page.status_code == 200
    assert "2015-03-30 23:30" in page.text  # shown in the city's time zone
    assert 'id="next-page"' in page.text
    assert "district=WESTERN" in page.text.split('id="next-page" href="')[1].split('"')[0]
    calls = client.get("/records/calls")
    assert calls.status_code == 200
    assert "No records match." in calls.text


def test_empty_form_fields_mean_no_filter(
    engine: Engine, tmp_path: Path, signed_in_client: Callable[..., TestClient]
) -> None:
    _load(engine, tmp_path)
    client = signed_in_client(Role.ANALYST)
    # a GET form sends every field, filled or not
    reply = client.get(
        "/records/incidents?start=&end=&district=&offence_code=3B&neighbourhood=&weapon="
    )
    assert reply.status_code == 200
    assert reply.text.count("ROBBERY - STREET") == 10
    calls = client.get("/records/calls?start=&end=&priority=&district=")
    assert calls.status_code == 200
    assert client.get("/compstat?start=&end=").status_code == 200
    assert client.get("/api/incidents?start=2015-13-01").status_code == 422
