"""``smart-policing zones ...`` commands (being written; registers on :data:`zones_app`)."""

from __future__ import annotations

__all__: list[str] = []
