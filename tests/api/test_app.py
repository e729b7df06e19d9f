"""The web app: the landing page shows what the store holds."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from smart_policing.api import create_app
from smart_policing.data import builtin_mapping, import_file
from smart_policing.settings import Settings


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
    client = TestClient(create_app(Settings(database_url="sqlite://"), engine=engine))
    page = client.get("/")
    assert page.status_code == 200
    assert re.search(r'id="count-incidents">3<', page.text)
    assert re.search(r'id="count-rejects">1<', page.text)
    assert "p1.csv" in page.text
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/healthz").json()["status"] == "ok"
