"""Recovery codes: ten single-use codes for when the passkey or the phone is lost.

Shown once, stored only as keyed hashes. A code is 10 characters from an
alphabet without look-alikes (no 0/O, 1/I/L), printed as `xxxxx-xxxxx`; about
50 bits each, and tried only as often as the second-factor limits allow.
Case, spaces and dashes do not matter when one is typed in.
"""

from __future__ import annotations

import re
import secrets

from security.tokens import hash_secret

COUNT = 10
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
LENGTH = 10
_SHAPE = re.compile(f"^[{ALPHABET}]{{{LENGTH}}}$")


def new_codes(count: int = COUNT) -> list[str]:
    """`count` fresh codes, as shown to the person (`xxxxx-xxxxx`)."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def clean_code(raw: str) -> str | None:
    """The code as stored (lower case, no spaces or dashes), or None when it cannot be one."""
    code = re.sub(r"[\s-]", "", raw).lower()
    return code if _SHAPE.match(code) else None


def code_hash(code: str, *, secret_key: str, login_id: int) -> str:
    """Keyed hash of a cleaned code, scoped to its login."""
    return hash_secret(code, secret_key, scope=f"recovery:{login_id}")
