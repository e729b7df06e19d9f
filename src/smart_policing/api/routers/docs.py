"""The OpenAPI schema and its browser (Swagger UI served from the package)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from smart_policing.api.pages import render
from smart_policing.api.security import Principal, signed_in

__all__ = ["router"]

router = APIRouter()


@router.get("/openapi.json", include_in_schema=False)
def openapi_schema(
    request: Request, _who: Annotated[Principal, Depends(signed_in())]
) -> dict[str, Any]:
    """The OpenAPI 3 schema of the API."""
    schema: dict[str, Any] = request.app.openapi()
    return schema


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
def docs(request: Request, _who: Annotated[Principal, Depends(signed_in())]) -> HTMLResponse:
    """Interactive API documentation (works offline; uses your session)."""
    return render(request, "docs.html")
