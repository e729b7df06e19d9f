"""Password hashing (argon2id) and the password policy.

Hashes are PHC strings (``$argon2id$v=19$m=...``) from argon2-cffi with its
default parameters (RFC 9106 low-memory profile); a hash made with older
parameters is upgraded at the next successful login.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = [
    "PasswordError",
    "check_password_policy",
    "hash_password",
    "needs_rehash",
    "verify_password",
]

_HASHER = PasswordHasher()

# A password-shaped hash of nothing: verifying against it costs the same time as a
# real check, so "no such user" and "wrong password" take equally long.
_DUMMY_HASH = _HASHER.hash("smart-policing timing equaliser")


class PasswordError(ValueError):
    """A password that does not meet the policy."""


def check_password_policy(password: str, *, username: str, min_length: int) -> None:
    """Raise ``PasswordError`` when ``password`` is too weak.

    The rules follow NIST SP 800-63B: a minimum length, no maximum below 256
    characters, not the user name; no composition rules.
    """
    if len(password) < min_length:
        raise PasswordError(f"password must be at least {min_length} characters long")
    if len(password) > 256:
        raise PasswordError("password must be at most 256 characters long")
    if password.strip().lower() == username.strip().lower():
        raise PasswordError("password must not be the user name")


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash`` (None: burn the same time, False)."""
    try:
        return _HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _HASHER.check_needs_rehash(stored_hash)
