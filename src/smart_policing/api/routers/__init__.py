"""One router per capability; each route declares its access (see api.security)."""

__all__: list[str] = []
