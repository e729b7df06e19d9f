"""Security core: roles, password hashing, tokens, the audit hash chain, the policy.

Pure functions and plain data only; the store (``store/users.py``,
``store/audit.py``) and the web app (``api/security.py``) are the edges.
"""

from smart_policing.security.audit_chain import (
    GENESIS_HASH,
    AuditEntry,
    ChainReport,
    entry_hash,
    verify_chain,
)
from smart_policing.security.passwords import PasswordError, check_password_policy
from smart_policing.security.policy import SecurityPolicy
from smart_policing.security.roles import Role, format_roles, parse_roles

__all__ = [
    "GENESIS_HASH",
    "AuditEntry",
    "ChainReport",
    "PasswordError",
    "Role",
    "SecurityPolicy",
    "check_password_policy",
    "entry_hash",
    "format_roles",
    "parse_roles",
    "verify_chain",
]
