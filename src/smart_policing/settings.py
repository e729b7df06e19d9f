"""Run-time settings, read explicitly (never at import time).

Environment variables:

``SMART_DATABASE_URL``
    SQLAlchemy URL of the store. Default: an SQLite file ``smart_policing.db`` in
    the user's data directory (``platformdirs.user_data_dir("smart-policing")``).
``SMART_TIMEZONE``
    IANA time zone of the city; local times in imported files are read in it.
    Default ``America/New_York`` (Baltimore).
``SMART_COOKIE_SECURE``
    ``1``/``0``: always/never mark the session cookie ``Secure``. Default: only
    when the request came over HTTPS (so ``make demo`` works on plain
    http://127.0.0.1; a deployment behind TLS gets Secure cookies).
``SMART_RATE_LIMIT_STORAGE``
    Where rate-limit counters live (``memory://`` by default; ``redis://host:6379``
    to share them between server processes).
``SMART_TRIAGE_PACK``
    The shipped policy pack the triage API and the alarm registry pages use when a
    request names none (default ``baltimore-smart-2022``; see ``smart-policing triage
    packs``).
``SMART_SESSION_IDLE_MINUTES``, ``SMART_LOCKOUT_THRESHOLD``
    Override the security policy's session idle timeout and lock-out threshold.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import BaseModel, ConfigDict, field_validator

from smart_policing.security.policy import SecurityPolicy

__all__ = ["DEFAULT_TIMEZONE", "DEFAULT_TRIAGE_PACK", "Settings", "default_database_url"]

DEFAULT_TIMEZONE = "America/New_York"
DEFAULT_TRIAGE_PACK = "baltimore-smart-2022"


def default_database_url() -> str:
    """The embedded SQLite database under the user's data directory."""
    path = Path(platformdirs.user_data_dir("smart-policing")) / "smart_policing.db"
    return f"sqlite:///{path}"


class Settings(BaseModel):
    """Validated settings for one process (CLI run, web server, test)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    database_url: str
    timezone: str = DEFAULT_TIMEZONE
    security: SecurityPolicy = SecurityPolicy()
    rate_limit_storage: str = "memory://"
    triage_pack: str = DEFAULT_TRIAGE_PACK

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {v!r} (e.g. America/New_York)") from exc
        return v

    @field_validator("triage_pack")
    @classmethod
    def _shipped_pack(cls, v: str) -> str:
        from smart_policing.triage.pack import builtin_packs  # the pack files, read on use

        if v not in builtin_packs():
            raise ValueError(f"unknown triage pack {v!r} (shipped: {', '.join(builtin_packs())})")
        return v

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        database_url: str | None = None,
        timezone: str | None = None,
    ) -> Settings:
        """Settings from explicit arguments, then the environment, then defaults."""
        env = os.environ if env is None else env
        policy: dict[str, object] = {}
        if (secure := env.get("SMART_COOKIE_SECURE")) is not None:
            policy["cookie_secure"] = secure.strip().lower() in ("1", "true", "yes", "on")
        if idle := env.get("SMART_SESSION_IDLE_MINUTES"):
            policy["session_idle_minutes"] = idle
        if threshold := env.get("SMART_LOCKOUT_THRESHOLD"):
            policy["lockout_threshold"] = threshold
        return cls(
            database_url=database_url or env.get("SMART_DATABASE_URL") or default_database_url(),
            timezone=timezone or env.get("SMART_TIMEZONE") or DEFAULT_TIMEZONE,
            security=SecurityPolicy.model_validate(policy),
            rate_limit_storage=env.get("SMART_RATE_LIMIT_STORAGE", "memory://"),
            triage_pack=env.get("SMART_TRIAGE_PACK") or DEFAULT_TRIAGE_PACK,
        )
