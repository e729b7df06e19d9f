"""``smart-policing response ...`` commands (being written; registers on :data:`response_app`)."""

from __future__ import annotations

__all__: list[str] = []
