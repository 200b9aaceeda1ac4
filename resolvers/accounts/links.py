"""Links in mails: a 256-bit URL-safe token, stored only as a keyed hash, single use."""

from __future__ import annotations

import datetime as dt
from typing import Any

import clock
from models import OneTimeSecret, SecretPurpose
from models.account_codes import AccountErrorCode
from models.errors import Problem, problem
from resolvers.auth import limiter, refuse_rate_limited
from resolvers.context import Context
from security.devices import known_device
from security.ratelimit import Limits
from security.tokens import hash_secret, new_token
from settings import Settings


def _hash(token: str, purpose: SecretPurpose, settings: Settings) -> str:
    return hash_secret(token, settings.secret_key, scope=purpose.value)


async def issue_link_token(
    login_id: int,
    purpose: SecretPurpose,
    valid_for: dt.timedelta,
    settings: Settings,
    payload: dict[str, Any] | None = None,
) -> tuple[str, OneTimeSecret]:
    """A new token for `purpose`; it voids the login's earlier ones. Call in a transaction."""
    now = clock.now()
    await void_link_tokens(login_id, purpose)
    token = new_token()
    secret = await OneTimeSecret.create(
        login_id=login_id,
        purpose=purpose,
        secret_hash=_hash(token, purpose, settings),
        payload=payload or {},
        created_at=now,
        expires_at=now + valid_for,
    )
    return token, secret


async def void_link_tokens(login_id: int, purpose: SecretPurpose) -> None:
    await OneTimeSecret.filter(
        login_id=login_id, purpose=purpose, used_at=None, voided_at=None
    ).update(voided_at=clock.now())


async def find_link_token(
    ctx: Context, token: str, purpose: SecretPurpose, *field: str
) -> tuple[OneTimeSecret | None, Problem | None]:
    """The live secret behind a token from a link, or the error to answer.

    Unknown tokens count against the client address, so links cannot be guessed. A
    throttled address is refused, except for a live token of a login whose known
    device (`security.devices`) sends it: a guesser behind the owner's address (the
    same NAT or proxy) does not lock the owner out of their link.
    """
    failures = Limits.link_failures_per_address(ctx.settings)
    throttled = await limiter(ctx).peek(failures, ctx.client_address)
    token = token.strip()
    secret = None
    if token and len(token) <= 200:
        secret = (
            await OneTimeSecret.filter(
                secret_hash=_hash(token, purpose, ctx.settings), purpose=purpose
            )
            .select_related("login")
            .first()
        )
    if not throttled.allowed and (
        secret is None or known_device(ctx.request, ctx.settings, secret.login) is None
    ):
        refuse_rate_limited(ctx, throttled)
    if secret is None or secret.used_at is not None or secret.voided_at is not None:
        await limiter(ctx).hit(failures, ctx.client_address)
        return None, problem(AccountErrorCode.LINK_INVALID, *field)
    if secret.expires_at <= clock.now():
        return None, problem(AccountErrorCode.LINK_EXPIRED, *field)
    return secret, None


async def use_link_token(secret: OneTimeSecret) -> bool:
    """Mark the secret used; False when another request used it first. In a transaction."""
    updated = await OneTimeSecret.filter(id=secret.id, used_at=None, voided_at=None).update(
        used_at=clock.now()
    )
    return updated == 1
