"""The landing page (what the store holds) and the health probe."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import text

from smart_policing import __version__
from smart_policing.api.deps import EngineDep
from smart_policing.api.pages import render
from smart_policing.api.security import Principal, anonymous, signed_in
from smart_policing.store.queries import list_imports, record_counts

__all__ = ["router"]

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def landing(
    request: Request, eng: EngineDep, who: Annotated[Principal, Depends(signed_in())]
) -> HTMLResponse:
    """Record counts and recent imports (aggregates only, no record)."""
    return render(
        request,
        "landing.html",
        {"counts": record_counts(eng), "imports": list_imports(eng, limit=10)},
    )


@router.get("/healthz", tags=["health"], dependencies=[Depends(anonymous(rate=None))])
def healthz(eng: EngineDep) -> dict[str, Any]:
    """Liveness and database reachability (no data; one ``SELECT 1``)."""
    with eng.connect() as conn:
        conn.execute(text("SELECT 1"))
    return {"status": "ok", "version": __version__}
