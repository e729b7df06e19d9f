"""A live server on a synthetic city, and Debian's Chromium driven by Playwright.

Browser tests skip with a reason where Chromium is not installed (a user's
machine); under ``CI=true`` a missing browser is a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from smart_policing.api import create_app
from smart_policing.data import builtin_mapping, import_file
from smart_policing.data.boundaries import import_boundaries
from smart_policing.data.synth import CityParams, generate_city
from smart_policing.model.boundaries import BoundaryKind
from smart_policing.security import SecurityPolicy
from smart_policing.security.roles import Role
from smart_policing.settings import Settings
from smart_policing.store import make_engine, upgrade
from smart_policing.store.zones import ZoneSetKind, import_zone_set
from webhelpers import PASSWORD, add_account

CHROMIUM = Path(os.environ.get("SMART_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


@dataclass(frozen=True)
class LiveSite:
    url: str
    database_url: str
    settings: Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    """The real app served by uvicorn on loopback, over a two-year synthetic city."""
    root = tmp_path_factory.mktemp("site")
    params = CityParams(seed=11, years=2, end_year=2022, calls_per_day=40.0, incidents_per_day=40.0)
    generate_city(params, root / "city")
    url = f"sqlite:///{root / 'site.db'}"
    engine = make_engine(url)
    upgrade(engine)
    tz = "America/New_York"
    import_boundaries(
        engine, root / "city" / "districts.geojson", kind=BoundaryKind("district"), layer="demo"
    )
    # neighbourhoods, so the zones page shows how the zone set falls across them
    import_boundaries(
        engine,
        root / "city" / "neighborhoods.geojson",
        kind=BoundaryKind("neighbourhood"),
        layer="demo",
    )
    import_file(
        engine, root / "city" / "part1_crime.csv", builtin_mapping("baltimore-part1"), timezone=tz
    )
    import_file(engine, root / "city" / "cad_calls.csv", builtin_mapping("cad"), timezone=tz)
    add_account(engine, "ana", Role.ANALYST)
    add_account(engine, "dee", Role.DISPATCHER)
    add_account(engine, "oli", Role.OFFICER)
    # a zone set for the zones page: the synthetic city's beats as focused patrol areas
    import_zone_set(
        engine,
        json.loads((root / "city" / "beats.geojson").read_text()),
        name="beats",
        kind=ZoneSetKind.FOCUSED_PATROL,
        file_name="beats.geojson",
        actor="browser-setup",
    )
    # every test signs in from 127.0.0.1: more than the 10 sign-ins a minute a person gets
    settings = Settings(
        database_url=url, timezone=tz, security=SecurityPolicy(login_rate="1000/minute")
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, engine=engine), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield LiveSite(url=f"http://127.0.0.1:{port}", database_url=url, settings=settings)
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium (Playwright's own download does not work offline)."""
    if not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) with console errors collected."""
    context = browser.new_context(viewport={"width": 1280, "height": 1100})
    pg = context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.on(
        "console",
        lambda m: pg.errors.append(m.text) if m.type == "error" else None,
    )
    yield pg
    context.close()


def sign_in(page: Any, site: LiveSite, name: str, target: str) -> None:
    page.goto(site.url + target)
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
