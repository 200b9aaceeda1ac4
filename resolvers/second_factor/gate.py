"""Whether a password login must give its second factor: not without one set up, not
from a remembered device; otherwise a single-use token and passkey options."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import clock
from models import ChallengePurpose, FactorMethod, Login, RememberedDevice, factor_methods
from resolvers.context import Context, audit
from resolvers.second_factor.common import passkeys_for_options, relying_party
from security import challenges
from security.devices import known_device
from security.passkeys import authentication_options, b64url
from security.tokens import hash_secret
from settings import Settings


@dataclass(frozen=True)
class SecondFactorNeeded:
    """The password was right; the session starts once a second factor is given."""

    token: str
    expires_at: dt.datetime
    methods: list[FactorMethod]
    passkey_options: dict[str, Any] | None


def _device_hash(ctx: Context, device: str) -> str:
    return hash_secret(device, ctx.settings.secret_key, scope="remembered-device")


async def is_remembered_device(ctx: Context, login: Login) -> bool:
    """Does this request come from a known device of `login` on which the second factor
    was given, with "remember this device", less than `remember_device_days` ago?"""
    known = known_device(ctx.request, ctx.settings, login)
    if known is None:
        return False
    return await RememberedDevice.exists(
        login_id=login.id,
        device_hash=_device_hash(ctx, known.device_id),
        remembered_until__gt=clock.now(),
    )


async def remember_this_device(ctx: Context, login: Login, device: str | None) -> bool:
    """Remember `device` (the device cookie's id) for `login`; False when there is none."""
    days = ctx.settings.remember_device_days
    if not device or days <= 0:
        return False
    now = clock.now()
    digest = _device_hash(ctx, device)
    until = now + dt.timedelta(days=days)
    updated = await RememberedDevice.filter(login_id=login.id, device_hash=digest).update(
        remembered_until=until
    )
    if not updated:
        await RememberedDevice.create(
            login_id=login.id, device_hash=digest, created_at=now, remembered_until=until
        )
    return True


async def second_factor_needed(ctx: Context, login: Login) -> SecondFactorNeeded | None:
    """At a password login: None when the session may start (no second factor, or a
    remembered device), else the token and options for `complete_login`."""
    methods = await factor_methods(login.id)
    if not methods or await is_remembered_device(ctx, login):
        return None
    settings = ctx.settings
    options = None
    payload: dict[str, Any] = {}
    if FactorMethod.PASSKEY in methods:
        challenge = challenges.new_webauthn_challenge()
        payload["webauthn_challenge"] = b64url(challenge)
        options = authentication_options(
            relying_party(settings),
            challenge=challenge,
            allowed=await passkeys_for_options(login.id),
        )
    lifetime = dt.timedelta(minutes=settings.second_factor_login_minutes)
    token, row = await challenges.issue(
        ChallengePurpose.SECOND_FACTOR_LOGIN,
        secret_key=settings.secret_key,
        lifetime=lifetime,
        login_id=login.id,
        payload=payload,
    )
    await audit(ctx, "second_factor_asked", login.id, methods=[m.value for m in methods])
    return SecondFactorNeeded(token, row.expires_at, methods, options)


async def purge_expired_remembered_devices(settings: Settings) -> int:
    """Remembered devices whose days are over; the retention purge calls it."""
    return await RememberedDevice.filter(remembered_until__lte=clock.now()).delete()


async def purge_expired_challenges(settings: Settings) -> int:
    """Passkey challenges and second-factor login tokens past their minutes."""
    return await challenges.purge_expired(clock.now())
