"""The platform's roles (least privilege: each route names the roles it allows)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

__all__ = ["STAFF_ROLES", "Role", "format_roles", "parse_roles"]


class Role(StrEnum):
    """A role a user holds. ``public`` is the anonymous visitor (report form only)."""

    ADMIN = "admin"
    ANALYST = "analyst"
    DISPATCHER = "dispatcher"
    SUPERVISOR = "supervisor"
    OFFICER = "officer"
    RECORDS = "records"
    INTERNAL_AFFAIRS = "internal-affairs"
    CASEWORKER = "caseworker"
    AUDITOR = "auditor"
    PUBLIC = "public"


#: Roles a user account can hold (``public`` is for anonymous visitors only).
STAFF_ROLES: frozenset[Role] = frozenset(Role) - {Role.PUBLIC}


def parse_roles(text: str | Iterable[str]) -> frozenset[Role]:
    """Roles from ``"analyst,supervisor"`` or an iterable of names.

    Raises ``ValueError`` naming an unknown role and listing the known ones.
    """
    names = text.split(",") if isinstance(text, str) else list(text)
    roles: set[Role] = set()
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        try:
            roles.add(Role(name))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise ValueError(f"unknown role {raw.strip()!r} (known roles: {known})") from None
    return frozenset(roles)


def format_roles(roles: Iterable[Role]) -> str:
    """The stored form: sorted, comma-separated role names."""
    return ",".join(sorted(r.value for r in roles))
