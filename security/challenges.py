"""Single-use, short-lived challenges: WebAuthn challenges and "second factor needed" tokens.

Only a keyed hash of the secret is stored. Taking a challenge marks it used
in one conditional UPDATE, so of two requests with the same challenge only
one gets it, whatever the database's isolation: a replayed WebAuthn answer
finds its challenge gone. A challenge is bound to the login (and session) it
was issued to, and expires after minutes.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from tortoise.expressions import F

import clock
from models import AuthChallenge, ChallengePurpose
from security.tokens import hash_secret, new_token

WEBAUTHN_CHALLENGE_BYTES = 32


def new_webauthn_challenge() -> bytes:
    """256 random bits; the specification asks for at least 128."""
    return secrets.token_bytes(WEBAUTHN_CHALLENGE_BYTES)


def _hash(purpose: ChallengePurpose, secret: str, secret_key: str) -> str:
    return hash_secret(secret, secret_key, scope=f"challenge:{purpose.value}")


async def issue(
    purpose: ChallengePurpose,
    *,
    secret_key: str,
    lifetime: dt.timedelta,
    secret: str | None = None,
    login_id: int | None = None,
    session_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> tuple[str, AuthChallenge]:
    """Store a new challenge; returns its secret (a fresh token unless given) once."""
    secret = secret or new_token()
    now = clock.now()
    row = await AuthChallenge.create(
        purpose=purpose,
        secret_hash=_hash(purpose, secret, secret_key),
        login_id=login_id,
        session_id=session_id,
        payload=payload or {},
        created_at=now,
        expires_at=now + lifetime,
    )
    return secret, row


async def find_live(
    purpose: ChallengePurpose, secret: str, *, secret_key: str, max_attempts: int | None = None
) -> AuthChallenge | None:
    """The unused, unexpired challenge with this secret (and attempts left), or None."""
    if not secret or len(secret) > 200:
        return None
    query = AuthChallenge.filter(
        purpose=purpose,
        secret_hash=_hash(purpose, secret, secret_key),
        used_at__isnull=True,
        expires_at__gt=clock.now(),
    )
    if max_attempts is not None:
        query = query.filter(attempts__lt=max_attempts)
    return await query.first()


async def use(challenge: AuthChallenge) -> bool:
    """Mark `challenge` used; False when another request used it first."""
    now = clock.now()
    taken = await AuthChallenge.filter(
        id=challenge.id, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if taken:
        challenge.used_at = now
    return bool(taken)


async def take(
    purpose: ChallengePurpose,
    secret: str,
    *,
    secret_key: str,
    login_id: int | None = None,
    session_id: int | None = None,
) -> AuthChallenge | None:
    """Find and use in one go: the challenge if it was live and bound to `login_id`
    and `session_id` (when given), else None. A challenge presented by the wrong
    login or session is used up all the same."""
    challenge = await find_live(purpose, secret, secret_key=secret_key)
    if challenge is None or not await use(challenge):
        return None
    if login_id is not None and challenge.login_id != login_id:
        return None
    if session_id is not None and challenge.session_id != session_id:
        return None
    return challenge


async def count_attempt(challenge: AuthChallenge) -> None:
    """One wrong answer to a challenge that allows a few (a mistyped code)."""
    await AuthChallenge.filter(id=challenge.id).update(attempts=F("attempts") + 1)
    challenge.attempts += 1


async def purge_expired(now: dt.datetime | None = None) -> int:
    """Delete challenges that expired (used or not); the retention purge calls it."""
    return await AuthChallenge.filter(expires_at__lte=now or clock.now()).delete()
