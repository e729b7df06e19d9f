"""The web application factory.

``create_app(settings)`` makes the engine and the app; no I/O happens at import
time, so tests build one app per database. The landing page shows what the store
holds (aggregate counts only: no record, no personal data). Users, roles, the
audit log and the capability pages are added on this shell by later work.
"""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine

from smart_policing import __version__
from smart_policing.settings import Settings
from smart_policing.store import make_engine
from smart_policing.store.queries import list_imports, record_counts

__all__ = ["create_app"]


def get_engine(request: Request) -> Engine:
    """The app's database engine (a dependency)."""
    eng = request.app.state.engine
    assert isinstance(eng, Engine)
    return eng


EngineDep = Annotated[Engine, Depends(get_engine)]


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """The FastAPI app for ``settings`` (or an explicit ``engine``, e.g. in tests)."""
    engine = engine or make_engine(settings.database_url)
    web = resources.files("smart_policing") / "web"
    templates = Jinja2Templates(directory=str(web / "templates"))
    app = FastAPI(title="SMART Policing", version=__version__)
    app.state.engine = engine
    app.mount("/static", StaticFiles(directory=str(web / "static")), name="static")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def landing(request: Request, eng: EngineDep) -> HTMLResponse:
        counts = record_counts(eng)
        imports = list_imports(eng, limit=10)
        return templates.TemplateResponse(
            request,
            "landing.html",
            {"counts": counts, "imports": imports, "version": __version__},
        )

    @app.get("/healthz", tags=["health"])
    def healthz(eng: EngineDep) -> dict[str, Any]:
        """Liveness and database reachability (no data)."""
        record_counts(eng)
        return {"status": "ok", "version": __version__}

    return app
