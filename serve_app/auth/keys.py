"""API keys: their format, argon2 hashing (pwdlib), expiry parsing; the secret is shown once and never stored."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from schemas import InvalidInput

__all__ = ["KEY_PREFIX", "hash_secret", "new_key", "parse_expiry", "parse_key", "verify_secret"]

KEY_PREFIX = "mka_"
_KEY = re.compile(r"mka_(?P<id>[a-z0-9]{12})_(?P<secret>[A-Za-z0-9_-]{43})")
_HASHER = PasswordHash((Argon2Hasher(),))


def new_key() -> tuple[str, str]:
    """A fresh `(key_id, api_key)`; the key is `mka_<key id>_<secret>`, its id the public lookup prefix.

    Example:
        >>> key_id, api_key = new_key()
        >>> parse_key(api_key)[0] == key_id
        True
    """
    key_id = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(12))
    return key_id, f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


def parse_key(api_key: str) -> tuple[str, str] | None:
    """`(key_id, secret)` of a well-formed key, else None."""
    found = _KEY.fullmatch(api_key)
    return (found["id"], found["secret"]) if found else None


def hash_secret(api_key: str) -> str:
    """The argon2id hash stored for a key (the whole key is hashed)."""
    return _HASHER.hash(api_key)


def verify_secret(api_key: str, stored_hash: str) -> bool:
    """Whether `api_key` matches the stored hash (constant-time inside argon2)."""
    try:
        return bool(_HASHER.verify(api_key, stored_hash))
    except Exception:  # a damaged hash in the table is a mismatch, never a 500
        return False


_EXPIRY = re.compile(r"(?P<n>[1-9][0-9]{0,4})(?P<unit>[hdwy])")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1), "y": timedelta(days=365)}


def parse_expiry(text: str) -> timedelta:
    """`30d`, `12h`, `4w` or `1y` as a duration (at most 10 years).

    Example:
        >>> parse_expiry("30d").days
        30
    """
    found = _EXPIRY.fullmatch(text.strip())
    if not found:
        raise InvalidInput(f"expiry {text!r} is not a duration like 12h, 30d, 4w or 1y")
    span = int(found["n"]) * _UNITS[found["unit"]]
    if span > timedelta(days=3650):
        raise InvalidInput(f"expiry {text!r} is over 10 years")
    return span
