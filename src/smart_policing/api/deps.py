"""Shared route dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from smart_policing.settings import Settings

__all__ = ["EngineDep", "SettingsDep", "get_engine", "get_settings"]


def get_engine(request: Request) -> Engine:
    """The app's database engine."""
    eng = request.app.state.engine
    assert isinstance(eng, Engine)
    return eng


def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    return settings


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
