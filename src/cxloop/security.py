"""Password hashing, API-key and session tokens, permissions. Pure: no database."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import TimestampSigner

_hasher = PasswordHasher()
# Hashing a fixed string makes a login for an unknown e-mail cost the same as a real one.
_DUMMY_HASH = _hasher.hash("cxloop-timing-equaliser")

API_KEY_PREFIX = "cxk_"

# One vocabulary for what a caller may do: roles grant these, API keys carry a subset.
PERMISSIONS = (
    "org:read",
    "users:admin",
    "customers:read",
    "customers:write",
    "feedback:read",
    "feedback:write",
    "surveys:read",
    "surveys:write",
    "digital:read",
    "digital:admin",
    "metrics:read",
    "metrics:write",
    "scorecard:read",
    "scorecard:write",
    "cases:read",
    "cases:write",
    "rules:admin",
    "audit:read",
    "export",
)
_READS = {p for p in PERMISSIONS if p.endswith(":read")}
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(PERMISSIONS),
    "executive": frozenset(_READS - {"audit:read"} | {"scorecard:write", "cases:write", "export"}),
    "manager": frozenset(
        _READS - {"audit:read"} | {"scorecard:write", "cases:write", "customers:write", "export"}
    ),
    "frontline": frozenset({"org:read", "feedback:read", "cases:read", "cases:write"}),
    "analyst": frozenset(_READS - {"audit:read"} | {"export", "metrics:write"}),
}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_api_key() -> tuple[str, str, str]:
    """A fresh key as (full key shown once, lookup prefix, stored hash)."""
    prefix = secrets.token_hex(6)
    key = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, sha256(key)


def parse_api_key(key: str) -> str | None:
    """The lookup prefix of a well-formed key, else ``None``."""
    if not key.startswith(API_KEY_PREFIX):
        return None
    prefix, _, rest = key.removeprefix(API_KEY_PREFIX).partition("_")
    return prefix if len(prefix) == 12 and rest else None


def api_key_matches(key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(sha256(key), stored_hash)


def check_scopes(scopes: list[str]) -> list[str]:
    unknown = [s for s in scopes if s not in PERMISSIONS]
    if unknown:
        raise ValueError(f"unknown scope {unknown[0]!r}; known: {', '.join(PERMISSIONS)}")
    return sorted(set(scopes))


def key_ring_signer(keys: Sequence[str], salt: str) -> TimestampSigner:
    """A signer for the key ring ``keys`` (current first): it signs with the current key
    only and verifies with any of them, so a rotation invalidates nothing already signed."""
    # itsdangerous signs with the last key of its list and tries every key when verifying.
    return TimestampSigner(list(reversed(keys)), salt=salt)
