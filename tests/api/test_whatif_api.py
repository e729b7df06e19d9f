"""The diversion what-if page and API: the replay core on the stored calls."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from smart_policing.security.roles import Role
from smart_policing.store.calls import load_calls
from smart_policing.triage.pack import builtin_pack
from smart_policing.triage.replay import replay
from smart_policing.triage.vocabulary import builtin_map
from webhelpers import load_synthetic_calls

TZ = "America/New_York"


def _load(engine: Engine, tmp_path: Path) -> None:
    load_synthetic_calls(engine, tmp_path / "city", TZ)


def test_the_api_gives_the_replay_of_the_stored_calls(
    engine: Engine, tmp_path: Path, signed_in_client: Callable[..., TestClient]
) -> None:
    _load(engine, tmp_path)
    client = signed_in_client(Role.SUPERVISOR)
    body = client.get(
        "/api/triage/whatif",
        params={"pack": "baltimore-smart-2022", "start": "2024-03-01", "end": "2024-05-31"},
    ).json()
    calls = load_calls(engine, start=date(2024, 3, 1), end=date(2024, 5, 31), timezone=TZ)
    # the demo city's codes pick the shipped map that knows them all
    synthetic = builtin_map("synthetic-city")
    expected = replay(calls, builtin_pack("baltimore-smart-2022"), agency_map=synthetic)
    assert body["inputs"]["agency_map"] == "synthetic-city"
    assert body["inputs"]["unmapped_calls"] == 0
    assert body["inputs"]["calls"] == expected.inputs.calls > 1000
    got = {
        r["responder"]: (r["calls"], r["officer_hours_moved"]) for r in body["result"]["responders"]
    }
    assert got == {
        r.responder: (r.calls, r.officer_hours_moved) for r in expected.result.responders
    }
    assert body["result"]["diverted_calls"] > 0
    assert body["result"]["officer_hours_moved"] > 0


def test_compare_csv_page_and_errors(
    engine: Engine, tmp_path: Path, signed_in_client: Callable[..., TestClient]
) -> None:
    _load(engine, tmp_path)
    client = signed_in_client(Role.ANALYST)
    params = {"pack": "baltimore-smart-2022", "compare": "minneapolis-2020-pilots"}
    body = client.get("/api/triage/whatif", params=params).json()
    assert body["comparison"]["other"] == "minneapolis-2020-pilots"
    reply = client.get("/api/triage/whatif.csv", params=params)
    assert reply.headers["content-type"].startswith("text/csv")
    packs = {row["pack"] for row in csv.DictReader(io.StringIO(reply.text))}
    assert packs == {"baltimore-smart-2022", "minneapolis-2020-pilots"}
    page = client.get("/triage/whatif", params={**params, "by": "hour"})
    assert page.status_code == 200
    assert 'id="whatif-responders"' in page.text
    assert "Compared with minneapolis-2020-pilots" in page.text
    bad = client.get("/api/triage/whatif", params={"pack": "gotham-2030"})
    assert bad.status_code == 422
    assert "unknown pack 'gotham-2030'" in bad.json()["detail"]
    assert client.get("/triage/whatif", params={"by": "moon"}).status_code == 422
    assert client.get("/triage/whatif", params={"start": "", "end": ""}).status_code == 200


def test_dispatchers_do_not_see_the_what_if(
    engine: Engine, signed_in_client: Callable[..., TestClient]
) -> None:
    client = signed_in_client(Role.DISPATCHER)
    assert client.get("/api/triage/whatif").status_code == 403
