"""Web accounts: roles, password hashing (argon2id, argon2-cffi) and random tokens.

    viewer   reads hits, rules, sources, silences, status
    analyst  a viewer who also triages, silences and edits rules
    admin    an analyst who also edits sources, channels and users

Pure functions; the store keeps only hashes (``monitor.store.accounts``).
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("viewer", "analyst", "admin")
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}"
MIN_PASSWORD = 8  # characters

_hasher = PasswordHasher()
# verifying against this keeps a sign-in for an unknown user as slow as for a known one
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def role_at_least(role: str | None, needed: str) -> bool:
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` is the one hashed; False otherwise (also for no hash at all)."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_secret() -> str:
    """A random URL-safe secret for a session cookie or an API token (256 bits)."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What the store keeps of a session cookie or token."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
