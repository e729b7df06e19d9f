"""Shared route dependencies."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Request
from pydantic import AfterValidator, BeforeValidator
from sqlalchemy import Engine

from smart_policing.settings import Settings

__all__ = [
    "BlankIsNone",
    "EngineDep",
    "LocalDay",
    "SettingsDep",
    "get_engine",
    "get_settings",
]


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


FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)


def _plausible_day(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"dates must be between {FIRST_DAY} and {LAST_DAY}")
    return value


#: a local calendar day within the range the store's timestamps can hold
LocalDay = Annotated[date, AfterValidator(_plausible_day)]


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and value.strip() == "" else value


#: an empty form field means "no filter" (a GET form sends every field, filled or not)
BlankIsNone = BeforeValidator(_blank_is_none)
