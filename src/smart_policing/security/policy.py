"""The security policy: session lifetimes, lock-out, rate limits, cookie flags."""

from __future__ import annotations

from limits import parse
from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["SecurityPolicy"]


class SecurityPolicy(BaseModel):
    """Security settings for one deployment (defaults follow CJIS-style practice)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: a session unused for this many minutes ends (CJIS 5.5.5: 30 minutes)
    session_idle_minutes: int = Field(30, ge=1, le=24 * 60)
    #: a session ends this many hours after login, used or not
    session_max_hours: int = Field(12, ge=1, le=7 * 24)
    #: consecutive failed logins that lock an account (CJIS 5.5.3: 5)
    lockout_threshold: int = Field(5, ge=1, le=100)
    #: how long a locked account stays locked, minutes
    lockout_minutes: int = Field(15, ge=1, le=7 * 24 * 60)
    #: lifetime of API bearer tokens, days
    token_days: int = Field(90, ge=1, le=3650)
    #: minimum password length (NIST SP 800-63B asks for at least 8; we ask 12)
    min_password_length: int = Field(12, ge=8, le=128)
    #: rate limit per client address on the login and token endpoints (limits syntax)
    login_rate: str = "10/minute"
    #: rate limit per client address on anonymous endpoints (the public report form)
    anonymous_rate: str = "30/minute"
    #: send the session cookie with ``Secure``; None: only over HTTPS requests
    cookie_secure: bool | None = None

    @field_validator("login_rate", "anonymous_rate")
    @classmethod
    def _rate(cls, v: str) -> str:
        try:
            parse(v)
        except ValueError as exc:
            raise ValueError(f"not a rate limit like '10/minute': {v!r}") from exc
        return v
