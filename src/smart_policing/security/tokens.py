"""Random secrets for session cookies, API tokens and CSRF, and their digests.

Only digests are stored: a stolen database copy cannot be replayed as a login.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["constant_time_equal", "new_secret", "token_digest"]

#: API tokens start with this prefix so that secret scanners can find leaked ones.
API_TOKEN_PREFIX = "spt_"


def new_secret(prefix: str = "") -> str:
    """A fresh URL-safe random secret (256 bits)."""
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def constant_time_equal(a: str, b: str) -> bool:
    """Compare two secrets without leaking where they differ."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
