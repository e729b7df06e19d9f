"""Rate limits per client address (login, token and anonymous endpoints).

Backed by the ``limits`` library: a moving window in memory by default, or any
storage it supports (``redis://...``) when several server processes must share
the counts (``SMART_RATE_LIMIT_STORAGE``).
"""

from __future__ import annotations

import time

from fastapi import Request
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from smart_policing.api.security import AuthError

__all__ = ["RateLimiter"]


class RateLimiter:
    """Checks ``rate`` (e.g. ``"10/minute"``) per client address and scope."""

    def __init__(self, storage_uri: str = "memory://") -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self._items: dict[str, RateLimitItem] = {}

    def hit(self, request: Request, scope: str, rate: str) -> None:
        """Count one request; raise 429 (with Retry-After) when over the limit."""
        item = self._items.get(rate)
        if item is None:
            item = self._items[rate] = parse(rate)
        client = request.client.host if request.client else "unknown"
        if not self._limiter.hit(item, scope, client):
            stats = self._limiter.get_window_stats(item, scope, client)
            wait = max(1, int(stats.reset_time - time.time()) + 1)
            raise AuthError(429, f"too many requests; try again in {wait} s", retry_after=wait)
