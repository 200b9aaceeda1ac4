"""Random secrets and how they are stored: only as keyed hashes.

Tokens (sessions, links) carry 256 bits and are URL-safe, so a link survives
being copied whole into an address bar (R7). PINs are 6 digits (R4). Both are
stored as HMAC-SHA256 under the secret key, so a database dump reveals none.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    """256 random bits, URL-safe base64 without padding (43 characters)."""
    return secrets.token_urlsafe(32)


def new_pin() -> str:
    """Six digits from a cryptographic source (R4)."""
    return f"{secrets.randbelow(1_000_000):06d}"


def hash_secret(secret: str, key: str, *, scope: str = "") -> str:
    """Keyed hash of a token or PIN; `scope` separates PINs of different logins."""
    return hmac.new(key.encode(), f"{scope}:{secret}".encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
