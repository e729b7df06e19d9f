"""The web app: the landing page shows what the store holds, to signed-in users."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from smart_policing.data import builtin_mapping, import_file
from smart_policing.security.roles import Role
from webhelpers import add_account, make_app, sign_in


def test_landing_page_counts_and_health(engine: Engine, tmp_path: Path) -> None:
    f = tmp_path / "p1.csv"
    f.write_text(
        "CrimeDate,CrimeTime,CrimeCode,Location,Description,Inside/Outside,Weapon,Post,District,"
        "Neighborhood,Longitude,Latitude,Location 1,Premise,Total Incidents\n"
        + "".join(
            f"01/0{d}/2014,10:00:00,4E,100 N MAIN ST,COMMON ASSAULT,I,,111.0,CENTRAL,Downtown,-76.6,39.29,,STREET,1\n"
            for d in range(1, 4)
        )
        + "bad,row\n"
    )
    import_file(engine, f, builtin_mapping("baltimore-part1"), timezone="America/New_York")
    client = TestClient(make_app(engine))
    # not signed in: the page sends the visitor to the sign-in form, and back afterwards
    first = client.get("/", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/login?next=/"
    add_account(engine, "ana", Role.ANALYST)
    assert sign_in(client, "ana") == 303
    page = client.get("/")
    assert page.status_code == 200
    assert re.search(r'id="count-incidents">3<', page.text)
    assert re.search(r'id="count-rejects">1<', page.text)
    assert "p1.csv" in page.text
    assert 'id="whoami">ana' in page.text
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/static/vendor/leaflet/leaflet.js").status_code == 200
    assert client.get("/healthz").json()["status"] == "ok"


def test_pages_carry_security_headers(engine: Engine) -> None:
    client = TestClient(make_app(engine))
    reply = client.get("/login")
    csp = reply.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert reply.headers["x-frame-options"] == "DENY"
    assert reply.headers["cache-control"] == "no-store"
    assert "no-store" not in client.get("/static/app.css").headers.get("cache-control", "")
    # no inline scripts anywhere: the CSP would block them
    assert "<script>" not in reply.text
