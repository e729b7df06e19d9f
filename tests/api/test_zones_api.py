"""Zone sets and the activity log over the API and the page: the officer is the
signed-in user, dosage per zone per week, roles, the page's form."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select

from smart_policing.data.boundaries import import_boundaries
from smart_policing.model.boundaries import BoundaryKind
from smart_policing.security.roles import Role
from smart_policing.store import tables as t
from smart_policing.store.imports import start_import
from smart_policing.store.users import create_api_token
from smart_policing.store.zones import ZoneSetKind, import_zone_set, list_zones
from webhelpers import POLICY, add_account, form_csrf, make_app, sign_in

Bearer = Callable[..., dict[str, str]]
TZ = ZoneInfo("America/New_York")


def square(lon: float, lat: float, d: float = 0.001) -> dict[str, Any]:
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture
def zone_ids(engine: Engine) -> list[int]:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": k},
                "geometry": square(-76.6 + i / 100, 39.3),
            }
            for i, k in enumerate(["north", "south"])
        ],
    }
    done = import_zone_set(
        engine, doc, name="fpa 2019", kind=ZoneSetKind.FOCUSED_PATROL, file_name="f", actor="a"
    )
    return [z.id for z in list_zones(engine, done.zone_set.id)]


@pytest.fixture
def api(engine: Engine) -> tuple[TestClient, Bearer]:
    client = TestClient(make_app(engine))

    def bearer(name: str, *roles: Role) -> dict[str, str]:
        add_account(engine, name, *roles)
        token, _ = create_api_token(engine, name, "test", policy=POLICY)
        return {"Authorization": f"Bearer {token}"}

    return client, bearer


def local_today(hour: int) -> datetime:
    """Today at ``hour`` local time, or yesterday when that is still ahead."""
    now = datetime.now(TZ)
    at = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return at if at < now - timedelta(hours=1) else at - timedelta(days=1)


def test_log_then_read_dosage_and_the_map(
    engine: Engine, api: tuple[TestClient, Bearer], zone_ids: list[int]
) -> None:
    client, bearer = api
    officer = bearer("off1", Role.OFFICER)
    start = local_today(3)
    reply = client.post(
        "/api/zones/activities",
        json={
            "zone_id": zone_ids[0],
            "kind": "knock-and-talk",
            "started_at": start.isoformat(),
            "minutes": 25,
            "unit_id": "2A21",
            "notes": "spoke with the owner, Mr Smith",
        },
        headers=officer,
    )
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert (body["officer"], body["zone_key"], body["zone_set"], body["minutes"]) == (
        "off1",
        "north",
        "fpa 2019",
        25.0,
    )
    # the officer cannot name someone else: the field does not exist
    forged = client.post(
        "/api/zones/activities",
        json={
            "zone_id": zone_ids[0],
            "kind": "foot-patrol",
            "started_at": start.isoformat(),
            "minutes": 5,
            "officer": "someone-else",
        },
        headers=officer,
    )
    assert forged.status_code == 422
    bad = client.post(
        "/api/zones/activities",
        json={
            "zone_id": zone_ids[0],
            "kind": "foot-patrol",
            "started_at": (datetime.now(UTC) - timedelta(minutes=10)).isoformat(),
            "minutes": 30,
        },
        headers=officer,
    )
    assert bad.status_code == 422
    assert "ended_at: is in the future" in bad.text
    too_long = client.post(
        "/api/zones/activities",
        json={"zone_id": zone_ids[0], "kind": "foot-patrol", "started_at": start.isoformat(),
              "minutes": 721},
        headers=officer,
    )  # fmt: skip
    assert too_long.status_code == 422
    unknown = client.post(
        "/api/zones/activities",
        json={"zone_id": 999, "kind": "foot-patrol", "started_at": start.isoformat(), "minutes": 5},
        headers=officer,
    )
    assert unknown.status_code == 422
    assert "zone_id: no zone with id 999" in unknown.text
    # the officer cannot read the activity list or the dosage table
    assert client.get("/api/zones/activities", headers=officer).status_code == 403
    assert client.get("/api/zones/dosage?set=fpa 2019", headers=officer).status_code == 403

    sup = bearer("sup1", Role.SUPERVISOR)
    listed = client.get("/api/zones/activities", params={"set": "fpa 2019"}, headers=sup).json()
    assert [a["officer"] for a in listed["items"]] == ["off1"]
    assert listed["next_cursor"] is None
    before = (start.date() - timedelta(days=1)).isoformat()
    assert (
        client.get("/api/zones/activities", params={"end": before}, headers=sup).json()["items"]
        == []
    )
    assert len(
        client.get("/api/zones/activities", params={"start": start.date().isoformat(),
                   "end": start.date().isoformat()}, headers=sup).json()["items"]
    ) == 1  # fmt: skip
    day = start.date().isoformat()
    dose = client.get(
        "/api/zones/dosage", params={"set": "fpa 2019", "start": day, "end": day}, headers=sup
    ).json()
    year, week, _ = start.isocalendar()
    assert dose["weeks"] == [f"{year}-W{week:02d}"]
    assert (dose["activities"], dose["minutes"]) == (1, 25.0)
    north, south = dose["zones"]
    assert north["weeks"] == [
        {
            "week": f"{year}-W{week:02d}",
            "activities": 1,
            "minutes": 25.0,
            "by_kind": {"knock-and-talk": 1},
        }
    ]
    assert (south["activities"], south["weeks"]) == (0, [])

    fc = client.get(
        "/api/zones/sets/fpa 2019", params={"start": day, "end": day}, headers=officer
    ).json()
    assert fc["type"] == "FeatureCollection"
    assert [f["properties"]["minutes"] for f in fc["features"]] == [25.0, 0.0]
    assert fc["features"][0]["geometry"]["type"] == "Polygon"
    sets = client.get("/api/zones/sets", headers=officer).json()["items"]
    assert [(s["name"], s["kind"], s["zones"]) for s in sets] == [("fpa 2019", "focused-patrol", 2)]
    assert client.get("/api/zones/sets/nope", headers=officer).status_code == 404
    assert (
        client.get(
            "/api/zones/dosage",
            params={"set": "fpa 2019", "start": day, "end": "2000-01-01"},
            headers=sup,
        ).status_code
        == 422
    )

    # the notes never reach the audit log; the write and the reads are there
    with engine.connect() as conn:
        audit = conn.execute(select(t.audit_log.c.route, t.audit_log.c.records)).all()
    assert not any("Smith" in (r.records or "") for r in audit)
    routes = {r.route for r in audit}
    assert {"POST /api/zones/activities", "GET /api/zones/dosage"} <= routes
    written = [json.loads(r.records) for r in audit if r.route == "POST /api/zones/activities"]
    assert {"zone_activity": [body["id"]], "zone": [zone_ids[0]]} in written


def test_page_map_table_and_the_officers_form(engine: Engine, zone_ids: list[int]) -> None:
    app = make_app(engine)
    officer = TestClient(app)
    add_account(engine, "off2", Role.OFFICER)
    assert sign_in(officer, "off2") == 303
    page = officer.get("/zones")
    assert page.status_code == 200
    assert 'id="zones-map"' in page.text
    assert 'id="activity-form"' in page.text
    assert "<script>" not in page.text  # strict CSP: scripts only from /static
    start = local_today(4)
    reply = officer.post(
        "/zones/activities",
        data={
            "csrf_token": form_csrf(page.text),
            "set": "fpa 2019",
            "zone_id": str(zone_ids[1]),
            "kind": "business-check",
            "started": start.strftime("%Y-%m-%dT%H:%M"),
            "minutes": "40",
        },
        follow_redirects=False,
    )
    assert reply.status_code == 303, reply.text
    assert reply.headers["location"] == "/zones?done=logged&set=fpa+2019"
    with engine.connect() as conn:
        row = conn.execute(select(t.zone_activities)).one()
    assert (row.officer, row.kind, row.zone_id) == ("off2", "business-check", zone_ids[1])
    assert row.started_at == start.astimezone(UTC)
    assert row.ended_at - row.started_at == timedelta(minutes=40)
    day = start.date().isoformat()
    table = officer.get("/zones", params={"set": "fpa 2019", "start": day, "end": day}).text
    assert "1 / 40 min" in table
    # without the CSRF token the form is refused
    refused = officer.post(
        "/zones/activities",
        data={
            "zone_id": str(zone_ids[1]),
            "kind": "business-check",
            "started": "x",
            "minutes": "1",
        },
        follow_redirects=False,
    )
    assert refused.status_code == 403

    analyst = TestClient(app)
    add_account(engine, "an1", Role.ANALYST)
    assert sign_in(analyst, "an1") == 303
    seen = analyst.get("/zones").text
    assert 'id="zones-table"' in seen
    assert 'id="activity-form"' not in seen


def _neighbourhoods_file(tmp_path: Any) -> Any:
    path = tmp_path / "neighbourhoods.geojson"
    features = [
        {"type": "Feature", "properties": {"name": n}, "geometry": square(lon, 39.299, 0.003)}
        for n, lon in [("West", -76.601), ("East", -76.591), ("Quiet", -76.5)]
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _incidents(engine: Engine, rows: list[tuple[str, str | None, float, float, datetime]]) -> None:
    imp = start_import(engine, format_name="t", source="t", file_name="f", sha256="0" * 64, size=1)
    with engine.begin() as conn:
        conn.execute(
            insert(t.incidents),
            [
                {
                    "source": "t",
                    "source_key": str(k),
                    "occurred_at": at,
                    "offence_code": "X",
                    "offence_description": desc,
                    "weapon": weapon,
                    "latitude": lat,
                    "longitude": lon,
                    "import_id": imp,
                }
                for k, (desc, weapon, lon, lat, at) in enumerate(rows)
            ],
        )


def test_zone_set_across_neighbourhoods(
    engine: Engine, api: tuple[TestClient, Bearer], zone_ids: list[int], tmp_path: Any
) -> None:
    client, bearer = api
    officer = bearer("off9", Role.OFFICER)
    url = "/api/zones/sets/fpa 2019/neighbourhoods"
    params = {"start": "2024-05-01", "end": "2024-05-01"}
    # no neighbourhoods imported: an empty breakdown, not an error
    empty = client.get(url, params=params, headers=officer)
    assert empty.status_code == 200, empty.text
    assert (empty.json()["items"], empty.json()["neighbourhoods"]) == ([], 0)
    assert empty.json()["concentration"] == {"0.5": None, "0.8": None}

    import_boundaries(
        engine, _neighbourhoods_file(tmp_path), kind=BoundaryKind("neighbourhood"), layer="n"
    )
    noon = datetime(2024, 5, 1, 12, tzinfo=TZ)
    _incidents(
        engine,
        [
            ("SHOOTING", None, -76.5995, 39.3005, noon),  # West, gun
            ("HOMICIDE", None, -76.5999, 39.3001, noon),  # West, gun
            ("LARCENY", None, -76.5995, 39.3005, noon),  # West, not a gun incident
            ("AGG. ASSAULT", "FIREARM", -76.5895, 39.3005, noon),  # East, gun
            ("SHOOTING", None, -76.5995, 39.3005, noon + timedelta(days=1)),  # after the period
        ],
    )
    body = client.get(url, params=params, headers=officer).json()
    areas = {z.zone_key: z.area_m2 for z in list_zones(engine, 1)}
    assert body["crs"] == "EPSG:26985"
    # overlays run on a 1 mm grid: an area moves by at most its perimeter (~400 m) x 1 mm
    assert body["zone_area_m2"] == pytest.approx(sum(areas.values()), abs=0.8)
    assert (body["neighbourhoods"], body["neighbourhoods_with_zones"]) == (3, 2)
    assert body["concentration"] == {"0.5": 1, "0.8": 2}
    assert body["incidents"] == 3
    rows = {r["name"]: r for r in body["items"]}
    assert [r["name"] for r in body["items"]][2] == "Quiet"  # no zone area: last
    # "north" lies inside West, "south" inside East (each a 0.001-degree square)
    assert rows["West"]["zone_area_m2"] == pytest.approx(areas["north"], abs=0.4)
    assert rows["East"]["zone_area_m2"] == pytest.approx(areas["south"], abs=0.4)
    assert rows["West"]["share_of_zone_area"] == pytest.approx(0.5, abs=1e-3)
    assert rows["West"]["share_of_neighbourhood"] == pytest.approx(1 / 9, rel=1e-3)
    assert (rows["West"]["incidents"], rows["West"]["share_of_incidents"]) == (2, 2 / 3)
    assert (rows["East"]["incidents"], rows["East"]["share_of_incidents"]) == (1, 1 / 3)
    assert (rows["Quiet"]["zone_area_m2"], rows["Quiet"]["incidents"]) == (0.0, 0)
    assert client.get("/api/zones/sets/nope/neighbourhoods", headers=officer).status_code == 404
    dispatcher = bearer("dis9", Role.DISPATCHER)
    assert client.get(url, headers=dispatcher).status_code == 403


def test_page_shows_zones_across_neighbourhoods(
    engine: Engine, zone_ids: list[int], tmp_path: Any
) -> None:
    officer = TestClient(make_app(engine))
    add_account(engine, "off8", Role.OFFICER)
    assert sign_in(officer, "off8") == 303
    before = officer.get("/zones").text
    assert 'id="zones-neighbourhoods-empty"' in before
    assert 'id="zones-neighbourhoods"' not in before
    import_boundaries(
        engine, _neighbourhoods_file(tmp_path), kind=BoundaryKind("neighbourhood"), layer="n"
    )
    after = officer.get("/zones").text
    assert "Zones across neighbourhoods" in after
    assert "2 of 3 neighbourhoods hold zone area" in after
    table = after.split('id="zones-neighbourhoods"')[1].split("</table>")[0]
    assert "<td>West</td>" in table
    assert "<td>East</td>" in table
    assert "<td>Quiet</td>" not in table  # neither zone area nor incidents
